/* ppengine.h: the C API of libppengine.
 *
 * Load a graph.bin (made by ppconvert), build an engine for a set of devices,
 * run it on host buffers. Every handle is opaque. Every fallible call returns a
 * pp_status*: NULL means success; otherwise the caller owns the status, reads
 * its code and one-line message, and frees it with pp_status_free.
 *
 *   pp_net *net;  pp_options *opt;  pp_engine *eng;
 *   pp_status *st = pp_net_load("graph.bin", &net);
 *   if (!st) st = pp_options_create(&opt);
 *   if (!st) st = pp_options_set(opt, "devices", "cuda:0,cuda:1");
 *   if (!st) st = pp_options_set(opt, "stages", "2");
 *   if (!st) st = pp_engine_create(net, opt, &eng);
 *   if (!st) st = pp_engine_run(eng, batch, inputs, outputs);
 *   if (st) { fprintf(stderr, "%s\n", pp_status_message(st)); pp_status_free(st); }
 *
 * Threads: a pp_net is immutable once loaded and may be shared. Any number of
 * threads may call pp_engine_run, pp_engine_run_device and pp_engine_synchronize
 * on one engine at once; runs are serialized inside the engine (each uses the
 * whole pipeline; a device run only while it enqueues). pp_engine_cancel may be
 * called from any thread. Options are set one key at a time, so new options never
 * change this header's ABI.
 */
#ifndef PPENGINE_H
#define PPENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* PP_API marks what the library exports (it is built with hidden visibility, so
 * nothing else leaves it); PP_NODISCARD makes ignoring a returned status a warning. */
#if defined(__GNUC__) || defined(__clang__)
#define PP_API __attribute__((visibility("default")))
#define PP_NODISCARD __attribute__((warn_unused_result))
#else
#define PP_API
#define PP_NODISCARD
#endif

#define PPENGINE_VERSION_MAJOR 0
#define PPENGINE_VERSION_MINOR 1
#define PPENGINE_VERSION_PATCH 0

/* "0.1.0": the library's version, which may differ from the header's. */
PP_API const char *pp_version(void);

/* ---- status ------------------------------------------------------------------ */

typedef enum pp_status_code {
    PP_STATUS_OK = 0,
    PP_STATUS_INVALID_ARGUMENT = 1,
    PP_STATUS_IO = 2,
    PP_STATUS_FORMAT = 3,
    PP_STATUS_UNSUPPORTED = 4,
    PP_STATUS_SHAPE = 5,
    PP_STATUS_OUT_OF_MEMORY = 6,
    PP_STATUS_DEVICE = 7,
    PP_STATUS_CANCELLED = 8,
    PP_STATUS_INTERNAL = 9,
} pp_status_code;

typedef struct pp_status pp_status;

/* A status of this code and message (copied; cut to 511 bytes), for callbacks
 * and libraries built on this one; PP_STATUS_OK gives NULL. The caller owns it. */
PP_API pp_status *pp_status_create(pp_status_code code, const char *message);
/* NULL (success) gives PP_STATUS_OK and "". */
PP_API pp_status_code pp_status_get_code(const pp_status *st);
PP_API const char *pp_status_message(const pp_status *st); /* borrowed; lives as long as st */
PP_API void pp_status_free(pp_status *st);                 /* NULL is fine */

/* ---- nets: loaded graph.bin files ----------------------------------------------- */

typedef struct pp_net pp_net;

/* Maps and validates the file. *out is the caller's; free with pp_net_free. */
PP_API PP_NODISCARD pp_status *pp_net_load(const char *path, pp_net **out);
/* The same over memory the caller keeps valid and unchanged until pp_net_free. */
PP_API PP_NODISCARD pp_status *pp_net_load_memory(const void *data, size_t size, pp_net **out);
PP_API void pp_net_free(pp_net *net);

enum { PP_MAX_DIMS = 8 };

typedef enum pp_elem_type {
    PP_ELEM_F32 = 1,
    PP_ELEM_F16 = 2,
    PP_ELEM_BF16 = 3,
    PP_ELEM_I64 = 4,
    PP_ELEM_I32 = 5,
    PP_ELEM_BOOL = 6,
    PP_ELEM_U8 = 7,
    PP_ELEM_I8 = 8,
    PP_ELEM_F64 = 9,
} pp_elem_type;

typedef struct pp_tensor_info {
    const char *name; /* borrowed from the net */
    pp_elem_type type;
    int rank;
    int64_t dims[PP_MAX_DIMS]; /* -k means k × batch; the batch is always on axis 0 */
} pp_tensor_info;

PP_API int pp_net_input_count(const pp_net *net);
PP_API int pp_net_output_count(const pp_net *net);
/* index out of range: INVALID_ARGUMENT */
PP_API PP_NODISCARD pp_status *pp_net_input_info(const pp_net *net, int index, pp_tensor_info *info);
PP_API PP_NODISCARD pp_status *pp_net_output_info(const pp_net *net, int index, pp_tensor_info *info);
/* Bytes of input/output `index` at batch size `batch`. */
PP_API size_t pp_net_input_bytes(const pp_net *net, int index, int64_t batch);
PP_API size_t pp_net_output_bytes(const pp_net *net, int index, int64_t batch);

/* ---- options -------------------------------------------------------------------- */

typedef struct pp_options pp_options;

PP_API PP_NODISCARD pp_status *pp_options_create(pp_options **out);
PP_API void pp_options_free(pp_options *opt);
/* Keys (values are strings; an unknown key or a bad value is INVALID_ARGUMENT):
 *   devices     "auto" (default), "cpu", "cpu:0,cpu:1", "cuda:0,cuda:1", "cuda:0,cuda:0"
 *   stages      pipeline stages per replica, default "1"; replicas = devices / stages
 *   microbatch  micro-batch size, default = max_batch
 *   max_batch   the batch size to plan for, default "1" (larger runs are split)
 *   inflight    buffers per stage boundary, default "2"
 *   p2p         "1" to use peer-to-peer copies between GPUs where possible
 *   graphs      "1": capture each stage's kernel launches once per micro-batch size and
 *               replay them (CUDA graphs: one launch per stage and micro-batch instead
 *               of one per node; on the CPU one queued task instead of one per node);
 *               "0": launch node by node; "-1" (default): "1" on CUDA devices, "0" on
 *               the CPU. Capturing happens at the first run at a size (pp_engine_warmup);
 *               a capture that fails turns graphs off for the engine.
 *   precision   "fp32" (default: IEEE f32 throughout), "tf32" (GEMM/MATMUL/CONV may
 *               round inputs to TF32 on tensor cores), "fp16" or "bf16" (GEMM/MATMUL/CONV
 *               read 16-bit inputs, weights converted once at engine build; tensors between
 *               nodes and all sums stay f32). fp16/bf16 need CUDA devices.
 *   mem_limit   bytes each device may use ("512M", "2G"; default: what it has); a plan
 *               that does not fit retries with fewer micro-batches in flight
 *   split       "NODE,NODE": start stages 2..P at these nodes
 *   trace       a file to write a Chrome/Perfetto trace of every run to (pp_engine_free writes it)
 *   tune_cache  a file (conventionally beside graph.bin: "model.bin.tune") where CUDA
 *               devices keep the algorithms they chose by timing at engine build, so the
 *               next engine for the same GPU and libraries times nothing; default none
 *               (choices are kept for the engine's life only). Written atomically;
 *               failing to write it is not an error. */
PP_API PP_NODISCARD pp_status *pp_options_set(pp_options *opt, const char *key, const char *value);

/* ---- engines ---------------------------------------------------------------------- */

typedef struct pp_engine pp_engine;

/* Places net on the devices, uploads weights, prepares every kernel. net is
 * borrowed and must outlive the engine; opt may be NULL and may be freed after. */
PP_API PP_NODISCARD pp_status *pp_engine_create(const pp_net *net, const pp_options *opt, pp_engine **out);
PP_API void pp_engine_free(pp_engine *eng);

/* Runs a batch. inputs[i] points at input i's data (C order, batch on axis 0,
 * pp_net_input_bytes(net, i, batch) bytes), outputs[i] at a caller buffer of
 * pp_net_output_bytes(net, i, batch) bytes. Both stay the caller's. The first run
 * at a new batch size prepares it; later runs at that size allocate nothing. */
PP_API PP_NODISCARD pp_status *pp_engine_run(pp_engine *eng, int64_t batch, const void *const *inputs,
                                             void *const *outputs);
/* Runs a batch on device buffers the caller owns, in the order of the caller's
 * stream, without waiting: inputs[i] lies on the device of the engine's first
 * stage, outputs[i] on the device of its last (one device when there is one
 * stage), sized as for pp_engine_run. `stream` is a cudaStream_t (NULL: the
 * legacy default stream, borrowed); the engine starts once the work already on
 * `stream` is done, and work enqueued on `stream` after this call sees the
 * outputs. The buffers stay the caller's and must stay valid until then; the
 * call allocates nothing in steady state.
 * On CPU devices "device buffers" are host memory, `stream` must be NULL, and
 * the call returns when the outputs are written. Needs an engine with one
 * replica (devices / stages == 1). Errors that kernels detect in the data (an
 * index out of range) surface in the next pp_engine_synchronize or pp_engine_run. */
PP_API PP_NODISCARD pp_status *pp_engine_run_device(pp_engine *eng, int64_t batch, const void *const *inputs,
                                                    void *const *outputs, void *stream);
/* Waits until everything the engine has enqueued is done and reports errors
 * kernels raised meanwhile. */
PP_API PP_NODISCARD pp_status *pp_engine_synchronize(pp_engine *eng);
/* Runs once at `batch` on zeros, so the first real run is as fast as the rest. */
PP_API PP_NODISCARD pp_status *pp_engine_warmup(pp_engine *eng, int64_t batch);
/* What the engine had to change from what was asked, in one line, or NULL:
 * fewer micro-batches in flight to fit mem_limit, graphs turned off after a
 * capture failed. Borrowed; lives as long as the engine. */
PP_API const char *pp_engine_notice(const pp_engine *eng);
/* Stops the run in progress, which returns PP_STATUS_CANCELLED; any thread. */
PP_API void pp_engine_cancel(pp_engine *eng);

/* Number of CUDA devices this process can use (0 without a GPU or driver). */
PP_API int pp_cuda_devices(void);

#ifdef __cplusplus
}
#endif
#endif

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
    PP_STATUS_DEADLINE_EXCEEDED = 10, /* a batched request's deadline passed before it ran; it did not run */
    PP_STATUS_OVERLOADED = 11,        /* a batcher's queue is full; nothing was queued */
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

/* An axis whose extent is a symbol other than k × batch (pp_tensor_info.dims). */
#define PP_DIM_SYMBOLIC INT64_MIN

typedef struct pp_tensor_info {
    const char *name; /* borrowed from the net */
    pp_elem_type type;
    int rank;
    /* Per axis: a fixed extent (>= 0); -k, k × batch (the batch is always on
     * axis 0); or PP_DIM_SYMBOLIC, an extent given by the net's other symbols
     * (sequence lengths: dim_name says which). */
    int64_t dims[PP_MAX_DIMS];
    /* Per symbolic axis: its symbol or expression ("batch", "seq", "batch*seq"),
     * borrowed from the net; NULL for a fixed one. */
    const char *dim_name[PP_MAX_DIMS];
    /* The extents each axis may take in the net's ranges (fixed: both the extent). */
    int64_t dim_min[PP_MAX_DIMS], dim_max[PP_MAX_DIMS];
} pp_tensor_info;

PP_API int pp_net_input_count(const pp_net *net);
PP_API int pp_net_output_count(const pp_net *net);
/* index out of range: INVALID_ARGUMENT */
PP_API PP_NODISCARD pp_status *pp_net_input_info(const pp_net *net, int index, pp_tensor_info *info);
PP_API PP_NODISCARD pp_status *pp_net_output_info(const pp_net *net, int index, pp_tensor_info *info);
/* Bytes of input/output `index` at batch size `batch` (a net whose only symbol,
 * if any, is the batch; 0 otherwise). */
PP_API size_t pp_net_input_bytes(const pp_net *net, int index, int64_t batch);
PP_API size_t pp_net_output_bytes(const pp_net *net, int index, int64_t batch);
/* The net's symbols (batch, seq, ...): the extents its inputs may take, each
 * with the range [min, max] the file allows. name is borrowed from the net;
 * is_batch (may be NULL) is 1 for the batch, split over micro-batches. */
PP_API int pp_net_symbol_count(const pp_net *net);
PP_API PP_NODISCARD pp_status *pp_net_symbol_info(const pp_net *net, int index, const char **name, int64_t *min,
                                                  int64_t *max, int *is_batch);

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
 *   dim         "seq=1..256" or "seq=128": narrows a symbol's range for this engine, within
 *               the file's (like a TensorRT optimisation profile); buffers are sized for the
 *               maxima. Set it once per symbol, or list several: "seq=1..256,batch=1..8". A
 *               symbol other than the batch needs a bounded range, here or in the file.
 *   tune_cache  a file (conventionally beside graph.bin: "model.bin.tune") where CUDA
 *               devices keep the algorithms they chose by timing at engine build, so the
 *               next engine for the same GPU and libraries times nothing; default none
 *               (choices are kept for the engine's life only). Written atomically;
 *               failing to write it is not an error.
 *   threads     host threads the CPU devices share (one persistent pool per device, the
 *               count split among them); "0" (default): the cores of the process's
 *               affinity mask
 *   deterministic  "1": CPU results bit-identical whatever the placement, micro-batch
 *               size and thread count; "0" (default): they may differ within f32 rounding
 *               (relative error around 1e-6) where a faster order of the sums pays
 * Keys for pp_batcher_create (pp_engine_create ignores them):
 *   max_batch     also the most rows the batcher merges into one run (default: the engine's)
 *   max_delay_us  how long a queued request waits for others to join its batch, default "1000"
 *   max_queue     requests waiting at once; a submit beyond it is OVERLOADED, default "1024" */
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
/* Runs with each input's extents given, as ONNX Runtime takes shaped values and
 * TensorRT setInputShape: input_dims[i] holds input i's rank extents (batch and
 * sequence lengths included). They give the net's symbols their values, which
 * must lie in the engine's ranges (INVALID_ARGUMENT otherwise, naming the
 * input, the axis, the value and the range). outputs[i] holds the bytes
 * pp_engine_output_dims gives for these inputs. The batch splits over replicas
 * and micro-batches as for pp_engine_run; every other symbol is whole per run,
 * and the first run in a new bucket (micro-batch size and symbol values)
 * prepares it (launches, CUDA graphs). Works for any net. */
PP_API PP_NODISCARD pp_status *pp_engine_run_shapes(pp_engine *eng, const int64_t *const *input_dims,
                                                    const void *const *inputs, void *const *outputs);
/* pp_engine_run_device with each input's extents given (see pp_engine_run_shapes). */
PP_API PP_NODISCARD pp_status *pp_engine_run_device_shapes(pp_engine *eng, const int64_t *const *input_dims,
                                                           const void *const *inputs, void *const *outputs,
                                                           void *stream);
/* Output `index`'s extents (its rank of them into dims) and bytes (may be NULL)
 * for inputs of these extents, checked as a run would check them. */
PP_API PP_NODISCARD pp_status *pp_engine_output_dims(const pp_engine *eng, const int64_t *const *input_dims, int index,
                                                     int64_t *dims, size_t *bytes);
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

/* ---- dynamic batching --------------------------------------------------------------- */

/* A batcher queues requests of any batch size on one engine and merges them
 * along the batch axis (axis 0) into runs of at most max_batch rows: a run
 * starts when max_batch rows are queued or when the oldest queued request has
 * waited max_delay_us, takes queued requests in submission order (one larger
 * than max_batch runs alone), and hands each request back its own rows. Each
 * row's result is the one an unbatched pp_engine_run gives it wherever the
 * backend's kernels treat rows independently (the CPU backend does, bit for bit).
 *
 * Buffers: a request's inputs and outputs are sized as for pp_engine_run at
 * its own batch. They stay the caller's, must stay valid and untouched until
 * the request completes, and are used in place where the requests of one run
 * lie side by side in memory (one request alone always does); otherwise inputs
 * are copied into the batcher's staging buffers and outputs copied back.
 *
 * Steady state: every request slot, staging buffer and the engine's launches
 * for each batch size up to max_batch are made by pp_batcher_create, so submit,
 * wait, cancel and the runs allocate nothing (with an engine whose micro-batch,
 * the option of that name, is at most 64; larger ones re-prepare sizes as they go).
 *
 * Threads: every pp_batcher_* call may come from any thread at once, except
 * pp_batcher_free. Runs happen on the batcher's own thread, which calls the
 * callbacks; other threads may run the same engine meanwhile (runs serialize
 * inside it), and pp_engine_cancel fails the run in progress, whose requests
 * then complete with PP_STATUS_CANCELLED. */
typedef struct pp_batcher pp_batcher;

typedef struct pp_request_result {
    pp_status_code code; /* PP_STATUS_OK, or why the request failed */
    const char *message; /* "" on success; borrowed: valid during the callback, or as long as
                            the status pp_batcher_wait returned */
    int64_t batch;       /* rows of the run it was part of; 0 when it did not run */
    int64_t queue_us;    /* from submit to the start of its run (or to its end when it did not run) */
    int64_t compute_us;  /* its run, copies in and out included */
} pp_request_result;

/* Called once per request on completion (success or not), on the batcher's
 * thread, or on the thread in pp_batcher_cancel that cancelled it. It must
 * not call pp_batcher_free; it may submit. `result` is borrowed for the call. */
typedef void (*pp_request_callback)(void *user, const pp_request_result *result);

/* Starts a batcher over eng (borrowed; it must outlive the batcher) with the
 * batcher keys of opt (may be NULL: defaults; may be freed after). Starts one
 * thread and prepares the engine for every batch size up to max_batch, which
 * takes a moment. UNSUPPORTED when an input or output has no batch axis.
 * *out is the caller's, freed with pp_batcher_free. */
PP_API PP_NODISCARD pp_status *pp_batcher_create(pp_engine *eng, const pp_options *opt, pp_batcher **out);
/* Refuses new requests from now on (submit: CANCELLED) and runs those already
 * queued at once, without waiting out max_delay_us; returns without waiting
 * for them. A service that stops calls it, lets its waiters finish, then
 * frees. Any thread; NULL is fine. */
PP_API void pp_batcher_drain(pp_batcher *b);
/* Refuses new requests, runs every one already queued to completion (their
 * callbacks are called, waiters woken), stops the thread and frees. No thread
 * may be inside another pp_batcher_* call on b, nor call one later; results
 * of requests nobody waited for are dropped. NULL is fine. */
PP_API void pp_batcher_free(pp_batcher *b);

/* Queues a request of `batch` rows (>= 1). inputs / outputs: as for
 * pp_engine_run at `batch` (the arrays themselves are copied and may be reused
 * at once; the buffers stay the caller's until completion). timeout_us > 0 is
 * a deadline, counted from now: a request still queued then completes with
 * PP_STATUS_DEADLINE_EXCEEDED and is never run; 0 means none.
 * Completion: with cb non-NULL, cb(user, result) is called exactly once and
 * *id (when id is non-NULL) may be used to cancel until then; with cb NULL,
 * id must be non-NULL and the request must be waited for with pp_batcher_wait
 * exactly once, which frees its slot. On error (INVALID_ARGUMENT; OVERLOADED
 * when max_queue requests are waiting already; CANCELLED once pp_batcher_drain
 * or pp_batcher_free began) nothing is queued and cb is never called. */
PP_API PP_NODISCARD pp_status *pp_batcher_submit(pp_batcher *b, int64_t batch, const void *const *inputs,
                                                 void *const *outputs, int64_t timeout_us, pp_request_callback cb,
                                                 void *user, uint64_t *id);
/* Blocks until request `id` (submitted without a callback) completes, and
 * returns its status (NULL: the outputs are written); *result (may be NULL)
 * gets its timings. Expires the request itself at its deadline while it is
 * still queued. An id not waitable (unknown, already waited for, submitted
 * with a callback) is INVALID_ARGUMENT. */
PP_API PP_NODISCARD pp_status *pp_batcher_wait(pp_batcher *b, uint64_t id, pp_request_result *result);
/* Cancels a request that is still queued: it completes at once (on this
 * thread, for a callback) with PP_STATUS_CANCELLED, is never run, and its
 * buffers are the caller's again. Returns 1, or 0 when it is already running
 * or finished (it then completes as usual) or the id is unknown. */
PP_API int pp_batcher_cancel(pp_batcher *b, uint64_t id);
/* Requests queued now (not yet in a run). */
PP_API int64_t pp_batcher_queue_depth(pp_batcher *b);
/* Runs made so far with exactly `rows` rows; rows > max_batch counts the runs
 * of single requests larger than max_batch. */
PP_API int64_t pp_batcher_batches(pp_batcher *b, int64_t rows);
/* The most rows merged into one run. */
PP_API int64_t pp_batcher_max_batch(const pp_batcher *b);

/* Number of CUDA devices this process can use (0 without a GPU or driver). */
PP_API int pp_cuda_devices(void);

#ifdef __cplusplus
}
#endif
#endif

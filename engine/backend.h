/* backend.h: one logical device, the same face for the CPU and CUDA.
 *
 * A backend is a table of functions plus a context, so the planner and executor
 * never ask which device they drive. Work is enqueued on streams and ordered by
 * events; nothing here blocks the caller except the *_sync calls. A CPU stream is
 * a worker thread with a FIFO and a CPU event a counter with a condition
 * variable, so the multi-device executor, its ordering and its races run (and are
 * tested) on machines without a GPU.
 *
 * Memory: `alloc` reserves one arena per device at engine build; the plan
 * sub-allocates it by offset. Host buffers handed to upload/download must stay
 * valid until the stream has passed the copy (an event says when).
 */
#ifndef PP_BACKEND_H
#define PP_BACKEND_H

#include <stddef.h>

#include "ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Arithmetic for f32 tensors, chosen per engine (options.precision). Whatever
 * the mode, tensors between nodes stay f32 and sums accumulate in f32. */
typedef enum pp_precision {
    PP_PREC_FP32 = 0, /* IEEE f32 throughout (the default; what the tests compare) */
    PP_PREC_TF32 = 1, /* GEMM, MATMUL and CONV may round their inputs to TF32 (tensor cores) */
    PP_PREC_FP16 = 2, /* GEMM, MATMUL and CONV read fp16: weights converted once at engine
                         build, activations as each launch reads them (PyTorch autocast's split) */
    PP_PREC_BF16 = 3, /* the same in bfloat16 */
} pp_precision;

/* "fp32", "tf32", "fp16", "bf16" */
const char *pp_precision_name(pp_precision p);
/* 0 and *out set when s names a precision, else -1. */
int pp_precision_parse(const char *s, pp_precision *out);

typedef struct pp_backend pp_backend;
struct pp_format_caps; /* formats.h */
typedef struct pp_stream pp_stream;
typedef struct pp_event pp_event;

/* A node ready to launch: everything resolved at plan time, so launching does
 * no work beyond the kernel itself. Owned by the plan; backends keep pointers to
 * it while it is queued. */
typedef struct pp_launch {
    const pp_node *node;
    pp_op_params params;
    const void *in[PP_MAX_IO];
    void *out[PP_MAX_IO];
    void *ws; /* workspace in the device arena, ws_bytes long */
    size_t ws_bytes;
    void *state;      /* what prepare made (cuDNN plan, cuBLASLt algo), or NULL */
    unsigned weights; /* bit j (j < 32): in[j] is a weight, the same bytes for the engine's life */
    double cost_flops, cost_bytes;
    /* Profiling (ppengine bench --profile): when set, the backend adds each
     * launch's kernel time to prof_ms and counts it in prof_n. */
    int profile;
    double prof_ms;
    long prof_n;
} pp_launch;

/* A host callback run in stream order (the executor's bookkeeping, traces). */
typedef void (*pp_host_fn)(void *arg);

typedef struct pp_backend_ops {
    const char *kind; /* "cpu", "cuda" */
    int host_memory;  /* device pointers are host pointers: weights are used in place, never uploaded */
    void (*destroy)(pp_backend *b);

    /* memory */
    pp_code (*alloc)(pp_backend *b, size_t bytes, void **ptr, pp_error *err);
    void (*free)(pp_backend *b, void *ptr);
    pp_code (*host_alloc)(pp_backend *b, size_t bytes, void **ptr, pp_error *err); /* pinned where that exists */
    void (*host_free)(pp_backend *b, void *ptr);
    /* free device memory in bytes (for placement), or 0 when unknown */
    size_t (*mem_available)(pp_backend *b);
    /* How many host threads this device's kernels may use (logical CPU devices
     * share the cores); NULL where kernels do not run on the host. Called before
     * streams are created. */
    void (*set_threads)(pp_backend *b, int n);
    /* 1: results must not depend on the placement, micro-batch size or thread
     * count (options.deterministic); NULL where a backend cannot promise it.
     * Called before streams are created. */
    void (*set_deterministic)(pp_backend *b, int on);

    /* What the layout planner may know of this device (formats.h): fills the
     * device facts and vector widths into caps; NULL when there are none. */
    void (*facts)(pp_backend *b, struct pp_format_caps *caps);

    /* The engine's precision, set once after creation, before any prepare;
     * PP_ERR_UNSUPPORTED naming the device where it cannot compute that way. */
    pp_code (*set_precision)(pp_backend *b, pp_precision p, pp_error *err);

    /* streams and events */
    pp_code (*stream_create)(pp_backend *b, pp_stream **s, pp_error *err);
    void (*stream_destroy)(pp_backend *b, pp_stream *s);
    pp_code (*stream_sync)(pp_backend *b, pp_stream *s, pp_error *err);
    pp_code (*event_create)(pp_backend *b, pp_event **e, pp_error *err);
    void (*event_destroy)(pp_backend *b, pp_event *e);
    pp_code (*event_record)(pp_backend *b, pp_event *e, pp_stream *s, pp_error *err);
    /* s waits for e, which may belong to another backend of the same kind */
    pp_code (*stream_wait)(pp_backend *b, pp_stream *s, pp_event *e, pp_error *err);
    pp_code (*event_sync)(pp_backend *b, pp_event *e, pp_error *err);
    /* The caller's own stream `native` (pp_engine_run_device): a cudaStream_t on
     * CUDA (NULL: the legacy default stream); on the CPU only NULL, meaning the
     * calling thread. native_record makes e complete when native reaches this
     * point; native_wait holds native back until e completes (on the CPU: the
     * calling thread waits). */
    pp_code (*native_record)(pp_backend *b, pp_event *e, void *native, pp_error *err);
    pp_code (*native_wait)(pp_backend *b, void *native, pp_event *e, pp_error *err);
    pp_code (*host_fn)(pp_backend *b, pp_stream *s, pp_host_fn fn, void *arg, pp_error *err);

    /* copies, async on s */
    pp_code (*upload)(pp_backend *b, pp_stream *s, void *dst, const void *src_host, size_t n, pp_error *err);
    pp_code (*download)(pp_backend *b, pp_stream *s, void *dst_host, const void *src, size_t n, pp_error *err);
    pp_code (*copy)(pp_backend *b, pp_stream *s, void *dst, const void *src, size_t n, pp_error *err);
    /* dst is on b (which owns s), src on backend `from`; PP_ERR_UNSUPPORTED when
     * no peer path exists (the executor then stages through pinned host memory) */
    pp_code (*copy_peer)(pp_backend *b, pp_stream *s, void *dst, pp_backend *from, const void *src, size_t n,
                         pp_error *err);
    /* enable peer access from b to `to` (both directions are separate calls) */
    pp_code (*enable_peer)(pp_backend *b, pp_backend *to, pp_error *err);

    /* ops */
    int (*supports)(pp_backend *b, const pp_node *node, const pp_shape *in);
    /* All per-op set-up (descriptors, algorithm choice); sets l->state and
     * l->ws_bytes. Done once per node, micro-batch size and slot, at engine
     * build (and for a new size mid-service). On entry l->ws and l->ws_bytes are
     * the stage's workspace: NULL and 0 in the executor's first pass, which
     * sizes it (no pointer is known then); in the second, with the pointers
     * final and the stage's streams idle, a backend may time candidates on
     * them, needing at most l->ws_bytes. */
    pp_code (*prepare)(pp_backend *b, pp_launch *l, pp_error *err);
    void (*release)(pp_backend *b, pp_launch *l);
    /* Enqueues the kernel; allocates nothing, never synchronizes. */
    pp_code (*launch)(pp_backend *b, pp_stream *s, const pp_launch *l, pp_error *err);

    /* Profiler ranges around what the host enqueues (NVTX on CUDA, so Nsight
     * Systems shows runs, stages, micro-batches and copies by name); NULL where
     * there is no such profiler. Nested per host thread. */
    void (*range_push)(pp_backend *b, const char *name);
    void (*range_pop)(pp_backend *b);
    /* 1 while each launch pushes a range of its own (NVTX on: PP_NVTX=1,
     * profiling/nsys.sh), which a replayed graph would not; NULL = never. */
    int (*launch_ranges)(pp_backend *b);

    /* Where choices made by timing (prepare) are kept between loads: a file
     * beside graph.bin; NULL keeps them in memory. Optional (NULL: nothing
     * is timed). */
    pp_code (*set_tune_cache)(pp_backend *b, const char *path, pp_error *err);
    /* One line about the device (name, library versions, workspace budget,
     * what was timed), or, given a prepared launch, how it runs ("cudnn graph
     * conv+epilogue f16 nhwc, eng 12"); owned by the backend, valid until the
     * next call or the launch's release. Optional; may return NULL. */
    const char *(*describe)(pp_backend *b, const pp_launch *l);

    /* Capture of a stream's kernel launches into a replayable graph: CUDA graphs
     * on CUDA, a task list replayed as one task on the CPU. Between begin and
     * end, launches on s are recorded, not run. NULL where a backend cannot. */
    pp_code (*capture_begin)(pp_backend *b, pp_stream *s, pp_error *err);
    pp_code (*capture_end)(pp_backend *b, pp_stream *s, void **graph, pp_error *err);
    pp_code (*replay)(pp_backend *b, pp_stream *s, void *graph, pp_error *err);
    void (*graph_destroy)(pp_backend *b, void *graph);
} pp_backend_ops;

struct pp_backend {
    const pp_backend_ops *ops;
    void *ctx;
    int index;     /* cpu:N / cuda:N */
    char name[32]; /* "cpu:0", "cuda:1" */
};

/* Creates the backend for a device spec ("cpu", "cpu:2", "cuda:0"). Errors name
 * the device ("cuda:0: no CUDA device: ..."). */
pp_code pp_backend_create(const char *spec, pp_backend **out, pp_error *err);
void pp_backend_destroy(pp_backend *b);

/* The CPU backend: each logical CPU device has its own worker threads; kernels
 * inside use OpenMP across the cores. */
pp_code pp_backend_cpu_create(int index, pp_backend **out, pp_error *err);
/* The CUDA backend (engine/cuda/); PP_ERR_DEVICE with a clear message when the
 * build has no CUDA or the machine has no usable GPU. */
pp_code pp_backend_cuda_create(int index, pp_backend **out, pp_error *err);
/* Number of usable CUDA devices; 0 without a driver or without CUDA in the build. */
int pp_cuda_device_count(void);

#ifdef __cplusplus
}
#endif
#endif

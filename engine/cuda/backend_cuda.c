/* backend_cuda.c: one CUDA device as a logical device (the pp_backend_ops table).
 *
 * Mirrors backend_cpu.c's semantics on the CUDA runtime: a pp_stream is a
 * non-blocking cudaStream_t (plus its own cuDNN handle and a mapped error flag),
 * a pp_event a timing-free cudaEvent_t, copies are cudaMemcpyAsync. Every entry
 * point that touches the device first makes this backend's device current, since
 * the current device is per thread and the executor drives several devices from
 * its threads. Every CUDA, cuBLASLt and cuDNN status is checked and its name and
 * text go into the message, with the device ("cuda:1: ...") and, for ops, the
 * node's source name.
 *
 * prepare does all per-op set-up once (cuBLASLt descriptors and algorithm,
 * cuDNN descriptors and algorithm, workspace sizes); launch only enqueues.
 * Capture/replay is CUDA graphs.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvtx3/nvToolsExt.h>

#include "cuda_internal.h"
#include "../ops.h"
#include "tune_cache.h"

static atomic_int g_nvtx; /* the profiling switch (pp_cuda_set_profiling) */
static atomic_int g_sync; /* PP_CUDA_SYNC=1: wait after every launch, so a fault names its node */

void pp_cuda_set_profiling(int on) { atomic_store(&g_nvtx, on ? 1 : 0); }

/* The runtime keeps the last error per thread until someone reads it: a failed
 * call left uncleared would be reported again by the next cudaGetLastError, at
 * some other node. Every failure is cleared where it is reported. */
pp_code pp_cuda_fail(pp_error *err, pp_code code, const pp_backend *b, cudaError_t e, const char *what) {
    (void)cudaGetLastError();
    return pp_error_set(err, code, "%s: %s: %s (%s)", b ? b->name : "cuda", what, cudaGetErrorName(e),
                        cudaGetErrorString(e));
}

/* Before a node launches: an error still recorded is not this node's. A
 * non-sticky one (a call whose failure was already reported) is dropped; a
 * sticky one (a kernel fault: the context is lost) is reported as what it is,
 * with the way to find the node that caused it. */
static pp_code clear_stale(const pp_backend *b, const char *label, pp_error *err) {
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess || cudaPeekAtLastError() != e) return PP_OK;
    return pp_error_set(err, PP_ERR_DEVICE,
                        "%s: before node '%s': earlier work on the device failed: %s (%s); run with PP_CUDA_SYNC=1 "
                        "to name the node that caused it",
                        b->name, label, cudaGetErrorName(e), cudaGetErrorString(e));
}

#define CTX(b) ((pp_cuda_ctx *)(b)->ctx)

/* Makes b's device current for this thread. */
static pp_code use_device(pp_backend *b, pp_error *err) {
    cudaError_t e = cudaSetDevice(CTX(b)->dev);
    if (e != cudaSuccess) return pp_cuda_fail(err, PP_ERR_DEVICE, b, e, "cudaSetDevice");
    return PP_OK;
}

#define CHECK(call, what)                                                                                              \
    do {                                                                                                               \
        cudaError_t e_ = (call);                                                                                       \
        if (e_ != cudaSuccess) return pp_cuda_fail(err, PP_ERR_DEVICE, b, e_, what);                                   \
    } while (0)

/* ---- devices ------------------------------------------------------------------- */

int pp_cuda_device_count(void) {
    int n = 0; /* cudaGetDeviceCount leaves it unwritten without a driver */
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return n < 0 ? 0 : n;
}

static void cuda_destroy(pp_backend *b) {
    if (!b) return;
    pp_cuda_ctx *c = CTX(b);
    if (c) {
        if (cudaSetDevice(c->dev) == cudaSuccess) {
            pp_conv_choices_free(b);
            if (c->dnn) cudnnDestroy(c->dnn);
            if (c->lt) cublasLtDestroy(c->lt);
            for (int i = 0; i < 2; i++)
                if (c->tev[i]) (void)cudaEventDestroy(c->tev[i]);
            if (c->tune) (void)cudaStreamDestroy(c->tune);
        }
        pp_tune_cache_free(c->cache);
        pp_free(c->peer_ok);
        pp_free(c);
    }
    pp_free(b);
}

static pp_code cuda_set_precision(pp_backend *b, pp_precision p, pp_error *err) {
    if (p < PP_PREC_FP32 || p > PP_PREC_BF16)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "%s: unknown precision %d", b->name, (int)p);
    CTX(b)->precision = p;
    return PP_OK;
}

/* ---- memory ---------------------------------------------------------------------- */

static pp_code cuda_alloc(pp_backend *b, size_t bytes, void **ptr, pp_error *err) {
    *ptr = NULL;
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 256); /* 256-byte aligned, as cuBLASLt assumes */
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        size_t free_b = 0, total_b = 0;
        (void)cudaMemGetInfo(&free_b, &total_b);
        return pp_error_set(err, e == cudaErrorMemoryAllocation ? PP_ERR_NOMEM : PP_ERR_DEVICE,
                            "%s: cudaMalloc(%zu bytes): %s (%s); %zu of %zu bytes free", b->name, bytes,
                            cudaGetErrorName(e), cudaGetErrorString(e), free_b, total_b);
    }
    *ptr = p;
    return PP_OK;
}

static void cuda_free(pp_backend *b, void *ptr) {
    if (!ptr) return;
    if (cudaSetDevice(CTX(b)->dev) == cudaSuccess) (void)cudaFree(ptr);
}

static pp_code cuda_host_alloc(pp_backend *b, size_t bytes, void **ptr, pp_error *err) {
    *ptr = NULL;
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    void *p = NULL;
    /* portable: pinned for every device, so staged copies to any GPU are async */
    cudaError_t e = cudaHostAlloc(&p, bytes ? bytes : 64, cudaHostAllocPortable);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return pp_error_set(err, PP_ERR_NOMEM, "%s: cudaHostAlloc(%zu bytes, pinned): %s (%s)", b->name, bytes,
                            cudaGetErrorName(e), cudaGetErrorString(e));
    }
    *ptr = p;
    return PP_OK;
}

static void cuda_host_free(pp_backend *b, void *ptr) {
    if (ptr) (void)cudaFreeHost(ptr);
}

static size_t cuda_mem_available(pp_backend *b) {
    size_t free_b = 0, total_b = 0;
    if (cudaSetDevice(CTX(b)->dev) != cudaSuccess || cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return free_b;
}

/* ---- streams and events ------------------------------------------------------------ */

static void stream_free(pp_stream *s) {
    for (int i = 0; i < 2; i++)
        if (s->prof[i]) (void)cudaEventDestroy(s->prof[i]);
    if (s->dnn) cudnnDestroy(s->dnn);
    if (s->err_host) (void)cudaFreeHost(s->err_host);
    if (s->s) (void)cudaStreamDestroy(s->s);
    pp_free(s);
}

static pp_code cuda_stream_create(pp_backend *b, pp_stream **out, pp_error *err) {
    *out = NULL;
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    pp_stream *s = pp_calloc(1, sizeof *s);
    if (!s) return pp_error_set(err, PP_ERR_NOMEM, "%s: out of memory for a stream", b->name);
    s->dev = CTX(b)->dev;
    cudaError_t e = cudaStreamCreateWithFlags(&s->s, cudaStreamNonBlocking);
    if (e != cudaSuccess) {
        s->s = NULL;
        stream_free(s);
        return pp_cuda_fail(err, PP_ERR_DEVICE, b, e, "cudaStreamCreateWithFlags");
    }
    e = cudaHostAlloc((void **)&s->err_host, sizeof(int), cudaHostAllocMapped | cudaHostAllocPortable);
    if (e == cudaSuccess) e = cudaHostGetDevicePointer((void **)&s->err_dev, s->err_host, 0);
    if (e != cudaSuccess) {
        stream_free(s);
        return pp_cuda_fail(err, PP_ERR_DEVICE, b, e, "cudaHostAlloc(error flag, mapped)");
    }
    *s->err_host = 0;
    for (int i = 0; i < 2 && e == cudaSuccess; i++) e = cudaEventCreate(&s->prof[i]);
    if (e != cudaSuccess) {
        stream_free(s);
        return pp_cuda_fail(err, PP_ERR_DEVICE, b, e, "cudaEventCreate(profiling)");
    }
    cudnnStatus_t ds = cudnnCreate(&s->dnn);
    if (ds != CUDNN_STATUS_SUCCESS) {
        s->dnn = NULL;
        stream_free(s);
        return pp_error_set(err, PP_ERR_DEVICE, "%s: cudnnCreate for a stream: %s", b->name, cudnnGetErrorString(ds));
    }
    ds = cudnnSetStream(s->dnn, s->s);
    if (ds != CUDNN_STATUS_SUCCESS) {
        stream_free(s);
        return pp_error_set(err, PP_ERR_DEVICE, "%s: cudnnSetStream: %s", b->name, cudnnGetErrorString(ds));
    }
    *out = s;
    return PP_OK;
}

static void cuda_stream_destroy(pp_backend *b, pp_stream *s) {
    if (!s) return;
    if (cudaSetDevice(s->dev) == cudaSuccess) (void)cudaStreamSynchronize(s->s);
    stream_free(s);
}

static pp_code cuda_stream_sync(pp_backend *b, pp_stream *s, pp_error *err) {
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    cudaError_t e = cudaStreamSynchronize(s->s);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        /* A fault in a kernel surfaces here, at the first wait after it. */
        return pp_error_set(err, PP_ERR_DEVICE,
                            "%s: cudaStreamSynchronize: %s (%s): work on this stream failed; PP_CUDA_SYNC=1 waits "
                            "after every launch and names the node",
                            b->name, cudaGetErrorName(e), cudaGetErrorString(e));
    }
    volatile int *flag = s->err_host;
    if (*flag) {
        /* Report once and clear, like the CPU backend, so the engine stays usable. */
        *flag = 0;
        return pp_error_set(err, PP_ERR_INVALID_ARG, "%s: invalid input data (an index out of range) in a kernel",
                            b->name);
    }
    return PP_OK;
}

static pp_code cuda_event_create(pp_backend *b, pp_event **out, pp_error *err) {
    *out = NULL;
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    pp_event *ev = pp_calloc(1, sizeof *ev);
    if (!ev) return pp_error_set(err, PP_ERR_NOMEM, "%s: out of memory for an event", b->name);
    ev->dev = CTX(b)->dev;
    cudaError_t e = cudaEventCreateWithFlags(&ev->e, cudaEventDisableTiming);
    if (e != cudaSuccess) {
        pp_free(ev);
        return pp_cuda_fail(err, PP_ERR_DEVICE, b, e, "cudaEventCreateWithFlags");
    }
    *out = ev;
    return PP_OK;
}

static void cuda_event_destroy(pp_backend *b, pp_event *ev) {
    if (!ev) return;
    if (cudaSetDevice(ev->dev) == cudaSuccess) (void)cudaEventDestroy(ev->e);
    pp_free(ev);
}

static pp_code cuda_event_record(pp_backend *b, pp_event *ev, pp_stream *s, pp_error *err) {
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    CHECK(cudaEventRecord(ev->e, s->s), "cudaEventRecord");
    return PP_OK;
}

static pp_code cuda_stream_wait(pp_backend *b, pp_stream *s, pp_event *ev, pp_error *err) {
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    /* the event may be another device's: cudaStreamWaitEvent accepts that */
    CHECK(cudaStreamWaitEvent(s->s, ev->e, 0), "cudaStreamWaitEvent");
    return PP_OK;
}

static pp_code cuda_event_sync(pp_backend *b, pp_event *ev, pp_error *err) {
    CHECK(cudaEventSynchronize(ev->e), "cudaEventSynchronize");
    return PP_OK;
}

static pp_code cuda_native_record(pp_backend *b, pp_event *ev, void *native, pp_error *err) {
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    CHECK(cudaEventRecord(ev->e, (cudaStream_t)native), "cudaEventRecord on the caller's stream");
    return PP_OK;
}

static pp_code cuda_native_wait(pp_backend *b, void *native, pp_event *ev, pp_error *err) {
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    CHECK(cudaStreamWaitEvent((cudaStream_t)native, ev->e, 0), "cudaStreamWaitEvent on the caller's stream");
    return PP_OK;
}

static pp_code cuda_host_fn(pp_backend *b, pp_stream *s, pp_host_fn fn, void *arg, pp_error *err) {
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    CHECK(cudaLaunchHostFunc(s->s, fn, arg), "cudaLaunchHostFunc");
    return PP_OK;
}

/* ---- copies ---------------------------------------------------------------------------- */

static pp_code cuda_upload(pp_backend *b, pp_stream *s, void *dst, const void *src, size_t n, pp_error *err) {
    if (!n) return PP_OK;
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, s->s), "cudaMemcpyAsync (upload)");
    return PP_OK;
}

static pp_code cuda_download(pp_backend *b, pp_stream *s, void *dst, const void *src, size_t n, pp_error *err) {
    if (!n) return PP_OK;
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, s->s), "cudaMemcpyAsync (download)");
    return PP_OK;
}

static pp_code cuda_copy(pp_backend *b, pp_stream *s, void *dst, const void *src, size_t n, pp_error *err) {
    if (!n || dst == src) return PP_OK;
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, s->s), "cudaMemcpyAsync (device to device)");
    return PP_OK;
}

static int is_cuda(const pp_backend *to) { return to && to->ops && strcmp(to->ops->kind, "cuda") == 0; }

/* A pull: dst on b's device, src on `from`'s, enqueued on b's stream. Allowed when
 * peer access was enabled between the two devices (either direction: the copy
 * engine then goes over NVLink/PCIe directly); otherwise the executor stages. */
static pp_code cuda_copy_peer(pp_backend *b, pp_stream *s, void *dst, pp_backend *from, const void *src, size_t n,
                              pp_error *err) {
    if (!is_cuda(from)) return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: no peer path from %s", b->name, from->name);
    pp_cuda_ctx *c = CTX(b), *fc = CTX(from);
    int peer = fc->dev;
    if (peer == c->dev) return cuda_copy(b, s, dst, src, n, err); /* two logical devices on one GPU */
    int enabled =
        (peer >= 0 && peer < c->n_devices && c->peer_ok[peer]) || (c->dev < fc->n_devices && fc->peer_ok[c->dev]);
    if (!enabled)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: peer access with %s is not enabled", b->name, from->name);
    if (!n) return PP_OK;
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    CHECK(cudaMemcpyPeerAsync(dst, c->dev, src, peer, n, s->s), "cudaMemcpyPeerAsync");
    return PP_OK;
}

static pp_code cuda_enable_peer(pp_backend *b, pp_backend *to, pp_error *err) {
    if (!is_cuda(to)) return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: no peer access to %s", b->name, to->name);
    pp_cuda_ctx *c = CTX(b);
    int peer = CTX(to)->dev;
    if (peer == c->dev) return PP_OK;
    if (peer < 0 || peer >= c->n_devices)
        return pp_error_set(err, PP_ERR_DEVICE, "%s: peer %s is not a device of this machine", b->name, to->name);
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    int ok = 0;
    CHECK(cudaDeviceCanAccessPeer(&ok, c->dev, peer), "cudaDeviceCanAccessPeer");
    if (!ok)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: the hardware gives no peer access to %s", b->name, to->name);
    cudaError_t e = cudaDeviceEnablePeerAccess(peer, 0);
    if (e == cudaErrorPeerAccessAlreadyEnabled) {
        (void)cudaGetLastError(); /* 704: an earlier call did it; clear the recorded error */
        e = cudaSuccess;
    }
    if (e != cudaSuccess) return pp_cuda_fail(err, PP_ERR_DEVICE, b, e, "cudaDeviceEnablePeerAccess");
    c->peer_ok[peer] = 1;
    return PP_OK;
}

/* ---- ops ---------------------------------------------------------------------------------- */

/* f32, or the 16-bit types the planner gives in the fp16/bf16 modes */
static int is_float(const pp_shape *s) {
    return s->dtype == PP_DTYPE_F32 || s->dtype == PP_DTYPE_F16 || s->dtype == PP_DTYPE_BF16;
}

static int cuda_supports(pp_backend *b, const pp_node *node, const pp_shape *in) {
    pp_shape out[PP_MAX_IO];
    pp_op_params p;
    if (node->n_in > PP_MAX_IO || node->n_out > PP_MAX_IO) return 0;
    pp_error derr;
    if (pp_op_describe(node, in, out, &p, NULL, NULL, &derr) != PP_OK) return 0;
    switch (node->op) {
    case PP_OP_GEMM:
        if (p.gemm.k <= 0) return 0;
        return is_float(&in[0]) && is_float(&in[1]) &&
               (node->n_in < 3 || in[2].dtype == PP_DTYPE_INVALID || is_float(&in[2]));
    case PP_OP_MATMUL: return is_float(&in[0]) && is_float(&in[1]) && p.matmul.k > 0;
    case PP_OP_CONV:
        for (int i = 0; i < node->n_in; i++)
            if (in[i].dtype != PP_DTYPE_INVALID && !is_float(&in[i])) return 0;
        return p.conv.group > 0 && (in[0].rank == 4 || p.conv.fmt.layout == PP_LAYOUT_PLAIN);
    case PP_OP_BATCHNORM:
    case PP_OP_MAXPOOL:
    case PP_OP_AVGPOOL:
    case PP_OP_GLOBAL_AVGPOOL:
    case PP_OP_GLOBAL_MAXPOOL:
    case PP_OP_SOFTMAX:
    case PP_OP_LOG_SOFTMAX:
    case PP_OP_LAYERNORM:
    case PP_OP_RESIZE:
        if (!is_float(&in[0])) return 0;
        break;
    case PP_OP_ATTENTION:
        if (!is_float(&in[0]) || !is_float(&in[1]) || !is_float(&in[2])) return 0;
        break;
    default: break;
    }
    return pp_cuda_kernel_supports(node->op, &p);
}

static void cuda_release(pp_backend *b, pp_launch *l) {
    pp_cuda_state *st = l->state;
    if (!st) return;
    if (cudaSetDevice(CTX(b)->dev) == cudaSuccess) {
        if (st->lt) pp_lt_release(b, st->lt);
        if (st->conv) pp_conv_release(b, st->conv);
    }
    pp_free(st);
    l->state = NULL;
}

static pp_code cuda_prepare(pp_backend *b, pp_launch *l, pp_error *err) {
    const pp_node *node = l->node;
    const char *opname = pp_op_name(node->op);
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    pp_cuda_state *st = pp_calloc(1, sizeof *st);
    if (!st) return pp_error_set(err, PP_ERR_NOMEM, "%s: out of memory preparing node '%s'", b->name, node->name);
    snprintf(st->label, sizeof st->label, "%s (%s)", node->name ? node->name : "?", opname ? opname : "?");
    l->state = st;
    size_t need = 0; /* l->ws_bytes is the stage's workspace until prepare is done */
    switch (node->op) {
    case PP_OP_GEMM:
    case PP_OP_MATMUL:
        st->kind = PP_CUDA_STATE_GEMM;
        rc = pp_lt_prepare(b, l, &st->lt, &need, st->path, sizeof st->path, err);
        break;
    case PP_OP_CONV:
        st->kind = PP_CUDA_STATE_CONV;
        rc = pp_conv_prepare(b, l, &st->conv, &need, st->path, sizeof st->path, err);
        break;
    default:
        st->kind = PP_CUDA_STATE_KERNEL;
        st->fn = pp_cuda_kernel_for(node->op);
        if (!st->fn || !pp_cuda_kernel_supports(node->op, &l->params)) {
            rc = pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: no CUDA kernel for node '%s' (%s) with these types",
                              b->name, node->name, opname ? opname : "?");
            break;
        }
        need = pp_cuda_workspace_size(node->op, &l->params);
        snprintf(st->path, sizeof st->path, "kernel %s", opname ? opname : "?");
        break;
    }
    if (rc != PP_OK) {
        cuda_release(b, l);
        need = 0;
    }
    l->ws_bytes = need;
    return rc;
}

static void cuda_facts(pp_backend *b, pp_format_caps *caps) { caps->gpu = &CTX(b)->facts; }

static int capturing(const pp_stream *s) {
    enum cudaStreamCaptureStatus cs = cudaStreamCaptureStatusNone;
    return cudaStreamIsCapturing(s->s, &cs) != cudaSuccess || cs != cudaStreamCaptureStatusNone;
}

static pp_code cuda_launch(pp_backend *b, pp_stream *s, const pp_launch *l, pp_error *err) {
    const pp_cuda_state *st = l->state;
    if (!st)
        return pp_error_set(err, PP_ERR_INTERNAL, "%s: node '%s' launched without prepare", b->name, l->node->name);
    pp_code rc = use_device(b, err);
    if (!rc) rc = clear_stale(b, st->label, err);
    if (rc) return rc;
    int nvtx = atomic_load_explicit(&g_nvtx, memory_order_relaxed);
    if (nvtx) nvtxRangePushA(st->label);
    /* Profiling (bench --profile) times each kernel between two events and
     * waits for it: per-node figures at the cost of overlap; PP_CUDA_SYNC=1
     * waits too, so an asynchronous fault is reported at its node. Never inside
     * a capture, where waiting is not allowed. */
    int wait = (l->profile || atomic_load_explicit(&g_sync, memory_order_relaxed)) && !capturing(s);
    int prof = wait && l->profile && cudaEventRecord(s->prof[0], s->s) == cudaSuccess;
    switch (st->kind) {
    case PP_CUDA_STATE_GEMM: rc = pp_lt_launch(b, s, l, st->lt, err); break;
    case PP_CUDA_STATE_CONV: rc = pp_conv_launch(b, s, l, st->conv, err); break;
    default: {
        pp_cuda_exec x = {s->s, s->err_dev};
        cudaError_t e = st->fn(&l->params, l->in, l->out, l->ws, &x);
        if (e == cudaSuccess) e = cudaGetLastError();
        if (e != cudaSuccess) rc = pp_cuda_node_fail(err, b, l, e, "launching the kernel");
        break;
    }
    }
    if (wait && !rc) {
        float ms = 0;
        cudaError_t e = prof ? cudaEventRecord(s->prof[1], s->s) : cudaSuccess;
        if (e == cudaSuccess) e = prof ? cudaEventSynchronize(s->prof[1]) : cudaStreamSynchronize(s->s);
        if (e == cudaSuccess && prof) e = cudaEventElapsedTime(&ms, s->prof[0], s->prof[1]);
        if (e != cudaSuccess) rc = pp_cuda_node_fail(err, b, l, e, "running");
        if (prof) {
            /* This stream's driver thread is the only writer; readers drain first. */
            pp_launch *w = (pp_launch *)l;
            w->prof_ms += ms;
            w->prof_n++;
        }
    }
    if (nvtx) nvtxRangePop();
    return rc;
}

/* ---- CUDA graphs --------------------------------------------------------------------------- */

static pp_code cuda_capture_begin(pp_backend *b, pp_stream *s, pp_error *err) {
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    /* Relaxed: the capture may end on another executor thread, and other threads
     * (another engine's build) may cudaMalloc meanwhile. */
    CHECK(cudaStreamBeginCapture(s->s, cudaStreamCaptureModeRelaxed), "cudaStreamBeginCapture");
    return PP_OK;
}

static pp_code cuda_capture_end(pp_backend *b, pp_stream *s, void **graph, pp_error *err) {
    *graph = NULL;
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    cudaGraph_t g = NULL;
    cudaError_t e = cudaStreamEndCapture(s->s, &g);
    if (e != cudaSuccess || !g) {
        if (g) (void)cudaGraphDestroy(g);
        (void)cudaGetLastError();
        return pp_cuda_fail(err, PP_ERR_DEVICE, b, e == cudaSuccess ? cudaErrorStreamCaptureInvalidated : e,
                            "cudaStreamEndCapture");
    }
    cudaGraphExec_t exec = NULL;
    e = cudaGraphInstantiate(&exec, g, 0);
    (void)cudaGraphDestroy(g);
    if (e != cudaSuccess) return pp_cuda_fail(err, PP_ERR_DEVICE, b, e, "cudaGraphInstantiate");
    *graph = exec;
    return PP_OK;
}

static pp_code cuda_replay(pp_backend *b, pp_stream *s, void *graph, pp_error *err) {
    pp_code rc = use_device(b, err);
    if (rc) return rc;
    CHECK(cudaGraphLaunch((cudaGraphExec_t)graph, s->s), "cudaGraphLaunch");
    return PP_OK;
}

static void cuda_graph_destroy(pp_backend *b, void *graph) {
    if (graph && cudaSetDevice(CTX(b)->dev) == cudaSuccess) (void)cudaGraphExecDestroy((cudaGraphExec_t)graph);
}

static void cuda_range_push(pp_backend *b, const char *name) {
    (void)b;
    if (atomic_load_explicit(&g_nvtx, memory_order_relaxed)) nvtxRangePushA(name);
}

static int cuda_launch_ranges(pp_backend *b) {
    (void)b;
    return atomic_load_explicit(&g_nvtx, memory_order_relaxed);
}

static void cuda_range_pop(pp_backend *b) {
    (void)b;
    if (atomic_load_explicit(&g_nvtx, memory_order_relaxed)) nvtxRangePop();
}

static const pp_backend_ops cuda_ops = {
    .kind = "cuda",
    .host_memory = 0,
    .destroy = cuda_destroy,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .host_alloc = cuda_host_alloc,
    .host_free = cuda_host_free,
    .mem_available = cuda_mem_available,
    .set_precision = cuda_set_precision,
    .facts = cuda_facts,
    .stream_create = cuda_stream_create,
    .stream_destroy = cuda_stream_destroy,
    .stream_sync = cuda_stream_sync,
    .event_create = cuda_event_create,
    .event_destroy = cuda_event_destroy,
    .event_record = cuda_event_record,
    .stream_wait = cuda_stream_wait,
    .event_sync = cuda_event_sync,
    .native_record = cuda_native_record,
    .native_wait = cuda_native_wait,
    .host_fn = cuda_host_fn,
    .upload = cuda_upload,
    .download = cuda_download,
    .copy = cuda_copy,
    .copy_peer = cuda_copy_peer,
    .enable_peer = cuda_enable_peer,
    .supports = cuda_supports,
    .prepare = cuda_prepare,
    .release = cuda_release,
    .launch = cuda_launch,
    .range_push = cuda_range_push,
    .range_pop = cuda_range_pop,
    .launch_ranges = cuda_launch_ranges,
    .set_tune_cache = pp_cuda_set_tune_cache,
    .describe = pp_cuda_describe,
    .capture_begin = cuda_capture_begin,
    .capture_end = cuda_capture_end,
    .replay = cuda_replay,
    .graph_destroy = cuda_graph_destroy,
};

static int env_is(const char *name, const char *value) {
    const char *v = getenv(name);
    return v && strcmp(v, value) == 0;
}

/* Where prepare times candidates (a stream of its own with two timing events,
 * cuDNN's plan-time handle bound to it), the workspace budget, and the device
 * key and in-memory cache of the tuning choices. */
static pp_code tuning_setup(pp_backend *b, pp_error *err) {
    pp_cuda_ctx *c = CTX(b);
    CHECK(cudaStreamCreateWithFlags(&c->tune, cudaStreamNonBlocking), "cudaStreamCreateWithFlags (tuning)");
    for (int i = 0; i < 2; i++) CHECK(cudaEventCreate(&c->tev[i]), "cudaEventCreate (tuning)");
    cudnnStatus_t ds = cudnnSetStream(c->dnn, c->tune);
    if (ds != CUDNN_STATUS_SUCCESS)
        return pp_error_set(err, PP_ERR_DEVICE, "%s: cudnnSetStream: %s", b->name, cudnnGetErrorString(ds));
    struct cudaDeviceProp prop;
    int driver = 0;
    CHECK(cudaGetDeviceProperties(&prop, c->dev), "cudaGetDeviceProperties");
    CHECK(cudaDriverGetVersion(&driver), "cudaDriverGetVersion");
    size_t free_b = 0, total_b = 0;
    CHECK(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
    c->ws_budget = free_b / 8 < PP_CUDA_WS_BUDGET_MAX ? free_b / 8 : PP_CUDA_WS_BUDGET_MAX;
    snprintf(c->gpu_name, sizeof c->gpu_name, "%s", prop.name);
    c->facts = (pp_device_facts){
        c->gpu_name,    c->gpu_name, prop.major, prop.minor, prop.multiProcessorCount, (double)total_b / (1 << 30),
        prop.major >= 8};
    return pp_cuda_tuning_init(c, prop.name, prop.major, prop.minor, driver, err);
}

pp_code pp_backend_cuda_create(int index, pp_backend **out, pp_error *err) {
    *out = NULL;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return pp_error_set(err, PP_ERR_DEVICE, "cuda:%d: no CUDA device: %s (%s)", index, cudaGetErrorName(e),
                            cudaGetErrorString(e));
    }
    if (index < 0 || index >= n)
        return pp_error_set(err, PP_ERR_DEVICE, "cuda:%d: no such CUDA device: this machine has %d", index, n);
    pp_backend *b = pp_calloc(1, sizeof *b);
    pp_cuda_ctx *c = pp_calloc(1, sizeof *c);
    unsigned char *peer = pp_calloc((size_t)n, 1);
    if (!b || !c || !peer) {
        pp_free(b);
        pp_free(c);
        pp_free(peer);
        return pp_error_set(err, PP_ERR_NOMEM, "cuda:%d: out of memory", index);
    }
    b->ops = &cuda_ops;
    b->ctx = c;
    b->index = index;
    snprintf(b->name, sizeof b->name, "cuda:%d", index);
    c->dev = index;
    c->n_devices = n;
    c->peer_ok = peer;
    c->precision = PP_PREC_FP32;
    if (env_is("PP_NVTX", "1")) pp_cuda_set_profiling(1);
    if (env_is("PP_CUDA_SYNC", "1")) atomic_store(&g_sync, 1);
    e = cudaSetDevice(index);
    if (e == cudaSuccess) e = cudaFree(NULL); /* create the context now, not inside the first timed call */
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        pp_cuda_fail(err, PP_ERR_DEVICE, b, e, "initialising the device");
        cuda_destroy(b);
        return PP_ERR_DEVICE;
    }
    cublasStatus_t bs = cublasLtCreate(&c->lt);
    if (bs != CUBLAS_STATUS_SUCCESS) {
        c->lt = NULL;
        pp_error_set(err, PP_ERR_DEVICE, "cuda:%d: cublasLtCreate: %s (%s)", index, cublasLtGetStatusName(bs),
                     cublasLtGetStatusString(bs));
        cuda_destroy(b);
        return PP_ERR_DEVICE;
    }
    cudnnStatus_t ds = cudnnCreate(&c->dnn);
    if (ds != CUDNN_STATUS_SUCCESS) {
        c->dnn = NULL;
        char detail[256];
        cudnnGetLastErrorString(detail, sizeof detail);
        pp_error_set(err, PP_ERR_DEVICE, "cuda:%d: cudnnCreate: %s (%s)", index, cudnnGetErrorString(ds), detail);
        cuda_destroy(b);
        return PP_ERR_DEVICE;
    }
    pp_code rc = tuning_setup(b, err);
    if (rc) {
        cuda_destroy(b);
        return rc;
    }
    *out = b;
    return PP_OK;
}

/* emu_backend.c: a "cuda" backend on host memory for tests/emu/run.sh. The
 * custom CUDA kernels run emulated; GEMM and MATMUL go through engine/cuda/gemm_lt.c
 * itself, against the host cuBLASLt of mock_cublaslt.c; CONV through
 * engine/cuda/conv_cudnn.c against the host cuDNN of mock_cudnn.c (or the direct
 * kernel where it falls back). Streams are synchronous; a capture records the
 * launches and a replay runs them again in order, so the executor's graph path
 * runs here with the emulated kernels. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/backend.h"
#include "kernels/cpu/cpu_kernels.h"
#include "engine/cuda/cuda_internal.h"
#include "engine/cuda/tune_cache.h"
#include "engine/ops.h"

static void e_destroy(pp_backend *b) {
    pp_cuda_ctx *c = b->ctx;
    if (c) {
        pp_conv_choices_free(b);
        pp_tune_cache_free(c->cache);
    }
    free(c);
    free(b);
}
/* Every device or pinned allocation, and every cudaMalloc (cuda_stubs.cpp),
 * counts: after an engine is built, runs (at any batch size) must make none. */
atomic_long pp_emu_allocs;
long pp_emu_alloc_count(void) { return atomic_load(&pp_emu_allocs); }
void pp_emu_count_alloc(void) { atomic_fetch_add(&pp_emu_allocs, 1); }
static pp_code e_alloc(pp_backend *b, size_t n, void **p, pp_error *err) {
    atomic_fetch_add(&pp_emu_allocs, 1);
    *p = aligned_alloc(256, (n + 255) / 256 * 256 + 256);
    return PP_OK;
}
static void e_free(pp_backend *b, void *p) {
    if (p) atomic_fetch_add(&pp_emu_allocs, 1);
    free(p);
}
static size_t e_mem(pp_backend *b) { return 0; }
static pp_code e_sc(pp_backend *b, pp_stream **s, pp_error *err) {
    *s = calloc(1, sizeof **s);
    (*s)->err_host = (*s)->err_dev = calloc(1, sizeof(int));
    return PP_OK;
}
static void e_sd(pp_backend *b, pp_stream *s) {
    if (s) free(s->err_host);
    free(s);
}
static pp_code e_ss(pp_backend *b, pp_stream *s, pp_error *err) {
    if (*s->err_host) {
        *s->err_host = 0;
        return pp_error_set(err, PP_ERR_INVALID_ARG, "emu: invalid input data (index out of range)");
    }
    return PP_OK;
}
static pp_code e_ec(pp_backend *b, pp_event **e, pp_error *err) {
    *e = calloc(1, sizeof **e);
    return PP_OK;
}
static void e_ed(pp_backend *b, pp_event *e) { free(e); }
static pp_code e_er(pp_backend *b, pp_event *e, pp_stream *s, pp_error *err) { return PP_OK; }
static pp_code e_sw(pp_backend *b, pp_stream *s, pp_event *e, pp_error *err) { return PP_OK; }
static pp_code e_es(pp_backend *b, pp_event *e, pp_error *err) { return PP_OK; }
static pp_code e_prec(pp_backend *b, pp_precision p, pp_error *err) {
    ((pp_cuda_ctx *)b->ctx)->precision = p;
    return PP_OK;
}
static pp_code e_nr(pp_backend *b, pp_event *e, void *native, pp_error *err) { return PP_OK; }
static pp_code e_nw(pp_backend *b, void *native, pp_event *e, pp_error *err) { return PP_OK; }
static pp_code e_cp(pp_backend *b, pp_stream *s, void *d, const void *src, size_t n, pp_error *err) {
    memmove(d, src, n);
    return PP_OK;
}

static pp_code e_hf(pp_backend *b, pp_stream *s, pp_host_fn fn, void *arg, pp_error *err) {
    fn(arg);
    return PP_OK;
}

static pp_code e_cpeer(pp_backend *b, pp_stream *s, void *d, pp_backend *from, const void *src, size_t n,
                       pp_error *err) {
    memmove(d, src, n);
    return PP_OK;
}
static pp_code e_epeer(pp_backend *b, pp_backend *to, pp_error *err) { return PP_OK; }

static int e_supports(pp_backend *b, const pp_node *node, const pp_shape *in) {
    pp_shape out[PP_MAX_IO];
    pp_op_params p;
    pp_error derr;
    if (pp_op_describe(node, in, out, &p, NULL, NULL, &derr) != PP_OK) return 0;
    if (node->op == PP_OP_GEMM || node->op == PP_OP_MATMUL || node->op == PP_OP_CONV)
        return in[0].dtype == PP_DTYPE_F32;
    return pp_cuda_kernel_supports(node->op, &p);
}
/* As engine/cuda/backend_cuda.c prepares: the state is the cuda_state, with the
 * path the real backend would describe. */
static pp_code e_prepare(pp_backend *b, pp_launch *l, pp_error *err) {
    pp_cuda_state *st = calloc(1, sizeof *st);
    size_t need = 0; /* l->ws_bytes is the stage's workspace until prepare is done */
    pp_code rc = PP_OK;
    l->state = st;
    if (l->node->op == PP_OP_GEMM || l->node->op == PP_OP_MATMUL) {
        st->kind = PP_CUDA_STATE_GEMM;
        rc = pp_lt_prepare(b, l, &st->lt, &need, st->path, sizeof st->path, err);
    } else if (l->node->op == PP_OP_CONV) {
        st->kind = PP_CUDA_STATE_CONV;
        rc = pp_conv_prepare(b, l, &st->conv, &need, st->path, sizeof st->path, err);
    } else {
        st->kind = PP_CUDA_STATE_KERNEL;
        st->fn = pp_cuda_kernel_for(l->node->op);
        need = pp_cuda_workspace_size(l->node->op, &l->params);
        snprintf(st->path, sizeof st->path, "kernel %s", pp_op_name(l->node->op));
    }
    if (rc) {
        free(st);
        l->state = NULL;
        need = 0;
    }
    l->ws_bytes = need;
    return rc;
}
static void e_release(pp_backend *b, pp_launch *l) {
    pp_cuda_state *st = l->state;
    if (!st) return;
    if (st->lt) pp_lt_release(b, st->lt);
    if (st->conv) pp_conv_release(b, st->conv);
    free(st);
    l->state = NULL;
}
/* Captures in progress, by stream (the emulated stream struct is the real
 * backend's, so the state lives beside it). */
typedef struct {
    int n;
    const pp_launch *l[];
} e_graph;
static struct {
    pp_stream *s;
    const pp_launch **l;
    int n, max;
} caps[64];
static pthread_mutex_t caps_mu = PTHREAD_MUTEX_INITIALIZER;

static int cap_find(pp_stream *s) {
    for (int i = 0; i < 64; i++)
        if (caps[i].s == s) return i;
    return -1;
}
static pp_code e_cap_begin(pp_backend *b, pp_stream *s, pp_error *err) {
    pthread_mutex_lock(&caps_mu);
    int i = cap_find(s) >= 0 ? -2 : cap_find(NULL);
    if (i >= 0) caps[i].s = s, caps[i].n = 0;
    pthread_mutex_unlock(&caps_mu);
    return i >= 0 ? PP_OK : pp_error_set(err, PP_ERR_INTERNAL, "emu: cannot begin a capture");
}
static pp_code e_cap_end(pp_backend *b, pp_stream *s, void **graph, pp_error *err) {
    pthread_mutex_lock(&caps_mu);
    int i = cap_find(s);
    e_graph *g = i < 0 ? NULL : malloc(sizeof *g + sizeof g->l[0] * (size_t)caps[i].n);
    if (g) {
        g->n = caps[i].n;
        if (g->n) memcpy(g->l, caps[i].l, sizeof g->l[0] * (size_t)g->n);
    }
    if (i >= 0) {
        free(caps[i].l);
        memset(&caps[i], 0, sizeof caps[i]);
    }
    pthread_mutex_unlock(&caps_mu);
    *graph = g;
    return g ? PP_OK : pp_error_set(err, PP_ERR_INTERNAL, "emu: no capture to end");
}
static int e_capturing(pp_stream *s, const pp_launch *l) {
    pthread_mutex_lock(&caps_mu);
    int i = cap_find(s);
    if (i >= 0) {
        if (caps[i].n == caps[i].max) {
            caps[i].max = caps[i].max ? 2 * caps[i].max : 16;
            caps[i].l = realloc(caps[i].l, sizeof caps[i].l[0] * (size_t)caps[i].max);
        }
        caps[i].l[caps[i].n++] = l;
    }
    pthread_mutex_unlock(&caps_mu);
    return i >= 0;
}
static pp_code e_launch(pp_backend *b, pp_stream *s, const pp_launch *l, pp_error *err);
static pp_code e_replay(pp_backend *b, pp_stream *s, void *graph, pp_error *err) {
    const e_graph *g = graph;
    for (int i = 0; i < g->n; i++) {
        pp_code rc = e_launch(b, s, g->l[i], err);
        if (rc) return rc;
    }
    return PP_OK;
}
static void e_graph_destroy(pp_backend *b, void *graph) { free(graph); }

static pp_code e_launch(pp_backend *b, pp_stream *s, const pp_launch *l, pp_error *err) {
    if (e_capturing(s, l)) return PP_OK;
    const pp_cuda_state *st = l->state;
    const pp_node *n = l->node;
    if (st->kind == PP_CUDA_STATE_CONV) return pp_conv_launch(b, s, l, st->conv, err);
    if (st->kind == PP_CUDA_STATE_GEMM) return pp_lt_launch(b, s, l, st->lt, err);
    pp_cuda_exec x = {0, s->err_dev};
    cudaError_t e = st->fn(&l->params, l->in, l->out, l->ws, &x);
    if (e) return pp_error_set(err, PP_ERR_DEVICE, "emu: %s: error %d", n->name, (int)e);
    return PP_OK;
}

static const pp_backend_ops emu_ops = {
    .kind = "cuda",
    /* as a GPU: weights are uploaded into the arena, host I/O staged */
    .host_memory = 0,
    .destroy = e_destroy,
    .alloc = e_alloc,
    .free = e_free,
    .host_alloc = e_alloc,
    .host_free = e_free,
    .mem_available = e_mem,
    .set_precision = e_prec,
    .stream_create = e_sc,
    .stream_destroy = e_sd,
    .stream_sync = e_ss,
    .event_create = e_ec,
    .event_destroy = e_ed,
    .event_record = e_er,
    .stream_wait = e_sw,
    .event_sync = e_es,
    .native_record = e_nr,
    .native_wait = e_nw,
    .host_fn = e_hf,
    .upload = e_cp,
    .download = e_cp,
    .copy = e_cp,
    .copy_peer = e_cpeer,
    .enable_peer = e_epeer,
    .supports = e_supports,
    .prepare = e_prepare,
    .release = e_release,
    .launch = e_launch,
    .set_tune_cache = pp_cuda_set_tune_cache,
    .describe = pp_cuda_describe,
    .capture_begin = e_cap_begin,
    .capture_end = e_cap_end,
    .replay = e_replay,
    .graph_destroy = e_graph_destroy,
};

pp_code pp_backend_create(const char *spec, pp_backend **out, pp_error *err) {
    if (strcmp(spec, "cpu") == 0) return pp_backend_cpu_create(0, out, err);
    pp_backend *b = calloc(1, sizeof *b);
    pp_cuda_ctx *c = calloc(1, sizeof *c);
    c->lt = (cublasLtHandle_t)(uintptr_t)1; /* mock_cublaslt.c ignores it */
    c->precision = PP_PREC_FP32;
    c->ws_budget = (size_t)64 << 20;
    b->ctx = c;
    b->ops = &emu_ops;
    snprintf(b->name, sizeof b->name, "emu:0");
    /* the tuning stream is the (synchronous) default one; events time on the host */
    if (cudaEventCreate(&c->tev[0]) || cudaEventCreate(&c->tev[1])) return pp_error_set(err, PP_ERR_DEVICE, "emu");
    pp_code rc = pp_cuda_tuning_init(c, "emulated", 9, 0, 0, err);
    if (rc) {
        e_destroy(b);
        return rc;
    }
    *out = b;
    return PP_OK;
}
void pp_backend_destroy(pp_backend *b) {
    if (b) b->ops->destroy(b);
}
pp_code pp_backend_cuda_create(int index, pp_backend **out, pp_error *err) {
    return pp_error_set(err, PP_ERR_DEVICE, "emu");
}
int pp_cuda_device_count(void) { return getenv("PP_EMU_DEVICES") ? 1 : 0; }

/* backend_cpu.c: the CPU as a logical device.
 *
 * A stream is a worker thread draining a fixed ring of tasks (no allocation per
 * enqueue); an event is a generation counter under a mutex. This mirrors CUDA's
 * semantics closely enough that the executor cannot tell them apart: work on a
 * stream runs in order, record/wait order work across streams, and errors are
 * sticky on the stream until it is synchronized.
 *
 * Kernels: a node runs the fast kernel (kernels/cpu/fast) where one applies,
 * else the reference. The device owns one pool of threads (its share of
 * options.threads) over which every fast kernel splits its work, the stream
 * thread joining in; the reference kernels' OpenMP is held to one thread here,
 * so no second team competes for the cores. A node's packed weights are made at
 * its first prepare and shared by all its launches (every micro-batch size and
 * slot, and the preparation that only sizes the arena), freed with the device.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../kernels/cpu/cpu_kernels.h"
#include "../kernels/cpu/fast/fast.h"
#include "backend.h"

#define RING 1024

typedef enum { T_LAUNCH, T_GRAPH, T_COPY, T_RECORD, T_WAIT, T_HOSTFN, T_STOP } task_kind;

struct pp_event {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t recorded;  /* generations handed out by record */
    uint64_t completed; /* generations the stream has passed */
};

typedef struct task {
    task_kind kind;
    const pp_launch *launch;
    void *dst;
    const void *src;
    size_t n;
    pp_event *ev;
    uint64_t gen;
    pp_host_fn fn;
    void *arg;
} task;

struct pp_stream {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv_push, cv_pop, cv_idle;
    task ring[RING];
    unsigned head, tail; /* tail - head tasks queued */
    int busy;
    int failed; /* sticky, like a CUDA stream error */
    pp_error err;
    /* Capture (capture_begin..capture_end): launches are recorded here instead
     * of queued. Only the thread that enqueues on the stream touches these. */
    int capturing;
    const pp_launch **cap;
    int cap_n, cap_max;
};

/* A captured graph: the launches, replayed as one task, so a stage's micro-batch
 * costs one queue hand-off instead of one per node. */
typedef struct cpu_graph {
    int n;
    const pp_launch *l[];
} cpu_graph;

static void event_complete(pp_event *e, uint64_t gen) {
    pthread_mutex_lock(&e->mu);
    if (gen > e->completed) e->completed = gen;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

static void event_wait_gen(pp_event *e, uint64_t gen) {
    pthread_mutex_lock(&e->mu);
    while (e->completed < gen) pthread_cond_wait(&e->cv, &e->mu);
    pthread_mutex_unlock(&e->mu);
}

/* A node's packed weights, shared by its launches. */
typedef struct packed_entry {
    const pp_node *node;
    pp_fast_packed *pk;
    struct packed_entry *next;
} packed_entry;

/* What prepare decided for one launch that runs a fast kernel (pp_launch.state;
 * NULL: the reference kernel). */
typedef struct cpu_launch_state {
    packed_entry *packed; /* or NULL */
    pp_tpool *pool;
    pp_cpu_isa isa;
    int variant; /* pp_fast_plan's choice */
} cpu_launch_state;

static void run_launch(pp_stream *s, const pp_launch *l) {
    if (s->failed) return; /* like CUDA: after a fault, kernels do not run */
    struct timespec t0, t1;
    if (l->profile) clock_gettime(CLOCK_MONOTONIC, &t0);
    const cpu_launch_state *st = l->state;
    int bad = st ? pp_fast_run(l->node->op, &l->params, st->packed ? st->packed->pk : NULL, st->isa, st->variant, l->in,
                               l->out, l->ws, st->pool)
                 : pp_cpu_kernel_for(l->node->op)(&l->params, l->in, l->out, l->ws);
    if (l->profile) {
        /* The stream thread is the only writer; readers synchronize first. */
        clock_gettime(CLOCK_MONOTONIC, &t1);
        pp_launch *w = (pp_launch *)l;
        w->prof_ms += (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        w->prof_n++;
    }
    if (bad != 0) {
        s->failed = 1;
        pp_error_set(&s->err, PP_ERR_INVALID_ARG, "node '%s' (%s): invalid input data (an index out of range)",
                     l->node->name, pp_op_name(l->node->op));
    }
}

static void run_task(pp_stream *s, const task *t) {
    switch (t->kind) {
    case T_LAUNCH: run_launch(s, t->launch); break;
    case T_GRAPH: {
        const cpu_graph *g = t->arg;
        for (int i = 0; i < g->n; i++) run_launch(s, g->l[i]);
        break;
    }
    case T_COPY:
        if (t->n) memmove(t->dst, t->src, t->n);
        break;
    case T_RECORD: event_complete(t->ev, t->gen); break;
    case T_WAIT: event_wait_gen(t->ev, t->gen); break;
    case T_HOSTFN: t->fn(t->arg); break;
    case T_STOP: break;
    }
}

static void *worker(void *arg) {
    pp_stream *s = arg;
#ifdef _OPENMP
    /* The device's pool owns its cores: a reference kernel run here (an op
     * without a fast kernel) stays on this thread rather than start an OpenMP
     * team that would compete with the pool. */
    omp_set_num_threads(1);
#endif
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->head == s->tail) pthread_cond_wait(&s->cv_push, &s->mu);
        task t = s->ring[s->head % RING];
        s->busy = 1;
        pthread_mutex_unlock(&s->mu);
        if (t.kind == T_STOP) {
            pthread_mutex_lock(&s->mu);
            s->head++;
            s->busy = 0;
            pthread_cond_broadcast(&s->cv_idle);
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        run_task(s, &t);
        pthread_mutex_lock(&s->mu);
        s->head++;
        s->busy = 0;
        pthread_cond_signal(&s->cv_pop);
        if (s->head == s->tail) pthread_cond_broadcast(&s->cv_idle);
        pthread_mutex_unlock(&s->mu);
    }
}

static void push(pp_stream *s, const task *t) {
    pthread_mutex_lock(&s->mu);
    while (s->tail - s->head >= RING) pthread_cond_wait(&s->cv_pop, &s->mu);
    s->ring[s->tail % RING] = *t;
    s->tail++;
    pthread_cond_signal(&s->cv_push);
    pthread_mutex_unlock(&s->mu);
}

/* ---- the table -------------------------------------------------------------- */

typedef struct cpu_ctx {
    int threads, deterministic;
    int reference;  /* PP_CPU_KERNELS=reference: the reference kernels only */
    pp_cpu_isa isa; /* the fast kernels' instruction set */
    pp_tpool *pool; /* made at the first prepare, `threads` strong */
    pthread_mutex_t mu;
    packed_entry *packed; /* per node, shared by its launches */
} cpu_ctx;

static void cpu_destroy(pp_backend *b) {
    cpu_ctx *c = b->ctx;
    pp_tpool_free(c->pool);
    while (c->packed) {
        packed_entry *next = c->packed->next;
        pp_fast_packed_free(c->packed->pk);
        pp_free(c->packed);
        c->packed = next;
    }
    pthread_mutex_destroy(&c->mu);
    pp_free(c);
    pp_free(b);
}

static void cpu_set_threads(pp_backend *b, int n) { ((cpu_ctx *)b->ctx)->threads = n > 0 ? n : 1; }

static void cpu_set_deterministic(pp_backend *b, int on) { ((cpu_ctx *)b->ctx)->deterministic = on; }

static pp_code cpu_set_precision(pp_backend *b, pp_precision p, pp_error *err) {
    /* TF32 allows rounding, it does not demand it: the CPU's f32 satisfies it.
     * fp16/bf16 would need narrow GEMM and convolution kernels the CPU lacks. */
    if (p == PP_PREC_FP32 || p == PP_PREC_TF32) return PP_OK;
    return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s computes in fp32 only: precision %s needs CUDA devices", b->name,
                        pp_precision_name(p));
}

static pp_code cpu_alloc(pp_backend *b, size_t bytes, void **ptr, pp_error *err) {
    /* 64-byte alignment: what the file guarantees for weights, and a cache line. */
    size_t n = (bytes + 63) & ~(size_t)63;
    void *p = n >= bytes ? pp_aligned_alloc(64, n) : NULL;
    if (!p) return pp_error_set(err, PP_ERR_NOMEM, "%s: cannot allocate %zu bytes", b->name, bytes);
    *ptr = p;
    return PP_OK;
}

static void cpu_free(pp_backend *b, void *ptr) { pp_free(ptr); }

static size_t cpu_mem_available(pp_backend *b) { return 0; }

static pp_code cpu_stream_create(pp_backend *b, pp_stream **out, pp_error *err) {
    pp_stream *s = pp_calloc(1, sizeof *s);
    if (!s) return pp_error_nomem(err, "%s: out of memory for a stream", b->name);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv_push, NULL);
    pthread_cond_init(&s->cv_pop, NULL);
    pthread_cond_init(&s->cv_idle, NULL);
    if (pthread_create(&s->thread, NULL, worker, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv_push);
        pthread_cond_destroy(&s->cv_pop);
        pthread_cond_destroy(&s->cv_idle);
        pp_free(s);
        return pp_error_set(err, PP_ERR_DEVICE, "%s: cannot start a stream thread", b->name);
    }
    *out = s;
    return PP_OK;
}

static void cpu_stream_destroy(pp_backend *b, pp_stream *s) {
    if (!s) return;
    task t = {.kind = T_STOP};
    push(s, &t);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv_push);
    pthread_cond_destroy(&s->cv_pop);
    pthread_cond_destroy(&s->cv_idle);
    pp_free(s->cap);
    pp_free(s);
}

static pp_code cpu_stream_sync(pp_backend *b, pp_stream *s, pp_error *err) {
    pthread_mutex_lock(&s->mu);
    while (s->head != s->tail) pthread_cond_wait(&s->cv_idle, &s->mu);
    pp_code rc = PP_OK;
    if (s->failed) {
        /* Report once and clear, so the engine stays usable after bad input. */
        rc = pp_error_set(err, s->err.code, "%s: %s", b->name, s->err.msg);
        s->failed = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static pp_code cpu_event_create(pp_backend *b, pp_event **out, pp_error *err) {
    pp_event *e = pp_calloc(1, sizeof *e);
    if (!e) return pp_error_nomem(err, "%s: out of memory for an event", b->name);
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    *out = e;
    return PP_OK;
}

static void cpu_event_destroy(pp_backend *b, pp_event *e) {
    if (!e) return;
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
    pp_free(e);
}

/* Only kernel launches are captured (all the executor captures); anything else
 * on a capturing stream is a bug in the caller, refused rather than reordered. */
static pp_code refuse_capturing(pp_backend *b, const pp_stream *s, const char *what, pp_error *err) {
    if (!s->capturing) return PP_OK;
    return pp_error_set(err, PP_ERR_INTERNAL, "%s: %s on a stream being captured (only launches are captured)", b->name,
                        what);
}

static pp_code cpu_event_record(pp_backend *b, pp_event *e, pp_stream *s, pp_error *err) {
    if (refuse_capturing(b, s, "event record", err)) return PP_ERR_INTERNAL;
    pthread_mutex_lock(&e->mu);
    uint64_t gen = ++e->recorded;
    pthread_mutex_unlock(&e->mu);
    task t = {.kind = T_RECORD, .ev = e, .gen = gen};
    push(s, &t);
    return PP_OK;
}

static pp_code cpu_stream_wait(pp_backend *b, pp_stream *s, pp_event *e, pp_error *err) {
    /* Waits for the generation recorded last before this call, as
     * cudaStreamWaitEvent does; an event never recorded is already complete. */
    if (refuse_capturing(b, s, "event wait", err)) return PP_ERR_INTERNAL;
    pthread_mutex_lock(&e->mu);
    uint64_t gen = e->recorded;
    pthread_mutex_unlock(&e->mu);
    if (gen == 0) return PP_OK;
    task t = {.kind = T_WAIT, .ev = e, .gen = gen};
    push(s, &t);
    return PP_OK;
}

static pp_code cpu_event_sync(pp_backend *b, pp_event *e, pp_error *err) {
    pthread_mutex_lock(&e->mu);
    uint64_t gen = e->recorded;
    pthread_mutex_unlock(&e->mu);
    event_wait_gen(e, gen);
    return PP_OK;
}

static pp_code no_native(pp_backend *b, void *native, pp_error *err) {
    if (!native) return PP_OK;
    return pp_error_set(err, PP_ERR_INVALID_ARG, "%s has no streams: pass a NULL stream (the calling thread)", b->name);
}

static pp_code cpu_native_record(pp_backend *b, pp_event *e, void *native, pp_error *err) {
    /* The calling thread is at this point now: record and complete at once. */
    if (no_native(b, native, err)) return PP_ERR_INVALID_ARG;
    pthread_mutex_lock(&e->mu);
    e->completed = ++e->recorded;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    return PP_OK;
}

static pp_code cpu_native_wait(pp_backend *b, void *native, pp_event *e, pp_error *err) {
    if (no_native(b, native, err)) return PP_ERR_INVALID_ARG;
    return cpu_event_sync(b, e, err);
}

static pp_code cpu_host_fn(pp_backend *b, pp_stream *s, pp_host_fn fn, void *arg, pp_error *err) {
    if (refuse_capturing(b, s, "host function", err)) return PP_ERR_INTERNAL;
    task t = {.kind = T_HOSTFN, .fn = fn, .arg = arg};
    push(s, &t);
    return PP_OK;
}

static pp_code cpu_copy(pp_backend *b, pp_stream *s, void *dst, const void *src, size_t n, pp_error *err) {
    if (refuse_capturing(b, s, "copy", err)) return PP_ERR_INTERNAL;
    task t = {.kind = T_COPY, .dst = dst, .src = src, .n = n};
    push(s, &t);
    return PP_OK;
}

static pp_code cpu_copy_peer(pp_backend *b, pp_stream *s, void *dst, pp_backend *from, const void *src, size_t n,
                             pp_error *err) {
    /* Logical CPU devices share one address space: a peer copy is a memcpy. */
    if (!from->ops->host_memory)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: no peer path from %s", b->name, from->name);
    return cpu_copy(b, s, dst, src, n, err);
}

static pp_code cpu_enable_peer(pp_backend *b, pp_backend *to, pp_error *err) {
    if (!to->ops->host_memory)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: no peer access to %s", b->name, to->name);
    return PP_OK;
}

static int cpu_supports(pp_backend *b, const pp_node *node, const pp_shape *in) {
    return pp_cpu_kernel_for(node->op) != NULL;
}

/* The packed copy replaces the original weight, which usually lies in the
 * mapped graph.bin: reading it to pack brought its pages in, and they would
 * stay resident (counted in RSS, twice the weights in all) for nothing. Asking
 * the kernel to reclaim them is only advice: the bytes stay valid, and are read
 * again from the file should anything need them. */
static void release_pages(const void *p, size_t bytes) {
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || bytes < 2 * (size_t)page) return;
    uintptr_t lo = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~((uintptr_t)page - 1);
#ifdef MADV_PAGEOUT
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_PAGEOUT);
#else
    (void)lo, (void)hi;
#endif
}

/* The node's packed weights, made on first use; NULL when its fast kernel
 * packs nothing or it has none. */
static pp_code packed_for(pp_backend *b, const pp_launch *l, packed_entry **out, pp_error *err) {
    cpu_ctx *c = b->ctx;
    pthread_mutex_lock(&c->mu);
    packed_entry *e = c->packed;
    while (e && e->node != l->node) e = e->next;
    pp_code rc = PP_OK;
    if (!e) {
        pp_fast_packed *pk = NULL;
        if (pp_fast_pack(l->node->op, &l->params, l->in, l->weights, c->isa, &pk))
            rc = pp_error_nomem(err, "%s: out of memory packing the weights of node '%s'", b->name, l->node->name);
        else if (pk && !(e = pp_calloc(1, sizeof *e))) {
            pp_fast_packed_free(pk);
            rc = pp_error_nomem(err, "%s: out of memory", b->name);
        } else if (pk) {
            *e = (packed_entry){l->node, pk, c->packed};
            c->packed = e;
            release_pages(l->in[1], pp_fast_packed_source_bytes(pk));
        }
    }
    pthread_mutex_unlock(&c->mu);
    *out = e;
    return rc;
}

static pp_code cpu_prepare(pp_backend *b, pp_launch *l, pp_error *err) {
    cpu_ctx *c = b->ctx;
    if (!pp_cpu_kernel_for(l->node->op))
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: no kernel for node '%s' (%s)", b->name, l->node->name,
                            pp_op_name(l->node->op));
    if (!pp_cpu_kernel_takes(l->node->op, &l->params))
        return pp_error_set(err, PP_ERR_UNSUPPORTED,
                            "%s: node '%s' (%s) has 16-bit or non-plain operands; the CPU kernels compute f32 on "
                            "plain tensors",
                            b->name, l->node->name, pp_op_name(l->node->op));
    l->state = NULL;
    l->ws_bytes = pp_cpu_workspace_size(l->node->op, &l->params);
    /* options.deterministic only narrows which kernel runs (fast.h). Weights
     * are packed when their pointers exist: a weight slot still NULL means this
     * preparation only sizes the arena. */
    if (c->reference) return PP_OK;
    for (int j = 0; j < 32 && j < l->node->n_in; j++)
        if ((l->weights >> j & 1u) && !l->in[j]) {
            size_t ws = pp_fast_workspace_bound(l->node->op, &l->params, c->isa, c->threads);
            if (ws > l->ws_bytes) l->ws_bytes = ws;
            return PP_OK;
        }
    if (!c->pool && !(c->pool = pp_tpool_create(c->threads)))
        return pp_error_set(err, PP_ERR_DEVICE, "%s: cannot start a pool of %d threads", b->name, c->threads);
    packed_entry *pe = NULL;
    pp_code rc = packed_for(b, l, &pe, err);
    if (rc) return rc;
    size_t ws = 0;
    int variant = pp_fast_plan(l->node->op, &l->params, pe ? pe->pk : NULL, c->isa, c->threads, c->deterministic, &ws);
    if (!variant) {
        return PP_OK;
    }
    cpu_launch_state *st = pp_calloc(1, sizeof *st);
    if (!st) {
        return pp_error_nomem(err, "%s: out of memory", b->name);
    }
    *st = (cpu_launch_state){pe, c->pool, c->isa, variant};
    l->state = st;
    l->ws_bytes = ws;
    return PP_OK;
}

static void cpu_release(pp_backend *b, pp_launch *l) {
    cpu_launch_state *st = l->state;
    if (!st) return;
    pp_free(st);
    l->state = NULL;
}

static pp_code cpu_launch(pp_backend *b, pp_stream *s, const pp_launch *l, pp_error *err) {
    if (s->capturing) {
        if (s->cap_n == s->cap_max) {
            int m = s->cap_max ? 2 * s->cap_max : 16;
            const pp_launch **c = pp_realloc(s->cap, sizeof *c * (size_t)m);
            if (!c) return pp_error_nomem(err, "%s: out of memory capturing %d launches", b->name, m);
            s->cap = c;
            s->cap_max = m;
        }
        s->cap[s->cap_n++] = l;
        return PP_OK;
    }
    task t = {.kind = T_LAUNCH, .launch = l};
    push(s, &t);
    return PP_OK;
}

/* ---- capture and replay ------------------------------------------------------ */

static pp_code cpu_capture_begin(pp_backend *b, pp_stream *s, pp_error *err) {
    if (s->capturing) return pp_error_set(err, PP_ERR_INTERNAL, "%s: the stream is already capturing", b->name);
    s->capturing = 1;
    s->cap_n = 0;
    return PP_OK;
}

static pp_code cpu_capture_end(pp_backend *b, pp_stream *s, void **graph, pp_error *err) {
    *graph = NULL;
    if (!s->capturing) return pp_error_set(err, PP_ERR_INTERNAL, "%s: the stream is not capturing", b->name);
    s->capturing = 0;
    cpu_graph *g = pp_malloc(sizeof *g + sizeof g->l[0] * (size_t)s->cap_n);
    if (!g) return pp_error_nomem(err, "%s: out of memory for a graph of %d launches", b->name, s->cap_n);
    g->n = s->cap_n;
    if (s->cap_n) memcpy(g->l, s->cap, sizeof g->l[0] * (size_t)s->cap_n);
    s->cap_n = 0;
    *graph = g;
    return PP_OK;
}

static pp_code cpu_replay(pp_backend *b, pp_stream *s, void *graph, pp_error *err) {
    if (refuse_capturing(b, s, "graph replay", err)) return PP_ERR_INTERNAL;
    task t = {.kind = T_GRAPH, .arg = graph};
    push(s, &t);
    return PP_OK;
}

static void cpu_graph_destroy(pp_backend *b, void *graph) { pp_free(graph); }

static const pp_backend_ops cpu_ops = {
    .kind = "cpu",
    .host_memory = 1,
    .destroy = cpu_destroy,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .host_alloc = cpu_alloc,
    .host_free = cpu_free,
    .mem_available = cpu_mem_available,
    .set_threads = cpu_set_threads,
    .set_deterministic = cpu_set_deterministic,
    .set_precision = cpu_set_precision,
    .stream_create = cpu_stream_create,
    .stream_destroy = cpu_stream_destroy,
    .stream_sync = cpu_stream_sync,
    .event_create = cpu_event_create,
    .event_destroy = cpu_event_destroy,
    .event_record = cpu_event_record,
    .stream_wait = cpu_stream_wait,
    .event_sync = cpu_event_sync,
    .native_record = cpu_native_record,
    .native_wait = cpu_native_wait,
    .host_fn = cpu_host_fn,
    .upload = cpu_copy,
    .download = cpu_copy,
    .copy = cpu_copy,
    .copy_peer = cpu_copy_peer,
    .enable_peer = cpu_enable_peer,
    .supports = cpu_supports,
    .prepare = cpu_prepare,
    .release = cpu_release,
    .launch = cpu_launch,
    .capture_begin = cpu_capture_begin,
    .capture_end = cpu_capture_end,
    .replay = cpu_replay,
    .graph_destroy = cpu_graph_destroy,
};

pp_code pp_backend_cpu_create(int index, pp_backend **out, pp_error *err) {
    pp_backend *b = pp_calloc(1, sizeof *b);
    cpu_ctx *c = pp_calloc(1, sizeof *c);
    if (!b || !c) {
        pp_free(b);
        pp_free(c);
        return pp_error_nomem(err, "cpu:%d: out of memory", index);
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = cores > 0 ? (int)cores : 1;
    c->isa = pp_cpu_isa_detect();
    const char *k = getenv("PP_CPU_KERNELS");
    c->reference = k && !strcmp(k, "reference");
    pthread_mutex_init(&c->mu, NULL);
    b->ctx = c;
    b->ops = &cpu_ops;
    b->index = index;
    snprintf(b->name, sizeof b->name, "cpu:%d", index);
    *out = b;
    return PP_OK;
}

/* exec.c: engine build and the micro-batch pipeline. */
#include "exec.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "trace.h"

/* Distinct micro-batch sizes prepared per stage (M and remainders). A dynamic
 * batcher (engine/batcher.c) runs every size up to M, and prepares them all up
 * front so that its steady state allocates nothing: up to 64 fit. */
#define MAX_SIZES 64

typedef struct sized_launches {
    int size;
    pp_launch *l; /* [K][n_nodes] */
    void **graph; /* [K]: the stage's launches for slot k captured once (options.graphs), or NULL */
} sized_launches;

typedef struct stage_rt {
    pp_backend *b;
    pp_stream *compute, *copy;
    void *arena;
    char **slot; /* [K] */
    void *ws;
    size_t ws_bytes;
    const void **weight;                                         /* per tensor id: the weight's bytes on this device */
    pp_event **ev_computed, **ev_arrived, **ev_staged, **ev_out; /* [K] */
    void **staging; /* [K] pinned host buffers (staged boundary copies), or NULL */
    int peer;       /* boundary copies to the next stage go device to device */
    sized_launches sizes[MAX_SIZES];
    int n_sizes;
} stage_rt;

typedef struct replica_job {
    pp_exec *e;
    int r;
    pp_code rc;
    pp_error err;
    uint64_t seen; /* the last run generation this driver took part in */
} replica_job;

struct pp_exec {
    const pp_graph *g;
    pp_plan *plan;
    int P, R, K, M;
    int fell_back;
    stage_rt *rt;       /* [R][P] */
    pp_backend **owned; /* every backend created, destroyed once */
    int n_owned;
    pthread_mutex_t mu; /* one run at a time; launch records are shared */
    pp_trace *trace;
    char *trace_path;
    /* per run */
    const void *const *inputs;
    void *const *outputs;
    int dev_io;          /* inputs/outputs are device buffers (pp_exec_run_device) */
    pp_event *ev_caller; /* stage 0: where the caller's stream was when a device run began */
    pp_event *ev_done;   /* last stage: where a device run's outputs are written */
    int64_t batch;
    atomic_int next_mb;
    int n_mb;
    atomic_int cancel; /* set by pp_exec_cancel from any thread */
    int profile;
    int graphs; /* replay captured launches (options.graphs and the backend can) */
    size_t mem_limit;
    /* Replicas 1..R-1 are driven by threads made once at build (replica 0 by
     * the caller), so a run creates no thread and allocates nothing. */
    replica_job *jobs;  /* [R] */
    pthread_t *drivers; /* [R], entry 0 unused */
    int n_drivers;      /* started */
    pthread_mutex_t run_mu;
    pthread_cond_t run_cv, done_cv;
    uint64_t run_gen;
    int pending, quit;
    char notice[PP_ERROR_MSG_MAX + 64]; /* what the build had to change, or "" */
};

static stage_rt *RT(pp_exec *e, int r, int p) { return &e->rt[r * e->P + p]; }

uint64_t pp_exec_input_bytes(const pp_exec *e, int i, int64_t batch) {
    return pp_tensor_bytes_at(&e->g->tensors[e->g->inputs[i]], batch);
}
uint64_t pp_exec_output_bytes(const pp_exec *e, int i, int64_t batch) {
    return pp_tensor_bytes_at(&e->g->tensors[e->g->outputs[i]], batch);
}
const pp_plan *pp_exec_plan(const pp_exec *e) { return e->plan; }
int pp_exec_replicas(const pp_exec *e) { return e->R; }
int pp_exec_fell_back(const pp_exec *e) { return e->fell_back; }
const char *pp_exec_device(const pp_exec *e, int r, int s) { return e->rt[r * e->P + s].b->name; }

/* ---- building ------------------------------------------------------------- */

static pp_code parse_devices(const char *spec, char ***names, int *n, int *fell_back, pp_error *err) {
    char buf[1024];
    *fell_back = 0;
    if (!spec || strcmp(spec, "auto") == 0) {
        int nc = pp_cuda_device_count();
        buf[0] = '\0';
        if (nc == 0) {
            snprintf(buf, sizeof buf, "cpu");
            *fell_back = 1;
        }
        for (int i = 0; i < nc; i++) {
            size_t l = strlen(buf);
            snprintf(buf + l, sizeof buf - l, "%scuda:%d", i ? "," : "", i);
        }
    } else {
        if (strlen(spec) >= sizeof buf)
            return pp_error_set(err, PP_ERR_INVALID_ARG, "device list is longer than %zu characters", sizeof buf);
        snprintf(buf, sizeof buf, "%s", spec);
    }
    int count = 1;
    for (char *c = buf; *c; c++) count += *c == ',';
    char **v = pp_calloc((size_t)count, sizeof(char *));
    if (!v) return pp_error_nomem(err, "out of memory parsing the device list");
    int k = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        v[k] = pp_malloc(strlen(tok) + 1);
        if (!v[k]) {
            for (int i = 0; i < k; i++) pp_free(v[i]);
            pp_free(v);
            return pp_error_nomem(err, "out of memory parsing the device list");
        }
        strcpy(v[k++], tok);
    }
    if (k == 0) {
        pp_free(v);
        return pp_error_set(err, PP_ERR_INVALID_ARG, "device list '%s' names no device", spec);
    }
    *names = v;
    *n = k;
    return PP_OK;
}

static pp_code prepare_size(pp_exec *e, int r, int p, int size, sized_launches **out, pp_error *err);
static void *driver_main(void *arg);

/* Frees one size's launch records and graphs; the stage's streams must have
 * passed them. */
static void free_sized(pp_exec *e, stage_rt *rt, int p, sized_launches *sl) {
    pp_backend *b = rt->b;
    int nn = e->plan->stages[p].last - e->plan->stages[p].first;
    for (int k = 0; sl->graph && k < e->K; k++)
        if (sl->graph[k]) b->ops->graph_destroy(b, sl->graph[k]);
    pp_free(sl->graph);
    sl->graph = NULL;
    for (int i = 0; sl->l && i < nn * e->K; i++) b->ops->release(b, &sl->l[i]);
    pp_free(sl->l);
    sl->l = NULL;
}

static void release_stage(pp_exec *e, int r, int p) {
    stage_rt *rt = RT(e, r, p);
    pp_backend *b = rt->b;
    if (!b) return;
    if (rt->compute) b->ops->stream_sync(b, rt->compute, NULL);
    if (rt->copy) b->ops->stream_sync(b, rt->copy, NULL);
    /* launches exist only once the plan does */
    for (int s = 0; s < rt->n_sizes; s++) free_sized(e, rt, p, &rt->sizes[s]);
    for (int k = 0; k < e->K; k++) {
        if (rt->ev_computed) b->ops->event_destroy(b, rt->ev_computed[k]);
        if (rt->ev_arrived) b->ops->event_destroy(b, rt->ev_arrived[k]);
        if (rt->ev_staged) b->ops->event_destroy(b, rt->ev_staged[k]);
        if (rt->ev_out) b->ops->event_destroy(b, rt->ev_out[k]);
        if (rt->staging && rt->staging[k]) b->ops->host_free(b, rt->staging[k]);
    }
    pp_free(rt->ev_computed);
    pp_free(rt->ev_arrived);
    pp_free(rt->ev_staged);
    pp_free(rt->ev_out);
    pp_free(rt->staging);
    if (rt->compute) b->ops->stream_destroy(b, rt->compute);
    if (rt->copy) b->ops->stream_destroy(b, rt->copy);
    if (rt->arena) b->ops->free(b, rt->arena);
    pp_free(rt->slot);
    pp_free(rt->weight);
}

static void stop_drivers(pp_exec *e) {
    pthread_mutex_lock(&e->run_mu);
    e->quit = 1;
    pthread_cond_broadcast(&e->run_cv);
    pthread_mutex_unlock(&e->run_mu);
    for (int r = 1; r <= e->n_drivers; r++) pthread_join(e->drivers[r], NULL);
    e->n_drivers = 0;
}

void pp_exec_free(pp_exec *e) {
    if (!e) return;
    stop_drivers(e);
    pp_free(e->jobs);
    pp_free(e->drivers);
    pthread_mutex_destroy(&e->run_mu);
    pthread_cond_destroy(&e->run_cv);
    pthread_cond_destroy(&e->done_cv);
    if (e->rt)
        for (int r = 0; r < e->R; r++)
            for (int p = 0; p < e->P; p++) release_stage(e, r, p);
    if (e->ev_caller) e->rt[0].b->ops->event_destroy(e->rt[0].b, e->ev_caller);
    if (e->ev_done) e->rt[e->P - 1].b->ops->event_destroy(e->rt[e->P - 1].b, e->ev_done);
    for (int i = 0; i < e->n_owned; i++) pp_backend_destroy(e->owned[i]);
    pp_free(e->owned);
    pp_free(e->rt);
    pp_plan_free(e->plan);
    pp_trace_free(e->trace);
    pp_free(e->trace_path);
    pthread_mutex_destroy(&e->mu);
    pp_free(e);
}

/* --measure: times every node on one device at the micro-batch size (a few
 * profiled runs on zeros), so placement balances measured, not estimated, cost. */
static pp_code measure_nodes(const pp_graph *g, const char *device, int M, double **out, pp_error *err) {
    pp_exec_options o = {device, 1, M, M, 2, 0, NULL, NULL, 0, 0, 0, PP_PREC_FP32};
    pp_exec *e = NULL;
    pp_code rc = pp_exec_create(g, &o, &e, err);
    if (rc) return pp_error_prefix(err, "--measure on %s", device), rc;
    void **in = pp_calloc((size_t)g->n_inputs + 1, sizeof(void *)),
         **outs = pp_calloc((size_t)g->n_outputs + 1, sizeof(void *));
    double *ms = pp_calloc((size_t)g->n_nodes, sizeof(double));
    if (!in || !outs || !ms) rc = pp_error_nomem(err, "--measure: out of memory");
    for (int i = 0; !rc && i < g->n_inputs; i++)
        if (!(in[i] = pp_calloc(1, (size_t)pp_exec_input_bytes(e, i, M) + 1)))
            rc = pp_error_nomem(err, "--measure: out of memory");
    for (int i = 0; !rc && i < g->n_outputs; i++)
        if (!(outs[i] = pp_calloc(1, (size_t)pp_exec_output_bytes(e, i, M) + 1)))
            rc = pp_error_nomem(err, "--measure: out of memory");
    if (!rc) rc = pp_exec_run(e, M, (const void *const *)in, outs, err); /* warm-up */
    if (!rc) pp_exec_set_profile(e, 1);
    for (int r = 0; !rc && r < 3; r++) rc = pp_exec_run(e, M, (const void *const *)in, outs, err);
    for (int i = 0; !rc && i < g->n_nodes; i++) {
        double t, f, b;
        long n;
        pp_exec_node_profile(e, i, &t, &n, &f, &b);
        ms[i] = n ? t / (double)n : 0;
    }
    for (int i = 0; in && i < g->n_inputs; i++) pp_free(in[i]);
    for (int i = 0; outs && i < g->n_outputs; i++) pp_free(outs[i]);
    pp_free(in);
    pp_free(outs);
    pp_exec_free(e);
    if (rc) {
        pp_free(ms);
        return rc;
    }
    *out = ms;
    return PP_OK;
}

static pp_code check_batch_axis(const pp_graph *g, pp_error *err) {
    for (int io = 0; io < 2; io++) {
        int n = io ? g->n_outputs : g->n_inputs;
        const int *ids = io ? g->outputs : g->inputs;
        for (int i = 0; i < n; i++) {
            const pp_tensor *t = &g->tensors[ids[i]];
            for (int d = 1; d < t->rank; d++)
                if (t->dims[d] < 0)
                    return pp_error_set(err, PP_ERR_UNSUPPORTED,
                                        "%s '%s': the batch is on axis %d; the engine splits batches on axis 0",
                                        io ? "output" : "input", t->name, d);
        }
    }
    return PP_OK;
}

static pp_code build_stage_rt(pp_exec *e, int r, int p, pp_error *err) {
    stage_rt *rt = RT(e, r, p);
    const pp_plan_stage *st = &e->plan->stages[p];
    pp_backend *b = rt->b;
    const pp_graph *g = e->g;
    pp_code rc;
    int K = e->K;
    rt->slot = pp_calloc((size_t)K, sizeof(char *));
    rt->weight = pp_calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof(void *));
    rt->ev_computed = pp_calloc((size_t)K, sizeof(pp_event *));
    rt->ev_arrived = pp_calloc((size_t)K, sizeof(pp_event *));
    rt->ev_staged = pp_calloc((size_t)K, sizeof(pp_event *));
    rt->ev_out = pp_calloc((size_t)K, sizeof(pp_event *));
    rt->staging = pp_calloc((size_t)K, sizeof(void *));
    if (!rt->slot || !rt->weight || !rt->ev_computed || !rt->ev_arrived || !rt->ev_staged || !rt->ev_out ||
        !rt->staging)
        return pp_error_nomem(err, "%s: out of memory for stage %d", b->name, p);
    if ((rc = b->ops->stream_create(b, &rt->compute, err)) || (rc = b->ops->stream_create(b, &rt->copy, err)))
        return rc;
    for (int k = 0; k < K; k++) {
        if ((rc = b->ops->event_create(b, &rt->ev_computed[k], err)) ||
            (rc = b->ops->event_create(b, &rt->ev_arrived[k], err)) ||
            (rc = b->ops->event_create(b, &rt->ev_staged[k], err)) ||
            (rc = b->ops->event_create(b, &rt->ev_out[k], err)))
            return rc;
    }
    /* Weights this stage reads: in place on host-memory devices, else uploaded
     * once into the front of the arena. */
    size_t wbytes = 0;
    size_t *woff =
        pp_malloc(sizeof(size_t) * (size_t)(g->n_tensors ? g->n_tensors : 1)); /* arena offset, or SIZE_MAX */
    if (!woff) return pp_error_nomem(err, "%s: out of memory for stage %d", b->name, p);
    for (int t = 0; t < g->n_tensors; t++) woff[t] = SIZE_MAX;
    for (int i = st->first; i < st->last; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) {
            int t = g->nodes[i].in[j];
            if (t < 0 || g->tensors[t].kind != PP_TENSOR_WEIGHT) continue;
            /* In place where the device reads host memory and the bytes are
             * aligned for their type (a converter may hand over weights borrowed
             * from a protobuf at any address); copied into the arena otherwise. */
            size_t es = pp_dtype_size(g->tensors[t].dtype);
            if (b->ops->host_memory && (uintptr_t)g->tensors[t].data % (es ? es : 1) == 0)
                rt->weight[t] = g->tensors[t].data;
            else if (woff[t] == SIZE_MAX) {
                woff[t] = wbytes;
                wbytes += (g->tensors[t].nbytes + 255) & ~(size_t)255;
            }
        }
    /* The workspace is sized by preparing at M before the arena exists: prepare
     * only reads params. */
    sized_launches *sl;
    rt->ws_bytes = 0;
    if ((rc = prepare_size(e, r, p, e->M, &sl, err))) {
        pp_free(woff);
        return rc;
    }
    size_t slot_bytes = (st->slot_bytes + 255) & ~(size_t)255;
    size_t ws = (rt->ws_bytes + 255) & ~(size_t)255;
    size_t total = wbytes + ws + slot_bytes * (size_t)K;
    if (e->mem_limit && total > e->mem_limit) {
        pp_free(woff);
        return pp_error_set(
            err, PP_ERR_NOMEM,
            "stage %d needs %zu bytes (weights %zu + workspace %zu + %d slots of %zu), the memory limit "
            "is %zu",
            p, total, wbytes, ws, K, slot_bytes, e->mem_limit);
    }
    if ((rc = b->ops->alloc(b, total ? total : 256, &rt->arena, err))) {
        pp_free(woff);
        return pp_error_prefix(err, "stage %d (weights %zu + workspace %zu + %d slots of %zu bytes)", p, wbytes, ws, K,
                               slot_bytes);
    }
    char *base = rt->arena;
    for (int t = 0; t < g->n_tensors && !rc; t++) {
        if (woff[t] == SIZE_MAX) continue;
        rt->weight[t] = base + woff[t];
        rc = b->ops->upload(b, rt->copy, base + woff[t], g->tensors[t].data, g->tensors[t].nbytes, err);
    }
    pp_free(woff);
    if (rc) return rc;
    rt->ws = ws ? base + wbytes : NULL;
    for (int k = 0; k < K; k++) rt->slot[k] = base + wbytes + ws + slot_bytes * (size_t)k;
    if ((rc = b->ops->stream_sync(b, rt->copy, err))) return rc;
    /* Now that pointers exist, resolve them in the launches made above. */
    free_sized(e, rt, p, sl);
    rt->n_sizes = 0;
    return prepare_size(e, r, p, e->M, &sl, err);
}

/* Launch records for micro-batch size `size` on replica r, stage p: params from
 * describe at that size, pointers into the slots, backend prepare. Cached; the
 * first run at a new size pays for it (warm-up), later runs do not. */
static pp_code prepare_size(pp_exec *e, int r, int p, int size, sized_launches **out, pp_error *err) {
    stage_rt *rt = RT(e, r, p);
    for (int s = 0; s < rt->n_sizes; s++)
        if (rt->sizes[s].size == size) {
            *out = &rt->sizes[s];
            return PP_OK;
        }
    if (rt->n_sizes == MAX_SIZES) {
        /* Evict the oldest size other than M (entry 0), once the streams have
         * passed its launches (a device run returns before they have). */
        pp_code src = rt->b->ops->stream_sync(rt->b, rt->compute, err);
        if (!src) src = rt->b->ops->stream_sync(rt->b, rt->copy, err);
        if (src) return src;
        free_sized(e, rt, p, &rt->sizes[1]);
        memmove(&rt->sizes[1], &rt->sizes[2], sizeof(sized_launches) * (MAX_SIZES - 2));
        rt->n_sizes--;
    }
    const pp_plan_stage *st = &e->plan->stages[p];
    const pp_graph *g = e->g;
    int nn = st->last - st->first;
    pp_launch *l = pp_calloc((size_t)(nn * e->K) + 1, sizeof(pp_launch));
    if (!l) return pp_error_nomem(err, "%s: out of memory preparing stage %d", rt->b->name, p);
    pp_code rc = PP_OK;
    for (int k = 0; k < e->K && !rc; k++) {
        for (int i = 0; i < nn && !rc; i++) {
            const pp_node *n = &g->nodes[st->first + i];
            pp_launch *L = &l[k * nn + i];
            pp_shape in[PP_MAX_IO], outs[PP_MAX_IO];
            const void *cdata[PP_MAX_IO];
            for (int j = 0; j < n->n_in; j++) {
                int t = n->in[j];
                if (t < 0) {
                    memset(&in[j], 0, sizeof in[j]);
                    cdata[j] = NULL;
                    L->in[j] = NULL;
                    continue;
                }
                const pp_tensor *tt = &g->tensors[t];
                in[j].dtype = tt->dtype;
                in[j].rank = tt->rank;
                pp_tensor_dims_at(tt, size, in[j].dims);
                cdata[j] = tt->kind == PP_TENSOR_WEIGHT ? tt->data : NULL;
                if (tt->kind == PP_TENSOR_WEIGHT) {
                    L->in[j] = rt->weight[t];
                    if (j < 32) L->weights |= 1u << j;
                } else L->in[j] = rt->slot[k] ? rt->slot[k] + st->offset[t] : NULL;
            }
            for (int j = 0; j < n->n_out; j++)
                L->out[j] = rt->slot[k] && n->out[j] >= 0 ? rt->slot[k] + st->offset[n->out[j]] : NULL;
            L->node = n;
            pp_cost c;
            rc = pp_op_describe(n, in, outs, &L->params, &c, cdata, err);
            if (rc) break;
            L->cost_flops = c.flops;
            L->cost_bytes = c.bytes;
            L->profile = e->profile;
            rc = rt->b->ops->prepare(rt->b, L, err);
            if (rc) break;
            if (L->ws_bytes > rt->ws_bytes) {
                if (rt->arena) {
                    rc = pp_error_set(err, PP_ERR_INTERNAL,
                                      "node '%s': workspace of %zu bytes at micro-batch %d exceeds the planned %zu",
                                      n->name, L->ws_bytes, size, rt->ws_bytes);
                    break;
                }
                rt->ws_bytes = L->ws_bytes;
            }
            L->ws = rt->ws;
        }
    }
    sized_launches sl = {size, l, NULL};
    /* Graphs: once the pointers are final, each slot's launches are captured and
     * from then on replayed as one unit. They only save launch overhead, so a
     * capture that fails turns them off for the engine, with a notice, and the
     * launches run one by one as they would without. */
    if (!rc && rt->arena && e->graphs) {
        pp_backend *b = rt->b;
        pp_error cerr;
        pp_code crc = PP_OK;
        sl.graph = pp_calloc((size_t)e->K, sizeof(void *));
        if (!sl.graph) crc = pp_error_nomem(&cerr, "out of memory for the graphs");
        for (int k = 0; k < e->K && !crc; k++) {
            crc = b->ops->capture_begin(b, rt->compute, &cerr);
            if (crc) break;
            for (int i = 0; i < nn && !crc; i++) crc = b->ops->launch(b, rt->compute, &l[k * nn + i], &cerr);
            pp_error tmp;
            pp_code erc = b->ops->capture_end(b, rt->compute, &sl.graph[k], crc ? &tmp : &cerr);
            if (!crc) crc = erc;
        }
        if (crc) {
            for (int k = 0; sl.graph && k < e->K; k++)
                if (sl.graph[k]) b->ops->graph_destroy(b, sl.graph[k]);
            pp_free(sl.graph);
            sl.graph = NULL;
            e->graphs = 0;
            snprintf(e->notice, sizeof e->notice,
                     "capturing stage %d at micro-batch %d failed (%.300s); running launch by launch", p, size,
                     cerr.msg);
        }
    }
    if (rc) {
        free_sized(e, rt, p, &sl);
        return rc;
    }
    rt->sizes[rt->n_sizes] = sl;
    *out = &rt->sizes[rt->n_sizes++];
    return PP_OK;
}

pp_code pp_exec_create(const pp_graph *g, const pp_exec_options *opt, pp_exec **out, pp_error *err) {
    *out = NULL;
    pp_exec_options o = *opt;
    if (o.stages <= 0) o.stages = 1;
    if (o.max_batch <= 0) o.max_batch = 1;
    if (o.microbatch <= 0) o.microbatch = o.max_batch;
    if (o.inflight <= 0) o.inflight = 2;
    if (o.inflight > 64) return pp_error_set(err, PP_ERR_INVALID_ARG, "--inflight %d is more than 64", o.inflight);
    pp_code rc = check_batch_axis(g, err);
    if (rc) return rc;
    pp_exec *e = pp_calloc(1, sizeof *e);
    if (!e) return pp_error_nomem(err, "engine: out of memory");
    pthread_mutex_init(&e->mu, NULL);
    pthread_mutex_init(&e->run_mu, NULL);
    pthread_cond_init(&e->run_cv, NULL);
    pthread_cond_init(&e->done_cv, NULL);
    e->g = g;
    e->P = o.stages;
    e->K = o.inflight;
    e->M = o.microbatch;
    e->mem_limit = o.mem_limit;
    char **names = NULL;
    int nd = 0;
    if ((rc = parse_devices(o.devices, &names, &nd, &e->fell_back, err))) goto fail;
    if (nd % e->P != 0) {
        rc = pp_error_set(err, PP_ERR_INVALID_ARG, "%d device%s cannot be split into replicas of %d stages", nd,
                          nd == 1 ? "" : "s", e->P);
        goto fail;
    }
    e->R = nd / e->P;
    e->rt = pp_calloc((size_t)nd, sizeof(stage_rt));
    e->owned = pp_calloc((size_t)nd, sizeof(pp_backend *));
    if (!e->rt || !e->owned) {
        rc = pp_error_nomem(err, "engine: out of memory");
        goto fail;
    }
    for (int i = 0; i < nd; i++) {
        /* Each entry gets its own backend instance, so `cuda:0,cuda:0` is two
         * stages on one GPU with their own streams. */
        if ((rc = pp_backend_create(names[i], &e->owned[i], err))) goto fail;
        e->n_owned++;
        e->rt[i].b = e->owned[i];
        pp_backend *b = e->owned[i];
        if (b->ops->set_precision) rc = b->ops->set_precision(b, o.precision, err);
        else if (o.precision != PP_PREC_FP32)
            rc = pp_error_set(err, PP_ERR_UNSUPPORTED, "%s cannot compute in %s", b->name,
                              pp_precision_name(o.precision));
        if (rc) goto fail;
    }
    {
        /* Devices whose kernels run on the host share its cores. */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        int share = cores > nd ? (int)(cores / nd) : 1;
        for (int i = 0; i < nd; i++)
            if (e->owned[i]->ops->set_threads) e->owned[i]->ops->set_threads(e->owned[i], share);
    }
    /* Graphs by default where launches cost most (CUDA); asked for or not. */
    e->graphs = o.graphs < 0 ? strcmp(e->owned[0]->ops->kind, "cuda") == 0 : o.graphs;
    if (e->graphs && !e->owned[0]->ops->capture_begin) {
        snprintf(e->notice, sizeof e->notice, "%s cannot capture launches; running without graphs", e->owned[0]->name);
        e->graphs = 0;
    }
    for (int i = 1; i < nd; i++)
        if (strcmp(e->owned[i]->ops->kind, e->owned[0]->ops->kind) != 0) {
            rc = pp_error_set(err, PP_ERR_INVALID_ARG, "devices %s and %s are of different kinds; use one kind",
                              e->owned[0]->name, e->owned[i]->name);
            goto fail;
        }
    {
        size_t *limit = pp_calloc((size_t)e->P, sizeof(size_t));
        if (!limit) {
            rc = pp_error_nomem(err, "engine: out of memory");
            goto fail;
        }
        for (int p = 0; p < e->P; p++) {
            size_t avail = e->rt[p].b->ops->mem_available(e->rt[p].b);
            if (o.mem_limit && (!avail || o.mem_limit < avail)) avail = o.mem_limit;
            limit[p] = avail;
        }
        double *node_ms = NULL;
        if (o.measure && e->P > 1 && g->n_nodes > 0) {
            rc = measure_nodes(g, names[0], e->M, &node_ms, err);
            if (rc) {
                pp_free(limit);
                goto fail;
            }
        }
        /* A plan that does not fit tries again with fewer micro-batches in
         * flight per stage, down to one, and says so. */
        for (;;) {
            const char *devnames[PP_MAX_IO];
            for (int p = 0; p < e->P && p < PP_MAX_IO; p++) devnames[p] = e->rt[p].b->name;
            pp_plan_options po = {e->P, e->M, o.split, node_ms, limit, e->K, e->P <= PP_MAX_IO ? devnames : NULL};
            rc = pp_plan_build(g, &po, &e->plan, err);
            if (rc != PP_ERR_NOMEM || e->K == 1 || !strstr(err->msg, "does not fit")) break;
            snprintf(e->notice, sizeof e->notice, "%s; retried with %d micro-batch%s in flight per stage", err->msg,
                     e->K - 1, e->K - 1 == 1 ? "" : "es");
            e->K--;
        }
        pp_free(limit);
        pp_free(node_ms);
        if (rc) goto fail;
    }
    for (int r = 0; r < e->R && !rc; r++)
        for (int p = 0; p < e->P && !rc; p++) {
            rc = build_stage_rt(e, r, p, err);
            if (rc) pp_error_prefix(err, "%s", RT(e, r, p)->b->name);
        }
    if (rc) goto fail;
    if ((rc = e->rt[0].b->ops->event_create(e->rt[0].b, &e->ev_caller, err)) ||
        (rc = e->rt[e->P - 1].b->ops->event_create(e->rt[e->P - 1].b, &e->ev_done, err)))
        goto fail;
    /* Boundary copies go device to device where the devices share memory or
     * peer access was asked for and granted; otherwise through pinned staging. */
    for (int r = 0; r < e->R; r++)
        for (int p = 0; p + 1 < e->P; p++) {
            stage_rt *a = RT(e, r, p), *b = RT(e, r, p + 1);
            int peer = a->b->ops->host_memory && b->b->ops->host_memory;
            if (!peer && o.p2p && a->b->ops->enable_peer && a->b->ops->enable_peer(a->b, b->b, NULL) == PP_OK &&
                b->b->ops->enable_peer(b->b, a->b, NULL) == PP_OK)
                peer = 1;
            a->peer = peer;
            if (!peer)
                for (int k = 0; k < e->K; k++)
                    if ((rc = a->b->ops->host_alloc(a->b,
                                                    e->plan->stages[p].out_bytes ? e->plan->stages[p].out_bytes : 256,
                                                    &a->staging[k], err)))
                        goto fail;
        }
    if (o.trace) {
        e->trace_path = pp_malloc(strlen(o.trace) + 1);
        if (!e->trace_path || pp_trace_new(&e->trace, err)) {
            rc = e->trace_path ? PP_ERR_NOMEM : pp_error_nomem(err, "engine: out of memory");
            goto fail;
        }
        strcpy(e->trace_path, o.trace);
    }
    e->jobs = pp_calloc((size_t)e->R, sizeof(replica_job));
    e->drivers = pp_calloc((size_t)e->R, sizeof(pthread_t));
    if (!e->jobs || !e->drivers) {
        rc = pp_error_nomem(err, "engine: out of memory for %d replica drivers", e->R);
        goto fail;
    }
    for (int r = 0; r < e->R; r++) e->jobs[r] = (replica_job){e, r, PP_OK, {PP_OK, ""}, 0};
    for (int r = 1; r < e->R; r++) {
        if (pthread_create(&e->drivers[r], NULL, driver_main, &e->jobs[r]) != 0) {
            rc = pp_error_set(err, PP_ERR_DEVICE, "engine: cannot start the thread driving replica %d", r);
            goto fail;
        }
        e->n_drivers = r;
    }
    for (int i = 0; i < nd; i++) pp_free(names[i]);
    pp_free(names);
    *out = e;
    return PP_OK;
fail:
    for (int i = 0; names && i < nd; i++) pp_free(names[i]);
    pp_free(names);
    pp_exec_free(e);
    return rc;
}

/* ---- running ---------------------------------------------------------------- */

static size_t row_bytes(const pp_tensor *t) { return (size_t)pp_tensor_bytes_at(t, 1); }
static int has_batch(const pp_tensor *t) { return t->rank > 0 && t->dims[0] < 0; }

/* NVTX-style ranges where the backend has them: "stage 1 mb 3 (cuda:1)". */
static void range_push(pp_backend *b, const char *fmt, int a, int c) {
    if (!b->ops->range_push) return;
    char name[96];
    snprintf(name, sizeof name, fmt, a, c, b->name);
    b->ops->range_push(b, name);
}

static void range_pop(pp_backend *b) {
    if (b->ops->range_pop) b->ops->range_pop(b);
}

/* Makes s wait until stage p's slot k is free: its previous micro-batch there
 * has been computed and passed on, to the next stage or downloaded (the planner
 * may put a stage's inputs where its outputs were, so an incoming copy must not
 * overtake the outgoing one). Host runs also wait on the host before reusing a
 * slot; device runs rely on this alone. */
static pp_event *passed_on(pp_exec *e, int r, int p, int k) {
    return p + 1 < e->P ? RT(e, r, p + 1)->ev_arrived[k] : RT(e, r, p)->ev_out[k];
}

static pp_code wait_slot_free(pp_exec *e, int r, int p, int k, pp_stream *s, pp_error *err) {
    pp_backend *b = RT(e, r, p)->b;
    pp_code rc = b->ops->stream_wait(b, s, RT(e, r, p)->ev_computed[k], err);
    if (!rc) rc = b->ops->stream_wait(b, s, passed_on(e, r, p, k), err);
    return rc;
}

/* Enqueues micro-batch `mb` (rows [off, off+size)) on replica r, slot k. */
static pp_code enqueue_mb(pp_exec *e, int r, int k, int mb, int64_t off, int size, pp_error *err) {
    const pp_graph *g = e->g;
    pp_code rc = PP_OK;
    for (int p = 0; p < e->P && !rc; p++) {
        stage_rt *rt = RT(e, r, p);
        pp_backend *b = rt->b;
        const pp_plan_stage *st = &e->plan->stages[p];
        sized_launches *sl;
        if ((rc = prepare_size(e, r, p, size, &sl, err))) return rc;
        int nn = st->last - st->first;
        unsigned span = 0;
        if (p == 0) {
            /* Inputs: the slot's previous micro-batch must have finished with it. */
            rc = wait_slot_free(e, r, 0, k, rt->copy, err);
            if (!rc && e->trace) rc = pp_trace_begin(e->trace, b, rt->copy, r, 0, "upload", mb, &span, err);
            for (int i = 0; i < g->n_inputs && !rc; i++) {
                const pp_tensor *t = &g->tensors[g->inputs[i]];
                if (st->offset[g->inputs[i]] < 0) continue;
                size_t rb = row_bytes(t);
                const char *src = (const char *)e->inputs[i] + (has_batch(t) ? (size_t)off * rb : 0);
                size_t n = has_batch(t) ? rb * (size_t)size : rb;
                void *dst = rt->slot[k] + st->offset[g->inputs[i]];
                rc = e->dev_io ? b->ops->copy(b, rt->copy, dst, src, n, err)
                               : b->ops->upload(b, rt->copy, dst, src, n, err);
            }
            if (!rc && e->trace) rc = pp_trace_end(e->trace, b, rt->copy, span, err);
            if (!rc) rc = b->ops->event_record(b, rt->ev_arrived[k], rt->copy, err);
        }
        /* Compute: after the inputs arrived, and after the previous micro-batch in
         * this slot has been copied out (next stage) or downloaded (last stage). */
        if (!rc) rc = b->ops->stream_wait(b, rt->compute, rt->ev_arrived[k], err);
        if (!rc) rc = b->ops->stream_wait(b, rt->compute, passed_on(e, r, p, k), err);
        if (!rc && e->trace) rc = pp_trace_begin(e->trace, b, rt->compute, r, p, "compute", mb, &span, err);
        range_push(b, "stage %d mb %d (%s)", p, mb);
        /* Profiling times launches one by one, and per-node profiler ranges
         * (NVTX) come from launches: both bypass the graphs. */
        int one_by_one = !sl->graph || e->profile || (b->ops->launch_ranges && b->ops->launch_ranges(b));
        if (!one_by_one) rc = b->ops->replay(b, rt->compute, sl->graph[k], err);
        for (int i = 0; i < nn && !rc && one_by_one; i++) rc = b->ops->launch(b, rt->compute, &sl->l[k * nn + i], err);
        range_pop(b);
        if (!rc && e->trace) rc = pp_trace_end(e->trace, b, rt->compute, span, err);
        if (!rc) rc = b->ops->event_record(b, rt->ev_computed[k], rt->compute, err);
        if (rc) break;
        if (p + 1 < e->P) {
            stage_rt *nx = RT(e, r, p + 1);
            const pp_plan_stage *ns = &e->plan->stages[p + 1];
            pp_backend *nb = nx->b;
            range_push(nb, "copy to stage %d mb %d (%s)", p + 1, mb);
            /* The next stage's slot k takes this micro-batch once its previous
             * one there has been computed and passed on. */
            if (rt->peer) {
                rc = nb->ops->stream_wait(nb, nx->copy, rt->ev_computed[k], err);
                if (!rc) rc = wait_slot_free(e, r, p + 1, k, nx->copy, err);
                if (!rc && e->trace) rc = pp_trace_begin(e->trace, nb, nx->copy, r, p + 1, "copy in", mb, &span, err);
                for (int i = 0; i < st->n_out && !rc; i++) {
                    int t = st->out_ids[i];
                    size_t n = (size_t)pp_tensor_bytes_at(&g->tensors[t], size);
                    rc = nb->ops->copy_peer(nb, nx->copy, nx->slot[k] + ns->offset[t], b, rt->slot[k] + st->offset[t],
                                            n, err);
                }
                if (!rc && e->trace) rc = pp_trace_end(e->trace, nb, nx->copy, span, err);
            } else {
                /* Staged: down on this stage's copy stream, up on the next one's. */
                rc = b->ops->stream_wait(b, rt->copy, rt->ev_computed[k], err);
                if (!rc) rc = b->ops->stream_wait(b, rt->copy, nx->ev_arrived[k], err);
                size_t pos = 0;
                for (int i = 0; i < st->n_out && !rc; i++) {
                    int t = st->out_ids[i];
                    size_t n = (size_t)pp_tensor_bytes_at(&g->tensors[t], size);
                    rc = b->ops->download(b, rt->copy, (char *)rt->staging[k] + pos, rt->slot[k] + st->offset[t], n,
                                          err);
                    pos += n;
                }
                if (!rc) rc = b->ops->event_record(b, rt->ev_staged[k], rt->copy, err);
                if (!rc) rc = nb->ops->stream_wait(nb, nx->copy, rt->ev_staged[k], err);
                if (!rc) rc = wait_slot_free(e, r, p + 1, k, nx->copy, err);
                if (!rc && e->trace) rc = pp_trace_begin(e->trace, nb, nx->copy, r, p + 1, "copy in", mb, &span, err);
                pos = 0;
                for (int i = 0; i < st->n_out && !rc; i++) {
                    int t = st->out_ids[i];
                    size_t n = (size_t)pp_tensor_bytes_at(&g->tensors[t], size);
                    rc = nb->ops->upload(nb, nx->copy, nx->slot[k] + ns->offset[t], (char *)rt->staging[k] + pos, n,
                                         err);
                    pos += n;
                }
                if (!rc && e->trace) rc = pp_trace_end(e->trace, nb, nx->copy, span, err);
            }
            if (!rc) rc = nb->ops->event_record(nb, nx->ev_arrived[k], nx->copy, err);
            range_pop(nb);
        } else {
            rc = b->ops->stream_wait(b, rt->copy, rt->ev_computed[k], err);
            if (!rc && e->trace) rc = pp_trace_begin(e->trace, b, rt->copy, r, p, "download", mb, &span, err);
            for (int i = 0; i < g->n_outputs && !rc; i++) {
                int t = g->outputs[i];
                const pp_tensor *tt = &g->tensors[t];
                size_t rb = row_bytes(tt);
                if (!has_batch(tt) && off != 0) continue; /* batch-free outputs: once */
                char *dst = (char *)e->outputs[i] + (has_batch(tt) ? (size_t)off * rb : 0);
                size_t n = has_batch(tt) ? rb * (size_t)size : rb;
                const void *src = tt->kind == PP_TENSOR_WEIGHT ? tt->data : rt->slot[k] + st->offset[t];
                if (tt->kind == PP_TENSOR_WEIGHT && !b->ops->host_memory) src = rt->weight[t];
                if (!src && !e->dev_io) {
                    memcpy(dst, tt->data, n);
                    continue;
                }
                if (!src) rc = b->ops->upload(b, rt->copy, dst, tt->data, n, err);
                else if (e->dev_io) rc = b->ops->copy(b, rt->copy, dst, src, n, err);
                else rc = b->ops->download(b, rt->copy, dst, src, n, err);
            }
            if (!rc && e->trace) rc = pp_trace_end(e->trace, b, rt->copy, span, err);
            if (!rc) rc = b->ops->event_record(b, rt->ev_out[k], rt->copy, err);
        }
    }
    return rc;
}

static void drain_replica(pp_exec *e, int r, pp_code *rc, pp_error *err);

static void *replica_main(void *arg) {
    replica_job *j = arg;
    pp_exec *e = j->e;
    int r = j->r, used = 0;
    stage_rt *last = RT(e, r, e->P - 1);
    for (;;) {
        if (atomic_load(&e->cancel)) {
            j->rc = pp_error_set(&j->err, PP_ERR_CANCELLED, "run cancelled");
            break;
        }
        int mb = atomic_fetch_add(&e->next_mb, 1);
        if (mb >= e->n_mb) break;
        int k = used % e->K;
        /* Take a micro-batch only with a free slot: waiting here, outside the
         * pipeline, is what hands a slower replica fewer micro-batches. */
        if (used >= e->K && (j->rc = last->b->ops->event_sync(last->b, last->ev_out[k], &j->err))) break;
        int64_t off = (int64_t)mb * e->M;
        int size = (int)(e->batch - off < e->M ? e->batch - off : e->M);
        if ((j->rc = enqueue_mb(e, r, k, mb, off, size, &j->err))) break;
        used++;
    }
    /* Drain every stream of this replica; the first error wins. */
    drain_replica(e, r, &j->rc, &j->err);
    return NULL;
}

static void *driver_main(void *arg) {
    replica_job *j = arg;
    pp_exec *e = j->e;
    for (;;) {
        pthread_mutex_lock(&e->run_mu);
        while (j->seen == e->run_gen && !e->quit) pthread_cond_wait(&e->run_cv, &e->run_mu);
        if (e->quit) {
            pthread_mutex_unlock(&e->run_mu);
            return NULL;
        }
        j->seen = e->run_gen;
        pthread_mutex_unlock(&e->run_mu);
        replica_main(j);
        pthread_mutex_lock(&e->run_mu);
        if (--e->pending == 0) pthread_cond_signal(&e->done_cv);
        pthread_mutex_unlock(&e->run_mu);
    }
}

/* Prepares the micro-batch sizes a run of `batch` needs (e->mu held). Any
 * replica may draw the short last micro-batch: its size is prepared for all of
 * them, before the drivers start, so they only ever look up. */
static pp_code prepare_batch(pp_exec *e, int64_t batch, pp_error *err) {
    int sizes[2] = {batch >= e->M ? e->M : 0, (int)(batch % e->M)};
    for (int i = 0; i < 2; i++)
        for (int r = 0; sizes[i] && r < e->R; r++)
            for (int p = 0; p < e->P; p++) {
                sized_launches *sl;
                pp_code rc = prepare_size(e, r, p, sizes[i], &sl, err);
                if (rc) return rc;
            }
    return PP_OK;
}

/* What every run does first: checks the buffers, takes the engine, and prepares
 * the micro-batch sizes this batch needs. Returns with e->mu held on success. */
static pp_code begin_run(pp_exec *e, int64_t batch, const void *const *inputs, void *const *outputs, pp_error *err) {
    if (batch < 1) return pp_error_set(err, PP_ERR_INVALID_ARG, "batch %lld: need at least 1", (long long)batch);
    for (int i = 0; i < e->g->n_inputs; i++)
        if (!inputs[i])
            return pp_error_set(err, PP_ERR_INVALID_ARG, "input %d ('%s') is missing", i,
                                e->g->tensors[e->g->inputs[i]].name);
    for (int i = 0; i < e->g->n_outputs; i++)
        if (!outputs[i])
            return pp_error_set(err, PP_ERR_INVALID_ARG, "output %d ('%s') has no buffer", i,
                                e->g->tensors[e->g->outputs[i]].name);
    pthread_mutex_lock(&e->mu);
    atomic_store(&e->cancel, 0);
    e->inputs = inputs;
    e->outputs = outputs;
    e->batch = batch;
    e->n_mb = (int)((batch + e->M - 1) / e->M);
    atomic_store(&e->next_mb, 0);
    pp_code prc = prepare_batch(e, batch, err);
    if (prc) pthread_mutex_unlock(&e->mu);
    return prc;
}

pp_code pp_exec_prepare(pp_exec *e, int64_t batch, pp_error *err) {
    if (batch < 1) return pp_error_set(err, PP_ERR_INVALID_ARG, "batch %lld: need at least 1", (long long)batch);
    pthread_mutex_lock(&e->mu);
    pp_code rc = prepare_batch(e, batch, err);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

int pp_exec_size_capacity(const pp_exec *e) { return MAX_SIZES; }
int pp_exec_microbatch(const pp_exec *e) { return e->M; }

/* Waits for every stream of replica r; the first error goes to *rc / *err. */
static void drain_replica(pp_exec *e, int r, pp_code *rc, pp_error *err) {
    for (int p = 0; p < e->P; p++) {
        stage_rt *rt = RT(e, r, p);
        pp_stream *ss[2] = {rt->compute, rt->copy};
        for (int i = 0; i < 2; i++) {
            pp_error tmp;
            pp_code a = rt->b->ops->stream_sync(rt->b, ss[i], &tmp);
            if (a && !*rc) {
                *rc = a;
                if (err) *err = tmp;
            }
        }
    }
}

pp_code pp_exec_run(pp_exec *e, int64_t batch, const void *const *inputs, void *const *outputs, pp_error *err) {
    pp_code rc = begin_run(e, batch, inputs, outputs, err);
    if (rc) return rc;
    for (int r = 0; r < e->R; r++) {
        e->jobs[r].rc = PP_OK;
        e->jobs[r].err.code = PP_OK;
    }
    pthread_mutex_lock(&e->run_mu);
    e->run_gen++;
    e->pending = e->R - 1;
    pthread_cond_broadcast(&e->run_cv);
    pthread_mutex_unlock(&e->run_mu);
    pp_backend *b0 = e->rt[0].b;
    range_push(b0, "run: %d micro-batches over %d replicas", e->n_mb, e->R);
    replica_main(&e->jobs[0]);
    range_pop(b0);
    pthread_mutex_lock(&e->run_mu);
    while (e->pending > 0) pthread_cond_wait(&e->done_cv, &e->run_mu);
    pthread_mutex_unlock(&e->run_mu);
    for (int r = 0; r < e->R; r++)
        if (e->jobs[r].rc) {
            rc = e->jobs[r].rc;
            if (err) *err = e->jobs[r].err;
            break;
        }
    /* Events keep counting across runs; slots are free again after the drain. */
    pthread_mutex_unlock(&e->mu);
    return rc;
}

pp_code pp_exec_run_device(pp_exec *e, int64_t batch, const void *const *inputs, void *const *outputs, void *stream,
                           pp_error *err) {
    if (e->R != 1)
        return pp_error_set(err, PP_ERR_INVALID_ARG,
                            "device buffers live on one device, but this engine has %d replicas (%s, %s, ...); build "
                            "it with one replica",
                            e->R, RT(e, 0, 0)->b->name, RT(e, 1, 0)->b->name);
    pp_code rc = begin_run(e, batch, inputs, outputs, err);
    if (rc) return rc;
    stage_rt *first = RT(e, 0, 0), *last = RT(e, 0, e->P - 1);
    e->dev_io = 1;
    range_push(first->b, "device run: %d micro-batches over %d stages (%s)", e->n_mb, e->P);
    /* The inputs are ready where the caller's stream is now; the caller's stream
     * goes on once the last output is written. Slots are reused in stream order
     * (each stage waits on the events of the micro-batch before it in that slot),
     * so nothing here waits on the host. */
    rc = first->b->ops->native_record(first->b, e->ev_caller, stream, err);
    if (!rc) rc = first->b->ops->stream_wait(first->b, first->copy, e->ev_caller, err);
    for (int mb = 0; mb < e->n_mb && !rc; mb++) {
        if (atomic_load(&e->cancel)) {
            rc = pp_error_set(err, PP_ERR_CANCELLED, "run cancelled");
            break;
        }
        int64_t off = (int64_t)mb * e->M;
        int size = (int)(e->batch - off < e->M ? e->batch - off : e->M);
        rc = enqueue_mb(e, 0, mb % e->K, mb, off, size, err);
    }
    /* Even after an error the caller's stream must not run ahead of what was
     * enqueued: it still waits for the end. */
    pp_error tmp;
    pp_code a = last->b->ops->event_record(last->b, e->ev_done, last->copy, rc ? &tmp : err);
    if (!a) a = last->b->ops->native_wait(last->b, stream, e->ev_done, rc ? &tmp : err);
    if (!rc) rc = a;
    range_pop(first->b);
    /* Where the device is the host the caller's "stream" is its thread: the run
     * is over on return, and errors raised by kernels are reported now. */
    if (last->b->ops->host_memory) drain_replica(e, 0, &rc, err);
    e->dev_io = 0;
    pthread_mutex_unlock(&e->mu);
    return rc;
}

pp_code pp_exec_synchronize(pp_exec *e, pp_error *err) {
    pp_code rc = PP_OK;
    pthread_mutex_lock(&e->mu);
    for (int r = 0; r < e->R; r++) drain_replica(e, r, &rc, err);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

static stage_rt *io_stage(pp_exec *e, int side) { return RT(e, 0, side ? e->P - 1 : 0); }

pp_code pp_exec_io_alloc(pp_exec *e, int side, size_t bytes, void **ptr, pp_error *err) {
    pp_backend *b = io_stage(e, side)->b;
    return b->ops->alloc(b, bytes ? bytes : 1, ptr, err);
}

void pp_exec_io_free(pp_exec *e, int side, void *ptr) {
    pp_backend *b = io_stage(e, side)->b;
    if (ptr) b->ops->free(b, ptr);
}

pp_code pp_exec_io_copy(pp_exec *e, int side, int to_device, void *dst, const void *src, size_t n, pp_error *err) {
    stage_rt *rt = io_stage(e, side);
    pthread_mutex_lock(&e->mu);
    pp_code rc = to_device ? rt->b->ops->upload(rt->b, rt->copy, dst, src, n, err)
                           : rt->b->ops->download(rt->b, rt->copy, dst, src, n, err);
    if (!rc) rc = rt->b->ops->stream_sync(rt->b, rt->copy, err);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

void pp_exec_cancel(pp_exec *e) { atomic_store(&e->cancel, 1); }

const char *pp_exec_notice(const pp_exec *e) { return e->notice[0] ? e->notice : NULL; }

int pp_exec_graphs(const pp_exec *e) { return e->graphs; }

void pp_exec_set_profile(pp_exec *e, int on) {
    pthread_mutex_lock(&e->mu);
    e->profile = on;
    for (int i = 0; i < e->R * e->P; i++) {
        stage_rt *rt = &e->rt[i];
        int nn = e->plan->stages[i % e->P].last - e->plan->stages[i % e->P].first;
        for (int s = 0; s < rt->n_sizes; s++)
            for (int k = 0; k < nn * e->K; k++) {
                rt->sizes[s].l[k].profile = on;
                rt->sizes[s].l[k].prof_ms = 0;
                rt->sizes[s].l[k].prof_n = 0;
            }
    }
    pthread_mutex_unlock(&e->mu);
}

void pp_exec_node_profile(pp_exec *e, int node, double *ms, long *count, double *flops, double *bytes) {
    *ms = 0;
    *count = 0;
    *flops = *bytes = 0;
    pthread_mutex_lock(&e->mu);
    for (int i = 0; i < e->R * e->P; i++) {
        stage_rt *rt = &e->rt[i];
        const pp_plan_stage *st = &e->plan->stages[i % e->P];
        if (node < st->first || node >= st->last) continue;
        int nn = st->last - st->first;
        for (int s = 0; s < rt->n_sizes; s++)
            for (int k = 0; k < e->K; k++) {
                const pp_launch *l = &rt->sizes[s].l[k * nn + node - st->first];
                *ms += l->prof_ms;
                *count += l->prof_n;
                *flops += l->cost_flops * (double)l->prof_n;
                *bytes += l->cost_bytes * (double)l->prof_n;
            }
    }
    pthread_mutex_unlock(&e->mu);
}

pp_code pp_exec_utilization(pp_exec *e, double *busy_ms, double *wall_ms, pp_error *err) {
    if (!e->trace) return pp_error_set(err, PP_ERR_INVALID_ARG, "utilization needs an engine built with a trace");
    *busy_ms = 0;
    for (int r = 0; r < e->R; r++)
        for (int p = 0; p < e->P; p++) *busy_ms += pp_trace_busy_ms(e->trace, r, p);
    *wall_ms = pp_trace_wall_ms(e->trace);
    pp_trace_reset(e->trace);
    return PP_OK;
}

pp_code pp_exec_phases(pp_exec *e, double ms[4], pp_error *err) {
    if (!e->trace) return pp_error_set(err, PP_ERR_INVALID_ARG, "phase times need an engine built with a trace");
    static const char *const what[4] = {"upload", "compute", "copy in", "download"};
    for (int i = 0; i < 4; i++) ms[i] = pp_trace_sum_ms(e->trace, what[i]);
    pp_trace_reset(e->trace);
    return PP_OK;
}

pp_code pp_exec_write_trace(pp_exec *e, int *spans, int *max_concurrent, pp_error *err) {
    if (!e->trace) return PP_OK;
    pp_code rc = pp_trace_write(e->trace, e->trace_path, err);
    if (!rc && spans && max_concurrent) rc = pp_trace_summary(e->trace, spans, max_concurrent, err);
    return rc;
}

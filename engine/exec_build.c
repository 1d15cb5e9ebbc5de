/* exec_build.c: building an engine: devices, placement, per-stage arenas,
 * weights, streams and events, launch records and graphs (exec.h). */
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec_internal.h"

/* The symbols' values at a batch when the others are fixed (their ranges' max
 * otherwise: callers with symbols give shapes instead). */
static void at_batch(const pp_exec *e, int64_t batch, int64_t *sym) {
    memcpy(sym, e->hi, sizeof e->hi);
    if (e->g->sym.batch >= 0) sym[e->g->sym.batch] = batch;
}

void pp_exec_tensor_dims(const pp_exec *e, int io, int i, const int64_t *sym, int64_t *dims) {
    const pp_tensor *t = &e->g->tensors[io ? e->g->outputs[i] : e->g->inputs[i]];
    pp_dimenv env = {{0}, 1, NULL, 0};
    if (pp_dimenv_set(&env, &e->g->sym, sym, NULL)) pp_dimenv_free(&env); /* slots then read INT64_MAX */
    pp_tensor_dims_env(t, &env, dims);
    pp_dimenv_free(&env);
}

uint64_t pp_exec_tensor_bytes(const pp_exec *e, int io, int i, const int64_t *sym) {
    const pp_tensor *t = &e->g->tensors[io ? e->g->outputs[i] : e->g->inputs[i]];
    pp_dimenv env = {{0}, 1, NULL, 0};
    uint64_t n = pp_dimenv_set(&env, &e->g->sym, sym, NULL) ? 0 : pp_tensor_bytes_env(t, &env);
    pp_dimenv_free(&env);
    return n;
}

uint64_t pp_exec_input_bytes(const pp_exec *e, int i, int64_t batch) {
    int64_t sym[PP_MAX_SYMBOLS];
    at_batch(e, batch, sym);
    return e->g->sym.n_prog ? pp_exec_tensor_bytes(e, 0, i, sym)
                            : pp_tensor_bytes_at(&e->g->tensors[e->g->inputs[i]], batch);
}
uint64_t pp_exec_output_bytes(const pp_exec *e, int i, int64_t batch) {
    int64_t sym[PP_MAX_SYMBOLS];
    at_batch(e, batch, sym);
    return e->g->sym.n_prog ? pp_exec_tensor_bytes(e, 1, i, sym)
                            : pp_tensor_bytes_at(&e->g->tensors[e->g->outputs[i]], batch);
}

pp_code pp_exec_bind(const pp_exec *e, const int64_t *const *in_dims, int64_t *sym, pp_error *err) {
    /* A run's batch may exceed the engine's max: it splits into micro-batches. */
    int64_t hi[PP_MAX_SYMBOLS];
    memcpy(hi, e->hi, sizeof hi);
    if (e->g->sym.batch >= 0) hi[e->g->sym.batch] = e->g->sym.sym[e->g->sym.batch].max;
    return pp_graph_bind_inputs(e->g, in_dims, e->lo, hi, sym, NULL, err);
}

void pp_exec_ranges(const pp_exec *e, int64_t *lo, int64_t *hi) {
    memcpy(lo, e->lo, sizeof e->lo);
    memcpy(hi, e->hi, sizeof e->hi);
}
const pp_plan *pp_exec_plan(const pp_exec *e) { return e->plan; }
const pp_graph *pp_exec_graph(const pp_exec *e) { return e->g; }
pp_format_report pp_exec_formats(const pp_exec *e) { return e->formats; }
int pp_exec_replicas(const pp_exec *e) { return e->R; }
int pp_exec_fell_back(const pp_exec *e) { return e->fell_back; }
const char *pp_exec_device(const pp_exec *e, int r, int s) { return e->rt[r * e->P + s].b->name; }

int pp_affinity_cores(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

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

/* Frees one size's launch records and graphs; the stage's streams must have
 * passed them. */
void pp_exec_free_sized(pp_exec *e, stage_rt *rt, int p, sized_launches *sl) {
    pp_backend *b = rt->b;
    int nn = e->plan->stages[p].last - e->plan->stages[p].first;
    for (int k = 0; sl->graph && k < e->K; k++)
        if (sl->graph[k]) b->ops->graph_destroy(b, sl->graph[k]);
    pp_free(sl->graph);
    sl->graph = NULL;
    for (int i = 0; sl->l && i < nn * e->K; i++) b->ops->release(b, &sl->l[i]);
    pp_free(sl->l);
    sl->l = NULL;
    pp_dimenv_free(&sl->env);
}

static void release_stage(pp_exec *e, int r, int p) {
    stage_rt *rt = RT(e, r, p);
    pp_backend *b = rt->b;
    if (!b) return;
    if (rt->compute) b->ops->stream_sync(b, rt->compute, NULL);
    if (rt->copy) b->ops->stream_sync(b, rt->copy, NULL);
    /* launches exist only once the plan does */
    for (int s = 0; s < rt->n_sizes; s++) pp_exec_free_sized(e, rt, p, &rt->sizes[s]);
    for (int k = 0; k < e->K; k++) {
        if (rt->ev_computed) b->ops->event_destroy(b, rt->ev_computed[k]);
        if (rt->ev_arrived) b->ops->event_destroy(b, rt->ev_arrived[k]);
        if (rt->ev_staged) b->ops->event_destroy(b, rt->ev_staged[k]);
        if (rt->ev_out) b->ops->event_destroy(b, rt->ev_out[k]);
        if (rt->staging && rt->staging[k]) b->ops->host_free(b, rt->staging[k]);
        if (rt->pin_in && rt->pin_in[k]) b->ops->host_free(b, rt->pin_in[k]);
        if (rt->pin_out && rt->pin_out[k]) b->ops->host_free(b, rt->pin_out[k]);
    }
    pp_free(rt->pin_in);
    pp_free(rt->pin_out);
    pp_free(rt->out_copy);
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
    pp_graph_free(e->planned);
    pp_dimenv_free(&e->max_env);
    pp_dimenv_free(&e->row_env);
    pp_free(e->in_rows);
    pp_free(e->out_rows);
    pp_free(e->trace_path);
    pthread_mutex_destroy(&e->mu);
    pp_free(e);
}

/* --measure: times every node on one device at the micro-batch size (a few
 * profiled runs on zeros at the largest shapes), so placement balances
 * measured, not estimated, cost. */
static pp_code measure_nodes(const pp_graph *g, const char *device, int M, const char *dims, double **out,
                             pp_error *err) {
    pp_exec_options o = {.devices = device,
                         .stages = 1,
                         .microbatch = M,
                         .max_batch = M,
                         .inflight = 2,
                         .precision = PP_PREC_FP32,
                         .dims = dims};
    pp_exec *e = NULL;
    pp_code rc = pp_exec_create(g, &o, &e, err);
    if (rc) return pp_error_prefix(err, "--measure on %s", device), rc;
    void **in = pp_calloc((size_t)g->n_inputs + 1, sizeof(void *)),
         **outs = pp_calloc((size_t)g->n_outputs + 1, sizeof(void *));
    int64_t(*in_dims)[PP_MAX_RANK] = pp_calloc((size_t)g->n_inputs + 1, sizeof *in_dims);
    const int64_t **dp = pp_calloc((size_t)g->n_inputs + 1, sizeof *dp);
    double *ms = pp_calloc((size_t)g->n_nodes, sizeof(double));
    int64_t sym[PP_MAX_SYMBOLS];
    at_batch(e, M, sym);
    if (!in || !outs || !ms || !in_dims || !dp) rc = pp_error_nomem(err, "--measure: out of memory");
    for (int i = 0; !rc && i < g->n_inputs; i++) {
        pp_exec_tensor_dims(e, 0, i, sym, in_dims[i]);
        dp[i] = in_dims[i];
        if (!(in[i] = pp_calloc(1, (size_t)pp_exec_tensor_bytes(e, 0, i, sym) + 1)))
            rc = pp_error_nomem(err, "--measure: out of memory");
    }
    for (int i = 0; !rc && i < g->n_outputs; i++)
        if (!(outs[i] = pp_calloc(1, (size_t)pp_exec_tensor_bytes(e, 1, i, sym) + 1)))
            rc = pp_error_nomem(err, "--measure: out of memory");
    if (!rc) rc = pp_exec_run_shapes(e, dp, (const void *const *)in, outs, err); /* warm-up */
    if (!rc) pp_exec_set_profile(e, 1);
    for (int r = 0; !rc && r < 3; r++) rc = pp_exec_run_shapes(e, dp, (const void *const *)in, outs, err);
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
    pp_free(in_dims);
    pp_free(dp);
    pp_exec_free(e);
    if (rc) {
        pp_free(ms);
        return rc;
    }
    *out = ms;
    return PP_OK;
}

/* The engine's ranges: the file's, narrowed by options.dims. Every symbol but
 * the batch needs a bounded one, since buffers are sized for its maximum. */
static pp_code set_ranges(pp_exec *e, const char *dims, pp_error *err) {
    const pp_symtab *t = &e->g->sym;
    pp_code rc = pp_symtab_narrow(t, dims, e->lo, e->hi, err);
    if (rc) return rc;
    for (int s = 0; s < t->n_sym; s++)
        if (s != t->batch && e->hi[s] == PP_SYM_UNBOUNDED)
            return pp_error_set(err, PP_ERR_INVALID_ARG,
                                "symbol '%s' has no upper bound (%" PRId64 "..%" PRId64 " in the file); give one with "
                                "the dim option, e.g. %s=%" PRId64 "..512 (ppengine --dim)",
                                t->sym[s].name, e->lo[s], e->hi[s], t->sym[s].name, e->lo[s]);
    if (t->batch >= 0) e->hi[t->batch] = e->M; /* a run splits into micro-batches of at most M */
    memcpy(e->run_sym, e->hi, sizeof e->hi);
    return PP_OK;
}

/* Which inputs and outputs split into rows over micro-batches: those whose
 * axis 0 is a multiple of the batch. The batch elsewhere cannot be split. */
static pp_code io_rows(pp_exec *e, pp_error *err) {
    const pp_graph *g = e->g;
    e->in_rows = pp_calloc((size_t)g->n_inputs + 1, 1);
    e->out_rows = pp_calloc((size_t)g->n_outputs + 1, 1);
    if (!e->in_rows || !e->out_rows) return pp_error_nomem(err, "engine: out of memory");
    for (int io = 0; io < 2; io++) {
        int n = io ? g->n_outputs : g->n_inputs;
        const int *ids = io ? g->outputs : g->inputs;
        for (int i = 0; i < n; i++) {
            const pp_tensor *t = &g->tensors[ids[i]];
            int axis, r = pp_graph_batch_rows(g, t, e->hi, &axis);
            if (r < 0)
                return pp_error_set(err, PP_ERR_UNSUPPORTED,
                                    "%s '%s': the batch is on axis %d; the engine splits batches on axis 0",
                                    io ? "output" : "input", t->name, axis);
            (io ? e->out_rows : e->in_rows)[i] = (char)r;
        }
    }
    return PP_OK;
}

/* The largest shapes a micro-batch may have, for the plan: each shape value at
 * its upper bound over the ranges (batch 1..M), and every symbolic attribute of
 * the planned graph resolved there. */
static pp_code max_shapes(pp_exec *e, pp_error *err) {
    const pp_symtab *t = &e->g->sym;
    int64_t lo[PP_MAX_SYMBOLS];
    memcpy(lo, e->lo, sizeof lo);
    if (t->batch >= 0) lo[t->batch] = 1;
    pp_code rc = pp_dimenv_set(&e->max_env, t, e->hi, err);
    if (rc) return pp_error_prefix(err, "at the ranges' maxima");
    int64_t *scratch = pp_malloc(sizeof(int64_t) * (size_t)(t->n_prog + 1));
    if (!scratch) return pp_error_nomem(err, "engine: out of memory");
    pp_symtab_bounds(t, lo, e->hi, scratch, e->max_env.slot);
    pp_free(scratch);
    e->max_env.batch = e->M;
    pp_graph_resolve(e->planned, &e->max_env);
    return PP_OK;
}

/* A stage's streams, its per-slot events and staging pointers. */
static pp_code stage_records(pp_exec *e, stage_rt *rt, int p, pp_error *err) {
    pp_backend *b = rt->b;
    int K = e->K;
    rt->slot = pp_calloc((size_t)K, sizeof(char *));
    rt->weight = pp_calloc((size_t)(e->g->n_tensors ? e->g->n_tensors : 1), sizeof(void *));
    rt->ev_computed = pp_calloc((size_t)K, sizeof(pp_event *));
    rt->ev_arrived = pp_calloc((size_t)K, sizeof(pp_event *));
    rt->ev_staged = pp_calloc((size_t)K, sizeof(pp_event *));
    rt->ev_out = pp_calloc((size_t)K, sizeof(pp_event *));
    rt->staging = pp_calloc((size_t)K, sizeof(void *));
    if (!rt->slot || !rt->weight || !rt->ev_computed || !rt->ev_arrived || !rt->ev_staged || !rt->ev_out ||
        !rt->staging)
        return pp_error_nomem(err, "%s: out of memory for stage %d", b->name, p);
    pp_code rc;
    if ((rc = b->ops->stream_create(b, &rt->compute, err)) || (rc = b->ops->stream_create(b, &rt->copy, err)))
        return rc;
    for (int k = 0; k < K; k++)
        if ((rc = b->ops->event_create(b, &rt->ev_computed[k], err)) ||
            (rc = b->ops->event_create(b, &rt->ev_arrived[k], err)) ||
            (rc = b->ops->event_create(b, &rt->ev_staged[k], err)) ||
            (rc = b->ops->event_create(b, &rt->ev_out[k], err)))
            return rc;
    return PP_OK;
}

/* Where each weight the stage reads lives: in place where the device reads host
 * memory and the bytes are aligned for their type (a converter may hand over
 * weights borrowed from a protobuf at any address), else at woff[t] in the
 * front of the arena (SIZE_MAX: not in the arena). Returns the arena bytes. */
static size_t stage_weights(const pp_graph *g, const pp_plan_stage *st, stage_rt *rt, size_t *woff) {
    size_t wbytes = 0;
    for (int t = 0; t < g->n_tensors; t++) woff[t] = SIZE_MAX;
    for (int i = st->first; i < st->last; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) {
            int t = g->nodes[i].in[j];
            if (t < 0 || g->tensors[t].kind != PP_TENSOR_WEIGHT) continue;
            size_t es = pp_dtype_size(g->tensors[t].dtype);
            if (rt->b->ops->host_memory && (uintptr_t)g->tensors[t].data % (es ? es : 1) == 0)
                rt->weight[t] = g->tensors[t].data;
            else if (woff[t] == SIZE_MAX) {
                woff[t] = wbytes;
                wbytes += (g->tensors[t].nbytes + 255) & ~(size_t)255;
            }
        }
    return wbytes;
}

/* Replica r's stage p: records, then one arena holding [weights | workspace |
 * K slots], weights uploaded into it, and the launches at M. */
static pp_code build_stage_rt(pp_exec *e, int r, int p, pp_error *err) {
    stage_rt *rt = RT(e, r, p);
    const pp_plan_stage *st = &e->plan->stages[p];
    pp_backend *b = rt->b;
    const pp_graph *g = e->g;
    pp_code rc = stage_records(e, rt, p, err);
    if (rc) return rc;
    size_t *woff = pp_malloc(sizeof(size_t) * (size_t)(g->n_tensors ? g->n_tensors : 1));
    if (!woff) return pp_error_nomem(err, "%s: out of memory for stage %d", b->name, p);
    size_t wbytes = stage_weights(g, st, rt, woff);
    /* The workspace is sized by preparing at M before the arena exists: prepare
     * only reads params. */
    sized_launches *sl;
    rt->ws_bytes = 0;
    if ((rc = pp_exec_prepare_size(e, r, p, e->M, &sl, err))) {
        pp_free(woff);
        return rc;
    }
    size_t slot_bytes = (st->slot_bytes + 255) & ~(size_t)255;
    /* never empty: the second prepare's workspace pointer says it is not sizing */
    size_t ws = (rt->ws_bytes + 255) & ~(size_t)255;
    if (!ws) ws = 256;
    rt->ws_bytes = ws;
    size_t total = wbytes + ws + slot_bytes * (size_t)e->K;
    if (e->mem_limit && total > e->mem_limit)
        rc = pp_error_set(err, PP_ERR_NOMEM,
                          "stage %d needs %zu bytes (weights %zu + workspace %zu + %d slots of %zu), the memory "
                          "limit is %zu",
                          p, total, wbytes, ws, e->K, slot_bytes, e->mem_limit);
    else if ((rc = b->ops->alloc(b, total ? total : 256, &rt->arena, err)))
        pp_error_prefix(err, "stage %d (weights %zu + workspace %zu + %d slots of %zu bytes)", p, wbytes, ws, e->K,
                        slot_bytes);
    char *base = rt->arena;
    for (int t = 0; t < g->n_tensors && !rc; t++) {
        if (woff[t] == SIZE_MAX) continue;
        rt->weight[t] = base + woff[t];
        rc = b->ops->upload(b, rt->copy, base + woff[t], g->tensors[t].data, g->tensors[t].nbytes, err);
    }
    pp_free(woff);
    if (rc) return rc;
    rt->ws = ws ? base + wbytes : NULL;
    for (int k = 0; k < e->K; k++) rt->slot[k] = base + wbytes + ws + slot_bytes * (size_t)k;
    if ((rc = b->ops->stream_sync(b, rt->copy, err))) return rc;
    /* Now that pointers exist, resolve them in the launches made above. */
    pp_exec_free_sized(e, rt, p, sl);
    rt->n_sizes = 0;
    return pp_exec_prepare_size(e, r, p, e->M, &sl, err);
}

/* Node n's outputs as describe gave them (out) must be what the graph's shapes
 * say in this bucket: a fit from sample points is only trusted once checked. */
static pp_code check_outputs(const pp_exec *e, const pp_node *n, const sized_launches *sl, const pp_shape *out,
                             pp_error *err) {
    const pp_graph *g = e->g;
    for (int j = 0; j < n->n_out; j++) {
        if (n->out[j] < 0) continue;
        const pp_tensor *t = &g->tensors[n->out[j]];
        int64_t want[PP_MAX_RANK];
        pp_tensor_dims_env(t, &sl->env, want);
        int same = out[j].rank == t->rank;
        for (int d = 0; same && d < t->rank; d++) same = out[j].dims[d] == want[d];
        if (same) continue;
        char a[160], b[160], v[160];
        pp_tensor tmp = *t;
        memcpy(tmp.dims, out[j].dims, sizeof tmp.dims);
        tmp.rank = out[j].rank;
        return pp_error_set(err, PP_ERR_SHAPE,
                            "node '%s' (%s): output '%s' is %s with %s, but the graph's shape %s says otherwise; "
                            "narrow the symbols' ranges (--dim) to where the model's shapes follow one formula",
                            n->name, pp_op_name(n->op), t->name, pp_tensor_shape_str(&tmp, a, sizeof a),
                            pp_symtab_values_str(&g->sym, sl->sym, v, sizeof v), pp_graph_shape_str(g, t, b, sizeof b));
    }
    return PP_OK;
}

/* One node's launch record in bucket sl, slot k: its params from describe, its
 * pointers (weights, the slot), and the backend's preparation. */
static pp_code describe_launch(pp_exec *e, stage_rt *rt, const pp_plan_stage *st, int node, int k,
                               const sized_launches *sl, pp_launch *L, pp_error *err) {
    const pp_graph *g = e->g;
    pp_node *n = &e->planned->nodes[node];
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
        pp_shape_env(tt, &sl->env, &in[j]);
        cdata[j] = tt->kind == PP_TENSOR_WEIGHT ? tt->data : NULL;
        if (tt->kind == PP_TENSOR_WEIGHT) {
            L->in[j] = rt->weight[t];
            if (j < 32) L->weights |= 1u << j;
        } else L->in[j] = rt->slot[k] ? rt->slot[k] + st->offset[t] : NULL;
    }
    for (int j = 0; j < n->n_out; j++)
        L->out[j] = rt->slot[k] && n->out[j] >= 0 ? rt->slot[k] + st->offset[n->out[j]] : NULL;
    L->node = n;
    if (pp_node_is_symbolic(n)) pp_node_resolve(n, sl->env.slot);
    pp_cost c;
    pp_code rc = pp_op_describe(n, in, outs, &L->params, &c, cdata, err);
    if (!rc && g->sym.n_prog) rc = check_outputs(e, n, sl, outs, err);
    if (rc) return rc;
    L->cost_flops = c.flops;
    L->cost_bytes = c.bytes;
    L->profile = e->profile;
    /* the workspace prepare may time candidates in (none while sizing it) */
    L->ws = rt->arena ? rt->ws : NULL;
    L->ws_bytes = rt->arena ? rt->ws_bytes : 0;
    if ((rc = rt->b->ops->prepare(rt->b, L, err))) return rc;
    if (L->ws_bytes > rt->ws_bytes) {
        if (rt->arena)
            return pp_error_set(err, PP_ERR_INTERNAL,
                                "node '%s': workspace of %zu bytes at micro-batch %d exceeds the planned %zu", n->name,
                                L->ws_bytes, sl->size, rt->ws_bytes);
        rt->ws_bytes = L->ws_bytes;
    }
    L->ws = rt->ws;
    return PP_OK;
}

pp_code pp_exec_eager_pass(pp_exec *e, stage_rt *rt, int nn, sized_launches *sl, pp_error *err) {
    pp_backend *b = rt->b;
    /* A device run may still be using the slots (it returns before its work is
     * done): wait for it, then run every launch once. */
    pp_code rc = b->ops->stream_sync(b, rt->compute, err);
    if (!rc) rc = b->ops->stream_sync(b, rt->copy, err);
    /* not part of any profile */
    for (int i = 0; i < nn * e->K; i++) sl->l[i].profile = 0;
    for (int i = 0; i < nn * e->K && !rc; i++) rc = b->ops->launch(b, rt->compute, &sl->l[i], err);
    /* The slots hold whatever they held: a data error a kernel raises on it
     * (an index out of range) means nothing; a device error does. */
    pp_error serr;
    pp_code src = b->ops->stream_sync(b, rt->compute, &serr);
    for (int i = 0; i < nn * e->K; i++) sl->l[i].profile = e->profile;
    if (rc) return rc;
    if (src && src != PP_ERR_INVALID_ARG) {
        *err = serr;
        return src;
    }
    return PP_OK;
}

/* Graphs: once the pointers are final, each slot's launches are captured and
 * from then on replayed as one unit. They only save launch overhead, so a
 * capture that fails turns them off for the engine, with a notice, and the
 * launches run one by one as they would without. */
static void capture_graphs(pp_exec *e, stage_rt *rt, int p, int nn, sized_launches *sl) {
    pp_backend *b = rt->b;
    pp_error cerr;
    pp_code crc = PP_OK;
    sl->graph = pp_calloc((size_t)e->K, sizeof(void *));
    if (!sl->graph) crc = pp_error_nomem(&cerr, "out of memory for the graphs");
    for (int k = 0; k < e->K && !crc; k++) {
        crc = b->ops->capture_begin(b, rt->compute, &cerr);
        if (crc) break;
        for (int i = 0; i < nn && !crc; i++) crc = b->ops->launch(b, rt->compute, &sl->l[k * nn + i], &cerr);
        pp_error tmp;
        pp_code erc = b->ops->capture_end(b, rt->compute, &sl->graph[k], crc ? &tmp : &cerr);
        if (!crc) crc = erc;
    }
    if (!crc) return;
    for (int k = 0; sl->graph && k < e->K; k++)
        if (sl->graph[k]) b->ops->graph_destroy(b, sl->graph[k]);
    pp_free(sl->graph);
    sl->graph = NULL;
    e->graphs = 0;
    snprintf(e->notice, sizeof e->notice,
             "capturing stage %d at micro-batch %d failed (%.300s); running launch by launch", p, sl->size, cerr.msg);
}

pp_code pp_exec_prepare_size(pp_exec *e, int r, int p, int size, sized_launches **out, pp_error *err) {
    stage_rt *rt = RT(e, r, p);
    const pp_symtab *t = &e->g->sym;
    int64_t key[PP_MAX_SYMBOLS];
    memcpy(key, e->run_sym, sizeof key);
    if (t->batch >= 0) key[t->batch] = size;
    for (int s = 0; s < rt->n_sizes; s++)
        if (rt->sizes[s].size == size && memcmp(rt->sizes[s].sym, key, sizeof key) == 0) {
            *out = &rt->sizes[s];
            return PP_OK;
        }
    if (rt->n_sizes == MAX_SIZES) {
        /* Evict the oldest bucket other than the largest (entry 0), once the
         * streams have passed its launches (a device run returns before they have). */
        pp_code src = rt->b->ops->stream_sync(rt->b, rt->compute, err);
        if (!src) src = rt->b->ops->stream_sync(rt->b, rt->copy, err);
        if (src) return src;
        pp_exec_free_sized(e, rt, p, &rt->sizes[1]);
        memmove(&rt->sizes[1], &rt->sizes[2], sizeof(sized_launches) * (MAX_SIZES - 2));
        rt->n_sizes--;
    }
    const pp_plan_stage *st = &e->plan->stages[p];
    int nn = st->last - st->first;
    /* With the arena in place prepare may time candidates on the slots: a
     * device run still in flight must be done with them first. */
    if (rt->arena) {
        pp_code src = rt->b->ops->stream_sync(rt->b, rt->compute, err);
        if (!src) src = rt->b->ops->stream_sync(rt->b, rt->copy, err);
        if (src) return src;
    }
    sized_launches sl;
    memset(&sl, 0, sizeof sl);
    sl.size = size;
    memcpy(sl.sym, key, sizeof key);
    sl.l = pp_calloc((size_t)(nn * e->K) + 1, sizeof(pp_launch));
    if (!sl.l) return pp_error_nomem(err, "%s: out of memory preparing stage %d", rt->b->name, p);
    pp_code rc = pp_dimenv_set(&sl.env, t, key, err);
    if (rc && t->n_sym) {
        char v[160];
        pp_error_prefix(err, "with %s", pp_symtab_values_str(t, key, v, sizeof v));
    }
    for (int k = 0; k < e->K && !rc; k++)
        for (int i = 0; i < nn && !rc; i++)
            rc = describe_launch(e, rt, st, st->first + i, k, &sl, &sl.l[k * nn + i], err);
    if (rc) {
        pp_exec_free_sized(e, rt, p, &sl);
        return rc;
    }
    if (rt->arena && e->graphs && (rc = pp_exec_eager_pass(e, rt, nn, &sl, err))) {
        pp_exec_free_sized(e, rt, p, &sl);
        return rc;
    }
    if (rt->arena && e->graphs) capture_graphs(e, rt, p, nn, &sl);
    rt->sizes[rt->n_sizes] = sl;
    *out = &rt->sizes[rt->n_sizes++];
    return PP_OK;
}

/* Step 1 of pp_exec_create: one backend per device entry (so `cuda:0,cuda:0` is
 * two stages on one GPU with their own streams), all of one kind, with the
 * engine's precision, threads shared among the host-memory ones, and graphs
 * where they pay (CUDA) unless asked otherwise. */
static pp_code create_backends(pp_exec *e, const pp_exec_options *o, char **names, int nd, pp_error *err) {
    pp_code rc;
    for (int i = 0; i < nd; i++) {
        if ((rc = pp_backend_create(names[i], &e->owned[i], err))) return rc;
        e->n_owned++;
        e->rt[i].b = e->owned[i];
        pp_backend *b = e->owned[i];
        if (b->ops->set_precision) rc = b->ops->set_precision(b, o->precision, err);
        else if (o->precision != PP_PREC_FP32)
            rc = pp_error_set(err, PP_ERR_UNSUPPORTED, "%s cannot compute in %s", b->name,
                              pp_precision_name(o->precision));
        if (!rc && o->tune_cache && b->ops->set_tune_cache) rc = b->ops->set_tune_cache(b, o->tune_cache, err);
        if (rc) return rc;
    }
    for (int i = 1; i < nd; i++)
        if (strcmp(e->owned[i]->ops->kind, e->owned[0]->ops->kind) != 0)
            return pp_error_set(err, PP_ERR_INVALID_ARG, "devices %s and %s are of different kinds; use one kind",
                                e->owned[0]->name, e->owned[i]->name);
    /* Devices whose kernels run on the host share its cores: the threads asked
     * for, else those the process may run on (its affinity mask, which taskset,
     * cgroups and schedulers narrow; _SC_NPROCESSORS_ONLN would overcount). */
    int cores = o->threads > 0 ? o->threads : pp_affinity_cores();
    int share = cores > nd ? cores / nd : 1;
    for (int i = 0; i < nd; i++) {
        if (e->owned[i]->ops->set_threads) e->owned[i]->ops->set_threads(e->owned[i], share);
        if (e->owned[i]->ops->set_deterministic) e->owned[i]->ops->set_deterministic(e->owned[i], o->deterministic);
    }
    e->graphs = o->graphs < 0 ? strcmp(e->owned[0]->ops->kind, "cuda") == 0 : o->graphs;
    if (e->graphs && !e->owned[0]->ops->capture_begin) {
        snprintf(e->notice, sizeof e->notice, "%s cannot capture launches; running without graphs", e->owned[0]->name);
        e->graphs = 0;
    }
    return PP_OK;
}

/* Step 2: every activation's format for these devices (docs/planner.md); the
 * engine runs the planned graph from here on. */
static pp_code plan_formats(pp_exec *e, const pp_exec_options *o, pp_error *err) {
    pp_format_caps caps = {e->owned[0]->ops->kind, o->precision, NULL, 0};
    if (e->owned[0]->ops->facts) e->owned[0]->ops->facts(e->owned[0], &caps);
    pp_code rc = pp_formats_plan(e->g, &caps, o->policy, &e->planned, &e->formats, err);
    if (!rc) e->g = e->planned;
    return rc;
}

/* Step 3: placement within each device's memory (measured node times when asked).
 * A plan that does not fit tries again with fewer micro-batches in flight per
 * stage, down to one, and says so. */
static pp_code place(pp_exec *e, const pp_exec_options *o, const char *first_device, pp_error *err) {
    size_t *limit = pp_calloc((size_t)e->P, sizeof(size_t));
    if (!limit) return pp_error_nomem(err, "engine: out of memory");
    for (int p = 0; p < e->P; p++) {
        size_t avail = e->rt[p].b->ops->mem_available(e->rt[p].b);
        if (o->mem_limit && (!avail || o->mem_limit < avail)) avail = o->mem_limit;
        limit[p] = avail;
    }
    double *node_ms = NULL;
    pp_code rc = PP_OK;
    if (o->measure && e->P > 1 && e->g->n_nodes > 0)
        rc = measure_nodes(e->g, first_device, e->M, o->dims, &node_ms, err);
    while (!rc) {
        const char *devnames[PP_MAX_IO];
        for (int p = 0; p < e->P && p < PP_MAX_IO; p++) devnames[p] = e->rt[p].b->name;
        pp_plan_options po = {e->P,       e->M, o->split, node_ms, limit, e->K, e->P <= PP_MAX_IO ? devnames : NULL,
                              &e->max_env};
        rc = pp_plan_build(e->g, &po, &e->plan, err);
        if (rc != PP_ERR_NOMEM || e->K == 1 || !strstr(err->msg, "does not fit")) break;
        snprintf(e->notice, sizeof e->notice, "%s; retried with %d micro-batch%s in flight per stage", err->msg,
                 e->K - 1, e->K - 1 == 1 ? "" : "es");
        e->K--;
        rc = PP_OK;
    }
    pp_free(limit);
    pp_free(node_ms);
    return rc;
}

/* Step 5: boundary copies go device to device where the devices share memory or
 * peer access was asked for and granted; otherwise through pinned staging. */
static pp_code connect_stages(pp_exec *e, int p2p, pp_error *err) {
    for (int r = 0; r < e->R; r++)
        for (int p = 0; p + 1 < e->P; p++) {
            stage_rt *a = RT(e, r, p), *b = RT(e, r, p + 1);
            int peer = a->b->ops->host_memory && b->b->ops->host_memory;
            if (!peer && p2p && a->b->ops->enable_peer) {
                /* No peer path is a fact to report (staged copies work); a
                 * device error while enabling one is a failure. */
                pp_error perr;
                pp_code prc = a->b->ops->enable_peer(a->b, b->b, &perr);
                if (!prc) prc = b->b->ops->enable_peer(b->b, a->b, &perr);
                if (prc == PP_OK) peer = 1;
                else if (prc != PP_ERR_UNSUPPORTED) {
                    *err = perr;
                    return prc;
                } else if (!e->notice[0]) {
                    snprintf(e->notice, sizeof e->notice,
                             "--p2p: %.300s; copies between stages go through pinned "
                             "host memory",
                             perr.msg);
                }
            }
            a->peer = peer;
            size_t bytes = e->plan->stages[p].out_bytes ? e->plan->stages[p].out_bytes : 256;
            for (int k = 0; !peer && k < e->K; k++) {
                pp_code rc = a->b->ops->host_alloc(a->b, bytes, &a->staging[k], err);
                if (rc) return rc;
            }
        }
    return PP_OK;
}

/* Step 5b: where the device does not read host memory, each slot's inputs and
 * outputs pass through pinned buffers (a copy from pageable memory is
 * synchronous and slower). */
static size_t io_bytes(const pp_graph *g, const int *ids, int n, int64_t rows) {
    size_t total = 0;
    for (int i = 0; i < n; i++) total += ((size_t)pp_tensor_bytes_at(&g->tensors[ids[i]], rows) + 255) & ~(size_t)255;
    return total;
}

static pp_code pin_io(pp_exec *e, pp_error *err) {
    for (int r = 0; r < e->R; r++) {
        stage_rt *first = RT(e, r, 0), *last = RT(e, r, e->P - 1);
        if (first->b->ops->host_memory) continue;
        size_t nin = io_bytes(e->g, e->g->inputs, e->g->n_inputs, e->M),
               nout = io_bytes(e->g, e->g->outputs, e->g->n_outputs, e->M);
        first->pin_in = pp_calloc((size_t)e->K, sizeof(void *));
        last->pin_out = pp_calloc((size_t)e->K, sizeof(void *));
        last->out_copy = pp_calloc((size_t)e->K, sizeof(out_copy));
        if (!first->pin_in || !last->pin_out || !last->out_copy)
            return pp_error_nomem(err, "engine: out of memory for pinned staging");
        for (int k = 0; k < e->K; k++) {
            pp_code rc = first->b->ops->host_alloc(first->b, nin ? nin : 256, &first->pin_in[k], err);
            if (!rc) rc = last->b->ops->host_alloc(last->b, nout ? nout : 256, &last->pin_out[k], err);
            if (rc) return rc;
        }
    }
    return PP_OK;
}

/* Step 6: replicas 1..R-1 get a driver thread each, made once, so a run creates
 * no thread (replica 0 is driven by the caller). */
static pp_code start_drivers(pp_exec *e, pp_error *err) {
    e->jobs = pp_calloc((size_t)e->R, sizeof(replica_job));
    e->drivers = pp_calloc((size_t)e->R, sizeof(pthread_t));
    if (!e->jobs || !e->drivers) return pp_error_nomem(err, "engine: out of memory for %d replica drivers", e->R);
    for (int r = 0; r < e->R; r++) e->jobs[r] = (replica_job){e, r, PP_OK, {PP_OK, ""}, 0};
    for (int r = 1; r < e->R; r++) {
        if (pthread_create(&e->drivers[r], NULL, pp_exec_driver_main, &e->jobs[r]) != 0)
            return pp_error_set(err, PP_ERR_DEVICE, "engine: cannot start the thread driving replica %d", r);
        e->n_drivers = r;
    }
    return PP_OK;
}

static pp_code open_trace(pp_exec *e, const char *path, pp_error *err) {
    if (!path) return PP_OK;
    if (!(e->trace_path = pp_malloc(strlen(path) + 1))) return pp_error_nomem(err, "engine: out of memory");
    strcpy(e->trace_path, path);
    return pp_trace_new(&e->trace, err);
}

static pp_exec *exec_new(const pp_graph *g, const pp_exec_options *o) {
    pp_exec *e = pp_calloc(1, sizeof *e);
    if (!e) return NULL;
    pthread_mutex_init(&e->mu, NULL);
    pthread_mutex_init(&e->run_mu, NULL);
    pthread_cond_init(&e->run_cv, NULL);
    pthread_cond_init(&e->done_cv, NULL);
    e->g = g;
    e->P = o->stages;
    e->K = o->inflight;
    e->M = o->microbatch;
    e->mem_limit = o->mem_limit;
    return e;
}

pp_code pp_exec_plan_offline(const pp_graph *g, const pp_exec_options *opt, const pp_format_caps *caps,
                             pp_graph **planned, pp_plan **plan, pp_format_report *report, pp_error *err) {
    *planned = NULL;
    *plan = NULL;
    pp_exec_options o = *opt;
    if (o.stages <= 0) o.stages = 1;
    if (o.max_batch <= 0) o.max_batch = 1;
    if (o.microbatch <= 0) o.microbatch = o.max_batch;
    if (o.inflight <= 0) o.inflight = 2;
    /* The steps of pp_exec_create that need no device. */
    pp_exec *e = exec_new(g, &o);
    if (!e) return pp_error_nomem(err, "engine: out of memory");
    pp_code rc = set_ranges(e, o.dims, err);
    if (!rc) rc = io_rows(e, err);
    if (!rc) rc = pp_formats_plan(g, caps, o.policy, &e->planned, report, err);
    if (!rc) e->g = e->planned;
    if (!rc) rc = max_shapes(e, err);
    pp_plan_options po = {o.stages, e->M, o.split, NULL, NULL, o.inflight, NULL, &e->max_env};
    if (!rc) rc = pp_plan_build(e->planned, &po, plan, err);
    if (!rc) {
        *planned = e->planned;
        e->planned = NULL;
    }
    pp_exec_free(e);
    return rc;
}

pp_code pp_exec_create(const pp_graph *g, const pp_exec_options *opt, pp_exec **out, pp_error *err) {
    *out = NULL;
    pp_exec_options o = *opt;
    if (o.stages <= 0) o.stages = 1;
    if (o.max_batch <= 0) o.max_batch = 1;
    if (o.microbatch <= 0) o.microbatch = o.max_batch;
    if (o.inflight <= 0) o.inflight = 2;
    if (o.inflight > 64) return pp_error_set(err, PP_ERR_INVALID_ARG, "--inflight %d is more than 64", o.inflight);
    pp_exec *e = exec_new(g, &o);
    if (!e) return pp_error_nomem(err, "engine: out of memory");
    pp_code rc = set_ranges(e, o.dims, err);
    if (!rc) rc = io_rows(e, err);
    if (rc) {
        pp_exec_free(e);
        return rc;
    }
    char **names = NULL;
    int nd = 0;
    if ((rc = parse_devices(o.devices, &names, &nd, &e->fell_back, err))) goto done;
    if (nd % e->P != 0) {
        rc = pp_error_set(err, PP_ERR_INVALID_ARG, "%d device%s cannot be split into replicas of %d stages", nd,
                          nd == 1 ? "" : "s", e->P);
        goto done;
    }
    e->R = nd / e->P;
    e->rt = pp_calloc((size_t)nd, sizeof(stage_rt));
    e->owned = pp_calloc((size_t)nd, sizeof(pp_backend *));
    if (!e->rt || !e->owned) rc = pp_error_nomem(err, "engine: out of memory");
    if (!rc) rc = create_backends(e, &o, names, nd, err);
    if (!rc) rc = plan_formats(e, &o, err);
    if (!rc) rc = max_shapes(e, err);
    if (!rc) rc = place(e, &o, names[0], err);
    /* Step 4: every stage of every replica gets its arena, weights and launches. */
    for (int r = 0; r < e->R && !rc; r++)
        for (int p = 0; p < e->P && !rc; p++)
            if ((rc = build_stage_rt(e, r, p, err))) pp_error_prefix(err, "%s", RT(e, r, p)->b->name);
    if (!rc) rc = e->rt[0].b->ops->event_create(e->rt[0].b, &e->ev_caller, err);
    if (!rc) rc = e->rt[e->P - 1].b->ops->event_create(e->rt[e->P - 1].b, &e->ev_done, err);
    if (!rc) rc = connect_stages(e, o.p2p, err);
    if (!rc) rc = pin_io(e, err);
    if (!rc) rc = open_trace(e, o.trace, err);
    if (!rc) rc = start_drivers(e, err);
done:
    for (int i = 0; names && i < nd; i++) pp_free(names[i]);
    pp_free(names);
    if (rc) pp_exec_free(e);
    else *out = e;
    return rc;
}

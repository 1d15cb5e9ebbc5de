/* exec_run.c: running an engine: micro-batches through the stages of every
 * replica, on the streams and events the build made (exec.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_internal.h"

/* One row of an input or output in this run (its batch taken as 1); whether a
 * graph input (io 0) or output (io 1) splits into rows over micro-batches. */
static size_t row_bytes(const pp_exec *e, const pp_tensor *t) { return (size_t)pp_tensor_bytes_env(t, &e->row_env); }
static int has_rows(const pp_exec *e, int io, int i) { return (io ? e->out_rows : e->in_rows)[i]; }

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

/* What one micro-batch is: mb, in slot k of replica r, rows [off, off + size). */
typedef struct mb_ref {
    int r, k, mb;
    int64_t off;
    int size;
} mb_ref;

/* Stage 0: the inputs' rows into slot k, once its previous micro-batch is done with it. */
static pp_code upload_inputs(pp_exec *e, const mb_ref *m, pp_error *err) {
    const pp_graph *g = e->g;
    stage_rt *rt = RT(e, m->r, 0);
    const pp_plan_stage *st = &e->plan->stages[0];
    pp_backend *b = rt->b;
    unsigned span = 0;
    pp_code rc = wait_slot_free(e, m->r, 0, m->k, rt->copy, err);
    if (!rc && e->trace) rc = pp_trace_begin(e->trace, b, rt->copy, m->r, 0, "upload", m->mb, &span, err);
    size_t pos = 0;
    for (int i = 0; i < g->n_inputs && !rc; i++) {
        const pp_tensor *t = &g->tensors[g->inputs[i]];
        if (st->offset[g->inputs[i]] < 0) continue;
        size_t rb = row_bytes(e, t);
        const char *src = (const char *)e->inputs[i] + (has_rows(e, 0, i) ? (size_t)m->off * rb : 0);
        size_t n = has_rows(e, 0, i) ? rb * (size_t)m->size : rb;
        void *dst = rt->slot[m->k] + st->offset[g->inputs[i]];
        if (!e->dev_io && rt->pin_in) {
            /* The slot's previous upload from this buffer is done: its
             * micro-batch has been downloaded (the replica waited for that). */
            char *pin = (char *)rt->pin_in[m->k] + pos;
            memcpy(pin, src, n);
            src = pin;
            pos += (n + 255) & ~(size_t)255;
        }
        rc = e->dev_io ? b->ops->copy(b, rt->copy, dst, src, n, err) : b->ops->upload(b, rt->copy, dst, src, n, err);
    }
    if (!rc && e->trace) rc = pp_trace_end(e->trace, b, rt->copy, span, err);
    if (!rc) rc = b->ops->event_record(b, rt->ev_arrived[m->k], rt->copy, err);
    return rc;
}

/* Stage p's kernels: after the inputs arrived, and after the previous
 * micro-batch in this slot has been copied out (next stage) or downloaded (last). */
static pp_code compute_stage(pp_exec *e, const mb_ref *m, int p, const sized_launches *sl, pp_error *err) {
    stage_rt *rt = RT(e, m->r, p);
    pp_backend *b = rt->b;
    int nn = e->plan->stages[p].last - e->plan->stages[p].first;
    unsigned span = 0;
    pp_code rc = b->ops->stream_wait(b, rt->compute, rt->ev_arrived[m->k], err);
    if (!rc) rc = b->ops->stream_wait(b, rt->compute, passed_on(e, m->r, p, m->k), err);
    if (!rc && e->trace) rc = pp_trace_begin(e->trace, b, rt->compute, m->r, p, "compute", m->mb, &span, err);
    range_push(b, "stage %d mb %d (%s)", p, m->mb);
    /* Profiling times launches one by one, and per-node profiler ranges
     * (NVTX) come from launches: both bypass the graphs. */
    int one_by_one = !sl->graph || e->profile || (b->ops->launch_ranges && b->ops->launch_ranges(b));
    if (!rc && !one_by_one) {
        rc = b->ops->replay(b, rt->compute, sl->graph[m->k], err);
        atomic_fetch_add_explicit(&e->n_replays, 1, memory_order_relaxed);
    }
    for (int i = 0; i < nn && !rc && one_by_one; i++) rc = b->ops->launch(b, rt->compute, &sl->l[m->k * nn + i], err);
    if (one_by_one) atomic_fetch_add_explicit(&e->n_launches, nn, memory_order_relaxed);
    range_pop(b);
    if (!rc && e->trace) rc = pp_trace_end(e->trace, b, rt->compute, span, err);
    if (!rc) rc = b->ops->event_record(b, rt->ev_computed[m->k], rt->compute, err);
    return rc;
}

/* Stage p's outputs into stage p+1's slot k, once its previous micro-batch there
 * has been computed and passed on: device to device when peer, else down on
 * this stage's copy stream and up on the next one's. */
static pp_code pass_on(pp_exec *e, const mb_ref *m, int p, const sized_launches *sl, pp_error *err) {
    const pp_graph *g = e->g;
    stage_rt *rt = RT(e, m->r, p), *nx = RT(e, m->r, p + 1);
    const pp_plan_stage *st = &e->plan->stages[p], *ns = &e->plan->stages[p + 1];
    pp_backend *b = rt->b, *nb = nx->b;
    int k = m->k;
    unsigned span = 0;
    pp_code rc = PP_OK;
    range_push(nb, "copy to stage %d mb %d (%s)", p + 1, m->mb);
    if (rt->peer) {
        rc = nb->ops->stream_wait(nb, nx->copy, rt->ev_computed[k], err);
    } else {
        rc = b->ops->stream_wait(b, rt->copy, rt->ev_computed[k], err);
        if (!rc) rc = b->ops->stream_wait(b, rt->copy, nx->ev_arrived[k], err);
        size_t pos = 0;
        for (int i = 0; i < st->n_out && !rc; i++) {
            int t = st->out_ids[i];
            size_t n = (size_t)pp_tensor_bytes_env(&g->tensors[t], &sl->env);
            rc = b->ops->download(b, rt->copy, (char *)rt->staging[k] + pos, rt->slot[k] + st->offset[t], n, err);
            pos += n;
        }
        if (!rc) rc = b->ops->event_record(b, rt->ev_staged[k], rt->copy, err);
        if (!rc) rc = nb->ops->stream_wait(nb, nx->copy, rt->ev_staged[k], err);
    }
    if (!rc) rc = wait_slot_free(e, m->r, p + 1, k, nx->copy, err);
    if (!rc && e->trace) rc = pp_trace_begin(e->trace, nb, nx->copy, m->r, p + 1, "copy in", m->mb, &span, err);
    size_t pos = 0;
    for (int i = 0; i < st->n_out && !rc; i++) {
        int t = st->out_ids[i];
        size_t n = (size_t)pp_tensor_bytes_env(&g->tensors[t], &sl->env);
        void *dst = nx->slot[k] + ns->offset[t];
        if (rt->peer) rc = nb->ops->copy_peer(nb, nx->copy, dst, b, rt->slot[k] + st->offset[t], n, err);
        else rc = nb->ops->upload(nb, nx->copy, dst, (char *)rt->staging[k] + pos, n, err);
        pos += n;
    }
    if (!rc && e->trace) rc = pp_trace_end(e->trace, nb, nx->copy, span, err);
    if (!rc) rc = nb->ops->event_record(nb, nx->ev_arrived[k], nx->copy, err);
    range_pop(nb);
    return rc;
}

/* Host callback, in stream order after a slot's downloads into pinned memory:
 * the rows into the caller's buffers (which stay valid until the run returns,
 * and the run drains the streams first). The same walk as download_outputs. */
static void out_copy_fn(void *arg) {
    const out_copy *oc = arg;
    const pp_graph *g = oc->e->g;
    size_t pos = 0;
    for (int i = 0; i < g->n_outputs; i++) {
        const pp_tensor *tt = &g->tensors[g->outputs[i]];
        size_t rb = row_bytes(oc->e, tt);
        int rows = has_rows(oc->e, 1, i);
        if (!rows && oc->off != 0) continue;
        size_t n = rows ? rb * (size_t)oc->size : rb;
        memcpy((char *)oc->e->outputs[i] + (rows ? (size_t)oc->off * rb : 0),
               (const char *)oc->rt->pin_out[oc->k] + pos, n);
        pos += (n + 255) & ~(size_t)255;
    }
}

/* The last stage: the outputs' rows to the caller (batch-free outputs once). */
static pp_code download_outputs(pp_exec *e, const mb_ref *m, pp_error *err) {
    const pp_graph *g = e->g;
    int p = e->P - 1;
    stage_rt *rt = RT(e, m->r, p);
    const pp_plan_stage *st = &e->plan->stages[p];
    pp_backend *b = rt->b;
    unsigned span = 0;
    pp_code rc = b->ops->stream_wait(b, rt->copy, rt->ev_computed[m->k], err);
    if (!rc && e->trace) rc = pp_trace_begin(e->trace, b, rt->copy, m->r, p, "download", m->mb, &span, err);
    int pinned = !e->dev_io && rt->pin_out;
    size_t pos = 0;
    for (int i = 0; i < g->n_outputs && !rc; i++) {
        int t = g->outputs[i];
        const pp_tensor *tt = &g->tensors[t];
        size_t rb = row_bytes(e, tt);
        if (!has_rows(e, 1, i) && m->off != 0) continue;
        char *dst = (char *)e->outputs[i] + (has_rows(e, 1, i) ? (size_t)m->off * rb : 0);
        size_t n = has_rows(e, 1, i) ? rb * (size_t)m->size : rb;
        const void *src = tt->kind == PP_TENSOR_WEIGHT ? tt->data : rt->slot[m->k] + st->offset[t];
        if (tt->kind == PP_TENSOR_WEIGHT && !b->ops->host_memory) src = rt->weight[t];
        if (pinned) {
            /* into pinned memory; out_copy_fn moves it on (a weight output too) */
            char *pin = (char *)rt->pin_out[m->k] + pos;
            pos += (n + 255) & ~(size_t)255;
            if (src) rc = b->ops->download(b, rt->copy, pin, src, n, err);
            else memcpy(pin, tt->data, n);
            continue;
        }
        if (!src && !e->dev_io) {
            memcpy(dst, tt->data, n);
            continue;
        }
        if (!src) rc = b->ops->upload(b, rt->copy, dst, tt->data, n, err);
        else if (e->dev_io) rc = b->ops->copy(b, rt->copy, dst, src, n, err);
        else rc = b->ops->download(b, rt->copy, dst, src, n, err);
    }
    if (!rc && pinned) {
        out_copy *oc = &rt->out_copy[m->k];
        *oc = (out_copy){e, rt, m->k, m->off, m->size};
        rc = b->ops->host_fn(b, rt->copy, out_copy_fn, oc, err);
    }
    if (!rc && e->trace) rc = pp_trace_end(e->trace, b, rt->copy, span, err);
    if (!rc) rc = b->ops->event_record(b, rt->ev_out[m->k], rt->copy, err);
    return rc;
}

/* Enqueues micro-batch `mb` (rows [off, off+size)) on replica r, slot k. */
static pp_code enqueue_mb(pp_exec *e, int r, int k, int mb, int64_t off, int size, pp_error *err) {
    mb_ref m = {r, k, mb, off, size};
    pp_code rc = PP_OK;
    for (int p = 0; p < e->P && !rc; p++) {
        sized_launches *sl;
        if ((rc = pp_exec_prepare_size(e, r, p, size, &sl, err))) return rc;
        if (p == 0) rc = upload_inputs(e, &m, err);
        if (!rc) rc = compute_stage(e, &m, p, sl, err);
        if (!rc) rc = p + 1 < e->P ? pass_on(e, &m, p, sl, err) : download_outputs(e, &m, err);
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

void *pp_exec_driver_main(void *arg) {
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
                pp_code rc = pp_exec_prepare_size(e, r, p, sizes[i], &sl, err);
                if (rc) return rc;
            }
    return PP_OK;
}

/* The symbols of a run at `batch` when none but the batch is given: each other
 * symbol must have one value in this engine. */
static pp_code batch_symbols(const pp_exec *e, int64_t batch, int64_t *sym, pp_error *err) {
    const pp_symtab *t = &e->g->sym;
    memcpy(sym, e->hi, sizeof e->hi);
    for (int s = 0; s < t->n_sym; s++) {
        if (s == t->batch) {
            sym[s] = batch;
            continue;
        }
        if (e->lo[s] != e->hi[s])
            return pp_error_set(err, PP_ERR_INVALID_ARG,
                                "the graph has the symbol '%s' (%lld..%lld): a run needs its inputs' shapes "
                                "(pp_engine_run_shapes), not only a batch size",
                                t->sym[s].name, (long long)e->lo[s], (long long)e->hi[s]);
    }
    return PP_OK;
}

/* What every run does first: checks the buffers, takes the engine, sets the
 * run's symbols and prepares the buckets this batch needs. Returns with e->mu
 * held on success. */
static pp_code begin_run(pp_exec *e, const int64_t *sym, const void *const *inputs, void *const *outputs,
                         pp_error *err) {
    int b = e->g->sym.batch;
    int64_t batch = b >= 0 ? sym[b] : 1;
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
    int64_t row[PP_MAX_SYMBOLS];
    memcpy(row, sym, sizeof row);
    if (b >= 0) row[b] = 1;
    pp_code prc = pp_dimenv_set(&e->row_env, &e->g->sym, row, err);
    if (prc) {
        pthread_mutex_unlock(&e->mu);
        return prc;
    }
    atomic_store(&e->cancel, 0);
    e->inputs = inputs;
    e->outputs = outputs;
    e->batch = batch;
    memcpy(e->run_sym, sym, sizeof e->run_sym);
    e->n_mb = (int)((batch + e->M - 1) / e->M);
    atomic_store(&e->next_mb, 0);
    prc = prepare_batch(e, batch, err);
    if (prc) pthread_mutex_unlock(&e->mu);
    return prc;
}

pp_code pp_exec_prepare(pp_exec *e, int64_t batch, pp_error *err) {
    if (batch < 1) return pp_error_set(err, PP_ERR_INVALID_ARG, "batch %lld: need at least 1", (long long)batch);
    int64_t sym[PP_MAX_SYMBOLS];
    pp_code rc = batch_symbols(e, batch, sym, err);
    if (rc) return rc;
    pthread_mutex_lock(&e->mu);
    memcpy(e->run_sym, sym, sizeof e->run_sym);
    rc = prepare_batch(e, batch, err);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

int pp_exec_size_capacity(const pp_exec *e) {
    (void)e;
    return MAX_SIZES;
}
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

/* A run with its symbols bound (pp_exec_run, pp_exec_run_shapes). */
static pp_code run_host(pp_exec *e, const int64_t *sym, const void *const *inputs, void *const *outputs,
                        pp_error *err) {
    pp_code rc = begin_run(e, sym, inputs, outputs, err);
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

pp_code pp_exec_run(pp_exec *e, int64_t batch, const void *const *inputs, void *const *outputs, pp_error *err) {
    int64_t sym[PP_MAX_SYMBOLS];
    pp_code rc = batch_symbols(e, batch, sym, err);
    return rc ? rc : run_host(e, sym, inputs, outputs, err);
}

pp_code pp_exec_run_shapes(pp_exec *e, const int64_t *const *in_dims, const void *const *inputs, void *const *outputs,
                           pp_error *err) {
    int64_t sym[PP_MAX_SYMBOLS];
    if (!in_dims) return pp_error_set(err, PP_ERR_INVALID_ARG, "a run with shapes needs each input's extents");
    pp_code rc = pp_exec_bind(e, in_dims, sym, err);
    return rc ? rc : run_host(e, sym, inputs, outputs, err);
}

static pp_code run_device(pp_exec *e, const int64_t *sym, const void *const *inputs, void *const *outputs, void *stream,
                          pp_error *err) {
    if (e->R != 1)
        return pp_error_set(err, PP_ERR_INVALID_ARG,
                            "device buffers live on one device, but this engine has %d replicas (%s, %s, ...); build "
                            "it with one replica",
                            e->R, RT(e, 0, 0)->b->name, RT(e, 1, 0)->b->name);
    pp_code rc = begin_run(e, sym, inputs, outputs, err);
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

pp_code pp_exec_run_device(pp_exec *e, int64_t batch, const void *const *inputs, void *const *outputs, void *stream,
                           pp_error *err) {
    int64_t sym[PP_MAX_SYMBOLS];
    pp_code rc = batch_symbols(e, batch, sym, err);
    return rc ? rc : run_device(e, sym, inputs, outputs, stream, err);
}

pp_code pp_exec_run_device_shapes(pp_exec *e, const int64_t *const *in_dims, const void *const *inputs,
                                  void *const *outputs, void *stream, pp_error *err) {
    int64_t sym[PP_MAX_SYMBOLS];
    if (!in_dims) return pp_error_set(err, PP_ERR_INVALID_ARG, "a run with shapes needs each input's extents");
    pp_code rc = pp_exec_bind(e, in_dims, sym, err);
    return rc ? rc : run_device(e, sym, inputs, outputs, stream, err);
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

const char *pp_exec_node_path(pp_exec *e, int node) {
    for (int p = 0; p < e->P; p++) {
        stage_rt *rt = RT(e, 0, p);
        const pp_plan_stage *st = &e->plan->stages[p];
        if (node < st->first || node >= st->last || !rt->n_sizes || !rt->b->ops->describe) continue;
        return rt->b->ops->describe(rt->b, &rt->sizes[0].l[node - st->first]);
    }
    return NULL;
}

const char *pp_exec_device_info(pp_exec *e, int p) {
    stage_rt *rt = RT(e, 0, p);
    return rt->b->ops->describe ? rt->b->ops->describe(rt->b, NULL) : NULL;
}

void pp_exec_counts(pp_exec *e, long *replays, long *launches) {
    *replays = atomic_exchange(&e->n_replays, 0);
    *launches = atomic_exchange(&e->n_launches, 0);
}

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

void pp_exec_trace_events(const pp_exec *e, FILE *f, int pid, int tid_base, double origin_us, int *first) {
    if (e->trace) pp_trace_write_events(e->trace, f, pid, tid_base, origin_us, first);
}

/* batcher.c: the dynamic batcher (batcher.h). One mutex guards the queue and
 * every slot's state; the worker holds it only to take requests and to hand
 * results over, never while it copies or runs. Callbacks run without it. */
#include "batcher.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { FREE, QUEUED, RUNNING, DONE };

typedef struct slot {
    uint64_t id; /* gen * cap + index + 1 while in use; ids are never reused */
    int state;
    int prev, next; /* the queue's links while QUEUED; next links the free list while FREE */
    int waiting;    /* a thread is in pp_batch_queue_wait for it */
    int64_t batch;
    const void **in;              /* [n_in], the caller's pointers */
    void **out;                   /* [n_out] */
    int64_t t_submit, t_deadline; /* ns, CLOCK_MONOTONIC; deadline 0: none */
    pp_request_callback cb;
    void *user;
    pp_request_result res;
    pp_error err;
    pthread_cond_t done; /* DONE, for the waiter */
} slot;

struct pp_batch_queue {
    pp_exec *x;
    int n_in, n_out;
    int64_t max_batch, delay_ns;
    int max_queue, cap;           /* cap = max_queue + max_batch: the queue plus a batch in flight */
    size_t *in_row, *out_row;     /* bytes of one row of each input / output */
    slot *slots;                  /* [cap] */
    const void **ptrs;            /* [cap][n_in + n_out]: the slots' pointer arrays */
    void **stage_in, **stage_out; /* [n_in], [n_out]: max_batch rows each */
    const void **run_in;          /* [n_in]: what one run reads */
    void **run_out;               /* [n_out] */
    int *taken;                   /* [max_batch]: slots of the batch being run */
    int64_t *hist;                /* [max_batch + 2]: batches run by rows (the last: above max_batch) */

    pthread_mutex_t mu;
    pthread_cond_t work; /* the worker waits here for requests */
    int head, tail, free_head;
    int n_queued;
    int64_t queued_rows;
    uint64_t gen;
    int stopping, started;
    pthread_t worker;
};

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec to_timespec(int64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    return ts;
}

static slot *find(pp_batch_queue *q, uint64_t id) {
    if (id == 0) return NULL;
    slot *s = &q->slots[(id - 1) % (uint64_t)q->cap];
    return s->id == id && s->state != FREE ? s : NULL;
}

static void unlink_queued(pp_batch_queue *q, slot *s) {
    if (s->prev >= 0) q->slots[s->prev].next = s->next;
    else q->head = s->next;
    if (s->next >= 0) q->slots[s->next].prev = s->prev;
    else q->tail = s->prev;
    q->n_queued--;
    q->queued_rows -= s->batch;
}

static void release(pp_batch_queue *q, slot *s) {
    s->state = FREE;
    s->id = 0;
    s->waiting = 0;
    s->next = q->free_head;
    q->free_head = (int)(s - q->slots);
}

/* Records the outcome of s (mu held). */
static void set_result(slot *s, pp_code code, const pp_error *err, int64_t rows, int64_t t_start, int64_t t_end) {
    s->res.code = (pp_status_code)code;
    s->err.code = code;
    if (code && err) memcpy(s->err.msg, err->msg, sizeof s->err.msg);
    else s->err.msg[0] = 0;
    s->res.batch = rows;
    s->res.queue_us = (t_start - s->t_submit) / 1000;
    s->res.compute_us = (t_end - t_start) / 1000;
}

/* Hands a finished request over (mu held on entry and on return): a waiter is
 * woken; a callback runs with mu released, then the slot is free again. */
static void complete(pp_batch_queue *q, slot *s) {
    if (!s->cb) {
        s->state = DONE;
        pthread_cond_signal(&s->done);
        return;
    }
    pp_request_result r = s->res;
    r.message = s->err.msg;
    pp_request_callback cb = s->cb;
    void *user = s->user;
    s->state = RUNNING; /* neither cancellable nor waitable while the callback runs */
    pthread_mutex_unlock(&q->mu);
    cb(user, &r);
    pthread_mutex_lock(&q->mu);
    release(q, s);
}

/* Takes the requests of the next batch off the queue (mu held): FIFO, as many
 * as fit in max_batch rows (one larger request runs alone). Requests whose
 * deadline has passed are finished as expired instead. Returns the rows. */
static int64_t take_batch(pp_batch_queue *q, int *n_taken) {
    int64_t rows = 0, t = now_ns();
    int n = 0;
    while (q->head >= 0) {
        slot *s = &q->slots[q->head];
        if (s->t_deadline && t >= s->t_deadline) {
            unlink_queued(q, s);
            pp_error e;
            pp_error_set(&e, PP_ERR_DEADLINE, "request %llu: its deadline passed after %.3f ms in the queue",
                         (unsigned long long)s->id, (double)(t - s->t_submit) / 1e6);
            set_result(s, PP_ERR_DEADLINE, &e, 0, t, t);
            complete(q, s); /* may release mu: the queue is re-read from the head */
            continue;
        }
        if (n > 0 && rows + s->batch > q->max_batch) break;
        unlink_queued(q, s);
        s->state = RUNNING;
        q->taken[n++] = (int)(s - q->slots);
        rows += s->batch;
        if (rows >= q->max_batch) break;
    }
    *n_taken = n;
    return rows;
}

/* Points run_in / run_out at the callers' buffers where the requests' buffers
 * already lie side by side, and at the staging buffers (inputs copied in)
 * where they do not. Returns a mask of outputs to copy back: bit o set. */
static uint64_t gather(pp_batch_queue *q, int n) {
    uint64_t scatter = 0;
    for (int io = 0; io < 2; io++) {
        int count = io ? q->n_out : q->n_in;
        for (int i = 0; i < count; i++) {
            size_t row = io ? q->out_row[i] : q->in_row[i];
            const char *base = io ? (const char *)q->slots[q->taken[0]].out[i] : q->slots[q->taken[0]].in[i];
            size_t at = 0;
            int contiguous = 1;
            for (int k = 0; k < n && contiguous; k++) {
                slot *s = &q->slots[q->taken[k]];
                const char *p = io ? (const char *)s->out[i] : s->in[i];
                contiguous = p == base + at;
                at += row * (size_t)s->batch;
            }
            if (contiguous) {
                if (io) q->run_out[i] = (void *)base;
                else q->run_in[i] = base;
                continue;
            }
            if (io) {
                q->run_out[i] = q->stage_out[i];
                if (i < 64) scatter |= 1ull << i;
                continue;
            }
            at = 0;
            for (int k = 0; k < n; k++) {
                slot *s = &q->slots[q->taken[k]];
                memcpy((char *)q->stage_in[i] + at, s->in[i], row * (size_t)s->batch);
                at += row * (size_t)s->batch;
            }
            q->run_in[i] = q->stage_in[i];
        }
    }
    return scatter;
}

static void scatter_outputs(pp_batch_queue *q, int n, uint64_t mask) {
    for (int o = 0; o < q->n_out && o < 64; o++) {
        if (!(mask >> o & 1)) continue;
        size_t at = 0;
        for (int k = 0; k < n; k++) {
            slot *s = &q->slots[q->taken[k]];
            memcpy(s->out[o], (char *)q->stage_out[o] + at, q->out_row[o] * (size_t)s->batch);
            at += q->out_row[o] * (size_t)s->batch;
        }
    }
}

/* Runs the n requests in q->taken as one batch of `rows` (mu not held). */
static void run_batch(pp_batch_queue *q, int n, int64_t rows) {
    int64_t t0 = now_ns();
    uint64_t mask = gather(q, n);
    pp_error err;
    pp_code rc = pp_exec_run(q->x, rows, q->run_in, q->run_out, &err);
    if (!rc) scatter_outputs(q, n, mask);
    int64_t t1 = now_ns();
    pthread_mutex_lock(&q->mu);
    q->hist[rows <= q->max_batch ? rows : q->max_batch + 1]++;
    for (int k = 0; k < n; k++) set_result(&q->slots[q->taken[k]], rc, &err, rows, t0, t1);
    for (int k = 0; k < n; k++) complete(q, &q->slots[q->taken[k]]);
    pthread_mutex_unlock(&q->mu);
}

static void *worker_main(void *arg) {
    pp_batch_queue *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->head < 0 && !q->stopping) pthread_cond_wait(&q->work, &q->mu);
        if (q->head < 0) break; /* stopping, and nothing left to run */
        /* The first request waits at most max_delay for company; a full batch,
         * or a stop, starts at once. */
        int64_t form_by = q->slots[q->head].t_submit + q->delay_ns;
        while (q->head >= 0 && !q->stopping && q->queued_rows < q->max_batch && now_ns() < form_by) {
            struct timespec ts = to_timespec(form_by);
            pthread_cond_timedwait(&q->work, &q->mu, &ts);
        }
        int n;
        int64_t rows = take_batch(q, &n);
        if (!n) continue;
        pthread_mutex_unlock(&q->mu);
        run_batch(q, n, rows);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* Merging along axis 0 needs every input and output to be a whole number of
 * rows; fixed-size tensors cannot be split back per request. */
static pp_code check_rows(pp_batch_queue *q, pp_error *err) {
    for (int io = 0; io < 2; io++) {
        int count = io ? q->n_out : q->n_in;
        for (int i = 0; i < count; i++) {
            uint64_t one = io ? pp_exec_output_bytes(q->x, i, 1) : pp_exec_input_bytes(q->x, i, 1);
            uint64_t two = io ? pp_exec_output_bytes(q->x, i, 2) : pp_exec_input_bytes(q->x, i, 2);
            if (two != 2 * one || one == 0)
                return pp_error_set(err, PP_ERR_UNSUPPORTED,
                                    "%s %d does not grow with the batch (%llu bytes at batch 1, %llu at 2): the "
                                    "batcher merges requests along axis 0",
                                    io ? "output" : "input", i, (unsigned long long)one, (unsigned long long)two);
            if (io) q->out_row[i] = (size_t)one;
            else q->in_row[i] = (size_t)one;
        }
    }
    return PP_OK;
}

static pp_code alloc_parts(pp_batch_queue *q, pp_error *err) {
    int np = q->n_in + q->n_out;
    q->in_row = pp_calloc((size_t)q->n_in + 1, sizeof(size_t));
    q->out_row = pp_calloc((size_t)q->n_out + 1, sizeof(size_t));
    q->slots = pp_calloc((size_t)q->cap, sizeof(slot));
    q->ptrs = pp_calloc((size_t)q->cap * (size_t)np + 1, sizeof(void *));
    q->stage_in = pp_calloc((size_t)q->n_in + 1, sizeof(void *));
    q->stage_out = pp_calloc((size_t)q->n_out + 1, sizeof(void *));
    q->run_in = pp_calloc((size_t)q->n_in + 1, sizeof(void *));
    q->run_out = pp_calloc((size_t)q->n_out + 1, sizeof(void *));
    q->taken = pp_calloc((size_t)q->max_batch, sizeof(int));
    q->hist = pp_calloc((size_t)q->max_batch + 2, sizeof(int64_t));
    if (!q->in_row || !q->out_row || !q->slots || !q->ptrs || !q->stage_in || !q->stage_out || !q->run_in ||
        !q->run_out || !q->taken || !q->hist)
        return pp_error_nomem(err, "batcher: out of memory for %d request slots", q->cap);
    pp_code rc = check_rows(q, err);
    if (rc) return rc;
    for (int i = 0; i < q->n_in; i++)
        if (!(q->stage_in[i] = pp_malloc(q->in_row[i] * (size_t)q->max_batch)))
            return pp_error_nomem(err, "batcher: out of memory staging input %d (%zu bytes)", i,
                                  q->in_row[i] * (size_t)q->max_batch);
    for (int o = 0; o < q->n_out; o++)
        if (!(q->stage_out[o] = pp_malloc(q->out_row[o] * (size_t)q->max_batch)))
            return pp_error_nomem(err, "batcher: out of memory staging output %d (%zu bytes)", o,
                                  q->out_row[o] * (size_t)q->max_batch);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    for (int i = 0; i < q->cap; i++) {
        slot *s = &q->slots[i];
        s->in = q->ptrs + (size_t)i * (size_t)np;
        s->out = (void **)(q->ptrs + (size_t)i * (size_t)np + q->n_in);
        s->next = i + 1 < q->cap ? i + 1 : -1;
        pthread_cond_init(&s->done, &ca);
    }
    pthread_cond_init(&q->work, &ca);
    pthread_condattr_destroy(&ca);
    return PP_OK;
}

/* Every batch size up to max_batch prepared now, so that no run allocates;
 * skipped when they would not all stay prepared at once. */
static pp_code prepare_sizes(pp_batch_queue *q, pp_error *err) {
    int64_t M = pp_exec_microbatch(q->x);
    int64_t needed = q->max_batch >= M ? M : q->max_batch + 1;
    if (needed > pp_exec_size_capacity(q->x)) return PP_OK;
    for (int64_t n = 1; n <= q->max_batch && n <= M; n++) {
        pp_code rc = pp_exec_prepare(q->x, n, err);
        if (rc) return rc;
    }
    return PP_OK;
}

pp_code pp_batch_queue_create(pp_exec *x, const pp_graph *g, const pp_batch_queue_options *o, pp_batch_queue **out,
                              pp_error *err) {
    *out = NULL;
    if (o->max_batch < 1 || o->max_batch > (1 << 20))
        return pp_error_set(err, PP_ERR_INVALID_ARG, "batcher: max_batch %lld is not in 1..1048576",
                            (long long)o->max_batch);
    if (o->max_delay_us < 0 || o->max_delay_us > 60000000)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "batcher: max_delay_us %lld is not in 0..60000000",
                            (long long)o->max_delay_us);
    if (o->max_queue < 1 || o->max_queue > (1 << 20))
        return pp_error_set(err, PP_ERR_INVALID_ARG, "batcher: max_queue %d is not in 1..1048576", o->max_queue);
    pp_batch_queue *q = pp_calloc(1, sizeof *q);
    if (!q) return pp_error_nomem(err, "batcher: out of memory");
    pthread_mutex_init(&q->mu, NULL);
    q->x = x;
    q->n_in = g->n_inputs;
    q->n_out = g->n_outputs;
    q->max_batch = o->max_batch;
    q->delay_ns = o->max_delay_us * 1000;
    q->max_queue = o->max_queue;
    q->cap = o->max_queue + (int)o->max_batch;
    q->head = q->tail = -1;
    pp_code rc = alloc_parts(q, err);
    if (!rc) rc = prepare_sizes(q, err);
    if (!rc && pthread_create(&q->worker, NULL, worker_main, q))
        rc = pp_error_set(err, PP_ERR_INTERNAL, "batcher: cannot start its worker thread");
    if (rc) {
        pp_batch_queue_free(q);
        return rc;
    }
    q->started = 1;
    *out = q;
    return PP_OK;
}

void pp_batch_queue_drain(pp_batch_queue *q) {
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
}

void pp_batch_queue_free(pp_batch_queue *q) {
    if (!q) return;
    if (q->started) {
        pp_batch_queue_drain(q);
        pthread_join(q->worker, NULL);
    }
    for (int i = 0; q->slots && i < q->cap; i++)
        if (q->slots[i].in) pthread_cond_destroy(&q->slots[i].done);
    if (q->slots && q->slots[0].in) pthread_cond_destroy(&q->work);
    for (int i = 0; q->stage_in && i < q->n_in; i++) pp_free(q->stage_in[i]);
    for (int o = 0; q->stage_out && o < q->n_out; o++) pp_free(q->stage_out[o]);
    pp_free(q->in_row);
    pp_free(q->out_row);
    pp_free(q->slots);
    pp_free(q->ptrs);
    pp_free(q->stage_in);
    pp_free(q->stage_out);
    pp_free(q->run_in);
    pp_free(q->run_out);
    pp_free(q->taken);
    pp_free(q->hist);
    pthread_mutex_destroy(&q->mu);
    pp_free(q);
}

static pp_code check_request(pp_batch_queue *q, int64_t batch, const void *const *inputs, void *const *outputs,
                             int64_t timeout_us, pp_request_callback cb, uint64_t *id, pp_error *err) {
    if (batch < 1)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "batcher: batch %lld, need at least 1", (long long)batch);
    if (timeout_us < 0)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "batcher: timeout_us %lld is negative", (long long)timeout_us);
    if (!cb && !id)
        return pp_error_set(err, PP_ERR_INVALID_ARG,
                            "batcher: a request needs a callback or an id to wait on, and has neither");
    if (!inputs || !outputs)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "batcher: inputs and outputs must not be NULL");
    for (int i = 0; i < q->n_in; i++)
        if (!inputs[i]) return pp_error_set(err, PP_ERR_INVALID_ARG, "batcher: input %d has no buffer", i);
    for (int o = 0; o < q->n_out; o++)
        if (!outputs[o]) return pp_error_set(err, PP_ERR_INVALID_ARG, "batcher: output %d has no buffer", o);
    return PP_OK;
}

pp_code pp_batch_queue_submit(pp_batch_queue *q, int64_t batch, const void *const *inputs, void *const *outputs,
                              int64_t timeout_us, pp_request_callback cb, void *user, uint64_t *id, pp_error *err) {
    pp_code rc = check_request(q, batch, inputs, outputs, timeout_us, cb, id, err);
    if (rc) return rc;
    int64_t t = now_ns();
    pthread_mutex_lock(&q->mu);
    if (q->stopping) {
        pthread_mutex_unlock(&q->mu);
        return pp_error_set(err, PP_ERR_CANCELLED, "batcher: shutting down, no new requests");
    }
    if (q->n_queued >= q->max_queue || q->free_head < 0) {
        int n = q->n_queued;
        pthread_mutex_unlock(&q->mu);
        return pp_error_set(err, PP_ERR_OVERLOADED, "batcher: queue full (%d requests waiting, max_queue %d)", n,
                            q->max_queue);
    }
    int i = q->free_head;
    slot *s = &q->slots[i];
    q->free_head = s->next;
    s->id = ++q->gen * (uint64_t)q->cap + (uint64_t)i + 1;
    s->state = QUEUED;
    s->waiting = 0;
    s->batch = batch;
    memcpy(s->in, inputs, sizeof(void *) * (size_t)q->n_in);
    memcpy(s->out, outputs, sizeof(void *) * (size_t)q->n_out);
    s->t_submit = t;
    s->t_deadline = timeout_us ? t + timeout_us * 1000 : 0;
    s->cb = cb;
    s->user = user;
    memset(&s->res, 0, sizeof s->res);
    s->prev = q->tail;
    s->next = -1;
    if (q->tail >= 0) q->slots[q->tail].next = i;
    else q->head = i;
    q->tail = i;
    q->n_queued++;
    q->queued_rows += batch;
    if (id) *id = s->id;
    /* The worker needs waking for the first request (to start its delay) and
     * when a batch is full; in between it sleeps out the delay. */
    if (q->n_queued == 1 || q->queued_rows >= q->max_batch) pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
    return PP_OK;
}

pp_code pp_batch_queue_wait(pp_batch_queue *q, uint64_t id, pp_request_result *res, pp_error *err) {
    pthread_mutex_lock(&q->mu);
    slot *s = find(q, id);
    if (!s || s->cb || s->waiting) {
        pthread_mutex_unlock(&q->mu);
        return pp_error_set(err, PP_ERR_INVALID_ARG,
                            "batcher: request %llu is not one to wait for (unknown, already waited for, or "
                            "submitted with a callback)",
                            (unsigned long long)id);
    }
    s->waiting = 1;
    while (s->state != DONE) {
        if (s->state == QUEUED && s->t_deadline) {
            /* A waiter expires its own request on time, even while the worker
             * is busy with a long batch. */
            struct timespec ts = to_timespec(s->t_deadline);
            pthread_cond_timedwait(&s->done, &q->mu, &ts);
            int64_t t = now_ns();
            if (s->state == QUEUED && t >= s->t_deadline) {
                unlink_queued(q, s);
                pp_error e;
                pp_error_set(&e, PP_ERR_DEADLINE, "request %llu: its deadline passed after %.3f ms in the queue",
                             (unsigned long long)s->id, (double)(t - s->t_submit) / 1e6);
                set_result(s, PP_ERR_DEADLINE, &e, 0, t, t);
                s->state = DONE;
            }
        } else {
            pthread_cond_wait(&s->done, &q->mu);
        }
    }
    pp_code rc = (pp_code)s->res.code;
    if (rc && err) *err = s->err;
    if (res) {
        *res = s->res;
        res->message = rc && err ? err->msg : "";
    }
    release(q, s);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int pp_batch_queue_cancel(pp_batch_queue *q, uint64_t id) {
    pthread_mutex_lock(&q->mu);
    slot *s = find(q, id);
    int done = s && s->state == QUEUED;
    if (done) {
        unlink_queued(q, s);
        int64_t t = now_ns();
        pp_error e;
        pp_error_set(&e, PP_ERR_CANCELLED, "request %llu: cancelled after %.3f ms in the queue", (unsigned long long)id,
                     (double)(t - s->t_submit) / 1e6);
        set_result(s, PP_ERR_CANCELLED, &e, 0, t, t);
        complete(q, s);
    }
    pthread_mutex_unlock(&q->mu);
    return done;
}

int64_t pp_batch_queue_depth(pp_batch_queue *q) {
    pthread_mutex_lock(&q->mu);
    int64_t n = q->n_queued;
    pthread_mutex_unlock(&q->mu);
    return n;
}

int64_t pp_batch_queue_batches(pp_batch_queue *q, int64_t rows) {
    if (rows < 1) return 0;
    pthread_mutex_lock(&q->mu);
    int64_t n = q->hist[rows <= q->max_batch ? rows : q->max_batch + 1];
    pthread_mutex_unlock(&q->mu);
    return n;
}

int64_t pp_batch_queue_max_batch(const pp_batch_queue *q) { return q->max_batch; }

/* pp_batcher (include/ppengine.h): merged runs give every request the bytes an
 * unbatched pp_engine_run gives it on the CPU backend (an MLP and the ResNet
 * fixture, requests carved from one buffer and scattered ones, pipelined and
 * replicated engines); completion order; deadlines; the bounded queue;
 * cancellation; no allocation in the steady state; free runs what is queued.
 *
 * Batches are made deterministic by a max_delay far longer than any test: a
 * run then starts only when max_batch rows are queued (or at free), so the
 * request sizes below add up to max_batch group by group. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "converter/convert.h"
#include "engine/graph.h"
#include "ppengine.h"
#include "support/count_allocs.h"
#include "support/small_graphs.h"

#define FOREVER "60000000" /* max_delay_us: a run starts only when full */

static char path[256];

static void write_mlp(void) {
    snprintf(path, sizeof path, "/tmp/pp_batcher_%d.bin", (int)getpid());
    pp_graph *g = test_mlp_graph();
    pp_error err;
    cr_assert_eq(pp_graph_write(g, path, &err), PP_OK, "%s", err.msg);
    pp_graph_free(g);
}

static void convert_resnet(void) {
    char src[512];
    snprintf(src, sizeof src, "%s/tests/fixtures/models/resnet.onnx", PP_SOURCE_DIR);
    snprintf(path, sizeof path, "/tmp/pp_batcher_resnet_%d.bin", (int)getpid());
    pp_convert_options co;
    memset(&co, 0, sizeof co);
    co.input = src;
    co.output = path;
    pp_convert_stats st;
    pp_error err;
    cr_assert_eq(pp_convert(&co, &st, &err), PP_OK, "%s", err.msg);
}

typedef struct setup {
    pp_net *net;
    pp_engine *eng;
    pp_batcher *b;
} setup;

static setup make(const char *devices, const char *stages, const char *max_batch, const char *delay,
                  const char *max_queue) {
    setup s;
    pp_options *o;
    cr_assert_null(pp_net_load(path, &s.net));
    cr_assert_null(pp_options_create(&o));
    cr_assert_null(pp_options_set(o, "devices", devices));
    cr_assert_null(pp_options_set(o, "stages", stages));
    cr_assert_null(pp_options_set(o, "max_batch", max_batch));
    cr_assert_null(pp_options_set(o, "max_delay_us", delay));
    cr_assert_null(pp_options_set(o, "max_queue", max_queue));
    /* batched runs are compared with unbatched ones byte for byte */
    cr_assert_null(pp_options_set(o, "deterministic", "1"));
    pp_status *st = pp_engine_create(s.net, o, &s.eng);
    cr_assert_null(st, "%s", pp_status_message(st));
    st = pp_batcher_create(s.eng, o, &s.b);
    cr_assert_null(st, "%s", pp_status_message(st));
    pp_options_free(o);
    return s;
}

static void unmake(setup *s) {
    pp_batcher_free(s->b);
    pp_engine_free(s->eng);
    pp_net_free(s->net);
}

/* Every input and output of the net as one buffer per tensor of `rows` rows. */
typedef struct io {
    int n_in, n_out;
    size_t in_row[8], out_row[8];
    char *in[8], *out[8];
} io;

static io io_make(const pp_net *net, int64_t rows, unsigned seed) {
    io b;
    memset(&b, 0, sizeof b);
    b.n_in = pp_net_input_count(net);
    b.n_out = pp_net_output_count(net);
    for (int i = 0; i < b.n_in; i++) {
        b.in_row[i] = pp_net_input_bytes(net, i, 1);
        float *x = test_random_floats(b.in_row[i] * (size_t)rows / sizeof(float), seed + (unsigned)i);
        b.in[i] = (char *)x;
    }
    for (int o = 0; o < b.n_out; o++) {
        b.out_row[o] = pp_net_output_bytes(net, o, 1);
        b.out[o] = malloc(b.out_row[o] * (size_t)rows);
        memset(b.out[o], 0xA5, b.out_row[o] * (size_t)rows); /* a NaN pattern: untouched shows */
    }
    return b;
}

static void io_free(io *b) {
    for (int i = 0; i < b->n_in; i++) free(b->in[i]);
    for (int o = 0; o < b->n_out; o++) free(b->out[o]);
}

/* Pointers to rows [at, at + n) of each tensor. */
static void io_rows(io *b, int64_t at, const void **in, void **out) {
    for (int i = 0; i < b->n_in; i++) in[i] = b->in[i] + b->in_row[i] * (size_t)at;
    for (int o = 0; o < b->n_out; o++) out[o] = b->out[o] + b->out_row[o] * (size_t)at;
}

/* Requests of these sizes (groups adding up to max_batch 8) through the
 * batcher, carved from one buffer (in place) or copied into their own
 * (staged), must equal one unbatched run per request, byte for byte. */
static const int64_t SIZES[] = {3, 1, 4, 2, 2, 2, 2, 8, 5, 3, 1, 1, 1, 1, 1, 1, 1, 1};
enum { N_REQ = sizeof SIZES / sizeof SIZES[0], ROWS = 40, GROUPS = 5 };

static void check_identical(const char *devices, const char *stages) {
    setup s = make(devices, stages, "8", FOREVER, "64");
    io all = io_make(s.net, ROWS, 11);
    io want = io_make(s.net, ROWS, 11);
    /* The reference: each request's rows run alone through pp_engine_run. */
    int64_t at = 0;
    for (int r = 0; r < N_REQ; at += SIZES[r], r++) {
        const void *in[8];
        void *out[8];
        io_rows(&want, at, in, out);
        pp_status *st = pp_engine_run(s.eng, SIZES[r], in, out);
        cr_assert_null(st, "%s", pp_status_message(st));
    }
    for (int staged = 0; staged < 2; staged++) {
        io own[N_REQ];
        uint64_t ids[N_REQ];
        at = 0;
        for (int r = 0; r < N_REQ; at += SIZES[r], r++) {
            const void *in[8];
            void *out[8];
            if (staged) { /* every request in buffers of its own: copied in and out */
                own[r] = io_make(s.net, SIZES[r], 0);
                for (int i = 0; i < own[r].n_in; i++)
                    memcpy(own[r].in[i], all.in[i] + all.in_row[i] * (size_t)at, all.in_row[i] * (size_t)SIZES[r]);
                io_rows(&own[r], 0, in, out);
            } else {
                io_rows(&all, at, in, out);
            }
            pp_status *st = pp_batcher_submit(s.b, SIZES[r], in, out, 0, NULL, NULL, &ids[r]);
            cr_assert_null(st, "%s", pp_status_message(st));
        }
        at = 0;
        for (int r = 0; r < N_REQ; at += SIZES[r], r++) {
            pp_request_result res;
            pp_status *st = pp_batcher_wait(s.b, ids[r], &res);
            cr_assert_null(st, "%s: request %d: %s", devices, r, pp_status_message(st));
            cr_assert_eq(res.batch, 8, "%s: request %d ran in a batch of %lld", devices, r, (long long)res.batch);
            for (int o = 0; o < all.n_out; o++) {
                const char *got = staged ? own[r].out[o] : all.out[o] + all.out_row[o] * (size_t)at;
                cr_assert(!memcmp(got, want.out[o] + want.out_row[o] * (size_t)at, all.out_row[o] * (size_t)SIZES[r]),
                          "%s, %s: request %d (rows %lld..%lld), output %d differs from its unbatched run", devices,
                          staged ? "staged" : "in place", r, (long long)at, (long long)(at + SIZES[r] - 1), o);
            }
            if (staged) io_free(&own[r]);
        }
        cr_assert_eq(pp_batcher_batches(s.b, 8), GROUPS * (staged + 1), "%s: %lld runs of 8", devices,
                     (long long)pp_batcher_batches(s.b, 8));
    }
    io_free(&all);
    io_free(&want);
    unmake(&s);
}

Test(batcher, identical_to_unbatched_mlp) {
    write_mlp();
    check_identical("cpu", "1");
    check_identical("cpu:0,cpu:1,cpu:2,cpu:3", "2"); /* 2 replicas of 2 stages */
    unlink(path);
}

Test(batcher, identical_to_unbatched_resnet) {
    convert_resnet();
    check_identical("cpu", "1");
    unlink(path);
}

/* One request larger than max_batch runs alone, in place. */
Test(batcher, oversized_request_runs_alone) {
    write_mlp();
    setup s = make("cpu", "1", "4", FOREVER, "8");
    io a = io_make(s.net, 11, 3), want = io_make(s.net, 11, 3);
    const void *in[8];
    void *out[8];
    io_rows(&want, 0, in, out);
    cr_assert_null(pp_engine_run(s.eng, 11, in, out));
    io_rows(&a, 0, in, out);
    uint64_t id;
    cr_assert_null(pp_batcher_submit(s.b, 11, in, out, 0, NULL, NULL, &id));
    pp_request_result res;
    cr_assert_null(pp_batcher_wait(s.b, id, &res));
    cr_assert_eq(res.batch, 11);
    cr_assert_eq(pp_batcher_batches(s.b, 5), 1, "runs above max_batch count under max_batch + 1");
    cr_assert(!memcmp(a.out[0], want.out[0], a.out_row[0] * 11));
    io_free(&a);
    io_free(&want);
    unmake(&s);
    unlink(path);
}

typedef struct order_log {
    pthread_mutex_t mu;
    int seen[64], n;
    pp_status_code code[64];
} order_log;

typedef struct tag {
    order_log *log;
    int index;
} tag;

static void record(void *user, const pp_request_result *r) {
    tag *t = user;
    pthread_mutex_lock(&t->log->mu);
    t->log->code[t->log->n] = r->code;
    t->log->seen[t->log->n++] = t->index;
    pthread_mutex_unlock(&t->log->mu);
}

/* Callbacks come in submission order, across runs and within each. */
Test(batcher, completion_in_submission_order) {
    write_mlp();
    setup s = make("cpu", "1", "8", FOREVER, "64");
    io a = io_make(s.net, ROWS, 5);
    order_log log = {.mu = PTHREAD_MUTEX_INITIALIZER};
    tag tags[N_REQ];
    int64_t at = 0;
    for (int r = 0; r < N_REQ; at += SIZES[r], r++) {
        const void *in[8];
        void *out[8];
        io_rows(&a, at, in, out);
        tags[r] = (tag){&log, r};
        cr_assert_null(pp_batcher_submit(s.b, SIZES[r], in, out, 0, record, &tags[r], NULL));
    }
    pp_batcher_free(s.b); /* runs what is queued, then returns: every callback has been called */
    s.b = NULL;
    cr_assert_eq(log.n, N_REQ);
    for (int r = 0; r < N_REQ; r++) {
        cr_assert_eq(log.seen[r], r, "completion %d was request %d", r, log.seen[r]);
        cr_assert_eq(log.code[r], PP_STATUS_OK);
    }
    io_free(&a);
    unmake(&s);
    unlink(path);
}

/* A request whose deadline passes while it is queued fails with
 * DEADLINE_EXCEEDED and is never run: its outputs stay untouched. The waiter
 * expires its own request; a callback request expires when the worker reaches
 * it. No timing is assumed: the waited request, submitted after the other with
 * the same timeout, returning expired proves the first deadline passed too. */
Test(batcher, deadline_expires_without_running) {
    write_mlp();
    setup s = make("cpu", "1", "8", FOREVER, "64");
    io a = io_make(s.net, 10, 9);
    order_log log = {.mu = PTHREAD_MUTEX_INITIALIZER};
    tag t0 = {&log, 0};
    const void *in[8];
    void *out[8];
    io_rows(&a, 0, in, out);
    cr_assert_null(pp_batcher_submit(s.b, 1, in, out, 2000, record, &t0, NULL));
    uint64_t id;
    io_rows(&a, 1, in, out);
    cr_assert_null(pp_batcher_submit(s.b, 1, in, out, 2000, NULL, NULL, &id));
    pp_request_result res;
    pp_status *st = pp_batcher_wait(s.b, id, &res);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_DEADLINE_EXCEEDED, "%s", pp_status_message(st));
    cr_assert(strstr(pp_status_message(st), "deadline"), "%s", pp_status_message(st));
    cr_assert_eq(res.batch, 0);
    pp_status_free(st);
    /* Eight fresh rows make a full batch: the worker meets the expired request first. */
    io_rows(&a, 2, in, out);
    cr_assert_null(pp_batcher_submit(s.b, 8, in, out, 0, NULL, NULL, &id));
    cr_assert_null(pp_batcher_wait(s.b, id, &res));
    cr_assert_eq(res.batch, 8, "the expired request joined the run: batch %lld", (long long)res.batch);
    cr_assert_eq(log.n, 1);
    cr_assert_eq(log.code[0], PP_STATUS_DEADLINE_EXCEEDED);
    unsigned char *o0 = (unsigned char *)a.out[0];
    for (size_t k = 0; k < 2 * a.out_row[0]; k++) cr_assert_eq(o0[k], 0xA5, "an expired request's output was written");
    cr_assert_eq(pp_batcher_batches(s.b, 8), 1);
    cr_assert_eq(pp_batcher_batches(s.b, 1) + pp_batcher_batches(s.b, 2), 0);
    io_free(&a);
    unmake(&s);
    unlink(path);
}

/* max_queue requests waiting: the next submit is OVERLOADED at once and
 * nothing is queued; cancelling makes room again. */
Test(batcher, full_queue_is_overloaded) {
    write_mlp();
    setup s = make("cpu", "1", "8", FOREVER, "4");
    io a = io_make(s.net, 8, 2);
    const void *in[8];
    void *out[8];
    uint64_t ids[5];
    for (int r = 0; r < 4; r++) {
        io_rows(&a, r, in, out);
        cr_assert_null(pp_batcher_submit(s.b, 1, in, out, 0, NULL, NULL, &ids[r]));
    }
    cr_assert_eq(pp_batcher_queue_depth(s.b), 4);
    io_rows(&a, 4, in, out);
    pp_status *st = pp_batcher_submit(s.b, 1, in, out, 0, NULL, NULL, &ids[4]);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_OVERLOADED, "%s", pp_status_message(st));
    cr_assert(strstr(pp_status_message(st), "max_queue 4"), "%s", pp_status_message(st));
    pp_status_free(st);
    cr_assert_eq(pp_batcher_queue_depth(s.b), 4);
    cr_assert_eq(pp_batcher_cancel(s.b, ids[0]), 1);
    cr_assert_null(pp_batcher_submit(s.b, 1, in, out, 0, NULL, NULL, &ids[4]));
    st = pp_batcher_wait(s.b, ids[0], NULL);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_CANCELLED, "%s", pp_status_message(st));
    pp_status_free(st);
    for (int r = 1; r < 5; r++) cr_assert_eq(pp_batcher_cancel(s.b, ids[r]), 1);
    for (int r = 1; r < 5; r++) {
        st = pp_batcher_wait(s.b, ids[r], NULL);
        cr_assert_eq(pp_status_get_code(st), PP_STATUS_CANCELLED);
        pp_status_free(st);
    }
    cr_assert_eq(pp_batcher_queue_depth(s.b), 0);
    unsigned char *o0 = (unsigned char *)a.out[0];
    for (size_t k = 0; k < 5 * a.out_row[0]; k++) cr_assert_eq(o0[k], 0xA5, "a cancelled request's output was written");
    io_free(&a);
    unmake(&s);
    unlink(path);
}

/* Cancel: a queued request completes at once (a callback on the cancelling
 * thread), is never run, and its id is spent; unknown ids are refused. */
Test(batcher, cancel_queued_requests) {
    write_mlp();
    setup s = make("cpu", "1", "8", FOREVER, "16");
    io a = io_make(s.net, 8, 4), want = io_make(s.net, 8, 4);
    const void *in[8];
    void *out[8];
    order_log log = {.mu = PTHREAD_MUTEX_INITIALIZER};
    tag t0 = {&log, 7};
    uint64_t cb_id, w_id, keep;
    io_rows(&a, 0, in, out);
    cr_assert_null(pp_batcher_submit(s.b, 1, in, out, 0, record, &t0, &cb_id));
    io_rows(&a, 1, in, out);
    cr_assert_null(pp_batcher_submit(s.b, 1, in, out, 0, NULL, NULL, &w_id));
    cr_assert_eq(pp_batcher_cancel(s.b, cb_id), 1);
    cr_assert_eq(log.n, 1, "the callback ran on the cancelling thread before cancel returned");
    cr_assert_eq(log.code[0], PP_STATUS_CANCELLED);
    cr_assert_eq(pp_batcher_cancel(s.b, cb_id), 0, "a finished request cannot be cancelled again");
    cr_assert_eq(pp_batcher_cancel(s.b, w_id), 1);
    pp_status *st = pp_batcher_wait(s.b, w_id, NULL);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_CANCELLED);
    pp_status_free(st);
    st = pp_batcher_wait(s.b, w_id, NULL);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT, "waiting twice: %s", pp_status_message(st));
    pp_status_free(st);
    cr_assert_eq(pp_batcher_cancel(s.b, 12345), 0);
    /* The rest of the batch still runs and is right. */
    io_rows(&want, 2, in, out);
    cr_assert_null(pp_engine_run(s.eng, 6, in, out));
    io_rows(&a, 2, in, out);
    cr_assert_null(pp_batcher_submit(s.b, 6, in, out, 0, NULL, NULL, &keep));
    io_rows(&a, 0, in, out); /* two more rows fill the batch */
    uint64_t fill;
    cr_assert_null(pp_batcher_submit(s.b, 2, in, out, 0, NULL, NULL, &fill));
    cr_assert_null(pp_batcher_wait(s.b, keep, NULL));
    cr_assert_null(pp_batcher_wait(s.b, fill, NULL));
    cr_assert(!memcmp(a.out[0] + 2 * a.out_row[0], want.out[0] + 2 * want.out_row[0], 6 * a.out_row[0]));
    io_free(&a);
    io_free(&want);
    unmake(&s);
    unlink(path);
}

/* Drain runs a lone queued request at once (max_delay is a minute) and
 * refuses new ones; what was queued still completes. */
Test(batcher, drain_runs_the_queue_and_refuses_more) {
    write_mlp();
    setup s = make("cpu", "1", "8", FOREVER, "8");
    io a = io_make(s.net, 2, 6), want = io_make(s.net, 2, 6);
    const void *in[8];
    void *out[8];
    io_rows(&want, 0, in, out);
    cr_assert_null(pp_engine_run(s.eng, 1, in, out));
    io_rows(&a, 0, in, out);
    uint64_t id, id2;
    cr_assert_null(pp_batcher_submit(s.b, 1, in, out, 0, NULL, NULL, &id));
    pp_batcher_drain(s.b);
    pp_request_result res;
    cr_assert_null(pp_batcher_wait(s.b, id, &res));
    cr_assert_eq(res.batch, 1);
    cr_assert(!memcmp(a.out[0], want.out[0], a.out_row[0]));
    pp_status *st = pp_batcher_submit(s.b, 1, in, out, 0, NULL, NULL, &id2);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_CANCELLED, "%s", pp_status_message(st));
    pp_status_free(st);
    io_free(&a);
    io_free(&want);
    unmake(&s);
    unlink(path);
}

Test(batcher, bad_arguments) {
    write_mlp();
    setup s = make("cpu", "1", "4", "100", "4");
    io a = io_make(s.net, 2, 1);
    const void *in[8];
    void *out[8];
    io_rows(&a, 0, in, out);
    uint64_t id;
    pp_status *st = pp_batcher_submit(s.b, 0, in, out, 0, NULL, NULL, &id);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    pp_status_free(st);
    st = pp_batcher_submit(s.b, 1, in, out, 0, NULL, NULL, NULL);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    cr_assert(strstr(pp_status_message(st), "callback or an id"), "%s", pp_status_message(st));
    pp_status_free(st);
    out[1] = NULL;
    st = pp_batcher_submit(s.b, 1, in, out, 0, NULL, NULL, &id);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    cr_assert(strstr(pp_status_message(st), "output 1"), "%s", pp_status_message(st));
    pp_status_free(st);
    st = pp_batcher_submit(s.b, 1, in, out, -5, NULL, NULL, &id);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    pp_status_free(st);
    pp_options *o;
    cr_assert_null(pp_options_create(&o));
    st = pp_options_set(o, "max_delay_us", "-1");
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    pp_status_free(st);
    st = pp_options_set(o, "max_queue", "0");
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    pp_status_free(st);
    pp_options_free(o);
    pp_batcher *b2 = NULL;
    st = pp_batcher_create(NULL, NULL, &b2);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    pp_status_free(st);
    cr_assert_null(b2);
    /* Without options the batcher merges up to the engine's max_batch. */
    cr_assert_null(pp_batcher_create(s.eng, NULL, &b2));
    cr_assert_eq(pp_batcher_max_batch(b2), 4);
    pp_batcher_free(b2);
    io_free(&a);
    unmake(&s);
    unlink(path);
}

/* Submit, run, wait and callbacks allocate nothing once the batcher exists,
 * at every batch size: k rows, then 8 that do not fit beside them, make a run
 * of k and one of 8. Staged requests (in buffers of their own) and in-place
 * ones, both ways of completing. */
static void count_cb(void *user, const pp_request_result *r) {
    if (r->code == PP_STATUS_OK) __atomic_add_fetch((int *)user, 1, __ATOMIC_SEQ_CST);
}

Test(batcher, no_allocation_in_steady_state) {
#ifndef COUNT_ALLOCS
    cr_skip_test("the allocation counter is off under sanitizers");
#else
    write_mlp();
    setup s = make("cpu", "1", "8", FOREVER, "64");
    io own[2] = {io_make(s.net, 8, 1), io_make(s.net, 8, 2)};
    io all = io_make(s.net, 16, 3);
    int ok = 0;
    long before = atomic_load(&n_allocs);
    for (int round = 0; round < 28; round++) {
        int64_t k = round % 7 + 1;
        int staged = round / 7 % 2, callbacks = round / 14;
        uint64_t ids[2];
        for (int r = 0; r < 2; r++) {
            const void *in[8];
            void *out[8];
            if (staged) io_rows(&own[r], 0, in, out);
            else io_rows(&all, r ? k : 0, in, out);
            cr_assert_null(pp_batcher_submit(s.b, r ? 8 : k, in, out, 0, callbacks ? count_cb : NULL, &ok, &ids[r]));
        }
        if (!callbacks)
            for (int r = 0; r < 2; r++) cr_assert_null(pp_batcher_wait(s.b, ids[r], NULL));
    }
    long during = atomic_load(&n_allocs) - before;
    /* One more, waited for: the runs before it are over (one worker, FIFO). */
    const void *in[8];
    void *out[8];
    io_rows(&all, 0, in, out);
    uint64_t last;
    cr_assert_null(pp_batcher_submit(s.b, 8, in, out, 0, NULL, NULL, &last));
    cr_assert_null(pp_batcher_wait(s.b, last, NULL));
    cr_assert_eq(ok, 14 * 2);
    cr_assert_eq(during, 0, "%ld allocations in 56 batched requests", during);
    for (int64_t k = 1; k < 8; k++)
        cr_assert_eq(pp_batcher_batches(s.b, k), 4, "%lld runs of %lld rows, want 4",
                     (long long)pp_batcher_batches(s.b, k), (long long)k);
    for (int r = 0; r < 2; r++) io_free(&own[r]);
    io_free(&all);
    unmake(&s);
    unlink(path);
#endif
}

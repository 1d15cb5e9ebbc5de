/* include/ppengine.h: statuses for bad arguments, loading from file and memory,
 * many threads on one engine, no allocation on the steady-state run path, and
 * cancellation from another thread. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/graph.h"
#include "ppengine.h"
#include "support/count_allocs.h"
#include "support/small_graphs.h"

static char path[256];

static void write_mlp(void) {
    snprintf(path, sizeof path, "/tmp/pp_api_%d.bin", (int)getpid());
    pp_graph *g = test_mlp_graph();
    pp_error err;
    cr_assert_eq(pp_graph_write(g, path, &err), PP_OK, "%s", err.msg);
    pp_graph_free(g);
}

static pp_engine *make_engine_graphs(pp_net **net, const char *devices, const char *stages, const char *micro,
                                     const char *graphs) {
    pp_options *o;
    pp_engine *e;
    cr_assert_null(pp_net_load(path, net));
    cr_assert_null(pp_options_create(&o));
    cr_assert_null(pp_options_set(o, "devices", devices));
    cr_assert_null(pp_options_set(o, "stages", stages));
    cr_assert_null(pp_options_set(o, "microbatch", micro));
    cr_assert_null(pp_options_set(o, "max_batch", "8"));
    cr_assert_null(pp_options_set(o, "graphs", graphs));
    pp_status *st = pp_engine_create(*net, o, &e);
    cr_assert_null(st, "%s", pp_status_message(st));
    pp_options_free(o);
    return e;
}

static pp_engine *make_engine(pp_net **net, const char *devices, const char *stages, const char *micro) {
    return make_engine_graphs(net, devices, stages, micro, "0");
}

Test(api, bad_arguments_get_statuses) {
    write_mlp();
    pp_net *net = NULL;
    pp_status *st = pp_net_load("/nonexistent/graph.bin", &net);
    cr_assert_not_null(st);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_IO);
    cr_assert(strstr(pp_status_message(st), "/nonexistent/graph.bin"), "%s", pp_status_message(st));
    pp_status_free(st);
    cr_assert_null(net);
    st = pp_net_load(NULL, &net);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    pp_status_free(st);
    cr_assert_eq(pp_status_get_code(NULL), PP_STATUS_OK);
    pp_status_free(NULL);

    pp_options *o;
    cr_assert_null(pp_options_create(&o));
    st = pp_options_set(o, "stagez", "2");
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    cr_assert(strstr(pp_status_message(st), "stagez"));
    pp_status_free(st);
    st = pp_options_set(o, "stages", "two");
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    pp_status_free(st);
    cr_assert_null(pp_options_set(o, "devices", "cpu:0,cpu:1,cpu:2"));
    cr_assert_null(pp_options_set(o, "stages", "2"));
    cr_assert_null(pp_net_load(path, &net));
    pp_engine *e = NULL;
    st = pp_engine_create(net, o, &e);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    pp_status_free(st);
    cr_assert_null(e);
    pp_tensor_info info;
    st = pp_net_input_info(net, 5, &info);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    pp_status_free(st);
    cr_assert_null(pp_net_input_info(net, 0, &info));
    cr_assert_str_eq(info.name, "x");
    cr_assert_eq(info.dims[0], -1);
    cr_assert_eq(pp_net_input_bytes(net, 0, 3), 3 * MLP_IN * sizeof(float));
    st = pp_engine_run(NULL, 1, NULL, NULL);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    pp_status_free(st);
    pp_options_free(o);
    pp_net_free(net);
    cr_assert_str_eq(pp_version(), "0.1.0");
    unlink(path);
}

Test(api, load_from_memory_and_run) {
    write_mlp();
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)n);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    pp_net *net;
    cr_assert_null(pp_net_load_memory(buf, (size_t)n, &net));
    pp_engine *e;
    cr_assert_null(pp_engine_create(net, NULL, &e));
    float *x = test_random_floats(3 * MLP_IN, 5), p[3 * MLP_OUT], h[3 * MLP_HID], rp[3 * MLP_OUT], rh[3 * MLP_HID];
    const void *in[] = {x};
    void *out[] = {p, h};
    pp_status *st = pp_engine_run(e, 3, in, out);
    cr_assert_null(st, "%s", pp_status_message(st));
    test_mlp_reference(3, x, rp, rh);
    for (int i = 0; i < 3 * MLP_OUT; i++) cr_assert_float_eq(p[i], rp[i], 1e-5);
    pp_engine_free(e);
    pp_net_free(net);
    free(buf);
    free(x);
    unlink(path);
}

/* Device runs (host memory on CPU devices) give what host runs give, with and
 * without graphs, across stages; bad arguments get statuses. */
Test(api, device_runs_match_host_runs) {
    write_mlp();
    const char *configs[][4] = {{"cpu", "1", "8", "0"}, {"cpu", "1", "3", "1"}, {"cpu:0,cpu:1", "2", "2", "1"}};
    float *x = test_random_floats(8 * MLP_IN, 21), rp[8 * MLP_OUT], rh[8 * MLP_HID];
    test_mlp_reference(8, x, rp, rh);
    for (int c = 0; c < 3; c++) {
        pp_net *net;
        pp_engine *e = make_engine_graphs(&net, configs[c][0], configs[c][1], configs[c][2], configs[c][3]);
        float p[8 * MLP_OUT], h[8 * MLP_HID], p2[8 * MLP_OUT], h2[8 * MLP_HID];
        const void *in[] = {x};
        void *out[] = {p, h}, *out2[] = {p2, h2};
        for (int batch = 8; batch >= 5; batch -= 3) {
            pp_status *st = pp_engine_run_device(e, batch, in, out, NULL);
            cr_assert_null(st, "%s: %s", configs[c][0], pp_status_message(st));
            cr_assert_null(pp_engine_synchronize(e));
            cr_assert_null(pp_engine_run(e, batch, in, out2));
            cr_assert(memcmp(p, p2, sizeof(float) * MLP_OUT * (size_t)batch) == 0, "%s batch %d", configs[c][0], batch);
            cr_assert(memcmp(h, h2, sizeof(float) * MLP_HID * (size_t)batch) == 0, "%s batch %d", configs[c][0], batch);
            for (int i = 0; i < batch * MLP_OUT; i++) cr_assert_float_eq(p[i], rp[i], 1e-5);
        }
        int fake_stream;
        pp_status *st = pp_engine_run_device(e, 8, in, out, &fake_stream);
        cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
        cr_assert(strstr(pp_status_message(st), "NULL stream"), "%s", pp_status_message(st));
        pp_status_free(st);
        pp_engine_free(e);
        pp_net_free(net);
    }
    pp_status *st = pp_engine_run_device(NULL, 1, NULL, NULL, NULL);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    pp_status_free(st);
    st = pp_engine_synchronize(NULL);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    pp_status_free(st);
    pp_options *o;
    cr_assert_null(pp_options_create(&o));
    st = pp_options_set(o, "graphs", "yes");
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    cr_assert(strstr(pp_status_message(st), "option graphs"), "%s", pp_status_message(st));
    pp_status_free(st);
    pp_options_free(o);
    free(x);
    unlink(path);
}

/* precision: parsed, refused by name where the device cannot, and tf32 on the
 * CPU (allowed to round, computing f32) gives the fp32 bytes. */
Test(api, precision_option) {
    write_mlp();
    pp_net *net;
    cr_assert_null(pp_net_load(path, &net));
    pp_options *o;
    cr_assert_null(pp_options_create(&o));
    pp_status *st = pp_options_set(o, "precision", "fp8");
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    cr_assert(strstr(pp_status_message(st), "'fp8' is not one of fp32, tf32, fp16, bf16"), "%s", pp_status_message(st));
    pp_status_free(st);
    cr_assert_null(pp_options_set(o, "devices", "cpu"));
    const char *narrow[] = {"fp16", "bf16"};
    for (int i = 0; i < 2; i++) {
        pp_engine *e = NULL;
        cr_assert_null(pp_options_set(o, "precision", narrow[i]));
        st = pp_engine_create(net, o, &e);
        cr_assert_eq(pp_status_get_code(st), PP_STATUS_UNSUPPORTED);
        cr_assert(strstr(pp_status_message(st), "cpu:0 computes in fp32 only") &&
                      strstr(pp_status_message(st), narrow[i]),
                  "%s", pp_status_message(st));
        cr_assert_null(e);
        pp_status_free(st);
    }
    float *x = test_random_floats(5 * MLP_IN, 8), p1[5 * MLP_OUT], h1[5 * MLP_HID], p2[5 * MLP_OUT], h2[5 * MLP_HID];
    const void *in[] = {x};
    void *o1[] = {p1, h1}, *o2[] = {p2, h2};
    pp_engine *e32, *e_tf;
    cr_assert_null(pp_options_set(o, "precision", "fp32"));
    cr_assert_null(pp_engine_create(net, o, &e32));
    cr_assert_null(pp_options_set(o, "precision", "tf32"));
    cr_assert_null(pp_engine_create(net, o, &e_tf));
    cr_assert_null(pp_engine_run(e32, 5, in, o1));
    cr_assert_null(pp_engine_run(e_tf, 5, in, o2));
    cr_assert(memcmp(p1, p2, sizeof p1) == 0 && memcmp(h1, h2, sizeof h1) == 0);
    pp_engine_free(e32);
    pp_engine_free(e_tf);
    pp_options_free(o);
    pp_net_free(net);
    free(x);
    unlink(path);
}

/* mem_limit: too small is refused naming the bytes; between what one and two
 * micro-batches in flight need, the engine builds with one and says so through
 * pp_engine_notice, and runs right. */
Test(api, mem_limit_and_notice) {
    write_mlp();
    pp_net *net;
    cr_assert_null(pp_net_load(path, &net));
    pp_options *o;
    cr_assert_null(pp_options_create(&o));
    cr_assert_null(pp_options_set(o, "devices", "cpu"));
    cr_assert_null(pp_options_set(o, "max_batch", "8"));
    pp_status *st = pp_options_set(o, "mem_limit", "5Q");
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    cr_assert(strstr(pp_status_message(st), "option mem_limit: '5Q' is not a size"), "%s", pp_status_message(st));
    pp_status_free(st);
    pp_engine *e = NULL;
    cr_assert_null(pp_engine_create(net, o, &e));
    cr_assert_null(pp_engine_notice(e), "%s", pp_engine_notice(e));
    pp_engine_free(e);
    /* what one micro-batch in flight needs, from the refusal */
    cr_assert_null(pp_options_set(o, "mem_limit", "1K"));
    st = pp_engine_create(net, o, &e);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_OUT_OF_MEMORY);
    size_t need = 0, weights = 0, slot = 0;
    int slots = 0;
    const char *m = strstr(pp_status_message(st), "needs ");
    cr_assert(m && sscanf(m, "needs %zu bytes (weights %zu + %d slots of %zu)", &need, &weights, &slots, &slot) == 4,
              "%s", pp_status_message(st));
    cr_assert_eq(slots, 1, "%s", pp_status_message(st));
    pp_status_free(st);
    char lim[32];
    snprintf(lim, sizeof lim, "%zu", weights + slot + slot / 2); /* fits one slot, not two */
    cr_assert_null(pp_options_set(o, "mem_limit", lim));
    st = pp_engine_create(net, o, &e);
    cr_assert_null(st, "%s", pp_status_message(st));
    cr_assert(pp_engine_notice(e) && strstr(pp_engine_notice(e), "retried with 1 micro-batch in flight"), "%s",
              pp_engine_notice(e) ? pp_engine_notice(e) : "no notice");
    float *x = test_random_floats(8 * MLP_IN, 4), p[8 * MLP_OUT], h[8 * MLP_HID], rp[8 * MLP_OUT], rh[8 * MLP_HID];
    const void *in[] = {x};
    void *out[] = {p, h};
    cr_assert_null(pp_engine_run(e, 8, in, out));
    test_mlp_reference(8, x, rp, rh);
    for (int i = 0; i < 8 * MLP_OUT; i++) cr_assert_float_eq(p[i], rp[i], 1e-5);
    cr_assert_null(pp_engine_notice(NULL));
    pp_engine_free(e);
    pp_options_free(o);
    pp_net_free(net);
    free(x);
    unlink(path);
}

typedef struct job {
    pp_engine *e;
    const float *x, *want;
    int runs, bad;
} job;

static void *worker(void *arg) {
    job *j = arg;
    float p[8 * MLP_OUT], h[8 * MLP_HID];
    for (int r = 0; r < j->runs; r++) {
        const void *in[] = {j->x};
        void *out[] = {p, h};
        pp_status *st = pp_engine_run(j->e, 8, in, out);
        if (st || memcmp(p, j->want, sizeof p)) j->bad++;
        pp_status_free(st);
    }
    return NULL;
}

Test(api, many_threads_one_engine) {
    write_mlp();
    pp_net *net;
    pp_engine *e = make_engine(&net, "cpu:0,cpu:1,cpu:2,cpu:3", "2", "3");
    float *x = test_random_floats(8 * MLP_IN, 9), want[8 * MLP_OUT], h[8 * MLP_HID];
    const void *in[] = {x};
    void *out[] = {want, h};
    cr_assert_null(pp_engine_run(e, 8, in, out));
    job jobs[16];
    pthread_t th[16];
    for (int i = 0; i < 16; i++) {
        jobs[i] = (job){e, x, want, 50, 0};
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    for (int i = 0; i < 16; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(jobs[i].bad, 0, "thread %d: %d runs differed", i, jobs[i].bad);
    }
    pp_engine_free(e);
    pp_net_free(net);
    free(x);
    unlink(path);
}

Test(api, steady_state_runs_allocate_nothing) {
#ifdef COUNT_ALLOCS
    write_mlp();
    const char *configs[][4] = {{"cpu", "1", "8", "0"},
                                {"cpu:0,cpu:1", "2", "2", "0"},
                                {"cpu:0,cpu:1,cpu:2,cpu:3", "2", "3", "0"},
                                {"cpu:0,cpu:1", "2", "3", "1"}};
    for (int c = 0; c < 4; c++) {
        pp_net *net;
        pp_engine *e = make_engine_graphs(&net, configs[c][0], configs[c][1], configs[c][2], configs[c][3]);
        float *x = test_random_floats(8 * MLP_IN, 3), p[8 * MLP_OUT], h[8 * MLP_HID];
        const void *in[] = {x};
        void *out[] = {p, h};
        cr_assert_null(pp_engine_warmup(e, 8));
        cr_assert_null(pp_engine_run(e, 8, in, out));
        long before = atomic_load(&n_allocs);
        for (int r = 0; r < 20; r++) cr_assert_null(pp_engine_run(e, 8, in, out));
        long during = atomic_load(&n_allocs) - before;
        cr_assert_eq(during, 0, "%s: %ld allocations in 20 steady-state runs", configs[c][0], during);
        if (c != 2) { /* device runs need one replica */
            before = atomic_load(&n_allocs);
            for (int r = 0; r < 20; r++) cr_assert_null(pp_engine_run_device(e, 8, in, out, NULL));
            cr_assert_null(pp_engine_synchronize(e));
            during = atomic_load(&n_allocs) - before;
            cr_assert_eq(during, 0, "%s: %ld allocations in 20 device runs", configs[c][0], during);
        }
        /* The counter does see the engine: a first run at a new size prepares it. */
        before = atomic_load(&n_allocs);
        cr_assert_null(pp_engine_run(e, 7, in, out));
        cr_assert_gt(atomic_load(&n_allocs) - before, 0, "%s: the allocation counter saw nothing", configs[c][0]);
        pp_engine_free(e);
        pp_net_free(net);
        free(x);
    }
    unlink(path);
#endif
}

typedef struct canceller {
    pp_engine *e;
    atomic_int run_returned;
} canceller;

/* Cancels until the run has returned: a run clears any cancel left from before
 * it began, so a single cancel may land too early; repeated, one lands while
 * the run is in progress, however the threads are scheduled. */
static void *cancel_until_returned(void *arg) {
    canceller *c = arg;
    while (!atomic_load(&c->run_returned)) {
        pp_engine_cancel(c->e);
        sched_yield();
    }
    return NULL;
}

Test(api, cancel_from_another_thread) {
    write_mlp();
    pp_net *net;
    pp_engine *e = make_engine(&net, "cpu", "1", "1");
    int batch = 200000; /* 200000 micro-batches of 1: the run cannot end before a cancel lands */
    float *x = calloc((size_t)batch * MLP_IN, sizeof(float));
    float *p = malloc(sizeof(float) * (size_t)batch * MLP_OUT), *h = malloc(sizeof(float) * (size_t)batch * MLP_HID);
    const void *in[] = {x};
    void *out[] = {p, h};
    canceller c = {e, 0};
    pthread_t th;
    pthread_create(&th, NULL, cancel_until_returned, &c);
    pp_status *st = pp_engine_run(e, batch, in, out);
    atomic_store(&c.run_returned, 1);
    pthread_join(th, NULL);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_CANCELLED, "%s", pp_status_message(st));
    pp_status_free(st);
    /* Still usable. */
    st = pp_engine_run(e, 4, in, out);
    cr_assert_null(st, "%s", pp_status_message(st));
    pp_engine_free(e);
    pp_net_free(net);
    free(x);
    free(p);
    free(h);
    unlink(path);
}

/* The executor: single-device results against a plain C reference, and every
 * placement (stages × replicas × micro-batch × batch, batches not divisible by
 * either) and thread count bit-identical to the single-device run, as
 * options.deterministic promises. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend.h"
#include "engine/exec.h"
#include "engine/graph.h"
#include "support/small_graphs.h"

#define IN MLP_IN
#define HID MLP_HID
#define OUT MLP_OUT

/* How run() drives the engine: RUN_GRAPHS captures and replays each stage's
 * launches; RUN_DEVICE goes through pp_exec_run_device (host memory on the CPU). */
enum { RUN_GRAPHS = 1, RUN_DEVICE = 2 };

static pp_code run_once(pp_exec *e, int mode, int batch, const void *const *in, void *const *out, pp_error *err) {
    return mode & RUN_DEVICE ? pp_exec_run_device(e, batch, in, out, NULL, err) : pp_exec_run(e, batch, in, out, err);
}

static void run_threads(pp_graph *g, const char *devices, int stages, int micro, int batch, int mode, int threads,
                        const float *x, float *probs, float *h3) {
    pp_error err;
    pp_exec *e = NULL;
    pp_exec_options o = {.devices = devices,
                         .stages = stages,
                         .microbatch = micro,
                         .max_batch = batch,
                         .inflight = 2,
                         .p2p = 0,
                         .split = NULL,
                         .trace = NULL,
                         .measure = 0,
                         .mem_limit = 0,
                         .graphs = mode & RUN_GRAPHS,
                         .precision = PP_PREC_FP32,
                         .threads = threads,
                         .deterministic = 1};
    cr_assert_eq(pp_exec_create(g, &o, &e, &err), PP_OK, "%s: %s", devices, err.msg);
    cr_assert_null(pp_exec_notice(e), "%s", pp_exec_notice(e));
    const void *in[] = {x};
    void *out[] = {probs, h3};
    cr_assert_eq(run_once(e, mode, batch, in, out, &err), PP_OK, "%s", err.msg);
    /* A second run on the same engine gives the same bytes (events, slots reused). */
    float *p2 = malloc(sizeof(float) * OUT * (size_t)batch), *h2 = malloc(sizeof(float) * HID * (size_t)batch);
    void *out2[] = {p2, h2};
    cr_assert_eq(run_once(e, mode, batch, in, out2, &err), PP_OK, "%s", err.msg);
    cr_assert(memcmp(p2, probs, sizeof(float) * OUT * (size_t)batch) == 0);
    cr_assert(memcmp(h2, h3, sizeof(float) * HID * (size_t)batch) == 0);
    free(p2);
    free(h2);
    pp_exec_free(e);
}

static void run_mode(pp_graph *g, const char *devices, int stages, int micro, int batch, int mode, const float *x,
                     float *probs, float *h3) {
    run_threads(g, devices, stages, micro, batch, mode, 0, x, probs, h3);
}

static void run(pp_graph *g, const char *devices, int stages, int micro, int batch, const float *x, float *probs,
                float *h3) {
    run_mode(g, devices, stages, micro, batch, 0, x, probs, h3);
}

Test(exec, single_device_matches_reference) {
    pp_graph *g = test_mlp_graph();
    int batch = 7;
    float *x = test_random_floats((size_t)batch * IN, 7);
    float probs[OUT * 7], h3[HID * 7], rp[OUT * 7], rh[HID * 7];
    run(g, "cpu", 1, 0, batch, x, probs, h3);
    test_mlp_reference(batch, x, rp, rh);
    for (int i = 0; i < OUT * batch; i++) cr_assert(fabsf(probs[i] - rp[i]) <= 1e-5f + 1e-4f * fabsf(rp[i]));
    for (int i = 0; i < HID * batch; i++) cr_assert(fabsf(h3[i] - rh[i]) <= 1e-5f + 1e-4f * fabsf(rh[i]));
    free(x);
    pp_graph_free(g);
}

Test(exec, every_placement_is_bit_identical) {
    pp_graph *g = test_mlp_graph();
    unsigned s = 99;
    for (int trial = 0; trial < 40; trial++) {
        s = s * 1103515245u + 12345u;
        int stages = 1 + (int)((s >> 16) % 3);
        int replicas = 1 + (int)((s >> 20) % 2);
        int micro = 1 + (int)((s >> 4) % 4);
        int batch = 1 + (int)((s >> 24) % 11);
        char devices[128] = "";
        for (int d = 0; d < stages * replicas; d++) {
            size_t l = strlen(devices);
            snprintf(devices + l, sizeof devices - l, "%scpu:%d", d ? "," : "", d);
        }
        float *x = test_random_floats((size_t)batch * IN, s);
        float *p1 = malloc(sizeof(float) * OUT * (size_t)batch), *h1 = malloc(sizeof(float) * HID * (size_t)batch);
        float *p2 = malloc(sizeof(float) * OUT * (size_t)batch), *h2 = malloc(sizeof(float) * HID * (size_t)batch);
        /* graphs and device runs too (device runs need one replica) */
        int mode = (trial & 1 ? RUN_GRAPHS : 0) | (trial & 2 && replicas == 1 ? RUN_DEVICE : 0);
        run(g, "cpu", 1, 0, batch, x, p1, h1);
        run_mode(g, devices, stages, micro, batch, mode, x, p2, h2);
        cr_assert(memcmp(p1, p2, sizeof(float) * OUT * (size_t)batch) == 0,
                  "probs differ: %s stages %d micro %d batch %d mode %d", devices, stages, micro, batch, mode);
        cr_assert(memcmp(h1, h2, sizeof(float) * HID * (size_t)batch) == 0,
                  "h3 differs: %s stages %d micro %d batch %d mode %d", devices, stages, micro, batch, mode);
        free(x);
        free(p1);
        free(h1);
        free(p2);
        free(h2);
    }
    pp_graph_free(g);
}

Test(exec, deterministic_results_do_not_depend_on_the_thread_count) {
    pp_graph *g = test_mlp_graph();
    int batch = 9;
    float *x = test_random_floats((size_t)batch * IN, 11);
    float p1[OUT * 9], h1[HID * 9], p2[OUT * 9], h2[HID * 9];
    run_threads(g, "cpu", 1, 0, batch, 0, 1, x, p1, h1);
    for (int threads = 2; threads <= 5; threads += 3) {
        run_threads(g, "cpu", 1, 4, batch, RUN_GRAPHS, threads, x, p2, h2);
        cr_assert(memcmp(p1, p2, sizeof p1) == 0 && memcmp(h1, h2, sizeof h1) == 0, "%d threads differ from 1",
                  threads);
    }
    free(x);
    pp_graph_free(g);
}

Test(exec, bad_device_lists_are_refused) {
    pp_graph *g = test_mlp_graph();
    pp_error err;
    pp_exec *e = NULL;
    pp_exec_options o = {.devices = "cpu:0,cpu:1,cpu:2",
                         .stages = 2,
                         .microbatch = 1,
                         .max_batch = 4,
                         .inflight = 2,
                         .p2p = 0,
                         .split = NULL,
                         .trace = NULL,
                         .measure = 0,
                         .mem_limit = 0,
                         .graphs = 0,
                         .precision = PP_PREC_FP32,
                         .deterministic = 1};
    cr_assert_eq(pp_exec_create(g, &o, &e, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "3 devices cannot be split into replicas of 2 stages"), "%s", err.msg);
    pp_exec_options o2 = {.devices = "gpu:0",
                          .stages = 1,
                          .microbatch = 1,
                          .max_batch = 4,
                          .inflight = 2,
                          .p2p = 0,
                          .split = NULL,
                          .trace = NULL,
                          .measure = 0,
                          .mem_limit = 0,
                          .graphs = 0,
                          .precision = PP_PREC_FP32,
                          .deterministic = 1};
    cr_assert_eq(pp_exec_create(g, &o2, &e, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "device 'gpu:0'"), "%s", err.msg);
    pp_exec_options o3 = {.devices = "cpu",
                          .stages = 1,
                          .microbatch = 1,
                          .max_batch = 4,
                          .inflight = 2,
                          .p2p = 0,
                          .split = "nosuchnode",
                          .trace = NULL,
                          .measure = 0,
                          .mem_limit = 0,
                          .graphs = 0,
                          .precision = PP_PREC_FP32,
                          .deterministic = 1};
    cr_assert_eq(pp_exec_create(g, &o3, &e, &err), PP_ERR_INVALID_ARG);
    pp_exec_options o4 = {.devices = "cpu:0,cpu:1",
                          .stages = 2,
                          .microbatch = 2,
                          .max_batch = 4,
                          .inflight = 2,
                          .p2p = 0,
                          .split = "fc3",
                          .trace = NULL,
                          .measure = 0,
                          .mem_limit = 0,
                          .graphs = 0,
                          .precision = PP_PREC_FP32,
                          .deterministic = 1};
    cr_assert_eq(pp_exec_create(g, &o4, &e, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_exec_plan(e)->stages[1].first, 3);
    pp_exec_free(e);
    pp_graph_free(g);
}

Test(exec, cuda_without_a_device_is_a_clear_error) {
    pp_graph *g = test_mlp_graph();
    pp_error err;
    pp_exec *e = NULL;
    pp_exec_options o = {.devices = "cuda:0",
                         .stages = 1,
                         .microbatch = 1,
                         .max_batch = 4,
                         .inflight = 2,
                         .p2p = 0,
                         .split = NULL,
                         .trace = NULL,
                         .measure = 0,
                         .mem_limit = 0,
                         .graphs = 0,
                         .precision = PP_PREC_FP32,
                         .deterministic = 1};
    pp_code rc = pp_exec_create(g, &o, &e, &err);
    if (pp_cuda_device_count() > 0) {
        cr_assert_eq(rc, PP_OK);
        pp_exec_free(e);
    } else {
        cr_assert_eq(rc, PP_ERR_DEVICE);
        cr_assert(strstr(err.msg, "cuda:0"), "%s", err.msg);
    }
    pp_graph_free(g);
}

/* Graphs over more micro-batch sizes than the engine keeps (old sizes and their
 * graphs are evicted), mixed with plain and device runs on one engine, each
 * against a graph-free engine; profiling bypasses the graphs and still counts. */
Test(exec, graphs_and_device_runs_over_many_sizes) {
    pp_graph *g = test_mlp_graph();
    pp_error err;
    pp_exec *e = NULL, *ref = NULL;
    pp_exec_options o = {.devices = "cpu:0,cpu:1",
                         .stages = 2,
                         .microbatch = 24,
                         .max_batch = 24,
                         .inflight = 2,
                         .p2p = 0,
                         .split = NULL,
                         .trace = NULL,
                         .measure = 0,
                         .mem_limit = 0,
                         .graphs = 1,
                         .precision = PP_PREC_FP32,
                         .deterministic = 1};
    pp_exec_options r = {.devices = "cpu",
                         .stages = 1,
                         .microbatch = 24,
                         .max_batch = 24,
                         .inflight = 2,
                         .p2p = 0,
                         .split = NULL,
                         .trace = NULL,
                         .measure = 0,
                         .mem_limit = 0,
                         .graphs = 0,
                         .precision = PP_PREC_FP32,
                         .deterministic = 1};
    cr_assert_eq(pp_exec_create(g, &o, &e, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_exec_create(g, &r, &ref, &err), PP_OK, "%s", err.msg);
    for (int batch = 1; batch <= 24; batch++) {
        float *x = test_random_floats((size_t)batch * IN, (unsigned)batch);
        float p1[OUT * 24], h1[HID * 24], p2[OUT * 24], h2[HID * 24];
        const void *in[] = {x};
        void *o1[] = {p1, h1}, *o2[] = {p2, h2};
        cr_assert_eq(pp_exec_run(ref, batch, in, o1, &err), PP_OK, "%s", err.msg);
        if (batch == 20) pp_exec_set_profile(e, 1);
        cr_assert_eq(run_once(e, batch % 2 ? RUN_DEVICE : 0, batch, in, o2, &err), PP_OK, "batch %d: %s", batch,
                     err.msg);
        cr_assert(memcmp(p1, p2, sizeof(float) * OUT * (size_t)batch) == 0, "batch %d", batch);
        cr_assert(memcmp(h1, h2, sizeof(float) * HID * (size_t)batch) == 0, "batch %d", batch);
        free(x);
    }
    double ms, f, b;
    long n;
    pp_exec_node_profile(e, 0, &ms, &n, &f, &b);
    cr_assert_eq(n, 5, "node 0 launched %ld times while profiling (batches 20..24)", n);
    cr_assert_eq(pp_exec_synchronize(e, &err), PP_OK, "%s", err.msg);
    pp_exec_free(e);
    pp_exec_free(ref);
    pp_graph_free(g);
}

Test(exec, device_runs_refuse_what_they_cannot_do) {
    pp_graph *g = test_mlp_graph();
    pp_error err;
    pp_exec *e = NULL;
    float x[IN], p[OUT], h[HID];
    memset(x, 0, sizeof x);
    const void *in[] = {x};
    void *out[] = {p, h};
    pp_exec_options two = {.devices = "cpu:0,cpu:1",
                           .stages = 1,
                           .microbatch = 1,
                           .max_batch = 1,
                           .inflight = 2,
                           .p2p = 0,
                           .split = NULL,
                           .trace = NULL,
                           .measure = 0,
                           .mem_limit = 0,
                           .graphs = 0,
                           .precision = PP_PREC_FP32,
                           .deterministic = 1};
    cr_assert_eq(pp_exec_create(g, &two, &e, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_exec_run_device(e, 1, in, out, NULL, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "2 replicas (cpu:0, cpu:1"), "%s", err.msg);
    pp_exec_free(e);
    pp_exec_options one = {.devices = "cpu",
                           .stages = 1,
                           .microbatch = 1,
                           .max_batch = 1,
                           .inflight = 2,
                           .p2p = 0,
                           .split = NULL,
                           .trace = NULL,
                           .measure = 0,
                           .mem_limit = 0,
                           .graphs = 0,
                           .precision = PP_PREC_FP32,
                           .deterministic = 1};
    cr_assert_eq(pp_exec_create(g, &one, &e, &err), PP_OK, "%s", err.msg);
    int not_a_stream;
    cr_assert_eq(pp_exec_run_device(e, 1, in, out, &not_a_stream, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "cpu:0 has no streams"), "%s", err.msg);
    void *none[] = {p, NULL};
    cr_assert_eq(pp_exec_run_device(e, 1, in, none, NULL, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "output 1"), "%s", err.msg);
    /* still usable */
    cr_assert_eq(pp_exec_run_device(e, 1, in, out, NULL, &err), PP_OK, "%s", err.msg);
    pp_exec_free(e);
    pp_graph_free(g);
}

/* Device runs do not wait on the host before reusing a slot: stream order alone
 * must keep a micro-batch's inputs from overwriting (where the planner shares
 * memory) the previous one's outputs still waiting to be copied on. One-row
 * micro-batches through three stages, many runs back to back. */
Test(exec, device_runs_reuse_slots_in_stream_order) {
    pp_graph *g = test_mlp_graph();
    pp_error err;
    pp_exec *e = NULL, *ref = NULL;
    pp_exec_options r = {.devices = "cpu",
                         .stages = 1,
                         .microbatch = 8,
                         .max_batch = 8,
                         .inflight = 2,
                         .p2p = 0,
                         .split = NULL,
                         .trace = NULL,
                         .measure = 0,
                         .mem_limit = 0,
                         .graphs = 0,
                         .precision = PP_PREC_FP32,
                         .deterministic = 1};
    cr_assert_eq(pp_exec_create(g, &r, &ref, &err), PP_OK, "%s", err.msg);
    float *x = test_random_floats(8 * IN, 77), p1[8 * OUT], h1[8 * HID], p2[8 * OUT], h2[8 * HID];
    const void *in[] = {x};
    void *o1[] = {p1, h1}, *o2[] = {p2, h2};
    cr_assert_eq(pp_exec_run(ref, 8, in, o1, &err), PP_OK, "%s", err.msg);
    const char *devices[] = {"cpu:0,cpu:1", "cpu:0,cpu:1,cpu:2"};
    for (int c = 0; c < 2; c++) {
        pp_exec_options o = {.devices = devices[c],
                             .stages = 2 + c,
                             .microbatch = 1,
                             .max_batch = 8,
                             .inflight = 2,
                             .p2p = 0,
                             .split = NULL,
                             .trace = NULL,
                             .measure = 0,
                             .mem_limit = 0,
                             .graphs = c,
                             .precision = PP_PREC_FP32,
                             .deterministic = 1};
        cr_assert_eq(pp_exec_create(g, &o, &e, &err), PP_OK, "%s", err.msg);
        for (int i = 0; i < 100; i++) {
            memset(p2, 0, sizeof p2);
            cr_assert_eq(pp_exec_run_device(e, 8, in, o2, NULL, &err), PP_OK, "%s", err.msg);
            cr_assert(memcmp(p1, p2, sizeof p1) == 0 && memcmp(h1, h2, sizeof h1) == 0, "%s: run %d differs",
                      devices[c], i);
        }
        pp_exec_free(e);
    }
    free(x);
    pp_exec_free(ref);
    pp_graph_free(g);
}

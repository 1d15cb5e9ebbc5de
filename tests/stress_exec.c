/* stress_exec [TRIALS] [SOAK_RUNS]: the executor's ordering under ThreadSanitizer.
 *
 * A standalone program (Criterion's forking runner cannot run under TSan): a
 * randomized sweep of placements (stages × replicas × micro-batch × batch) whose
 * outputs must equal the single-device run bit for bit, then several threads
 * running one engine at once (16 × 1000 runs by default), each checking its
 * outputs against a serial run, and threads mixing host runs with device runs
 * on an engine that replays captured launches.
 * Prints "N passed, N failed" and exits non-zero on any failure. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/exec.h"
#include "support/small_graphs.h"

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) passed++;
    else {
        failed++;
        fprintf(stderr, "FAIL: %s\n", what);
    }
}

static int run(const pp_graph *g, const char *devices, int stages, int micro, int batch, const float *x, float *probs,
               float *h3) {
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
                         .graphs = 0,
                         .precision = PP_PREC_FP32,
                         .deterministic = 1};
    if (pp_exec_create(g, &o, &e, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    const void *in[] = {x};
    void *out[] = {probs, h3};
    int rc = pp_exec_run(e, batch, in, out, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    pp_exec_free(e);
    return rc;
}

typedef struct job {
    pp_exec *e;
    const float *x;
    const float *want_p, *want_h;
    int batch, runs, bad;
    int device_runs; /* every other run through pp_exec_run_device */
} job;

static void *worker(void *arg) {
    job *j = arg;
    size_t np = (size_t)j->batch * MLP_OUT, nh = (size_t)j->batch * MLP_HID;
    float *p = malloc(sizeof(float) * np), *h = malloc(sizeof(float) * nh);
    for (int r = 0; r < j->runs; r++) {
        pp_error err;
        const void *in[] = {j->x};
        void *out[] = {p, h};
        pp_code rc = j->device_runs && r % 2 ? pp_exec_run_device(j->e, j->batch, in, out, NULL, &err)
                                             : pp_exec_run(j->e, j->batch, in, out, &err);
        if (rc || memcmp(p, j->want_p, np * sizeof(float)) || memcmp(h, j->want_h, nh * sizeof(float))) j->bad++;
    }
    free(p);
    free(h);
    return NULL;
}

/* `threads` threads run one engine built with o (o->max_batch is the batch)
 * `runs` times each, every other run on device buffers when device_runs, and
 * every output must equal a serial single-device run. */
static void threads_on_one_engine(const pp_graph *g, const pp_exec_options *o, unsigned seed, int threads, int runs,
                                  int device_runs, const char *what) {
    int batch = o->max_batch;
    float *x = test_random_floats((size_t)batch * MLP_IN, seed);
    float *p = malloc(sizeof(float) * (size_t)batch * MLP_OUT), *h = malloc(sizeof(float) * (size_t)batch * MLP_HID);
    check(run(g, "cpu", 1, 0, batch, x, p, h) == 0, "serial reference run");
    pp_error err;
    pp_exec *e = NULL;
    if (pp_exec_create(g, o, &e, &err) == PP_OK) {
        job jobs[16];
        pthread_t th[16];
        for (int i = 0; i < threads && i < 16; i++) {
            jobs[i] = (job){e, x, p, h, batch, runs, 0, device_runs};
            pthread_create(&th[i], NULL, worker, &jobs[i]);
        }
        int bad = 0;
        for (int i = 0; i < threads && i < 16; i++) {
            pthread_join(th[i], NULL);
            bad += jobs[i].bad;
        }
        check(bad == 0, what);
        pp_exec_free(e);
    } else {
        check(0, err.msg);
    }
    free(x);
    free(p);
    free(h);
}

int main(int argc, char **argv) {
    int trials = argc > 1 ? atoi(argv[1]) : 25;
    int soak_runs = argc > 2 ? atoi(argv[2]) : 1000;
    pp_graph *g = test_mlp_graph();
    unsigned s = 4242;
    for (int t = 0; t < trials; t++) {
        s = s * 1103515245u + 12345u;
        int stages = 1 + (int)((s >> 16) % 3), replicas = 1 + (int)((s >> 20) % 2);
        int micro = 1 + (int)((s >> 4) % 4), batch = 1 + (int)((s >> 24) % 11);
        char devices[128] = "", what[256];
        for (int d = 0; d < stages * replicas; d++) {
            size_t l = strlen(devices);
            snprintf(devices + l, sizeof devices - l, "%scpu:%d", d ? "," : "", d);
        }
        float *x = test_random_floats((size_t)batch * MLP_IN, s);
        size_t np = (size_t)batch * MLP_OUT, nh = (size_t)batch * MLP_HID;
        float *p1 = malloc(np * 4), *h1 = malloc(nh * 4), *p2 = malloc(np * 4), *h2 = malloc(nh * 4);
        int ok = run(g, "cpu", 1, 0, batch, x, p1, h1) == 0 && run(g, devices, stages, micro, batch, x, p2, h2) == 0 &&
                 !memcmp(p1, p2, np * 4) && !memcmp(h1, h2, nh * 4);
        snprintf(what, sizeof what, "sweep: devices %s stages %d micro %d batch %d", devices, stages, micro, batch);
        check(ok, what);
        free(x);
        free(p1);
        free(h1);
        free(p2);
        free(h2);
    }
    /* Soak: 16 threads × soak_runs runs on one engine, every output equal to a
     * serial run (the long version is `stress_exec 25 100000`). */
    pp_exec_options soak = {.devices = "cpu",
                            .stages = 1,
                            .microbatch = 0,
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
    char what[128];
    snprintf(what, sizeof what, "soak: 16 threads x %d runs equal the serial run", soak_runs);
    threads_on_one_engine(g, &soak, 1234, 16, soak_runs, 0, what);
    /* Concurrency: 4 threads share one pipelined, replicated engine. */
    pp_exec_options piped = {.devices = "cpu:0,cpu:1,cpu:2,cpu:3",
                             .stages = 2,
                             .microbatch = 2,
                             .max_batch = 9,
                             .inflight = 2,
                             .p2p = 0,
                             .split = NULL,
                             .trace = NULL,
                             .measure = 0,
                             .mem_limit = 0,
                             .graphs = 0,
                             .precision = PP_PREC_FP32,
                             .deterministic = 1};
    threads_on_one_engine(g, &piped, 77, 4, 20, 0, "4 threads x 20 runs on one engine equal the serial run");
    /* Graphs and device runs: 4 threads mix host and device runs on one
     * three-stage engine that replays captured launches; device runs reuse
     * slots in stream order only. */
    pp_exec_options graphs = {.devices = "cpu:0,cpu:1,cpu:2",
                              .stages = 3,
                              .microbatch = 1,
                              .max_batch = 7,
                              .inflight = 2,
                              .p2p = 0,
                              .split = NULL,
                              .trace = NULL,
                              .measure = 0,
                              .mem_limit = 0,
                              .graphs = 1,
                              .precision = PP_PREC_FP32,
                              .deterministic = 1};
    threads_on_one_engine(g, &graphs, 99, 4, 40, 1,
                          "4 threads x 40 host and device runs with graphs equal the serial run");
    pp_graph_free(g);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

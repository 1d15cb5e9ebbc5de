/* stress_api: the public API's concurrency under ThreadSanitizer (Criterion
 * cannot start under TSan): 8 threads run one pipelined, replicated engine
 * through include/ppengine.h while another cancels a long run; every finished
 * run must equal a serial one, and the engine must stay usable.
 * Prints "N passed, N failed". */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ppengine.h"
#include "support/small_graphs.h"

static int passed, failed;
static void check(int ok, const char *what) {
    if (ok) passed++;
    else {
        failed++;
        fprintf(stderr, "FAIL: %s\n", what);
    }
}

typedef struct job {
    pp_engine *e;
    const float *x, *want;
    int runs, bad;
} job;

static void *worker(void *arg) {
    job *j = arg;
    float p[6 * MLP_OUT], h[6 * MLP_HID];
    for (int r = 0; r < j->runs; r++) {
        const void *in[] = {j->x};
        void *out[] = {p, h};
        pp_status *st = pp_engine_run(j->e, 6, in, out);
        if (st || memcmp(p, j->want, sizeof p)) j->bad++;
        pp_status_free(st);
    }
    return NULL;
}

typedef struct canceller_arg {
    pp_engine *e;
    atomic_int run_returned;
} canceller_arg;

/* Cancels until the run has returned (a run clears a cancel that came before
 * it began), so the cancel always lands inside the run. */
static void *canceller(void *arg) {
    canceller_arg *c = arg;
    while (!atomic_load(&c->run_returned)) {
        pp_engine_cancel(c->e);
        sched_yield();
    }
    return NULL;
}

int main(void) {
    char path[128];
    snprintf(path, sizeof path, "/tmp/pp_stress_api_%d.bin", (int)getpid());
    pp_graph *g = test_mlp_graph();
    pp_error err;
    if (pp_graph_write(g, path, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    pp_graph_free(g);
    pp_net *net;
    pp_options *o;
    pp_engine *e;
    if (pp_net_load(path, &net) || pp_options_create(&o) || pp_options_set(o, "devices", "cpu:0,cpu:1,cpu:2,cpu:3") ||
        pp_options_set(o, "stages", "2") || pp_options_set(o, "microbatch", "2") || pp_engine_create(net, o, &e)) {
        fprintf(stderr, "set-up failed\n");
        return 1;
    }
    float *x = test_random_floats(6 * MLP_IN, 8), want[6 * MLP_OUT], h[6 * MLP_HID];
    const void *in[] = {x};
    void *out[] = {want, h};
    check(pp_engine_run(e, 6, in, out) == NULL, "serial run");
    job jobs[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        jobs[i] = (job){e, x, want, 40, 0};
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    int bad = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        bad += jobs[i].bad;
    }
    check(bad == 0, "8 threads x 40 runs through the API equal the serial run");
    /* Cancel a long run from another thread; the engine stays usable. */
    int big = 20000;
    float *bx = calloc((size_t)big * MLP_IN, sizeof(float)), *bp = malloc(sizeof(float) * (size_t)big * MLP_OUT),
          *bh = malloc(sizeof(float) * (size_t)big * MLP_HID);
    const void *bin[] = {bx};
    void *bout[] = {bp, bh};
    pthread_t c;
    canceller_arg ca = {e, 0};
    pthread_create(&c, NULL, canceller, &ca);
    pp_status *st = pp_engine_run(e, big, bin, bout);
    atomic_store(&ca.run_returned, 1);
    pthread_join(c, NULL);
    check(pp_status_get_code(st) == PP_STATUS_CANCELLED, "a cancelled run returns CANCELLED");
    pp_status_free(st);
    float p2[6 * MLP_OUT];
    void *out2[] = {p2, h};
    check(pp_engine_run(e, 6, in, out2) == NULL && !memcmp(p2, want, sizeof p2), "usable after a cancel");
    free(bx);
    free(bp);
    free(bh);
    free(x);
    pp_engine_free(e);
    pp_options_free(o);
    pp_net_free(net);
    unlink(path);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

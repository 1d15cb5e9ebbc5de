/* stress_batcher: pp_batcher under 16 threads, for ThreadSanitizer (Criterion
 * cannot start under TSan). Each thread submits requests of 1..4 rows, half
 * waited for and half completed by callback, some with deadlines short enough
 * to expire, some cancelled right after submission, against a small queue that
 * overflows; another thread runs the same engine directly and reads the
 * counters meanwhile. Every request must complete exactly once, with OK (its
 * rows equal to an unbatched run's, byte for byte), DEADLINE_EXCEEDED,
 * CANCELLED, or be refused at submit as OVERLOADED. Prints "N passed, N failed". */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ppengine.h"
#include "support/small_graphs.h"

enum { THREADS = 16, PER_THREAD = 120, POOL = 64 /* rows of inputs to draw from */ };

static int passed, failed;
static void check(int ok, const char *what) {
    if (ok) passed++;
    else {
        failed++;
        fprintf(stderr, "FAIL: %s\n", what);
    }
}

static const float *g_x, *g_want_p, *g_want_h; /* (POOL, ...) inputs and their unbatched outputs */

typedef struct worker worker;
typedef struct pending {
    worker *w;
    atomic_int done; /* callbacks made for it: 1, never 2 */
    atomic_int code;
} pending;

struct worker {
    pp_batcher *b;
    unsigned seed;
    int ok, expired, cancelled, overloaded, wrong, other, twice;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a callback of this worker's ran */
    pending cbs[PER_THREAD];
    float p[PER_THREAD][4 * MLP_OUT], h[PER_THREAD][4 * MLP_HID];
    int at[PER_THREAD], rows[PER_THREAD];
};

static void on_done(void *user, const pp_request_result *r) {
    pending *p = user;
    atomic_store(&p->code, (int)r->code);
    if (atomic_fetch_add(&p->done, 1) != 0) atomic_store(&p->code, -1); /* completed twice */
    pthread_mutex_lock(&p->w->mu);
    pthread_cond_signal(&p->w->cv);
    pthread_mutex_unlock(&p->w->mu);
}

static void tally(worker *w, int r, int code) {
    if (code == PP_STATUS_OK) {
        int good = !memcmp(w->p[r], g_want_p + (size_t)w->at[r] * MLP_OUT, sizeof(float) * MLP_OUT * w->rows[r]) &&
                   !memcmp(w->h[r], g_want_h + (size_t)w->at[r] * MLP_HID, sizeof(float) * MLP_HID * w->rows[r]);
        if (good) w->ok++;
        else w->wrong++;
    } else if (code == PP_STATUS_DEADLINE_EXCEEDED) w->expired++;
    else if (code == PP_STATUS_CANCELLED) w->cancelled++;
    else if (code == -1) w->twice++;
    else w->other++;
}

/* Requests in rounds of up to 4 outstanding per thread, 64 in all against a
 * queue of 48, so some rounds overflow it. */
static void *worker_main(void *arg) {
    worker *w = arg;
    for (int r0 = 0; r0 < PER_THREAD; r0 += 4) {
        uint64_t ids[4];
        int mode[4]; /* 0: refused at submit, 1: wait, 2: callback */
        for (int j = 0; j < 4; j++) {
            int r = r0 + j;
            unsigned k = (unsigned)rand_r(&w->seed);
            w->rows[r] = (int)(k % 4) + 1;
            w->at[r] = (int)((k >> 4) % (POOL - 4));
            mode[j] = (k >> 12) & 1 ? 2 : 1;
            int64_t timeout = (k >> 13) % 8 == 0 ? 1 + (k >> 16) % 400 : 0;
            const void *in[] = {g_x + (size_t)w->at[r] * MLP_IN};
            void *out[] = {w->p[r], w->h[r]};
            w->cbs[r].w = w;
            pp_status *st = pp_batcher_submit(w->b, w->rows[r], in, out, timeout, mode[j] == 2 ? on_done : NULL,
                                              &w->cbs[r], &ids[j]);
            if (st) {
                if (pp_status_get_code(st) == PP_STATUS_OVERLOADED) w->overloaded++;
                else w->other++;
                pp_status_free(st);
                mode[j] = 0;
                continue;
            }
            if ((k >> 20) % 6 == 0) pp_batcher_cancel(w->b, ids[j]);
        }
        for (int j = 0; j < 4; j++) {
            int r = r0 + j;
            if (mode[j] == 1) {
                pp_status *ws = pp_batcher_wait(w->b, ids[j], NULL);
                tally(w, r, (int)pp_status_get_code(ws));
                pp_status_free(ws);
            } else if (mode[j] == 2) {
                pthread_mutex_lock(&w->mu);
                while (!atomic_load(&w->cbs[r].done)) pthread_cond_wait(&w->cv, &w->mu);
                pthread_mutex_unlock(&w->mu);
                tally(w, r, atomic_load(&w->cbs[r].code));
            }
        }
    }
    return NULL;
}

typedef struct side {
    pp_engine *e;
    pp_batcher *b;
    atomic_int stop;
    int bad;
} side;

/* Runs the engine directly beside the batcher and reads its counters. */
static void *side_main(void *arg) {
    side *s = arg;
    float p[3 * MLP_OUT], h[3 * MLP_HID];
    while (!atomic_load(&s->stop)) {
        const void *in[] = {g_x};
        void *out[] = {p, h};
        pp_status *st = pp_engine_run(s->e, 3, in, out);
        if (st || memcmp(p, g_want_p, sizeof p)) s->bad++;
        pp_status_free(st);
        if (pp_batcher_queue_depth(s->b) < 0 || pp_batcher_batches(s->b, 1) < 0) s->bad++;
    }
    return NULL;
}

int main(void) {
    char path[128];
    snprintf(path, sizeof path, "/tmp/pp_stress_batcher_%d.bin", (int)getpid());
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
    pp_batcher *b;
    if (pp_net_load(path, &net) || pp_options_create(&o) || pp_options_set(o, "devices", "cpu:0,cpu:1") ||
        pp_options_set(o, "stages", "2") || pp_options_set(o, "max_batch", "8") ||
        pp_options_set(o, "max_delay_us", "300") || pp_options_set(o, "max_queue", "48") ||
        pp_engine_create(net, o, &e) || pp_batcher_create(e, o, &b)) {
        fprintf(stderr, "set-up failed\n");
        return 1;
    }
    float *x = test_random_floats(POOL * MLP_IN, 21), *wp = malloc(sizeof(float) * POOL * MLP_OUT),
          *wh = malloc(sizeof(float) * POOL * MLP_HID);
    const void *in[] = {x};
    void *out[] = {wp, wh};
    check(pp_engine_run(e, POOL, in, out) == NULL, "the unbatched reference run");
    g_x = x;
    g_want_p = wp;
    g_want_h = wh;

    static worker ws[THREADS];
    pthread_t th[THREADS], sth;
    side sd = {e, b, 0, 0};
    pthread_create(&sth, NULL, side_main, &sd);
    for (int i = 0; i < THREADS; i++) {
        ws[i].b = b;
        pthread_mutex_init(&ws[i].mu, NULL);
        pthread_cond_init(&ws[i].cv, NULL);
        ws[i].seed = 1000u + (unsigned)i;
        pthread_create(&th[i], NULL, worker_main, &ws[i]);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    atomic_store(&sd.stop, 1);
    pthread_join(sth, NULL);
    pp_batcher_free(b);

    int ok = 0, expired = 0, cancelled = 0, overloaded = 0, wrong = 0, other = 0, twice = 0, missing = 0;
    for (int i = 0; i < THREADS; i++) {
        worker *w = &ws[i];
        for (int r = 0; r < PER_THREAD; r++)
            if (atomic_load(&w->cbs[r].done) > 1) w->twice++;
        ok += w->ok;
        expired += w->expired;
        cancelled += w->cancelled;
        overloaded += w->overloaded;
        wrong += w->wrong;
        other += w->other;
        twice += w->twice;
    }
    missing = THREADS * PER_THREAD - ok - expired - cancelled - overloaded - wrong - other;
    printf("stress_batcher: %d ok, %d expired, %d cancelled, %d overloaded\n", ok, expired, cancelled, overloaded);
    check(wrong == 0, "every request that ran got the rows of its unbatched run");
    check(other == 0, "no status but OK, DEADLINE_EXCEEDED, CANCELLED, OVERLOADED");
    check(twice == 0, "no callback ran twice");
    check(missing == 0, "every request completed");
    check(ok > 0, "requests ran");
    check(sd.bad == 0, "direct runs beside the batcher are right");
    free(x);
    free(wp);
    free(wh);
    pp_engine_free(e);
    pp_options_free(o);
    pp_net_free(net);
    unlink(path);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

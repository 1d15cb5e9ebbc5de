/* pool.c: one persistent pool of threads per CPU device (pool.h).
 *
 * Workers start once and sleep on a condition variable between runs, after a
 * short spin (a graph's next op usually arrives within microseconds; a long spin
 * would steal the cores of whoever shares the machine). A run publishes its job
 * under the mutex and bumps a generation; tasks are claimed one at a time from
 * an atomic counter, so a thread the scheduler delays simply claims fewer.
 *
 * A worker may notice a job late, after the caller has returned: it then finds
 * every task claimed and never calls fn, whose arg may be gone. Before
 * publishing the next job the caller waits, holding the mutex under which
 * workers take jobs, until none is still inside an earlier one, so a late
 * worker never takes a new job's task with an old fn.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

enum {
    SPIN_WAKE = 20000, /* pauses (~30 µs) a worker spins for the next job before sleeping */
    SPIN_DONE = 200,   /* pauses the caller spins between yields while the last tasks finish */
};

struct pp_tpool {
    int threads;
    pthread_t *tid;
    int started; /* workers running */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int quit;
    atomic_uint_fast64_t gen; /* bumped per job, under mu */
    /* the job, written under mu while no worker is active */
    pp_pool_fn fn;
    void *arg;
    int64_t tasks;
    atomic_int_fast64_t next, done;
    atomic_int active; /* workers that took the current job and may still claim */
};

typedef struct worker_arg {
    pp_tpool *p;
    int id;
} worker_arg;

static void claim_tasks(pp_tpool *p, pp_pool_fn fn, void *arg, int64_t tasks, int id) {
    for (;;) {
        int64_t t = atomic_fetch_add(&p->next, 1);
        if (t >= tasks) return;
        fn(arg, t, id);
        atomic_fetch_add(&p->done, 1);
    }
}

static void *worker_main(void *va) {
    worker_arg wa = *(worker_arg *)va;
    free(va);
    pp_tpool *p = wa.p;
    uint64_t seen = 0;
    for (;;) {
        for (int i = 0; i < SPIN_WAKE && atomic_load_explicit(&p->gen, memory_order_acquire) == seen; i++) CPU_RELAX();
        pthread_mutex_lock(&p->mu);
        while (!p->quit && atomic_load(&p->gen) == seen) pthread_cond_wait(&p->cv, &p->mu);
        if (p->quit) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = atomic_load(&p->gen);
        pp_pool_fn fn = p->fn;
        void *arg = p->arg;
        int64_t tasks = p->tasks;
        atomic_fetch_add(&p->active, 1);
        pthread_mutex_unlock(&p->mu);
        claim_tasks(p, fn, arg, tasks, wa.id);
        atomic_fetch_sub(&p->active, 1);
    }
}

pp_tpool *pp_tpool_create(int threads) {
    pp_tpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads > 0 ? threads : 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    atomic_init(&p->gen, 0);
    atomic_init(&p->next, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->active, 0);
    if (p->threads > 1 && !(p->tid = calloc((size_t)p->threads, sizeof(pthread_t)))) {
        pp_tpool_free(p);
        return NULL;
    }
    for (int i = 1; i < p->threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) break;
        *wa = (worker_arg){p, i};
        if (pthread_create(&p->tid[i], NULL, worker_main, wa) != 0) {
            free(wa);
            break;
        }
        p->started = i;
    }
    if (p->started != p->threads - 1) {
        pp_tpool_free(p);
        return NULL;
    }
    return p;
}

void pp_tpool_free(pp_tpool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i <= p->started; i++) pthread_join(p->tid[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->tid);
    free(p);
}

int pp_tpool_threads(const pp_tpool *p) { return p ? p->threads : 1; }

void pp_tpool_run(pp_tpool *p, int64_t tasks, pp_pool_fn fn, void *arg) {
    if (tasks <= 0) return;
    if (!p || p->threads == 1 || tasks == 1) {
        for (int64_t t = 0; t < tasks; t++) fn(arg, t, 0);
        return;
    }
    /* A worker still inside an earlier job would claim from the new counter and
     * call the old fn. Workers take a job (and count themselves active) under
     * the mutex, so with it held and none active, none can take the old one. */
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->active) != 0) {
        pthread_mutex_unlock(&p->mu);
        sched_yield();
        pthread_mutex_lock(&p->mu);
    }
    p->fn = fn;
    p->arg = arg;
    p->tasks = tasks;
    atomic_store(&p->next, 0);
    atomic_store(&p->done, 0);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    claim_tasks(p, fn, arg, tasks, 0);
    while (atomic_load(&p->done) < tasks) {
        for (int i = 0; i < SPIN_DONE && atomic_load(&p->done) < tasks; i++) CPU_RELAX();
        if (atomic_load(&p->done) < tasks) sched_yield();
    }
}

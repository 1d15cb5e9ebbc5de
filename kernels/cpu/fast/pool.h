/* pool.h: the persistent thread pool a CPU device owns and every fast kernel splits its work over (pool.c). */
#ifndef PP_CPU_FAST_POOL_H
#define PP_CPU_FAST_POOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_tpool pp_tpool;
/* fn(arg, task, thread): task in [0, tasks), thread in [0, threads) names the
 * calling thread (for per-thread workspace). */
typedef void (*pp_pool_fn)(void *arg, int64_t task, int thread);

/* A pool of `threads` threads: the caller of pp_tpool_run and threads - 1
 * workers started here, which sleep between runs. NULL when out of memory or
 * threads. */
pp_tpool *pp_tpool_create(int threads);
void pp_tpool_free(pp_tpool *p);
int pp_tpool_threads(const pp_tpool *p);
/* Runs fn for every task, the calling thread taking part, and returns when all
 * are done. Tasks are handed out one at a time to whichever thread is free. A
 * NULL pool runs them all on the caller. One caller at a time per pool. */
void pp_tpool_run(pp_tpool *p, int64_t tasks, pp_pool_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif

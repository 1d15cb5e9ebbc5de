/* stress_pool [RUNS]: the CPU device's thread pool (kernels/cpu/fast/pool.c)
 * under ThreadSanitizer and load.
 *
 * Back-to-back runs alternate between two jobs, each with its own function and
 * its own counters on the caller's stack, many of them a task or two long, so
 * workers often wake late: every task of a run must run exactly once, by that
 * run's function, and never touch the other job's counters (a worker taking a
 * new job's task with an earlier job's function would). Pools of 2, 3 and 5.
 * Prints "N passed, N failed" and exits non-zero on any failure. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/fast/fast.h"

enum { MAX_TASKS = 64 };

typedef struct counts {
    atomic_int hit[MAX_TASKS];
    atomic_int wrong; /* calls from the other job's function */
} counts;

/* a microsecond or so of work, so that workers take part in most runs */
static void work(void) {
    volatile unsigned x = 0;
    for (int i = 0; i < 300; i++) x += (unsigned)i;
}

static void job_a(void *arg, int64_t t, int thread) {
    counts *c = arg;
    work();
    atomic_fetch_add(&c[0].hit[t], 1);
    (void)thread;
}

static void job_b(void *arg, int64_t t, int thread) {
    counts *c = arg;
    work();
    atomic_fetch_add(&c[1].hit[t], 1);
    (void)thread;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 20000, passed = 0, failed = 0;
    const int sizes[] = {2, 3, 5};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        pp_tpool *pool = pp_tpool_create(sizes[s]);
        if (!pool) {
            fprintf(stderr, "FAIL: a pool of %d threads\n", sizes[s]);
            failed++;
            continue;
        }
        int bad = 0;
        for (int r = 0; r < runs && !bad; r++) {
            counts c[2]; /* on the stack: gone, and reused, after each run */
            memset(c, 0, sizeof c);
            int64_t tasks = 1 + (r * 7919) % (r % 3 ? 3 : MAX_TASKS);
            int which = r & 1;
            pp_tpool_run(pool, tasks, which ? job_b : job_a, c);
            for (int64_t t = 0; t < MAX_TASKS; t++) {
                int want = t < tasks ? 1 : 0;
                if (atomic_load(&c[which].hit[t]) != want || atomic_load(&c[!which].hit[t]) != 0) {
                    fprintf(stderr,
                            "FAIL: pool of %d, run %d (%lld tasks): task %lld ran %d times, %d by the other job\n",
                            sizes[s], r, (long long)tasks, (long long)t, atomic_load(&c[which].hit[t]),
                            atomic_load(&c[!which].hit[t]));
                    bad = 1;
                    break;
                }
            }
        }
        pp_tpool_free(pool);
        if (bad) failed++;
        else passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

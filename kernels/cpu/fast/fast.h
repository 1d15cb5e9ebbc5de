/* fast.h: the CPU backend's fast kernels, beside the reference (cpu_kernels.h).
 *
 * The reference kernels (pp_cpu_*) stay what every other kernel is tested
 * against. These are the ones the CPU backend runs where they apply: AVX-512 or
 * AVX2 micro-kernels picked at run time (__builtin_cpu_supports; a build still
 * runs on a CPU without either, through plain C), weights packed once when a
 * node is prepared, bias / residual / activation fused into the store, and the
 * work of one op split over a persistent pool of threads (pool.c) that the
 * device owns; no library below starts threads of its own.
 *
 * Every fast kernel computes each output element in one thread, in an order of
 * sums fixed by the shapes alone (never by the thread count or how the work is
 * split), so its results are bit-identical across thread counts. Which kernel
 * runs may depend on the batch (Winograd pays from enough tiles in all); with
 * options.deterministic the choice looks at one image only, so results are
 * also bit-identical across placements and micro-batch sizes. They differ from
 * the reference within f32 rounding (another order of sums, FMA, Winograd).
 *
 * Use: pp_fast_pack makes a node's packed weights (shared by every launch of the
 * node: per micro-batch size and slot), pp_fast_plan picks the kernel for one
 * launch's params and says its workspace, pp_fast_run runs it.
 */
#ifndef PP_CPU_FAST_H
#define PP_CPU_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "../../op_table.h"
#include "../../params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the thread pool ------------------------------------------------------------ */

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

/* ---- instruction sets ----------------------------------------------------------- */

typedef enum pp_cpu_isa {
    PP_ISA_GENERIC = 0, /* plain C */
    PP_ISA_AVX2 = 1,    /* AVX2 + FMA */
    PP_ISA_AVX512 = 2,  /* AVX-512 F */
} pp_cpu_isa;

/* What this CPU runs, capped by PP_CPU_ISA=generic|avx2|avx512 in the
 * environment (to test the other paths on one machine). */
pp_cpu_isa pp_cpu_isa_detect(void);
const char *pp_cpu_isa_name(pp_cpu_isa isa);

/* ---- kernels -------------------------------------------------------------------- */

typedef struct pp_fast_packed pp_fast_packed;

/* The packed weights a node's fast kernel wants, or *out = NULL when the op has
 * no fast kernel for these params (the reference runs it). in[j] for the bits j
 * of `weights` are the node's weights. 0, or -1 when out of memory. */
int pp_fast_pack(pp_op op, const pp_op_params *p, const void *const *in, unsigned weights, pp_cpu_isa isa,
                 pp_fast_packed **out);
void pp_fast_packed_free(pp_fast_packed *pk);
/* Bytes of the weight in[1] that pk holds a packed copy of (0: none): the
 * kernel never reads the original again. */
size_t pp_fast_packed_source_bytes(const pp_fast_packed *pk);

/* Which fast kernel runs these params (with pk from pp_fast_pack, which may be
 * NULL for ops that pack nothing): 0 for none, else a variant to hand to
 * pp_fast_run; and its workspace in bytes for a pool of `threads`. With
 * `deterministic`, only kernels whose choice does not depend on the batch size
 * (so an image gives the same bytes in any micro-batch). */
int pp_fast_plan(pp_op op, const pp_op_params *p, const pp_fast_packed *pk, pp_cpu_isa isa, int threads,
                 int deterministic, size_t *ws_bytes);
/* The most workspace any fast kernel for these params may plan, before the
 * weights exist to pack (the engine sizes its arena first). */
size_t pp_fast_workspace_bound(pp_op op, const pp_op_params *p, pp_cpu_isa isa, int threads);
/* Runs it: in and out as for the reference kernel; ws of the planned size. */
int pp_fast_run(pp_op op, const pp_op_params *p, const pp_fast_packed *pk, pp_cpu_isa isa, int variant,
                const void *const *in, void *const *out, void *ws, pp_tpool *pool);

#ifdef __cplusplus
}
#endif
#endif

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
#include "isa.h"
#include "pool.h"

#ifdef __cplusplus
extern "C" {
#endif

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

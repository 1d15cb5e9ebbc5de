/* fold.h: constant folding and dead-node elimination in the converter.
 *
 * A node all of whose inputs are weights is evaluated once, on the CPU, through
 * the engine's own kernels (engine/eval.h), and its outputs become weights. A
 * node whose attributes are shape program values (docs/ir.md) is never folded:
 * its result depends on the run. Shape arithmetic on the graph's symbols is kept
 * by converter/symval.h instead.
 */
#ifndef PP_FOLD_H
#define PP_FOLD_H

#include <stdint.h>

#include "../engine/graph.h"
#include "../loader/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- plain constant folding over an IR graph --------------------------------- */

/* Largest node output (bytes) folding will materialise; bigger stays a node. */
#define PP_FOLD_MAX_BYTES ((uint64_t)256 << 20)

/* When every input of node `node` is a weight (absent optional inputs aside),
 * evaluates it with pp_eval_node and turns its outputs into weights the graph
 * owns, marking the node dead; *folded = 1. When an input is not constant, the
 * output would exceed PP_FOLD_MAX_BYTES, or the engine cannot evaluate the op,
 * leaves everything as it was and sets *folded = 0 (not an error). Errors only
 * for out-of-memory or invalid constant data (a gather index out of range). */
pp_code pp_fold_node(pp_graph *g, int node, int *folded, pp_error *err);

/* Folds every foldable node, in order (so chains fold). */
pp_code pp_fold_constants(pp_graph *g, int *n_folded, pp_error *err);

/* Marks dead every node none of whose outputs reaches a graph output, then
 * compacts the graph (dropping unused tensors, weights included). */
pp_code pp_eliminate_dead(pp_graph *g, int *n_removed, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

/* interp.h: a reference interpreter over the IR, for checking conversions.
 *
 * Runs a graph's live nodes in order, one at a time, through the engine's CPU
 * evaluation entry point (engine/eval.h): no plan, no arenas, no threads beyond
 * the kernels' own. Slow and simple on purpose: the conformance runner and the
 * converter's tests compare what a converted graph computes with ONNX's
 * reference outputs without depending on the planner or the executor.
 */
#ifndef PP_INTERP_H
#define PP_INTERP_H

#include <stdint.h>

#include "../engine/graph.h"
#include "../engine/ops.h"
#include "../loader/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* inputs[i]: the bytes of graph input i at batch size `batch` (borrowed); any
 * other symbol of the graph must have a single value. Symbolic attributes are
 * resolved in place, so g must not be one another thread reads.
 * On success outputs[i] is a pp_malloc'ed copy of graph output i (free with
 * pp_free) and out_shapes[i] its concrete shape. The graph must be topologically
 * sorted (pp_graph_toposort). */
pp_code pp_interp_run(const pp_graph *g, int64_t batch, const void *const *inputs, void **outputs, pp_shape *out_shapes,
                      pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

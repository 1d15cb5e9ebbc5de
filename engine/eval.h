/* eval.h: run one node on the CPU, outside any plan.
 *
 * For the converter's constant folding (which must use the engine's kernels, not
 * a second copy of them) and for node-by-node interpreters in tests. Allocates
 * per call; the engine's run path never comes here.
 */
#ifndef PP_EVAL_H
#define PP_EVAL_H

#include "ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* in_shapes/in_data: node->n_in entries (an absent optional input: dtype
 * PP_DTYPE_INVALID and NULL data). On success out_shapes[i] is set and
 * out_data[i] is a pp_malloc'ed buffer the caller frees with pp_free. */
pp_code pp_eval_node(const pp_node *node, const pp_shape *in_shapes, const void *const *in_data, pp_shape *out_shapes,
                     void **out_data, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

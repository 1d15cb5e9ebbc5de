/* fold.h: constant folding and the symbolic shape values of the converter.
 *
 * Two kinds of folding:
 *   - plain constants: a node all of whose inputs are weights is evaluated once,
 *     on the CPU, through the engine's own kernels (engine/eval.h), and its
 *     outputs become weights;
 *   - shape arithmetic that depends on the batch: torch exports a dynamic-batch
 *     `x.view(x.size(0), -1)` as Shape → Gather → Unsqueeze → Concat → Reshape.
 *     Such i64 values are tracked symbolically, each element either a constant or
 *     k × batch (+ c): a pp_symval. The importer evaluates the ONNX shape ops on
 *     them (these functions) and, where a Reshape or Expand consumes one, writes
 *     an attribute that is right at every batch size (0 = copy the input's axis,
 *     -1 = infer), see docs/converter.md.
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

/* ---- symbolic shape values --------------------------------------------------- */

#define PP_SYM_MAX 16

/* A small integer tensor (rank 0 or 1) whose element i is k[i] × batch + c[i].
 * dtype records what ONNX thinks it is (i64, i32, f32 or f64 after a Cast, bool
 * after a comparison); the values are integers whatever it says. */
typedef struct pp_symval {
    pp_dtype dtype;
    int rank; /* 0 or 1 */
    int n;    /* elements; 1 when rank is 0 */
    int64_t k[PP_SYM_MAX];
    int64_t c[PP_SYM_MAX];
} pp_symval;

/* 1 when no element depends on the batch. */
int pp_sym_is_const(const pp_symval *v);
/* 1 when element i is exactly `mult` × batch (the encoding of dim -mult). */
int pp_sym_elem_is_batch(const pp_symval *v, int i, int64_t *mult);

/* A constant tensor (rank <= 1, at most PP_SYM_MAX elements; i64, i32, bool, or
 * f32/f64 holding integers) as a symval. what names it in errors. */
pp_code pp_sym_from_data(pp_dtype dtype, int rank, const int64_t *dims, const void *data, pp_symval *out,
                         const char *what, pp_error *err);
/* A constant symval as tensor bytes of its dtype (*data pp_malloc'ed). */
pp_code pp_sym_to_data(const pp_symval *v, void **data, uint64_t *nbytes, pp_error *err);
/* A tensor shape in the file's encoding (d < 0 = -d × batch) as an i64 symval. */
void pp_sym_from_dims(int rank, const int64_t *dims, pp_symval *out);

/* The ONNX shape ops on symvals. `what` names the node in errors. Every function
 * refuses (PP_ERR_UNSUPPORTED, naming the node) what it cannot decide at every
 * batch size, and PP_ERR_SHAPE on inconsistent operands. */
typedef enum pp_sym_binop { PP_SYM_ADD, PP_SYM_SUB, PP_SYM_MUL, PP_SYM_DIV, PP_SYM_MOD } pp_sym_binop;
pp_code pp_sym_binary(pp_sym_binop op, const pp_symval *a, const pp_symval *b, pp_symval *out, const char *what,
                      pp_error *err);
pp_code pp_sym_neg(const pp_symval *a, pp_symval *out, const char *what, pp_error *err);
/* Equal / Less / Greater (cmp 0 / -1 / +1) to a bool symval; decided for every
 * batch >= 1 or refused. */
pp_code pp_sym_compare(int cmp, const pp_symval *a, const pp_symval *b, pp_symval *out, const char *what,
                       pp_error *err);
/* Max / Min (is_max 1 / 0), decided for every batch >= 1 or refused. */
pp_code pp_sym_minmax(int is_max, const pp_symval *a, const pp_symval *b, pp_symval *out, const char *what,
                      pp_error *err);
pp_code pp_sym_where(const pp_symval *cond, const pp_symval *x, const pp_symval *y, pp_symval *out, const char *what,
                     pp_error *err);
/* Gather along axis 0 with constant indices (rank 0 or 1). */
pp_code pp_sym_gather(const pp_symval *data, const pp_symval *idx, pp_symval *out, const char *what, pp_error *err);
/* ONNX Slice on axis 0 with one start/end/step (clamped as ONNX does). */
pp_code pp_sym_slice(const pp_symval *data, int64_t start, int64_t end, int64_t step, pp_symval *out, const char *what,
                     pp_error *err);
pp_code pp_sym_concat(const pp_symval *const *parts, int n, pp_symval *out, const char *what, pp_error *err);
pp_code pp_sym_cast(const pp_symval *a, pp_dtype to, pp_symval *out, const char *what, pp_error *err);
/* Product of all elements (ReduceProd over axis 0); keepdims gives rank 1. */
pp_code pp_sym_reduce_prod(const pp_symval *a, int keepdims, pp_symval *out, const char *what, pp_error *err);
/* Sum of all elements (ReduceSum over axis 0). */
pp_code pp_sym_reduce_sum(const pp_symval *a, int keepdims, pp_symval *out, const char *what, pp_error *err);
/* "[N, 3, 16*N+1]"-style text into buf. */
const char *pp_sym_str(const pp_symval *v, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif

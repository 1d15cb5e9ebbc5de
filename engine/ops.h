/* ops.h: what each op does to shapes, and the kernel params it implies.
 *
 * pp_op_describe is the single place that knows an op's semantics beyond its
 * kernels: given a node and the concrete shapes of its inputs (the batch
 * resolved) it checks them, computes the output shapes and dtypes, fills the
 * kernel params (kernels/params.h) and estimates the cost. Shape inference runs
 * it at batch 1 and batch 2 to derive symbolic shapes (an extent that doubles is
 * a multiple of the batch; one that stays is fixed; anything else is refused);
 * the planner runs it at each micro-batch size to get kernel params once, before
 * any run.
 */
#ifndef PP_OPS_H
#define PP_OPS_H

#include "../kernels/op_table.h"
#include "../kernels/params.h"
#include "graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A tensor's type at one batch size: logical dims, dtype and layout (zero, the
 * plain layout, unless the planner chose another: docs/planner.md). */
typedef struct pp_shape {
    pp_dtype dtype; /* PP_DTYPE_INVALID for an absent optional input */
    int rank;
    int64_t dims[PP_MAX_RANK];
    pp_layout layout;
    int block; /* NCHWC: channels per block */
} pp_shape;

/* Tensor t's type at batch size `batch`. */
void pp_shape_of(const pp_tensor *t, int64_t batch, pp_shape *s);

typedef struct pp_cost {
    double flops; /* multiply-adds count 2 */
    double bytes; /* bytes read and written */
} pp_cost;

/* Constant input values a describe function may need (e.g. the extents of a
 * SHAPE input folded at conversion are attributes, so this is rarely used): the
 * WEIGHT data of each input, NULL for activations. */
typedef struct pp_describe_ctx {
    const pp_node *node;
    const char *node_name; /* for messages */
    const void *const *const_data;
} pp_describe_ctx;

typedef pp_code (*pp_describe_fn)(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                                  pp_op_params *p, pp_cost *cost, pp_error *err);

/* An op's row of kernels/op_table.h. */
typedef struct pp_op_def {
    pp_op op;
    int min_in, max_in; /* max_in = PP_MAX_IO for variadic ops */
    int min_out, max_out;
    pp_describe_fn describe;
    const char *kernel; /* the kernel family: "conv", "eltwise", ... */
    pp_cuda_path cuda;  /* how the CUDA backend runs it */
} pp_op_def;

/* The definition of op, or NULL when the engine does not know it. */
const pp_op_def *pp_op_def_get(pp_op op);

/* Checks arity, then runs the op's describe function. Messages are prefixed with
 * the node's name and op: "node 'layer1.0/conv1' (CONV): ...". */
pp_code pp_op_describe(const pp_node *node, const pp_shape *in, pp_shape *out, pp_op_params *p, pp_cost *cost,
                       const void *const *const_data, pp_error *err);

/* One tensor may not exceed this many bytes (2^48, 256 TiB): far beyond any
 * device, and small enough that extents multiplied together cannot overflow. */
#define PP_MAX_TENSOR_BYTES ((int64_t)1 << 48)

/* Helpers for describe functions. */
/* "(2, 3, 4)" into buf, for messages. */
const char *pp_dims_str(char *buf, size_t size, const int64_t *dims, int rank);
int64_t pp_shape_numel(const pp_shape *s); /* saturates at INT64_MAX */
/* PP_ERR_SHAPE naming `what` when an extent of s or the product of its non-zero
 * extents (in bytes) passes PP_MAX_TENSOR_BYTES: past this check every partial
 * product of extents (outer, inner, strides) fits int64. */
pp_code pp_shape_check_size(const pp_shape *s, const char *what, pp_error *err);
/* NumPy broadcast of a and b into out; -1 (and an error naming the axis) when they do not broadcast. */
pp_code pp_shape_broadcast(const pp_shape *a, const pp_shape *b, pp_shape *out, const char *what, pp_error *err);
/* Element strides of `in` viewed against the broadcast shape `out` (0 on broadcast axes). */
void pp_shape_broadcast_strides(const pp_shape *in, const pp_shape *out, int64_t *strides);
/* Normalises a possibly negative axis against rank; -1 and an error when out of range. */
int pp_axis_normalize(int64_t axis, int rank, const char *what, pp_error *err);
/* Reads an activation attribute set on CONV/GEMM by fusion ("activation" int =
 * pp_act_kind, "act_alpha", "act_beta"). */
pp_act pp_node_act(const pp_node *n);

/* Describe functions, one per op family (engine/ops_*.c), named by the op table. */
#define PP_X_DESCRIBE_DECL(name, desc, ...)                                                                            \
    pp_code pp_describe_##desc(const pp_describe_ctx *, const pp_shape *, int, pp_shape *, int, pp_op_params *,        \
                               pp_cost *, pp_error *);
PP_OP_TABLE(PP_X_DESCRIBE_DECL)
#undef PP_X_DESCRIBE_DECL

#ifdef __cplusplus
}
#endif
#endif

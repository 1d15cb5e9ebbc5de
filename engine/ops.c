/* ops.c: the op table and the helpers describe functions share. */
#include "ops.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define V PP_MAX_IO
// clang-format off
static const pp_op_def op_defs[] = {
    {PP_OP_CONV, 2, 4, 1, 1, pp_describe_conv},
    {PP_OP_GEMM, 2, 3, 1, 1, pp_describe_gemm},
    {PP_OP_MATMUL, 2, 2, 1, 1, pp_describe_matmul},
    {PP_OP_BATCHNORM, 5, 5, 1, 1, pp_describe_batchnorm},
#define UNARY(op) {PP_OP_##op, 1, 1, 1, 1, pp_describe_unary},
    UNARY(RELU) UNARY(CLIP) UNARY(SIGMOID) UNARY(TANH) UNARY(GELU) UNARY(GELU_TANH) UNARY(SILU) UNARY(HARDSWISH)
    UNARY(HARDSIGMOID) UNARY(LEAKY_RELU) UNARY(SQRT) UNARY(ERF) UNARY(EXP) UNARY(LOG) UNARY(NEG) UNARY(ABS)
    UNARY(RECIPROCAL) UNARY(NOT) UNARY(ELU) UNARY(SOFTPLUS) UNARY(FLOOR) UNARY(CEIL) UNARY(SIN) UNARY(COS)
    UNARY(SIGN) UNARY(ROUND) UNARY(MISH) UNARY(SELU)
#undef UNARY
#define BINARY(op) {PP_OP_##op, 2, 2, 1, 1, pp_describe_binary},
    BINARY(ADD) BINARY(SUB) BINARY(MUL) BINARY(DIV) BINARY(POW) BINARY(EQUAL) BINARY(LESS) BINARY(GREATER)
    BINARY(LESS_EQUAL) BINARY(GREATER_EQUAL) BINARY(AND) BINARY(OR) BINARY(XOR) BINARY(MAX) BINARY(MIN)
    BINARY(MOD) BINARY(PRELU)
#undef BINARY
    {PP_OP_WHERE, 3, 3, 1, 1, pp_describe_where},
    {PP_OP_CAST, 1, 1, 1, 1, pp_describe_cast},
    {PP_OP_MAXPOOL, 1, 1, 1, 1, pp_describe_pool},
    {PP_OP_AVGPOOL, 1, 1, 1, 1, pp_describe_pool},
    {PP_OP_GLOBAL_AVGPOOL, 1, 1, 1, 1, pp_describe_pool},
    {PP_OP_GLOBAL_MAXPOOL, 1, 1, 1, 1, pp_describe_pool},
    {PP_OP_SOFTMAX, 1, 1, 1, 1, pp_describe_softmax},
    {PP_OP_LOG_SOFTMAX, 1, 1, 1, 1, pp_describe_softmax},
    {PP_OP_LAYERNORM, 2, 3, 1, 1, pp_describe_layernorm},
    {PP_OP_ATTENTION, 3, 4, 1, 1, pp_describe_attention},
    {PP_OP_REDUCE_MEAN, 1, 1, 1, 1, pp_describe_reduce},
    {PP_OP_REDUCE_SUM, 1, 1, 1, 1, pp_describe_reduce},
    {PP_OP_REDUCE_MAX, 1, 1, 1, 1, pp_describe_reduce},
    {PP_OP_REDUCE_MIN, 1, 1, 1, 1, pp_describe_reduce},
    {PP_OP_REDUCE_PROD, 1, 1, 1, 1, pp_describe_reduce},
    {PP_OP_ARGMAX, 1, 1, 1, 1, pp_describe_reduce},
    {PP_OP_ARGMIN, 1, 1, 1, 1, pp_describe_reduce},
    {PP_OP_IDENTITY, 1, 1, 1, 1, pp_describe_reshape},
    {PP_OP_FLATTEN, 1, 1, 1, 1, pp_describe_reshape},
    {PP_OP_RESHAPE, 1, 1, 1, 1, pp_describe_reshape},
    {PP_OP_SQUEEZE, 1, 1, 1, 1, pp_describe_reshape},
    {PP_OP_UNSQUEEZE, 1, 1, 1, 1, pp_describe_reshape},
    {PP_OP_TRANSPOSE, 1, 1, 1, 1, pp_describe_transpose},
    {PP_OP_CONCAT, 1, V, 1, 1, pp_describe_concat},
    {PP_OP_SPLIT, 1, 1, 1, V, pp_describe_split},
    {PP_OP_SLICE, 1, 1, 1, 1, pp_describe_slice},
    {PP_OP_GATHER, 2, 2, 1, 1, pp_describe_gather},
    {PP_OP_GATHER_ELEMENTS, 2, 2, 1, 1, pp_describe_gather_elements},
    {PP_OP_EXPAND, 1, 1, 1, 1, pp_describe_expand},
    {PP_OP_TILE, 1, 1, 1, 1, pp_describe_expand},
    {PP_OP_PAD, 1, 1, 1, 1, pp_describe_pad},
    {PP_OP_RESIZE, 1, 1, 1, 1, pp_describe_resize},
    {PP_OP_TRILU, 1, 1, 1, 1, pp_describe_trilu},
    {PP_OP_SHAPE, 1, 1, 1, 1, pp_describe_fill},
    {PP_OP_CONSTANT_OF_SHAPE, 0, 0, 1, 1, pp_describe_fill},
    {PP_OP_RANGE, 0, 0, 1, 1, pp_describe_fill},
    {PP_OP_DEPTH_TO_SPACE, 1, 1, 1, 1, pp_describe_d2s},
    {PP_OP_SPACE_TO_DEPTH, 1, 1, 1, 1, pp_describe_d2s},
    {PP_OP_CUMSUM, 1, 1, 1, 1, pp_describe_cumsum},
};
// clang-format on
#undef V

const pp_op_def *pp_op_def_get(pp_op op) {
    for (size_t i = 0; i < sizeof op_defs / sizeof op_defs[0]; i++)
        if (op_defs[i].op == op) return &op_defs[i];
    return NULL;
}

pp_code pp_op_describe(const pp_node *node, const pp_shape *in, pp_shape *out, pp_op_params *p, pp_cost *cost,
                       const void *const *const_data, pp_error *err) {
    const char *opname = pp_op_name(node->op);
    const pp_op_def *def = pp_op_def_get(node->op);
    if (!def)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "node '%s': op %s (%d) is not supported by the engine", node->name,
                            opname ? opname : "?", (int)node->op);
    if (node->n_in < def->min_in || node->n_in > def->max_in)
        return pp_error_set(err, PP_ERR_SHAPE, "node '%s' (%s): %d inputs, expected %d to %d", node->name, opname,
                            node->n_in, def->min_in, def->max_in);
    if (node->n_out < def->min_out || node->n_out > def->max_out)
        return pp_error_set(err, PP_ERR_SHAPE, "node '%s' (%s): %d outputs, expected %d to %d", node->name, opname,
                            node->n_out, def->min_out, def->max_out);
    /* Bounded extents going in keep every describe function's arithmetic in
     * range; bounded extents coming out keep the planner's. */
    for (int i = 0; i < node->n_in; i++) {
        if (in[i].dtype == PP_DTYPE_INVALID) continue;
        char what[64];
        snprintf(what, sizeof what, "input %d", i);
        pp_code rc = pp_shape_check_size(&in[i], what, err);
        if (rc) {
            if (err) pp_error_prefix(err, "node '%s' (%s)", node->name, opname);
            return rc;
        }
    }
    pp_describe_ctx ctx = {node, node->name, const_data};
    memset(p, 0, sizeof *p);
    pp_cost c = {0, 0};
    pp_code rc = def->describe(&ctx, in, node->n_in, out, node->n_out, p, &c, err);
    if (rc != PP_OK) {
        if (err) pp_error_prefix(err, "node '%s' (%s)", node->name, opname);
        return rc;
    }
    for (int i = 0; i < node->n_out; i++) {
        char what[64];
        snprintf(what, sizeof what, "output %d", i);
        rc = pp_shape_check_size(&out[i], what, err);
        if (rc) {
            if (err) pp_error_prefix(err, "node '%s' (%s)", node->name, opname);
            return rc;
        }
    }
    if (cost) *cost = c;
    return PP_OK;
}

int64_t pp_shape_numel(const pp_shape *s) {
    /* Saturates instead of overflowing: shapes come from files, and a hostile
     * one must end in a "too large" error, not in undefined behaviour. */
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) {
        if (s->dims[i] < 0) return INT64_MAX;
        if (__builtin_mul_overflow(n, s->dims[i], &n)) return INT64_MAX;
    }
    return n;
}

pp_code pp_shape_check_size(const pp_shape *s, const char *what, pp_error *err) {
    size_t elem = pp_dtype_size(s->dtype) ? pp_dtype_size(s->dtype) : 1;
    for (int d = 0; d < s->rank; d++)
        if (s->dims[d] < 0 || s->dims[d] > PP_MAX_TENSOR_BYTES)
            return pp_error_set(err, PP_ERR_SHAPE, "%s axis %d has extent %lld, beyond the %lld limit", what, d,
                                (long long)s->dims[d], (long long)PP_MAX_TENSOR_BYTES);
    int64_t n = pp_shape_numel(s);
    if (n > PP_MAX_TENSOR_BYTES / (int64_t)elem)
        return pp_error_set(err, PP_ERR_SHAPE, "%s has %lld elements or more, beyond the %lld-byte limit on one tensor",
                            what, (long long)n, (long long)PP_MAX_TENSOR_BYTES);
    return PP_OK;
}

pp_code pp_shape_broadcast(const pp_shape *a, const pp_shape *b, pp_shape *out, const char *what, pp_error *err) {
    int r = a->rank > b->rank ? a->rank : b->rank;
    out->rank = r;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return pp_error_set(err, PP_ERR_SHAPE, "%s: axis %d has extents %lld and %lld, which do not broadcast",
                                what, i, (long long)da, (long long)db);
        out->dims[i] = da == 1 ? db : da;
    }
    return PP_OK;
}

void pp_shape_broadcast_strides(const pp_shape *in, const pp_shape *out, int64_t *strides) {
    int64_t s = 1;
    for (int d = out->rank - 1; d >= 0; d--) {
        int id = d - (out->rank - in->rank);
        if (id < 0 || in->dims[id] == 1) {
            strides[d] = 0;
        } else {
            strides[d] = s;
        }
        if (id >= 0) s *= in->dims[id];
    }
}

int pp_axis_normalize(int64_t axis, int rank, const char *what, pp_error *err) {
    if (axis < -rank || axis >= rank) {
        pp_error_set(err, PP_ERR_SHAPE, "%s %lld is out of range for rank %d", what, (long long)axis, rank);
        return -1;
    }
    return (int)(axis < 0 ? axis + rank : axis);
}

pp_act pp_node_act(const pp_node *n) {
    pp_act a;
    a.kind = (pp_act_kind)pp_node_int(n, "activation", PP_ACT_NONE);
    a.alpha = (float)pp_node_float(n, "act_alpha", 0.0);
    a.beta = (float)pp_node_float(n, "act_beta", 0.0);
    return a;
}

/* ops_describe.h: what the describe functions of ops_eltwise.c and
 * ops_data.c share: checking inputs and attributes, setting shapes, costs,
 * and the messages' shape strings. Internal to those two files. */
#ifndef PP_OPS_DESCRIBE_H
#define PP_OPS_DESCRIBE_H

#include <stdio.h>
#include <string.h>

#include "../loader/checked.h"
#include "ops.h"

#define TRY(x)                                                                                                         \
    do {                                                                                                               \
        pp_code rc_ = (x);                                                                                             \
        if (rc_ != PP_OK) return rc_;                                                                                  \
    } while (0)

#define SHAPE_STR(s) pp_dims_str((char[128]){0}, 128, (s)->dims, (s)->rank)
#define DIMS_STR(d, r) pp_dims_str((char[128]){0}, 128, (d), (r))

static inline double tensor_bytes(const pp_shape *s) {
    return s->dtype == PP_DTYPE_INVALID ? 0.0 : (double)pp_shape_numel(s) * (double)pp_dtype_size(s->dtype);
}

static inline void cost_io(pp_cost *c, const pp_shape *in, int n_in, const pp_shape *out, int n_out, double flops) {
    double b = 0;
    for (int i = 0; i < n_in; i++) b += tensor_bytes(&in[i]);
    for (int i = 0; i < n_out; i++) b += tensor_bytes(&out[i]);
    c->bytes = b;
    c->flops = flops;
}

static inline void set_shape(pp_shape *s, pp_dtype dt, int rank, const int64_t *dims) {
    memset(s, 0, sizeof *s);
    s->dtype = dt;
    s->rank = rank;
    for (int i = 0; i < rank; i++) s->dims[i] = dims[i];
}

/* Product of extents that must each be >= 0; -1 when one is negative or the
 * product passes PP_MAX_TENSOR_BYTES (pp_op_describe would refuse such an
 * output; refusing it here lets the message name the attribute at fault). */
static inline int64_t checked_numel(const int64_t *dims, int rank) {
    int64_t n;
    return pp_numel_i64(dims, rank, &n) || n > PP_MAX_TENSOR_BYTES ? -1 : n;
}

static inline int64_t prod(const int64_t *dims, int from, int to) {
    int64_t n = 1;
    for (int i = from; i < to; i++) n *= dims[i];
    return n;
}

static inline pp_code need_attr(const pp_describe_ctx *ctx, const char *name, pp_attr_type type, pp_error *err) {
    const pp_attr *a = pp_node_attr(ctx->node, name);
    if (!a) return pp_error_set(err, PP_ERR_SHAPE, "missing attribute '%s'", name);
    if (a->type != type)
        return pp_error_set(err, PP_ERR_SHAPE, "attribute '%s' has type %d, expected %d", name, (int)a->type,
                            (int)type);
    return PP_OK;
}

static inline int is_int_dtype(pp_dtype t) { return t == PP_DTYPE_I64 || t == PP_DTYPE_I32; }
/* f32 or a 16-bit float: the op is defined for them; whether a device's kernel
 * computes in them is its backend's question (the CPU's f32 kernels get f32
 * operands from the planner's CPU policy). */
static inline int is_float_dtype(pp_dtype t) { return t == PP_DTYPE_F32 || t == PP_DTYPE_F16 || t == PP_DTYPE_BF16; }

static inline pp_code need_input(const pp_shape *in, int i, pp_error *err) {
    if (in[i].dtype == PP_DTYPE_INVALID || pp_dtype_size(in[i].dtype) == 0)
        return pp_error_set(err, PP_ERR_SHAPE, "input %d is absent or has no valid dtype", i);
    if (in[i].rank < 0 || in[i].rank > PP_MAX_RANK)
        return pp_error_set(err, PP_ERR_SHAPE, "input %d has rank %d (at most %d)", i, in[i].rank, PP_MAX_RANK);
    return PP_OK;
}

/* Contiguous eltwise params for an output shape (unary, CAST). */
static inline void eltwise_flat(pp_eltwise_params *e, pp_op op, pp_dtype dt, pp_dtype out_dt, const pp_shape *s) {
    e->op = op;
    e->dtype = dt;
    e->out_dtype = out_dt;
    e->n_in = 1;
    e->rank = s->rank;
    e->count = pp_shape_numel(s);
    int64_t st = 1;
    for (int d = s->rank - 1; d >= 0; d--) {
        e->dims[d] = s->dims[d];
        e->strides[0][d] = s->dims[d] == 1 ? 0 : st;
        st *= s->dims[d];
    }
}

#endif

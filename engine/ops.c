/* ops.c: the op table and the helpers describe functions share. */
#include "ops.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../loader/checked.h"

_Static_assert(PP_OP_TABLE_ROWS == PP_OP_LIST_ROWS,
               "every op of PP_OP_LIST (include/ppformat.h) needs a row in PP_OP_TABLE (kernels/op_table.h)");

/* With the count above this makes the table a bijection onto PP_OP_LIST: a row
 * named twice is a redeclared enumerator, a name outside the list has no PP_OP_. */
#define PP_X_ROW(name, ...) PP_OP_ROW_##name,
enum { PP_OP_TABLE(PP_X_ROW) };
#undef PP_X_ROW

#define PP_CUDA_PATH_kernel PP_CUDA_PATH_KERNEL
#define PP_CUDA_PATH_cudnn PP_CUDA_PATH_CUDNN
#define PP_CUDA_PATH_cublaslt PP_CUDA_PATH_CUBLASLT
#define PP_X_DEF(name, desc, kern, cuda, min_in, max_in, min_out, max_out)                                             \
    {PP_OP_##name, min_in, max_in, min_out, max_out, pp_describe_##desc, #kern, PP_CUDA_PATH_##cuda},
static const pp_op_def op_defs[] = {PP_OP_TABLE(PP_X_DEF)};
#undef PP_X_DEF

const pp_op_def *pp_op_def_get(pp_op op) {
    for (size_t i = 0; i < sizeof op_defs / sizeof op_defs[0]; i++)
        if (op_defs[i].op == op) return &op_defs[i];
    return NULL;
}

/* The ops whose describe functions compute in any layout (docs/planner.md);
 * every other op takes and gives plain tensors. Convolutions, batch norm,
 * pooling, the element-wise ops, concat and resize take NHWC too (their CUDA kernels
 * do: the CUDA policy asks for it). */
static int takes_layouts(pp_op op) {
    const pp_op_def *d = pp_op_def_get(op);
    if (!d) return 0;
    return op == PP_OP_REFORMAT || d->describe == pp_describe_conv || d->describe == pp_describe_batchnorm ||
           d->describe == pp_describe_pool || d->describe == pp_describe_unary || d->describe == pp_describe_binary ||
           d->describe == pp_describe_concat || d->describe == pp_describe_resize;
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
        if (in[i].layout != PP_LAYOUT_PLAIN && !takes_layouts(node->op))
            return pp_error_set(err, PP_ERR_UNSUPPORTED,
                                "node '%s' (%s): input %d is in layout %d; this op takes plain", node->name, opname, i,
                                (int)in[i].layout);
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
    /* plain unless a describe function says otherwise */
    memset(out, 0, sizeof *out * (size_t)node->n_out);
    pp_cost c = {0, 0};
    pp_code rc = def->describe(&ctx, in, node->n_in, out, node->n_out, p, &c, err);
    if (rc != PP_OK) {
        if (err) pp_error_prefix(err, "node '%s' (%s)", node->name, opname);
        return rc;
    }
    for (int i = 0; i < node->n_out; i++) {
        if (!takes_layouts(node->op)) {
            out[i].layout = PP_LAYOUT_PLAIN;
            out[i].block = 0;
        }
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

void pp_shape_of(const pp_tensor *t, int64_t batch, pp_shape *s) {
    pp_dimenv env = {{0}, batch, NULL, 0};
    pp_shape_env(t, &env, s);
}

void pp_shape_env(const pp_tensor *t, const pp_dimenv *env, pp_shape *s) {
    memset(s, 0, sizeof *s);
    s->dtype = t->dtype;
    s->rank = t->rank;
    pp_tensor_dims_env(t, env, s->dims);
    s->layout = t->layout;
    s->block = t->block;
}

const char *pp_dims_str(char *buf, size_t size, const int64_t *dims, int rank) {
    size_t n = 0;
    n += (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (n < size) snprintf(buf + n, size - n, "%s)", rank == 1 ? "," : "");
    return buf;
}

int64_t pp_shape_numel(const pp_shape *s) {
    /* Saturates instead of overflowing: shapes come from files, and a hostile
     * one must end in a "too large" error, not in undefined behaviour. */
    int64_t n;
    return pp_numel_i64(s->dims, s->rank, &n) ? INT64_MAX : n;
}

pp_code pp_shape_check_size(const pp_shape *s, const char *what, pp_error *err) {
    int64_t elem = pp_dtype_size(s->dtype) ? (int64_t)pp_dtype_size(s->dtype) : 1;
    for (int d = 0; d < s->rank; d++)
        if (s->dims[d] < 0 || s->dims[d] > PP_MAX_TENSOR_BYTES)
            return pp_error_set(err, PP_ERR_SHAPE, "%s axis %d has extent %lld, beyond the %lld limit", what, d,
                                (long long)s->dims[d], (long long)PP_MAX_TENSOR_BYTES);
    /* The product of the non-zero extents, so that an empty tensor cannot hide
     * extents whose partial products (outer × inner, strides) overflow. */
    int64_t n = elem;
    for (int d = 0; d < s->rank; d++)
        if (s->dims[d] && (pp_mul_i64(n, s->dims[d], &n) || n > PP_MAX_TENSOR_BYTES))
            return pp_error_set(err, PP_ERR_SHAPE,
                                "%s has extents %s whose product is beyond the %lld-byte limit on one tensor", what,
                                pp_dims_str((char[160]){0}, 160, s->dims, s->rank), (long long)PP_MAX_TENSOR_BYTES);
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

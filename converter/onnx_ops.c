/* onnx_ops.c: one handler per ONNX op, turning a NodeProto into IR nodes: the
 * element-wise, compute and reduction ops here, data movement in
 * onnx_ops_data.c, and the table that dispatches them all.
 *
 * Conventions (docs/ir.md): attributes keep their ONNX names; parameter inputs
 * (Reshape shape, Slice starts, Pad pads, Clip min/max, ...) become attributes,
 * constant or (where they depend on the symbols) shape program values; every
 * attribute a kernel reads is written explicitly with the ONNX default of the
 * node's opset, so the IR never depends on an opset's defaults.
 *
 * Shape values (converter/symval.h) flow through the shape ops (Shape, Gather,
 * Slice, Concat, Unsqueeze, arithmetic, ...) without becoming nodes
 * (onnx_sym.c); the handlers taking parameters write them as attributes.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../loader/checked.h"
#include "onnx_internal.h"

/* ---- element-wise ---------------------------------------------------------------- */

static pp_code op_unary(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "X");
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, op, 1, &x, 1, &y);
    switch (op) {
    case PP_OP_LEAKY_RELU: ox_setf(c, nd, "alpha", ox_attr_f(c, "alpha", 0.01)); break;
    case PP_OP_ELU: ox_setf(c, nd, "alpha", ox_attr_f(c, "alpha", 1.0)); break;
    case PP_OP_HARDSIGMOID:
        ox_setf(c, nd, "alpha", ox_attr_f(c, "alpha", 0.2));
        ox_setf(c, nd, "beta", ox_attr_f(c, "beta", 0.5));
        break;
    case PP_OP_SELU:
        ox_setf(c, nd, "alpha", ox_attr_f(c, "alpha", 1.67326319217681884765625));
        ox_setf(c, nd, "gamma", ox_attr_f(c, "gamma", 1.05070102214813232421875));
        break;
    default: break;
    }
    return c->rc;
}

static pp_code op_gelu(ox_nctx *c, pp_op op) {
    const char *a = ox_attr_s(c, "approximate", "none");
    if (strcmp(a, "none") == 0) return op_unary(c, PP_OP_GELU);
    if (strcmp(a, "tanh") == 0) return op_unary(c, PP_OP_GELU_TANH);
    return ox_fail(c, PP_ERR_UNSUPPORTED, "approximate='%s' (expected none or tanh)", a);
}

static pp_code op_clip(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "input");
    int y = ox_out_t(c, 0);
    double lo = -INFINITY, hi = INFINITY;
    int has_lo = 0, has_hi = 0;
    if (ox_opset(c) < 11) {
        has_lo = ox_attr_get(c, "min") != NULL;
        has_hi = ox_attr_get(c, "max") != NULL;
        lo = ox_attr_f(c, "min", lo);
        hi = ox_attr_f(c, "max", hi);
    } else {
        has_lo = ox_param_scalar(c, 1, "min", &lo) > 0;
        has_hi = ox_param_scalar(c, 2, "max", &hi) > 0;
    }
    int nd = ox_emit(c, PP_OP_CLIP, 1, &x, 1, &y);
    if (has_lo) ox_setf(c, nd, "min", lo);
    if (has_hi) ox_setf(c, nd, "max", hi);
    return c->rc;
}

static pp_code op_binary(ox_nctx *c, pp_op op) {
    int in[2] = {ox_need_in(c, 0, "A"), ox_need_in(c, 1, "B")};
    if (c->rc) return c->rc;
    if (ox_opset(c) < 7 && ox_attr_i(c, "broadcast", 0) && ox_attr_get(c, "axis")) {
        /* Before opset 7, B's axes line up with A's from `axis` on; NumPy
         * broadcasting lines them up from the right: pad B with trailing 1s. */
        const pp_tensor *ta = ox_shape_of(c, in[0]), *tb = ox_shape_of(c, in[1]);
        if (!ta || !tb) return c->rc;
        int64_t axis = ox_attr_i(c, "axis", 0);
        if (axis < 0) axis += ta->rank;
        /* axis is the file's: check its range before any arithmetic with it */
        int64_t trailing = axis >= 0 && axis <= ta->rank ? ta->rank - axis - tb->rank : -1;
        if (axis < 0 || trailing < 0)
            return ox_fail(c, PP_ERR_SHAPE, "legacy broadcast of rank %d at axis %" PRId64 " into rank %d", tb->rank,
                           ox_attr_i(c, "axis", 0), ta->rank);
        if (trailing > 0) {
            int64_t axes[PP_MAX_RANK];
            for (int64_t k = 0; k < trailing; k++) axes[k] = tb->rank + k;
            int u = ox_tmp_t(c, "bcast");
            int nu = ox_emit(c, PP_OP_UNSQUEEZE, 1, &in[1], 1, &u);
            ox_setis(c, nu, "axes", axes, (size_t)trailing);
            in[1] = u;
        }
    }
    if (op == PP_OP_PRELU && ox_opset(c) < 7) {
        /* PRelu-6 applies a vector slope per channel (axis 1). */
        const pp_tensor *ta = ox_shape_of(c, in[0]), *tb = ox_shape_of(c, in[1]);
        if (!ta || !tb) return c->rc;
        if (tb->rank == 1 && ta->rank > 2 && tb->dims[0] != 1 && tb->dims[0] == ta->dims[1]) {
            int64_t axes[PP_MAX_RANK];
            for (int k = 0; k < ta->rank - 2; k++) axes[k] = 1 + k;
            int u = ox_tmp_t(c, "slope");
            int nu = ox_emit(c, PP_OP_UNSQUEEZE, 1, &in[1], 1, &u);
            ox_setis(c, nu, "axes", axes, (size_t)(ta->rank - 2));
            in[1] = u;
        }
    }
    if (op == PP_OP_POW) {
        /* ONNX lets the exponent have its own type; the engine's Pow wants
         * one: convert the exponent to the base's. */
        const pp_tensor *ta = ox_shape_of(c, in[0]), *tb = ox_shape_of(c, in[1]);
        if (!ta || !tb) return c->rc;
        if (ta->dtype != tb->dtype) {
            int e = ox_tmp_t(c, "exponent");
            int nc = ox_emit(c, PP_OP_CAST, 1, &in[1], 1, &e);
            ox_seti(c, nc, "to", ta->dtype);
            in[1] = e;
        }
    }
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, op, 2, in, 1, &y);
    if (op == PP_OP_MOD) ox_seti(c, nd, "fmod", ox_attr_i(c, "fmod", 0));
    return c->rc;
}

/* Sum / Max / Min / Mean over any number of inputs: a chain of binary nodes. */
static pp_code op_nary(ox_nctx *c, pp_op op) {
    int n = c->n_in;
    if (n < 1) return ox_fail(c, PP_ERR_FORMAT, "no inputs");
    int mean = strcmp(c->n->op_type, "Mean") == 0;
    int acc = ox_need_in(c, 0, "data_0");
    if (n == 1 && !mean) {
        int y = ox_out_t(c, 0);
        ox_emit(c, PP_OP_IDENTITY, 1, &acc, 1, &y);
        return c->rc;
    }
    for (int i = 1; i < n; i++) {
        int in[2] = {acc, ox_need_in(c, i, "data")};
        int y = (i == n - 1 && !mean) ? ox_out_t(c, 0) : ox_tmp_t(c, "acc");
        ox_emit(c, op, 2, in, 1, &y);
        acc = y;
    }
    if (mean) {
        const pp_tensor *t = ox_shape_of(c, acc);
        if (!t) return c->rc;
        if (t->dtype != PP_DTYPE_F32) return ox_fail(c, PP_ERR_UNSUPPORTED, "Mean of %s", pp_dtype_name(t->dtype));
        float inv = (float)n;
        int w = ox_tmp_weight(c, "count", PP_DTYPE_F32, 0, NULL, &inv, sizeof inv);
        int in[2] = {acc, w};
        int y = ox_out_t(c, 0);
        ox_emit(c, PP_OP_DIV, 2, in, 1, &y);
    }
    return c->rc;
}

static pp_code op_where(ox_nctx *c, pp_op op) {
    int in[3] = {ox_need_in(c, 0, "condition"), ox_need_in(c, 1, "X"), ox_need_in(c, 2, "Y")};
    int y = ox_out_t(c, 0);
    ox_emit(c, PP_OP_WHERE, 3, in, 1, &y);
    return c->rc;
}

static pp_code op_cast(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "input");
    pp_dtype to;
    if (strcmp(c->n->op_type, "CastLike") == 0) {
        const pp_tensor *t = ox_has_in(c, 1) && c->in[1]->kind == OX_TENSOR ? ox_shape_of(c, c->in[1]->tensor) : NULL;
        if (!t) return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "input 1 (target_type) is required");
        to = t->dtype;
    } else {
        int64_t code = -1;
        if (ox_opset(c) < 6) {
            /* Cast-1 names the type in a string ("FLOAT"). */
            const char *name = ox_attr_s(c, "to", "");
            for (int64_t k = 0; k < 27 && code < 0; k++)
                if (!strcmp(pp_onnx_dtype_name(k), name)) code = k;
            if (code < 0) return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "attribute 'to' is '%s', not a type", name);
        } else {
            const ox_attr *a = ox_attr_of(c, "to", OX_ATTR_INT, "INT");
            if (!a) return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "attribute 'to' is required");
            code = a->i;
        }
        to = pp_onnx_dtype(code);
        if (to == PP_DTYPE_INVALID)
            return ox_fail(c, PP_ERR_UNSUPPORTED, "cast to %s is not supported", pp_onnx_dtype_name(code));
    }
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_CAST, 1, &x, 1, &y);
    ox_seti(c, nd, "to", (int64_t)to);
    return c->rc;
}

/* ---- compute ---------------------------------------------------------------------- */

static pp_code op_conv(ox_nctx *c, pp_op op) {
    int in[3] = {ox_need_in(c, 0, "X"), ox_need_in(c, 1, "W"), ox_data_in(c, 2)};
    const pp_tensor *xt = ox_shape_of(c, in[0]);
    if (xt && (xt->rank < 3 || xt->rank > 4))
        return ox_fail(c, PP_ERR_UNSUPPORTED, "%d-D convolution (input rank %d): only 1-D and 2-D are supported",
                       xt->rank - 2, xt->rank);
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_CONV, ox_has_in(c, 2) ? 3 : 2, in, 1, &y);
    const char *ap = ox_attr_s(c, "auto_pad", "NOTSET");
    ox_sets(c, nd, "auto_pad", ap);
    ox_copy_ints(c, nd, "kernel_shape");
    ox_copy_ints(c, nd, "strides");
    ox_copy_ints(c, nd, "pads");
    ox_copy_ints(c, nd, "dilations");
    ox_seti(c, nd, "group", ox_attr_i(c, "group", 1));
    return c->rc;
}

static pp_code op_gemm(ox_nctx *c, pp_op op) {
    int in[3] = {ox_need_in(c, 0, "A"), ox_need_in(c, 1, "B"), ox_data_in(c, 2)};
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_GEMM, ox_has_in(c, 2) ? 3 : 2, in, 1, &y);
    ox_setf(c, nd, "alpha", ox_attr_f(c, "alpha", 1.0));
    ox_setf(c, nd, "beta", ox_attr_f(c, "beta", 1.0));
    ox_seti(c, nd, "transA", ox_attr_i(c, "transA", 0));
    ox_seti(c, nd, "transB", ox_attr_i(c, "transB", 0));
    return c->rc;
}

static pp_code op_matmul(ox_nctx *c, pp_op op) {
    int in[2] = {ox_need_in(c, 0, "A"), ox_need_in(c, 1, "B")};
    int y = ox_out_t(c, 0);
    ox_emit(c, PP_OP_MATMUL, 2, in, 1, &y);
    return c->rc;
}

static pp_code op_batchnorm(ox_nctx *c, pp_op op) {
    if (ox_attr_i(c, "training_mode", 0))
        return ox_fail(c, PP_ERR_UNSUPPORTED,
                       "training_mode=1 (batch statistics) is not supported; export in eval mode");
    if (ox_opset(c) < 9 && ox_attr_i(c, "spatial", 1) == 0)
        return ox_fail(c, PP_ERR_UNSUPPORTED, "spatial=0 (per-activation statistics) is not supported");
    ox_only_outputs(c, 1);
    int in[5] = {ox_need_in(c, 0, "X"), ox_need_in(c, 1, "scale"), ox_need_in(c, 2, "B"),
                 ox_need_in(c, 3, "input_mean"), ox_need_in(c, 4, "input_var")};
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_BATCHNORM, 5, in, 1, &y);
    ox_setf(c, nd, "epsilon", ox_attr_f(c, "epsilon", 1e-5));
    return c->rc;
}

static pp_code op_pool(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "X");
    const pp_tensor *xt = ox_shape_of(c, x);
    if (xt && (xt->rank < 3 || xt->rank > 4))
        return ox_fail(c, PP_ERR_UNSUPPORTED, "%d-D pooling (input rank %d): only 1-D and 2-D are supported",
                       xt->rank - 2, xt->rank);
    if (op == PP_OP_MAXPOOL) {
        ox_only_outputs(c, 1);
        if (ox_attr_i(c, "storage_order", 0)) return ox_fail(c, PP_ERR_UNSUPPORTED, "storage_order=1");
    }
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, op, 1, &x, 1, &y);
    if (op == PP_OP_MAXPOOL || op == PP_OP_AVGPOOL) {
        ox_sets(c, nd, "auto_pad", ox_attr_s(c, "auto_pad", "NOTSET"));
        ox_copy_ints(c, nd, "kernel_shape");
        ox_copy_ints(c, nd, "strides");
        ox_copy_ints(c, nd, "pads");
        ox_copy_ints(c, nd, "dilations");
        ox_seti(c, nd, "ceil_mode", ox_attr_i(c, "ceil_mode", 0));
        if (op == PP_OP_AVGPOOL) ox_seti(c, nd, "count_include_pad", ox_attr_i(c, "count_include_pad", 0));
    }
    return c->rc;
}

static pp_code op_softmax(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "input");
    if (ox_opset(c) >= 13) {
        int y = ox_out_t(c, 0);
        int nd = ox_emit(c, op, 1, &x, 1, &y);
        ox_seti(c, nd, "axis", ox_attr_i(c, "axis", -1));
        return c->rc;
    }
    /* Before opset 13 the input is flattened to 2-D at `axis` (default 1) and
     * normalised over the whole second half. */
    const pp_tensor *t = ox_shape_of(c, x);
    if (!t) return c->rc;
    int r = t->rank;
    int64_t axis = ox_attr_i(c, "axis", 1);
    if (axis < -r || axis > r || (r == 0)) return ox_fail(c, PP_ERR_SHAPE, "axis %" PRId64 " for rank %d", axis, r);
    if (axis < 0) axis += r;
    if (axis == r - 1 || axis == r) {
        int y = ox_out_t(c, 0);
        int nd = ox_emit(c, op, 1, &x, 1, &y);
        ox_seti(c, nd, "axis", axis == r ? -1 : axis);
        return c->rc;
    }
    /* Back to the input's shape: one symbolic extent is inferred (-1), more are
     * shape values. */
    pp_sx shape[PP_MAX_RANK];
    int n_sym = 0;
    for (int d = 0; d < r; d++) n_sym += t->dims[d] < 0;
    for (int d = 0; d < r; d++) {
        if (t->dims[d] == 0) return ox_fail(c, PP_ERR_UNSUPPORTED, "softmax of an empty tensor");
        if (n_sym == 1 && t->dims[d] < 0) shape[d] = pp_sx_const(-1);
        else if (ox_keep(c, pp_symtab_dim(&c->x->g->sym, t->dims[d], &shape[d], c->x->err))) return c->rc;
    }
    int f = ox_tmp_t(c, "flat");
    int nf = ox_emit(c, PP_OP_FLATTEN, 1, &x, 1, &f);
    ox_seti(c, nf, "axis", axis);
    int s = ox_tmp_t(c, "softmax");
    int ns = ox_emit(c, op, 1, &f, 1, &s);
    ox_seti(c, ns, "axis", 1);
    int y = ox_out_t(c, 0);
    int nr = ox_emit(c, PP_OP_RESHAPE, 1, &s, 1, &y);
    ox_setis_sx(c, nr, "shape", shape, (size_t)r);
    return c->rc;
}

static pp_code op_layernorm(ox_nctx *c, pp_op op) {
    ox_only_outputs(c, 3);
    int in[3] = {ox_need_in(c, 0, "X"), ox_need_in(c, 1, "Scale"), ox_data_in(c, 2)};
    int64_t axis = ox_attr_i(c, "axis", -1);
    double eps = ox_attr_f(c, "epsilon", 1e-5);
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_LAYERNORM, ox_has_in(c, 2) ? 3 : 2, in, 1, &y);
    ox_seti(c, nd, "axis", axis);
    ox_setf(c, nd, "epsilon", eps);
    int want_mean = c->n->n_out > 1 && *c->n->out[1] && ox_is_consumed(c->x, c->n->out[1]);
    int want_inv = c->n->n_out > 2 && *c->n->out[2] && ox_is_consumed(c->x, c->n->out[2]);
    if (c->rc || (!want_mean && !want_inv)) return c->rc;
    /* The statistics outputs (training graphs, tests): computed beside the
     * fused op, Mean = mean(X), InvStdDev = 1 / sqrt(mean((X - Mean)^2) + eps),
     * over axes [axis, rank). */
    const pp_tensor *t = ox_shape_of(c, in[0]);
    if (!t) return c->rc;
    if (t->dtype != PP_DTYPE_F32)
        return ox_fail(c, PP_ERR_UNSUPPORTED, "statistics outputs of %s", pp_dtype_name(t->dtype));
    if (axis < 0) axis += t->rank;
    if (axis < 0 || axis >= t->rank) return ox_fail(c, PP_ERR_SHAPE, "axis %" PRId64 " for rank %d", axis, t->rank);
    int64_t axes[PP_MAX_RANK];
    size_t na = 0;
    for (int64_t a = axis; a < t->rank; a++) axes[na++] = a;
    int mean = want_mean ? ox_out_t(c, 1) : ox_tmp_t(c, "mean");
    int nm = ox_emit(c, PP_OP_REDUCE_MEAN, 1, &in[0], 1, &mean);
    ox_setis(c, nm, "axes", axes, na);
    ox_seti(c, nm, "keepdims", 1);
    if (!want_inv) return c->rc;
    int d = ox_tmp_t(c, "centered"), d2 = ox_tmp_t(c, "squared"), var = ox_tmp_t(c, "var"), ve = ox_tmp_t(c, "var_eps"),
        sd = ox_tmp_t(c, "std");
    ox_emit(c, PP_OP_SUB, 2, (int[]){in[0], mean}, 1, &d);
    ox_emit(c, PP_OP_MUL, 2, (int[]){d, d}, 1, &d2);
    int nv = ox_emit(c, PP_OP_REDUCE_MEAN, 1, &d2, 1, &var);
    ox_setis(c, nv, "axes", axes, na);
    ox_seti(c, nv, "keepdims", 1);
    float e32 = (float)eps;
    int ew = ox_tmp_weight(c, "epsilon", PP_DTYPE_F32, 0, NULL, &e32, sizeof e32);
    ox_emit(c, PP_OP_ADD, 2, (int[]){var, ew}, 1, &ve);
    ox_emit(c, PP_OP_SQRT, 1, &ve, 1, &sd);
    int inv = ox_out_t(c, 2);
    ox_emit(c, PP_OP_RECIPROCAL, 1, &sd, 1, &inv);
    return c->rc;
}

static pp_code op_reduce(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "data");
    int axes_from_input = ox_opset(c) >= 18 || (op == PP_OP_REDUCE_SUM && ox_opset(c) >= 13);
    const int64_t *axes = NULL;
    size_t na = 0;
    if (axes_from_input) {
        int64_t *v;
        if (ox_param_ints(c, 1, "axes", &v, &na) < 0) return c->rc;
        axes = v;
    } else {
        axes = ox_attr_ints(c, "axes", &na);
    }
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, op, 1, &x, 1, &y);
    if (axes && na) ox_setis(c, nd, "axes", axes, na);
    ox_seti(c, nd, "keepdims", ox_attr_i(c, "keepdims", 1));
    ox_seti(c, nd, "noop_with_empty_axes", ox_attr_i(c, "noop_with_empty_axes", 0));
    return c->rc;
}

/* ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp: the
 * engine's reductions with element-wise ops around them. LogSumExp subtracts
 * the maximum first, so large inputs do not overflow. */
static pp_code op_reduce_composite(ox_nctx *c, pp_op op) {
    const char *t = c->n->op_type;
    int x = ox_need_in(c, 0, "data");
    const int64_t *axes = NULL;
    size_t na = 0;
    if (ox_opset(c) >= 18) {
        int64_t *v;
        if (ox_param_ints(c, 1, "axes", &v, &na) < 0) return c->rc;
        axes = v;
    } else {
        axes = ox_attr_ints(c, "axes", &na);
    }
    int64_t keepdims = ox_attr_i(c, "keepdims", 1), noop = ox_attr_i(c, "noop_with_empty_axes", 0);
#define REDUCE(rop, src, dst, keep)                                                                                    \
    do {                                                                                                               \
        int nd_ = ox_emit(c, rop, 1, &(src), 1, &(dst));                                                               \
        if (axes && na) ox_setis(c, nd_, "axes", axes, na);                                                            \
        ox_seti(c, nd_, "keepdims", keep);                                                                             \
        ox_seti(c, nd_, "noop_with_empty_axes", noop);                                                                 \
    } while (0)
    if (!strcmp(t, "ReduceL1")) {
        int a = ox_tmp_t(c, "abs"), y = ox_out_t(c, 0);
        ox_emit(c, PP_OP_ABS, 1, &x, 1, &a);
        REDUCE(PP_OP_REDUCE_SUM, a, y, keepdims);
    } else if (!strcmp(t, "ReduceL2") || !strcmp(t, "ReduceSumSquare")) {
        int sq = ox_tmp_t(c, "square");
        ox_emit(c, PP_OP_MUL, 2, (int[]){x, x}, 1, &sq);
        if (!strcmp(t, "ReduceL2")) {
            int r = ox_tmp_t(c, "sum"), y = ox_out_t(c, 0);
            REDUCE(PP_OP_REDUCE_SUM, sq, r, keepdims);
            ox_emit(c, PP_OP_SQRT, 1, &r, 1, &y);
        } else {
            int y = ox_out_t(c, 0);
            REDUCE(PP_OP_REDUCE_SUM, sq, y, keepdims);
        }
    } else if (!strcmp(t, "ReduceLogSum")) {
        int r = ox_tmp_t(c, "sum"), y = ox_out_t(c, 0);
        REDUCE(PP_OP_REDUCE_SUM, x, r, keepdims);
        ox_emit(c, PP_OP_LOG, 1, &r, 1, &y);
    } else { /* ReduceLogSumExp: log(sum(exp(x - max))) + max */
        int m = ox_tmp_t(c, "max"), d = ox_tmp_t(c, "shifted"), e = ox_tmp_t(c, "exp"), r = ox_tmp_t(c, "sum"),
            l = ox_tmp_t(c, "log"), y = ox_out_t(c, 0);
        REDUCE(PP_OP_REDUCE_MAX, x, m, 1);
        ox_emit(c, PP_OP_SUB, 2, (int[]){x, m}, 1, &d);
        ox_emit(c, PP_OP_EXP, 1, &d, 1, &e);
        REDUCE(PP_OP_REDUCE_SUM, e, r, keepdims);
        ox_emit(c, PP_OP_LOG, 1, &r, 1, &l);
        int mk = m;
        if (!keepdims) {
            mk = ox_tmp_t(c, "max");
            REDUCE(PP_OP_REDUCE_MAX, x, mk, 0);
        }
        ox_emit(c, PP_OP_ADD, 2, (int[]){l, mk}, 1, &y);
    }
#undef REDUCE
    return c->rc;
}

static pp_code op_argmax(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "data");
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, op, 1, &x, 1, &y);
    ox_seti(c, nd, "axis", ox_attr_i(c, "axis", 0));
    ox_seti(c, nd, "keepdims", ox_attr_i(c, "keepdims", 1));
    ox_seti(c, nd, "select_last_index", ox_attr_i(c, "select_last_index", 0));
    return c->rc;
}

/* ---- the table ------------------------------------------------------------------------- */

static const struct {
    const char *name;
    ox_op_fn fn;
    pp_op op;
} ops[] = {
    {"Relu", op_unary, PP_OP_RELU},
    {"Sigmoid", op_unary, PP_OP_SIGMOID},
    {"Tanh", op_unary, PP_OP_TANH},
    {"Erf", op_unary, PP_OP_ERF},
    {"Sqrt", op_unary, PP_OP_SQRT},
    {"Exp", op_unary, PP_OP_EXP},
    {"Log", op_unary, PP_OP_LOG},
    {"Neg", op_unary, PP_OP_NEG},
    {"Abs", op_unary, PP_OP_ABS},
    {"Reciprocal", op_unary, PP_OP_RECIPROCAL},
    {"Not", op_unary, PP_OP_NOT},
    {"Floor", op_unary, PP_OP_FLOOR},
    {"Ceil", op_unary, PP_OP_CEIL},
    {"Sin", op_unary, PP_OP_SIN},
    {"Cos", op_unary, PP_OP_COS},
    {"Tan", op_unary, PP_OP_TAN},
    {"Sign", op_unary, PP_OP_SIGN},
    {"Round", op_unary, PP_OP_ROUND},
    {"Softplus", op_unary, PP_OP_SOFTPLUS},
    {"Mish", op_unary, PP_OP_MISH},
    {"HardSwish", op_unary, PP_OP_HARDSWISH},
    {"HardSigmoid", op_unary, PP_OP_HARDSIGMOID},
    {"LeakyRelu", op_unary, PP_OP_LEAKY_RELU},
    {"Elu", op_unary, PP_OP_ELU},
    {"Selu", op_unary, PP_OP_SELU},
    {"Gelu", op_gelu, PP_OP_GELU},
    {"Clip", op_clip, PP_OP_CLIP},
    {"Add", op_binary, PP_OP_ADD},
    {"Sub", op_binary, PP_OP_SUB},
    {"Mul", op_binary, PP_OP_MUL},
    {"Div", op_binary, PP_OP_DIV},
    {"Pow", op_binary, PP_OP_POW},
    {"Equal", op_binary, PP_OP_EQUAL},
    {"Less", op_binary, PP_OP_LESS},
    {"Greater", op_binary, PP_OP_GREATER},
    {"LessOrEqual", op_binary, PP_OP_LESS_EQUAL},
    {"GreaterOrEqual", op_binary, PP_OP_GREATER_EQUAL},
    {"And", op_binary, PP_OP_AND},
    {"Or", op_binary, PP_OP_OR},
    {"Xor", op_binary, PP_OP_XOR},
    {"Mod", op_binary, PP_OP_MOD},
    {"PRelu", op_binary, PP_OP_PRELU},
    {"Max", op_nary, PP_OP_MAX},
    {"Min", op_nary, PP_OP_MIN},
    {"Sum", op_nary, PP_OP_ADD},
    {"Mean", op_nary, PP_OP_ADD},
    {"Where", op_where, PP_OP_WHERE},
    {"Cast", op_cast, PP_OP_CAST},
    {"CastLike", op_cast, PP_OP_CAST},
    {"Conv", op_conv, PP_OP_CONV},
    {"Gemm", op_gemm, PP_OP_GEMM},
    {"MatMul", op_matmul, PP_OP_MATMUL},
    {"BatchNormalization", op_batchnorm, PP_OP_BATCHNORM},
    {"MaxPool", op_pool, PP_OP_MAXPOOL},
    {"AveragePool", op_pool, PP_OP_AVGPOOL},
    {"GlobalAveragePool", op_pool, PP_OP_GLOBAL_AVGPOOL},
    {"GlobalMaxPool", op_pool, PP_OP_GLOBAL_MAXPOOL},
    {"Softmax", op_softmax, PP_OP_SOFTMAX},
    {"LogSoftmax", op_softmax, PP_OP_LOG_SOFTMAX},
    {"LayerNormalization", op_layernorm, PP_OP_LAYERNORM},
    {"ReduceMean", op_reduce, PP_OP_REDUCE_MEAN},
    {"ReduceSum", op_reduce, PP_OP_REDUCE_SUM},
    {"ReduceMax", op_reduce, PP_OP_REDUCE_MAX},
    {"ReduceMin", op_reduce, PP_OP_REDUCE_MIN},
    {"ReduceProd", op_reduce, PP_OP_REDUCE_PROD},
    {"ReduceL1", op_reduce_composite, PP_OP_REDUCE_SUM},
    {"ReduceL2", op_reduce_composite, PP_OP_REDUCE_SUM},
    {"ReduceSumSquare", op_reduce_composite, PP_OP_REDUCE_SUM},
    {"ReduceLogSum", op_reduce_composite, PP_OP_REDUCE_SUM},
    {"ReduceLogSumExp", op_reduce_composite, PP_OP_REDUCE_SUM},
    {"ArgMax", op_argmax, PP_OP_ARGMAX},
    {"ArgMin", op_argmax, PP_OP_ARGMIN},
    {"Identity", ox_op_identity, PP_OP_IDENTITY},
    {"Dropout", ox_op_identity, PP_OP_IDENTITY},
    {"Flatten", ox_op_flatten, PP_OP_FLATTEN},
    {"Reshape", ox_op_reshape, PP_OP_RESHAPE},
    {"Transpose", ox_op_transpose, PP_OP_TRANSPOSE},
    {"Concat", ox_op_concat, PP_OP_CONCAT},
    {"Split", ox_op_split, PP_OP_SPLIT},
    {"Slice", ox_op_slice, PP_OP_SLICE},
    {"Gather", ox_op_gather, PP_OP_GATHER},
    {"GatherElements", ox_op_gather, PP_OP_GATHER_ELEMENTS},
    {"Squeeze", ox_op_squeeze, PP_OP_SQUEEZE},
    {"Unsqueeze", ox_op_squeeze, PP_OP_UNSQUEEZE},
    {"Expand", ox_op_expand, PP_OP_EXPAND},
    {"Tile", ox_op_tile, PP_OP_TILE},
    {"Pad", ox_op_pad, PP_OP_PAD},
    {"Resize", ox_op_resize, PP_OP_RESIZE},
    {"Upsample", ox_op_resize, PP_OP_RESIZE},
    {"Trilu", ox_op_trilu, PP_OP_TRILU},
    {"Shape", NULL, PP_OP_SHAPE},
    {"Size", NULL, PP_OP_SHAPE},
    {"ConstantOfShape", ox_op_constant_of_shape, PP_OP_CONSTANT_OF_SHAPE},
    {"Range", ox_op_range, PP_OP_RANGE},
    {"DepthToSpace", ox_op_d2s, PP_OP_DEPTH_TO_SPACE},
    {"SpaceToDepth", ox_op_d2s, PP_OP_SPACE_TO_DEPTH},
    {"CumSum", ox_op_cumsum, PP_OP_CUMSUM},
    {"Constant", ox_op_constant, PP_OP_INVALID},
    {"ScatterND", ox_op_scatter_nd, PP_OP_INVALID},
};

int ox_op_known(const char *op_type) {
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, op_type) == 0) return 1;
    return 0;
}

pp_code ox_import_node(ox_nctx *c) {
    const char *op = c->n->op_type;
    if (!strcmp(op, "Shape") || !strcmp(op, "Size")) {
        ox_sym_shape(c, op[1] == 'i');
        return c->rc;
    }
    int any_sym = 0;
    for (int i = 0; i < c->n_in; i++)
        if (ox_has_in(c, i) && c->in[i]->kind == OX_SYM) any_sym = 1;
    if (any_sym) {
        int handled = 0;
        ox_sym_node(c, &handled);
        if (handled || c->rc) return c->rc;
    }
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, op) == 0) {
            ops[i].fn(c, ops[i].op);
            return c->rc;
        }
    return ox_fail(c, PP_ERR_UNSUPPORTED, "op type is not supported");
}

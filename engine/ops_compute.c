/* ops_compute.c: describe functions for the compute ops: conv, gemm, matmul,
 * batchnorm, pooling, softmax, layernorm, attention, reductions.
 *
 * Each checks its inputs' ranks, dtypes and extents against each other (messages
 * name the input by position and ONNX role, the axis and both extents), computes
 * the output shape and dtype, fills its kernel params and estimates the cost.
 * Attributes follow ONNX (docs/ir.md). They are pure and cheap: shape inference
 * calls them at batch 1 and 2, the planner at every micro-batch size.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../loader/checked.h"
#include "ops.h"

/* ---- shared checks ------------------------------------------------------- */

static int has_input(const pp_shape *in, int n_in, int i) { return i < n_in && in[i].dtype != PP_DTYPE_INVALID; }

static double shape_bytes(const pp_shape *s) {
    if (s->dtype == PP_DTYPE_INVALID) return 0.0;
    double n = (double)pp_dtype_size(s->dtype);
    for (int i = 0; i < s->rank; i++) n *= (double)s->dims[i];
    return n;
}

static double io_bytes(const pp_shape *in, int n_in, const pp_shape *out, int n_out) {
    double b = 0.0;
    for (int i = 0; i < n_in; i++) b += shape_bytes(&in[i]);
    for (int i = 0; i < n_out; i++) b += shape_bytes(&out[i]);
    return b;
}

static pp_code need_input(const pp_shape *in, int n_in, int i, const char *role, pp_error *err) {
    if (!has_input(in, n_in, i))
        return pp_error_set(err, PP_ERR_SHAPE, "input %d (%s) is required but absent", i, role);
    return PP_OK;
}

static pp_code need_dtype(const pp_shape *s, int i, const char *role, pp_dtype want, pp_error *err) {
    if (s->dtype != want)
        return pp_error_set(err, PP_ERR_SHAPE, "input %d (%s): dtype %s, expected %s", i, role, pp_dtype_name(s->dtype),
                            pp_dtype_name(want));
    return PP_OK;
}

static pp_code need_rank(const pp_shape *s, int i, const char *role, int lo, int hi, pp_error *err) {
    if (s->rank < lo || s->rank > hi) {
        if (lo == hi)
            return pp_error_set(err, PP_ERR_SHAPE, "input %d (%s): rank %d, expected %d", i, role, s->rank, lo);
        return pp_error_set(err, PP_ERR_SHAPE, "input %d (%s): rank %d, expected %d to %d", i, role, s->rank, lo, hi);
    }
    return PP_OK;
}

/* Present, f32, rank in [lo, hi]. */
static pp_code need_f32(const pp_shape *in, int n_in, int i, const char *role, int lo, int hi, pp_error *err) {
    pp_code rc = need_input(in, n_in, i, role, err);
    if (!rc) rc = need_dtype(&in[i], i, role, PP_DTYPE_F32, err);
    if (!rc) rc = need_rank(&in[i], i, role, lo, hi, err);
    return rc;
}

/* The compute ops' activations may be f32, or f16/bf16 where the planner gave a
 * backend 16-bit tensors (docs/planner.md; the CUDA policy): present, of `want`
 * (f32, f16 or bf16; input 0's dtype for the others), rank in [lo, hi]. */
static pp_code need_float(const pp_shape *in, int n_in, int i, const char *role, pp_dtype want, int lo, int hi,
                          pp_error *err) {
    pp_code rc = need_input(in, n_in, i, role, err);
    if (!rc && want != PP_DTYPE_F32 && want != PP_DTYPE_F16 && want != PP_DTYPE_BF16)
        rc = pp_error_set(err, PP_ERR_SHAPE, "input %d (%s): dtype %s, expected f32, f16 or bf16", i, role,
                          pp_dtype_name(want));
    if (!rc) rc = need_dtype(&in[i], i, role, want, err);
    if (!rc) rc = need_rank(&in[i], i, role, lo, hi, err);
    return rc;
}

/* A layout other than plain (NHWC: docs/planner.md) on a rank-4 input of an op
 * whose kernels take it, the same for every such input. */
static pp_code need_layout(const pp_shape *s, int i, const char *role, pp_layout want, pp_error *err) {
    if (s->layout != want || (want != PP_LAYOUT_PLAIN && (want != PP_LAYOUT_NHWC || s->rank != 4)))
        return pp_error_set(err, PP_ERR_SHAPE, "input %d (%s): layout %d, expected %d (as input 0)", i, role,
                            (int)s->layout, (int)want);
    return PP_OK;
}

static pp_code need_extent(const pp_shape *s, int i, const char *role, int axis, int64_t want, const char *what,
                           pp_error *err) {
    if (s->dims[axis] != want)
        return pp_error_set(err, PP_ERR_SHAPE, "input %d (%s): axis %d is %lld, expected %s = %lld", i, role, axis,
                            (long long)s->dims[axis], what, (long long)want);
    return PP_OK;
}

static pp_code check_act(pp_act act, pp_error *err) {
    if ((int)act.kind < PP_ACT_NONE || (int)act.kind > PP_ACT_LEAKY_RELU)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "attribute activation is %d, not a known pp_act_kind",
                            (int)act.kind);
    return PP_OK;
}

/* ---- conv and pool geometry ---------------------------------------------- */

typedef enum auto_pad { AUTO_PAD_NOTSET, AUTO_PAD_VALID, AUTO_PAD_SAME_UPPER, AUTO_PAD_SAME_LOWER } auto_pad;

static pp_code read_auto_pad(const pp_node *node, auto_pad *ap, pp_error *err) {
    const char *s = pp_node_string(node, "auto_pad", "NOTSET");
    if (!strcmp(s, "NOTSET") || !*s) *ap = AUTO_PAD_NOTSET;
    else if (!strcmp(s, "VALID")) *ap = AUTO_PAD_VALID;
    else if (!strcmp(s, "SAME_UPPER")) *ap = AUTO_PAD_SAME_UPPER;
    else if (!strcmp(s, "SAME_LOWER")) *ap = AUTO_PAD_SAME_LOWER;
    else
        return pp_error_set(err, PP_ERR_UNSUPPORTED,
                            "attribute auto_pad is '%.40s', expected NOTSET, VALID, SAME_UPPER or SAME_LOWER", s);
    return PP_OK;
}

/* An INTS attribute with exactly `count` values into out, each in [min,
 * PP_MAX_TENSOR_BYTES]; `def` everywhere when absent. The upper bound keeps a
 * window (kernel × dilation + pads) and every index the kernels derive from it
 * far from overflow. */
static pp_code read_ints(const pp_node *node, const char *name, int count, int64_t def, int64_t min, int64_t *out,
                         pp_error *err) {
    uint32_t n = 0;
    const int64_t *v = pp_node_ints(node, name, &n);
    if (!v || n == 0) {
        for (int i = 0; i < count; i++) out[i] = def;
        return PP_OK;
    }
    if ((int)n != count)
        return pp_error_set(err, PP_ERR_SHAPE, "attribute %s has %u values, expected %d", name, n, count);
    for (int i = 0; i < count; i++) {
        if (v[i] < min || v[i] > PP_MAX_TENSOR_BYTES)
            return pp_error_set(err, PP_ERR_SHAPE, "attribute %s[%d] is %lld, expected %lld to %lld", name, i,
                                (long long)v[i], (long long)min, (long long)PP_MAX_TENSOR_BYTES);
        out[i] = v[i];
    }
    return PP_OK;
}

/* Window geometry of one spatial axis, as the kernels see it. */
typedef struct spatial_axis {
    int64_t in, k, stride, dil, pad_begin, pad_end, out;
} spatial_axis;

/* Output extent of one spatial axis (input axis `axis`, attribute index `i`);
 * resolves auto_pad into pads. ceil_mode follows ONNX/PyTorch: the last window
 * must start inside the input or the begin padding. Every value is bounded
 * (read_ints) but their products are not: the arithmetic is checked. */
static pp_code spatial_out(spatial_axis *a, int axis, int i, int s, auto_pad ap, int ceil_mode, pp_error *err) {
    int64_t eff, t;
    if (pp_mul_i64(a->k - 1, a->dil, &eff) || pp_add_i64(eff, 1, &eff))
        return pp_error_set(err, PP_ERR_SHAPE,
                            "attribute dilations[%d] is %lld: with kernel extent %lld the window overflows int64", i,
                            (long long)a->dil, (long long)a->k);
    if (ap == AUTO_PAD_SAME_UPPER || ap == AUTO_PAD_SAME_LOWER) {
        a->out = a->in / a->stride + (a->in % a->stride != 0);
        int64_t total;
        if (pp_mul_i64(a->out - 1, a->stride, &t) || pp_add_i64(t, eff, &t) || pp_sub_i64(t, a->in, &total))
            return pp_error_set(err, PP_ERR_SHAPE,
                                "attribute strides[%d] is %lld: the padding auto_pad needs for a window of %lld "
                                "overflows int64",
                                i, (long long)a->stride, (long long)eff);
        if (total < 0) total = 0;
        if (ap == AUTO_PAD_SAME_UPPER) {
            a->pad_begin = total / 2;
            a->pad_end = total - a->pad_begin;
        } else {
            a->pad_end = total / 2;
            a->pad_begin = total - a->pad_end;
        }
        if (a->out < 1)
            return pp_error_set(err, PP_ERR_SHAPE, "input 0 (X): axis %d is %lld, leaving no output", axis,
                                (long long)a->in);
        return PP_OK;
    }
    if (ap == AUTO_PAD_VALID) {
        a->pad_begin = a->pad_end = 0;
        ceil_mode = 0;
    }
    int64_t padded;
    if (pp_add_i64(a->in, a->pad_begin, &t) || pp_add_i64(t, a->pad_end, &padded))
        return pp_error_set(err, PP_ERR_SHAPE,
                            "attribute pads[%d] is %lld and pads[%d] is %lld: axis %d (%lld) padded overflows int64", i,
                            (long long)a->pad_begin, i + s, (long long)a->pad_end, axis, (long long)a->in);
    if (padded < eff)
        return pp_error_set(err, PP_ERR_SHAPE,
                            "input 0 (X): axis %d is %lld (%lld with padding), smaller than the kernel extent %lld "
                            "(kernel_shape[%d] = %lld at dilations[%d] = %lld)",
                            axis, (long long)a->in, (long long)padded, (long long)eff, i, (long long)a->k, i,
                            (long long)a->dil);
    int64_t span = padded - eff;
    a->out = span / a->stride + 1;
    if (ceil_mode && span % a->stride) {
        /* one more window, unless it would start in the end padding */
        int64_t start, limit;
        if (pp_mul_i64(a->out, a->stride, &start) || pp_add_i64(a->in, a->pad_begin, &limit))
            return pp_error_set(err, PP_ERR_SHAPE, "attribute strides[%d] is %lld: ceil_mode overflows int64", i,
                                (long long)a->stride);
        if (start < limit) a->out++;
    }
    return PP_OK;
}

/* Reads kernel (when given), strides, dilations, pads and auto_pad for the
 * spatial axes of x (rank 3 or 4: one or two) into ax[0] (H) and ax[1] (W). A
 * rank-3 input is treated as H = 1. kernel_from: the weight's kernel dims, or
 * NULL when kernel_shape is required. */
static pp_code read_geometry(const pp_node *node, const pp_shape *x, const int64_t *kernel_from, int ceil_mode,
                             spatial_axis ax[2], pp_error *err) {
    int s = x->rank - 2;
    int64_t ks[2], st[2], dl[2], pads[4];
    pp_code rc;
    uint32_t nk = 0;
    const int64_t *kattr = pp_node_ints(node, "kernel_shape", &nk);
    if (kernel_from) {
        if (kattr && (int)nk != s)
            return pp_error_set(err, PP_ERR_SHAPE, "attribute kernel_shape has %u values, expected %d", nk, s);
        for (int i = 0; i < s; i++) {
            ks[i] = kernel_from[i];
            if (kattr && kattr[i] != ks[i])
                return pp_error_set(err, PP_ERR_SHAPE,
                                    "attribute kernel_shape[%d] is %lld, but input 1 (W) axis %d is %lld", i,
                                    (long long)kattr[i], i + 2, (long long)ks[i]);
        }
    } else {
        if (!kattr || nk == 0) return pp_error_set(err, PP_ERR_SHAPE, "attribute kernel_shape is required but absent");
        if ((rc = read_ints(node, "kernel_shape", s, 1, 1, ks, err))) return rc;
    }
    if ((rc = read_ints(node, "strides", s, 1, 1, st, err))) return rc;
    if ((rc = read_ints(node, "dilations", s, 1, 1, dl, err))) return rc;
    if ((rc = read_ints(node, "pads", 2 * s, 0, 0, pads, err))) return rc;
    auto_pad ap = AUTO_PAD_NOTSET;
    if ((rc = read_auto_pad(node, &ap, err))) return rc;
    if (s == 1) {
        ax[0] = (spatial_axis){1, 1, 1, 1, 0, 0, 1};
        ax[1] = (spatial_axis){x->dims[2], ks[0], st[0], dl[0], pads[0], pads[1], 0};
        return spatial_out(&ax[1], 2, 0, s, ap, ceil_mode, err);
    }
    for (int i = 0; i < 2; i++) {
        ax[i] = (spatial_axis){x->dims[2 + i], ks[i], st[i], dl[i], pads[i], pads[i + 2], 0};
        if ((rc = spatial_out(&ax[i], 2 + i, i, s, ap, ceil_mode, err))) return rc;
    }
    return PP_OK;
}

/* ---- CONV ---------------------------------------------------------------- */

pp_code pp_describe_conv(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                         pp_op_params *p, pp_cost *cost, pp_error *err) {
    pp_code rc;
    if ((rc = need_float(in, n_in, 0, "X", in[0].dtype, 3, 4, err))) return rc;
    const pp_shape *x = &in[0], *w = &in[1];
    /* one format for x, w (NHWC meaning KRSC), bias (its dtype) and residual */
    if ((rc = need_float(in, n_in, 1, "W", x->dtype, x->rank, x->rank, err)) ||
        (rc = need_layout(w, 1, "W", x->layout, err)))
        return rc;
    int64_t n = x->dims[0], c = x->dims[1], k = w->dims[0];
    int64_t group = pp_node_int(ctx->node, "group", 1);
    if (group < 1) return pp_error_set(err, PP_ERR_SHAPE, "attribute group is %lld, expected >= 1", (long long)group);
    if (c % group)
        return pp_error_set(err, PP_ERR_SHAPE, "input 0 (X): axis 1 is %lld, not divisible by group = %lld",
                            (long long)c, (long long)group);
    if (k % group || k == 0)
        return pp_error_set(err, PP_ERR_SHAPE,
                            "input 1 (W): axis 0 is %lld, expected a positive multiple of group = %lld", (long long)k,
                            (long long)group);
    if ((rc = need_extent(w, 1, "W", 1, c / group, "C/group", err))) return rc;
    if (c == 0) return pp_error_set(err, PP_ERR_SHAPE, "input 0 (X): axis 1 is 0, expected >= 1");
    for (int d = 2; d < w->rank; d++)
        if (w->dims[d] < 1)
            return pp_error_set(err, PP_ERR_SHAPE, "input 1 (W): axis %d is %lld, expected >= 1", d,
                                (long long)w->dims[d]);
    spatial_axis ax[2];
    if ((rc = read_geometry(ctx->node, x, w->dims + 2, 0, ax, err))) return rc;

    int rank = x->rank;
    pp_shape y = {.dtype = x->dtype, .rank = rank, .layout = x->layout};
    y.dims[0] = n;
    y.dims[1] = k;
    if (rank == 4) {
        y.dims[2] = ax[0].out;
        y.dims[3] = ax[1].out;
    } else {
        y.dims[2] = ax[1].out;
    }
    if (has_input(in, n_in, 2)) {
        if ((rc = need_float(in, n_in, 2, "B", x->dtype, 1, 1, err))) return rc;
        if ((rc = need_extent(&in[2], 2, "B", 0, k, "K", err))) return rc;
    }
    if (has_input(in, n_in, 3)) {
        if ((rc = need_float(in, n_in, 3, "residual", x->dtype, rank, rank, err)) ||
            (rc = need_layout(&in[3], 3, "residual", x->layout, err)))
            return rc;
        static const char *const what4[4] = {"N", "K", "OH", "OW"}, *const what3[3] = {"N", "K", "OL"};
        for (int d = 0; d < rank && d < 4; d++) {
            const char *wd = rank == 4 ? what4[d] : what3[d < 3 ? d : 2];
            if ((rc = need_extent(&in[3], 3, "residual", d, y.dims[d], wd, err))) return rc;
        }
    }
    pp_act act = pp_node_act(ctx->node);
    if ((rc = check_act(act, err))) return rc;

    pp_conv_params *cp = &p->conv;
    cp->n = n;
    cp->c = c;
    cp->h = ax[0].in;
    cp->w = ax[1].in;
    cp->k = k;
    cp->kh = ax[0].k;
    cp->kw = ax[1].k;
    cp->oh = ax[0].out;
    cp->ow = ax[1].out;
    cp->stride_h = ax[0].stride;
    cp->stride_w = ax[1].stride;
    cp->pad_top = ax[0].pad_begin;
    cp->pad_bottom = ax[0].pad_end;
    cp->pad_left = ax[1].pad_begin;
    cp->pad_right = ax[1].pad_end;
    cp->dil_h = ax[0].dil;
    cp->dil_w = ax[1].dil;
    cp->group = group;
    cp->act = act;
    cp->fmt = (pp_format){x->dtype, x->layout, 0};
    out[0] = y;
    cost->flops = 2.0 * (double)n * (double)k * (double)cp->oh * (double)cp->ow * (double)(c / group) * (double)cp->kh *
                  (double)cp->kw;
    cost->bytes = io_bytes(in, n_in, out, n_out);
    return PP_OK;
}

/* ---- GEMM ---------------------------------------------------------------- */

pp_code pp_describe_gemm(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                         pp_op_params *p, pp_cost *cost, pp_error *err) {
    pp_code rc;
    if ((rc = need_float(in, n_in, 0, "A", in[0].dtype, 2, 2, err))) return rc;
    if ((rc = need_float(in, n_in, 1, "B", in[0].dtype, 2, 2, err))) return rc;
    int ta = pp_node_int(ctx->node, "transA", 0) != 0, tb = pp_node_int(ctx->node, "transB", 0) != 0;
    const pp_shape *a = &in[0], *b = &in[1];
    int64_t m = a->dims[ta ? 1 : 0], k = a->dims[ta ? 0 : 1];
    int bk_axis = tb ? 1 : 0;
    int64_t nn = b->dims[tb ? 0 : 1];
    if (b->dims[bk_axis] != k)
        return pp_error_set(err, PP_ERR_SHAPE,
                            "input 1 (B): axis %d is %lld, expected K = %lld (input 0 (A) axis %d%s)", bk_axis,
                            (long long)b->dims[bk_axis], (long long)k, ta ? 0 : 1, tb ? ", transB" : "");
    pp_gemm_params *g = &p->gemm;
    g->m = m;
    g->n = nn;
    g->k = k;
    g->trans_a = ta;
    g->trans_b = tb;
    g->alpha = (float)pp_node_float(ctx->node, "alpha", 1.0);
    g->beta = (float)pp_node_float(ctx->node, "beta", 1.0);
    g->c_stride_m = g->c_stride_n = 0;
    if (has_input(in, n_in, 2)) {
        if ((rc = need_float(in, n_in, 2, "C", a->dtype, 0, 2, err))) return rc;
        const pp_shape *c = &in[2];
        /* right-aligned against (M, N); each extent 1 or equal */
        int64_t cm = c->rank == 2 ? c->dims[0] : 1, cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
        if (cm != 1 && cm != m)
            return pp_error_set(err, PP_ERR_SHAPE, "input 2 (C): axis 0 is %lld, expected 1 or M = %lld", (long long)cm,
                                (long long)m);
        if (cn != 1 && cn != nn)
            return pp_error_set(err, PP_ERR_SHAPE, "input 2 (C): axis %d is %lld, expected 1 or N = %lld", c->rank - 1,
                                (long long)cn, (long long)nn);
        g->c_stride_n = cn == 1 ? 0 : 1;
        g->c_stride_m = cm == 1 ? 0 : cn;
    } else {
        g->beta = 0.f; /* the kernel reads C only when beta != 0 */
    }
    g->act = pp_node_act(ctx->node);
    if ((rc = check_act(g->act, err))) return rc;
    g->dtype = a->dtype;
    out[0] = (pp_shape){.dtype = a->dtype, .rank = 2, .dims = {m, nn}};
    cost->flops = 2.0 * (double)m * (double)nn * (double)k;
    cost->bytes = io_bytes(in, n_in, out, n_out);
    return PP_OK;
}

/* ---- MATMUL -------------------------------------------------------------- */

pp_code pp_describe_matmul(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                           pp_op_params *p, pp_cost *cost, pp_error *err) {
    (void)ctx;
    pp_code rc;
    if ((rc = need_float(in, n_in, 0, "A", in[0].dtype, 1, PP_MAX_RANK, err))) return rc;
    if ((rc = need_float(in, n_in, 1, "B", in[0].dtype, 1, PP_MAX_RANK, err))) return rc;
    const pp_shape *a = &in[0], *b = &in[1];
    /* NumPy: a 1-D A is (1, K) and a 1-D B is (K, 1), the added axis dropped after */
    int ra = a->rank, rb = b->rank;
    int64_t m = ra >= 2 ? a->dims[ra - 2] : 1, k = a->dims[ra - 1];
    int kb_axis = rb >= 2 ? rb - 2 : 0;
    int64_t kb = b->dims[kb_axis], nn = rb >= 2 ? b->dims[rb - 1] : 1;
    if (kb != k)
        return pp_error_set(err, PP_ERR_SHAPE, "input 1 (B): axis %d is %lld, expected K = %lld (input 0 (A) axis %d)",
                            kb_axis, (long long)kb, (long long)k, ra - 1);
    int ba = ra > 2 ? ra - 2 : 0, bb = rb > 2 ? rb - 2 : 0;
    int br = ba > bb ? ba : bb;
    pp_matmul_params *mp = &p->matmul;
    mp->m = m;
    mp->n = nn;
    mp->k = k;
    mp->batch_rank = br;
    mp->batch = 1;
    /* element strides of each operand's batch dims, innermost first */
    int64_t sa = m * k, sb = k * nn;
    for (int d = br - 1; d >= 0; d--) {
        int ia = d - (br - ba), ib = d - (br - bb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return pp_error_set(
                err, PP_ERR_SHAPE,
                "batch axis %d: input 0 (A) axis %d is %lld and input 1 (B) axis %d is %lld, which do not broadcast", d,
                ia, (long long)da, ib, (long long)db);
        mp->batch_dims[d] = da == 1 ? db : da;
        mp->a_stride[d] = da == 1 ? 0 : sa;
        mp->b_stride[d] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
        mp->batch *= mp->batch_dims[d];
    }
    mp->dtype = a->dtype;
    pp_shape y = {.dtype = a->dtype, .rank = 0};
    for (int d = 0; d < br; d++) y.dims[y.rank++] = mp->batch_dims[d];
    if (ra >= 2) y.dims[y.rank++] = m;
    if (rb >= 2) y.dims[y.rank++] = nn;
    out[0] = y;
    cost->flops = 2.0 * (double)mp->batch * (double)m * (double)nn * (double)k;
    cost->bytes = io_bytes(in, n_in, out, n_out);
    return PP_OK;
}

/* ---- BATCHNORM ------------------------------------------------------------ */

pp_code pp_describe_batchnorm(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                              pp_op_params *p, pp_cost *cost, pp_error *err) {
    static const char *const roles[] = {"X", "scale", "B", "input_mean", "input_var"};
    pp_code rc;
    if (pp_node_int(ctx->node, "training_mode", 0) != 0)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "attribute training_mode is set; only inference is supported");
    if ((rc = need_float(in, n_in, 0, roles[0], in[0].dtype, 2, PP_MAX_RANK, err)) ||
        (in[0].layout != PP_LAYOUT_PLAIN && (rc = need_layout(&in[0], 0, roles[0], PP_LAYOUT_NHWC, err))))
        return rc;
    const pp_shape *x = &in[0];
    /* the statistics stay as stored (f32) whatever x is */
    for (int i = 1; i < 5; i++) {
        if ((rc = need_f32(in, n_in, i, roles[i], 1, 1, err))) return rc;
        if ((rc = need_extent(&in[i], i, roles[i], 0, x->dims[1], "C", err))) return rc;
    }
    pp_batchnorm_params *bp = &p->batchnorm;
    bp->n = x->dims[0];
    bp->c = x->dims[1];
    bp->spatial = 1;
    for (int d = 2; d < x->rank; d++) bp->spatial *= x->dims[d];
    bp->epsilon = (float)pp_node_float(ctx->node, "epsilon", 1e-5);
    bp->fmt = (pp_format){x->dtype, x->layout, 0};
    out[0] = *x;
    cost->flops = 2.0 * (double)pp_shape_numel(x);
    cost->bytes = io_bytes(in, n_in, out, n_out);
    return PP_OK;
}

/* ---- pooling ------------------------------------------------------------- */

pp_code pp_describe_pool(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                         pp_op_params *p, pp_cost *cost, pp_error *err) {
    pp_code rc;
    if ((rc = need_float(in, n_in, 0, "X", in[0].dtype, 3, 4, err)) ||
        (in[0].layout != PP_LAYOUT_PLAIN && (rc = need_layout(&in[0], 0, "X", PP_LAYOUT_NHWC, err))))
        return rc;
    const pp_shape *x = &in[0];
    pp_op op = ctx->node->op;
    int global = op == PP_OP_GLOBAL_AVGPOOL || op == PP_OP_GLOBAL_MAXPOOL;
    spatial_axis ax[2];
    for (int d = 2; d < x->rank; d++)
        if (x->dims[d] < 1)
            return pp_error_set(err, PP_ERR_SHAPE, "input 0 (X): axis %d is %lld, expected >= 1", d,
                                (long long)x->dims[d]);
    if (global) {
        ax[0] = (spatial_axis){x->rank == 4 ? x->dims[2] : 1, 0, 1, 1, 0, 0, 1};
        ax[1] = (spatial_axis){x->dims[x->rank - 1], 0, 1, 1, 0, 0, 1};
        ax[0].k = ax[0].in;
        ax[1].k = ax[1].in;
    } else {
        int ceil_mode = pp_node_int(ctx->node, "ceil_mode", 0) != 0;
        if ((rc = read_geometry(ctx->node, x, NULL, ceil_mode, ax, err))) return rc;
        /* ONNX Runtime's rule: explicit pads smaller than the kernel, so every
         * window holds at least one real cell */
        uint32_t np = 0;
        const int64_t *pads = pp_node_ints(ctx->node, "pads", &np);
        int s = x->rank - 2;
        for (int i = 0; pads && i < 2 * s && i < (int)np; i++) {
            int64_t kk = ax[2 - s + i % s].k;
            if (pads[i] >= kk)
                return pp_error_set(err, PP_ERR_SHAPE, "attribute pads[%d] is %lld, expected < kernel_shape[%d] = %lld",
                                    i, (long long)pads[i], i % s, (long long)kk);
        }
        if (op == PP_OP_MAXPOOL && pp_node_int(ctx->node, "storage_order", 0) != 0)
            return pp_error_set(err, PP_ERR_UNSUPPORTED, "attribute storage_order 1 (column major) is not supported");
    }
    pp_pool_params *pl = &p->pool;
    pl->op = op;
    pl->n = x->dims[0];
    pl->c = x->dims[1];
    pl->h = ax[0].in;
    pl->w = ax[1].in;
    pl->oh = ax[0].out;
    pl->ow = ax[1].out;
    pl->kh = ax[0].k;
    pl->kw = ax[1].k;
    pl->stride_h = ax[0].stride;
    pl->stride_w = ax[1].stride;
    pl->pad_top = ax[0].pad_begin;
    pl->pad_bottom = ax[0].pad_end;
    pl->pad_left = ax[1].pad_begin;
    pl->pad_right = ax[1].pad_end;
    pl->dil_h = ax[0].dil;
    pl->dil_w = ax[1].dil;
    pl->count_include_pad = op == PP_OP_AVGPOOL && pp_node_int(ctx->node, "count_include_pad", 0) != 0;
    pl->fmt = (pp_format){x->dtype, x->layout, 0};
    pp_shape y = *x;
    if (x->rank == 4) {
        y.dims[2] = pl->oh;
        y.dims[3] = pl->ow;
    } else {
        y.dims[2] = pl->ow;
    }
    out[0] = y;
    cost->flops = (double)pl->n * (double)pl->c * (double)pl->oh * (double)pl->ow * (double)pl->kh * (double)pl->kw;
    cost->bytes = io_bytes(in, n_in, out, n_out);
    return PP_OK;
}

/* ---- SOFTMAX, LOG_SOFTMAX ------------------------------------------------ */

pp_code pp_describe_softmax(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                            pp_op_params *p, pp_cost *cost, pp_error *err) {
    pp_code rc;
    if ((rc = need_float(in, n_in, 0, "input", in[0].dtype, 1, PP_MAX_RANK, err))) return rc;
    const pp_shape *x = &in[0];
    int axis = pp_axis_normalize(pp_node_int(ctx->node, "axis", -1), x->rank, "attribute axis", err);
    if (axis < 0) return PP_ERR_SHAPE;
    pp_softmax_params *sp = &p->softmax;
    sp->dtype = x->dtype;
    sp->op = ctx->node->op;
    sp->outer = sp->inner = 1;
    for (int d = 0; d < axis; d++) sp->outer *= x->dims[d];
    for (int d = axis + 1; d < x->rank; d++) sp->inner *= x->dims[d];
    sp->axis_len = x->dims[axis];
    out[0] = *x;
    cost->flops = 5.0 * (double)pp_shape_numel(x);
    cost->bytes = io_bytes(in, n_in, out, n_out);
    return PP_OK;
}

/* ---- LAYERNORM ----------------------------------------------------------- */

pp_code pp_describe_layernorm(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                              pp_op_params *p, pp_cost *cost, pp_error *err) {
    static const char *const roles[] = {"X", "Scale", "B"};
    pp_code rc;
    if ((rc = need_float(in, n_in, 0, "X", in[0].dtype, 1, PP_MAX_RANK, err))) return rc;
    const pp_shape *x = &in[0];
    int axis = pp_axis_normalize(pp_node_int(ctx->node, "axis", -1), x->rank, "attribute axis", err);
    if (axis < 0) return PP_ERR_SHAPE;
    int64_t rows = 1, cols = 1;
    for (int d = 0; d < axis; d++) rows *= x->dims[d];
    for (int d = axis; d < x->rank; d++) cols *= x->dims[d];
    int nnorm = x->rank - axis;
    for (int i = 1; i < 3; i++) {
        if (i == 2 && !has_input(in, n_in, 2)) break;
        if ((rc = need_f32(in, n_in, i, roles[i], 1, nnorm, err))) return rc;
        const pp_shape *s = &in[i];
        /* right-aligned against the normalised dims, full size (no broadcast) */
        for (int d = 0; d < s->rank; d++) {
            int xd = x->rank - s->rank + d;
            if (s->dims[d] != x->dims[xd])
                return pp_error_set(err, PP_ERR_SHAPE,
                                    "input %d (%s): axis %d is %lld, expected %lld (input 0 (X) axis %d)", i, roles[i],
                                    d, (long long)s->dims[d], (long long)x->dims[xd], xd);
        }
        if (pp_shape_numel(s) != cols)
            return pp_error_set(err, PP_ERR_SHAPE,
                                "input %d (%s): %lld elements, expected %lld (input 0 (X) axes %d..%d)", i, roles[i],
                                (long long)pp_shape_numel(s), (long long)cols, axis, x->rank - 1);
    }
    pp_layernorm_params *lp = &p->layernorm;
    lp->rows = rows;
    lp->cols = cols;
    lp->epsilon = (float)pp_node_float(ctx->node, "epsilon", 1e-5);
    lp->dtype = x->dtype; /* scale and bias stay as stored (f32) */
    out[0] = *x;
    cost->flops = 8.0 * (double)pp_shape_numel(x);
    cost->bytes = io_bytes(in, n_in, out, n_out);
    return PP_OK;
}

/* ---- ATTENTION ----------------------------------------------------------- */

pp_code pp_describe_attention(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                              pp_op_params *p, pp_cost *cost, pp_error *err) {
    pp_code rc;
    if ((rc = need_float(in, n_in, 0, "Q", in[0].dtype, 4, 4, err))) return rc;
    if ((rc = need_float(in, n_in, 1, "K", in[0].dtype, 4, 4, err))) return rc;
    if ((rc = need_float(in, n_in, 2, "V", in[0].dtype, 4, 4, err))) return rc;
    const pp_shape *q = &in[0], *k = &in[1], *v = &in[2];
    if ((rc = need_extent(k, 1, "K", 0, q->dims[0], "B", err))) return rc;
    if ((rc = need_extent(k, 1, "K", 1, q->dims[1], "H", err))) return rc;
    if ((rc = need_extent(k, 1, "K", 3, q->dims[3], "D", err))) return rc;
    if ((rc = need_extent(v, 2, "V", 0, q->dims[0], "B", err))) return rc;
    if ((rc = need_extent(v, 2, "V", 1, q->dims[1], "H", err))) return rc;
    if ((rc = need_extent(v, 2, "V", 2, k->dims[2], "TK", err))) return rc;
    pp_attention_params *ap = &p->attention;
    ap->b = q->dims[0];
    ap->h = q->dims[1];
    ap->tq = q->dims[2];
    ap->d = q->dims[3];
    ap->tk = k->dims[2];
    ap->dv = v->dims[3];
    double def_scale = ap->d > 0 ? 1.0 / sqrt((double)ap->d) : 1.0;
    ap->scale = (float)pp_node_float(ctx->node, "scale", def_scale);
    ap->causal = pp_node_int(ctx->node, "causal", 0) != 0;
    ap->mask_dtype = PP_DTYPE_INVALID;
    if (has_input(in, n_in, 3)) {
        const pp_shape *mk = &in[3];
        if (mk->dtype != PP_DTYPE_F32 && mk->dtype != PP_DTYPE_BOOL)
            return pp_error_set(err, PP_ERR_SHAPE, "input 3 (mask): dtype %s, expected f32 or bool",
                                pp_dtype_name(mk->dtype));
        if ((rc = need_rank(mk, 3, "mask", 0, 4, err))) return rc;
        static const char *const what[] = {"B", "H", "TQ", "TK"};
        int64_t full[4] = {ap->b, ap->h, ap->tq, ap->tk};
        int64_t s = 1;
        for (int d = 3; d >= 0; d--) {
            int md = d - (4 - mk->rank);
            int64_t ext = md >= 0 ? mk->dims[md] : 1;
            if (ext != 1 && ext != full[d])
                return pp_error_set(err, PP_ERR_SHAPE, "input 3 (mask): axis %d is %lld, expected 1 or %s = %lld", md,
                                    (long long)ext, what[d], (long long)full[d]);
            ap->mask_stride[d] = ext == 1 ? 0 : s;
            s *= ext;
        }
        ap->mask_dtype = mk->dtype;
    }
    ap->dtype = q->dtype;
    out[0] = (pp_shape){.dtype = q->dtype, .rank = 4, .dims = {ap->b, ap->h, ap->tq, ap->dv}};
    cost->flops = 2.0 * (double)ap->b * (double)ap->h * (double)ap->tq * (double)ap->tk * (double)(ap->d + ap->dv);
    cost->bytes = io_bytes(in, n_in, out, n_out);
    return PP_OK;
}

/* ---- REDUCE_*, ARGMAX, ARGMIN -------------------------------------------- */

pp_code pp_describe_reduce(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                           pp_op_params *p, pp_cost *cost, pp_error *err) {
    pp_code rc;
    if ((rc = need_input(in, n_in, 0, "data", err))) return rc;
    const pp_shape *x = &in[0];
    pp_op op = ctx->node->op;
    int arg = op == PP_OP_ARGMAX || op == PP_OP_ARGMIN;
    int i64_ok = op != PP_OP_REDUCE_MEAN;
    if (x->dtype != PP_DTYPE_F32 && !(i64_ok && x->dtype == PP_DTYPE_I64))
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "input 0 (data): dtype %s, expected f32%s",
                            pp_dtype_name(x->dtype), i64_ok ? " or i64" : "");
    if ((rc = need_rank(x, 0, "data", 0, PP_MAX_RANK, err))) return rc;
    int keepdims = pp_node_int(ctx->node, "keepdims", 1) != 0;
    uint32_t mask = 0;
    pp_reduce_params *rp = &p->reduce;
    if (arg) {
        if (x->rank < 1) return pp_error_set(err, PP_ERR_SHAPE, "input 0 (data): rank 0, expected >= 1");
        int axis = pp_axis_normalize(pp_node_int(ctx->node, "axis", 0), x->rank, "attribute axis", err);
        if (axis < 0) return PP_ERR_SHAPE;
        if (x->dims[axis] < 1)
            return pp_error_set(err, PP_ERR_SHAPE, "input 0 (data): axis %d is %lld, expected >= 1", axis,
                                (long long)x->dims[axis]);
        mask = 1u << axis;
        rp->select_last_index = pp_node_int(ctx->node, "select_last_index", 0) != 0;
    } else {
        uint32_t na = 0;
        const int64_t *axes = pp_node_ints(ctx->node, "axes", &na);
        if (!axes || na == 0) {
            if (!pp_node_int(ctx->node, "noop_with_empty_axes", 0))
                mask = x->rank ? (uint32_t)((1u << x->rank) - 1) : 0;
        } else {
            for (uint32_t i = 0; i < na; i++) {
                char what[48];
                snprintf(what, sizeof what, "attribute axes[%u]", i);
                int a = pp_axis_normalize(axes[i], x->rank, what, err);
                if (a < 0) return PP_ERR_SHAPE;
                if (mask & (1u << a)) return pp_error_set(err, PP_ERR_SHAPE, "attribute axes names axis %d twice", a);
                mask |= 1u << a;
            }
        }
    }
    rp->op = op;
    rp->dtype = x->dtype;
    rp->rank = x->rank;
    for (int d = 0; d < x->rank; d++) rp->dims[d] = x->dims[d];
    rp->axes_mask = mask;
    pp_shape y = {.dtype = arg ? PP_DTYPE_I64 : x->dtype, .rank = 0};
    for (int d = 0; d < x->rank; d++) {
        if (!(mask & (1u << d))) y.dims[y.rank++] = x->dims[d];
        else if (keepdims) y.dims[y.rank++] = 1;
    }
    out[0] = y;
    cost->flops = (double)pp_shape_numel(x);
    cost->bytes = io_bytes(in, n_in, out, n_out);
    return PP_OK;
}

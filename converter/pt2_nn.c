/* pt2_nn.c: the ATen ops with weights and reductions (pt2_handlers.h):
 * convolution, linear and matrix products, batch and layer norm, attention,
 * pooling, reductions, softmax. */
#ifdef PP_HAVE_CJSON
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pt2_handlers.h"

/* ---- linear algebra ------------------------------------------------------------------ */

pp_code pt2_conv(pt2_node *n, const char *base) {
    int x, w, b, nd, r;
    int64_t wd[PP_MAX_RANK], v[PP_MAX_RANK], groups, transposed = 0;
    int cnt;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "input", 0, &x));
    PT2_TRY(pt2_tensor_arg(n, "weight", 0, &w));
    PT2_TRY(pt2_tensor_arg(n, "bias", 1, &b));
    PT2_TRY(pt2_arg_meta(n, "weight", NULL, &r, wd));
    PT2_TRY(pt2_int_arg(n, "transposed", 0, &transposed));
    if (transposed) return pt2_fail(n, PP_ERR_UNSUPPORTED, "transposed convolution");
    if (pt2_string_arg(n, "padding", NULL))
        return pt2_fail(n, PP_ERR_UNSUPPORTED, "string padding '%.10s' (give the pads)",
                        pt2_string_arg(n, "padding", ""));
    int s = r - 2;
    if (s < 1 || s > 2) return pt2_fail(n, PP_ERR_UNSUPPORTED, "a %d-D convolution (1-D and 2-D only)", s);
    PT2_TRY(pt2_simple(n, PP_OP_CONV, b >= 0 ? 3 : 2, (int[]){x, w, b}, &nd));
    pt2_set_ints(n, nd, "kernel_shape", wd + 2, s, &rc);
    static const char *names[3] = {"stride", "padding", "dilation"};
    for (int k = 0; k < 3 && !rc; k++) {
        int64_t def = k == 1 ? 0 : 1, out[2 * 2];
        PT2_TRY(pt2_ints_arg(n, names[k], v, PP_MAX_RANK, &cnt));
        for (int i = 0; i < s; i++) out[i] = cnt == 0 ? def : v[cnt == 1 ? 0 : i];
        if (k == 1) {
            for (int i = 0; i < s; i++) out[s + i] = out[i];
            pt2_set_ints(n, nd, "pads", out, 2 * s, &rc);
        } else {
            pt2_set_ints(n, nd, k ? "dilations" : "strides", out, s, &rc);
        }
    }
    PT2_TRY(pt2_int_arg(n, "groups", 1, &groups));
    pt2_set_int(n, nd, "group", groups, &rc);
    (void)base;
    return rc;
}

pp_code pt2_linear(pt2_node *n, const char *base) {
    (void)base;
    int x, w, b, r, nd;
    int64_t d[PP_MAX_RANK];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "input", 0, &x));
    PT2_TRY(pt2_tensor_arg(n, "weight", 0, &w));
    PT2_TRY(pt2_tensor_arg(n, "bias", 1, &b));
    PT2_TRY(pt2_arg_meta(n, "input", NULL, &r, d));
    if (r == 2) {
        PT2_TRY(pt2_simple(n, PP_OP_GEMM, b >= 0 ? 3 : 2, (int[]){x, w, b}, &nd));
        pt2_set_int(n, nd, "transB", 1, &rc);
        return rc;
    }
    /* (.., K) x W^T: the transpose of a constant weight folds. */
    int wt = pt2_add(n, PP_OP_TRANSPOSE, "wT", 1, &w, &nd);
    if (wt < 0) return pt2_rc(n);
    pt2_set_ints(n, nd, "perm", (int64_t[]){1, 0}, 2, &rc);
    if (rc) return rc;
    if (b < 0) return pt2_simple(n, PP_OP_MATMUL, 2, (int[]){x, wt}, NULL);
    int y = pt2_add(n, PP_OP_MATMUL, "matmul", 2, (int[]){x, wt}, NULL);
    if (y < 0) return pt2_rc(n);
    return pt2_simple(n, PP_OP_ADD, 2, (int[]){y, b}, NULL);
}

pp_code pt2_addmm(pt2_node *n, const char *base) {
    (void)base;
    int c, a, b, nd;
    double alpha, beta;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &c));
    PT2_TRY(pt2_tensor_arg(n, "mat1", 0, &a));
    PT2_TRY(pt2_tensor_arg(n, "mat2", 0, &b));
    PT2_TRY(pt2_float_arg(n, "alpha", 1, &alpha));
    PT2_TRY(pt2_float_arg(n, "beta", 1, &beta));
    PT2_TRY(pt2_simple(n, PP_OP_GEMM, 3, (int[]){a, b, c}, &nd));
    pt2_set_float(n, nd, "alpha", alpha, &rc);
    pt2_set_float(n, nd, "beta", beta, &rc);
    return rc;
}

pp_code pt2_matmul(pt2_node *n, const char *base) {
    (void)base;
    int a, b;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &a));
    PT2_TRY(pt2_tensor_arg(n, pt2_arg(n, "mat2") ? "mat2" : "other", 0, &b));
    return pt2_simple(n, PP_OP_MATMUL, 2, (int[]){a, b}, NULL);
}

/* The per-channel tensor `arg`, or a constant of `fill` with c elements when it is None. */
static pp_code channel_param(pt2_node *n, const char *arg, int64_t c, float fill, int *id) {
    PT2_TRY(pt2_tensor_arg(n, arg, 1, id));
    if (*id >= 0) return PP_OK;
    float *v = pp_malloc((size_t)(c ? c : 1) * sizeof *v);
    if (!v) return pp_error_nomem(n->x->err, "out of memory");
    for (int64_t i = 0; i < c; i++) v[i] = fill;
    char nm[300];
    snprintf(nm, sizeof nm, "%s.%s", n->name, arg);
    *id = pt2_const(n->x, nm, PP_DTYPE_F32, 1, &c, v);
    pp_free(v);
    return *id < 0 ? pt2_rc(n) : PP_OK;
}

pp_code pt2_batch_norm(pt2_node *n, const char *base) {
    int x, sc, b, mean, var, nd, r, training = 0;
    int64_t d[PP_MAX_RANK];
    double eps;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "input", 0, &x));
    PT2_TRY(pt2_tensor_arg(n, "running_mean", 0, &mean));
    PT2_TRY(pt2_tensor_arg(n, "running_var", 0, &var));
    PT2_TRY(pt2_arg_meta(n, "running_mean", NULL, &r, d));
    PT2_TRY(channel_param(n, "weight", d[0], 1.0f, &sc));
    PT2_TRY(channel_param(n, "bias", d[0], 0.0f, &b));
    if (!strcmp(base, "batch_norm")) PT2_TRY(pt2_bool_arg(n, "training", 0, &training));
    if (training) return pt2_fail(n, PP_ERR_UNSUPPORTED, "batch norm in training mode (export the model in eval())");
    PT2_TRY(pt2_float_arg(n, "eps", 1e-5, &eps));
    PT2_TRY(pt2_simple(n, PP_OP_BATCHNORM, 5, (int[]){x, sc, b, mean, var}, &nd));
    pt2_set_float(n, nd, "epsilon", eps, &rc);
    return rc;
}

pp_code pt2_layer_norm(pt2_node *n, const char *base) {
    (void)base;
    int x, sc, b, nd, cnt;
    int64_t shape[PP_MAX_RANK], c = 1;
    double eps;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "input", 0, &x));
    PT2_TRY(pt2_ints_arg(n, "normalized_shape", shape, PP_MAX_RANK, &cnt));
    if (cnt < 1) return pt2_fail(n, PP_ERR_FORMAT, "normalized_shape is empty");
    for (int i = 0; i < cnt; i++) c *= shape[i];
    PT2_TRY(pt2_tensor_arg(n, "weight", 1, &sc));
    if (sc < 0 && cnt > 1) return pt2_fail(n, PP_ERR_UNSUPPORTED, "no weight over %d axes", cnt);
    if (sc < 0) PT2_TRY(channel_param(n, "weight", c, 1.0f, &sc));
    PT2_TRY(pt2_tensor_arg(n, "bias", 1, &b));
    PT2_TRY(pt2_float_arg(n, "eps", 1e-5, &eps));
    PT2_TRY(pt2_simple(n, PP_OP_LAYERNORM, b >= 0 ? 3 : 2, (int[]){x, sc, b}, &nd));
    pt2_set_int(n, nd, "axis", -cnt, &rc);
    pt2_set_float(n, nd, "epsilon", eps, &rc);
    return rc;
}

pp_code pt2_sdpa(pt2_node *n, const char *base) {
    (void)base;
    int q, k, v, m, nd, causal = 0, gqa = 0;
    double p = 0, scale;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "query", 0, &q));
    PT2_TRY(pt2_tensor_arg(n, "key", 0, &k));
    PT2_TRY(pt2_tensor_arg(n, "value", 0, &v));
    PT2_TRY(pt2_tensor_arg(n, "attn_mask", 1, &m));
    PT2_TRY(pt2_bool_arg(n, "is_causal", 0, &causal));
    PT2_TRY(pt2_bool_arg(n, "enable_gqa", 0, &gqa));
    pt2_scalar_arg(n, "dropout_p", &p);
    if (p > 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "attention dropout %g", p);
    if (gqa) return pt2_fail(n, PP_ERR_UNSUPPORTED, "grouped-query attention (enable_gqa)");
    if (causal && m >= 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "both a mask and is_causal");
    int has_scale = pt2_scalar_arg(n, "scale", &scale);
    PT2_TRY(pt2_simple(n, PP_OP_ATTENTION, m >= 0 ? 4 : 3, (int[]){q, k, v, m}, &nd));
    pt2_set_int(n, nd, "causal", causal, &rc);
    if (has_scale) pt2_set_float(n, nd, "scale", scale, &rc);
    return rc;
}

/* ---- reductions and pooling ----------------------------------------------------------- */

pp_code pt2_reduce(pt2_node *n, const char *base) {
    int x, nd, cnt, r, keep = 0;
    int64_t axes[PP_MAX_RANK], d[PP_MAX_RANK];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_arg_meta(n, "self", NULL, &r, d));
    PT2_TRY(pt2_ints_arg(n, "dim", axes, PP_MAX_RANK, &cnt));
    PT2_TRY(pt2_bool_arg(n, "keepdim", 0, &keep));
    if (!cnt)
        for (cnt = 0; cnt < r; cnt++) axes[cnt] = cnt;
    pp_op op = pt2_base_is(base, "mean")  ? PP_OP_REDUCE_MEAN
               : pt2_base_is(base, "sum") ? PP_OP_REDUCE_SUM
                                          : PP_OP_REDUCE_MAX;
    PT2_TRY(pt2_simple(n, op, 1, &x, &nd));
    pt2_set_ints(n, nd, "axes", axes, cnt, &rc);
    pt2_set_int(n, nd, "keepdims", keep, &rc);
    return rc;
}

pp_code pt2_softmax(pt2_node *n, const char *base) {
    int x, nd;
    int64_t dim;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_int_arg(n, "dim", -1, &dim));
    PT2_TRY(pt2_simple(n, strstr(base, "log") ? PP_OP_LOG_SOFTMAX : PP_OP_SOFTMAX, 1, &x, &nd));
    pt2_set_int(n, nd, "axis", dim, &rc);
    return rc;
}

pp_code pt2_pool(pt2_node *n, const char *base) {
    int x, nd, cnt, ceil_mode = 0, cip = 1;
    int64_t k[2], s[2], p[4], v[PP_MAX_RANK];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_ints_arg(n, "kernel_size", v, 2, &cnt));
    k[0] = v[0], k[1] = v[cnt > 1];
    PT2_TRY(pt2_ints_arg(n, "stride", v, 2, &cnt));
    s[0] = cnt ? v[0] : k[0], s[1] = cnt ? v[cnt > 1] : k[1];
    PT2_TRY(pt2_ints_arg(n, "padding", v, 2, &cnt));
    p[0] = p[2] = cnt ? v[0] : 0, p[1] = p[3] = cnt ? v[cnt > 1] : 0;
    PT2_TRY(pt2_bool_arg(n, "ceil_mode", 0, &ceil_mode));
    int is_max = !strncmp(base, "max_pool", 8);
    if (is_max) {
        PT2_TRY(pt2_ints_arg(n, "dilation", v, 2, &cnt));
        if (cnt && (v[0] != 1 || v[cnt > 1] != 1)) return pt2_fail(n, PP_ERR_UNSUPPORTED, "dilated max pooling");
    } else {
        PT2_TRY(pt2_bool_arg(n, "count_include_pad", 1, &cip));
        if (!pt2_arg_is_none(pt2_arg(n, "divisor_override")))
            return pt2_fail(n, PP_ERR_UNSUPPORTED, "divisor_override");
    }
    PT2_TRY(pt2_simple(n, is_max ? PP_OP_MAXPOOL : PP_OP_AVGPOOL, 1, &x, &nd));
    pt2_set_ints(n, nd, "kernel_shape", k, 2, &rc);
    pt2_set_ints(n, nd, "strides", s, 2, &rc);
    pt2_set_ints(n, nd, "pads", p, 4, &rc);
    pt2_set_int(n, nd, "ceil_mode", ceil_mode, &rc);
    if (!is_max) pt2_set_int(n, nd, "count_include_pad", cip, &rc);
    return rc;
}

pp_code pt2_adaptive_avg_pool(pt2_node *n, const char *base) {
    (void)base;
    int x, nd, cnt, r;
    int64_t o[2], d[PP_MAX_RANK];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_ints_arg(n, "output_size", o, 2, &cnt));
    PT2_TRY(pt2_arg_meta(n, "self", NULL, &r, d));
    if (cnt == 1) o[1] = o[0];
    if (o[0] == 1 && o[1] == 1) return pt2_simple(n, PP_OP_GLOBAL_AVGPOOL, 1, &x, NULL);
    int64_t h = d[r - 2], w = d[r - 1];
    if (h < 0 || w < 0 || h % o[0] || w % o[1])
        return pt2_fail(n, PP_ERR_UNSUPPORTED,
                        "adaptive pooling of (%" PRId64 ", %" PRId64 ") to (%" PRId64 ", %" PRId64
                        ") is not a plain pooling",
                        h, w, o[0], o[1]);
    int64_t k[2] = {h / o[0], w / o[1]};
    PT2_TRY(pt2_simple(n, PP_OP_AVGPOOL, 1, &x, &nd));
    pt2_set_ints(n, nd, "kernel_shape", k, 2, &rc);
    pt2_set_ints(n, nd, "strides", k, 2, &rc);
    pt2_set_ints(n, nd, "pads", (int64_t[]){0, 0, 0, 0}, 4, &rc);
    return rc;
}

#endif

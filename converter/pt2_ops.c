/* pt2_ops.c: ATen ops onto the IR (pt2_ops.h), both the training IR that
 * torch.export.export writes (conv2d, linear, batch_norm, layer_norm,
 * scaled_dot_product_attention, ...) and the core ATen of run_decompositions()
 * (convolution, addmm, mm, bmm, _native_batch_norm_legit_no_training,
 * native_layer_norm, ...). Shapes that involve the batch are taken from the
 * archive's tensor metadata, so views and expands are right at every batch
 * size (docs/converter.md, ".pt2").
 */
#ifdef PP_HAVE_CJSON
#include "pt2_ops.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/params.h"

#define RET_IF(x)                                                                                                      \
    do {                                                                                                               \
        pp_code rc_ = (x);                                                                                             \
        if (rc_) return rc_;                                                                                           \
    } while (0)

/* The metadata of a node's tensor argument (or output name). */
static pp_code arg_meta(pt2_node *n, const char *arg, pp_dtype *dt, int *rank, int64_t *dims) {
    const cJSON *a = pt2_arg(n, arg), *t = a ? cJSON_GetObjectItemCaseSensitive(a, "as_tensor") : NULL;
    const cJSON *nm = t ? cJSON_GetObjectItemCaseSensitive(t, "name") : NULL;
    if (!cJSON_IsString(nm)) return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is not a tensor", arg);
    return pt2_meta(n->x, nm->valuestring, dt, rank, dims);
}

static const char *arg_tensor_name(pt2_node *n, const char *arg) {
    const cJSON *a = pt2_arg(n, arg), *t = a ? cJSON_GetObjectItemCaseSensitive(a, "as_tensor") : NULL;
    const cJSON *nm = t ? cJSON_GetObjectItemCaseSensitive(t, "name") : NULL;
    return cJSON_IsString(nm) ? nm->valuestring : NULL;
}

static pp_code out_meta(pt2_node *n, pp_dtype *dt, int *rank, int64_t *dims) {
    return pt2_meta(n->x, n->name, dt, rank, dims);
}

static int norm_axis(int64_t a, int rank) { return (int)(a < 0 ? a + rank : a); }

/* The node's result: one IR op on ins, bound to output 0. */
static pp_code simple(pt2_node *n, pp_op op, int n_in, const int *in, int *nd_out) {
    int nd = -1;
    if (nd_out) *nd_out = -1;
    int y = pt2_add(n, op, "", n_in, in, &nd);
    if (y < 0) return pt2_rc(n);
    if (nd_out) *nd_out = nd;
    return pt2_bind_output(n, 0, y);
}

/* ---- identities and activations ------------------------------------------------ */

static pp_code op_identity(pt2_node *n) {
    int x;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    return pt2_bind_output(n, 0, x);
}

static pp_code op_dropout(pt2_node *n) {
    int x, train = 0;
    RET_IF(pt2_tensor_arg(n, pt2_arg(n, "input") ? "input" : "self", 0, &x));
    RET_IF(pt2_bool_arg(n, "train", 0, &train));
    double p = 0;
    pt2_scalar_arg(n, "p", &p);
    if (train && p > 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "dropout in training mode (p=%g)", p);
    return pt2_bind_output(n, 0, x);
}

static const struct {
    const char *name;
    pp_op op;
} UNARY[] = {
    {"relu", PP_OP_RELU},
    {"sigmoid", PP_OP_SIGMOID},
    {"tanh", PP_OP_TANH},
    {"silu", PP_OP_SILU},
    {"hardswish", PP_OP_HARDSWISH},
    {"cos", PP_OP_COS},
    {"sin", PP_OP_SIN},
    {"neg", PP_OP_NEG},
    {"exp", PP_OP_EXP},
    {"log", PP_OP_LOG},
    {"sqrt", PP_OP_SQRT},
    {"abs", PP_OP_ABS},
    {"erf", PP_OP_ERF},
    {"reciprocal", PP_OP_RECIPROCAL},
    {"logical_not", PP_OP_NOT},
    {"floor", PP_OP_FLOOR},
    {"ceil", PP_OP_CEIL},
    {"sign", PP_OP_SIGN},
    {"mish", PP_OP_MISH},
    {"round", PP_OP_ROUND},
};

/* "relu_" and "relu" both: the base name without a trailing '_'. */
static int base_is(const char *base, const char *name) {
    size_t l = strlen(name);
    return !strncmp(base, name, l) && (!base[l] || (base[l] == '_' && !base[l + 1]));
}

static pp_code op_unary(pt2_node *n, const char *base) {
    int x;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    for (size_t i = 0; i < sizeof UNARY / sizeof UNARY[0]; i++)
        if (base_is(base, UNARY[i].name)) return simple(n, UNARY[i].op, 1, &x, NULL);
    return pt2_fail(n, PP_ERR_INTERNAL, "no unary op");
}

static pp_code op_rsqrt(pt2_node *n) {
    int x;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    int s = pt2_add(n, PP_OP_SQRT, "sqrt", 1, &x, NULL);
    if (s < 0) return pt2_rc(n);
    return simple(n, PP_OP_RECIPROCAL, 1, &s, NULL);
}

static pp_code op_gelu(pt2_node *n) {
    int x;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    const char *a = pt2_string_arg(n, "approximate", "none");
    if (strcmp(a, "none") && strcmp(a, "tanh")) return pt2_fail(n, PP_ERR_UNSUPPORTED, "approximate='%.20s'", a);
    return simple(n, strcmp(a, "tanh") ? PP_OP_GELU : PP_OP_GELU_TANH, 1, &x, NULL);
}

static pp_code op_hardsigmoid(pt2_node *n) {
    int x, nd;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(simple(n, PP_OP_HARDSIGMOID, 1, &x, &nd));
    pt2_set_float(n, nd, "alpha", 1.0 / 6.0, &rc);
    pt2_set_float(n, nd, "beta", 0.5, &rc);
    return rc;
}

/* clamp / hardtanh / relu6 as CLIP (absent bounds: unbounded). */
static pp_code op_clip(pt2_node *n, const char *base) {
    int x, nd;
    pp_code rc = PP_OK;
    double lo = 0, hi = 6;
    int has_lo = 1, has_hi = 1;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    if (base_is(base, "hardtanh")) {
        RET_IF(pt2_float_arg(n, "min_val", -1, &lo));
        RET_IF(pt2_float_arg(n, "max_val", 1, &hi));
    } else if (base_is(base, "clamp")) {
        has_lo = pt2_scalar_arg(n, "min", &lo);
        has_hi = pt2_scalar_arg(n, "max", &hi);
        if ((!has_lo && !pt2_arg_is_none(pt2_arg(n, "min"))) || (!has_hi && !pt2_arg_is_none(pt2_arg(n, "max"))))
            return pt2_fail(n, PP_ERR_UNSUPPORTED, "clamp bounds must be constants");
    }
    RET_IF(simple(n, PP_OP_CLIP, 1, &x, &nd));
    if (has_lo) pt2_set_float(n, nd, "min", lo, &rc);
    if (has_hi) pt2_set_float(n, nd, "max", hi, &rc);
    return rc;
}

static pp_code op_leaky_relu(pt2_node *n) {
    int x, nd;
    double a;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(pt2_float_arg(n, "negative_slope", 0.01, &a));
    RET_IF(simple(n, PP_OP_LEAKY_RELU, 1, &x, &nd));
    pt2_set_float(n, nd, "alpha", a, &rc);
    return rc;
}

/* ---- elementwise binary ----------------------------------------------------------- */

/* Operand `arg`: a tensor, or a number made a constant of the other operand's dtype. */
static pp_code operand(pt2_node *n, const char *arg, pp_dtype like, int *id) {
    double v;
    const cJSON *a = pt2_arg(n, arg);
    if (a && cJSON_GetObjectItemCaseSensitive(a, "as_tensor")) return pt2_tensor_arg(n, arg, 0, id);
    if (!pt2_scalar_arg(n, arg, &v))
        return pt2_fail(n, PP_ERR_UNSUPPORTED, "argument '%s' is neither a tensor nor a number", arg);
    *id = pt2_scalar(n, arg, v, like);
    return *id < 0 ? pt2_rc(n) : PP_OK;
}

static const struct {
    const char *name;
    pp_op op;
    int negate;
} BINARY[] = {
    {"add", PP_OP_ADD, 0},       {"sub", PP_OP_SUB, 0},       {"rsub", PP_OP_SUB, 0},
    {"mul", PP_OP_MUL, 0},       {"div", PP_OP_DIV, 0},       {"pow", PP_OP_POW, 0},
    {"eq", PP_OP_EQUAL, 0},      {"ne", PP_OP_EQUAL, 1},      {"lt", PP_OP_LESS, 0},
    {"gt", PP_OP_GREATER, 0},    {"le", PP_OP_LESS_EQUAL, 0}, {"ge", PP_OP_GREATER_EQUAL, 0},
    {"maximum", PP_OP_MAX, 0},   {"minimum", PP_OP_MIN, 0},   {"logical_and", PP_OP_AND, 0},
    {"logical_or", PP_OP_OR, 0}, {"fmod", PP_OP_MOD, 0},      {"remainder", PP_OP_MOD, 0},
};

static pp_code op_binary(pt2_node *n, const char *base) {
    size_t i = 0;
    while (i < sizeof BINARY / sizeof BINARY[0] && !base_is(base, BINARY[i].name)) i++;
    if (i == sizeof BINARY / sizeof BINARY[0]) return pt2_fail(n, PP_ERR_INTERNAL, "no binary op");
    pp_dtype dt = PP_DTYPE_F32;
    int r;
    int64_t d[PP_MAX_RANK];
    const char *first = pt2_arg(n, "self") ? "self" : "input";
    RET_IF(arg_meta(n, first, &dt, &r, d));
    int a, b;
    RET_IF(operand(n, first, dt, &a));
    RET_IF(operand(n, pt2_arg(n, "other") ? "other" : "exponent", dt, &b));
    double alpha = 1;
    pt2_scalar_arg(n, "alpha", &alpha);
    if (alpha != 1) {
        int s = pt2_scalar(n, "alpha", alpha, dt);
        if (s < 0 || (b = pt2_add(n, PP_OP_MUL, "scaled", 2, (int[]){b, s}, NULL)) < 0) return pt2_rc(n);
    }
    if (!strcmp(BINARY[i].name, "div") && strcmp(pt2_string_arg(n, "rounding_mode", "none"), "none"))
        return pt2_fail(n, PP_ERR_UNSUPPORTED, "div with rounding_mode '%.20s'",
                        pt2_string_arg(n, "rounding_mode", ""));
    int in[2] = {a, b};
    if (!strcmp(BINARY[i].name, "rsub")) in[0] = b, in[1] = a;
    if (!BINARY[i].negate) return simple(n, BINARY[i].op, 2, in, NULL);
    int e = pt2_add(n, BINARY[i].op, "eq", 2, in, NULL);
    if (e < 0) return pt2_rc(n);
    return simple(n, PP_OP_NOT, 1, &e, NULL);
}

static pp_code op_where(pt2_node *n) {
    int c, a, b;
    pp_dtype dt = PP_DTYPE_F32;
    int r;
    int64_t d[PP_MAX_RANK];
    RET_IF(pt2_tensor_arg(n, "condition", 0, &c));
    RET_IF(out_meta(n, &dt, &r, d));
    RET_IF(operand(n, "self", dt, &a));
    RET_IF(operand(n, "other", dt, &b));
    return simple(n, PP_OP_WHERE, 3, (int[]){c, a, b}, NULL);
}

static pp_code op_masked_fill(pt2_node *n) {
    int x, m, v;
    pp_dtype dt;
    int r;
    int64_t d[PP_MAX_RANK];
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(pt2_tensor_arg(n, "mask", 0, &m));
    RET_IF(arg_meta(n, "self", &dt, &r, d));
    RET_IF(operand(n, "value", dt, &v));
    return simple(n, PP_OP_WHERE, 3, (int[]){m, v, x}, NULL);
}

static pp_code op_cast(pt2_node *n) {
    int x, nd, r;
    pp_dtype to, from;
    int64_t d[PP_MAX_RANK];
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(arg_meta(n, "self", &from, &r, d));
    RET_IF(out_meta(n, &to, &r, d));
    if (to == from) return pt2_bind_output(n, 0, x);
    RET_IF(simple(n, PP_OP_CAST, 1, &x, &nd));
    pt2_set_int(n, nd, "to", to, &rc);
    return rc;
}

/* ---- linear algebra ------------------------------------------------------------------ */

static pp_code op_conv(pt2_node *n, const char *base) {
    int x, w, b, nd, r;
    int64_t wd[PP_MAX_RANK], v[PP_MAX_RANK], groups, transposed = 0;
    int cnt;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "input", 0, &x));
    RET_IF(pt2_tensor_arg(n, "weight", 0, &w));
    RET_IF(pt2_tensor_arg(n, "bias", 1, &b));
    RET_IF(arg_meta(n, "weight", NULL, &r, wd));
    RET_IF(pt2_int_arg(n, "transposed", 0, &transposed));
    if (transposed) return pt2_fail(n, PP_ERR_UNSUPPORTED, "transposed convolution");
    if (pt2_string_arg(n, "padding", NULL))
        return pt2_fail(n, PP_ERR_UNSUPPORTED, "string padding '%.10s' (give the pads)",
                        pt2_string_arg(n, "padding", ""));
    int s = r - 2;
    if (s < 1 || s > 2) return pt2_fail(n, PP_ERR_UNSUPPORTED, "a %d-D convolution (1-D and 2-D only)", s);
    RET_IF(simple(n, PP_OP_CONV, b >= 0 ? 3 : 2, (int[]){x, w, b}, &nd));
    pt2_set_ints(n, nd, "kernel_shape", wd + 2, s, &rc);
    static const char *names[3] = {"stride", "padding", "dilation"};
    for (int k = 0; k < 3 && !rc; k++) {
        int64_t def = k == 1 ? 0 : 1, out[2 * 2];
        RET_IF(pt2_ints_arg(n, names[k], v, PP_MAX_RANK, &cnt));
        for (int i = 0; i < s; i++) out[i] = cnt == 0 ? def : v[cnt == 1 ? 0 : i];
        if (k == 1) {
            for (int i = 0; i < s; i++) out[s + i] = out[i];
            pt2_set_ints(n, nd, "pads", out, 2 * s, &rc);
        } else {
            pt2_set_ints(n, nd, k ? "dilations" : "strides", out, s, &rc);
        }
    }
    RET_IF(pt2_int_arg(n, "groups", 1, &groups));
    pt2_set_int(n, nd, "group", groups, &rc);
    (void)base;
    return rc;
}

static pp_code op_linear(pt2_node *n) {
    int x, w, b, r, nd;
    int64_t d[PP_MAX_RANK];
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "input", 0, &x));
    RET_IF(pt2_tensor_arg(n, "weight", 0, &w));
    RET_IF(pt2_tensor_arg(n, "bias", 1, &b));
    RET_IF(arg_meta(n, "input", NULL, &r, d));
    if (r == 2) {
        RET_IF(simple(n, PP_OP_GEMM, b >= 0 ? 3 : 2, (int[]){x, w, b}, &nd));
        pt2_set_int(n, nd, "transB", 1, &rc);
        return rc;
    }
    /* (.., K) x W^T: the transpose of a constant weight folds. */
    int wt = pt2_add(n, PP_OP_TRANSPOSE, "wT", 1, &w, &nd);
    if (wt < 0) return pt2_rc(n);
    pt2_set_ints(n, nd, "perm", (int64_t[]){1, 0}, 2, &rc);
    if (rc) return rc;
    if (b < 0) return simple(n, PP_OP_MATMUL, 2, (int[]){x, wt}, NULL);
    int y = pt2_add(n, PP_OP_MATMUL, "matmul", 2, (int[]){x, wt}, NULL);
    if (y < 0) return pt2_rc(n);
    return simple(n, PP_OP_ADD, 2, (int[]){y, b}, NULL);
}

static pp_code op_addmm(pt2_node *n) {
    int c, a, b, nd;
    double alpha, beta;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &c));
    RET_IF(pt2_tensor_arg(n, "mat1", 0, &a));
    RET_IF(pt2_tensor_arg(n, "mat2", 0, &b));
    RET_IF(pt2_float_arg(n, "alpha", 1, &alpha));
    RET_IF(pt2_float_arg(n, "beta", 1, &beta));
    RET_IF(simple(n, PP_OP_GEMM, 3, (int[]){a, b, c}, &nd));
    pt2_set_float(n, nd, "alpha", alpha, &rc);
    pt2_set_float(n, nd, "beta", beta, &rc);
    return rc;
}

static pp_code op_matmul(pt2_node *n) {
    int a, b;
    RET_IF(pt2_tensor_arg(n, "self", 0, &a));
    RET_IF(pt2_tensor_arg(n, pt2_arg(n, "mat2") ? "mat2" : "other", 0, &b));
    return simple(n, PP_OP_MATMUL, 2, (int[]){a, b}, NULL);
}

/* The per-channel tensor `arg`, or a constant of `fill` with c elements when it is None. */
static pp_code channel_param(pt2_node *n, const char *arg, int64_t c, float fill, int *id) {
    RET_IF(pt2_tensor_arg(n, arg, 1, id));
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

static pp_code op_batch_norm(pt2_node *n, const char *base) {
    int x, sc, b, mean, var, nd, r, training = 0;
    int64_t d[PP_MAX_RANK];
    double eps;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "input", 0, &x));
    RET_IF(pt2_tensor_arg(n, "running_mean", 0, &mean));
    RET_IF(pt2_tensor_arg(n, "running_var", 0, &var));
    RET_IF(arg_meta(n, "running_mean", NULL, &r, d));
    RET_IF(channel_param(n, "weight", d[0], 1.0f, &sc));
    RET_IF(channel_param(n, "bias", d[0], 0.0f, &b));
    if (!strcmp(base, "batch_norm")) RET_IF(pt2_bool_arg(n, "training", 0, &training));
    if (training) return pt2_fail(n, PP_ERR_UNSUPPORTED, "batch norm in training mode (export the model in eval())");
    RET_IF(pt2_float_arg(n, "eps", 1e-5, &eps));
    RET_IF(simple(n, PP_OP_BATCHNORM, 5, (int[]){x, sc, b, mean, var}, &nd));
    pt2_set_float(n, nd, "epsilon", eps, &rc);
    return rc;
}

static pp_code op_layer_norm(pt2_node *n) {
    int x, sc, b, nd, cnt;
    int64_t shape[PP_MAX_RANK], c = 1;
    double eps;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "input", 0, &x));
    RET_IF(pt2_ints_arg(n, "normalized_shape", shape, PP_MAX_RANK, &cnt));
    if (cnt < 1) return pt2_fail(n, PP_ERR_FORMAT, "normalized_shape is empty");
    for (int i = 0; i < cnt; i++) c *= shape[i];
    RET_IF(pt2_tensor_arg(n, "weight", 1, &sc));
    if (sc < 0 && cnt > 1) return pt2_fail(n, PP_ERR_UNSUPPORTED, "no weight over %d axes", cnt);
    if (sc < 0) RET_IF(channel_param(n, "weight", c, 1.0f, &sc));
    RET_IF(pt2_tensor_arg(n, "bias", 1, &b));
    RET_IF(pt2_float_arg(n, "eps", 1e-5, &eps));
    RET_IF(simple(n, PP_OP_LAYERNORM, b >= 0 ? 3 : 2, (int[]){x, sc, b}, &nd));
    pt2_set_int(n, nd, "axis", -cnt, &rc);
    pt2_set_float(n, nd, "epsilon", eps, &rc);
    return rc;
}

static pp_code op_sdpa(pt2_node *n) {
    int q, k, v, m, nd, causal = 0, gqa = 0;
    double p = 0, scale;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "query", 0, &q));
    RET_IF(pt2_tensor_arg(n, "key", 0, &k));
    RET_IF(pt2_tensor_arg(n, "value", 0, &v));
    RET_IF(pt2_tensor_arg(n, "attn_mask", 1, &m));
    RET_IF(pt2_bool_arg(n, "is_causal", 0, &causal));
    RET_IF(pt2_bool_arg(n, "enable_gqa", 0, &gqa));
    pt2_scalar_arg(n, "dropout_p", &p);
    if (p > 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "attention dropout %g", p);
    if (gqa) return pt2_fail(n, PP_ERR_UNSUPPORTED, "grouped-query attention (enable_gqa)");
    if (causal && m >= 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "both a mask and is_causal");
    int has_scale = pt2_scalar_arg(n, "scale", &scale);
    RET_IF(simple(n, PP_OP_ATTENTION, m >= 0 ? 4 : 3, (int[]){q, k, v, m}, &nd));
    pt2_set_int(n, nd, "causal", causal, &rc);
    if (has_scale) pt2_set_float(n, nd, "scale", scale, &rc);
    return rc;
}

/* ---- reductions and pooling ----------------------------------------------------------- */

static pp_code op_reduce(pt2_node *n, const char *base) {
    int x, nd, cnt, r, keep = 0;
    int64_t axes[PP_MAX_RANK], d[PP_MAX_RANK];
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(arg_meta(n, "self", NULL, &r, d));
    RET_IF(pt2_ints_arg(n, "dim", axes, PP_MAX_RANK, &cnt));
    RET_IF(pt2_bool_arg(n, "keepdim", 0, &keep));
    if (!cnt)
        for (cnt = 0; cnt < r; cnt++) axes[cnt] = cnt;
    pp_op op = base_is(base, "mean") ? PP_OP_REDUCE_MEAN : base_is(base, "sum") ? PP_OP_REDUCE_SUM : PP_OP_REDUCE_MAX;
    RET_IF(simple(n, op, 1, &x, &nd));
    pt2_set_ints(n, nd, "axes", axes, cnt, &rc);
    pt2_set_int(n, nd, "keepdims", keep, &rc);
    return rc;
}

static pp_code op_softmax(pt2_node *n, const char *base) {
    int x, nd;
    int64_t dim;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(pt2_int_arg(n, "dim", -1, &dim));
    RET_IF(simple(n, strstr(base, "log") ? PP_OP_LOG_SOFTMAX : PP_OP_SOFTMAX, 1, &x, &nd));
    pt2_set_int(n, nd, "axis", dim, &rc);
    return rc;
}

static pp_code op_pool(pt2_node *n, const char *base) {
    int x, nd, cnt, ceil_mode = 0, cip = 1;
    int64_t k[2], s[2], p[4], v[PP_MAX_RANK];
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(pt2_ints_arg(n, "kernel_size", v, 2, &cnt));
    k[0] = v[0], k[1] = v[cnt > 1];
    RET_IF(pt2_ints_arg(n, "stride", v, 2, &cnt));
    s[0] = cnt ? v[0] : k[0], s[1] = cnt ? v[cnt > 1] : k[1];
    RET_IF(pt2_ints_arg(n, "padding", v, 2, &cnt));
    p[0] = p[2] = cnt ? v[0] : 0, p[1] = p[3] = cnt ? v[cnt > 1] : 0;
    RET_IF(pt2_bool_arg(n, "ceil_mode", 0, &ceil_mode));
    int is_max = !strncmp(base, "max_pool", 8);
    if (is_max) {
        RET_IF(pt2_ints_arg(n, "dilation", v, 2, &cnt));
        if (cnt && (v[0] != 1 || v[cnt > 1] != 1)) return pt2_fail(n, PP_ERR_UNSUPPORTED, "dilated max pooling");
    } else {
        RET_IF(pt2_bool_arg(n, "count_include_pad", 1, &cip));
        if (!pt2_arg_is_none(pt2_arg(n, "divisor_override")))
            return pt2_fail(n, PP_ERR_UNSUPPORTED, "divisor_override");
    }
    RET_IF(simple(n, is_max ? PP_OP_MAXPOOL : PP_OP_AVGPOOL, 1, &x, &nd));
    pt2_set_ints(n, nd, "kernel_shape", k, 2, &rc);
    pt2_set_ints(n, nd, "strides", s, 2, &rc);
    pt2_set_ints(n, nd, "pads", p, 4, &rc);
    pt2_set_int(n, nd, "ceil_mode", ceil_mode, &rc);
    if (!is_max) pt2_set_int(n, nd, "count_include_pad", cip, &rc);
    return rc;
}

static pp_code op_adaptive_avg_pool(pt2_node *n) {
    int x, nd, cnt, r;
    int64_t o[2], d[PP_MAX_RANK];
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(pt2_ints_arg(n, "output_size", o, 2, &cnt));
    RET_IF(arg_meta(n, "self", NULL, &r, d));
    if (cnt == 1) o[1] = o[0];
    if (o[0] == 1 && o[1] == 1) return simple(n, PP_OP_GLOBAL_AVGPOOL, 1, &x, NULL);
    int64_t h = d[r - 2], w = d[r - 1];
    if (h < 0 || w < 0 || h % o[0] || w % o[1])
        return pt2_fail(n, PP_ERR_UNSUPPORTED,
                        "adaptive pooling of (%" PRId64 ", %" PRId64 ") to (%" PRId64 ", %" PRId64
                        ") is not a plain pooling",
                        h, w, o[0], o[1]);
    int64_t k[2] = {h / o[0], w / o[1]};
    RET_IF(simple(n, PP_OP_AVGPOOL, 1, &x, &nd));
    pt2_set_ints(n, nd, "kernel_shape", k, 2, &rc);
    pt2_set_ints(n, nd, "strides", k, 2, &rc);
    pt2_set_ints(n, nd, "pads", (int64_t[]){0, 0, 0, 0}, 4, &rc);
    return rc;
}

/* ---- shapes ------------------------------------------------------------------------------ */

/* view / reshape / flatten / unflatten / _unsafe_view: the output's shape from
 * its metadata; an extent that depends on the batch is 0 (copy) where the
 * input has it on the same axis, else the one -1 (infer). */
static pp_code op_reshape(pt2_node *n) {
    int x, nd, ri, ro;
    int64_t di[PP_MAX_RANK], dout[PP_MAX_RANK], shape[PP_MAX_RANK];
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(arg_meta(n, "self", NULL, &ri, di));
    RET_IF(out_meta(n, NULL, &ro, dout));
    int infer = 0;
    for (int i = 0; i < ro; i++) {
        shape[i] = dout[i];
        if (dout[i] >= 0) continue;
        if (i < ri && di[i] == dout[i]) shape[i] = 0;
        else if (!infer++) shape[i] = -1;
        else
            return pt2_fail(n, PP_ERR_UNSUPPORTED,
                            "two output extents depend on the batch differently from the input's");
    }
    RET_IF(simple(n, PP_OP_RESHAPE, 1, &x, &nd));
    pt2_set_ints(n, nd, "shape", shape, ro, &rc);
    return rc;
}

static pp_code op_permute(pt2_node *n, const char *base) {
    int x, nd, r, cnt = 0;
    int64_t d[PP_MAX_RANK], perm[PP_MAX_RANK];
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(arg_meta(n, "self", NULL, &r, d));
    for (int i = 0; i < r; i++) perm[i] = i;
    if (!strcmp(base, "permute")) {
        RET_IF(pt2_ints_arg(n, "dims", perm, PP_MAX_RANK, &cnt));
        if (cnt != r) return pt2_fail(n, PP_ERR_FORMAT, "permute of %d axes on a rank-%d tensor", cnt, r);
        for (int i = 0; i < r; i++) perm[i] = norm_axis(perm[i], r);
    } else if (r >= 2) { /* transpose(dim0, dim1); t() */
        int64_t a = 0, b = 1;
        if (strcmp(base, "t")) {
            RET_IF(pt2_int_arg(n, "dim0", 0, &a));
            RET_IF(pt2_int_arg(n, "dim1", 1, &b));
        }
        a = norm_axis(a, r), b = norm_axis(b, r);
        if (a < 0 || b < 0 || a >= r || b >= r) return pt2_fail(n, PP_ERR_FORMAT, "axis out of range");
        perm[a] = b, perm[b] = a;
    }
    RET_IF(simple(n, PP_OP_TRANSPOSE, 1, &x, &nd));
    pt2_set_ints(n, nd, "perm", perm, r, &rc);
    return rc;
}

static pp_code op_unsqueeze(pt2_node *n) {
    int x, nd;
    int64_t dim;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(pt2_int_arg(n, "dim", 0, &dim));
    RET_IF(simple(n, PP_OP_UNSQUEEZE, 1, &x, &nd));
    pt2_set_ints(n, nd, "axes", &dim, 1, &rc);
    return rc;
}

/* squeeze(dim(s)) drops only the named axes of extent 1 (torch leaves others). */
static pp_code op_squeeze(pt2_node *n) {
    int x, nd, r, cnt, k = 0;
    int64_t d[PP_MAX_RANK], dims[PP_MAX_RANK], axes[PP_MAX_RANK];
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(arg_meta(n, "self", NULL, &r, d));
    RET_IF(pt2_ints_arg(n, "dim", dims, PP_MAX_RANK, &cnt));
    if (!pt2_arg(n, "dim")) RET_IF(pt2_ints_arg(n, "dims", dims, PP_MAX_RANK, &cnt));
    if (!cnt)
        for (cnt = 0; cnt < r; cnt++) dims[cnt] = cnt;
    for (int i = 0; i < cnt; i++) {
        int a = norm_axis(dims[i], r);
        if (a >= 0 && a < r && d[a] == 1) axes[k++] = a;
    }
    if (!k) return pt2_bind_output(n, 0, x);
    RET_IF(simple(n, PP_OP_SQUEEZE, 1, &x, &nd));
    pt2_set_ints(n, nd, "axes", axes, k, &rc);
    return rc;
}

/* x broadcast to the batch on axis a (x has extent 1 there): Where(cond, x, x)
 * with cond a (.., N, ..) bool sliced from a graph input that has the batch, so
 * no arithmetic touches x (NaN and -0 survive). */
static int broadcast_batch(pt2_node *n, int x, int rank, int axis) {
    pt2_ctx *c = n->x;
    if (c->batch_ref < 0) return -1;
    const pp_tensor *ref = &c->g->tensors[c->batch_ref];
    int rr = ref->rank, nd;
    pp_code rc = PP_OK;
    int64_t starts[PP_MAX_RANK], ends[PP_MAX_RANK], axes[PP_MAX_RANK], shape[PP_MAX_RANK];
    for (int i = 0; i < rr; i++) starts[i] = 0, ends[i] = i ? 1 : INT64_MAX, axes[i] = i;
    int s = pt2_add(n, PP_OP_SLICE, "batch", 1, &c->batch_ref, &nd);
    if (s < 0) return -1;
    pt2_set_ints(n, nd, "starts", starts, rr, &rc);
    pt2_set_ints(n, nd, "ends", ends, rr, &rc);
    pt2_set_ints(n, nd, "axes", axes, rr, &rc);
    for (int i = 0; i < rank; i++) shape[i] = i == axis ? -1 : 1;
    int rs = pt2_add(n, PP_OP_RESHAPE, "batch_shape", 1, &s, &nd);
    if (rs < 0) return -1;
    pt2_set_ints(n, nd, "shape", shape, rank, &rc);
    int cond = pt2_add(n, PP_OP_CAST, "batch_cond", 1, &rs, &nd);
    if (cond < 0) return -1;
    pt2_set_int(n, nd, "to", PP_DTYPE_BOOL, &rc);
    int y = pt2_add(n, PP_OP_WHERE, "", 3, (int[]){cond, x, x}, NULL);
    return rc ? -1 : y;
}

static pp_code op_expand(pt2_node *n) {
    int x, nd, ri, ro, batch_axis = -1;
    int64_t di[PP_MAX_RANK], dout[PP_MAX_RANK], shape[PP_MAX_RANK];
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(arg_meta(n, "self", NULL, &ri, di));
    RET_IF(out_meta(n, NULL, &ro, dout));
    for (int i = 0; i < ro; i++) {
        int j = i - (ro - ri);
        shape[i] = dout[i];
        if (dout[i] >= 0) continue;
        if (j >= 0 && di[j] == dout[i]) shape[i] = 1;
        else if (dout[i] == -1 && batch_axis < 0) shape[i] = 1, batch_axis = i;
        else return pt2_fail(n, PP_ERR_UNSUPPORTED, "expands axis %d to a multiple of the batch", i);
    }
    if (batch_axis < 0) {
        RET_IF(simple(n, PP_OP_EXPAND, 1, &x, &nd));
        pt2_set_ints(n, nd, "shape", shape, ro, &rc);
        return rc;
    }
    int e = pt2_add(n, PP_OP_EXPAND, "fixed", 1, &x, &nd);
    if (e < 0) return pt2_rc(n);
    pt2_set_ints(n, nd, "shape", shape, ro, &rc);
    int y = rc ? -1 : broadcast_batch(n, e, ro, batch_axis);
    if (y < 0)
        return rc                ? rc
               : n->x->err->code ? n->x->err->code
                                 : pt2_fail(n, PP_ERR_UNSUPPORTED, "expands to the batch, but no graph input has it");
    return pt2_bind_output(n, 0, y);
}

static pp_code op_cat(pt2_node *n, const char *base) {
    int ids[PT2_MAX_LIST], cnt, nd;
    int64_t dim;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensors_arg(n, "tensors", ids, PT2_MAX_LIST, &cnt));
    RET_IF(pt2_int_arg(n, "dim", 0, &dim));
    if (cnt < 1) return pt2_fail(n, PP_ERR_FORMAT, "no tensors");
    if (!strcmp(base, "stack")) {
        for (int i = 0; i < cnt; i++) {
            char sfx[32];
            snprintf(sfx, sizeof sfx, "unsqueeze%d", i);
            if ((ids[i] = pt2_add(n, PP_OP_UNSQUEEZE, sfx, 1, &ids[i], &nd)) < 0) return pt2_rc(n);
            pt2_set_ints(n, nd, "axes", &dim, 1, &rc);
        }
    }
    if (cnt == 1 && !rc) return pt2_bind_output(n, 0, ids[0]);
    RET_IF(rc);
    RET_IF(simple(n, PP_OP_CONCAT, cnt, ids, &nd));
    pt2_set_int(n, nd, "axis", dim, &rc);
    return rc;
}

/* The slice's start or end: a constant, or the axis' own batch extent (to the end). */
static pp_code slice_bound(pt2_node *n, const char *arg, int64_t extent, int64_t def, int64_t *v) {
    const cJSON *a = pt2_arg(n, arg), *s = a ? cJSON_GetObjectItemCaseSensitive(a, "as_sym_int") : NULL;
    const cJSON *nm = s ? cJSON_GetObjectItemCaseSensitive(s, "as_name") : NULL;
    if (cJSON_IsString(nm)) {
        int64_t k, c;
        RET_IF(pt2_sym_name(n->x, nm->valuestring, &k, &c));
        if (k && !(c == 0 && extent == -k))
            return pt2_fail(n, PP_ERR_UNSUPPORTED, "slice %s depends on the batch", arg);
        *v = k ? INT64_MAX : c;
        return PP_OK;
    }
    return pt2_int_arg(n, arg, def, v);
}

static pp_code op_slice(pt2_node *n) {
    int x, nd, r;
    int64_t d[PP_MAX_RANK], dim, start, end, step;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(arg_meta(n, "self", NULL, &r, d));
    RET_IF(pt2_int_arg(n, "dim", 0, &dim));
    int a = norm_axis(dim, r);
    if (a < 0 || a >= r) return pt2_fail(n, PP_ERR_FORMAT, "dim %" PRId64 " of a rank-%d tensor", dim, r);
    RET_IF(slice_bound(n, "start", d[a], 0, &start));
    RET_IF(slice_bound(n, "end", d[a], INT64_MAX, &end));
    RET_IF(pt2_int_arg(n, "step", 1, &step));
    if (step < 1) return pt2_fail(n, PP_ERR_FORMAT, "slice step %" PRId64, step);
    RET_IF(simple(n, PP_OP_SLICE, 1, &x, &nd));
    pt2_set_ints(n, nd, "starts", &start, 1, &rc);
    pt2_set_ints(n, nd, "ends", &end, 1, &rc);
    pt2_set_ints(n, nd, "axes", (int64_t[]){a}, 1, &rc);
    pt2_set_ints(n, nd, "steps", &step, 1, &rc);
    if (rc || d[a] < 0) return rc;
    /* Remember the view (fill_ on a slice of a constant writes the constant). */
    pt2_val *self = pt2_lookup(n->x, arg_tensor_name(n, "self")), *out = pt2_lookup(n->x, n->name);
    if (!self || !out || self->n_slices >= PP_MAX_RANK) return PP_OK;
    int base = self->base >= 0 ? self->base : (int)(self - n->x->vals);
    int ns = self->base >= 0 ? self->n_slices : 0;
    if (self->base >= 0) memcpy(out->slices, self->slices, sizeof out->slices);
    int64_t len = d[a];
    if (start < 0) start += len;
    if (end < 0) end += len;
    start = start < 0 ? 0 : start > len ? len : start;
    end = end < start ? start : end > len ? len : end;
    out->base = base;
    out->slices[ns].axis = a;
    out->slices[ns].start = start;
    out->slices[ns].end = end;
    out->slices[ns].step = step;
    out->n_slices = ns + 1;
    return PP_OK;
}

static pp_code op_select(pt2_node *n) {
    int x, nd, r;
    int64_t d[PP_MAX_RANK], dim, index;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(arg_meta(n, "self", NULL, &r, d));
    RET_IF(pt2_int_arg(n, "dim", 0, &dim));
    RET_IF(pt2_int_arg(n, "index", 0, &index));
    int a = norm_axis(dim, r);
    if (a < 0 || a >= r) return pt2_fail(n, PP_ERR_FORMAT, "dim %" PRId64 " of a rank-%d tensor", dim, r);
    if (index < 0 && d[a] >= 0) index += d[a];
    if (index < 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "a negative index on a batch axis");
    int idx = pt2_scalar(n, "index", (double)index, PP_DTYPE_I64);
    if (idx < 0) return pt2_rc(n);
    RET_IF(simple(n, PP_OP_GATHER, 2, (int[]){x, idx}, &nd));
    pt2_set_int(n, nd, "axis", a, &rc);
    return rc;
}

/* embedding(weight, indices); index_select(self, dim, index); index.Tensor(self, [None.., idx]). */
static pp_code op_gather(pt2_node *n, const char *base) {
    int x, idx, nd;
    int64_t axis = 0;
    pp_code rc = PP_OK;
    if (!strcmp(base, "embedding")) {
        RET_IF(pt2_tensor_arg(n, "weight", 0, &x));
        RET_IF(pt2_tensor_arg(n, "indices", 0, &idx));
    } else if (!strcmp(base, "index_select")) {
        RET_IF(pt2_tensor_arg(n, "self", 0, &x));
        RET_IF(pt2_tensor_arg(n, "index", 0, &idx));
        RET_IF(pt2_int_arg(n, "dim", 0, &axis));
    } else {
        int ids[PP_MAX_RANK], cnt, found = 0;
        RET_IF(pt2_tensor_arg(n, "self", 0, &x));
        RET_IF(pt2_tensors_arg(n, "indices", ids, PP_MAX_RANK, &cnt));
        for (int i = 0; i < cnt; i++)
            if (ids[i] >= 0) found++, axis = i, idx = ids[i];
        if (found != 1) return pt2_fail(n, PP_ERR_UNSUPPORTED, "indexing with %d index tensors (one only)", found);
    }
    RET_IF(simple(n, PP_OP_GATHER, 2, (int[]){x, idx}, &nd));
    pt2_set_int(n, nd, "axis", axis, &rc);
    return rc;
}

/* roll: per axis, the last `shift` elements moved to the front (two slices, a concat). */
static pp_code op_roll(pt2_node *n) {
    int x, r, cs, cd, nd;
    int64_t d[PP_MAX_RANK], shifts[PP_MAX_RANK], dims[PP_MAX_RANK];
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(arg_meta(n, "self", NULL, &r, d));
    RET_IF(pt2_ints_arg(n, "shifts", shifts, PP_MAX_RANK, &cs));
    RET_IF(pt2_ints_arg(n, "dims", dims, PP_MAX_RANK, &cd));
    if (cs != cd || !cd) return pt2_fail(n, PP_ERR_UNSUPPORTED, "roll without one dim per shift");
    for (int i = 0; i < cd && !rc; i++) {
        int a = norm_axis(dims[i], r);
        if (a < 0 || a >= r || d[a] < 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "roll along axis %" PRId64, dims[i]);
        int64_t len = d[a], s = ((shifts[i] % len) + len) % len;
        if (!s) continue;
        char sfx[3][32];
        snprintf(sfx[0], sizeof sfx[0], "tail%d", i);
        snprintf(sfx[1], sizeof sfx[1], "head%d", i);
        snprintf(sfx[2], sizeof sfx[2], "roll%d", i);
        int parts[2];
        for (int k = 0; k < 2 && !rc; k++) {
            int64_t st = k ? 0 : len - s, en = k ? len - s : len;
            if ((parts[k] = pt2_add(n, PP_OP_SLICE, sfx[k], 1, &x, &nd)) < 0) return pt2_rc(n);
            pt2_set_ints(n, nd, "starts", &st, 1, &rc);
            pt2_set_ints(n, nd, "ends", &en, 1, &rc);
            pt2_set_ints(n, nd, "axes", (int64_t[]){a}, 1, &rc);
        }
        if ((x = pt2_add(n, PP_OP_CONCAT, sfx[2], 2, parts, &nd)) < 0) return pt2_rc(n);
        pt2_set_int(n, nd, "axis", a, &rc);
    }
    return rc ? rc : pt2_bind_output(n, 0, x);
}

/* pad / constant_pad_nd: torch lists (begin, end) from the last axis backwards. */
static pp_code op_pad(pt2_node *n, const char *base) {
    int x, r, cnt, nd;
    int64_t d[PP_MAX_RANK], p[2 * PP_MAX_RANK], pads[2 * PP_MAX_RANK] = {0};
    double value = 0;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &x));
    RET_IF(arg_meta(n, "self", NULL, &r, d));
    RET_IF(pt2_ints_arg(n, "pad", p, 2 * PP_MAX_RANK, &cnt));
    if (cnt % 2 || cnt / 2 > r) return pt2_fail(n, PP_ERR_FORMAT, "%d pads for a rank-%d tensor", cnt, r);
    const char *mode = strcmp(base, "pad") ? "constant" : pt2_string_arg(n, "mode", "constant");
    pt2_scalar_arg(n, "value", &value);
    int any = 0;
    for (int i = 0; i < cnt / 2; i++) {
        int a = r - 1 - i;
        pads[a] = p[2 * i], pads[r + a] = p[2 * i + 1];
        any |= p[2 * i] || p[2 * i + 1];
        if (p[2 * i] < 0 || p[2 * i + 1] < 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "negative padding");
    }
    if (!any) return pt2_bind_output(n, 0, x);
    const char *m = !strcmp(mode, "constant")    ? "constant"
                    : !strcmp(mode, "reflect")   ? "reflect"
                    : !strcmp(mode, "replicate") ? "edge"
                                                 : NULL;
    if (!m) return pt2_fail(n, PP_ERR_UNSUPPORTED, "pad mode '%.20s'", mode);
    RET_IF(simple(n, PP_OP_PAD, 1, &x, &nd));
    pt2_set_ints(n, nd, "pads", pads, 2 * r, &rc);
    pt2_set_float(n, nd, "value", value, &rc);
    if (!rc) rc = pp_node_set_string(n->x->g, nd, "mode", m, n->x->err);
    return rc;
}

/* outer(a, b) = a[:, None] * b[None, :]. */
static pp_code op_outer(pt2_node *n) {
    int a, b, nd;
    pp_code rc = PP_OK;
    RET_IF(pt2_tensor_arg(n, "self", 0, &a));
    RET_IF(pt2_tensor_arg(n, "vec2", 0, &b));
    int ua = pt2_add(n, PP_OP_UNSQUEEZE, "col", 1, &a, &nd);
    if (ua < 0) return pt2_rc(n);
    pt2_set_ints(n, nd, "axes", (int64_t[]){1}, 1, &rc);
    int ub = pt2_add(n, PP_OP_UNSQUEEZE, "row", 1, &b, &nd);
    if (ub < 0) return pt2_rc(n);
    pt2_set_ints(n, nd, "axes", (int64_t[]){0}, 1, &rc);
    return rc ? rc : simple(n, PP_OP_MUL, 2, (int[]){ua, ub}, NULL);
}

/* ---- constants ------------------------------------------------------------------------------ */

/* zeros, ones, full, new_zeros, new_ones, new_full and the _like ones: a constant of the output's (fixed) shape. */
static pp_code op_full(pt2_node *n, const char *base) {
    pp_dtype dt;
    int r;
    int64_t d[PP_MAX_RANK];
    double v = strstr(base, "ones") ? 1 : 0;
    RET_IF(out_meta(n, &dt, &r, d));
    if (strstr(base, "full") && !pt2_scalar_arg(n, "fill_value", &v))
        return pt2_fail(n, PP_ERR_UNSUPPORTED, "fill_value is not a constant");
    uint64_t numel = 1;
    for (int i = 0; i < r; i++) {
        if (d[i] < 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "a constant whose shape depends on the batch");
        numel *= (uint64_t)d[i];
    }
    if (numel > (1u << 26)) return pt2_fail(n, PP_ERR_UNSUPPORTED, "a constant of %" PRIu64 " elements", numel);
    size_t es = pp_dtype_size(dt);
    uint8_t *buf = pp_calloc((size_t)numel + 1, es), one[8];
    if (!buf) return pp_error_nomem(n->x->err, "out of memory");
    pt2_node tmp = *n;
    int s = pt2_scalar(&tmp, "value", v, dt);
    if (s >= 0) memcpy(one, n->x->g->tensors[s].data, es);
    for (uint64_t i = 0; s >= 0 && i < numel; i++) memcpy(buf + i * es, one, es);
    int id = s < 0 ? -1 : pt2_const(n->x, n->name, dt, r, d, buf);
    pp_free(buf);
    return id < 0 ? pt2_rc(n) : pt2_bind_output(n, 0, id);
}

static pp_code op_arange(pt2_node *n) {
    double start = 0, end, step = 1;
    pp_dtype dt;
    int r, nd;
    int64_t d[PP_MAX_RANK];
    pp_code rc = PP_OK;
    RET_IF(out_meta(n, &dt, &r, d));
    if (!pt2_scalar_arg(n, "end", &end)) return pt2_fail(n, PP_ERR_UNSUPPORTED, "arange's end is not a constant");
    if (pt2_arg(n, "start") && !pt2_scalar_arg(n, "start", &start))
        return pt2_fail(n, PP_ERR_UNSUPPORTED, "arange's start is not a constant");
    if (pt2_arg(n, "step") && !pt2_scalar_arg(n, "step", &step))
        return pt2_fail(n, PP_ERR_UNSUPPORTED, "arange's step is not a constant");
    RET_IF(simple(n, PP_OP_RANGE, 0, NULL, &nd));
    pt2_set_float(n, nd, "start", start, &rc);
    pt2_set_float(n, nd, "limit", end, &rc);
    pt2_set_float(n, nd, "delta", step, &rc);
    pt2_set_int(n, nd, "dtype", dt, &rc);
    return rc;
}

/* fill_ on a slice view of a constant: the constant is rewritten (torchvision's
 * Swin builds its shifted-window mask so), and its name rebound. */
static pp_code op_fill_(pt2_node *n) {
    pt2_ctx *x = n->x;
    pt2_val *view = pt2_lookup(x, arg_tensor_name(n, "self"));
    if (!view || view->base < 0)
        return pt2_fail(n, PP_ERR_UNSUPPORTED, "an in-place fill_ of a tensor that is not a slice of a constant");
    pt2_val *root = &x->vals[view->base];
    const pp_tensor *t = root->tensor >= 0 ? &x->g->tensors[root->tensor] : NULL;
    double v;
    int vid = -1;
    if (!pt2_scalar_arg(n, "value", &v)) {
        RET_IF(pt2_tensor_arg(n, "value", 0, &vid));
        const pp_tensor *vt = &x->g->tensors[vid];
        if (vt->kind != PP_TENSOR_WEIGHT || vt->nbytes != pp_dtype_size(vt->dtype))
            return pt2_fail(n, PP_ERR_UNSUPPORTED, "fill_ with a value that is not a constant scalar");
    }
    if (!t || t->kind != PP_TENSOR_WEIGHT || t->rank < 0)
        return pt2_fail(n, PP_ERR_UNSUPPORTED,
                        "an in-place fill_ of a slice of '%.80s', which is computed, not constant", root->name);
    size_t es = pp_dtype_size(t->dtype);
    uint8_t *buf = pp_malloc((size_t)t->nbytes + 1), val[8] = {0};
    if (!buf) return pp_error_nomem(x->err, "out of memory");
    memcpy(buf, t->data, t->nbytes);
    if (vid >= 0) {
        const pp_tensor *vt = &x->g->tensors[vid];
        double dv = 0;
        if (vt->dtype == PP_DTYPE_F32) dv = *(const float *)vt->data;
        else if (vt->dtype == PP_DTYPE_I64) dv = (double)*(const int64_t *)vt->data;
        else if (vt->dtype == PP_DTYPE_F64) dv = *(const double *)vt->data;
        else if (vt->dtype == PP_DTYPE_I32) dv = *(const int32_t *)vt->data;
        v = dv;
    }
    int s = pt2_scalar(n, "fill", v, t->dtype);
    if (s < 0) {
        pp_free(buf);
        return pt2_rc(n);
    }
    memcpy(val, x->g->tensors[s].data, es);
    /* The region: per root axis a start, step and count, composed over the slices. */
    int64_t st[PP_MAX_RANK], sp[PP_MAX_RANK], cnt[PP_MAX_RANK], idx[PP_MAX_RANK] = {0};
    for (int a = 0; a < t->rank; a++) st[a] = 0, sp[a] = 1, cnt[a] = t->dims[a];
    for (int k = 0; k < view->n_slices; k++) {
        int a = view->slices[k].axis;
        int64_t len = view->slices[k].end - view->slices[k].start, step = view->slices[k].step;
        st[a] += view->slices[k].start * sp[a];
        sp[a] *= step;
        cnt[a] = len <= 0 ? 0 : (len + step - 1) / step;
    }
    int empty = 0;
    for (int a = 0; a < t->rank; a++) empty |= cnt[a] == 0;
    while (!empty) {
        int64_t off = 0, stride = 1;
        for (int a = t->rank - 1; a >= 0; a--) {
            off += (st[a] + idx[a] * sp[a]) * stride;
            stride *= t->dims[a];
        }
        memcpy(buf + (size_t)off * es, val, es);
        int a = t->rank - 1;
        while (a >= 0 && ++idx[a] == cnt[a]) idx[a--] = 0;
        if (a < 0) break;
    }
    char nm[300];
    snprintf(nm, sizeof nm, "%s.filled", n->name);
    int id = pt2_const(x, nm, t->dtype, t->rank, t->dims, buf);
    pp_free(buf);
    if (id < 0) return pt2_rc(n);
    root->tensor = id;
    return PP_OK;
}

/* ---- the table ------------------------------------------------------------------------------ */

typedef pp_code (*op_fn)(pt2_node *n, const char *base);
#define PLAIN(f)                                                                                                       \
    static pp_code f##_b(pt2_node *n, const char *base) {                                                              \
        (void)base;                                                                                                    \
        return f(n);                                                                                                   \
    }
PLAIN(op_identity)
PLAIN(op_dropout)
PLAIN(op_rsqrt)
PLAIN(op_gelu)
PLAIN(op_hardsigmoid)
PLAIN(op_leaky_relu)
PLAIN(op_where)
PLAIN(op_masked_fill)
PLAIN(op_cast)
PLAIN(op_linear)
PLAIN(op_addmm)
PLAIN(op_matmul)
PLAIN(op_layer_norm)
PLAIN(op_sdpa)
PLAIN(op_adaptive_avg_pool)
PLAIN(op_reshape)
PLAIN(op_unsqueeze)
PLAIN(op_squeeze)
PLAIN(op_expand)
PLAIN(op_slice)
PLAIN(op_select)
PLAIN(op_roll)
PLAIN(op_outer)
PLAIN(op_arange)
PLAIN(op_fill_)

/* Base names (the target between "aten." and its overload); a trailing '_'
 * (in place) is accepted where the table says "name_". */
static const struct {
    const char *name;
    op_fn fn;
} OPS[] = {
    {"dropout", op_dropout_b},
    {"dropout_", op_dropout_b},
    {"contiguous", op_identity_b},
    {"clone", op_identity_b},
    {"lift_fresh_copy", op_identity_b},
    {"alias", op_identity_b},
    {"detach", op_identity_b},
    {"detach_", op_identity_b},
    {"relu", op_unary},
    {"relu_", op_unary},
    {"sigmoid", op_unary},
    {"sigmoid_", op_unary},
    {"tanh", op_unary},
    {"tanh_", op_unary},
    {"silu", op_unary},
    {"silu_", op_unary},
    {"hardswish", op_unary},
    {"hardswish_", op_unary},
    {"cos", op_unary},
    {"sin", op_unary},
    {"neg", op_unary},
    {"exp", op_unary},
    {"log", op_unary},
    {"sqrt", op_unary},
    {"abs", op_unary},
    {"erf", op_unary},
    {"reciprocal", op_unary},
    {"logical_not", op_unary},
    {"floor", op_unary},
    {"ceil", op_unary},
    {"sign", op_unary},
    {"mish", op_unary},
    {"round", op_unary},
    {"rsqrt", op_rsqrt_b},
    {"gelu", op_gelu_b},
    {"gelu_", op_gelu_b},
    {"hardsigmoid", op_hardsigmoid_b},
    {"hardsigmoid_", op_hardsigmoid_b},
    {"hardtanh", op_clip},
    {"hardtanh_", op_clip},
    {"relu6", op_clip},
    {"relu6_", op_clip},
    {"clamp", op_clip},
    {"clamp_", op_clip},
    {"leaky_relu", op_leaky_relu_b},
    {"leaky_relu_", op_leaky_relu_b},
    {"add", op_binary},
    {"add_", op_binary},
    {"sub", op_binary},
    {"sub_", op_binary},
    {"rsub", op_binary},
    {"mul", op_binary},
    {"mul_", op_binary},
    {"div", op_binary},
    {"div_", op_binary},
    {"pow", op_binary},
    {"eq", op_binary},
    {"ne", op_binary},
    {"lt", op_binary},
    {"gt", op_binary},
    {"le", op_binary},
    {"ge", op_binary},
    {"maximum", op_binary},
    {"minimum", op_binary},
    {"logical_and", op_binary},
    {"logical_or", op_binary},
    {"fmod", op_binary},
    {"remainder", op_binary},
    {"where", op_where_b},
    {"masked_fill", op_masked_fill_b},
    {"masked_fill_", op_masked_fill_b},
    {"to", op_cast_b},
    {"_to_copy", op_cast_b},
    {"type_as", op_cast_b},
    {"conv1d", op_conv},
    {"conv2d", op_conv},
    {"convolution", op_conv},
    {"linear", op_linear_b},
    {"addmm", op_addmm_b},
    {"mm", op_matmul_b},
    {"bmm", op_matmul_b},
    {"matmul", op_matmul_b},
    {"batch_norm", op_batch_norm},
    {"_native_batch_norm_legit_no_training", op_batch_norm},
    {"layer_norm", op_layer_norm_b},
    {"native_layer_norm", op_layer_norm_b},
    {"scaled_dot_product_attention", op_sdpa_b},
    {"mean", op_reduce},
    {"sum", op_reduce},
    {"amax", op_reduce},
    {"softmax", op_softmax},
    {"_softmax", op_softmax},
    {"log_softmax", op_softmax},
    {"_log_softmax", op_softmax},
    {"max_pool2d", op_pool},
    {"max_pool2d_with_indices", op_pool},
    {"avg_pool2d", op_pool},
    {"adaptive_avg_pool2d", op_adaptive_avg_pool_b},
    {"view", op_reshape_b},
    {"reshape", op_reshape_b},
    {"_unsafe_view", op_reshape_b},
    {"flatten", op_reshape_b},
    {"unflatten", op_reshape_b},
    {"view_as", op_reshape_b},
    {"permute", op_permute},
    {"transpose", op_permute},
    {"t", op_permute},
    {"unsqueeze", op_unsqueeze_b},
    {"squeeze", op_squeeze_b},
    {"expand", op_expand_b},
    {"cat", op_cat},
    {"concat", op_cat},
    {"stack", op_cat},
    {"slice", op_slice_b},
    {"select", op_select_b},
    {"embedding", op_gather},
    {"index_select", op_gather},
    {"index", op_gather},
    {"roll", op_roll_b},
    {"pad", op_pad},
    {"constant_pad_nd", op_pad},
    {"outer", op_outer_b},
    {"zeros", op_full},
    {"ones", op_full},
    {"full", op_full},
    {"new_zeros", op_full},
    {"new_ones", op_full},
    {"new_full", op_full},
    {"zeros_like", op_full},
    {"ones_like", op_full},
    {"full_like", op_full},
    {"scalar_tensor", op_full},
    {"arange", op_arange_b},
    {"fill_", op_fill__b},
};

/* "aten.add_.Tensor" -> "add_" into buf; 0 when target is not an aten op. */
static int base_name(const char *target, char *buf, size_t n) {
    if (strncmp(target, "aten.", 5)) return 0;
    const char *s = target + 5, *dot = strchr(s, '.');
    size_t len = dot ? (size_t)(dot - s) : strlen(s);
    if (!len || len >= n) return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    return 1;
}

int pt2_op_known(const char *target) {
    char b[96];
    if (!base_name(target, b, sizeof b)) return 0;
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (!strcmp(OPS[i].name, b)) return 1;
    return 0;
}

pp_code pt2_op_import(pt2_node *n) {
    char b[96];
    if (!base_name(n->target, b, sizeof b)) return pt2_fail(n, PP_ERR_UNSUPPORTED, "not an ATen op");
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (!strcmp(OPS[i].name, b)) {
            pp_code rc = OPS[i].fn(n, b);
            size_t l = strlen(b);
            /* In place (add_, relu_, ...): later readers of `self` see the result. */
            if (!rc && l > 1 && b[l - 1] == '_' && strcmp(b, "fill_")) {
                const char *self = arg_tensor_name(n, "self");
                pt2_val *out = pt2_lookup(n->x, n->name);
                if (self && out && out->tensor >= 0) rc = pt2_define(n->x, self, out->tensor);
            }
            return rc;
        }
    return pt2_fail(n, PP_ERR_UNSUPPORTED, "no mapping onto the IR");
}
#endif

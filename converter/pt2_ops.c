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
#include "pt2_handlers.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/params.h"

/* ---- identities and activations ------------------------------------------------ */

static pp_code op_identity(pt2_node *n) {
    int x;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    return pt2_bind_output(n, 0, x);
}

static pp_code op_dropout(pt2_node *n) {
    int x, train = 0;
    PT2_TRY(pt2_tensor_arg(n, pt2_arg(n, "input") ? "input" : "self", 0, &x));
    PT2_TRY(pt2_bool_arg(n, "train", 0, &train));
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

static pp_code op_unary(pt2_node *n, const char *base) {
    int x;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    for (size_t i = 0; i < sizeof UNARY / sizeof UNARY[0]; i++)
        if (pt2_base_is(base, UNARY[i].name)) return pt2_simple(n, UNARY[i].op, 1, &x, NULL);
    return pt2_fail(n, PP_ERR_INTERNAL, "no unary op");
}

static pp_code op_rsqrt(pt2_node *n) {
    int x;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    int s = pt2_add(n, PP_OP_SQRT, "sqrt", 1, &x, NULL);
    if (s < 0) return pt2_rc(n);
    return pt2_simple(n, PP_OP_RECIPROCAL, 1, &s, NULL);
}

static pp_code op_gelu(pt2_node *n) {
    int x;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    const char *a = pt2_string_arg(n, "approximate", "none");
    if (strcmp(a, "none") && strcmp(a, "tanh")) return pt2_fail(n, PP_ERR_UNSUPPORTED, "approximate='%.20s'", a);
    return pt2_simple(n, strcmp(a, "tanh") ? PP_OP_GELU : PP_OP_GELU_TANH, 1, &x, NULL);
}

static pp_code op_hardsigmoid(pt2_node *n) {
    int x, nd;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_simple(n, PP_OP_HARDSIGMOID, 1, &x, &nd));
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
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    if (pt2_base_is(base, "hardtanh")) {
        PT2_TRY(pt2_float_arg(n, "min_val", -1, &lo));
        PT2_TRY(pt2_float_arg(n, "max_val", 1, &hi));
    } else if (pt2_base_is(base, "clamp")) {
        has_lo = pt2_scalar_arg(n, "min", &lo);
        has_hi = pt2_scalar_arg(n, "max", &hi);
        if ((!has_lo && !pt2_arg_is_none(pt2_arg(n, "min"))) || (!has_hi && !pt2_arg_is_none(pt2_arg(n, "max"))))
            return pt2_fail(n, PP_ERR_UNSUPPORTED, "clamp bounds must be constants");
    }
    PT2_TRY(pt2_simple(n, PP_OP_CLIP, 1, &x, &nd));
    if (has_lo) pt2_set_float(n, nd, "min", lo, &rc);
    if (has_hi) pt2_set_float(n, nd, "max", hi, &rc);
    return rc;
}

static pp_code op_leaky_relu(pt2_node *n) {
    int x, nd;
    double a;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_float_arg(n, "negative_slope", 0.01, &a));
    PT2_TRY(pt2_simple(n, PP_OP_LEAKY_RELU, 1, &x, &nd));
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
    while (i < sizeof BINARY / sizeof BINARY[0] && !pt2_base_is(base, BINARY[i].name)) i++;
    if (i == sizeof BINARY / sizeof BINARY[0]) return pt2_fail(n, PP_ERR_INTERNAL, "no binary op");
    pp_dtype dt = PP_DTYPE_F32;
    int r;
    int64_t d[PP_MAX_RANK];
    const char *first = pt2_arg(n, "self") ? "self" : "input";
    PT2_TRY(pt2_arg_meta(n, first, &dt, &r, d));
    int a, b;
    PT2_TRY(operand(n, first, dt, &a));
    PT2_TRY(operand(n, pt2_arg(n, "other") ? "other" : "exponent", dt, &b));
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
    if (!BINARY[i].negate) return pt2_simple(n, BINARY[i].op, 2, in, NULL);
    int e = pt2_add(n, BINARY[i].op, "eq", 2, in, NULL);
    if (e < 0) return pt2_rc(n);
    return pt2_simple(n, PP_OP_NOT, 1, &e, NULL);
}

static pp_code op_where(pt2_node *n) {
    int c, a, b;
    pp_dtype dt = PP_DTYPE_F32;
    int r;
    int64_t d[PP_MAX_RANK];
    PT2_TRY(pt2_tensor_arg(n, "condition", 0, &c));
    PT2_TRY(pt2_out_meta(n, &dt, &r, d));
    PT2_TRY(operand(n, "self", dt, &a));
    PT2_TRY(operand(n, "other", dt, &b));
    return pt2_simple(n, PP_OP_WHERE, 3, (int[]){c, a, b}, NULL);
}

static pp_code op_masked_fill(pt2_node *n) {
    int x, m, v;
    pp_dtype dt;
    int r;
    int64_t d[PP_MAX_RANK];
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_tensor_arg(n, "mask", 0, &m));
    PT2_TRY(pt2_arg_meta(n, "self", &dt, &r, d));
    PT2_TRY(operand(n, "value", dt, &v));
    return pt2_simple(n, PP_OP_WHERE, 3, (int[]){m, v, x}, NULL);
}

static pp_code op_cast(pt2_node *n) {
    int x, nd, r;
    pp_dtype to, from;
    int64_t d[PP_MAX_RANK];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_arg_meta(n, "self", &from, &r, d));
    PT2_TRY(pt2_out_meta(n, &to, &r, d));
    if (to == from) return pt2_bind_output(n, 0, x);
    PT2_TRY(pt2_simple(n, PP_OP_CAST, 1, &x, &nd));
    pt2_set_int(n, nd, "to", to, &rc);
    return rc;
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
    {"conv1d", pt2_conv},
    {"conv2d", pt2_conv},
    {"convolution", pt2_conv},
    {"linear", pt2_linear},
    {"addmm", pt2_addmm},
    {"mm", pt2_matmul},
    {"bmm", pt2_matmul},
    {"matmul", pt2_matmul},
    {"batch_norm", pt2_batch_norm},
    {"_native_batch_norm_legit_no_training", pt2_batch_norm},
    {"layer_norm", pt2_layer_norm},
    {"native_layer_norm", pt2_layer_norm},
    {"scaled_dot_product_attention", pt2_sdpa},
    {"mean", pt2_reduce},
    {"sum", pt2_reduce},
    {"amax", pt2_reduce},
    {"softmax", pt2_softmax},
    {"_softmax", pt2_softmax},
    {"log_softmax", pt2_softmax},
    {"_log_softmax", pt2_softmax},
    {"max_pool2d", pt2_pool},
    {"max_pool2d_with_indices", pt2_pool},
    {"avg_pool2d", pt2_pool},
    {"adaptive_avg_pool2d", pt2_adaptive_avg_pool},
    {"view", pt2_reshape},
    {"reshape", pt2_reshape},
    {"_unsafe_view", pt2_reshape},
    {"flatten", pt2_reshape},
    {"unflatten", pt2_reshape},
    {"view_as", pt2_reshape},
    {"permute", pt2_permute},
    {"transpose", pt2_permute},
    {"t", pt2_permute},
    {"unsqueeze", pt2_unsqueeze},
    {"squeeze", pt2_squeeze},
    {"expand", pt2_expand},
    {"cat", pt2_cat},
    {"concat", pt2_cat},
    {"stack", pt2_cat},
    {"slice", pt2_slice},
    {"select", pt2_select},
    {"embedding", pt2_gather},
    {"index_select", pt2_gather},
    {"index", pt2_gather},
    {"roll", pt2_roll},
    {"pad", pt2_pad},
    {"constant_pad_nd", pt2_pad},
    {"outer", pt2_outer},
    {"zeros", pt2_full},
    {"ones", pt2_full},
    {"full", pt2_full},
    {"new_zeros", pt2_full},
    {"new_ones", pt2_full},
    {"new_full", pt2_full},
    {"zeros_like", pt2_full},
    {"ones_like", pt2_full},
    {"full_like", pt2_full},
    {"scalar_tensor", pt2_full},
    {"arange", pt2_arange},
    {"unbind", pt2_unbind},
    {"split", pt2_unbind},
    {"split_with_sizes", pt2_unbind},
    {"slice_scatter", pt2_slice_scatter},
    {"copy", pt2_copy},
    {"as_strided", pt2_as_strided},
    {"any", pt2_any},
    {"all", pt2_any},
    {"chunk", pt2_unbind},
    {"fill_", pt2_fill_},
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
                const char *self = pt2_arg_tensor_name(n, "self");
                pt2_val *out = pt2_lookup(n->x, n->name);
                if (self && out && out->tensor >= 0) rc = pt2_define(n->x, self, out->tensor);
            }
            return rc;
        }
    return pt2_fail(n, PP_ERR_UNSUPPORTED, "no mapping onto the IR");
}
#endif

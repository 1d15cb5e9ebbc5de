/* eltwise_math.h: the formula of every f32 element-wise op, one definition for the
 * CPU reference (kernels/cpu/eltwise.c) and the CUDA kernels (kernels/cuda/eltwise.cu).
 *
 * Each row is X(OP, EXPRESSION). The CPU expands every row into a loop of its own
 * (so each one vectorises); CUDA into one switch inside its kernel. Adding an f32
 * unary or binary op is one row here (and its op table row, its number in
 * ppformat.h and its importer line: docs/adding-an-op.md).
 *
 * Unary rows read x and the node's alpha and beta (CLIP min/max, ELU and LEAKY_RELU
 * alpha, HARDSIGMOID alpha/beta, SELU alpha/gamma). Binary rows read a and b, and
 * c_fmod (MOD's fmod attribute: 0 takes the divisor's sign, as Python's %; 1 the
 * dividend's, as C fmod). Float MAX / MIN propagate NaN (like torch.maximum);
 * ROUND is half to even; SIGN keeps ±0 and NaN. Comparisons (bool out) and the
 * integer and bool forms are written in each kernel.
 */
#ifndef PP_ELTWISE_MATH_H
#define PP_ELTWISE_MATH_H

#include "act.h"

PP_HD float pp_softplus_f32(float x) { return fmaxf(x, 0.f) + log1pf(expf(-fabsf(x))); }
PP_HD float pp_sign_f32(float x) { return x > 0.f ? 1.f : (x < 0.f ? -1.f : x); }
PP_HD float pp_max_f32(float a, float b) { return (a != a || a > b) ? a : b; }
PP_HD float pp_min_f32(float a, float b) { return (a != a || a < b) ? a : b; }
PP_HD float pp_mod_f32(float a, float b, int c_fmod) {
    float r = fmodf(a, b);
    if (!c_fmod && r != 0.f && ((r < 0.f) != (b < 0.f))) r += b;
    return r;
}
/* An activation as an op: the fused-activation formulas of act.h. */
PP_HD float pp_act_f32(pp_act_kind k, float x, float alpha, float beta) {
    pp_act a;
    a.kind = k;
    a.alpha = alpha;
    a.beta = beta;
    return pp_act_apply(a, x);
}

// clang-format off
#define PP_UNARY_F32_OPS(X)                                                                                            \
    X(RELU,        pp_act_f32(PP_ACT_RELU, x, alpha, beta))                                                            \
    X(CLIP,        pp_act_f32(PP_ACT_CLIP, x, alpha, beta))                                                            \
    X(SIGMOID,     pp_act_f32(PP_ACT_SIGMOID, x, alpha, beta))                                                         \
    X(TANH,        pp_act_f32(PP_ACT_TANH, x, alpha, beta))                                                            \
    X(GELU,        pp_act_f32(PP_ACT_GELU, x, alpha, beta))                                                            \
    X(GELU_TANH,   pp_act_f32(PP_ACT_GELU_TANH, x, alpha, beta))                                                       \
    X(SILU,        pp_act_f32(PP_ACT_SILU, x, alpha, beta))                                                            \
    X(HARDSWISH,   pp_act_f32(PP_ACT_HARDSWISH, x, alpha, beta))                                                       \
    X(HARDSIGMOID, pp_act_f32(PP_ACT_HARDSIGMOID, x, alpha, beta))                                                     \
    X(LEAKY_RELU,  pp_act_f32(PP_ACT_LEAKY_RELU, x, alpha, beta))                                                      \
    X(SQRT,        sqrtf(x))                                                                                           \
    X(ERF,         erff(x))                                                                                            \
    X(EXP,         expf(x))                                                                                            \
    X(LOG,         logf(x))                                                                                            \
    X(NEG,         -x)                                                                                                 \
    X(ABS,         fabsf(x))                                                                                           \
    X(RECIPROCAL,  1.f / x)                                                                                            \
    X(ELU,         x > 0.f ? x : alpha * expm1f(x))                                                                    \
    X(SOFTPLUS,    pp_softplus_f32(x))                                                                                 \
    X(FLOOR,       floorf(x))                                                                                          \
    X(CEIL,        ceilf(x))                                                                                           \
    X(SIN,         sinf(x))                                                                                            \
    X(COS,         cosf(x))                                                                                            \
    X(TAN,         tanf(x))                                                                                            \
    X(SIGN,        pp_sign_f32(x))                                                                                     \
    X(ROUND,       nearbyintf(x))                                                                                      \
    X(MISH,        x * tanhf(pp_softplus_f32(x)))                                                                      \
    X(SELU,        x > 0.f ? beta * x : beta * alpha * expm1f(x))

#define PP_BINARY_F32_OPS(X)                                                                                           \
    X(ADD,   a + b)                                                                                                    \
    X(SUB,   a - b)                                                                                                    \
    X(MUL,   a * b)                                                                                                    \
    X(DIV,   a / b)                                                                                                    \
    X(POW,   powf(a, b))                                                                                               \
    X(MAX,   pp_max_f32(a, b))                                                                                         \
    X(MIN,   pp_min_f32(a, b))                                                                                         \
    X(MOD,   pp_mod_f32(a, b, c_fmod))                                                                                 \
    X(PRELU, a < 0.f ? a * b : a) /* b: the slope */
// clang-format on

#define PP_X_HAS(op, expr) case PP_OP_##op:
/* Whether op has an f32 formula in the lists above. */
PP_HD int pp_unary_f32_has(pp_op op) {
    switch (op) {
        PP_UNARY_F32_OPS(PP_X_HAS)
        return 1;
    default: return 0;
    }
}
PP_HD int pp_binary_f32_has(pp_op op) {
    switch (op) {
        PP_BINARY_F32_OPS(PP_X_HAS)
        return 1;
    default: return 0;
    }
}
#undef PP_X_HAS

#endif

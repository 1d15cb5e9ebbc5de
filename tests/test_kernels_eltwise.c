/* test_kernels_eltwise.c: the element-wise kernels (unary, binary with
 * broadcasting, WHERE, PRELU), CAST and the f16/bf16 conversions, with their
 * describe functions.
 *
 * Every case builds a node by hand, runs its describe function (shapes, dtypes,
 * params, errors), runs the CPU kernel with guard bytes after the output, and
 * checks the values against a naive reference: libm in double for the unary
 * ops, explicit index arithmetic for broadcasting, hand-written expectations
 * for integer corner cases and conversions.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ops.h"
#include "kernels/cpu/cpu_kernels.h"
#include "support/ref.h"
#include "support/tnode.h"

#define GUARD 64
#define GUARD_BYTE 0xA5

/* ---- building nodes and shapes ------------------------------------------- */

static pp_shape scalar(pp_dtype dt) { return make_shape(dt, 0, NULL); }

static pp_code describe(tnode *t, const pp_shape *in, pp_shape *out, pp_op_params *p, pp_error *err) {
    pp_cost cost;
    memset(err, 0, sizeof *err);
    return pp_op_describe(&t->node, in, out, p, &cost, NULL, err);
}

/* Describe must fail with `code` and a message holding the node's name and each
 * given fragment. */
static void expect_error(tnode *t, const pp_shape *in, pp_code code, const char *frag1, const char *frag2) {
    pp_shape out[1];
    pp_op_params p;
    pp_error err;
    pp_code rc = describe(t, in, out, &p, &err);
    cr_assert_eq(rc, code, "expected error %d, got %d (%s)", code, rc, err.msg);
    cr_assert(strstr(err.msg, "test_node") != NULL, "message lacks the node name: %s", err.msg);
    if (frag1) cr_assert(strstr(err.msg, frag1) != NULL, "message lacks '%s': %s", frag1, err.msg);
    if (frag2) cr_assert(strstr(err.msg, frag2) != NULL, "message lacks '%s': %s", frag2, err.msg);
}

/* Describes t over in[], runs the kernel on the inputs with GUARD bytes after
 * the output, checks them and returns the output (malloc'ed, caller frees).
 * *rc_out gets the kernel's return value when non-NULL; otherwise it must be 0. */
static void *run(tnode *t, const pp_shape *in, const void *const *inputs, pp_shape *out_shape, int *rc_out) {
    pp_op_params p;
    pp_error err;
    pp_code rc = describe(t, in, out_shape, &p, &err);
    cr_assert_eq(rc, PP_OK, "describe failed: %s", err.msg);
    size_t bytes = numel(out_shape) * pp_dtype_size(out_shape->dtype);
    unsigned char *out = malloc(bytes + GUARD);
    cr_assert(out);
    memset(out, GUARD_BYTE, bytes + GUARD);
    void *outs[1] = {out};
    int krc = t->node.op == PP_OP_CAST ? pp_cpu_cast(&p, inputs, outs, NULL) : pp_cpu_eltwise(&p, inputs, outs, NULL);
    if (rc_out) *rc_out = krc;
    else cr_assert_eq(krc, 0, "kernel returned %d", krc);
    for (size_t i = 0; i < GUARD; i++) cr_assert_eq(out[bytes + i], GUARD_BYTE, "guard byte %zu overwritten", i);
    return out;
}

static const float VALUES[] = {-100.f, -20.f, -3.5f, -3.f, -2.5f, -1.f, -0.5f, -1e-3f, 0.f,   1e-3f,
                               0.5f,   1.f,   1.5f,  2.5f, 3.f,   3.5f, 20.f,  88.f,   100.f, 1e4f};
#define NV ((int64_t)(sizeof VALUES / sizeof VALUES[0]))

/* ---- unary ------------------------------------------------------------------ */

/* log(1 + e^x) without overflowing for large x */
static double ref_softplus(double x) { return x > 30 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static double ref_unary(pp_op op, double x, double alpha, double beta) {
    switch (op) {
    case PP_OP_RELU: return x > 0 ? x : 0;
    case PP_OP_CLIP: return x < alpha ? alpha : (x > beta ? beta : x);
    case PP_OP_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case PP_OP_TANH: return tanh(x);
    case PP_OP_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case PP_OP_GELU_TANH: return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case PP_OP_SILU: return x / (1.0 + exp(-x));
    case PP_OP_HARDSWISH: return x * fmax(0.0, fmin(1.0, x / 6.0 + 0.5));
    case PP_OP_HARDSIGMOID: return fmax(0.0, fmin(1.0, alpha * x + beta));
    case PP_OP_LEAKY_RELU: return x >= 0 ? x : alpha * x;
    case PP_OP_SQRT: return sqrt(x);
    case PP_OP_ERF: return erf(x);
    case PP_OP_EXP: return exp(x);
    case PP_OP_LOG: return log(x);
    case PP_OP_NEG: return -x;
    case PP_OP_ABS: return fabs(x);
    case PP_OP_RECIPROCAL: return 1.0 / x;
    case PP_OP_ELU: return x > 0 ? x : alpha * (exp(x) - 1.0);
    case PP_OP_SOFTPLUS: return ref_softplus(x);
    case PP_OP_FLOOR: return floor(x);
    case PP_OP_CEIL: return ceil(x);
    case PP_OP_SIN: return sin(x);
    case PP_OP_COS: return cos(x);
    case PP_OP_TAN: return tan(x);
    case PP_OP_SIGN: return x > 0 ? 1 : (x < 0 ? -1 : 0);
    case PP_OP_ROUND: return nearbyint(x);
    case PP_OP_MISH: return x * tanh(ref_softplus(x));
    case PP_OP_SELU: return x > 0 ? beta * x : beta * alpha * (exp(x) - 1.0);
    default: cr_assert_fail("no reference for op %d", op);
    }
    return 0;
}

/* Runs a unary f32 op over VALUES (as a (4, 5) tensor) and compares with the
 * double reference using alpha/beta as the op's parameters. */
static void check_unary(tnode *t, double alpha, double beta) {
    pp_shape in = F32(4, 5), out;
    const void *inputs[1] = {VALUES};
    float *y = run(t, &in, inputs, &out, NULL);
    EXPECT_DIMS(&out, 4, 5);
    cr_assert_eq(out.dtype, PP_DTYPE_F32);
    pp_op op = t->node.op;
    if (op == PP_OP_GELU && pp_node_string(&t->node, "approximate", NULL)) op = PP_OP_GELU_TANH;
    float ref[NV];
    for (int64_t i = 0; i < NV; i++) ref[i] = (float)ref_unary(op, VALUES[i], alpha, beta);
    char what[64];
    snprintf(what, sizeof what, "unary %s", pp_op_name(t->node.op));
    cr_assert_eq(pp_ref_compare(what, y, ref, NV, 1e-6f, 2e-6f), 0, "%s mismatches", what);
    free(y);
}

Test(unary, every_f32_op_against_libm) {
    static const pp_op ops[] = {PP_OP_RELU,  PP_OP_SIGMOID,   PP_OP_TANH, PP_OP_GELU,       PP_OP_GELU_TANH,
                                PP_OP_SILU,  PP_OP_HARDSWISH, PP_OP_SQRT, PP_OP_ERF,        PP_OP_EXP,
                                PP_OP_LOG,   PP_OP_NEG,       PP_OP_ABS,  PP_OP_RECIPROCAL, PP_OP_SOFTPLUS,
                                PP_OP_FLOOR, PP_OP_CEIL,      PP_OP_SIN,  PP_OP_COS,        PP_OP_SIGN,
                                PP_OP_ROUND, PP_OP_MISH,      PP_OP_TAN};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        tnode t;
        tn_init(&t, ops[i], 1);
        check_unary(&t, 0, 0);
    }
}

Test(unary, parameterised_ops_defaults_and_attributes) {
    tnode t;
    tn_init(&t, PP_OP_LEAKY_RELU, 1);
    check_unary(&t, 0.01, 0);
    tn_float(&t, "alpha", 0.2);
    check_unary(&t, (float)0.2, 0);

    tn_init(&t, PP_OP_ELU, 1);
    check_unary(&t, 1.0, 0);
    tn_float(&t, "alpha", 0.5);
    check_unary(&t, 0.5, 0);

    tn_init(&t, PP_OP_HARDSIGMOID, 1);
    check_unary(&t, (float)0.2, 0.5);
    tn_float(&t, "alpha", 0.25);
    tn_float(&t, "beta", 0.4);
    check_unary(&t, 0.25, (float)0.4);

    tn_init(&t, PP_OP_SELU, 1);
    check_unary(&t, (float)1.67326319217681884765625, (float)1.05070102214813232421875);

    tn_init(&t, PP_OP_CLIP, 1);
    check_unary(&t, -INFINITY, INFINITY); /* no bounds: identity */
    tn_float(&t, "min", 0.0);
    tn_float(&t, "max", 6.0);
    check_unary(&t, 0.0, 6.0);

    tn_init(&t, PP_OP_GELU, 1);
    tn_str(&t, "approximate", "tanh");
    check_unary(&t, 0, 0);
}

Test(unary, round_half_to_even_and_sign_of_zero_nan) {
    const float x[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4f, -2.6f, NAN, 0.f};
    const float round_ref[] = {0.f, 2.f, 2.f, -0.f, -2.f, -2.f, 2.f, -3.f, NAN, 0.f};
    const float sign_ref[] = {1, 1, 1, -1, -1, -1, 1, -1, NAN, 0};
    pp_shape in = F32(10), out;
    const void *inputs[1] = {x};
    tnode t;
    tn_init(&t, PP_OP_ROUND, 1);
    float *y = run(&t, &in, inputs, &out, NULL);
    cr_assert_eq(pp_ref_compare("round", y, round_ref, 10, 0, 0), 0);
    free(y);
    tn_init(&t, PP_OP_SIGN, 1);
    y = run(&t, &in, inputs, &out, NULL);
    cr_assert_eq(pp_ref_compare("sign", y, sign_ref, 10, 0, 0), 0);
    free(y);
}

Test(unary, integer_neg_abs_sign_wrap_without_trapping) {
    const int64_t x[] = {INT64_MIN, -7, -1, 0, 1, 9, INT64_MAX};
    const int64_t neg[] = {INT64_MIN, 7, 1, 0, -1, -9, -INT64_MAX};
    const int64_t abs_[] = {INT64_MIN, 7, 1, 0, 1, 9, INT64_MAX};
    const int64_t sign[] = {-1, -1, -1, 0, 1, 1, 1};
    const pp_op ops[] = {PP_OP_NEG, PP_OP_ABS, PP_OP_SIGN};
    const int64_t *refs[] = {neg, abs_, sign};
    pp_shape in = SHAPE(PP_DTYPE_I64, 7), out;
    const void *inputs[1] = {x};
    for (int k = 0; k < 3; k++) {
        tnode t;
        tn_init(&t, ops[k], 1);
        int64_t *y = run(&t, &in, inputs, &out, NULL);
        cr_assert_eq(out.dtype, PP_DTYPE_I64);
        cr_assert_eq(pp_ref_compare_i64(pp_op_name(ops[k]), y, refs[k], 7), 0);
        free(y);
    }
    const int32_t x32[] = {INT32_MIN, -5, 0, 5};
    const int32_t neg32[] = {INT32_MIN, 5, 0, -5};
    pp_shape in32 = SHAPE(PP_DTYPE_I32, 4);
    const void *inputs32[1] = {x32};
    tnode t;
    tn_init(&t, PP_OP_NEG, 1);
    int32_t *y = run(&t, &in32, inputs32, &out, NULL);
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], neg32[i], "[%d] %d", i, y[i]);
    free(y);
}

Test(unary, not_on_bool) {
    const uint8_t x[] = {0, 1, 1, 0, 2};
    pp_shape in = SHAPE(PP_DTYPE_BOOL, 5), out;
    const void *inputs[1] = {x};
    tnode t;
    tn_init(&t, PP_OP_NOT, 1);
    uint8_t *y = run(&t, &in, inputs, &out, NULL);
    cr_assert_eq(out.dtype, PP_DTYPE_BOOL);
    const uint8_t ref[] = {1, 0, 0, 1, 0};
    cr_assert_eq(memcmp(y, ref, 5), 0);
    free(y);
}

Test(unary, large_tensor_takes_the_parallel_path) {
    const size_t n = 300001;
    float *x = malloc(n * sizeof(float)), *ref = malloc(n * sizeof(float));
    pp_ref_fill(x, n, 7, -10.f, 10.f);
    for (size_t i = 0; i < n; i++) ref[i] = (float)ref_unary(PP_OP_SIGMOID, x[i], 0, 0);
    pp_shape in = F32((int64_t)n), out;
    const void *inputs[1] = {x};
    tnode t;
    tn_init(&t, PP_OP_SIGMOID, 1);
    float *y = run(&t, &in, inputs, &out, NULL);
    cr_assert_eq(pp_ref_compare("sigmoid large", y, ref, n, 1e-6f, 2e-6f), 0);
    free(y);
    free(x);
    free(ref);
}

Test(unary, describe_refuses_other_dtypes_naming_them) {
    tnode t;
    tn_init(&t, PP_OP_RELU, 1);
    pp_shape in = SHAPE(PP_DTYPE_I64, 3);
    expect_error(&t, &in, PP_ERR_UNSUPPORTED, "i64", "f32");
    tn_init(&t, PP_OP_NOT, 1);
    in = F32(3);
    expect_error(&t, &in, PP_ERR_UNSUPPORTED, "f32", "bool");
    tn_init(&t, PP_OP_ABS, 1);
    in = SHAPE(PP_DTYPE_BOOL, 3);
    expect_error(&t, &in, PP_ERR_UNSUPPORTED, "bool", NULL);
}

/* describe takes 16-bit floats (the CUDA kernels compute them); the CPU kernels
 * compute f32 only, and say so, so the CPU backend refuses such a node by name. */
Test(unary, cpu_kernels_refuse_16bit_operands_describe_takes) {
    tnode t;
    tn_init(&t, PP_OP_RELU, 1);
    pp_shape in = SHAPE(PP_DTYPE_F16, 3), out[1];
    pp_op_params p;
    pp_error err;
    cr_assert_eq(describe(&t, &in, out, &p, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(out[0].dtype, PP_DTYPE_F16);
    cr_assert_eq(pp_cpu_kernel_takes(PP_OP_RELU, &p), 0);
    in = F32(3);
    cr_assert_eq(describe(&t, &in, out, &p, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_cpu_kernel_takes(PP_OP_RELU, &p), 1);
    tn_init(&t, PP_OP_WHERE, 3);
    pp_shape w[3] = {SHAPE(PP_DTYPE_BOOL, 3), SHAPE(PP_DTYPE_F16, 3), SHAPE(PP_DTYPE_F16, 3)};
    cr_assert_eq(describe(&t, w, out, &p, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_cpu_kernel_takes(PP_OP_WHERE, &p), 1, "WHERE selects bytes, in any dtype");
}

/* ---- binary: broadcasting ---------------------------------------------------------- */

/* Offset into a tensor of shape s for the output multi-index idx (rank r),
 * NumPy-broadcast: s is right-aligned and extent-1 axes read index 0. */
static size_t bcast_offset(const pp_shape *s, const int64_t *idx, int r) {
    size_t off = 0;
    for (int d = 0; d < s->rank; d++) {
        int od = d + r - s->rank;
        off = off * (size_t)s->dims[d] + (size_t)(s->dims[d] == 1 ? 0 : idx[od]);
    }
    return off;
}

static void unravel(size_t i, const pp_shape *s, int64_t *idx) {
    for (int d = s->rank - 1; d >= 0; d--) {
        idx[d] = (int64_t)(i % (size_t)s->dims[d]);
        i /= (size_t)s->dims[d];
    }
}

static double ref_binary(pp_op op, double a, double b) {
    switch (op) {
    case PP_OP_ADD: return a + b;
    case PP_OP_SUB: return a - b;
    case PP_OP_MUL: return a * b;
    case PP_OP_DIV: return a / b;
    case PP_OP_POW: return pow(a, b);
    case PP_OP_MAX: return fmax(a, b);
    case PP_OP_MIN: return fmin(a, b);
    case PP_OP_PRELU: return a < 0 ? a * b : a;
    default: cr_assert_fail("no reference for op %d", op);
    }
    return 0;
}

/* f32 binary op over shapes a and b with seeded data, against the reference. */
static void check_binary_f32(pp_op op, pp_shape a, pp_shape b, const int64_t *want_dims, int want_rank) {
    size_t na = numel(&a), nb = numel(&b);
    float *xa = malloc(na * sizeof(float)), *xb = malloc(nb * sizeof(float));
    pp_ref_fill(xa, na, 11, -3.f, 3.f);
    pp_ref_fill(xb, nb, 12, op == PP_OP_POW ? 0.5f : -3.f, 3.f);
    if (op == PP_OP_POW)
        for (size_t i = 0; i < na; i++) xa[i] = fabsf(xa[i]) + 0.1f;
    pp_shape in[2] = {a, b}, out;
    const void *inputs[2] = {xa, xb};
    tnode t;
    tn_init(&t, op, 2);
    float *y = run(&t, in, inputs, &out, NULL);
    expect_dims(&out, want_rank, want_dims);
    size_t n = numel(&out);
    float *ref = malloc(n * sizeof(float));
    int64_t idx[PP_MAX_RANK];
    for (size_t i = 0; i < n; i++) {
        unravel(i, &out, idx);
        ref[i] = (float)ref_binary(op, xa[bcast_offset(&a, idx, out.rank)], xb[bcast_offset(&b, idx, out.rank)]);
    }
    char what[64];
    snprintf(what, sizeof what, "binary %s", pp_op_name(op));
    cr_assert_eq(pp_ref_compare(what, y, ref, n, 1e-6f, 1e-6f), 0, "%s mismatches", what);
    free(ref);
    free(y);
    free(xa);
    free(xb);
}

static const pp_op ARITH[] = {PP_OP_ADD, PP_OP_SUB, PP_OP_MUL, PP_OP_DIV, PP_OP_POW, PP_OP_MAX, PP_OP_MIN};
#define N_ARITH (sizeof ARITH / sizeof ARITH[0])

Test(binary, broadcast_column_times_row) {
    for (size_t k = 0; k < N_ARITH; k++) check_binary_f32(ARITH[k], F32(3, 1), F32(1, 4), (int64_t[]){3, 4}, 2);
}

Test(binary, broadcast_scalar_both_sides) {
    for (size_t k = 0; k < N_ARITH; k++) {
        check_binary_f32(ARITH[k], scalar(PP_DTYPE_F32), F32(2, 3), (int64_t[]){2, 3}, 2);
        check_binary_f32(ARITH[k], F32(2, 3), scalar(PP_DTYPE_F32), (int64_t[]){2, 3}, 2);
        check_binary_f32(ARITH[k], scalar(PP_DTYPE_F32), scalar(PP_DTYPE_F32), NULL, 0);
    }
}

Test(binary, broadcast_rank_mismatch_both_directions) {
    for (size_t k = 0; k < N_ARITH; k++) {
        check_binary_f32(ARITH[k], F32(2, 3, 4), F32(4), (int64_t[]){2, 3, 4}, 3);
        check_binary_f32(ARITH[k], F32(4), F32(2, 3, 4), (int64_t[]){2, 3, 4}, 3);
        check_binary_f32(ARITH[k], F32(2, 1, 4), F32(3, 1), (int64_t[]){2, 3, 4}, 3);
        check_binary_f32(ARITH[k], F32(5, 1, 7, 1), F32(1, 6, 1, 9), (int64_t[]){5, 6, 7, 9}, 4);
        check_binary_f32(ARITH[k], F32(2, 3, 4, 5), F32(2, 3, 4, 5), (int64_t[]){2, 3, 4, 5}, 4);
        check_binary_f32(ARITH[k], F32(2, 3, 4, 5), F32(1, 3, 1, 1), (int64_t[]){2, 3, 4, 5}, 4);
    }
}

Test(binary, large_broadcasts_split_rows_into_blocks) {
    /* rows longer than the kernel's block and more elements than its parallel threshold */
    check_binary_f32(PP_OP_ADD, F32(3, 10001), F32(10001), (int64_t[]){3, 10001}, 2);
    check_binary_f32(PP_OP_MUL, F32(40000, 1), F32(1, 3), (int64_t[]){40000, 3}, 2);
    check_binary_f32(PP_OP_SUB, F32(70001), F32(70001), (int64_t[]){70001}, 1);
    check_binary_f32(PP_OP_DIV, F32(2, 9000, 5), F32(9000, 1), (int64_t[]){2, 9000, 5}, 3);
}

Test(binary, describe_refuses_shapes_that_do_not_broadcast) {
    tnode t;
    tn_init(&t, PP_OP_ADD, 2);
    pp_shape in[2] = {F32(2, 3), F32(4, 3)};
    expect_error(&t, in, PP_ERR_SHAPE, "axis 0", "2 and 4");
    in[0] = F32(2, 3, 5);
    in[1] = F32(3, 4);
    expect_error(&t, in, PP_ERR_SHAPE, "axis 2", "5 and 4");
}

Test(binary, describe_refuses_mixed_dtypes_naming_both) {
    tnode t;
    tn_init(&t, PP_OP_MUL, 2);
    pp_shape in[2] = {F32(2), SHAPE(PP_DTYPE_I64, 2)};
    expect_error(&t, in, PP_ERR_SHAPE, "f32", "i64");
    tn_init(&t, PP_OP_AND, 2);
    in[1] = F32(2);
    expect_error(&t, in, PP_ERR_UNSUPPORTED, "f32", "bool");
}

Test(binary, float_mod_max_min_nan) {
    const float a[] = {-7.f, 7.f, -7.f, 7.f, 5.5f, NAN, 1.f};
    const float b[] = {3.f, -3.f, -3.f, 3.f, 2.f, 1.f, NAN};
    const float mod_py[] = {2.f, -2.f, -1.f, 1.f, 1.5f, NAN, NAN};
    const float mod_c[] = {-1.f, 1.f, -1.f, 1.f, 1.5f, NAN, NAN};
    const float mx[] = {3.f, 7.f, -3.f, 7.f, 5.5f, NAN, NAN};
    const float mn[] = {-7.f, -3.f, -7.f, 3.f, 2.f, NAN, NAN};
    pp_shape in[2] = {F32(7), F32(7)}, out;
    const void *inputs[2] = {a, b};
    tnode t;
    tn_init(&t, PP_OP_MOD, 2);
    float *y = run(&t, in, inputs, &out, NULL);
    cr_assert_eq(pp_ref_compare("mod fmod=0", y, mod_py, 7, 0, 0), 0);
    free(y);
    tn_int(&t, "fmod", 1);
    y = run(&t, in, inputs, &out, NULL);
    cr_assert_eq(pp_ref_compare("mod fmod=1", y, mod_c, 7, 0, 0), 0);
    free(y);
    tn_init(&t, PP_OP_MAX, 2);
    y = run(&t, in, inputs, &out, NULL);
    cr_assert_eq(pp_ref_compare("max", y, mx, 7, 0, 0), 0);
    free(y);
    tn_init(&t, PP_OP_MIN, 2);
    y = run(&t, in, inputs, &out, NULL);
    cr_assert_eq(pp_ref_compare("min", y, mn, 7, 0, 0), 0);
    free(y);
}

/* ---- binary: integers ---------------------------------------------------------------- */

#define I64_CASES 10
static const int64_t IA[I64_CASES] = {7, -7, 7, -7, 5, INT64_MIN, INT64_MAX, 2, -2, 3};
static const int64_t IB[I64_CASES] = {2, 2, -2, -2, 0, -1, 1, 62, 3, -1};

static void check_i64(pp_op op, int fmod, const int64_t *ref) {
    pp_shape in[2] = {SHAPE(PP_DTYPE_I64, I64_CASES), SHAPE(PP_DTYPE_I64, I64_CASES)}, out;
    const void *inputs[2] = {IA, IB};
    tnode t;
    tn_init(&t, op, 2);
    if (fmod) tn_int(&t, "fmod", 1);
    int64_t *y = run(&t, in, inputs, &out, NULL);
    cr_assert_eq(out.dtype, PP_DTYPE_I64);
    cr_assert_eq(pp_ref_compare_i64(pp_op_name(op), y, ref, I64_CASES), 0, "%s mismatches", pp_op_name(op));
    free(y);
}

Test(binary, int64_ops_wrap_and_never_trap) {
    check_i64(PP_OP_ADD, 0, (int64_t[]){9, -5, 5, -9, 5, INT64_MAX, INT64_MIN, 64, 1, 2});
    check_i64(PP_OP_SUB, 0, (int64_t[]){5, -9, 9, -5, 5, INT64_MIN + 1, INT64_MAX - 1, -60, -5, 4});
    check_i64(PP_OP_MUL, 0, (int64_t[]){14, -14, -14, 14, 0, INT64_MIN, INT64_MAX, 124, -6, -3});
    /* truncating division; x / 0 = 0; INT64_MIN / -1 wraps to INT64_MIN */
    check_i64(PP_OP_DIV, 0, (int64_t[]){3, -3, -3, 3, 0, INT64_MIN, INT64_MAX, 0, 0, -3});
    /* fmod = 0: the divisor's sign (Python %); x % 0 = 0; INT64_MIN % -1 = 0 */
    check_i64(PP_OP_MOD, 0, (int64_t[]){1, 1, -1, -1, 0, 0, 0, 2, 1, 0});
    /* fmod = 1: the dividend's sign (C %) */
    check_i64(PP_OP_MOD, 1, (int64_t[]){1, -1, 1, -1, 0, 0, 0, 2, -2, 0});
    /* 2^62; negative exponents give 0 unless the base is ±1; INT64_MIN^-1 = 0 */
    check_i64(PP_OP_POW, 0, (int64_t[]){49, 49, 0, 0, 1, 0, INT64_MAX, (int64_t)1 << 62, -8, 0});
    check_i64(PP_OP_MAX, 0, (int64_t[]){7, 2, 7, -2, 5, -1, INT64_MAX, 62, 3, 3});
    check_i64(PP_OP_MIN, 0, (int64_t[]){2, -7, -2, -7, 0, INT64_MIN, 1, 2, -2, -1});
}

Test(binary, int32_ops_with_broadcast) {
    const int32_t a[] = {INT32_MIN, -9, 9, 100}; /* (4, 1) */
    const int32_t b[] = {-1, 0, 4};              /* (3) */
    pp_shape in[2] = {SHAPE(PP_DTYPE_I32, 4, 1), SHAPE(PP_DTYPE_I32, 3)}, out;
    const void *inputs[2] = {a, b};
    tnode t;
    tn_init(&t, PP_OP_DIV, 2);
    int32_t *y = run(&t, in, inputs, &out, NULL);
    EXPECT_DIMS(&out, 4, 3);
    const int32_t div_ref[] = {INT32_MIN, 0, INT32_MIN / 4, 9, 0, -2, -9, 0, 2, -100, 0, 25};
    for (int i = 0; i < 12; i++) cr_assert_eq(y[i], div_ref[i], "div [%d] = %d, expected %d", i, y[i], div_ref[i]);
    free(y);
    tn_init(&t, PP_OP_MOD, 2);
    y = run(&t, in, inputs, &out, NULL);
    const int32_t mod_ref[] = {0, 0, 0, 0, 0, 3, 0, 0, 1, 0, 0, 0};
    for (int i = 0; i < 12; i++) cr_assert_eq(y[i], mod_ref[i], "mod [%d] = %d, expected %d", i, y[i], mod_ref[i]);
    free(y);
    tn_init(&t, PP_OP_ADD, 2);
    y = run(&t, in, inputs, &out, NULL);
    cr_assert_eq(y[0], INT32_MAX); /* INT32_MIN + -1 wraps */
    cr_assert_eq(y[11], 104);
    free(y);
}

/* ---- comparisons and logic ------------------------------------------------------------ */

Test(compare, f32_i64_i32_bool_give_bool) {
    const pp_op ops[] = {PP_OP_EQUAL, PP_OP_LESS, PP_OP_GREATER, PP_OP_LESS_EQUAL, PP_OP_GREATER_EQUAL};
    /* a (3, 1) against b (2): (3, 2) */
    const float af[] = {1.f, 2.f, NAN};
    const float bf[] = {2.f, 1.f};
    const int64_t ai[] = {1, 2, -5};
    const int64_t bi[] = {2, 1};
    const int32_t a32[] = {1, 2, -5};
    const int32_t b32[] = {2, 1};
    const uint8_t eq[] = {0, 1, 1, 0, 0, 0}, lt[] = {1, 0, 0, 0, 0, 0}, gt[] = {0, 0, 0, 1, 0, 0};
    const uint8_t le[] = {1, 1, 1, 0, 0, 0}, ge[] = {0, 1, 1, 1, 0, 0};
    const uint8_t *ref_f[] = {eq, lt, gt, le, ge};
    /* integers: -5 is below both */
    const uint8_t ieq[] = {0, 1, 1, 0, 0, 0}, ilt[] = {1, 0, 0, 0, 1, 1}, igt[] = {0, 0, 0, 1, 0, 0};
    const uint8_t ile[] = {1, 1, 1, 0, 1, 1}, ige[] = {0, 1, 1, 1, 0, 0};
    const uint8_t *ref_i[] = {ieq, ilt, igt, ile, ige};
    for (int k = 0; k < 5; k++) {
        tnode t;
        tn_init(&t, ops[k], 2);
        pp_shape out;
        pp_shape inf[2] = {F32(3, 1), F32(2)};
        const void *xf[2] = {af, bf};
        uint8_t *y = run(&t, inf, xf, &out, NULL);
        cr_assert_eq(out.dtype, PP_DTYPE_BOOL);
        EXPECT_DIMS(&out, 3, 2);
        cr_assert_eq(memcmp(y, ref_f[k], 6), 0, "f32 %s", pp_op_name(ops[k]));
        free(y);
        pp_shape ini[2] = {SHAPE(PP_DTYPE_I64, 3, 1), SHAPE(PP_DTYPE_I64, 2)};
        const void *xi[2] = {ai, bi};
        y = run(&t, ini, xi, &out, NULL);
        cr_assert_eq(memcmp(y, ref_i[k], 6), 0, "i64 %s", pp_op_name(ops[k]));
        free(y);
        pp_shape in32[2] = {SHAPE(PP_DTYPE_I32, 3, 1), SHAPE(PP_DTYPE_I32, 2)};
        const void *x32[2] = {a32, b32};
        y = run(&t, in32, x32, &out, NULL);
        cr_assert_eq(memcmp(y, ref_i[k], 6), 0, "i32 %s", pp_op_name(ops[k]));
        free(y);
    }
    const uint8_t ab[] = {0, 1}, bb[] = {1, 1, 0, 0};
    tnode t;
    tn_init(&t, PP_OP_EQUAL, 2);
    pp_shape inb[2] = {SHAPE(PP_DTYPE_BOOL, 2), SHAPE(PP_DTYPE_BOOL, 2, 2)}, out;
    const void *xb[2] = {ab, bb};
    uint8_t *y = run(&t, inb, xb, &out, NULL);
    const uint8_t beq[] = {0, 1, 1, 0};
    cr_assert_eq(memcmp(y, beq, 4), 0);
    free(y);
}

Test(logic, and_or_xor) {
    const uint8_t a[] = {0, 0, 1, 1}, b[] = {0, 1, 0, 1};
    const uint8_t and_[] = {0, 0, 0, 1}, or_[] = {0, 1, 1, 1}, xor_[] = {0, 1, 1, 0};
    const pp_op ops[] = {PP_OP_AND, PP_OP_OR, PP_OP_XOR};
    const uint8_t *refs[] = {and_, or_, xor_};
    for (int k = 0; k < 3; k++) {
        tnode t;
        tn_init(&t, ops[k], 2);
        pp_shape in[2] = {SHAPE(PP_DTYPE_BOOL, 4), SHAPE(PP_DTYPE_BOOL, 4)}, out;
        const void *x[2] = {a, b};
        uint8_t *y = run(&t, in, x, &out, NULL);
        cr_assert_eq(out.dtype, PP_DTYPE_BOOL);
        cr_assert_eq(memcmp(y, refs[k], 4), 0, "%s", pp_op_name(ops[k]));
        free(y);
    }
}

/* ---- WHERE and PRELU ------------------------------------------------------------------- */

Test(where, broadcasts_three_ways_for_every_element_size) {
    /* cond (2, 1), x (1, 3), y scalar → (2, 3) */
    const uint8_t c[] = {1, 0};
    const float xf[] = {1.f, 2.f, 3.f}, yf = -1.f;
    pp_shape in[3] = {SHAPE(PP_DTYPE_BOOL, 2, 1), F32(1, 3), scalar(PP_DTYPE_F32)}, out;
    const void *x[3] = {c, xf, &yf};
    tnode t;
    tn_init(&t, PP_OP_WHERE, 3);
    float *y = run(&t, in, x, &out, NULL);
    EXPECT_DIMS(&out, 2, 3);
    const float ref[] = {1, 2, 3, -1, -1, -1};
    cr_assert_eq(pp_ref_compare("where f32", y, ref, 6, 0, 0), 0);
    free(y);

    const int64_t xi[] = {10, 20, 30}, yi[] = {-1, -2, -3};
    in[1] = SHAPE(PP_DTYPE_I64, 3);
    in[2] = SHAPE(PP_DTYPE_I64, 3);
    const void *x2[3] = {c, xi, yi};
    int64_t *z = run(&t, in, x2, &out, NULL);
    const int64_t refi[] = {10, 20, 30, -1, -2, -3};
    cr_assert_eq(pp_ref_compare_i64("where i64", z, refi, 6), 0);
    free(z);

    const uint16_t xh[] = {1, 2, 3}, yh[] = {7, 8, 9};
    in[1] = SHAPE(PP_DTYPE_F16, 3);
    in[2] = SHAPE(PP_DTYPE_F16, 3);
    const void *x3[3] = {c, xh, yh};
    uint16_t *h = run(&t, in, x3, &out, NULL);
    const uint16_t refh[] = {1, 2, 3, 7, 8, 9};
    cr_assert_eq(memcmp(h, refh, sizeof refh), 0);
    free(h);

    const uint8_t xb[] = {1, 1, 1}, yb[] = {0, 0, 0};
    in[1] = SHAPE(PP_DTYPE_BOOL, 3);
    in[2] = SHAPE(PP_DTYPE_BOOL, 3);
    const void *x4[3] = {c, xb, yb};
    uint8_t *b = run(&t, in, x4, &out, NULL);
    const uint8_t refb[] = {1, 1, 1, 0, 0, 0};
    cr_assert_eq(memcmp(b, refb, 6), 0);
    free(b);
}

Test(where, describe_requires_bool_condition_and_matching_values) {
    tnode t;
    tn_init(&t, PP_OP_WHERE, 3);
    pp_shape in[3] = {F32(2), F32(2), F32(2)};
    expect_error(&t, in, PP_ERR_SHAPE, "condition", "f32");
    in[0] = SHAPE(PP_DTYPE_BOOL, 2);
    in[2] = SHAPE(PP_DTYPE_I64, 2);
    expect_error(&t, in, PP_ERR_SHAPE, "f32", "i64");
    in[2] = F32(3);
    expect_error(&t, in, PP_ERR_SHAPE, "2 and 3", NULL);
}

Test(prelu, slope_broadcasts_per_channel) {
    check_binary_f32(PP_OP_PRELU, F32(2, 3, 4, 5), F32(3, 1, 1), (int64_t[]){2, 3, 4, 5}, 4);
    check_binary_f32(PP_OP_PRELU, F32(2, 3, 4, 5), F32(1), (int64_t[]){2, 3, 4, 5}, 4);
    check_binary_f32(PP_OP_PRELU, F32(6, 5), F32(5), (int64_t[]){6, 5}, 2);
    tnode t;
    tn_init(&t, PP_OP_PRELU, 2);
    pp_shape in[2] = {F32(3, 1), F32(3, 4)};
    expect_error(&t, in, PP_ERR_SHAPE, "slope", "(3, 4)");
}

/* ---- f16 / bf16 conversions --------------------------------------------------------------- */

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

Test(half, f16_edge_values) {
    cr_assert_eq(pp_f32_to_f16(65504.f), 0x7BFF);
    cr_assert_eq(pp_f32_to_f16(65519.f), 0x7BFF); /* below the halfway point: max finite */
    cr_assert_eq(pp_f32_to_f16(65520.f), 0x7C00); /* the tie rounds to even, i.e. Inf */
    cr_assert_eq(pp_f32_to_f16(1e6f), 0x7C00);
    cr_assert_eq(pp_f32_to_f16(-1e6f), 0xFC00);
    cr_assert_eq(pp_f32_to_f16(INFINITY), 0x7C00);
    cr_assert_eq(pp_f32_to_f16(-INFINITY), 0xFC00);
    uint16_t n = pp_f32_to_f16(NAN);
    cr_assert((n & 0x7C00) == 0x7C00 && (n & 0x3FF) != 0, "NaN gave 0x%04x", n);
    cr_assert(isnan(pp_f16_to_f32(0x7E00)));
    cr_assert_eq(pp_f32_to_f16(0.f), 0x0000);
    cr_assert_eq(pp_f32_to_f16(-0.f), 0x8000);
    cr_assert_eq(pp_f32_to_f16(1.f), 0x3C00);
    cr_assert_eq(pp_f32_to_f16(-2.f), 0xC000);
    cr_assert_eq(pp_f32_to_f16(0x1p-14f), 0x0400);   /* smallest normal */
    cr_assert_eq(pp_f32_to_f16(0x1p-24f), 0x0001);   /* smallest subnormal */
    cr_assert_eq(pp_f32_to_f16(0x1p-25f), 0x0000);   /* tie between 0 and 2^-24: even */
    cr_assert_eq(pp_f32_to_f16(0x1.8p-25f), 0x0001); /* above the tie */
    cr_assert_eq(pp_f32_to_f16(0x1.8p-24f), 0x0002); /* 1.5 ulp: tie to even 2 */
    cr_assert_eq(pp_f32_to_f16(0x1p-30f), 0x0000);
    cr_assert_eq(pp_f32_to_f16(0x1.ffcp-15f), 0x0400);       /* largest subnormal + half: ties up into the normals */
    cr_assert_eq(pp_f32_to_f16(1.f + 0x1p-11f), 0x3C00);     /* tie, even stays */
    cr_assert_eq(pp_f32_to_f16(1.f + 3 * 0x1p-11f), 0x3C02); /* tie, odd rounds up */
    cr_assert_eq(pp_f32_to_f16(1.f + 0x1p-11f + 0x1p-20f), 0x3C01);
    cr_assert_eq(pp_f16_to_f32(0x7BFF), 65504.f);
    cr_assert_eq(pp_f16_to_f32(0x0001), 0x1p-24f);
    cr_assert_eq(pp_f16_to_f32(0x83FF), -0x3FFp-24f);
    cr_assert_eq(pp_f16_to_f32(0xFC00), -INFINITY);
}

Test(half, f16_round_trips_every_pattern) {
    for (uint32_t h = 0; h < 65536; h++) {
        float f = pp_f16_to_f32((uint16_t)h);
        uint16_t back = pp_f32_to_f16(f);
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) {
            cr_assert(isnan(f) && (back & 0x7C00) == 0x7C00 && (back & 0x3FF), "NaN 0x%04x", h);
            continue;
        }
        cr_assert_eq(back, h, "0x%04x → %g → 0x%04x", h, (double)f, back);
    }
    /* every f16 midpoint rounds to the even neighbour */
    for (uint32_t h = 0; h < 0x7BFF; h++) {
        float lo = pp_f16_to_f32((uint16_t)h), hi = pp_f16_to_f32((uint16_t)(h + 1));
        float mid = (float)(((double)lo + (double)hi) / 2);
        uint16_t want = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        cr_assert_eq(pp_f32_to_f16(mid), want, "midpoint after 0x%04x", h);
    }
}

Test(half, bf16_rounding_nan_inf) {
    cr_assert_eq(pp_f32_to_bf16(1.f), 0x3F80);
    cr_assert_eq(pp_f32_to_bf16(1.f + 0x1p-8f), 0x3F80);     /* tie, even stays */
    cr_assert_eq(pp_f32_to_bf16(1.f + 3 * 0x1p-8f), 0x3F82); /* tie, odd rounds up */
    cr_assert_eq(pp_f32_to_bf16(1.f + 0x1p-8f + 0x1p-20f), 0x3F81);
    cr_assert_eq(pp_f32_to_bf16(FLT_MAX), 0x7F80); /* rounds past the largest bf16: Inf */
    cr_assert_eq(pp_f32_to_bf16(-INFINITY), 0xFF80);
    cr_assert_eq(pp_f32_to_bf16(0x1p-133f), 0x0001); /* subnormal kept */
    uint16_t n = pp_f32_to_bf16(NAN);
    cr_assert((n & 0x7F80) == 0x7F80 && (n & 0x7F), "NaN gave 0x%04x", n);
    /* a NaN whose payload sits only in the low 16 bits must stay NaN */
    uint32_t u = 0x7F800001u;
    float snan;
    memcpy(&snan, &u, 4);
    n = pp_f32_to_bf16(snan);
    cr_assert((n & 0x7F80) == 0x7F80 && (n & 0x7F), "low-payload NaN gave 0x%04x", n);
    for (uint32_t h = 0; h < 65536; h++) {
        float f = pp_bf16_to_f32((uint16_t)h);
        cr_assert_eq(f32_bits(f), h << 16);
        if ((h & 0x7F80) == 0x7F80 && (h & 0x7F)) continue;
        cr_assert_eq(pp_f32_to_bf16(f), h, "0x%04x", h);
    }
}

/* ---- CAST ------------------------------------------------------------------------------------ */

static void *cast(const void *x, pp_dtype from, pp_dtype to, int64_t n) {
    tnode t;
    tn_init(&t, PP_OP_CAST, 1);
    tn_int(&t, "to", to);
    pp_shape in = make_shape(from, 1, &n), out;
    const void *inputs[1] = {x};
    void *y = run(&t, &in, inputs, &out, NULL);
    cr_assert_eq(out.dtype, to);
    EXPECT_DIMS(&out, n);
    return y;
}

Test(cast, float_to_int_truncates_saturates_and_maps_nan_to_zero) {
    const float x[] = {2.7f, -2.7f, 0.5f, -0.5f, NAN, 1e10f, -1e10f, INFINITY, -INFINITY, 300.f, -5.f};
    int32_t *i32 = cast(x, PP_DTYPE_F32, PP_DTYPE_I32, 11);
    const int32_t r32[] = {2, -2, 0, 0, 0, INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN, 300, -5};
    for (int i = 0; i < 11; i++) cr_assert_eq(i32[i], r32[i], "i32 [%d] = %d", i, i32[i]);
    free(i32);
    int64_t *i64 = cast(x, PP_DTYPE_F32, PP_DTYPE_I64, 11);
    const int64_t r64[] = {2, -2, 0, 0, 0, 10000000000LL, -10000000000LL, INT64_MAX, INT64_MIN, 300, -5};
    cr_assert_eq(pp_ref_compare_i64("f32→i64", i64, r64, 11), 0);
    free(i64);
    uint8_t *u8 = cast(x, PP_DTYPE_F32, PP_DTYPE_U8, 11);
    const uint8_t ru8[] = {2, 0, 0, 0, 0, 255, 0, 255, 0, 255, 0};
    cr_assert_eq(memcmp(u8, ru8, 11), 0);
    free(u8);
    int8_t *i8 = cast(x, PP_DTYPE_F32, PP_DTYPE_I8, 11);
    const int8_t ri8[] = {2, -2, 0, 0, 0, 127, -128, 127, -128, 127, -5};
    cr_assert_eq(memcmp(i8, ri8, 11), 0);
    free(i8);
    uint8_t *b = cast(x, PP_DTYPE_F32, PP_DTYPE_BOOL, 11);
    const uint8_t rb[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    cr_assert_eq(memcmp(b, rb, 11), 0);
    free(b);
    const float z[] = {0.f, -0.f};
    b = cast(z, PP_DTYPE_F32, PP_DTYPE_BOOL, 2);
    cr_assert(b[0] == 0 && b[1] == 0);
    free(b);
}

Test(cast, integers_wrap_and_widen) {
    const int64_t x[] = {((int64_t)1 << 32) + 5, -1, 300, INT64_MIN, 0};
    int32_t *i32 = cast(x, PP_DTYPE_I64, PP_DTYPE_I32, 5);
    const int32_t r32[] = {5, -1, 300, 0, 0};
    for (int i = 0; i < 5; i++) cr_assert_eq(i32[i], r32[i], "[%d] %d", i, i32[i]);
    int64_t *back = cast(i32, PP_DTYPE_I32, PP_DTYPE_I64, 5);
    const int64_t rb[] = {5, -1, 300, 0, 0};
    cr_assert_eq(pp_ref_compare_i64("i32→i64", back, rb, 5), 0);
    free(back);
    free(i32);
    uint8_t *u8 = cast(x, PP_DTYPE_I64, PP_DTYPE_U8, 5);
    const uint8_t ru8[] = {5, 255, 44, 0, 0};
    cr_assert_eq(memcmp(u8, ru8, 5), 0);
    free(u8);
    float *f = cast(x, PP_DTYPE_I64, PP_DTYPE_F32, 5);
    const float rf[] = {4294967301.f, -1.f, 300.f, -9223372036854775808.f, 0.f};
    cr_assert_eq(pp_ref_compare("i64→f32", f, rf, 5, 0, 0), 0);
    free(f);
    uint8_t *b = cast(x, PP_DTYPE_I64, PP_DTYPE_BOOL, 5);
    const uint8_t rbool[] = {1, 1, 1, 1, 0};
    cr_assert_eq(memcmp(b, rbool, 5), 0);
    free(b);
    const uint8_t bools[] = {0, 1, 2};
    float *fb = cast(bools, PP_DTYPE_BOOL, PP_DTYPE_F32, 3);
    cr_assert(fb[0] == 0.f && fb[1] == 1.f && fb[2] == 1.f);
    free(fb);
    int64_t *ib = cast(bools, PP_DTYPE_BOOL, PP_DTYPE_I64, 3);
    cr_assert(ib[0] == 0 && ib[1] == 1 && ib[2] == 1);
    free(ib);
    uint8_t *ub = cast(bools, PP_DTYPE_BOOL, PP_DTYPE_U8, 3);
    cr_assert(ub[0] == 0 && ub[1] == 1 && ub[2] == 1);
    free(ub);
}

Test(cast, half_types_and_f64_round_trip) {
    const float x[] = {1.f, -2.5f, 65504.f, 70000.f, 0x1p-24f, NAN, 1.f + 0x1p-8f, 0.f};
    uint16_t *h = cast(x, PP_DTYPE_F32, PP_DTYPE_F16, 8);
    for (int i = 0; i < 8; i++) cr_assert_eq(h[i], pp_f32_to_f16(x[i]), "[%d]", i);
    float *f = cast(h, PP_DTYPE_F16, PP_DTYPE_F32, 8);
    const float rf[] = {1.f, -2.5f, 65504.f, INFINITY, 0x1p-24f, NAN, 1.f + 0x1p-8f, 0.f};
    cr_assert_eq(pp_ref_compare("f16→f32", f, rf, 8, 0, 0), 0);
    free(f);
    int64_t *i = cast(h, PP_DTYPE_F16, PP_DTYPE_I64, 8);
    const int64_t ri[] = {1, -2, 65504, INT64_MAX, 0, 0, 1, 0};
    cr_assert_eq(pp_ref_compare_i64("f16→i64", i, ri, 8), 0);
    free(i);
    free(h);
    uint16_t *bf = cast(x, PP_DTYPE_F32, PP_DTYPE_BF16, 8);
    for (int k = 0; k < 8; k++) cr_assert_eq(bf[k], pp_f32_to_bf16(x[k]), "[%d]", k);
    float *fb = cast(bf, PP_DTYPE_BF16, PP_DTYPE_F32, 8);
    for (int k = 0; k < 8; k++) cr_assert(f32_bits(fb[k]) == (uint32_t)bf[k] << 16, "bf16→f32 [%d]", k);
    free(fb);
    uint16_t *h2 = cast(bf, PP_DTYPE_BF16, PP_DTYPE_F16, 8);
    cr_assert_eq(h2[0], 0x3C00);
    cr_assert_eq(h2[1], 0xC100);
    free(h2);
    free(bf);
    double *d = cast(x, PP_DTYPE_F32, PP_DTYPE_F64, 8);
    for (int k = 0; k < 8; k++) cr_assert(d[k] == (double)x[k] || (isnan(d[k]) && isnan(x[k])), "[%d]", k);
    float *f2 = cast(d, PP_DTYPE_F64, PP_DTYPE_F32, 8);
    cr_assert_eq(pp_ref_compare("f64→f32", f2, x, 8, 0, 0), 0);
    free(f2);
    free(d);
    const double big[] = {1e300, -1e300, 3.9999999999};
    int32_t *i32 = cast(big, PP_DTYPE_F64, PP_DTYPE_I32, 3);
    cr_assert(i32[0] == INT32_MAX && i32[1] == INT32_MIN && i32[2] == 3);
    free(i32);
}

Test(cast, large_f32_to_f16_matches_the_scalar_conversion) {
    const size_t n = 100003;
    float *x = malloc(n * sizeof(float));
    pp_ref_fill(x, n, 3, -70000.f, 70000.f);
    uint16_t *h = cast(x, PP_DTYPE_F32, PP_DTYPE_F16, (int64_t)n);
    for (size_t i = 0; i < n; i++) cr_assert_eq(h[i], pp_f32_to_f16(x[i]), "[%zu]", i);
    free(h);
    free(x);
}

Test(cast, describe_checks_the_target) {
    tnode t;
    tn_init(&t, PP_OP_CAST, 1);
    pp_shape in = F32(2);
    expect_error(&t, &in, PP_ERR_SHAPE, "'to'", NULL);
    tn_int(&t, "to", 99);
    expect_error(&t, &in, PP_ERR_UNSUPPORTED, "99", NULL);
}

/* test_kernels_compute.c: the compute kernels (conv, gemm, matmul, batchnorm,
 * pooling, softmax, layernorm, attention, reductions) and their describe
 * functions.
 *
 * Each case builds a node by hand, runs its describe function (shapes, params,
 * errors), runs the CPU kernel on seeded random data with guard cells after the
 * output, and compares against a naive reference written here from the ONNX
 * definition: direct convolution, triple-loop products, and so on, in double.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ops.h"
#include "kernels/act.h"
#include "kernels/cpu/cpu_kernels.h"
#include "support/ref.h"
#include "support/tnode.h"

#define ATOL 2e-5f
#define RTOL 1e-5f
#define GUARD 16
#define GUARD_VALUE 12345.678f

/* ---- building nodes and shapes ------------------------------------------- */

static void tn_act(tnode *t, pp_act_kind kind, double alpha, double beta) {
    tn_int(t, "activation", kind);
    tn_float(t, "act_alpha", alpha);
    tn_float(t, "act_beta", beta);
}

static const pp_shape ABSENT = {.dtype = PP_DTYPE_INVALID, .rank = 0};

static pp_code describe(tnode *t, const pp_shape *in, pp_shape *out, pp_op_params *p, pp_cost *cost, pp_error *err) {
    memset(err, 0, sizeof *err);
    return pp_op_describe(&t->node, in, out, p, cost, NULL, err);
}

/* Describe must fail with PP_ERR_SHAPE and a message holding each of the given
 * fragments. */
static void expect_shape_error(tnode *t, const pp_shape *in, const char *frag1, const char *frag2) {
    pp_shape out[1];
    pp_op_params p;
    pp_cost cost;
    pp_error err;
    pp_code rc = describe(t, in, out, &p, &cost, &err);
    cr_assert_eq(rc, PP_ERR_SHAPE, "expected a shape error, got %d (%s)", rc, err.msg);
    cr_assert(strstr(err.msg, "test_node") != NULL, "message lacks the node name: %s", err.msg);
    if (frag1) cr_assert(strstr(err.msg, frag1) != NULL, "message lacks '%s': %s", frag1, err.msg);
    if (frag2) cr_assert(strstr(err.msg, frag2) != NULL, "message lacks '%s': %s", frag2, err.msg);
}

static pp_cpu_kernel_fn kernel_for(pp_op op) {
    switch (op) {
    case PP_OP_CONV: return pp_cpu_conv;
    case PP_OP_GEMM: return pp_cpu_gemm;
    case PP_OP_MATMUL: return pp_cpu_matmul;
    case PP_OP_BATCHNORM: return pp_cpu_batchnorm;
    case PP_OP_MAXPOOL:
    case PP_OP_AVGPOOL:
    case PP_OP_GLOBAL_AVGPOOL:
    case PP_OP_GLOBAL_MAXPOOL: return pp_cpu_pool;
    case PP_OP_SOFTMAX:
    case PP_OP_LOG_SOFTMAX: return pp_cpu_softmax;
    case PP_OP_LAYERNORM: return pp_cpu_layernorm;
    case PP_OP_ATTENTION: return pp_cpu_attention;
    default: return pp_cpu_reduce;
    }
}

static size_t workspace_for(pp_op op, const pp_op_params *p) { return pp_cpu_workspace_size(op, p); }

static float *falloc(size_t n) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    cr_assert(x);
    return x;
}

static float *frand(size_t n, uint64_t seed) {
    float *x = falloc(n);
    pp_ref_fill(x, n, seed, -1.f, 1.f);
    return x;
}

/* Describes the node, checks it succeeds, runs the kernel into a fresh output
 * with guard cells, checks the guards. in_data has the op's max_in slots (NULL
 * for absent). Returns the output (caller frees); *out_shape and *params are set. */
static void *run(tnode *t, const pp_shape *in, const void *const *in_data, pp_shape *out_shape, pp_op_params *params) {
    pp_cost cost;
    pp_error err;
    pp_code rc = describe(t, in, out_shape, params, &cost, &err);
    cr_assert_eq(rc, PP_OK, "describe failed: %s", err.msg);
    cr_assert(cost.bytes > 0);
    size_t esz = pp_dtype_size(out_shape->dtype);
    size_t n = numel(out_shape);
    size_t bytes = n * esz;
    unsigned char *y = malloc(bytes + GUARD * sizeof(float));
    cr_assert(y);
    memset(y, 0xA5, bytes); /* garbage the kernel must overwrite */
    float guard[GUARD];
    for (int i = 0; i < GUARD; i++) guard[i] = GUARD_VALUE;
    memcpy(y + bytes, guard, sizeof guard);
    size_t ws_bytes = workspace_for(t->node.op, params);
    void *ws = ws_bytes ? malloc(ws_bytes) : NULL;
    if (ws_bytes) {
        cr_assert(ws);
        memset(ws, 0xA5, ws_bytes);
    }
    void *outs[1] = {y};
    int krc = kernel_for(t->node.op)(params, in_data, outs, ws);
    cr_assert_eq(krc, 0, "kernel returned %d", krc);
    cr_assert(memcmp(y + bytes, guard, sizeof guard) == 0, "the kernel wrote past its output");
    free(ws);
    return y;
}

static void check_close(const char *what, const float *out, const float *ref, size_t n, float atol, float rtol) {
    size_t bad = pp_ref_compare(what, out, ref, n, atol, rtol);
    cr_assert_eq(bad, 0, "%s: %zu of %zu elements mismatch (see stderr)", what, bad, n);
}

/* ---- CONV ---------------------------------------------------------------- */

typedef struct conv_case {
    const char *name;
    int64_t n, c, h, w, k, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g;
    int bias, residual;
    pp_act_kind act;
    float act_alpha, act_beta;
    const char *auto_pad; /* NULL: explicit pads; otherwise pt..pr are the pads it must resolve to */
    int rank3;            /* (N, C, L): h must be 1, kh 1, pt = pb = 0, sh = dh = 1 */
} conv_case;

static void ref_conv(const conv_case *cc, int64_t oh, int64_t ow, const float *x, const float *w, const float *b,
                     const float *res, float *y) {
    int64_t cg = cc->c / cc->g, kg = cc->k / cc->g;
    pp_act act = {cc->act, cc->act_alpha, cc->act_beta};
    for (int64_t n = 0; n < cc->n; n++)
        for (int64_t k = 0; k < cc->k; k++) {
            int64_t g = k / kg;
            for (int64_t oy = 0; oy < oh; oy++)
                for (int64_t ox = 0; ox < ow; ox++) {
                    double s = 0;
                    for (int64_t ci = 0; ci < cg; ci++)
                        for (int64_t ki = 0; ki < cc->kh; ki++)
                            for (int64_t kj = 0; kj < cc->kw; kj++) {
                                int64_t iy = oy * cc->sh - cc->pt + ki * cc->dh;
                                int64_t ix = ox * cc->sw - cc->pl + kj * cc->dw;
                                if (iy < 0 || iy >= cc->h || ix < 0 || ix >= cc->w) continue;
                                s += (double)x[((n * cc->c + g * cg + ci) * cc->h + iy) * cc->w + ix] *
                                     (double)w[((k * cg + ci) * cc->kh + ki) * cc->kw + kj];
                            }
                    int64_t o = ((n * cc->k + k) * oh + oy) * ow + ox;
                    if (b) s += b[k];
                    if (res) s += res[o];
                    y[o] = pp_act_apply(act, (float)s);
                }
        }
}

static void run_conv_case(const conv_case *cc) {
    int64_t oh = (cc->h + cc->pt + cc->pb - ((cc->kh - 1) * cc->dh + 1)) / cc->sh + 1;
    int64_t ow = (cc->w + cc->pl + cc->pr - ((cc->kw - 1) * cc->dw + 1)) / cc->sw + 1;
    tnode t;
    tn_init(&t, PP_OP_CONV, cc->residual ? 4 : (cc->bias ? 3 : 2));
    pp_shape in[4] = {ABSENT, ABSENT, ABSENT, ABSENT};
    if (cc->rank3) {
        in[0] = F32(cc->n, cc->c, cc->w);
        in[1] = F32(cc->k, cc->c / cc->g, cc->kw);
        TN_INTS(&t, "strides", cc->sw);
        TN_INTS(&t, "dilations", cc->dw);
        if (!cc->auto_pad) TN_INTS(&t, "pads", cc->pl, cc->pr);
    } else {
        in[0] = F32(cc->n, cc->c, cc->h, cc->w);
        in[1] = F32(cc->k, cc->c / cc->g, cc->kh, cc->kw);
        TN_INTS(&t, "strides", cc->sh, cc->sw);
        TN_INTS(&t, "dilations", cc->dh, cc->dw);
        TN_INTS(&t, "kernel_shape", cc->kh, cc->kw);
        if (!cc->auto_pad) TN_INTS(&t, "pads", cc->pt, cc->pl, cc->pb, cc->pr);
    }
    if (cc->auto_pad) tn_str(&t, "auto_pad", cc->auto_pad);
    tn_int(&t, "group", cc->g);
    if (cc->act != PP_ACT_NONE) tn_act(&t, cc->act, cc->act_alpha, cc->act_beta);
    size_t nx = (size_t)(cc->n * cc->c * cc->h * cc->w), nw = (size_t)(cc->k * (cc->c / cc->g) * cc->kh * cc->kw);
    size_t ny = (size_t)(cc->n * cc->k * oh * ow);
    float *x = frand(nx, 1), *w = frand(nw, 2), *b = NULL, *res = NULL;
    if (cc->bias) {
        in[2] = F32(cc->k);
        b = frand((size_t)cc->k, 3);
    }
    if (cc->residual) {
        in[3] = cc->rank3 ? F32(cc->n, cc->k, ow) : F32(cc->n, cc->k, oh, ow);
        res = frand(ny, 4);
    }
    const void *data[4] = {x, w, b, res};
    pp_shape ys;
    pp_op_params p;
    float *y = run(&t, in, data, &ys, &p);
    if (cc->rank3) EXPECT_DIMS(&ys, cc->n, cc->k, ow);
    else EXPECT_DIMS(&ys, cc->n, cc->k, oh, ow);
    cr_assert_eq(p.conv.pad_top, cc->pt);
    cr_assert_eq(p.conv.pad_left, cc->pl);
    cr_assert_eq(p.conv.pad_bottom, cc->pb);
    cr_assert_eq(p.conv.pad_right, cc->pr);
    float *ref = falloc(ny);
    ref_conv(cc, oh, ow, x, w, b, res, ref);
    check_close(cc->name, y, ref, ny, ATOL, RTOL);
    free(x);
    free(w);
    free(b);
    free(res);
    free(y);
    free(ref);
}

/*                       name                       n  c  h  w  k kh kw sh sw pt pl pb pr dh dw g  bias res act */
Test(conv, basic_3x3_pad1) {
    run_conv_case(
        &(conv_case){"3x3", 1, 3, 5, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, PP_ACT_NONE, 0, 0, NULL, 0});
}
Test(conv, single_pixel_1x1) {
    run_conv_case(
        &(conv_case){"1px", 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, PP_ACT_NONE, 0, 0, NULL, 0});
}
Test(conv, batch7_stride2_asym_pads_bias) {
    run_conv_case(
        &(conv_case){"b7s2", 7, 5, 9, 6, 7, 3, 2, 2, 2, 1, 0, 2, 1, 1, 1, 1, 1, 0, PP_ACT_NONE, 0, 0, NULL, 0});
}
Test(conv, non_square_stride_kernel) {
    run_conv_case(
        &(conv_case){"ns", 2, 3, 11, 8, 5, 5, 1, 3, 1, 2, 0, 1, 0, 1, 1, 1, 1, 0, PP_ACT_NONE, 0, 0, NULL, 0});
}
Test(conv, dilation2) {
    run_conv_case(
        &(conv_case){"dil2", 2, 3, 10, 9, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1, 0, PP_ACT_NONE, 0, 0, NULL, 0});
}
Test(conv, dilation_stride_mixed) {
    run_conv_case(
        &(conv_case){"dilmix", 3, 7, 13, 12, 5, 3, 2, 2, 3, 0, 1, 3, 0, 2, 3, 1, 0, 1, PP_ACT_RELU, 0, 0, NULL, 0});
}
Test(conv, groups2_bias_residual_relu) {
    run_conv_case(&(conv_case){"g2", 2, 6, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, PP_ACT_RELU, 0, 0, NULL, 0});
}
Test(conv, groups3_stride2) {
    run_conv_case(&(conv_case){"g3", 1, 9, 8, 9, 6, 3, 3, 2, 2, 0, 1, 1, 0, 1, 1, 3, 1, 0, PP_ACT_SILU, 0, 0, NULL, 0});
}
Test(conv, depthwise_bias_residual_clip) {
    run_conv_case(
        &(conv_case){"dw", 2, 5, 9, 8, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 5, 1, 1, PP_ACT_CLIP, 0.f, 0.5f, NULL, 0});
}
Test(conv, depthwise_dilated_asym) {
    run_conv_case(
        &(conv_case){"dwdil", 7, 3, 10, 11, 3, 3, 5, 1, 2, 2, 0, 1, 3, 2, 1, 3, 0, 0, PP_ACT_NONE, 0, 0, NULL, 0});
}
Test(conv, depthwise_multiplier2) { /* group == C but K = 2C: the general path */
    run_conv_case(
        &(conv_case){"dwm2", 2, 3, 6, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 0, PP_ACT_NONE, 0, 0, NULL, 0});
}
Test(conv, pointwise) {
    run_conv_case(
        &(conv_case){"pw", 3, 7, 5, 6, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, PP_ACT_SIGMOID, 0, 0, NULL, 0});
}
Test(conv, pointwise_grouped) {
    run_conv_case(
        &(conv_case){"pwg", 2, 6, 4, 3, 10, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, 0, 0, PP_ACT_NONE, 0, 0, NULL, 0});
}
Test(conv, pointwise_stride2_not_fast_path) {
    run_conv_case(
        &(conv_case){"pws2", 2, 5, 7, 6, 3, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1, 0, PP_ACT_NONE, 0, 0, NULL, 0});
}
Test(conv, pointwise_padded) {
    run_conv_case(
        &(conv_case){"pwpad", 1, 3, 4, 4, 2, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, PP_ACT_NONE, 0, 0, NULL, 0});
}
Test(conv, big_pads_beyond_kernel) {
    run_conv_case(
        &(conv_case){"bigpad", 1, 2, 3, 3, 2, 2, 2, 1, 1, 3, 3, 3, 3, 1, 1, 1, 1, 0, PP_ACT_NONE, 0, 0, NULL, 0});
}
Test(conv, large_im2col_through_sgemm_blocks) { /* CKK = 288 > KC, OH·OW = 2304 > NC */
    run_conv_case(
        &(conv_case){"large", 1, 32, 48, 48, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, PP_ACT_NONE, 0, 0, NULL, 0});
}
Test(conv, auto_pad_same_upper) { /* in 7, k 4, s 2: out 4, total pad 3 → 1 begin, 2 end */
    run_conv_case(
        &(conv_case){"su", 1, 3, 7, 7, 2, 4, 4, 2, 2, 1, 1, 2, 2, 1, 1, 1, 0, 0, PP_ACT_NONE, 0, 0, "SAME_UPPER", 0});
}
Test(conv, auto_pad_same_lower) { /* same sizes: 2 begin, 1 end */
    run_conv_case(
        &(conv_case){"sl", 1, 3, 7, 7, 2, 4, 4, 2, 2, 2, 2, 1, 1, 1, 1, 1, 0, 0, PP_ACT_NONE, 0, 0, "SAME_LOWER", 0});
}
Test(conv, auto_pad_same_upper_dilated_stride1) { /* k 3 dil 2: extent 5, total 4 → 2, 2 */
    run_conv_case(
        &(conv_case){"sud", 2, 2, 6, 5, 3, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1, 0, PP_ACT_NONE, 0, 0, "SAME_UPPER", 0});
}
Test(conv, auto_pad_valid) {
    run_conv_case(
        &(conv_case){"valid", 1, 3, 8, 7, 2, 3, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1, 0, 0, PP_ACT_NONE, 0, 0, "VALID", 0});
}
Test(conv, conv1d) {
    run_conv_case(
        &(conv_case){"1d", 3, 5, 1, 17, 4, 1, 3, 1, 2, 0, 1, 0, 2, 1, 2, 1, 1, 1, PP_ACT_TANH, 0, 0, NULL, 1});
}
Test(conv, conv1d_depthwise) {
    run_conv_case(
        &(conv_case){"1ddw", 2, 4, 1, 9, 4, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1, 4, 1, 0, PP_ACT_NONE, 0, 0, NULL, 1});
}
Test(conv, every_activation) {
    pp_act_kind kinds[] = {PP_ACT_RELU,      PP_ACT_CLIP, PP_ACT_SIGMOID,   PP_ACT_TANH,        PP_ACT_GELU,
                           PP_ACT_GELU_TANH, PP_ACT_SILU, PP_ACT_HARDSWISH, PP_ACT_HARDSIGMOID, PP_ACT_LEAKY_RELU};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        float a = kinds[i] == PP_ACT_CLIP ? -0.3f : (kinds[i] == PP_ACT_HARDSIGMOID ? 0.2f : 0.1f);
        float b = kinds[i] == PP_ACT_CLIP ? 0.4f : 0.5f;
        run_conv_case(
            &(conv_case){"act", 1, 3, 4, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, kinds[i], a, b, NULL, 0});
        run_conv_case(
            &(conv_case){"actdw", 1, 3, 4, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, kinds[i], a, b, NULL, 0});
    }
}

Test(conv, relu_by_hand) {
    /* x = [1 2; 3 4], w = [1 -1; -1 1]·1 (2×2, no pad): 1 - 2 - 3 + 4 = 0, +bias -0.5 → relu 0;
     * with bias 0.25 → 0.25 */
    tnode t;
    tn_init(&t, PP_OP_CONV, 3);
    tn_act(&t, PP_ACT_RELU, 0, 0);
    pp_shape in[3] = {F32(1, 1, 2, 2), F32(2, 1, 2, 2), F32(2)};
    float x[4] = {1, 2, 3, 4}, w[8] = {1, -1, -1, 1, 1, 1, 1, 1}, b[2] = {-0.5f, 0.25f};
    const void *data[4] = {x, w, b, NULL};
    pp_shape ys;
    pp_op_params p;
    float *y = run(&t, in, data, &ys, &p);
    EXPECT_DIMS(&ys, 1, 2, 1, 1);
    cr_assert_float_eq(y[0], 0.f, 1e-6);
    cr_assert_float_eq(y[1], 10.25f, 1e-6);
    free(y);
}

Test(conv, describe_cost_and_params) {
    tnode t;
    tn_init(&t, PP_OP_CONV, 2);
    TN_INTS(&t, "strides", 2, 2);
    TN_INTS(&t, "pads", 1, 1, 1, 1);
    tn_int(&t, "group", 2);
    pp_shape in[2] = {F32(2, 4, 8, 8), F32(6, 2, 3, 3)}, out[1];
    pp_op_params p;
    pp_cost cost;
    pp_error err;
    cr_assert_eq(describe(&t, in, out, &p, &cost, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out[0], 2, 6, 4, 4);
    cr_assert_eq(out[0].dtype, PP_DTYPE_F32);
    cr_assert_float_eq(cost.flops, 2.0 * 2 * 6 * 4 * 4 * 2 * 3 * 3, 1e-6);
    cr_assert_float_eq(cost.bytes, 4.0 * (2 * 4 * 8 * 8 + 6 * 2 * 3 * 3 + 2 * 6 * 4 * 4), 1e-6);
    cr_assert_eq(p.conv.group, 2);
    cr_assert_eq(p.conv.stride_h, 2);
    cr_assert_eq(p.conv.kh, 3);
}

Test(conv, describe_errors) {
    tnode t;
    tn_init(&t, PP_OP_CONV, 2);
    tn_int(&t, "group", 2);
    expect_shape_error(&t, (pp_shape[]){F32(1, 8, 5, 5), F32(4, 8, 3, 3)}, "input 1 (W): axis 1 is 8", "C/group = 4");
    expect_shape_error(&t, (pp_shape[]){F32(1, 7, 5, 5), F32(4, 3, 3, 3)}, "input 0 (X): axis 1 is 7", "group = 2");
    expect_shape_error(&t, (pp_shape[]){F32(1, 8, 5, 5), F32(5, 4, 3, 3)}, "input 1 (W): axis 0 is 5", NULL);
    expect_shape_error(&t, (pp_shape[]){F32(1, 8, 5, 5), F32(4, 4, 3)}, "input 1 (W): rank 3", "expected 4");
    expect_shape_error(&t, (pp_shape[]){F32(1, 8, 2, 5), F32(4, 4, 3, 3)}, "axis 2 is 2", "kernel extent 3");

    tn_init(&t, PP_OP_CONV, 2);
    TN_INTS(&t, "pads", 1, -1, 1, 1);
    expect_shape_error(&t, (pp_shape[]){F32(1, 3, 5, 5), F32(4, 3, 3, 3)}, "pads[1] is -1", NULL);
    tn_init(&t, PP_OP_CONV, 2);
    TN_INTS(&t, "pads", 1, 1);
    expect_shape_error(&t, (pp_shape[]){F32(1, 3, 5, 5), F32(4, 3, 3, 3)}, "pads has 2 values", "expected 4");
    tn_init(&t, PP_OP_CONV, 2);
    TN_INTS(&t, "strides", 0, 1);
    expect_shape_error(&t, (pp_shape[]){F32(1, 3, 5, 5), F32(4, 3, 3, 3)}, "strides[0] is 0", NULL);
    tn_init(&t, PP_OP_CONV, 2);
    TN_INTS(&t, "kernel_shape", 3, 5);
    expect_shape_error(&t, (pp_shape[]){F32(1, 3, 5, 5), F32(4, 3, 3, 3)}, "kernel_shape[1] is 5", "axis 3 is 3");

    tn_init(&t, PP_OP_CONV, 4);
    expect_shape_error(&t, (pp_shape[]){F32(1, 3, 5, 5), F32(4, 3, 3, 3), F32(5), ABSENT}, "input 2 (B): axis 0 is 5",
                       "K = 4");
    expect_shape_error(&t, (pp_shape[]){F32(1, 3, 5, 5), F32(4, 3, 3, 3), ABSENT, F32(1, 4, 3, 4)},
                       "input 3 (residual): axis 3 is 4", "OW = 3");
    expect_shape_error(&t, (pp_shape[]){SHAPE(PP_DTYPE_I64, 1, 3, 5, 5), F32(4, 3, 3, 3), ABSENT, ABSENT},
                       "input 0 (X): dtype i64", "f32");
}

/* ---- sgemm and GEMM ------------------------------------------------------ */

static void ref_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                      const float *b, int64_t ldb, float beta, const float *c0, float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++)
                s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (double)(tb ? b[j * ldb + p] : b[p * ldb + j]);
            double prev = beta == 0.f ? 0.0 : (double)beta * c0[i * ldc + j];
            c[i * ldc + j] = (float)(alpha * s + prev);
        }
}

/* C of ldc > n keeps its padding columns untouched. */
static void sgemm_case(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, float beta, int64_t pad) {
    int64_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    size_t na = (size_t)((ta ? k : m) * lda), nb = (size_t)((tb ? n : k) * ldb), nc = (size_t)(m * ldc);
    float *a = frand(na, 11), *b = frand(nb, 12), *c = frand(nc, 13), *c0 = falloc(nc), *ref = falloc(nc);
    memcpy(c0, c, nc * sizeof(float));
    memcpy(ref, c, nc * sizeof(float));
    if (beta == 0.f)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = NAN; /* beta = 0 must not read C */
    ref_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, ref, ldc);
    pp_cpu_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    char what[96];
    snprintf(what, sizeof what, "sgemm ta=%d tb=%d m=%lld n=%lld k=%lld", ta, tb, (long long)m, (long long)n,
             (long long)k);
    check_close(what, c, ref, nc, 1e-5f * (float)(k > 16 ? k / 4 : 4), RTOL);
    free(a);
    free(b);
    free(c);
    free(c0);
    free(ref);
}

Test(sgemm, every_transpose_odd_sizes) {
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            sgemm_case(ta, tb, 37, 53, 29, 1.f, 0.f, 0);
            sgemm_case(ta, tb, 5, 3, 7, 0.5f, 2.f, 3);
            sgemm_case(ta, tb, 1, 1, 1, 1.f, 1.f, 0);
            sgemm_case(ta, tb, 1, 19, 33, -1.5f, 0.f, 1);
            sgemm_case(ta, tb, 21, 1, 5, 1.f, -1.f, 0);
            sgemm_case(ta, tb, 2, 9, 21, 1.f, 0.f, 2);
            sgemm_case(ta, tb, 3, 40, 70, 2.f, 1.f, 0);
        }
}

Test(sgemm, across_block_boundaries) {
    /* m > MC, n > NC, k > KC in the C path; OpenBLAS takes any size */
    sgemm_case(0, 0, 133, 2065, 260, 1.f, 0.f, 0);
    sgemm_case(1, 1, 131, 70, 520, 0.75f, 0.5f, 2);
}

Test(sgemm, degenerate_k0_alpha0) {
    float c[6] = {1, 2, 3, 4, 5, 6}, a[1] = {7}, b[1] = {8};
    pp_cpu_sgemm(0, 0, 2, 3, 0, 1.f, a, 1, b, 3, 2.f, c, 3);
    for (int i = 0; i < 6; i++) cr_assert_float_eq(c[i], 2.f * (float)(i + 1), 1e-6);
    pp_cpu_sgemm(0, 0, 2, 3, 1, 0.f, a, 1, b, 3, 0.f, c, 3);
    for (int i = 0; i < 6; i++) cr_assert_float_eq(c[i], 0.f, 1e-6);
    pp_cpu_sgemm(0, 0, 0, 3, 1, 1.f, a, 1, b, 3, 0.f, c, 3); /* m = 0: nothing */
}

typedef enum c_kind { C_NONE, C_SCALAR, C_N, C_1N, C_M1, C_MN, C_11, C_1 } c_kind;

static void gemm_case(int ta, int tb, int64_t m, int64_t n, int64_t k, c_kind ck, float alpha, float beta,
                      pp_act_kind act) {
    tnode t;
    tn_init(&t, PP_OP_GEMM, ck == C_NONE ? 2 : 3);
    tn_int(&t, "transA", ta);
    tn_int(&t, "transB", tb);
    tn_float(&t, "alpha", alpha);
    tn_float(&t, "beta", beta);
    if (act != PP_ACT_NONE) tn_act(&t, act, 0.1, 0);
    pp_shape in[3] = {ta ? F32(k, m) : F32(m, k), tb ? F32(n, k) : F32(k, n), ABSENT};
    int64_t csm = 0, csn = 0;
    switch (ck) {
    case C_NONE: break;
    case C_SCALAR: in[2] = make_shape(PP_DTYPE_F32, 0, NULL); break;
    case C_N: in[2] = F32(n), csn = 1; break;
    case C_1: in[2] = F32(1); break;
    case C_1N: in[2] = F32(1, n), csn = 1; break;
    case C_M1: in[2] = F32(m, 1), csm = 1; break;
    case C_MN: in[2] = F32(m, n), csm = n, csn = 1; break;
    case C_11: in[2] = F32(1, 1); break;
    }
    float *a = frand((size_t)(m * k), 21), *b = frand((size_t)(k * n), 22);
    float *c = ck == C_NONE ? NULL : frand(numel(&in[2]), 23);
    const void *data[3] = {a, b, c};
    pp_shape ys;
    pp_op_params p;
    float *y = run(&t, in, data, &ys, &p);
    EXPECT_DIMS(&ys, m, n);
    float *ref = falloc((size_t)(m * n));
    pp_act pa = {act, 0.1f, 0};
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t q = 0; q < k; q++)
                s += (double)(ta ? a[q * m + i] : a[i * k + q]) * (double)(tb ? b[j * k + q] : b[q * n + j]);
            s *= alpha;
            if (c) s += (double)beta * c[i * csm + j * csn];
            ref[i * n + j] = pp_act_apply(pa, (float)s);
        }
    char what[96];
    snprintf(what, sizeof what, "gemm ta=%d tb=%d C kind %d", ta, tb, (int)ck);
    check_close(what, y, ref, (size_t)(m * n), ATOL, RTOL);
    free(a);
    free(b);
    free(c);
    free(y);
    free(ref);
}

Test(gemm, every_transpose_every_c_broadcast) {
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int ck = C_NONE; ck <= C_1; ck++) gemm_case(ta, tb, 7, 5, 3, (c_kind)ck, 1.5f, 0.5f, PP_ACT_NONE);
}

Test(gemm, linear_layer_relu_and_leaky) {
    gemm_case(0, 1, 3, 10, 64, C_N, 1.f, 1.f, PP_ACT_RELU);
    gemm_case(0, 1, 1, 33, 17, C_N, 1.f, 1.f, PP_ACT_LEAKY_RELU);
    gemm_case(1, 0, 64, 70, 9, C_MN, -1.f, 0.f, PP_ACT_NONE); /* beta 0: C ignored */
}

Test(gemm, describe_errors) {
    tnode t;
    tn_init(&t, PP_OP_GEMM, 3);
    tn_int(&t, "transB", 1);
    expect_shape_error(&t, (pp_shape[]){F32(4, 6), F32(5, 7), ABSENT}, "input 1 (B): axis 1 is 7", "K = 6");
    expect_shape_error(&t, (pp_shape[]){F32(4, 6), F32(5, 6), F32(3, 5)}, "input 2 (C): axis 0 is 3", "M = 4");
    expect_shape_error(&t, (pp_shape[]){F32(4, 6), F32(5, 6), F32(4)}, "input 2 (C): axis 0 is 4", "N = 5");
    expect_shape_error(&t, (pp_shape[]){F32(4, 6, 1), F32(5, 6), ABSENT}, "input 0 (A): rank 3", NULL);
}

/* ---- MATMUL -------------------------------------------------------------- */

/* NumPy matmul in double over shapes a, b (1-D promoted), checking the kernel. */
static void matmul_case(pp_shape sa, pp_shape sb, const int64_t *want, int want_rank) {
    tnode t;
    tn_init(&t, PP_OP_MATMUL, 2);
    pp_shape in[2] = {sa, sb};
    float *a = frand(numel(&sa), 31), *b = frand(numel(&sb), 32);
    const void *data[2] = {a, b};
    pp_shape ys;
    pp_op_params p;
    float *y = run(&t, in, data, &ys, &p);
    expect_dims(&ys, want_rank, want);
    /* promoted operands: (.., M, K) and (.., K, N), batch dims right-aligned */
    pp_shape pa = sa, pb = sb;
    if (pa.rank == 1) pa = F32(1, sa.dims[0]);
    if (pb.rank == 1) pb = F32(sb.dims[0], 1);
    int64_t m = pa.dims[pa.rank - 2], k = pa.dims[pa.rank - 1], n = pb.dims[pb.rank - 1];
    int ba = pa.rank - 2, bb = pb.rank - 2, br = ba > bb ? ba : bb;
    int64_t bd[PP_MAX_RANK], batch = 1;
    for (int d = 0; d < br; d++) {
        int ia = d - (br - ba), ib = d - (br - bb);
        int64_t da = ia >= 0 ? pa.dims[ia] : 1, db = ib >= 0 ? pb.dims[ib] : 1;
        bd[d] = da > db ? da : db;
        batch *= bd[d];
    }
    float *ref = falloc((size_t)(batch * m * n));
    for (int64_t bi = 0; bi < batch; bi++) {
        int64_t rem = bi, oa = 0, ob = 0, sta = 1, stb = 1, idx[PP_MAX_RANK];
        for (int d = br - 1; d >= 0; d--) {
            idx[d] = rem % bd[d];
            rem /= bd[d];
        }
        for (int d = br - 1; d >= 0; d--) {
            int ia = d - (br - ba), ib = d - (br - bb);
            if (ia >= 0) {
                oa += (pa.dims[ia] == 1 ? 0 : idx[d]) * sta;
                sta *= pa.dims[ia];
            }
            if (ib >= 0) {
                ob += (pb.dims[ib] == 1 ? 0 : idx[d]) * stb;
                stb *= pb.dims[ib];
            }
        }
        const float *am = a + oa * m * k, *bm = b + ob * k * n;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0;
                for (int64_t q = 0; q < k; q++) s += (double)am[i * k + q] * bm[q * n + j];
                ref[(bi * m + i) * n + j] = (float)s;
            }
    }
    check_close("matmul", y, ref, (size_t)(batch * m * n), 1e-5f * (float)(k > 16 ? k / 4 : 4), RTOL);
    free(a);
    free(b);
    free(y);
    free(ref);
}
#define MATMUL(sa, sb, ...)                                                                                            \
    matmul_case(sa, sb, (int64_t[]){__VA_ARGS__}, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))

Test(matmul, broadcast_batch_dims) { MATMUL(F32(2, 1, 3, 4), F32(5, 4, 6), 2, 5, 3, 6); }
Test(matmul, broadcast_a_side) { MATMUL(F32(1, 4, 5), F32(3, 5, 2), 3, 4, 2); }
Test(matmul, plain_2d) { MATMUL(F32(7, 3), F32(3, 5), 7, 5); }
Test(matmul, vector_matrix) { MATMUL(F32(4), F32(3, 4, 5), 3, 5); }
Test(matmul, matrix_vector) { MATMUL(F32(2, 3, 4), F32(4), 2, 3); }
Test(matmul, vector_vector) { matmul_case(F32(6), F32(6), NULL, 0); }
Test(matmul, shared_weight_collapses) { MATMUL(F32(2, 3, 5, 7), F32(7, 9), 2, 3, 5, 9); }
Test(matmul, many_small_heads) { MATMUL(F32(3, 4, 9, 8), F32(3, 4, 8, 9), 3, 4, 9, 9); }
Test(matmul, large_through_sgemm) { MATMUL(F32(2, 70, 300), F32(2, 300, 65), 2, 70, 65); }
Test(matmul, batch_dims_of_one) { MATMUL(F32(1, 1, 2, 3), F32(1, 3, 3, 2), 1, 3, 2, 2); }

Test(matmul, describe_errors) {
    tnode t;
    tn_init(&t, PP_OP_MATMUL, 2);
    expect_shape_error(&t, (pp_shape[]){F32(2, 3, 4), F32(2, 5, 6)}, "input 1 (B): axis 1 is 5", "K = 4");
    expect_shape_error(&t, (pp_shape[]){F32(2, 3, 4), F32(3, 4, 6)}, "batch axis 0", "do not broadcast");
    expect_shape_error(&t, (pp_shape[]){F32(4), F32(5)}, "input 1 (B): axis 0 is 5", "K = 4");
}

/* ---- BATCHNORM ----------------------------------------------------------- */

static void batchnorm_case(pp_shape xs) {
    tnode t;
    tn_init(&t, PP_OP_BATCHNORM, 5);
    tn_float(&t, "epsilon", 1e-3);
    int64_t c = xs.dims[1];
    pp_shape in[5] = {xs, F32(c), F32(c), F32(c), F32(c)};
    size_t nx = numel(&xs);
    float *x = frand(nx, 41), *scale = frand((size_t)c, 42), *bias = frand((size_t)c, 43), *mean = frand((size_t)c, 44);
    float *var = falloc((size_t)c);
    pp_ref_fill(var, (size_t)c, 45, 0.f, 2.f);
    const void *data[5] = {x, scale, bias, mean, var};
    pp_shape ys;
    pp_op_params p;
    float *y = run(&t, in, data, &ys, &p);
    expect_dims(&ys, xs.rank, xs.dims);
    size_t sp = nx / (size_t)(xs.dims[0] * c);
    float *ref = falloc(nx);
    for (size_t i = 0; i < nx; i++) {
        size_t ch = (i / sp) % (size_t)c;
        ref[i] = (float)(((double)x[i] - mean[ch]) / sqrt((double)var[ch] + 1e-3) * scale[ch] + bias[ch]);
    }
    check_close("batchnorm", y, ref, nx, ATOL, RTOL);
    free(x);
    free(scale);
    free(bias);
    free(mean);
    free(var);
    free(y);
    free(ref);
}

Test(batchnorm, nchw_batch7) { batchnorm_case(F32(7, 5, 3, 4)); }
Test(batchnorm, rank2) { batchnorm_case(F32(3, 7)); }
Test(batchnorm, rank3) { batchnorm_case(F32(2, 3, 11)); }

Test(batchnorm, describe_errors) {
    tnode t;
    tn_init(&t, PP_OP_BATCHNORM, 5);
    expect_shape_error(&t, (pp_shape[]){F32(2, 3, 4, 4), F32(3), F32(3), F32(4), F32(3)},
                       "input 3 (input_mean): axis 0 is 4", "C = 3");
    expect_shape_error(&t, (pp_shape[]){F32(3), F32(3), F32(3), F32(3), F32(3)}, "input 0 (X): rank 1", NULL);
}

/* ---- pooling ------------------------------------------------------------- */

typedef struct pool_case {
    pp_op op;
    int64_t n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
    int ceil_mode, count_include_pad;
    int64_t oh, ow; /* expected output, worked out by hand */
} pool_case;

static void ref_pool(const pool_case *pc, const float *x, float *y) {
    int is_max = pc->op == PP_OP_MAXPOOL || pc->op == PP_OP_GLOBAL_MAXPOOL;
    for (int64_t pl = 0; pl < pc->n * pc->c; pl++)
        for (int64_t oy = 0; oy < pc->oh; oy++)
            for (int64_t ox = 0; ox < pc->ow; ox++) {
                double s = 0, mx = -INFINITY;
                int64_t cnt = 0, cnt_pad = 0;
                for (int64_t ki = 0; ki < pc->kh; ki++)
                    for (int64_t kj = 0; kj < pc->kw; kj++) {
                        int64_t iy = oy * pc->sh - pc->pt + ki * pc->dh, ix = ox * pc->sw - pc->pl + kj * pc->dw;
                        /* a tap inside the explicitly padded extent counts with count_include_pad */
                        if (iy >= -pc->pt && iy < pc->h + pc->pb && ix >= -pc->pl && ix < pc->w + pc->pr) cnt_pad++;
                        if (iy < 0 || iy >= pc->h || ix < 0 || ix >= pc->w) continue;
                        double v = x[(pl * pc->h + iy) * pc->w + ix];
                        s += v;
                        cnt++;
                        if (v > mx) mx = v;
                    }
                double r = is_max ? mx : s / (double)(pc->count_include_pad ? cnt_pad : cnt);
                y[(pl * pc->oh + oy) * pc->ow + ox] = (float)r;
            }
}

static void run_pool_case(const pool_case *pc, float lo, float hi) {
    tnode t;
    tn_init(&t, pc->op, 1);
    int global = pc->op == PP_OP_GLOBAL_AVGPOOL || pc->op == PP_OP_GLOBAL_MAXPOOL;
    if (!global) {
        TN_INTS(&t, "kernel_shape", pc->kh, pc->kw);
        TN_INTS(&t, "strides", pc->sh, pc->sw);
        TN_INTS(&t, "pads", pc->pt, pc->pl, pc->pb, pc->pr);
        TN_INTS(&t, "dilations", pc->dh, pc->dw);
        tn_int(&t, "ceil_mode", pc->ceil_mode);
        if (pc->op == PP_OP_AVGPOOL) tn_int(&t, "count_include_pad", pc->count_include_pad);
    }
    pp_shape in[1] = {F32(pc->n, pc->c, pc->h, pc->w)};
    size_t nx = numel(&in[0]), ny = (size_t)(pc->n * pc->c * pc->oh * pc->ow);
    float *x = falloc(nx);
    pp_ref_fill(x, nx, 51, lo, hi);
    const void *data[1] = {x};
    pp_shape ys;
    pp_op_params p;
    float *y = run(&t, in, data, &ys, &p);
    EXPECT_DIMS(&ys, pc->n, pc->c, pc->oh, pc->ow);
    float *ref = falloc(ny);
    ref_pool(pc, x, ref);
    check_close("pool", y, ref, ny, ATOL, RTOL);
    free(x);
    free(y);
    free(ref);
}

/*                                       op   n  c  h  w kh kw sh sw pt pl pb pr dh dw ceil cip  oh ow */
Test(pool, maxpool_resnet_stem) {
    run_pool_case(&(pool_case){PP_OP_MAXPOOL, 2, 3, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 4, 4}, -1, 1);
}
Test(pool, padding_never_wins_max) { /* all inputs negative: a padded 0 must not appear */
    run_pool_case(&(pool_case){PP_OP_MAXPOOL, 1, 5, 5, 6, 3, 2, 1, 2, 1, 1, 1, 1, 1, 1, 0, 0, 5, 4}, -2, -1);
}
Test(pool, maxpool_ceil_mode) { /* h 6: (6-3)/2+1 = 2 floor, 3 ceil; w 7: 3 either way */
    run_pool_case(&(pool_case){PP_OP_MAXPOOL, 2, 3, 6, 7, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1, 0, 3, 3}, -1, 1);
}
Test(pool, ceil_mode_last_window_rule) {
    /* h 5, k 2, s 2, pad 1+1: span 5, ceil → 4, but window 3 starts at 6-1 = 5 ≥ h + pad_top = 6? no:
     * (4-1)·2 = 6 ≥ 5 + 1 → drop to 3. w 4, k 3, s 3, pads 1,1: span 3 → ceil 2, (2-1)·3 = 3 < 5 → 2. */
    run_pool_case(&(pool_case){PP_OP_MAXPOOL, 1, 2, 5, 4, 2, 3, 2, 3, 1, 1, 1, 1, 1, 1, 1, 0, 3, 2}, -1, 1);
    run_pool_case(&(pool_case){PP_OP_AVGPOOL, 1, 2, 5, 4, 2, 3, 2, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 2}, -1, 1);
    run_pool_case(&(pool_case){PP_OP_AVGPOOL, 1, 2, 5, 4, 2, 3, 2, 3, 1, 1, 1, 1, 1, 1, 1, 0, 3, 2}, -1, 1);
}
Test(pool, maxpool_dilation2) {
    run_pool_case(&(pool_case){PP_OP_MAXPOOL, 2, 3, 9, 8, 3, 2, 1, 2, 1, 0, 1, 1, 2, 2, 0, 0, 7, 4}, -1, 1);
}
Test(pool, avgpool_count_include_pad_both) {
    run_pool_case(&(pool_case){PP_OP_AVGPOOL, 7, 3, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 4, 3}, -1, 1);
    run_pool_case(&(pool_case){PP_OP_AVGPOOL, 7, 3, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1, 4, 3}, -1, 1);
}
Test(pool, avgpool_asym_pads_ceil) { /* h 6 k 3 s 2 pads 0,2: span 5 → ceil 4, (3)·2 = 6 ≥ 6 → 3 */
    run_pool_case(&(pool_case){PP_OP_AVGPOOL, 1, 5, 6, 6, 3, 2, 2, 2, 0, 1, 2, 0, 1, 1, 1, 1, 3, 4}, -1, 1);
    run_pool_case(&(pool_case){PP_OP_AVGPOOL, 1, 5, 6, 6, 3, 2, 2, 2, 0, 1, 2, 0, 1, 1, 1, 0, 3, 4}, -1, 1);
}
Test(pool, avgpool_ceil_overhang_beyond_pad) {
    /* h 4, k 3, s 2, no pads, ceil: out 2; window 1 covers rows 2..4, row 4 is past the input and
     * past any padding, so it never counts, even with count_include_pad */
    run_pool_case(&(pool_case){PP_OP_AVGPOOL, 1, 1, 4, 4, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2}, -1, 1);
}
Test(pool, global_avg_and_max) {
    run_pool_case(&(pool_case){PP_OP_GLOBAL_AVGPOOL, 7, 5, 6, 3, 6, 3, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1}, -1, 1);
    run_pool_case(&(pool_case){PP_OP_GLOBAL_MAXPOOL, 2, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1}, -1, 1);
    run_pool_case(&(pool_case){PP_OP_GLOBAL_MAXPOOL, 2, 3, 5, 7, 5, 7, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1}, -3, -2);
}

Test(pool, auto_pad_same_upper_and_rank3) {
    tnode t;
    tn_init(&t, PP_OP_MAXPOOL, 1);
    TN_INTS(&t, "kernel_shape", 2, 3);
    TN_INTS(&t, "strides", 2, 2);
    tn_str(&t, "auto_pad", "SAME_UPPER");
    pp_shape in[1] = {F32(1, 2, 5, 6)}, out[1];
    pp_op_params p;
    pp_cost cost;
    pp_error err;
    cr_assert_eq(describe(&t, in, out, &p, &cost, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out[0], 1, 2, 3, 3);
    /* h: out 3, total (3-1)·2 + 2 - 5 = 1 → 0 top, 1 bottom; w: total (2)·2 + 3 - 6 = 1 → 0, 1 */
    cr_assert_eq(p.pool.pad_top, 0);
    cr_assert_eq(p.pool.pad_bottom, 1);
    cr_assert_eq(p.pool.pad_left, 0);
    cr_assert_eq(p.pool.pad_right, 1);

    tn_init(&t, PP_OP_AVGPOOL, 1);
    TN_INTS(&t, "kernel_shape", 3);
    TN_INTS(&t, "strides", 2);
    TN_INTS(&t, "pads", 1, 1);
    tn_int(&t, "count_include_pad", 1);
    pp_shape in3[1] = {F32(2, 3, 9)};
    float x[54];
    pp_ref_fill(x, 54, 52, -1, 1);
    const void *data[1] = {x};
    pp_shape ys;
    float *y = run(&t, in3, data, &ys, &p);
    EXPECT_DIMS(&ys, 2, 3, 5);
    for (int pl = 0; pl < 6; pl++)
        for (int o = 0; o < 5; o++) {
            double s = 0;
            for (int q = 0; q < 3; q++) {
                int ix = o * 2 - 1 + q;
                if (ix >= 0 && ix < 9) s += x[pl * 9 + ix];
            }
            cr_assert_float_eq(y[pl * 5 + o], (float)(s / 3), 1e-6);
        }
    free(y);

    tn_init(&t, PP_OP_GLOBAL_AVGPOOL, 1);
    cr_assert_eq(describe(&t, in3, out, &p, &cost, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out[0], 2, 3, 1);
}

Test(pool, describe_errors) {
    tnode t;
    tn_init(&t, PP_OP_MAXPOOL, 1);
    expect_shape_error(&t, (pp_shape[]){F32(1, 2, 5, 5)}, "kernel_shape is required", NULL);
    TN_INTS(&t, "kernel_shape", 3, 3);
    TN_INTS(&t, "pads", 0, 3, 0, 0);
    expect_shape_error(&t, (pp_shape[]){F32(1, 2, 5, 5)}, "pads[1] is 3", "kernel_shape[1] = 3");
    tn_init(&t, PP_OP_MAXPOOL, 1);
    TN_INTS(&t, "kernel_shape", 3, 3);
    expect_shape_error(&t, (pp_shape[]){F32(1, 2, 2, 5)}, "axis 2 is 2", "kernel extent 3");
    expect_shape_error(&t, (pp_shape[]){F32(2, 5)}, "input 0 (X): rank 2", NULL);
    tn_init(&t, PP_OP_MAXPOOL, 1);
    TN_INTS(&t, "kernel_shape", 3, 3);
    tn_str(&t, "auto_pad", "SAME_MIDDLE");
    pp_shape out[1];
    pp_op_params p;
    pp_cost cost;
    pp_error err;
    cr_assert_eq(describe(&t, (pp_shape[]){F32(1, 2, 5, 5)}, out, &p, &cost, &err), PP_ERR_UNSUPPORTED);
    cr_assert(strstr(err.msg, "auto_pad") != NULL, "%s", err.msg);
}

/* ---- SOFTMAX ------------------------------------------------------------- */

static void softmax_case(pp_op op, pp_shape xs, int64_t axis, float lo, float hi) {
    tnode t;
    tn_init(&t, op, 1);
    tn_int(&t, "axis", axis);
    pp_shape in[1] = {xs};
    size_t n = numel(&xs);
    float *x = falloc(n);
    pp_ref_fill(x, n, 61, lo, hi);
    const void *data[1] = {x};
    pp_shape ys;
    pp_op_params p;
    float *y = run(&t, in, data, &ys, &p);
    expect_dims(&ys, xs.rank, xs.dims);
    int a = (int)(axis < 0 ? axis + xs.rank : axis);
    int64_t outer = 1, len = xs.dims[a], inner = 1;
    for (int d = 0; d < a; d++) outer *= xs.dims[d];
    for (int d = a + 1; d < xs.rank; d++) inner *= xs.dims[d];
    float *ref = falloc(n);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double mx = -INFINITY, s = 0;
            for (int64_t j = 0; j < len; j++) mx = fmax(mx, x[(o * len + j) * inner + i]);
            for (int64_t j = 0; j < len; j++) s += exp(x[(o * len + j) * inner + i] - mx);
            for (int64_t j = 0; j < len; j++) {
                double v = x[(o * len + j) * inner + i] - mx;
                ref[(o * len + j) * inner + i] = (float)(op == PP_OP_LOG_SOFTMAX ? v - log(s) : exp(v) / s);
            }
        }
    check_close(op == PP_OP_SOFTMAX ? "softmax" : "log_softmax", y, ref, n, ATOL, RTOL);
    free(x);
    free(y);
    free(ref);
}

Test(softmax, every_axis) {
    for (int64_t axis = -3; axis < 3; axis++) {
        softmax_case(PP_OP_SOFTMAX, F32(3, 4, 5), axis, -3, 3);
        softmax_case(PP_OP_LOG_SOFTMAX, F32(3, 4, 5), axis, -3, 3);
    }
    softmax_case(PP_OP_SOFTMAX, F32(7, 1), 1, -3, 3);
    softmax_case(PP_OP_SOFTMAX, F32(13), 0, -3, 3);
}

Test(softmax, large_values_are_stable) {
    softmax_case(PP_OP_SOFTMAX, F32(2, 9), -1, 1000, 1010);
    softmax_case(PP_OP_LOG_SOFTMAX, F32(2, 9), -1, -1010, -1000);
}

Test(softmax, default_axis_is_last_and_minus_inf) {
    tnode t;
    tn_init(&t, PP_OP_SOFTMAX, 1);
    pp_shape in[1] = {F32(2, 3)};
    float x[6] = {0, -INFINITY, 0, 1, 2, 3};
    const void *data[1] = {x};
    pp_shape ys;
    pp_op_params p;
    float *y = run(&t, in, data, &ys, &p);
    cr_assert_eq(p.softmax.axis_len, 3);
    cr_assert_eq(p.softmax.inner, 1);
    float e = expf(1.f), s = 1 + e + e * e;
    float want[6] = {0.5f, 0.f, 0.5f, 1 / s, e / s, e * e / s};
    check_close("softmax -inf", y, want, 6, 1e-6f, 1e-6f);
    free(y);
}

Test(softmax, describe_errors) {
    tnode t;
    tn_init(&t, PP_OP_SOFTMAX, 1);
    tn_int(&t, "axis", 3);
    expect_shape_error(&t, (pp_shape[]){F32(2, 3, 4)}, "axis 3 is out of range for rank 3", NULL);
}

/* ---- LAYERNORM ----------------------------------------------------------- */

static void layernorm_case(pp_shape xs, int64_t axis, int with_bias, float lo, float hi, int set_attrs) {
    tnode t;
    tn_init(&t, PP_OP_LAYERNORM, with_bias ? 3 : 2);
    if (set_attrs) {
        tn_int(&t, "axis", axis);
        tn_float(&t, "epsilon", 1e-3);
    }
    double eps = set_attrs ? 1e-3 : 1e-5;
    int a = (int)(axis < 0 ? axis + xs.rank : axis);
    int64_t rows = 1, cols = 1;
    for (int d = 0; d < a; d++) rows *= xs.dims[d];
    for (int d = a; d < xs.rank; d++) cols *= xs.dims[d];
    pp_shape ss = make_shape(PP_DTYPE_F32, xs.rank - a, xs.dims + a);
    pp_shape in[3] = {xs, ss, with_bias ? ss : ABSENT};
    size_t n = numel(&xs);
    float *x = falloc(n), *scale = frand((size_t)cols, 72), *bias = with_bias ? frand((size_t)cols, 73) : NULL;
    pp_ref_fill(x, n, 71, lo, hi);
    const void *data[3] = {x, scale, bias};
    pp_shape ys;
    pp_op_params p;
    float *y = run(&t, in, data, &ys, &p);
    expect_dims(&ys, xs.rank, xs.dims);
    cr_assert_eq(p.layernorm.rows, rows);
    cr_assert_eq(p.layernorm.cols, cols);
    float *ref = falloc(n);
    for (int64_t r = 0; r < rows; r++) {
        long double s = 0, q = 0;
        for (int64_t j = 0; j < cols; j++) s += x[r * cols + j];
        long double mean = s / cols;
        for (int64_t j = 0; j < cols; j++) q += (x[r * cols + j] - mean) * (x[r * cols + j] - mean);
        long double inv = 1.0L / sqrtl(q / cols + eps);
        for (int64_t j = 0; j < cols; j++)
            ref[r * cols + j] = (float)((x[r * cols + j] - mean) * inv * scale[j] + (bias ? bias[j] : 0));
    }
    check_close("layernorm", y, ref, n, 1e-4f, 1e-4f);
    free(x);
    free(scale);
    free(bias);
    free(y);
    free(ref);
}

Test(layernorm, last_axis_with_bias) { layernorm_case(F32(2, 3, 8), -1, 1, -2, 2, 1); }
Test(layernorm, two_axes_no_bias) { layernorm_case(F32(7, 3, 5), 1, 0, -2, 2, 1); }
Test(layernorm, defaults) { layernorm_case(F32(4, 33), -1, 1, -2, 2, 0); }
Test(layernorm, large_offset_small_spread) { layernorm_case(F32(3, 64), -1, 1, 10000.f, 10000.5f, 1); }

Test(layernorm, describe_errors) {
    tnode t;
    tn_init(&t, PP_OP_LAYERNORM, 3);
    expect_shape_error(&t, (pp_shape[]){F32(2, 8), F32(7), ABSENT}, "input 1 (Scale): axis 0 is 7", "expected 8");
    expect_shape_error(&t, (pp_shape[]){F32(2, 8), F32(8), F32(2, 8)}, "input 2 (B): rank 2", NULL);
    tn_int(&t, "axis", 0);
    expect_shape_error(&t, (pp_shape[]){F32(2, 8), F32(8), ABSENT}, "input 1 (Scale): 8 elements", "expected 16");
}

/* ---- ATTENTION ----------------------------------------------------------- */

typedef struct attn_case {
    int64_t b, h, tq, tk, d, dv;
    int causal;
    pp_dtype mask_dtype; /* INVALID: none */
    int mask_rank;
    int64_t mask_dims[4];
    double scale; /* 0: default */
} attn_case;

static void run_attn_case(const attn_case *ac) {
    tnode t;
    int has_mask = ac->mask_dtype != PP_DTYPE_INVALID;
    tn_init(&t, PP_OP_ATTENTION, has_mask ? 4 : 3);
    if (ac->causal) tn_int(&t, "causal", 1);
    if (ac->scale != 0) tn_float(&t, "scale", ac->scale);
    pp_shape in[4] = {F32(ac->b, ac->h, ac->tq, ac->d), F32(ac->b, ac->h, ac->tk, ac->d),
                      F32(ac->b, ac->h, ac->tk, ac->dv), ABSENT};
    float *q = frand(numel(&in[0]), 81), *k = frand(numel(&in[1]), 82), *v = frand(numel(&in[2]), 83);
    void *mask = NULL;
    if (has_mask) {
        in[3] = make_shape(ac->mask_dtype, ac->mask_rank, ac->mask_dims);
        size_t nm = numel(&in[3]);
        pp_ref_rng r;
        pp_ref_rng_seed(&r, 84);
        if (ac->mask_dtype == PP_DTYPE_F32) {
            float *m = falloc(nm);
            for (size_t i = 0; i < nm; i++)
                m[i] = pp_ref_rng_unit(&r) < 0.3f ? -INFINITY : pp_ref_rng_uniform(&r, -2, 2);
            mask = m;
        } else {
            unsigned char *m = malloc(nm);
            for (size_t i = 0; i < nm; i++) m[i] = pp_ref_rng_unit(&r) < 0.7f;
            mask = m;
        }
    }
    const void *data[4] = {q, k, v, mask};
    pp_shape ys;
    pp_op_params p;
    float *y = run(&t, in, data, &ys, &p);
    EXPECT_DIMS(&ys, ac->b, ac->h, ac->tq, ac->dv);
    double scale = ac->scale != 0 ? ac->scale : 1.0 / sqrt((double)ac->d);
    size_t ny = (size_t)(ac->b * ac->h * ac->tq * ac->dv);
    float *ref = falloc(ny);
    double *s = malloc(sizeof(double) * (size_t)ac->tk);
    for (int64_t bi = 0; bi < ac->b; bi++)
        for (int64_t hi = 0; hi < ac->h; hi++)
            for (int64_t i = 0; i < ac->tq; i++) {
                double mx = -INFINITY;
                for (int64_t j = 0; j < ac->tk; j++) {
                    double dot = 0;
                    for (int64_t e = 0; e < ac->d; e++)
                        dot += (double)q[((bi * ac->h + hi) * ac->tq + i) * ac->d + e] *
                               k[((bi * ac->h + hi) * ac->tk + j) * ac->d + e];
                    s[j] = dot * scale;
                    if (ac->causal && j > i + (ac->tk - ac->tq)) s[j] = -INFINITY;
                    if (has_mask) {
                        /* broadcast index into the mask, right-aligned against (B,H,TQ,TK) */
                        int64_t full[4] = {bi, hi, i, j}, off = 0;
                        for (int md = 0; md < ac->mask_rank; md++) {
                            int64_t ext = ac->mask_dims[md];
                            off = off * ext + (ext == 1 ? 0 : full[4 - ac->mask_rank + md]);
                        }
                        if (ac->mask_dtype == PP_DTYPE_F32) s[j] += ((float *)mask)[off];
                        else if (!((unsigned char *)mask)[off]) s[j] = -INFINITY;
                    }
                    mx = fmax(mx, s[j]);
                }
                for (int64_t e = 0; e < ac->dv; e++) {
                    double num = 0, den = 0;
                    for (int64_t j = 0; j < ac->tk; j++) {
                        double w = mx == -INFINITY || s[j] == -INFINITY ? 0 : exp(s[j] - mx);
                        num += w * v[((bi * ac->h + hi) * ac->tk + j) * ac->dv + e];
                        den += w;
                    }
                    ref[((bi * ac->h + hi) * ac->tq + i) * ac->dv + e] = den > 0 ? (float)(num / den) : 0.f;
                }
            }
    check_close("attention", y, ref, ny, ATOL, 1e-4f);
    free(q);
    free(k);
    free(v);
    free(mask);
    free(y);
    free(ref);
    free(s);
}

Test(attention, plain) { run_attn_case(&(attn_case){2, 3, 5, 7, 8, 6, 0, PP_DTYPE_INVALID, 0, {0}, 0}); }
Test(attention, explicit_scale_single) {
    run_attn_case(&(attn_case){1, 1, 1, 1, 3, 5, 0, PP_DTYPE_INVALID, 0, {0}, 0.7});
}
Test(attention, causal_square) { run_attn_case(&(attn_case){2, 2, 6, 6, 4, 4, 1, PP_DTYPE_INVALID, 0, {0}, 0}); }
Test(attention, causal_fewer_queries) { run_attn_case(&(attn_case){1, 3, 3, 8, 5, 7, 1, PP_DTYPE_INVALID, 0, {0}, 0}); }
Test(attention, causal_more_queries_masks_rows) { /* tq > tk: the first rows see nothing → zeros */
    run_attn_case(&(attn_case){1, 2, 6, 4, 3, 2, 1, PP_DTYPE_INVALID, 0, {0}, 0});
}
Test(attention, f32_mask_broadcast_tq_tk) {
    run_attn_case(&(attn_case){2, 3, 4, 6, 8, 8, 0, PP_DTYPE_F32, 4, {1, 1, 4, 6}, 0});
}
Test(attention, f32_mask_padding_style) { /* (B, 1, 1, TK) */
    run_attn_case(&(attn_case){3, 2, 5, 5, 4, 4, 1, PP_DTYPE_F32, 4, {3, 1, 1, 5}, 0});
}
Test(attention, f32_mask_rank2) { run_attn_case(&(attn_case){2, 2, 3, 7, 4, 4, 0, PP_DTYPE_F32, 2, {3, 7}, 0}); }
Test(attention, bool_mask_full_causal) {
    run_attn_case(&(attn_case){2, 3, 7, 7, 5, 3, 1, PP_DTYPE_BOOL, 4, {2, 3, 7, 7}, 0});
}
Test(attention, bool_mask_keys_only) { run_attn_case(&(attn_case){2, 2, 4, 9, 4, 4, 0, PP_DTYPE_BOOL, 1, {9}, 0}); }
Test(attention, more_rows_than_a_chunk) {
    run_attn_case(&(attn_case){2, 3, 50, 40, 16, 16, 1, PP_DTYPE_F32, 4, {2, 1, 50, 40}, 0});
}

Test(attention, describe_errors) {
    tnode t;
    tn_init(&t, PP_OP_ATTENTION, 4);
    expect_shape_error(&t, (pp_shape[]){F32(1, 2, 3, 8), F32(1, 2, 5, 7), F32(1, 2, 5, 8), ABSENT},
                       "input 1 (K): axis 3 is 7", "D = 8");
    expect_shape_error(&t, (pp_shape[]){F32(1, 2, 3, 8), F32(1, 2, 5, 8), F32(1, 2, 4, 8), ABSENT},
                       "input 2 (V): axis 2 is 4", "TK = 5");
    expect_shape_error(&t, (pp_shape[]){F32(1, 2, 3, 8), F32(1, 2, 5, 8), F32(1, 2, 5, 8), F32(1, 1, 2, 5)},
                       "input 3 (mask): axis 2 is 2", "TQ = 3");
    expect_shape_error(&t, (pp_shape[]){F32(1, 2, 3, 8), F32(1, 2, 5, 8), F32(1, 2, 5, 8), SHAPE(PP_DTYPE_I64, 5)},
                       "input 3 (mask): dtype i64", NULL);
}

/* ---- REDUCE_*, ARGMAX, ARGMIN -------------------------------------------- */

/* Reference reduction of x (dims) over mask, f32 in double. */
static void ref_reduce_f32(pp_op op, const float *x, int rank, const int64_t *dims, uint32_t mask, float *y) {
    int64_t strides[PP_MAX_RANK], s = 1, total = 1;
    for (int d = rank - 1; d >= 0; d--) {
        strides[d] = s;
        s *= dims[d];
    }
    total = s;
    int64_t out_count = 1;
    for (int d = 0; d < rank; d++)
        if (!(mask & (1u << d))) out_count *= dims[d];
    double *acc = malloc(sizeof(double) * (size_t)(out_count ? out_count : 1));
    int64_t *cnt = calloc((size_t)(out_count ? out_count : 1), sizeof(int64_t));
    for (int64_t o = 0; o < out_count; o++)
        acc[o] = op == PP_OP_REDUCE_PROD  ? 1
                 : op == PP_OP_REDUCE_MAX ? -INFINITY
                 : op == PP_OP_REDUCE_MIN ? INFINITY
                                          : 0;
    for (int64_t i = 0; i < total; i++) {
        int64_t o = 0;
        for (int d = 0; d < rank; d++) {
            int64_t idx = (i / strides[d]) % dims[d];
            if (!(mask & (1u << d))) o = o * dims[d] + idx;
        }
        double v = x[i];
        switch (op) {
        case PP_OP_REDUCE_PROD: acc[o] *= v; break;
        case PP_OP_REDUCE_MAX: acc[o] = fmax(acc[o], v); break;
        case PP_OP_REDUCE_MIN: acc[o] = fmin(acc[o], v); break;
        default: acc[o] += v; break;
        }
        cnt[o]++;
    }
    for (int64_t o = 0; o < out_count; o++) y[o] = (float)(op == PP_OP_REDUCE_MEAN ? acc[o] / (double)cnt[o] : acc[o]);
    free(acc);
    free(cnt);
}

static void reduce_case(pp_op op, pp_shape xs, int n_axes, const int64_t *axes, int keepdims, uint32_t want_mask) {
    tnode t;
    tn_init(&t, op, 1);
    if (n_axes) tn_ints(&t, "axes", n_axes, axes);
    tn_int(&t, "keepdims", keepdims);
    pp_shape in[1] = {xs};
    size_t n = numel(&xs);
    float *x = falloc(n);
    pp_ref_fill(x, n, 91, op == PP_OP_REDUCE_PROD ? 0.5f : -2.f, op == PP_OP_REDUCE_PROD ? 1.5f : 2.f);
    const void *data[1] = {x};
    pp_shape ys;
    pp_op_params p;
    float *y = run(&t, in, data, &ys, &p);
    cr_assert_eq(p.reduce.axes_mask, want_mask, "mask %#x, expected %#x", p.reduce.axes_mask, want_mask);
    pp_shape want = {.dtype = PP_DTYPE_F32, .rank = 0};
    for (int d = 0; d < xs.rank; d++) {
        if (!(want_mask & (1u << d))) want.dims[want.rank++] = xs.dims[d];
        else if (keepdims) want.dims[want.rank++] = 1;
    }
    expect_dims(&ys, want.rank, want.dims);
    size_t ny = numel(&ys);
    float *ref = falloc(ny);
    ref_reduce_f32(op, x, xs.rank, xs.dims, want_mask, ref);
    check_close("reduce", y, ref, ny, ATOL, RTOL);
    free(x);
    free(y);
    free(ref);
}

Test(reduce, every_op_several_masks) {
    pp_op ops[] = {PP_OP_REDUCE_MEAN, PP_OP_REDUCE_SUM, PP_OP_REDUCE_MAX, PP_OP_REDUCE_MIN, PP_OP_REDUCE_PROD};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        for (int keep = 0; keep < 2; keep++) {
            reduce_case(ops[i], F32(2, 3, 4, 5), 1, (int64_t[]){0}, keep, 0x1);
            reduce_case(ops[i], F32(2, 3, 4, 5), 2, (int64_t[]){1, 3}, keep, 0xA);
            reduce_case(ops[i], F32(2, 3, 4, 5), 1, (int64_t[]){-1}, keep, 0x8);
            reduce_case(ops[i], F32(2, 3, 4, 5), 2, (int64_t[]){-2, -1}, keep, 0xC);
            reduce_case(ops[i], F32(2, 3, 4, 5), 0, NULL, keep, 0xF);
            reduce_case(ops[i], F32(7, 1, 3), 2, (int64_t[]){2, 0}, keep, 0x5);
        }
    }
}

Test(reduce, noop_with_empty_axes_and_scalar) {
    tnode t;
    tn_init(&t, PP_OP_REDUCE_SUM, 1);
    tn_int(&t, "noop_with_empty_axes", 1);
    pp_shape in[1] = {F32(2, 3)};
    float x[6] = {1, 2, 3, 4, 5, 6};
    const void *data[1] = {x};
    pp_shape ys;
    pp_op_params p;
    float *y = run(&t, in, data, &ys, &p);
    EXPECT_DIMS(&ys, 2, 3);
    check_close("noop", y, x, 6, 0, 0);
    free(y);

    tn_init(&t, PP_OP_REDUCE_MEAN, 1);
    tn_int(&t, "keepdims", 0);
    y = run(&t, in, data, &ys, &p);
    cr_assert_eq(ys.rank, 0);
    cr_assert_float_eq(y[0], 3.5f, 1e-6);
    free(y);
}

Test(reduce, i64_sum_max_min_prod) {
    int64_t x[12] = {5, -3, 7, 2, 9, -11, 4, 4, 0, 1, -6, 8}; /* (3, 4) */
    struct {
        pp_op op;
        int64_t axis;
        int64_t want[4];
        int n;
    } cases[] = {
        {PP_OP_REDUCE_SUM, 1, {11, 6, 3}, 3},
        {PP_OP_REDUCE_MAX, 0, {9, 1, 7, 8}, 4},
        {PP_OP_REDUCE_MIN, 1, {-3, -11, -6}, 3},
        {PP_OP_REDUCE_PROD, 0, {0, 33, -168, 64}, 4},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tnode t;
        tn_init(&t, cases[c].op, 1);
        tn_ints(&t, "axes", 1, &cases[c].axis);
        tn_int(&t, "keepdims", 0);
        pp_shape in[1] = {SHAPE(PP_DTYPE_I64, 3, 4)};
        const void *data[1] = {x};
        pp_shape ys;
        pp_op_params p;
        int64_t *y = run(&t, in, data, &ys, &p);
        cr_assert_eq(ys.dtype, PP_DTYPE_I64);
        EXPECT_DIMS(&ys, cases[c].n);
        cr_assert_eq(pp_ref_compare_i64("i64 reduce", y, cases[c].want, (size_t)cases[c].n), 0);
        free(y);
    }
}

static void arg_case(pp_op op, int64_t axis, int keepdims, int last, const float *x, pp_shape xs, const int64_t *want,
                     pp_shape want_shape) {
    tnode t;
    tn_init(&t, op, 1);
    tn_int(&t, "axis", axis);
    tn_int(&t, "keepdims", keepdims);
    tn_int(&t, "select_last_index", last);
    pp_shape in[1] = {xs};
    const void *data[1] = {x};
    pp_shape ys;
    pp_op_params p;
    int64_t *y = run(&t, in, data, &ys, &p);
    cr_assert_eq(ys.dtype, PP_DTYPE_I64);
    expect_dims(&ys, want_shape.rank, want_shape.dims);
    cr_assert_eq(pp_ref_compare_i64("argmax/argmin", y, want, numel(&ys)), 0);
    free(y);
}

Test(reduce, argmax_argmin_ties) {
    /* (2, 4): row 0 has a tied max at 1 and 3 and a tied min at 0 and 2 */
    float x[8] = {1, 5, 1, 5, -2, 3, 3, -2};
    arg_case(PP_OP_ARGMAX, 1, 1, 0, x, F32(2, 4), (int64_t[]){1, 1}, F32(2, 1));
    arg_case(PP_OP_ARGMAX, 1, 0, 1, x, F32(2, 4), (int64_t[]){3, 2}, F32(2));
    arg_case(PP_OP_ARGMIN, -1, 0, 0, x, F32(2, 4), (int64_t[]){0, 0}, F32(2));
    arg_case(PP_OP_ARGMIN, -1, 0, 1, x, F32(2, 4), (int64_t[]){2, 3}, F32(2));
    arg_case(PP_OP_ARGMAX, 0, 1, 0, x, F32(2, 4), (int64_t[]){0, 0, 1, 0}, F32(1, 4));
    arg_case(PP_OP_ARGMAX, 0, 1, 1, x, F32(2, 4), (int64_t[]){0, 0, 1, 0}, F32(1, 4));
    arg_case(PP_OP_ARGMIN, 0, 0, 1, x, F32(2, 4), (int64_t[]){1, 1, 0, 1}, F32(4));
}

Test(reduce, argmax_middle_axis_random_and_i64) {
    pp_shape xs = F32(3, 5, 4);
    float x[60];
    pp_ref_fill(x, 60, 92, -1, 1);
    int64_t want[12];
    for (int o = 0; o < 3; o++)
        for (int i = 0; i < 4; i++) {
            int best = 0;
            for (int j = 1; j < 5; j++)
                if (x[(o * 5 + j) * 4 + i] > x[(o * 5 + best) * 4 + i]) best = j;
            want[o * 4 + i] = best;
        }
    arg_case(PP_OP_ARGMAX, 1, 0, 0, x, xs, want, F32(3, 4));

    int64_t xi[6] = {4, 9, 9, -1, -7, -1};
    tnode t;
    tn_init(&t, PP_OP_ARGMIN, 1);
    tn_int(&t, "axis", 1);
    tn_int(&t, "select_last_index", 1);
    pp_shape in[1] = {SHAPE(PP_DTYPE_I64, 2, 3)};
    const void *data[1] = {xi};
    pp_shape ys;
    pp_op_params p;
    int64_t *y = run(&t, in, data, &ys, &p);
    EXPECT_DIMS(&ys, 2, 1);
    cr_assert_eq(y[0], 0);
    cr_assert_eq(y[1], 1);
    free(y);
}

Test(reduce, describe_errors) {
    tnode t;
    tn_init(&t, PP_OP_REDUCE_SUM, 1);
    TN_INTS(&t, "axes", 1, -3);
    expect_shape_error(&t, (pp_shape[]){F32(2, 3)}, "axes[1] -3 is out of range for rank 2", NULL);
    tn_init(&t, PP_OP_REDUCE_SUM, 1);
    TN_INTS(&t, "axes", 1, -1);
    expect_shape_error(&t, (pp_shape[]){F32(2, 3)}, "axis 1 twice", NULL);
    tn_init(&t, PP_OP_ARGMAX, 1);
    tn_int(&t, "axis", 2);
    expect_shape_error(&t, (pp_shape[]){F32(2, 3)}, "axis 2 is out of range", NULL);
    tn_init(&t, PP_OP_REDUCE_MEAN, 1);
    pp_shape out[1];
    pp_op_params p;
    pp_cost cost;
    pp_error err;
    cr_assert_eq(describe(&t, (pp_shape[]){SHAPE(PP_DTYPE_I64, 4)}, out, &p, &cost, &err), PP_ERR_UNSUPPORTED);
}

/* test_kernels_products.c: the product kernels (conv, sgemm, gemm, matmul) and
 * their describe functions.
 *
 * Each case builds a node by hand, runs its describe function (shapes, params,
 * errors), runs the CPU kernel on seeded random data with guard cells after the
 * output (support/compute_check.h), and compares against a naive reference
 * written here from the ONNX definition: direct convolution and triple-loop
 * products, in double.
 */
#include "support/compute_check.h"

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

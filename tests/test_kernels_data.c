/* test_kernels_data.c: the data kernels that make or place values (pad,
 * resize, trilu, fill, depth/space, cumsum) and their describe functions.
 *
 * Each case builds a node by hand, runs its describe function, then the CPU
 * kernel with guard bytes after every output (support/kernel_check.h), and
 * checks the values against hand-computed expectations (ONNX's documented
 * examples where it has them) or a naive index-by-index reference.
 */
#include "support/kernel_check.h"

/* ---- pad -------------------------------------------------------------------------------------------- */

static float *pad_run(const char *mode, double value, const float *x, pp_shape in, int np, const int64_t *pads,
                      pp_shape *out) {
    tnode t;
    tn_init_io(&t, PP_OP_PAD, 1, 1);
    tn_ints(&t, "pads", np, pads);
    if (mode) tn_str(&t, "mode", mode);
    if (value != 0) tn_float(&t, "value", value);
    const void *inputs[1] = {x};
    return run(&t, &in, inputs, out);
}

Test(pad, onnx_examples_each_mode) {
    const float x[] = {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f}; /* (3, 2) */
    const int64_t pads[] = {0, 2, 0, 0};
    pp_shape out;
    float *y = pad_run(NULL, 0, x, F32(3, 2), 4, pads, &out);
    EXPECT_DIMS(&out, 3, 4);
    expect_f32("pad constant", y, (float[]){0, 0, 1.0f, 1.2f, 0, 0, 2.3f, 3.4f, 0, 0, 4.5f, 5.7f}, 12, 0);
    free(y);
    y = pad_run("reflect", 0, x, F32(3, 2), 4, pads, &out);
    expect_f32("pad reflect", y, (float[]){1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f}, 12,
               0);
    free(y);
    y = pad_run("edge", 0, x, F32(3, 2), 4, pads, &out);
    expect_f32("pad edge", y, (float[]){1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f, 4.5f, 4.5f, 5.7f}, 12, 0);
    free(y);
}

Test(pad, one_and_two_axes_hand_computed) {
    const float x[] = {1, 2, 3, 4};
    pp_shape out;
    float *y = pad_run("constant", 9, x, F32(4), 2, (int64_t[]){3, 2}, &out);
    expect_f32("1-D constant", y, (float[]){9, 9, 9, 1, 2, 3, 4, 9, 9}, 9, 0);
    free(y);
    y = pad_run("reflect", 0, x, F32(4), 2, (int64_t[]){3, 2}, &out);
    expect_f32("1-D reflect", y, (float[]){4, 3, 2, 1, 2, 3, 4, 3, 2}, 9, 0);
    free(y);
    y = pad_run("edge", 0, x, F32(4), 2, (int64_t[]){3, 2}, &out);
    expect_f32("1-D edge", y, (float[]){1, 1, 1, 1, 2, 3, 4, 4, 4}, 9, 0);
    free(y);
    y = pad_run("reflect", 0, x, F32(3), 2, (int64_t[]){4, 0}, &out); /* wider than the axis: periodic */
    expect_f32("1-D reflect wide", y, (float[]){1, 2, 3, 2, 1, 2, 3}, 7, 0);
    free(y);

    const int64_t p1[] = {1, 1, 1, 1};
    y = pad_run("constant", 0, x, F32(2, 2), 4, p1, &out);
    EXPECT_DIMS(&out, 4, 4);
    expect_f32("2-D constant", y, (float[]){0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0}, 16, 0);
    free(y);
    y = pad_run("reflect", 0, x, F32(2, 2), 4, p1, &out);
    expect_f32("2-D reflect", y, (float[]){4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1}, 16, 0);
    free(y);
    y = pad_run("edge", 0, x, F32(2, 2), 4, p1, &out);
    expect_f32("2-D edge", y, (float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, 16, 0);
    free(y);
}

Test(pad, negative_pads_crop_and_integer_values) {
    const float x[] = {1, 2, 3, 4};
    pp_shape out;
    float *y = pad_run(NULL, 0, x, F32(4), 2, (int64_t[]){-1, 1}, &out);
    EXPECT_DIMS(&out, 4);
    expect_f32("crop begin", y, (float[]){2, 3, 4, 0}, 4, 0);
    free(y);
    y = pad_run("edge", 0, x, F32(4), 2, (int64_t[]){-1, -2}, &out);
    EXPECT_DIMS(&out, 1);
    expect_f32("crop both", y, (float[]){2}, 1, 0);
    free(y);
    float *x9 = iota_f32(9, 1.f); /* (3, 3) */
    y = pad_run(NULL, 0, x9, F32(3, 3), 4, (int64_t[]){-1, 1, 0, -1}, &out);
    EXPECT_DIMS(&out, 2, 3);
    expect_f32("crop 2-D", y, (float[]){0, 4, 5, 0, 7, 8}, 6, 0);
    free(y);
    free(x9);

    const int64_t xi[] = {1, 2};
    tnode t;
    tn_init_io(&t, PP_OP_PAD, 1, 1);
    TN_INTS(&t, "pads", 1, 1);
    tn_float(&t, "value", 7);
    pp_shape in = SHAPE(PP_DTYPE_I64, 2);
    const void *inputs[1] = {xi};
    int64_t *yi = run(&t, &in, inputs, &out);
    cr_assert_eq(pp_ref_compare_i64("pad i64", yi, (int64_t[]){7, 1, 2, 7}, 4), 0);
    free(yi);

    tn_init_io(&t, PP_OP_PAD, 1, 1);
    TN_INTS(&t, "pads", 1, 1);
    tn_str(&t, "mode", "wrap");
    expect_error(&t, &in, PP_ERR_UNSUPPORTED, "wrap", NULL);
    tn_init_io(&t, PP_OP_PAD, 1, 1);
    TN_INTS(&t, "pads", 1, 1, 1);
    expect_error(&t, &in, PP_ERR_SHAPE, "3 entries", NULL);
    tn_init_io(&t, PP_OP_PAD, 1, 1);
    TN_INTS(&t, "pads", -2, -1);
    expect_error(&t, &in, PP_ERR_SHAPE, "axis 0", "extent 2");
}

/* ---- resize ------------------------------------------------------------------------------------------- */

/* RESIZE of a (1, 1, h, w) f32 input; scales or sizes for the 4 axes. */
static float *resize_run(const char *mode, const char *ctm, const char *nearest, const double *scales,
                         const int64_t *sizes, const float *x, int64_t h, int64_t w, pp_shape *out) {
    tnode t;
    tn_init_io(&t, PP_OP_RESIZE, 1, 1);
    if (mode) tn_str(&t, "mode", mode);
    if (ctm) tn_str(&t, "coordinate_transformation_mode", ctm);
    if (nearest) tn_str(&t, "nearest_mode", nearest);
    if (scales) tn_floats(&t, "scales", 4, scales);
    if (sizes) tn_ints(&t, "sizes", 4, sizes);
    pp_shape in = F32(1, 1, h, w);
    const void *inputs[1] = {x};
    return run(&t, &in, inputs, out);
}

/* y[r][c] = x[idx_r[r]][idx_c[c]] for a 4×4 input 1..16 */
static void nearest_expect(const int *idx, int n, float *ref) {
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++) ref[r * n + c] = (float)(4 * idx[r] + idx[c] + 1);
}

Test(resize, onnx_spec_examples) {
    const float x2[] = {1, 2, 3, 4};
    pp_shape out;
    /* resize_upsample_scales_nearest */
    float *y = resize_run("nearest", NULL, NULL, (double[]){1, 1, 2, 3}, NULL, x2, 2, 2, &out);
    EXPECT_DIMS(&out, 1, 1, 4, 6);
    expect_f32("upsample_scales_nearest", y,
               (float[]){1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}, 24, 0);
    free(y);
    /* resize_upsample_scales_linear */
    y = resize_run("linear", NULL, NULL, (double[]){1, 1, 2, 2}, NULL, x2, 2, 2, &out);
    EXPECT_DIMS(&out, 1, 1, 4, 4);
    expect_f32("upsample_scales_linear", y,
               (float[]){1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4},
               16, 1e-6f);
    free(y);
    /* resize_upsample_scales_linear_align_corners */
    y = resize_run("linear", "align_corners", NULL, (double[]){1, 1, 2, 2}, NULL, x2, 2, 2, &out);
    const float t3 = 1.f / 3.f;
    expect_f32(
        "upsample_scales_linear_align_corners", y,
        (float[]){1, 1 + t3, 2 - t3, 2, 2 - t3, 2, 2 + t3, 3 - t3, 2 + t3, 3 - t3, 3, 3 + t3, 3, 3 + t3, 4 - t3, 4}, 16,
        1e-5f);
    free(y);
    float *x8 = iota_f32(8, 1.f);
    /* resize_downsample_scales_linear */
    y = resize_run("linear", NULL, NULL, (double[]){1, 1, 0.6, 0.6}, NULL, x8, 2, 4, &out);
    EXPECT_DIMS(&out, 1, 1, 1, 2);
    expect_f32("downsample_scales_linear", y, (float[]){2.6666665f, 4.3333331f}, 2, 1e-5f);
    free(y);
    /* resize_downsample_scales_nearest */
    y = resize_run("nearest", NULL, NULL, (double[]){1, 1, 0.6, 0.6}, NULL, x8, 2, 4, &out);
    EXPECT_DIMS(&out, 1, 1, 1, 2);
    expect_f32("downsample_scales_nearest", y, (float[]){1, 3}, 2, 0);
    free(y);
    free(x8);

    float *x16 = iota_f32(16, 1.f);
    float ref[64];
    /* resize_upsample_sizes_nearest_ceil_half_pixel */
    y = resize_run("nearest", "half_pixel", "ceil", NULL, (int64_t[]){1, 1, 8, 8}, x16, 4, 4, &out);
    EXPECT_DIMS(&out, 1, 1, 8, 8);
    nearest_expect((int[]){0, 1, 1, 2, 2, 3, 3, 3}, 8, ref);
    expect_f32("upsample_sizes_nearest_ceil_half_pixel", y, ref, 64, 0);
    free(y);
    /* resize_upsample_sizes_nearest_floor_align_corners */
    y = resize_run("nearest", "align_corners", "floor", NULL, (int64_t[]){1, 1, 8, 8}, x16, 4, 4, &out);
    nearest_expect((int[]){0, 0, 0, 1, 1, 2, 2, 3}, 8, ref);
    expect_f32("upsample_sizes_nearest_floor_align_corners", y, ref, 64, 0);
    free(y);
    /* resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric */
    y = resize_run("nearest", "asymmetric", "round_prefer_ceil", NULL, (int64_t[]){1, 1, 8, 8}, x16, 4, 4, &out);
    nearest_expect((int[]){0, 1, 1, 2, 2, 3, 3, 3}, 8, ref);
    expect_f32("upsample_sizes_nearest_round_prefer_ceil_asymmetric", y, ref, 64, 0);
    free(y);
    /* the same with round_prefer_floor: ties at .5 go down */
    y = resize_run("nearest", "asymmetric", "round_prefer_floor", NULL, (int64_t[]){1, 1, 8, 8}, x16, 4, 4, &out);
    nearest_expect((int[]){0, 0, 1, 1, 2, 2, 3, 3}, 8, ref);
    expect_f32("upsample_sizes_nearest_round_prefer_floor_asymmetric", y, ref, 64, 0);
    free(y);
    /* resize_downsample_sizes_linear_pytorch_half_pixel */
    y = resize_run("linear", "pytorch_half_pixel", NULL, NULL, (int64_t[]){1, 1, 3, 1}, x16, 4, 4, &out);
    EXPECT_DIMS(&out, 1, 1, 3, 1);
    expect_f32("downsample_sizes_linear_pytorch_half_pixel", y, (float[]){1.6666666f, 7.f, 12.333333f}, 3, 1e-5f);
    free(y);
    free(x16);
}

/* The ONNX reference, written independently of the kernel: per axis, the
 * source coordinate (in float, as the kernel documents) and then nearest
 * rounding or 1-D linear interpolation with edge padding, without clamping the
 * coordinate first. */
static float ref_coord(int ctm, int64_t o, float scale, int64_t in, int64_t out) {
    switch (ctm) {
    case 0: return ((float)o + 0.5f) / scale - 0.5f;
    case 1: return (float)o / scale;
    case 2: /* ONNX's reference divides by the unrounded output length in·scale - 1 */
        return out == 1 ? 0.f : (float)o * (float)(in - 1) / ((float)in * scale - 1.f);
    default: return out > 1 ? ((float)o + 0.5f) / scale - 0.5f : 0.f;
    }
}

static int64_t ref_clampi(int64_t v, int64_t n) { return v < 0 ? 0 : (v >= n ? n - 1 : v); }

static int64_t ref_nearest(int nm, float x) {
    double f = floor(x), frac = x - f;
    switch (nm) {
    case 0: return (int64_t)(frac > 0.5 ? f + 1 : f);
    case 1: return (int64_t)(frac >= 0.5 ? f + 1 : f);
    case 2: return (int64_t)f;
    default: return (int64_t)ceil(x);
    }
}

static void ref_resize(const float *x, int64_t outer, int64_t ih, int64_t iw, int64_t oh, int64_t ow, float sh,
                       float sw, int linear, int ctm, int nm, float *y) {
    for (int64_t c = 0; c < outer; c++)
        for (int64_t r = 0; r < oh; r++)
            for (int64_t q = 0; q < ow; q++) {
                float yr = ref_coord(ctm, r, sh, ih, oh), xq = ref_coord(ctm, q, sw, iw, ow);
                const float *p = x + c * ih * iw;
                double v;
                if (!linear) {
                    v = p[ref_clampi(ref_nearest(nm, yr), ih) * iw + ref_clampi(ref_nearest(nm, xq), iw)];
                } else {
                    int64_t r0 = (int64_t)floor(yr), q0 = (int64_t)floor(xq);
                    double wr = yr - (double)r0, wq = xq - (double)q0;
                    double acc = 0;
                    for (int a = 0; a < 2; a++)
                        for (int b = 0; b < 2; b++)
                            acc += (a ? wr : 1 - wr) * (b ? wq : 1 - wq) *
                                   p[ref_clampi(r0 + a, ih) * iw + ref_clampi(q0 + b, iw)];
                    v = acc;
                }
                y[(c * oh + r) * ow + q] = (float)v;
            }
}

Test(resize, every_mode_against_the_naive_reference) {
    static const char *ctms[] = {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"};
    static const char *nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    const int64_t n = 2, c = 3, h = 5, w = 7;
    float *x = malloc((size_t)(n * c * h * w) * sizeof(float));
    pp_ref_fill(x, (size_t)(n * c * h * w), 5, -1.f, 1.f);
    const double scale_sets[][2] = {{2.0, 3.0}, {0.5, 0.75}, {1.5, 2.5}, {1.0, 0.4}};
    const int64_t size_sets[][2] = {{9, 4}, {1, 1}, {5, 7}, {12, 13}};
    for (int linear = 0; linear < 2; linear++)
        for (int ci = 0; ci < 4; ci++)
            for (int ni = 0; ni < (linear ? 1 : 4); ni++)
                for (int s = 0; s < 8; s++) {
                    tnode t;
                    tn_init_io(&t, PP_OP_RESIZE, 1, 1);
                    tn_str(&t, "mode", linear ? "linear" : "nearest");
                    tn_str(&t, "coordinate_transformation_mode", ctms[ci]);
                    tn_str(&t, "nearest_mode", nms[ni]);
                    int64_t oh, ow;
                    float sh, sw;
                    if (s < 4) {
                        TN_FLOATS(&t, "scales", 1, 1, scale_sets[s][0], scale_sets[s][1]);
                        sh = (float)scale_sets[s][0];
                        sw = (float)scale_sets[s][1];
                        oh = (int64_t)floor((double)h * sh);
                        ow = (int64_t)floor((double)w * sw);
                    } else {
                        oh = size_sets[s - 4][0];
                        ow = size_sets[s - 4][1];
                        TN_INTS(&t, "sizes", n, c, oh, ow);
                        sh = (float)oh / (float)h;
                        sw = (float)ow / (float)w;
                    }
                    pp_shape in = F32(n, c, h, w), out;
                    const void *inputs[1] = {x};
                    float *y = run(&t, &in, inputs, &out);
                    EXPECT_DIMS(&out, n, c, oh, ow);
                    float *ref = malloc((size_t)(n * c * oh * ow) * sizeof(float));
                    ref_resize(x, n * c, h, w, oh, ow, sh, sw, linear, ci, ni, ref);
                    char what[128];
                    snprintf(what, sizeof what, "resize %s %s %s set %d", linear ? "linear" : "nearest", ctms[ci],
                             nms[ni], s);
                    expect_f32(what, y, ref, (size_t)(n * c * oh * ow), 1e-5f);
                    free(ref);
                    free(y);
                }
    free(x);
}

Test(resize, wide_rows_beyond_the_tap_cache) {
    const int64_t h = 2, w = 3000, oh = 3, ow = 5001;
    float *x = malloc((size_t)(h * w) * sizeof(float));
    pp_ref_fill(x, (size_t)(h * w), 9, -1.f, 1.f);
    for (int linear = 0; linear < 2; linear++) {
        float *y;
        pp_shape out;
        y = resize_run(linear ? "linear" : "nearest", NULL, NULL, NULL, (int64_t[]){1, 1, oh, ow}, x, h, w, &out);
        EXPECT_DIMS(&out, 1, 1, oh, ow);
        float *ref = malloc((size_t)(oh * ow) * sizeof(float));
        ref_resize(x, 1, h, w, oh, ow, (float)oh / (float)h, (float)ow / (float)w, linear, 0, 0, ref);
        expect_f32(linear ? "wide linear" : "wide nearest", y, ref, (size_t)(oh * ow), 1e-5f);
        free(ref);
        free(y);
    }
    free(x);
}

Test(resize, describe_refuses_batch_and_channel_scaling_and_unknown_modes) {
    tnode t;
    pp_shape in = F32(2, 3, 4, 4);
    tn_init_io(&t, PP_OP_RESIZE, 1, 1);
    TN_FLOATS(&t, "scales", 2, 1, 2, 2);
    expect_error(&t, &in, PP_ERR_UNSUPPORTED, "axis 0", "(2, 3, 4, 4)");
    tn_init_io(&t, PP_OP_RESIZE, 1, 1);
    TN_FLOATS(&t, "scales", 1, 2, 2, 2);
    expect_error(&t, &in, PP_ERR_UNSUPPORTED, "axis 1", NULL);
    tn_init_io(&t, PP_OP_RESIZE, 1, 1);
    TN_INTS(&t, "sizes", 2, 6, 8, 8);
    expect_error(&t, &in, PP_ERR_UNSUPPORTED, "axis 1", NULL);
    tn_init_io(&t, PP_OP_RESIZE, 1, 1);
    TN_FLOATS(&t, "scales", 1, 1, 2, 2);
    tn_str(&t, "mode", "cubic");
    expect_error(&t, &in, PP_ERR_UNSUPPORTED, "cubic", NULL);
    tn_init_io(&t, PP_OP_RESIZE, 1, 1);
    TN_FLOATS(&t, "scales", 1, 1, 2, 2);
    tn_str(&t, "coordinate_transformation_mode", "tf_crop_and_resize");
    expect_error(&t, &in, PP_ERR_UNSUPPORTED, "tf_crop_and_resize", NULL);
    tn_init_io(&t, PP_OP_RESIZE, 1, 1);
    expect_error(&t, &in, PP_ERR_SHAPE, "scales", "sizes");
    tn_init_io(&t, PP_OP_RESIZE, 1, 1);
    TN_FLOATS(&t, "scales", 1, 1, 2);
    expect_error(&t, &in, PP_ERR_SHAPE, "3 entries", NULL);
    /* empty scales with sizes: the sizes count; axes select what they cover */
    pp_op_params p;
    pp_error err;
    pp_shape out;
    tn_init_io(&t, PP_OP_RESIZE, 1, 1);
    tn_floats(&t, "scales", 0, NULL);
    TN_INTS(&t, "sizes", 8, 6);
    TN_INTS(&t, "axes", 2, 3);
    cr_assert_eq(describe(&t, &in, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 2, 3, 8, 6);
    cr_assert_eq(p.resize.outer, 6);
    cr_assert_float_eq(p.resize.scale_h, 2.0f, 1e-7f);
    cr_assert_float_eq(p.resize.scale_w, 1.5f, 1e-7f);
    cr_assert_eq(p.resize.mode, 0);
    cr_assert_eq(p.resize.coord, 0);
    cr_assert_eq(p.resize.nearest, 0);
}

/* ---- trilu -------------------------------------------------------------------------------------------- */

static void check_trilu(int upper, int64_t k, const float *want) {
    float *x = iota_f32(24, 1.f); /* (2, 3, 4): two identical-pattern batches */
    for (int i = 12; i < 24; i++) x[i] = x[i - 12];
    tnode t;
    tn_init_io(&t, PP_OP_TRILU, 1, 1);
    tn_int(&t, "upper", upper);
    if (k) tn_int(&t, "k", k);
    pp_shape in = F32(2, 3, 4), out;
    const void *inputs[1] = {x};
    float *y = run(&t, &in, inputs, &out);
    char what[64];
    snprintf(what, sizeof what, "trilu upper=%d k=%lld", upper, (long long)k);
    expect_f32(what, y, want, 12, 0);
    expect_f32(what, y + 12, want, 12, 0);
    free(y);
    free(x);
}

Test(trilu, upper_and_lower_with_offsets) {
    check_trilu(1, 0, (float[]){1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12});
    check_trilu(1, 1, (float[]){0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12});
    check_trilu(1, -1, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12});
    check_trilu(0, 0, (float[]){1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0});
    check_trilu(0, -1, (float[]){0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0});
    check_trilu(0, 2, (float[]){1, 2, 3, 0, 5, 6, 7, 8, 9, 10, 11, 12});
    check_trilu(1, 10, (float[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    check_trilu(1, -10, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    check_trilu(0, -10, (float[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    check_trilu(0, INT64_MAX, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    check_trilu(1, INT64_MIN, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    tnode t;
    tn_init_io(&t, PP_OP_TRILU, 1, 1);
    pp_shape in = F32(4);
    expect_error(&t, &in, PP_ERR_SHAPE, "rank 1", NULL);
}

/* ---- fill: SHAPE, CONSTANT_OF_SHAPE, RANGE ---------------------------------------------------------------- */

static int64_t *shape_run(int64_t start, int64_t end, int has_start, int has_end, pp_shape *out) {
    tnode t;
    tn_init_io(&t, PP_OP_SHAPE, 1, 1);
    if (has_start) tn_int(&t, "start", start);
    if (has_end) tn_int(&t, "end", end);
    pp_shape in = F32(2, 3, 4, 5);
    const void *inputs[1] = {NULL};
    return run(&t, &in, inputs, out);
}

Test(fill, shape_with_start_and_end) {
    pp_shape out;
    int64_t *y = shape_run(0, 0, 0, 0, &out);
    EXPECT_DIMS(&out, 4);
    cr_assert_eq(out.dtype, PP_DTYPE_I64);
    cr_assert_eq(pp_ref_compare_i64("shape", y, (int64_t[]){2, 3, 4, 5}, 4), 0);
    free(y);
    y = shape_run(1, 0, 1, 0, &out);
    cr_assert_eq(pp_ref_compare_i64("shape start", y, (int64_t[]){3, 4, 5}, 3), 0);
    free(y);
    y = shape_run(-3, -1, 1, 1, &out);
    EXPECT_DIMS(&out, 2);
    cr_assert_eq(pp_ref_compare_i64("shape negative", y, (int64_t[]){3, 4}, 2), 0);
    free(y);
    y = shape_run(-100, 100, 1, 1, &out);
    EXPECT_DIMS(&out, 4);
    free(y);
    y = shape_run(3, 1, 1, 1, &out);
    EXPECT_DIMS(&out, 0);
    free(y);
}

Test(fill, constant_of_shape_in_several_dtypes) {
    tnode t;
    pp_shape out;
    const void *none[1] = {NULL};
    tn_init_io(&t, PP_OP_CONSTANT_OF_SHAPE, 0, 1);
    TN_INTS(&t, "shape", 2, 3);
    tn_float(&t, "value", 1.5);
    float *y = run(&t, NULL, none, &out);
    EXPECT_DIMS(&out, 2, 3);
    expect_f32("constant f32", y, (float[]){1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f}, 6, 0);
    free(y);
    tn_init_io(&t, PP_OP_CONSTANT_OF_SHAPE, 0, 1);
    TN_INTS(&t, "shape", 3);
    tn_float(&t, "value", 7);
    tn_int(&t, "dtype", PP_DTYPE_I64);
    int64_t *yi = run(&t, NULL, none, &out);
    cr_assert_eq(out.dtype, PP_DTYPE_I64);
    cr_assert_eq(pp_ref_compare_i64("constant i64", yi, (int64_t[]){7, 7, 7}, 3), 0);
    free(yi);
    tn_init_io(&t, PP_OP_CONSTANT_OF_SHAPE, 0, 1);
    TN_INTS(&t, "shape", 2);
    tn_float(&t, "value", 1);
    tn_int(&t, "dtype", PP_DTYPE_F16);
    uint16_t *yh = run(&t, NULL, none, &out);
    cr_assert(yh[0] == 0x3C00 && yh[1] == 0x3C00);
    free(yh);
    tn_init_io(&t, PP_OP_CONSTANT_OF_SHAPE, 0, 1);
    TN_INTS(&t, "shape", 2);
    tn_float(&t, "value", 1);
    tn_int(&t, "dtype", PP_DTYPE_BOOL);
    uint8_t *yb = run(&t, NULL, none, &out);
    cr_assert(yb[0] == 1 && yb[1] == 1);
    free(yb);
    tn_init_io(&t, PP_OP_CONSTANT_OF_SHAPE, 0, 1); /* default: f32 zeros; an empty shape is a scalar */
    tn_ints(&t, "shape", 0, NULL);
    y = run(&t, NULL, none, &out);
    cr_assert_eq(out.rank, 0);
    cr_assert_eq(y[0], 0.f);
    free(y);
    tn_init_io(&t, PP_OP_CONSTANT_OF_SHAPE, 0, 1);
    TN_INTS(&t, "shape", 0, 3);
    y = run(&t, NULL, none, &out);
    EXPECT_DIMS(&out, 0, 3);
    free(y);
    tn_init_io(&t, PP_OP_CONSTANT_OF_SHAPE, 0, 1);
    TN_INTS(&t, "shape", 2, -1);
    expect_error(&t, NULL, PP_ERR_SHAPE, "negative", NULL);
}

Test(fill, range_float_and_integer) {
    tnode t;
    pp_shape out;
    const void *none[1] = {NULL};
    tn_init_io(&t, PP_OP_RANGE, 0, 1);
    tn_float(&t, "start", 1);
    tn_float(&t, "limit", 2);
    tn_float(&t, "delta", 0.3);
    float *y = run(&t, NULL, none, &out);
    EXPECT_DIMS(&out, 4);
    expect_f32("range f32", y, (float[]){1.f, 1.3f, 1.6f, 1.9f}, 4, 1e-6f);
    free(y);
    tn_init_io(&t, PP_OP_RANGE, 0, 1);
    tn_int(&t, "start", 10);
    tn_int(&t, "limit", 4);
    tn_int(&t, "delta", -3);
    tn_int(&t, "dtype", PP_DTYPE_I64);
    int64_t *yi = run(&t, NULL, none, &out);
    EXPECT_DIMS(&out, 2);
    cr_assert_eq(pp_ref_compare_i64("range i64", yi, (int64_t[]){10, 7}, 2), 0);
    free(yi);
    tn_init_io(&t, PP_OP_RANGE, 0, 1);
    tn_float(&t, "limit", 5);
    tn_int(&t, "dtype", PP_DTYPE_I32);
    int32_t *y32 = run(&t, NULL, none, &out);
    EXPECT_DIMS(&out, 5);
    for (int i = 0; i < 5; i++) cr_assert_eq(y32[i], i);
    free(y32);
    tn_init_io(&t, PP_OP_RANGE, 0, 1);
    tn_float(&t, "start", 3);
    tn_float(&t, "limit", 1);
    y = run(&t, NULL, none, &out);
    EXPECT_DIMS(&out, 0);
    free(y);
    tn_init_io(&t, PP_OP_RANGE, 0, 1);
    tn_float(&t, "limit", 1);
    tn_float(&t, "delta", 0);
    expect_error(&t, NULL, PP_ERR_SHAPE, "delta 0", NULL);
    tn_init_io(&t, PP_OP_RANGE, 0, 1);
    tn_float(&t, "limit", 1);
    tn_int(&t, "dtype", PP_DTYPE_BOOL);
    expect_error(&t, NULL, PP_ERR_UNSUPPORTED, "bool", NULL);
}

/* ---- depth to space / space to depth --------------------------------------------------------------------- */

Test(d2s, onnx_examples_dcr_crd_and_inverse) {
    float *x = iota_f32(48, 0.f); /* (1, 8, 2, 3) */
    tnode t;
    tn_init_io(&t, PP_OP_DEPTH_TO_SPACE, 1, 1);
    tn_int(&t, "blocksize", 2);
    pp_shape in = F32(1, 8, 2, 3), out;
    const void *inputs[1] = {x};
    float *y = run(&t, &in, inputs, &out);
    EXPECT_DIMS(&out, 1, 2, 4, 6);
    expect_f32("DCR", y,
               (float[]){0, 12, 1, 13, 2, 14, 24, 36, 25, 37, 26, 38, 3, 15, 4,  16, 5,  17, 27, 39, 28, 40, 29, 41,
                         6, 18, 7, 19, 8, 20, 30, 42, 31, 43, 32, 44, 9, 21, 10, 22, 11, 23, 33, 45, 34, 46, 35, 47},
               48, 0);
    /* SPACE_TO_DEPTH undoes DCR */
    tnode s;
    tn_init_io(&s, PP_OP_SPACE_TO_DEPTH, 1, 1);
    tn_int(&s, "blocksize", 2);
    pp_shape sin = out, sout;
    const void *sinputs[1] = {y};
    float *back = run(&s, &sin, sinputs, &sout);
    EXPECT_DIMS(&sout, 1, 8, 2, 3);
    expect_f32("S2D(DCR)", back, x, 48, 0);
    free(back);
    free(y);

    tn_init_io(&t, PP_OP_DEPTH_TO_SPACE, 1, 1);
    tn_int(&t, "blocksize", 2);
    tn_str(&t, "mode", "CRD");
    y = run(&t, &in, inputs, &out);
    expect_f32("CRD", y, (float[]){0,  6,  1,  7,  2,  8,  12, 18, 13, 19, 14, 20, 3,  9,  4,  10,
                                   5,  11, 15, 21, 16, 22, 17, 23, 24, 30, 25, 31, 26, 32, 36, 42,
                                   37, 43, 38, 44, 27, 33, 28, 34, 29, 35, 39, 45, 40, 46, 41, 47},
               48, 0);
    free(y);
    free(x);

    /* i64, blocksize 3 round trip through a batch of 2 */
    int64_t xi[2 * 9 * 2 * 2];
    for (int i = 0; i < 72; i++) xi[i] = i * 3 - 50;
    tn_init_io(&t, PP_OP_DEPTH_TO_SPACE, 1, 1);
    tn_int(&t, "blocksize", 3);
    in = SHAPE(PP_DTYPE_I64, 2, 9, 2, 2);
    inputs[0] = xi;
    int64_t *yi = run(&t, &in, inputs, &out);
    EXPECT_DIMS(&out, 2, 1, 6, 6);
    sin = out;
    sinputs[0] = yi;
    tn_init_io(&s, PP_OP_SPACE_TO_DEPTH, 1, 1);
    tn_int(&s, "blocksize", 3);
    int64_t *bi = run(&s, &sin, sinputs, &sout);
    cr_assert_eq(pp_ref_compare_i64("S2D(D2S) i64", bi, xi, 72), 0);
    free(bi);
    free(yi);

    tn_init_io(&t, PP_OP_DEPTH_TO_SPACE, 1, 1);
    tn_int(&t, "blocksize", 2);
    in = F32(1, 6, 2, 2);
    expect_error(&t, &in, PP_ERR_SHAPE, "axis 1", "6");
    tn_init_io(&s, PP_OP_SPACE_TO_DEPTH, 1, 1);
    tn_int(&s, "blocksize", 2);
    in = F32(1, 2, 4, 3);
    expect_error(&s, &in, PP_ERR_SHAPE, "axis 3", "3");
}

/* ---- cumsum ------------------------------------------------------------------------------------------------- */

static float *cumsum_run(const float *x, pp_shape in, int64_t axis, int exclusive, int reverse) {
    tnode t;
    tn_init_io(&t, PP_OP_CUMSUM, 1, 1);
    tn_int(&t, "axis", axis);
    tn_int(&t, "exclusive", exclusive);
    tn_int(&t, "reverse", reverse);
    const void *inputs[1] = {x};
    return run(&t, &in, inputs, NULL);
}

Test(cumsum, onnx_examples) {
    const float x[] = {1, 2, 3, 4, 5};
    float *y = cumsum_run(x, F32(5), 0, 0, 0);
    expect_f32("cumsum", y, (float[]){1, 3, 6, 10, 15}, 5, 0);
    free(y);
    y = cumsum_run(x, F32(5), 0, 1, 0);
    expect_f32("exclusive", y, (float[]){0, 1, 3, 6, 10}, 5, 0);
    free(y);
    y = cumsum_run(x, F32(5), 0, 0, 1);
    expect_f32("reverse", y, (float[]){15, 14, 12, 9, 5}, 5, 0);
    free(y);
    y = cumsum_run(x, F32(5), -1, 1, 1);
    expect_f32("reverse exclusive", y, (float[]){14, 12, 9, 5, 0}, 5, 0);
    free(y);
    const float x2[] = {1, 2, 3, 4, 5, 6};
    y = cumsum_run(x2, F32(2, 3), 0, 0, 0);
    expect_f32("axis 0", y, (float[]){1, 2, 3, 5, 7, 9}, 6, 0);
    free(y);
    y = cumsum_run(x2, F32(2, 3), 1, 0, 0);
    expect_f32("axis 1", y, (float[]){1, 3, 6, 4, 9, 15}, 6, 0);
    free(y);

    const int64_t xi[] = {1, 2, 3, INT64_MAX};
    tnode t;
    tn_init_io(&t, PP_OP_CUMSUM, 1, 1);
    pp_shape in = SHAPE(PP_DTYPE_I64, 4);
    const void *inputs[1] = {xi};
    int64_t *yi = run(&t, &in, inputs, NULL);
    cr_assert_eq(pp_ref_compare_i64("cumsum i64", yi, (int64_t[]){1, 3, 6, INT64_MIN + 5}, 4), 0);
    free(yi);
    const int32_t x32[] = {5, -2, 7};
    in = SHAPE(PP_DTYPE_I32, 3);
    inputs[0] = x32;
    tn_int(&t, "reverse", 1);
    int32_t *y32 = run(&t, &in, inputs, NULL);
    cr_assert(y32[0] == 10 && y32[1] == 5 && y32[2] == 7);
    free(y32);
    in = SHAPE(PP_DTYPE_BOOL, 3);
    expect_error(&t, &in, PP_ERR_UNSUPPORTED, "bool", NULL);
}

/* test_kernels_compute.c: the compute kernels besides products (batchnorm,
 * pooling, softmax, layernorm, attention, reductions) and their describe
 * functions.
 *
 * Each case builds a node by hand, runs its describe function (shapes, params,
 * errors), runs the CPU kernel on seeded random data with guard cells after the
 * output (support/compute_check.h), and compares against a naive reference
 * written here from the ONNX definition, in double.
 */
#include "support/compute_check.h"

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

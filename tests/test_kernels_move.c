/* test_kernels_move.c: the data-movement kernels that rearrange without
 * computing (copy, transpose, concat, split, slice, gather, gather_elements,
 * expand, tile) and their describe functions.
 *
 * Each case builds a node by hand, runs its describe function, then the CPU
 * kernel with guard bytes after every output (support/kernel_check.h), and
 * checks the values against hand-computed expectations (ONNX's documented
 * examples where it has them) or a naive index-by-index reference.
 */
#include "support/kernel_check.h"

/* ---- reshape family: describe and copy --------------------------------------------- */

Test(reshape, zero_copies_and_minus_one_infers) {
    tnode t;
    pp_shape in = F32(2, 3, 4), out;
    pp_op_params p;
    pp_error err;
    tn_init_io(&t, PP_OP_RESHAPE, 1, 1);
    TN_INTS(&t, "shape", 0, -1);
    cr_assert_eq(describe(&t, &in, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 2, 12);
    cr_assert_eq(p.copy.bytes, 96);
    tn_init_io(&t, PP_OP_RESHAPE, 1, 1);
    TN_INTS(&t, "shape", -1);
    cr_assert_eq(describe(&t, &in, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 24);
    tn_init_io(&t, PP_OP_RESHAPE, 1, 1);
    TN_INTS(&t, "shape", 4, 0, 2);
    cr_assert_eq(describe(&t, &in, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 4, 3, 2);
    tn_init_io(&t, PP_OP_RESHAPE, 1, 1);
    TN_INTS(&t, "shape", 0, 3, -1, 2);
    cr_assert_eq(describe(&t, &in, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 2, 3, 2, 2);
    /* allowzero: 0 is a real extent */
    pp_shape empty = F32(0, 4);
    tn_init_io(&t, PP_OP_RESHAPE, 1, 1);
    TN_INTS(&t, "shape", 4, 0);
    tn_int(&t, "allowzero", 1);
    cr_assert_eq(describe(&t, &empty, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 4, 0);
    /* the kernel copies the bytes unchanged */
    float *x = iota_f32(24, 0.f);
    tn_init_io(&t, PP_OP_RESHAPE, 1, 1);
    TN_INTS(&t, "shape", 6, -1);
    const void *inputs[1] = {x};
    float *y = run(&t, &in, inputs, &out);
    EXPECT_DIMS(&out, 6, 4);
    expect_f32("reshape", y, x, 24, 0);
    free(y);
    free(x);
}

Test(reshape, errors_name_counts_and_axes) {
    tnode t;
    pp_shape in = F32(2, 3, 4);
    tn_init_io(&t, PP_OP_RESHAPE, 1, 1);
    TN_INTS(&t, "shape", 5, 5);
    expect_error(&t, &in, PP_ERR_SHAPE, "24", "25");
    tn_init_io(&t, PP_OP_RESHAPE, 1, 1);
    TN_INTS(&t, "shape", -1, -1);
    expect_error(&t, &in, PP_ERR_SHAPE, "axis 0", "axis 1");
    tn_init_io(&t, PP_OP_RESHAPE, 1, 1);
    TN_INTS(&t, "shape", 5, -1);
    expect_error(&t, &in, PP_ERR_SHAPE, "24", "5");
    tn_init_io(&t, PP_OP_RESHAPE, 1, 1);
    TN_INTS(&t, "shape", 1, 1, 1, 0);
    expect_error(&t, &in, PP_ERR_SHAPE, "axis 3", "rank 3");
    tn_init_io(&t, PP_OP_RESHAPE, 1, 1);
    expect_error(&t, &in, PP_ERR_SHAPE, "shape", NULL);
    /* an empty shape is a scalar: only a one-element input fits */
    tn_init_io(&t, PP_OP_RESHAPE, 1, 1);
    tn_ints(&t, "shape", 0, NULL);
    expect_error(&t, &in, PP_ERR_SHAPE, "24", "has 1");
    pp_shape one = F32(1, 1), out;
    pp_op_params p;
    pp_error err;
    cr_assert_eq(describe(&t, &one, &out, &p, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(out.rank, 0);
}

Test(reshape, flatten_squeeze_unsqueeze_identity) {
    tnode t;
    pp_shape in = F32(2, 3, 4, 5), out;
    pp_op_params p;
    pp_error err;
    const int64_t axes[] = {2, 0, -1, 4};
    const int64_t want[][2] = {{6, 20}, {1, 120}, {24, 5}, {120, 1}};
    for (int i = 0; i < 4; i++) {
        tn_init_io(&t, PP_OP_FLATTEN, 1, 1);
        tn_int(&t, "axis", axes[i]);
        cr_assert_eq(describe(&t, &in, &out, &p, &err), PP_OK, "%s", err.msg);
        expect_dims(&out, 2, want[i]);
    }
    tn_init_io(&t, PP_OP_FLATTEN, 1, 1); /* default axis 1 */
    cr_assert_eq(describe(&t, &in, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 2, 60);

    pp_shape sq = F32(1, 3, 1, 2);
    tn_init_io(&t, PP_OP_SQUEEZE, 1, 1);
    cr_assert_eq(describe(&t, &sq, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 3, 2);
    tn_init_io(&t, PP_OP_SQUEEZE, 1, 1);
    TN_INTS(&t, "axes", 0);
    cr_assert_eq(describe(&t, &sq, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 3, 1, 2);
    tn_init_io(&t, PP_OP_SQUEEZE, 1, 1);
    TN_INTS(&t, "axes", -2);
    cr_assert_eq(describe(&t, &sq, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 1, 3, 2);
    tn_init_io(&t, PP_OP_SQUEEZE, 1, 1);
    TN_INTS(&t, "axes", 1);
    expect_error(&t, &sq, PP_ERR_SHAPE, "axis 1", "extent 3");
    tn_init_io(&t, PP_OP_SQUEEZE, 1, 1);
    TN_INTS(&t, "axes", 4);
    expect_error(&t, &sq, PP_ERR_SHAPE, "4", "rank 4");

    pp_shape us = F32(3, 2);
    tn_init_io(&t, PP_OP_UNSQUEEZE, 1, 1);
    TN_INTS(&t, "axes", 0, 3);
    cr_assert_eq(describe(&t, &us, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 1, 3, 2, 1);
    tn_init_io(&t, PP_OP_UNSQUEEZE, 1, 1);
    TN_INTS(&t, "axes", -1);
    cr_assert_eq(describe(&t, &us, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 3, 2, 1);
    tn_init_io(&t, PP_OP_UNSQUEEZE, 1, 1);
    TN_INTS(&t, "axes", 1, 1);
    expect_error(&t, &us, PP_ERR_SHAPE, "axis 1", "twice");

    tn_init_io(&t, PP_OP_IDENTITY, 1, 1);
    pp_shape id = SHAPE(PP_DTYPE_I64, 3);
    cr_assert_eq(describe(&t, &id, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 3);
    cr_assert_eq(out.dtype, PP_DTYPE_I64);
    cr_assert_eq(p.copy.bytes, 24);
}

/* ---- transpose ------------------------------------------------------------------------ */

static void ref_transpose(const unsigned char *x, unsigned char *y, const int64_t *dims, int r, const int *perm,
                          size_t elem) {
    int64_t is[PP_MAX_RANK], od[PP_MAX_RANK], s = 1, n = 1;
    for (int d = r - 1; d >= 0; d--) {
        is[d] = s;
        s *= dims[d];
    }
    for (int k = 0; k < r; k++) {
        od[k] = dims[perm[k]];
        n *= od[k];
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t rem = i, off = 0;
        for (int k = r - 1; k >= 0; k--) {
            off += (rem % od[k]) * is[perm[k]];
            rem /= od[k];
        }
        memcpy(y + (size_t)i * elem, x + (size_t)off * elem, elem);
    }
}

/* Runs TRANSPOSE through describe for dtype dt and compares with the reference. */
static void check_transpose(pp_dtype dt, int r, const int64_t *dims, const int *perm) {
    pp_shape in = make_shape(dt, r, dims), out;
    size_t n = numel(&in), elem = pp_dtype_size(dt);
    unsigned char *x = malloc(n * elem + 1), *ref = malloc(n * elem + 1);
    for (size_t i = 0; i < n * elem; i++) x[i] = (unsigned char)(i * 7 + i / 251);
    tnode t;
    tn_init_io(&t, PP_OP_TRANSPOSE, 1, 1);
    int64_t p64[PP_MAX_RANK];
    for (int k = 0; k < r; k++) p64[k] = perm[k];
    tn_ints(&t, "perm", r, p64);
    const void *inputs[1] = {x};
    unsigned char *y = run(&t, &in, inputs, &out);
    for (int k = 0; k < r; k++) cr_assert_eq(out.dims[k], dims[perm[k]], "axis %d", k);
    ref_transpose(x, ref, dims, r, perm, elem);
    cr_assert_eq(memcmp(y, ref, n * elem), 0, "transpose rank %d dtype %s differs", r, pp_dtype_name(dt));
    free(y);
    free(x);
    free(ref);
}

Test(transpose, several_perms_ranks_and_element_sizes) {
    const pp_dtype dts[] = {PP_DTYPE_F32, PP_DTYPE_I64, PP_DTYPE_F16, PP_DTYPE_BOOL};
    const int perms5[][5] = {{4, 3, 2, 1, 0}, {0, 2, 4, 1, 3}, {1, 0, 2, 3, 4}, {0, 1, 2, 4, 3},
                             {2, 3, 4, 0, 1}, {0, 1, 2, 3, 4}, {3, 0, 4, 2, 1}};
    for (int d = 0; d < 4; d++) {
        for (int k = 0; k < 7; k++) check_transpose(dts[d], 5, (int64_t[]){2, 3, 1, 4, 5}, perms5[k]);
        check_transpose(dts[d], 4, (int64_t[]){2, 3, 5, 7}, (int[]){0, 2, 3, 1}); /* NCHW → NHWC */
        check_transpose(dts[d], 4, (int64_t[]){2, 5, 7, 3}, (int[]){0, 3, 1, 2}); /* NHWC → NCHW */
        check_transpose(dts[d], 2, (int64_t[]){70, 130}, (int[]){1, 0});          /* tile edges */
        check_transpose(dts[d], 2, (int64_t[]){33, 1}, (int[]){1, 0});
        check_transpose(dts[d], 3, (int64_t[]){3, 40, 50}, (int[]){0, 2, 1});
        check_transpose(dts[d], 1, (int64_t[]){9}, (int[]){0});
        check_transpose(dts[d], 8, (int64_t[]){2, 1, 3, 2, 1, 2, 3, 2}, (int[]){7, 5, 3, 1, 0, 2, 4, 6});
    }
    check_transpose(PP_DTYPE_F32, 2, (int64_t[]){300, 257}, (int[]){1, 0}); /* large: the parallel path */
}

Test(transpose, odd_element_size_and_default_perm) {
    /* a 3-byte element goes through the memcpy fallback */
    pp_op_params p;
    memset(&p, 0, sizeof p);
    p.transpose.elem = 3;
    p.transpose.rank = 3;
    const int64_t dims[] = {2, 3, 4};
    const int perm[] = {2, 0, 1};
    memcpy(p.transpose.in_dims, dims, sizeof dims);
    memcpy(p.transpose.perm, perm, sizeof perm);
    unsigned char x[72], y[72], ref[72];
    for (int i = 0; i < 72; i++) x[i] = (unsigned char)i;
    const void *inputs[1] = {x};
    void *outs[1] = {y};
    cr_assert_eq(pp_cpu_transpose(&p, inputs, outs, NULL), 0);
    ref_transpose(x, ref, dims, 3, perm, 3);
    cr_assert_eq(memcmp(y, ref, 72), 0);

    tnode t;
    tn_init_io(&t, PP_OP_TRANSPOSE, 1, 1);
    pp_shape in = F32(2, 3, 4), out;
    pp_error err;
    cr_assert_eq(describe(&t, &in, &out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out, 4, 3, 2);
    TN_INTS(&t, "perm", 0, 0, 1);
    expect_error(&t, &in, PP_ERR_SHAPE, "perm", "permutation");
    tn_init_io(&t, PP_OP_TRANSPOSE, 1, 1);
    TN_INTS(&t, "perm", 1, 0);
    expect_error(&t, &in, PP_ERR_SHAPE, "2 entries", "rank 3");
}

/* ---- concat and split ------------------------------------------------------------------ */

Test(concat_split, every_axis_with_uneven_sizes_round_trips) {
    const int64_t base[3] = {2, 3, 4}, lens[3] = {1, 3, 2};
    for (int axis = 0; axis < 3; axis++) {
        pp_shape in[3];
        float *x[3];
        for (int i = 0; i < 3; i++) {
            int64_t d[3] = {base[0], base[1], base[2]};
            d[axis] = lens[i];
            in[i] = make_shape(PP_DTYPE_F32, 3, d);
            x[i] = iota_f32(numel(&in[i]), 100.f * (float)i);
        }
        tnode t;
        tn_init_io(&t, PP_OP_CONCAT, 3, 1);
        tn_int(&t, "axis", axis - 3); /* negative: counts from the end */
        const void *inputs[3] = {x[0], x[1], x[2]};
        pp_shape out;
        float *y = run(&t, in, inputs, &out);
        int64_t od[3] = {base[0], base[1], base[2]};
        od[axis] = 6;
        expect_dims(&out, 3, od);
        /* naive: walk the output, find which input and where */
        size_t n = numel(&out);
        float *ref = malloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++) {
            int64_t idx[3], rem = (int64_t)i;
            for (int d = 2; d >= 0; d--) {
                idx[d] = rem % od[d];
                rem /= od[d];
            }
            int src = 0;
            int64_t a = idx[axis];
            while (a >= lens[src]) a -= lens[src++];
            idx[axis] = a;
            const int64_t *sd = in[src].dims;
            ref[i] = x[src][(idx[0] * sd[1] + idx[1]) * sd[2] + idx[2]];
        }
        char what[64];
        snprintf(what, sizeof what, "concat axis %d", axis);
        expect_f32(what, y, ref, n, 0);

        /* split it back with explicit sizes */
        tn_init_io(&t, PP_OP_SPLIT, 1, 3);
        tn_int(&t, "axis", axis);
        tn_ints(&t, "split", 3, lens);
        const void *sin[1] = {y};
        result r = run_any(&t, &out, sin);
        cr_assert_eq(r.rc, 0);
        for (int i = 0; i < 3; i++) {
            expect_dims(&r.shape[i], 3, in[i].dims);
            snprintf(what, sizeof what, "split axis %d part %d", axis, i);
            expect_f32(what, r.data[i], x[i], numel(&in[i]), 0);
        }
        result_free(&r);
        free(ref);
        free(y);
        for (int i = 0; i < 3; i++) free(x[i]);
    }
}

Test(concat_split, equal_and_uneven_splits_and_errors) {
    tnode t;
    pp_shape in = F32(5, 4), out[MAX_OUT];
    pp_op_params p;
    pp_error err;
    tn_init_io(&t, PP_OP_SPLIT, 1, 3); /* no split, no num_outputs: over the outputs, last smaller */
    cr_assert_eq(describe(&t, &in, out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out[0], 2, 4);
    EXPECT_DIMS(&out[1], 2, 4);
    EXPECT_DIMS(&out[2], 1, 4);
    tn_init_io(&t, PP_OP_SPLIT, 1, 2);
    tn_int(&t, "axis", 1);
    tn_int(&t, "num_outputs", 2);
    cr_assert_eq(describe(&t, &in, out, &p, &err), PP_OK, "%s", err.msg);
    EXPECT_DIMS(&out[0], 5, 2);
    EXPECT_DIMS(&out[1], 5, 2);
    cr_assert_eq(p.concat.outer, 5);
    cr_assert_eq(p.concat.inner, 1);
    /* run the uneven one */
    float *x = iota_f32(20, 0.f);
    tn_init_io(&t, PP_OP_SPLIT, 1, 3);
    const void *inputs[1] = {x};
    result r = run_any(&t, &in, inputs);
    cr_assert_eq(r.rc, 0);
    expect_f32("split 0", r.data[0], x, 8, 0);
    expect_f32("split 1", r.data[1], x + 8, 8, 0);
    expect_f32("split 2", r.data[2], x + 16, 4, 0);
    result_free(&r);
    free(x);

    tn_init_io(&t, PP_OP_SPLIT, 1, 2);
    TN_INTS(&t, "split", 2, 2);
    expect_error(&t, &in, PP_ERR_SHAPE, "sums to 4", "extent 5");
    tn_init_io(&t, PP_OP_SPLIT, 1, 2);
    TN_INTS(&t, "split", 1, 1, 3);
    expect_error(&t, &in, PP_ERR_SHAPE, "3 entries", "2 outputs");
    tn_init_io(&t, PP_OP_SPLIT, 1, 2);
    tn_int(&t, "num_outputs", 3);
    expect_error(&t, &in, PP_ERR_SHAPE, "num_outputs", NULL);

    pp_shape cin[2] = {F32(2, 3), F32(2, 4)};
    tn_init_io(&t, PP_OP_CONCAT, 2, 1);
    tn_int(&t, "axis", 0);
    expect_error(&t, cin, PP_ERR_SHAPE, "axis 1", "4 vs 3");
    cin[1] = SHAPE(PP_DTYPE_I64, 2, 3);
    expect_error(&t, cin, PP_ERR_SHAPE, "i64", "f32");
}

/* ---- slice ------------------------------------------------------------------------------- */

/* SLICE of x = 0..n-1 (i64) on axis 0; expects want[0..nw). */
static void check_slice_1d(int64_t n, int64_t start, int64_t end, int64_t step, const int64_t *want, int nw) {
    int64_t *x = malloc((size_t)n * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++) x[i] = i;
    tnode t;
    tn_init_io(&t, PP_OP_SLICE, 1, 1);
    tn_ints(&t, "starts", 1, &start);
    tn_ints(&t, "ends", 1, &end);
    tn_ints(&t, "steps", 1, &step);
    pp_shape in = make_shape(PP_DTYPE_I64, 1, &n), out;
    const void *inputs[1] = {x};
    int64_t *y = run(&t, &in, inputs, &out);
    cr_assert_eq(out.dims[0], nw, "slice [%lld:%lld:%lld] has %lld elements, expected %d", (long long)start,
                 (long long)end, (long long)step, (long long)out.dims[0], nw);
    cr_assert_eq(pp_ref_compare_i64("slice", y, want, (size_t)nw), 0);
    free(y);
    free(x);
}

Test(slice, negative_steps_and_clamped_ends) {
    check_slice_1d(10, -1, INT64_MIN, -1, (int64_t[]){9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, 10);
    check_slice_1d(10, 8, 1, -3, (int64_t[]){8, 5, 2}, 3);
    check_slice_1d(10, 2, 1000, 3, (int64_t[]){2, 5, 8}, 3);
    check_slice_1d(10, -100, 3, 1, (int64_t[]){0, 1, 2}, 3);
    check_slice_1d(10, 5, 2, 1, NULL, 0);
    check_slice_1d(10, INT64_MAX, -11, -2, (int64_t[]){9, 7, 5, 3, 1}, 5);
    check_slice_1d(10, 0, INT64_MAX, INT64_MAX, (int64_t[]){0}, 1);
    check_slice_1d(10, 3, INT64_MAX, 1, (int64_t[]){3, 4, 5, 6, 7, 8, 9}, 7);
    check_slice_1d(10, -3, -1, 1, (int64_t[]){7, 8}, 2);
    check_slice_1d(10, 2, 5, -1, NULL, 0);
    check_slice_1d(10, 9, INT64_MIN, INT64_MIN, (int64_t[]){9}, 1);
}

Test(slice, multi_axis_with_axes_and_steps) {
    /* x (3, 4) = 0..11; axis -1: 3 → 0 step -2 (3, 1); axis 0: 2 → -4 step -1 (2, 1, 0) */
    float *x = iota_f32(12, 0.f);
    tnode t;
    tn_init_io(&t, PP_OP_SLICE, 1, 1);
    TN_INTS(&t, "starts", 3, 2);
    TN_INTS(&t, "ends", 0, -4);
    TN_INTS(&t, "axes", -1, 0);
    TN_INTS(&t, "steps", -2, -1);
    pp_shape in = F32(3, 4), out;
    const void *inputs[1] = {x};
    float *y = run(&t, &in, inputs, &out);
    EXPECT_DIMS(&out, 3, 2);
    expect_f32("slice 2-D", y, (float[]){11, 9, 7, 5, 3, 1}, 6, 0);
    free(y);
    free(x);

    /* (4, 5, 6), axis 1 [1:4], axis 2 [::2]: rows copied with and without a step */
    x = iota_f32(120, 0.f);
    tn_init_io(&t, PP_OP_SLICE, 1, 1);
    TN_INTS(&t, "starts", 1, 0);
    TN_INTS(&t, "ends", 4, 6);
    TN_INTS(&t, "axes", 1, 2);
    TN_INTS(&t, "steps", 1, 2);
    in = F32(4, 5, 6);
    inputs[0] = x;
    y = run(&t, &in, inputs, &out);
    EXPECT_DIMS(&out, 4, 3, 3);
    float ref[36];
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 3; c++) ref[(a * 3 + b) * 3 + c] = (float)(a * 30 + (b + 1) * 6 + c * 2);
    expect_f32("slice 3-D", y, ref, 36, 0);
    free(y);
    free(x);

    tn_init_io(&t, PP_OP_SLICE, 1, 1);
    TN_INTS(&t, "starts", 0);
    TN_INTS(&t, "ends", 1);
    TN_INTS(&t, "steps", 0);
    expect_error(&t, &in, PP_ERR_SHAPE, "step", "axis 0");
    tn_init_io(&t, PP_OP_SLICE, 1, 1);
    TN_INTS(&t, "starts", 0, 0);
    TN_INTS(&t, "ends", 1);
    expect_error(&t, &in, PP_ERR_SHAPE, "starts", NULL);
    tn_init_io(&t, PP_OP_SLICE, 1, 1);
    TN_INTS(&t, "starts", 0);
    TN_INTS(&t, "ends", 1);
    TN_INTS(&t, "axes", 3);
    expect_error(&t, &in, PP_ERR_SHAPE, "3", "rank 3");
}

/* ---- gather ------------------------------------------------------------------------------- */

Test(gather, negative_indices_axes_and_index_types) {
    float *x = iota_f32(12, 0.f); /* (3, 4) */
    const int64_t idx[] = {2, -1, 0};
    tnode t;
    tn_init_io(&t, PP_OP_GATHER, 2, 1);
    pp_shape in[2] = {F32(3, 4), SHAPE(PP_DTYPE_I64, 3)}, out;
    const void *inputs[2] = {x, idx};
    float *y = run(&t, in, inputs, &out);
    EXPECT_DIMS(&out, 3, 4);
    expect_f32("gather axis 0", y, (float[]){8, 9, 10, 11, 8, 9, 10, 11, 0, 1, 2, 3}, 12, 0);
    free(y);

    const int32_t idx32[] = {0, -1, 3, 1}; /* (2, 2) */
    tn_init_io(&t, PP_OP_GATHER, 2, 1);
    tn_int(&t, "axis", 1);
    in[1] = SHAPE(PP_DTYPE_I32, 2, 2);
    inputs[1] = idx32;
    y = run(&t, in, inputs, &out);
    EXPECT_DIMS(&out, 3, 2, 2);
    expect_f32("gather axis 1", y, (float[]){0, 3, 3, 1, 4, 7, 7, 5, 8, 11, 11, 9}, 12, 0);
    free(y);

    const int64_t one = 1; /* a scalar index drops the axis */
    tn_init_io(&t, PP_OP_GATHER, 2, 1);
    in[1] = SHAPE(PP_DTYPE_I64, 1);
    in[1].rank = 0;
    inputs[1] = &one;
    y = run(&t, in, inputs, &out);
    EXPECT_DIMS(&out, 4);
    expect_f32("gather scalar", y, (float[]){4, 5, 6, 7}, 4, 0);
    free(y);
    free(x);
}

Test(gather, out_of_range_returns_nonzero_and_writes_nothing) {
    float *x = iota_f32(12, 0.f);
    const int64_t bad[][2] = {{0, 3}, {-4, 0}, {INT64_MIN, 0}, {0, INT64_MAX}};
    for (int k = 0; k < 4; k++) {
        tnode t;
        tn_init_io(&t, PP_OP_GATHER, 2, 1);
        pp_shape in[2] = {F32(3, 4), SHAPE(PP_DTYPE_I64, 2)};
        const void *inputs[2] = {x, bad[k]};
        result r = run_any(&t, in, inputs);
        cr_assert_neq(r.rc, 0, "index pair %d accepted", k);
        for (size_t i = 0; i < r.bytes[0]; i++)
            cr_assert_eq(((unsigned char *)r.data[0])[i], GUARD_BYTE, "output byte %zu written", i);
        result_free(&r);
    }
    /* constant indices are checked at describe time, naming the index */
    const int64_t idx[] = {1, 5};
    const void *consts[2] = {NULL, idx};
    tnode t;
    tn_init_io(&t, PP_OP_GATHER, 2, 1);
    pp_shape in[2] = {F32(3, 4), SHAPE(PP_DTYPE_I64, 2)}, out;
    pp_op_params p;
    pp_error err;
    memset(&err, 0, sizeof err);
    cr_assert_eq(pp_op_describe(&t.node, in, &out, &p, NULL, consts, &err), PP_ERR_SHAPE);
    cr_assert(strstr(err.msg, "index 5") && strstr(err.msg, "axis 0"), "%s", err.msg);
    in[1] = F32(2);
    expect_error(&t, in, PP_ERR_SHAPE, "indices", "f32");
    free(x);
}

Test(gather, gather_elements_onnx_examples_and_range_checks) {
    const float d1[] = {1, 2, 3, 4};
    const int64_t i1[] = {0, 0, 1, 0};
    tnode t;
    tn_init_io(&t, PP_OP_GATHER_ELEMENTS, 2, 1);
    tn_int(&t, "axis", 1);
    pp_shape in[2] = {F32(2, 2), SHAPE(PP_DTYPE_I64, 2, 2)}, out;
    const void *inputs[2] = {d1, i1};
    float *y = run(&t, in, inputs, &out);
    EXPECT_DIMS(&out, 2, 2);
    expect_f32("gather_elements axis 1", y, (float[]){1, 1, 4, 3}, 4, 0);
    free(y);

    const float d2[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const int32_t i2[] = {1, 2, 0, 2, 0, -3}; /* -3 ≡ 0 */
    tn_init_io(&t, PP_OP_GATHER_ELEMENTS, 2, 1);
    in[0] = F32(3, 3);
    in[1] = SHAPE(PP_DTYPE_I32, 2, 3);
    inputs[0] = d2;
    inputs[1] = i2;
    y = run(&t, in, inputs, &out);
    EXPECT_DIMS(&out, 2, 3);
    expect_f32("gather_elements axis 0", y, (float[]){4, 8, 3, 7, 2, 3}, 6, 0);
    free(y);

    const int32_t i3[] = {1, 2, 3, 0, 0, 0};
    inputs[1] = i3;
    result r = run_any(&t, in, inputs);
    cr_assert_neq(r.rc, 0);
    for (size_t i = 0; i < r.bytes[0]; i++) cr_assert_eq(((unsigned char *)r.data[0])[i], GUARD_BYTE);
    result_free(&r);

    in[1] = SHAPE(PP_DTYPE_I32, 2, 4);
    expect_error(&t, in, PP_ERR_SHAPE, "axis 1", "4 > 3");
}

/* ---- expand and tile -------------------------------------------------------------------------- */

Test(expand, bidirectional_broadcast) {
    const float x[] = {1, 2, 3}; /* (3, 1) */
    tnode t;
    tn_init_io(&t, PP_OP_EXPAND, 1, 1);
    TN_INTS(&t, "shape", 2, 1, 6);
    pp_shape in = F32(3, 1), out;
    const void *inputs[1] = {x};
    float *y = run(&t, &in, inputs, &out);
    EXPECT_DIMS(&out, 2, 3, 6);
    float ref[36];
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 6; j++) ref[(b * 3 + i) * 6 + j] = (float)(i + 1);
    expect_f32("expand", y, ref, 36, 0);
    free(y);

    tn_init_io(&t, PP_OP_EXPAND, 1, 1); /* the shape may be smaller: output keeps x's extents */
    TN_INTS(&t, "shape", 1);
    y = run(&t, &in, inputs, &out);
    EXPECT_DIMS(&out, 3, 1);
    expect_f32("expand to 1", y, x, 3, 0);
    free(y);

    const int64_t xi[] = {5, 6}; /* (2) → (3, 2) */
    tn_init_io(&t, PP_OP_EXPAND, 1, 1);
    TN_INTS(&t, "shape", 3, 1);
    in = SHAPE(PP_DTYPE_I64, 2);
    inputs[0] = xi;
    int64_t *yi = run(&t, &in, inputs, &out);
    EXPECT_DIMS(&out, 3, 2);
    cr_assert_eq(pp_ref_compare_i64("expand i64", yi, (int64_t[]){5, 6, 5, 6, 5, 6}, 6), 0);
    free(yi);

    tn_init_io(&t, PP_OP_EXPAND, 1, 1); /* an empty shape broadcasts to x itself */
    tn_ints(&t, "shape", 0, NULL);
    in = SHAPE(PP_DTYPE_I64, 2);
    yi = run(&t, &in, inputs, &out);
    EXPECT_DIMS(&out, 2);
    cr_assert_eq(pp_ref_compare_i64("expand to ()", yi, xi, 2), 0);
    free(yi);

    tn_init_io(&t, PP_OP_EXPAND, 1, 1);
    TN_INTS(&t, "shape", 4, 3);
    in = F32(2, 3);
    expect_error(&t, &in, PP_ERR_SHAPE, "axis 0", "2 and 4");
}

Test(expand, tile_repeats) {
    const float x[] = {1, 2, 3, 4, 5, 6}; /* (2, 3) */
    tnode t;
    tn_init_io(&t, PP_OP_TILE, 1, 1);
    TN_INTS(&t, "repeats", 2, 2);
    pp_shape in = F32(2, 3), out;
    const void *inputs[1] = {x};
    float *y = run(&t, &in, inputs, &out);
    EXPECT_DIMS(&out, 4, 6);
    expect_f32("tile", y, (float[]){1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}, 24, 0);
    free(y);
    tn_init_io(&t, PP_OP_TILE, 1, 1);
    TN_INTS(&t, "repeats", 1, 0);
    y = run(&t, &in, inputs, &out);
    EXPECT_DIMS(&out, 2, 0);
    free(y);
    tn_init_io(&t, PP_OP_TILE, 1, 1);
    TN_INTS(&t, "repeats", 3, 1);
    in = F32(1, 3);
    y = run(&t, &in, inputs, &out);
    EXPECT_DIMS(&out, 3, 3);
    expect_f32("tile rows", y, (float[]){1, 2, 3, 1, 2, 3, 1, 2, 3}, 9, 0);
    free(y);
    tn_init_io(&t, PP_OP_TILE, 1, 1);
    TN_INTS(&t, "repeats", 2);
    expect_error(&t, &in, PP_ERR_SHAPE, "1 entries", "rank 2");
}

/* test_kernels_data.c: the data-movement kernels (copy, transpose, concat,
 * split, slice, gather, gather_elements, expand, tile, pad, resize, trilu,
 * fill, depth/space, cumsum) and their describe functions.
 *
 * Each case builds a node by hand, runs its describe function, then the CPU
 * kernel with guard bytes after every output, and checks the values against
 * hand-computed expectations (ONNX's documented examples where it has them) or
 * a naive index-by-index reference.
 */
#include <criterion/criterion.h>
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
#define MAX_OUT 8

/* ---- building nodes and shapes ------------------------------------------- */

static pp_code describe(tnode *t, const pp_shape *in, pp_shape *out, pp_op_params *p, pp_error *err) {
    pp_cost cost;
    memset(err, 0, sizeof *err);
    return pp_op_describe(&t->node, in, out, p, &cost, NULL, err);
}

/* Describe must fail with `code` and a message holding the node's name and each
 * given fragment. */
static void expect_error(tnode *t, const pp_shape *in, pp_code code, const char *frag1, const char *frag2) {
    pp_shape out[MAX_OUT];
    pp_op_params p;
    pp_error err;
    pp_code rc = describe(t, in, out, &p, &err);
    cr_assert_eq(rc, code, "expected error %d, got %d (%s)", code, rc, err.msg);
    cr_assert(strstr(err.msg, "test_node") != NULL, "message lacks the node name: %s", err.msg);
    if (frag1) cr_assert(strstr(err.msg, frag1) != NULL, "message lacks '%s': %s", frag1, err.msg);
    if (frag2) cr_assert(strstr(err.msg, frag2) != NULL, "message lacks '%s': %s", frag2, err.msg);
}

static pp_cpu_kernel_fn kernel_for(pp_op op) {
    switch (op) {
    case PP_OP_IDENTITY:
    case PP_OP_FLATTEN:
    case PP_OP_RESHAPE:
    case PP_OP_SQUEEZE:
    case PP_OP_UNSQUEEZE: return pp_cpu_copy;
    case PP_OP_TRANSPOSE: return pp_cpu_transpose;
    case PP_OP_CONCAT: return pp_cpu_concat;
    case PP_OP_SPLIT: return pp_cpu_split;
    case PP_OP_SLICE: return pp_cpu_slice;
    case PP_OP_GATHER: return pp_cpu_gather;
    case PP_OP_GATHER_ELEMENTS: return pp_cpu_gather_elements;
    case PP_OP_EXPAND:
    case PP_OP_TILE: return pp_cpu_expand;
    case PP_OP_PAD: return pp_cpu_pad;
    case PP_OP_RESIZE: return pp_cpu_resize;
    case PP_OP_TRILU: return pp_cpu_trilu;
    case PP_OP_SHAPE:
    case PP_OP_CONSTANT_OF_SHAPE:
    case PP_OP_RANGE: return pp_cpu_fill;
    case PP_OP_DEPTH_TO_SPACE:
    case PP_OP_SPACE_TO_DEPTH: return pp_cpu_d2s;
    case PP_OP_CUMSUM: return pp_cpu_cumsum;
    default: cr_assert_fail("no kernel for op %d", op);
    }
    return NULL;
}

typedef struct result {
    int n, rc;
    pp_shape shape[MAX_OUT];
    void *data[MAX_OUT];
    size_t bytes[MAX_OUT];
} result;

/* Describes t over in[], runs its kernel with every output pre-filled with
 * GUARD_BYTE and followed by GUARD guard bytes, and checks the guards. */
static result run_any(tnode *t, const pp_shape *in, const void *const *inputs) {
    result r;
    memset(&r, 0, sizeof r);
    pp_op_params p;
    pp_error err;
    pp_code rc = describe(t, in, r.shape, &p, &err);
    cr_assert_eq(rc, PP_OK, "describe failed: %s", err.msg);
    r.n = t->node.n_out;
    for (int i = 0; i < r.n; i++) {
        r.bytes[i] = numel(&r.shape[i]) * pp_dtype_size(r.shape[i].dtype);
        r.data[i] = malloc(r.bytes[i] + GUARD);
        cr_assert(r.data[i]);
        memset(r.data[i], GUARD_BYTE, r.bytes[i] + GUARD);
    }
    r.rc = kernel_for(t->node.op)(&p, inputs, r.data, NULL);
    for (int i = 0; i < r.n; i++)
        for (size_t k = 0; k < GUARD; k++)
            cr_assert_eq(((unsigned char *)r.data[i])[r.bytes[i] + k], GUARD_BYTE,
                         "output %d: guard byte %zu overwritten", i, k);
    return r;
}

/* The same, requiring the kernel to succeed; returns output 0. */
static void *run(tnode *t, const pp_shape *in, const void *const *inputs, pp_shape *out) {
    result r = run_any(t, in, inputs);
    cr_assert_eq(r.rc, 0, "kernel returned %d", r.rc);
    for (int i = 1; i < r.n; i++) free(r.data[i]);
    if (out) *out = r.shape[0];
    return r.data[0];
}

static void result_free(result *r) {
    for (int i = 0; i < r->n; i++) free(r->data[i]);
}

static float *iota_f32(size_t n, float start) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    cr_assert(x);
    for (size_t i = 0; i < n; i++) x[i] = start + (float)i;
    return x;
}

static void expect_f32(const char *what, const float *y, const float *ref, size_t n, float tol) {
    cr_assert_eq(pp_ref_compare(what, y, ref, n, tol, tol), 0, "%s mismatches", what);
}

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

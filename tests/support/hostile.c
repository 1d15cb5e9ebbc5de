/* hostile.c: see hostile.h. */
#include "support/hostile.h"

#include <stddef.h>
#include <stdint.h>

#define INTS(nm, ...)                                                                                                  \
    {                                                                                                                  \
        .name = nm, .type = PP_ATTR_INTS, .ints = (const int64_t[]){__VA_ARGS__},                                      \
        .count = (uint32_t)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))                                  \
    }
#define INT(nm, v)                                                                                                     \
    { .name = nm, .type = PP_ATTR_INT, .i = (v) }
#define FLT(nm, v)                                                                                                     \
    { .name = nm, .type = PP_ATTR_FLOAT, .f = (v) }
#define STR(nm, v)                                                                                                     \
    { .name = nm, .type = PP_ATTR_STRING, .s = (v) }

#define MAX INT64_MAX
#define MIN INT64_MIN
#define P62 ((int64_t)1 << 62)
#define P32 ((int64_t)1 << 32)
#define N PP_DIM_BATCH

/* The node's input(s). */
typedef enum layout {
    IMAGE,     /* x (N, 1, 8, 8); a conv also gets the weight w (1, 1, 3, 3) */
    LONG_CONV, /* x (N, 1, 2^40, 1) and w (1, 1, 2^40, 1), both inputs: the kernel extent itself is large */
    MATRIX,    /* x (N, 8) */
    CELL,      /* x (1, 1), no batch axis */
    DEEP,      /* x (1, 2^40, 0, 0): many channels, no elements */
    NOTHING,   /* no input (RANGE, CONSTANT_OF_SHAPE) */
} layout;

typedef struct spec {
    pp_hostile h;
    pp_op op;
    layout in;
    pp_model_attr attrs[4];
    int out_rank; /* an accepted case's output, as stored in the file; 0 when refused */
    int64_t out[4];
} spec;

#define REFUSED                                                                                                        \
    0, { 0 }

// clang-format off
static const spec cases[] = {
    /* ---- CONV: strides, dilations, pads, group ---- */
    {{"conv-stride-zero", "strides", "0"}, PP_OP_CONV, IMAGE, {INTS("strides", 0, 1)}, REFUSED},
    {{"conv-stride-int64-min", "strides", "-9223372036854775808"}, PP_OP_CONV, IMAGE, {INTS("strides", MIN, 1)}, REFUSED},
    {{"conv-stride-int64-max-same", "strides", "9223372036854775807"}, PP_OP_CONV, IMAGE,
     {INTS("strides", 1, MAX), STR("auto_pad", "SAME_UPPER")}, REFUSED},
    {{"conv-dilation-int64-max", "dilations", "9223372036854775807"}, PP_OP_CONV, IMAGE, {INTS("dilations", MAX, 1)}, REFUSED},
    {{"conv-dilation-2^62", "dilations", "4611686018427387904"}, PP_OP_CONV, IMAGE,
     {INTS("dilations", 1, P62)}, REFUSED},
    {{"conv-dilation-times-kernel", "dilations", "16777216"}, PP_OP_CONV, LONG_CONV,
     {INTS("dilations", 1 << 24, 1)}, REFUSED},
    {{"conv-dilation-negative", "dilations", "-2"}, PP_OP_CONV, IMAGE, {INTS("dilations", 1, -2)}, REFUSED},
    {{"conv-pads-int64-max", "pads", "9223372036854775807"}, PP_OP_CONV, IMAGE, {INTS("pads", MAX, 0, 0, 0)}, REFUSED},
    {{"conv-pads-sum-past-2^63", "pads", "4611686018427387904"}, PP_OP_CONV, IMAGE, {INTS("pads", 0, P62, 0, P62)}, REFUSED},
    {{"conv-pads-int64-min", "pads", "-9223372036854775808"}, PP_OP_CONV, IMAGE, {INTS("pads", 0, 0, MIN, 0)}, REFUSED},
    {{"conv-pads-negative", "pads", "-1"}, PP_OP_CONV, IMAGE, {INTS("pads", -1, 0, 0, 0)}, REFUSED},
    {{"conv-group-zero", "group", "0"}, PP_OP_CONV, IMAGE, {INT("group", 0)}, REFUSED},
    {{"conv-group-int64-min", "group", "-9223372036854775808"}, PP_OP_CONV, IMAGE, {INT("group", MIN)}, REFUSED},
    {{"conv-group-int64-max", "group", "9223372036854775807"}, PP_OP_CONV, IMAGE, {INT("group", MAX)}, REFUSED},
    {{"conv-kernel-shape-int64-max", "kernel_shape", "9223372036854775807"}, PP_OP_CONV, IMAGE,
     {INTS("kernel_shape", MAX, 3)}, REFUSED},
    /* ---- MAXPOOL, AVGPOOL: kernel_shape, strides, dilations, pads ---- */
    {{"maxpool-kernel-int64-max", "kernel_shape", "9223372036854775807"}, PP_OP_MAXPOOL, IMAGE,
     {INTS("kernel_shape", MAX, 1)}, REFUSED},
    {{"maxpool-kernel-int64-min", "kernel_shape", "-9223372036854775808"}, PP_OP_MAXPOOL, IMAGE,
     {INTS("kernel_shape", 1, MIN)}, REFUSED},
    {{"maxpool-kernel-zero", "kernel_shape", "0"}, PP_OP_MAXPOOL, IMAGE, {INTS("kernel_shape", 0, 2)}, REFUSED},
    {{"maxpool-stride-zero", "strides", "0"}, PP_OP_MAXPOOL, IMAGE,
     {INTS("kernel_shape", 2, 2), INTS("strides", 2, 0)}, REFUSED},
    {{"maxpool-stride-int64-max-ceil", "strides", "9223372036854775807"}, PP_OP_MAXPOOL, IMAGE,
     {INTS("kernel_shape", 2, 2), INTS("strides", MAX, 1), INT("ceil_mode", 1)}, REFUSED},
    {{"maxpool-stride-int64-max-same", "strides", "9223372036854775807"}, PP_OP_MAXPOOL, IMAGE,
     {INTS("kernel_shape", 2, 2), INTS("strides", 1, MAX), STR("auto_pad", "SAME_LOWER")}, REFUSED},
    {{"maxpool-dilation-2^62", "dilations", "4611686018427387904"}, PP_OP_MAXPOOL, IMAGE,
     {INTS("kernel_shape", 3, 3), INTS("dilations", P62, 1)}, REFUSED},
    {{"maxpool-dilation-times-kernel", "dilations", "16777216"}, PP_OP_MAXPOOL, IMAGE,
     {INTS("kernel_shape", (int64_t)1 << 40, 1), INTS("dilations", 1 << 24, 1)}, REFUSED},
    {{"avgpool-pads-int64-max", "pads", "9223372036854775807"}, PP_OP_AVGPOOL, IMAGE,
     {INTS("kernel_shape", 3, 3), INTS("pads", 0, MAX, 0, 0)}, REFUSED},
    {{"avgpool-pads-int64-min", "pads", "-9223372036854775808"}, PP_OP_AVGPOOL, IMAGE,
     {INTS("kernel_shape", 3, 3), INTS("pads", 0, 0, 0, MIN)}, REFUSED},
    {{"avgpool-kernel-2^32-squared", "kernel_shape", "4294967296"}, PP_OP_AVGPOOL, IMAGE,
     {INTS("kernel_shape", P32, P32)}, REFUSED},
    /* ---- RESHAPE: shape ---- */
    {{"reshape-int64-max", "shape", "9223372036854775807"}, PP_OP_RESHAPE, MATRIX, {INTS("shape", 1, MAX)}, REFUSED},
    {{"reshape-int64-min", "shape", "-9223372036854775808"}, PP_OP_RESHAPE, MATRIX, {INTS("shape", MIN, 8)}, REFUSED},
    {{"reshape-negative", "shape", "-2"}, PP_OP_RESHAPE, MATRIX, {INTS("shape", -2, 8)}, REFUSED},
    {{"reshape-product-past-2^63", "shape", "4294967296"}, PP_OP_RESHAPE, MATRIX, {INTS("shape", P32, P32, 2)}, REFUSED},
    /* ---- SLICE: starts, ends, axes, steps ---- */
    {{"slice-step-zero", "steps", "0"}, PP_OP_SLICE, MATRIX,
     {INTS("starts", 0), INTS("ends", 8), INTS("axes", 1), INTS("steps", 0)}, REFUSED},
    {{"slice-axis-int64-min", "axes", "-9223372036854775808"}, PP_OP_SLICE, MATRIX,
     {INTS("starts", 0), INTS("ends", 8), INTS("axes", MIN)}, REFUSED},
    {{"slice-axis-int64-max", "axes", "9223372036854775807"}, PP_OP_SLICE, MATRIX,
     {INTS("starts", 0), INTS("ends", 8), INTS("axes", MAX)}, REFUSED},
    /* legal extremes: all of axis 1, and its last element walking back by INT64_MIN */
    {{"slice-int64-min-to-max", "starts", NULL}, PP_OP_SLICE, MATRIX,
     {INTS("starts", MIN), INTS("ends", MAX), INTS("axes", 1), INTS("steps", 1)}, 2, {N, 8}},
    {{"slice-step-int64-min", "steps", NULL}, PP_OP_SLICE, MATRIX,
     {INTS("starts", MAX), INTS("ends", MIN), INTS("axes", 1), INTS("steps", MIN)}, 2, {N, 1}},
    {{"slice-step-int64-max", "steps", NULL}, PP_OP_SLICE, MATRIX,
     {INTS("starts", MIN), INTS("ends", MAX), INTS("axes", -1), INTS("steps", MAX)}, 2, {N, 1}},
    /* ---- EXPAND: shape ---- */
    {{"expand-int64-max", "shape", "9223372036854775807"}, PP_OP_EXPAND, CELL, {INTS("shape", 1, MAX)}, REFUSED},
    {{"expand-int64-min", "shape", "-9223372036854775808"}, PP_OP_EXPAND, CELL, {INTS("shape", MIN, 1)}, REFUSED},
    {{"expand-product-past-2^63", "shape", "4294967296"}, PP_OP_EXPAND, CELL, {INTS("shape", P32, P32)}, REFUSED},
    /* ---- TILE: repeats ---- */
    {{"tile-int64-max", "repeats", "9223372036854775807"}, PP_OP_TILE, CELL, {INTS("repeats", 1, MAX)}, REFUSED},
    {{"tile-int64-min", "repeats", "-9223372036854775808"}, PP_OP_TILE, CELL, {INTS("repeats", MIN, 1)}, REFUSED},
    {{"tile-product-past-2^63", "repeats", "4294967296"}, PP_OP_TILE, CELL, {INTS("repeats", P32, P32)}, REFUSED},
    /* ---- PAD: pads ---- */
    {{"pad-int64-max", "pads", "9223372036854775807"}, PP_OP_PAD, MATRIX, {INTS("pads", 0, 0, 0, MAX)}, REFUSED},
    {{"pad-int64-min", "pads", "-9223372036854775808"}, PP_OP_PAD, MATRIX, {INTS("pads", 0, MIN, 0, 0)}, REFUSED},
    {{"pad-product-past-2^63", "pads", "1099511627776"}, PP_OP_PAD, CELL,
     {INTS("pads", (int64_t)1 << 40, (int64_t)1 << 40, 0, 0)}, REFUSED},
    /* ---- RANGE: start, limit, delta ---- */
    {{"range-delta-zero", "delta", "0"}, PP_OP_RANGE, NOTHING,
     {FLT("start", 0), FLT("limit", 10), FLT("delta", 0), INT("dtype", PP_DTYPE_I64)}, REFUSED},
    {{"range-int64-min-to-max", "limit", "9223372036854775807"}, PP_OP_RANGE, NOTHING,
     {INT("start", MIN), INT("limit", MAX), INT("delta", 1), INT("dtype", PP_DTYPE_I64)}, REFUSED},
    {{"range-past-int64", "start", "9223372036854775807"}, PP_OP_RANGE, NOTHING,
     {INT("start", MAX), FLT("limit", 9.3e18), INT("delta", 1), INT("dtype", PP_DTYPE_I64)}, REFUSED},
    {{"range-float-overflow", "limit", "1e+308"}, PP_OP_RANGE, NOTHING,
     {FLT("start", -1e308), FLT("limit", 1e308), FLT("delta", 1), INT("dtype", PP_DTYPE_F32)}, REFUSED},
    {{"range-delta-int64-max", "delta", NULL}, PP_OP_RANGE, NOTHING,
     {INT("start", 0), INT("limit", 1), INT("delta", MAX), INT("dtype", PP_DTYPE_I64)}, 1, {1}},
    /* ---- CONSTANT_OF_SHAPE, SPACE_TO_DEPTH ---- */
    {{"constant-of-shape-int64-max", "shape", "9223372036854775807"}, PP_OP_CONSTANT_OF_SHAPE, NOTHING,
     {INTS("shape", MAX)}, REFUSED},
    {{"constant-of-shape-product-past-2^63", "shape", "4294967296"}, PP_OP_CONSTANT_OF_SHAPE, NOTHING,
     {INTS("shape", P32, P32)}, REFUSED},
    {{"space-to-depth-blocksize-times-channels", "blocksize", "4096"}, PP_OP_SPACE_TO_DEPTH, DEEP,
     {INT("blocksize", 4096)}, REFUSED},
};
// clang-format on

int pp_hostile_count(void) { return (int)(sizeof cases / sizeof cases[0]); }

const pp_hostile *pp_hostile_get(int i) { return &cases[i].h; }

static int n_attrs(const spec *s) {
    int n = 0;
    while (n < 4 && s->attrs[n].name) n++;
    return n;
}

pp_mb *pp_hostile_build(int i) {
    const spec *s = &cases[i];
    pp_mb *b = pp_mb_new();
    if (!b) return NULL;
    uint32_t in[2], n_in = 0;
    switch (s->in) {
    case IMAGE:
        in[n_in++] = pp_mb_input(b, "x", PP_DTYPE_F32, 4, (const int64_t[]){N, 1, 8, 8});
        if (s->op == PP_OP_CONV)
            in[n_in++] = pp_mb_weight(b, "w", PP_DTYPE_F32, 4, (const int64_t[]){1, 1, 3, 3}, NULL);
        break;
    case LONG_CONV:
        in[n_in++] = pp_mb_input(b, "x", PP_DTYPE_F32, 4, (const int64_t[]){N, 1, (int64_t)1 << 40, 1});
        in[n_in++] = pp_mb_input(b, "w", PP_DTYPE_F32, 4, (const int64_t[]){1, 1, (int64_t)1 << 40, 1});
        break;
    case MATRIX: in[n_in++] = pp_mb_input(b, "x", PP_DTYPE_F32, 2, (const int64_t[]){N, 8}); break;
    case CELL: in[n_in++] = pp_mb_input(b, "x", PP_DTYPE_F32, 2, (const int64_t[]){1, 1}); break;
    case DEEP: in[n_in++] = pp_mb_input(b, "x", PP_DTYPE_F32, 4, (const int64_t[]){1, (int64_t)1 << 40, 0, 0}); break;
    case NOTHING: break;
    }
    /* A refused case never reaches its output's shape; an accepted one must
     * match the file's. */
    int rank = s->out_rank ? s->out_rank : 1;
    const int64_t one[4] = {1, 1, 1, 1};
    pp_dtype dt = s->op == PP_OP_RANGE ? PP_DTYPE_I64 : PP_DTYPE_F32;
    uint32_t y = pp_mb_activation(b, "y", dt, rank, s->out_rank ? s->out : one);
    pp_mb_add_node(b, s->op, s->h.name, in, n_in, &y, 1, s->attrs, (uint32_t)n_attrs(s));
    pp_mb_add_output(b, y);
    if (!pp_mb_model(b)) {
        pp_mb_free(b);
        return NULL;
    }
    return b;
}

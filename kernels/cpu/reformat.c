/* reformat.c: REFORMAT, one tensor into another dtype and layout (params.h).
 *
 * The reference: element by element, through f32. A rank-4 tensor's element
 * (n, c, h, w) sits at
 *   plain  ((n·C + c)·H + h)·W + w
 *   NHWC   ((n·H + h)·W + w)·C + c
 *   NCHWc  (((n·⌈C/b⌉ + c/b)·H + h)·W + w)·b + c mod b
 * and the padding lanes of an NCHWc output (c ≥ C) are written as zeros.
 */
#include <string.h>

#include "cpu_kernels.h"
#include "omp.h"

static int64_t offset(const pp_format *f, const pp_reformat_params *r, int64_t n, int64_t c, int64_t h, int64_t w) {
    switch (f->layout) {
    case PP_LAYOUT_NHWC: return ((n * r->h + h) * r->w + w) * r->c + c;
    case PP_LAYOUT_NCHWC: {
        int64_t b = f->block, cb = (r->c + b - 1) / b;
        return (((n * cb + c / b) * r->h + h) * r->w + w) * b + c % b;
    }
    default: return ((n * r->c + c) * r->h + h) * r->w + w;
    }
}

static float load(pp_dtype t, const void *p, int64_t i) {
    switch (t) {
    case PP_DTYPE_F16: return pp_f16_to_f32(((const uint16_t *)p)[i]);
    case PP_DTYPE_BF16: return pp_bf16_to_f32(((const uint16_t *)p)[i]);
    default: return ((const float *)p)[i];
    }
}

static void store(pp_dtype t, void *p, int64_t i, float v) {
    switch (t) {
    case PP_DTYPE_F16: ((uint16_t *)p)[i] = pp_f32_to_f16(v); break;
    case PP_DTYPE_BF16: ((uint16_t *)p)[i] = pp_f32_to_bf16(v); break;
    default: ((float *)p)[i] = v; break;
    }
}

static int is_float(pp_dtype t) { return t == PP_DTYPE_F32 || t == PP_DTYPE_F16 || t == PP_DTYPE_BF16; }

int pp_cpu_reformat(const pp_op_params *pp, const void *const *in, void *const *out, void *ws) {
    (void)ws;
    const pp_reformat_params *r = &pp->reformat;
    const void *x = in[0];
    void *y = out[0];
    size_t es = pp_dtype_bytes(r->to.dtype);
    if (r->from.dtype != r->to.dtype && (!is_float(r->from.dtype) || !is_float(r->to.dtype))) return 1;
    if (r->from.layout == r->to.layout && r->from.dtype == r->to.dtype && r->from.block == r->to.block) {
        int64_t c = r->to.layout == PP_LAYOUT_NCHWC ? (r->c + r->to.block - 1) / r->to.block * r->to.block : r->c;
        memcpy(y, x, (size_t)(r->n * c * r->h * r->w) * es);
        return 0;
    }
    if (r->to.layout == PP_LAYOUT_NCHWC && r->c % r->to.block) {
        int64_t cb = (r->c + r->to.block - 1) / r->to.block;
        memset(y, 0, (size_t)(r->n * cb * r->to.block * r->h * r->w) * es);
    }
    if (!is_float(r->to.dtype)) {
        /* integers and bools only move: byte copies per element */
        size_t e = pp_dtype_bytes(r->from.dtype);
        for (int64_t n = 0; n < r->n; n++)
            for (int64_t c = 0; c < r->c; c++)
                for (int64_t h = 0; h < r->h; h++)
                    for (int64_t w = 0; w < r->w; w++)
                        memcpy((char *)y + offset(&r->to, r, n, c, h, w) * (int64_t)e,
                               (const char *)x + offset(&r->from, r, n, c, h, w) * (int64_t)e, e);
        return 0;
    }
    PP_OMP(omp parallel for schedule(static) if (r->count > 32768))
    for (int64_t n = 0; n < r->n; n++)
        for (int64_t c = 0; c < r->c; c++)
            for (int64_t h = 0; h < r->h; h++)
                for (int64_t w = 0; w < r->w; w++)
                    store(r->to.dtype, y, offset(&r->to, r, n, c, h, w),
                          load(r->from.dtype, x, offset(&r->from, r, n, c, h, w)));
    return 0;
}

/* cast.c: CAST between f32, f16, bf16, f64, i64, i32, i8, u8 and bool.
 *
 * Semantics (ONNX / NumPy where they are defined, a fixed choice where C would
 * leave it undefined, so no input can trap or differ between builds):
 *   float → int: truncate toward zero; NaN → 0; out of range saturates to the
 *                target's min / max.
 *   int → int:   two's-complement wrap (NumPy astype, ONNX Runtime).
 *   any → bool:  x != 0 (NaN → true); bool → any: 0 or 1 (any non-zero byte is 1).
 *   → f16/bf16:  round to nearest even, overflow → ±Inf (f64 goes through f32).
 *
 * Elements go through a small per-thread buffer in one of two carrier types:
 * double for floating sources, int64 for integer and bool sources, so an i64 →
 * i32 cast never loses bits on the way. Params: pp_eltwise_params (dtype →
 * out_dtype over count contiguous elements).
 */
#include <stdint.h>
#include <string.h>

#include "cpu_kernels.h"
#include "omp.h"

enum { CAST_CHUNK = 1024 };

static int is_float(pp_dtype t) {
    return t == PP_DTYPE_F32 || t == PP_DTYPE_F16 || t == PP_DTYPE_BF16 || t == PP_DTYPE_F64;
}

/* double → integer, truncating; NaN → 0; saturating at [lo, hi]. lo and hi are
 * exactly representable as doubles for every target but i64, whose hi (2^63-1)
 * rounds up to 2^63, hence the >= test. */
static int64_t f64_to_int(double d, double lo, double hi, int64_t ilo, int64_t ihi) {
    if (d != d) return 0;
    if (d <= lo) return ilo;
    if (d >= hi) return ihi;
    return (int64_t)d;
}

static void load_f64(pp_dtype t, const void *src, int64_t n, double *buf) {
    switch (t) {
    case PP_DTYPE_F32: {
        const float *s = src;
        for (int64_t i = 0; i < n; i++) buf[i] = s[i];
    } break;
    case PP_DTYPE_F64: memcpy(buf, src, (size_t)n * sizeof(double)); break;
    case PP_DTYPE_F16: {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) buf[i] = pp_f16_to_f32(s[i]);
    } break;
    case PP_DTYPE_BF16: {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) buf[i] = pp_bf16_to_f32(s[i]);
    } break;
    default: break;
    }
}

static void load_i64(pp_dtype t, const void *src, int64_t n, int64_t *buf) {
    switch (t) {
    case PP_DTYPE_I64: memcpy(buf, src, (size_t)n * sizeof(int64_t)); break;
    case PP_DTYPE_I32: {
        const int32_t *s = src;
        for (int64_t i = 0; i < n; i++) buf[i] = s[i];
    } break;
    case PP_DTYPE_I8: {
        const int8_t *s = src;
        for (int64_t i = 0; i < n; i++) buf[i] = s[i];
    } break;
    case PP_DTYPE_U8: {
        const uint8_t *s = src;
        for (int64_t i = 0; i < n; i++) buf[i] = s[i];
    } break;
    case PP_DTYPE_BOOL: {
        const uint8_t *s = src;
        for (int64_t i = 0; i < n; i++) buf[i] = s[i] != 0;
    } break;
    default: break;
    }
}

static void store_f64(pp_dtype t, const double *buf, int64_t n, void *dst) {
    switch (t) {
    case PP_DTYPE_F32: {
        float *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = (float)buf[i];
    } break;
    case PP_DTYPE_F64: memcpy(dst, buf, (size_t)n * sizeof(double)); break;
    case PP_DTYPE_F16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = pp_f32_to_f16((float)buf[i]);
    } break;
    case PP_DTYPE_BF16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = pp_f32_to_bf16((float)buf[i]);
    } break;
    case PP_DTYPE_I64: {
        int64_t *d = dst;
        for (int64_t i = 0; i < n; i++)
            d[i] = f64_to_int(buf[i], -9223372036854775808.0, 9223372036854775808.0, INT64_MIN, INT64_MAX);
    } break;
    case PP_DTYPE_I32: {
        int32_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = (int32_t)f64_to_int(buf[i], INT32_MIN, INT32_MAX, INT32_MIN, INT32_MAX);
    } break;
    case PP_DTYPE_I8: {
        int8_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = (int8_t)f64_to_int(buf[i], INT8_MIN, INT8_MAX, INT8_MIN, INT8_MAX);
    } break;
    case PP_DTYPE_U8: {
        uint8_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = (uint8_t)f64_to_int(buf[i], 0, UINT8_MAX, 0, UINT8_MAX);
    } break;
    case PP_DTYPE_BOOL: {
        uint8_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = buf[i] != 0;
    } break;
    default: break;
    }
}

static void store_i64(pp_dtype t, const int64_t *buf, int64_t n, void *dst) {
    switch (t) {
    case PP_DTYPE_F32: {
        float *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = (float)buf[i];
    } break;
    case PP_DTYPE_F64: {
        double *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = (double)buf[i];
    } break;
    case PP_DTYPE_F16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = pp_f32_to_f16((float)buf[i]);
    } break;
    case PP_DTYPE_BF16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = pp_f32_to_bf16((float)buf[i]);
    } break;
    case PP_DTYPE_I64: memcpy(dst, buf, (size_t)n * sizeof(int64_t)); break;
    /* Wrap through the unsigned type: conversion to a narrower unsigned type is
     * defined modulo 2^N, and GCC/Clang define the signed reinterpretation. */
    case PP_DTYPE_I32: {
        int32_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = (int32_t)(uint32_t)(uint64_t)buf[i];
    } break;
    case PP_DTYPE_I8: {
        int8_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = (int8_t)(uint8_t)(uint64_t)buf[i];
    } break;
    case PP_DTYPE_U8: {
        uint8_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = (uint8_t)(uint64_t)buf[i];
    } break;
    case PP_DTYPE_BOOL: {
        uint8_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = buf[i] != 0;
    } break;
    default: break;
    }
}

int pp_cpu_cast(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_eltwise_params *e = &p->eltwise;
    size_t si = pp_dtype_bytes(e->dtype), so = pp_dtype_bytes(e->out_dtype);
    if (!si || !so || e->count < 0) return 1;
    const int64_t n = e->count;
    if (n == 0) return 0;
    const unsigned char *src = in[0];
    unsigned char *dst = out[0];
    if (e->dtype == e->out_dtype ||
        (e->dtype == PP_DTYPE_BOOL && (e->out_dtype == PP_DTYPE_U8 || e->out_dtype == PP_DTYPE_I8))) {
        if (e->dtype == PP_DTYPE_BOOL && e->out_dtype != PP_DTYPE_BOOL) {
            for (int64_t i = 0; i < n; i++) dst[i] = src[i] != 0;
        } else if (dst != src) {
            memcpy(dst, src, (size_t)n * si);
        }
        return 0;
    }
    /* the common float conversions skip the carrier buffer */
    if (e->dtype == PP_DTYPE_F32 && (e->out_dtype == PP_DTYPE_F16 || e->out_dtype == PP_DTYPE_BF16)) {
        const float *s = in[0];
        uint16_t *d = out[0];
        const int bf = e->out_dtype == PP_DTYPE_BF16;
        PP_OMP(omp parallel for schedule(static) if (n > 32768))
        for (int64_t i = 0; i < n; i++) d[i] = bf ? pp_f32_to_bf16(s[i]) : pp_f32_to_f16(s[i]);
        return 0;
    }
    if ((e->dtype == PP_DTYPE_F16 || e->dtype == PP_DTYPE_BF16) && e->out_dtype == PP_DTYPE_F32) {
        const uint16_t *s = in[0];
        float *d = out[0];
        const int bf = e->dtype == PP_DTYPE_BF16;
        PP_OMP(omp parallel for schedule(static) if (n > 32768))
        for (int64_t i = 0; i < n; i++) d[i] = bf ? pp_bf16_to_f32(s[i]) : pp_f16_to_f32(s[i]);
        return 0;
    }
    const int from_float = is_float(e->dtype);
    const int64_t chunks = (n + CAST_CHUNK - 1) / CAST_CHUNK;
    PP_OMP(omp parallel for schedule(static) if (n > 32768))
    for (int64_t c = 0; c < chunks; c++) {
        int64_t i0 = c * CAST_CHUNK, len = n - i0 < CAST_CHUNK ? n - i0 : CAST_CHUNK;
        if (from_float) {
            double buf[CAST_CHUNK];
            load_f64(e->dtype, src + (size_t)i0 * si, len, buf);
            store_f64(e->out_dtype, buf, len, dst + (size_t)i0 * so);
        } else {
            int64_t buf[CAST_CHUNK];
            load_i64(e->dtype, src + (size_t)i0 * si, len, buf);
            store_i64(e->out_dtype, buf, len, dst + (size_t)i0 * so);
        }
    }
    return 0;
}

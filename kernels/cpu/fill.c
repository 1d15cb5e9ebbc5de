/* fill.c: ops whose output is known from the params alone.
 *   SHAPE:             y (count) i64 = ivalues (the extents, fixed at plan time)
 *   CONSTANT_OF_SHAPE: y (count) of dtype, every element = value
 *   RANGE:             y[i] = start + i·delta, f32 / f64 (computed in double)
 *                      or i64 / i32 (in integers, wrapping) */
#include <string.h>

#include "cpu_kernels.h"
#include "omp.h"

static int64_t to_int(double v, double lo, double hi) {
    if (v != v) return 0;
    if (v <= lo) return (int64_t)lo;
    if (v >= hi) return (int64_t)hi;
    return (int64_t)v;
}

static int64_t to_i64(double v) {
    if (v != v) return 0;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    if (v >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)v;
}

#define FILL(T, V)                                                                                                     \
    do {                                                                                                               \
        const T v_ = (V);                                                                                              \
        T *y_ = (T *)out[0];                                                                                           \
        PP_OMP(omp parallel for schedule(static) if (n > 32768))                                                       \
        for (int64_t i = 0; i < n; i++) y_[i] = v_;                                                                    \
    } while (0)

int pp_cpu_fill(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_fill_params *f = &p->fill;
    const int64_t n = f->count;
    if (n < 0) return 1;
    if (n == 0) return 0;
    switch (f->op) {
    case PP_OP_SHAPE:
        if (n > PP_MAX_RANK) return 1;
        memcpy(out[0], f->ivalues, (size_t)n * sizeof(int64_t));
        return 0;
    case PP_OP_CONSTANT_OF_SHAPE:
        switch (f->dtype) {
        case PP_DTYPE_F32: FILL(float, (float)f->value); return 0;
        case PP_DTYPE_F64: FILL(double, f->value); return 0;
        case PP_DTYPE_F16: FILL(uint16_t, pp_f32_to_f16((float)f->value)); return 0;
        case PP_DTYPE_BF16: FILL(uint16_t, pp_f32_to_bf16((float)f->value)); return 0;
        case PP_DTYPE_I64: FILL(int64_t, to_i64(f->value)); return 0;
        case PP_DTYPE_I32: FILL(int32_t, (int32_t)to_int(f->value, INT32_MIN, INT32_MAX)); return 0;
        case PP_DTYPE_I8: FILL(int8_t, (int8_t)to_int(f->value, INT8_MIN, INT8_MAX)); return 0;
        case PP_DTYPE_U8: FILL(uint8_t, (uint8_t)to_int(f->value, 0, UINT8_MAX)); return 0;
        case PP_DTYPE_BOOL: FILL(uint8_t, f->value != 0); return 0;
        default: return 1;
        }
    case PP_OP_RANGE:
        switch (f->dtype) {
        case PP_DTYPE_F32: {
            float *y = out[0];
            for (int64_t i = 0; i < n; i++) y[i] = (float)(f->start + (double)i * f->delta);
            return 0;
        }
        case PP_DTYPE_F64: {
            double *y = out[0];
            for (int64_t i = 0; i < n; i++) y[i] = f->start + (double)i * f->delta;
            return 0;
        }
        case PP_DTYPE_I64:
        case PP_DTYPE_I32: {
            const uint64_t s = (uint64_t)to_i64(f->start), d = (uint64_t)to_i64(f->delta);
            for (int64_t i = 0; i < n; i++) {
                uint64_t v = s + (uint64_t)i * d;
                if (f->dtype == PP_DTYPE_I64) ((int64_t *)out[0])[i] = (int64_t)v;
                else ((int32_t *)out[0])[i] = (int32_t)(uint32_t)v;
            }
            return 0;
        }
        default: return 1;
        }
    default: return 1;
    }
}

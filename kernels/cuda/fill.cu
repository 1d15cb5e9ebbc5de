/* fill.cu: SHAPE (the extents, i64), CONSTANT_OF_SHAPE (one value) and RANGE
 * (start + i·delta): outputs known from the params alone. Values are converted
 * to the output dtype as CAST would (integers from the double, truncating). */
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "common.cuh"

__device__ __forceinline__ void store(pp_dtype t, void *y, int64_t i, double v, int64_t iv, int is_int) {
    switch (t) {
    case PP_DTYPE_F32: ((float *)y)[i] = is_int ? (float)iv : (float)v; break;
    case PP_DTYPE_F64: ((double *)y)[i] = is_int ? (double)iv : v; break;
    case PP_DTYPE_F16: ((unsigned short *)y)[i] = __half_as_ushort(__float2half_rn(is_int ? (float)iv : (float)v)); break;
    case PP_DTYPE_BF16:
        ((unsigned short *)y)[i] = __bfloat16_as_ushort(__float2bfloat16_rn(is_int ? (float)iv : (float)v));
        break;
    case PP_DTYPE_I64: ((int64_t *)y)[i] = iv; break;
    case PP_DTYPE_I32: ((int32_t *)y)[i] = (int32_t)iv; break;
    case PP_DTYPE_I8: ((int8_t *)y)[i] = (int8_t)iv; break;
    case PP_DTYPE_U8: ((uint8_t *)y)[i] = (uint8_t)iv; break;
    default: ((uint8_t *)y)[i] = is_int ? iv != 0 : v != 0; break;
    }
}

__device__ __forceinline__ int64_t to_i64(double v) {
    if (v != v) return 0;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    if (v >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)v;
}

__global__ void k_fill(pp_fill_params p, void *y) {
    const int is_float = p.dtype == PP_DTYPE_F32 || p.dtype == PP_DTYPE_F64 || p.dtype == PP_DTYPE_F16 ||
                         p.dtype == PP_DTYPE_BF16;
    PP_FOR(i, p.count) {
        switch (p.op) {
        case PP_OP_SHAPE: store(p.dtype, y, i, 0.0, i < PP_MAX_RANK ? p.ivalues[i] : 0, 1); break;
        case PP_OP_CONSTANT_OF_SHAPE: store(p.dtype, y, i, p.value, to_i64(p.value), !is_float); break;
        default:
            if (is_float) store(p.dtype, y, i, p.start + (double)i * p.delta, 0, 0);
            else store(p.dtype, y, i, 0.0, to_i64(p.start) + i * to_i64(p.delta), 1);
            break;
        }
    }
}

extern "C" cudaError_t pp_cuda_fill(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                    const pp_cuda_exec *x) {
    (void)ws;
    (void)in;
    const pp_fill_params *p = &pp->fill;
    if (p->count <= 0) return cudaSuccess;
    if (pp_dtype_bytes(p->dtype) == 0) return cudaErrorInvalidValue;
    k_fill<<<pp_blocks(p->count), PP_THREADS, 0, x->stream>>>(*p, out[0]);
    return cudaGetLastError();
}

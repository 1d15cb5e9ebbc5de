/* fill.cu: SHAPE (the extents, i64), CONSTANT_OF_SHAPE (one value) and RANGE
 * (start + i·delta): outputs known from the params alone. Values are converted
 * to the output dtype as CAST would (integers from the double, truncating). */
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "common.cuh"

__device__ __forceinline__ int64_t to_int(double v, double lo, double hi) {
    if (v != v) return 0;
    if (v <= lo) return (int64_t)lo;
    if (v >= hi) return (int64_t)hi;
    return (int64_t)v;
}

__device__ __forceinline__ int64_t to_i64(double v) {
    if (v != v) return 0;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    if (v >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)v;
}

/* CONSTANT_OF_SHAPE's value in dtype, as kernels/cpu/fill.c converts it (saturating). */
__device__ __forceinline__ void store_const(pp_dtype t, void *y, int64_t i, double v) {
    switch (t) {
    case PP_DTYPE_F32: ((float *)y)[i] = (float)v; break;
    case PP_DTYPE_F64: ((double *)y)[i] = v; break;
    case PP_DTYPE_F16: ((unsigned short *)y)[i] = __half_as_ushort(__float2half_rn((float)v)); break;
    case PP_DTYPE_BF16: ((unsigned short *)y)[i] = __bfloat16_as_ushort(__float2bfloat16_rn((float)v)); break;
    case PP_DTYPE_I64: ((int64_t *)y)[i] = to_i64(v); break;
    case PP_DTYPE_I32: ((int32_t *)y)[i] = (int32_t)to_int(v, INT32_MIN, INT32_MAX); break;
    case PP_DTYPE_I8: ((int8_t *)y)[i] = (int8_t)to_int(v, INT8_MIN, INT8_MAX); break;
    case PP_DTYPE_U8: ((uint8_t *)y)[i] = (uint8_t)to_int(v, 0, UINT8_MAX); break;
    default: ((uint8_t *)y)[i] = v != 0; break;
    }
}

__global__ void k_fill(pp_fill_params p, void *y) {
    PP_FOR(i, p.count) {
        switch (p.op) {
        case PP_OP_SHAPE: ((int64_t *)y)[i] = i < PP_MAX_RANK ? p.ivalues[i] : 0; break;
        case PP_OP_CONSTANT_OF_SHAPE: store_const(p.dtype, y, i, p.value); break;
        default: /* RANGE: floats in double, integers wrapping */
            switch (p.dtype) {
            case PP_DTYPE_F32: ((float *)y)[i] = (float)(p.start + (double)i * p.delta); break;
            case PP_DTYPE_F64: ((double *)y)[i] = p.start + (double)i * p.delta; break;
            default: {
                uint64_t v = (uint64_t)to_i64(p.start) + (uint64_t)i * (uint64_t)to_i64(p.delta);
                if (p.dtype == PP_DTYPE_I64) ((int64_t *)y)[i] = (int64_t)v;
                else ((int32_t *)y)[i] = (int32_t)(uint32_t)v;
            } break;
            }
            break;
        }
    }
}

/* What k_fill can write. */
static int fill_supports_of(const pp_fill_params *p) {
    switch (p->op) {
    case PP_OP_SHAPE: return p->count <= PP_MAX_RANK;
    case PP_OP_CONSTANT_OF_SHAPE: return pp_dtype_bytes(p->dtype) != 0;
    case PP_OP_RANGE:
        return p->dtype == PP_DTYPE_F32 || p->dtype == PP_DTYPE_F64 || p->dtype == PP_DTYPE_I64 ||
               p->dtype == PP_DTYPE_I32;
    default: return 0;
    }
}

extern "C" int pp_cuda_fill_supports(const pp_op_params *p) { return fill_supports_of(&p->fill); }

extern "C" cudaError_t pp_cuda_fill(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                    const pp_cuda_exec *x) {
    (void)ws;
    (void)in;
    const pp_fill_params *p = &pp->fill;
    if (p->count <= 0) return cudaSuccess;
    if (!fill_supports_of(p)) return cudaErrorInvalidValue;
    k_fill<<<pp_blocks(p->count), PP_THREADS, 0, x->stream>>>(*p, out[0]);
    return cudaGetLastError();
}

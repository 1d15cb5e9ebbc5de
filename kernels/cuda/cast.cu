/* cast.cu: CAST between f32, f16, bf16, f64, i64, i32, i8, u8 and bool, with
 * kernels/cpu/cast.c's semantics: float → int truncates, NaN → 0, saturates;
 * int → int wraps; → bool is x != 0; → f16/bf16 rounds to nearest even (f64
 * through f32). Floating sources go through a double, integer ones through an
 * int64, as on the CPU, so no value differs between the two backends.
 */
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "common.cuh"

static int is_float(pp_dtype t) {
    return t == PP_DTYPE_F32 || t == PP_DTYPE_F16 || t == PP_DTYPE_BF16 || t == PP_DTYPE_F64;
}

__device__ __forceinline__ double load_f(pp_dtype t, const void *p, int64_t i) {
    switch (t) {
    case PP_DTYPE_F32: return ((const float *)p)[i];
    case PP_DTYPE_F64: return ((const double *)p)[i];
    case PP_DTYPE_F16: return __half2float(__ushort_as_half(((const unsigned short *)p)[i]));
    default: return __bfloat162float(__ushort_as_bfloat16(((const unsigned short *)p)[i]));
    }
}

__device__ __forceinline__ int64_t load_i(pp_dtype t, const void *p, int64_t i) {
    switch (t) {
    case PP_DTYPE_I64: return ((const int64_t *)p)[i];
    case PP_DTYPE_I32: return ((const int32_t *)p)[i];
    case PP_DTYPE_I8: return ((const int8_t *)p)[i];
    case PP_DTYPE_U8: return ((const uint8_t *)p)[i];
    default: return ((const uint8_t *)p)[i] != 0;
    }
}

__device__ __forceinline__ int64_t f64_to_int(double d, double lo, double hi, int64_t ilo, int64_t ihi) {
    if (d != d) return 0;
    if (d <= lo) return ilo;
    if (d >= hi) return ihi;
    return (int64_t)d;
}

__device__ __forceinline__ void store_f(pp_dtype t, void *p, int64_t i, double v) {
    switch (t) {
    case PP_DTYPE_F32: ((float *)p)[i] = (float)v; break;
    case PP_DTYPE_F64: ((double *)p)[i] = v; break;
    case PP_DTYPE_F16: ((unsigned short *)p)[i] = __half_as_ushort(__float2half_rn((float)v)); break;
    case PP_DTYPE_BF16: ((unsigned short *)p)[i] = __bfloat16_as_ushort(__float2bfloat16_rn((float)v)); break;
    case PP_DTYPE_I64:
        ((int64_t *)p)[i] = f64_to_int(v, -9223372036854775808.0, 9223372036854775808.0, INT64_MIN, INT64_MAX);
        break;
    case PP_DTYPE_I32: ((int32_t *)p)[i] = (int32_t)f64_to_int(v, INT32_MIN, INT32_MAX, INT32_MIN, INT32_MAX); break;
    case PP_DTYPE_I8: ((int8_t *)p)[i] = (int8_t)f64_to_int(v, INT8_MIN, INT8_MAX, INT8_MIN, INT8_MAX); break;
    case PP_DTYPE_U8: ((uint8_t *)p)[i] = (uint8_t)f64_to_int(v, 0, UINT8_MAX, 0, UINT8_MAX); break;
    default: ((uint8_t *)p)[i] = v != 0; break;
    }
}

__device__ __forceinline__ void store_i(pp_dtype t, void *p, int64_t i, int64_t v) {
    switch (t) {
    case PP_DTYPE_F32: ((float *)p)[i] = (float)v; break;
    case PP_DTYPE_F64: ((double *)p)[i] = (double)v; break;
    case PP_DTYPE_F16: ((unsigned short *)p)[i] = __half_as_ushort(__float2half_rn((float)v)); break;
    case PP_DTYPE_BF16: ((unsigned short *)p)[i] = __bfloat16_as_ushort(__float2bfloat16_rn((float)v)); break;
    case PP_DTYPE_I64: ((int64_t *)p)[i] = v; break;
    case PP_DTYPE_I32: ((int32_t *)p)[i] = (int32_t)(uint32_t)(uint64_t)v; break;
    case PP_DTYPE_I8: ((int8_t *)p)[i] = (int8_t)(uint8_t)(uint64_t)v; break;
    case PP_DTYPE_U8: ((uint8_t *)p)[i] = (uint8_t)(uint64_t)v; break;
    default: ((uint8_t *)p)[i] = v != 0; break;
    }
}

__global__ void k_cast_f(pp_dtype from, pp_dtype to, const void *x, void *y, int64_t n) {
    PP_FOR(i, n) store_f(to, y, i, load_f(from, x, i));
}

__global__ void k_cast_i(pp_dtype from, pp_dtype to, const void *x, void *y, int64_t n) {
    PP_FOR(i, n) store_i(to, y, i, load_i(from, x, i));
}

static int cast_supports_of(const pp_eltwise_params *e) {
    return pp_dtype_bytes(e->dtype) != 0 && pp_dtype_bytes(e->out_dtype) != 0;
}

extern "C" int pp_cuda_cast_supports(const pp_op_params *p) { return cast_supports_of(&p->eltwise); }

extern "C" cudaError_t pp_cuda_cast(const pp_op_params *p, const void *const *in, void *const *out, void *ws,
                                    const pp_cuda_exec *x) {
    (void)ws;
    const pp_eltwise_params *e = &p->eltwise;
    if (!cast_supports_of(e) || e->count < 0) return cudaErrorInvalidValue;
    int64_t n = e->count;
    if (n == 0) return cudaSuccess;
    if (e->dtype == e->out_dtype) {
        if (in[0] == out[0]) return cudaSuccess;
        return cudaMemcpyAsync(out[0], in[0], (size_t)n * pp_dtype_bytes(e->dtype), cudaMemcpyDeviceToDevice,
                               x->stream);
    }
    if (is_float(e->dtype))
        k_cast_f<<<pp_blocks(n), PP_THREADS, 0, x->stream>>>(e->dtype, e->out_dtype, in[0], out[0], n);
    else k_cast_i<<<pp_blocks(n), PP_THREADS, 0, x->stream>>>(e->dtype, e->out_dtype, in[0], out[0], n);
    return cudaGetLastError();
}

/* pp_cuda_convert: the precision modes' conversions, in float (no trip through
 * double: these run on every GEMM/CONV input in fp16/bf16 mode). */
__global__ void k_convert(pp_dtype dt, void *dst, pp_dtype st, const void *src, int64_t n) {
    PP_FOR(i, n) pp_store_float(dt, dst, i, pp_load_float(st, src, i));
}

static int convertible(pp_dtype t) { return t == PP_DTYPE_F32 || t == PP_DTYPE_F16 || t == PP_DTYPE_BF16; }

extern "C" cudaError_t pp_cuda_convert(void *dst, pp_dtype dt, const void *src, pp_dtype st, int64_t n,
                                       cudaStream_t s) {
    if (!convertible(dt) || !convertible(st) || n < 0) return cudaErrorInvalidValue;
    if (n == 0) return cudaSuccess;
    k_convert<<<pp_blocks(n), PP_THREADS, 0, s>>>(dt, dst, st, src, n);
    return cudaGetLastError();
}

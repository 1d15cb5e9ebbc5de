/* common.cuh: what every .cu here shares: launch geometry, grid-stride loops,
 * block reductions, element-size dispatch. Internal to kernels/cuda/. */
#ifndef PP_CUDA_COMMON_CUH
#define PP_CUDA_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "../act.h"
#include "cuda_kernels.h"

#define PP_THREADS 256

/* Threads for one block per row of `len` elements: a multiple of 32, 32 to 256. */
static inline unsigned pp_row_threads(int64_t len) {
    int64_t t = (len + 31) / 32 * 32;
    return (unsigned)(t < 32 ? 32 : (t > 256 ? 256 : t));
}
/* Blocks for a block-per-row kernel (rows past the cap are looped over). */
static inline unsigned pp_row_blocks(int64_t rows) {
    return (unsigned)(rows < 1 ? 1 : (rows > (1 << 30) ? (1 << 30) : rows));
}
#define PP_FOR_ROWS(r, rows) for (int64_t r = blockIdx.x; r < (rows); r += gridDim.x)

/* Blocks for n elements at PP_THREADS per block; grid-stride loops cover the rest
 * past the cap, so any n works. */
static inline unsigned pp_blocks(int64_t n) {
    int64_t b = (n + PP_THREADS - 1) / PP_THREADS;
    if (b < 1) b = 1;
    if (b > (1 << 20)) b = 1 << 20;
    return (unsigned)b;
}

#define PP_FOR(i, n)                                                                                                   \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)blockDim.x * gridDim.x)

/* Launch checked: returns the launch error to the caller. */
#define PP_LAUNCH_RETURN() return cudaGetLastError()

/* Calls F<T>(args...) with T the unsigned type of `elem` bytes; cudaErrorInvalidValue otherwise. */
#define PP_ELEM_DISPATCH(elem, F, ...)                                                                                 \
    switch (elem) {                                                                                                    \
    case 1: return F<uint8_t>(__VA_ARGS__);                                                                            \
    case 2: return F<uint16_t>(__VA_ARGS__);                                                                           \
    case 4: return F<uint32_t>(__VA_ARGS__);                                                                           \
    case 8: return F<uint64_t>(__VA_ARGS__);                                                                           \
    default: return cudaErrorInvalidValue;                                                                             \
    }

/* Block-wide reductions over blockDim.x (a multiple of 32, at most 1024); every
 * thread gets the result. `sh` holds 32 values. */
__device__ __forceinline__ float pp_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
/* NaN-propagating max (fmaxf would drop a NaN). */
__device__ __forceinline__ float pp_nanmax(float a, float b) { return (a != a || a > b) ? a : b; }
__device__ __forceinline__ float pp_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = pp_nanmax(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ __forceinline__ float pp_block_sum(float v, float *sh) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = pp_warp_sum(v);
    __syncthreads();
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : 0.f;
    return pp_warp_sum(v);
}
__device__ __forceinline__ float pp_block_max(float v, float *sh) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = pp_warp_max(v);
    __syncthreads();
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : -INFINITY;
    return pp_warp_max(v);
}

/* Row-major strides of dims[0..rank). */
static inline void pp_contig_strides(int rank, const int64_t *dims, int64_t *st) {
    int64_t s = 1;
    for (int d = rank - 1; d >= 0; d--) {
        st[d] = s;
        s *= dims[d];
    }
}

/* A small by-value shape for kernels: output dims plus up to 3 per-input strides. */
struct pp_nd {
    int rank;
    int64_t dims[PP_MAX_RANK];
    int64_t st[3][PP_MAX_RANK];
};

/* Offset of output element i in input k. */
__device__ __forceinline__ int64_t pp_nd_offset(const pp_nd &s, int k, int64_t i) {
    if (s.rank == 1) return i * s.st[k][0]; /* i < dims[0]: no division (the common, merged case) */
    int64_t off = 0;
    for (int d = s.rank - 1; d >= 0; d--) {
        int64_t ext = s.dims[d];
        int64_t idx = i % ext;
        i /= ext;
        off += idx * s.st[k][d];
    }
    return off;
}

/* Element i of a float tensor of type t (f32, f16 or bf16), as a float; and the
 * store back, rounding to nearest even. What the precision modes convert with. */
__device__ __forceinline__ float pp_load_float(pp_dtype t, const void *p, int64_t i) {
    switch (t) {
    case PP_DTYPE_F32: return ((const float *)p)[i];
    case PP_DTYPE_F16: return __half2float(__ushort_as_half(((const unsigned short *)p)[i]));
    default: return __bfloat162float(__ushort_as_bfloat16(((const unsigned short *)p)[i]));
    }
}

__device__ __forceinline__ void pp_store_float(pp_dtype t, void *p, int64_t i, float v) {
    switch (t) {
    case PP_DTYPE_F32: ((float *)p)[i] = v; break;
    case PP_DTYPE_F16: ((unsigned short *)p)[i] = __half_as_ushort(__float2half_rn(v)); break;
    default: ((unsigned short *)p)[i] = __bfloat16_as_ushort(__float2bfloat16_rn(v)); break;
    }
}

/* The float type a kernel computes its params' format in: PP_DTYPE_INVALID
 * (params made before the planner set formats) is f32. */
static inline pp_dtype pp_fdt(pp_dtype t) { return t == PP_DTYPE_INVALID ? PP_DTYPE_F32 : t; }
static inline int pp_is16(pp_dtype t) { return t == PP_DTYPE_F16 || t == PP_DTYPE_BF16; }

/* Eight consecutive elements i..i+7 of a float tensor of type t as floats, and
 * back: one 16-byte access for 16-bit types, two for f32. The address must be
 * 16-byte aligned (callers check i % 8 == 0 and a 16-aligned base once). */
__device__ __forceinline__ void pp_load8(pp_dtype t, const void *p, int64_t i, float v[8]) {
    if (t == PP_DTYPE_F32) {
        const float4 a = ((const float4 *)((const float *)p + i))[0], b = ((const float4 *)((const float *)p + i))[1];
        v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
        return;
    }
    uint4 u = *(const uint4 *)((const unsigned short *)p + i);
    const unsigned short *h = (const unsigned short *)&u;
#pragma unroll
    for (int j = 0; j < 8; j++)
        v[j] = t == PP_DTYPE_F16 ? __half2float(__ushort_as_half(h[j])) : __bfloat162float(__ushort_as_bfloat16(h[j]));
}

__device__ __forceinline__ void pp_store8(pp_dtype t, void *p, int64_t i, const float v[8]) {
    if (t == PP_DTYPE_F32) {
        float4 *q = (float4 *)((float *)p + i);
        q[0] = make_float4(v[0], v[1], v[2], v[3]);
        q[1] = make_float4(v[4], v[5], v[6], v[7]);
        return;
    }
    uint4 u;
    unsigned short *h = (unsigned short *)&u;
#pragma unroll
    for (int j = 0; j < 8; j++)
        h[j] = t == PP_DTYPE_F16 ? __half_as_ushort(__float2half_rn(v[j]))
                                 : __bfloat16_as_ushort(__float2bfloat16_rn(v[j]));
    *(uint4 *)((unsigned short *)p + i) = u;
}

/* 1 when p (may be NULL) is 16-byte aligned. */
static inline int pp_al16(const void *p) { return ((uintptr_t)p & 15) == 0; }

/* Data-movement kernels copy elements as 1-, 2-, 4- or 8-byte words. */
static inline int pp_cuda_elem_ok(size_t e) { return e == 1 || e == 2 || e == 4 || e == 8; }

#endif

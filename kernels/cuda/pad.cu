/* pad.cu: PAD in constant, reflect and edge modes, as kernels/cpu/pad.c: y's
 * coordinate i reads x's i - pads_begin; outside x, constant writes the value
 * (encoded on the host like the CPU does), reflect mirrors without repeating the
 * edge (periodic when a pad is wider than the axis), edge repeats the border. */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <string.h>

#include "common.cuh"

__device__ __forceinline__ int64_t src_coord(int64_t i, int64_t n, int mode) {
    if (i >= 0 && i < n) return i;
    if (mode == 0) return -1;
    if (mode == 2 || n == 1) return i < 0 ? 0 : n - 1;
    int64_t period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

template <typename T>
__global__ void k_pad(pp_pad_params p, const T *__restrict__ x, T *__restrict__ y, int64_t n, T value) {
    int64_t xs[PP_MAX_RANK];
    int64_t s = 1;
    for (int d = p.rank - 1; d >= 0; d--) {
        xs[d] = s;
        s *= p.in_dims[d];
    }
    PP_FOR(i, n) {
        int64_t rem = i, off = 0;
        int outside = 0;
        for (int d = p.rank - 1; d >= 0; d--) {
            int64_t c = rem % p.out_dims[d];
            rem /= p.out_dims[d];
            int64_t sc = src_coord(c - p.pads_begin[d], p.in_dims[d], p.mode);
            if (sc < 0) outside = 1;
            else off += sc * xs[d];
        }
        y[i] = outside ? value : x[off];
    }
}

static int64_t to_int(double v, double lo, double hi) {
    if (v != v) return 0;
    if (v <= lo) return (int64_t)lo;
    if (v >= hi) return (int64_t)hi;
    return (int64_t)v;
}

/* The pad value as one element of dtype, bit for bit what the CPU writes. */
static uint64_t encode_value(pp_dtype t, double v) {
    unsigned char buf[8];
    memset(buf, 0, 8);
    switch (t) {
    case PP_DTYPE_F32: {
        float f = (float)v;
        memcpy(buf, &f, 4);
    } break;
    case PP_DTYPE_F64: memcpy(buf, &v, 8); break;
    case PP_DTYPE_F16: {
        uint16_t h = __half_as_ushort(__float2half_rn((float)v));
        memcpy(buf, &h, 2);
    } break;
    case PP_DTYPE_BF16: {
        uint16_t h = __bfloat16_as_ushort(__float2bfloat16_rn((float)v));
        memcpy(buf, &h, 2);
    } break;
    case PP_DTYPE_I64: {
        int64_t i = v != v                        ? 0
                    : v <= -9223372036854775808.0 ? INT64_MIN
                    : v >= 9223372036854775808.0  ? INT64_MAX
                                                  : (int64_t)v;
        memcpy(buf, &i, 8);
    } break;
    case PP_DTYPE_I32: {
        int32_t i = (int32_t)to_int(v, INT32_MIN, INT32_MAX);
        memcpy(buf, &i, 4);
    } break;
    case PP_DTYPE_I8: {
        int8_t i = (int8_t)to_int(v, INT8_MIN, INT8_MAX);
        memcpy(buf, &i, 1);
    } break;
    case PP_DTYPE_U8: buf[0] = (uint8_t)to_int(v, 0, UINT8_MAX); break;
    case PP_DTYPE_BOOL: buf[0] = v != 0; break;
    default: break;
    }
    uint64_t r;
    memcpy(&r, buf, 8);
    return r;
}

template <typename T>
static cudaError_t pad_t(const pp_pad_params *p, const void *x, void *y, int64_t n, uint64_t bits, cudaStream_t s) {
    T value;
    memcpy(&value, &bits, sizeof value); /* little-endian: the low bytes */
    k_pad<T><<<pp_blocks(n), PP_THREADS, 0, s>>>(*p, (const T *)x, (T *)y, n, value);
    return cudaGetLastError();
}

extern "C" cudaError_t pp_cuda_pad(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                   const pp_cuda_exec *x) {
    (void)ws;
    const pp_pad_params *p = &pp->pad;
    if (p->rank < 0 || p->rank > PP_MAX_RANK || p->mode < 0 || p->mode > 2) return cudaErrorInvalidValue;
    int64_t n = 1, xn = 1;
    for (int d = 0; d < p->rank; d++) {
        n *= p->out_dims[d];
        xn *= p->in_dims[d];
    }
    if (n <= 0) return cudaSuccess;
    if (xn == 0 && p->mode != 0) return cudaErrorInvalidValue;
    uint64_t bits = encode_value(p->dtype, p->value);
    PP_ELEM_DISPATCH(p->elem, pad_t, p, in[0], out[0], n, bits, x->stream)
}

/* Elements are moved as 1-, 2-, 4- or 8-byte words. */
extern "C" int pp_cuda_pad_supports(const pp_op_params *p) { return pp_cuda_elem_ok(p->pad.elem); }

/* cumsum.cu: CUMSUM along one axis of x viewed as (outer, axis_len, inner), f32
 * (accumulated in double, as the sum kernels do), i64 and i32 (wrapping); one
 * thread per (outer, inner) column, coalesced across inner. */
#include "common.cuh"

template <typename T, typename A>
__global__ void k_cumsum(pp_cumsum_params p, const T *__restrict__ x, T *__restrict__ y, int64_t cols) {
    PP_FOR(c, cols) {
        int64_t o = c / p.inner, i = c % p.inner;
        const T *xr = x + o * p.axis_len * p.inner + i;
        T *yr = y + o * p.axis_len * p.inner + i;
        A acc = 0;
        for (int64_t s = 0; s < p.axis_len; s++) {
            int64_t j = p.reverse ? p.axis_len - 1 - s : s;
            T v = xr[j * p.inner];
            if (p.exclusive) {
                yr[j * p.inner] = (T)acc;
                acc += (A)v;
            } else {
                acc += (A)v;
                yr[j * p.inner] = (T)acc;
            }
        }
    }
}

extern "C" cudaError_t pp_cuda_cumsum(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                      const pp_cuda_exec *x) {
    (void)ws;
    const pp_cumsum_params *p = &pp->cumsum;
    int64_t cols = p->outer * p->inner;
    if (cols <= 0 || p->axis_len <= 0) return cudaSuccess;
    unsigned g = pp_blocks(cols);
    switch (p->dtype) {
    case PP_DTYPE_F32:
        k_cumsum<float, double><<<g, PP_THREADS, 0, x->stream>>>(*p, (const float *)in[0], (float *)out[0], cols);
        break;
    case PP_DTYPE_I64:
        k_cumsum<int64_t, uint64_t>
            <<<g, PP_THREADS, 0, x->stream>>>(*p, (const int64_t *)in[0], (int64_t *)out[0], cols);
        break;
    case PP_DTYPE_I32:
        k_cumsum<int32_t, uint32_t>
            <<<g, PP_THREADS, 0, x->stream>>>(*p, (const int32_t *)in[0], (int32_t *)out[0], cols);
        break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

extern "C" int pp_cuda_cumsum_supports(const pp_op_params *p) {
    pp_dtype t = p->cumsum.dtype;
    return t == PP_DTYPE_F32 || t == PP_DTYPE_I64 || t == PP_DTYPE_I32;
}

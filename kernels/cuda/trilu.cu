/* trilu.cu: TRILU on x viewed as (batch, rows, cols): keeps the upper triangle
 * (j - i >= k) or the lower one (j - i <= k) and zeroes the rest. */
#include "common.cuh"

template <typename T>
__global__ void k_trilu(pp_trilu_params p, const T *__restrict__ x, T *__restrict__ y, int64_t n) {
    PP_FOR(i, n) {
        int64_t c = i % p.cols, r = (i / p.cols) % p.rows;
        int keep = p.upper ? c - r >= p.k : c - r <= p.k;
        y[i] = keep ? x[i] : (T)0;
    }
}

template <typename T>
static cudaError_t trilu_t(const pp_trilu_params *p, const void *x, void *y, int64_t n, cudaStream_t s) {
    k_trilu<T><<<pp_blocks(n), PP_THREADS, 0, s>>>(*p, (const T *)x, (T *)y, n);
    return cudaGetLastError();
}

extern "C" cudaError_t pp_cuda_trilu(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                     const pp_cuda_exec *x) {
    (void)ws;
    const pp_trilu_params *p = &pp->trilu;
    int64_t n = p->batch * p->rows * p->cols;
    if (n <= 0) return cudaSuccess;
    PP_ELEM_DISPATCH(p->elem, trilu_t, p, in[0], out[0], n, x->stream)
}

/* Elements are moved as 1-, 2-, 4- or 8-byte words. */
extern "C" int pp_cuda_trilu_supports(const pp_op_params *p) { return pp_cuda_elem_ok(p->trilu.elem); }

/* slice.cu: SLICE, normalised by describe: y[i] = x[start + i·step] on each axis
 * (steps may be negative); one thread per output element. */
#include "common.cuh"

template <typename T>
__global__ void k_slice(pp_slice_params p, const T *__restrict__ x, T *__restrict__ y, int64_t n) {
    int64_t xs[PP_MAX_RANK];
    int64_t s = 1;
    for (int d = p.rank - 1; d >= 0; d--) {
        xs[d] = s;
        s *= p.in_dims[d];
    }
    PP_FOR(i, n) {
        int64_t rem = i, off = 0;
        for (int d = p.rank - 1; d >= 0; d--) {
            int64_t c = rem % p.out_dims[d];
            rem /= p.out_dims[d];
            off += (p.starts[d] + c * p.steps[d]) * xs[d];
        }
        y[i] = x[off];
    }
}

template <typename T>
static cudaError_t slice_t(const pp_slice_params *p, const void *x, void *y, int64_t n, cudaStream_t st) {
    k_slice<T><<<pp_blocks(n), PP_THREADS, 0, st>>>(*p, (const T *)x, (T *)y, n);
    return cudaGetLastError();
}

extern "C" cudaError_t pp_cuda_slice(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                     const pp_cuda_exec *x) {
    (void)ws;
    const pp_slice_params *p = &pp->slice;
    if (p->rank < 0 || p->rank > PP_MAX_RANK) return cudaErrorInvalidValue;
    int64_t n = 1;
    for (int d = 0; d < p->rank; d++) n *= p->out_dims[d];
    if (n <= 0) return cudaSuccess;
    PP_ELEM_DISPATCH(p->elem, slice_t, p, in[0], out[0], n, x->stream)
}

/* Elements are moved as 1-, 2-, 4- or 8-byte words. */
extern "C" int pp_cuda_slice_supports(const pp_op_params *p) { return pp_cuda_elem_ok(p->slice.elem); }

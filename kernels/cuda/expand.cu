/* expand.cu: EXPAND (broadcast copy) and TILE. x's dims are rank-aligned to y's;
 * output coordinate c reads x at c mod in_dim, which is 0 on a broadcast axis
 * (in_dim 1) and the wrap for TILE: one formula for both. */
#include "common.cuh"

template <typename T>
__global__ void k_expand(pp_expand_params e, const T *__restrict__ x, T *__restrict__ y, int64_t n) {
    int64_t xs[PP_MAX_RANK];
    int64_t s = 1;
    for (int d = e.rank - 1; d >= 0; d--) {
        xs[d] = s;
        s *= e.in_dims[d];
    }
    PP_FOR(i, n) {
        int64_t rem = i, off = 0;
        for (int d = e.rank - 1; d >= 0; d--) {
            int64_t c = rem % e.out_dims[d];
            rem /= e.out_dims[d];
            off += (c % e.in_dims[d]) * xs[d];
        }
        y[i] = x[off];
    }
}

template <typename T>
static cudaError_t expand_t(const pp_expand_params *e, const void *x, void *y, int64_t n, cudaStream_t s) {
    k_expand<T><<<pp_blocks(n), PP_THREADS, 0, s>>>(*e, (const T *)x, (T *)y, n);
    return cudaGetLastError();
}

extern "C" cudaError_t pp_cuda_expand(const pp_op_params *p, const void *const *in, void *const *out, void *ws,
                                      const pp_cuda_exec *x) {
    (void)ws;
    const pp_expand_params *e = &p->expand;
    if (e->rank < 0 || e->rank > PP_MAX_RANK) return cudaErrorInvalidValue;
    int64_t n = 1;
    for (int d = 0; d < e->rank; d++) {
        if (e->in_dims[d] <= 0 && e->out_dims[d] > 0) return cudaErrorInvalidValue;
        n *= e->out_dims[d];
    }
    if (n <= 0) return cudaSuccess;
    PP_ELEM_DISPATCH(e->elem, expand_t, e, in[0], out[0], n, x->stream)
}

/* Elements are moved as 1-, 2-, 4- or 8-byte words. */
extern "C" int pp_cuda_expand_supports(const pp_op_params *p) { return pp_cuda_elem_ok(p->expand.elem); }

/* transpose.cu: y = x.permute(perm), any element size: one thread per output
 * element, which walks its output coordinates with x's strides permuted. */
#include "common.cuh"

struct tr_shape {
    int rank;
    int64_t out_dims[PP_MAX_RANK];
    int64_t src_strides[PP_MAX_RANK]; /* x's stride for each output axis */
};

template <typename T> __global__ void k_transpose(tr_shape s, const T *__restrict__ x, T *__restrict__ y, int64_t n) {
    PP_FOR(i, n) {
        int64_t rem = i, off = 0;
        for (int d = s.rank - 1; d >= 0; d--) {
            off += (rem % s.out_dims[d]) * s.src_strides[d];
            rem /= s.out_dims[d];
        }
        y[i] = x[off];
    }
}

template <typename T>
static cudaError_t transpose_t(const tr_shape *s, const void *x, void *y, int64_t n, cudaStream_t st) {
    k_transpose<T><<<pp_blocks(n), PP_THREADS, 0, st>>>(*s, (const T *)x, (T *)y, n);
    return cudaGetLastError();
}

extern "C" cudaError_t pp_cuda_transpose(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                         const pp_cuda_exec *x) {
    (void)ws;
    const pp_transpose_params *p = &pp->transpose;
    if (p->rank < 0 || p->rank > PP_MAX_RANK) return cudaErrorInvalidValue;
    int64_t st[PP_MAX_RANK], n = 1;
    pp_contig_strides(p->rank, p->in_dims, st);
    tr_shape s;
    s.rank = 0;
    /* drop extent-1 axes; merge output neighbours that are neighbours in x too */
    for (int d = 0; d < p->rank; d++) {
        int a = p->perm[d];
        if (a < 0 || a >= p->rank) return cudaErrorInvalidValue;
        int64_t ext = p->in_dims[a];
        n *= ext;
        if (ext == 1) continue;
        if (s.rank > 0 && s.src_strides[s.rank - 1] == st[a] * ext) {
            s.out_dims[s.rank - 1] *= ext;
            s.src_strides[s.rank - 1] = st[a];
        } else {
            s.out_dims[s.rank] = ext;
            s.src_strides[s.rank++] = st[a];
        }
    }
    if (n <= 0) return cudaSuccess;
    if (s.rank == 0) {
        s.rank = 1;
        s.out_dims[0] = 1;
        s.src_strides[0] = 0;
    }
    if (s.rank == 1 && s.src_strides[0] == 1)
        return cudaMemcpyAsync(out[0], in[0], (size_t)n * p->elem, cudaMemcpyDeviceToDevice, x->stream);
    PP_ELEM_DISPATCH(p->elem, transpose_t, &s, in[0], out[0], n, x->stream)
}

/* Elements are moved as 1-, 2-, 4- or 8-byte words. */
extern "C" int pp_cuda_transpose_supports(const pp_op_params *p) { return pp_cuda_elem_ok(p->transpose.elem); }

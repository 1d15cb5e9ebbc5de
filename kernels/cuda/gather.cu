/* gather.cu: GATHER and GATHER_ELEMENTS with i64 or i32 indices, negative ones
 * counting from the end. An index outside [-len, len) cannot be reported by a
 * return value from the device: the kernel writes zeros there and raises the
 * stream's error flag, which stream_sync turns into the CPU's error. */
#include "common.cuh"

__device__ __forceinline__ int64_t load_index(const void *idx, pp_dtype t, int64_t i) {
    return t == PP_DTYPE_I64 ? ((const int64_t *)idx)[i] : ((const int32_t *)idx)[i];
}

/* data (outer, axis_len, inner), indices (n_idx) → y (outer, n_idx, inner) */
template <typename T>
__global__ void k_gather(pp_gather_params g, const T *__restrict__ x, const void *__restrict__ idx, T *__restrict__ y,
                         int64_t n, int *err) {
    PP_FOR(i, n) {
        int64_t in_ = i % g.inner, t = i / g.inner, j = t % g.n_idx, o = t / g.n_idx;
        int64_t k = load_index(idx, g.idx_dtype, j);
        if (k < -g.axis_len || k >= g.axis_len) {
            y[i] = 0;
            if (err) *err = 1;
            continue;
        }
        if (k < 0) k += g.axis_len;
        y[i] = x[(o * g.axis_len + k) * g.inner + in_];
    }
}

template <typename T>
static cudaError_t gather_t(const pp_gather_params *g, const void *x, const void *idx, void *y, int64_t n, int *err,
                            cudaStream_t s) {
    k_gather<T><<<pp_blocks(n), PP_THREADS, 0, s>>>(*g, (const T *)x, idx, (T *)y, n, err);
    return cudaGetLastError();
}

extern "C" cudaError_t pp_cuda_gather(const pp_op_params *p, const void *const *in, void *const *out, void *ws,
                                      const pp_cuda_exec *x) {
    (void)ws;
    const pp_gather_params *g = &p->gather;
    if (g->idx_dtype != PP_DTYPE_I64 && g->idx_dtype != PP_DTYPE_I32) return cudaErrorInvalidValue;
    int64_t n = g->outer * g->n_idx * g->inner;
    if (n <= 0) return cudaSuccess;
    PP_ELEM_DISPATCH(g->elem, gather_t, g, in[0], in[1], out[0], n, x->err_flag, x->stream)
}

template <typename T>
__global__ void k_gather_elements(pp_gather_elements_params g, const T *__restrict__ x, const void *__restrict__ idx,
                                  T *__restrict__ y, int64_t n, int *err) {
    int64_t xs[PP_MAX_RANK];
    int64_t s = 1;
    for (int d = g.rank - 1; d >= 0; d--) {
        xs[d] = s;
        s *= g.in_dims[d];
    }
    const int64_t len = g.in_dims[g.axis];
    PP_FOR(i, n) {
        int64_t k = load_index(idx, g.idx_dtype, i);
        if (k < -len || k >= len) {
            y[i] = 0;
            if (err) *err = 1;
            continue;
        }
        if (k < 0) k += len;
        int64_t rem = i, off = 0;
        for (int d = g.rank - 1; d >= 0; d--) {
            int64_t c = rem % g.idx_dims[d];
            rem /= g.idx_dims[d];
            off += (d == g.axis ? k : c) * xs[d];
        }
        y[i] = x[off];
    }
}

template <typename T>
static cudaError_t gather_elements_t(const pp_gather_elements_params *g, const void *x, const void *idx, void *y,
                                     int64_t n, int *err, cudaStream_t s) {
    k_gather_elements<T><<<pp_blocks(n), PP_THREADS, 0, s>>>(*g, (const T *)x, idx, (T *)y, n, err);
    return cudaGetLastError();
}

extern "C" cudaError_t pp_cuda_gather_elements(const pp_op_params *p, const void *const *in, void *const *out, void *ws,
                                               const pp_cuda_exec *x) {
    (void)ws;
    const pp_gather_elements_params *g = &p->gather_elements;
    if (g->idx_dtype != PP_DTYPE_I64 && g->idx_dtype != PP_DTYPE_I32) return cudaErrorInvalidValue;
    if (g->rank < 1 || g->rank > PP_MAX_RANK || g->axis < 0 || g->axis >= g->rank) return cudaErrorInvalidValue;
    int64_t n = 1;
    for (int d = 0; d < g->rank; d++) {
        if (d != g->axis && g->idx_dims[d] > g->in_dims[d]) return cudaErrorInvalidValue;
        n *= g->idx_dims[d];
    }
    if (n <= 0) return cudaSuccess;
    PP_ELEM_DISPATCH(g->elem, gather_elements_t, g, in[0], in[1], out[0], n, x->err_flag, x->stream)
}

/* Elements are moved as 1-, 2-, 4- or 8-byte words. */
extern "C" int pp_cuda_gather_supports(const pp_op_params *p) { return pp_cuda_elem_ok(p->gather.elem); }

/* Elements are moved as 1-, 2-, 4- or 8-byte words. */
extern "C" int pp_cuda_gather_elements_supports(const pp_op_params *p) {
    return pp_cuda_elem_ok(p->gather_elements.elem);
}

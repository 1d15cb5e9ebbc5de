/* softmax.cu: SOFTMAX and LOG_SOFTMAX over one axis of x viewed as (outer,
 * axis_len, inner), stable (the row max is subtracted), statistics in f32.
 * A row whose max is -inf or NaN gives NaN, as on the CPU.
 *   inner == 1: one block per contiguous row, block reductions;
 *   inner > 1:  one thread per (outer, inner) column, coalesced across inner. */
#include "common.cuh"

/* x, y of type T (f32, or 16-bit as the planner gives), the statistics f32 */
#define LD(p, i) pp_load_float(t, p, i)
#define ST(p, i, v) pp_store_float(t, p, i, v)

__global__ void k_softmax_rows(int log_mode, pp_dtype t, const void *__restrict__ x, void *__restrict__ y, int64_t rows,
                               int64_t len) {
    __shared__ float sh[32];
    PP_FOR_ROWS(r, rows) {
        const int64_t xr = r * len, yr = r * len;
        float mx = -INFINITY;
        for (int64_t j = threadIdx.x; j < len; j += blockDim.x) mx = pp_nanmax(mx, LD(x, xr + j));
        mx = pp_block_max(mx, sh);
        if (mx == -INFINITY || mx != mx) {
            for (int64_t j = threadIdx.x; j < len; j += blockDim.x) ST(y, yr + j, NAN);
            continue;
        }
        float sum = 0.f;
        for (int64_t j = threadIdx.x; j < len; j += blockDim.x) sum += expf(LD(x, xr + j) - mx);
        sum = pp_block_sum(sum, sh);
        if (log_mode) {
            float lse = logf(sum);
            for (int64_t j = threadIdx.x; j < len; j += blockDim.x) ST(y, yr + j, LD(x, xr + j) - mx - lse);
        } else {
            float inv = 1.f / sum;
            for (int64_t j = threadIdx.x; j < len; j += blockDim.x) ST(y, yr + j, expf(LD(x, xr + j) - mx) * inv);
        }
    }
}

__global__ void k_softmax_cols(int log_mode, pp_dtype t, const void *__restrict__ x, void *__restrict__ y, int64_t cols,
                               int64_t len, int64_t inner) {
    PP_FOR(c, cols) {
        int64_t o = c / inner, i = c % inner;
        const int64_t xr = o * len * inner + i, yr = xr;
        float mx = -INFINITY;
        for (int64_t j = 0; j < len; j++) mx = pp_nanmax(mx, LD(x, xr + j * inner));
        if (mx == -INFINITY || mx != mx) {
            for (int64_t j = 0; j < len; j++) ST(y, yr + j * inner, NAN);
            continue;
        }
        float sum = 0.f;
        for (int64_t j = 0; j < len; j++) sum += expf(LD(x, xr + j * inner) - mx);
        if (log_mode) {
            float lse = logf(sum);
            for (int64_t j = 0; j < len; j++) ST(y, yr + j * inner, LD(x, xr + j * inner) - mx - lse);
        } else {
            float inv = 1.f / sum;
            for (int64_t j = 0; j < len; j++) ST(y, yr + j * inner, expf(LD(x, xr + j * inner) - mx) * inv);
        }
    }
}

extern "C" cudaError_t pp_cuda_softmax(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                       const pp_cuda_exec *x) {
    (void)ws;
    const pp_softmax_params *p = &pp->softmax;
    int log_mode = p->op == PP_OP_LOG_SOFTMAX;
    pp_dtype t = pp_fdt(p->dtype);
    if (p->axis_len <= 0 || p->outer <= 0 || p->inner <= 0) return cudaSuccess;
    if (p->inner == 1)
        k_softmax_rows<<<pp_row_blocks(p->outer), pp_row_threads(p->axis_len), 0, x->stream>>>(
            log_mode, t, in[0], out[0], p->outer, p->axis_len);
    else
        k_softmax_cols<<<pp_blocks(p->outer * p->inner), PP_THREADS, 0, x->stream>>>(
            log_mode, t, in[0], out[0], p->outer * p->inner, p->axis_len, p->inner);
    return cudaGetLastError();
}

extern "C" int pp_cuda_softmax_supports(const pp_op_params *p) {
    pp_dtype t = pp_fdt(p->softmax.dtype);
    return t == PP_DTYPE_F32 || pp_is16(t);
}

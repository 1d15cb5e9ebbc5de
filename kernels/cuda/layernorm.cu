/* layernorm.cu: layer normalisation of x viewed as (rows, cols) over cols, one
 * block per row; mean and variance in f32, two passes over the row (no
 * E[x²] - E[x]² cancellation). in = x, scale (cols), [bias (cols)]. */
#include "common.cuh"

/* x, y of type t (f32 or 16-bit), scale and bias f32 as stored */
__global__ void k_layernorm(pp_dtype t, const void *__restrict__ x, const float *__restrict__ scale,
                            const float *__restrict__ bias, void *__restrict__ y, int64_t rows, int64_t cols,
                            float eps) {
    __shared__ float sh[32];
    PP_FOR_ROWS(r, rows) {
        const int64_t o = r * cols;
        float s = 0.f;
        for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += pp_load_float(t, x, o + j);
        float mean = pp_block_sum(s, sh) / (float)cols;
        float sq = 0.f;
        for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
            float d = pp_load_float(t, x, o + j) - mean;
            sq += d * d;
        }
        float inv = rsqrtf(pp_block_sum(sq, sh) / (float)cols + eps);
        for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
            float v = (pp_load_float(t, x, o + j) - mean) * inv * scale[j];
            pp_store_float(t, y, o + j, bias ? v + bias[j] : v);
        }
    }
}

extern "C" cudaError_t pp_cuda_layernorm(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                         const pp_cuda_exec *x) {
    (void)ws;
    const pp_layernorm_params *p = &pp->layernorm;
    if (p->rows <= 0 || p->cols <= 0) return cudaSuccess;
    k_layernorm<<<pp_row_blocks(p->rows), pp_row_threads(p->cols), 0, x->stream>>>(
        pp_fdt(p->dtype), in[0], (const float *)in[1], (const float *)in[2], out[0], p->rows, p->cols, p->epsilon);
    return cudaGetLastError();
}

extern "C" int pp_cuda_layernorm_supports(const pp_op_params *p) {
    pp_dtype t = pp_fdt(p->layernorm.dtype);
    return t == PP_DTYPE_F32 || pp_is16(t);
}

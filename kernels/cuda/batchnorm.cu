/* batchnorm.cu: inference batch normalisation, y = a·x + b per channel with a, b
 * folded in double as on the CPU (the statistics are f32 whatever x is).
 * Plain: one block per (n, c) plane. NHWC (16-bit from the planner, or f32): one
 * thread per element, the channel innermost; x and y in the params' dtype. */
#include "common.cuh"

__device__ __forceinline__ void bn_coef(const float *scale, const float *bias, const float *mean, const float *var,
                                        int64_t ch, float eps, float *a, float *b) {
    double inv = 1.0 / sqrt((double)var[ch] + (double)eps);
    *a = (float)((double)scale[ch] * inv);
    *b = (float)((double)bias[ch] - (double)mean[ch] * (double)scale[ch] * inv);
}

__global__ void k_batchnorm(pp_dtype t, const void *__restrict__ x, const float *__restrict__ scale,
                            const float *__restrict__ bias, const float *__restrict__ mean,
                            const float *__restrict__ var, void *__restrict__ y, int64_t planes, int64_t c, int64_t sp,
                            float eps) {
    PP_FOR_ROWS(pl, planes) {
        float a, b;
        bn_coef(scale, bias, mean, var, pl % c, eps, &a, &b);
        for (int64_t i = threadIdx.x; i < sp; i += blockDim.x)
            pp_store_float(t, y, pl * sp + i, a * pp_load_float(t, x, pl * sp + i) + b);
    }
}

__global__ void k_batchnorm_nhwc(pp_dtype t, const void *__restrict__ x, const float *__restrict__ scale,
                                 const float *__restrict__ bias, const float *__restrict__ mean,
                                 const float *__restrict__ var, void *__restrict__ y, int64_t total, int64_t c,
                                 float eps) {
    PP_FOR(i, total) {
        float a, b;
        bn_coef(scale, bias, mean, var, i % c, eps, &a, &b);
        pp_store_float(t, y, i, a * pp_load_float(t, x, i) + b);
    }
}

extern "C" cudaError_t pp_cuda_batchnorm(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                         const pp_cuda_exec *x) {
    (void)ws;
    const pp_batchnorm_params *p = &pp->batchnorm;
    pp_dtype t = pp_fdt(p->fmt.dtype);
    int64_t planes = p->n * p->c;
    if (planes <= 0 || p->spatial <= 0) return cudaSuccess;
    const float *s = (const float *)in[1], *b = (const float *)in[2], *m = (const float *)in[3],
                *v = (const float *)in[4];
    if (p->fmt.layout == PP_LAYOUT_NHWC)
        k_batchnorm_nhwc<<<pp_blocks(planes * p->spatial), PP_THREADS, 0, x->stream>>>(
            t, in[0], s, b, m, v, out[0], planes * p->spatial, p->c, p->epsilon);
    else
        k_batchnorm<<<pp_row_blocks(planes), pp_row_threads(p->spatial), 0, x->stream>>>(
            t, in[0], s, b, m, v, out[0], planes, p->c, p->spatial, p->epsilon);
    return cudaGetLastError();
}

extern "C" int pp_cuda_batchnorm_supports(const pp_op_params *p) {
    pp_dtype t = pp_fdt(p->batchnorm.fmt.dtype);
    return (t == PP_DTYPE_F32 || pp_is16(t)) &&
           (p->batchnorm.fmt.layout == PP_LAYOUT_PLAIN || p->batchnorm.fmt.layout == PP_LAYOUT_NHWC);
}

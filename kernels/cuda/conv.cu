/* conv.cu: the direct 2-D convolution, NCHW f32, with the fused epilogue
 * y = act(conv(x, w) + bias + residual). cuDNN (engine/cuda/conv_cudnn.c) runs
 * convolutions; this kernel is the fallback for what cuDNN's legacy descriptors
 * cannot say (asymmetric padding) and the check that the two agree. One thread
 * per output element, which is slow for big layers but exact and simple.
 * in = x (N,C,H,W), w (K, C/group, KH, KW), [bias (K)], [residual (N,K,OH,OW)]. */
#include "common.cuh"

__global__ void k_conv_direct(pp_conv_params p, const float *__restrict__ x, const float *__restrict__ w,
                              const float *__restrict__ bias, const float *__restrict__ res, float *__restrict__ y,
                              int64_t total) {
    const int64_t cg = p.c / p.group, kg = p.k / p.group;
    PP_FOR(o, total) {
        int64_t ox = o % p.ow, oy = (o / p.ow) % p.oh, k = (o / (p.ow * p.oh)) % p.k, n = o / (p.ow * p.oh * p.k);
        int64_t g = k / kg;
        const float *wk = w + k * cg * p.kh * p.kw;
        const float *xn = x + (n * p.c + g * cg) * p.h * p.w;
        int64_t iy0 = oy * p.stride_h - p.pad_top, ix0 = ox * p.stride_w - p.pad_left;
        float s = 0.f;
        for (int64_t ci = 0; ci < cg; ci++) {
            const float *xc = xn + ci * p.h * p.w;
            const float *wc = wk + ci * p.kh * p.kw;
            for (int64_t ki = 0; ki < p.kh; ki++) {
                int64_t iy = iy0 + ki * p.dil_h;
                if (iy < 0 || iy >= p.h) continue;
                for (int64_t kj = 0; kj < p.kw; kj++) {
                    int64_t ix = ix0 + kj * p.dil_w;
                    if (ix >= 0 && ix < p.w) s += xc[iy * p.w + ix] * wc[ki * p.kw + kj];
                }
            }
        }
        if (bias) s += bias[k];
        if (res) s += res[o];
        y[o] = pp_act_apply(p.act, s);
    }
}

extern "C" cudaError_t pp_cuda_conv_direct(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                           const pp_cuda_exec *x) {
    (void)ws;
    const pp_conv_params *p = &pp->conv;
    if (p->group <= 0 || p->c % p->group || p->k % p->group) return cudaErrorInvalidValue;
    int64_t total = p->n * p->k * p->oh * p->ow;
    if (total <= 0) return cudaSuccess;
    k_conv_direct<<<pp_blocks(total), PP_THREADS, 0, x->stream>>>(*p, (const float *)in[0], (const float *)in[1],
                                                                  (const float *)in[2], (const float *)in[3],
                                                                  (float *)out[0], total);
    return cudaGetLastError();
}

/* conv.cu: convolutions cuDNN does not run (engine/cuda/conv_cudnn.c decides).
 *
 * The direct kernel: the last fallback, for any shape, dtype (f32, f16, bf16,
 * accumulating in f32) and layout (NCHW with w KCRS, or NHWC with w KRSC), with
 * the fused epilogue y = act(conv(x, w) + bias + residual). One thread per output
 * element: slow for big layers but exact and simple.
 *
 * The depthwise kernel (group == C == K, NHWC): one thread per output pixel and 8
 * channels, reading 8 channels of x at once (16 bytes in 16 bits); the weight
 * (C, KH, KW, 1) is read per tap from cache. cuDNN's grouped engines are often
 * slow here, so conv_cudnn.c times this kernel among its candidates.
 * in = x, w, [bias (K)], [residual]. */
#include "common.cuh"

struct conv_geo {
    pp_conv_params p;
    pp_dtype t;
    int nhwc;
};

__device__ __forceinline__ int64_t x_at(const conv_geo &g, int64_t n, int64_t c, int64_t y, int64_t x) {
    const pp_conv_params &p = g.p;
    return g.nhwc ? ((n * p.h + y) * p.w + x) * p.c + c : ((n * p.c + c) * p.h + y) * p.w + x;
}

__device__ __forceinline__ int64_t y_at(const conv_geo &g, int64_t n, int64_t k, int64_t y, int64_t x) {
    const pp_conv_params &p = g.p;
    return g.nhwc ? ((n * p.oh + y) * p.ow + x) * p.k + k : ((n * p.k + k) * p.oh + y) * p.ow + x;
}

__device__ __forceinline__ int64_t w_at(const conv_geo &g, int64_t k, int64_t ci, int64_t r, int64_t s) {
    const pp_conv_params &p = g.p;
    const int64_t cg = p.c / p.group;
    return g.nhwc ? ((k * p.kh + r) * p.kw + s) * cg + ci : ((k * cg + ci) * p.kh + r) * p.kw + s;
}

__global__ void k_conv_direct(conv_geo g, const void *__restrict__ x, const void *__restrict__ w,
                              const void *__restrict__ bias, const void *__restrict__ res, void *__restrict__ y,
                              int64_t total) {
    const pp_conv_params &p = g.p;
    const int64_t cg = p.c / p.group, kg = p.k / p.group;
    PP_FOR(o, total) {
        /* o walks (n, k, oy, ox) logically; the offsets follow the layout */
        int64_t ox = o % p.ow, oy = (o / p.ow) % p.oh, k = (o / (p.ow * p.oh)) % p.k, n = o / (p.ow * p.oh * p.k);
        int64_t gi = k / kg;
        int64_t iy0 = oy * p.stride_h - p.pad_top, ix0 = ox * p.stride_w - p.pad_left;
        float s = 0.f;
        for (int64_t ci = 0; ci < cg; ci++)
            for (int64_t r = 0; r < p.kh; r++) {
                int64_t iy = iy0 + r * p.dil_h;
                if (iy < 0 || iy >= p.h) continue;
                for (int64_t q = 0; q < p.kw; q++) {
                    int64_t ix = ix0 + q * p.dil_w;
                    if (ix < 0 || ix >= p.w) continue;
                    s += pp_load_float(g.t, x, x_at(g, n, gi * cg + ci, iy, ix)) *
                         pp_load_float(g.t, w, w_at(g, k, ci, r, q));
                }
            }
        const int64_t yo = y_at(g, n, k, oy, ox);
        if (bias) s += pp_load_float(g.t, bias, k);
        if (res) s += pp_load_float(g.t, res, yo);
        pp_store_float(g.t, y, yo, pp_act_apply(p.act, s));
    }
}

static int conv_ok(const pp_conv_params *p) {
    pp_dtype t = pp_fdt(p->fmt.dtype);
    return p->group > 0 && p->c % p->group == 0 && p->k % p->group == 0 && (t == PP_DTYPE_F32 || pp_is16(t)) &&
           (p->fmt.layout == PP_LAYOUT_PLAIN || p->fmt.layout == PP_LAYOUT_NHWC);
}

extern "C" cudaError_t pp_cuda_conv_direct(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                           const pp_cuda_exec *x) {
    (void)ws;
    const pp_conv_params *p = &pp->conv;
    if (!conv_ok(p)) return cudaErrorInvalidValue;
    int64_t total = p->n * p->k * p->oh * p->ow;
    if (total <= 0) return cudaSuccess;
    conv_geo g = {*p, pp_fdt(p->fmt.dtype), p->fmt.layout == PP_LAYOUT_NHWC};
    k_conv_direct<<<pp_blocks(total), PP_THREADS, 0, x->stream>>>(g, in[0], in[1], in[2], in[3], out[0], total);
    return cudaGetLastError();
}

/* ---- depthwise, NHWC ------------------------------------------------------------------ */

/* thread: output pixel (n, oy, ox) and channels c0..c0+7 */
__global__ void k_conv_dw8(conv_geo g, const void *__restrict__ x, const void *__restrict__ w,
                           const void *__restrict__ bias, const void *__restrict__ res, void *__restrict__ y,
                           int64_t total) {
    const pp_conv_params &p = g.p;
    const int64_t cv = p.c / 8;
    PP_FOR(o, total) {
        const int64_t c0 = o % cv * 8, pix = o / cv, ox = pix % p.ow, oy = (pix / p.ow) % p.oh, n = pix / (p.ow * p.oh);
        const int64_t iy0 = oy * p.stride_h - p.pad_top, ix0 = ox * p.stride_w - p.pad_left;
        float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
        for (int64_t r = 0; r < p.kh; r++) {
            const int64_t iy = iy0 + r * p.dil_h;
            if (iy < 0 || iy >= p.h) continue;
            for (int64_t q = 0; q < p.kw; q++) {
                const int64_t ix = ix0 + q * p.dil_w;
                if (ix < 0 || ix >= p.w) continue;
                float v[8];
                pp_load8(g.t, x, ((n * p.h + iy) * p.w + ix) * p.c + c0, v);
#pragma unroll
                for (int e = 0; e < 8; e++) acc[e] += v[e] * pp_load_float(g.t, w, ((c0 + e) * p.kh + r) * p.kw + q);
            }
        }
        const int64_t yo = ((n * p.oh + oy) * p.ow + ox) * p.c + c0;
        float rv[8];
        if (res) pp_load8(g.t, res, yo, rv);
#pragma unroll
        for (int e = 0; e < 8; e++) {
            float s = acc[e];
            if (bias) s += pp_load_float(g.t, bias, c0 + e);
            if (res) s += rv[e];
            acc[e] = pp_act_apply(p.act, s);
        }
        pp_store8(g.t, y, yo, acc);
    }
}

extern "C" int pp_cuda_conv_depthwise_ok(const pp_conv_params *p) {
    return conv_ok(p) && p->fmt.layout == PP_LAYOUT_NHWC && p->group == p->c && p->k == p->c && p->c % 8 == 0;
}

extern "C" cudaError_t pp_cuda_conv_depthwise(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                              const pp_cuda_exec *x) {
    (void)ws;
    const pp_conv_params *p = &pp->conv;
    if (!pp_cuda_conv_depthwise_ok(p) || !pp_al16(in[0]) || !pp_al16(out[0]) || !pp_al16(in[3]))
        return cudaErrorInvalidValue;
    int64_t total = p->n * p->oh * p->ow * (p->c / 8);
    if (total <= 0) return cudaSuccess;
    conv_geo g = {*p, pp_fdt(p->fmt.dtype), 1};
    k_conv_dw8<<<pp_blocks(total), PP_THREADS, 0, x->stream>>>(g, in[0], in[1], in[2], in[3], out[0], total);
    return cudaGetLastError();
}

/* pool.cu: MAXPOOL, AVGPOOL, GLOBAL_AVGPOOL, GLOBAL_MAXPOOL, NCHW or NHWC, f32 or
 * 16-bit (computed in f32), one thread per output cell, with kernels/cpu/pool.c's rules: padding never wins a max (a
 * window with no real cell gives -inf, a NaN wins), an average divides by the real
 * cells or, with count_include_pad, by the taps inside [-pad_begin, extent +
 * pad_end). A global pool over a large plane uses one block per plane instead. */
#include "common.cuh"

__device__ __forceinline__ int64_t taps_in(int64_t s, int64_t k, int64_t dil, int64_t lo, int64_t hi) {
    int64_t c = 0;
    for (int64_t i = 0; i < k; i++) {
        int64_t pos = s + i * dil;
        c += pos >= lo && pos < hi;
    }
    return c;
}

/* o walks y as stored; in NHWC the channel is innermost, so neighbouring
 * threads read neighbouring channels (coalesced) */
__global__ void k_pool(pp_pool_params p, pp_dtype t, int nhwc, const void *__restrict__ x, void *__restrict__ y,
                       int64_t total) {
    const int is_max = p.op == PP_OP_MAXPOOL || p.op == PP_OP_GLOBAL_MAXPOOL;
    PP_FOR(o, total) {
        int64_t ox, oy, ch, n;
        if (nhwc) ch = o % p.c, ox = (o / p.c) % p.ow, oy = (o / (p.c * p.ow)) % p.oh, n = o / (p.c * p.ow * p.oh);
        else ox = o % p.ow, oy = (o / p.ow) % p.oh, ch = (o / (p.ow * p.oh)) % p.c, n = o / (p.ow * p.oh * p.c);
        /* x's element (iy, ix) of this plane at base + (iy * w + ix) * step */
        const int64_t base = nhwc ? n * p.h * p.w * p.c + ch : (n * p.c + ch) * p.h * p.w, step = nhwc ? p.c : 1;
        int64_t sy = oy * p.stride_h - p.pad_top, sx = ox * p.stride_w - p.pad_left;
        float mx = -INFINITY;
        double sum = 0.0;
        int64_t cnt = 0;
        for (int64_t ki = 0; ki < p.kh; ki++) {
            int64_t iy = sy + ki * p.dil_h;
            if (iy < 0 || iy >= p.h) continue;
            for (int64_t kj = 0; kj < p.kw; kj++) {
                int64_t ix = sx + kj * p.dil_w;
                if (ix < 0 || ix >= p.w) continue;
                float v = pp_load_float(t, x, base + (iy * p.w + ix) * step);
                if (is_max) {
                    if (v > mx || v != v) mx = v;
                } else {
                    sum += v;
                    cnt++;
                }
            }
        }
        if (is_max) {
            pp_store_float(t, y, o, mx);
        } else {
            int64_t div = p.count_include_pad ? taps_in(sy, p.kh, p.dil_h, -p.pad_top, p.h + p.pad_bottom) *
                                                    taps_in(sx, p.kw, p.dil_w, -p.pad_left, p.w + p.pad_right)
                                              : cnt;
            pp_store_float(t, y, o, div > 0 ? (float)(sum / (double)div) : 0.f);
        }
    }
}

/* Global pools, plain: one block per plane, a block reduction. */
__global__ void k_global_pool(int is_max, pp_dtype t, const void *__restrict__ x, void *__restrict__ y, int64_t planes,
                              int64_t hw) {
    __shared__ float sh[32];
    PP_FOR_ROWS(pl, planes) {
        float acc = is_max ? -INFINITY : 0.f;
        for (int64_t i = threadIdx.x; i < hw; i += blockDim.x) {
            float v = pp_load_float(t, x, pl * hw + i);
            if (is_max) {
                if (v > acc || v != v) acc = acc != acc ? acc : v;
            } else {
                acc += v;
            }
        }
        float r = is_max ? pp_block_max(acc, sh) : pp_block_sum(acc, sh);
        if (threadIdx.x == 0) pp_store_float(t, y, pl, is_max ? r : (hw > 0 ? r / (float)hw : 0.f));
    }
}

/* Global pools, NHWC: one thread per (image, channel), walking the plane with
 * its neighbours in the warp reading neighbouring channels; the sum in f32. */
__global__ void k_global_pool_nhwc(int is_max, pp_dtype t, const void *__restrict__ x, void *__restrict__ y, int64_t n,
                                   int64_t c, int64_t hw) {
    PP_FOR(o, n * c) {
        const int64_t img = o / c, ch = o % c;
        float acc = is_max ? -INFINITY : 0.f;
        for (int64_t i = 0; i < hw; i++) {
            float v = pp_load_float(t, x, (img * hw + i) * c + ch);
            if (is_max) {
                if (v > acc || v != v) acc = acc != acc ? acc : v;
            } else {
                acc += v;
            }
        }
        pp_store_float(t, y, o, is_max ? acc : acc / (float)hw);
    }
}

extern "C" cudaError_t pp_cuda_pool(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                    const pp_cuda_exec *x) {
    (void)ws;
    const pp_pool_params *p = &pp->pool;
    int64_t planes = p->n * p->c, total = planes * p->oh * p->ow;
    if (total <= 0) return cudaSuccess;
    pp_dtype t = pp_fdt(p->fmt.dtype);
    int nhwc = p->fmt.layout == PP_LAYOUT_NHWC;
    int global = p->oh == 1 && p->ow == 1 && p->kh == p->h && p->kw == p->w && p->pad_top == 0 && p->pad_left == 0 &&
                 p->dil_h == 1 && p->dil_w == 1 && p->h * p->w >= 64;
    int is_max = p->op == PP_OP_MAXPOOL || p->op == PP_OP_GLOBAL_MAXPOOL;
    if (global && nhwc)
        k_global_pool_nhwc<<<pp_blocks(planes), PP_THREADS, 0, x->stream>>>(is_max, t, in[0], out[0], p->n, p->c,
                                                                            p->h * p->w);
    else if (global)
        k_global_pool<<<pp_row_blocks(planes), pp_row_threads(p->h * p->w), 0, x->stream>>>(is_max, t, in[0], out[0],
                                                                                            planes, p->h * p->w);
    else k_pool<<<pp_blocks(total), PP_THREADS, 0, x->stream>>>(*p, t, nhwc, in[0], out[0], total);
    return cudaGetLastError();
}

extern "C" int pp_cuda_pool_supports(const pp_op_params *p) {
    pp_dtype t = pp_fdt(p->pool.fmt.dtype);
    return (t == PP_DTYPE_F32 || pp_is16(t)) &&
           (p->pool.fmt.layout == PP_LAYOUT_PLAIN || p->pool.fmt.layout == PP_LAYOUT_NHWC);
}

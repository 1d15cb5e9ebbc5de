/* resize.cu: RESIZE of x (outer, ih, iw) → y (outer, oh, ow), or NHWC (N, ih, iw,
 * C) → (N, oh, ow, C), f32 or 16-bit (interpolated in f32), nearest or bilinear,
 * coordinates computed in float exactly as kernels/cpu/resize.c does (so nearest
 * picks the same cells); one thread per output cell, in NHWC neighbouring
 * threads on neighbouring channels. */
#include "common.cuh"

#include "../resize_coord.h"

struct tap {
    int64_t i0, i1;
    float w1;
};

__device__ __forceinline__ tap make_tap(const pp_resize_params &r, float scale, int64_t in_len, int64_t out_len,
                                        int64_t o) {
    tap t;
    float x = pp_resize_src_coord(r.coord, o, scale, in_len, out_len);
    if (r.mode == 0) {
        t.i0 = t.i1 = pp_resize_nearest_index(r.nearest, x, in_len);
        t.w1 = 0.f;
        return t;
    }
    if (!(x > 0.f)) x = 0.f;
    if (x > (float)(in_len - 1)) x = (float)(in_len - 1);
    t.i0 = (int64_t)x;
    if (t.i0 > in_len - 1) t.i0 = in_len - 1;
    t.i1 = t.i0 + 1 < in_len ? t.i0 + 1 : in_len - 1;
    t.w1 = x - (float)t.i0;
    return t;
}

__global__ void k_resize(pp_resize_params r, pp_dtype t, int nhwc, const void *__restrict__ x, void *__restrict__ y,
                         int64_t n) {
    const int64_t ch = nhwc ? r.c : 1;
    PP_FOR(i, n) {
        /* i walks y as stored: (outer, oh, ow[, c]) */
        int64_t c = nhwc ? i % ch : 0, j = nhwc ? i / ch : i;
        int64_t ox = j % r.ow, row = j / r.ow, oy = row % r.oh, plane = row / r.oh;
        tap ty = make_tap(r, r.scale_h, r.ih, r.oh, oy);
        tap tx = make_tap(r, r.scale_w, r.iw, r.ow, ox);
        /* element (iy, ix) of this plane and channel */
        const int64_t b0 = ((plane * r.ih + ty.i0) * r.iw) * ch + c, b1 = ((plane * r.ih + ty.i1) * r.iw) * ch + c;
        if (r.mode == 0) {
            pp_store_float(t, y, i, pp_load_float(t, x, b0 + tx.i0 * ch));
        } else {
            float a0 = pp_load_float(t, x, b0 + tx.i0 * ch), a1 = pp_load_float(t, x, b0 + tx.i1 * ch),
                  c0 = pp_load_float(t, x, b1 + tx.i0 * ch), c1 = pp_load_float(t, x, b1 + tx.i1 * ch);
            float top = a0 + tx.w1 * (a1 - a0);
            float bot = c0 + tx.w1 * (c1 - c0);
            pp_store_float(t, y, i, top + ty.w1 * (bot - top));
        }
    }
}

extern "C" cudaError_t pp_cuda_resize(const pp_op_params *p, const void *const *in, void *const *out, void *ws,
                                      const pp_cuda_exec *x) {
    (void)ws;
    const pp_resize_params *r = &p->resize;
    if (r->mode < 0 || r->mode > 1 || r->coord < 0 || r->coord > 3 || r->nearest < 0 || r->nearest > 3)
        return cudaErrorInvalidValue;
    int nhwc = r->fmt.layout == PP_LAYOUT_NHWC;
    int64_t n = r->outer * r->oh * r->ow * (nhwc ? r->c : 1);
    if (n <= 0) return cudaSuccess;
    if (r->ih <= 0 || r->iw <= 0) return cudaErrorInvalidValue;
    k_resize<<<pp_blocks(n), PP_THREADS, 0, x->stream>>>(*r, pp_fdt(r->fmt.dtype), nhwc, in[0], out[0], n);
    return cudaGetLastError();
}

extern "C" int pp_cuda_resize_supports(const pp_op_params *p) {
    pp_dtype t = pp_fdt(p->resize.fmt.dtype);
    return (t == PP_DTYPE_F32 || pp_is16(t)) &&
           (p->resize.fmt.layout == PP_LAYOUT_PLAIN || p->resize.fmt.layout == PP_LAYOUT_NHWC);
}

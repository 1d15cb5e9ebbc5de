/* resize.cu: RESIZE of f32 x (outer, ih, iw) → y (outer, oh, ow), nearest or
 * bilinear, coordinates computed in float exactly as kernels/cpu/resize.c does
 * (so nearest picks the same cells); one thread per output cell. */
#include "common.cuh"

__device__ __forceinline__ float src_coord(int coord, int64_t o, float scale, int64_t in_len, int64_t out_len) {
    switch (coord) {
    case 0: return ((float)o + 0.5f) / scale - 0.5f;
    case 3: return out_len > 1 ? ((float)o + 0.5f) / scale - 0.5f : 0.f;
    case 2: return out_len == 1 ? 0.f : (float)o * (float)(in_len - 1) / (float)(out_len - 1);
    case 1: return (float)o / scale;
    }
    return 0.f;
}

__device__ __forceinline__ int64_t nearest_index(int mode, float x, int64_t len) {
    float f;
    switch (mode) {
    case 0: f = x == floorf(x) + 0.5f ? floorf(x) : roundf(x); break;
    case 1: f = x == floorf(x) + 0.5f ? ceilf(x) : roundf(x); break;
    case 2: f = floorf(x); break;
    default: f = ceilf(x); break;
    }
    if (!(f >= 0.f)) return 0;
    if (f >= (float)(len - 1)) return len - 1;
    return (int64_t)f;
}

struct tap {
    int64_t i0, i1;
    float w1;
};

__device__ __forceinline__ tap make_tap(const pp_resize_params &r, float scale, int64_t in_len, int64_t out_len,
                                        int64_t o) {
    tap t;
    float x = src_coord(r.coord, o, scale, in_len, out_len);
    if (r.mode == 0) {
        t.i0 = t.i1 = nearest_index(r.nearest, x, in_len);
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

__global__ void k_resize(pp_resize_params r, const float *__restrict__ x, float *__restrict__ y, int64_t n) {
    PP_FOR(i, n) {
        int64_t ox = i % r.ow, row = i / r.ow, oy = row % r.oh, c = row / r.oh;
        tap ty = make_tap(r, r.scale_h, r.ih, r.oh, oy);
        tap tx = make_tap(r, r.scale_w, r.iw, r.ow, ox);
        const float *x0 = x + (c * r.ih + ty.i0) * r.iw, *x1 = x + (c * r.ih + ty.i1) * r.iw;
        if (r.mode == 0) {
            y[i] = x0[tx.i0];
        } else {
            float top = x0[tx.i0] + tx.w1 * (x0[tx.i1] - x0[tx.i0]);
            float bot = x1[tx.i0] + tx.w1 * (x1[tx.i1] - x1[tx.i0]);
            y[i] = top + ty.w1 * (bot - top);
        }
    }
}

extern "C" cudaError_t pp_cuda_resize(const pp_op_params *p, const void *const *in, void *const *out, void *ws,
                                      const pp_cuda_exec *x) {
    (void)ws;
    const pp_resize_params *r = &p->resize;
    if (r->mode < 0 || r->mode > 1 || r->coord < 0 || r->coord > 3 || r->nearest < 0 || r->nearest > 3)
        return cudaErrorInvalidValue;
    int64_t n = r->outer * r->oh * r->ow;
    if (n <= 0) return cudaSuccess;
    if (r->ih <= 0 || r->iw <= 0) return cudaErrorInvalidValue;
    k_resize<<<pp_blocks(n), PP_THREADS, 0, x->stream>>>(*r, (const float *)in[0], (float *)out[0], n);
    return cudaGetLastError();
}

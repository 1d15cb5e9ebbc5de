/* resize.c: RESIZE of f32 x (outer, ih, iw) → y (outer, oh, ow) over the two
 * innermost axes, nearest or (bi)linear, following the ONNX Resize spec.
 *
 * Each output coordinate maps to an input coordinate as kernels/resize_coord.h
 * says; nearest rounds and clamps, linear clamps x_in to [0, in - 1] and blends
 * floor(x_in) and the next index (clamped), which is the spec's edge-padded
 * interpolation. */
#include <math.h>

#include "cpu_kernels.h"
#include "omp.h"
#include "../resize_coord.h"

enum { TAP_CACHE = 2048 };

/* One output coordinate along one axis: the two source indices and the weight
 * of the second (nearest: both the same, weight 0). */
typedef struct tap {
    int64_t i0, i1;
    float w1;
} tap;

static inline tap make_tap(const pp_resize_params *r, float scale, int64_t in_len, int64_t out_len, int64_t o) {
    tap t;
    float x = pp_resize_src_coord(r->coord, o, scale, in_len, out_len);
    if (r->mode == 0) {
        t.i0 = t.i1 = pp_resize_nearest_index(r->nearest, x, in_len);
        t.w1 = 0.f;
        return t;
    }
    if (!(x > 0.f)) x = 0.f; /* also NaN */
    if (x > (float)(in_len - 1)) x = (float)(in_len - 1);
    t.i0 = (int64_t)x;
    if (t.i0 > in_len - 1) t.i0 = in_len - 1;
    t.i1 = t.i0 + 1 < in_len ? t.i0 + 1 : in_len - 1;
    t.w1 = x - (float)t.i0;
    return t;
}

int pp_cpu_resize(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_resize_params *r = &p->resize;
    if (r->outer < 0 || r->ih < 0 || r->iw < 0 || r->oh < 0 || r->ow < 0 || r->mode < 0 || r->mode > 1 ||
        r->coord < 0 || r->coord > 3 || r->nearest < 0 || r->nearest > 3)
        return 1;
    if (r->outer == 0 || r->oh == 0 || r->ow == 0) return 0;
    if (r->ih == 0 || r->iw == 0) return 1;
    const float *x = in[0];
    float *y = out[0];
    const int64_t rows = r->outer * r->oh, iw = r->iw, ow = r->ow;
    /* column taps are the same for every row: computed once when they fit on
     * the stack (the kernel interface has no workspace for them), else per use */
    tap cols[TAP_CACHE];
    const int cached = ow <= TAP_CACHE;
    if (cached)
        for (int64_t ox = 0; ox < ow; ox++) cols[ox] = make_tap(r, r->scale_w, iw, ow, ox);
    PP_OMP(omp parallel for schedule(static) if (rows * ow > 32768))
    for (int64_t row = 0; row < rows; row++) {
        const int64_t c = row / r->oh, oy = row % r->oh;
        const tap ty = make_tap(r, r->scale_h, r->ih, r->oh, oy);
        const float *x0 = x + (c * r->ih + ty.i0) * iw, *x1 = x + (c * r->ih + ty.i1) * iw;
        const float wy = ty.w1;
        float *yr = y + row * ow;
        for (int64_t ox = 0; ox < ow; ox++) {
            const tap t = cached ? cols[ox] : make_tap(r, r->scale_w, iw, ow, ox);
            if (r->mode == 0) {
                yr[ox] = x0[t.i0];
            } else {
                float top = x0[t.i0] + t.w1 * (x0[t.i1] - x0[t.i0]);
                float bot = x1[t.i0] + t.w1 * (x1[t.i1] - x1[t.i0]);
                yr[ox] = top + wy * (bot - top);
            }
        }
    }
    return 0;
}

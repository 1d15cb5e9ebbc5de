/* resize.c: RESIZE of f32 x (outer, ih, iw) → y (outer, oh, ow) over the two
 * innermost axes, nearest or (bi)linear, following the ONNX Resize spec.
 *
 * Each output coordinate maps to an input coordinate by the coordinate
 * transformation mode (scale = output / input as ONNX defines it):
 *   half_pixel          x_in = (x_out + 0.5) / scale - 0.5
 *   pytorch_half_pixel  the same, but 0 when the output extent is 1
 *   align_corners       x_out · (in - 1) / (out - 1), 0 when out is 1
 *   asymmetric          x_out / scale
 * nearest rounds x_in by nearest_mode and clamps to [0, in - 1]; linear clamps
 * x_in to [0, in - 1] and blends floor(x_in) and the next index (clamped), which
 * is the spec's edge-padded interpolation. Coordinates are computed in float,
 * as ONNX Runtime does. */
#include <math.h>

#include "cpu_kernels.h"
#include "omp.h"

enum { COORD_HALF_PIXEL = 0, COORD_ASYMMETRIC = 1, COORD_ALIGN_CORNERS = 2, COORD_PYTORCH_HALF_PIXEL = 3 };
enum { TAP_CACHE = 2048 };
enum { NEAREST_ROUND_PREFER_FLOOR = 0, NEAREST_ROUND_PREFER_CEIL = 1, NEAREST_FLOOR = 2, NEAREST_CEIL = 3 };

static float src_coord(int coord, int64_t o, float scale, int64_t in_len, int64_t out_len) {
    switch (coord) {
    case COORD_HALF_PIXEL: return ((float)o + 0.5f) / scale - 0.5f;
    case COORD_PYTORCH_HALF_PIXEL: return out_len > 1 ? ((float)o + 0.5f) / scale - 0.5f : 0.f;
    case COORD_ALIGN_CORNERS: return out_len == 1 ? 0.f : (float)o * (float)(in_len - 1) / (float)(out_len - 1);
    case COORD_ASYMMETRIC: return (float)o / scale;
    }
    return 0.f;
}

static int64_t nearest_index(int mode, float x, int64_t len) {
    float f;
    switch (mode) {
    case NEAREST_ROUND_PREFER_FLOOR: f = x == floorf(x) + 0.5f ? floorf(x) : roundf(x); break;
    case NEAREST_ROUND_PREFER_CEIL: f = x == floorf(x) + 0.5f ? ceilf(x) : roundf(x); break;
    case NEAREST_FLOOR: f = floorf(x); break;
    default: f = ceilf(x); break;
    }
    if (!(f >= 0.f)) return 0; /* also NaN */
    if (f >= (float)(len - 1)) return len - 1;
    return (int64_t)f;
}

/* One output coordinate along one axis: the two source indices and the weight
 * of the second (nearest: both the same, weight 0). */
typedef struct tap {
    int64_t i0, i1;
    float w1;
} tap;

static inline tap make_tap(const pp_resize_params *r, float scale, int64_t in_len, int64_t out_len, int64_t o) {
    tap t;
    float x = src_coord(r->coord, o, scale, in_len, out_len);
    if (r->mode == 0) {
        t.i0 = t.i1 = nearest_index(r->nearest, x, in_len);
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

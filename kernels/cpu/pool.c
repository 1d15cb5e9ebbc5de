/* pool.c: MAXPOOL, AVGPOOL, GLOBAL_AVGPOOL, GLOBAL_MAXPOOL over NCHW planes.
 * x (N,C,H,W) → y (N,C,OH,OW); window (oy, ox) starts at (oy·sh - pad_top,
 * ox·sw - pad_left) and samples every dil-th cell. Padding cells never win a max
 * (a window with no real cell gives -inf). An average divides by the real cells,
 * or with count_include_pad by the taps inside the padded extent
 * [-pad_begin, extent + pad_end), as ONNX Runtime and PyTorch do: taps past that
 * (a ceil_mode overhang) never count.
 */
#include <math.h>

#include "cpu_kernels.h"

/* Taps of a window starting at s that fall in [lo, hi). */
static int64_t taps_in(int64_t s, int64_t k, int64_t dil, int64_t lo, int64_t hi) {
    int64_t c = 0;
    for (int64_t i = 0; i < k; i++) {
        int64_t pos = s + i * dil;
        c += pos >= lo && pos < hi;
    }
    return c;
}

int pp_cpu_pool(const pp_op_params *pp, const void *const *in, void *const *out, void *ws) {
    (void)ws;
    const pp_pool_params *p = &pp->pool;
    const float *x = in[0];
    float *y = out[0];
    int is_max = p->op == PP_OP_MAXPOOL || p->op == PP_OP_GLOBAL_MAXPOOL;
    int64_t planes = p->n * p->c, hw = p->h * p->w, ohw = p->oh * p->ow;
#pragma omp parallel for schedule(static) if ((double)planes * (double)ohw * (double)(p->kh * p->kw) >= 16384.0)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * hw;
        float *yp = y + pl * ohw;
        for (int64_t oy = 0; oy < p->oh; oy++) {
            int64_t sy = oy * p->stride_h - p->pad_top;
            int64_t rows_pad =
                p->count_include_pad ? taps_in(sy, p->kh, p->dil_h, -p->pad_top, p->h + p->pad_bottom) : 0;
            for (int64_t ox = 0; ox < p->ow; ox++) {
                int64_t sx = ox * p->stride_w - p->pad_left;
                float mx = -INFINITY;
                double sum = 0.0;
                int64_t cnt = 0;
                for (int64_t ki = 0; ki < p->kh; ki++) {
                    int64_t iy = sy + ki * p->dil_h;
                    if (iy < 0 || iy >= p->h) continue;
                    const float *xr = xp + iy * p->w;
                    for (int64_t kj = 0; kj < p->kw; kj++) {
                        int64_t ix = sx + kj * p->dil_w;
                        if (ix < 0 || ix >= p->w) continue;
                        float v = xr[ix];
                        if (is_max) {
                            if (v > mx || isnan(v)) mx = v;
                        } else {
                            sum += v;
                            cnt++;
                        }
                    }
                }
                if (is_max) {
                    yp[oy * p->ow + ox] = mx;
                } else {
                    int64_t div = p->count_include_pad
                                      ? rows_pad * taps_in(sx, p->kw, p->dil_w, -p->pad_left, p->w + p->pad_right)
                                      : cnt;
                    yp[oy * p->ow + ox] = div > 0 ? (float)(sum / (double)div) : 0.f;
                }
            }
        }
    }
    return 0;
}

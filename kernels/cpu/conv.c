/* conv.c: 2-D convolution, NCHW, with fused bias, residual and activation.
 *
 * Three paths, all giving y = act(conv(x, w) + bias + residual):
 *   - depthwise (group == C == K): a direct loop per channel plane, epilogue fused;
 *   - pointwise (1×1, stride 1, no padding): per image and group, one sgemm
 *     straight from x, no workspace;
 *   - everything else: per image and group, im2col into the workspace
 *     ((C/group)·KH·KW, OH·OW) floats, then sgemm.
 * in = x (N,C,H,W), w (K, C/group, KH, KW), [bias (K)], [residual (N,K,OH,OW)].
 * The in array holds the op's four slots, NULL for an absent input.
 */
#include <string.h>

#include "../act.h"
#include "cpu_kernels.h"

static int conv_is_depthwise(const pp_conv_params *p) { return p->group == p->c && p->c == p->k; }

static int conv_is_pointwise(const pp_conv_params *p) {
    return p->kh == 1 && p->kw == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0 && p->pad_left == 0 &&
           p->pad_bottom == 0 && p->pad_right == 0 && p->oh == p->h && p->ow == p->w;
}

size_t pp_cpu_conv_workspace(const pp_op_params *pp) {
    const pp_conv_params *p = &pp->conv;
    if (p->group <= 0 || conv_is_depthwise(p) || conv_is_pointwise(p)) return 0;
    return (size_t)(p->c / p->group) * (size_t)p->kh * (size_t)p->kw * (size_t)p->oh * (size_t)p->ow * sizeof(float);
}

/* One image's group slice xg (cg, H, W) → col (cg·KH·KW, OH·OW); padding cells are 0. */
static void im2col(const pp_conv_params *p, int64_t cg, const float *xg, float *col) {
    int64_t kk = p->kh * p->kw, ohw = p->oh * p->ow, rows = cg * kk;
    int parallel = (double)rows * (double)ohw >= 32768.0;
    (void)parallel; /* read only by the OpenMP pragma */
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t r = 0; r < rows; r++) {
        int64_t ci = r / kk, ki = (r % kk) / p->kw, kj = r % p->kw;
        const float *xc = xg + ci * p->h * p->w;
        float *dst = col + r * ohw;
        for (int64_t oy = 0; oy < p->oh; oy++) {
            int64_t iy = oy * p->stride_h - p->pad_top + ki * p->dil_h;
            float *d = dst + oy * p->ow;
            if (iy < 0 || iy >= p->h) {
                memset(d, 0, (size_t)p->ow * sizeof(float));
                continue;
            }
            const float *xrow = xc + iy * p->w;
            int64_t ix = -p->pad_left + kj * p->dil_w;
            for (int64_t ox = 0; ox < p->ow; ox++, ix += p->stride_w) d[ox] = (ix >= 0 && ix < p->w) ? xrow[ix] : 0.f;
        }
    }
}

/* y (N,K,OH,OW) = act(y + bias + residual), in that order. */
static void conv_epilogue(const pp_conv_params *p, const float *bias, const float *res, float *y) {
    if (!bias && !res && p->act.kind == PP_ACT_NONE) return;
    int64_t planes = p->n * p->k, ohw = p->oh * p->ow;
    pp_act act = p->act;
#pragma omp parallel for schedule(static) if ((double)planes * (double)ohw >= 16384.0)
    for (int64_t pl = 0; pl < planes; pl++) {
        float b = bias ? bias[pl % p->k] : 0.f;
        float *yp = y + pl * ohw;
        const float *rp = res ? res + pl * ohw : NULL;
        for (int64_t i = 0; i < ohw; i++) {
            float v = yp[i] + b;
            if (rp) v += rp[i];
            yp[i] = pp_act_apply(act, v);
        }
    }
}

static void conv_depthwise(const pp_conv_params *p, const float *x, const float *w, const float *bias, const float *res,
                           float *y) {
    int64_t planes = p->n * p->c, hw = p->h * p->w, ohw = p->oh * p->ow;
    pp_act act = p->act;
#pragma omp parallel for schedule(static) if ((double)planes * (double)ohw * (double)(p->kh * p->kw) >= 16384.0)
    for (int64_t pl = 0; pl < planes; pl++) {
        int64_t ch = pl % p->c;
        const float *xp = x + pl * hw, *wp = w + ch * p->kh * p->kw;
        const float *rp = res ? res + pl * ohw : NULL;
        float b = bias ? bias[ch] : 0.f;
        float *yp = y + pl * ohw;
        for (int64_t oy = 0; oy < p->oh; oy++) {
            int64_t iy0 = oy * p->stride_h - p->pad_top;
            for (int64_t ox = 0; ox < p->ow; ox++) {
                int64_t ix0 = ox * p->stride_w - p->pad_left;
                float s = 0.f;
                for (int64_t ki = 0; ki < p->kh; ki++) {
                    int64_t iy = iy0 + ki * p->dil_h;
                    if (iy < 0 || iy >= p->h) continue;
                    const float *xr = xp + iy * p->w;
                    const float *wr = wp + ki * p->kw;
                    for (int64_t kj = 0; kj < p->kw; kj++) {
                        int64_t ix = ix0 + kj * p->dil_w;
                        if (ix >= 0 && ix < p->w) s += xr[ix] * wr[kj];
                    }
                }
                float v = s + b;
                if (rp) v += rp[oy * p->ow + ox];
                yp[oy * p->ow + ox] = pp_act_apply(act, v);
            }
        }
    }
}

int pp_cpu_conv(const pp_op_params *pp, const void *const *in, void *const *out, void *ws) {
    const pp_conv_params *p = &pp->conv;
    const float *x = in[0], *w = in[1], *bias = in[2], *res = in[3];
    float *y = out[0];
    if (p->group <= 0) return 1;
    if (conv_is_depthwise(p)) {
        conv_depthwise(p, x, w, bias, res, y);
        return 0;
    }
    int64_t cg = p->c / p->group, kg = p->k / p->group;
    int64_t hw = p->h * p->w, ohw = p->oh * p->ow, ckk = cg * p->kh * p->kw;
    if (conv_is_pointwise(p)) {
        for (int64_t n = 0; n < p->n; n++)
            for (int64_t g = 0; g < p->group; g++)
                pp_cpu_sgemm(0, 0, kg, hw, cg, 1.f, w + g * kg * cg, cg, x + (n * p->c + g * cg) * hw, hw, 0.f,
                             y + (n * p->k + g * kg) * hw, hw);
    } else {
        float *col = ws;
        if (!col && ckk * ohw > 0) return 1;
        for (int64_t n = 0; n < p->n; n++) {
            for (int64_t g = 0; g < p->group; g++) {
                im2col(p, cg, x + (n * p->c + g * cg) * hw, col);
                pp_cpu_sgemm(0, 0, kg, ohw, ckk, 1.f, w + g * kg * ckk, ckk, col, ohw, 0.f,
                             y + (n * p->k + g * kg) * ohw, ohw);
            }
        }
    }
    conv_epilogue(p, bias, res, y);
    return 0;
}

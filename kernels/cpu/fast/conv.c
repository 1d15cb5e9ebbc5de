/* conv.c: fast 2-D convolution, NCHW f32, bias / residual / activation fused.
 *
 * Two kernels, picked by shape:
 *   - depthwise (group == C == K): on AVX-512 and AVX2 through
 *     channel-innermost tiles (dwconv.c); the reference's plane loop in plain C;
 *   - everything else: an implicit GEMM per group, Y_g (K/g × N·OH·OW) = W_g ·
 *     im2col(X_g), whose B panels are gathered straight from the image into a
 *     per-thread buffer (never a whole im2col matrix), with the weights packed
 *     once at load. A 1×1 stride-1 unpadded convolution is the same GEMM with
 *     each image viewed as one row of H·W pixels, so its packing is a copy.
 * Columns run over every image of the batch, so small late layers (7×7) fill
 * whole tiles at batch > 1; a tile that straddles two images goes through a
 * small buffer.
 */
#include <string.h>

#include "../cpu_kernels.h"
#include "fast_internal.h"
#include "simd512.h"

enum { NCH_PANELS = 8 }; /* B panels per column chunk: 256 columns with AVX-512 */

static int is_depthwise(const pp_conv_params *p) { return p->group == p->c && p->c == p->k && p->group > 1; }

/* 1×1, stride 1, unpadded: view each image as one row of H·W pixels. */
static pp_conv_params gemm_view(const pp_conv_params *p) {
    pp_conv_params v = *p;
    if (p->kh == 1 && p->kw == 1 && p->stride_h == 1 && p->stride_w == 1 && !p->pad_top && !p->pad_left &&
        !p->pad_bottom && !p->pad_right && p->oh == p->h && p->ow == p->w) {
        v.w = v.ow = p->h * p->w;
        v.h = v.oh = 1;
    }
    return v;
}

int pp_fast_conv_pack(const pp_conv_params *p, const float *w, const float *bias, pp_cpu_isa isa, pp_fast_packed *pk) {
    (void)bias;
    if (is_depthwise(p)) return isa != PP_ISA_GENERIC ? pp_fast_dw_pack(p, w, isa, pk) : 0;
    const pp_gemm_kernel *kr = pp_gemm_kernel_for(isa);
    int64_t kg = p->k / p->group, ckk = p->c / p->group * p->kh * p->kw;
    int64_t stride = pp_gemm_packed_size(kg, ckk, kr->mr);
    if (!(pk->w = pp_fast_alloc_floats((size_t)(stride * p->group)))) return -1;
    for (int64_t g = 0; g < p->group; g++) pp_gemm_pack(w + g * kg * ckk, ckk, 1, kg, ckk, kr->mr, pk->w + g * stride);
    pk->extra = stride;
    /* the Winograd form too, for the batch sizes it pays at */
    if (isa == PP_ISA_AVX512 && pp_fast_winograd_fits(p))
        if (pp_fast_winograd_pack(p, w, isa, &pk->wino)) return -1;
    return 0;
}

/* gemm_view'd params of a 1×1 stride-1 unpadded convolution, on AVX-512, with
 * at most 48 output channels per group (MobileNet's projections: packing cost
 * as much as their few multiply-adds per pixel; with more rows of A, packed
 * rows read in sequence beat image rows H·W apart, 105 against 54 GFLOP/s at
 * 64 -> 256) on images of half a panel or more (a squeeze-excite's 1×1 maps
 * fill tiles better with columns from across the batch). */
static int is_direct(const pp_conv_params *v, pp_cpu_isa isa) {
    return isa == PP_ISA_AVX512 && v->k / v->group <= 48 && v->ow >= 16 && v->h == 1 && v->oh == 1 && v->kh == 1 &&
           v->kw == 1 && v->stride_w == 1 && !v->pad_left && !v->pad_right && !v->pad_top && !v->pad_bottom;
}

/* ---- the implicit GEMM ---------------------------------------------------------------- */

typedef struct conv_job {
    pp_conv_params p; /* gemm_view'd */
    const pp_gemm_kernel *kr;
    const float *x, *wp, *bias, *res;
    float *y;
    int64_t kg, cg, ckk, ohw, cols;    /* cols = N·OH·OW */
    int64_t nch, mbp;                  /* columns and A panels per task */
    int direct;                        /* 1×1 on AVX-512: B read from the image in place, chunks per image */
    int64_t per_img;                   /* direct: chunks per image */
    int64_t n_chunks, n_mblk, gstride; /* tasks = group · n_chunks · n_mblk */
    float *ws;
    float *shared; /* the B chunks gathered once for every task (shared_b_floats), or NULL */
    size_t ws_floats;
} conv_job;

/* dst positions jj..jj+cnt of the packed chunk, row pp of a block kc deep:
 * panels of nr columns, each (kc, nr). */
static inline float *packed_at(float *dst, int64_t jj, int64_t pp, int64_t kc, int nr) {
    return dst + (jj / nr) * kc * nr + pp * nr + jj % nr;
}

static void put_zeros(float *dst, int64_t jj, int64_t cnt, int64_t pp, int64_t kc, int nr) {
    while (cnt > 0) {
        int64_t piece = nr - jj % nr < cnt ? nr - jj % nr : cnt;
        memset(packed_at(dst, jj, pp, kc, nr), 0, (size_t)piece * sizeof(float));
        jj += piece;
        cnt -= piece;
    }
}

/* d[t] = src[2t] for t < n: the even elements of 32 at a time, reading no
 * further than src[2n - 2]. */
PP_AVX512 static void copy_even_avx512(float *d, const float *src, int64_t n) {
    static const int32_t even[16] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
    __m512i ev = _mm512_loadu_si512(even);
    for (int64_t t = 0; t < n; t += 16, src += 32) {
        int64_t need = 2 * (n - t) - 1; /* elements of src still read */
        __m512 a = _mm512_maskz_loadu_ps(pp512_mask(need), src),
               b = _mm512_maskz_loadu_ps(pp512_mask(need - 16), src + 16);
        _mm512_mask_storeu_ps(d + t, pp512_mask(n - t), _mm512_permutex2var_ps(a, ev, b));
    }
}

static void put_values(float *dst, int64_t jj, const float *src, int64_t step, int64_t cnt, int64_t pp, int64_t kc,
                       int nr) {
    while (cnt > 0) {
        int64_t piece = nr - jj % nr < cnt ? nr - jj % nr : cnt;
        float *d = packed_at(dst, jj, pp, kc, nr);
        if (step == 1) memcpy(d, src, (size_t)piece * sizeof(float));
        else if (step == 2 && nr == 32) /* nr 32: the AVX-512 kernel's panels */ copy_even_avx512(d, src, piece);
        else
            for (int64_t t = 0; t < piece; t++) d[t] = src[t * step];
        src += piece * step;
        jj += piece;
        cnt -= piece;
    }
}

/* im2col of group g, rows [kb·KC, +kc) of (C/g·KH·KW), columns [j0, j0 + ncols)
 * into dst's panels; columns past ncols in the last panel are zero. */
static void pack_im2col(const conv_job *j, int64_t g, int64_t kb, int64_t kc, int64_t j0, int64_t ncols, float *dst) {
    const pp_conv_params *p = &j->p;
    int nr = j->kr->nr;
    int64_t kk = p->kh * p->kw, hw = p->h * p->w, padded = (ncols + nr - 1) / nr * nr;
    for (int64_t pp = 0; pp < kc; pp++) {
        int64_t r = kb * PP_GEMM_KC + pp, ci = r / kk, ki = (r % kk) / p->kw, kj = r % p->kw;
        const float *xc = j->x + (g * j->cg + ci) * hw;
        int64_t jj = 0, jg = j0;
        int64_t n = jg / j->ohw, oy = (jg % j->ohw) / p->ow, ox = jg % p->ow;
        while (jj < ncols) {
            int64_t len = p->ow - ox < ncols - jj ? p->ow - ox : ncols - jj;
            int64_t iy = oy * p->stride_h - p->pad_top + ki * p->dil_h;
            if (iy < 0 || iy >= p->h) {
                put_zeros(dst, jj, len, pp, kc, nr);
            } else {
                const float *row = xc + n * p->c * hw + iy * p->w;
                int64_t ix = ox * p->stride_w - p->pad_left + kj * p->dil_w, s = p->stride_w;
                /* taps t of the run with 0 <= ix + t·s < W */
                int64_t lo = ix >= 0 ? 0 : (-ix + s - 1) / s;
                int64_t hi = ix >= p->w ? 0 : (p->w - ix + s - 1) / s;
                if (lo > len) lo = len;
                if (hi > len) hi = len;
                if (hi < lo) hi = lo;
                put_zeros(dst, jj, lo, pp, kc, nr);
                put_values(dst, jj + lo, row + ix + lo * s, s, hi - lo, pp, kc, nr);
                put_zeros(dst, jj + hi, len - hi, pp, kc, nr);
            }
            jj += len;
            ox = 0;
            if (++oy == p->oh) oy = 0, n++;
        }
        put_zeros(dst, ncols, padded - ncols, pp, kc, nr);
    }
}

/* One mr × nr tile at rows k0.. (of group g's K), columns jt.. (global). */
static void conv_tile(const conv_job *j, int64_t kc, const float *ap, const float *bp, int64_t k0, int mr, int64_t jt,
                      int nr, int accumulate, int last, float *tmp) {
    const pp_conv_params *p = &j->p;
    int64_t n0 = jt / j->ohw, n1 = (jt + nr - 1) / j->ohw, kall = p->k;
    pp_gemm_epi epi = {j->bias ? j->bias + k0 : NULL, NULL, NULL, 0, p->act};
    if (n0 == n1) {
        int64_t off = (n0 * kall + k0) * j->ohw + jt - n0 * j->ohw;
        if (j->res) epi.res = j->res + off, epi.ldr = j->ohw;
        j->kr->ukr(kc, ap, bp, j->y + off, j->ohw, mr, nr, accumulate, last ? &epi : NULL);
        return;
    }
    /* a tile across an image boundary: gather, compute in tmp, scatter */
    int NR = j->kr->nr;
    float *ct = tmp, *rt = tmp + PP_GEMM_MR_MAX * PP_GEMM_NR_MAX;
    for (int u = 0; u < nr; u++) {
        int64_t n = (jt + u) / j->ohw, off = (n * kall + k0) * j->ohw + (jt + u) - n * j->ohw;
        for (int i = 0; i < mr; i++) {
            if (accumulate) ct[i * NR + u] = j->y[off + i * j->ohw];
            if (j->res && last) rt[i * NR + u] = j->res[off + i * j->ohw];
        }
    }
    if (j->res) epi.res = rt, epi.ldr = NR;
    j->kr->ukr(kc, ap, bp, ct, NR, mr, nr, accumulate, last ? &epi : NULL);
    for (int u = 0; u < nr; u++) {
        int64_t n = (jt + u) / j->ohw, off = (n * kall + k0) * j->ohw + (jt + u) - n * j->ohw;
        for (int i = 0; i < mr; i++) j->y[off + i * j->ohw] = ct[i * NR + u];
    }
}

/* A 1×1 stride-1 convolution's task: B is the image itself (channel rows H·W
 * apart), so the micro-kernel reads it in place; chunks never cross images. */
static void conv_task_direct(const conv_job *j, int64_t g, int64_t ch, int64_t mp0, int64_t mp1) {
    const pp_gemm_kernel *kr = j->kr;
    int64_t hw = j->ohw, n = ch / j->per_img, off = (ch % j->per_img) * j->nch;
    int64_t ncols = hw - off < j->nch ? hw - off : j->nch, npanels = (ncols + kr->nr - 1) / kr->nr;
    int64_t kblocks = (j->ckk + PP_GEMM_KC - 1) / PP_GEMM_KC;
    const float *wg = j->wp + g * j->gstride, *xg = j->x + (n * j->p.c + g * j->cg) * hw + off;
    for (int64_t kb = 0; kb < kblocks; kb++) {
        int64_t kc = j->ckk - kb * PP_GEMM_KC < PP_GEMM_KC ? j->ckk - kb * PP_GEMM_KC : PP_GEMM_KC;
        int last = kb == kblocks - 1;
        for (int64_t mp = mp0; mp < mp1; mp++) {
            const float *ap = wg + pp_gemm_panel_offset(j->kg, j->ckk, kr->mr, kb, mp);
            int64_t k0 = g * j->kg + mp * kr->mr;
            int mr = (int)(j->kg - mp * kr->mr < kr->mr ? j->kg - mp * kr->mr : kr->mr);
            for (int64_t np = 0; np < npanels; np++) {
                int64_t c0 = np * kr->nr, yoff = (n * j->p.k + k0) * hw + off + c0;
                int nr = (int)(ncols - c0 < kr->nr ? ncols - c0 : kr->nr);
                pp_gemm_epi epi = {j->bias ? j->bias + k0 : NULL, NULL, j->res ? j->res + yoff : NULL, hw, j->p.act};
                pp_gemm_ukr_avx512_strided(kc, ap, xg + kb * PP_GEMM_KC * hw + c0, hw, j->y + yoff, hw, mr, nr, kb > 0,
                                           last ? &epi : NULL);
            }
        }
    }
}

/* Group g's B chunk ch, rows from block kb, in the shared buffer. */
static float *shared_at(const conv_job *j, int64_t g, int64_t ch, int64_t kb) {
    return j->shared + ((g * j->n_chunks + ch) * j->ckk + kb * PP_GEMM_KC) * j->nch;
}

/* The first pass when B is shared: one K block of one chunk per task. */
static void conv_pack_task(void *arg, int64_t t, int thread) {
    const conv_job *j = arg;
    int64_t kblocks = (j->ckk + PP_GEMM_KC - 1) / PP_GEMM_KC, kb = t % kblocks;
    int64_t g = t / kblocks / j->n_chunks, ch = t / kblocks % j->n_chunks;
    int64_t j0 = ch * j->nch, ncols = j->cols - j0 < j->nch ? j->cols - j0 : j->nch;
    int64_t kc = j->ckk - kb * PP_GEMM_KC < PP_GEMM_KC ? j->ckk - kb * PP_GEMM_KC : PP_GEMM_KC;
    pack_im2col(j, g, kb, kc, j0, ncols, shared_at(j, g, ch, kb));
}

static void conv_task(void *arg, int64_t t, int thread) {
    const conv_job *j = arg;
    const pp_gemm_kernel *kr = j->kr;
    int64_t g = t / (j->n_chunks * j->n_mblk), rest = t % (j->n_chunks * j->n_mblk);
    int64_t ch = rest / j->n_mblk, mb = rest % j->n_mblk;
    int64_t j0 = ch * j->nch, ncols = j->cols - j0 < j->nch ? j->cols - j0 : j->nch;
    int64_t mpanels = (j->kg + kr->mr - 1) / kr->mr;
    int64_t mp0 = mb * j->mbp, mp1 = mp0 + j->mbp < mpanels ? mp0 + j->mbp : mpanels;
    if (j->direct) {
        conv_task_direct(j, g, ch, mp0, mp1);
        return;
    }
    float *bbuf = j->ws + (size_t)thread * j->ws_floats;
    float *tmp = bbuf + (size_t)PP_GEMM_KC * (size_t)j->nch;
    int64_t kblocks = (j->ckk + PP_GEMM_KC - 1) / PP_GEMM_KC, npanels = (ncols + kr->nr - 1) / kr->nr;
    const float *wg = j->wp + g * j->gstride;
    for (int64_t kb = 0; kb < kblocks; kb++) {
        int64_t kc = j->ckk - kb * PP_GEMM_KC < PP_GEMM_KC ? j->ckk - kb * PP_GEMM_KC : PP_GEMM_KC;
        const float *bk = bbuf;
        if (j->shared) bk = shared_at(j, g, ch, kb);
        else pack_im2col(j, g, kb, kc, j0, ncols, bbuf);
        for (int64_t mp = mp0; mp < mp1; mp++) {
            const float *ap = wg + pp_gemm_panel_offset(j->kg, j->ckk, kr->mr, kb, mp);
            int64_t k0 = mp * kr->mr;
            int mr = (int)(j->kg - k0 < kr->mr ? j->kg - k0 : kr->mr);
            for (int64_t np = 0; np < npanels; np++) {
                int64_t c0 = np * kr->nr;
                int nr = (int)(ncols - c0 < kr->nr ? ncols - c0 : kr->nr);
                conv_tile(j, kc, ap, bk + np * kc * kr->nr, g * j->kg + k0, mr, j0 + c0, nr, kb > 0, kb == kblocks - 1,
                          tmp);
            }
        }
    }
}

/* Column chunks of NCH_PANELS panels; when they are too few to keep the
 * threads busy, the rows (output channels) are split as well. */
static void conv_split(const pp_conv_params *p, const pp_gemm_kernel *kr, int threads, int direct, int64_t *nch,
                       int64_t *n_chunks, int64_t *mbp, int64_t *n_mblk) {
    /* direct: chunks within each image */
    int64_t ohw = p->oh * p->ow, cols = direct ? ohw : p->n * ohw, kg = p->k / p->group;
    *nch = (int64_t)NCH_PANELS * kr->nr;
    if (cols < *nch) *nch = (cols + kr->nr - 1) / kr->nr * kr->nr;
    *n_chunks = (cols + *nch - 1) / *nch * (direct ? p->n : 1);
    int64_t mpanels = (kg + kr->mr - 1) / kr->mr, want = 4 * (int64_t)threads;
    int64_t have = p->group * *n_chunks, mblk = have >= want ? 1 : (want + have - 1) / have;
    if (mblk > mpanels) mblk = mpanels;
    if (mblk < 1) mblk = 1;
    *mbp = (mpanels + mblk - 1) / mblk;
    *n_mblk = (mpanels + *mbp - 1) / *mbp;
}

/* When the rows are split over tasks (few columns: small maps at batch 1), each
 * task of a column chunk would gather the same B: 1024 -> 256 1×1 on a 14×14
 * image gathered it 8 times. Then every chunk is gathered once, by a first
 * pass over the pool, into a shared buffer of these floats (0: not shared).
 * The same copies feed the same micro-kernel calls: the bytes do not change. */
enum { SHARED_B_MAX = 1 << 22 }; /* floats: 16 MB */
static int64_t shared_b_floats(const pp_conv_params *v, int direct, int64_t nch, int64_t n_chunks, int64_t n_mblk) {
    int64_t f = v->group * n_chunks * (v->c / v->group * v->kh * v->kw) * nch;
    return direct || n_mblk < 2 || f > SHARED_B_MAX ? 0 : f;
}

/* The most shared_b_floats may take at any batch size: it is used only while
 * the chunks are fewer than 4 per thread. */
static size_t shared_b_bound(const pp_conv_params *p, pp_cpu_isa isa, int threads) {
    int64_t nch = (int64_t)NCH_PANELS * pp_gemm_kernel_for(isa)->nr;
    int64_t f = p->group * 4 * (int64_t)threads * (p->c / p->group * p->kh * p->kw) * nch;
    return (size_t)(f < SHARED_B_MAX ? f : SHARED_B_MAX) * sizeof(float);
}

static size_t conv_ws_floats(const pp_gemm_kernel *kr, int64_t nch) {
    /* B chunk, then two tiles for image-straddling tiles, 16-float aligned */
    return ((size_t)PP_GEMM_KC * (size_t)nch + 2 * PP_GEMM_MR_MAX * PP_GEMM_NR_MAX + 15) / 16 * 16;
}

/* ---- depthwise ------------------------------------------------------------------------ */

typedef struct dw_ref_job {
    const pp_conv_params *p;
    const float *x, *w, *bias, *res;
    float *y;
    int64_t planes_per_task;
} dw_ref_job;

/* Plain C, or weights not packed: the reference on a slice of channels of one image. */
static void dw_task_ref(void *arg, int64_t t, int thread) {
    const dw_ref_job *j = arg;
    const pp_conv_params *p = j->p;
    int64_t total = p->n * p->c, pl0 = t * j->planes_per_task;
    int64_t cnt = total - pl0 < j->planes_per_task ? total - pl0 : j->planes_per_task;
    int64_t hw = p->h * p->w, ohw = p->oh * p->ow;
    while (cnt > 0) { /* never across an image: the weights restart there */
        int64_t ch = pl0 % p->c, run = p->c - ch < cnt ? p->c - ch : cnt;
        pp_op_params sp;
        sp.conv = *p;
        sp.conv.n = 1;
        sp.conv.c = sp.conv.k = sp.conv.group = run;
        const void *in[4] = {j->x + pl0 * hw, j->w + ch * p->kh * p->kw, j->bias ? j->bias + ch : NULL,
                             j->res ? j->res + pl0 * ohw : NULL};
        void *out[1] = {j->y + pl0 * ohw};
        pp_cpu_conv(&sp, in, out, NULL);
        pl0 += run;
        cnt -= run;
    }
}

/* ---- the family's face ---------------------------------------------------------------- */

int pp_fast_conv_plan(const pp_conv_params *p, const pp_fast_packed *pk, pp_cpu_isa isa, int threads, int deterministic,
                      size_t *ws) {
    *ws = 0;
    if (p->group <= 0 || p->c % p->group || p->k % p->group || p->n <= 0) return 0;
    if (is_depthwise(p)) {
        if (isa == PP_ISA_GENERIC || !pk) return 1;
        *ws = pp_fast_dw_workspace(p, isa, threads);
        return 3;
    }
    if (pk && pk->wino && pp_fast_winograd_pays(p, deterministic)) {
        *ws = pp_fast_winograd_workspace(p, isa, threads);
        return 2;
    }
    pp_conv_params v = gemm_view(p);
    const pp_gemm_kernel *kr = pp_gemm_kernel_for(isa);
    int64_t nch, n_chunks, mbp, n_mblk;
    int direct = is_direct(&v, isa);
    conv_split(&v, kr, threads, direct, &nch, &n_chunks, &mbp, &n_mblk);
    /* the shared chunks' bound whether used or not: the engine sizes the
     * workspace at one micro-batch size for all (only what is used is touched) */
    *ws = (size_t)threads * conv_ws_floats(kr, nch) * sizeof(float) + 64;
    if (!direct) *ws += shared_b_bound(&v, isa, threads);
    return 1;
}

int pp_fast_conv_run(const pp_conv_params *p, const pp_fast_packed *pk, pp_cpu_isa isa, int variant,
                     const void *const *in, float *y, void *ws, pp_tpool *pool) {
    const float *x = in[0], *w = in[1], *bias = in[2], *res = in[3];
    int threads = pp_tpool_threads(pool);
    if (variant == 2) {
        pp_fast_winograd_run(p, pk->wino, x, bias, res, y, ws, pool);
        return 0;
    }
    if (variant == 3) {
        pp_fast_dw_run(p, pk, isa, x, bias, res, y, ws, pool);
        return 0;
    }
    if (is_depthwise(p)) {
        int64_t planes = p->n * p->c, ohw = p->oh * p->ow;
        /* tasks of at least ~4K outputs, at most a few per thread */
        int64_t per = (4096 + ohw - 1) / ohw;
        if (per * 4 * threads > planes) per = (planes + 4 * threads - 1) / (4 * threads);
        if (per < 1) per = 1;
        dw_ref_job j = {p, x, w, bias, res, y, per};
        pp_tpool_run(pool, (planes + per - 1) / per, dw_task_ref, &j);
        return 0;
    }
    conv_job j;
    memset(&j, 0, sizeof j);
    j.p = gemm_view(p);
    j.kr = pp_gemm_kernel_for(isa);
    j.x = x, j.wp = pk->w, j.bias = bias, j.res = res, j.y = y;
    j.kg = p->k / p->group, j.cg = p->c / p->group, j.ckk = j.cg * p->kh * p->kw;
    j.ohw = j.p.oh * j.p.ow, j.cols = p->n * j.ohw, j.gstride = pk->extra;
    j.direct = is_direct(&j.p, isa);
    conv_split(&j.p, j.kr, threads, j.direct, &j.nch, &j.n_chunks, &j.mbp, &j.n_mblk);
    j.per_img = j.direct ? j.n_chunks / p->n : 0;
    j.ws_floats = conv_ws_floats(j.kr, j.nch);
    j.ws = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63);
    if (j.ckk == 0) return 1;
    if (shared_b_floats(&j.p, j.direct, j.nch, j.n_chunks, j.n_mblk)) {
        j.shared = j.ws + (size_t)threads * j.ws_floats;
        pp_tpool_run(pool, p->group * j.n_chunks * ((j.ckk + PP_GEMM_KC - 1) / PP_GEMM_KC), conv_pack_task, &j);
    }
    pp_tpool_run(pool, p->group * j.n_chunks * j.n_mblk, conv_task, &j);
    return 0;
}

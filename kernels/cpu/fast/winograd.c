/* winograd.c: 3×3 stride-1 convolutions as Winograd F(2×2, 3×3), AVX-512.
 *
 * Each 2×2 block of outputs (a tile) is computed from a 4×4 patch d of the input:
 * Y = Aᵀ [ Σ_c U_c ⊙ V_c ] A, with U = G g Gᵀ per (k, c) (done once, at load) and
 * V = Bᵀ d Bᵀᵀ per (c, tile). The sum over channels is 16 products
 * M_ξ (K × tiles) = U_ξ (K × C) · V_ξ (C × tiles), one per position ξ of the 4×4
 * transform, through the packed GEMM's micro-kernel: 16 multiply-adds per 4
 * outputs per channel instead of 36, so 2.25× fewer. F(2×2) keeps the transforms'
 * weights to 0, ±1 and ±½, whose rounding stays within a few ulp of the direct
 * sum (F(4×4) would save more and lose more digits).
 *
 * A task takes a chunk of tiles (over every image of the batch) and a block of
 * output channels: it transforms the chunk's patches 16 tiles per vector (two
 * loads and an even-lane permute per patch column), straight into the GEMM's
 * packed panels, runs the 16 products into a scratch M, and transforms M back,
 * 16 tiles at a time, with bias, residual and activation fused into the store.
 */
#include <string.h>

#include "fast_internal.h"
#include "simd512.h"

enum { WG_T = 16 }; /* 4×4 transform positions */

int pp_fast_winograd_fits(const pp_conv_params *p) {
    return p->kh == 3 && p->kw == 3 && p->stride_h == 1 && p->stride_w == 1 && p->dil_h == 1 && p->dil_w == 1 &&
           p->group == 1 && p->c >= 16 && p->k >= 16;
}

/* Tiles below which the direct GEMM wins: half a panel of tiles. Measured on
 * ResNet's 7×7 and 14×14 layers at batch 1, which are still bound by compute
 * (the transformed weights, 16/9 of the originals, stay in cache). */
int pp_fast_winograd_pays(const pp_conv_params *p, int per_image) {
    int64_t tiles = ((p->oh + 1) / 2) * ((p->ow + 1) / 2);
    return (per_image ? tiles : tiles * p->n) >= 16;
}

int pp_fast_winograd_pack(const pp_conv_params *p, const float *w, pp_cpu_isa isa, float **out) {
    const pp_gemm_kernel *kr = pp_gemm_kernel_for(isa);
    int64_t K = p->k, C = p->c, stride = pp_gemm_packed_size(K, C, kr->mr);
    float *u = pp_fast_alloc_floats((size_t)(WG_T * K * C)), *pk = pp_fast_alloc_floats((size_t)(WG_T * stride));
    if (!u || !pk) {
        free(u);
        free(pk);
        return -1;
    }
    for (int64_t k = 0; k < K; k++)
        for (int64_t c = 0; c < C; c++) {
            const float *g = w + (k * C + c) * 9;
            float t[4][3]; /* G g: (4, 3) */
            for (int j = 0; j < 3; j++) {
                t[0][j] = g[j];
                t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                t[3][j] = g[6 + j];
            }
            for (int i = 0; i < 4; i++) { /* (G g) Gᵀ */
                float r[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]), 0.5f * (t[i][0] - t[i][1] + t[i][2]),
                              t[i][2]};
                for (int j = 0; j < 4; j++) u[((int64_t)(i * 4 + j) * K + k) * C + c] = r[j];
            }
        }
    for (int x = 0; x < WG_T; x++) pp_gemm_pack(u + x * K * C, C, 1, K, C, kr->mr, pk + x * stride);
    free(u);
    *out = pk;
    return 0;
}

typedef struct wg_job {
    const pp_conv_params *p;
    const pp_gemm_kernel *kr;
    const float *x, *u, *bias, *res;
    float *y;
    int64_t th, tw, tiles; /* tile rows and columns per image; tiles in all */
    int64_t nch, kblk;     /* tiles and output channels per task */
    int64_t n_chunks, n_kblk, ustride, vstride;
    float *ws;
    size_t ws_floats;
} wg_job;

/* Stores lanes [0, cnt) of v at chunk columns p0.. of row c of packed panels
 * (each (kc, NR)): a run may cross into the next panel. */
PP_AVX512 static void put_lanes(float *v0, int64_t nch, int64_t C, int nr, int64_t c, int64_t p0, int cnt, __m512 v) {
    int64_t kb = c / PP_GEMM_KC, row = c % PP_GEMM_KC;
    int64_t kc = C - kb * PP_GEMM_KC < PP_GEMM_KC ? C - kb * PP_GEMM_KC : PP_GEMM_KC;
    int lane = (int)(p0 % nr), first = cnt < nr - lane ? cnt : nr - lane;
    float *d = v0 + pp_gemm_panel_offset(nch, C, nr, kb, p0 / nr) + row * nr + lane;
    _mm512_mask_storeu_ps(d, pp512_mask(first), v);
    if (first < cnt) {
        __m512 rest = _mm512_maskz_compress_ps((__mmask16)(pp512_mask(cnt) & ~pp512_mask(first)), v);
        _mm512_mask_storeu_ps(d + (nr - lane) + (kc - 1) * nr, pp512_mask(cnt - first), rest);
    }
}

/* Tiles tx0..tx0+cnt of tile row ty of image n, every channel: V into vbuf. */
PP_AVX512 static void input_transform(const wg_job *j, int64_t c0, int64_t c1, int64_t n, int64_t ty, int64_t tx0,
                                      int cnt, int64_t p0, float *vbuf) {
    static const int32_t even[16] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
    const pp_conv_params *p = j->p;
    __m512i ev = _mm512_loadu_si512(even);
    int nr = j->kr->nr;
    for (int64_t c = c0; c < c1; c++) {
        const float *xc = j->x + (n * p->c + c) * p->h * p->w;
        __m512 d[4][4];
        for (int r = 0; r < 4; r++) {
            int64_t iy = 2 * ty - p->pad_top + r;
            if (iy < 0 || iy >= p->h) {
                for (int q = 0; q < 4; q++) d[r][q] = _mm512_setzero_ps();
                continue;
            }
            const float *row = xc + iy * p->w;
            for (int q = 0; q < 4; q++) {
                int64_t ix = 2 * tx0 - p->pad_left + q; /* lane j reads ix + 2j */
                int64_t lo = ix < 0 ? -ix : 0, hi = p->w - ix;
                __mmask16 m0 = (__mmask16)(pp512_mask(hi) & ~pp512_mask(lo));
                __mmask16 m1 = (__mmask16)(pp512_mask(hi - 16) & ~pp512_mask(lo - 16));
                d[r][q] = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(m0, row + ix), ev,
                                                 _mm512_maskz_loadu_ps(m1, row + ix + 16));
            }
        }
        __m512 t[4][4]; /* Bᵀ d */
        for (int q = 0; q < 4; q++) {
            t[0][q] = _mm512_sub_ps(d[0][q], d[2][q]);
            t[1][q] = _mm512_add_ps(d[1][q], d[2][q]);
            t[2][q] = _mm512_sub_ps(d[2][q], d[1][q]);
            t[3][q] = _mm512_sub_ps(d[1][q], d[3][q]);
        }
        for (int i = 0; i < 4; i++) { /* (Bᵀ d) B */
            __m512 v[4] = {_mm512_sub_ps(t[i][0], t[i][2]), _mm512_add_ps(t[i][1], t[i][2]),
                           _mm512_sub_ps(t[i][2], t[i][1]), _mm512_sub_ps(t[i][1], t[i][3])};
            for (int q = 0; q < 4; q++) put_lanes(vbuf + (i * 4 + q) * j->vstride, j->nch, p->c, nr, c, p0, cnt, v[q]);
        }
    }
}

/* M rows of channels [k0, k0 + kn) for tiles tx0..tx0+cnt (chunk columns p0..)
 * back to outputs, with bias, residual and activation. */
PP_AVX512 static void output_transform(const wg_job *j, const float *mbuf, int64_t k0, int64_t kn, int64_t n,
                                       int64_t ty, int64_t tx0, int cnt, int64_t p0) {
    static const int32_t lo_idx[16] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
    static const int32_t hi_idx[16] = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const pp_conv_params *p = j->p;
    __m512i li = _mm512_loadu_si512(lo_idx), hi = _mm512_loadu_si512(hi_idx);
    __mmask16 m = pp512_mask(cnt);
    int64_t ox0 = 2 * tx0, ncol = p->ow - ox0 < 2 * cnt ? p->ow - ox0 : 2 * cnt;
    __mmask16 mlo = pp512_mask(ncol), mhi = pp512_mask(ncol - 16);
    int64_t ohw = p->oh * p->ow, mstride = j->kblk * j->nch;
    for (int64_t kl = 0; kl < kn; kl++) {
        int64_t k = k0 + kl;
        __m512 mv[4][4];
        for (int x = 0; x < WG_T; x++)
            mv[x / 4][x % 4] = _mm512_maskz_loadu_ps(m, mbuf + x * mstride + kl * j->nch + p0);
        __m512 s[2][4]; /* Aᵀ m */
        for (int q = 0; q < 4; q++) {
            s[0][q] = _mm512_add_ps(_mm512_add_ps(mv[0][q], mv[1][q]), mv[2][q]);
            s[1][q] = _mm512_sub_ps(_mm512_sub_ps(mv[1][q], mv[2][q]), mv[3][q]);
        }
        __m512 b = _mm512_set1_ps(j->bias ? j->bias[k] : 0.f);
        for (int r = 0; r < 2; r++) {
            int64_t oy = 2 * ty + r;
            if (oy >= p->oh) break;
            __m512 e = _mm512_add_ps(_mm512_add_ps(s[r][0], s[r][1]), s[r][2]); /* (Aᵀ m) A, even columns */
            __m512 o = _mm512_sub_ps(_mm512_sub_ps(s[r][1], s[r][2]), s[r][3]); /* odd columns */
            __m512 v0 = _mm512_add_ps(_mm512_permutex2var_ps(e, li, o), b);
            __m512 v1 = _mm512_add_ps(_mm512_permutex2var_ps(e, hi, o), b);
            int64_t off = (n * p->k + k) * ohw + oy * p->ow + ox0;
            if (j->res) {
                v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(mlo, j->res + off));
                v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(mhi, j->res + off + 16));
            }
            _mm512_mask_storeu_ps(j->y + off, mlo, pp512_act(v0, p->act));
            if (mhi) _mm512_mask_storeu_ps(j->y + off + 16, mhi, pp512_act(v1, p->act));
        }
    }
}

/* Calls fn for each run of up to 16 tiles of one tile row within tiles
 * [t0, t0 + ncols), with the run's chunk column. */
#define FOR_TILE_RUNS(j, t0, ncols, BODY)                                                                              \
    for (int64_t t_ = (t0); t_ < (t0) + (ncols);) {                                                                    \
        int64_t n = t_ / ((j)->th * (j)->tw), ty = (t_ / (j)->tw) % (j)->th, tx0 = t_ % (j)->tw;                       \
        int64_t left = (t0) + (ncols)-t_, inrow = (j)->tw - tx0;                                                       \
        int cnt = (int)(left < inrow ? (left < 16 ? left : 16) : (inrow < 16 ? inrow : 16));                           \
        int64_t p0 = t_ - (t0);                                                                                        \
        BODY;                                                                                                          \
        t_ += cnt;                                                                                                     \
    }

/* The 16 products of position x for output-channel panels [mp0, mp1), chunk
 * columns [0, ncols), from V (vbuf) into M (mbuf, kblk rows from k0). */
static void wg_products(const wg_job *j, int x, int64_t mp0, int64_t mp1, int64_t k0, int64_t ncols, const float *vbuf,
                        float *mbuf) {
    const pp_gemm_kernel *kr = j->kr;
    const pp_conv_params *p = j->p;
    int64_t kblocks = (p->c + PP_GEMM_KC - 1) / PP_GEMM_KC, npanels = (ncols + kr->nr - 1) / kr->nr;
    const float *u = j->u + x * j->ustride;
    float *mx = mbuf + x * j->kblk * j->nch;
    for (int64_t kb = 0; kb < kblocks; kb++) {
        int64_t kc = p->c - kb * PP_GEMM_KC < PP_GEMM_KC ? p->c - kb * PP_GEMM_KC : PP_GEMM_KC;
        for (int64_t mp = mp0; mp < mp1; mp++) {
            const float *ap = u + pp_gemm_panel_offset(p->k, p->c, kr->mr, kb, mp);
            int mr = (int)(p->k - mp * kr->mr < kr->mr ? p->k - mp * kr->mr : kr->mr);
            for (int64_t np = 0; np < npanels; np++) {
                const float *bp = vbuf + x * j->vstride + pp_gemm_panel_offset(j->nch, p->c, kr->nr, kb, np);
                int nr = (int)(ncols - np * kr->nr < kr->nr ? ncols - np * kr->nr : kr->nr);
                /* reads only the nr columns the chunk filled: the rest of the panel is never written */
                pp_gemm_ukr_avx512_strided(kc, ap, bp, kr->nr, mx + (mp * kr->mr - k0) * j->nch + np * kr->nr, j->nch,
                                           mr, nr, kb > 0, NULL);
            }
        }
    }
}

/* Few tiles (batch 1's late layers: 49 or 16): one chunk, shared by three
 * passes over the pool instead of each task transforming it again: the input
 * transform by channel blocks, the products by (position, panel block), the
 * output transform by channel blocks. */
enum { WG_SHARED_CB = 32, WG_SHARED_MP = 2 };

static void wg_shared_in(void *arg, int64_t t, int thread) {
    const wg_job *j = arg;
    int64_t c0 = t * WG_SHARED_CB, c1 = c0 + WG_SHARED_CB < j->p->c ? c0 + WG_SHARED_CB : j->p->c;
    FOR_TILE_RUNS(j, 0, j->tiles, input_transform(j, c0, c1, n, ty, tx0, cnt, p0, j->ws));
}

static void wg_shared_mul(void *arg, int64_t t, int thread) {
    const wg_job *j = arg;
    int64_t kpanels = (j->p->k + j->kr->mr - 1) / j->kr->mr, per = (kpanels + WG_SHARED_MP - 1) / WG_SHARED_MP;
    int x = (int)(t / WG_SHARED_MP), mp0 = (t % WG_SHARED_MP) * per, mp1 = mp0 + per < kpanels ? mp0 + per : kpanels;
    wg_products(j, x, mp0, mp1, 0, j->tiles, j->ws, j->ws + WG_T * j->vstride);
}

static void wg_shared_out(void *arg, int64_t t, int thread) {
    const wg_job *j = arg;
    int64_t k0 = t * WG_SHARED_CB, kn = j->p->k - k0 < WG_SHARED_CB ? j->p->k - k0 : WG_SHARED_CB;
    const float *mbuf = j->ws + WG_T * j->vstride + k0 * j->nch;
    FOR_TILE_RUNS(j, 0, j->tiles, output_transform(j, mbuf, k0, kn, n, ty, tx0, cnt, p0));
}

static void wg_task(void *arg, int64_t t, int thread) {
    const wg_job *j = arg;
    const pp_gemm_kernel *kr = j->kr;
    const pp_conv_params *p = j->p;
    int64_t ch = t / j->n_kblk, kb_task = t % j->n_kblk;
    int64_t t0 = ch * j->nch, ncols = j->tiles - t0 < j->nch ? j->tiles - t0 : j->nch;
    int64_t k0 = kb_task * j->kblk, kn = p->k - k0 < j->kblk ? p->k - k0 : j->kblk;
    float *vbuf = j->ws + (size_t)thread * j->ws_floats, *mbuf = vbuf + WG_T * j->vstride;
    FOR_TILE_RUNS(j, t0, ncols, input_transform(j, 0, p->c, n, ty, tx0, cnt, p0, vbuf));
    int64_t mp0 = k0 / kr->mr, mp1 = (k0 + kn + kr->mr - 1) / kr->mr;
    for (int x = 0; x < WG_T; x++) wg_products(j, x, mp0, mp1, k0, ncols, vbuf, mbuf);
    FOR_TILE_RUNS(j, t0, ncols, output_transform(j, mbuf, k0, kn, n, ty, tx0, cnt, p0));
}

/* Whether the tiles fit one chunk of two panels and the passes share it. */
static int wg_shared(const pp_conv_params *p, const pp_gemm_kernel *kr) {
    return p->n * ((p->oh + 1) / 2) * ((p->ow + 1) / 2) <= 2 * kr->nr;
}

static void wg_split(const pp_conv_params *p, const pp_gemm_kernel *kr, int threads, int64_t *nch, int64_t *n_chunks,
                     int64_t *kblk, int64_t *n_kblk) {
    int64_t tiles = p->n * ((p->oh + 1) / 2) * ((p->ow + 1) / 2);
    if (wg_shared(p, kr)) {
        *nch = (tiles + kr->nr - 1) / kr->nr * kr->nr;
        *n_chunks = *n_kblk = 1;
        *kblk = p->k;
        return;
    }
    *nch = p->c > 128 || p->k > 128 ? kr->nr : 2 * kr->nr; /* V and M of a task in L2 */
    *n_chunks = (tiles + *nch - 1) / *nch;
    int64_t kpanels = (p->k + kr->mr - 1) / kr->mr, want = 4 * (int64_t)threads;
    int64_t nk = *n_chunks >= want ? 1 : (want + *n_chunks - 1) / *n_chunks;
    if (nk > kpanels) nk = kpanels;
    *kblk = (kpanels + nk - 1) / nk * kr->mr;
    *n_kblk = (p->k + *kblk - 1) / *kblk;
}

static size_t wg_ws_floats(const pp_conv_params *p, const pp_gemm_kernel *kr, int64_t nch, int64_t kblk) {
    size_t v = (size_t)WG_T * (size_t)pp_gemm_packed_size(nch, p->c, kr->nr);
    return (v + (size_t)WG_T * (size_t)(kblk * nch) + 15) / 16 * 16;
}

size_t pp_fast_winograd_workspace(const pp_conv_params *p, pp_cpu_isa isa, int threads) {
    const pp_gemm_kernel *kr = pp_gemm_kernel_for(isa);
    int64_t nch, n_chunks, kblk, n_kblk;
    wg_split(p, kr, threads, &nch, &n_chunks, &kblk, &n_kblk);
    return (size_t)(wg_shared(p, kr) ? 1 : threads) * wg_ws_floats(p, kr, nch, kblk) * sizeof(float) + 64;
}

void pp_fast_winograd_run(const pp_conv_params *p, const float *u, const float *x, const float *bias, const float *res,
                          float *y, void *ws, pp_tpool *pool) {
    wg_job j;
    memset(&j, 0, sizeof j);
    j.p = p;
    j.kr = pp_gemm_kernel_for(PP_ISA_AVX512);
    j.x = x, j.u = u, j.bias = bias, j.res = res, j.y = y;
    j.th = (p->oh + 1) / 2, j.tw = (p->ow + 1) / 2, j.tiles = p->n * j.th * j.tw;
    wg_split(p, j.kr, pp_tpool_threads(pool), &j.nch, &j.n_chunks, &j.kblk, &j.n_kblk);
    j.ustride = pp_gemm_packed_size(p->k, p->c, j.kr->mr);
    j.vstride = pp_gemm_packed_size(j.nch, p->c, j.kr->nr);
    j.ws_floats = wg_ws_floats(p, j.kr, j.nch, j.kblk);
    j.ws = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63);
    if (wg_shared(p, j.kr)) {
        pp_tpool_run(pool, (p->c + WG_SHARED_CB - 1) / WG_SHARED_CB, wg_shared_in, &j);
        pp_tpool_run(pool, WG_T * WG_SHARED_MP, wg_shared_mul, &j);
        pp_tpool_run(pool, (p->k + WG_SHARED_CB - 1) / WG_SHARED_CB, wg_shared_out, &j);
        return;
    }
    pp_tpool_run(pool, j.n_chunks * j.n_kblk, wg_task, &j);
}

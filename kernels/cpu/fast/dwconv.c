/* dwconv.c: depthwise convolution (group == C == K) on NCHW images, AVX-512
 * and AVX2, through channel-innermost tiles.
 *
 * Along a row of one plane, a vector of 16 outputs keeps 7 lanes busy on a 7×7
 * map and every tap costs a masked load, a mask and, at stride 2, a permute: the
 * row kernel this replaces ran MobileNetV3's depthwise layers at 3–15 GFLOP/s.
 * Here a task takes VL channels of one image (a vector: 16 with AVX-512, 8 with
 * AVX2) and a band of output rows: it transposes the input rows the band reads
 * into a tile of (row, column, VL channels) with the padding written as zeros,
 * so every tap of every output is one full-width load and FMA against a vector
 * of VL channels' weights (packed at load as (block, tap, VL)), whatever the
 * stride or dilation; then it transposes the band's outputs back, adding bias
 * and residual and applying the activation on the way out. The transposes are
 * VL×VL in registers.
 *
 * Each output sums its taps in (ky, kx) order, padded taps included as zeros,
 * then adds bias and residual: the same bytes whatever the band, the thread
 * count or the batch.
 */
#include <string.h>

#include "../../act.h"
#include "fast_internal.h"
#include "simd512.h"

enum {
    DW_TILE_FLOATS = 32768, /* input tile of a band: 128 KB, well within L2 */
    DW_NP = 8               /* output pixels per register tile */
};

#define PP_AVX2 __attribute__((target("avx2,fma")))

typedef struct dw_geom {
    int64_t vl;      /* channels per vector */
    int64_t tw;      /* tile columns: every input column a row of outputs reads, padding included */
    int64_t band;    /* output rows per task */
    int64_t in_rows; /* tile rows a band reads */
    int64_t out_px;  /* the output tile's pixels, a multiple of VL */
} dw_geom;

/* From the shapes alone, so the bytes never depend on the thread count. */
static dw_geom dw_geometry(const pp_conv_params *p, pp_cpu_isa isa) {
    dw_geom g;
    g.vl = isa == PP_ISA_AVX512 ? 16 : 8;
    int64_t reach = (p->kh - 1) * p->dil_h + 1;
    g.tw = (p->ow - 1) * p->stride_w + (p->kw - 1) * p->dil_w + 1;
    int64_t rows = DW_TILE_FLOATS / (g.tw * g.vl);
    g.band = rows > reach ? (rows - reach) / p->stride_h + 1 : 1;
    if (g.band > p->oh) g.band = p->oh;
    g.in_rows = (g.band - 1) * p->stride_h + reach;
    g.out_px = (g.band * p->ow + g.vl - 1) / g.vl * g.vl;
    return g;
}

static size_t dw_thread_floats(const dw_geom *g) { return (size_t)((g->in_rows * g->tw + g->out_px) * g->vl); }

size_t pp_fast_dw_workspace(const pp_conv_params *p, pp_cpu_isa isa, int threads) {
    dw_geom g = dw_geometry(p, isa);
    return (size_t)threads * dw_thread_floats(&g) * sizeof(float) + 64;
}

int pp_fast_dw_pack(const pp_conv_params *p, const float *w, pp_cpu_isa isa, pp_fast_packed *pk) {
    int64_t vl = dw_geometry(p, isa).vl, blocks = (p->c + vl - 1) / vl, taps = p->kh * p->kw;
    size_t n = (size_t)(blocks * taps * vl);
    if (!(pk->w = pp_fast_alloc_floats(n))) return -1;
    memset(pk->w, 0, n * sizeof(float));
    for (int64_t c = 0; c < p->c; c++)
        for (int64_t t = 0; t < taps; t++) pk->w[((c / vl) * taps + t) * vl + c % vl] = w[c * taps + t];
    return 0;
}

/* r[i] (16 lanes j) becomes r[j] (16 lanes i): unpacks within 128-bit lanes,
 * then 128-bit lanes shuffled across the four registers of each column group. */
PP_AVX512 static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
        __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    /* r[4a + j], 128-bit lane L: rows 4a..4a+3 of column 4L + j */
    for (int j = 0; j < 4; j++) {
        __m512 v0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x44), v1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xEE);
        __m512 w0 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x44),
               w1 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xEE);
        t[j] = _mm512_shuffle_f32x4(v0, w0, 0x88);
        t[4 + j] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
        t[8 + j] = _mm512_shuffle_f32x4(v1, w1, 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}
/* r[i] (8 lanes j) becomes r[j] (8 lanes i). */
PP_AVX2 static inline void transpose8(__m256 r[8]) {
    __m256 t[8], s[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    /* s[4h + j], 128-bit lane L: rows 4h..4h+3 of column 4L + j */
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(s[i], s[4 + i], 0x20);
        r[4 + i] = _mm256_permute2f128_ps(s[i], s[4 + i], 0x31);
    }
}

PP_AVX2 static inline __m256i mask8(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 8 ? n : 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

typedef struct dw_job {
    const pp_conv_params *p;
    dw_geom g;
    const float *x, *w, *bias, *res;
    float *y, *ws;
    int64_t blocks, bands;
} dw_job;

/* The tile's zeros for the band from output row oy0: tile row tr is input row
 * oy0·SH - PT + tr, tile column tc input column tc - PL. Sets [*tr0, *tr1), the
 * tile rows inside the image, whose columns inside it are left to fill. */
static void dw_pad_tile(const dw_job *j, int64_t oy0, float *tile, int64_t *tr0, int64_t *tr1) {
    const pp_conv_params *p = j->p;
    int64_t tw = j->g.tw, vl = j->g.vl, rows = j->g.in_rows, iy0 = oy0 * p->stride_h - p->pad_top;
    *tr0 = iy0 < 0 ? -iy0 : 0;
    *tr1 = p->h - iy0 < rows ? p->h - iy0 : rows;
    if (*tr1 < *tr0) *tr1 = *tr0;
    if (*tr0 > 0) memset(tile, 0, (size_t)(*tr0 * tw * vl) * sizeof(float));
    if (*tr1 < rows) memset(tile + *tr1 * tw * vl, 0, (size_t)((rows - *tr1) * tw * vl) * sizeof(float));
    int64_t left = p->pad_left < tw ? p->pad_left : tw, right = p->w + p->pad_left;
    for (int64_t tr = *tr0; tr < *tr1; tr++) {
        float *row = tile + tr * tw * vl;
        if (left > 0) memset(row, 0, (size_t)(left * vl) * sizeof(float));
        if (right < tw) memset(row + right * vl, 0, (size_t)((tw - right) * vl) * sizeof(float));
    }
}

/* The image's rows of tile rows [tr0, tr1) as one run of pixels, VL at a time,
 * transposed into the tile (columns past the tile are dropped). */
#define DW_LOAD_TILE(VL, LOAD, ZERO, TRANSPOSE, STORE)                                                                 \
    const pp_conv_params *p = j->p;                                                                                    \
    int64_t tw = j->g.tw, hw = p->h * p->w, tr = tr0, ix = 0;                                                          \
    const float *src = xb + (oy0 * p->stride_h - p->pad_top + tr0) * p->w;                                             \
    int64_t count = (tr1 - tr0) * p->w;                                                                                \
    for (int64_t f = 0; f < count; f += VL) {                                                                          \
        int64_t n = count - f < VL ? count - f : VL;                                                                   \
        __typeof__(ZERO) r[VL];                                                                                        \
        for (int i = 0; i < VL; i++) r[i] = i < cc ? LOAD(src + i * hw + f, n) : ZERO;                                 \
        TRANSPOSE(r);                                                                                                  \
        for (int64_t q = 0; q < n; q++) {                                                                              \
            int64_t tc = ix + p->pad_left;                                                                             \
            if (tc < tw) STORE(tile + (tr * tw + tc) * VL, r[q]);                                                      \
            if (++ix == p->w) ix = 0, tr++;                                                                            \
        }                                                                                                              \
    }

/* The band's rows of outputs, pixel after pixel, into otile (VL channels
 * each): DW_NP pixels at a time, each tap one load and FMA per pixel. */
#define DW_COMPUTE(VL, VEC, ZERO, LOAD, FMA, STORE)                                                                    \
    const pp_conv_params *p = j->p;                                                                                    \
    int64_t tw = j->g.tw, npx = rows * p->ow, sh = p->stride_h * tw * VL, sw = p->stride_w * VL;                       \
    int64_t oy = 0, ox = 0, o = 0;                                                                                     \
    for (; o + DW_NP <= npx; o += DW_NP) {                                                                             \
        const float *src[DW_NP];                                                                                       \
        VEC acc[DW_NP];                                                                                                \
        _Pragma("GCC unroll 8") for (int q = 0; q < DW_NP; q++) {                                                      \
            src[q] = tile + oy * sh + ox * sw;                                                                         \
            acc[q] = ZERO;                                                                                             \
            if (++ox == p->ow) ox = 0, oy++;                                                                           \
        }                                                                                                              \
        const float *wt = wb;                                                                                          \
        for (int64_t ky = 0; ky < p->kh; ky++) {                                                                       \
            int64_t off = ky * p->dil_h * tw * VL;                                                                     \
            for (int64_t kx = 0; kx < p->kw; kx++, wt += VL, off += p->dil_w * VL) {                                   \
                VEC wv = LOAD(wt);                                                                                     \
                _Pragma("GCC unroll 8") for (int q = 0; q < DW_NP; q++) acc[q] = FMA(LOAD(src[q] + off), wv, acc[q]);  \
            }                                                                                                          \
        }                                                                                                              \
        _Pragma("GCC unroll 8") for (int q = 0; q < DW_NP; q++) STORE(otile + (o + q) * VL, acc[q]);                   \
    }                                                                                                                  \
    for (; o < npx; o++) {                                                                                             \
        const float *src = tile + oy * sh + ox * sw, *wt = wb;                                                         \
        if (++ox == p->ow) ox = 0, oy++;                                                                               \
        VEC acc = ZERO;                                                                                                \
        for (int64_t ky = 0; ky < p->kh; ky++) {                                                                       \
            int64_t off = ky * p->dil_h * tw * VL;                                                                     \
            for (int64_t kx = 0; kx < p->kw; kx++, wt += VL, off += p->dil_w * VL)                                     \
                acc = FMA(LOAD(src + off), LOAD(wt), acc);                                                             \
        }                                                                                                              \
        STORE(otile + o * VL, acc);                                                                                    \
    }

#define LOAD512(ptr, n) _mm512_maskz_loadu_ps(pp512_mask(n), ptr)
#define LOAD256(ptr, n) _mm256_maskload_ps(ptr, mask8(n))

PP_AVX512 static void dw_load_tile_avx512(const dw_job *j, const float *xb, int cc, int64_t oy0, int64_t tr0,
                                          int64_t tr1, float *tile){
    DW_LOAD_TILE(16, LOAD512, _mm512_setzero_ps(), transpose16, _mm512_store_ps)}

PP_AVX2 static void dw_load_tile_avx2(const dw_job *j, const float *xb, int cc, int64_t oy0, int64_t tr0, int64_t tr1,
                                      float *tile){
    DW_LOAD_TILE(8, LOAD256, _mm256_setzero_ps(), transpose8, _mm256_store_ps)}

PP_AVX512
    static void dw_compute_avx512(const dw_job *j, const float *tile, const float *wb, int64_t rows, float *otile){
        DW_COMPUTE(16, __m512, _mm512_setzero_ps(), _mm512_load_ps, _mm512_fmadd_ps, _mm512_store_ps)}

PP_AVX2 static void dw_compute_avx2(const dw_job *j, const float *tile, const float *wb, int64_t rows, float *otile){
    DW_COMPUTE(8, __m256, _mm256_setzero_ps(), _mm256_load_ps, _mm256_fmadd_ps, _mm256_store_ps)}

/* otile's npx pixels back to cc planes of y from output row oy0: bias,
 * residual, activation, 16 pixels of a plane per store. Lanes of otile past
 * npx are read and never stored. */
PP_AVX512
    static void dw_store_avx512(const dw_job *j, const float *otile, int64_t npx, int64_t plane0, int cc, int64_t oy0) {
    const pp_conv_params *p = j->p;
    int64_t ohw = p->oh * p->ow, at = plane0 * ohw + oy0 * p->ow, c0 = plane0 % p->c;
    for (int64_t f = 0; f < npx; f += 16) {
        __mmask16 m = pp512_mask(npx - f);
        __m512 r[16];
        for (int i = 0; i < 16; i++) r[i] = _mm512_load_ps(otile + (f + i) * 16);
        transpose16(r);
        for (int i = 0; i < cc; i++) {
            int64_t off = at + i * ohw + f;
            __m512 v = r[i];
            if (j->bias) v = _mm512_add_ps(v, _mm512_set1_ps(j->bias[c0 + i]));
            if (j->res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, j->res + off));
            _mm512_mask_storeu_ps(j->y + off, m, pp512_act(v, p->act));
        }
    }
}

/* The same, 8 pixels at a time; the epilogue element by element as the AVX2
 * GEMM's (ukr_avx2.c). */
PP_AVX2 static void dw_store_avx2(const dw_job *j, const float *otile, int64_t npx, int64_t plane0, int cc,
                                  int64_t oy0) {
    const pp_conv_params *p = j->p;
    int64_t ohw = p->oh * p->ow, at = plane0 * ohw + oy0 * p->ow, c0 = plane0 % p->c;
    for (int64_t f = 0; f < npx; f += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; i++) r[i] = _mm256_load_ps(otile + (f + i) * 8);
        transpose8(r);
        int n = npx - f < 8 ? (int)(npx - f) : 8;
        for (int i = 0; i < cc; i++) {
            float v[8], b = j->bias ? j->bias[c0 + i] : 0.f;
            int64_t off = at + i * ohw + f;
            _mm256_storeu_ps(v, r[i]);
            for (int q = 0; q < n; q++) {
                float s = j->bias ? v[q] + b : v[q];
                if (j->res) s += j->res[off + q];
                j->y[off + q] = pp_act_apply(p->act, s);
            }
        }
    }
}

static void dw_task(void *arg, int64_t t, int thread) {
    const dw_job *j = arg;
    const pp_conv_params *p = j->p;
    int64_t vl = j->g.vl, band = t % j->bands, cb = (t / j->bands) % j->blocks, n = t / (j->bands * j->blocks);
    int64_t oy0 = band * j->g.band, rows = p->oh - oy0 < j->g.band ? p->oh - oy0 : j->g.band;
    int cc = p->c - cb * vl < vl ? (int)(p->c - cb * vl) : (int)vl;
    int64_t plane0 = n * p->c + cb * vl, tr0, tr1;
    float *tile = j->ws + (size_t)thread * dw_thread_floats(&j->g), *otile = tile + j->g.in_rows * j->g.tw * vl;
    const float *xb = j->x + plane0 * p->h * p->w, *wb = j->w + cb * p->kh * p->kw * vl;
    dw_pad_tile(j, oy0, tile, &tr0, &tr1);
    if (vl == 16) {
        dw_load_tile_avx512(j, xb, cc, oy0, tr0, tr1, tile);
        dw_compute_avx512(j, tile, wb, rows, otile);
        dw_store_avx512(j, otile, rows * p->ow, plane0, cc, oy0);
    } else {
        dw_load_tile_avx2(j, xb, cc, oy0, tr0, tr1, tile);
        dw_compute_avx2(j, tile, wb, rows, otile);
        dw_store_avx2(j, otile, rows * p->ow, plane0, cc, oy0);
    }
}

void pp_fast_dw_run(const pp_conv_params *p, const pp_fast_packed *pk, pp_cpu_isa isa, const float *x,
                    const float *bias, const float *res, float *y, void *ws, pp_tpool *pool) {
    dw_job j = {p, dw_geometry(p, isa), x, pk->w, bias, res, y, NULL, 0, 0};
    j.blocks = (p->c + j.g.vl - 1) / j.g.vl;
    j.bands = (p->oh + j.g.band - 1) / j.g.band;
    j.ws = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63);
    pp_tpool_run(pool, p->n * j.blocks * j.bands, dw_task, &j);
}

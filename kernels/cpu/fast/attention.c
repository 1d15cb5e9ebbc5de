/* attention.c: fused scaled dot-product attention (AVX-512), no score matrix.
 *
 * A task is one (batch, head) and a block of ATT_QB query rows. Kᵀ of its head
 * is first laid out (D, TK) in the thread's workspace, so 16 keys' scores are
 * one vector: Σ_d q[d]·Kᵀ[d][j..j+16). Each query row walks the keys 16 at a
 * time with an online softmax (running max m and sum l; the output row is
 * rescaled by e^(m_old - m_new) when the max grows) and accumulates Σ p_j v_j
 * in (DV) floats, so memory is O(D·TK + DV) per thread whatever the sequence
 * length. Masks (bool or additive, broadcast by strides) and causality mask
 * keys as in the reference; a row with no visible key gives zeros.
 */
#include <math.h>
#include <string.h>

#include "fast_internal.h"
#include "simd512.h"

enum { ATT_QB = 64, ATT_DV_MAX = 256 }; /* query rows per task: one Kᵀ serves them all */

typedef struct att_job {
    const pp_attention_params *p;
    const float *q, *k, *v;
    const void *mask;
    float *y;
    int64_t qblocks;
    float *ws;
    size_t ws_floats;
} att_job;

PP_AVX512 static void att_row(const att_job *j, const float *kt, int64_t tkp, int64_t bi, int64_t hi, int64_t i,
                              const float *qr, float *yr) {
    const pp_attention_params *p = j->p;
    int64_t tk = p->tk, d = p->d, dv = p->dv, bh = bi * p->h + hi;
    const float *vh = j->v + bh * tk * dv;
    int64_t last = p->causal ? i + (tk - p->tq) : tk - 1;
    int64_t mbase = bi * p->mask_stride[0] + hi * p->mask_stride[1] + i * p->mask_stride[2];
    __m512 o[ATT_DV_MAX / 16];
    int64_t nv = (dv + 15) / 16;
    for (int64_t e = 0; e < nv; e++) o[e] = _mm512_setzero_ps();
    float m = -INFINITY, l = 0.f;
    __m512 scale = _mm512_set1_ps(p->scale), ninf = _mm512_set1_ps(-INFINITY);
    for (int64_t j0 = 0; j0 < tk && j0 <= last; j0 += 16) {
        __m512 s = _mm512_setzero_ps();
        for (int64_t e = 0; e < d; e++)
            s = _mm512_fmadd_ps(_mm512_set1_ps(qr[e]), _mm512_load_ps(kt + e * tkp + j0), s);
        s = _mm512_mul_ps(s, scale);
        int64_t vis = (last + 1 < tk ? last + 1 : tk) - j0; /* keys j0.. that causality and TK allow */
        __mmask16 keep = pp512_mask(vis);
        if (j->mask) {
            float mv[16];
            __mmask16 mk = 0;
            for (int t = 0; t < 16 && t < vis; t++) {
                int64_t off = mbase + (j0 + t) * p->mask_stride[3];
                if (p->mask_dtype == PP_DTYPE_BOOL) {
                    mk |= (__mmask16)((((const unsigned char *)j->mask)[off] != 0) << t);
                    mv[t] = 0.f;
                } else {
                    mv[t] = ((const float *)j->mask)[off];
                    mk |= (__mmask16)(1u << t);
                }
            }
            keep &= mk;
            s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(keep, mv));
        }
        keep = _mm512_mask_cmp_ps_mask(keep, s, ninf, _CMP_NEQ_OQ); /* an additive -inf masks too */
        s = _mm512_mask_mov_ps(ninf, keep, s);
        float cmax = _mm512_reduce_max_ps(s);
        if (cmax == -INFINITY) continue;
        float mnew = cmax > m ? cmax : m;
        float corr = expf(m - mnew); /* 0 on the first visible chunk */
        __m512 pj = pp512_exp(_mm512_sub_ps(s, _mm512_set1_ps(mnew)));
        pj = _mm512_maskz_mov_ps(keep, pj);
        l = l * corr + _mm512_reduce_add_ps(pj);
        m = mnew;
        __m512 cv = _mm512_set1_ps(corr);
        for (int64_t e = 0; e < nv; e++) o[e] = _mm512_mul_ps(o[e], cv);
        float pw[16];
        _mm512_storeu_ps(pw, pj);
        for (int t = 0; t < 16 && j0 + t < tk; t++) {
            if (pw[t] == 0.f) continue;
            const float *vr = vh + (j0 + t) * dv;
            __m512 w = _mm512_set1_ps(pw[t]);
            for (int64_t e = 0; e < nv; e++)
                o[e] = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(pp512_mask(dv - e * 16), vr + e * 16), o[e]);
        }
    }
    __m512 inv = _mm512_set1_ps(l > 0.f ? 1.f / l : 0.f);
    for (int64_t e = 0; e < nv; e++)
        _mm512_mask_storeu_ps(yr + e * 16, pp512_mask(dv - e * 16), _mm512_mul_ps(o[e], inv));
}

static void att_task(void *arg, int64_t t, int thread) {
    const att_job *j = arg;
    const pp_attention_params *p = j->p;
    int64_t bh = t / j->qblocks, qb = t % j->qblocks, bi = bh / p->h, hi = bh % p->h;
    int64_t tkp = (p->tk + 15) / 16 * 16;
    float *kt = j->ws + (size_t)thread * j->ws_floats;
    const float *kh = j->k + bh * p->tk * p->d;
    for (int64_t e = 0; e < p->d; e++) {
        for (int64_t s = 0; s < p->tk; s++) kt[e * tkp + s] = kh[s * p->d + e];
        for (int64_t s = p->tk; s < tkp; s++) kt[e * tkp + s] = 0.f;
    }
    int64_t i1 = (qb + 1) * ATT_QB < p->tq ? (qb + 1) * ATT_QB : p->tq;
    for (int64_t i = qb * ATT_QB; i < i1; i++)
        att_row(j, kt, tkp, bi, hi, i, j->q + (bh * p->tq + i) * p->d, j->y + (bh * p->tq + i) * p->dv);
}

static size_t att_ws_floats(const pp_attention_params *p) {
    return ((size_t)p->d * (size_t)((p->tk + 15) / 16 * 16) + 15) / 16 * 16;
}

int pp_fast_attention_plan(const pp_attention_params *p, pp_cpu_isa isa, int threads, size_t *ws) {
    *ws = 0;
    if (isa != PP_ISA_AVX512 || p->dv > ATT_DV_MAX || p->dv <= 0 || p->d <= 0 || p->tk <= 0) return 0;
    *ws = (size_t)threads * att_ws_floats(p) * sizeof(float) + 64;
    return 1;
}

int pp_fast_attention_run(const pp_attention_params *p, const void *const *in, float *y, void *ws, pp_tpool *pool) {
    int64_t rows = p->b * p->h * p->tq;
    if (rows <= 0) return 0;
    att_job j = {p,
                 in[0],
                 in[1],
                 in[2],
                 p->mask_dtype != PP_DTYPE_INVALID ? in[3] : NULL,
                 y,
                 (p->tq + ATT_QB - 1) / ATT_QB,
                 (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63),
                 att_ws_floats(p)};
    pp_tpool_run(pool, p->b * p->h * j.qblocks, att_task, &j);
    return 0;
}

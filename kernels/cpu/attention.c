/* attention.c: scaled dot-product attention.
 * in = q (B,H,TQ,D), k (B,H,TK,D), v (B,H,TK,DV), [mask]; y (B,H,TQ,DV).
 * y = softmax(q·kᵀ·scale + mask, masked keys = -inf) · v, where a key is masked
 * when the bool mask is false there, or (causal) when j > i + (TK - TQ), i.e. the
 * last query sees every key. A row whose keys are all masked gives zeros.
 *
 * The (B·H·TQ) query rows are processed in chunks of ATTN_CHUNK rows, each row
 * in parallel with its own (TK) row of scores in the workspace, so the
 * workspace, min(rows, ATTN_CHUNK) × TK floats, depends on the params alone and
 * not on the thread count.
 */
#include <math.h>

#include "cpu_kernels.h"

enum { ATTN_CHUNK = 256 };

static int64_t attn_chunk_rows(const pp_attention_params *p) {
    int64_t rows = p->b * p->h * p->tq;
    return rows < ATTN_CHUNK ? rows : ATTN_CHUNK;
}

size_t pp_cpu_attention_workspace(const pp_op_params *pp) {
    const pp_attention_params *p = &pp->attention;
    if (p->tk <= 0) return 0;
    return (size_t)attn_chunk_rows(p) * (size_t)p->tk * sizeof(float);
}

/* One query row: scores into s (TK), softmax, y (DV) = Σ p_j v_j. */
static void attn_row(const pp_attention_params *p, const float *q, const float *k, const float *v, const void *mask,
                     int64_t bi, int64_t hi, int64_t i, float *s, float *y) {
    int64_t tk = p->tk, d = p->d, dv = p->dv;
    int64_t kv_head = bi * p->h + hi;
    const float *qr = q + (kv_head * p->tq + i) * d;
    const float *kh = k + kv_head * tk * d, *vh = v + kv_head * tk * dv;
    int64_t mbase = bi * p->mask_stride[0] + hi * p->mask_stride[1] + i * p->mask_stride[2];
    int64_t last = p->causal ? i + (tk - p->tq) : tk - 1; /* last visible key */
    float mx = -INFINITY;
    for (int64_t j = 0; j < tk; j++) {
        float sc = -INFINITY;
        int keep = j <= last;
        if (keep && p->mask_dtype == PP_DTYPE_BOOL)
            keep = ((const unsigned char *)mask)[mbase + j * p->mask_stride[3]] != 0;
        if (keep) {
            const float *kr = kh + j * d;
            float dot = 0.f;
            for (int64_t e = 0; e < d; e++) dot += qr[e] * kr[e];
            sc = dot * p->scale;
            if (p->mask_dtype == PP_DTYPE_F32) sc += ((const float *)mask)[mbase + j * p->mask_stride[3]];
        }
        s[j] = sc;
        if (sc > mx) mx = sc;
    }
    for (int64_t e = 0; e < dv; e++) y[e] = 0.f;
    if (mx == -INFINITY) return; /* nothing visible */
    double sum = 0.0;
    for (int64_t j = 0; j < tk; j++) {
        float w = s[j] == -INFINITY ? 0.f : expf(s[j] - mx);
        s[j] = w;
        sum += w;
    }
    for (int64_t j = 0; j < tk; j++) {
        float w = s[j];
        if (w == 0.f) continue;
        const float *vr = vh + j * dv;
        for (int64_t e = 0; e < dv; e++) y[e] += w * vr[e];
    }
    float inv = (float)(1.0 / sum);
    for (int64_t e = 0; e < dv; e++) y[e] *= inv;
}

int pp_cpu_attention(const pp_op_params *pp, const void *const *in, void *const *out, void *ws) {
    const pp_attention_params *p = &pp->attention;
    const float *q = in[0], *k = in[1], *v = in[2];
    const void *mask = p->mask_dtype != PP_DTYPE_INVALID ? in[3] : NULL;
    float *y = out[0];
    pp_attention_params pm = *p;
    if (!mask) pm.mask_dtype = PP_DTYPE_INVALID;
    int64_t rows = p->b * p->h * p->tq;
    if (rows <= 0) return 0;
    if (p->tk <= 0) {
        for (int64_t r = 0; r < rows * p->dv; r++) y[r] = 0.f;
        return 0;
    }
    float *scores = ws;
    if (!scores) return 1;
    int64_t chunk = attn_chunk_rows(p);
    double work = (double)p->tk * (double)(p->d + p->dv);
    (void)work; /* read only by the OpenMP pragma */
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
        int64_t r1 = r0 + chunk < rows ? r0 + chunk : rows;
#pragma omp parallel for schedule(static) if ((double)(r1 - r0) * work >= 16384.0)
        for (int64_t r = r0; r < r1; r++) {
            int64_t i = r % p->tq, bh = r / p->tq;
            attn_row(&pm, q, k, v, mask, bh / p->h, bh % p->h, i, scores + (r - r0) * p->tk, y + r * p->dv);
        }
    }
    return 0;
}

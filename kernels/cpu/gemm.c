/* gemm.c: pp_cpu_sgemm, the one matrix product conv, gemm and matmul go through,
 * and the GEMM op.
 *
 * With PP_HAVE_OPENBLAS the product is cblas_sgemm. Otherwise it is a packed,
 * blocked loop in the Goto/BLIS shape: op(B) is packed in (KC × NC) blocks of
 * NR-wide column panels, op(A) (times alpha) in (MC × KC) blocks of MR-tall row
 * panels, and an MR × NR micro-kernel with constant trip counts (which the
 * compiler vectorises) runs over the tiles. C is cut into strips that threads
 * compute independently. Both paths give the same results up to the order of
 * the sums.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef PP_HAVE_OPENBLAS
#include <cblas.h>
#include <limits.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../act.h"
#include "cpu_kernels.h"

enum {
    GEMM_MR = 4,    /* micro-tile rows */
    GEMM_NR = 8,    /* micro-tile columns: 4×8 accumulators fit the 16 SSE registers */
    GEMM_KC = 256,  /* depth of a packed block: A and B panels 4 and 8 KiB, both stay in L1/L2 */
    GEMM_MC = 128,  /* rows of A packed at once (multiple of MR) */
    GEMM_NC = 2048, /* columns of B packed at once (multiple of NR) */
};

/* Columns (or rows) below which a strip is not worth its own packing. */
#define GEMM_MIN_STRIP 32

/* Below this many multiply-adds a product is not worth waking the thread team. */
#define GEMM_PARALLEL_MIN_WORK (64.0 * 64.0 * 64.0)

static inline float elem_a(int trans_a, const float *a, int64_t lda, int64_t i, int64_t p) {
    return trans_a ? a[p * lda + i] : a[i * lda + p];
}

/* C = beta·C, with beta = 0 writing zeros (C may hold garbage or NaN). */
static void scale_c(int64_t m, int64_t n, float beta, float *c, int64_t ldc) {
    if (beta == 1.f) return;
    for (int64_t i = 0; i < m; i++) {
        float *row = c + i * ldc;
        if (beta == 0.f) {
            memset(row, 0, (size_t)n * sizeof(float));
        } else {
            for (int64_t j = 0; j < n; j++) row[j] *= beta;
        }
    }
}

/* B block rows [pc, pc+kc), columns [jc, jc+nc) → panels of NR columns, each
 * (kc, NR) row-major, zero-padded past nc. */
static void pack_b(int trans_b, const float *b, int64_t ldb, int64_t pc, int64_t kc, int64_t jc, int64_t nc,
                   float *bp) {
    int64_t panels = (nc + GEMM_NR - 1) / GEMM_NR;
    for (int64_t jp = 0; jp < panels; jp++) {
        float *dst = bp + jp * kc * GEMM_NR;
        int64_t j0 = jc + jp * GEMM_NR;
        int64_t nr = nc - jp * GEMM_NR < GEMM_NR ? nc - jp * GEMM_NR : GEMM_NR;
        if (!trans_b) {
            for (int64_t p = 0; p < kc; p++) {
                const float *src = b + (pc + p) * ldb + j0;
                float *d = dst + p * GEMM_NR;
                int64_t j = 0;
                for (; j < nr; j++) d[j] = src[j];
                for (; j < GEMM_NR; j++) d[j] = 0.f;
            }
        } else {
            for (int64_t p = 0; p < kc; p++)
                for (int64_t j = nr; j < GEMM_NR; j++) dst[p * GEMM_NR + j] = 0.f;
            for (int64_t j = 0; j < nr; j++) {
                const float *src = b + (j0 + j) * ldb + pc;
                for (int64_t p = 0; p < kc; p++) dst[p * GEMM_NR + j] = src[p];
            }
        }
    }
}

/* alpha · A block rows [ic, ic+mc), columns [pc, pc+kc) → panels of MR rows,
 * each (kc, MR) row-major, zero-padded past mc. */
static void pack_a(int trans_a, const float *a, int64_t lda, float alpha, int64_t ic, int64_t mc, int64_t pc,
                   int64_t kc, float *ap) {
    int64_t panels = (mc + GEMM_MR - 1) / GEMM_MR;
    for (int64_t ip = 0; ip < panels; ip++) {
        float *dst = ap + ip * kc * GEMM_MR;
        int64_t i0 = ic + ip * GEMM_MR;
        int64_t mr = mc - ip * GEMM_MR < GEMM_MR ? mc - ip * GEMM_MR : GEMM_MR;
        for (int64_t p = 0; p < kc; p++) {
            int64_t r = 0;
            for (; r < mr; r++) dst[p * GEMM_MR + r] = alpha * elem_a(trans_a, a, lda, i0 + r, pc + p);
            for (; r < GEMM_MR; r++) dst[p * GEMM_MR + r] = 0.f;
        }
    }
}

/* c (mr × nr valid of an MR × NR tile, row stride ldc) += ap-panel · bp-panel. */
static void micro_kernel(int64_t kc, const float *restrict ap, const float *restrict bp, float *restrict c, int64_t ldc,
                         int64_t mr, int64_t nr) {
    float acc[GEMM_MR][GEMM_NR];
    memset(acc, 0, sizeof acc);
    for (int64_t p = 0; p < kc; p++) {
        const float *bq = bp + p * GEMM_NR;
        const float *aq = ap + p * GEMM_MR;
        for (int r = 0; r < GEMM_MR; r++) {
            float av = aq[r];
            for (int j = 0; j < GEMM_NR; j++) acc[r][j] += av * bq[j];
        }
    }
    for (int64_t r = 0; r < mr; r++)
        for (int64_t j = 0; j < nr; j++) c[r * ldc + j] += acc[r][j];
}

/* Unpacked fallback for when the packing buffers cannot be allocated: slow but
 * needs no memory. C has already been scaled by beta. */
static void sgemm_naive(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                        int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++) {
        float *crow = c + i * ldc;
        for (int64_t p = 0; p < k; p++) {
            float av = alpha * elem_a(trans_a, a, lda, i, p);
            if (!trans_b) {
                const float *brow = b + p * ldb;
                for (int64_t j = 0; j < n; j++) crow[j] += av * brow[j];
            } else {
                for (int64_t j = 0; j < n; j++) crow[j] += av * b[j * ldb + p];
            }
        }
    }
}

/* One thread's product: C = alpha·op(A)·op(B) + beta·C, blocked and packed
 * into buffers of its own. */
static void sgemm_serial(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                         int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    scale_c(m, n, beta, c, ldc);
    if (k <= 0 || alpha == 0.f) return;
    if (m <= 2) {
        /* a row or two (a Linear at batch 1): packing B would cost more than
         * streaming it once */
        if (trans_b && !trans_a) {
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++) {
                    const float *ar = a + i * lda, *br = b + j * ldb;
                    /* eight partial sums, so the compiler can vectorise without reassociating */
                    float part[8] = {0};
                    int64_t p = 0;
                    for (; p + 8 <= k; p += 8)
                        for (int q = 0; q < 8; q++) part[q] += ar[p + q] * br[p + q];
                    float dot = 0.f;
                    for (; p < k; p++) dot += ar[p] * br[p];
                    for (int q = 0; q < 8; q++) dot += part[q];
                    c[i * ldc + j] += alpha * dot;
                }
        } else {
            sgemm_naive(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, c, ldc);
        }
        return;
    }
    int64_t kc_max = k < GEMM_KC ? k : GEMM_KC;
    int64_t nc_max = n < GEMM_NC ? n : GEMM_NC;
    int64_t mc_max = m < GEMM_MC ? m : GEMM_MC;
    nc_max = (nc_max + GEMM_NR - 1) / GEMM_NR * GEMM_NR;
    mc_max = (mc_max + GEMM_MR - 1) / GEMM_MR * GEMM_MR;
    float *bp = malloc((size_t)(kc_max * nc_max) * sizeof(float));
    float *ap = malloc((size_t)(kc_max * mc_max) * sizeof(float));
    if (!bp || !ap) {
        free(bp);
        free(ap);
        sgemm_naive(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, c, ldc);
        return;
    }
    for (int64_t jc = 0; jc < n; jc += GEMM_NC) {
        int64_t nc = n - jc < GEMM_NC ? n - jc : GEMM_NC;
        int64_t npanels = (nc + GEMM_NR - 1) / GEMM_NR;
        for (int64_t pc = 0; pc < k; pc += GEMM_KC) {
            int64_t kc = k - pc < GEMM_KC ? k - pc : GEMM_KC;
            pack_b(trans_b, b, ldb, pc, kc, jc, nc, bp);
            for (int64_t ic = 0; ic < m; ic += GEMM_MC) {
                int64_t mc = m - ic < GEMM_MC ? m - ic : GEMM_MC;
                int64_t mpanels = (mc + GEMM_MR - 1) / GEMM_MR;
                pack_a(trans_a, a, lda, alpha, ic, mc, pc, kc, ap);
                for (int64_t jp = 0; jp < npanels; jp++) {
                    int64_t nr = nc - jp * GEMM_NR < GEMM_NR ? nc - jp * GEMM_NR : GEMM_NR;
                    for (int64_t ip = 0; ip < mpanels; ip++) {
                        int64_t mr = mc - ip * GEMM_MR < GEMM_MR ? mc - ip * GEMM_MR : GEMM_MR;
                        micro_kernel(kc, ap + ip * kc * GEMM_MR, bp + jp * kc * GEMM_NR,
                                     c + (ic + ip * GEMM_MR) * ldc + jc + jp * GEMM_NR, ldc, mr, nr);
                    }
                }
            }
        }
    }
    free(bp);
    free(ap);
}

/* C is cut into independent strips along its longer side, each a serial
 * product with its own packing buffers: one parallel region and no barrier
 * inside it, which matters when the cores are shared. A strip repacks the
 * operand it shares with the others, a cost of 1/width of its compute. */
static void sgemm_blocked(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                          int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    int threads = 1;
#ifdef _OPENMP
    if ((double)m * (double)n * (double)(k > 0 ? k : 1) >= GEMM_PARALLEL_MIN_WORK && !omp_in_parallel())
        threads = omp_get_max_threads();
#endif
    int split_n = n >= m;
    int64_t len = split_n ? n : m, unit = split_n ? GEMM_NR : GEMM_MR;
    /* a few strips per thread for balance, none narrower than GEMM_MIN_STRIP */
    int64_t strips = (int64_t)threads * 3;
    if (strips > len / GEMM_MIN_STRIP) strips = len / GEMM_MIN_STRIP;
    if (strips < 1 || threads == 1) strips = 1;
    int64_t width = (len + strips - 1) / strips;
    width = (width + unit - 1) / unit * unit;
    strips = (len + width - 1) / width;
#pragma omp parallel for schedule(dynamic, 1) if (strips > 1)
    for (int64_t s = 0; s < strips; s++) {
        int64_t lo = s * width, cnt = len - lo < width ? len - lo : width;
        if (split_n)
            sgemm_serial(trans_a, trans_b, m, cnt, k, alpha, a, lda, trans_b ? b + lo * ldb : b + lo, ldb, beta, c + lo,
                         ldc);
        else
            sgemm_serial(trans_a, trans_b, cnt, n, k, alpha, trans_a ? a + lo : a + lo * lda, lda, b, ldb, beta,
                         c + lo * ldc, ldc);
    }
}

void pp_cpu_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                  const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
#ifdef PP_HAVE_OPENBLAS
    /* Degenerate products go the C way: cblas would print a complaint about a
     * zero leading dimension, and a library must not print. */
    if (k > 0 && alpha != 0.f && m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX &&
        ldc <= INT_MAX) {
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)m,
                    (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
        return;
    }
#endif
    sgemm_blocked(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* Batch invariance: the rows of a GEMM over a batch are the samples, and the
 * executor promises the same bytes whatever the micro-batch size. A BLAS picks
 * its kernels, blocking and small-matrix paths by M, so a row's rounding would
 * depend on how many rows came with it. So rows go through sgemm in tiles of
 * exactly PP_CPU_ROW_TILE, the last one padded in the workspace: every row of
 * every batch meets the same call. */
size_t pp_cpu_sgemm_rows_workspace(int64_t n, int64_t k) {
    return sizeof(float) * (size_t)PP_CPU_ROW_TILE * (size_t)(k + n);
}

void pp_cpu_sgemm_rows(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                       int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc, float *ws) {
    const int64_t T = PP_CPU_ROW_TILE;
    float *at = ws, *ct = ws + T * k;
    for (int64_t lo = 0; lo < m; lo += T) {
        int64_t rows = m - lo < T ? m - lo : T;
        if (rows == T && !trans_a) {
            pp_cpu_sgemm(0, trans_b, T, n, k, alpha, a + lo * lda, lda, b, ldb, beta, c + lo * ldc, ldc);
            continue;
        }
        /* A partial tile, or a transposed A (whose tiles are columns): copy
         * op(A)'s rows into a T × k tile, zero rows below. */
        for (int64_t r = 0; r < T; r++)
            for (int64_t q = 0; q < k; q++)
                at[r * k + q] = r < rows ? (trans_a ? a[q * lda + lo + r] : a[(lo + r) * lda + q]) : 0.f;
        for (int64_t r = 0; r < T; r++)
            for (int64_t j = 0; j < n; j++) ct[r * n + j] = r < rows && beta != 0.f ? c[(lo + r) * ldc + j] : 0.f;
        pp_cpu_sgemm(0, trans_b, T, n, k, alpha, at, k, b, ldb, beta, ct, n);
        for (int64_t r = 0; r < rows; r++) memcpy(c + (lo + r) * ldc, ct + r * n, sizeof(float) * (size_t)n);
    }
}

size_t pp_cpu_gemm_workspace(const pp_op_params *pp) { return pp_cpu_sgemm_rows_workspace(pp->gemm.n, pp->gemm.k); }

/* in = A, B, [C]. describe sets beta = 0 when C is absent, so C is only read
 * when beta != 0 (the in array may then hold just two pointers). */
int pp_cpu_gemm(const pp_op_params *pp, const void *const *in, void *const *out, void *ws) {
    const pp_gemm_params *p = &pp->gemm;
    const float *a = in[0], *b = in[1];
    const float *c = p->beta != 0.f ? in[2] : NULL;
    float *y = out[0];
    int64_t m = p->m, n = p->n, k = p->k;
    if (m <= 0 || n <= 0) return 0;
    float beta = 0.f;
    int parallel = (double)m * (double)n >= 16384.0;
    (void)parallel; /* read only by the OpenMP pragmas */
    if (c) {
        /* Y = C broadcast, then Y = alpha·op(A)·op(B) + beta·Y */
#pragma omp parallel for schedule(static) if (parallel)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) y[i * n + j] = c[i * p->c_stride_m + j * p->c_stride_n];
        beta = p->beta;
    }
    pp_cpu_sgemm_rows(p->trans_a, p->trans_b, m, n, k, p->alpha, a, p->trans_a ? m : k, b, p->trans_b ? k : n, beta, y,
                      n, ws);
    if (p->act.kind != PP_ACT_NONE) {
        pp_act act = p->act;
        int64_t total = m * n;
#pragma omp parallel for schedule(static) if (parallel)
        for (int64_t i = 0; i < total; i++) y[i] = pp_act_apply(act, y[i]);
    }
    return 0;
}

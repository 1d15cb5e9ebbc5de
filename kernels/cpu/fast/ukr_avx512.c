/* ukr_avx512.c: the 12 × 32 AVX-512 micro-kernel (gemm.h): 24 accumulators,
 * two B vectors and one broadcast A value in the 32 zmm registers. */
#include "gemm.h"
#include "simd512.h"

#define ZERO2(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps()
#define FMA2(i)                                                                                                        \
    do {                                                                                                               \
        __m512 av = _mm512_set1_ps(a[i]);                                                                              \
        c##i##0 = _mm512_fmadd_ps(av, b0, c##i##0);                                                                    \
        c##i##1 = _mm512_fmadd_ps(av, b1, c##i##1);                                                                    \
    } while (0)
#define STORE2(i)                                                                                                      \
    do {                                                                                                               \
        if (i < mr) store_row(c + (i)*ldc, c##i##0, c##i##1, m0, m1, accumulate, epi, i);                              \
    } while (0)

PP_AVX512 static inline void store_row(float *cr, __m512 v0, __m512 v1, __mmask16 m0, __mmask16 m1, int accumulate,
                                       const pp_gemm_epi *epi, int i) {
    if (accumulate) {
        v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));
        v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));
    }
    if (epi) {
        if (epi->bias_row) {
            __m512 bv = _mm512_set1_ps(epi->bias_row[i]);
            v0 = _mm512_add_ps(v0, bv);
            v1 = _mm512_add_ps(v1, bv);
        }
        if (epi->bias_col) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, epi->bias_col));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, epi->bias_col + 16));
        }
        if (epi->res) {
            const float *rr = epi->res + i * epi->ldr;
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, rr));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, rr + 16));
        }
        if (epi->act.kind != PP_ACT_NONE) {
            v0 = pp512_act(v0, epi->act);
            if (m1) v1 = pp512_act(v1, epi->act);
        }
    }
    _mm512_mask_storeu_ps(cr, m0, v0);
    _mm512_mask_storeu_ps(cr + 16, m1, v1);
}

/* One row (a GEMM at batch 1) or one column (a 1×1 convolution on a 1×1 map at
 * batch 1): the full tile would spend 24 multiply-adds per step on 2 or 1 useful
 * ones. The same sums in the same order, and the same vector store, as the
 * tile: an element's bytes do not depend on which path computed it. */
PP_AVX512 static void row_or_column(int64_t kc, const float *restrict a, const float *restrict b, float *c, int64_t ldc,
                                    int mr, int nr, int accumulate, const pp_gemm_epi *epi) {
    __mmask16 m0 = pp512_mask(nr), m1 = pp512_mask(nr - 16);
    if (mr == 1) {
        __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps();
        for (int64_t p = 0; p < kc; p++) {
            __m512 av = _mm512_set1_ps(a[p * 12]);
            c0 = _mm512_fmadd_ps(av, _mm512_load_ps(b + p * 32), c0);
            c1 = _mm512_fmadd_ps(av, _mm512_load_ps(b + p * 32 + 16), c1);
        }
        store_row(c, c0, c1, m0, m1, accumulate, epi, 0);
        return;
    }
    __mmask16 rows = pp512_mask(12);
    __m512 acc = _mm512_setzero_ps(); /* lane i: row i */
    for (int64_t p = 0; p < kc; p++)
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(rows, a + p * 12), _mm512_set1_ps(b[p * 32]), acc);
    float t[16];
    _mm512_storeu_ps(t, acc);
    for (int i = 0; i < mr; i++)
        store_row(c + i * ldc, _mm512_set1_ps(t[i]), _mm512_setzero_ps(), m0, 0, accumulate, epi, i);
}

PP_AVX512 void pp_gemm_ukr_avx512(int64_t kc, const float *restrict a, const float *restrict b, float *c, int64_t ldc,
                                  int mr, int nr, int accumulate, const pp_gemm_epi *epi) {
    if (mr == 1 || nr == 1) {
        row_or_column(kc, a, b, c, ldc, mr, nr, accumulate, epi);
        return;
    }
    ZERO2(0);
    ZERO2(1);
    ZERO2(2);
    ZERO2(3);
    ZERO2(4);
    ZERO2(5);
    ZERO2(6);
    ZERO2(7);
    ZERO2(8);
    ZERO2(9);
    ZERO2(10);
    ZERO2(11);
    for (int64_t p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        FMA2(0);
        FMA2(1);
        FMA2(2);
        FMA2(3);
        FMA2(4);
        FMA2(5);
        FMA2(6);
        FMA2(7);
        FMA2(8);
        FMA2(9);
        FMA2(10);
        FMA2(11);
        a += 12;
        b += 32;
    }
    __mmask16 m0 = pp512_mask(nr), m1 = pp512_mask(nr - 16);
    STORE2(0);
    STORE2(1);
    STORE2(2);
    STORE2(3);
    STORE2(4);
    STORE2(5);
    STORE2(6);
    STORE2(7);
    STORE2(8);
    STORE2(9);
    STORE2(10);
    STORE2(11);
}

/* The same with B read in place: row p of the panel at b + p·ldb, nr valid
 * columns (a 1×1 convolution's image, channel rows H·W apart), so nothing is
 * packed; the same multiply-adds in the same order as the packed kernel. */
PP_AVX512 void pp_gemm_ukr_avx512_strided(int64_t kc, const float *restrict a, const float *restrict b, int64_t ldb,
                                          float *c, int64_t ldc, int mr, int nr, int accumulate,
                                          const pp_gemm_epi *epi) {
    __mmask16 m0 = pp512_mask(nr), m1 = pp512_mask(nr - 16);
    ZERO2(0);
    ZERO2(1);
    ZERO2(2);
    ZERO2(3);
    ZERO2(4);
    ZERO2(5);
    ZERO2(6);
    ZERO2(7);
    ZERO2(8);
    ZERO2(9);
    ZERO2(10);
    ZERO2(11);
    for (int64_t p = 0; p < kc; p++) {
        __m512 b0 = _mm512_maskz_loadu_ps(m0, b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);
        FMA2(0);
        FMA2(1);
        FMA2(2);
        FMA2(3);
        FMA2(4);
        FMA2(5);
        FMA2(6);
        FMA2(7);
        FMA2(8);
        FMA2(9);
        FMA2(10);
        FMA2(11);
        a += 12;
        b += ldb;
    }
    STORE2(0);
    STORE2(1);
    STORE2(2);
    STORE2(3);
    STORE2(4);
    STORE2(5);
    STORE2(6);
    STORE2(7);
    STORE2(8);
    STORE2(9);
    STORE2(10);
    STORE2(11);
}

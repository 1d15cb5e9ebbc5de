/* ukr_avx2.c: the 6 × 16 AVX2 micro-kernel (gemm.h) and the plain C one. Both
 * accumulate in registers (or what the compiler makes of a small array) and
 * finish through the scalar store: the epilogue costs a few per cent here, and
 * the machines that take these paths are not the ones this engine is tuned on. */
#include <immintrin.h>

#include "../../act.h"
#include "gemm.h"

void pp_gemm_store_tile(const float *tile, int64_t ts, float *c, int64_t ldc, int mr, int nr, int accumulate,
                        const pp_gemm_epi *epi) {
    for (int i = 0; i < mr; i++) {
        float *cr = c + i * ldc;
        const float *t = tile + i * ts;
        const float *rr = epi && epi->res ? epi->res + i * epi->ldr : NULL;
        for (int j = 0; j < nr; j++) {
            float v = t[j];
            if (accumulate) v += cr[j];
            if (epi) {
                if (epi->bias_row) v += epi->bias_row[i];
                if (epi->bias_col) v += epi->bias_col[j];
                if (rr) v += rr[j];
                v = pp_act_apply(epi->act, v);
            }
            cr[j] = v;
        }
    }
}

#define ZERO(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = _mm256_setzero_ps();
#define FMA(i)                                                                                                         \
    {                                                                                                                  \
        __m256 av = _mm256_broadcast_ss(a + i);                                                                        \
        c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);                                                                    \
        c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);                                                                    \
    }
#define SAVE(i) _mm256_storeu_ps(tile + i * 16, c##i##0), _mm256_storeu_ps(tile + i * 16 + 8, c##i##1);

__attribute__((target("avx2,fma"))) void pp_gemm_ukr_avx2(int64_t kc, const float *restrict a, const float *restrict b,
                                                          float *c, int64_t ldc, int mr, int nr, int accumulate,
                                                          const pp_gemm_epi *epi) {
    ZERO(0) ZERO(1) ZERO(2) ZERO(3) ZERO(4) ZERO(5) for (int64_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        FMA(0) FMA(1) FMA(2) FMA(3) FMA(4) FMA(5) a += 6;
        b += 16;
    }
    float tile[6 * 16];
    SAVE(0) SAVE(1) SAVE(2) SAVE(3) SAVE(4) SAVE(5) pp_gemm_store_tile(tile, 16, c, ldc, mr, nr, accumulate, epi);
}

void pp_gemm_ukr_generic(int64_t kc, const float *restrict a, const float *restrict b, float *c, int64_t ldc, int mr,
                         int nr, int accumulate, const pp_gemm_epi *epi) {
    float tile[4][16] = {{0}};
    for (int64_t p = 0; p < kc; p++) {
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 16; j++) tile[i][j] += a[i] * b[j];
        a += 4;
        b += 16;
    }
    pp_gemm_store_tile(&tile[0][0], 16, c, ldc, mr, nr, accumulate, epi);
}

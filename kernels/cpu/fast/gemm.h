/* gemm.h: the packed GEMM the fast convolutions and matrix products share.
 *
 * C (M × N) = A (M × K) · B (K × N), in the Goto/BLIS shape: K is cut into
 * blocks of PP_GEMM_KC; within a block, A is packed in panels of MR rows, each
 * (kc, MR) row-major, and B in panels of NR columns, each (kc, NR); an MR × NR
 * micro-kernel accumulates one tile in registers over the block. Rows and
 * columns past the matrix are zero in the panels. Each C element is summed in
 * the order k = 0..K-1 (one FMA chain per block, blocks added in order), never
 * split: results do not depend on how the tiles are shared out.
 *
 * The last block's store fuses the epilogue: + bias per row (convolutions) or
 * per column (GEMM), + residual, then the activation, the reference's order.
 */
#ifndef PP_CPU_FAST_GEMM_H
#define PP_CPU_FAST_GEMM_H

#include <stdint.h>

#include "../../params.h"
#include "isa.h"
#include "pool.h"

#define PP_GEMM_KC 256
#define PP_GEMM_MR_MAX 12
#define PP_GEMM_NR_MAX 32

typedef struct pp_gemm_epi {
    const float *bias_row; /* bias_row[i] added to row i of the tile, or NULL */
    const float *bias_col; /* bias_col[j] added to column j, or NULL */
    const float *res;      /* residual tile, row stride ldr, or NULL */
    int64_t ldr;
    pp_act act;
} pp_gemm_epi;

/* c (mr × nr valid, row stride ldc) = [c +] a-panel · b-panel over kc; epi
 * non-NULL on the last block of K. */
typedef void (*pp_gemm_ukr)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr, int nr,
                            int accumulate, const pp_gemm_epi *epi);

typedef struct pp_gemm_kernel {
    int mr, nr;
    pp_gemm_ukr ukr;
} pp_gemm_kernel;

const pp_gemm_kernel *pp_gemm_kernel_for(pp_cpu_isa isa);

/* Micro-kernels, one per instruction set (ukr_*.c). */
void pp_gemm_ukr_avx512(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr, int nr,
                        int accumulate, const pp_gemm_epi *epi);
void pp_gemm_ukr_avx2(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr, int nr, int accumulate,
                      const pp_gemm_epi *epi);
void pp_gemm_ukr_generic(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr, int nr,
                         int accumulate, const pp_gemm_epi *epi);
/* AVX-512 with B unpacked: row p at b + p·ldb (ukr_avx512.c). */
void pp_gemm_ukr_avx512_strided(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc, int mr,
                                int nr, int accumulate, const pp_gemm_epi *epi);
/* The scalar store: tile (mr × nr of a row stride ts) into c, with epi. */
void pp_gemm_store_tile(const float *tile, int64_t ts, float *c, int64_t ldc, int mr, int nr, int accumulate,
                        const pp_gemm_epi *epi);

/* Floats of a packed (rows × K) matrix in panels of `unit` rows (A: unit = MR,
 * rows = M; B: unit = NR, rows = N), and where block kb's panel q starts. */
int64_t pp_gemm_packed_size(int64_t rows, int64_t k, int unit);
static inline int64_t pp_gemm_panel_offset(int64_t rows, int64_t k, int unit, int64_t kb, int64_t q) {
    int64_t padded = (rows + unit - 1) / unit * unit;
    int64_t kc = k - kb * PP_GEMM_KC < PP_GEMM_KC ? k - kb * PP_GEMM_KC : PP_GEMM_KC;
    return kb * PP_GEMM_KC * padded + q * unit * kc;
}
/* Packs element (r, p) = src[r·rs + p·ps] for r < rows, p < k: A rows with
 * unit = MR, or B columns (r = column) with unit = NR. */
void pp_gemm_pack(const float *src, int64_t rs, int64_t ps, int64_t rows, int64_t k, int unit, float *dst);
/* The same for rows [r0, r0 + nrows) of block kb only, into dst laid out as
 * that block's panels from panel 0 (a per-run packing of a row range). */
void pp_gemm_pack_block(const float *src, int64_t rs, int64_t ps, int64_t r0, int64_t nrows, int64_t kb, int64_t k,
                        int unit, float *dst);

/* Vector activations of the epilogue (act_avx512.c): whether act has one. */
int pp_gemm_act_vectorised(pp_act_kind k);

/* GEMM with packed B: C (m × n, row stride n) = op(A) · B [+ bias_col] [+ res]
 * then act; ws of pp_fast_mm_workspace bytes. */
size_t pp_fast_mm_workspace(const pp_gemm_kernel *kr, int64_t m, int64_t n, int64_t k, int threads);
void pp_fast_mm(const pp_gemm_kernel *kr, const float *a, int trans_a, int64_t lda, const float *bp, float *c,
                int64_t m, int64_t n, int64_t k, const float *bias_col, const float *res, pp_act act, void *ws,
                pp_tpool *pool);

#endif

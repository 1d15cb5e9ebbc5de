/* gemm.c: packing and the micro-kernel table (gemm.h), and the fast GEMM and
 * MATMUL: activations A packed per run, weights B packed once at load. */
#include <stdlib.h>
#include <string.h>

#include "gemm.h"

static const pp_gemm_kernel kernels[] = {
    [PP_ISA_GENERIC] = {4, 16, pp_gemm_ukr_generic},
    [PP_ISA_AVX2] = {6, 16, pp_gemm_ukr_avx2},
    [PP_ISA_AVX512] = {12, 32, pp_gemm_ukr_avx512},
};

const pp_gemm_kernel *pp_gemm_kernel_for(pp_cpu_isa isa) { return &kernels[isa]; }

int64_t pp_gemm_packed_size(int64_t rows, int64_t k, int unit) { return (rows + unit - 1) / unit * unit * k; }

void pp_gemm_pack_block(const float *src, int64_t rs, int64_t ps, int64_t r0, int64_t nrows, int64_t kb, int64_t k,
                        int unit, float *dst) {
    int64_t p0 = kb * PP_GEMM_KC, kc = k - p0 < PP_GEMM_KC ? k - p0 : PP_GEMM_KC;
    int64_t panels = (nrows + unit - 1) / unit;
    for (int64_t q = 0; q < panels; q++) {
        float *d = dst + q * unit * kc;
        int64_t valid = nrows - q * unit < unit ? nrows - q * unit : unit;
        const float *s = src + (r0 + q * unit) * rs + p0 * ps;
        if (rs == 1) { /* the unit's elements are neighbours: read rows of them */
            for (int64_t p = 0; p < kc; p++) {
                int u = 0;
                for (; u < valid; u++) d[p * unit + u] = s[p * ps + u];
                for (; u < unit; u++) d[p * unit + u] = 0.f;
            }
        } else { /* each of the unit's elements walks its own row */
            for (int u = 0; u < unit; u++) {
                if (u < valid)
                    for (int64_t p = 0; p < kc; p++) d[p * unit + u] = s[u * rs + p * ps];
                else
                    for (int64_t p = 0; p < kc; p++) d[p * unit + u] = 0.f;
            }
        }
    }
}

void pp_gemm_pack(const float *src, int64_t rs, int64_t ps, int64_t rows, int64_t k, int unit, float *dst) {
    for (int64_t kb = 0; kb * PP_GEMM_KC < k; kb++)
        pp_gemm_pack_block(src, rs, ps, 0, rows, kb, k, unit, dst + pp_gemm_panel_offset(rows, k, unit, kb, 0));
}

/* ---- GEMM / MATMUL with packed weights ------------------------------------------ */

/* One product: C (m × n, row stride n) = op(A) (m × k) · B (packed, k × n). */
typedef struct mm_job {
    const pp_gemm_kernel *kr;
    const float *a;
    int64_t rs, ps; /* A(i, p) = a[i·rs + p·ps] */
    const float *bp;
    float *c;
    int64_t m, n, k;
    int64_t mch, nbp;          /* rows per task, B panels per task */
    int64_t n_mchunks, n_nblk; /* tasks = n_mchunks · n_nblk */
    const float *bias_col;     /* (n) or NULL */
    const float *res;          /* (m, n) or NULL */
    pp_act act;
    float *ws;
    size_t ws_floats; /* per thread */
} mm_job;

static void mm_task(void *arg, int64_t t, int thread) {
    const mm_job *j = arg;
    const pp_gemm_kernel *kr = j->kr;
    int64_t mc = t / j->n_nblk, nb = t % j->n_nblk;
    int64_t m0 = mc * j->mch, mrows = j->m - m0 < j->mch ? j->m - m0 : j->mch;
    int64_t npanels = (j->n + kr->nr - 1) / kr->nr;
    int64_t np0 = nb * j->nbp, np1 = np0 + j->nbp < npanels ? np0 + j->nbp : npanels;
    float *ap = j->ws + (size_t)thread * j->ws_floats;
    int64_t mpanels = (mrows + kr->mr - 1) / kr->mr, kblocks = (j->k + PP_GEMM_KC - 1) / PP_GEMM_KC;
    for (int64_t kb = 0; kb < kblocks; kb++) {
        int64_t kc = j->k - kb * PP_GEMM_KC < PP_GEMM_KC ? j->k - kb * PP_GEMM_KC : PP_GEMM_KC;
        int last = kb == kblocks - 1;
        pp_gemm_pack_block(j->a, j->rs, j->ps, m0, mrows, kb, j->k, kr->mr, ap);
        for (int64_t np = np0; np < np1; np++) {
            const float *bpanel = j->bp + pp_gemm_panel_offset(j->n, j->k, kr->nr, kb, np);
            int64_t c0 = np * kr->nr;
            int nr = (int)(j->n - c0 < kr->nr ? j->n - c0 : kr->nr);
            for (int64_t mp = 0; mp < mpanels; mp++) {
                int64_t r0 = m0 + mp * kr->mr;
                int mr = (int)(m0 + mrows - r0 < kr->mr ? m0 + mrows - r0 : kr->mr);
                pp_gemm_epi epi = {NULL, j->bias_col ? j->bias_col + c0 : NULL, j->res ? j->res + r0 * j->n + c0 : NULL,
                                   j->n, j->act};
                kr->ukr(kc, ap + mp * kr->mr * kc, bpanel, j->c + r0 * j->n + c0, j->n, mr, nr, kb > 0,
                        last ? &epi : NULL);
            }
        }
    }
}

/* Rows per task and B panels per task: enough tasks to keep every thread busy
 * (four per thread), A blocks that stay in L2. */
static void mm_split(const pp_gemm_kernel *kr, int64_t m, int64_t n, int threads, int64_t *mch, int64_t *nbp) {
    int64_t mp = (m + kr->mr - 1) / kr->mr, np = (n + kr->nr - 1) / kr->nr;
    /* ≤ 288 rows of A per task with AVX-512 (288 KB a block, in L2): each B panel
     * read from L3 then serves 24 micro-tiles */
    int64_t mpt = mp < 24 ? mp : 24;
    int64_t mchunks = (mp + mpt - 1) / mpt;
    int64_t want = 4 * (int64_t)threads, nblk = (want + mchunks - 1) / mchunks;
    if (nblk > np) nblk = np;
    if (nblk < 1) nblk = 1;
    *mch = mpt * kr->mr;
    *nbp = (np + nblk - 1) / nblk;
}

size_t pp_fast_mm_workspace(const pp_gemm_kernel *kr, int64_t m, int64_t n, int64_t k, int threads) {
    int64_t mch, nbp;
    mm_split(kr, m, n, threads, &mch, &nbp);
    int64_t kc = k < PP_GEMM_KC ? k : PP_GEMM_KC;
    return (size_t)threads * (size_t)((mch * kc + 15) / 16 * 16) * sizeof(float) + 64;
}

void pp_fast_mm(const pp_gemm_kernel *kr, const float *a, int trans_a, int64_t lda, const float *bp, float *c,
                int64_t m, int64_t n, int64_t k, const float *bias_col, const float *res, pp_act act, void *ws,
                pp_tpool *pool) {
    int threads = pp_tpool_threads(pool);
    mm_job j = {kr, a, trans_a ? 1 : lda, trans_a ? lda : 1, bp, c, m, n, k, 0, 0, 0, 0, bias_col, res, act, NULL, 0};
    mm_split(kr, m, n, threads, &j.mch, &j.nbp);
    int64_t kc = k < PP_GEMM_KC ? k : PP_GEMM_KC;
    j.ws_floats = (size_t)((j.mch * kc + 15) / 16 * 16); /* keeps each thread's buffer 64-byte aligned */
    j.ws = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63);
    int64_t npanels = (n + kr->nr - 1) / kr->nr;
    j.n_mchunks = (m + j.mch - 1) / j.mch;
    j.n_nblk = (npanels + j.nbp - 1) / j.nbp;
    pp_tpool_run(pool, j.n_mchunks * j.n_nblk, mm_task, &j);
}

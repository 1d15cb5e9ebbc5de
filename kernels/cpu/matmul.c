/* matmul.c: batched matrix product with NumPy broadcasting over the batch dims.
 * in = A (..., M, K), B (..., K, N); y (..., M, N), contiguous. Matrix b of the
 * output batch starts in A at sum_d idx_d · a_stride[d] (0 on a broadcast dim).
 */
#include "cpu_kernels.h"

/* Element offsets of output matrix `bi` in A and B. */
static void batch_offsets(const pp_matmul_params *p, int64_t bi, int64_t *oa, int64_t *ob) {
    int64_t a = 0, b = 0;
    for (int d = p->batch_rank - 1; d >= 0; d--) {
        int64_t ext = p->batch_dims[d];
        int64_t idx = ext > 0 ? bi % ext : 0;
        bi = ext > 0 ? bi / ext : 0;
        a += idx * p->a_stride[d];
        b += idx * p->b_stride[d];
    }
    *oa = a;
    *ob = b;
}

/* Small products: one per thread with a plain loop beats a parallel sgemm per
 * matrix (attention-sized heads, batch of tiny matrices). */
static void matmul_small(const float *a, const float *b, float *y, int64_t m, int64_t n, int64_t k) {
    for (int64_t i = 0; i < m; i++) {
        float *yr = y + i * n;
        for (int64_t j = 0; j < n; j++) yr[j] = 0.f;
        for (int64_t p = 0; p < k; p++) {
            float av = a[i * k + p];
            const float *br = b + p * n;
            for (int64_t j = 0; j < n; j++) yr[j] += av * br[j];
        }
    }
}

int pp_cpu_matmul(const pp_op_params *pp, const void *const *in, void *const *out, void *ws) {
    (void)ws;
    const pp_matmul_params *p = &pp->matmul;
    const float *a = in[0], *b = in[1];
    float *y = out[0];
    int64_t m = p->m, n = p->n, k = p->k, batch = p->batch;
    if (m <= 0 || n <= 0 || batch <= 0) return 0;
    /* (batch, M, K) · (K, N) with B shared and A dense (a Linear over a sequence)
     * is one (batch·M, K) · (K, N) product. */
    int a_dense = 1, b_shared = 1;
    int64_t expect = m * k;
    for (int d = p->batch_rank - 1; d >= 0; d--) {
        if (p->batch_dims[d] != 1) {
            if (p->a_stride[d] != expect) a_dense = 0;
            if (p->b_stride[d] != 0) b_shared = 0;
        }
        expect *= p->batch_dims[d];
    }
    if (a_dense && b_shared) {
        /* row-tiled, so a row's result does not depend on the batch size */
        pp_cpu_sgemm_rows(0, 0, batch * m, n, k, 1.f, a, k, b, n, 0.f, y, n, ws);
        return 0;
    }
    /* The path depends on the matrix size only, never on the batch, so every
     * micro-batch size gives the same bytes. */
    double work = (double)m * (double)n * (double)k;
    if (work <= 48.0 * 48.0 * 48.0) {
#pragma omp parallel for schedule(static) if ((double)batch * work >= 32768.0)
        for (int64_t bi = 0; bi < batch; bi++) {
            int64_t oa, ob;
            batch_offsets(p, bi, &oa, &ob);
            matmul_small(a + oa, b + ob, y + bi * m * n, m, n, k);
        }
        return 0;
    }
    for (int64_t bi = 0; bi < batch; bi++) {
        int64_t oa, ob;
        batch_offsets(p, bi, &oa, &ob);
        pp_cpu_sgemm(0, 0, m, n, k, 1.f, a + oa, k, b + ob, n, 0.f, y + bi * m * n, n);
    }
    return 0;
}

size_t pp_cpu_matmul_workspace(const pp_op_params *p) { return pp_cpu_sgemm_rows_workspace(p->matmul.n, p->matmul.k); }

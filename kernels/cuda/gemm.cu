/* gemm.cu: GEMM and MATMUL where cuBLASLt offers no algorithm (engine/cuda/gemm_lt.c
 * falls back here), in the params' dtype (f32, f16, bf16) with f32 accumulation:
 *   GEMM:   Y (M,N) = act(alpha · op(A) · op(B) + beta · C), C broadcast through
 *           its strides;
 *   MATMUL: Y (..., M, N) = A (..., M, K) · B (..., K, N), batch dims broadcast.
 * 16 × 16 output tiles, 256 threads, K in steps of 16 through shared memory;
 * blocks loop over (batch, tile). Correct for every shape, not fast. */
#include "common.cuh"

#define T 16

struct gemm_geo {
    pp_dtype t;
    int64_t m, n, k, batch;
    int64_t a_rs, a_cs, b_rs, b_cs; /* op(A)(i, kk) at i·a_rs + kk·a_cs; op(B)(kk, j) at kk·b_rs + j·b_cs */
    int gemm;
    float alpha, beta;
    int64_t c_sm, c_sn;
    pp_act act;
    pp_matmul_params mm; /* MATMUL: the batch walk */
};

__device__ __forceinline__ void batch_at(const gemm_geo &g, int64_t bi, int64_t *oa, int64_t *ob) {
    int64_t a = 0, b = 0;
    for (int d = g.mm.batch_rank - 1; d >= 0; d--) {
        int64_t ext = g.mm.batch_dims[d];
        int64_t idx = ext > 0 ? bi % ext : 0;
        bi = ext > 0 ? bi / ext : 0;
        a += idx * g.mm.a_stride[d];
        b += idx * g.mm.b_stride[d];
    }
    *oa = a;
    *ob = b;
}

__global__ void k_gemm(gemm_geo g, const void *__restrict__ A, const void *__restrict__ B, const void *__restrict__ C,
                       void *__restrict__ Y) {
    __shared__ float as[T][T + 1], bs[T][T + 1];
    const int tx = (int)(threadIdx.x % T), ty = (int)(threadIdx.x / T);
    const int64_t tm = (g.m + T - 1) / T, tn = (g.n + T - 1) / T, tiles = g.batch * tm * tn;
    for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
        const int64_t bi = t / (tm * tn), i0 = (t / tn) % tm * T, j0 = t % tn * T;
        int64_t oa = 0, ob = 0;
        if (!g.gemm) batch_at(g, bi, &oa, &ob);
        const int64_t i = i0 + ty, j = j0 + tx;
        float acc = 0.f;
        for (int64_t k0 = 0; k0 < g.k; k0 += T) {
            /* as[ty][tx] = op(A)(i0+ty, k0+tx), bs[ty][tx] = op(B)(k0+ty, j0+tx) */
            const int64_t ka = k0 + tx, kb = k0 + ty;
            as[ty][tx] = i < g.m && ka < g.k ? pp_load_float(g.t, A, oa + i * g.a_rs + ka * g.a_cs) : 0.f;
            bs[ty][tx] = kb < g.k && j < g.n ? pp_load_float(g.t, B, ob + kb * g.b_rs + j * g.b_cs) : 0.f;
            __syncthreads();
            for (int kk = 0; kk < T; kk++) acc += as[ty][kk] * bs[kk][tx];
            __syncthreads();
        }
        if (i < g.m && j < g.n) {
            float v = acc;
            if (g.gemm) {
                v *= g.alpha;
                if (C && g.beta != 0.f) v += g.beta * pp_load_float(g.t, C, i * g.c_sm + j * g.c_sn);
                v = pp_act_apply(g.act, v);
            }
            pp_store_float(g.t, Y, (bi * g.m + i) * g.n + j, v);
        }
    }
}

extern "C" cudaError_t pp_cuda_gemm_fallback(pp_op op, const pp_op_params *p, const void *const *in, void *const *out,
                                             const pp_cuda_exec *x) {
    gemm_geo g;
    memset(&g, 0, sizeof g);
    if (op == PP_OP_GEMM) {
        const pp_gemm_params *q = &p->gemm;
        g.t = pp_fdt(q->dtype);
        g.m = q->m, g.n = q->n, g.k = q->k, g.batch = 1, g.gemm = 1;
        /* A stored (M,K), or (K,M) transposed; B (K,N), or (N,K) */
        g.a_rs = q->trans_a ? 1 : q->k, g.a_cs = q->trans_a ? q->m : 1;
        g.b_rs = q->trans_b ? 1 : q->n, g.b_cs = q->trans_b ? q->k : 1;
        g.alpha = q->alpha, g.beta = q->beta, g.c_sm = q->c_stride_m, g.c_sn = q->c_stride_n, g.act = q->act;
    } else if (op == PP_OP_MATMUL) {
        const pp_matmul_params *q = &p->matmul;
        g.t = pp_fdt(q->dtype);
        g.m = q->m, g.n = q->n, g.k = q->k, g.batch = q->batch < 1 ? 1 : q->batch;
        g.a_rs = q->k, g.a_cs = 1, g.b_rs = q->n, g.b_cs = 1;
        g.mm = *q;
    } else {
        return cudaErrorInvalidValue;
    }
    if (g.t != PP_DTYPE_F32 && !pp_is16(g.t)) return cudaErrorInvalidValue;
    if (g.m <= 0 || g.n <= 0) return cudaSuccess;
    int64_t tiles = g.batch * ((g.m + T - 1) / T) * ((g.n + T - 1) / T);
    unsigned blocks = (unsigned)(tiles > (1 << 20) ? (1 << 20) : tiles);
    const void *c = op == PP_OP_GEMM ? in[2] : NULL;
    k_gemm<<<blocks, T * T, 0, x->stream>>>(g, in[0], in[1], c, out[0]);
    return cudaGetLastError();
}

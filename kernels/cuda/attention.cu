/* attention.cu: scaled dot-product attention, the straightforward fused form.
 * in = q (B,H,TQ,D), k (B,H,TK,D), v (B,H,TK,DV), [mask]; y (B,H,TQ,DV).
 * y = softmax(q·kᵀ·scale + mask, masked keys = -inf) · v with
 * kernels/cpu/attention.c's masking: a bool mask false, or (causal) a key j >
 * i + (TK - TQ), hides the key; a row with every key hidden gives zeros.
 *
 * One block per query row: the q row and the (TK) scores live in shared memory
 * (in the workspace, one TK row per block, when TK is too long for it); one warp
 * per key computes a dot product with lanes over D (coalesced), then a block max,
 * exp and sum, then threads over DV accumulate Σ p_j v_j. Statistics in f32.
 * A flash-style tiled kernel is the next step for long sequences. */
#include "common.cuh"

enum { ATTN_THREADS = 256, ATTN_WS_BLOCKS = 1024, ATTN_SMEM_MAX = 40 * 1024 };

static int attn_scores_in_smem(const pp_attention_params *p) {
    return (size_t)(p->d + p->tk) * sizeof(float) <= ATTN_SMEM_MAX;
}

static int64_t attn_rows(const pp_attention_params *p) { return p->b * p->h * p->tq; }

extern "C" size_t pp_cuda_attention_workspace(const pp_op_params *pp) {
    const pp_attention_params *p = &pp->attention;
    if (p->tk <= 0 || attn_scores_in_smem(p)) return 0;
    int64_t blocks = attn_rows(p) < ATTN_WS_BLOCKS ? attn_rows(p) : ATTN_WS_BLOCKS;
    return (size_t)blocks * (size_t)p->tk * sizeof(float);
}

__global__ void k_attention(pp_attention_params p, const float *__restrict__ q, const float *__restrict__ k,
                            const float *__restrict__ v, const void *__restrict__ mask, float *__restrict__ y,
                            float *ws_scores, int64_t rows) {
    extern __shared__ float smem[];
    __shared__ float red[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    const int64_t tk = p.tk, d = p.d, dv = p.dv;
    float *qs = smem;                                                       /* (D) */
    float *s = ws_scores ? ws_scores + (int64_t)blockIdx.x * tk : smem + d; /* (TK) */
    PP_FOR_ROWS(r, rows) {
        int64_t i = r % p.tq, bh = r / p.tq, bi = bh / p.h, hi = bh % p.h;
        const float *qr = q + r * d;
        const float *kh = k + bh * tk * d, *vh = v + bh * tk * dv;
        int64_t mbase = bi * p.mask_stride[0] + hi * p.mask_stride[1] + i * p.mask_stride[2];
        int64_t last = p.causal ? i + (tk - p.tq) : tk - 1;
        __syncthreads(); /* the previous row is done with qs and s */
        for (int64_t e = threadIdx.x; e < d; e += blockDim.x) qs[e] = qr[e];
        __syncthreads();
        for (int64_t j = warp; j < tk; j += nwarps) {
            int keep = j <= last;
            if (keep && p.mask_dtype == PP_DTYPE_BOOL)
                keep = ((const unsigned char *)mask)[mbase + j * p.mask_stride[3]] != 0;
            float sc = -INFINITY;
            if (keep) {
                const float *kr = kh + j * d;
                float dot = 0.f;
                for (int64_t e = lane; e < d; e += 32) dot += qs[e] * kr[e];
                dot = pp_warp_sum(dot);
                sc = dot * p.scale;
                if (p.mask_dtype == PP_DTYPE_F32) sc += ((const float *)mask)[mbase + j * p.mask_stride[3]];
            }
            if (lane == 0) s[j] = sc;
        }
        __syncthreads();
        float mx = -INFINITY;
        for (int64_t j = threadIdx.x; j < tk; j += blockDim.x) mx = fmaxf(mx, s[j]);
        mx = pp_block_max(mx, red);
        if (mx == -INFINITY) {
            for (int64_t e = threadIdx.x; e < dv; e += blockDim.x) y[r * dv + e] = 0.f;
            continue;
        }
        float sum = 0.f;
        for (int64_t j = threadIdx.x; j < tk; j += blockDim.x) {
            float w = s[j] == -INFINITY ? 0.f : expf(s[j] - mx);
            s[j] = w;
            sum += w;
        }
        sum = pp_block_sum(sum, red); /* its barriers also publish s */
        float inv = 1.f / sum;
        for (int64_t e = threadIdx.x; e < dv; e += blockDim.x) {
            float acc = 0.f;
            for (int64_t j = 0; j < tk; j++) {
                float w = s[j];
                if (w != 0.f) acc += w * vh[j * dv + e];
            }
            y[r * dv + e] = acc * inv;
        }
    }
}

extern "C" cudaError_t pp_cuda_attention(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                         const pp_cuda_exec *x) {
    const pp_attention_params *p = &pp->attention;
    int64_t rows = attn_rows(p);
    if (rows <= 0 || p->dv <= 0) return cudaSuccess;
    if (p->tk <= 0) return cudaMemsetAsync(out[0], 0, (size_t)(rows * p->dv) * sizeof(float), x->stream);
    pp_attention_params pm = *p;
    const void *mask = p->mask_dtype != PP_DTYPE_INVALID ? in[3] : NULL;
    if (!mask) pm.mask_dtype = PP_DTYPE_INVALID;
    int smem_scores = attn_scores_in_smem(p);
    if (!smem_scores && !ws) return cudaErrorInvalidValue;
    size_t smem = (size_t)(p->d + (smem_scores ? p->tk : 0)) * sizeof(float);
    if (smem > 48 * 1024) return cudaErrorInvalidValue; /* D beyond 12k: not a real head size */
    unsigned blocks = smem_scores ? pp_row_blocks(rows) : (unsigned)(rows < ATTN_WS_BLOCKS ? rows : ATTN_WS_BLOCKS);
    k_attention<<<blocks, ATTN_THREADS, smem, x->stream>>>(pm, (const float *)in[0], (const float *)in[1],
                                                           (const float *)in[2], mask, (float *)out[0],
                                                           smem_scores ? NULL : (float *)ws, rows);
    return cudaGetLastError();
}

/* One query row's scores live in shared memory (40 KiB of it); masks are additive
 * f32 or bool. */
extern "C" int pp_cuda_attention_supports(const pp_op_params *p) {
    const pp_attention_params *a = &p->attention;
    return (size_t)a->d * sizeof(float) <= 40 * 1024 &&
           (a->mask_dtype == PP_DTYPE_INVALID || a->mask_dtype == PP_DTYPE_F32 || a->mask_dtype == PP_DTYPE_BOOL);
}

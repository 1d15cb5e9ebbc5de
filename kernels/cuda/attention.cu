/* attention.cu: scaled dot-product attention, fused.
 * in = q (B,H,TQ,D), k (B,H,TK,D), v (B,H,TK,DV), [mask]; y (B,H,TQ,DV).
 * y = softmax(q·kᵀ·scale + mask, masked keys = -inf) · v with
 * kernels/cpu/attention.c's masking: a bool mask false, or (causal) a key j >
 * i + (TK - TQ), hides the key; a row with every key hidden gives zeros.
 * q, k, v and y are f32 or 16-bit (the params' dtype); scores, the softmax's
 * statistics and the sums are f32.
 *
 * The tiled kernel (D, DV ≤ 128): a block of 8 warps takes 8 query rows
 * of one (batch, head) and walks the keys in tiles of 32, each tile of K and V
 * loaded once into shared memory for all 8 rows; a warp scores its row against
 * the tile (lane j: key j), keeps the running max and sum of the online softmax
 * (FlashAttention's rescaling), and accumulates its output row in registers
 * (lanes over DV). No score matrix is ever held: 32 scores per row at a time,
 * whatever TK is. Scalar f32 FMAs, not tensor cores.
 *
 * Beyond those head sizes, the row kernel: one block per query row, its TK
 * scores in shared memory or the workspace. */
#include "common.cuh"

enum { FA_ROWS = 8, FA_KT = 32, FA_D = 128, FA_DV = 128 };

__global__ void k_flash(pp_attention_params p, pp_dtype t, const void *__restrict__ q, const void *__restrict__ k,
                        const void *__restrict__ v, const void *__restrict__ mask, void *__restrict__ y,
                        int64_t row_tiles) {
    extern __shared__ float smem[];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int64_t d = p.d, dv = p.dv, tk = p.tk;
    float *ks = smem;             /* (FA_KT, D) */
    float *vs = ks + FA_KT * d;   /* (FA_KT, DV) */
    float *qs = vs + FA_KT * dv;  /* (FA_ROWS, D) */
    float *ps = qs + FA_ROWS * d; /* (FA_ROWS, FA_KT): each warp's probabilities for the tile */
    const int nr = (int)((dv + 31) / 32);
    const int64_t tiles_per_bh = (p.tq + FA_ROWS - 1) / FA_ROWS;
    for (int64_t tile = blockIdx.x; tile < row_tiles; tile += gridDim.x) {
        const int64_t bh = tile / tiles_per_bh, i = tile % tiles_per_bh * FA_ROWS + warp;
        const int64_t bi = bh / p.h, hi = bh % p.h;
        const int live = i < p.tq;
        const int64_t qrow = bh * p.tq + i;
        __syncthreads(); /* the previous tile's readers are done with qs */
        for (int64_t e = lane; e < d; e += 32) qs[warp * d + e] = live ? pp_load_float(t, q, qrow * d + e) : 0.f;
        const int64_t last = p.causal ? i + (tk - p.tq) : tk - 1;
        const int64_t mbase = bi * p.mask_stride[0] + hi * p.mask_stride[1] + i * p.mask_stride[2];
        float m = -INFINITY, l = 0.f, acc[FA_DV / 32];
#pragma unroll
        for (int r = 0; r < FA_DV / 32; r++) acc[r] = 0.f;
        for (int64_t j0 = 0; j0 < tk; j0 += FA_KT) {
            __syncthreads(); /* every warp is done with the previous K/V tile */
            for (int64_t e = threadIdx.x; e < FA_KT * d; e += blockDim.x) {
                int64_t j = j0 + e / d;
                ks[e] = j < tk ? pp_load_float(t, k, (bh * tk + j) * d + e % d) : 0.f;
            }
            for (int64_t e = threadIdx.x; e < FA_KT * dv; e += blockDim.x) {
                int64_t j = j0 + e / dv;
                vs[e] = j < tk ? pp_load_float(t, v, (bh * tk + j) * dv + e % dv) : 0.f;
            }
            __syncthreads();
            /* lane j scores key j0 + j */
            const int64_t j = j0 + lane;
            int keep = live && j < tk && j <= last;
            if (keep && p.mask_dtype == PP_DTYPE_BOOL)
                keep = ((const unsigned char *)mask)[mbase + j * p.mask_stride[3]] != 0;
            float sc = -INFINITY;
            if (keep) {
                float dot = 0.f;
                for (int64_t e = 0; e < d; e++) dot += qs[warp * d + e] * ks[lane * d + e];
                sc = dot * p.scale;
                if (p.mask_dtype == PP_DTYPE_F32) sc += ((const float *)mask)[mbase + j * p.mask_stride[3]];
            }
            const float tile_max = pp_warp_max(sc);
            const float m_new = m > tile_max ? m : tile_max;
            if (m_new == -INFINITY) continue; /* nothing kept so far */
            const float pj = sc == -INFINITY ? 0.f : expf(sc - m_new);
            const float alpha = m == -INFINITY ? 0.f : expf(m - m_new);
            l = l * alpha + pp_warp_sum(pj);
            m = m_new;
            ps[warp * FA_KT + lane] = pj;
            __syncwarp();
#pragma unroll
            for (int r = 0; r < FA_DV / 32; r++) {
                if (r >= nr) break;
                const int64_t e = lane + 32 * r;
                float o = acc[r] * alpha;
                if (e < dv)
                    for (int jj = 0; jj < FA_KT; jj++) o += ps[warp * FA_KT + jj] * vs[jj * dv + e];
                acc[r] = o;
            }
            __syncwarp(); /* ps is rewritten by the next tile */
        }
        if (!live) continue;
        const float inv = l > 0.f ? 1.f / l : 0.f; /* every key hidden: zeros */
#pragma unroll
        for (int r = 0; r < FA_DV / 32; r++) {
            const int64_t e = lane + 32 * r;
            if (r < nr && e < dv) pp_store_float(t, y, qrow * dv + e, acc[r] * inv);
        }
    }
}

static int flash_ok(const pp_attention_params *p) { return p->d <= FA_D && p->dv <= FA_DV; }

enum { ATTN_THREADS = 256, ATTN_WS_BLOCKS = 1024, ATTN_SMEM_MAX = 40 * 1024 };

static int attn_scores_in_smem(const pp_attention_params *p) {
    return (size_t)(p->d + p->tk) * sizeof(float) <= ATTN_SMEM_MAX;
}

static int64_t attn_rows(const pp_attention_params *p) { return p->b * p->h * p->tq; }

extern "C" size_t pp_cuda_attention_workspace(const pp_op_params *pp) {
    const pp_attention_params *p = &pp->attention;
    if (p->tk <= 0 || flash_ok(p) || attn_scores_in_smem(p)) return 0;
    int64_t blocks = attn_rows(p) < ATTN_WS_BLOCKS ? attn_rows(p) : ATTN_WS_BLOCKS;
    return (size_t)blocks * (size_t)p->tk * sizeof(float);
}

__global__ void k_attention(pp_attention_params p, pp_dtype t, const void *__restrict__ q, const void *__restrict__ k,
                            const void *__restrict__ v, const void *__restrict__ mask, void *__restrict__ y,
                            float *ws_scores, int64_t rows) {
    extern __shared__ float smem[];
    __shared__ float red[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    const int64_t tk = p.tk, d = p.d, dv = p.dv;
    float *qs = smem;                                                       /* (D) */
    float *s = ws_scores ? ws_scores + (int64_t)blockIdx.x * tk : smem + d; /* (TK) */
    PP_FOR_ROWS(r, rows) {
        int64_t i = r % p.tq, bh = r / p.tq, bi = bh / p.h, hi = bh % p.h;
        const int64_t qr = r * d, kh = bh * tk * d, vh = bh * tk * dv;
        int64_t mbase = bi * p.mask_stride[0] + hi * p.mask_stride[1] + i * p.mask_stride[2];
        int64_t last = p.causal ? i + (tk - p.tq) : tk - 1;
        __syncthreads(); /* the previous row is done with qs and s */
        for (int64_t e = threadIdx.x; e < d; e += blockDim.x) qs[e] = pp_load_float(t, q, qr + e);
        __syncthreads();
        for (int64_t j = warp; j < tk; j += nwarps) {
            int keep = j <= last;
            if (keep && p.mask_dtype == PP_DTYPE_BOOL)
                keep = ((const unsigned char *)mask)[mbase + j * p.mask_stride[3]] != 0;
            float sc = -INFINITY;
            if (keep) {
                float dot = 0.f;
                for (int64_t e = lane; e < d; e += 32) dot += qs[e] * pp_load_float(t, k, kh + j * d + e);
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
            for (int64_t e = threadIdx.x; e < dv; e += blockDim.x) pp_store_float(t, y, r * dv + e, 0.f);
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
                if (w != 0.f) acc += w * pp_load_float(t, v, vh + j * dv + e);
            }
            pp_store_float(t, y, r * dv + e, acc * inv);
        }
    }
}

extern "C" cudaError_t pp_cuda_attention(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                         const pp_cuda_exec *x) {
    const pp_attention_params *p = &pp->attention;
    const pp_dtype t = pp_fdt(p->dtype);
    int64_t rows = attn_rows(p);
    if (rows <= 0 || p->dv <= 0) return cudaSuccess;
    if (p->tk <= 0) return cudaMemsetAsync(out[0], 0, (size_t)(rows * p->dv) * pp_dtype_bytes(t), x->stream);
    pp_attention_params pm = *p;
    const void *mask = p->mask_dtype != PP_DTYPE_INVALID ? in[3] : NULL;
    if (!mask) pm.mask_dtype = PP_DTYPE_INVALID;
    if (flash_ok(p)) {
        int64_t tiles = p->b * p->h * ((p->tq + FA_ROWS - 1) / FA_ROWS);
        size_t smem = (size_t)(FA_KT * (p->d + p->dv) + FA_ROWS * (p->d + FA_KT)) * sizeof(float);
        unsigned blocks = (unsigned)(tiles > (1 << 20) ? (1 << 20) : tiles);
        k_flash<<<blocks, FA_ROWS * 32, smem, x->stream>>>(pm, t, in[0], in[1], in[2], mask, out[0], tiles);
        return cudaGetLastError();
    }
    int smem_scores = attn_scores_in_smem(p);
    if (!smem_scores && !ws) return cudaErrorInvalidValue;
    size_t smem = (size_t)(p->d + (smem_scores ? p->tk : 0)) * sizeof(float);
    if (smem > 48 * 1024) return cudaErrorInvalidValue; /* D beyond 12k: not a real head size */
    unsigned blocks = smem_scores ? pp_row_blocks(rows) : (unsigned)(rows < ATTN_WS_BLOCKS ? rows : ATTN_WS_BLOCKS);
    k_attention<<<blocks, ATTN_THREADS, smem, x->stream>>>(pm, t, in[0], in[1], in[2], mask, out[0],
                                                           smem_scores ? NULL : (float *)ws, rows);
    return cudaGetLastError();
}

/* Masks are additive f32 or bool; q, k, v, y f32 or 16-bit. */
extern "C" int pp_cuda_attention_supports(const pp_op_params *p) {
    const pp_attention_params *a = &p->attention;
    pp_dtype t = pp_fdt(a->dtype);
    return (t == PP_DTYPE_F32 || pp_is16(t)) && (size_t)a->d * sizeof(float) <= 40 * 1024 &&
           (a->mask_dtype == PP_DTYPE_INVALID || a->mask_dtype == PP_DTYPE_F32 || a->mask_dtype == PP_DTYPE_BOOL);
}

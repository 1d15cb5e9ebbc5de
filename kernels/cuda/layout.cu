/* layout.cu: format changes of (N, C, HW) tensors between dtypes (f32, f16,
 * bf16) and layouts (NCHW, NHWC), and the convolution epilogue, which is the
 * same walk with y = act(x + bias[c] + residual) on the way.
 *
 * Uses: the planner's REFORMAT (kernels/cuda/reformat, at graph inputs and
 * outputs and wherever producer and consumer disagree), a convolution whose
 * epilogue cuDNN could not fuse (in place, one format), and the fallbacks that
 * compute a convolution in another format than its tensors' (a 16-bit one cuDNN
 * has no algorithm for runs in f32; before the planner, 16-bit convolutions
 * converted their f32 NCHW operands).
 *
 * Same layout: one thread per 8 elements where the addresses allow 16-byte
 * accesses (the common NHWC 16-bit case), else one per element. Different
 * layouts: each image is a (C, HW) or (HW, C) matrix transposed through a
 * 32 × 32 shared-memory tile, so reads and writes both run along rows; blocks
 * are one-dimensional (256 threads: 32 columns × 8 rows) and loop over tiles.
 */
#include "common.cuh"

#define TILE 32
#define TROWS 8 /* PP_THREADS / TILE */

struct epi_args {
    void *y;
    pp_dtype yt;
    const void *x;
    pp_dtype xt;
    const void *bias;
    pp_dtype bt;
    const void *res; /* in y's format */
    int64_t n, k, hw;
    pp_act act;
};

__device__ __forceinline__ float epi_value(const epi_args &a, float v, int64_t ch, int64_t yi) {
    if (a.bias) v += pp_load_float(a.bt, a.bias, ch);
    if (a.res) v += pp_load_float(a.yt, a.res, yi);
    return pp_act_apply(a.act, v);
}

/* One layout: element i is channel (i / hw) % k (NCHW) or i % k (NHWC). */
__global__ void k_epi_flat(epi_args a, int nhwc, int64_t total) {
    PP_FOR(i, total) {
        int64_t ch = nhwc ? i % a.k : (i / a.hw) % a.k;
        pp_store_float(a.yt, a.y, i, epi_value(a, pp_load_float(a.xt, a.x, i), ch, i));
    }
}

/* The same 8 elements at a time: in NHWC with k % 8 == 0 they are channels
 * c..c+7, in NCHW with hw % 8 == 0 one channel. */
__global__ void k_epi_flat8(epi_args a, int nhwc, int64_t total8) {
    PP_FOR(j, total8) {
        const int64_t i = j * 8;
        float v[8], r[8];
        pp_load8(a.xt, a.x, i, v);
        if (a.res) pp_load8(a.yt, a.res, i, r);
        const int64_t ch0 = nhwc ? i % a.k : (i / a.hw) % a.k;
#pragma unroll
        for (int e = 0; e < 8; e++) {
            float t = v[e];
            if (a.bias) t += pp_load_float(a.bt, a.bias, nhwc ? ch0 + e : ch0);
            if (a.res) t += r[e];
            v[e] = pp_act_apply(a.act, t);
        }
        pp_store8(a.yt, a.y, i, v);
    }
}

/* x NCHW → y NHWC: each image's (C, HW) read along HW, written along C. */
__global__ void k_epi_to_nhwc(epi_args a) {
    __shared__ float tile[TILE][TILE + 1];
    const int64_t tc = (a.k + TILE - 1) / TILE, tp = (a.hw + TILE - 1) / TILE, tiles = a.n * tc * tp;
    const int tx = (int)(threadIdx.x % TILE), ty = (int)(threadIdx.x / TILE);
    for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
        const int64_t img = t / (tc * tp), c0 = (t / tp) % tc * TILE, p0 = t % tp * TILE;
        for (int j = ty; j < TILE; j += TROWS) {
            const int64_t ci = c0 + j, pi = p0 + tx;
            tile[j][tx] = ci < a.k && pi < a.hw ? pp_load_float(a.xt, a.x, (img * a.k + ci) * a.hw + pi) : 0.f;
        }
        __syncthreads();
        for (int j = ty; j < TILE; j += TROWS) {
            const int64_t pi = p0 + j, ci = c0 + tx;
            if (pi < a.hw && ci < a.k) {
                const int64_t o = (img * a.hw + pi) * a.k + ci;
                pp_store_float(a.yt, a.y, o, epi_value(a, tile[tx][j], ci, o));
            }
        }
        __syncthreads();
    }
}

/* x NHWC → y NCHW: each image's (HW, C) read along C, written along HW. */
__global__ void k_epi_to_nchw(epi_args a) {
    __shared__ float tile[TILE][TILE + 1];
    const int64_t tc = (a.k + TILE - 1) / TILE, tp = (a.hw + TILE - 1) / TILE, tiles = a.n * tc * tp;
    const int tx = (int)(threadIdx.x % TILE), ty = (int)(threadIdx.x / TILE);
    for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
        const int64_t img = t / (tc * tp), c0 = (t / tp) % tc * TILE, p0 = t % tp * TILE;
        for (int j = ty; j < TILE; j += TROWS) {
            const int64_t pi = p0 + j, ci = c0 + tx;
            tile[j][tx] = pi < a.hw && ci < a.k ? pp_load_float(a.xt, a.x, (img * a.hw + pi) * a.k + ci) : 0.f;
        }
        __syncthreads();
        for (int j = ty; j < TILE; j += TROWS) {
            const int64_t ci = c0 + j, pi = p0 + tx;
            if (ci < a.k && pi < a.hw) {
                const int64_t o = (img * a.k + ci) * a.hw + pi;
                pp_store_float(a.yt, a.y, o, epi_value(a, tile[tx][j], ci, o));
            }
        }
        __syncthreads();
    }
}

static unsigned tile_blocks(int64_t n, int64_t rows, int64_t cols) {
    int64_t t = n * ((rows + TILE - 1) / TILE) * ((cols + TILE - 1) / TILE);
    return (unsigned)(t < 1 ? 1 : (t > (1 << 20) ? (1 << 20) : t));
}

static int float_type(pp_dtype t) { return t == PP_DTYPE_F32 || pp_is16(t); }

extern "C" cudaError_t pp_cuda_epilogue(void *y, pp_dtype yt, pp_layout yl, const void *x, pp_dtype xt, pp_layout xl,
                                        const void *bias, pp_dtype bt, const void *res, int64_t n, int64_t k,
                                        int64_t hw, pp_act act, cudaStream_t s) {
    yt = pp_fdt(yt), xt = pp_fdt(xt), bt = pp_fdt(bt);
    if (!float_type(yt) || !float_type(xt) || !float_type(bt) || n < 0 || k < 0 || hw < 0 ||
        (yl != PP_LAYOUT_PLAIN && yl != PP_LAYOUT_NHWC) || (xl != PP_LAYOUT_PLAIN && xl != PP_LAYOUT_NHWC))
        return cudaErrorInvalidValue;
    const int64_t total = n * k * hw;
    if (total == 0) return cudaSuccess;
    epi_args a = {y, yt, x, xt, bias, bt, res, n, k, hw, act};
    if (xl != yl) {
        if (yl == PP_LAYOUT_NHWC) k_epi_to_nhwc<<<tile_blocks(n, k, hw), PP_THREADS, 0, s>>>(a);
        else k_epi_to_nchw<<<tile_blocks(n, k, hw), PP_THREADS, 0, s>>>(a);
        return cudaGetLastError();
    }
    if (x == y && xt == yt && !bias && !res && act.kind == PP_ACT_NONE) return cudaSuccess;
    const int nhwc = yl == PP_LAYOUT_NHWC;
    const int vec = total % 8 == 0 && (nhwc ? k % 8 == 0 : hw % 8 == 0) && pp_al16(y) && pp_al16(x) && pp_al16(res);
    if (vec) k_epi_flat8<<<pp_blocks(total / 8), PP_THREADS, 0, s>>>(a, nhwc, total / 8);
    else k_epi_flat<<<pp_blocks(total), PP_THREADS, 0, s>>>(a, nhwc, total);
    return cudaGetLastError();
}

extern "C" cudaError_t pp_cuda_convert_layout(void *dst, pp_dtype dt, pp_layout dl, const void *src, pp_dtype st,
                                              pp_layout sl, int64_t n, int64_t c, int64_t hw, cudaStream_t s) {
    pp_act none = {PP_ACT_NONE, 0.f, 0.f};
    return pp_cuda_epilogue(dst, dt, dl, src, st, sl, NULL, PP_DTYPE_F32, NULL, n, c, hw, none, s);
}

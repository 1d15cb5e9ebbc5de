/* layout.cu: NCHW f32 ↔ NHWC 16-bit, for convolutions in the fp16/bf16 modes.
 *
 * cuDNN runs 16-bit convolutions on tensor cores in NHWC; our tensors are NCHW
 * f32 between nodes. The way in converts and transposes in one pass (each image
 * is a C × HW matrix turned HW × C); the way out transposes back and applies the
 * convolution's epilogue (bias, residual, activation) in the same pass, so a
 * 16-bit convolution costs one extra read and write of its input and output.
 * Both transpose through a 32 × 32 tile in shared memory, so reads and writes
 * are both along rows; blocks are one-dimensional (256 threads: 32 columns × 8
 * rows, each thread taking 4 rows) and loop over the tiles.
 */
#include "common.cuh"

#define TILE 32
#define TROWS 8 /* PP_THREADS / TILE */

/* dst (N, HW, C) 16-bit = src (N, C, HW) f32 */
__global__ void k_to_nhwc(void *__restrict__ dst, pp_dtype dt, const float *__restrict__ src, int64_t n, int64_t c,
                          int64_t hw) {
    __shared__ float tile[TILE][TILE + 1];
    const int64_t tc = (c + TILE - 1) / TILE, tp = (hw + TILE - 1) / TILE, tiles = n * tc * tp;
    const int tx = (int)(threadIdx.x % TILE), ty = (int)(threadIdx.x / TILE);
    for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
        const int64_t img = t / (tc * tp), c0 = (t / tp) % tc * TILE, p0 = t % tp * TILE;
        for (int j = ty; j < TILE; j += TROWS) {
            const int64_t ci = c0 + j, pi = p0 + tx;
            tile[j][tx] = ci < c && pi < hw ? src[(img * c + ci) * hw + pi] : 0.f;
        }
        __syncthreads();
        for (int j = ty; j < TILE; j += TROWS) {
            const int64_t pi = p0 + j, ci = c0 + tx;
            if (pi < hw && ci < c) pp_store_float(dt, dst, (img * hw + pi) * c + ci, tile[tx][j]);
        }
        __syncthreads();
    }
}

/* y (N, K, HW) f32 = act(y16 (N, HW, K) + bias[k] + residual (N, K, HW)) */
__global__ void k_from_nhwc_epilogue(float *__restrict__ y, const void *__restrict__ y16, pp_dtype dt,
                                     const float *__restrict__ bias, const float *__restrict__ res, int64_t n,
                                     int64_t k, int64_t hw, pp_act act) {
    __shared__ float tile[TILE][TILE + 1];
    const int64_t tk = (k + TILE - 1) / TILE, tp = (hw + TILE - 1) / TILE, tiles = n * tk * tp;
    const int tx = (int)(threadIdx.x % TILE), ty = (int)(threadIdx.x / TILE);
    for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
        const int64_t img = t / (tk * tp), k0 = (t / tp) % tk * TILE, p0 = t % tp * TILE;
        for (int j = ty; j < TILE; j += TROWS) {
            const int64_t pi = p0 + j, ki = k0 + tx;
            tile[j][tx] = pi < hw && ki < k ? pp_load_float(dt, y16, (img * hw + pi) * k + ki) : 0.f;
        }
        __syncthreads();
        for (int j = ty; j < TILE; j += TROWS) {
            const int64_t ki = k0 + j, pi = p0 + tx;
            if (ki < k && pi < hw) {
                const int64_t o = (img * k + ki) * hw + pi;
                float v = tile[tx][j];
                if (bias) v += bias[ki];
                if (res) v += res[o];
                y[o] = pp_act_apply(act, v);
            }
        }
        __syncthreads();
    }
}

static unsigned tile_blocks(int64_t n, int64_t rows, int64_t cols) {
    int64_t t = n * ((rows + TILE - 1) / TILE) * ((cols + TILE - 1) / TILE);
    return (unsigned)(t < 1 ? 1 : (t > (1 << 20) ? (1 << 20) : t));
}

static int narrow(pp_dtype t) { return t == PP_DTYPE_F16 || t == PP_DTYPE_BF16; }

extern "C" cudaError_t pp_cuda_to_nhwc(void *dst, pp_dtype dt, const float *src, int64_t n, int64_t c, int64_t hw,
                                       cudaStream_t s) {
    if (!narrow(dt) || n < 0 || c < 0 || hw < 0) return cudaErrorInvalidValue;
    if (n == 0 || c == 0 || hw == 0) return cudaSuccess;
    k_to_nhwc<<<tile_blocks(n, c, hw), PP_THREADS, 0, s>>>(dst, dt, src, n, c, hw);
    return cudaGetLastError();
}

extern "C" cudaError_t pp_cuda_from_nhwc_bias_act(float *y, const void *y16, pp_dtype dt, const float *bias,
                                                  const float *residual, int64_t n, int64_t k, int64_t hw, pp_act act,
                                                  cudaStream_t s) {
    if (!narrow(dt) || n < 0 || k < 0 || hw < 0) return cudaErrorInvalidValue;
    if (n == 0 || k == 0 || hw == 0) return cudaSuccess;
    k_from_nhwc_epilogue<<<tile_blocks(n, k, hw), PP_THREADS, 0, s>>>(y, y16, dt, bias, residual, n, k, hw, act);
    return cudaGetLastError();
}

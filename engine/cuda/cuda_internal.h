/* cuda_internal.h: the face the CUDA backend's host files share (engine/cuda/).
 *
 * backend_cuda.c implements the pp_backend_ops table; gemm_lt.c runs GEMM and
 * MATMUL through cuBLASLt and conv_cudnn.c runs CONV through cuDNN; the custom
 * kernels are in kernels/cuda (kernels/cuda/cuda_kernels.h). Everything here is
 * host C11 calling the CUDA runtime, cuBLASLt and cuDNN C APIs.
 */
#ifndef PP_CUDA_INTERNAL_H
#define PP_CUDA_INTERNAL_H

#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "../../kernels/cuda/cuda_kernels.h"
#include "../backend.h"

/* The workspace every GEMM/MATMUL and every cuDNN CONV reports, whatever its
 * algorithm needs (algorithms needing more are skipped): constant, so a prepare at
 * another micro-batch size never outgrows the stage's arena, which holds one
 * workspace (the largest) shared by the stage's nodes. cuBLASLt recommends
 * 32 MiB on Hopper. */
#define PP_CUDA_GEMM_WS_MAX ((size_t)32 << 20)
#define PP_CUDA_CONV_WS_MAX ((size_t)64 << 20)

typedef struct pp_cuda_ctx {
    int dev;
    int n_devices;
    unsigned char *peer_ok;        /* [n_devices]: enable_peer succeeded towards that device */
    cublasLtHandle_t lt;           /* shared: cublasLtMatmul takes the stream per call */
    cudnnHandle_t dnn;             /* for plan-time queries; each stream has its own for launches */
    pp_precision precision;        /* set_precision; FP32 until then */
    struct pp_half_weight *halves; /* weights converted for FP16/BF16 (half_weights.c) */
    int nvtx;                      /* a range per launch (PP_NVTX=1 or pp_cuda_set_profiling) */
} pp_cuda_ctx;

struct pp_stream {
    cudaStream_t s;
    cudnnHandle_t dnn; /* a cuDNN handle holds one stream: one per pp_stream */
    int *err_host;     /* mapped pinned int: kernels raise it on invalid data */
    int *err_dev;      /* its device address */
    int dev;
    cudaEvent_t prof[2]; /* timing events around a launch while profiling (bench --profile) */
};

struct pp_event {
    cudaEvent_t e;
    int dev;
};

/* What prepare makes for one launch (l->state). */
typedef enum pp_cuda_state_kind {
    PP_CUDA_STATE_KERNEL = 0, /* a custom kernel from kernels/cuda */
    PP_CUDA_STATE_GEMM = 1,   /* GEMM or MATMUL through cuBLASLt */
    PP_CUDA_STATE_CONV = 2,   /* CONV through cuDNN, or the direct kernel */
} pp_cuda_state_kind;

typedef struct pp_lt_plan pp_lt_plan;
typedef struct pp_conv_plan pp_conv_plan;

typedef struct pp_cuda_state {
    pp_cuda_state_kind kind;
    pp_cuda_kernel_fn fn;
    pp_lt_plan *lt;
    pp_conv_plan *conv;
    char label[160]; /* "<source name> (<op>)" for NVTX */
} pp_cuda_state;

/* FP16/BF16 precision: the 16-bit type GEMM/MATMUL/CONV read (PP_DTYPE_F16 or
 * PP_DTYPE_BF16), PP_DTYPE_INVALID in the f32 modes. */
pp_dtype pp_cuda_half_dtype(const pp_cuda_ctx *c);
/* The weight at device address src (n f32 values) converted to `dt` once per
 * backend: made on first use (at prepare, waiting for the conversion) and
 * shared by every launch that reads that weight; each call holds a reference
 * that pp_cuda_half_weight_put gives back. With c > 0 the weight is (n / (c·hw),
 * c, hw) and is stored transposed to (n / (c·hw), hw, c): a convolution's KCRS
 * filter as the KRSC that NHWC convolutions read. */
pp_code pp_cuda_half_weight_get(pp_backend *b, const void *src, int64_t n, pp_dtype dt, int64_t c, int64_t hw,
                                void **half, pp_error *err);
void pp_cuda_half_weight_put(pp_backend *b, void *half);
/* Frees whatever is left (backend destroy). */
void pp_cuda_half_weights_free(pp_backend *b);

/* "cuda:0: what: cudaErrorX (text)" into err; returns code. */
pp_code pp_cuda_fail(pp_error *err, pp_code code, const pp_backend *b, cudaError_t e, const char *what);

/* "cuda:0: node 'name' (OP): what: cudaErrorX (text)", the error cleared. */
pp_code pp_cuda_node_fail(pp_error *err, const pp_backend *b, const pp_launch *l, cudaError_t e, const char *what);

/* cuBLASLt GEMM / MATMUL (gemm_lt.c). */
pp_code pp_lt_prepare(pp_backend *b, pp_launch *l, pp_lt_plan **out, size_t *ws_bytes, pp_error *err);
pp_code pp_lt_launch(pp_backend *b, pp_stream *s, const pp_launch *l, const pp_lt_plan *plan, pp_error *err);
void pp_lt_release(pp_backend *b, pp_lt_plan *plan);

/* cuDNN CONV (conv_cudnn.c). */
pp_code pp_conv_prepare(pp_backend *b, pp_launch *l, pp_conv_plan **out, size_t *ws_bytes, pp_error *err);
pp_code pp_conv_launch(pp_backend *b, pp_stream *s, const pp_launch *l, const pp_conv_plan *plan, pp_error *err);
void pp_conv_release(pp_backend *b, pp_conv_plan *plan);

/* Turns the per-launch NVTX ranges on or off for every CUDA backend (also set by
 * PP_NVTX=1 at creation). Cheap either way: a flag test per launch. */
void pp_cuda_set_profiling(int on);

#endif

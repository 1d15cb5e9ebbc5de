/* cuda_kernels.h: the CUDA backend's custom kernels, one op (family) per .cu file.
 *
 * The face between engine/cuda/ (host C11) and the kernels/cuda .cu files (compiled as
 * C++17 by nvcc): every launcher is extern "C", takes the op's params exactly as
 * engine/ops.c made them (kernels/params.h), input pointers in ONNX order (NULL for
 * an absent optional input), output pointers, a workspace of
 * pp_cuda_workspace_size() bytes in device memory, and the stream to enqueue on.
 * A launcher only enqueues: it allocates nothing and never synchronizes; it
 * returns cudaGetLastError() after its launches (cudaSuccess for an empty op).
 *
 * Data never makes a kernel read or write out of bounds. Where the CPU kernel
 * returns non-zero for bad data (a gather index out of range), the CUDA kernel
 * writes zeros there and sets *x->err_flag (host-mapped memory the backend reads
 * at stream_sync), so the run fails with the same message the CPU gives.
 *
 * GEMM, MATMUL and CONV are not here: they go through cuBLASLt and cuDNN
 * (engine/cuda/); their bias / residual / activation follow-ups are.
 */
#ifndef PP_CUDA_KERNELS_H
#define PP_CUDA_KERNELS_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#include "../op_table.h"
#include "../params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_cuda_exec {
    cudaStream_t stream;
    int *err_flag; /* device-visible (mapped pinned) int; kernels set it to 1 on invalid data */
} pp_cuda_exec;

typedef cudaError_t (*pp_cuda_kernel_fn)(const pp_op_params *p, const void *const *in, void *const *out, void *ws,
                                         const pp_cuda_exec *x);

/* The custom kernel for op, NULL when op goes through a library or is unknown. */
pp_cuda_kernel_fn pp_cuda_kernel_for(pp_op op);
/* 1 when the kernel for op handles these params (dtypes, ranks), else 0. */
int pp_cuda_kernel_supports(pp_op op, const pp_op_params *p);
/* Workspace bytes the kernel for op needs with these params. */
size_t pp_cuda_workspace_size(pp_op op, const pp_op_params *p);

/* The kernels, one per family of the op table (kernels/op_table.h) whose CUDA
 * column is `kernel`, each with the check of what it handles (dtypes, element
 * sizes, ranks) in its own .cu. */
#define PP_CUDA_DECL_kernel(kern)                                                                                      \
    cudaError_t pp_cuda_##kern(const pp_op_params *p, const void *const *in, void *const *out, void *ws,               \
                               const pp_cuda_exec *x);                                                                 \
    int pp_cuda_##kern##_supports(const pp_op_params *p);
#define PP_CUDA_DECL_cudnn(kern)
#define PP_CUDA_DECL_cublaslt(kern)
#define PP_X_CUDA_DECL(name, desc, kern, cuda, ...) PP_CUDA_DECL_##cuda(kern)
PP_OP_TABLE(PP_X_CUDA_DECL)
#undef PP_X_CUDA_DECL
size_t pp_cuda_attention_workspace(const pp_op_params *p);

/* Format changes and the library ops' follow-ups (layout.cu), on logical
 * (N, C, HW) tensors, each of f32, f16 or bf16 (PP_DTYPE_INVALID = f32) and
 * NCHW (PP_LAYOUT_PLAIN) or NHWC:
 * y = act(x + bias[c] + residual), bias (C) of type bt and residual in y's
 * format may be NULL; y may be x when the two formats agree. */
cudaError_t pp_cuda_epilogue(void *y, pp_dtype yt, pp_layout yl, const void *x, pp_dtype xt, pp_layout xl,
                             const void *bias, pp_dtype bt, const void *residual, int64_t n, int64_t c, int64_t hw,
                             pp_act act, cudaStream_t s);
/* dst = src in another dtype and/or layout (the epilogue without one). */
cudaError_t pp_cuda_convert_layout(void *dst, pp_dtype dt, pp_layout dl, const void *src, pp_dtype st, pp_layout sl,
                                   int64_t n, int64_t c, int64_t hw, cudaStream_t s);
/* n values from src (type st) to dst (type dt), each of f32, f16, bf16; round
 * to nearest even. */
cudaError_t pp_cuda_convert(void *dst, pp_dtype dt, const void *src, pp_dtype st, int64_t n, cudaStream_t s);
/* gemm: y (M,N) of type t = c (type t) broadcast through (c_stride_m, c_stride_n),
 * before the product accumulates into it; */
cudaError_t pp_cuda_broadcast_2d(void *y, const void *c, pp_dtype t, int64_t m, int64_t n, int64_t c_stride_m,
                                 int64_t c_stride_n, cudaStream_t s);
/* y (count, type t) = act(y). */
cudaError_t pp_cuda_act_inplace(void *y, pp_dtype t, int64_t count, pp_act act, cudaStream_t s);
/* The direct convolution: the last fallback when cuDNN has nothing for a
 * shape, in the params' format, with the fused epilogue; and the depthwise one
 * (group == C == K) for NHWC, which competes with cuDNN's engines when they are
 * timed. */
cudaError_t pp_cuda_conv_direct(const pp_op_params *p, const void *const *in, void *const *out, void *ws,
                                const pp_cuda_exec *x);
int pp_cuda_conv_depthwise_ok(const pp_conv_params *p);
cudaError_t pp_cuda_conv_depthwise(const pp_op_params *p, const void *const *in, void *const *out, void *ws,
                                   const pp_cuda_exec *x);
/* The GEMM/MATMUL fallback where cuBLASLt has no algorithm (gemm.cu): the params'
 * dtype in and out, f32 accumulation, GEMM's C and activation fused. */
cudaError_t pp_cuda_gemm_fallback(pp_op op, const pp_op_params *p, const void *const *in, void *const *out,
                                  const pp_cuda_exec *x);

#ifdef __cplusplus
}
#endif
#endif

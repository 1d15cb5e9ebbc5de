/* cpu_kernels.h: the CPU backend's kernels, one op (or op family) per file.
 *
 * Every kernel has the same shape: params from engine/ops.c, input pointers in the
 * op's ONNX order (NULL for an absent optional input), output pointers, and a
 * workspace of pp_cpu_workspace_size() bytes (NULL when that is 0). A kernel
 * returns 0, or non-zero when the data itself is invalid (a gather index out of
 * range): it never reads or writes out of bounds, whatever the data. Kernels split
 * their work over the cores with OpenMP. They are the reference every other
 * backend is tested against, so they favour clarity where speed costs clarity,
 * except conv and gemm, which go through sgemm.
 */
#ifndef PP_CPU_KERNELS_H
#define PP_CPU_KERNELS_H

#include <stddef.h>

#include "../op_table.h"
#include "../params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int (*pp_cpu_kernel_fn)(const pp_op_params *p, const void *const *in, void *const *out, void *ws);

/* The kernel for op, NULL when the CPU backend has none. */
pp_cpu_kernel_fn pp_cpu_kernel_for(pp_op op);
/* 1 when the kernel for op computes these params: the CPU kernels compute in
 * f32 on plain tensors (data movement in any dtype), so 16-bit or NHWC
 * operands of an op that computes are 0; the planner's CPU policy never asks
 * for them (engine/formats_cpu.c), and the backend refuses them by name. */
int pp_cpu_kernel_takes(pp_op op, const pp_op_params *p);
/* Workspace bytes the kernel for op needs with these params. */
size_t pp_cpu_workspace_size(pp_op op, const pp_op_params *p);

/* Row-major single-precision GEMM, C = alpha·op(A)·op(B) + beta·C, through
 * OpenBLAS when the build has it, a blocked C loop otherwise. */
void pp_cpu_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                  const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* The same over M rows in tiles of exactly PP_CPU_ROW_TILE (the last padded
 * in ws, of pp_cpu_sgemm_rows_workspace bytes), so each row's result is the same
 * whatever M is: the CPU backend's outputs do not depend on the micro-batch. */
#define PP_CPU_ROW_TILE 16
size_t pp_cpu_sgemm_rows_workspace(int64_t n, int64_t k);
void pp_cpu_sgemm_rows(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                       int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc, float *ws);
size_t pp_cpu_gemm_workspace(const pp_op_params *p);
size_t pp_cpu_matmul_workspace(const pp_op_params *p);

/* The kernels, one per family of the op table (kernels/op_table.h). */
#define PP_X_CPU_DECL(name, desc, kern, ...)                                                                           \
    int pp_cpu_##kern(const pp_op_params *p, const void *const *in, void *const *out, void *ws);
PP_OP_TABLE(PP_X_CPU_DECL)
#undef PP_X_CPU_DECL
size_t pp_cpu_conv_workspace(const pp_op_params *p);
size_t pp_cpu_attention_workspace(const pp_op_params *p);

/* f16 / bf16 ↔ f32, round to nearest even; shared by CAST, .npy I/O and tests. */
float pp_f16_to_f32(uint16_t h);
uint16_t pp_f32_to_f16(float f);
float pp_bf16_to_f32(uint16_t h);
uint16_t pp_f32_to_bf16(float f);

#ifdef __cplusplus
}
#endif
#endif

/* fast_internal.h: what the fast kernels' files share (fast.h is the face). */
#ifndef PP_CPU_FAST_INTERNAL_H
#define PP_CPU_FAST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fast.h"
#include "gemm.h"

/* The packed weights of one node. */
struct pp_fast_packed {
    pp_op op;
    float *w;         /* packed weights, 64-byte aligned (pp_gemm_pack layout), or NULL */
    float *wino;      /* CONV: the Winograd-transformed weights (winograd.c), or NULL */
    int64_t extra;    /* op-specific: the packed group stride of a convolution, in floats */
    size_t src_bytes; /* of in[1], which the packed copy replaces */
};

float *pp_fast_alloc_floats(size_t n);

/* Per family (conv.c, pool2d.c, attention.c, slice.c). */
int pp_fast_conv_pack(const pp_conv_params *p, const float *w, const float *bias, pp_cpu_isa isa, pp_fast_packed *pk);
/* CONV variants: 1 depthwise by the reference or implicit GEMM, 2 Winograd
 * (with pk), 3 depthwise by tiles (with pk). */
int pp_fast_conv_plan(const pp_conv_params *p, const pp_fast_packed *pk, pp_cpu_isa isa, int threads, int deterministic,
                      size_t *ws);
int pp_fast_conv_run(const pp_conv_params *p, const pp_fast_packed *pk, pp_cpu_isa isa, int variant,
                     const void *const *in, float *y, void *ws, pp_tpool *pool);
/* Depthwise on AVX-512 or AVX2 (dwconv.c): weights packed as (block of a
 * vector's channels, tap, vector), the workspace for a pool of `threads`, the
 * run (CONV variant 3). */
int pp_fast_dw_pack(const pp_conv_params *p, const float *w, pp_cpu_isa isa, pp_fast_packed *pk);
size_t pp_fast_dw_workspace(const pp_conv_params *p, pp_cpu_isa isa, int threads);
void pp_fast_dw_run(const pp_conv_params *p, const pp_fast_packed *pk, pp_cpu_isa isa, const float *x,
                    const float *bias, const float *res, float *y, void *ws, pp_tpool *pool);
/* Winograd F(2×2, 3×3) (winograd.c): whether the shape fits, whether it pays
 * (tiles of one image, or of the batch), its packed weights and its run. */
int pp_fast_winograd_fits(const pp_conv_params *p);
int pp_fast_winograd_pays(const pp_conv_params *p, int per_image);
int pp_fast_winograd_pack(const pp_conv_params *p, const float *w, pp_cpu_isa isa, float **out);
size_t pp_fast_winograd_workspace(const pp_conv_params *p, pp_cpu_isa isa, int threads);
void pp_fast_winograd_run(const pp_conv_params *p, const float *u, const float *x, const float *bias, const float *res,
                          float *y, void *ws, pp_tpool *pool);
int pp_fast_pool_plan(const pp_pool_params *p, pp_cpu_isa isa);
int pp_fast_pool_run(const pp_pool_params *p, pp_cpu_isa isa, const float *x, float *y, pp_tpool *pool);
int pp_fast_attention_plan(const pp_attention_params *p, pp_cpu_isa isa, int threads, size_t *ws);
int pp_fast_attention_run(const pp_attention_params *p, const void *const *in, float *y, void *ws, pp_tpool *pool);
/* Reference kernels run on slices, one per task (element-wise, softmax, layer
 * norm): the reference's own bytes, on every core. */
int pp_fast_sliced_plan(pp_op op, const pp_op_params *p, pp_cpu_isa isa);
int pp_fast_sliced_run(pp_op op, const pp_op_params *p, pp_cpu_isa isa, const void *const *in, void *const *out,
                       pp_tpool *pool);

#endif

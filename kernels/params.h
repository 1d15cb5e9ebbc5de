/* params.h: what a kernel needs to know about one node at one batch size.
 *
 * engine/ops.c derives these from a node's attributes and its concrete input
 * shapes (pp_op_describe) once per batch size, at plan time; every backend's
 * kernels take them as they are. Plain data, no pointers, no IR: kernels never
 * see the graph or a file. Shapes are concrete (the batch is resolved) and
 * logical, in the graph's axis order (N, C, H, W); tensors are row-major in that
 * order unless a `fmt` field names another layout (the planner's choice,
 * docs/planner.md) or a stride field says otherwise.
 *
 * Input order per op is the ONNX order; an absent optional input is a NULL
 * pointer in the kernel's `in` array.
 */
#ifndef PP_KERNEL_PARAMS_H
#define PP_KERNEL_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "../include/ppformat.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PP_MAX_IO 128 /* inputs or outputs of one node (a DenseNet concat has dozens) */

/* How a tensor's bytes are laid out; the engine's layout planner chooses
 * (docs/planner.md). Logical shapes stay in the graph's axis order (N, C, H, W);
 * the layout says where each element is:
 *   PLAIN  row-major in that order (NCHW);
 *   NHWC   channels innermost: (N, H, W, C);
 *   NCHWC  channels in blocks of `block` (8 or 16), zero-padded to a multiple of
 *          it: (N, ceil(C/block), H, W, block).
 * Layouts other than PLAIN apply to rank-4 tensors. */
typedef enum pp_layout {
    PP_LAYOUT_PLAIN = 0,
    PP_LAYOUT_NHWC = 1,
    PP_LAYOUT_NCHWC = 2,
} pp_layout;

/* Bytes per element of t, 0 for an invalid dtype (the kernels' copy of
 * loader's pp_dtype_size: kernels see no file). */
static inline size_t pp_dtype_bytes(pp_dtype t) {
    switch (t) {
    case PP_DTYPE_F64:
    case PP_DTYPE_I64: return 8;
    case PP_DTYPE_F32:
    case PP_DTYPE_I32: return 4;
    case PP_DTYPE_F16:
    case PP_DTYPE_BF16: return 2;
    case PP_DTYPE_BOOL:
    case PP_DTYPE_U8:
    case PP_DTYPE_I8: return 1;
    default: return 0;
    }
}

/* A tensor's format: element type and layout. */
typedef struct pp_format {
    pp_dtype dtype;
    pp_layout layout;
    int block; /* NCHWC: channels per block; 0 otherwise */
} pp_format;

/* An activation fused into conv / gemm, applied after bias and residual. */
typedef enum pp_act_kind {
    PP_ACT_NONE = 0,
    PP_ACT_RELU = 1,
    PP_ACT_CLIP = 2, /* alpha = min, beta = max (ReLU6: 0, 6) */
    PP_ACT_SIGMOID = 3,
    PP_ACT_TANH = 4,
    PP_ACT_GELU = 5,      /* erf form */
    PP_ACT_GELU_TANH = 6, /* tanh approximation */
    PP_ACT_SILU = 7,
    PP_ACT_HARDSWISH = 8,
    PP_ACT_HARDSIGMOID = 9, /* max(0, min(1, alpha*x + beta)) */
    PP_ACT_LEAKY_RELU = 10, /* alpha = slope */
} pp_act_kind;

typedef struct pp_act {
    pp_act_kind kind;
    float alpha, beta;
} pp_act;

/* CONV: in = x (N,C,H,W), w (K, C/group, KH, KW), [bias (K)], [residual (N,K,OH,OW)]
 * y = act(conv(x, w) + bias + residual). x, residual and y are in `fmt` (the
 * weights and bias as stored: a backend converts them once, at prepare). */
typedef struct pp_conv_params {
    int64_t n, c, h, w;
    int64_t k, kh, kw;
    int64_t oh, ow;
    int64_t stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, dil_h, dil_w, group;
    pp_act act;
    pp_format fmt;
} pp_conv_params;

/* GEMM: in = A, B, [C]. Y (M,N) = act(alpha · op(A) · op(B) + beta · C)
 * A is (M,K), or (K,M) when trans_a; B is (K,N), or (N,K) when trans_b.
 * C broadcasts to (M,N) through c_stride_m / c_stride_n (0 on a broadcast axis). */
typedef struct pp_gemm_params {
    int64_t m, n, k;
    int trans_a, trans_b;
    float alpha, beta;
    int64_t c_stride_m, c_stride_n;
    pp_act act;
    pp_dtype dtype; /* of A (when an activation) and Y; B and C as stored */
} pp_gemm_params;

/* MATMUL (NumPy matmul semantics): in = A (..., M, K), B (..., K, N); Y (..., M, N).
 * The batch dims of Y are batch_dims[0..batch_rank); a_stride / b_stride give, per
 * batch dim, the element stride between consecutive matrices (0 = broadcast). */
typedef struct pp_matmul_params {
    int64_t m, n, k;
    int batch_rank;
    int64_t batch_dims[PP_MAX_RANK];
    int64_t a_stride[PP_MAX_RANK], b_stride[PP_MAX_RANK];
    int64_t batch;  /* product of batch_dims (1 when batch_rank = 0) */
    pp_dtype dtype; /* of the activations among A, B and of Y; a weight operand as stored */
} pp_matmul_params;

/* BATCHNORM (inference): in = x (N,C,spatial...), scale, bias, mean, var (C). */
typedef struct pp_batchnorm_params {
    int64_t n, c, spatial;
    float epsilon;
    pp_format fmt; /* of x and y */
} pp_batchnorm_params;

/* Element-wise ops with NumPy broadcasting: unary (n_in = 1), binary (2), WHERE (3:
 * cond, x, y) and PRELU (x, slope). The output is dims[0..rank) contiguous;
 * strides[i][d] is input i's element stride along output axis d (0 = broadcast).
 * Unary ops and CAST read input 0 contiguously over `count`.
 * dtype is the inputs' type (WHERE: x and y's), out_dtype the output's (bool for
 * comparisons; the target for CAST). alpha/beta: CLIP min/max, LEAKY_RELU and ELU
 * alpha, HARDSIGMOID alpha/beta, SELU alpha/gamma(beta). */
typedef struct pp_eltwise_params {
    pp_op op;
    pp_dtype dtype, out_dtype;
    int n_in;
    int rank;
    int64_t count;
    int64_t dims[PP_MAX_RANK];
    int64_t strides[3][PP_MAX_RANK];
    float alpha, beta;
} pp_eltwise_params;

/* MAXPOOL, AVGPOOL, GLOBAL_AVGPOOL, GLOBAL_MAXPOOL: x (N,C,H,W) → y (N,C,OH,OW).
 * Global pools are expressed as a kernel covering H×W. Padding cells never win a
 * max; for averages they count only when count_include_pad. */
typedef struct pp_pool_params {
    pp_op op;
    int64_t n, c, h, w, oh, ow;
    int64_t kh, kw, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, dil_h, dil_w;
    int count_include_pad;
    pp_format fmt; /* of x and y */
} pp_pool_params;

/* SOFTMAX, LOG_SOFTMAX over one axis: x viewed as (outer, axis_len, inner). */
typedef struct pp_softmax_params {
    pp_op op;
    int64_t outer, axis_len, inner;
    pp_dtype dtype; /* of x and y; sums in f32 */
} pp_softmax_params;

/* LAYERNORM: in = x, scale, [bias]; x viewed as (rows, cols), normalised over cols;
 * scale and bias have cols elements. Statistics in f32 (f64 on the CPU). */
typedef struct pp_layernorm_params {
    int64_t rows, cols;
    float epsilon;
    pp_dtype dtype; /* of x and y; scale and bias as stored */
} pp_layernorm_params;

/* ATTENTION: in = q (B,H,TQ,D), k (B,H,TK,D), v (B,H,TK,DV), [mask]; y (B,H,TQ,DV).
 * y = softmax(q·kᵀ·scale + mask [+ causal]) · v. The mask is additive f32 or bool
 * (true = keep), broadcast to (B,H,TQ,TK) through mask_stride (0 = broadcast). */
typedef struct pp_attention_params {
    int64_t b, h, tq, tk, d, dv;
    float scale;
    int causal;
    pp_dtype mask_dtype; /* PP_DTYPE_INVALID when there is no mask */
    int64_t mask_stride[4];
    pp_dtype dtype; /* of q, k, v and y; scores and sums in f32 */
} pp_attention_params;

/* REDUCE_* over the axes in axes_mask (bit d = axis d of x); ARGMAX/ARGMIN over one
 * axis (i64 output). keepdims only changes the output shape, not the data. */
typedef struct pp_reduce_params {
    pp_op op;
    pp_dtype dtype;
    int rank;
    int64_t dims[PP_MAX_RANK];
    uint32_t axes_mask;
    int select_last_index; /* ARGMAX/ARGMIN */
} pp_reduce_params;

/* Plain copies: IDENTITY, FLATTEN, RESHAPE, SQUEEZE, UNSQUEEZE (same bytes, new shape). */
typedef struct pp_copy_params {
    size_t bytes;
} pp_copy_params;

/* TRANSPOSE: y = x.permute(perm); in_dims are x's. */
typedef struct pp_transpose_params {
    size_t elem;
    int rank;
    int64_t in_dims[PP_MAX_RANK];
    int perm[PP_MAX_RANK];
} pp_transpose_params;

/* CONCAT (n inputs → 1) and SPLIT (1 → n outputs) along an axis: each tensor viewed
 * as (outer, axis_len[i], inner). */
typedef struct pp_concat_params {
    size_t elem;
    int n;
    int64_t outer, inner;
    int64_t axis_len[PP_MAX_IO];
} pp_concat_params;

/* SLICE: normalised; y[i] = x[start + i*step] on each axis (steps may be negative). */
typedef struct pp_slice_params {
    size_t elem;
    int rank;
    int64_t in_dims[PP_MAX_RANK], out_dims[PP_MAX_RANK];
    int64_t starts[PP_MAX_RANK], steps[PP_MAX_RANK];
} pp_slice_params;

/* GATHER: in = data viewed (outer, axis_len, inner), indices (n_idx, i64 or i32;
 * negative counts from the end). y (outer, n_idx, inner). An index out of
 * [-axis_len, axis_len) makes the kernel return non-zero. */
typedef struct pp_gather_params {
    size_t elem;
    int64_t outer, axis_len, inner, n_idx;
    pp_dtype idx_dtype;
} pp_gather_params;

/* GATHER_ELEMENTS: y has the indices' shape (idx_dims); along axis the index picks. */
typedef struct pp_gather_elements_params {
    size_t elem;
    int rank, axis;
    int64_t in_dims[PP_MAX_RANK], idx_dims[PP_MAX_RANK];
    pp_dtype idx_dtype;
} pp_gather_elements_params;

/* EXPAND (broadcast copy) and TILE: y (out_dims) from x (in_dims, rank-aligned to y). */
typedef struct pp_expand_params {
    pp_op op;
    size_t elem;
    int rank;
    int64_t in_dims[PP_MAX_RANK], out_dims[PP_MAX_RANK];
} pp_expand_params;

/* PAD: y (out_dims) = x (in_dims) placed at pads_begin; mode 0 constant (value),
 * 1 reflect, 2 edge. Negative pads crop. */
typedef struct pp_pad_params {
    size_t elem;
    pp_dtype dtype;
    int rank, mode;
    int64_t in_dims[PP_MAX_RANK], out_dims[PP_MAX_RANK], pads_begin[PP_MAX_RANK];
    double value;
} pp_pad_params;

/* RESIZE over the two innermost axes of x (N,C,H,W) (outer = N·C). f32.
 * mode: 0 nearest, 1 linear. coord: 0 half_pixel, 1 asymmetric, 2 align_corners,
 * 3 pytorch_half_pixel. nearest: 0 round_prefer_floor, 1 round_prefer_ceil,
 * 2 floor, 3 ceil. scale_h/w are output/input as ONNX defines them. */
typedef struct pp_resize_params {
    int64_t outer, ih, iw, oh, ow;
    int mode, coord, nearest;
    float scale_h, scale_w;
    pp_format fmt; /* of x and y; NHWC: outer = N and c channels innermost */
    int64_t c;
} pp_resize_params;

/* TRILU: x viewed as (batch, rows, cols); keeps the upper (or lower) triangle
 * offset by k and zeroes the rest. */
typedef struct pp_trilu_params {
    size_t elem;
    int64_t batch, rows, cols, k;
    int upper;
} pp_trilu_params;

/* SHAPE (y = the i64 extents, computed at plan time), CONSTANT_OF_SHAPE and
 * RANGE (y = start + i·delta): outputs fully known from params. */
typedef struct pp_fill_params {
    pp_op op;
    pp_dtype dtype;
    int64_t count;
    int64_t ivalues[PP_MAX_RANK]; /* SHAPE: the extents */
    double value, start, delta;   /* CONSTANT_OF_SHAPE value; RANGE start, delta */
} pp_fill_params;

/* DEPTH_TO_SPACE / SPACE_TO_DEPTH: x (N,C,H,W); mode 0 DCR, 1 CRD. */
typedef struct pp_d2s_params {
    pp_op op;
    size_t elem;
    int64_t n, c, h, w, block;
    int mode;
} pp_d2s_params;

/* CUMSUM along one axis: x viewed (outer, axis_len, inner). */
typedef struct pp_cumsum_params {
    pp_dtype dtype;
    int64_t outer, axis_len, inner;
    int exclusive, reverse;
} pp_cumsum_params;

/* REFORMAT (inserted by the layout planner, never by a converter): y = x in
 * another format. A rank-4 tensor is (n, c, h, w); any other is plain, viewed
 * as (count, 1, 1, 1), and only its dtype changes. Float types convert with
 * round to nearest even; the padding lanes of an NCHWC output are zero. */
typedef struct pp_reformat_params {
    pp_format from, to;
    int64_t n, c, h, w;
    int64_t count; /* logical elements */
} pp_reformat_params;

typedef union pp_op_params {
    pp_conv_params conv;
    pp_gemm_params gemm;
    pp_matmul_params matmul;
    pp_batchnorm_params batchnorm;
    pp_eltwise_params eltwise;
    pp_pool_params pool;
    pp_softmax_params softmax;
    pp_layernorm_params layernorm;
    pp_attention_params attention;
    pp_reduce_params reduce;
    pp_copy_params copy;
    pp_transpose_params transpose;
    pp_concat_params concat;
    pp_slice_params slice;
    pp_gather_params gather;
    pp_gather_elements_params gather_elements;
    pp_expand_params expand;
    pp_pad_params pad;
    pp_resize_params resize;
    pp_trilu_params trilu;
    pp_fill_params fill;
    pp_d2s_params d2s;
    pp_cumsum_params cumsum;
    pp_reformat_params reformat;
} pp_op_params;

#ifdef __cplusplus
}
#endif
#endif

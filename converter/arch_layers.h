/* arch_layers.h: more layers for the architecture builders (arch_layers.c),
 * beyond arch_build.h's convolutions and linears: the data movement and norms
 * that transformers and shuffles need. Each takes activation ids and returns
 * the output id, or -1 when an input is -1 or a key was missing (problems are
 * collected in b, as with arch_build.h). Shapes are the caller's to know; a 0
 * in a reshape copies the input's axis, as ONNX's Reshape. */
#ifndef PP_ARCH_LAYERS_H
#define PP_ARCH_LAYERS_H

#include "arch_build.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Max pooling with torch's ceil_mode=True (SqueezeNet, GoogLeNet). */
int pp_ab_maxpool_ceil(pp_ab *b, int x, int k, int stride, int pad, const char *name);
/* Concatenation of n activations along axis. */
int pp_ab_concat_n(pp_ab *b, const int *xs, int n, int axis, const char *name);
int pp_ab_reshape(pp_ab *b, int x, int rank, const int64_t *shape, const char *name);
int pp_ab_transpose(pp_ab *b, int x, int rank, const int64_t *perm, const char *name);
/* x[start:end:step] along axis. */
int pp_ab_slice(pp_ab *b, int x, int axis, int64_t start, int64_t end, int64_t step, const char *name);
/* x[index] along axis (the axis goes away). */
int pp_ab_select(pp_ab *b, int x, int axis, int64_t index, const char *name);
int pp_ab_softmax(pp_ab *b, int x, int axis, const char *name);
/* LayerNorm over the last axis with PREFIX.weight and PREFIX.bias (c each). */
int pp_ab_layernorm(pp_ab *b, int x, const char *prefix, int64_t c, double eps);
/* A Linear PREFIX on an activation of any rank (.., cin) -> (.., cout): MATMUL by
 * the transposed weight, then the bias; act 0 or a pp_op applied after. */
int pp_ab_linear_nd(pp_ab *b, int x, const char *prefix, int64_t cin, int act, int64_t *cout);
/* The same with the weight and bias keys named (ViT's in_proj_weight); nodes are named prefix. */
int pp_ab_linear_keys(pp_ab *b, int x, const char *wkey, const char *bkey, const char *prefix, int64_t cin, int act,
                      int64_t *cout);
/* Where(cond, x, x) with cond (N, 1, ..) sliced from ref, whose axis 0 is the batch:
 * x (1, ..) repeated over the batch, its values untouched (ViT's class token). */
int pp_ab_repeat_batch(pp_ab *b, int x, int ref, int rank, const char *name);
/* A constant the graph owns (f32, copied). */
int pp_ab_const(pp_ab *b, const char *name, int rank, const int64_t *dims, const float *data);
/* A checkpoint tensor as a graph weight of the given shape (same element count), f32. */
int pp_ab_param(pp_ab *b, const char *key, int rank, const int64_t *dims);
/* Marks every key starting with prefix used (training-only heads such as
 * GoogLeNet's aux1/aux2); returns how many. */
int pp_ab_ignore_prefix(pp_ab *b, const char *prefix);

#ifdef __cplusplus
}
#endif
#endif

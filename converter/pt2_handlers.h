/* pt2_handlers.h: the ATen op handlers the table in pt2_ops.c dispatches to,
 * beyond its own elementwise ones: pt2_nn.c (weights, norms, attention,
 * pooling, reductions) and pt2_shape.c (views, indexing, constants). Each maps
 * one node (base: the target's name without "aten." and the overload) onto IR
 * nodes and binds its outputs; errors name the node. */
#ifndef PP_PT2_HANDLERS_H
#define PP_PT2_HANDLERS_H

#include "pt2_build.h"

#ifdef __cplusplus
extern "C" {
#endif

pp_code pt2_conv(pt2_node *n, const char *base);
pp_code pt2_linear(pt2_node *n, const char *base);
pp_code pt2_addmm(pt2_node *n, const char *base);
pp_code pt2_matmul(pt2_node *n, const char *base);
pp_code pt2_batch_norm(pt2_node *n, const char *base);
pp_code pt2_layer_norm(pt2_node *n, const char *base);
pp_code pt2_sdpa(pt2_node *n, const char *base);
pp_code pt2_reduce(pt2_node *n, const char *base);
pp_code pt2_softmax(pt2_node *n, const char *base);
pp_code pt2_pool(pt2_node *n, const char *base);
pp_code pt2_adaptive_avg_pool(pt2_node *n, const char *base);
pp_code pt2_reshape(pt2_node *n, const char *base);
pp_code pt2_permute(pt2_node *n, const char *base);
pp_code pt2_unsqueeze(pt2_node *n, const char *base);
pp_code pt2_squeeze(pt2_node *n, const char *base);
pp_code pt2_expand(pt2_node *n, const char *base);
pp_code pt2_cat(pt2_node *n, const char *base);
pp_code pt2_slice(pt2_node *n, const char *base);
pp_code pt2_select(pt2_node *n, const char *base);
pp_code pt2_gather(pt2_node *n, const char *base);
pp_code pt2_roll(pt2_node *n, const char *base);
pp_code pt2_pad(pt2_node *n, const char *base);
pp_code pt2_outer(pt2_node *n, const char *base);
pp_code pt2_full(pt2_node *n, const char *base);
pp_code pt2_arange(pt2_node *n, const char *base);
pp_code pt2_fill_(pt2_node *n, const char *base);
pp_code pt2_unbind(pt2_node *n, const char *base);
pp_code pt2_slice_scatter(pt2_node *n, const char *base);
pp_code pt2_copy(pt2_node *n, const char *base);
pp_code pt2_as_strided(pt2_node *n, const char *base);
pp_code pt2_any(pt2_node *n, const char *base);

#ifdef __cplusplus
}
#endif
#endif

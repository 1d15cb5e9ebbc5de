/* passes.h: the converter's graph passes (converter/pass_*.c).
 *
 * Each pass rewrites patterns of the imported ONNX graph into the engine's
 * coarse ops, marks the nodes it replaces dead and returns how many rewrites it
 * did. Passes rely on the shapes the importer inferred (tensor rank >= 0); a
 * pattern whose shapes are unknown is left alone. A pass never changes what the
 * graph computes (beyond float rounding): every intermediate it removes must have
 * exactly the consumers the pattern names and must not be a graph output.
 * After the passes the caller compacts, sorts and re-infers (pp_run_passes does).
 *
 * Order (pp_run_passes): identity, bn_fold, gelu, layernorm, attention,
 * matmul_add, silu (x*sigmoid(x), x*hardsigmoid(x)), residual, act.
 */
#ifndef PP_PASSES_H
#define PP_PASSES_H

#include "../engine/graph.h"
#include "../loader/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef pp_code (*pp_pass_fn)(pp_graph *g, int *rewrites, pp_error *err);

/* One pass's effect on the live node count. */
typedef struct pp_pass_stat {
    const char *name; /* static */
    int nodes_before, nodes_after, rewrites;
} pp_pass_stat;

#define PP_PASS_MAX 16

pp_code pp_pass_identity(pp_graph *g, int *rewrites, pp_error *err);   /* pass_identity.c */
pp_code pp_pass_bn_fold(pp_graph *g, int *rewrites, pp_error *err);    /* pass_bn_fold.c */
pp_code pp_pass_gelu(pp_graph *g, int *rewrites, pp_error *err);       /* pass_gelu.c */
pp_code pp_pass_layernorm(pp_graph *g, int *rewrites, pp_error *err);  /* pass_layernorm.c */
pp_code pp_pass_attention(pp_graph *g, int *rewrites, pp_error *err);  /* pass_attention.c */
pp_code pp_pass_matmul_add(pp_graph *g, int *rewrites, pp_error *err); /* pass_matmul_add.c */
pp_code pp_pass_silu(pp_graph *g, int *rewrites, pp_error *err);       /* pass_fuse_act.c */
pp_code pp_pass_residual(pp_graph *g, int *rewrites, pp_error *err);   /* pass_fuse_act.c */
pp_code pp_pass_act(pp_graph *g, int *rewrites, pp_error *err);        /* pass_fuse_act.c */

/* Runs every pass in order, then pp_graph_compact and pp_graph_toposort (not
 * pp_graph_infer). stats (may be NULL) receives up to PP_PASS_MAX entries,
 * *n_stats how many. */
pp_code pp_run_passes(pp_graph *g, pp_pass_stat *stats, int *n_stats, pp_error *err);

/* ---- helpers shared by the pass files (pass_common.c) ---------------------- */

int pp_pass_live_nodes(const pp_graph *g);
/* The live node producing tensor t, or -1 (inputs, weights). */
int pp_pass_producer(const pp_graph *g, int t);
/* 1 when t is a graph output. */
int pp_pass_is_output(const pp_graph *g, int t);
/* How many input slots of live nodes read t (a node reading it twice counts 2). */
int pp_pass_uses(const pp_graph *g, int t);
/* The one live node reading t once, when t has exactly that use and is not a
 * graph output; else -1. */
int pp_pass_single_use(const pp_graph *g, int t);
/* The live node `node` when it is `op` with one output, else NULL. */
pp_node *pp_pass_node_op(const pp_graph *g, int node, pp_op op);
/* The producer of t when it is `op` and t is used only once (by the pattern). */
int pp_pass_producer_op(const pp_graph *g, int t, pp_op op);
/* For a two-input node: the input that is not t, or -2 when neither is t. */
int pp_pass_other(const pp_node *n, int t);
/* 1 (and the element count) when t is an f32 weight; reads no data. */
int pp_pass_is_const_f32(const pp_graph *g, int t, int64_t *numel);
/* f32 weight data and element count, or NULL; a weight at an odd address gets
 * aligned storage first, so only patterns that really read data pay for it. */
const float *pp_pass_const_f32(const pp_graph *g, int t, int64_t *numel);
/* 1 and *v when t is an f32 or f64 weight holding one element. */
int pp_pass_const_scalar(const pp_graph *g, int t, double *v);
/* 1 when t is a one-element constant within relative tol of want. */
int pp_pass_const_near(const pp_graph *g, int t, double want, double tol);
/* Replaces every read of tensor from by to in live nodes. */
void pp_pass_rewire(pp_graph *g, int from, int to);
/* Gives node new inputs (resizing its array). */
pp_code pp_pass_set_inputs(pp_graph *g, int node, int n_in, const int *in, pp_error *err);
/* Adds a node with old's name and old's single output, and marks old dead.
 * Returns the new node, or -1 (err set). Node pointers are invalid afterwards. */
int pp_pass_replace(pp_graph *g, int old, pp_op op, int n_in, const int *in, pp_error *err);
/* Moves node's single output onto tensor `out` (which the killed node `dead`
 * produced) and marks `dead` dead. */
void pp_pass_take_output(pp_graph *g, int node, int dead);

#ifdef __cplusplus
}
#endif
#endif

/* graph.h: the engine's IR, the layer graph.
 *
 * Tensors and nodes live in growable arrays and refer to each other by index.
 * A tensor's dims use the file's encoding (ppformat.h, symbols.h): d >= 0 fixed,
 * (-d) × batch, or a value of the graph's shape program (its symbols: batch,
 * seq, ...), so one graph runs at every batch size and sequence length; an
 * attribute element may be such a value too (pp_attr.sym). Weights point at bytes the
 * graph borrows (the loaded model's mapping) or owns (constants the converter
 * made). The converter edits graphs (passes add, rewire and kill nodes); the
 * engine only reads them.
 *
 * Flow: pp_model (loader) → pp_graph_from_model → pp_graph_infer → plan/exec;
 *       converter → pp_graph → passes → pp_graph_write → graph.bin.
 */
#ifndef PP_GRAPH_H
#define PP_GRAPH_H

#include <stdint.h>

#include "../include/ppformat.h"
#include "../kernels/params.h"
#include "../loader/error.h"
#include "../loader/model.h"
#include "symbols.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_attr {
    char *name; /* owned */
    pp_attr_type type;
    int64_t i;
    double f;
    char *s; /* owned */
    uint32_t count;
    int64_t *ints;  /* owned, count values */
    double *floats; /* owned, count values */
    /* INT, FLOAT, INTS, FLOATS: NULL, or (owned) one entry per value: the
     * graph's shape program slot that value takes before describe runs
     * (pp_node_resolve), -1 for a literal. */
    int32_t *sym;
} pp_attr;

typedef struct pp_tensor {
    char *name; /* owned */
    pp_dtype dtype;
    pp_tensor_kind kind;
    int rank; /* -1 while unknown (before inference) */
    int64_t dims[PP_MAX_RANK];
    const void *data; /* WEIGHT: the bytes (borrowed or == owned) */
    uint64_t nbytes;
    void *owned;  /* WEIGHT bytes the graph owns, or NULL */
    int producer; /* node index, -1 for inputs and weights */
    /* The layout the planner chose (engine/formats.h); plain in every graph a
     * file or a converter made. */
    pp_layout layout;
    int block;
} pp_tensor;

typedef struct pp_node {
    pp_op op;
    char *name; /* owned; the source name, kept for every message and profile row */
    int n_in, n_out, n_attr;
    int *in; /* tensor ids, -1 for an absent optional input */
    int *out;
    pp_attr *attrs;
    int dead; /* set by passes; pp_graph_compact drops dead nodes */
} pp_node;

typedef struct pp_graph {
    pp_tensor *tensors;
    int n_tensors, cap_tensors;
    pp_node *nodes; /* topological order after pp_graph_toposort */
    int n_nodes, cap_nodes;
    int *inputs, n_inputs;
    int *outputs, n_outputs;
    char **meta_keys, **meta_values;
    int n_meta;
    pp_symtab sym;            /* symbols and the shape program (symbols.h); empty for a static graph */
    struct pp_probes *probes; /* owned: shape inference's sample points (infer.c), or NULL */
    pp_model *model;          /* owned: the loaded model whose mapping weights borrow; may be NULL */
    /* Anything else weights borrow from (a checkpoint's mapping), freed with
     * the graph by keep_free; may be NULL. */
    void *keep;
    void (*keep_free)(void *);
} pp_graph;

pp_graph *pp_graph_new(void);
void pp_graph_free(pp_graph *g);

/* Builds a graph from a validated model and infers its shapes. On success the
 * graph takes ownership of *model (its mapping backs the weights) and sets
 * *model to NULL. */
pp_code pp_graph_from_model(pp_model **model, pp_graph **out, pp_error *err);

/* Writes the graph to path (through pp_model_write: temp file, then rename). */
pp_code pp_graph_write(const pp_graph *g, const char *path, pp_error *err);
/* The same, reporting bytes written (ppconvert's progress bar). */
pp_code pp_graph_write_progress(const pp_graph *g, const char *path, pp_progress_fn progress, void *arg, pp_error *err);
/* The same into a buffer the caller frees with pp_free. */
pp_code pp_graph_write_memory(const pp_graph *g, void **out, size_t *out_size, pp_error *err);

/* Adding things. Names are copied. Return the new index, or -1 when out of
 * memory (err says how many bytes). */
int pp_graph_add_tensor(pp_graph *g, const char *name, pp_dtype dtype, pp_tensor_kind kind, int rank,
                        const int64_t *dims, pp_error *err);
/* A weight whose bytes the graph copies and owns. */
int pp_graph_add_weight(pp_graph *g, const char *name, pp_dtype dtype, int rank, const int64_t *dims, const void *data,
                        uint64_t nbytes, pp_error *err);
int pp_graph_add_node(pp_graph *g, pp_op op, const char *name, int n_in, const int *in, int n_out, const int *out,
                      pp_error *err);
pp_code pp_graph_set_io(pp_graph *g, int n_in, const int *in, int n_out, const int *out, pp_error *err);
pp_code pp_graph_add_meta(pp_graph *g, const char *key, const char *value, pp_error *err);

/* Attributes on a node (copied). Setting an existing name replaces it. */
pp_code pp_node_set_int(pp_graph *g, int node, const char *name, int64_t v, pp_error *err);
pp_code pp_node_set_float(pp_graph *g, int node, const char *name, double v, pp_error *err);
pp_code pp_node_set_string(pp_graph *g, int node, const char *name, const char *v, pp_error *err);
pp_code pp_node_set_ints(pp_graph *g, int node, const char *name, const int64_t *v, uint32_t n, pp_error *err);
pp_code pp_node_set_floats(pp_graph *g, int node, const char *name, const double *v, uint32_t n, pp_error *err);

/* Makes value `elem` of node's existing numeric attribute `name` shape program
 * slot `slot` (its stored value becomes 0 until resolved). */
pp_code pp_node_set_sym(pp_graph *g, int node, const char *name, uint32_t elem, int32_t slot, pp_error *err);
/* Copies attribute a (bindings included) onto node, replacing one of that name. */
pp_code pp_node_copy_attr(pp_graph *g, int node, const pp_attr *a, pp_error *err);
/* 1 when some attribute value of n is a shape program slot. */
int pp_node_is_symbolic(const pp_node *n);
/* Gives every bound attribute value of n its slot's value in slot[]. Nodes
 * resolved so are what describe functions see; call it before each describe
 * at a new point (graphs shared between threads are never resolved in place:
 * engines resolve their own planned copy). */
void pp_node_resolve(pp_node *n, const int64_t *slot);

/* Attribute lookups; the default when absent or of another type. */
const pp_attr *pp_node_attr(const pp_node *n, const char *name);
int64_t pp_node_int(const pp_node *n, const char *name, int64_t def);
double pp_node_float(const pp_node *n, const char *name, double def);
const char *pp_node_string(const pp_node *n, const char *name, const char *def);
/* INTS attribute values, or NULL (and *count = 0) when absent. */
const int64_t *pp_node_ints(const pp_node *n, const char *name, uint32_t *count);

/* Drops dead nodes and tensors nothing refers to, renumbering; recomputes
 * producers. */
pp_code pp_graph_compact(pp_graph *g, pp_error *err);
/* Orders nodes so every input is produced before use; names a cycle when there is one. */
pp_code pp_graph_toposort(pp_graph *g, pp_error *err);
/* Infers every activation's dtype and symbolic shape from the inputs and weights
 * (engine/ops.c does each op), checking that the graph runs for every value of
 * its symbols (engine/infer.c: each node is described at a few sample points of
 * the symbols' ranges and each extent fitted). Errors name the node, its op and
 * the input and axis at fault. */
pp_code pp_graph_infer(pp_graph *g, pp_error *err);
/* The same for node i alone, its inputs' shapes known (the ONNX importer infers
 * node by node). */
pp_code pp_graph_infer_node(pp_graph *g, int i, pp_error *err);
/* Forgets shape inference's sample points (after the symbols' ranges changed). */
void pp_graph_forget_probes(pp_graph *g);

/* Resolved extents of tensor t at batch size `batch` (a graph without a shape
 * program; a slot dim reads INT64_MAX). */
void pp_tensor_dims_at(const pp_tensor *t, int64_t batch, int64_t *dims);
/* numel × dtype size at batch size `batch` (0 on overflow, which inference rules out). */
uint64_t pp_tensor_bytes_at(const pp_tensor *t, int64_t batch);
/* The same at every symbol's value (env, symbols.h). */
void pp_tensor_dims_env(const pp_tensor *t, const pp_dimenv *env, int64_t *dims);
uint64_t pp_tensor_bytes_env(const pp_tensor *t, const pp_dimenv *env);
/* 1 when some dim of t is symbolic (a batch multiple or a slot). */
int pp_tensor_is_symbolic(const pp_tensor *t);
/* "(N, 3, 224, 224)"-style text into buf; pp_graph_shape_str names the graph's
 * symbols ("(batch, seq, 768)"). */
const char *pp_tensor_shape_str(const pp_tensor *t, char *buf, size_t size);
const char *pp_graph_shape_str(const pp_graph *g, const pp_tensor *t, char *buf, size_t size);

/* ---- symbolic shapes at a point (engine/shapes.c) ------------------------------ */

/* The reference point: every symbol at 1, or the nearest value in its range.
 * For work that needs some concrete shape and does not depend on which (the
 * format planner's choices). env is filled as by pp_dimenv_set. */
pp_code pp_graph_ref_env(const pp_graph *g, pp_dimenv *env, pp_error *err);
/* Resolves every node's symbolic attributes at env (pp_node_resolve). Only on a
 * graph no other thread reads: an engine's own planned copy, or one being built. */
void pp_graph_resolve(pp_graph *g, const pp_dimenv *env);
/* Every symbol's value from the graph inputs' extents in_dims[i][0..rank-1],
 * each within [lo[s], hi[s]] (NULL: the symbols' own ranges): an axis whose dim
 * is a symbol (or k × batch) gives its value, a symbol that no input gives must
 * have a range of one value, and every other axis must then equal what its dim
 * evaluates to. Errors name the input, the axis, the value and the range;
 * *bad (may be NULL) gets the index of the input at fault, or -1. */
pp_code pp_graph_bind_inputs(const pp_graph *g, const int64_t *const *in_dims, const int64_t *lo, const int64_t *hi,
                             int64_t *sym, int *bad, pp_error *err);
/* How tensor t depends on the batch, judged at two batch sizes with the other
 * symbols at sym[]: 1 when axis 0 is a multiple of the batch and no other axis
 * depends on it (its rows split over micro-batches), 0 when no axis depends on
 * it, -1 otherwise (axis in *axis). */
int pp_graph_batch_rows(const pp_graph *g, const pp_tensor *t, const int64_t *sym, int *axis);

/* Stored precision (ppconvert --dtype f16|bf16): narrows every f32 weight to
 * dt and records it in the metadata key "weights_dtype", so graph.bin is half
 * the size. Loading such a graph widens those weights back to f32 once, at
 * load (pp_graph_from_model), never per run. dt f32 does nothing. */
pp_code pp_graph_store_weights(pp_graph *g, pp_dtype dt, pp_error *err);

/* Number of parameters (weight elements). */
uint64_t pp_graph_param_count(const pp_graph *g);

#ifdef __cplusplus
}
#endif
#endif

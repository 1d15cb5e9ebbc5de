/* graph.h: the engine's IR, the layer graph.
 *
 * Tensors and nodes live in growable arrays and refer to each other by index.
 * A tensor's dims use the file's encoding (ppformat.h): d >= 0 fixed, d < 0 is
 * (-d) × batch, so one graph runs at every batch size. Weights point at bytes the
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
    pp_model *model; /* owned: the loaded model whose mapping weights borrow; may be NULL */
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
 * (engine/ops.c does each op), checking that the graph runs at every batch size.
 * Errors name the node, its op and the input and axis at fault. */
pp_code pp_graph_infer(pp_graph *g, pp_error *err);

/* Resolved extents of tensor t at batch size `batch`. */
void pp_tensor_dims_at(const pp_tensor *t, int64_t batch, int64_t *dims);
/* numel × dtype size at batch size `batch` (0 on overflow, which inference rules out). */
uint64_t pp_tensor_bytes_at(const pp_tensor *t, int64_t batch);
/* "(N, 3, 224, 224)"-style text into buf. */
const char *pp_tensor_shape_str(const pp_tensor *t, char *buf, size_t size);

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

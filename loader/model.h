/* model.h: the loader's face. A graph.bin read and validated into a read-only
 * model description, and the one writer that produces graph.bin files.
 *
 * The description is plain data: arrays of tensors, nodes and attributes whose
 * strings and weight bytes point into the mapping (zero copy). Everything in a
 * pp_model returned by pp_model_load has been checked: every index is in range,
 * every string terminated, every weight inside the DATA section and not
 * overlapping another, every node's inputs produced before it (no cycles), every
 * op known. The engine may trust it.
 *
 * The writer takes the same structure (pointers may then point anywhere in
 * memory), so read(write(m)) reproduces m.
 */
#ifndef PP_MODEL_H
#define PP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../include/ppformat.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_model_tensor {
    const char *name;
    pp_dtype dtype;
    pp_tensor_kind kind;
    int rank;
    int64_t dims[PP_MAX_RANK]; /* fixed, (-k) × batch, or a shape program slot: see ppformat.h */
    const void *data;          /* WEIGHT only: borrowed (the mapping, or the writer's caller) */
    uint64_t nbytes;           /* WEIGHT only */
} pp_model_tensor;

typedef struct pp_model_attr {
    const char *name;
    pp_attr_type type;
    int64_t i;            /* INT */
    double f;             /* FLOAT */
    const char *s;        /* STRING */
    uint32_t count;       /* INTS / FLOATS */
    const int64_t *ints;  /* INTS: count values */
    const double *floats; /* FLOATS: count values */
    /* INT, FLOAT, INTS, FLOATS (format 2): NULL, or one entry per value: the
     * shape program slot it takes, PP_FMT_NONE for a literal value. */
    const uint32_t *sym;
} pp_model_attr;

typedef struct pp_model_node {
    pp_op op;
    const char *name; /* source name (ONNX node name, module path) */
    uint32_t n_inputs, n_outputs, n_attrs;
    const uint32_t *inputs; /* tensor indices; PP_FMT_NONE for an absent optional input */
    const uint32_t *outputs;
    const pp_model_attr *attrs;
} pp_model_node;

typedef struct pp_model_meta {
    const char *key, *value;
} pp_model_meta;

typedef struct pp_model_symbol { /* format 2 */
    const char *name;
    uint32_t flags; /* PP_SYMBOL_BATCH or 0 */
    int64_t min, max;
} pp_model_symbol;

typedef struct pp_model {
    uint32_t n_tensors, n_nodes, n_inputs, n_outputs, n_meta;
    const pp_model_tensor *tensors;
    const pp_model_node *nodes; /* topological order */
    const uint32_t *inputs;     /* graph input tensor ids */
    const uint32_t *outputs;    /* graph output tensor ids */
    const pp_model_meta *meta;
    /* Format 2: symbols and the shape program (empty in 1.x files). A writer
     * writes format 1.0 when both are empty, no attribute is symbolic and no
     * dim names a slot. */
    uint32_t n_symbols, n_shape_insts;
    const pp_model_symbol *symbols;
    const pp_fmt_shape_inst *shape_prog;
    uint16_t version_major, version_minor;
    void *priv; /* loader-owned storage; NULL for a caller-built model */
} pp_model;

/* Validation switches for pp_model_load. */
enum {
    PP_LOAD_SKIP_DATA_CHECKSUM = 1u << 0, /* trust the DATA section's bytes (fast open of huge files) */
};

/* Maps and validates path. On success *out owns the mapping; free it with
 * pp_model_free. On failure *out is NULL and err names what was wrong. */
pp_code pp_model_load(const char *path, unsigned flags, pp_model **out, pp_error *err);

/* The same over caller memory, which must stay valid and unchanged while *out lives.
 * A 64-byte-aligned buffer is used in place; a misaligned one is first copied
 * into an aligned private buffer (freed by pp_model_free), so that weights are
 * always PP_FMT_ALIGN-aligned. */
pp_code pp_model_load_memory(const void *data, size_t size, unsigned flags, pp_model **out, pp_error *err);

void pp_model_free(pp_model *m);

/* Writes m to path through a temporary file in the same folder, flushed, then
 * renamed: a failure never leaves a partial file under path. Validates m the way
 * the loader would (indices, dtype × shape against bytes, topological order). */
pp_code pp_model_write(const pp_model *m, const char *path, pp_error *err);

/* Called as bytes reach the file: done of total. */
typedef void (*pp_progress_fn)(uint64_t done, uint64_t total, void *arg);
/* pp_model_write reporting progress (progress may be NULL). */
pp_code pp_model_write_progress(const pp_model *m, const char *path, pp_progress_fn progress, void *arg, pp_error *err);

/* The same into a malloc'ed buffer (*out_data, freed by the caller with pp_free). */
pp_code pp_model_write_memory(const pp_model *m, void **out_data, size_t *out_size, pp_error *err);

/* Lookups into a metadata list; NULL when absent. */
const char *pp_model_meta_get(const pp_model *m, const char *key);

/* Format helpers shared by the writer, the loader and the tools. */
size_t pp_dtype_size(pp_dtype dt);          /* 0 for an invalid dtype */
const char *pp_dtype_name(pp_dtype dt);     /* "f32", ...; "invalid" */
pp_dtype pp_dtype_from_name(const char *s); /* PP_DTYPE_INVALID when unknown */
const char *pp_op_name(pp_op op);           /* the enum's spelling: "CONV", "LEAKY_RELU"; NULL when unknown */
pp_op pp_op_from_name(const char *s);       /* ignores case and '_': "LeakyRelu" works; PP_OP_INVALID when unknown */
uint64_t pp_fmt_checksum(const void *data, size_t n); /* docs/format.md */

#ifdef __cplusplus
}
#endif
#endif

/* onnx_internal.h: what onnx.c (parsing, the import driver) and onnx_ops.c (one
 * handler per ONNX op) share. Not part of the importer's face (onnx.h). */
#ifndef PP_ONNX_INTERNAL_H
#define PP_ONNX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/graph.h"
#include "../engine/ops.h"
#include "fold.h"
#include "onnx.h"
#include "protobuf.h"

/* ONNX AttributeProto.AttributeType */
enum {
    OX_ATTR_UNDEFINED = 0,
    OX_ATTR_FLOAT = 1,
    OX_ATTR_INT = 2,
    OX_ATTR_STRING = 3,
    OX_ATTR_TENSOR = 4,
    OX_ATTR_GRAPH = 5,
    OX_ATTR_FLOATS = 6,
    OX_ATTR_INTS = 7,
    OX_ATTR_STRINGS = 8,
    OX_ATTR_TENSORS = 9,
    OX_ATTR_GRAPHS = 10,
    OX_ATTR_SPARSE_TENSOR = 11,
    OX_ATTR_SPARSE_TENSORS = 12,
    OX_ATTR_TYPE_PROTO = 13,
    OX_ATTR_TYPE_PROTOS = 14,
};

/* Bump allocator for everything the parse produces (strings, arrays); freed in
 * one go when the import ends. */
typedef struct ox_block ox_block;
typedef struct ox_arena {
    ox_block *head;
} ox_arena;

/* A TensorProto as read, data not yet materialised. */
typedef struct ox_tensor {
    const char *name;
    int64_t data_type;
    int rank; /* the real rank, even above PP_MAX_RANK (refused later) */
    int64_t dims[PP_MAX_RANK];
    const uint8_t *raw;
    size_t raw_len;
    int has_raw;
    pp_pb_f32s f32;   /* float_data */
    pp_pb_i64s i32;   /* int32_data (also f16/bf16/bool/int8/... bit patterns) */
    pp_pb_i64s i64;   /* int64_data */
    pp_pb_i64s u64;   /* uint64_data */
    pp_pb_f64s f64;   /* double_data */
    size_t n_strings; /* string_data records */
    int has_segment;
    int64_t data_location; /* 1 = EXTERNAL */
    const char *ext_location;
    int64_t ext_offset, ext_length; /* -1 when absent */
    size_t offset;                  /* byte offset of the TensorProto in the file */
} ox_tensor;

typedef struct ox_attr {
    const char *name;
    int64_t type;
    float f;
    int64_t i;
    const uint8_t *s;
    size_t s_len;
    ox_tensor *t;
    float *floats;
    size_t n_floats;
    int64_t *ints;
    size_t n_ints;
    const char **strings;
    size_t n_strings;
    const char *ref_attr_name; /* only inside functions; refused */
    size_t offset;
} ox_attr;

typedef struct ox_node {
    const char *name; /* never NULL; "" when the file has none */
    const char *op_type;
    const char *domain;
    const char **in; /* "" for an absent optional input */
    int n_in;
    const char **out;
    int n_out;
    ox_attr *attrs;
    int n_attrs;
    size_t offset;
} ox_node;

typedef struct ox_vinfo {
    const char *name;
    int is_tensor; /* TypeProto.tensor_type present */
    int64_t elem_type;
    int has_shape;
    int rank;
    int64_t dims[PP_MAX_RANK];       /* -1 when the dim has neither value nor param */
    const char *params[PP_MAX_RANK]; /* dim_param, or NULL */
    size_t offset;
} ox_vinfo;

/* What an ONNX value name stands for while importing. */
typedef enum ox_kind {
    OX_TENSOR = 0, /* a graph tensor: input, weight or activation (kind says) */
    OX_SYM = 1,    /* a batch-dependent shape value, not (yet) in the graph */
} ox_kind;

typedef struct ox_value {
    const char *name;
    ox_kind kind;
    int tensor;    /* OX_TENSOR: graph tensor id */
    pp_symval sym; /* OX_SYM */
} ox_value;

typedef struct ox_ext_map {
    char *location; /* owned */
    void *map;
    size_t size;
} ox_ext_map;

struct pp_onnx {
    void *map; /* the model file's mapping, NULL for memory */
    size_t map_size;
    ox_ext_map *ext;
    int n_ext, cap_ext;
    char *producer_name, *producer_version;
    pp_onnx_info info;
};

typedef struct ox_ctx {
    pp_error *err;
    const uint8_t *file;
    size_t file_size;
    const char *dir; /* for external data; NULL refuses it */
    const pp_onnx_options *opt;
    pp_onnx *h;
    ox_arena arena;
    /* ModelProto */
    int64_t ir_version, opset;
    const char *producer_name, *producer_version;
    /* GraphProto */
    ox_node *nodes;
    int n_nodes;
    ox_tensor *inits;
    int n_inits;
    ox_vinfo *inputs, *outputs, *vinfos;
    int n_inputs, n_outputs, n_vinfos;
    /* building */
    pp_graph *g;
    ox_value **vals; /* each in the arena: pointers to them stay valid */
    int n_vals, cap_vals;
    int *slots; /* hash: name → index into vals, -1 empty */
    size_t n_slots;
    const char **consumed; /* hash set of names some node or graph output reads */
    size_t n_consumed_slots;
    const char **batch_params; /* dim_params that mean the batch */
    int n_batch_params;
    int n_finished; /* nodes [0, n_finished) are folded or have shapes */
    int folded;
    int tmp_counter;
} ox_ctx;

/* A node being imported. */
typedef struct ox_nctx {
    ox_ctx *x;
    const ox_node *n;
    int index;               /* in the GraphProto */
    const char *name;        /* the node's name, or "<op>_<index>" */
    ox_value *in[PP_MAX_IO]; /* NULL for an absent input */
    int n_in;
    pp_code rc;  /* sticky: the first error a helper met */
    int n_extra; /* helper nodes and tensors made so far (for unique names) */
} ox_nctx;

/* ---- onnx_parse.c: the arena and ModelProto ------------------------------------ */
void *ox_alloc(ox_ctx *x, size_t n); /* zeroed; NULL + err on OOM */
char *ox_strdup(ox_ctx *x, const char *s);
char *ox_printf(ox_ctx *x, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void ox_arena_free(ox_arena *a);
/* A name from the file, made safe for a one-line message: control bytes become
 * '?', long names end in "...". */
const char *ox_safe(char *buf, size_t size, const char *s);
/* ModelProto (x->file) into x's records: nodes, initializers, inputs, outputs. */
pp_code ox_parse_model(ox_ctx *x);
pp_code ox_parse_tensor(ox_ctx *x, pp_pb_cursor cur, ox_tensor *t);
void ox_tensor_release(ox_tensor *t);

/* ---- onnx_weights.c ---------------------------------------------------------- */
/* Maps a whole file read-only. */
pp_code ox_map_file(const char *path, void **map, size_t *size, pp_error *err);
/* A TensorProto's bytes as a new graph weight named `name`; returns the id or -1. */
int ox_tensor_to_weight(ox_ctx *x, const ox_tensor *t, const char *name);

/* ---- onnx.c ------------------------------------------------------------------ */
ox_value *ox_lookup(ox_ctx *x, const char *name);
/* Binds an ONNX name to a graph tensor or a symval (replacing any binding). */
pp_code ox_bind_tensor(ox_ctx *x, const char *name, int tensor);
pp_code ox_bind_sym(ox_ctx *x, const char *name, const pp_symval *v);
int ox_is_consumed(ox_ctx *x, const char *name);
/* Folds or infers the shapes of every node added since the last call. */
pp_code ox_finish_pending(ox_ctx *x);

/* ---- onnx_ops.c -------------------------------------------------------------- */
/* 1 when the importer knows op_type in the default domain. */
int ox_op_known(const char *op_type);
/* Imports one node. */
pp_code ox_import_node(ox_nctx *c);

#endif

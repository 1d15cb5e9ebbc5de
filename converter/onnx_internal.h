/* onnx_internal.h: what the ONNX importer's files share: onnx_parse.c
 * (ModelProto), onnx_weights.c (tensors, external data), onnx.c (the import
 * driver), onnx_attrs.c (what every handler uses), onnx_ops.c and
 * onnx_ops_data.c (one handler per ONNX op), onnx_sym.c (shape values). Not
 * part of the importer's face (onnx.h). */
#ifndef PP_ONNX_INTERNAL_H
#define PP_ONNX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/graph.h"
#include "../engine/ops.h"
#include "fold.h"
#include "onnx.h"
#include "protobuf.h"
#include "symval.h"

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
    OX_SYM = 1,    /* a shape value that depends on the symbols, not (yet) in the graph */
} ox_kind;

typedef struct ox_value {
    const char *name;
    ox_kind kind;
    int tensor;    /* OX_TENSOR: graph tensor id; OX_SYM: the value as a tensor once
                      something used it as data (ox_materialize), else -1 */
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

/* ---- onnx_attrs.c: what every handler uses ------------------------------------ */
/* Sets err to "node 'NAME' (OP): <message>" (the first error of a node wins) and
 * returns the node's error. */
pp_code ox_fail(ox_nctx *c, pp_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Records an error some callee already put in err. */
pp_code ox_keep(ox_nctx *c, pp_code rc);
/* "node 'NAME' (OP)" into buf. */
const char *ox_what(ox_nctx *c, char *buf, size_t size);
int64_t ox_opset(ox_nctx *c);
/* Attributes: the default when absent; a wrong type is an error. */
const ox_attr *ox_attr_get(ox_nctx *c, const char *name);
const ox_attr *ox_attr_of(ox_nctx *c, const char *name, int64_t type, const char *tname);
int64_t ox_attr_i(ox_nctx *c, const char *name, int64_t def);
double ox_attr_f(ox_nctx *c, const char *name, double def);
const char *ox_attr_s(ox_nctx *c, const char *name, const char *def);
const int64_t *ox_attr_ints(ox_nctx *c, const char *name, size_t *n); /* NULL, *n = 0 when absent */
const float *ox_attr_floats(ox_nctx *c, const char *name, size_t *n);
/* Inputs. */
int ox_has_in(ox_nctx *c, int i);
pp_tensor *ox_tensor_of(ox_nctx *c, int i); /* NULL for an absent input or a shape value */
int ox_is_const(ox_nctx *c, int i);
const char *ox_in_name(ox_nctx *c, int i);
/* A data input's tensor id (a shape value becomes one), -1 when absent. */
int ox_data_in(ox_nctx *c, int i);
int ox_need_in(ox_nctx *c, int i, const char *role);
/* Elements of t (every extent fixed), or -1 with the error set. */
int ox_elements(ox_nctx *c, const pp_tensor *t, const char *what, size_t *n);
pp_code ox_const_values(ox_nctx *c, int i, const char *role, double **vals, size_t *n);
void ox_note_needs_const(ox_nctx *c, int t);
/* Parameter inputs: 1 when present and constant, 0 when absent, -1 (error set)
 * when computed at run time or (but for ox_param_sx) symbolic. Values live in
 * the import arena. */
int ox_param_check(ox_nctx *c, int i, const char *role);
int ox_param_ints(ox_nctx *c, int i, const char *role, int64_t **vals, size_t *n);
int ox_param_floats(ox_nctx *c, int i, const char *role, double **vals, size_t *n);
int ox_param_scalar(ox_nctx *c, int i, const char *role, double *out);
/* An integer parameter that may depend on the symbols: constants and program values. */
int ox_param_sx(ox_nctx *c, int i, const char *role, pp_sx **vals, size_t *n);
/* Input i as a shape value (a constant tensor qualifies): 0, or -1 with the error set. */
int ox_sym_in(ox_nctx *c, int i, pp_symval *out);
/* Outputs and nodes: each does nothing once the node has failed. */
int ox_out_t(ox_nctx *c, int j);            /* the tensor bound to ONNX output j */
int ox_tmp_t(ox_nctx *c, const char *what); /* a helper tensor */
int ox_tmp_weight(ox_nctx *c, const char *what, pp_dtype dt, int rank, const int64_t *dims, const void *data,
                  uint64_t nbytes);
int ox_emit(ox_nctx *c, pp_op op, int n_in, const int *in, int n_out, const int *out);
void ox_seti(ox_nctx *c, int node, const char *name, int64_t v);
void ox_setf(ox_nctx *c, int node, const char *name, double v);
void ox_sets(ox_nctx *c, int node, const char *name, const char *v);
void ox_setis(ox_nctx *c, int node, const char *name, const int64_t *v, size_t n);
void ox_setfs(ox_nctx *c, int node, const char *name, const double *v, size_t n);
/* INTS whose values may be program values (bound, docs/ir.md); a FLOAT likewise. */
void ox_setis_sx(ox_nctx *c, int node, const char *name, const pp_sx *v, size_t n);
void ox_seti_sx(ox_nctx *c, int node, const char *name, pp_sx v);
void ox_setf_sx(ox_nctx *c, int node, const char *name, pp_sx v);
void ox_copy_ints(ox_nctx *c, int node, const char *name);
/* Refuses a node whose outputs from keep_n on are read by something. */
void ox_only_outputs(ox_nctx *c, int keep_n);
/* The shape of a tensor made so far (every earlier node is finished first). */
const pp_tensor *ox_shape_of(ox_nctx *c, int id);

/* ---- onnx_sym.c: shape values ------------------------------------------------ */
/* Shape (size_only 0) and Size (1) of input 0, as shape values. */
pp_code ox_sym_shape(ox_nctx *c, int size_only);
/* The ONNX shape ops on shape values; *handled 0 when the node is not one (or
 * its result is no integer shape value: its handler then computes it as data). */
pp_code ox_sym_node(ox_nctx *c, int *handled);
/* A shape value as a tensor computed at run time (kept in v); -1 on error. */
int ox_materialize(ox_nctx *c, ox_value *v);

/* ---- onnx_ops.c, onnx_ops_data.c ----------------------------------------------- */
typedef pp_code (*ox_op_fn)(ox_nctx *c, pp_op op);
/* The data-movement handlers (onnx_ops_data.c) the table in onnx_ops.c names. */
// clang-format off
#define OX_DATA_OPS(X)                                                                                                 \
    X(identity) X(flatten) X(reshape) X(transpose) X(concat) X(split) X(slice) X(gather) X(squeeze) X(expand)         \
    X(tile) X(pad) X(resize) X(trilu) X(constant_of_shape) X(range) X(d2s) X(cumsum) X(constant) X(scatter_nd)
// clang-format on
#define OX_DECL(name) pp_code ox_op_##name(ox_nctx *c, pp_op op);
OX_DATA_OPS(OX_DECL)
#undef OX_DECL
/* 1 when the importer knows op_type in the default domain. */
int ox_op_known(const char *op_type);
/* Imports one node. */
pp_code ox_import_node(ox_nctx *c);

#endif

/* pt2_build.h: what the .pt2 importer's op handlers (pt2_ops.c) and its graph
 * walk (pt2_graph.c) share: the names the graph has bound so far, a node's
 * arguments decoded from the serialized ExportedProgram (torch's
 * torch/_export/serde/schema.py: Node, NamedArgument, Argument), tensor
 * metadata as IR shapes, and IR nodes and constants added to the graph.
 *
 * Symbolic extents come as sympy expressions ("Symbol('s77', ...)",
 * "Mul(Integer(4), Symbol('s77', ...))", or "4*s77" from older writers) over
 * the symbols that are user inputs' extents: those become IR symbols (the
 * leading extents the batch), the expressions shape program values
 * (pt2_sym.c). An extent k·batch is the IR's dim -k, any other a slot dim.
 *
 * Needs cJSON (PP_HAVE_CJSON); without it only pt2.c is built, refusing .pt2.
 */
#ifndef PP_PT2_BUILD_H
#define PP_PT2_BUILD_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "../engine/graph.h"
#include "checkpoint_table.h"
#include "onnx.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PT2_MAX_SYMS 16
#define PT2_MAX_LIST 64

/* A name the graph defined: a tensor, a tuple of tensors (a multi-output op),
 * or a slice view of another value (so that fill_ on a slice of a constant
 * can write the constant). */
typedef struct pt2_val {
    char *name; /* owned */
    int tensor; /* IR tensor id, -1 for a tuple */
    int *list;  /* owned: a tuple's IR tensor ids */
    int n_list;
    int base; /* view: index of the viewed value in vals, -1 when not a view */
    int n_slices;
    struct {
        int axis;
        int64_t start, end, step;
    } slices[PP_MAX_RANK];
} pt2_val;

/* An archive symbol (s77) of a user input's extent: IR symbol `ir`, or (ir < 0)
 * bound to `value` by --dim. */
typedef struct pt2_sym {
    char name[64];
    int ir;
    int64_t value;
} pt2_sym;

typedef struct pt2_ctx {
    pp_graph *g;
    const cJSON *tensor_values;  /* name -> TensorMeta */
    const cJSON *sym_int_values; /* name -> SymInt */
    const cJSON *ranges;         /* range_constraints: symbol -> {min_val, max_val} */
    const pp_onnx_dim *dims;     /* --dim ranges (borrowed) */
    int n_dims;
    char batch_syms[PT2_MAX_SYMS][64]; /* the symbols that are the batch ("s77") */
    int n_batch_syms;
    pt2_sym syms[PT2_MAX_SYMS];
    int n_syms;
    const pp_ckpt *weights, *constants; /* parameters and buffers; tensor constants */
    pt2_val *vals;
    int n_vals, cap_vals;
    int *hash; /* open addressing over vals by name; -1 empty */
    int hash_cap;
    pp_error *err;
} pt2_ctx;

/* One node being imported. */
typedef struct pt2_node {
    pt2_ctx *x;
    const cJSON *inputs;  /* NamedArgument[] */
    const cJSON *outputs; /* Argument[] */
    const char *target;   /* "aten.conv2d.default" ("torch.ops." dropped) */
    const char *name;     /* the first output's name, naming IR nodes and messages */
} pt2_node;

/* ---- values --------------------------------------------------------------- */

pt2_val *pt2_lookup(pt2_ctx *x, const char *name);
/* Binds name to an IR tensor (rebinding it when it exists: in-place ops). */
pp_code pt2_define(pt2_ctx *x, const char *name, int tensor);
pp_code pt2_define_list(pt2_ctx *x, const char *name, const int *ids, int n);
void pt2_ctx_free(pt2_ctx *x);

/* ---- errors -------------------------------------------------------------- */

/* "node 'NAME' (TARGET): <fmt>" into n->x->err; returns code. */
pp_code pt2_fail(pt2_node *n, pp_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- arguments (by their schema name) -------------------------------------- */

/* The Argument named `name`, or NULL when the node does not pass it. */
const cJSON *pt2_arg(const pt2_node *n, const char *name);
int pt2_arg_is_none(const cJSON *arg);
/* A tensor argument's IR id; -1 when absent or None and optional, else an error. */
pp_code pt2_tensor_arg(pt2_node *n, const char *name, int optional, int *id);
/* Tensor list (as_tensors, or as_optional_tensors with Nones as -1). */
pp_code pt2_tensors_arg(pt2_node *n, const char *name, int *ids, int max, int *count);
pp_code pt2_int_arg(pt2_node *n, const char *name, int64_t def, int64_t *v);
/* as_ints / as_sym_ints (constant elements) / a single as_int (count 1). */
pp_code pt2_ints_arg(pt2_node *n, const char *name, int64_t *v, int max, int *count);
/* An integer that may be symbolic (as_int / as_sym_int); def when absent or None. */
pp_code pt2_sx_arg(pt2_node *n, const char *name, pp_sx def, pp_sx *v);
pp_code pt2_float_arg(pt2_node *n, const char *name, double def, double *v);
pp_code pt2_bool_arg(pt2_node *n, const char *name, int def, int *v);
/* as_string, or def when absent or None. */
const char *pt2_string_arg(pt2_node *n, const char *name, const char *def);
/* 1 and *v when the argument is a number (as_int / as_float / constant sym). */
int pt2_scalar_arg(pt2_node *n, const char *name, double *v);

/* ---- shapes ----------------------------------------------------------------- */

/* The symbols of the user inputs' extents (input_specs) as IR symbols, with
 * torch's ranges narrowed by x->dims; an unknown --dim is an error. */
pp_code pt2_symbols_init(pt2_ctx *x, const cJSON *input_specs);
/* A symbolic expression as a constant or a shape program value; `what` names it. */
pp_code pt2_expr(pt2_ctx *x, const char *expr, const char *what, pp_sx *out);
/* The SymInt `name` (sym_int_values). */
pp_code pt2_sym_name(pt2_ctx *x, const char *name, pp_sx *out);
/* A value as an IR dim: a constant, -k for k·batch, else its slot. */
pp_code pt2_dim_of(pt2_ctx *x, pp_sx v, const char *what, int64_t *dim);
/* 1 when dim is a constant, the batch or one symbol alone (what an input may have). */
int pt2_dim_is_symbol(const pt2_ctx *x, int64_t dim);
/* A tensor's dtype, rank and IR dims from its TensorMeta. */
pp_code pt2_meta(pt2_ctx *x, const char *name, pp_dtype *dt, int *rank, int64_t *dims);
/* A JSON number as an int64 (saturating: torch writes 2^63 - 1 for open ends). */
int64_t pt2_json_i64(double d);
/* The dtype of a ScalarType code, PP_DTYPE_INVALID when the engine lacks it. */
pp_dtype pt2_dtype(int64_t scalar_type);

/* ---- building ----------------------------------------------------------------- */

/* A node with one new activation output named n->name (suffix "": the node's
 * own output; else "NAME.suffix"); the output id, or -1 (err set). */
int pt2_add(pt2_node *n, pp_op op, const char *suffix, int n_in, const int *in, int *node_id);
/* The status after a failed add (-1): err's code, or out of memory. */
pp_code pt2_rc(pt2_node *n);
/* Binds output i (as_tensor) of the node to tensor id. */
pp_code pt2_bind_output(pt2_node *n, int i, int tensor);
/* A constant the graph owns (copied); its id or -1. */
int pt2_const(pt2_ctx *x, const char *name, pp_dtype dt, int rank, const int64_t *dims, const void *data);
/* A rank-0 constant of dtype dt holding v. */
int pt2_scalar(pt2_node *n, const char *suffix, double v, pp_dtype dt);
/* Node attributes; the first failure is kept in *rc. */
void pt2_set_int(pt2_node *n, int nd, const char *attr, int64_t v, pp_code *rc);
void pt2_set_float(pt2_node *n, int nd, const char *attr, double v, pp_code *rc);
void pt2_set_ints(pt2_node *n, int nd, const char *attr, const int64_t *v, int count, pp_code *rc);
/* An INTS attribute (is_float: one FLOAT) whose values may be shape program slots. */
void pt2_set_sx(pt2_node *n, int nd, const char *attr, const pp_sx *v, int count, int is_float, pp_code *rc);

/* ---- node helpers (the op handlers' common steps) ------------------------------------ */

/* Returns from the calling function when x is not PP_OK. */
#define PT2_TRY(x)                                                                                                     \
    do {                                                                                                               \
        pp_code rc_ = (x);                                                                                             \
        if (rc_) return rc_;                                                                                           \
    } while (0)

/* The metadata of the node's tensor argument `arg`, or of its own first output. */
pp_code pt2_arg_meta(pt2_node *n, const char *arg, pp_dtype *dt, int *rank, int64_t *dims);
pp_code pt2_out_meta(pt2_node *n, pp_dtype *dt, int *rank, int64_t *dims);
/* The node's output extents as symbolic scalars. */
pp_code pt2_out_sx(pt2_node *n, int *rank, pp_sx *dims);
/* The name of the tensor argument `arg`, or NULL. */
const char *pt2_arg_tensor_name(pt2_node *n, const char *arg);
/* A negative axis counted from the end. */
static inline int pt2_norm_axis(int64_t a, int rank) { return (int)(a < 0 ? a + rank : a); }
/* The node's result is one IR op on in: added and bound to output 0; *nd_out its node. */
pp_code pt2_simple(pt2_node *n, pp_op op, int n_in, const int *in, int *nd_out);
/* 1 when base is name or its in-place form name_ ("relu", "relu_"). */
int pt2_base_is(const char *base, const char *name);

#ifdef __cplusplus
}
#endif
#endif

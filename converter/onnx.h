/* onnx.h: the ONNX importer's face. An .onnx file (ModelProto) read into the
 * engine's IR (engine/graph.h).
 *
 * What it does, in order:
 *   - maps the file and walks its protobuf (converter/protobuf.h); every length,
 *     count and index is checked, so a malformed file gives an error, never a
 *     crash; errors name the message, field and byte offset, or the node;
 *   - checks the opsets: the default domain at versions 1..21 (the legacy forms
 *     before opset 7 that torch and ONNX's tests use are translated: binary
 *     ops' `broadcast`/`axis`, Softmax's 2-D coercion, Reshape's and Cast's
 *     attributes; the rest are refused by name); a node in any other domain
 *     is unsupported;
 *   - lists every op type it cannot import before doing anything else, so one
 *     error names them all ("unsupported ONNX ops: Foo ×3 (first 'n1'), ...");
 *   - turns initializers and Constant nodes into weights (zero copy from the
 *     mapping where the bytes are aligned for their dtype, copied otherwise),
 *     graph inputs into inputs with a symbolic batch axis, and each node into IR
 *     nodes, parameter inputs (Reshape shape, Slice starts, ...) into attributes
 *     (docs/ir.md);
 *   - folds, while importing, every node whose inputs are all constant (through
 *     the engine's CPU kernels, engine/eval.h) and the batch-dependent shape
 *     arithmetic torch exports (Shape → Gather → Unsqueeze → Concat → Reshape),
 *     so the graph runs at any batch size (converter/fold.h, docs/converter.md).
 *
 * Symbols: a graph input whose first dimension is a dim_param (or has no value)
 * gets the batch there (PP_DIM_BATCH); the same dim_param anywhere else is the
 * batch too. Every other dim_param is a symbol of the graph (engine/symbols.h)
 * with the range pp_onnx_options.dims gives it (1..unbounded otherwise), unless
 * dims binds it to one extent.
 */
#ifndef PP_ONNX_H
#define PP_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/graph.h"
#include "../loader/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A graph input replaced by constant data (ppconvert --const NAME=FILE.npy):
 * it becomes a weight, so a Reshape shape or Slice start fed from it folds. */
typedef struct pp_onnx_const {
    const char *name; /* graph input name (borrowed) */
    pp_dtype dtype;
    int rank;
    int64_t dims[PP_MAX_RANK];
    const void *data; /* borrowed; the importer copies it */
    uint64_t nbytes;
} pp_onnx_const;

/* A dim_param given a range of values (ppconvert --dim seq=1..512), or bound
 * to one extent (--dim seq=128: then it is no symbol at all). "batch" names the
 * batch (every dim_param on axis 0) whatever its name. */
typedef struct pp_onnx_dim {
    const char *name; /* borrowed */
    int64_t value;    /* the extent, or the range's min */
    int64_t max;      /* the range's max; below value (0 when unset) means value alone */
} pp_onnx_dim;

typedef struct pp_onnx_options {
    const pp_onnx_const *consts;
    int n_consts;
    const pp_onnx_dim *dims;
    int n_dims;
    int copy_weights; /* 1: the graph owns every weight, nothing borrows the mapping */
    int no_fold;      /* 1: keep all-constant nodes as nodes (debugging) */
    /* When not NULL and an import fails because a parameter input (a Reshape
     * shape, ...) is computed from a graph input, that input's name is written
     * here (NUL-terminated, cut to needs_const_size), so a caller holding data
     * for it can bind it with `consts` and retry (the conformance runner does). */
    char *needs_const;
    size_t needs_const_size;
} pp_onnx_options;

typedef struct pp_onnx_info {
    int64_t ir_version;
    int64_t opset;                /* default domain */
    const char *producer_name;    /* owned by the handle; "" when absent */
    const char *producer_version; /* likewise */
    int onnx_nodes;               /* NodeProtos in the graph */
    int folded;                   /* nodes evaluated at import (constants and shape arithmetic) */
    uint64_t borrowed_bytes;      /* weight bytes the graph borrows from the handle's mappings */
} pp_onnx_info;

/* The importer's handle: it keeps the file's mapping (and any external data
 * files' mappings) alive, because the graph's weights may point into them. Free
 * it only after the graph is freed or written. */
typedef struct pp_onnx pp_onnx;

/* Imports path. On success *graph is a new graph (free with pp_graph_free) whose
 * activation shapes are inferred, and *handle owns the mappings it may borrow
 * from (free with pp_onnx_free, after the graph). External data is looked up in
 * path's folder. On failure both are NULL and err names the problem. opt may be
 * NULL. */
pp_code pp_onnx_import(const char *path, const pp_onnx_options *opt, pp_onnx **handle, pp_graph **graph, pp_error *err);

/* The same over caller memory, which must outlive the handle. dir is the folder
 * external data is resolved against; NULL refuses external data. */
pp_code pp_onnx_import_memory(const void *data, size_t size, const char *dir, const pp_onnx_options *opt,
                              pp_onnx **handle, pp_graph **graph, pp_error *err);

const pp_onnx_info *pp_onnx_get_info(const pp_onnx *h);
void pp_onnx_free(pp_onnx *h);

/* A standalone serialized TensorProto (ONNX test data: input_0.pb). */
typedef struct pp_onnx_tensor {
    char *name; /* owned; "" when the file has none */
    pp_dtype dtype;
    int rank;
    int64_t dims[PP_MAX_RANK];
    void *data; /* owned (pp_malloc), nbytes long */
    uint64_t nbytes;
} pp_onnx_tensor;

/* Reads one TensorProto from memory (external data refused). *out is zeroed on
 * failure. */
pp_code pp_onnx_tensor_read(const void *buf, size_t size, pp_onnx_tensor *out, pp_error *err);
void pp_onnx_tensor_free(pp_onnx_tensor *t);

/* ONNX TensorProto.DataType → pp_dtype; PP_DTYPE_INVALID for a type the engine
 * has no dtype for. */
pp_dtype pp_onnx_dtype(int64_t onnx_type);
/* The ONNX DataType's name ("FLOAT", "STRING", ...), "?" when unknown. */
const char *pp_onnx_dtype_name(int64_t onnx_type);

#ifdef __cplusplus
}
#endif
#endif

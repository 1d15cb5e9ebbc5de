/* convert.h: the converter's face and front door. A foreign model file to a
 * graph.bin; the format is read from the file's first bytes, not its name:
 *
 *   ONNX:        import (onnx.h) → constant folding (fold.h) → dead-node
 *                elimination → graph passes (passes.h) → shape inference
 *   checkpoints: tensors (checkpoint.h) → an architecture builds the graph
 *   then:        metadata → stored precision → pp_graph_write
 *
 * The write goes through a temporary file and a rename: on any failure nothing
 * is left under the output path.
 */
#ifndef PP_CONVERT_H
#define PP_CONVERT_H

#include <stdint.h>

#include "../engine/graph.h"
#include "../loader/error.h"
#include "onnx.h"
#include "passes.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PP_CONVERT_VERSION "0.1.0"

/* What a file is, from its first bytes (names lie; a sharded safetensors index
 * is the one format known by its name). */
typedef enum pp_source_format {
    PP_SRC_UNKNOWN = 0, /* unreadable: the importer that tries it says why */
    PP_SRC_ONNX,
    PP_SRC_CHECKPOINT, /* torch.save zip or pickle, .safetensors, *.safetensors.index.json */
    PP_SRC_GRAPHBIN,
    PP_SRC_PT2, /* torch.export.save archive (pt2.h) */
} pp_source_format;

pp_source_format pp_source_sniff(const char *path);

typedef struct pp_convert_options {
    const char *input;           /* model.onnx, model.pth, model.safetensors */
    const char *output;          /* graph.bin; NULL: convert and check, write nothing */
    pp_dtype dtype;              /* how weights are stored: F32 (or INVALID, the same), F16 or BF16 */
    const pp_onnx_const *consts; /* graph inputs bound to constant data (borrowed) */
    int n_consts;
    const pp_onnx_dim *dims; /* dim_params bound to extents (borrowed) */
    int n_dims;
    const char *arch;      /* checkpoints: "resnet50", "auto:input=32", ... (checkpoint.h); NULL = auto */
    const char *arch_file; /* checkpoints: an architecture description file, or NULL */
    /* Called with the final graph just before it is written (a tool's -v
     * listing); may be NULL. */
    void (*inspect)(const pp_graph *g, void *arg);
    void *inspect_arg;
    /* Called as graph.bin's bytes are written (a progress bar); may be NULL. */
    pp_progress_fn progress;
    void *progress_arg;
} pp_convert_options;

typedef struct pp_convert_stats {
    int onnx_nodes;     /* NodeProtos in the source */
    int nodes_imported; /* IR nodes after import (folded ones not counted) */
    int nodes_final;    /* IR nodes written */
    int folded;         /* nodes evaluated at conversion */
    int removed;        /* dead nodes dropped */
    int n_inputs, n_outputs;
    uint64_t params; /* weight elements */
    uint64_t weight_bytes;
    uint64_t bytes_written; /* size of graph.bin; 0 when not written */
    int64_t opset;
    double seconds;
    pp_source_format format;
    char architecture[256];           /* checkpoints: what was built, e.g. "resnet50 (bottleneck 3,4,6,3; ...)" */
    pp_pass_stat passes[PP_PASS_MAX]; /* graph passes in the order run (passes.h) */
    int n_passes;
} pp_convert_stats;

/* Imports, folds, prunes and infers, giving the graph the writer would write.
 * *handle keeps the source's mapping alive (the graph may borrow weights from
 * it): free the graph first, then pp_onnx_free(*handle). stats may be NULL. */
pp_code pp_convert_onnx_graph(const char *path, const pp_onnx_options *opt, pp_onnx **handle, pp_graph **graph,
                              pp_convert_stats *stats, pp_error *err);

/* The whole conversion, for any format pp_source_sniff knows. stats may be NULL. */
pp_code pp_convert(const pp_convert_options *opt, pp_convert_stats *stats, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

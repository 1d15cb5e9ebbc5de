/* pt2_graph.h: a serialized ExportedProgram's graph module (torch's
 * torch/_export/serde/schema.py: GraphModule) into an IR graph. */
#ifndef PP_PT2_GRAPH_H
#define PP_PT2_GRAPH_H

#include <cjson/cJSON.h>

#include "../engine/graph.h"
#include "checkpoint_table.h"
#include "onnx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Builds *out from graph_module: placeholders from the graph signature
 * (parameters and buffers from `weights`, lifted tensor constants from
 * `constants`, user inputs as graph inputs whose leading symbolic extent is the
 * batch, every other symbol of their extents an IR symbol with its range from
 * `ranges` (range_constraints) narrowed by `dims` (--dim)), then every node
 * through pt2_ops.h. ATen ops without a mapping are all
 * listed in one error, each with its first node. The graph borrows the tables'
 * tensors: they must outlive it. Shapes are not inferred here. */
pp_code pt2_graph_build(const cJSON *graph_module, const cJSON *ranges, const pp_onnx_dim *dims, int n_dims,
                        const pp_ckpt *weights, const pp_ckpt *constants, pp_graph **out, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

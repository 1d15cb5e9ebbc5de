/* pt2.h: torch.export archives (.pt2, torch.export.save) into graphs, without
 * Python and without executing anything (docs/converter.md, ".pt2").
 *
 *   x.pt2 (zip, stored entries)
 *     <root>/archive_format                  "pt2"
 *     <root>/models/model.json               the serialized ExportedProgram (cJSON)
 *     <root>/data/weights/model.pt           parameters and buffers: a torch.save zip (torch_ckpt.h)
 *     <root>/data/constants/model.pt         lifted tensor constants, non-persistent buffers
 *   torch before 2.7 wrote serialized_exported_program.json, serialized_state_dict.pt
 *   and serialized_constants.pt instead; both layouts are read.
 *
 * The JSON's schema version is checked (majors 5 to 8 are read; a newer one is
 * refused by name), the weights fill tensor tables (checkpoint_table.h), the
 * graph is mapped onto the IR (pt2_graph.h, pt2_ops.h) with torch.export's
 * symbols as IR symbols (pt2_sym.c), then folded, pruned, inferred and
 * optimised as an ONNX import is.
 *
 * Needs cJSON at build time, as safetensors does: without it every .pt2 is
 * refused with a message saying so.
 */
#ifndef PP_PT2_H
#define PP_PT2_H

#include <stddef.h>

#include "../engine/graph.h"
#include "../loader/error.h"
#include "onnx.h"
#include "passes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema majors this converter reads (torch 2.1 .. 2.8 write 5 .. 8). */
#define PP_PT2_SCHEMA_MIN 5
#define PP_PT2_SCHEMA_MAX 8

/* 1 when this build reads .pt2 (it found cJSON). */
int pp_pt2_available(void);

/* 1 when path is a zip archive that holds a serialized ExportedProgram. */
int pp_pt2_sniff(const char *path);

typedef struct pp_pt2_info {
    int nodes;           /* nodes in the ExportedProgram's graph */
    int nodes_imported;  /* IR nodes before folding */
    int folded, removed; /* nodes folded into constants; dead nodes dropped */
    int schema_major, schema_minor;
    char torch_version[32]; /* the writer's, "" when not recorded */
    pp_pass_stat passes[PP_PASS_MAX];
    int n_passes;
} pp_pt2_info;

/* What an import may be told: ranges for the archive's symbols (ppconvert
 * --dim s27=1..512; "batch" names the batch), each within torch's own range;
 * one value binds the symbol to that extent. */
typedef struct pp_pt2_options {
    const pp_onnx_dim *dims; /* borrowed */
    int n_dims;
} pp_pt2_options;

/* The whole import: on success *out is a new graph with inferred shapes that
 * keeps the archive's mapping and tables alive (weights are borrowed). info
 * may be NULL. Errors name the archive, the entry, the node or the tensor. */
pp_code pp_convert_pt2_graph(const char *path, pp_graph **out, pp_pt2_info *info, pp_error *err);
/* The same with options (NULL: none). */
pp_code pp_convert_pt2_graph_opt(const char *path, const pp_pt2_options *opt, pp_graph **out, pp_pt2_info *info,
                                 pp_error *err);
/* The same from bytes in memory (the fuzz target), which must outlive *out;
 * `what` names them in messages. */
pp_code pp_convert_pt2_memory(const void *data, size_t size, const char *what, pp_graph **out, pp_pt2_info *info,
                              pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

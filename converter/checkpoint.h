/* checkpoint.h: the front door for weights-only model files: picks the reader,
 * then the architecture, into a graph (docs/checkpoints.md).
 *
 *   model.pt / model.pth (torch.save zip)   → torch_ckpt.h (zip.h + pickle.h)
 *   model.safetensors, *.index.json shards   → safetensors.h
 *        │ a set of named tensors (pp_ckpt, checkpoint_table.h): contiguous, little-endian
 *        ▼
 *   arch.h: an architecture (given, detected from the keys, or an arch file)
 *        │ builds the IR graph, checking every key and shape
 *        ▼
 *   pp_graph (shapes inferred), ready for the passes and the writer
 *
 * No Python and no code execution: the pickle is run by a machine that only
 * builds values and refuses every global outside a small allow-list.
 */
#ifndef PP_CHECKPOINT_H
#define PP_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../engine/graph.h"
#include "../loader/error.h"
#include "checkpoint_table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opens a .pt/.pth (torch.save zip), .safetensors, or a sharded
 * *.safetensors.index.json, by content (the zip or safetensors header), not by
 * name. On success *out is a new set (free with pp_ckpt_free). Refused, with a
 * message naming the reason: the legacy (pre-1.6) torch format, TorchScript
 * archives, compressed entries, disallowed pickle globals, tensors that do not
 * fit their storage, duplicate names. */
pp_code pp_ckpt_open(const char *path, pp_ckpt **out, pp_error *err);
/* Converts a checkpoint into a graph.
 *   arch: "FAMILY[:OPT=VAL,...]" (docs/checkpoints.md): "resnet50", "resnet:input=32,strides=1/2/1",
 *         "mlp:act=relu/gelu", "vgg16_bn", ...; NULL, "" or "auto" (options allowed: "auto:input=32")
 *         detect the family and depth from the keys.
 *   arch_file: an architecture description file (docs/checkpoints.md); when
 *         given it is used instead of a family and arch may only carry options.
 * On success *out is a new graph with inferred shapes that keeps the
 * checkpoint alive (tensors used as stored are borrowed from it, not copied;
 * folded ones are the graph's own) and `detected` (when not NULL) holds what was built, e.g.
 * "resnet50 (bottleneck 3,4,6,3; groups 1; width 64)". */
pp_code pp_convert_checkpoint(const char *path, const char *arch, const char *arch_file, pp_graph **out, char *detected,
                              size_t n, pp_error *err);

/* Lists a .pt/.pth/.safetensors file: format, then one line per tensor (name,
 * dtype, shape, bytes), then the architecture detected from the keys. */
pp_code pp_inspect_file(const char *path, FILE *out, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

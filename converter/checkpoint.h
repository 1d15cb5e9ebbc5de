/* checkpoint.h: weights-only model files into graphs (docs/checkpoints.md).
 *
 *   model.pt / model.pth (torch.save zip)   → torch_ckpt.h (zip.h + pickle.h)
 *   model.safetensors, *.index.json shards   → safetensors.h
 *        │ a set of named tensors (pp_ckpt): contiguous, little-endian
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

#ifdef __cplusplus
extern "C" {
#endif

/* One tensor of a checkpoint, C order, little-endian, contiguous. */
typedef struct pp_ckpt_tensor {
    char *name;            /* owned; DataParallel's "module." prefix stripped */
    pp_dtype dtype;        /* int16 storages are widened to I32 */
    const char *src_dtype; /* static: the file's own name for it ("F16", "float32", ...) */
    int rank;
    int64_t dims[PP_MAX_RANK];
    const void *data; /* nbytes: borrowed from a mapping the pp_ckpt holds, or == owned */
    uint64_t nbytes;
    void *owned; /* a copy when the file's bytes were strided, big-endian or unaligned */
} pp_ckpt_tensor;

typedef struct pp_ckpt_map {
    void *addr;
    size_t size;
} pp_ckpt_map;

typedef struct pp_ckpt {
    pp_ckpt_tensor *tensors; /* owned, in file order (pickle / header order) */
    int n, cap;
    pp_ckpt_map *maps; /* owned mappings the tensors borrow from */
    int n_maps;
    int *sorted;         /* owned: tensor indices sorted by name (pp_ckpt_index), or NULL */
    int n_sorted;        /* == n while the index is current */
    char format[48];     /* "torch zip", "safetensors", "safetensors (3 shards)" */
    char nested[32];     /* "state_dict" when the tensors sat under that key, else "" */
    int stripped_module; /* 1 when "module." prefixes were removed */
} pp_ckpt;

/* Limits on untrusted files. */
#define PP_CKPT_MAX_TENSORS (1 << 20)

/* Opens a .pt/.pth (torch.save zip), .safetensors, or a sharded
 * *.safetensors.index.json, by content (the zip or safetensors header), not by
 * name. On success *out is a new set (free with pp_ckpt_free). Refused, with a
 * message naming the reason: the legacy (pre-1.6) torch format, TorchScript
 * archives, compressed entries, disallowed pickle globals, tensors that do not
 * fit their storage, duplicate names. */
pp_code pp_ckpt_open(const char *path, pp_ckpt **out, pp_error *err);
void pp_ckpt_free(pp_ckpt *c);
/* The tensor named `name`, or NULL: a binary search when the index is
 * current, else a scan. */
const pp_ckpt_tensor *pp_ckpt_find(const pp_ckpt *c, const char *name);
/* (Re)builds the name index; refuses duplicate names, naming one. */
pp_code pp_ckpt_index(pp_ckpt *c, const char *what, pp_error *err);

/* Appends a tensor (used by the readers). name is copied; owned (may be NULL)
 * passes to the set (freed on failure too). Duplicates are found by
 * pp_ckpt_index, which pp_ckpt_open runs. */
pp_code pp_ckpt_add(pp_ckpt *c, const char *name, pp_dtype dtype, const char *src_dtype, int rank, const int64_t *dims,
                    const void *data, uint64_t nbytes, void *owned, pp_error *err);
/* Maps path read-only into c (the mapping lives until pp_ckpt_free). */
pp_code pp_ckpt_map_file(pp_ckpt *c, const char *path, const uint8_t **data, size_t *size, pp_error *err);

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

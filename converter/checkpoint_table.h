/* checkpoint_table.h: the tensor table every checkpoint reader fills and
 * every architecture builds from (docs/checkpoints.md). A leaf: it knows no
 * reader and no builder.
 *
 *   readers (torch_ckpt.h, safetensors.h, pt2.h) ──> pp_ckpt ──> builders (arch.h)
 *
 * A table holds named tensors, C order, little-endian, contiguous, and the
 * mappings they borrow from.
 */
#ifndef PP_CHECKPOINT_TABLE_H
#define PP_CHECKPOINT_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "../include/ppformat.h"
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

/* s made printable for a message (control bytes as '?', cut with "..." to
 * fit n); returns buf. Keys come from untrusted files. */
const char *pp_ckpt_printable(char *buf, size_t n, const char *s);

#ifdef __cplusplus
}
#endif
#endif

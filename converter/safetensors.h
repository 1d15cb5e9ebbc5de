/* safetensors.h: .safetensors files and sharded *.index.json sets into a
 * pp_ckpt (formats.md §2; docs/checkpoints.md).
 *
 * A file is a u64 little-endian N, N bytes of JSON (parsed with cJSON), then
 * the data buffer. Checked: N <= 100,000,000 and 8 + N <= file size; the JSON
 * starts with '{' (after optional whitespace) and is one object; every entry
 * has a known dtype, a shape of non-negative integers (rank <= PP_MAX_RANK) and
 * data_offsets [BEGIN, END]; __metadata__ maps strings to strings; names are
 * unique; sorted by offset the entries tile the buffer exactly (no holes, no
 * overlaps), END - BEGIN == numel × element size, and 8 + N + last END == file
 * size. Offsets above 2^53 are refused (JSON numbers are doubles in cJSON).
 */
#ifndef PP_SAFETENSORS_H
#define PP_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint_table.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PP_SAFETENSORS_MAX_HEADER 100000000u

/* 1 when this build reads safetensors (it found cJSON); 0 and every load is
 * refused with a message otherwise. */
int pp_safetensors_available(void);

/* 1 when the bytes start like a safetensors file (a plausible length, then '{'). */
int pp_safetensors_sniff(const uint8_t *data, size_t size);

/* Adds the tensors of the file in [data, data + size) to c (the buffer must
 * outlive c). `what` names the file in messages. */
pp_code pp_safetensors_load(pp_ckpt *c, const uint8_t *data, size_t size, const char *what, pp_error *err);

/* A sharded checkpoint: path is the *.index.json whose "weight_map" maps each
 * tensor name to a shard file in the same folder (plain file names only). Each
 * shard is mapped into c and loaded; every weight_map entry must be found in
 * its shard, and no tensor may appear twice. */
pp_code pp_safetensors_load_index(pp_ckpt *c, const char *path, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

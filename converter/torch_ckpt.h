/* torch_ckpt.h: torch.save zip archives (.pt/.pth) into a pp_ckpt
 * (formats.md §1; docs/checkpoints.md).
 *
 * The archive is read in place (zip.h), data.pkl is run by the safe
 * unpickler (pickle.h), and the state dict found in the result: the top value
 * itself, or its "state_dict", "model" or "model_state_dict" entry. Each tensor
 * is checked against its storage (data/<key>): offset + extent must fit the
 * storage's bytes. Contiguous, aligned little-endian tensors are zero-copy
 * views of the mapping; strided views are gathered, big-endian archives
 * (the `byteorder` record) byte-swapped, int16 widened to int32.
 *
 * Refused, by name: the legacy (pre-1.6) format (a bare pickle starting with
 * the magic number, or a tar), TorchScript archives (constants.pkl, code/),
 * compressed entries.
 */
#ifndef PP_TORCH_CKPT_H
#define PP_TORCH_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint_table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The tensors' bytes may add up to at most this many times the file's size
 * (plus 64 MiB): views with stride 0 or overlapping views repeat storage
 * bytes, and would otherwise let a small file ask for any amount of memory. */
#define PP_TORCH_AMPLIFICATION 4

/* 1 when the bytes look like a torch file of any kind (zip, legacy pickle or tar). */
int pp_torch_sniff(const uint8_t *data, size_t size);

/* Adds the tensors of the archive in [data, data + size) to c. The buffer must
 * outlive c (it is normally a mapping c holds). `what` names the file. */
pp_code pp_torch_load(pp_ckpt *c, const uint8_t *data, size_t size, const char *what, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

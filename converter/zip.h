/* zip.h: a read-only ZIP reader over a memory buffer (an mmapped file), enough
 * for torch.save archives (docs/checkpoints.md; formats.md §1.1).
 *
 * What it reads: the end-of-central-directory record (searched backwards over at
 * most 64 KiB + 22 bytes), the ZIP64 locator and end record when present, every
 * central-directory entry (with its ZIP64 extra field), and each entry's local
 * header, whose name and extra lengths give where the data starts
 * (offset + 30 + name len + extra len). Sizes come from the central directory,
 * never from the local header (torch writes 0 there and a data descriptor
 * after). Every offset and length is checked against the buffer before use;
 * slices are zero-copy pointers into it. CRCs are not checked (torch can skip
 * them). Only STORED (method 0) entries can be read: a compressed entry is
 * refused by name when it is asked for.
 */
#ifndef PP_ZIP_H
#define PP_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "../loader/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_zip_entry {
    char *name;           /* owned, NUL-terminated (a name holding NUL is refused) */
    uint64_t data_offset; /* where the entry's bytes start in the buffer */
    uint64_t size;        /* compressed size (== stored size for method 0) */
    uint64_t usize;       /* uncompressed size */
    uint16_t method;      /* 0 stored, 8 deflate, ... */
} pp_zip_entry;

typedef struct pp_zip {
    const uint8_t *base; /* borrowed: the caller's buffer, which must outlive the pp_zip */
    size_t size;
    char what[128];        /* the file's name, for messages */
    pp_zip_entry *entries; /* owned, n_entries, in central-directory order */
    int n_entries;
    char *prefix; /* owned: the first entry's name up to its first '/', "" when it has none */
} pp_zip;

#define PP_ZIP_MAX_ENTRIES (1 << 20)

/* Parses the archive in [data, data + size). `what` names the file in
 * messages. On failure *z is left empty (pp_zip_close is still safe). */
pp_code pp_zip_open(const void *data, size_t size, const char *what, pp_zip *z, pp_error *err);
void pp_zip_close(pp_zip *z);

/* The entry named exactly `name`, or NULL. */
const pp_zip_entry *pp_zip_find(const pp_zip *z, const char *name);
/* The entry `<prefix>/<rec>` (torch's record names: "data.pkl", "data/0"), or NULL. */
const pp_zip_entry *pp_zip_find_record(const pp_zip *z, const char *rec);

/* The bytes of e, zero-copy. Refuses compressed entries, naming them:
 *   "archive.pt: entry 'x/data/0' is compressed (method 8); torch.save writes stored entries" */
pp_code pp_zip_entry_data(const pp_zip *z, const pp_zip_entry *e, const uint8_t **data, uint64_t *size, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

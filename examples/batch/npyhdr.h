/* npyhdr.h: .npy headers, parsed and written, for ppbatch.
 *
 * Only the header: ppbatch memory-maps the data that follows and writes its
 * output chunk by chunk. Little-endian, C order; the element types are the
 * public API's (pp_elem_type). The writer produces NumPy's own layout (format
 * 1.0, the dict padded with spaces and '\n' to a multiple of 64 bytes), byte for
 * byte the same header as `ppengine run` writes.
 */
#ifndef PP_EXAMPLE_NPYHDR_H
#define PP_EXAMPLE_NPYHDR_H

#include <stddef.h>
#include <stdint.h>

#include <ppengine.h>

typedef struct pp_npyhdr {
    pp_elem_type type;
    int rank;
    int64_t dims[PP_MAX_DIMS];
    size_t data_offset; /* where the data starts in the file */
} pp_npyhdr;

/* Parses the header at the start of buf (size bytes: the whole file, or at least
 * the header). Returns 0, or -1 with a message naming the byte or field in err. */
int pp_npyhdr_parse(const uint8_t *buf, size_t size, pp_npyhdr *h, char *err, size_t errlen);
/* Writes the header for (type, rank, dims) into out (cap bytes); returns its
 * length, a multiple of 64, or 0 if the type has no .npy descr or cap is short. */
size_t pp_npyhdr_format(pp_elem_type type, int rank, const int64_t *dims, char *out, size_t cap);
/* Bytes of one element, 0 for an unknown type. */
size_t pp_elem_size(pp_elem_type type);
/* "f32", "i64", ...: for messages. */
const char *pp_elem_name(pp_elem_type type);

#endif

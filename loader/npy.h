/* npy.h: NumPy .npy files (format versions 1.0, 2.0 and 3.0), read and written.
 * Supported: little-endian f32, f16, i64, i32, bool, u8, i8; C order only.
 * Anything else (f64, big endian, Fortran order, object arrays) is refused with
 * its descr named. */
#ifndef PP_NPY_H
#define PP_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "../include/ppformat.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_npy {
    pp_dtype dtype;
    int rank;
    int64_t dims[PP_MAX_RANK];
    void *data; /* owned: nbytes bytes, C order; free with pp_npy_free */
    size_t nbytes;
} pp_npy;

/* Reads path into *out (zeroed on failure). Errors name the file and the byte
 * offset or header field at fault. */
pp_code pp_npy_read(const char *path, pp_npy *out, pp_error *err);
/* The same over a memory buffer (the data is copied into *out). */
pp_code pp_npy_read_memory(const void *buf, size_t size, const char *what, pp_npy *out, pp_error *err);
void pp_npy_free(pp_npy *a);

/* Reads only path's header into *out (data NULL, nbytes the data's size, checked
 * against the file's size) and where the data starts, for reading rows on demand. */
pp_code pp_npy_read_header(const char *path, pp_npy *out, uint64_t *data_offset, pp_error *err);
/* Reads rows [first, first + count) of axis 0 of the array whose header
 * pp_npy_read_header returned, into dst (count × the bytes of one row). */
pp_code pp_npy_read_rows(const char *path, const pp_npy *header, uint64_t data_offset, int64_t first, int64_t count,
                         void *dst, pp_error *err);

/* The .npy preamble NumPy would write for this array (magic, version 1.0, the
 * dict padded to a multiple of 64 bytes) into head; its length, or 0 when the
 * dtype has no .npy spelling. For writers that stream the data themselves. */
#define PP_NPY_HEADER_MAX 320
size_t pp_npy_header(pp_dtype dtype, int rank, const int64_t *dims, char *head);

/* Writes a .npy through a temporary file in the same folder, then renames it. */
pp_code pp_npy_write(const char *path, pp_dtype dtype, int rank, const int64_t *dims, const void *data, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

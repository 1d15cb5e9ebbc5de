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

/* Writes a .npy through a temporary file in the same folder, then renames it. */
pp_code pp_npy_write(const char *path, pp_dtype dtype, int rank, const int64_t *dims, const void *data, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

/* checked.h: overflow-checked integer arithmetic, for every extent, stride, pad,
 * count and byte size that comes from a file.
 *
 * A graph.bin, an ONNX model, a checkpoint or a .npy may hold any value, and
 * signed overflow is undefined behaviour: sums and products of such values go
 * through these helpers, and the caller refuses the input with a message naming
 * what it read (node, attribute, value). Each returns 0 and sets *out, or -1
 * when the exact result does not fit (*out is then unspecified).
 *
 * The loader, the engine and the converter all include this one header.
 */
#ifndef PP_CHECKED_H
#define PP_CHECKED_H

#include <stddef.h>
#include <stdint.h>

static inline int pp_add_i64(int64_t a, int64_t b, int64_t *out) { return __builtin_add_overflow(a, b, out) ? -1 : 0; }
static inline int pp_sub_i64(int64_t a, int64_t b, int64_t *out) { return __builtin_sub_overflow(a, b, out) ? -1 : 0; }
static inline int pp_mul_i64(int64_t a, int64_t b, int64_t *out) { return __builtin_mul_overflow(a, b, out) ? -1 : 0; }

/* The product of rank extents, each of which must be >= 0; -1 when one is
 * negative or the product overflows. */
static inline int pp_numel_i64(const int64_t *dims, int rank, int64_t *out) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0 || pp_mul_i64(n, dims[i], &n)) return -1;
    *out = n;
    return 0;
}

static inline int pp_mul_size(size_t a, size_t b, size_t *out) { return __builtin_mul_overflow(a, b, out) ? -1 : 0; }
static inline int pp_add_size(size_t a, size_t b, size_t *out) { return __builtin_add_overflow(a, b, out) ? -1 : 0; }

#endif

/* error.h: errors as values, shared by every module.
 *
 * A fallible function returns a pp_code and, on failure, fills the caller's
 * pp_error with a one-line message naming what is at fault (section, byte offset,
 * tensor, node, axis, bytes, device). The library never prints, exits or aborts.
 */
#ifndef PP_ERROR_H
#define PP_ERROR_H

#include <stddef.h>

#include "checked.h" /* pp_mul_size, pp_add_size and the int64 helpers */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pp_code {
    PP_OK = 0,
    PP_ERR_INVALID_ARG = 1, /* a caller passed something impossible */
    PP_ERR_IO = 2,          /* open, read, write, mmap, rename */
    PP_ERR_FORMAT = 3,      /* a file is malformed or corrupt */
    PP_ERR_UNSUPPORTED = 4, /* well-formed but beyond what we implement */
    PP_ERR_SHAPE = 5,       /* shapes or dtypes do not agree */
    PP_ERR_NOMEM = 6,       /* an allocation failed */
    PP_ERR_DEVICE = 7,      /* a device is missing or failed */
    PP_ERR_CANCELLED = 8,   /* a run was cancelled */
    PP_ERR_INTERNAL = 9,    /* a bug: an invariant did not hold */
    PP_ERR_DEADLINE = 10,   /* a batched request's deadline passed before it ran */
    PP_ERR_OVERLOADED = 11, /* a batcher's queue is full */
} pp_code;

#define PP_ERROR_MSG_MAX 512

typedef struct pp_error {
    pp_code code;
    char msg[PP_ERROR_MSG_MAX];
} pp_error;

/* Sets err (when non-NULL) and returns code, so callers can write
 *   return pp_error_set(err, PP_ERR_FORMAT, "tensor %u: ...", i);            */
pp_code pp_error_set(pp_error *err, pp_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prefixes the existing message with more context ("loading x.bin: ..."). */
pp_code pp_error_prefix(pp_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

const char *pp_code_name(pp_code code);

/* PP_ERR_NOMEM with the message followed by the size of the allocation that
 * failed last on this thread (pp_malloc and friends record it, as errno is
 * recorded): "graph: out of memory (1048576 bytes)". */
pp_code pp_error_nomem(pp_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Bytes of the last failed pp_malloc/pp_calloc/pp_realloc on this thread. */
size_t pp_alloc_failed_bytes(void);

/* Fault injection for tests (issue: hardening): when armed, the n-th call to
 * pp_malloc / pp_calloc / pp_realloc from now on fails (returns NULL). 0 disarms. */
void pp_fault_arm_alloc(long nth);
void *pp_malloc(size_t n);
void *pp_calloc(size_t count, size_t size);
void *pp_realloc(void *p, size_t n);
/* Aligned (align: a power of two, >= sizeof(void *)); freed with pp_free. The
 * CPU backend's device memory comes from here, so "the n-th device allocation
 * fails" is injectable too. */
void *pp_aligned_alloc(size_t align, size_t n);
void pp_free(void *p);

#ifdef __cplusplus
}
#endif
#endif

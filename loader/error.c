#include "error.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pp_code pp_error_set(pp_error *err, pp_code code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

pp_code pp_error_prefix(pp_error *err, const char *fmt, ...) {
    if (!err) return PP_ERR_INTERNAL;
    char head[PP_ERROR_MSG_MAX], old[PP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* The context goes first; whatever does not fit of the old message is cut. */
    int hl = (int)strnlen(head, sizeof head / 2);
    snprintf(err->msg, sizeof err->msg, "%.*s: %.*s", hl, head, (int)(sizeof err->msg) - hl - 3, old);
    return err->code;
}

const char *pp_code_name(pp_code code) {
    switch (code) {
    case PP_OK: return "ok";
    case PP_ERR_INVALID_ARG: return "invalid argument";
    case PP_ERR_IO: return "i/o error";
    case PP_ERR_FORMAT: return "format error";
    case PP_ERR_UNSUPPORTED: return "unsupported";
    case PP_ERR_SHAPE: return "shape error";
    case PP_ERR_NOMEM: return "out of memory";
    case PP_ERR_DEVICE: return "device error";
    case PP_ERR_CANCELLED: return "cancelled";
    case PP_ERR_DEADLINE: return "deadline exceeded";
    case PP_ERR_OVERLOADED: return "overloaded";
    case PP_ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}

/* Counts down to the failing allocation; atomic so tests with worker threads
 * stay race-free. */
static atomic_long fault_countdown;

void pp_fault_arm_alloc(long nth) { atomic_store(&fault_countdown, nth); }

static int fault_fire(void) {
    long c = atomic_load(&fault_countdown);
    while (c > 0) {
        if (atomic_compare_exchange_weak(&fault_countdown, &c, c - 1)) return c == 1;
    }
    return 0;
}

static _Thread_local size_t failed_bytes;

size_t pp_alloc_failed_bytes(void) { return failed_bytes; }

static void *note(void *p, size_t n) {
    if (!p) failed_bytes = n;
    return p;
}

void *pp_malloc(size_t n) { return note(fault_fire() ? NULL : malloc(n ? n : 1), n); }
void *pp_calloc(size_t count, size_t size) {
    size_t n = count && size > (size_t)-1 / count ? (size_t)-1 : count * size;
    return note(fault_fire() ? NULL : calloc(count ? count : 1, size ? size : 1), n);
}
void *pp_realloc(void *p, size_t n) { return note(fault_fire() ? NULL : realloc(p, n ? n : 1), n); }
void *pp_aligned_alloc(size_t align, size_t n) {
    void *p = NULL;
    if (fault_fire() || posix_memalign(&p, align, n ? n : align) != 0) p = NULL;
    return note(p, n);
}

pp_code pp_error_nomem(pp_error *err, const char *fmt, ...) {
    if (err) {
        char what[PP_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        int wl = (int)strnlen(what, sizeof what - 48);
        snprintf(err->msg, sizeof err->msg, "%.*s (%zu bytes)", wl, what, failed_bytes);
        err->code = PP_ERR_NOMEM;
    }
    return PP_ERR_NOMEM;
}
void pp_free(void *p) { free(p); }

/* sbuf.h: a growable text buffer for the JSON and Prometheus text ppserve writes. */
#ifndef PP_SERVE_SBUF_H
#define PP_SERVE_SBUF_H

#include <stddef.h>

typedef struct pp_sbuf {
    char *s; /* NUL-terminated; the caller's (free) once built */
    size_t len, cap;
    int failed; /* an allocation failed: s holds what fitted before */
} pp_sbuf;

/* Appends printf-style; returns -1 (and sets failed) when out of memory. */
int pp_sbuf_printf(pp_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pp_sbuf_put(pp_sbuf *b, const char *s, size_t n);
/* Appends s as a JSON string literal, quotes included. */
int pp_sbuf_json_string(pp_sbuf *b, const char *s);

#endif

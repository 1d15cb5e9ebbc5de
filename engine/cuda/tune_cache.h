/* tune_cache.h: choices made by timing, in memory and optionally in a file
 * beside graph.bin (tune_cache.c says the format). Plain C with no CUDA, so the
 * emulator links it as it is. */
#ifndef PP_TUNE_CACHE_H
#define PP_TUNE_CACHE_H

#include "../../loader/error.h"

typedef struct pp_tune_cache pp_tune_cache;

/* A cache for choices made on `device` (a one-line description of the GPU and
 * library versions the choices hold for), read from path if that exists;
 * path NULL or "": memory only. The caller frees it with pp_tune_cache_free. */
pp_code pp_tune_cache_open(const char *path, const char *device, pp_tune_cache **out, pp_error *err);
void pp_tune_cache_free(pp_tune_cache *c);
/* This device's choice for key, or NULL; valid until the next put. c may be NULL. */
const char *pp_tune_cache_get(const pp_tune_cache *c, const char *key);
/* Records a choice and, with a file, rewrites it; a failure to write is kept
 * for pp_tune_cache_problem, never fatal. Keys and values hold no tab or
 * newline. c may be NULL. */
void pp_tune_cache_put(pp_tune_cache *c, const char *key, const char *value);
/* Why the file could not be written, or NULL. */
const char *pp_tune_cache_problem(const pp_tune_cache *c);

#endif

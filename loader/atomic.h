/* atomic.h: files that appear whole or not at all.
 *
 * Every file the tools write (graph.bin, .npy outputs, traces, bench JSON) goes
 * to a temporary file in the destination's folder, is flushed and fsync'ed, then
 * renamed over the destination. A crash or an error leaves no partial file under
 * the final name, and the temporary is removed on every error path.
 */
#ifndef PP_ATOMIC_H
#define PP_ATOMIC_H

#include <stdio.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_atomic_file {
    FILE *f;             /* write here */
    char *path, *tmp;    /* owned */
} pp_atomic_file;

pp_code pp_atomic_open(pp_atomic_file *af, const char *path, pp_error *err);
/* Flushes, syncs and renames; on any failure removes the temporary. Always
 * releases af. */
pp_code pp_atomic_commit(pp_atomic_file *af, pp_error *err);
/* Drops the temporary (after an error while writing). */
void pp_atomic_abort(pp_atomic_file *af);
/* The whole thing for a buffer in memory. */
pp_code pp_atomic_write(const char *path, const void *data, size_t n, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

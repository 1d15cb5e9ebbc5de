/* atomic.h: files that appear whole or not at all.
 *
 * Every file the tools write (graph.bin, .npy outputs, traces, bench JSON) goes
 * to "<path>.tmp.XXXXXX" in the destination's folder, is flushed and fsync'ed,
 * then renamed over the destination (and the folder fsync'ed). A crash or an
 * error leaves no partial file under the final name, and the temporary is
 * removed on every error path. (loader/atomic_file.c)
 */
#ifndef PP_ATOMIC_H
#define PP_ATOMIC_H

#include <stdio.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_afile {
    FILE *f;          /* write here, or through pp_afile_write */
    char *tmp_path;   /* owned */
    const char *path; /* borrowed from the caller */
} pp_afile;

/* After a failed open nothing needs undoing. */
pp_code pp_afile_open(pp_afile *af, const char *path, pp_error *err);
pp_code pp_afile_write(pp_afile *af, const void *data, size_t n, pp_error *err);
/* Flushes, syncs, closes and renames; on failure the temporary is gone. */
pp_code pp_afile_commit(pp_afile *af, pp_error *err);
/* Closes and unlinks the temporary; safe after a failed write. */
void pp_afile_abort(pp_afile *af);
/* All of the above for one buffer. */
pp_code pp_afile_write_all(const char *path, const void *data, size_t n, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

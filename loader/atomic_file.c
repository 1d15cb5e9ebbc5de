/* atomic_file.c: write-to-temporary-then-rename, so no reader ever sees a
 * half-written graph.bin or .npy, and a failure leaves nothing behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader_internal.h"

pp_code pp_afile_open(pp_afile *af, const char *path, pp_error *err) {
    af->f = NULL;
    af->tmp_path = NULL;
    af->path = path;
    if (!path || !*path) return pp_error_set(err, PP_ERR_INVALID_ARG, "no output path given");
    static const char suffix[] = ".tmp.XXXXXX";
    size_t len = strlen(path), n;
    if (pp_add_size(len, sizeof suffix, &n)) return pp_error_set(err, PP_ERR_INVALID_ARG, "output path too long");
    char *tmp = pp_malloc(n);
    if (!tmp) return pp_error_set(err, PP_ERR_NOMEM, "%s: cannot allocate %zu bytes for a temporary name", path, n);
    memcpy(tmp, path, len);
    memcpy(tmp + len, suffix, sizeof suffix);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        pp_free(tmp);
        return pp_error_set(err, PP_ERR_IO, "%s: cannot create a temporary file beside it: %s", path, strerror(e));
    }
    /* mkstemp creates 0600; a model or tensor file is meant to be shared like any
     * other output. Best effort: a failure here is no reason to fail the write. */
    (void)fchmod(fd, 0644);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        pp_free(tmp);
        return pp_error_set(err, PP_ERR_IO, "%s: fdopen of the temporary file failed: %s", path, strerror(e));
    }
    af->f = f;
    af->tmp_path = tmp;
    return PP_OK;
}

pp_code pp_afile_write(pp_afile *af, const void *data, size_t n, pp_error *err) {
    if (n == 0) return PP_OK;
    if (fwrite(data, 1, n, af->f) != n) {
        int e = errno;
        return pp_error_set(err, PP_ERR_IO, "%s: writing %zu bytes to %s failed: %s", af->path, n, af->tmp_path,
                            strerror(e));
    }
    return PP_OK;
}

void pp_afile_abort(pp_afile *af) {
    if (af->f) fclose(af->f);
    if (af->tmp_path) {
        unlink(af->tmp_path);
        pp_free(af->tmp_path);
    }
    af->f = NULL;
    af->tmp_path = NULL;
}

/* So the rename itself survives a crash; best effort, as not every file system
 * lets a directory be opened or synced. */
static void sync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash) {
        dir = pp_malloc(2);
        if (!dir) return;
        strcpy(dir, ".");
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        dir = pp_malloc(n + 1);
        if (!dir) return;
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    pp_free(dir);
}

pp_code pp_afile_commit(pp_afile *af, pp_error *err) {
    const char *step = "flush";
    int e = 0;
    if (fflush(af->f) != 0) {
        e = errno;
    } else if (step = "fsync", fsync(fileno(af->f)) != 0) {
        e = errno;
    } else {
        FILE *f = af->f;
        af->f = NULL;
        if (step = "close", fclose(f) != 0) {
            e = errno;
        } else if (step = "rename", rename(af->tmp_path, af->path) != 0) {
            e = errno;
        } else {
            pp_free(af->tmp_path);
            af->tmp_path = NULL;
            sync_parent_dir(af->path);
            return PP_OK;
        }
    }
    pp_code rc = pp_error_set(err, PP_ERR_IO, "%s: %s of the temporary file %s failed: %s", af->path, step,
                              af->tmp_path, strerror(e));
    pp_afile_abort(af);
    return rc;
}

pp_code pp_afile_write_all(const char *path, const void *data, size_t n, pp_error *err) {
    pp_afile af;
    pp_code rc = pp_afile_open(&af, path, err);
    if (rc) return rc;
    if ((rc = pp_afile_write(&af, data, n, err))) {
        pp_afile_abort(&af);
        return rc;
    }
    return pp_afile_commit(&af, err);
}

#include "atomic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

pp_code pp_atomic_open(pp_atomic_file *af, const char *path, pp_error *err) {
    memset(af, 0, sizeof *af);
    size_t n = strlen(path);
    af->path = pp_malloc(n + 1);
    af->tmp = pp_malloc(n + 16);
    if (!af->path || !af->tmp) {
        pp_free(af->path);
        pp_free(af->tmp);
        return pp_error_set(err, PP_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(af->path, path, n + 1);
    snprintf(af->tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(af->tmp);
    if (fd < 0) {
        int e = errno;
        pp_free(af->path);
        pp_free(af->tmp);
        af->path = af->tmp = NULL;
        return pp_error_set(err, PP_ERR_IO, "%s: cannot create a temporary file beside it: %s", path, strerror(e));
    }
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        int e = errno;
        close(fd);
        unlink(af->tmp);
        pp_free(af->path);
        pp_free(af->tmp);
        af->path = af->tmp = NULL;
        return pp_error_set(err, PP_ERR_IO, "%s: %s", path, strerror(e));
    }
    return PP_OK;
}

void pp_atomic_abort(pp_atomic_file *af) {
    if (af->f) fclose(af->f);
    if (af->tmp) unlink(af->tmp);
    pp_free(af->path);
    pp_free(af->tmp);
    memset(af, 0, sizeof *af);
}

pp_code pp_atomic_commit(pp_atomic_file *af, pp_error *err) {
    pp_code rc = PP_OK;
    int bad = ferror(af->f) || fflush(af->f) != 0 || fsync(fileno(af->f)) != 0;
    int e = errno;
    if (fclose(af->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    af->f = NULL;
    if (bad) rc = pp_error_set(err, PP_ERR_IO, "%s: write failed: %s", af->path, strerror(e));
    else if (rename(af->tmp, af->path) != 0)
        rc = pp_error_set(err, PP_ERR_IO, "%s: cannot rename the temporary file into place: %s", af->path,
                          strerror(errno));
    if (rc) unlink(af->tmp);
    pp_free(af->path);
    pp_free(af->tmp);
    memset(af, 0, sizeof *af);
    return rc;
}

pp_code pp_atomic_write(const char *path, const void *data, size_t n, pp_error *err) {
    pp_atomic_file af;
    pp_code rc = pp_atomic_open(&af, path, err);
    if (rc) return rc;
    if (n && fwrite(data, 1, n, af.f) != n) {
        int e = errno;
        pp_atomic_abort(&af);
        return pp_error_set(err, PP_ERR_IO, "%s: write of %zu bytes failed: %s", path, n, strerror(e));
    }
    return pp_atomic_commit(&af, err);
}

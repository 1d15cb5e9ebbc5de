/* fuzz_npy: .npy bytes → pp_npy_read_memory; an accepted array is written back
 * with pp_npy_write (a file under /dev/shm, or TMPDIR) and must read back
 * identical. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "loader/npy.h"

static char tmpdir[256];

static void cleanup(void) {
    char p[300];
    snprintf(p, sizeof p, "%s/a.npy", tmpdir);
    unlink(p);
    rmdir(tmpdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/fuzz_npy.XXXXXX", base);
    if (!mkdtemp(tmpdir)) abort();
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pp_npy a;
    pp_error err;
    memset(&err, 0, sizeof err);
    pp_code rc = pp_npy_read_memory(data, size, "fuzz.npy", &a, &err);
    fz_check_error(rc, &err, "pp_npy_read_memory");
    if (rc) {
        if (a.data || a.nbytes) fz_fail("pp_npy_read_memory failed but left data");
        return 0;
    }
    uint64_t numel = 1;
    for (int d = 0; d < a.rank; d++) numel *= (uint64_t)a.dims[d];
    if (a.rank < 0 || a.rank > PP_MAX_RANK || numel * pp_dtype_size(a.dtype) != a.nbytes)
        fz_fail("accepted array: rank %d, %llu elements of %zu bytes, but %zu bytes of data", a.rank,
                (unsigned long long)numel, pp_dtype_size(a.dtype), a.nbytes);

    char path[300];
    snprintf(path, sizeof path, "%s/a.npy", tmpdir);
    rc = pp_npy_write(path, a.dtype, a.rank, a.dims, a.data, &err);
    if (rc) fz_fail("an accepted array does not write back: %s", err.msg);
    pp_npy b;
    rc = pp_npy_read(path, &b, &err);
    if (rc) fz_fail("the writer's .npy does not read back: %s", err.msg);
    if (b.dtype != a.dtype || b.rank != a.rank || memcmp(b.dims, a.dims, sizeof a.dims) != 0 || b.nbytes != a.nbytes ||
        (a.nbytes && memcmp(a.data, b.data, a.nbytes) != 0))
        fz_fail("the .npy round trip changed the array");
    pp_npy_free(&b);
    pp_npy_free(&a);
    return 0;
}

/* killpoint.c: an LD_PRELOAD library that signals its process, or fails a
 * call, at a chosen call, so a test interrupts a tool at a known point of its
 * work instead of after a guessed delay (which a loaded machine turns into a
 * different point, or into none at all).
 *
 *   PP_KILLPOINT=rename:3        SIGKILL on entering the 3rd rename(): the rename never happens
 *   PP_KILLPOINT=fwrite:2        SIGKILL on entering the 2nd fwrite(): a file half written
 *   PP_KILLPOINT=rename:3:INT    SIGINT there instead; the call then goes ahead
 *   PP_KILLPOINT=fwrite:9:ENOSPC the 9th fwrite() fails with ENOSPC (EIO too): a disk that fills up
 *   LD_PRELOAD=$PP_KILLPOINT_LIB PP_KILLPOINT=... TOOL ARGS...
 *
 * Counted calls: rename, fsync, fdatasync, fwrite, mkostemp (a temporary file
 * about to be created). The count is over the whole process, every thread. Under
 * AddressSanitizer the tool also needs ASAN_OPTIONS=verify_asan_link_order=0,
 * since this library is loaded before the sanitizer's runtime.
 *
 * Test machinery only: built by tests/CMakeLists.txt, never installed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char point_name[16];
static long point_at;
static int point_sig = SIGKILL, point_errno;
static atomic_long point_seen;

__attribute__((constructor)) static void killpoint_init(void) {
    const char *s = getenv("PP_KILLPOINT");
    if (!s) return;
    const char *c1 = strchr(s, ':');
    if (!c1 || (size_t)(c1 - s) >= sizeof point_name) return;
    memcpy(point_name, s, (size_t)(c1 - s));
    char *end;
    point_at = strtol(c1 + 1, &end, 10);
    if (*end == ':') {
        static const struct {
            const char *name;
            int sig, err;
        } acts[] = {
            {"KILL", SIGKILL, 0}, {"INT", SIGINT, 0}, {"TERM", SIGTERM, 0}, {"EIO", 0, EIO}, {"ENOSPC", 0, ENOSPC}};
        for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
            if (!strcmp(end + 1, acts[i].name)) point_sig = acts[i].sig, point_errno = acts[i].err;
    }
}

/* 0: the call goes ahead; otherwise it fails with this errno. */
static int reached(const char *name) {
    if (point_at <= 0 || strcmp(name, point_name) != 0) return 0;
    if (atomic_fetch_add(&point_seen, 1) + 1 != point_at) return 0;
    if (point_errno) return point_errno;
    raise(point_sig);
    return 0;
}

#define FAIL_IF_CHOSEN(name, ret)                                                                                      \
    do {                                                                                                               \
        int e_ = reached(name);                                                                                        \
        if (e_) {                                                                                                      \
            errno = e_;                                                                                                \
            return ret;                                                                                                \
        }                                                                                                              \
    } while (0)

/* Exported whatever the build's default visibility (the project's is hidden):
 * interposing is the whole point. */
#define SHIM __attribute__((visibility("default")))

#define REAL(ret, name, ...)                                                                                           \
    static ret (*real)(__VA_ARGS__);                                                                                   \
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, name)

SHIM int rename(const char *from, const char *to) {
    REAL(int, "rename", const char *, const char *);
    FAIL_IF_CHOSEN("rename", -1);
    return real(from, to);
}

SHIM int fsync(int fd) {
    REAL(int, "fsync", int);
    FAIL_IF_CHOSEN("fsync", -1);
    return real(fd);
}

SHIM int fdatasync(int fd) {
    REAL(int, "fdatasync", int);
    FAIL_IF_CHOSEN("fdatasync", -1);
    return real(fd);
}

SHIM size_t fwrite(const void *p, size_t size, size_t n, FILE *f) {
    REAL(size_t, "fwrite", const void *, size_t, size_t, FILE *);
    FAIL_IF_CHOSEN("fwrite", 0);
    return real(p, size, n, f);
}

SHIM int mkostemp(char *tmpl, int flags) {
    REAL(int, "mkostemp", char *, int);
    FAIL_IF_CHOSEN("mkostemp", -1);
    return real(tmpl, flags);
}

SHIM int mkostemp64(char *tmpl, int flags) {
    REAL(int, "mkostemp64", char *, int);
    FAIL_IF_CHOSEN("mkostemp", -1);
    return real(tmpl, flags);
}

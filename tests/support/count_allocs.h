/* count_allocs.h: a counting allocator for the tests that promise "no
 * allocation on the steady-state path". Include it in exactly one file of a
 * test program: that program's malloc family then wraps glibc's and counts
 * the calls made from the executable's own code, which includes the statically
 * linked engine on every one of its threads (and not Criterion's own runner
 * thread, which allocates as it pleases). Not under AddressSanitizer or
 * ThreadSanitizer, which own malloc themselves: COUNT_ALLOCS says whether it
 * is on. */
#ifndef PP_TEST_COUNT_ALLOCS_H
#define PP_TEST_COUNT_ALLOCS_H

#include <stdatomic.h>
#include <stddef.h>

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define COUNT_ALLOCS 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern char __executable_start[], etext[];
static atomic_long n_allocs;
#define COUNT()                                                                                                        \
    do {                                                                                                               \
        char *caller = __builtin_return_address(0);                                                                    \
        if (caller >= __executable_start && caller < etext) atomic_fetch_add(&n_allocs, 1);                            \
    } while (0)
void *malloc(size_t n) {
    COUNT();
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    COUNT();
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    COUNT();
    return __libc_realloc(p, n);
}
int posix_memalign(void **p, size_t align, size_t n) {
    COUNT();
    *p = __libc_memalign(align, n);
    return *p ? 0 : 12;
}
#endif

#endif

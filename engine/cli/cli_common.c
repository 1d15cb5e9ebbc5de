/* cli_common.c: helpers ppengine run's single and chunked paths both use. */
#include "cli_common.h"

#include <time.h>

double pp_cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void pp_cli_safe_name(const char *in, char *out, size_t n) {
    size_t k = 0;
    for (; *in && k + 1 < n; in++) {
        char c = *in;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                 c == '.';
        out[k++] = ok ? c : '_';
    }
    if (k == 0 || (k == 1 && out[0] == '.') || (k == 2 && out[0] == '.' && out[1] == '.')) out[k++] = '_';
    out[k] = '\0';
}

pp_code pp_cli_check_input(const pp_tensor *t, const pp_npy *a, const char *file, int64_t *batch, pp_error *err) {
    if (a->dtype != t->dtype)
        return pp_error_set(err, PP_ERR_SHAPE, "%s: input '%s' wants %s, the file holds %s", file, t->name,
                            pp_dtype_name(t->dtype), pp_dtype_name(a->dtype));
    if (a->rank != t->rank)
        return pp_error_set(err, PP_ERR_SHAPE, "%s: input '%s' has rank %d, the file has rank %d", file, t->name,
                            t->rank, a->rank);
    int64_t b = 1;
    if (t->rank > 0 && t->dims[0] < 0) {
        int64_t k = -t->dims[0];
        if (a->dims[0] < k || a->dims[0] % k)
            return pp_error_set(err, PP_ERR_SHAPE,
                                "%s: input '%s' axis 0 is %lld; expected a positive multiple of %lld (the batch)", file,
                                t->name, (long long)a->dims[0], (long long)k);
        b = a->dims[0] / k;
    }
    for (int d = 0; d < t->rank; d++) {
        int64_t want = t->dims[d] < 0 ? -t->dims[d] * b : t->dims[d];
        if (a->dims[d] != want)
            return pp_error_set(err, PP_ERR_SHAPE, "%s: input '%s' axis %d is %lld, expected %lld", file, t->name, d,
                                (long long)a->dims[d], (long long)want);
    }
    *batch = b;
    return PP_OK;
}

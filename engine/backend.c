/* backend.c: device specs to backends. */
#include "backend.h"

#include <stdlib.h>
#include <string.h>

static int parse_index(const char *s, int *idx) {
    if (*s == '\0') {
        *idx = 0;
        return 0;
    }
    if (*s != ':') return -1;
    s++;
    if (*s < '0' || *s > '9') return -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < 0 || v > 1023) return -1;
    *idx = (int)v;
    return 0;
}

pp_code pp_backend_create(const char *spec, pp_backend **out, pp_error *err) {
    int idx;
    *out = NULL;
    if (strncmp(spec, "cpu", 3) == 0 && parse_index(spec + 3, &idx) == 0) return pp_backend_cpu_create(idx, out, err);
    if (strncmp(spec, "cuda", 4) == 0 && parse_index(spec + 4, &idx) == 0) return pp_backend_cuda_create(idx, out, err);
    return pp_error_set(err, PP_ERR_INVALID_ARG, "device '%s' is not one of cpu, cpu:N, cuda:N, auto", spec);
}

void pp_backend_destroy(pp_backend *b) {
    if (b) b->ops->destroy(b);
}

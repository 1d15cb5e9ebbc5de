/* options.c: engine option values as the API and the CLI spell them: precision
 * names (backend.h) and sizes (exec.h). Apart from backend.c so tools that bring
 * their own backends (the CUDA emulator) can link it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "exec.h"

static const char *const precision_names[] = {"fp32", "tf32", "fp16", "bf16"};

const char *pp_precision_name(pp_precision p) {
    return (unsigned)p < sizeof precision_names / sizeof precision_names[0] ? precision_names[p] : "?";
}

int pp_precision_parse(const char *s, pp_precision *out) {
    for (int i = 0; s && i < (int)(sizeof precision_names / sizeof precision_names[0]); i++)
        if (strcmp(s, precision_names[i]) == 0) {
            *out = (pp_precision)i;
            return 0;
        }
    return -1;
}

int pp_parse_size(const char *s, size_t *out) {
    if (!s) return -1;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    double unit = 1;
    if (*end == 'K' || *end == 'k') unit = 1024.0, end++;
    else if (*end == 'M' || *end == 'm') unit = 1024.0 * 1024, end++;
    else if (*end == 'G' || *end == 'g') unit = 1024.0 * 1024 * 1024, end++;
    if (errno || end == s || *end || !(x > 0) || x * unit > 1e18) return -1;
    *out = (size_t)(x * unit);
    return 0;
}

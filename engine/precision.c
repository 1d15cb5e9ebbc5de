/* precision.c: the names of the precision modes (backend.h), for options and
 * messages. Apart from backend.c so tools that bring their own backends (the
 * CUDA emulator) can link it. */
#include <string.h>

#include "backend.h"

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

/* msg.c: names from files, made safe to put inside a one-line error message. */
#include <string.h>

#include "loader_internal.h"

const char *pp_msg_name(char *out, size_t outsz, const char *s) {
    if (!outsz) return "";
    if (!s) s = "";
    size_t len = strlen(s), keep = len;
    int cut = 0;
    if (keep + 1 > outsz) {
        cut = 1;
        keep = outsz > 4 ? outsz - 4 : 0;
        /* Back off to a UTF-8 character boundary so the cut leaves valid text. */
        while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80) keep--;
    }
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    if (cut && outsz > 4) {
        memcpy(out + keep, "...", 3);
        keep += 3;
    }
    out[keep] = 0;
    return out;
}

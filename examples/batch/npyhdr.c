/* npyhdr.c: see npyhdr.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* POSIX and GNU calls under -std=c11 */
#endif
#include "npyhdr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *descr;
    pp_elem_type type;
    size_t size;
} descrs[] = {
    /* the spellings the writer uses first */
    {"<f4", PP_ELEM_F32, 4},
    {"<f2", PP_ELEM_F16, 2},
    {"<f8", PP_ELEM_F64, 8},
    {"<i8", PP_ELEM_I64, 8},
    {"<i4", PP_ELEM_I32, 4},
    {"|b1", PP_ELEM_BOOL, 1},
    {"|u1", PP_ELEM_U8, 1},
    {"|i1", PP_ELEM_I8, 1},
    /* other spellings of the one-byte types, read only */
    {"<u1", PP_ELEM_U8, 1},
    {"<i1", PP_ELEM_I8, 1},
    {"<b1", PP_ELEM_BOOL, 1},
};

size_t pp_elem_size(pp_elem_type type) {
    if (type == PP_ELEM_BF16) return 2;
    for (size_t i = 0; i < sizeof descrs / sizeof *descrs; i++)
        if (descrs[i].type == type) return descrs[i].size;
    return 0;
}

const char *pp_elem_name(pp_elem_type type) {
    static const char *names[] = {"?", "f32", "f16", "bf16", "i64", "i32", "bool", "u8", "i8", "f64"};
    return (int)type >= 1 && (int)type <= 9 ? names[type] : "?";
}

static int bad(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

typedef struct hp {
    const char *s;
    size_t n, at, base; /* base: the header's offset in the file, for messages */
} hp;

static void ws(hp *p) {
    while (p->at < p->n && (p->s[p->at] == ' ' || p->s[p->at] == '\t' || p->s[p->at] == '\n')) p->at++;
}

static int eat(hp *p, char c) {
    ws(p);
    if (p->at < p->n && p->s[p->at] == c) {
        p->at++;
        return 1;
    }
    return 0;
}

/* A quoted string ('...' or "...") of at most cap-1 chars. */
static int qstr(hp *p, char *out, size_t cap) {
    ws(p);
    if (p->at >= p->n || (p->s[p->at] != '\'' && p->s[p->at] != '"')) return -1;
    char q = p->s[p->at++];
    size_t len = 0;
    while (p->at < p->n && p->s[p->at] != q) {
        if (len + 1 >= cap) return -1;
        out[len++] = p->s[p->at++];
    }
    if (p->at >= p->n) return -1;
    p->at++;
    out[len] = 0;
    return 0;
}

int pp_npyhdr_parse(const uint8_t *buf, size_t size, pp_npyhdr *h, char *err, size_t errlen) {
    memset(h, 0, sizeof *h);
    if (size < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) return bad(err, errlen, "not a .npy file (no \\x93NUMPY magic)");
    int major = buf[6];
    size_t hlen, start;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12) return bad(err, errlen, "truncated .npy header");
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        start = 12;
    } else {
        return bad(err, errlen, ".npy format version %d.%d is not 1, 2 or 3", major, buf[7]);
    }
    if (hlen > size - start || hlen > (1u << 20))
        return bad(err, errlen, ".npy header claims %zu bytes at byte %zu but the file has %zu", hlen, start, size);
    hp p = {(const char *)buf + start, hlen, 0, start};
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
    char key[32], descr[32] = "";
    if (!eat(&p, '{')) return bad(err, errlen, ".npy header byte %zu: expected '{'", p.base + p.at);
    for (int k = 0; k < 8 && !eat(&p, '}'); k++) { /* a dict of at most a few keys */
        if (qstr(&p, key, sizeof key) || !eat(&p, ':'))
            return bad(err, errlen, ".npy header byte %zu: expected 'key':", p.base + p.at);
        if (!strcmp(key, "descr")) {
            if (seen_descr++ || qstr(&p, descr, sizeof descr))
                return bad(err, errlen, ".npy header byte %zu: bad 'descr' (structured dtypes are not supported)",
                           p.base + p.at);
        } else if (!strcmp(key, "fortran_order")) {
            ws(&p);
            if (seen_fortran++) return bad(err, errlen, ".npy header: 'fortran_order' appears twice");
            if (p.n - p.at >= 5 && !memcmp(p.s + p.at, "False", 5)) {
                p.at += 5;
            } else if (p.n - p.at >= 4 && !memcmp(p.s + p.at, "True", 4)) {
                return bad(err, errlen, ".npy is in Fortran order; only C order is supported");
            } else {
                return bad(err, errlen, ".npy header byte %zu: 'fortran_order' is not True or False", p.base + p.at);
            }
        } else if (!strcmp(key, "shape")) {
            if (seen_shape++ || !eat(&p, '('))
                return bad(err, errlen, ".npy header byte %zu: bad 'shape'", p.base + p.at);
            while (!eat(&p, ')')) {
                ws(&p);
                if (h->rank == PP_MAX_DIMS)
                    return bad(err, errlen, ".npy shape has more than %d dimensions", PP_MAX_DIMS);
                int64_t v = 0;
                size_t digits = 0;
                while (p.at < p.n && p.s[p.at] >= '0' && p.s[p.at] <= '9') {
                    if (v > (INT64_MAX - 9) / 10) return bad(err, errlen, ".npy shape dimension overflows");
                    v = v * 10 + (p.s[p.at++] - '0');
                    digits++;
                }
                if (!digits) return bad(err, errlen, ".npy header byte %zu: expected a dimension", p.base + p.at);
                h->dims[h->rank++] = v;
                if (!eat(&p, ',')) {
                    if (!eat(&p, ')'))
                        return bad(err, errlen, ".npy header byte %zu: expected ',' or ')' in the shape",
                                   p.base + p.at);
                    break;
                }
            }
        } else {
            return bad(err, errlen, ".npy header: unexpected key '%s'", key);
        }
        if (!eat(&p, ',')) {
            if (!eat(&p, '}')) return bad(err, errlen, ".npy header byte %zu: expected ',' or '}'", p.base + p.at);
            break;
        }
    }
    if (!seen_descr || !seen_fortran || !seen_shape)
        return bad(err, errlen, ".npy header lacks '%s'",
                   !seen_descr     ? "descr"
                   : !seen_fortran ? "fortran_order"
                                   : "shape");
    h->type = 0;
    for (size_t i = 0; i < sizeof descrs / sizeof *descrs; i++)
        if (!strcmp(descr, descrs[i].descr)) h->type = descrs[i].type;
    if (!h->type)
        return bad(err, errlen, ".npy dtype '%s' is not supported (little-endian f4, f2, f8, i8, i4, u1, i1, b1 are)",
                   descr);
    h->data_offset = start + hlen;
    return 0;
}

size_t pp_npyhdr_format(pp_elem_type type, int rank, const int64_t *dims, char *out, size_t cap) {
    const char *descr = NULL;
    for (size_t i = 0; i < 8; i++)
        if (descrs[i].type == type) descr = descrs[i].descr;
    if (!descr || rank < 0 || rank > PP_MAX_DIMS || cap < 320) return 0;
    /* NumPy's layout: the dict, spaces, '\n', the whole preamble a multiple of 64. */
    int n = snprintf(out + 10, cap - 10, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int d = 0; d < rank; d++)
        n += snprintf(out + 10 + n, cap - 10 - (size_t)n, "%s%lld", d ? ", " : "", (long long)dims[d]);
    n += snprintf(out + 10 + n, cap - 10 - (size_t)n, "%s), }", rank == 1 ? "," : "");
    size_t total = (10 + (size_t)n + 1 + 63) & ~(size_t)63;
    if (total > cap || total - 10 > 65535) return 0;
    memset(out + 10 + n, ' ', total - 10 - (size_t)n - 1);
    out[total - 1] = '\n';
    memcpy(out, "\x93NUMPY", 6);
    out[6] = 1;
    out[7] = 0;
    out[8] = (char)((total - 10) & 0xFF);
    out[9] = (char)((total - 10) >> 8);
    return total;
}

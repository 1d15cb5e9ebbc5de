/* image.c: PPM/PGM and PNG readers for untrusted files (see image.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* POSIX and GNU calls under -std=c11 */
#endif
#include "image.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Checks width × height × channels against the caps and allocates the samples. */
static int image_alloc(pp_image *img, const char *what, long long w, long long h, int channels, char *err,
                       size_t errlen) {
    if (w < 1 || h < 1) return fail(err, errlen, "%s: image size %lldx%lld is empty", what, w, h);
    if (w > PP_IMAGE_MAX_SIDE || h > PP_IMAGE_MAX_SIDE || w * h > PP_IMAGE_MAX_PIXELS)
        return fail(err, errlen, "%s: image size %lldx%lld exceeds the limit (%d per side, %d pixels)", what, w, h,
                    PP_IMAGE_MAX_SIDE, PP_IMAGE_MAX_PIXELS);
    img->data = malloc((size_t)w * (size_t)h * (size_t)channels * sizeof *img->data);
    if (!img->data) return fail(err, errlen, "%s: out of memory for a %lldx%lld image", what, w, h);
    img->width = (int)w;
    img->height = (int)h;
    img->channels = channels;
    return 0;
}

void pp_image_free(pp_image *img) {
    if (!img) return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

/* ---- PPM / PGM ------------------------------------------------------------------ */

typedef struct cursor {
    const uint8_t *p;
    size_t n, at;
} cursor;

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Whitespace and '#' comments (to the end of the line). */
static void skip_space(cursor *c) {
    while (c->at < c->n) {
        if (is_space(c->p[c->at])) {
            c->at++;
        } else if (c->p[c->at] == '#') {
            while (c->at < c->n && c->p[c->at] != '\n' && c->p[c->at] != '\r') c->at++;
        } else {
            break;
        }
    }
}

/* A decimal number in 0..max, preceded by whitespace or comments. */
static int read_uint(cursor *c, unsigned long max, unsigned long *v, const char *what, const char *field, char *err,
                     size_t errlen) {
    skip_space(c);
    if (c->at >= c->n) return fail(err, errlen, "%s: PPM ends before the %s", what, field);
    if (c->p[c->at] < '0' || c->p[c->at] > '9')
        return fail(err, errlen, "%s: PPM byte %zu: expected the %s, found 0x%02x", what, c->at, field, c->p[c->at]);
    unsigned long x = 0;
    size_t start = c->at;
    while (c->at < c->n && c->p[c->at] >= '0' && c->p[c->at] <= '9') {
        x = x * 10 + (unsigned long)(c->p[c->at] - '0');
        if (x > max) return fail(err, errlen, "%s: PPM byte %zu: the %s exceeds %lu", what, start, field, max);
        c->at++;
    }
    *v = x;
    return 0;
}

static int decode_ppm(const uint8_t *buf, size_t size, const char *what, pp_image *img, char *err, size_t errlen) {
    char kind = (char)buf[1]; /* '2', '3', '5' or '6' */
    int channels = kind == '3' || kind == '6' ? 3 : 1, binary = kind == '5' || kind == '6';
    cursor c = {buf, size, 2};
    unsigned long w, h, maxval;
    if (c.at < c.n && !is_space(c.p[c.at]) && c.p[c.at] != '#')
        return fail(err, errlen, "%s: PPM byte 2: expected whitespace after the magic 'P%c'", what, kind);
    if (read_uint(&c, PP_IMAGE_MAX_SIDE, &w, what, "width", err, errlen) ||
        read_uint(&c, PP_IMAGE_MAX_SIDE, &h, what, "height", err, errlen) ||
        read_uint(&c, 65535, &maxval, what, "maxval", err, errlen))
        return -1;
    if (maxval == 0) return fail(err, errlen, "%s: PPM maxval is 0 (must be 1..65535)", what);
    if (image_alloc(img, what, (long long)w, (long long)h, channels, err, errlen)) return -1;
    img->maxval = (unsigned)maxval;
    size_t count = (size_t)w * (size_t)h * (size_t)channels;
    if (binary) {
        /* Exactly one whitespace byte separates maxval from the raster. */
        if (c.at >= c.n || !is_space(c.p[c.at]))
            return fail(err, errlen, "%s: PPM byte %zu: expected one whitespace byte after maxval", what, c.at);
        c.at++;
        size_t bps = maxval < 256 ? 1 : 2;
        if (c.n - c.at < count * bps)
            return fail(err, errlen, "%s: PPM raster at byte %zu has %zu bytes but %lux%lu needs %zu", what, c.at,
                        c.n - c.at, w, h, count * bps);
        const uint8_t *p = c.p + c.at;
        for (size_t i = 0; i < count; i++) {
            unsigned v = bps == 1 ? p[i] : (unsigned)p[2 * i] << 8 | p[2 * i + 1];
            if (v > maxval)
                return fail(err, errlen, "%s: PPM sample %zu (byte %zu) is %u, above maxval %lu", what, i,
                            c.at + i * bps, v, maxval);
            img->data[i] = (uint16_t)v;
        }
    } else {
        for (size_t i = 0; i < count; i++) {
            unsigned long v;
            if (read_uint(&c, maxval, &v, what, "sample", err, errlen)) return -1;
            img->data[i] = (uint16_t)v;
        }
    }
    return 0;
}

/* ---- PNG -------------------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int paeth(int a, int b, int c) {
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

typedef struct png_state {
    uint32_t w, h;
    int color_type, channels; /* channels in the file: 1, 2, 3 or 4 */
    uint8_t *raw;             /* h × (1 + w × channels): a filter byte, then the row */
    size_t raw_size;
    z_stream z;
    int z_open, z_done;
} png_state;

static int png_inflate(png_state *s, const uint8_t *data, uint32_t len, size_t at, const char *what, char *err,
                       size_t errlen) {
    if (s->z_done) {
        if (len == 0) return 0;
        return fail(err, errlen, "%s: PNG IDAT at byte %zu continues after the end of the zlib stream", what, at);
    }
    s->z.next_in = (Bytef *)(uintptr_t)data; /* zlib's API is not const-correct */
    s->z.avail_in = len;
    /* Each pass consumes input or produces output; 1 << 20 passes is far beyond any real file. */
    for (int pass = 0; s->z.avail_in > 0 && pass < (1 << 20); pass++) {
        uInt in_before = s->z.avail_in, out_before = s->z.avail_out;
        int r = inflate(&s->z, Z_NO_FLUSH);
        if (r == Z_STREAM_END) {
            s->z_done = 1;
            if (s->z.avail_in > 0)
                return fail(err, errlen, "%s: PNG IDAT at byte %zu has %u bytes after the end of the zlib stream", what,
                            at, s->z.avail_in);
            return 0;
        }
        if (r == Z_BUF_ERROR && s->z.avail_out == 0)
            return fail(err, errlen, "%s: PNG image data inflates to more than the %zu bytes a %ux%u image needs", what,
                        s->raw_size, s->w, s->h);
        if (r != Z_OK)
            return fail(err, errlen, "%s: PNG IDAT at byte %zu: zlib: %s", what, at,
                        s->z.msg ? s->z.msg : "corrupt compressed data");
        if (s->z.avail_in == in_before && s->z.avail_out == out_before)
            return fail(err, errlen, "%s: PNG IDAT at byte %zu: zlib makes no progress", what, at);
    }
    if (s->z.avail_in > 0) return fail(err, errlen, "%s: PNG IDAT at byte %zu: zlib makes no progress", what, at);
    return 0;
}

static int png_unfilter(png_state *s, pp_image *img, const char *what, char *err, size_t errlen) {
    size_t bpp = (size_t)s->channels, stride = (size_t)s->w * bpp;
    const uint8_t *prev = NULL;
    for (uint32_t y = 0; y < s->h; y++) {
        uint8_t *row = s->raw + (size_t)y * (stride + 1);
        int ft = row[0];
        uint8_t *x = row + 1;
        switch (ft) {
        case 0: break;
        case 1:
            for (size_t i = bpp; i < stride; i++) x[i] = (uint8_t)(x[i] + x[i - bpp]);
            break;
        case 2:
            if (prev)
                for (size_t i = 0; i < stride; i++) x[i] = (uint8_t)(x[i] + prev[i]);
            break;
        case 3:
            for (size_t i = 0; i < stride; i++) {
                int a = i >= bpp ? x[i - bpp] : 0, b = prev ? prev[i] : 0;
                x[i] = (uint8_t)(x[i] + (a + b) / 2);
            }
            break;
        case 4:
            for (size_t i = 0; i < stride; i++) {
                int a = i >= bpp ? x[i - bpp] : 0, b = prev ? prev[i] : 0, c = prev && i >= bpp ? prev[i - bpp] : 0;
                x[i] = (uint8_t)(x[i] + paeth(a, b, c));
            }
            break;
        default: return fail(err, errlen, "%s: PNG row %u has filter type %d (must be 0..4)", what, y, ft);
        }
        prev = x;
    }
    /* Gray+alpha and RGBA lose their alpha: the nets take gray or RGB. */
    int out_ch = img->channels;
    for (uint32_t y = 0; y < s->h; y++) {
        const uint8_t *x = s->raw + (size_t)y * (stride + 1) + 1;
        uint16_t *o = img->data + (size_t)y * s->w * (size_t)out_ch;
        for (uint32_t i = 0; i < s->w; i++)
            for (int ch = 0; ch < out_ch; ch++)
                o[(size_t)i * (size_t)out_ch + (size_t)ch] = x[(size_t)i * bpp + (size_t)ch];
    }
    return 0;
}

static int decode_png_chunks(png_state *s, const uint8_t *buf, size_t size, const char *what, pp_image *img, char *err,
                             size_t errlen) {
    size_t at = 8;
    int seen_ihdr = 0, seen_idat = 0, seen_iend = 0;
    while (!seen_iend) {
        if (size - at < 12)
            return fail(err, errlen, "%s: PNG is truncated at byte %zu (%s)", what, at,
                        seen_idat ? "no IEND chunk" : "no image data");
        uint32_t len = be32(buf + at);
        const uint8_t *type = buf + at + 4;
        char name[5];
        for (int i = 0; i < 4; i++) {
            int ch = type[i];
            if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')))
                return fail(err, errlen, "%s: PNG byte %zu: chunk type byte 0x%02x is not a letter", what,
                            at + 4 + (size_t)i, ch);
            name[i] = (char)ch;
        }
        name[4] = 0;
        if (len > 0x7FFFFFFFu || len > size - at - 12)
            return fail(err, errlen, "%s: PNG chunk '%s' at byte %zu claims %u bytes but %zu remain", what, name, at,
                        len, size - at - 12);
        const uint8_t *data = buf + at + 8;
        uint32_t want = be32(data + len);
        uint32_t got = (uint32_t)crc32(crc32(0L, Z_NULL, 0), type, (uInt)len + 4);
        if (got != want)
            return fail(err, errlen, "%s: PNG chunk '%s' at byte %zu: CRC 0x%08x does not match the stored 0x%08x",
                        what, name, at, got, want);
        if (!seen_ihdr && strcmp(name, "IHDR") != 0)
            return fail(err, errlen, "%s: PNG chunk '%s' at byte %zu comes before IHDR", what, name, at);
        if (!strcmp(name, "IHDR")) {
            if (seen_ihdr++) return fail(err, errlen, "%s: PNG has a second IHDR at byte %zu", what, at);
            if (len != 13) return fail(err, errlen, "%s: PNG IHDR is %u bytes (must be 13)", what, len);
            s->w = be32(data);
            s->h = be32(data + 4);
            int depth = data[8], ct = data[9];
            if (data[10] != 0 || data[11] != 0)
                return fail(err, errlen, "%s: PNG compression method %d / filter method %d (must be 0 / 0)", what,
                            data[10], data[11]);
            if (data[12] != 0)
                return fail(err, errlen, "%s: interlaced (Adam7) PNGs are not supported; save it non-interlaced", what);
            if (ct == 3)
                return fail(err, errlen, "%s: palette PNGs (color type 3) are not supported; save it as gray or RGB",
                            what);
            if (ct != 0 && ct != 2 && ct != 4 && ct != 6)
                return fail(err, errlen, "%s: PNG color type %d is invalid", what, ct);
            if (depth != 8)
                return fail(err, errlen,
                            "%s: PNG bit depth %d is not supported (only 8-bit gray, gray+alpha, RGB, RGBA)", what,
                            depth);
            s->color_type = ct;
            s->channels = ct == 0 ? 1 : ct == 4 ? 2 : ct == 2 ? 3 : 4;
            if (s->w > 0x7FFFFFFFu || s->h > 0x7FFFFFFFu)
                return fail(err, errlen, "%s: PNG size %ux%u is out of range", what, s->w, s->h);
            if (image_alloc(img, what, s->w, s->h, s->channels >= 3 ? 3 : 1, err, errlen)) return -1;
            img->maxval = 255;
            s->raw_size = (size_t)s->h * (1 + (size_t)s->w * (size_t)s->channels);
            if (!(s->raw = malloc(s->raw_size))) return fail(err, errlen, "%s: out of memory", what);
            if (inflateInit(&s->z) != Z_OK) return fail(err, errlen, "%s: zlib inflateInit failed", what);
            s->z_open = 1;
            s->z.next_out = s->raw;
            s->z.avail_out = (uInt)s->raw_size;
        } else if (!strcmp(name, "IDAT")) {
            seen_idat = 1;
            if (png_inflate(s, data, len, at, what, err, errlen)) return -1;
        } else if (!strcmp(name, "IEND")) {
            seen_iend = 1;
        } else if (!strcmp(name, "PLTE")) {
            /* A suggested palette for RGB images; nothing to do. */
        } else if (name[0] >= 'A' && name[0] <= 'Z') {
            return fail(err, errlen, "%s: PNG critical chunk '%s' at byte %zu is not supported", what, name, at);
        } /* else: an ancillary chunk (text, gamma, ...), skipped */
        at += (size_t)len + 12;
    }
    if (!seen_idat) return fail(err, errlen, "%s: PNG has no IDAT chunk", what);
    if (!s->z_done || s->z.total_out != s->raw_size)
        return fail(err, errlen, "%s: PNG image data inflates to %lu of the %zu bytes a %ux%u image needs%s", what,
                    (unsigned long)s->z.total_out, s->raw_size, s->w, s->h, s->z_done ? "" : " (stream unfinished)");
    return png_unfilter(s, img, what, err, errlen);
}

static int decode_png(const uint8_t *buf, size_t size, const char *what, pp_image *img, char *err, size_t errlen) {
    png_state s;
    memset(&s, 0, sizeof s);
    int rc = decode_png_chunks(&s, buf, size, what, img, err, errlen);
    if (s.z_open) inflateEnd(&s.z);
    free(s.raw);
    return rc;
}

/* ---- entry points --------------------------------------------------------------- */

int pp_image_decode(const uint8_t *buf, size_t size, const char *what, pp_image *out, char *err, size_t errlen) {
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    memset(out, 0, sizeof *out);
    int rc;
    if (size >= 8 && !memcmp(buf, png_magic, 8)) {
        rc = decode_png(buf, size, what, out, err, errlen);
    } else if (size >= 2 && buf[0] == 'P' && (buf[1] == '2' || buf[1] == '3' || buf[1] == '5' || buf[1] == '6')) {
        rc = decode_ppm(buf, size, what, out, err, errlen);
    } else if (size >= 2 && buf[0] == 'P' && (buf[1] == '1' || buf[1] == '4' || buf[1] == '7')) {
        rc = fail(err, errlen, "%s: PBM/PAM (P%c) images are not supported; use P2, P3, P5 or P6", what, buf[1]);
    } else {
        rc = fail(err, errlen, "%s: not a PPM/PGM (P2, P3, P5, P6) or PNG image (unknown magic bytes)", what);
    }
    if (rc) pp_image_free(out);
    return rc;
}

int pp_image_read(const char *path, pp_image *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, errlen, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fail(err, errlen, "%s: not a regular file", path);
    }
    if (st.st_size > PP_IMAGE_MAX_FILE) {
        fclose(f);
        return fail(err, errlen, "%s: %lld bytes exceeds the %d-byte limit for images", path, (long long)st.st_size,
                    PP_IMAGE_MAX_FILE);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        fclose(f);
        return fail(err, errlen, "%s: out of memory", path);
    }
    size_t got = fread(buf, 1, size, f);
    int read_err = ferror(f);
    fclose(f);
    if (read_err || got != size) {
        free(buf);
        return fail(err, errlen, "%s: read %zu of %zu bytes", path, got, size);
    }
    int rc = pp_image_decode(buf, size, path, out, err, errlen);
    free(buf);
    return rc;
}

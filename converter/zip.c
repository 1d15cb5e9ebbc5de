/* zip.c: the ZIP reader (zip.h). Record layouts from APPNOTE.TXT, as miniz
 * writes them for torch (formats.md §1.1). */
#include "zip.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32); }

/* 1 when [off, off + len) lies inside a buffer of `size` bytes. */
static int in_range(uint64_t off, uint64_t len, size_t size) { return off <= size && len <= size - off; }

/* A name from the file made printable for a message. */
static const char *printable(char *buf, size_t n, const uint8_t *s, size_t len) {
    size_t k = 0;
    for (size_t i = 0; i < len && k + 4 < n; i++) buf[k++] = (s[i] < 0x20 || s[i] == 0x7F) ? '?' : (char)s[i];
    if (k + 4 >= n && len > k) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = 0;
    return buf;
}

void pp_zip_close(pp_zip *z) {
    if (!z) return;
    for (int i = 0; i < z->n_entries; i++) pp_free(z->entries[i].name);
    pp_free(z->entries);
    pp_free(z->prefix);
    z->entries = NULL;
    z->prefix = NULL;
    z->n_entries = 0;
}

/* The end record (ZIP64's when a locator precedes it): entry count and the
 * central directory's place, checked against the file. */
static pp_code find_directory(const uint8_t *b, size_t size, const char *w, uint64_t *n_out, uint64_t *cd_off_out,
                              uint64_t *cd_size_out, pp_error *err) {
    /* The EOCD is the last record; a comment of at most 65535 bytes may follow it. */
    size_t lo = size - 22 > 65535 ? size - 22 - 65535 : 0;
    size_t eocd = (size_t)-1;
    for (size_t p = size - 22 + 1; p-- > lo;) {
        if (rd32(b + p) == SIG_EOCD && (uint64_t)p + 22 + rd16(b + p + 20) <= size) {
            eocd = p;
            break;
        }
    }
    if (eocd == (size_t)-1)
        return pp_error_set(err, PP_ERR_FORMAT, "%s: no end-of-central-directory record in the last 64 KiB", w);
    if (rd16(b + eocd + 4) != 0 || rd16(b + eocd + 6) != 0)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: multi-disk zip archives are not supported", w);
    uint64_t n = rd16(b + eocd + 10), cd_size = rd32(b + eocd + 12), cd_off = rd32(b + eocd + 16);

    /* ZIP64: a 20-byte locator right before the EOCD points at the ZIP64 EOCD. */
    if (eocd >= 20 && rd32(b + eocd - 20) == SIG_LOC64) {
        const uint8_t *loc = b + eocd - 20;
        uint64_t off64 = rd64(loc + 8);
        if (!in_range(off64, 56, size) || off64 > eocd - 20)
            return pp_error_set(err, PP_ERR_FORMAT, "%s: ZIP64 end record offset %" PRIu64 " is outside the file", w,
                                off64);
        const uint8_t *e64 = b + off64;
        if (rd32(e64) != SIG_EOCD64)
            return pp_error_set(err, PP_ERR_FORMAT, "%s: no ZIP64 end record at offset %" PRIu64, w, off64);
        n = rd64(e64 + 32);
        cd_size = rd64(e64 + 40);
        cd_off = rd64(e64 + 48);
    } else if (n == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) {
        return pp_error_set(err, PP_ERR_FORMAT, "%s: ZIP64 values without a ZIP64 locator", w);
    }
    if (!in_range(cd_off, cd_size, size))
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s: central directory [%" PRIu64 ", +%" PRIu64
                            ") runs past the end of the file (%zu bytes)",
                            w, cd_off, cd_size, size);
    if (n > cd_size / 46 || n > PP_ZIP_MAX_ENTRIES)
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s: %" PRIu64 " entries cannot fit a %" PRIu64 "-byte central directory", w, n, cd_size);
    if (n == 0) return pp_error_set(err, PP_ERR_FORMAT, "%s: the archive is empty", w);
    *n_out = n;
    *cd_off_out = cd_off;
    *cd_size_out = cd_size;
    return PP_OK;
}

/* ZIP64 extra field [x, xend): the 8-byte values present are those whose 32-bit
 * field is saturated. 0 when one is cut short. */
static int zip64_extra(const uint8_t *x, const uint8_t *xend, uint64_t *usize, uint64_t *csize, uint64_t *loff) {
    while (xend - x >= 4) {
        uint16_t id = rd16(x), len = rd16(x + 2);
        if ((size_t)(xend - x - 4) < len) break;
        if (id == 0x0001) {
            const uint8_t *v = x + 4, *vend = v + len;
            uint64_t *field[3] = {usize, csize, loff};
            for (int k = 0; k < 3; k++)
                if (*field[k] == 0xFFFFFFFFu) {
                    if (vend - v < 8) return 0;
                    *field[k] = rd64(v);
                    v += 8;
                }
        }
        x += 4 + len;
    }
    return 1;
}

/* Central directory entry i at pos (the directory ends at end) into
 * z->entries[z->n_entries]; *rec its length. */
static pp_code read_entry(pp_zip *z, uint64_t i, uint64_t pos, uint64_t end, uint64_t *rec, pp_error *err) {
    const uint8_t *b = z->base;
    const char *w = z->what;
    size_t size = z->size;
    char nb[96];
    if (end - pos < 46 || rd32(b + pos) != SIG_CENTRAL)
        return pp_error_set(err, PP_ERR_FORMAT, "%s: central directory entry %" PRIu64 " at offset %" PRIu64 " is bad",
                            w, i, pos);
    const uint8_t *c = b + pos;
    uint16_t method = rd16(c + 10), nlen = rd16(c + 28), xlen = rd16(c + 30), clen = rd16(c + 32);
    uint64_t csize = rd32(c + 20), usize = rd32(c + 24), loff = rd32(c + 42);
    *rec = 46ull + nlen + xlen + clen;
    if (end - pos < *rec)
        return pp_error_set(err, PP_ERR_FORMAT, "%s: central directory entry %" PRIu64 " runs past the directory", w,
                            i);
    const uint8_t *name = c + 46;
    if (memchr(name, 0, nlen))
        return pp_error_set(err, PP_ERR_FORMAT, "%s: entry %" PRIu64 " has a NUL in its name", w, i);
    if (!zip64_extra(name + nlen, name + nlen + xlen, &usize, &csize, &loff))
        return pp_error_set(err, PP_ERR_FORMAT, "%s: entry '%s': truncated ZIP64 extra field", w,
                            printable(nb, sizeof nb, name, nlen));
    if (loff > size || size - loff < 30 || rd32(b + loff) != SIG_LOCAL)
        return pp_error_set(err, PP_ERR_FORMAT, "%s: entry '%s': no local header at offset %" PRIu64, w,
                            printable(nb, sizeof nb, name, nlen), loff);
    uint64_t doff = loff + 30 + rd16(b + loff + 26) + rd16(b + loff + 28);
    if (!in_range(doff, csize, size))
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s: entry '%s': data [%" PRIu64 ", +%" PRIu64
                            ") runs past the end of the file (%zu bytes)",
                            w, printable(nb, sizeof nb, name, nlen), doff, csize, size);
    pp_zip_entry *e = &z->entries[z->n_entries];
    e->name = pp_malloc((size_t)nlen + 1);
    if (!e->name) return pp_error_nomem(err, "%s: out of memory", w);
    memcpy(e->name, name, nlen);
    e->name[nlen] = 0;
    e->data_offset = doff;
    e->size = csize;
    e->usize = usize;
    e->method = method;
    z->n_entries++;
    return PP_OK;
}

pp_code pp_zip_open(const void *data, size_t size, const char *what, pp_zip *z, pp_error *err) {
    memset(z, 0, sizeof *z);
    z->base = data;
    z->size = size;
    snprintf(z->what, sizeof z->what, "%s", what ? what : "archive");
    const uint8_t *b = data;
    const char *w = z->what;
    if (!b || size < 22)
        return pp_error_set(err, PP_ERR_FORMAT, "%s: %zu bytes is too short for a zip archive", w, size);
    uint64_t n = 0, cd_off = 0, cd_size = 0;
    pp_code rc = find_directory(b, size, w, &n, &cd_off, &cd_size, err);
    if (rc) return rc;
    z->entries = pp_calloc((size_t)n, sizeof *z->entries);
    if (!z->entries) return pp_error_nomem(err, "%s: out of memory for %" PRIu64 " zip entries", w, n);
    uint64_t pos = cd_off, end = cd_off + cd_size, rec = 0;
    for (uint64_t i = 0; i < n && !rc; i++, pos += rec) rc = read_entry(z, i, pos, end, &rec, err);
    if (rc) {
        pp_zip_close(z);
        return rc;
    }
    const char *first = z->entries[0].name, *slash = strchr(first, '/');
    size_t plen = slash ? (size_t)(slash - first) : 0;
    z->prefix = pp_malloc(plen + 1);
    if (!z->prefix) {
        pp_zip_close(z);
        return pp_error_nomem(err, "%s: out of memory", w);
    }
    memcpy(z->prefix, first, plen);
    z->prefix[plen] = 0;
    return PP_OK;
}

const pp_zip_entry *pp_zip_find(const pp_zip *z, const char *name) {
    for (int i = 0; i < z->n_entries; i++)
        if (!strcmp(z->entries[i].name, name)) return &z->entries[i];
    return NULL;
}

const pp_zip_entry *pp_zip_find_record(const pp_zip *z, const char *rec) {
    size_t plen = z->prefix ? strlen(z->prefix) : 0, rlen = strlen(rec);
    for (int i = 0; i < z->n_entries; i++) {
        const char *nm = z->entries[i].name;
        if (plen) {
            if (strncmp(nm, z->prefix, plen) || nm[plen] != '/') continue;
            nm += plen + 1;
        }
        if (strlen(nm) == rlen && !memcmp(nm, rec, rlen)) return &z->entries[i];
    }
    return NULL;
}

pp_code pp_zip_entry_data(const pp_zip *z, const pp_zip_entry *e, const uint8_t **data, uint64_t *size, pp_error *err) {
    char nb[96];
    if (e->method != 0)
        return pp_error_set(err, PP_ERR_UNSUPPORTED,
                            "%s: entry '%s' is compressed (method %u); torch.save writes stored entries", z->what,
                            printable(nb, sizeof nb, (const uint8_t *)e->name, strlen(e->name)), e->method);
    if (e->size != e->usize)
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s: stored entry '%s' has sizes %" PRIu64 " and %" PRIu64 " that differ", z->what,
                            printable(nb, sizeof nb, (const uint8_t *)e->name, strlen(e->name)), e->size, e->usize);
    if (!in_range(e->data_offset, e->size, z->size))
        return pp_error_set(err, PP_ERR_FORMAT, "%s: entry '%s' runs past the end of the file", z->what,
                            printable(nb, sizeof nb, (const uint8_t *)e->name, strlen(e->name)));
    *data = z->base + e->data_offset;
    *size = e->size;
    return PP_OK;
}

/* The ZIP reader (converter/zip.h): real torch.save archives, archives built
 * here byte by byte (ZIP64 extra fields and end records, comments, compressed
 * entries), and damaged ones (truncated, offsets past the end, corrupted
 * central directories): refused with a message, never read out of bounds. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converter/zip.h"

#ifndef PP_SOURCE_DIR
#define PP_SOURCE_DIR "."
#endif

typedef struct zb {
    uint8_t *b;
    size_t n, cap;
} zb;

static void put(zb *z, const void *p, size_t n) {
    if (z->n + n > z->cap) {
        z->cap = (z->n + n) * 2 + 256;
        z->b = realloc(z->b, z->cap);
        cr_assert(z->b);
    }
    memcpy(z->b + z->n, p, n);
    z->n += n;
}
static void u16(zb *z, unsigned v) { put(z, (uint8_t[]){(uint8_t)v, (uint8_t)(v >> 8)}, 2); }
static void u32(zb *z, uint32_t v) {
    put(z, (uint8_t[]){(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)}, 4);
}
static void u64(zb *z, uint64_t v) {
    u32(z, (uint32_t)v);
    u32(z, (uint32_t)(v >> 32));
}

typedef struct ent {
    const char *name;
    const char *data;
    uint16_t method;
} ent;

/* An archive of n entries. zip64: every size and offset goes through ZIP64
 * extra fields and a ZIP64 end record; comment: bytes after the EOCD. */
static uint8_t *build(const ent *e, int n, int zip64, const char *comment, size_t *size) {
    zb z = {0};
    uint64_t offs[16];
    for (int i = 0; i < n; i++) {
        offs[i] = z.n;
        size_t len = strlen(e[i].data), nl = strlen(e[i].name);
        u32(&z, 0x04034b50);
        u16(&z, 45);
        u16(&z, 0x0808);
        u16(&z, e[i].method);
        u16(&z, 0);
        u16(&z, 0);
        u32(&z, 0);
        u32(&z, 0); /* sizes 0 in the local header, as torch writes */
        u32(&z, 0);
        u16(&z, (unsigned)nl);
        u16(&z, 4 + 7); /* an 'FB' padding field of 7 bytes */
        put(&z, e[i].name, nl);
        u16(&z, 0x4246);
        u16(&z, 7);
        put(&z, "ZZZZZZZ", 7);
        put(&z, e[i].data, len);
    }
    uint64_t cd = z.n;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(e[i].data), nl = strlen(e[i].name);
        u32(&z, 0x02014b50);
        u16(&z, 45);
        u16(&z, 45);
        u16(&z, 0x0808);
        u16(&z, e[i].method);
        u16(&z, 0);
        u16(&z, 0);
        u32(&z, 0);
        u32(&z, zip64 ? 0xFFFFFFFFu : (uint32_t)len);
        u32(&z, zip64 ? 0xFFFFFFFFu : (uint32_t)len);
        u16(&z, (unsigned)nl);
        u16(&z, zip64 ? 4 + 24 : 0);
        u16(&z, 0);
        u16(&z, 0);
        u16(&z, 0);
        u32(&z, 0);
        u32(&z, zip64 ? 0xFFFFFFFFu : (uint32_t)offs[i]);
        put(&z, e[i].name, nl);
        if (zip64) {
            u16(&z, 1);
            u16(&z, 24);
            u64(&z, len); /* uncompressed, compressed, offset: in that order */
            u64(&z, len);
            u64(&z, offs[i]);
        }
    }
    uint64_t cd_size = z.n - cd;
    if (zip64) {
        uint64_t e64 = z.n;
        u32(&z, 0x06064b50);
        u64(&z, 44);
        u16(&z, 45);
        u16(&z, 45);
        u32(&z, 0);
        u32(&z, 0);
        u64(&z, (uint64_t)n);
        u64(&z, (uint64_t)n);
        u64(&z, cd_size);
        u64(&z, cd);
        u32(&z, 0x07064b50);
        u32(&z, 0);
        u64(&z, e64);
        u32(&z, 1);
    }
    size_t cl = comment ? strlen(comment) : 0;
    u32(&z, 0x06054b50);
    u16(&z, 0);
    u16(&z, 0);
    u16(&z, zip64 ? 0xFFFF : (unsigned)n);
    u16(&z, zip64 ? 0xFFFF : (unsigned)n);
    u32(&z, zip64 ? 0xFFFFFFFFu : (uint32_t)cd_size);
    u32(&z, zip64 ? 0xFFFFFFFFu : (uint32_t)cd);
    u16(&z, (unsigned)cl);
    if (cl) put(&z, comment, cl);
    *size = z.n;
    return z.b;
}

static const ent ENTS[] = {
    {"arch/data.pkl", "pickle bytes", 0}, {"arch/data/0", "0123456789abcdef", 0}, {"arch/version", "3\n", 0}};

static void check_entries(const pp_zip *z) {
    cr_assert_eq(z->n_entries, 3);
    cr_expect_str_eq(z->prefix, "arch");
    const pp_zip_entry *e = pp_zip_find_record(z, "data/0");
    cr_assert(e);
    const uint8_t *d;
    uint64_t n;
    pp_error err = {0};
    cr_assert_eq(pp_zip_entry_data(z, e, &d, &n, &err), PP_OK, "%s", err.msg);
    cr_expect_eq(n, 16);
    cr_expect(!memcmp(d, "0123456789abcdef", 16));
    cr_expect(pp_zip_find(z, "arch/version") != NULL);
    cr_expect(pp_zip_find_record(z, "data.pkl") != NULL);
    cr_expect(pp_zip_find_record(z, "nope") == NULL);
}

Test(zip, stored) {
    size_t size;
    uint8_t *b = build(ENTS, 3, 0, NULL, &size);
    pp_zip z;
    pp_error err = {0};
    cr_assert_eq(pp_zip_open(b, size, "t.zip", &z, &err), PP_OK, "%s", err.msg);
    check_entries(&z);
    pp_zip_close(&z);
    free(b);
}

Test(zip, zip64_extra_fields_and_end_record) {
    size_t size;
    uint8_t *b = build(ENTS, 3, 1, NULL, &size);
    pp_zip z;
    pp_error err = {0};
    cr_assert_eq(pp_zip_open(b, size, "t.zip", &z, &err), PP_OK, "%s", err.msg);
    check_entries(&z);
    pp_zip_close(&z);
    free(b);
}

Test(zip, comment_after_eocd) {
    size_t size;
    uint8_t *b = build(ENTS, 3, 1, "a comment that holds PK\x05\x06 too", &size);
    pp_zip z;
    pp_error err = {0};
    cr_assert_eq(pp_zip_open(b, size, "t.zip", &z, &err), PP_OK, "%s", err.msg);
    check_entries(&z);
    pp_zip_close(&z);
    free(b);
}

Test(zip, compressed_refused_by_name) {
    ent e[] = {{"x/data.pkl", "abc", 0}, {"x/data/0", "deflated?", 8}};
    size_t size;
    uint8_t *b = build(e, 2, 0, NULL, &size);
    pp_zip z;
    pp_error err = {0};
    cr_assert_eq(pp_zip_open(b, size, "archive.zip", &z, &err), PP_OK, "%s", err.msg);
    const uint8_t *d;
    uint64_t n;
    cr_expect_neq(pp_zip_entry_data(&z, pp_zip_find(&z, "x/data/0"), &d, &n, &err), PP_OK);
    cr_expect_str_eq(err.msg,
                     "archive.zip: entry 'x/data/0' is compressed (method 8); torch.save writes stored entries");
    pp_zip_close(&z);
    free(b);
}

static void expect_refused(const uint8_t *b, size_t size, const char *needle) {
    pp_zip z;
    pp_error err = {0};
    cr_expect_neq(pp_zip_open(b, size, "t.zip", &z, &err), PP_OK, "accepted (%s)", needle);
    cr_expect(strstr(err.msg, needle) != NULL, "'%s' lacks '%s'", err.msg, needle);
    pp_zip_close(&z);
}

static void wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

Test(zip, damaged) {
    size_t size;
    uint8_t *b = build(ENTS, 3, 0, NULL, &size);
    uint8_t *c = malloc(size);
    size_t eocd = size - 22;
    expect_refused(b, 10, "too short");
    memcpy(c, b, size);
    c[eocd] = 'X';
    expect_refused(c, size, "no end-of-central-directory record");
    memcpy(c, b, size);
    wr32(c + eocd + 16, (uint32_t)size); /* central directory offset past the end */
    expect_refused(c, size, "runs past the end of the file");
    memcpy(c, b, size);
    c[eocd + 10] = 200; /* 200 entries */
    expect_refused(c, size, "entries cannot fit");
    /* An entry whose size runs past the end. */
    memcpy(c, b, size);
    size_t cd = b[eocd + 16] | (size_t)b[eocd + 17] << 8;
    wr32(c + cd + 20, 1u << 30);
    wr32(c + cd + 24, 1u << 30);
    expect_refused(c, size, "entry 'arch/data.pkl': data [");
    /* A local header offset that points nowhere. */
    memcpy(c, b, size);
    wr32(c + cd + 42, 5);
    expect_refused(c, size, "no local header at offset 5");
    free(c);
    free(b);
}

Test(zip, truncated_everywhere) {
    size_t size;
    uint8_t *b = build(ENTS, 3, 1, NULL, &size);
    for (size_t n = 0; n < size; n++) {
        uint8_t *c = malloc(n ? n : 1); /* exact size, so ASan sees any overread */
        memcpy(c, b, n);
        pp_zip z;
        pp_error err = {0};
        pp_code rc = pp_zip_open(c, n, "t.zip", &z, &err);
        if (rc == PP_OK) {
            for (int i = 0; i < z.n_entries; i++) {
                cr_assert_leq(z.entries[i].data_offset + z.entries[i].size, n);
            }
        } else {
            cr_expect(err.msg[0] != 0);
        }
        pp_zip_close(&z);
        free(c);
    }
    free(b);
}

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len);
    cr_assert_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

Test(zip, real_torch_archive) {
    size_t n;
    uint8_t *b = slurp(PP_SOURCE_DIR "/tests/fixtures/models/mlp.pt", &n);
    pp_zip z;
    pp_error err = {0};
    cr_assert_eq(pp_zip_open(b, n, "mlp.pt", &z, &err), PP_OK, "%s", err.msg);
    cr_expect_str_eq(z.prefix, "mlp");
    cr_expect(pp_zip_find_record(&z, "data.pkl") != NULL);
    cr_expect(pp_zip_find_record(&z, "version") != NULL);
    int storages = 0;
    for (int i = 0; i < z.n_entries; i++) {
        cr_expect_eq(z.entries[i].method, 0);
        if (strstr(z.entries[i].name, "/data/")) {
            storages++;
            cr_expect_eq(z.entries[i].data_offset % 64, 0, "torch aligns data to 64 bytes");
        }
    }
    cr_expect_eq(storages, 6);
    const uint8_t *d;
    uint64_t dn;
    cr_assert_eq(pp_zip_entry_data(&z, pp_zip_find_record(&z, "data/0"), &d, &dn, &err), PP_OK);
    cr_expect_eq(dn, 64 * 32 * 4, "fc1.weight storage");
    pp_zip_close(&z);
    free(b);
}

/* Deterministic corruption of a real archive's tail (central directory and end
 * records): every outcome is an error or an archive whose entries lie inside. */
Test(zip, corrupted_central_directory) {
    size_t n;
    uint8_t *b = slurp(PP_SOURCE_DIR "/tests/fixtures/models/resnet.pt", &n);
    uint8_t *c = malloc(n);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    size_t tail = n > 2048 ? 2048 : n;
    for (int it = 0; it < 3000; it++) {
        memcpy(c, b, n);
        int flips = 1 + it % 4;
        for (int k = 0; k < flips; k++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            size_t pos = n - 1 - (size_t)(s % tail);
            c[pos] = (uint8_t)(s >> 32);
        }
        pp_zip z;
        pp_error err = {0};
        if (pp_zip_open(c, n, "r.pt", &z, &err) == PP_OK) {
            for (int i = 0; i < z.n_entries; i++) cr_assert_leq(z.entries[i].data_offset + z.entries[i].size, n);
        }
        pp_zip_close(&z);
    }
    free(c);
    free(b);
}

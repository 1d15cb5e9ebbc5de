/* test_npy.c: .npy files written by NumPy read back; our writer round-trips every
 * dtype and produces NumPy's exact bytes; damaged headers are refused by name. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader/model.h"
#include "loader/npy.h"

#ifndef PP_SOURCE_DIR
#define PP_SOURCE_DIR "."
#endif
#define FIXTURES PP_SOURCE_DIR "/tests/fixtures/npy/"

static pp_npy read_ok(const char *name) {
    pp_npy a;
    pp_error err = {0};
    pp_code rc = pp_npy_read(name, &a, &err);
    cr_assert_eq(rc, PP_OK, "%s: %s", name, err.msg);
    return a;
}

static void read_refused(const char *path, pp_code code, const char *substr) {
    pp_npy a;
    memset(&a, 0x5A, sizeof a);
    pp_error err = {0};
    pp_code rc = pp_npy_read(path, &a, &err);
    cr_assert_eq(rc, code, "%s: expected %s, got %s: %s", path, pp_code_name(code), pp_code_name(rc), err.msg);
    cr_assert(strstr(err.msg, substr), "message \"%s\" lacks \"%s\"", err.msg, substr);
    cr_assert_null(a.data, "*out must be zeroed on failure");
    cr_assert_eq(a.nbytes, 0);
}

static void mem_refused(const void *buf, size_t n, pp_code code, const char *substr) {
    pp_npy a;
    pp_error err = {0};
    pp_code rc = pp_npy_read_memory(buf, n, "x.npy", &a, &err);
    cr_assert_eq(rc, code, "expected %s, got %s: %s", pp_code_name(code), pp_code_name(rc), err.msg);
    cr_assert(strstr(err.msg, substr), "message \"%s\" lacks \"%s\"", err.msg, substr);
    cr_assert(strncmp(err.msg, "x.npy: ", 7) == 0, "message does not name the file: %s", err.msg);
    cr_assert_null(a.data);
}

/* A version 1.0 file around the given dict text and payload, laid out as NumPy does. */
static size_t make_npy(unsigned char *out, size_t cap, const char *dict, const void *payload, size_t n) {
    size_t dl = strlen(dict), total = (10 + dl + 1 + 63) / 64 * 64;
    cr_assert(total + n <= cap);
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)((total - 10) & 0xFF);
    out[9] = (unsigned char)((total - 10) >> 8);
    memcpy(out + 10, dict, dl);
    memset(out + 10 + dl, ' ', total - 10 - dl - 1);
    out[total - 1] = '\n';
    if (n) memcpy(out + total, payload, n);
    return total + n;
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)len + 1);
    cr_assert_eq(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

static char tmpdir[256];

static void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pp_test_npy.XXXXXX");
    cr_assert(mkdtemp(tmpdir));
}

static int count_files(void) {
    DIR *d = opendir(tmpdir);
    cr_assert(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void remove_tmpdir(void) {
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    char p[600];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(tmpdir);
}

/* ---- NumPy's files ------------------------------------------------------------ */

Test(npy, numpy_f32_2x3) {
    pp_npy a = read_ok(FIXTURES "f32_2x3.npy");
    cr_assert_eq(a.dtype, PP_DTYPE_F32);
    cr_assert_eq(a.rank, 2);
    cr_assert_eq(a.dims[0], 2);
    cr_assert_eq(a.dims[1], 3);
    cr_assert_eq(a.nbytes, 24);
    const float *v = a.data;
    for (int i = 0; i < 6; i++) cr_assert_float_eq(v[i], (float)i * 0.5f, 0);
    pp_npy_free(&a);
    cr_assert_null(a.data);
}

Test(npy, numpy_f16_4) {
    pp_npy a = read_ok(FIXTURES "f16_4.npy");
    cr_assert_eq(a.dtype, PP_DTYPE_F16);
    cr_assert_eq(a.rank, 1);
    cr_assert_eq(a.dims[0], 4);
    const uint16_t want[4] = {0x3C00, 0xC000, 0x3800, 0x7BFF}; /* 1, -2, 0.5, 65504 */
    cr_assert(memcmp(a.data, want, 8) == 0);
    pp_npy_free(&a);
}

Test(npy, numpy_i64_3) {
    pp_npy a = read_ok(FIXTURES "i64_3.npy");
    cr_assert_eq(a.dtype, PP_DTYPE_I64);
    cr_assert_eq(a.dims[0], 3);
    const int64_t *v = a.data;
    cr_assert_eq(v[0], -1);
    cr_assert_eq(v[1], 0);
    cr_assert_eq(v[2], INT64_C(1) << 40);
    pp_npy_free(&a);
}

Test(npy, numpy_i32_2x2) {
    pp_npy a = read_ok(FIXTURES "i32_2x2.npy");
    cr_assert_eq(a.dtype, PP_DTYPE_I32);
    cr_assert_eq(a.rank, 2);
    const int32_t *v = a.data;
    cr_assert_eq(v[0], 1);
    cr_assert_eq(v[1], -2);
    cr_assert_eq(v[2], INT32_MAX);
    cr_assert_eq(v[3], INT32_MIN);
    pp_npy_free(&a);
}

Test(npy, numpy_bool_5) {
    pp_npy a = read_ok(FIXTURES "bool_5.npy");
    cr_assert_eq(a.dtype, PP_DTYPE_BOOL);
    cr_assert_eq(a.nbytes, 5);
    const unsigned char want[5] = {1, 0, 1, 1, 0};
    cr_assert(memcmp(a.data, want, 5) == 0);
    pp_npy_free(&a);
}

Test(npy, numpy_f32_scalar) {
    pp_npy a = read_ok(FIXTURES "f32_scalar.npy");
    cr_assert_eq(a.dtype, PP_DTYPE_F32);
    cr_assert_eq(a.rank, 0);
    cr_assert_eq(a.nbytes, 4);
    cr_assert_float_eq(*(const float *)a.data, 3.25f, 0);
    pp_npy_free(&a);
}

Test(npy, numpy_refused) {
    read_refused(FIXTURES "f64_2.npy", PP_ERR_UNSUPPORTED,
                 "f64_2.npy: dtype '<f8' is not supported (f32, f16, i64, i32, bool, u8, i8 are)");
    read_refused(FIXTURES "f32_fortran.npy", PP_ERR_UNSUPPORTED,
                 "f32_fortran.npy: fortran_order is True; only C order is supported");
    read_refused(FIXTURES "f32_big_endian.npy", PP_ERR_UNSUPPORTED,
                 "f32_big_endian.npy: dtype '>f4' is big-endian, which is not supported");
    read_refused(FIXTURES "no_such_file.npy", PP_ERR_IO, "no_such_file.npy: cannot open");
    read_refused(FIXTURES, PP_ERR_IO, "not a regular file");
}

/* ---- our writer ------------------------------------------------------------------ */

Test(npy, writer_matches_numpy_bytes) {
    make_tmpdir();
    static const struct {
        const char *fixture;
        pp_dtype dtype;
        int rank;
        int64_t dims[2];
    } cases[] = {
        {"f32_2x3.npy", PP_DTYPE_F32, 2, {2, 3}}, {"f16_4.npy", PP_DTYPE_F16, 1, {4}},
        {"i64_3.npy", PP_DTYPE_I64, 1, {3}},      {"i32_2x2.npy", PP_DTYPE_I32, 2, {2, 2}},
        {"bool_5.npy", PP_DTYPE_BOOL, 1, {5}},    {"f32_scalar.npy", PP_DTYPE_F32, 0, {0}},
    };
    char src[512], dst[512];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(src, sizeof src, FIXTURES "%s", cases[i].fixture);
        snprintf(dst, sizeof dst, "%s/%s", tmpdir, cases[i].fixture);
        pp_npy a = read_ok(src);
        pp_error err = {0};
        cr_assert_eq(pp_npy_write(dst, cases[i].dtype, cases[i].rank, cases[i].dims, a.data, &err), PP_OK, "%s",
                     err.msg);
        size_t n1, n2;
        unsigned char *want = slurp(src, &n1), *got = slurp(dst, &n2);
        cr_assert_eq(n1, n2, "%s: %zu bytes from NumPy, %zu from us", cases[i].fixture, n1, n2);
        cr_assert(memcmp(want, got, n1) == 0, "%s: bytes differ from NumPy's", cases[i].fixture);
        free(want);
        free(got);
        pp_npy_free(&a);
    }
    cr_assert_eq(count_files(), (int)(sizeof cases / sizeof *cases), "temporary files left behind");
    remove_tmpdir();
}

Test(npy, round_trip_every_dtype) {
    make_tmpdir();
    static const pp_dtype dts[] = {PP_DTYPE_F32,  PP_DTYPE_F16, PP_DTYPE_I64, PP_DTYPE_I32,
                                   PP_DTYPE_BOOL, PP_DTYPE_U8,  PP_DTYPE_I8};
    static const struct {
        int rank;
        int64_t dims[PP_MAX_RANK];
    } shapes[] = {
        {0, {0}}, {1, {7}}, {2, {3, 5}}, {3, {2, 0, 4}}, {8, {1, 2, 1, 3, 1, 2, 1, 2}}, {1, {0}},
    };
    unsigned char buf[1024];
    char path[512];
    for (size_t d = 0; d < sizeof dts / sizeof *dts; d++) {
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            size_t n = pp_dtype_size(dts[d]);
            for (int k = 0; k < shapes[s].rank; k++) n *= (size_t)shapes[s].dims[k];
            for (size_t i = 0; i < n; i++)
                buf[i] = dts[d] == PP_DTYPE_BOOL ? (unsigned char)(i % 3 == 0) : (unsigned char)(i * 37 + d);
            snprintf(path, sizeof path, "%s/a_%zu_%zu.npy", tmpdir, d, s);
            pp_error err = {0};
            cr_assert_eq(pp_npy_write(path, dts[d], shapes[s].rank, shapes[s].dims, buf, &err), PP_OK, "%s", err.msg);
            pp_npy a = read_ok(path);
            cr_assert_eq(a.dtype, dts[d]);
            cr_assert_eq(a.rank, shapes[s].rank);
            for (int k = 0; k < a.rank; k++) cr_assert_eq(a.dims[k], shapes[s].dims[k]);
            cr_assert_eq(a.nbytes, n);
            if (n) cr_assert(memcmp(a.data, buf, n) == 0, "%s: payload differs", pp_dtype_name(dts[d]));
            pp_npy_free(&a);
        }
    }
    remove_tmpdir();
}

/* Header-only reads and row reads (chunked runs) against the whole-file reader. */
Test(npy, header_and_rows_match_whole_reads) {
    make_tmpdir();
    static const char *fixtures[] = {"f32_2x3.npy", "f16_4.npy", "i64_3.npy", "i32_2x2.npy", "bool_5.npy"};
    for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) {
        char path[512];
        snprintf(path, sizeof path, FIXTURES "%s", fixtures[i]);
        pp_npy a = read_ok(path), h;
        uint64_t off;
        pp_error err = {0};
        cr_assert_eq(pp_npy_read_header(path, &h, &off, &err), PP_OK, "%s: %s", path, err.msg);
        size_t size;
        unsigned char *file = slurp(path, &size);
        cr_assert_eq(h.dtype, a.dtype);
        cr_assert_eq(h.rank, a.rank);
        for (int d = 0; d < a.rank; d++) cr_assert_eq(h.dims[d], a.dims[d]);
        cr_assert_null(h.data);
        cr_assert_eq(h.nbytes, a.nbytes);
        cr_assert_eq(off + a.nbytes, size, "%s: data offset %llu", path, (unsigned long long)off);
        size_t row = a.nbytes / (size_t)a.dims[0];
        unsigned char rows[64];
        for (int64_t first = 0; first < a.dims[0]; first++)
            for (int64_t count = 0; first + count <= a.dims[0]; count++) {
                memset(rows, 0xA5, sizeof rows);
                cr_assert_eq(pp_npy_read_rows(path, &h, off, first, count, rows, &err), PP_OK, "%s", err.msg);
                cr_assert(memcmp(rows, (unsigned char *)a.data + first * (int64_t)row, (size_t)count * row) == 0,
                          "%s: rows %lld+%lld differ", path, (long long)first, (long long)count);
                cr_assert_eq(rows[(size_t)count * row], 0xA5, "%s: wrote past %lld rows", path, (long long)count);
            }
        cr_assert_eq(pp_npy_read_rows(path, &h, off, 1, a.dims[0], rows, &err), PP_ERR_INVALID_ARG);
        cr_assert(strstr(err.msg, "outside axis 0"), "%s", err.msg);
        free(file);
        pp_npy_free(&a);
    }
    /* Rows are checked as a whole read is: a bool that is not 0 or 1 is refused by element. */
    unsigned char buf[256], bools[4] = {0, 1, 7, 1};
    size_t n = make_npy(buf, sizeof buf, "{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", bools, 4);
    char path[512];
    snprintf(path, sizeof path, "%s/bad_bool.npy", tmpdir);
    FILE *f = fopen(path, "wb");
    cr_assert(f && fwrite(buf, 1, n, f) == n);
    fclose(f);
    pp_npy h;
    uint64_t off;
    pp_error err = {0};
    cr_assert_eq(pp_npy_read_header(path, &h, &off, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_npy_read_rows(path, &h, off, 0, 2, bools, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_npy_read_rows(path, &h, off, 1, 3, bools, &err), PP_ERR_FORMAT);
    cr_assert(strstr(err.msg, "bool element 2 (byte 130) is 7"), "%s", err.msg);
    /* A header that promises more data than the file holds is refused without reading it. */
    cr_assert_eq(truncate(path, (off_t)n - 1), 0);
    cr_assert_eq(pp_npy_read_header(path, &h, &off, &err), PP_ERR_FORMAT);
    cr_assert(strstr(err.msg, "needs 4"), "%s", err.msg);
    remove_tmpdir();
}

Test(npy, writer_refusals) {
    make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/x.npy", tmpdir);
    pp_error err = {0};
    double d2[2] = {1, 2};
    cr_assert_eq(pp_npy_write(path, PP_DTYPE_F64, 1, (int64_t[]){2}, d2, &err), PP_ERR_UNSUPPORTED);
    cr_assert(strstr(err.msg, "dtype f64 cannot be written"), "%s", err.msg);
    cr_assert_eq(pp_npy_write(path, PP_DTYPE_BF16, 1, (int64_t[]){2}, d2, &err), PP_ERR_UNSUPPORTED);
    cr_assert_eq(pp_npy_write(path, PP_DTYPE_F32, 1, (int64_t[]){-1}, d2, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "dims[0] = -1 is negative"), "%s", err.msg);
    cr_assert_eq(pp_npy_write(path, PP_DTYPE_F32, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, d2, &err),
                 PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "rank 9"), "%s", err.msg);
    cr_assert_eq(pp_npy_write(path, PP_DTYPE_F32, 2, (int64_t[]){INT64_C(1) << 40, INT64_C(1) << 40}, d2, &err),
                 PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "dims overflow"), "%s", err.msg);
    cr_assert_eq(pp_npy_write(path, PP_DTYPE_F32, 1, (int64_t[]){2}, NULL, &err), PP_ERR_INVALID_ARG);
    cr_assert_eq(count_files(), 0, "a refused write left a file");
    snprintf(path, sizeof path, "%s/missing/x.npy", tmpdir);
    cr_assert_eq(pp_npy_write(path, PP_DTYPE_F32, 1, (int64_t[]){2}, d2, &err), PP_ERR_IO);
    cr_assert(strstr(err.msg, "temporary"), "%s", err.msg);
    cr_assert_eq(count_files(), 0);
    remove_tmpdir();
}

/* ---- damaged headers --------------------------------------------------------------- */

static const float two[2] = {1.5f, -2.0f};
#define GOOD "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"

Test(npy, good_handmade) {
    unsigned char buf[512];
    size_t n = make_npy(buf, sizeof buf, GOOD, two, 8);
    pp_npy a;
    pp_error err = {0};
    cr_assert_eq(pp_npy_read_memory(buf, n, "x.npy", &a, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(a.nbytes, 8);
    pp_npy_free(&a);
    /* Double quotes, no trailing comma, other key order, spare spaces, u1/i1 spellings. */
    const char *ok[] = {
        "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<f4\"}",
        "{ 'descr' : '<f4' , 'fortran_order' : False , 'shape' : ( 2 , ) , }",
        "{'descr': '<u1', 'fortran_order': False, 'shape': (8,), }",
        "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 4), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        n = make_npy(buf, sizeof buf, ok[i], two, 8);
        cr_assert_eq(pp_npy_read_memory(buf, n, "x.npy", &a, &err), PP_OK, "%s: %s", ok[i], err.msg);
        pp_npy_free(&a);
    }
    /* Version 2.0: a u32 header length. */
    unsigned char v2[256];
    size_t dl = strlen(GOOD), total = 128;
    memcpy(v2, "\x93NUMPY\x02\x00", 8);
    uint32_t hl = (uint32_t)(total - 12);
    memcpy(v2 + 8, &hl, 4);
    memcpy(v2 + 12, GOOD, dl);
    memset(v2 + 12 + dl, ' ', total - 12 - dl - 1);
    v2[total - 1] = '\n';
    memcpy(v2 + total, two, 8);
    cr_assert_eq(pp_npy_read_memory(v2, total + 8, "x.npy", &a, &err), PP_OK, "%s", err.msg);
    cr_assert_float_eq(((const float *)a.data)[1], -2.0f, 0);
    pp_npy_free(&a);
    v2[6] = 3; /* 3.0 differs only in allowing UTF-8 */
    cr_assert_eq(pp_npy_read_memory(v2, total + 8, "x.npy", &a, &err), PP_OK, "%s", err.msg);
    pp_npy_free(&a);
    v2[6] = 4;
    mem_refused(v2, total + 8, PP_ERR_UNSUPPORTED, ".npy version 4.0 at byte 6 is not supported");
}

Test(npy, damaged_headers) {
    unsigned char buf[1024];
    size_t n;
    mem_refused("", 0, PP_ERR_FORMAT, "not a .npy file");
    mem_refused("PK\x03\x04zipzipzip", 12, PP_ERR_FORMAT, "not a .npy file (no \\x93NUMPY magic at byte 0)");
    mem_refused("\x93NUMPY\x01", 7, PP_ERR_FORMAT, "the file is 7 bytes, too short for a .npy header");
    mem_refused("\x93NUMPY\x02\x00\x10\x00", 10, PP_ERR_FORMAT, "too short for a version 2.0 header");

    mem_refused("\x93NUMPY\x01\x00\x06\x00{'desc", 16, PP_ERR_FORMAT,
                "header at byte 16: unterminated string as a dict key");
    mem_refused("\x93NUMPY\x01\x00\x00\x00", 10, PP_ERR_FORMAT,
                "header at byte 10: header ends where '{' to open the header dict was expected");

    n = make_npy(buf, sizeof buf, GOOD, two, 8);
    buf[9] = 0x40; /* header length 0x4076 */
    mem_refused(buf, n, PP_ERR_FORMAT, "header length 16502 at byte 8 runs past the end of the file");

    static const struct {
        const char *dict;
        pp_code code;
        const char *msg;
    } cases[] = {
        {"['descr', '<f4']", PP_ERR_FORMAT, "header at byte 10: expected '{' to open the header dict, found '['"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", PP_ERR_FORMAT,
         "expected ',' or '}' after the value of 'shape'"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,), }", PP_ERR_FORMAT,
         "header at byte 27: expected ',' or '}' after the value of 'descr'"},
        {"{'descr' '<f4', 'fortran_order': False, 'shape': (2,), }", PP_ERR_FORMAT,
         "header at byte 19: expected ':' after a dict key, found '\''"},
        {"{'descr': '<f4", PP_ERR_FORMAT, "header at byte 53: string for 'descr' is longer than 31 bytes"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", PP_ERR_FORMAT,
         "unexpected key 'extra'"},
        {"{'descr': '<f4', 'fortran_order': False}", PP_ERR_FORMAT, "the header dict lacks 'shape'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", PP_ERR_FORMAT,
         "'descr' appears twice"},
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}", PP_ERR_FORMAT,
         "'fortran_order' must be True or False"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", PP_ERR_FORMAT,
         "'descr' is a structured dtype"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,2)}", PP_ERR_FORMAT,
         "shape has more than 8 dimensions"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", PP_ERR_FORMAT, "shape has a negative dimension"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", PP_ERR_FORMAT,
         "dimension 0 overflows a 64-bit integer"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", PP_ERR_FORMAT,
         "shape dims overflow"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", PP_ERR_FORMAT, "expected ',' or ')' in 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': 2}", PP_ERR_FORMAT, "expected '(' to open 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} junk", PP_ERR_FORMAT,
         "unexpected bytes after the header dict"},
        {"{'descr': 'O', 'fortran_order': False, 'shape': (2,)}", PP_ERR_UNSUPPORTED,
         "dtype 'O' is not supported (f32, f16, i64, i32, bool, u8, i8 are)"},
        {"{'descr': '<c8', 'fortran_order': False, 'shape': (2,)}", PP_ERR_UNSUPPORTED, "dtype '<c8' is not supported"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", PP_ERR_FORMAT,
         "the data after byte 128 is 8 bytes but shape (3,) of f32 needs 12"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': ()}", PP_ERR_FORMAT,
         "the data after byte 64 is 8 bytes but shape () of f32 needs 4"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1)}", PP_ERR_FORMAT, "shape (1, 1) of f32 needs 4"},
        /* The payload is two floats, 1.5 and -2: byte 2 of 1.5f is 0xC0. */
        {"{'descr': '|b1', 'fortran_order': False, 'shape': (8,)}", PP_ERR_FORMAT,
         "bool element 2 (byte 130) is 192, not 0 or 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        n = make_npy(buf, sizeof buf, cases[i].dict, two, 8);
        mem_refused(buf, n, cases[i].code, cases[i].msg);
    }
}

/* Every prefix of a valid file, and random damage to its header, is refused or
 * read without a stray access (ASan watches). */
Test(npy, truncations_and_garbage_never_crash) {
    size_t n;
    unsigned char *full = slurp(FIXTURES "f32_2x3.npy", &n);
    for (size_t cut = 0; cut < n; cut++) {
        unsigned char *p = malloc(cut ? cut : 1); /* exactly cut bytes, so ASan sees any overrun */
        memcpy(p, full, cut);
        pp_npy a;
        pp_error err = {0};
        cr_assert_neq(pp_npy_read_memory(p, cut, "cut.npy", &a, &err), PP_OK, "prefix of %zu bytes accepted", cut);
        cr_assert(err.msg[0]);
        free(p);
    }
    uint64_t rng = 88172645463325252ull;
    unsigned char *p = malloc(n);
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(p, full, n);
        for (int e = 0; e < 1 + iter % 3; e++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            size_t at = 6 + (size_t)(rng % (128 - 6)); /* in the preamble */
            static const char pool[] = "{}()[],:' \"\n0123456789-LTrueFalse<>|f4i8b1\x00\xff";
            p[at] = (unsigned char)pool[(rng >> 32) % (sizeof pool - 1)];
        }
        pp_npy a;
        pp_error err = {0};
        if (pp_npy_read_memory(p, n, "fuzz.npy", &a, &err) == PP_OK) {
            size_t sum = 0;
            for (size_t i = 0; i < a.nbytes; i++) sum += ((unsigned char *)a.data)[i];
            (void)sum;
            pp_npy_free(&a);
        } else {
            cr_assert(err.msg[0]);
            cr_assert_null(a.data);
        }
    }
    free(p);
    free(full);
}

Test(npy, allocation_failure) {
    size_t n;
    unsigned char *full = slurp(FIXTURES "f32_2x3.npy", &n);
    pp_npy a;
    pp_error err = {0};
    pp_fault_arm_alloc(1);
    pp_code rc = pp_npy_read_memory(full, n, "f32_2x3.npy", &a, &err);
    pp_fault_arm_alloc(0);
    cr_assert_eq(rc, PP_ERR_NOMEM);
    cr_assert(strstr(err.msg, "cannot allocate 24 bytes"), "%s", err.msg);
    cr_assert_null(a.data);
    free(full);
}

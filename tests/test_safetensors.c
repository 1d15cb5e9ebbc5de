/* safetensors (converter/safetensors.h): files written by the safetensors
 * library (tests/fixtures/ckpt), and headers written here: valid ones (dtypes,
 * scalars, empty tensors, padding, metadata) and every broken rule refused
 * with a message: holes, overlaps, size mismatches, header too long, bad JSON,
 * duplicate keys, unknown dtypes, trailing bytes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "converter/checkpoint.h"
#include "converter/safetensors.h"

#ifndef PP_SOURCE_DIR
#define PP_SOURCE_DIR "."
#endif
#define CKPT PP_SOURCE_DIR "/tests/fixtures/ckpt/"

/* [u64 N][header][data_len bytes of i & 0xFF] in an exact-size buffer. */
static uint8_t *make(const char *header, size_t data_len, size_t *size) {
    size_t hn = strlen(header);
    *size = 8 + hn + data_len;
    uint8_t *b = malloc(*size);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hn >> (8 * i));
    memcpy(b + 8, header, hn);
    for (size_t i = 0; i < data_len; i++) b[8 + hn + i] = (uint8_t)i;
    return b;
}

static pp_ckpt *fresh(void) {
    if (!pp_safetensors_available()) cr_skip_test("built without cJSON: safetensors files are refused");
    pp_ckpt *c = pp_calloc(1, sizeof *c);
    cr_assert(c);
    return c;
}

/* The set borrows from the buffer: *buf is freed by the caller after the checks. */
static pp_ckpt *ok(const char *header, size_t data_len, uint8_t **buf) {
    size_t n;
    uint8_t *b = make(header, data_len, &n);
    pp_ckpt *c = fresh();
    pp_error err = {0};
    cr_assert_eq(pp_safetensors_load(c, b, n, "t.safetensors", &err), PP_OK, "%s", err.msg);
    *buf = b;
    return c;
}

static void bad(const char *header, size_t data_len, const char *needle) {
    size_t n;
    uint8_t *b = make(header, data_len, &n);
    pp_ckpt *c = fresh();
    pp_error err = {0};
    cr_expect_neq(pp_safetensors_load(c, b, n, "t.safetensors", &err), PP_OK, "accepted: %s", header);
    cr_expect(strstr(err.msg, needle) != NULL, "'%s' lacks '%s'", err.msg, needle);
    pp_ckpt_free(c);
    free(b);
}

Test(safetensors, valid) {
    uint8_t *buf;
    pp_ckpt *c = ok("{\"__metadata__\":{\"format\":\"pt\"},"
                    "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                    "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[12,20]},"
                    "\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[20,20]},"
                    "\"q\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[20,24]},"
                    "\"z\":{\"dtype\":\"BOOL\",\"shape\":[1,1],\"data_offsets\":[24,25]}}   ",
                    25, &buf);
    cr_assert_eq(c->n, 6);
    const pp_ckpt_tensor *t = pp_ckpt_find(c, "a");
    cr_assert(t && t->dtype == PP_DTYPE_F32 && t->rank == 1 && t->dims[0] == 2 && t->nbytes == 8);
    cr_expect_eq(((const uint8_t *)t->data)[5], 5);
    t = pp_ckpt_find(c, "s");
    cr_assert(t && t->rank == 0 && t->nbytes == 8 && t->dtype == PP_DTYPE_I64);
    t = pp_ckpt_find(c, "e");
    cr_assert(t && t->rank == 2 && t->nbytes == 0);
    t = pp_ckpt_find(c, "q"); /* int16 20,21 | 22,23 little-endian, widened */
    cr_assert(t && t->dtype == PP_DTYPE_I32 && t->nbytes == 8);
    cr_expect_eq(((const int32_t *)t->data)[0], 20 | 21 << 8);
    cr_expect_eq(((const int32_t *)t->data)[1], 22 | 23 << 8);
    cr_expect_eq(pp_ckpt_find(c, "z")->dtype, PP_DTYPE_BOOL);
    pp_ckpt_free(c);
    free(buf);
    /* leading whitespace before '{' (writers page-align the data this way) and no tensors at all */
    c = ok("  \n{\"x\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}", 3, &buf);
    cr_expect_eq(c->n, 1);
    pp_ckpt_free(c);
    free(buf);
    c = ok("{}", 0, &buf);
    cr_expect_eq(c->n, 0);
    pp_ckpt_free(c);
    free(buf);
}

Test(safetensors, tiling_rule) {
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
        12, "tensor 'b' starts at 8 but the previous one ends at 4 (a hole)");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
        8, "(an overlap)");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
        "starts at 4 but the previous one ends at 0");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
        "tensor 'a': data_offsets [0, 8) hold 8 bytes, its shape and dtype need 12");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 9,
        "the tensors cover 8 data bytes but the file has 9 after the header");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
        "the tensors cover 8 data bytes but the file has 4");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "BEGIN <= END");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", 8, "");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,1e300]}}", 8, "data_offsets");
}

Test(safetensors, header) {
    /* N over the limit, and N past the end of the file. */
    uint8_t b[16] = {0};
    uint64_t big = 100000001;
    memcpy(b, &big, 8);
    pp_ckpt *c = fresh();
    pp_error err = {0};
    cr_expect_neq(pp_safetensors_load(c, b, sizeof b, "t.safetensors", &err), PP_OK);
    cr_expect(strstr(err.msg, "header length 100000001 is over the limit") != NULL, "%s", err.msg);
    uint64_t past = 9;
    memcpy(b, &past, 8);
    cr_expect_neq(pp_safetensors_load(c, b, sizeof b, "t.safetensors", &err), PP_OK);
    cr_expect(strstr(err.msg, "runs past the end of the file") != NULL, "%s", err.msg);
    cr_expect_neq(pp_safetensors_load(c, b, 5, "t.safetensors", &err), PP_OK);
    cr_expect(strstr(err.msg, "too short") != NULL, "%s", err.msg);
    pp_ckpt_free(c);
    bad("[1,2]", 0, "does not start with '{'");
    bad("{\"a\":", 0, "malformed near byte");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", 4,
        "bytes after the JSON header's object");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
        8, "tensor 'a' appears twice in the header");
    bad("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
        "dtype F8_E4M3, which the engine lacks");
    bad("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "unknown dtype 'Q4'");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
        "shape[0] is not a non-negative integer");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "shape[0]");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "rank 9");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "data_offsets is not [BEGIN, END]");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "needs dtype");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 4, "unknown field");
    bad("{\"a\":3}", 0, "tensor 'a' is not a JSON object");
    bad("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ values must be strings");
    bad("{\"__metadata__\":[]}", 0, "__metadata__ must appear once, as an object");
}

Test(safetensors, truncated_everywhere) {
    size_t n;
    uint8_t *b = make("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, &n);
    for (size_t k = 0; k < n; k++) {
        uint8_t *c = malloc(k ? k : 1);
        memcpy(c, b, k);
        pp_ckpt *ck = fresh();
        pp_error err = {0};
        cr_expect_neq(pp_safetensors_load(ck, c, k, "t", &err), PP_OK, "accepted at %zu bytes", k);
        pp_ckpt_free(ck);
        free(c);
    }
    free(b);
}

Test(safetensors, library_files) {
    if (!pp_safetensors_available()) cr_skip_test("built without cJSON");
    pp_error err = {0};
    pp_ckpt *c;
    cr_assert_eq(pp_ckpt_open(CKPT "mlp.safetensors", &c, &err), PP_OK, "%s", err.msg);
    cr_expect_eq(c->n, 6);
    const pp_ckpt_tensor *t = pp_ckpt_find(c, "fc1.weight");
    cr_assert(t && t->rank == 2 && t->dims[0] == 64 && t->dims[1] == 32 && t->dtype == PP_DTYPE_F32);
    pp_ckpt_free(c);
    cr_assert_eq(pp_ckpt_open(CKPT "mlp_sharded.safetensors.index.json", &c, &err), PP_OK, "%s", err.msg);
    cr_expect_eq(c->n, 6);
    cr_expect_eq(c->n_maps, 3, "index + 2 shards");
    cr_expect_str_eq(c->format, "safetensors (2 shards)");
    pp_ckpt_free(c);
}

Test(safetensors, index_refusals) {
    if (!pp_safetensors_available()) cr_skip_test("built without cJSON");
    char dir[] = "/tmp/pp_st_XXXXXX", path[128];
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.index.json", dir);
    const char *cases[][2] = {
        {"{\"weight_map\":{\"a\":\"../etc/passwd\"}}", "is not a plain file name"},
        {"{\"weight_map\":{\"a\":\"missing.safetensors\"}}", "missing.safetensors"},
        {"{\"weight_map\":[]}", "no \"weight_map\" object"},
        {"{\"weight_map\":", "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f = fopen(path, "w");
        fputs(cases[i][0], f);
        fclose(f);
        pp_ckpt *c;
        pp_error err = {0};
        cr_expect_neq(pp_ckpt_open(path, &c, &err), PP_OK);
        cr_expect(strstr(err.msg, cases[i][1]) != NULL, "'%s' lacks '%s'", err.msg, cases[i][1]);
    }
    unlink(path);
    rmdir(dir);
}

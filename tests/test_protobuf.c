/* The protobuf wire-format reader (converter/protobuf.h): varints at their
 * limits, every wire type, packed and unpacked repeats, unknown fields, and
 * malformed bytes refused cleanly at every truncation point. Buffers are heap
 * copies of exactly the bytes under test, so AddressSanitizer catches any read
 * past the end. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "converter/protobuf.h"

/* An exact-size heap copy: one byte past it is a red zone. */
static uint8_t *dup_bytes(const void *p, size_t n) {
    uint8_t *d = calloc(n ? n : 1, 1);
    if (!d) abort();
    if (n) memcpy(d, p, n);
    return d;
}

static int varint(const uint8_t *bytes, size_t n, uint64_t *v, size_t *used) {
    uint8_t *b = dup_bytes(bytes, n);
    const uint8_t *p = b;
    int rc = pp_pb_read_varint(&p, b + n, v);
    pp_pb_cursor whole;
    pp_pb_init(&whole, b, n, "varint");
    if (used) *used = pp_pb_offset(&whole, p);
    free(b);
    return rc;
}

/* ---- a tiny encoder for building messages --------------------------------- */

typedef struct buf {
    uint8_t b[4096];
    size_t n;
} buf;

static void put_varint(buf *o, uint64_t v) {
    do {
        uint8_t c = v & 0x7F;
        v >>= 7;
        o->b[o->n++] = c | (v ? 0x80 : 0);
    } while (v);
}
static void put_tag(buf *o, uint32_t field, int wire) { put_varint(o, ((uint64_t)field << 3) | (uint64_t)wire); }
static void put_len(buf *o, uint32_t field, const void *p, size_t n) {
    put_tag(o, field, 2);
    put_varint(o, n);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}
static void put_f32(buf *o, uint32_t field, float f) {
    put_tag(o, field, 5);
    memcpy(o->b + o->n, &f, 4);
    o->n += 4;
}
static void put_f64(buf *o, uint32_t field, double d) {
    put_tag(o, field, 1);
    memcpy(o->b + o->n, &d, 8);
    o->n += 8;
}

/* ---- varints ---------------------------------------------------------------- */

Test(varint, small_values) {
    uint64_t v;
    size_t used;
    cr_assert_eq(varint((const uint8_t[]){0x00}, 1, &v, &used), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(used, 1);
    cr_assert_eq(varint((const uint8_t[]){0x7F}, 1, &v, &used), 0);
    cr_assert_eq(v, 127);
    cr_assert_eq(varint((const uint8_t[]){0x80, 0x01}, 2, &v, &used), 0);
    cr_assert_eq(v, 128);
    cr_assert_eq(used, 2);
    cr_assert_eq(varint((const uint8_t[]){0xAC, 0x02}, 2, &v, &used), 0); /* the guide's 300 */
    cr_assert_eq(v, 300);
}

Test(varint, ten_byte_negatives_and_max) {
    uint64_t v;
    size_t used;
    const uint8_t minus1[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    cr_assert_eq(varint(minus1, sizeof minus1, &v, &used), 0);
    cr_assert_eq((int64_t)v, -1);
    cr_assert_eq(used, 10);
    cr_assert_eq(v, UINT64_MAX);
    const uint8_t minus2[] = {0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    cr_assert_eq(varint(minus2, sizeof minus2, &v, &used), 0);
    cr_assert_eq((int64_t)v, -2);
    const uint8_t int64_min[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    cr_assert_eq(varint(int64_min, sizeof int64_min, &v, &used), 0);
    cr_assert_eq((int64_t)v, INT64_MIN);
    /* The encoder round-trips through the decoder at the extremes. */
    int64_t vals[] = {0, 1, -1, 127, 128, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, -300};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        buf b = {.n = 0};
        put_varint(&b, (uint64_t)vals[i]);
        cr_assert_eq(varint(b.b, b.n, &v, &used), 0);
        cr_assert_eq((int64_t)v, vals[i]);
        cr_assert_eq(used, b.n);
        if (vals[i] < 0) cr_assert_eq(b.n, 10, "negative values take 10 bytes");
    }
}

Test(varint, non_minimal_accepted) {
    uint64_t v;
    cr_assert_eq(varint((const uint8_t[]){0x80, 0x80, 0x00}, 3, &v, NULL), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(varint((const uint8_t[]){0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 10, &v, NULL),
                 0);
    cr_assert_eq(v, 1);
}

Test(varint, overlong_and_overflowing_refused) {
    uint64_t v;
    /* 11 bytes */
    const uint8_t eleven[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0x00};
    cr_assert_eq(varint(eleven, sizeof eleven, &v, NULL), -2);
    /* a 10th byte carrying more than bit 63 */
    const uint8_t big[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02};
    cr_assert_eq(varint(big, sizeof big, &v, NULL), -2);
    const uint8_t big7f[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F};
    cr_assert_eq(varint(big7f, sizeof big7f, &v, NULL), -2);
    /* a 10th byte with the continuation bit, even with bytes after it */
    const uint8_t cont[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00};
    cr_assert_eq(varint(cont, sizeof cont, &v, NULL), -2);
}

Test(varint, truncated_refused_at_every_length) {
    const uint8_t minus1[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    uint64_t v;
    for (size_t n = 0; n < sizeof minus1; n++) cr_assert_eq(varint(minus1, n, &v, NULL), -1, "length %zu", n);
}

/* ---- fields ----------------------------------------------------------------- */

Test(fields, every_wire_type) {
    buf b = {.n = 0};
    put_tag(&b, 1, 0);
    put_varint(&b, 150);
    put_f64(&b, 2, 2.5);
    put_len(&b, 3, "hello", 5);
    put_f32(&b, 4, -1.5f);
    put_tag(&b, 536870911, 0); /* the largest field number */
    put_varint(&b, (uint64_t)-7);
    uint8_t *m = dup_bytes(b.b, b.n);
    pp_pb_cursor c;
    pp_pb_init(&c, m, b.n, "Test");
    pp_pb_field f;
    pp_error err;
    cr_assert_eq(pp_pb_next(&c, &f, &err), 1);
    cr_assert_eq(f.number, 1);
    cr_assert_eq(f.wire, PP_PB_VARINT);
    cr_assert_eq(f.value, 150);
    cr_assert_eq(f.offset, 0);
    cr_assert_eq(pp_pb_next(&c, &f, &err), 1);
    cr_assert_eq(f.wire, PP_PB_I64);
    cr_assert_float_eq(pp_pb_f64(&f), 2.5, 0);
    cr_assert_eq(pp_pb_next(&c, &f, &err), 1);
    cr_assert_eq(f.wire, PP_PB_LEN);
    cr_assert_eq(f.len, 5);
    cr_assert_eq(memcmp(f.data, "hello", 5), 0);
    cr_assert_eq(pp_pb_next(&c, &f, &err), 1);
    cr_assert_eq(f.wire, PP_PB_I32);
    cr_assert_float_eq(pp_pb_f32(&f), -1.5f, 0);
    cr_assert_eq(pp_pb_next(&c, &f, &err), 1);
    cr_assert_eq(f.number, 536870911);
    cr_assert_eq((int64_t)f.value, -7);
    cr_assert_eq(pp_pb_next(&c, &f, &err), 0);
    cr_assert_eq(pp_pb_next(&c, &f, &err), 0, "the end stays the end");
    free(m);
}

Test(fields, groups_and_bad_wire_types_refused) {
    for (int wire = 3; wire <= 7; wire++) {
        if (wire == 5) continue;
        buf b = {.n = 0};
        put_tag(&b, 9, wire);
        put_varint(&b, 0);
        uint8_t *m = dup_bytes(b.b, b.n);
        pp_pb_cursor c;
        pp_pb_init(&c, m, b.n, "GroupMsg");
        pp_pb_field f;
        pp_error err = {0};
        cr_assert_eq(pp_pb_next(&c, &f, &err), -1, "wire type %d", wire);
        cr_assert_eq(err.code, PP_ERR_FORMAT);
        cr_assert(strstr(err.msg, "GroupMsg field 9 at byte 0"), "%s", err.msg);
        if (wire == 3 || wire == 4) cr_assert(strstr(err.msg, "group"), "%s", err.msg);
        free(m);
    }
}

Test(fields, field_number_zero_refused) {
    const uint8_t bytes[] = {0x00, 0x01};
    uint8_t *m = dup_bytes(bytes, sizeof bytes);
    pp_pb_cursor c;
    pp_pb_init(&c, m, sizeof bytes, "Zero");
    pp_pb_field f;
    pp_error err = {0};
    cr_assert_eq(pp_pb_next(&c, &f, &err), -1);
    cr_assert(strstr(err.msg, "field number 0"), "%s", err.msg);
    free(m);
}

Test(fields, unknown_fields_skipped_inside_submessages) {
    /* outer { 1: inner { 7: 5 (unknown), 99: "junk" (unknown), 2: 42 }, 50: 1.0f } */
    buf inner = {.n = 0}, outer = {.n = 0};
    put_tag(&inner, 7, 0);
    put_varint(&inner, 5);
    put_len(&inner, 99, "junk", 4);
    put_tag(&inner, 2, 0);
    put_varint(&inner, 42);
    put_len(&outer, 1, inner.b, inner.n);
    put_f32(&outer, 50, 1.0f);
    uint8_t *m = dup_bytes(outer.b, outer.n);
    pp_pb_cursor c, s;
    pp_pb_init(&c, m, outer.n, "Outer");
    pp_pb_field f, g;
    pp_error err;
    int64_t found = -1;
    int fields = 0;
    while (pp_pb_next(&c, &f, &err) == 1) {
        fields++;
        if (f.number != 1) continue;
        cr_assert_eq(pp_pb_sub(&c, &f, "Inner", &s, &err), PP_OK);
        while (pp_pb_next(&s, &g, &err) == 1)
            if (g.number == 2) found = (int64_t)g.value;
    }
    cr_assert_eq(found, 42);
    cr_assert_eq(fields, 2);
    free(m);
}

Test(fields, sub_of_a_scalar_refused) {
    buf b = {.n = 0};
    put_tag(&b, 4, 0);
    put_varint(&b, 3);
    uint8_t *m = dup_bytes(b.b, b.n);
    pp_pb_cursor c, s;
    pp_pb_init(&c, m, b.n, "Parent");
    pp_pb_field f;
    pp_error err = {0};
    cr_assert_eq(pp_pb_next(&c, &f, &err), 1);
    cr_assert_eq(pp_pb_sub(&c, &f, "Child", &s, &err), PP_ERR_FORMAT);
    cr_assert(strstr(err.msg, "Parent field 4 at byte 0: wire type VARINT, expected LEN"), "%s", err.msg);
    free(m);
}

/* ---- repeated scalars --------------------------------------------------------- */

Test(repeated, packed_and_unpacked_concatenate) {
    buf b = {.n = 0}, packed = {.n = 0};
    put_tag(&b, 1, 0);
    put_varint(&b, 1);
    put_tag(&b, 1, 0);
    put_varint(&b, 2);
    put_varint(&packed, 3);
    put_varint(&packed, 300);
    put_varint(&packed, (uint64_t)-1);
    put_len(&b, 1, packed.b, packed.n);
    put_tag(&b, 1, 0);
    put_varint(&b, 4);
    put_len(&b, 1, "", 0); /* an empty packed run adds nothing */
    uint8_t *m = dup_bytes(b.b, b.n);
    pp_pb_cursor c;
    pp_pb_init(&c, m, b.n, "Dims");
    pp_pb_field f;
    pp_error err;
    pp_pb_i64s a = {0};
    while (pp_pb_next(&c, &f, &err) == 1) cr_assert_eq(pp_pb_append_varints(&c, &f, &a, &err), PP_OK);
    int64_t want[] = {1, 2, 3, 300, -1, 4};
    cr_assert_eq(a.n, 6);
    for (int i = 0; i < 6; i++) cr_assert_eq(a.v[i], want[i], "value %d", i);
    pp_pb_i64s_free(&a);
    free(m);
}

Test(repeated, floats_and_doubles_both_forms) {
    buf b = {.n = 0};
    float pf[3] = {0.5f, -2.0f, 3.25f};
    double pd[2] = {1e300, -0.125};
    put_f32(&b, 1, 7.0f);
    put_len(&b, 1, pf, sizeof pf);
    put_f64(&b, 2, 9.0);
    put_len(&b, 2, pd, sizeof pd);
    put_f32(&b, 1, 8.0f);
    uint8_t *m = dup_bytes(b.b, b.n);
    pp_pb_cursor c;
    pp_pb_init(&c, m, b.n, "Floats");
    pp_pb_field f;
    pp_error err;
    pp_pb_f32s fl = {0};
    pp_pb_f64s db = {0};
    while (pp_pb_next(&c, &f, &err) == 1) {
        if (f.number == 1) cr_assert_eq(pp_pb_append_f32s(&c, &f, &fl, &err), PP_OK);
        else cr_assert_eq(pp_pb_append_f64s(&c, &f, &db, &err), PP_OK);
    }
    float wf[] = {7.0f, 0.5f, -2.0f, 3.25f, 8.0f};
    cr_assert_eq(fl.n, 5);
    for (int i = 0; i < 5; i++) cr_assert_float_eq(fl.v[i], wf[i], 0);
    cr_assert_eq(db.n, 3);
    cr_assert_float_eq(db.v[0], 9.0, 0);
    cr_assert_float_eq(db.v[1], 1e300, 0);
    cr_assert_float_eq(db.v[2], -0.125, 0);
    pp_pb_f32s_free(&fl);
    pp_pb_f64s_free(&db);
    free(m);
}

Test(repeated, packed_length_not_a_multiple_refused) {
    buf b = {.n = 0};
    put_len(&b, 4, "\x00\x00\x80\x3f\x00", 5);
    uint8_t *m = dup_bytes(b.b, b.n);
    pp_pb_cursor c;
    pp_pb_init(&c, m, b.n, "TensorProto");
    pp_pb_field f;
    pp_error err = {0};
    pp_pb_f32s fl = {0};
    cr_assert_eq(pp_pb_next(&c, &f, &err), 1);
    cr_assert_eq(pp_pb_append_f32s(&c, &f, &fl, &err), PP_ERR_FORMAT);
    cr_assert(strstr(err.msg, "TensorProto field 4"), "%s", err.msg);
    pp_pb_f32s_free(&fl);
    pp_pb_f64s db = {0};
    cr_assert_eq(pp_pb_append_f64s(&c, &f, &db, &err), PP_ERR_FORMAT);
    pp_pb_f64s_free(&db);
    free(m);
}

Test(repeated, truncated_packed_varint_refused) {
    buf b = {.n = 0};
    put_len(&b, 7, "\x01\x80\x80", 3); /* 1, then a varint cut short */
    uint8_t *m = dup_bytes(b.b, b.n);
    pp_pb_cursor c;
    pp_pb_init(&c, m, b.n, "T");
    pp_pb_field f;
    pp_error err = {0};
    pp_pb_i64s a = {0};
    cr_assert_eq(pp_pb_next(&c, &f, &err), 1);
    cr_assert_eq(pp_pb_append_varints(&c, &f, &a, &err), PP_ERR_FORMAT);
    cr_assert(strstr(err.msg, "truncated"), "%s", err.msg);
    pp_pb_i64s_free(&a);
    free(m);
}

Test(repeated, wrong_wire_type_refused) {
    buf b = {.n = 0};
    put_f32(&b, 1, 1.0f);
    uint8_t *m = dup_bytes(b.b, b.n);
    pp_pb_cursor c;
    pp_pb_init(&c, m, b.n, "T");
    pp_pb_field f;
    pp_error err = {0};
    pp_pb_i64s a = {0};
    cr_assert_eq(pp_pb_next(&c, &f, &err), 1);
    cr_assert_eq(pp_pb_append_varints(&c, &f, &a, &err), PP_ERR_FORMAT);
    pp_pb_i64s_free(&a);
    free(m);
}

/* ---- truncation ---------------------------------------------------------------- */

/* Walks a message and every LEN field that parses as a message, recursively;
 * returns the number of fields seen, or -1 on the first error. */
static int walk(pp_pb_cursor c, int depth, pp_error *err) {
    pp_pb_field f;
    int n = 0, r;
    while ((r = pp_pb_next(&c, &f, err)) == 1) {
        n++;
        if (f.wire == PP_PB_LEN && depth < 8) {
            pp_pb_cursor s;
            pp_pb_sub(&c, &f, "Sub", &s, err);
            pp_error e2;
            (void)walk(s, depth + 1, &e2); /* payloads need not be messages */
        }
    }
    return r < 0 ? -1 : n;
}

Test(truncation, every_prefix_is_refused_or_ends_on_a_field) {
    /* A message with nested lengths, multi-byte tags and lengths. */
    buf inner = {.n = 0}, b = {.n = 0};
    put_tag(&inner, 1, 0);
    put_varint(&inner, (uint64_t)-5);
    uint8_t blob[200];
    for (int i = 0; i < 200; i++) blob[i] = (uint8_t)i;
    put_len(&inner, 300, blob, sizeof blob); /* 2-byte tag, 2-byte length */
    put_len(&b, 7, inner.b, inner.n);
    put_f64(&b, 2, 1.0);
    put_tag(&b, 20, 0); /* 2-byte tag: A0 01 */
    put_varint(&b, 4);
    put_len(&b, 8, "x", 1);
    /* Field boundaries of the top level. */
    size_t ends[8];
    int n_ends = 0;
    {
        pp_pb_cursor c;
        pp_pb_init(&c, b.b, b.n, "M");
        pp_pb_field f;
        pp_error err;
        while (pp_pb_next(&c, &f, &err) == 1) ends[n_ends++] = (size_t)(c.pos - b.b);
        cr_assert_eq(n_ends, 4);
    }
    for (size_t len = 0; len <= b.n; len++) {
        uint8_t *m = dup_bytes(b.b, len);
        pp_pb_cursor c;
        pp_pb_init(&c, m, len, "M");
        pp_error err = {0};
        int fields = walk(c, 0, &err);
        int boundary = len == 0;
        int want = 0;
        for (int i = 0; i < n_ends; i++)
            if (ends[i] == len) boundary = 1, want = i + 1;
        if (boundary) {
            cr_assert_eq(fields, want, "prefix %zu", len);
        } else {
            cr_assert_eq(fields, -1, "prefix %zu should be refused", len);
            cr_assert_eq(err.code, PP_ERR_FORMAT);
            cr_assert(strstr(err.msg, "M "), "prefix %zu: %s", len, err.msg);
            cr_assert(strstr(err.msg, "at byte"), "prefix %zu: %s", len, err.msg);
        }
        free(m);
    }
}

Test(truncation, length_beyond_the_end_names_field_and_offset) {
    const uint8_t bytes[] = {0x08, 0x01, 0x3A, 0x05, 0x01, 0x02}; /* field 7: 5 bytes announced, 2 present */
    uint8_t *m = dup_bytes(bytes, sizeof bytes);
    pp_pb_cursor c;
    pp_pb_init(&c, m, sizeof bytes, "ModelProto");
    pp_pb_field f;
    pp_error err = {0};
    cr_assert_eq(pp_pb_next(&c, &f, &err), 1);
    cr_assert_eq(pp_pb_next(&c, &f, &err), -1);
    cr_assert_str_eq(err.msg, "ModelProto field 7 at byte 2: length 5 exceeds the 2 bytes left");
    free(m);
}

Test(truncation, huge_length_does_not_wrap) {
    /* A length of 2^64-1 must not wrap the end pointer. */
    const uint8_t bytes[] = {0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00};
    uint8_t *m = dup_bytes(bytes, sizeof bytes);
    pp_pb_cursor c;
    pp_pb_init(&c, m, sizeof bytes, "T");
    pp_pb_field f;
    pp_error err = {0};
    cr_assert_eq(pp_pb_next(&c, &f, &err), -1);
    cr_assert(strstr(err.msg, "exceeds"), "%s", err.msg);
    free(m);
}

Test(truncation, sub_message_offsets_are_file_offsets) {
    buf inner = {.n = 0}, b = {.n = 0};
    put_tag(&b, 1, 0);
    put_varint(&b, 1);
    put_tag(&inner, 3, 2);
    put_varint(&inner, 9); /* 9 bytes announced, none present */
    put_len(&b, 2, inner.b, inner.n);
    uint8_t *m = dup_bytes(b.b, b.n);
    pp_pb_cursor c, s;
    pp_pb_init(&c, m, b.n, "Outer");
    pp_pb_field f;
    pp_error err = {0};
    cr_assert_eq(pp_pb_next(&c, &f, &err), 1);
    cr_assert_eq(pp_pb_next(&c, &f, &err), 1);
    cr_assert_eq(pp_pb_sub(&c, &f, "Inner", &s, &err), PP_OK);
    cr_assert_eq(pp_pb_next(&s, &f, &err), -1);
    cr_assert(strstr(err.msg, "Inner field 3 at byte 4:"), "%s", err.msg);
    free(m);
}

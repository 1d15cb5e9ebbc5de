/* protobuf.h: a protobuf wire-format reader over one memory buffer.
 *
 * No schema, no allocation except for repeated scalars: a cursor walks the
 * fields of one message and hands out each field's number, wire type and value
 * (a varint, a fixed 32/64-bit word, or a (pointer, length) slice into the
 * buffer). A sub-message is a new cursor over a LEN slice. Every length is
 * checked against what remains of the enclosing message before anything is
 * read, so no input, however malformed, reads out of bounds.
 *
 * Rules (protobuf encoding guide):
 *   - tag = (field << 3) | wire type; field numbers 1 .. 2^29-1;
 *   - wire types 0 VARINT, 1 I64, 2 LEN, 5 I32; 3 and 4 (groups) are refused;
 *   - varints take at most 10 bytes; an 11th byte, or a 10th byte above 1, is an
 *     overflow and refused; a negative int32/int64 is a 10-byte varint (no ZigZag);
 *   - repeated scalars may come packed (one LEN record) or unpacked (one record
 *     per value), or both mixed: every form is accepted and concatenated;
 *   - unknown fields are skipped by the caller simply not looking at them.
 *
 * Errors name the message type, the field number and the byte offset from the
 * start of the buffer (the file), e.g.
 *   "TensorProto field 9 at byte 1234: length 4096 exceeds the 100 bytes left".
 */
#ifndef PP_PROTOBUF_H
#define PP_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

#include "../loader/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pp_pb_wire {
    PP_PB_VARINT = 0,
    PP_PB_I64 = 1,
    PP_PB_LEN = 2,
    PP_PB_I32 = 5,
} pp_pb_wire;

/* Walks the fields of one message: [pos, end) inside the buffer that starts at base. */
typedef struct pp_pb_cursor {
    const uint8_t *base; /* start of the whole buffer; offsets in messages count from here */
    const uint8_t *pos, *end;
    const char *type; /* message type name for messages ("ModelProto"); borrowed */
} pp_pb_cursor;

typedef struct pp_pb_field {
    uint32_t number;
    pp_pb_wire wire;
    uint64_t value;      /* VARINT: the value; I64 / I32: the little-endian word */
    const uint8_t *data; /* LEN: the payload, inside the buffer (borrowed) */
    size_t len;          /* LEN: payload bytes */
    size_t offset;       /* byte offset of the tag from base */
} pp_pb_field;

/* A cursor over a whole buffer holding one message of the given type. */
void pp_pb_init(pp_pb_cursor *c, const void *base, size_t size, const char *type);

/* Reads the next field of c into *f. Returns 1 when a field was read, 0 at the
 * end of the message, -1 on malformed bytes (err says what and where). */
int pp_pb_next(pp_pb_cursor *c, pp_pb_field *f, pp_error *err);

/* Decodes one varint from [*p, end), advancing *p. Returns 0, or -1 when the
 * bytes end first, -2 when it runs past 10 bytes or past 64 bits. */
int pp_pb_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out);

/* Byte offset of a pointer into c's buffer (for messages). */
size_t pp_pb_offset(const pp_pb_cursor *c, const uint8_t *p);

/* Refuses (with the message type, field and offset) a field of another wire type. */
pp_code pp_pb_expect(const pp_pb_cursor *c, const pp_pb_field *f, pp_pb_wire wire, pp_error *err);

/* A cursor over a LEN field as a message of `type`. Refuses another wire type. */
pp_code pp_pb_sub(const pp_pb_cursor *c, const pp_pb_field *f, const char *type, pp_pb_cursor *sub, pp_error *err);

/* Field values as C types. f32 / f64 from I32 / I64 words. */
static inline float pp_pb_f32(const pp_pb_field *f) {
    union {
        uint32_t u;
        float f;
    } x;
    x.u = (uint32_t)f->value;
    return x.f;
}
static inline double pp_pb_f64(const pp_pb_field *f) {
    union {
        uint64_t u;
        double d;
    } x;
    x.u = f->value;
    return x.d;
}

/* Growable arrays of repeated scalars; zero-initialise, free with pp_pb_*s_free. */
typedef struct pp_pb_i64s {
    int64_t *v; /* owned */
    size_t n, cap;
} pp_pb_i64s;
typedef struct pp_pb_f32s {
    float *v; /* owned */
    size_t n, cap;
} pp_pb_f32s;
typedef struct pp_pb_f64s {
    double *v; /* owned */
    size_t n, cap;
} pp_pb_f64s;

void pp_pb_i64s_free(pp_pb_i64s *a);
void pp_pb_f32s_free(pp_pb_f32s *a);
void pp_pb_f64s_free(pp_pb_f64s *a);

/* Appends a repeated varint field's values: one VARINT record (one value) or a
 * packed LEN record (values back to back). int32/int64/uint64 all read as the
 * varint's 64 bits reinterpreted as int64 (two's complement, no ZigZag). */
pp_code pp_pb_append_varints(const pp_pb_cursor *c, const pp_pb_field *f, pp_pb_i64s *out, pp_error *err);
/* Repeated float: one I32 record or a packed LEN record (a multiple of 4 bytes). */
pp_code pp_pb_append_f32s(const pp_pb_cursor *c, const pp_pb_field *f, pp_pb_f32s *out, pp_error *err);
/* Repeated double: one I64 record or a packed LEN record (a multiple of 8 bytes). */
pp_code pp_pb_append_f64s(const pp_pb_cursor *c, const pp_pb_field *f, pp_pb_f64s *out, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

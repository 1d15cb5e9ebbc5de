/* protobuf.c: the wire-format walker (protobuf.h). */
#include "protobuf.h"

#include <string.h>

void pp_pb_init(pp_pb_cursor *c, const void *base, size_t size, const char *type) {
    c->base = (const uint8_t *)base;
    c->pos = c->base;
    c->end = c->base ? c->base + size : c->base;
    c->type = type ? type : "message";
}

size_t pp_pb_offset(const pp_pb_cursor *c, const uint8_t *p) { return (size_t)(p - c->base); }

int pp_pb_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
    const uint8_t *q = *p;
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (q >= end) return -1;
        uint8_t b = *q++;
        if (i == 9) {
            /* The 10th byte holds bit 63 only: anything above 1, or a
             * continuation bit, would not fit in 64 bits. */
            if (b > 1) return -2;
            v |= (uint64_t)b << 63;
            *p = q;
            *out = v;
            return 0;
        }
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            *p = q;
            *out = v;
            return 0;
        }
    }
    return -2; /* not reached */
}

static const char *wire_name(unsigned w) {
    switch (w) {
    case 0: return "VARINT";
    case 1: return "I64";
    case 2: return "LEN";
    case 3: return "SGROUP";
    case 4: return "EGROUP";
    case 5: return "I32";
    default: return "invalid";
    }
}

int pp_pb_next(pp_pb_cursor *c, pp_pb_field *f, pp_error *err) {
    if (c->pos >= c->end) return 0;
    const uint8_t *start = c->pos, *p = c->pos;
    size_t off = pp_pb_offset(c, start);
    uint64_t tag;
    int rc = pp_pb_read_varint(&p, c->end, &tag);
    if (rc == -1) {
        pp_error_set(err, PP_ERR_FORMAT, "%s at byte %zu: truncated field tag (%zu bytes left)", c->type, off,
                     (size_t)(c->end - start));
        return -1;
    }
    if (rc == -2) {
        pp_error_set(err, PP_ERR_FORMAT, "%s at byte %zu: field tag varint longer than 10 bytes or over 64 bits",
                     c->type, off);
        return -1;
    }
    uint64_t number = tag >> 3;
    unsigned wire = (unsigned)(tag & 7);
    if (number == 0 || number > 0x1FFFFFFFu) {
        pp_error_set(err, PP_ERR_FORMAT, "%s at byte %zu: invalid field number %llu", c->type, off,
                     (unsigned long long)number);
        return -1;
    }
    memset(f, 0, sizeof *f);
    f->number = (uint32_t)number;
    f->wire = (pp_pb_wire)wire;
    f->offset = off;
    switch (wire) {
    case PP_PB_VARINT:
        rc = pp_pb_read_varint(&p, c->end, &f->value);
        if (rc) {
            pp_error_set(err, PP_ERR_FORMAT, "%s field %u at byte %zu: %s varint", c->type, f->number, off,
                         rc == -1 ? "truncated" : "overflowing (over 10 bytes or 64 bits)");
            return -1;
        }
        break;
    case PP_PB_I64:
    case PP_PB_I32: {
        size_t n = wire == PP_PB_I64 ? 8 : 4;
        if ((size_t)(c->end - p) < n) {
            pp_error_set(err, PP_ERR_FORMAT, "%s field %u at byte %zu: %s value needs %zu bytes, %zu left", c->type,
                         f->number, off, wire_name(wire), n, (size_t)(c->end - p));
            return -1;
        }
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
        f->value = v;
        p += n;
        break;
    }
    case PP_PB_LEN: {
        uint64_t len;
        rc = pp_pb_read_varint(&p, c->end, &len);
        if (rc) {
            pp_error_set(err, PP_ERR_FORMAT, "%s field %u at byte %zu: %s length varint", c->type, f->number, off,
                         rc == -1 ? "truncated" : "overflowing");
            return -1;
        }
        size_t left = (size_t)(c->end - p);
        if (len > left) {
            pp_error_set(err, PP_ERR_FORMAT, "%s field %u at byte %zu: length %llu exceeds the %zu bytes left", c->type,
                         f->number, off, (unsigned long long)len, left);
            return -1;
        }
        f->data = p;
        f->len = (size_t)len;
        p += len;
        break;
    }
    default:
        pp_error_set(err, PP_ERR_FORMAT, "%s field %u at byte %zu: wire type %u (%s) is not supported%s", c->type,
                     f->number, off, wire, wire_name(wire), (wire == 3 || wire == 4) ? " (groups are deprecated)" : "");
        return -1;
    }
    c->pos = p;
    return 1;
}

pp_code pp_pb_expect(const pp_pb_cursor *c, const pp_pb_field *f, pp_pb_wire wire, pp_error *err) {
    if (f->wire == wire) return PP_OK;
    return pp_error_set(err, PP_ERR_FORMAT, "%s field %u at byte %zu: wire type %s, expected %s", c->type, f->number,
                        f->offset, wire_name(f->wire), wire_name(wire));
}

pp_code pp_pb_sub(const pp_pb_cursor *c, const pp_pb_field *f, const char *type, pp_pb_cursor *sub, pp_error *err) {
    pp_code rc = pp_pb_expect(c, f, PP_PB_LEN, err);
    if (rc) return rc;
    sub->base = c->base;
    sub->pos = f->data;
    sub->end = f->data + f->len;
    sub->type = type ? type : "message";
    return PP_OK;
}

/* Makes room for `more` elements of `elem` bytes in a growable array. */
static pp_code grow(void **v, size_t *cap, size_t n, size_t more, size_t elem, const pp_pb_cursor *c,
                    const pp_pb_field *f, pp_error *err) {
    size_t need;
    if (pp_add_size(n, more, &need))
        return pp_error_set(err, PP_ERR_FORMAT, "%s field %u at byte %zu: too many values", c->type, f->number,
                            f->offset);
    if (need <= *cap) return PP_OK;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > ((size_t)-1) / 2) {
            ncap = need;
            break;
        }
        ncap *= 2;
    }
    size_t bytes;
    if (pp_mul_size(ncap, elem, &bytes))
        return pp_error_nomem(err, "%s field %u at byte %zu: %zu values overflow memory", c->type, f->number, f->offset,
                              ncap);
    void *nv = pp_realloc(*v, bytes);
    if (!nv)
        return pp_error_set(err, PP_ERR_NOMEM, "%s field %u at byte %zu: cannot allocate %zu bytes", c->type, f->number,
                            f->offset, bytes);
    *v = nv;
    *cap = ncap;
    return PP_OK;
}

pp_code pp_pb_append_varints(const pp_pb_cursor *c, const pp_pb_field *f, pp_pb_i64s *out, pp_error *err) {
    pp_code rc;
    if (f->wire == PP_PB_VARINT) {
        void *v = out->v;
        if ((rc = grow(&v, &out->cap, out->n, 1, sizeof(int64_t), c, f, err))) return rc;
        out->v = v;
        out->v[out->n++] = (int64_t)f->value;
        return PP_OK;
    }
    if (f->wire != PP_PB_LEN) return pp_pb_expect(c, f, PP_PB_VARINT, err);
    /* Packed: count the values first (each ends on a byte without the MSB). */
    size_t count = 0;
    for (size_t i = 0; i < f->len; i++)
        if (!(f->data[i] & 0x80)) count++;
    void *v = out->v;
    if ((rc = grow(&v, &out->cap, out->n, count, sizeof(int64_t), c, f, err))) return rc;
    out->v = v;
    const uint8_t *p = f->data, *end = f->data + f->len;
    while (p < end) {
        uint64_t x;
        const uint8_t *at = p;
        int r = pp_pb_read_varint(&p, end, &x);
        if (r)
            return pp_error_set(err, PP_ERR_FORMAT, "%s field %u (packed) at byte %zu: %s varint", c->type, f->number,
                                pp_pb_offset(c, at), r == -1 ? "truncated" : "overflowing");
        out->v[out->n++] = (int64_t)x;
    }
    return PP_OK;
}

pp_code pp_pb_append_f32s(const pp_pb_cursor *c, const pp_pb_field *f, pp_pb_f32s *out, pp_error *err) {
    pp_code rc;
    if (f->wire == PP_PB_I32) {
        void *v = out->v;
        if ((rc = grow(&v, &out->cap, out->n, 1, sizeof(float), c, f, err))) return rc;
        out->v = v;
        out->v[out->n++] = pp_pb_f32(f);
        return PP_OK;
    }
    if (f->wire != PP_PB_LEN) return pp_pb_expect(c, f, PP_PB_I32, err);
    if (f->len % 4)
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s field %u (packed float) at byte %zu: %zu bytes, not a multiple of 4", c->type,
                            f->number, f->offset, f->len);
    size_t count = f->len / 4;
    void *v = out->v;
    if ((rc = grow(&v, &out->cap, out->n, count, sizeof(float), c, f, err))) return rc;
    out->v = v;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *q = f->data + 4 * i;
        union {
            uint32_t u;
            float x;
        } u;
        u.u = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        out->v[out->n++] = u.x;
    }
    return PP_OK;
}

pp_code pp_pb_append_f64s(const pp_pb_cursor *c, const pp_pb_field *f, pp_pb_f64s *out, pp_error *err) {
    pp_code rc;
    if (f->wire == PP_PB_I64) {
        void *v = out->v;
        if ((rc = grow(&v, &out->cap, out->n, 1, sizeof(double), c, f, err))) return rc;
        out->v = v;
        out->v[out->n++] = pp_pb_f64(f);
        return PP_OK;
    }
    if (f->wire != PP_PB_LEN) return pp_pb_expect(c, f, PP_PB_I64, err);
    if (f->len % 8)
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s field %u (packed double) at byte %zu: %zu bytes, not a multiple of 8", c->type,
                            f->number, f->offset, f->len);
    size_t count = f->len / 8;
    void *v = out->v;
    if ((rc = grow(&v, &out->cap, out->n, count, sizeof(double), c, f, err))) return rc;
    out->v = v;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *q = f->data + 8 * i;
        union {
            uint64_t u;
            double x;
        } u;
        u.u = 0;
        for (int b = 0; b < 8; b++) u.u |= (uint64_t)q[b] << (8 * b);
        out->v[out->n++] = u.x;
    }
    return PP_OK;
}

void pp_pb_i64s_free(pp_pb_i64s *a) {
    pp_free(a->v);
    memset(a, 0, sizeof *a);
}
void pp_pb_f32s_free(pp_pb_f32s *a) {
    pp_free(a->v);
    memset(a, 0, sizeof *a);
}
void pp_pb_f64s_free(pp_pb_f64s *a) {
    pp_free(a->v);
    memset(a, 0, sizeof *a);
}

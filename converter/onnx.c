/* onnx.c: reading an ONNX ModelProto and driving its import into a pp_graph
 * (onnx.h). The per-op translation is in onnx_ops.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../engine/ops.h"
#include "onnx_internal.h"

/* ---- arena ------------------------------------------------------------------- */

struct ox_block {
    ox_block *next;
    size_t used, cap;
    /* data follows, 16-aligned */
};
#define OX_BLOCK_HDR (((sizeof(ox_block)) + 15) & ~(size_t)15)
#define OX_BLOCK_MIN ((size_t)64 << 10)

void *ox_alloc(ox_ctx *x, size_t n) {
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n) {
        pp_error_set(x->err, PP_ERR_NOMEM, "out of memory (%zu bytes)", n);
        return NULL;
    }
    ox_block *b = x->arena.head;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > OX_BLOCK_MIN ? need : OX_BLOCK_MIN, total;
        if (pp_add_size(cap, OX_BLOCK_HDR, &total) || !(b = pp_malloc(total))) {
            pp_error_set(x->err, PP_ERR_NOMEM, "out of memory (%zu bytes)", n);
            return NULL;
        }
        b->used = 0;
        b->cap = cap;
        b->next = x->arena.head;
        x->arena.head = b;
    }
    void *p = (char *)b + OX_BLOCK_HDR + b->used;
    b->used += need;
    memset(p, 0, n);
    return p;
}

static void arena_free(ox_arena *a) {
    while (a->head) {
        ox_block *n = a->head->next;
        pp_free(a->head);
        a->head = n;
    }
}

static char *ox_strndup(ox_ctx *x, const uint8_t *s, size_t n) {
    size_t total;
    if (pp_add_size(n, 1, &total)) {
        pp_error_set(x->err, PP_ERR_NOMEM, "string of %zu bytes", n);
        return NULL;
    }
    char *d = ox_alloc(x, total);
    if (!d) return NULL;
    if (n) memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *ox_strdup(ox_ctx *x, const char *s) { return ox_strndup(x, (const uint8_t *)s, strlen(s)); }

char *ox_printf(ox_ctx *x, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ox_strdup(x, buf);
}

/* A name from the file, made safe for a one-line message: control bytes become
 * '?', long names end in "...". */
static const char *safe(char *buf, size_t size, const char *s) {
    if (!s) s = "";
    size_t len = strlen(s), keep = len < size ? len : (size > 4 ? size - 4 : 0);
    for (size_t i = 0; i < keep; i++) buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) ? '?' : s[i];
    if (keep < len && size > 4) {
        memcpy(buf + keep, "...", 3);
        keep += 3;
    }
    buf[keep] = 0;
    return buf;
}

/* ---- dtypes ------------------------------------------------------------------ */

pp_dtype pp_onnx_dtype(int64_t t) {
    switch (t) {
    case 1: return PP_DTYPE_F32;
    case 2: return PP_DTYPE_U8;
    case 3: return PP_DTYPE_I8;
    case 6: return PP_DTYPE_I32;
    case 7: return PP_DTYPE_I64;
    case 9: return PP_DTYPE_BOOL;
    case 10: return PP_DTYPE_F16;
    case 11: return PP_DTYPE_F64;
    case 16: return PP_DTYPE_BF16;
    default: return PP_DTYPE_INVALID;
    }
}

const char *pp_onnx_dtype_name(int64_t t) {
    static const char *names[] = {
        "UNDEFINED", "FLOAT",      "UINT8",      "INT8",         "UINT16",         "INT16",      "INT32",
        "INT64",     "STRING",     "BOOL",       "FLOAT16",      "DOUBLE",         "UINT32",     "UINT64",
        "COMPLEX64", "COMPLEX128", "BFLOAT16",   "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ",
        "UINT4",     "INT4",       "FLOAT4E2M1", "FLOAT8E8M0",   "UINT2",          "INT2"};
    if (t < 0 || t >= (int64_t)(sizeof names / sizeof names[0])) return "?";
    return names[t];
}

/* ---- protobuf parsing -------------------------------------------------------- */

#define NEXT(cur, f, r)                                                                                                \
    int r;                                                                                                             \
    while ((r = pp_pb_next(&(cur), &(f), x->err)) == 1)

static pp_code str_field(ox_ctx *x, const pp_pb_cursor *c, const pp_pb_field *f, const char **out) {
    pp_code rc = pp_pb_expect(c, f, PP_PB_LEN, x->err);
    if (rc) return rc;
    char *s = ox_strndup(x, f->data, f->len);
    if (!s) return PP_ERR_NOMEM;
    *out = s;
    return PP_OK;
}

static pp_code int_field(ox_ctx *x, const pp_pb_cursor *c, const pp_pb_field *f, int64_t *out) {
    pp_code rc = pp_pb_expect(c, f, PP_PB_VARINT, x->err);
    if (rc) return rc;
    *out = (int64_t)f->value;
    return PP_OK;
}

static void tensor_release(ox_tensor *t) {
    pp_pb_f32s_free(&t->f32);
    pp_pb_i64s_free(&t->i32);
    pp_pb_i64s_free(&t->i64);
    pp_pb_i64s_free(&t->u64);
    pp_pb_f64s_free(&t->f64);
}

static pp_code parse_tensor(ox_ctx *x, pp_pb_cursor cur, ox_tensor *t) {
    pp_pb_field f;
    pp_code rc = PP_OK;
    pp_pb_i64s dims = {0};
    memset(t, 0, sizeof *t);
    t->name = "";
    t->ext_offset = -1;
    t->ext_length = -1;
    t->offset = pp_pb_offset(&cur, cur.pos);
    NEXT(cur, f, r) {
        switch (f.number) {
        case 1: rc = pp_pb_append_varints(&cur, &f, &dims, x->err); break;
        case 2: rc = int_field(x, &cur, &f, &t->data_type); break;
        case 3: t->has_segment = 1; break;
        case 4: rc = pp_pb_append_f32s(&cur, &f, &t->f32, x->err); break;
        case 5: rc = pp_pb_append_varints(&cur, &f, &t->i32, x->err); break;
        case 6: t->n_strings++; break;
        case 7: rc = pp_pb_append_varints(&cur, &f, &t->i64, x->err); break;
        case 8: rc = str_field(x, &cur, &f, &t->name); break;
        case 9:
            rc = pp_pb_expect(&cur, &f, PP_PB_LEN, x->err);
            t->raw = f.data;
            t->raw_len = f.len;
            t->has_raw = 1;
            break;
        case 10: rc = pp_pb_append_f64s(&cur, &f, &t->f64, x->err); break;
        case 11: rc = pp_pb_append_varints(&cur, &f, &t->u64, x->err); break;
        case 13: { /* StringStringEntryProto */
            pp_pb_cursor e;
            if ((rc = pp_pb_sub(&cur, &f, "StringStringEntryProto", &e, x->err))) break;
            const char *key = NULL, *value = NULL;
            pp_pb_field g;
            NEXT(e, g, r2) {
                if (g.number == 1) rc = str_field(x, &e, &g, &key);
                else if (g.number == 2) rc = str_field(x, &e, &g, &value);
                if (rc) break;
            }
            if (!rc && r2 < 0) rc = x->err ? x->err->code : PP_ERR_FORMAT;
            if (rc) break;
            if (!key || !value) break;
            if (strcmp(key, "location") == 0) {
                t->ext_location = value;
            } else if (strcmp(key, "offset") == 0 || strcmp(key, "length") == 0) {
                char *end;
                errno = 0;
                long long v = strtoll(value, &end, 10);
                if (errno || end == value || *end || v < 0) {
                    char b[64];
                    rc = pp_error_set(x->err, PP_ERR_FORMAT,
                                      "TensorProto at byte %zu: external data %s '%s' is not a "
                                      "non-negative integer",
                                      t->offset, key, safe(b, sizeof b, value));
                    break;
                }
                if (key[0] == 'o') t->ext_offset = v;
                else t->ext_length = v;
            }
            break;
        }
        case 14: rc = int_field(x, &cur, &f, &t->data_location); break;
        default: break;
        }
        if (rc) break;
    }
    if (!rc && r < 0) rc = x->err ? x->err->code : PP_ERR_FORMAT;
    if (!rc) {
        if (dims.n > INT_MAX) dims.n = INT_MAX;
        t->rank = (int)dims.n;
        for (size_t i = 0; i < dims.n && i < PP_MAX_RANK; i++) t->dims[i] = dims.v[i];
        for (size_t i = 0; i < dims.n; i++)
            if (dims.v[i] < 0) {
                rc = pp_error_set(x->err, PP_ERR_FORMAT, "TensorProto '%s' at byte %zu: dimension %zu is %" PRId64,
                                  t->name, t->offset, i, dims.v[i]);
                break;
            }
    }
    pp_pb_i64s_free(&dims);
    if (rc) tensor_release(t);
    return rc;
}

static pp_code parse_attr(ox_ctx *x, pp_pb_cursor cur, ox_attr *a) {
    pp_pb_field f;
    pp_code rc = PP_OK;
    pp_pb_f32s floats = {0};
    pp_pb_i64s ints = {0};
    size_t n_strings = 0;
    memset(a, 0, sizeof *a);
    a->name = "";
    a->offset = pp_pb_offset(&cur, cur.pos);
    pp_pb_cursor start = cur;
    int has_f = 0, has_i = 0, has_s = 0, has_t = 0, has_g = 0;
    NEXT(cur, f, r) {
        switch (f.number) {
        case 1: rc = str_field(x, &cur, &f, &a->name); break;
        case 2:
            if (!(rc = pp_pb_expect(&cur, &f, PP_PB_I32, x->err))) a->f = pp_pb_f32(&f), has_f = 1;
            break;
        case 3: rc = int_field(x, &cur, &f, &a->i), has_i = 1; break;
        case 4:
            if (!(rc = pp_pb_expect(&cur, &f, PP_PB_LEN, x->err))) a->s = f.data, a->s_len = f.len, has_s = 1;
            break;
        case 5: {
            pp_pb_cursor sub;
            if ((rc = pp_pb_sub(&cur, &f, "TensorProto", &sub, x->err))) break;
            if (a->t) tensor_release(a->t);
            else if (!(a->t = ox_alloc(x, sizeof *a->t))) {
                rc = PP_ERR_NOMEM;
                break;
            }
            rc = parse_tensor(x, sub, a->t);
            if (rc) a->t = NULL;
            has_t = 1;
            break;
        }
        case 6:
        case 11: has_g = 1; break;
        case 7: rc = pp_pb_append_f32s(&cur, &f, &floats, x->err); break;
        case 8: rc = pp_pb_append_varints(&cur, &f, &ints, x->err); break;
        case 9: n_strings++; break;
        case 20: rc = int_field(x, &cur, &f, &a->type); break;
        case 21: rc = str_field(x, &cur, &f, &a->ref_attr_name); break;
        default: break;
        }
        if (rc) break;
    }
    if (!rc && r < 0) rc = x->err ? x->err->code : PP_ERR_FORMAT;
    if (!rc && n_strings) {
        /* A second walk for the strings, now that their number is known. */
        a->strings = ox_alloc(x, sizeof(char *) * n_strings);
        if (!a->strings) rc = PP_ERR_NOMEM;
        cur = start;
        NEXT(cur, f, r2) {
            if (rc) break;
            if (f.number == 9) rc = str_field(x, &cur, &f, &a->strings[a->n_strings++]);
        }
    }
    if (!rc && floats.n) {
        a->floats = ox_alloc(x, sizeof(float) * floats.n);
        if (!a->floats) rc = PP_ERR_NOMEM;
        else memcpy(a->floats, floats.v, sizeof(float) * floats.n), a->n_floats = floats.n;
    }
    if (!rc && ints.n) {
        a->ints = ox_alloc(x, sizeof(int64_t) * ints.n);
        if (!a->ints) rc = PP_ERR_NOMEM;
        else memcpy(a->ints, ints.v, sizeof(int64_t) * ints.n), a->n_ints = ints.n;
    }
    pp_pb_f32s_free(&floats);
    pp_pb_i64s_free(&ints);
    if (!rc && a->type == OX_ATTR_UNDEFINED) {
        /* Writers older than IR version 2 leave `type` out: infer it. */
        if (has_f) a->type = OX_ATTR_FLOAT;
        else if (has_i) a->type = OX_ATTR_INT;
        else if (has_s) a->type = OX_ATTR_STRING;
        else if (has_t) a->type = OX_ATTR_TENSOR;
        else if (has_g) a->type = OX_ATTR_GRAPH;
        else if (a->n_floats) a->type = OX_ATTR_FLOATS;
        else if (a->n_ints) a->type = OX_ATTR_INTS;
        else if (a->n_strings) a->type = OX_ATTR_STRINGS;
    }
    if (rc && a->t) {
        tensor_release(a->t);
        a->t = NULL;
    }
    return rc;
}

static pp_code parse_node(ox_ctx *x, pp_pb_cursor cur, ox_node *n) {
    pp_pb_field f;
    pp_code rc = PP_OK;
    memset(n, 0, sizeof *n);
    n->name = "";
    n->op_type = "";
    n->domain = "";
    n->offset = pp_pb_offset(&cur, cur.pos);
    pp_pb_cursor start = cur;
    size_t n_in = 0, n_out = 0, n_attrs = 0;
    NEXT(cur, f, r) {
        if (f.number == 1) n_in++;
        else if (f.number == 2) n_out++;
        else if (f.number == 5) n_attrs++;
    }
    if (r < 0) return x->err ? x->err->code : PP_ERR_FORMAT;
    if (n_in > INT_MAX / 2 || n_out > INT_MAX / 2 || n_attrs > INT_MAX / 2)
        return pp_error_set(x->err, PP_ERR_FORMAT, "NodeProto at byte %zu: too many inputs, outputs or attributes",
                            n->offset);
    n->in = ox_alloc(x, sizeof(char *) * (n_in + 1));
    n->out = ox_alloc(x, sizeof(char *) * (n_out + 1));
    n->attrs = ox_alloc(x, sizeof(ox_attr) * (n_attrs + 1));
    if (!n->in || !n->out || !n->attrs) return PP_ERR_NOMEM;
    cur = start;
    NEXT(cur, f, r2) {
        switch (f.number) {
        case 1: rc = str_field(x, &cur, &f, &n->in[n->n_in++]); break;
        case 2: rc = str_field(x, &cur, &f, &n->out[n->n_out++]); break;
        case 3: rc = str_field(x, &cur, &f, &n->name); break;
        case 4: rc = str_field(x, &cur, &f, &n->op_type); break;
        case 5: {
            pp_pb_cursor sub;
            if (!(rc = pp_pb_sub(&cur, &f, "AttributeProto", &sub, x->err)))
                rc = parse_attr(x, sub, &n->attrs[n->n_attrs]);
            if (!rc) n->n_attrs++;
            break;
        }
        case 7: rc = str_field(x, &cur, &f, &n->domain); break;
        default: break;
        }
        if (rc) break;
    }
    if (!rc && r2 < 0) rc = x->err ? x->err->code : PP_ERR_FORMAT;
    return rc;
}

static pp_code parse_vinfo(ox_ctx *x, pp_pb_cursor cur, ox_vinfo *v) {
    pp_pb_field f;
    pp_code rc = PP_OK;
    memset(v, 0, sizeof *v);
    v->name = "";
    v->offset = pp_pb_offset(&cur, cur.pos);
    NEXT(cur, f, r) {
        if (f.number == 1) {
            rc = str_field(x, &cur, &f, &v->name);
        } else if (f.number == 2) { /* TypeProto */
            pp_pb_cursor tp;
            if ((rc = pp_pb_sub(&cur, &f, "TypeProto", &tp, x->err))) break;
            pp_pb_field g;
            NEXT(tp, g, r2) {
                if (g.number != 1) continue; /* sequence, map, optional: not a tensor */
                pp_pb_cursor tt;
                if ((rc = pp_pb_sub(&tp, &g, "TypeProto.Tensor", &tt, x->err))) break;
                v->is_tensor = 1;
                pp_pb_field h;
                NEXT(tt, h, r3) {
                    if (h.number == 1) {
                        rc = int_field(x, &tt, &h, &v->elem_type);
                    } else if (h.number == 2) {
                        pp_pb_cursor sh;
                        if ((rc = pp_pb_sub(&tt, &h, "TensorShapeProto", &sh, x->err))) break;
                        v->has_shape = 1;
                        v->rank = 0;
                        pp_pb_field d;
                        NEXT(sh, d, r4) {
                            if (d.number != 1) continue;
                            pp_pb_cursor dc;
                            if ((rc = pp_pb_sub(&sh, &d, "TensorShapeProto.Dimension", &dc, x->err))) break;
                            int64_t value = -1;
                            const char *param = NULL;
                            pp_pb_field e;
                            NEXT(dc, e, r5) {
                                if (e.number == 1) rc = int_field(x, &dc, &e, &value), param = NULL;
                                else if (e.number == 2) rc = str_field(x, &dc, &e, &param), value = -1;
                                if (rc) break;
                            }
                            if (!rc && r5 < 0) rc = x->err ? x->err->code : PP_ERR_FORMAT;
                            if (rc) break;
                            if (param && !*param) param = NULL;
                            if (v->rank < PP_MAX_RANK) {
                                v->dims[v->rank] = value < 0 ? -1 : value;
                                v->params[v->rank] = param;
                            }
                            if (v->rank < INT_MAX) v->rank++;
                        }
                        if (!rc && r4 < 0) rc = x->err ? x->err->code : PP_ERR_FORMAT;
                    }
                    if (rc) break;
                }
                if (!rc && r3 < 0) rc = x->err ? x->err->code : PP_ERR_FORMAT;
                if (rc) break;
            }
            if (!rc && r2 < 0) rc = x->err ? x->err->code : PP_ERR_FORMAT;
        }
        if (rc) break;
    }
    if (!rc && r < 0) rc = x->err ? x->err->code : PP_ERR_FORMAT;
    return rc;
}

static pp_code parse_graph(ox_ctx *x, pp_pb_cursor cur) {
    pp_pb_field f;
    pp_code rc = PP_OK;
    pp_pb_cursor start = cur;
    size_t cn = 0, ci = 0, cin = 0, cout = 0, cvi = 0;
    NEXT(cur, f, r) {
        switch (f.number) {
        case 1: cn++; break;
        case 5: ci++; break;
        case 11: cin++; break;
        case 12: cout++; break;
        case 13: cvi++; break;
        case 15:
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                                "GraphProto field 15 at byte %zu: sparse initializers "
                                "are not supported",
                                f.offset);
        default: break;
        }
    }
    if (r < 0) return x->err ? x->err->code : PP_ERR_FORMAT;
    if (cn > INT_MAX / 2 || ci > INT_MAX / 2 || cin > INT_MAX / 2 || cout > INT_MAX / 2 || cvi > INT_MAX / 2)
        return pp_error_set(x->err, PP_ERR_FORMAT, "GraphProto: too many records");
    x->nodes = ox_alloc(x, sizeof(ox_node) * (cn + 1));
    x->inits = ox_alloc(x, sizeof(ox_tensor) * (ci + 1));
    x->inputs = ox_alloc(x, sizeof(ox_vinfo) * (cin + 1));
    x->outputs = ox_alloc(x, sizeof(ox_vinfo) * (cout + 1));
    x->vinfos = ox_alloc(x, sizeof(ox_vinfo) * (cvi + 1));
    if (!x->nodes || !x->inits || !x->inputs || !x->outputs || !x->vinfos) return PP_ERR_NOMEM;
    cur = start;
    NEXT(cur, f, r2) {
        pp_pb_cursor sub;
        switch (f.number) {
        case 1:
            /* Counted even when it fails half-way, so its attributes' tensors
             * are released with the rest. */
            if (!(rc = pp_pb_sub(&cur, &f, "NodeProto", &sub, x->err)))
                rc = parse_node(x, sub, &x->nodes[x->n_nodes++]);
            break;
        case 5:
            if (!(rc = pp_pb_sub(&cur, &f, "TensorProto", &sub, x->err)))
                rc = parse_tensor(x, sub, &x->inits[x->n_inits]);
            if (!rc) x->n_inits++;
            break;
        case 11:
            if (!(rc = pp_pb_sub(&cur, &f, "ValueInfoProto", &sub, x->err)))
                rc = parse_vinfo(x, sub, &x->inputs[x->n_inputs]);
            if (!rc) x->n_inputs++;
            break;
        case 12:
            if (!(rc = pp_pb_sub(&cur, &f, "ValueInfoProto", &sub, x->err)))
                rc = parse_vinfo(x, sub, &x->outputs[x->n_outputs]);
            if (!rc) x->n_outputs++;
            break;
        case 13:
            if (!(rc = pp_pb_sub(&cur, &f, "ValueInfoProto", &sub, x->err)))
                rc = parse_vinfo(x, sub, &x->vinfos[x->n_vinfos]);
            if (!rc) x->n_vinfos++;
            break;
        default: break;
        }
        if (rc) break;
    }
    if (!rc && r2 < 0) rc = x->err ? x->err->code : PP_ERR_FORMAT;
    return rc;
}

static pp_code parse_model(ox_ctx *x) {
    pp_pb_cursor cur;
    pp_pb_init(&cur, x->file, x->file_size, "ModelProto");
    pp_pb_field f;
    pp_code rc = PP_OK;
    int have_graph = 0, have_ir = 0;
    pp_pb_field graph_field;
    memset(&graph_field, 0, sizeof graph_field);
    x->producer_name = "";
    x->producer_version = "";
    x->opset = -1;
    NEXT(cur, f, r) {
        switch (f.number) {
        case 1: rc = int_field(x, &cur, &f, &x->ir_version), have_ir = 1; break;
        case 2: rc = str_field(x, &cur, &f, &x->producer_name); break;
        case 3: rc = str_field(x, &cur, &f, &x->producer_version); break;
        case 7:
            rc = pp_pb_expect(&cur, &f, PP_PB_LEN, x->err);
            graph_field = f;
            have_graph = 1;
            break;
        case 8: { /* OperatorSetIdProto */
            pp_pb_cursor sub;
            if ((rc = pp_pb_sub(&cur, &f, "OperatorSetIdProto", &sub, x->err))) break;
            const char *domain = "";
            int64_t version = 0;
            pp_pb_field g;
            NEXT(sub, g, r2) {
                if (g.number == 1) rc = str_field(x, &sub, &g, &domain);
                else if (g.number == 2) rc = int_field(x, &sub, &g, &version);
                if (rc) break;
            }
            if (!rc && r2 < 0) rc = x->err ? x->err->code : PP_ERR_FORMAT;
            if (rc) break;
            if (!*domain || strcmp(domain, "ai.onnx") == 0) {
                if (version < 1 || version > 21)
                    rc = pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                                      "ONNX opset %" PRId64 " is not supported (the default domain at opsets 1 to 21)",
                                      version);
                else x->opset = version;
            }
            /* Other domains only matter when a node uses one; the op scan names
             * them then. */
            break;
        }
        default: break;
        }
        if (rc) break;
    }
    if (!rc && r < 0) rc = x->err ? x->err->code : PP_ERR_FORMAT;
    if (rc) return rc;
    if (!have_ir) return pp_error_set(x->err, PP_ERR_FORMAT, "ModelProto: no ir_version (field 1): not an ONNX model");
    if (x->ir_version < 3 || x->ir_version > 15)
        return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "ONNX IR version %" PRId64 " is not supported (3 to 15)",
                            x->ir_version);
    if (!have_graph) return pp_error_set(x->err, PP_ERR_FORMAT, "ModelProto: no graph (field 7)");
    if (x->opset < 0)
        return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                            "ModelProto: no opset_import for the default ONNX domain (opsets 1 to 21 are supported)");
    pp_pb_cursor gc;
    if ((rc = pp_pb_sub(&cur, &graph_field, "GraphProto", &gc, x->err))) return rc;
    return parse_graph(x, gc);
}

/* ---- names ------------------------------------------------------------------- */

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static pp_code rehash(ox_ctx *x, size_t want) {
    size_t n = 64;
    while (n < want * 2) n *= 2;
    int *slots = pp_malloc(sizeof(int) * n);
    if (!slots) return pp_error_nomem(x->err, "out of memory for the name table");
    for (size_t i = 0; i < n; i++) slots[i] = -1;
    for (int v = 0; v < x->n_vals; v++) {
        size_t i = hash_str(x->vals[v].name) & (n - 1);
        while (slots[i] >= 0) i = (i + 1) & (n - 1);
        slots[i] = v;
    }
    pp_free(x->slots);
    x->slots = slots;
    x->n_slots = n;
    return PP_OK;
}

ox_value *ox_lookup(ox_ctx *x, const char *name) {
    if (!x->n_slots) return NULL;
    size_t i = hash_str(name) & (x->n_slots - 1);
    while (x->slots[i] >= 0) {
        ox_value *v = &x->vals[x->slots[i]];
        if (strcmp(v->name, name) == 0) return v;
        i = (i + 1) & (x->n_slots - 1);
    }
    return NULL;
}

static ox_value *bind(ox_ctx *x, const char *name) {
    ox_value *v = ox_lookup(x, name);
    if (v) return v;
    if (x->n_vals + 1 > x->cap_vals) {
        int nc = x->cap_vals ? x->cap_vals * 2 : 256;
        ox_value *nv = pp_realloc(x->vals, sizeof(ox_value) * (size_t)nc);
        if (!nv) {
            pp_error_nomem(x->err, "out of memory for %d names", nc);
            return NULL;
        }
        x->vals = nv;
        x->cap_vals = nc;
    }
    if ((size_t)(x->n_vals + 1) * 2 > x->n_slots && rehash(x, (size_t)x->n_vals + 1)) return NULL;
    char *copy = ox_strdup(x, name);
    if (!copy) return NULL;
    v = &x->vals[x->n_vals];
    memset(v, 0, sizeof *v);
    v->name = copy;
    size_t i = hash_str(copy) & (x->n_slots - 1);
    while (x->slots[i] >= 0) i = (i + 1) & (x->n_slots - 1);
    x->slots[i] = x->n_vals++;
    return v;
}

pp_code ox_bind_tensor(ox_ctx *x, const char *name, int tensor) {
    ox_value *v = bind(x, name);
    if (!v) return x->err ? x->err->code : PP_ERR_NOMEM;
    v->kind = OX_TENSOR;
    v->tensor = tensor;
    return PP_OK;
}

pp_code ox_bind_sym(ox_ctx *x, const char *name, const pp_symval *s) {
    if (pp_sym_is_const(s)) {
        void *data;
        uint64_t nbytes;
        pp_code rc = pp_sym_to_data(s, &data, &nbytes, x->err);
        if (rc) return rc;
        int64_t dims[1] = {s->n};
        int id = pp_graph_add_tensor(x->g, name, s->dtype, PP_TENSOR_WEIGHT, s->rank, dims, x->err);
        if (id < 0) {
            pp_free(data);
            return x->err ? x->err->code : PP_ERR_NOMEM;
        }
        x->g->tensors[id].owned = data;
        x->g->tensors[id].data = data;
        x->g->tensors[id].nbytes = nbytes;
        return ox_bind_tensor(x, name, id);
    }
    ox_value *v = bind(x, name);
    if (!v) return x->err ? x->err->code : PP_ERR_NOMEM;
    v->kind = OX_SYM;
    v->tensor = -1;
    v->sym = *s;
    return PP_OK;
}

static pp_code consumed_add(ox_ctx *x, const char *name) {
    if (!*name) return PP_OK;
    size_t i = hash_str(name) & (x->n_consumed_slots - 1);
    while (x->consumed[i]) {
        if (strcmp(x->consumed[i], name) == 0) return PP_OK;
        i = (i + 1) & (x->n_consumed_slots - 1);
    }
    x->consumed[i] = name;
    return PP_OK;
}

int ox_is_consumed(ox_ctx *x, const char *name) {
    if (!*name || !x->n_consumed_slots) return 0;
    size_t i = hash_str(name) & (x->n_consumed_slots - 1);
    while (x->consumed[i]) {
        if (strcmp(x->consumed[i], name) == 0) return 1;
        i = (i + 1) & (x->n_consumed_slots - 1);
    }
    return 0;
}

static pp_code build_consumed(ox_ctx *x) {
    size_t total = (size_t)x->n_outputs;
    for (int i = 0; i < x->n_nodes; i++) total += (size_t)x->nodes[i].n_in;
    size_t n = 64;
    while (n < total * 2 + 2) {
        if (n > ((size_t)-1) / 4) return pp_error_nomem(x->err, "too many names");
        n *= 2;
    }
    x->consumed = ox_alloc(x, sizeof(char *) * n);
    if (!x->consumed) return PP_ERR_NOMEM;
    x->n_consumed_slots = n;
    for (int i = 0; i < x->n_outputs; i++) consumed_add(x, x->outputs[i].name);
    for (int i = 0; i < x->n_nodes; i++)
        for (int j = 0; j < x->nodes[i].n_in; j++) consumed_add(x, x->nodes[i].in[j]);
    return PP_OK;
}

/* ---- files ------------------------------------------------------------------- */

static pp_code map_file(const char *path, void **map, size_t *size, pp_error *err) {
    *map = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pp_error_set(err, PP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return pp_error_set(err, PP_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return pp_error_set(err, PP_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return pp_error_set(err, PP_ERR_FORMAT, "%s: the file is empty", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return pp_error_set(err, PP_ERR_IO, "%s: too large to map", path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return pp_error_set(err, PP_ERR_IO, "%s: mmap of %lld bytes failed: %s", path, (long long)st.st_size,
                            strerror(e));
    *map = p;
    *size = (size_t)st.st_size;
    return PP_OK;
}

/* The external data file `location` (relative to the model's folder, never
 * leaving it), mapped once per import. */
static pp_code ext_map(ox_ctx *x, const ox_tensor *t, const uint8_t **data, size_t *size) {
    char b[256];
    const char *loc = t->ext_location;
    if (!x->dir)
        return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                            "initializer '%s': external data, but the model was not "
                            "read from a file",
                            safe(b, sizeof b, t->name));
    if (!loc || !*loc)
        return pp_error_set(x->err, PP_ERR_FORMAT, "initializer '%s' (byte %zu): external data without a location",
                            safe(b, sizeof b, t->name), t->offset);
    int bad = loc[0] == '/' || strchr(loc, '\\') != NULL;
    for (const char *p = loc; !bad && *p;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.') bad = 1;
        p = e ? e + 1 : p + len;
    }
    if (bad)
        return pp_error_set(x->err, PP_ERR_FORMAT,
                            "initializer '%s': external data location '%s' leaves the "
                            "model's folder (absolute paths and '..' are refused)",
                            safe(b, sizeof b, t->name), loc);
    pp_onnx *h = x->h;
    for (int i = 0; i < h->n_ext; i++)
        if (strcmp(h->ext[i].location, loc) == 0) {
            *data = h->ext[i].map;
            *size = h->ext[i].size;
            return PP_OK;
        }
    char *path = ox_printf(x, "%s/%s", x->dir, loc);
    if (!path) return PP_ERR_NOMEM;
    /* A symbolic link may still point outside: compare the resolved paths. */
    char *rdir = realpath(x->dir, NULL), *rpath = realpath(path, NULL);
    pp_code rc = PP_OK;
    if (!rdir || !rpath) {
        rc = pp_error_set(x->err, PP_ERR_IO, "initializer '%s': external data file '%s': %s",
                          safe(b, sizeof b, t->name), path, strerror(errno));
    } else {
        size_t dl = strlen(rdir);
        if (strncmp(rpath, rdir, dl) != 0 || (rpath[dl] != '/' && !(dl == 1 && rdir[0] == '/')))
            rc = pp_error_set(x->err, PP_ERR_FORMAT,
                              "initializer '%s': external data file '%s' resolves outside the "
                              "model's folder",
                              safe(b, sizeof b, t->name), path);
    }
    free(rdir);
    free(rpath);
    if (rc) return rc;
    if (h->n_ext + 1 > h->cap_ext) {
        int nc = h->cap_ext ? h->cap_ext * 2 : 4;
        ox_ext_map *ne = pp_realloc(h->ext, sizeof(ox_ext_map) * (size_t)nc);
        if (!ne) return pp_error_nomem(x->err, "out of memory");
        h->ext = ne;
        h->cap_ext = nc;
    }
    ox_ext_map *m = &h->ext[h->n_ext];
    memset(m, 0, sizeof *m);
    m->location = pp_malloc(strlen(loc) + 1);
    if (!m->location) return pp_error_nomem(x->err, "out of memory");
    strcpy(m->location, loc);
    rc = map_file(path, &m->map, &m->size, x->err);
    if (rc) {
        pp_free(m->location);
        return rc;
    }
    h->n_ext++;
    *data = m->map;
    *size = m->size;
    return PP_OK;
}

/* ---- tensors to weights ------------------------------------------------------ */

int ox_tensor_to_weight(ox_ctx *x, const ox_tensor *t, const char *name) {
    char b[256];
    const char *nm = safe(b, sizeof b, name);
    pp_dtype dt = pp_onnx_dtype(t->data_type);
    if (dt == PP_DTYPE_INVALID) {
        pp_error_set(x->err, PP_ERR_UNSUPPORTED, "tensor '%s' (byte %zu): data type %s (%" PRId64 ") is not supported",
                     nm, t->offset, pp_onnx_dtype_name(t->data_type), t->data_type);
        return -1;
    }
    if (t->rank > PP_MAX_RANK) {
        pp_error_set(x->err, PP_ERR_UNSUPPORTED, "tensor '%s' (byte %zu): rank %d exceeds %d", nm, t->offset, t->rank,
                     PP_MAX_RANK);
        return -1;
    }
    if (t->has_segment) {
        pp_error_set(x->err, PP_ERR_UNSUPPORTED, "tensor '%s' (byte %zu): segmented tensors are not supported", nm,
                     t->offset);
        return -1;
    }
    size_t numel = 1, es = pp_dtype_size(dt), bytes;
    for (int i = 0; i < t->rank; i++)
        if (pp_mul_size(numel, (size_t)t->dims[i], &numel)) {
            pp_error_set(x->err, PP_ERR_FORMAT, "tensor '%s' (byte %zu): element count overflows", nm, t->offset);
            return -1;
        }
    if (pp_mul_size(numel, es, &bytes)) {
        pp_error_set(x->err, PP_ERR_FORMAT, "tensor '%s' (byte %zu): byte size overflows", nm, t->offset);
        return -1;
    }
    int ext = t->data_location == 1;
    int sources = (t->has_raw && !ext) + (t->f32.n > 0) + (t->i32.n > 0) + (t->i64.n > 0) + (t->u64.n > 0) +
                  (t->f64.n > 0) + (t->n_strings > 0) + ext;
    if (sources > 1) {
        pp_error_set(x->err, PP_ERR_FORMAT, "tensor '%s' (byte %zu): data in more than one field", nm, t->offset);
        return -1;
    }
    const uint8_t *src = NULL; /* bytes that may be borrowed */
    void *own = NULL;          /* or a converted copy */
    size_t count = 0;
    const char *field = "";
    if (ext) {
        const uint8_t *map = NULL;
        size_t size = 0;
        if (ext_map(x, t, &map, &size)) return -1;
        uint64_t off = t->ext_offset < 0 ? 0 : (uint64_t)t->ext_offset;
        uint64_t len = t->ext_length < 0 ? (off <= size ? size - off : 0) : (uint64_t)t->ext_length;
        if (off > size || len > size - off) {
            pp_error_set(x->err, PP_ERR_FORMAT,
                         "tensor '%s': external data [%llu, +%llu) lies beyond the end of '%s' "
                         "(%zu bytes)",
                         nm, (unsigned long long)off, (unsigned long long)len, t->ext_location, size);
            return -1;
        }
        if (len != bytes) {
            pp_error_set(x->err, PP_ERR_FORMAT,
                         "tensor '%s': external data has %llu bytes, its shape and type need "
                         "%zu",
                         nm, (unsigned long long)len, bytes);
            return -1;
        }
        src = map + off;
    } else if (t->has_raw) {
        if (t->raw_len != bytes) {
            pp_error_set(x->err, PP_ERR_FORMAT,
                         "tensor '%s' (byte %zu): raw_data has %zu bytes, its shape and type "
                         "need %zu",
                         nm, t->offset, t->raw_len, bytes);
            return -1;
        }
        src = t->raw;
    } else if (t->n_strings) {
        pp_error_set(x->err, PP_ERR_UNSUPPORTED, "tensor '%s' (byte %zu): string tensors are not supported", nm,
                     t->offset);
        return -1;
    } else {
        if (t->f32.n) count = t->f32.n, field = "float_data";
        else if (t->i32.n) count = t->i32.n, field = "int32_data";
        else if (t->i64.n) count = t->i64.n, field = "int64_data";
        else if (t->f64.n) count = t->f64.n, field = "double_data";
        else if (t->u64.n) count = t->u64.n, field = "uint64_data";
        if (count != numel) {
            if (count == 0)
                pp_error_set(x->err, PP_ERR_FORMAT, "tensor '%s' (byte %zu): %zu elements but no data", nm, t->offset,
                             numel);
            else
                pp_error_set(x->err, PP_ERR_FORMAT, "tensor '%s' (byte %zu): %s has %zu values, the shape needs %zu",
                             nm, t->offset, field, count, numel);
            return -1;
        }
        int ok = (t->f32.n && dt == PP_DTYPE_F32) || (t->i64.n && dt == PP_DTYPE_I64) ||
                 (t->f64.n && dt == PP_DTYPE_F64) ||
                 (t->i32.n && (dt == PP_DTYPE_I32 || dt == PP_DTYPE_I8 || dt == PP_DTYPE_U8 || dt == PP_DTYPE_BOOL ||
                               dt == PP_DTYPE_F16 || dt == PP_DTYPE_BF16)) ||
                 numel == 0;
        if (!ok) {
            pp_error_set(x->err, PP_ERR_FORMAT, "tensor '%s' (byte %zu): %s cannot hold type %s", nm, t->offset, field,
                         pp_onnx_dtype_name(t->data_type));
            return -1;
        }
        own = pp_malloc(bytes ? bytes : 1);
        if (!own) {
            pp_error_set(x->err, PP_ERR_NOMEM, "tensor '%s': out of memory for %zu bytes", nm, bytes);
            return -1;
        }
        unsigned char *o = own;
        for (size_t i = 0; i < numel; i++) {
            switch (dt) {
            case PP_DTYPE_F32: memcpy(o + 4 * i, &t->f32.v[i], 4); break;
            case PP_DTYPE_I64: memcpy(o + 8 * i, &t->i64.v[i], 8); break;
            case PP_DTYPE_F64: memcpy(o + 8 * i, &t->f64.v[i], 8); break;
            case PP_DTYPE_I32: {
                int32_t v = (int32_t)t->i32.v[i];
                memcpy(o + 4 * i, &v, 4);
                break;
            }
            case PP_DTYPE_F16:
            case PP_DTYPE_BF16: {
                uint16_t v = (uint16_t)t->i32.v[i];
                memcpy(o + 2 * i, &v, 2);
                break;
            }
            case PP_DTYPE_BOOL: o[i] = t->i32.v[i] != 0; break;
            default: o[i] = (unsigned char)t->i32.v[i]; break;
            }
        }
    }
    if (src && (numel == 0 || (x->opt && x->opt->copy_weights))) {
        /* Weights stay in the mapping even at odd addresses (a 500 MB model is
         * not copied): whoever reads them as typed arrays (folding, passes, the
         * interpreter, the executor) makes an aligned copy of just those. */
        own = pp_malloc(bytes ? bytes : 1);
        if (!own) {
            pp_error_set(x->err, PP_ERR_NOMEM, "tensor '%s': out of memory for %zu bytes", nm, bytes);
            return -1;
        }
        if (bytes) memcpy(own, src, bytes);
        src = NULL;
    }
    if (!src && !own) { /* an empty tensor */
        own = pp_malloc(1);
        if (!own) {
            pp_error_nomem(x->err, "out of memory");
            return -1;
        }
    }
    int id = pp_graph_add_tensor(x->g, name, dt, PP_TENSOR_WEIGHT, t->rank, t->dims, x->err);
    if (id < 0) {
        pp_free(own);
        return -1;
    }
    pp_tensor *w = &x->g->tensors[id];
    if (own) {
        w->owned = own;
        w->data = own;
    } else {
        w->data = src;
        x->h->info.borrowed_bytes += bytes;
    }
    w->nbytes = bytes;
    return id;
}

/* ---- shapes while importing -------------------------------------------------- */

static void shape_at(const pp_tensor *t, int64_t batch, pp_shape *s) {
    s->dtype = t->dtype;
    s->rank = t->rank;
    memset(s->dims, 0, sizeof s->dims);
    pp_tensor_dims_at(t, batch, s->dims);
}

/* Output shapes of node i from its inputs', at batch 1 and 2: an extent that
 * doubles is a batch multiple (the rule pp_graph_infer uses). */
static pp_code infer_node(ox_ctx *x, int i) {
    pp_graph *g = x->g;
    pp_node *n = &g->nodes[i];
    pp_shape in1[PP_MAX_IO], in2[PP_MAX_IO], out1[PP_MAX_IO], out2[PP_MAX_IO];
    const void *cdata[PP_MAX_IO];
    pp_op_params p;
    for (int j = 0; j < n->n_in; j++) {
        cdata[j] = NULL;
        memset(&in1[j], 0, sizeof in1[j]);
        memset(&in2[j], 0, sizeof in2[j]);
        if (n->in[j] < 0) continue;
        const pp_tensor *t = &g->tensors[n->in[j]];
        if (t->rank < 0)
            return pp_error_set(x->err, PP_ERR_INTERNAL, "node '%s': input '%s' has no shape yet", n->name, t->name);
        shape_at(t, 1, &in1[j]);
        shape_at(t, 2, &in2[j]);
        cdata[j] = t->kind == PP_TENSOR_WEIGHT ? t->data : NULL;
    }
    pp_code rc = pp_op_describe(n, in1, out1, &p, NULL, cdata, x->err);
    if (!rc) rc = pp_op_describe(n, in2, out2, &p, NULL, cdata, x->err);
    if (rc) return rc;
    for (int j = 0; j < n->n_out; j++) {
        if (n->out[j] < 0) continue;
        pp_tensor *t = &g->tensors[n->out[j]];
        if (out1[j].rank != out2[j].rank || out1[j].dtype != out2[j].dtype)
            return pp_error_set(x->err, PP_ERR_SHAPE,
                                "node '%s' (%s): output '%s' changes rank or type with the "
                                "batch",
                                n->name, pp_op_name(n->op), t->name);
        t->rank = out1[j].rank;
        t->dtype = out1[j].dtype;
        memset(t->dims, 0, sizeof t->dims);
        for (int d = 0; d < t->rank; d++) {
            int64_t a = out1[j].dims[d], b = out2[j].dims[d];
            if (a == b) t->dims[d] = a;
            else if (a > 0 && b == 2 * a) t->dims[d] = -a;
            else
                return pp_error_set(x->err, PP_ERR_SHAPE,
                                    "node '%s' (%s): output '%s' axis %d is %" PRId64 " at batch 1 and %" PRId64
                                    " at batch 2, not a multiple of the batch",
                                    n->name, pp_op_name(n->op), t->name, d, a, b);
        }
    }
    return PP_OK;
}

pp_code ox_finish_pending(ox_ctx *x) {
    while (x->n_finished < x->g->n_nodes) {
        int i = x->n_finished;
        int folded = 0;
        if (!(x->opt && x->opt->no_fold)) {
            pp_code rc = pp_fold_node(x->g, i, &folded, x->err);
            if (rc) return rc;
        }
        if (!folded) {
            pp_code rc = infer_node(x, i);
            if (rc) return rc;
        }
        x->n_finished++;
    }
    return PP_OK;
}

/* ---- the import -------------------------------------------------------------- */

typedef struct unsup {
    const char *op, *first;
    int count;
} unsup;

static pp_code check_ops(ox_ctx *x) {
    unsup *u = ox_alloc(x, sizeof(unsup) * ((size_t)x->n_nodes + 1));
    if (!u) return PP_ERR_NOMEM;
    int nu = 0, total = 0;
    for (int i = 0; i < x->n_nodes; i++) {
        const ox_node *n = &x->nodes[i];
        const char *key;
        if (!*n->domain || strcmp(n->domain, "ai.onnx") == 0) {
            if (ox_op_known(n->op_type)) continue;
            key = n->op_type;
        } else {
            key = ox_printf(x, "%s::%s", n->domain, n->op_type);
            if (!key) return PP_ERR_NOMEM;
        }
        total++;
        int j = 0;
        while (j < nu && strcmp(u[j].op, key) != 0) j++;
        if (j == nu) {
            u[nu].op = key;
            u[nu].first = *n->name ? n->name : ox_printf(x, "#%d", i);
            u[nu].count = 0;
            nu++;
        }
        u[j].count++;
    }
    if (!nu) return PP_OK;
    char msg[PP_ERROR_MSG_MAX];
    size_t o = (size_t)snprintf(msg, sizeof msg, "%d unsupported ONNX op type%s (%d node%s):", nu, nu > 1 ? "s" : "",
                                total, total > 1 ? "s" : "");
    for (int j = 0; j < nu && o < sizeof msg; j++) {
        char a[64], b[64];
        o += (size_t)snprintf(msg + o, sizeof msg - o, "%s %s x%d (first '%s')", j ? "," : "",
                              safe(a, sizeof a, u[j].op), u[j].count, safe(b, sizeof b, u[j].first));
    }
    return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "%s", msg);
}

static int is_batch_param(ox_ctx *x, const char *p) {
    for (int i = 0; i < x->n_batch_params; i++)
        if (strcmp(x->batch_params[i], p) == 0) return 1;
    return 0;
}

static const pp_onnx_const *find_const(ox_ctx *x, const char *name) {
    if (!x->opt) return NULL;
    for (int i = 0; i < x->opt->n_consts; i++)
        if (x->opt->consts[i].name && strcmp(x->opt->consts[i].name, name) == 0) return &x->opt->consts[i];
    return NULL;
}

static int is_init(ox_ctx *x, const char *name) {
    for (int i = 0; i < x->n_inits; i++)
        if (strcmp(x->inits[i].name, name) == 0) return 1;
    return 0;
}

static pp_code bind_const(ox_ctx *x, const pp_onnx_const *c) {
    size_t need;
    int rank = c->rank;
    if (rank < 0 || rank > PP_MAX_RANK)
        return pp_error_set(x->err, PP_ERR_INVALID_ARG, "constant '%s': rank %d", c->name, rank);
    need = pp_dtype_size(c->dtype);
    for (int i = 0; i < rank; i++) {
        if (c->dims[i] < 0 || pp_mul_size(need, (size_t)c->dims[i], &need))
            return pp_error_set(x->err, PP_ERR_INVALID_ARG, "constant '%s': bad dimension %d", c->name, i);
    }
    if (need != c->nbytes)
        return pp_error_set(x->err, PP_ERR_INVALID_ARG, "constant '%s': %llu bytes for a %s tensor that needs %llu",
                            c->name, (unsigned long long)c->nbytes, pp_dtype_name(c->dtype), (unsigned long long)need);
    int id = pp_graph_add_weight(x->g, c->name, c->dtype, rank, c->dims, c->data, c->nbytes, x->err);
    if (id < 0) return x->err ? x->err->code : PP_ERR_NOMEM;
    return ox_bind_tensor(x, c->name, id);
}

static pp_code import_inputs(ox_ctx *x, int **ins, int *n_ins) {
    char b[256];
    pp_code rc;
    x->batch_params = ox_alloc(x, sizeof(char *) * ((size_t)x->n_inputs + 1));
    *ins = ox_alloc(x, sizeof(int) * ((size_t)x->n_inputs + 1));
    if (!x->batch_params || !*ins) return PP_ERR_NOMEM;
    *n_ins = 0;
    for (int i = 0; i < x->n_inputs; i++) {
        const ox_vinfo *v = &x->inputs[i];
        if (is_init(x, v->name) || find_const(x, v->name)) continue;
        if (v->has_shape && v->rank > 0 && v->params[0] && !is_batch_param(x, v->params[0]))
            x->batch_params[x->n_batch_params++] = v->params[0];
    }
    for (int i = 0; i < x->n_inputs; i++) {
        const ox_vinfo *v = &x->inputs[i];
        const char *nm = safe(b, sizeof b, v->name);
        const pp_onnx_const *c = find_const(x, v->name);
        if (c) {
            if ((rc = bind_const(x, c))) return rc;
            continue;
        }
        if (is_init(x, v->name)) continue; /* an initializer with a default: a constant */
        if (!v->is_tensor)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                                "graph input '%s': not a tensor (sequences, maps and "
                                "optionals are not supported)",
                                nm);
        pp_dtype dt = pp_onnx_dtype(v->elem_type);
        if (dt == PP_DTYPE_INVALID)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "graph input '%s': element type %s is not supported", nm,
                                pp_onnx_dtype_name(v->elem_type));
        if (!v->has_shape)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                                "graph input '%s' has no shape; bind it with --const or "
                                "export it with a shape",
                                nm);
        if (v->rank > PP_MAX_RANK)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "graph input '%s': rank %d exceeds %d", nm, v->rank,
                                PP_MAX_RANK);
        int64_t dims[PP_MAX_RANK];
        for (int d = 0; d < v->rank; d++) {
            const char *p = v->params[d];
            int64_t val = v->dims[d];
            if (p) {
                int bound = 0;
                for (int k = 0; x->opt && k < x->opt->n_dims; k++)
                    if (x->opt->dims[k].name && strcmp(x->opt->dims[k].name, p) == 0) {
                        dims[d] = x->opt->dims[k].value;
                        bound = 1;
                    }
                if (bound) continue;
                if (is_batch_param(x, p)) {
                    dims[d] = PP_DIM_BATCH;
                    continue;
                }
                char pb[64];
                return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                                    "graph input '%s' axis %d has the symbolic extent '%s': only the batch may be "
                                    "symbolic (bind it with --dim %s=N)",
                                    nm, d, safe(pb, sizeof pb, p), safe(pb, sizeof pb, p));
            }
            if (d == 0 && val < 0) { /* no extent given: the batch; a literal 0 is an empty axis */
                dims[d] = PP_DIM_BATCH;
                continue;
            }
            if (val < 0)
                return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "graph input '%s' axis %d has no extent", nm, d);
            dims[d] = val;
        }
        int id = pp_graph_add_tensor(x->g, v->name, dt, PP_TENSOR_INPUT, v->rank, dims, x->err);
        if (id < 0) return x->err ? x->err->code : PP_ERR_NOMEM;
        if ((rc = ox_bind_tensor(x, v->name, id))) return rc;
        (*ins)[(*n_ins)++] = id;
    }
    for (int k = 0; x->opt && k < x->opt->n_consts; k++) {
        const char *cn = x->opt->consts[k].name;
        int found = 0;
        for (int i = 0; i < x->n_inputs && !found; i++) found = strcmp(x->inputs[i].name, cn ? cn : "") == 0;
        if (!found)
            return pp_error_set(x->err, PP_ERR_INVALID_ARG, "constant '%s': the model has no graph input of that name",
                                safe(b, sizeof b, cn));
    }
    return PP_OK;
}

static pp_code import_graph(ox_ctx *x) {
    pp_code rc;
    char b[256], b2[256];
    if ((rc = check_ops(x))) return rc;
    if ((rc = build_consumed(x))) return rc;
    if ((rc = rehash(x, 256))) return rc;
    x->g = pp_graph_new();
    if (!x->g) return pp_error_nomem(x->err, "out of memory for the graph");
    /* Initializers first: a graph input of the same name is a default, so the
     * constant wins (unless --const rebinds the input). */
    for (int i = 0; i < x->n_inits; i++) {
        const ox_tensor *t = &x->inits[i];
        if (!*t->name)
            return pp_error_set(x->err, PP_ERR_FORMAT, "initializer %d (byte %zu) has no name", i, t->offset);
        if (find_const(x, t->name)) continue;
        int id = ox_tensor_to_weight(x, t, t->name);
        if (id < 0) return x->err ? x->err->code : PP_ERR_FORMAT;
        if ((rc = ox_bind_tensor(x, t->name, id))) return rc;
    }
    int *ins, n_ins;
    if ((rc = import_inputs(x, &ins, &n_ins))) return rc;
    for (int i = 0; i < x->n_nodes; i++) {
        const ox_node *n = &x->nodes[i];
        ox_nctx c;
        memset(&c, 0, sizeof c);
        c.x = x;
        c.n = n;
        c.index = i;
        {
            /* The IR keeps the source name for every message and profile row;
             * control bytes would break one-line messages. */
            const char *src = *n->name ? n->name : ox_printf(x, "%s_%d", n->op_type, i);
            char *nm = src ? ox_strdup(x, src) : NULL;
            if (!nm) return PP_ERR_NOMEM;
            for (char *p = nm; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7F) *p = '?';
            c.name = nm;
        }
        if (n->n_in > PP_MAX_IO)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "node '%s' (%s): %d inputs exceed %d",
                                safe(b, sizeof b, c.name), n->op_type, n->n_in, PP_MAX_IO);
        if (n->n_out > PP_MAX_IO)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "node '%s' (%s): %d outputs exceed %d",
                                safe(b, sizeof b, c.name), n->op_type, n->n_out, PP_MAX_IO);
        c.n_in = n->n_in;
        for (int j = 0; j < n->n_in; j++) {
            if (!*n->in[j]) continue;
            c.in[j] = ox_lookup(x, n->in[j]);
            if (!c.in[j])
                return pp_error_set(x->err, PP_ERR_FORMAT,
                                    "node '%s' (%s): input '%s' is not produced by an earlier node, an initializer or "
                                    "a graph input",
                                    safe(b, sizeof b, c.name), n->op_type, safe(b2, sizeof b2, n->in[j]));
        }
        for (int j = 0; j < n->n_out; j++)
            if (*n->out[j] && ox_lookup(x, n->out[j]))
                return pp_error_set(x->err, PP_ERR_FORMAT, "node '%s' (%s): output '%s' is assigned twice",
                                    safe(b, sizeof b, c.name), n->op_type, safe(b2, sizeof b2, n->out[j]));
        int first = x->g->n_nodes;
        if ((rc = ox_import_node(&c))) return rc;
        if ((rc = ox_finish_pending(x))) return rc;
        /* "Folded": evaluated at conversion, leaving no node to run (constants
         * and aliases are not counted). */
        int left = 0;
        for (int k = first; k < x->g->n_nodes; k++) left += !x->g->nodes[k].dead;
        if (!left && strcmp(n->op_type, "Constant") && strcmp(n->op_type, "Identity") && strcmp(n->op_type, "Dropout"))
            x->folded++;
    }
    int *outs = ox_alloc(x, sizeof(int) * ((size_t)x->n_outputs + 1));
    if (!outs) return PP_ERR_NOMEM;
    for (int i = 0; i < x->n_outputs; i++) {
        const ox_value *v = ox_lookup(x, x->outputs[i].name);
        if (!v)
            return pp_error_set(x->err, PP_ERR_FORMAT, "graph output '%s' is not produced by any node",
                                safe(b, sizeof b, x->outputs[i].name));
        if (v->kind != OX_TENSOR)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                                "graph output '%s' is a batch-dependent shape value; outputs must be tensors",
                                safe(b, sizeof b, x->outputs[i].name));
        outs[i] = v->tensor;
    }
    return pp_graph_set_io(x->g, n_ins, ins, x->n_outputs, outs, x->err);
}

static void ctx_release(ox_ctx *x) {
    for (int i = 0; i < x->n_inits; i++) tensor_release(&x->inits[i]);
    for (int i = 0; i < x->n_nodes; i++)
        for (int j = 0; j < x->nodes[i].n_attrs; j++)
            if (x->nodes[i].attrs[j].t) tensor_release(x->nodes[i].attrs[j].t);
    pp_free(x->vals);
    pp_free(x->slots);
    arena_free(&x->arena);
}

void pp_onnx_free(pp_onnx *h) {
    if (!h) return;
    if (h->map) munmap(h->map, h->map_size);
    for (int i = 0; i < h->n_ext; i++) {
        munmap(h->ext[i].map, h->ext[i].size);
        pp_free(h->ext[i].location);
    }
    pp_free(h->ext);
    pp_free(h->producer_name);
    pp_free(h->producer_version);
    pp_free(h);
}

const pp_onnx_info *pp_onnx_get_info(const pp_onnx *h) { return h ? &h->info : NULL; }

static char *dup_plain(const char *s) {
    char *d = pp_malloc(strlen(s) + 1);
    if (d) strcpy(d, s);
    return d;
}

/* Takes ownership of h (freed on failure). */
static pp_code import_common(pp_onnx *h, const void *data, size_t size, const char *dir, const pp_onnx_options *opt,
                             pp_onnx **handle, pp_graph **graph, pp_error *err) {
    ox_ctx x;
    memset(&x, 0, sizeof x);
    pp_error scratch;
    x.err = err ? err : &scratch;
    x.file = data;
    x.file_size = size;
    x.dir = dir;
    x.opt = opt;
    x.h = h;
    pp_code rc = parse_model(&x);
    if (!rc) rc = import_graph(&x);
    if (!rc) {
        h->producer_name = dup_plain(x.producer_name);
        h->producer_version = dup_plain(x.producer_version);
        if (!h->producer_name || !h->producer_version) rc = pp_error_nomem(x.err, "out of memory");
    }
    if (!rc) {
        h->info.ir_version = x.ir_version;
        h->info.opset = x.opset;
        h->info.producer_name = h->producer_name;
        h->info.producer_version = h->producer_version;
        h->info.onnx_nodes = x.n_nodes;
        h->info.folded = x.folded;
        *handle = h;
        *graph = x.g;
        x.g = NULL;
    } else {
        if (x.err->code == PP_OK) x.err->code = rc;
        pp_graph_free(x.g);
        x.g = NULL;
        pp_onnx_free(h);
    }
    ctx_release(&x);
    return rc;
}

pp_code pp_onnx_import_memory(const void *data, size_t size, const char *dir, const pp_onnx_options *opt,
                              pp_onnx **handle, pp_graph **graph, pp_error *err) {
    *handle = NULL;
    *graph = NULL;
    if (!data || !size) return pp_error_set(err, PP_ERR_FORMAT, "empty ONNX model");
    pp_onnx *h = pp_calloc(1, sizeof *h);
    if (!h) return pp_error_nomem(err, "out of memory");
    return import_common(h, data, size, dir, opt, handle, graph, err);
}

pp_code pp_onnx_tensor_read(const void *buf, size_t size, pp_onnx_tensor *out, pp_error *err) {
    memset(out, 0, sizeof *out);
    pp_error scratch;
    ox_ctx x;
    memset(&x, 0, sizeof x);
    x.err = err ? err : &scratch;
    x.file = buf;
    x.file_size = size;
    pp_onnx_options o;
    memset(&o, 0, sizeof o);
    o.copy_weights = 1;
    x.opt = &o;
    pp_onnx h;
    memset(&h, 0, sizeof h);
    x.h = &h;
    x.g = pp_graph_new();
    if (!x.g) return pp_error_nomem(x.err, "out of memory");
    pp_pb_cursor cur;
    pp_pb_init(&cur, buf, size, "TensorProto");
    ox_tensor t;
    pp_code rc = parse_tensor(&x, cur, &t);
    if (!rc) {
        int id = ox_tensor_to_weight(&x, &t, t.name);
        if (id < 0) {
            rc = x.err->code ? x.err->code : PP_ERR_FORMAT;
        } else {
            pp_tensor *w = &x.g->tensors[id];
            out->name = dup_plain(t.name);
            if (!out->name) {
                rc = pp_error_nomem(x.err, "out of memory");
            } else {
                out->dtype = w->dtype;
                out->rank = w->rank;
                memcpy(out->dims, w->dims, sizeof out->dims);
                out->data = w->owned;
                out->nbytes = w->nbytes;
                w->owned = NULL;
            }
        }
        tensor_release(&t);
    }
    pp_graph_free(x.g);
    arena_free(&x.arena);
    return rc;
}

void pp_onnx_tensor_free(pp_onnx_tensor *t) {
    if (!t) return;
    pp_free(t->name);
    pp_free(t->data);
    memset(t, 0, sizeof *t);
}

pp_code pp_onnx_import(const char *path, const pp_onnx_options *opt, pp_onnx **handle, pp_graph **graph,
                       pp_error *err) {
    *handle = NULL;
    *graph = NULL;
    pp_onnx *h = pp_calloc(1, sizeof *h);
    if (!h) return pp_error_nomem(err, "out of memory");
    pp_code rc = map_file(path, &h->map, &h->map_size, err);
    if (rc) {
        pp_free(h);
        return rc;
    }
    /* The model's folder, for external data. */
    char *dir = pp_malloc(strlen(path) + 2);
    if (!dir) {
        pp_onnx_free(h);
        return pp_error_nomem(err, "out of memory");
    }
    strcpy(dir, path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = 0;
    else if (slash) *slash = 0;
    else strcpy(dir, ".");
    rc = import_common(h, h->map, h->map_size, dir, opt, handle, graph, err);
    pp_free(dir);
    if (rc) pp_error_prefix(err, "%s", path);
    return rc;
}

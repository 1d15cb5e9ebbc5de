/* onnx_parse.c: reading an ONNX ModelProto (converter/protobuf.h's walker) into
 * the importer's plain records (ox_node, ox_tensor, ...), every length and count
 * checked; and the import's arena. The import itself is onnx.c. */
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

void ox_arena_free(ox_arena *a) {
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
const char *ox_safe(char *buf, size_t size, const char *s) {
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

void ox_tensor_release(ox_tensor *t) {
    pp_pb_f32s_free(&t->f32);
    pp_pb_i64s_free(&t->i32);
    pp_pb_i64s_free(&t->i64);
    pp_pb_i64s_free(&t->u64);
    pp_pb_f64s_free(&t->f64);
}

pp_code ox_parse_tensor(ox_ctx *x, pp_pb_cursor cur, ox_tensor *t) {
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
                                      t->offset, key, ox_safe(b, sizeof b, value));
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
    if (rc) ox_tensor_release(t);
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
            if (a->t) ox_tensor_release(a->t);
            else if (!(a->t = ox_alloc(x, sizeof *a->t))) {
                rc = PP_ERR_NOMEM;
                break;
            }
            rc = ox_parse_tensor(x, sub, a->t);
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
        ox_tensor_release(a->t);
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
                rc = ox_parse_tensor(x, sub, &x->inits[x->n_inits]);
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

pp_code ox_parse_model(ox_ctx *x) {
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

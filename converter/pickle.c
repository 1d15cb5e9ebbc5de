/* pickle.c: the safe unpickler (pickle.h). Opcode meanings from CPython's
 * Lib/pickletools.py; allow-list and rebuild semantics from torch's
 * _weights_only_unpickler.py and _utils.py (formats.md §1). */
#include "pickle.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CHUNK 4096

/* What an allow-listed global is. */
enum {
    G_REBUILD_V1 = 1,
    G_REBUILD_V2,
    G_REBUILD_V3,
    G_PARAM,
    G_PARAM_STATE,
    G_ODICT,
    G_STORAGE, /* a storage class; stype says which */
    G_DTYPE,   /* torch.float32 & co; stype says which */
    G_ENCODE,  /* _codecs.encode */
    G_SIZE,    /* torch.Size */
    G_SET,     /* builtins.set / __builtin__.set */
    G_FROZENSET,
    G_DEVICE, /* torch.device */
};

struct pp_pickle {
    pp_pk_value **chunks;
    size_t n_chunks, cap_chunks, used; /* values used in the last chunk */
    size_t n_values;
    pp_pk_value **stack;
    size_t sp, scap;
    size_t marks[PP_PICKLE_MAX_MARKS];
    int n_marks;
    pp_pk_value **memo;
    size_t memo_cap, memo_count;
    const uint8_t *b;
    size_t size, pos, op_off;
    uint8_t op;
    char what[128];
    pp_error *err;
};

size_t pp_pk_stype_size(pp_pk_stype t) {
    switch (t) {
    case PP_PK_S_F64:
    case PP_PK_S_I64: return 8;
    case PP_PK_S_F32:
    case PP_PK_S_I32: return 4;
    case PP_PK_S_F16:
    case PP_PK_S_BF16:
    case PP_PK_S_I16: return 2;
    case PP_PK_S_I8:
    case PP_PK_S_U8:
    case PP_PK_S_BOOL:
    case PP_PK_S_UNTYPED: return 1;
    default: return 0;
    }
}

const char *pp_pk_stype_name(pp_pk_stype t) {
    static const char *names[] = {"invalid", "float64", "float32", "float16", "bfloat16", "int64",
                                  "int32",   "int16",   "int8",    "uint8",   "bool",     "untyped"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

const char *pp_pk_type_name(pp_pk_type t) {
    static const char *names[] = {"None", "bool", "int", "float",  "str",     "bytes", "tuple",
                                  "list", "dict", "set", "global", "storage", "tensor"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static const char *op_name(uint8_t op) {
    switch (op) {
    case 0x80: return "PROTO";
    case 0x95: return "FRAME";
    case 0x2E: return "STOP";
    case 0x63: return "GLOBAL";
    case 0x93: return "STACK_GLOBAL";
    case 0x71: return "BINPUT";
    case 0x72: return "LONG_BINPUT";
    case 0x94: return "MEMOIZE";
    case 0x68: return "BINGET";
    case 0x6A: return "LONG_BINGET";
    case 0x28: return "MARK";
    case 0x29: return "EMPTY_TUPLE";
    case 0x74: return "TUPLE";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case 0x7D: return "EMPTY_DICT";
    case 0x73: return "SETITEM";
    case 0x75: return "SETITEMS";
    case 0x5D: return "EMPTY_LIST";
    case 0x61: return "APPEND";
    case 0x65: return "APPENDS";
    case 0x8F: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x4B: return "BININT1";
    case 0x4D: return "BININT2";
    case 0x4A: return "BININT";
    case 0x8A: return "LONG1";
    case 0x8B: return "LONG4";
    case 0x47: return "BINFLOAT";
    case 0x4E: return "NONE";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 0x58: return "BINUNICODE";
    case 0x8C: return "SHORT_BINUNICODE";
    case 0x8D: return "BINUNICODE8";
    case 0x55: return "SHORT_BINSTRING";
    case 0x54: return "BINSTRING";
    case 0x42: return "BINBYTES";
    case 0x43: return "SHORT_BINBYTES";
    case 0x8E: return "BINBYTES8";
    case 0x51: return "BINPERSID";
    case 0x50: return "PERSID";
    case 0x52: return "REDUCE";
    case 0x62: return "BUILD";
    case 0x81: return "NEWOBJ";
    case 0x92: return "NEWOBJ_EX";
    case 0x69: return "INST";
    case 0x6F: return "OBJ";
    case 0x30: return "POP";
    case 0x31: return "POP_MARK";
    case 0x32: return "DUP";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    default: return "unknown opcode";
    }
}

static pp_code fail(pp_pickle *P, pp_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static pp_code fail(pp_pickle *P, pp_code code, const char *fmt, ...) {
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (code == PP_ERR_NOMEM && !strstr(msg, "bytes"))
        return pp_error_nomem(P->err, "%s: byte %zu (%s 0x%02X): %s", P->what, P->op_off, op_name(P->op), P->op, msg);
    return pp_error_set(P->err, code, "%s: byte %zu (%s 0x%02X): %s", P->what, P->op_off, op_name(P->op), P->op, msg);
}

/* Printable copy of a name from the file, for messages. */
static const char *printable(char *buf, size_t n, const char *s) {
    size_t k = 0;
    for (; s && *s && k + 4 < n; s++) buf[k++] = ((unsigned char)*s < 0x20 || *s == 0x7F) ? '?' : *s;
    if (s && *s) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = 0;
    return buf;
}

/* ---- values ------------------------------------------------------------------ */

static pp_pk_value *new_value(pp_pickle *P, pp_pk_type type) {
    if (P->n_values >= PP_PICKLE_MAX_VALUES) {
        fail(P, PP_ERR_UNSUPPORTED, "more than %d values", PP_PICKLE_MAX_VALUES);
        return NULL;
    }
    if (!P->n_chunks || P->used == CHUNK) {
        if (P->n_chunks == P->cap_chunks) {
            size_t nc = P->cap_chunks ? P->cap_chunks * 2 : 16;
            pp_pk_value **c = pp_realloc(P->chunks, nc * sizeof *c);
            if (!c) {
                fail(P, PP_ERR_NOMEM, "out of memory");
                return NULL;
            }
            P->chunks = c;
            P->cap_chunks = nc;
        }
        pp_pk_value *chunk = pp_calloc(CHUNK, sizeof *chunk);
        if (!chunk) {
            fail(P, PP_ERR_NOMEM, "out of memory");
            return NULL;
        }
        P->chunks[P->n_chunks++] = chunk;
        P->used = 0;
    }
    pp_pk_value *v = &P->chunks[P->n_chunks - 1][P->used++];
    P->n_values++;
    memset(v, 0, sizeof *v);
    v->type = type;
    return v;
}

static char *dup_bytes(pp_pickle *P, const void *s, size_t n) {
    size_t total;
    char *d = NULL;
    if (pp_add_size(n, 1, &total) || !(d = pp_malloc(total))) {
        fail(P, PP_ERR_NOMEM, "out of memory for a %zu-byte string", n);
        return NULL;
    }
    if (n) memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static pp_pk_value *new_str(pp_pickle *P, pp_pk_type type, const void *s, size_t n) {
    pp_pk_value *v = new_value(P, type);
    if (!v) return NULL;
    if (!(v->s = dup_bytes(P, s, n))) return NULL;
    v->len = n;
    return v;
}

static pp_code add_item(pp_pickle *P, pp_pk_value *c, pp_pk_value *item) {
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 4, bytes;
        if (pp_mul_size(nc, sizeof *c->items, &bytes)) return fail(P, PP_ERR_NOMEM, "container too large");
        pp_pk_value **it = pp_realloc(c->items, bytes);
        if (!it) return fail(P, PP_ERR_NOMEM, "out of memory (%zu items)", nc);
        c->items = it;
        c->cap = nc;
    }
    c->items[c->n++] = item;
    if (item->depth + 1 > c->depth) c->depth = item->depth + 1;
    if (c->depth > PP_PICKLE_MAX_DEPTH)
        return fail(P, PP_ERR_UNSUPPORTED, "containers nest deeper than %d", PP_PICKLE_MAX_DEPTH);
    return PP_OK;
}

void pp_pickle_free(pp_pickle *P) {
    if (!P) return;
    for (size_t c = 0; c < P->n_chunks; c++) {
        size_t n = c + 1 == P->n_chunks ? P->used : CHUNK;
        for (size_t i = 0; i < n; i++) {
            pp_pk_value *v = &P->chunks[c][i];
            pp_free(v->s);
            pp_free(v->items);
            pp_free(v->key);
            pp_free(v->location);
        }
        pp_free(P->chunks[c]);
    }
    pp_free(P->chunks);
    pp_free(P->stack);
    pp_free(P->memo);
    pp_free(P);
}

const pp_pk_value *pp_pk_dict_get(const pp_pk_value *d, const char *key) {
    if (!d || d->type != PP_PK_DICT) return NULL;
    for (size_t i = d->n / 2; i-- > 0;) {
        const pp_pk_value *k = d->items[2 * i];
        if (k->type == PP_PK_STR && !strcmp(k->s, key)) return d->items[2 * i + 1];
    }
    return NULL;
}

/* ---- the stack ------------------------------------------------------------------ */

static size_t base(const pp_pickle *P) { return P->n_marks ? P->marks[P->n_marks - 1] : 0; }

static pp_code push(pp_pickle *P, pp_pk_value *v) {
    if (!v) return P->err ? P->err->code : PP_ERR_NOMEM;
    if (P->sp == P->scap) {
        if (P->scap >= PP_PICKLE_MAX_STACK)
            return fail(P, PP_ERR_UNSUPPORTED, "stack deeper than %d", PP_PICKLE_MAX_STACK);
        size_t nc = P->scap ? P->scap * 2 : 64;
        pp_pk_value **s = pp_realloc(P->stack, nc * sizeof *s);
        if (!s) return fail(P, PP_ERR_NOMEM, "out of memory");
        P->stack = s;
        P->scap = nc;
    }
    P->stack[P->sp++] = v;
    return PP_OK;
}

static pp_pk_value *pop(pp_pickle *P) {
    if (P->sp <= base(P)) {
        fail(P, PP_ERR_FORMAT, "stack underflow");
        return NULL;
    }
    return P->stack[--P->sp];
}

static pp_pk_value *top(pp_pickle *P) {
    if (P->sp <= base(P)) {
        fail(P, PP_ERR_FORMAT, "stack underflow");
        return NULL;
    }
    return P->stack[P->sp - 1];
}

/* Pops back to the last mark; the items are stack[*first .. P->sp_before). */
static pp_code pop_mark(pp_pickle *P, size_t *first) {
    if (!P->n_marks) return fail(P, PP_ERR_FORMAT, "no MARK to pop to");
    *first = P->marks[--P->n_marks];
    return PP_OK;
}

/* ---- reads ----------------------------------------------------------------------- */

static pp_code need(pp_pickle *P, size_t n) {
    if (P->size - P->pos < n)
        return fail(P, PP_ERR_FORMAT, "needs %zu bytes, only %zu left (truncated pickle)", n, P->size - P->pos);
    return PP_OK;
}
static uint64_t rd_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

static pp_code memo_put(pp_pickle *P, uint64_t idx) {
    pp_pk_value *v = top(P);
    if (!v) return P->err->code;
    if (idx >= PP_PICKLE_MAX_MEMO)
        return fail(P, PP_ERR_UNSUPPORTED, "memo index %" PRIu64 " is over the limit %d", idx, PP_PICKLE_MAX_MEMO);
    if (idx >= P->memo_cap) {
        size_t nc = P->memo_cap ? P->memo_cap : 64;
        while (nc <= idx) nc *= 2;
        pp_pk_value **m = pp_realloc(P->memo, nc * sizeof *m);
        if (!m) return fail(P, PP_ERR_NOMEM, "out of memory for the memo");
        memset(m + P->memo_cap, 0, (nc - P->memo_cap) * sizeof *m);
        P->memo = m;
        P->memo_cap = nc;
    }
    if (!P->memo[idx]) P->memo_count++;
    P->memo[idx] = v;
    return PP_OK;
}

static pp_code memo_get(pp_pickle *P, uint64_t idx) {
    if (idx >= P->memo_cap || !P->memo[idx]) return fail(P, PP_ERR_FORMAT, "memo entry %" PRIu64 " was never set", idx);
    return push(P, P->memo[idx]);
}

/* ---- globals ------------------------------------------------------------------ */

static int storage_type(const char *name, pp_pk_stype *t) {
    static const struct {
        const char *n;
        pp_pk_stype t;
    } tab[] = {
        {"DoubleStorage", PP_PK_S_F64},    {"FloatStorage", PP_PK_S_F32},       {"HalfStorage", PP_PK_S_F16},
        {"BFloat16Storage", PP_PK_S_BF16}, {"LongStorage", PP_PK_S_I64},        {"IntStorage", PP_PK_S_I32},
        {"ShortStorage", PP_PK_S_I16},     {"CharStorage", PP_PK_S_I8},         {"ByteStorage", PP_PK_S_U8},
        {"BoolStorage", PP_PK_S_BOOL},     {"UntypedStorage", PP_PK_S_UNTYPED},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(name, tab[i].n)) {
            *t = tab[i].t;
            return 1;
        }
    return 0;
}

static int dtype_name(const char *name, pp_pk_stype *t) {
    static const struct {
        const char *n;
        pp_pk_stype t;
    } tab[] = {
        {"float64", PP_PK_S_F64}, {"double", PP_PK_S_F64}, {"float32", PP_PK_S_F32},   {"float", PP_PK_S_F32},
        {"float16", PP_PK_S_F16}, {"half", PP_PK_S_F16},   {"bfloat16", PP_PK_S_BF16}, {"int64", PP_PK_S_I64},
        {"long", PP_PK_S_I64},    {"int32", PP_PK_S_I32},  {"int", PP_PK_S_I32},       {"int16", PP_PK_S_I16},
        {"short", PP_PK_S_I16},   {"int8", PP_PK_S_I8},    {"uint8", PP_PK_S_U8},      {"bool", PP_PK_S_BOOL},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(name, tab[i].n)) {
            *t = tab[i].t;
            return 1;
        }
    return 0;
}

/* The allow-list (docs/checkpoints.md). Returns the G_* kind, 0 when refused. */
static int classify(const char *mod, const char *name, pp_pk_stype *st) {
    if (!strcmp(mod, "torch._utils")) {
        if (!strcmp(name, "_rebuild_tensor")) return G_REBUILD_V1;
        if (!strcmp(name, "_rebuild_tensor_v2")) return G_REBUILD_V2;
        if (!strcmp(name, "_rebuild_tensor_v3")) return G_REBUILD_V3;
        if (!strcmp(name, "_rebuild_parameter")) return G_PARAM;
        if (!strcmp(name, "_rebuild_parameter_with_state")) return G_PARAM_STATE;
        return 0;
    }
    if (!strcmp(mod, "collections") && !strcmp(name, "OrderedDict")) return G_ODICT;
    if (!strcmp(mod, "torch") || !strcmp(mod, "torch.cuda")) {
        if (storage_type(name, st)) return G_STORAGE;
        if (!strcmp(mod, "torch") && dtype_name(name, st)) return G_DTYPE;
        if (!strcmp(mod, "torch") && !strcmp(name, "Size")) return G_SIZE;
        if (!strcmp(mod, "torch") && !strcmp(name, "device")) return G_DEVICE;
        return 0;
    }
    if (!strcmp(mod, "_codecs") && !strcmp(name, "encode")) return G_ENCODE;
    if (!strcmp(mod, "builtins") || !strcmp(mod, "__builtin__")) {
        if (!strcmp(name, "set")) return G_SET;
        if (!strcmp(name, "frozenset")) return G_FROZENSET;
    }
    return 0;
}

static pp_code push_global(pp_pickle *P, const char *mod, size_t mlen, const char *name, size_t nlen) {
    char m[128], n[128], pm[160], pn[160];
    if (mlen >= sizeof m || nlen >= sizeof n || memchr(mod, 0, mlen) || memchr(name, 0, nlen)) {
        snprintf(m, sizeof m, "%.*s", (int)(mlen < 100 ? mlen : 100), mod);
        snprintf(n, sizeof n, "%.*s", (int)(nlen < 100 ? nlen : 100), name);
        return fail(P, PP_ERR_UNSUPPORTED, "global '%s.%s' is not allowed", printable(pm, sizeof pm, m),
                    printable(pn, sizeof pn, n));
    }
    memcpy(m, mod, mlen);
    m[mlen] = 0;
    memcpy(n, name, nlen);
    n[nlen] = 0;
    pp_pk_stype st = PP_PK_S_INVALID;
    int kind = classify(m, n, &st);
    if (!kind)
        return fail(P, PP_ERR_UNSUPPORTED, "global '%s.%s' is not allowed", printable(pm, sizeof pm, m),
                    printable(pn, sizeof pn, n));
    char full[260];
    snprintf(full, sizeof full, "%s.%s", m, n);
    pp_pk_value *v = new_str(P, PP_PK_GLOBAL, full, strlen(full));
    if (!v) return P->err->code;
    v->i = kind;
    v->stype = st;
    return push(P, v);
}

/* ---- REDUCE -------------------------------------------------------------------- */

static pp_code int_tuple(pp_pickle *P, const pp_pk_value *t, const char *what, int64_t *out, int *n) {
    if (t->type != PP_PK_TUPLE && t->type != PP_PK_LIST)
        return fail(P, PP_ERR_FORMAT, "tensor %s is a %s, not a tuple", what, pp_pk_type_name(t->type));
    if (t->n > PP_MAX_RANK) return fail(P, PP_ERR_UNSUPPORTED, "tensor of rank %zu (at most %d)", t->n, PP_MAX_RANK);
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i]->type != PP_PK_INT || t->items[i]->i < 0)
            return fail(P, PP_ERR_FORMAT, "tensor %s[%zu] is not a non-negative int", what, i);
        out[i] = t->items[i]->i;
    }
    *n = (int)t->n;
    return PP_OK;
}

static pp_code rebuild_tensor(pp_pickle *P, int kind, const pp_pk_value *args, pp_pk_value **out) {
    size_t n = args->n;
    int ok = kind == G_REBUILD_V1 ? n == 4 : kind == G_REBUILD_V2 ? (n == 6 || n == 7) : (n == 7 || n == 8);
    if (!ok) return fail(P, PP_ERR_FORMAT, "tensor rebuild with %zu arguments", n);
    pp_pk_value *const *a = args->items;
    if (a[0]->type != PP_PK_STORAGE)
        return fail(P, PP_ERR_FORMAT, "tensor rebuild: first argument is a %s, not a storage",
                    pp_pk_type_name(a[0]->type));
    if (a[1]->type != PP_PK_INT || a[1]->i < 0) return fail(P, PP_ERR_FORMAT, "tensor rebuild: bad storage offset");
    pp_pk_value *t = new_value(P, PP_PK_TENSOR);
    if (!t) return P->err->code;
    int rs = 0, rt = 0;
    pp_code rc;
    if ((rc = int_tuple(P, a[2], "size", t->size, &rs)) || (rc = int_tuple(P, a[3], "stride", t->stride, &rt)))
        return rc;
    if (rs != rt) return fail(P, PP_ERR_FORMAT, "tensor rebuild: size has %d dims, stride %d", rs, rt);
    t->rank = rs;
    t->storage = a[0];
    t->offset = a[1]->i;
    t->dtype = a[0]->stype;
    t->depth = 1;
    if (kind == G_REBUILD_V3) {
        if (a[6]->type != PP_PK_GLOBAL || a[6]->i != G_DTYPE)
            return fail(P, PP_ERR_FORMAT, "_rebuild_tensor_v3: argument 7 is not a dtype");
        t->dtype = a[6]->stype;
    }
    if (t->dtype == PP_PK_S_UNTYPED) return fail(P, PP_ERR_UNSUPPORTED, "tensor on an untyped storage without a dtype");
    *out = t;
    return PP_OK;
}

/* UTF-8 text whose code points are all < 256 to those bytes (_codecs.encode(s, 'latin1')). */
static pp_code latin1(pp_pickle *P, const pp_pk_value *s, pp_pk_value **out) {
    pp_pk_value *v = new_value(P, PP_PK_BYTES);
    if (!v) return P->err->code;
    if (!(v->s = pp_malloc(s->len + 1))) return fail(P, PP_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < s->len;) {
        unsigned c = (unsigned char)s->s[i];
        if (c < 0x80) {
            v->s[k++] = (char)c;
            i++;
        } else if ((c & 0xE0) == 0xC0 && i + 1 < s->len && c <= 0xC3) {
            v->s[k++] = (char)(((c & 0x1F) << 6) | ((unsigned char)s->s[i + 1] & 0x3F));
            i += 2;
        } else {
            return fail(P, PP_ERR_FORMAT, "_codecs.encode: text is not latin-1");
        }
    }
    v->s[k] = 0;
    v->len = k;
    *out = v;
    return PP_OK;
}

static pp_code reduce(pp_pickle *P) {
    pp_pk_value *args = pop(P), *fn = args ? pop(P) : NULL, *res = NULL;
    if (!fn) return P->err->code;
    if (fn->type != PP_PK_GLOBAL)
        return fail(P, PP_ERR_UNSUPPORTED, "REDUCE on a %s, not a global", pp_pk_type_name(fn->type));
    if (args->type != PP_PK_TUPLE)
        return fail(P, PP_ERR_FORMAT, "REDUCE arguments are a %s, not a tuple", pp_pk_type_name(args->type));
    pp_code rc = PP_OK;
    switch ((int)fn->i) {
    case G_REBUILD_V1:
    case G_REBUILD_V2:
    case G_REBUILD_V3: rc = rebuild_tensor(P, (int)fn->i, args, &res); break;
    case G_PARAM:
    case G_PARAM_STATE:
        if (args->n < 1 || args->items[0]->type != PP_PK_TENSOR)
            return fail(P, PP_ERR_FORMAT, "%s: the first argument is not a tensor", fn->s);
        res = args->items[0];
        break;
    case G_ODICT:
        if (!(res = new_value(P, PP_PK_DICT))) return P->err->code;
        if (args->n == 1 && (args->items[0]->type == PP_PK_LIST || args->items[0]->type == PP_PK_TUPLE)) {
            const pp_pk_value *l = args->items[0];
            for (size_t i = 0; i < l->n && !rc; i++) {
                const pp_pk_value *kv = l->items[i];
                if (kv->type != PP_PK_TUPLE || kv->n != 2)
                    return fail(P, PP_ERR_FORMAT, "OrderedDict item %zu is not a pair", i);
                if (!(rc = add_item(P, res, kv->items[0]))) rc = add_item(P, res, kv->items[1]);
            }
        } else if (args->n) {
            return fail(P, PP_ERR_FORMAT, "OrderedDict with %zu arguments", args->n);
        }
        break;
    case G_ENCODE:
        if (args->n < 1 || args->n > 2 || args->items[0]->type != PP_PK_STR)
            return fail(P, PP_ERR_FORMAT, "_codecs.encode takes (str, encoding)");
        if (args->n == 2 && (args->items[1]->type != PP_PK_STR ||
                             (strcmp(args->items[1]->s, "latin1") && strcmp(args->items[1]->s, "latin-1"))))
            return fail(P, PP_ERR_UNSUPPORTED, "_codecs.encode with an encoding other than latin1");
        rc = latin1(P, args->items[0], &res);
        break;
    case G_SIZE:
        if (args->n == 0) {
            res = new_value(P, PP_PK_TUPLE);
        } else if (args->n == 1 && (args->items[0]->type == PP_PK_TUPLE || args->items[0]->type == PP_PK_LIST)) {
            if ((res = new_value(P, PP_PK_TUPLE)))
                for (size_t i = 0; i < args->items[0]->n && !rc; i++) rc = add_item(P, res, args->items[0]->items[i]);
        } else {
            return fail(P, PP_ERR_FORMAT, "torch.Size takes one tuple");
        }
        break;
    case G_SET:
    case G_FROZENSET:
        if (!(res = new_value(P, PP_PK_SET))) return P->err->code;
        if (args->n == 1 && (args->items[0]->type == PP_PK_LIST || args->items[0]->type == PP_PK_TUPLE)) {
            for (size_t i = 0; i < args->items[0]->n && !rc; i++) rc = add_item(P, res, args->items[0]->items[i]);
        } else if (args->n) {
            return fail(P, PP_ERR_FORMAT, "%s takes one list", fn->s);
        }
        break;
    case G_DEVICE:
        if (args->n < 1 || args->items[0]->type != PP_PK_STR)
            return fail(P, PP_ERR_FORMAT, "torch.device takes a string");
        res = args->items[0];
        break;
    default: {
        char pb[160];
        return fail(P, PP_ERR_UNSUPPORTED, "'%s' may not be called", printable(pb, sizeof pb, fn->s));
    }
    }
    if (rc) return rc;
    return push(P, res);
}

static pp_code persid(pp_pickle *P) {
    pp_pk_value *pid = pop(P);
    if (!pid) return P->err->code;
    if (pid->type != PP_PK_TUPLE || pid->n < 1 || pid->items[0]->type != PP_PK_STR ||
        strcmp(pid->items[0]->s, "storage"))
        return fail(P, PP_ERR_FORMAT, "persistent id is not a ('storage', ...) tuple");
    if (pid->n == 6) return fail(P, PP_ERR_UNSUPPORTED, "a 6-item storage id: the legacy (pre-1.6) torch.save format");
    pp_pk_value *const *a = pid->items;
    if (pid->n != 5 || a[1]->type != PP_PK_GLOBAL || a[1]->i != G_STORAGE || a[2]->type != PP_PK_STR ||
        a[3]->type != PP_PK_STR || a[4]->type != PP_PK_INT || a[4]->i < 0)
        return fail(P, PP_ERR_FORMAT, "persistent id is not ('storage', StorageClass, key, location, numel)");
    pp_pk_value *s = new_value(P, PP_PK_STORAGE);
    if (!s || !(s->key = dup_bytes(P, a[2]->s, a[2]->len)) || !(s->location = dup_bytes(P, a[3]->s, a[3]->len)))
        return P->err->code;
    s->stype = a[1]->stype;
    s->numel = a[4]->i;
    return push(P, s);
}

/* ---- the machine -------------------------------------------------------------------- */

/* PROTO, FRAME, GLOBAL, STACK_GLOBAL and the memo. */
static pp_code op_frame_global_memo(pp_pickle *P, const uint8_t *a) {
    pp_code rc = PP_OK;
    switch (P->op) {
    case 0x80: /* PROTO */
        if ((rc = need(P, 1))) break;
        if (a[0] > 5) return fail(P, PP_ERR_UNSUPPORTED, "pickle protocol %u", a[0]);
        P->pos += 1;
        break;
    case 0x95: /* FRAME: advisory length, frames are not needed to read */
        if ((rc = need(P, 8))) break;
        if (rd_le(a, 8) > P->size - P->pos - 8) return fail(P, PP_ERR_FORMAT, "frame runs past the end");
        P->pos += 8;
        break;
    case 0x63: { /* GLOBAL module\nname\n */
        const uint8_t *nl1 = memchr(a, '\n', P->size - P->pos);
        if (!nl1) return fail(P, PP_ERR_FORMAT, "unterminated module name");
        const uint8_t *nl2 = memchr(nl1 + 1, '\n', (size_t)(P->b + P->size - nl1 - 1));
        if (!nl2) return fail(P, PP_ERR_FORMAT, "unterminated global name");
        P->pos = (size_t)(nl2 + 1 - P->b);
        rc = push_global(P, (const char *)a, (size_t)(nl1 - a), (const char *)nl1 + 1, (size_t)(nl2 - nl1 - 1));
        break;
    }
    case 0x93: { /* STACK_GLOBAL */
        pp_pk_value *name = pop(P), *mod = name ? pop(P) : NULL;
        if (!mod) return P->err->code;
        if (name->type != PP_PK_STR || mod->type != PP_PK_STR)
            return fail(P, PP_ERR_FORMAT, "STACK_GLOBAL needs two strings");
        rc = push_global(P, mod->s, mod->len, name->s, name->len);
        break;
    }
    case 0x71:
        if (!(rc = need(P, 1))) {
            rc = memo_put(P, a[0]);
            P->pos += 1;
        }
        break;
    case 0x72:
        if (!(rc = need(P, 4))) {
            rc = memo_put(P, rd_le(a, 4));
            P->pos += 4;
        }
        break;
    case 0x94: rc = memo_put(P, P->memo_count); break;
    case 0x68:
        if (!(rc = need(P, 1))) {
            rc = memo_get(P, a[0]);
            P->pos += 1;
        }
        break;
    case 0x6A:
        if (!(rc = need(P, 4))) {
            rc = memo_get(P, rd_le(a, 4));
            P->pos += 4;
        }
        break;
    default: return fail(P, PP_ERR_UNSUPPORTED, "opcode not allowed");
    }
    return rc;
}

/* MARK and the containers: empty ones, TUPLE*, FROZENSET, SETITEM(S), APPEND(S), ADDITEMS. */
static pp_code op_container(pp_pickle *P, const uint8_t *a) {
    pp_code rc = PP_OK;
    switch (P->op) {
    case 0x28: /* MARK */
        if (P->n_marks >= PP_PICKLE_MAX_MARKS)
            return fail(P, PP_ERR_UNSUPPORTED, "more than %d nested MARKs", PP_PICKLE_MAX_MARKS);
        P->marks[P->n_marks++] = P->sp;
        break;
    case 0x29: rc = push(P, new_value(P, PP_PK_TUPLE)); break;
    case 0x5D: rc = push(P, new_value(P, PP_PK_LIST)); break;
    case 0x7D: rc = push(P, new_value(P, PP_PK_DICT)); break;
    case 0x8F: rc = push(P, new_value(P, PP_PK_SET)); break;
    case 0x74:   /* TUPLE */
    case 0x91: { /* FROZENSET */
        size_t first = 0;
        if ((rc = pop_mark(P, &first))) break;
        pp_pk_value *t = new_value(P, P->op == 0x74 ? PP_PK_TUPLE : PP_PK_SET);
        if (!t) return P->err->code;
        for (size_t i = first; i < P->sp && !rc; i++) rc = add_item(P, t, P->stack[i]);
        P->sp = first;
        if (!rc) rc = push(P, t);
        break;
    }
    case 0x85:
    case 0x86:
    case 0x87: { /* TUPLE1..3 */
        size_t k = (size_t)(P->op - 0x84);
        if (P->sp - base(P) < k) return fail(P, PP_ERR_FORMAT, "stack underflow");
        pp_pk_value *t = new_value(P, PP_PK_TUPLE);
        if (!t) return P->err->code;
        for (size_t i = P->sp - k; i < P->sp && !rc; i++) rc = add_item(P, t, P->stack[i]);
        P->sp -= k;
        if (!rc) rc = push(P, t);
        break;
    }
    case 0x73: { /* SETITEM */
        pp_pk_value *v = pop(P), *k = v ? pop(P) : NULL, *d = k ? top(P) : NULL;
        if (!d) return P->err->code;
        if (d->type != PP_PK_DICT) return fail(P, PP_ERR_UNSUPPORTED, "SETITEM on a %s", pp_pk_type_name(d->type));
        if (!(rc = add_item(P, d, k))) rc = add_item(P, d, v);
        break;
    }
    case 0x75:   /* SETITEMS */
    case 0x65:   /* APPENDS */
    case 0x90: { /* ADDITEMS */
        size_t first = 0;
        if ((rc = pop_mark(P, &first))) break;
        if (first <= base(P)) return fail(P, PP_ERR_FORMAT, "stack underflow (no container below the MARK)");
        pp_pk_value *c = P->stack[first - 1];
        pp_pk_type want = P->op == 0x75 ? PP_PK_DICT : P->op == 0x65 ? PP_PK_LIST : PP_PK_SET;
        if (c->type != want) return fail(P, PP_ERR_UNSUPPORTED, "%s on a %s", op_name(P->op), pp_pk_type_name(c->type));
        if (P->op == 0x75 && (P->sp - first) % 2) return fail(P, PP_ERR_FORMAT, "SETITEMS with an odd item count");
        for (size_t i = first; i < P->sp && !rc; i++) rc = add_item(P, c, P->stack[i]);
        P->sp = first;
        break;
    }
    case 0x61: { /* APPEND */
        pp_pk_value *v = pop(P), *l = v ? top(P) : NULL;
        if (!l) return P->err->code;
        if (l->type != PP_PK_LIST) return fail(P, PP_ERR_UNSUPPORTED, "APPEND on a %s", pp_pk_type_name(l->type));
        rc = add_item(P, l, v);
        break;
    }
    default: return fail(P, PP_ERR_UNSUPPORTED, "opcode not allowed");
    }
    return rc;
}

/* Integers, floats, None, bools, strings and bytes. */
static pp_code op_scalar(pp_pickle *P, const uint8_t *a) {
    pp_code rc = PP_OK;
    switch (P->op) {
    case 0x4B:
    case 0x4D:
    case 0x4A: { /* BININT1, BININT2, BININT */
        int n = P->op == 0x4B ? 1 : P->op == 0x4D ? 2 : 4;
        if ((rc = need(P, (size_t)n))) break;
        pp_pk_value *v = new_value(P, PP_PK_INT);
        if (!v) return P->err->code;
        uint64_t u = rd_le(a, n);
        v->i = n == 4 ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
        P->pos += (size_t)n;
        rc = push(P, v);
        break;
    }
    case 0x8A: { /* LONG1: two's complement, little-endian */
        if ((rc = need(P, 1))) break;
        size_t n = a[0];
        if ((rc = need(P, 1 + n))) break;
        if (n > 8) return fail(P, PP_ERR_UNSUPPORTED, "a %zu-byte integer (at most 8)", n);
        uint64_t u = rd_le(a + 1, (int)n);
        if (n && n < 8 && (a[n] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
        pp_pk_value *v = new_value(P, PP_PK_INT);
        if (!v) return P->err->code;
        v->i = (int64_t)u;
        P->pos += 1 + n;
        rc = push(P, v);
        break;
    }
    case 0x47: { /* BINFLOAT, big-endian */
        if ((rc = need(P, 8))) break;
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = (u << 8) | a[i];
        pp_pk_value *v = new_value(P, PP_PK_FLOAT);
        if (!v) return P->err->code;
        memcpy(&v->f, &u, 8);
        P->pos += 8;
        rc = push(P, v);
        break;
    }
    case 0x4E: rc = push(P, new_value(P, PP_PK_NONE)); break;
    case 0x88:
    case 0x89: {
        pp_pk_value *v = new_value(P, PP_PK_BOOL);
        if (v) v->i = P->op == 0x88;
        rc = push(P, v);
        break;
    }
    case 0x58:
    case 0x8C:
    case 0x8D:
    case 0x55:
    case 0x54:
    case 0x42:
    case 0x43:
    case 0x8E: {
        int lb = (P->op == 0x8C || P->op == 0x55 || P->op == 0x43) ? 1 : (P->op == 0x8D || P->op == 0x8E) ? 8 : 4;
        if ((rc = need(P, (size_t)lb))) break;
        uint64_t len = rd_le(a, lb);
        if (P->op == 0x54 && (len & 0x80000000u)) return fail(P, PP_ERR_FORMAT, "negative string length");
        P->pos += (size_t)lb;
        if (len > P->size - P->pos)
            return fail(P, PP_ERR_FORMAT, "a %" PRIu64 "-byte string with only %zu bytes left", len, P->size - P->pos);
        int is_bytes = P->op == 0x42 || P->op == 0x43 || P->op == 0x8E;
        rc = push(P, new_str(P, is_bytes ? PP_PK_BYTES : PP_PK_STR, P->b + P->pos, (size_t)len));
        P->pos += (size_t)len;
        break;
    }
    default: return fail(P, PP_ERR_UNSUPPORTED, "opcode not allowed");
    }
    return rc;
}

/* PERSID, REDUCE, BUILD; NEWOBJ refused by name. */
static pp_code op_object(pp_pickle *P, const uint8_t *a) {
    pp_code rc = PP_OK;
    switch (P->op) {
    case 0x51: rc = persid(P); break;
    case 0x52: rc = reduce(P); break;
    case 0x62: { /* BUILD: state for dicts (OrderedDict._metadata) and tensors is ignored */
        pp_pk_value *state = pop(P), *obj = state ? top(P) : NULL;
        if (!obj) return P->err->code;
        if (obj->type != PP_PK_DICT && obj->type != PP_PK_TENSOR)
            return fail(P, PP_ERR_UNSUPPORTED, "BUILD on a %s", pp_pk_type_name(obj->type));
        break;
    }
    case 0x81:
    case 0x92: { /* NEWOBJ, NEWOBJ_EX */
        char pb[160];
        size_t k = P->op == 0x81 ? 2 : 3;
        const pp_pk_value *cls = P->sp - base(P) >= k ? P->stack[P->sp - k] : NULL;
        return fail(P, PP_ERR_UNSUPPORTED,
                    "instantiating '%s' is not allowed (a whole-module pickle? save model.state_dict() instead)",
                    cls && cls->type == PP_PK_GLOBAL ? printable(pb, sizeof pb, cls->s) : "?");
    }
    default: return fail(P, PP_ERR_UNSUPPORTED, "opcode not allowed");
    }
    return rc;
}

static pp_code run(pp_pickle *P, const pp_pk_value **root) {
    pp_code rc = PP_OK;
    while (!rc) {
        if (P->pos >= P->size) return fail(P, PP_ERR_FORMAT, "the pickle ends without STOP");
        P->op_off = P->pos;
        P->op = P->b[P->pos++];
        const uint8_t *a = P->b + P->pos;
        switch (P->op) {
        case 0x2E: { /* STOP */
            pp_pk_value *v = pop(P);
            if (!v) return P->err->code;
            if (P->n_marks) return fail(P, PP_ERR_FORMAT, "STOP with an open MARK");
            *root = v;
            return PP_OK;
        }
        case 0x80:
        case 0x95:
        case 0x63:
        case 0x93:
        case 0x71:
        case 0x72:
        case 0x94:
        case 0x68:
        case 0x6A: rc = op_frame_global_memo(P, a); break;
        case 0x28:
        case 0x29:
        case 0x5D:
        case 0x7D:
        case 0x8F:
        case 0x74:
        case 0x91:
        case 0x85:
        case 0x86:
        case 0x87:
        case 0x73:
        case 0x75:
        case 0x65:
        case 0x90:
        case 0x61: rc = op_container(P, a); break;
        case 0x4B:
        case 0x4D:
        case 0x4A:
        case 0x8A:
        case 0x47:
        case 0x4E:
        case 0x88:
        case 0x89:
        case 0x58:
        case 0x8C:
        case 0x8D:
        case 0x55:
        case 0x54:
        case 0x42:
        case 0x43:
        case 0x8E: rc = op_scalar(P, a); break;
        default: rc = op_object(P, a); break;
        }
    }
    return rc;
}

pp_code pp_pickle_load(const void *data, size_t size, const char *what, pp_pickle **out, const pp_pk_value **root,
                       pp_error *err) {
    pp_error local;
    if (!err) err = &local;
    *out = NULL;
    *root = NULL;
    pp_pickle *P = pp_calloc(1, sizeof *P);
    if (!P) return pp_error_nomem(err, "%s: out of memory", what ? what : "pickle");
    P->b = data;
    P->size = data ? size : 0;
    P->err = err;
    snprintf(P->what, sizeof P->what, "%s", what ? what : "pickle");
    pp_code rc = run(P, root);
    if (rc) {
        pp_pickle_free(P);
        *root = NULL;
        return rc;
    }
    *out = P;
    return PP_OK;
}

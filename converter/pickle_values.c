/* pickle_values.c: the unpickler's value arena, stack and messages
 * (pickle_values.h). */
#include "pickle_values.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CHUNK 4096

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

const char *pp_pk_op_name(uint8_t op) {
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

pp_code pp_pk_fail(pp_pickle *P, pp_code code, const char *fmt, ...) {
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (code == PP_ERR_NOMEM && !strstr(msg, "bytes"))
        return pp_error_nomem(P->err, "%s: byte %zu (%s 0x%02X): %s", P->what, P->op_off, pp_pk_op_name(P->op), P->op,
                              msg);
    return pp_error_set(P->err, code, "%s: byte %zu (%s 0x%02X): %s", P->what, P->op_off, pp_pk_op_name(P->op), P->op,
                        msg);
}

/* Printable copy of a name from the file, for messages. */
const char *pp_pk_printable(char *buf, size_t n, const char *s) {
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

pp_pk_value *pp_pk_new(pp_pickle *P, pp_pk_type type) {
    if (P->n_values >= PP_PICKLE_MAX_VALUES) {
        pp_pk_fail(P, PP_ERR_UNSUPPORTED, "more than %d values", PP_PICKLE_MAX_VALUES);
        return NULL;
    }
    if (!P->n_chunks || P->used == CHUNK) {
        if (P->n_chunks == P->cap_chunks) {
            size_t nc = P->cap_chunks ? P->cap_chunks * 2 : 16;
            pp_pk_value **c = pp_realloc(P->chunks, nc * sizeof *c);
            if (!c) {
                pp_pk_fail(P, PP_ERR_NOMEM, "out of memory");
                return NULL;
            }
            P->chunks = c;
            P->cap_chunks = nc;
        }
        pp_pk_value *chunk = pp_calloc(CHUNK, sizeof *chunk);
        if (!chunk) {
            pp_pk_fail(P, PP_ERR_NOMEM, "out of memory");
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

char *pp_pk_dup(pp_pickle *P, const void *s, size_t n) {
    size_t total;
    char *d = NULL;
    if (pp_add_size(n, 1, &total) || !(d = pp_malloc(total))) {
        pp_pk_fail(P, PP_ERR_NOMEM, "out of memory for a %zu-byte string", n);
        return NULL;
    }
    if (n) memcpy(d, s, n);
    d[n] = 0;
    return d;
}

pp_pk_value *pp_pk_new_str(pp_pickle *P, pp_pk_type type, const void *s, size_t n) {
    pp_pk_value *v = pp_pk_new(P, type);
    if (!v) return NULL;
    if (!(v->s = pp_pk_dup(P, s, n))) return NULL;
    v->len = n;
    return v;
}

pp_code pp_pk_add_item(pp_pickle *P, pp_pk_value *c, pp_pk_value *item) {
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 4, bytes;
        if (pp_mul_size(nc, sizeof *c->items, &bytes)) return pp_pk_fail(P, PP_ERR_NOMEM, "container too large");
        pp_pk_value **it = pp_realloc(c->items, bytes);
        if (!it) return pp_pk_fail(P, PP_ERR_NOMEM, "out of memory (%zu items)", nc);
        c->items = it;
        c->cap = nc;
    }
    c->items[c->n++] = item;
    if (item->depth + 1 > c->depth) c->depth = item->depth + 1;
    if (c->depth > PP_PICKLE_MAX_DEPTH)
        return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "containers nest deeper than %d", PP_PICKLE_MAX_DEPTH);
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

size_t pp_pk_base(const pp_pickle *P) { return P->n_marks ? P->marks[P->n_marks - 1] : 0; }

pp_code pp_pk_push(pp_pickle *P, pp_pk_value *v) {
    if (!v) return P->err ? P->err->code : PP_ERR_NOMEM;
    if (P->sp == P->scap) {
        if (P->scap >= PP_PICKLE_MAX_STACK)
            return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "stack deeper than %d", PP_PICKLE_MAX_STACK);
        size_t nc = P->scap ? P->scap * 2 : 64;
        pp_pk_value **s = pp_realloc(P->stack, nc * sizeof *s);
        if (!s) return pp_pk_fail(P, PP_ERR_NOMEM, "out of memory");
        P->stack = s;
        P->scap = nc;
    }
    P->stack[P->sp++] = v;
    return PP_OK;
}

pp_pk_value *pp_pk_pop(pp_pickle *P) {
    if (P->sp <= pp_pk_base(P)) {
        pp_pk_fail(P, PP_ERR_FORMAT, "stack underflow");
        return NULL;
    }
    return P->stack[--P->sp];
}

pp_pk_value *pp_pk_top(pp_pickle *P) {
    if (P->sp <= pp_pk_base(P)) {
        pp_pk_fail(P, PP_ERR_FORMAT, "stack underflow");
        return NULL;
    }
    return P->stack[P->sp - 1];
}

/* Pops back to the last mark; the items are stack[*first .. P->sp_before). */
pp_code pp_pk_pop_mark(pp_pickle *P, size_t *first) {
    if (!P->n_marks) return pp_pk_fail(P, PP_ERR_FORMAT, "no MARK to pop to");
    *first = P->marks[--P->n_marks];
    return PP_OK;
}

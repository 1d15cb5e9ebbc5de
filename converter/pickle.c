/* pickle.c: the safe unpickler's opcode machine (pickle.h). Opcode meanings
 * from CPython's Lib/pickletools.py; the values it builds live in
 * pickle_values.c, the allow-list and REDUCE in pickle_globals.c. */
#include "pickle.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pickle_globals.h"
#include "pickle_values.h"

/* ---- reads ----------------------------------------------------------------------- */

static pp_code pp_pk_need(pp_pickle *P, size_t n) {
    if (P->size - P->pos < n)
        return pp_pk_fail(P, PP_ERR_FORMAT, "needs %zu bytes, only %zu left (truncated pickle)", n, P->size - P->pos);
    return PP_OK;
}
static uint64_t pp_pk_rd_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

static pp_code memo_put(pp_pickle *P, uint64_t idx) {
    pp_pk_value *v = pp_pk_top(P);
    if (!v) return P->err->code;
    if (idx >= PP_PICKLE_MAX_MEMO)
        return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "memo index %" PRIu64 " is over the limit %d", idx,
                          PP_PICKLE_MAX_MEMO);
    if (idx >= P->memo_cap) {
        size_t nc = P->memo_cap ? P->memo_cap : 64;
        while (nc <= idx) nc *= 2;
        pp_pk_value **m = pp_realloc(P->memo, nc * sizeof *m);
        if (!m) return pp_pk_fail(P, PP_ERR_NOMEM, "out of memory for the memo");
        memset(m + P->memo_cap, 0, (nc - P->memo_cap) * sizeof *m);
        P->memo = m;
        P->memo_cap = nc;
    }
    if (!P->memo[idx]) P->memo_count++;
    P->memo[idx] = v;
    return PP_OK;
}

static pp_code memo_get(pp_pickle *P, uint64_t idx) {
    if (idx >= P->memo_cap || !P->memo[idx])
        return pp_pk_fail(P, PP_ERR_FORMAT, "memo entry %" PRIu64 " was never set", idx);
    return pp_pk_push(P, P->memo[idx]);
}

/* ---- the machine -------------------------------------------------------------------- */

/* PROTO, FRAME, GLOBAL, STACK_GLOBAL and the memo. */
static pp_code op_frame_global_memo(pp_pickle *P, const uint8_t *a) {
    pp_code rc = PP_OK;
    switch (P->op) {
    case 0x80: /* PROTO */
        if ((rc = pp_pk_need(P, 1))) break;
        if (a[0] > 5) return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "pickle protocol %u", a[0]);
        P->pos += 1;
        break;
    case 0x95: /* FRAME: advisory length, frames are not needed to read */
        if ((rc = pp_pk_need(P, 8))) break;
        if (pp_pk_rd_le(a, 8) > P->size - P->pos - 8) return pp_pk_fail(P, PP_ERR_FORMAT, "frame runs past the end");
        P->pos += 8;
        break;
    case 0x63: { /* GLOBAL module\nname\n */
        const uint8_t *nl1 = memchr(a, '\n', P->size - P->pos);
        if (!nl1) return pp_pk_fail(P, PP_ERR_FORMAT, "unterminated module name");
        const uint8_t *nl2 = memchr(nl1 + 1, '\n', (size_t)(P->b + P->size - nl1 - 1));
        if (!nl2) return pp_pk_fail(P, PP_ERR_FORMAT, "unterminated global name");
        P->pos = (size_t)(nl2 + 1 - P->b);
        rc = pp_pk_push_global(P, (const char *)a, (size_t)(nl1 - a), (const char *)nl1 + 1, (size_t)(nl2 - nl1 - 1));
        break;
    }
    case 0x93: { /* STACK_GLOBAL */
        pp_pk_value *name = pp_pk_pop(P), *mod = name ? pp_pk_pop(P) : NULL;
        if (!mod) return P->err->code;
        if (name->type != PP_PK_STR || mod->type != PP_PK_STR)
            return pp_pk_fail(P, PP_ERR_FORMAT, "STACK_GLOBAL needs two strings");
        rc = pp_pk_push_global(P, mod->s, mod->len, name->s, name->len);
        break;
    }
    case 0x71:
        if (!(rc = pp_pk_need(P, 1))) {
            rc = memo_put(P, a[0]);
            P->pos += 1;
        }
        break;
    case 0x72:
        if (!(rc = pp_pk_need(P, 4))) {
            rc = memo_put(P, pp_pk_rd_le(a, 4));
            P->pos += 4;
        }
        break;
    case 0x94: rc = memo_put(P, P->memo_count); break;
    case 0x68:
        if (!(rc = pp_pk_need(P, 1))) {
            rc = memo_get(P, a[0]);
            P->pos += 1;
        }
        break;
    case 0x6A:
        if (!(rc = pp_pk_need(P, 4))) {
            rc = memo_get(P, pp_pk_rd_le(a, 4));
            P->pos += 4;
        }
        break;
    default: return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "opcode not allowed");
    }
    return rc;
}

/* MARK and the containers: empty ones, TUPLE*, FROZENSET, SETITEM(S), APPEND(S), ADDITEMS. */
static pp_code op_container(pp_pickle *P, const uint8_t *a) {
    pp_code rc = PP_OK;
    switch (P->op) {
    case 0x28: /* MARK */
        if (P->n_marks >= PP_PICKLE_MAX_MARKS)
            return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "more than %d nested MARKs", PP_PICKLE_MAX_MARKS);
        P->marks[P->n_marks++] = P->sp;
        break;
    case 0x29: rc = pp_pk_push(P, pp_pk_new(P, PP_PK_TUPLE)); break;
    case 0x5D: rc = pp_pk_push(P, pp_pk_new(P, PP_PK_LIST)); break;
    case 0x7D: rc = pp_pk_push(P, pp_pk_new(P, PP_PK_DICT)); break;
    case 0x8F: rc = pp_pk_push(P, pp_pk_new(P, PP_PK_SET)); break;
    case 0x74:   /* TUPLE */
    case 0x91: { /* FROZENSET */
        size_t first = 0;
        if ((rc = pp_pk_pop_mark(P, &first))) break;
        pp_pk_value *t = pp_pk_new(P, P->op == 0x74 ? PP_PK_TUPLE : PP_PK_SET);
        if (!t) return P->err->code;
        for (size_t i = first; i < P->sp && !rc; i++) rc = pp_pk_add_item(P, t, P->stack[i]);
        P->sp = first;
        if (!rc) rc = pp_pk_push(P, t);
        break;
    }
    case 0x85:
    case 0x86:
    case 0x87: { /* TUPLE1..3 */
        size_t k = (size_t)(P->op - 0x84);
        if (P->sp - pp_pk_base(P) < k) return pp_pk_fail(P, PP_ERR_FORMAT, "stack underflow");
        pp_pk_value *t = pp_pk_new(P, PP_PK_TUPLE);
        if (!t) return P->err->code;
        for (size_t i = P->sp - k; i < P->sp && !rc; i++) rc = pp_pk_add_item(P, t, P->stack[i]);
        P->sp -= k;
        if (!rc) rc = pp_pk_push(P, t);
        break;
    }
    case 0x73: { /* SETITEM */
        pp_pk_value *v = pp_pk_pop(P), *k = v ? pp_pk_pop(P) : NULL, *d = k ? pp_pk_top(P) : NULL;
        if (!d) return P->err->code;
        if (d->type != PP_PK_DICT)
            return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "SETITEM on a %s", pp_pk_type_name(d->type));
        if (!(rc = pp_pk_add_item(P, d, k))) rc = pp_pk_add_item(P, d, v);
        break;
    }
    case 0x75:   /* SETITEMS */
    case 0x65:   /* APPENDS */
    case 0x90: { /* ADDITEMS */
        size_t first = 0;
        if ((rc = pp_pk_pop_mark(P, &first))) break;
        if (first <= pp_pk_base(P))
            return pp_pk_fail(P, PP_ERR_FORMAT, "stack underflow (no container below the MARK)");
        pp_pk_value *c = P->stack[first - 1];
        pp_pk_type want = P->op == 0x75 ? PP_PK_DICT : P->op == 0x65 ? PP_PK_LIST : PP_PK_SET;
        if (c->type != want)
            return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "%s on a %s", pp_pk_op_name(P->op), pp_pk_type_name(c->type));
        if (P->op == 0x75 && (P->sp - first) % 2)
            return pp_pk_fail(P, PP_ERR_FORMAT, "SETITEMS with an odd item count");
        for (size_t i = first; i < P->sp && !rc; i++) rc = pp_pk_add_item(P, c, P->stack[i]);
        P->sp = first;
        break;
    }
    case 0x61: { /* APPEND */
        pp_pk_value *v = pp_pk_pop(P), *l = v ? pp_pk_top(P) : NULL;
        if (!l) return P->err->code;
        if (l->type != PP_PK_LIST) return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "APPEND on a %s", pp_pk_type_name(l->type));
        rc = pp_pk_add_item(P, l, v);
        break;
    }
    default: return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "opcode not allowed");
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
        if ((rc = pp_pk_need(P, (size_t)n))) break;
        pp_pk_value *v = pp_pk_new(P, PP_PK_INT);
        if (!v) return P->err->code;
        uint64_t u = pp_pk_rd_le(a, n);
        v->i = n == 4 ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
        P->pos += (size_t)n;
        rc = pp_pk_push(P, v);
        break;
    }
    case 0x8A: { /* LONG1: two's complement, little-endian */
        if ((rc = pp_pk_need(P, 1))) break;
        size_t n = a[0];
        if ((rc = pp_pk_need(P, 1 + n))) break;
        if (n > 8) return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "a %zu-byte integer (at most 8)", n);
        uint64_t u = pp_pk_rd_le(a + 1, (int)n);
        if (n && n < 8 && (a[n] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
        pp_pk_value *v = pp_pk_new(P, PP_PK_INT);
        if (!v) return P->err->code;
        v->i = (int64_t)u;
        P->pos += 1 + n;
        rc = pp_pk_push(P, v);
        break;
    }
    case 0x47: { /* BINFLOAT, big-endian */
        if ((rc = pp_pk_need(P, 8))) break;
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = (u << 8) | a[i];
        pp_pk_value *v = pp_pk_new(P, PP_PK_FLOAT);
        if (!v) return P->err->code;
        memcpy(&v->f, &u, 8);
        P->pos += 8;
        rc = pp_pk_push(P, v);
        break;
    }
    case 0x4E: rc = pp_pk_push(P, pp_pk_new(P, PP_PK_NONE)); break;
    case 0x88:
    case 0x89: {
        pp_pk_value *v = pp_pk_new(P, PP_PK_BOOL);
        if (v) v->i = P->op == 0x88;
        rc = pp_pk_push(P, v);
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
        if ((rc = pp_pk_need(P, (size_t)lb))) break;
        uint64_t len = pp_pk_rd_le(a, lb);
        if (P->op == 0x54 && (len & 0x80000000u)) return pp_pk_fail(P, PP_ERR_FORMAT, "negative string length");
        P->pos += (size_t)lb;
        if (len > P->size - P->pos)
            return pp_pk_fail(P, PP_ERR_FORMAT, "a %" PRIu64 "-byte string with only %zu bytes left", len,
                              P->size - P->pos);
        int is_bytes = P->op == 0x42 || P->op == 0x43 || P->op == 0x8E;
        rc = pp_pk_push(P, pp_pk_new_str(P, is_bytes ? PP_PK_BYTES : PP_PK_STR, P->b + P->pos, (size_t)len));
        P->pos += (size_t)len;
        break;
    }
    default: return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "opcode not allowed");
    }
    return rc;
}

/* PERSID, REDUCE, BUILD; NEWOBJ refused by name. */
static pp_code op_object(pp_pickle *P, const uint8_t *a) {
    pp_code rc = PP_OK;
    switch (P->op) {
    case 0x51: rc = pp_pk_persid(P); break;
    case 0x52: rc = pp_pk_reduce(P); break;
    case 0x62: { /* BUILD: state for dicts (OrderedDict._metadata) and tensors is ignored */
        pp_pk_value *state = pp_pk_pop(P), *obj = state ? pp_pk_top(P) : NULL;
        if (!obj) return P->err->code;
        if (obj->type != PP_PK_DICT && obj->type != PP_PK_TENSOR)
            return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "BUILD on a %s", pp_pk_type_name(obj->type));
        break;
    }
    case 0x81:
    case 0x92: { /* NEWOBJ, NEWOBJ_EX */
        char pb[160];
        size_t k = P->op == 0x81 ? 2 : 3;
        const pp_pk_value *cls = P->sp - pp_pk_base(P) >= k ? P->stack[P->sp - k] : NULL;
        return pp_pk_fail(P, PP_ERR_UNSUPPORTED,
                          "instantiating '%s' is not allowed (a whole-module pickle? save model.state_dict() instead)",
                          cls && cls->type == PP_PK_GLOBAL ? pp_pk_printable(pb, sizeof pb, cls->s) : "?");
    }
    default: return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "opcode not allowed");
    }
    return rc;
}

static pp_code run(pp_pickle *P, const pp_pk_value **root) {
    pp_code rc = PP_OK;
    while (!rc) {
        if (P->pos >= P->size) return pp_pk_fail(P, PP_ERR_FORMAT, "the pickle ends without STOP");
        P->op_off = P->pos;
        P->op = P->b[P->pos++];
        const uint8_t *a = P->b + P->pos;
        switch (P->op) {
        case 0x2E: { /* STOP */
            pp_pk_value *v = pp_pk_pop(P);
            if (!v) return P->err->code;
            if (P->n_marks) return pp_pk_fail(P, PP_ERR_FORMAT, "STOP with an open MARK");
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

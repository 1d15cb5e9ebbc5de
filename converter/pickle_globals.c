/* pickle_globals.c: the allow-list (pickle_globals.h). Semantics from torch's
 * _weights_only_unpickler.py and _utils.py (formats.md §1). */
#include "pickle_globals.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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

pp_code pp_pk_push_global(pp_pickle *P, const char *mod, size_t mlen, const char *name, size_t nlen) {
    char m[128], n[128], pm[160], pn[160];
    if (mlen >= sizeof m || nlen >= sizeof n || memchr(mod, 0, mlen) || memchr(name, 0, nlen)) {
        snprintf(m, sizeof m, "%.*s", (int)(mlen < 100 ? mlen : 100), mod);
        snprintf(n, sizeof n, "%.*s", (int)(nlen < 100 ? nlen : 100), name);
        return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "global '%s.%s' is not allowed", pp_pk_printable(pm, sizeof pm, m),
                          pp_pk_printable(pn, sizeof pn, n));
    }
    memcpy(m, mod, mlen);
    m[mlen] = 0;
    memcpy(n, name, nlen);
    n[nlen] = 0;
    pp_pk_stype st = PP_PK_S_INVALID;
    int kind = classify(m, n, &st);
    if (!kind)
        return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "global '%s.%s' is not allowed", pp_pk_printable(pm, sizeof pm, m),
                          pp_pk_printable(pn, sizeof pn, n));
    char full[260];
    snprintf(full, sizeof full, "%s.%s", m, n);
    pp_pk_value *v = pp_pk_new_str(P, PP_PK_GLOBAL, full, strlen(full));
    if (!v) return P->err->code;
    v->i = kind;
    v->stype = st;
    return pp_pk_push(P, v);
}

/* ---- REDUCE -------------------------------------------------------------------- */

static pp_code int_tuple(pp_pickle *P, const pp_pk_value *t, const char *what, int64_t *out, int *n) {
    if (t->type != PP_PK_TUPLE && t->type != PP_PK_LIST)
        return pp_pk_fail(P, PP_ERR_FORMAT, "tensor %s is a %s, not a tuple", what, pp_pk_type_name(t->type));
    if (t->n > PP_MAX_RANK)
        return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "tensor of rank %zu (at most %d)", t->n, PP_MAX_RANK);
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i]->type != PP_PK_INT || t->items[i]->i < 0)
            return pp_pk_fail(P, PP_ERR_FORMAT, "tensor %s[%zu] is not a non-negative int", what, i);
        out[i] = t->items[i]->i;
    }
    *n = (int)t->n;
    return PP_OK;
}

static pp_code rebuild_tensor(pp_pickle *P, int kind, const pp_pk_value *args, pp_pk_value **out) {
    size_t n = args->n;
    int ok = kind == G_REBUILD_V1 ? n == 4 : kind == G_REBUILD_V2 ? (n == 6 || n == 7) : (n == 7 || n == 8);
    if (!ok) return pp_pk_fail(P, PP_ERR_FORMAT, "tensor rebuild with %zu arguments", n);
    pp_pk_value *const *a = args->items;
    if (a[0]->type != PP_PK_STORAGE)
        return pp_pk_fail(P, PP_ERR_FORMAT, "tensor rebuild: first argument is a %s, not a storage",
                          pp_pk_type_name(a[0]->type));
    if (a[1]->type != PP_PK_INT || a[1]->i < 0)
        return pp_pk_fail(P, PP_ERR_FORMAT, "tensor rebuild: bad storage offset");
    pp_pk_value *t = pp_pk_new(P, PP_PK_TENSOR);
    if (!t) return P->err->code;
    int rs = 0, rt = 0;
    pp_code rc;
    if ((rc = int_tuple(P, a[2], "size", t->size, &rs)) || (rc = int_tuple(P, a[3], "stride", t->stride, &rt)))
        return rc;
    if (rs != rt) return pp_pk_fail(P, PP_ERR_FORMAT, "tensor rebuild: size has %d dims, stride %d", rs, rt);
    t->rank = rs;
    t->storage = a[0];
    t->offset = a[1]->i;
    t->dtype = a[0]->stype;
    t->depth = 1;
    if (kind == G_REBUILD_V3) {
        if (a[6]->type != PP_PK_GLOBAL || a[6]->i != G_DTYPE)
            return pp_pk_fail(P, PP_ERR_FORMAT, "_rebuild_tensor_v3: argument 7 is not a dtype");
        t->dtype = a[6]->stype;
    }
    if (t->dtype == PP_PK_S_UNTYPED)
        return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "tensor on an untyped storage without a dtype");
    *out = t;
    return PP_OK;
}

/* UTF-8 text whose code points are all < 256 to those bytes (_codecs.encode(s, 'latin1')). */
static pp_code latin1(pp_pickle *P, const pp_pk_value *s, pp_pk_value **out) {
    pp_pk_value *v = pp_pk_new(P, PP_PK_BYTES);
    if (!v) return P->err->code;
    if (!(v->s = pp_malloc(s->len + 1))) return pp_pk_fail(P, PP_ERR_NOMEM, "out of memory");
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
            return pp_pk_fail(P, PP_ERR_FORMAT, "_codecs.encode: text is not latin-1");
        }
    }
    v->s[k] = 0;
    v->len = k;
    *out = v;
    return PP_OK;
}

pp_code pp_pk_reduce(pp_pickle *P) {
    pp_pk_value *args = pp_pk_pop(P), *fn = args ? pp_pk_pop(P) : NULL, *res = NULL;
    if (!fn) return P->err->code;
    if (fn->type != PP_PK_GLOBAL)
        return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "REDUCE on a %s, not a global", pp_pk_type_name(fn->type));
    if (args->type != PP_PK_TUPLE)
        return pp_pk_fail(P, PP_ERR_FORMAT, "REDUCE arguments are a %s, not a tuple", pp_pk_type_name(args->type));
    pp_code rc = PP_OK;
    switch ((int)fn->i) {
    case G_REBUILD_V1:
    case G_REBUILD_V2:
    case G_REBUILD_V3: rc = rebuild_tensor(P, (int)fn->i, args, &res); break;
    case G_PARAM:
    case G_PARAM_STATE:
        if (args->n < 1 || args->items[0]->type != PP_PK_TENSOR)
            return pp_pk_fail(P, PP_ERR_FORMAT, "%s: the first argument is not a tensor", fn->s);
        res = args->items[0];
        break;
    case G_ODICT:
        if (!(res = pp_pk_new(P, PP_PK_DICT))) return P->err->code;
        if (args->n == 1 && (args->items[0]->type == PP_PK_LIST || args->items[0]->type == PP_PK_TUPLE)) {
            const pp_pk_value *l = args->items[0];
            for (size_t i = 0; i < l->n && !rc; i++) {
                const pp_pk_value *kv = l->items[i];
                if (kv->type != PP_PK_TUPLE || kv->n != 2)
                    return pp_pk_fail(P, PP_ERR_FORMAT, "OrderedDict item %zu is not a pair", i);
                if (!(rc = pp_pk_add_item(P, res, kv->items[0]))) rc = pp_pk_add_item(P, res, kv->items[1]);
            }
        } else if (args->n) {
            return pp_pk_fail(P, PP_ERR_FORMAT, "OrderedDict with %zu arguments", args->n);
        }
        break;
    case G_ENCODE:
        if (args->n < 1 || args->n > 2 || args->items[0]->type != PP_PK_STR)
            return pp_pk_fail(P, PP_ERR_FORMAT, "_codecs.encode takes (str, encoding)");
        if (args->n == 2 && (args->items[1]->type != PP_PK_STR ||
                             (strcmp(args->items[1]->s, "latin1") && strcmp(args->items[1]->s, "latin-1"))))
            return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "_codecs.encode with an encoding other than latin1");
        rc = latin1(P, args->items[0], &res);
        break;
    case G_SIZE:
        if (args->n == 0) {
            res = pp_pk_new(P, PP_PK_TUPLE);
        } else if (args->n == 1 && (args->items[0]->type == PP_PK_TUPLE || args->items[0]->type == PP_PK_LIST)) {
            if ((res = pp_pk_new(P, PP_PK_TUPLE)))
                for (size_t i = 0; i < args->items[0]->n && !rc; i++)
                    rc = pp_pk_add_item(P, res, args->items[0]->items[i]);
        } else {
            return pp_pk_fail(P, PP_ERR_FORMAT, "torch.Size takes one tuple");
        }
        break;
    case G_SET:
    case G_FROZENSET:
        if (!(res = pp_pk_new(P, PP_PK_SET))) return P->err->code;
        if (args->n == 1 && (args->items[0]->type == PP_PK_LIST || args->items[0]->type == PP_PK_TUPLE)) {
            for (size_t i = 0; i < args->items[0]->n && !rc; i++) rc = pp_pk_add_item(P, res, args->items[0]->items[i]);
        } else if (args->n) {
            return pp_pk_fail(P, PP_ERR_FORMAT, "%s takes one list", fn->s);
        }
        break;
    case G_DEVICE:
        if (args->n < 1 || args->items[0]->type != PP_PK_STR)
            return pp_pk_fail(P, PP_ERR_FORMAT, "torch.device takes a string");
        res = args->items[0];
        break;
    default: {
        char pb[160];
        return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "'%s' may not be called", pp_pk_printable(pb, sizeof pb, fn->s));
    }
    }
    if (rc) return rc;
    return pp_pk_push(P, res);
}

pp_code pp_pk_persid(pp_pickle *P) {
    pp_pk_value *pid = pp_pk_pop(P);
    if (!pid) return P->err->code;
    if (pid->type != PP_PK_TUPLE || pid->n < 1 || pid->items[0]->type != PP_PK_STR ||
        strcmp(pid->items[0]->s, "storage"))
        return pp_pk_fail(P, PP_ERR_FORMAT, "persistent id is not a ('storage', ...) tuple");
    if (pid->n == 6)
        return pp_pk_fail(P, PP_ERR_UNSUPPORTED, "a 6-item storage id: the legacy (pre-1.6) torch.save format");
    pp_pk_value *const *a = pid->items;
    if (pid->n != 5 || a[1]->type != PP_PK_GLOBAL || a[1]->i != G_STORAGE || a[2]->type != PP_PK_STR ||
        a[3]->type != PP_PK_STR || a[4]->type != PP_PK_INT || a[4]->i < 0)
        return pp_pk_fail(P, PP_ERR_FORMAT, "persistent id is not ('storage', StorageClass, key, location, numel)");
    pp_pk_value *s = pp_pk_new(P, PP_PK_STORAGE);
    if (!s || !(s->key = pp_pk_dup(P, a[2]->s, a[2]->len)) || !(s->location = pp_pk_dup(P, a[3]->s, a[3]->len)))
        return P->err->code;
    s->stype = a[1]->stype;
    s->numel = a[4]->i;
    return pp_pk_push(P, s);
}

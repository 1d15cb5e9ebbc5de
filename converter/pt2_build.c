/* pt2_build.c: values, arguments, shapes and graph edits for the .pt2
 * importer (pt2_build.h). */
#ifdef PP_HAVE_CJSON
#include "pt2_build.h"

#include <ctype.h>
#include <math.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values --------------------------------------------------------------- */

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int *slot(pt2_ctx *x, const char *name) {
    uint64_t h = hash_name(name);
    for (int i = 0;; i++) {
        int *s = &x->hash[(h + (uint64_t)i) & (uint64_t)(x->hash_cap - 1)];
        if (*s < 0 || !strcmp(x->vals[*s].name, name)) return s;
    }
}

pt2_val *pt2_lookup(pt2_ctx *x, const char *name) {
    if (!x->hash_cap || !name) return NULL;
    int *s = slot(x, name);
    return *s < 0 ? NULL : &x->vals[*s];
}

/* The value named name, made when new; NULL when out of memory. */
static pt2_val *value(pt2_ctx *x, const char *name) {
    pt2_val *v = pt2_lookup(x, name);
    if (v) {
        pp_free(v->list);
        v->list = NULL;
        v->n_list = 0;
        v->base = -1;
        v->n_slices = 0;
        return v;
    }
    if (2 * (x->n_vals + 1) > x->hash_cap) {
        int cap = x->hash_cap ? 2 * x->hash_cap : 1024;
        int *h = pp_malloc((size_t)cap * sizeof *h);
        if (!h) return NULL;
        pp_free(x->hash);
        x->hash = h;
        x->hash_cap = cap;
        for (int i = 0; i < cap; i++) h[i] = -1;
        for (int i = 0; i < x->n_vals; i++) *slot(x, x->vals[i].name) = i;
    }
    if (x->n_vals == x->cap_vals) {
        int cap = x->cap_vals ? 2 * x->cap_vals : 512;
        pt2_val *nv = pp_realloc(x->vals, (size_t)cap * sizeof *nv);
        if (!nv) return NULL;
        x->vals = nv;
        x->cap_vals = cap;
    }
    v = &x->vals[x->n_vals];
    memset(v, 0, sizeof *v);
    v->base = -1;
    size_t len = strlen(name);
    if (!(v->name = pp_malloc(len + 1))) return NULL;
    memcpy(v->name, name, len + 1);
    *slot(x, name) = x->n_vals++;
    return v;
}

pp_code pt2_define(pt2_ctx *x, const char *name, int tensor) {
    pt2_val *v = value(x, name);
    if (!v) return pp_error_nomem(x->err, "out of memory for value '%s'", name);
    v->tensor = tensor;
    return PP_OK;
}

pp_code pt2_define_list(pt2_ctx *x, const char *name, const int *ids, int n) {
    pt2_val *v = value(x, name);
    if (!v || !(v->list = pp_malloc((size_t)(n ? n : 1) * sizeof *ids)))
        return pp_error_nomem(x->err, "out of memory for value '%s'", name);
    memcpy(v->list, ids, (size_t)n * sizeof *ids);
    v->n_list = n;
    v->tensor = -1;
    return PP_OK;
}

void pt2_ctx_free(pt2_ctx *x) {
    for (int i = 0; i < x->n_vals; i++) {
        pp_free(x->vals[i].name);
        pp_free(x->vals[i].list);
    }
    pp_free(x->vals);
    pp_free(x->hash);
    x->vals = NULL;
    x->hash = NULL;
    x->n_vals = x->cap_vals = x->hash_cap = 0;
}

/* ---- errors ---------------------------------------------------------------- */

pp_code pt2_fail(pt2_node *n, pp_code code, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pp_error_set(n->x->err, code, "node '%.100s' (%.80s): %s", n->name, n->target, msg);
}

/* ---- arguments ---------------------------------------------------------------- */

const cJSON *pt2_arg(const pt2_node *n, const char *name) {
    const cJSON *it;
    cJSON_ArrayForEach(it, n->inputs) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(nm) && !strcmp(nm->valuestring, name)) return cJSON_GetObjectItemCaseSensitive(it, "arg");
    }
    return NULL;
}

int pt2_arg_is_none(const cJSON *arg) { return !arg || cJSON_GetObjectItemCaseSensitive(arg, "as_none") != NULL; }

static const char *tensor_name(const cJSON *t) {
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(t, "name");
    return cJSON_IsString(nm) ? nm->valuestring : NULL;
}

static pp_code tensor_id(pt2_node *n, const char *what, const char *tname, int *id) {
    pt2_val *v = pt2_lookup(n->x, tname);
    if (!tname || !v)
        return pt2_fail(n, PP_ERR_FORMAT, "%s: '%.100s' is not defined before it", what, tname ? tname : "?");
    if (v->tensor < 0) return pt2_fail(n, PP_ERR_FORMAT, "%s: '%.100s' is a tuple, not a tensor", what, tname);
    *id = v->tensor;
    return PP_OK;
}

pp_code pt2_tensor_arg(pt2_node *n, const char *name, int optional, int *id) {
    *id = -1;
    const cJSON *a = pt2_arg(n, name);
    if (pt2_arg_is_none(a)) {
        if (optional) return PP_OK;
        return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is missing", name);
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "as_tensor");
    if (!t) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(a, "as_optional_tensor");
        if (o && cJSON_GetObjectItemCaseSensitive(o, "as_none"))
            return optional ? PP_OK : pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is None", name);
        t = o ? cJSON_GetObjectItemCaseSensitive(o, "as_tensor") : NULL;
    }
    if (!t) return pt2_fail(n, PP_ERR_UNSUPPORTED, "argument '%s' is not a tensor", name);
    return tensor_id(n, name, tensor_name(t), id);
}

pp_code pt2_tensors_arg(pt2_node *n, const char *name, int *ids, int max, int *count) {
    *count = 0;
    const cJSON *a = pt2_arg(n, name), *list = a ? cJSON_GetObjectItemCaseSensitive(a, "as_tensors") : NULL;
    int optional = 0;
    if (!list && a) {
        list = cJSON_GetObjectItemCaseSensitive(a, "as_optional_tensors");
        optional = 1;
    }
    if (!cJSON_IsArray(list)) return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is not a list of tensors", name);
    const cJSON *it;
    cJSON_ArrayForEach(it, list) {
        if (*count >= max) return pt2_fail(n, PP_ERR_UNSUPPORTED, "argument '%s' has more than %d tensors", name, max);
        const cJSON *t = optional ? cJSON_GetObjectItemCaseSensitive(it, "as_tensor") : it;
        if (!t) {
            ids[(*count)++] = -1;
            continue;
        }
        pp_code rc = tensor_id(n, name, tensor_name(t), &ids[*count]);
        if (rc) return rc;
        (*count)++;
    }
    return PP_OK;
}

/* A JSON number as an integer: torch writes sys.maxsize (2^63 - 1) for open
 * slice ends, which a double rounds up past INT64_MAX. */
static int64_t json_i64(double d) {
    if (d >= 9.2e18) return INT64_MAX;
    if (d <= -9.2e18) return INT64_MIN;
    return (int64_t)d;
}

/* An integer from an as_int or as_name SymIntArgument (constant only). */
static pp_code sym_int_elem(pt2_node *n, const char *name, const cJSON *e, int64_t *v) {
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(e, "as_int");
    if (cJSON_IsNumber(i)) {
        *v = json_i64(i->valuedouble);
        return PP_OK;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "as_name");
    if (!cJSON_IsString(s)) return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is not an integer", name);
    int64_t k, c;
    pp_code rc = pt2_sym_name(n->x, s->valuestring, &k, &c);
    if (rc) return rc;
    if (k)
        return pt2_fail(n, PP_ERR_UNSUPPORTED,
                        "argument '%s' depends on the batch size (%s), where a constant is needed", name,
                        s->valuestring);
    *v = c;
    return PP_OK;
}

pp_code pt2_int_arg(pt2_node *n, const char *name, int64_t def, int64_t *v) {
    *v = def;
    const cJSON *a = pt2_arg(n, name);
    if (pt2_arg_is_none(a)) return PP_OK;
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(a, "as_int");
    if (cJSON_IsNumber(i)) {
        *v = json_i64(i->valuedouble);
        return PP_OK;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "as_sym_int");
    if (s) return sym_int_elem(n, name, s, v);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(a, "as_bool");
    if (cJSON_IsBool(b)) {
        *v = cJSON_IsTrue(b);
        return PP_OK;
    }
    return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is not an integer", name);
}

pp_code pt2_ints_arg(pt2_node *n, const char *name, int64_t *v, int max, int *count) {
    *count = 0;
    const cJSON *a = pt2_arg(n, name);
    if (pt2_arg_is_none(a)) return PP_OK;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(a, "as_ints");
    int sym = 0;
    if (!l) {
        l = cJSON_GetObjectItemCaseSensitive(a, "as_sym_ints");
        sym = 1;
    }
    if (!cJSON_IsArray(l)) {
        if (max < 1) return pt2_fail(n, PP_ERR_FORMAT, "argument '%s': no room", name);
        *count = 1;
        return pt2_int_arg(n, name, 0, v);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, l) {
        if (*count >= max) return pt2_fail(n, PP_ERR_UNSUPPORTED, "argument '%s' has more than %d values", name, max);
        if (sym) {
            pp_code rc = sym_int_elem(n, name, it, &v[*count]);
            if (rc) return rc;
        } else if (cJSON_IsNumber(it)) {
            v[*count] = json_i64(it->valuedouble);
        } else {
            return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' has a non-integer element", name);
        }
        (*count)++;
    }
    return PP_OK;
}

int pt2_scalar_arg(pt2_node *n, const char *name, double *v) {
    const cJSON *a = pt2_arg(n, name);
    if (pt2_arg_is_none(a)) return 0;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(a, "as_float");
    if (cJSON_IsString(f)) { /* torch writes the non-finite floats as strings */
        const char *t = f->valuestring;
        if (!strcmp(t, "Infinity") || !strcmp(t, "inf")) *v = HUGE_VAL;
        else if (!strcmp(t, "-Infinity") || !strcmp(t, "-inf")) *v = -HUGE_VAL;
        else if (!strcmp(t, "NaN") || !strcmp(t, "nan")) *v = NAN;
        else return 0;
        return 1;
    }
    if (!cJSON_IsNumber(f)) f = cJSON_GetObjectItemCaseSensitive(a, "as_int");
    if (cJSON_IsNumber(f)) {
        *v = f->valuedouble;
        return 1;
    }
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(a, "as_bool");
    if (cJSON_IsBool(b)) {
        *v = cJSON_IsTrue(b);
        return 1;
    }
    return 0;
}

pp_code pt2_float_arg(pt2_node *n, const char *name, double def, double *v) {
    *v = def;
    const cJSON *a = pt2_arg(n, name);
    if (pt2_arg_is_none(a) || pt2_scalar_arg(n, name, v)) return PP_OK;
    return pt2_fail(n, PP_ERR_UNSUPPORTED, "argument '%s' is not a constant number", name);
}

pp_code pt2_bool_arg(pt2_node *n, const char *name, int def, int *v) {
    double d;
    *v = def;
    const cJSON *a = pt2_arg(n, name);
    if (pt2_arg_is_none(a)) return PP_OK;
    if (!pt2_scalar_arg(n, name, &d)) return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is not a bool", name);
    *v = d != 0;
    return PP_OK;
}

const char *pt2_string_arg(pt2_node *n, const char *name, const char *def) {
    const cJSON *a = pt2_arg(n, name), *s = a ? cJSON_GetObjectItemCaseSensitive(a, "as_string") : NULL;
    return cJSON_IsString(s) ? s->valuestring : def;
}

/* ---- symbolic expressions ------------------------------------------------------- */

/* A linear form k·batch + c, parsed from sympy's srepr ("Mul(Integer(4),
 * Symbol('s77', positive=True, integer=True))") or its str ("4*s77 + 1"). */
typedef struct expr_parser {
    pt2_ctx *x;
    const char *s, *what;
    const char *full;
    pp_code rc;
} expr_parser;

static void skip_ws(expr_parser *p) {
    while (*p->s == ' ') p->s++;
}

static int bad_expr(expr_parser *p, const char *why) {
    if (!p->rc)
        p->rc =
            pp_error_set(p->x->err, PP_ERR_UNSUPPORTED, "%s: the symbolic extent '%.120s' %s", p->what, p->full, why);
    return 0;
}

static int is_batch(pt2_ctx *x, const char *name, size_t len) {
    for (int i = 0; i < x->n_batch_syms; i++)
        if (strlen(x->batch_syms[i]) == len && !strncmp(x->batch_syms[i], name, len)) return 1;
    return 0;
}

static int parse_sum(expr_parser *p, int64_t *k, int64_t *c);

/* A symbol name (letters, digits, '_'), batch or refused. */
static int parse_symbol(expr_parser *p, const char *name, size_t len, int64_t *k, int64_t *c) {
    if (!is_batch(p->x, name, len)) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "uses '%.*s', which is not the batch: only the batch may be symbolic for now (export the other "
                 "dimensions static)",
                 (int)(len < 40 ? len : 40), name);
        return bad_expr(p, msg);
    }
    *k = 1;
    *c = 0;
    return 1;
}

static int parse_atom(expr_parser *p, int64_t *k, int64_t *c) {
    skip_ws(p);
    const char *s = p->s;
    if (*s == '-' || isdigit((unsigned char)*s)) {
        char *e;
        long long v = strtoll(s, &e, 10);
        if (e == s) return bad_expr(p, "is not understood");
        p->s = e;
        *k = 0;
        *c = v;
        return 1;
    }
    if (*s == '(') {
        p->s++;
        if (!parse_sum(p, k, c)) return 0;
        skip_ws(p);
        if (*p->s != ')') return bad_expr(p, "is not understood");
        p->s++;
        return 1;
    }
    size_t len = 0;
    while (isalnum((unsigned char)s[len]) || s[len] == '_') len++;
    if (!len) return bad_expr(p, "is not understood");
    p->s = s + len;
    if (*p->s != '(') return parse_symbol(p, s, len, k, c);
    p->s++;
    if (len == 6 && !strncmp(s, "Symbol", 6)) {
        skip_ws(p);
        if (*p->s != '\'') return bad_expr(p, "is not understood");
        const char *nm = ++p->s;
        while (*p->s && *p->s != '\'') p->s++;
        if (!*p->s || !parse_symbol(p, nm, (size_t)(p->s - nm), k, c)) return 0;
        while (*p->s && *p->s != ')') p->s++;
        if (*p->s) p->s++;
        return 1;
    }
    if (len == 7 && !strncmp(s, "Integer", 7)) {
        if (!parse_atom(p, k, c)) return 0;
        skip_ws(p);
        if (*p->s++ != ')') return bad_expr(p, "is not understood");
        return 1;
    }
    int mul = len == 3 && !strncmp(s, "Mul", 3), add = len == 3 && !strncmp(s, "Add", 3);
    if (!mul && !add) {
        char msg[96];
        snprintf(msg, sizeof msg, "uses %.*s, which the converter does not evaluate", (int)(len < 30 ? len : 30), s);
        return bad_expr(p, msg);
    }
    *k = 0;
    *c = mul ? 1 : 0;
    for (int first = 1;; first = 0) {
        skip_ws(p);
        if (*p->s == ')') {
            p->s++;
            return !first || bad_expr(p, "is not understood");
        }
        if (!first && *p->s++ != ',') return bad_expr(p, "is not understood");
        int64_t k2, c2;
        if (!parse_sum(p, &k2, &c2)) return 0;
        if (add) {
            *k += k2;
            *c += c2;
        } else {
            if ((*k && k2)) return bad_expr(p, "multiplies the batch by itself");
            int64_t nk = *k * c2 + k2 * *c, nc = *c * c2;
            *k = nk;
            *c = nc;
        }
    }
}

static int parse_product(expr_parser *p, int64_t *k, int64_t *c) {
    if (!parse_atom(p, k, c)) return 0;
    for (;;) {
        skip_ws(p);
        if (*p->s != '*') return 1;
        p->s++;
        int64_t k2, c2;
        if (!parse_atom(p, &k2, &c2)) return 0;
        if (*k && k2) return bad_expr(p, "multiplies the batch by itself");
        int64_t nk = *k * c2 + k2 * *c;
        *c = *c * c2;
        *k = nk;
    }
}

static int parse_sum(expr_parser *p, int64_t *k, int64_t *c) {
    if (!parse_product(p, k, c)) return 0;
    for (;;) {
        skip_ws(p);
        if (*p->s != '+' && !(*p->s == '-' && p->s[1] == ' ')) return 1;
        int neg = *p->s == '-';
        p->s++;
        int64_t k2, c2;
        if (!parse_product(p, &k2, &c2)) return 0;
        *k += neg ? -k2 : k2;
        *c += neg ? -c2 : c2;
    }
}

pp_code pt2_expr(pt2_ctx *x, const char *expr, const char *what, int64_t *k, int64_t *c) {
    expr_parser p = {x, expr, what, expr, PP_OK};
    if (!parse_sum(&p, k, c)) return p.rc;
    skip_ws(&p);
    if (*p.s) {
        bad_expr(&p, "is not understood");
        return p.rc;
    }
    return PP_OK;
}

/* A SymInt object ({"as_int": n} or {"as_expr": {"expr_str": ...}}) as k·batch + c. */
static pp_code sym_int(pt2_ctx *x, const cJSON *s, const char *what, int64_t *k, int64_t *c) {
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(s, "as_int");
    if (cJSON_IsNumber(i)) {
        *k = 0;
        *c = json_i64(i->valuedouble);
        return PP_OK;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(s, "as_expr");
    const cJSON *str = e ? cJSON_GetObjectItemCaseSensitive(e, "expr_str") : NULL;
    if (!cJSON_IsString(str))
        return pp_error_set(x->err, PP_ERR_FORMAT, "%s: a size is neither an integer nor an expression", what);
    return pt2_expr(x, str->valuestring, what, k, c);
}

pp_code pt2_sym_name(pt2_ctx *x, const char *name, int64_t *k, int64_t *c) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(x->sym_int_values, name);
    if (!s)
        return pp_error_set(x->err, PP_ERR_FORMAT, "symbolic integer '%.100s' has no value in sym_int_values", name);
    char what[160];
    snprintf(what, sizeof what, "symbolic integer '%.100s'", name);
    return sym_int(x, s, what, k, c);
}

pp_dtype pt2_dtype(int64_t t) {
    switch (t) {
    case 1: return PP_DTYPE_U8;
    case 2: return PP_DTYPE_I8;
    case 4: return PP_DTYPE_I32;
    case 5: return PP_DTYPE_I64;
    case 6: return PP_DTYPE_F16;
    case 7: return PP_DTYPE_F32;
    case 8: return PP_DTYPE_F64;
    case 12: return PP_DTYPE_BOOL;
    case 13: return PP_DTYPE_BF16;
    default: return PP_DTYPE_INVALID;
    }
}

pp_code pt2_meta(pt2_ctx *x, const char *name, pp_dtype *dt, int *rank, int64_t *dims) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(x->tensor_values, name);
    const cJSON *sizes = m ? cJSON_GetObjectItemCaseSensitive(m, "sizes") : NULL;
    const cJSON *dtype = m ? cJSON_GetObjectItemCaseSensitive(m, "dtype") : NULL;
    if (!cJSON_IsArray(sizes) || !cJSON_IsNumber(dtype))
        return pp_error_set(x->err, PP_ERR_FORMAT, "tensor '%.100s' has no metadata (tensor_values)", name);
    if (dt) {
        *dt = pt2_dtype((int64_t)dtype->valuedouble);
        if (*dt == PP_DTYPE_INVALID)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "tensor '%.100s' has ScalarType %d, which the engine lacks",
                                name, (int)dtype->valuedouble);
    }
    int r = cJSON_GetArraySize(sizes);
    if (r > PP_MAX_RANK)
        return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "tensor '%.100s' has rank %d (at most %d)", name, r,
                            PP_MAX_RANK);
    *rank = r;
    const cJSON *it;
    int d = 0;
    cJSON_ArrayForEach(it, sizes) {
        char what[200];
        int64_t k, c;
        snprintf(what, sizeof what, "tensor '%.100s' axis %d", name, d);
        pp_code rc = sym_int(x, it, what, &k, &c);
        if (rc) return rc;
        if (k && c)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                                "%s: the extent %" PRId64 "·batch%+" PRId64 " is not a multiple of the batch", what, k,
                                c);
        if (k < 0 || c < 0) return pp_error_set(x->err, PP_ERR_FORMAT, "%s: a negative extent", what);
        dims[d++] = k ? -k : c;
    }
    return PP_OK;
}

/* ---- building ------------------------------------------------------------------- */

pp_code pt2_rc(pt2_node *n) { return n->x->err->code ? n->x->err->code : PP_ERR_NOMEM; }

int pt2_add(pt2_node *n, pp_op op, const char *suffix, int n_in, const int *in, int *node_id) {
    char nm[300];
    if (suffix && suffix[0]) snprintf(nm, sizeof nm, "%s.%s", n->name, suffix);
    else snprintf(nm, sizeof nm, "%s", n->name);
    pp_graph *g = n->x->g;
    int y = pp_graph_add_tensor(g, nm, PP_DTYPE_INVALID, PP_TENSOR_ACTIVATION, -1, NULL, n->x->err);
    if (y < 0) return -1;
    int nd = pp_graph_add_node(g, op, nm, n_in, in, 1, &y, n->x->err);
    if (nd < 0) return -1;
    if (node_id) *node_id = nd;
    return y;
}

pp_code pt2_bind_output(pt2_node *n, int i, int tensor) {
    const cJSON *o = cJSON_GetArrayItem(n->outputs, i);
    const cJSON *t = o ? cJSON_GetObjectItemCaseSensitive(o, "as_tensor") : NULL;
    const char *nm = t ? tensor_name(t) : NULL;
    if (!nm) return pt2_fail(n, PP_ERR_FORMAT, "output %d is not a tensor", i);
    return pt2_define(n->x, nm, tensor);
}

int pt2_const(pt2_ctx *x, const char *name, pp_dtype dt, int rank, const int64_t *dims, const void *data) {
    uint64_t numel = 1;
    for (int d = 0; d < rank; d++) numel *= (uint64_t)dims[d];
    return pp_graph_add_weight(x->g, name, dt, rank, dims, data, numel * pp_dtype_size(dt), x->err);
}

int pt2_scalar(pt2_node *n, const char *suffix, double v, pp_dtype dt) {
    char nm[300];
    snprintf(nm, sizeof nm, "%s.%s", n->name, suffix);
    union {
        float f;
        double d;
        int64_t i64;
        int32_t i32;
        uint8_t b;
    } u;
    memset(&u, 0, sizeof u);
    switch (dt) {
    case PP_DTYPE_F64: u.d = v; break;
    case PP_DTYPE_I64: u.i64 = (int64_t)v; break;
    case PP_DTYPE_I32: u.i32 = (int32_t)v; break;
    case PP_DTYPE_BOOL:
    case PP_DTYPE_U8: u.b = (uint8_t)v; break;
    default:
        dt = PP_DTYPE_F32;
        u.f = (float)v;
        break;
    }
    return pt2_const(n->x, nm, dt, 0, NULL, &u);
}

void pt2_set_int(pt2_node *n, int nd, const char *attr, int64_t v, pp_code *rc) {
    if (!*rc) *rc = pp_node_set_int(n->x->g, nd, attr, v, n->x->err);
}

void pt2_set_float(pt2_node *n, int nd, const char *attr, double v, pp_code *rc) {
    if (!*rc) *rc = pp_node_set_float(n->x->g, nd, attr, v, n->x->err);
}

void pt2_set_ints(pt2_node *n, int nd, const char *attr, const int64_t *v, int count, pp_code *rc) {
    if (!*rc) *rc = pp_node_set_ints(n->x->g, nd, attr, v, (uint32_t)count, n->x->err);
}

/* ---- node helpers ----------------------------------------------------------------- */

/* The metadata of a node's tensor argument (or output name). */
pp_code pt2_arg_meta(pt2_node *n, const char *arg, pp_dtype *dt, int *rank, int64_t *dims) {
    const cJSON *a = pt2_arg(n, arg), *t = a ? cJSON_GetObjectItemCaseSensitive(a, "as_tensor") : NULL;
    const cJSON *nm = t ? cJSON_GetObjectItemCaseSensitive(t, "name") : NULL;
    if (!cJSON_IsString(nm)) return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is not a tensor", arg);
    return pt2_meta(n->x, nm->valuestring, dt, rank, dims);
}

const char *pt2_arg_tensor_name(pt2_node *n, const char *arg) {
    const cJSON *a = pt2_arg(n, arg), *t = a ? cJSON_GetObjectItemCaseSensitive(a, "as_tensor") : NULL;
    const cJSON *nm = t ? cJSON_GetObjectItemCaseSensitive(t, "name") : NULL;
    return cJSON_IsString(nm) ? nm->valuestring : NULL;
}

pp_code pt2_out_meta(pt2_node *n, pp_dtype *dt, int *rank, int64_t *dims) {
    return pt2_meta(n->x, n->name, dt, rank, dims);
}

/* The node's result: one IR op on ins, bound to output 0. */
pp_code pt2_simple(pt2_node *n, pp_op op, int n_in, const int *in, int *nd_out) {
    int nd = -1;
    if (nd_out) *nd_out = -1;
    int y = pt2_add(n, op, "", n_in, in, &nd);
    if (y < 0) return pt2_rc(n);
    if (nd_out) *nd_out = nd;
    return pt2_bind_output(n, 0, y);
}

/* "relu_" and "relu" both: the base name without a trailing '_'. */
int pt2_base_is(const char *base, const char *name) {
    size_t l = strlen(name);
    return !strncmp(base, name, l) && (!base[l] || (base[l] == '_' && !base[l + 1]));
}
#endif

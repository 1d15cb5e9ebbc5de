/* pt2_sym.c: torch.export's symbols and symbolic sizes as the IR's
 * (pt2_build.h, engine/symbols.h).
 *
 * The symbols (s77, s27, ...) that a user input's extent is become IR symbols
 * with the range the archive's range_constraints give (narrowed by --dim); the
 * leading extents of the user inputs are the batch. Every size elsewhere is a
 * sympy expression over them, read from its srepr ("Add(Symbol('s27', ...),
 * Integer(1))") or its str ("s27 + 1"): sums, products, powers, floor division,
 * Python's modulo, Max and Min become shape program values through
 * pp_symtab_emit, so the same expression is the same slot as on the ONNX side.
 * Anything else (true division, TruncToInt, ...) is refused by name.
 */
#ifdef PP_HAVE_CJSON
#include "pt2_build.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *item(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* ---- the symbols -------------------------------------------------------------------- */

/* The symbol an expression is when it is one alone ("Symbol('s77', ...)" or
 * "s77") into name[n]; 0 otherwise. */
static int bare_symbol(const char *s, char *name, size_t n) {
    const char *end = NULL;
    if (!strncmp(s, "Symbol('", 8)) {
        s += 8;
        end = strchr(s, '\'');
        if (!end || !strchr(end, ')') || strchr(end, ')')[1]) return 0;
    } else {
        end = s + strlen(s);
    }
    size_t len = (size_t)(end - s);
    if (!len || len >= n || !isalpha((unsigned char)s[0])) return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') return 0;
    memcpy(name, s, len);
    name[len] = 0;
    return 1;
}

/* The expression of axis d of a user input's TensorMeta, or NULL for a constant. */
static const char *size_expr(pt2_ctx *x, const char *input, int d) {
    const cJSON *m = item(x->tensor_values, input), *sz = m ? item(m, "sizes") : NULL;
    const cJSON *e = item(cJSON_GetArrayItem(sz, d), "as_expr"), *s = e ? item(e, "expr_str") : NULL;
    return cJSON_IsString(s) ? s->valuestring : NULL;
}

static pt2_sym *find_sym(pt2_ctx *x, const char *name) {
    for (int i = 0; i < x->n_syms; i++)
        if (!strcmp(x->syms[i].name, name)) return &x->syms[i];
    return NULL;
}

static int is_batch_name(pt2_ctx *x, const char *name) {
    for (int i = 0; i < x->n_batch_syms; i++)
        if (!strcmp(x->batch_syms[i], name)) return 1;
    return 0;
}

/* The --dim option for archive symbol `name` ("batch" names the batch), or NULL. */
static const pp_onnx_dim *dim_option(pt2_ctx *x, const char *name, int batch) {
    for (int k = 0; k < x->n_dims; k++) {
        const char *o = x->dims[k].name ? x->dims[k].name : "";
        if (!strcmp(o, name) || (batch && !strcmp(o, "batch"))) return &x->dims[k];
    }
    return NULL;
}

/* torch's range for `name` (range_constraints; max_val null or past int32:
 * unbounded), then --dim's within it. The batch starts at 1 whatever torch
 * says: its 0/1 specialisation is about tracing, and a micro-batch may be 1. */
static pp_code sym_range(pt2_ctx *x, const char *name, int batch, int64_t *lo, int64_t *hi) {
    const cJSON *r = item(x->ranges, name), *mn = r ? item(r, "min_val") : NULL, *mx = r ? item(r, "max_val") : NULL;
    *lo = cJSON_IsNumber(mn) && mn->valuedouble > 0 ? (int64_t)mn->valuedouble : 0;
    *hi =
        cJSON_IsNumber(mx) && mx->valuedouble < (double)PP_SYM_UNBOUNDED ? (int64_t)mx->valuedouble : PP_SYM_UNBOUNDED;
    if (batch) *lo = 1;
    const pp_onnx_dim *o = dim_option(x, name, batch);
    if (!o) return PP_OK;
    int64_t olo = o->value, ohi = o->max >= o->value ? o->max : o->value;
    if (olo < *lo || ohi > *hi)
        return pp_error_set(x->err, PP_ERR_INVALID_ARG,
                            "--dim %s=%" PRId64 "..%" PRId64 ": outside the range %" PRId64 "..%" PRId64
                            " torch.export gives '%s'",
                            o->name, olo, ohi, *lo, *hi, name);
    *lo = olo;
    *hi = ohi;
    return PP_OK;
}

/* Archive symbol `name` (a user input's extent) as an IR symbol, or a constant
 * when --dim binds it to one value. */
static pp_code add_sym(pt2_ctx *x, const char *name) {
    if (find_sym(x, name)) return PP_OK;
    if (x->n_syms == PT2_MAX_SYMS)
        return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "symbol '%s': the user inputs have more than %d symbols", name,
                            PT2_MAX_SYMS);
    int batch = is_batch_name(x, name);
    pt2_sym *s = &x->syms[x->n_syms];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->ir = -1;
    pp_symtab *t = &x->g->sym;
    pt2_sym *first = NULL;
    for (int i = 0; batch && i < x->n_syms && !first; i++)
        if (is_batch_name(x, x->syms[i].name)) first = &x->syms[i];
    if (first) { /* every leading extent is the one batch */
        s->ir = first->ir;
        s->value = first->value;
        x->n_syms++;
        return PP_OK;
    }
    int64_t lo, hi;
    pp_code rc = sym_range(x, name, batch, &lo, &hi);
    if (rc) return rc;
    if (lo == hi) s->value = lo;
    else if ((s->ir = pp_symtab_add(t, batch ? "batch" : name, lo, hi, batch, x->err)) < 0) return x->err->code;
    x->n_syms++;
    return PP_OK;
}

/* Every --dim must name a symbol: a misspelt one would be ignored otherwise. */
static pp_code check_dim_options(pt2_ctx *x) {
    for (int k = 0; k < x->n_dims; k++) {
        const char *o = x->dims[k].name ? x->dims[k].name : "";
        int found = !strcmp(o, "batch") && x->n_batch_syms > 0;
        for (int i = 0; i < x->n_syms && !found; i++) found = !strcmp(x->syms[i].name, o);
        if (found) continue;
        char list[200] = "";
        size_t at = 0;
        for (int i = 0; i < x->n_syms && at < sizeof list; i++)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", i ? ", " : "",
                                   is_batch_name(x, x->syms[i].name) ? "batch" : x->syms[i].name);
        return pp_error_set(x->err, PP_ERR_INVALID_ARG,
                            "--dim %.60s: no user input of the archive has the symbolic extent '%.60s' (%s%s)", o, o,
                            x->n_syms ? "its symbols: " : "it has none", list);
    }
    return PP_OK;
}

pp_code pt2_symbols_init(pt2_ctx *x, const cJSON *input_specs) {
    const cJSON *spec;
    /* The leading extents first: they are the batch wherever they appear. */
    for (int pass = 0; pass < 2; pass++) {
        cJSON_ArrayForEach(spec, input_specs) {
            const cJSON *u = item(spec, "user_input"), *t = u ? item(item(u, "arg"), "as_tensor") : NULL;
            const cJSON *nm = t ? item(t, "name") : NULL;
            if (!cJSON_IsString(nm)) continue;
            const cJSON *m = item(x->tensor_values, nm->valuestring);
            int rank = cJSON_GetArraySize(m ? item(m, "sizes") : NULL);
            for (int d = 0; d < (pass ? rank : rank > 0); d++) {
                const char *e = size_expr(x, nm->valuestring, d);
                char sym[64];
                if (!e || !bare_symbol(e, sym, sizeof sym)) continue;
                if (!pass && !is_batch_name(x, sym) && x->n_batch_syms < PT2_MAX_SYMS)
                    snprintf(x->batch_syms[x->n_batch_syms++], sizeof x->batch_syms[0], "%s", sym);
                if (pass) {
                    pp_code rc = add_sym(x, sym);
                    if (rc) return rc;
                }
            }
        }
    }
    return check_dim_options(x);
}

/* ---- expressions ---------------------------------------------------------------------- */

typedef struct sx_parser {
    pt2_ctx *x;
    const char *s, *full, *what;
    pp_code rc;
    int depth; /* nesting, bounded: the string comes from the archive */
} sx_parser;

#define PT2_EXPR_DEPTH 64

static void skip_ws(sx_parser *p) {
    while (*p->s == ' ') p->s++;
}

static int bad(sx_parser *p, const char *why) {
    if (!p->rc)
        p->rc = pp_error_set(p->x->err, PP_ERR_UNSUPPORTED, "%s: the symbolic size '%.160s' %s", p->what, p->full, why);
    return 0;
}

static int emit(sx_parser *p, pp_shape_op op, pp_sx a, pp_sx b, pp_sx *out) {
    pp_code rc = pp_symtab_emit(&p->x->g->sym, op, a, b, pp_sx_const(0), out, p->x->err);
    if (rc && !p->rc) {
        pp_error_prefix(p->x->err, "%s: the symbolic size '%.160s'", p->what, p->full);
        p->rc = rc;
    }
    return !rc;
}

/* Python's a // b: truncation where both are known not negative, else
 * (a - a % b) / b, exact, with MOD taking b's sign as Python's % does. */
static int floor_div(sx_parser *p, pp_sx a, pp_sx b, pp_sx *out) {
    int64_t alo, ahi, blo, bhi;
    pp_symtab_range(&p->x->g->sym, a, &alo, &ahi);
    pp_symtab_range(&p->x->g->sym, b, &blo, &bhi);
    if (alo >= 0 && blo > 0) return emit(p, PP_SHAPE_DIV, a, b, out);
    pp_sx m, d;
    return emit(p, PP_SHAPE_MOD, a, b, &m) && emit(p, PP_SHAPE_SUB, a, m, &d) && emit(p, PP_SHAPE_DIV, d, b, out);
}

static int power(sx_parser *p, pp_sx a, pp_sx e, pp_sx *out) {
    if (e.slot >= 0 || e.v < 0 || e.v > 16) return bad(p, "raises to a power other than a constant 0..16");
    *out = pp_sx_const(1);
    for (int64_t i = 0; i < e.v; i++)
        if (!emit(p, PP_SHAPE_MUL, *out, a, out)) return 0;
    return 1;
}

static int parse_sum(sx_parser *p, pp_sx *out);

static int lookup(sx_parser *p, const char *name, size_t len, pp_sx *out) {
    char nm[64];
    snprintf(nm, sizeof nm, "%.*s", (int)(len < 63 ? len : 63), name);
    const pt2_sym *s = find_sym(p->x, nm);
    if (!s) {
        char why[200];
        snprintf(why, sizeof why,
                 "uses '%s', which is no user input's extent (sizes computed from data are not supported)", nm);
        return bad(p, why);
    }
    if (s->ir < 0) return *out = pp_sx_const(s->value), 1;
    pp_code rc = pp_symtab_symbol(&p->x->g->sym, s->ir, out, p->x->err);
    if (rc) p->rc = rc;
    return !rc;
}

/* Symbol('s27', positive=True, integer=True): after "Symbol(". */
static int symbol_call(sx_parser *p, pp_sx *out) {
    skip_ws(p);
    if (*p->s != '\'') return bad(p, "is not understood");
    const char *nm = ++p->s;
    while (*p->s && *p->s != '\'') p->s++;
    if (!*p->s || !lookup(p, nm, (size_t)(p->s - nm), out)) return *p->s ? 0 : bad(p, "is not understood");
    while (*p->s && *p->s != ')') p->s++;
    if (!*p->s) return bad(p, "is not understood");
    p->s++;
    return 1;
}

/* The calls sympy's srepr writes, after "NAME(": folded over their arguments. */
static int call(sx_parser *p, const char *fn, size_t len, pp_sx *out) {
    static const struct {
        const char *name;
        pp_shape_op op; /* 0: special */
        int nary;
    } fns[] = {{"Integer", 0, 0},        {"Add", PP_SHAPE_ADD, 1}, {"Mul", PP_SHAPE_MUL, 1},
               {"Max", PP_SHAPE_MAX, 1}, {"Min", PP_SHAPE_MIN, 1}, {"Pow", 0, 0},
               {"FloorDiv", 0, 0},       {"Mod", PP_SHAPE_MOD, 0}, {"PythonMod", PP_SHAPE_MOD, 0}};
    if (len == 6 && !strncmp(fn, "Symbol", 6)) return symbol_call(p, out);
    size_t k = 0;
    while (k < sizeof fns / sizeof fns[0] && (strlen(fns[k].name) != len || strncmp(fns[k].name, fn, len))) k++;
    if (k == sizeof fns / sizeof fns[0]) {
        char why[160];
        snprintf(why, sizeof why,
                 "uses %.*s, which the converter does not evaluate (it takes +, -, *, //, %%, **, Max and Min)",
                 (int)(len < 40 ? len : 40), fn);
        return bad(p, why);
    }
    pp_sx args[16];
    int n = 0;
    for (;;) {
        skip_ws(p);
        if (*p->s == ')' && n) break;
        if (n && *p->s++ != ',') return bad(p, "is not understood");
        if (n == 16) return bad(p, "has a call with more than 16 arguments");
        if (!parse_sum(p, &args[n++])) return 0;
    }
    p->s++;
    int want = !strcmp(fns[k].name, "Integer") ? 1 : fns[k].nary ? n : 2;
    if (n != want || (fns[k].nary && n < 2 && strcmp(fns[k].name, "Add") && strcmp(fns[k].name, "Mul")))
        return bad(p, "has a call with the wrong number of arguments");
    *out = args[0];
    if (!strcmp(fns[k].name, "Pow")) return power(p, args[0], args[1], out);
    if (!strcmp(fns[k].name, "FloorDiv")) return floor_div(p, args[0], args[1], out);
    for (int i = 1; i < n; i++)
        if (!emit(p, fns[k].op, *out, args[i], out)) return 0;
    return 1;
}

static int parse_atom(sx_parser *p, pp_sx *out) {
    skip_ws(p);
    const char *s = p->s;
    if (isdigit((unsigned char)*s)) {
        char *e;
        long long v = strtoll(s, &e, 10);
        p->s = e;
        *out = pp_sx_const(v);
        return 1;
    }
    if (*s == '(') {
        p->s++;
        if (!parse_sum(p, out)) return 0;
        skip_ws(p);
        if (*p->s != ')') return bad(p, "is not understood");
        p->s++;
        return 1;
    }
    size_t len = 0;
    while (isalnum((unsigned char)s[len]) || s[len] == '_') len++;
    if (!len || isdigit((unsigned char)s[0])) return bad(p, "is not understood");
    p->s = s + len;
    if (*p->s != '(') return lookup(p, s, len, out);
    p->s++;
    return call(p, s, len, out);
}

static int parse_unary(sx_parser *p, pp_sx *out) {
    skip_ws(p);
    if (p->depth > PT2_EXPR_DEPTH) return bad(p, "nests deeper than the converter reads");
    if (*p->s == '-') {
        p->s++;
        pp_sx v;
        p->depth++;
        int ok = parse_unary(p, &v);
        p->depth--;
        return ok && emit(p, PP_SHAPE_SUB, pp_sx_const(0), v, out);
    }
    if (!parse_atom(p, out)) return 0;
    skip_ws(p);
    if (p->s[0] != '*' || p->s[1] != '*') return 1;
    p->s += 2;
    pp_sx e;
    p->depth++;
    int ok = parse_unary(p, &e);
    p->depth--;
    return ok && power(p, *out, e, out);
}

static int parse_product(sx_parser *p, pp_sx *out) {
    if (!parse_unary(p, out)) return 0;
    for (;;) {
        skip_ws(p);
        char c = *p->s;
        int floor = c == '/' && p->s[1] == '/';
        if (c == '/' && !floor) return bad(p, "divides without flooring (a size must be an integer)");
        if (c != '*' && c != '%' && !floor) return 1;
        p->s += floor ? 2 : 1;
        pp_sx b;
        if (!parse_unary(p, &b)) return 0;
        int ok = floor      ? floor_div(p, *out, b, out)
                 : c == '%' ? emit(p, PP_SHAPE_MOD, *out, b, out)
                            : emit(p, PP_SHAPE_MUL, *out, b, out);
        if (!ok) return 0;
    }
}

static int parse_terms(sx_parser *p, pp_sx *out) {
    if (!parse_product(p, out)) return 0;
    for (;;) {
        skip_ws(p);
        char c = *p->s;
        if (c != '+' && c != '-') return 1;
        p->s++;
        pp_sx b;
        if (!parse_product(p, &b) || !emit(p, c == '+' ? PP_SHAPE_ADD : PP_SHAPE_SUB, *out, b, out)) return 0;
    }
}

/* Every nesting (parentheses, calls, unary minus, exponents) comes through here. */
static int parse_sum(sx_parser *p, pp_sx *out) {
    p->depth++;
    int ok = parse_terms(p, out);
    p->depth--;
    return ok;
}

pp_code pt2_expr(pt2_ctx *x, const char *expr, const char *what, pp_sx *out) {
    sx_parser p = {x, expr, expr, what, PP_OK, 0};
    if (!parse_sum(&p, out)) return p.rc ? p.rc : PP_ERR_UNSUPPORTED;
    skip_ws(&p);
    if (*p.s) {
        bad(&p, "is not understood");
        return p.rc;
    }
    return PP_OK;
}

/* A JSON number as an integer: torch writes sys.maxsize (2^63 - 1) for open
 * slice ends, which a double rounds up past INT64_MAX. */
int64_t pt2_json_i64(double d) {
    if (d >= 9.2e18) return INT64_MAX;
    if (d <= -9.2e18) return INT64_MIN;
    return (int64_t)d;
}

/* A SymInt ({"as_int": n} or {"as_expr": {"expr_str": ...}}). */
static pp_code sym_int(pt2_ctx *x, const cJSON *s, const char *what, pp_sx *out) {
    const cJSON *i = item(s, "as_int");
    if (cJSON_IsNumber(i)) return *out = pp_sx_const(pt2_json_i64(i->valuedouble)), PP_OK;
    const cJSON *e = item(s, "as_expr"), *str = e ? item(e, "expr_str") : NULL;
    if (!cJSON_IsString(str))
        return pp_error_set(x->err, PP_ERR_FORMAT, "%s: a size is neither an integer nor an expression", what);
    return pt2_expr(x, str->valuestring, what, out);
}

pp_code pt2_sym_name(pt2_ctx *x, const char *name, pp_sx *out) {
    const cJSON *s = item(x->sym_int_values, name);
    if (!s)
        return pp_error_set(x->err, PP_ERR_FORMAT, "symbolic integer '%.100s' has no value in sym_int_values", name);
    char what[160];
    snprintf(what, sizeof what, "symbolic integer '%.100s'", name);
    return sym_int(x, s, what, out);
}

/* ---- dims ------------------------------------------------------------------------------- */

/* k when v is k × batch (k > 0), else 0. */
static int64_t batch_multiple(const pp_symtab *t, pp_sx v) {
    if (v.slot < 0 || t->batch < 0) return 0;
    const pp_fmt_shape_inst *in = &t->prog[v.slot];
    if (in->op == PP_SHAPE_SYM) return in->a == t->batch ? 1 : 0;
    if (in->op != PP_SHAPE_MUL || (in->imm & 3) == 0 || (in->imm & 3) == 3) return 0;
    int64_t k = in->imm & 1 ? in->a : in->b, s = in->imm & 1 ? in->b : in->a;
    const pp_fmt_shape_inst *is = &t->prog[s];
    return k > 0 && is->op == PP_SHAPE_SYM && is->a == t->batch ? k : 0;
}

pp_code pt2_dim_of(pt2_ctx *x, pp_sx v, const char *what, int64_t *dim) {
    if (v.slot < 0) {
        if (v.v < 0) return pp_error_set(x->err, PP_ERR_FORMAT, "%s: a negative extent (%" PRId64 ")", what, v.v);
        return *dim = v.v, PP_OK;
    }
    int64_t k = batch_multiple(&x->g->sym, v);
    *dim = k ? -k : pp_dim_of_slot(v.slot);
    return PP_OK;
}

int pt2_dim_is_symbol(const pt2_ctx *x, int64_t dim) {
    if (dim >= 0 || dim == PP_DIM_BATCH) return 1;
    if (!pp_dim_is_slot(dim)) return 0;
    return x->g->sym.prog[pp_dim_slot(dim)].op == PP_SHAPE_SYM;
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
    const cJSON *m = item(x->tensor_values, name);
    const cJSON *sizes = m ? item(m, "sizes") : NULL, *dtype = m ? item(m, "dtype") : NULL;
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
        pp_sx v;
        snprintf(what, sizeof what, "tensor '%.100s' axis %d", name, d);
        pp_code rc = sym_int(x, it, what, &v);
        if (!rc) rc = pt2_dim_of(x, v, what, &dims[d++]);
        if (rc) return rc;
    }
    return PP_OK;
}
#endif

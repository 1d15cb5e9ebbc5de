/* symbols.c: symbols, the shape program, its evaluation and bounds (symbols.h). */
#include "symbols.h"
#include "../loader/checked.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const op_names[PP_SHAPE_OP_MAX + 1] = {"?",   "SYM", "ADD", "SUB", "MUL", "DIV",  "MOD",
                                                          "MIN", "MAX", "EQ",  "LT",  "LE",  "WHERE"};

/* Operands each op reads: 1 (SYM), 2, or 3 (WHERE). */
static int op_arity(int op) { return op == PP_SHAPE_SYM ? 1 : op == PP_SHAPE_WHERE ? 3 : 2; }

static int commutes(int op) {
    return op == PP_SHAPE_ADD || op == PP_SHAPE_MUL || op == PP_SHAPE_MIN || op == PP_SHAPE_MAX || op == PP_SHAPE_EQ;
}

void pp_symtab_init(pp_symtab *t) {
    memset(t, 0, sizeof *t);
    t->batch = -1;
}

void pp_symtab_free(pp_symtab *t) {
    if (!t) return;
    for (int i = 0; i < t->n_sym; i++) pp_free(t->sym[i].name);
    pp_free(t->prog);
    pp_symtab_init(t);
}

static char *dup_name(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = pp_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

pp_code pp_symtab_copy(pp_symtab *dst, const pp_symtab *src, pp_error *err) {
    pp_symtab t;
    pp_symtab_init(&t);
    t.batch = src->batch;
    for (int i = 0; i < src->n_sym; i++) {
        t.sym[i] = src->sym[i];
        t.sym[i].name = dup_name(src->sym[i].name);
        t.n_sym = i + 1;
        if (!t.sym[i].name) {
            pp_symtab_free(&t);
            return pp_error_nomem(err, "out of memory copying symbol '%s'", src->sym[i].name);
        }
    }
    if (src->n_prog) {
        t.prog = pp_malloc(sizeof(pp_fmt_shape_inst) * (size_t)src->n_prog);
        if (!t.prog) {
            pp_symtab_free(&t);
            return pp_error_nomem(err, "out of memory copying a shape program of %d values", src->n_prog);
        }
        memcpy(t.prog, src->prog, sizeof(pp_fmt_shape_inst) * (size_t)src->n_prog);
        t.n_prog = t.cap_prog = src->n_prog;
    }
    pp_symtab_free(dst);
    *dst = t;
    return PP_OK;
}

int pp_symtab_find(const pp_symtab *t, const char *name) {
    for (int i = 0; i < t->n_sym; i++)
        if (strcmp(t->sym[i].name, name) == 0) return i;
    return -1;
}

int pp_symtab_add(pp_symtab *t, const char *name, int64_t min, int64_t max, int is_batch, pp_error *err) {
    if (!name || !*name) return pp_error_set(err, PP_ERR_INVALID_ARG, "a symbol needs a name"), -1;
    if (pp_symtab_find(t, name) >= 0)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "symbol '%s' is defined twice", name), -1;
    if (t->n_sym == PP_MAX_SYMBOLS)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "symbol '%s': a graph has at most %d symbols", name,
                            PP_MAX_SYMBOLS),
               -1;
    if (is_batch && t->batch >= 0)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "symbol '%s': '%s' is the batch already", name,
                            t->sym[t->batch].name),
               -1;
    if (min < (is_batch ? 1 : 0) || max < min)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "symbol '%s': range %" PRId64 "..%" PRId64 " is empty%s", name,
                            min, max, is_batch && min < 1 ? " (a batch is at least 1)" : ""),
               -1;
    char *n = dup_name(name);
    if (!n) return pp_error_nomem(err, "out of memory for symbol '%s'", name), -1;
    t->sym[t->n_sym] = (pp_symbol){n, min, max};
    if (is_batch) t->batch = t->n_sym;
    return t->n_sym++;
}

int pp_symtab_ensure_batch(pp_symtab *t, pp_error *err) {
    if (t->batch >= 0) return t->batch;
    return pp_symtab_add(t, "N", 1, PP_SYM_UNBOUNDED, 1, err);
}

int pp_symtab_is_plain(const pp_symtab *t) {
    if (t->n_prog) return 0;
    if (t->n_sym == 0) return 1;
    return t->n_sym == 1 && t->batch == 0 && t->sym[0].min == 1 && t->sym[0].max == PP_SYM_UNBOUNDED;
}

/* ---- arithmetic -------------------------------------------------------------- */

/* One instruction on concrete operands. 0, or -1 (overflow) / -2 (zero divisor). */
static int apply(int op, int64_t a, int64_t b, int64_t c, int64_t *out) {
    switch (op) {
    case PP_SHAPE_ADD: return pp_add_i64(a, b, out) ? -1 : 0;
    case PP_SHAPE_SUB: return pp_sub_i64(a, b, out) ? -1 : 0;
    case PP_SHAPE_MUL: return pp_mul_i64(a, b, out) ? -1 : 0;
    case PP_SHAPE_DIV:
        if (b == 0) return -2;
        if (a == INT64_MIN && b == -1) return -1;
        *out = a / b;
        return 0;
    case PP_SHAPE_MOD:
        if (b == 0) return -2;
        if (b == -1) {
            *out = 0;
            return 0;
        }
        *out = a % b;
        if (*out != 0 && ((*out < 0) != (b < 0))) *out += b;
        return 0;
    case PP_SHAPE_MIN: *out = a < b ? a : b; return 0;
    case PP_SHAPE_MAX: *out = a > b ? a : b; return 0;
    case PP_SHAPE_EQ: *out = a == b; return 0;
    case PP_SHAPE_LT: *out = a < b; return 0;
    case PP_SHAPE_LE: *out = a <= b; return 0;
    case PP_SHAPE_WHERE: *out = a ? b : c; return 0;
    }
    return -1;
}

static pp_code apply_error(int r, int op, int64_t a, int64_t b, const char *where, pp_error *err) {
    if (r == -2)
        return pp_error_set(err, PP_ERR_SHAPE, "%s: shape arithmetic divides by zero (%" PRId64 " %s 0)", where, a,
                            op == PP_SHAPE_DIV ? "/" : "mod");
    return pp_error_set(err, PP_ERR_SHAPE, "%s: shape arithmetic overflows int64 (%s of %" PRId64 " and %" PRId64 ")",
                        where, op_names[op], a, b);
}

/* ---- emitting ------------------------------------------------------------------ */

static int same(pp_sx a, pp_sx b) { return a.slot == b.slot && (a.slot >= 0 || a.v == b.v); }

/* The instruction behind a slot, or NULL for a constant. */
static const pp_fmt_shape_inst *inst_of(const pp_symtab *t, pp_sx x) { return x.slot >= 0 ? &t->prog[x.slot] : NULL; }

/* Rewrites op(a, b, c) into a simpler equivalent where one is obvious. Returns 1
 * with *out when the result is an existing value or a constant. */
static int simplify(pp_symtab *t, int *op, pp_sx *a, pp_sx *b, pp_sx *c, pp_sx *out) {
    if (commutes(*op) && (a->slot < 0 || (b->slot >= 0 && b->slot < a->slot))) {
        pp_sx s = *a;
        *a = *b;
        *b = s;
    }
    int bc = b->slot < 0;
    switch (*op) {
    case PP_SHAPE_SUB:
        if (same(*a, *b)) return *out = pp_sx_const(0), 1;
        if (bc && b->v != INT64_MIN) { /* x - k is x + (-k) */
            *op = PP_SHAPE_ADD;
            b->v = -b->v;
            return simplify(t, op, a, b, c, out);
        }
        break;
    case PP_SHAPE_ADD: {
        if (bc && b->v == 0) return *out = *a, 1;
        const pp_fmt_shape_inst *ia = inst_of(t, *a);
        int64_t k;
        /* (x + k1) + k2 is x + (k1 + k2) */
        if (bc && ia && ia->op == PP_SHAPE_ADD && (ia->imm & 2) && !(ia->imm & 1) && !pp_add_i64(ia->b, b->v, &k)) {
            *a = pp_sx_slot((int32_t)ia->a);
            b->v = k;
            return simplify(t, op, a, b, c, out);
        }
        break;
    }
    case PP_SHAPE_MUL: {
        if (bc && b->v == 1) return *out = *a, 1;
        if (bc && b->v == 0) return *out = pp_sx_const(0), 1;
        const pp_fmt_shape_inst *ia = inst_of(t, *a);
        int64_t k;
        /* (x * k1) * k2 is x * (k1 * k2) */
        if (bc && ia && ia->op == PP_SHAPE_MUL && (ia->imm & 2) && !(ia->imm & 1) && !pp_mul_i64(ia->b, b->v, &k)) {
            *a = pp_sx_slot((int32_t)ia->a);
            b->v = k;
            return simplify(t, op, a, b, c, out);
        }
        break;
    }
    case PP_SHAPE_DIV: {
        if (bc && b->v == 1) return *out = *a, 1;
        const pp_fmt_shape_inst *ia = inst_of(t, *a);
        /* (x * k1) / k2 is x * (k1 / k2) when k2 divides k1: no remainder either way */
        if (bc && b->v != 0 && ia && ia->op == PP_SHAPE_MUL && (ia->imm & 2) && !(ia->imm & 1) && ia->b % b->v == 0 &&
            !(ia->b == INT64_MIN && b->v == -1)) {
            *op = PP_SHAPE_MUL;
            b->v = ia->b / b->v;
            *a = pp_sx_slot((int32_t)ia->a);
            return simplify(t, op, a, b, c, out);
        }
        break;
    }
    case PP_SHAPE_MIN:
    case PP_SHAPE_MAX:
        if (same(*a, *b)) return *out = *a, 1;
        break;
    case PP_SHAPE_EQ:
    case PP_SHAPE_LE:
        if (same(*a, *b)) return *out = pp_sx_const(1), 1;
        break;
    case PP_SHAPE_LT:
        if (same(*a, *b)) return *out = pp_sx_const(0), 1;
        break;
    case PP_SHAPE_WHERE:
        if (a->slot < 0) return *out = a->v ? *b : *c, 1;
        if (same(*b, *c)) return *out = *b, 1;
        break;
    }
    return 0;
}

static pp_code append(pp_symtab *t, const pp_fmt_shape_inst *in, pp_sx *out, pp_error *err) {
    /* An identical instruction already there is the same value. */
    for (int i = t->n_prog - 1; i >= 0; i--)
        if (memcmp(&t->prog[i], in, sizeof *in) == 0) return *out = pp_sx_slot(i), PP_OK;
    if (t->n_prog >= PP_MAX_SHAPE_INSTS)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "the shape program exceeds %d instructions", PP_MAX_SHAPE_INSTS);
    if (t->n_prog == t->cap_prog) {
        int nc = t->cap_prog ? t->cap_prog * 2 : 32;
        pp_fmt_shape_inst *p = pp_realloc(t->prog, sizeof *p * (size_t)nc);
        if (!p) return pp_error_nomem(err, "out of memory for a shape program of %d instructions", nc);
        t->prog = p;
        t->cap_prog = nc;
    }
    t->prog[t->n_prog] = *in;
    *out = pp_sx_slot(t->n_prog++);
    return PP_OK;
}

pp_code pp_symtab_emit(pp_symtab *t, pp_shape_op op, pp_sx a, pp_sx b, pp_sx c, pp_sx *out, pp_error *err) {
    int o = (int)op, n = op_arity(o);
    if (o < PP_SHAPE_ADD || o > PP_SHAPE_OP_MAX)
        return pp_error_set(err, PP_ERR_INTERNAL, "shape program: emitting op %d", o);
    if (n < 3) c = pp_sx_const(0);
    if (a.slot < 0 && b.slot < 0 && c.slot < 0) {
        int64_t v = 0;
        int r = apply(o, a.v, b.v, c.v, &v);
        if (r) return apply_error(r, o, a.v, b.v, "converting", err);
        *out = pp_sx_const(v);
        return PP_OK;
    }
    if (simplify(t, &o, &a, &b, &c, out)) return PP_OK;
    pp_fmt_shape_inst in;
    memset(&in, 0, sizeof in);
    in.op = (uint8_t)o;
    const pp_sx ops[3] = {a, b, c};
    int64_t *dst[3] = {&in.a, &in.b, &in.c};
    for (int k = 0; k < n; k++) {
        if (ops[k].slot >= 0) *dst[k] = ops[k].slot;
        else {
            *dst[k] = ops[k].v;
            in.imm |= (uint8_t)(1u << k);
        }
    }
    return append(t, &in, out, err);
}

void pp_symtab_prune(pp_symtab *t, char *used, int32_t *remap) {
    for (int i = t->n_prog - 1; i >= 0; i--) {
        if (!used[i]) continue;
        const pp_fmt_shape_inst *in = &t->prog[i];
        const int64_t v[3] = {in->a, in->b, in->c};
        for (int k = 0; k < op_arity(in->op); k++)
            if (!((in->imm >> k) & 1)) used[v[k]] = 1;
    }
    int w = 0;
    for (int i = 0; i < t->n_prog; i++) {
        if (!used[i]) {
            remap[i] = -1;
            continue;
        }
        pp_fmt_shape_inst in = t->prog[i];
        int64_t *v[3] = {&in.a, &in.b, &in.c};
        for (int k = 0; k < op_arity(in.op); k++)
            if (!((in.imm >> k) & 1)) *v[k] = remap[*v[k]];
        t->prog[w] = in;
        remap[i] = w++;
    }
    t->n_prog = w;
}

pp_code pp_symtab_symbol(pp_symtab *t, int s, pp_sx *out, pp_error *err) {
    if (s < 0 || s >= t->n_sym) return pp_error_set(err, PP_ERR_INTERNAL, "shape program: no symbol %d", s);
    pp_fmt_shape_inst in;
    memset(&in, 0, sizeof in);
    in.op = PP_SHAPE_SYM;
    in.imm = 1;
    in.a = s;
    return append(t, &in, out, err);
}

pp_code pp_symtab_dim(pp_symtab *t, int64_t dim, pp_sx *out, pp_error *err) {
    if (dim >= 0) return *out = pp_sx_const(dim), PP_OK;
    if (pp_dim_is_slot(dim)) {
        int64_t s = pp_dim_slot(dim);
        if (s >= t->n_prog)
            return pp_error_set(err, PP_ERR_INTERNAL, "a dimension names shape value %" PRId64 " of %d", s, t->n_prog);
        return *out = pp_sx_slot((int32_t)s), PP_OK;
    }
    int b = pp_symtab_ensure_batch(t, err);
    if (b < 0) return err ? err->code : PP_ERR_UNSUPPORTED;
    pp_sx n;
    pp_code rc = pp_symtab_symbol(t, b, &n, err);
    if (!rc) rc = pp_symtab_emit(t, PP_SHAPE_MUL, n, pp_sx_const(-dim), pp_sx_const(0), out, err);
    return rc;
}

/* ---- evaluation and bounds ---------------------------------------------------------- */

static int64_t operand(const pp_fmt_shape_inst *in, int k, const int64_t *slot) {
    int64_t v = k == 0 ? in->a : k == 1 ? in->b : in->c;
    return (in->imm >> k) & 1 ? v : slot[v];
}

pp_code pp_symtab_eval(const pp_symtab *t, const int64_t *sym, int64_t *slot, int from, pp_error *err) {
    for (int i = from; i < t->n_prog; i++) {
        const pp_fmt_shape_inst *in = &t->prog[i];
        if (in->op == PP_SHAPE_SYM) {
            slot[i] = sym[in->a];
            continue;
        }
        int64_t a = operand(in, 0, slot), b = operand(in, 1, slot), c = op_arity(in->op) > 2 ? operand(in, 2, slot) : 0;
        int r = apply(in->op, a, b, c, &slot[i]);
        if (r) {
            char where[160], eb[96];
            snprintf(where, sizeof where, "shape value %d (%s)", i, pp_symtab_slot_str(t, i, eb, sizeof eb));
            return apply_error(r, in->op, a, b, where, err);
        }
    }
    return PP_OK;
}

static int64_t sat_add(int64_t a, int64_t b) {
    int64_t r;
    if (!pp_add_i64(a, b, &r)) return r;
    return a > 0 ? INT64_MAX : INT64_MIN;
}

static int64_t sat_mul(int64_t a, int64_t b) {
    int64_t r;
    if (!pp_mul_i64(a, b, &r)) return r;
    return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
}

static void span4(int64_t p, int64_t q, int64_t r, int64_t s, int64_t *lo, int64_t *hi) {
    *lo = p < q ? p : q;
    if (r < *lo) *lo = r;
    if (s < *lo) *lo = s;
    *hi = p > q ? p : q;
    if (r > *hi) *hi = r;
    if (s > *hi) *hi = s;
}

/* [alo, ahi] op [blo, bhi] (and c for WHERE). Sound, not always tight. */
static void bound(int op, int64_t alo, int64_t ahi, int64_t blo, int64_t bhi, int64_t clo, int64_t chi, int64_t *lo,
                  int64_t *hi) {
    switch (op) {
    case PP_SHAPE_ADD: *lo = sat_add(alo, blo), *hi = sat_add(ahi, bhi); return;
    case PP_SHAPE_SUB:
        *lo = sat_add(alo, bhi == INT64_MIN ? INT64_MAX : -bhi);
        *hi = sat_add(ahi, blo == INT64_MIN ? INT64_MAX : -blo);
        return;
    case PP_SHAPE_MUL:
        span4(sat_mul(alo, blo), sat_mul(alo, bhi), sat_mul(ahi, blo), sat_mul(ahi, bhi), lo, hi);
        return;
    case PP_SHAPE_DIV:
        if (blo <= 0 && bhi >= 0) break; /* the divisor may be zero (or any sign): no bound */
        span4(alo / blo, alo / bhi, ahi / blo, ahi / bhi, lo, hi);
        return;
    case PP_SHAPE_MOD:
        if (blo > 0) {
            *lo = alo >= 0 ? 0 : 0;
            *hi = bhi - 1;
            if (alo >= 0 && ahi < *hi) *hi = ahi;
            return;
        }
        break;
    case PP_SHAPE_MIN: *lo = alo < blo ? alo : blo, *hi = ahi < bhi ? ahi : bhi; return;
    case PP_SHAPE_MAX: *lo = alo > blo ? alo : blo, *hi = ahi > bhi ? ahi : bhi; return;
    case PP_SHAPE_EQ:
        *lo = alo == ahi && blo == bhi && alo == blo;
        *hi = !(ahi < blo || bhi < alo);
        return;
    case PP_SHAPE_LT: *lo = ahi < blo, *hi = alo < bhi; return;
    case PP_SHAPE_LE: *lo = ahi <= blo, *hi = alo <= bhi; return;
    case PP_SHAPE_WHERE:
        if (alo == 0 && ahi == 0) *lo = clo, *hi = chi;
        else if (alo > 0 || ahi < 0) *lo = blo, *hi = bhi;
        else *lo = blo < clo ? blo : clo, *hi = bhi > chi ? bhi : chi;
        return;
    }
    *lo = INT64_MIN;
    *hi = INT64_MAX;
}

void pp_symtab_bounds(const pp_symtab *t, const int64_t *lo, const int64_t *hi, int64_t *slot_lo, int64_t *slot_hi) {
    for (int i = 0; i < t->n_prog; i++) {
        const pp_fmt_shape_inst *in = &t->prog[i];
        if (in->op == PP_SHAPE_SYM) {
            slot_lo[i] = lo[in->a];
            slot_hi[i] = hi[in->a];
            continue;
        }
        int64_t l[3], h[3];
        for (int k = 0; k < 3; k++) {
            l[k] = operand(in, k, slot_lo);
            h[k] = operand(in, k, slot_hi);
        }
        bound(in->op, l[0], h[0], l[1], h[1], l[2], h[2], &slot_lo[i], &slot_hi[i]);
    }
}

void pp_symtab_range(const pp_symtab *t, pp_sx x, int64_t *lo, int64_t *hi) {
    if (x.slot < 0 || x.slot >= t->n_prog) {
        *lo = *hi = x.v;
        if (x.slot >= 0) *lo = INT64_MIN, *hi = INT64_MAX;
        return;
    }
    /* Small programs: a scratch pair on the stack, else the heap. */
    int64_t st[2][256], *sl = st[0], *sh = st[1], *heap = NULL;
    if (t->n_prog > 256) {
        heap = pp_malloc(sizeof(int64_t) * 2 * (size_t)t->n_prog);
        if (!heap) {
            *lo = INT64_MIN, *hi = INT64_MAX;
            return;
        }
        sl = heap;
        sh = heap + t->n_prog;
    }
    int64_t slo[PP_MAX_SYMBOLS], shi[PP_MAX_SYMBOLS];
    for (int i = 0; i < t->n_sym; i++) slo[i] = t->sym[i].min, shi[i] = t->sym[i].max;
    pp_symtab_bounds(t, slo, shi, sl, sh);
    *lo = sl[x.slot];
    *hi = sh[x.slot];
    pp_free(heap);
}

/* ---- text --------------------------------------------------------------------------------- */

typedef struct sbuf {
    char *b;
    size_t n, o;
} sbuf;

__attribute__((format(printf, 2, 3))) static void put(sbuf *s, const char *fmt, ...) {
    if (s->o >= s->n) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(s->b + s->o, s->n - s->o, fmt, ap);
    va_end(ap);
    if (w > 0) s->o += (size_t)w;
    if (s->o >= s->n) s->o = s->n - 1;
}

static void expr(const pp_symtab *t, sbuf *s, const pp_fmt_shape_inst *in, int k, int depth, int prec);

/* Precedence: 1 sum, 2 product, 3 atom. */
static int prec_of(int op) { return op == PP_SHAPE_ADD || op == PP_SHAPE_SUB ? 1 : op == PP_SHAPE_MUL ? 2 : 3; }

static void slot_expr(const pp_symtab *t, sbuf *s, int32_t slot, int depth, int prec) {
    if (slot < 0 || slot >= t->n_prog) {
        put(s, "?");
        return;
    }
    const pp_fmt_shape_inst *in = &t->prog[slot];
    if (depth > 6) {
        put(s, "v%d", slot);
        return;
    }
    if (in->op == PP_SHAPE_SYM) {
        put(s, "%s", in->a >= 0 && in->a < t->n_sym ? t->sym[in->a].name : "?");
        return;
    }
    int p = prec_of(in->op), paren = p < prec;
    if (paren) put(s, "(");
    switch (in->op) {
    case PP_SHAPE_ADD:
        expr(t, s, in, 0, depth, 1);
        if ((in->imm & 2) && in->b < 0) put(s, "-%" PRIu64, (uint64_t)0 - (uint64_t)in->b);
        else put(s, "+"), expr(t, s, in, 1, depth, 1);
        break;
    case PP_SHAPE_SUB: expr(t, s, in, 0, depth, 1), put(s, "-"), expr(t, s, in, 1, depth, 2); break;
    case PP_SHAPE_MUL:
        if (in->imm & 2) expr(t, s, in, 1, depth, 2), put(s, "*"), expr(t, s, in, 0, depth, 2);
        else expr(t, s, in, 0, depth, 2), put(s, "*"), expr(t, s, in, 1, depth, 2);
        break;
    case PP_SHAPE_DIV: expr(t, s, in, 0, depth, 3), put(s, "/"), expr(t, s, in, 1, depth, 3); break;
    case PP_SHAPE_MOD: expr(t, s, in, 0, depth, 3), put(s, "%%"), expr(t, s, in, 1, depth, 3); break;
    case PP_SHAPE_WHERE:
        put(s, "where(");
        expr(t, s, in, 0, depth, 0), put(s, ", "), expr(t, s, in, 1, depth, 0), put(s, ", ");
        expr(t, s, in, 2, depth, 0), put(s, ")");
        break;
    default:
        put(s, "%s(",
            in->op == PP_SHAPE_MIN   ? "min"
            : in->op == PP_SHAPE_MAX ? "max"
            : in->op == PP_SHAPE_EQ  ? "eq"
            : in->op == PP_SHAPE_LT  ? "lt"
                                     : "le");
        expr(t, s, in, 0, depth, 0), put(s, ", "), expr(t, s, in, 1, depth, 0), put(s, ")");
    }
    if (paren) put(s, ")");
}

static void expr(const pp_symtab *t, sbuf *s, const pp_fmt_shape_inst *in, int k, int depth, int prec) {
    int64_t v = k == 0 ? in->a : k == 1 ? in->b : in->c;
    if ((in->imm >> k) & 1) put(s, "%" PRId64, v);
    else slot_expr(t, s, (int32_t)v, depth + 1, prec);
}

const char *pp_symtab_slot_str(const pp_symtab *t, int32_t slot, char *buf, size_t size) {
    if (!size) return buf;
    sbuf s = {buf, size, 0};
    buf[0] = 0;
    slot_expr(t, &s, slot, 0, 0);
    return buf;
}

const char *pp_symtab_dim_str(const pp_symtab *t, int64_t dim, char *buf, size_t size) {
    if (dim >= 0) snprintf(buf, size, "%" PRId64, dim);
    else if (pp_dim_is_slot(dim)) {
        int64_t s = pp_dim_slot(dim);
        if (t && s < t->n_prog) pp_symtab_slot_str(t, (int32_t)s, buf, size);
        else snprintf(buf, size, "v%" PRId64, s);
    } else {
        const char *n = t && t->batch >= 0 ? t->sym[t->batch].name : "N";
        if (dim == -1) snprintf(buf, size, "%s", n);
        else snprintf(buf, size, "%" PRId64 "%s%s", -dim, strlen(n) > 1 ? "*" : "", n);
    }
    return buf;
}

const char *pp_symtab_values_str(const pp_symtab *t, const int64_t *sym, char *buf, size_t size) {
    sbuf s = {buf, size, 0};
    if (size) buf[0] = 0;
    for (int i = 0; i < t->n_sym; i++) put(&s, "%s%s=%" PRId64, i ? ", " : "", t->sym[i].name, sym[i]);
    return buf;
}

/* ---- ranges from the command line and options ---------------------------------------------- */

static int parse_i64(const char *s, size_t n, int64_t *out) {
    char buf[32];
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] < '0' || buf[i] > '9' || pp_mul_i64(v, 10, &v) || pp_add_i64(v, buf[i] - '0', &v)) return -1;
    }
    *out = v;
    return 0;
}

pp_code pp_dim_spec_parse(const char *item, size_t len, char *name, size_t n, int64_t *lo, int64_t *hi, pp_error *err) {
    const char *eq = memchr(item, '=', len);
    size_t nl = eq ? (size_t)(eq - item) : 0;
    if (!eq || nl == 0 || nl >= n)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "dim '%.*s': expected NAME=MIN..MAX or NAME=VALUE", (int)len,
                            item);
    memcpy(name, item, nl);
    name[nl] = 0;
    const char *v = eq + 1, *end = item + len, *dots = NULL;
    for (const char *c = v; c + 1 < end; c++)
        if (c[0] == '.' && c[1] == '.') {
            dots = c;
            break;
        }
    int bad = dots ? parse_i64(v, (size_t)(dots - v), lo) || parse_i64(dots + 2, (size_t)(end - dots - 2), hi)
                   : parse_i64(v, (size_t)(end - v), lo);
    if (!dots) *hi = *lo;
    if (bad)
        return pp_error_set(err, PP_ERR_INVALID_ARG,
                            "dim '%.*s': expected NAME=MIN..MAX or NAME=VALUE with non-negative integers", (int)len,
                            item);
    if (*lo < 1)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "dim '%.*s': %" PRId64 " is not a positive extent", (int)len, item,
                            *lo);
    if (*hi < *lo)
        return pp_error_set(err, PP_ERR_INVALID_ARG,
                            "dim '%.*s': the range is empty (max %" PRId64 " < min %" PRId64 ")", (int)len, item, *hi,
                            *lo);
    return PP_OK;
}

pp_code pp_symtab_narrow(const pp_symtab *t, const char *list, int64_t *lo, int64_t *hi, pp_error *err) {
    for (int i = 0; i < t->n_sym; i++) lo[i] = t->sym[i].min, hi[i] = t->sym[i].max;
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        char name[128];
        int64_t a, b;
        pp_code rc = len ? pp_dim_spec_parse(p, len, name, sizeof name, &a, &b, err) : PP_OK;
        if (rc) return rc;
        if (len) {
            int s = pp_symtab_find(t, name);
            if (s < 0 && strcmp(name, "batch") == 0) s = t->batch;
            if (s < 0) {
                char names[PP_MAX_SYMBOLS * 64] = "";
                size_t o = 0;
                for (int i = 0; i < t->n_sym && o < sizeof names; i++)
                    o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", i ? ", " : "", t->sym[i].name);
                return pp_error_set(err, PP_ERR_INVALID_ARG, "dim '%.*s': the graph has no symbol '%s' (%s%s)",
                                    (int)len, p, name, t->n_sym ? "it has " : "it has none", names);
            }
            if (a < t->sym[s].min || b > t->sym[s].max)
                return pp_error_set(err, PP_ERR_INVALID_ARG,
                                    "dim '%.*s': outside the range %" PRId64 "..%" PRId64 " the graph allows for '%s'",
                                    (int)len, p, t->sym[s].min, t->sym[s].max, t->sym[s].name);
            lo[s] = a;
            hi[s] = b;
        }
        p = c ? c + 1 : p + len;
    }
    return PP_OK;
}

/* ---- environments ------------------------------------------------------------------------- */

pp_code pp_dimenv_set(pp_dimenv *env, const pp_symtab *t, const int64_t *sym, pp_error *err) {
    for (int i = 0; i < PP_MAX_SYMBOLS; i++) env->sym[i] = i < t->n_sym ? sym[i] : 0;
    env->batch = t->batch >= 0 ? sym[t->batch] : 1;
    if (t->n_prog > env->n_slot) {
        int64_t *s = pp_realloc(env->slot, sizeof(int64_t) * (size_t)t->n_prog);
        if (!s) return pp_error_nomem(err, "out of memory for %d shape values", t->n_prog);
        env->slot = s;
        env->n_slot = t->n_prog;
    }
    return pp_symtab_eval(t, env->sym, env->slot, 0, err);
}

void pp_dimenv_free(pp_dimenv *env) {
    if (!env) return;
    pp_free(env->slot);
    env->slot = NULL;
    env->n_slot = 0;
}

int64_t pp_dim_value(int64_t d, const pp_dimenv *env) {
    if (d >= 0) return d;
    if (pp_dim_is_slot(d)) {
        int64_t s = pp_dim_slot(d);
        return env && s < env->n_slot ? env->slot[s] : INT64_MAX;
    }
    int64_t r, b = env ? env->batch : 1;
    /* Saturating: a file may hold absurd batch multiples, which the size check
     * in pp_op_describe then refuses. */
    if (pp_mul_i64(-d, b, &r)) return INT64_MAX;
    return r;
}

/* infer.c: shape inference over symbolic dimensions (graph.h: pp_graph_infer).
 *
 * describe functions compute shapes from concrete extents only. So each node is
 * described at a few sample points ("probes") of its graph's symbols, and every
 * output extent is fitted from the values it takes there: a constant; k × batch
 * (the format's first symbolic form); a value of the shape program that takes
 * the same values at every probe; or an integer polynomial of degree at most 2 in
 * the symbols without squares (c + Σ a_i s_i + Σ a_ij s_i s_j), read off a
 * two-level design and checked at two more points, then emitted into the
 * program. Anything else is refused, naming the node, the output and the axis.
 *
 * A fit is a claim about every point of the ranges made from a few of them; it is
 * never trusted for a run: the executor describes every node again at each run's
 * point and checks what it gets against these shapes (engine/exec_build.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../loader/checked.h"
#include "graph.h"
#include "ops.h"

typedef struct pp_probes pp_probes;

#define MAX_PROBES (1 + PP_MAX_SYMBOLS + PP_MAX_SYMBOLS * (PP_MAX_SYMBOLS - 1) / 2 + 2)

struct pp_probes {
    int n;                          /* probes */
    int n_sym;                      /* the graph's symbol count when these were made */
    int n_act, act[PP_MAX_SYMBOLS]; /* symbols whose range holds two values or more */
    int64_t base[PP_MAX_SYMBOLS];   /* per active symbol: its value at probe 0 */
    int64_t step[PP_MAX_SYMBOLS];   /* and at its own probe, minus that */
    int single[PP_MAX_SYMBOLS];     /* the probe where active symbol k alone moves */
    int pair[PP_MAX_SYMBOLS][PP_MAX_SYMBOLS];
    int64_t sym[MAX_PROBES][PP_MAX_SYMBOLS];
    int64_t *slot; /* [n][cap]: every program value at every probe */
    int n_eval, cap;
    pp_shape out[MAX_PROBES][PP_MAX_IO]; /* scratch: one node's outputs */
};

void pp_graph_forget_probes(pp_graph *g) {
    if (!g->probes) return;
    pp_free(g->probes->slot);
    pp_free(g->probes);
    g->probes = NULL;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Sample values of a symbol: v[0] the base, v[1] the step point, v[2] and v[3]
 * for checking. A batch starts at 1 and 2, as before symbols beyond it existed;
 * other symbols avoid 1, where broadcasting would hide which axis is which. */
static void sample(const pp_symbol *s, int is_batch, int64_t v[4]) {
    int64_t a = is_batch ? 1 : (s->min >= 2 ? s->min : 2);
    const int64_t want[4] = {a, a + 1, a + (is_batch ? 2 : 5), a + (is_batch ? 4 : 2)};
    for (int k = 0; k < 4; k++) v[k] = clamp(want[k], s->min, s->max);
    if (v[1] == v[0]) v[1] = v[0] + 1 <= s->max ? v[0] + 1 : v[0] - 1 >= s->min ? v[0] - 1 : v[0];
}

static pp_code probes_make(pp_graph *g, pp_error *err) {
    /* Graphs built in memory (importers, tests) write (-k) × batch dims without
     * naming a batch symbol: it is the implicit one. */
    for (int i = 0; i < g->n_tensors && g->sym.batch < 0; i++)
        for (int d = 0; d < g->tensors[i].rank; d++)
            if (g->tensors[i].dims[d] < 0 && !pp_dim_is_slot(g->tensors[i].dims[d])) {
                if (pp_symtab_ensure_batch(&g->sym, err) < 0) return err ? err->code : PP_ERR_UNSUPPORTED;
                break;
            }
    pp_probes *p = pp_calloc(1, sizeof *p);
    if (!p) return pp_error_nomem(err, "shape inference: out of memory");
    const pp_symtab *t = &g->sym;
    int64_t v[PP_MAX_SYMBOLS][4];
    p->n_sym = t->n_sym;
    for (int i = 0; i < t->n_sym; i++) {
        sample(&t->sym[i], i == t->batch, v[i]);
        if (v[i][1] != v[i][0]) {
            p->base[p->n_act] = v[i][0];
            p->step[p->n_act] = v[i][1] - v[i][0];
            p->act[p->n_act++] = i;
        }
    }
    for (int i = 0; i < t->n_sym; i++) p->sym[0][i] = v[i][0];
    p->n = 1;
    for (int k = 0; k < p->n_act; k++) {
        memcpy(p->sym[p->n], p->sym[0], sizeof p->sym[0]);
        p->sym[p->n][p->act[k]] = v[p->act[k]][1];
        p->single[k] = p->n++;
    }
    for (int k = 0; k < p->n_act; k++)
        for (int l = k + 1; l < p->n_act; l++) {
            memcpy(p->sym[p->n], p->sym[0], sizeof p->sym[0]);
            p->sym[p->n][p->act[k]] = v[p->act[k]][1];
            p->sym[p->n][p->act[l]] = v[p->act[l]][1];
            p->pair[k][l] = p->pair[l][k] = p->n++;
        }
    if (p->n_act) {
        memcpy(p->sym[p->n], p->sym[0], sizeof p->sym[0]);
        memcpy(p->sym[p->n + 1], p->sym[0], sizeof p->sym[0]);
        for (int k = 0; k < p->n_act; k++) {
            p->sym[p->n][p->act[k]] = v[p->act[k]][2];
            p->sym[p->n + 1][p->act[k]] = v[p->act[k]][k % 2 ? 2 : 3];
        }
        p->n += 2;
    }
    g->probes = p;
    return PP_OK;
}

/* Evaluates program values the probes have not seen yet. */
static pp_code probes_sync(pp_graph *g, pp_error *err) {
    if (g->probes && g->probes->n_sym != g->sym.n_sym) pp_graph_forget_probes(g);
    if (!g->probes) {
        pp_code rc = probes_make(g, err);
        if (rc) return rc;
    }
    pp_probes *p = g->probes;
    int n = g->sym.n_prog;
    if (n == p->n_eval) return PP_OK;
    if (n > p->cap) {
        int cap = p->cap ? p->cap : 64;
        while (cap < n) cap *= 2;
        int64_t *s = pp_calloc((size_t)cap * (size_t)p->n, sizeof(int64_t));
        if (!s) return pp_error_nomem(err, "shape inference: out of memory for %d shape values", cap);
        for (int q = 0; q < p->n; q++)
            if (p->n_eval)
                memcpy(s + (size_t)q * (size_t)cap, p->slot + (size_t)q * (size_t)p->cap,
                       sizeof(int64_t) * (size_t)p->n_eval);
        pp_free(p->slot);
        p->slot = s;
        p->cap = cap;
    }
    for (int q = 0; q < p->n; q++) {
        pp_code rc = pp_symtab_eval(&g->sym, p->sym[q], p->slot + (size_t)q * (size_t)p->cap, p->n_eval, err);
        if (rc) {
            char b[160];
            return pp_error_prefix(err, "with %s", pp_symtab_values_str(&g->sym, p->sym[q], b, sizeof b));
        }
    }
    p->n_eval = n;
    return PP_OK;
}

static void probe_env(const pp_graph *g, int q, pp_dimenv *env) {
    const pp_probes *p = g->probes;
    memcpy(env->sym, p->sym[q], sizeof env->sym);
    env->batch = g->sym.batch >= 0 ? p->sym[q][g->sym.batch] : 1;
    env->slot = p->slot ? p->slot + (size_t)q * (size_t)p->cap : NULL;
    env->n_slot = p->n_eval;
}

/* ---- fitting one extent -------------------------------------------------------- */

typedef struct poly {
    int64_t c;
    int64_t a[PP_MAX_SYMBOLS];                  /* per active symbol */
    int64_t ab[PP_MAX_SYMBOLS][PP_MAX_SYMBOLS]; /* k < l */
} poly;

#define CK(x)                                                                                                          \
    do {                                                                                                               \
        if (x) return 0;                                                                                               \
    } while (0)

/* The design's polynomial in u = s - base, checked at every probe; 0 when no
 * integer one fits. */
static int fit(const pp_probes *p, const int64_t *y, poly *f) {
    memset(f, 0, sizeof *f);
    f->c = y[0];
    for (int k = 0; k < p->n_act; k++) {
        int64_t d;
        CK(pp_sub_i64(y[p->single[k]], y[0], &d));
        if (d % p->step[k]) return 0;
        f->a[k] = d / p->step[k];
    }
    for (int k = 0; k < p->n_act; k++)
        for (int l = k + 1; l < p->n_act; l++) {
            int64_t d, ss;
            CK(pp_sub_i64(y[p->pair[k][l]], y[p->single[k]], &d));
            CK(pp_sub_i64(d, y[p->single[l]], &d));
            CK(pp_add_i64(d, y[0], &d));
            CK(pp_mul_i64(p->step[k], p->step[l], &ss));
            if (d % ss) return 0;
            f->ab[k][l] = d / ss;
        }
    for (int q = 0; q < p->n; q++) {
        int64_t v = f->c, u[PP_MAX_SYMBOLS], t;
        for (int k = 0; k < p->n_act; k++) {
            CK(pp_sub_i64(p->sym[q][p->act[k]], p->base[k], &u[k]));
            CK(pp_mul_i64(f->a[k], u[k], &t));
            CK(pp_add_i64(v, t, &v));
        }
        for (int k = 0; k < p->n_act; k++)
            for (int l = k + 1; l < p->n_act; l++) {
                CK(pp_mul_i64(f->ab[k][l], u[k], &t));
                CK(pp_mul_i64(t, u[l], &t));
                CK(pp_add_i64(v, t, &v));
            }
        if (v != y[q]) return 0;
    }
    return 1;
}

/* The same polynomial in the symbols themselves (u = s - base expanded). */
static int unshift(const pp_probes *p, const poly *f, poly *o) {
    *o = *f;
    for (int k = 0; k < p->n_act; k++) {
        int64_t t;
        CK(pp_mul_i64(f->a[k], p->base[k], &t));
        CK(pp_sub_i64(o->c, t, &o->c));
        for (int l = k + 1; l < p->n_act; l++) {
            int64_t b = f->ab[k][l];
            if (!b) continue;
            CK(pp_mul_i64(b, p->base[l], &t));
            CK(pp_sub_i64(o->a[k], t, &o->a[k]));
            CK(pp_mul_i64(b, p->base[k], &t));
            CK(pp_sub_i64(o->a[l], t, &o->a[l]));
            CK(pp_mul_i64(t, p->base[l], &t));
            CK(pp_add_i64(o->c, t, &o->c));
        }
    }
    return 1;
}

/* The polynomial as program values, terms first and the constant last, in one
 * fixed order so that the same polynomial is always the same slot. */
static pp_code emit_poly(pp_graph *g, const poly *f, pp_sx *out, pp_error *err) {
    const pp_probes *p = g->probes;
    pp_symtab *t = &g->sym;
    pp_sx acc = pp_sx_const(0), s, s2, term;
    pp_code rc = PP_OK;
    for (int k = 0; k < p->n_act && !rc; k++) {
        if (!f->a[k]) continue;
        rc = pp_symtab_symbol(t, p->act[k], &s, err);
        if (!rc) rc = pp_symtab_emit(t, PP_SHAPE_MUL, s, pp_sx_const(f->a[k]), pp_sx_const(0), &term, err);
        if (!rc) rc = pp_symtab_emit(t, PP_SHAPE_ADD, acc, term, pp_sx_const(0), &acc, err);
    }
    for (int k = 0; k < p->n_act && !rc; k++)
        for (int l = k + 1; l < p->n_act && !rc; l++) {
            if (!f->ab[k][l]) continue;
            rc = pp_symtab_symbol(t, p->act[k], &s, err);
            if (!rc) rc = pp_symtab_symbol(t, p->act[l], &s2, err);
            if (!rc) rc = pp_symtab_emit(t, PP_SHAPE_MUL, s, s2, pp_sx_const(0), &term, err);
            if (!rc) rc = pp_symtab_emit(t, PP_SHAPE_MUL, term, pp_sx_const(f->ab[k][l]), pp_sx_const(0), &term, err);
            if (!rc) rc = pp_symtab_emit(t, PP_SHAPE_ADD, acc, term, pp_sx_const(0), &acc, err);
        }
    if (!rc) rc = pp_symtab_emit(t, PP_SHAPE_ADD, acc, pp_sx_const(f->c), pp_sx_const(0), &acc, err);
    *out = acc;
    return rc;
}

/* The first program value equal to y at every probe, or -1. */
static int find_slot(const pp_probes *p, const int64_t *y) {
    for (int s = 0; s < p->n_eval; s++) {
        int q = 0;
        while (q < p->n && p->slot[(size_t)q * (size_t)p->cap + (size_t)s] == y[q]) q++;
        if (q == p->n) return s;
    }
    return -1;
}

/* The dim encoding of an extent that takes the values y[] at the probes. */
static pp_code fit_dim(pp_graph *g, const int64_t *y, int64_t *dim, int *ok, pp_error *err) {
    pp_probes *p = g->probes;
    *ok = 1;
    int q = 1;
    while (q < p->n && y[q] == y[0]) q++;
    if (q == p->n) return *dim = y[0], PP_OK;
    poly f, o;
    int fitted = fit(p, y, &f) && unshift(p, &f, &o);
    if (fitted && o.c == 0 && g->sym.batch >= 0) {
        /* k × batch alone: the format's own form */
        int legacy = 1;
        for (int k = 0; k < p->n_act && legacy; k++) {
            if (o.a[k] && (p->act[k] != g->sym.batch || o.a[k] < 1)) legacy = 0;
            for (int l = k + 1; l < p->n_act; l++) legacy &= o.ab[k][l] == 0;
        }
        for (int k = 0; k < p->n_act && legacy; k++)
            if (p->act[k] == g->sym.batch && o.a[k] >= 1 && -o.a[k] > PP_DIM_SLOT_BASE) return *dim = -o.a[k], PP_OK;
    }
    int s = find_slot(p, y);
    if (s >= 0) return *dim = pp_dim_of_slot(s), PP_OK;
    if (!fitted) return *ok = 0, PP_OK;
    pp_sx v;
    pp_code rc = emit_poly(g, &o, &v, err);
    if (!rc) rc = probes_sync(g, err);
    if (rc) return rc;
    if (v.slot < 0) return *dim = v.v, PP_OK; /* cannot happen: y is not constant */
    *dim = pp_dim_of_slot(v.slot);
    return PP_OK;
}

/* ---- one node ------------------------------------------------------------------------ */

static pp_code describe_at(pp_graph *g, int i, int q, pp_shape *out, pp_error *err) {
    pp_node *n = &g->nodes[i];
    pp_shape in[PP_MAX_IO];
    const void *cdata[PP_MAX_IO];
    pp_dimenv env;
    probe_env(g, q, &env);
    for (int j = 0; j < n->n_in; j++) {
        memset(&in[j], 0, sizeof in[j]);
        cdata[j] = NULL;
        if (n->in[j] < 0) continue;
        const pp_tensor *t = &g->tensors[n->in[j]];
        if (t->rank < 0)
            return pp_error_set(err, PP_ERR_SHAPE, "node '%s' (%s): input %d ('%s') has no known shape", n->name,
                                pp_op_name(n->op), j, t->name);
        pp_shape_env(t, &env, &in[j]);
        cdata[j] = t->kind == PP_TENSOR_WEIGHT ? t->data : NULL;
    }
    pp_node_resolve(n, env.slot);
    pp_op_params prm;
    pp_code rc = pp_op_describe(n, in, out, &prm, NULL, cdata, err);
    if (rc && g->probes->n_act && (g->probes->n_act > 1 || g->probes->act[0] != g->sym.batch)) {
        char b[160];
        pp_error_prefix(err, "with %s", pp_symtab_values_str(&g->sym, g->probes->sym[q], b, sizeof b));
    }
    return rc;
}

static pp_code unfitted(pp_graph *g, const pp_node *n, const pp_tensor *t, int d, const int64_t *y, pp_error *err) {
    const pp_probes *p = g->probes;
    char at[512];
    size_t o = 0;
    for (int q = 0; q < p->n && o < sizeof at; q++) {
        char b[160];
        o += (size_t)snprintf(at + o, sizeof at - o, "%s%" PRId64 " at %s", q ? "; " : "", y[q],
                              pp_symtab_values_str(&g->sym, p->sym[q], b, sizeof b));
    }
    return pp_error_set(err, PP_ERR_SHAPE,
                        "node '%s' (%s): output '%s' axis %d is %s: not an integer polynomial of the symbols "
                        "(degree 2 at most) nor a shape value the graph computes",
                        n->name, pp_op_name(n->op), t->name, d, at);
}

pp_code pp_graph_infer_node(pp_graph *g, int i, pp_error *err) {
    pp_code rc = probes_sync(g, err);
    if (rc) return rc;
    pp_probes *p = g->probes;
    pp_node *n = &g->nodes[i];
    if (n->n_in > PP_MAX_IO || n->n_out > PP_MAX_IO)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "node '%s' (%s): %d inputs and %d outputs exceed %d", n->name,
                            pp_op_name(n->op), n->n_in, n->n_out, PP_MAX_IO);
    for (int q = 0; q < p->n; q++)
        if ((rc = describe_at(g, i, q, p->out[q], err))) return rc;
    for (int j = 0; j < n->n_out; j++) {
        if (n->out[j] < 0) continue;
        pp_tensor *t = &g->tensors[n->out[j]];
        const pp_shape *o0 = &p->out[0][j];
        for (int q = 1; q < p->n; q++)
            if (p->out[q][j].rank != o0->rank || p->out[q][j].dtype != o0->dtype) {
                char b[160];
                return pp_error_set(
                    err, PP_ERR_SHAPE, "node '%s' (%s): output %d ('%s') changes rank or type with the symbols (%s)",
                    n->name, pp_op_name(n->op), j, t->name, pp_symtab_values_str(&g->sym, p->sym[q], b, sizeof b));
            }
        int64_t dims[PP_MAX_RANK] = {0};
        for (int d = 0; d < o0->rank; d++) {
            int64_t y[MAX_PROBES];
            for (int q = 0; q < p->n; q++) y[q] = p->out[q][j].dims[d];
            int ok;
            if ((rc = fit_dim(g, y, &dims[d], &ok, err))) return rc;
            p = g->probes;
            if (!ok) return unfitted(g, n, t, d, y, err);
        }
        t->rank = o0->rank;
        t->dtype = o0->dtype;
        memcpy(t->dims, dims, sizeof dims);
    }
    return PP_OK;
}

pp_code pp_graph_infer(pp_graph *g, pp_error *err) {
    pp_graph_forget_probes(g);
    for (int i = 0; i < g->n_nodes; i++) {
        pp_code rc = pp_graph_infer_node(g, i, err);
        if (rc) return rc;
    }
    return PP_OK;
}

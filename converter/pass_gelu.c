/* pass_gelu.c: the decomposed GELUs torch exports → GELU / GELU_TANH (passes.h).
 *
 *   erf:  x · 0.5 · (1 + erf(x / √2))          Div(x, 1.41421) or Mul(x, 0.70711) → Erf → Add 1
 *   tanh: x · 0.5 · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
 *         x³ as Pow(x, 3), Mul(x, Mul(x, x)) or Mul(Mul(x, x), x)
 *
 * then the shared tail, in any of the orders exporters write it:
 *   Mul(x, u) → Mul(·, 0.5);  Mul(Mul(x, 0.5), u);  Mul(u, 0.5) → Mul(·, x)
 * (u = 1 + erf/tanh). Constants must match within a relative 1e-4; every
 * intermediate must have only the reader the pattern names.
 */
#include "passes.h"

#define TOL 1e-4
#define MAXK 12

typedef struct match {
    int kill[MAXK];
    int nk;
} match;

static void keep(match *mt, int node) {
    if (mt->nk < MAXK) mt->kill[mt->nk++] = node;
}

/* The single reader of t when it is a MUL; *other = its other input. */
static int next_mul(const pp_graph *g, int t, int *other) {
    int u = pp_pass_single_use(g, t);
    if (!pp_pass_node_op(g, u, PP_OP_MUL)) return -1;
    *other = pp_pass_other(&g->nodes[u], t);
    return *other < -1 ? -1 : u;
}

/* The tail from u (= 1 + f(x)) to the node computing x · 0.5 · u; -1 when it does not match. */
static int match_tail(const pp_graph *g, int u, int x, match *mt) {
    int o1, m1 = next_mul(g, u, &o1);
    if (m1 < 0) return -1;
    if (o1 == x) {
        int o2, m2 = next_mul(g, g->nodes[m1].out[0], &o2);
        if (m2 < 0 || !pp_pass_const_near(g, o2, 0.5, TOL)) return -1;
        keep(mt, m1);
        return m2;
    }
    if (pp_pass_const_near(g, o1, 0.5, TOL)) {
        int o2, m2 = next_mul(g, g->nodes[m1].out[0], &o2);
        if (m2 < 0 || o2 != x) return -1;
        keep(mt, m1);
        return m2;
    }
    int h = pp_pass_producer_op(g, o1, PP_OP_MUL);
    if (h < 0) return -1;
    int hc = pp_pass_other(&g->nodes[h], x);
    if (hc < 0 || !pp_pass_const_near(g, hc, 0.5, TOL)) return -1;
    keep(mt, h);
    return m1;
}

/* From f(x)'s output e (erf or tanh): Add(e, 1) → u → tail. */
static int match_after(const pp_graph *g, int e, int x, match *mt) {
    int a = pp_pass_single_use(g, e);
    if (!pp_pass_node_op(g, a, PP_OP_ADD)) return -1;
    int one = pp_pass_other(&g->nodes[a], e);
    if (one < 0 || !pp_pass_const_near(g, one, 1.0, TOL)) return -1;
    keep(mt, a);
    return match_tail(g, g->nodes[a].out[0], x, mt);
}

/* The erf front: Erf's input is x / √2 or x · (1/√2). Returns x or -1. */
static int erf_front(const pp_graph *g, int d, match *mt) {
    int p = pp_pass_producer(g, d);
    if (p < 0 || pp_pass_single_use(g, d) < 0 || g->nodes[p].n_in != 2) return -1;
    const pp_node *n = &g->nodes[p];
    if (n->op == PP_OP_DIV && pp_pass_const_near(g, n->in[1], 1.4142135623730951, TOL)) {
        keep(mt, p);
        return n->in[0];
    }
    if (n->op == PP_OP_MUL)
        for (int s = 0; s < 2; s++)
            if (pp_pass_const_near(g, n->in[1 - s], 0.7071067811865476, TOL)) {
                keep(mt, p);
                return n->in[s];
            }
    return -1;
}

/* x³: Pow(x, 3), Mul(x, Mul(x, x)), Mul(Mul(x, x), x). */
static int is_cube(const pp_graph *g, int p3, int x, match *mt) {
    int p = pp_pass_producer(g, p3);
    if (p < 0 || pp_pass_single_use(g, p3) < 0 || g->nodes[p].n_in != 2) return 0;
    const pp_node *n = &g->nodes[p];
    if (n->op == PP_OP_POW && n->in[0] == x && pp_pass_const_near(g, n->in[1], 3.0, 1e-6)) {
        keep(mt, p);
        return 1;
    }
    if (n->op != PP_OP_MUL) return 0;
    int sq = pp_pass_other(n, x);
    if (sq < 0 || sq == x) return 0;
    int q = pp_pass_producer_op(g, sq, PP_OP_MUL);
    if (q < 0 || g->nodes[q].in[0] != x || g->nodes[q].in[1] != x) return 0;
    keep(mt, p);
    keep(mt, q);
    return 1;
}

/* The tanh front: Tanh's input is c1 · (x + c2 · x³). Returns x or -1. */
static int tanh_front(const pp_graph *g, int s, match *mt) {
    int p = pp_pass_producer_op(g, s, PP_OP_MUL);
    if (p < 0) return -1;
    const pp_node *n = &g->nodes[p];
    for (int i = 0; i < 2; i++) {
        if (!pp_pass_const_near(g, n->in[1 - i], 0.7978845608028654, TOL)) continue;
        int r = pp_pass_producer_op(g, n->in[i], PP_OP_ADD);
        if (r < 0) return -1;
        const pp_node *rn = &g->nodes[r];
        for (int j = 0; j < 2; j++) {
            int x = rn->in[j];
            int q = pp_pass_producer_op(g, rn->in[1 - j], PP_OP_MUL);
            if (q < 0 || x < 0) continue;
            const pp_node *qn = &g->nodes[q];
            for (int k = 0; k < 2; k++) {
                if (!pp_pass_const_near(g, qn->in[1 - k], 0.044715, TOL)) continue;
                match save = *mt;
                if (is_cube(g, qn->in[k], x, mt)) {
                    keep(mt, q);
                    keep(mt, r);
                    keep(mt, p);
                    return x;
                }
                *mt = save;
            }
        }
    }
    return -1;
}

pp_code pp_pass_gelu(pp_graph *g, int *rewrites, pp_error *err) {
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        pp_node *f = &g->nodes[i];
        if (f->dead || (f->op != PP_OP_ERF && f->op != PP_OP_TANH) || f->n_in != 1 || f->n_out != 1) continue;
        match mt = {{0}, 0};
        pp_op op = f->op == PP_OP_ERF ? PP_OP_GELU : PP_OP_GELU_TANH;
        int x = op == PP_OP_GELU ? erf_front(g, f->in[0], &mt) : tanh_front(g, f->in[0], &mt);
        if (x < 0 || g->tensors[x].dtype != PP_DTYPE_F32) continue;
        keep(&mt, i);
        int fin = match_after(g, f->out[0], x, &mt);
        if (fin < 0 || mt.nk >= MAXK) continue;
        for (int k = 0; k < mt.nk; k++) g->nodes[mt.kill[k]].dead = 1;
        if (pp_pass_replace(g, fin, op, 1, &x, err) < 0) return err ? err->code : PP_ERR_NOMEM;
        count++;
    }
    *rewrites = count;
    return PP_OK;
}

/* pass_layernorm.c: the decomposed layer norm torch exports → LAYERNORM (passes.h).
 *
 *   m = ReduceMean(x, axes=[-1]); d = x - m; v = ReduceMean(d², axes=[-1])
 *   y = d / Sqrt(v + eps) · scale [+ bias]
 *
 * d² as Pow(d, 2) or Mul(d, d); Mul and Add in either operand order. scale and
 * bias must be f32 weights of the last axis' extent; eps comes from the Add.
 * d is read by exactly the square and the Div; every other intermediate by one
 * node.
 */
#include "passes.h"

#define MAXK 10

/* A REDUCE_MEAN over the last axis of its input, keeping dims. */
static int mean_last(const pp_graph *g, const pp_node *n) {
    if (n->op != PP_OP_REDUCE_MEAN || n->n_in != 1 || n->n_out != 1 || n->in[0] < 0 || n->out[0] < 0) return 0;
    int r = g->tensors[n->in[0]].rank;
    uint32_t na = 0;
    const int64_t *ax = pp_node_ints(n, "axes", &na);
    if (r < 1 || !ax || na != 1 || !(ax[0] == -1 || ax[0] == r - 1)) return 0;
    return pp_node_int(n, "keepdims", 1) != 0;
}

/* The single reader of t when it is op; *other = its other input (binary ops). */
static int next_op(const pp_graph *g, int t, pp_op op, int *other) {
    int u = pp_pass_single_use(g, t);
    if (!pp_pass_node_op(g, u, op)) return -1;
    if (other) {
        *other = pp_pass_other(&g->nodes[u], t);
        if (*other < 0) return -1;
    }
    return u;
}

static int is_vec(const pp_graph *g, int t, int64_t c) {
    int64_t n = 0;
    if (t < 0 || !pp_pass_is_const_f32(g, t, &n) || n != c) return 0;
    const pp_tensor *w = &g->tensors[t];
    return w->rank == 1 && w->dims[0] == c; /* LAYERNORM takes (C) only */
}

static int match(pp_graph *g, int i, int *kill, int *nk, int *x_out, int *scale, int *bias, double *eps) {
    const pp_node *m1 = &g->nodes[i];
    if (!mean_last(g, m1)) return -1;
    int x = m1->in[0];
    const pp_tensor *xt = &g->tensors[x];
    int64_t c = xt->dims[xt->rank - 1];
    if (c <= 0 || xt->dtype != PP_DTYPE_F32) return -1;
    int s = pp_pass_single_use(g, m1->out[0]);
    if (!pp_pass_node_op(g, s, PP_OP_SUB) || g->nodes[s].n_in != 2 || g->nodes[s].in[0] != x ||
        g->nodes[s].in[1] != m1->out[0])
        return -1;
    int d = g->nodes[s].out[0];
    int sq = -1, dv = -1, reads = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        const pp_node *n = &g->nodes[k];
        if (n->dead) continue;
        int r = 0;
        for (int j = 0; j < n->n_in; j++) r += n->in[j] == d;
        if (!r) continue;
        reads += r;
        if (n->n_out != 1 || n->out[0] < 0) return -1;
        if (n->op == PP_OP_DIV && n->n_in == 2 && n->in[0] == d && r == 1 && dv < 0) dv = k;
        else if (n->op == PP_OP_POW && n->n_in == 2 && n->in[0] == d && r == 1 &&
                 pp_pass_const_near(g, n->in[1], 2.0, 1e-6) && sq < 0)
            sq = k;
        else if (n->op == PP_OP_MUL && n->n_in == 2 && r == 2 && sq < 0) sq = k;
        else return -1;
    }
    if (sq < 0 || dv < 0 || pp_pass_is_output(g, d) || reads != g->nodes[sq].n_in - (g->nodes[sq].op == PP_OP_POW) + 1)
        return -1;
    int m2 = pp_pass_single_use(g, g->nodes[sq].out[0]);
    if (m2 < 0 || !mean_last(g, &g->nodes[m2])) return -1;
    int e, a = next_op(g, g->nodes[m2].out[0], PP_OP_ADD, &e);
    if (a < 0 || !pp_pass_const_scalar(g, e, eps) || !(*eps >= 0)) return -1;
    int q = next_op(g, g->nodes[a].out[0], PP_OP_SQRT, NULL);
    if (q < 0 || pp_pass_single_use(g, g->nodes[q].out[0]) != dv || g->nodes[dv].in[1] != g->nodes[q].out[0]) return -1;
    int sc, mm = next_op(g, g->nodes[dv].out[0], PP_OP_MUL, &sc);
    if (mm < 0 || !is_vec(g, sc, c)) return -1;
    int b, ab = next_op(g, g->nodes[mm].out[0], PP_OP_ADD, &b);
    int fin = mm;
    *bias = -1;
    *nk = 0;
    if (ab >= 0 && is_vec(g, b, c)) {
        fin = ab;
        *bias = b;
        kill[(*nk)++] = mm;
    }
    int list[] = {i, s, sq, m2, a, q, dv};
    for (int k = 0; k < 7; k++) kill[(*nk)++] = list[k];
    *x_out = x;
    *scale = sc;
    return fin;
}

pp_code pp_pass_layernorm(pp_graph *g, int *rewrites, pp_error *err) {
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].dead) continue;
        int kill[MAXK], nk = 0, x, scale, bias;
        double eps;
        int fin = match(g, i, kill, &nk, &x, &scale, &bias, &eps);
        if (fin < 0) continue;
        for (int k = 0; k < nk; k++) g->nodes[kill[k]].dead = 1;
        int in[3] = {x, scale, bias};
        int k = pp_pass_replace(g, fin, PP_OP_LAYERNORM, bias >= 0 ? 3 : 2, in, err);
        if (k < 0) return err ? err->code : PP_ERR_NOMEM;
        pp_code rc = pp_node_set_int(g, k, "axis", -1, err);
        if (!rc) rc = pp_node_set_float(g, k, "epsilon", eps, err);
        if (rc) return rc;
        count++;
    }
    *rewrites = count;
    return PP_OK;
}

/* pass_attention.c: scaled dot-product attention → ATTENTION (passes.h).
 *
 *   S = MatMul(Q, Kᵀ)                         Q (B,H,TQ,D), Kᵀ (B,H,D,TK)
 *   S = S / c  |  S · c                        (optional; scale 1/c or c, else 1)
 *   S = S + mask  |  Where(cond, S, -inf)      (optional)
 *   Y = MatMul(Softmax(S, axis -1), V)         V (B,H,TK,DV)
 *
 * Kᵀ from a TRANSPOSE: its perm is composed with (0,1,3,2) into one transpose
 * that gives K (the old one dies when nothing else reads it); otherwise a
 * transpose (0,1,3,2) of Kᵀ is added. An additive mask must broadcast to
 * (B,H,TQ,TK) on its own. A Where is fused only when its condition is a
 * constant whose kept entries are exactly the causal pattern (key j visible to
 * query i when j <= i + TK - TQ) and the fill is -inf (or below -1e30): then
 * causal = 1. Anything else stays as it was.
 */
#include "passes.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int rank4(const pp_graph *g, int t) {
    return t >= 0 && g->tensors[t].rank == 4 && g->tensors[t].dtype == PP_DTYPE_F32;
}

/* cond (bool constant) keeps (keep_when = its value) exactly the causal
 * pattern of a (TQ, TK) score matrix. */
static int causal_cond(const pp_graph *g, int cond, int keep_when, int64_t tq, int64_t tk) {
    const pp_tensor *c = &g->tensors[cond];
    if (c->kind != PP_TENSOR_WEIGHT || c->dtype != PP_DTYPE_BOOL || c->rank < 2 || !c->data) return 0;
    if (tq <= 0 || tk <= 0 || c->dims[c->rank - 2] != tq || c->dims[c->rank - 1] != tk) return 0;
    for (int d = 0; d < c->rank - 2; d++)
        if (c->dims[d] != 1) return 0;
    if (c->nbytes != (uint64_t)(tq * tk)) return 0;
    const unsigned char *v = c->data;
    for (int64_t i = 0; i < tq; i++)
        for (int64_t j = 0; j < tk; j++) {
            int keep = (v[i * tk + j] != 0) == (keep_when != 0);
            if (keep != (j <= i + (tk - tq))) return 0;
        }
    return 1;
}

/* mask broadcasts to the scores' (B,H,TQ,TK) without enlarging it. */
static int mask_fits(const pp_graph *g, int mask, int scores) {
    if (mask < 0) return 0;
    const pp_tensor *m = &g->tensors[mask], *s = &g->tensors[scores];
    if (m->rank < 0 || m->rank > 4 || (m->dtype != PP_DTYPE_F32)) return 0;
    for (int d = 0; d < m->rank; d++) {
        int64_t e = m->dims[d], f = s->dims[4 - m->rank + d];
        if (e != 1 && e != f) return 0;
    }
    return 1;
}

typedef struct att {
    int kill[8], nk;
    int q, kt, v, mask, causal, tp;
    double scale;
    int fin;
} att;

static int match(const pp_graph *g, int si, att *a) {
    const pp_node *sm = &g->nodes[si];
    if (sm->op != PP_OP_SOFTMAX || sm->n_in != 1 || sm->n_out != 1) return 0;
    int s = sm->in[0];
    if (!rank4(g, s)) return 0;
    int64_t ax = pp_node_int(sm, "axis", -1);
    if (ax != -1 && ax != 3) return 0;
    memset(a, 0, sizeof *a);
    a->mask = -1;
    a->scale = 1.0;
    a->kill[a->nk++] = si;
    int fin = pp_pass_single_use(g, sm->out[0]);
    if (!pp_pass_node_op(g, fin, PP_OP_MATMUL) || g->nodes[fin].n_in != 2 || g->nodes[fin].in[0] != sm->out[0])
        return 0;
    a->fin = fin;
    a->v = g->nodes[fin].in[1];
    /* mask */
    int p = pp_pass_producer(g, s);
    if (p < 0 || pp_pass_single_use(g, s) != si) return 0;
    const pp_tensor *st = &g->tensors[s];
    if (g->nodes[p].op == PP_OP_WHERE && g->nodes[p].n_in == 3) {
        const pp_node *w = &g->nodes[p];
        double fill;
        int keep_when, inner;
        if (pp_pass_const_scalar(g, w->in[2], &fill) && fill < -1e30) {
            keep_when = 1;
            inner = w->in[1];
        } else if (pp_pass_const_scalar(g, w->in[1], &fill) && fill < -1e30) {
            keep_when = 0;
            inner = w->in[2];
        } else return 0;
        if (!rank4(g, inner) || !causal_cond(g, w->in[0], keep_when, st->dims[2], st->dims[3])) return 0;
        for (int d = 0; d < 4; d++)
            if (g->tensors[inner].dims[d] != st->dims[d]) return 0;
        a->causal = 1;
        a->kill[a->nk++] = p;
        s = inner;
    } else if (g->nodes[p].op == PP_OP_ADD && g->nodes[p].n_in == 2) {
        /* the scores side is the one a scale or the Q·Kᵀ matmul produced */
        const pp_node *ad = &g->nodes[p];
        int side = -1;
        for (int k = 0; k < 2 && side < 0; k++) {
            int pk = pp_pass_producer(g, ad->in[k]);
            if (pk < 0 || !rank4(g, ad->in[k])) continue;
            pp_op o = g->nodes[pk].op;
            if (o == PP_OP_MATMUL || o == PP_OP_DIV || o == PP_OP_MUL) side = k;
        }
        if (side < 0) return 0;
        int sc = ad->in[side], mk = ad->in[1 - side];
        for (int d = 0; d < 4; d++)
            if (g->tensors[sc].dims[d] != st->dims[d]) return 0;
        if (!mask_fits(g, mk, sc)) return 0;
        a->mask = mk;
        a->kill[a->nk++] = p;
        s = sc;
    }
    if (pp_pass_is_output(g, s)) return 0;
    /* scale */
    p = pp_pass_producer(g, s);
    if (p < 0 || pp_pass_single_use(g, s) < 0) return 0;
    if ((g->nodes[p].op == PP_OP_DIV || g->nodes[p].op == PP_OP_MUL) && g->nodes[p].n_in == 2) {
        const pp_node *n = &g->nodes[p];
        double c;
        int x = -1;
        if (n->op == PP_OP_DIV && pp_pass_const_scalar(g, n->in[1], &c) && c != 0) {
            a->scale = 1.0 / c;
            x = n->in[0];
        } else if (n->op == PP_OP_MUL) {
            for (int k = 0; k < 2 && x < 0; k++)
                if (pp_pass_const_scalar(g, n->in[1 - k], &c)) {
                    a->scale = c;
                    x = n->in[k];
                }
        }
        if (x < 0 || !rank4(g, x)) return 0;
        a->kill[a->nk++] = p;
        s = x;
        p = pp_pass_producer(g, s);
        if (p < 0 || pp_pass_single_use(g, s) < 0) return 0;
    }
    if (a->causal && a->scale <= 0) return 0; /* -inf · c must stay -inf */
    const pp_node *mm = &g->nodes[p];
    if (mm->op != PP_OP_MATMUL || mm->n_in != 2 || mm->n_out != 1) return 0;
    a->kill[a->nk++] = p;
    a->q = mm->in[0];
    a->kt = mm->in[1];
    if (!rank4(g, a->q) || !rank4(g, a->kt) || !rank4(g, a->v)) return 0;
    const int64_t *q = g->tensors[a->q].dims, *kt = g->tensors[a->kt].dims, *v = g->tensors[a->v].dims;
    /* no broadcasting over B, H: the fused op takes them equal */
    if (q[0] != kt[0] || q[0] != v[0] || q[1] != kt[1] || q[1] != v[1] || q[3] != kt[2] || kt[3] != v[2]) return 0;
    a->tp = -1;
    int tp = pp_pass_producer(g, a->kt);
    if (tp >= 0 && g->nodes[tp].op == PP_OP_TRANSPOSE && g->nodes[tp].n_in == 1) {
        uint32_t np = 0;
        const int64_t *perm = pp_node_ints(&g->nodes[tp], "perm", &np);
        if (perm && np == 4) a->tp = tp;
    }
    return 1;
}

pp_code pp_pass_attention(pp_graph *g, int *rewrites, pp_error *err) {
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        att a;
        if (g->nodes[i].dead || !match(g, i, &a)) continue;
        /* K (B,H,TK,D) = Kᵀ.permute(0,1,3,2) = src.permute(perm∘swap) */
        static const int swap[4] = {0, 1, 3, 2};
        int64_t perm[4], kdims[4];
        int src = a.kt;
        if (a.tp >= 0) {
            uint32_t np = 0;
            const int64_t *p0 = pp_node_ints(&g->nodes[a.tp], "perm", &np);
            for (int d = 0; d < 4; d++) perm[d] = p0[swap[d]];
            src = g->nodes[a.tp].in[0];
        } else {
            for (int d = 0; d < 4; d++) perm[d] = swap[d];
        }
        int k_id = src;
        int identity = 1;
        for (int d = 0; d < 4; d++) identity &= perm[d] == d;
        if (!identity) {
            for (int d = 0; d < 4; d++) kdims[d] = g->tensors[a.kt].dims[swap[d]];
            char name[512];
            snprintf(name, sizeof name, "%s.k", g->tensors[a.kt].name);
            k_id = pp_graph_add_tensor(g, name, PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 4, kdims, err);
            if (k_id < 0) return err ? err->code : PP_ERR_NOMEM;
            const char *nn = a.tp >= 0 ? g->nodes[a.tp].name : g->nodes[a.fin].name;
            int t = pp_graph_add_node(g, PP_OP_TRANSPOSE, nn, 1, &src, 1, &k_id, err);
            if (t < 0) return err ? err->code : PP_ERR_NOMEM;
            pp_code rc = pp_node_set_ints(g, t, "perm", perm, 4, err);
            if (rc) return rc;
        }
        if (a.tp >= 0 && pp_pass_single_use(g, a.kt) >= 0) g->nodes[a.tp].dead = 1;
        for (int k = 0; k < a.nk; k++) g->nodes[a.kill[k]].dead = 1;
        int in[4] = {a.q, k_id, a.v, a.mask};
        int n = pp_pass_replace(g, a.fin, PP_OP_ATTENTION, a.mask >= 0 ? 4 : 3, in, err);
        if (n < 0) return err ? err->code : PP_ERR_NOMEM;
        pp_code rc = pp_node_set_float(g, n, "scale", a.scale, err);
        if (!rc) rc = pp_node_set_int(g, n, "causal", a.causal, err);
        if (rc) return rc;
        count++;
    }
    *rewrites = count;
    return PP_OK;
}

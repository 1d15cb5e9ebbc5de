/* pass_bn_fold.c: BATCHNORM folded into the CONV or GEMM before it (passes.h).
 *
 * y = (z - mean) · s + bias with s = scale / sqrt(var + eps), z the conv or gemm
 * output, is the same layer with its weights scaled by s per output channel and
 * bias' = (bias_z - mean) · s + bias. Only when z has no other reader, the
 * producer has no fused activation or residual yet, and every parameter is an
 * f32 weight. New weights are added (the old ones may be shared); the math is
 * done in double.
 */
#include "passes.h"

#include <math.h>
#include <stdio.h>

/* s (C) and the shift t = bias - mean·s (C), or 0 when the params are not
 * constant f32 of C elements. */
static int bn_params(const pp_graph *g, const pp_node *bn, int64_t c, double *s, double *t) {
    const float *p[4];
    for (int i = 0; i < 4; i++) {
        int64_t n = 0;
        p[i] = pp_pass_const_f32(g, bn->in[1 + i], &n);
        if (!p[i] || n != c) return 0;
    }
    double eps = pp_node_float(bn, "epsilon", 1e-5);
    for (int64_t k = 0; k < c; k++) {
        s[k] = (double)p[0][k] / sqrt((double)p[3][k] + eps);
        t[k] = (double)p[1][k] - (double)p[2][k] * s[k];
    }
    return 1;
}

static pp_code add_weight(pp_graph *g, int like, const char *suffix, int rank, const int64_t *dims, const float *data,
                          int64_t n, int *id, pp_error *err) {
    char name[512];
    snprintf(name, sizeof name, "%s%s", g->tensors[like].name, suffix);
    *id = pp_graph_add_weight(g, name, PP_DTYPE_F32, rank, dims, data, (uint64_t)n * 4, err);
    return *id < 0 ? (err ? err->code : PP_ERR_NOMEM) : PP_OK;
}

static pp_code fold_conv(pp_graph *g, int ci, int bi, int *done, pp_error *err) {
    *done = 0;
    pp_node *cv = &g->nodes[ci], *bn = &g->nodes[bi];
    if (pp_node_int(cv, "activation", 0) != 0 || (cv->n_in > 3 && cv->in[3] >= 0) || cv->n_in < 2) return PP_OK;
    int64_t wn = 0, bnum = 0;
    const float *w = pp_pass_const_f32(g, cv->in[1], &wn);
    if (!w || g->tensors[cv->in[1]].rank < 2) return PP_OK;
    int64_t c = g->tensors[cv->in[1]].dims[0];
    const float *b = NULL;
    if (cv->n_in > 2 && cv->in[2] >= 0) {
        b = pp_pass_const_f32(g, cv->in[2], &bnum);
        if (!b || bnum != c) return PP_OK;
    }
    if (c <= 0 || wn % c) return PP_OK;
    double *s = pp_malloc(sizeof(double) * 2 * (size_t)c);
    float *nw = pp_malloc(sizeof(float) * (size_t)(wn + c));
    if (!s || !nw) {
        pp_free(s);
        pp_free(nw);
        return pp_error_nomem(err, "node '%s': out of memory folding batch norm", bn->name);
    }
    double *t = s + c;
    pp_code rc = PP_OK;
    if (bn_params(g, bn, c, s, t)) {
        int64_t per = wn / c;
        float *nb = nw + wn;
        for (int64_t k = 0; k < c; k++) {
            for (int64_t j = 0; j < per; j++) nw[k * per + j] = (float)((double)w[k * per + j] * s[k]);
            nb[k] = (float)((b ? (double)b[k] : 0.0) * s[k] + t[k]);
        }
        int wid, bid, win = cv->in[1];
        const pp_tensor *wt = &g->tensors[win];
        int64_t wdims[PP_MAX_RANK];
        int wrank = wt->rank;
        for (int d = 0; d < wrank; d++) wdims[d] = wt->dims[d];
        rc = add_weight(g, win, ".bnfold", wrank, wdims, nw, wn, &wid, err);
        if (!rc) rc = add_weight(g, win, ".bnfold_bias", 1, &c, nb, c, &bid, err);
        if (!rc) {
            int in[3] = {g->nodes[ci].in[0], wid, bid};
            rc = pp_pass_set_inputs(g, ci, 3, in, err);
        }
        if (!rc) {
            pp_pass_take_output(g, ci, bi);
            *done = 1;
        }
    }
    pp_free(s);
    pp_free(nw);
    return rc;
}

/* Y = alpha·op(A)·op(B) + beta·C: column n of op(B) scales by s[n]; C becomes
 * (beta·C - mean)·s + bias as a (N) vector with beta = 1. */
static pp_code fold_gemm(pp_graph *g, int gi, int bi, int *done, pp_error *err) {
    *done = 0;
    pp_node *gm = &g->nodes[gi];
    if (pp_node_int(gm, "activation", 0) != 0 || gm->n_in < 2) return PP_OK;
    if (g->tensors[gm->out[0]].rank != 2) return PP_OK;
    int64_t bnum = 0, cnum = 0;
    const float *b = pp_pass_const_f32(g, gm->in[1], &bnum);
    if (!b || g->tensors[gm->in[1]].rank != 2) return PP_OK;
    int tb = pp_node_int(gm, "transB", 0) != 0;
    int64_t r0 = g->tensors[gm->in[1]].dims[0], r1 = g->tensors[gm->in[1]].dims[1];
    int64_t n = tb ? r0 : r1;
    const float *cc = NULL;
    if (gm->n_in > 2 && gm->in[2] >= 0) {
        cc = pp_pass_const_f32(g, gm->in[2], &cnum);
        const pp_tensor *ct = &g->tensors[gm->in[2]];
        /* a (N), (1, N) or scalar C; a per-row C stays */
        if (!cc || !(cnum == 1 || (cnum == n && ct->dims[ct->rank - 1] == n))) return PP_OK;
    }
    double beta = pp_node_float(gm, "beta", 1.0);
    double *s = pp_malloc(sizeof(double) * 2 * (size_t)n);
    float *nb = pp_malloc(sizeof(float) * (size_t)(bnum + n));
    if (!s || !nb) {
        pp_free(s);
        pp_free(nb);
        return pp_error_nomem(err, "node '%s': out of memory folding batch norm", g->nodes[bi].name);
    }
    double *t = s + n;
    pp_code rc = PP_OK;
    if (bn_params(g, &g->nodes[bi], n, s, t)) {
        for (int64_t i = 0; i < r0; i++)
            for (int64_t j = 0; j < r1; j++) nb[i * r1 + j] = (float)((double)b[i * r1 + j] * s[tb ? i : j]);
        float *nc = nb + bnum;
        for (int64_t k = 0; k < n; k++) {
            double cv = cc ? beta * (double)cc[cnum == 1 ? 0 : k] : 0.0;
            nc[k] = (float)(cv * s[k] + t[k]);
        }
        int bin = gm->in[1], bid, cid;
        int64_t bdims[2] = {r0, r1};
        rc = add_weight(g, bin, ".bnfold", 2, bdims, nb, bnum, &bid, err);
        if (!rc) rc = add_weight(g, bin, ".bnfold_bias", 1, &n, nc, n, &cid, err);
        if (!rc) {
            int in[3] = {g->nodes[gi].in[0], bid, cid};
            rc = pp_pass_set_inputs(g, gi, 3, in, err);
        }
        if (!rc) rc = pp_node_set_float(g, gi, "beta", 1.0, err);
        if (!rc) {
            pp_pass_take_output(g, gi, bi);
            *done = 1;
        }
    }
    pp_free(s);
    pp_free(nb);
    return rc;
}

pp_code pp_pass_bn_fold(pp_graph *g, int *rewrites, pp_error *err) {
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        pp_node *bn = pp_pass_node_op(g, i, PP_OP_BATCHNORM);
        if (!bn || bn->n_in != 5) continue;
        int p = pp_pass_producer(g, bn->in[0]);
        if (p < 0 || pp_pass_single_use(g, bn->in[0]) != i || g->nodes[p].n_out != 1) continue;
        int done = 0;
        pp_code rc = PP_OK;
        if (g->nodes[p].op == PP_OP_CONV) rc = fold_conv(g, p, i, &done, err);
        else if (g->nodes[p].op == PP_OP_GEMM) rc = fold_gemm(g, p, i, &done, err);
        if (rc) return rc;
        count += done;
    }
    *rewrites = count;
    return PP_OK;
}

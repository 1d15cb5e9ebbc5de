/* pass_matmul_add.c: MATMUL + ADD of a bias → GEMM (passes.h).
 *
 * MatMul(A (M, K), B (K, N) constant) followed by Add with a constant (N) or
 * (1, N) vector is torch's nn.Linear when A is 2-D: one GEMM with C = the
 * vector (which can then take a fused activation). A with more dims stays a
 * MATMUL + ADD: the CPU matmul already treats the leading dims as rows, and a
 * reshape pair around a GEMM would copy the activation twice for the sake of
 * one fused bias.
 */
#include "passes.h"

pp_code pp_pass_matmul_add(pp_graph *g, int *rewrites, pp_error *err) {
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        pp_node *m = pp_pass_node_op(g, i, PP_OP_MATMUL);
        if (!m || m->n_in != 2) continue;
        int a = m->in[0], b = m->in[1];
        if (a < 0 || b < 0) continue;
        const pp_tensor *at = &g->tensors[a], *bt = &g->tensors[b];
        if (at->rank != 2 || at->dtype != PP_DTYPE_F32 || !pp_pass_is_const_f32(g, b, NULL) || bt->rank != 2) continue;
        int64_t n = bt->dims[1];
        int ai = pp_pass_single_use(g, m->out[0]);
        pp_node *add = pp_pass_node_op(g, ai, PP_OP_ADD);
        if (!add) continue;
        int c = pp_pass_other(add, m->out[0]);
        int64_t cn = 0;
        if (c < 0 || !pp_pass_is_const_f32(g, c, &cn) || cn != n) continue;
        const pp_tensor *ct = &g->tensors[c];
        if (ct->rank < 1 || ct->rank > 2 || ct->dims[ct->rank - 1] != n) continue;
        int in[3] = {a, b, c};
        g->nodes[i].dead = 1;
        int k = pp_pass_replace(g, ai, PP_OP_GEMM, 3, in, err);
        if (k < 0) return err ? err->code : PP_ERR_NOMEM;
        pp_code rc = pp_node_set_int(g, k, "transA", 0, err);
        if (!rc) rc = pp_node_set_int(g, k, "transB", 0, err);
        if (!rc) rc = pp_node_set_float(g, k, "alpha", 1.0, err);
        if (!rc) rc = pp_node_set_float(g, k, "beta", 1.0, err);
        if (rc) return rc;
        count++;
    }
    *rewrites = count;
    return PP_OK;
}

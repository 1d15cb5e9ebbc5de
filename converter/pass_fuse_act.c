/* pass_fuse_act.c: activations and residual adds fused into CONV and GEMM
 * (passes.h), in three passes run in this order:
 *
 *   silu:     x * sigmoid(x) → SILU; x * hardsigmoid(x) with alpha 1/6, beta 1/2
 *             → HARDSWISH (torch exports both this way);
 *   residual: CONV (no activation, no residual) whose only reader is an ADD of a
 *             tensor of the output's exact shape → that tensor is the conv's
 *             residual input;
 *   act:      CONV or GEMM (no activation yet) whose only reader is one of the
 *             activations pp_act_kind knows → the `activation` attributes.
 *
 * So conv → add → relu (a ResNet block's end) becomes one conv: the kernel
 * applies bias, then residual, then the activation.
 */
#include "passes.h"

#include <math.h>
#include <string.h>

#include "../kernels/params.h"

pp_code pp_pass_silu(pp_graph *g, int *rewrites, pp_error *err) {
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        pp_node *m = pp_pass_node_op(g, i, PP_OP_MUL);
        if (!m || m->n_in != 2) continue;
        for (int s = 0; s < 2; s++) {
            int x = m->in[s], gate = m->in[1 - s];
            int p = pp_pass_producer(g, gate);
            if (p < 0 || pp_pass_single_use(g, gate) != i) continue;
            const pp_node *pn = &g->nodes[p];
            if (pn->n_in != 1 || pn->in[0] != x || pn->n_out != 1) continue;
            pp_op op;
            if (pn->op == PP_OP_SIGMOID) op = PP_OP_SILU;
            else if (pn->op == PP_OP_HARDSIGMOID && fabs(pp_node_float(pn, "alpha", 0.2) - 1.0 / 6) < 1e-6 &&
                     fabs(pp_node_float(pn, "beta", 0.5) - 0.5) < 1e-6)
                op = PP_OP_HARDSWISH;
            else continue;
            g->nodes[p].dead = 1;
            if (pp_pass_replace(g, i, op, 1, &x, err) < 0) return err ? err->code : PP_ERR_NOMEM;
            count++;
            break;
        }
    }
    *rewrites = count;
    return PP_OK;
}

static int same_shape(const pp_tensor *a, const pp_tensor *b) {
    if (a->rank < 0 || a->rank != b->rank || a->dtype != b->dtype) return 0;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

pp_code pp_pass_residual(pp_graph *g, int *rewrites, pp_error *err) {
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        pp_node *c = pp_pass_node_op(g, i, PP_OP_CONV);
        if (!c || c->n_in < 2 || (c->n_in > 3 && c->in[3] >= 0) || pp_node_int(c, "activation", 0) != 0) continue;
        int y = c->out[0];
        int a = pp_pass_single_use(g, y);
        pp_node *add = pp_pass_node_op(g, a, PP_OP_ADD);
        if (!add) continue;
        int r = pp_pass_other(add, y);
        if (r < 0 || r == y) continue;
        if (!same_shape(&g->tensors[r], &g->tensors[y]) || !same_shape(&g->tensors[add->out[0]], &g->tensors[y]))
            continue;
        int in[4] = {c->in[0], c->in[1], c->n_in > 2 ? c->in[2] : -1, r};
        pp_code rc = pp_pass_set_inputs(g, i, 4, in, err);
        if (rc) return rc;
        pp_pass_take_output(g, i, a);
        count++;
    }
    *rewrites = count;
    return PP_OK;
}

/* The pp_act_kind of a standalone activation node, with its alpha and beta;
 * PP_ACT_NONE when it is not one. */
static pp_act_kind act_of(const pp_node *n, double *alpha, double *beta) {
    *alpha = *beta = 0;
    switch (n->op) {
    case PP_OP_RELU: return PP_ACT_RELU;
    case PP_OP_CLIP:
        *alpha = pp_node_float(n, "min", -INFINITY);
        *beta = pp_node_float(n, "max", INFINITY);
        return PP_ACT_CLIP;
    case PP_OP_SIGMOID: return PP_ACT_SIGMOID;
    case PP_OP_TANH: return PP_ACT_TANH;
    case PP_OP_GELU: return PP_ACT_GELU;
    case PP_OP_GELU_TANH: return PP_ACT_GELU_TANH;
    case PP_OP_SILU: return PP_ACT_SILU;
    case PP_OP_HARDSWISH: return PP_ACT_HARDSWISH;
    case PP_OP_HARDSIGMOID:
        *alpha = pp_node_float(n, "alpha", 0.2);
        *beta = pp_node_float(n, "beta", 0.5);
        return PP_ACT_HARDSIGMOID;
    case PP_OP_LEAKY_RELU: *alpha = pp_node_float(n, "alpha", 0.01); return PP_ACT_LEAKY_RELU;
    default: return PP_ACT_NONE;
    }
}

pp_code pp_pass_act(pp_graph *g, int *rewrites, pp_error *err) {
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        pp_node *c = &g->nodes[i];
        if (c->dead || (c->op != PP_OP_CONV && c->op != PP_OP_GEMM) || c->n_out != 1) continue;
        if (pp_node_int(c, "activation", 0) != 0) continue;
        int u = pp_pass_single_use(g, c->out[0]);
        if (u < 0) continue;
        const pp_node *an = &g->nodes[u];
        if (an->n_in != 1 || an->n_out != 1 || an->out[0] < 0) continue;
        double alpha, beta;
        pp_act_kind k = act_of(an, &alpha, &beta);
        if (k == PP_ACT_NONE) continue;
        pp_code rc = pp_node_set_int(g, i, "activation", k, err);
        if (!rc && (alpha != 0 || beta != 0)) rc = pp_node_set_float(g, i, "act_alpha", alpha, err);
        if (!rc && (alpha != 0 || beta != 0)) rc = pp_node_set_float(g, i, "act_beta", beta, err);
        if (rc) return rc;
        pp_pass_take_output(g, i, u);
        count++;
    }
    *rewrites = count;
    return PP_OK;
}

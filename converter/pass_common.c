/* pass_common.c: helpers for the graph passes, and the pass pipeline (passes.h). */
#include "passes.h"

#include <math.h>
#include <string.h>

int pp_pass_live_nodes(const pp_graph *g) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += !g->nodes[i].dead;
    return n;
}

static int produces(const pp_node *n, int t) {
    if (n->dead) return 0;
    for (int j = 0; j < n->n_out; j++)
        if (n->out[j] == t) return 1;
    return 0;
}

int pp_pass_producer(const pp_graph *g, int t) {
    if (t < 0 || t >= g->n_tensors) return -1;
    int p = g->tensors[t].producer;
    if (p >= 0 && p < g->n_nodes && produces(&g->nodes[p], t)) return p;
    /* passes move outputs between nodes; the field may lag */
    for (int i = 0; i < g->n_nodes; i++)
        if (produces(&g->nodes[i], t)) return i;
    return -1;
}

int pp_pass_is_output(const pp_graph *g, int t) {
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == t) return 1;
    return 0;
}

int pp_pass_uses(const pp_graph *g, int t) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const pp_node *nd = &g->nodes[i];
        if (nd->dead) continue;
        for (int j = 0; j < nd->n_in; j++) n += nd->in[j] == t;
    }
    return n;
}

int pp_pass_single_use(const pp_graph *g, int t) {
    if (t < 0 || pp_pass_is_output(g, t)) return -1;
    int who = -1, n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const pp_node *nd = &g->nodes[i];
        if (nd->dead) continue;
        for (int j = 0; j < nd->n_in; j++)
            if (nd->in[j] == t) {
                n++;
                who = i;
            }
    }
    return n == 1 ? who : -1;
}

pp_node *pp_pass_node_op(const pp_graph *g, int node, pp_op op) {
    if (node < 0 || node >= g->n_nodes) return NULL;
    pp_node *n = &g->nodes[node];
    if (n->dead || n->op != op || n->n_out != 1 || n->out[0] < 0) return NULL;
    return n;
}

int pp_pass_producer_op(const pp_graph *g, int t, pp_op op) {
    int p = pp_pass_producer(g, t);
    if (p < 0 || g->nodes[p].op != op || g->nodes[p].n_out != 1 || g->nodes[p].n_in < 1) return -1;
    if (pp_pass_single_use(g, t) < 0) return -1;
    return p;
}

int pp_pass_other(const pp_node *n, int t) {
    if (n->n_in != 2) return -2;
    if (n->in[0] == t) return n->in[1];
    if (n->in[1] == t) return n->in[0];
    return -2;
}

int pp_pass_is_const_f32(const pp_graph *g, int t, int64_t *numel) {
    if (t < 0 || t >= g->n_tensors) return 0;
    const pp_tensor *w = &g->tensors[t];
    if (w->kind != PP_TENSOR_WEIGHT || w->dtype != PP_DTYPE_F32 || w->rank < 0 || !w->data) return 0;
    int64_t n = 1;
    for (int d = 0; d < w->rank; d++) {
        if (w->dims[d] < 0) return 0;
        n *= w->dims[d];
    }
    if ((uint64_t)n * 4 != w->nbytes) return 0;
    if (numel) *numel = n;
    return 1;
}

const float *pp_pass_const_f32(const pp_graph *g, int t, int64_t *numel) {
    if (t < 0 || t >= g->n_tensors) return NULL;
    const pp_tensor *w = &g->tensors[t];
    if (w->kind != PP_TENSOR_WEIGHT || w->dtype != PP_DTYPE_F32 || w->rank < 0 || !w->data) return NULL;
    int64_t n = 1;
    for (int d = 0; d < w->rank; d++) {
        if (w->dims[d] < 0) return NULL;
        n *= w->dims[d];
    }
    if ((uint64_t)n * 4 != w->nbytes) return NULL;
    if ((uintptr_t)w->data % 4) {
        /* Borrowed from a protobuf at an odd address: passes index floats, so give
         * the weight aligned storage once (same values; the graph owns the copy). */
        void *copy = pp_malloc((size_t)w->nbytes);
        if (!copy) return NULL;
        memcpy(copy, w->data, (size_t)w->nbytes);
        pp_tensor *mw = (pp_tensor *)w;
        pp_free(mw->owned);
        mw->owned = copy;
        mw->data = copy;
    }
    if (numel) *numel = n;
    return w->data;
}

int pp_pass_const_scalar(const pp_graph *g, int t, double *v) {
    if (t < 0 || t >= g->n_tensors) return 0;
    const pp_tensor *w = &g->tensors[t];
    if (w->kind != PP_TENSOR_WEIGHT || !w->data) return 0;
    if (w->dtype == PP_DTYPE_F32 && w->nbytes == 4) {
        float f;
        memcpy(&f, w->data, 4);
        *v = f;
        return 1;
    }
    if (w->dtype == PP_DTYPE_F64 && w->nbytes == 8) {
        memcpy(v, w->data, 8);
        return 1;
    }
    return 0;
}

int pp_pass_const_near(const pp_graph *g, int t, double want, double tol) {
    double v;
    if (!pp_pass_const_scalar(g, t, &v)) return 0;
    return fabs(v - want) <= tol * fabs(want);
}

void pp_pass_rewire(pp_graph *g, int from, int to) {
    for (int i = 0; i < g->n_nodes; i++) {
        pp_node *nd = &g->nodes[i];
        if (nd->dead) continue;
        for (int j = 0; j < nd->n_in; j++)
            if (nd->in[j] == from) nd->in[j] = to;
    }
}

pp_code pp_pass_set_inputs(pp_graph *g, int node, int n_in, const int *in, pp_error *err) {
    pp_node *n = &g->nodes[node];
    if (n_in > n->n_in) {
        int *a = pp_realloc(n->in, sizeof(int) * (size_t)n_in);
        if (!a) return pp_error_nomem(err, "node '%s': out of memory for %d inputs", n->name, n_in);
        n->in = a;
    }
    memcpy(n->in, in, sizeof(int) * (size_t)n_in);
    n->n_in = n_in;
    return PP_OK;
}

int pp_pass_replace(pp_graph *g, int old, pp_op op, int n_in, const int *in, pp_error *err) {
    int out = g->nodes[old].out[0];
    const char *name = g->nodes[old].name;
    int k = pp_graph_add_node(g, op, name, n_in, in, 1, &out, err);
    if (k < 0) return -1;
    g->nodes[old].dead = 1;
    g->tensors[out].producer = k;
    return k;
}

void pp_pass_take_output(pp_graph *g, int node, int dead) {
    int out = g->nodes[dead].out[0];
    g->nodes[node].out[0] = out;
    g->nodes[dead].dead = 1;
    g->tensors[out].producer = node;
}

pp_code pp_run_passes(pp_graph *g, pp_pass_stat *stats, int *n_stats, pp_error *err) {
    static const struct {
        const char *name;
        pp_pass_fn fn;
    } passes[] = {
        {"identity", pp_pass_identity},   {"bn_fold", pp_pass_bn_fold},     {"gelu", pp_pass_gelu},
        {"layernorm", pp_pass_layernorm}, {"attention", pp_pass_attention}, {"matmul_add", pp_pass_matmul_add},
        {"silu", pp_pass_silu},           {"residual", pp_pass_residual},   {"act", pp_pass_act},
    };
    int n = (int)(sizeof passes / sizeof passes[0]);
    if (n_stats) *n_stats = 0;
    for (int i = 0; i < n; i++) {
        int before = pp_pass_live_nodes(g), rewrites = 0;
        pp_code rc = passes[i].fn(g, &rewrites, err);
        if (rc) return pp_error_prefix(err, "graph pass %s", passes[i].name);
        if (stats && i < PP_PASS_MAX) {
            stats[i].name = passes[i].name;
            stats[i].nodes_before = before;
            stats[i].nodes_after = pp_pass_live_nodes(g);
            stats[i].rewrites = rewrites;
            if (n_stats) *n_stats = i + 1;
        }
    }
    pp_code rc = pp_graph_compact(g, err);
    if (!rc) rc = pp_graph_toposort(g, err);
    return rc;
}

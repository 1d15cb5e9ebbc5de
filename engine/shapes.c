/* shapes.c: a graph's symbolic shapes at concrete points: the reference point,
 * resolving attributes, binding symbols from the inputs of a run (graph.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../loader/checked.h"
#include "graph.h"

pp_code pp_graph_ref_env(const pp_graph *g, pp_dimenv *env, pp_error *err) {
    int64_t sym[PP_MAX_SYMBOLS] = {0};
    for (int i = 0; i < g->sym.n_sym; i++) {
        const pp_symbol *s = &g->sym.sym[i];
        sym[i] = s->min > 1 ? s->min : (s->max < 1 ? s->max : 1);
    }
    return pp_dimenv_set(env, &g->sym, sym, err);
}

void pp_graph_resolve(pp_graph *g, const pp_dimenv *env) {
    if (!env->slot) return;
    for (int i = 0; i < g->n_nodes; i++)
        if (pp_node_is_symbolic(&g->nodes[i])) pp_node_resolve(&g->nodes[i], env->slot);
}

/* The symbol a dim names directly (d = symbol, or d = k × batch with *k set),
 * or -1. */
static int dim_symbol(const pp_graph *g, int64_t d, int64_t *k) {
    *k = 1;
    if (d >= 0) return -1;
    if (!pp_dim_is_slot(d)) {
        *k = -d;
        return g->sym.batch;
    }
    int64_t s = pp_dim_slot(d);
    if (s >= g->sym.n_prog) return -1;
    const pp_fmt_shape_inst *in = &g->sym.prog[s];
    return in->op == PP_SHAPE_SYM ? (int)in->a : -1;
}

pp_code pp_graph_bind_inputs(const pp_graph *g, const int64_t *const *in_dims, const int64_t *lo, const int64_t *hi,
                             int64_t *sym, int *bad, pp_error *err) {
    const pp_symtab *t = &g->sym;
    int scratch;
    if (!bad) bad = &scratch;
    *bad = -1;
    int from_in[PP_MAX_SYMBOLS], from_ax[PP_MAX_SYMBOLS];
    for (int s = 0; s < PP_MAX_SYMBOLS; s++) from_in[s] = -1, from_ax[s] = -1, sym[s] = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        const pp_tensor *x = &g->tensors[g->inputs[i]];
        for (int d = 0; d < x->rank; d++) {
            int64_t k, v = in_dims[i][d];
            int s = dim_symbol(g, x->dims[d], &k);
            if (s < 0) continue;
            const char *nm = t->sym[s].name;
            *bad = i;
            if (v < k || v % k)
                return pp_error_set(err, PP_ERR_SHAPE,
                                    "input '%s' axis %d is %" PRId64 "; expected a positive multiple of %" PRId64
                                    " (%" PRId64 " × %s)",
                                    x->name, d, v, k, k, nm);
            v /= k;
            if (from_in[s] >= 0 && sym[s] != v)
                return pp_error_set(err, PP_ERR_SHAPE,
                                    "input '%s' axis %d gives %s = %" PRId64 ", but input '%s' axis %d gave %" PRId64,
                                    x->name, d, nm, v, g->tensors[g->inputs[from_in[s]]].name, from_ax[s], sym[s]);
            int64_t l = lo ? lo[s] : t->sym[s].min, h = hi ? hi[s] : t->sym[s].max;
            if (v < l || v > h)
                return pp_error_set(err, PP_ERR_SHAPE,
                                    "input '%s' axis %d is %" PRId64 ": %s = %" PRId64 " is outside its range %" PRId64
                                    "..%" PRId64,
                                    x->name, d, in_dims[i][d], nm, v, l, h);
            sym[s] = v;
            from_in[s] = i;
            from_ax[s] = d;
        }
    }
    *bad = -1;
    for (int s = 0; s < t->n_sym; s++) {
        if (from_in[s] >= 0) continue;
        int64_t l = lo ? lo[s] : t->sym[s].min, h = hi ? hi[s] : t->sym[s].max;
        if (l != h)
            return pp_error_set(err, PP_ERR_INVALID_ARG,
                                "symbol '%s' (%" PRId64 "..%" PRId64 ") is the extent of no input axis; fix its value "
                                "with --dim %s=N",
                                t->sym[s].name, l, h, t->sym[s].name);
        sym[s] = l;
    }
    /* Every other axis now has one right extent. */
    pp_dimenv env = {{0}, 1, NULL, 0};
    pp_code rc = pp_dimenv_set(&env, t, sym, err);
    for (int i = 0; !rc && i < g->n_inputs; i++) {
        const pp_tensor *x = &g->tensors[g->inputs[i]];
        for (int d = 0; !rc && d < x->rank; d++) {
            int64_t want = pp_dim_value(x->dims[d], &env);
            if (in_dims[i][d] == want) continue;
            *bad = i;
            char b[96], v[160], why[300] = "";
            if (x->dims[d] < 0)
                snprintf(why, sizeof why, " (%s with %s)", pp_symtab_dim_str(t, x->dims[d], b, sizeof b),
                         pp_symtab_values_str(t, sym, v, sizeof v));
            rc = pp_error_set(err, PP_ERR_SHAPE, "input '%s' axis %d is %" PRId64 ", expected %" PRId64 "%s", x->name,
                              d, in_dims[i][d], want, why);
        }
    }
    pp_dimenv_free(&env);
    return rc;
}

int pp_graph_batch_rows(const pp_graph *g, const pp_tensor *t, const int64_t *sym, int *axis) {
    *axis = -1;
    if (g->sym.batch < 0) return 0;
    int64_t s1[PP_MAX_SYMBOLS], s2[PP_MAX_SYMBOLS], d1[PP_MAX_RANK], d2[PP_MAX_RANK];
    memcpy(s1, sym, sizeof s1);
    memcpy(s2, sym, sizeof s2);
    s1[g->sym.batch] = 1;
    s2[g->sym.batch] = 2;
    pp_dimenv e1 = {{0}, 1, NULL, 0}, e2 = {{0}, 1, NULL, 0};
    int r = 0;
    if (pp_dimenv_set(&e1, &g->sym, s1, NULL) || pp_dimenv_set(&e2, &g->sym, s2, NULL)) {
        r = -1;
        *axis = 0;
    } else {
        pp_tensor_dims_env(t, &e1, d1);
        pp_tensor_dims_env(t, &e2, d2);
        for (int d = 0; d < t->rank && r >= 0; d++) {
            if (d1[d] == d2[d]) continue;
            if (d == 0 && d2[0] == 2 * d1[0] && d1[0] > 0) r = 1;
            else r = -1, *axis = d;
        }
    }
    pp_dimenv_free(&e1);
    pp_dimenv_free(&e2);
    return r;
}

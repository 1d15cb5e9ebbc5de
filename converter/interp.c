/* interp.c: the reference interpreter (interp.h). */
#include "interp.h"

#include <string.h>

#include "../engine/eval.h"

static size_t shape_bytes(const pp_shape *s) {
    size_t n = pp_dtype_size(s->dtype);
    for (int d = 0; d < s->rank; d++) n *= (size_t)s->dims[d];
    return n;
}

/* The symbols at `batch`: every other one must have a single value. */
static pp_code interp_env(const pp_graph *g, int64_t batch, pp_dimenv *env, pp_error *err) {
    int64_t sym[PP_MAX_SYMBOLS] = {0};
    for (int s = 0; s < g->sym.n_sym; s++) {
        const pp_symbol *y = &g->sym.sym[s];
        if (s == g->sym.batch) sym[s] = batch;
        else if (y->min == y->max) sym[s] = y->min;
        else
            return pp_error_set(err, PP_ERR_INVALID_ARG,
                                "interpreter: symbol '%s' (%lld..%lld) needs a value; only the batch is given", y->name,
                                (long long)y->min, (long long)y->max);
    }
    pp_code rc = pp_dimenv_set(env, &g->sym, sym, err);
    env->batch = batch;
    return rc;
}

pp_code pp_interp_run(const pp_graph *g, int64_t batch, const void *const *inputs, void **outputs, pp_shape *out_shapes,
                      pp_error *err) {
    int nt = g->n_tensors;
    pp_dimenv env = {{0}, batch, NULL, 0};
    pp_shape *shape = pp_calloc((size_t)(nt ? nt : 1), sizeof *shape);
    const void **data = pp_calloc((size_t)(nt ? nt : 1), sizeof *data);
    void **owned = pp_calloc((size_t)(nt ? nt : 1), sizeof *owned);
    pp_code rc = PP_OK;
    for (int i = 0; i < g->n_outputs; i++) outputs[i] = NULL;
    if (!shape || !data || !owned) {
        rc = pp_error_nomem(err, "interpreter: out of memory for %d tensors", nt);
        goto done;
    }
    if ((rc = interp_env(g, batch, &env, err))) goto done;
    for (int t = 0; t < nt; t++) {
        const pp_tensor *x = &g->tensors[t];
        if (x->kind != PP_TENSOR_WEIGHT) continue;
        shape[t].dtype = x->dtype;
        shape[t].rank = x->rank;
        memcpy(shape[t].dims, x->dims, sizeof x->dims);
        size_t es = pp_dtype_size(x->dtype);
        if (es > 1 && (uintptr_t)x->data % es) {
            /* Kernels read typed arrays: give them aligned bytes. */
            owned[t] = pp_malloc((size_t)x->nbytes ? (size_t)x->nbytes : 1);
            if (!owned[t]) {
                rc = pp_error_nomem(err, "interpreter: out of memory copying '%s'", x->name);
                goto done;
            }
            memcpy(owned[t], x->data, (size_t)x->nbytes);
            data[t] = owned[t];
        } else {
            data[t] = x->data;
        }
    }
    for (int i = 0; i < g->n_inputs; i++) {
        int t = g->inputs[i];
        const pp_tensor *x = &g->tensors[t];
        shape[t].dtype = x->dtype;
        shape[t].rank = x->rank;
        pp_tensor_dims_env(x, &env, shape[t].dims);
        data[t] = inputs[i];
    }
    for (int k = 0; k < g->n_nodes; k++) {
        const pp_node *n = &g->nodes[k];
        if (n->dead) continue;
        pp_shape in[PP_MAX_IO], out[PP_MAX_IO];
        const void *in_data[PP_MAX_IO];
        void *res[PP_MAX_IO];
        if (n->n_in > PP_MAX_IO || n->n_out > PP_MAX_IO) {
            rc = pp_error_set(err, PP_ERR_UNSUPPORTED, "node '%s': too many inputs or outputs", n->name);
            goto done;
        }
        /* The converter's own graph, not shared: resolved in place. */
        if (env.slot && pp_node_is_symbolic(n)) pp_node_resolve((pp_node *)n, env.slot);
        for (int j = 0; j < n->n_in; j++) {
            int t = n->in[j];
            if (t < 0) {
                memset(&in[j], 0, sizeof in[j]);
                in_data[j] = NULL;
                continue;
            }
            if (!data[t]) {
                rc = pp_error_set(err, PP_ERR_INTERNAL, "node '%s': input '%s' has not been computed (not sorted?)",
                                  n->name, g->tensors[t].name);
                goto done;
            }
            in[j] = shape[t];
            in_data[j] = data[t];
        }
        rc = pp_eval_node(n, in, in_data, out, res, err);
        if (rc) goto done;
        for (int j = 0; j < n->n_out; j++) {
            int t = n->out[j];
            if (t < 0) {
                pp_free(res[j]);
                continue;
            }
            pp_free(owned[t]);
            owned[t] = res[j];
            data[t] = res[j];
            shape[t] = out[j];
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int t = g->outputs[i];
        if (!data[t]) {
            rc = pp_error_set(err, PP_ERR_INTERNAL, "graph output '%s' was never computed", g->tensors[t].name);
            goto done;
        }
        size_t b = shape_bytes(&shape[t]);
        outputs[i] = pp_malloc(b ? b : 1);
        if (!outputs[i]) {
            rc = pp_error_nomem(err, "interpreter: out of memory for output '%s'", g->tensors[t].name);
            goto done;
        }
        if (b) memcpy(outputs[i], data[t], b);
        out_shapes[i] = shape[t];
    }
done:
    if (rc) {
        for (int i = 0; i < g->n_outputs; i++) {
            pp_free(outputs[i]);
            outputs[i] = NULL;
        }
    }
    if (owned)
        for (int t = 0; t < nt; t++) pp_free(owned[t]);
    pp_free(owned);
    pp_free(shape);
    pp_free((void *)data);
    pp_dimenv_free(&env);
    return rc;
}

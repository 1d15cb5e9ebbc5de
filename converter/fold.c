/* fold.c: constant folding through the engine's CPU kernels, dead-node
 * elimination (fold.h). */
#include "fold.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../engine/eval.h"
#include "../engine/ops.h"
#include "../loader/checked.h"

/* ---- plain constant folding ------------------------------------------------ */

pp_code pp_fold_node(pp_graph *g, int node, int *folded, pp_error *err) {
    *folded = 0;
    pp_node *n = &g->nodes[node];
    if (n->dead || n->n_in > PP_MAX_IO || n->n_out > PP_MAX_IO || n->n_out < 1 || pp_node_is_symbolic(n)) return PP_OK;
    pp_shape in[PP_MAX_IO], out[PP_MAX_IO];
    const void *data[PP_MAX_IO];
    void *tmp[PP_MAX_IO]; /* aligned copies of weights whose bytes are not aligned for their dtype */
    for (int i = 0; i < n->n_in; i++) {
        tmp[i] = NULL;
        data[i] = NULL;
        memset(&in[i], 0, sizeof in[i]);
        int t = n->in[i];
        if (t < 0) continue;
        const pp_tensor *w = &g->tensors[t];
        if (w->kind != PP_TENSOR_WEIGHT || w->rank < 0) return PP_OK;
        in[i].dtype = w->dtype;
        in[i].rank = w->rank;
        memcpy(in[i].dims, w->dims, sizeof in[i].dims);
        data[i] = w->data;
    }
    /* The output sizes first, so a constant that would blow up the file stays
     * a node; a node describe refuses is left for shape inference to report. */
    pp_op_params p;
    pp_error scratch;
    if (pp_op_describe(n, in, out, &p, NULL, data, &scratch) != PP_OK) return PP_OK;
    for (int i = 0; i < n->n_out; i++) {
        size_t bytes = pp_dtype_size(out[i].dtype);
        for (int d = 0; d < out[i].rank; d++)
            if (out[i].dims[d] < 0 || pp_mul_size(bytes, (size_t)out[i].dims[d], &bytes)) return PP_OK;
        if (bytes > PP_FOLD_MAX_BYTES) return PP_OK;
    }
    pp_code rc = PP_OK;
    for (int i = 0; i < n->n_in; i++) {
        if (!data[i]) continue;
        size_t es = pp_dtype_size(in[i].dtype);
        if (es > 1 && ((uintptr_t)data[i] % es) != 0) {
            const pp_tensor *w = &g->tensors[n->in[i]];
            tmp[i] = pp_malloc((size_t)w->nbytes);
            if (!tmp[i]) {
                rc = pp_error_set(err, PP_ERR_NOMEM, "folding node '%s': out of memory (%llu bytes)", n->name,
                                  (unsigned long long)w->nbytes);
                break;
            }
            memcpy(tmp[i], data[i], (size_t)w->nbytes);
            data[i] = tmp[i];
        }
    }
    void *res[PP_MAX_IO];
    for (int i = 0; i < n->n_out; i++) res[i] = NULL;
    if (!rc) {
        pp_error e2;
        pp_code r = pp_eval_node(n, in, data, out, res, &e2);
        if (r == PP_ERR_NOMEM || r == PP_ERR_INVALID_ARG) {
            /* Constant data the op refuses (an index out of range) is the
             * model's fault and would fail at every run: say so now. */
            if (err) *err = e2;
            rc = pp_error_prefix(err, "folding constant node '%s' (%s)", n->name, pp_op_name(n->op));
        } else if (r != PP_OK) {
            rc = PP_OK; /* no kernel, or an op the evaluator refuses: keep the node */
            for (int i = 0; i < n->n_out; i++) res[i] = NULL;
            goto done;
        }
    }
    if (!rc) {
        for (int i = 0; i < n->n_out; i++) {
            int t = n->out[i];
            if (t < 0) {
                pp_free(res[i]);
                continue;
            }
            pp_tensor *o = &g->tensors[t];
            size_t bytes = pp_dtype_size(out[i].dtype);
            for (int d = 0; d < out[i].rank; d++) bytes *= (size_t)out[i].dims[d];
            pp_free(o->owned);
            o->kind = PP_TENSOR_WEIGHT;
            o->dtype = out[i].dtype;
            o->rank = out[i].rank;
            memset(o->dims, 0, sizeof o->dims);
            memcpy(o->dims, out[i].dims, sizeof(int64_t) * (size_t)out[i].rank);
            o->owned = res[i];
            o->data = res[i];
            o->nbytes = bytes;
            o->producer = -1;
        }
        n->dead = 1;
        *folded = 1;
    }
done:
    for (int i = 0; i < n->n_in; i++) pp_free(tmp[i]);
    return rc;
}

pp_code pp_fold_constants(pp_graph *g, int *n_folded, pp_error *err) {
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        int f = 0;
        pp_code rc = pp_fold_node(g, i, &f, err);
        if (rc) return rc;
        count += f;
    }
    if (n_folded) *n_folded = count;
    return PP_OK;
}

pp_code pp_eliminate_dead(pp_graph *g, int *n_removed, pp_error *err) {
    char *needed = pp_calloc((size_t)(g->n_tensors ? g->n_tensors : 1), 1);
    char *live = pp_calloc((size_t)(g->n_nodes ? g->n_nodes : 1), 1);
    if (!needed || !live) {
        pp_free(needed);
        pp_free(live);
        return pp_error_nomem(err, "dead-node elimination: out of memory for %d nodes", g->n_nodes);
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] >= 0) needed[g->outputs[i]] = 1;
    /* Reverse order settles a topologically sorted graph in one sweep; repeat
     * until nothing changes for any other order. */
    int changed = 1;
    while (changed) {
        changed = 0;
        for (int i = g->n_nodes - 1; i >= 0; i--) {
            const pp_node *n = &g->nodes[i];
            if (live[i] || n->dead) continue;
            int use = 0;
            for (int j = 0; j < n->n_out && !use; j++) use = n->out[j] >= 0 && needed[n->out[j]];
            if (!use) continue;
            live[i] = 1;
            changed = 1;
            for (int j = 0; j < n->n_in; j++)
                if (n->in[j] >= 0) needed[n->in[j]] = 1;
        }
    }
    int removed = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (!live[i] && !g->nodes[i].dead) {
            g->nodes[i].dead = 1;
            removed++;
        }
    pp_free(needed);
    pp_free(live);
    if (n_removed) *n_removed = removed;
    return pp_graph_compact(g, err);
}

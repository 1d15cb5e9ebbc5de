/* pass_identity.c: IDENTITY nodes removed (passes.h).
 *
 * The importer aliases Identity and Dropout away except where one produces a
 * graph output; passes and other edits can leave more. Consumers read the
 * input instead. When the output is a graph output its name must survive: the
 * input's producer then writes that tensor directly, and the input's other
 * readers follow. An identity from a graph input or a weight to an output, or
 * between two graph outputs, stays (something must copy).
 */
#include "passes.h"

pp_code pp_pass_identity(pp_graph *g, int *rewrites, pp_error *err) {
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        pp_node *n = pp_pass_node_op(g, i, PP_OP_IDENTITY);
        if (!n || n->n_in != 1) continue;
        int x = n->in[0], y = n->out[0];
        if (x < 0 || y < 0) continue;
        if (!pp_pass_is_output(g, y)) {
            n->dead = 1;
            pp_pass_rewire(g, y, x);
            count++;
            continue;
        }
        int p = pp_pass_producer(g, x);
        if (p < 0 || pp_pass_is_output(g, x) || g->tensors[x].kind != PP_TENSOR_ACTIVATION) continue;
        n->dead = 1;
        pp_node *pn = &g->nodes[p];
        for (int j = 0; j < pn->n_out; j++)
            if (pn->out[j] == x) pn->out[j] = y;
        g->tensors[y].producer = p;
        pp_pass_rewire(g, x, y);
        count++;
    }
    *rewrites = count;
    (void)err;
    return PP_OK;
}

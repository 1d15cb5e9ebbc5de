#include "eval.h"

#include <string.h>

#include "../kernels/cpu/cpu_kernels.h"

pp_code pp_eval_node(const pp_node *node, const pp_shape *in_shapes, const void *const *in_data, pp_shape *out_shapes,
                     void **out_data, pp_error *err) {
    pp_op_params p;
    for (int i = 0; i < node->n_out; i++) out_data[i] = NULL;
    pp_code rc = pp_op_describe(node, in_shapes, out_shapes, &p, NULL, in_data, err);
    if (rc) return rc;
    pp_cpu_kernel_fn fn = pp_cpu_kernel_for(node->op);
    if (!fn)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "node '%s': no CPU kernel for %s", node->name,
                            pp_op_name(node->op));
    if (!pp_cpu_kernel_takes(node->op, &p))
        return pp_error_set(
            err, PP_ERR_UNSUPPORTED,
            "node '%s' (%s): 16-bit or non-plain operands; the CPU kernels compute f32 on plain tensors", node->name,
            pp_op_name(node->op));
    size_t ws_bytes = pp_cpu_workspace_size(node->op, &p);
    void *ws = ws_bytes ? pp_malloc(ws_bytes) : NULL;
    if (ws_bytes && !ws)
        return pp_error_nomem(err, "node '%s': out of memory for a %zu-byte workspace", node->name, ws_bytes);
    for (int i = 0; i < node->n_out; i++) {
        size_t bytes = pp_dtype_size(out_shapes[i].dtype);
        for (int d = 0; d < out_shapes[i].rank; d++) bytes *= (size_t)out_shapes[i].dims[d];
        out_data[i] = pp_malloc(bytes ? bytes : 1);
        if (!out_data[i]) {
            rc = pp_error_set(err, PP_ERR_NOMEM, "node '%s': out of memory for output %d (%zu bytes)", node->name, i,
                              bytes);
            break;
        }
    }
    /* Kernels index optional trailing inputs (conv bias, residual) up to
     * PP_MAX_IO and expect NULL where absent, as in a plan's launch records. */
    const void *in[PP_MAX_IO] = {0};
    for (int i = 0; i < node->n_in && i < PP_MAX_IO; i++) in[i] = in_data[i];
    if (!rc && fn(&p, in, out_data, ws) != 0)
        rc = pp_error_set(err, PP_ERR_INVALID_ARG, "node '%s' (%s): invalid input data (an index out of range)",
                          node->name, pp_op_name(node->op));
    pp_free(ws);
    if (rc) {
        for (int i = 0; i < node->n_out; i++) {
            pp_free(out_data[i]);
            out_data[i] = NULL;
        }
    }
    return rc;
}

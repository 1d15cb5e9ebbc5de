/* formats_cpu.c: what the CPU backend's kernels take (formats.h).
 *
 * Both kernel families compute in f32 on plain tensors: the reference
 * (kernels/cpu) and the fast kernels (kernels/cpu/fast), whose convolutions are
 * an implicit GEMM and Winograd over NCHW, gathering their packed panels straight
 * from plain images, so a blocked layout would buy them no contiguity they lack
 * (docs/perf.md measures them against ONNX Runtime's NCHWc). So the CPU asks for
 * plain tensors, and for f32 where a graph brings 16-bit floats to an op that
 * computes: such a graph runs through conversions around those ops (and its
 * outputs are converted back to their declared dtype). Data movement, WHERE,
 * CAST and REFORMAT take any dtype. caps->simd_f32 is where an NCHWc kernel
 * would take its block. */
#include "formats.h"

void pp_format_policy_cpu(const pp_format_caps *caps, const pp_node *node, const pp_shape *have, pp_shape *want) {
    (void)caps;
    const pp_op op = node->op;
    int any_dtype = pp_format_moves_bytes(op) || op == PP_OP_WHERE || op == PP_OP_CAST || op == PP_OP_REFORMAT;
    for (int i = 0; i < node->n_in; i++) {
        if (have[i].dtype == PP_DTYPE_INVALID) continue;
        if (op != PP_OP_REFORMAT) {
            want[i].layout = PP_LAYOUT_PLAIN;
            want[i].block = 0;
        }
        if (!any_dtype && (have[i].dtype == PP_DTYPE_F16 || have[i].dtype == PP_DTYPE_BF16))
            want[i].dtype = PP_DTYPE_F32;
    }
}

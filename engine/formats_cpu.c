/* formats_cpu.c: what the CPU backend's kernels take (formats.h).
 *
 * Both kernel families run plain f32 in the graph's own dtypes: the reference
 * (kernels/cpu) and the fast kernels (kernels/cpu/fast), whose convolutions are
 * an implicit GEMM and Winograd over NCHW, gathering their packed panels straight
 * from plain images, so a blocked layout would buy them no contiguity they lack
 * (docs/perf.md measures them against ONNX Runtime's NCHWc). The CPU asks for no
 * conversion; caps->simd_f32 is where an NCHWc kernel would take its block. */
#include "formats.h"

void pp_format_policy_cpu(const pp_format_caps *caps, const pp_node *node, const pp_shape *have, pp_shape *want) {
    (void)caps;
    (void)node;
    (void)have;
    (void)want;
}

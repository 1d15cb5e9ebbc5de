/* formats_cuda.c: what the CUDA backend's kernels take (formats.h), as a function
 * of the device's facts and the engine's precision, so a plan can be made for a
 * GPU that is not there.
 *
 * Today every CUDA kernel takes its tensors plain, in the graph's dtypes; in the
 * 16-bit modes GEMM, MATMUL and CONV convert inside their launch. */
#include "formats.h"

void pp_format_policy_cuda(const pp_format_caps *caps, const pp_node *node, const pp_shape *have, pp_shape *want) {
    (void)caps;
    (void)node;
    (void)have;
    (void)want;
}

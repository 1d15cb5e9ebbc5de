/* formats_cpu.c: what the CPU backend's kernels take (formats.h).
 *
 * The reference kernels run plain, in the graph's own dtypes: the CPU asks for
 * no conversion. */
#include "formats.h"

void pp_format_policy_cpu(const pp_format_caps *caps, const pp_node *node, const pp_shape *have, pp_shape *want) {
    (void)caps;
    (void)node;
    (void)have;
    (void)want;
}

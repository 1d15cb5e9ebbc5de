/* copy.c: IDENTITY, FLATTEN, RESHAPE, SQUEEZE, UNSQUEEZE: the same bytes under a
 * new shape. When the planner aliases the output onto the input there is
 * nothing to do. */
#include <string.h>

#include "cpu_kernels.h"

int pp_cpu_copy(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    if (p->copy.bytes && out[0] != in[0]) memcpy(out[0], in[0], p->copy.bytes);
    return 0;
}

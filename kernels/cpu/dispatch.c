/* dispatch.c: op to CPU kernel, from the op table (kernels/op_table.h). */
#include "cpu_kernels.h"

pp_cpu_kernel_fn pp_cpu_kernel_for(pp_op op) {
    switch (op) {
#define PP_X_CASE(name, desc, kern, ...)                                                                               \
    case PP_OP_##name: return pp_cpu_##kern;
        PP_OP_TABLE(PP_X_CASE)
#undef PP_X_CASE
    default: return NULL;
    }
}

size_t pp_cpu_workspace_size(pp_op op, const pp_op_params *p) {
    switch (op) {
    case PP_OP_CONV: return pp_cpu_conv_workspace(p);
    case PP_OP_GEMM: return pp_cpu_gemm_workspace(p);
    case PP_OP_MATMUL: return pp_cpu_matmul_workspace(p);
    case PP_OP_ATTENTION: return pp_cpu_attention_workspace(p);
    default: return 0;
    }
}

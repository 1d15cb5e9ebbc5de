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

static int f32(pp_dtype t) { return t == PP_DTYPE_F32 || t == PP_DTYPE_INVALID; }
static int f32_plain(const pp_format *f) { return f32(f->dtype) && f->layout == PP_LAYOUT_PLAIN; }
static int half(pp_dtype t) { return t == PP_DTYPE_F16 || t == PP_DTYPE_BF16; }

int pp_cpu_kernel_takes(pp_op op, const pp_op_params *p) {
    pp_cpu_kernel_fn k = pp_cpu_kernel_for(op);
    if (!k) return 0;
    if (k == pp_cpu_conv) return f32_plain(&p->conv.fmt);
    if (k == pp_cpu_pool) return f32_plain(&p->pool.fmt);
    if (k == pp_cpu_batchnorm) return f32_plain(&p->batchnorm.fmt);
    if (k == pp_cpu_resize) return f32_plain(&p->resize.fmt);
    if (k == pp_cpu_gemm) return f32(p->gemm.dtype);
    if (k == pp_cpu_matmul) return f32(p->matmul.dtype);
    if (k == pp_cpu_softmax) return f32(p->softmax.dtype);
    if (k == pp_cpu_layernorm) return f32(p->layernorm.dtype);
    if (k == pp_cpu_attention) return f32(p->attention.dtype);
    if (k == pp_cpu_eltwise) return op == PP_OP_WHERE || !half(p->eltwise.dtype);
    return 1; /* data movement, CAST, REFORMAT, reductions, fills: what describe lets through */
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

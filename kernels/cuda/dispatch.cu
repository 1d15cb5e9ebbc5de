/* dispatch.cu: op to CUDA kernel and its supports check, from the op table
 * (kernels/op_table.h); each check lives with its kernel. GEMM, MATMUL and CONV
 * have none here: engine/cuda/ runs them through cuBLASLt and cuDNN. */
#include "common.cuh"

/* Rows whose CUDA column is `kernel` name pp_cuda_KERNEL and its supports check;
 * the library rows (cudnn, cublaslt) have neither here. */
#define PP_CUDA_FN_kernel(kern) pp_cuda_##kern
#define PP_CUDA_FN_cudnn(kern) NULL
#define PP_CUDA_FN_cublaslt(kern) NULL
#define PP_CUDA_SUPPORTS_kernel(kern, p) pp_cuda_##kern##_supports(p)
#define PP_CUDA_SUPPORTS_cudnn(kern, p) 0
#define PP_CUDA_SUPPORTS_cublaslt(kern, p) 0

extern "C" pp_cuda_kernel_fn pp_cuda_kernel_for(pp_op op) {
    switch (op) {
#define PP_X_CASE(name, desc, kern, cuda, ...)                                                                         \
    case PP_OP_##name: return PP_CUDA_FN_##cuda(kern);
        PP_OP_TABLE(PP_X_CASE)
#undef PP_X_CASE
    default: return NULL;
    }
}

extern "C" int pp_cuda_kernel_supports(pp_op op, const pp_op_params *p) {
    switch (op) {
#define PP_X_CASE(name, desc, kern, cuda, ...)                                                                         \
    case PP_OP_##name: return PP_CUDA_SUPPORTS_##cuda(kern, p);
        PP_OP_TABLE(PP_X_CASE)
#undef PP_X_CASE
    default: return 0;
    }
}

extern "C" size_t pp_cuda_workspace_size(pp_op op, const pp_op_params *p) {
    switch (op) {
    case PP_OP_ATTENTION: return pp_cuda_attention_workspace(p);
    default: return 0;
    }
}

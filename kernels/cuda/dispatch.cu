/* dispatch.cu: the one switch from op to CUDA kernel, what each kernel accepts,
 * and its workspace. GEMM, MATMUL and CONV are absent: engine/cuda/ runs them
 * through cuBLASLt and cuDNN. */
#include "common.cuh"

extern "C" pp_cuda_kernel_fn pp_cuda_kernel_for(pp_op op) {
    switch (op) {
    case PP_OP_BATCHNORM: return pp_cuda_batchnorm;
    case PP_OP_RELU:
    case PP_OP_CLIP:
    case PP_OP_SIGMOID:
    case PP_OP_TANH:
    case PP_OP_GELU:
    case PP_OP_GELU_TANH:
    case PP_OP_SILU:
    case PP_OP_HARDSWISH:
    case PP_OP_HARDSIGMOID:
    case PP_OP_LEAKY_RELU:
    case PP_OP_SQRT:
    case PP_OP_ERF:
    case PP_OP_EXP:
    case PP_OP_LOG:
    case PP_OP_NEG:
    case PP_OP_ABS:
    case PP_OP_RECIPROCAL:
    case PP_OP_NOT:
    case PP_OP_ELU:
    case PP_OP_SOFTPLUS:
    case PP_OP_FLOOR:
    case PP_OP_CEIL:
    case PP_OP_SIN:
    case PP_OP_COS:
    case PP_OP_SIGN:
    case PP_OP_ROUND:
    case PP_OP_MISH:
    case PP_OP_SELU:
    case PP_OP_ADD:
    case PP_OP_SUB:
    case PP_OP_MUL:
    case PP_OP_DIV:
    case PP_OP_POW:
    case PP_OP_EQUAL:
    case PP_OP_LESS:
    case PP_OP_GREATER:
    case PP_OP_LESS_EQUAL:
    case PP_OP_GREATER_EQUAL:
    case PP_OP_AND:
    case PP_OP_OR:
    case PP_OP_XOR:
    case PP_OP_MAX:
    case PP_OP_MIN:
    case PP_OP_MOD:
    case PP_OP_WHERE:
    case PP_OP_PRELU: return pp_cuda_eltwise;
    case PP_OP_CAST: return pp_cuda_cast;
    case PP_OP_MAXPOOL:
    case PP_OP_AVGPOOL:
    case PP_OP_GLOBAL_AVGPOOL:
    case PP_OP_GLOBAL_MAXPOOL: return pp_cuda_pool;
    case PP_OP_SOFTMAX:
    case PP_OP_LOG_SOFTMAX: return pp_cuda_softmax;
    case PP_OP_LAYERNORM: return pp_cuda_layernorm;
    case PP_OP_ATTENTION: return pp_cuda_attention;
    case PP_OP_REDUCE_MEAN:
    case PP_OP_REDUCE_SUM:
    case PP_OP_REDUCE_MAX:
    case PP_OP_REDUCE_MIN:
    case PP_OP_REDUCE_PROD:
    case PP_OP_ARGMAX:
    case PP_OP_ARGMIN: return pp_cuda_reduce;
    case PP_OP_IDENTITY:
    case PP_OP_FLATTEN:
    case PP_OP_RESHAPE:
    case PP_OP_SQUEEZE:
    case PP_OP_UNSQUEEZE: return pp_cuda_copy;
    case PP_OP_TRANSPOSE: return pp_cuda_transpose;
    case PP_OP_CONCAT: return pp_cuda_concat;
    case PP_OP_SPLIT: return pp_cuda_split;
    case PP_OP_SLICE: return pp_cuda_slice;
    case PP_OP_GATHER: return pp_cuda_gather;
    case PP_OP_GATHER_ELEMENTS: return pp_cuda_gather_elements;
    case PP_OP_EXPAND:
    case PP_OP_TILE: return pp_cuda_expand;
    case PP_OP_PAD: return pp_cuda_pad;
    case PP_OP_RESIZE: return pp_cuda_resize;
    case PP_OP_TRILU: return pp_cuda_trilu;
    case PP_OP_SHAPE:
    case PP_OP_CONSTANT_OF_SHAPE:
    case PP_OP_RANGE: return pp_cuda_fill;
    case PP_OP_DEPTH_TO_SPACE:
    case PP_OP_SPACE_TO_DEPTH: return pp_cuda_d2s;
    case PP_OP_CUMSUM: return pp_cuda_cumsum;
    default: return NULL;
    }
}

static int elem_ok(size_t e) { return e == 1 || e == 2 || e == 4 || e == 8; }

extern "C" int pp_cuda_kernel_supports(pp_op op, const pp_op_params *p) {
    pp_cuda_kernel_fn fn = pp_cuda_kernel_for(op);
    if (!fn) return 0;
    if (fn == pp_cuda_eltwise) return pp_cuda_eltwise_supports(&p->eltwise);
    if (fn == pp_cuda_cast) return pp_cuda_cast_supports(&p->eltwise);
    if (fn == pp_cuda_reduce) return pp_cuda_reduce_supports(p);
    if (fn == pp_cuda_transpose) return elem_ok(p->transpose.elem);
    if (fn == pp_cuda_slice) return elem_ok(p->slice.elem);
    if (fn == pp_cuda_gather) return elem_ok(p->gather.elem);
    if (fn == pp_cuda_gather_elements) return elem_ok(p->gather_elements.elem);
    if (fn == pp_cuda_expand) return elem_ok(p->expand.elem);
    if (fn == pp_cuda_pad) return elem_ok(p->pad.elem);
    if (fn == pp_cuda_trilu) return elem_ok(p->trilu.elem);
    if (fn == pp_cuda_d2s) return elem_ok(p->d2s.elem);
    if (fn == pp_cuda_fill) return pp_cuda_fill_supports(&p->fill);
    if (fn == pp_cuda_cumsum)
        return p->cumsum.dtype == PP_DTYPE_F32 || p->cumsum.dtype == PP_DTYPE_I64 || p->cumsum.dtype == PP_DTYPE_I32;
    if (fn == pp_cuda_attention)
        return (size_t)p->attention.d * sizeof(float) <= 40 * 1024 &&
               (p->attention.mask_dtype == PP_DTYPE_INVALID || p->attention.mask_dtype == PP_DTYPE_F32 ||
                p->attention.mask_dtype == PP_DTYPE_BOOL);
    return 1; /* f32-only kernels: describe has checked the dtype */
}

extern "C" size_t pp_cuda_workspace_size(pp_op op, const pp_op_params *p) {
    switch (op) {
    case PP_OP_ATTENTION: return pp_cuda_attention_workspace(p);
    default: return 0;
    }
}

/* dispatch.c: the one switch from op to CPU kernel. */
#include "cpu_kernels.h"

pp_cpu_kernel_fn pp_cpu_kernel_for(pp_op op) {
    switch (op) {
    case PP_OP_CONV: return pp_cpu_conv;
    case PP_OP_GEMM: return pp_cpu_gemm;
    case PP_OP_MATMUL: return pp_cpu_matmul;
    case PP_OP_BATCHNORM: return pp_cpu_batchnorm;
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
    case PP_OP_PRELU: return pp_cpu_eltwise;
    case PP_OP_CAST: return pp_cpu_cast;
    case PP_OP_MAXPOOL:
    case PP_OP_AVGPOOL:
    case PP_OP_GLOBAL_AVGPOOL:
    case PP_OP_GLOBAL_MAXPOOL: return pp_cpu_pool;
    case PP_OP_SOFTMAX:
    case PP_OP_LOG_SOFTMAX: return pp_cpu_softmax;
    case PP_OP_LAYERNORM: return pp_cpu_layernorm;
    case PP_OP_ATTENTION: return pp_cpu_attention;
    case PP_OP_REDUCE_MEAN:
    case PP_OP_REDUCE_SUM:
    case PP_OP_REDUCE_MAX:
    case PP_OP_REDUCE_MIN:
    case PP_OP_REDUCE_PROD:
    case PP_OP_ARGMAX:
    case PP_OP_ARGMIN: return pp_cpu_reduce;
    case PP_OP_IDENTITY:
    case PP_OP_FLATTEN:
    case PP_OP_RESHAPE:
    case PP_OP_SQUEEZE:
    case PP_OP_UNSQUEEZE: return pp_cpu_copy;
    case PP_OP_TRANSPOSE: return pp_cpu_transpose;
    case PP_OP_CONCAT: return pp_cpu_concat;
    case PP_OP_SPLIT: return pp_cpu_split;
    case PP_OP_SLICE: return pp_cpu_slice;
    case PP_OP_GATHER: return pp_cpu_gather;
    case PP_OP_GATHER_ELEMENTS: return pp_cpu_gather_elements;
    case PP_OP_EXPAND:
    case PP_OP_TILE: return pp_cpu_expand;
    case PP_OP_PAD: return pp_cpu_pad;
    case PP_OP_RESIZE: return pp_cpu_resize;
    case PP_OP_TRILU: return pp_cpu_trilu;
    case PP_OP_SHAPE:
    case PP_OP_CONSTANT_OF_SHAPE:
    case PP_OP_RANGE: return pp_cpu_fill;
    case PP_OP_DEPTH_TO_SPACE:
    case PP_OP_SPACE_TO_DEPTH: return pp_cpu_d2s;
    case PP_OP_CUMSUM: return pp_cpu_cumsum;
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

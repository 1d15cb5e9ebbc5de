/* op_table.h: every op in one table, from which everything else about ops derives.
 *
 * One row per op of include/ppformat.h's PP_OP_LIST (the file's numbering):
 *
 *   X(NAME, DESCRIBE, KERNEL, CUDA, MIN_IN, MAX_IN, MIN_OUT, MAX_OUT)
 *
 *   DESCRIBE  the shape function pp_describe_DESCRIBE (engine/ops_*.c), which
 *             checks a node and fills its kernel params (kernels/params.h)
 *   KERNEL    the kernel family: pp_cpu_KERNEL (kernels/cpu/KERNEL.c, the
 *             reference) and, when CUDA is `kernel`, pp_cuda_KERNEL with its
 *             pp_cuda_KERNEL_supports (kernels/cuda/KERNEL.cu)
 *   CUDA      kernel: a custom CUDA kernel; cudnn / cublaslt: engine/cuda runs the
 *             op through that library
 *   arity     inputs and outputs a node may have (PP_MAX_IO: variadic)
 *
 * engine/ops.c builds the op definitions, kernels/cpu/dispatch.c and
 * kernels/cuda/dispatch.cu their switches, and the prototypes of every describe
 * function and kernel come from these rows; a static assertion in engine/ops.c
 * checks that every op of PP_OP_LIST has a row, and tests/test_op_table.c walks
 * every op value. Element-wise formulas live in kernels/eltwise_math.h.
 * docs/adding-an-op.md walks through adding one.
 */
#ifndef PP_OP_TABLE_H
#define PP_OP_TABLE_H

#include "params.h"

// clang-format off
#define PP_OP_TABLE(X)                                                                                                 \
    /* NAME             DESCRIBE          KERNEL           CUDA      in         out */                                 \
    X(IDENTITY,         reshape,          copy,            kernel,   1, 1,      1, 1)                                  \
    X(CONV,             conv,             conv,            cudnn,    2, 4,      1, 1)                                  \
    X(GEMM,             gemm,             gemm,            cublaslt, 2, 3,      1, 1)                                  \
    X(MATMUL,           matmul,           matmul,          cublaslt, 2, 2,      1, 1)                                  \
    X(BATCHNORM,        batchnorm,        batchnorm,       kernel,   5, 5,      1, 1)                                  \
    X(RELU,             unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(CLIP,             unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(SIGMOID,          unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(TANH,             unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(GELU,             unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(SILU,             unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(HARDSWISH,        unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(HARDSIGMOID,      unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(LEAKY_RELU,       unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(SQRT,             unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(ERF,              unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(EXP,              unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(LOG,              unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(NEG,              unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(ABS,              unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(RECIPROCAL,       unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(NOT,              unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(CAST,             cast,             cast,            kernel,   1, 1,      1, 1)                                  \
    X(ELU,              unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(SOFTPLUS,         unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(FLOOR,            unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(CEIL,             unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(SIN,              unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(COS,              unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(SIGN,             unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(ROUND,            unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(MISH,             unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(SELU,             unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(GELU_TANH,        unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(TAN,              unary,            eltwise,         kernel,   1, 1,      1, 1)                                  \
    X(ADD,              binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(SUB,              binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(MUL,              binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(DIV,              binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(POW,              binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(EQUAL,            binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(LESS,             binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(GREATER,          binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(AND,              binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(OR,               binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(MAX,              binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(MIN,              binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(WHERE,            where,            eltwise,         kernel,   3, 3,      1, 1)                                  \
    X(LESS_EQUAL,       binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(GREATER_EQUAL,    binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(XOR,              binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(MOD,              binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(PRELU,            binary,           eltwise,         kernel,   2, 2,      1, 1)                                  \
    X(MAXPOOL,          pool,             pool,            kernel,   1, 1,      1, 1)                                  \
    X(AVGPOOL,          pool,             pool,            kernel,   1, 1,      1, 1)                                  \
    X(GLOBAL_AVGPOOL,   pool,             pool,            kernel,   1, 1,      1, 1)                                  \
    X(GLOBAL_MAXPOOL,   pool,             pool,            kernel,   1, 1,      1, 1)                                  \
    X(SOFTMAX,          softmax,          softmax,         kernel,   1, 1,      1, 1)                                  \
    X(LOG_SOFTMAX,      softmax,          softmax,         kernel,   1, 1,      1, 1)                                  \
    X(LAYERNORM,        layernorm,        layernorm,       kernel,   2, 3,      1, 1)                                  \
    X(ATTENTION,        attention,        attention,       kernel,   3, 4,      1, 1)                                  \
    X(REDUCE_MEAN,      reduce,           reduce,          kernel,   1, 1,      1, 1)                                  \
    X(REDUCE_SUM,       reduce,           reduce,          kernel,   1, 1,      1, 1)                                  \
    X(REDUCE_MAX,       reduce,           reduce,          kernel,   1, 1,      1, 1)                                  \
    X(REDUCE_MIN,       reduce,           reduce,          kernel,   1, 1,      1, 1)                                  \
    X(REDUCE_PROD,      reduce,           reduce,          kernel,   1, 1,      1, 1)                                  \
    X(ARGMAX,           reduce,           reduce,          kernel,   1, 1,      1, 1)                                  \
    X(ARGMIN,           reduce,           reduce,          kernel,   1, 1,      1, 1)                                  \
    X(FLATTEN,          reshape,          copy,            kernel,   1, 1,      1, 1)                                  \
    X(RESHAPE,          reshape,          copy,            kernel,   1, 1,      1, 1)                                  \
    X(TRANSPOSE,        transpose,        transpose,       kernel,   1, 1,      1, 1)                                  \
    X(CONCAT,           concat,           concat,          kernel,   1, PP_MAX_IO, 1, 1)                               \
    X(SPLIT,            split,            split,           kernel,   1, 1,      1, PP_MAX_IO)                          \
    X(SLICE,            slice,            slice,           kernel,   1, 1,      1, 1)                                  \
    X(GATHER,           gather,           gather,          kernel,   2, 2,      1, 1)                                  \
    X(SQUEEZE,          reshape,          copy,            kernel,   1, 1,      1, 1)                                  \
    X(UNSQUEEZE,        reshape,          copy,            kernel,   1, 1,      1, 1)                                  \
    X(EXPAND,           expand,           expand,          kernel,   1, 1,      1, 1)                                  \
    X(PAD,              pad,              pad,             kernel,   1, 1,      1, 1)                                  \
    X(RESIZE,           resize,           resize,          kernel,   1, 1,      1, 1)                                  \
    X(TRILU,            trilu,            trilu,           kernel,   1, 1,      1, 1)                                  \
    X(SHAPE,            fill,             fill,            kernel,   1, 1,      1, 1)                                  \
    X(TILE,             expand,           expand,          kernel,   1, 1,      1, 1)                                  \
    X(CONSTANT_OF_SHAPE, fill,            fill,            kernel,   0, 0,      1, 1)                                  \
    X(RANGE,            fill,             fill,            kernel,   0, 0,      1, 1)                                  \
    X(DEPTH_TO_SPACE,   d2s,              d2s,             kernel,   1, 1,      1, 1)                                  \
    X(SPACE_TO_DEPTH,   d2s,              d2s,             kernel,   1, 1,      1, 1)                                  \
    X(GATHER_ELEMENTS,  gather_elements,  gather_elements, kernel,   2, 2,      1, 1)                                  \
    X(CUMSUM,           cumsum,           cumsum,          kernel,   1, 1,      1, 1)                                  \
    X(REFORMAT,         reformat,         reformat,        kernel,   1, 1,      1, 1)
// clang-format on

/* How CUDA runs an op (the CUDA column). */
typedef enum pp_cuda_path {
    PP_CUDA_PATH_KERNEL = 1,   /* kernels/cuda/KERNEL.cu */
    PP_CUDA_PATH_CUDNN = 2,    /* engine/cuda/conv_cudnn.c */
    PP_CUDA_PATH_CUBLASLT = 3, /* engine/cuda/gemm_lt.c */
} pp_cuda_path;

/* Counting rows, for the static assertion against PP_OP_LIST. */
#define PP_OP_TABLE_COUNT_ROW(...) +1
#define PP_OP_LIST_COUNT_ROW(...) +1
enum { PP_OP_TABLE_ROWS = 0 PP_OP_TABLE(PP_OP_TABLE_COUNT_ROW), PP_OP_LIST_ROWS = 0 PP_OP_LIST(PP_OP_LIST_COUNT_ROW) };

#endif

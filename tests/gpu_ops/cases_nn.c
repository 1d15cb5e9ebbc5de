/* cases_nn.c: gpu_ops' network ops in f32: convolutions, GEMM, MatMul, pooling,
 * normalisation, softmax, attention, reductions. */
#include <stdio.h>

#include "harness.h"

static void conv_cases(void) {
    /* CONV: awkward channel counts, batch 1 and 7, groups, depthwise, 1×1, dilation, asymmetric pads */
    CASE(.name = "conv 3x3 p1 (1,3,8,8)x(5,3,3,3)+b", .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(8), I64(8)), F32(4, I64(5), I64(3), I64(3), I64(3)), F32(1, I64(5))},
         .n_attr = 1, .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv 3x3 s2 (7,5,9,11)x(6,5,3,3)", .op = PP_OP_CONV, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(7), I64(5), I64(9), I64(11)), F32(4, I64(6), I64(5), I64(3), I64(3))}, .n_attr = 1,
         .attr = {A_INTS("strides", 2, I64(2), I64(2))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv 1x1 (2,16,7,7)x(24,16,1,1)+b", .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(2), I64(16), I64(7), I64(7)), F32(4, I64(24), I64(16), I64(1), I64(1)), F32(1, I64(24))},
         .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv depthwise (2,6,9,9) g6", .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(2), I64(6), I64(9), I64(9)), F32(4, I64(6), I64(1), I64(3), I64(3)), F32(1, I64(6))},
         .n_attr = 2, .attr = {A_INT("group", 6), A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1))}, .atol = 1e-4f,
         .rtol = 1e-4f);
    CASE(.name = "conv grouped g2 dil2 (1,4,10,10)", .op = PP_OP_CONV, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(1), I64(4), I64(10), I64(10)), F32(4, I64(6), I64(2), I64(3), I64(3))}, .n_attr = 2,
         .attr = {A_INT("group", 2), A_INTS("dilations", 2, I64(2), I64(2))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv asym pads (1,3,7,7)", .op = PP_OP_CONV, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(7), I64(7)), F32(4, I64(4), I64(3), I64(3), I64(3))}, .n_attr = 2,
         .attr = {A_INTS("pads", 4, I64(0), I64(0), I64(2), I64(1)), A_INTS("strides", 2, I64(2), I64(2))},
         .atol = 1e-4f, .rtol = 1e-4f);
    /* asymmetric pads that keep cuDNN's (symmetric) output size go to cuDNN */
    CASE(.name = "conv pads t1 l1 b0 r0 s2 (1,2,8,8)", .op = PP_OP_CONV, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(1), I64(2), I64(8), I64(8)), F32(4, I64(3), I64(2), I64(3), I64(3))}, .n_attr = 2,
         .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(0), I64(0)), A_INTS("strides", 2, I64(2), I64(2))},
         .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv 2x2 pads b1 r1 s2 (2,3,8,8)", .op = PP_OP_CONV, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(2), I64(3), I64(8), I64(8)), F32(4, I64(4), I64(3), I64(2), I64(2))}, .n_attr = 2,
         .attr = {A_INTS("pads", 4, I64(0), I64(0), I64(1), I64(1)), A_INTS("strides", 2, I64(2), I64(2))},
         .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv 1x1 image (1,1,1,1)", .op = PP_OP_CONV, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(1), I64(1), I64(1), I64(1)), F32(4, I64(1), I64(1), I64(1), I64(1))});
    CASE(.name = "conv +b +residual +relu", .op = PP_OP_CONV, .n_in = 4, .n_out = 1,
         .in = {F32(4, I64(2), I64(8), I64(6), I64(6)), F32(4, I64(8), I64(8), I64(3), I64(3)), F32(1, I64(8)),
                F32(4, I64(2), I64(8), I64(6), I64(6))},
         .n_attr = 2, .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)), A_INT("activation", PP_ACT_RELU)},
         .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv +residual (no bias) +silu", .op = PP_OP_CONV, .n_in = 4, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(5), I64(5)), F32(4, I64(3), I64(3), I64(1), I64(1)), ABSENT(),
                F32(4, I64(1), I64(3), I64(5), I64(5))},
         .n_attr = 1, .attr = {A_INT("activation", PP_ACT_SILU)}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv resnet stem (2,3,32,32)x(16,3,7,7) s2 p3", .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(2), I64(3), I64(32), I64(32)), F32(4, I64(16), I64(3), I64(7), I64(7)), F32(1, I64(16))},
         .n_attr = 2, .attr = {A_INTS("strides", 2, I64(2), I64(2)), A_INTS("pads", 4, I64(3), I64(3), I64(3), I64(3))},
         .atol = 2e-4f, .rtol = 1e-4f);
}

static void gemm_cases(void) {
    /* GEMM: bias vector (epilogue), full C, column C (prefill), trans, alpha/beta, fused activations */
    CASE(.name = "gemm (7,33)x(17,33)^T + b(17)", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(7), I64(33)), F32(2, I64(17), I64(33)), F32(1, I64(17))}, .n_attr = 1,
         .attr = {A_INT("transB", 1)}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm (1,64)x(64,10) no C", .op = PP_OP_GEMM, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(1), I64(64)), F32(2, I64(64), I64(10))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm A^T (5,3) C(3,7) a=0.5 b=2", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(5), I64(3)), F32(2, I64(5), I64(7)), F32(2, I64(3), I64(7))}, .n_attr = 3,
         .attr = {A_INT("transA", 1), A_FLOAT("alpha", 0.5), A_FLOAT("beta", 2.0)}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm C column (4,1)", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(4), I64(6)), F32(2, I64(6), I64(5)), F32(2, I64(4), I64(1))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm C scalar, beta 0.5", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(3), I64(6)), F32(2, I64(6), I64(5)), F32(1, I64(1))}, .n_attr = 1,
         .attr = {A_FLOAT("beta", 0.5)}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm +b +relu (epilogue)", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(9), I64(32)), F32(2, I64(48), I64(32)), F32(1, I64(48))}, .n_attr = 2,
         .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_RELU)}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm +b +gelu (follow-up)", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(9), I64(32)), F32(2, I64(48), I64(32)), F32(1, I64(48))}, .n_attr = 2,
         .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_GELU)}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm +b +gelu_tanh (epilogue)", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(9), I64(32)), F32(2, I64(48), I64(32)), F32(1, I64(48))}, .n_attr = 2,
         .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_GELU_TANH)}, .atol = 2e-4f, .rtol = 2e-4f);
    CASE(.name = "gemm big (256,768)x(768,3072)^T", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(256), I64(768)), F32(2, I64(3072), I64(768)), F32(1, I64(3072))}, .n_attr = 1,
         .attr = {A_INT("transB", 1)}, .atol = 2e-3f, .rtol = 1e-4f);
}

static void matmul_cases(void) {
    /* MATMUL: plain, batched, broadcast B (folded), broadcast A (stride 0), mixed (loop) */
    CASE(.name = "matmul (5,7)x(7,3)", .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(5), I64(7)), F32(2, I64(7), I64(3))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "matmul (4,12,9,16)x(4,12,16,9)", .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(4), I64(12), I64(9), I64(16)), F32(4, I64(4), I64(12), I64(16), I64(9))}, .atol = 1e-4f,
         .rtol = 1e-4f);
    CASE(.name = "matmul (7,10,32)x(32,24) folded", .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(3, I64(7), I64(10), I64(32)), F32(2, I64(32), I64(24))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "matmul (6,5)x(3,5,4) A broadcast", .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(6), I64(5)), F32(3, I64(3), I64(5), I64(4))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "matmul (2,1,3,4)x(1,5,4,6) mixed", .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(2), I64(1), I64(3), I64(4)), F32(4, I64(1), I64(5), I64(4), I64(6))}, .atol = 1e-4f,
         .rtol = 1e-4f);
    CASE(.name = "matmul vector (8)x(8,3)", .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(1, I64(8)), F32(2, I64(8), I64(3))}, .atol = 1e-4f, .rtol = 1e-4f);
}

/* Batch norm and pooling, NCHW. */
static void pool_cases(void) {
    CASE(.name = "batchnorm (7,3,5,5)", .op = PP_OP_BATCHNORM, .n_in = 5, .n_out = 1,
         .in = {F32(4, I64(7), I64(3), I64(5), I64(5)), F32(1, I64(3)), F32(1, I64(3)), F32(1, I64(3)),
                with_gen(F32(1, I64(3)), G_POS, 0)},
         .n_attr = 1, .attr = {A_FLOAT("epsilon", 1e-5)}, .atol = 1e-5f, .rtol = 1e-5f);

    CASE(.name = "maxpool 3x3 s2 p1 (7,3,9,9)", .op = PP_OP_MAXPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(7), I64(3), I64(9), I64(9))}, .n_attr = 3,
         .attr = {A_INTS("kernel_shape", 2, I64(3), I64(3)), A_INTS("strides", 2, I64(2), I64(2)),
                  A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1))});
    CASE(.name = "avgpool 2x2 (1,5,7,7)", .op = PP_OP_AVGPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(5), I64(7), I64(7))}, .n_attr = 2,
         .attr = {A_INTS("kernel_shape", 2, I64(2), I64(2)), A_INTS("strides", 2, I64(2), I64(2))});
    CASE(.name = "avgpool 3x3 p1 include_pad (2,3,6,6)", .op = PP_OP_AVGPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(2), I64(3), I64(6), I64(6))}, .n_attr = 3,
         .attr = {A_INTS("kernel_shape", 2, I64(3), I64(3)), A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)),
                  A_INT("count_include_pad", 1)});
    CASE(.name = "global avgpool (7,33,7,7)", .op = PP_OP_GLOBAL_AVGPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(7), I64(33), I64(7), I64(7))});
    CASE(.name = "global maxpool (1,3,1,1)", .op = PP_OP_GLOBAL_MAXPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(1), I64(1))});
}

/* Softmax and LogSoftmax on either axis, long rows; LayerNorm with and without bias. */
static void softmax_norm_cases(void) {
    CASE(.name = "softmax last (7,13)", .op = PP_OP_SOFTMAX, .n_in = 1, .n_out = 1, .in = {F32(2, I64(7), I64(13))},
         .n_attr = 1, .attr = {A_INT("axis", -1)});
    CASE(.name = "softmax axis1 (3,5,7)", .op = PP_OP_SOFTMAX, .n_in = 1, .n_out = 1,
         .in = {F32(3, I64(3), I64(5), I64(7))}, .n_attr = 1, .attr = {A_INT("axis", 1)});
    CASE(.name = "softmax long row (2,5000)", .op = PP_OP_SOFTMAX, .n_in = 1, .n_out = 1,
         .in = {F32(2, I64(2), I64(5000))}, .n_attr = 1, .attr = {A_INT("axis", -1)}, .atol = 1e-9f,
         .rtol = 2e-5f); /* values ~2e-4: the relative bound must do the work */
    CASE(.name = "log_softmax (4,10)", .op = PP_OP_LOG_SOFTMAX, .n_in = 1, .n_out = 1, .in = {F32(2, I64(4), I64(10))},
         .n_attr = 1, .attr = {A_INT("axis", -1)});
    CASE(.name = "softmax (1,1)", .op = PP_OP_SOFTMAX, .n_in = 1, .n_out = 1, .in = {F32(2, I64(1), I64(1))});

    CASE(.name = "layernorm (7,10,768)", .op = PP_OP_LAYERNORM, .n_in = 3, .n_out = 1,
         .in = {F32(3, I64(7), I64(10), I64(768)), F32(1, I64(768)), F32(1, I64(768))}, .n_attr = 1,
         .attr = {A_INT("axis", -1)}, .atol = 2e-5f, .rtol = 2e-5f);
    CASE(.name = "layernorm no bias (3,5)", .op = PP_OP_LAYERNORM, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(3), I64(5)), F32(1, I64(5))}, .atol = 2e-5f, .rtol = 2e-5f);
}

/* Attention: cross, causal, bool and f32 masks, long key sequences. */
static void attention_cases(void) {
    CASE(.name = "attention (2,3,7,16)", .op = PP_OP_ATTENTION, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(2), I64(3), I64(7), I64(16)), F32(4, I64(2), I64(3), I64(9), I64(16)),
                F32(4, I64(2), I64(3), I64(9), I64(8))},
         .atol = 2e-5f, .rtol = 2e-5f);
    CASE(.name = "attention causal (1,2,8,8)", .op = PP_OP_ATTENTION, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(1), I64(2), I64(8), I64(8)), F32(4, I64(1), I64(2), I64(8), I64(8)),
                F32(4, I64(1), I64(2), I64(8), I64(8))},
         .n_attr = 1, .attr = {A_INT("causal", 1)}, .atol = 2e-5f, .rtol = 2e-5f);
    CASE(.name = "attention bool mask (2,1,5,5) mask (2,1,1,5)", .op = PP_OP_ATTENTION, .n_in = 4, .n_out = 1,
         .in = {F32(4, I64(2), I64(1), I64(5), I64(4)), F32(4, I64(2), I64(1), I64(5), I64(4)),
                F32(4, I64(2), I64(1), I64(5), I64(4)), T(PP_DTYPE_BOOL, 4, I64(2), I64(1), I64(1), I64(5))},
         .atol = 2e-5f, .rtol = 2e-5f);
    CASE(.name = "attention f32 mask (1,12,128,64)", .op = PP_OP_ATTENTION, .n_in = 4, .n_out = 1,
         .in = {F32(4, I64(1), I64(12), I64(128), I64(64)), F32(4, I64(1), I64(12), I64(128), I64(64)),
                F32(4, I64(1), I64(12), I64(128), I64(64)), F32(4, I64(1), I64(1), I64(128), I64(128))},
         .atol = 5e-5f, .rtol = 5e-5f);
    CASE(.name = "attention long keys (1,1,3,12000)", .op = PP_OP_ATTENTION, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(1), I64(1), I64(3), I64(8)), F32(4, I64(1), I64(1), I64(12000), I64(8)),
                F32(4, I64(1), I64(1), I64(12000), I64(8))},
         .atol = 5e-5f, .rtol = 5e-5f);
}

/* Every reduction over some axes, all axes and in i64; ArgMax, ArgMin. */
static void reduce_cases(void) {
    static const struct {
        pp_op op;
        const char *name;
    } red[] = {
        {PP_OP_REDUCE_MEAN, "reduce_mean"}, {PP_OP_REDUCE_SUM, "reduce_sum"},   {PP_OP_REDUCE_MAX, "reduce_max"},
        {PP_OP_REDUCE_MIN, "reduce_min"},   {PP_OP_REDUCE_PROD, "reduce_prod"},
    };
    char name[64];
    for (size_t i = 0; i < sizeof red / sizeof red[0]; i++) {
        snprintf(name, sizeof name, "%s axes(1,3) (3,4,5,6)", red[i].name);
        CASE(.name = name, .op = red[i].op, .n_in = 1, .n_out = 1, .in = {F32(4, I64(3), I64(4), I64(5), I64(6))},
             .n_attr = 2, .attr = {A_INTS("axes", 2, I64(1), I64(3)), A_INT("keepdims", 1)}, .atol = 1e-5f,
             .rtol = 1e-5f);
        snprintf(name, sizeof name, "%s all (7,300)", red[i].name);
        CASE(.name = name, .op = red[i].op, .n_in = 1, .n_out = 1,
             .in = {with_gen(F32(2, I64(7), I64(300)), red[i].op == PP_OP_REDUCE_PROD ? G_ZERO_ONE : G_NORMAL, 0)},
             .n_attr = 1, .attr = {A_INT("keepdims", 0)}, .atol = 1e-5f, .rtol = 1e-5f);
        snprintf(name, sizeof name, "%s i64 axis0 (6,5)", red[i].name);
        CASE(.name = name, .op = red[i].op, .n_in = 1, .n_out = 1, .in = {T(PP_DTYPE_I64, 2, I64(6), I64(5))},
             .n_attr = 1, .attr = {A_INTS("axes", 1, I64(0))});
    }
    CASE(.name = "argmax axis1 (4,9,3)", .op = PP_OP_ARGMAX, .n_in = 1, .n_out = 1,
         .in = {F32(3, I64(4), I64(9), I64(3))}, .n_attr = 1, .attr = {A_INT("axis", 1)});
    CASE(.name = "argmin i64 last (4,9)", .op = PP_OP_ARGMIN, .n_in = 1, .n_out = 1,
         .in = {T(PP_DTYPE_I64, 2, I64(4), I64(9))}, .n_attr = 2,
         .attr = {A_INT("axis", -1), A_INT("select_last_index", 1)});
}

void nn_cases(void) {
    conv_cases();
    gemm_cases();
    matmul_cases();
    pool_cases();
    softmax_norm_cases();
    attention_cases();
    reduce_cases();
}

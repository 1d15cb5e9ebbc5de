/* cases_16bit.c: gpu_ops' 16-bit cases (the GPU or the emulator only): the fp16
 * and bf16 precision modes, the planner's 16-bit formats through every path the
 * backend can take, and the f32 fallbacks where the libraries offer nothing. */
#include <math.h>
#include <stdio.h>

#include "harness.h"

/* The 16-bit precision modes: GEMM, MATMUL and CONV read fp16 / bf16 (weights
 * converted once at prepare, activations by each launch) and give f32, compared
 * with the CPU's f32 within what rounding the inputs costs: inputs in [-2, 2]
 * rounded with unit u give a sum of K products an error of about
 * 1.3·sqrt(K)·u·0.8, so atol is ~10 of those (u = 2^-11 fp16, 2^-8 bf16). */
void precision_cases(void) {
    static const pp_precision modes[] = {PP_PREC_FP16, PP_PREC_BF16};
    for (int mi = 0; mi < 2; mi++) {
        pp_precision prec = modes[mi];
        pp_error err;
        if (gpu->ops->set_precision(gpu, prec, &err) != PP_OK) {
            tcase c = {.name = "precision"};
            report(&c, "FAIL", "set_precision(%s): %s", pp_precision_name(prec), err.msg);
            n_fail++;
            continue;
        }
        float u = prec == PP_PREC_FP16 ? 6e-3f : 5e-2f; /* atol per sqrt(K) */
        float md = u * 1e-2f;                           /* far above f32's own differences */
        char nm[16][96];
        int i = 0;
#define PNAME(s) (snprintf(nm[i], sizeof nm[i], "%s %s", pp_precision_name(prec), s), nm[i++])
        CASE(.name = PNAME("conv 3x3 p1 +b weights"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1, .weights = 6,
             .in = {F32(4, I64(2), I64(8), I64(9), I64(9)), F32(4, I64(12), I64(8), I64(3), I64(3)), F32(1, I64(12))},
             .n_attr = 1, .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1))}, .atol = u * sqrtf(72.f),
             .rtol = 1e-6f, .min_diff = md);
        CASE(.name = PNAME("conv grouped s2 +res +relu, weight from a node"), .op = PP_OP_CONV, .n_in = 4, .n_out = 1,
             .in = {F32(4, I64(1), I64(6), I64(8), I64(8)), F32(4, I64(6), I64(3), I64(3), I64(3)), F32(1, I64(6)),
                    F32(4, I64(1), I64(6), I64(4), I64(4))},
             .n_attr = 4,
             .attr = {A_INT("group", 2), A_INTS("strides", 2, I64(2), I64(2)),
                      A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)), A_INT("activation", PP_ACT_RELU)},
             .atol = u * sqrtf(27.f), .rtol = 1e-6f, .min_diff = md);
        /* past one 32 x 32 transpose tile on every axis, none a multiple of 32 */
        CASE(.name = PNAME("conv (2,40,11,13)x(33,40,3,3) +b +silu, NHWC tiles"), .op = PP_OP_CONV, .n_in = 3,
             .n_out = 1, .weights = 6,
             .in = {F32(4, I64(2), I64(40), I64(11), I64(13)), F32(4, I64(33), I64(40), I64(3), I64(3)),
                    F32(1, I64(33))},
             .n_attr = 2, .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)), A_INT("activation", PP_ACT_SILU)},
             .atol = u * sqrtf(360.f), .rtol = 1e-6f, .min_diff = md);
        CASE(.name = PNAME("gemm (7,96)x(40,96)^T +b +relu weights"), .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
             .weights = 6, .in = {F32(2, I64(7), I64(96)), F32(2, I64(40), I64(96)), F32(1, I64(40))}, .n_attr = 2,
             .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_RELU)}, .atol = u * sqrtf(96.f), .rtol = 1e-6f,
             .min_diff = md);
        CASE(.name = PNAME("gemm A^T a=0.5 b=2 C(3,7), all activations"), .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
             .in = {F32(2, I64(24), I64(3)), F32(2, I64(24), I64(7)), F32(2, I64(3), I64(7))}, .n_attr = 3,
             .attr = {A_INT("transA", 1), A_FLOAT("alpha", 0.5), A_FLOAT("beta", 2.0)}, .atol = u * sqrtf(24.f),
             .rtol = 1e-6f, .min_diff = md);
        CASE(.name = PNAME("matmul (4,6,9,16)x(4,6,16,9) strided batch"), .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
             .in = {F32(4, I64(4), I64(6), I64(9), I64(16)), F32(4, I64(4), I64(6), I64(16), I64(9))}, .atol = u * 4.f,
             .rtol = 1e-6f, .min_diff = md);
        CASE(.name = PNAME("matmul (7,10,32)x(32,24) folded, weight B"), .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
             .weights = 2, .in = {F32(3, I64(7), I64(10), I64(32)), F32(2, I64(32), I64(24))}, .atol = u * sqrtf(32.f),
             .rtol = 1e-6f, .min_diff = md);
        CASE(.name = PNAME("matmul (2,1,3,4)x(1,5,4,6) loop"), .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
             .in = {F32(4, I64(2), I64(1), I64(3), I64(4)), F32(4, I64(1), I64(5), I64(4), I64(6))}, .atol = u * 2.f,
             .rtol = 1e-6f, .min_diff = md);
        if (gpu->ops->capture_begin)
            run_graph(&(tcase){.name = PNAME("graph: gemm +b weights"),
                               .op = PP_OP_GEMM,
                               .n_in = 3,
                               .n_out = 1,
                               .weights = 6,
                               .in = {F32(2, I64(7), I64(33)), F32(2, I64(17), I64(33)), F32(1, I64(17))},
                               .n_attr = 1,
                               .attr = {A_INT("transB", 1)},
                               .atol = u * sqrtf(33.f),
                               .rtol = 1e-6f,
                               .min_diff = md});
#undef PNAME
    }
    pp_error err;
    (void)gpu->ops->set_precision(gpu, PP_PREC_FP32, &err);
}

/* fmt with every "%s" replaced by f */
static void fpath(char *buf, size_t n, const char *fmt, const char *f) {
    size_t k = 0;
    for (const char *p = fmt; *p && k + 1 < n; p++) {
        if (p[0] == '%' && p[1] == 's') {
            for (const char *q = f; *q && k + 1 < n; q++) buf[k++] = *q;
            p++;
        } else {
            buf[k++] = *p;
        }
    }
    buf[k] = 0;
}

/* One 16-bit format's case names, expected paths and tolerances, shared by its steps. */
typedef struct fmt_run {
    pp_dtype dt;
    const char *f; /* "f16" or "bf16" */
    float rt, at, md;
    char nm[24][96], pth[24][96];
    int i;
} fmt_run;

#define FNAME(s) (snprintf(x->nm[x->i], sizeof x->nm[x->i], "%s nhwc %s", x->f, s), x->nm[x->i])
#define FPATH(s) (fpath(x->pth[x->i], sizeof x->pth[x->i], s, x->f), x->pth[x->i++])
#define pads1 A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)) /* the pool is refilled per case */

/* Convolutions: every cuDNN path (fused epilogue, epilogue kernel, legacy, the
 * next algorithm, f32 cuDNN) and the depthwise and direct kernels. */
static void format_conv_cases(fmt_run *x) {
    CASE(.name = FNAME("conv 3x3 +b +res +relu, fused"), .op = PP_OP_CONV, .n_in = 4, .n_out = 1, .weights = 6,
         .in = {F32(4, I64(2), I64(16), I64(7), I64(9)), F32(4, I64(16), I64(16), I64(3), I64(3)), F32(1, I64(16)),
                F32(4, I64(2), I64(16), I64(7), I64(9))},
         .n_attr = 2, .attr = {pads1, A_INT("activation", PP_ACT_RELU)}, .atol = x->at * 12, .rtol = x->rt,
         .min_diff = x->md, .fmt = x->dt, .nhwc = 1, .path = FPATH("cudnn graph conv+epilogue %s nhwc"));
    CASE(.name = FNAME("conv K=12 +b +silu, epilogue kernel"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1, .weights = 6,
         .in = {F32(4, I64(1), I64(8), I64(6), I64(6)), F32(4, I64(12), I64(8), I64(3), I64(3)), F32(1, I64(12))},
         .n_attr = 2, .attr = {pads1, A_INT("activation", PP_ACT_SILU)}, .atol = x->at * 9, .rtol = x->rt,
         .min_diff = x->md, .fmt = x->dt, .nhwc = 1, .env = "PP_CUDA_SMALL_CONV=0",
         .path = FPATH("cudnn graph conv %s nhwc"));
    /* hardswish and hardsigmoid: pointwise chains with by-value scalars,
     * hardswish's a DAG (its MUL reads the value it started from) */
    CASE(.name = FNAME("conv +b +hardswish, fused"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1, .weights = 6,
         .in = {F32(4, I64(2), I64(8), I64(5), I64(5)), F32(4, I64(8), I64(8), I64(1), I64(1)), F32(1, I64(8))},
         .n_attr = 1, .attr = {A_INT("activation", PP_ACT_HARDSWISH)}, .atol = x->at * 3, .rtol = x->rt,
         .min_diff = x->md, .fmt = x->dt, .nhwc = 1, .path = FPATH("cudnn graph conv+epilogue %s nhwc"));
    CASE(.name = FNAME("conv 3x3 +b +res +hardswish, fused"), .op = PP_OP_CONV, .n_in = 4, .n_out = 1, .weights = 6,
         .in = {F32(4, I64(1), I64(8), I64(6), I64(5)), F32(4, I64(16), I64(8), I64(3), I64(3)), F32(1, I64(16)),
                F32(4, I64(1), I64(16), I64(6), I64(5))},
         .n_attr = 2, .attr = {pads1, A_INT("activation", PP_ACT_HARDSWISH)}, .atol = x->at * 12, .rtol = x->rt,
         .min_diff = x->md, .fmt = x->dt, .nhwc = 1, .path = FPATH("cudnn graph conv+epilogue %s nhwc"));
    CASE(.name = FNAME("conv 1x1 +b +hardsigmoid(0.05, 0.5), fused"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .weights = 6,
         .in = {F32(4, I64(4), I64(16), I64(3), I64(3)), F32(4, I64(8), I64(16), I64(1), I64(1)), F32(1, I64(8))},
         .n_attr = 3, /* alpha small: few outputs saturate, so 16-bit rounding shows */
         .attr = {A_INT("activation", PP_ACT_HARDSIGMOID), A_FLOAT("act_alpha", 0.05), A_FLOAT("act_beta", 0.5)},
         .atol = x->at * 3, .rtol = x->rt, .min_diff = x->md, .fmt = x->dt, .nhwc = 1,
         .path = FPATH("cudnn graph conv+epilogue %s nhwc"));
    CASE(.name = FNAME("depthwise 3x3 s2 +b +relu6 (kernel)"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1, .weights = 6,
         .in = {F32(4, I64(2), I64(16), I64(9), I64(9)), F32(4, I64(16), I64(1), I64(3), I64(3)), F32(1, I64(16))},
         .n_attr = 5,
         .attr = {pads1, A_INT("group", 16), A_INTS("strides", 2, I64(2), I64(2)), A_INT("activation", PP_ACT_CLIP),
                  A_FLOAT("act_beta", 6.0)},
         .atol = x->at * 3, .rtol = x->rt, .min_diff = x->md, .fmt = x->dt, .nhwc = 1,
         .env = "PP_CUDA_CONV_ONLY=depthwise", .path = FPATH("depthwise kernel %s nhwc"));
    CASE(.name = FNAME("conv asymmetric pads (direct kernel)"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1, .weights = 6,
         .in = {F32(4, I64(1), I64(8), I64(5), I64(5)), F32(4, I64(8), I64(8), I64(3), I64(3)), F32(1, I64(8))},
         .n_attr = 1, .attr = {A_INTS("pads", 4, I64(0), I64(1), I64(1), I64(0))}, .atol = x->at * 9, .rtol = x->rt,
         .min_diff = x->md, .fmt = x->dt, .nhwc = 1, .env = "PP_CUDA_CONV_ONLY=direct",
         .path = FPATH("direct kernel %s nhwc"));
    CASE(.name = FNAME("conv, no graph engine: legacy"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1, .weights = 6,
         .in = {F32(4, I64(2), I64(8), I64(6), I64(6)), F32(4, I64(8), I64(8), I64(3), I64(3)), F32(1, I64(8))},
         .n_attr = 1, .attr = {pads1}, .atol = x->at * 9, .rtol = x->rt, .min_diff = x->md, .fmt = x->dt, .nhwc = 1,
         .env = "MOCK_CUDNN_NO_GRAPH=1,PP_CUDA_SMALL_CONV=0", .path = FPATH("cudnn legacy %s nhwc"));
    CASE(.name = FNAME("conv, GetWorkspaceSize refuses: next algorithm"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .weights = 6,
         .in = {F32(4, I64(1), I64(8), I64(7), I64(7)), F32(4, I64(8), I64(8), I64(3), I64(3)), F32(1, I64(8))},
         .n_attr = 1, .attr = {pads1}, .atol = x->at * 9, .rtol = x->rt, .min_diff = x->md, .fmt = x->dt, .nhwc = 1,
         .env = "MOCK_CUDNN_NO_GRAPH=1,MOCK_CUDNN_WS_FAIL=1,PP_CUDA_SMALL_CONV=0", .path = FPATH("algo 0"));
    CASE(.name = FNAME("conv, no 16-bit algorithm: f32 cuDNN"), .op = PP_OP_CONV, .n_in = 4, .n_out = 1, .weights = 6,
         .in = {F32(4, I64(2), I64(8), I64(6), I64(6)), F32(4, I64(8), I64(8), I64(3), I64(3)), F32(1, I64(8)),
                F32(4, I64(2), I64(8), I64(6), I64(6))},
         .n_attr = 2, .attr = {pads1, A_INT("activation", PP_ACT_RELU)}, .atol = x->at * 9, .rtol = x->rt,
         .min_diff = x->md, .fmt = x->dt, .nhwc = 1, .env = "MOCK_CUDNN_NO_HALF=1,PP_CUDA_SMALL_CONV=0",
         .path = FPATH("cudnn graph conv f32 nhwc (converted)"));
}

/* GEMM and MatMul through cuBLASLt, its epilogues and the fallback kernel. */
static void format_gemm_cases(fmt_run *x) {
    CASE(.name = FNAME("gemm (7,96)x(40,96)^T +b +relu"), .op = PP_OP_GEMM, .n_in = 3, .n_out = 1, .weights = 6,
         .in = {F32(2, I64(7), I64(96)), F32(2, I64(40), I64(96)), F32(1, I64(40))}, .n_attr = 2,
         .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_RELU)}, .atol = x->at * 10, .rtol = x->rt,
         .min_diff = x->md, .fmt = x->dt, .path = FPATH("cublaslt %s->%s + C as bias, epilogue"));
    CASE(.name = FNAME("gemm +b +relu, no fused epilogue: C prefilled, kernel"), .op = PP_OP_GEMM, .n_in = 3,
         .n_out = 1, .weights = 6, .in = {F32(2, I64(7), I64(32)), F32(2, I64(16), I64(32)), F32(1, I64(16))},
         .n_attr = 2, .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_RELU)}, .atol = x->at * 6, .rtol = x->rt,
         .min_diff = x->md, .fmt = x->dt, .env = "MOCK_LT_NO_EPILOGUE=1",
         .path = FPATH("cublaslt %s->%s + C prefilled + activation kernel"));
    CASE(.name = FNAME("gemm +b +gelu (erf) in the epilogue"), .op = PP_OP_GEMM, .n_in = 3, .n_out = 1, .weights = 6,
         .in = {F32(2, I64(5), I64(64)), F32(2, I64(24), I64(64)), F32(1, I64(24))}, .n_attr = 2,
         .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_GELU)}, .atol = x->at * 8 + 1e-3f, .rtol = x->rt,
         .min_diff = x->md, .fmt = x->dt, .path = FPATH("cublaslt %s->%s + C as bias, epilogue"));
    CASE(.name = FNAME("matmul (4,6,9,16)x(4,6,16,9) strided batch"), .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(4), I64(6), I64(9), I64(16)), F32(4, I64(4), I64(6), I64(16), I64(9))}, .atol = x->at * 4,
         .rtol = x->rt, .min_diff = x->md, .fmt = x->dt, .path = FPATH("cublaslt"));
    CASE(.name = FNAME("gemm A^T C(3,7), no algorithm: kernel"), .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(24), I64(3)), F32(2, I64(24), I64(7)), F32(2, I64(3), I64(7))}, .n_attr = 3,
         .attr = {A_INT("transA", 1), A_FLOAT("alpha", 0.5), A_FLOAT("beta", 2.0)}, .atol = x->at * 5, .rtol = x->rt,
         .min_diff = x->md, .fmt = x->dt, .env = "MOCK_LT_NO_ALGO=1", .path = FPATH("gemm kernel"));
    CASE(.name = FNAME("matmul (2,1,3,4)x(1,5,4,6), no algorithm: kernel"), .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(2), I64(1), I64(3), I64(4)), F32(4, I64(1), I64(5), I64(4), I64(6))}, .atol = x->at * 2,
         .rtol = x->rt, .min_diff = x->md, .fmt = x->dt, .env = "MOCK_LT_NO_ALGO=1", .path = FPATH("gemm kernel"));
}

static void format_kernel_cases(fmt_run *x) {
    /* the other kernels in 16 bits: element-wise (8-wide where they can), pooling and
     * batch norm NHWC, softmax, LayerNorm (f32 scale and bias), attention */
    CASE(.name = FNAME("silu (2,16,5,7)"), .op = PP_OP_SILU, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(2), I64(16), I64(5), I64(7))}, .atol = x->at, .rtol = x->rt, .min_diff = x->md, .fmt = x->dt,
         .nhwc = 1);
    CASE(.name = FNAME("relu (3,37), odd count"), .op = PP_OP_RELU, .n_in = 1, .n_out = 1,
         .in = {F32(2, I64(3), I64(37))}, .atol = x->at, .rtol = x->rt, .fmt = x->dt);
    CASE(.name = FNAME("add (2,16,5,7)+(2,16,5,7)"), .op = PP_OP_ADD, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(2), I64(16), I64(5), I64(7)), F32(4, I64(2), I64(16), I64(5), I64(7))}, .atol = x->at,
         .rtol = x->rt, .min_diff = x->md, .fmt = x->dt, .nhwc = 1);
    CASE(.name = FNAME("mul (2,16,5,7)*(2,16,1,1), squeeze-excitation"), .op = PP_OP_MUL, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(2), I64(16), I64(5), I64(7)), F32(4, I64(2), I64(16), I64(1), I64(1))}, .atol = x->at,
         .rtol = x->rt, .min_diff = x->md, .fmt = x->dt, .nhwc = 1);
    CASE(.name = FNAME("sub (2,3,4,5)-(3,1,1), plain operand"), .op = PP_OP_SUB, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(2), I64(3), I64(4), I64(5)), F32(3, I64(3), I64(1), I64(1))}, .atol = x->at, .rtol = x->rt,
         .fmt = x->dt, .nhwc = 1);
    CASE(.name = FNAME("less (4,9) gives bool"), .op = PP_OP_LESS, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(4), I64(9)), F32(2, I64(4), I64(9))}, .fmt = x->dt);
    CASE(.name = FNAME("maxpool 3x3 s2 p1 (2,16,9,9)"), .op = PP_OP_MAXPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(2), I64(16), I64(9), I64(9))}, .n_attr = 3,
         .attr = {A_INTS("kernel_shape", 2, I64(3), I64(3)), A_INTS("strides", 2, I64(2), I64(2)), pads1},
         .atol = x->at, .rtol = x->rt, .fmt = x->dt, .nhwc = 1);
    CASE(.name = FNAME("avgpool 2x2 s2 (1,8,6,6)"), .op = PP_OP_AVGPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(8), I64(6), I64(6))}, .n_attr = 2,
         .attr = {A_INTS("kernel_shape", 2, I64(2), I64(2)), A_INTS("strides", 2, I64(2), I64(2))}, .atol = x->at,
         .rtol = x->rt, .fmt = x->dt, .nhwc = 1);
    CASE(.name = FNAME("global avgpool (2,24,9,9)"), .op = PP_OP_GLOBAL_AVGPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(2), I64(24), I64(9), I64(9))}, .atol = x->at, .rtol = x->rt, .fmt = x->dt, .nhwc = 1);
    CASE(.name = FNAME("global maxpool (2,8,3,5)"), .op = PP_OP_GLOBAL_MAXPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(2), I64(8), I64(3), I64(5))}, .atol = x->at, .rtol = x->rt, .fmt = x->dt, .nhwc = 1);
    CASE(.name = FNAME("resize linear (2,8,4,6)->(7,9)"), .op = PP_OP_RESIZE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(2), I64(8), I64(4), I64(6))}, .n_attr = 2,
         .attr = {A_INTS("sizes", 4, I64(2), I64(8), I64(7), I64(9)), A_STR("mode", "linear")}, .atol = x->at,
         .rtol = x->rt, .fmt = x->dt, .nhwc = 1);
    CASE(.name = FNAME("resize nearest x2 (1,16,3,5)"), .op = PP_OP_RESIZE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(16), I64(3), I64(5))}, .n_attr = 2,
         .attr = {A_FLOATS("scales", 4, 1.0, 1.0, 2.0, 2.0), A_STR("mode", "nearest")}, .atol = x->at, .rtol = x->rt,
         .fmt = x->dt, .nhwc = 1);
    CASE(.name = FNAME("concat channels (2,8,3,5)+(2,16,3,5)"), .op = PP_OP_CONCAT, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(2), I64(8), I64(3), I64(5)), F32(4, I64(2), I64(16), I64(3), I64(5))}, .n_attr = 1,
         .attr = {A_INT("axis", 1)}, .atol = x->at, .rtol = x->rt, .fmt = x->dt, .nhwc = 1);
    CASE(.name = FNAME("batchnorm (2,16,5,5), f32 statistics"), .op = PP_OP_BATCHNORM, .n_in = 5, .n_out = 1,
         .in = {F32(4, I64(2), I64(16), I64(5), I64(5)), F32(1, I64(16)), F32(1, I64(16)), F32(1, I64(16)),
                with_gen(F32(1, I64(16)), G_POS, 0)},
         .atol = x->at * 4, .rtol = x->rt, .fmt = x->dt, .nhwc = 1);
    CASE(.name = FNAME("softmax (4,37)"), .op = PP_OP_SOFTMAX, .n_in = 1, .n_out = 1, .in = {F32(2, I64(4), I64(37))},
         .atol = x->at * 0.1f, .rtol = x->rt, .fmt = x->dt);
    CASE(.name = FNAME("log_softmax axis 1 (2,5,7)"), .op = PP_OP_LOG_SOFTMAX, .n_in = 1, .n_out = 1,
         .in = {F32(3, I64(2), I64(5), I64(7))}, .n_attr = 1, .attr = {A_INT("axis", 1)}, .atol = x->at, .rtol = x->rt,
         .fmt = x->dt);
    CASE(.name = FNAME("layernorm (6,96), f32 scale and bias"), .op = PP_OP_LAYERNORM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(6), I64(96)), F32(1, I64(96)), F32(1, I64(96))}, .atol = x->at * 4, .rtol = x->rt,
         .fmt = x->dt);
    CASE(.name = FNAME("attention (2,3,7,16)"), .op = PP_OP_ATTENTION, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(2), I64(3), I64(7), I64(16)), F32(4, I64(2), I64(3), I64(9), I64(16)),
                F32(4, I64(2), I64(3), I64(9), I64(8))},
         .atol = x->at, .rtol = x->rt, .min_diff = x->md, .fmt = x->dt);
    CASE(.name = FNAME("attention causal, 600 keys (1,2,5,600,64): tiled"), .op = PP_OP_ATTENTION, .n_in = 3,
         .n_out = 1,
         .in = {F32(4, I64(1), I64(2), I64(5), I64(64)), F32(4, I64(1), I64(2), I64(600), I64(64)),
                F32(4, I64(1), I64(2), I64(600), I64(64))},
         .n_attr = 1, .attr = {A_INT("causal", 1)}, .atol = x->at, .rtol = x->rt, .min_diff = x->md, .fmt = x->dt);
}

static void format_graph_case(fmt_run *x) {
    run_graph(&(tcase){
        .name = FNAME("graph: conv 3x3 +b +relu, fused"),
        .op = PP_OP_CONV,
        .n_in = 3,
        .n_out = 1,
        .weights = 6,
        .in = {F32(4, I64(2), I64(16), I64(6), I64(6)), F32(4, I64(16), I64(16), I64(3), I64(3)), F32(1, I64(16))},
        .n_attr = 2,
        .attr = {pads1, A_INT("activation", PP_ACT_RELU)},
        .atol = x->at * 12,
        .rtol = x->rt,
        .min_diff = x->md,
        .fmt = x->dt,
        .nhwc = 1,
        .path = FPATH("conv+epilogue")});
}
#undef FNAME
#undef FPATH
#undef pads1

/* The planner's formats: 16-bit tensors (NHWC for convolutions) straight into
 * cuDNN and cuBLASLt, each path the backend can take checked by its account of
 * the launch, the mocks (emulator) told to refuse what forces a fallback. The
 * CPU computes on the same 16-bit values in f32; the GPU rounds its output to
 * 16 bits (once where the epilogue is fused, twice where a kernel follows), so
 * rtol is about two units of the output's rounding. */
void format_cases(void) {
    static const pp_precision modes[] = {PP_PREC_FP16, PP_PREC_BF16};
    for (int mi = 0; mi < 2; mi++) {
        pp_precision prec = modes[mi];
        pp_error err;
        if (gpu->ops->set_precision(gpu, prec, &err) != PP_OK) continue;
        fmt_run x = {.dt = prec == PP_PREC_FP16 ? PP_DTYPE_F16 : PP_DTYPE_BF16,
                     .f = prec == PP_PREC_FP16 ? "f16" : "bf16",
                     .rt = prec == PP_PREC_FP16 ? 2e-3f : 1.6e-2f};
        x.at = x.rt * 4.f;
        x.md = x.rt * 1e-2f;
        format_conv_cases(&x);
        format_gemm_cases(&x);
        format_kernel_cases(&x);
        if (gpu->ops->capture_begin) format_graph_case(&x);
    }
    pp_error err;
    (void)gpu->ops->set_precision(gpu, PP_PREC_FP32, &err);
}

/* f32 where the libraries offer nothing: cuDNN's legacy API, the direct and GEMM kernels. */
void fallback_cases(void) {
    CASE(.name = "conv, no graph engine: legacy f32", .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(2), I64(5), I64(6), I64(6)), F32(4, I64(7), I64(5), I64(3), I64(3)), F32(1, I64(7))},
         .n_attr = 2, .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)), A_INT("activation", PP_ACT_RELU)},
         .atol = 1e-4f, .rtol = 1e-4f, .env = "MOCK_CUDNN_NO_GRAPH=1", .path = "cudnn legacy f32 nchw");
    CASE(.name = "conv asymmetric pads, no graph engine: direct f32", .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(6), I64(7)), F32(4, I64(4), I64(3), I64(3), I64(2)), F32(1, I64(4))},
         .n_attr = 1, .attr = {A_INTS("pads", 4, I64(0), I64(1), I64(2), I64(0))}, .atol = 1e-4f, .rtol = 1e-4f,
         .env = "MOCK_CUDNN_NO_GRAPH=1", .path = "direct kernel f32 nchw");
    CASE(.name = "gemm +b +relu, no fused epilogue: C prefilled, kernel f32", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(9), I64(40)), F32(2, I64(21), I64(40)), F32(1, I64(21))}, .n_attr = 2,
         .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_RELU)}, .atol = 1e-4f, .rtol = 1e-4f,
         .env = "MOCK_LT_NO_EPILOGUE=1", .path = "cublaslt f32->f32 + C prefilled + activation kernel");
    CASE(.name = "gemm +b +silu, no algorithm: kernel f32", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(9), I64(40)), F32(2, I64(21), I64(40)), F32(1, I64(21))}, .n_attr = 2,
         .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_SILU)}, .atol = 1e-4f, .rtol = 1e-4f,
         .env = "MOCK_LT_NO_ALGO=1", .path = "gemm kernel f32");
}

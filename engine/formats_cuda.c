/* formats_cuda.c: what the CUDA backend's kernels take (formats.h), as a function
 * of the device's facts and the engine's precision, so a plan can be made for a
 * GPU that is not there.
 *
 * fp32 and tf32: every tensor plain, in the graph's dtypes (cuDNN and cuBLASLt
 * take NCHW f32 as it is).
 *
 * fp16 and bf16: activations stay 16-bit from the first node to the last, so a
 * CNN converts at its input and its output only:
 *   - convolutions, batch norm, pooling, resize: 16-bit NHWC (a convolution's filter
 *     KRSC and its bias 16-bit, converted once at plan time; batch norm's
 *     statistics as stored);
 *   - element-wise ops: 16-bit in the layout their operands arrive in (a rank-4
 *     operand that is not NHWC beside one that is is asked for NHWC; a weight
 *     is converted at plan time, and a (1, C, 1, 1) one needs no conversion);
 *   - GEMM, MATMUL, attention, softmax, LayerNorm (its scale and bias as
 *     stored): 16-bit plain;
 *   - data movement (reshape, transpose, concat, slice, gather, ...): plain, in
 *     whatever dtype arrives (16-bit stays 16-bit; a gathered table or a
 *     concatenated weight follows the activations); a concat of rank-4 tensors
 *     of which one is NHWC stays NHWC (DenseNet's feature maps);
 *   - everything else: f32 plain, as its kernels take (a reduction, a
 *     cumulative sum), with conversions around it.
 * Statistics, reductions and accumulations stay f32 inside the kernels. */
#include "formats.h"

static int is_float(pp_dtype t) { return t == PP_DTYPE_F32 || t == PP_DTYPE_F16 || t == PP_DTYPE_BF16; }

/* every float input in dtype dt; layouts: rank-4 ones NHWC when nhwc, others plain */
static void want_all(const pp_node *n, const pp_shape *have, pp_shape *want, pp_dtype dt, int nhwc) {
    for (int i = 0; i < n->n_in; i++) {
        if (!is_float(have[i].dtype)) continue;
        want[i].dtype = dt;
        want[i].layout = nhwc && have[i].rank == 4 ? PP_LAYOUT_NHWC : PP_LAYOUT_PLAIN;
        want[i].block = 0;
    }
}

/* The element-wise ops whose CUDA kernel computes in 16 bits. */
static int is_eltwise(const pp_node *n) {
    const pp_op_def *d = pp_op_def_get(n->op);
    return d && (d->describe == pp_describe_unary || d->describe == pp_describe_binary);
}

void pp_format_policy_cuda(const pp_format_caps *caps, const pp_node *node, const pp_shape *have, pp_shape *want) {
    pp_dtype hd = caps->precision == PP_PREC_FP16                                      ? PP_DTYPE_F16
                  : caps->precision == PP_PREC_BF16 && (!caps->gpu || caps->gpu->bf16) ? PP_DTYPE_BF16
                                                                                       : PP_DTYPE_INVALID;
    if (hd == PP_DTYPE_INVALID) return; /* fp32, tf32: plain f32 */
    const pp_op op = node->op;
    if (op == PP_OP_CONV) {
        if (have[0].rank == 4) want_all(node, have, want, hd, 1);
        else want_all(node, have, want, PP_DTYPE_F32, 0);
        return;
    }
    if (op == PP_OP_BATCHNORM || op == PP_OP_MAXPOOL || op == PP_OP_AVGPOOL || op == PP_OP_GLOBAL_AVGPOOL ||
        op == PP_OP_GLOBAL_MAXPOOL || op == PP_OP_RESIZE) {
        if (is_float(have[0].dtype)) {
            want[0].dtype = hd;
            want[0].layout = have[0].rank == 4 ? PP_LAYOUT_NHWC : PP_LAYOUT_PLAIN;
        }
        return;
    }
    if (op == PP_OP_GEMM || op == PP_OP_MATMUL || op == PP_OP_SOFTMAX || op == PP_OP_LOG_SOFTMAX) {
        want_all(node, have, want, hd, 0);
        return;
    }
    if (op == PP_OP_ATTENTION || op == PP_OP_LAYERNORM) { /* the mask, scale and bias as they are */
        for (int i = 0; i < node->n_in && i < (op == PP_OP_ATTENTION ? 3 : 1); i++)
            if (is_float(have[i].dtype)) want[i].dtype = hd, want[i].layout = PP_LAYOUT_PLAIN;
        return;
    }
    if (is_eltwise(node)) {
        /* follow the activations' layout: NHWC when a rank-4 operand is */
        int nhwc = 0;
        for (int i = 0; i < node->n_in; i++) nhwc |= have[i].layout == PP_LAYOUT_NHWC;
        want_all(node, have, want, hd, nhwc);
        return;
    }
    if (pp_format_moves_bytes(op) || op == PP_OP_WHERE || op == PP_OP_CAST) {
        /* plain; float inputs in one dtype: 16-bit when any activation is */
        int any16 = 0;
        for (int i = 0; i < node->n_in; i++) any16 |= have[i].dtype == PP_DTYPE_F16 || have[i].dtype == PP_DTYPE_BF16;
        for (int i = 0; i < node->n_in; i++) {
            want[i].layout = PP_LAYOUT_PLAIN;
            want[i].block = 0;
            if (is_float(have[i].dtype) && op != PP_OP_CAST) want[i].dtype = any16 ? hd : have[i].dtype;
        }
        if (op == PP_OP_GATHER && is_float(have[0].dtype)) want[0].dtype = hd; /* an embedding table */
        /* a concat of NHWC feature maps (DenseNet) stays NHWC */
        int nhwc = op == PP_OP_CONCAT;
        for (int i = 0; i < node->n_in && nhwc; i++) nhwc = have[i].rank == 4;
        if (nhwc) {
            int any = 0;
            for (int i = 0; i < node->n_in; i++) any |= have[i].layout == PP_LAYOUT_NHWC;
            for (int i = 0; i < node->n_in && any; i++) want[i].layout = PP_LAYOUT_NHWC;
        }
        return;
    }
    want_all(node, have, want, PP_DTYPE_F32, 0); /* the f32 kernels */
}

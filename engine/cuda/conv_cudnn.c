/* conv_cudnn.c: CONV through cuDNN, NCHW f32, with bias, residual and activation
 * in one follow-up kernel (kernels/cuda/eltwise.cu: y = act(y + bias + res)).
 * In the FP16/BF16 modes cuDNN convolves 16-bit NHWC x, w (KRSC) and y with f32
 * compute on tensor cores: the filter converted and transposed once
 * (half_weights.c), x converted and transposed into the workspace by each launch
 * (kernels/cuda/layout.cu), y transposed back to NCHW f32 in the same pass as
 * the bias/residual/activation epilogue.
 *
 * This first step uses cuDNN's legacy convolution API (deprecated in cuDNN 9 but
 * exported and silent unless CUDNN_WARN_DEPRECATED; reference/cuda.md §1a): it
 * takes NCHW f32 as it is, and cudnnGetConvolutionForwardAlgorithm_v7 ranks the
 * algorithms without running anything. With FP32 precision the descriptor asks
 * for FMA math so no TF32 sneaks in; with TF32 precision cuDNN may use tensor
 * cores. The backend-graph path (conv + bias + ReLU fused, NHWC, fp16/bf16) is
 * the next step, with the precision modes (docs/cuda.md).
 *
 * What cuDNN's descriptors cannot say (asymmetric padding that changes the
 * output size, extents past INT_MAX) or where it finds no algorithm goes to the
 * direct kernel (kernels/cuda/conv.cu), which fuses the epilogue itself.
 */
#include <limits.h>
#include <stdio.h>

#include "cuda_internal.h"

struct pp_conv_plan {
    int direct;
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    cudnnConvolutionFwdAlgo_t algo;
    size_t ws;
    /* 16-bit modes: the type, the converted weight (or where in the workspace a
     * launch converts a weight that is an activation), and where x and y go */
    pp_dtype hd;
    void *w16;
    size_t x_off, y_off, w_off;
    int64_t nx, ny, nw;
};

void pp_conv_release(pp_backend *b, pp_conv_plan *p) {
    if (!p) return;
    if (p->w16) pp_cuda_half_weight_put(b, p->w16);
    if (p->xd) cudnnDestroyTensorDescriptor(p->xd);
    if (p->yd) cudnnDestroyTensorDescriptor(p->yd);
    if (p->wd) cudnnDestroyFilterDescriptor(p->wd);
    if (p->cd) cudnnDestroyConvolutionDescriptor(p->cd);
    pp_free(p);
}

static int fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

#define DNN(call, what)                                                                                                \
    do {                                                                                                               \
        cudnnStatus_t s_ = (call);                                                                                     \
        if (s_ != CUDNN_STATUS_SUCCESS) {                                                                              \
            char detail_[256];                                                                                         \
            cudnnGetLastErrorString(detail_, sizeof detail_);                                                          \
            rc = pp_error_set(err, PP_ERR_DEVICE, "%s: node '%s': %s: %s (%s)", b->name, l->node->name, what,          \
                              cudnnGetErrorString(s_), detail_);                                                       \
            goto fail;                                                                                                 \
        }                                                                                                              \
    } while (0)

/* hd: the 16-bit type to convolve in, PP_DTYPE_INVALID for f32. */
static pp_code conv_prepare(pp_backend *b, pp_launch *l, pp_dtype hd, pp_conv_plan **out, size_t *ws_bytes,
                            pp_error *err) {
    pp_cuda_ctx *c = b->ctx;
    const pp_conv_params *cp = &l->params.conv;
    pp_code rc = PP_OK;
    *out = NULL;
    *ws_bytes = 0;
    pp_conv_plan *p = pp_calloc(1, sizeof *p);
    if (!p) return pp_error_set(err, PP_ERR_NOMEM, "%s: out of memory preparing node '%s'", b->name, l->node->name);
    if (cp->group <= 0 || cp->c % cp->group || cp->k % cp->group) {
        pp_free(p);
        return pp_error_set(err, PP_ERR_SHAPE, "%s: node '%s': group %lld does not divide C %lld and K %lld", b->name,
                            l->node->name, (long long)cp->group, (long long)cp->c, (long long)cp->k);
    }
    /* constant whatever path is taken, see PP_CUDA_CONV_WS_MAX */
    *ws_bytes = PP_CUDA_CONV_WS_MAX;
    int64_t vals[] = {cp->n,  cp->c,        cp->h,        cp->w,       cp->k,        cp->kh,    cp->kw,    cp->oh,
                      cp->ow, cp->stride_h, cp->stride_w, cp->pad_top, cp->pad_left, cp->dil_h, cp->dil_w, cp->group};
    int ok = cp->n > 0;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) ok &= fits_int(vals[i]);
    if (!ok) {
        p->direct = 1;
        *out = p;
        return PP_OK;
    }
    p->hd = hd;
    cudnnDataType_t dt = p->hd == PP_DTYPE_F16    ? CUDNN_DATA_HALF
                         : p->hd == PP_DTYPE_BF16 ? CUDNN_DATA_BFLOAT16
                                                  : CUDNN_DATA_FLOAT;
    /* 16 bits: NHWC, the layout tensor cores take without cuDNN transposing */
    cudnnTensorFormat_t fmt = p->hd == PP_DTYPE_INVALID ? CUDNN_TENSOR_NCHW : CUDNN_TENSOR_NHWC;
    DNN(cudnnCreateTensorDescriptor(&p->xd), "cudnnCreateTensorDescriptor");
    DNN(cudnnCreateTensorDescriptor(&p->yd), "cudnnCreateTensorDescriptor");
    DNN(cudnnCreateFilterDescriptor(&p->wd), "cudnnCreateFilterDescriptor");
    DNN(cudnnCreateConvolutionDescriptor(&p->cd), "cudnnCreateConvolutionDescriptor");
    DNN(cudnnSetTensor4dDescriptor(p->xd, fmt, dt, (int)cp->n, (int)cp->c, (int)cp->h, (int)cp->w),
        "cudnnSetTensor4dDescriptor(x)");
    DNN(cudnnSetFilter4dDescriptor(p->wd, dt, fmt, (int)cp->k, (int)(cp->c / cp->group), (int)cp->kh, (int)cp->kw),
        "cudnnSetFilter4dDescriptor");
    /* Symmetric padding only: pad_top/pad_left on both sides. That gives the same
     * result as the real (bottom/right) padding whenever the output extent agrees:
     * the extra cells either side are zeros that no window of ours reaches. */
    DNN(cudnnSetConvolution2dDescriptor(p->cd, (int)cp->pad_top, (int)cp->pad_left, (int)cp->stride_h,
                                        (int)cp->stride_w, (int)cp->dil_h, (int)cp->dil_w, CUDNN_CROSS_CORRELATION,
                                        CUDNN_DATA_FLOAT),
        "cudnnSetConvolution2dDescriptor");
    DNN(cudnnSetConvolutionGroupCount(p->cd, (int)cp->group), "cudnnSetConvolutionGroupCount");
    /* the compute type stays f32 (CUDNN_DATA_FLOAT above) in every mode */
    cudnnMathType_t math = c->precision == PP_PREC_FP32   ? CUDNN_FMA_MATH
                           : c->precision == PP_PREC_TF32 ? CUDNN_DEFAULT_MATH
                                                          : CUDNN_TENSOR_OP_MATH;
    DNN(cudnnSetConvolutionMathType(p->cd, math), "cudnnSetConvolutionMathType");
    int on, oc, ohh, oww;
    DNN(cudnnGetConvolution2dForwardOutputDim(p->cd, p->xd, p->wd, &on, &oc, &ohh, &oww),
        "cudnnGetConvolution2dForwardOutputDim");
    if (on != cp->n || oc != cp->k || ohh != cp->oh || oww != cp->ow) {
        /* asymmetric padding that changes the output: the direct kernel */
        pp_conv_release(b, p);
        p = pp_calloc(1, sizeof *p);
        if (!p) {
            *ws_bytes = 0;
            return pp_error_set(err, PP_ERR_NOMEM, "%s: out of memory", b->name);
        }
        p->direct = 1;
        *out = p;
        return PP_OK;
    }
    DNN(cudnnSetTensor4dDescriptor(p->yd, fmt, dt, (int)cp->n, (int)cp->k, (int)cp->oh, (int)cp->ow),
        "cudnnSetTensor4dDescriptor(y)");
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int found = 0;
    DNN(cudnnGetConvolutionForwardAlgorithm_v7(c->dnn, p->xd, p->wd, p->cd, p->yd, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                               &found, perf),
        "cudnnGetConvolutionForwardAlgorithm_v7");
    /* FP32: FMA-only algorithms first (DEFAULT math may round to TF32 on Ampere
     * and later); TF32: the heuristic's order. */
    int pick = -1;
    for (int pass = 0; pass < 2 && pick < 0; pass++)
        for (int i = 0; i < found && pick < 0; i++) {
            if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > PP_CUDA_CONV_WS_MAX) continue;
            if (pass == 0 && c->precision == PP_PREC_FP32 && perf[i].mathType != CUDNN_FMA_MATH) continue;
            if (pass == 1 && perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;
            pick = i;
        }
    if (pick < 0) {
        pp_conv_release(b, p);
        p = pp_calloc(1, sizeof *p);
        if (!p) {
            *ws_bytes = 0;
            return pp_error_set(err, PP_ERR_NOMEM, "%s: out of memory", b->name);
        }
        p->direct = 1;
        *out = p;
        return PP_OK;
    }
    if (perf[pick].mathType != math)
        DNN(cudnnSetConvolutionMathType(p->cd, perf[pick].mathType), "cudnnSetConvolutionMathType");
    p->algo = perf[pick].algo;
    /* the size for this exact configuration, which may exceed the ranking's figure */
    DNN(cudnnGetConvolutionForwardWorkspaceSize(c->dnn, p->xd, p->wd, p->cd, p->yd, p->algo, &p->ws),
        "cudnnGetConvolutionForwardWorkspaceSize");
    if (p->ws > PP_CUDA_CONV_WS_MAX) {
        pp_conv_release(b, p);
        p = pp_calloc(1, sizeof *p);
        if (!p) {
            *ws_bytes = 0;
            return pp_error_set(err, PP_ERR_NOMEM, "%s: out of memory", b->name);
        }
        p->direct = 1;
        *out = p;
        return PP_OK;
    }
    if (p->hd != PP_DTYPE_INVALID) {
        /* after cuDNN's part of the workspace: x, y and (when it is no weight) w in 16 bits */
        p->nx = cp->n * cp->c * cp->h * cp->w;
        p->ny = cp->n * cp->k * cp->oh * cp->ow;
        p->nw = cp->k * (cp->c / cp->group) * cp->kh * cp->kw;
        size_t at = PP_CUDA_CONV_WS_MAX;
        p->x_off = at;
        at += ((size_t)p->nx * 2 + 255) & ~(size_t)255;
        p->y_off = at;
        at += ((size_t)p->ny * 2 + 255) & ~(size_t)255;
        p->w_off = SIZE_MAX;
        if (!(l->weights & 2u)) {
            p->w_off = at;
            at += ((size_t)p->nw * 2 + 255) & ~(size_t)255;
        } else if (l->in[1] && (rc = pp_cuda_half_weight_get(b, l->in[1], p->nw, p->hd, cp->c / cp->group,
                                                             cp->kh * cp->kw, &p->w16, err))) {
            goto fail;
        }
        *ws_bytes = at;
    }
    *out = p; /* cuDNN is told the size it needs (p->ws), the arena has the constant */
    return PP_OK;
fail:
    pp_conv_release(b, p);
    *ws_bytes = 0;
    return rc;
}

pp_code pp_conv_prepare(pp_backend *b, pp_launch *l, pp_conv_plan **out, size_t *ws_bytes, pp_error *err) {
    pp_dtype hd = pp_cuda_half_dtype(b->ctx);
    pp_code rc = conv_prepare(b, l, hd, out, ws_bytes, err);
    /* A cuDNN that refuses this convolution in 16 bits (a data type or layout
     * its version lacks) still gets it in f32, rather than failing the build. */
    if (rc && rc != PP_ERR_NOMEM && hd != PP_DTYPE_INVALID)
        rc = conv_prepare(b, l, PP_DTYPE_INVALID, out, ws_bytes, err);
    return rc;
}

pp_code pp_conv_launch(pp_backend *b, pp_stream *s, const pp_launch *l, const pp_conv_plan *p, pp_error *err) {
    const pp_conv_params *cp = &l->params.conv;
    if (cp->n * cp->k * cp->oh * cp->ow <= 0) return PP_OK;
    cudaError_t e;
    if (p->direct) {
        pp_cuda_exec x = {s->s, s->err_dev};
        const void *in[4] = {l->in[0], l->in[1], l->node->n_in > 2 ? l->in[2] : NULL,
                             l->node->n_in > 3 ? l->in[3] : NULL};
        e = pp_cuda_conv_direct(&l->params, in, l->out, l->ws, &x);
        if (e != cudaSuccess) goto kernel_fail;
        return PP_OK;
    }
    if (p->ws && !l->ws)
        return pp_error_set(err, PP_ERR_INTERNAL, "%s: node '%s': no workspace (%zu bytes needed)", b->name,
                            l->node->name, p->ws);
    const float one = 1.f, zero = 0.f;
    const void *x = l->in[0], *w = l->in[1];
    void *y = l->out[0];
    if (p->hd != PP_DTYPE_INVALID) {
        char *ws = l->ws;
        e = pp_cuda_to_nhwc(ws + p->x_off, p->hd, x, cp->n, cp->c, cp->h * cp->w, s->s);
        x = ws + p->x_off;
        y = ws + p->y_off;
        if (e == cudaSuccess && p->w_off != SIZE_MAX) {
            e = pp_cuda_to_nhwc(ws + p->w_off, p->hd, w, cp->k, cp->c / cp->group, cp->kh * cp->kw, s->s);
            w = ws + p->w_off;
        } else if (e == cudaSuccess) {
            if (!p->w16)
                return pp_error_set(err, PP_ERR_INTERNAL, "%s: node '%s': the weight was not converted at prepare",
                                    b->name, l->node->name);
            w = p->w16;
        }
        if (e != cudaSuccess) goto kernel_fail;
    }
    /* s->dnn is bound to s->s since stream_create */
    cudnnStatus_t ds =
        cudnnConvolutionForward(s->dnn, &one, p->xd, x, p->wd, w, p->cd, p->algo, l->ws, p->ws, &zero, p->yd, y);
    if (ds != CUDNN_STATUS_SUCCESS) {
        char detail[256];
        cudnnGetLastErrorString(detail, sizeof detail);
        return pp_error_set(err, PP_ERR_DEVICE, "%s: node '%s': cudnnConvolutionForward: %s (%s)", b->name,
                            l->node->name, cudnnGetErrorString(ds), detail);
    }
    const float *bias = l->node->n_in > 2 ? l->in[2] : NULL, *res = l->node->n_in > 3 ? l->in[3] : NULL;
    if (p->hd != PP_DTYPE_INVALID)
        e = pp_cuda_from_nhwc_bias_act(l->out[0], y, p->hd, bias, res, cp->n, cp->k, cp->oh * cp->ow, cp->act, s->s);
    else e = pp_cuda_bias_act_nchw(l->out[0], bias, res, cp->n, cp->k, cp->oh * cp->ow, cp->act, s->s);
    if (e != cudaSuccess) goto kernel_fail;
    return PP_OK;
kernel_fail:
    (void)cudaGetLastError();
    return pp_error_set(err, PP_ERR_DEVICE, "%s: node '%s': launching the kernel: %s (%s)", b->name, l->node->name,
                        cudaGetErrorName(e), cudaGetErrorString(e));
}

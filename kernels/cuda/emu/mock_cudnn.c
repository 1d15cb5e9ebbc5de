/* mock_cudnn.c: the legacy cuDNN convolution calls engine/cuda/conv_cudnn.c makes,
 * on the host: descriptors keep what they are given, the output size follows
 * cuDNN's formula (symmetric padding), and the forward pass is a plain NCHW
 * cross-correlation with groups and dilation. Checks that descriptors agree with
 * the pointers' tensors (shapes, group) the way cuDNN would refuse them. */
#include <cudnn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cudnnTensorStruct { int n, c, h, w; };
struct cudnnFilterStruct { int k, c, r, s; };
struct cudnnConvolutionStruct { int ph, pw, sh, sw, dh, dw, group; cudnnMathType_t math; };

const char *cudnnGetErrorString(cudnnStatus_t s) { return s ? "MOCK_CUDNN_ERROR" : "CUDNN_STATUS_SUCCESS"; }
void cudnnGetLastErrorString(char *buf, size_t n) { if (n) buf[0] = 0; }
cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t *d) { *d = calloc(1, sizeof **d); return 0; }
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) { free(d); return 0; }
cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t *d) { *d = calloc(1, sizeof **d); return 0; }
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) { free(d); return 0; }
cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *d) {
    *d = calloc(1, sizeof **d);
    (*d)->group = 1;
    return 0;
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) { free(d); return 0; }
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t f, cudnnDataType_t t, int n,
                                         int c, int h, int w) {
    if (f != CUDNN_TENSOR_NCHW || t != CUDNN_DATA_FLOAT || n <= 0 || c <= 0 || h <= 0 || w <= 0) return CUDNN_STATUS_BAD_PARAM;
    d->n = n, d->c = c, d->h = h, d->w = w;
    return 0;
}
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t t, cudnnTensorFormat_t f, int k,
                                         int c, int r, int s) {
    if (f != CUDNN_TENSOR_NCHW || t != CUDNN_DATA_FLOAT || k <= 0 || c <= 0 || r <= 0 || s <= 0) return CUDNN_STATUS_BAD_PARAM;
    d->k = k, d->c = c, d->r = r, d->s = s;
    return 0;
}
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int ph, int pw, int sh, int sw, int dh,
                                              int dw, cudnnConvolutionMode_t m, cudnnDataType_t t) {
    if (m != CUDNN_CROSS_CORRELATION || t != CUDNN_DATA_FLOAT || ph < 0 || pw < 0 || sh <= 0 || sw <= 0 || dh <= 0 || dw <= 0)
        return CUDNN_STATUS_BAD_PARAM;
    d->ph = ph, d->pw = pw, d->sh = sh, d->sw = sw, d->dh = dh, d->dw = dw;
    return 0;
}
cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t d, int g) {
    if (g <= 0) return CUDNN_STATUS_BAD_PARAM;
    d->group = g;
    return 0;
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t m) { d->math = m; return 0; }
cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t cd,
                                                    const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
                                                    int *n, int *c, int *h, int *wo) {
    if (x->c != w->c * cd->group || w->k % cd->group) return CUDNN_STATUS_BAD_PARAM;
    *n = x->n;
    *c = w->k;
    *h = (x->h + 2 * cd->ph - cd->dh * (w->r - 1) - 1) / cd->sh + 1;
    *wo = (x->w + 2 * cd->pw - cd->dw * (w->s - 1) - 1) / cd->sw + 1;
    return 0;
}
cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t h, const cudnnTensorDescriptor_t x,
                                                     const cudnnFilterDescriptor_t w,
                                                     const cudnnConvolutionDescriptor_t cd,
                                                     const cudnnTensorDescriptor_t y, const int req, int *ret,
                                                     cudnnConvolutionFwdAlgoPerf_t *perf) {
    memset(perf, 0, sizeof *perf * (size_t)req);
    perf[0].algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
    perf[0].status = CUDNN_STATUS_SUCCESS;
    perf[0].memory = 1024; /* some workspace, to exercise its plumbing */
    perf[0].mathType = cd->math;
    *ret = 1;
    return 0;
}
cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t h, const cudnnTensorDescriptor_t x,
                                                      const cudnnFilterDescriptor_t w,
                                                      const cudnnConvolutionDescriptor_t cd,
                                                      const cudnnTensorDescriptor_t y, cudnnConvolutionFwdAlgo_t a,
                                                      size_t *n) {
    *n = 1024;
    return 0;
}
cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t h, const void *alpha, const cudnnTensorDescriptor_t xd,
                                      const void *x, const cudnnFilterDescriptor_t wd, const void *w,
                                      const cudnnConvolutionDescriptor_t cd, cudnnConvolutionFwdAlgo_t algo, void *ws,
                                      size_t wsz, const void *beta, const cudnnTensorDescriptor_t yd, void *y) {
    int n, k, oh, ow;
    if (cudnnGetConvolution2dForwardOutputDim(cd, xd, wd, &n, &k, &oh, &ow)) return CUDNN_STATUS_BAD_PARAM;
    if (yd->n != n || yd->c != k || yd->h != oh || yd->w != ow) return CUDNN_STATUS_BAD_PARAM;
    if (wsz < 1024 || !ws) return CUDNN_STATUS_BAD_PARAM;
    memset(ws, 0x5A, 1024); /* it is ours to scribble on */
    const float *X = x, *W = w;
    float *Y = y, a = *(const float *)alpha, b = *(const float *)beta;
    int cg = xd->c / cd->group, kg = k / cd->group;
    for (int in = 0; in < n; in++)
        for (int ik = 0; ik < k; ik++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    int g = ik / kg;
                    double s = 0;
                    for (int c = 0; c < cg; c++)
                        for (int r = 0; r < wd->r; r++)
                            for (int q = 0; q < wd->s; q++) {
                                int iy = oy * cd->sh - cd->ph + r * cd->dh, ix = ox * cd->sw - cd->pw + q * cd->dw;
                                if (iy < 0 || iy >= xd->h || ix < 0 || ix >= xd->w) continue;
                                s += (double)X[((in * xd->c + g * cg + c) * xd->h + iy) * xd->w + ix] *
                                     W[((ik * cg + c) * wd->r + r) * wd->s + q];
                            }
                    float *o = &Y[((in * k + ik) * oh + oy) * ow + ox];
                    *o = a * (float)s + (b != 0.f ? b * *o : 0.f);
                }
    return 0;
}

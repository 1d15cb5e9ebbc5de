/* mock_cudnn.c: the legacy cuDNN convolution calls engine/cuda/conv_cudnn.c makes,
 * on the host: descriptors keep what they are given, the output size follows
 * cuDNN's formula (symmetric padding), and the forward pass is a plain NCHW
 * cross-correlation with groups and dilation. Checks that descriptors agree with
 * the pointers' tensors (shapes, group) the way cuDNN would refuse them. x, w and
 * y are f32, or all three f16 or bf16 (the 16-bit precision modes; the compute
 * type stays f32). The heuristic ranks two algorithms (one needing 1 KiB of
 * workspace, one none). MOCK_CUDNN_NO_HALF=1 refuses 16-bit descriptors;
 * MOCK_CUDNN_WS_FAIL=1 fails GetWorkspaceSize for the first algorithm (the
 * caller must move on to the next). The graph API is in mock_cudnn_graph.c. */
#include <cudnn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_cudnn.h"

struct cudnnTensorStruct {
    int n, c, h, w;
    cudnnDataType_t t;
    cudnnTensorFormat_t f;
};
struct cudnnFilterStruct {
    int k, c, r, s;
    cudnnDataType_t t;
    cudnnTensorFormat_t f;
};

/* element offsets by format: NCHW / KCRS, or NHWC / KRSC */
static size_t xat(const struct cudnnTensorStruct *d, int n, int c, int h, int w) {
    return d->f == CUDNN_TENSOR_NHWC ? (((size_t)n * d->h + h) * d->w + w) * d->c + c
                                     : (((size_t)n * d->c + c) * d->h + h) * d->w + w;
}
static size_t wat(const struct cudnnFilterStruct *d, int k, int c, int r, int s) {
    return d->f == CUDNN_TENSOR_NHWC ? (((size_t)k * d->r + r) * d->s + s) * d->c + c
                                     : (((size_t)k * d->c + c) * d->r + r) * d->s + s;
}

static int no_half(void) {
    const char *v = getenv("MOCK_CUDNN_NO_HALF");
    return v && *v == '1';
}

static int known(cudnnDataType_t t) {
    if (t != CUDNN_DATA_FLOAT && no_half()) return 0;
    return t == CUDNN_DATA_FLOAT || t == CUDNN_DATA_HALF || t == CUDNN_DATA_BFLOAT16;
}

float mock_ld(cudnnDataType_t t, const void *p, size_t i) {
    if (t == CUDNN_DATA_FLOAT) return ((const float *)p)[i];
    uint16_t h = ((const uint16_t *)p)[i];
    uint32_t bits;
    if (t == CUDNN_DATA_BFLOAT16) {
        bits = (uint32_t)h << 16;
    } else {
        uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023;
        if (e == 0) {
            float v = ldexpf((float)m, -24);
            return sign ? -v : v;
        }
        bits = e == 31 ? sign | 0x7F800000u | (m << 13) : sign | ((e + 112) << 23) | (m << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* float to f16 / bf16 bits, round to nearest even (finite values of our range) */
void mock_st(cudnnDataType_t t, void *p, size_t i, float v) {
    if (t == CUDNN_DATA_FLOAT) {
        ((float *)p)[i] = v;
        return;
    }
    uint32_t b;
    memcpy(&b, &v, 4);
    uint16_t out;
    if (t == CUDNN_DATA_BFLOAT16) {
        out = (uint16_t)((b + 0x7FFFu + ((b >> 16) & 1)) >> 16);
    } else {
        uint32_t sign = (b >> 16) & 0x8000u;
        float a = fabsf(v);
        if (a >= 65520.f) out = (uint16_t)(sign | 0x7C00u);
        else if (a < ldexpf(1.f, -14)) out = (uint16_t)(sign | (uint16_t)lrintf(a * ldexpf(1.f, 24)));
        else {
            uint32_t ab = b & 0x7FFFFFFFu;
            uint32_t r = ab + 0xFFFu + ((ab >> 13) & 1);
            out = (uint16_t)(sign | (((r >> 23) - 112) << 10) | ((r >> 13) & 1023));
        }
    }
    ((uint16_t *)p)[i] = out;
}
struct cudnnConvolutionStruct {
    int ph, pw, sh, sw, dh, dw, group;
    cudnnMathType_t math;
};

const char *cudnnGetErrorString(cudnnStatus_t s) { return s ? "MOCK_CUDNN_ERROR" : "CUDNN_STATUS_SUCCESS"; }
size_t cudnnGetVersion(void) { return 91900; }
cudnnStatus_t cudnnSetStream(cudnnHandle_t h, cudaStream_t s) { return 0; }
void cudnnGetLastErrorString(char *buf, size_t n) {
    if (n) buf[0] = 0;
}
cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t *d) {
    *d = calloc(1, sizeof **d);
    return 0;
}
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) {
    free(d);
    return 0;
}
cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t *d) {
    *d = calloc(1, sizeof **d);
    return 0;
}
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) {
    free(d);
    return 0;
}
cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *d) {
    *d = calloc(1, sizeof **d);
    (*d)->group = 1;
    return 0;
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) {
    free(d);
    return 0;
}
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t f, cudnnDataType_t t, int n,
                                         int c, int h, int w) {
    if ((f != CUDNN_TENSOR_NCHW && f != CUDNN_TENSOR_NHWC) || !known(t) || n <= 0 || c <= 0 || h <= 0 || w <= 0)
        return CUDNN_STATUS_BAD_PARAM;
    d->n = n, d->c = c, d->h = h, d->w = w, d->t = t, d->f = f;
    return 0;
}
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t t, cudnnTensorFormat_t f, int k,
                                         int c, int r, int s) {
    if ((f != CUDNN_TENSOR_NCHW && f != CUDNN_TENSOR_NHWC) || !known(t) || k <= 0 || c <= 0 || r <= 0 || s <= 0)
        return CUDNN_STATUS_BAD_PARAM;
    d->k = k, d->c = c, d->r = r, d->s = s, d->t = t, d->f = f;
    return 0;
}
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int ph, int pw, int sh, int sw, int dh,
                                              int dw, cudnnConvolutionMode_t m, cudnnDataType_t t) {
    if (m != CUDNN_CROSS_CORRELATION || t != CUDNN_DATA_FLOAT || ph < 0 || pw < 0 || sh <= 0 || sw <= 0 || dh <= 0 ||
        dw <= 0)
        return CUDNN_STATUS_BAD_PARAM;
    d->ph = ph, d->pw = pw, d->sh = sh, d->sw = sw, d->dh = dh, d->dw = dw;
    return 0;
}
cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t d, int g) {
    if (g <= 0) return CUDNN_STATUS_BAD_PARAM;
    d->group = g;
    return 0;
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t m) {
    d->math = m;
    return 0;
}
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
    static const cudnnConvolutionFwdAlgo_t algos[2] = {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
                                                       CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM};
    int n = req < 2 ? req : 2;
    for (int i = 0; i < n; i++) {
        perf[i].algo = algos[i];
        perf[i].status = CUDNN_STATUS_SUCCESS;
        perf[i].memory = i == 0 ? 1024 : 0; /* some workspace, to exercise its plumbing */
        perf[i].mathType = cd->math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION ? CUDNN_TENSOR_OP_MATH : cd->math;
        perf[i].determinism = CUDNN_DETERMINISTIC;
    }
    *ret = n;
    return 0;
}
cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t h, const cudnnTensorDescriptor_t x,
                                                      const cudnnFilterDescriptor_t w,
                                                      const cudnnConvolutionDescriptor_t cd,
                                                      const cudnnTensorDescriptor_t y, cudnnConvolutionFwdAlgo_t a,
                                                      size_t *n) {
    const char *f = getenv("MOCK_CUDNN_WS_FAIL");
    if (f && *f == '1' && a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM) return CUDNN_STATUS_NOT_SUPPORTED;
    *n = a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM ? 1024 : 0;
    return 0;
}
cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t h, const void *alpha, const cudnnTensorDescriptor_t xd,
                                      const void *x, const cudnnFilterDescriptor_t wd, const void *w,
                                      const cudnnConvolutionDescriptor_t cd, cudnnConvolutionFwdAlgo_t algo, void *ws,
                                      size_t wsz, const void *beta, const cudnnTensorDescriptor_t yd, void *y) {
    int n, k, oh, ow;
    if (cudnnGetConvolution2dForwardOutputDim(cd, xd, wd, &n, &k, &oh, &ow)) return CUDNN_STATUS_BAD_PARAM;
    if (yd->n != n || yd->c != k || yd->h != oh || yd->w != ow) return CUDNN_STATUS_BAD_PARAM;
    size_t need = algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM ? 1024 : 0;
    if (wsz < need || (need && !ws)) return CUDNN_STATUS_BAD_PARAM;
    if (need) memset(ws, 0x5A, need); /* it is ours to scribble on */
    if (xd->t != wd->t || xd->t != yd->t || xd->f != wd->f || xd->f != yd->f) return CUDNN_STATUS_NOT_SUPPORTED;
    cudnnDataType_t t = xd->t;
    float a = *(const float *)alpha, b = *(const float *)beta;
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
                                s += (double)mock_ld(t, x, xat(xd, in, g * cg + c, iy, ix)) *
                                     mock_ld(t, w, wat(wd, ik, c, r, q));
                            }
                    size_t o = xat(yd, in, ik, oy, ox);
                    mock_st(t, y, o, a * (float)s + (b != 0.f ? b * mock_ld(t, y, o) : 0.f));
                }
    return 0;
}

/* d2s.cu: DEPTH_TO_SPACE and SPACE_TO_DEPTH on x (N,C,H,W) with block b; mode 0
 * DCR, 1 CRD (DEPTH_TO_SPACE only). One thread per output element.
 *   DEPTH_TO_SPACE: y (N, C/b², H·b, W·b)
 *     DCR: y[n, c, h·b+i, w·b+j] = x[n, (i·b + j)·C' + c, h, w]
 *     CRD: y[n, c, h·b+i, w·b+j] = x[n, c·b² + i·b + j, h, w]
 *   SPACE_TO_DEPTH: y (N, C·b², H/b, W/b), y[n, (i·b + j)·C + c, h, w] = x[n, c, h·b+i, w·b+j] */
#include "common.cuh"

template <typename T>
__global__ void k_d2s(pp_d2s_params p, const T *__restrict__ x, T *__restrict__ y, int64_t total) {
    const int64_t b = p.block;
    PP_FOR(o, total) {
        int64_t src;
        if (p.op == PP_OP_DEPTH_TO_SPACE) {
            int64_t oc = p.c / (b * b), oh = p.h * b, ow = p.w * b;
            int64_t xw = o % ow, xh = (o / ow) % oh, c = (o / (ow * oh)) % oc, n = o / (ow * oh * oc);
            int64_t h = xh / b, i = xh % b, w = xw / b, j = xw % b;
            int64_t ic = p.mode == 0 ? (i * b + j) * oc + c : c * b * b + i * b + j;
            src = ((n * p.c + ic) * p.h + h) * p.w + w;
        } else {
            int64_t oc = p.c * b * b, oh = p.h / b, ow = p.w / b;
            int64_t w = o % ow, h = (o / ow) % oh, yc = (o / (ow * oh)) % oc, n = o / (ow * oh * oc);
            int64_t c = yc % p.c, ij = yc / p.c, i = ij / b, j = ij % b;
            src = ((n * p.c + c) * p.h + h * b + i) * p.w + w * b + j;
        }
        y[o] = x[src];
    }
}

template <typename T>
static cudaError_t d2s_t(const pp_d2s_params *p, const void *x, void *y, int64_t n, cudaStream_t s) {
    k_d2s<T><<<pp_blocks(n), PP_THREADS, 0, s>>>(*p, (const T *)x, (T *)y, n);
    return cudaGetLastError();
}

extern "C" cudaError_t pp_cuda_d2s(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                   const pp_cuda_exec *x) {
    (void)ws;
    const pp_d2s_params *p = &pp->d2s;
    if (p->block <= 0) return cudaErrorInvalidValue;
    int64_t total;
    if (p->op == PP_OP_DEPTH_TO_SPACE) {
        if (p->c % (p->block * p->block)) return cudaErrorInvalidValue;
        total = p->n * p->c * p->h * p->w;
    } else {
        if (p->h % p->block || p->w % p->block) return cudaErrorInvalidValue;
        total = p->n * p->c * p->h * p->w;
    }
    if (total <= 0) return cudaSuccess;
    PP_ELEM_DISPATCH(p->elem, d2s_t, p, in[0], out[0], total, x->stream)
}

/* Elements are moved as 1-, 2-, 4- or 8-byte words. */
extern "C" int pp_cuda_d2s_supports(const pp_op_params *p) { return pp_cuda_elem_ok(p->d2s.elem); }

/* half_weights.c: weights converted to fp16/bf16 once per backend, for the
 * 16-bit precision modes.
 *
 * GEMM, MATMUL and CONV prepare once per node, micro-batch size and slot, and
 * every one of those reads the same weight: the converted copy is keyed by the
 * weight's device address and reference-counted, so it is made once (at the
 * first prepare, which waits for the conversion: prepare may block, launch may
 * not) and freed when its last launch is released. A backend serves one stage
 * of one engine, whose prepares come from one thread at a time, so no lock.
 */
#include <string.h>

#include "cuda_internal.h"

typedef struct pp_half_weight {
    const void *src;
    pp_dtype dt;
    int64_t c, hw; /* the transposed layout's, 0 when plain */
    void *half;
    int refs;
    struct pp_half_weight *next;
} pp_half_weight;

pp_dtype pp_cuda_half_dtype(const pp_cuda_ctx *c) {
    if (c->precision == PP_PREC_FP16) return PP_DTYPE_F16;
    return c->precision == PP_PREC_BF16 ? PP_DTYPE_BF16 : PP_DTYPE_INVALID;
}

pp_code pp_cuda_half_weight_get(pp_backend *b, const void *src, int64_t n, pp_dtype dt, int64_t c, int64_t hw,
                                void **half, pp_error *err) {
    pp_cuda_ctx *ctx = b->ctx;
    *half = NULL;
    if (c <= 0 || hw <= 0) c = hw = 0;
    for (pp_half_weight *h = ctx->halves; h; h = h->next)
        if (h->src == src && h->dt == dt && h->c == c && h->hw == hw) {
            h->refs++;
            *half = h->half;
            return PP_OK;
        }
    pp_half_weight *h = pp_calloc(1, sizeof *h);
    if (!h) return pp_error_set(err, PP_ERR_NOMEM, "%s: out of memory for a converted weight", b->name);
    size_t bytes = (size_t)(n > 0 ? n : 1) * 2;
    cudaError_t e = cudaMalloc(&h->half, bytes);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        pp_free(h);
        return pp_error_set(err, PP_ERR_NOMEM, "%s: cannot allocate %zu bytes for a weight in %s: %s", b->name, bytes,
                            pp_dtype_name(dt), cudaGetErrorString(e));
    }
    /* The default stream: the weight was uploaded and synchronized at build,
     * and nothing else writes it. */
    e = c ? pp_cuda_to_nhwc(h->half, dt, src, n / (c * hw), c, hw, 0)
          : pp_cuda_convert(h->half, dt, src, PP_DTYPE_F32, n, 0);
    if (e == cudaSuccess) e = cudaStreamSynchronize(0);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        (void)cudaFree(h->half);
        pp_free(h);
        return pp_error_set(err, PP_ERR_DEVICE, "%s: converting a weight to %s: %s (%s)", b->name, pp_dtype_name(dt),
                            cudaGetErrorName(e), cudaGetErrorString(e));
    }
    h->src = src;
    h->dt = dt;
    h->c = c;
    h->hw = hw;
    h->refs = 1;
    h->next = ctx->halves;
    ctx->halves = h;
    *half = h->half;
    return PP_OK;
}

void pp_cuda_half_weight_put(pp_backend *b, void *half) {
    pp_cuda_ctx *c = b->ctx;
    for (pp_half_weight **p = &c->halves; half && *p; p = &(*p)->next)
        if ((*p)->half == half) {
            pp_half_weight *h = *p;
            if (--h->refs > 0) return;
            *p = h->next;
            (void)cudaFree(h->half);
            pp_free(h);
            return;
        }
}

void pp_cuda_half_weights_free(pp_backend *b) {
    pp_cuda_ctx *c = b->ctx;
    while (c->halves) {
        pp_half_weight *h = c->halves;
        c->halves = h->next;
        (void)cudaFree(h->half);
        pp_free(h);
    }
}

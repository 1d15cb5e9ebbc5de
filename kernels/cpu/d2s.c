/* d2s.c: DEPTH_TO_SPACE and SPACE_TO_DEPTH on x (N, C, H, W), block b.
 *   DEPTH_TO_SPACE → (N, C/b², H·b, W·b):
 *     DCR: y[n, c, h·b+i, w·b+j] = x[n, (i·b + j)·C/b² + c, h, w]
 *     CRD: y[n, c, h·b+i, w·b+j] = x[n, c·b² + i·b + j, h, w]
 *   SPACE_TO_DEPTH → (N, C·b², H/b, W/b):
 *     y[n, (i·b + j)·C + c, h, w] = x[n, c, h·b+i, w·b+j]
 * Each task fills one output row, reading x with a stride. */
#include <string.h>

#include "cpu_kernels.h"
#include "omp.h"

/* x offset of output column q of a row: base + (q / b)·step_w + (q % b)·step_j
 * for DEPTH_TO_SPACE (q = w·b + j), base + q·step_w for SPACE_TO_DEPTH. */
static inline int64_t col_src(int d2s, int64_t q, int64_t b, int64_t base, int64_t step_w, int64_t step_j) {
    return d2s ? base + (q / b) * step_w + (q % b) * step_j : base + q * step_w;
}

#define ROW(T)                                                                                                         \
    do {                                                                                                               \
        const T *X_ = (const T *)x;                                                                                    \
        T *Y_ = (T *)y + row * ow;                                                                                     \
        for (int64_t q = 0; q < ow; q++) Y_[q] = X_[col_src(d2s, q, b, base, step_w, step_j)];                         \
    } while (0)

int pp_cpu_d2s(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_d2s_params *d = &p->d2s;
    const int64_t b = d->block, n = d->n, c = d->c, h = d->h, w = d->w;
    if (b < 1 || n < 0 || c < 0 || h < 0 || w < 0) return 1;
    const int d2s = d->op == PP_OP_DEPTH_TO_SPACE;
    if (d2s ? c % (b * b) != 0 : (h % b != 0 || w % b != 0)) return 1;
    const int64_t oc = d2s ? c / (b * b) : c * b * b, oh = d2s ? h * b : h / b, ow = d2s ? w * b : w / b;
    const int64_t rows = n * oc * oh;
    const size_t elem = d->elem;
    const unsigned char *x = in[0];
    unsigned char *y = out[0];
    if (rows == 0 || ow == 0) return 0;
    PP_OMP(omp parallel for schedule(static) if (rows * ow > 32768))
    for (int64_t row = 0; row < rows; row++) {
        const int64_t yy = row % oh, ch = (row / oh) % oc, in_ = row / (oh * oc);
        int64_t base, step_j, step_w;
        if (d2s) {
            const int64_t hh = yy / b, i = yy % b;
            const int64_t c0 = d->mode == 0 ? i * b * oc + ch : ch * b * b + i * b; /* channel at j = 0 */
            const int64_t cj = d->mode == 0 ? oc : 1;                               /* channel step per j */
            base = ((in_ * c + c0) * h + hh) * w;
            step_j = cj * h * w; /* q = w·b + j */
            step_w = 1;
        } else {
            const int64_t blk = ch / c, cc = ch % c, i = blk / b, j = blk % b;
            base = ((in_ * c + cc) * h + yy * b + i) * w + j;
            step_j = 0;
            step_w = b; /* q = w */
        }
        switch (elem) {
        case 1: ROW(uint8_t); break;
        case 2: ROW(uint16_t); break;
        case 4: ROW(uint32_t); break;
        case 8: ROW(uint64_t); break;
        default:
            for (int64_t q = 0; q < ow; q++)
                memcpy(y + (size_t)(row * ow + q) * elem, x + (size_t)col_src(d2s, q, b, base, step_w, step_j) * elem,
                       elem);
        }
    }
    return 0;
}

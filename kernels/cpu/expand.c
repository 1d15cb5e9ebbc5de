/* expand.c: EXPAND (broadcast copy) and TILE. x's dims are rank-aligned to y's;
 * along each axis y's coordinate i reads x's coordinate i mod in_dim, which is
 * 0 on a broadcast axis (in_dim 1) and wraps for TILE. Each output row of the
 * innermost axis is built from copies of one x row. */
#include <string.h>

#include "cpu_kernels.h"
#include "omp.h"

#define FILL_ROW(T)                                                                                                    \
    do {                                                                                                               \
        const T v_ = *(const T *)src;                                                                                  \
        T *d_ = (T *)dst;                                                                                              \
        for (int64_t j = 0; j < ol; j++) d_[j] = v_;                                                                   \
    } while (0)

int pp_cpu_expand(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_expand_params *e = &p->expand;
    const int r = e->rank;
    if (r < 0 || r > PP_MAX_RANK) return 1;
    int64_t numel = 1, xnumel = 1, xs[PP_MAX_RANK], s = 1;
    for (int d = r - 1; d >= 0; d--) {
        if (e->out_dims[d] < 0 || e->in_dims[d] < 0) return 1;
        xs[d] = s;
        s *= e->in_dims[d];
        numel *= e->out_dims[d];
        xnumel *= e->in_dims[d];
    }
    if (numel == 0) return 0;
    if (xnumel == 0) return 1; /* nothing to copy from into a non-empty output */
    const size_t elem = e->elem;
    const unsigned char *x = in[0];
    unsigned char *y = out[0];
    if (r == 0) {
        memcpy(y, x, elem);
        return 0;
    }
    const int64_t ol = e->out_dims[r - 1], il = e->in_dims[r - 1], rows = numel / ol;
    PP_OMP(omp parallel for schedule(static) if (numel > 32768))
    for (int64_t row = 0; row < rows; row++) {
        int64_t rem = row, xo = 0;
        for (int d = r - 2; d >= 0; d--) {
            xo += (rem % e->out_dims[d] % e->in_dims[d]) * xs[d];
            rem /= e->out_dims[d];
        }
        const unsigned char *src = x + (size_t)xo * elem;
        unsigned char *dst = y + (size_t)(row * ol) * elem;
        if (il == 1) {
            switch (elem) {
            case 1: FILL_ROW(uint8_t); break;
            case 2: FILL_ROW(uint16_t); break;
            case 4: FILL_ROW(uint32_t); break;
            case 8: FILL_ROW(uint64_t); break;
            default:
                for (int64_t j = 0; j < ol; j++) memcpy(dst + (size_t)j * elem, src, elem);
            }
        } else {
            for (int64_t c = 0; c < ol; c += il)
                memcpy(dst + (size_t)c * elem, src, (size_t)(ol - c < il ? ol - c : il) * elem);
        }
    }
    return 0;
}

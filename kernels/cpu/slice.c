/* slice.c: y[i0, i1, ...] = x[start0 + i0·step0, start1 + i1·step1, ...], steps
 * of either sign (the params are normalised by engine/ops_data.c). The kernel
 * checks that every index it will touch is inside x before touching any. */
#include <string.h>

#include "cpu_kernels.h"
#include "omp.h"

#define ROW_COPY(T)                                                                                                    \
    do {                                                                                                               \
        const T *X_ = (const T *)x + xo;                                                                               \
        T *Y_ = (T *)y + row * inner;                                                                                  \
        for (int64_t j = 0; j < inner; j++) Y_[j] = X_[j * step];                                                      \
    } while (0)

int pp_cpu_slice(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_slice_params *s = &p->slice;
    const int r = s->rank;
    if (r < 0 || r > PP_MAX_RANK) return 1;
    int64_t numel = 1, xs[PP_MAX_RANK], st = 1;
    for (int d = r - 1; d >= 0; d--) {
        xs[d] = st;
        st *= s->in_dims[d];
        numel *= s->out_dims[d];
    }
    if (numel == 0) return 0;
    for (int d = 0; d < r; d++) {
        int64_t last = s->starts[d] + (s->out_dims[d] - 1) * s->steps[d];
        if (s->out_dims[d] < 0 || s->starts[d] < 0 || s->starts[d] >= s->in_dims[d] || last < 0 ||
            last >= s->in_dims[d])
            return 1;
    }
    if (r == 0) {
        memcpy(out[0], in[0], s->elem);
        return 0;
    }
    const size_t elem = s->elem;
    const unsigned char *x = in[0];
    unsigned char *y = out[0];
    const int64_t inner = s->out_dims[r - 1], rows = numel / inner, step = s->steps[r - 1];
    PP_OMP(omp parallel for schedule(static) if (numel > 32768))
    for (int64_t row = 0; row < rows; row++) {
        int64_t rem = row, xo = s->starts[r - 1];
        for (int d = r - 2; d >= 0; d--) {
            xo += (s->starts[d] + (rem % s->out_dims[d]) * s->steps[d]) * xs[d];
            rem /= s->out_dims[d];
        }
        if (step == 1) {
            memcpy(y + (size_t)(row * inner) * elem, x + (size_t)xo * elem, (size_t)inner * elem);
            continue;
        }
        switch (elem) {
        case 1: ROW_COPY(uint8_t); break;
        case 2: ROW_COPY(uint16_t); break;
        case 4: ROW_COPY(uint32_t); break;
        case 8: ROW_COPY(uint64_t); break;
        default:
            for (int64_t j = 0; j < inner; j++)
                memcpy(y + (size_t)(row * inner + j) * elem, x + (size_t)(xo + j * step) * elem, elem);
        }
    }
    return 0;
}

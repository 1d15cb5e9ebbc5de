/* trilu.c: TRILU on x viewed as (batch, rows, cols): keeps element (i, j) when
 * j - i >= k (upper) or j - i <= k (lower) and writes zero bytes elsewhere,
 * which is 0 in every dtype. */
#include <string.h>

#include "cpu_kernels.h"
#include "omp.h"

int pp_cpu_trilu(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_trilu_params *t = &p->trilu;
    if (t->batch < 0 || t->rows < 0 || t->cols < 0) return 1;
    const size_t elem = t->elem;
    const unsigned char *x = in[0];
    unsigned char *y = out[0];
    const int64_t nrows = t->batch * t->rows, cols = t->cols;
    /* clamp k so j - i comparisons below never see an extreme k */
    const int64_t k = t->k > cols ? cols + 1 : (t->k < -t->rows ? -t->rows - 1 : t->k);
    PP_OMP(omp parallel for schedule(static) if (nrows * cols > 32768))
    for (int64_t row = 0; row < nrows; row++) {
        const int64_t i = row % t->rows;
        /* the kept columns are [lo, hi) */
        int64_t lo = t->upper ? i + k : 0, hi = t->upper ? cols : i + k + 1;
        lo = lo < 0 ? 0 : (lo > cols ? cols : lo);
        hi = hi < lo ? lo : (hi > cols ? cols : hi);
        const size_t base = (size_t)(row * cols) * elem;
        memset(y + base, 0, (size_t)lo * elem);
        if (hi > lo) memcpy(y + base + (size_t)lo * elem, x + base + (size_t)lo * elem, (size_t)(hi - lo) * elem);
        memset(y + base + (size_t)hi * elem, 0, (size_t)(cols - hi) * elem);
    }
    return 0;
}

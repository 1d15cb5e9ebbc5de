/* softmax.c: SOFTMAX and LOG_SOFTMAX over one axis of x viewed as
 * (outer, axis_len, inner). Stable: the row maximum is subtracted before exp;
 * the sum of exponentials is kept in double.
 */
#include <math.h>

#include "cpu_kernels.h"

int pp_cpu_softmax(const pp_op_params *pp, const void *const *in, void *const *out, void *ws) {
    (void)ws;
    const pp_softmax_params *p = &pp->softmax;
    const float *x = in[0];
    float *y = out[0];
    int64_t outer = p->outer, len = p->axis_len, inner = p->inner, rows = outer * inner;
    int log_mode = p->op == PP_OP_LOG_SOFTMAX;
    if (len <= 0) return 0;
#pragma omp parallel for schedule(static) if ((double)rows * (double)len >= 16384.0)
    for (int64_t r = 0; r < rows; r++) {
        int64_t o = r / inner, i = r % inner;
        const float *xr = x + o * len * inner + i;
        float *yr = y + o * len * inner + i;
        float mx = -INFINITY;
        for (int64_t j = 0; j < len; j++)
            if (xr[j * inner] > mx) mx = xr[j * inner];
        if (mx == -INFINITY || isnan(mx)) {
            /* every entry -inf (or NaN present): no finite shift; NaN is what the math gives */
            for (int64_t j = 0; j < len; j++) yr[j * inner] = NAN;
            continue;
        }
        double sum = 0.0;
        if (log_mode) {
            for (int64_t j = 0; j < len; j++) sum += exp((double)(xr[j * inner] - mx));
            float lse = (float)log(sum);
            for (int64_t j = 0; j < len; j++) yr[j * inner] = xr[j * inner] - mx - lse;
        } else {
            for (int64_t j = 0; j < len; j++) {
                float e = expf(xr[j * inner] - mx);
                yr[j * inner] = e;
                sum += e;
            }
            float inv = (float)(1.0 / sum);
            for (int64_t j = 0; j < len; j++) yr[j * inner] *= inv;
        }
    }
    return 0;
}

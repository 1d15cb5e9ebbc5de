/* layernorm.c: layer normalisation over the trailing dims.
 * in = x viewed as (rows, cols), scale (cols), [bias (cols)]; y like x.
 * Mean and variance are accumulated in double, two passes (no E[x²] - E[x]²
 * cancellation). The in array holds the op's three slots, NULL for no bias.
 */
#include <math.h>

#include "cpu_kernels.h"

int pp_cpu_layernorm(const pp_op_params *pp, const void *const *in, void *const *out, void *ws) {
    (void)ws;
    const pp_layernorm_params *p = &pp->layernorm;
    const float *x = in[0], *scale = in[1], *bias = in[2];
    float *y = out[0];
    int64_t rows = p->rows, cols = p->cols;
    if (cols <= 0) return 0;
#pragma omp parallel for schedule(static) if ((double)rows * (double)cols >= 16384.0)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        double sum = 0.0;
        for (int64_t j = 0; j < cols; j++) sum += xr[j];
        double mean = sum / (double)cols, sq = 0.0;
        for (int64_t j = 0; j < cols; j++) {
            double d = (double)xr[j] - mean;
            sq += d * d;
        }
        double inv = 1.0 / sqrt(sq / (double)cols + (double)p->epsilon);
        for (int64_t j = 0; j < cols; j++) {
            float v = (float)(((double)xr[j] - mean) * inv) * scale[j];
            yr[j] = bias ? v + bias[j] : v;
        }
    }
    return 0;
}

/* batchnorm.c: inference batch normalisation.
 * in = x (N, C, spatial...), scale, bias, mean, var (C); y like x.
 * y = (x - mean) / sqrt(var + eps) · scale + bias, folded per channel into y = a·x + b.
 */
#include <math.h>

#include "cpu_kernels.h"

int pp_cpu_batchnorm(const pp_op_params *pp, const void *const *in, void *const *out, void *ws) {
    (void)ws;
    const pp_batchnorm_params *p = &pp->batchnorm;
    const float *x = in[0], *scale = in[1], *bias = in[2], *mean = in[3], *var = in[4];
    float *y = out[0];
    int64_t planes = p->n * p->c, sp = p->spatial;
#pragma omp parallel for schedule(static) if ((double)planes * (double)sp >= 16384.0)
    for (int64_t pl = 0; pl < planes; pl++) {
        int64_t ch = pl % p->c;
        /* the fold in double so that a tiny var + eps loses nothing */
        double inv = 1.0 / sqrt((double)var[ch] + (double)p->epsilon);
        float a = (float)((double)scale[ch] * inv);
        float b = (float)((double)bias[ch] - (double)mean[ch] * (double)scale[ch] * inv);
        const float *xp = x + pl * sp;
        float *yp = y + pl * sp;
        for (int64_t i = 0; i < sp; i++) yp[i] = a * xp[i] + b;
    }
    return 0;
}

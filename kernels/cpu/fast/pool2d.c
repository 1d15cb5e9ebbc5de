/* pool2d.c: fast MAXPOOL and global pooling, NCHW f32.
 *
 * Max pooling takes 16 output columns per AVX-512 vector (strides 1 and 2;
 * padding lanes are -inf, so they never win, and a NaN anywhere in a window
 * wins as in the reference). Global pools reduce each plane with vector partial
 * sums. Other pools, and other CPUs, run the reference on slices of planes.
 */
#include <math.h>

#include "../cpu_kernels.h"
#include "fast_internal.h"
#include "simd512.h"

typedef struct pool_job {
    const pp_pool_params *p;
    const float *x;
    float *y;
    int64_t per; /* planes per task */
} pool_job;

PP_AVX512 static void maxpool_plane(const pp_pool_params *p, const float *xp, float *yp) {
    static const int32_t even[16] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
    __m512i ev = _mm512_loadu_si512(even);
    __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (int64_t oy = 0; oy < p->oh; oy++) {
        for (int64_t ox0 = 0; ox0 < p->ow; ox0 += 16) {
            __m512 mx = ninf;
            __mmask16 nan = 0;
            for (int64_t ki = 0; ki < p->kh; ki++) {
                int64_t iy = oy * p->stride_h - p->pad_top + ki * p->dil_h;
                if (iy < 0 || iy >= p->h) continue;
                const float *row = xp + iy * p->w;
                for (int64_t kj = 0; kj < p->kw; kj++) {
                    int64_t ix = ox0 * p->stride_w - p->pad_left + kj * p->dil_w;
                    int64_t lo = ix < 0 ? -ix : 0, hi = p->w - ix;
                    __m512 v;
                    if (p->stride_w == 1) {
                        __mmask16 m = (__mmask16)(pp512_mask(hi) & ~pp512_mask(lo));
                        v = _mm512_mask_loadu_ps(ninf, m, row + ix);
                    } else {
                        __mmask16 m0 = (__mmask16)(pp512_mask(hi) & ~pp512_mask(lo));
                        __mmask16 m1 = (__mmask16)(pp512_mask(hi - 16) & ~pp512_mask(lo - 16));
                        v = _mm512_permutex2var_ps(_mm512_mask_loadu_ps(ninf, m0, row + ix), ev,
                                                   _mm512_mask_loadu_ps(ninf, m1, row + ix + 16));
                    }
                    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
                    mx = _mm512_max_ps(mx, v);
                }
            }
            mx = _mm512_mask_mov_ps(mx, nan, _mm512_set1_ps(NAN));
            _mm512_mask_storeu_ps(yp + oy * p->ow + ox0, pp512_mask(p->ow - ox0), mx);
        }
    }
}

PP_AVX512 static float plane_sum(const float *xp, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_add_ps(s0, _mm512_loadu_ps(xp + i));
        s1 = _mm512_add_ps(s1, _mm512_loadu_ps(xp + i + 16));
    }
    for (; i < n; i += 16) s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(pp512_mask(n - i), xp + i));
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static void pool_task_avx512(void *arg, int64_t t, int thread) {
    const pool_job *j = arg;
    const pp_pool_params *p = j->p;
    int64_t hw = p->h * p->w, ohw = p->oh * p->ow, planes = p->n * p->c;
    for (int64_t pl = t * j->per; pl < (t + 1) * j->per && pl < planes; pl++) {
        const float *xp = j->x + pl * hw;
        if (p->op == PP_OP_GLOBAL_AVGPOOL) j->y[pl] = hw > 0 ? plane_sum(xp, hw) / (float)hw : 0.f;
        else maxpool_plane(p, xp, j->y + pl * ohw);
    }
}

static void pool_task_ref(void *arg, int64_t t, int thread) {
    const pool_job *j = arg;
    pp_op_params sp;
    sp.pool = *j->p;
    int64_t planes = sp.pool.n * sp.pool.c, pl0 = t * j->per;
    sp.pool.n = 1;
    sp.pool.c = planes - pl0 < j->per ? planes - pl0 : j->per;
    const void *in[1] = {j->x + pl0 * j->p->h * j->p->w};
    void *out[1] = {j->y + pl0 * j->p->oh * j->p->ow};
    pp_cpu_pool(&sp, in, out, NULL);
}

static int avx512_pool(const pp_pool_params *p, pp_cpu_isa isa) {
    if (isa != PP_ISA_AVX512) return 0;
    if (p->op == PP_OP_GLOBAL_AVGPOOL) return 1;
    return p->op == PP_OP_MAXPOOL && (p->stride_w == 1 || p->stride_w == 2);
}

int pp_fast_pool_plan(const pp_pool_params *p, pp_cpu_isa isa) { return p->n * p->c > 0; }

int pp_fast_pool_run(const pp_pool_params *p, pp_cpu_isa isa, const float *x, float *y, pp_tpool *pool) {
    int64_t planes = p->n * p->c, ohw = p->oh * p->ow, work = (p->h * p->w + ohw * p->kh * p->kw);
    int threads = pp_tpool_threads(pool);
    int64_t per = (16384 + work - 1) / (work > 0 ? work : 1);
    if (per * 4 * threads > planes) per = (planes + 4 * threads - 1) / (4 * threads);
    if (per < 1) per = 1;
    pool_job j = {p, x, y, per};
    pp_tpool_run(pool, (planes + per - 1) / per, avx512_pool(p, isa) ? pool_task_avx512 : pool_task_ref, &j);
    return 0;
}

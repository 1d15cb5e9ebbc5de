/* cumsum.c: CUMSUM along one axis of x viewed as (outer, axis_len, inner);
 * exclusive shifts by one (the first sum is 0), reverse runs from the end.
 * f32 accumulates in double; integers wrap (two's complement). */
#include <stdint.h>

#include "cpu_kernels.h"
#include "omp.h"

#define SCAN(T, ACC, ADD)                                                                                              \
    do {                                                                                                               \
        const T *X_ = (const T *)in[0];                                                                                \
        T *Y_ = (T *)out[0];                                                                                           \
        PP_OMP(omp parallel for schedule(static) if (c->outer * c->axis_len * c->inner > 32768))                       \
        for (int64_t t = 0; t < c->outer * c->inner; t++) {                                                            \
            const int64_t o = t / c->inner, i = t % c->inner, L = c->axis_len;                                         \
            const T *xs = X_ + o * L * c->inner + i;                                                                   \
            T *ys = Y_ + o * L * c->inner + i;                                                                         \
            ACC acc = 0;                                                                                               \
            for (int64_t k = 0; k < L; k++) {                                                                          \
                const int64_t a = (c->reverse ? L - 1 - k : k) * c->inner;                                             \
                const T v = xs[a];                                                                                     \
                if (c->exclusive) {                                                                                    \
                    ys[a] = (T)acc;                                                                                    \
                    acc = ADD(acc, v);                                                                                 \
                } else {                                                                                               \
                    acc = ADD(acc, v);                                                                                 \
                    ys[a] = (T)acc;                                                                                    \
                }                                                                                                      \
            }                                                                                                          \
        }                                                                                                              \
    } while (0)

#define ADD_F(a, v) ((a) + (double)(v))
#define ADD_U(a, v) ((a) + (uint64_t)(int64_t)(v))

int pp_cpu_cumsum(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_cumsum_params *c = &p->cumsum;
    if (c->outer < 0 || c->axis_len < 0 || c->inner < 0) return 1;
    switch (c->dtype) {
    case PP_DTYPE_F32: SCAN(float, double, ADD_F); return 0;
    case PP_DTYPE_F64: SCAN(double, double, ADD_F); return 0;
    case PP_DTYPE_I64: SCAN(int64_t, uint64_t, ADD_U); return 0;
    case PP_DTYPE_I32: SCAN(int32_t, uint64_t, ADD_U); return 0;
    default: return 1;
    }
}

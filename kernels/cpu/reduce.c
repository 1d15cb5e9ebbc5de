/* reduce.c: REDUCE_MEAN/SUM/MAX/MIN/PROD over the axes in axes_mask, and
 * ARGMAX/ARGMIN over one axis (i64 output).
 *
 * x (dims, contiguous) is split into kept axes, which index the output in their
 * order (keepdims only changes the output's shape, not its data), and reduced
 * axes, which each output element walks. f32 sums and products accumulate in
 * double; i64 ones wrap like two's complement (through uint64, no UB). Empty
 * reductions give the identity: 0, 1, -inf / INT64_MIN for MAX, +inf /
 * INT64_MAX for MIN, NaN for MEAN; max and min propagate NaN. ARGMAX/ARGMIN take
 * the first extreme, or the last with select_last_index; a NaN wins.
 */
#include <math.h>
#include <stdint.h>

#include "cpu_kernels.h"

typedef struct reduce_plan {
    int n_keep, n_red;
    int64_t keep_dims[PP_MAX_RANK], keep_strides[PP_MAX_RANK];
    int64_t red_dims[PP_MAX_RANK], red_strides[PP_MAX_RANK];
    int64_t out_count, red_count;
} reduce_plan;

static void reduce_plan_make(const pp_reduce_params *p, reduce_plan *rp) {
    int64_t strides[PP_MAX_RANK];
    int64_t s = 1;
    int rank = p->rank < 0 ? 0 : (p->rank > PP_MAX_RANK ? PP_MAX_RANK : p->rank);
    for (int d = rank - 1; d >= 0; d--) {
        strides[d] = s;
        s *= p->dims[d];
    }
    rp->n_keep = rp->n_red = 0;
    rp->out_count = rp->red_count = 1;
    for (int d = 0; d < rank; d++) {
        if (p->axes_mask & (1u << d)) {
            rp->red_dims[rp->n_red] = p->dims[d];
            rp->red_strides[rp->n_red++] = strides[d];
            rp->red_count *= p->dims[d];
        } else {
            rp->keep_dims[rp->n_keep] = p->dims[d];
            rp->keep_strides[rp->n_keep++] = strides[d];
            rp->out_count *= p->dims[d];
        }
    }
}

/* Offset in x of linear index `i` over the given axes (last axis fastest). */
static inline int64_t axes_offset(int64_t i, int n, const int64_t *dims, const int64_t *strides) {
    int64_t off = 0;
    for (int a = n - 1; a >= 0; a--) {
        off += (i % dims[a]) * strides[a];
        i /= dims[a];
    }
    return off;
}

static void reduce_f32(const pp_reduce_params *p, const reduce_plan *rp, const float *x, float *y) {
    pp_op op = p->op;
#pragma omp parallel for schedule(static) if ((double)rp->out_count * (double)rp->red_count >= 16384.0)
    for (int64_t o = 0; o < rp->out_count; o++) {
        int64_t base = axes_offset(o, rp->n_keep, rp->keep_dims, rp->keep_strides);
        double acc = op == PP_OP_REDUCE_PROD ? 1.0 : 0.0;
        float ext = op == PP_OP_REDUCE_MAX ? -INFINITY : INFINITY;
        for (int64_t r = 0; r < rp->red_count; r++) {
            float v = x[base + axes_offset(r, rp->n_red, rp->red_dims, rp->red_strides)];
            switch (op) {
            case PP_OP_REDUCE_MAX:
                if (v > ext || isnan(v)) ext = isnan(ext) ? ext : v;
                break;
            case PP_OP_REDUCE_MIN:
                if (v < ext || isnan(v)) ext = isnan(ext) ? ext : v;
                break;
            case PP_OP_REDUCE_PROD: acc *= v; break;
            default: acc += v; break;
            }
        }
        float res;
        switch (op) {
        case PP_OP_REDUCE_MAX:
        case PP_OP_REDUCE_MIN: res = ext; break;
        case PP_OP_REDUCE_MEAN: res = rp->red_count ? (float)(acc / (double)rp->red_count) : NAN; break;
        default: res = (float)acc; break;
        }
        y[o] = res;
    }
}

static void reduce_i64(const pp_reduce_params *p, const reduce_plan *rp, const int64_t *x, int64_t *y) {
    pp_op op = p->op;
#pragma omp parallel for schedule(static) if ((double)rp->out_count * (double)rp->red_count >= 16384.0)
    for (int64_t o = 0; o < rp->out_count; o++) {
        int64_t base = axes_offset(o, rp->n_keep, rp->keep_dims, rp->keep_strides);
        uint64_t acc = op == PP_OP_REDUCE_PROD ? 1u : 0u;
        int64_t ext = op == PP_OP_REDUCE_MAX ? INT64_MIN : INT64_MAX;
        for (int64_t r = 0; r < rp->red_count; r++) {
            int64_t v = x[base + axes_offset(r, rp->n_red, rp->red_dims, rp->red_strides)];
            switch (op) {
            case PP_OP_REDUCE_MAX: ext = v > ext ? v : ext; break;
            case PP_OP_REDUCE_MIN: ext = v < ext ? v : ext; break;
            case PP_OP_REDUCE_PROD: acc *= (uint64_t)v; break;
            default: acc += (uint64_t)v; break;
            }
        }
        int64_t res;
        if (op == PP_OP_REDUCE_MAX || op == PP_OP_REDUCE_MIN) {
            res = ext;
        } else {
            /* two's complement reinterpretation without implementation-defined conversion */
            res = acc <= (uint64_t)INT64_MAX ? (int64_t)acc : -(int64_t)(~acc) - 1;
            if (op == PP_OP_REDUCE_MEAN) res = rp->red_count ? res / rp->red_count : 0;
        }
        y[o] = res;
    }
}

/* ARGMAX / ARGMIN along the single reduced axis. */
#define ARG_BODY(T, IS_NAN)                                                                                            \
    do {                                                                                                               \
        const T *xs = x;                                                                                               \
        _Pragma("omp parallel for schedule(static) if ((double)rp->out_count * (double)len >= 16384.0)") for (         \
            int64_t o = 0; o < rp->out_count; o++) {                                                                   \
            int64_t base = axes_offset(o, rp->n_keep, rp->keep_dims, rp->keep_strides);                                \
            int64_t best = 0;                                                                                          \
            for (int64_t j = 1; j < len; j++) {                                                                        \
                T v = xs[base + j * stride], b = xs[base + best * stride];                                             \
                if (IS_NAN(b)) break;                                                                                  \
                int better = IS_NAN(v) || (is_max ? v > b : v < b) || (last && v == b);                                \
                if (better) best = j;                                                                                  \
            }                                                                                                          \
            y[o] = best;                                                                                               \
        }                                                                                                              \
    } while (0)

#define F32_NAN(v) isnan(v)
#define I64_NAN(v) 0

static void arg_reduce(const pp_reduce_params *p, const reduce_plan *rp, const void *x, int64_t *y) {
    int64_t len = rp->n_red ? rp->red_dims[0] : 1, stride = rp->n_red ? rp->red_strides[0] : 0;
    int is_max = p->op == PP_OP_ARGMAX, last = p->select_last_index;
    if (p->dtype == PP_DTYPE_I64) ARG_BODY(int64_t, I64_NAN);
    else ARG_BODY(float, F32_NAN);
}

int pp_cpu_reduce(const pp_op_params *pp, const void *const *in, void *const *out, void *ws) {
    (void)ws;
    const pp_reduce_params *p = &pp->reduce;
    reduce_plan rp;
    reduce_plan_make(p, &rp);
    if (p->op == PP_OP_ARGMAX || p->op == PP_OP_ARGMIN) {
        if (rp.n_red > 1) return 1;
        arg_reduce(p, &rp, in[0], out[0]);
        return 0;
    }
    if (p->dtype == PP_DTYPE_I64) reduce_i64(p, &rp, in[0], out[0]);
    else reduce_f32(p, &rp, in[0], out[0]);
    return 0;
}

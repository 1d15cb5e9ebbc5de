/* gather.c: GATHER and GATHER_ELEMENTS with i64 or i32 indices, negative ones
 * counting from the end. Every index is checked before anything is written:
 * one outside [-len, len) makes the kernel return 1 with the output untouched. */
#include <string.h>

#include "cpu_kernels.h"
#include "omp.h"

static inline int64_t load_index(const void *idx, pp_dtype t, int64_t i) {
    return t == PP_DTYPE_I64 ? ((const int64_t *)idx)[i] : ((const int32_t *)idx)[i];
}

/* 0 when all n indices are inside [-len, len). */
static int check_indices(const void *idx, pp_dtype t, int64_t n, int64_t len) {
    if (t != PP_DTYPE_I64 && t != PP_DTYPE_I32) return 1;
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t v = load_index(idx, t, i);
        bad |= v < -len || v >= len;
    }
    return bad;
}

/* data (outer, axis_len, inner), indices (n_idx) → y (outer, n_idx, inner) */
int pp_cpu_gather(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_gather_params *g = &p->gather;
    if (g->outer < 0 || g->inner < 0 || g->n_idx < 0 || g->axis_len < 0) return 1;
    if (check_indices(in[1], g->idx_dtype, g->n_idx, g->axis_len)) return 1;
    const size_t run = (size_t)g->inner * g->elem;
    const int64_t tasks = g->outer * g->n_idx;
    if (!run || !tasks) return 0;
    const unsigned char *x = in[0];
    unsigned char *y = out[0];
    PP_OMP(omp parallel for schedule(static) if ((size_t)tasks * run > (1u << 17)))
    for (int64_t t = 0; t < tasks; t++) {
        int64_t o = t / g->n_idx, j = t % g->n_idx, k = load_index(in[1], g->idx_dtype, j);
        if (k < 0) k += g->axis_len;
        memcpy(y + (size_t)t * run, x + (size_t)(o * g->axis_len + k) * run, run);
    }
    return 0;
}

/* y[i0..] = x[i0.., idx[i0..], ..] with idx in place of the axis coordinate;
 * y and idx share idx_dims, which may be smaller than in_dims off the axis. */
int pp_cpu_gather_elements(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_gather_elements_params *g = &p->gather_elements;
    const int r = g->rank;
    if (r < 1 || r > PP_MAX_RANK || g->axis < 0 || g->axis >= r) return 1;
    int64_t numel = 1, xs[PP_MAX_RANK], s = 1;
    for (int d = r - 1; d >= 0; d--) {
        if (g->idx_dims[d] < 0 || (d != g->axis && g->idx_dims[d] > g->in_dims[d])) return 1;
        xs[d] = s;
        s *= g->in_dims[d];
        numel *= g->idx_dims[d];
    }
    const int64_t len = g->in_dims[g->axis];
    if (check_indices(in[1], g->idx_dtype, numel, len)) return 1;
    if (numel == 0) return 0;
    const size_t elem = g->elem;
    const unsigned char *x = in[0];
    unsigned char *y = out[0];
    const int64_t inner = g->idx_dims[r - 1], rows = numel / inner;
    PP_OMP(omp parallel for schedule(static) if (numel > 32768))
    for (int64_t row = 0; row < rows; row++) {
        int64_t rem = row, base = 0;
        for (int d = r - 2; d >= 0; d--) {
            if (d != g->axis) base += (rem % g->idx_dims[d]) * xs[d];
            rem /= g->idx_dims[d];
        }
        for (int64_t j = 0; j < inner; j++) {
            int64_t t = row * inner + j, k = load_index(in[1], g->idx_dtype, t);
            if (k < 0) k += len;
            int64_t xo = base + k * xs[g->axis] + (g->axis == r - 1 ? 0 : j);
            memcpy(y + (size_t)t * elem, x + (size_t)xo * elem, elem);
        }
    }
    return 0;
}

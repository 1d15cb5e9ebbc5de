/* sliced.c: element-wise ops, softmax and layer norm over the pool, each
 * task a slice of rows (or elements). On a slice runs the reference kernel
 * (the reference's own bytes) or, with AVX-512, a vector form: ADD/SUB/MUL/DIV
 * with the common broadcasts (one IEEE operation per element: the same bytes
 * again), unary activations (simd512.h's exp/erfc/tanh forms, since libm one
 * element at a time cost more than the memory traffic), and layer norm (f32
 * lane sums added in double, within rounding of the reference's double sums). */
#include <math.h>
#include <string.h>

#include "../cpu_kernels.h"
#include "fast_internal.h"
#include "simd512.h"

enum { SLICE_MIN = 16384 }; /* elements below which a slice is not worth a task */

/* The unary ops that are fused activations, as one; PP_ACT_NONE for others. */
static pp_act unary_act(const pp_eltwise_params *e) {
    pp_act a = {PP_ACT_NONE, e->alpha, e->beta};
    switch (e->op) {
    case PP_OP_RELU: a.kind = PP_ACT_RELU; break;
    case PP_OP_CLIP: a.kind = PP_ACT_CLIP; break;
    case PP_OP_SIGMOID: a.kind = PP_ACT_SIGMOID; break;
    case PP_OP_TANH: a.kind = PP_ACT_TANH; break;
    case PP_OP_GELU: a.kind = PP_ACT_GELU; break;
    case PP_OP_GELU_TANH: a.kind = PP_ACT_GELU_TANH; break;
    case PP_OP_SILU: a.kind = PP_ACT_SILU; break;
    case PP_OP_HARDSWISH: a.kind = PP_ACT_HARDSWISH; break;
    case PP_OP_HARDSIGMOID: a.kind = PP_ACT_HARDSIGMOID; break;
    case PP_OP_LEAKY_RELU: a.kind = PP_ACT_LEAKY_RELU; break;
    default: break;
    }
    return a;
}

/* y = a op b for ADD, SUB, MUL, DIV over e's dims (one IEEE operation per
 * element, as the reference: the same bytes). Axes of extent 1 are dropped and
 * neighbours merged where both inputs walk them as one, as the reference does;
 * then the last axis runs 16 lanes at a time when each input is contiguous or
 * broadcast along it. 0 when the strides do not allow that. */
PP_AVX512 static int binary_avx512(const pp_eltwise_params *e, const float *a, const float *b, float *y) {
    int64_t dims[PP_MAX_RANK], st[2][PP_MAX_RANK];
    int r = 0;
    for (int d = 0; d < e->rank; d++) {
        if (e->dims[d] == 1) continue;
        if (r > 0 && st[0][r - 1] == e->strides[0][d] * e->dims[d] && st[1][r - 1] == e->strides[1][d] * e->dims[d]) {
            dims[r - 1] *= e->dims[d];
            st[0][r - 1] = e->strides[0][d];
            st[1][r - 1] = e->strides[1][d];
            continue;
        }
        dims[r] = e->dims[d];
        st[0][r] = e->strides[0][d];
        st[1][r] = e->strides[1][d];
        r++;
    }
    if (r == 0) dims[0] = 1, st[0][0] = st[1][0] = 0, r = 1;
    int64_t n = dims[r - 1], ia = st[0][r - 1], ib = st[1][r - 1];
    if ((ia != 0 && ia != 1) || (ib != 0 && ib != 1)) return 0;
    int64_t idx[PP_MAX_RANK] = {0}, rows = 1;
    for (int d = 0; d < r - 1; d++) rows *= dims[d];
    int64_t oa = 0, ob = 0;
    for (int64_t row = 0; row < rows; row++) {
        const float *pa = a + oa, *pb = b + ob;
        float *py = y + row * n;
        for (int64_t i = 0; i < n; i += 16) {
            __mmask16 m = pp512_mask(n - i);
            __m512 va = ia ? _mm512_maskz_loadu_ps(m, pa + i) : _mm512_set1_ps(pa[0]);
            __m512 vb = ib ? _mm512_maskz_loadu_ps(m, pb + i) : _mm512_set1_ps(pb[0]);
            __m512 v;
            switch (e->op) {
            case PP_OP_ADD: v = _mm512_add_ps(va, vb); break;
            case PP_OP_SUB: v = _mm512_sub_ps(va, vb); break;
            case PP_OP_MUL: v = _mm512_mul_ps(va, vb); break;
            default: v = _mm512_div_ps(va, vb); break;
            }
            _mm512_mask_storeu_ps(py + i, m, v);
        }
        /* the next row: bump the innermost outer axis, carrying */
        for (int d = r - 2; d >= 0; d--) {
            oa += st[0][d];
            ob += st[1][d];
            if (++idx[d] < dims[d]) break;
            oa -= st[0][d] * dims[d];
            ob -= st[1][d] * dims[d];
            idx[d] = 0;
        }
    }
    return 1;
}

/* Layer norm of rows [r0, r0 + n): two passes as the reference (mean, then the
 * squared deviations), 16 lanes of f32 partial sums added up in double. */
PP_AVX512 static void layernorm_avx512(const pp_layernorm_params *p, const float *x, const float *scale,
                                       const float *bias, float *y, int64_t r0, int64_t n) {
    int64_t cols = p->cols;
    for (int64_t r = r0; r < r0 + n; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        __m512 s = _mm512_setzero_ps();
        for (int64_t j = 0; j < cols; j += 16)
            s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(pp512_mask(cols - j), xr + j));
        float mean = (float)((double)_mm512_reduce_add_ps(s) / (double)cols);
        __m512 mv = _mm512_set1_ps(mean), q = _mm512_setzero_ps();
        for (int64_t j = 0; j < cols; j += 16) {
            __mmask16 m = pp512_mask(cols - j);
            __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, xr + j), mv);
            q = _mm512_fmadd_ps(d, d, q);
        }
        float inv = (float)(1.0 / sqrt((double)_mm512_reduce_add_ps(q) / (double)cols + (double)p->epsilon));
        __m512 iv = _mm512_set1_ps(inv);
        for (int64_t j = 0; j < cols; j += 16) {
            __mmask16 m = pp512_mask(cols - j);
            __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, xr + j), mv), iv),
                                     _mm512_maskz_loadu_ps(m, scale + j));
            if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + j));
            _mm512_mask_storeu_ps(yr + j, m, v);
        }
    }
}

static int binary_vectorised(pp_op op) {
    return op == PP_OP_ADD || op == PP_OP_SUB || op == PP_OP_MUL || op == PP_OP_DIV;
}

/* An activation over n floats, 16 at a time (simd512.h's forms: within a few
 * ulp of the reference's libm ones, not bit-equal). */
PP_AVX512 static void act_avx512(const float *x, float *y, int64_t n, pp_act a) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, pp512_act(_mm512_loadu_ps(x + i), a));
    if (i < n) {
        __mmask16 m = pp512_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, pp512_act(_mm512_maskz_loadu_ps(m, x + i), a));
    }
}

typedef struct slice_job {
    pp_op op;
    const pp_op_params *p;
    const void *const *in;
    void *const *out;
    int axis;         /* eltwise: the axis cut into slices; -1: by count */
    int vector_act;   /* a unary activation computed by act_avx512 */
    int vector_bin;   /* ADD/SUB/MUL/DIV through binary_avx512 where the strides allow */
    int vector_ln;    /* layer norm through layernorm_avx512 */
    int64_t len, per; /* extent cut, and per task */
    int64_t inner;    /* elements of the output per index of the cut axis */
} slice_job;

static void slice_task(void *arg, int64_t t, int thread) {
    const slice_job *j = arg;
    int64_t r0 = t * j->per, cnt = j->len - r0 < j->per ? j->len - r0 : j->per;
    pp_op_params sp = *j->p;
    const void *in[3] = {NULL, NULL, NULL};
    void *out[1];
    switch (j->op) {
    case PP_OP_SOFTMAX:
    case PP_OP_LOG_SOFTMAX: {
        int64_t row = j->p->softmax.axis_len * j->p->softmax.inner;
        sp.softmax.outer = cnt;
        in[0] = (const float *)j->in[0] + r0 * row;
        out[0] = (float *)j->out[0] + r0 * row;
        pp_cpu_softmax(&sp, in, out, NULL);
        return;
    }
    case PP_OP_LAYERNORM: {
        int64_t cols = j->p->layernorm.cols;
        if (j->vector_ln) {
            layernorm_avx512(&j->p->layernorm, j->in[0], j->in[1], j->in[2], j->out[0], r0, cnt);
            return;
        }
        sp.layernorm.rows = cnt;
        in[0] = (const float *)j->in[0] + r0 * cols;
        in[1] = j->in[1];
        in[2] = j->in[2];
        out[0] = (float *)j->out[0] + r0 * cols;
        pp_cpu_layernorm(&sp, in, out, NULL);
        return;
    }
    default: {
        pp_eltwise_params *e = &sp.eltwise;
        if (j->vector_act) {
            act_avx512((const float *)j->in[0] + r0, (float *)j->out[0] + r0, cnt, unary_act(&j->p->eltwise));
            return;
        }
        if (j->axis < 0) {
            e->count = cnt;
            in[0] = (const float *)j->in[0] + r0;
        } else {
            e->dims[j->axis] = cnt;
            e->count = cnt * j->inner;
            for (int i = 0; i < e->n_in; i++) in[i] = (const float *)j->in[i] + r0 * e->strides[i][j->axis];
        }
        out[0] = (float *)j->out[0] + r0 * j->inner;
        if (j->vector_bin && binary_avx512(e, in[0], in[1], out[0])) return;
        pp_cpu_eltwise(&sp, in, out, NULL);
        return;
    }
    }
}

/* The cut: returns 0 when the op is not sliced. */
static int slice_setup(pp_op op, const pp_op_params *p, pp_cpu_isa isa, slice_job *j) {
    memset(j, 0, sizeof *j);
    j->op = op;
    j->p = p;
    j->axis = -1;
    int64_t total;
    switch (op) {
    case PP_OP_SOFTMAX:
    case PP_OP_LOG_SOFTMAX:
        j->len = p->softmax.outer;
        total = j->len * p->softmax.axis_len * p->softmax.inner;
        break;
    case PP_OP_LAYERNORM:
        j->len = p->layernorm.rows;
        total = j->len * p->layernorm.cols;
        j->vector_ln = isa == PP_ISA_AVX512;
        break;
    default: {
        const pp_eltwise_params *e = &p->eltwise;
        if (e->op != op || e->dtype != PP_DTYPE_F32 || e->out_dtype != PP_DTYPE_F32 || e->n_in == 3) return 0;
        total = e->count;
        if (e->n_in == 1) {
            j->len = e->count;
            j->inner = 1;
            j->vector_act = isa == PP_ISA_AVX512 && unary_act(e).kind != PP_ACT_NONE;
            if (j->vector_act && total >= 16) return (j->per = SLICE_MIN), 1;
            break;
        }
        int d = 0;
        while (d < e->rank && e->dims[d] == 1) d++;
        if (d == e->rank) return 0;
        j->axis = d;
        j->len = e->dims[d];
        j->vector_bin = isa == PP_ISA_AVX512 && e->n_in == 2 && binary_vectorised(e->op);
        j->inner = 1;
        for (int i = d + 1; i < e->rank; i++) j->inner *= e->dims[i];
        break;
    }
    }
    if (j->len < 2 || total < 2 * SLICE_MIN) return 0;
    int64_t unit = total / j->len; /* elements per index */
    j->per = (SLICE_MIN + unit - 1) / (unit > 0 ? unit : 1);
    return 1;
}

int pp_fast_sliced_plan(pp_op op, const pp_op_params *p, pp_cpu_isa isa) {
    switch (op) {
    case PP_OP_SOFTMAX:
    case PP_OP_LOG_SOFTMAX:
    case PP_OP_LAYERNORM: break;
    default:
        if (pp_cpu_kernel_for(op) != pp_cpu_eltwise) return 0;
    }
    slice_job j;
    return slice_setup(op, p, isa, &j);
}

int pp_fast_sliced_run(pp_op op, const pp_op_params *p, pp_cpu_isa isa, const void *const *in, void *const *out,
                       pp_tpool *pool) {
    slice_job j;
    if (!slice_setup(op, p, isa, &j)) return 1;
    int threads = pp_tpool_threads(pool);
    if (j.per * 4 * threads > j.len) j.per = (j.len + 4 * threads - 1) / (4 * threads);
    if (j.per < 1) j.per = 1;
    j.in = in;
    j.out = out;
    pp_tpool_run(pool, (j.len + j.per - 1) / j.per, slice_task, &j);
    return 0;
}

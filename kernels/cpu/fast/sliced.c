/* sliced.c: element-wise ops, softmax and layer norm as the reference kernels
 * on slices of the work, one slice per task of the pool. Each output element is
 * computed by the reference's own code, so the bytes are the reference's: these
 * ops are bound by memory, and what they lacked was the cores. The exception:
 * unary activations (GELU, sigmoid, ...) with AVX-512 run simd512.h's vector
 * forms, since libm's erff and expf one element at a time cost more than the
 * memory traffic. */
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

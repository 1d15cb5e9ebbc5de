/* sliced.c: element-wise ops, softmax and layer norm as the reference kernels
 * on slices of the work, one slice per task of the pool. Each output element is
 * computed by the reference's own code, so the bytes are the reference's: these
 * ops are bound by memory, and what they lacked was the cores. */
#include <string.h>

#include "../cpu_kernels.h"
#include "fast_internal.h"

enum { SLICE_MIN = 16384 }; /* elements below which a slice is not worth a task */

typedef struct slice_job {
    pp_op op;
    const pp_op_params *p;
    const void *const *in;
    void *const *out;
    int axis;         /* eltwise: the axis cut into slices; -1: by count */
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
static int slice_setup(pp_op op, const pp_op_params *p, slice_job *j) {
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

int pp_fast_sliced_plan(pp_op op, const pp_op_params *p) {
    switch (op) {
    case PP_OP_SOFTMAX:
    case PP_OP_LOG_SOFTMAX:
    case PP_OP_LAYERNORM: break;
    default:
        if (pp_cpu_kernel_for(op) != pp_cpu_eltwise) return 0;
    }
    slice_job j;
    return slice_setup(op, p, &j);
}

int pp_fast_sliced_run(pp_op op, const pp_op_params *p, const void *const *in, void *const *out, pp_tpool *pool) {
    slice_job j;
    if (!slice_setup(op, p, &j)) return 1;
    int threads = pp_tpool_threads(pool);
    if (j.per * 4 * threads > j.len) j.per = (j.len + 4 * threads - 1) / (4 * threads);
    if (j.per < 1) j.per = 1;
    j.in = in;
    j.out = out;
    pp_tpool_run(pool, (j.len + j.per - 1) / j.per, slice_task, &j);
    return 0;
}

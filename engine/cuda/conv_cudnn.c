/* conv_cudnn.c: how a CONV runs, chosen once per shape at prepare.
 *
 * The convolution's tensors come in one format (params: dtype f32/f16/bf16,
 * layout NCHW or NHWC); it may be computed in another (the "compute format"),
 * with its operands converted into the workspace and the output converted back.
 * Formats are tried in this order, the first that offers anything wins:
 *
 *   1. the precision's: the tensors' own format in fp32/tf32; in fp16/bf16,
 *      16-bit NHWC (what the planner gives convolutions, so nothing converts;
 *      f32 NCHW tensors from before the planner are converted);
 *   2. f32 in the tensors' layout, where 1 was 16-bit (a cuDNN without a 16-bit
 *      algorithm for a shape still runs it in cuDNN, not in the direct kernel).
 *
 * Within a format the candidates are, in order: cuDNN graphs with the epilogue
 * fused (dnn_graph.c), else the bare convolution graph followed by the epilogue
 * kernel, else the legacy API's algorithms (a GetWorkspaceSize refusal moves on
 * to the next); the depthwise kernel joins them for depthwise NHWC. Each needs
 * at most the workspace budget (ctx->ws_budget) less the conversions. With the
 * stage's buffers known (the executor's second prepare) the top candidates are
 * timed on them, like cudnn.benchmark, and the fastest is kept in the tuning
 * cache (tune_cache.c), so the next prepare of that shape, in this process or
 * the next load with the cache file, builds it without timing. While the
 * executor only sizes the workspace, the size covers every candidate. Nothing
 * found at all: the direct kernel (kernels/cuda/conv.cu).
 *
 * Launch: [conversions in] → cuDNN / kernel → [epilogue: bias, residual,
 * activation not fused, and the conversion out, in one pass].
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "dnn_graph.h"
#include "tune_cache.h"

enum { MAX_CANDS = 4 };

typedef enum conv_impl { IMPL_GRAPH = 1, IMPL_LEGACY, IMPL_DEPTHWISE, IMPL_DIRECT } conv_impl;
static const char *const impl_names[] = {"?", "cudnn graph", "cudnn legacy", "depthwise kernel", "direct kernel"};

typedef struct conv_fmt {
    pp_dtype dt;
    int nhwc;
} conv_fmt;

/* One way to run it, as tuning weighs it. */
typedef struct conv_cand {
    conv_impl impl;
    int fused;
    pp_dnn_exec ex;                 /* graph */
    cudnnConvolutionFwdAlgo_t algo; /* legacy */
    cudnnMathType_t math;
    size_t ws;
} conv_cand;

/* What one shape (one tuning key) runs, shared by the launch records of every
 * slot: first the candidates a sizing prepare found, then, once chosen (timed,
 * or read from the cache), the one that runs as cand[0]. Kept per backend until
 * it is destroyed (pp_conv_choices_free), so the sizing prepare's candidates
 * are the ones the next prepare times, and each plan is finalized once. */
typedef struct conv_choice {
    char key[512];
    int chosen, timed, cached;
    conv_fmt c; /* the compute format */
    conv_cand cand[MAX_CANDS];
    int n;
    pp_dnn_graph graph;             /* the graph the cuDNN candidates run */
    cudnnTensorDescriptor_t xd, yd; /* the legacy API's */
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    struct conv_choice *next;
} conv_choice;

struct pp_conv_plan {
    conv_fmt t, c; /* the tensors' format, the compute format */
    conv_cand run; /* a copy of ch->cand[0]: ch owns its plan */
    conv_choice *ch;
    /* the conversions into the compute format, after the library's workspace
     * (SIZE_MAX: not converted) */
    size_t x_off, w_off, b_off, r_off, y_off, ws_total;
};

/* What a launch hands cuDNN or the kernels, in the compute format. */
typedef struct conv_ptrs {
    const void *x, *w, *bias, *res;
    void *y, *ws;
} conv_ptrs;

static size_t es(pp_dtype t) { return t == PP_DTYPE_F32 ? 4 : 2; }
static size_t up256(size_t n) { return (n + 255) & ~(size_t)255; }
static int same_fmt(conv_fmt a, conv_fmt b) { return a.dt == b.dt && a.nhwc == b.nhwc; }
static const char *fmt_name(conv_fmt f) {
    static const char *const n[2][3] = {{"f32 nchw", "f16 nchw", "bf16 nchw"}, {"f32 nhwc", "f16 nhwc", "bf16 nhwc"}};
    return n[f.nhwc ? 1 : 0][f.dt == PP_DTYPE_F16 ? 1 : f.dt == PP_DTYPE_BF16 ? 2 : 0];
}

static void legacy_free(conv_choice *p) {
    if (p->xd) cudnnDestroyTensorDescriptor(p->xd);
    if (p->yd) cudnnDestroyTensorDescriptor(p->yd);
    if (p->wd) cudnnDestroyFilterDescriptor(p->wd);
    if (p->cd) cudnnDestroyConvolutionDescriptor(p->cd);
    p->xd = p->yd = NULL;
    p->wd = NULL;
    p->cd = NULL;
}

static void cand_free(conv_cand *x) { pp_dnn_exec_free(&x->ex); }

static void choice_clear(conv_choice *ch) {
    for (int i = 0; i < ch->n; i++) cand_free(&ch->cand[i]);
    ch->n = 0;
    pp_dnn_graph_free(&ch->graph);
    legacy_free(ch);
}

void pp_conv_choices_free(pp_backend *b) {
    pp_cuda_ctx *c = b->ctx;
    while (c->conv_choices) {
        conv_choice *ch = c->conv_choices;
        c->conv_choices = ch->next;
        choice_clear(ch);
        pp_free(ch);
    }
}

/* The entry for key, made empty when there is none; NULL without memory. */
static conv_choice *choice_for(pp_cuda_ctx *c, const char *key) {
    for (conv_choice *ch = c->conv_choices; ch; ch = ch->next)
        if (!strcmp(ch->key, key)) return ch;
    conv_choice *ch = pp_calloc(1, sizeof *ch);
    if (!ch) return NULL;
    snprintf(ch->key, sizeof ch->key, "%s", key);
    ch->next = c->conv_choices;
    c->conv_choices = ch;
    return ch;
}

void pp_conv_release(pp_backend *b, pp_conv_plan *p) {
    (void)b;
    pp_free(p); /* its choice stays with the backend */
}

static pp_code dnn_fail(pp_error *err, const pp_backend *b, const pp_launch *l, cudnnStatus_t s, const char *what) {
    char detail[256];
    cudnnGetLastErrorString(detail, sizeof detail);
    return pp_error_set(err, PP_ERR_DEVICE, "%s: node '%s': %s: %s (%s)", b->name, l->node->name, what,
                        cudnnGetErrorString(s), detail);
}

/* ---- the epilogue and the key ----------------------------------------------------- */

static int has_bias(const pp_launch *l) { return l->node->n_in > 2 && l->node->in[2] >= 0; }
static int has_res(const pp_launch *l) { return l->node->n_in > 3 && l->node->in[3] >= 0; }
static int has_epilogue(const pp_launch *l) {
    return has_bias(l) || has_res(l) || l->params.conv.act.kind != PP_ACT_NONE;
}

/* Everything the choice depends on besides the device: shape, formats,
 * epilogue, precision. */
static void conv_key(const pp_launch *l, conv_fmt t, pp_precision prec, char *buf, size_t n) {
    const pp_conv_params *p = &l->params.conv;
    snprintf(buf, n,
             "conv n%lld c%lld h%lld w%lld k%lld r%lld s%lld st%lld,%lld d%lld,%lld p%lld,%lld,%lld,%lld g%lld %s "
             "b%d r%d a%d,%g,%g %s",
             (long long)p->n, (long long)p->c, (long long)p->h, (long long)p->w, (long long)p->k, (long long)p->kh,
             (long long)p->kw, (long long)p->stride_h, (long long)p->stride_w, (long long)p->dil_h, (long long)p->dil_w,
             (long long)p->pad_top, (long long)p->pad_left, (long long)p->pad_bottom, (long long)p->pad_right,
             (long long)p->group, fmt_name(t), has_bias(l), has_res(l), (int)p->act.kind, p->act.alpha, p->act.beta,
             pp_precision_name(prec));
}

/* ---- the legacy API -------------------------------------------------------------------- */

static int fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

/* Descriptors for the legacy API in format f; 0 when it cannot say this
 * convolution (asymmetric padding, extents past INT_MAX, a refused type). */
static int legacy_describe(pp_cuda_ctx *c, const pp_conv_params *cp, conv_fmt f, conv_choice *p) {
    int64_t vals[] = {cp->n,  cp->c,        cp->h,        cp->w,       cp->k,        cp->kh,    cp->kw,    cp->oh,
                      cp->ow, cp->stride_h, cp->stride_w, cp->pad_top, cp->pad_left, cp->dil_h, cp->dil_w, cp->group};
    int ok = cp->n > 0 && cp->pad_top == cp->pad_bottom && cp->pad_left == cp->pad_right;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) ok &= fits_int(vals[i]);
    if (!ok) return 0;
    cudnnDataType_t dt = f.dt == PP_DTYPE_F16    ? CUDNN_DATA_HALF
                         : f.dt == PP_DTYPE_BF16 ? CUDNN_DATA_BFLOAT16
                                                 : CUDNN_DATA_FLOAT;
    cudnnTensorFormat_t tf = f.nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    cudnnMathType_t math = c->precision == PP_PREC_FP32 && f.dt == PP_DTYPE_F32 ? CUDNN_FMA_MATH
                           : f.dt == PP_DTYPE_F32                               ? CUDNN_DEFAULT_MATH
                                                                                : CUDNN_TENSOR_OP_MATH;
    int on, oc, oh, ow;
    ok = cudnnCreateTensorDescriptor(&p->xd) == 0 && cudnnCreateTensorDescriptor(&p->yd) == 0 &&
         cudnnCreateFilterDescriptor(&p->wd) == 0 && cudnnCreateConvolutionDescriptor(&p->cd) == 0 &&
         cudnnSetTensor4dDescriptor(p->xd, tf, dt, (int)cp->n, (int)cp->c, (int)cp->h, (int)cp->w) == 0 &&
         cudnnSetFilter4dDescriptor(p->wd, dt, tf, (int)cp->k, (int)(cp->c / cp->group), (int)cp->kh, (int)cp->kw) ==
             0 &&
         cudnnSetConvolution2dDescriptor(p->cd, (int)cp->pad_top, (int)cp->pad_left, (int)cp->stride_h,
                                         (int)cp->stride_w, (int)cp->dil_h, (int)cp->dil_w, CUDNN_CROSS_CORRELATION,
                                         CUDNN_DATA_FLOAT) == 0 &&
         cudnnSetConvolutionGroupCount(p->cd, (int)cp->group) == 0 && cudnnSetConvolutionMathType(p->cd, math) == 0 &&
         cudnnGetConvolution2dForwardOutputDim(p->cd, p->xd, p->wd, &on, &oc, &oh, &ow) == 0 && on == cp->n &&
         oc == cp->k && oh == cp->oh && ow == cp->ow &&
         cudnnSetTensor4dDescriptor(p->yd, tf, dt, (int)cp->n, (int)cp->k, (int)cp->oh, (int)cp->ow) == 0;
    if (!ok) legacy_free(p);
    return ok;
}

/* The heuristic's algorithms that are allowed (strict f32: FMA only) and whose
 * workspace size can be had and fits; into cand[*n...]. */
static void legacy_candidates(pp_cuda_ctx *c, conv_choice *p, conv_fmt f, size_t budget, conv_cand *cand, int *n) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int found = 0;
    if (cudnnGetConvolutionForwardAlgorithm_v7(c->dnn, p->xd, p->wd, p->cd, p->yd, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                               &found, perf) != CUDNN_STATUS_SUCCESS)
        return;
    int strict = c->precision == PP_PREC_FP32 && f.dt == PP_DTYPE_F32;
    for (int i = 0; i < found && *n < MAX_CANDS; i++) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].determinism != CUDNN_DETERMINISTIC) continue;
        if (strict ? perf[i].mathType != CUDNN_FMA_MATH : perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
            continue;
        size_t ws = 0;
        /* the size for this exact configuration, which may differ from the ranking's */
        if (cudnnSetConvolutionMathType(p->cd, perf[i].mathType) != CUDNN_STATUS_SUCCESS ||
            cudnnGetConvolutionForwardWorkspaceSize(c->dnn, p->xd, p->wd, p->cd, p->yd, perf[i].algo, &ws) !=
                CUDNN_STATUS_SUCCESS ||
            ws > budget)
            continue;
        conv_cand *x = &cand[(*n)++];
        memset(x, 0, sizeof *x);
        x->impl = IMPL_LEGACY;
        x->algo = perf[i].algo;
        x->math = perf[i].mathType;
        x->ws = ws;
    }
}

/* ---- candidates in one format ------------------------------------------------------------- */

/* Workspace the conversions into f take after the library's part. */
static size_t conversion_bytes(const pp_launch *l, conv_fmt t, conv_fmt f, int fused) {
    if (same_fmt(t, f)) return 0;
    const pp_conv_params *p = &l->params.conv;
    size_t e = es(f.dt), y = (size_t)(p->n * p->k * p->oh * p->ow) * e;
    size_t n = up256((size_t)(p->n * p->c * p->h * p->w) * e) +
               up256((size_t)(p->k * (p->c / p->group) * p->kh * p->kw) * e) + up256(y);
    if (fused && has_bias(l)) n += up256((size_t)p->k * e);
    if (fused && has_res(l)) n += up256(y);
    return n;
}

static unsigned avoid_notes(const pp_cuda_ctx *c, conv_fmt f) {
    unsigned a = 1u << CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC;
    if (c->precision == PP_PREC_FP32 && f.dt == PP_DTYPE_F32)
        a |= 1u << CUDNN_NUMERICAL_NOTE_TENSOR_CORE | 1u << CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS;
    return a;
}

static void graph_spec(const pp_launch *l, conv_fmt f, int fused, pp_dnn_conv *g) {
    const pp_conv_params *p = &l->params.conv;
    memset(g, 0, sizeof *g);
    g->p = p;
    g->dtype = f.dt;
    g->nhwc = f.nhwc;
    g->fused = fused;
    g->bias = fused && has_bias(l);
    g->res = fused && has_res(l);
    g->act = p->act;
    if (!fused || !pp_dnn_act_fusable(p->act)) g->act.kind = PP_ACT_NONE;
}

/* PP_CUDA_CONV_ONLY=graph|legacy|depthwise|direct: only that kind of candidate
 * (to compare paths on a GPU, and to test each in the emulator); nothing is
 * cached then. NULL when unset. */
static const char *only_impl(void) {
    const char *v = getenv("PP_CUDA_CONV_ONLY");
    return v && *v ? v : NULL;
}

static int allowed(const char *kind) {
    const char *o = only_impl();
    return !o || !strcmp(o, kind);
}

/* The candidates of format f in the stated order, into ch (none: ch->n 0). */
static void candidates(pp_cuda_ctx *c, const pp_launch *l, conv_fmt t, conv_fmt f, size_t budget, conv_choice *ch) {
    choice_clear(ch);
    ch->c = f;
    /* In bf16 (8 significant bits) a library conv rounds its output before a
     * separate epilogue kernel rounds it again; through a network that adds up
     * (the MobileNet fixture: rel. L2 0.012 against 0.008 with one rounding).
     * So where a kernel that rounds once can take the conv, only fused graphs
     * compete with it: the depthwise kernel, and the direct kernel for a conv
     * too small to matter (SE blocks' 1x1 convs on pooled vectors, a stem on a
     * small input: at most 2^22 multiply-adds, PP_CUDA_SMALL_CONV). */
    const pp_conv_params *cp = &l->params.conv;
    int once = same_fmt(f, t) && pp_cuda_conv_depthwise_ok(cp) && allowed("depthwise");
    double macs = (double)cp->n * cp->k * cp->oh * cp->ow * (cp->c / cp->group) * cp->kh * cp->kw;
    const char *sm = getenv("PP_CUDA_SMALL_CONV"); /* the bound, for tests of the library paths */
    double small_macs = sm && *sm ? atof(sm) : (double)(1 << 22);
    int small = same_fmt(f, t) && !once && macs <= small_macs && allowed("direct");
    int twice_ok = !((once || small) && f.dt == PP_DTYPE_BF16 && has_epilogue(l));
    for (int fused = has_epilogue(l); fused >= !twice_ok && ch->n == 0 && allowed("graph"); fused--) {
        size_t conv = conversion_bytes(l, t, f, fused);
        if (conv > budget) continue;
        pp_dnn_conv spec;
        graph_spec(l, f, fused, &spec);
        if (pp_dnn_conv_graph(c->dnn, &spec, &ch->graph) != CUDNN_STATUS_SUCCESS) continue;
        pp_dnn_exec ex[MAX_CANDS];
        int got =
            pp_dnn_candidates(c->dnn, &ch->graph, MAX_CANDS, (int64_t)(budget - conv), avoid_notes(c, f), ex, NULL);
        for (int i = 0; i < got; i++) {
            conv_cand *x = &ch->cand[ch->n++];
            memset(x, 0, sizeof *x);
            x->impl = IMPL_GRAPH;
            x->fused = fused;
            x->ex = ex[i];
            x->ws = ex[i].ws;
        }
        if (!got) pp_dnn_graph_free(&ch->graph);
    }
    size_t conv = conversion_bytes(l, t, f, 0);
    if (ch->n == 0 && twice_ok && conv <= budget && allowed("legacy") && legacy_describe(c, &l->params.conv, f, ch))
        legacy_candidates(c, ch, f, budget - conv, ch->cand, &ch->n);
    if (once && ch->n < MAX_CANDS) {
        memset(&ch->cand[ch->n], 0, sizeof ch->cand[0]);
        ch->cand[ch->n++].impl = IMPL_DEPTHWISE;
    }
    if (small && !twice_ok && ch->n < MAX_CANDS) {
        memset(&ch->cand[ch->n], 0, sizeof ch->cand[0]);
        ch->cand[ch->n++].impl = IMPL_DIRECT;
    }
}

/* ---- running one candidate --------------------------------------------------------------- */

/* The library call or kernel alone, in the compute format. */
static int run_core(cudaStream_t s, cudnnHandle_t h, const pp_launch *l, const conv_choice *ch, const conv_cand *x,
                    const conv_ptrs *q, int *err_flag, cudnnStatus_t *ds, cudaError_t *ce) {
    *ds = CUDNN_STATUS_SUCCESS;
    *ce = cudaSuccess;
    switch (x->impl) {
    case IMPL_GRAPH: {
        pp_dnn_ptrs dp = {q->x,
                          q->w,
                          x->fused && has_bias(l) ? q->bias : NULL,
                          x->fused && has_res(l) ? q->res : NULL,
                          q->y,
                          q->ws,
                          x->fused && pp_dnn_act_fusable(l->params.conv.act) ? l->params.conv.act : (pp_act){0}};
        *ds = pp_dnn_execute(h, x->ex.plan, &dp);
        break;
    }
    case IMPL_LEGACY: {
        const float one = 1.f, zero = 0.f;
        *ds = cudnnSetConvolutionMathType(ch->cd, x->math);
        if (*ds == CUDNN_STATUS_SUCCESS)
            *ds = cudnnConvolutionForward(h, &one, ch->xd, q->x, ch->wd, q->w, ch->cd, x->algo, q->ws, x->ws, &zero,
                                          ch->yd, q->y);
        break;
    }
    case IMPL_DEPTHWISE:
    case IMPL_DIRECT: {
        pp_op_params pp = l->params;
        pp.conv.fmt = (pp_format){ch->c.dt, ch->c.nhwc ? PP_LAYOUT_NHWC : PP_LAYOUT_PLAIN, 0};
        const void *in[4] = {q->x, q->w, q->bias, q->res};
        void *out[1] = {q->y};
        pp_cuda_exec ex = {s, err_flag};
        *ce = x->impl == IMPL_DEPTHWISE ? pp_cuda_conv_depthwise(&pp, in, out, q->ws, &ex)
                                        : pp_cuda_conv_direct(&pp, in, out, q->ws, &ex);
        break;
    }
    }
    return *ds == CUDNN_STATUS_SUCCESS && *ce == cudaSuccess;
}

/* Lays out the conversions after the library's workspace; the total. */
static void place_conversions(const pp_launch *l, pp_conv_plan *p) {
    p->x_off = p->w_off = p->b_off = p->r_off = p->y_off = SIZE_MAX;
    size_t at = up256(p->run.ws);
    if (!same_fmt(p->t, p->c)) {
        const pp_conv_params *cp = &l->params.conv;
        size_t e = es(p->c.dt), y = (size_t)(cp->n * cp->k * cp->oh * cp->ow) * e;
        p->x_off = at;
        at += up256((size_t)(cp->n * cp->c * cp->h * cp->w) * e);
        p->w_off = at;
        at += up256((size_t)(cp->k * (cp->c / cp->group) * cp->kh * cp->kw) * e);
        if (p->run.fused && has_bias(l)) p->b_off = at, at += up256((size_t)cp->k * e);
        if (p->run.fused && has_res(l)) p->r_off = at, at += up256(y);
        p->y_off = at;
        at += up256(y);
    }
    p->ws_total = at;
}

/* The pointers in the compute format: the tensors themselves, or their
 * conversions in the workspace. */
static conv_ptrs compute_ptrs(const pp_launch *l, const pp_conv_plan *p, void *ws) {
    char *w = ws;
    conv_ptrs q = {l->in[0], l->in[1], has_bias(l) ? l->in[2] : NULL, has_res(l) ? l->in[3] : NULL, l->out[0], ws};
    if (p->x_off != SIZE_MAX) q.x = w + p->x_off;
    if (p->w_off != SIZE_MAX) q.w = w + p->w_off;
    if (p->b_off != SIZE_MAX) q.bias = w + p->b_off;
    if (p->r_off != SIZE_MAX) q.res = w + p->r_off;
    if (p->y_off != SIZE_MAX) q.y = w + p->y_off;
    return q;
}

typedef struct time_arg {
    pp_cuda_ctx *c;
    const pp_launch *l;
    const conv_choice *ch;
    const conv_cand *x;
    conv_ptrs q;
} time_arg;

static int time_run(void *arg) {
    time_arg *a = arg;
    cudnnStatus_t ds;
    cudaError_t ce;
    return run_core(a->c->tune, a->c->dnn, a->l, a->ch, a->x, &a->q, NULL, &ds, &ce);
}

/* ---- choosing ----------------------------------------------------------------------------- */

/* "graph f16 nhwc fused eng 12 1=0 2=3" / "legacy f32 nchw algo 1 math 0" /
 * "depthwise f16 nhwc" / "direct f32 nchw": the tuning cache's value. */
static void choice_text(const conv_choice *ch, char *buf, size_t n) {
    const conv_cand *x = &ch->cand[0];
    const char *f = fmt_name(ch->c);
    char id[192] = "";
    if (x->impl == IMPL_GRAPH) pp_dnn_plan_id(x->ex.plan, id, sizeof id);
    if (x->impl == IMPL_GRAPH) snprintf(buf, n, "graph %s %s %s", f, x->fused ? "fused" : "plain", id);
    else if (x->impl == IMPL_LEGACY) snprintf(buf, n, "legacy %s algo %d math %d", f, (int)x->algo, (int)x->math);
    else snprintf(buf, n, "%s %s", x->impl == IMPL_DEPTHWISE ? "depthwise" : "direct", f);
}

/* Rebuilds a cached choice into ch (chosen, one candidate); 0 when it no longer can be. */
static int from_choice(pp_cuda_ctx *c, const pp_launch *l, conv_choice *ch, const char *v) {
    char kind[16], dt[8], lay[8], sub[16];
    int used = 0;
    choice_clear(ch);
    if (sscanf(v, "%15s %7s %7s%n", kind, dt, lay, &used) != 3) return 0;
    ch->c = (conv_fmt){!strcmp(dt, "f16")    ? PP_DTYPE_F16
                       : !strcmp(dt, "bf16") ? PP_DTYPE_BF16
                                             : PP_DTYPE_F32,
                       !strcmp(lay, "nhwc")};
    conv_cand *x = &ch->cand[0];
    memset(x, 0, sizeof *x);
    if (!strcmp(kind, "graph")) {
        int u2 = 0;
        if (sscanf(v + used, " %15s%n", sub, &u2) != 1) return 0;
        pp_dnn_conv spec;
        graph_spec(l, ch->c, !strcmp(sub, "fused"), &spec);
        if (pp_dnn_conv_graph(c->dnn, &spec, &ch->graph) != CUDNN_STATUS_SUCCESS) return 0;
        x->impl = IMPL_GRAPH;
        x->fused = spec.fused;
        if (pp_dnn_plan_from_id(c->dnn, &ch->graph, v + used + u2 + 1, &x->ex) != CUDNN_STATUS_SUCCESS) return 0;
        x->ws = x->ex.ws;
    } else if (!strcmp(kind, "legacy")) {
        int algo, math;
        if (sscanf(v + used, " algo %d math %d", &algo, &math) != 2 || !legacy_describe(c, &l->params.conv, ch->c, ch))
            return 0;
        x->impl = IMPL_LEGACY;
        x->algo = (cudnnConvolutionFwdAlgo_t)algo;
        x->math = (cudnnMathType_t)math;
        if (cudnnSetConvolutionMathType(ch->cd, x->math) != CUDNN_STATUS_SUCCESS ||
            cudnnGetConvolutionForwardWorkspaceSize(c->dnn, ch->xd, ch->wd, ch->cd, ch->yd, x->algo, &x->ws) !=
                CUDNN_STATUS_SUCCESS)
            return 0;
    } else if (!strcmp(kind, "depthwise") || !strcmp(kind, "direct")) {
        x->impl = kind[1] == 'e' ? IMPL_DEPTHWISE : IMPL_DIRECT;
        if (x->impl == IMPL_DEPTHWISE && !pp_cuda_conv_depthwise_ok(&l->params.conv)) return 0;
    } else {
        return 0;
    }
    ch->n = 1;
    return 1;
}

/* Whether this prepare can time: the stage's buffers are known. */
static int can_time(const pp_launch *l) {
    if (!l->ws || !l->in[0] || !l->in[1] || !l->out[0]) return 0;
    return (!has_bias(l) || l->in[2]) && (!has_res(l) || l->in[3]);
}

/* Times ch's candidates on the launch's own buffers and keeps the fastest as
 * cand[0], freeing the others; 1 when it timed. */
static int time_choice(pp_cuda_ctx *c, const pp_launch *l, conv_fmt t, conv_choice *ch) {
    int best = -1;
    float best_ms = -1.f;
    for (int i = 0; i < ch->n; i++) {
        pp_conv_plan tmp = {t, ch->c, ch->cand[i], ch, 0, 0, 0, 0, 0, 0};
        place_conversions(l, &tmp);
        if (tmp.ws_total > l->ws_bytes) continue;
        time_arg a = {c, l, ch, &ch->cand[i], compute_ptrs(l, &tmp, l->ws)};
        float ms = pp_cuda_time(c, time_run, &a);
        if (ms >= 0.f && (best_ms < 0.f || ms < best_ms)) best_ms = ms, best = i;
    }
    if (best < 0) return 0;
    conv_cand keep = ch->cand[best];
    for (int i = 0; i < ch->n; i++)
        if (i != best) cand_free(&ch->cand[i]);
    ch->cand[0] = keep;
    ch->n = 1;
    return 1;
}

/* The compute formats to try, in order (see the top of the file). */
static int formats(const pp_cuda_ctx *c, conv_fmt t, conv_fmt *out) {
    int n = 0;
    pp_dtype hd = pp_cuda_half_dtype(c);
    conv_fmt first = hd != PP_DTYPE_INVALID ? (conv_fmt){hd, 1} : t;
    out[n++] = first;
    if (first.dt != PP_DTYPE_F32) out[n++] = (conv_fmt){PP_DTYPE_F32, t.nhwc};
    return n;
}

/* Fills ch for this launch: from the cache, else the candidates (timed and
 * chosen when the buffers are known). */
static void choose(pp_cuda_ctx *c, const pp_launch *l, conv_fmt t, conv_choice *ch) {
    if (ch->chosen) return;
    const char *v = only_impl() ? NULL : pp_tune_cache_get(c->cache, ch->key);
    if (!ch->n && v && from_choice(c, l, ch, v)) {
        ch->chosen = ch->cached = 1;
        c->cached++;
        return;
    }
    size_t budget = l->ws ? l->ws_bytes : c->ws_budget;
    if (!ch->n) {
        conv_fmt fs[2];
        int nf = formats(c, t, fs);
        for (int i = 0; i < nf && ch->n == 0; i++) candidates(c, l, t, fs[i], budget, ch);
        if (ch->n == 0) {
            choice_clear(ch);
            ch->c = t;
            memset(&ch->cand[0], 0, sizeof ch->cand[0]);
            ch->cand[0].impl = IMPL_DIRECT;
            ch->n = 1;
        }
    }
    if (!l->ws && ch->n > 1) return; /* sizing: every candidate stays, timed next time */
    if (ch->n > 1 && can_time(l) && pp_cuda_tuning_on()) ch->timed = time_choice(c, l, t, ch);
    if (ch->n > 1) { /* no timing possible: the heuristic's first */
        for (int i = 1; i < ch->n; i++) cand_free(&ch->cand[i]);
        ch->n = 1;
    }
    ch->chosen = 1;
    if (ch->timed) c->tuned++;
    if (only_impl() || !pp_cuda_tuning_on()) return; /* only timed choices are kept */
    char value[256];
    choice_text(ch, value, sizeof value);
    pp_tune_cache_put(c->cache, ch->key, value);
}

static void describe_path(const pp_conv_plan *p, pp_act act, char *path, size_t n) {
    const conv_cand *x = &p->run;
    char id[160] = "";
    if (x->impl == IMPL_GRAPH) pp_dnn_plan_id(x->ex.plan, id, sizeof id);
    if (x->impl == IMPL_LEGACY) snprintf(id, sizeof id, "algo %d math %d", (int)x->algo, (int)x->math);
    /* a fused graph takes every activation pp_dnn_act_fusable names; others follow as a kernel */
    int act_kernel = x->impl == IMPL_GRAPH && x->fused && !pp_dnn_act_fusable(act);
    snprintf(path, n, "%s %s%s%s%s%s, ws %.1f MiB%s", impl_names[x->impl],
             x->impl == IMPL_GRAPH
                 ? (x->fused ? (act_kernel ? "conv+bias, activation kernel, " : "conv+epilogue ") : "conv ")
                 : "",
             fmt_name(p->c), same_fmt(p->t, p->c) ? "" : " (converted)", id[0] ? ", " : "", id,
             (double)p->ws_total / (1 << 20),
             p->ch->timed    ? ", timed"
             : p->ch->cached ? ", from the tuning cache"
                             : "");
}

pp_code pp_conv_prepare(pp_backend *b, pp_launch *l, pp_conv_plan **out, size_t *ws_bytes, char *path, size_t path_size,
                        pp_error *err) {
    pp_cuda_ctx *c = b->ctx;
    const pp_conv_params *cp = &l->params.conv;
    *out = NULL;
    *ws_bytes = 0;
    if (cp->group <= 0 || cp->c % cp->group || cp->k % cp->group)
        return pp_error_set(err, PP_ERR_SHAPE, "%s: node '%s': group %lld does not divide C %lld and K %lld", b->name,
                            l->node->name, (long long)cp->group, (long long)cp->c, (long long)cp->k);
    conv_fmt t = {cp->fmt.dtype == PP_DTYPE_INVALID ? PP_DTYPE_F32 : cp->fmt.dtype, cp->fmt.layout == PP_LAYOUT_NHWC};
    char key[512];
    conv_key(l, t, c->precision, key, sizeof key);
    if (only_impl()) { /* a key of its own, so no other choice is reused */
        size_t len = strlen(key);
        snprintf(key + len, sizeof key - len, " only %s", only_impl());
    }
    conv_choice *ch = choice_for(c, key);
    pp_conv_plan *p = pp_calloc(1, sizeof *p);
    if (!ch || !p) {
        pp_free(p);
        return pp_error_nomem(err, "%s: out of memory preparing node '%s'", b->name, l->node->name);
    }
    choose(c, l, t, ch);
    p->t = t;
    p->c = ch->c;
    p->ch = ch;
    /* sizing: room for whichever candidate the next prepare chooses */
    size_t need = 0;
    for (int i = 0; i < ch->n; i++) {
        p->run = ch->cand[i];
        place_conversions(l, p);
        if (p->ws_total > need) need = p->ws_total;
    }
    p->run = ch->cand[0];
    place_conversions(l, p);
    describe_path(p, cp->act, path, path_size);
    *ws_bytes = need;
    *out = p;
    return PP_OK;
}

pp_code pp_conv_launch(pp_backend *b, pp_stream *s, const pp_launch *l, const pp_conv_plan *p, pp_error *err) {
    const pp_conv_params *cp = &l->params.conv;
    if (cp->n * cp->k * cp->oh * cp->ow <= 0) return PP_OK;
    if (p->ch->n != 1 || !p->ch->chosen)
        return pp_error_set(err, PP_ERR_INTERNAL, "%s: node '%s': launched from a sizing prepare", b->name,
                            l->node->name);
    if (p->ws_total && !l->ws)
        return pp_error_set(err, PP_ERR_INTERNAL, "%s: node '%s': no workspace (%zu bytes needed)", b->name,
                            l->node->name, p->ws_total);
    conv_ptrs q = compute_ptrs(l, p, l->ws);
    const pp_dtype tt = p->t.dt, ct = p->c.dt;
    const pp_layout tl = p->t.nhwc ? PP_LAYOUT_NHWC : PP_LAYOUT_PLAIN,
                    cl = p->c.nhwc ? PP_LAYOUT_NHWC : PP_LAYOUT_PLAIN;
    cudaError_t e = cudaSuccess;
    /* in: x, w (KCRS ↔ KRSC is the same change as NCHW ↔ NHWC), and what a
     * fused graph reads of the epilogue */
    if (p->x_off != SIZE_MAX)
        e = pp_cuda_convert_layout((void *)q.x, ct, cl, l->in[0], tt, tl, cp->n, cp->c, cp->h * cp->w, s->s);
    if (e == cudaSuccess && p->w_off != SIZE_MAX)
        e = pp_cuda_convert_layout((void *)q.w, ct, cl, l->in[1], tt, tl, cp->k, cp->c / cp->group, cp->kh * cp->kw,
                                   s->s);
    if (e == cudaSuccess && p->b_off != SIZE_MAX) e = pp_cuda_convert((void *)q.bias, ct, l->in[2], tt, cp->k, s->s);
    if (e == cudaSuccess && p->r_off != SIZE_MAX)
        e = pp_cuda_convert_layout((void *)q.res, ct, cl, l->in[3], tt, tl, cp->n, cp->k, cp->oh * cp->ow, s->s);
    if (e != cudaSuccess) return pp_cuda_node_fail(err, b, l, e, "converting the inputs");
    cudnnStatus_t ds;
    if (!run_core(s->s, s->dnn, l, p->ch, &p->run, &q, s->err_dev, &ds, &e)) {
        if (ds != CUDNN_STATUS_SUCCESS) return dnn_fail(err, b, l, ds, impl_names[p->run.impl]);
        return pp_cuda_node_fail(err, b, l, e, impl_names[p->run.impl]);
    }
    /* out: what the convolution did not fuse, converting back on the way (the
     * kernels fuse everything; a fused graph all but an activation cuDNN lacks) */
    const void *bias = NULL, *res = NULL;
    pp_act act = cp->act;
    int kernel = p->run.impl == IMPL_DEPTHWISE || p->run.impl == IMPL_DIRECT;
    int graph_fused = p->run.impl == IMPL_GRAPH && p->run.fused;
    if (kernel || (graph_fused && pp_dnn_act_fusable(act))) act.kind = PP_ACT_NONE;
    if (!kernel && !graph_fused) {
        bias = has_bias(l) ? l->in[2] : NULL;
        res = has_res(l) ? l->in[3] : NULL;
    }
    e = pp_cuda_epilogue(l->out[0], tt, tl, q.y, ct, cl, bias, tt, res, cp->n, cp->k, cp->oh * cp->ow, act, s->s);
    if (e != cudaSuccess) return pp_cuda_node_fail(err, b, l, e, "the epilogue");
    return PP_OK;
}

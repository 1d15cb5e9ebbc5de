/* dnn_graph.c: convolutions as cuDNN 9 operation graphs (the backend API,
 * reference/cuda.md §1b), with the epilogue fused where an engine takes it:
 *
 *   X ─conv─> T0 ─(+ bias)─> T1 ─(+ residual)─> T2 ─act─> Y
 *
 * the intermediates virtual and f32, X, W, bias, residual and Y in the
 * convolution's format (f32, f16 or bf16; NCHW or NHWC given by strides, the
 * dimensions always N, C, H, W). A graph without the epilogue is the
 * convolution alone into Y. The activations cuDNN has: ReLU (with clips: ReLU6
 * and Clip), leaky ReLU, sigmoid, tanh, GELU (erf and tanh), SiLU (swish, beta
 * 1); hard-swish and hard-sigmoid are not among them, so those graphs stop at
 * the additions and the activation follows as a kernel.
 *
 * Engines come from the heuristics (mode A) in their order; an engine config
 * that does not finalize into a plan is skipped. A chosen engine is remembered
 * by its global index and knob choices (pp_dnn_plan_id), and rebuilt from them
 * on the next load without the heuristics (pp_dnn_plan_from_id).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dnn_graph.h"

enum { UID_X = 1, UID_W, UID_B, UID_R, UID_Y, UID_S0, UID_S1, UID_V0 = 100 };

#define BE(call)                                                                                                       \
    do {                                                                                                               \
        cudnnStatus_t s_ = (call);                                                                                     \
        if (s_ != CUDNN_STATUS_SUCCESS) {                                                                              \
            st = s_;                                                                                                   \
            goto done;                                                                                                 \
        }                                                                                                              \
    } while (0)

static void destroy(cudnnBackendDescriptor_t d) {
    if (d) cudnnBackendDestroyDescriptor(d);
}

static cudnnDataType_t dnn_type(pp_dtype t) {
    return t == PP_DTYPE_F16 ? CUDNN_DATA_HALF : t == PP_DTYPE_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
}

/* A (d0, d1, d2, d3) tensor in NCHW order whose strides are NCHW's or NHWC's. */
static cudnnStatus_t tensor(cudnnBackendDescriptor_t *out, int64_t uid, pp_dtype t, int nhwc, const int64_t dims[4],
                            int is_virtual) {
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    cudnnBackendDescriptor_t d = NULL;
    int64_t n = dims[0], c = dims[1], h = dims[2], w = dims[3];
    int64_t strides[4] = {c * h * w, h * w, w, 1};
    if (nhwc) strides[0] = h * w * c, strides[1] = 1, strides[2] = w * c, strides[3] = c;
    (void)n;
    cudnnDataType_t dt = is_virtual ? CUDNN_DATA_FLOAT : dnn_type(t);
    int64_t align = 16;
    bool virt = is_virtual != 0;
    BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_TENSOR_DESCRIPTOR, &d));
    BE(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt));
    BE(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims));
    BE(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides));
    BE(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid));
    BE(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align));
    BE(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &virt));
    BE(cudnnBackendFinalize(d));
    *out = d;
    d = NULL;
done:
    destroy(d);
    return st;
}

/* A by-value f32 scalar (given at execution from the host), broadcast over 4-d tensors. */
static cudnnStatus_t scalar(cudnnBackendDescriptor_t *out, int64_t uid) {
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    cudnnBackendDescriptor_t d = NULL;
    const int64_t ones[4] = {1, 1, 1, 1}, align = 4;
    cudnnDataType_t dt = CUDNN_DATA_FLOAT;
    bool byval = true, virt = false;
    BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_TENSOR_DESCRIPTOR, &d));
    BE(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt));
    BE(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, ones));
    BE(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, ones));
    BE(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid));
    BE(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align));
    BE(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &virt));
    BE(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &byval));
    BE(cudnnBackendFinalize(d));
    *out = d;
    d = NULL;
done:
    destroy(d);
    return st;
}

/* The scalars a composed activation reads (UID_S0, UID_S1); their count. */
static int act_scalars(pp_act a, float s[2]) {
    switch (a.kind) {
    case PP_ACT_HARDSWISH: s[0] = 3.f, s[1] = 1.f / 6.f; return 2;    /* x * clip(x + 3, 0, 6) * (1/6) */
    case PP_ACT_HARDSIGMOID: s[0] = a.alpha, s[1] = a.beta; return 2; /* clip(alpha * x + beta, 0, 1) */
    default: return 0;
    }
}

/* The pointwise operation y = mode(x [, b]) with its descriptor; act carries
 * the activation's parameters. */
static cudnnStatus_t pointwise(cudnnBackendDescriptor_t *op, cudnnBackendDescriptor_t *pw, cudnnPointwiseMode_t mode,
                               const pp_act *act, cudnnBackendDescriptor_t x, cudnnBackendDescriptor_t b,
                               cudnnBackendDescriptor_t y) {
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    cudnnDataType_t prec = CUDNN_DATA_FLOAT;
    BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_POINTWISE_DESCRIPTOR, pw));
    BE(cudnnBackendSetAttribute(*pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode));
    BE(cudnnBackendSetAttribute(*pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &prec));
    if (act && act->kind == PP_ACT_CLIP) {
        double lo = act->alpha, hi = act->beta;
        BE(cudnnBackendSetAttribute(*pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP, CUDNN_TYPE_DOUBLE, 1, &lo));
        BE(cudnnBackendSetAttribute(*pw, CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP, CUDNN_TYPE_DOUBLE, 1, &hi));
    } else if (act && act->kind == PP_ACT_LEAKY_RELU) {
        double slope = act->alpha;
        BE(cudnnBackendSetAttribute(*pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP_SLOPE, CUDNN_TYPE_DOUBLE, 1, &slope));
    } else if (act && act->kind == PP_ACT_SILU) {
        double beta = 1.0;
        BE(cudnnBackendSetAttribute(*pw, CUDNN_ATTR_POINTWISE_SWISH_BETA, CUDNN_TYPE_DOUBLE, 1, &beta));
    }
    BE(cudnnBackendFinalize(*pw));
    BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, op));
    BE(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
                                pw));
    BE(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x));
    if (b)
        BE(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &b));
    BE(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y));
    BE(cudnnBackendFinalize(*op));
done:
    return st;
}

int pp_dnn_act_fusable(pp_act a) {
    switch (a.kind) {
    case PP_ACT_NONE:
    case PP_ACT_RELU:
    case PP_ACT_CLIP:
    case PP_ACT_LEAKY_RELU:
    case PP_ACT_SIGMOID:
    case PP_ACT_TANH:
    case PP_ACT_GELU:
    case PP_ACT_GELU_TANH:
    case PP_ACT_SILU:
    case PP_ACT_HARDSWISH: /* composed: ADD, RELU with clips, MUL, MUL */
    case PP_ACT_HARDSIGMOID: /* composed: MUL, ADD, RELU with clips */ return 1;
    default: return 0;
    }
}

static cudnnPointwiseMode_t act_mode(pp_act a) {
    switch (a.kind) {
    case PP_ACT_SIGMOID: return CUDNN_POINTWISE_SIGMOID_FWD;
    case PP_ACT_TANH: return CUDNN_POINTWISE_TANH_FWD;
    case PP_ACT_GELU: return CUDNN_POINTWISE_GELU_FWD;
    case PP_ACT_GELU_TANH: return CUDNN_POINTWISE_GELU_APPROX_TANH_FWD;
    case PP_ACT_SILU: return CUDNN_POINTWISE_SWISH_FWD;
    default: return CUDNN_POINTWISE_RELU_FWD; /* RELU, CLIP, LEAKY_RELU: by the clips */
    }
}

/* Everything a graph is made of, destroyed together. */
static cudnnBackendDescriptor_t *slot(pp_dnn_graph *g) {
    return g->n_parts < PP_DNN_MAX_PARTS ? &g->parts[g->n_parts++] : NULL;
}

void pp_dnn_graph_free(pp_dnn_graph *g) {
    if (!g) return;
    destroy(g->graph);
    for (int i = g->n_parts - 1; i >= 0; i--) destroy(g->parts[i]);
    memset(g, 0, sizeof *g);
}

/* The parts (tensors, operations) stay alive as long as the graph: whether
 * cuDNN copies what SetAttribute is given is not promised. */
/* The convolution's descriptor: cross-correlation in f32 with the node's
 * paddings, dilations and strides. */
static cudnnStatus_t conv_desc(pp_dnn_graph *gr, const pp_conv_params *p, cudnnBackendDescriptor_t *out) {
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    int64_t dims = 2, pre[2] = {p->pad_top, p->pad_left}, post[2] = {p->pad_bottom, p->pad_right},
            dil[2] = {p->dil_h, p->dil_w}, str[2] = {p->stride_h, p->stride_w};
    cudnnDataType_t comp = CUDNN_DATA_FLOAT;
    cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
    BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, slot(gr)));
    cudnnBackendDescriptor_t conv = gr->parts[gr->n_parts - 1];
    BE(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &dims));
    BE(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp));
    BE(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode));
    BE(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pre));
    BE(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, post));
    BE(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dil));
    BE(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, str));
    BE(cudnnBackendFinalize(conv));
    *out = conv;
done:
    return st;
}

/* The forward-convolution operation Y = conv(X, W). */
static cudnnStatus_t conv_forward(pp_dnn_graph *gr, cudnnBackendDescriptor_t x, cudnnBackendDescriptor_t w,
                                  cudnnBackendDescriptor_t y, cudnnBackendDescriptor_t conv,
                                  cudnnBackendDescriptor_t *out) {
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    float alpha = 1.f, beta = 0.f;
    BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, slot(gr)));
    cudnnBackendDescriptor_t op = gr->parts[gr->n_parts - 1];
    BE(cudnnBackendSetAttribute(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x));
    BE(cudnnBackendSetAttribute(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w));
    BE(cudnnBackendSetAttribute(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y));
    BE(cudnnBackendSetAttribute(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                1, &conv));
    BE(cudnnBackendSetAttribute(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha));
    BE(cudnnBackendSetAttribute(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &beta));
    BE(cudnnBackendFinalize(op));
    *out = op;
done:
    return st;
}

/* One pointwise step of the epilogue: its mode, the clips of a RELU_FWD (or
 * the activation itself), and its B operand. */
enum { OP_B = -1, OP_R = -2, OP_S0 = -3, OP_S1 = -4, OP_NONE = -5, OP_START = -6 };
typedef struct step {
    cudnnPointwiseMode_t mode;
    pp_act clip;
    int b; /* OP_*: bias, residual, scalar 0 or 1, none, or the value the activation started from */
} step;

/* The epilogue's steps in order: + bias, + residual, the activation
 * (hardswish and hardsigmoid composed of several, reading by-value scalars).
 * Returns their count (at most 8). */
static int epilogue_steps(const pp_dnn_conv *c, step *steps) {
    int n = 0;
    const pp_act none = {0}, clip6 = {PP_ACT_CLIP, 0.f, 6.f}, clip1 = {PP_ACT_CLIP, 0.f, 1.f};
    if (!c->fused) return 0;
    if (c->bias) steps[n++] = (step){CUDNN_POINTWISE_ADD, none, OP_B};
    if (c->res) steps[n++] = (step){CUDNN_POINTWISE_ADD, none, OP_R};
    if (c->act.kind == PP_ACT_NONE) return n;
    if (c->act.kind == PP_ACT_HARDSWISH) {
        steps[n++] = (step){CUDNN_POINTWISE_ADD, none, OP_S0};
        steps[n++] = (step){CUDNN_POINTWISE_RELU_FWD, clip6, OP_NONE};
        steps[n++] = (step){CUDNN_POINTWISE_MUL, none, OP_START};
        steps[n++] = (step){CUDNN_POINTWISE_MUL, none, OP_S1};
    } else if (c->act.kind == PP_ACT_HARDSIGMOID) {
        steps[n++] = (step){CUDNN_POINTWISE_MUL, none, OP_S0};
        steps[n++] = (step){CUDNN_POINTWISE_ADD, none, OP_S1};
        steps[n++] = (step){CUDNN_POINTWISE_RELU_FWD, clip1, OP_NONE};
    } else {
        steps[n++] = (step){act_mode(c->act), c->act, OP_NONE};
    }
    return n;
}

/* The epilogue's pointwise operations into ops[]: each step reads the
 * previous one's output `prev` (and hardswish's MUL the value it started
 * from); the last writes Y. */
static cudnnStatus_t epilogue_ops(pp_dnn_graph *gr, const pp_dnn_conv *c, const step *steps, int n_steps,
                                  cudnnBackendDescriptor_t prev, const int64_t yd[4], cudnnBackendDescriptor_t *ops,
                                  int *n_ops) {
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    const int64_t bd[4] = {1, c->p->k, 1, 1};
    cudnnBackendDescriptor_t start = prev, sc[2] = {NULL, NULL};
    for (int i = 0; i < n_steps; i++) {
        const step *sp = &steps[i];
        int last = i == n_steps - 1;
        /* hardswish's MUL by its start: the value before the activation */
        if (sp->mode == CUDNN_POINTWISE_ADD && sp->b == OP_S0) start = prev;
        cudnnBackendDescriptor_t other = NULL, next, pw = NULL, op = NULL;
        if (sp->b == OP_B || sp->b == OP_R) {
            BE(tensor(slot(gr), sp->b == OP_B ? UID_B : UID_R, c->dtype, c->nhwc, sp->b == OP_B ? bd : yd, 0));
            other = gr->parts[gr->n_parts - 1];
        } else if (sp->b == OP_S0 || sp->b == OP_S1) {
            int k = sp->b == OP_S0 ? 0 : 1;
            if (!sc[k]) {
                BE(scalar(slot(gr), k ? UID_S1 : UID_S0));
                sc[k] = gr->parts[gr->n_parts - 1];
            }
            other = sc[k];
        } else if (sp->b == OP_START) {
            other = start;
        }
        BE(tensor(slot(gr), last ? UID_Y : UID_V0 + 1 + i, c->dtype, c->nhwc, yd, !last));
        next = gr->parts[gr->n_parts - 1];
        st = pointwise(&op, &pw, sp->mode, &sp->clip, prev, other, next);
        cudnnBackendDescriptor_t *s1 = slot(gr), *s2 = slot(gr);
        if (s1) *s1 = pw;
        else destroy(pw);
        if (s2) *s2 = op;
        else destroy(op);
        if (!s1 || !s2) st = CUDNN_STATUS_ALLOC_FAILED;
        if (st != CUDNN_STATUS_SUCCESS) goto done;
        ops[(*n_ops)++] = op;
        prev = next;
    }
done:
    return st;
}

/* The operation graph over ops[], finalized, into gr->graph. */
static cudnnStatus_t op_graph(cudnnHandle_t h, pp_dnn_graph *gr, cudnnBackendDescriptor_t *ops, int n_ops) {
    cudnnBackendDescriptor_t graph = NULL;
    cudnnStatus_t st = cudnnBackendCreateDescriptor(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, &graph);
    if (st != CUDNN_STATUS_SUCCESS) return st;
    st = cudnnBackendSetAttribute(graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, n_ops, ops);
    /* the handle names the device; cuDNN 9.8 and later no longer need it */
    if (st == CUDNN_STATUS_SUCCESS && h)
        st = cudnnBackendSetAttribute(graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h);
    if (st == CUDNN_STATUS_SUCCESS) st = cudnnBackendFinalize(graph);
    if (st != CUDNN_STATUS_SUCCESS) destroy(graph);
    else gr->graph = graph;
    return st;
}

cudnnStatus_t pp_dnn_conv_graph(cudnnHandle_t h, const pp_dnn_conv *c, pp_dnn_graph *gr) {
    const pp_conv_params *p = c->p;
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    memset(gr, 0, sizeof *gr);
    const int64_t xd[4] = {p->n, p->c, p->h, p->w}, wd[4] = {p->k, p->c / p->group, p->kh, p->kw},
                  yd[4] = {p->n, p->k, p->oh, p->ow};
    cudnnBackendDescriptor_t x, w, y, conv, ops[12];
    step steps[8];
    int n_ops = 0, n_steps = epilogue_steps(c, steps);
    BE(tensor(slot(gr), UID_X, c->dtype, c->nhwc, xd, 0));
    x = gr->parts[gr->n_parts - 1];
    BE(tensor(slot(gr), UID_W, c->dtype, c->nhwc, wd, 0));
    w = gr->parts[gr->n_parts - 1];
    /* the convolution's output: Y itself, or the epilogue's first virtual tensor */
    BE(tensor(slot(gr), n_steps ? UID_V0 : UID_Y, c->dtype, c->nhwc, yd, n_steps > 0));
    y = gr->parts[gr->n_parts - 1];
    BE(conv_desc(gr, p, &conv));
    BE(conv_forward(gr, x, w, y, conv, &ops[n_ops++]));
    BE(epilogue_ops(gr, c, steps, n_steps, y, yd, ops, &n_ops));
    BE(op_graph(h, gr, ops, n_ops));
done:
    if (st != CUDNN_STATUS_SUCCESS) pp_dnn_graph_free(gr);
    return st;
}

/* An execution plan from a finalized engine config; its workspace size. */
static cudnnStatus_t plan_from_cfg(cudnnHandle_t h, cudnnBackendDescriptor_t cfg, cudnnBackendDescriptor_t *plan,
                                   int64_t *ws) {
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    cudnnBackendDescriptor_t p = NULL;
    int64_t n = 0;
    BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &p));
    BE(cudnnBackendSetAttribute(p, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cfg));
    if (h && cudnnGetVersion() < 90800)
        BE(cudnnBackendSetAttribute(p, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h));
    BE(cudnnBackendFinalize(p));
    BE(cudnnBackendGetAttribute(p, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &n, ws));
    *plan = p;
    p = NULL;
done:
    destroy(p);
    return st;
}

void pp_dnn_exec_free(pp_dnn_exec *e) {
    if (!e) return;
    destroy(e->plan);
    destroy(e->cfg);
    for (int i = 0; i < CUDNN_KNOB_TYPE_COUNTS; i++) destroy(e->knobs[i]);
    destroy(e->eng);
    memset(e, 0, sizeof *e);
}

/* 1 when the engine behind cfg carries one of the numerical notes in `avoid`
 * (a bit per cudnnBackendNumericalNote_t). */
static int has_note(cudnnBackendDescriptor_t cfg, unsigned avoid) {
    if (!avoid) return 0;
    cudnnBackendDescriptor_t eng = NULL;
    cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
    int64_t n = 0, nn = 0;
    int hit = 1; /* what cannot be read is avoided */
    if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &eng) == CUDNN_STATUS_SUCCESS &&
        cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n, &eng) ==
            CUDNN_STATUS_SUCCESS &&
        cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                 CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &nn, notes) == CUDNN_STATUS_SUCCESS) {
        hit = 0;
        for (int64_t i = 0; i < nn && i < CUDNN_NUMERICAL_NOTE_TYPE_COUNT; i++)
            if ((unsigned)notes[i] < 32 && (avoid >> notes[i]) & 1u) hit = 1;
    }
    destroy(eng);
    return hit;
}

int pp_dnn_candidates(cudnnHandle_t h, const pp_dnn_graph *g, int max, int64_t ws_budget, unsigned avoid,
                      pp_dnn_exec *out, cudnnStatus_t *why) {
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    enum { WANT = 16 };
    cudnnBackendDescriptor_t heur = NULL, cfgs[WANT] = {0};
    int64_t count = 0;
    int found = 0;
    cudnnBackendHeurMode_t mode = CUDNN_HEUR_MODE_A;
    BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, &heur));
    BE(cudnnBackendSetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
                                &g->graph));
    BE(cudnnBackendSetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode));
    BE(cudnnBackendFinalize(heur));
    for (int i = 0; i < WANT; i++) BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &cfgs[i]));
    /* The count it returns is what passed its support checks, fewer than asked
     * (reference/cuda.md §1b). */
    BE(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, WANT, &count,
                                cfgs));
    for (int64_t i = 0; i < count && i < WANT && found < max; i++) {
        if (has_note(cfgs[i], avoid)) continue;
        cudnnBackendDescriptor_t plan = NULL;
        int64_t ws = 0;
        cudnnStatus_t ps = plan_from_cfg(h, cfgs[i], &plan, &ws);
        if (ps != CUDNN_STATUS_SUCCESS) {
            st = ps; /* the last reason, if none finalizes */
            continue;
        }
        if (ws < 0 || ws > ws_budget) {
            destroy(plan);
            continue;
        }
        memset(&out[found], 0, sizeof out[found]);
        out[found].plan = plan;
        out[found].cfg = cfgs[i]; /* kept alive with its plan */
        cfgs[i] = NULL;
        out[found].ws = (size_t)ws;
        found++;
    }
    if (found) st = CUDNN_STATUS_SUCCESS;
    else if (st == CUDNN_STATUS_SUCCESS) st = CUDNN_STATUS_NOT_SUPPORTED;
done:
    for (int i = 0; i < WANT; i++) destroy(cfgs[i]);
    destroy(heur);
    if (why) *why = st;
    return found;
}

int pp_dnn_plan_id(cudnnBackendDescriptor_t plan, char *buf, size_t size) {
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    cudnnBackendDescriptor_t cfg = NULL, eng = NULL, knobs[CUDNN_KNOB_TYPE_COUNTS] = {0};
    int64_t n = 0, id = -1, nk = 0;
    int ok = 0;
    BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &cfg));
    BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &eng));
    for (int i = 0; i < CUDNN_KNOB_TYPE_COUNTS; i++)
        BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR, &knobs[i]));
    BE(cudnnBackendGetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n,
                                &cfg));
    BE(cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n, &eng));
    BE(cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &n, &id));
    BE(cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                CUDNN_KNOB_TYPE_COUNTS, &nk, knobs));
    int len = snprintf(buf, size, "eng %" PRId64, id);
    for (int64_t i = 0; i < nk && i < CUDNN_KNOB_TYPE_COUNTS && len > 0 && (size_t)len < size; i++) {
        cudnnBackendKnobType_t type = CUDNN_KNOB_TYPE_COUNTS;
        int64_t value = 0;
        BE(cudnnBackendGetAttribute(knobs[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &n, &type));
        BE(cudnnBackendGetAttribute(knobs[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &n, &value));
        len += snprintf(buf + len, size - (size_t)len, " %d=%" PRId64, (int)type, value);
    }
    ok = len > 0 && (size_t)len < size;
done:
    for (int i = 0; i < CUDNN_KNOB_TYPE_COUNTS; i++) destroy(knobs[i]);
    destroy(eng);
    destroy(cfg);
    return ok && st == CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t pp_dnn_plan_from_id(cudnnHandle_t h, const pp_dnn_graph *g, const char *id, pp_dnn_exec *e) {
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    int nk = 0, used = 0;
    int64_t gi = -1, ws = 0;
    memset(e, 0, sizeof *e);
    if (sscanf(id, "eng %" SCNd64 "%n", &gi, &used) != 1) return CUDNN_STATUS_BAD_PARAM;
    BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &e->eng));
    BE(cudnnBackendSetAttribute(e->eng, CUDNN_ATTR_ENGINE_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
                                &g->graph));
    BE(cudnnBackendSetAttribute(e->eng, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &gi));
    BE(cudnnBackendFinalize(e->eng));
    for (const char *s = id + used; nk < CUDNN_KNOB_TYPE_COUNTS;) {
        int type, n = 0;
        int64_t value;
        if (sscanf(s, " %d=%" SCNd64 "%n", &type, &value, &n) != 2) break;
        s += n;
        cudnnBackendKnobType_t kt = (cudnnBackendKnobType_t)type;
        BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR, &e->knobs[nk]));
        BE(cudnnBackendSetAttribute(e->knobs[nk], CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &kt));
        BE(cudnnBackendSetAttribute(e->knobs[nk], CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &value));
        BE(cudnnBackendFinalize(e->knobs[nk]));
        nk++;
    }
    BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &e->cfg));
    BE(cudnnBackendSetAttribute(e->cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &e->eng));
    if (nk)
        BE(cudnnBackendSetAttribute(e->cfg, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR, nk,
                                    e->knobs));
    BE(cudnnBackendFinalize(e->cfg));
    BE(plan_from_cfg(h, e->cfg, &e->plan, &ws));
    e->ws = (size_t)ws;
done:
    if (st != CUDNN_STATUS_SUCCESS) pp_dnn_exec_free(e);
    return st;
}

cudnnStatus_t pp_dnn_execute(cudnnHandle_t h, cudnnBackendDescriptor_t plan, const pp_dnn_ptrs *ptrs) {
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    cudnnBackendDescriptor_t vp = NULL;
    int64_t uids[7];
    void *data[7];
    int n = 0;
    float sv[2];
    int ns = act_scalars(ptrs->act, sv);
    const int64_t ids[7] = {UID_X, UID_W, UID_B, UID_R, UID_Y, UID_S0, UID_S1};
    void *const ps[7] = {(void *)ptrs->x, (void *)ptrs->w,    (void *)ptrs->bias, (void *)ptrs->res,
                         ptrs->y,         ns ? &sv[0] : NULL, ns ? &sv[1] : NULL};
    for (int i = 0; i < 7; i++)
        if (ps[i]) uids[n] = ids[i], data[n++] = ps[i];
    BE(cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &vp));
    BE(cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, n, uids));
    BE(cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, n, data));
    void *ws = ptrs->ws;
    BE(cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &ws));
    BE(cudnnBackendFinalize(vp));
    st = cudnnBackendExecute(h, plan, vp);
done:
    destroy(vp);
    return st;
}

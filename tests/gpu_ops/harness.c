/* harness.c: gpu_ops' machinery (see tests/gpu_ops.c for what it checks): random
 * inputs, ONNX attributes, one case run on the CPU reference kernel and on the
 * CUDA backend (alloc, upload, prepare, launch, download, sync), its outputs
 * compared with atol + rtol·|ref| (exact for integers and bools, NaN and Inf
 * must match) and its guard bytes checked, one line reported per case. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

int n_pass, n_fail, n_skip;
const char *filter;
pp_backend *gpu;
pp_stream *g_stream;

/* name contains one of filter's comma-separated parts (everything without a filter) */
int selected(const char *name) {
    if (!filter) return 1;
    for (const char *f = filter; *f;) {
        const char *end = strchr(f, ',');
        size_t n = end ? (size_t)(end - f) : strlen(f);
        for (const char *p = name; n && *p; p++)
            if (strncmp(p, f, n) == 0) return 1;
        if (!end) break;
        f = end + 1;
    }
    return 0;
}

/* ---- random inputs ----------------------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
static float rndf(float lo, float hi) { return lo + (hi - lo) * (float)(rnd() & 0xFFFFFF) / (float)0x1000000; }

static int64_t numel(int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    return n;
}

static void fill(const input *in, void *buf) {
    int64_t n = numel(in->rank, in->dims);
    for (int64_t i = 0; i < n; i++) {
        switch (in->dtype) {
        case PP_DTYPE_F32: {
            float v = in->gen == G_POS ? rndf(0.05f, 3.f) : in->gen == G_ZERO_ONE ? rndf(0.f, 1.f) : rndf(-2.f, 2.f);
            ((float *)buf)[i] = v;
        } break;
        case PP_DTYPE_F16: ((uint16_t *)buf)[i] = pp_f32_to_f16(rndf(-2.f, 2.f)); break;
        case PP_DTYPE_BF16: ((uint16_t *)buf)[i] = pp_f32_to_bf16(rndf(-2.f, 2.f)); break;
        case PP_DTYPE_F64: ((double *)buf)[i] = rndf(-100.f, 100.f); break;
        case PP_DTYPE_I64:
        case PP_DTYPE_I32: {
            int64_t v = in->gen == G_INDEX ? (int64_t)(rnd() % (uint32_t)(2 * in->gen_range)) - in->gen_range
                                           : (int64_t)(rnd() % 11) - 5;
            if (in->dtype == PP_DTYPE_I64) ((int64_t *)buf)[i] = v;
            else ((int32_t *)buf)[i] = (int32_t)v;
        } break;
        case PP_DTYPE_I8: ((int8_t *)buf)[i] = (int8_t)((int)(rnd() % 256) - 128); break;
        case PP_DTYPE_U8: ((uint8_t *)buf)[i] = (uint8_t)(rnd() % 256); break;
        case PP_DTYPE_BOOL: ((uint8_t *)buf)[i] = (uint8_t)(rnd() & 1); break;
        default: break;
        }
    }
}

/* ---- attributes ------------------------------------------------------------------ */

pp_attr A_INT(const char *name, int64_t v) {
    pp_attr a;
    memset(&a, 0, sizeof a);
    a.name = (char *)name;
    a.type = PP_ATTR_INT;
    a.i = v;
    a.count = 1;
    return a;
}
pp_attr A_FLOAT(const char *name, double v) {
    pp_attr a;
    memset(&a, 0, sizeof a);
    a.name = (char *)name;
    a.type = PP_ATTR_FLOAT;
    a.f = v;
    a.count = 1;
    return a;
}
pp_attr A_STR(const char *name, const char *v) {
    pp_attr a;
    memset(&a, 0, sizeof a);
    a.name = (char *)name;
    a.type = PP_ATTR_STRING;
    a.s = (char *)v;
    a.count = 1;
    return a;
}
/* The values live in a static pool: cases are built and run one at a time. */
static int64_t ints_pool[256];
static double floats_pool[64];
static int ints_used, floats_used;
pp_attr A_INTS(const char *name, int n, ...) {
    pp_attr a;
    memset(&a, 0, sizeof a);
    a.name = (char *)name;
    a.type = PP_ATTR_INTS;
    a.count = (uint32_t)n;
    a.ints = &ints_pool[ints_used];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) ints_pool[ints_used++] = va_arg(ap, int64_t);
    va_end(ap);
    return a;
}
pp_attr A_FLOATS(const char *name, int n, ...) {
    pp_attr a;
    memset(&a, 0, sizeof a);
    a.name = (char *)name;
    a.type = PP_ATTR_FLOATS;
    a.count = (uint32_t)n;
    a.floats = &floats_pool[floats_used];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) floats_pool[floats_used++] = va_arg(ap, double);
    va_end(ap);
    return a;
}

/* Sets (on) or unsets the case's environment. */
static void case_env(const char *env, int on) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", env ? env : "");
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) continue;
        *eq = 0;
        if (on) setenv(kv, eq + 1, 1);
        else unsetenv(kv);
    }
}

input T(pp_dtype t, int rank, ...) {
    input in;
    memset(&in, 0, sizeof in);
    in.dtype = t;
    in.rank = rank;
    va_list ap;
    va_start(ap, rank);
    for (int i = 0; i < rank; i++) in.dims[i] = va_arg(ap, int64_t);
    va_end(ap);
    return in;
}
input with_gen(input in, gen_kind g, int64_t range) {
    in.gen = g;
    in.gen_range = range;
    return in;
}
input ABSENT(void) {
    input in;
    memset(&in, 0, sizeof in);
    in.absent = 1;
    return in;
}

void report(const tcase *c, const char *status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%-4s %-44s ", status, c->name);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

/* Compares n elements of dtype; 0 when they agree. Writes the first mismatch into msg. */
static double last_worst; /* the largest difference compare() saw last */

static int compare(pp_dtype t, const void *ref, const void *got, int64_t n, float atol, float rtol, char *msg,
                   size_t msz) {
    int bad = 0;
    double worst = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double r, g;
        int exact = 0;
        switch (t) {
        case PP_DTYPE_F32: r = ((const float *)ref)[i], g = ((const float *)got)[i]; break;
        case PP_DTYPE_F64: r = ((const double *)ref)[i], g = ((const double *)got)[i]; break;
        case PP_DTYPE_F16:
            r = pp_f16_to_f32(((const uint16_t *)ref)[i]), g = pp_f16_to_f32(((const uint16_t *)got)[i]);
            break;
        case PP_DTYPE_BF16:
            r = pp_bf16_to_f32(((const uint16_t *)ref)[i]), g = pp_bf16_to_f32(((const uint16_t *)got)[i]);
            break;
        case PP_DTYPE_I64:
            exact = ((const int64_t *)ref)[i] != ((const int64_t *)got)[i] ? 2 : 1;
            r = g = 0;
            break;
        case PP_DTYPE_I32:
            exact = ((const int32_t *)ref)[i] != ((const int32_t *)got)[i] ? 2 : 1;
            r = g = 0;
            break;
        default:
            exact = ((const uint8_t *)ref)[i] != ((const uint8_t *)got)[i] ? 2 : 1;
            r = g = 0;
            break;
        }
        int wrong;
        if (exact) {
            wrong = exact == 2;
        } else if (isnan(r) || isnan(g)) {
            wrong = isnan(r) != isnan(g);
        } else if (isinf(r) || isinf(g)) {
            wrong = r != g;
        } else {
            double d = fabs(r - g);
            wrong = d > atol + rtol * fabs(r);
            if (d > worst) worst = d;
        }
        if (wrong) {
            if (!bad) {
                if (exact) {
                    long long rr = 0, gg = 0;
                    if (t == PP_DTYPE_I64) rr = ((const int64_t *)ref)[i], gg = ((const int64_t *)got)[i];
                    else if (t == PP_DTYPE_I32) rr = ((const int32_t *)ref)[i], gg = ((const int32_t *)got)[i];
                    else rr = ((const uint8_t *)ref)[i], gg = ((const uint8_t *)got)[i];
                    snprintf(msg, msz, "element %lld: cpu %lld, cuda %lld", (long long)i, rr, gg);
                } else {
                    snprintf(msg, msz, "element %lld: cpu %.8g, cuda %.8g", (long long)i, r, g);
                }
            }
            bad++;
        }
    }
    if (!bad) snprintf(msg, msz, "max |diff| %.3g", worst);
    last_worst = worst;
    return bad;
}

static const char *G(pp_code rc, pp_error *e) { return rc == PP_OK ? "" : e->msg; }

/* ---- tensors in the planner's formats -------------------------------------------------- */

/* Which inputs take the node's 16-bit format (the others keep theirs: batch
 * norm's statistics, attention's mask). */
static int fmt_converts(pp_op op, int i) {
    if (op == PP_OP_BATCHNORM || op == PP_OP_LAYERNORM) return i == 0;
    if (op == PP_OP_ATTENTION) return i < 3;
    return 1;
}

static uint16_t to16(pp_dtype t, float v) { return t == PP_DTYPE_F16 ? pp_f32_to_f16(v) : pp_f32_to_bf16(v); }
static float from16(pp_dtype t, uint16_t v) { return t == PP_DTYPE_F16 ? pp_f16_to_f32(v) : pp_bf16_to_f32(v); }

/* element i of an (N, C, H, W) tensor, in NHWC order when nhwc */
static int64_t fmt_index(int rank, const int64_t *d, int nhwc, int64_t i) {
    if (!nhwc || rank != 4) return i;
    int64_t w = i % d[3], h = (i / d[3]) % d[2], c = (i / (d[3] * d[2])) % d[1], n = i / (d[3] * d[2] * d[1]);
    return ((n * d[2] + h) * d[3] + w) * d[1] + c;
}

/* f32 (logical order) to the 16-bit format, and back */
static void to_fmt(const float *x, uint16_t *y, int rank, const int64_t *d, pp_dtype t, int nhwc) {
    int64_t n = numel(rank, d);
    for (int64_t i = 0; i < n; i++) y[fmt_index(rank, d, nhwc, i)] = to16(t, x[i]);
}
static void from_fmt(const uint16_t *y, float *x, int rank, const int64_t *d, pp_dtype t, int nhwc) {
    int64_t n = numel(rank, d);
    for (int64_t i = 0; i < n; i++) x[i] = from16(t, y[fmt_index(rank, d, nhwc, i)]);
}

/* ---- running one case ------------------------------------------------------------------ */

/* How a case is launched on the GPU: directly, or captured into a CUDA graph and replayed. */
typedef enum { RUN_DIRECT = 0, RUN_GRAPH = 1 } run_mode;

/* The emulator (tests/emu) rather than a GPU: its mocks read MOCK_* and the
 * paths the cases expect are its engines'. */
static int emulated(void) { return strncmp(gpu->name, "emu", 3) == 0; }

/* Everything one case holds from describe to the verdict; freed by run_free. */
typedef struct run_state {
    const tcase *c;
    pp_node node;
    int in_ids[MAX_IN], out_ids[PP_MAX_IO];
    pp_shape in[MAX_IN], out[PP_MAX_IO];
    pp_op_params p;  /* the CPU's params */
    pp_op_params pg; /* the GPU's params: described on the formatted shapes, as the planner does */
    pp_cpu_kernel_fn cpu;
    pp_error err;
    /* host buffers; h_ref and h_got hold GUARD bytes past each output */
    const void *h_in[PP_MAX_IO];
    void *h_ref[PP_MAX_IO], *h_got[PP_MAX_IO], *cpu_ws;
    size_t in_bytes[MAX_IN], out_bytes[PP_MAX_IO];
    int cpu_rc;
    /* which tensors the GPU sees in the 16-bit format (their values rounded for the CPU too) */
    int conv_in[MAX_IN], conv_out[PP_MAX_IO], nhwc_in[MAX_IN], nhwc_out[PP_MAX_IO];
    size_t dev_in[MAX_IN], dev_out[PP_MAX_IO]; /* bytes on the device */
    void *d_in[MAX_IN], *d_out[PP_MAX_IO], *d_ws;
    unsigned char *pattern; /* PATTERN bytes, as many as the largest output and its guard */
    pp_stream *s;
    pp_launch L;
} run_state;

static int skip(const tcase *c, const char *why) {
    report(c, "SKIP", "%s", why);
    n_skip++;
    return 1;
}

/* The node built from the case and described on its shapes; nonzero (reported as
 * skipped) when describe refuses it, the CPU has no kernel or the backend does not
 * support it. */
static int describe_case(run_state *r) {
    const tcase *c = r->c;
    r->node.op = c->op;
    r->node.name = (char *)c->name;
    r->node.n_in = c->n_in;
    r->node.n_out = c->n_out;
    r->node.n_attr = c->n_attr;
    r->node.attrs = (pp_attr *)c->attr;
    r->node.in = r->in_ids;
    r->node.out = r->out_ids;
    for (int i = 0; i < c->n_in; i++) {
        r->in_ids[i] = c->in[i].absent ? -1 : i;
        if (c->in[i].absent) continue;
        r->in[i].dtype = c->in[i].dtype;
        r->in[i].rank = c->in[i].rank;
        memcpy(r->in[i].dims, c->in[i].dims, sizeof r->in[i].dims);
    }
    for (int i = 0; i < c->n_out; i++) r->out_ids[i] = c->n_in + i;
    if (pp_op_describe(&r->node, r->in, r->out, &r->p, NULL, NULL, &r->err) != PP_OK) {
        char why[sizeof r->err.msg + 16];
        snprintf(why, sizeof why, "(describe: %s)", r->err.msg);
        return skip(c, why);
    }
    r->cpu = pp_cpu_kernel_for(c->op);
    if (!r->cpu) return skip(c, "(no CPU kernel)");
    if (!gpu->ops->supports(gpu, &r->node, r->in)) return skip(c, "(the CUDA backend does not support it)");
    r->pg = r->p;
    return 0;
}

/* In a 16-bit format: the GPU's params described again on the formatted shapes
 * (NHWC where asked), and which outputs come back NHWC; nonzero (reported as a
 * failure) when describe refuses them. */
static int describe_formats(run_state *r) {
    const tcase *c = r->c;
    if (!c->fmt) return 0;
    pp_shape fin[MAX_IN], fout[PP_MAX_IO];
    memcpy(fin, r->in, sizeof fin);
    for (int i = 0; i < c->n_in; i++) {
        if (c->in[i].absent || c->in[i].dtype != PP_DTYPE_F32 || !fmt_converts(c->op, i)) continue;
        fin[i].dtype = c->fmt;
        r->nhwc_in[i] = c->nhwc && fin[i].rank == 4;
        if (r->nhwc_in[i]) fin[i].layout = PP_LAYOUT_NHWC;
    }
    if (pp_op_describe(&r->node, fin, fout, &r->pg, NULL, NULL, &r->err) != PP_OK) {
        report(c, "FAIL", "describe in %s%s: %s", pp_dtype_name(c->fmt), c->nhwc ? " nhwc" : "", r->err.msg);
        n_fail++;
        return 1;
    }
    for (int i = 0; i < c->n_out; i++) r->nhwc_out[i] = fout[i].layout == PP_LAYOUT_NHWC;
    return 0;
}

/* Random inputs (rounded to the 16-bit format where the GPU gets them in it), the
 * outputs' buffers, and the CPU kernel's reference outputs. */
static void run_cpu(run_state *r) {
    const tcase *c = r->c;
    for (int i = 0; i < c->n_in; i++) {
        if (c->in[i].absent) continue;
        r->in_bytes[i] = (size_t)numel(c->in[i].rank, c->in[i].dims) * pp_dtype_bytes(c->in[i].dtype);
        void *buf = malloc(r->in_bytes[i] ? r->in_bytes[i] : 1);
        fill(&c->in[i], buf);
        r->h_in[i] = buf;
        r->dev_in[i] = r->in_bytes[i];
        r->conv_in[i] = c->fmt && c->in[i].dtype == PP_DTYPE_F32 && fmt_converts(c->op, i);
        if (r->conv_in[i]) {
            float *f = buf;
            for (int64_t j = 0; j < numel(c->in[i].rank, c->in[i].dims); j++) f[j] = from16(c->fmt, to16(c->fmt, f[j]));
            r->dev_in[i] = r->in_bytes[i] / 2;
        }
    }
    for (int i = 0; i < c->n_out; i++) {
        r->out_bytes[i] = (size_t)pp_shape_numel(&r->out[i]) * pp_dtype_bytes(r->out[i].dtype);
        r->conv_out[i] = c->fmt && r->out[i].dtype == PP_DTYPE_F32;
        r->dev_out[i] = r->conv_out[i] ? r->out_bytes[i] / 2 : r->out_bytes[i];
        r->h_ref[i] = malloc(r->out_bytes[i] + GUARD);
        r->h_got[i] = malloc(r->out_bytes[i] + GUARD);
        memset(r->h_ref[i], PATTERN, r->out_bytes[i] + GUARD);
        memset(r->h_got[i], 0, r->out_bytes[i] + GUARD);
    }
    size_t cws = pp_cpu_workspace_size(c->op, &r->p);
    if (cws) r->cpu_ws = malloc(cws);
    r->cpu_rc = r->cpu(&r->p, r->h_in, r->h_ref, r->cpu_ws);
}

/* The inputs on the device (converted to the 16-bit format where asked), the
 * outputs pre-filled with the pattern, their guard bytes too. */
static pp_code gpu_upload(run_state *r) {
    const tcase *c = r->c;
    pp_code rc;
    size_t max_out = 0;
    for (int i = 0; i < c->n_out; i++)
        if (r->out_bytes[i] + GUARD > max_out) max_out = r->out_bytes[i] + GUARD;
    r->pattern = malloc(max_out);
    memset(r->pattern, PATTERN, max_out);
    /* one stream for every case: creating one (and its cuDNN handle) per case costs more than the case */
    if (!g_stream && (rc = gpu->ops->stream_create(gpu, &g_stream, &r->err))) return rc;
    r->s = g_stream;
    for (int i = 0; i < c->n_in; i++) {
        if (c->in[i].absent) continue;
        const void *src = r->h_in[i];
        uint16_t *tmp = NULL;
        if (r->conv_in[i]) {
            tmp = malloc(r->dev_in[i] ? r->dev_in[i] : 2);
            to_fmt(r->h_in[i], tmp, c->in[i].rank, c->in[i].dims, c->fmt, r->nhwc_in[i]);
            src = tmp;
        }
        if (!(rc = gpu->ops->alloc(gpu, r->dev_in[i], &r->d_in[i], &r->err)))
            rc = gpu->ops->upload(gpu, r->s, r->d_in[i], src, r->dev_in[i], &r->err);
        /* the copy may still read tmp: wait before freeing it */
        if (!rc && tmp) rc = gpu->ops->stream_sync(gpu, r->s, &r->err);
        free(tmp);
        if (rc) return rc;
        r->L.in[i] = r->d_in[i];
    }
    for (int i = 0; i < c->n_out; i++) {
        if ((rc = gpu->ops->alloc(gpu, r->dev_out[i] + GUARD, &r->d_out[i], &r->err))) return rc;
        if ((rc = gpu->ops->upload(gpu, r->s, r->d_out[i], r->pattern, r->dev_out[i] + GUARD, &r->err))) return rc;
        r->L.out[i] = r->d_out[i];
    }
    return PP_OK;
}

/* As the executor does: a first prepare sizes the workspace, the second (on the
 * final buffers) may time candidates in it. */
static pp_code gpu_prepare(run_state *r) {
    pp_launch *L = &r->L;
    pp_code rc;
    L->node = &r->node;
    L->params = r->pg;
    L->weights = r->c->weights;
    if ((rc = gpu->ops->prepare(gpu, L, &r->err))) return rc;
    size_t ws_bytes = L->ws_bytes ? L->ws_bytes : 256;
    gpu->ops->release(gpu, L);
    if ((rc = gpu->ops->alloc(gpu, ws_bytes, &r->d_ws, &r->err))) return rc;
    L->ws = r->d_ws;
    L->ws_bytes = ws_bytes;
    if ((rc = gpu->ops->prepare(gpu, L, &r->err))) return rc;
    if (L->ws_bytes > ws_bytes) {
        snprintf(r->err.msg, sizeof r->err.msg, "the second prepare needs %zu bytes of workspace, the first said %zu",
                 L->ws_bytes, ws_bytes);
        return PP_ERR_INTERNAL;
    }
    L->ws = r->d_ws;
    return gpu->ops->stream_sync(gpu, r->s, &r->err);
}

/* Captured into a CUDA graph, then replayed twice: the second run must give the same bytes. */
static pp_code gpu_launch_graph(run_state *r) {
    void *graph = NULL;
    pp_code rc;
    if ((rc = gpu->ops->capture_begin(gpu, r->s, &r->err))) return rc;
    pp_code lrc = gpu->ops->launch(gpu, r->s, &r->L, &r->err);
    pp_error err2;
    rc = gpu->ops->capture_end(gpu, r->s, &graph, &err2);
    if (lrc) {
        if (graph) gpu->ops->graph_destroy(gpu, graph);
        return lrc;
    }
    if (rc) {
        r->err = err2;
        return rc;
    }
    rc = gpu->ops->replay(gpu, r->s, graph, &r->err);
    if (!rc) rc = gpu->ops->replay(gpu, r->s, graph, &r->err);
    if (!rc) rc = gpu->ops->stream_sync(gpu, r->s, &r->err);
    gpu->ops->graph_destroy(gpu, graph);
    return rc;
}

/* Upload, prepare, launch and start the downloads; a failure here is the case's
 * failure whatever it expects. */
static pp_code gpu_run(run_state *r, run_mode mode) {
    pp_code rc;
    if ((rc = gpu_upload(r)) || (rc = gpu_prepare(r))) return rc;
    if (mode == RUN_GRAPH) rc = gpu_launch_graph(r);
    else rc = gpu->ops->launch(gpu, r->s, &r->L, &r->err);
    if (rc) return rc;
    for (int i = 0; i < r->c->n_out; i++)
        if ((rc = gpu->ops->download(gpu, r->s, r->h_got[i], r->d_out[i], r->dev_out[i] + GUARD, &r->err))) return rc;
    return PP_OK;
}

/* Waits for the downloads (where an invalid case's error surfaces) and brings
 * 16-bit outputs back to f32 in logical order, the guard bytes moved to the end. */
static pp_code gpu_finish(run_state *r) {
    pp_code rc = gpu->ops->stream_sync(gpu, r->s, &r->err);
    for (int i = 0; i < r->c->n_out && !rc; i++) {
        if (!r->conv_out[i]) continue;
        uint16_t *tmp = malloc(r->dev_out[i] + GUARD);
        memcpy(tmp, r->h_got[i], r->dev_out[i] + GUARD);
        from_fmt(tmp, r->h_got[i], r->out[i].rank, r->out[i].dims, r->c->fmt, r->nhwc_out[i]);
        memcpy((char *)r->h_got[i] + r->out_bytes[i], (char *)tmp + r->dev_out[i], GUARD);
        free(tmp);
    }
    return rc;
}

/* Guard bytes untouched, then every output against the CPU's; 0 when they agree.
 * The first output's figures (and the path taken, path) go into msg. */
static int compare_outputs(run_state *r, const char *path, char *msg, size_t msz) {
    const tcase *c = r->c;
    for (int i = 0; i < c->n_out; i++) {
        const unsigned char *g = (const unsigned char *)r->h_got[i] + r->out_bytes[i];
        for (size_t j = 0; j < GUARD; j++)
            if (g[j] != PATTERN) {
                snprintf(msg, msz, "output %d: guard byte %zu past the end was overwritten", i, j);
                return 1;
            }
        float atol = c->atol > 0 ? c->atol : 1e-5f, rtol = c->rtol > 0 ? c->rtol : 1e-5f;
        char m[256];
        int64_t n = pp_shape_numel(&r->out[i]);
        int bad = compare(r->out[i].dtype, r->h_ref[i], r->h_got[i], n, atol, rtol, m, sizeof m);
        if (bad) {
            snprintf(msg, msz, "output %d: %d of %lld elements differ; first: %s", i, bad, (long long)n, m);
            return 1;
        }
        if (last_worst < c->min_diff) {
            snprintf(msg, msz, "output %d: max |diff| %.3g, no 16-bit rounding to be seen (f32 computed?)", i,
                     last_worst);
            return 1;
        }
        if (i == 0)
            snprintf(msg, msz, "%s%s%s", m, path && (c->path || c->fmt) ? "; " : "",
                     path && (c->path || c->fmt) ? path : "");
    }
    return 0;
}

/* The case's verdict once the GPU has run (rc: gpu_finish's): the path the
 * backend took where the case names one, the refusal an invalid case expects,
 * else the outputs. Nonzero for a failure, explained in msg. */
static int judge(run_state *r, pp_code rc, char *msg, size_t msz) {
    const tcase *c = r->c;
    /* a real GPU's engines are its own: its paths are reported, checked only where forced */
    const char *path = gpu->ops->describe ? gpu->ops->describe(gpu, &r->L) : NULL;
    if (!rc && c->path && (emulated() || (c->env && strstr(c->env, "PP_CUDA_CONV_ONLY")))) {
        if (!path || !strstr(path, c->path)) {
            snprintf(msg, msz, "ran as '%s', expected '%s'", path ? path : "(no description)", c->path);
            return 1;
        }
    }
    if (c->expect_error) {
        if (r->cpu_rc == 0 || rc == PP_OK) {
            snprintf(msg, msz, "invalid data: cpu returned %d, cuda %s", r->cpu_rc, rc ? "refused" : "accepted");
            return 1;
        }
        snprintf(msg, msz, "refused as expected: %s", r->err.msg);
        return 0;
    }
    if (rc) {
        snprintf(msg, msz, "cuda: %s", G(rc, &r->err));
        return 1;
    }
    if (r->cpu_rc != 0) {
        snprintf(msg, msz, "the CPU kernel returned %d", r->cpu_rc);
        return 1;
    }
    return compare_outputs(r, path, msg, msz);
}

/* Releases the launch, clears a raised error flag, frees every buffer. */
static void run_free(run_state *r) {
    if (r->L.state) gpu->ops->release(gpu, &r->L);
    if (r->s) {
        pp_error e2;
        gpu->ops->stream_sync(gpu, r->s, &e2); /* and clears a raised error flag */
    }
    for (int i = 0; i < r->c->n_in; i++) {
        gpu->ops->free(gpu, r->d_in[i]);
        free((void *)r->h_in[i]);
    }
    for (int i = 0; i < r->c->n_out; i++) {
        gpu->ops->free(gpu, r->d_out[i]);
        free(r->h_ref[i]);
        free(r->h_got[i]);
    }
    gpu->ops->free(gpu, r->d_ws);
    free(r->cpu_ws);
    free(r->pattern);
}

/* One case in its environment: describe, the CPU, the GPU, the verdict. */
static void run_case_env(const tcase *c, run_mode mode) {
    run_state r;
    memset(&r, 0, sizeof r);
    r.c = c;
    if (describe_case(&r) || describe_formats(&r)) return;
    run_cpu(&r);
    char msg[1024] = "";
    int failed;
    pp_code rc = gpu_run(&r, mode);
    if (rc) {
        failed = 1;
        snprintf(msg, sizeof msg, "cuda: %s", G(rc, &r.err));
    } else {
        failed = judge(&r, gpu_finish(&r), msg, sizeof msg);
    }
    report(c, failed ? "FAIL" : "ok", "%s%s", mode == RUN_GRAPH ? "[graph] " : "", msg);
    if (failed) n_fail++;
    else n_pass++;
    run_free(&r);
}

static void run_case(const tcase *c, run_mode mode) {
    if (!selected(c->name)) return;
    if (c->env && strstr(c->env, "MOCK_") && !emulated()) {
        report(c, "SKIP", "(a fallback the emulator's mocks force: %s)", c->env);
        n_skip++;
        return;
    }
    case_env(c->env, 1);
    run_case_env(c, mode);
    case_env(c->env, 0);
}

void run(const tcase *c) {
    run_case(c, RUN_DIRECT);
    ints_used = floats_used = 0;
}

void run_graph(const tcase *c) {
    run_case(c, RUN_GRAPH);
    ints_used = floats_used = 0;
}

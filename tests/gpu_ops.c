/* gpu_ops.c: every CUDA op against the CPU reference kernel, on the same random
 * inputs. A standalone program (the GPU machine has no Criterion): exits 77,
 * which ctest reports as skipped, when there is no CUDA device.
 *
 * Per case: a pp_node built by hand with ONNX attributes, pp_op_describe for the
 * params, the CPU kernel (pp_cpu_kernel_for) and the CUDA backend (alloc, upload,
 * prepare, launch, download, sync) on the same inputs; values compared with
 * atol + rtol·|ref| (exact for integers and bools), NaN and Inf must match, and
 * every output is followed by guard bytes filled with a pattern that must come
 * back untouched (an out-of-bounds write), the output itself being pre-filled
 * with the pattern too (an element never written). One line per case, then
 * "N passed, N failed, N skipped"; exit 1 on any failure.
 *
 * Also: a CUDA graph capture and replay, the gather error flag, stream/event
 * ordering across two streams, a peer copy when there are two GPUs, and GEMM,
 * MATMUL and CONV in the fp16 and bf16 precision modes (tolerances from the
 * inputs' rounding; not with --device cpu, which computes in f32 only).
 *
 * Without a GPU: `gpu_ops --device cpu` checks the table itself (CPU against
 * CPU), and tests/emu/run.sh runs it against the CUDA kernels emulated
 * on the host.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend.h"
#include "kernels/cpu/cpu_kernels.h"

#define GUARD 256
#define PATTERN 0xA5
#define MAX_ATTR 8
#define MAX_IN 6

static int n_pass, n_fail, n_skip;
static const char *filter; /* argv[1]: run only cases whose name contains it ("a,b": either) */

/* name contains one of filter's comma-separated parts (everything without a filter) */
static int selected(const char *name) {
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

typedef enum { G_NORMAL = 0, G_POS, G_INDEX, G_BOOL, G_SMALL, G_ZERO_ONE } gen_kind;

typedef struct input {
    pp_dtype dtype;
    int rank;
    int64_t dims[PP_MAX_RANK];
    gen_kind gen;
    int64_t gen_range; /* G_INDEX: indices in [-range, range) */
    int absent;        /* an absent optional input */
} input;

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

static pp_attr A_INT(const char *name, int64_t v) {
    pp_attr a;
    memset(&a, 0, sizeof a);
    a.name = (char *)name;
    a.type = PP_ATTR_INT;
    a.i = v;
    a.count = 1;
    return a;
}
static pp_attr A_FLOAT(const char *name, double v) {
    pp_attr a;
    memset(&a, 0, sizeof a);
    a.name = (char *)name;
    a.type = PP_ATTR_FLOAT;
    a.f = v;
    a.count = 1;
    return a;
}
static pp_attr A_STR(const char *name, const char *v) {
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
static pp_attr A_INTS(const char *name, int n, ...) {
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
static pp_attr A_FLOATS(const char *name, int n, ...) {
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
#define I64(x) ((int64_t)(x))

/* ---- one case -------------------------------------------------------------------------- */

typedef struct tcase {
    const char *name;
    pp_op op;
    int n_in, n_out;
    input in[MAX_IN];
    int n_attr;
    pp_attr attr[MAX_ATTR];
    float atol, rtol; /* 0: the defaults */
    int expect_error; /* the data is invalid: both backends must refuse */
    unsigned weights; /* bit j: input j is a weight (pp_launch.weights) */
    float min_diff;   /* the results must differ from f32 at least this much somewhere
                         (a 16-bit mode that silently computed in f32 fails) */
    pp_dtype fmt;     /* PP_DTYPE_F16 / BF16: the tensors in 16 bits as the planner gives them
                         (params' dtype set, inputs rounded for the CPU too, converted for the GPU) */
    int nhwc;         /* and rank-4 tensors NHWC (a convolution's filter KRSC) */
    const char *path; /* the backend's account of the launch (describe) must contain this */
    const char *env;  /* "NAME=VALUE,..." set while the case runs (the emulator's mocks read
                         MOCK_* to refuse things; PP_CUDA_CONV_ONLY picks a convolution path) */
} tcase;

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

static input T(pp_dtype t, int rank, ...) {
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
#define F32(...) T(PP_DTYPE_F32, __VA_ARGS__)
static input with_gen(input in, gen_kind g, int64_t range) {
    in.gen = g;
    in.gen_range = range;
    return in;
}
static input ABSENT(void) {
    input in;
    memset(&in, 0, sizeof in);
    in.absent = 1;
    return in;
}

static pp_backend *gpu;
static pp_stream *g_stream; /* shared by the table's cases */

static void report(const tcase *c, const char *status, const char *fmt, ...) {
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

/* How a case is launched on the GPU: directly, or captured into a CUDA graph and replayed. */
typedef enum { RUN_DIRECT = 0, RUN_GRAPH = 1 } run_mode;

static void run_case_env(const tcase *c, run_mode mode);
/* The emulator (tests/emu) rather than a GPU: its mocks read MOCK_* and the
 * paths the cases expect are its engines'. */
static int emulated(void) { return strncmp(gpu->name, "emu", 3) == 0; }

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

static void run_case_env(const tcase *c, run_mode mode) {
    pp_node node;
    int in_ids[MAX_IN], out_ids[PP_MAX_IO];
    memset(&node, 0, sizeof node);
    node.op = c->op;
    node.name = (char *)c->name;
    node.n_in = c->n_in;
    node.n_out = c->n_out;
    node.n_attr = c->n_attr;
    node.attrs = (pp_attr *)c->attr;
    node.in = in_ids;
    node.out = out_ids;
    pp_shape in[MAX_IN], out[PP_MAX_IO];
    memset(in, 0, sizeof in);
    for (int i = 0; i < c->n_in; i++) {
        in_ids[i] = c->in[i].absent ? -1 : i;
        if (c->in[i].absent) continue;
        in[i].dtype = c->in[i].dtype;
        in[i].rank = c->in[i].rank;
        memcpy(in[i].dims, c->in[i].dims, sizeof in[i].dims);
    }
    for (int i = 0; i < c->n_out; i++) out_ids[i] = c->n_in + i;
    pp_op_params p;
    pp_error err;
    memset(&err, 0, sizeof err);
    if (pp_op_describe(&node, in, out, &p, NULL, NULL, &err) != PP_OK) {
        report(c, "SKIP", "(describe: %s)", err.msg);
        n_skip++;
        return;
    }
    pp_cpu_kernel_fn cpu = pp_cpu_kernel_for(c->op);
    if (!cpu) {
        report(c, "SKIP", "(no CPU kernel)");
        n_skip++;
        return;
    }
    if (!gpu->ops->supports(gpu, &node, in)) {
        report(c, "SKIP", "(the CUDA backend does not support it)");
        n_skip++;
        return;
    }

    /* host buffers */
    const void *h_in[PP_MAX_IO] = {0};
    void *h_ref[PP_MAX_IO] = {0}, *h_got[PP_MAX_IO] = {0};
    size_t in_bytes[MAX_IN] = {0}, out_bytes[PP_MAX_IO] = {0};
    void *d_in[MAX_IN] = {0}, *d_out[PP_MAX_IO] = {0}, *d_ws = NULL, *cpu_ws = NULL;
    pp_stream *s = NULL;
    pp_launch L;
    memset(&L, 0, sizeof L);
    int failed = 0;
    char msg[1024] = "";
    pp_code rc = PP_OK;
    /* which tensors the GPU sees in the 16-bit format (their values rounded for the CPU too) */
    int conv_in[MAX_IN] = {0}, conv_out[PP_MAX_IO] = {0}, nhwc_in[MAX_IN] = {0}, nhwc_out[PP_MAX_IO] = {0};
    pp_op_params pg = p; /* the GPU's params: described on the formatted shapes, as the planner does */
    if (c->fmt) {
        pp_shape fin[MAX_IN], fout[PP_MAX_IO];
        memcpy(fin, in, sizeof fin);
        for (int i = 0; i < c->n_in; i++) {
            if (c->in[i].absent || c->in[i].dtype != PP_DTYPE_F32 || !fmt_converts(c->op, i)) continue;
            fin[i].dtype = c->fmt;
            nhwc_in[i] = c->nhwc && fin[i].rank == 4;
            if (nhwc_in[i]) fin[i].layout = PP_LAYOUT_NHWC;
        }
        if (pp_op_describe(&node, fin, fout, &pg, NULL, NULL, &err) != PP_OK) {
            report(c, "FAIL", "describe in %s%s: %s", pp_dtype_name(c->fmt), c->nhwc ? " nhwc" : "", err.msg);
            n_fail++;
            return;
        }
        for (int i = 0; i < c->n_out; i++) nhwc_out[i] = fout[i].layout == PP_LAYOUT_NHWC;
    }
    size_t dev_in[MAX_IN] = {0}, dev_out[PP_MAX_IO] = {0};
    for (int i = 0; i < c->n_in; i++) {
        if (c->in[i].absent) continue;
        in_bytes[i] = (size_t)numel(c->in[i].rank, c->in[i].dims) * pp_dtype_bytes(c->in[i].dtype);
        void *buf = malloc(in_bytes[i] ? in_bytes[i] : 1);
        fill(&c->in[i], buf);
        h_in[i] = buf;
        dev_in[i] = in_bytes[i];
        conv_in[i] = c->fmt && c->in[i].dtype == PP_DTYPE_F32 && fmt_converts(c->op, i);
        if (conv_in[i]) {
            float *f = buf;
            for (int64_t j = 0; j < numel(c->in[i].rank, c->in[i].dims); j++) f[j] = from16(c->fmt, to16(c->fmt, f[j]));
            dev_in[i] = in_bytes[i] / 2;
        }
    }
    for (int i = 0; i < c->n_out; i++) {
        out_bytes[i] = (size_t)pp_shape_numel(&out[i]) * pp_dtype_bytes(out[i].dtype);
        conv_out[i] = c->fmt && out[i].dtype == PP_DTYPE_F32;
        dev_out[i] = conv_out[i] ? out_bytes[i] / 2 : out_bytes[i];
        h_ref[i] = malloc(out_bytes[i] + GUARD);
        h_got[i] = malloc(out_bytes[i] + GUARD);
        memset(h_ref[i], PATTERN, out_bytes[i] + GUARD);
        memset(h_got[i], 0, out_bytes[i] + GUARD);
    }
    size_t cws = pp_cpu_workspace_size(c->op, &p);
    if (cws) cpu_ws = malloc(cws);
    int cpu_rc = cpu(&p, h_in, h_ref, cpu_ws);

    /* the GPU */
    unsigned char *pattern = NULL;
    size_t max_out = 0;
    for (int i = 0; i < c->n_out; i++)
        if (out_bytes[i] + GUARD > max_out) max_out = out_bytes[i] + GUARD;
    pattern = malloc(max_out);
    memset(pattern, PATTERN, max_out);
    /* one stream for every case: creating one (and its cuDNN handle) per case costs more than the case */
    if (!g_stream && (rc = gpu->ops->stream_create(gpu, &g_stream, &err))) goto gpu_fail;
    s = g_stream;
    for (int i = 0; i < c->n_in; i++) {
        if (c->in[i].absent) continue;
        const void *src = h_in[i];
        uint16_t *tmp = NULL;
        if (conv_in[i]) {
            tmp = malloc(dev_in[i] ? dev_in[i] : 2);
            to_fmt(h_in[i], tmp, c->in[i].rank, c->in[i].dims, c->fmt, nhwc_in[i]);
            src = tmp;
        }
        if (!(rc = gpu->ops->alloc(gpu, dev_in[i], &d_in[i], &err)))
            rc = gpu->ops->upload(gpu, s, d_in[i], src, dev_in[i], &err);
        /* the copy may still read tmp: wait before freeing it */
        if (!rc && tmp) rc = gpu->ops->stream_sync(gpu, s, &err);
        free(tmp);
        if (rc) goto gpu_fail;
        L.in[i] = d_in[i];
    }
    for (int i = 0; i < c->n_out; i++) {
        if ((rc = gpu->ops->alloc(gpu, dev_out[i] + GUARD, &d_out[i], &err))) goto gpu_fail;
        if ((rc = gpu->ops->upload(gpu, s, d_out[i], pattern, dev_out[i] + GUARD, &err))) goto gpu_fail;
        L.out[i] = d_out[i];
    }
    L.node = &node;
    L.params = pg;
    L.weights = c->weights;
    /* as the executor does: a first prepare sizes the workspace, the second
     * (on the final buffers) may time candidates in it */
    if ((rc = gpu->ops->prepare(gpu, &L, &err))) goto gpu_fail;
    size_t ws_bytes = L.ws_bytes ? L.ws_bytes : 256;
    gpu->ops->release(gpu, &L);
    if ((rc = gpu->ops->alloc(gpu, ws_bytes, &d_ws, &err))) goto gpu_fail;
    L.ws = d_ws;
    L.ws_bytes = ws_bytes;
    if ((rc = gpu->ops->prepare(gpu, &L, &err))) goto gpu_fail;
    if (L.ws_bytes > ws_bytes) {
        rc = PP_ERR_INTERNAL;
        snprintf(err.msg, sizeof err.msg, "the second prepare needs %zu bytes of workspace, the first said %zu",
                 L.ws_bytes, ws_bytes);
        goto gpu_fail;
    }
    L.ws = d_ws;
    if ((rc = gpu->ops->stream_sync(gpu, s, &err))) goto gpu_fail;
    if (mode == RUN_GRAPH) {
        void *graph = NULL;
        if ((rc = gpu->ops->capture_begin(gpu, s, &err))) goto gpu_fail;
        pp_code lrc = gpu->ops->launch(gpu, s, &L, &err);
        pp_error err2;
        rc = gpu->ops->capture_end(gpu, s, &graph, &err2);
        if (lrc) {
            rc = lrc;
            if (graph) gpu->ops->graph_destroy(gpu, graph);
            goto gpu_fail;
        }
        if (rc) {
            err = err2;
            goto gpu_fail;
        }
        /* replay twice: the second run must give the same bytes */
        rc = gpu->ops->replay(gpu, s, graph, &err);
        if (!rc) rc = gpu->ops->replay(gpu, s, graph, &err);
        if (!rc) rc = gpu->ops->stream_sync(gpu, s, &err);
        gpu->ops->graph_destroy(gpu, graph);
        if (rc) goto gpu_fail;
    } else {
        if ((rc = gpu->ops->launch(gpu, s, &L, &err))) goto gpu_fail;
    }
    for (int i = 0; i < c->n_out; i++)
        if ((rc = gpu->ops->download(gpu, s, h_got[i], d_out[i], dev_out[i] + GUARD, &err))) goto gpu_fail;
    rc = gpu->ops->stream_sync(gpu, s, &err);
    for (int i = 0; i < c->n_out && !rc; i++) {
        if (!conv_out[i]) continue;
        /* back to f32 in logical order, the guard bytes moved to the end */
        uint16_t *tmp = malloc(dev_out[i] + GUARD);
        memcpy(tmp, h_got[i], dev_out[i] + GUARD);
        from_fmt(tmp, h_got[i], out[i].rank, out[i].dims, c->fmt, nhwc_out[i]);
        memcpy((char *)h_got[i] + out_bytes[i], (char *)tmp + dev_out[i], GUARD);
        free(tmp);
    }
    /* a real GPU's engines are its own: its paths are reported, checked only where forced */
    const char *path = gpu->ops->describe ? gpu->ops->describe(gpu, &L) : NULL;
    if (!rc && c->path && (emulated() || (c->env && strstr(c->env, "PP_CUDA_CONV_ONLY")))) {
        if (!path || !strstr(path, c->path)) {
            failed = 1;
            snprintf(msg, sizeof msg, "ran as '%s', expected '%s'", path ? path : "(no description)", c->path);
            goto done;
        }
    }
    if (c->expect_error) {
        if (cpu_rc == 0 || rc == PP_OK) {
            failed = 1;
            snprintf(msg, sizeof msg, "invalid data: cpu returned %d, cuda %s", cpu_rc, rc ? "refused" : "accepted");
        } else {
            snprintf(msg, sizeof msg, "refused as expected: %s", err.msg);
        }
        goto done;
    }
    if (rc) goto gpu_fail;
    if (cpu_rc != 0) {
        failed = 1;
        snprintf(msg, sizeof msg, "the CPU kernel returned %d", cpu_rc);
        goto done;
    }
    for (int i = 0; i < c->n_out && !failed; i++) {
        const unsigned char *g = (const unsigned char *)h_got[i] + out_bytes[i];
        for (size_t j = 0; j < GUARD; j++)
            if (g[j] != PATTERN) {
                failed = 1;
                snprintf(msg, sizeof msg, "output %d: guard byte %zu past the end was overwritten", i, j);
                break;
            }
        if (failed) break;
        float atol = c->atol > 0 ? c->atol : 1e-5f, rtol = c->rtol > 0 ? c->rtol : 1e-5f;
        char m[256];
        int bad = compare(out[i].dtype, h_ref[i], h_got[i], pp_shape_numel(&out[i]), atol, rtol, m, sizeof m);
        if (bad) {
            failed = 1;
            snprintf(msg, sizeof msg, "output %d: %d of %lld elements differ; first: %s", i, bad,
                     (long long)pp_shape_numel(&out[i]), m);
        } else if (last_worst < c->min_diff) {
            failed = 1;
            snprintf(msg, sizeof msg, "output %d: max |diff| %.3g, no 16-bit rounding to be seen (f32 computed?)", i,
                     last_worst);
        } else if (i == 0) {
            snprintf(msg, sizeof msg, "%s%s%s", m, path && (c->path || c->fmt) ? "; " : "",
                     path && (c->path || c->fmt) ? path : "");
        }
    }
    goto done;
gpu_fail:
    failed = 1;
    snprintf(msg, sizeof msg, "cuda: %s", G(rc, &err));
done:
    report(c, failed ? "FAIL" : "ok", "%s%s", mode == RUN_GRAPH ? "[graph] " : "", msg);
    if (failed) n_fail++;
    else n_pass++;
    if (L.state) gpu->ops->release(gpu, &L);
    if (s) {
        pp_error e2;
        gpu->ops->stream_sync(gpu, s, &e2); /* and clears a raised error flag */
    }
    for (int i = 0; i < c->n_in; i++) {
        gpu->ops->free(gpu, d_in[i]);
        free((void *)h_in[i]);
    }
    for (int i = 0; i < c->n_out; i++) {
        gpu->ops->free(gpu, d_out[i]);
        free(h_ref[i]);
        free(h_got[i]);
    }
    gpu->ops->free(gpu, d_ws);
    free(cpu_ws);
    free(pattern);
}

/* ---- the table ------------------------------------------------------------------------------ */

#define CASE(...) run(&(tcase){__VA_ARGS__})
static void run(const tcase *c) {
    run_case(c, RUN_DIRECT);
    ints_used = floats_used = 0;
}
static void run_graph(const tcase *c) {
    run_case(c, RUN_GRAPH);
    ints_used = floats_used = 0;
}

static void eltwise_cases(void) {
    static const struct {
        pp_op op;
        const char *name;
        gen_kind g;
    } un[] = {
        {PP_OP_RELU, "relu", G_NORMAL},
        {PP_OP_SIGMOID, "sigmoid", G_NORMAL},
        {PP_OP_TANH, "tanh", G_NORMAL},
        {PP_OP_GELU, "gelu", G_NORMAL},
        {PP_OP_GELU_TANH, "gelu_tanh", G_NORMAL},
        {PP_OP_SILU, "silu", G_NORMAL},
        {PP_OP_HARDSWISH, "hardswish", G_NORMAL},
        {PP_OP_HARDSIGMOID, "hardsigmoid", G_NORMAL},
        {PP_OP_SQRT, "sqrt", G_POS},
        {PP_OP_ERF, "erf", G_NORMAL},
        {PP_OP_EXP, "exp", G_NORMAL},
        {PP_OP_LOG, "log", G_POS},
        {PP_OP_NEG, "neg", G_NORMAL},
        {PP_OP_ABS, "abs", G_NORMAL},
        {PP_OP_RECIPROCAL, "reciprocal", G_POS},
        {PP_OP_ELU, "elu", G_NORMAL},
        {PP_OP_SOFTPLUS, "softplus", G_NORMAL},
        {PP_OP_FLOOR, "floor", G_NORMAL},
        {PP_OP_CEIL, "ceil", G_NORMAL},
        {PP_OP_SIN, "sin", G_NORMAL},
        {PP_OP_COS, "cos", G_NORMAL},
        {PP_OP_TAN, "tan", G_NORMAL},
        {PP_OP_SIGN, "sign", G_NORMAL},
        {PP_OP_ROUND, "round", G_NORMAL},
        {PP_OP_MISH, "mish", G_NORMAL},
        {PP_OP_SELU, "selu", G_NORMAL},
        {PP_OP_LEAKY_RELU, "leaky_relu", G_NORMAL},
    };
    char name[64];
    for (size_t i = 0; i < sizeof un / sizeof un[0]; i++) {
        snprintf(name, sizeof name, "%s (7,3,5)", un[i].name);
        CASE(.name = name, .op = un[i].op, .n_in = 1, .n_out = 1,
             .in = {with_gen(F32(3, I64(7), I64(3), I64(5)), un[i].g, 0)}, .atol = 2e-6f, .rtol = 2e-6f);
    }
    CASE(.name = "clip [-0.5, 1] (1)", .op = PP_OP_CLIP, .n_in = 1, .n_out = 1, .in = {F32(1, I64(1))}, .n_attr = 2,
         .attr = {A_FLOAT("min", -0.5), A_FLOAT("max", 1.0)});
    CASE(.name = "clip (33,17)", .op = PP_OP_CLIP, .n_in = 1, .n_out = 1, .in = {F32(2, I64(33), I64(17))}, .n_attr = 2,
         .attr = {A_FLOAT("min", 0.0), A_FLOAT("max", 6.0)});
    CASE(.name = "neg i64 (9)", .op = PP_OP_NEG, .n_in = 1, .n_out = 1, .in = {T(PP_DTYPE_I64, 1, I64(9))});
    CASE(.name = "abs i32 (9)", .op = PP_OP_ABS, .n_in = 1, .n_out = 1, .in = {T(PP_DTYPE_I32, 1, I64(9))});
    CASE(.name = "not bool (2,5)", .op = PP_OP_NOT, .n_in = 1, .n_out = 1, .in = {T(PP_DTYPE_BOOL, 2, I64(2), I64(5))});

    static const struct {
        pp_op op;
        const char *name;
    } bin[] = {
        {PP_OP_ADD, "add"},
        {PP_OP_SUB, "sub"},
        {PP_OP_MUL, "mul"},
        {PP_OP_DIV, "div"},
        {PP_OP_MAX, "max"},
        {PP_OP_MIN, "min"},
        {PP_OP_EQUAL, "equal"},
        {PP_OP_LESS, "less"},
        {PP_OP_GREATER, "greater"},
        {PP_OP_LESS_EQUAL, "less_equal"},
        {PP_OP_GREATER_EQUAL, "greater_equal"},
    };
    for (size_t i = 0; i < sizeof bin / sizeof bin[0]; i++) {
        snprintf(name, sizeof name, "%s (7,3,4,5)+(1,3,1,1)", bin[i].name);
        CASE(.name = name, .op = bin[i].op, .n_in = 2, .n_out = 1,
             .in = {F32(4, I64(7), I64(3), I64(4), I64(5)), F32(4, I64(1), I64(3), I64(1), I64(1))});
        snprintf(name, sizeof name, "%s i64 (5,1)+(1,6)", bin[i].name);
        CASE(.name = name, .op = bin[i].op, .n_in = 2, .n_out = 1,
             .in = {T(PP_DTYPE_I64, 2, I64(5), I64(1)), T(PP_DTYPE_I64, 2, I64(1), I64(6))});
    }
    CASE(.name = "add same shape (1000003)", .op = PP_OP_ADD, .n_in = 2, .n_out = 1,
         .in = {F32(1, I64(1000003)), F32(1, I64(1000003))});
    CASE(.name = "mul scalar (1)*(2,3,7)", .op = PP_OP_MUL, .n_in = 2, .n_out = 1,
         .in = {F32(1, I64(1)), F32(3, I64(2), I64(3), I64(7))});
    CASE(.name = "add (1,1)+(1,1)", .op = PP_OP_ADD, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(1), I64(1)), F32(2, I64(1), I64(1))});
    CASE(.name = "pow (3,4)^(4)", .op = PP_OP_POW, .n_in = 2, .n_out = 1,
         .in = {with_gen(F32(2, I64(3), I64(4)), G_POS, 0), F32(1, I64(4))}, .atol = 1e-5f, .rtol = 1e-5f);
    CASE(.name = "mod fmod=0 (6,5)", .op = PP_OP_MOD, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(6), I64(5)), with_gen(F32(2, I64(6), I64(5)), G_POS, 0)});
    CASE(.name = "mod i32 (6,5)", .op = PP_OP_MOD, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_I32, 2, I64(6), I64(5)), T(PP_DTYPE_I32, 2, I64(6), I64(5))});
    CASE(.name = "div i32 by zero and -1 (40)", .op = PP_OP_DIV, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_I32, 1, I64(40)), T(PP_DTYPE_I32, 1, I64(40))});
    CASE(.name = "pow i64 (13)", .op = PP_OP_POW, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_I64, 1, I64(13)), T(PP_DTYPE_I64, 1, I64(13))});
    CASE(.name = "and bool (4,1)&(1,3)", .op = PP_OP_AND, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_BOOL, 2, I64(4), I64(1)), T(PP_DTYPE_BOOL, 2, I64(1), I64(3))});
    CASE(.name = "or bool (5)", .op = PP_OP_OR, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_BOOL, 1, I64(5)), T(PP_DTYPE_BOOL, 1, I64(5))});
    CASE(.name = "xor bool (5)", .op = PP_OP_XOR, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_BOOL, 1, I64(5)), T(PP_DTYPE_BOOL, 1, I64(5))});
    CASE(.name = "prelu (7,3,4,4) slope (3,1,1)", .op = PP_OP_PRELU, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(7), I64(3), I64(4), I64(4)), F32(3, I64(3), I64(1), I64(1))});
    CASE(.name = "where (2,1,5) ? (3,1) : (1)", .op = PP_OP_WHERE, .n_in = 3, .n_out = 1,
         .in = {T(PP_DTYPE_BOOL, 3, I64(2), I64(1), I64(5)), F32(2, I64(3), I64(1)), F32(1, I64(1))});
    CASE(.name = "where i64 (4,4)", .op = PP_OP_WHERE, .n_in = 3, .n_out = 1,
         .in = {T(PP_DTYPE_BOOL, 2, I64(4), I64(4)), T(PP_DTYPE_I64, 2, I64(4), I64(4)),
                T(PP_DTYPE_I64, 2, I64(4), I64(4))});

    static const pp_dtype types[] = {PP_DTYPE_F32,  PP_DTYPE_F16, PP_DTYPE_BF16, PP_DTYPE_I64, PP_DTYPE_I32,
                                     PP_DTYPE_BOOL, PP_DTYPE_U8,  PP_DTYPE_I8,   PP_DTYPE_F64};
    for (size_t a = 0; a < sizeof types / sizeof types[0]; a++)
        for (size_t b = 0; b < sizeof types / sizeof types[0]; b++) {
            if (a == b) continue;
            snprintf(name, sizeof name, "cast %d->%d (3,7)", (int)types[a], (int)types[b]);
            CASE(.name = name, .op = PP_OP_CAST, .n_in = 1, .n_out = 1, .in = {T(types[a], 2, I64(3), I64(7))},
                 .n_attr = 1, .attr = {A_INT("to", types[b])});
        }
}

static void nn_cases(void) {
    /* CONV: awkward channel counts, batch 1 and 7, groups, depthwise, 1×1, dilation, asymmetric pads */
    CASE(.name = "conv 3x3 p1 (1,3,8,8)x(5,3,3,3)+b", .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(8), I64(8)), F32(4, I64(5), I64(3), I64(3), I64(3)), F32(1, I64(5))},
         .n_attr = 1, .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv 3x3 s2 (7,5,9,11)x(6,5,3,3)", .op = PP_OP_CONV, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(7), I64(5), I64(9), I64(11)), F32(4, I64(6), I64(5), I64(3), I64(3))}, .n_attr = 1,
         .attr = {A_INTS("strides", 2, I64(2), I64(2))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv 1x1 (2,16,7,7)x(24,16,1,1)+b", .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(2), I64(16), I64(7), I64(7)), F32(4, I64(24), I64(16), I64(1), I64(1)), F32(1, I64(24))},
         .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv depthwise (2,6,9,9) g6", .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(2), I64(6), I64(9), I64(9)), F32(4, I64(6), I64(1), I64(3), I64(3)), F32(1, I64(6))},
         .n_attr = 2, .attr = {A_INT("group", 6), A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1))}, .atol = 1e-4f,
         .rtol = 1e-4f);
    CASE(.name = "conv grouped g2 dil2 (1,4,10,10)", .op = PP_OP_CONV, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(1), I64(4), I64(10), I64(10)), F32(4, I64(6), I64(2), I64(3), I64(3))}, .n_attr = 2,
         .attr = {A_INT("group", 2), A_INTS("dilations", 2, I64(2), I64(2))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv asym pads (1,3,7,7)", .op = PP_OP_CONV, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(7), I64(7)), F32(4, I64(4), I64(3), I64(3), I64(3))}, .n_attr = 2,
         .attr = {A_INTS("pads", 4, I64(0), I64(0), I64(2), I64(1)), A_INTS("strides", 2, I64(2), I64(2))},
         .atol = 1e-4f, .rtol = 1e-4f);
    /* asymmetric pads that keep cuDNN's (symmetric) output size go to cuDNN */
    CASE(.name = "conv pads t1 l1 b0 r0 s2 (1,2,8,8)", .op = PP_OP_CONV, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(1), I64(2), I64(8), I64(8)), F32(4, I64(3), I64(2), I64(3), I64(3))}, .n_attr = 2,
         .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(0), I64(0)), A_INTS("strides", 2, I64(2), I64(2))},
         .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv 2x2 pads b1 r1 s2 (2,3,8,8)", .op = PP_OP_CONV, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(2), I64(3), I64(8), I64(8)), F32(4, I64(4), I64(3), I64(2), I64(2))}, .n_attr = 2,
         .attr = {A_INTS("pads", 4, I64(0), I64(0), I64(1), I64(1)), A_INTS("strides", 2, I64(2), I64(2))},
         .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv 1x1 image (1,1,1,1)", .op = PP_OP_CONV, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(1), I64(1), I64(1), I64(1)), F32(4, I64(1), I64(1), I64(1), I64(1))});
    CASE(.name = "conv +b +residual +relu", .op = PP_OP_CONV, .n_in = 4, .n_out = 1,
         .in = {F32(4, I64(2), I64(8), I64(6), I64(6)), F32(4, I64(8), I64(8), I64(3), I64(3)), F32(1, I64(8)),
                F32(4, I64(2), I64(8), I64(6), I64(6))},
         .n_attr = 2, .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)), A_INT("activation", PP_ACT_RELU)},
         .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv +residual (no bias) +silu", .op = PP_OP_CONV, .n_in = 4, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(5), I64(5)), F32(4, I64(3), I64(3), I64(1), I64(1)), ABSENT(),
                F32(4, I64(1), I64(3), I64(5), I64(5))},
         .n_attr = 1, .attr = {A_INT("activation", PP_ACT_SILU)}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "conv resnet stem (2,3,32,32)x(16,3,7,7) s2 p3", .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(2), I64(3), I64(32), I64(32)), F32(4, I64(16), I64(3), I64(7), I64(7)), F32(1, I64(16))},
         .n_attr = 2, .attr = {A_INTS("strides", 2, I64(2), I64(2)), A_INTS("pads", 4, I64(3), I64(3), I64(3), I64(3))},
         .atol = 2e-4f, .rtol = 1e-4f);

    /* GEMM: bias vector (epilogue), full C, column C (prefill), trans, alpha/beta, fused activations */
    CASE(.name = "gemm (7,33)x(17,33)^T + b(17)", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(7), I64(33)), F32(2, I64(17), I64(33)), F32(1, I64(17))}, .n_attr = 1,
         .attr = {A_INT("transB", 1)}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm (1,64)x(64,10) no C", .op = PP_OP_GEMM, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(1), I64(64)), F32(2, I64(64), I64(10))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm A^T (5,3) C(3,7) a=0.5 b=2", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(5), I64(3)), F32(2, I64(5), I64(7)), F32(2, I64(3), I64(7))}, .n_attr = 3,
         .attr = {A_INT("transA", 1), A_FLOAT("alpha", 0.5), A_FLOAT("beta", 2.0)}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm C column (4,1)", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(4), I64(6)), F32(2, I64(6), I64(5)), F32(2, I64(4), I64(1))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm C scalar, beta 0.5", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(3), I64(6)), F32(2, I64(6), I64(5)), F32(1, I64(1))}, .n_attr = 1,
         .attr = {A_FLOAT("beta", 0.5)}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm +b +relu (epilogue)", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(9), I64(32)), F32(2, I64(48), I64(32)), F32(1, I64(48))}, .n_attr = 2,
         .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_RELU)}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm +b +gelu (follow-up)", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(9), I64(32)), F32(2, I64(48), I64(32)), F32(1, I64(48))}, .n_attr = 2,
         .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_GELU)}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "gemm +b +gelu_tanh (epilogue)", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(9), I64(32)), F32(2, I64(48), I64(32)), F32(1, I64(48))}, .n_attr = 2,
         .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_GELU_TANH)}, .atol = 2e-4f, .rtol = 2e-4f);
    CASE(.name = "gemm big (256,768)x(768,3072)^T", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(256), I64(768)), F32(2, I64(3072), I64(768)), F32(1, I64(3072))}, .n_attr = 1,
         .attr = {A_INT("transB", 1)}, .atol = 2e-3f, .rtol = 1e-4f);

    /* MATMUL: plain, batched, broadcast B (folded), broadcast A (stride 0), mixed (loop) */
    CASE(.name = "matmul (5,7)x(7,3)", .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(5), I64(7)), F32(2, I64(7), I64(3))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "matmul (4,12,9,16)x(4,12,16,9)", .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(4), I64(12), I64(9), I64(16)), F32(4, I64(4), I64(12), I64(16), I64(9))}, .atol = 1e-4f,
         .rtol = 1e-4f);
    CASE(.name = "matmul (7,10,32)x(32,24) folded", .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(3, I64(7), I64(10), I64(32)), F32(2, I64(32), I64(24))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "matmul (6,5)x(3,5,4) A broadcast", .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(6), I64(5)), F32(3, I64(3), I64(5), I64(4))}, .atol = 1e-4f, .rtol = 1e-4f);
    CASE(.name = "matmul (2,1,3,4)x(1,5,4,6) mixed", .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(2), I64(1), I64(3), I64(4)), F32(4, I64(1), I64(5), I64(4), I64(6))}, .atol = 1e-4f,
         .rtol = 1e-4f);
    CASE(.name = "matmul vector (8)x(8,3)", .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
         .in = {F32(1, I64(8)), F32(2, I64(8), I64(3))}, .atol = 1e-4f, .rtol = 1e-4f);

    CASE(.name = "batchnorm (7,3,5,5)", .op = PP_OP_BATCHNORM, .n_in = 5, .n_out = 1,
         .in = {F32(4, I64(7), I64(3), I64(5), I64(5)), F32(1, I64(3)), F32(1, I64(3)), F32(1, I64(3)),
                with_gen(F32(1, I64(3)), G_POS, 0)},
         .n_attr = 1, .attr = {A_FLOAT("epsilon", 1e-5)}, .atol = 1e-5f, .rtol = 1e-5f);

    CASE(.name = "maxpool 3x3 s2 p1 (7,3,9,9)", .op = PP_OP_MAXPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(7), I64(3), I64(9), I64(9))}, .n_attr = 3,
         .attr = {A_INTS("kernel_shape", 2, I64(3), I64(3)), A_INTS("strides", 2, I64(2), I64(2)),
                  A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1))});
    CASE(.name = "avgpool 2x2 (1,5,7,7)", .op = PP_OP_AVGPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(5), I64(7), I64(7))}, .n_attr = 2,
         .attr = {A_INTS("kernel_shape", 2, I64(2), I64(2)), A_INTS("strides", 2, I64(2), I64(2))});
    CASE(.name = "avgpool 3x3 p1 include_pad (2,3,6,6)", .op = PP_OP_AVGPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(2), I64(3), I64(6), I64(6))}, .n_attr = 3,
         .attr = {A_INTS("kernel_shape", 2, I64(3), I64(3)), A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)),
                  A_INT("count_include_pad", 1)});
    CASE(.name = "global avgpool (7,33,7,7)", .op = PP_OP_GLOBAL_AVGPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(7), I64(33), I64(7), I64(7))});
    CASE(.name = "global maxpool (1,3,1,1)", .op = PP_OP_GLOBAL_MAXPOOL, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(1), I64(1))});

    CASE(.name = "softmax last (7,13)", .op = PP_OP_SOFTMAX, .n_in = 1, .n_out = 1, .in = {F32(2, I64(7), I64(13))},
         .n_attr = 1, .attr = {A_INT("axis", -1)});
    CASE(.name = "softmax axis1 (3,5,7)", .op = PP_OP_SOFTMAX, .n_in = 1, .n_out = 1,
         .in = {F32(3, I64(3), I64(5), I64(7))}, .n_attr = 1, .attr = {A_INT("axis", 1)});
    CASE(.name = "softmax long row (2,5000)", .op = PP_OP_SOFTMAX, .n_in = 1, .n_out = 1,
         .in = {F32(2, I64(2), I64(5000))}, .n_attr = 1, .attr = {A_INT("axis", -1)}, .atol = 1e-9f,
         .rtol = 2e-5f); /* values ~2e-4: the relative bound must do the work */
    CASE(.name = "log_softmax (4,10)", .op = PP_OP_LOG_SOFTMAX, .n_in = 1, .n_out = 1, .in = {F32(2, I64(4), I64(10))},
         .n_attr = 1, .attr = {A_INT("axis", -1)});
    CASE(.name = "softmax (1,1)", .op = PP_OP_SOFTMAX, .n_in = 1, .n_out = 1, .in = {F32(2, I64(1), I64(1))});

    CASE(.name = "layernorm (7,10,768)", .op = PP_OP_LAYERNORM, .n_in = 3, .n_out = 1,
         .in = {F32(3, I64(7), I64(10), I64(768)), F32(1, I64(768)), F32(1, I64(768))}, .n_attr = 1,
         .attr = {A_INT("axis", -1)}, .atol = 2e-5f, .rtol = 2e-5f);
    CASE(.name = "layernorm no bias (3,5)", .op = PP_OP_LAYERNORM, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(3), I64(5)), F32(1, I64(5))}, .atol = 2e-5f, .rtol = 2e-5f);

    CASE(.name = "attention (2,3,7,16)", .op = PP_OP_ATTENTION, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(2), I64(3), I64(7), I64(16)), F32(4, I64(2), I64(3), I64(9), I64(16)),
                F32(4, I64(2), I64(3), I64(9), I64(8))},
         .atol = 2e-5f, .rtol = 2e-5f);
    CASE(.name = "attention causal (1,2,8,8)", .op = PP_OP_ATTENTION, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(1), I64(2), I64(8), I64(8)), F32(4, I64(1), I64(2), I64(8), I64(8)),
                F32(4, I64(1), I64(2), I64(8), I64(8))},
         .n_attr = 1, .attr = {A_INT("causal", 1)}, .atol = 2e-5f, .rtol = 2e-5f);
    CASE(.name = "attention bool mask (2,1,5,5) mask (2,1,1,5)", .op = PP_OP_ATTENTION, .n_in = 4, .n_out = 1,
         .in = {F32(4, I64(2), I64(1), I64(5), I64(4)), F32(4, I64(2), I64(1), I64(5), I64(4)),
                F32(4, I64(2), I64(1), I64(5), I64(4)), T(PP_DTYPE_BOOL, 4, I64(2), I64(1), I64(1), I64(5))},
         .atol = 2e-5f, .rtol = 2e-5f);
    CASE(.name = "attention f32 mask (1,12,128,64)", .op = PP_OP_ATTENTION, .n_in = 4, .n_out = 1,
         .in = {F32(4, I64(1), I64(12), I64(128), I64(64)), F32(4, I64(1), I64(12), I64(128), I64(64)),
                F32(4, I64(1), I64(12), I64(128), I64(64)), F32(4, I64(1), I64(1), I64(128), I64(128))},
         .atol = 5e-5f, .rtol = 5e-5f);
    CASE(.name = "attention long keys (1,1,3,12000)", .op = PP_OP_ATTENTION, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(1), I64(1), I64(3), I64(8)), F32(4, I64(1), I64(1), I64(12000), I64(8)),
                F32(4, I64(1), I64(1), I64(12000), I64(8))},
         .atol = 5e-5f, .rtol = 5e-5f);

    static const struct {
        pp_op op;
        const char *name;
    } red[] = {
        {PP_OP_REDUCE_MEAN, "reduce_mean"}, {PP_OP_REDUCE_SUM, "reduce_sum"},   {PP_OP_REDUCE_MAX, "reduce_max"},
        {PP_OP_REDUCE_MIN, "reduce_min"},   {PP_OP_REDUCE_PROD, "reduce_prod"},
    };
    char name[64];
    for (size_t i = 0; i < sizeof red / sizeof red[0]; i++) {
        snprintf(name, sizeof name, "%s axes(1,3) (3,4,5,6)", red[i].name);
        CASE(.name = name, .op = red[i].op, .n_in = 1, .n_out = 1, .in = {F32(4, I64(3), I64(4), I64(5), I64(6))},
             .n_attr = 2, .attr = {A_INTS("axes", 2, I64(1), I64(3)), A_INT("keepdims", 1)}, .atol = 1e-5f,
             .rtol = 1e-5f);
        snprintf(name, sizeof name, "%s all (7,300)", red[i].name);
        CASE(.name = name, .op = red[i].op, .n_in = 1, .n_out = 1,
             .in = {with_gen(F32(2, I64(7), I64(300)), red[i].op == PP_OP_REDUCE_PROD ? G_ZERO_ONE : G_NORMAL, 0)},
             .n_attr = 1, .attr = {A_INT("keepdims", 0)}, .atol = 1e-5f, .rtol = 1e-5f);
        snprintf(name, sizeof name, "%s i64 axis0 (6,5)", red[i].name);
        CASE(.name = name, .op = red[i].op, .n_in = 1, .n_out = 1, .in = {T(PP_DTYPE_I64, 2, I64(6), I64(5))},
             .n_attr = 1, .attr = {A_INTS("axes", 1, I64(0))});
    }
    CASE(.name = "argmax axis1 (4,9,3)", .op = PP_OP_ARGMAX, .n_in = 1, .n_out = 1,
         .in = {F32(3, I64(4), I64(9), I64(3))}, .n_attr = 1, .attr = {A_INT("axis", 1)});
    CASE(.name = "argmin i64 last (4,9)", .op = PP_OP_ARGMIN, .n_in = 1, .n_out = 1,
         .in = {T(PP_DTYPE_I64, 2, I64(4), I64(9))}, .n_attr = 2,
         .attr = {A_INT("axis", -1), A_INT("select_last_index", 1)});
}

static void data_cases(void) {
    CASE(.name = "reshape (2,3,4)->(6,4)", .op = PP_OP_RESHAPE, .n_in = 1, .n_out = 1,
         .in = {F32(3, I64(2), I64(3), I64(4))}, .n_attr = 1, .attr = {A_INTS("shape", 2, I64(6), I64(4))});
    CASE(.name = "flatten (7,3,2,2)", .op = PP_OP_FLATTEN, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(7), I64(3), I64(2), I64(2))}, .n_attr = 1, .attr = {A_INT("axis", 1)});
    CASE(.name = "transpose 0,2,3,1 (7,3,5,4)", .op = PP_OP_TRANSPOSE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(7), I64(3), I64(5), I64(4))}, .n_attr = 1,
         .attr = {A_INTS("perm", 4, I64(0), I64(2), I64(3), I64(1))});
    CASE(.name = "transpose 2d i64 (33,17)", .op = PP_OP_TRANSPOSE, .n_in = 1, .n_out = 1,
         .in = {T(PP_DTYPE_I64, 2, I64(33), I64(17))}, .n_attr = 1, .attr = {A_INTS("perm", 2, I64(1), I64(0))});
    CASE(.name = "transpose bool 0,2,1,3", .op = PP_OP_TRANSPOSE, .n_in = 1, .n_out = 1,
         .in = {T(PP_DTYPE_BOOL, 4, I64(2), I64(3), I64(4), I64(5))}, .n_attr = 1,
         .attr = {A_INTS("perm", 4, I64(0), I64(2), I64(1), I64(3))});
    CASE(.name = "concat axis1 3 inputs", .op = PP_OP_CONCAT, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(7), I64(3), I64(2), I64(2)), F32(4, I64(7), I64(1), I64(2), I64(2)),
                F32(4, I64(7), I64(5), I64(2), I64(2))},
         .n_attr = 1, .attr = {A_INT("axis", 1)});
    CASE(.name = "concat axis0 i64", .op = PP_OP_CONCAT, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_I64, 1, I64(3)), T(PP_DTYPE_I64, 1, I64(1))}, .n_attr = 1, .attr = {A_INT("axis", 0)});
    CASE(.name = "split axis2 (2,3,7) into 3,4", .op = PP_OP_SPLIT, .n_in = 1, .n_out = 2,
         .in = {F32(3, I64(2), I64(3), I64(7))}, .n_attr = 2,
         .attr = {A_INT("axis", 2), A_INTS("split", 2, I64(3), I64(4))});
    CASE(.name = "slice steps -1,2", .op = PP_OP_SLICE, .n_in = 1, .n_out = 1, .in = {F32(3, I64(4), I64(9), I64(5))},
         .n_attr = 4,
         .attr = {A_INTS("starts", 2, I64(-1), I64(1)), A_INTS("ends", 2, I64(-100), I64(8)),
                  A_INTS("axes", 2, I64(0), I64(1)), A_INTS("steps", 2, I64(-1), I64(2))});
    CASE(.name = "gather axis0 i64 idx", .op = PP_OP_GATHER, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(10), I64(7)), with_gen(T(PP_DTYPE_I64, 2, I64(3), I64(4)), G_INDEX, 10)}, .n_attr = 1,
         .attr = {A_INT("axis", 0)});
    CASE(.name = "gather axis1 i32 idx", .op = PP_OP_GATHER, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_I64, 3, I64(2), I64(5), I64(3)), with_gen(T(PP_DTYPE_I32, 1, I64(6)), G_INDEX, 5)},
         .n_attr = 1, .attr = {A_INT("axis", 1)});
    CASE(.name = "gather index out of range", .op = PP_OP_GATHER, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(4), I64(3)), with_gen(T(PP_DTYPE_I64, 1, I64(64)), G_INDEX, 9)}, .n_attr = 1,
         .attr = {A_INT("axis", 0)}, .expect_error = 1);
    CASE(.name = "gather_elements axis1", .op = PP_OP_GATHER_ELEMENTS, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(3), I64(5)), with_gen(T(PP_DTYPE_I64, 2, I64(3), I64(4)), G_INDEX, 5)}, .n_attr = 1,
         .attr = {A_INT("axis", 1)});
    CASE(.name = "expand (3,1)->(2,3,4)", .op = PP_OP_EXPAND, .n_in = 1, .n_out = 1, .in = {F32(2, I64(3), I64(1))},
         .n_attr = 1, .attr = {A_INTS("shape", 3, I64(2), I64(3), I64(4))});
    CASE(.name = "tile (2,3) x (2,3)", .op = PP_OP_TILE, .n_in = 1, .n_out = 1,
         .in = {T(PP_DTYPE_I32, 2, I64(2), I64(3))}, .n_attr = 1, .attr = {A_INTS("repeats", 2, I64(2), I64(3))});
    CASE(.name = "pad constant (1,3,4,5)", .op = PP_OP_PAD, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(4), I64(5))}, .n_attr = 2,
         .attr = {A_INTS("pads", 8, I64(0), I64(0), I64(1), I64(2), I64(0), I64(0), I64(3), I64(0)),
                  A_FLOAT("value", 1.5)});
    CASE(.name = "pad reflect (2,3,5)", .op = PP_OP_PAD, .n_in = 1, .n_out = 1, .in = {F32(3, I64(2), I64(3), I64(5))},
         .n_attr = 2,
         .attr = {A_INTS("pads", 6, I64(0), I64(2), I64(3), I64(0), I64(1), I64(4)), A_STR("mode", "reflect")});
    CASE(.name = "pad edge crop (4,6)", .op = PP_OP_PAD, .n_in = 1, .n_out = 1, .in = {F32(2, I64(4), I64(6))},
         .n_attr = 2, .attr = {A_INTS("pads", 4, I64(2), I64(-1), I64(1), I64(-2)), A_STR("mode", "edge")});
    CASE(.name = "resize nearest x2 (1,3,5,7)", .op = PP_OP_RESIZE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(5), I64(7))}, .n_attr = 2,
         .attr = {A_FLOATS("scales", 4, 1.0, 1.0, 2.0, 2.0), A_STR("mode", "nearest")});
    CASE(.name = "resize linear half_pixel (2,2,4,6)->(7,9)", .op = PP_OP_RESIZE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(2), I64(2), I64(4), I64(6))}, .n_attr = 2,
         .attr = {A_INTS("sizes", 4, I64(2), I64(2), I64(7), I64(9)), A_STR("mode", "linear")}, .atol = 1e-5f,
         .rtol = 1e-5f);
    CASE(.name = "resize linear align_corners", .op = PP_OP_RESIZE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(1), I64(3), I64(3))}, .n_attr = 3,
         .attr = {A_INTS("sizes", 4, I64(1), I64(1), I64(8), I64(5)), A_STR("mode", "linear"),
                  A_STR("coordinate_transformation_mode", "align_corners")},
         .atol = 1e-5f, .rtol = 1e-5f);
    CASE(.name = "trilu upper k=1 (2,4,5)", .op = PP_OP_TRILU, .n_in = 1, .n_out = 1,
         .in = {F32(3, I64(2), I64(4), I64(5))}, .n_attr = 2, .attr = {A_INT("k", 1), A_INT("upper", 1)});
    CASE(.name = "trilu lower k=-1 (6,6)", .op = PP_OP_TRILU, .n_in = 1, .n_out = 1, .in = {F32(2, I64(6), I64(6))},
         .n_attr = 2, .attr = {A_INT("k", -1), A_INT("upper", 0)});
    CASE(.name = "depth_to_space DCR b2 (1,8,3,3)", .op = PP_OP_DEPTH_TO_SPACE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(8), I64(3), I64(3))}, .n_attr = 1, .attr = {A_INT("blocksize", 2)});
    CASE(.name = "depth_to_space CRD b2 (2,8,2,3)", .op = PP_OP_DEPTH_TO_SPACE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(2), I64(8), I64(2), I64(3))}, .n_attr = 2,
         .attr = {A_INT("blocksize", 2), A_STR("mode", "CRD")});
    CASE(.name = "space_to_depth b2 (1,3,4,6)", .op = PP_OP_SPACE_TO_DEPTH, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(4), I64(6))}, .n_attr = 1, .attr = {A_INT("blocksize", 2)});
    CASE(.name = "cumsum axis1 (3,7,2)", .op = PP_OP_CUMSUM, .n_in = 1, .n_out = 1,
         .in = {F32(3, I64(3), I64(7), I64(2))}, .n_attr = 1, .attr = {A_INT("axis", 1)}, .atol = 1e-5f, .rtol = 1e-5f);
    CASE(.name = "cumsum i64 exclusive reverse (9)", .op = PP_OP_CUMSUM, .n_in = 1, .n_out = 1,
         .in = {T(PP_DTYPE_I64, 1, I64(9))}, .n_attr = 3,
         .attr = {A_INT("axis", 0), A_INT("exclusive", 1), A_INT("reverse", 1)});
    CASE(.name = "shape (7,3,5)", .op = PP_OP_SHAPE, .n_in = 1, .n_out = 1, .in = {F32(3, I64(7), I64(3), I64(5))});
    CASE(.name = "constant_of_shape (3,4) = 2.5", .op = PP_OP_CONSTANT_OF_SHAPE, .n_in = 0, .n_out = 1, .n_attr = 3,
         .attr = {A_INTS("shape", 2, I64(3), I64(4)), A_FLOAT("value", 2.5), A_INT("dtype", PP_DTYPE_F32)});
    CASE(.name = "range i64 0..10 by 3", .op = PP_OP_RANGE, .n_in = 0, .n_out = 1, .n_attr = 4,
         .attr = {A_FLOAT("start", 0), A_FLOAT("limit", 10), A_FLOAT("delta", 3), A_INT("dtype", PP_DTYPE_I64)});
    CASE(.name = "range f32 -1..1 by 0.25", .op = PP_OP_RANGE, .n_in = 0, .n_out = 1, .n_attr = 4,
         .attr = {A_FLOAT("start", -1), A_FLOAT("limit", 1), A_FLOAT("delta", 0.25), A_INT("dtype", PP_DTYPE_F32)});
}

static void graph_cases(void) {
    run_graph(&(tcase){.name = "graph: add (7,3,4,5)+(1,3,1,1)",
                       .op = PP_OP_ADD,
                       .n_in = 2,
                       .n_out = 1,
                       .in = {F32(4, I64(7), I64(3), I64(4), I64(5)), F32(4, I64(1), I64(3), I64(1), I64(1))}});
    run_graph(&(tcase){.name = "graph: gemm +b",
                       .op = PP_OP_GEMM,
                       .n_in = 3,
                       .n_out = 1,
                       .in = {F32(2, I64(7), I64(33)), F32(2, I64(17), I64(33)), F32(1, I64(17))},
                       .n_attr = 1,
                       .attr = {A_INT("transB", 1)},
                       .atol = 1e-4f,
                       .rtol = 1e-4f});
    run_graph(
        &(tcase){.name = "graph: conv +b +relu",
                 .op = PP_OP_CONV,
                 .n_in = 3,
                 .n_out = 1,
                 .in = {F32(4, I64(2), I64(8), I64(6), I64(6)), F32(4, I64(8), I64(8), I64(3), I64(3)), F32(1, I64(8))},
                 .n_attr = 2,
                 .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)), A_INT("activation", PP_ACT_RELU)},
                 .atol = 1e-4f,
                 .rtol = 1e-4f});
    run_graph(&(tcase){.name = "graph: attention",
                       .op = PP_OP_ATTENTION,
                       .n_in = 3,
                       .n_out = 1,
                       .in = {F32(4, I64(2), I64(3), I64(7), I64(16)), F32(4, I64(2), I64(3), I64(9), I64(16)),
                              F32(4, I64(2), I64(3), I64(9), I64(8))},
                       .atol = 2e-5f,
                       .rtol = 2e-5f});
}

/* The 16-bit precision modes: GEMM, MATMUL and CONV read fp16 / bf16 (weights
 * converted once at prepare, activations by each launch) and give f32, compared
 * with the CPU's f32 within what rounding the inputs costs: inputs in [-2, 2]
 * rounded with unit u give a sum of K products an error of about
 * 1.3·sqrt(K)·u·0.8, so atol is ~10 of those (u = 2^-11 fp16, 2^-8 bf16). */
static void precision_cases(void) {
    static const pp_precision modes[] = {PP_PREC_FP16, PP_PREC_BF16};
    for (int mi = 0; mi < 2; mi++) {
        pp_precision prec = modes[mi];
        pp_error err;
        if (gpu->ops->set_precision(gpu, prec, &err) != PP_OK) {
            tcase c = {.name = "precision"};
            report(&c, "FAIL", "set_precision(%s): %s", pp_precision_name(prec), err.msg);
            n_fail++;
            continue;
        }
        float u = prec == PP_PREC_FP16 ? 6e-3f : 5e-2f; /* atol per sqrt(K) */
        float md = u * 1e-2f;                           /* far above f32's own differences */
        char nm[16][96];
        int i = 0;
#define PNAME(s) (snprintf(nm[i], sizeof nm[i], "%s %s", pp_precision_name(prec), s), nm[i++])
        CASE(.name = PNAME("conv 3x3 p1 +b weights"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1, .weights = 6,
             .in = {F32(4, I64(2), I64(8), I64(9), I64(9)), F32(4, I64(12), I64(8), I64(3), I64(3)), F32(1, I64(12))},
             .n_attr = 1, .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1))}, .atol = u * sqrtf(72.f),
             .rtol = 1e-6f, .min_diff = md);
        CASE(.name = PNAME("conv grouped s2 +res +relu, weight from a node"), .op = PP_OP_CONV, .n_in = 4, .n_out = 1,
             .in = {F32(4, I64(1), I64(6), I64(8), I64(8)), F32(4, I64(6), I64(3), I64(3), I64(3)), F32(1, I64(6)),
                    F32(4, I64(1), I64(6), I64(4), I64(4))},
             .n_attr = 4,
             .attr = {A_INT("group", 2), A_INTS("strides", 2, I64(2), I64(2)),
                      A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)), A_INT("activation", PP_ACT_RELU)},
             .atol = u * sqrtf(27.f), .rtol = 1e-6f, .min_diff = md);
        /* past one 32 x 32 transpose tile on every axis, none a multiple of 32 */
        CASE(.name = PNAME("conv (2,40,11,13)x(33,40,3,3) +b +silu, NHWC tiles"), .op = PP_OP_CONV, .n_in = 3,
             .n_out = 1, .weights = 6,
             .in = {F32(4, I64(2), I64(40), I64(11), I64(13)), F32(4, I64(33), I64(40), I64(3), I64(3)),
                    F32(1, I64(33))},
             .n_attr = 2, .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)), A_INT("activation", PP_ACT_SILU)},
             .atol = u * sqrtf(360.f), .rtol = 1e-6f, .min_diff = md);
        CASE(.name = PNAME("gemm (7,96)x(40,96)^T +b +relu weights"), .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
             .weights = 6, .in = {F32(2, I64(7), I64(96)), F32(2, I64(40), I64(96)), F32(1, I64(40))}, .n_attr = 2,
             .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_RELU)}, .atol = u * sqrtf(96.f), .rtol = 1e-6f,
             .min_diff = md);
        CASE(.name = PNAME("gemm A^T a=0.5 b=2 C(3,7), all activations"), .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
             .in = {F32(2, I64(24), I64(3)), F32(2, I64(24), I64(7)), F32(2, I64(3), I64(7))}, .n_attr = 3,
             .attr = {A_INT("transA", 1), A_FLOAT("alpha", 0.5), A_FLOAT("beta", 2.0)}, .atol = u * sqrtf(24.f),
             .rtol = 1e-6f, .min_diff = md);
        CASE(.name = PNAME("matmul (4,6,9,16)x(4,6,16,9) strided batch"), .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
             .in = {F32(4, I64(4), I64(6), I64(9), I64(16)), F32(4, I64(4), I64(6), I64(16), I64(9))}, .atol = u * 4.f,
             .rtol = 1e-6f, .min_diff = md);
        CASE(.name = PNAME("matmul (7,10,32)x(32,24) folded, weight B"), .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
             .weights = 2, .in = {F32(3, I64(7), I64(10), I64(32)), F32(2, I64(32), I64(24))}, .atol = u * sqrtf(32.f),
             .rtol = 1e-6f, .min_diff = md);
        CASE(.name = PNAME("matmul (2,1,3,4)x(1,5,4,6) loop"), .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
             .in = {F32(4, I64(2), I64(1), I64(3), I64(4)), F32(4, I64(1), I64(5), I64(4), I64(6))}, .atol = u * 2.f,
             .rtol = 1e-6f, .min_diff = md);
        if (gpu->ops->capture_begin)
            run_graph(&(tcase){.name = PNAME("graph: gemm +b weights"),
                               .op = PP_OP_GEMM,
                               .n_in = 3,
                               .n_out = 1,
                               .weights = 6,
                               .in = {F32(2, I64(7), I64(33)), F32(2, I64(17), I64(33)), F32(1, I64(17))},
                               .n_attr = 1,
                               .attr = {A_INT("transB", 1)},
                               .atol = u * sqrtf(33.f),
                               .rtol = 1e-6f,
                               .min_diff = md});
#undef PNAME
    }
    pp_error err;
    (void)gpu->ops->set_precision(gpu, PP_PREC_FP32, &err);
}

/* fmt with every "%s" replaced by f */
static void fpath(char *buf, size_t n, const char *fmt, const char *f) {
    size_t k = 0;
    for (const char *p = fmt; *p && k + 1 < n; p++) {
        if (p[0] == '%' && p[1] == 's') {
            for (const char *q = f; *q && k + 1 < n; q++) buf[k++] = *q;
            p++;
        } else {
            buf[k++] = *p;
        }
    }
    buf[k] = 0;
}

/* The planner's formats: 16-bit tensors (NHWC for convolutions) straight into
 * cuDNN and cuBLASLt, each path the backend can take checked by its account of
 * the launch, the mocks (emulator) told to refuse what forces a fallback. The
 * CPU computes on the same 16-bit values in f32; the GPU rounds its output to
 * 16 bits (once where the epilogue is fused, twice where a kernel follows), so
 * rtol is about two units of the output's rounding. */
static void format_cases(void) {
    static const pp_precision modes[] = {PP_PREC_FP16, PP_PREC_BF16};
    for (int mi = 0; mi < 2; mi++) {
        pp_precision prec = modes[mi];
        pp_error err;
        if (gpu->ops->set_precision(gpu, prec, &err) != PP_OK) continue;
        pp_dtype dt = prec == PP_PREC_FP16 ? PP_DTYPE_F16 : PP_DTYPE_BF16;
        const char *f = prec == PP_PREC_FP16 ? "f16" : "bf16";
        float rt = prec == PP_PREC_FP16 ? 2e-3f : 1.6e-2f, at = rt * 4.f, md = rt * 1e-2f;
        char nm[24][96], pth[24][96];
        int i = 0;
#define FNAME(s) (snprintf(nm[i], sizeof nm[i], "%s nhwc %s", f, s), nm[i])
#define FPATH(s) (fpath(pth[i], sizeof pth[i], s, f), pth[i++])
#define pads1 A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)) /* the pool is refilled per case */
        CASE(.name = FNAME("conv 3x3 +b +res +relu, fused"), .op = PP_OP_CONV, .n_in = 4, .n_out = 1, .weights = 6,
             .in = {F32(4, I64(2), I64(16), I64(7), I64(9)), F32(4, I64(16), I64(16), I64(3), I64(3)), F32(1, I64(16)),
                    F32(4, I64(2), I64(16), I64(7), I64(9))},
             .n_attr = 2, .attr = {pads1, A_INT("activation", PP_ACT_RELU)}, .atol = at * 12, .rtol = rt,
             .min_diff = md, .fmt = dt, .nhwc = 1, .path = FPATH("cudnn graph conv+epilogue %s nhwc"));
        CASE(.name = FNAME("conv K=12 +b +silu, epilogue kernel"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
             .weights = 6,
             .in = {F32(4, I64(1), I64(8), I64(6), I64(6)), F32(4, I64(12), I64(8), I64(3), I64(3)), F32(1, I64(12))},
             .n_attr = 2, .attr = {pads1, A_INT("activation", PP_ACT_SILU)}, .atol = at * 9, .rtol = rt, .min_diff = md,
             .fmt = dt, .nhwc = 1, .env = "PP_CUDA_SMALL_CONV=0", .path = FPATH("cudnn graph conv %s nhwc"));
        /* hardswish and hardsigmoid: pointwise chains with by-value scalars,
         * hardswish's a DAG (its MUL reads the value it started from) */
        CASE(.name = FNAME("conv +b +hardswish, fused"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1, .weights = 6,
             .in = {F32(4, I64(2), I64(8), I64(5), I64(5)), F32(4, I64(8), I64(8), I64(1), I64(1)), F32(1, I64(8))},
             .n_attr = 1, .attr = {A_INT("activation", PP_ACT_HARDSWISH)}, .atol = at * 3, .rtol = rt, .min_diff = md,
             .fmt = dt, .nhwc = 1, .path = FPATH("cudnn graph conv+epilogue %s nhwc"));
        CASE(.name = FNAME("conv 3x3 +b +res +hardswish, fused"), .op = PP_OP_CONV, .n_in = 4, .n_out = 1, .weights = 6,
             .in = {F32(4, I64(1), I64(8), I64(6), I64(5)), F32(4, I64(16), I64(8), I64(3), I64(3)), F32(1, I64(16)),
                    F32(4, I64(1), I64(16), I64(6), I64(5))},
             .n_attr = 2, .attr = {pads1, A_INT("activation", PP_ACT_HARDSWISH)}, .atol = at * 12, .rtol = rt,
             .min_diff = md, .fmt = dt, .nhwc = 1, .path = FPATH("cudnn graph conv+epilogue %s nhwc"));
        CASE(.name = FNAME("conv 1x1 +b +hardsigmoid(0.05, 0.5), fused"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
             .weights = 6,
             .in = {F32(4, I64(4), I64(16), I64(3), I64(3)), F32(4, I64(8), I64(16), I64(1), I64(1)), F32(1, I64(8))},
             .n_attr = 3, /* alpha small: few outputs saturate, so 16-bit rounding shows */
             .attr = {A_INT("activation", PP_ACT_HARDSIGMOID), A_FLOAT("act_alpha", 0.05), A_FLOAT("act_beta", 0.5)},
             .atol = at * 3, .rtol = rt, .min_diff = md, .fmt = dt, .nhwc = 1,
             .path = FPATH("cudnn graph conv+epilogue %s nhwc"));
        CASE(.name = FNAME("depthwise 3x3 s2 +b +relu6 (kernel)"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
             .weights = 6,
             .in = {F32(4, I64(2), I64(16), I64(9), I64(9)), F32(4, I64(16), I64(1), I64(3), I64(3)), F32(1, I64(16))},
             .n_attr = 5,
             .attr = {pads1, A_INT("group", 16), A_INTS("strides", 2, I64(2), I64(2)), A_INT("activation", PP_ACT_CLIP),
                      A_FLOAT("act_beta", 6.0)},
             .atol = at * 3, .rtol = rt, .min_diff = md, .fmt = dt, .nhwc = 1, .env = "PP_CUDA_CONV_ONLY=depthwise",
             .path = FPATH("depthwise kernel %s nhwc"));
        CASE(.name = FNAME("conv asymmetric pads (direct kernel)"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
             .weights = 6,
             .in = {F32(4, I64(1), I64(8), I64(5), I64(5)), F32(4, I64(8), I64(8), I64(3), I64(3)), F32(1, I64(8))},
             .n_attr = 1, .attr = {A_INTS("pads", 4, I64(0), I64(1), I64(1), I64(0))}, .atol = at * 9, .rtol = rt,
             .min_diff = md, .fmt = dt, .nhwc = 1, .env = "PP_CUDA_CONV_ONLY=direct",
             .path = FPATH("direct kernel %s nhwc"));
        CASE(.name = FNAME("conv, no graph engine: legacy"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1, .weights = 6,
             .in = {F32(4, I64(2), I64(8), I64(6), I64(6)), F32(4, I64(8), I64(8), I64(3), I64(3)), F32(1, I64(8))},
             .n_attr = 1, .attr = {pads1}, .atol = at * 9, .rtol = rt, .min_diff = md, .fmt = dt, .nhwc = 1,
             .env = "MOCK_CUDNN_NO_GRAPH=1,PP_CUDA_SMALL_CONV=0", .path = FPATH("cudnn legacy %s nhwc"));
        CASE(.name = FNAME("conv, GetWorkspaceSize refuses: next algorithm"), .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
             .weights = 6,
             .in = {F32(4, I64(1), I64(8), I64(7), I64(7)), F32(4, I64(8), I64(8), I64(3), I64(3)), F32(1, I64(8))},
             .n_attr = 1, .attr = {pads1}, .atol = at * 9, .rtol = rt, .min_diff = md, .fmt = dt, .nhwc = 1,
             .env = "MOCK_CUDNN_NO_GRAPH=1,MOCK_CUDNN_WS_FAIL=1,PP_CUDA_SMALL_CONV=0", .path = FPATH("algo 0"));
        CASE(.name = FNAME("conv, no 16-bit algorithm: f32 cuDNN"), .op = PP_OP_CONV, .n_in = 4, .n_out = 1,
             .weights = 6,
             .in = {F32(4, I64(2), I64(8), I64(6), I64(6)), F32(4, I64(8), I64(8), I64(3), I64(3)), F32(1, I64(8)),
                    F32(4, I64(2), I64(8), I64(6), I64(6))},
             .n_attr = 2, .attr = {pads1, A_INT("activation", PP_ACT_RELU)}, .atol = at * 9, .rtol = rt, .min_diff = md,
             .fmt = dt, .nhwc = 1, .env = "MOCK_CUDNN_NO_HALF=1,PP_CUDA_SMALL_CONV=0",
             .path = FPATH("cudnn graph conv f32 nhwc (converted)"));
        CASE(.name = FNAME("gemm (7,96)x(40,96)^T +b +relu"), .op = PP_OP_GEMM, .n_in = 3, .n_out = 1, .weights = 6,
             .in = {F32(2, I64(7), I64(96)), F32(2, I64(40), I64(96)), F32(1, I64(40))}, .n_attr = 2,
             .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_RELU)}, .atol = at * 10, .rtol = rt,
             .min_diff = md, .fmt = dt, .path = FPATH("cublaslt %s->%s + C as bias, epilogue"));
        CASE(.name = FNAME("gemm +b +relu, no fused epilogue: C prefilled, kernel"), .op = PP_OP_GEMM, .n_in = 3,
             .n_out = 1, .weights = 6, .in = {F32(2, I64(7), I64(32)), F32(2, I64(16), I64(32)), F32(1, I64(16))},
             .n_attr = 2, .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_RELU)}, .atol = at * 6, .rtol = rt,
             .min_diff = md, .fmt = dt, .env = "MOCK_LT_NO_EPILOGUE=1",
             .path = FPATH("cublaslt %s->%s + C prefilled + activation kernel"));
        CASE(.name = FNAME("gemm +b +gelu (erf) in the epilogue"), .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
             .weights = 6, .in = {F32(2, I64(5), I64(64)), F32(2, I64(24), I64(64)), F32(1, I64(24))}, .n_attr = 2,
             .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_GELU)}, .atol = at * 8 + 1e-3f, .rtol = rt,
             .min_diff = md, .fmt = dt, .path = FPATH("cublaslt %s->%s + C as bias, epilogue"));
        CASE(.name = FNAME("matmul (4,6,9,16)x(4,6,16,9) strided batch"), .op = PP_OP_MATMUL, .n_in = 2, .n_out = 1,
             .in = {F32(4, I64(4), I64(6), I64(9), I64(16)), F32(4, I64(4), I64(6), I64(16), I64(9))}, .atol = at * 4,
             .rtol = rt, .min_diff = md, .fmt = dt, .path = FPATH("cublaslt"));
        CASE(.name = FNAME("gemm A^T C(3,7), no algorithm: kernel"), .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
             .in = {F32(2, I64(24), I64(3)), F32(2, I64(24), I64(7)), F32(2, I64(3), I64(7))}, .n_attr = 3,
             .attr = {A_INT("transA", 1), A_FLOAT("alpha", 0.5), A_FLOAT("beta", 2.0)}, .atol = at * 5, .rtol = rt,
             .min_diff = md, .fmt = dt, .env = "MOCK_LT_NO_ALGO=1", .path = FPATH("gemm kernel"));
        CASE(.name = FNAME("matmul (2,1,3,4)x(1,5,4,6), no algorithm: kernel"), .op = PP_OP_MATMUL, .n_in = 2,
             .n_out = 1, .in = {F32(4, I64(2), I64(1), I64(3), I64(4)), F32(4, I64(1), I64(5), I64(4), I64(6))},
             .atol = at * 2, .rtol = rt, .min_diff = md, .fmt = dt, .env = "MOCK_LT_NO_ALGO=1",
             .path = FPATH("gemm kernel"));
        /* the other kernels in 16 bits: element-wise (8-wide where they can), pooling and
         * batch norm NHWC, softmax, LayerNorm (f32 scale and bias), attention */
        CASE(.name = FNAME("silu (2,16,5,7)"), .op = PP_OP_SILU, .n_in = 1, .n_out = 1,
             .in = {F32(4, I64(2), I64(16), I64(5), I64(7))}, .atol = at, .rtol = rt, .min_diff = md, .fmt = dt,
             .nhwc = 1);
        CASE(.name = FNAME("relu (3,37), odd count"), .op = PP_OP_RELU, .n_in = 1, .n_out = 1,
             .in = {F32(2, I64(3), I64(37))}, .atol = at, .rtol = rt, .fmt = dt);
        CASE(.name = FNAME("add (2,16,5,7)+(2,16,5,7)"), .op = PP_OP_ADD, .n_in = 2, .n_out = 1,
             .in = {F32(4, I64(2), I64(16), I64(5), I64(7)), F32(4, I64(2), I64(16), I64(5), I64(7))}, .atol = at,
             .rtol = rt, .min_diff = md, .fmt = dt, .nhwc = 1);
        CASE(.name = FNAME("mul (2,16,5,7)*(2,16,1,1), squeeze-excitation"), .op = PP_OP_MUL, .n_in = 2, .n_out = 1,
             .in = {F32(4, I64(2), I64(16), I64(5), I64(7)), F32(4, I64(2), I64(16), I64(1), I64(1))}, .atol = at,
             .rtol = rt, .min_diff = md, .fmt = dt, .nhwc = 1);
        CASE(.name = FNAME("sub (2,3,4,5)-(3,1,1), plain operand"), .op = PP_OP_SUB, .n_in = 2, .n_out = 1,
             .in = {F32(4, I64(2), I64(3), I64(4), I64(5)), F32(3, I64(3), I64(1), I64(1))}, .atol = at, .rtol = rt,
             .fmt = dt, .nhwc = 1);
        CASE(.name = FNAME("less (4,9) gives bool"), .op = PP_OP_LESS, .n_in = 2, .n_out = 1,
             .in = {F32(2, I64(4), I64(9)), F32(2, I64(4), I64(9))}, .fmt = dt);
        CASE(.name = FNAME("maxpool 3x3 s2 p1 (2,16,9,9)"), .op = PP_OP_MAXPOOL, .n_in = 1, .n_out = 1,
             .in = {F32(4, I64(2), I64(16), I64(9), I64(9))}, .n_attr = 3,
             .attr = {A_INTS("kernel_shape", 2, I64(3), I64(3)), A_INTS("strides", 2, I64(2), I64(2)), pads1},
             .atol = at, .rtol = rt, .fmt = dt, .nhwc = 1);
        CASE(.name = FNAME("avgpool 2x2 s2 (1,8,6,6)"), .op = PP_OP_AVGPOOL, .n_in = 1, .n_out = 1,
             .in = {F32(4, I64(1), I64(8), I64(6), I64(6))}, .n_attr = 2,
             .attr = {A_INTS("kernel_shape", 2, I64(2), I64(2)), A_INTS("strides", 2, I64(2), I64(2))}, .atol = at,
             .rtol = rt, .fmt = dt, .nhwc = 1);
        CASE(.name = FNAME("global avgpool (2,24,9,9)"), .op = PP_OP_GLOBAL_AVGPOOL, .n_in = 1, .n_out = 1,
             .in = {F32(4, I64(2), I64(24), I64(9), I64(9))}, .atol = at, .rtol = rt, .fmt = dt, .nhwc = 1);
        CASE(.name = FNAME("global maxpool (2,8,3,5)"), .op = PP_OP_GLOBAL_MAXPOOL, .n_in = 1, .n_out = 1,
             .in = {F32(4, I64(2), I64(8), I64(3), I64(5))}, .atol = at, .rtol = rt, .fmt = dt, .nhwc = 1);
        CASE(.name = FNAME("resize linear (2,8,4,6)->(7,9)"), .op = PP_OP_RESIZE, .n_in = 1, .n_out = 1,
             .in = {F32(4, I64(2), I64(8), I64(4), I64(6))}, .n_attr = 2,
             .attr = {A_INTS("sizes", 4, I64(2), I64(8), I64(7), I64(9)), A_STR("mode", "linear")}, .atol = at,
             .rtol = rt, .fmt = dt, .nhwc = 1);
        CASE(.name = FNAME("resize nearest x2 (1,16,3,5)"), .op = PP_OP_RESIZE, .n_in = 1, .n_out = 1,
             .in = {F32(4, I64(1), I64(16), I64(3), I64(5))}, .n_attr = 2,
             .attr = {A_FLOATS("scales", 4, 1.0, 1.0, 2.0, 2.0), A_STR("mode", "nearest")}, .atol = at, .rtol = rt,
             .fmt = dt, .nhwc = 1);
        CASE(.name = FNAME("concat channels (2,8,3,5)+(2,16,3,5)"), .op = PP_OP_CONCAT, .n_in = 2, .n_out = 1,
             .in = {F32(4, I64(2), I64(8), I64(3), I64(5)), F32(4, I64(2), I64(16), I64(3), I64(5))}, .n_attr = 1,
             .attr = {A_INT("axis", 1)}, .atol = at, .rtol = rt, .fmt = dt, .nhwc = 1);
        CASE(.name = FNAME("batchnorm (2,16,5,5), f32 statistics"), .op = PP_OP_BATCHNORM, .n_in = 5, .n_out = 1,
             .in = {F32(4, I64(2), I64(16), I64(5), I64(5)), F32(1, I64(16)), F32(1, I64(16)), F32(1, I64(16)),
                    with_gen(F32(1, I64(16)), G_POS, 0)},
             .atol = at * 4, .rtol = rt, .fmt = dt, .nhwc = 1);
        CASE(.name = FNAME("softmax (4,37)"), .op = PP_OP_SOFTMAX, .n_in = 1, .n_out = 1,
             .in = {F32(2, I64(4), I64(37))}, .atol = at * 0.1f, .rtol = rt, .fmt = dt);
        CASE(.name = FNAME("log_softmax axis 1 (2,5,7)"), .op = PP_OP_LOG_SOFTMAX, .n_in = 1, .n_out = 1,
             .in = {F32(3, I64(2), I64(5), I64(7))}, .n_attr = 1, .attr = {A_INT("axis", 1)}, .atol = at, .rtol = rt,
             .fmt = dt);
        CASE(.name = FNAME("layernorm (6,96), f32 scale and bias"), .op = PP_OP_LAYERNORM, .n_in = 3, .n_out = 1,
             .in = {F32(2, I64(6), I64(96)), F32(1, I64(96)), F32(1, I64(96))}, .atol = at * 4, .rtol = rt, .fmt = dt);
        CASE(.name = FNAME("attention (2,3,7,16)"), .op = PP_OP_ATTENTION, .n_in = 3, .n_out = 1,
             .in = {F32(4, I64(2), I64(3), I64(7), I64(16)), F32(4, I64(2), I64(3), I64(9), I64(16)),
                    F32(4, I64(2), I64(3), I64(9), I64(8))},
             .atol = at, .rtol = rt, .min_diff = md, .fmt = dt);
        CASE(.name = FNAME("attention causal, 600 keys (1,2,5,600,64): tiled"), .op = PP_OP_ATTENTION, .n_in = 3,
             .n_out = 1,
             .in = {F32(4, I64(1), I64(2), I64(5), I64(64)), F32(4, I64(1), I64(2), I64(600), I64(64)),
                    F32(4, I64(1), I64(2), I64(600), I64(64))},
             .n_attr = 1, .attr = {A_INT("causal", 1)}, .atol = at, .rtol = rt, .min_diff = md, .fmt = dt);
        if (gpu->ops->capture_begin)
            run_graph(&(tcase){.name = FNAME("graph: conv 3x3 +b +relu, fused"),
                               .op = PP_OP_CONV,
                               .n_in = 3,
                               .n_out = 1,
                               .weights = 6,
                               .in = {F32(4, I64(2), I64(16), I64(6), I64(6)), F32(4, I64(16), I64(16), I64(3), I64(3)),
                                      F32(1, I64(16))},
                               .n_attr = 2,
                               .attr = {pads1, A_INT("activation", PP_ACT_RELU)},
                               .atol = at * 12,
                               .rtol = rt,
                               .min_diff = md,
                               .fmt = dt,
                               .nhwc = 1,
                               .path = FPATH("conv+epilogue")});
#undef FNAME
#undef FPATH
#undef pads1
    }
    pp_error err;
    (void)gpu->ops->set_precision(gpu, PP_PREC_FP32, &err);
}

/* f32 where the libraries offer nothing: cuDNN's legacy API, the direct and GEMM kernels. */
static void fallback_cases(void) {
    CASE(.name = "conv, no graph engine: legacy f32", .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(2), I64(5), I64(6), I64(6)), F32(4, I64(7), I64(5), I64(3), I64(3)), F32(1, I64(7))},
         .n_attr = 2, .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)), A_INT("activation", PP_ACT_RELU)},
         .atol = 1e-4f, .rtol = 1e-4f, .env = "MOCK_CUDNN_NO_GRAPH=1", .path = "cudnn legacy f32 nchw");
    CASE(.name = "conv asymmetric pads, no graph engine: direct f32", .op = PP_OP_CONV, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(6), I64(7)), F32(4, I64(4), I64(3), I64(3), I64(2)), F32(1, I64(4))},
         .n_attr = 1, .attr = {A_INTS("pads", 4, I64(0), I64(1), I64(2), I64(0))}, .atol = 1e-4f, .rtol = 1e-4f,
         .env = "MOCK_CUDNN_NO_GRAPH=1", .path = "direct kernel f32 nchw");
    CASE(.name = "gemm +b +relu, no fused epilogue: C prefilled, kernel f32", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(9), I64(40)), F32(2, I64(21), I64(40)), F32(1, I64(21))}, .n_attr = 2,
         .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_RELU)}, .atol = 1e-4f, .rtol = 1e-4f,
         .env = "MOCK_LT_NO_EPILOGUE=1", .path = "cublaslt f32->f32 + C prefilled + activation kernel");
    CASE(.name = "gemm +b +silu, no algorithm: kernel f32", .op = PP_OP_GEMM, .n_in = 3, .n_out = 1,
         .in = {F32(2, I64(9), I64(40)), F32(2, I64(21), I64(40)), F32(1, I64(21))}, .n_attr = 2,
         .attr = {A_INT("transB", 1), A_INT("activation", PP_ACT_SILU)}, .atol = 1e-4f, .rtol = 1e-4f,
         .env = "MOCK_LT_NO_ALGO=1", .path = "gemm kernel f32");
}

/* Two streams ordered by an event: stream B copies what stream A wrote. */
static void ordering_case(void) {
    tcase c = {.name = "streams: record on A, wait on B"};
    if (!selected(c.name)) return;
    pp_error err;
    pp_stream *a = NULL, *b = NULL;
    pp_event *ev = NULL;
    void *d1 = NULL, *d2 = NULL;
    const size_t n = (size_t)64 << 20;
    unsigned char *h = malloc(n), *back = malloc(n);
    pp_code rc;
    for (size_t i = 0; i < n; i++) h[i] = (unsigned char)(i * 7 + 3);
    memset(back, 0, n);
    if ((rc = gpu->ops->stream_create(gpu, &a, &err)) || (rc = gpu->ops->stream_create(gpu, &b, &err)) ||
        (rc = gpu->ops->event_create(gpu, &ev, &err)) || (rc = gpu->ops->alloc(gpu, n, &d1, &err)) ||
        (rc = gpu->ops->alloc(gpu, n, &d2, &err)) || (rc = gpu->ops->upload(gpu, a, d1, h, n, &err)) ||
        (rc = gpu->ops->event_record(gpu, ev, a, &err)) || (rc = gpu->ops->stream_wait(gpu, b, ev, &err)) ||
        (rc = gpu->ops->copy(gpu, b, d2, d1, n, &err)) || (rc = gpu->ops->download(gpu, b, back, d2, n, &err)) ||
        (rc = gpu->ops->stream_sync(gpu, b, &err))) {
        report(&c, "FAIL", "cuda: %s", err.msg);
        n_fail++;
    } else if (memcmp(h, back, n) != 0) {
        report(&c, "FAIL", "the copy on B ran before the upload on A finished");
        n_fail++;
    } else {
        report(&c, "ok", "64 MiB through two streams");
        n_pass++;
    }
    if (a) gpu->ops->stream_sync(gpu, a, &err);
    gpu->ops->event_destroy(gpu, ev);
    gpu->ops->stream_destroy(gpu, a);
    gpu->ops->stream_destroy(gpu, b);
    gpu->ops->free(gpu, d1);
    gpu->ops->free(gpu, d2);
    free(h);
    free(back);
}

/* Every other device as a peer: enable, copy, compare (needs 2 GPUs; else skipped). */
static void peer_case(int ndev) {
    tcase c = {.name = "peer copy cuda:1 -> cuda:0"};
    if (!selected(c.name)) return;
    if (ndev < 2) {
        report(&c, "SKIP", "(one device)");
        n_skip++;
        return;
    }
    pp_error err;
    pp_backend *g1 = NULL;
    pp_stream *s = NULL, *s1 = NULL;
    void *d0 = NULL, *d1 = NULL;
    const size_t n = (size_t)8 << 20;
    unsigned char *h = malloc(n), *back = calloc(1, n);
    for (size_t i = 0; i < n; i++) h[i] = (unsigned char)(i * 13 + 1);
    pp_code rc;
    if ((rc = pp_backend_cuda_create(1, &g1, &err)) || (rc = gpu->ops->stream_create(gpu, &s, &err)) ||
        (rc = g1->ops->stream_create(g1, &s1, &err)) || (rc = gpu->ops->alloc(gpu, n, &d0, &err)) ||
        (rc = g1->ops->alloc(g1, n, &d1, &err)) || (rc = g1->ops->upload(g1, s1, d1, h, n, &err)) ||
        (rc = g1->ops->stream_sync(g1, s1, &err))) {
        report(&c, "FAIL", "cuda: %s", err.msg);
        n_fail++;
    } else if ((rc = gpu->ops->enable_peer(gpu, g1, &err)) != PP_OK) {
        report(&c, rc == PP_ERR_UNSUPPORTED ? "SKIP" : "FAIL", "%s", err.msg);
        if (rc == PP_ERR_UNSUPPORTED) n_skip++;
        else n_fail++;
    } else if ((rc = gpu->ops->copy_peer(gpu, s, d0, g1, d1, n, &err)) ||
               (rc = gpu->ops->download(gpu, s, back, d0, n, &err)) || (rc = gpu->ops->stream_sync(gpu, s, &err))) {
        report(&c, "FAIL", "cuda: %s", err.msg);
        n_fail++;
    } else if (memcmp(h, back, n) != 0) {
        report(&c, "FAIL", "the peer copy's bytes differ");
        n_fail++;
    } else {
        report(&c, "ok", "8 MiB");
        n_pass++;
    }
    if (s) gpu->ops->stream_destroy(gpu, s);
    gpu->ops->free(gpu, d0);
    if (g1) {
        if (s1) g1->ops->stream_destroy(g1, s1);
        g1->ops->free(g1, d1);
        pp_backend_destroy(g1);
    }
    free(h);
    free(back);
}

int main(int argc, char **argv) {
    /* --device cpu runs the same table CPU against CPU: a check of the harness and
     * of the cases (attributes, shapes) on a machine without a GPU. */
    const char *device = "cuda:0";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
        else filter = argv[i];
    }
    int self_test = strncmp(device, "cuda", 4) != 0;
    int ndev = pp_cuda_device_count();
    if (ndev == 0 && !self_test) {
        printf("SKIPPED: no CUDA device\n");
        return 77;
    }
    pp_error err;
    if (pp_backend_create(device, &gpu, &err) != PP_OK) {
        printf("FAIL creating %s: %s\n", device, err.msg);
        return 1;
    }
    if (!self_test) {
        pp_error e2;
        pp_backend *bad = NULL;
        tcase c = {.name = "cuda:N out of range is refused"};
        if (pp_backend_cuda_create(ndev, &bad, &e2) == PP_ERR_DEVICE && !bad && strstr(e2.msg, "cuda:")) {
            report(&c, "ok", "%s", e2.msg);
            n_pass++;
        } else {
            report(&c, "FAIL", "cuda:%d was accepted or gave no message", ndev);
            n_fail++;
            pp_backend_destroy(bad);
        }
    }
    eltwise_cases();
    nn_cases();
    data_cases();
    if (gpu->ops->capture_begin) graph_cases();
    if (strcmp(gpu->ops->kind, "cuda") == 0) { /* the GPU, or the emulator */
        precision_cases();
        format_cases();
        fallback_cases();
    }
    ordering_case();
    if (!self_test) peer_case(ndev);
    if (g_stream) gpu->ops->stream_destroy(gpu, g_stream);
    pp_backend_destroy(gpu);
    printf("%d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
    return n_fail ? 1 : 0;
}

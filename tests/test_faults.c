/* test_faults.c: every allocation of an operation, made to fail in turn.
 *
 * For n = 1, 2, 3, ... the n-th pp_malloc / pp_calloc / pp_realloc from now is
 * armed to fail (pp_fault_arm_alloc) and the operation is run from scratch
 * (load a graph.bin, build the graph, create and run an engine, import an
 * ONNX model, read a .npy). Each time the armed allocation was reached:
 *   - the operation returns PP_ERR_NOMEM, with a message naming the bytes (or
 *     the count of things) it could not allocate, or it succeeds because the
 *     allocation was optional;
 *   - it leaks nothing (the suite runs under ASan's leak checker in
 *     `make test SANITIZE=1`; each operation frees all it made before returning);
 *   - disarmed, the same operation then succeeds, with the right values: a
 *     failure leaves no damage behind.
 * The loop ends at the first n the operation never reaches. Only allocations
 * through pp_malloc / pp_calloc / pp_realloc are injectable: that is the
 * contract (loader/error.h).
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "converter/checkpoint.h"
#include "converter/convert.h"
#include "converter/onnx.h"
#include "engine/exec.h"
#include "engine/graph.h"
#include "include/ppengine.h"
#include "loader/error.h"
#include "loader/model.h"
#include "loader/npy.h"
#include "support/small_graphs.h"

static char *path_of(const char *rel) {
    static char buf[4][1024];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 1024, "%s/%s", PP_SOURCE_DIR, rel);
    return p;
}

static void *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc((size_t)n + 1);
    cr_assert(p);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return p;
}

/* ---- the injection loop -------------------------------------------------------- */

/* After an operation run with pp_fault_arm_alloc(n): was the armed allocation
 * reached? The countdown is either spent (0) or n minus the allocations made;
 * counting down with our own allocations tells which, without an API to read it. */
static int fault_fired(long n) {
    for (long i = 0; i < n; i++) {
        void *p = pp_malloc(1);
        if (!p) return 0;
        pp_free(p);
    }
    return 1;
}

/* The message of an allocation failure says how much: a number of bytes (or of
 * things: "for 12 tensors"), so a user can tell a corrupt size from a real lack. */
static int names_amount(const char *msg) {
    for (const char *p = msg; *p; p++)
        if (isdigit((unsigned char)*p)) return 1;
    return 0;
}

/* LeakSanitizer's on-demand check, when the build has it (SANITIZE=1). A leak
 * found at process exit would not fail the test: Criterion reports a test by
 * its assertions, not by the worker's exit status, so each failure is checked
 * here, right after the operation that should have freed everything. */
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static int leaked(void) { return __lsan_do_recoverable_leak_check ? __lsan_do_recoverable_leak_check() : 0; }

typedef pp_code (*fault_op)(void *ctx, pp_error *err);

/* Runs op with every allocation failing in turn; returns how many there were. */
static long inject_each(const char *what, fault_op op, void *ctx) {
    long n = 1;
    for (;; n++) {
        cr_assert_lt(n, 200000, "%s: more than 200000 allocations", what);
        pp_error err;
        memset(&err, 0, sizeof err);
        pp_fault_arm_alloc(n);
        pp_code rc = op(ctx, &err);
        int fired = fault_fired(n);
        pp_fault_arm_alloc(0);
        if (!fired) {
            cr_assert_eq(rc, PP_OK, "%s with no failed allocation: %s (%s)", what, pp_code_name(rc), err.msg);
            break;
        }
        if (rc != PP_OK) {
            cr_expect_eq(rc, PP_ERR_NOMEM, "%s, allocation %ld failed: %s instead of out of memory: %s", what, n,
                         pp_code_name(rc), err.msg);
            cr_expect(names_amount(err.msg), "%s, allocation %ld failed: the message names no size: '%s'", what, n,
                      err.msg);
        }
        cr_expect(!leaked(), "%s, allocation %ld failed: memory leaked (LeakSanitizer's report above)", what, n);
        memset(&err, 0, sizeof err);
        rc = op(ctx, &err);
        cr_assert_eq(rc, PP_OK, "%s after allocation %ld had failed: %s (%s)", what, n, pp_code_name(rc), err.msg);
    }
    return n - 1;
}

/* ---- the graph.bin under test ---------------------------------------------------- */

static void *mlp_bin;
static size_t mlp_bin_size;
static char mlp_bin_path[256];

/* The test MLP written with pp_graph_write (itself under injection below), then
 * read back, so the loader works on real writer output. */
static void make_mlp_bin(void) {
    pp_graph *g = test_mlp_graph();
    snprintf(mlp_bin_path, sizeof mlp_bin_path, "/tmp/test_faults.%d.bin", (int)getpid());
    pp_error err;
    cr_assert_eq(pp_graph_write(g, mlp_bin_path, &err), PP_OK, "%s", err.msg);
    pp_graph_free(g);
    /* 64-byte aligned, as a mapping would be; the misaligned case is below. */
    size_t n;
    void *raw = read_all(mlp_bin_path, &n);
    cr_assert_eq(posix_memalign(&mlp_bin, 64, n + 64), 0);
    memcpy(mlp_bin, raw, n);
    free(raw);
    mlp_bin_size = n;
}

static void free_mlp_bin(void) {
    free(mlp_bin);
    mlp_bin = NULL;
    unlink(mlp_bin_path);
}

/* ---- operations ------------------------------------------------------------------ */

static pp_code op_load_memory(void *ctx, pp_error *err) {
    const unsigned char *p = (const unsigned char *)mlp_bin + (ctx ? 1 : 0);
    pp_model *m = NULL;
    pp_code rc = pp_model_load_memory(p, mlp_bin_size, 0, &m, err);
    if (!rc) {
        cr_assert_eq(m->n_nodes, 5u);
        pp_model_free(m);
    } else {
        cr_assert_null(m);
    }
    return rc;
}

static pp_code op_load_file(void *ctx, pp_error *err) {
    pp_model *m = NULL;
    pp_code rc = pp_model_load(mlp_bin_path, 0, &m, err);
    if (!rc) pp_model_free(m);
    return rc;
}

static pp_code load_graph(pp_graph **g, pp_error *err) {
    pp_model *m = NULL;
    *g = NULL;
    pp_code rc = pp_model_load_memory(mlp_bin, mlp_bin_size, 0, &m, err);
    if (rc) return rc;
    rc = pp_graph_from_model(&m, g, err);
    if (rc) {
        cr_assert_null(*g);
        pp_model_free(m); /* still ours on failure */
    } else {
        cr_assert_null(m, "pp_graph_from_model took the model");
    }
    return rc;
}

static pp_code op_graph_from_model(void *ctx, pp_error *err) {
    pp_graph *g;
    pp_code rc = load_graph(&g, err);
    if (!rc) {
        cr_assert_eq(g->n_nodes, 5);
        pp_graph_free(g);
    }
    return rc;
}

static pp_code op_graph_write(void *ctx, pp_error *err) {
    pp_graph *g;
    pp_code rc = load_graph(&g, err);
    if (rc) return rc;
    char path[300];
    snprintf(path, sizeof path, "%s.out", mlp_bin_path);
    rc = pp_graph_write(g, path, err);
    pp_graph_free(g);
    if (!rc) {
        size_t n;
        void *b = read_all(path, &n);
        cr_assert(n == mlp_bin_size && memcmp(b, mlp_bin, n) == 0, "write(read(f)) differs from f");
        free(b);
    }
    unlink(path);
    return rc;
}

/* Engine: batch 3 through one device, or through a 2-stage pipeline on two
 * logical CPU devices with micro-batch 2 (boundaries, slots, more threads). The
 * outputs must equal the C reference whenever the run succeeds. */
typedef struct exec_case {
    const char *devices;
    int stages, microbatch;
    int graphs; /* capture and replay; a capture that runs out of memory falls back to launches */
} exec_case;

static void check_outputs(const float *x, const float *probs, const float *h3, int n) {
    float rp[3 * MLP_OUT], rh[3 * MLP_HID];
    test_mlp_reference(n, x, rp, rh);
    for (int i = 0; i < n * MLP_OUT; i++)
        cr_assert(fabsf(probs[i] - rp[i]) <= 1e-5f + 1e-4f * fabsf(rp[i]), "probs[%d] %g vs %g", i, probs[i], rp[i]);
    for (int i = 0; i < n * MLP_HID; i++)
        cr_assert(fabsf(h3[i] - rh[i]) <= 1e-5f + 1e-4f * fabsf(rh[i]), "h3[%d] %g vs %g", i, h3[i], rh[i]);
}

static pp_code op_exec(void *ctx, pp_error *err) {
    const exec_case *c = ctx;
    pp_graph *g;
    pp_code rc = load_graph(&g, err);
    if (rc) return rc;
    pp_exec_options o;
    memset(&o, 0, sizeof o);
    o.devices = c->devices;
    o.stages = c->stages;
    o.microbatch = c->microbatch;
    o.max_batch = 3;
    o.graphs = c->graphs;
    pp_exec *e = NULL;
    rc = pp_exec_create(g, &o, &e, err);
    if (!rc) {
        float *x = test_random_floats(3 * MLP_IN, 7);
        float probs[3 * MLP_OUT], h3[3 * MLP_HID];
        const void *ins[1] = {x};
        void *outs[2] = {probs, h3};
        rc = pp_exec_run(e, 3, ins, outs, err);
        if (!rc) check_outputs(x, probs, h3, 3);
        /* graphs asked for: in use, or given up with a notice saying why */
        if (!rc && c->graphs && !pp_exec_graphs(e))
            cr_assert(pp_exec_notice(e) && strstr(pp_exec_notice(e), "running launch by launch"), "%s",
                      pp_exec_notice(e) ? pp_exec_notice(e) : "no notice");
        free(x);
        pp_exec_free(e);
    } else {
        cr_assert_null(e);
    }
    pp_graph_free(g);
    return rc;
}

/* A run that fails must leave the engine usable: one engine, built without
 * injection, runs at a batch size it has not prepared (which allocates) with the
 * failure armed, then again disarmed. */
typedef struct run_ctx {
    pp_exec *e;
    int64_t batch;
} run_ctx;

static pp_code op_run_only(void *ctx, pp_error *err) {
    run_ctx *r = ctx;
    int n = (int)r->batch;
    float *x = test_random_floats((size_t)n * MLP_IN, 11);
    float *probs = malloc(sizeof(float) * (size_t)n * MLP_OUT), *h3 = malloc(sizeof(float) * (size_t)n * MLP_HID);
    cr_assert(probs && h3);
    const void *ins[1] = {x};
    void *outs[2] = {probs, h3};
    pp_code rc = pp_exec_run(r->e, r->batch, ins, outs, err);
    if (!rc) check_outputs(x, probs, h3, n < 3 ? n : 3);
    free(x);
    free(probs);
    free(h3);
    return rc;
}

/* The public API: net, options, engine, run; statuses carry the codes. */
static pp_code op_public_api(void *ctx, pp_error *err) {
    pp_net *net = NULL;
    pp_options *opt = NULL;
    pp_engine *eng = NULL;
    pp_status *st = pp_net_load_memory(mlp_bin, mlp_bin_size, &net);
    if (!st) st = pp_options_create(&opt);
    if (!st) st = pp_options_set(opt, "devices", "cpu");
    if (!st) st = pp_options_set(opt, "max_batch", "2");
    if (!st) st = pp_engine_create(net, opt, &eng);
    if (!st) {
        float *x = test_random_floats(2 * MLP_IN, 5);
        float probs[2 * MLP_OUT], h3[2 * MLP_HID];
        const void *ins[1] = {x};
        void *outs[2] = {probs, h3};
        st = pp_engine_run(eng, 2, ins, outs);
        if (!st) check_outputs(x, probs, h3, 2);
        free(x);
    }
    pp_code rc = (pp_code)pp_status_get_code(st);
    if (st) pp_error_set(err, rc, "%s", pp_status_message(st));
    pp_status_free(st);
    pp_engine_free(eng);
    pp_options_free(opt);
    pp_net_free(net);
    return rc;
}

/* ONNX: import, fold, prune, infer (pp_convert_onnx_graph), then the whole
 * conversion to a file (pp_convert), on the committed MLP export. */
static pp_code op_onnx_graph(void *ctx, pp_error *err) {
    pp_onnx *h = NULL;
    pp_graph *g = NULL;
    pp_convert_stats st;
    pp_code rc = pp_convert_onnx_graph(path_of("tests/fixtures/models/mlp.onnx"), NULL, &h, &g, &st, err);
    if (!rc) {
        cr_assert(g->n_nodes > 0);
        pp_graph_free(g);
        pp_onnx_free(h);
    } else {
        cr_assert(!h && !g);
    }
    return rc;
}

static pp_code op_onnx_memory(void *ctx, pp_error *err) {
    size_t n;
    void *data = read_all(path_of("tests/fixtures/models/mlp.onnx"), &n);
    pp_onnx *h = NULL;
    pp_graph *g = NULL;
    pp_code rc = pp_onnx_import_memory(data, n, NULL, NULL, &h, &g, err);
    if (!rc) {
        pp_graph_free(g);
        pp_onnx_free(h);
    }
    free(data);
    return rc;
}

static pp_code op_convert(void *ctx, pp_error *err) {
    char out[300];
    snprintf(out, sizeof out, "/tmp/test_faults.%d.convert.bin", (int)getpid());
    pp_convert_options o;
    memset(&o, 0, sizeof o);
    o.input = path_of("tests/fixtures/models/mlp.onnx");
    o.output = out;
    pp_code rc = pp_convert(&o, NULL, err);
    int exists = access(out, F_OK) == 0;
    if (rc) cr_assert(!exists, "a failed conversion left %s behind", out);
    unlink(out);
    return rc;
}

static pp_code op_npy(void *ctx, pp_error *err) {
    pp_npy a;
    pp_code rc = pp_npy_read(path_of("tests/fixtures/npy/f32_2x3.npy"), &a, err);
    if (rc) {
        cr_assert_null(a.data);
        return rc;
    }
    cr_assert(a.dtype == PP_DTYPE_F32 && a.rank == 2 && a.dims[0] == 2 && a.dims[1] == 3);
    char path[300];
    snprintf(path, sizeof path, "/tmp/test_faults.%d.npy", (int)getpid());
    rc = pp_npy_write(path, a.dtype, a.rank, a.dims, a.data, err);
    pp_npy b;
    if (!rc) {
        size_t n;
        void *raw = read_all(path, &n);
        rc = pp_npy_read_memory(raw, n, "round trip", &b, err);
        free(raw);
        if (!rc) {
            cr_assert(b.nbytes == a.nbytes && memcmp(a.data, b.data, a.nbytes) == 0);
            pp_npy_free(&b);
        }
    }
    unlink(path);
    pp_npy_free(&a);
    return rc;
}

/* A torch.save checkpoint: zip, safe unpickler, state dict (converter/checkpoint.h). */
static pp_code op_checkpoint(void *ctx, pp_error *err) {
    pp_ckpt *c = NULL;
    pp_code rc = pp_ckpt_open(path_of("tests/fixtures/models/mlp.pt"), &c, err);
    if (!rc) {
        cr_assert(c->n > 0);
        pp_ckpt_free(c);
    } else {
        cr_assert_null(c);
    }
    return rc;
}

/* ---- tests --------------------------------------------------------------------- */

TestSuite(faults, .init = make_mlp_bin, .fini = free_mlp_bin);

Test(faults, load_memory_aligned) { cr_assert_gt(inject_each("pp_model_load_memory", op_load_memory, NULL), 0); }

Test(faults, load_memory_misaligned) {
    /* The misaligned buffer is copied first: one more allocation to fail. */
    memmove((char *)mlp_bin + 1, mlp_bin, mlp_bin_size);
    cr_assert_gt(inject_each("pp_model_load_memory (misaligned)", op_load_memory, (void *)1), 0);
}

Test(faults, load_file) { inject_each("pp_model_load", op_load_file, NULL); }

Test(faults, graph_from_model) { inject_each("pp_graph_from_model", op_graph_from_model, NULL); }

Test(faults, graph_write) { inject_each("pp_graph_write", op_graph_write, NULL); }

Test(faults, exec_one_device) {
    exec_case c = {"cpu", 1, 0, 0};
    inject_each("pp_exec on cpu", op_exec, &c);
}

Test(faults, exec_pipeline) {
    exec_case c = {"cpu:0,cpu:1", 2, 2, 0};
    inject_each("pp_exec 2-stage pipeline", op_exec, &c);
}

Test(faults, exec_pipeline_graphs) {
    exec_case c = {"cpu:0,cpu:1", 2, 2, 1};
    inject_each("pp_exec 2-stage pipeline with graphs", op_exec, &c);
}

Test(faults, run_leaves_engine_usable) {
    pp_graph *g;
    pp_error err;
    cr_assert_eq(load_graph(&g, &err), PP_OK, "%s", err.msg);
    pp_exec_options o;
    memset(&o, 0, sizeof o);
    o.devices = "cpu:0,cpu:1";
    o.stages = 2;
    o.max_batch = 4;
    o.microbatch = 4;
    pp_exec *e;
    cr_assert_eq(pp_exec_create(g, &o, &e, &err), PP_OK, "%s", err.msg);
    /* Batch 7 = one micro-batch of 4 and a remainder of 3: the 3 is a new size. */
    run_ctx r = {e, 7};
    inject_each("pp_exec_run at a new batch size", op_run_only, &r);
    pp_exec_free(e);
    pp_graph_free(g);
}

Test(faults, public_api) { inject_each("public API net/engine/run", op_public_api, NULL); }

Test(faults, onnx_convert_graph) { cr_assert_gt(inject_each("pp_convert_onnx_graph", op_onnx_graph, NULL), 0); }

Test(faults, onnx_import_memory) { inject_each("pp_onnx_import_memory", op_onnx_memory, NULL); }

Test(faults, onnx_convert_to_file) { inject_each("pp_convert", op_convert, NULL); }

Test(faults, checkpoint) { cr_assert_gt(inject_each("pp_ckpt_open (torch zip)", op_checkpoint, NULL), 0); }

Test(faults, npy) { cr_assert_gt(inject_each("pp_npy read/write", op_npy, NULL), 0); }

/* The injection itself: armed, the n-th allocation fails once; disarmed, none. */
Test(faults, arming) {
    pp_fault_arm_alloc(2);
    void *a = pp_malloc(8), *b = pp_malloc(8), *c = pp_calloc(2, 4);
    cr_assert(a && !b && c);
    pp_free(a);
    pp_free(c);
    pp_fault_arm_alloc(1);
    cr_assert_null(pp_realloc(NULL, 4));
    pp_fault_arm_alloc(3);
    pp_fault_arm_alloc(0);
    for (int i = 0; i < 5; i++) {
        void *p = pp_malloc(1);
        cr_assert(p);
        pp_free(p);
    }
}

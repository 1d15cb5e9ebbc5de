/* The ONNX importer (converter/onnx.h, convert.h): every fixture model imports
 * with a symbolic batch and computes what PyTorch computed (through the
 * reference interpreter, at two batch sizes); malformed files are refused
 * cleanly wherever they are cut or flipped; unsupported ops are listed all at
 * once; shape chains, constants, external data, opsets and dim_params behave. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "converter/convert.h"
#include "converter/fold.h"
#include "converter/interp.h"
#include "converter/onnx.h"
#include "loader/npy.h"

#ifndef PP_SOURCE_DIR
#define PP_SOURCE_DIR "."
#endif

static char *path_of(const char *rel) {
    static char buf[4][1024];
    static int k;
    char *b = buf[k++ & 3];
    snprintf(b, 1024, "%s/%s", PP_SOURCE_DIR, rel);
    return b;
}

static void *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc((size_t)n);
    cr_assert(p);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return p;
}

static int count_op(const pp_graph *g, pp_op op) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += !g->nodes[i].dead && g->nodes[i].op == op;
    return n;
}

static int live(const pp_graph *g) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += !g->nodes[i].dead;
    return n;
}

/* ---- the fixture models --------------------------------------------------------- */

typedef struct expect_op {
    pp_op op;
    int count;
} expect_op;

typedef struct fixture {
    const char *name;
    int nodes;
    const char *in_shape, *out_shape;
    expect_op ops[6];
} fixture;

static const fixture fixtures[] = {
    {"mlp", 9, "(N, 32)", "(N, 10)", {{PP_OP_GEMM, 3}, {PP_OP_ERF, 1}, {PP_OP_RELU, 1}}},
    {"resnet",
     25,
     "(N, 3, 32, 32)",
     "(N, 10)",
     {{PP_OP_CONV, 10}, {PP_OP_RELU, 8}, {PP_OP_ADD, 3}, {PP_OP_MAXPOOL, 1}}},
    {"resnet_bn", 35, "(N, 3, 32, 32)", "(N, 10)", {{PP_OP_CONV, 10}, {PP_OP_BATCHNORM, 10}}},
    {"mobilenet", 42, "(N, 3, 32, 32)", "(N, 10)", {{PP_OP_CONV, 16}, {PP_OP_CLIP, 7}, {PP_OP_HARDSIGMOID, 5}}},
    {"efficientnet", 50, "(N, 3, 32, 32)", "(N, 10)", {{PP_OP_SIGMOID, 13}, {PP_OP_GLOBAL_AVGPOOL, 4}}},
    {"densenet", 44, "(N, 3, 32, 32)", "(N, 10)", {{PP_OP_CONCAT, 7}, {PP_OP_PAD, 1}, {PP_OP_AVGPOOL, 1}}},
    /* shape chains gone: no Shape, Gather, Cast or Unsqueeze left */
    {"shufflenet",
     40,
     "(N, 3, 32, 32)",
     "(N, 10)",
     {{PP_OP_RESHAPE, 6},
      {PP_OP_SLICE, 4},
      {PP_OP_SHAPE, 0},
      {PP_OP_GATHER, 0},
      {PP_OP_CAST, 0},
      {PP_OP_UNSQUEEZE, 0}}},
    {"vit",
     105,
     "(N, 3, 32, 32)",
     "(N, 10)",
     {{PP_OP_RESHAPE, 5}, {PP_OP_SOFTMAX, 2}, {PP_OP_SHAPE, 0}, {PP_OP_CONCAT, 0}}},
    {"gpt",
     114,
     "(N, 16)",
     "(N, 16, 64)",
     {{PP_OP_WHERE, 2}, {PP_OP_RESHAPE, 8}, {PP_OP_GATHER, 1}, {PP_OP_RANGE, 0}, {PP_OP_SHAPE, 0}, {PP_OP_EQUAL, 0}}},
};

/* Runs g through the interpreter on NAME.input{suffix}.npy and compares with
 * NAME.output{suffix}.npy (|out - ref| <= 1e-4 + 1e-3 |ref|). */
static void check_values(const pp_graph *g, const char *name, const char *suffix) {
    char p[512];
    pp_npy in, ref;
    pp_error err;
    snprintf(p, sizeof p, "tests/fixtures/models/%s.input%s.npy", name, suffix);
    cr_assert_eq(pp_npy_read(path_of(p), &in, &err), PP_OK, "%s", err.msg);
    snprintf(p, sizeof p, "tests/fixtures/models/%s.output%s.npy", name, suffix);
    cr_assert_eq(pp_npy_read(path_of(p), &ref, &err), PP_OK, "%s", err.msg);
    const void *inputs[1] = {in.data};
    void *outputs[1];
    pp_shape os[1];
    cr_assert_eq(pp_interp_run(g, in.dims[0], inputs, outputs, os, &err), PP_OK, "%s: %s", name, err.msg);
    cr_assert_eq(os[0].rank, ref.rank, "%s", name);
    for (int d = 0; d < ref.rank; d++) cr_assert_eq(os[0].dims[d], ref.dims[d], "%s axis %d", name, d);
    const float *o = outputs[0], *r = ref.data;
    size_t n = ref.nbytes / 4;
    for (size_t i = 0; i < n; i++)
        cr_assert(fabsf(o[i] - r[i]) <= 1e-4f + 1e-3f * fabsf(r[i]), "%s%s [%zu]: %g vs %g", name, suffix, i,
                  (double)o[i], (double)r[i]);
    pp_free(outputs[0]);
    pp_npy_free(&in);
    pp_npy_free(&ref);
}

Test(fixtures, import_shapes_ops_and_values, .timeout = 300) {
    for (size_t k = 0; k < sizeof fixtures / sizeof fixtures[0]; k++) {
        const fixture *fx = &fixtures[k];
        char rel[256], buf[128];
        snprintf(rel, sizeof rel, "tests/fixtures/models/%s.onnx", fx->name);
        pp_onnx *h;
        pp_graph *g;
        pp_error err = {0};
        /* The importer alone: graph passes added to the pipeline later do not
         * change what is checked here. */
        cr_assert_eq(pp_onnx_import(path_of(rel), NULL, &h, &g, &err), PP_OK, "%s: %s", fx->name, err.msg);
        cr_assert_eq(pp_onnx_get_info(h)->opset, 13);
        cr_assert_eq(g->n_inputs, 1, "%s", fx->name);
        cr_assert_eq(g->n_outputs, 1, "%s", fx->name);
        const pp_tensor *in = &g->tensors[g->inputs[0]], *out = &g->tensors[g->outputs[0]];
        cr_assert_str_eq(in->name, "input");
        cr_assert_str_eq(out->name, "output");
        cr_assert_str_eq(pp_tensor_shape_str(in, buf, sizeof buf), fx->in_shape, "%s", fx->name);
        cr_assert_str_eq(pp_tensor_shape_str(out, buf, sizeof buf), fx->out_shape, "%s", fx->name);
        cr_assert_eq(out->dtype, PP_DTYPE_F32);
        cr_assert_eq(in->dtype, strcmp(fx->name, "gpt") ? PP_DTYPE_F32 : PP_DTYPE_I64);
        for (int j = 0; j < 6 && fx->ops[j].op; j++)
            cr_assert_eq(count_op(g, fx->ops[j].op), fx->ops[j].count, "%s: %s", fx->name, pp_op_name(fx->ops[j].op));
        cr_assert_eq(live(g), fx->nodes, "%s", fx->name);
        check_values(g, fx->name, "");
        check_values(g, fx->name, "_b3");
        pp_graph_free(g);
        pp_onnx_free(h);
    }
}

Test(fixtures, shufflenet_reshape_keeps_the_batch) {
    pp_onnx *h;
    pp_graph *g;
    pp_error err;
    cr_assert_eq(pp_onnx_import(path_of("tests/fixtures/models/shufflenet.onnx"), NULL, &h, &g, &err), PP_OK, "%s",
                 err.msg);
    int seen = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const pp_node *n = &g->nodes[i];
        if (n->dead || n->op != PP_OP_RESHAPE) continue;
        uint32_t cnt;
        const int64_t *s = pp_node_ints(n, "shape", &cnt);
        cr_assert(s && cnt >= 4);
        cr_assert_eq(s[0], 0, "the batch axis is copied, not baked in (%s)", n->name);
        if (!strcmp(n->name, "/stage/stage.0/Reshape")) {
            int64_t want[] = {0, 2, 24, 8, 8};
            cr_assert_eq(cnt, 5);
            for (int d = 0; d < 5; d++) cr_assert_eq(s[d], want[d]);
            seen = 1;
        }
    }
    cr_assert(seen);
    pp_graph_free(g);
    pp_onnx_free(h);
}

Test(fixtures, digits_example) {
    pp_onnx *h;
    pp_graph *g;
    pp_error err;
    pp_convert_stats st;
    cr_assert_eq(pp_convert_onnx_graph(path_of("examples/digits/digits.onnx"), NULL, &h, &g, &st, &err), PP_OK, "%s",
                 err.msg);
    char buf[128];
    cr_assert_str_eq(pp_tensor_shape_str(&g->tensors[g->inputs[0]], buf, sizeof buf), "(N, 1, 8, 8)");
    cr_assert_str_eq(pp_tensor_shape_str(&g->tensors[g->outputs[0]], buf, sizeof buf), "(N, 10)");
    cr_assert_eq(count_op(g, PP_OP_CONV), 2);
    cr_assert_eq(count_op(g, PP_OP_GEMM), 2);
    /* The example's own check: logits for the test digits match torch's. */
    pp_npy x, ref;
    cr_assert_eq(pp_npy_read(path_of("examples/digits/test_x.npy"), &x, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_npy_read(path_of("examples/digits/torch_logits.npy"), &ref, &err), PP_OK, "%s", err.msg);
    const void *inputs[1] = {x.data};
    void *outputs[1];
    pp_shape os[1];
    cr_assert_eq(pp_interp_run(g, x.dims[0], inputs, outputs, os, &err), PP_OK, "%s", err.msg);
    const float *o = outputs[0], *r = ref.data;
    for (size_t i = 0; i < ref.nbytes / 4; i++) cr_assert(fabsf(o[i] - r[i]) <= 1e-4f + 1e-3f * fabsf(r[i]));
    pp_free(outputs[0]);
    pp_npy_free(&x);
    pp_npy_free(&ref);
    pp_graph_free(g);
    pp_onnx_free(h);
}

/* ---- malformed bytes ------------------------------------------------------------- */

static void import_bytes_expect_clean(const uint8_t *bytes, size_t n, int must_fail, const char *what) {
    uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees any overread */
    cr_assert(copy);
    memcpy(copy, bytes, n);
    pp_onnx *h = (pp_onnx *)1;
    pp_graph *g = (pp_graph *)1;
    pp_error err = {0};
    pp_code rc = pp_onnx_import_memory(copy, n, NULL, NULL, &h, &g, &err);
    if (rc) {
        cr_assert_null(h, "%s", what);
        cr_assert_null(g, "%s", what);
        cr_assert(err.msg[0], "%s: an error without a message", what);
        cr_assert_null(strchr(err.msg, '\n'), "%s: a multi-line message", what);
        cr_assert_eq(err.code, rc);
    } else {
        cr_assert(!must_fail, "%s: accepted", what);
        pp_graph_free(g);
        pp_onnx_free(h);
    }
    free(copy);
}

Test(malformed, truncated_everywhere, .timeout = 300) {
    size_t n;
    uint8_t *m = read_all(path_of("tests/fixtures/models/mlp.onnx"), &n);
    char what[64];
    for (size_t len = 0; len < n; len += (len < 600 || len > n - 600) ? 1 : 97) {
        snprintf(what, sizeof what, "mlp.onnx cut at %zu of %zu", len, n);
        /* A model cut anywhere loses its graph's tail or its opset: refused. */
        import_bytes_expect_clean(m, len, 1, what);
    }
    free(m);
}

Test(malformed, flipped_bytes, .timeout = 300) {
    size_t n;
    uint8_t *m = read_all(path_of("tests/fixtures/models/shufflenet.onnx"), &n);
    uint8_t *w = malloc(n);
    char what[64];
    unsigned seed = 12345;
    for (int trial = 0; trial < 1500; trial++) {
        memcpy(w, m, n);
        int flips = 1 + trial % 3;
        for (int f = 0; f < flips; f++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % n;
            seed = seed * 1103515245u + 12345u;
            w[pos] ^= (uint8_t)(1u << ((seed >> 16) % 8));
            if (trial % 5 == 0) w[pos] = (uint8_t)(seed >> 24);
        }
        snprintf(what, sizeof what, "shufflenet.onnx trial %d", trial);
        import_bytes_expect_clean(w, n, 0, what);
    }
    free(w);
    free(m);
}

Test(malformed, not_onnx) {
    import_bytes_expect_clean((const uint8_t *)"PPGRAPH\0garbage", 15, 1, "a graph.bin");
    import_bytes_expect_clean((const uint8_t *)"\x08", 1, 1, "one byte");
    pp_onnx *h;
    pp_graph *g;
    pp_error err;
    cr_assert_eq(pp_onnx_import("/nonexistent/x.onnx", NULL, &h, &g, &err), PP_ERR_IO);
    cr_assert(strstr(err.msg, "/nonexistent/x.onnx"), "%s", err.msg);
}

/* ---- hand-built models --------------------------------------------------------------- */

typedef struct pb {
    uint8_t *b;
    size_t n, cap;
} pb;

static void pb_raw(pb *o, const void *p, size_t n) {
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2 + 64;
        o->b = realloc(o->b, o->cap);
        cr_assert(o->b);
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}
static void pb_varint(pb *o, uint64_t v) {
    do {
        uint8_t c = v & 0x7F;
        v >>= 7;
        c |= v ? 0x80 : 0;
        pb_raw(o, &c, 1);
    } while (v);
}
static void pb_int(pb *o, int field, int64_t v) {
    pb_varint(o, (uint64_t)field << 3);
    pb_varint(o, (uint64_t)v);
}
static void pb_bytes(pb *o, int field, const void *p, size_t n) {
    pb_varint(o, ((uint64_t)field << 3) | 2);
    pb_varint(o, n);
    pb_raw(o, p, n);
}
static void pb_str(pb *o, int field, const char *s) { pb_bytes(o, field, s, strlen(s)); }
static void pb_msg(pb *o, int field, pb *sub) {
    pb_bytes(o, field, sub->b, sub->n);
    free(sub->b);
    memset(sub, 0, sizeof *sub);
}
static void pb_float(pb *o, int field, float f) {
    pb_varint(o, ((uint64_t)field << 3) | 5);
    pb_raw(o, &f, 4);
}

/* ValueInfoProto: elem type, dims (a dim < 0 is the dim_param "N"). */
static void add_vinfo(pb *graph, int field, const char *name, int elem, int rank, const int64_t *dims,
                      const char *param) {
    pb vi = {0}, tp = {0}, tt = {0}, sh = {0};
    for (int i = 0; i < rank; i++) {
        pb d = {0};
        if (dims[i] < 0) pb_str(&d, 2, param ? param : "N");
        else pb_int(&d, 1, dims[i]);
        pb_msg(&sh, 1, &d);
    }
    pb_int(&tt, 1, elem);
    pb_msg(&tt, 2, &sh);
    pb_msg(&tp, 1, &tt);
    pb_str(&vi, 1, name);
    pb_msg(&vi, 2, &tp);
    pb_msg(graph, field, &vi);
}

static void tensor_proto(pb *t, const char *name, int elem, int rank, const int64_t *dims, const void *raw,
                         size_t nbytes) {
    for (int i = 0; i < rank; i++) pb_int(t, 1, dims[i]);
    pb_int(t, 2, elem);
    if (name) pb_str(t, 8, name);
    if (raw) pb_bytes(t, 9, raw, nbytes);
}

static void add_init(pb *graph, const char *name, int elem, int rank, const int64_t *dims, const void *raw,
                     size_t nbytes) {
    pb t = {0};
    tensor_proto(&t, name, elem, rank, dims, raw, nbytes);
    pb_msg(graph, 5, &t);
}

typedef struct attr_spec {
    const char *name;
    int type; /* 1 float, 2 int, 3 string, 4 tensor (one float f), 7 ints */
    double f;
    int64_t i;
    const char *s;
    const int64_t *ints;
    int n;
} attr_spec;

static void add_node(pb *graph, const char *op, const char *name, const char *domain, const char *const *ins, int n_in,
                     const char *const *outs, int n_out, const attr_spec *attrs, int n_attrs) {
    pb nd = {0};
    for (int i = 0; i < n_in; i++) pb_str(&nd, 1, ins[i]);
    for (int i = 0; i < n_out; i++) pb_str(&nd, 2, outs[i]);
    if (name) pb_str(&nd, 3, name);
    pb_str(&nd, 4, op);
    for (int i = 0; i < n_attrs; i++) {
        pb a = {0};
        pb_str(&a, 1, attrs[i].name);
        switch (attrs[i].type) {
        case 1: pb_float(&a, 2, (float)attrs[i].f); break;
        case 2: pb_int(&a, 3, attrs[i].i); break;
        case 3: pb_str(&a, 4, attrs[i].s); break;
        case 7:
            for (int k = 0; k < attrs[i].n; k++) pb_int(&a, 8, attrs[i].ints[k]);
            break;
        case 4: { /* a one-element FLOAT tensor holding f */
            pb t = {0};
            float v = (float)attrs[i].f;
            int64_t one = 1;
            tensor_proto(&t, NULL, 1, 1, &one, &v, 4);
            pb_msg(&a, 5, &t);
            break;
        }
        }
        pb_int(&a, 20, attrs[i].type);
        pb_msg(&nd, 5, &a);
    }
    if (domain) pb_str(&nd, 7, domain);
    pb_msg(graph, 1, &nd);
}

/* ModelProto around a graph; extra_domain adds a second opset_import. */
static pb finish_model(pb *graph, int64_t opset, const char *extra_domain) {
    pb m = {0}, os = {0};
    pb_int(&m, 1, 8);
    pb_str(&m, 2, "test_onnx");
    pb_str(&m, 3, "1.0");
    pb_msg(&m, 7, graph);
    pb_str(&os, 1, "");
    pb_int(&os, 2, opset);
    pb_msg(&m, 8, &os);
    if (extra_domain) {
        pb_str(&os, 1, extra_domain);
        pb_int(&os, 2, 1);
        pb_msg(&m, 8, &os);
    }
    return m;
}

static pp_code import_pb(pb *m, const char *dir, const pp_onnx_options *opt, pp_onnx **h, pp_graph **g, pp_error *err) {
    pp_code rc = pp_onnx_import_memory(m->b, m->n, dir, opt, h, g, err);
    return rc;
}

#define S(...) ((const char *const[]){__VA_ARGS__})

Test(handmade, unsupported_ops_listed_at_once) {
    pb g = {0};
    int64_t d[] = {1, 4};
    add_vinfo(&g, 11, "x", 1, 2, d, NULL);
    add_node(&g, "Foo", "foo1", NULL, S("x"), 1, S("a"), 1, NULL, 0);
    add_node(&g, "Relu", "relu", NULL, S("a"), 1, S("b"), 1, NULL, 0);
    add_node(&g, "Foo", "foo2", NULL, S("b"), 1, S("c"), 1, NULL, 0);
    add_node(&g, "Bar", "bar1", NULL, S("c"), 1, S("e"), 1, NULL, 0);
    add_node(&g, "FusedThing", "ms1", "com.microsoft", S("e"), 1, S("y"), 1, NULL, 0);
    add_vinfo(&g, 12, "y", 1, 2, d, NULL);
    pb m = finish_model(&g, 13, "com.microsoft");
    pp_onnx *h;
    pp_graph *gr;
    pp_error err = {0};
    cr_assert_eq(import_pb(&m, NULL, NULL, &h, &gr, &err), PP_ERR_UNSUPPORTED);
    cr_assert(strstr(err.msg, "3 unsupported ONNX op types (4 nodes)"), "%s", err.msg);
    cr_assert(strstr(err.msg, "Foo x2 (first 'foo1')"), "%s", err.msg);
    cr_assert(strstr(err.msg, "Bar x1 (first 'bar1')"), "%s", err.msg);
    cr_assert(strstr(err.msg, "com.microsoft::FusedThing x1 (first 'ms1')"), "%s", err.msg);
    free(m.b);
}

Test(handmade, opsets_refused_by_number) {
    int64_t d[] = {1, 4};
    for (int k = 0; k < 2; k++) {
        int64_t opset = k ? 22 : 0;
        pb g = {0};
        add_vinfo(&g, 11, "x", 1, 2, d, NULL);
        add_node(&g, "Relu", "r", NULL, S("x"), 1, S("y"), 1, NULL, 0);
        add_vinfo(&g, 12, "y", 1, 2, d, NULL);
        pb m = finish_model(&g, opset, NULL);
        pp_onnx *h;
        pp_graph *gr;
        pp_error err = {0};
        cr_assert_eq(import_pb(&m, NULL, NULL, &h, &gr, &err), PP_ERR_UNSUPPORTED);
        char want[64];
        snprintf(want, sizeof want, "opset %lld", (long long)opset);
        cr_assert(strstr(err.msg, want), "%s", err.msg);
        free(m.b);
    }
}

/* x (N, 4, 6) → Shape → Gather 0 → Unsqueeze → Concat [N, -1] → Reshape → y (N, 24),
 * and the same N used through Div/Mul and Equal/Where as torch writes it. */
Test(handmade, batch_shape_chain_folds) {
    pb g = {0};
    int64_t dx[] = {-1, 4, 6}, dy[] = {-1, 24};
    add_vinfo(&g, 11, "x", 1, 3, dx, "batch");
    int64_t zero = 0, minus1 = -1, axes0 = 0, two = 2;
    int64_t one_d[] = {1};
    add_init(&g, "idx0", 7, 0, NULL, &zero, 8);
    add_init(&g, "m1", 7, 1, one_d, &minus1, 8);
    add_init(&g, "ax", 7, 1, one_d, &axes0, 8);
    add_init(&g, "two", 7, 0, NULL, &two, 8);
    add_node(&g, "Shape", "shape", NULL, S("x"), 1, S("s"), 1, NULL, 0);
    add_node(&g, "Gather", "gather", NULL, S("s", "idx0"), 2, S("n"), 1,
             (attr_spec[]){{.name = "axis", .type = 2, .i = 0}}, 1);
    add_node(&g, "Mul", "mul", NULL, S("n", "two"), 2, S("n2"), 1, NULL, 0);
    add_node(&g, "Div", "div", NULL, S("n2", "two"), 2, S("n1"), 1, NULL, 0);
    add_node(&g, "Unsqueeze", "unsq", NULL, S("n1", "ax"), 2, S("nv"), 1, NULL, 0);
    add_node(&g, "Concat", "concat", NULL, S("nv", "m1"), 2, S("shape"), 1,
             (attr_spec[]){{.name = "axis", .type = 2, .i = 0}}, 1);
    /* Equal(shape, -1) is decidable (N >= 1): [false, true]; Where picks. */
    add_node(&g, "Equal", "eq", NULL, S("shape", "m1"), 2, S("isneg"), 1, NULL, 0);
    add_node(&g, "Where", "where", NULL, S("isneg", "m1", "shape"), 3, S("shape2"), 1, NULL, 0);
    add_node(&g, "Reshape", "reshape", NULL, S("x", "shape2"), 2, S("y"), 1, NULL, 0);
    add_vinfo(&g, 12, "y", 1, 2, dy, "batch");
    pb m = finish_model(&g, 13, NULL);
    pp_onnx *h;
    pp_graph *gr;
    pp_error err = {0};
    cr_assert_eq(import_pb(&m, NULL, NULL, &h, &gr, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(live(gr), 1);
    const pp_node *n = NULL;
    for (int i = 0; i < gr->n_nodes; i++)
        if (!gr->nodes[i].dead) n = &gr->nodes[i];
    cr_assert_eq(n->op, PP_OP_RESHAPE);
    uint32_t cnt;
    const int64_t *s = pp_node_ints(n, "shape", &cnt);
    cr_assert_eq(cnt, 2);
    cr_assert_eq(s[0], 0);
    cr_assert_eq(s[1], -1);
    char buf[64];
    cr_assert_str_eq(pp_tensor_shape_str(&gr->tensors[gr->outputs[0]], buf, sizeof buf), "(N, 24)");
    pp_graph_free(gr);
    pp_onnx_free(h);
    free(m.b);
}

Test(handmade, batch_times_constant_reshape) {
    /* x (N, 4, 6) → Reshape to [N*4, 6] computed from the shape: -1 goes to the
     * batch-dependent element. */
    pb g = {0};
    int64_t dx[] = {-1, 4, 6}, dy[] = {-1, 6};
    add_vinfo(&g, 11, "x", 1, 3, dx, NULL);
    int64_t i0[] = {0}, i1[] = {1}, i2[] = {2}, one_d[] = {1};
    add_init(&g, "i0", 7, 1, one_d, i0, 8);
    add_init(&g, "i1", 7, 1, one_d, i1, 8);
    add_init(&g, "i2", 7, 1, one_d, i2, 8);
    add_node(&g, "Shape", "shape", NULL, S("x"), 1, S("s"), 1, NULL, 0);
    add_node(&g, "Gather", "g0", NULL, S("s", "i0"), 2, S("a"), 1, NULL, 0);
    add_node(&g, "Gather", "g1", NULL, S("s", "i1"), 2, S("b"), 1, NULL, 0);
    add_node(&g, "Gather", "g2", NULL, S("s", "i2"), 2, S("c"), 1, NULL, 0);
    add_node(&g, "Mul", "mul", NULL, S("a", "b"), 2, S("ab"), 1, NULL, 0);
    add_node(&g, "Concat", "concat", NULL, S("ab", "c"), 2, S("shape"), 1,
             (attr_spec[]){{.name = "axis", .type = 2, .i = 0}}, 1);
    add_node(&g, "Reshape", "reshape", NULL, S("x", "shape"), 2, S("y"), 1, NULL, 0);
    add_vinfo(&g, 12, "y", 1, 2, dy, NULL);
    pb m = finish_model(&g, 13, NULL);
    pp_onnx *h;
    pp_graph *gr;
    pp_error err = {0};
    cr_assert_eq(import_pb(&m, NULL, NULL, &h, &gr, &err), PP_OK, "%s", err.msg);
    char buf[64];
    const pp_tensor *y = &gr->tensors[gr->outputs[0]];
    cr_assert_str_eq(pp_tensor_shape_str(y, buf, sizeof buf), "(4N, 6)");
    /* And it computes: batch 3 → (12, 6), the same bytes. */
    float xin[3 * 24];
    for (int i = 0; i < 72; i++) xin[i] = (float)i;
    const void *ins[1] = {xin};
    void *outs[1];
    pp_shape os[1];
    cr_assert_eq(pp_interp_run(gr, 3, ins, outs, os, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(os[0].dims[0], 12);
    cr_assert_eq(memcmp(outs[0], xin, sizeof xin), 0);
    pp_free(outs[0]);
    pp_graph_free(gr);
    pp_onnx_free(h);
    free(m.b);
}

/* x + float(x.shape): a shape value used as data is computed at run time. */
Test(handmade, shape_value_as_data_runs) {
    pb g = {0};
    int64_t dx[] = {-1, 2};
    add_vinfo(&g, 11, "x", 1, 2, dx, NULL);
    add_node(&g, "Shape", "shape", NULL, S("x"), 1, S("s"), 1, NULL, 0);
    add_node(&g, "Cast", "cast", NULL, S("s"), 1, S("sf"), 1, (attr_spec[]){{.name = "to", .type = 2, .i = 1}}, 1);
    add_node(&g, "Add", "add", NULL, S("x", "sf"), 2, S("y"), 1, NULL, 0);
    add_vinfo(&g, 12, "y", 1, 2, dx, NULL);
    pb m = finish_model(&g, 13, NULL);
    pp_onnx *h;
    pp_graph *gr;
    pp_error err = {0};
    cr_assert_eq(import_pb(&m, NULL, NULL, &h, &gr, &err), PP_OK, "%s", err.msg);
    for (int batch = 1; batch <= 3; batch += 2) {
        float x[6] = {0.5f, -1, 2, 3, -4, 0.25f};
        const void *ins[1] = {x};
        void *outs[1];
        pp_shape os[1];
        cr_assert_eq(pp_interp_run(gr, batch, ins, outs, os, &err), PP_OK, "%s", err.msg);
        const float *y = outs[0];
        for (int i = 0; i < 2 * batch; i++)
            cr_assert_float_eq(y[i], x[i] + (i % 2 ? 2.0f : (float)batch), 0, "batch %d element %d", batch, i);
        pp_free(outs[0]);
    }
    pp_graph_free(gr);
    pp_onnx_free(h);
    free(m.b);
}

/* Reshape whose shape is a graph input: refused naming the node and the input,
 * the input named for the caller, and accepted once bound as a constant. */
Test(handmade, const_binding) {
    pb g = {0};
    int64_t dx[] = {2, 6}, ds[] = {2}, dy[] = {3, 4};
    add_vinfo(&g, 11, "x", 1, 2, dx, NULL);
    add_vinfo(&g, 11, "target", 7, 1, ds, NULL);
    add_node(&g, "Reshape", "reshape", NULL, S("x", "target"), 2, S("y"), 1, NULL, 0);
    add_vinfo(&g, 12, "y", 1, 2, dy, NULL);
    pb m = finish_model(&g, 13, NULL);
    pp_onnx *h;
    pp_graph *gr;
    pp_error err = {0};
    char needs[64] = "";
    pp_onnx_options o = {0};
    o.needs_const = needs;
    o.needs_const_size = sizeof needs;
    cr_assert_eq(import_pb(&m, NULL, &o, &h, &gr, &err), PP_ERR_UNSUPPORTED);
    cr_assert(strstr(err.msg, "node 'reshape' (Reshape): input 1 (shape, 'target')"), "%s", err.msg);
    cr_assert_str_eq(needs, "target");
    int64_t shape[2] = {3, 4};
    pp_onnx_const c = {"target", PP_DTYPE_I64, 1, {2}, shape, sizeof shape};
    o.consts = &c;
    o.n_consts = 1;
    cr_assert_eq(import_pb(&m, NULL, &o, &h, &gr, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(gr->n_inputs, 1, "the bound input is no longer an input");
    char buf[64];
    cr_assert_str_eq(pp_tensor_shape_str(&gr->tensors[gr->outputs[0]], buf, sizeof buf), "(3, 4)");
    pp_graph_free(gr);
    pp_onnx_free(h);
    /* A binding for an input that does not exist is an error. */
    pp_onnx_const bad = {"nosuch", PP_DTYPE_I64, 1, {2}, shape, sizeof shape};
    o.consts = &bad;
    cr_assert_eq(import_pb(&m, NULL, &o, &h, &gr, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "nosuch"), "%s", err.msg);
    free(m.b);
}

Test(handmade, dim_params) {
    pb g = {0};
    int64_t dx[] = {-1, -1};
    add_vinfo(&g, 11, "x", 1, 2, dx, NULL); /* both axes "N": the same symbol, the batch */
    pb vi = {0}, tp = {0}, tt = {0}, sh = {0}, d0 = {0}, d1 = {0};
    pb_str(&d0, 2, "batch");
    pb_str(&d1, 2, "seq");
    pb_msg(&sh, 1, &d0);
    pb_msg(&sh, 1, &d1);
    pb_int(&tt, 1, 1);
    pb_msg(&tt, 2, &sh);
    pb_msg(&tp, 1, &tt);
    pb_str(&vi, 1, "z");
    pb_msg(&vi, 2, &tp);
    pb_msg(&g, 11, &vi);
    add_node(&g, "Relu", "r1", NULL, S("x"), 1, S("y"), 1, NULL, 0);
    add_node(&g, "Relu", "r2", NULL, S("z"), 1, S("w"), 1, NULL, 0);
    add_vinfo(&g, 12, "y", 1, 2, dx, NULL);
    add_vinfo(&g, 12, "w", 1, 2, dx, NULL);
    pb m = finish_model(&g, 13, NULL);
    pp_onnx *h;
    pp_graph *gr;
    pp_error err = {0};
    char buf[64];
    /* Unbound, 'seq' is a symbol of its own, unbounded. */
    cr_assert_eq(import_pb(&m, NULL, NULL, &h, &gr, &err), PP_OK, "%s", err.msg);
    cr_assert_str_eq(pp_graph_shape_str(gr, &gr->tensors[gr->inputs[1]], buf, sizeof buf), "(N, seq)");
    cr_assert_eq(gr->sym.n_sym, 2);
    cr_assert_eq(gr->sym.sym[1].max, PP_SYM_UNBOUNDED);
    pp_graph_free(gr);
    pp_onnx_free(h);
    /* --dim seq=1..64 gives it a range; --dim seq=7 binds it. */
    pp_onnx_dim dim = {"seq", 1, 64};
    pp_onnx_options o = {0};
    o.dims = &dim;
    o.n_dims = 1;
    cr_assert_eq(import_pb(&m, NULL, &o, &h, &gr, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(gr->sym.sym[1].max, 64);
    pp_graph_free(gr);
    pp_onnx_free(h);
    dim = (pp_onnx_dim){"seq", 7, 7};
    cr_assert_eq(import_pb(&m, NULL, &o, &h, &gr, &err), PP_OK, "%s", err.msg);
    cr_assert_str_eq(pp_tensor_shape_str(&gr->tensors[gr->inputs[0]], buf, sizeof buf), "(N, N)");
    cr_assert_str_eq(pp_tensor_shape_str(&gr->tensors[gr->inputs[1]], buf, sizeof buf), "(N, 7)");
    pp_graph_free(gr);
    pp_onnx_free(h);
    /* A misspelt --dim is not ignored. */
    dim = (pp_onnx_dim){"sqe", 1, 64};
    cr_assert_eq(import_pb(&m, NULL, &o, &h, &gr, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "--dim sqe: no graph input has the symbolic extent 'sqe'"), "%s", err.msg);
    free(m.b);
}

/* Softmax before opset 13 normalises over everything after `axis`. */
Test(handmade, softmax_opset11_flattens) {
    pb g = {0};
    int64_t dx[] = {2, 3, 4};
    add_vinfo(&g, 11, "x", 1, 3, dx, NULL);
    add_node(&g, "Softmax", "sm", NULL, S("x"), 1, S("y"), 1, (attr_spec[]){{.name = "axis", .type = 2, .i = 1}}, 1);
    add_vinfo(&g, 12, "y", 1, 3, dx, NULL);
    pb m = finish_model(&g, 11, NULL);
    pp_onnx *h;
    pp_graph *gr;
    pp_error err = {0};
    cr_assert_eq(import_pb(&m, NULL, NULL, &h, &gr, &err), PP_OK, "%s", err.msg);
    float x[24], ref[24];
    for (int i = 0; i < 24; i++) x[i] = (float)((i * 7) % 11) * 0.3f;
    for (int b = 0; b < 2; b++) {
        double s = 0;
        for (int i = 0; i < 12; i++) s += exp(x[b * 12 + i]);
        for (int i = 0; i < 12; i++) ref[b * 12 + i] = (float)(exp(x[b * 12 + i]) / s);
    }
    const void *ins[1] = {x};
    void *outs[1];
    pp_shape os[1];
    cr_assert_eq(pp_interp_run(gr, 1, ins, outs, os, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(os[0].rank, 3);
    const float *y = outs[0];
    for (int i = 0; i < 24; i++) cr_assert_float_eq(y[i], ref[i], 1e-6, "[%d]", i);
    pp_free(outs[0]);
    pp_graph_free(gr);
    pp_onnx_free(h);
    free(m.b);
}

/* Initializers: raw_data borrowed or copied, float_data/int64_data decoded,
 * external data found beside the model and confined to its folder. */
static char tmpdir[256];

static void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pp_onnx_XXXXXX");
    cr_assert(mkdtemp(tmpdir));
}

static pb model_add_w(const char *location, int use_float_data) {
    pb g = {0};
    int64_t d[] = {1, 4}, dw[] = {4};
    add_vinfo(&g, 11, "x", 1, 2, d, NULL);
    pb t = {0};
    tensor_proto(&t, "w", 1, 1, dw, NULL, 0);
    if (location) {
        pb e = {0};
        pb_str(&e, 1, "location");
        pb_str(&e, 2, location);
        pb_msg(&t, 13, &e);
        pb_str(&e, 1, "offset");
        pb_str(&e, 2, "4");
        pb_msg(&t, 13, &e);
        pb_str(&e, 1, "length");
        pb_str(&e, 2, "16");
        pb_msg(&t, 13, &e);
        pb_int(&t, 14, 1);
    } else if (use_float_data) {
        for (int i = 0; i < 4; i++) pb_float(&t, 4, (float)(i + 1)); /* unpacked */
    }
    pb_msg(&g, 5, &t);
    add_node(&g, "Add", "add", NULL, S("x", "w"), 2, S("y"), 1, NULL, 0);
    add_vinfo(&g, 12, "y", 1, 2, d, NULL);
    return finish_model(&g, 13, NULL);
}

static void check_add_w(pp_graph *gr) {
    float x[4] = {10, 20, 30, 40};
    const void *ins[1] = {x};
    void *outs[1];
    pp_shape os[1];
    pp_error err;
    cr_assert_eq(pp_interp_run(gr, 1, ins, outs, os, &err), PP_OK, "%s", err.msg);
    const float *y = outs[0];
    for (int i = 0; i < 4; i++) cr_assert_float_eq(y[i], x[i] + (float)(i + 1), 0);
    pp_free(outs[0]);
}

Test(weights, float_data_decoded) {
    pb m = model_add_w(NULL, 1);
    pp_onnx *h;
    pp_graph *gr;
    pp_error err;
    cr_assert_eq(import_pb(&m, NULL, NULL, &h, &gr, &err), PP_OK, "%s", err.msg);
    check_add_w(gr);
    pp_graph_free(gr);
    pp_onnx_free(h);
    free(m.b);
}

Test(weights, external_data) {
    make_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/weights.bin", tmpdir);
    FILE *f = fopen(p, "wb");
    float junk = 99, w[4] = {1, 2, 3, 4};
    fwrite(&junk, 4, 1, f);
    fwrite(w, 4, 4, f);
    fclose(f);
    pp_onnx *h;
    pp_graph *gr;
    pp_error err = {0};
    pb m = model_add_w("weights.bin", 0);
    cr_assert_eq(import_pb(&m, tmpdir, NULL, &h, &gr, &err), PP_OK, "%s", err.msg);
    check_add_w(gr);
    pp_graph_free(gr);
    pp_onnx_free(h);
    /* the same through a file path */
    snprintf(p, sizeof p, "%s/model.onnx", tmpdir);
    f = fopen(p, "wb");
    fwrite(m.b, 1, m.n, f);
    fclose(f);
    cr_assert_eq(pp_onnx_import(p, NULL, &h, &gr, &err), PP_OK, "%s", err.msg);
    check_add_w(gr);
    pp_graph_free(gr);
    pp_onnx_free(h);
    free(m.b);
    /* no folder to resolve against */
    m = model_add_w("weights.bin", 0);
    cr_assert_eq(import_pb(&m, NULL, NULL, &h, &gr, &err), PP_ERR_UNSUPPORTED);
    free(m.b);
    const char *bad[] = {"/etc/passwd", "../weights.bin", "sub/../../x", "..", "missing.bin"};
    for (int i = 0; i < 5; i++) {
        m = model_add_w(bad[i], 0);
        cr_assert_neq(import_pb(&m, tmpdir, NULL, &h, &gr, &err), PP_OK, "%s accepted", bad[i]);
        if (i < 4) cr_assert(strstr(err.msg, "leaves the model's folder"), "%s: %s", bad[i], err.msg);
        free(m.b);
    }
    /* a symbolic link pointing out of the folder */
    snprintf(p, sizeof p, "%s/link.bin", tmpdir);
    cr_assert_eq(symlink("/etc/hostname", p), 0);
    m = model_add_w("link.bin", 0);
    cr_assert_neq(import_pb(&m, tmpdir, NULL, &h, &gr, &err), PP_OK);
    cr_assert(strstr(err.msg, "outside"), "%s", err.msg);
    free(m.b);
    unlink(p);
    snprintf(p, sizeof p, "%s/weights.bin", tmpdir);
    unlink(p);
    snprintf(p, sizeof p, "%s/model.onnx", tmpdir);
    unlink(p);
    rmdir(tmpdir);
}

Test(weights, raw_data_size_must_match) {
    pb g = {0};
    int64_t d[] = {1, 4}, dw[] = {4};
    add_vinfo(&g, 11, "x", 1, 2, d, NULL);
    float w[3] = {1, 2, 3};
    add_init(&g, "w", 1, 1, dw, w, sizeof w);
    add_node(&g, "Add", "add", NULL, S("x", "w"), 2, S("y"), 1, NULL, 0);
    add_vinfo(&g, 12, "y", 1, 2, d, NULL);
    pb m = finish_model(&g, 13, NULL);
    pp_onnx *h;
    pp_graph *gr;
    pp_error err = {0};
    cr_assert_eq(import_pb(&m, NULL, NULL, &h, &gr, &err), PP_ERR_FORMAT);
    cr_assert(strstr(err.msg, "raw_data has 12 bytes, its shape and type need 16"), "%s", err.msg);
    free(m.b);
}

Test(tensors, standalone_tensor_proto) {
    pb t = {0};
    int64_t d[] = {2, 2};
    int64_t v[] = {1, -2, 3, INT64_MIN};
    pp_onnx_tensor out;
    pp_error err;
    /* int64_data, packed */
    for (int i = 0; i < 2; i++) pb_int(&t, 1, d[i]);
    pb_int(&t, 2, 7);
    pb_str(&t, 8, "ids");
    pb packed = {0};
    for (int i = 0; i < 4; i++) pb_varint(&packed, (uint64_t)v[i]);
    pb_msg(&t, 7, &packed);
    cr_assert_eq(pp_onnx_tensor_read(t.b, t.n, &out, &err), PP_OK, "%s", err.msg);
    cr_assert_str_eq(out.name, "ids");
    cr_assert_eq(out.dtype, PP_DTYPE_I64);
    cr_assert_eq(out.rank, 2);
    cr_assert_eq(memcmp(out.data, v, sizeof v), 0);
    pp_onnx_tensor_free(&out);
    free(t.b);
    /* an unsupported element type is named */
    memset(&t, 0, sizeof t);
    pb_int(&t, 2, 8);
    pb_str(&t, 6, "hello");
    cr_assert_eq(pp_onnx_tensor_read(t.b, t.n, &out, &err), PP_ERR_UNSUPPORTED);
    cr_assert(strstr(err.msg, "STRING"), "%s", err.msg);
    free(t.b);
}

/* ---- the pipeline and the file ---------------------------------------------------------- */

Test(convert, writes_a_loadable_file_with_metadata) {
    make_tmpdir();
    char out[512];
    snprintf(out, sizeof out, "%s/vit.bin", tmpdir);
    pp_convert_options o = {0};
    o.input = path_of("tests/fixtures/models/vit.onnx");
    o.output = out;
    pp_convert_stats st;
    pp_error err;
    cr_assert_eq(pp_convert(&o, &st, &err), PP_OK, "%s", err.msg);
    cr_assert_gt(st.bytes_written, 0);
    cr_assert_eq(st.onnx_nodes, 189);
    pp_model *m;
    cr_assert_eq(pp_model_load(out, 0, &m, &err), PP_OK, "%s", err.msg);
    cr_assert_str_eq(pp_model_meta_get(m, "producer"), "pytorch 1.13.0");
    cr_assert_str_eq(pp_model_meta_get(m, "source"), "vit.onnx");
    cr_assert_str_eq(pp_model_meta_get(m, "opset"), "13");
    cr_assert(strstr(pp_model_meta_get(m, "tool"), "ppconvert"));
    pp_model_free(m);
    unlink(out);
    /* a dtype weights cannot be stored in is refused; nothing is written */
    o.dtype = PP_DTYPE_I64;
    cr_assert_eq(pp_convert(&o, &st, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "expected f32, f16 or bf16"), "%s", err.msg);
    cr_assert_neq(access(out, F_OK), 0);
    rmdir(tmpdir);
}

Test(convert, failure_leaves_nothing) {
    make_tmpdir();
    char out[512];
    snprintf(out, sizeof out, "%s/bad.bin", tmpdir);
    pp_convert_options o = {0};
    o.input = path_of("tests/fixtures/models/manifest.txt");
    o.output = out;
    pp_error err;
    cr_assert_neq(pp_convert(&o, NULL, &err), PP_OK);
    cr_assert_neq(access(out, F_OK), 0);
    rmdir(tmpdir);
}

/* torch's `cls.expand(x.shape[0], -1, -1)` and `torch.full((x.shape[0], 1, 8), v)`:
 * a constant broadcast to the batch, which only the input knows. */
static void batch_broadcast_model(int use_constant_of_shape) {
    pb g = {0};
    int64_t dx[] = {-1, 5, 8}, dy[] = {-1, 6, 8}, dc[] = {1, 1, 8}, one_d[] = {1}, two_d[] = {2};
    add_vinfo(&g, 11, "x", 1, 3, dx, "batch");
    float cls[8];
    for (int i = 0; i < 8; i++) cls[i] = 0.5f + (float)i;
    int64_t zero = 0, ax = 0, tail[2] = {1, 8};
    add_init(&g, "cls", 1, 3, dc, cls, sizeof cls);
    add_init(&g, "i0", 7, 0, NULL, &zero, 8);
    add_init(&g, "ax", 7, 1, one_d, &ax, 8);
    add_init(&g, "tail", 7, 1, two_d, tail, 16);
    add_node(&g, "Shape", "shape", NULL, S("x"), 1, S("s"), 1, NULL, 0);
    add_node(&g, "Gather", "gather", NULL, S("s", "i0"), 2, S("n"), 1, NULL, 0);
    add_node(&g, "Unsqueeze", "unsq", NULL, S("n", "ax"), 2, S("nv"), 1, NULL, 0);
    add_node(&g, "Concat", "concat", NULL, S("nv", "tail"), 2, S("shp"), 1,
             (attr_spec[]){{.name = "axis", .type = 2, .i = 0}}, 1);
    if (use_constant_of_shape)
        add_node(&g, "ConstantOfShape", "full", NULL, S("shp"), 1, S("e"), 1,
                 (attr_spec[]){{.name = "value", .type = 4, .f = 2.5}}, 1);
    else add_node(&g, "Expand", "expand", NULL, S("cls", "shp"), 2, S("e"), 1, NULL, 0);
    add_node(&g, "Concat", "cat", NULL, S("e", "x"), 2, S("y"), 1, (attr_spec[]){{.name = "axis", .type = 2, .i = 1}},
             1);
    add_vinfo(&g, 12, "y", 1, 3, dy, "batch");
    pb m = finish_model(&g, 13, NULL);
    pp_onnx *h;
    pp_graph *gr;
    pp_error err = {0};
    cr_assert_eq(import_pb(&m, NULL, NULL, &h, &gr, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_graph_infer(gr, &err), PP_OK, "%s", err.msg);
    char buf[64];
    cr_assert_str_eq(pp_tensor_shape_str(&gr->tensors[gr->outputs[0]], buf, sizeof buf), "(N, 6, 8)");
    cr_assert_eq(count_op(gr, PP_OP_SHAPE), 0);
    for (int batch = 1; batch <= 3; batch += 2) {
        float x[3 * 40];
        for (int i = 0; i < batch * 40; i++) x[i] = (float)i * 0.25f - 3.0f;
        const void *ins[1] = {x};
        void *outs[1];
        pp_shape os[1];
        cr_assert_eq(pp_interp_run(gr, batch, ins, outs, os, &err), PP_OK, "%s", err.msg);
        cr_assert_eq(os[0].dims[0], batch);
        const float *y = outs[0];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < 8; i++)
                cr_assert_float_eq(y[b * 48 + i], use_constant_of_shape ? 2.5f : cls[i], 0, "b %d i %d", b, i);
            for (int i = 0; i < 40; i++) cr_assert_float_eq(y[b * 48 + 8 + i], x[b * 40 + i], 0);
        }
        pp_free(outs[0]);
    }
    pp_graph_free(gr);
    pp_onnx_free(h);
    free(m.b);
}

Test(handmade, expand_constant_to_the_batch) { batch_broadcast_model(0); }
Test(handmade, constant_of_shape_with_the_batch) { batch_broadcast_model(1); }

/* Symbolic dimensions (docs/ir.md): the shape program (folding, reuse,
 * evaluation, bounds, errors), shape inference over symbols, format 2 round
 * trips, and runs of one graph at many batch sizes and sequence lengths against
 * a plain C reference, with the refusals a run or an engine must give. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/exec.h"
#include "engine/graph.h"
#include "engine/symbols.h"

static pp_sx sym_of(pp_symtab *t, int s) {
    pp_sx x;
    pp_error err;
    cr_assert_eq(pp_symtab_symbol(t, s, &x, &err), PP_OK, "%s", err.msg);
    return x;
}

static pp_sx op2(pp_symtab *t, pp_shape_op op, pp_sx a, pp_sx b) {
    pp_sx x;
    pp_error err;
    cr_assert_eq(pp_symtab_emit(t, op, a, b, pp_sx_const(0), &x, &err), PP_OK, "%s", err.msg);
    return x;
}

static pp_symtab two_symbols(void) {
    pp_symtab t;
    pp_error err;
    pp_symtab_init(&t);
    cr_assert_eq(pp_symtab_add(&t, "batch", 1, 4, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(pp_symtab_add(&t, "seq", 1, 16, 0, &err), 1, "%s", err.msg);
    return t;
}

Test(shape_program, folds_simplifies_and_reuses) {
    pp_symtab t = two_symbols();
    pp_sx b = sym_of(&t, 0), s = sym_of(&t, 1);
    pp_sx five = op2(&t, PP_SHAPE_ADD, pp_sx_const(2), pp_sx_const(3));
    cr_assert(five.slot < 0 && five.v == 5);
    cr_assert_eq(op2(&t, PP_SHAPE_MUL, s, pp_sx_const(1)).slot, s.slot);
    cr_assert(op2(&t, PP_SHAPE_MUL, s, pp_sx_const(0)).slot < 0);
    cr_assert(op2(&t, PP_SHAPE_SUB, s, s).slot < 0);
    pp_sx bs = op2(&t, PP_SHAPE_MUL, b, s), sb = op2(&t, PP_SHAPE_MUL, s, b);
    cr_assert_eq(bs.slot, sb.slot, "the same product is the same value");
    int n = t.n_prog;
    pp_sx p7 = op2(&t, PP_SHAPE_ADD, op2(&t, PP_SHAPE_ADD, s, pp_sx_const(3)), pp_sx_const(4));
    cr_assert_eq(op2(&t, PP_SHAPE_SUB, p7, pp_sx_const(7)).slot, s.slot, "(s + 3) + 4 - 7 is s");
    cr_assert_eq(t.n_prog, n + 2);
    char buf[64];
    cr_assert_str_eq(pp_symtab_slot_str(&t, bs.slot, buf, sizeof buf), "batch*seq");
    cr_assert_str_eq(pp_symtab_slot_str(&t, p7.slot, buf, sizeof buf), "seq+7");
    pp_symtab_free(&t);
}

Test(shape_program, evaluates_bounds_and_errors) {
    pp_symtab t = two_symbols();
    pp_error err;
    pp_sx b = sym_of(&t, 0), s = sym_of(&t, 1);
    pp_sx bs = op2(&t, PP_SHAPE_MUL, b, s), sm1 = op2(&t, PP_SHAPE_SUB, s, pp_sx_const(1));
    pp_sx mn = op2(&t, PP_SHAPE_MIN, s, pp_sx_const(8)), half = op2(&t, PP_SHAPE_DIV, s, pp_sx_const(2));
    pp_sx wh = op2(&t, PP_SHAPE_MOD, s, pp_sx_const(3));
    int64_t v[2] = {3, 7}, slot[64];
    cr_assert_eq(pp_symtab_eval(&t, v, slot, 0, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(slot[bs.slot], 21);
    cr_assert_eq(slot[sm1.slot], 6);
    cr_assert_eq(slot[mn.slot], 7);
    cr_assert_eq(slot[half.slot], 3);
    cr_assert_eq(slot[wh.slot], 1);
    int64_t lo[2] = {1, 1}, hi[2] = {4, 16}, slo[64], shi[64];
    pp_symtab_bounds(&t, lo, hi, slo, shi);
    cr_assert(slo[bs.slot] == 1 && shi[bs.slot] == 64);
    cr_assert(slo[sm1.slot] == 0 && shi[sm1.slot] == 15);
    cr_assert(slo[mn.slot] == 1 && shi[mn.slot] == 8);
    cr_assert(slo[half.slot] == 0 && shi[half.slot] == 8);
    /* Overflow and division by zero at evaluation name the value. */
    pp_sx big = op2(&t, PP_SHAPE_MUL, s, pp_sx_const((int64_t)1 << 62));
    pp_sx div0 = op2(&t, PP_SHAPE_DIV, pp_sx_const(8), op2(&t, PP_SHAPE_SUB, s, pp_sx_const(3)));
    (void)div0;
    int64_t at3[2] = {1, 3};
    cr_assert_eq(pp_symtab_eval(&t, at3, slot, 0, &err), PP_ERR_SHAPE);
    cr_assert(strstr(err.msg, "overflows"), "%s", err.msg);
    cr_assert(strstr(err.msg, "seq*4611686018427387904") || strstr(err.msg, "4611686018427387904*seq"), "%s", err.msg);
    (void)big;
    pp_symtab_free(&t);
    pp_symtab u = two_symbols();
    div0 = op2(&u, PP_SHAPE_DIV, pp_sx_const(8), op2(&u, PP_SHAPE_SUB, sym_of(&u, 1), pp_sx_const(3)));
    cr_assert_eq(pp_symtab_eval(&u, at3, slot, 0, &err), PP_ERR_SHAPE);
    cr_assert(strstr(err.msg, "divides by zero"), "%s", err.msg);
    pp_symtab_free(&u);
}

Test(shape_program, ranges_from_options) {
    pp_symtab t = two_symbols();
    pp_error err;
    int64_t lo[2], hi[2];
    cr_assert_eq(pp_symtab_narrow(&t, "seq=2..8,batch=3", lo, hi, &err), PP_OK, "%s", err.msg);
    cr_assert(lo[0] == 3 && hi[0] == 3 && lo[1] == 2 && hi[1] == 8);
    cr_assert_eq(pp_symtab_narrow(&t, "seq=9..3", lo, hi, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "the range is empty (max 3 < min 9)"), "%s", err.msg);
    cr_assert_eq(pp_symtab_narrow(&t, "seq=1..600", lo, hi, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "outside the range 1..16 the graph allows for 'seq'"), "%s", err.msg);
    cr_assert_eq(pp_symtab_narrow(&t, "len=4", lo, hi, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "no symbol 'len' (it has batch, seq)"), "%s", err.msg);
    cr_assert_eq(pp_symtab_narrow(&t, "seq=x", lo, hi, &err), PP_ERR_INVALID_ARG);
    pp_symtab_free(&t);
}

/* x (batch, seq, 4) → reshape (batch*seq, 4) → matmul w (4, 3) → reshape
 * (batch, seq, 3) = y; and r = arange(seq) (i64). Both reshapes and the range
 * take their extents from the shape program. */
#define CIN 4
#define COUT 3

static pp_graph *seq_graph(int64_t seq_max) {
    pp_error err;
    pp_graph *g = pp_graph_new();
    cr_assert(g);
    cr_assert_eq(pp_symtab_add(&g->sym, "batch", 1, PP_SYM_UNBOUNDED, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(pp_symtab_add(&g->sym, "seq", 1, seq_max, 0, &err), 1, "%s", err.msg);
    pp_sx b = sym_of(&g->sym, 0), s = sym_of(&g->sym, 1), bs = op2(&g->sym, PP_SHAPE_MUL, b, s);
    int64_t xd[3] = {PP_DIM_BATCH, pp_dim_of_slot(s.slot), CIN}, wd[2] = {CIN, COUT};
    float w[CIN * COUT];
    for (int i = 0; i < CIN * COUT; i++) w[i] = (float)(i % 5) - 1.5f;
    int x = pp_graph_add_tensor(g, "x", PP_DTYPE_F32, PP_TENSOR_INPUT, 3, xd, &err);
    int wt = pp_graph_add_weight(g, "w", PP_DTYPE_F32, 2, wd, w, sizeof w, &err);
    int a = pp_graph_add_tensor(g, "a", PP_DTYPE_INVALID, PP_TENSOR_ACTIVATION, -1, NULL, &err);
    int m = pp_graph_add_tensor(g, "m", PP_DTYPE_INVALID, PP_TENSOR_ACTIVATION, -1, NULL, &err);
    int y = pp_graph_add_tensor(g, "y", PP_DTYPE_INVALID, PP_TENSOR_ACTIVATION, -1, NULL, &err);
    int r = pp_graph_add_tensor(g, "r", PP_DTYPE_INVALID, PP_TENSOR_ACTIVATION, -1, NULL, &err);
    int n0 = pp_graph_add_node(g, PP_OP_RESHAPE, "flat", 1, &x, 1, &a, &err);
    cr_assert_eq(pp_node_set_ints(g, n0, "shape", (int64_t[]){0, CIN}, 2, &err), PP_OK);
    cr_assert_eq(pp_node_set_sym(g, n0, "shape", 0, bs.slot, &err), PP_OK, "%s", err.msg);
    pp_graph_add_node(g, PP_OP_MATMUL, "mm", 2, (int[]){a, wt}, 1, &m, &err);
    int n2 = pp_graph_add_node(g, PP_OP_RESHAPE, "unflat", 1, &m, 1, &y, &err);
    cr_assert_eq(pp_node_set_ints(g, n2, "shape", (int64_t[]){0, 0, COUT}, 3, &err), PP_OK);
    cr_assert_eq(pp_node_set_int(g, n2, "allowzero", 1, &err), PP_OK);
    cr_assert_eq(pp_node_set_sym(g, n2, "shape", 0, b.slot, &err), PP_OK);
    cr_assert_eq(pp_node_set_sym(g, n2, "shape", 1, s.slot, &err), PP_OK);
    int n3 = pp_graph_add_node(g, PP_OP_RANGE, "arange", 0, NULL, 1, &r, &err);
    pp_node_set_float(g, n3, "start", 0, &err);
    pp_node_set_float(g, n3, "limit", 0, &err);
    pp_node_set_float(g, n3, "delta", 1, &err);
    pp_node_set_int(g, n3, "dtype", PP_DTYPE_I64, &err);
    cr_assert_eq(pp_node_set_sym(g, n3, "limit", 0, s.slot, &err), PP_OK);
    cr_assert_eq(pp_graph_set_io(g, 1, &x, 2, (int[]){y, r}, &err), PP_OK);
    cr_assert_eq(pp_graph_infer(g, &err), PP_OK, "%s", err.msg);
    return g;
}

static void reference(int64_t batch, int64_t seq, const float *x, float *y) {
    float w[CIN * COUT];
    for (int i = 0; i < CIN * COUT; i++) w[i] = (float)(i % 5) - 1.5f;
    for (int64_t row = 0; row < batch * seq; row++)
        for (int o = 0; o < COUT; o++) {
            float acc = 0;
            for (int i = 0; i < CIN; i++) acc += x[row * CIN + i] * w[i * COUT + o];
            y[row * COUT + o] = acc;
        }
}

Test(symbolic, inference_names_the_symbols) {
    pp_graph *g = seq_graph(512);
    char buf[128];
    cr_assert_str_eq(pp_graph_shape_str(g, &g->tensors[2], buf, sizeof buf), "(batch*seq, 4)");
    cr_assert_str_eq(pp_graph_shape_str(g, &g->tensors[4], buf, sizeof buf), "(batch, seq, 3)");
    cr_assert_str_eq(pp_graph_shape_str(g, &g->tensors[5], buf, sizeof buf), "(seq)");
    cr_assert_eq(g->tensors[4].dims[0], PP_DIM_BATCH, "k x batch keeps the format's own form");
    pp_graph_free(g);
}

Test(symbolic, format_2_round_trip) {
    pp_graph *g = seq_graph(512), *h = NULL;
    pp_error err;
    void *buf = NULL;
    size_t n = 0;
    cr_assert_eq(pp_graph_write_memory(g, &buf, &n, &err), PP_OK, "%s", err.msg);
    pp_model *m = NULL;
    cr_assert_eq(pp_model_load_memory(buf, n, 0, &m, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(m->version_major, 2);
    cr_assert_eq(m->n_symbols, 2);
    cr_assert_str_eq(m->symbols[1].name, "seq");
    cr_assert_eq(m->symbols[1].max, 512);
    cr_assert_eq(pp_graph_from_model(&m, &h, &err), PP_OK, "%s", err.msg);
    for (int i = 0; i < g->n_tensors; i++)
        cr_assert(memcmp(g->tensors[i].dims, h->tensors[i].dims, sizeof g->tensors[i].dims) == 0, "tensor %d", i);
    /* write(read(f)) == f */
    void *buf2 = NULL;
    size_t n2 = 0;
    cr_assert_eq(pp_graph_write_memory(h, &buf2, &n2, &err), PP_OK, "%s", err.msg);
    cr_assert(n == n2 && memcmp(buf, buf2, n) == 0);
    pp_free(buf);
    pp_free(buf2);
    pp_graph_free(g);
    pp_graph_free(h);
}

static pp_exec *engine(pp_graph *g, const char *devices, int stages, int micro, const char *dims, pp_error *err) {
    pp_exec *e = NULL;
    pp_exec_options o = {.devices = devices,
                         .stages = stages,
                         .microbatch = micro,
                         .max_batch = micro,
                         .inflight = 2,
                         .graphs = 1,
                         .dims = dims};
    pp_code rc = pp_exec_create(g, &o, &e, err);
    return rc ? NULL : e;
}

static void run_at(pp_exec *e, int64_t batch, int64_t seq) {
    pp_error err;
    size_t nx = (size_t)(batch * seq * CIN), ny = (size_t)(batch * seq * COUT);
    float *x = malloc(sizeof(float) * nx), *y = malloc(sizeof(float) * ny), *ry = malloc(sizeof(float) * ny);
    int64_t *r = malloc(sizeof(int64_t) * (size_t)seq);
    for (size_t i = 0; i < nx; i++) x[i] = (float)((i * 7919) % 13) - 6.0f;
    int64_t xd[3] = {batch, seq, CIN};
    const int64_t *dims[] = {xd};
    const void *in[] = {x};
    void *out[] = {y, r};
    int64_t sym[PP_MAX_SYMBOLS], od[PP_MAX_RANK];
    cr_assert_eq(pp_exec_bind(e, dims, sym, &err), PP_OK, "%s", err.msg);
    pp_exec_tensor_dims(e, 1, 0, sym, od);
    cr_assert(od[0] == batch && od[1] == seq && od[2] == COUT);
    cr_assert_eq(pp_exec_tensor_bytes(e, 1, 1, sym), sizeof(int64_t) * (size_t)seq);
    cr_assert_eq(pp_exec_run_shapes(e, dims, in, out, &err), PP_OK, "batch %lld seq %lld: %s", (long long)batch,
                 (long long)seq, err.msg);
    reference(batch, seq, x, ry);
    for (size_t i = 0; i < ny; i++)
        cr_assert(fabsf(y[i] - ry[i]) <= 1e-5f * (1 + fabsf(ry[i])), "batch %lld seq %lld: y[%zu] %g vs %g",
                  (long long)batch, (long long)seq, i, y[i], ry[i]);
    for (int64_t i = 0; i < seq; i++) cr_assert_eq(r[i], i);
    free(x);
    free(y);
    free(ry);
    free(r);
}

Test(symbolic, one_graph_runs_every_batch_and_length) {
    pp_graph *g = seq_graph(512);
    pp_error err;
    pp_exec *e = engine(g, "cpu", 1, 2, "seq=1..64", &err);
    cr_assert(e, "%s", err.msg);
    /* batch 3 splits into micro-batches of 2 and 1; each length is one bucket */
    static const int64_t pts[][2] = {{1, 7}, {3, 5}, {2, 64}, {5, 1}, {3, 5}, {1, 50}};
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) run_at(e, pts[i][0], pts[i][1]);
    pp_exec_free(e);
    /* two stages on two logical devices and two replicas: the same answers */
    e = engine(g, "cpu:0,cpu:1,cpu:2,cpu:3", 2, 1, "seq=2..32", &err);
    cr_assert(e, "%s", err.msg);
    run_at(e, 3, 7);
    run_at(e, 2, 32);
    pp_exec_free(e);
    pp_graph_free(g);
}

Test(symbolic, refusals_name_what_is_wrong) {
    pp_graph *g = seq_graph(512);
    pp_error err;
    cr_assert_null(engine(g, "cpu", 1, 2, "seq=9..3", &err));
    cr_assert(strstr(err.msg, "dim 'seq=9..3': the range is empty (max 3 < min 9)"), "%s", err.msg);
    cr_assert_null(engine(g, "cpu", 1, 2, "seq=1..600", &err));
    cr_assert(strstr(err.msg, "outside the range 1..512 the graph allows for 'seq'"), "%s", err.msg);
    pp_exec *e = engine(g, "cpu", 1, 2, "seq=1..16", &err);
    cr_assert(e, "%s", err.msg);
    float x[2 * 17 * CIN] = {0}, y[2 * 17 * COUT];
    int64_t r[17];
    int64_t xd[3] = {2, 17, CIN};
    const int64_t *dims[] = {xd};
    const void *in[] = {x};
    void *out[] = {y, r};
    cr_assert_eq(pp_exec_run_shapes(e, dims, in, out, &err), PP_ERR_SHAPE);
    cr_assert_str_eq(err.msg, "input 'x' axis 1 is 17: seq = 17 is outside its range 1..16");
    xd[1] = 4;
    xd[2] = 5;
    cr_assert_eq(pp_exec_run_shapes(e, dims, in, out, &err), PP_ERR_SHAPE);
    cr_assert_str_eq(err.msg, "input 'x' axis 2 is 5, expected 4");
    cr_assert_eq(pp_exec_run(e, 2, in, out, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "the graph has the symbol 'seq' (1..16): a run needs its inputs' shapes"), "%s", err.msg);
    pp_exec_free(e);
    /* A symbol the engine cannot bound: its buffers would have no size. */
    pp_graph *u = seq_graph(PP_SYM_UNBOUNDED);
    cr_assert_null(engine(u, "cpu", 1, 2, NULL, &err));
    cr_assert(strstr(err.msg, "symbol 'seq' has no upper bound"), "%s", err.msg);
    pp_graph_free(u);
    pp_graph_free(g);
}

/* ---- format 2's sections, damaged one field at a time ---------------------- */

typedef struct image {
    unsigned char *p;
    size_t n;
} image;

static image symbolic_image(void) {
    pp_graph *g = seq_graph(512);
    pp_error err;
    image im = {NULL, 0};
    void *buf;
    cr_assert_eq(pp_graph_write_memory(g, &buf, &im.n, &err), PP_OK, "%s", err.msg);
    im.p = buf;
    pp_graph_free(g);
    return im;
}

static pp_fmt_section *section(image *im, uint32_t kind) {
    pp_fmt_header *h = (pp_fmt_header *)(void *)im->p;
    pp_fmt_section *t = (pp_fmt_section *)(void *)(im->p + sizeof *h);
    for (uint32_t i = 0; i < h->section_count; i++)
        if (t[i].kind == kind) return &t[i];
    cr_assert_fail("no section of kind %u", kind);
    return NULL;
}

static void *record(image *im, uint32_t kind, size_t size, uint32_t i) {
    pp_fmt_section *s = section(im, kind);
    cr_assert((uint64_t)(i + 1) * size <= s->size);
    return im->p + s->offset + (uint64_t)i * size;
}

static void reseal(image *im) {
    pp_fmt_header *h = (pp_fmt_header *)(void *)im->p;
    pp_fmt_section *t = (pp_fmt_section *)(void *)(im->p + sizeof *h);
    for (uint32_t i = 0; i < h->section_count; i++)
        t[i].checksum =
            pp_fmt_checksum(im->p + t[i].offset, (size_t)(pp_fmt_align(t[i].offset + t[i].size) - t[i].offset));
    h->header_checksum = 0;
    h->header_checksum = pp_fmt_checksum(im->p, (size_t)pp_fmt_align(sizeof *h + h->section_count * sizeof *t));
}

static void refused_with(image *im, const char *what) {
    reseal(im);
    pp_error err;
    pp_model *m = NULL;
    cr_assert_eq(pp_model_load_memory(im->p, im->n, 0, &m, &err), PP_ERR_FORMAT, "accepted; expected: %s", what);
    cr_assert(strstr(err.msg, what), "message \"%s\" lacks \"%s\"", err.msg, what);
    pp_free(im->p);
}

Test(format2, symbols_are_checked) {
    image im = symbolic_image();
    pp_fmt_symbol *s = record(&im, PP_SEC_SYMBOLS, sizeof *s, 1);
    s->min = 9;
    s->max = 3;
    refused_with(&im, "SYMBOLS at offset");
    im = symbolic_image();
    s = record(&im, PP_SEC_SYMBOLS, sizeof *s, 1);
    s->flags = PP_SYMBOL_BATCH;
    refused_with(&im, "symbol 1 'seq' is a second batch (symbol 0 is one)");
    im = symbolic_image();
    s = record(&im, PP_SEC_SYMBOLS, sizeof *s, 1);
    s->name = ((pp_fmt_symbol *)record(&im, PP_SEC_SYMBOLS, sizeof *s, 0))->name;
    refused_with(&im, "has the name of symbol 0");
}

Test(format2, the_program_is_checked) {
    image im = symbolic_image();
    pp_fmt_shape_inst *in = record(&im, PP_SEC_SHAPE_PROGRAM, sizeof *in, 2);
    cr_assert_eq(in->op, PP_SHAPE_MUL);
    in->b = 5; /* reads an instruction after itself */
    refused_with(&im, "instruction 2: operand 1 reads value 5, not an earlier instruction");
    im = symbolic_image();
    in = record(&im, PP_SEC_SHAPE_PROGRAM, sizeof *in, 0);
    in->a = 7;
    refused_with(&im, "instruction 0: SYM of symbol 7");
    im = symbolic_image();
    in = record(&im, PP_SEC_SHAPE_PROGRAM, sizeof *in, 1);
    in->op = 99;
    refused_with(&im, "instruction 1: unknown op 99");
}

Test(format2, bound_attributes_and_dims_are_checked) {
    image im = symbolic_image();
    pp_fmt_sym_attr *a = record(&im, PP_SEC_SYM_ATTRS, sizeof *a, 0);
    a->slot = 77;
    refused_with(&im, "shape value 77, but the program has");
    im = symbolic_image();
    a = record(&im, PP_SEC_SYM_ATTRS, sizeof *a, 1);
    pp_fmt_sym_attr *b = record(&im, PP_SEC_SYM_ATTRS, sizeof *a, 2);
    pp_fmt_sym_attr t = *a;
    *a = *b;
    *b = t;
    refused_with(&im, "records are sorted, each value once");
    im = symbolic_image();
    a = record(&im, PP_SEC_SYM_ATTRS, sizeof *a, 0);
    a->element = 9;
    refused_with(&im, "value 9 of attribute");
    im = symbolic_image();
    pp_fmt_tensor *x = record(&im, PP_SEC_TENSORS, sizeof *x, 0);
    cr_assert(x->dims[1] <= PP_DIM_SLOT_BASE);
    x->dims[1] = PP_DIM_SLOT_BASE - 1000;
    refused_with(&im, "dims[1] names shape value 1000, but the program has");
}

/* ---- the public API ------------------------------------------------------------------- */

#include "include/ppengine.h"

Test(api, run_with_shapes_and_symbolic_info) {
    pp_graph *g = seq_graph(64);
    pp_error err;
    void *buf;
    size_t n;
    cr_assert_eq(pp_graph_write_memory(g, &buf, &n, &err), PP_OK, "%s", err.msg);
    pp_graph_free(g);
    pp_net *net = NULL;
    pp_status *st = pp_net_load_memory(buf, n, &net);
    cr_assert_null(st, "%s", pp_status_message(st));
    cr_assert_eq(pp_net_symbol_count(net), 2);
    const char *name;
    int64_t lo, hi;
    int is_batch;
    cr_assert_null(pp_net_symbol_info(net, 1, &name, &lo, &hi, &is_batch));
    cr_assert(!strcmp(name, "seq") && lo == 1 && hi == 64 && !is_batch);
    pp_tensor_info in, out;
    cr_assert_null(pp_net_input_info(net, 0, &in));
    cr_assert_eq(in.dims[0], -1);
    cr_assert_str_eq(in.dim_name[0], "batch");
    cr_assert_eq(in.dims[1], PP_DIM_SYMBOLIC);
    cr_assert_str_eq(in.dim_name[1], "seq");
    cr_assert(in.dim_min[1] == 1 && in.dim_max[1] == 64);
    cr_assert(in.dims[2] == CIN && in.dim_name[2] == NULL && in.dim_min[2] == CIN && in.dim_max[2] == CIN);
    cr_assert_null(pp_net_output_info(net, 1, &out));
    cr_assert_str_eq(out.dim_name[0], "seq");
    pp_options *opt;
    cr_assert_null(pp_options_create(&opt));
    cr_assert_null(pp_options_set(opt, "devices", "cpu"));
    cr_assert_null(pp_options_set(opt, "max_batch", "2"));
    st = pp_options_set(opt, "dim", "seq=9..3");
    cr_assert_not_null(st);
    cr_assert(strstr(pp_status_message(st), "the range is empty (max 3 < min 9)"), "%s", pp_status_message(st));
    pp_status_free(st);
    cr_assert_null(pp_options_set(opt, "dim", "seq=1..20"));
    pp_engine *eng = NULL;
    st = pp_engine_create(net, opt, &eng);
    cr_assert_null(st, "%s", pp_status_message(st));
    pp_options_free(opt);
    float x[3 * 11 * CIN], y[3 * 11 * COUT], ry[3 * 11 * COUT];
    int64_t r[11];
    for (int i = 0; i < 3 * 11 * CIN; i++) x[i] = (float)(i % 7) - 3;
    int64_t xd[3] = {3, 11, CIN}, od[PP_MAX_DIMS];
    const int64_t *dims[] = {xd};
    size_t bytes;
    cr_assert_null(pp_engine_output_dims(eng, dims, 0, od, &bytes));
    cr_assert(od[0] == 3 && od[1] == 11 && od[2] == COUT && bytes == sizeof y);
    const void *ins[] = {x};
    void *outs[] = {y, r};
    st = pp_engine_run_shapes(eng, dims, ins, outs);
    cr_assert_null(st, "%s", pp_status_message(st));
    reference(3, 11, x, ry);
    for (int i = 0; i < 3 * 11 * COUT; i++) cr_assert(fabsf(y[i] - ry[i]) <= 1e-5f * (1 + fabsf(ry[i])));
    for (int i = 0; i < 11; i++) cr_assert_eq(r[i], i);
    xd[1] = 21;
    st = pp_engine_run_shapes(eng, dims, ins, outs);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_SHAPE);
    cr_assert_str_eq(pp_status_message(st), "input 'x' axis 1 is 21: seq = 21 is outside its range 1..20");
    pp_status_free(st);
    st = pp_engine_run(eng, 2, ins, outs);
    cr_assert_eq(pp_status_get_code(st), PP_STATUS_INVALID_ARGUMENT);
    pp_status_free(st);
    cr_assert_null(pp_engine_warmup(eng, 2));
    pp_engine_free(eng);
    pp_net_free(net);
    pp_free(buf);
}

/* The converter's graph passes (converter/passes.h), each on small graphs built
 * through the IR API: node counts and op kinds after the pass, and the graph run
 * by the CPU executor before and after it giving the same outputs (within
 * 1e-5, relative), plus the cases where a pattern must not fire. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converter/passes.h"
#include "engine/exec.h"
#include "kernels/params.h"
#include "support/small_graphs.h"

#define B PP_DIM_BATCH
#define BATCH 3

static pp_error err;
static unsigned seed = 1;

static int input(pp_graph *g, const char *name, int rank, const int64_t *dims) {
    int t = pp_graph_add_tensor(g, name, PP_DTYPE_F32, PP_TENSOR_INPUT, rank, dims, &err);
    cr_assert(t >= 0, "%s", err.msg);
    return t;
}

static int act(pp_graph *g, const char *name) {
    int t = pp_graph_add_tensor(g, name, PP_DTYPE_F32, PP_TENSOR_ACTIVATION, -1, NULL, &err);
    cr_assert(t >= 0, "%s", err.msg);
    return t;
}

static int weight(pp_graph *g, const char *name, int rank, const int64_t *dims, const float *v) {
    int64_t n = 1;
    for (int d = 0; d < rank; d++) n *= dims[d];
    int t = pp_graph_add_weight(g, name, PP_DTYPE_F32, rank, dims, v, (uint64_t)n * 4, &err);
    cr_assert(t >= 0, "%s", err.msg);
    return t;
}

/* Random f32 weight in [lo, lo + 2·span). */
static int rweight(pp_graph *g, const char *name, int rank, const int64_t *dims, float lo, float span) {
    int64_t n = 1;
    for (int d = 0; d < rank; d++) n *= dims[d];
    float *v = test_random_floats((size_t)n, seed++);
    for (int64_t i = 0; i < n; i++) v[i] = lo + span * (v[i] + 2.f) / 2.f;
    int t = weight(g, name, rank, dims, v);
    free(v);
    return t;
}

static int scalar(pp_graph *g, const char *name, float v) { return weight(g, name, 0, NULL, &v); }

static int node(pp_graph *g, pp_op op, const char *name, int n_in, const int *in, int out) {
    int k = pp_graph_add_node(g, op, name, n_in, in, 1, &out, &err);
    cr_assert(k >= 0, "%s", err.msg);
    return k;
}

static int n1(pp_graph *g, pp_op op, const char *name, int a, int out) { return node(g, op, name, 1, &a, out); }
static int n2(pp_graph *g, pp_op op, const char *name, int a, int b, int out) {
    int in[2] = {a, b};
    return node(g, op, name, 2, in, out);
}

static void io(pp_graph *g, int n_in, const int *in, int n_out, const int *out) {
    cr_assert_eq(pp_graph_set_io(g, n_in, in, n_out, out, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_graph_toposort(g, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_graph_infer(g, &err), PP_OK, "%s", err.msg);
}

static void set_ints(pp_graph *g, int k, const char *name, const int64_t *v, uint32_t n) {
    cr_assert_eq(pp_node_set_ints(g, k, name, v, n, &err), PP_OK);
}

/* Runs g at BATCH on deterministic inputs; returns the outputs (malloc'ed, one
 * buffer per output) and their element counts. */
static float **run(const pp_graph *g, size_t *counts) {
    pp_exec *e = NULL;
    pp_exec_options o = {.devices = "cpu",
                         .stages = 1,
                         .microbatch = 0,
                         .max_batch = BATCH,
                         .inflight = 2,
                         .p2p = 0,
                         .split = NULL,
                         .trace = NULL,
                         .measure = 0,
                         .mem_limit = 0,
                         .graphs = 0,
                         .precision = PP_PREC_FP32};
    cr_assert_eq(pp_exec_create(g, &o, &e, &err), PP_OK, "%s", err.msg);
    const void *ins[8];
    float *inbuf[8];
    for (int i = 0; i < g->n_inputs; i++) {
        size_t n = pp_exec_input_bytes(e, i, BATCH) / 4;
        inbuf[i] = test_random_floats(n, 100 + (unsigned)i);
        ins[i] = inbuf[i];
    }
    float **outs = calloc((size_t)g->n_outputs, sizeof *outs);
    for (int i = 0; i < g->n_outputs; i++) {
        counts[i] = pp_exec_output_bytes(e, i, BATCH) / 4;
        outs[i] = malloc(counts[i] * 4 + 4);
    }
    cr_assert_eq(pp_exec_run(e, BATCH, ins, (void *const *)outs, &err), PP_OK, "%s", err.msg);
    for (int i = 0; i < g->n_inputs; i++) free(inbuf[i]);
    pp_exec_free(e);
    return outs;
}

static int count_op(const pp_graph *g, pp_op op) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += !g->nodes[i].dead && g->nodes[i].op == op;
    return n;
}

static const pp_node *find_op(const pp_graph *g, pp_op op) {
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].dead && g->nodes[i].op == op) return &g->nodes[i];
    return NULL;
}

/* Runs the passes on g (inferred), checks the rewrite count and the node count
 * after, and that the outputs did not change. */
static void check(pp_graph *g, const pp_pass_fn *fns, int n_fns, int want_rewrites, int want_nodes) {
    size_t c0[8], c1[8];
    float **ref = run(g, c0);
    int total = 0;
    for (int i = 0; i < n_fns; i++) {
        int r = -1;
        cr_assert_eq(fns[i](g, &r, &err), PP_OK, "%s", err.msg);
        total += r;
    }
    cr_assert_eq(pp_graph_compact(g, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_graph_toposort(g, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_graph_infer(g, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(total, want_rewrites, "rewrites: %d, expected %d", total, want_rewrites);
    cr_assert_eq(g->n_nodes, want_nodes, "nodes after: %d, expected %d", g->n_nodes, want_nodes);
    float **got = run(g, c1);
    for (int o = 0; o < g->n_outputs; o++) {
        cr_assert_eq(c0[o], c1[o]);
        for (size_t i = 0; i < c0[o]; i++)
            cr_assert(fabsf(got[o][i] - ref[o][i]) <= 1e-5f * fmaxf(1.f, fabsf(ref[o][i])) ||
                          (isinf(ref[o][i]) && got[o][i] == ref[o][i]),
                      "output %d element %zu: %g after the pass, %g before", o, i, got[o][i], ref[o][i]);
        free(got[o]);
        free(ref[o]);
    }
    free(got);
    free(ref);
}

static void check1(pp_graph *g, pp_pass_fn fn, int want_rewrites, int want_nodes) {
    check(g, &fn, 1, want_rewrites, want_nodes);
}

/* ---- identity ------------------------------------------------------------- */

Test(pass_identity, middle_and_output) {
    pp_graph *g = pp_graph_new();
    int64_t d[2] = {B, 5};
    int x = input(g, "x", 2, d), a = act(g, "a"), b = act(g, "b"), r = act(g, "r"), y = act(g, "y");
    n1(g, PP_OP_IDENTITY, "id0", x, a);
    n1(g, PP_OP_SIGMOID, "sig", a, b);
    n1(g, PP_OP_RELU, "relu", b, r);
    n1(g, PP_OP_IDENTITY, "id1", r, y); /* a graph output: its name stays */
    int outs[2] = {y, b};
    io(g, 1, &x, 2, outs);
    check1(g, pp_pass_identity, 2, 2);
    cr_assert_eq(count_op(g, PP_OP_IDENTITY), 0);
    cr_assert_str_eq(g->tensors[g->outputs[0]].name, "y");
    cr_assert_str_eq(g->tensors[g->outputs[1]].name, "b");
    pp_graph_free(g);
}

Test(pass_identity, input_to_output_stays) {
    pp_graph *g = pp_graph_new();
    int64_t d[2] = {B, 5};
    int x = input(g, "x", 2, d), y = act(g, "y"), z = act(g, "z");
    n1(g, PP_OP_IDENTITY, "id", x, y);
    n1(g, PP_OP_RELU, "relu", x, z);
    int outs[2] = {y, z};
    io(g, 1, &x, 2, outs);
    check1(g, pp_pass_identity, 0, 2);
    pp_graph_free(g);
}

/* ---- batch norm folding --------------------------------------------------- */

static void bn_params(pp_graph *g, int c, int *p) {
    int64_t d = c;
    p[0] = rweight(g, "bn.scale", 1, &d, -1.f, 1.f);
    p[1] = rweight(g, "bn.bias", 1, &d, -1.f, 1.f);
    p[2] = rweight(g, "bn.mean", 1, &d, -1.f, 1.f);
    p[3] = rweight(g, "bn.var", 1, &d, 0.2f, 1.f);
}

static int conv(pp_graph *g, const char *name, int x, int cin, int cout, int bias, int out) {
    int64_t wd[4] = {cout, cin, 3, 3}, bd = cout;
    int in[3] = {x, rweight(g, "w", 4, wd, -0.5f, 0.5f), bias ? rweight(g, "b", 1, &bd, -0.5f, 0.5f) : -1};
    int k = node(g, PP_OP_CONV, name, bias ? 3 : 2, in, out);
    int64_t pads[4] = {1, 1, 1, 1}, ones[2] = {1, 1};
    set_ints(g, k, "pads", pads, 4);
    set_ints(g, k, "strides", ones, 2);
    return k;
}

static pp_graph *conv_bn(int bias, int extra_use, int bn_scale_input) {
    pp_graph *g = pp_graph_new();
    int64_t d[4] = {B, 3, 6, 6};
    int x = input(g, "x", 4, d), c = act(g, "c"), y = act(g, "y"), z = act(g, "z");
    conv(g, "conv", x, 3, 4, bias, c);
    int p[4];
    bn_params(g, 4, p);
    int ins[2] = {x, -1}, n_ins = 1;
    if (bn_scale_input) {
        int64_t sd = 4;
        p[0] = ins[1] = input(g, "scale", 1, &sd);
        n_ins = 2;
    }
    int in[5] = {c, p[0], p[1], p[2], p[3]};
    int k = node(g, PP_OP_BATCHNORM, "bn", 5, in, y);
    cr_assert_eq(pp_node_set_float(g, k, "epsilon", 1e-3, &err), PP_OK);
    int outs[2] = {y, z};
    if (extra_use) n1(g, PP_OP_RELU, "relu", c, z);
    io(g, n_ins, ins, extra_use ? 2 : 1, outs);
    return g;
}

Test(pass_bn_fold, conv_with_and_without_bias) {
    for (int bias = 0; bias < 2; bias++) {
        pp_graph *g = conv_bn(bias, 0, 0);
        check1(g, pp_pass_bn_fold, 1, 1);
        cr_assert_eq(count_op(g, PP_OP_BATCHNORM), 0);
        cr_assert_eq(g->nodes[0].op, PP_OP_CONV);
        pp_graph_free(g);
    }
}

Test(pass_bn_fold, not_when_conv_output_has_another_reader) {
    pp_graph *g = conv_bn(1, 1, 0);
    check1(g, pp_pass_bn_fold, 0, 3);
    pp_graph_free(g);
}

Test(pass_bn_fold, not_when_params_are_not_constant) {
    pp_graph *g = conv_bn(1, 0, 1);
    check1(g, pp_pass_bn_fold, 0, 2);
    pp_graph_free(g);
}

Test(pass_bn_fold, gemm_transb_and_not) {
    for (int tb = 0; tb < 2; tb++) {
        pp_graph *g = pp_graph_new();
        int64_t d[2] = {B, 5}, wd[2] = {tb ? 6 : 5, tb ? 5 : 6}, cd = 6;
        int x = input(g, "x", 2, d), m = act(g, "m"), y = act(g, "y");
        int in[3] = {x, rweight(g, "w", 2, wd, -1.f, 1.f), rweight(g, "c", 1, &cd, -1.f, 1.f)};
        int k = node(g, PP_OP_GEMM, "gemm", tb ? 3 : 2, in, m);
        cr_assert_eq(pp_node_set_int(g, k, "transB", tb, &err), PP_OK);
        cr_assert_eq(pp_node_set_float(g, k, "beta", 0.5, &err), PP_OK);
        int p[4];
        bn_params(g, 6, p);
        int bi[5] = {m, p[0], p[1], p[2], p[3]};
        node(g, PP_OP_BATCHNORM, "bn", 5, bi, y);
        io(g, 1, &x, 1, &y);
        check1(g, pp_pass_bn_fold, 1, 1);
        cr_assert_eq(g->nodes[0].op, PP_OP_GEMM);
        pp_graph_free(g);
    }
}

/* ---- activation and residual fusion --------------------------------------- */

static const pp_pass_fn fuse_all[] = {pp_pass_silu, pp_pass_residual, pp_pass_act};

Test(pass_fuse_act, conv_silu_and_hardswish) {
    for (int hs = 0; hs < 2; hs++) {
        pp_graph *g = pp_graph_new();
        int64_t d[4] = {B, 3, 5, 5};
        int x = input(g, "x", 4, d), c = act(g, "c"), s = act(g, "s"), y = act(g, "y");
        conv(g, "conv", x, 3, 4, 1, c);
        int k = n1(g, hs ? PP_OP_HARDSIGMOID : PP_OP_SIGMOID, "gate", c, s);
        if (hs) {
            cr_assert_eq(pp_node_set_float(g, k, "alpha", 1.0 / 6, &err), PP_OK);
            cr_assert_eq(pp_node_set_float(g, k, "beta", 0.5, &err), PP_OK);
        }
        n2(g, PP_OP_MUL, "mul", s, c, y);
        io(g, 1, &x, 1, &y);
        check(g, fuse_all, 3, 2, 1);
        cr_assert_eq(pp_node_int(&g->nodes[0], "activation", 0), hs ? PP_ACT_HARDSWISH : PP_ACT_SILU);
        pp_graph_free(g);
    }
}

Test(pass_fuse_act, hardsigmoid_of_other_constants_is_not_hardswish) {
    pp_graph *g = pp_graph_new();
    int64_t d[2] = {B, 5};
    int x = input(g, "x", 2, d), s = act(g, "s"), y = act(g, "y");
    n1(g, PP_OP_HARDSIGMOID, "hs", x, s); /* alpha 0.2 by default */
    n2(g, PP_OP_MUL, "mul", x, s, y);
    io(g, 1, &x, 1, &y);
    check1(g, pp_pass_silu, 0, 2);
    pp_graph_free(g);
}

Test(pass_fuse_act, residual_then_relu) {
    pp_graph *g = pp_graph_new();
    int64_t d[4] = {B, 4, 5, 5};
    int x = input(g, "x", 4, d), c = act(g, "c"), a = act(g, "a"), y = act(g, "y");
    conv(g, "conv", x, 4, 4, 1, c);
    n2(g, PP_OP_ADD, "add", x, c, a);
    n1(g, PP_OP_RELU, "relu", a, y);
    io(g, 1, &x, 1, &y);
    check(g, fuse_all, 3, 2, 1);
    const pp_node *n = &g->nodes[0];
    cr_assert_eq(n->op, PP_OP_CONV);
    cr_assert_eq(n->n_in, 4);
    cr_assert_eq(n->in[3], x);
    cr_assert_eq(pp_node_int(n, "activation", 0), PP_ACT_RELU);
    pp_graph_free(g);
}

Test(pass_fuse_act, gemm_clip_and_leaky) {
    for (int leaky = 0; leaky < 2; leaky++) {
        pp_graph *g = pp_graph_new();
        int64_t d[2] = {B, 5}, wd[2] = {5, 6};
        int x = input(g, "x", 2, d), m = act(g, "m"), y = act(g, "y");
        int in[2] = {x, rweight(g, "w", 2, wd, -1.f, 1.f)};
        node(g, PP_OP_GEMM, "gemm", 2, in, m);
        int k = n1(g, leaky ? PP_OP_LEAKY_RELU : PP_OP_CLIP, "act", m, y);
        if (leaky) {
            cr_assert_eq(pp_node_set_float(g, k, "alpha", 0.1, &err), PP_OK);
        } else {
            cr_assert_eq(pp_node_set_float(g, k, "min", -0.5, &err), PP_OK);
            cr_assert_eq(pp_node_set_float(g, k, "max", 0.7, &err), PP_OK);
        }
        io(g, 1, &x, 1, &y);
        check(g, fuse_all, 3, 1, 1);
        cr_assert_eq(pp_node_int(&g->nodes[0], "activation", 0), leaky ? PP_ACT_LEAKY_RELU : PP_ACT_CLIP);
        pp_graph_free(g);
    }
}

Test(pass_fuse_act, not_when_conv_output_has_another_reader) {
    pp_graph *g = pp_graph_new();
    int64_t d[4] = {B, 4, 5, 5};
    int x = input(g, "x", 4, d), c = act(g, "c"), a = act(g, "a"), y = act(g, "y"), z = act(g, "z");
    conv(g, "conv", x, 4, 4, 1, c);
    n2(g, PP_OP_ADD, "add", c, x, a);
    n1(g, PP_OP_RELU, "relu", a, y);
    n1(g, PP_OP_TANH, "tanh", c, z);
    int outs[2] = {y, z};
    io(g, 1, &x, 2, outs);
    check(g, fuse_all, 3, 0, 4);
    pp_graph_free(g);
}

/* ---- matmul + add --------------------------------------------------------- */

static pp_graph *matmul_add(int rank) {
    pp_graph *g = pp_graph_new();
    int64_t d[3] = {B, 4, 5}, wd[2] = {5, 6}, bd = 6;
    int x = input(g, "x", rank, rank == 2 ? d + 1 - 1 : d), m = act(g, "m"), y = act(g, "y");
    if (rank == 2) {
        int64_t d2[2] = {B, 5};
        g->tensors[x].dims[0] = d2[0];
        g->tensors[x].dims[1] = d2[1];
    }
    n2(g, PP_OP_MATMUL, "mm", x, rweight(g, "w", 2, wd, -1.f, 1.f), m);
    n2(g, PP_OP_ADD, "add", rweight(g, "b", 1, &bd, -1.f, 1.f), m, y);
    io(g, 1, &x, 1, &y);
    return g;
}

Test(pass_matmul_add, two_d_becomes_gemm) {
    pp_graph *g = matmul_add(2);
    check1(g, pp_pass_matmul_add, 1, 1);
    cr_assert_eq(g->nodes[0].op, PP_OP_GEMM);
    pp_graph_free(g);
}

Test(pass_matmul_add, three_d_stays) {
    pp_graph *g = matmul_add(3);
    check1(g, pp_pass_matmul_add, 0, 2);
    pp_graph_free(g);
}

/* ---- GELU ----------------------------------------------------------------- */

/* variant 0: Div √2, Mul(x, u), Mul(·, 0.5); 1: Mul(x, 0.5) first, then Mul(h, u);
 * 2: Mul 1/√2, Mul(u, 0.5), Mul(·, x). bad: the divisor is 1.5. extra: Erf's
 * output is also a graph output. */
static pp_graph *gelu_erf(int variant, int bad, int extra) {
    pp_graph *g = pp_graph_new();
    int64_t d[2] = {B, 7};
    int x = input(g, "x", 2, d), q = act(g, "q"), e = act(g, "e"), u = act(g, "u"), t = act(g, "t"), y = act(g, "y");
    if (variant == 2) n2(g, PP_OP_MUL, "scale", scalar(g, "c", 0.70710677f), x, q);
    else n2(g, PP_OP_DIV, "scale", x, scalar(g, "c", bad ? 1.5f : 1.4142135f), q);
    n1(g, PP_OP_ERF, "erf", q, e);
    n2(g, PP_OP_ADD, "add", e, scalar(g, "one", 1.f), u);
    if (variant == 0) {
        n2(g, PP_OP_MUL, "mul1", x, u, t);
        n2(g, PP_OP_MUL, "mul2", t, scalar(g, "half", 0.5f), y);
    } else if (variant == 1) {
        n2(g, PP_OP_MUL, "mul1", x, scalar(g, "half", 0.5f), t);
        n2(g, PP_OP_MUL, "mul2", t, u, y);
    } else {
        n2(g, PP_OP_MUL, "mul1", u, scalar(g, "half", 0.5f), t);
        n2(g, PP_OP_MUL, "mul2", t, x, y);
    }
    int outs[2] = {y, e};
    io(g, 1, &x, extra ? 2 : 1, outs);
    return g;
}

Test(pass_gelu, erf_variants) {
    for (int v = 0; v < 3; v++) {
        pp_graph *g = gelu_erf(v, 0, 0);
        check1(g, pp_pass_gelu, 1, 1);
        cr_assert_eq(g->nodes[0].op, PP_OP_GELU, "variant %d", v);
        pp_graph_free(g);
    }
}

Test(pass_gelu, erf_wrong_constant_or_extra_reader) {
    pp_graph *g = gelu_erf(0, 1, 0);
    check1(g, pp_pass_gelu, 0, 5);
    pp_graph_free(g);
    g = gelu_erf(1, 0, 1);
    check1(g, pp_pass_gelu, 0, 5);
    pp_graph_free(g);
}

/* gpt's NewGELU: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); cube 0: Pow, 1: Mul(x, Mul(x, x)). */
static pp_graph *gelu_tanh(int cube, float c2) {
    pp_graph *g = pp_graph_new();
    int64_t d[3] = {B, 3, 8};
    int x = input(g, "x", 3, d), h = act(g, "h"), p = act(g, "p"), sq = act(g, "sq"), q = act(g, "q"), r = act(g, "r"),
        s = act(g, "s"), t = act(g, "t"), u = act(g, "u"), y = act(g, "y");
    n2(g, PP_OP_MUL, "half", scalar(g, "c_half", 0.5f), x, h);
    if (cube) {
        n2(g, PP_OP_MUL, "sq", x, x, sq);
        n2(g, PP_OP_MUL, "cube", x, sq, p);
    } else {
        n2(g, PP_OP_POW, "pow", x, scalar(g, "three", 3.f), p);
    }
    n2(g, PP_OP_MUL, "c2", scalar(g, "c_0044", c2), p, q);
    n2(g, PP_OP_ADD, "add", x, q, r);
    n2(g, PP_OP_MUL, "c1", scalar(g, "c_sqrt2pi", 0.7978845834732056f), r, s);
    n1(g, PP_OP_TANH, "tanh", s, t);
    n2(g, PP_OP_ADD, "one", scalar(g, "c_one", 1.f), t, u);
    n2(g, PP_OP_MUL, "out", h, u, y);
    io(g, 1, &x, 1, &y);
    return g;
}

Test(pass_gelu, tanh_pow_and_mul_cube) {
    for (int cube = 0; cube < 2; cube++) {
        pp_graph *g = gelu_tanh(cube, 0.044715f);
        check1(g, pp_pass_gelu, 1, 1);
        cr_assert_eq(g->nodes[0].op, PP_OP_GELU_TANH);
        pp_graph_free(g);
    }
}

Test(pass_gelu, tanh_wrong_constant) {
    pp_graph *g = gelu_tanh(0, 0.05f);
    check1(g, pp_pass_gelu, 0, 8);
    pp_graph_free(g);
}

/* ---- layer norm ----------------------------------------------------------- */

/* sq 0: Pow(d, 2) (bad: exponent 4); 1: Mul(d, d). bias: the final Add. */
static pp_graph *layernorm(int mul_sq, int bias, int bad) {
    pp_graph *g = pp_graph_new();
    int64_t d[3] = {B, 3, 8}, cd = 8, ax = -1;
    int x = input(g, "x", 3, d), m = act(g, "m"), dd = act(g, "d"), p = act(g, "p"), v = act(g, "v"), a = act(g, "a"),
        s = act(g, "s"), n = act(g, "n"), ms = act(g, "ms"), y = act(g, "y");
    set_ints(g, n1(g, PP_OP_REDUCE_MEAN, "mean", x, m), "axes", &ax, 1);
    n2(g, PP_OP_SUB, "sub", x, m, dd);
    if (mul_sq) n2(g, PP_OP_MUL, "sq", dd, dd, p);
    else n2(g, PP_OP_POW, "sq", dd, scalar(g, "two", bad ? 4.f : 2.f), p);
    set_ints(g, n1(g, PP_OP_REDUCE_MEAN, "var", p, v), "axes", &ax, 1);
    n2(g, PP_OP_ADD, "eps", v, scalar(g, "epsilon", 1e-5f), a);
    n1(g, PP_OP_SQRT, "sqrt", a, s);
    n2(g, PP_OP_DIV, "div", dd, s, n);
    n2(g, PP_OP_MUL, "scale", rweight(g, "gamma", 1, &cd, -1.f, 1.f), n, bias ? ms : y);
    if (bias) n2(g, PP_OP_ADD, "bias", ms, rweight(g, "beta", 1, &cd, -1.f, 1.f), y);
    io(g, 1, &x, 1, &y);
    return g;
}

Test(pass_layernorm, pow_and_mul_forms) {
    for (int v = 0; v < 2; v++) {
        pp_graph *g = layernorm(v, !v, 0);
        check1(g, pp_pass_layernorm, 1, 1);
        const pp_node *n = &g->nodes[0];
        cr_assert_eq(n->op, PP_OP_LAYERNORM);
        cr_assert_eq(n->n_in, v ? 2 : 3);
        cr_assert(fabs(pp_node_float(n, "epsilon", 0) - 1e-5) < 1e-9);
        pp_graph_free(g);
    }
}

Test(pass_layernorm, wrong_exponent) {
    pp_graph *g = layernorm(0, 1, 1);
    check1(g, pp_pass_layernorm, 0, 9);
    pp_graph_free(g);
}

/* ---- attention ------------------------------------------------------------ */

enum { MASK_NONE, MASK_ADD, MASK_CAUSAL, MASK_CAUSAL_FLIPPED, MASK_NOT_CAUSAL };

/* Q, V (N,2,4,8); K given as (N,2,4,8) and transposed (0,1,3,2), or (perm_k) as
 * (N,4,2,8) and transposed (0,2,3,1). extra: the softmax output is also an output. */
static pp_graph *attention(int mask, int perm_k, int extra) {
    pp_graph *g = pp_graph_new();
    int64_t d[4] = {B, 2, 4, 8}, dk[4] = {B, 4, 2, 8}, md[4] = {1, 1, 4, 4};
    int q = input(g, "q", 4, d), k = input(g, "k", 4, perm_k ? dk : d), v = input(g, "v", 4, d);
    int kt = act(g, "kt"), s = act(g, "s"), sc = act(g, "sc"), sm = act(g, "sm"), p = act(g, "p"), y = act(g, "y");
    int64_t perm[4] = {0, 1, 3, 2}, perm2[4] = {0, 2, 3, 1}, axis = -1;
    set_ints(g, n1(g, PP_OP_TRANSPOSE, "kt", k, kt), "perm", perm_k ? perm2 : perm, 4);
    n2(g, PP_OP_MATMUL, "qk", q, kt, s);
    n2(g, PP_OP_DIV, "scale", s, scalar(g, "c", 2.828427f), mask == MASK_NONE ? sm : sc);
    if (mask == MASK_ADD) {
        n2(g, PP_OP_ADD, "mask", sc, rweight(g, "m", 4, md, -1.f, 1.f), sm);
    } else if (mask != MASK_NONE) {
        unsigned char cond[16];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                int keep = mask == MASK_NOT_CAUSAL ? j != i : j <= i;
                cond[i * 4 + j] = (unsigned char)(mask == MASK_CAUSAL_FLIPPED ? !keep : keep);
            }
        int ct = pp_graph_add_weight(g, "cond", PP_DTYPE_BOOL, 4, md, cond, 16, &err);
        int fill = scalar(g, "ninf", -INFINITY);
        int in[3] = {ct, mask == MASK_CAUSAL_FLIPPED ? fill : sc, mask == MASK_CAUSAL_FLIPPED ? sc : fill};
        node(g, PP_OP_WHERE, "where", 3, in, sm);
    }
    cr_assert_eq(pp_node_set_int(g, n1(g, PP_OP_SOFTMAX, "softmax", sm, p), "axis", axis, &err), PP_OK);
    n2(g, PP_OP_MATMUL, "pv", p, v, y);
    int ins[3] = {q, k, v}, outs[2] = {y, p};
    io(g, 3, ins, extra ? 2 : 1, outs);
    return g;
}

Test(pass_attention, plain_additive_and_causal) {
    int masks[] = {MASK_NONE, MASK_ADD, MASK_CAUSAL, MASK_CAUSAL_FLIPPED};
    for (int i = 0; i < 4; i++) {
        pp_graph *g = attention(masks[i], 0, 0);
        check1(g, pp_pass_attention, 1, 1);
        const pp_node *n = find_op(g, PP_OP_ATTENTION);
        cr_assert(n != NULL);
        cr_assert_eq(n->n_in, masks[i] == MASK_ADD ? 4 : 3);
        cr_assert_eq(pp_node_int(n, "causal", 0), masks[i] == MASK_CAUSAL || masks[i] == MASK_CAUSAL_FLIPPED);
        cr_assert(fabs(pp_node_float(n, "scale", 0) - 1 / 2.828427) < 1e-6);
        pp_graph_free(g);
    }
}

Test(pass_attention, k_through_another_transpose) {
    pp_graph *g = attention(MASK_CAUSAL, 1, 0);
    check1(g, pp_pass_attention, 1, 2); /* one composed transpose + ATTENTION */
    cr_assert_eq(count_op(g, PP_OP_TRANSPOSE), 1);
    cr_assert_eq(count_op(g, PP_OP_ATTENTION), 1);
    pp_graph_free(g);
}

Test(pass_attention, not_for_other_masks_or_extra_readers) {
    pp_graph *g = attention(MASK_NOT_CAUSAL, 0, 0);
    check1(g, pp_pass_attention, 0, 6);
    pp_graph_free(g);
    g = attention(MASK_ADD, 0, 1);
    check1(g, pp_pass_attention, 0, 6);
    pp_graph_free(g);
}

/* ---- the whole pipeline --------------------------------------------------- */

Test(pass_pipeline, stats_count_nodes) {
    pp_graph *g = conv_bn(1, 0, 0);
    pp_pass_stat st[PP_PASS_MAX];
    int n = 0;
    cr_assert_eq(pp_run_passes(g, st, &n, &err), PP_OK, "%s", err.msg);
    cr_assert(n >= 9);
    cr_assert_str_eq(st[1].name, "bn_fold");
    cr_assert_eq(st[1].nodes_before, 2);
    cr_assert_eq(st[1].nodes_after, 1);
    cr_assert_eq(g->n_nodes, 1);
    pp_graph_free(g);
}

/* ---- the fixtures: the passes fire where the models have the patterns ------ */

#include "converter/convert.h"

#ifndef PP_SOURCE_DIR
#define PP_SOURCE_DIR "."
#endif

static pp_graph *convert_fixture(const char *name, pp_onnx **h) {
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fixtures/models/%s.onnx", PP_SOURCE_DIR, name);
    pp_onnx_options oo;
    memset(&oo, 0, sizeof oo);
    pp_graph *g = NULL;
    cr_assert_eq(pp_convert_onnx_graph(path, &oo, h, &g, NULL, &err), PP_OK, "%s: %s", name, err.msg);
    return g;
}

static int count_act(const pp_graph *g, pp_act_kind k) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n += (g->nodes[i].op == PP_OP_CONV || g->nodes[i].op == PP_OP_GEMM) &&
             pp_node_int(&g->nodes[i], "activation", 0) == k;
    return n;
}

Test(pass_fixtures, fused_ops_present) {
    pp_onnx *h;
    pp_graph *g = convert_fixture("resnet_bn", &h);
    cr_assert_eq(count_op(g, PP_OP_BATCHNORM), 0);
    cr_assert_eq(count_op(g, PP_OP_ADD), 0, "residual adds fused");
    cr_assert_eq(count_op(g, PP_OP_RELU), 0);
    pp_graph_free(g);
    pp_onnx_free(h);

    g = convert_fixture("vit", &h);
    cr_assert_eq(count_op(g, PP_OP_LAYERNORM), 5);
    cr_assert_eq(count_op(g, PP_OP_GELU), 2);
    cr_assert_eq(count_op(g, PP_OP_ATTENTION), 2);
    cr_assert_eq(count_op(g, PP_OP_SOFTMAX), 0);
    pp_graph_free(g);
    pp_onnx_free(h);

    g = convert_fixture("gpt", &h);
    cr_assert_eq(count_op(g, PP_OP_GELU_TANH), 2);
    cr_assert_eq(count_op(g, PP_OP_LAYERNORM), 5);
    cr_assert_eq(count_op(g, PP_OP_ATTENTION), 2);
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == PP_OP_ATTENTION) cr_assert_eq(pp_node_int(&g->nodes[i], "causal", 0), 1);
    pp_graph_free(g);
    pp_onnx_free(h);

    g = convert_fixture("mobilenet", &h);
    cr_assert_eq(count_op(g, PP_OP_HARDSIGMOID) + count_op(g, PP_OP_HARDSWISH) + count_op(g, PP_OP_CLIP), 0);
    cr_assert(count_act(g, PP_ACT_HARDSWISH) > 0 && count_act(g, PP_ACT_CLIP) > 0);
    pp_graph_free(g);
    pp_onnx_free(h);

    g = convert_fixture("efficientnet", &h);
    cr_assert(count_act(g, PP_ACT_SILU) > 0 && count_act(g, PP_ACT_SIGMOID) > 0);
    cr_assert_eq(count_op(g, PP_OP_SIGMOID), 0);
    pp_graph_free(g);
    pp_onnx_free(h);

    g = convert_fixture("mlp", &h);
    cr_assert_eq(g->n_nodes, 3);
    cr_assert_eq(count_act(g, PP_ACT_GELU), 1);
    pp_graph_free(g);
    pp_onnx_free(h);
}

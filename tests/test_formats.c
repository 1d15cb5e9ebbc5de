/* test_formats.c: the layout and precision planner (engine/formats.h) and its
 * REFORMAT op.
 *
 * REFORMAT's CPU kernel is checked against index arithmetic written out here
 * (plain, NHWC, NCHWc with zero padding; f32, f16, bf16). The planner is driven
 * by test policies and checked for what it inserts (one conversion per tensor
 * and format, shared by consumers; weights converted once at plan time, with no
 * node; outputs back to their declared type under their own names; relabels
 * where the bytes coincide), then run on the CPU backend against a reference.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/exec.h"
#include "engine/formats.h"
#include "kernels/cpu/cpu_kernels.h"
#include "support/small_graphs.h"

/* ---- REFORMAT ------------------------------------------------------------------ */

static size_t at(pp_layout l, int b, int64_t C, int64_t H, int64_t W, int64_t n, int64_t c, int64_t h, int64_t w) {
    if (l == PP_LAYOUT_NHWC) return (size_t)(((n * H + h) * W + w) * C + c);
    if (l == PP_LAYOUT_NCHWC) {
        int64_t cb = (C + b - 1) / b;
        return (size_t)((((n * cb + c / b) * H + h) * W + w) * b + c % b);
    }
    return (size_t)(((n * C + c) * H + h) * W + w);
}

static void reformat(pp_format from, pp_format to, int64_t N, int64_t C, int64_t H, int64_t W, const void *x, void *y) {
    pp_op_params p;
    memset(&p, 0, sizeof p);
    p.reformat = (pp_reformat_params){from, to, N, C, H, W, N * C * H * W};
    const void *in[1] = {x};
    void *out[1] = {y};
    cr_assert_eq(pp_cpu_kernel_for(PP_OP_REFORMAT)(&p, in, out, NULL), 0);
}

Test(reformat, layouts_place_every_element_and_zero_the_padding) {
    const int64_t N = 2, C = 5, H = 3, W = 4, n = N * C * H * W;
    float *x = test_random_floats((size_t)n, 3);
    float nhwc[120], blocked[2 * 8 * 12], back[120];
    pp_format plain = {PP_DTYPE_F32, PP_LAYOUT_PLAIN, 0}, tl = {PP_DTYPE_F32, PP_LAYOUT_NHWC, 0},
              tb = {PP_DTYPE_F32, PP_LAYOUT_NCHWC, 8};
    reformat(plain, tl, N, C, H, W, x, nhwc);
    memset(blocked, 0x55, sizeof blocked);
    reformat(tl, tb, N, C, H, W, nhwc, blocked);
    for (int64_t b = 0; b < N; b++)
        for (int64_t c = 0; c < 8; c++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++) {
                    float v = blocked[at(PP_LAYOUT_NCHWC, 8, C, H, W, b, c, h, w)];
                    if (c >= C) {
                        cr_assert_eq(v, 0.f, "padding lane c=%lld holds %g", (long long)c, v);
                        continue;
                    }
                    float want = x[at(PP_LAYOUT_PLAIN, 0, C, H, W, b, c, h, w)];
                    cr_assert_eq(nhwc[at(PP_LAYOUT_NHWC, 0, C, H, W, b, c, h, w)], want);
                    cr_assert_eq(v, want, "(%lld,%lld,%lld,%lld)", (long long)b, (long long)c, (long long)h,
                                 (long long)w);
                }
    reformat(tb, plain, N, C, H, W, blocked, back);
    cr_assert(memcmp(back, x, sizeof back) == 0, "plain -> NHWC -> NCHW8c -> plain is not the identity");
    free(x);
}

Test(reformat, dtypes_round_to_nearest_even) {
    const int64_t n = 64;
    float *x = test_random_floats((size_t)n, 5);
    uint16_t h16[64], b16[64];
    float back[64];
    pp_format f32 = {PP_DTYPE_F32, PP_LAYOUT_PLAIN, 0}, f16 = {PP_DTYPE_F16, PP_LAYOUT_PLAIN, 0},
              bf16 = {PP_DTYPE_BF16, PP_LAYOUT_PLAIN, 0};
    reformat(f32, f16, n, 1, 1, 1, x, h16);
    reformat(f16, bf16, n, 1, 1, 1, h16, b16);
    reformat(bf16, f32, n, 1, 1, 1, b16, back);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(h16[i], pp_f32_to_f16(x[i]));
        cr_assert_eq(b16[i], pp_f32_to_bf16(pp_f16_to_f32(h16[i])));
        cr_assert_eq(back[i], pp_bf16_to_f32(b16[i]));
    }
    free(x);
}

static pp_node reformat_node(pp_attr *attrs, int64_t dtype, int64_t layout, int64_t block) {
    attrs[0] = (pp_attr){.name = "dtype", .type = PP_ATTR_INT, .i = dtype};
    attrs[1] = (pp_attr){.name = "layout", .type = PP_ATTR_INT, .i = layout};
    attrs[2] = (pp_attr){.name = "block", .type = PP_ATTR_INT, .i = block};
    return (pp_node){.op = PP_OP_REFORMAT, .name = "r", .n_in = 1, .n_out = 1, .n_attr = 3, .attrs = attrs};
}

Test(reformat, describe_refuses_what_it_cannot_convert) {
    pp_attr a[3];
    pp_shape x3 = {.dtype = PP_DTYPE_F32, .rank = 3, .dims = {2, 3, 4}}, out;
    pp_shape i64 = {.dtype = PP_DTYPE_I64, .rank = 1, .dims = {4}};
    pp_op_params p;
    pp_error err;
    pp_node n = reformat_node(a, PP_DTYPE_F32, PP_LAYOUT_NHWC, 0);
    cr_assert_eq(pp_op_describe(&n, &x3, &out, &p, NULL, NULL, &err), PP_ERR_SHAPE);
    cr_assert(strstr(err.msg, "rank-4"), "%s", err.msg);
    pp_shape x4 = {.dtype = PP_DTYPE_F32, .rank = 4, .dims = {1, 3, 2, 2}};
    n = reformat_node(a, PP_DTYPE_F32, PP_LAYOUT_NCHWC, 3);
    cr_assert_eq(pp_op_describe(&n, &x4, &out, &p, NULL, NULL, &err), PP_ERR_FORMAT);
    cr_assert(strstr(err.msg, "block 3"), "%s", err.msg);
    n = reformat_node(a, PP_DTYPE_F16, PP_LAYOUT_PLAIN, 0);
    cr_assert_eq(pp_op_describe(&n, &i64, &out, &p, NULL, NULL, &err), PP_ERR_UNSUPPORTED);
    cr_assert(strstr(err.msg, "i64 to f16"), "%s", err.msg);
    n = reformat_node(a, PP_DTYPE_F16, PP_LAYOUT_NCHWC, 16);
    cr_assert_eq(pp_op_describe(&n, &x4, &out, &p, NULL, NULL, &err), PP_OK, "%s", err.msg);
    cr_assert(out.dtype == PP_DTYPE_F16 && out.layout == PP_LAYOUT_NCHWC && out.block == 16);
}

/* ---- the planner ----------------------------------------------------------------- */

static pp_graph *graph_or_die(pp_graph *g, pp_code rc, pp_error *err) {
    cr_assert_eq(rc, PP_OK, "%s", err->msg);
    return g;
}

/* A test policy: IDENTITY and GATHER (data) want f16, RELU wants f32. */
static void f16_policy(const pp_format_caps *caps, const pp_node *node, const pp_shape *have, pp_shape *want) {
    (void)caps;
    (void)have;
    if (node->op == PP_OP_IDENTITY || node->op == PP_OP_GATHER) want[0].dtype = PP_DTYPE_F16;
    if (node->op == PP_OP_RELU) want[0].dtype = PP_DTYPE_F32;
}

/* x (N,4) → id1 → relu → id2 → y, and x → id3 → z: x is converted to f16 once
 * for both identities. */
static pp_graph *chain_graph(void) {
    pp_error err;
    pp_graph *g = pp_graph_new();
    int64_t d[2] = {PP_DIM_BATCH, 4};
    int x = pp_graph_add_tensor(g, "x", PP_DTYPE_F32, PP_TENSOR_INPUT, 2, d, &err);
    int t[6];
    const char *names[6] = {"t1", "t2", "y", "z", "", ""};
    for (int i = 0; i < 4; i++) t[i] = pp_graph_add_tensor(g, names[i], PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 2, d, &err);
    pp_graph_add_node(g, PP_OP_IDENTITY, "id1", 1, &x, 1, &t[0], &err);
    pp_graph_add_node(g, PP_OP_RELU, "relu", 1, &t[0], 1, &t[1], &err);
    pp_graph_add_node(g, PP_OP_IDENTITY, "id2", 1, &t[1], 1, &t[2], &err);
    pp_graph_add_node(g, PP_OP_IDENTITY, "id3", 1, &x, 1, &t[3], &err);
    return graph_or_die(g, pp_graph_set_io(g, 1, &x, 2, (int[]){t[2], t[3]}, &err) || pp_graph_infer(g, &err), &err);
}

static int count_op(const pp_graph *g, pp_op op) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += g->nodes[i].op == op;
    return n;
}

static const pp_tensor *named(const pp_graph *g, const char *name) {
    for (int i = 0; i < g->n_tensors; i++)
        if (!strcmp(g->tensors[i].name, name)) return &g->tensors[i];
    return NULL;
}

Test(planner, converts_only_where_producer_and_consumer_disagree) {
    pp_graph *g = chain_graph(), *p = NULL;
    pp_format_caps caps = {"cpu", PP_PREC_FP32, NULL, 0};
    pp_format_report rep;
    pp_error err;
    cr_assert_eq(pp_formats_plan(g, &caps, f16_policy, &p, &rep, &err), PP_OK, "%s", err.msg);
    /* x→f16 (shared by id1 and id3), t1→f32 for relu, and the outputs y and z
     * (f16 after the identities) back to f32; relu's output stays f32 into id2,
     * which asks for f16 again. */
    cr_assert_eq(rep.conversions, 5, "%d conversions", rep.conversions);
    cr_assert_eq(count_op(p, PP_OP_REFORMAT), 5);
    cr_assert_eq(rep.relabels, 0);
    /* the outputs keep their names and declared dtype; the planned ones are renamed */
    for (int i = 0; i < p->n_outputs; i++) {
        const pp_tensor *o = &p->tensors[p->outputs[i]];
        cr_assert_str_eq(o->name, i ? "z" : "y");
        cr_assert_eq(o->dtype, PP_DTYPE_F32);
        cr_assert_eq(o->layout, PP_LAYOUT_PLAIN);
    }
    cr_assert_not_null(named(p, "y@f16 plain"));
    cr_assert_eq(named(p, "t1")->dtype, PP_DTYPE_F16, "id1 runs in f16");
    cr_assert_eq(named(p, "t2")->dtype, PP_DTYPE_F32, "relu runs in f32");
    /* every node runs after its inputs are made */
    for (int i = 0; i < p->n_nodes; i++)
        for (int j = 0; j < p->nodes[i].n_in; j++) {
            int prod = p->tensors[p->nodes[i].in[j]].producer;
            cr_assert(prod < i, "node %d '%s' reads a tensor made by node %d", i, p->nodes[i].name, prod);
        }
    pp_graph_free(p);
    pp_graph_free(g);
}

Test(planner, planned_graph_runs_and_rounds_through_f16) {
    pp_graph *g = chain_graph();
    const int batch = 5;
    float *x = test_random_floats(4 * batch, 11);
    float y[4 * batch], z[4 * batch];
    pp_exec_options o = {.devices = "cpu", .stages = 1, .max_batch = batch, .policy = f16_policy};
    pp_exec *e = NULL;
    pp_error err;
    cr_assert_eq(pp_exec_create(g, &o, &e, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_exec_formats(e).conversions, 5);
    const void *in[1] = {x};
    void *out[2] = {y, z};
    cr_assert_eq(pp_exec_output_bytes(e, 0, batch), sizeof y, "outputs keep their declared f32");
    cr_assert_eq(pp_exec_run(e, batch, in, out, &err), PP_OK, "%s", err.msg);
    for (int i = 0; i < 4 * batch; i++) {
        float r = pp_f16_to_f32(pp_f32_to_f16(x[i]));
        cr_assert_eq(z[i], r, "z[%d] = %g, f16(x) = %g", i, z[i], r);
        cr_assert_eq(y[i], r > 0 ? r : 0.f, "y[%d] = %g", i, y[i]);
    }
    pp_exec_free(e);
    pp_graph_free(g);
    free(x);
}

Test(planner, weights_are_converted_once_at_plan_time) {
    pp_error err;
    pp_graph *g = pp_graph_new(), *p = NULL;
    float w[5 * 3];
    for (int i = 0; i < 15; i++) w[i] = 0.1f * (float)i - 0.7f;
    int64_t wd[2] = {5, 3}, id[1] = {PP_DIM_BATCH}, yd[2] = {PP_DIM_BATCH, 3};
    int wt = pp_graph_add_weight(g, "table", PP_DTYPE_F32, 2, wd, w, sizeof w, &err);
    int idx = pp_graph_add_tensor(g, "ids", PP_DTYPE_I64, PP_TENSOR_INPUT, 1, id, &err);
    int y = pp_graph_add_tensor(g, "y", PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 2, yd, &err);
    pp_graph_add_node(g, PP_OP_GATHER, "lookup", 2, (int[]){wt, idx}, 1, &y, &err);
    graph_or_die(g, pp_graph_set_io(g, 1, &idx, 1, &y, &err) || pp_graph_infer(g, &err), &err);
    pp_format_caps caps = {"cpu", PP_PREC_FP32, NULL, 0};
    pp_format_report rep;
    cr_assert_eq(pp_formats_plan(g, &caps, f16_policy, &p, &rep, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(rep.conversions, 1, "only the output is converted at run time");
    const pp_tensor *w16 = named(p, "table@f16 plain");
    cr_assert_not_null(w16);
    cr_assert_eq(w16->kind, PP_TENSOR_WEIGHT);
    cr_assert_eq(w16->nbytes, 15 * 2);
    for (int i = 0; i < 15; i++) cr_assert_eq(((const uint16_t *)w16->data)[i], pp_f32_to_f16(w[i]));
    pp_graph_free(p);
    pp_graph_free(g);
}

/* A NHWC tensor of H = W = 1 is plain as well: relabelled, not converted. */
Test(planner, relabels_where_the_bytes_coincide) {
    pp_error err;
    pp_graph *g = pp_graph_new(), *p = NULL;
    int64_t d[4] = {PP_DIM_BATCH, 3, 1, 1};
    int x = pp_graph_add_tensor(g, "x", PP_DTYPE_F32, PP_TENSOR_INPUT, 4, d, &err);
    int y = pp_graph_add_tensor(g, "y", PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 4, d, &err);
    int n = pp_graph_add_node(g, PP_OP_REFORMAT, "to_nhwc", 1, &x, 1, &y, &err);
    pp_node_set_int(g, n, "layout", PP_LAYOUT_NHWC, &err);
    graph_or_die(g, pp_graph_set_io(g, 1, &x, 1, &y, &err) || pp_graph_infer(g, &err), &err);
    pp_format_caps caps = {"cpu", PP_PREC_FP32, NULL, 0};
    pp_format_report rep;
    cr_assert_eq(pp_formats_plan(g, &caps, NULL, &p, &rep, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(rep.conversions, 0);
    cr_assert_eq(rep.relabels, 1);
    cr_assert_eq(p->tensors[p->outputs[0]].layout, PP_LAYOUT_PLAIN);
    pp_graph_free(p);
    pp_graph_free(g);
}

Test(planner, same_bytes_and_device_facts) {
    pp_shape a = {.dtype = PP_DTYPE_F16, .rank = 4, .dims = {2, 8, 1, 1}}, b = a;
    b.layout = PP_LAYOUT_NHWC;
    cr_assert(pp_format_same_bytes(&a, &b));
    a.dims[3] = b.dims[3] = 2;
    cr_assert(!pp_format_same_bytes(&a, &b));
    b.layout = PP_LAYOUT_NCHWC;
    b.block = 8;
    a.dims[3] = b.dims[3] = 1;
    cr_assert(!pp_format_same_bytes(&a, &b), "blocked layouts pad");
    const pp_device_facts *h = pp_device_facts_find("H200");
    cr_assert_not_null(h);
    cr_assert_eq(h->cc_major, 9);
    cr_assert_null(pp_device_facts_find("v100"));
    for (const char *n = "h200\0h100\0a100\0l4\0"; *n; n += strlen(n) + 1) cr_assert_not_null(pp_device_facts_find(n));
}

/* The executor: single-device results against a plain C reference, and every
 * placement (stages × replicas × micro-batch × batch, batches not divisible by
 * either) bit-identical to the single-device run. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend.h"
#include "engine/exec.h"
#include "engine/graph.h"

#define IN 6
#define HID 10
#define OUT 4

static float W1[HID * IN], B1[HID], W2[HID * HID], W3[OUT * HID], B3[OUT];

static void init_weights(void) {
    unsigned s = 12345;
    float *all[] = {W1, B1, W2, W3, B3};
    size_t n[] = {HID * IN, HID, HID * HID, OUT * HID, OUT};
    for (int a = 0; a < 5; a++)
        for (size_t i = 0; i < n[a]; i++) {
            s = s * 1103515245u + 12345u;
            all[a][i] = (float)((s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
        }
}

/* x (N,6) → relu(x·W1ᵀ+b1)=h1 → h1·W2ᵀ=h2 → h3=h1+h2 → h3·W3ᵀ+b3 → softmax = probs.
 * Outputs: probs and h3 (an intermediate that also feeds later nodes, so it
 * must be forwarded across stage boundaries). */
static pp_graph *build(void) {
    pp_error err;
    pp_graph *g = pp_graph_new();
    cr_assert(g);
    int64_t dx[] = {PP_DIM_BATCH, IN}, dh[] = {PP_DIM_BATCH, HID}, dout[] = {PP_DIM_BATCH, OUT};
    int64_t dw1[] = {HID, IN}, db1[] = {HID}, dw2[] = {HID, HID}, dw3[] = {OUT, HID}, db3[] = {OUT};
    int x = pp_graph_add_tensor(g, "x", PP_DTYPE_F32, PP_TENSOR_INPUT, 2, dx, &err);
    int w1 = pp_graph_add_weight(g, "w1", PP_DTYPE_F32, 2, dw1, W1, sizeof W1, &err);
    int b1 = pp_graph_add_weight(g, "b1", PP_DTYPE_F32, 1, db1, B1, sizeof B1, &err);
    int w2 = pp_graph_add_weight(g, "w2", PP_DTYPE_F32, 2, dw2, W2, sizeof W2, &err);
    int w3 = pp_graph_add_weight(g, "w3", PP_DTYPE_F32, 2, dw3, W3, sizeof W3, &err);
    int b3 = pp_graph_add_weight(g, "b3", PP_DTYPE_F32, 1, db3, B3, sizeof B3, &err);
    int h1 = pp_graph_add_tensor(g, "h1", PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 2, dh, &err);
    int h2 = pp_graph_add_tensor(g, "h2", PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 2, dh, &err);
    int h3 = pp_graph_add_tensor(g, "h3", PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 2, dh, &err);
    int lg = pp_graph_add_tensor(g, "logits", PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 2, dout, &err);
    int pr = pp_graph_add_tensor(g, "probs", PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 2, dout, &err);
    int n;
    n = pp_graph_add_node(g, PP_OP_GEMM, "fc1", 3, (int[]){x, w1, b1}, 1, &h1, &err);
    pp_node_set_int(g, n, "transB", 1, &err);
    pp_node_set_int(g, n, "activation", 1 /* PP_ACT_RELU */, &err);
    n = pp_graph_add_node(g, PP_OP_GEMM, "fc2", 2, (int[]){h1, w2}, 1, &h2, &err);
    pp_node_set_int(g, n, "transB", 1, &err);
    pp_graph_add_node(g, PP_OP_ADD, "residual", 2, (int[]){h1, h2}, 1, &h3, &err);
    n = pp_graph_add_node(g, PP_OP_GEMM, "fc3", 3, (int[]){h3, w3, b3}, 1, &lg, &err);
    pp_node_set_int(g, n, "transB", 1, &err);
    n = pp_graph_add_node(g, PP_OP_SOFTMAX, "softmax", 1, &lg, 1, &pr, &err);
    pp_node_set_int(g, n, "axis", -1, &err);
    cr_assert_eq(pp_graph_set_io(g, 1, &x, 2, (int[]){pr, h3}, &err), PP_OK);
    cr_assert_eq(pp_graph_infer(g, &err), PP_OK, "%s", err.msg);
    return g;
}

static void reference(int n, const float *x, float *probs, float *h3) {
    for (int b = 0; b < n; b++) {
        float h1[HID], h2[HID], lg[OUT];
        for (int o = 0; o < HID; o++) {
            double s = B1[o];
            for (int i = 0; i < IN; i++) s += (double)x[b * IN + i] * W1[o * IN + i];
            h1[o] = s > 0 ? (float)s : 0.f;
        }
        for (int o = 0; o < HID; o++) {
            double s = 0;
            for (int i = 0; i < HID; i++) s += (double)h1[i] * W2[o * HID + i];
            h2[o] = (float)s;
            h3[b * HID + o] = h1[o] + h2[o];
        }
        double mx = -1e30, sum = 0;
        for (int o = 0; o < OUT; o++) {
            double s = B3[o];
            for (int i = 0; i < HID; i++) s += (double)h3[b * HID + i] * W3[o * HID + i];
            lg[o] = (float)s;
            if (s > mx) mx = s;
        }
        for (int o = 0; o < OUT; o++) sum += exp(lg[o] - mx);
        for (int o = 0; o < OUT; o++) probs[b * OUT + o] = (float)(exp(lg[o] - mx) / sum);
    }
}

static void run(pp_graph *g, const char *devices, int stages, int micro, int batch, const float *x, float *probs,
                float *h3) {
    pp_error err;
    pp_engine *e = NULL;
    pp_engine_options o = {devices, stages, micro, batch, 2, 0, NULL, NULL};
    cr_assert_eq(pp_engine_create(g, &o, &e, &err), PP_OK, "%s: %s", devices, err.msg);
    const void *in[] = {x};
    void *out[] = {probs, h3};
    cr_assert_eq(pp_engine_run(e, batch, in, out, &err), PP_OK, "%s", err.msg);
    /* A second run on the same engine gives the same bytes (events, slots reused). */
    float *p2 = malloc(sizeof(float) * OUT * (size_t)batch), *h2 = malloc(sizeof(float) * HID * (size_t)batch);
    void *out2[] = {p2, h2};
    cr_assert_eq(pp_engine_run(e, batch, in, out2, &err), PP_OK, "%s", err.msg);
    cr_assert(memcmp(p2, probs, sizeof(float) * OUT * (size_t)batch) == 0);
    cr_assert(memcmp(h2, h3, sizeof(float) * HID * (size_t)batch) == 0);
    free(p2);
    free(h2);
    pp_engine_free(e);
}

static float *random_input(int batch, unsigned seed) {
    float *x = malloc(sizeof(float) * IN * (size_t)batch);
    for (int i = 0; i < IN * batch; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 9) & 0x3FFF) / 4096.0f - 2.0f;
    }
    return x;
}

Test(exec, single_device_matches_reference) {
    init_weights();
    pp_graph *g = build();
    int batch = 7;
    float *x = random_input(batch, 7);
    float probs[OUT * 7], h3[HID * 7], rp[OUT * 7], rh[HID * 7];
    run(g, "cpu", 1, 0, batch, x, probs, h3);
    reference(batch, x, rp, rh);
    for (int i = 0; i < OUT * batch; i++) cr_assert(fabsf(probs[i] - rp[i]) <= 1e-5f + 1e-4f * fabsf(rp[i]));
    for (int i = 0; i < HID * batch; i++) cr_assert(fabsf(h3[i] - rh[i]) <= 1e-5f + 1e-4f * fabsf(rh[i]));
    free(x);
    pp_graph_free(g);
}

Test(exec, every_placement_is_bit_identical) {
    init_weights();
    pp_graph *g = build();
    unsigned s = 99;
    for (int trial = 0; trial < 40; trial++) {
        s = s * 1103515245u + 12345u;
        int stages = 1 + (int)((s >> 16) % 3);
        int replicas = 1 + (int)((s >> 20) % 2);
        int micro = 1 + (int)((s >> 4) % 4);
        int batch = 1 + (int)((s >> 24) % 11);
        char devices[128] = "";
        for (int d = 0; d < stages * replicas; d++) {
            size_t l = strlen(devices);
            snprintf(devices + l, sizeof devices - l, "%scpu:%d", d ? "," : "", d);
        }
        float *x = random_input(batch, s);
        float *p1 = malloc(sizeof(float) * OUT * (size_t)batch), *h1 = malloc(sizeof(float) * HID * (size_t)batch);
        float *p2 = malloc(sizeof(float) * OUT * (size_t)batch), *h2 = malloc(sizeof(float) * HID * (size_t)batch);
        run(g, "cpu", 1, 0, batch, x, p1, h1);
        run(g, devices, stages, micro, batch, x, p2, h2);
        cr_assert(memcmp(p1, p2, sizeof(float) * OUT * (size_t)batch) == 0,
                  "probs differ: %s stages %d micro %d batch %d", devices, stages, micro, batch);
        cr_assert(memcmp(h1, h2, sizeof(float) * HID * (size_t)batch) == 0,
                  "h3 differs: %s stages %d micro %d batch %d", devices, stages, micro, batch);
        free(x);
        free(p1);
        free(h1);
        free(p2);
        free(h2);
    }
    pp_graph_free(g);
}

Test(exec, bad_device_lists_are_refused) {
    init_weights();
    pp_graph *g = build();
    pp_error err;
    pp_engine *e = NULL;
    pp_engine_options o = {"cpu:0,cpu:1,cpu:2", 2, 1, 4, 2, 0, NULL, NULL};
    cr_assert_eq(pp_engine_create(g, &o, &e, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "3 devices cannot be split into replicas of 2 stages"), "%s", err.msg);
    pp_engine_options o2 = {"gpu:0", 1, 1, 4, 2, 0, NULL, NULL};
    cr_assert_eq(pp_engine_create(g, &o2, &e, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "device 'gpu:0'"), "%s", err.msg);
    pp_engine_options o3 = {"cpu", 1, 1, 4, 2, 0, "nosuchnode", NULL};
    cr_assert_eq(pp_engine_create(g, &o3, &e, &err), PP_ERR_INVALID_ARG);
    pp_engine_options o4 = {"cpu:0,cpu:1", 2, 2, 4, 2, 0, "fc3", NULL};
    cr_assert_eq(pp_engine_create(g, &o4, &e, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_engine_plan(e)->stages[1].first, 3);
    pp_engine_free(e);
    pp_graph_free(g);
}

Test(exec, cuda_without_a_device_is_a_clear_error) {
    init_weights();
    pp_graph *g = build();
    pp_error err;
    pp_engine *e = NULL;
    pp_engine_options o = {"cuda:0", 1, 1, 4, 2, 0, NULL, NULL};
    pp_code rc = pp_engine_create(g, &o, &e, &err);
    if (pp_cuda_device_count() > 0) {
        cr_assert_eq(rc, PP_OK);
        pp_engine_free(e);
    } else {
        cr_assert_eq(rc, PP_ERR_DEVICE);
        cr_assert(strstr(err.msg, "cuda:0"), "%s", err.msg);
    }
    pp_graph_free(g);
}

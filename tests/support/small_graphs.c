#include "small_graphs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define IN MLP_IN
#define HID MLP_HID
#define OUT MLP_OUT

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
pp_graph *test_mlp_graph(void) {
    init_weights();
    pp_error err;
    pp_graph *g = pp_graph_new();
    if (!g) abort();
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
    if (pp_graph_set_io(g, 1, &x, 2, (int[]){pr, h3}, &err) || pp_graph_infer(g, &err)) {
        fprintf(stderr, "test_mlp_graph: %s\n", err.msg);
        abort();
    }
    return g;
}

void test_mlp_reference(int n, const float *x, float *probs, float *h3) {
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

float *test_random_floats(size_t n, unsigned seed) {
    float *x = malloc(sizeof(float) * (n ? n : 1));
    if (!x) abort();
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 9) & 0x3FFF) / 4096.0f - 2.0f;
    }
    return x;
}

/* bench_pipeline: pipelined and replicated execution against one device, side
 * by side in one run, on a generated MLP (or a graph.bin given as argv[1]).
 *
 * For each configuration: throughput, speed-up over one device, and the measured
 * pipeline efficiency (stage compute time / (stages × replicas × wall time),
 * from the trace markers) next to the ideal m/(m+P-1). On logical CPU devices
 * the stages share the machine's cores, so overlap shows as efficiency, not as
 * speed-up; on GPUs both. Prints figures; asserts nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/exec.h"
#include "engine/graph.h"
#include "loader/model.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* 8 layers of (N,512)·(512,512)ᵀ + relu: even stages, enough work per micro-batch. */
static pp_graph *make_mlp(void) {
    pp_error err;
    pp_graph *g = pp_graph_new();
    int64_t dx[] = {PP_DIM_BATCH, 512}, dw[] = {512, 512};
    float *w = malloc(sizeof(float) * 512 * 512);
    for (int i = 0; i < 512 * 512; i++) w[i] = (float)((i * 2654435761u) % 1000) / 1000.0f * 0.08f - 0.04f;
    int cur = pp_graph_add_tensor(g, "x", PP_DTYPE_F32, PP_TENSOR_INPUT, 2, dx, &err), x = cur;
    for (int l = 0; l < 8; l++) {
        char name[32];
        snprintf(name, sizeof name, "w%d", l);
        int wt = pp_graph_add_weight(g, name, PP_DTYPE_F32, 2, dw, w, sizeof(float) * 512 * 512, &err);
        snprintf(name, sizeof name, "h%d", l);
        int h = pp_graph_add_tensor(g, name, PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 2, dx, &err);
        snprintf(name, sizeof name, "layer%d", l);
        int n = pp_graph_add_node(g, PP_OP_GEMM, name, 2, (int[]){cur, wt}, 1, &h, &err);
        pp_node_set_int(g, n, "transB", 1, &err);
        pp_node_set_int(g, n, "activation", 1, &err);
        cur = h;
    }
    pp_graph_set_io(g, 1, &x, 1, &cur, &err);
    free(w);
    if (pp_graph_infer(g, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    return g;
}

int main(int argc, char **argv) {
    pp_error err;
    pp_graph *g = NULL;
    if (argc > 1) {
        pp_model *m;
        if (pp_model_load(argv[1], 0, &m, &err) || pp_graph_from_model(&m, &g, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
    } else {
        g = make_mlp();
    }
    int batch = 256;
    struct {
        const char *devices;
        int stages, micro;
    } cfg[] = {{"cpu", 1, 256},        {"cpu:0,cpu:1", 2, 32},
               {"cpu:0,cpu:1", 2, 8},  {"cpu:0,cpu:1,cpu:2,cpu:3", 4, 16},
               {"cpu:0,cpu:1", 1, 64}, {"cpu:0,cpu:1,cpu:2,cpu:3", 2, 32}};
    double base = 0;
    printf("%-26s %6s %8s %6s %12s %9s %10s %10s\n", "devices", "stages", "replicas", "micro", "items/s", "speed-up",
           "efficiency", "ideal");
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        pp_exec *e;
        pp_exec_options o = {.devices = cfg[c].devices,
                             .stages = cfg[c].stages,
                             .microbatch = cfg[c].micro,
                             .max_batch = batch,
                             .inflight = 2,
                             .p2p = 0,
                             .split = NULL,
                             .trace = "/dev/null",
                             .measure = 0,
                             .mem_limit = 0,
                             .graphs = 0,
                             .precision = PP_PREC_FP32};
        if (pp_exec_create(g, &o, &e, &err)) {
            fprintf(stderr, "%s: %s\n", cfg[c].devices, err.msg);
            continue;
        }
        size_t ib = (size_t)pp_exec_input_bytes(e, 0, batch), ob = (size_t)pp_exec_output_bytes(e, 0, batch);
        void *in = calloc(1, ib), *out = malloc(ob);
        const void *ins[] = {in};
        void *outs[] = {out};
        for (int w = 0; w < 2; w++) pp_exec_run(e, batch, ins, outs, &err);
        double busy, wall;
        pp_exec_utilization(e, &busy, &wall, &err);
        int runs = 0;
        double t0 = now_ms();
        while (now_ms() - t0 < 2000 || runs < 3) {
            pp_exec_run(e, batch, ins, outs, &err);
            runs++;
        }
        double ms = (now_ms() - t0) / runs;
        pp_exec_utilization(e, &busy, &wall, &err);
        int R = pp_exec_replicas(e), P = cfg[c].stages;
        double thr = batch / (ms / 1e3);
        if (c == 0) base = thr;
        int m = (batch / R + cfg[c].micro - 1) / cfg[c].micro;
        double eff = wall > 0 ? busy / (P * R * wall) : 0;
        printf("%-26s %6d %8d %6d %12.1f %8.2fx %10.3f %10.3f\n", cfg[c].devices, P, R, cfg[c].micro, thr, thr / base,
               eff, (double)m / (m + P - 1));
        free(in);
        free(out);
        pp_exec_free(e);
    }
    pp_graph_free(g);
    return 0;
}

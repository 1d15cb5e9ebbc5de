/* End to end through the tools: a graph written with the writer API, run by the
 * `ppengine` binary on an .npy input, its .npy output compared with a plain C
 * reference; and damaged copies of that file refused with a one-line message,
 * never a crash. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/graph.h"
#include "loader/npy.h"

/* x (N,3,5,5) → conv 3→4 k3 pad1 + bias + relu → global avg pool → flatten → (N,4) */
static float W[4 * 3 * 3 * 3], B[4];

static const char *tool(void) {
    const char *p = getenv("PPENGINE");
    return p ? p : "./ppengine";
}

static char dir[256];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/pp_e2e_XXXXXX");
    cr_assert(mkdtemp(dir));
}

static void write_graph(const char *path) {
    for (int i = 0; i < 108; i++) W[i] = (float)((i * 37) % 17) / 17.0f - 0.5f;
    for (int i = 0; i < 4; i++) B[i] = 0.1f * (float)i - 0.15f;
    pp_error err;
    pp_graph *g = pp_graph_new();
    int64_t dx[] = {PP_DIM_BATCH, 3, 5, 5}, dw[] = {4, 3, 3, 3}, db[] = {4}, dc[] = {PP_DIM_BATCH, 4, 5, 5},
            dp[] = {PP_DIM_BATCH, 4, 1, 1}, dy[] = {PP_DIM_BATCH, 4};
    int x = pp_graph_add_tensor(g, "x", PP_DTYPE_F32, PP_TENSOR_INPUT, 4, dx, &err);
    int w = pp_graph_add_weight(g, "conv.weight", PP_DTYPE_F32, 4, dw, W, sizeof W, &err);
    int b = pp_graph_add_weight(g, "conv.bias", PP_DTYPE_F32, 1, db, B, sizeof B, &err);
    int c = pp_graph_add_tensor(g, "c", PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 4, dc, &err);
    int p = pp_graph_add_tensor(g, "p", PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 4, dp, &err);
    int y = pp_graph_add_tensor(g, "scores/out", PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 2, dy, &err);
    int n = pp_graph_add_node(g, PP_OP_CONV, "conv", 3, (int[]){x, w, b}, 1, &c, &err);
    pp_node_set_ints(g, n, "pads", (int64_t[]){1, 1, 1, 1}, 4, &err);
    pp_node_set_int(g, n, "activation", 1, &err);
    pp_graph_add_node(g, PP_OP_GLOBAL_AVGPOOL, "pool", 1, &c, 1, &p, &err);
    pp_graph_add_node(g, PP_OP_FLATTEN, "flatten", 1, &p, 1, &y, &err);
    pp_graph_set_io(g, 1, &x, 1, &y, &err);
    pp_graph_add_meta(g, "producer", "test_e2e", &err);
    cr_assert_eq(pp_graph_infer(g, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_graph_write(g, path, &err), PP_OK, "%s", err.msg);
    pp_graph_free(g);
}

static void reference(int n, const float *x, float *y) {
    for (int b = 0; b < n; b++)
        for (int k = 0; k < 4; k++) {
            double acc = 0;
            for (int oh = 0; oh < 5; oh++)
                for (int ow = 0; ow < 5; ow++) {
                    double s = B[k];
                    for (int c = 0; c < 3; c++)
                        for (int i = 0; i < 3; i++)
                            for (int j = 0; j < 3; j++) {
                                int ih = oh + i - 1, iw = ow + j - 1;
                                if (ih < 0 || iw < 0 || ih >= 5 || iw >= 5) continue;
                                s += (double)x[((b * 3 + c) * 5 + ih) * 5 + iw] * W[((k * 3 + c) * 3 + i) * 3 + j];
                            }
                    acc += s > 0 ? s : 0;
                }
            y[b * 4 + k] = (float)(acc / 25);
        }
}

static int sh(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Test(e2e, run_through_the_cli_matches_reference) {
    make_dir();
    char graph[512], xin[512], cmd[4096], outp[512];
    snprintf(graph, sizeof graph, "%s/g.bin", dir);
    snprintf(xin, sizeof xin, "%s/x.npy", dir);
    write_graph(graph);
    int n = 7;
    float x[7 * 75], ref[28];
    for (int i = 0; i < n * 75; i++) x[i] = (float)((i * 7919) % 101) / 50.0f - 1.0f;
    pp_error err;
    int64_t dims[] = {n, 3, 5, 5};
    cr_assert_eq(pp_npy_write(xin, PP_DTYPE_F32, 4, dims, x, &err), PP_OK, "%s", err.msg);
    snprintf(cmd, sizeof cmd, "%s run %s --input x=%s --output %s/out --devices cpu > %s/log 2>&1", tool(), graph, xin,
             dir, dir);
    cr_assert_eq(sh(cmd), 0, "%s", cmd);
    /* the output name has a '/': it becomes '_' in the file name */
    snprintf(outp, sizeof outp, "%s/out/scores_out.npy", dir);
    pp_npy y;
    cr_assert_eq(pp_npy_read(outp, &y, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(y.rank, 2);
    cr_assert_eq(y.dims[0], n);
    cr_assert_eq(y.dims[1], 4);
    reference(n, x, ref);
    const float *got = y.data;
    for (int i = 0; i < n * 4; i++) cr_assert(fabsf(got[i] - ref[i]) <= 1e-5f + 1e-4f * fabsf(ref[i]), "%d", i);
    pp_npy_free(&y);
    /* The same through a 2-stage pipeline over 2 replicas, micro-batch 3: same bytes. */
    snprintf(cmd, sizeof cmd,
             "%s run %s --input %s --output %s/out2 --devices cpu:0,cpu:1,cpu:2,cpu:3 --stages 2 --microbatch 3 "
             "--trace %s/trace.json > %s/log2 2>&1 && cmp %s/out/scores_out.npy %s/out2/scores_out.npy",
             tool(), graph, xin, dir, dir, dir, dir, dir);
    cr_assert_eq(sh(cmd), 0, "%s", cmd);
    snprintf(cmd, sizeof cmd, "grep -q '\"ph\":\"X\"' %s/trace.json", dir);
    cr_assert_eq(sh(cmd), 0, "the trace has no spans");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    sh(cmd);
}

Test(e2e, bad_inputs_are_named) {
    make_dir();
    char graph[512], xin[512], cmd[4096], log[512];
    snprintf(graph, sizeof graph, "%s/g.bin", dir);
    snprintf(xin, sizeof xin, "%s/x.npy", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    write_graph(graph);
    float x[2 * 3 * 4 * 5] = {0};
    pp_error err;
    int64_t dims[] = {2, 3, 4, 5};
    cr_assert_eq(pp_npy_write(xin, PP_DTYPE_F32, 4, dims, x, &err), PP_OK);
    snprintf(cmd, sizeof cmd, "%s run %s --input %s > %s 2>&1", tool(), graph, xin, log);
    cr_assert_eq(sh(cmd), 1);
    snprintf(cmd, sizeof cmd, "grep -q \"input 'x' axis 2 is 4, expected 5\" %s", log);
    cr_assert_eq(sh(cmd), 0, "message does not name the axis");
    snprintf(cmd, sizeof cmd, "%s run %s --bogus > %s 2>&1", tool(), graph, log);
    cr_assert_eq(sh(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s run %s --devices cpu:0,cpu:1,cpu:2 --stages 2 > %s 2>&1", tool(), graph, log);
    cr_assert_eq(sh(cmd), 1);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    sh(cmd);
}

/* Every truncation and a spread of bit flips: exit 1..127 with one line on
 * stderr, never a signal. */
Test(e2e, damaged_files_never_crash_the_tool, .timeout = 600) {
    make_dir();
    char graph[512], bad[512], cmd[4096], log[512];
    snprintf(graph, sizeof graph, "%s/g.bin", dir);
    snprintf(bad, sizeof bad, "%s/bad.bin", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    write_graph(graph);
    FILE *f = fopen(graph, "rb");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)size);
    cr_assert_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    int tried = 0;
    for (long pos = 0; pos < size; pos += 1 + pos / 16) {
        for (int mode = 0; mode < 2; mode++) {
            FILE *o = fopen(bad, "wb");
            if (mode == 0) {
                fwrite(buf, 1, (size_t)pos, o); /* truncated */
            } else {
                buf[pos] ^= (unsigned char)(1u << (pos % 8));
                fwrite(buf, 1, (size_t)size, o);
                buf[pos] ^= (unsigned char)(1u << (pos % 8));
            }
            fclose(o);
            snprintf(cmd, sizeof cmd, "%s info %s > /dev/null 2> %s", tool(), bad, log);
            int rc = sh(cmd);
            cr_assert(rc >= 1 && rc <= 127, "damaged at %ld (mode %d): exit %d", pos, mode, rc);
            snprintf(cmd, sizeof cmd, "test $(wc -l < %s) -eq 1", log);
            cr_assert_eq(sh(cmd), 0, "damaged at %ld: not one line on stderr", pos);
            tried++;
        }
    }
    cr_assert(tried > 50);
    free(buf);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    sh(cmd);
}

/* With several inputs, giving some and forgetting one is refused by name rather
 * than filled with random data. */
Test(e2e, a_forgotten_input_is_named) {
    make_dir();
    char graph[512], xin[512], cmd[4096], log[512];
    snprintf(graph, sizeof graph, "%s/two.bin", dir);
    snprintf(xin, sizeof xin, "%s/x.npy", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    pp_error err;
    pp_graph *g = pp_graph_new();
    int64_t d[] = {PP_DIM_BATCH, 3};
    int x = pp_graph_add_tensor(g, "x", PP_DTYPE_F32, PP_TENSOR_INPUT, 2, d, &err);
    int z = pp_graph_add_tensor(g, "z", PP_DTYPE_F32, PP_TENSOR_INPUT, 2, d, &err);
    int y = pp_graph_add_tensor(g, "y", PP_DTYPE_F32, PP_TENSOR_ACTIVATION, 2, d, &err);
    pp_graph_add_node(g, PP_OP_ADD, "add", 2, (int[]){x, z}, 1, &y, &err);
    pp_graph_set_io(g, 2, (int[]){x, z}, 1, &y, &err);
    cr_assert_eq(pp_graph_infer(g, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_graph_write(g, graph, &err), PP_OK, "%s", err.msg);
    pp_graph_free(g);
    float v[6] = {0};
    int64_t dims[] = {2, 3};
    cr_assert_eq(pp_npy_write(xin, PP_DTYPE_F32, 2, dims, v, &err), PP_OK);
    snprintf(cmd, sizeof cmd, "%s run %s --input x=%s --devices cpu > /dev/null 2> %s", tool(), graph, xin, log);
    cr_assert_eq(sh(cmd), 1);
    snprintf(cmd, sizeof cmd, "grep -q \"input 'z' is not given\" %s && test $(wc -l < %s) -eq 1", log, log);
    cr_assert_eq(sh(cmd), 0, "the message does not name input z");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    sh(cmd);
}

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
#include "support/small_graphs.h"

#define IN MLP_IN
#define HID MLP_HID
#define OUT MLP_OUT

static void run(pp_graph *g, const char *devices, int stages, int micro, int batch, const float *x, float *probs,
                float *h3) {
    pp_error err;
    pp_exec *e = NULL;
    pp_exec_options o = {devices, stages, micro, batch, 2, 0, NULL, NULL, 0, 0};
    cr_assert_eq(pp_exec_create(g, &o, &e, &err), PP_OK, "%s: %s", devices, err.msg);
    const void *in[] = {x};
    void *out[] = {probs, h3};
    cr_assert_eq(pp_exec_run(e, batch, in, out, &err), PP_OK, "%s", err.msg);
    /* A second run on the same engine gives the same bytes (events, slots reused). */
    float *p2 = malloc(sizeof(float) * OUT * (size_t)batch), *h2 = malloc(sizeof(float) * HID * (size_t)batch);
    void *out2[] = {p2, h2};
    cr_assert_eq(pp_exec_run(e, batch, in, out2, &err), PP_OK, "%s", err.msg);
    cr_assert(memcmp(p2, probs, sizeof(float) * OUT * (size_t)batch) == 0);
    cr_assert(memcmp(h2, h3, sizeof(float) * HID * (size_t)batch) == 0);
    free(p2);
    free(h2);
    pp_exec_free(e);
}

Test(exec, single_device_matches_reference) {
    pp_graph *g = test_mlp_graph();
    int batch = 7;
    float *x = test_random_floats((size_t)batch * IN, 7);
    float probs[OUT * 7], h3[HID * 7], rp[OUT * 7], rh[HID * 7];
    run(g, "cpu", 1, 0, batch, x, probs, h3);
    test_mlp_reference(batch, x, rp, rh);
    for (int i = 0; i < OUT * batch; i++) cr_assert(fabsf(probs[i] - rp[i]) <= 1e-5f + 1e-4f * fabsf(rp[i]));
    for (int i = 0; i < HID * batch; i++) cr_assert(fabsf(h3[i] - rh[i]) <= 1e-5f + 1e-4f * fabsf(rh[i]));
    free(x);
    pp_graph_free(g);
}

Test(exec, every_placement_is_bit_identical) {
    pp_graph *g = test_mlp_graph();
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
        float *x = test_random_floats((size_t)batch * IN, s);
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
    pp_graph *g = test_mlp_graph();
    pp_error err;
    pp_exec *e = NULL;
    pp_exec_options o = {"cpu:0,cpu:1,cpu:2", 2, 1, 4, 2, 0, NULL, NULL, 0, 0};
    cr_assert_eq(pp_exec_create(g, &o, &e, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "3 devices cannot be split into replicas of 2 stages"), "%s", err.msg);
    pp_exec_options o2 = {"gpu:0", 1, 1, 4, 2, 0, NULL, NULL, 0, 0};
    cr_assert_eq(pp_exec_create(g, &o2, &e, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "device 'gpu:0'"), "%s", err.msg);
    pp_exec_options o3 = {"cpu", 1, 1, 4, 2, 0, "nosuchnode", NULL, 0, 0};
    cr_assert_eq(pp_exec_create(g, &o3, &e, &err), PP_ERR_INVALID_ARG);
    pp_exec_options o4 = {"cpu:0,cpu:1", 2, 2, 4, 2, 0, "fc3", NULL, 0, 0};
    cr_assert_eq(pp_exec_create(g, &o4, &e, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_exec_plan(e)->stages[1].first, 3);
    pp_exec_free(e);
    pp_graph_free(g);
}

Test(exec, cuda_without_a_device_is_a_clear_error) {
    pp_graph *g = test_mlp_graph();
    pp_error err;
    pp_exec *e = NULL;
    pp_exec_options o = {"cuda:0", 1, 1, 4, 2, 0, NULL, NULL, 0, 0};
    pp_code rc = pp_exec_create(g, &o, &e, &err);
    if (pp_cuda_device_count() > 0) {
        cr_assert_eq(rc, PP_OK);
        pp_exec_free(e);
    } else {
        cr_assert_eq(rc, PP_ERR_DEVICE);
        cr_assert(strstr(err.msg, "cuda:0"), "%s", err.msg);
    }
    pp_graph_free(g);
}

/* compute_check.h: the harness of the compute kernel suites
 * (test_kernels_products.c, test_kernels_compute.c): describe a hand-built node,
 * run its CPU kernel on seeded random data with guard cells after the output,
 * compare with tolerances. Criterion suites only. */
#ifndef PP_TEST_COMPUTE_CHECK_H
#define PP_TEST_COMPUTE_CHECK_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ops.h"
#include "kernels/act.h"
#include "kernels/cpu/cpu_kernels.h"
#include "support/ref.h"
#include "support/tnode.h"

#define ATOL 2e-5f
#define RTOL 1e-5f
#define GUARD 16
#define GUARD_VALUE 12345.678f

/* ---- building nodes and shapes ------------------------------------------- */

static inline void tn_act(tnode *t, pp_act_kind kind, double alpha, double beta) {
    tn_int(t, "activation", kind);
    tn_float(t, "act_alpha", alpha);
    tn_float(t, "act_beta", beta);
}

static const pp_shape ABSENT = {.dtype = PP_DTYPE_INVALID, .rank = 0};

static inline pp_code describe(tnode *t, const pp_shape *in, pp_shape *out, pp_op_params *p, pp_cost *cost,
                               pp_error *err) {
    memset(err, 0, sizeof *err);
    return pp_op_describe(&t->node, in, out, p, cost, NULL, err);
}

/* Describe must fail with PP_ERR_SHAPE and a message holding each of the given
 * fragments. */
static inline void expect_shape_error(tnode *t, const pp_shape *in, const char *frag1, const char *frag2) {
    pp_shape out[1];
    pp_op_params p;
    pp_cost cost;
    pp_error err;
    pp_code rc = describe(t, in, out, &p, &cost, &err);
    cr_assert_eq(rc, PP_ERR_SHAPE, "expected a shape error, got %d (%s)", rc, err.msg);
    cr_assert(strstr(err.msg, "test_node") != NULL, "message lacks the node name: %s", err.msg);
    if (frag1) cr_assert(strstr(err.msg, frag1) != NULL, "message lacks '%s': %s", frag1, err.msg);
    if (frag2) cr_assert(strstr(err.msg, frag2) != NULL, "message lacks '%s': %s", frag2, err.msg);
}

static inline pp_cpu_kernel_fn kernel_for(pp_op op) {
    switch (op) {
    case PP_OP_CONV: return pp_cpu_conv;
    case PP_OP_GEMM: return pp_cpu_gemm;
    case PP_OP_MATMUL: return pp_cpu_matmul;
    case PP_OP_BATCHNORM: return pp_cpu_batchnorm;
    case PP_OP_MAXPOOL:
    case PP_OP_AVGPOOL:
    case PP_OP_GLOBAL_AVGPOOL:
    case PP_OP_GLOBAL_MAXPOOL: return pp_cpu_pool;
    case PP_OP_SOFTMAX:
    case PP_OP_LOG_SOFTMAX: return pp_cpu_softmax;
    case PP_OP_LAYERNORM: return pp_cpu_layernorm;
    case PP_OP_ATTENTION: return pp_cpu_attention;
    default: return pp_cpu_reduce;
    }
}

static inline size_t workspace_for(pp_op op, const pp_op_params *p) { return pp_cpu_workspace_size(op, p); }

static inline float *falloc(size_t n) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    cr_assert(x);
    return x;
}

static inline float *frand(size_t n, uint64_t seed) {
    float *x = falloc(n);
    pp_ref_fill(x, n, seed, -1.f, 1.f);
    return x;
}

/* Describes the node, checks it succeeds, runs the kernel into a fresh output
 * with guard cells, checks the guards. in_data has the op's max_in slots (NULL
 * for absent). Returns the output (caller frees); *out_shape and *params are set. */
static inline void *run(tnode *t, const pp_shape *in, const void *const *in_data, pp_shape *out_shape,
                        pp_op_params *params) {
    pp_cost cost;
    pp_error err;
    pp_code rc = describe(t, in, out_shape, params, &cost, &err);
    cr_assert_eq(rc, PP_OK, "describe failed: %s", err.msg);
    cr_assert(cost.bytes > 0);
    size_t esz = pp_dtype_size(out_shape->dtype);
    size_t n = numel(out_shape);
    size_t bytes = n * esz;
    unsigned char *y = malloc(bytes + GUARD * sizeof(float));
    cr_assert(y);
    memset(y, 0xA5, bytes); /* garbage the kernel must overwrite */
    float guard[GUARD];
    for (int i = 0; i < GUARD; i++) guard[i] = GUARD_VALUE;
    memcpy(y + bytes, guard, sizeof guard);
    size_t ws_bytes = workspace_for(t->node.op, params);
    void *ws = ws_bytes ? malloc(ws_bytes) : NULL;
    if (ws_bytes) {
        cr_assert(ws);
        memset(ws, 0xA5, ws_bytes);
    }
    void *outs[1] = {y};
    int krc = kernel_for(t->node.op)(params, in_data, outs, ws);
    cr_assert_eq(krc, 0, "kernel returned %d", krc);
    cr_assert(memcmp(y + bytes, guard, sizeof guard) == 0, "the kernel wrote past its output");
    free(ws);
    return y;
}

static inline void check_close(const char *what, const float *out, const float *ref, size_t n, float atol, float rtol) {
    size_t bad = pp_ref_compare(what, out, ref, n, atol, rtol);
    cr_assert_eq(bad, 0, "%s: %zu of %zu elements mismatch (see stderr)", what, bad, n);
}

#endif

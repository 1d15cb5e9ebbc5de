/* kernel_check.h: the harness of the data-movement kernel suites
 * (test_kernels_move.c, test_kernels_data.c): describe a hand-built node, run its
 * CPU kernel with guard bytes after every output, compare. Criterion suites only. */
#ifndef PP_TEST_KERNEL_CHECK_H
#define PP_TEST_KERNEL_CHECK_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ops.h"
#include "kernels/cpu/cpu_kernels.h"
#include "support/ref.h"
#include "support/tnode.h"

#define GUARD 64
#define GUARD_BYTE 0xA5
#define MAX_OUT 8

/* ---- building nodes and shapes ------------------------------------------- */

static inline pp_code describe(tnode *t, const pp_shape *in, pp_shape *out, pp_op_params *p, pp_error *err) {
    pp_cost cost;
    memset(err, 0, sizeof *err);
    return pp_op_describe(&t->node, in, out, p, &cost, NULL, err);
}

/* Describe must fail with `code` and a message holding the node's name and each
 * given fragment. */
static inline void expect_error(tnode *t, const pp_shape *in, pp_code code, const char *frag1, const char *frag2) {
    pp_shape out[MAX_OUT];
    pp_op_params p;
    pp_error err;
    pp_code rc = describe(t, in, out, &p, &err);
    cr_assert_eq(rc, code, "expected error %d, got %d (%s)", code, rc, err.msg);
    cr_assert(strstr(err.msg, "test_node") != NULL, "message lacks the node name: %s", err.msg);
    if (frag1) cr_assert(strstr(err.msg, frag1) != NULL, "message lacks '%s': %s", frag1, err.msg);
    if (frag2) cr_assert(strstr(err.msg, frag2) != NULL, "message lacks '%s': %s", frag2, err.msg);
}

static inline pp_cpu_kernel_fn kernel_for(pp_op op) {
    pp_cpu_kernel_fn k = pp_cpu_kernel_for(op);
    cr_assert_not_null(k, "no kernel for op %d", op);
    return k;
}

typedef struct result {
    int n, rc;
    pp_shape shape[MAX_OUT];
    void *data[MAX_OUT];
    size_t bytes[MAX_OUT];
} result;

/* Describes t over in[], runs its kernel with every output pre-filled with
 * GUARD_BYTE and followed by GUARD guard bytes, and checks the guards. */
static inline result run_any(tnode *t, const pp_shape *in, const void *const *inputs) {
    result r;
    memset(&r, 0, sizeof r);
    pp_op_params p;
    pp_error err;
    pp_code rc = describe(t, in, r.shape, &p, &err);
    cr_assert_eq(rc, PP_OK, "describe failed: %s", err.msg);
    r.n = t->node.n_out;
    for (int i = 0; i < r.n; i++) {
        r.bytes[i] = numel(&r.shape[i]) * pp_dtype_size(r.shape[i].dtype);
        r.data[i] = malloc(r.bytes[i] + GUARD);
        cr_assert(r.data[i]);
        memset(r.data[i], GUARD_BYTE, r.bytes[i] + GUARD);
    }
    r.rc = kernel_for(t->node.op)(&p, inputs, r.data, NULL);
    for (int i = 0; i < r.n; i++)
        for (size_t k = 0; k < GUARD; k++)
            cr_assert_eq(((unsigned char *)r.data[i])[r.bytes[i] + k], GUARD_BYTE,
                         "output %d: guard byte %zu overwritten", i, k);
    return r;
}

/* The same, requiring the kernel to succeed; returns output 0. */
static inline void *run(tnode *t, const pp_shape *in, const void *const *inputs, pp_shape *out) {
    result r = run_any(t, in, inputs);
    cr_assert_eq(r.rc, 0, "kernel returned %d", r.rc);
    for (int i = 1; i < r.n; i++) free(r.data[i]);
    if (out) *out = r.shape[0];
    return r.data[0];
}

static inline void result_free(result *r) {
    for (int i = 0; i < r->n; i++) free(r->data[i]);
}

static inline float *iota_f32(size_t n, float start) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    cr_assert(x);
    for (size_t i = 0; i < n; i++) x[i] = start + (float)i;
    return x;
}

static inline void expect_f32(const char *what, const float *y, const float *ref, size_t n, float tol) {
    cr_assert_eq(pp_ref_compare(what, y, ref, n, tol, tol), 0, "%s mismatches", what);
}

#endif

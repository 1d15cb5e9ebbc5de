/* fuzz_common.h: what the libFuzzer targets (tests/fuzz/fuzz_*.c) share.
 *
 * Each target feeds one parser untrusted bytes and then holds the library to
 * its contract (docs/fuzzing.md):
 *   - a failure returns a known pp_code with a non-empty message;
 *   - whatever a parser accepts, the next stage accepts too: a graph the
 *     converter infers is written, read back and rebuilt without complaint;
 *   - a graph the loader accepts and the engine builds runs (bounded in size
 *     and work so one input stays well inside -timeout=1).
 * A broken contract calls fz_fail, which prints and aborts: libFuzzer keeps the
 * input as a crash. Sanitizers catch the rest (bounds, leaks, UB).
 */
#ifndef PP_FUZZ_COMMON_H
#define PP_FUZZ_COMMON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converter/checkpoint.h"
#include "engine/exec.h"
#include "engine/graph.h"
#include "loader/error.h"
#include "loader/model.h"

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2), noreturn))
#endif
static inline void
fz_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz contract broken: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

/* A failed call must say what failed: a known code and a message. */
static inline void fz_check_error(pp_code rc, const pp_error *err, const char *call) {
    if (rc == PP_OK) return;
    if (rc < PP_ERR_INVALID_ARG || rc > PP_ERR_INTERNAL) fz_fail("%s returned unknown code %d", call, (int)rc);
    if (rc == PP_ERR_INTERNAL) fz_fail("%s reported an internal error (a broken invariant): %s", call, err->msg);
    if (err->msg[0] == '\0')
        fz_fail("%s failed with code %d (%s) and an empty message", call, (int)rc, pp_code_name(rc));
}

/* Bytes `data` copied at `misalign` bytes past a 64-byte boundary: libFuzzer's
 * buffer has no particular alignment, and the loader takes a different path for
 * aligned and misaligned memory. Free with free(*raw). */
static inline uint8_t *fz_copy_at(const uint8_t *data, size_t size, unsigned misalign, void **raw) {
    uint8_t *p = malloc(size + 128);
    if (!p) abort();
    *raw = p;
    uint8_t *q = p + (64 - (uintptr_t)p % 64) % 64 + misalign % 64;
    if (size) memcpy(q, data, size);
    return q;
}

/* ---- running a graph, bounded ---------------------------------------------------- */

/* Elements of t at the symbols' values in env, saturating at UINT64_MAX. */
static inline uint64_t fz_numel_env(const pp_tensor *t, const pp_dimenv *env) {
    if (t->rank < 0) return UINT64_MAX;
    uint64_t n = 1;
    for (int d = 0; d < t->rank; d++) {
        int64_t v = pp_dim_value(t->dims[d], env);
        uint64_t e = v < 0 || v == INT64_MAX ? UINT64_MAX : (uint64_t)v;
        if (e && n > UINT64_MAX / e) return UINT64_MAX;
        n *= e;
    }
    return n;
}

/* Runs g on one CPU device at batch `batch`, every other symbol fixed at a
 * small value of its range (through the engine option dims, so the shape
 * program and the shaped run are exercised too), with inputs filled from
 * `seed` bytes: floats in [-4, 4), integers in [-8, 8) (so Gather indices are
 * also negative and out of range), bools 0/1. Graphs whose activations or work
 * are too large for a 1-second timeout are skipped: the engine is allowed to be
 * slow on a huge graph, not to crash on a small one. Returns 1 when it ran. */
static inline int fz_exec_graph(const pp_graph *g, int64_t batch, const uint8_t *seed, size_t seed_size) {
    const pp_symtab *st = &g->sym;
    int64_t key[PP_MAX_SYMBOLS] = {0};
    char dims[PP_MAX_SYMBOLS * 48] = "";
    size_t used = 0;
    for (int s = 0; s < st->n_sym; s++) {
        int64_t v = st->sym[s].min > 3 || st->sym[s].max < 3 ? st->sym[s].min : 3;
        key[s] = s == st->batch ? batch : v;
        if (s == st->batch || strlen(st->sym[s].name) > 32) continue;
        used += (size_t)snprintf(dims + used, sizeof dims - used, "%s%s=%lld", used ? "," : "", st->sym[s].name,
                                 (long long)v);
    }
    pp_error err;
    memset(&err, 0, sizeof err);
    pp_dimenv env;
    memset(&env, 0, sizeof env);
    pp_code rc = pp_dimenv_set(&env, st, key, &err);
    if (rc) {
        fz_check_error(rc, &err, "pp_dimenv_set");
        pp_dimenv_free(&env);
        return 0; /* the shape program may refuse a point of the ranges */
    }
    env.batch = batch;
    /* Cost bound: total activation elements × the largest operand, a loose
     * upper bound on the multiply-adds of any one node (conv, matmul,
     * attention), must stay under ~3e7. */
    uint64_t act = 0, widest = 1;
    int small = g->n_nodes <= 256;
    for (int i = 0; i < g->n_tensors && small; i++) {
        uint64_t n = fz_numel_env(&g->tensors[i], &env);
        small = n <= (1u << 20);
        if (g->tensors[i].kind != PP_TENSOR_WEIGHT) act += n;
        if (n > widest) widest = n;
    }
    pp_dimenv_free(&env);
    if (!small || act > (1u << 20) || act * widest > 30000000ull) return 0;

    pp_exec_options o;
    memset(&o, 0, sizeof o);
    o.devices = "cpu";
    o.max_batch = (int)batch;
    o.dims = used ? dims : NULL;
    pp_exec *e = NULL;
    rc = pp_exec_create(g, &o, &e, &err);
    fz_check_error(rc, &err, "pp_exec_create");
    if (rc) return 0; /* refusing a graph is allowed (a device limit, an unsupported case) */

    void **ins = calloc((size_t)g->n_inputs + 1, sizeof *ins);
    void **outs = calloc((size_t)g->n_outputs + 1, sizeof *outs);
    int64_t(*in_dims)[PP_MAX_RANK] = calloc((size_t)g->n_inputs + 1, sizeof *in_dims);
    const int64_t **in_ptrs = calloc((size_t)g->n_inputs + 1, sizeof *in_ptrs);
    if (!ins || !outs || !in_dims || !in_ptrs) abort();
    size_t k = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        const pp_tensor *t = &g->tensors[g->inputs[i]];
        pp_exec_tensor_dims(e, 0, i, key, in_dims[i]);
        in_ptrs[i] = in_dims[i];
        uint64_t bytes = pp_exec_tensor_bytes(e, 0, i, key), n = 1;
        for (int d = 0; d < t->rank; d++) n *= (uint64_t)in_dims[i][d];
        ins[i] = malloc(bytes ? bytes : 1);
        if (!ins[i]) abort();
        for (uint64_t j = 0; j < n; j++) {
            unsigned v = seed_size ? seed[k++ % seed_size] : (unsigned)j;
            switch (t->dtype) {
            case PP_DTYPE_F32: ((float *)ins[i])[j] = (float)((int)(v % 64) - 32) / 8.0f; break;
            case PP_DTYPE_F64: ((double *)ins[i])[j] = (double)((int)(v % 64) - 32) / 8.0; break;
            case PP_DTYPE_I64: ((int64_t *)ins[i])[j] = (int64_t)(v % 16) - 8; break;
            case PP_DTYPE_I32: ((int32_t *)ins[i])[j] = (int32_t)(v % 16) - 8; break;
            case PP_DTYPE_BOOL: ((uint8_t *)ins[i])[j] = (uint8_t)(v & 1); break;
            case PP_DTYPE_U8: ((uint8_t *)ins[i])[j] = (uint8_t)v; break;
            case PP_DTYPE_I8: ((int8_t *)ins[i])[j] = (int8_t)((int)(v % 16) - 8); break;
            default: /* f16 / bf16: small positive halves (exponent bits kept low) */
                ((uint16_t *)ins[i])[j] = (uint16_t)(0x3800 + (v % 64) * 16);
                break;
            }
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        uint64_t bytes = pp_exec_tensor_bytes(e, 1, i, key);
        outs[i] = malloc(bytes ? bytes : 1);
        if (!outs[i]) abort();
    }
    memset(&err, 0, sizeof err);
    /* A graph with symbols besides the batch runs by its input shapes; the
     * others by batch size, as most callers do. */
    if (used) rc = pp_exec_run_shapes(e, in_ptrs, (const void *const *)ins, outs, &err);
    else rc = pp_exec_run(e, batch, (const void *const *)ins, outs, &err);
    fz_check_error(rc, &err, "pp_exec_run");
    for (int i = 0; i < g->n_inputs; i++) free(ins[i]);
    for (int i = 0; i < g->n_outputs; i++) free(outs[i]);
    free(ins);
    free(outs);
    free(in_dims);
    free(in_ptrs);
    pp_exec_free(e);
    return rc == PP_OK;
}

/* Every tensor a checkpoint reader accepted is consistent (name, rank, bytes for
 * its shape) and is read to its last byte, so ASan checks that it lies inside
 * the file or its own copy. */
static inline void fz_read_checkpoint(const pp_ckpt *c) {
    volatile uint8_t sum = 0;
    for (int i = 0; i < c->n; i++) {
        const pp_ckpt_tensor *t = &c->tensors[i];
        uint64_t numel = 1;
        for (int d = 0; d < t->rank; d++) numel *= (uint64_t)t->dims[d];
        if (!t->name || t->rank < 0 || t->rank > PP_MAX_RANK || numel * pp_dtype_size(t->dtype) != t->nbytes)
            fz_fail("tensor %d: rank %d, %llu elements of %zu bytes, but %llu bytes", i, t->rank,
                    (unsigned long long)numel, pp_dtype_size(t->dtype), (unsigned long long)t->nbytes);
        for (uint64_t k = 0; k < t->nbytes; k++) sum += ((const uint8_t *)t->data)[k];
    }
    (void)sum;
}

#endif

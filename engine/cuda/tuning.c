/* tuning.c: what the library paths (conv_cudnn.c, gemm_lt.c) share with the
 * backend: choosing algorithms by timing them (the timer, the device key the
 * tuning cache files its choices under, the cache itself), the one-line
 * accounts bench and plan print, and the node-naming error message. Host C11
 * over the runtime and library C APIs, so the emulator (tests/emu) runs it as it
 * is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../exec.h"
#include "cuda_internal.h"
#include "tune_cache.h"

pp_code pp_cuda_node_fail(pp_error *err, const pp_backend *b, const pp_launch *l, cudaError_t e, const char *what) {
    (void)cudaGetLastError();
    return pp_error_set(err, PP_ERR_DEVICE, "%s: node '%s' (%s): %s: %s (%s)", b->name, l->node->name,
                        pp_op_name(l->node->op), what, cudaGetErrorName(e), cudaGetErrorString(e));
}

pp_dtype pp_cuda_half_dtype(const pp_cuda_ctx *c) {
    if (c->precision == PP_PREC_FP16) return PP_DTYPE_F16;
    return c->precision == PP_PREC_BF16 ? PP_DTYPE_BF16 : PP_DTYPE_INVALID;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

int pp_cuda_tuning_on(void) {
    const char *v = getenv("PP_CUDA_TUNE");
    return !v || strcmp(v, "0") != 0;
}

float pp_cuda_time(pp_cuda_ctx *c, int (*run)(void *arg), void *arg) {
    float ms[3];
    /* the first run pays for lazy loading and runtime compilation */
    int ok = run(arg) && cudaStreamSynchronize(c->tune) == cudaSuccess;
    for (int i = 0; i < 3 && ok; i++) {
        ok = cudaEventRecord(c->tev[0], c->tune) == cudaSuccess && run(arg) &&
             cudaEventRecord(c->tev[1], c->tune) == cudaSuccess && cudaEventSynchronize(c->tev[1]) == cudaSuccess &&
             cudaEventElapsedTime(&ms[i], c->tev[0], c->tev[1]) == cudaSuccess;
    }
    if (!ok) {
        /* a candidate that fails is no candidate; its error is not the next call's */
        (void)cudaStreamSynchronize(c->tune);
        (void)cudaGetLastError();
        return -1.f;
    }
    qsort(ms, 3, sizeof ms[0], cmp_float);
    return ms[1];
}

pp_code pp_cuda_tuning_init(pp_cuda_ctx *c, const char *gpu_name, int cc_major, int cc_minor, int driver,
                            pp_error *err) {
    snprintf(c->device, sizeof c->device, "%s|cc %d.%d|driver %d|cudnn %zu|cublaslt %zu", gpu_name, cc_major, cc_minor,
             driver, (size_t)cudnnGetVersion(), (size_t)cublasLtGetVersion());
    for (char *s = c->device; *s; s++)
        if (*s == '\t' || *s == '\n') *s = ' ';
    const char *ws = getenv("PP_CUDA_WORKSPACE");
    size_t budget = 0;
    if (ws && pp_parse_size(ws, &budget) == 0) c->ws_budget = budget;
    return pp_tune_cache_open(NULL, c->device, &c->cache, err);
}

pp_code pp_cuda_set_tune_cache(pp_backend *b, const char *path, pp_error *err) {
    pp_cuda_ctx *c = b->ctx;
    pp_tune_cache *nc = NULL;
    pp_code rc = pp_tune_cache_open(path, c->device, &nc, err);
    if (rc) return pp_error_prefix(err, "%s", b->name), rc;
    pp_tune_cache_free(c->cache);
    c->cache = nc;
    return PP_OK;
}

const char *pp_cuda_describe(pp_backend *b, const pp_launch *l) {
    pp_cuda_ctx *c = b->ctx;
    if (l) {
        const pp_cuda_state *st = l->state;
        return st && st->path[0] ? st->path : NULL;
    }
    const char *problem = pp_tune_cache_problem(c->cache);
    snprintf(c->info, sizeof c->info,
             "%s: %s; workspace budget %.0f MiB per launch; %d algorithms timed, %d from the "
             "tuning cache%s%s",
             b->name, c->device, (double)c->ws_budget / (1 << 20), c->tuned, c->cached,
             problem ? "; the tuning cache file was not written: " : "", problem ? problem : "");
    return c->info;
}

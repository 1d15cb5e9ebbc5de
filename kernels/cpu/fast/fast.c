/* fast.c: the fast family's face (fast.h): which kernel runs an op, and its
 * packed weights. */
#include <stdlib.h>
#include <string.h>

#include "../cpu_kernels.h"
#include "fast_internal.h"

float *pp_fast_alloc_floats(size_t n) {
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    return bytes ? aligned_alloc(64, bytes) : NULL;
}

/* GEMM: B a weight, C absent, a row of biases, or a full (M, N) addend. */
static int gemm_fast_ok(const pp_gemm_params *g, unsigned weights) {
    if (!(weights & 2u) || g->m <= 0 || g->n <= 0 || g->k <= 0) return 0;
    if (g->beta == 0.f) return 1;
    if (g->beta != 1.f) return 0;
    return (g->c_stride_m == 0 && g->c_stride_n == 1) || (g->c_stride_m == g->n && g->c_stride_n == 1);
}

/* MATMUL: B a weight shared by every matrix of a dense A: one (batch·M, K) product. */
static int matmul_fast_ok(const pp_matmul_params *p, unsigned weights) {
    if (!(weights & 2u) || p->m <= 0 || p->n <= 0 || p->k <= 0) return 0;
    int64_t expect = p->m * p->k;
    for (int d = p->batch_rank - 1; d >= 0; d--) {
        if (p->batch_dims[d] != 1 && (p->a_stride[d] != expect || p->b_stride[d] != 0)) return 0;
        expect *= p->batch_dims[d];
    }
    return 1;
}

/* The fast kernels take f32 (a dtype field left 0 means the graph's f32) in
 * the plain layout; the planner's other formats go to the reference. */
static int f32(pp_dtype t) { return t == PP_DTYPE_F32 || t == PP_DTYPE_INVALID; }
static int f32_plain(pp_format f) { return f32(f.dtype) && f.layout == PP_LAYOUT_PLAIN; }

static int takes(pp_op op, const pp_op_params *p) {
    switch (op) {
    case PP_OP_CONV: return f32_plain(p->conv.fmt);
    case PP_OP_GEMM: return f32(p->gemm.dtype);
    case PP_OP_MATMUL: return f32(p->matmul.dtype);
    case PP_OP_MAXPOOL:
    case PP_OP_AVGPOOL:
    case PP_OP_GLOBAL_AVGPOOL:
    case PP_OP_GLOBAL_MAXPOOL: return f32_plain(p->pool.fmt);
    case PP_OP_ATTENTION: return f32(p->attention.dtype);
    case PP_OP_SOFTMAX:
    case PP_OP_LOG_SOFTMAX: return f32(p->softmax.dtype);
    case PP_OP_LAYERNORM: return f32(p->layernorm.dtype);
    default: return 1;
    }
}

int pp_fast_pack(pp_op op, const pp_op_params *p, const void *const *in, unsigned weights, pp_cpu_isa isa,
                 pp_fast_packed **out) {
    *out = NULL;
    const pp_gemm_kernel *kr = pp_gemm_kernel_for(isa);
    pp_fast_packed pk = {op, NULL, NULL, 0, 0};
    if (!takes(op, p)) return 0;
    switch (op) {
    case PP_OP_CONV: {
        size_t ws;
        if (!(weights & 2u) || !pp_fast_conv_plan(&p->conv, NULL, isa, 1, 1, &ws)) return 0;
        if (pp_fast_conv_pack(&p->conv, in[1], in[2], isa, &pk)) return -1;
        if (pk.w)
            pk.src_bytes = (size_t)(p->conv.k * (p->conv.c / p->conv.group) * p->conv.kh * p->conv.kw) * sizeof(float);
        break;
    }
    case PP_OP_GEMM: {
        const pp_gemm_params *g = &p->gemm;
        if (!gemm_fast_ok(g, weights)) return 0;
        /* B (K, N), or (N, K) when trans_b, times alpha */
        if (!(pk.w = pp_fast_alloc_floats((size_t)pp_gemm_packed_size(g->n, g->k, kr->nr)))) return -1;
        const float *b = in[1];
        pp_gemm_pack(b, g->trans_b ? g->k : 1, g->trans_b ? 1 : g->n, g->n, g->k, kr->nr, pk.w);
        if (g->alpha != 1.f)
            for (int64_t i = 0; i < pp_gemm_packed_size(g->n, g->k, kr->nr); i++) pk.w[i] *= g->alpha;
        pk.src_bytes = (size_t)(g->k * g->n) * sizeof(float);
        break;
    }
    case PP_OP_MATMUL: {
        const pp_matmul_params *m = &p->matmul;
        if (!matmul_fast_ok(m, weights)) return 0;
        if (!(pk.w = pp_fast_alloc_floats((size_t)pp_gemm_packed_size(m->n, m->k, kr->nr)))) return -1;
        pp_gemm_pack(in[1], 1, m->n, m->n, m->k, kr->nr, pk.w);
        pk.src_bytes = (size_t)(m->k * m->n) * sizeof(float);
        break;
    }
    default: return 0;
    }
    if (!(*out = malloc(sizeof pk))) {
        free(pk.w);
        return -1;
    }
    **out = pk;
    return 0;
}

void pp_fast_packed_free(pp_fast_packed *pk) {
    if (!pk) return;
    free(pk->w);
    free(pk->wino);
    free(pk);
}

size_t pp_fast_workspace_bound(pp_op op, const pp_op_params *p, pp_cpu_isa isa, int threads) {
    size_t ws = 0, w2 = 0;
    if (!takes(op, p)) return 0;
    const pp_gemm_kernel *kr = pp_gemm_kernel_for(isa);
    switch (op) {
    case PP_OP_CONV: {
        pp_fast_packed gemm_only = {op, NULL, NULL, 0, 0}; /* plans the implicit GEMM or depthwise */
        pp_fast_conv_plan(&p->conv, &gemm_only, isa, threads, 1, &ws);
        if (isa == PP_ISA_AVX512 && pp_fast_winograd_fits(&p->conv))
            w2 = pp_fast_winograd_workspace(&p->conv, isa, threads);
        return ws > w2 ? ws : w2;
    }
    case PP_OP_GEMM: return pp_fast_mm_workspace(kr, p->gemm.m, p->gemm.n, p->gemm.k, threads);
    case PP_OP_MATMUL:
        return pp_fast_mm_workspace(kr, p->matmul.batch * p->matmul.m, p->matmul.n, p->matmul.k, threads);
    default: pp_fast_plan(op, p, NULL, isa, threads, 0, &ws); return ws;
    }
}

size_t pp_fast_packed_source_bytes(const pp_fast_packed *pk) { return pk ? pk->src_bytes : 0; }

int pp_fast_plan(pp_op op, const pp_op_params *p, const pp_fast_packed *pk, pp_cpu_isa isa, int threads,
                 int deterministic, size_t *ws_bytes) {
    *ws_bytes = 0;
    if (!takes(op, p)) return 0;
    const pp_gemm_kernel *kr = pp_gemm_kernel_for(isa);
    switch (op) {
    case PP_OP_CONV:
        /* depthwise packs nothing; the GEMM path needs its packed weights */
        if (!pk && !(p->conv.group == p->conv.c && p->conv.c == p->conv.k && p->conv.group > 1)) return 0;
        return pp_fast_conv_plan(&p->conv, pk, isa, threads, deterministic, ws_bytes);
    case PP_OP_GEMM:
        if (!pk) return 0;
        *ws_bytes = pp_fast_mm_workspace(kr, p->gemm.m, p->gemm.n, p->gemm.k, threads);
        return 1;
    case PP_OP_MATMUL:
        if (!pk) return 0;
        *ws_bytes = pp_fast_mm_workspace(kr, p->matmul.batch * p->matmul.m, p->matmul.n, p->matmul.k, threads);
        return 1;
    case PP_OP_MAXPOOL:
    case PP_OP_AVGPOOL:
    case PP_OP_GLOBAL_AVGPOOL:
    case PP_OP_GLOBAL_MAXPOOL: return pp_fast_pool_plan(&p->pool, isa);
    case PP_OP_ATTENTION: return pp_fast_attention_plan(&p->attention, isa, threads, ws_bytes);
    default: return pp_fast_sliced_plan(op, p, isa);
    }
}

int pp_fast_run(pp_op op, const pp_op_params *p, const pp_fast_packed *pk, pp_cpu_isa isa, int variant,
                const void *const *in, void *const *out, void *ws, pp_tpool *pool) {
    const pp_gemm_kernel *kr = pp_gemm_kernel_for(isa);
    switch (op) {
    case PP_OP_CONV: return pp_fast_conv_run(&p->conv, pk, isa, variant, in, out[0], ws, pool);
    case PP_OP_GEMM: {
        const pp_gemm_params *g = &p->gemm;
        const float *c = g->beta != 0.f ? in[2] : NULL;
        int row = c && g->c_stride_m == 0;
        pp_fast_mm(kr, in[0], g->trans_a, g->trans_a ? g->m : g->k, pk->w, out[0], g->m, g->n, g->k, row ? c : NULL,
                   row ? NULL : c, g->act, ws, pool);
        return 0;
    }
    case PP_OP_MATMUL: {
        const pp_matmul_params *m = &p->matmul;
        pp_act none = {PP_ACT_NONE, 0.f, 0.f};
        pp_fast_mm(kr, in[0], 0, m->k, pk->w, out[0], m->batch * m->m, m->n, m->k, NULL, NULL, none, ws, pool);
        return 0;
    }
    case PP_OP_MAXPOOL:
    case PP_OP_AVGPOOL:
    case PP_OP_GLOBAL_AVGPOOL:
    case PP_OP_GLOBAL_MAXPOOL: return pp_fast_pool_run(&p->pool, isa, in[0], out[0], pool);
    case PP_OP_ATTENTION: return pp_fast_attention_run(&p->attention, in, out[0], ws, pool);
    default: return pp_fast_sliced_run(op, p, isa, in, out, pool);
    }
}

/* gemm_lt.c: GEMM and MATMUL through cuBLASLt: f32 in and out, FP32 or TF32
 * compute; in the FP16/BF16 modes A and B are read in 16 bits (a weight from
 * its converted copy, made once: half_weights.c; an activation converted into
 * the workspace by each launch) while C, D and the accumulation stay f32.
 *
 * cuBLASLt is column-major and our tensors are row-major, so every product is
 * computed transposed (reference/cuda.md §2): Yᵀ (N×M, ld N) = op(B)ᵀ · op(A)ᵀ,
 * with cuBLAS's "A" the B buffer and its "B" the A buffer, each described as
 * stored. Then a GEMM bias that is a row vector (N entries) is one entry per row
 * of the column-major D, which is what CUBLASLT_EPILOGUE_BIAS adds.
 *
 * GEMM's C, by shape (beta != 0):
 *   (N) row vector, beta 1  → the BIAS epilogue, no C read;
 *   (M, N) full matrix       → cuBLASLt's C with beta;
 *   anything else broadcast  → a kernel first writes C broadcast into Y, then
 *                              cuBLASLt accumulates into Y with beta.
 * The activation is the RELU / GELU epilogue where cuBLASLt computes exactly
 * ours (RELU; its GELU is the tanh form, so only GELU_TANH), else a follow-up
 * kernel over Y.
 *
 * MATMUL's batch dims: one strided-batch call when each operand's matrix offset
 * is linear in the flat batch index (stride 0 broadcasts); a dense A times a
 * shared B is folded into one (batch·M, K)·(K, N) product; other broadcast
 * patterns loop over the batch in launch, one call per matrix (no allocation).
 *
 * Everything is decided in prepare: descriptors, layouts, the heuristic's
 * algorithm (cached in the plan) and the workspace it needs.
 */
#include <stdio.h>
#include <string.h>

#include "cuda_internal.h"

enum { LT_BIAS_NONE = 0, LT_C_NONE = 0, LT_C_BIAS = 1, LT_C_MATRIX = 2, LT_C_PREFILL = 3 };

struct pp_lt_plan {
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t la, lb, lc; /* cuBLAS A (our B), cuBLAS B (our A), C = D */
    cublasLtMatmulAlgo_t algo;
    size_t ws;
    float alpha, beta; /* what cuBLASLt gets (beta 0 with the bias epilogue) */
    int c_mode;
    pp_act post_act; /* a follow-up activation, PP_ACT_NONE when fused or absent */
    int loop;        /* MATMUL: one call per matrix */
    int64_t m, n;    /* Y rows and columns (after any folding) */
    uint32_t align;  /* pointer alignment the algorithm was chosen for */
    /* 16-bit modes: hd is the type (PP_DTYPE_INVALID in f32 modes); per operand
     * (0 = our A, 1 = our B) its element count, and either its converted
     * weight (half[i]) or where in the workspace a launch converts it (conv_off[i],
     * SIZE_MAX when it needs no conversion there). */
    pp_dtype hd;
    int64_t numel[2];
    void *half[2];
    size_t conv_off[2];
};

static pp_code lt_fail(pp_error *err, const pp_backend *b, const pp_launch *l, cublasStatus_t s, const char *what) {
    return pp_error_set(err, s == CUBLAS_STATUS_NOT_SUPPORTED ? PP_ERR_UNSUPPORTED : PP_ERR_DEVICE,
                        "%s: node '%s': %s: %s (%s)", b->name, l->node->name, what, cublasLtGetStatusName(s),
                        cublasLtGetStatusString(s));
}

#define LT(call, what)                                                                                                 \
    do {                                                                                                               \
        cublasStatus_t s_ = (call);                                                                                    \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                                             \
            rc = lt_fail(err, b, l, s_, what);                                                                         \
            goto fail;                                                                                                 \
        }                                                                                                              \
    } while (0)

/* Largest power of two dividing x, capped at 256 (0 counts as 256). */
static uint32_t pow2_align(uint64_t x) {
    if (x == 0) return 256;
    uint64_t a = x & (~x + 1);
    return a > 256 ? 256 : (uint32_t)a;
}

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* The alignment of a pointer known at prepare, or 16 for one the plan binds later:
 * the executor's first, sizing prepare passes NULL for activations and small
 * placeholders for weights (arena sub-buffers are 256-aligned; launch checks). */
static uint32_t ptr_align(const void *p) {
    uintptr_t v = (uintptr_t)p;
    if (v < 65536) return 16;
    uint32_t a = pow2_align((uint64_t)v);
    return a < 4 ? 16 : a; /* no f32 buffer is less than 4-aligned: a placeholder (offset + 1) */
}

static pp_code set_layout_batch(cublasLtMatrixLayout_t L, int32_t count, int64_t stride, pp_backend *b,
                                const pp_launch *l, pp_error *err) {
    pp_code rc = PP_OK;
    LT(cublasLtMatrixLayoutSetAttribute(L, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count),
       "cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)");
    LT(cublasLtMatrixLayoutSetAttribute(L, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride),
       "cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)");
fail:
    return rc;
}

void pp_lt_release(pp_backend *b, pp_lt_plan *p) {
    if (!p) return;
    for (int i = 0; i < 2; i++)
        if (p->half[i]) pp_cuda_half_weight_put(b, p->half[i]);
    if (p->la) cublasLtMatrixLayoutDestroy(p->la);
    if (p->lb) cublasLtMatrixLayoutDestroy(p->lb);
    if (p->lc) cublasLtMatrixLayoutDestroy(p->lc);
    if (p->desc) cublasLtMatmulDescDestroy(p->desc);
    pp_free(p);
}

/* MATMUL: is the offset of matrix bi in an operand stride·bi for one stride? */
static int linear_batch(const pp_matmul_params *p, const int64_t *st, int64_t *stride) {
    int64_t inner = 1, s = -1;
    for (int d = p->batch_rank - 1; d >= 0; d--) {
        int64_t ext = p->batch_dims[d];
        if (ext != 1) {
            if (s < 0) {
                if (st[d] % inner) return 0;
                s = st[d] / inner;
            }
            if (st[d] != s * inner) return 0;
        }
        inner *= ext;
    }
    *stride = s < 0 ? 0 : s;
    return 1;
}

static void batch_offsets(const pp_matmul_params *p, int64_t bi, int64_t *oa, int64_t *ob) {
    int64_t a = 0, b = 0;
    for (int d = p->batch_rank - 1; d >= 0; d--) {
        int64_t ext = p->batch_dims[d];
        int64_t idx = ext > 0 ? bi % ext : 0;
        bi = ext > 0 ? bi / ext : 0;
        a += idx * p->a_stride[d];
        b += idx * p->b_stride[d];
    }
    *oa = a;
    *ob = b;
}

/* Elements an operand spans: one matrix of `mat` plus the furthest batch offset. */
static int64_t operand_numel(const pp_matmul_params *p, const int64_t *st, int64_t mat) {
    int64_t far = 0;
    for (int d = 0; d < p->batch_rank; d++)
        if (p->batch_dims[d] > 1) far += (p->batch_dims[d] - 1) * st[d];
    return mat + far;
}

pp_code pp_lt_prepare(pp_backend *b, pp_launch *l, pp_lt_plan **out, size_t *ws_bytes, pp_error *err) {
    pp_cuda_ctx *c = b->ctx;
    pp_code rc = PP_OK;
    *out = NULL;
    *ws_bytes = 0;
    cublasLtMatmulPreference_t pref = NULL;
    pp_lt_plan *p = pp_calloc(1, sizeof *p);
    if (!p) return pp_error_set(err, PP_ERR_NOMEM, "%s: out of memory preparing node '%s'", b->name, l->node->name);

    /* The product in row-major terms: Y (M,N) = op(A) (M,K) · op(B) (K,N), with
     * A stored (rows_a, cols_a) and B (rows_b, cols_b), row-major. */
    int64_t m, n, k;
    int trans_a = 0, trans_b = 0;
    int32_t batch = 1;
    int64_t sa = 0, sb = 0;
    uint32_t align = 256;
    cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_DEFAULT;
    p->post_act.kind = PP_ACT_NONE;
    p->hd = pp_cuda_half_dtype(c);
    uint64_t es = p->hd == PP_DTYPE_INVALID ? 4 : 2; /* bytes per A/B element */
    if (l->node->op == PP_OP_GEMM) {
        const pp_gemm_params *g = &l->params.gemm;
        m = g->m, n = g->n, k = g->k;
        p->numel[0] = m * k;
        p->numel[1] = k * n;
        trans_a = g->trans_a, trans_b = g->trans_b;
        p->alpha = g->alpha;
        p->beta = g->beta;
        const void *cptr = l->in[2];
        if (g->beta == 0.f || (l->node->n_in < 3) || (l->node->n_in >= 3 && l->node->in[2] < 0)) {
            p->c_mode = LT_C_NONE;
            p->beta = 0.f;
        } else if (g->c_stride_m == 0 && g->c_stride_n == 1 && g->beta == 1.f && ptr_align(cptr) >= 16) {
            p->c_mode = LT_C_BIAS;
            p->beta = 0.f;
        } else if (g->c_stride_m == n && g->c_stride_n == 1) {
            p->c_mode = LT_C_MATRIX;
            align = min_u32(align, ptr_align(cptr));
        } else {
            p->c_mode = LT_C_PREFILL;
        }
        int bias = p->c_mode == LT_C_BIAS;
        switch (g->act.kind) {
        case PP_ACT_NONE: epi = bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT; break;
        case PP_ACT_RELU: epi = bias ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU; break;
        case PP_ACT_GELU_TANH: epi = bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU; break;
        default:
            epi = bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
            p->post_act = g->act;
            break;
        }
    } else {
        const pp_matmul_params *mm = &l->params.matmul;
        m = mm->m, n = mm->n, k = mm->k;
        p->numel[0] = operand_numel(mm, mm->a_stride, m * k);
        p->numel[1] = operand_numel(mm, mm->b_stride, k * n);
        p->alpha = 1.f;
        p->beta = 0.f;
        p->c_mode = LT_C_NONE;
        int64_t lsa, lsb;
        if (mm->batch <= 1) {
            batch = 1;
        } else if (linear_batch(mm, mm->a_stride, &lsa) && linear_batch(mm, mm->b_stride, &lsb)) {
            if (lsb == 0 && lsa == m * k) {
                m *= mm->batch; /* dense A, shared B: one tall product */
            } else if (mm->batch <= INT32_MAX) {
                batch = (int32_t)mm->batch;
                sa = lsa;
                sb = lsb;
                align = min_u32(align, min_u32(pow2_align((uint64_t)sa * es), pow2_align((uint64_t)sb * es)));
                align = min_u32(align, pow2_align((uint64_t)(m * n) * 4));
            } else {
                p->loop = 1;
            }
        } else {
            p->loop = 1;
        }
        if (p->loop) {
            for (int d = 0; d < mm->batch_rank; d++)
                align = min_u32(align, min_u32(pow2_align((uint64_t)mm->a_stride[d] * es),
                                               pow2_align((uint64_t)mm->b_stride[d] * es)));
            align = min_u32(align, pow2_align((uint64_t)(m * n) * 4));
        }
    }
    p->m = m;
    p->n = n;
    /* 16 bits: weights from their converted copy, activations converted into
     * the workspace after cuBLASLt's own part; both 256-aligned. */
    size_t ws_extra = 0;
    p->conv_off[0] = p->conv_off[1] = SIZE_MAX;
    for (int i = 0; i < 2 && p->hd != PP_DTYPE_INVALID; i++) {
        if (l->weights & (1u << i)) {
            /* the executor's first, sizing prepare has no device pointers yet */
            if (l->in[i] && (rc = pp_cuda_half_weight_get(b, l->in[i], p->numel[i], p->hd, 0, 0, &p->half[i], err)))
                goto fail;
        } else {
            p->conv_off[i] = PP_CUDA_GEMM_WS_MAX + ws_extra;
            ws_extra += ((size_t)p->numel[i] * 2 + 255) & ~(size_t)255;
        }
    }
    if (p->hd == PP_DTYPE_INVALID) align = min_u32(align, min_u32(ptr_align(l->in[0]), ptr_align(l->in[1])));
    align = min_u32(align, ptr_align(l->out[0]));
    p->align = align;

    cudaDataType_t ab = p->hd == PP_DTYPE_F16 ? CUDA_R_16F : p->hd == PP_DTYPE_BF16 ? CUDA_R_16BF : CUDA_R_32F;
    cublasComputeType_t ct = c->precision == PP_PREC_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    LT(cublasLtMatmulDescCreate(&p->desc, ct, CUDA_R_32F), "cublasLtMatmulDescCreate");
    /* cuBLAS A = our B: stored (K,N) row-major = col-major N×K (ld N), op N;
     * transposed, stored (N,K) = col-major K×N (ld K), op T. */
    int32_t opa = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, opb = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    LT(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa), "set TRANSA");
    LT(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb), "set TRANSB");
    uint32_t epi32 = (uint32_t)epi;
    LT(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi32, sizeof epi32), "set EPILOGUE");
    if (p->c_mode == LT_C_BIAS) {
        /* the heuristic judges the bias pointer's alignment: give it a placeholder
         * never (NULL, the default, instead); launch sets the real one */
        uintptr_t bv = (uintptr_t)l->in[2];
        const void *bias = bv >= 65536 && (bv & 15) == 0 ? l->in[2] : NULL;
        LT(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias),
           "set BIAS_POINTER");
    }
    if (trans_b) LT(cublasLtMatrixLayoutCreate(&p->la, ab, (uint64_t)k, (uint64_t)n, k), "layout A");
    else LT(cublasLtMatrixLayoutCreate(&p->la, ab, (uint64_t)n, (uint64_t)k, n), "layout A");
    /* cuBLAS B = our A: stored (M,K) = col-major K×M (ld K), op N; transposed,
     * stored (K,M) = col-major M×K (ld M), op T. */
    if (trans_a) LT(cublasLtMatrixLayoutCreate(&p->lb, ab, (uint64_t)m, (uint64_t)k, m), "layout B");
    else LT(cublasLtMatrixLayoutCreate(&p->lb, ab, (uint64_t)k, (uint64_t)m, k), "layout B");
    LT(cublasLtMatrixLayoutCreate(&p->lc, CUDA_R_32F, (uint64_t)n, (uint64_t)m, n), "layout C/D");
    if (batch > 1) {
        if ((rc = set_layout_batch(p->la, batch, sb, b, l, err)) != PP_OK) goto fail;
        if ((rc = set_layout_batch(p->lb, batch, sa, b, l, err)) != PP_OK) goto fail;
        if ((rc = set_layout_batch(p->lc, batch, m * n, b, l, err)) != PP_OK) goto fail;
    }

    LT(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
    uint64_t max_ws = PP_CUDA_GEMM_WS_MAX;
    LT(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &max_ws, sizeof max_ws),
       "set MAX_WORKSPACE_BYTES");
    const cublasLtMatmulPreferenceAttributes_t al[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    for (int i = 0; i < 4; i++)
        LT(cublasLtMatmulPreferenceSetAttribute(pref, al[i], &align, sizeof align), "set MIN_ALIGNMENT");
    cublasLtMatmulHeuristicResult_t res[8];
    int pick = -1;
    for (;;) {
        int found = 0;
        cublasStatus_t hs =
            cublasLtMatmulAlgoGetHeuristic(c->lt, p->desc, p->la, p->lb, p->lc, p->lc, pref, 8, res, &found);
        if (hs != CUBLAS_STATUS_SUCCESS && hs != CUBLAS_STATUS_NOT_SUPPORTED) {
            rc = lt_fail(err, b, l, hs, "cublasLtMatmulAlgoGetHeuristic");
            goto fail;
        }
        for (int i = 0; hs == CUBLAS_STATUS_SUCCESS && i < found && pick < 0; i++)
            if (res[i].state == CUBLAS_STATUS_SUCCESS && res[i].workspaceSize <= PP_CUDA_GEMM_WS_MAX) pick = i;
        if (pick >= 0 || epi == CUBLASLT_EPILOGUE_DEFAULT) break;
        /* No algorithm with the fused epilogue (some type and shape combinations
         * have none): the bias goes in as a prefilled C, the activation as the
         * follow-up kernel, and the plain product is asked for again. */
        if (p->c_mode == LT_C_BIAS) {
            p->c_mode = LT_C_PREFILL;
            p->beta = 1.f;
        }
        if (p->post_act.kind == PP_ACT_NONE) p->post_act = l->params.gemm.act;
        epi = CUBLASLT_EPILOGUE_DEFAULT;
        uint32_t e32 = (uint32_t)epi;
        LT(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &e32, sizeof e32), "set EPILOGUE");
    }
    if (pick < 0) {
        rc = pp_error_set(err, PP_ERR_UNSUPPORTED,
                          "%s: node '%s': cuBLASLt has no algorithm for (%lld x %lld) x (%lld x %lld), batch %d, "
                          "alignment %u",
                          b->name, l->node->name, (long long)m, (long long)k, (long long)k, (long long)n, (int)batch,
                          (unsigned)align);
        goto fail;
    }
    p->algo = res[pick].algo;
    /* Every GEMM asks for the same workspace whatever its algorithm needs, so a
     * later prepare (another micro-batch size, real pointers) never needs more
     * than the arena the first one sized; cuBLASLt may use all of it. */
    p->ws = PP_CUDA_GEMM_WS_MAX;
    cublasLtMatmulPreferenceDestroy(pref);
    *out = p;
    *ws_bytes = p->ws + ws_extra;
    return PP_OK;
fail:
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    pp_lt_release(b, p);
    return rc;
}

static pp_code lt_run(pp_backend *b, pp_stream *s, const pp_launch *l, const pp_lt_plan *p, const void *a,
                      const void *bm, const float *cm, float *y, pp_error *err) {
    pp_cuda_ctx *c = b->ctx;
    /* cuBLAS A = our B, cuBLAS B = our A */
    cublasStatus_t st = cublasLtMatmul(c->lt, p->desc, &p->alpha, bm, p->la, a, p->lb, &p->beta, cm, p->lc, y, p->lc,
                                       &p->algo, l->ws, p->ws, s->s);
    if (st != CUBLAS_STATUS_SUCCESS) return lt_fail(err, b, l, st, "cublasLtMatmul");
    return PP_OK;
}

static pp_code kernel_fail(pp_backend *b, const pp_launch *l, cudaError_t e, const char *what, pp_error *err) {
    (void)cudaGetLastError();
    return pp_error_set(err, PP_ERR_DEVICE, "%s: node '%s': %s: %s (%s)", b->name, l->node->name, what,
                        cudaGetErrorName(e), cudaGetErrorString(e));
}

pp_code pp_lt_launch(pp_backend *b, pp_stream *s, const pp_launch *l, const pp_lt_plan *p, pp_error *err) {
    const void *ab[2] = {l->in[0], l->in[1]};
    float *y = l->out[0];
    if (p->m <= 0 || p->n <= 0) return PP_OK;
    if (p->ws && !l->ws)
        return pp_error_set(err, PP_ERR_INTERNAL, "%s: node '%s': no workspace (%zu bytes needed)", b->name,
                            l->node->name, p->ws);
    for (int i = 0; i < 2 && p->hd != PP_DTYPE_INVALID; i++) {
        if (p->half[i]) {
            ab[i] = p->half[i];
        } else if (p->conv_off[i] != SIZE_MAX) {
            void *dst = (char *)l->ws + p->conv_off[i];
            cudaError_t e = pp_cuda_convert(dst, p->hd, ab[i], PP_DTYPE_F32, p->numel[i], s->s);
            if (e != cudaSuccess) return kernel_fail(b, l, e, "converting an input to 16 bits", err);
            ab[i] = dst;
        } else {
            return pp_error_set(err, PP_ERR_INTERNAL, "%s: node '%s': weight %d was not converted at prepare", b->name,
                                l->node->name, i);
        }
    }
    const char *a = ab[0], *bm = ab[1];
    size_t es = p->hd == PP_DTYPE_INVALID ? 4 : 2;
    if (ptr_align(a) < p->align || ptr_align(bm) < p->align || ptr_align(y) < p->align)
        return pp_error_set(err, PP_ERR_INTERNAL, "%s: node '%s': buffers less aligned than the %u bytes prepared for",
                            b->name, l->node->name, (unsigned)p->align);
    pp_code rc;
    if (l->node->op == PP_OP_GEMM) {
        const pp_gemm_params *g = &l->params.gemm;
        const float *cm = y;
        if (p->c_mode == LT_C_BIAS) {
            const void *bias = l->in[2];
            cublasStatus_t st =
                cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias);
            if (st != CUBLAS_STATUS_SUCCESS) return lt_fail(err, b, l, st, "set BIAS_POINTER");
        } else if (p->c_mode == LT_C_MATRIX) {
            cm = l->in[2];
        } else if (p->c_mode == LT_C_PREFILL) {
            cudaError_t e = pp_cuda_broadcast_2d(y, l->in[2], g->m, g->n, g->c_stride_m, g->c_stride_n, s->s);
            if (e != cudaSuccess) return kernel_fail(b, l, e, "broadcasting C", err);
        }
        rc = lt_run(b, s, l, p, a, bm, cm, y, err);
        if (rc == PP_OK && p->post_act.kind != PP_ACT_NONE) {
            cudaError_t e = pp_cuda_act_inplace(y, g->m * g->n, p->post_act, s->s);
            if (e != cudaSuccess) return kernel_fail(b, l, e, "activation", err);
        }
        return rc;
    }
    if (!p->loop) return lt_run(b, s, l, p, a, bm, y, y, err);
    const pp_matmul_params *mm = &l->params.matmul;
    for (int64_t bi = 0; bi < mm->batch; bi++) {
        int64_t oa, ob;
        batch_offsets(mm, bi, &oa, &ob);
        float *yb = y + bi * mm->m * mm->n;
        rc = lt_run(b, s, l, p, a + (size_t)oa * es, bm + (size_t)ob * es, yb, yb, err);
        if (rc != PP_OK) return rc;
    }
    return PP_OK;
}

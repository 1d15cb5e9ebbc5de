/* gemm_lt.c: GEMM and MATMUL through cuBLASLt.
 *
 * Types: A, B, C and Y in the params' dtype (f32, or f16/bf16 from the
 * planner), computed in f32 (CUBLAS_COMPUTE_32F; TF32 tensor cores in tf32
 * mode). In the fp16/bf16 modes with f32 tensors (before the planner) A and B
 * are converted into the workspace by each launch and C, Y stay f32.
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
 * The activation is the RELU / GELU epilogue where cuBLASLt computes ours
 * (RELU; its GELU is the tanh form: GELU_TANH, and the erf GELU where Y is
 * 16-bit, whose rounding is coarser than the two forms' difference, at most
 * 5e-4), else a follow-up kernel over Y.
 *
 * MATMUL's batch dims: one strided-batch call when each operand's matrix offset
 * is linear in the flat batch index (stride 0 broadcasts); a dense A times a
 * shared B is folded into one (batch·M, K)·(K, N) product; other broadcast
 * patterns loop over the batch in launch, one call per matrix (no allocation).
 *
 * Alignment: the heuristic is told the real alignment of the pointers and
 * batch strides, known at the executor's second prepare, when a launch's
 * pointers are final; so an algorithm is never run on buffers less aligned than
 * it was chosen for. Algorithms: the heuristic's (up to MAX_ALGOS within the
 * workspace budget), timed on the launch's buffers when they are known and
 * kept in the tuning cache per shape (cuBLASLt's algorithm struct may be saved
 * and restored with the same cuBLASLt version, which the cache's device key
 * names). When it offers nothing, the fused epilogue is dropped (bias as a
 * prefilled C, activation as a kernel), and when it still offers nothing a
 * tiled kernel (kernels/cuda/gemm.cu) computes the node.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cuda_internal.h"
#include "tune_cache.h"

enum { LT_C_NONE = 0, LT_C_BIAS = 1, LT_C_MATRIX = 2, LT_C_PREFILL = 3, MAX_ALGOS = 4 };

struct pp_lt_plan {
    int fallback; /* the kernel runs it: cuBLASLt offered nothing */
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t la, lb, lc; /* cuBLAS A (our B), cuBLAS B (our A), C = D */
    cublasLtMatmulAlgo_t algo;
    size_t ws;         /* cuBLASLt's part of the workspace */
    float alpha, beta; /* what cuBLASLt gets (beta 0 with the bias epilogue) */
    int c_mode;
    cublasLtEpilogue_t epi;
    pp_act post_act; /* a follow-up activation, PP_ACT_NONE when fused or absent */
    int loop;        /* MATMUL: one call per matrix */
    int64_t m, n;    /* Y rows and columns (after any folding) */
    uint32_t align;  /* pointer alignment the algorithm was chosen for */
    pp_dtype td, ab; /* the tensors' type; A and B's as cuBLASLt reads them */
    /* td != ab: per operand (0 = our A, 1 = our B) its element count and where
     * in the workspace, after cuBLASLt's part, a launch converts it */
    int64_t numel[2];
    size_t conv_off[2];
    size_t ws_total;
    int timed, cached;
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
static size_t up256(size_t n) { return (n + 255) & ~(size_t)255; }
static size_t esz(pp_dtype t) { return t == PP_DTYPE_F32 ? 4 : 2; }

/* The alignment of a pointer known at prepare, or 16 for one the plan binds
 * later (the executor's first, sizing prepare passes NULL). */
static uint32_t ptr_align(const void *p) {
    uintptr_t v = (uintptr_t)p;
    if (v == 0) return 16;
    return pow2_align((uint64_t)v);
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
    (void)b;
    if (!p) return;
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

/* The product in row-major terms, Y (M,N) = op(A) (M,K) · op(B) (K,N), as the
 * plan will hand it to cuBLASLt: shape, batching, C and activation. */
typedef struct lt_shape {
    int64_t m, n, k;
    int trans_a, trans_b;
    int32_t batch;
    int64_t sa, sb;        /* strided batch offsets in elements */
    uint32_t stride_align; /* what the batch strides allow */
} lt_shape;

static void shape_gemm(const pp_launch *l, pp_lt_plan *p, lt_shape *sh) {
    const pp_gemm_params *g = &l->params.gemm;
    sh->m = g->m, sh->n = g->n, sh->k = g->k;
    sh->trans_a = g->trans_a, sh->trans_b = g->trans_b;
    p->numel[0] = g->m * g->k;
    p->numel[1] = g->k * g->n;
    p->alpha = g->alpha;
    p->beta = g->beta;
    int has_c = l->node->n_in >= 3 && l->node->in[2] >= 0;
    if (g->beta == 0.f || !has_c) {
        p->c_mode = LT_C_NONE;
        p->beta = 0.f;
    } else if (g->c_stride_m == 0 && g->c_stride_n == 1 && g->beta == 1.f && ptr_align(l->in[2]) >= 16) {
        p->c_mode = LT_C_BIAS;
        p->beta = 0.f;
    } else if (g->c_stride_m == g->n && g->c_stride_n == 1) {
        p->c_mode = LT_C_MATRIX;
        sh->stride_align = min_u32(sh->stride_align, ptr_align(l->in[2]));
    } else {
        p->c_mode = LT_C_PREFILL;
    }
}

static void shape_matmul(const pp_launch *l, pp_lt_plan *p, lt_shape *sh) {
    const pp_matmul_params *mm = &l->params.matmul;
    uint64_t es = esz(p->ab), ey = esz(p->td);
    sh->m = mm->m, sh->n = mm->n, sh->k = mm->k;
    p->numel[0] = operand_numel(mm, mm->a_stride, mm->m * mm->k);
    p->numel[1] = operand_numel(mm, mm->b_stride, mm->k * mm->n);
    p->alpha = 1.f;
    p->beta = 0.f;
    p->c_mode = LT_C_NONE;
    int64_t lsa, lsb;
    if (mm->batch <= 1) return;
    if (linear_batch(mm, mm->a_stride, &lsa) && linear_batch(mm, mm->b_stride, &lsb)) {
        if (lsb == 0 && lsa == mm->m * mm->k) {
            sh->m *= mm->batch; /* dense A, shared B: one tall product */
            return;
        }
        if (mm->batch <= INT32_MAX) {
            sh->batch = (int32_t)mm->batch;
            sh->sa = lsa;
            sh->sb = lsb;
            sh->stride_align =
                min_u32(sh->stride_align, min_u32(pow2_align((uint64_t)lsa * es), pow2_align((uint64_t)lsb * es)));
            sh->stride_align = min_u32(sh->stride_align, pow2_align((uint64_t)(mm->m * mm->n) * ey));
            return;
        }
    }
    p->loop = 1;
    for (int d = 0; d < mm->batch_rank; d++)
        sh->stride_align = min_u32(sh->stride_align, min_u32(pow2_align((uint64_t)mm->a_stride[d] * es),
                                                             pow2_align((uint64_t)mm->b_stride[d] * es)));
    sh->stride_align = min_u32(sh->stride_align, pow2_align((uint64_t)(mm->m * mm->n) * ey));
}

/* The epilogue cuBLASLt fuses for this GEMM, the rest into post_act. */
static cublasLtEpilogue_t pick_epilogue(const pp_launch *l, pp_lt_plan *p) {
    p->post_act.kind = PP_ACT_NONE;
    if (l->node->op != PP_OP_GEMM) return CUBLASLT_EPILOGUE_DEFAULT;
    pp_act a = l->params.gemm.act;
    int bias = p->c_mode == LT_C_BIAS;
    if (a.kind == PP_ACT_RELU) return bias ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU;
    if (a.kind == PP_ACT_GELU_TANH || (a.kind == PP_ACT_GELU && p->td != PP_DTYPE_F32))
        return bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
    p->post_act = a;
    return bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
}

static cudaDataType_t lt_type(pp_dtype t) {
    return t == PP_DTYPE_F16 ? CUDA_R_16F : t == PP_DTYPE_BF16 ? CUDA_R_16BF : CUDA_R_32F;
}

/* The matmul descriptor and the three layouts. */
static pp_code lt_describe(pp_backend *b, const pp_launch *l, pp_lt_plan *p, const lt_shape *sh, pp_error *err) {
    pp_cuda_ctx *c = b->ctx;
    pp_code rc = PP_OK;
    int64_t m = sh->m, n = sh->n, k = sh->k;
    cudaDataType_t ab = lt_type(p->ab), cd = lt_type(p->td);
    cublasComputeType_t ct =
        c->precision == PP_PREC_TF32 && p->ab == PP_DTYPE_F32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    LT(cublasLtMatmulDescCreate(&p->desc, ct, CUDA_R_32F), "cublasLtMatmulDescCreate");
    /* cuBLAS A = our B: stored (K,N) row-major = col-major N×K (ld N), op N;
     * transposed, stored (N,K) = col-major K×N (ld K), op T. */
    int32_t opa = sh->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, opb = sh->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    LT(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa), "set TRANSA");
    LT(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb), "set TRANSB");
    if (p->c_mode == LT_C_BIAS) {
        /* the heuristic judges the bias pointer's alignment: the real one where
         * known (launch sets it again), else the default NULL */
        const void *bias = l->in[2];
        LT(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias),
           "set BIAS_POINTER");
    }
    if (sh->trans_b) LT(cublasLtMatrixLayoutCreate(&p->la, ab, (uint64_t)k, (uint64_t)n, k), "layout A");
    else LT(cublasLtMatrixLayoutCreate(&p->la, ab, (uint64_t)n, (uint64_t)k, n), "layout A");
    /* cuBLAS B = our A: stored (M,K) = col-major K×M (ld K), op N; transposed,
     * stored (K,M) = col-major M×K (ld M), op T. */
    if (sh->trans_a) LT(cublasLtMatrixLayoutCreate(&p->lb, ab, (uint64_t)m, (uint64_t)k, m), "layout B");
    else LT(cublasLtMatrixLayoutCreate(&p->lb, ab, (uint64_t)k, (uint64_t)m, k), "layout B");
    LT(cublasLtMatrixLayoutCreate(&p->lc, cd, (uint64_t)n, (uint64_t)m, n), "layout C/D");
    if (sh->batch > 1) {
        if ((rc = set_layout_batch(p->la, sh->batch, sh->sb, b, l, err)) != PP_OK) goto fail;
        if ((rc = set_layout_batch(p->lb, sh->batch, sh->sa, b, l, err)) != PP_OK) goto fail;
        if ((rc = set_layout_batch(p->lc, sh->batch, m * n, b, l, err)) != PP_OK) goto fail;
    }
fail:
    return rc;
}

static pp_code set_epilogue(pp_backend *b, const pp_launch *l, pp_lt_plan *p, cublasLtEpilogue_t epi, pp_error *err) {
    pp_code rc = PP_OK;
    uint32_t e32 = (uint32_t)epi;
    p->epi = epi;
    LT(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &e32, sizeof e32), "set EPILOGUE");
fail:
    return rc;
}

/* The heuristic's algorithms within the budget; with none, the fused epilogue
 * goes (bias as a prefilled C, activation as a kernel) and it is asked again.
 * The count (0: the kernel fallback). */
static int lt_algorithms(pp_backend *b, const pp_launch *l, pp_lt_plan *p, size_t budget,
                         cublasLtMatmulHeuristicResult_t *res, pp_error *err, pp_code *rc) {
    pp_cuda_ctx *c = b->ctx;
    cublasLtMatmulPreference_t pref = NULL;
    int n = 0;
    *rc = PP_OK;
    uint64_t max_ws = budget;
    if (cublasLtMatmulPreferenceCreate(&pref) != CUBLAS_STATUS_SUCCESS ||
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &max_ws, sizeof max_ws) !=
            CUBLAS_STATUS_SUCCESS) {
        *rc = pp_error_set(err, PP_ERR_DEVICE, "%s: node '%s': cuBLASLt preference", b->name, l->node->name);
        goto done;
    }
    const cublasLtMatmulPreferenceAttributes_t al[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    for (int i = 0; i < 4; i++)
        if (cublasLtMatmulPreferenceSetAttribute(pref, al[i], &p->align, sizeof p->align) != CUBLAS_STATUS_SUCCESS) {
            *rc = pp_error_set(err, PP_ERR_DEVICE, "%s: node '%s': cuBLASLt alignment preference", b->name,
                               l->node->name);
            goto done;
        }
    for (;;) {
        cublasLtMatmulHeuristicResult_t all[8];
        int found = 0;
        cublasStatus_t hs =
            cublasLtMatmulAlgoGetHeuristic(c->lt, p->desc, p->la, p->lb, p->lc, p->lc, pref, 8, all, &found);
        if (hs != CUBLAS_STATUS_SUCCESS && hs != CUBLAS_STATUS_NOT_SUPPORTED) {
            *rc = lt_fail(err, b, l, hs, "cublasLtMatmulAlgoGetHeuristic");
            goto done;
        }
        for (int i = 0; hs == CUBLAS_STATUS_SUCCESS && i < found && n < MAX_ALGOS; i++)
            if (all[i].state == CUBLAS_STATUS_SUCCESS && all[i].workspaceSize <= budget) res[n++] = all[i];
        if (n || p->epi == CUBLASLT_EPILOGUE_DEFAULT) break;
        if (p->c_mode == LT_C_BIAS) {
            p->c_mode = LT_C_PREFILL;
            p->beta = 1.f;
        }
        if (p->post_act.kind == PP_ACT_NONE) p->post_act = l->params.gemm.act;
        if ((*rc = set_epilogue(b, l, p, CUBLASLT_EPILOGUE_DEFAULT, err))) goto done;
    }
done:
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    return n;
}

/* Everything the choice depends on besides the device. */
static void lt_key(const pp_launch *l, const pp_lt_plan *p, const lt_shape *sh, pp_precision prec, char *buf,
                   size_t n) {
    snprintf(buf, n,
             "%s m%" PRId64 " n%" PRId64 " k%" PRId64 " t%d%d b%d s%" PRId64 ",%" PRId64 " %s/%s c%d e%d a%u %s",
             l->node->op == PP_OP_GEMM ? "gemm" : "matmul", sh->m, sh->n, sh->k, sh->trans_a, sh->trans_b,
             (int)sh->batch, sh->sa, sh->sb, pp_dtype_name(p->ab), pp_dtype_name(p->td), p->c_mode, (int)p->epi,
             (unsigned)p->align, pp_precision_name(prec));
}

/* "lt <epilogue> <c mode> <workspace> <algo words in hex>" or "kernel". */
static void lt_value(const pp_lt_plan *p, char *buf, size_t n) {
    if (p->fallback) {
        snprintf(buf, n, "kernel");
        return;
    }
    int len = snprintf(buf, n, "lt %d %d %zu", (int)p->epi, p->c_mode, p->ws);
    for (int i = 0; i < 8 && len > 0 && (size_t)len < n; i++)
        len += snprintf(buf + len, n - (size_t)len, " %" PRIx64, p->algo.data[i]);
}

/* A cached choice back into p (whose epilogue may need to drop, as when it was
 * chosen); 0 when it does not parse. */
static int lt_from_value(pp_backend *b, const pp_launch *l, pp_lt_plan *p, const char *v, pp_error *err) {
    if (!strcmp(v, "kernel")) {
        p->fallback = 1;
        return 1;
    }
    int epi, cm, used = 0;
    size_t ws;
    if (sscanf(v, "lt %d %d %zu%n", &epi, &cm, &ws, &used) != 3) return 0;
    cublasLtMatmulAlgo_t a;
    for (int i = 0; i < 8; i++) {
        int u = 0;
        if (sscanf(v + used, " %" SCNx64 "%n", &a.data[i], &u) != 1) return 0;
        used += u;
    }
    if ((cublasLtEpilogue_t)epi != p->epi) {
        if (epi != CUBLASLT_EPILOGUE_DEFAULT || set_epilogue(b, l, p, CUBLASLT_EPILOGUE_DEFAULT, err)) return 0;
        if (p->c_mode == LT_C_BIAS) p->c_mode = LT_C_PREFILL, p->beta = 1.f;
        if (p->post_act.kind == PP_ACT_NONE && l->node->op == PP_OP_GEMM) p->post_act = l->params.gemm.act;
    }
    if (cm != p->c_mode) return 0;
    p->algo = a;
    p->ws = ws;
    return 1;
}

static pp_code lt_run(pp_backend *b, cudaStream_t s, const pp_launch *l, const pp_lt_plan *p,
                      const cublasLtMatmulAlgo_t *algo, size_t ws_bytes, void *ws, const void *a, const void *bm,
                      const void *cm, void *y, pp_error *err) {
    pp_cuda_ctx *c = b->ctx;
    /* cuBLAS A = our B, cuBLAS B = our A */
    cublasStatus_t st = cublasLtMatmul(c->lt, p->desc, &p->alpha, bm, p->la, a, p->lb, &p->beta, cm, p->lc, y, p->lc,
                                       algo, ws, ws_bytes, s);
    if (st != CUBLAS_STATUS_SUCCESS) return err ? lt_fail(err, b, l, st, "cublasLtMatmul") : PP_ERR_DEVICE;
    return PP_OK;
}

/* A and B as cuBLASLt reads them: the tensors, or their conversions. */
static void operands(const pp_launch *l, const pp_lt_plan *p, void *ws, const void **a, const void **bm) {
    *a = p->conv_off[0] != SIZE_MAX ? (const char *)ws + p->conv_off[0] : l->in[0];
    *bm = p->conv_off[1] != SIZE_MAX ? (const char *)ws + p->conv_off[1] : l->in[1];
}

typedef struct lt_time_arg {
    pp_backend *b;
    const pp_launch *l;
    const pp_lt_plan *p;
    const cublasLtMatmulHeuristicResult_t *r;
} lt_time_arg;

/* one product (the first matrix where launch loops) on the launch's buffers */
static int lt_time_run(void *arg) {
    lt_time_arg *t = arg;
    const void *a, *bm;
    operands(t->l, t->p, t->l->ws, &a, &bm);
    const void *cm = t->p->c_mode == LT_C_MATRIX ? t->l->in[2] : t->l->out[0];
    pp_cuda_ctx *c = t->b->ctx;
    return lt_run(t->b, c->tune, t->l, t->p, &t->r->algo, t->r->workspaceSize, t->l->ws, a, bm, cm, t->l->out[0],
                  NULL) == PP_OK;
}

static int lt_can_time(const pp_launch *l) {
    return l->ws && l->in[0] && l->in[1] && l->out[0] && (l->node->n_in < 3 || l->node->in[2] < 0 || l->in[2]);
}

pp_code pp_lt_prepare(pp_backend *b, pp_launch *l, pp_lt_plan **out, size_t *ws_bytes, char *path, size_t path_size,
                      pp_error *err) {
    pp_cuda_ctx *c = b->ctx;
    pp_code rc = PP_OK;
    *out = NULL;
    *ws_bytes = 0;
    pp_lt_plan *p = pp_calloc(1, sizeof *p);
    if (!p) return pp_error_nomem(err, "%s: out of memory preparing node '%s'", b->name, l->node->name);
    int gemm = l->node->op == PP_OP_GEMM;
    pp_dtype hd = pp_cuda_half_dtype(c);
    p->td = gemm ? l->params.gemm.dtype : l->params.matmul.dtype;
    if (p->td == PP_DTYPE_INVALID) p->td = PP_DTYPE_F32;
    p->ab = hd != PP_DTYPE_INVALID ? hd : p->td;
    lt_shape sh = {.batch = 1, .stride_align = 256};
    if (gemm) shape_gemm(l, p, &sh);
    else shape_matmul(l, p, &sh);
    p->m = sh.m;
    p->n = sh.n;
    /* A and B converted into the workspace (256-aligned there), or read as they are */
    size_t conv = 0;
    p->conv_off[0] = p->conv_off[1] = SIZE_MAX;
    uint32_t align = sh.stride_align;
    if (p->ab != p->td) conv = up256((size_t)p->numel[0] * 2) + up256((size_t)p->numel[1] * 2);
    else align = min_u32(align, min_u32(ptr_align(l->in[0]), ptr_align(l->in[1])));
    p->align = min_u32(align, ptr_align(l->out[0]));
    if ((rc = lt_describe(b, l, p, &sh, err)) || (rc = set_epilogue(b, l, p, pick_epilogue(l, p), err))) goto fail;
    size_t budget = l->ws ? (l->ws_bytes > conv ? l->ws_bytes - conv : 0) : c->ws_budget;
    char key[384], value[256];
    lt_key(l, p, &sh, c->precision, key, sizeof key);
    const char *v = pp_tune_cache_get(c->cache, key);
    size_t need = 0;
    if (v && lt_from_value(b, l, p, v, err) && p->ws <= budget) {
        p->cached = 1;
        c->cached++;
    } else {
        cublasLtMatmulHeuristicResult_t res[MAX_ALGOS];
        int n = lt_algorithms(b, l, p, budget, res, err, &rc);
        if (rc) goto fail;
        int best = 0;
        if (n > 1 && lt_can_time(l) && pp_cuda_tuning_on()) {
            float best_ms = -1.f;
            for (int i = 0; i < n; i++) {
                lt_time_arg a = {b, l, p, &res[i]};
                float ms = pp_cuda_time(c, lt_time_run, &a);
                if (ms >= 0.f && (best_ms < 0.f || ms < best_ms)) best_ms = ms, best = i;
            }
            p->timed = best_ms >= 0.f;
        }
        for (int i = 0; i < n && !l->ws; i++) /* sizing: room for any of them */
            if (res[i].workspaceSize > need) need = res[i].workspaceSize;
        p->fallback = n == 0;
        if (n) {
            p->algo = res[best].algo;
            p->ws = res[best].workspaceSize;
        }
        if (p->timed) c->tuned++;
        if ((l->ws || n <= 1) && pp_cuda_tuning_on()) {
            lt_value(p, value, sizeof value);
            pp_tune_cache_put(c->cache, key, value);
        }
    }
    if (p->fallback) {
        p->ws = 0;
        conv = 0;
    }
    if (need < p->ws) need = p->ws;
    p->ws = up256(p->ws);
    if (p->ab != p->td && !p->fallback) {
        p->conv_off[0] = up256(need);
        p->conv_off[1] = p->conv_off[0] + up256((size_t)p->numel[0] * 2);
    }
    p->ws_total = up256(need) + conv;
    static const char *const cm[] = {"", " + C as bias", " + C", " + C prefilled"};
    if (p->fallback) snprintf(path, path_size, "gemm kernel %s (cuBLASLt offered no algorithm)", pp_dtype_name(p->td));
    else
        snprintf(path, path_size, "cublaslt %s->%s%s%s%s, epilogue %d, align %u, ws %.1f MiB%s", pp_dtype_name(p->ab),
                 pp_dtype_name(p->td), cm[p->c_mode], p->post_act.kind != PP_ACT_NONE ? " + activation kernel" : "",
                 p->loop ? ", looped" : "", (int)p->epi, (unsigned)p->align, (double)p->ws_total / (1 << 20),
                 p->timed    ? ", timed"
                 : p->cached ? ", from the tuning cache"
                             : "");
    *out = p;
    *ws_bytes = p->ws_total;
    return PP_OK;
fail:
    pp_lt_release(b, p);
    return rc;
}

pp_code pp_lt_launch(pp_backend *b, pp_stream *s, const pp_launch *l, const pp_lt_plan *p, pp_error *err) {
    void *y = l->out[0];
    if (p->m <= 0 || p->n <= 0) return PP_OK;
    if (p->fallback) {
        pp_op_params pp = l->params;
        if (l->node->op == PP_OP_GEMM) pp.gemm.dtype = p->td;
        else pp.matmul.dtype = p->td;
        pp_cuda_exec x = {s->s, s->err_dev};
        cudaError_t e = pp_cuda_gemm_fallback(l->node->op, &pp, l->in, l->out, &x);
        return e == cudaSuccess ? PP_OK : pp_cuda_node_fail(err, b, l, e, "the GEMM kernel");
    }
    if (p->ws_total && !l->ws)
        return pp_error_set(err, PP_ERR_INTERNAL, "%s: node '%s': no workspace (%zu bytes needed)", b->name,
                            l->node->name, p->ws_total);
    for (int i = 0; i < 2; i++)
        if (p->conv_off[i] != SIZE_MAX) {
            cudaError_t e = pp_cuda_convert((char *)l->ws + p->conv_off[i], p->ab, l->in[i], p->td, p->numel[i], s->s);
            if (e != cudaSuccess) return pp_cuda_node_fail(err, b, l, e, "converting an input to 16 bits");
        }
    const void *a, *bm;
    operands(l, p, l->ws, &a, &bm);
    if (ptr_align(a) < p->align || ptr_align(bm) < p->align || ptr_align(y) < p->align)
        return pp_error_set(err, PP_ERR_INTERNAL, "%s: node '%s': buffers less aligned than the %u bytes prepared for",
                            b->name, l->node->name, (unsigned)p->align);
    size_t ey = esz(p->td), eab = esz(p->ab);
    if (l->node->op == PP_OP_GEMM) {
        const pp_gemm_params *g = &l->params.gemm;
        const void *cm = y;
        if (p->c_mode == LT_C_BIAS) {
            const void *bias = l->in[2];
            cublasStatus_t st =
                cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias);
            if (st != CUBLAS_STATUS_SUCCESS) return lt_fail(err, b, l, st, "set BIAS_POINTER");
        } else if (p->c_mode == LT_C_MATRIX) {
            cm = l->in[2];
        } else if (p->c_mode == LT_C_PREFILL) {
            cudaError_t e = pp_cuda_broadcast_2d(y, l->in[2], p->td, g->m, g->n, g->c_stride_m, g->c_stride_n, s->s);
            if (e != cudaSuccess) return pp_cuda_node_fail(err, b, l, e, "broadcasting C");
        }
        pp_code rc = lt_run(b, s->s, l, p, &p->algo, p->ws, l->ws, a, bm, cm, y, err);
        if (rc == PP_OK && p->post_act.kind != PP_ACT_NONE) {
            cudaError_t e = pp_cuda_act_inplace(y, p->td, g->m * g->n, p->post_act, s->s);
            if (e != cudaSuccess) return pp_cuda_node_fail(err, b, l, e, "the activation");
        }
        return rc;
    }
    if (!p->loop) return lt_run(b, s->s, l, p, &p->algo, p->ws, l->ws, a, bm, y, y, err);
    const pp_matmul_params *mm = &l->params.matmul;
    for (int64_t bi = 0; bi < mm->batch; bi++) {
        int64_t oa, ob;
        batch_offsets(mm, bi, &oa, &ob);
        char *yb = (char *)y + (size_t)(bi * mm->m * mm->n) * ey;
        pp_code rc = lt_run(b, s->s, l, p, &p->algo, p->ws, l->ws, (const char *)a + (size_t)oa * eab,
                            (const char *)bm + (size_t)ob * eab, yb, yb, err);
        if (rc != PP_OK) return rc;
    }
    return PP_OK;
}

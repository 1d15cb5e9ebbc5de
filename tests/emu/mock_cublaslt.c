/* mock_cublaslt.c: the cuBLASLt calls engine/cuda/gemm_lt.c makes, computed on the
 * host from the descriptors' attributes exactly as cuBLASLt defines them
 * (column-major, ops, strided batch, beta·C, bias and RELU/GELU epilogues), so
 * the row-major trick, the batch strides and the C/bias modes are checked without
 * a GPU. Also checks each pointer against the alignment the heuristic was told.
 * Types as cuBLASLt takes them with COMPUTE_32F: A and B f32, f16 or bf16, C and
 * D f32 or A's type (the bias, like D). The heuristic offers up to three
 * algorithms needing 0, 1 KiB and 4 KiB of workspace (within the preference).
 * MOCK_LT_NO_EPILOGUE=1 offers no algorithm with a fused epilogue,
 * MOCK_LT_NO_ALGO=1 none at all. */
#include <cublasLt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mdesc {
    int32_t ta, tb;
    uint32_t epi;
    const void *bias;
} mdesc;
typedef struct mlayout {
    cudaDataType type;
    uint64_t rows, cols;
    int64_t ld;
    int32_t batch;
    int64_t stride;
} mlayout;
typedef struct mpref {
    uint32_t align[4];
    uint64_t ws;
} mpref;

const char *cublasLtGetStatusName(cublasStatus_t s) { return s ? "MOCK_ERROR" : "CUBLAS_STATUS_SUCCESS"; }
const char *cublasLtGetStatusString(cublasStatus_t s) { return s ? "mock error" : "success"; }
size_t cublasLtGetVersion(void) { return 130100; }

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *d, cublasComputeType_t ct, cudaDataType_t st) {
    if (ct != CUBLAS_COMPUTE_32F && ct != CUBLAS_COMPUTE_32F_FAST_TF32) return CUBLAS_STATUS_INVALID_VALUE;
    /* (the 16-bit inputs need COMPUTE_32F, checked at matmul time through the layouts) */
    if (st != CUDA_R_32F) return CUBLAS_STATUS_INVALID_VALUE;
    *d = (cublasLtMatmulDesc_t)calloc(1, sizeof(mdesc));
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d) {
    free(d);
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t a, const void *buf,
                                              size_t n) {
    mdesc *m = (mdesc *)d;
    switch (a) {
    case CUBLASLT_MATMUL_DESC_TRANSA:
        if (n != 4) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&m->ta, buf, 4);
        break;
    case CUBLASLT_MATMUL_DESC_TRANSB:
        if (n != 4) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&m->tb, buf, 4);
        break;
    case CUBLASLT_MATMUL_DESC_EPILOGUE:
        if (n != 4) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&m->epi, buf, 4);
        break;
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER:
        if (n != sizeof(void *)) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&m->bias, buf, n);
        break;
    default: return CUBLAS_STATUS_INVALID_VALUE;
    }
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *l, cudaDataType t, uint64_t rows, uint64_t cols,
                                          int64_t ld) {
    if ((t != CUDA_R_32F && t != CUDA_R_16F && t != CUDA_R_16BF) || ld < (int64_t)(rows ? rows : 1))
        return CUBLAS_STATUS_INVALID_VALUE;
    mlayout *m = calloc(1, sizeof *m);
    m->type = t, m->rows = rows, m->cols = cols, m->ld = ld, m->batch = 1;
    *l = (cublasLtMatrixLayout_t)m;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutDestroy(const cublasLtMatrixLayout_t l) {
    free(l);
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t l, cublasLtMatrixLayoutAttribute_t a,
                                                const void *buf, size_t n) {
    mlayout *m = (mlayout *)l;
    if (a == CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT && n == 4) memcpy(&m->batch, buf, 4);
    else if (a == CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET && n == 8) memcpy(&m->stride, buf, 8);
    else return CUBLAS_STATUS_INVALID_VALUE;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *p) {
    mpref *m = calloc(1, sizeof *m);
    for (int i = 0; i < 4; i++) m->align[i] = 256;
    *p = (cublasLtMatmulPreference_t)m;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p) {
    free(p);
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t p,
                                                    cublasLtMatmulPreferenceAttributes_t a, const void *buf, size_t n) {
    mpref *m = (mpref *)p;
    switch (a) {
    case CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES:
        if (n != 8) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&m->ws, buf, 8);
        break;
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES:
        if (n != 4) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&m->align[a - CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES], buf, 4);
        break;
    default: return CUBLAS_STATUS_INVALID_VALUE;
    }
    return CUBLAS_STATUS_SUCCESS;
}
static int env_on(const char *n) {
    const char *v = getenv(n);
    return v && *v == '1';
}

/* the algorithm carries the alignment it was chosen for and its workspace */
cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t h, cublasLtMatmulDesc_t d, cublasLtMatrixLayout_t a,
                                              cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c,
                                              cublasLtMatrixLayout_t dd, cublasLtMatmulPreference_t p, int req,
                                              cublasLtMatmulHeuristicResult_t res[], int *ret) {
    mpref *m = (mpref *)p;
    const mlayout *la = (const mlayout *)a, *lc = (const mlayout *)c;
    memset(res, 0, sizeof res[0] * (size_t)req);
    *ret = 0;
    /* MOCK_LT_NO_EPILOGUE=1: no algorithm fuses an epilogue, as for some type
     * combinations on real GPUs (gemm_lt.c must fall back to plain products) */
    if (env_on("MOCK_LT_NO_ALGO") ||
        (env_on("MOCK_LT_NO_EPILOGUE") && ((const mdesc *)d)->epi != CUBLASLT_EPILOGUE_DEFAULT))
        return CUBLAS_STATUS_NOT_SUPPORTED;
    if (lc->type != CUDA_R_32F && lc->type != la->type) return CUBLAS_STATUS_NOT_SUPPORTED;
    uint32_t al = m->align[0];
    for (int i = 1; i < 4; i++)
        if (m->align[i] < al) al = m->align[i];
    /* at least the elements' own alignment */
    if (al < (la->type == CUDA_R_32F || lc->type == CUDA_R_32F ? 4u : 2u)) return CUBLAS_STATUS_NOT_SUPPORTED;
    static const uint64_t ws[3] = {0, 1024, 4096};
    for (int i = 0; i < 3 && *ret < req; i++) {
        if (ws[i] > m->ws) continue;
        cublasLtMatmulHeuristicResult_t *r = &res[(*ret)++];
        memcpy(r->algo.data, &al, 4);
        r->algo.data[1] = ws[i];
        r->state = CUBLAS_STATUS_SUCCESS;
        r->workspaceSize = ws[i];
    }
    return *ret ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_SUPPORTED;
}

/* IEEE half and bfloat16 bits to float, on the host. */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023, bits;
    if (e == 0) {
        float v = ldexpf((float)m, -24);
        return sign ? -v : v;
    }
    if (e == 31) bits = sign | 0x7F800000u | (m << 13);
    else bits = sign | ((e + 112) << 23) | (m << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}
static float bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static float ld(cudaDataType t, const void *p, int64_t i) {
    switch (t) {
    case CUDA_R_16F: return half_to_float(((const uint16_t *)p)[i]);
    case CUDA_R_16BF: return bf16_to_float(((const uint16_t *)p)[i]);
    default: return ((const float *)p)[i];
    }
}

/* float to f16 / bf16 bits, round to nearest even */
static void st(cudaDataType t, void *p, int64_t i, float v) {
    if (t == CUDA_R_32F) {
        ((float *)p)[i] = v;
        return;
    }
    uint32_t b;
    memcpy(&b, &v, 4);
    uint16_t out;
    if (t == CUDA_R_16BF) {
        out = (uint16_t)((b + 0x7FFFu + ((b >> 16) & 1)) >> 16);
    } else {
        uint32_t sign = (b >> 16) & 0x8000u;
        float a = fabsf(v);
        if (a >= 65520.f) out = (uint16_t)(sign | 0x7C00u);
        else if (a < ldexpf(1.f, -14)) out = (uint16_t)(sign | (uint16_t)lrintf(a * ldexpf(1.f, 24)));
        else {
            uint32_t ab = b & 0x7FFFFFFFu;
            uint32_t r = ab + 0xFFFu + ((ab >> 13) & 1);
            out = (uint16_t)(sign | (((r >> 23) - 112) << 10) | ((r >> 13) & 1023));
        }
    }
    ((uint16_t *)p)[i] = out;
}

static float el(const mlayout *l, const void *p, int trans, int64_t b, uint64_t r, uint64_t c) {
    /* element (r, c) of op(X) for batch b */
    return ld(l->type, p, b * l->stride + (int64_t)(trans ? r * l->ld + c : c * l->ld + r));
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t h, cublasLtMatmulDesc_t desc, const void *alpha, const void *A,
                              cublasLtMatrixLayout_t Adesc, const void *B, cublasLtMatrixLayout_t Bdesc,
                              const void *beta, const void *C, cublasLtMatrixLayout_t Cdesc, void *D,
                              cublasLtMatrixLayout_t Ddesc, const cublasLtMatmulAlgo_t *algo, void *ws, size_t wsz,
                              cudaStream_t s) {
    const mdesc *m = (const mdesc *)desc;
    const mlayout *la = (const mlayout *)Adesc, *lb = (const mlayout *)Bdesc, *lc = (const mlayout *)Cdesc,
                  *ld_ = (const mlayout *)Ddesc;
    uint32_t al;
    memcpy(&al, algo->data, 4);
    if (wsz < algo->data[1] || (algo->data[1] && !ws)) {
        fprintf(stderr, "MOCK cuBLASLt: the algorithm needs %llu bytes of workspace, %zu given\n",
                (unsigned long long)algo->data[1], wsz);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (algo->data[1]) memset(ws, 0x5A, algo->data[1]); /* it is ours to scribble on */
    const void *ptrs[4] = {A, B, C, D};
    for (int i = 0; i < 4; i++)
        if ((uintptr_t)ptrs[i] % al) {
            fprintf(stderr, "MOCK cuBLASLt: pointer %d (%p) not %u-aligned as the heuristic was told\n", i, ptrs[i],
                    al);
            return CUBLAS_STATUS_NOT_SUPPORTED;
        }
    uint64_t M = m->ta ? la->cols : la->rows, K = m->ta ? la->rows : la->cols;
    uint64_t KB = m->tb ? lb->cols : lb->rows, N = m->tb ? lb->rows : lb->cols;
    if (K != KB || ld_->rows != M || ld_->cols != N || lc->rows != M || lc->cols != N) {
        fprintf(stderr, "MOCK cuBLASLt: shapes do not agree: op(A) %llux%llu op(B) %llux%llu D %llux%llu\n",
                (unsigned long long)M, (unsigned long long)K, (unsigned long long)KB, (unsigned long long)N,
                (unsigned long long)ld_->rows, (unsigned long long)ld_->cols);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (la->batch != ld_->batch || lb->batch != ld_->batch || lc->batch != ld_->batch)
        return CUBLAS_STATUS_INVALID_VALUE;
    if (la->type != lb->type || lc->type != ld_->type || (ld_->type != CUDA_R_32F && ld_->type != la->type)) {
        fprintf(stderr, "MOCK cuBLASLt: A and B must share a type, C and D be 32F or that type\n");
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    float a = *(const float *)alpha, bt = *(const float *)beta;
    int bias = m->epi == CUBLASLT_EPILOGUE_BIAS || m->epi == CUBLASLT_EPILOGUE_RELU_BIAS ||
               m->epi == CUBLASLT_EPILOGUE_GELU_BIAS;
    if (bias && !m->bias) return CUBLAS_STATUS_INVALID_VALUE;
    for (int64_t b = 0; b < ld_->batch; b++)
        for (uint64_t c = 0; c < N; c++)
            for (uint64_t r = 0; r < M; r++) {
                double acc = 0;
                for (uint64_t k = 0; k < K; k++)
                    acc += (double)el(la, A, m->ta, b, r, k) * (double)el(lb, B, m->tb, b, k, c);
                float v = a * (float)acc;
                if (bt != 0.f) v += bt * ld(lc->type, C, b * lc->stride + (int64_t)(c * lc->ld + r));
                if (bias) v += ld(ld_->type, m->bias, (int64_t)r);
                if (m->epi == CUBLASLT_EPILOGUE_RELU || m->epi == CUBLASLT_EPILOGUE_RELU_BIAS) v = v > 0 ? v : 0;
                if (m->epi == CUBLASLT_EPILOGUE_GELU || m->epi == CUBLASLT_EPILOGUE_GELU_BIAS)
                    v = 0.5f * v * (1.f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
                st(ld_->type, D, b * ld_->stride + (int64_t)(c * ld_->ld + r), v);
            }
    return CUBLAS_STATUS_SUCCESS;
}

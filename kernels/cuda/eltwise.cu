/* eltwise.cu: unary, binary (NumPy broadcasting), WHERE and PRELU, mirroring
 * kernels/cpu/eltwise.c value for value: the same integer wrap rules (DIV and
 * MOD by zero give 0, TMIN / -1 wraps), MOD's fmod switch in alpha, NaN-
 * propagating float MAX / MIN, ROUND half to even.
 *
 * On the host the broadcast is simplified first, as the CPU walk does: axes of
 * extent 1 are dropped and neighbours every operand steps over contiguously are
 * merged, so a plain add is rank 1 and (N,C,H,W) + (1,C,1,1) is rank 2. One
 * thread per output element then finds its input offsets by division over the
 * (few) remaining axes. The op is a uniform switch inside the kernel.
 */
#include "../eltwise_math.h"
#include "common.cuh"

/* ---- unary ------------------------------------------------------------------ */

__device__ __forceinline__ float unary_f32(pp_op op, float x, float alpha, float beta) {
    switch (op) {
#define PP_X(op, expr)                                                                                                 \
    case PP_OP_##op: return expr;
        PP_UNARY_F32_OPS(PP_X)
#undef PP_X
    default: return x;
    }
}

/* f32, f16 or bf16 in and out, computed in f32 */
__global__ void k_unary_float(pp_op op, pp_dtype t, const void *__restrict__ x, void *__restrict__ y, int64_t n,
                              float alpha, float beta) {
    PP_FOR(i, n) pp_store_float(t, y, i, unary_f32(op, pp_load_float(t, x, i), alpha, beta));
}

/* the same, 8 elements per thread with 16-byte accesses */
__global__ void k_unary_float8(pp_op op, pp_dtype t, const void *__restrict__ x, void *__restrict__ y, int64_t n8,
                               float alpha, float beta) {
    PP_FOR(j, n8) {
        float v[8];
        pp_load8(t, x, j * 8, v);
#pragma unroll
        for (int e = 0; e < 8; e++) v[e] = unary_f32(op, v[e], alpha, beta);
        pp_store8(t, y, j * 8, v);
    }
}

template <typename T, typename U>
__global__ void k_unary_int(pp_op op, const T *__restrict__ x, T *__restrict__ y, int64_t n) {
    PP_FOR(i, n) {
        T v = x[i];
        switch (op) {
        case PP_OP_NEG: y[i] = (T)(U)(0 - (U)v); break;
        case PP_OP_ABS: y[i] = v < 0 ? (T)(U)(0 - (U)v) : v; break;
        default: y[i] = (T)((v > 0) - (v < 0)); break; /* SIGN */
        }
    }
}

__global__ void k_not(const uint8_t *__restrict__ x, uint8_t *__restrict__ y, int64_t n) {
    PP_FOR(i, n) y[i] = x[i] == 0;
}

static int unary_ok(const pp_eltwise_params *e) {
    switch (e->dtype) {
    case PP_DTYPE_F32:
    case PP_DTYPE_F16:
    case PP_DTYPE_BF16: return pp_unary_f32_has(e->op);
    case PP_DTYPE_I64:
    case PP_DTYPE_I32: return e->op == PP_OP_NEG || e->op == PP_OP_ABS || e->op == PP_OP_SIGN;
    case PP_DTYPE_BOOL: return e->op == PP_OP_NOT;
    default: return 0;
    }
}

static cudaError_t unary(const pp_eltwise_params *e, const void *x, void *y, cudaStream_t s) {
    int64_t n = e->count;
    switch (e->dtype) {
    case PP_DTYPE_F32:
    case PP_DTYPE_F16:
    case PP_DTYPE_BF16:
        if (n % 8 == 0 && pp_al16(x) && pp_al16(y))
            k_unary_float8<<<pp_blocks(n / 8), PP_THREADS, 0, s>>>(e->op, e->dtype, x, y, n / 8, e->alpha, e->beta);
        else k_unary_float<<<pp_blocks(n), PP_THREADS, 0, s>>>(e->op, e->dtype, x, y, n, e->alpha, e->beta);
        break;
    case PP_DTYPE_I64:
        k_unary_int<int64_t, uint64_t><<<pp_blocks(n), PP_THREADS, 0, s>>>(e->op, (const int64_t *)x, (int64_t *)y, n);
        break;
    case PP_DTYPE_I32:
        k_unary_int<int32_t, uint32_t><<<pp_blocks(n), PP_THREADS, 0, s>>>(e->op, (const int32_t *)x, (int32_t *)y, n);
        break;
    case PP_DTYPE_BOOL: k_not<<<pp_blocks(n), PP_THREADS, 0, s>>>((const uint8_t *)x, (uint8_t *)y, n); break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

/* ---- broadcast shape ------------------------------------------------------------ */

static void nd_init(const pp_eltwise_params *e, int n_in, pp_nd *w) {
    w->rank = 0;
    for (int d = 0; d < e->rank; d++) {
        if (e->dims[d] == 1) continue;
        int r = w->rank;
        int merge = r > 0;
        for (int i = 0; i < n_in && merge; i++) merge = w->st[i][r - 1] == e->strides[i][d] * e->dims[d];
        if (merge) {
            w->dims[r - 1] *= e->dims[d];
            for (int i = 0; i < n_in; i++) w->st[i][r - 1] = e->strides[i][d];
        } else {
            w->dims[r] = e->dims[d];
            for (int i = 0; i < n_in; i++) w->st[i][r] = e->strides[i][d];
            w->rank++;
        }
    }
    if (w->rank == 0) {
        w->rank = 1;
        w->dims[0] = 1;
        for (int i = 0; i < 3; i++) w->st[i][0] = 0;
    }
}

/* ---- binary ------------------------------------------------------------------------ */

template <typename T, typename U> __device__ __forceinline__ T div_int(T a, T b) {
    if (b == 0) return 0;
    if (b == -1) return (T)(0 - (U)a);
    return a / b;
}
template <typename T> __device__ __forceinline__ T mod_int(T a, T b, int c_fmod) {
    if (b == 0 || b == -1) return 0;
    T r = a % b;
    if (!c_fmod && r != 0 && ((r < 0) != (b < 0))) r = (T)(r + b);
    return r;
}
template <typename T, typename U> __device__ __forceinline__ T pow_int(T a, T b) {
    if (b < 0) return a == 1 ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0);
    U r = 1, base = (U)a;
    for (U k = (U)b; k; k >>= 1) {
        if (k & 1) r *= base;
        base *= base;
    }
    return (T)r;
}
/* Comparisons for every type, giving bool. */
template <typename T> __device__ __forceinline__ int compare(pp_op op, T a, T b, uint8_t *out) {
    switch (op) {
    case PP_OP_EQUAL: *out = a == b; return 1;
    case PP_OP_LESS: *out = a < b; return 1;
    case PP_OP_GREATER: *out = a > b; return 1;
    case PP_OP_LESS_EQUAL: *out = a <= b; return 1;
    case PP_OP_GREATER_EQUAL: *out = a >= b; return 1;
    default: return 0;
    }
}

__device__ __forceinline__ float bin_f32(pp_op op, float a, float b, int c_fmod) {
    switch (op) {
#define PP_X(op, expr)                                                                                                 \
    case PP_OP_##op: return expr;
        PP_BINARY_F32_OPS(PP_X)
#undef PP_X
    default: return 0.f;
    }
}

template <typename T, typename U> __device__ __forceinline__ T bin_int(pp_op op, T a, T b, int c_fmod) {
    switch (op) {
    case PP_OP_ADD: return (T)((U)a + (U)b);
    case PP_OP_SUB: return (T)((U)a - (U)b);
    case PP_OP_MUL: return (T)((U)a * (U)b);
    case PP_OP_DIV: return div_int<T, U>(a, b);
    case PP_OP_MOD: return mod_int<T>(a, b, c_fmod);
    case PP_OP_POW: return pow_int<T, U>(a, b);
    case PP_OP_MAX: return a > b ? a : b;
    case PP_OP_MIN: return a < b ? a : b;
    default: return 0;
    }
}

__device__ __forceinline__ uint8_t bin_bool(pp_op op, uint8_t a, uint8_t b) {
    int x = a != 0, y = b != 0;
    switch (op) {
    case PP_OP_AND: return (uint8_t)(x & y);
    case PP_OP_OR: return (uint8_t)(x | y);
    case PP_OP_XOR: return (uint8_t)(x ^ y);
    case PP_OP_EQUAL: return x == y;
    case PP_OP_LESS: return x < y;
    case PP_OP_GREATER: return x > y;
    case PP_OP_LESS_EQUAL: return x <= y;
    case PP_OP_GREATER_EQUAL: return x >= y;
    default: return 0;
    }
}

static int is_compare(pp_op op) {
    return op == PP_OP_EQUAL || op == PP_OP_LESS || op == PP_OP_GREATER || op == PP_OP_LESS_EQUAL ||
           op == PP_OP_GREATER_EQUAL;
}

/* f32, f16 or bf16 operands, computed in f32; comparisons give bool */
__global__ void k_bin_float(pp_op op, pp_dtype t, pp_nd s, const void *__restrict__ a, const void *__restrict__ b,
                            void *__restrict__ y, int64_t n, int c_fmod, int cmp) {
    PP_FOR(i, n) {
        float x = pp_load_float(t, a, pp_nd_offset(s, 0, i)), z = pp_load_float(t, b, pp_nd_offset(s, 1, i));
        if (cmp) {
            uint8_t r = 0;
            compare<float>(op, x, z, &r);
            ((uint8_t *)y)[i] = r;
        } else {
            pp_store_float(t, y, i, bin_f32(op, x, z, c_fmod));
        }
    }
}

/* Same shapes, or b one value per channel of an NHWC a (the residual add, the
 * squeeze-and-excitation scale), 8 outputs per thread with 16-byte accesses:
 * s is rank 1 (plain, merged) or rank 2 (rows × C with b's row stride 0). */
__global__ void k_bin_float8(pp_op op, pp_dtype t, pp_nd s, const void *__restrict__ a, const void *__restrict__ b,
                             void *__restrict__ y, int64_t n8, int c_fmod) {
    PP_FOR(j, n8) {
        const int64_t i = j * 8;
        float x[8], z[8];
        pp_load8(t, a, pp_nd_offset(s, 0, i), x);
        const int64_t ob = pp_nd_offset(s, 1, i);
        if (s.st[1][s.rank - 1] == 1) pp_load8(t, b, ob, z);
        else
            for (int e = 0; e < 8; e++) z[e] = pp_load_float(t, b, ob);
#pragma unroll
        for (int e = 0; e < 8; e++) x[e] = bin_f32(op, x[e], z[e], c_fmod);
        pp_store8(t, y, i, x);
    }
}

template <typename T>
__global__ void k_bin_cmp(pp_op op, pp_nd s, const T *__restrict__ a, const T *__restrict__ b, uint8_t *__restrict__ y,
                          int64_t n) {
    PP_FOR(i, n) {
        uint8_t r = 0;
        compare<T>(op, a[pp_nd_offset(s, 0, i)], b[pp_nd_offset(s, 1, i)], &r);
        y[i] = r;
    }
}

template <typename T, typename U>
__global__ void k_bin_int(pp_op op, pp_nd s, const T *__restrict__ a, const T *__restrict__ b, T *__restrict__ y,
                          int64_t n, int c_fmod) {
    PP_FOR(i, n) y[i] = bin_int<T, U>(op, a[pp_nd_offset(s, 0, i)], b[pp_nd_offset(s, 1, i)], c_fmod);
}

__global__ void k_bin_bool(pp_op op, pp_nd s, const uint8_t *__restrict__ a, const uint8_t *__restrict__ b,
                           uint8_t *__restrict__ y, int64_t n) {
    PP_FOR(i, n) y[i] = bin_bool(op, a[pp_nd_offset(s, 0, i)], b[pp_nd_offset(s, 1, i)]);
}

/* k_bin_float8's cases: a contiguous (a's innermost stride 1 over whole rows of
 * 8), b the same or one value per row position... in rank 1 both contiguous;
 * in rank 2 (rows, C) a contiguous and b either contiguous or broadcast along
 * rows with C % 8 == 0; every pointer 16-byte aligned. */
static int vec8_ok(const pp_nd *s, const void *a, const void *b, const void *y, int64_t n) {
    if (n % 8 || !pp_al16(a) || !pp_al16(b) || !pp_al16(y)) return 0;
    if (s->rank == 1) return s->st[0][0] == 1 && s->st[1][0] == 1;
    if (s->rank != 2 || s->dims[1] % 8) return 0;
    int a_dense = s->st[0][1] == 1 && s->st[0][0] == s->dims[1];
    int b_dense = s->st[1][1] == 1 && s->st[1][0] == s->dims[1];
    int b_chan = s->st[1][1] == 1 && s->st[1][0] == 0;
    return a_dense && (b_dense || b_chan);
}

static int binary_ok(const pp_eltwise_params *e) {
    pp_op op = e->op;
    switch (e->dtype) {
    case PP_DTYPE_F32:
    case PP_DTYPE_F16:
    case PP_DTYPE_BF16: return is_compare(op) || pp_binary_f32_has(op);
    case PP_DTYPE_I64:
    case PP_DTYPE_I32:
        return is_compare(op) || op == PP_OP_ADD || op == PP_OP_SUB || op == PP_OP_MUL || op == PP_OP_DIV ||
               op == PP_OP_POW || op == PP_OP_MAX || op == PP_OP_MIN || op == PP_OP_MOD;
    case PP_DTYPE_BOOL: return is_compare(op) || op == PP_OP_AND || op == PP_OP_OR || op == PP_OP_XOR;
    default: return 0;
    }
}

static cudaError_t binary(const pp_eltwise_params *e, const void *a, const void *b, void *y, cudaStream_t st) {
    pp_nd s;
    nd_init(e, 2, &s);
    int64_t n = e->count;
    int c_fmod = e->alpha != 0.f;
    unsigned g = pp_blocks(n);
    switch (e->dtype) {
    case PP_DTYPE_F32:
    case PP_DTYPE_F16:
    case PP_DTYPE_BF16:
        if (!is_compare(e->op) && vec8_ok(&s, a, b, y, n))
            k_bin_float8<<<pp_blocks(n / 8), PP_THREADS, 0, st>>>(e->op, e->dtype, s, a, b, y, n / 8, c_fmod);
        else k_bin_float<<<g, PP_THREADS, 0, st>>>(e->op, e->dtype, s, a, b, y, n, c_fmod, is_compare(e->op));
        break;
    case PP_DTYPE_I64:
        if (is_compare(e->op))
            k_bin_cmp<int64_t>
                <<<g, PP_THREADS, 0, st>>>(e->op, s, (const int64_t *)a, (const int64_t *)b, (uint8_t *)y, n);
        else
            k_bin_int<int64_t, uint64_t>
                <<<g, PP_THREADS, 0, st>>>(e->op, s, (const int64_t *)a, (const int64_t *)b, (int64_t *)y, n, c_fmod);
        break;
    case PP_DTYPE_I32:
        if (is_compare(e->op))
            k_bin_cmp<int32_t>
                <<<g, PP_THREADS, 0, st>>>(e->op, s, (const int32_t *)a, (const int32_t *)b, (uint8_t *)y, n);
        else
            k_bin_int<int32_t, uint32_t>
                <<<g, PP_THREADS, 0, st>>>(e->op, s, (const int32_t *)a, (const int32_t *)b, (int32_t *)y, n, c_fmod);
        break;
    case PP_DTYPE_BOOL:
        k_bin_bool<<<g, PP_THREADS, 0, st>>>(e->op, s, (const uint8_t *)a, (const uint8_t *)b, (uint8_t *)y, n);
        break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

/* ---- WHERE --------------------------------------------------------------------------- */

template <typename T>
__global__ void k_where(pp_nd s, const uint8_t *__restrict__ c, const T *__restrict__ x, const T *__restrict__ z,
                        T *__restrict__ y, int64_t n) {
    PP_FOR(i, n) y[i] = c[pp_nd_offset(s, 0, i)] ? x[pp_nd_offset(s, 1, i)] : z[pp_nd_offset(s, 2, i)];
}

template <typename T>
static cudaError_t where_t(const pp_nd *s, const void *c, const void *x, const void *z, void *y, int64_t n,
                           cudaStream_t st) {
    k_where<T><<<pp_blocks(n), PP_THREADS, 0, st>>>(*s, (const uint8_t *)c, (const T *)x, (const T *)z, (T *)y, n);
    return cudaGetLastError();
}

/* ---- entry points ----------------------------------------------------------------------- */

static int eltwise_supports_of(const pp_eltwise_params *e) {
    if (e->op == PP_OP_WHERE) return e->n_in == 3 && pp_dtype_bytes(e->dtype) != 0;
    if (e->n_in == 1) return unary_ok(e);
    if (e->n_in == 2) return binary_ok(e);
    return 0;
}

extern "C" int pp_cuda_eltwise_supports(const pp_op_params *p) { return eltwise_supports_of(&p->eltwise); }

extern "C" cudaError_t pp_cuda_eltwise(const pp_op_params *p, const void *const *in, void *const *out, void *ws,
                                       const pp_cuda_exec *x) {
    (void)ws;
    const pp_eltwise_params *e = &p->eltwise;
    if (e->count <= 0) return cudaSuccess;
    if (e->op == PP_OP_WHERE) {
        pp_nd s;
        nd_init(e, 3, &s);
        PP_ELEM_DISPATCH(pp_dtype_bytes(e->dtype), where_t, &s, in[0], in[1], in[2], out[0], e->count, x->stream)
    }
    if (e->n_in == 1) return unary(e, in[0], out[0], x->stream);
    if (e->n_in == 2) return binary(e, in[0], in[1], out[0], x->stream);
    return cudaErrorInvalidValue;
}

/* ---- follow-ups for the library ops -------------------------------------------------------- */

__global__ void k_act(void *y, pp_dtype t, int64_t n, pp_act act) {
    PP_FOR(i, n) pp_store_float(t, y, i, pp_act_apply(act, pp_load_float(t, y, i)));
}

extern "C" cudaError_t pp_cuda_act_inplace(void *y, pp_dtype t, int64_t count, pp_act act, cudaStream_t s) {
    if (count <= 0 || act.kind == PP_ACT_NONE) return cudaSuccess;
    k_act<<<pp_blocks(count), PP_THREADS, 0, s>>>(y, pp_fdt(t), count, act);
    return cudaGetLastError();
}

__global__ void k_broadcast_2d(void *__restrict__ y, const void *__restrict__ c, pp_dtype t, int64_t n, int64_t total,
                               int64_t sm, int64_t sn) {
    PP_FOR(i, total) pp_store_float(t, y, i, pp_load_float(t, c, (i / n) * sm + (i % n) * sn));
}

extern "C" cudaError_t pp_cuda_broadcast_2d(void *y, const void *c, pp_dtype t, int64_t m, int64_t n,
                                            int64_t c_stride_m, int64_t c_stride_n, cudaStream_t s) {
    int64_t total = m * n;
    if (total <= 0) return cudaSuccess;
    k_broadcast_2d<<<pp_blocks(total), PP_THREADS, 0, s>>>(y, c, pp_fdt(t), n, total, c_stride_m, c_stride_n);
    return cudaGetLastError();
}

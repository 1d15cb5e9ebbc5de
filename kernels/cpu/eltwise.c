/* eltwise.c: unary, binary (NumPy broadcasting), WHERE and PRELU.
 *
 * Unary ops read input 0 contiguously over e->count. Binary ops, PRELU and
 * WHERE walk the output (e->dims, contiguous) and read each input through
 * e->strides (0 on a broadcast axis). Before the walk, axes of extent 1 are
 * dropped and neighbouring axes that every operand walks contiguously are
 * merged, so an unbroadcast add is one flat loop and (N,C,H,W) + (1,C,1,1)
 * is a (N·C, H·W) loop with one scalar per row.
 *
 * Data never traps: integer ADD/SUB/MUL/NEG/ABS wrap (two's complement, done
 * in the unsigned type), integer DIV and MOD by zero give 0, INT_MIN / -1
 * wraps to INT_MIN and INT_MIN % -1 is 0, integer POW with a negative exponent
 * gives 0 unless the base is ±1.
 *
 * MOD: alpha carries ONNX's `fmod` attribute. alpha == 0: the result takes the
 * divisor's sign (Python %, ONNX fmod=0), for integers and floats alike;
 * alpha != 0: C fmod, the dividend's sign.
 *
 * Float MAX / MIN propagate NaN (like NumPy maximum and torch.maximum).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../eltwise_math.h"
#include "cpu_kernels.h"
#include "omp.h"

enum { PAR_MIN = 32768, BLK = 4096 };

/* ---- unary ---------------------------------------------------------------- */

#define UNARY_LOOP(T, TO, EXPR)                                                                                        \
    do {                                                                                                               \
        const T *X_ = (const T *)in[0];                                                                                \
        TO *Y_ = (TO *)out[0];                                                                                         \
        PP_OMP(omp parallel for schedule(static) if (n > PAR_MIN))                                                     \
        for (int64_t i = 0; i < n; i++) {                                                                              \
            T x = X_[i];                                                                                               \
            Y_[i] = (TO)(EXPR);                                                                                        \
        }                                                                                                              \
    } while (0)

static int unary_f32(const pp_eltwise_params *e, const void *const *in, void *const *out, int64_t n) {
    const float alpha = e->alpha, beta = e->beta;
    switch (e->op) {
#define PP_X(op, expr)                                                                                                 \
    case PP_OP_##op: UNARY_LOOP(float, float, expr); break;
        PP_UNARY_F32_OPS(PP_X)
#undef PP_X
    default: return 1;
    }
    return 0;
}

#define UNARY_INT(T, U)                                                                                                \
    switch (e->op) {                                                                                                   \
    case PP_OP_NEG: UNARY_LOOP(T, T, (T)(0 - (U)x)); break;                                                            \
    case PP_OP_ABS: UNARY_LOOP(T, T, x < 0 ? (T)(0 - (U)x) : x); break;                                                \
    case PP_OP_SIGN: UNARY_LOOP(T, T, (x > 0) - (x < 0)); break;                                                       \
    default: return 1;                                                                                                 \
    }

static int unary(const pp_eltwise_params *e, const void *const *in, void *const *out) {
    const int64_t n = e->count;
    if (n <= 0) return n < 0;
    switch (e->dtype) {
    case PP_DTYPE_F32: return unary_f32(e, in, out, n);
    case PP_DTYPE_I64: UNARY_INT(int64_t, uint64_t) return 0;
    case PP_DTYPE_I32: UNARY_INT(int32_t, uint32_t) return 0;
    case PP_DTYPE_BOOL:
        if (e->op != PP_OP_NOT) return 1;
        UNARY_LOOP(uint8_t, uint8_t, x == 0);
        return 0;
    default: return 1;
    }
}

/* ---- broadcast walk --------------------------------------------------------- */

typedef struct walk {
    int n_in, rank;
    int64_t dims[PP_MAX_RANK];
    int64_t st[3][PP_MAX_RANK];
    int64_t inner, rows, nblk, tasks;
} walk;

static void walk_init(const pp_eltwise_params *e, int n_in, walk *w) {
    w->n_in = n_in;
    w->rank = 0;
    /* keep axes of extent > 1, merging an axis into the previous kept one when
     * every operand steps over the pair as one contiguous run */
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
        for (int i = 0; i < n_in; i++) w->st[i][0] = 0;
    }
    w->inner = w->dims[w->rank - 1];
    w->rows = 1;
    for (int d = 0; d < w->rank - 1; d++) w->rows *= w->dims[d];
    w->nblk = (w->inner + BLK - 1) / BLK;
    w->tasks = w->inner > 0 ? w->rows * w->nblk : 0;
}

/* Offsets of task t's first element in every input (off[0..n_in)) and in the
 * output (off[3]); returns the task's length. */
static inline int64_t walk_task(const walk *w, int64_t t, int64_t off[4]) {
    int64_t r = t / w->nblk, c0 = (t % w->nblk) * BLK;
    int64_t len = w->inner - c0 < BLK ? w->inner - c0 : BLK;
    off[0] = off[1] = off[2] = 0;
    off[3] = r * w->inner + c0;
    for (int d = w->rank - 2; d >= 0; d--) {
        int64_t idx = r % w->dims[d];
        r /= w->dims[d];
        for (int i = 0; i < w->n_in; i++) off[i] += idx * w->st[i][d];
    }
    for (int i = 0; i < w->n_in; i++) off[i] += c0 * w->st[i][w->rank - 1];
    return len;
}

/* y = EXPR(a, b) over the walk; the common stride patterns get their own loops
 * so the compiler can vectorise them. */
#define BIN_LOOP(TA, TO, EXPR)                                                                                         \
    do {                                                                                                               \
        const TA *A_ = (const TA *)in[0], *B_ = (const TA *)in[1];                                                     \
        TO *Y_ = (TO *)out[0];                                                                                         \
        const int64_t sa = w.st[0][w.rank - 1], sb = w.st[1][w.rank - 1];                                              \
        PP_OMP(omp parallel for schedule(static) if (e->count > PAR_MIN))                                              \
        for (int64_t t = 0; t < w.tasks; t++) {                                                                        \
            int64_t o_[4];                                                                                             \
            const int64_t len = walk_task(&w, t, o_);                                                                  \
            const TA *pa = A_ + o_[0], *pb = B_ + o_[1];                                                               \
            TO *py = Y_ + o_[3];                                                                                       \
            if (sa == 1 && sb == 1) {                                                                                  \
                for (int64_t j = 0; j < len; j++) {                                                                    \
                    TA a = pa[j], b = pb[j];                                                                           \
                    py[j] = (TO)(EXPR);                                                                                \
                }                                                                                                      \
            } else if (sa == 1 && sb == 0) {                                                                           \
                const TA b = pb[0];                                                                                    \
                for (int64_t j = 0; j < len; j++) {                                                                    \
                    TA a = pa[j];                                                                                      \
                    py[j] = (TO)(EXPR);                                                                                \
                }                                                                                                      \
            } else if (sa == 0 && sb == 1) {                                                                           \
                const TA a = pa[0];                                                                                    \
                for (int64_t j = 0; j < len; j++) {                                                                    \
                    TA b = pb[j];                                                                                      \
                    py[j] = (TO)(EXPR);                                                                                \
                }                                                                                                      \
            } else {                                                                                                   \
                for (int64_t j = 0; j < len; j++) {                                                                    \
                    TA a = pa[j * sa], b = pb[j * sb];                                                                 \
                    py[j] = (TO)(EXPR);                                                                                \
                }                                                                                                      \
            }                                                                                                          \
        }                                                                                                              \
    } while (0)

/* ---- integer helpers: defined for every input ---------------------------------- */

#define INT_HELPERS(T, U, SUF)                                                                                         \
    static inline T div_##SUF(T a, T b) {                                                                              \
        if (b == 0) return 0;                                                                                          \
        if (b == -1) return (T)(0 - (U)a); /* TMIN / -1 overflows: wrap */                                             \
        return a / b;                                                                                                  \
    }                                                                                                                  \
    static inline T mod_##SUF(T a, T b, int c_fmod) {                                                                  \
        if (b == 0 || b == -1) return 0;                                                                               \
        T r = a % b;                                                                                                   \
        if (!c_fmod && r != 0 && ((r < 0) != (b < 0))) r = (T)(r + b);                                                 \
        return r;                                                                                                      \
    }                                                                                                                  \
    static inline T pow_##SUF(T a, T b) {                                                                              \
        if (b < 0) return a == 1 ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0);                                             \
        U r = 1, base = (U)a;                                                                                          \
        for (U k = (U)b; k; k >>= 1) {                                                                                 \
            if (k & 1) r *= base;                                                                                      \
            base *= base;                                                                                              \
        }                                                                                                              \
        return (T)r;                                                                                                   \
    }

INT_HELPERS(int64_t, uint64_t, i64)
INT_HELPERS(int32_t, uint32_t, i32)

#define COMPARE(TA, NORM)                                                                                              \
    case PP_OP_EQUAL: BIN_LOOP(TA, uint8_t, NORM(a) == NORM(b)); return 0;                                             \
    case PP_OP_LESS: BIN_LOOP(TA, uint8_t, NORM(a) < NORM(b)); return 0;                                               \
    case PP_OP_GREATER: BIN_LOOP(TA, uint8_t, NORM(a) > NORM(b)); return 0;                                            \
    case PP_OP_LESS_EQUAL: BIN_LOOP(TA, uint8_t, NORM(a) <= NORM(b)); return 0;                                        \
    case PP_OP_GREATER_EQUAL:                                                                                          \
        BIN_LOOP(TA, uint8_t, NORM(a) >= NORM(b));                                                                     \
        return 0;

#define AS_IS(v) (v)
#define AS_BOOL(v) ((v) != 0)

#define BINARY_INT(T, U, SUF)                                                                                          \
    switch (e->op) {                                                                                                   \
    case PP_OP_ADD: BIN_LOOP(T, T, (U)a + (U)b); return 0;                                                             \
    case PP_OP_SUB: BIN_LOOP(T, T, (U)a - (U)b); return 0;                                                             \
    case PP_OP_MUL: BIN_LOOP(T, T, (U)a *(U)b); return 0;                                                              \
    case PP_OP_DIV: BIN_LOOP(T, T, div_##SUF(a, b)); return 0;                                                         \
    case PP_OP_MOD: BIN_LOOP(T, T, mod_##SUF(a, b, c_fmod)); return 0;                                                 \
    case PP_OP_POW: BIN_LOOP(T, T, pow_##SUF(a, b)); return 0;                                                         \
    case PP_OP_MAX: BIN_LOOP(T, T, a > b ? a : b); return 0;                                                           \
    case PP_OP_MIN:                                                                                                    \
        BIN_LOOP(T, T, a < b ? a : b);                                                                                 \
        return 0;                                                                                                      \
        COMPARE(T, AS_IS)                                                                                              \
    default: return 1;                                                                                                 \
    }

static int binary(const pp_eltwise_params *e, const void *const *in, void *const *out) {
    walk w;
    walk_init(e, 2, &w);
    const int c_fmod = e->alpha != 0.f;
    switch (e->dtype) {
    case PP_DTYPE_F32:
        switch (e->op) {
#define PP_X(op, expr)                                                                                                 \
    case PP_OP_##op: BIN_LOOP(float, float, expr); return 0;
            PP_BINARY_F32_OPS(PP_X)
#undef PP_X
            COMPARE(float, AS_IS)
        default: return 1;
        }
    case PP_DTYPE_I64: BINARY_INT(int64_t, uint64_t, i64)
    case PP_DTYPE_I32: BINARY_INT(int32_t, uint32_t, i32)
    case PP_DTYPE_BOOL:
        switch (e->op) {
        case PP_OP_AND: BIN_LOOP(uint8_t, uint8_t, (a != 0) & (b != 0)); return 0;
        case PP_OP_OR: BIN_LOOP(uint8_t, uint8_t, (a != 0) | (b != 0)); return 0;
        case PP_OP_XOR:
            BIN_LOOP(uint8_t, uint8_t, (a != 0) ^ (b != 0));
            return 0;
            COMPARE(uint8_t, AS_BOOL)
        default: return 1;
        }
    default: return 1;
    }
}

/* ---- WHERE: y = cond ? x : y, any element size -------------------------------- */

#define WHERE_LOOP(T)                                                                                                  \
    do {                                                                                                               \
        const uint8_t *C_ = (const uint8_t *)in[0];                                                                    \
        const T *X_ = (const T *)in[1], *Z_ = (const T *)in[2];                                                        \
        T *Y_ = (T *)out[0];                                                                                           \
        const int64_t sc = w.st[0][w.rank - 1], sx = w.st[1][w.rank - 1], sz = w.st[2][w.rank - 1];                    \
        PP_OMP(omp parallel for schedule(static) if (e->count > PAR_MIN))                                              \
        for (int64_t t = 0; t < w.tasks; t++) {                                                                        \
            int64_t o_[4];                                                                                             \
            const int64_t len = walk_task(&w, t, o_);                                                                  \
            const uint8_t *pc = C_ + o_[0];                                                                            \
            const T *px = X_ + o_[1], *pz = Z_ + o_[2];                                                                \
            T *py = Y_ + o_[3];                                                                                        \
            for (int64_t j = 0; j < len; j++) py[j] = pc[j * sc] ? px[j * sx] : pz[j * sz];                            \
        }                                                                                                              \
    } while (0)

static int where(const pp_eltwise_params *e, const void *const *in, void *const *out) {
    walk w;
    walk_init(e, 3, &w);
    switch (e->dtype) {
    case PP_DTYPE_F64:
    case PP_DTYPE_I64: WHERE_LOOP(uint64_t); return 0;
    case PP_DTYPE_F32:
    case PP_DTYPE_I32: WHERE_LOOP(uint32_t); return 0;
    case PP_DTYPE_F16:
    case PP_DTYPE_BF16: WHERE_LOOP(uint16_t); return 0;
    case PP_DTYPE_BOOL:
    case PP_DTYPE_U8:
    case PP_DTYPE_I8: WHERE_LOOP(uint8_t); return 0;
    default: return 1;
    }
}

int pp_cpu_eltwise(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_eltwise_params *e = &p->eltwise;
    if (e->count == 0) return 0;
    if (e->op == PP_OP_WHERE) return e->n_in == 3 ? where(e, in, out) : 1;
    if (e->n_in == 1) return unary(e, in, out);
    if (e->n_in == 2) return binary(e, in, out);
    return 1;
}

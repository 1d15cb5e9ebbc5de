/* pad.c: PAD in constant, reflect and edge modes. y's coordinate i on an axis
 * reads x's coordinate i - pads_begin; outside [0, in_dim) constant mode writes
 * the value, reflect mirrors without repeating the edge (NumPy "reflect",
 * periodic when a pad is wider than the axis), edge repeats the border.
 * Negative pads crop: those coordinates never leave x. */
#include <math.h>
#include <string.h>

#include "cpu_kernels.h"
#include "omp.h"

enum { PAD_CONSTANT = 0, PAD_REFLECT = 1, PAD_EDGE = 2 };

/* x's coordinate for y's i - pad (= i here), or -1 for a constant cell. */
static inline int64_t src_coord(int64_t i, int64_t n, int mode) {
    if (i >= 0 && i < n) return i;
    if (mode == PAD_CONSTANT) return -1;
    if (mode == PAD_EDGE || n == 1) return i < 0 ? 0 : n - 1;
    int64_t period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

static int64_t to_int(double v, double lo, double hi) {
    if (v != v) return 0;
    if (v <= lo) return (int64_t)lo;
    if (v >= hi) return (int64_t)hi;
    return (int64_t)v;
}

/* The pad value as one element of dtype (saturating, NaN → 0 for integers). */
static int encode_value(pp_dtype t, double v, unsigned char *buf, size_t elem) {
    memset(buf, 0, 8);
    switch (t) {
    case PP_DTYPE_F32: {
        float f = (float)v;
        memcpy(buf, &f, 4);
    } break;
    case PP_DTYPE_F64: memcpy(buf, &v, 8); break;
    case PP_DTYPE_F16: {
        uint16_t h = pp_f32_to_f16((float)v);
        memcpy(buf, &h, 2);
    } break;
    case PP_DTYPE_BF16: {
        uint16_t h = pp_f32_to_bf16((float)v);
        memcpy(buf, &h, 2);
    } break;
    case PP_DTYPE_I64: {
        int64_t i = v != v                        ? 0
                    : v <= -9223372036854775808.0 ? INT64_MIN
                    : v >= 9223372036854775808.0  ? INT64_MAX
                                                  : (int64_t)v;
        memcpy(buf, &i, 8);
    } break;
    case PP_DTYPE_I32: {
        int32_t i = (int32_t)to_int(v, INT32_MIN, INT32_MAX);
        memcpy(buf, &i, 4);
    } break;
    case PP_DTYPE_I8: {
        int8_t i = (int8_t)to_int(v, INT8_MIN, INT8_MAX);
        memcpy(buf, &i, 1);
    } break;
    case PP_DTYPE_U8: buf[0] = (uint8_t)to_int(v, 0, UINT8_MAX); break;
    case PP_DTYPE_BOOL: buf[0] = v != 0; break;
    default: return elem <= 8 ? 0 : 1; /* unknown dtype: zero bytes */
    }
    return 0;
}

int pp_cpu_pad(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_pad_params *pp = &p->pad;
    const int r = pp->rank;
    const size_t elem = pp->elem;
    if (r < 0 || r > PP_MAX_RANK || elem == 0 || elem > 8 || pp->mode < 0 || pp->mode > 2) return 1;
    int64_t numel = 1, xnumel = 1, xs[PP_MAX_RANK], s = 1;
    for (int d = r - 1; d >= 0; d--) {
        if (pp->out_dims[d] < 0 || pp->in_dims[d] < 0) return 1;
        xs[d] = s;
        s *= pp->in_dims[d];
        numel *= pp->out_dims[d];
        xnumel *= pp->in_dims[d];
    }
    if (numel == 0) return 0;
    if (xnumel == 0 && pp->mode != PAD_CONSTANT) return 1; /* nothing to reflect or repeat */
    unsigned char value[8];
    if (encode_value(pp->dtype, pp->value, value, elem)) return 1;
    const unsigned char *x = in[0];
    unsigned char *y = out[0];
    if (r == 0) {
        memcpy(y, x, elem);
        return 0;
    }
    const int64_t ol = pp->out_dims[r - 1], il = pp->in_dims[r - 1], pb = pp->pads_begin[r - 1];
    const int64_t rows = numel / ol;
    /* the span of y's row that maps straight onto x's row */
    const int64_t j0 = pb > 0 ? pb : 0, j1 = il + pb < ol ? il + pb : ol;
    PP_OMP(omp parallel for schedule(static) if (numel > 32768))
    for (int64_t row = 0; row < rows; row++) {
        unsigned char *dst = y + (size_t)(row * ol) * elem;
        int64_t rem = row, xo = 0;
        int outside = 0;
        for (int d = r - 2; d >= 0; d--) {
            int64_t c = src_coord(rem % pp->out_dims[d] - pp->pads_begin[d], pp->in_dims[d], pp->mode);
            rem /= pp->out_dims[d];
            if (c < 0) outside = 1;
            else xo += c * xs[d];
        }
        if (outside) {
            for (int64_t j = 0; j < ol; j++) memcpy(dst + (size_t)j * elem, value, elem);
            continue;
        }
        const unsigned char *src = x + (size_t)xo * elem;
        if (j1 > j0) memcpy(dst + (size_t)j0 * elem, src + (size_t)(j0 - pb) * elem, (size_t)(j1 - j0) * elem);
        for (int64_t j = 0; j < ol; j++) {
            if (j == j0 && j1 > j0) j = j1;
            if (j >= ol) break;
            int64_t c = src_coord(j - pb, il, pp->mode);
            memcpy(dst + (size_t)j * elem, c < 0 ? value : src + (size_t)c * elem, elem);
        }
    }
    return 0;
}

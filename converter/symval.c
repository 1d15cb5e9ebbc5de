/* symval.c: shape values at conversion (symval.h). */
#include "symval.h"
#include "../loader/checked.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int pp_symval_is_const(const pp_symval *v) {
    for (int i = 0; i < v->n; i++)
        if (v->e[i].slot >= 0) return 0;
    return 1;
}

pp_code pp_symval_from_data(pp_dtype dtype, int rank, const int64_t *dims, const void *data, pp_symval *out,
                            const char *what, pp_error *err) {
    memset(out, 0, sizeof *out);
    if (rank > 1)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: a shape value of rank %d (only scalars and vectors)", what,
                            rank);
    int64_t n = rank ? dims[0] : 1;
    if (n < 0 || n > PP_SYM_MAX)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: a shape value of %" PRId64 " elements (at most %d)", what, n,
                            PP_SYM_MAX);
    out->dtype = dtype;
    out->rank = rank;
    out->n = (int)n;
    const unsigned char *p = data;
    for (int i = 0; i < out->n; i++) {
        int64_t v;
        switch (dtype) {
        case PP_DTYPE_I64: memcpy(&v, p + 8 * i, 8); break;
        case PP_DTYPE_I32: {
            int32_t x;
            memcpy(&x, p + 4 * i, 4);
            v = x;
            break;
        }
        case PP_DTYPE_I8: v = (int8_t)p[i]; break;
        case PP_DTYPE_U8:
        case PP_DTYPE_BOOL: v = p[i]; break;
        case PP_DTYPE_F32:
        case PP_DTYPE_F64: {
            double d;
            if (dtype == PP_DTYPE_F32) {
                float f;
                memcpy(&f, p + 4 * i, 4);
                d = f;
            } else {
                memcpy(&d, p + 8 * i, 8);
            }
            if (!(d >= -9.2e18 && d <= 9.2e18) || d != (double)(int64_t)d)
                return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: element %d (%g) is not an integer", what, i, d);
            v = (int64_t)d;
            break;
        }
        default:
            return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: a shape value of dtype %s", what, pp_dtype_name(dtype));
        }
        out->e[i] = pp_sx_const(v);
    }
    return PP_OK;
}

pp_code pp_symval_to_data(const pp_symval *v, void **data, uint64_t *nbytes, pp_error *err) {
    *data = NULL;
    *nbytes = 0;
    if (!pp_symval_is_const(v))
        return pp_error_set(err, PP_ERR_INTERNAL, "a symbolic shape value cannot become constant data");
    size_t es = pp_dtype_size(v->dtype);
    if (!es) return pp_error_set(err, PP_ERR_INTERNAL, "shape value of invalid dtype");
    unsigned char *p = pp_malloc(es * (size_t)(v->n ? v->n : 1));
    if (!p) return pp_error_nomem(err, "out of memory for a %d-element constant", v->n);
    for (int i = 0; i < v->n; i++) {
        int64_t x = v->e[i].v;
        switch (v->dtype) {
        case PP_DTYPE_I64: memcpy(p + 8 * i, &x, 8); break;
        case PP_DTYPE_I32: {
            int32_t y = (int32_t)x;
            memcpy(p + 4 * i, &y, 4);
            break;
        }
        case PP_DTYPE_F32: {
            float f = (float)x;
            memcpy(p + 4 * i, &f, 4);
            break;
        }
        case PP_DTYPE_F64: {
            double d = (double)x;
            memcpy(p + 8 * i, &d, 8);
            break;
        }
        case PP_DTYPE_BOOL: p[i] = x != 0; break;
        case PP_DTYPE_I8:
        case PP_DTYPE_U8: p[i] = (unsigned char)x; break;
        default:
            pp_free(p);
            return pp_error_set(err, PP_ERR_INTERNAL, "shape value of dtype %s", pp_dtype_name(v->dtype));
        }
    }
    *data = p;
    *nbytes = es * (size_t)v->n;
    return PP_OK;
}

pp_code pp_symval_from_dims(pp_symtab *t, int rank, const int64_t *dims, pp_symval *out, pp_error *err) {
    memset(out, 0, sizeof *out);
    out->dtype = PP_DTYPE_I64;
    out->rank = 1;
    if (rank > PP_SYM_MAX) return pp_error_set(err, PP_ERR_UNSUPPORTED, "the shape of a rank-%d tensor", rank);
    out->n = rank;
    for (int i = 0; i < rank; i++) {
        pp_code rc = pp_symtab_dim(t, dims[i], &out->e[i], err);
        if (rc) return rc;
    }
    return PP_OK;
}

/* Broadcast of two rank <= 1 symvals: the result's shape and each side's step. */
static pp_code bcast2(const pp_symval *a, const pp_symval *b, pp_symval *out, int *sa, int *sb, const char *what,
                      pp_error *err) {
    memset(out, 0, sizeof *out);
    out->rank = a->rank > b->rank ? a->rank : b->rank;
    out->n = out->rank ? (a->n > b->n ? a->n : b->n) : 1;
    out->dtype = a->dtype;
    *sa = a->n == 1 ? 0 : 1;
    *sb = b->n == 1 ? 0 : 1;
    if (a->n != b->n && a->n != 1 && b->n != 1)
        return pp_error_set(err, PP_ERR_SHAPE, "%s: shape values of %d and %d elements do not broadcast", what, a->n,
                            b->n);
    return PP_OK;
}

static int is_int_dtype(pp_dtype dt) {
    return dt == PP_DTYPE_I64 || dt == PP_DTYPE_I32 || dt == PP_DTYPE_I8 || dt == PP_DTYPE_U8;
}

static pp_code emit(pp_symtab *t, pp_shape_op op, pp_sx a, pp_sx b, pp_sx c, pp_sx *out, const char *what,
                    pp_error *err) {
    pp_code rc = pp_symtab_emit(t, op, a, b, c, out, err);
    if (rc && err) pp_error_prefix(err, "%s", what);
    return rc;
}

pp_code pp_symval_binary(pp_symtab *t, pp_symval_op op, const pp_symval *a, const pp_symval *b, pp_symval *out,
                         const char *what, pp_error *err) {
    pp_symval r;
    int sa, sb;
    pp_code rc = bcast2(a, b, &r, &sa, &sb, what, err);
    for (int i = 0; !rc && i < r.n; i++) {
        pp_sx x = a->e[i * sa], y = b->e[i * sb];
        static const pp_shape_op ops[] = {PP_SHAPE_ADD, PP_SHAPE_SUB, PP_SHAPE_MUL, PP_SHAPE_DIV, PP_SHAPE_MOD};
        if ((op == PP_SV_DIV || op == PP_SV_MOD) && !is_int_dtype(a->dtype)) {
            /* Float division of integers: an integer only when exact. */
            if (x.slot >= 0 || y.slot >= 0)
                return pp_error_set(err, PP_ERR_UNSUPPORTED,
                                    "%s: a floating-point %s of shape values that depend on the symbols", what,
                                    op == PP_SV_DIV ? "division" : "remainder");
            if (y.v == 0) return pp_error_set(err, PP_ERR_SHAPE, "%s: shape arithmetic divides by zero", what);
            if (op == PP_SV_MOD || (x.v % y.v) != 0 || (x.v == INT64_MIN && y.v == -1))
                return pp_error_set(err, PP_ERR_UNSUPPORTED,
                                    "%s: %" PRId64 " %s %" PRId64 " is not an integer in a shape computation", what,
                                    x.v, op == PP_SV_DIV ? "/" : "mod", y.v);
        }
        rc = emit(t, ops[op], x, y, pp_sx_const(0), &r.e[i], what, err);
    }
    if (!rc) *out = r;
    return rc;
}

pp_code pp_symval_neg(pp_symtab *t, const pp_symval *a, pp_symval *out, const char *what, pp_error *err) {
    pp_symval r = *a;
    for (int i = 0; i < r.n; i++) {
        pp_code rc = emit(t, PP_SHAPE_SUB, pp_sx_const(0), a->e[i], pp_sx_const(0), &r.e[i], what, err);
        if (rc) return rc;
    }
    *out = r;
    return PP_OK;
}

/* a op b as 1/0, decided from the bounds where they settle it. */
static pp_code decide(pp_symtab *t, pp_shape_op op, pp_sx a, pp_sx b, pp_sx *out, const char *what, pp_error *err) {
    pp_sx d;
    pp_code rc = emit(t, op, a, b, pp_sx_const(0), &d, what, err);
    if (rc || d.slot < 0) return *out = d, rc;
    int64_t lo, hi;
    pp_symtab_range(t, d, &lo, &hi);
    if (lo == hi) *out = pp_sx_const(lo); /* the instruction stays, unused */
    else *out = d;
    return PP_OK;
}

pp_code pp_symval_compare(pp_symtab *t, int cmp, int or_equal, const pp_symval *a, const pp_symval *b, pp_symval *out,
                          const char *what, pp_error *err) {
    pp_symval r;
    int sa, sb;
    pp_code rc = bcast2(a, b, &r, &sa, &sb, what, err);
    r.dtype = PP_DTYPE_BOOL;
    for (int i = 0; !rc && i < r.n; i++) {
        pp_sx x = a->e[i * sa], y = b->e[i * sb];
        if (cmp > 0) { /* a > b is b < a */
            pp_sx s = x;
            x = y;
            y = s;
        }
        pp_shape_op op = cmp == 0 ? PP_SHAPE_EQ : or_equal ? PP_SHAPE_LE : PP_SHAPE_LT;
        rc = decide(t, op, x, y, &r.e[i], what, err);
    }
    if (!rc) *out = r;
    return rc;
}

pp_code pp_symval_not(pp_symtab *t, const pp_symval *a, pp_symval *out, const char *what, pp_error *err) {
    pp_symval r = *a;
    r.dtype = PP_DTYPE_BOOL;
    for (int i = 0; i < r.n; i++) {
        pp_code rc = decide(t, PP_SHAPE_EQ, a->e[i], pp_sx_const(0), &r.e[i], what, err);
        if (rc) return rc;
    }
    *out = r;
    return PP_OK;
}

pp_code pp_symval_minmax(pp_symtab *t, int is_max, const pp_symval *a, const pp_symval *b, pp_symval *out,
                         const char *what, pp_error *err) {
    pp_symval r;
    int sa, sb;
    pp_code rc = bcast2(a, b, &r, &sa, &sb, what, err);
    for (int i = 0; !rc && i < r.n; i++) {
        pp_sx x = a->e[i * sa], y = b->e[i * sb];
        /* Bounds that do not overlap pick a side without an instruction. */
        int64_t xl, xh, yl, yh;
        pp_symtab_range(t, x, &xl, &xh);
        pp_symtab_range(t, y, &yl, &yh);
        if (xl >= yh) r.e[i] = is_max ? x : y;
        else if (yl >= xh) r.e[i] = is_max ? y : x;
        else rc = emit(t, is_max ? PP_SHAPE_MAX : PP_SHAPE_MIN, x, y, pp_sx_const(0), &r.e[i], what, err);
    }
    if (!rc) *out = r;
    return rc;
}

pp_code pp_symval_where(pp_symtab *t, const pp_symval *cond, const pp_symval *x, const pp_symval *y, pp_symval *out,
                        const char *what, pp_error *err) {
    pp_symval xy, r;
    int sx, sy, sc, sxy;
    pp_code rc = bcast2(x, y, &xy, &sx, &sy, what, err);
    if (!rc) rc = bcast2(cond, &xy, &r, &sc, &sxy, what, err);
    r.dtype = x->dtype;
    int stx = x->n == 1 ? 0 : 1, sty = y->n == 1 ? 0 : 1;
    for (int i = 0; !rc && i < r.n; i++)
        rc = emit(t, PP_SHAPE_WHERE, cond->e[i * sc], x->e[i * stx], y->e[i * sty], &r.e[i], what, err);
    if (!rc) *out = r;
    return rc;
}

pp_code pp_symval_gather(const pp_symval *data, const pp_symval *idx, pp_symval *out, const char *what, pp_error *err) {
    if (data->rank != 1) return pp_error_set(err, PP_ERR_SHAPE, "%s: Gather from a scalar shape value", what);
    if (!pp_symval_is_const(idx))
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: Gather with indices that depend on the symbols", what);
    pp_symval r;
    memset(&r, 0, sizeof r);
    r.dtype = data->dtype;
    r.rank = idx->rank;
    r.n = idx->n;
    for (int i = 0; i < idx->n; i++) {
        int64_t j = idx->e[i].v;
        if (j < 0) j += data->n;
        if (j < 0 || j >= data->n)
            return pp_error_set(err, PP_ERR_SHAPE, "%s: index %" PRId64 " is out of range for %d elements", what,
                                idx->e[i].v, data->n);
        r.e[i] = data->e[j];
    }
    *out = r;
    return PP_OK;
}

pp_code pp_symval_slice(const pp_symval *data, int64_t start, int64_t end, int64_t step, pp_symval *out,
                        const char *what, pp_error *err) {
    if (data->rank != 1) return pp_error_set(err, PP_ERR_SHAPE, "%s: Slice of a scalar shape value", what);
    if (step == 0) return pp_error_set(err, PP_ERR_SHAPE, "%s: Slice step 0", what);
    int64_t n = data->n;
    /* ONNX: negative bounds count from the end, then clamp to [0, n] (step > 0)
     * or start to [0, n-1] and end to [-1, n-1] (step < 0). */
    if (start < 0) start = start < -n ? -1 : start + n;
    if (end < 0) end = end < -n ? -1 : end + n;
    if (step > 0) {
        start = start < 0 ? 0 : start > n ? n : start;
        end = end < 0 ? 0 : end > n ? n : end;
    } else {
        start = start < 0 ? 0 : start > n - 1 ? n - 1 : start;
        end = end < -1 ? -1 : end > n - 1 ? n - 1 : end;
    }
    pp_symval r;
    memset(&r, 0, sizeof r);
    r.dtype = data->dtype;
    r.rank = 1;
    /* start and end lie in [-1, n], but a step may be anything: stop where the
     * next index would leave the vector instead of wrapping around. */
    for (int64_t i = start; step > 0 ? i < end : i > end;) {
        if (i < 0 || i >= n) break;
        r.e[r.n++] = data->e[i];
        if (pp_add_i64(i, step, &i)) break;
    }
    *out = r;
    return PP_OK;
}

pp_code pp_symval_concat(const pp_symval *const *parts, int n, pp_symval *out, const char *what, pp_error *err) {
    pp_symval r;
    memset(&r, 0, sizeof r);
    r.rank = 1;
    r.dtype = n ? parts[0]->dtype : PP_DTYPE_I64;
    for (int p = 0; p < n; p++) {
        if (parts[p]->rank != 1) return pp_error_set(err, PP_ERR_SHAPE, "%s: Concat of a scalar (input %d)", what, p);
        if (r.n + parts[p]->n > PP_SYM_MAX)
            return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: a shape value longer than %d elements", what, PP_SYM_MAX);
        for (int i = 0; i < parts[p]->n; i++) r.e[r.n++] = parts[p]->e[i];
    }
    *out = r;
    return PP_OK;
}

pp_code pp_symval_cast(pp_symtab *t, const pp_symval *a, pp_dtype to, pp_symval *out, const char *what, pp_error *err) {
    pp_symval r = *a;
    r.dtype = to;
    switch (to) {
    case PP_DTYPE_I64:
    case PP_DTYPE_F32:
    case PP_DTYPE_F64: break;
    case PP_DTYPE_I32:
        for (int i = 0; i < r.n; i++)
            if (r.e[i].slot < 0 && (r.e[i].v > INT32_MAX || r.e[i].v < INT32_MIN))
                return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: %" PRId64 " does not fit int32", what, r.e[i].v);
        break;
    case PP_DTYPE_BOOL: {
        pp_symval z;
        pp_code rc = pp_symval_not(t, a, &z, what, err);
        if (!rc) rc = pp_symval_not(t, &z, &r, what, err);
        if (rc) return rc;
        break;
    }
    default: return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: Cast of a shape value to %s", what, pp_dtype_name(to));
    }
    *out = r;
    return PP_OK;
}

pp_code pp_symval_reduce(pp_symtab *t, int is_prod, const pp_symval *a, int keepdims, pp_symval *out, const char *what,
                         pp_error *err) {
    pp_sx acc = pp_sx_const(is_prod ? 1 : 0);
    for (int i = 0; i < a->n; i++) {
        pp_code rc = emit(t, is_prod ? PP_SHAPE_MUL : PP_SHAPE_ADD, acc, a->e[i], pp_sx_const(0), &acc, what, err);
        if (rc) return rc;
    }
    pp_symval r;
    memset(&r, 0, sizeof r);
    r.dtype = a->dtype;
    r.rank = keepdims ? 1 : 0;
    r.n = 1;
    r.e[0] = acc;
    *out = r;
    return PP_OK;
}

const char *pp_symval_str(const pp_symtab *t, const pp_symval *v, char *buf, size_t size) {
    size_t o = 0;
    if (!size) return buf;
    buf[0] = 0;
    if (v->rank) o += (size_t)snprintf(buf + o, size - o, "[");
    for (int i = 0; i < v->n && o < size; i++) {
        char b[96];
        const char *s = v->e[i].slot >= 0 ? pp_symtab_slot_str(t, v->e[i].slot, b, sizeof b) : NULL;
        if (s) o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "", s);
        else o += (size_t)snprintf(buf + o, size - o, "%s%" PRId64, i ? ", " : "", v->e[i].v);
    }
    if (v->rank && o < size) snprintf(buf + o, size - o, "]");
    return buf;
}

/* fold.c: constant folding through the engine's CPU kernels, dead-node
 * elimination, and arithmetic on symbolic shape values (fold.h). */
#include "fold.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../engine/eval.h"
#include "../engine/ops.h"
#include "../loader/checked.h"

/* ---- plain constant folding ------------------------------------------------ */

pp_code pp_fold_node(pp_graph *g, int node, int *folded, pp_error *err) {
    *folded = 0;
    pp_node *n = &g->nodes[node];
    if (n->dead || n->n_in > PP_MAX_IO || n->n_out > PP_MAX_IO || n->n_out < 1) return PP_OK;
    pp_shape in[PP_MAX_IO], out[PP_MAX_IO];
    const void *data[PP_MAX_IO];
    void *tmp[PP_MAX_IO]; /* aligned copies of weights whose bytes are not aligned for their dtype */
    for (int i = 0; i < n->n_in; i++) {
        tmp[i] = NULL;
        data[i] = NULL;
        memset(&in[i], 0, sizeof in[i]);
        int t = n->in[i];
        if (t < 0) continue;
        const pp_tensor *w = &g->tensors[t];
        if (w->kind != PP_TENSOR_WEIGHT || w->rank < 0) return PP_OK;
        in[i].dtype = w->dtype;
        in[i].rank = w->rank;
        memcpy(in[i].dims, w->dims, sizeof in[i].dims);
        data[i] = w->data;
    }
    /* The output sizes first, so a constant that would blow up the file stays
     * a node; a node describe refuses is left for shape inference to report. */
    pp_op_params p;
    pp_error scratch;
    if (pp_op_describe(n, in, out, &p, NULL, data, &scratch) != PP_OK) return PP_OK;
    for (int i = 0; i < n->n_out; i++) {
        size_t bytes = pp_dtype_size(out[i].dtype);
        for (int d = 0; d < out[i].rank; d++)
            if (out[i].dims[d] < 0 || pp_mul_size(bytes, (size_t)out[i].dims[d], &bytes)) return PP_OK;
        if (bytes > PP_FOLD_MAX_BYTES) return PP_OK;
    }
    pp_code rc = PP_OK;
    for (int i = 0; i < n->n_in; i++) {
        if (!data[i]) continue;
        size_t es = pp_dtype_size(in[i].dtype);
        if (es > 1 && ((uintptr_t)data[i] % es) != 0) {
            const pp_tensor *w = &g->tensors[n->in[i]];
            tmp[i] = pp_malloc((size_t)w->nbytes);
            if (!tmp[i]) {
                rc = pp_error_set(err, PP_ERR_NOMEM, "folding node '%s': out of memory (%llu bytes)", n->name,
                                  (unsigned long long)w->nbytes);
                break;
            }
            memcpy(tmp[i], data[i], (size_t)w->nbytes);
            data[i] = tmp[i];
        }
    }
    void *res[PP_MAX_IO];
    for (int i = 0; i < n->n_out; i++) res[i] = NULL;
    if (!rc) {
        pp_error e2;
        pp_code r = pp_eval_node(n, in, data, out, res, &e2);
        if (r == PP_ERR_NOMEM || r == PP_ERR_INVALID_ARG) {
            /* Constant data the op refuses (an index out of range) is the
             * model's fault and would fail at every run: say so now. */
            if (err) *err = e2;
            rc = pp_error_prefix(err, "folding constant node '%s' (%s)", n->name, pp_op_name(n->op));
        } else if (r != PP_OK) {
            rc = PP_OK; /* no kernel, or an op the evaluator refuses: keep the node */
            for (int i = 0; i < n->n_out; i++) res[i] = NULL;
            goto done;
        }
    }
    if (!rc) {
        for (int i = 0; i < n->n_out; i++) {
            int t = n->out[i];
            if (t < 0) {
                pp_free(res[i]);
                continue;
            }
            pp_tensor *o = &g->tensors[t];
            size_t bytes = pp_dtype_size(out[i].dtype);
            for (int d = 0; d < out[i].rank; d++) bytes *= (size_t)out[i].dims[d];
            pp_free(o->owned);
            o->kind = PP_TENSOR_WEIGHT;
            o->dtype = out[i].dtype;
            o->rank = out[i].rank;
            memset(o->dims, 0, sizeof o->dims);
            memcpy(o->dims, out[i].dims, sizeof(int64_t) * (size_t)out[i].rank);
            o->owned = res[i];
            o->data = res[i];
            o->nbytes = bytes;
            o->producer = -1;
        }
        n->dead = 1;
        *folded = 1;
    }
done:
    for (int i = 0; i < n->n_in; i++) pp_free(tmp[i]);
    return rc;
}

pp_code pp_fold_constants(pp_graph *g, int *n_folded, pp_error *err) {
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        int f = 0;
        pp_code rc = pp_fold_node(g, i, &f, err);
        if (rc) return rc;
        count += f;
    }
    if (n_folded) *n_folded = count;
    return PP_OK;
}

pp_code pp_eliminate_dead(pp_graph *g, int *n_removed, pp_error *err) {
    char *needed = pp_calloc((size_t)(g->n_tensors ? g->n_tensors : 1), 1);
    char *live = pp_calloc((size_t)(g->n_nodes ? g->n_nodes : 1), 1);
    if (!needed || !live) {
        pp_free(needed);
        pp_free(live);
        return pp_error_nomem(err, "dead-node elimination: out of memory for %d nodes", g->n_nodes);
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] >= 0) needed[g->outputs[i]] = 1;
    /* Reverse order settles a topologically sorted graph in one sweep; repeat
     * until nothing changes for any other order. */
    int changed = 1;
    while (changed) {
        changed = 0;
        for (int i = g->n_nodes - 1; i >= 0; i--) {
            const pp_node *n = &g->nodes[i];
            if (live[i] || n->dead) continue;
            int use = 0;
            for (int j = 0; j < n->n_out && !use; j++) use = n->out[j] >= 0 && needed[n->out[j]];
            if (!use) continue;
            live[i] = 1;
            changed = 1;
            for (int j = 0; j < n->n_in; j++)
                if (n->in[j] >= 0) needed[n->in[j]] = 1;
        }
    }
    int removed = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (!live[i] && !g->nodes[i].dead) {
            g->nodes[i].dead = 1;
            removed++;
        }
    pp_free(needed);
    pp_free(live);
    if (n_removed) *n_removed = removed;
    return pp_graph_compact(g, err);
}

/* ---- symbolic values ------------------------------------------------------- */

int pp_sym_is_const(const pp_symval *v) {
    for (int i = 0; i < v->n; i++)
        if (v->k[i]) return 0;
    return 1;
}

int pp_sym_elem_is_batch(const pp_symval *v, int i, int64_t *mult) {
    if (i < 0 || i >= v->n || v->k[i] <= 0 || v->c[i] != 0) return 0;
    if (mult) *mult = v->k[i];
    return 1;
}

const char *pp_sym_str(const pp_symval *v, char *buf, size_t size) {
    size_t o = 0;
    if (!size) return buf;
    buf[0] = 0;
#define PUT(...)                                                                                                       \
    do {                                                                                                               \
        if (o < size) {                                                                                                \
            int w_ = snprintf(buf + o, size - o, __VA_ARGS__);                                                         \
            if (w_ > 0) o += (size_t)w_;                                                                               \
        }                                                                                                              \
    } while (0)
    if (v->rank) PUT("[");
    for (int i = 0; i < v->n; i++) {
        if (i) PUT(", ");
        if (v->k[i] == 0) PUT("%" PRId64, v->c[i]);
        else {
            if (v->k[i] == 1) PUT("N");
            else PUT("%" PRId64 "*N", v->k[i]);
            if (v->c[i]) PUT("%+" PRId64, v->c[i]);
        }
    }
    if (v->rank) PUT("]");
#undef PUT
    return buf;
}

void pp_sym_from_dims(int rank, const int64_t *dims, pp_symval *out) {
    memset(out, 0, sizeof *out);
    out->dtype = PP_DTYPE_I64;
    out->rank = 1;
    out->n = rank;
    for (int i = 0; i < rank && i < PP_SYM_MAX; i++) {
        if (dims[i] < 0) out->k[i] = -dims[i];
        else out->c[i] = dims[i];
    }
}

pp_code pp_sym_from_data(pp_dtype dtype, int rank, const int64_t *dims, const void *data, pp_symval *out,
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
        out->c[i] = v;
    }
    return PP_OK;
}

pp_code pp_sym_to_data(const pp_symval *v, void **data, uint64_t *nbytes, pp_error *err) {
    *data = NULL;
    *nbytes = 0;
    if (!pp_sym_is_const(v))
        return pp_error_set(err, PP_ERR_INTERNAL, "a batch-dependent shape value cannot become constant data");
    size_t es = pp_dtype_size(v->dtype);
    if (!es) return pp_error_set(err, PP_ERR_INTERNAL, "shape value of invalid dtype");
    unsigned char *p = pp_malloc(es * (size_t)(v->n ? v->n : 1));
    if (!p) return pp_error_nomem(err, "out of memory for a %d-element constant", v->n);
    for (int i = 0; i < v->n; i++) {
        int64_t x = v->c[i];
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

static pp_code overflow(const char *what, pp_error *err) {
    return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: shape arithmetic overflows int64", what);
}

/* Broadcast of two rank <= 1 symvals: the output length and each side's step. */
static pp_code bcast2(const pp_symval *a, const pp_symval *b, pp_symval *out, int *sa, int *sb, const char *what,
                      pp_error *err) {
    int n = a->n > b->n ? a->n : b->n;
    memset(out, 0, sizeof *out);
    out->rank = a->rank > b->rank ? a->rank : b->rank;
    out->n = out->rank ? n : 1;
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

pp_code pp_sym_binary(pp_sym_binop op, const pp_symval *a, const pp_symval *b, pp_symval *out, const char *what,
                      pp_error *err) {
    pp_symval r;
    int sa, sb;
    pp_code rc = bcast2(a, b, &r, &sa, &sb, what, err);
    if (rc) return rc;
    for (int i = 0; i < r.n; i++) {
        int64_t ka = a->k[i * sa], ca = a->c[i * sa], kb = b->k[i * sb], cb = b->c[i * sb];
        int64_t k = 0, c = 0;
        switch (op) {
        case PP_SYM_ADD:
            if (pp_add_i64(ka, kb, &k) || pp_add_i64(ca, cb, &c)) return overflow(what, err);
            break;
        case PP_SYM_SUB:
            if (pp_sub_i64(ka, kb, &k) || pp_sub_i64(ca, cb, &c)) return overflow(what, err);
            break;
        case PP_SYM_MUL:
            if (ka && kb)
                return pp_error_set(err, PP_ERR_UNSUPPORTED,
                                    "%s: multiplies two batch-dependent shape values (batch squared)", what);
            if (pp_mul_i64(ca, cb, &c)) return overflow(what, err);
            if (ka && pp_mul_i64(ka, cb, &k)) return overflow(what, err);
            if (kb && pp_mul_i64(kb, ca, &k)) return overflow(what, err);
            break;
        case PP_SYM_DIV:
        case PP_SYM_MOD:
            if (kb) return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: divides by a batch-dependent shape value", what);
            if (cb == 0) return pp_error_set(err, PP_ERR_SHAPE, "%s: shape arithmetic divides by zero", what);
            if (cb == -1 && (ca == INT64_MIN || ka == INT64_MIN)) return overflow(what, err);
            if (op == PP_SYM_MOD) {
                if (ka)
                    return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: remainder of a batch-dependent shape value",
                                        what);
                /* ONNX Mod with fmod=0 takes the divisor's sign (Python %). */
                c = ca % cb;
                if (c != 0 && ((c < 0) != (cb < 0))) c += cb;
                break;
            }
            if (ka == 0) {
                if (is_int_dtype(a->dtype) || ca % cb == 0) {
                    c = ca / cb; /* C truncation, as ONNX integer Div */
                } else {
                    return pp_error_set(err, PP_ERR_UNSUPPORTED,
                                        "%s: %" PRId64 " / %" PRId64 " is not an integer in a shape computation", what,
                                        ca, cb);
                }
            } else {
                if (ka % cb || ca % cb)
                    return pp_error_set(err, PP_ERR_UNSUPPORTED,
                                        "%s: (%" PRId64 "*N%+" PRId64 ") / %" PRId64
                                        " is not exact at every batch size",
                                        what, ka, ca, cb);
                k = ka / cb;
                c = ca / cb;
            }
            break;
        }
        r.k[i] = k;
        r.c[i] = c;
    }
    *out = r;
    return PP_OK;
}

pp_code pp_sym_neg(const pp_symval *a, pp_symval *out, const char *what, pp_error *err) {
    pp_symval r = *a;
    for (int i = 0; i < r.n; i++) {
        if (r.k[i] == INT64_MIN || r.c[i] == INT64_MIN) return overflow(what, err);
        r.k[i] = -r.k[i];
        r.c[i] = -r.c[i];
    }
    *out = r;
    return PP_OK;
}

/* Sign of k·N + c over every N >= 1: 1 (always > 0), -1 (always < 0), 0 (always
 * 0), 2 (always >= 0 but 0 somewhere), -2 (always <= 0, 0 somewhere), 3 (it
 * depends). */
static int sign_all(int64_t k, int64_t c) {
    if (k == 0) return c > 0 ? 1 : (c < 0 ? -1 : 0);
    /* Monotone in N; the value at N = 1 is the extreme on one side. */
    int64_t at1;
    if (pp_add_i64(k, c, &at1)) return 3;
    if (k > 0) {
        if (at1 > 0) return 1;
        if (at1 == 0) return 2;
        return 3;
    }
    if (at1 < 0) return -1;
    if (at1 == 0) return -2;
    return 3;
}

pp_code pp_sym_compare(int cmp, const pp_symval *a, const pp_symval *b, pp_symval *out, const char *what,
                       pp_error *err) {
    pp_symval r;
    int sa, sb;
    pp_code rc = bcast2(a, b, &r, &sa, &sb, what, err);
    if (rc) return rc;
    r.dtype = PP_DTYPE_BOOL;
    for (int i = 0; i < r.n; i++) {
        int64_t k, c;
        if (pp_sub_i64(a->k[i * sa], b->k[i * sb], &k) || pp_sub_i64(a->c[i * sa], b->c[i * sb], &c))
            return overflow(what, err);
        int s = sign_all(k, c), v = -1;
        if (cmp == 0) {
            if (s == 0) v = 1;
            else if (s == 1 || s == -1) v = 0;
            else if (k != 0 && (c % k != 0 || -c / k < 1)) v = 0; /* the one root is not a batch size */
        } else if (cmp < 0) {                                     /* a < b: diff < 0 */
            if (s == -1) v = 1;
            else if (s == 0 || s == 1 || s == 2) v = 0;
        } else {
            if (s == 1) v = 1;
            else if (s == 0 || s == -1 || s == -2) v = 0;
        }
        if (v < 0) {
            char ba[96], bb[96];
            return pp_error_set(err, PP_ERR_UNSUPPORTED,
                                "%s: comparing the shape values %s and %s gives different answers at different "
                                "batch sizes",
                                what, pp_sym_str(a, ba, sizeof ba), pp_sym_str(b, bb, sizeof bb));
        }
        r.k[i] = 0;
        r.c[i] = v;
    }
    *out = r;
    return PP_OK;
}

pp_code pp_sym_minmax(int is_max, const pp_symval *a, const pp_symval *b, pp_symval *out, const char *what,
                      pp_error *err) {
    pp_symval r;
    int sa, sb;
    pp_code rc = bcast2(a, b, &r, &sa, &sb, what, err);
    if (rc) return rc;
    for (int i = 0; i < r.n; i++) {
        int64_t k, c;
        if (pp_sub_i64(a->k[i * sa], b->k[i * sb], &k) || pp_sub_i64(a->c[i * sa], b->c[i * sb], &c))
            return overflow(what, err);
        int s = sign_all(k, c), pick_a;
        if (s == 1 || s == 2 || s == 0) pick_a = is_max; /* a >= b everywhere */
        else if (s == -1 || s == -2) pick_a = !is_max;
        else
            return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: Max/Min of shape values that cross at some batch size",
                                what);
        r.k[i] = pick_a ? a->k[i * sa] : b->k[i * sb];
        r.c[i] = pick_a ? a->c[i * sa] : b->c[i * sb];
    }
    *out = r;
    return PP_OK;
}

pp_code pp_sym_where(const pp_symval *cond, const pp_symval *x, const pp_symval *y, pp_symval *out, const char *what,
                     pp_error *err) {
    if (!pp_sym_is_const(cond))
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: Where on a batch-dependent condition", what);
    pp_symval xy, r;
    int sx, sy, sc, sxy;
    pp_code rc = bcast2(x, y, &xy, &sx, &sy, what, err);
    if (rc) return rc;
    rc = bcast2(cond, &xy, &r, &sc, &sxy, what, err);
    if (rc) return rc;
    r.dtype = x->dtype;
    /* xy only gave the shape; index x and y against the final length. */
    int stx = x->n == 1 ? 0 : 1, sty = y->n == 1 ? 0 : 1;
    for (int i = 0; i < r.n; i++) {
        int pick = cond->c[i * sc] != 0;
        r.k[i] = pick ? x->k[i * stx] : y->k[i * sty];
        r.c[i] = pick ? x->c[i * stx] : y->c[i * sty];
    }
    *out = r;
    return PP_OK;
}

pp_code pp_sym_gather(const pp_symval *data, const pp_symval *idx, pp_symval *out, const char *what, pp_error *err) {
    if (data->rank != 1) return pp_error_set(err, PP_ERR_SHAPE, "%s: Gather from a scalar shape value", what);
    if (!pp_sym_is_const(idx))
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: Gather with batch-dependent indices", what);
    pp_symval r;
    memset(&r, 0, sizeof r);
    r.dtype = data->dtype;
    r.rank = idx->rank;
    r.n = idx->n;
    for (int i = 0; i < idx->n; i++) {
        int64_t j = idx->c[i];
        if (j < 0) j += data->n;
        if (j < 0 || j >= data->n)
            return pp_error_set(err, PP_ERR_SHAPE, "%s: index %" PRId64 " is out of range for %d elements", what,
                                idx->c[i], data->n);
        r.k[i] = data->k[j];
        r.c[i] = data->c[j];
    }
    *out = r;
    return PP_OK;
}

pp_code pp_sym_slice(const pp_symval *data, int64_t start, int64_t end, int64_t step, pp_symval *out, const char *what,
                     pp_error *err) {
    if (data->rank != 1) return pp_error_set(err, PP_ERR_SHAPE, "%s: Slice of a scalar shape value", what);
    if (step == 0) return pp_error_set(err, PP_ERR_SHAPE, "%s: Slice step 0", what);
    int64_t n = data->n;
    /* ONNX: negative bounds count from the end, then clamp to [0, n] (step > 0)
     * or start to [0, n-1] and end to [-1, n-1] (step < 0). */
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (step > 0) {
        if (start < 0) start = 0;
        if (start > n) start = n;
        if (end < 0) end = 0;
        if (end > n) end = n;
    } else {
        if (start < 0) start = 0;
        if (start > n - 1) start = n - 1;
        if (end < -1) end = -1;
        if (end > n - 1) end = n - 1;
    }
    pp_symval r;
    memset(&r, 0, sizeof r);
    r.dtype = data->dtype;
    r.rank = 1;
    /* start and end are clamped to [-1, n], but a step may be anything: stop
     * where the next index would overflow instead of wrapping around. */
    for (int64_t i = start; step > 0 ? i < end : i > end;) {
        if (i < 0 || i >= n) break;
        r.k[r.n] = data->k[i];
        r.c[r.n] = data->c[i];
        r.n++;
        if (pp_add_i64(i, step, &i)) break;
    }
    *out = r;
    return PP_OK;
}

pp_code pp_sym_concat(const pp_symval *const *parts, int n, pp_symval *out, const char *what, pp_error *err) {
    pp_symval r;
    memset(&r, 0, sizeof r);
    r.rank = 1;
    r.dtype = n ? parts[0]->dtype : PP_DTYPE_I64;
    for (int p = 0; p < n; p++) {
        if (parts[p]->rank != 1) return pp_error_set(err, PP_ERR_SHAPE, "%s: Concat of a scalar (input %d)", what, p);
        if (r.n + parts[p]->n > PP_SYM_MAX)
            return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: a shape value longer than %d elements", what, PP_SYM_MAX);
        for (int i = 0; i < parts[p]->n; i++) {
            r.k[r.n] = parts[p]->k[i];
            r.c[r.n] = parts[p]->c[i];
            r.n++;
        }
    }
    *out = r;
    return PP_OK;
}

pp_code pp_sym_cast(const pp_symval *a, pp_dtype to, pp_symval *out, const char *what, pp_error *err) {
    pp_symval r = *a;
    r.dtype = to;
    switch (to) {
    case PP_DTYPE_I64:
    case PP_DTYPE_F32:
    case PP_DTYPE_F64: break;
    case PP_DTYPE_I32:
        for (int i = 0; i < r.n; i++)
            if (r.k[i] == 0 && (r.c[i] > INT32_MAX || r.c[i] < INT32_MIN))
                return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: %" PRId64 " does not fit int32", what, r.c[i]);
        break;
    case PP_DTYPE_BOOL:
        for (int i = 0; i < r.n; i++) {
            int s = sign_all(r.k[i], r.c[i]);
            int nonzero = s == 1 || s == -1 ? 1 : (s == 0 ? 0 : -1);
            if (nonzero < 0 && r.k[i] != 0 && (r.c[i] % r.k[i] != 0 || -r.c[i] / r.k[i] < 1)) nonzero = 1;
            if (nonzero < 0)
                return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: a shape value is zero at one batch size only", what);
            r.k[i] = 0;
            r.c[i] = nonzero;
        }
        break;
    default: return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: Cast of a shape value to %s", what, pp_dtype_name(to));
    }
    *out = r;
    return PP_OK;
}

pp_code pp_sym_reduce_prod(const pp_symval *a, int keepdims, pp_symval *out, const char *what, pp_error *err) {
    int64_t k = 0, c = 1;
    int sym = -1;
    for (int i = 0; i < a->n; i++) {
        if (a->k[i]) {
            if (sym >= 0 || a->c[i] != 0)
                return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: product of shape values is not k*N", what);
            sym = i;
        } else if (pp_mul_i64(c, a->c[i], &c)) {
            return overflow(what, err);
        }
    }
    if (sym >= 0) {
        if (pp_mul_i64(a->k[sym], c, &k)) return overflow(what, err);
        c = 0;
    }
    pp_symval r;
    memset(&r, 0, sizeof r);
    r.dtype = a->dtype;
    r.rank = keepdims ? 1 : 0;
    r.n = 1;
    r.k[0] = k;
    r.c[0] = c;
    *out = r;
    return PP_OK;
}

pp_code pp_sym_reduce_sum(const pp_symval *a, int keepdims, pp_symval *out, const char *what, pp_error *err) {
    int64_t k = 0, c = 0;
    for (int i = 0; i < a->n; i++)
        if (pp_add_i64(k, a->k[i], &k) || pp_add_i64(c, a->c[i], &c)) return overflow(what, err);
    pp_symval r;
    memset(&r, 0, sizeof r);
    r.dtype = a->dtype;
    r.rank = keepdims ? 1 : 0;
    r.n = 1;
    r.k[0] = k;
    r.c[0] = c;
    *out = r;
    return PP_OK;
}

/* onnx_sym.c: the ONNX shape ops evaluated on shape values (converter/symval.h)
 * instead of emitted as nodes, and shape values turned into data where a model
 * computes with them as tensors at run time.
 *
 * Shape → Gather → Concat → Reshape chains never become nodes: each op here
 * computes a pp_symval whose elements are constants or shape program values,
 * and the handlers that take parameters (Reshape, Expand, Slice, Range, ...)
 * write them as attributes, symbolic where they must be (docs/ir.md). What is
 * not an integer shape computation (a float division that is not exact, a
 * value longer than PP_SYM_MAX, an op on a shape value and a run-time tensor)
 * falls back to the op's ordinary handler: the shape value becomes a tensor
 * (ox_materialize) and the op a node. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "onnx_internal.h"

static pp_code bind_out(ox_nctx *c, const pp_symval *v) {
    const char *out = c->n->n_out ? c->n->out[0] : "";
    if (!*out) return c->rc;
    return ox_keep(c, ox_bind_sym(c->x, out, v));
}

pp_code ox_sym_shape(ox_nctx *c, int size_only) {
    if (!ox_has_in(c, 0)) return ox_fail(c, PP_ERR_FORMAT, "input 0 is required");
    pp_symval v;
    char b[300];
    const char *w = ox_what(c, b, sizeof b);
    if (c->in[0]->kind == OX_SYM) {
        /* The shape of a shape value: its length. */
        memset(&v, 0, sizeof v);
        v.dtype = PP_DTYPE_I64;
        v.rank = size_only ? 0 : 1;
        v.n = 1;
        v.e[0] = pp_sx_const(c->in[0]->sym.rank ? c->in[0]->sym.n : (size_only ? 1 : 0));
        if (!size_only && c->in[0]->sym.rank == 0) v.n = 0;
        return bind_out(c, &v);
    }
    const pp_tensor *t = ox_shape_of(c, c->in[0]->tensor);
    if (!t) return c->rc;
    if (ox_keep(c, pp_symval_from_dims(&c->x->g->sym, t->rank, t->dims, &v, c->x->err))) return c->rc;
    if (size_only) {
        pp_symval p;
        if (ox_keep(c, pp_symval_reduce(&c->x->g->sym, 1, &v, 0, &p, w, c->x->err))) return c->rc;
        return bind_out(c, &p);
    }
    int64_t r = t->rank, start = ox_attr_i(c, "start", 0), end = ox_attr_i(c, "end", r);
    pp_symval out;
    if (ox_keep(c, pp_symval_slice(&v, start, end, 1, &out, w, c->x->err))) return c->rc;
    return bind_out(c, &out);
}

/* Consecutive constant elements [from, to) of s as one weight. */
static int const_piece(ox_nctx *c, const pp_symval *s, int from, int to, pp_dtype dt) {
    pp_symval part = *s;
    part.rank = 1;
    part.n = to - from;
    part.dtype = dt;
    memmove(part.e, s->e + from, sizeof(pp_sx) * (size_t)part.n);
    void *data;
    uint64_t nbytes;
    if (ox_keep(c, pp_symval_to_data(&part, &data, &nbytes, c->x->err))) return -1;
    int64_t d = part.n;
    int id = ox_tmp_weight(c, "shape_value", dt, 1, &d, data, nbytes);
    pp_free(data);
    return id;
}

int ox_materialize(ox_nctx *c, ox_value *v) {
    if (v->tensor >= 0) return v->tensor;
    const pp_symval *s = &v->sym;
    /* The fill kernel writes numbers; a bool value is made as i64 and cast. */
    pp_dtype dt = s->dtype == PP_DTYPE_BOOL ? PP_DTYPE_I64 : s->dtype;
    int ids[PP_SYM_MAX] = {-1}, np = 0;
    for (int i = 0; i < s->n && !c->rc;) {
        if (s->e[i].slot < 0) {
            int j = i;
            while (j < s->n && s->e[j].slot < 0) j++;
            ids[np++] = const_piece(c, s, i, j, dt);
            i = j;
            continue;
        }
        int y = ox_tmp_t(c, "shape_value");
        int nd = ox_emit(c, PP_OP_CONSTANT_OF_SHAPE, 0, NULL, 1, &y);
        ox_setis(c, nd, "shape", (int64_t[]){1}, 1);
        ox_setf(c, nd, "value", 0);
        ox_seti(c, nd, "dtype", dt);
        if (!c->rc) ox_keep(c, pp_node_set_sym(c->x->g, nd, "value", 0, s->e[i].slot, c->x->err));
        ids[np++] = y;
        i++;
    }
    if (c->rc) return -1;
    int t = ids[0];
    if (np > 1) {
        t = ox_tmp_t(c, "shape_value");
        int nd = ox_emit(c, PP_OP_CONCAT, np, ids, 1, &t);
        ox_seti(c, nd, "axis", 0);
    }
    if (s->rank == 0) {
        int r = ox_tmp_t(c, "shape_value");
        int nd = ox_emit(c, PP_OP_RESHAPE, 1, &t, 1, &r);
        ox_setis(c, nd, "shape", NULL, 0);
        t = r;
    }
    if (s->dtype == PP_DTYPE_BOOL) {
        int b = ox_tmp_t(c, "shape_value");
        int nd = ox_emit(c, PP_OP_CAST, 1, &t, 1, &b);
        ox_seti(c, nd, "to", PP_DTYPE_BOOL);
        t = b;
    }
    if (c->rc) return -1;
    v->tensor = t;
    return t;
}

/* ---- the shape ops ------------------------------------------------------------------ */

typedef struct sym_op {
    const char *name;
    int kind; /* 0 arithmetic, 1 comparison, 2 min/max */
    int code;
    int or_equal;
} sym_op;

static const sym_op bins[] = {{"Add", 0, PP_SV_ADD, 0},    {"Sub", 0, PP_SV_SUB, 0}, {"Mul", 0, PP_SV_MUL, 0},
                              {"Div", 0, PP_SV_DIV, 0},    {"Mod", 0, PP_SV_MOD, 0}, {"Equal", 1, 0, 0},
                              {"Less", 1, -1, 0},          {"Greater", 1, 1, 0},     {"LessOrEqual", 1, -1, 1},
                              {"GreaterOrEqual", 1, 1, 1}, {"Max", 2, 1, 0},         {"Min", 2, 0, 0}};

static pp_code sym_binary(ox_nctx *c, const sym_op *op, const char *w, pp_symval *r) {
    pp_symtab *t = &c->x->g->sym;
    pp_error *err = c->x->err;
    pp_symval a, b;
    if (op->kind == 2) { /* n-ary */
        if (ox_sym_in(c, 0, r)) return c->rc;
        for (int i = 1; i < c->n_in; i++) {
            if (ox_sym_in(c, i, &b)) return c->rc;
            a = *r;
            if (ox_keep(c, pp_symval_minmax(t, op->code, &a, &b, r, w, err))) return c->rc;
        }
        return PP_OK;
    }
    if (ox_sym_in(c, 0, &a) || ox_sym_in(c, 1, &b)) return c->rc;
    if (op->kind == 0) return ox_keep(c, pp_symval_binary(t, (pp_symval_op)op->code, &a, &b, r, w, err));
    return ox_keep(c, pp_symval_compare(t, op->code, op->or_equal, &a, &b, r, w, err));
}

static pp_code sym_slice(ox_nctx *c, const char *w, pp_symval *r) {
    pp_symval a;
    if (ox_sym_in(c, 0, &a)) return c->rc;
    int64_t st = 0, en = INT64_MAX, ax = 0, stp = 1;
    if (ox_opset(c) < 10) {
        size_t n1, n2, n3;
        const int64_t *s1 = ox_attr_ints(c, "starts", &n1), *s2 = ox_attr_ints(c, "ends", &n2),
                      *s3 = ox_attr_ints(c, "axes", &n3);
        if (!s1 || !s2 || n1 != 1 || n2 != 1 || (s3 && n3 != 1))
            return ox_fail(c, PP_ERR_UNSUPPORTED, "slicing a shape value needs one start and one end");
        st = s1[0];
        en = s2[0];
        ax = s3 ? s3[0] : 0;
    } else {
        pp_symval v[4];
        for (int i = 1; i < 5; i++) {
            if (!ox_has_in(c, i)) continue;
            if (ox_sym_in(c, i, &v[i - 1])) return c->rc;
            if (!pp_symval_is_const(&v[i - 1]) || v[i - 1].n != 1)
                return ox_fail(c, PP_ERR_UNSUPPORTED, "slicing a shape value needs constant single bounds");
            int64_t x = v[i - 1].e[0].v;
            if (i == 1) st = x;
            else if (i == 2) en = x;
            else if (i == 3) ax = x;
            else stp = x;
        }
    }
    if (ax != 0 && ax != -1) return ox_fail(c, PP_ERR_SHAPE, "axis %" PRId64 " of a shape value", ax);
    return ox_keep(c, pp_symval_slice(&a, st, en, stp, r, w, c->x->err));
}

static pp_code sym_squeeze(ox_nctx *c, int unsq, pp_symval *r) {
    if (ox_sym_in(c, 0, r)) return c->rc;
    int64_t *axes = NULL;
    size_t na = 0;
    if (ox_opset(c) >= 13) {
        if (ox_param_ints(c, 1, "axes", &axes, &na) < 0) return c->rc;
    } else {
        axes = (int64_t *)ox_attr_ints(c, "axes", &na);
    }
    if (unsq) {
        if (r->rank != 0 || na != 1 || (axes[0] != 0 && axes[0] != -1))
            return ox_fail(c, PP_ERR_UNSUPPORTED, "Unsqueeze of a shape value beyond a scalar to a vector");
        r->rank = 1;
    } else {
        if (r->rank != 1 || r->n != 1 || na > 1 || (na == 1 && axes[0] != 0 && axes[0] != -1))
            return ox_fail(c, PP_ERR_UNSUPPORTED, "Squeeze of a shape value other than a one-element vector");
        r->rank = 0;
    }
    return PP_OK;
}

static pp_code sym_reshape(ox_nctx *c, pp_symval *r) {
    if (ox_sym_in(c, 0, r)) return c->rc;
    int64_t *shape;
    size_t n;
    if (ox_param_ints(c, 1, "shape", &shape, &n) <= 0) return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "no shape");
    if (n == 0 && r->n == 1) r->rank = 0;
    else if (n == 1 && (shape[0] == -1 || shape[0] == r->n)) r->rank = 1;
    else return ox_fail(c, PP_ERR_UNSUPPORTED, "reshaping a shape value beyond a vector");
    return PP_OK;
}

/* One shape op on shape values into *r; 0 when op_type is none of them. */
static int sym_eval(ox_nctx *c, const char *op, const char *w, pp_symval *r) {
    pp_symtab *t = &c->x->g->sym;
    pp_error *err = c->x->err;
    pp_symval a, b, cnd;
    if (!strcmp(op, "Identity") || !strcmp(op, "Dropout")) {
        if (!ox_sym_in(c, 0, r)) ox_only_outputs(c, 1);
    } else if (!strcmp(op, "Gather")) {
        int64_t axis = ox_attr_i(c, "axis", 0);
        if (axis != 0 && axis != -1) ox_fail(c, PP_ERR_SHAPE, "axis %" PRId64 " of a shape value", axis);
        else if (!ox_sym_in(c, 0, &a) && !ox_sym_in(c, 1, &b)) ox_keep(c, pp_symval_gather(&a, &b, r, w, err));
    } else if (!strcmp(op, "Slice")) {
        sym_slice(c, w, r);
    } else if (!strcmp(op, "Unsqueeze") || !strcmp(op, "Squeeze")) {
        sym_squeeze(c, op[0] == 'U', r);
    } else if (!strcmp(op, "Concat")) {
        pp_symval parts[PP_MAX_IO];
        const pp_symval *pp[PP_MAX_IO];
        int n = 0;
        int64_t axis = ox_attr_i(c, "axis", 0);
        for (int i = 0; i < c->n_in && !c->rc; i++)
            if (ox_has_in(c, i) && !ox_sym_in(c, i, &parts[n])) pp[n] = &parts[n], n++;
        if (!c->rc && axis != 0 && axis != -1) ox_fail(c, PP_ERR_SHAPE, "axis %" PRId64 " of a shape value", axis);
        if (!c->rc) ox_keep(c, pp_symval_concat(pp, n, r, w, err));
    } else if (!strcmp(op, "Cast")) {
        if (!ox_sym_in(c, 0, &a)) ox_keep(c, pp_symval_cast(t, &a, pp_onnx_dtype(ox_attr_i(c, "to", 0)), r, w, err));
    } else if (!strcmp(op, "Neg")) {
        if (!ox_sym_in(c, 0, &a)) ox_keep(c, pp_symval_neg(t, &a, r, w, err));
    } else if (!strcmp(op, "Not")) {
        if (!ox_sym_in(c, 0, &a)) ox_keep(c, pp_symval_not(t, &a, r, w, err));
    } else if (!strcmp(op, "Where")) {
        if (!ox_sym_in(c, 0, &cnd) && !ox_sym_in(c, 1, &a) && !ox_sym_in(c, 2, &b))
            ox_keep(c, pp_symval_where(t, &cnd, &a, &b, r, w, err));
    } else if (!strcmp(op, "Reshape")) {
        sym_reshape(c, r);
    } else if (!strcmp(op, "ReduceProd") || !strcmp(op, "ReduceSum")) {
        if (!ox_sym_in(c, 0, &a)) {
            if (a.rank == 0) *r = a;
            else ox_keep(c, pp_symval_reduce(t, op[6] == 'P', &a, (int)ox_attr_i(c, "keepdims", 1), r, w, err));
        }
    } else {
        size_t k = 0;
        while (k < sizeof bins / sizeof bins[0] && strcmp(op, bins[k].name)) k++;
        if (k == sizeof bins / sizeof bins[0]) return 0;
        sym_binary(c, &bins[k], w, r);
    }
    return 1;
}

pp_code ox_sym_node(ox_nctx *c, int *handled) {
    const char *op = c->n->op_type;
    *handled = 0;
    /* Ops with one data input take this path only when that input is the shape
     * value; a shape value in a parameter slot (Reshape's shape, Slice's ends)
     * is the op handler's business. */
    static const char *data_first[] = {"Reshape", "Gather", "Slice", "Unsqueeze", "Squeeze", "ReduceProd", "ReduceSum"};
    for (size_t k = 0; k < sizeof data_first / sizeof data_first[0]; k++)
        if (!strcmp(op, data_first[k]) && !(ox_has_in(c, 0) && c->in[0]->kind == OX_SYM)) return PP_OK;
    /* A shape value mixed with a tensor computed at run time is data. */
    for (int i = 0; i < c->n_in; i++)
        if (ox_has_in(c, i) && c->in[i]->kind == OX_TENSOR && !ox_is_const(c, i)) return PP_OK;
    char wb[300];
    pp_symval r;
    memset(&r, 0, sizeof r);
    if (!sym_eval(c, op, ox_what(c, wb, sizeof wb), &r)) return PP_OK;
    if (c->rc == PP_ERR_UNSUPPORTED) {
        /* Not a shape computation after all: the op's handler computes it as
         * data (the instructions emitted so far are dropped at compaction). */
        c->rc = PP_OK;
        c->x->err->code = PP_OK;
        return PP_OK;
    }
    *handled = 1;
    if (c->rc) return c->rc;
    return bind_out(c, &r);
}

/* onnx_ops.c: one handler per ONNX op, turning a NodeProto into IR nodes.
 *
 * Conventions (docs/ir.md): attributes keep their ONNX names; parameter inputs
 * (Reshape shape, Slice starts, Pad pads, Clip min/max, ...) become attributes
 * and must be constant by the time the node is imported (folded constants are);
 * every attribute a kernel reads is written explicitly with the ONNX default of
 * the node's opset, so the IR never depends on an opset's defaults.
 *
 * Values that depend on the batch (pp_symval, fold.h) flow through the shape
 * ops (Shape, Gather, Slice, Concat, Unsqueeze, arithmetic, ...) without
 * becoming nodes; Reshape and Expand turn them into batch-independent
 * attributes (0 = copy the input's axis, -1 = infer).
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../loader/checked.h"
#include "onnx_internal.h"

/* ---- errors and attributes ---------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static pp_code
fail(ox_nctx *c, pp_code code, const char *fmt, ...) {
    char msg[PP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!c->rc) {
        pp_error_set(c->x->err, code, "node '%s' (%s): %s", c->name, c->n->op_type, msg);
        c->rc = code;
    }
    return c->rc;
}

/* Records an error some callee already put in err. */
static pp_code keep(ox_nctx *c, pp_code rc) {
    if (rc && !c->rc) c->rc = rc;
    return c->rc;
}

static const ox_attr *attr(ox_nctx *c, const char *name) {
    for (int i = 0; i < c->n->n_attrs; i++)
        if (strcmp(c->n->attrs[i].name, name) == 0) return &c->n->attrs[i];
    return NULL;
}

static const ox_attr *attr_of(ox_nctx *c, const char *name, int64_t type, const char *tname) {
    const ox_attr *a = attr(c, name);
    if (!a) return NULL;
    if (a->ref_attr_name) {
        fail(c, PP_ERR_UNSUPPORTED, "attribute %s refers to a function attribute", name);
        return NULL;
    }
    if (a->type != type) {
        fail(c, PP_ERR_FORMAT, "attribute %s has type %" PRId64 ", expected %s", name, a->type, tname);
        return NULL;
    }
    return a;
}

static int64_t attr_i(ox_nctx *c, const char *name, int64_t def) {
    const ox_attr *a = attr_of(c, name, OX_ATTR_INT, "INT");
    return a ? a->i : def;
}

static double attr_f(ox_nctx *c, const char *name, double def) {
    const ox_attr *a = attr(c, name);
    if (a && a->type == OX_ATTR_INT) return (double)a->i; /* some writers store 0 as an INT */
    a = attr_of(c, name, OX_ATTR_FLOAT, "FLOAT");
    return a ? a->f : def;
}

static const char *attr_s(ox_nctx *c, const char *name, const char *def) {
    const ox_attr *a = attr_of(c, name, OX_ATTR_STRING, "STRING");
    if (!a) return def;
    for (size_t i = 0; i < a->s_len; i++)
        if (a->s[i] == 0) {
            fail(c, PP_ERR_FORMAT, "attribute %s holds a NUL byte", name);
            return def;
        }
    char *s = ox_alloc(c->x, a->s_len + 1);
    if (!s) {
        keep(c, PP_ERR_NOMEM);
        return def;
    }
    if (a->s_len) memcpy(s, a->s, a->s_len);
    return s;
}

/* INTS attribute values, or NULL (and *n = 0) when absent. */
static const int64_t *attr_ints(ox_nctx *c, const char *name, size_t *n) {
    const ox_attr *a = attr_of(c, name, OX_ATTR_INTS, "INTS");
    *n = a ? a->n_ints : 0;
    return a ? a->ints : NULL;
}

static const float *attr_floats(ox_nctx *c, const char *name, size_t *n) {
    const ox_attr *a = attr_of(c, name, OX_ATTR_FLOATS, "FLOATS");
    *n = a ? a->n_floats : 0;
    return a ? a->floats : NULL;
}

static int64_t opset(ox_nctx *c) { return c->x->opset; }

/* ---- inputs -------------------------------------------------------------------- */

static int has_in(ox_nctx *c, int i) { return i < c->n_in && c->in[i] != NULL; }

static pp_tensor *tensor_of(ox_nctx *c, int i) {
    if (!has_in(c, i) || c->in[i]->kind != OX_TENSOR) return NULL;
    return &c->x->g->tensors[c->in[i]->tensor];
}

static int is_const(ox_nctx *c, int i) {
    pp_tensor *t = tensor_of(c, i);
    return t && t->kind == PP_TENSOR_WEIGHT;
}

static const char *in_name(ox_nctx *c, int i) { return i < c->n->n_in ? c->n->in[i] : ""; }

/* A data input's tensor id; -1 when absent. A batch-dependent shape value cannot
 * be data (the engine computes no shapes at run time). */
static int data_in(ox_nctx *c, int i) {
    if (!has_in(c, i)) return -1;
    ox_value *v = c->in[i];
    if (v->kind == OX_SYM) {
        char b[128];
        fail(c, PP_ERR_UNSUPPORTED,
             "input %d ('%s') is the batch-dependent shape value %s, used as data; only shape parameters (Reshape "
             "shape, Expand shape, ...) may depend on the batch",
             i, in_name(c, i), pp_sym_str(&v->sym, b, sizeof b));
        return -1;
    }
    return v->tensor;
}

static int need_in(ox_nctx *c, int i, const char *role) {
    if (!has_in(c, i)) {
        fail(c, PP_ERR_FORMAT, "input %d (%s) is required but absent", i, role);
        return -1;
    }
    return data_in(c, i);
}

static float half_to_f32(uint16_t h, int bf16) {
    union {
        uint32_t u;
        float f;
    } v;
    if (bf16) {
        v.u = (uint32_t)h << 16;
        return v.f;
    }
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    if (exp == 0) {
        float f = ldexpf((float)man, -24);
        return sign ? -f : f;
    }
    if (exp == 31) v.u = sign | 0x7F800000u | (man << 13);
    else v.u = sign | ((exp + 112) << 23) | (man << 13);
    return v.f;
}

/* Elements of t (every extent known) into *n: 0, or -1 with the error set when
 * an extent is a batch multiple or they pass PP_MAX_TENSOR_BYTES. Extents come
 * from the model, so the product is checked. */
static int elements(ox_nctx *c, const pp_tensor *t, const char *what, size_t *n) {
    int64_t e;
    if (pp_numel_i64(t->dims, t->rank, &e) || e > PP_MAX_TENSOR_BYTES) {
        char b[160];
        fail(c, PP_ERR_SHAPE, "%s: shape %s has a batch-dependent extent or too many elements", what,
             pp_tensor_shape_str(t, b, sizeof b));
        return -1;
    }
    *n = (size_t)e;
    return 0;
}

/* A constant input's values as doubles (numeric dtypes). */
static pp_code const_values(ox_nctx *c, int i, const char *role, double **vals, size_t *n) {
    pp_tensor *t = tensor_of(c, i);
    size_t numel;
    if (elements(c, t, role, &numel)) return c->rc;
    double *v = ox_alloc(c->x, sizeof(double) * (numel ? numel : 1));
    if (!v) return keep(c, PP_ERR_NOMEM);
    const unsigned char *p = t->data;
    for (size_t k = 0; k < numel; k++) {
        switch (t->dtype) {
        case PP_DTYPE_F32: {
            float f;
            memcpy(&f, p + 4 * k, 4);
            v[k] = f;
            break;
        }
        case PP_DTYPE_F64: memcpy(&v[k], p + 8 * k, 8); break;
        case PP_DTYPE_I64: {
            int64_t x;
            memcpy(&x, p + 8 * k, 8);
            v[k] = (double)x;
            break;
        }
        case PP_DTYPE_I32: {
            int32_t x;
            memcpy(&x, p + 4 * k, 4);
            v[k] = x;
            break;
        }
        case PP_DTYPE_F16:
        case PP_DTYPE_BF16: {
            uint16_t h;
            memcpy(&h, p + 2 * k, 2);
            v[k] = half_to_f32(h, t->dtype == PP_DTYPE_BF16);
            break;
        }
        case PP_DTYPE_I8: v[k] = (int8_t)p[k]; break;
        case PP_DTYPE_U8:
        case PP_DTYPE_BOOL: v[k] = p[k]; break;
        default: return fail(c, PP_ERR_UNSUPPORTED, "input %d (%s): dtype %s", i, role, pp_dtype_name(t->dtype));
        }
    }
    *vals = v;
    *n = numel;
    return PP_OK;
}

/* Names, for a caller that can bind it (pp_onnx_options.needs_const), a graph
 * input that the run-time tensor t is computed from. */
static void note_needs_const(ox_nctx *c, int t) {
    const pp_onnx_options *o = c->x->opt;
    if (!o || !o->needs_const || !o->needs_const_size) return;
    const pp_graph *g = c->x->g;
    int stack[64], sp = 0, steps = 0;
    stack[sp++] = t;
    while (sp > 0 && steps++ < 10000) { /* no visited set: bound the walk instead */
        int u = stack[--sp];
        const pp_tensor *x = &g->tensors[u];
        if (x->kind == PP_TENSOR_INPUT) {
            snprintf(o->needs_const, o->needs_const_size, "%s", x->name);
            return;
        }
        if (x->producer < 0) continue;
        const pp_node *n = &g->nodes[x->producer];
        for (int j = 0; j < n->n_in && sp < 64; j++)
            if (n->in[j] >= 0) stack[sp++] = n->in[j];
    }
}

/* Checks that parameter input i is present-and-constant. Returns 1 when it is,
 * 0 when absent, -1 (error set) when it is computed at run time. */
static int param_check(ox_nctx *c, int i, const char *role) {
    if (!has_in(c, i)) return 0;
    ox_value *v = c->in[i];
    if (v->kind == OX_SYM) {
        char b[128];
        fail(c, PP_ERR_UNSUPPORTED,
             "input %d (%s, '%s') depends on the batch size (%s); it must be the same at every batch size", i, role,
             in_name(c, i), pp_sym_str(&v->sym, b, sizeof b));
        return -1;
    }
    if (!is_const(c, i)) {
        note_needs_const(c, v->tensor);
        fail(c, PP_ERR_UNSUPPORTED,
             "input %d (%s, '%s') is computed at run time; it must be constant (or foldable, or bound with --const)", i,
             role, in_name(c, i));
        return -1;
    }
    return 1;
}

/* An integer parameter input (i64 or i32) as int64s in the import arena. */
static int param_ints(ox_nctx *c, int i, const char *role, int64_t **vals, size_t *n) {
    *vals = NULL;
    *n = 0;
    int r = param_check(c, i, role);
    if (r <= 0) return r;
    pp_tensor *t = tensor_of(c, i);
    if (t->dtype != PP_DTYPE_I64 && t->dtype != PP_DTYPE_I32) {
        fail(c, PP_ERR_FORMAT, "input %d (%s): dtype %s, expected int64", i, role, pp_dtype_name(t->dtype));
        return -1;
    }
    size_t numel;
    if (elements(c, t, role, &numel)) return -1;
    int64_t *v = ox_alloc(c->x, sizeof(int64_t) * (numel ? numel : 1));
    if (!v) {
        keep(c, PP_ERR_NOMEM);
        return -1;
    }
    const unsigned char *p = t->data;
    for (size_t k = 0; k < numel; k++) {
        if (t->dtype == PP_DTYPE_I64) {
            memcpy(&v[k], p + 8 * k, 8);
        } else {
            int32_t x;
            memcpy(&x, p + 4 * k, 4);
            v[k] = x;
        }
    }
    *vals = v;
    *n = numel;
    return 1;
}

static int param_floats(ox_nctx *c, int i, const char *role, double **vals, size_t *n) {
    *vals = NULL;
    *n = 0;
    int r = param_check(c, i, role);
    if (r <= 0) return r;
    if (const_values(c, i, role, vals, n)) return -1;
    return 1;
}

/* A scalar (one-element) parameter. */
static int param_scalar(ox_nctx *c, int i, const char *role, double *out) {
    double *v;
    size_t n;
    int r = param_floats(c, i, role, &v, &n);
    if (r <= 0) return r;
    if (n != 1) {
        fail(c, PP_ERR_SHAPE, "input %d (%s) has %zu elements, expected one", i, role, n);
        return -1;
    }
    *out = v[0];
    return 1;
}

/* Input i as a symbolic value: a shape value, or a small constant. */
static int sym_in(ox_nctx *c, int i, pp_symval *out) {
    if (!has_in(c, i)) {
        fail(c, PP_ERR_FORMAT, "input %d is required but absent", i);
        return -1;
    }
    ox_value *v = c->in[i];
    if (v->kind == OX_SYM) {
        *out = v->sym;
        return 0;
    }
    pp_tensor *t = tensor_of(c, i);
    if (t->kind != PP_TENSOR_WEIGHT) {
        fail(c, PP_ERR_UNSUPPORTED,
             "mixes a batch-dependent shape value with the run-time tensor '%s' (input %d); shape arithmetic must "
             "fold at conversion",
             in_name(c, i), i);
        return -1;
    }
    char what[300];
    snprintf(what, sizeof what, "node '%s' (%s) input %d", c->name, c->n->op_type, i);
    if (keep(c, pp_sym_from_data(t->dtype, t->rank, t->dims, t->data, out, what, c->x->err))) return -1;
    return 0;
}

/* ---- outputs and nodes ------------------------------------------------------------ */

/* The graph tensor for ONNX output j (bound to its name), shape unknown yet. */
static int out_t(ox_nctx *c, int j) {
    if (c->rc) return -1;
    const char *name = j < c->n->n_out ? c->n->out[j] : "";
    const char *tname = *name ? name : ox_printf(c->x, "%s:out%d", c->name, j);
    if (!tname) {
        keep(c, PP_ERR_NOMEM);
        return -1;
    }
    int id = pp_graph_add_tensor(c->x->g, tname, PP_DTYPE_INVALID, PP_TENSOR_ACTIVATION, -1, NULL, c->x->err);
    if (id < 0) {
        keep(c, c->x->err->code ? c->x->err->code : PP_ERR_NOMEM);
        return -1;
    }
    if (*name && keep(c, ox_bind_tensor(c->x, name, id))) return -1;
    return id;
}

/* A helper tensor of this node (not an ONNX value). */
static int tmp_t(ox_nctx *c, const char *what) {
    if (c->rc) return -1;
    const char *tname = ox_printf(c->x, "%s/%s_%d", c->name, what, c->n_extra++);
    if (!tname) {
        keep(c, PP_ERR_NOMEM);
        return -1;
    }
    int id = pp_graph_add_tensor(c->x->g, tname, PP_DTYPE_INVALID, PP_TENSOR_ACTIVATION, -1, NULL, c->x->err);
    if (id < 0) keep(c, c->x->err->code ? c->x->err->code : PP_ERR_NOMEM);
    return id;
}

/* A constant helper weight. */
static int tmp_weight(ox_nctx *c, const char *what, pp_dtype dt, int rank, const int64_t *dims, const void *data,
                      uint64_t nbytes) {
    if (c->rc) return -1;
    const char *tname = ox_printf(c->x, "%s/%s_%d", c->name, what, c->n_extra++);
    if (!tname) {
        keep(c, PP_ERR_NOMEM);
        return -1;
    }
    int id = pp_graph_add_weight(c->x->g, tname, dt, rank, dims, data, nbytes, c->x->err);
    if (id < 0) keep(c, c->x->err->code ? c->x->err->code : PP_ERR_NOMEM);
    return id;
}

static int emit(ox_nctx *c, pp_op op, int n_in, const int *in, int n_out, const int *out) {
    if (c->rc) return -1;
    for (int i = 0; i < n_out; i++)
        if (out[i] < 0) return -1;
    int id = pp_graph_add_node(c->x->g, op, c->name, n_in, in, n_out, out, c->x->err);
    if (id < 0) keep(c, c->x->err->code ? c->x->err->code : PP_ERR_NOMEM);
    return id;
}

static void seti(ox_nctx *c, int node, const char *name, int64_t v) {
    if (!c->rc && node >= 0) keep(c, pp_node_set_int(c->x->g, node, name, v, c->x->err));
}
static void setf(ox_nctx *c, int node, const char *name, double v) {
    if (!c->rc && node >= 0) keep(c, pp_node_set_float(c->x->g, node, name, v, c->x->err));
}
static void sets(ox_nctx *c, int node, const char *name, const char *v) {
    if (!c->rc && node >= 0) keep(c, pp_node_set_string(c->x->g, node, name, v, c->x->err));
}
static void setis(ox_nctx *c, int node, const char *name, const int64_t *v, size_t n) {
    if (c->rc || node < 0) return;
    if (n > UINT32_MAX) {
        fail(c, PP_ERR_UNSUPPORTED, "attribute %s has too many values", name);
        return;
    }
    keep(c, pp_node_set_ints(c->x->g, node, name, v, (uint32_t)n, c->x->err));
}
static void setfs(ox_nctx *c, int node, const char *name, const double *v, size_t n) {
    if (c->rc || node < 0) return;
    if (n > UINT32_MAX) {
        fail(c, PP_ERR_UNSUPPORTED, "attribute %s has too many values", name);
        return;
    }
    keep(c, pp_node_set_floats(c->x->g, node, name, v, (uint32_t)n, c->x->err));
}

/* Copies an ONNX attribute, when present, under the same name. */
static void copy_ints(ox_nctx *c, int node, const char *name) {
    size_t n;
    const int64_t *v = attr_ints(c, name, &n);
    if (v) setis(c, node, name, v, n);
}

/* Refuses a node whose extra outputs (index >= keep_n) something reads. */
static void only_outputs(ox_nctx *c, int keep_n) {
    for (int j = keep_n; j < c->n->n_out; j++)
        if (*c->n->out[j] && ox_is_consumed(c->x, c->n->out[j]))
            fail(c, PP_ERR_UNSUPPORTED, "output %d ('%s') is used, but only the first %d output%s supported", j,
                 c->n->out[j], keep_n, keep_n > 1 ? "s are" : " is");
}

/* The shape of a tensor produced so far (all earlier nodes are finished). */
static const pp_tensor *shape_of(ox_nctx *c, int id) {
    if (id < 0) return NULL;
    if (keep(c, ox_finish_pending(c->x))) return NULL;
    const pp_tensor *t = &c->x->g->tensors[id];
    if (t->rank < 0) {
        fail(c, PP_ERR_INTERNAL, "tensor '%s' has no shape", t->name);
        return NULL;
    }
    return t;
}

/* ---- element-wise ---------------------------------------------------------------- */

static pp_code op_unary(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "X");
    int y = out_t(c, 0);
    int nd = emit(c, op, 1, &x, 1, &y);
    switch (op) {
    case PP_OP_LEAKY_RELU: setf(c, nd, "alpha", attr_f(c, "alpha", 0.01)); break;
    case PP_OP_ELU: setf(c, nd, "alpha", attr_f(c, "alpha", 1.0)); break;
    case PP_OP_HARDSIGMOID:
        setf(c, nd, "alpha", attr_f(c, "alpha", 0.2));
        setf(c, nd, "beta", attr_f(c, "beta", 0.5));
        break;
    case PP_OP_SELU:
        setf(c, nd, "alpha", attr_f(c, "alpha", 1.67326319217681884765625));
        setf(c, nd, "gamma", attr_f(c, "gamma", 1.05070102214813232421875));
        break;
    default: break;
    }
    return c->rc;
}

static pp_code op_gelu(ox_nctx *c, pp_op op) {
    const char *a = attr_s(c, "approximate", "none");
    if (strcmp(a, "none") == 0) return op_unary(c, PP_OP_GELU);
    if (strcmp(a, "tanh") == 0) return op_unary(c, PP_OP_GELU_TANH);
    return fail(c, PP_ERR_UNSUPPORTED, "approximate='%s' (expected none or tanh)", a);
}

static pp_code op_clip(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "input");
    int y = out_t(c, 0);
    double lo = -INFINITY, hi = INFINITY;
    int has_lo = 0, has_hi = 0;
    if (opset(c) < 11) {
        has_lo = attr(c, "min") != NULL;
        has_hi = attr(c, "max") != NULL;
        lo = attr_f(c, "min", lo);
        hi = attr_f(c, "max", hi);
    } else {
        has_lo = param_scalar(c, 1, "min", &lo) > 0;
        has_hi = param_scalar(c, 2, "max", &hi) > 0;
    }
    int nd = emit(c, PP_OP_CLIP, 1, &x, 1, &y);
    if (has_lo) setf(c, nd, "min", lo);
    if (has_hi) setf(c, nd, "max", hi);
    return c->rc;
}

static pp_code op_binary(ox_nctx *c, pp_op op) {
    int in[2] = {need_in(c, 0, "A"), need_in(c, 1, "B")};
    if (c->rc) return c->rc;
    if (opset(c) < 7 && attr_i(c, "broadcast", 0) && attr(c, "axis")) {
        /* Before opset 7, B's axes line up with A's from `axis` on; NumPy
         * broadcasting lines them up from the right: pad B with trailing 1s. */
        const pp_tensor *ta = shape_of(c, in[0]), *tb = shape_of(c, in[1]);
        if (!ta || !tb) return c->rc;
        int64_t axis = attr_i(c, "axis", 0);
        if (axis < 0) axis += ta->rank;
        /* axis is the file's: check its range before any arithmetic with it */
        int64_t trailing = axis >= 0 && axis <= ta->rank ? ta->rank - axis - tb->rank : -1;
        if (axis < 0 || trailing < 0)
            return fail(c, PP_ERR_SHAPE, "legacy broadcast of rank %d at axis %" PRId64 " into rank %d", tb->rank,
                        attr_i(c, "axis", 0), ta->rank);
        if (trailing > 0) {
            int64_t axes[PP_MAX_RANK];
            for (int64_t k = 0; k < trailing; k++) axes[k] = tb->rank + k;
            int u = tmp_t(c, "bcast");
            int nu = emit(c, PP_OP_UNSQUEEZE, 1, &in[1], 1, &u);
            setis(c, nu, "axes", axes, (size_t)trailing);
            in[1] = u;
        }
    }
    if (op == PP_OP_PRELU && opset(c) < 7) {
        /* PRelu-6 applies a vector slope per channel (axis 1). */
        const pp_tensor *ta = shape_of(c, in[0]), *tb = shape_of(c, in[1]);
        if (!ta || !tb) return c->rc;
        if (tb->rank == 1 && ta->rank > 2 && tb->dims[0] != 1 && tb->dims[0] == ta->dims[1]) {
            int64_t axes[PP_MAX_RANK];
            for (int k = 0; k < ta->rank - 2; k++) axes[k] = 1 + k;
            int u = tmp_t(c, "slope");
            int nu = emit(c, PP_OP_UNSQUEEZE, 1, &in[1], 1, &u);
            setis(c, nu, "axes", axes, (size_t)(ta->rank - 2));
            in[1] = u;
        }
    }
    if (op == PP_OP_POW) {
        /* ONNX lets the exponent have its own type; the engine's Pow wants
         * one: convert the exponent to the base's. */
        const pp_tensor *ta = shape_of(c, in[0]), *tb = shape_of(c, in[1]);
        if (!ta || !tb) return c->rc;
        if (ta->dtype != tb->dtype) {
            int e = tmp_t(c, "exponent");
            int nc = emit(c, PP_OP_CAST, 1, &in[1], 1, &e);
            seti(c, nc, "to", ta->dtype);
            in[1] = e;
        }
    }
    int y = out_t(c, 0);
    int nd = emit(c, op, 2, in, 1, &y);
    if (op == PP_OP_MOD) seti(c, nd, "fmod", attr_i(c, "fmod", 0));
    return c->rc;
}

/* Sum / Max / Min / Mean over any number of inputs: a chain of binary nodes. */
static pp_code op_nary(ox_nctx *c, pp_op op) {
    int n = c->n_in;
    if (n < 1) return fail(c, PP_ERR_FORMAT, "no inputs");
    int mean = strcmp(c->n->op_type, "Mean") == 0;
    int acc = need_in(c, 0, "data_0");
    if (n == 1 && !mean) {
        int y = out_t(c, 0);
        emit(c, PP_OP_IDENTITY, 1, &acc, 1, &y);
        return c->rc;
    }
    for (int i = 1; i < n; i++) {
        int in[2] = {acc, need_in(c, i, "data")};
        int y = (i == n - 1 && !mean) ? out_t(c, 0) : tmp_t(c, "acc");
        emit(c, op, 2, in, 1, &y);
        acc = y;
    }
    if (mean) {
        const pp_tensor *t = shape_of(c, acc);
        if (!t) return c->rc;
        if (t->dtype != PP_DTYPE_F32) return fail(c, PP_ERR_UNSUPPORTED, "Mean of %s", pp_dtype_name(t->dtype));
        float inv = (float)n;
        int w = tmp_weight(c, "count", PP_DTYPE_F32, 0, NULL, &inv, sizeof inv);
        int in[2] = {acc, w};
        int y = out_t(c, 0);
        emit(c, PP_OP_DIV, 2, in, 1, &y);
    }
    return c->rc;
}

static pp_code op_where(ox_nctx *c, pp_op op) {
    int in[3] = {need_in(c, 0, "condition"), need_in(c, 1, "X"), need_in(c, 2, "Y")};
    int y = out_t(c, 0);
    emit(c, PP_OP_WHERE, 3, in, 1, &y);
    return c->rc;
}

static pp_code op_cast(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "input");
    pp_dtype to;
    if (strcmp(c->n->op_type, "CastLike") == 0) {
        const pp_tensor *t = has_in(c, 1) && c->in[1]->kind == OX_TENSOR ? shape_of(c, c->in[1]->tensor) : NULL;
        if (!t) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "input 1 (target_type) is required");
        to = t->dtype;
    } else {
        int64_t code = -1;
        if (opset(c) < 6) {
            /* Cast-1 names the type in a string ("FLOAT"). */
            const char *name = attr_s(c, "to", "");
            for (int64_t k = 0; k < 27 && code < 0; k++)
                if (!strcmp(pp_onnx_dtype_name(k), name)) code = k;
            if (code < 0) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "attribute 'to' is '%s', not a type", name);
        } else {
            const ox_attr *a = attr_of(c, "to", OX_ATTR_INT, "INT");
            if (!a) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "attribute 'to' is required");
            code = a->i;
        }
        to = pp_onnx_dtype(code);
        if (to == PP_DTYPE_INVALID)
            return fail(c, PP_ERR_UNSUPPORTED, "cast to %s is not supported", pp_onnx_dtype_name(code));
    }
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_CAST, 1, &x, 1, &y);
    seti(c, nd, "to", (int64_t)to);
    return c->rc;
}

/* ---- compute ---------------------------------------------------------------------- */

static pp_code op_conv(ox_nctx *c, pp_op op) {
    int in[3] = {need_in(c, 0, "X"), need_in(c, 1, "W"), data_in(c, 2)};
    const pp_tensor *xt = shape_of(c, in[0]);
    if (xt && (xt->rank < 3 || xt->rank > 4))
        return fail(c, PP_ERR_UNSUPPORTED, "%d-D convolution (input rank %d): only 1-D and 2-D are supported",
                    xt->rank - 2, xt->rank);
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_CONV, has_in(c, 2) ? 3 : 2, in, 1, &y);
    const char *ap = attr_s(c, "auto_pad", "NOTSET");
    sets(c, nd, "auto_pad", ap);
    copy_ints(c, nd, "kernel_shape");
    copy_ints(c, nd, "strides");
    copy_ints(c, nd, "pads");
    copy_ints(c, nd, "dilations");
    seti(c, nd, "group", attr_i(c, "group", 1));
    return c->rc;
}

static pp_code op_gemm(ox_nctx *c, pp_op op) {
    int in[3] = {need_in(c, 0, "A"), need_in(c, 1, "B"), data_in(c, 2)};
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_GEMM, has_in(c, 2) ? 3 : 2, in, 1, &y);
    setf(c, nd, "alpha", attr_f(c, "alpha", 1.0));
    setf(c, nd, "beta", attr_f(c, "beta", 1.0));
    seti(c, nd, "transA", attr_i(c, "transA", 0));
    seti(c, nd, "transB", attr_i(c, "transB", 0));
    return c->rc;
}

static pp_code op_matmul(ox_nctx *c, pp_op op) {
    int in[2] = {need_in(c, 0, "A"), need_in(c, 1, "B")};
    int y = out_t(c, 0);
    emit(c, PP_OP_MATMUL, 2, in, 1, &y);
    return c->rc;
}

static pp_code op_batchnorm(ox_nctx *c, pp_op op) {
    if (attr_i(c, "training_mode", 0))
        return fail(c, PP_ERR_UNSUPPORTED, "training_mode=1 (batch statistics) is not supported; export in eval mode");
    if (opset(c) < 9 && attr_i(c, "spatial", 1) == 0)
        return fail(c, PP_ERR_UNSUPPORTED, "spatial=0 (per-activation statistics) is not supported");
    only_outputs(c, 1);
    int in[5] = {need_in(c, 0, "X"), need_in(c, 1, "scale"), need_in(c, 2, "B"), need_in(c, 3, "input_mean"),
                 need_in(c, 4, "input_var")};
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_BATCHNORM, 5, in, 1, &y);
    setf(c, nd, "epsilon", attr_f(c, "epsilon", 1e-5));
    return c->rc;
}

static pp_code op_pool(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "X");
    const pp_tensor *xt = shape_of(c, x);
    if (xt && (xt->rank < 3 || xt->rank > 4))
        return fail(c, PP_ERR_UNSUPPORTED, "%d-D pooling (input rank %d): only 1-D and 2-D are supported", xt->rank - 2,
                    xt->rank);
    if (op == PP_OP_MAXPOOL) {
        only_outputs(c, 1);
        if (attr_i(c, "storage_order", 0)) return fail(c, PP_ERR_UNSUPPORTED, "storage_order=1");
    }
    int y = out_t(c, 0);
    int nd = emit(c, op, 1, &x, 1, &y);
    if (op == PP_OP_MAXPOOL || op == PP_OP_AVGPOOL) {
        sets(c, nd, "auto_pad", attr_s(c, "auto_pad", "NOTSET"));
        copy_ints(c, nd, "kernel_shape");
        copy_ints(c, nd, "strides");
        copy_ints(c, nd, "pads");
        copy_ints(c, nd, "dilations");
        seti(c, nd, "ceil_mode", attr_i(c, "ceil_mode", 0));
        if (op == PP_OP_AVGPOOL) seti(c, nd, "count_include_pad", attr_i(c, "count_include_pad", 0));
    }
    return c->rc;
}

static pp_code op_softmax(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "input");
    if (opset(c) >= 13) {
        int y = out_t(c, 0);
        int nd = emit(c, op, 1, &x, 1, &y);
        seti(c, nd, "axis", attr_i(c, "axis", -1));
        return c->rc;
    }
    /* Before opset 13 the input is flattened to 2-D at `axis` (default 1) and
     * normalised over the whole second half. */
    const pp_tensor *t = shape_of(c, x);
    if (!t) return c->rc;
    int r = t->rank;
    int64_t axis = attr_i(c, "axis", 1);
    if (axis < -r || axis > r || (r == 0)) return fail(c, PP_ERR_SHAPE, "axis %" PRId64 " for rank %d", axis, r);
    if (axis < 0) axis += r;
    if (axis == r - 1 || axis == r) {
        int y = out_t(c, 0);
        int nd = emit(c, op, 1, &x, 1, &y);
        seti(c, nd, "axis", axis == r ? -1 : axis);
        return c->rc;
    }
    int64_t shape[PP_MAX_RANK];
    int nbatch = 0;
    for (int d = 0; d < r; d++) {
        if (t->dims[d] < 0) {
            shape[d] = -1;
            nbatch++;
        } else if (t->dims[d] == 0) {
            return fail(c, PP_ERR_UNSUPPORTED, "softmax of an empty tensor");
        } else {
            shape[d] = t->dims[d];
        }
    }
    if (nbatch > 1) return fail(c, PP_ERR_UNSUPPORTED, "flattening softmax over a tensor with two batch axes");
    int f = tmp_t(c, "flat");
    int nf = emit(c, PP_OP_FLATTEN, 1, &x, 1, &f);
    seti(c, nf, "axis", axis);
    int s = tmp_t(c, "softmax");
    int ns = emit(c, op, 1, &f, 1, &s);
    seti(c, ns, "axis", 1);
    int y = out_t(c, 0);
    int nr = emit(c, PP_OP_RESHAPE, 1, &s, 1, &y);
    setis(c, nr, "shape", shape, (size_t)r);
    return c->rc;
}

static pp_code op_layernorm(ox_nctx *c, pp_op op) {
    only_outputs(c, 3);
    int in[3] = {need_in(c, 0, "X"), need_in(c, 1, "Scale"), data_in(c, 2)};
    int64_t axis = attr_i(c, "axis", -1);
    double eps = attr_f(c, "epsilon", 1e-5);
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_LAYERNORM, has_in(c, 2) ? 3 : 2, in, 1, &y);
    seti(c, nd, "axis", axis);
    setf(c, nd, "epsilon", eps);
    int want_mean = c->n->n_out > 1 && *c->n->out[1] && ox_is_consumed(c->x, c->n->out[1]);
    int want_inv = c->n->n_out > 2 && *c->n->out[2] && ox_is_consumed(c->x, c->n->out[2]);
    if (c->rc || (!want_mean && !want_inv)) return c->rc;
    /* The statistics outputs (training graphs, tests): computed beside the
     * fused op, Mean = mean(X), InvStdDev = 1 / sqrt(mean((X - Mean)^2) + eps),
     * over axes [axis, rank). */
    const pp_tensor *t = shape_of(c, in[0]);
    if (!t) return c->rc;
    if (t->dtype != PP_DTYPE_F32)
        return fail(c, PP_ERR_UNSUPPORTED, "statistics outputs of %s", pp_dtype_name(t->dtype));
    if (axis < 0) axis += t->rank;
    if (axis < 0 || axis >= t->rank) return fail(c, PP_ERR_SHAPE, "axis %" PRId64 " for rank %d", axis, t->rank);
    int64_t axes[PP_MAX_RANK];
    size_t na = 0;
    for (int64_t a = axis; a < t->rank; a++) axes[na++] = a;
    int mean = want_mean ? out_t(c, 1) : tmp_t(c, "mean");
    int nm = emit(c, PP_OP_REDUCE_MEAN, 1, &in[0], 1, &mean);
    setis(c, nm, "axes", axes, na);
    seti(c, nm, "keepdims", 1);
    if (!want_inv) return c->rc;
    int d = tmp_t(c, "centered"), d2 = tmp_t(c, "squared"), var = tmp_t(c, "var"), ve = tmp_t(c, "var_eps"),
        sd = tmp_t(c, "std");
    emit(c, PP_OP_SUB, 2, (int[]){in[0], mean}, 1, &d);
    emit(c, PP_OP_MUL, 2, (int[]){d, d}, 1, &d2);
    int nv = emit(c, PP_OP_REDUCE_MEAN, 1, &d2, 1, &var);
    setis(c, nv, "axes", axes, na);
    seti(c, nv, "keepdims", 1);
    float e32 = (float)eps;
    int ew = tmp_weight(c, "epsilon", PP_DTYPE_F32, 0, NULL, &e32, sizeof e32);
    emit(c, PP_OP_ADD, 2, (int[]){var, ew}, 1, &ve);
    emit(c, PP_OP_SQRT, 1, &ve, 1, &sd);
    int inv = out_t(c, 2);
    emit(c, PP_OP_RECIPROCAL, 1, &sd, 1, &inv);
    return c->rc;
}

static pp_code op_reduce(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "data");
    int axes_from_input = opset(c) >= 18 || (op == PP_OP_REDUCE_SUM && opset(c) >= 13);
    const int64_t *axes = NULL;
    size_t na = 0;
    if (axes_from_input) {
        int64_t *v;
        if (param_ints(c, 1, "axes", &v, &na) < 0) return c->rc;
        axes = v;
    } else {
        axes = attr_ints(c, "axes", &na);
    }
    int y = out_t(c, 0);
    int nd = emit(c, op, 1, &x, 1, &y);
    if (axes && na) setis(c, nd, "axes", axes, na);
    seti(c, nd, "keepdims", attr_i(c, "keepdims", 1));
    seti(c, nd, "noop_with_empty_axes", attr_i(c, "noop_with_empty_axes", 0));
    return c->rc;
}

/* ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp: the
 * engine's reductions with element-wise ops around them. LogSumExp subtracts
 * the maximum first, so large inputs do not overflow. */
static pp_code op_reduce_composite(ox_nctx *c, pp_op op) {
    const char *t = c->n->op_type;
    int x = need_in(c, 0, "data");
    const int64_t *axes = NULL;
    size_t na = 0;
    if (opset(c) >= 18) {
        int64_t *v;
        if (param_ints(c, 1, "axes", &v, &na) < 0) return c->rc;
        axes = v;
    } else {
        axes = attr_ints(c, "axes", &na);
    }
    int64_t keepdims = attr_i(c, "keepdims", 1), noop = attr_i(c, "noop_with_empty_axes", 0);
#define REDUCE(rop, src, dst, keep)                                                                                    \
    do {                                                                                                               \
        int nd_ = emit(c, rop, 1, &(src), 1, &(dst));                                                                  \
        if (axes && na) setis(c, nd_, "axes", axes, na);                                                               \
        seti(c, nd_, "keepdims", keep);                                                                                \
        seti(c, nd_, "noop_with_empty_axes", noop);                                                                    \
    } while (0)
    if (!strcmp(t, "ReduceL1")) {
        int a = tmp_t(c, "abs"), y = out_t(c, 0);
        emit(c, PP_OP_ABS, 1, &x, 1, &a);
        REDUCE(PP_OP_REDUCE_SUM, a, y, keepdims);
    } else if (!strcmp(t, "ReduceL2") || !strcmp(t, "ReduceSumSquare")) {
        int sq = tmp_t(c, "square");
        emit(c, PP_OP_MUL, 2, (int[]){x, x}, 1, &sq);
        if (!strcmp(t, "ReduceL2")) {
            int r = tmp_t(c, "sum"), y = out_t(c, 0);
            REDUCE(PP_OP_REDUCE_SUM, sq, r, keepdims);
            emit(c, PP_OP_SQRT, 1, &r, 1, &y);
        } else {
            int y = out_t(c, 0);
            REDUCE(PP_OP_REDUCE_SUM, sq, y, keepdims);
        }
    } else if (!strcmp(t, "ReduceLogSum")) {
        int r = tmp_t(c, "sum"), y = out_t(c, 0);
        REDUCE(PP_OP_REDUCE_SUM, x, r, keepdims);
        emit(c, PP_OP_LOG, 1, &r, 1, &y);
    } else { /* ReduceLogSumExp: log(sum(exp(x - max))) + max */
        int m = tmp_t(c, "max"), d = tmp_t(c, "shifted"), e = tmp_t(c, "exp"), r = tmp_t(c, "sum"), l = tmp_t(c, "log"),
            y = out_t(c, 0);
        REDUCE(PP_OP_REDUCE_MAX, x, m, 1);
        emit(c, PP_OP_SUB, 2, (int[]){x, m}, 1, &d);
        emit(c, PP_OP_EXP, 1, &d, 1, &e);
        REDUCE(PP_OP_REDUCE_SUM, e, r, keepdims);
        emit(c, PP_OP_LOG, 1, &r, 1, &l);
        int mk = m;
        if (!keepdims) {
            mk = tmp_t(c, "max");
            REDUCE(PP_OP_REDUCE_MAX, x, mk, 0);
        }
        emit(c, PP_OP_ADD, 2, (int[]){l, mk}, 1, &y);
    }
#undef REDUCE
    return c->rc;
}

static pp_code op_argmax(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "data");
    int y = out_t(c, 0);
    int nd = emit(c, op, 1, &x, 1, &y);
    seti(c, nd, "axis", attr_i(c, "axis", 0));
    seti(c, nd, "keepdims", attr_i(c, "keepdims", 1));
    seti(c, nd, "select_last_index", attr_i(c, "select_last_index", 0));
    return c->rc;
}

/* ---- data movement ------------------------------------------------------------------ */

/* Identity and Dropout (inference: the identity). The output becomes another
 * name for the input, except where it is a graph output (which keeps its name
 * through an IDENTITY node). */
static pp_code op_identity(ox_nctx *c, pp_op op) {
    if (strcmp(c->n->op_type, "Dropout") == 0) {
        if (c->n->n_out > 1 && *c->n->out[1] && ox_is_consumed(c->x, c->n->out[1])) {
            /* The mask keeps everything at inference: all true, known when the
             * shape is. */
            const pp_tensor *t = has_in(c, 0) && c->in[0]->kind == OX_TENSOR ? shape_of(c, c->in[0]->tensor) : NULL;
            if (!t) return c->rc ? c->rc : fail(c, PP_ERR_UNSUPPORTED, "the mask of a shape value");
            size_t numel;
            if (elements(c, t, "output 1 (mask)", &numel)) return c->rc;
            unsigned char *ones = ox_alloc(c->x, numel ? numel : 1);
            if (!ones) return keep(c, PP_ERR_NOMEM);
            memset(ones, 1, numel);
            int id =
                pp_graph_add_weight(c->x->g, c->n->out[1], PP_DTYPE_BOOL, t->rank, t->dims, ones, numel, c->x->err);
            if (id < 0 || keep(c, ox_bind_tensor(c->x, c->n->out[1], id))) return keep(c, c->x->err->code);
        }
        if (opset(c) >= 12 && has_in(c, 2)) {
            double tm = 0;
            if (param_scalar(c, 2, "training_mode", &tm) < 0) return c->rc;
            double ratio = 0.5;
            if (tm != 0 && has_in(c, 1) && param_scalar(c, 1, "ratio", &ratio) < 0) return c->rc;
            /* Training mode with ratio 0 drops nothing (torchvision's Swin
             * exports that): the identity still. */
            if (tm != 0 && ratio != 0) return fail(c, PP_ERR_UNSUPPORTED, "training_mode=true");
        }
    }
    if (!has_in(c, 0)) return fail(c, PP_ERR_FORMAT, "input 0 is required but absent");
    const char *out = c->n->n_out ? c->n->out[0] : "";
    if (!*out) return c->rc;
    int is_graph_output = 0;
    for (int i = 0; i < c->x->n_outputs; i++)
        if (strcmp(c->x->outputs[i].name, out) == 0) is_graph_output = 1;
    ox_value *v = c->in[0];
    if (!is_graph_output) {
        if (v->kind == OX_SYM) return keep(c, ox_bind_sym(c->x, out, &v->sym));
        return keep(c, ox_bind_tensor(c->x, out, v->tensor));
    }
    int x = data_in(c, 0);
    int y = out_t(c, 0);
    emit(c, PP_OP_IDENTITY, 1, &x, 1, &y);
    return c->rc;
}

static pp_code op_flatten(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "input");
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_FLATTEN, 1, &x, 1, &y);
    seti(c, nd, "axis", attr_i(c, "axis", 1));
    return c->rc;
}

/* Checks that the IR node's output (inferred) equals the shape value the model
 * computes, element by element. */
static pp_code check_against_sym(ox_nctx *c, int y, const pp_symval *s, int allowzero) {
    const pp_tensor *t = shape_of(c, y);
    if (!t) return c->rc;
    int ok = t->rank == s->n;
    for (int d = 0; ok && d < t->rank; d++) {
        if (s->k[d]) ok = s->c[d] == 0 && t->dims[d] == -s->k[d];
        else if (s->c[d] == -1 || (s->c[d] == 0 && !allowzero)) ok = 1; /* inferred or copied */
        else ok = t->dims[d] == s->c[d];
    }
    if (!ok) {
        char a[128], b[128];
        return fail(c, PP_ERR_UNSUPPORTED, "the output would be %s but the model computes the shape %s",
                    pp_tensor_shape_str(t, a, sizeof a), pp_sym_str(s, b, sizeof b));
    }
    return PP_OK;
}

static pp_code op_reshape(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "data");
    int64_t allowzero = attr_i(c, "allowzero", 0);
    if (has_in(c, 1) && c->in[1]->kind == OX_SYM) {
        /* A batch-dependent target shape: an element equal to the input's extent
         * on the same axis copies it (0); one other batch-dependent element is
         * inferred (-1); everything else is constant. */
        const pp_symval s = c->in[1]->sym;
        const pp_tensor *t = shape_of(c, x);
        if (!t) return c->rc;
        if (s.rank != 1) return fail(c, PP_ERR_SHAPE, "shape input of rank %d", s.rank);
        int64_t shape[PP_SYM_MAX];
        int infer = -1;
        for (int d = 0; d < s.n; d++)
            if (s.k[d] == 0 && s.c[d] == -1) infer = d;
        for (int d = 0; d < s.n; d++) {
            if (s.k[d] == 0) {
                shape[d] = s.c[d];
                continue;
            }
            if (!allowzero && d < t->rank && s.c[d] == 0 && t->dims[d] == -s.k[d]) {
                shape[d] = 0;
                continue;
            }
            if (infer >= 0) {
                char b[128];
                return fail(c, PP_ERR_UNSUPPORTED,
                            "target shape %s has more than one element that depends on the batch and is not the "
                            "input's extent on the same axis",
                            pp_sym_str(&s, b, sizeof b));
            }
            infer = d;
            shape[d] = -1;
        }
        int y = out_t(c, 0);
        int nd = emit(c, PP_OP_RESHAPE, 1, &x, 1, &y);
        setis(c, nd, "shape", shape, (size_t)s.n);
        seti(c, nd, "allowzero", allowzero);
        if (c->rc) return c->rc;
        return check_against_sym(c, y, &s, (int)allowzero);
    }
    int64_t *shape;
    size_t n;
    int r;
    if (opset(c) < 5) {
        /* Reshape-1 takes the shape as an attribute. */
        shape = (int64_t *)attr_ints(c, "shape", &n);
        r = shape ? 1 : 0;
    } else {
        r = param_ints(c, 1, "shape", &shape, &n);
    }
    if (r < 0) return c->rc;
    if (r == 0) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "input 1 (shape) is required but absent");
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_RESHAPE, 1, &x, 1, &y);
    setis(c, nd, "shape", shape, n);
    seti(c, nd, "allowzero", allowzero);
    return c->rc;
}

static pp_code op_transpose(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "data");
    size_t n;
    const int64_t *perm = attr_ints(c, "perm", &n);
    int64_t def[PP_MAX_RANK];
    if (!perm) {
        const pp_tensor *t = shape_of(c, x);
        if (!t) return c->rc;
        for (int d = 0; d < t->rank; d++) def[d] = t->rank - 1 - d;
        perm = def;
        n = (size_t)t->rank;
    }
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_TRANSPOSE, 1, &x, 1, &y);
    setis(c, nd, "perm", perm, n);
    return c->rc;
}

static pp_code op_concat(ox_nctx *c, pp_op op) {
    int in[PP_MAX_IO];
    int n = 0;
    for (int i = 0; i < c->n_in; i++)
        if (has_in(c, i)) in[n++] = data_in(c, i);
    if (!n) return fail(c, PP_ERR_FORMAT, "no inputs");
    const ox_attr *a = attr_of(c, "axis", OX_ATTR_INT, "INT");
    if (!a && (c->rc || opset(c) >= 4)) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "attribute axis is required");
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_CONCAT, n, in, 1, &y);
    seti(c, nd, "axis", a ? a->i : 1); /* Concat-1 defaults to axis 1 */
    return c->rc;
}

static pp_code op_split(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "input");
    const int64_t *split = NULL;
    size_t ns = 0;
    if (opset(c) >= 13) {
        int64_t *v;
        if (param_ints(c, 1, "split", &v, &ns) < 0) return c->rc;
        split = v;
    } else {
        split = attr_ints(c, "split", &ns);
    }
    int n_out = c->n->n_out;
    if (n_out < 1) return fail(c, PP_ERR_FORMAT, "no outputs");
    if (split && ns && ns != (size_t)n_out)
        return fail(c, PP_ERR_SHAPE, "split has %zu values for %d outputs", ns, n_out);
    int outs[PP_MAX_IO];
    for (int j = 0; j < n_out; j++) outs[j] = out_t(c, j);
    int nd = emit(c, PP_OP_SPLIT, 1, &x, n_out, outs);
    seti(c, nd, "axis", attr_i(c, "axis", 0));
    if (split && ns) setis(c, nd, "split", split, ns);
    else seti(c, nd, "num_outputs", attr_i(c, "num_outputs", n_out));
    return c->rc;
}

static pp_code op_slice(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "data");
    int64_t *starts = NULL, *ends = NULL, *axes = NULL, *steps = NULL;
    size_t ns = 0, ne = 0, na = 0, nst = 0;
    if (opset(c) < 10) {
        const int64_t *a;
        a = attr_ints(c, "starts", &ns);
        starts = (int64_t *)a;
        a = attr_ints(c, "ends", &ne);
        ends = (int64_t *)a;
        a = attr_ints(c, "axes", &na);
        axes = (int64_t *)a;
        if (!starts || !ends) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "attributes starts and ends are required");
    } else {
        const pp_tensor *t = NULL;
        /* An end that is the input's own (batch-dependent) extent on its axis
         * means "to the end". */
        if (has_in(c, 2) && c->in[2]->kind == OX_SYM) {
            const pp_symval *s = &c->in[2]->sym;
            t = shape_of(c, x);
            if (!t) return c->rc;
            int64_t *ax = NULL;
            size_t nax = 0;
            if (has_in(c, 3) && param_ints(c, 3, "axes", &ax, &nax) < 0) return c->rc;
            ends = ox_alloc(c->x, sizeof(int64_t) * (size_t)(s->n ? s->n : 1));
            if (!ends) return keep(c, PP_ERR_NOMEM);
            ne = (size_t)s->n;
            for (int i = 0; i < s->n; i++) {
                int64_t a = ax ? (i < (int)nax ? ax[i] : -999) : i;
                if (a < 0) a += t->rank;
                if (s->k[i] == 0) ends[i] = s->c[i];
                else if (s->c[i] == 0 && a >= 0 && a < t->rank && t->dims[a] == -s->k[i]) ends[i] = INT64_MAX;
                else {
                    char b[128];
                    return fail(c, PP_ERR_UNSUPPORTED, "input 2 (ends) depends on the batch size (%s)",
                                pp_sym_str(s, b, sizeof b));
                }
            }
        } else if (param_ints(c, 2, "ends", &ends, &ne) <= 0) {
            return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "input 2 (ends) is required");
        }
        if (param_ints(c, 1, "starts", &starts, &ns) <= 0)
            return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "input 1 (starts) is required");
        if (param_ints(c, 3, "axes", &axes, &na) < 0) return c->rc;
        if (param_ints(c, 4, "steps", &steps, &nst) < 0) return c->rc;
    }
    if (ns != ne || (axes && na != ns) || (steps && nst != ns))
        return fail(c, PP_ERR_SHAPE, "starts, ends, axes and steps have %zu, %zu, %zu and %zu values", ns, ne,
                    axes ? na : ns, steps ? nst : ns);
    int64_t *def_axes = ox_alloc(c->x, sizeof(int64_t) * (ns + 1)),
            *def_steps = ox_alloc(c->x, sizeof(int64_t) * (ns + 1));
    if (!def_axes || !def_steps) return keep(c, PP_ERR_NOMEM);
    for (size_t i = 0; i < ns; i++) {
        def_axes[i] = (int64_t)i;
        def_steps[i] = 1;
    }
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_SLICE, 1, &x, 1, &y);
    setis(c, nd, "starts", starts, ns);
    setis(c, nd, "ends", ends, ns);
    setis(c, nd, "axes", axes ? axes : def_axes, ns);
    setis(c, nd, "steps", steps ? steps : def_steps, ns);
    return c->rc;
}

static pp_code op_gather(ox_nctx *c, pp_op op) {
    int in[2] = {need_in(c, 0, "data"), need_in(c, 1, "indices")};
    int y = out_t(c, 0);
    int nd = emit(c, op, 2, in, 1, &y);
    seti(c, nd, "axis", attr_i(c, "axis", 0));
    return c->rc;
}

static pp_code op_squeeze(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "data");
    const int64_t *axes = NULL;
    size_t na = 0;
    if (opset(c) >= 13) {
        int64_t *v;
        if (param_ints(c, 1, "axes", &v, &na) < 0) return c->rc;
        axes = v;
    } else {
        axes = attr_ints(c, "axes", &na);
    }
    int64_t all[PP_MAX_RANK];
    if (op == PP_OP_UNSQUEEZE && !axes) return fail(c, PP_ERR_FORMAT, "axes are required");
    if (op == PP_OP_SQUEEZE && (!axes || !na)) {
        /* Every axis of extent 1; a batch axis is never one of them. */
        const pp_tensor *t = shape_of(c, x);
        if (!t) return c->rc;
        na = 0;
        for (int d = 0; d < t->rank; d++)
            if (t->dims[d] == 1) all[na++] = d;
        axes = all;
    }
    int y = out_t(c, 0);
    int nd = emit(c, op, 1, &x, 1, &y);
    setis(c, nd, "axes", axes, na);
    return c->rc;
}

/* A tensor produced so far with an axis of extent exactly k × batch: an input
 * first, else a live activation; -1 when there is none. */
static int batch_source(ox_nctx *c, int64_t k, int *axis) {
    const pp_graph *g = c->x->g;
    for (int pass = 0; pass < 2; pass++)
        for (int t = 0; t < g->n_tensors; t++) {
            const pp_tensor *x = &g->tensors[t];
            if (x->kind != (pass ? PP_TENSOR_ACTIVATION : PP_TENSOR_INPUT) || x->rank <= 0) continue;
            if (pass && (x->producer < 0 || g->nodes[x->producer].dead)) continue;
            for (int a = 0; a < x->rank; a++)
                if (x->dims[a] == -k) {
                    *axis = a;
                    return t;
                }
        }
    return -1;
}

/* Broadcasts x (extent 1 on every batch-dependent element of the shape value s,
 * aligned to the right) up to s. The engine's ops take shapes as constants, so
 * the batch extent is borrowed from a tensor that has it: a condition of shape
 * (1, .., k×N, .., 1) is sliced out of that tensor, and Where(cond, x, x) is x
 * broadcast to it; no arithmetic touches x's values. Binds ONNX output 0 to the
 * result. */
static pp_code broadcast_to_batch(ox_nctx *c, int x, const pp_symval *s) {
    int r = s->n, last = -1;
    for (int d = 0; d < r; d++)
        if (s->k[d]) last = d;
    for (int d = 0; d < r && !c->rc; d++) {
        if (!s->k[d]) continue;
        char b[128];
        if (s->c[d] != 0 || s->k[d] < 0)
            return fail(c, PP_ERR_UNSUPPORTED, "the target shape %s has an extent that is not a multiple of the batch",
                        pp_sym_str(s, b, sizeof b));
        int a;
        int src = batch_source(c, s->k[d], &a);
        if (src < 0)
            return fail(c, PP_ERR_UNSUPPORTED,
                        "the target shape %s needs an extent of %" PRId64 "N, which no tensor computed so far has",
                        pp_sym_str(s, b, sizeof b), s->k[d]);
        const pp_tensor *st = &c->x->g->tensors[src];
        int cur = src;
        if (st->rank > 1) {
            int64_t starts[PP_MAX_RANK], ends[PP_MAX_RANK], axes[PP_MAX_RANK], steps[PP_MAX_RANK];
            size_t n = 0;
            for (int i = 0; i < st->rank; i++) {
                if (i == a) continue;
                starts[n] = 0;
                ends[n] = 1;
                axes[n] = i;
                steps[n] = 1;
                n++;
            }
            int sl = tmp_t(c, "batch_slice");
            int ns = emit(c, PP_OP_SLICE, 1, &cur, 1, &sl);
            setis(c, ns, "starts", starts, n);
            setis(c, ns, "ends", ends, n);
            setis(c, ns, "axes", axes, n);
            setis(c, ns, "steps", steps, n);
            cur = sl;
        }
        int64_t shape[PP_SYM_MAX];
        for (int i = 0; i < r; i++) shape[i] = i == d ? -1 : 1;
        int rs = tmp_t(c, "batch_shape");
        int nr = emit(c, PP_OP_RESHAPE, 1, &cur, 1, &rs);
        setis(c, nr, "shape", shape, (size_t)r);
        int cond = tmp_t(c, "batch_cond");
        int nc = emit(c, PP_OP_CAST, 1, &rs, 1, &cond);
        seti(c, nc, "to", PP_DTYPE_BOOL);
        int y = d == last ? out_t(c, 0) : tmp_t(c, "batch_bcast");
        emit(c, PP_OP_WHERE, 3, (int[]){cond, x, x}, 1, &y);
        x = y;
    }
    return c->rc;
}

static pp_code op_expand(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "input");
    if (has_in(c, 1) && c->in[1]->kind == OX_SYM) {
        /* A batch-dependent target. Where the input already has that extent on
         * the aligned axis the target says 1 (keep it); elsewhere the input is
         * expanded with 1 there and then broadcast to the batch. */
        const pp_symval s = c->in[1]->sym;
        const pp_tensor *t = shape_of(c, x);
        if (!t) return c->rc;
        int64_t shape[PP_SYM_MAX];
        pp_symval rest = s; /* the batch elements still to broadcast */
        int need = 0;
        int off = s.n - t->rank;
        for (int d = 0; d < s.n; d++) {
            rest.k[d] = 0;
            rest.c[d] = 1;
            if (s.k[d] == 0) {
                shape[d] = s.c[d];
                continue;
            }
            int a = d - off;
            shape[d] = 1;
            if (a >= 0 && s.c[d] == 0 && t->dims[a] == -s.k[d]) continue;
            if (a >= 0 && t->dims[a] != 1) {
                char b[128], b2[128];
                return fail(c, PP_ERR_SHAPE, "cannot expand %s to %s", pp_tensor_shape_str(t, b2, sizeof b2),
                            pp_sym_str(&s, b, sizeof b));
            }
            rest.k[d] = s.k[d];
            rest.c[d] = s.c[d];
            need = 1;
        }
        int y = need ? tmp_t(c, "expand") : out_t(c, 0);
        int nd = emit(c, PP_OP_EXPAND, 1, &x, 1, &y);
        setis(c, nd, "shape", shape, (size_t)s.n);
        if (need) broadcast_to_batch(c, y, &rest);
        if (c->rc) return c->rc;
        /* Broadcasting keeps the input's larger extents: check the batch ones. */
        const ox_value *ov = ox_lookup(c->x, c->n->out[0]);
        const pp_tensor *o = ov ? shape_of(c, ov->tensor) : NULL;
        if (!o) return c->rc;
        for (int d = 0; d < s.n; d++)
            if (s.k[d] && (o->rank != s.n || o->dims[d] != -s.k[d])) {
                char b[128], b2[128];
                return fail(c, PP_ERR_UNSUPPORTED, "the output would be %s but the model computes the shape %s",
                            pp_tensor_shape_str(o, b2, sizeof b2), pp_sym_str(&s, b, sizeof b));
            }
        return PP_OK;
    }
    int64_t *shape;
    size_t n;
    int r = param_ints(c, 1, "shape", &shape, &n);
    if (r <= 0) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "input 1 (shape) is required");
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_EXPAND, 1, &x, 1, &y);
    setis(c, nd, "shape", shape, n);
    return c->rc;
}

static pp_code op_tile(ox_nctx *c, pp_op op) {
    if (opset(c) < 6) return fail(c, PP_ERR_UNSUPPORTED, "Tile before opset 6 (tiles and axis inputs)");
    int x = need_in(c, 0, "input");
    int64_t *rep;
    size_t n;
    int r = param_ints(c, 1, "repeats", &rep, &n);
    if (r <= 0) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "input 1 (repeats) is required");
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_TILE, 1, &x, 1, &y);
    setis(c, nd, "repeats", rep, n);
    return c->rc;
}

static pp_code op_pad(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "data");
    const char *mode = attr_s(c, "mode", "constant");
    const int64_t *pads = NULL;
    size_t np = 0;
    double value = 0.0;
    int64_t *axes = NULL;
    size_t na = 0;
    if (opset(c) < 11) {
        pads = attr_ints(c, "pads", &np);
        if (!pads) pads = attr_ints(c, "paddings", &np);
        value = attr_f(c, "value", 0.0);
    } else {
        int64_t *v;
        if (param_ints(c, 1, "pads", &v, &np) <= 0)
            return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "input 1 (pads) is required");
        pads = v;
        if (has_in(c, 2) && param_scalar(c, 2, "constant_value", &value) < 0) return c->rc;
        if (has_in(c, 3) && param_ints(c, 3, "axes", &axes, &na) < 0) return c->rc;
    }
    if (!pads) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "pads are required");
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_PAD, 1, &x, 1, &y);
    setis(c, nd, "pads", pads, np);
    setf(c, nd, "value", value);
    sets(c, nd, "mode", mode);
    if (axes && na) setis(c, nd, "axes", axes, na);
    return c->rc;
}

static pp_code op_resize(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "X");
    int upsample = strcmp(c->n->op_type, "Upsample") == 0;
    if (upsample && opset(c) < 7) return fail(c, PP_ERR_UNSUPPORTED, "Upsample before opset 7 (experimental form)");
    const char *mode = attr_s(c, "mode", "nearest");
    const char *coord = "half_pixel", *nearest = "round_prefer_floor";
    double *scales = NULL;
    int64_t *sizes = NULL;
    size_t nsc = 0, nsz = 0;
    if (upsample || opset(c) < 11) {
        /* Upsample and Resize-10: output(x) = input(floor(x / scale)). */
        coord = "asymmetric";
        nearest = "floor";
        if (strcmp(mode, "bilinear") == 0) mode = "linear";
        if (upsample && opset(c) < 9) {
            size_t n;
            const float *f = attr_floats(c, "scales", &n);
            if (!f) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "attribute scales is required");
            scales = ox_alloc(c->x, sizeof(double) * (n + 1));
            if (!scales) return keep(c, PP_ERR_NOMEM);
            for (size_t i = 0; i < n; i++) scales[i] = f[i];
            nsc = n;
        } else if (param_floats(c, 1, "scales", &scales, &nsc) <= 0) {
            return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "input 1 (scales) is required");
        }
    } else {
        coord = attr_s(c, "coordinate_transformation_mode", "half_pixel");
        nearest = attr_s(c, "nearest_mode", "round_prefer_floor");
        if (strcmp(coord, "tf_crop_and_resize") == 0)
            return fail(c, PP_ERR_UNSUPPORTED, "coordinate_transformation_mode tf_crop_and_resize");
        if (has_in(c, 2) && param_floats(c, 2, "scales", &scales, &nsc) < 0) return c->rc;
        if (has_in(c, 3) && param_ints(c, 3, "sizes", &sizes, &nsz) < 0) return c->rc;
        if (!nsc) scales = NULL;
        if (!nsz) sizes = NULL;
        if (!scales && !sizes) return fail(c, PP_ERR_FORMAT, "neither scales nor sizes is given");
        if (attr_i(c, "exclude_outside", 0)) return fail(c, PP_ERR_UNSUPPORTED, "exclude_outside=1");
    }
    if (strcmp(mode, "nearest") != 0 && strcmp(mode, "linear") != 0)
        return fail(c, PP_ERR_UNSUPPORTED, "mode '%s' (nearest and linear are supported)", mode);
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_RESIZE, 1, &x, 1, &y);
    sets(c, nd, "mode", mode);
    sets(c, nd, "coordinate_transformation_mode", coord);
    sets(c, nd, "nearest_mode", nearest);
    if (scales) setfs(c, nd, "scales", scales, nsc);
    if (sizes) setis(c, nd, "sizes", sizes, nsz);
    if (!upsample && opset(c) >= 18) {
        copy_ints(c, nd, "axes");
        sets(c, nd, "keep_aspect_ratio_policy", attr_s(c, "keep_aspect_ratio_policy", "stretch"));
        seti(c, nd, "antialias", attr_i(c, "antialias", 0));
    }
    return c->rc;
}

static pp_code op_trilu(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "input");
    double k = 0;
    if (has_in(c, 1) && param_scalar(c, 1, "k", &k) < 0) return c->rc;
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_TRILU, 1, &x, 1, &y);
    seti(c, nd, "k", (int64_t)k);
    seti(c, nd, "upper", attr_i(c, "upper", 1));
    return c->rc;
}

static pp_code op_constant_of_shape(ox_nctx *c, pp_op op) {
    int64_t *shape;
    size_t n;
    pp_symval batch_shape;
    int batched = 0;
    if (has_in(c, 0) && c->in[0]->kind == OX_SYM) {
        /* A batch-dependent shape: the constant with 1 on the batch axes, then
         * broadcast to the batch. */
        batch_shape = c->in[0]->sym;
        if (batch_shape.rank != 1) return fail(c, PP_ERR_SHAPE, "input 0 (shape) is a scalar");
        shape = ox_alloc(c->x, sizeof(int64_t) * (size_t)(batch_shape.n + 1));
        if (!shape) return keep(c, PP_ERR_NOMEM);
        n = (size_t)batch_shape.n;
        for (int d = 0; d < batch_shape.n; d++) shape[d] = batch_shape.k[d] ? 1 : batch_shape.c[d];
        batched = 1;
    } else {
        int r = param_ints(c, 0, "input", &shape, &n);
        if (r <= 0) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "input 0 (shape) is required");
    }
    pp_dtype dt = PP_DTYPE_F32;
    double value = 0.0;
    const ox_attr *a = attr_of(c, "value", OX_ATTR_TENSOR, "TENSOR");
    if (c->rc) return c->rc;
    if (a && a->t) {
        int w = ox_tensor_to_weight(c->x, a->t, ox_printf(c->x, "%s/value", c->name));
        if (w < 0) return keep(c, c->x->err->code);
        const pp_tensor *t = &c->x->g->tensors[w];
        size_t numel;
        if (elements(c, t, "attribute value", &numel)) return c->rc;
        if (numel != 1) return fail(c, PP_ERR_SHAPE, "attribute value has %zu elements, expected one", numel);
        dt = t->dtype;
        ox_value tmp = {"value", OX_TENSOR, w, {0}};
        ox_value *saved = c->in[0];
        int saved_n = c->n_in;
        c->in[0] = &tmp;
        c->n_in = 1;
        double *v;
        size_t nv;
        pp_code rc = const_values(c, 0, "value", &v, &nv);
        c->in[0] = saved;
        c->n_in = saved_n;
        if (rc) return rc;
        value = v[0];
    }
    int y = batched ? tmp_t(c, "constant") : out_t(c, 0);
    int nd = emit(c, PP_OP_CONSTANT_OF_SHAPE, 0, NULL, 1, &y);
    setis(c, nd, "shape", shape, n);
    setf(c, nd, "value", value);
    seti(c, nd, "dtype", dt);
    if (batched) broadcast_to_batch(c, y, &batch_shape);
    return c->rc;
}

static pp_code op_range(ox_nctx *c, pp_op op) {
    double v[3];
    int64_t iv[3];
    static const char *role[3] = {"start", "limit", "delta"};
    const pp_tensor *t = tensor_of(c, 0);
    /* Integer ranges stay integers: INT64_MAX as a double is 2^63. */
    int exact = t && (t->dtype == PP_DTYPE_I64 || t->dtype == PP_DTYPE_I32);
    for (int i = 0; i < 3; i++) {
        int64_t *ints;
        size_t n = 1;
        int r = exact ? param_ints(c, i, role[i], &ints, &n) : param_scalar(c, i, role[i], &v[i]);
        if (r < 0) return c->rc;
        if (r == 0) return fail(c, PP_ERR_FORMAT, "input %d (%s) is required", i, role[i]);
        if (n != 1) return fail(c, PP_ERR_SHAPE, "input %d (%s) has %zu elements, expected one", i, role[i], n);
        if (exact) iv[i] = ints[0];
    }
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_RANGE, 0, NULL, 1, &y);
    for (int i = 0; i < 3; i++) {
        if (exact) seti(c, nd, role[i], iv[i]);
        else setf(c, nd, role[i], v[i]);
    }
    seti(c, nd, "dtype", t ? t->dtype : PP_DTYPE_F32);
    return c->rc;
}

static pp_code op_d2s(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "input");
    const ox_attr *b = attr_of(c, "blocksize", OX_ATTR_INT, "INT");
    if (!b) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "attribute blocksize is required");
    int y = out_t(c, 0);
    int nd = emit(c, op, 1, &x, 1, &y);
    seti(c, nd, "blocksize", b->i);
    if (op == PP_OP_DEPTH_TO_SPACE) sets(c, nd, "mode", attr_s(c, "mode", "DCR"));
    return c->rc;
}

static pp_code op_cumsum(ox_nctx *c, pp_op op) {
    int x = need_in(c, 0, "x");
    double axis;
    int r = param_scalar(c, 1, "axis", &axis);
    if (r <= 0) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "input 1 (axis) is required");
    int y = out_t(c, 0);
    int nd = emit(c, PP_OP_CUMSUM, 1, &x, 1, &y);
    seti(c, nd, "axis", (int64_t)axis);
    seti(c, nd, "exclusive", attr_i(c, "exclusive", 0));
    seti(c, nd, "reverse", attr_i(c, "reverse", 0));
    return c->rc;
}

static pp_code op_constant(ox_nctx *c, pp_op op) {
    const char *out = c->n->n_out ? c->n->out[0] : "";
    if (!*out) return fail(c, PP_ERR_FORMAT, "no output");
    if (c->n->n_attrs != 1) return fail(c, PP_ERR_FORMAT, "%d attributes, expected exactly one value", c->n->n_attrs);
    const ox_attr *a = &c->n->attrs[0];
    int id = -1;
    if (strcmp(a->name, "value") == 0 && a->type == OX_ATTR_TENSOR && a->t) {
        id = ox_tensor_to_weight(c->x, a->t, out);
        if (id < 0) return keep(c, c->x->err->code);
    } else if (strcmp(a->name, "value_float") == 0 && a->type == OX_ATTR_FLOAT) {
        float f = a->f;
        id = pp_graph_add_weight(c->x->g, out, PP_DTYPE_F32, 0, NULL, &f, 4, c->x->err);
    } else if (strcmp(a->name, "value_int") == 0 && a->type == OX_ATTR_INT) {
        id = pp_graph_add_weight(c->x->g, out, PP_DTYPE_I64, 0, NULL, &a->i, 8, c->x->err);
    } else if (strcmp(a->name, "value_floats") == 0 && a->type == OX_ATTR_FLOATS) {
        int64_t d = (int64_t)a->n_floats;
        id = pp_graph_add_weight(c->x->g, out, PP_DTYPE_F32, 1, &d, a->floats ? (const void *)a->floats : "",
                                 4 * a->n_floats, c->x->err);
    } else if (strcmp(a->name, "value_ints") == 0 && a->type == OX_ATTR_INTS) {
        int64_t d = (int64_t)a->n_ints;
        id = pp_graph_add_weight(c->x->g, out, PP_DTYPE_I64, 1, &d, a->ints ? (const void *)a->ints : "", 8 * a->n_ints,
                                 c->x->err);
    } else {
        return fail(c, PP_ERR_UNSUPPORTED, "attribute %s (strings and sparse tensors are not supported)", a->name);
    }
    if (id < 0) return keep(c, c->x->err->code ? c->x->err->code : PP_ERR_NOMEM);
    return keep(c, ox_bind_tensor(c->x, out, id));
}

/* ScatterND has no IR op; models use it to build constants (Swin's shifted-
 * window attention mask: `mask[h0:h1, w0:w1] = n`). With constant inputs it is
 * evaluated here; on run-time data it is refused. */
static pp_code op_scatter_nd(ox_nctx *c, pp_op op) {
    if (strcmp(attr_s(c, "reduction", "none"), "none") != 0)
        return c->rc ? c->rc : fail(c, PP_ERR_UNSUPPORTED, "reduction '%s'", attr_s(c, "reduction", ""));
    for (int i = 0; i < 3; i++)
        if (!is_const(c, i)) {
            if (tensor_of(c, i)) note_needs_const(c, c->in[i]->tensor);
            return fail(c, PP_ERR_UNSUPPORTED,
                        "input %d ('%s') is computed at run time; ScatterND is only folded "
                        "on constants",
                        i, in_name(c, i));
        }
    const pp_tensor *d = tensor_of(c, 0), *ix = tensor_of(c, 1), *u = tensor_of(c, 2);
    if (ix->dtype != PP_DTYPE_I64 || ix->rank < 1 || u->dtype != d->dtype)
        return fail(c, PP_ERR_SHAPE, "indices must be int64 of rank >= 1 and updates of the data's dtype");
    int64_t k = ix->dims[ix->rank - 1];
    if (k < 1 || k > d->rank) return fail(c, PP_ERR_SHAPE, "index tuples of %" PRId64 " for rank %d", k, d->rank);
    /* updates = indices.shape[:-1] + data.shape[k:] */
    int ur = ix->rank - 1 + d->rank - (int)k;
    int ok = u->rank == ur;
    for (int i = 0; ok && i < ix->rank - 1; i++) ok = u->dims[i] == ix->dims[i];
    for (int i = (int)k; ok && i < d->rank; i++) ok = u->dims[ix->rank - 1 + i - (int)k] == d->dims[i];
    if (!ok) return fail(c, PP_ERR_SHAPE, "updates do not have the shape indices.shape[:-1] + data.shape[k:]");
    size_t es = pp_dtype_size(d->dtype), slice = es, n_tuples = 1;
    for (int i = (int)k; i < d->rank; i++) slice *= (size_t)d->dims[i];
    for (int i = 0; i < ix->rank - 1; i++) n_tuples *= (size_t)ix->dims[i];
    unsigned char *out = ox_alloc(c->x, (size_t)d->nbytes + 1);
    if (!out) return keep(c, PP_ERR_NOMEM);
    memcpy(out, d->data, (size_t)d->nbytes);
    for (size_t t = 0; t < n_tuples; t++) {
        size_t off = 0;
        for (int64_t j = 0; j < k; j++) {
            int64_t v;
            memcpy(&v, (const unsigned char *)ix->data + 8 * (t * (size_t)k + (size_t)j), 8);
            int64_t ext = d->dims[j];
            if (v < 0) v += ext;
            if (v < 0 || v >= ext)
                return fail(c, PP_ERR_SHAPE, "index %" PRId64 " out of range for axis %" PRId64 " (%" PRId64 ")", v, j,
                            ext);
            off = off * (size_t)ext + (size_t)v;
        }
        for (int i = (int)k; i < d->rank; i++) off *= (size_t)d->dims[i];
        memcpy(out + off * es, (const unsigned char *)u->data + t * slice, slice);
    }
    const char *name = c->n->n_out ? c->n->out[0] : "";
    if (!*name) return c->rc;
    int id = pp_graph_add_weight(c->x->g, name, d->dtype, d->rank, d->dims, out, d->nbytes, c->x->err);
    if (id < 0) return keep(c, c->x->err->code ? c->x->err->code : PP_ERR_NOMEM);
    return keep(c, ox_bind_tensor(c->x, name, id));
}

/* ---- symbolic shape values ------------------------------------------------------------- */

static pp_code bind_out_sym(ox_nctx *c, const pp_symval *v) {
    const char *out = c->n->n_out ? c->n->out[0] : "";
    if (!*out) return c->rc;
    return keep(c, ox_bind_sym(c->x, out, v));
}

static const char *what(ox_nctx *c, char *buf, size_t size) {
    snprintf(buf, size, "node '%s' (%s)", c->name, c->n->op_type);
    return buf;
}

static pp_code sym_shape(ox_nctx *c, int size_only) {
    if (!has_in(c, 0)) return fail(c, PP_ERR_FORMAT, "input 0 is required");
    if (c->in[0]->kind == OX_SYM) {
        /* The shape of a shape value: its length. */
        pp_symval v;
        memset(&v, 0, sizeof v);
        v.dtype = PP_DTYPE_I64;
        v.rank = size_only ? 0 : 1;
        v.n = 1;
        v.c[0] = c->in[0]->sym.rank ? c->in[0]->sym.n : (size_only ? 1 : 0);
        if (!size_only && c->in[0]->sym.rank == 0) v.n = 0;
        return bind_out_sym(c, &v);
    }
    const pp_tensor *t = shape_of(c, c->in[0]->tensor);
    if (!t) return c->rc;
    pp_symval v;
    pp_sym_from_dims(t->rank, t->dims, &v);
    char b[300];
    if (size_only) {
        pp_symval p;
        if (keep(c, pp_sym_reduce_prod(&v, 0, &p, what(c, b, sizeof b), c->x->err))) return c->rc;
        return bind_out_sym(c, &p);
    }
    int64_t r = t->rank, start = attr_i(c, "start", 0), end = attr_i(c, "end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = start < 0 ? 0 : (start > r ? r : start);
    end = end < 0 ? 0 : (end > r ? r : end);
    pp_symval out;
    if (keep(c, pp_sym_slice(&v, start, end, 1, &out, what(c, b, sizeof b), c->x->err))) return c->rc;
    return bind_out_sym(c, &out);
}

/* The ONNX shape ops evaluated on symbolic values. *handled = 0 when op_type is
 * not one of them (the caller then refuses the shape value as data). */
static pp_code sym_node(ox_nctx *c, int *handled) {
    const char *op = c->n->op_type;
    char wb[300];
    const char *w = what(c, wb, sizeof wb);
    pp_error *err = c->x->err;
    pp_symval a, b, r;
    *handled = 1;
    /* Ops with one data input take the symbolic path only when that input is
     * the shape value; a shape value in a parameter slot (Reshape's shape,
     * Slice's ends) is the op handler's business. */
    static const char *data_first[] = {"Reshape", "Gather", "Slice", "Unsqueeze", "Squeeze", "ReduceProd", "ReduceSum"};
    for (size_t k = 0; k < sizeof data_first / sizeof data_first[0]; k++)
        if (!strcmp(op, data_first[k]) && !(has_in(c, 0) && c->in[0]->kind == OX_SYM)) {
            *handled = 0;
            return PP_OK;
        }
    if (!strcmp(op, "Identity") || !strcmp(op, "Dropout")) {
        if (sym_in(c, 0, &a)) return c->rc;
        only_outputs(c, 1);
        return bind_out_sym(c, &a);
    }
    if (!strcmp(op, "Gather")) {
        if (sym_in(c, 0, &a) || sym_in(c, 1, &b)) return c->rc;
        int64_t axis = attr_i(c, "axis", 0);
        if (axis != 0 && axis != -1) return fail(c, PP_ERR_SHAPE, "axis %" PRId64 " of a shape value", axis);
        if (keep(c, pp_sym_gather(&a, &b, &r, w, err))) return c->rc;
        return bind_out_sym(c, &r);
    }
    if (!strcmp(op, "Slice")) {
        if (sym_in(c, 0, &a)) return c->rc;
        int64_t st = 0, en = INT64_MAX, ax = 0, stp = 1;
        if (opset(c) < 10) {
            size_t n1, n2, n3;
            const int64_t *s1 = attr_ints(c, "starts", &n1), *s2 = attr_ints(c, "ends", &n2),
                          *s3 = attr_ints(c, "axes", &n3);
            if (!s1 || !s2 || n1 != 1 || n2 != 1 || (s3 && n3 != 1))
                return fail(c, PP_ERR_UNSUPPORTED, "slicing a shape value needs one start and one end");
            st = s1[0];
            en = s2[0];
            ax = s3 ? s3[0] : 0;
        } else {
            pp_symval v[4];
            for (int i = 1; i < 5; i++) {
                if (!has_in(c, i)) continue;
                if (sym_in(c, i, &v[i - 1])) return c->rc;
                if (!pp_sym_is_const(&v[i - 1]) || v[i - 1].n != 1)
                    return fail(c, PP_ERR_UNSUPPORTED, "slicing a shape value needs constant single bounds");
                int64_t x = v[i - 1].c[0];
                if (i == 1) st = x;
                else if (i == 2) en = x;
                else if (i == 3) ax = x;
                else stp = x;
            }
        }
        if (ax != 0 && ax != -1) return fail(c, PP_ERR_SHAPE, "axis %" PRId64 " of a shape value", ax);
        if (keep(c, pp_sym_slice(&a, st, en, stp, &r, w, err))) return c->rc;
        return bind_out_sym(c, &r);
    }
    if (!strcmp(op, "Unsqueeze") || !strcmp(op, "Squeeze")) {
        if (sym_in(c, 0, &a)) return c->rc;
        int unsq = op[0] == 'U';
        int64_t *axes = NULL;
        size_t na = 0;
        if (opset(c) >= 13) {
            if (param_ints(c, 1, "axes", &axes, &na) < 0) return c->rc;
        } else {
            axes = (int64_t *)attr_ints(c, "axes", &na);
        }
        r = a;
        if (unsq) {
            if (a.rank != 0 || na != 1 || (axes[0] != 0 && axes[0] != -1))
                return fail(c, PP_ERR_UNSUPPORTED, "Unsqueeze of a shape value beyond a scalar to a vector");
            r.rank = 1;
        } else {
            if (a.rank != 1 || a.n != 1 || (na > 1) || (na == 1 && axes[0] != 0 && axes[0] != -1))
                return fail(c, PP_ERR_UNSUPPORTED, "Squeeze of a shape value other than a one-element vector");
            r.rank = 0;
        }
        return bind_out_sym(c, &r);
    }
    if (!strcmp(op, "Concat")) {
        pp_symval parts[PP_MAX_IO];
        const pp_symval *pp[PP_MAX_IO];
        int n = 0;
        for (int i = 0; i < c->n_in; i++) {
            if (!has_in(c, i)) continue;
            if (sym_in(c, i, &parts[n])) return c->rc;
            pp[n] = &parts[n];
            n++;
        }
        int64_t axis = attr_i(c, "axis", 0);
        if (axis != 0 && axis != -1) return fail(c, PP_ERR_SHAPE, "axis %" PRId64 " of a shape value", axis);
        if (keep(c, pp_sym_concat(pp, n, &r, w, err))) return c->rc;
        return bind_out_sym(c, &r);
    }
    if (!strcmp(op, "Cast")) {
        if (sym_in(c, 0, &a)) return c->rc;
        pp_dtype to = pp_onnx_dtype(attr_i(c, "to", 0));
        if (keep(c, pp_sym_cast(&a, to, &r, w, err))) return c->rc;
        return bind_out_sym(c, &r);
    }
    if (!strcmp(op, "Neg")) {
        if (sym_in(c, 0, &a)) return c->rc;
        if (keep(c, pp_sym_neg(&a, &r, w, err))) return c->rc;
        return bind_out_sym(c, &r);
    }
    static const struct {
        const char *name;
        int kind; /* 0 arith, 1 compare, 2 minmax */
        int code;
        int negate;
    } bins[] = {{"Add", 0, PP_SYM_ADD, 0},    {"Sub", 0, PP_SYM_SUB, 0}, {"Mul", 0, PP_SYM_MUL, 0},
                {"Div", 0, PP_SYM_DIV, 0},    {"Mod", 0, PP_SYM_MOD, 0}, {"Equal", 1, 0, 0},
                {"Less", 1, -1, 0},           {"Greater", 1, 1, 0},      {"LessOrEqual", 1, 1, 1},
                {"GreaterOrEqual", 1, -1, 1}, {"Max", 2, 1, 0},          {"Min", 2, 0, 0}};
    for (size_t k = 0; k < sizeof bins / sizeof bins[0]; k++) {
        if (strcmp(op, bins[k].name) != 0) continue;
        if (bins[k].kind == 2) { /* n-ary */
            if (sym_in(c, 0, &r)) return c->rc;
            for (int i = 1; i < c->n_in; i++) {
                if (sym_in(c, i, &b)) return c->rc;
                a = r;
                if (keep(c, pp_sym_minmax(bins[k].code, &a, &b, &r, w, err))) return c->rc;
            }
            return bind_out_sym(c, &r);
        }
        if (sym_in(c, 0, &a) || sym_in(c, 1, &b)) return c->rc;
        if (bins[k].kind == 0) {
            if (keep(c, pp_sym_binary((pp_sym_binop)bins[k].code, &a, &b, &r, w, err))) return c->rc;
        } else {
            if (keep(c, pp_sym_compare(bins[k].code, &a, &b, &r, w, err))) return c->rc;
            if (bins[k].negate)
                for (int i = 0; i < r.n; i++) r.c[i] = !r.c[i];
        }
        return bind_out_sym(c, &r);
    }
    if (!strcmp(op, "Where")) {
        pp_symval cnd;
        if (sym_in(c, 0, &cnd) || sym_in(c, 1, &a) || sym_in(c, 2, &b)) return c->rc;
        if (keep(c, pp_sym_where(&cnd, &a, &b, &r, w, err))) return c->rc;
        return bind_out_sym(c, &r);
    }
    if (!strcmp(op, "Reshape")) {
        if (sym_in(c, 0, &a)) return c->rc;
        int64_t *shape;
        size_t n;
        if (param_ints(c, 1, "shape", &shape, &n) <= 0) return c->rc ? c->rc : fail(c, PP_ERR_FORMAT, "no shape");
        r = a;
        if (n == 0 && a.n == 1) r.rank = 0;
        else if (n == 1 && (shape[0] == -1 || shape[0] == a.n)) r.rank = 1;
        else return fail(c, PP_ERR_UNSUPPORTED, "reshaping a shape value beyond a vector");
        return bind_out_sym(c, &r);
    }
    if (!strcmp(op, "ReduceProd") || !strcmp(op, "ReduceSum")) {
        if (sym_in(c, 0, &a)) return c->rc;
        int keepdims = (int)attr_i(c, "keepdims", 1);
        if (a.rank == 0) return bind_out_sym(c, &a);
        if (op[6] == 'P') {
            if (keep(c, pp_sym_reduce_prod(&a, keepdims, &r, w, err))) return c->rc;
        } else if (keep(c, pp_sym_reduce_sum(&a, keepdims, &r, w, err))) {
            return c->rc;
        }
        return bind_out_sym(c, &r);
    }
    *handled = 0;
    return PP_OK;
}

/* ---- the table ------------------------------------------------------------------------- */

typedef pp_code (*op_fn)(ox_nctx *c, pp_op op);

static const struct {
    const char *name;
    op_fn fn;
    pp_op op;
} ops[] = {
    {"Relu", op_unary, PP_OP_RELU},
    {"Sigmoid", op_unary, PP_OP_SIGMOID},
    {"Tanh", op_unary, PP_OP_TANH},
    {"Erf", op_unary, PP_OP_ERF},
    {"Sqrt", op_unary, PP_OP_SQRT},
    {"Exp", op_unary, PP_OP_EXP},
    {"Log", op_unary, PP_OP_LOG},
    {"Neg", op_unary, PP_OP_NEG},
    {"Abs", op_unary, PP_OP_ABS},
    {"Reciprocal", op_unary, PP_OP_RECIPROCAL},
    {"Not", op_unary, PP_OP_NOT},
    {"Floor", op_unary, PP_OP_FLOOR},
    {"Ceil", op_unary, PP_OP_CEIL},
    {"Sin", op_unary, PP_OP_SIN},
    {"Cos", op_unary, PP_OP_COS},
    {"Tan", op_unary, PP_OP_TAN},
    {"Sign", op_unary, PP_OP_SIGN},
    {"Round", op_unary, PP_OP_ROUND},
    {"Softplus", op_unary, PP_OP_SOFTPLUS},
    {"Mish", op_unary, PP_OP_MISH},
    {"HardSwish", op_unary, PP_OP_HARDSWISH},
    {"HardSigmoid", op_unary, PP_OP_HARDSIGMOID},
    {"LeakyRelu", op_unary, PP_OP_LEAKY_RELU},
    {"Elu", op_unary, PP_OP_ELU},
    {"Selu", op_unary, PP_OP_SELU},
    {"Gelu", op_gelu, PP_OP_GELU},
    {"Clip", op_clip, PP_OP_CLIP},
    {"Add", op_binary, PP_OP_ADD},
    {"Sub", op_binary, PP_OP_SUB},
    {"Mul", op_binary, PP_OP_MUL},
    {"Div", op_binary, PP_OP_DIV},
    {"Pow", op_binary, PP_OP_POW},
    {"Equal", op_binary, PP_OP_EQUAL},
    {"Less", op_binary, PP_OP_LESS},
    {"Greater", op_binary, PP_OP_GREATER},
    {"LessOrEqual", op_binary, PP_OP_LESS_EQUAL},
    {"GreaterOrEqual", op_binary, PP_OP_GREATER_EQUAL},
    {"And", op_binary, PP_OP_AND},
    {"Or", op_binary, PP_OP_OR},
    {"Xor", op_binary, PP_OP_XOR},
    {"Mod", op_binary, PP_OP_MOD},
    {"PRelu", op_binary, PP_OP_PRELU},
    {"Max", op_nary, PP_OP_MAX},
    {"Min", op_nary, PP_OP_MIN},
    {"Sum", op_nary, PP_OP_ADD},
    {"Mean", op_nary, PP_OP_ADD},
    {"Where", op_where, PP_OP_WHERE},
    {"Cast", op_cast, PP_OP_CAST},
    {"CastLike", op_cast, PP_OP_CAST},
    {"Conv", op_conv, PP_OP_CONV},
    {"Gemm", op_gemm, PP_OP_GEMM},
    {"MatMul", op_matmul, PP_OP_MATMUL},
    {"BatchNormalization", op_batchnorm, PP_OP_BATCHNORM},
    {"MaxPool", op_pool, PP_OP_MAXPOOL},
    {"AveragePool", op_pool, PP_OP_AVGPOOL},
    {"GlobalAveragePool", op_pool, PP_OP_GLOBAL_AVGPOOL},
    {"GlobalMaxPool", op_pool, PP_OP_GLOBAL_MAXPOOL},
    {"Softmax", op_softmax, PP_OP_SOFTMAX},
    {"LogSoftmax", op_softmax, PP_OP_LOG_SOFTMAX},
    {"LayerNormalization", op_layernorm, PP_OP_LAYERNORM},
    {"ReduceMean", op_reduce, PP_OP_REDUCE_MEAN},
    {"ReduceSum", op_reduce, PP_OP_REDUCE_SUM},
    {"ReduceMax", op_reduce, PP_OP_REDUCE_MAX},
    {"ReduceMin", op_reduce, PP_OP_REDUCE_MIN},
    {"ReduceProd", op_reduce, PP_OP_REDUCE_PROD},
    {"ReduceL1", op_reduce_composite, PP_OP_REDUCE_SUM},
    {"ReduceL2", op_reduce_composite, PP_OP_REDUCE_SUM},
    {"ReduceSumSquare", op_reduce_composite, PP_OP_REDUCE_SUM},
    {"ReduceLogSum", op_reduce_composite, PP_OP_REDUCE_SUM},
    {"ReduceLogSumExp", op_reduce_composite, PP_OP_REDUCE_SUM},
    {"ArgMax", op_argmax, PP_OP_ARGMAX},
    {"ArgMin", op_argmax, PP_OP_ARGMIN},
    {"Identity", op_identity, PP_OP_IDENTITY},
    {"Dropout", op_identity, PP_OP_IDENTITY},
    {"Flatten", op_flatten, PP_OP_FLATTEN},
    {"Reshape", op_reshape, PP_OP_RESHAPE},
    {"Transpose", op_transpose, PP_OP_TRANSPOSE},
    {"Concat", op_concat, PP_OP_CONCAT},
    {"Split", op_split, PP_OP_SPLIT},
    {"Slice", op_slice, PP_OP_SLICE},
    {"Gather", op_gather, PP_OP_GATHER},
    {"GatherElements", op_gather, PP_OP_GATHER_ELEMENTS},
    {"Squeeze", op_squeeze, PP_OP_SQUEEZE},
    {"Unsqueeze", op_squeeze, PP_OP_UNSQUEEZE},
    {"Expand", op_expand, PP_OP_EXPAND},
    {"Tile", op_tile, PP_OP_TILE},
    {"Pad", op_pad, PP_OP_PAD},
    {"Resize", op_resize, PP_OP_RESIZE},
    {"Upsample", op_resize, PP_OP_RESIZE},
    {"Trilu", op_trilu, PP_OP_TRILU},
    {"Shape", NULL, PP_OP_SHAPE},
    {"Size", NULL, PP_OP_SHAPE},
    {"ConstantOfShape", op_constant_of_shape, PP_OP_CONSTANT_OF_SHAPE},
    {"Range", op_range, PP_OP_RANGE},
    {"DepthToSpace", op_d2s, PP_OP_DEPTH_TO_SPACE},
    {"SpaceToDepth", op_d2s, PP_OP_SPACE_TO_DEPTH},
    {"CumSum", op_cumsum, PP_OP_CUMSUM},
    {"Constant", op_constant, PP_OP_INVALID},
    {"ScatterND", op_scatter_nd, PP_OP_INVALID},
};

int ox_op_known(const char *op_type) {
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, op_type) == 0) return 1;
    return 0;
}

pp_code ox_import_node(ox_nctx *c) {
    const char *op = c->n->op_type;
    if (!strcmp(op, "Shape") || !strcmp(op, "Size")) {
        sym_shape(c, op[1] == 'i');
        return c->rc;
    }
    int any_sym = 0;
    for (int i = 0; i < c->n_in; i++)
        if (has_in(c, i) && c->in[i]->kind == OX_SYM) any_sym = 1;
    if (any_sym) {
        int handled = 0;
        sym_node(c, &handled);
        if (handled || c->rc) return c->rc;
    }
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, op) == 0) {
            ops[i].fn(c, ops[i].op);
            return c->rc;
        }
    return fail(c, PP_ERR_UNSUPPORTED, "op type is not supported");
}

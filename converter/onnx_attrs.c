/* onnx_attrs.c: what every ONNX op handler uses: errors naming the node, the
 * node's attributes, its inputs as data, as constant parameters or as shape
 * values, and the IR nodes, tensors and attributes it makes (onnx_internal.h).
 *
 * Conventions (docs/ir.md): attributes keep their ONNX names; parameter inputs
 * (Reshape shape, Slice starts, Pad pads, Clip min/max, ...) become attributes:
 * constant, or shape program values where they depend on the graph's symbols
 * (ox_param_sx, ox_setis_sx). */
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
pp_code
ox_fail(ox_nctx *c, pp_code code, const char *fmt, ...) {
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
pp_code ox_keep(ox_nctx *c, pp_code rc) {
    if (rc && !c->rc) c->rc = rc;
    return c->rc;
}

const ox_attr *ox_attr_get(ox_nctx *c, const char *name) {
    for (int i = 0; i < c->n->n_attrs; i++)
        if (strcmp(c->n->attrs[i].name, name) == 0) return &c->n->attrs[i];
    return NULL;
}

const ox_attr *ox_attr_of(ox_nctx *c, const char *name, int64_t type, const char *tname) {
    const ox_attr *a = ox_attr_get(c, name);
    if (!a) return NULL;
    if (a->ref_attr_name) {
        ox_fail(c, PP_ERR_UNSUPPORTED, "attribute %s refers to a function attribute", name);
        return NULL;
    }
    if (a->type != type) {
        ox_fail(c, PP_ERR_FORMAT, "attribute %s has type %" PRId64 ", expected %s", name, a->type, tname);
        return NULL;
    }
    return a;
}

int64_t ox_attr_i(ox_nctx *c, const char *name, int64_t def) {
    const ox_attr *a = ox_attr_of(c, name, OX_ATTR_INT, "INT");
    return a ? a->i : def;
}

double ox_attr_f(ox_nctx *c, const char *name, double def) {
    const ox_attr *a = ox_attr_get(c, name);
    if (a && a->type == OX_ATTR_INT) return (double)a->i; /* some writers store 0 as an INT */
    a = ox_attr_of(c, name, OX_ATTR_FLOAT, "FLOAT");
    return a ? a->f : def;
}

const char *ox_attr_s(ox_nctx *c, const char *name, const char *def) {
    const ox_attr *a = ox_attr_of(c, name, OX_ATTR_STRING, "STRING");
    if (!a) return def;
    for (size_t i = 0; i < a->s_len; i++)
        if (a->s[i] == 0) {
            ox_fail(c, PP_ERR_FORMAT, "attribute %s holds a NUL byte", name);
            return def;
        }
    char *s = ox_alloc(c->x, a->s_len + 1);
    if (!s) {
        ox_keep(c, PP_ERR_NOMEM);
        return def;
    }
    if (a->s_len) memcpy(s, a->s, a->s_len);
    return s;
}

/* INTS attribute values, or NULL (and *n = 0) when absent. */
const int64_t *ox_attr_ints(ox_nctx *c, const char *name, size_t *n) {
    const ox_attr *a = ox_attr_of(c, name, OX_ATTR_INTS, "INTS");
    *n = a ? a->n_ints : 0;
    return a ? a->ints : NULL;
}

const float *ox_attr_floats(ox_nctx *c, const char *name, size_t *n) {
    const ox_attr *a = ox_attr_of(c, name, OX_ATTR_FLOATS, "FLOATS");
    *n = a ? a->n_floats : 0;
    return a ? a->floats : NULL;
}

int64_t ox_opset(ox_nctx *c) { return c->x->opset; }

/* ---- inputs -------------------------------------------------------------------- */

int ox_has_in(ox_nctx *c, int i) { return i < c->n_in && c->in[i] != NULL; }

pp_tensor *ox_tensor_of(ox_nctx *c, int i) {
    if (!ox_has_in(c, i) || c->in[i]->kind != OX_TENSOR) return NULL;
    return &c->x->g->tensors[c->in[i]->tensor];
}

int ox_is_const(ox_nctx *c, int i) {
    pp_tensor *t = ox_tensor_of(c, i);
    return t && t->kind == PP_TENSOR_WEIGHT;
}

const char *ox_in_name(ox_nctx *c, int i) { return i < c->n->n_in ? c->n->in[i] : ""; }

/* A data input's tensor id; -1 when absent. A shape value used as data is
 * computed at run time (ox_materialize). */
int ox_data_in(ox_nctx *c, int i) {
    if (!ox_has_in(c, i)) return -1;
    ox_value *v = c->in[i];
    if (v->kind == OX_SYM) return ox_materialize(c, v);
    return v->tensor;
}

int ox_need_in(ox_nctx *c, int i, const char *role) {
    if (!ox_has_in(c, i)) {
        ox_fail(c, PP_ERR_FORMAT, "input %d (%s) is required but absent", i, role);
        return -1;
    }
    return ox_data_in(c, i);
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
int ox_elements(ox_nctx *c, const pp_tensor *t, const char *what, size_t *n) {
    int64_t e;
    if (pp_numel_i64(t->dims, t->rank, &e) || e > PP_MAX_TENSOR_BYTES) {
        char b[160];
        ox_fail(c, PP_ERR_SHAPE, "%s: shape %s has a symbolic extent or too many elements", what,
                pp_tensor_shape_str(t, b, sizeof b));
        return -1;
    }
    *n = (size_t)e;
    return 0;
}

/* A constant input's values as doubles (numeric dtypes). */
pp_code ox_const_values(ox_nctx *c, int i, const char *role, double **vals, size_t *n) {
    pp_tensor *t = ox_tensor_of(c, i);
    size_t numel;
    if (ox_elements(c, t, role, &numel)) return c->rc;
    double *v = ox_alloc(c->x, sizeof(double) * (numel ? numel : 1));
    if (!v) return ox_keep(c, PP_ERR_NOMEM);
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
        default: return ox_fail(c, PP_ERR_UNSUPPORTED, "input %d (%s): dtype %s", i, role, pp_dtype_name(t->dtype));
        }
    }
    *vals = v;
    *n = numel;
    return PP_OK;
}

/* Names, for a caller that can bind it (pp_onnx_options.needs_const), a graph
 * input that the run-time tensor t is computed from. */
void ox_note_needs_const(ox_nctx *c, int t) {
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
int ox_param_check(ox_nctx *c, int i, const char *role) {
    if (!ox_has_in(c, i)) return 0;
    ox_value *v = c->in[i];
    if (v->kind == OX_SYM) {
        char b[128];
        ox_fail(c, PP_ERR_UNSUPPORTED, "input %d (%s, '%s') depends on the symbols (%s); it must be constant", i, role,
                ox_in_name(c, i), pp_symval_str(&c->x->g->sym, &v->sym, b, sizeof b));
        return -1;
    }
    if (!ox_is_const(c, i)) {
        ox_note_needs_const(c, v->tensor);
        ox_fail(c, PP_ERR_UNSUPPORTED,
                "input %d (%s, '%s') is computed at run time; it must be constant (or foldable, or bound with --const)",
                i, role, ox_in_name(c, i));
        return -1;
    }
    return 1;
}

/* An integer parameter input (i64 or i32) as int64s in the import arena. */
int ox_param_ints(ox_nctx *c, int i, const char *role, int64_t **vals, size_t *n) {
    *vals = NULL;
    *n = 0;
    int r = ox_param_check(c, i, role);
    if (r <= 0) return r;
    pp_tensor *t = ox_tensor_of(c, i);
    if (t->dtype != PP_DTYPE_I64 && t->dtype != PP_DTYPE_I32) {
        ox_fail(c, PP_ERR_FORMAT, "input %d (%s): dtype %s, expected int64", i, role, pp_dtype_name(t->dtype));
        return -1;
    }
    size_t numel;
    if (ox_elements(c, t, role, &numel)) return -1;
    int64_t *v = ox_alloc(c->x, sizeof(int64_t) * (numel ? numel : 1));
    if (!v) {
        ox_keep(c, PP_ERR_NOMEM);
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

int ox_param_floats(ox_nctx *c, int i, const char *role, double **vals, size_t *n) {
    *vals = NULL;
    *n = 0;
    int r = ox_param_check(c, i, role);
    if (r <= 0) return r;
    if (ox_const_values(c, i, role, vals, n)) return -1;
    return 1;
}

/* A scalar (one-element) parameter. */
int ox_param_scalar(ox_nctx *c, int i, const char *role, double *out) {
    double *v;
    size_t n;
    int r = ox_param_floats(c, i, role, &v, &n);
    if (r <= 0) return r;
    if (n != 1) {
        ox_fail(c, PP_ERR_SHAPE, "input %d (%s) has %zu elements, expected one", i, role, n);
        return -1;
    }
    *out = v[0];
    return 1;
}

/* Input i as a shape value: one already, or a small constant tensor. */
int ox_sym_in(ox_nctx *c, int i, pp_symval *out) {
    if (!ox_has_in(c, i)) {
        ox_fail(c, PP_ERR_FORMAT, "input %d is required but absent", i);
        return -1;
    }
    ox_value *v = c->in[i];
    if (v->kind == OX_SYM) {
        *out = v->sym;
        return 0;
    }
    pp_tensor *t = ox_tensor_of(c, i);
    if (t->kind != PP_TENSOR_WEIGHT) {
        ox_fail(c, PP_ERR_UNSUPPORTED, "input %d ('%s') is computed at run time, not a shape value", i,
                ox_in_name(c, i));
        return -1;
    }
    char what[300];
    snprintf(what, sizeof what, "node '%s' (%s) input %d", c->name, c->n->op_type, i);
    if (ox_keep(c, pp_symval_from_data(t->dtype, t->rank, t->dims, t->data, out, what, c->x->err))) return -1;
    return 0;
}

int ox_param_sx(ox_nctx *c, int i, const char *role, pp_sx **vals, size_t *n) {
    *vals = NULL;
    *n = 0;
    if (!ox_has_in(c, i)) return 0;
    pp_symval s;
    if (c->in[i]->kind == OX_SYM) {
        s = c->in[i]->sym;
    } else {
        int64_t *iv;
        int r = ox_param_ints(c, i, role, &iv, n);
        if (r <= 0) return r;
        pp_sx *v = ox_alloc(c->x, sizeof(pp_sx) * (*n ? *n : 1));
        if (!v) return ox_keep(c, PP_ERR_NOMEM), -1;
        for (size_t k = 0; k < *n; k++) v[k] = pp_sx_const(iv[k]);
        *vals = v;
        return 1;
    }
    pp_sx *v = ox_alloc(c->x, sizeof(pp_sx) * (size_t)(s.n ? s.n : 1));
    if (!v) return ox_keep(c, PP_ERR_NOMEM), -1;
    memcpy(v, s.e, sizeof(pp_sx) * (size_t)s.n);
    *vals = v;
    *n = (size_t)s.n;
    return 1;
}

/* ---- outputs and nodes ------------------------------------------------------------ */

/* The graph tensor for ONNX output j (bound to its name), shape unknown yet. */
int ox_out_t(ox_nctx *c, int j) {
    if (c->rc) return -1;
    const char *name = j < c->n->n_out ? c->n->out[j] : "";
    const char *tname = *name ? name : ox_printf(c->x, "%s:out%d", c->name, j);
    if (!tname) {
        ox_keep(c, PP_ERR_NOMEM);
        return -1;
    }
    int id = pp_graph_add_tensor(c->x->g, tname, PP_DTYPE_INVALID, PP_TENSOR_ACTIVATION, -1, NULL, c->x->err);
    if (id < 0) {
        ox_keep(c, c->x->err->code ? c->x->err->code : PP_ERR_NOMEM);
        return -1;
    }
    if (*name && ox_keep(c, ox_bind_tensor(c->x, name, id))) return -1;
    return id;
}

/* A helper tensor of this node (not an ONNX value). */
int ox_tmp_t(ox_nctx *c, const char *what) {
    if (c->rc) return -1;
    const char *tname = ox_printf(c->x, "%s/%s_%d", c->name, what, c->n_extra++);
    if (!tname) {
        ox_keep(c, PP_ERR_NOMEM);
        return -1;
    }
    int id = pp_graph_add_tensor(c->x->g, tname, PP_DTYPE_INVALID, PP_TENSOR_ACTIVATION, -1, NULL, c->x->err);
    if (id < 0) ox_keep(c, c->x->err->code ? c->x->err->code : PP_ERR_NOMEM);
    return id;
}

/* A constant helper weight. */
int ox_tmp_weight(ox_nctx *c, const char *what, pp_dtype dt, int rank, const int64_t *dims, const void *data,
                  uint64_t nbytes) {
    if (c->rc) return -1;
    const char *tname = ox_printf(c->x, "%s/%s_%d", c->name, what, c->n_extra++);
    if (!tname) {
        ox_keep(c, PP_ERR_NOMEM);
        return -1;
    }
    int id = pp_graph_add_weight(c->x->g, tname, dt, rank, dims, data, nbytes, c->x->err);
    if (id < 0) ox_keep(c, c->x->err->code ? c->x->err->code : PP_ERR_NOMEM);
    return id;
}

int ox_emit(ox_nctx *c, pp_op op, int n_in, const int *in, int n_out, const int *out) {
    if (c->rc) return -1;
    for (int i = 0; i < n_out; i++)
        if (out[i] < 0) return -1;
    int id = pp_graph_add_node(c->x->g, op, c->name, n_in, in, n_out, out, c->x->err);
    if (id < 0) ox_keep(c, c->x->err->code ? c->x->err->code : PP_ERR_NOMEM);
    return id;
}

void ox_seti(ox_nctx *c, int node, const char *name, int64_t v) {
    if (!c->rc && node >= 0) ox_keep(c, pp_node_set_int(c->x->g, node, name, v, c->x->err));
}
void ox_setf(ox_nctx *c, int node, const char *name, double v) {
    if (!c->rc && node >= 0) ox_keep(c, pp_node_set_float(c->x->g, node, name, v, c->x->err));
}
void ox_sets(ox_nctx *c, int node, const char *name, const char *v) {
    if (!c->rc && node >= 0) ox_keep(c, pp_node_set_string(c->x->g, node, name, v, c->x->err));
}
void ox_setis(ox_nctx *c, int node, const char *name, const int64_t *v, size_t n) {
    if (c->rc || node < 0) return;
    if (n > UINT32_MAX) {
        ox_fail(c, PP_ERR_UNSUPPORTED, "attribute %s has too many values", name);
        return;
    }
    ox_keep(c, pp_node_set_ints(c->x->g, node, name, v, (uint32_t)n, c->x->err));
}
void ox_setfs(ox_nctx *c, int node, const char *name, const double *v, size_t n) {
    if (c->rc || node < 0) return;
    if (n > UINT32_MAX) {
        ox_fail(c, PP_ERR_UNSUPPORTED, "attribute %s has too many values", name);
        return;
    }
    ox_keep(c, pp_node_set_floats(c->x->g, node, name, v, (uint32_t)n, c->x->err));
}

void ox_setis_sx(ox_nctx *c, int node, const char *name, const pp_sx *v, size_t n) {
    if (c->rc || node < 0) return;
    int64_t *iv = ox_alloc(c->x, sizeof(int64_t) * (n ? n : 1));
    if (!iv) {
        ox_keep(c, PP_ERR_NOMEM);
        return;
    }
    for (size_t k = 0; k < n; k++) iv[k] = v[k].slot >= 0 ? 0 : v[k].v;
    ox_setis(c, node, name, iv, n);
    for (size_t k = 0; k < n && !c->rc; k++)
        if (v[k].slot >= 0) ox_keep(c, pp_node_set_sym(c->x->g, node, name, (uint32_t)k, v[k].slot, c->x->err));
}

void ox_seti_sx(ox_nctx *c, int node, const char *name, pp_sx v) {
    ox_seti(c, node, name, v.slot >= 0 ? 0 : v.v);
    if (!c->rc && node >= 0 && v.slot >= 0) ox_keep(c, pp_node_set_sym(c->x->g, node, name, 0, v.slot, c->x->err));
}

void ox_setf_sx(ox_nctx *c, int node, const char *name, pp_sx v) {
    ox_setf(c, node, name, v.slot >= 0 ? 0 : (double)v.v);
    if (!c->rc && node >= 0 && v.slot >= 0) ox_keep(c, pp_node_set_sym(c->x->g, node, name, 0, v.slot, c->x->err));
}

const char *ox_what(ox_nctx *c, char *buf, size_t size) {
    snprintf(buf, size, "node '%s' (%s)", c->name, c->n->op_type);
    return buf;
}

/* Copies an ONNX attribute, when present, under the same name. */
void ox_copy_ints(ox_nctx *c, int node, const char *name) {
    size_t n;
    const int64_t *v = ox_attr_ints(c, name, &n);
    if (v) ox_setis(c, node, name, v, n);
}

/* Refuses a node whose extra outputs (index >= keep_n) something reads. */
void ox_only_outputs(ox_nctx *c, int keep_n) {
    for (int j = keep_n; j < c->n->n_out; j++)
        if (*c->n->out[j] && ox_is_consumed(c->x, c->n->out[j]))
            ox_fail(c, PP_ERR_UNSUPPORTED, "output %d ('%s') is used, but only the first %d output%s supported", j,
                    c->n->out[j], keep_n, keep_n > 1 ? "s are" : " is");
}

/* The shape of a tensor produced so far (all earlier nodes are finished). */
const pp_tensor *ox_shape_of(ox_nctx *c, int id) {
    if (id < 0) return NULL;
    if (ox_keep(c, ox_finish_pending(c->x))) return NULL;
    const pp_tensor *t = &c->x->g->tensors[id];
    if (t->rank < 0) {
        ox_fail(c, PP_ERR_INTERNAL, "tensor '%s' has no shape", t->name);
        return NULL;
    }
    return t;
}

/* pt2_build.c: values, arguments, shapes and graph edits for the .pt2
 * importer (pt2_build.h). */
#ifdef PP_HAVE_CJSON
#include "pt2_build.h"

#include <math.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values --------------------------------------------------------------- */

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int *slot(pt2_ctx *x, const char *name) {
    uint64_t h = hash_name(name);
    for (int i = 0;; i++) {
        int *s = &x->hash[(h + (uint64_t)i) & (uint64_t)(x->hash_cap - 1)];
        if (*s < 0 || !strcmp(x->vals[*s].name, name)) return s;
    }
}

pt2_val *pt2_lookup(pt2_ctx *x, const char *name) {
    if (!x->hash_cap || !name) return NULL;
    int *s = slot(x, name);
    return *s < 0 ? NULL : &x->vals[*s];
}

/* The value named name, made when new; NULL when out of memory. */
static pt2_val *value(pt2_ctx *x, const char *name) {
    pt2_val *v = pt2_lookup(x, name);
    if (v) {
        pp_free(v->list);
        v->list = NULL;
        v->n_list = 0;
        v->base = -1;
        v->n_slices = 0;
        return v;
    }
    if (2 * (x->n_vals + 1) > x->hash_cap) {
        int cap = x->hash_cap ? 2 * x->hash_cap : 1024;
        int *h = pp_malloc((size_t)cap * sizeof *h);
        if (!h) return NULL;
        pp_free(x->hash);
        x->hash = h;
        x->hash_cap = cap;
        for (int i = 0; i < cap; i++) h[i] = -1;
        for (int i = 0; i < x->n_vals; i++) *slot(x, x->vals[i].name) = i;
    }
    if (x->n_vals == x->cap_vals) {
        int cap = x->cap_vals ? 2 * x->cap_vals : 512;
        pt2_val *nv = pp_realloc(x->vals, (size_t)cap * sizeof *nv);
        if (!nv) return NULL;
        x->vals = nv;
        x->cap_vals = cap;
    }
    v = &x->vals[x->n_vals];
    memset(v, 0, sizeof *v);
    v->base = -1;
    size_t len = strlen(name);
    if (!(v->name = pp_malloc(len + 1))) return NULL;
    memcpy(v->name, name, len + 1);
    *slot(x, name) = x->n_vals++;
    return v;
}

pp_code pt2_define(pt2_ctx *x, const char *name, int tensor) {
    pt2_val *v = value(x, name);
    if (!v) return pp_error_nomem(x->err, "out of memory for value '%s'", name);
    v->tensor = tensor;
    return PP_OK;
}

pp_code pt2_define_list(pt2_ctx *x, const char *name, const int *ids, int n) {
    pt2_val *v = value(x, name);
    if (!v || !(v->list = pp_malloc((size_t)(n ? n : 1) * sizeof *ids)))
        return pp_error_nomem(x->err, "out of memory for value '%s'", name);
    memcpy(v->list, ids, (size_t)n * sizeof *ids);
    v->n_list = n;
    v->tensor = -1;
    return PP_OK;
}

void pt2_ctx_free(pt2_ctx *x) {
    for (int i = 0; i < x->n_vals; i++) {
        pp_free(x->vals[i].name);
        pp_free(x->vals[i].list);
    }
    pp_free(x->vals);
    pp_free(x->hash);
    x->vals = NULL;
    x->hash = NULL;
    x->n_vals = x->cap_vals = x->hash_cap = 0;
}

/* ---- errors ---------------------------------------------------------------- */

pp_code pt2_fail(pt2_node *n, pp_code code, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pp_error_set(n->x->err, code, "node '%.100s' (%.80s): %s", n->name, n->target, msg);
}

/* ---- arguments ---------------------------------------------------------------- */

const cJSON *pt2_arg(const pt2_node *n, const char *name) {
    const cJSON *it;
    cJSON_ArrayForEach(it, n->inputs) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(nm) && !strcmp(nm->valuestring, name)) return cJSON_GetObjectItemCaseSensitive(it, "arg");
    }
    return NULL;
}

int pt2_arg_is_none(const cJSON *arg) { return !arg || cJSON_GetObjectItemCaseSensitive(arg, "as_none") != NULL; }

static const char *tensor_name(const cJSON *t) {
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(t, "name");
    return cJSON_IsString(nm) ? nm->valuestring : NULL;
}

static pp_code tensor_id(pt2_node *n, const char *what, const char *tname, int *id) {
    pt2_val *v = pt2_lookup(n->x, tname);
    if (!tname || !v)
        return pt2_fail(n, PP_ERR_FORMAT, "%s: '%.100s' is not defined before it", what, tname ? tname : "?");
    if (v->tensor < 0) return pt2_fail(n, PP_ERR_FORMAT, "%s: '%.100s' is a tuple, not a tensor", what, tname);
    *id = v->tensor;
    return PP_OK;
}

pp_code pt2_tensor_arg(pt2_node *n, const char *name, int optional, int *id) {
    *id = -1;
    const cJSON *a = pt2_arg(n, name);
    if (pt2_arg_is_none(a)) {
        if (optional) return PP_OK;
        return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is missing", name);
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "as_tensor");
    if (!t) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(a, "as_optional_tensor");
        if (o && cJSON_GetObjectItemCaseSensitive(o, "as_none"))
            return optional ? PP_OK : pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is None", name);
        t = o ? cJSON_GetObjectItemCaseSensitive(o, "as_tensor") : NULL;
    }
    if (!t) return pt2_fail(n, PP_ERR_UNSUPPORTED, "argument '%s' is not a tensor", name);
    return tensor_id(n, name, tensor_name(t), id);
}

pp_code pt2_tensors_arg(pt2_node *n, const char *name, int *ids, int max, int *count) {
    *count = 0;
    const cJSON *a = pt2_arg(n, name), *list = a ? cJSON_GetObjectItemCaseSensitive(a, "as_tensors") : NULL;
    int optional = 0;
    if (!list && a) {
        list = cJSON_GetObjectItemCaseSensitive(a, "as_optional_tensors");
        optional = 1;
    }
    if (!cJSON_IsArray(list)) return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is not a list of tensors", name);
    const cJSON *it;
    cJSON_ArrayForEach(it, list) {
        if (*count >= max) return pt2_fail(n, PP_ERR_UNSUPPORTED, "argument '%s' has more than %d tensors", name, max);
        const cJSON *t = optional ? cJSON_GetObjectItemCaseSensitive(it, "as_tensor") : it;
        if (!t) {
            ids[(*count)++] = -1;
            continue;
        }
        pp_code rc = tensor_id(n, name, tensor_name(t), &ids[*count]);
        if (rc) return rc;
        (*count)++;
    }
    return PP_OK;
}

/* An as_int or as_name SymIntArgument as a symbolic scalar. */
static pp_code sym_int_elem(pt2_node *n, const char *name, const cJSON *e, pp_sx *v) {
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(e, "as_int");
    if (cJSON_IsNumber(i)) {
        *v = pp_sx_const(pt2_json_i64(i->valuedouble));
        return PP_OK;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "as_name");
    if (!cJSON_IsString(s)) return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is not an integer", name);
    return pt2_sym_name(n->x, s->valuestring, v);
}

/* The same where a constant is needed. */
static pp_code const_int_elem(pt2_node *n, const char *name, const cJSON *e, int64_t *v) {
    pp_sx x;
    PT2_TRY(sym_int_elem(n, name, e, &x));
    if (x.slot >= 0) {
        char b[96];
        return pt2_fail(n, PP_ERR_UNSUPPORTED, "argument '%s' is symbolic (%s) where a constant is needed", name,
                        pp_symtab_slot_str(&n->x->g->sym, x.slot, b, sizeof b));
    }
    *v = x.v;
    return PP_OK;
}

pp_code pt2_sx_arg(pt2_node *n, const char *name, pp_sx def, pp_sx *v) {
    *v = def;
    const cJSON *a = pt2_arg(n, name);
    if (pt2_arg_is_none(a)) return PP_OK;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "as_sym_int");
    if (s) return sym_int_elem(n, name, s, v);
    int64_t i;
    PT2_TRY(pt2_int_arg(n, name, 0, &i));
    *v = pp_sx_const(i);
    return PP_OK;
}

pp_code pt2_int_arg(pt2_node *n, const char *name, int64_t def, int64_t *v) {
    *v = def;
    const cJSON *a = pt2_arg(n, name);
    if (pt2_arg_is_none(a)) return PP_OK;
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(a, "as_int");
    if (cJSON_IsNumber(i)) {
        *v = pt2_json_i64(i->valuedouble);
        return PP_OK;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "as_sym_int");
    if (s) return const_int_elem(n, name, s, v);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(a, "as_bool");
    if (cJSON_IsBool(b)) {
        *v = cJSON_IsTrue(b);
        return PP_OK;
    }
    return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is not an integer", name);
}

pp_code pt2_ints_arg(pt2_node *n, const char *name, int64_t *v, int max, int *count) {
    *count = 0;
    const cJSON *a = pt2_arg(n, name);
    if (pt2_arg_is_none(a)) return PP_OK;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(a, "as_ints");
    int sym = 0;
    if (!l) {
        l = cJSON_GetObjectItemCaseSensitive(a, "as_sym_ints");
        sym = 1;
    }
    if (!cJSON_IsArray(l)) {
        if (max < 1) return pt2_fail(n, PP_ERR_FORMAT, "argument '%s': no room", name);
        *count = 1;
        return pt2_int_arg(n, name, 0, v);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, l) {
        if (*count >= max) return pt2_fail(n, PP_ERR_UNSUPPORTED, "argument '%s' has more than %d values", name, max);
        if (sym) {
            pp_code rc = const_int_elem(n, name, it, &v[*count]);
            if (rc) return rc;
        } else if (cJSON_IsNumber(it)) {
            v[*count] = pt2_json_i64(it->valuedouble);
        } else {
            return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' has a non-integer element", name);
        }
        (*count)++;
    }
    return PP_OK;
}

int pt2_scalar_arg(pt2_node *n, const char *name, double *v) {
    const cJSON *a = pt2_arg(n, name);
    if (pt2_arg_is_none(a)) return 0;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(a, "as_float");
    if (cJSON_IsString(f)) { /* torch writes the non-finite floats as strings */
        const char *t = f->valuestring;
        if (!strcmp(t, "Infinity") || !strcmp(t, "inf")) *v = HUGE_VAL;
        else if (!strcmp(t, "-Infinity") || !strcmp(t, "-inf")) *v = -HUGE_VAL;
        else if (!strcmp(t, "NaN") || !strcmp(t, "nan")) *v = NAN;
        else return 0;
        return 1;
    }
    if (!cJSON_IsNumber(f)) f = cJSON_GetObjectItemCaseSensitive(a, "as_int");
    if (cJSON_IsNumber(f)) {
        *v = f->valuedouble;
        return 1;
    }
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(a, "as_bool");
    if (cJSON_IsBool(b)) {
        *v = cJSON_IsTrue(b);
        return 1;
    }
    return 0;
}

pp_code pt2_float_arg(pt2_node *n, const char *name, double def, double *v) {
    *v = def;
    const cJSON *a = pt2_arg(n, name);
    if (pt2_arg_is_none(a) || pt2_scalar_arg(n, name, v)) return PP_OK;
    return pt2_fail(n, PP_ERR_UNSUPPORTED, "argument '%s' is not a constant number", name);
}

pp_code pt2_bool_arg(pt2_node *n, const char *name, int def, int *v) {
    double d;
    *v = def;
    const cJSON *a = pt2_arg(n, name);
    if (pt2_arg_is_none(a)) return PP_OK;
    if (!pt2_scalar_arg(n, name, &d)) return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is not a bool", name);
    *v = d != 0;
    return PP_OK;
}

const char *pt2_string_arg(pt2_node *n, const char *name, const char *def) {
    const cJSON *a = pt2_arg(n, name), *s = a ? cJSON_GetObjectItemCaseSensitive(a, "as_string") : NULL;
    return cJSON_IsString(s) ? s->valuestring : def;
}

/* ---- building ------------------------------------------------------------------- */

pp_code pt2_rc(pt2_node *n) { return n->x->err->code ? n->x->err->code : PP_ERR_NOMEM; }

int pt2_add(pt2_node *n, pp_op op, const char *suffix, int n_in, const int *in, int *node_id) {
    char nm[300];
    if (suffix && suffix[0]) snprintf(nm, sizeof nm, "%s.%s", n->name, suffix);
    else snprintf(nm, sizeof nm, "%s", n->name);
    pp_graph *g = n->x->g;
    int y = pp_graph_add_tensor(g, nm, PP_DTYPE_INVALID, PP_TENSOR_ACTIVATION, -1, NULL, n->x->err);
    if (y < 0) return -1;
    int nd = pp_graph_add_node(g, op, nm, n_in, in, 1, &y, n->x->err);
    if (nd < 0) return -1;
    if (node_id) *node_id = nd;
    return y;
}

pp_code pt2_bind_output(pt2_node *n, int i, int tensor) {
    const cJSON *o = cJSON_GetArrayItem(n->outputs, i);
    const cJSON *t = o ? cJSON_GetObjectItemCaseSensitive(o, "as_tensor") : NULL;
    const char *nm = t ? tensor_name(t) : NULL;
    if (!nm) return pt2_fail(n, PP_ERR_FORMAT, "output %d is not a tensor", i);
    return pt2_define(n->x, nm, tensor);
}

int pt2_const(pt2_ctx *x, const char *name, pp_dtype dt, int rank, const int64_t *dims, const void *data) {
    uint64_t numel = 1;
    for (int d = 0; d < rank; d++) numel *= (uint64_t)dims[d];
    return pp_graph_add_weight(x->g, name, dt, rank, dims, data, numel * pp_dtype_size(dt), x->err);
}

int pt2_scalar(pt2_node *n, const char *suffix, double v, pp_dtype dt) {
    char nm[300];
    snprintf(nm, sizeof nm, "%s.%s", n->name, suffix);
    union {
        float f;
        double d;
        int64_t i64;
        int32_t i32;
        uint8_t b;
    } u;
    memset(&u, 0, sizeof u);
    switch (dt) {
    case PP_DTYPE_F64: u.d = v; break;
    case PP_DTYPE_I64: u.i64 = (int64_t)v; break;
    case PP_DTYPE_I32: u.i32 = (int32_t)v; break;
    case PP_DTYPE_BOOL:
    case PP_DTYPE_U8: u.b = (uint8_t)v; break;
    default:
        dt = PP_DTYPE_F32;
        u.f = (float)v;
        break;
    }
    return pt2_const(n->x, nm, dt, 0, NULL, &u);
}

void pt2_set_int(pt2_node *n, int nd, const char *attr, int64_t v, pp_code *rc) {
    if (!*rc) *rc = pp_node_set_int(n->x->g, nd, attr, v, n->x->err);
}

void pt2_set_float(pt2_node *n, int nd, const char *attr, double v, pp_code *rc) {
    if (!*rc) *rc = pp_node_set_float(n->x->g, nd, attr, v, n->x->err);
}

void pt2_set_ints(pt2_node *n, int nd, const char *attr, const int64_t *v, int count, pp_code *rc) {
    if (!*rc) *rc = pp_node_set_ints(n->x->g, nd, attr, v, (uint32_t)count, n->x->err);
}

void pt2_set_sx(pt2_node *n, int nd, const char *attr, const pp_sx *v, int count, int is_float, pp_code *rc) {
    int64_t iv[PT2_MAX_LIST];
    if (*rc) return;
    if (count > PT2_MAX_LIST) {
        *rc = pt2_fail(n, PP_ERR_UNSUPPORTED, "attribute '%s' of %d values", attr, count);
        return;
    }
    for (int i = 0; i < count; i++) iv[i] = v[i].slot >= 0 ? 0 : v[i].v;
    if (is_float) pt2_set_float(n, nd, attr, (double)iv[0], rc);
    else pt2_set_ints(n, nd, attr, iv, count, rc);
    for (int i = 0; i < count && !*rc; i++)
        if (v[i].slot >= 0) *rc = pp_node_set_sym(n->x->g, nd, attr, (uint32_t)i, v[i].slot, n->x->err);
}

pp_code pt2_out_sx(pt2_node *n, int *rank, pp_sx *dims) {
    int64_t d[PP_MAX_RANK];
    PT2_TRY(pt2_out_meta(n, NULL, rank, d));
    for (int i = 0; i < *rank; i++) PT2_TRY(pp_symtab_dim(&n->x->g->sym, d[i], &dims[i], n->x->err));
    return PP_OK;
}

/* ---- node helpers ----------------------------------------------------------------- */

/* The metadata of a node's tensor argument (or output name). */
pp_code pt2_arg_meta(pt2_node *n, const char *arg, pp_dtype *dt, int *rank, int64_t *dims) {
    const cJSON *a = pt2_arg(n, arg), *t = a ? cJSON_GetObjectItemCaseSensitive(a, "as_tensor") : NULL;
    const cJSON *nm = t ? cJSON_GetObjectItemCaseSensitive(t, "name") : NULL;
    if (!cJSON_IsString(nm)) return pt2_fail(n, PP_ERR_FORMAT, "argument '%s' is not a tensor", arg);
    return pt2_meta(n->x, nm->valuestring, dt, rank, dims);
}

const char *pt2_arg_tensor_name(pt2_node *n, const char *arg) {
    const cJSON *a = pt2_arg(n, arg), *t = a ? cJSON_GetObjectItemCaseSensitive(a, "as_tensor") : NULL;
    const cJSON *nm = t ? cJSON_GetObjectItemCaseSensitive(t, "name") : NULL;
    return cJSON_IsString(nm) ? nm->valuestring : NULL;
}

pp_code pt2_out_meta(pt2_node *n, pp_dtype *dt, int *rank, int64_t *dims) {
    return pt2_meta(n->x, n->name, dt, rank, dims);
}

/* The node's result: one IR op on ins, bound to output 0. */
pp_code pt2_simple(pt2_node *n, pp_op op, int n_in, const int *in, int *nd_out) {
    int nd = -1;
    if (nd_out) *nd_out = -1;
    int y = pt2_add(n, op, "", n_in, in, &nd);
    if (y < 0) return pt2_rc(n);
    if (nd_out) *nd_out = nd;
    return pt2_bind_output(n, 0, y);
}

/* "relu_" and "relu" both: the base name without a trailing '_'. */
int pt2_base_is(const char *base, const char *name) {
    size_t l = strlen(name);
    return !strncmp(base, name, l) && (!base[l] || (base[l] == '_' && !base[l + 1]));
}
#endif

/* model_builder.c: see model_builder.h. Plain malloc throughout, so that fault
 * injection (pp_fault_arm_alloc) only ever hits the library under test. */
#include "support/model_builder.h"

#include <stdlib.h>
#include <string.h>

struct pp_mb {
    pp_model view;
    pp_model_tensor *tensors;
    unsigned char *owns_data; /* per tensor: data is the builder's copy */
    size_t n_tensors, cap_tensors, cap_owns;
    pp_model_node *nodes;
    size_t n_nodes, cap_nodes;
    uint32_t *inputs, *outputs;
    size_t n_inputs, cap_inputs, n_outputs, cap_outputs;
    pp_model_meta *meta;
    size_t n_meta, cap_meta;
    int failed;
};

/* Grows *arr (of elem-byte items) so that it holds at least need; 0 on success. */
static int grow(pp_mb *b, void **arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need) n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    *arr = p;
    *cap = n;
    return 0;
}

static char *dup_str(pp_mb *b, const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (!p) {
        b->failed = 1;
        return NULL;
    }
    memcpy(p, s, n);
    return p;
}

static void *dup_mem(pp_mb *b, const void *src, size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        b->failed = 1;
        return NULL;
    }
    if (src && n) memcpy(p, src, n);
    else memset(p, 0, n ? n : 1);
    return p;
}

pp_mb *pp_mb_new(void) { return calloc(1, sizeof(pp_mb)); }

void pp_mb_free(pp_mb *b) {
    if (!b) return;
    for (size_t i = 0; i < b->n_tensors; i++) {
        free((void *)b->tensors[i].name);
        if (b->owns_data[i]) free((void *)b->tensors[i].data);
    }
    for (size_t j = 0; j < b->n_nodes; j++) {
        pp_model_node *n = &b->nodes[j];
        free((void *)n->name);
        free((void *)n->inputs);
        free((void *)n->outputs);
        for (uint32_t a = 0; a < n->n_attrs; a++) {
            free((void *)n->attrs[a].name);
            free((void *)n->attrs[a].s);
            free((void *)n->attrs[a].ints);
            free((void *)n->attrs[a].floats);
        }
        free((void *)n->attrs);
    }
    for (size_t k = 0; k < b->n_meta; k++) {
        free((void *)b->meta[k].key);
        free((void *)b->meta[k].value);
    }
    free(b->tensors);
    free(b->owns_data);
    free(b->nodes);
    free(b->inputs);
    free(b->outputs);
    free(b->meta);
    free(b);
}

static uint32_t add_tensor(pp_mb *b, const char *name, pp_dtype dtype, pp_tensor_kind kind, int rank,
                           const int64_t *dims, const void *data, uint64_t nbytes, int borrow) {
    if (!b || b->failed) return PP_FMT_NONE;
    if (grow(b, (void **)&b->tensors, &b->cap_tensors, b->n_tensors + 1, sizeof *b->tensors) ||
        grow(b, (void **)&b->owns_data, &b->cap_owns, b->n_tensors + 1, 1))
        return PP_FMT_NONE;
    pp_model_tensor t;
    memset(&t, 0, sizeof t);
    t.name = dup_str(b, name ? name : "");
    t.dtype = dtype;
    t.kind = kind;
    t.rank = rank;
    for (int k = 0; k < rank && k < PP_MAX_RANK; k++) t.dims[k] = dims[k];
    int owns = 0;
    if (kind == PP_TENSOR_WEIGHT) {
        t.nbytes = nbytes;
        if (borrow) {
            t.data = data;
        } else if (nbytes) {
            t.data = dup_mem(b, data, (size_t)nbytes);
            owns = 1;
        }
    }
    if (b->failed) {
        free((void *)t.name);
        if (owns) free((void *)t.data);
        return PP_FMT_NONE;
    }
    b->tensors[b->n_tensors] = t;
    b->owns_data[b->n_tensors] = (unsigned char)owns;
    return (uint32_t)b->n_tensors++;
}

uint32_t pp_mb_add_tensor(pp_mb *b, const char *name, pp_dtype dtype, pp_tensor_kind kind, int rank,
                          const int64_t *dims, const void *data, uint64_t nbytes) {
    return add_tensor(b, name, dtype, kind, rank, dims, data, nbytes, 0);
}

uint32_t pp_mb_input(pp_mb *b, const char *name, pp_dtype dtype, int rank, const int64_t *dims) {
    uint32_t id = add_tensor(b, name, dtype, PP_TENSOR_INPUT, rank, dims, NULL, 0, 0);
    if (id != PP_FMT_NONE) pp_mb_add_input(b, id);
    return id;
}

uint32_t pp_mb_activation(pp_mb *b, const char *name, pp_dtype dtype, int rank, const int64_t *dims) {
    return add_tensor(b, name, dtype, PP_TENSOR_ACTIVATION, rank, dims, NULL, 0, 0);
}

static uint64_t shape_bytes(pp_dtype dtype, int rank, const int64_t *dims) {
    uint64_t n = pp_dtype_size(dtype);
    for (int k = 0; k < rank; k++)
        n *= dims[k] < 0 ? 0 - (uint64_t)dims[k] : (uint64_t)dims[k]; /* no UB at INT64_MIN */
    return n;
}

uint32_t pp_mb_weight(pp_mb *b, const char *name, pp_dtype dtype, int rank, const int64_t *dims, const void *data) {
    return add_tensor(b, name, dtype, PP_TENSOR_WEIGHT, rank, dims, data, shape_bytes(dtype, rank, dims), 0);
}

uint32_t pp_mb_weight_borrow(pp_mb *b, const char *name, pp_dtype dtype, int rank, const int64_t *dims,
                             const void *data) {
    return add_tensor(b, name, dtype, PP_TENSOR_WEIGHT, rank, dims, data, shape_bytes(dtype, rank, dims), 1);
}

void *pp_mb_tensor_data(pp_mb *b, uint32_t id) {
    if (!b || id >= b->n_tensors || !b->owns_data[id]) return NULL;
    return (void *)b->tensors[id].data;
}

pp_model_attr pp_mb_attr_int(const char *name, int64_t v) {
    pp_model_attr a = {.name = name, .type = PP_ATTR_INT, .i = v};
    return a;
}
pp_model_attr pp_mb_attr_float(const char *name, double v) {
    pp_model_attr a = {.name = name, .type = PP_ATTR_FLOAT, .f = v};
    return a;
}
pp_model_attr pp_mb_attr_string(const char *name, const char *s) {
    pp_model_attr a = {.name = name, .type = PP_ATTR_STRING, .s = s};
    return a;
}
pp_model_attr pp_mb_attr_ints(const char *name, const int64_t *v, uint32_t n) {
    pp_model_attr a = {.name = name, .type = PP_ATTR_INTS, .count = n, .ints = v};
    return a;
}
pp_model_attr pp_mb_attr_floats(const char *name, const double *v, uint32_t n) {
    pp_model_attr a = {.name = name, .type = PP_ATTR_FLOATS, .count = n, .floats = v};
    return a;
}

uint32_t pp_mb_add_node(pp_mb *b, pp_op op, const char *name, const uint32_t *inputs, uint32_t n_inputs,
                        const uint32_t *outputs, uint32_t n_outputs, const pp_model_attr *attrs, uint32_t n_attrs) {
    if (!b || b->failed) return PP_FMT_NONE;
    if (grow(b, (void **)&b->nodes, &b->cap_nodes, b->n_nodes + 1, sizeof *b->nodes)) return PP_FMT_NONE;
    pp_model_node n;
    memset(&n, 0, sizeof n);
    n.op = op;
    n.name = dup_str(b, name ? name : "");
    n.n_inputs = n_inputs;
    n.n_outputs = n_outputs;
    n.inputs = dup_mem(b, inputs, (size_t)n_inputs * sizeof(uint32_t));
    n.outputs = dup_mem(b, outputs, (size_t)n_outputs * sizeof(uint32_t));
    pp_model_attr *as = calloc(n_attrs ? n_attrs : 1, sizeof *as);
    if (!as) b->failed = 1;
    for (uint32_t a = 0; as && a < n_attrs; a++) {
        as[a] = attrs[a];
        as[a].name = dup_str(b, attrs[a].name);
        as[a].s = dup_str(b, attrs[a].s);
        as[a].ints = attrs[a].ints ? dup_mem(b, attrs[a].ints, (size_t)attrs[a].count * sizeof(int64_t)) : NULL;
        as[a].floats = attrs[a].floats ? dup_mem(b, attrs[a].floats, (size_t)attrs[a].count * sizeof(double)) : NULL;
    }
    n.attrs = as;
    n.n_attrs = as ? n_attrs : 0;
    b->nodes[b->n_nodes] = n; /* kept even on failure, so pp_mb_free releases what was copied */
    b->n_nodes++;
    return b->failed ? PP_FMT_NONE : (uint32_t)(b->n_nodes - 1);
}

void pp_mb_add_input(pp_mb *b, uint32_t id) {
    if (!b || b->failed || grow(b, (void **)&b->inputs, &b->cap_inputs, b->n_inputs + 1, sizeof(uint32_t))) return;
    b->inputs[b->n_inputs++] = id;
}

void pp_mb_add_output(pp_mb *b, uint32_t id) {
    if (!b || b->failed || grow(b, (void **)&b->outputs, &b->cap_outputs, b->n_outputs + 1, sizeof(uint32_t))) return;
    b->outputs[b->n_outputs++] = id;
}

void pp_mb_add_meta(pp_mb *b, const char *key, const char *value) {
    if (!b || b->failed || grow(b, (void **)&b->meta, &b->cap_meta, b->n_meta + 1, sizeof *b->meta)) return;
    pp_model_meta m = {dup_str(b, key), dup_str(b, value)};
    b->meta[b->n_meta++] = m; /* kept even on failure, so pp_mb_free releases it */
}

const pp_model *pp_mb_model(pp_mb *b) {
    if (!b || b->failed) return NULL;
    pp_model *v = &b->view;
    memset(v, 0, sizeof *v);
    v->n_tensors = (uint32_t)b->n_tensors;
    v->n_nodes = (uint32_t)b->n_nodes;
    v->n_inputs = (uint32_t)b->n_inputs;
    v->n_outputs = (uint32_t)b->n_outputs;
    v->n_meta = (uint32_t)b->n_meta;
    v->tensors = b->tensors;
    v->nodes = b->nodes;
    v->inputs = b->inputs;
    v->outputs = b->outputs;
    v->meta = b->meta;
    v->version_major = PP_FMT_VERSION_MAJOR;
    v->version_minor = PP_FMT_VERSION_MINOR;
    return v;
}

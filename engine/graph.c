/* graph.c: building, editing and checking the layer graph. */
#include "graph.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../loader/checked.h"

static char *dup_str(const char *s) {
    if (!s) s = "";
    size_t n = strlen(s) + 1;
    char *d = pp_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static int grow(void **arr, int *cap, int need, size_t elem, pp_error *err) {
    if (need <= *cap) return 0;
    int nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    void *p = pp_realloc(*arr, (size_t)nc * elem);
    if (!p) {
        pp_error_set(err, PP_ERR_NOMEM, "graph: out of memory growing an array to %zu bytes", (size_t)nc * elem);
        return -1;
    }
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
    *arr = p;
    *cap = nc;
    return 0;
}

pp_graph *pp_graph_new(void) {
    pp_graph *g = pp_calloc(1, sizeof(pp_graph));
    if (g) pp_symtab_init(&g->sym);
    return g;
}

static void attr_clear(pp_attr *a) {
    pp_free(a->name);
    pp_free(a->s);
    pp_free(a->ints);
    pp_free(a->floats);
    pp_free(a->sym);
    memset(a, 0, sizeof *a);
}

static void node_clear(pp_node *n) {
    pp_free(n->name);
    pp_free(n->in);
    pp_free(n->out);
    for (int i = 0; i < n->n_attr; i++) attr_clear(&n->attrs[i]);
    pp_free(n->attrs);
    memset(n, 0, sizeof *n);
}

void pp_graph_free(pp_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_tensors; i++) {
        pp_free(g->tensors[i].name);
        pp_free(g->tensors[i].owned);
    }
    for (int i = 0; i < g->n_nodes; i++) node_clear(&g->nodes[i]);
    for (int i = 0; i < g->n_meta; i++) {
        pp_free(g->meta_keys[i]);
        pp_free(g->meta_values[i]);
    }
    pp_free(g->meta_keys);
    pp_free(g->meta_values);
    pp_free(g->tensors);
    pp_free(g->nodes);
    pp_free(g->inputs);
    pp_free(g->outputs);
    pp_symtab_free(&g->sym);
    pp_graph_forget_probes(g);
    pp_model_free(g->model);
    if (g->keep && g->keep_free) g->keep_free(g->keep);
    pp_free(g);
}

int pp_graph_add_tensor(pp_graph *g, const char *name, pp_dtype dtype, pp_tensor_kind kind, int rank,
                        const int64_t *dims, pp_error *err) {
    if (rank > PP_MAX_RANK) {
        pp_error_set(err, PP_ERR_UNSUPPORTED, "tensor '%s': rank %d exceeds the maximum of %d", name, rank,
                     PP_MAX_RANK);
        return -1;
    }
    if (grow((void **)&g->tensors, &g->cap_tensors, g->n_tensors + 1, sizeof(pp_tensor), err)) return -1;
    pp_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = dup_str(name);
    if (!t->name) {
        pp_error_nomem(err, "graph: out of memory copying tensor name '%s'", name);
        return -1;
    }
    t->dtype = dtype;
    t->kind = kind;
    t->rank = rank;
    for (int i = 0; i < rank && dims; i++) t->dims[i] = dims[i];
    t->producer = -1;
    return g->n_tensors++;
}

int pp_graph_add_weight(pp_graph *g, const char *name, pp_dtype dtype, int rank, const int64_t *dims, const void *data,
                        uint64_t nbytes, pp_error *err) {
    void *copy = pp_malloc((size_t)nbytes);
    if (!copy) {
        pp_error_set(err, PP_ERR_NOMEM, "weight '%s': out of memory for %llu bytes", name, (unsigned long long)nbytes);
        return -1;
    }
    if (nbytes) memcpy(copy, data, (size_t)nbytes);
    int id = pp_graph_add_tensor(g, name, dtype, PP_TENSOR_WEIGHT, rank, dims, err);
    if (id < 0) {
        pp_free(copy);
        return -1;
    }
    g->tensors[id].owned = copy;
    g->tensors[id].data = copy;
    g->tensors[id].nbytes = nbytes;
    return id;
}

int pp_graph_add_node(pp_graph *g, pp_op op, const char *name, int n_in, const int *in, int n_out, const int *out,
                      pp_error *err) {
    if (grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(pp_node), err)) return -1;
    pp_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->name = dup_str(name);
    n->in = pp_malloc(sizeof(int) * (size_t)(n_in ? n_in : 1));
    n->out = pp_malloc(sizeof(int) * (size_t)(n_out ? n_out : 1));
    if (!n->name || !n->in || !n->out) {
        node_clear(n);
        pp_error_nomem(err, "node '%s': out of memory", name);
        return -1;
    }
    n->n_in = n_in;
    n->n_out = n_out;
    if (n_in) memcpy(n->in, in, sizeof(int) * (size_t)n_in);
    if (n_out) memcpy(n->out, out, sizeof(int) * (size_t)n_out);
    for (int i = 0; i < n_out; i++)
        if (out[i] >= 0 && out[i] < g->n_tensors) g->tensors[out[i]].producer = g->n_nodes;
    return g->n_nodes++;
}

static int *dup_ints(const int *v, int n) {
    int *d = pp_malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (d && n) memcpy(d, v, sizeof(int) * (size_t)n);
    return d;
}

pp_code pp_graph_set_io(pp_graph *g, int n_in, const int *in, int n_out, const int *out, pp_error *err) {
    int *a = dup_ints(in, n_in), *b = dup_ints(out, n_out);
    if (!a || !b) {
        pp_free(a);
        pp_free(b);
        return pp_error_nomem(err, "graph: out of memory setting inputs and outputs");
    }
    pp_free(g->inputs);
    pp_free(g->outputs);
    g->inputs = a;
    g->n_inputs = n_in;
    g->outputs = b;
    g->n_outputs = n_out;
    return PP_OK;
}

pp_code pp_graph_add_meta(pp_graph *g, const char *key, const char *value, pp_error *err) {
    for (int i = 0; i < g->n_meta; i++) {
        if (strcmp(g->meta_keys[i], key) == 0) {
            char *v = dup_str(value);
            if (!v) return pp_error_nomem(err, "graph: out of memory for metadata '%s'", key);
            pp_free(g->meta_values[i]);
            g->meta_values[i] = v;
            return PP_OK;
        }
    }
    char **k = pp_realloc(g->meta_keys, sizeof(char *) * (size_t)(g->n_meta + 1));
    if (!k) return pp_error_nomem(err, "graph: out of memory for metadata '%s'", key);
    g->meta_keys = k;
    char **v = pp_realloc(g->meta_values, sizeof(char *) * (size_t)(g->n_meta + 1));
    if (!v) return pp_error_nomem(err, "graph: out of memory for metadata '%s'", key);
    g->meta_values = v;
    k[g->n_meta] = dup_str(key);
    v[g->n_meta] = dup_str(value);
    if (!k[g->n_meta] || !v[g->n_meta]) {
        pp_free(k[g->n_meta]);
        pp_free(v[g->n_meta]);
        return pp_error_nomem(err, "graph: out of memory for metadata '%s'", key);
    }
    g->n_meta++;
    return PP_OK;
}

/* ---- attributes --------------------------------------------------------- */

static pp_attr *attr_slot(pp_graph *g, int node, const char *name, pp_error *err) {
    pp_node *n = &g->nodes[node];
    for (int i = 0; i < n->n_attr; i++) {
        if (strcmp(n->attrs[i].name, name) == 0) {
            char *nm = n->attrs[i].name;
            n->attrs[i].name = NULL;
            attr_clear(&n->attrs[i]);
            n->attrs[i].name = nm;
            return &n->attrs[i];
        }
    }
    pp_attr *a = pp_realloc(n->attrs, sizeof(pp_attr) * (size_t)(n->n_attr + 1));
    if (!a) {
        pp_error_nomem(err, "node '%s': out of memory for attribute '%s'", n->name, name);
        return NULL;
    }
    n->attrs = a;
    pp_attr *s = &a[n->n_attr];
    memset(s, 0, sizeof *s);
    s->name = dup_str(name);
    if (!s->name) {
        pp_error_nomem(err, "node '%s': out of memory for attribute '%s'", n->name, name);
        return NULL;
    }
    n->n_attr++;
    return s;
}

pp_code pp_node_set_int(pp_graph *g, int node, const char *name, int64_t v, pp_error *err) {
    pp_attr *a = attr_slot(g, node, name, err);
    if (!a) return PP_ERR_NOMEM;
    a->type = PP_ATTR_INT;
    a->i = v;
    a->count = 1;
    return PP_OK;
}

pp_code pp_node_set_float(pp_graph *g, int node, const char *name, double v, pp_error *err) {
    pp_attr *a = attr_slot(g, node, name, err);
    if (!a) return PP_ERR_NOMEM;
    a->type = PP_ATTR_FLOAT;
    a->f = v;
    a->count = 1;
    return PP_OK;
}

pp_code pp_node_set_string(pp_graph *g, int node, const char *name, const char *v, pp_error *err) {
    pp_attr *a = attr_slot(g, node, name, err);
    if (!a) return PP_ERR_NOMEM;
    a->type = PP_ATTR_STRING;
    a->count = 1;
    a->s = dup_str(v);
    if (!a->s) return pp_error_nomem(err, "out of memory for attribute '%s'", name);
    return PP_OK;
}

pp_code pp_node_set_ints(pp_graph *g, int node, const char *name, const int64_t *v, uint32_t n, pp_error *err) {
    pp_attr *a = attr_slot(g, node, name, err);
    if (!a) return PP_ERR_NOMEM;
    a->type = PP_ATTR_INTS;
    a->count = n;
    a->ints = pp_malloc(sizeof(int64_t) * (n ? n : 1));
    if (!a->ints) return pp_error_nomem(err, "out of memory for attribute '%s'", name);
    if (n) memcpy(a->ints, v, sizeof(int64_t) * n);
    return PP_OK;
}

pp_code pp_node_set_floats(pp_graph *g, int node, const char *name, const double *v, uint32_t n, pp_error *err) {
    pp_attr *a = attr_slot(g, node, name, err);
    if (!a) return PP_ERR_NOMEM;
    a->type = PP_ATTR_FLOATS;
    a->count = n;
    a->floats = pp_malloc(sizeof(double) * (n ? n : 1));
    if (!a->floats) return pp_error_nomem(err, "out of memory for attribute '%s'", name);
    if (n) memcpy(a->floats, v, sizeof(double) * n);
    return PP_OK;
}

pp_code pp_node_set_sym(pp_graph *g, int node, const char *name, uint32_t elem, int32_t slot, pp_error *err) {
    pp_node *n = &g->nodes[node];
    pp_attr *a = (pp_attr *)pp_node_attr(n, name);
    if (!a || a->type == PP_ATTR_STRING || elem >= a->count || slot < 0 || slot >= g->sym.n_prog)
        return pp_error_set(err, PP_ERR_INTERNAL, "node '%s': cannot bind value %u of attribute '%s' to shape value %d",
                            n->name, elem, name, slot);
    if (!a->sym) {
        a->sym = pp_malloc(sizeof(int32_t) * a->count);
        if (!a->sym) return pp_error_nomem(err, "node '%s': out of memory for attribute '%s'", n->name, name);
        for (uint32_t k = 0; k < a->count; k++) a->sym[k] = -1;
    }
    a->sym[elem] = slot;
    switch (a->type) {
    case PP_ATTR_INT: a->i = 0; break;
    case PP_ATTR_FLOAT: a->f = 0; break;
    case PP_ATTR_INTS: a->ints[elem] = 0; break;
    case PP_ATTR_FLOATS: a->floats[elem] = 0; break;
    default: break;
    }
    return PP_OK;
}

pp_code pp_node_copy_attr(pp_graph *g, int node, const pp_attr *at, pp_error *err) {
    pp_code rc = PP_ERR_INTERNAL;
    switch (at->type) {
    case PP_ATTR_INT: rc = pp_node_set_int(g, node, at->name, at->i, err); break;
    case PP_ATTR_FLOAT: rc = pp_node_set_float(g, node, at->name, at->f, err); break;
    case PP_ATTR_STRING: rc = pp_node_set_string(g, node, at->name, at->s, err); break;
    case PP_ATTR_INTS: rc = pp_node_set_ints(g, node, at->name, at->ints, at->count, err); break;
    case PP_ATTR_FLOATS: rc = pp_node_set_floats(g, node, at->name, at->floats, at->count, err); break;
    }
    for (uint32_t k = 0; !rc && at->sym && k < at->count; k++)
        if (at->sym[k] >= 0) rc = pp_node_set_sym(g, node, at->name, k, at->sym[k], err);
    return rc;
}

int pp_node_is_symbolic(const pp_node *n) {
    for (int i = 0; i < n->n_attr; i++)
        if (n->attrs[i].sym) return 1;
    return 0;
}

void pp_node_resolve(pp_node *n, const int64_t *slot) {
    for (int i = 0; i < n->n_attr; i++) {
        pp_attr *a = &n->attrs[i];
        for (uint32_t k = 0; a->sym && k < a->count; k++) {
            if (a->sym[k] < 0) continue;
            int64_t v = slot[a->sym[k]];
            switch (a->type) {
            case PP_ATTR_INT: a->i = v; break;
            case PP_ATTR_FLOAT: a->f = (double)v; break;
            case PP_ATTR_INTS: a->ints[k] = v; break;
            case PP_ATTR_FLOATS: a->floats[k] = (double)v; break;
            default: break;
            }
        }
    }
}

const pp_attr *pp_node_attr(const pp_node *n, const char *name) {
    for (int i = 0; i < n->n_attr; i++)
        if (n->attrs[i].name && strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

int64_t pp_node_int(const pp_node *n, const char *name, int64_t def) {
    const pp_attr *a = pp_node_attr(n, name);
    if (!a) return def;
    if (a->type == PP_ATTR_INT) return a->i;
    /* A float where an int is wanted: converted only when it fits (files are
     * untrusted, and an out-of-range cast is undefined). */
    if (a->type == PP_ATTR_FLOAT && a->f > -9.2e18 && a->f < 9.2e18) return (int64_t)a->f;
    return def;
}

double pp_node_float(const pp_node *n, const char *name, double def) {
    const pp_attr *a = pp_node_attr(n, name);
    if (!a) return def;
    if (a->type == PP_ATTR_FLOAT) return a->f;
    if (a->type == PP_ATTR_INT) return (double)a->i;
    return def;
}

const char *pp_node_string(const pp_node *n, const char *name, const char *def) {
    const pp_attr *a = pp_node_attr(n, name);
    return a && a->type == PP_ATTR_STRING ? a->s : def;
}

const int64_t *pp_node_ints(const pp_node *n, const char *name, uint32_t *count) {
    const pp_attr *a = pp_node_attr(n, name);
    if (!a || a->type != PP_ATTR_INTS) {
        *count = 0;
        return NULL;
    }
    *count = a->count;
    return a->ints;
}

/* ---- shapes -------------------------------------------------------------- */

void pp_tensor_dims_at(const pp_tensor *t, int64_t batch, int64_t *dims) {
    pp_dimenv env = {{0}, batch, NULL, 0};
    pp_tensor_dims_env(t, &env, dims);
}

void pp_tensor_dims_env(const pp_tensor *t, const pp_dimenv *env, int64_t *dims) {
    for (int i = 0; i < t->rank; i++) dims[i] = pp_dim_value(t->dims[i], env);
}

int pp_tensor_is_symbolic(const pp_tensor *t) {
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i] < 0) return 1;
    return 0;
}

uint64_t pp_tensor_bytes_at(const pp_tensor *t, int64_t batch) {
    pp_dimenv env = {{0}, batch, NULL, 0};
    return pp_tensor_bytes_env(t, &env);
}

uint64_t pp_tensor_bytes_env(const pp_tensor *t, const pp_dimenv *env) {
    int64_t d[PP_MAX_RANK];
    pp_tensor_dims_env(t, env, d);
    /* a blocked layout pads the channels to whole blocks */
    if (t->layout == PP_LAYOUT_NCHWC && t->rank == 4 && t->block > 0)
        d[1] = (d[1] + t->block - 1) / t->block * t->block;
    size_t n = pp_dtype_size(t->dtype);
    for (int i = 0; i < t->rank; i++)
        if (pp_mul_size(n, (size_t)d[i], &n)) return 0;
    return n;
}

const char *pp_tensor_shape_str(const pp_tensor *t, char *buf, size_t size) {
    return pp_graph_shape_str(NULL, t, buf, size);
}

const char *pp_graph_shape_str(const pp_graph *g, const pp_tensor *t, char *buf, size_t size) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, size - o, "(");
    for (int i = 0; i < t->rank && o < size; i++) {
        char d[96];
        o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "",
                              pp_symtab_dim_str(g ? &g->sym : NULL, t->dims[i], d, sizeof d));
    }
    if (o < size) snprintf(buf + o, size - o, ")");
    return buf;
}

uint64_t pp_graph_param_count(const pp_graph *g) {
    uint64_t n = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        const pp_tensor *t = &g->tensors[i];
        if (t->kind != PP_TENSOR_WEIGHT) continue;
        uint64_t e = 1;
        for (int d = 0; d < t->rank; d++) e *= (uint64_t)t->dims[d];
        n += e;
    }
    return n;
}

/* ---- structure ------------------------------------------------------------ */

/* The shape program without the values no dim and no attribute needs any more
 * (importers emit some that later fold away). */
static pp_code compact_program(pp_graph *g, pp_error *err) {
    int n = g->sym.n_prog;
    if (!n) return PP_OK;
    char *used = pp_calloc((size_t)n, 1);
    int32_t *remap = pp_malloc(sizeof(int32_t) * (size_t)n);
    if (!used || !remap) {
        pp_free(used);
        pp_free(remap);
        return pp_error_nomem(err, "graph: out of memory compacting %d shape values", n);
    }
    for (int i = 0; i < g->n_tensors; i++)
        for (int d = 0; d < g->tensors[i].rank; d++)
            if (pp_dim_is_slot(g->tensors[i].dims[d])) used[pp_dim_slot(g->tensors[i].dims[d])] = 1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int a = 0; a < g->nodes[i].n_attr; a++) {
            const pp_attr *at = &g->nodes[i].attrs[a];
            for (uint32_t k = 0; at->sym && k < at->count; k++)
                if (at->sym[k] >= 0) used[at->sym[k]] = 1;
        }
    pp_symtab_prune(&g->sym, used, remap);
    for (int i = 0; i < g->n_tensors; i++)
        for (int d = 0; d < g->tensors[i].rank; d++)
            if (pp_dim_is_slot(g->tensors[i].dims[d]))
                g->tensors[i].dims[d] = pp_dim_of_slot(remap[pp_dim_slot(g->tensors[i].dims[d])]);
    for (int i = 0; i < g->n_nodes; i++)
        for (int a = 0; a < g->nodes[i].n_attr; a++) {
            pp_attr *at = &g->nodes[i].attrs[a];
            for (uint32_t k = 0; at->sym && k < at->count; k++)
                if (at->sym[k] >= 0) at->sym[k] = remap[at->sym[k]];
        }
    if (g->sym.n_prog != n) pp_graph_forget_probes(g);
    pp_free(used);
    pp_free(remap);
    return PP_OK;
}

pp_code pp_graph_compact(pp_graph *g, pp_error *err) {
    /* Live nodes first, then the tensors they or the graph's I/O touch. */
    int *remap = pp_malloc(sizeof(int) * (size_t)(g->n_tensors ? g->n_tensors : 1));
    char *used = pp_calloc((size_t)(g->n_tensors ? g->n_tensors : 1), 1);
    if (!remap || !used) {
        pp_free(remap);
        pp_free(used);
        return pp_error_nomem(err, "graph: out of memory compacting %d tensors", g->n_tensors);
    }
    int w = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].dead) {
            node_clear(&g->nodes[i]);
            continue;
        }
        if (w != i) g->nodes[w] = g->nodes[i];
        w++;
    }
    g->n_nodes = w;
    for (int i = 0; i < g->n_nodes; i++) {
        const pp_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) used[n->in[j]] = 1;
        for (int j = 0; j < n->n_out; j++)
            if (n->out[j] >= 0) used[n->out[j]] = 1;
    }
    for (int i = 0; i < g->n_inputs; i++) used[g->inputs[i]] = 1;
    for (int i = 0; i < g->n_outputs; i++) used[g->outputs[i]] = 1;
    w = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        if (!used[i]) {
            pp_free(g->tensors[i].name);
            pp_free(g->tensors[i].owned);
            remap[i] = -1;
            continue;
        }
        if (w != i) g->tensors[w] = g->tensors[i];
        remap[i] = w++;
    }
    g->n_tensors = w;
    for (int i = 0; i < g->n_tensors; i++) g->tensors[i].producer = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        pp_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) n->in[j] = remap[n->in[j]];
        for (int j = 0; j < n->n_out; j++) {
            if (n->out[j] >= 0) n->out[j] = remap[n->out[j]];
            if (n->out[j] >= 0) g->tensors[n->out[j]].producer = i;
        }
    }
    for (int i = 0; i < g->n_inputs; i++) g->inputs[i] = remap[g->inputs[i]];
    for (int i = 0; i < g->n_outputs; i++) g->outputs[i] = remap[g->outputs[i]];
    pp_free(remap);
    pp_free(used);
    return compact_program(g, err);
}

pp_code pp_graph_toposort(pp_graph *g, pp_error *err) {
    /* Kahn's algorithm over producer edges; stable (keeps the existing order
     * wherever it is already valid), so source order survives for profiles. */
    int nn = g->n_nodes;
    if (nn == 0) return PP_OK;
    int *indeg = pp_calloc((size_t)nn, sizeof(int));
    int *order = pp_malloc(sizeof(int) * (size_t)nn);
    char *done = pp_calloc((size_t)nn, 1);
    pp_node *sorted = pp_malloc(sizeof(pp_node) * (size_t)nn);
    if (!indeg || !order || !done || !sorted) {
        pp_free(indeg);
        pp_free(order);
        pp_free(done);
        pp_free(sorted);
        return pp_error_nomem(err, "graph: out of memory sorting %d nodes", nn);
    }
    for (int i = 0; i < g->n_tensors; i++) g->tensors[i].producer = -1;
    for (int i = 0; i < nn; i++)
        for (int j = 0; j < g->nodes[i].n_out; j++)
            if (g->nodes[i].out[j] >= 0) g->tensors[g->nodes[i].out[j]].producer = i;
    int placed = 0;
    /* Repeated passes in source order: O(n·depth) worst case, fine for graphs
     * of thousands of nodes, and it keeps the order stable. */
    int progress = 1;
    while (placed < nn && progress) {
        progress = 0;
        for (int i = 0; i < nn; i++) {
            if (done[i]) continue;
            int ready = 1;
            for (int j = 0; j < g->nodes[i].n_in && ready; j++) {
                int t = g->nodes[i].in[j];
                if (t < 0) continue;
                int p = g->tensors[t].producer;
                if (p >= 0 && !done[p]) ready = 0;
            }
            if (ready) {
                done[i] = 1;
                order[placed++] = i;
                progress = 1;
            }
        }
    }
    pp_code rc = PP_OK;
    if (placed < nn) {
        int bad = 0;
        while (done[bad]) bad++;
        rc = pp_error_set(err, PP_ERR_FORMAT, "graph has a cycle through node '%s' (%s)", g->nodes[bad].name,
                          pp_op_name(g->nodes[bad].op));
    } else {
        for (int i = 0; i < nn; i++) sorted[i] = g->nodes[order[i]];
        memcpy(g->nodes, sorted, sizeof(pp_node) * (size_t)nn);
        for (int i = 0; i < nn; i++)
            for (int j = 0; j < g->nodes[i].n_out; j++)
                if (g->nodes[i].out[j] >= 0) g->tensors[g->nodes[i].out[j]].producer = i;
    }
    pp_free(indeg);
    pp_free(order);
    pp_free(done);
    pp_free(sorted);
    return rc;
}

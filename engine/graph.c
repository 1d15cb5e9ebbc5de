/* graph.c: building, editing and checking the layer graph. */
#include "graph.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/cpu/cpu_kernels.h"
#include "../loader/checked.h"
#include "ops.h"

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

pp_graph *pp_graph_new(void) { return pp_calloc(1, sizeof(pp_graph)); }

static void attr_clear(pp_attr *a) {
    pp_free(a->name);
    pp_free(a->s);
    pp_free(a->ints);
    pp_free(a->floats);
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
    /* Saturating: a file may hold absurd batch multiples, which the size
     * check in pp_op_describe then refuses. */
    for (int i = 0; i < t->rank; i++) {
        int64_t d = t->dims[i];
        if (d >= 0) dims[i] = d;
        else if (d == INT64_MIN || pp_mul_i64(-d, batch, &dims[i])) dims[i] = INT64_MAX;
    }
}

uint64_t pp_tensor_bytes_at(const pp_tensor *t, int64_t batch) {
    int64_t d[PP_MAX_RANK];
    pp_tensor_dims_at(t, batch, d);
    /* a blocked layout pads the channels to whole blocks */
    if (t->layout == PP_LAYOUT_NCHWC && t->rank == 4 && t->block > 0)
        d[1] = (d[1] + t->block - 1) / t->block * t->block;
    size_t n = pp_dtype_size(t->dtype);
    for (int i = 0; i < t->rank; i++)
        if (pp_mul_size(n, (size_t)d[i], &n)) return 0;
    return n;
}

const char *pp_tensor_shape_str(const pp_tensor *t, char *buf, size_t size) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, size - o, "(");
    for (int i = 0; i < t->rank && o < size; i++) {
        const char *sep = i ? ", " : "";
        if (t->dims[i] == PP_DIM_BATCH) o += (size_t)snprintf(buf + o, size - o, "%sN", sep);
        else if (t->dims[i] < 0) o += (size_t)snprintf(buf + o, size - o, "%s%lldN", sep, (long long)-t->dims[i]);
        else o += (size_t)snprintf(buf + o, size - o, "%s%lld", sep, (long long)t->dims[i]);
    }
    if (o < size) snprintf(buf + o, size - o, ")");
    return buf;
}

/* Replaces weight t's bytes with a converted copy the graph owns. */
static pp_code convert_weight(pp_graph *g, int t, pp_dtype to, pp_error *err) {
    pp_tensor *w = &g->tensors[t];
    size_t from_size = pp_dtype_size(w->dtype), n = from_size ? (size_t)w->nbytes / from_size : 0;
    size_t bytes;
    if (pp_mul_size(n, pp_dtype_size(to), &bytes))
        return pp_error_set(err, PP_ERR_SHAPE, "weight '%s' is too large", w->name);
    void *out = pp_malloc(bytes ? bytes : 1);
    if (!out) return pp_error_nomem(err, "weight '%s': out of memory converting it to %s", w->name, pp_dtype_name(to));
    for (size_t i = 0; i < n; i++) {
        float f = 0;
        uint16_t h;
        switch (w->dtype) {
        case PP_DTYPE_F32: memcpy(&f, (const char *)w->data + 4 * i, 4); break;
        case PP_DTYPE_F16: memcpy(&h, (const char *)w->data + 2 * i, 2), f = pp_f16_to_f32(h); break;
        case PP_DTYPE_BF16: memcpy(&h, (const char *)w->data + 2 * i, 2), f = pp_bf16_to_f32(h); break;
        default: break;
        }
        switch (to) {
        case PP_DTYPE_F32: memcpy((char *)out + 4 * i, &f, 4); break;
        case PP_DTYPE_F16: h = pp_f32_to_f16(f), memcpy((char *)out + 2 * i, &h, 2); break;
        case PP_DTYPE_BF16: h = pp_f32_to_bf16(f), memcpy((char *)out + 2 * i, &h, 2); break;
        default: break;
        }
    }
    pp_free(w->owned);
    w->owned = out;
    w->data = out;
    w->nbytes = bytes;
    w->dtype = to;
    return PP_OK;
}

pp_code pp_graph_store_weights(pp_graph *g, pp_dtype dt, pp_error *err) {
    if (dt == PP_DTYPE_F32 || dt == PP_DTYPE_INVALID) return PP_OK;
    if (dt != PP_DTYPE_F16 && dt != PP_DTYPE_BF16)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "weights can be stored as f32, f16 or bf16, not %s",
                            pp_dtype_name(dt));
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].kind == PP_TENSOR_WEIGHT && g->tensors[i].dtype == PP_DTYPE_F32) {
            pp_code rc = convert_weight(g, i, dt, err);
            if (rc) return rc;
        }
    return pp_graph_add_meta(g, "weights_dtype", pp_dtype_name(dt), err);
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
    return PP_OK;
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

pp_code pp_graph_infer(pp_graph *g, pp_error *err) {
    for (int i = 0; i < g->n_nodes; i++) {
        pp_node *n = &g->nodes[i];
        pp_shape in1[PP_MAX_IO], in2[PP_MAX_IO], out1[PP_MAX_IO], out2[PP_MAX_IO];
        const void *cdata[PP_MAX_IO];
        if (n->n_in > PP_MAX_IO || n->n_out > PP_MAX_IO)
            return pp_error_set(err, PP_ERR_UNSUPPORTED, "node '%s' (%s): %d inputs and %d outputs exceed %d", n->name,
                                pp_op_name(n->op), n->n_in, n->n_out, PP_MAX_IO);
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] < 0) {
                memset(&in1[j], 0, sizeof in1[j]);
                memset(&in2[j], 0, sizeof in2[j]);
                cdata[j] = NULL;
                continue;
            }
            const pp_tensor *t = &g->tensors[n->in[j]];
            if (t->rank < 0)
                return pp_error_set(err, PP_ERR_SHAPE, "node '%s' (%s): input %d ('%s') has no known shape", n->name,
                                    pp_op_name(n->op), j, t->name);
            pp_shape_of(t, 1, &in1[j]);
            pp_shape_of(t, 2, &in2[j]);
            cdata[j] = t->kind == PP_TENSOR_WEIGHT ? t->data : NULL;
        }
        pp_op_params p;
        pp_code rc = pp_op_describe(n, in1, out1, &p, NULL, cdata, err);
        if (rc) return rc;
        rc = pp_op_describe(n, in2, out2, &p, NULL, cdata, err);
        if (rc) return rc;
        for (int j = 0; j < n->n_out; j++) {
            if (n->out[j] < 0) continue;
            pp_tensor *t = &g->tensors[n->out[j]];
            if (out1[j].rank != out2[j].rank || out1[j].dtype != out2[j].dtype)
                return pp_error_set(err, PP_ERR_SHAPE, "node '%s' (%s): output %d ('%s') changes rank with the batch",
                                    n->name, pp_op_name(n->op), j, t->name);
            t->rank = out1[j].rank;
            t->dtype = out1[j].dtype;
            for (int d = 0; d < t->rank; d++) {
                int64_t a = out1[j].dims[d], b = out2[j].dims[d];
                if (a == b) t->dims[d] = a;
                else if (b == 2 * a && a > 0) t->dims[d] = -a;
                else
                    return pp_error_set(err, PP_ERR_SHAPE,
                                        "node '%s' (%s): output '%s' axis %d is %lld at batch 1 and %lld at batch 2, "
                                        "not a multiple of the batch",
                                        n->name, pp_op_name(n->op), t->name, d, (long long)a, (long long)b);
            }
        }
    }
    return PP_OK;
}

/* ---- model <-> graph --------------------------------------------------------- */

pp_code pp_graph_from_model(pp_model **model, pp_graph **out, pp_error *err) {
    const pp_model *m = *model;
    *out = NULL;
    pp_graph *g = pp_graph_new();
    if (!g) return pp_error_nomem(err, "graph: out of memory");
    pp_code rc = PP_OK;
    for (uint32_t i = 0; i < m->n_tensors && !rc; i++) {
        const pp_model_tensor *t = &m->tensors[i];
        if (pp_graph_add_tensor(g, t->name, t->dtype, t->kind, t->rank, t->dims, err) < 0) rc = PP_ERR_NOMEM;
        else if (t->kind == PP_TENSOR_WEIGHT) {
            g->tensors[i].data = t->data;
            g->tensors[i].nbytes = t->nbytes;
        } else if (t->kind == PP_TENSOR_ACTIVATION) {
            g->tensors[i].rank = -1; /* inferred below; the file's shape is checked against it */
        }
    }
    for (uint32_t i = 0; i < m->n_nodes && !rc; i++) {
        const pp_model_node *mn = &m->nodes[i];
        int in[PP_MAX_IO], outs[PP_MAX_IO];
        if (mn->n_inputs > PP_MAX_IO || mn->n_outputs > PP_MAX_IO) {
            rc = pp_error_set(err, PP_ERR_UNSUPPORTED, "node %u '%s': too many inputs or outputs", i, mn->name);
            break;
        }
        for (uint32_t j = 0; j < mn->n_inputs; j++) in[j] = mn->inputs[j] == PP_FMT_NONE ? -1 : (int)mn->inputs[j];
        for (uint32_t j = 0; j < mn->n_outputs; j++) outs[j] = (int)mn->outputs[j];
        int id = pp_graph_add_node(g, mn->op, mn->name, (int)mn->n_inputs, in, (int)mn->n_outputs, outs, err);
        if (id < 0) {
            rc = PP_ERR_NOMEM;
            break;
        }
        for (uint32_t a = 0; a < mn->n_attrs && !rc; a++) {
            const pp_model_attr *ma = &mn->attrs[a];
            switch (ma->type) {
            case PP_ATTR_INT: rc = pp_node_set_int(g, id, ma->name, ma->i, err); break;
            case PP_ATTR_FLOAT: rc = pp_node_set_float(g, id, ma->name, ma->f, err); break;
            case PP_ATTR_STRING: rc = pp_node_set_string(g, id, ma->name, ma->s, err); break;
            case PP_ATTR_INTS: rc = pp_node_set_ints(g, id, ma->name, ma->ints, ma->count, err); break;
            case PP_ATTR_FLOATS: rc = pp_node_set_floats(g, id, ma->name, ma->floats, ma->count, err); break;
            }
        }
    }
    if (!rc) {
        int in[PP_MAX_IO], outs[PP_MAX_IO];
        if (m->n_inputs > PP_MAX_IO || m->n_outputs > PP_MAX_IO)
            rc = pp_error_set(err, PP_ERR_UNSUPPORTED, "graph has more than %d inputs or outputs", PP_MAX_IO);
        for (uint32_t i = 0; !rc && i < m->n_inputs; i++) in[i] = (int)m->inputs[i];
        for (uint32_t i = 0; !rc && i < m->n_outputs; i++) outs[i] = (int)m->outputs[i];
        if (!rc) rc = pp_graph_set_io(g, (int)m->n_inputs, in, (int)m->n_outputs, outs, err);
    }
    for (uint32_t i = 0; i < m->n_meta && !rc; i++) rc = pp_graph_add_meta(g, m->meta[i].key, m->meta[i].value, err);
    /* Weights stored narrow (ppconvert --dtype) are widened once, here. */
    const char *stored = pp_model_meta_get(m, "weights_dtype");
    pp_dtype narrow = stored ? pp_dtype_from_name(stored) : PP_DTYPE_INVALID;
    for (int i = 0; !rc && (narrow == PP_DTYPE_F16 || narrow == PP_DTYPE_BF16) && i < g->n_tensors; i++)
        if (g->tensors[i].kind == PP_TENSOR_WEIGHT && g->tensors[i].dtype == narrow) {
            rc = convert_weight(g, i, PP_DTYPE_F32, err);
            /* the file's record says narrow; the check below compares activations only */
        }
    if (!rc) rc = pp_graph_infer(g, err);
    /* The file states every activation's shape too; a mismatch means the writer
     * and this engine disagree about an op, which must not pass silently. */
    for (uint32_t i = 0; i < m->n_tensors && !rc; i++) {
        const pp_model_tensor *mt = &m->tensors[i];
        const pp_tensor *t = &g->tensors[i];
        if (mt->kind != PP_TENSOR_ACTIVATION || t->rank < 0) continue;
        int same = mt->rank == t->rank && mt->dtype == t->dtype;
        for (int d = 0; same && d < t->rank; d++) same = mt->dims[d] == t->dims[d];
        if (!same) {
            char a[128], b[128];
            pp_tensor tmp = *t;
            tmp.rank = mt->rank;
            memcpy(tmp.dims, mt->dims, sizeof tmp.dims);
            rc = pp_error_set(err, PP_ERR_SHAPE, "tensor %u '%s': the file says %s %s, inference gives %s %s", i,
                              t->name, pp_dtype_name(mt->dtype), pp_tensor_shape_str(&tmp, a, sizeof a),
                              pp_dtype_name(t->dtype), pp_tensor_shape_str(t, b, sizeof b));
        }
    }
    if (rc) {
        pp_graph_free(g);
        return rc;
    }
    g->model = *model;
    *model = NULL;
    *out = g;
    return PP_OK;
}

/* A pp_model that views the graph's own arrays (the writer copies what it
 * needs), for writing to a file or to memory: `path` set, or `out`. */
static pp_code graph_write(const pp_graph *g, const char *path, void **out, size_t *out_size, pp_progress_fn progress,
                           void *arg, pp_error *err) {
    size_t n_idx = 0, n_attr = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        n_idx += (size_t)g->nodes[i].n_in + (size_t)g->nodes[i].n_out;
        n_attr += (size_t)g->nodes[i].n_attr;
    }
    pp_model m;
    memset(&m, 0, sizeof m);
    pp_model_tensor *ts = pp_calloc((size_t)g->n_tensors + 1, sizeof *ts);
    pp_model_node *ns = pp_calloc((size_t)g->n_nodes + 1, sizeof *ns);
    uint32_t *idx = pp_calloc(n_idx + (size_t)g->n_inputs + (size_t)g->n_outputs + 1, sizeof *idx);
    pp_model_attr *as = pp_calloc(n_attr + 1, sizeof *as);
    pp_model_meta *ms = pp_calloc((size_t)g->n_meta + 1, sizeof *ms);
    pp_code rc = PP_OK;
    if (!ts || !ns || !idx || !as || !ms) {
        rc = pp_error_nomem(err, "writing '%s': out of memory", path ? path : "graph.bin");
        goto done;
    }
    for (int i = 0; i < g->n_tensors; i++) {
        const pp_tensor *t = &g->tensors[i];
        ts[i].name = t->name;
        ts[i].dtype = t->dtype;
        ts[i].kind = t->kind;
        ts[i].rank = t->rank < 0 ? 0 : t->rank;
        memcpy(ts[i].dims, t->dims, sizeof t->dims);
        ts[i].data = t->data;
        ts[i].nbytes = t->nbytes;
    }
    size_t ip = 0, ap = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const pp_node *n = &g->nodes[i];
        ns[i].op = n->op;
        ns[i].name = n->name;
        ns[i].n_inputs = (uint32_t)n->n_in;
        ns[i].inputs = &idx[ip];
        for (int j = 0; j < n->n_in; j++) idx[ip++] = n->in[j] < 0 ? PP_FMT_NONE : (uint32_t)n->in[j];
        ns[i].n_outputs = (uint32_t)n->n_out;
        ns[i].outputs = &idx[ip];
        for (int j = 0; j < n->n_out; j++) idx[ip++] = (uint32_t)n->out[j];
        ns[i].n_attrs = (uint32_t)n->n_attr;
        ns[i].attrs = &as[ap];
        for (int j = 0; j < n->n_attr; j++) {
            const pp_attr *a = &n->attrs[j];
            pp_model_attr *o = &as[ap++];
            o->name = a->name;
            o->type = a->type;
            o->i = a->i;
            o->f = a->f;
            o->s = a->s;
            o->count = a->count;
            o->ints = a->ints;
            o->floats = a->floats;
        }
    }
    m.inputs = &idx[ip];
    for (int i = 0; i < g->n_inputs; i++) idx[ip++] = (uint32_t)g->inputs[i];
    m.outputs = &idx[ip];
    for (int i = 0; i < g->n_outputs; i++) idx[ip++] = (uint32_t)g->outputs[i];
    for (int i = 0; i < g->n_meta; i++) {
        ms[i].key = g->meta_keys[i];
        ms[i].value = g->meta_values[i];
    }
    m.n_tensors = (uint32_t)g->n_tensors;
    m.n_nodes = (uint32_t)g->n_nodes;
    m.n_inputs = (uint32_t)g->n_inputs;
    m.n_outputs = (uint32_t)g->n_outputs;
    m.n_meta = (uint32_t)g->n_meta;
    m.tensors = ts;
    m.nodes = ns;
    m.meta = ms;
    rc = path ? pp_model_write_progress(&m, path, progress, arg, err) : pp_model_write_memory(&m, out, out_size, err);
done:
    pp_free(ts);
    pp_free(ns);
    pp_free(idx);
    pp_free(as);
    pp_free(ms);
    return rc;
}

pp_code pp_graph_write(const pp_graph *g, const char *path, pp_error *err) {
    return graph_write(g, path, NULL, NULL, NULL, NULL, err);
}

pp_code pp_graph_write_progress(const pp_graph *g, const char *path, pp_progress_fn progress, void *arg,
                                pp_error *err) {
    return graph_write(g, path, NULL, NULL, progress, arg, err);
}

pp_code pp_graph_write_memory(const pp_graph *g, void **out, size_t *out_size, pp_error *err) {
    return graph_write(g, NULL, out, out_size, NULL, NULL, err);
}

/* pt2_graph.c: the graph module's placeholders, nodes and outputs into an IR
 * graph (pt2_graph.h). */
#ifdef PP_HAVE_CJSON
#include "pt2_graph.h"

#include <stdio.h>
#include <string.h>

#include "pt2_build.h"
#include "pt2_ops.h"

static const cJSON *item(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static const char *str(const cJSON *o, const char *k) {
    const cJSON *s = item(o, k);
    return cJSON_IsString(s) ? s->valuestring : NULL;
}

/* The name of an Argument holding a tensor ({"as_tensor": {"name": ...}}). */
static const char *arg_tensor(const cJSON *arg) { return str(item(arg, "as_tensor"), "name"); }

/* A table tensor as a weight the graph borrows. */
static pp_code add_weight(pt2_ctx *x, const char *placeholder, const pp_ckpt_tensor *t) {
    int id = pp_graph_add_tensor(x->g, t->name, t->dtype, PP_TENSOR_WEIGHT, t->rank, t->dims, x->err);
    if (id < 0) return x->err->code ? x->err->code : PP_ERR_NOMEM;
    x->g->tensors[id].data = t->data;
    x->g->tensors[id].nbytes = t->nbytes;
    return pt2_define(x, placeholder, id);
}

static pp_code user_input(pt2_ctx *x, const cJSON *arg) {
    const char *name = arg_tensor(arg);
    if (!name) return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "a user input that is not a tensor (only tensors are)");
    pp_dtype dt;
    int rank;
    int64_t dims[PP_MAX_RANK];
    pp_code rc = pt2_meta(x, name, &dt, &rank, dims);
    if (rc) return rc;
    /* A run reads the symbols' values off the inputs' extents: each must be one symbol. */
    for (int d = 0; d < rank; d++) {
        char b[96];
        if (d && dims[d] < 0 && !pp_dim_is_slot(dims[d]))
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "user input '%.100s' axis %d depends on the batch", name,
                                d);
        if (!pt2_dim_is_symbol(x, dims[d]))
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                                "user input '%.100s' axis %d is %s: an input extent must be a constant or one symbol "
                                "(export it with its own Dim)",
                                name, d, pp_symtab_dim_str(&x->g->sym, dims[d], b, sizeof b));
    }
    int id = pp_graph_add_tensor(x->g, name, dt, PP_TENSOR_INPUT, rank, dims, x->err);
    if (id < 0) return x->err->code ? x->err->code : PP_ERR_NOMEM;
    return pt2_define(x, name, id);
}

/* One InputSpec: parameter, buffer, tensor constant or user input. */
static pp_code placeholder(pt2_ctx *x, const cJSON *spec) {
    const cJSON *p;
    if ((p = item(spec, "user_input"))) return user_input(x, item(p, "arg"));
    const char *ph = NULL, *key = NULL, *kind = NULL;
    const pp_ckpt *tab = x->weights;
    if ((p = item(spec, "parameter")))
        ph = str(item(p, "arg"), "name"), key = str(p, "parameter_name"), kind = "parameter";
    else if ((p = item(spec, "buffer"))) ph = str(item(p, "arg"), "name"), key = str(p, "buffer_name"), kind = "buffer";
    else if ((p = item(spec, "tensor_constant")))
        ph = str(item(p, "arg"), "name"), key = str(p, "tensor_constant_name"), kind = "tensor constant",
        tab = x->constants;
    else if (item(spec, "constant_input")) return PP_OK; /* a Python constant: nodes carry its value */
    else {
        const char *what = spec->child && spec->child->string ? spec->child->string : "?";
        return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                            "graph input of kind '%.40s' (custom objects and effect tokens are not supported)", what);
    }
    if (!ph || !key) return pp_error_set(x->err, PP_ERR_FORMAT, "a %s input without its names", kind);
    const pp_ckpt_tensor *t = tab ? pp_ckpt_find(tab, key) : NULL;
    /* Non-persistent buffers are saved with the constants. */
    if (!t && x->constants && tab == x->weights) t = pp_ckpt_find(x->constants, key);
    if (!t)
        return pp_error_set(x->err, PP_ERR_FORMAT,
                            "%s '%.120s' (input '%.80s') is in neither the weights nor the constants", kind, key, ph);
    return add_weight(x, ph, t);
}

static pp_code inputs(pt2_ctx *x, const cJSON *graph, const cJSON *sig) {
    const cJSON *specs = item(sig, "input_specs"), *spec;
    if (!cJSON_IsArray(specs)) return pp_error_set(x->err, PP_ERR_FORMAT, "the graph signature has no input_specs");
    pp_code rc = pt2_symbols_init(x, specs);
    if (rc) return rc;
    cJSON_ArrayForEach(spec, specs) if ((rc = placeholder(x, spec))) return rc;
    (void)graph;
    return PP_OK;
}

/* ---- nodes -------------------------------------------------------------------- */

/* The node's first output name (tensor, tensor list or symbolic int), or NULL. */
static const char *first_output(const cJSON *outputs, int *is_sym) {
    const cJSON *o = cJSON_GetArrayItem(outputs, 0);
    *is_sym = 0;
    if (!o) return NULL;
    const char *s = arg_tensor(o);
    if (s) return s;
    const cJSON *l = item(o, "as_tensors");
    if (l) return str(cJSON_GetArrayItem(l, 0), "name");
    *is_sym = 1;
    const cJSON *si = item(o, "as_sym_int");
    return si ? str(si, "as_name") : "";
}

static const char *short_target(const char *t) { return !strncmp(t, "torch.ops.", 10) ? t + 10 : t; }

/* Nodes that only compute sizes or check them: their values are read from
 * the archive's sym_int_values where used. */
static int skipped(const char *target, const cJSON *outputs) {
    int sym;
    const char *o = first_output(outputs, &sym);
    if (!o) return 1;
    return sym || !strncmp(target, "aten._assert", 12) || !strncmp(target, "aten.sym_", 9) ||
           !strcmp(target, "aten._assert_tensor_metadata.default");
}

/* Every target without a mapping, in one message: "2 ATen ops have no
 * mapping (3 nodes): aten.foo.default x2 (first node 'foo'), ...". */
static pp_code check_ops(pt2_ctx *x, const cJSON *nodes) {
    const char *names[16], *first[16];
    int counts[16], n_kinds = 0, n_nodes = 0;
    const cJSON *nd;
    cJSON_ArrayForEach(nd, nodes) {
        const char *t = str(nd, "target");
        if (!t) return pp_error_set(x->err, PP_ERR_FORMAT, "a node without a target");
        t = short_target(t);
        if (skipped(t, item(nd, "outputs")) || pt2_op_known(t)) continue;
        if (!strcmp(t, "_operator.getitem")) continue;
        int sym, k = 0;
        while (k < n_kinds && strcmp(names[k], t)) k++;
        if (k == n_kinds && n_kinds < 16)
            names[n_kinds] = t, counts[n_kinds] = 0, first[n_kinds++] = first_output(item(nd, "outputs"), &sym);
        if (k < 16) counts[k]++;
        n_nodes++;
    }
    if (!n_kinds) return PP_OK;
    char msg[PP_ERROR_MSG_MAX];
    int k = snprintf(msg, sizeof msg, "%d ATen op%s without a mapping onto the IR (%d node%s):", n_kinds,
                     n_kinds > 1 ? "s" : "", n_nodes, n_nodes > 1 ? "s" : "");
    for (int i = 0; i < n_kinds && k > 0 && (size_t)k < sizeof msg; i++)
        k += snprintf(msg + k, sizeof msg - (size_t)k, "%s %.60s x%d (first node '%.60s')", i ? "," : "", names[i],
                      counts[i], first[i] ? first[i] : "?");
    return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "%s", msg);
}

/* _operator.getitem(tuple, i): the i-th tensor of a tuple value. */
static pp_code getitem(pt2_node *n) {
    const cJSON *in0 = cJSON_GetArrayItem(n->inputs, 0), *in1 = cJSON_GetArrayItem(n->inputs, 1);
    const char *src = in0 ? arg_tensor(item(in0, "arg")) : NULL;
    const cJSON *idx = in1 ? item(item(in1, "arg"), "as_int") : NULL;
    pt2_val *v = src ? pt2_lookup(n->x, src) : NULL;
    if (!v || !cJSON_IsNumber(idx)) return pt2_fail(n, PP_ERR_UNSUPPORTED, "getitem of something that is not a tuple");
    int i = (int)idx->valuedouble;
    if (i < 0 || i >= v->n_list || v->list[i] < 0)
        return pt2_fail(n, PP_ERR_FORMAT, "getitem %d of a %d-tuple", i, v->n_list);
    return pt2_bind_output(n, 0, v->list[i]);
}

static pp_code nodes(pt2_ctx *x, const cJSON *graph) {
    const cJSON *list = item(graph, "nodes"), *nd;
    if (!cJSON_IsArray(list)) return pp_error_set(x->err, PP_ERR_FORMAT, "the graph has no node list");
    pp_code rc = check_ops(x, list);
    if (rc) return rc;
    cJSON_ArrayForEach(nd, list) {
        const char *t = short_target(str(nd, "target"));
        pt2_node n = {x, item(nd, "inputs"), item(nd, "outputs"), t, NULL};
        if (skipped(t, n.outputs)) continue;
        int sym;
        n.name = first_output(n.outputs, &sym);
        if (!cJSON_IsArray(n.inputs)) return pt2_fail(&n, PP_ERR_FORMAT, "no inputs list");
        rc = !strcmp(t, "_operator.getitem") ? getitem(&n) : pt2_op_import(&n);
        if (rc) return rc;
    }
    return PP_OK;
}

/* ---- outputs ---------------------------------------------------------------------- */

static pp_code outputs(pt2_ctx *x, const cJSON *sig, int **ids, int *n_out) {
    const cJSON *specs = item(sig, "output_specs"), *spec;
    int n = cJSON_GetArraySize(specs), k = 0;
    if (!cJSON_IsArray(specs) || n < 1)
        return pp_error_set(x->err, PP_ERR_FORMAT, "the graph signature has no outputs");
    if (!(*ids = pp_malloc((size_t)n * sizeof **ids))) return pp_error_nomem(x->err, "out of memory");
    cJSON_ArrayForEach(spec, specs) {
        const cJSON *u = item(spec, "user_output");
        if (!u) {
            const char *what = spec->child && spec->child->string ? spec->child->string : "?";
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                                "graph output of kind '%.40s' (a buffer or input mutated, or a training output): "
                                "export the model in eval() for inference",
                                what);
        }
        const char *name = arg_tensor(item(u, "arg"));
        pt2_val *v = name ? pt2_lookup(x, name) : NULL;
        if (!v || v->tensor < 0)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "graph output %d is not a computed tensor", k);
        int id = v->tensor;
        if (x->g->tensors[id].kind != PP_TENSOR_ACTIVATION) { /* a graph output must be produced by a node */
            char nm[300];
            snprintf(nm, sizeof nm, "%.200s.out", name);
            int y = pp_graph_add_tensor(x->g, nm, PP_DTYPE_INVALID, PP_TENSOR_ACTIVATION, -1, NULL, x->err);
            if (y < 0 || pp_graph_add_node(x->g, PP_OP_IDENTITY, nm, 1, &id, 1, &y, x->err) < 0)
                return x->err->code ? x->err->code : PP_ERR_NOMEM;
            id = y;
        }
        (*ids)[k++] = id;
    }
    *n_out = k;
    return PP_OK;
}

pp_code pt2_graph_build(const cJSON *gm, const cJSON *ranges, const pp_onnx_dim *dims, int n_dims,
                        const pp_ckpt *weights, const pp_ckpt *constants, pp_graph **out, pp_error *err) {
    *out = NULL;
    const cJSON *graph = item(gm, "graph"), *sig = item(gm, "signature");
    if (!cJSON_IsObject(graph) || !cJSON_IsObject(sig))
        return pp_error_set(err, PP_ERR_FORMAT, "the graph module has no graph or signature");
    pt2_ctx x;
    memset(&x, 0, sizeof x);
    x.err = err;
    x.weights = weights;
    x.constants = constants;
    x.ranges = ranges;
    x.dims = dims;
    x.n_dims = n_dims;
    x.tensor_values = item(graph, "tensor_values");
    x.sym_int_values = item(graph, "sym_int_values");
    if (!(x.g = pp_graph_new())) return pp_error_nomem(err, "out of memory");
    int *outs = NULL, n_out = 0;
    pp_code rc = inputs(&x, graph, sig);
    if (!rc) rc = nodes(&x, graph);
    if (!rc) rc = outputs(&x, sig, &outs, &n_out);
    int *ins = NULL, n_in = 0;
    if (!rc && !(ins = pp_malloc((size_t)x.g->n_tensors * sizeof *ins + 1))) rc = pp_error_nomem(err, "out of memory");
    for (int i = 0; !rc && i < x.g->n_tensors; i++)
        if (x.g->tensors[i].kind == PP_TENSOR_INPUT) ins[n_in++] = i;
    if (!rc) rc = pp_graph_set_io(x.g, n_in, ins, n_out, outs, err);
    pp_free(ins);
    pp_free(outs);
    pt2_ctx_free(&x);
    if (rc) {
        pp_graph_free(x.g);
        return rc;
    }
    *out = x.g;
    return PP_OK;
}
#endif

/* onnx.c: driving an ONNX model's import into a pp_graph (onnx.h): names,
 * graph inputs and their symbols, node by node with folding and shape
 * inference, outputs. Parsing is onnx_parse.c, weights onnx_weights.c, the
 * per-op translation onnx_ops.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_internal.h"

#include "../engine/ops.h"

/* ---- names ------------------------------------------------------------------- */

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static pp_code rehash(ox_ctx *x, size_t want) {
    size_t n = 64;
    while (n < want * 2) n *= 2;
    int *slots = pp_malloc(sizeof(int) * n);
    if (!slots) return pp_error_nomem(x->err, "out of memory for the name table");
    for (size_t i = 0; i < n; i++) slots[i] = -1;
    for (int v = 0; v < x->n_vals; v++) {
        size_t i = hash_str(x->vals[v]->name) & (n - 1);
        while (slots[i] >= 0) i = (i + 1) & (n - 1);
        slots[i] = v;
    }
    pp_free(x->slots);
    x->slots = slots;
    x->n_slots = n;
    return PP_OK;
}

ox_value *ox_lookup(ox_ctx *x, const char *name) {
    if (!x->n_slots) return NULL;
    size_t i = hash_str(name) & (x->n_slots - 1);
    while (x->slots[i] >= 0) {
        ox_value *v = x->vals[x->slots[i]];
        if (strcmp(v->name, name) == 0) return v;
        i = (i + 1) & (x->n_slots - 1);
    }
    return NULL;
}

/* Values live in the arena, so a pointer to one (a node's inputs) stays valid
 * while later nodes bind more names. */
static ox_value *bind(ox_ctx *x, const char *name) {
    ox_value *v = ox_lookup(x, name);
    if (v) return v;
    if (x->n_vals + 1 > x->cap_vals) {
        int nc = x->cap_vals ? x->cap_vals * 2 : 256;
        ox_value **nv = pp_realloc(x->vals, sizeof(ox_value *) * (size_t)nc);
        if (!nv) {
            pp_error_nomem(x->err, "out of memory for %d names", nc);
            return NULL;
        }
        x->vals = nv;
        x->cap_vals = nc;
    }
    if ((size_t)(x->n_vals + 1) * 2 > x->n_slots && rehash(x, (size_t)x->n_vals + 1)) return NULL;
    char *copy = ox_strdup(x, name);
    if (!copy || !(v = ox_alloc(x, sizeof *v))) return NULL;
    x->vals[x->n_vals] = v;
    v->name = copy;
    size_t i = hash_str(copy) & (x->n_slots - 1);
    while (x->slots[i] >= 0) i = (i + 1) & (x->n_slots - 1);
    x->slots[i] = x->n_vals++;
    return v;
}

pp_code ox_bind_tensor(ox_ctx *x, const char *name, int tensor) {
    ox_value *v = bind(x, name);
    if (!v) return x->err ? x->err->code : PP_ERR_NOMEM;
    v->kind = OX_TENSOR;
    v->tensor = tensor;
    return PP_OK;
}

pp_code ox_bind_sym(ox_ctx *x, const char *name, const pp_symval *s) {
    if (pp_symval_is_const(s)) {
        void *data;
        uint64_t nbytes;
        pp_code rc = pp_symval_to_data(s, &data, &nbytes, x->err);
        if (rc) return rc;
        int64_t dims[1] = {s->n};
        int id = pp_graph_add_tensor(x->g, name, s->dtype, PP_TENSOR_WEIGHT, s->rank, dims, x->err);
        if (id < 0) {
            pp_free(data);
            return x->err ? x->err->code : PP_ERR_NOMEM;
        }
        x->g->tensors[id].owned = data;
        x->g->tensors[id].data = data;
        x->g->tensors[id].nbytes = nbytes;
        return ox_bind_tensor(x, name, id);
    }
    ox_value *v = bind(x, name);
    if (!v) return x->err ? x->err->code : PP_ERR_NOMEM;
    v->kind = OX_SYM;
    v->tensor = -1;
    v->sym = *s;
    return PP_OK;
}

static pp_code consumed_add(ox_ctx *x, const char *name) {
    if (!*name) return PP_OK;
    size_t i = hash_str(name) & (x->n_consumed_slots - 1);
    while (x->consumed[i]) {
        if (strcmp(x->consumed[i], name) == 0) return PP_OK;
        i = (i + 1) & (x->n_consumed_slots - 1);
    }
    x->consumed[i] = name;
    return PP_OK;
}

int ox_is_consumed(ox_ctx *x, const char *name) {
    if (!*name || !x->n_consumed_slots) return 0;
    size_t i = hash_str(name) & (x->n_consumed_slots - 1);
    while (x->consumed[i]) {
        if (strcmp(x->consumed[i], name) == 0) return 1;
        i = (i + 1) & (x->n_consumed_slots - 1);
    }
    return 0;
}

static pp_code build_consumed(ox_ctx *x) {
    size_t total = (size_t)x->n_outputs;
    for (int i = 0; i < x->n_nodes; i++) total += (size_t)x->nodes[i].n_in;
    size_t n = 64;
    while (n < total * 2 + 2) {
        if (n > ((size_t)-1) / 4) return pp_error_nomem(x->err, "too many names");
        n *= 2;
    }
    x->consumed = ox_alloc(x, sizeof(char *) * n);
    if (!x->consumed) return PP_ERR_NOMEM;
    x->n_consumed_slots = n;
    for (int i = 0; i < x->n_outputs; i++) consumed_add(x, x->outputs[i].name);
    for (int i = 0; i < x->n_nodes; i++)
        for (int j = 0; j < x->nodes[i].n_in; j++) consumed_add(x, x->nodes[i].in[j]);
    return PP_OK;
}

/* ---- shapes while importing -------------------------------------------------- */

pp_code ox_finish_pending(ox_ctx *x) {
    while (x->n_finished < x->g->n_nodes) {
        int i = x->n_finished;
        int folded = 0;
        if (!(x->opt && x->opt->no_fold)) {
            pp_code rc = pp_fold_node(x->g, i, &folded, x->err);
            if (rc) return rc;
        }
        if (!folded) {
            pp_code rc = pp_graph_infer_node(x->g, i, x->err);
            if (rc) return rc;
        }
        x->n_finished++;
    }
    return PP_OK;
}

/* ---- the import -------------------------------------------------------------- */

typedef struct unsup {
    const char *op, *first;
    int count;
} unsup;

static pp_code check_ops(ox_ctx *x) {
    unsup *u = ox_alloc(x, sizeof(unsup) * ((size_t)x->n_nodes + 1));
    if (!u) return PP_ERR_NOMEM;
    int nu = 0, total = 0;
    for (int i = 0; i < x->n_nodes; i++) {
        const ox_node *n = &x->nodes[i];
        const char *key;
        if (!*n->domain || strcmp(n->domain, "ai.onnx") == 0) {
            if (ox_op_known(n->op_type)) continue;
            key = n->op_type;
        } else {
            key = ox_printf(x, "%s::%s", n->domain, n->op_type);
            if (!key) return PP_ERR_NOMEM;
        }
        total++;
        int j = 0;
        while (j < nu && strcmp(u[j].op, key) != 0) j++;
        if (j == nu) {
            u[nu].op = key;
            u[nu].first = *n->name ? n->name : ox_printf(x, "#%d", i);
            u[nu].count = 0;
            nu++;
        }
        u[j].count++;
    }
    if (!nu) return PP_OK;
    char msg[PP_ERROR_MSG_MAX];
    size_t o = (size_t)snprintf(msg, sizeof msg, "%d unsupported ONNX op type%s (%d node%s):", nu, nu > 1 ? "s" : "",
                                total, total > 1 ? "s" : "");
    for (int j = 0; j < nu && o < sizeof msg; j++) {
        char a[64], b[64];
        o += (size_t)snprintf(msg + o, sizeof msg - o, "%s %s x%d (first '%s')", j ? "," : "",
                              ox_safe(a, sizeof a, u[j].op), u[j].count, ox_safe(b, sizeof b, u[j].first));
    }
    return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "%s", msg);
}

static int is_batch_param(ox_ctx *x, const char *p) {
    for (int i = 0; i < x->n_batch_params; i++)
        if (strcmp(x->batch_params[i], p) == 0) return 1;
    return 0;
}

/* The --dim option naming dim_param p (or "batch" for a batch param), or NULL. */
static const pp_onnx_dim *dim_option(ox_ctx *x, const char *p) {
    for (int k = 0; x->opt && k < x->opt->n_dims; k++) {
        const char *n = x->opt->dims[k].name;
        if (n && (strcmp(n, p) == 0 || (strcmp(n, "batch") == 0 && is_batch_param(x, p)))) return &x->opt->dims[k];
    }
    return NULL;
}

/* The dim a graph input axis with dim_param p gets: the extent --dim binds it
 * to, or its symbol (made on first sight with the range --dim gives, else
 * 1..unbounded; the batch's, once named, for every batch param). */
static pp_code param_dim(ox_ctx *x, const char *p, int64_t *dim) {
    const pp_onnx_dim *o = dim_option(x, p);
    int64_t lo = o ? o->value : 1, hi = o ? (o->max >= o->value ? o->max : o->value) : PP_SYM_UNBOUNDED;
    if (o && lo == hi) return *dim = lo, PP_OK;
    int batch = is_batch_param(x, p);
    pp_symtab *t = &x->g->sym;
    int s = batch && t->batch >= 0 ? t->batch : pp_symtab_find(t, p);
    if (s < 0 && (s = pp_symtab_add(t, p, lo, hi, batch, x->err)) < 0) return x->err->code;
    if (batch) return *dim = PP_DIM_BATCH, PP_OK;
    pp_sx v;
    pp_code rc = pp_symtab_symbol(t, s, &v, x->err);
    if (!rc) *dim = pp_dim_of_slot(v.slot);
    return rc;
}

/* Every --dim must name a dim_param of a graph input: a misspelt one would be
 * ignored without a word otherwise. */
static pp_code check_dim_options(ox_ctx *x) {
    for (int k = 0; x->opt && k < x->opt->n_dims; k++) {
        const char *n = x->opt->dims[k].name ? x->opt->dims[k].name : "";
        int found = strcmp(n, "batch") == 0 && x->n_batch_params > 0;
        for (int i = 0; i < x->n_inputs && !found; i++)
            for (int d = 0; d < x->inputs[i].rank && d < PP_MAX_RANK && !found; d++)
                found = x->inputs[i].params[d] && strcmp(x->inputs[i].params[d], n) == 0;
        if (!found) {
            char b[64];
            return pp_error_set(x->err, PP_ERR_INVALID_ARG, "--dim %s: no graph input has the symbolic extent '%s'",
                                ox_safe(b, sizeof b, n), ox_safe(b, sizeof b, n));
        }
    }
    return PP_OK;
}

static const pp_onnx_const *find_const(ox_ctx *x, const char *name) {
    if (!x->opt) return NULL;
    for (int i = 0; i < x->opt->n_consts; i++)
        if (x->opt->consts[i].name && strcmp(x->opt->consts[i].name, name) == 0) return &x->opt->consts[i];
    return NULL;
}

static int is_init(ox_ctx *x, const char *name) {
    for (int i = 0; i < x->n_inits; i++)
        if (strcmp(x->inits[i].name, name) == 0) return 1;
    return 0;
}

static pp_code bind_const(ox_ctx *x, const pp_onnx_const *c) {
    size_t need;
    int rank = c->rank;
    if (rank < 0 || rank > PP_MAX_RANK)
        return pp_error_set(x->err, PP_ERR_INVALID_ARG, "constant '%s': rank %d", c->name, rank);
    need = pp_dtype_size(c->dtype);
    for (int i = 0; i < rank; i++) {
        if (c->dims[i] < 0 || pp_mul_size(need, (size_t)c->dims[i], &need))
            return pp_error_set(x->err, PP_ERR_INVALID_ARG, "constant '%s': bad dimension %d", c->name, i);
    }
    if (need != c->nbytes)
        return pp_error_set(x->err, PP_ERR_INVALID_ARG, "constant '%s': %llu bytes for a %s tensor that needs %llu",
                            c->name, (unsigned long long)c->nbytes, pp_dtype_name(c->dtype), (unsigned long long)need);
    int id = pp_graph_add_weight(x->g, c->name, c->dtype, rank, c->dims, c->data, c->nbytes, x->err);
    if (id < 0) return x->err ? x->err->code : PP_ERR_NOMEM;
    return ox_bind_tensor(x, c->name, id);
}

static pp_code import_inputs(ox_ctx *x, int **ins, int *n_ins) {
    char b[256];
    pp_code rc;
    x->batch_params = ox_alloc(x, sizeof(char *) * ((size_t)x->n_inputs + 1));
    *ins = ox_alloc(x, sizeof(int) * ((size_t)x->n_inputs + 1));
    if (!x->batch_params || !*ins) return PP_ERR_NOMEM;
    *n_ins = 0;
    for (int i = 0; i < x->n_inputs; i++) {
        const ox_vinfo *v = &x->inputs[i];
        if (is_init(x, v->name) || find_const(x, v->name)) continue;
        if (v->has_shape && v->rank > 0 && v->params[0] && !is_batch_param(x, v->params[0]))
            x->batch_params[x->n_batch_params++] = v->params[0];
    }
    if ((rc = check_dim_options(x))) return rc;
    for (int i = 0; i < x->n_inputs; i++) {
        const ox_vinfo *v = &x->inputs[i];
        const char *nm = ox_safe(b, sizeof b, v->name);
        const pp_onnx_const *c = find_const(x, v->name);
        if (c) {
            if ((rc = bind_const(x, c))) return rc;
            continue;
        }
        if (is_init(x, v->name)) continue; /* an initializer with a default: a constant */
        if (!v->is_tensor)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                                "graph input '%s': not a tensor (sequences, maps and "
                                "optionals are not supported)",
                                nm);
        pp_dtype dt = pp_onnx_dtype(v->elem_type);
        if (dt == PP_DTYPE_INVALID)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "graph input '%s': element type %s is not supported", nm,
                                pp_onnx_dtype_name(v->elem_type));
        if (!v->has_shape)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                                "graph input '%s' has no shape; bind it with --const or "
                                "export it with a shape",
                                nm);
        if (v->rank > PP_MAX_RANK)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "graph input '%s': rank %d exceeds %d", nm, v->rank,
                                PP_MAX_RANK);
        int64_t dims[PP_MAX_RANK];
        for (int d = 0; d < v->rank; d++) {
            const char *p = v->params[d];
            int64_t val = v->dims[d];
            if (p) {
                if ((rc = param_dim(x, p, &dims[d]))) return rc;
                continue;
            }
            if (d == 0 && val < 0) { /* no extent given: the batch; a literal 0 is an empty axis */
                if (x->g->sym.batch < 0 && pp_symtab_ensure_batch(&x->g->sym, x->err) < 0) return x->err->code;
                dims[d] = PP_DIM_BATCH;
                continue;
            }
            if (val < 0)
                return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "graph input '%s' axis %d has no extent", nm, d);
            dims[d] = val;
        }
        int id = pp_graph_add_tensor(x->g, v->name, dt, PP_TENSOR_INPUT, v->rank, dims, x->err);
        if (id < 0) return x->err ? x->err->code : PP_ERR_NOMEM;
        if ((rc = ox_bind_tensor(x, v->name, id))) return rc;
        (*ins)[(*n_ins)++] = id;
    }
    for (int k = 0; x->opt && k < x->opt->n_consts; k++) {
        const char *cn = x->opt->consts[k].name;
        int found = 0;
        for (int i = 0; i < x->n_inputs && !found; i++) found = strcmp(x->inputs[i].name, cn ? cn : "") == 0;
        if (!found)
            return pp_error_set(x->err, PP_ERR_INVALID_ARG, "constant '%s': the model has no graph input of that name",
                                ox_safe(b, sizeof b, cn));
    }
    return PP_OK;
}

static pp_code import_graph(ox_ctx *x) {
    pp_code rc;
    char b[256], b2[256];
    if ((rc = check_ops(x))) return rc;
    if ((rc = build_consumed(x))) return rc;
    if ((rc = rehash(x, 256))) return rc;
    x->g = pp_graph_new();
    if (!x->g) return pp_error_nomem(x->err, "out of memory for the graph");
    /* Initializers first: a graph input of the same name is a default, so the
     * constant wins (unless --const rebinds the input). */
    for (int i = 0; i < x->n_inits; i++) {
        const ox_tensor *t = &x->inits[i];
        if (!*t->name)
            return pp_error_set(x->err, PP_ERR_FORMAT, "initializer %d (byte %zu) has no name", i, t->offset);
        if (find_const(x, t->name)) continue;
        int id = ox_tensor_to_weight(x, t, t->name);
        if (id < 0) return x->err ? x->err->code : PP_ERR_FORMAT;
        if ((rc = ox_bind_tensor(x, t->name, id))) return rc;
    }
    int *ins, n_ins;
    if ((rc = import_inputs(x, &ins, &n_ins))) return rc;
    for (int i = 0; i < x->n_nodes; i++) {
        const ox_node *n = &x->nodes[i];
        ox_nctx c;
        memset(&c, 0, sizeof c);
        c.x = x;
        c.n = n;
        c.index = i;
        {
            /* The IR keeps the source name for every message and profile row;
             * control bytes would break one-line messages. */
            const char *src = *n->name ? n->name : ox_printf(x, "%s_%d", n->op_type, i);
            char *nm = src ? ox_strdup(x, src) : NULL;
            if (!nm) return PP_ERR_NOMEM;
            for (char *p = nm; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7F) *p = '?';
            c.name = nm;
        }
        if (n->n_in > PP_MAX_IO)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "node '%s' (%s): %d inputs exceed %d",
                                ox_safe(b, sizeof b, c.name), n->op_type, n->n_in, PP_MAX_IO);
        if (n->n_out > PP_MAX_IO)
            return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "node '%s' (%s): %d outputs exceed %d",
                                ox_safe(b, sizeof b, c.name), n->op_type, n->n_out, PP_MAX_IO);
        c.n_in = n->n_in;
        for (int j = 0; j < n->n_in; j++) {
            if (!*n->in[j]) continue;
            c.in[j] = ox_lookup(x, n->in[j]);
            if (!c.in[j])
                return pp_error_set(x->err, PP_ERR_FORMAT,
                                    "node '%s' (%s): input '%s' is not produced by an earlier node, an initializer or "
                                    "a graph input",
                                    ox_safe(b, sizeof b, c.name), n->op_type, ox_safe(b2, sizeof b2, n->in[j]));
        }
        for (int j = 0; j < n->n_out; j++)
            if (*n->out[j] && ox_lookup(x, n->out[j]))
                return pp_error_set(x->err, PP_ERR_FORMAT, "node '%s' (%s): output '%s' is assigned twice",
                                    ox_safe(b, sizeof b, c.name), n->op_type, ox_safe(b2, sizeof b2, n->out[j]));
        int first = x->g->n_nodes;
        if ((rc = ox_import_node(&c))) return rc;
        if ((rc = ox_finish_pending(x))) return rc;
        /* "Folded": evaluated at conversion, leaving no node to run (constants
         * and aliases are not counted). */
        int left = 0;
        for (int k = first; k < x->g->n_nodes; k++) left += !x->g->nodes[k].dead;
        if (!left && strcmp(n->op_type, "Constant") && strcmp(n->op_type, "Identity") && strcmp(n->op_type, "Dropout"))
            x->folded++;
    }
    int *outs = ox_alloc(x, sizeof(int) * ((size_t)x->n_outputs + 1));
    if (!outs) return PP_ERR_NOMEM;
    for (int i = 0; i < x->n_outputs; i++) {
        const ox_value *v = ox_lookup(x, x->outputs[i].name);
        if (!v)
            return pp_error_set(x->err, PP_ERR_FORMAT, "graph output '%s' is not produced by any node",
                                ox_safe(b, sizeof b, x->outputs[i].name));
        if (v->kind != OX_TENSOR)
            return pp_error_set(
                x->err, PP_ERR_UNSUPPORTED,
                "graph output '%s' is a shape value that depends on the symbols; outputs must be tensors",
                ox_safe(b, sizeof b, x->outputs[i].name));
        outs[i] = v->tensor;
    }
    return pp_graph_set_io(x->g, n_ins, ins, x->n_outputs, outs, x->err);
}

static void ctx_release(ox_ctx *x) {
    for (int i = 0; i < x->n_inits; i++) ox_tensor_release(&x->inits[i]);
    for (int i = 0; i < x->n_nodes; i++)
        for (int j = 0; j < x->nodes[i].n_attrs; j++)
            if (x->nodes[i].attrs[j].t) ox_tensor_release(x->nodes[i].attrs[j].t);
    pp_free(x->vals);
    pp_free(x->slots);
    ox_arena_free(&x->arena);
}

void pp_onnx_free(pp_onnx *h) {
    if (!h) return;
    if (h->map) munmap(h->map, h->map_size);
    for (int i = 0; i < h->n_ext; i++) {
        munmap(h->ext[i].map, h->ext[i].size);
        pp_free(h->ext[i].location);
    }
    pp_free(h->ext);
    pp_free(h->producer_name);
    pp_free(h->producer_version);
    pp_free(h);
}

const pp_onnx_info *pp_onnx_get_info(const pp_onnx *h) { return h ? &h->info : NULL; }

static char *dup_plain(const char *s) {
    char *d = pp_malloc(strlen(s) + 1);
    if (d) strcpy(d, s);
    return d;
}

/* Takes ownership of h (freed on failure). */
static pp_code import_common(pp_onnx *h, const void *data, size_t size, const char *dir, const pp_onnx_options *opt,
                             pp_onnx **handle, pp_graph **graph, pp_error *err) {
    ox_ctx x;
    memset(&x, 0, sizeof x);
    pp_error scratch;
    x.err = err ? err : &scratch;
    x.file = data;
    x.file_size = size;
    x.dir = dir;
    x.opt = opt;
    x.h = h;
    pp_code rc = ox_parse_model(&x);
    if (!rc) rc = import_graph(&x);
    if (!rc) {
        h->producer_name = dup_plain(x.producer_name);
        h->producer_version = dup_plain(x.producer_version);
        if (!h->producer_name || !h->producer_version) rc = pp_error_nomem(x.err, "out of memory");
    }
    if (!rc) {
        h->info.ir_version = x.ir_version;
        h->info.opset = x.opset;
        h->info.producer_name = h->producer_name;
        h->info.producer_version = h->producer_version;
        h->info.onnx_nodes = x.n_nodes;
        h->info.folded = x.folded;
        *handle = h;
        *graph = x.g;
        x.g = NULL;
    } else {
        if (x.err->code == PP_OK) x.err->code = rc;
        pp_graph_free(x.g);
        x.g = NULL;
        pp_onnx_free(h);
    }
    ctx_release(&x);
    return rc;
}

pp_code pp_onnx_import_memory(const void *data, size_t size, const char *dir, const pp_onnx_options *opt,
                              pp_onnx **handle, pp_graph **graph, pp_error *err) {
    *handle = NULL;
    *graph = NULL;
    if (!data || !size) return pp_error_set(err, PP_ERR_FORMAT, "empty ONNX model");
    pp_onnx *h = pp_calloc(1, sizeof *h);
    if (!h) return pp_error_nomem(err, "out of memory");
    return import_common(h, data, size, dir, opt, handle, graph, err);
}

pp_code pp_onnx_import(const char *path, const pp_onnx_options *opt, pp_onnx **handle, pp_graph **graph,
                       pp_error *err) {
    *handle = NULL;
    *graph = NULL;
    pp_onnx *h = pp_calloc(1, sizeof *h);
    if (!h) return pp_error_nomem(err, "out of memory");
    pp_code rc = ox_map_file(path, &h->map, &h->map_size, err);
    if (rc) {
        pp_free(h);
        return rc;
    }
    /* The model's folder, for external data. */
    char *dir = pp_malloc(strlen(path) + 2);
    if (!dir) {
        pp_onnx_free(h);
        return pp_error_nomem(err, "out of memory");
    }
    strcpy(dir, path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = 0;
    else if (slash) *slash = 0;
    else strcpy(dir, ".");
    rc = import_common(h, h->map, h->map_size, dir, opt, handle, graph, err);
    pp_free(dir);
    if (rc) pp_error_prefix(err, "%s", path);
    return rc;
}

/* graph_file.c: graphs from and to graph.bin (through the loader's pp_model):
 * tensors, nodes, symbolic attributes, symbols and the shape program, metadata,
 * and the weights' stored precision (ppconvert --dtype). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/cpu/cpu_kernels.h"
#include "graph.h"

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

/* ---- model <-> graph --------------------------------------------------------- */

/* The model's symbols and shape program; a batch symbol when some dim is a
 * (-k) × batch one and the file names none (every 1.x file). */
static pp_code graph_symbols_from_model(pp_graph *g, const pp_model *m, pp_error *err) {
    for (uint32_t i = 0; i < m->n_symbols; i++)
        if (pp_symtab_add(&g->sym, m->symbols[i].name, m->symbols[i].min, m->symbols[i].max,
                          (m->symbols[i].flags & PP_SYMBOL_BATCH) != 0, err) < 0)
            return err ? err->code : PP_ERR_FORMAT;
    if (m->n_shape_insts) {
        g->sym.prog = pp_malloc(sizeof(pp_fmt_shape_inst) * m->n_shape_insts);
        if (!g->sym.prog) return pp_error_nomem(err, "out of memory for %u shape instructions", m->n_shape_insts);
        memcpy(g->sym.prog, m->shape_prog, sizeof(pp_fmt_shape_inst) * m->n_shape_insts);
        g->sym.n_prog = g->sym.cap_prog = (int)m->n_shape_insts;
    }
    for (uint32_t i = 0; i < m->n_tensors; i++)
        for (int d = 0; d < m->tensors[i].rank; d++)
            if (m->tensors[i].dims[d] < 0 && !pp_dim_is_slot(m->tensors[i].dims[d]))
                return pp_symtab_ensure_batch(&g->sym, err) < 0 ? (err ? err->code : PP_ERR_FORMAT) : PP_OK;
    return PP_OK;
}

pp_code pp_graph_from_model(pp_model **model, pp_graph **out, pp_error *err) {
    const pp_model *m = *model;
    *out = NULL;
    pp_graph *g = pp_graph_new();
    if (!g) return pp_error_nomem(err, "graph: out of memory");
    pp_code rc = graph_symbols_from_model(g, m, err);
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
            uint32_t cnt = ma->type == PP_ATTR_INTS || ma->type == PP_ATTR_FLOATS ? ma->count : 1;
            for (uint32_t k = 0; !rc && ma->sym && k < cnt; k++)
                if (ma->sym[k] != PP_FMT_NONE) rc = pp_node_set_sym(g, id, ma->name, k, (int32_t)ma->sym[k], err);
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
    size_t n_sym = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_attr; j++)
            if (g->nodes[i].attrs[j].sym) n_sym += g->nodes[i].attrs[j].count;
    uint32_t *syms = pp_calloc(n_sym + 1, sizeof *syms), *sp = syms;
    pp_model_symbol *symbols = pp_calloc(PP_MAX_SYMBOLS, sizeof *symbols);
    pp_code rc = PP_OK;
    if (!ts || !ns || !idx || !as || !ms || !syms || !symbols) {
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
            if (a->sym) {
                o->sym = sp;
                for (uint32_t k = 0; k < a->count; k++) *sp++ = a->sym[k] < 0 ? PP_FMT_NONE : (uint32_t)a->sym[k];
            }
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
    /* A plain table (at most an unbounded batch) is what format 1.0 implies. */
    if (!pp_symtab_is_plain(&g->sym)) {
        for (int i = 0; i < g->sym.n_sym; i++)
            symbols[i] = (pp_model_symbol){g->sym.sym[i].name, i == g->sym.batch ? PP_SYMBOL_BATCH : 0,
                                           g->sym.sym[i].min, g->sym.sym[i].max};
        m.n_symbols = (uint32_t)g->sym.n_sym;
        m.symbols = symbols;
        m.n_shape_insts = (uint32_t)g->sym.n_prog;
        m.shape_prog = g->sym.prog;
    }
    rc = path ? pp_model_write_progress(&m, path, progress, arg, err) : pp_model_write_memory(&m, out, out_size, err);
done:
    pp_free(ts);
    pp_free(ns);
    pp_free(idx);
    pp_free(as);
    pp_free(ms);
    pp_free(symbols);
    pp_free(syms);
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

/* write.c: pp_model → graph.bin (layout in include/ppformat.h, docs/format.md).
 *
 * Everything but DATA is laid out in one zeroed buffer (the "front"); weights are
 * then streamed straight from the caller's pointers, so writing a 400 MB model
 * to a file never holds a second copy of its weights. DATA's checksum is taken
 * over the same stream before anything is written, since the section table that
 * holds it comes first in the file. */
#include <stdlib.h>
#include <string.h>

#include "loader_internal.h"
#include "model.h"

enum { N_SECTIONS = 12 };

/* File order, which is also the order of the section table. A format 1.0 file
 * (a model with nothing symbolic beyond the batch) leaves out the three
 * symbolic sections; DATA always comes last. */
static const uint32_t section_order[N_SECTIONS] = {
    PP_SEC_STRINGS,  PP_SEC_TENSORS,  PP_SEC_NODES,   PP_SEC_ATTRS,         PP_SEC_INDICES,   PP_SEC_VALUES,
    PP_SEC_GRAPH_IO, PP_SEC_METADATA, PP_SEC_SYMBOLS, PP_SEC_SHAPE_PROGRAM, PP_SEC_SYM_ATTRS, PP_SEC_DATA,
};
enum {
    S_STRINGS,
    S_TENSORS,
    S_NODES,
    S_ATTRS,
    S_INDICES,
    S_VALUES,
    S_GRAPH_IO,
    S_METADATA,
    S_SYMBOLS,
    S_PROGRAM,
    S_SYM_ATTRS,
    S_DATA
};

/* A dim that names a shape program value (format 2). */
static int slot_dim(int64_t d) { return d <= PP_DIM_SLOT_BASE; }

/* 1 when the model needs format 2. */
static int needs_v2(const pp_model *m) {
    if (m->n_symbols || m->n_shape_insts) return 1;
    for (uint32_t i = 0; i < m->n_tensors; i++)
        for (int k = 0; k < m->tensors[i].rank && k < PP_MAX_RANK; k++)
            if (slot_dim(m->tensors[i].dims[k])) return 1;
    for (uint32_t j = 0; j < m->n_nodes; j++)
        for (uint32_t a = 0; a < m->nodes[j].n_attrs; a++)
            if (m->nodes[j].attrs[a].sym) return 1;
    return 0;
}

static const unsigned char zeros[PP_FMT_ALIGN];

#define NAME(buf, s) pp_msg_name(buf, sizeof buf, s)

/* ---- validation of the caller's model ------------------------------------ */

static const char *kind_name(pp_tensor_kind k) {
    switch (k) {
    case PP_TENSOR_ACTIVATION: return "ACTIVATION";
    case PP_TENSOR_INPUT: return "INPUT";
    case PP_TENSOR_WEIGHT: return "WEIGHT";
    }
    return "unknown";
}

static pp_code check_tensor(const pp_model *m, uint32_t i, pp_error *err) {
    const pp_model_tensor *t = &m->tensors[i];
    char nb[80];
    const char *nm = NAME(nb, t->name);
    if (pp_dtype_size(t->dtype) == 0)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "tensor %u '%s': invalid dtype %d", i, nm, (int)t->dtype);
    if ((unsigned)t->kind > PP_TENSOR_WEIGHT)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "tensor %u '%s': unknown kind %d", i, nm, (int)t->kind);
    if (t->rank < 0 || t->rank > PP_MAX_RANK)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "tensor %u '%s': rank %d is outside 0..%d", i, nm, t->rank,
                            PP_MAX_RANK);
    int64_t fixed[PP_MAX_RANK];
    int bad_axis = pp_slot_dims(t->dims, t->rank, m->n_shape_insts, 1, fixed);
    if (bad_axis >= 0)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "tensor %u '%s': dims[%d] names shape value %llu of %u", i, nm,
                            bad_axis, (unsigned long long)(PP_DIM_SLOT_BASE - t->dims[bad_axis]), m->n_shape_insts);
    uint64_t bytes;
    if (pp_dims_bytes(t->dtype, t->rank, fixed, &bytes))
        return pp_error_set(err, PP_ERR_INVALID_ARG, "tensor %u '%s': dims overflow (numel × %zu bytes exceeds 2^64)",
                            i, nm, pp_dtype_size(t->dtype));
    if (t->kind != PP_TENSOR_WEIGHT) {
        if (t->data || t->nbytes)
            return pp_error_set(err, PP_ERR_INVALID_ARG, "tensor %u '%s': a %s tensor has data (%llu bytes)", i, nm,
                                kind_name(t->kind), (unsigned long long)t->nbytes);
        return PP_OK;
    }
    for (int k = 0; k < t->rank; k++)
        if (t->dims[k] < 0)
            return pp_error_set(err, PP_ERR_INVALID_ARG,
                                "tensor %u '%s': weight dims[%d] = %lld is negative (a weight has no batch axis)", i,
                                nm, k, (long long)t->dims[k]);
    if (t->nbytes != bytes)
        return pp_error_set(err, PP_ERR_INVALID_ARG,
                            "tensor %u '%s': weight has %llu bytes but its shape needs %llu (numel × %zu)", i, nm,
                            (unsigned long long)t->nbytes, (unsigned long long)bytes, pp_dtype_size(t->dtype));
    if (t->nbytes && !t->data)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "tensor %u '%s': weight of %llu bytes has no data pointer", i, nm,
                            (unsigned long long)t->nbytes);
    if (t->dtype == PP_DTYPE_BOOL) {
        const unsigned char *b = t->data;
        for (uint64_t e = 0; e < t->nbytes; e++)
            if (b[e] > 1)
                return pp_error_set(err, PP_ERR_INVALID_ARG, "tensor %u '%s': bool element %llu is %u, not 0 or 1", i,
                                    nm, (unsigned long long)e, b[e]);
    }
    return PP_OK;
}

static pp_code check_attr(const pp_model *m, uint32_t j, uint32_t a, pp_error *err) {
    const pp_model_attr *at = &m->nodes[j].attrs[a];
    char nb[80], ab[80];
    const char *nm = NAME(nb, m->nodes[j].name), *an = NAME(ab, at->name);
    if (!at->name || !*at->name)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "node %u '%s': attribute %u has no name", j, nm, a);
    uint32_t count = at->type == PP_ATTR_INTS || at->type == PP_ATTR_FLOATS ? at->count : 1;
    for (uint32_t k = 0; at->sym && k < count; k++)
        if (at->type == PP_ATTR_STRING || (at->sym[k] != PP_FMT_NONE && at->sym[k] >= m->n_shape_insts))
            return pp_error_set(err, PP_ERR_INVALID_ARG,
                                "node %u '%s': value %u of attribute '%s' is bound to shape value %u of %u", j, nm, k,
                                an, at->sym[k], m->n_shape_insts);
    switch (at->type) {
    case PP_ATTR_INT:
    case PP_ATTR_FLOAT: return PP_OK;
    case PP_ATTR_STRING:
        if (!at->s)
            return pp_error_set(err, PP_ERR_INVALID_ARG, "node %u '%s': string attribute '%s' is NULL", j, nm, an);
        return PP_OK;
    case PP_ATTR_INTS:
    case PP_ATTR_FLOATS: {
        const void *p = at->type == PP_ATTR_INTS ? (const void *)at->ints : (const void *)at->floats;
        if (at->count && !p)
            return pp_error_set(err, PP_ERR_INVALID_ARG, "node %u '%s': attribute '%s' has %u values but no array", j,
                                nm, an, at->count);
        return PP_OK;
    }
    }
    return pp_error_set(err, PP_ERR_INVALID_ARG, "node %u '%s': attribute '%s' has unknown type %d", j, nm, an,
                        (int)at->type);
}

/* producer[t]: the node that writes tensor t, or PP_FMT_NONE. */
static pp_code check_nodes(const pp_model *m, uint32_t *producer, pp_error *err) {
    char nb[80], tb[80], ob[80];
    for (uint32_t t = 0; t < m->n_tensors; t++) producer[t] = PP_FMT_NONE;
    for (uint32_t j = 0; j < m->n_nodes; j++) {
        const pp_model_node *n = &m->nodes[j];
        const char *nm = NAME(nb, n->name);
        if (!pp_op_name(n->op))
            return pp_error_set(err, PP_ERR_INVALID_ARG, "node %u '%s': unknown op %d", j, nm, (int)n->op);
        if ((n->n_inputs && !n->inputs) || (n->n_outputs && !n->outputs) || (n->n_attrs && !n->attrs))
            return pp_error_set(err, PP_ERR_INVALID_ARG, "node %u '%s': a nonzero count with a NULL array", j, nm);
        for (uint32_t k = 0; k < n->n_inputs; k++) {
            uint32_t t = n->inputs[k];
            if (t == PP_FMT_NONE) continue; /* an absent optional input */
            if (t >= m->n_tensors)
                return pp_error_set(err, PP_ERR_INVALID_ARG, "node %u '%s': input %u is tensor %u, but there are %u", j,
                                    nm, k, t, m->n_tensors);
            if (m->tensors[t].kind != PP_TENSOR_ACTIVATION) continue;
            if (producer[t] == PP_FMT_NONE)
                return pp_error_set(err, PP_ERR_INVALID_ARG,
                                    "node %u '%s': input %u, activation %u '%s', is not produced by an earlier node "
                                    "(never produced, produced later, or a cycle)",
                                    j, nm, k, t, NAME(tb, m->tensors[t].name));
        }
        for (uint32_t k = 0; k < n->n_outputs; k++) {
            uint32_t t = n->outputs[k];
            if (t >= m->n_tensors)
                return pp_error_set(err, PP_ERR_INVALID_ARG, "node %u '%s': output %u is tensor %u, but there are %u",
                                    j, nm, k, t, m->n_tensors);
            if (m->tensors[t].kind != PP_TENSOR_ACTIVATION)
                return pp_error_set(err, PP_ERR_INVALID_ARG, "node %u '%s': output %u, tensor %u '%s', is a %s", j, nm,
                                    k, t, NAME(tb, m->tensors[t].name), kind_name(m->tensors[t].kind));
            if (producer[t] != PP_FMT_NONE)
                return pp_error_set(
                    err, PP_ERR_INVALID_ARG, "tensor %u '%s' is produced twice: by node %u '%s' and node %u '%s'", t,
                    NAME(tb, m->tensors[t].name), producer[t], NAME(ob, m->nodes[producer[t]].name), j, nm);
            producer[t] = j;
        }
        for (uint32_t a = 0; a < n->n_attrs; a++) {
            pp_code rc = check_attr(m, j, a, err);
            if (rc) return rc;
        }
    }
    return PP_OK;
}

static pp_code check_model(const pp_model *m, pp_error *err) {
    if (!m) return pp_error_set(err, PP_ERR_INVALID_ARG, "no model given");
    if ((m->n_tensors && !m->tensors) || (m->n_nodes && !m->nodes) || (m->n_inputs && !m->inputs) ||
        (m->n_outputs && !m->outputs) || (m->n_meta && !m->meta))
        return pp_error_set(err, PP_ERR_INVALID_ARG, "model: a nonzero count with a NULL array");
    if (m->n_tensors >= PP_FMT_NONE)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "model: %u tensors, the format holds at most %u", m->n_tensors,
                            PP_FMT_NONE - 1);
    if ((m->n_symbols && !m->symbols) || (m->n_shape_insts && !m->shape_prog))
        return pp_error_set(err, PP_ERR_INVALID_ARG, "model: symbols or a shape program counted but NULL");
    if (m->n_symbols > PP_MAX_SYMBOLS || m->n_shape_insts > PP_MAX_SHAPE_INSTS)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "model: %u symbols and %u shape instructions exceed %d and %d",
                            m->n_symbols, m->n_shape_insts, PP_MAX_SYMBOLS, PP_MAX_SHAPE_INSTS);
    for (uint32_t i = 0; i < m->n_symbols; i++) {
        pp_code rc = pp_check_symbol(&m->symbols[i], i, m->symbols, "model: SYMBOLS", i, err);
        if (rc) return err ? (err->code = PP_ERR_INVALID_ARG) : rc;
    }
    for (uint32_t i = 0; i < m->n_shape_insts; i++) {
        pp_code rc = pp_check_shape_inst(&m->shape_prog[i], i, m->n_symbols, "model: SHAPE_PROGRAM", i, err);
        if (rc) return err ? (err->code = PP_ERR_INVALID_ARG) : rc;
    }
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        pp_code rc = check_tensor(m, i, err);
        if (rc) return rc;
    }
    size_t bytes;
    if (pp_mul_size(m->n_tensors ? m->n_tensors : 1, sizeof(uint32_t), &bytes))
        return pp_error_set(err, PP_ERR_INVALID_ARG, "model: too many tensors");
    uint32_t *producer = pp_malloc(bytes);
    if (!producer) return pp_error_set(err, PP_ERR_NOMEM, "writing a model: cannot allocate %zu bytes", bytes);
    pp_code rc = check_nodes(m, producer, err);
    char tb[80], nb2[80];
    for (uint32_t k = 0; rc == PP_OK && k < m->n_inputs; k++) {
        uint32_t t = m->inputs[k];
        if (t >= m->n_tensors) {
            rc = pp_error_set(err, PP_ERR_INVALID_ARG, "graph input %u is tensor %u, but there are %u", k, t,
                              m->n_tensors);
        } else if (m->tensors[t].kind != PP_TENSOR_INPUT) {
            rc = pp_error_set(err, PP_ERR_INVALID_ARG, "graph input %u, tensor %u '%s', is a %s, not an INPUT", k, t,
                              NAME(tb, m->tensors[t].name), kind_name(m->tensors[t].kind));
        } else if (producer[t] != PP_FMT_NONE) {
            rc = pp_error_set(err, PP_ERR_INVALID_ARG, "graph input %u, tensor %u '%s', is listed twice", k, t,
                              NAME(tb, m->tensors[t].name));
        } else {
            producer[t] = k; /* INPUT tensors are never produced by nodes: reuse the slot to catch duplicates */
        }
    }
    for (uint32_t t = 0; rc == PP_OK && t < m->n_tensors; t++)
        if (m->tensors[t].kind == PP_TENSOR_INPUT && producer[t] == PP_FMT_NONE)
            rc = pp_error_set(err, PP_ERR_INVALID_ARG, "tensor %u '%s' is an INPUT but not a graph input", t,
                              NAME(tb, m->tensors[t].name));
    for (uint32_t k = 0; rc == PP_OK && k < m->n_outputs; k++) {
        uint32_t t = m->outputs[k];
        if (t >= m->n_tensors)
            rc = pp_error_set(err, PP_ERR_INVALID_ARG, "graph output %u is tensor %u, but there are %u", k, t,
                              m->n_tensors);
        else if (m->tensors[t].kind == PP_TENSOR_ACTIVATION && producer[t] == PP_FMT_NONE)
            rc = pp_error_set(err, PP_ERR_INVALID_ARG, "graph output %u, tensor %u '%s', is never produced", k, t,
                              NAME(tb, m->tensors[t].name));
    }
    for (uint32_t t = 0; rc == PP_OK && t < m->n_tensors; t++)
        if (m->tensors[t].kind == PP_TENSOR_ACTIVATION && producer[t] == PP_FMT_NONE)
            rc = pp_error_set(err, PP_ERR_INVALID_ARG, "activation %u '%s' is never produced", t,
                              NAME(tb, m->tensors[t].name));
    for (uint32_t k = 0; rc == PP_OK && k < m->n_meta; k++)
        if (!m->meta[k].key)
            rc = pp_error_set(err, PP_ERR_INVALID_ARG, "metadata entry %u has no key (value '%s')", k,
                              NAME(nb2, m->meta[k].value));
    pp_free(producer);
    return rc;
}

/* ---- the string pool: deduplicated, offset 0 is "" ------------------------ */

typedef struct strpool {
    char *buf;
    size_t len, cap;
    uint32_t *slot; /* open addressing: offset + 1, 0 = empty */
    size_t nslot, used;
} strpool;

static pp_code pool_grow_table(strpool *sp, pp_error *err) {
    size_t n = sp->nslot ? sp->nslot * 2 : 256, bytes;
    if (pp_mul_size(n, sizeof(uint32_t), &bytes)) return pp_error_nomem(err, "writing a model: string table too large");
    uint32_t *slot = pp_calloc(n, sizeof(uint32_t));
    if (!slot) return pp_error_set(err, PP_ERR_NOMEM, "writing a model: cannot allocate %zu bytes for strings", bytes);
    for (size_t i = 0; i < sp->nslot; i++) {
        if (!sp->slot[i]) continue;
        const char *s = sp->buf + sp->slot[i] - 1;
        size_t h = (size_t)pp_fmt_checksum(s, strlen(s)) & (n - 1);
        while (slot[h]) h = (h + 1) & (n - 1);
        slot[h] = sp->slot[i];
    }
    pp_free(sp->slot);
    sp->slot = slot;
    sp->nslot = n;
    return PP_OK;
}

static pp_code pool_add(strpool *sp, const char *s, uint32_t *out, pp_error *err) {
    if (!s || !*s) {
        *out = 0;
        return PP_OK;
    }
    if ((sp->used + 1) * 2 > sp->nslot) {
        pp_code rc = pool_grow_table(sp, err);
        if (rc) return rc;
    }
    size_t len = strlen(s);
    size_t h = (size_t)pp_fmt_checksum(s, len) & (sp->nslot - 1);
    while (sp->slot[h]) {
        if (strcmp(sp->buf + sp->slot[h] - 1, s) == 0) {
            *out = sp->slot[h] - 1;
            return PP_OK;
        }
        h = (h + 1) & (sp->nslot - 1);
    }
    /* Offsets are u32 in the file and PP_FMT_NONE is reserved. */
    if (len >= PP_FMT_NONE - 1 || sp->len > PP_FMT_NONE - 2 - len)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "writing a model: the strings exceed the format's 4 GiB");
    if (sp->len + len + 1 > sp->cap) {
        size_t cap = sp->cap * 2 > sp->len + len + 1 ? sp->cap * 2 : sp->len + len + 1;
        char *b = pp_realloc(sp->buf, cap);
        if (!b) return pp_error_set(err, PP_ERR_NOMEM, "writing a model: cannot allocate %zu bytes for strings", cap);
        sp->buf = b;
        sp->cap = cap;
    }
    uint32_t off = (uint32_t)sp->len;
    memcpy(sp->buf + sp->len, s, len + 1);
    sp->len += len + 1;
    sp->slot[h] = off + 1;
    sp->used++;
    *out = off;
    return PP_OK;
}

/* ---- layout ---------------------------------------------------------------- */

typedef struct plan {
    pp_fmt_section sec[N_SECTIONS]; /* by S_ index */
    int n_sec;                      /* those in the file: all, or all but the symbolic three */
    uint64_t file_size;
    uint64_t *weight_off; /* per tensor, from the DATA start; WEIGHT only */
    unsigned char *front; /* file bytes [0, DATA offset) */
    size_t front_size;
} plan;

static void put(unsigned char *front, uint64_t off, const void *rec, size_t n) {
    if (n) memcpy(front + off, rec, n); /* rec may be NULL when n is 0 */
}

static pp_code checked_bytes(uint64_t count, uint64_t rec, uint64_t *out, const char *what, pp_error *err) {
    if (count > UINT32_MAX - 1 || (count && rec > UINT64_MAX / count))
        return pp_error_set(err, PP_ERR_INVALID_ARG, "writing a model: %llu %s exceed the format's u32 indices",
                            (unsigned long long)count, what);
    *out = count * rec;
    return PP_OK;
}

/* What build's steps share: the model, the plan being made, section sizes
 * (by S_ index) and the string offsets (tensors, nodes, then per attribute
 * name + value, then meta key + value, then symbols). */
typedef struct layout {
    const pp_model *m;
    plan *p;
    uint64_t sz[N_SECTIONS];
    uint64_t n_attrs;
    uint32_t *soff;
    strpool sp;
    int v2;
} layout;

/* Every section's size but STRINGS and DATA, each checked against the format's u32 indices. */
static pp_code size_sections(layout *l, pp_error *err) {
    const pp_model *m = l->m;
    uint64_t *sz = l->sz, n_idx = 0, n_values = 0, n_bound = 0;
    for (uint32_t j = 0; j < m->n_nodes; j++) {
        const pp_model_node *n = &m->nodes[j];
        l->n_attrs += n->n_attrs;
        n_idx += (uint64_t)n->n_inputs + n->n_outputs;
        for (uint32_t a = 0; a < n->n_attrs; a++) {
            const pp_model_attr *at = &n->attrs[a];
            int list = at->type == PP_ATTR_INTS || at->type == PP_ATTR_FLOATS;
            if (list) n_values += at->count;
            for (uint32_t k = 0; at->sym && k < (list ? at->count : 1); k++) n_bound += at->sym[k] != PP_FMT_NONE;
        }
    }
    pp_code rc;
    if ((rc = checked_bytes(m->n_tensors, sizeof(pp_fmt_tensor), &sz[S_TENSORS], "tensors", err)) ||
        (rc = checked_bytes(m->n_nodes, sizeof(pp_fmt_node), &sz[S_NODES], "nodes", err)) ||
        (rc = checked_bytes(l->n_attrs, sizeof(pp_fmt_attr), &sz[S_ATTRS], "attributes", err)) ||
        (rc = checked_bytes(n_idx, sizeof(uint32_t), &sz[S_INDICES], "node inputs and outputs", err)) ||
        (rc = checked_bytes(n_values, sizeof(int64_t), &sz[S_VALUES], "attribute values", err)) ||
        (rc = checked_bytes((uint64_t)m->n_inputs + m->n_outputs, sizeof(uint32_t), &sz[S_GRAPH_IO],
                            "graph inputs and outputs", err)) ||
        (rc = checked_bytes(m->n_meta, sizeof(pp_fmt_meta), &sz[S_METADATA], "metadata entries", err)) ||
        (rc = checked_bytes(n_bound, sizeof(pp_fmt_sym_attr), &sz[S_SYM_ATTRS], "symbolic attribute values", err)))
        return rc;
    sz[S_SYMBOLS] = (uint64_t)m->n_symbols * sizeof(pp_fmt_symbol);
    sz[S_PROGRAM] = (uint64_t)m->n_shape_insts * sizeof(pp_fmt_shape_inst);
    sz[S_GRAPH_IO] += sizeof(pp_fmt_io);
    return PP_OK;
}

/* Every string into the pool (deduplicated), its offset into l->soff in the
 * order the records are written. */
static pp_code intern_strings(layout *l, pp_error *err) {
    const pp_model *m = l->m;
    strpool *sp = &l->sp;
    uint64_t nsoff = (uint64_t)m->n_tensors + m->n_nodes + 2 * l->n_attrs + 2 * (uint64_t)m->n_meta + m->n_symbols;
    l->soff = pp_malloc((size_t)(nsoff ? nsoff : 1) * sizeof(uint32_t));
    l->p->weight_off = pp_calloc(m->n_tensors ? m->n_tensors : 1, sizeof(uint64_t));
    sp->buf = pp_malloc(sp->cap = 4096);
    if (!l->soff || !l->p->weight_off || !sp->buf)
        return pp_error_nomem(err, "writing a model: cannot allocate its tables (%llu strings, %u tensors)",
                              (unsigned long long)nsoff, m->n_tensors);
    sp->buf[0] = 0;
    sp->len = 1;
    pp_code rc = PP_OK;
    uint32_t *so = l->soff;
    for (uint32_t i = 0; i < m->n_tensors && !rc; i++) rc = pool_add(sp, m->tensors[i].name, so++, err);
    for (uint32_t j = 0; j < m->n_nodes && !rc; j++) rc = pool_add(sp, m->nodes[j].name, so++, err);
    for (uint32_t j = 0; j < m->n_nodes && !rc; j++)
        for (uint32_t a = 0; a < m->nodes[j].n_attrs && !rc; a++) {
            const pp_model_attr *at = &m->nodes[j].attrs[a];
            rc = pool_add(sp, at->name, so++, err);
            if (!rc) rc = pool_add(sp, at->type == PP_ATTR_STRING ? at->s : NULL, so++, err);
        }
    for (uint32_t k = 0; k < m->n_meta && !rc; k++) {
        rc = pool_add(sp, m->meta[k].key, so++, err);
        if (!rc) rc = pool_add(sp, m->meta[k].value, so++, err);
    }
    for (uint32_t k = 0; k < m->n_symbols && !rc; k++) rc = pool_add(sp, m->symbols[k].name, so++, err);
    l->sz[S_STRINGS] = sp->len;
    return rc;
}

/* Each weight's aligned offset in DATA, then every section's place in the
 * file, and the zeroed bytes before DATA. */
static pp_code place(layout *l, pp_error *err) {
    const pp_model *m = l->m;
    plan *p = l->p;
    uint64_t cursor = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        if (m->tensors[i].kind != PP_TENSOR_WEIGHT) continue;
        uint64_t off = pp_fmt_align(cursor);
        if (off < cursor || m->tensors[i].nbytes > UINT64_MAX - PP_FMT_ALIGN - off)
            return pp_error_set(err, PP_ERR_INVALID_ARG, "writing a model: the weights exceed 2^64 bytes");
        p->weight_off[i] = off;
        cursor = off + m->tensors[i].nbytes;
    }
    l->sz[S_DATA] = cursor;
    /* Format 1.0 leaves the symbolic sections out: they stay at offset 0, empty. */
    p->n_sec = l->v2 ? N_SECTIONS : N_SECTIONS - 3;
    uint64_t off = pp_fmt_align(sizeof(pp_fmt_header) + (uint64_t)p->n_sec * sizeof(pp_fmt_section));
    for (int s = 0; s < N_SECTIONS; s++) {
        p->sec[s].kind = section_order[s];
        if (!l->v2 && (s == S_SYMBOLS || s == S_PROGRAM || s == S_SYM_ATTRS)) continue;
        p->sec[s].offset = off;
        p->sec[s].size = l->sz[s];
        if (l->sz[s] > UINT64_MAX - PP_FMT_ALIGN - off)
            return pp_error_set(err, PP_ERR_INVALID_ARG, "writing a model: the file would exceed 2^64 bytes");
        off = pp_fmt_align(off + l->sz[s]);
    }
    p->file_size = off;
    if (p->sec[S_DATA].offset > SIZE_MAX)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "writing a model: too large for this host's address space");
    p->front_size = (size_t)p->sec[S_DATA].offset;
    p->front = pp_calloc(p->front_size, 1);
    if (!p->front)
        return pp_error_set(err, PP_ERR_NOMEM, "writing a model: cannot allocate %zu bytes for its tables",
                            p->front_size);
    return PP_OK;
}

static void put_tensors(const layout *l) {
    const pp_model *m = l->m;
    const plan *p = l->p;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const pp_model_tensor *t = &m->tensors[i];
        pp_fmt_tensor r;
        memset(&r, 0, sizeof r);
        r.name = l->soff[i];
        r.dtype = (uint8_t)t->dtype;
        r.rank = (uint8_t)t->rank;
        r.kind = (uint8_t)t->kind;
        for (int k = 0; k < t->rank; k++) r.dims[k] = t->dims[k];
        if (t->kind == PP_TENSOR_WEIGHT) {
            r.data_offset = p->weight_off[i];
            r.data_size = t->nbytes;
        }
        put(p->front, p->sec[S_TENSORS].offset + (uint64_t)i * sizeof r, &r, sizeof r);
    }
}

/* Where the attribute records are being written: the next record, the next
 * VALUES byte and the next SYM_ATTRS record. */
typedef struct attr_cursor {
    uint32_t attr;
    uint64_t pool, n_sa;
} attr_cursor;

/* One attribute's record, its list in VALUES, and its bound values in SYM_ATTRS. */
static void put_attr(const layout *l, const pp_model_attr *at, attr_cursor *c) {
    const plan *p = l->p;
    unsigned char *f = p->front;
    const uint32_t *attr_soff = l->soff + l->m->n_tensors + l->m->n_nodes;
    pp_fmt_attr ra;
    memset(&ra, 0, sizeof ra);
    ra.name = attr_soff[2 * (uint64_t)c->attr];
    ra.type = (uint32_t)at->type;
    ra.count = 1;
    switch (at->type) {
    case PP_ATTR_INT: ra.value.i = at->i; break;
    case PP_ATTR_FLOAT: ra.value.f = at->f; break;
    case PP_ATTR_STRING: ra.value.str = attr_soff[2 * (uint64_t)c->attr + 1]; break;
    case PP_ATTR_INTS:
    case PP_ATTR_FLOATS:
        ra.count = at->count;
        ra.value.pool = c->pool;
        put(f, p->sec[S_VALUES].offset + c->pool,
            at->type == PP_ATTR_INTS ? (const void *)at->ints : (const void *)at->floats, (size_t)at->count * 8);
        c->pool += (uint64_t)at->count * 8;
        break;
    }
    /* A bound value is stored as 0 and listed in SYM_ATTRS, attribute
     * by attribute and value by value, so records come out sorted. */
    uint32_t cnt = at->type == PP_ATTR_INTS || at->type == PP_ATTR_FLOATS ? at->count : 1;
    for (uint32_t k = 0; at->sym && k < cnt; k++) {
        if (at->sym[k] == PP_FMT_NONE) continue;
        if (cnt == 1 && at->type != PP_ATTR_INTS && at->type != PP_ATTR_FLOATS) ra.value.i = 0;
        else put(f, p->sec[S_VALUES].offset + ra.value.pool + 8 * (uint64_t)k, zeros, 8);
        pp_fmt_sym_attr sa = {c->attr, k, at->sym[k], 0};
        put(f, p->sec[S_SYM_ATTRS].offset + c->n_sa++ * sizeof sa, &sa, sizeof sa);
    }
    put(f, p->sec[S_ATTRS].offset + (uint64_t)c->attr * sizeof ra, &ra, sizeof ra);
    c->attr++;
}

static void put_nodes(const layout *l) {
    const pp_model *m = l->m;
    const plan *p = l->p;
    unsigned char *f = p->front;
    uint32_t idx = 0;
    attr_cursor c = {0, 0, 0};
    for (uint32_t j = 0; j < m->n_nodes; j++) {
        const pp_model_node *n = &m->nodes[j];
        pp_fmt_node r;
        memset(&r, 0, sizeof r);
        r.op = (uint32_t)n->op;
        r.name = l->soff[m->n_tensors + j];
        r.inputs_begin = idx;
        r.n_inputs = n->n_inputs;
        put(f, p->sec[S_INDICES].offset + (uint64_t)idx * 4, n->inputs, (size_t)n->n_inputs * 4);
        idx += n->n_inputs;
        r.outputs_begin = idx;
        r.n_outputs = n->n_outputs;
        put(f, p->sec[S_INDICES].offset + (uint64_t)idx * 4, n->outputs, (size_t)n->n_outputs * 4);
        idx += n->n_outputs;
        r.attrs_begin = c.attr;
        r.n_attrs = n->n_attrs;
        for (uint32_t a = 0; a < n->n_attrs; a++) put_attr(l, &n->attrs[a], &c);
        put(f, p->sec[S_NODES].offset + (uint64_t)j * sizeof r, &r, sizeof r);
    }
}

/* The graph's inputs and outputs, the metadata, the symbols and the shape program. */
static void put_graph(const layout *l) {
    const pp_model *m = l->m;
    const plan *p = l->p;
    unsigned char *f = p->front;
    const uint32_t *so = l->soff + m->n_tensors + m->n_nodes + 2 * l->n_attrs;
    pp_fmt_io io = {m->n_inputs, m->n_outputs};
    uint64_t g = p->sec[S_GRAPH_IO].offset;
    put(f, g, &io, sizeof io);
    put(f, g + sizeof io, m->inputs, (size_t)m->n_inputs * 4);
    put(f, g + sizeof io + (uint64_t)m->n_inputs * 4, m->outputs, (size_t)m->n_outputs * 4);
    for (uint32_t k = 0; k < m->n_meta; k++) {
        pp_fmt_meta r = {so[0], so[1]};
        so += 2;
        put(f, p->sec[S_METADATA].offset + (uint64_t)k * sizeof r, &r, sizeof r);
    }
    for (uint32_t k = 0; k < m->n_symbols; k++) {
        pp_fmt_symbol r;
        memset(&r, 0, sizeof r);
        r.name = *so++;
        r.flags = m->symbols[k].flags;
        r.min = m->symbols[k].min;
        r.max = m->symbols[k].max;
        put(f, p->sec[S_SYMBOLS].offset + (uint64_t)k * sizeof r, &r, sizeof r);
    }
    put(f, p->sec[S_PROGRAM].offset, m->shape_prog, (size_t)l->sz[S_PROGRAM]);
}

/* Every section's checksum (DATA's over the bytes emit() will produce), the
 * section table and the header. */
static void seal(const layout *l) {
    const pp_model *m = l->m;
    plan *p = l->p;
    unsigned char *f = p->front;
    pp_cksum ck;
    pp_cksum_init(&ck);
    uint64_t at_off = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const pp_model_tensor *t = &m->tensors[i];
        if (t->kind != PP_TENSOR_WEIGHT) continue;
        pp_cksum_update(&ck, zeros, (size_t)(p->weight_off[i] - at_off));
        pp_cksum_update(&ck, t->data, (size_t)t->nbytes);
        at_off = p->weight_off[i] + t->nbytes;
    }
    pp_cksum_update(&ck, zeros, (size_t)(pp_fmt_align(at_off) - at_off));
    p->sec[S_DATA].checksum = pp_cksum_final(&ck);
    int t = 0;
    for (int s = 0; s < N_SECTIONS; s++) {
        if (!l->v2 && (s == S_SYMBOLS || s == S_PROGRAM || s == S_SYM_ATTRS)) continue;
        if (s != S_DATA)
            p->sec[s].checksum = pp_fmt_checksum(
                f + p->sec[s].offset, (size_t)(pp_fmt_align(p->sec[s].offset + l->sz[s]) - p->sec[s].offset));
        put(f, sizeof(pp_fmt_header) + (uint64_t)t++ * sizeof(pp_fmt_section), &p->sec[s], sizeof p->sec[s]);
    }
    pp_fmt_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, PP_FMT_MAGIC, sizeof h.magic);
    h.version_major = l->v2 ? 2 : 1;
    h.version_minor = 0;
    h.header_size = sizeof h;
    h.file_size = p->file_size;
    h.section_count = (uint32_t)p->n_sec;
    h.section_table_offset = sizeof h;
    put(f, 0, &h, sizeof h); /* with header_checksum still zero, as the checksum reads it */
    h.header_checksum = pp_fmt_checksum(f, (size_t)p->sec[0].offset);
    put(f, 0, &h, sizeof h);
}

/* The file's layout and every byte before DATA, into p. */
static pp_code build(const pp_model *m, plan *p, pp_error *err) {
    memset(p, 0, sizeof *p);
    layout l;
    memset(&l, 0, sizeof l);
    l.m = m;
    l.p = p;
    l.v2 = needs_v2(m);
    pp_code rc = size_sections(&l, err);
    if (!rc) rc = intern_strings(&l, err);
    if (!rc) rc = place(&l, err);
    if (!rc) {
        put(p->front, p->sec[S_STRINGS].offset, l.sp.buf, l.sp.len);
        put_tensors(&l);
        put_nodes(&l);
        put_graph(&l);
        seal(&l);
    }
    pp_free(l.soff);
    pp_free(l.sp.buf);
    pp_free(l.sp.slot);
    if (rc) {
        pp_free(p->weight_off);
        pp_free(p->front);
        p->weight_off = NULL;
        p->front = NULL;
    }
    return rc;
}

static void plan_free(plan *p) {
    pp_free(p->weight_off);
    pp_free(p->front);
}

/* ---- output ---------------------------------------------------------------- */

typedef pp_code (*sink_fn)(void *ctx, const void *data, size_t n, pp_error *err);

/* Produces the file's bytes in order: the front, then DATA with its padding. */
static pp_code emit(const pp_model *m, const plan *p, sink_fn sink, void *ctx, pp_error *err) {
    pp_code rc = sink(ctx, p->front, p->front_size, err);
    uint64_t at = 0;
    for (uint32_t i = 0; i < m->n_tensors && !rc; i++) {
        const pp_model_tensor *t = &m->tensors[i];
        if (t->kind != PP_TENSOR_WEIGHT) continue;
        rc = sink(ctx, zeros, (size_t)(p->weight_off[i] - at), err);
        if (!rc) rc = sink(ctx, t->data, (size_t)t->nbytes, err);
        at = p->weight_off[i] + t->nbytes;
    }
    if (!rc) rc = sink(ctx, zeros, (size_t)(pp_fmt_align(at) - at), err);
    return rc;
}

typedef struct memsink {
    unsigned char *buf;
    size_t at;
} memsink;

static pp_code mem_sink(void *ctx, const void *data, size_t n, pp_error *err) {
    memsink *ms = ctx;
    if (n) memcpy(ms->buf + ms->at, data, n);
    ms->at += n;
    return PP_OK;
}

typedef struct filesink {
    pp_afile *af;
    pp_progress_fn progress;
    void *arg;
    uint64_t done, total;
} filesink;

static pp_code file_sink(void *ctx, const void *data, size_t n, pp_error *err) {
    filesink *fs = ctx;
    pp_code rc = pp_afile_write(fs->af, data, n, err);
    fs->done += n;
    if (!rc && fs->progress && n) fs->progress(fs->done, fs->total, fs->arg);
    return rc;
}

pp_code pp_model_write_memory(const pp_model *m, void **out_data, size_t *out_size, pp_error *err) {
    if (!out_data || !out_size) return pp_error_set(err, PP_ERR_INVALID_ARG, "pp_model_write_memory: NULL output");
    *out_data = NULL;
    *out_size = 0;
    pp_code rc = check_model(m, err);
    if (rc) return rc;
    plan p;
    if ((rc = build(m, &p, err))) return rc;
    if (p.file_size > SIZE_MAX) {
        plan_free(&p);
        return pp_error_set(err, PP_ERR_NOMEM, "writing a model: %llu bytes exceed this host's address space",
                            (unsigned long long)p.file_size);
    }
    memsink ms = {pp_malloc((size_t)p.file_size), 0};
    if (!ms.buf) {
        plan_free(&p);
        return pp_error_set(err, PP_ERR_NOMEM, "writing a model: cannot allocate %llu bytes for the file",
                            (unsigned long long)p.file_size);
    }
    emit(m, &p, mem_sink, &ms, err);
    plan_free(&p);
    *out_data = ms.buf;
    *out_size = ms.at;
    return PP_OK;
}

pp_code pp_model_write(const pp_model *m, const char *path, pp_error *err) {
    return pp_model_write_progress(m, path, NULL, NULL, err);
}

pp_code pp_model_write_progress(const pp_model *m, const char *path, pp_progress_fn progress, void *arg,
                                pp_error *err) {
    plan p;
    pp_code rc = check_model(m, err);
    if (!rc) rc = build(m, &p, err);
    if (rc) {
        if (err && path) pp_error_prefix(err, "%s", path);
        return rc;
    }
    pp_afile af;
    rc = pp_afile_open(&af, path, err);
    if (!rc) {
        filesink fs = {&af, progress, arg, 0, p.file_size};
        rc = emit(m, &p, file_sink, &fs, err);
        if (rc) pp_afile_abort(&af);
        else rc = pp_afile_commit(&af, err);
    }
    plan_free(&p);
    return rc;
}

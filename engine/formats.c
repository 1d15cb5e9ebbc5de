/* formats.c: the layout and precision planner's pass (formats.h, docs/planner.md). */
#include "formats.h"

#include "../kernels/cpu/cpu_kernels.h"

#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- device facts ---------------------------------------------------------------- */

static const pp_device_facts facts[] = {
    {"h200", "NVIDIA H200 (Hopper)", 9, 0, 132, 141.0, 1},
    {"h100", "NVIDIA H100 SXM (Hopper)", 9, 0, 132, 80.0, 1},
    {"a100", "NVIDIA A100 (Ampere)", 8, 0, 108, 80.0, 1},
    {"l4", "NVIDIA L4 (Ada)", 8, 9, 58, 24.0, 1},
};

const pp_device_facts *pp_device_facts_find(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++)
        if (!strcasecmp(facts[i].name, name)) return &facts[i];
    return NULL;
}

const char *pp_device_facts_names(void) { return "h200, h100, a100, l4"; }

pp_format_policy pp_format_policy_for(const char *kind) {
    if (kind && !strcmp(kind, "cpu")) return pp_format_policy_cpu;
    if (kind && !strcmp(kind, "cuda")) return pp_format_policy_cuda;
    return NULL;
}

/* ---- formats --------------------------------------------------------------------- */

int pp_format_moves_bytes(pp_op op) {
    switch (op) {
    case PP_OP_IDENTITY:
    case PP_OP_FLATTEN:
    case PP_OP_RESHAPE:
    case PP_OP_SQUEEZE:
    case PP_OP_UNSQUEEZE:
    case PP_OP_TRANSPOSE:
    case PP_OP_CONCAT:
    case PP_OP_SPLIT:
    case PP_OP_SLICE:
    case PP_OP_GATHER:
    case PP_OP_EXPAND:
    case PP_OP_TILE:
    case PP_OP_DEPTH_TO_SPACE:
    case PP_OP_SPACE_TO_DEPTH:
    case PP_OP_GATHER_ELEMENTS:
    case PP_OP_PAD:
    case PP_OP_TRILU: return 1;
    default: return 0;
    }
}

static int same_format(const pp_shape *a, const pp_shape *b) {
    return a->dtype == b->dtype && a->layout == b->layout && (a->layout != PP_LAYOUT_NCHWC || a->block == b->block);
}

int pp_format_same_bytes(const pp_shape *a, const pp_shape *b) {
    if (same_format(a, b)) return 1;
    if (a->dtype != b->dtype || a->rank != 4) return 0;
    /* NHWC and plain differ only in where the channels go among H·W positions;
     * with one position they coincide. Blocked layouts pad, so never. */
    int ab = (a->layout == PP_LAYOUT_PLAIN || a->layout == PP_LAYOUT_NHWC);
    int bb = (b->layout == PP_LAYOUT_PLAIN || b->layout == PP_LAYOUT_NHWC);
    return ab && bb && a->dims[2] * a->dims[3] == 1;
}

const char *pp_format_str(pp_dtype dtype, pp_layout layout, int block, char *buf, size_t n) {
    const char *dt = pp_dtype_name(dtype);
    switch (layout) {
    case PP_LAYOUT_NHWC: snprintf(buf, n, "%s nhwc", dt ? dt : "?"); break;
    case PP_LAYOUT_NCHWC: snprintf(buf, n, "%s nchw%dc", dt ? dt : "?", block); break;
    default: snprintf(buf, n, "%s plain", dt ? dt : "?"); break;
    }
    return buf;
}

/* ---- the pass --------------------------------------------------------------------- */

/* A tensor of g converted to another format: shared by every consumer that wants it. */
typedef struct converted {
    int from, to; /* tensor ids in the planned graph */
} converted;

typedef struct planner {
    const pp_graph *g;
    pp_graph *p;
    const pp_format_caps *caps;
    pp_format_policy policy;
    pp_format_report rep;
    converted *conv;
    int n_conv, cap_conv;
    pp_dimenv env; /* symbols at the reference point: formats do not depend on extents */
} planner;

static int find_converted(const planner *pl, int from, const pp_shape *want) {
    for (int i = 0; i < pl->n_conv; i++) {
        const pp_tensor *t = &pl->p->tensors[pl->conv[i].to];
        if (pl->conv[i].from == from && t->dtype == want->dtype && t->layout == want->layout && t->block == want->block)
            return pl->conv[i].to;
    }
    return -1;
}

/* A copy of g's tensors (same ids, weights borrowed) and symbols, with no nodes yet. */
static pp_code copy_tensors(planner *pl, pp_error *err) {
    const pp_graph *g = pl->g;
    pp_code src = pp_symtab_copy(&pl->p->sym, &g->sym, err);
    if (!src) src = pp_graph_ref_env(g, &pl->env, err);
    if (src) return src;
    for (int i = 0; i < g->n_tensors; i++) {
        const pp_tensor *t = &g->tensors[i];
        int id = pp_graph_add_tensor(pl->p, t->name, t->dtype, t->kind, t->rank, t->dims, err);
        if (id < 0) return err ? err->code : PP_ERR_NOMEM;
        pp_tensor *c = &pl->p->tensors[id];
        c->data = t->data;
        c->nbytes = t->nbytes;
        c->layout = t->layout;
        c->block = t->block;
    }
    for (int i = 0; i < g->n_meta; i++) {
        pp_code rc = pp_graph_add_meta(pl->p, g->meta_keys[i], g->meta_values[i], err);
        if (rc) return rc;
    }
    return PP_OK;
}

static pp_code set_format_attrs(pp_graph *p, int node, const pp_shape *want, pp_error *err) {
    pp_code rc = pp_node_set_int(p, node, "dtype", want->dtype, err);
    if (!rc) rc = pp_node_set_int(p, node, "layout", want->layout, err);
    if (!rc && want->layout == PP_LAYOUT_NCHWC) rc = pp_node_set_int(p, node, "block", want->block, err);
    return rc;
}

/* A weight in another format, made now, once: the planned graph owns the bytes. */
static int convert_weight(planner *pl, int id, const pp_shape *have, const pp_shape *want, pp_error *err) {
    pp_graph *p = pl->p;
    const pp_tensor *t = &p->tensors[id];
    char name[512];
    char fb[32];
    snprintf(name, sizeof name, "%s@%s", t->name, pp_format_str(want->dtype, want->layout, want->block, fb, sizeof fb));
    pp_tensor tmp = *t;
    tmp.dtype = want->dtype;
    tmp.layout = want->layout;
    tmp.block = want->block;
    uint64_t nbytes = pp_tensor_bytes_at(&tmp, 1);
    void *bytes = pp_calloc(1, (size_t)(nbytes ? nbytes : 1));
    if (!bytes) return pp_error_nomem(err, "planner: out of memory converting weight '%s'", t->name), -1;
    pp_node n = {.op = PP_OP_REFORMAT, .name = name};
    pp_attr attrs[3] = {{.name = "dtype", .type = PP_ATTR_INT, .i = want->dtype},
                        {.name = "layout", .type = PP_ATTR_INT, .i = want->layout},
                        {.name = "block", .type = PP_ATTR_INT, .i = want->block}};
    n.attrs = attrs;
    n.n_attr = 3;
    n.n_in = n.n_out = 1;
    pp_shape out;
    pp_op_params params;
    const void *cdata[1] = {t->data};
    pp_code rc = pp_op_describe(&n, have, &out, &params, NULL, cdata, err);
    pp_cpu_kernel_fn k = rc ? NULL : pp_cpu_kernel_for(PP_OP_REFORMAT);
    const void *in[1] = {t->data};
    void *outs[1] = {bytes};
    if (!rc && (!k || k(&params, in, outs, NULL)))
        rc = pp_error_set(err, PP_ERR_INTERNAL, "planner: converting weight '%s' failed", t->name);
    /* Adding a tensor may move p->tensors, so t is not used past this point: tmp holds the dims. */
    int wid = rc ? -1 : pp_graph_add_tensor(p, name, want->dtype, PP_TENSOR_WEIGHT, tmp.rank, tmp.dims, err);
    if (wid < 0) {
        pp_free(bytes);
        if (!rc && err) pp_error_prefix(err, "planner");
        return -1;
    }
    pp_tensor *w = &p->tensors[wid];
    w->owned = bytes;
    w->data = bytes;
    w->nbytes = nbytes;
    w->layout = want->layout;
    w->block = want->block;
    return wid;
}

/* Tensor `id` of the planned graph in the format `want`: itself (relabelled when
 * the bytes are the same), or a converted copy made by a new REFORMAT node. */
static int in_format(planner *pl, int id, const pp_shape *have, const pp_shape *want, const char *consumer,
                     pp_error *err) {
    pp_graph *p = pl->p;
    if (same_format(have, want)) return id;
    if (pp_format_same_bytes(have, want)) {
        p->tensors[id].layout = want->layout;
        p->tensors[id].block = want->block;
        pl->rep.relabels++;
        return id;
    }
    int done = find_converted(pl, id, want);
    if (done >= 0) return done;
    /* A copy, because adding a tensor may move p->tensors. */
    const pp_tensor t = p->tensors[id];
    int to;
    if (t.kind == PP_TENSOR_WEIGHT) {
        to = convert_weight(pl, id, have, want, err);
    } else {
        char name[512], fb[32];
        snprintf(name, sizeof name, "%s@%s", t.name,
                 pp_format_str(want->dtype, want->layout, want->block, fb, sizeof fb));
        to = pp_graph_add_tensor(p, name, want->dtype, PP_TENSOR_ACTIVATION, t.rank, t.dims, err);
        if (to < 0) return -1;
        p->tensors[to].layout = want->layout;
        p->tensors[to].block = want->block;
        char nname[600];
        snprintf(nname, sizeof nname, "%s/reformat(%s)", consumer, p->tensors[id].name);
        int node = pp_graph_add_node(p, PP_OP_REFORMAT, nname, 1, &id, 1, &to, err);
        if (node < 0 || set_format_attrs(p, node, want, err)) return -1;
        pl->rep.conversions++;
    }
    if (to < 0) return -1;
    if (pl->n_conv == pl->cap_conv) {
        int cap = pl->cap_conv ? 2 * pl->cap_conv : 16;
        converted *c = pp_realloc(pl->conv, sizeof *c * (size_t)cap);
        if (!c) return pp_error_nomem(err, "planner: out of memory"), -1;
        pl->conv = c;
        pl->cap_conv = cap;
    }
    pl->conv[pl->n_conv++] = (converted){id, to};
    return to;
}

static pp_code copy_attrs(pp_graph *p, int node, const pp_node *src, pp_error *err) {
    pp_code rc = PP_OK;
    for (int a = 0; a < src->n_attr && !rc; a++) rc = pp_node_copy_attr(p, node, &src->attrs[a], err);
    return rc;
}

/* One node of g: its inputs in the formats the policy wants, the node itself,
 * and its outputs' formats from describe. */
static pp_code plan_node(planner *pl, const pp_node *n, pp_error *err) {
    pp_graph *p = pl->p;
    pp_shape have[PP_MAX_IO], want[PP_MAX_IO], out[PP_MAX_IO];
    const void *cdata[PP_MAX_IO];
    int ins[PP_MAX_IO];
    if (n->n_in > PP_MAX_IO || n->n_out > PP_MAX_IO)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "node '%s': more than %d inputs or outputs", n->name, PP_MAX_IO);
    for (int j = 0; j < n->n_in; j++) {
        memset(&have[j], 0, sizeof have[j]);
        if (n->in[j] >= 0) pp_shape_env(&p->tensors[n->in[j]], &pl->env, &have[j]);
        want[j] = have[j];
    }
    pl->policy(pl->caps, n, have, want);
    for (int j = 0; j < n->n_in; j++) {
        ins[j] = n->in[j];
        cdata[j] = NULL;
        if (ins[j] < 0) continue;
        if (want[j].rank != have[j].rank || memcmp(want[j].dims, have[j].dims, sizeof want[j].dims))
            return pp_error_set(err, PP_ERR_INTERNAL, "node '%s': the %s policy changed input %d's dims", n->name,
                                pl->caps->kind, j);
        ins[j] = in_format(pl, ins[j], &have[j], &want[j], n->name, err);
        if (ins[j] < 0) return err ? err->code : PP_ERR_NOMEM;
        pp_shape_env(&p->tensors[ins[j]], &pl->env, &want[j]);
        const pp_tensor *t = &p->tensors[ins[j]];
        cdata[j] = t->kind == PP_TENSOR_WEIGHT ? t->data : NULL;
    }
    int id = pp_graph_add_node(p, n->op, n->name, n->n_in, ins, n->n_out, n->out, err);
    if (id < 0) return err ? err->code : PP_ERR_NOMEM;
    pp_code rc = copy_attrs(p, id, n, err);
    if (rc) return rc;
    if (pl->env.slot) pp_node_resolve(&p->nodes[id], pl->env.slot);
    pp_op_params params;
    rc = pp_op_describe(&p->nodes[id], want, out, &params, NULL, cdata, err);
    if (rc) {
        char fb[32];
        for (int j = 0; j < n->n_in; j++)
            if (ins[j] >= 0 && want[j].layout != PP_LAYOUT_PLAIN)
                return pp_error_prefix(err, "planner (%s): input %d asked as %s", pl->caps->kind, j,
                                       pp_format_str(want[j].dtype, want[j].layout, want[j].block, fb, sizeof fb));
        return pp_error_prefix(err, "planner (%s)", pl->caps->kind);
    }
    for (int j = 0; j < n->n_out; j++) {
        if (n->out[j] < 0) continue;
        pp_tensor *t = &p->tensors[n->out[j]];
        t->dtype = out[j].dtype;
        t->layout = out[j].layout;
        t->block = out[j].block;
    }
    return PP_OK;
}

/* The graph's outputs in their declared dtype, plain: a REFORMAT into a tensor
 * that takes the output's name (the planned one is renamed "NAME@FORMAT"). */
static pp_code plan_outputs(planner *pl, int *outs, pp_error *err) {
    pp_graph *p = pl->p;
    for (int i = 0; i < pl->g->n_outputs; i++) {
        int id = pl->g->outputs[i];
        outs[i] = id;
        const pp_tensor *decl = &pl->g->tensors[id];
        pp_shape have, want;
        pp_shape_env(&p->tensors[id], &pl->env, &have);
        pp_shape_env(decl, &pl->env, &want);
        if (same_format(&have, &want)) continue;
        if (pp_format_same_bytes(&have, &want)) {
            p->tensors[id].layout = want.layout;
            p->tensors[id].block = want.block;
            pl->rep.relabels++;
            continue;
        }
        char fb[32], renamed[512];
        pp_tensor *t = &p->tensors[id];
        snprintf(renamed, sizeof renamed, "%s@%s", t->name,
                 pp_format_str(t->dtype, t->layout, t->block, fb, sizeof fb));
        char *nm = pp_malloc(strlen(renamed) + 1);
        if (!nm) return pp_error_nomem(err, "planner: out of memory");
        strcpy(nm, renamed);
        pp_free(t->name);
        t->name = nm;
        int to = pp_graph_add_tensor(p, decl->name, want.dtype, PP_TENSOR_ACTIVATION, decl->rank, decl->dims, err);
        if (to < 0) return err ? err->code : PP_ERR_NOMEM;
        char nname[600];
        snprintf(nname, sizeof nname, "output %s/reformat", decl->name);
        int node = pp_graph_add_node(p, PP_OP_REFORMAT, nname, 1, &id, 1, &to, err);
        if (node < 0) return err ? err->code : PP_ERR_NOMEM;
        pp_code rc = set_format_attrs(p, node, &want, err);
        if (rc) return rc;
        pl->rep.conversions++;
        outs[i] = to;
    }
    return PP_OK;
}

pp_code pp_formats_plan(const pp_graph *g, const pp_format_caps *caps, pp_format_policy policy, pp_graph **out,
                        pp_format_report *report, pp_error *err) {
    *out = NULL;
    if (!policy) policy = pp_format_policy_for(caps->kind);
    if (!policy)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "planner: no format policy for devices of kind '%s'",
                            caps->kind ? caps->kind : "?");
    planner pl = {g, pp_graph_new(), caps, policy, {0, 0}, NULL, 0, 0, {{0}, 1, NULL, 0}};
    if (!pl.p) return pp_error_nomem(err, "planner: out of memory");
    int *outs = pp_calloc((size_t)g->n_outputs + 1, sizeof(int));
    pp_code rc = outs ? copy_tensors(&pl, err) : pp_error_nomem(err, "planner: out of memory");
    for (int i = 0; i < g->n_nodes && !rc; i++) rc = plan_node(&pl, &g->nodes[i], err);
    if (!rc) rc = plan_outputs(&pl, outs, err);
    if (!rc) rc = pp_graph_set_io(pl.p, g->n_inputs, g->inputs, g->n_outputs, outs, err);
    pp_free(outs);
    pp_free(pl.conv);
    pp_dimenv_free(&pl.env);
    if (rc) {
        pp_graph_free(pl.p);
        return rc;
    }
    if (report) *report = pl.rep;
    *out = pl.p;
    return PP_OK;
}

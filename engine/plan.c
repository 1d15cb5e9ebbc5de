/* plan.c: stages by balanced contiguous partition; activation slots by liveness. */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* Nominal figures for the estimate; only ratios between nodes matter for the
 * partition, and --measure replaces them with timings. */
#define EST_FLOPS_PER_MS 2.0e7 /* 20 GFLOP/s */
#define EST_BYTES_PER_MS 5.0e6 /* 5 GB/s */

static void shapes_at(const pp_graph *g, const pp_node *n, int64_t batch, pp_shape *in, const void **cdata) {
    for (int j = 0; j < n->n_in; j++) {
        if (n->in[j] < 0) {
            memset(&in[j], 0, sizeof in[j]);
            cdata[j] = NULL;
            continue;
        }
        const pp_tensor *t = &g->tensors[n->in[j]];
        pp_shape_of(t, batch, &in[j]);
        cdata[j] = t->kind == PP_TENSOR_WEIGHT ? t->data : NULL;
    }
}

double pp_plan_node_estimate(const pp_graph *g, int node, int64_t batch, double *flops, double *bytes) {
    const pp_node *n = &g->nodes[node];
    pp_shape in[PP_MAX_IO], out[PP_MAX_IO];
    const void *cdata[PP_MAX_IO];
    pp_op_params p;
    pp_cost c = {0, 0};
    shapes_at(g, n, batch, in, cdata);
    if (pp_op_describe(n, in, out, &p, &c, cdata, NULL) != PP_OK) c.flops = c.bytes = 0;
    if (flops) *flops = c.flops;
    if (bytes) *bytes = c.bytes;
    /* A fixed launch overhead keeps long chains of tiny ops from looking free. */
    return c.flops / EST_FLOPS_PER_MS + c.bytes / EST_BYTES_PER_MS + 0.002;
}

/* Smallest max-stage-cost contiguous partition of cost[0..n) into at most k
 * parts: binary search over the bound, greedy feasibility. Writes the first
 * node of each stage into starts[0..k). */
static void partition(const double *cost, int n, int k, int *starts) {
    double lo = 0, hi = 0;
    for (int i = 0; i < n; i++) {
        hi += cost[i];
        if (cost[i] > lo) lo = cost[i];
    }
    for (int it = 0; it < 100 && hi - lo > 1e-9 * (hi + 1e-12); it++) {
        double mid = (lo + hi) / 2, acc = 0;
        int parts = 1;
        for (int i = 0; i < n; i++) {
            if (acc + cost[i] > mid && acc > 0) {
                parts++;
                acc = 0;
            }
            acc += cost[i];
        }
        if (parts <= k) hi = mid;
        else lo = mid;
    }
    double acc = 0;
    int s = 1;
    starts[0] = 0;
    for (int i = 0; i < n && s < k; i++) {
        /* Leave at least one node for each remaining stage. */
        if ((acc + cost[i] > hi && acc > 0) || n - i <= k - s) {
            starts[s++] = i;
            acc = 0;
        }
        acc += cost[i];
    }
    while (s < k) starts[s++] = n; /* fewer nodes than stages: empty tail stages */
}

/* Greedy offset assignment: biggest tensors first, each at the lowest offset
 * whose bytes are not used by a tensor alive at the same time. */
typedef struct live {
    int id;
    int begin, end; /* node positions, inclusive */
    size_t bytes, offset;
} live;

static int by_size_desc(const void *a, const void *b) {
    const live *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    return x->id - y->id;
}

static int by_offset(const void *a, const void *b) {
    const live *x = *(const live *const *)a, *y = *(const live *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

#define ALIGN 256 /* cuBLASLt and cuDNN want 256-byte operands; the CPU is happy with it */

static size_t assign_offsets(live *l, int n) {
    qsort(l, (size_t)n, sizeof *l, by_size_desc);
    live **placed = pp_malloc(sizeof(live *) * (size_t)(n ? n : 1));
    if (!placed) return (size_t)-1;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        int np = 0;
        for (int j = 0; j < i; j++)
            if (l[j].begin <= l[i].end && l[i].begin <= l[j].end) placed[np++] = &l[j];
        qsort(placed, (size_t)np, sizeof *placed, by_offset);
        size_t off = 0, need = (l[i].bytes + ALIGN - 1) & ~(size_t)(ALIGN - 1);
        for (int j = 0; j < np; j++) {
            if (placed[j]->offset >= off + need) break;
            size_t end = placed[j]->offset + ((placed[j]->bytes + ALIGN - 1) & ~(size_t)(ALIGN - 1));
            if (end > off) off = end;
        }
        l[i].offset = off;
        if (off + need > total) total = off + need;
    }
    pp_free(placed);
    return total;
}

static pp_code build_stage(const pp_graph *g, pp_plan *pl, int s, const int *stage_of_node, pp_error *err) {
    pp_plan_stage *st = &pl->stages[s];
    int nt = g->n_tensors, M = pl->microbatch, P = pl->n_stages;
    st->offset = pp_malloc(sizeof(int64_t) * (size_t)(nt ? nt : 1));
    st->in_ids = pp_malloc(sizeof(int) * (size_t)(nt ? nt : 1));
    st->out_ids = pp_malloc(sizeof(int) * (size_t)(nt ? nt : 1));
    live *l = pp_malloc(sizeof(live) * (size_t)(nt ? nt : 1));
    /* where each tensor is made (stage; -1 graph input; weights never move) and
     * the last stage that reads it (P for graph outputs) */
    int *made = pp_malloc(sizeof(int) * (size_t)(nt ? nt : 1));
    int *last_use = pp_malloc(sizeof(int) * (size_t)(nt ? nt : 1));
    if (!st->offset || !st->in_ids || !st->out_ids || !l || !made || !last_use) {
        pp_free(l);
        pp_free(made);
        pp_free(last_use);
        return pp_error_nomem(err, "plan: out of memory for stage %d", s);
    }
    for (int t = 0; t < nt; t++) {
        st->offset[t] = -1;
        made[t] = g->tensors[t].producer >= 0 ? stage_of_node[g->tensors[t].producer] : -1;
        last_use[t] = -2;
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) {
            int t = g->nodes[i].in[j];
            if (t >= 0 && stage_of_node[i] > last_use[t]) last_use[t] = stage_of_node[i];
        }
    for (int i = 0; i < g->n_outputs; i++) last_use[g->outputs[i]] = P;

    /* Position axis for liveness: 0 = arrival, node k of the stage at k+1, and
     * n+1 = departure (the copy to the next stage reads then). */
    int n_nodes = st->last - st->first, depart = n_nodes + 1, nl = 0;
    st->n_in = st->n_out = 0;
    for (int t = 0; t < nt; t++) {
        const pp_tensor *tt = &g->tensors[t];
        if (tt->kind == PP_TENSOR_WEIGHT) continue;
        int here = made[t] == s;
        int arrives = made[t] < s && last_use[t] >= s;
        if (!here && !arrives) continue;
        if (arrives) st->in_ids[st->n_in++] = t;
        int leaves = last_use[t] > s;
        if (leaves) st->out_ids[st->n_out++] = t;
        int begin = here ? tt->producer - st->first + 1 : 0, end = begin;
        for (int i = st->first; i < st->last; i++)
            for (int j = 0; j < g->nodes[i].n_in; j++)
                if (g->nodes[i].in[j] == t && i - st->first + 1 > end) end = i - st->first + 1;
        if (leaves) end = depart;
        size_t bytes = (size_t)pp_tensor_bytes_at(tt, M);
        l[nl++] = (live){t, begin, end, bytes, 0};
        st->sum_bytes += bytes;
        if (arrives) st->in_bytes += bytes;
        if (leaves) st->out_bytes += bytes;
    }
    /* The last stage sends the graph outputs in graph order. */
    if (s == P - 1) {
        st->n_out = g->n_outputs;
        for (int i = 0; i < g->n_outputs; i++) st->out_ids[i] = g->outputs[i];
    }
    size_t total = assign_offsets(l, nl);
    if (total == (size_t)-1) {
        pp_free(l);
        pp_free(made);
        pp_free(last_use);
        return pp_error_nomem(err, "plan: out of memory laying out stage %d", s);
    }
    for (int i = 0; i < nl; i++) st->offset[l[i].id] = (int64_t)l[i].offset;
    st->slot_bytes = total;
    for (int i = st->first; i < st->last; i++) {
        double f, b;
        st->est_ms += pp_plan_node_estimate(g, i, M, &f, &b);
        st->flops += f;
        st->bytes += b;
    }
    /* Weights are counted where they are read (a weight read by two stages
     * lives on both devices). */
    char *seen = pp_calloc((size_t)(nt ? nt : 1), 1);
    if (seen) {
        for (int i = st->first; i < st->last; i++)
            for (int j = 0; j < g->nodes[i].n_in; j++) {
                int t = g->nodes[i].in[j];
                if (t < 0 || g->tensors[t].kind != PP_TENSOR_WEIGHT || seen[t]) continue;
                seen[t] = 1;
                st->weight_bytes += g->tensors[t].nbytes;
                st->params += g->tensors[t].nbytes /
                              (pp_dtype_size(g->tensors[t].dtype) ? pp_dtype_size(g->tensors[t].dtype) : 1);
            }
        pp_free(seen);
    }
    pp_free(l);
    pp_free(made);
    pp_free(last_use);
    return PP_OK;
}

void pp_plan_free(pp_plan *p) {
    if (!p) return;
    for (int s = 0; s < p->n_stages; s++) {
        pp_free(p->stages[s].in_ids);
        pp_free(p->stages[s].out_ids);
        pp_free(p->stages[s].offset);
    }
    pp_free(p->stages);
    pp_free(p);
}

static int find_node(const pp_graph *g, const char *name, size_t len) {
    for (int i = 0; i < g->n_nodes; i++)
        if (strlen(g->nodes[i].name) == len && strncmp(g->nodes[i].name, name, len) == 0) return i;
    return -1;
}

pp_code pp_plan_build(const pp_graph *g, const pp_plan_options *opt, pp_plan **out, pp_error *err) {
    *out = NULL;
    int P = opt->n_stages, M = opt->microbatch;
    if (P < 1) return pp_error_set(err, PP_ERR_INVALID_ARG, "plan: %d stages; need at least 1", P);
    if (M < 1) return pp_error_set(err, PP_ERR_INVALID_ARG, "plan: micro-batch %d; need at least 1", M);
    if (g->n_nodes > 0 && P > g->n_nodes)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "plan: %d stages for a graph of %d nodes", P, g->n_nodes);
    pp_plan *pl = pp_calloc(1, sizeof *pl);
    int *starts = pp_malloc(sizeof(int) * (size_t)(P + 1));
    int *stage_of = pp_malloc(sizeof(int) * (size_t)(g->n_nodes ? g->n_nodes : 1));
    double *cost = pp_malloc(sizeof(double) * (size_t)(g->n_nodes ? g->n_nodes : 1));
    if (!pl || !starts || !stage_of || !cost) {
        pp_free(pl);
        pp_free(starts);
        pp_free(stage_of);
        pp_free(cost);
        return pp_error_nomem(err, "plan: out of memory");
    }
    pl->microbatch = M;
    pl->stages = pp_calloc((size_t)P, sizeof(pp_plan_stage));
    pl->n_stages = pl->stages ? P : 0; /* pp_plan_free walks n_stages entries */
    pp_code rc = pl->stages ? PP_OK : pp_error_nomem(err, "plan: out of memory");
    for (int i = 0; !rc && i < g->n_nodes; i++)
        cost[i] = opt->node_ms ? opt->node_ms[i] : pp_plan_node_estimate(g, i, M, NULL, NULL);
    if (!rc && opt->split && *opt->split) {
        /* Manual split: the named nodes start stages 2..P, in order. */
        const char *p = opt->split;
        int s = 1;
        starts[0] = 0;
        while (!rc && *p) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            int node = find_node(g, p, len);
            if (node < 0) rc = pp_error_set(err, PP_ERR_INVALID_ARG, "--split: no node named '%.*s'", (int)len, p);
            else if (s >= P)
                rc = pp_error_set(err, PP_ERR_INVALID_ARG, "--split names more nodes than the %d that %d stages need",
                                  P - 1, P);
            else if (node <= starts[s - 1])
                rc = pp_error_set(err, PP_ERR_INVALID_ARG,
                                  "--split: node '%.*s' does not come after the start of stage %d", (int)len, p, s);
            else starts[s++] = node;
            p = c ? c + 1 : p + len;
        }
        if (!rc && s != P)
            rc = pp_error_set(err, PP_ERR_INVALID_ARG, "--split names %d node%s; %d stages need %d", s - 1,
                              s - 1 == 1 ? "" : "s", P, P - 1);
    } else if (!rc) {
        partition(cost, g->n_nodes, P, starts);
    }
    starts[P] = g->n_nodes;
    for (int s = 0; !rc && s < P; s++) {
        pl->stages[s].first = starts[s];
        pl->stages[s].last = starts[s + 1];
        for (int i = starts[s]; i < starts[s + 1]; i++) stage_of[i] = s;
    }
    for (int s = 0; !rc && s < P; s++) rc = build_stage(g, pl, s, stage_of, err);
    for (int s = 0; !rc && s < P; s++) {
        pp_plan_stage *st = &pl->stages[s];
        pl->est_total_ms += st->est_ms;
        size_t limit = opt->mem_limit ? opt->mem_limit[s] : 0;
        size_t need = st->weight_bytes + st->slot_bytes * (size_t)(opt->inflight > 0 ? opt->inflight : 2);
        if (limit && need > limit)
            rc = pp_error_set(err, PP_ERR_NOMEM,
                              "stage %d does not fit %s: needs %zu bytes (weights %zu + %d slots of %zu), "
                              "%zu available",
                              s, opt->device_names ? opt->device_names[s] : "its device", need, st->weight_bytes,
                              opt->inflight, st->slot_bytes, limit);
    }
    pp_free(starts);
    pp_free(stage_of);
    pp_free(cost);
    if (rc) {
        pp_plan_free(pl);
        return rc;
    }
    *out = pl;
    return PP_OK;
}

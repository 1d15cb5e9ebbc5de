/* cmd_inspect.c: `ppengine info` (what a graph.bin holds and costs) and
 * `ppengine plan` (the formats, kernels and pipeline stages an engine would use,
 * also for GPUs this machine does not have). */
#include <stdio.h>
#include <string.h>

#include "../exec.h"
#include "../graph.h"
#include "../plan.h"
#include "cli_common.h"
#include "cli_msg.h"
#include "cli_opts.h"
#include "commands.h"

static const char *INFO_HELP = "usage: ppengine info GRAPH [--batch N] [--dim NAME=MIN..MAX]...\n"
                               "\n"
                               "Prints the graph's inputs and outputs, ops by count, parameters, FLOPs and\n"
                               "activation bytes per batch item, and the peak activation memory the planner\n"
                               "reaches by reusing buffers, against the sum of all activations.\n";

static const char *PLAN_HELP =
    "usage: ppengine plan GRAPH --devices LIST --stages P [--batch N] [--microbatch M] [--split NODE,...]\n"
    "                          [--measure] [--mem-limit SIZE] [--inflight K] [--precision P]\n"
    "                          [--assume-gpu NAME]\n"
    "\n"
    "Prints every node's output format (dtype, layout) and the kernel that runs it,\n"
    "the conversions the layout planner inserted and the peak activation memory,\n"
    "then per stage its device, first and last node, parameters, activation\n"
    "memory, estimated time and boundary transfer, and the estimated pipeline\n"
    "efficiency m/(m+P-1) for the batch's micro-batches.\n"
    "\n"
    "  --assume-gpu NAME  plan for CUDA devices this machine does not have (no GPU or\n"
    "                     driver needed): h200, h100, a100 or l4 (docs/planner.md)\n";

/* ---- info ------------------------------------------------------------------ */

static void print_io(const char *what, const pp_graph *g, const int *ids, int n) {
    printf("%s:\n", what);
    for (int i = 0; i < n; i++) {
        char buf[256];
        const pp_tensor *t = &g->tensors[ids[i]];
        printf("  %-24s %-5s %s\n", t->name, pp_dtype_name(t->dtype), pp_graph_shape_str(g, t, buf, sizeof buf));
    }
}

static void print_symbols(const pp_graph *g) {
    if (pp_symtab_is_plain(&g->sym)) return;
    printf("symbols:\n");
    for (int i = 0; i < g->sym.n_sym; i++) {
        const pp_symbol *s = &g->sym.sym[i];
        printf("  %-24s %lld..", s->name, (long long)s->min);
        if (s->max == PP_SYM_UNBOUNDED) printf("(unbounded)");
        else printf("%lld", (long long)s->max);
        printf("%s\n", i == g->sym.batch ? "  (the batch)" : "");
    }
    if (g->sym.n_prog) printf("shape program: %d values\n", g->sym.n_prog);
}

static void human_bytes(double b, char *buf, size_t n) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    snprintf(buf, n, i ? "%.2f %s" : "%.0f %s", b, u[i]);
}

int pp_cli_info(int argc, char **argv) {
    pp_cli_opts o;
    int r = pp_cli_parse_opts(argc, argv, &o, INFO_HELP);
    if (r) return r - 1;
    pp_error err = {0};
    pp_graph *g = NULL;
    double load_ms;
    if (pp_cli_load_graph(o.graph, &g, &load_ms, &err)) return pp_cli_fail(&err);
    printf("%s: format %u.%u, loaded and validated in %.2f ms\n", o.graph, g->model->version_major,
           g->model->version_minor, load_ms);
    for (int i = 0; i < g->n_meta; i++) printf("  %s: %s\n", g->meta_keys[i], g->meta_values[i]);
    print_io("inputs", g, g->inputs, g->n_inputs);
    print_io("outputs", g, g->outputs, g->n_outputs);
    print_symbols(g);
    int counts[PP_OP_MAX_VALUE + 1] = {0};
    for (int i = 0; i < g->n_nodes; i++) counts[g->nodes[i].op]++;
    printf("nodes: %d\n", g->n_nodes);
    for (int op = 0; op <= PP_OP_MAX_VALUE; op++)
        if (counts[op]) printf("  %-16s %d\n", pp_op_name((pp_op)op), counts[op]);
    uint64_t params = pp_graph_param_count(g);
    uint64_t wbytes = 0;
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].kind == PP_TENSOR_WEIGHT) wbytes += g->tensors[i].nbytes;
    char b1[32], b2[32], b3[32];
    human_bytes((double)wbytes, b1, sizeof b1);
    printf("parameters: %llu (%s)\n", (unsigned long long)params, b1);
    int64_t batch = o.batch;
    double flops = 0;
    /* Figures at --batch and each other symbol's largest value (--dim narrows). */
    int64_t sym[PP_MAX_SYMBOLS] = {0};
    char edims[sizeof o.dims + 256];
    pp_dimenv env = {{0}, batch, NULL, 0};
    if (pp_cli_run_symbols(g, NULL, NULL, 0, batch, o.dims, sym, edims, sizeof edims, &err) ||
        pp_dimenv_set(&env, &g->sym, sym, &err)) {
        printf("FLOPs and memory: %s\n", err.msg);
        pp_dimenv_free(&env);
        pp_graph_free(g);
        return 0;
    }
    pp_graph_resolve(g, &env);
    for (int i = 0; i < g->n_nodes; i++) {
        double f;
        pp_plan_node_estimate(g, i, &env, &f, NULL);
        flops += f;
    }
    char at[256];
    if (g->sym.n_sym > (g->sym.batch >= 0)) pp_symtab_values_str(&g->sym, sym, at, sizeof at);
    else snprintf(at, sizeof at, "batch %lld", (long long)batch);
    printf("FLOPs per item: %.4g (at %s)\n", flops / (double)batch, at);
    pp_plan *pl = NULL;
    pp_plan_options po = {1, (int)batch, NULL, NULL, NULL, 1, NULL, &env};
    if (g->n_nodes > 0 && pp_plan_build(g, &po, &pl, &err) == PP_OK) {
        human_bytes((double)pl->stages[0].sum_bytes / (double)batch, b1, sizeof b1);
        human_bytes((double)pl->stages[0].slot_bytes, b2, sizeof b2);
        human_bytes((double)pl->stages[0].sum_bytes, b3, sizeof b3);
        printf("activations per item: %s\n", b1);
        printf("peak activation memory at batch %lld: %s (sum of all activations %s, %.1fx reuse)\n", (long long)batch,
               b2, b3,
               pl->stages[0].slot_bytes ? (double)pl->stages[0].sum_bytes / (double)pl->stages[0].slot_bytes : 1.0);
        pp_plan_free(pl);
    } else if (g->n_nodes > 0) {
        pp_cli_fail(&err);
    }
    pp_dimenv_free(&env);
    pp_graph_free(g);
    return 0;
}

/* ---- plan ------------------------------------------------------------------ */

/* The kernel that runs node n on devices of `kind`, for the plan's table. */
static const char *kernel_name(const char *kind, const pp_node *n, char *buf, size_t size) {
    const pp_op_def *d = pp_op_def_get(n->op);
    if (!d) return "?";
    if (strcmp(kind, "cuda")) snprintf(buf, size, "%s %s", kind, d->kernel);
    else if (d->cuda == PP_CUDA_PATH_CUDNN) snprintf(buf, size, "cudnn %s", d->kernel);
    else if (d->cuda == PP_CUDA_PATH_CUBLASLT) snprintf(buf, size, "cublaslt %s", d->kernel);
    else snprintf(buf, size, "cuda %s", d->kernel);
    return buf;
}

static void print_formats(const pp_graph *pg, const pp_plan *pl, const char *kind, pp_format_report rep) {
    printf("%-5s %-16s %-40s %-16s %s\n", "node", "op", "name", "output", "kernel");
    for (int i = 0; i < pg->n_nodes; i++) {
        const pp_node *n = &pg->nodes[i];
        char fb[32] = "-", kb[64];
        if (n->n_out > 0 && n->out[0] >= 0) {
            const pp_tensor *t = &pg->tensors[n->out[0]];
            pp_format_str(t->dtype, t->layout, t->block, fb, sizeof fb);
        }
        printf("%-5d %-16s %-40.40s %-16s %s\n", i, pp_op_name(n->op) ? pp_op_name(n->op) : "?", n->name, fb,
               kernel_name(kind, n, kb, sizeof kb));
    }
    size_t peak = 0;
    for (int s = 0; s < pl->n_stages; s++)
        if (pl->stages[s].slot_bytes > peak) peak = pl->stages[s].slot_bytes;
    printf("conversions: %d\n", rep.conversions);
    printf("peak activation memory: %zu bytes\n", peak);
}

static void print_stages(const pp_graph *pg, const pp_plan *pl, const char *const *devs, const pp_cli_opts *o, int R,
                         int M) {
    int P = pl->n_stages;
    int64_t share = (o->batch + R - 1) / R;
    int64_t m = (share + M - 1) / M;
    printf("%s: %d stage%s x %d replica%s, batch %ld, micro-batch %d (%lld per replica)\n", o->graph, P,
           P == 1 ? "" : "s", R, R == 1 ? "" : "s", o->batch, M, (long long)m);
    printf("%-5s %-8s %-28s %-28s %10s %10s %10s %12s\n", "stage", "device", "first node", "last node", "params MB",
           "act MB", "est ms", "boundary MB");
    double worst = 0;
    for (int s = 0; s < P; s++) {
        const pp_plan_stage *st = &pl->stages[s];
        const char *first = st->last > st->first ? pg->nodes[st->first].name : "-";
        const char *last = st->last > st->first ? pg->nodes[st->last - 1].name : "-";
        printf("%-5d %-8s %-28.28s %-28.28s %10.3f %10.3f %10.3f %12.3f\n", s, devs[s], first, last,
               (double)st->weight_bytes / 1e6, (double)st->slot_bytes / 1e6, st->est_ms,
               s + 1 < P ? (double)st->out_bytes / 1e6 : 0.0);
        if (st->est_ms > worst) worst = st->est_ms;
    }
    double ideal = (double)m / (double)(m + P - 1);
    double balance = worst > 0 ? pl->est_total_ms / (P * worst) : 1.0;
    printf("pipeline efficiency: ideal m/(m+P-1) = %.3f, stage balance %.3f, estimated %.3f\n", ideal, balance,
           ideal * balance);
}

/* --assume-gpu: the plan for CUDA devices that are not here, from the built-in facts. */
static int plan_assumed(const pp_graph *g, const pp_exec_options *eo, const pp_cli_opts *o) {
    pp_error err = {0};
    const char *devs = o->devices ? o->devices : "cuda:0";
    int nd = 1;
    for (const char *c = devs; *c; c++) nd += *c == ',';
    for (const char *c = devs; *c; c += strcspn(c, ",") + (c[strcspn(c, ",")] == ',')) {
        if (strncmp(c, "cuda", 4))
            return pp_cli_usage("--assume-gpu plans for CUDA devices; --devices '%s' names others", devs);
    }
    if (nd % eo->stages) {
        char why[128];
        snprintf(why, sizeof why, "%d devices cannot be split into replicas of %d stages", nd, eo->stages);
        return pp_cli_usage("%s", why);
    }
    pp_format_caps caps = {"cuda", eo->precision, pp_device_facts_find(o->assume_gpu), 0};
    pp_graph *pg = NULL;
    pp_plan *pl = NULL;
    pp_format_report rep;
    if (pp_exec_plan_offline(g, eo, &caps, &pg, &pl, &rep, &err)) return pp_cli_fail(&err);
    printf("assuming %s (compute capability %d.%d, %d SMs, %.0f GiB), precision %s\n", caps.gpu->full_name,
           caps.gpu->cc_major, caps.gpu->cc_minor, caps.gpu->sms, caps.gpu->mem_gib, pp_precision_name(eo->precision));
    print_formats(pg, pl, "cuda", rep);
    const char *names[PP_MAX_IO];
    for (int s = 0; s < pl->n_stages && s < PP_MAX_IO; s++) names[s] = o->assume_gpu;
    print_stages(pg, pl, names, o, nd / eo->stages, eo->microbatch);
    pp_plan_free(pl);
    pp_graph_free(pg);
    return 0;
}

int pp_cli_plan(int argc, char **argv) {
    pp_cli_opts o;
    int r = pp_cli_parse_opts(argc, argv, &o, PLAN_HELP);
    if (r) return r - 1;
    pp_error err = {0};
    pp_graph *g = NULL;
    if (pp_cli_load_graph(o.graph, &g, NULL, &err)) return pp_cli_fail(&err);
    int M = o.microbatch ? (int)o.microbatch : (int)o.batch;
    pp_exec_options eo = pp_cli_exec_options(&o, o.batch, o.dims[0] ? o.dims : NULL);
    eo.microbatch = M;
    eo.trace = NULL; /* nothing runs */
    if (o.assume_gpu) {
        r = plan_assumed(g, &eo, &o);
        pp_graph_free(g);
        return r;
    }
    pp_exec *e = NULL;
    if (pp_exec_create(g, &eo, &e, &err)) {
        pp_graph_free(g);
        return pp_cli_fail(&err);
    }
    if (pp_exec_notice(e)) pp_cli_msg("ppengine", "%s", pp_exec_notice(e));
    const pp_plan *pl = pp_exec_plan(e);
    const char *names[PP_MAX_IO];
    for (int s = 0; s < pl->n_stages && s < PP_MAX_IO; s++) names[s] = pp_exec_device(e, 0, s);
    print_formats(pp_exec_graph(e), pl, strncmp(names[0], "cuda", 4) ? "cpu" : "cuda", pp_exec_formats(e));
    print_stages(pp_exec_graph(e), pl, names, &o, pp_exec_replicas(e), M);
    pp_exec_free(e);
    pp_graph_free(g);
    return 0;
}

/* cmd_bench.c: `ppengine bench`, trtexec-style: throughput, latency
 * percentiles, the per-node profile and the kernels' paths, as text and JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../loader/atomic.h"
#include "../exec.h"
#include "../graph.h"
#include "../plan.h"
#include "cli_common.h"
#include "cli_msg.h"
#include "cli_opts.h"
#include "commands.h"

static const char *BENCH_HELP =
    "usage: ppengine bench GRAPH [options]\n"
    "\n"
    "  --batch N          batch size (default 1)\n"
    "  --iterations N     timed runs (default: as many as fit in --duration)\n"
    "  --warmup MS        untimed runs first, for this long (default 200)\n"
    "  --duration S       timed seconds when --iterations is not given (default 3)\n"
    "  --devices LIST, --stages P, --microbatch M, --inflight K, --p2p,\n"
    "  --measure, --mem-limit SIZE   as for run\n"
    "  --precision P      fp32 (default), tf32, fp16, bf16, as for run\n"
    "  --threads N, --deterministic   as for run\n"
    "  --cuda-graph       capture each stage's launches once and replay them (CUDA graphs,\n"
    "                     the default on CUDA; one queued task per stage on the CPU)\n"
    "  --no-cuda-graph    launch node by node\n"
    "  --no-transfers     inputs uploaded once; runs go device buffer to device buffer\n"
    "                     (pp_engine_run_device), so no host copies are timed\n"
    "  --profile          print a per-node table: time, share, FLOP/s, bytes/s\n"
    "  --json FILE        write the figures as JSON\n"
    "  --tune-cache FILE  where CUDA devices keep the algorithms they chose by timing\n"
    "                     (default GRAPH.tune); --no-tune-cache times again each load\n"
    "\n"
    "Prints throughput and latency min/mean/median/p90/p95/p99/max, and warns when\n"
    "the figures are untrustworthy (high run-to-run variation, too few runs).\n";

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *sorted, long n, double p) {
    double r = p / 100.0 * (double)(n - 1);
    long i = (long)r;
    if (i + 1 >= n) return sorted[n - 1];
    return sorted[i] + (r - (double)i) * (sorted[i + 1] - sorted[i]);
}

/* One timed run: from host buffers, or device to device when din is set
 * (waiting for the end, as a caller reading the outputs would). */
static pp_code bench_run(pp_exec *e, const int64_t *const *dims, const void *const *in, void *const *out,
                         const void *const *din, void *const *dout, pp_error *err) {
    if (!din) return pp_exec_run_shapes(e, dims, in, out, err);
    pp_code rc = pp_exec_run_device_shapes(e, dims, din, dout, NULL, err);
    return rc ? rc : pp_exec_synchronize(e, err);
}

/* How the nodes run, by kind: each node's path (the backend's description of
 * its prepared launch) up to the first comma, counted. */
#define MAX_PATHS 64
typedef struct path_count {
    char what[96];
    int n;
} path_count;

static int path_summary(pp_exec *e, const pp_graph *g, path_count *pc) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const char *path = pp_exec_node_path(e, i);
        if (!path) continue;
        char what[96];
        snprintf(what, sizeof what, "%.*s", (int)strcspn(path, ","), path);
        int j = 0;
        while (j < n && strcmp(pc[j].what, what)) j++;
        if (j == n && n == MAX_PATHS) continue;
        if (j == n) snprintf(pc[n++].what, sizeof pc[0].what, "%s", what);
        pc[j].n++;
    }
    return n;
}

/* a JSON string body: quotes and backslashes escaped, controls dropped */
static void json_str(FILE *f, const char *s) {
    for (; s && *s; s++)
        if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s >= 0x20) fputc(*s, f);
}

/* One benchmark: its engine and buffers, then its figures. */
typedef struct bench {
    pp_cli_opts o;
    pp_graph *g;
    pp_exec *e;
    void **in, **out;
    void **din, **dout; /* device buffers (--no-transfers) */
    const int64_t *dp[PP_MAX_IO];
    int64_t sym[PP_MAX_SYMBOLS], in_dims[PP_MAX_IO][PP_MAX_RANK], batch;
    char edims[sizeof((pp_cli_opts *)0)->dims + 256];
    pp_dimenv env;
    pp_error err;
    double *lat; /* n timed runs' latencies, sorted once measured */
    long n, warm, replays, launches;
    double wall, mean, sd, thr, compute_ms, phase[4]; /* phase: upload, compute, copies between stages, download */
    const char *mode;
} bench;

/* The symbols (--batch, every other at its largest value; --dim narrows),
 * random inputs and the output buffers. */
static int bench_buffers(bench *b) {
    const pp_graph *g = b->g;
    uint64_t seed = 12345;
    if (g->n_inputs > PP_MAX_IO) pp_error_set(&b->err, PP_ERR_UNSUPPORTED, "more than %d inputs", PP_MAX_IO);
    if (b->err.code ||
        pp_cli_run_symbols(g, NULL, NULL, 0, b->batch, b->o.dims, b->sym, b->edims, sizeof b->edims, &b->err) ||
        pp_dimenv_set(&b->env, &g->sym, b->sym, &b->err))
        return pp_cli_fail(&b->err);
    b->in = calloc((size_t)g->n_inputs + 1, sizeof(void *));
    b->out = calloc((size_t)g->n_outputs + 1, sizeof(void *));
    if (!b->in || !b->out) return -1;
    for (int i = 0; i < g->n_inputs; i++) {
        const pp_tensor *t = &g->tensors[g->inputs[i]];
        size_t bytes = (size_t)pp_tensor_bytes_env(t, &b->env);
        pp_tensor_dims_env(t, &b->env, b->in_dims[i]);
        b->dp[i] = b->in_dims[i];
        if (!(b->in[i] = malloc(bytes ? bytes : 1))) return -1;
        pp_cli_fill_random(t, b->in[i], bytes, &seed);
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (!(b->out[i] = malloc((size_t)pp_tensor_bytes_env(&g->tensors[g->outputs[i]], &b->env) + 1))) return -1;
    return 0;
}

/* The engine; with --no-transfers the inputs are put on the device once and
 * every run goes device buffer to device buffer, so the figures are the engine
 * alone. */
static int bench_engine(bench *b) {
    const pp_graph *g = b->g;
    /* --profile also collects the timeline (never written) for the upload /
     * compute / copy / download split. */
    pp_exec_options eo = pp_cli_exec_options(&b->o, b->batch, b->edims);
    eo.trace = b->o.profile ? "/dev/null" : NULL;
    if (pp_exec_create(g, &eo, &b->e, &b->err)) return pp_cli_fail(&b->err);
    if (pp_exec_notice(b->e)) pp_cli_msg("ppengine", "note: %s", pp_exec_notice(b->e));
    if (!b->o.no_transfers) return 0;
    b->din = calloc((size_t)g->n_inputs + 1, sizeof(void *));
    b->dout = calloc((size_t)g->n_outputs + 1, sizeof(void *));
    if (!b->din || !b->dout) return -1;
    for (int i = 0; i < g->n_inputs; i++) {
        size_t bytes = (size_t)pp_tensor_bytes_env(&g->tensors[g->inputs[i]], &b->env);
        if (pp_exec_io_alloc(b->e, 0, bytes, &b->din[i], &b->err) ||
            pp_exec_io_copy(b->e, 0, 1, b->din[i], b->in[i], bytes, &b->err))
            return pp_cli_fail(&b->err);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        size_t bytes = (size_t)pp_tensor_bytes_env(&g->tensors[g->outputs[i]], &b->env);
        if (pp_exec_io_alloc(b->e, 1, bytes, &b->dout[i], &b->err)) return pp_cli_fail(&b->err);
    }
    return 0;
}

static int bench_once(bench *b) {
    if (bench_run(b->e, b->dp, (const void *const *)b->in, b->out, (const void *const *)b->din, b->dout, &b->err))
        return pp_cli_fail(&b->err);
    return 0;
}

/* Warm-up for --warmup ms, then --iterations runs or --duration seconds of them. */
static int bench_time(bench *b) {
    double t_end = pp_cli_now_ms() + (double)b->o.warmup_ms;
    do {
        if (bench_once(b)) return 1;
        b->warm++;
    } while (pp_cli_now_ms() < t_end);
    double ph[4];
    if (b->o.profile) {
        pp_exec_set_profile(b->e, 1);
        (void)pp_exec_phases(b->e, ph, NULL); /* forget the warm-up's */
    }
    pp_exec_counts(b->e, &b->replays, &b->launches); /* from here on: the timed runs' */
    long cap = b->o.iterations ? b->o.iterations : 1024;
    if (!(b->lat = malloc(sizeof(double) * (size_t)cap))) return -1;
    double start = pp_cli_now_ms(), stop = start + b->o.duration_s * 1e3;
    for (;;) {
        if (b->o.iterations ? b->n >= b->o.iterations : (b->n > 0 && pp_cli_now_ms() >= stop)) break;
        if (b->n == cap) {
            double *nl = realloc(b->lat, sizeof(double) * (size_t)cap * 2);
            if (!nl) return -1;
            b->lat = nl;
            cap *= 2;
        }
        double t0 = pp_cli_now_ms();
        if (bench_once(b)) return 1;
        b->lat[b->n++] = pp_cli_now_ms() - t0;
        /* read after every run: the timeline's ring would overflow over thousands */
        if (b->o.profile && pp_exec_phases(b->e, ph, NULL) == PP_OK)
            for (int i = 0; i < 4; i++) b->phase[i] += ph[i];
    }
    b->wall = pp_cli_now_ms() - start;
    return 0;
}

/* Mean, deviation, sorted latencies, throughput and the mode the timed runs used. */
static void bench_stats(bench *b) {
    long n = b->n;
    double sum = 0, var = 0;
    /* what the timed runs did, not what was asked: a capture that failed runs
     * launch by launch */
    pp_exec_counts(b->e, &b->replays, &b->launches);
    b->mode = b->replays && b->launches ? "mixed" : b->replays ? "graphs" : "launches";
    for (long i = 0; i < n; i++) sum += b->lat[i];
    b->mean = sum / (double)n;
    for (long i = 0; i < n; i++) var += (b->lat[i] - b->mean) * (b->lat[i] - b->mean);
    b->sd = n > 1 ? sqrt(var / (double)(n - 1)) : 0;
    qsort(b->lat, (size_t)n, sizeof(double), cmp_double);
    b->thr = (double)n * (double)b->batch / (b->wall / 1e3);
}

static void print_summary(const bench *b) {
    const pp_plan *pl = pp_exec_plan(b->e);
    const double *lat = b->lat;
    long n = b->n;
    int R = pp_exec_replicas(b->e);
    printf("%s on %s: batch %lld, %d stage%s x %d replica%s, micro-batch %d\n", b->o.graph, pp_exec_device(b->e, 0, 0),
           (long long)b->batch, pl->n_stages, pl->n_stages == 1 ? "" : "s", R, R == 1 ? "" : "s", pl->microbatch);
    printf("mode: %s, %s (%ld graph replays, %ld launches one by one), %s\n", pp_precision_name(b->o.precision),
           !strcmp(b->mode, "graphs")  ? "graphs (captured launches replayed)"
           : !strcmp(b->mode, "mixed") ? "graphs for some stages or sizes, launches for others"
                                       : "launch by launch",
           b->replays, b->launches,
           b->o.no_transfers ? "device buffers (no host transfers)" : "host buffers (uploads and downloads timed)");
    printf("runs: %ld timed (%ld warm-up) in %.1f ms\n", n, b->warm, b->wall);
    printf("throughput: %.2f items/s (%.2f runs/s)\n", b->thr, (double)n / (b->wall / 1e3));
    printf("latency ms: min %.3f  mean %.3f  median %.3f  p90 %.3f  p95 %.3f  p99 %.3f  max %.3f\n", lat[0], b->mean,
           pct(lat, n, 50), pct(lat, n, 90), pct(lat, n, 95), pct(lat, n, 99), lat[n - 1]);
}

/* --profile: the per-node table and the split of a run's stream time. */
static void print_profile(bench *b) {
    const pp_graph *g = b->g;
    const pp_plan *pl = pp_exec_plan(b->e);
    double total = 0, n = (double)b->n;
    for (int i = 0; i < g->n_nodes; i++) {
        double ms, f, by;
        long cnt;
        pp_exec_node_profile(b->e, i, &ms, &cnt, &f, &by);
        total += ms;
    }
    b->compute_ms = total / n;
    printf("\n%-36s %-14s %10s %7s %12s %12s\n", "node", "op", "ms/run", "share", "GFLOP/s", "GB/s");
    for (int i = 0; i < g->n_nodes; i++) {
        double ms, f, by;
        long cnt;
        pp_exec_node_profile(b->e, i, &ms, &cnt, &f, &by);
        printf("%-36.36s %-14s %10.4f %6.1f%% %12.3f %12.3f\n", g->nodes[i].name, pp_op_name(g->nodes[i].op), ms / n,
               total > 0 ? 100.0 * ms / total : 0.0, ms > 0 ? f / ms / 1e6 : 0.0, ms > 0 ? by / ms / 1e6 : 0.0);
    }
    double *ph = b->phase;
    for (int i = 0; i < 4; i++) ph[i] /= n;
    printf("split per run (stream time): upload %.3f ms, compute %.3f ms, copies between stages %.3f ms, "
           "download %.3f ms",
           ph[0], ph[1], ph[2], ph[3]);
    double streams = ph[0] + ph[1] + ph[2] + ph[3];
    if (pl->n_stages == 1 && pp_exec_replicas(b->e) == 1)
        printf("; host %.3f ms (of mean %.3f)\n", b->mean - streams > 0 ? b->mean - streams : 0.0, b->mean);
    else
        printf(" (summed over %d streams that overlap; mean %.3f)\n", 2 * pl->n_stages * pp_exec_replicas(b->e),
               b->mean);
}

/* When the figures should not be trusted, and why. */
static void print_warnings(const bench *b) {
    const double *ph = b->phase;
    if (b->n < 10) printf("warning: only %ld timed runs; the percentiles mean little (raise --duration)\n", b->n);
    if (b->mean > 0 && b->sd / b->mean > 0.1)
        printf("warning: run-to-run variation is %.0f%% of the mean; the machine is busy or the runs are too short\n",
               100 * b->sd / b->mean);
    if (b->o.profile && ph[1] > 0 && ph[0] + ph[2] + ph[3] > ph[1])
        printf("warning: copies (%.3f ms per run) take longer than compute (%.3f ms); transfers dominate\n",
               ph[0] + ph[2] + ph[3], ph[1]);
    else if (b->o.profile && b->compute_ms > 0 && b->compute_ms < 0.5 * b->mean)
        printf("warning: kernels are %.0f%% of each run; host overhead dominates\n", 100 * b->compute_ms / b->mean);
}

static void json_figures(FILE *f, const bench *b) {
    const pp_plan *pl = pp_exec_plan(b->e);
    const double *lat = b->lat, *ph = b->phase;
    long n = b->n;
    fprintf(f, "{\n  \"graph\": \"");
    json_str(f, b->o.graph);
    fprintf(f,
            "\",\n  \"device\": \"%s\",\n  \"batch\": %lld,\n  \"stages\": %d,\n  \"replicas\": %d,\n"
            "  \"microbatch\": %d,\n  \"precision\": \"%s\",\n  \"graphs\": %s,\n  \"mode\": \"%s\",\n"
            "  \"graph_replays\": %ld,\n  \"launches\": %ld,\n  \"transfers\": %s,\n  \"runs\": %ld,\n"
            "  \"throughput_items_per_s\": %.6g,\n  \"latency_ms\": {\"min\": %.6g, \"mean\": %.6g, "
            "\"median\": %.6g, \"p90\": %.6g, \"p95\": %.6g, \"p99\": %.6g, \"max\": %.6g, \"stddev\": %.6g},\n"
            "  \"compute_ms\": %.6g,\n  \"split_ms\": {\"upload\": %.6g, \"compute\": %.6g, "
            "\"stage_copies\": %.6g, \"download\": %.6g},\n",
            pp_exec_device(b->e, 0, 0), (long long)b->batch, pl->n_stages, pp_exec_replicas(b->e), pl->microbatch,
            pp_precision_name(b->o.precision), pp_exec_graphs(b->e) ? "true" : "false", b->mode, b->replays,
            b->launches, b->o.no_transfers ? "false" : "true", n, b->thr, lat[0], b->mean, pct(lat, n, 50),
            pct(lat, n, 90), pct(lat, n, 95), pct(lat, n, 99), lat[n - 1], b->sd, b->compute_ms, ph[0], ph[1], ph[2],
            ph[3]);
}

static void json_paths(FILE *f, const bench *b, const path_count *pc, int npc) {
    const pp_graph *g = b->g;
    fprintf(f, "  \"device_info\": [");
    for (int p = 0; p < pp_exec_plan(b->e)->n_stages; p++) {
        fprintf(f, "%s\"", p ? ", " : "");
        json_str(f, pp_exec_device_info(b->e, p));
        fprintf(f, "\"");
    }
    fprintf(f, "],\n  \"paths\": {");
    for (int i = 0; i < npc; i++) {
        fprintf(f, "%s\"", i ? ", " : "");
        json_str(f, pc[i].what);
        fprintf(f, "\": %d", pc[i].n);
    }
    fprintf(f, "},\n  \"node_paths\": [");
    for (int i = 0, first = 1; i < g->n_nodes; i++) {
        const char *path = pp_exec_node_path(b->e, i);
        if (!path) continue;
        fprintf(f, "%s\n    {\"node\": \"", first ? "" : ",");
        json_str(f, g->nodes[i].name);
        fprintf(f, "\", \"op\": \"%s\", \"path\": \"", pp_op_name(g->nodes[i].op));
        json_str(f, path);
        fprintf(f, "\"}");
        first = 0;
    }
    fprintf(f, "]\n}\n");
}

/* The devices and the kernels' paths; then --json, written atomically. */
static int report(bench *b) {
    path_count pc[MAX_PATHS];
    int npc = path_summary(b->e, b->g, pc);
    for (int p = 0; p < pp_exec_plan(b->e)->n_stages; p++)
        if (pp_exec_device_info(b->e, p)) printf("device: %s\n", pp_exec_device_info(b->e, p));
    if (npc) {
        printf("paths:");
        for (int i = 0; i < npc; i++) printf("%s %d x %s", i ? ";" : "", pc[i].n, pc[i].what);
        printf("\n");
    }
    if (!b->o.json) return 0;
    pp_afile af;
    if (pp_afile_open(&af, b->o.json, &b->err)) return pp_cli_fail(&b->err);
    json_figures(af.f, b);
    json_paths(af.f, b, pc, npc);
    if (pp_afile_commit(&af, &b->err)) return pp_cli_fail(&b->err);
    return 0;
}

static void bench_free(bench *b) {
    const pp_graph *g = b->g;
    for (int i = 0; b->e && b->din && i < g->n_inputs; i++) pp_exec_io_free(b->e, 0, b->din[i]);
    for (int i = 0; b->e && b->dout && i < g->n_outputs; i++) pp_exec_io_free(b->e, 1, b->dout[i]);
    free(b->din);
    free(b->dout);
    pp_exec_free(b->e);
    for (int i = 0; b->in && i < g->n_inputs; i++) free(b->in[i]);
    for (int i = 0; b->out && i < g->n_outputs; i++) free(b->out[i]);
    free(b->in);
    free(b->out);
    free(b->lat);
    pp_dimenv_free(&b->env);
    pp_graph_free(b->g);
}

int pp_cli_bench(int argc, char **argv) {
    bench *b = calloc(1, sizeof *b); /* large: its shapes and option strings */
    if (!b) return pp_cli_msg("ppengine", "out of memory"), 1;
    int r = pp_cli_parse_opts(argc, argv, &b->o, BENCH_HELP);
    if (!r && pp_cli_load_graph(b->o.graph, &b->g, NULL, &b->err)) r = 1 + pp_cli_fail(&b->err);
    if (r) {
        free(b);
        return r - 1;
    }
    b->batch = b->o.batch;
    b->env.batch = b->batch;
    /* each step reports its own failure (1); -1 is out of memory */
    if (!(r = bench_buffers(b)) && !(r = bench_engine(b)) && !(r = bench_time(b))) {
        bench_stats(b);
        print_summary(b);
        if (b->o.profile) print_profile(b);
        print_warnings(b);
        r = report(b);
    }
    if (r < 0) pp_cli_msg("ppengine", "out of memory");
    bench_free(b);
    free(b);
    return r ? 1 : 0;
}

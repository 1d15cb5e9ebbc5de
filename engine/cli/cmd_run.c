/* cmd_run.c: `ppengine run`: a graph.bin on .npy inputs (or random ones), its
 * outputs written as .npy; chunked, resumable or across MPI ranks when asked
 * (chunked.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../loader/npy.h"
#include "../exec.h"
#include "../graph.h"
#include "../plan.h"
#include "chunked.h"
#include "cli_common.h"
#include "cli_msg.h"
#include "cli_opts.h"
#include "commands.h"

static const char *RUN_HELP =
    "usage: ppengine run GRAPH [options]\n"
    "\n"
    "  --input NAME=FILE.npy  an input (repeatable; one input may omit NAME=); without any\n"
    "                         --input, every input is random\n"
    "  --output DIR           write DIR/<output name>.npy for every output\n"
    "  --batch N              batch size for random inputs (default 1)\n"
    "  --seed S               seed for random inputs (default 1)\n"
    "  --dim NAME=MIN..MAX    narrow a symbol's range (seq=1..256), or fix it (seq=128); buffers\n"
    "                         are sized for the maxima (repeatable). Inputs of any shape within\n"
    "                         the ranges run; random inputs take each symbol's maximum\n"
    "  --devices LIST         cpu, cpu:0,cpu:1,..., cuda:0,cuda:1, auto (default auto)\n"
    "  --stages P             pipeline stages per replica (default 1); replicas = devices / P\n"
    "  --microbatch M         micro-batch size (default: the whole batch)\n"
    "  --inflight K           in-flight buffers per stage boundary (default 2)\n"
    "  --split NODE,NODE      start stages 2..P at these nodes (source names)\n"
    "  --p2p                  use peer-to-peer copies between GPUs where possible\n"
    "  --measure              time every node before placing stages (instead of estimating)\n"
    "  --mem-limit SIZE       bytes each device may use (512M, 2G); a plan that does not fit\n"
    "                         retries with fewer micro-batches in flight\n"
    "  --trace FILE.json      write a Chrome/Perfetto trace of the run\n"
    "  --tune-cache FILE      where CUDA devices keep the algorithms they chose by timing\n"
    "                         (default GRAPH.tune beside the graph); --no-tune-cache: none\n"
    "  --cuda-graph           capture each stage's launches once and replay them (CUDA graphs;\n"
    "                         the default on CUDA devices); --no-cuda-graph launches node by node\n"
    "  --precision P          fp32 (default), tf32, or fp16 / bf16 (CUDA: tensors 16-bit where a\n"
    "                         kernel takes them, statistics and sums in f32; docs/cuda.md)\n"
    "  --threads N            host threads the CPU devices share (default: the cores of the\n"
    "                         affinity mask), one persistent pool per device\n"
    "  --deterministic        CPU results bit-identical whatever the placement, micro-batch\n"
    "                         and thread count (default: equal within f32 rounding)\n"
    "  --quiet                print only errors\n"
    "\n"
    "Chunked, resumable and across MPI ranks (docs/scale.md): when an --input is a folder of\n"
    ".npy files (taken in name order), or with --chunk, --resume or --mpi, or when mpirun or\n"
    "srun started it, the items are cut into chunks, each chunk's outputs are written to\n"
    "OUT/chunks/ and recorded, and OUT/<output>.npy is joined from them at the end.\n"
    "  --chunk N              items per chunk (default 64)\n"
    "  --resume               keep the chunks an interrupted run recorded; compute the rest\n"
    "  --mpi                  run as one rank of an MPI job (detected under mpirun and srun)\n"
    "  --no-mpi               one independent process even under mpirun or srun\n"
    "  --throttle-ms MS       pause after each chunk (to try out a kill and --resume)\n";

/* A chunked run (engine/cli/chunked.h) when a folder input, --chunk, --resume
 * or MPI asks for one; -1 for the plain run. */
static int run_chunked(pp_cli_opts *o) {
    char why[96] = "--mpi";
    int mpi = o->mpi || (!o->no_mpi && pp_mpi_launched(why, sizeof why) > 1);
    int dir = 0;
    for (int i = 0; i < o->n_inputs; i++) {
        const char *eq = strchr(o->inputs[i], '=');
        struct stat st;
        dir |= stat(eq ? eq + 1 : o->inputs[i], &st) == 0 && S_ISDIR(st.st_mode);
    }
    if (!mpi && !dir && !o->chunk && !o->resume) return -1;
    if (!o->n_inputs || !o->output)
        return pp_cli_usage("a chunked run (a folder input, --chunk, --resume or MPI) needs --input and --output%s",
                            "");
    if (o->batch_set) return pp_cli_usage("--batch does not apply to a chunked run: its inputs set the batch%s", "");
    long chunk = o->chunk ? o->chunk : 64;
    pp_chunked_options co = {o->graph,  o->output,      o->trace,
                             o->inputs, o->n_inputs,    pp_cli_exec_options(o, chunk, o->dims[0] ? o->dims : NULL),
                             chunk,     o->throttle_ms, o->resume,
                             o->quiet};
    co.exec.trace = NULL; /* the chunked run writes its own, one lane group per rank */
    return mpi ? pp_run_mpi(&co, why) : pp_run_chunked(&co);
}

/* One plain run's inputs, outputs and engine. */
typedef struct run_state {
    pp_cli_opts o;
    pp_graph *g;
    pp_npy *files;
    void **in, **out;
    int *given;
    const char *paths[PP_MAX_IO];
    int64_t sym[PP_MAX_SYMBOLS], in_dims[PP_MAX_IO][PP_MAX_RANK], batch;
    char edims[sizeof((pp_cli_opts *)0)->dims + 256];
    pp_dimenv env;
    pp_exec *e;
    pp_error err;
} run_state;

/* Which graph input an --input spec names: NAME=FILE, or FILE for the only one. */
static int input_index(const run_state *s, const char *spec, const char **file) {
    const pp_graph *g = s->g;
    const char *eq = strchr(spec, '=');
    *file = eq ? eq + 1 : spec;
    if (!eq && g->n_inputs == 1) return 0;
    if (!eq) {
        pp_cli_msg("ppengine", "--input %s: the graph has %d inputs; name it as NAME=FILE.npy", spec, g->n_inputs);
        return -1;
    }
    for (int j = 0; j < g->n_inputs; j++) {
        const char *name = g->tensors[g->inputs[j]].name;
        if (strlen(name) == (size_t)(eq - spec) && !strncmp(name, spec, (size_t)(eq - spec))) return j;
    }
    pp_cli_msg("ppengine", "--input %s: the graph has no input named '%.*s'", spec, (int)(eq - spec), spec);
    return -1;
}

/* The --input files, each read and placed at its graph input. */
static int read_inputs(run_state *s) {
    const pp_graph *g = s->g;
    for (int i = 0; i < s->o.n_inputs; i++) {
        const char *file;
        int idx = input_index(s, s->o.inputs[i], &file);
        if (idx < 0) return 1;
        if (s->given[idx]) {
            pp_cli_msg("ppengine", "input '%s' is given twice", g->tensors[g->inputs[idx]].name);
            return 1;
        }
        if (idx >= PP_MAX_IO) pp_error_set(&s->err, PP_ERR_UNSUPPORTED, "more than %d inputs", PP_MAX_IO);
        if (idx >= PP_MAX_IO || pp_npy_read(file, &s->files[idx], &s->err)) return pp_cli_fail(&s->err);
        s->paths[idx] = file;
        s->given[idx] = 1;
        s->in[idx] = s->files[idx].data;
    }
    /* Random data stands in for every input, or for none: a forgotten input
     * among given ones is a mistake, not a request for noise. */
    for (int i = 0; s->o.n_inputs > 0 && i < g->n_inputs; i++)
        if (!s->given[i]) {
            pp_cli_msg("ppengine", "input '%s' is not given (the graph has %d inputs; pass each as NAME=FILE.npy)",
                       g->tensors[g->inputs[i]].name, g->n_inputs);
            return 1;
        }
    return 0;
}

/* The symbols from the inputs' shapes (batch, sequence lengths, ...), then
 * random inputs where none were given, and the output buffers. */
static int shape_buffers(run_state *s) {
    const pp_graph *g = s->g;
    if (pp_cli_run_symbols(g, s->files, s->paths, s->o.n_inputs > 0, s->o.batch, s->o.dims, s->sym, s->edims,
                           sizeof s->edims, &s->err))
        return pp_cli_fail(&s->err);
    s->batch = g->sym.batch >= 0 ? s->sym[g->sym.batch] : 1;
    if (s->o.n_inputs && s->o.batch_set && s->o.batch != s->batch) {
        pp_cli_msg("ppengine", "--batch %ld disagrees with the inputs' batch %lld", s->o.batch, (long long)s->batch);
        return 1;
    }
    if (pp_dimenv_set(&s->env, &g->sym, s->sym, &s->err)) return pp_cli_fail(&s->err);
    uint64_t seed = (uint64_t)s->o.seed * 2654435761u + 1;
    for (int i = 0; i < g->n_inputs && i < PP_MAX_IO; i++) {
        const pp_tensor *t = &g->tensors[g->inputs[i]];
        pp_tensor_dims_env(t, &s->env, s->in_dims[i]);
        if (s->given[i]) continue;
        size_t bytes = (size_t)pp_tensor_bytes_env(t, &s->env);
        if (!(s->in[i] = malloc(bytes ? bytes : 1))) {
            pp_cli_msg("ppengine", "out of memory for input '%s' (%zu bytes)", t->name, bytes);
            return 1;
        }
        pp_cli_fill_random(t, s->in[i], bytes, &seed);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        size_t bytes = (size_t)pp_tensor_bytes_env(&g->tensors[g->outputs[i]], &s->env);
        if (!(s->out[i] = calloc(1, bytes ? bytes : 1))) {
            pp_cli_msg("ppengine", "out of memory for output %d (%zu bytes)", i, bytes);
            return 1;
        }
    }
    return 0;
}

static int write_outputs(run_state *s) {
    const char *dir = s->o.output;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        pp_cli_msg("ppengine", "cannot create output folder '%s': %s", dir, strerror(errno));
        return 1;
    }
    for (int i = 0; i < s->g->n_outputs; i++) {
        const pp_tensor *t = &s->g->tensors[s->g->outputs[i]];
        char name[256], path[4096];
        int64_t dims[PP_MAX_RANK];
        pp_cli_safe_name(t->name, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s.npy", dir, name);
        pp_tensor_dims_env(t, &s->env, dims);
        if (pp_npy_write(path, t->dtype, t->rank, dims, s->out[i], &s->err)) return pp_cli_fail(&s->err);
    }
    return 0;
}

/* An output's dtype, extents, range and first values, on one line. */
static void summarize(const pp_tensor *t, const void *data, const pp_dimenv *env) {
    int64_t dims[PP_MAX_RANK];
    pp_tensor_dims_env(t, env, dims);
    size_t n = 1;
    printf("  %s: %s (", t->name, pp_dtype_name(t->dtype));
    for (int i = 0; i < t->rank; i++) {
        printf("%s%lld", i ? ", " : "", (long long)dims[i]);
        n *= (size_t)dims[i];
    }
    printf(")");
    if (t->dtype == PP_DTYPE_F32 && n) {
        const float *f = data;
        double mn = f[0], mx = f[0], sum = 0;
        for (size_t i = 0; i < n; i++) {
            if (f[i] < mn) mn = f[i];
            if (f[i] > mx) mx = f[i];
            sum += f[i];
        }
        printf(" min %.6g max %.6g mean %.6g  [", mn, mx, sum / (double)n);
        for (size_t i = 0; i < n && i < 5; i++) printf("%s%.6g", i ? ", " : "", f[i]);
        printf("%s]", n > 5 ? ", ..." : "");
    } else if (t->dtype == PP_DTYPE_I64 && n) {
        const int64_t *v = data;
        printf("  [");
        for (size_t i = 0; i < n && i < 8; i++) printf("%s%lld", i ? ", " : "", (long long)v[i]);
        printf("%s]", n > 8 ? ", ..." : "");
    }
    printf("\n");
}

/* Builds the engine, runs it once, writes and reports. */
static int execute(run_state *s, double load_ms) {
    const pp_graph *g = s->g;
    pp_exec_options eo = pp_cli_exec_options(&s->o, s->batch, s->edims);
    double t0 = pp_cli_now_ms();
    if (pp_exec_create(g, &eo, &s->e, &s->err)) return pp_cli_fail(&s->err);
    /* A notice, not an error: on stdout, so a failure later still leaves
     * exactly one line on stderr. */
    if (pp_exec_fell_back(s->e) && !s->o.quiet) printf("ppengine: no CUDA device found; running on the CPU\n");
    if (pp_exec_notice(s->e)) pp_cli_msg("ppengine", "%s", pp_exec_notice(s->e));
    const int64_t *dp[PP_MAX_IO];
    for (int i = 0; i < g->n_inputs && i < PP_MAX_IO; i++) dp[i] = s->in_dims[i];
    double t1 = pp_cli_now_ms();
    if (pp_exec_run_shapes(s->e, dp, (const void *const *)s->in, s->out, &s->err)) return pp_cli_fail(&s->err);
    double t2 = pp_cli_now_ms();
    int spans = 0, concurrent = 0;
    if (s->o.trace && pp_exec_write_trace(s->e, &spans, &concurrent, &s->err)) return pp_cli_fail(&s->err);
    if (s->o.output && write_outputs(s)) return 1;
    if (s->o.quiet) return 0;
    printf("%s: batch %lld on %s", s->o.graph, (long long)s->batch, pp_exec_device(s->e, 0, 0));
    const pp_plan *pl = pp_exec_plan(s->e);
    if (pl->n_stages > 1 || pp_exec_replicas(s->e) > 1)
        printf(" (%d stages x %d replicas, micro-batch %d)", pl->n_stages, pp_exec_replicas(s->e), pl->microbatch);
    printf("\n");
    for (int i = 0; i < g->n_outputs; i++) summarize(&g->tensors[g->outputs[i]], s->out[i], &s->env);
    printf("load %.2f ms, build %.2f ms, run %.2f ms\n", load_ms, t1 - t0, t2 - t1);
    if (s->o.output) printf("wrote %d output%s to %s/\n", g->n_outputs, g->n_outputs == 1 ? "" : "s", s->o.output);
    if (s->o.trace)
        printf("trace: %d spans, at most %d streams busy at once, written to %s\n", spans, concurrent, s->o.trace);
    return 0;
}

static void run_state_free(run_state *s) {
    pp_exec_free(s->e);
    pp_dimenv_free(&s->env);
    for (int i = 0; i < s->g->n_inputs && s->in; i++)
        if (s->given && !s->given[i]) free(s->in[i]);
    for (int i = 0; i < s->g->n_inputs && s->files; i++) pp_npy_free(&s->files[i]);
    for (int i = 0; i < s->g->n_outputs && s->out; i++) free(s->out[i]);
    free(s->files);
    free(s->in);
    free(s->out);
    free(s->given);
    pp_graph_free(s->g);
}

int pp_cli_run(int argc, char **argv) {
    run_state *s = calloc(1, sizeof *s); /* large: its shapes and option strings */
    if (!s) return pp_cli_msg("ppengine", "out of memory"), 1;
    s->env.batch = 1;
    int r = pp_cli_parse_opts(argc, argv, &s->o, RUN_HELP);
    if (!r) r = run_chunked(&s->o) + 1; /* 0: not chunked, the plain run follows */
    if (r) {
        free(s);
        return r - 1;
    }
    double load_ms;
    if (pp_cli_load_graph(s->o.graph, &s->g, &load_ms, &s->err)) {
        int rc = pp_cli_fail(&s->err);
        free(s);
        return rc;
    }
    const pp_graph *g = s->g;
    s->files = calloc((size_t)g->n_inputs + 1, sizeof(pp_npy));
    s->in = calloc((size_t)g->n_inputs + 1, sizeof(void *));
    s->out = calloc((size_t)g->n_outputs + 1, sizeof(void *));
    s->given = calloc((size_t)g->n_inputs + 1, sizeof(int));
    int rc = 1;
    if (!s->files || !s->in || !s->out || !s->given) pp_cli_msg("ppengine", "out of memory");
    else if (!read_inputs(s) && !shape_buffers(s)) rc = execute(s, load_ms);
    run_state_free(s);
    free(s);
    return rc;
}

/* ppengine: run, inspect and plan graph.bin files from the command line. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../../loader/atomic.h"
#include "../../loader/model.h"
#include "../../loader/npy.h"
#include "../exec.h"
#include "../graph.h"
#include "../plan.h"
#include "chunked.h"
#include "cli_common.h"
#include "cli_msg.h"

int pp_cli_progress_open; /* cli_msg.h */

static double now_ms(void) { return pp_cli_now_ms(); }

static int fail(const pp_error *err) {
    pp_cli_msg("ppengine", "%s", err->msg);
    return 1;
}

static int usage_error(const char *fmt, const char *arg) {
    char msg[1024];
    snprintf(msg, sizeof msg, fmt, arg);
    pp_cli_msg("ppengine", "%s (try --help)", msg);
    return 2;
}

static const char *MAIN_HELP = "usage: ppengine COMMAND [options]\n"
                               "\n"
                               "commands:\n"
                               "  run GRAPH    run a graph.bin on inputs (.npy files or random) and write outputs\n"
                               "  info GRAPH   inputs, outputs, ops, parameters, FLOPs and activation memory\n"
                               "  plan GRAPH   show how the graph is split into pipeline stages over devices\n"
                               "  bench GRAPH  measure throughput and latency (trtexec-style)\n"
                               "  compare A.npy B.npy [--tol T]  relative L2 error and max difference; exit 1 above T\n"
                               "\n"
                               "'ppengine COMMAND --help' describes each command.\n";

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

typedef struct opts {
    const char *graph, *output, *devices, *split, *trace, *assume_gpu;
    const char *inputs[64];
    int n_inputs;
    const char *json;
    long batch, seed, stages, microbatch, inflight, iterations, warmup_ms, threads;
    double duration_s;
    int batch_set, p2p, quiet, profile, cuda_graph, no_transfers, measure, deterministic, no_tune_cache;
    int mpi, no_mpi, resume;
    long chunk, throttle_ms;
    pp_precision precision;
    size_t mem_limit;
    char dims[1024]; /* --dim NAME=MIN..MAX, comma-joined */
    const char *tune_cache;
    char tune_buf[4096];
} opts;

/* The tuning cache (docs/cuda.md): --tune-cache FILE, else GRAPH.tune beside
 * the graph, unless --no-tune-cache. */
static const char *tune_cache_path(opts *o) {
    if (o->no_tune_cache) return NULL;
    if (o->tune_cache) return o->tune_cache;
    int n = snprintf(o->tune_buf, sizeof o->tune_buf, "%s.tune", o->graph);
    return n > 0 && (size_t)n < sizeof o->tune_buf ? o->tune_buf : NULL;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* Returns 0 to go on, >= 0 + 1 to exit with (value - 1). */
static int parse_opts(int argc, char **argv, opts *o, const char *help) {
    memset(o, 0, sizeof *o);
    o->batch = 1;
    o->seed = 1;
    o->stages = 1;
    o->inflight = 2;
    o->cuda_graph = -1; /* graphs where the devices are CUDA */
    o->warmup_ms = 200;
    o->duration_s = 3;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                                                                                   \
    do {                                                                                                               \
        if (!v) return 1 + usage_error("%s needs a value", a);                                                         \
        i++;                                                                                                           \
    } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return 1;
        } else if (!strcmp(a, "--input")) {
            NEED_VALUE();
            if (o->n_inputs == 64) return 1 + usage_error("more than 64 --input options%s", "");
            o->inputs[o->n_inputs++] = v;
        } else if (!strcmp(a, "--output")) {
            NEED_VALUE();
            o->output = v;
        } else if (!strcmp(a, "--devices")) {
            NEED_VALUE();
            o->devices = v;
        } else if (!strcmp(a, "--split")) {
            NEED_VALUE();
            o->split = v;
        } else if (!strcmp(a, "--trace")) {
            NEED_VALUE();
            o->trace = v;
        } else if (!strcmp(a, "--batch")) {
            NEED_VALUE();
            if (parse_long(v, 1, 1L << 30, &o->batch))
                return 1 + usage_error("--batch '%s' is not a positive integer", v);
            o->batch_set = 1;
        } else if (!strcmp(a, "--seed")) {
            NEED_VALUE();
            if (parse_long(v, 0, INT32_MAX, &o->seed)) return 1 + usage_error("--seed '%s' is not an integer >= 0", v);
        } else if (!strcmp(a, "--stages")) {
            NEED_VALUE();
            if (parse_long(v, 1, 1024, &o->stages)) return 1 + usage_error("--stages '%s' is not in 1..1024", v);
        } else if (!strcmp(a, "--microbatch")) {
            NEED_VALUE();
            if (parse_long(v, 1, 1L << 30, &o->microbatch))
                return 1 + usage_error("--microbatch '%s' is not a positive integer", v);
        } else if (!strcmp(a, "--inflight")) {
            NEED_VALUE();
            if (parse_long(v, 2, 64, &o->inflight)) return 1 + usage_error("--inflight '%s' is not in 2..64", v);
        } else if (!strcmp(a, "--iterations")) {
            NEED_VALUE();
            if (parse_long(v, 1, 1L << 30, &o->iterations))
                return 1 + usage_error("--iterations '%s' is not a positive integer", v);
        } else if (!strcmp(a, "--warmup")) {
            NEED_VALUE();
            if (parse_long(v, 0, 3600000, &o->warmup_ms))
                return 1 + usage_error("--warmup '%s' is not milliseconds", v);
        } else if (!strcmp(a, "--duration")) {
            NEED_VALUE();
            char *end;
            o->duration_s = strtod(v, &end);
            if (*end || end == v || !(o->duration_s > 0) || o->duration_s > 86400)
                return 1 + usage_error("--duration '%s' is not a number of seconds", v);
        } else if (!strcmp(a, "--json")) {
            NEED_VALUE();
            o->json = v;
        } else if (!strcmp(a, "--profile")) {
            o->profile = 1;
        } else if (!strcmp(a, "--cuda-graph") || !strcmp(a, "--graphs")) {
            o->cuda_graph = 1;
        } else if (!strcmp(a, "--no-cuda-graph") || !strcmp(a, "--no-graphs")) {
            o->cuda_graph = 0;
        } else if (!strcmp(a, "--assume-gpu")) {
            NEED_VALUE();
            if (!pp_device_facts_find(v)) {
                char why[256];
                snprintf(why, sizeof why, "--assume-gpu '%s' is not one of %s", v, pp_device_facts_names());
                return 1 + usage_error("%s", why);
            }
            o->assume_gpu = v;
        } else if (!strcmp(a, "--precision")) {
            NEED_VALUE();
            if (pp_precision_parse(v, &o->precision))
                return 1 + usage_error("--precision '%s' is not one of fp32, tf32, fp16, bf16", v);
        } else if (!strcmp(a, "--threads")) {
            NEED_VALUE();
            if (parse_long(v, 1, 4096, &o->threads)) return 1 + usage_error("--threads '%s' is not in 1..4096", v);
        } else if (!strcmp(a, "--deterministic")) {
            o->deterministic = 1;
        } else if (!strcmp(a, "--no-transfers")) {
            o->no_transfers = 1;
        } else if (!strcmp(a, "--measure")) {
            o->measure = 1;
        } else if (!strcmp(a, "--mem-limit")) {
            NEED_VALUE();
            if (pp_parse_size(v, &o->mem_limit))
                return 1 + usage_error("--mem-limit '%s' is not a size like 512M or 2G", v);
        } else if (!strcmp(a, "--chunk")) {
            NEED_VALUE();
            if (parse_long(v, 1, 1L << 24, &o->chunk)) return 1 + usage_error("--chunk '%s' is not in 1..16777216", v);
        } else if (!strcmp(a, "--throttle-ms")) {
            NEED_VALUE();
            if (parse_long(v, 0, 60000, &o->throttle_ms))
                return 1 + usage_error("--throttle-ms '%s' is not in 0..60000", v);
        } else if (!strcmp(a, "--mpi")) {
            o->mpi = 1;
        } else if (!strcmp(a, "--no-mpi")) {
            o->no_mpi = 1;
        } else if (!strcmp(a, "--resume")) {
            o->resume = 1;
        } else if (!strcmp(a, "--dim")) {
            NEED_VALUE();
            char nm[128];
            int64_t lo, hi;
            size_t have = strlen(o->dims);
            pp_error derr;
            if (pp_dim_spec_parse(v, strlen(v), nm, sizeof nm, &lo, &hi, &derr)) {
                pp_cli_msg("ppengine", "--%s", derr.msg);
                return 1 + 2;
            }
            if (have + strlen(v) + 2 > sizeof o->dims) return 1 + usage_error("too many --dim options%s", "");
            snprintf(o->dims + have, sizeof o->dims - have, "%s%s", have ? "," : "", v);
        } else if (!strcmp(a, "--p2p")) {
            o->p2p = 1;
        } else if (!strcmp(a, "--tune-cache")) {
            NEED_VALUE();
            o->tune_cache = v;
        } else if (!strcmp(a, "--no-tune-cache")) {
            o->no_tune_cache = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o->quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            return 1 + usage_error("unknown option '%s'", a);
        } else if (!o->graph) {
            o->graph = a;
        } else {
            return 1 + usage_error("unexpected argument '%s'", a);
        }
#undef NEED_VALUE
    }
    if (!o->graph) return 1 + usage_error("no GRAPH given%s", "");
    return 0;
}

static int load_graph(const char *path, pp_graph **g, double *ms, pp_error *err) {
    double t0 = now_ms();
    pp_model *m = NULL;
    if (pp_model_load(path, 0, &m, err)) return 1;
    if (pp_graph_from_model(&m, g, err)) {
        pp_error_prefix(err, "%s", path);
        pp_model_free(m);
        return 1;
    }
    if (ms) *ms = now_ms() - t0;
    return 0;
}

/* ---- run ------------------------------------------------------------------- */

static uint64_t lcg(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 11;
}

static void fill_random(const pp_tensor *t, void *data, size_t bytes, uint64_t *state) {
    size_t n = bytes / (pp_dtype_size(t->dtype) ? pp_dtype_size(t->dtype) : 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = lcg(state);
        switch (t->dtype) {
        case PP_DTYPE_F32: ((float *)data)[i] = (float)((double)(r & 0xFFFFFF) / 0x800000 - 1.0); break;
        /* Integer inputs are usually indices (token ids): small and in range. */
        case PP_DTYPE_I64: ((int64_t *)data)[i] = (int64_t)(r % 2); break;
        case PP_DTYPE_I32: ((int32_t *)data)[i] = (int32_t)(r % 2); break;
        default: ((unsigned char *)data)[i * pp_dtype_size(t->dtype)] = (unsigned char)(r & 1); break;
        }
    }
}

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

/* A chunked run (engine/cli/chunked.h) when a folder input, --chunk, --resume
 * or MPI asks for one; -1 for the plain run. */
static int run_chunked(const opts *o) {
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
        return usage_error("a chunked run (a folder input, --chunk, --resume or MPI) needs --input and --output%s", "");
    if (o->batch_set) return usage_error("--batch does not apply to a chunked run: its inputs set the batch%s", "");
    pp_chunked_options co = {o->graph,
                             o->output,
                             o->trace,
                             o->inputs,
                             o->n_inputs,
                             {.devices = o->devices,
                              .stages = (int)o->stages,
                              .microbatch = (int)o->microbatch,
                              .inflight = (int)o->inflight,
                              .p2p = o->p2p,
                              .split = o->split,
                              .measure = o->measure,
                              .mem_limit = o->mem_limit,
                              .graphs = o->cuda_graph,
                              .precision = o->precision,
                              .threads = (int)o->threads,
                              .deterministic = o->deterministic},
                             o->chunk ? o->chunk : 64,
                             o->throttle_ms,
                             o->resume,
                             o->quiet};
    return mpi ? pp_run_mpi(&co, why) : pp_run_chunked(&co);
}

static int cmd_run(int argc, char **argv) {
    opts o;
    int r = parse_opts(argc, argv, &o, RUN_HELP);
    if (r) return r - 1;
    if ((r = run_chunked(&o)) >= 0) return r;
    pp_error err = {0};
    pp_graph *g = NULL;
    double load_ms;
    if (load_graph(o.graph, &g, &load_ms, &err)) return fail(&err);
    int rc = 1;
    pp_npy *files = calloc((size_t)g->n_inputs + 1, sizeof(pp_npy));
    void **in = calloc((size_t)g->n_inputs + 1, sizeof(void *));
    void **out = calloc((size_t)g->n_outputs + 1, sizeof(void *));
    int *given = calloc((size_t)g->n_inputs + 1, sizeof(int));
    pp_exec *e = NULL;
    pp_dimenv env = {{0}, 1, NULL, 0};
    if (!files || !in || !out || !given) {
        pp_cli_msg("ppengine", "out of memory");
        goto done;
    }
    const char *paths[PP_MAX_IO] = {0};
    for (int i = 0; i < o.n_inputs; i++) {
        const char *spec = o.inputs[i], *eq = strchr(spec, '=');
        int idx = -1;
        const char *file = spec;
        if (eq) {
            for (int j = 0; j < g->n_inputs; j++)
                if (strlen(g->tensors[g->inputs[j]].name) == (size_t)(eq - spec) &&
                    !strncmp(g->tensors[g->inputs[j]].name, spec, (size_t)(eq - spec)))
                    idx = j;
            if (idx < 0) {
                pp_cli_msg("ppengine", "--input %s: the graph has no input named '%.*s'", spec, (int)(eq - spec), spec);
                goto done;
            }
            file = eq + 1;
        } else if (g->n_inputs == 1) {
            idx = 0;
        } else {
            pp_cli_msg("ppengine", "--input %s: the graph has %d inputs; name it as NAME=FILE.npy", spec, g->n_inputs);
            goto done;
        }
        if (given[idx]) {
            pp_cli_msg("ppengine", "input '%s' is given twice", g->tensors[g->inputs[idx]].name);
            goto done;
        }
        if (idx >= PP_MAX_IO || pp_npy_read(file, &files[idx], &err)) {
            if (idx >= PP_MAX_IO) pp_error_set(&err, PP_ERR_UNSUPPORTED, "more than %d inputs", PP_MAX_IO);
            fail(&err);
            goto done;
        }
        paths[idx] = file;
        given[idx] = 1;
        in[idx] = files[idx].data;
    }
    /* Random data stands in for every input, or for none: a forgotten input
     * among given ones is a mistake, not a request for noise. */
    for (int i = 0; o.n_inputs > 0 && i < g->n_inputs; i++)
        if (!given[i]) {
            pp_cli_msg("ppengine", "input '%s' is not given (the graph has %d inputs; pass each as NAME=FILE.npy)",
                       g->tensors[g->inputs[i]].name, g->n_inputs);
            goto done;
        }
    /* The inputs' shapes give the symbols (batch, sequence lengths, ...). */
    int64_t sym[PP_MAX_SYMBOLS] = {0}, in_dims[PP_MAX_IO][PP_MAX_RANK];
    const int64_t *dp[PP_MAX_IO];
    char edims[sizeof o.dims + 256];
    if (pp_cli_run_symbols(g, files, paths, o.n_inputs > 0, o.batch, o.dims, sym, edims, sizeof edims, &err)) {
        fail(&err);
        goto done;
    }
    int64_t batch = g->sym.batch >= 0 ? sym[g->sym.batch] : 1;
    if (o.n_inputs && o.batch_set && o.batch != batch) {
        pp_cli_msg("ppengine", "--batch %ld disagrees with the inputs' batch %lld", o.batch, (long long)batch);
        goto done;
    }
    if (pp_dimenv_set(&env, &g->sym, sym, &err)) {
        fail(&err);
        goto done;
    }
    uint64_t seed = (uint64_t)o.seed * 2654435761u + 1;
    for (int i = 0; i < g->n_inputs && i < PP_MAX_IO; i++) {
        const pp_tensor *t = &g->tensors[g->inputs[i]];
        pp_tensor_dims_env(t, &env, in_dims[i]);
        dp[i] = in_dims[i];
        if (given[i]) continue;
        size_t bytes = (size_t)pp_tensor_bytes_env(t, &env);
        in[i] = malloc(bytes ? bytes : 1);
        if (!in[i]) {
            pp_cli_msg("ppengine", "out of memory for input '%s' (%zu bytes)", t->name, bytes);
            goto done;
        }
        fill_random(t, in[i], bytes, &seed);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        size_t bytes = (size_t)pp_tensor_bytes_env(&g->tensors[g->outputs[i]], &env);
        out[i] = calloc(1, bytes ? bytes : 1);
        if (!out[i]) {
            pp_cli_msg("ppengine", "out of memory for output %d (%zu bytes)", i, bytes);
            goto done;
        }
    }
    pp_exec_options eo = {.devices = o.devices,
                          .stages = (int)o.stages,
                          .microbatch = (int)o.microbatch,
                          .max_batch = (int)batch,
                          .inflight = (int)o.inflight,
                          .p2p = o.p2p,
                          .split = o.split,
                          .trace = o.trace,
                          .measure = o.measure,
                          .mem_limit = o.mem_limit,
                          .graphs = o.cuda_graph,
                          .precision = o.precision,
                          .dims = edims,
                          .threads = (int)o.threads,
                          .deterministic = o.deterministic,
                          .tune_cache = tune_cache_path(&o)};
    double t0 = now_ms();
    if (pp_exec_create(g, &eo, &e, &err)) {
        fail(&err);
        goto done;
    }
    /* A notice, not an error: on stdout, so a failure later still leaves
     * exactly one line on stderr. */
    if (pp_exec_fell_back(e) && !o.quiet) printf("ppengine: no CUDA device found; running on the CPU\n");
    if (pp_exec_notice(e)) pp_cli_msg("ppengine", "%s", pp_exec_notice(e));
    double t1 = now_ms();
    if (pp_exec_run_shapes(e, dp, (const void *const *)in, out, &err)) {
        fail(&err);
        goto done;
    }
    double t2 = now_ms();
    int spans = 0, concurrent = 0;
    if (o.trace && pp_exec_write_trace(e, &spans, &concurrent, &err)) {
        fail(&err);
        goto done;
    }
    if (o.output) {
        if (mkdir(o.output, 0777) != 0 && errno != EEXIST) {
            pp_cli_msg("ppengine", "cannot create output folder '%s': %s", o.output, strerror(errno));
            goto done;
        }
        for (int i = 0; i < g->n_outputs; i++) {
            const pp_tensor *t = &g->tensors[g->outputs[i]];
            char name[256], path[4096];
            int64_t dims[PP_MAX_RANK];
            pp_cli_safe_name(t->name, name, sizeof name);
            snprintf(path, sizeof path, "%s/%s.npy", o.output, name);
            pp_tensor_dims_env(t, &env, dims);
            if (pp_npy_write(path, t->dtype, t->rank, dims, out[i], &err)) {
                fail(&err);
                goto done;
            }
        }
    }
    if (!o.quiet) {
        printf("%s: batch %lld on %s", o.graph, (long long)batch, pp_exec_device(e, 0, 0));
        const pp_plan *pl = pp_exec_plan(e);
        if (pl->n_stages > 1 || pp_exec_replicas(e) > 1)
            printf(" (%d stages x %d replicas, micro-batch %d)", pl->n_stages, pp_exec_replicas(e), pl->microbatch);
        printf("\n");
        for (int i = 0; i < g->n_outputs; i++) summarize(&g->tensors[g->outputs[i]], out[i], &env);
        printf("load %.2f ms, build %.2f ms, run %.2f ms\n", load_ms, t1 - t0, t2 - t1);
        if (o.output) printf("wrote %d output%s to %s/\n", g->n_outputs, g->n_outputs == 1 ? "" : "s", o.output);
        if (o.trace)
            printf("trace: %d spans, at most %d streams busy at once, written to %s\n", spans, concurrent, o.trace);
    }
    rc = 0;
done:
    pp_exec_free(e);
    pp_dimenv_free(&env);
    if (g) {
        for (int i = 0; i < g->n_inputs && in; i++)
            if (given && !given[i]) free(in[i]);
        for (int i = 0; i < g->n_inputs && files; i++) pp_npy_free(&files[i]);
        for (int i = 0; i < g->n_outputs && out; i++) free(out[i]);
    }
    free(files);
    free(in);
    free(out);
    free(given);
    pp_graph_free(g);
    return rc;
}

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

static int cmd_info(int argc, char **argv) {
    opts o;
    int r = parse_opts(argc, argv, &o, INFO_HELP);
    if (r) return r - 1;
    pp_error err = {0};
    pp_graph *g = NULL;
    double load_ms;
    if (load_graph(o.graph, &g, &load_ms, &err)) return fail(&err);
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
        fail(&err);
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

static void print_stages(const pp_graph *pg, const pp_plan *pl, const char *const *devs, const opts *o, int R, int M) {
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
static int plan_assumed(const pp_graph *g, const pp_exec_options *eo, const opts *o) {
    pp_error err = {0};
    const char *devs = o->devices ? o->devices : "cuda:0";
    int nd = 1;
    for (const char *c = devs; *c; c++) nd += *c == ',';
    for (const char *c = devs; *c; c += strcspn(c, ",") + (c[strcspn(c, ",")] == ',')) {
        if (strncmp(c, "cuda", 4))
            return usage_error("--assume-gpu plans for CUDA devices; --devices '%s' names others", devs);
    }
    if (nd % eo->stages) {
        char why[128];
        snprintf(why, sizeof why, "%d devices cannot be split into replicas of %d stages", nd, eo->stages);
        return usage_error("%s", why);
    }
    pp_format_caps caps = {"cuda", eo->precision, pp_device_facts_find(o->assume_gpu), 0};
    pp_graph *pg = NULL;
    pp_plan *pl = NULL;
    pp_format_report rep;
    if (pp_exec_plan_offline(g, eo, &caps, &pg, &pl, &rep, &err)) return fail(&err);
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

static int cmd_plan(int argc, char **argv) {
    opts o;
    int r = parse_opts(argc, argv, &o, PLAN_HELP);
    if (r) return r - 1;
    pp_error err = {0};
    pp_graph *g = NULL;
    if (load_graph(o.graph, &g, NULL, &err)) return fail(&err);
    int M = o.microbatch ? (int)o.microbatch : (int)o.batch;
    pp_exec_options eo = {.devices = o.devices,
                          .stages = (int)o.stages,
                          .microbatch = M,
                          .max_batch = (int)o.batch,
                          .inflight = (int)o.inflight,
                          .p2p = o.p2p,
                          .split = o.split,
                          .measure = o.measure,
                          .mem_limit = o.mem_limit,
                          .graphs = o.cuda_graph,
                          .precision = o.precision,
                          .dims = o.dims[0] ? o.dims : NULL,
                          .threads = (int)o.threads,
                          .deterministic = o.deterministic,
                          .tune_cache = tune_cache_path(&o)};
    if (o.assume_gpu) {
        r = plan_assumed(g, &eo, &o);
        pp_graph_free(g);
        return r;
    }
    pp_exec *e = NULL;
    if (pp_exec_create(g, &eo, &e, &err)) {
        pp_graph_free(g);
        return fail(&err);
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

static int cmd_bench(int argc, char **argv) {
    opts o;
    int r = parse_opts(argc, argv, &o, BENCH_HELP);
    if (r) return r - 1;
    pp_error err = {0};
    pp_graph *g = NULL;
    if (load_graph(o.graph, &g, NULL, &err)) return fail(&err);
    int rc = 1;
    int64_t batch = o.batch;
    void **in = calloc((size_t)g->n_inputs + 1, sizeof(void *)),
         **out = calloc((size_t)g->n_outputs + 1, sizeof(void *));
    double *lat = NULL;
    pp_exec *e = NULL;
    void **din = NULL, **dout = NULL; /* device buffers (--no-transfers) */
    uint64_t seed = 12345;
    /* --batch, and every other symbol at its largest value (--dim narrows) */
    int64_t sym[PP_MAX_SYMBOLS] = {0}, in_dims[PP_MAX_IO][PP_MAX_RANK];
    const int64_t *dp[PP_MAX_IO];
    char edims[sizeof o.dims + 256];
    pp_dimenv env = {{0}, batch, NULL, 0};
    if (g->n_inputs > PP_MAX_IO) pp_error_set(&err, PP_ERR_UNSUPPORTED, "more than %d inputs", PP_MAX_IO);
    if (err.code || pp_cli_run_symbols(g, NULL, NULL, 0, batch, o.dims, sym, edims, sizeof edims, &err) ||
        pp_dimenv_set(&env, &g->sym, sym, &err)) {
        fail(&err);
        goto done;
    }
    for (int i = 0; in && i < g->n_inputs; i++) {
        size_t bytes = (size_t)pp_tensor_bytes_env(&g->tensors[g->inputs[i]], &env);
        pp_tensor_dims_env(&g->tensors[g->inputs[i]], &env, in_dims[i]);
        dp[i] = in_dims[i];
        if (!(in[i] = malloc(bytes ? bytes : 1))) goto oom;
        fill_random(&g->tensors[g->inputs[i]], in[i], bytes, &seed);
    }
    for (int i = 0; out && i < g->n_outputs; i++)
        if (!(out[i] = malloc((size_t)pp_tensor_bytes_env(&g->tensors[g->outputs[i]], &env) + 1))) goto oom;
    if (!in || !out) goto oom;
    /* --profile also collects the timeline (never written) for the upload /
     * compute / copy / download split. */
    pp_exec_options eo = {.devices = o.devices,
                          .stages = (int)o.stages,
                          .microbatch = (int)o.microbatch,
                          .max_batch = (int)batch,
                          .inflight = (int)o.inflight,
                          .p2p = o.p2p,
                          .split = o.split,
                          .trace = o.profile ? "/dev/null" : NULL,
                          .measure = o.measure,
                          .mem_limit = o.mem_limit,
                          .graphs = o.cuda_graph,
                          .precision = o.precision,
                          .dims = edims,
                          .threads = (int)o.threads,
                          .deterministic = o.deterministic,
                          .tune_cache = tune_cache_path(&o)};
    if (pp_exec_create(g, &eo, &e, &err)) {
        fail(&err);
        goto done;
    }
    const char *dev = pp_exec_device(e, 0, 0);
    if (pp_exec_notice(e)) pp_cli_msg("ppengine", "note: %s", pp_exec_notice(e));
    /* --no-transfers: the inputs are put on the device once and every run goes
     * device buffer to device buffer, so the figures are the engine alone. */
    if (o.no_transfers) {
        din = calloc((size_t)g->n_inputs + 1, sizeof(void *));
        dout = calloc((size_t)g->n_outputs + 1, sizeof(void *));
        if (!din || !dout) goto oom;
        for (int i = 0; i < g->n_inputs; i++) {
            size_t bytes = (size_t)pp_tensor_bytes_env(&g->tensors[g->inputs[i]], &env);
            if (pp_exec_io_alloc(e, 0, bytes, &din[i], &err) || pp_exec_io_copy(e, 0, 1, din[i], in[i], bytes, &err)) {
                fail(&err);
                goto done;
            }
        }
        for (int i = 0; i < g->n_outputs; i++)
            if (pp_exec_io_alloc(e, 1, (size_t)pp_tensor_bytes_env(&g->tensors[g->outputs[i]], &env), &dout[i], &err)) {
                fail(&err);
                goto done;
            }
    }
    double t_end = now_ms() + (double)o.warmup_ms;
    long warm = 0;
    do {
        if (bench_run(e, dp, (const void *const *)in, out, (const void *const *)din, dout, &err)) {
            fail(&err);
            goto done;
        }
        warm++;
    } while (now_ms() < t_end);
    double phase[4] = {0, 0, 0, 0}, ph[4]; /* upload, compute, copies between stages, download */
    if (o.profile) {
        pp_exec_set_profile(e, 1);
        (void)pp_exec_phases(e, ph, NULL); /* forget the warm-up's */
    }
    long replays = 0, launches = 0; /* in the timed runs: the mode actually used */
    pp_exec_counts(e, &replays, &launches);
    long cap = o.iterations ? o.iterations : 1024, n = 0;
    lat = malloc(sizeof(double) * (size_t)cap);
    if (!lat) goto oom;
    double start = now_ms(), stop = start + o.duration_s * 1e3;
    for (;;) {
        if (o.iterations ? n >= o.iterations : (n > 0 && now_ms() >= stop)) break;
        if (n == cap) {
            double *nl = realloc(lat, sizeof(double) * (size_t)cap * 2);
            if (!nl) goto oom;
            lat = nl;
            cap *= 2;
        }
        double t0 = now_ms();
        if (bench_run(e, dp, (const void *const *)in, out, (const void *const *)din, dout, &err)) {
            fail(&err);
            goto done;
        }
        lat[n++] = now_ms() - t0;
        /* read after every run: the timeline's ring would overflow over thousands */
        if (o.profile && pp_exec_phases(e, ph, NULL) == PP_OK)
            for (int i = 0; i < 4; i++) phase[i] += ph[i];
    }
    double wall = now_ms() - start, sum = 0;
    pp_exec_counts(e, &replays, &launches);
    const char *mode = replays && launches ? "mixed" : replays ? "graphs" : "launches";
    for (long i = 0; i < n; i++) sum += lat[i];
    double mean = sum / (double)n, var = 0;
    for (long i = 0; i < n; i++) var += (lat[i] - mean) * (lat[i] - mean);
    double sd = n > 1 ? sqrt(var / (double)(n - 1)) : 0;
    qsort(lat, (size_t)n, sizeof(double), cmp_double);
    double thr = (double)n * (double)batch / (wall / 1e3);
    const pp_plan *pl = pp_exec_plan(e);
    printf("%s on %s: batch %lld, %d stage%s x %d replica%s, micro-batch %d\n", o.graph, dev, (long long)batch,
           pl->n_stages, pl->n_stages == 1 ? "" : "s", pp_exec_replicas(e), pp_exec_replicas(e) == 1 ? "" : "s",
           pl->microbatch);
    /* what the timed runs did, not what was asked: a capture that failed runs
     * launch by launch */
    printf("mode: %s, %s (%ld graph replays, %ld launches one by one), %s\n", pp_precision_name(o.precision),
           !strcmp(mode, "graphs")  ? "graphs (captured launches replayed)"
           : !strcmp(mode, "mixed") ? "graphs for some stages or sizes, launches for others"
                                    : "launch by launch",
           replays, launches,
           o.no_transfers ? "device buffers (no host transfers)" : "host buffers (uploads and downloads timed)");
    printf("runs: %ld timed (%ld warm-up) in %.1f ms\n", n, warm, wall);
    printf("throughput: %.2f items/s (%.2f runs/s)\n", thr, (double)n / (wall / 1e3));
    printf("latency ms: min %.3f  mean %.3f  median %.3f  p90 %.3f  p95 %.3f  p99 %.3f  max %.3f\n", lat[0], mean,
           pct(lat, n, 50), pct(lat, n, 90), pct(lat, n, 95), pct(lat, n, 99), lat[n - 1]);
    double compute_ms = 0;
    if (o.profile) {
        double *node_ms = calloc((size_t)g->n_nodes + 1, sizeof(double));
        if (!node_ms) goto oom;
        double total = 0;
        for (int i = 0; i < g->n_nodes; i++) {
            double ms, f, b;
            long cnt;
            pp_exec_node_profile(e, i, &ms, &cnt, &f, &b);
            node_ms[i] = ms;
            total += ms;
        }
        compute_ms = total / (double)n;
        printf("\n%-36s %-14s %10s %7s %12s %12s\n", "node", "op", "ms/run", "share", "GFLOP/s", "GB/s");
        for (int i = 0; i < g->n_nodes; i++) {
            double ms, f, b;
            long cnt;
            pp_exec_node_profile(e, i, &ms, &cnt, &f, &b);
            printf("%-36.36s %-14s %10.4f %6.1f%% %12.3f %12.3f\n", g->nodes[i].name, pp_op_name(g->nodes[i].op),
                   ms / (double)n, total > 0 ? 100.0 * ms / total : 0.0, ms > 0 ? f / ms / 1e6 : 0.0,
                   ms > 0 ? b / ms / 1e6 : 0.0);
        }
        free(node_ms);
        for (int i = 0; i < 4; i++) phase[i] /= (double)n;
        printf("split per run (stream time): upload %.3f ms, compute %.3f ms, copies between stages %.3f ms, "
               "download %.3f ms",
               phase[0], phase[1], phase[2], phase[3]);
        double streams = phase[0] + phase[1] + phase[2] + phase[3];
        if (pl->n_stages == 1 && pp_exec_replicas(e) == 1)
            printf("; host %.3f ms (of mean %.3f)\n", mean - streams > 0 ? mean - streams : 0.0, mean);
        else
            printf(" (summed over %d streams that overlap; mean %.3f)\n", 2 * pl->n_stages * pp_exec_replicas(e), mean);
    }
    if (n < 10) printf("warning: only %ld timed runs; the percentiles mean little (raise --duration)\n", n);
    if (mean > 0 && sd / mean > 0.1)
        printf("warning: run-to-run variation is %.0f%% of the mean; the machine is busy or the runs are too short\n",
               100 * sd / mean);
    if (o.profile && phase[1] > 0 && phase[0] + phase[2] + phase[3] > phase[1])
        printf("warning: copies (%.3f ms per run) take longer than compute (%.3f ms); transfers dominate\n",
               phase[0] + phase[2] + phase[3], phase[1]);
    else if (o.profile && compute_ms > 0 && compute_ms < 0.5 * mean)
        printf("warning: kernels are %.0f%% of each run; host overhead dominates\n", 100 * compute_ms / mean);
    path_count pc[MAX_PATHS];
    int npc = path_summary(e, g, pc);
    for (int p = 0; p < pl->n_stages; p++)
        if (pp_exec_device_info(e, p)) printf("device: %s\n", pp_exec_device_info(e, p));
    if (npc) {
        printf("paths:");
        for (int i = 0; i < npc; i++) printf("%s %d x %s", i ? ";" : "", pc[i].n, pc[i].what);
        printf("\n");
    }
    if (o.json) {
        pp_afile af;
        if (pp_afile_open(&af, o.json, &err)) {
            fail(&err);
            goto done;
        }
        FILE *f = af.f;
        fprintf(f, "{\n  \"graph\": \"");
        json_str(f, o.graph);
        fprintf(f,
                "\",\n  \"device\": \"%s\",\n  \"batch\": %lld,\n  \"stages\": %d,\n  \"replicas\": %d,\n"
                "  \"microbatch\": %d,\n  \"precision\": \"%s\",\n  \"graphs\": %s,\n  \"mode\": \"%s\",\n"
                "  \"graph_replays\": %ld,\n  \"launches\": %ld,\n  \"transfers\": %s,\n  \"runs\": %ld,\n"
                "  \"throughput_items_per_s\": %.6g,\n  \"latency_ms\": {\"min\": %.6g, \"mean\": %.6g, "
                "\"median\": %.6g, \"p90\": %.6g, \"p95\": %.6g, \"p99\": %.6g, \"max\": %.6g, \"stddev\": %.6g},\n"
                "  \"compute_ms\": %.6g,\n  \"split_ms\": {\"upload\": %.6g, \"compute\": %.6g, "
                "\"stage_copies\": %.6g, \"download\": %.6g},\n",
                dev, (long long)batch, pl->n_stages, pp_exec_replicas(e), pl->microbatch,
                pp_precision_name(o.precision), pp_exec_graphs(e) ? "true" : "false", mode, replays, launches,
                o.no_transfers ? "false" : "true", n, thr, lat[0], mean, pct(lat, n, 50), pct(lat, n, 90),
                pct(lat, n, 95), pct(lat, n, 99), lat[n - 1], sd, compute_ms, phase[0], phase[1], phase[2], phase[3]);
        fprintf(f, "  \"device_info\": [");
        for (int p = 0; p < pl->n_stages; p++) {
            fprintf(f, "%s\"", p ? ", " : "");
            json_str(f, pp_exec_device_info(e, p));
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
            const char *path = pp_exec_node_path(e, i);
            if (!path) continue;
            fprintf(f, "%s\n    {\"node\": \"", first ? "" : ",");
            json_str(f, g->nodes[i].name);
            fprintf(f, "\", \"op\": \"%s\", \"path\": \"", pp_op_name(g->nodes[i].op));
            json_str(f, path);
            fprintf(f, "\"}");
            first = 0;
        }
        fprintf(f, "]\n}\n");
        if (pp_afile_commit(&af, &err)) {
            fail(&err);
            goto done;
        }
    }
    rc = 0;
    goto done;
oom:
    pp_cli_msg("ppengine", "out of memory");
done:
    for (int i = 0; e && din && i < g->n_inputs; i++) pp_exec_io_free(e, 0, din[i]);
    for (int i = 0; e && dout && i < g->n_outputs; i++) pp_exec_io_free(e, 1, dout[i]);
    free(din);
    free(dout);
    pp_exec_free(e);
    for (int i = 0; in && i < g->n_inputs; i++) free(in[i]);
    for (int i = 0; out && i < g->n_outputs; i++) free(out[i]);
    free(in);
    free(out);
    free(lat);
    pp_dimenv_free(&env);
    pp_graph_free(g);
    return rc;
}

/* compare: two .npy files of one shape, as float64; B is the reference. */
static int cmd_compare(int argc, char **argv) {
    double tol = 1e-4;
    const char *fa = NULL, *fb = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: ppengine compare OUT.npy REF.npy [--tol T]\n\n"
                   "Prints ||out - ref|| / ||ref|| and the largest absolute difference; exits 1 when the\n"
                   "relative error exceeds T (default 1e-4) or the files differ in shape or dtype.\n");
            return 0;
        } else if (!strcmp(argv[i], "--tol") && i + 1 < argc) {
            char *end;
            tol = strtod(argv[++i], &end);
            if (*end || !(tol >= 0)) return usage_error("--tol '%s' is not a number >= 0", argv[i]);
        } else if (argv[i][0] == '-') {
            return usage_error("unknown option '%s'", argv[i]);
        } else if (!fa) {
            fa = argv[i];
        } else if (!fb) {
            fb = argv[i];
        } else {
            return usage_error("unexpected argument '%s'", argv[i]);
        }
    }
    if (!fa || !fb) return usage_error("compare needs two .npy files%s", "");
    pp_npy a, b;
    pp_error err = {0};
    if (pp_npy_read(fa, &a, &err)) return fail(&err);
    if (pp_npy_read(fb, &b, &err)) {
        pp_npy_free(&a);
        return fail(&err);
    }
    int rc = 1;
    int same = a.dtype == b.dtype && a.rank == b.rank && a.nbytes == b.nbytes;
    for (int d = 0; same && d < a.rank; d++) same = a.dims[d] == b.dims[d];
    if (!same) {
        pp_cli_msg("ppengine", "%s and %s differ in dtype or shape", fa, fb);
    } else {
        size_t n = a.nbytes / (pp_dtype_size(a.dtype) ? pp_dtype_size(a.dtype) : 1);
        double num = 0, den = 0, maxd = 0;
        for (size_t i = 0; i < n; i++) {
            double x, y;
            switch (a.dtype) {
            case PP_DTYPE_F32: x = ((float *)a.data)[i], y = ((float *)b.data)[i]; break;
            case PP_DTYPE_I64: x = (double)((int64_t *)a.data)[i], y = (double)((int64_t *)b.data)[i]; break;
            case PP_DTYPE_I32: x = ((int32_t *)a.data)[i], y = ((int32_t *)b.data)[i]; break;
            default: x = ((unsigned char *)a.data)[i], y = ((unsigned char *)b.data)[i]; break;
            }
            num += (x - y) * (x - y);
            den += y * y;
            if (fabs(x - y) > maxd || x != x) maxd = x != x ? INFINITY : fabs(x - y);
        }
        double rel = sqrt(num) / (den > 0 ? sqrt(den) : 1);
        printf("%s vs %s: %zu values, relative L2 error %.3g, max |difference| %.3g\n", fa, fb, n, rel, maxd);
        if (rel <= tol && maxd < INFINITY) rc = 0;
        else pp_cli_msg("ppengine", "relative error %.3g exceeds %.3g", rel, tol);
    }
    pp_npy_free(&a);
    pp_npy_free(&b);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(MAIN_HELP, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "run")) return cmd_run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "info")) return cmd_info(argc - 2, argv + 2);
    if (!strcmp(argv[1], "plan")) return cmd_plan(argc - 2, argv + 2);
    if (!strcmp(argv[1], "bench")) return cmd_bench(argc - 2, argv + 2);
    if (!strcmp(argv[1], "compare")) return cmd_compare(argc - 2, argv + 2);
    pp_cli_msg("ppengine", "unknown command '%s' (try --help)", argv[1]);
    return 2;
}

/* cli_opts.h: the options ppengine's commands take, and the steps each command
 * starts with: parsing them, the engine options they make, loading the graph,
 * reporting an error. (engine/cli/cli_opts.c; the commands: commands.h) */
#ifndef PP_CLI_OPTS_H
#define PP_CLI_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "../exec.h"
#include "../graph.h"

typedef struct pp_cli_opts {
    const char *graph, *output, *devices, *split, *trace, *assume_gpu, *json, *tune_cache;
    const char *inputs[64];
    int n_inputs;
    long batch, seed, stages, microbatch, inflight, iterations, warmup_ms, threads, chunk, throttle_ms;
    double duration_s;
    int batch_set, p2p, quiet, profile, cuda_graph, no_transfers, measure, deterministic, no_tune_cache;
    int mpi, no_mpi, resume;
    pp_precision precision;
    size_t mem_limit;
    char dims[1024]; /* --dim NAME=MIN..MAX, comma-joined */
    char tune_buf[4096];
} pp_cli_opts;

/* Parses a command's arguments (after the command's name) into o, printing
 * `help` for --help. Returns 0 to go on, else the exit status plus one (0 + 1
 * after --help, 2 + 1 after a usage error, which is reported). */
int pp_cli_parse_opts(int argc, char **argv, pp_cli_opts *o, const char *help);

/* The engine options the command-line options ask for: one engine of at most
 * max_batch items, the symbols' ranges `dims` (NULL: the file's). The tuning
 * cache is --tune-cache FILE, else GRAPH.tune beside the graph, unless
 * --no-tune-cache (o keeps the path). */
pp_exec_options pp_cli_exec_options(pp_cli_opts *o, int64_t max_batch, const char *dims);

/* "ppengine: MESSAGE" on stderr; returns 1 (the exit status of a failure). */
int pp_cli_fail(const pp_error *err);
/* "ppengine: MESSAGE (try --help)", fmt taking one %s; returns 2. */
int pp_cli_usage(const char *fmt, const char *arg);
/* Loads and validates a graph.bin; *ms (when not NULL) gets the time it took.
 * Returns 0, or 1 with err set. */
int pp_cli_load_graph(const char *path, pp_graph **g, double *ms, pp_error *err);
/* Random input data for t, reproducible from *state: floats in [-1, 1),
 * integers 0 or 1 (usually indices: small and in range). */
void pp_cli_fill_random(const pp_tensor *t, void *data, size_t bytes, uint64_t *state);

#endif

/* chunked.h: `ppengine run` over inputs cut into chunks, in one process or on
 * every rank of an MPI job.
 *
 * A run is chunked when --input names a folder, or --chunk, --resume or --mpi
 * is given, or the process was started by mpirun or srun. Each chunk is read
 * from the inputs (engine/cli/dataset.h), run through one engine built with the
 * usual options (devices, stages, replicas, micro-batches), and its outputs are
 * written whole to OUT/chunks/ and recorded in the manifest
 * (engine/cli/job.h). When every chunk is recorded the chunks are joined, in
 * input order, into OUT/<output>.npy: the same files, byte for byte, that one
 * `ppengine run` over all the items writes on the CPU backend.
 * (engine/cli/chunked.c; the MPI side is engine/cli/run_mpi.c)
 */
#ifndef PP_CHUNKED_H
#define PP_CHUNKED_H

#include <stdint.h>
#include <stdio.h>

#include "../exec.h"
#include "../graph.h"
#include "dataset.h"
#include "job.h"

typedef struct pp_chunked_options {
    const char *graph, *output, *trace;
    const char *const *inputs; /* --input specs */
    int n_inputs;
    pp_exec_options exec; /* max_batch is the chunk size */
    long chunk;           /* items per chunk */
    long throttle_ms;     /* pause after each chunk (to try out a kill and --resume) */
    int resume, quiet;
} pp_chunked_options;

/* What one process (rank) did, for the summary. */
typedef struct pp_rank_stats {
    int64_t chunks, items;
    double busy_s; /* reading, running and writing chunks */
    double read_s, run_s, write_s;
    double wait_s; /* waiting to be handed a chunk */
    double wall_s; /* from the common start to this rank's last chunk */
    char host[64];
} pp_rank_stats;

typedef struct pp_chunk_span {
    int64_t chunk;
    double t0, t_read, t_run, t_end; /* ms, monotonic */
} pp_chunk_span;

/* One engine and its buffers, turning a chunk index into written chunk files. */
typedef struct pp_worker {
    const pp_graph *g;
    const pp_dataset *ds;
    pp_exec *e;
    char *dir;   /* OUT/chunks; owned */
    char **safe; /* [n_outputs] output names as file names; owned */
    void **in, **out;
    long throttle_ms;
    pp_rank_stats st;
    int trace;
    pp_chunk_span *spans;
    size_t n_spans, cap_spans;
} pp_worker;

/* The graph, and the checksum that identifies it (its header checksum, which
 * covers every section's). Errors name the file. */
pp_code pp_chunked_load(const char *path, pp_graph **g, uint64_t *checksum, pp_error *err);
/* OUT and OUT/chunks, created if missing. */
pp_code pp_chunked_dirs(const char *out, pp_error *err);
/* Opens the job record for g over ds (rank 0 or the single process). */
pp_code pp_chunked_open_job(const pp_chunked_options *o, const pp_graph *g, uint64_t checksum, const pp_dataset *ds,
                            pp_job **job, char *notice, size_t nn, pp_error *err);

pp_code pp_worker_create(pp_worker *w, const pp_graph *g, const pp_dataset *ds, const pp_chunked_options *o,
                         pp_error *err);
/* Reads chunk c, runs it, writes its output files; then they may be recorded. */
pp_code pp_worker_run(pp_worker *w, int64_t c, pp_error *err);
void pp_worker_free(pp_worker *w);
/* The worker's chunk spans and its engine's streams as trace events of
 * process `rank`, times from origin_ms. */
void pp_worker_trace(const pp_worker *w, FILE *f, int rank, double origin_ms, int *first);

/* Joins every chunk's outputs into OUT/<output>.npy (each written whole by
 * rename), then removes the chunk files. */
pp_code pp_chunked_merge(const pp_chunked_options *o, const pp_graph *g, const pp_dataset *ds, pp_job *job,
                         pp_error *err);
/* The per-rank table: chunks, items, busy %, wait %, seconds; then what a
 * chunk cost on average. */
void pp_chunked_summary(const pp_rank_stats *st, int n, double wall_s);

/* Whether the environment says mpirun or srun started this process, and by
 * which variable (why), with the job's size (0 if none). */
int pp_mpi_launched(char *why, size_t n);
/* The run in one process; the exit status. */
int pp_run_chunked(const pp_chunked_options *o);
/* The run as one rank of an MPI job (engine/cli/run_mpi.c, or run_nompi.c
 * where the build has no MPI); `why` says what asked for MPI ("--mpi", or the
 * launcher's variable). The exit status. */
int pp_run_mpi(const pp_chunked_options *o, const char *why);

#endif

/* exec_internal.h: what building an engine (exec_build.c) and running it
 * (exec_run.c) share: the engine's state, per replica and stage. */
#ifndef PP_EXEC_INTERNAL_H
#define PP_EXEC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "backend.h"
#include "exec.h"
#include "formats.h"
#include "trace.h"

/* Distinct micro-batch sizes prepared per stage (M and remainders). A dynamic
 * batcher (engine/batcher.c) runs every size up to M, and prepares them all up
 * front so that its steady state allocates nothing: up to 64 fit. */
#define MAX_SIZES 64

/* One shape bucket's launches: a micro-batch size and the values of the other
 * symbols (whole per run); key (size, sym). */
typedef struct sized_launches {
    int size;
    int64_t sym[PP_MAX_SYMBOLS]; /* every symbol, the batch's entry = size */
    pp_dimenv env;               /* the bucket's shapes (owned) */
    pp_launch *l;                /* [K][n_nodes] */
    void **graph;                /* [K]: the stage's launches for slot k captured once (options.graphs), or NULL */
} sized_launches;

/* Micro-batch rows [off, off + size) of the last stage's slot k, copied from
 * pinned memory into the caller's output buffers by a host callback enqueued
 * after the download (so no host thread waits for it). */
typedef struct out_copy {
    struct pp_exec *e;
    struct stage_rt *rt;
    int k;
    int64_t off;
    int size;
} out_copy;

typedef struct stage_rt {
    pp_backend *b;
    pp_stream *compute, *copy;
    void *arena;
    char **slot; /* [K] */
    void *ws;
    size_t ws_bytes;
    const void **weight;                                         /* per tensor id: the weight's bytes on this device */
    pp_event **ev_computed, **ev_arrived, **ev_staged, **ev_out; /* [K] */
    void **staging; /* [K] pinned host buffers (staged boundary copies), or NULL */
    /* Host runs on a device that does not read host memory: the caller's
     * buffers are pageable, which makes every copy synchronous, so each slot's
     * inputs (stage 0) and outputs (last stage) pass through pinned memory. */
    void **pin_in, **pin_out; /* [K], or NULL */
    out_copy *out_copy;       /* [K]: what the host callback after a download copies out */
    int peer;                 /* boundary copies to the next stage go device to device */
    sized_launches sizes[MAX_SIZES];
    int n_sizes;
} stage_rt;

typedef struct replica_job {
    pp_exec *e;
    int r;
    pp_code rc;
    pp_error err;
    uint64_t seen; /* the last run generation this driver took part in */
} replica_job;

struct pp_exec {
    const pp_graph *g; /* what runs: the planned graph (formats.h), owned */
    pp_graph *planned;
    pp_format_report formats;
    pp_plan *plan;
    int P, R, K, M;
    int fell_back;
    stage_rt *rt;       /* [R][P] */
    pp_backend **owned; /* every backend created, destroyed once */
    int n_owned;
    pthread_mutex_t mu; /* one run at a time; launch records are shared */
    pp_trace *trace;
    char *trace_path;
    /* per run */
    const void *const *inputs;
    void *const *outputs;
    int dev_io;          /* inputs/outputs are device buffers (pp_exec_run_device) */
    pp_event *ev_caller; /* stage 0: where the caller's stream was when a device run began */
    pp_event *ev_done;   /* last stage: where a device run's outputs are written */
    int64_t batch;
    int64_t run_sym[PP_MAX_SYMBOLS]; /* this run's symbols (the batch's entry: the whole batch) */
    pp_dimenv row_env;               /* this run with a batch of 1: one row of an input or output */
    atomic_int next_mb;
    int n_mb;
    atomic_int cancel; /* set by pp_exec_cancel from any thread */
    int profile;
    int graphs; /* replay captured launches (options.graphs and the backend can) */
    /* Symbols (docs/ir.md): each one's range in this engine (the file's, narrowed
     * by options.dims), the largest shapes (for the plan), and which inputs and
     * outputs split into rows over micro-batches. */
    int64_t lo[PP_MAX_SYMBOLS], hi[PP_MAX_SYMBOLS];
    pp_dimenv max_env;
    char *in_rows, *out_rows;
    size_t mem_limit;
    /* Replicas 1..R-1 are driven by threads made once at build (replica 0 by
     * the caller), so a run creates no thread and allocates nothing. */
    replica_job *jobs;  /* [R] */
    pthread_t *drivers; /* [R], entry 0 unused */
    int n_drivers;      /* started */
    pthread_mutex_t run_mu;
    pthread_cond_t run_cv, done_cv;
    uint64_t run_gen;
    int pending, quit;
    char notice[PP_ERROR_MSG_MAX + 64]; /* what the build had to change, or "" */
    /* Since pp_exec_counts last asked: stages run as one graph replay, and
     * launches made one by one (the mode actually used, which bench reports). */
    atomic_long n_replays, n_launches;
};

static inline stage_rt *RT(pp_exec *e, int r, int p) { return &e->rt[r * e->P + p]; }

/* Launch records for micro-batch size `size` (the other symbols at e->run_sym)
 * on replica r, stage p: params from describe in that bucket, pointers into
 * the slots, backend prepare (and the stage's graphs). Cached; the first run in
 * a new bucket pays for it. */
pp_code pp_exec_prepare_size(pp_exec *e, int r, int p, int size, sized_launches **out, pp_error *err);
/* Frees one size's launch records and graphs; the stage's streams must have passed them. */
void pp_exec_free_sized(pp_exec *e, stage_rt *rt, int p, sized_launches *sl);
/* One eager pass over a stage's launches for every slot, before they are
 * captured (libraries load and initialise lazily on their first run, which must
 * not happen inside a capture); the slots hold no micro-batch then. */
pp_code pp_exec_eager_pass(pp_exec *e, stage_rt *rt, int nn, sized_launches *sl, pp_error *err);
/* The thread driving replica j->r (r >= 1) through every run until the engine is freed. */
void *pp_exec_driver_main(void *job);

#endif

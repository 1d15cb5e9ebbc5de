/* exec.h: a placed graph ready to run (the public pp_engine wraps one).
 *
 * Building one places the graph (engine/plan), creates the backends, streams
 * and events, uploads weights where the device does not share host memory,
 * carves each device's arena into weights, workspace and in-flight slots, and
 * prepares every launch for the planned micro-batch size. A run splits the batch
 * over the R replicas, handed out dynamically (a replica takes the next
 * micro-batch when it has a free slot, so a slower one takes fewer), and each
 * replica's micro-batches flow through its P stages: per stage a compute and a
 * copy stream, events ordering uploads, kernels, boundary copies (peer, or
 * staged through pinned host memory) and downloads. No host thread waits inside
 * the pipeline; outputs land in input order.
 */
#ifndef PP_EXEC_H
#define PP_EXEC_H

#include <stdint.h>
#include <stdio.h>

#include "backend.h"
#include "graph.h"
#include "formats.h"
#include "plan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_exec pp_exec;

typedef struct pp_exec_options {
    const char *devices;    /* "cpu", "cpu:0,cpu:1", "cuda:0,cuda:0", "auto"; NULL = "auto" */
    int stages;             /* P, default 1 */
    int microbatch;         /* M, default 0 = max_batch */
    int max_batch;          /* the largest batch a run may pass; default 1 (runs may exceed it: they split) */
    int inflight;           /* slots per stage (boundary buffers), default 2 */
    int p2p;                /* try peer access between devices */
    const char *split;      /* manual stage split, see pp_plan_options */
    const char *trace;      /* write a Chrome trace of every run here (JSON); NULL = none */
    int measure;            /* time each node on the first device before placing (P > 1) */
    size_t mem_limit;       /* bytes per device the engine may use; 0 = what the device has */
    int graphs;             /* capture each stage's launches per micro-batch size and slot once
                              (CUDA graphs; a task list on the CPU) and replay them: one launch
                              per stage and micro-batch in steady state. 1 on, 0 off, -1 on for
                              CUDA devices only. A capture that fails turns them off (notice). */
    pp_precision precision; /* fp32 (default), tf32, fp16, bf16: see backend.h */
    int threads;            /* host threads the CPU devices share; 0 = the affinity mask's cores */
    int deterministic;      /* CPU: bit-identical results whatever the placement, micro-batch and
                               thread count (otherwise they may differ within rounding) */
    /* The format policy (formats.h) instead of the devices' built-in one: for
     * tests and experiments; NULL in normal use. */
    pp_format_policy policy;
    /* Narrower ranges for the graph's symbols, like TensorRT's optimisation
     * profiles: "seq=1..256", "seq=128" (one value), several comma-separated;
     * each within the file's range. Buffers are sized for the maxima. A symbol
     * other than the batch needs a bounded range here or in the file. NULL: the
     * file's ranges. */
    const char *dims;
    /* Where backends keep the choices they make by timing (docs/cuda.md: a
     * tuning cache beside graph.bin); NULL keeps them in memory. */
    const char *tune_cache;
} pp_exec_options;

/* A byte count as options spell it: "262144", "512K", "512M", "2G" (powers of
 * 1024, fractions allowed: "1.5G"). 0 and *out set, or -1 for anything else,
 * zero included. */
int pp_parse_size(const char *s, size_t *out);

/* Cores this process may run on (sched_getaffinity), at least 1. */
int pp_affinity_cores(void);

/* g is borrowed and must outlive the engine. On a device-less machine
 * devices="auto" falls back to the CPU; pp_exec_fell_back says so. */
pp_code pp_exec_create(const pp_graph *g, const pp_exec_options *opt, pp_exec **out, pp_error *err);
void pp_exec_free(pp_exec *e);

/* inputs[i]: host data of graph input i at this batch, C order, batch on axis 0.
 * outputs[i]: host buffers of pp_exec_output_bytes(e, i, batch). The graph's
 * symbols other than the batch must each have one value in this engine. */
pp_code pp_exec_run(pp_exec *e, int64_t batch, const void *const *inputs, void *const *outputs, pp_error *err);
/* The same with each input's extents given: in_dims[i] holds input i's rank
 * extents; the symbols take their values from them (pp_exec_bind) and outputs[i]
 * must hold pp_exec_tensor_bytes(e, 1, i, sym) bytes. */
pp_code pp_exec_run_shapes(pp_exec *e, const int64_t *const *in_dims, const void *const *inputs, void *const *outputs,
                           pp_error *err);
/* Every symbol's value for inputs of these extents, checked against the
 * engine's ranges; errors name the input, the axis, the value and the range. */
pp_code pp_exec_bind(const pp_exec *e, const int64_t *const *in_dims, int64_t *sym, pp_error *err);
/* Extents and bytes of input (io 0) or output (io 1) i with the symbols at sym[]. */
void pp_exec_tensor_dims(const pp_exec *e, int io, int i, const int64_t *sym, int64_t *dims);
uint64_t pp_exec_tensor_bytes(const pp_exec *e, int io, int i, const int64_t *sym);
/* Each symbol's range in this engine. */
void pp_exec_ranges(const pp_exec *e, int64_t *lo, int64_t *hi);

/* The same on device buffers, enqueued on the caller's stream and returning
 * without waiting (pp_engine_run_device): inputs[i] on the first stage's device,
 * outputs[i] on the last stage's; `stream` is a cudaStream_t on CUDA (NULL: the
 * default stream), NULL on the CPU, where buffers are host memory and the call
 * returns when the outputs are written. Needs one replica. */
pp_code pp_exec_run_device(pp_exec *e, int64_t batch, const void *const *inputs, void *const *outputs, void *stream,
                           pp_error *err);
pp_code pp_exec_run_device_shapes(pp_exec *e, const int64_t *const *in_dims, const void *const *inputs,
                                  void *const *outputs, void *stream, pp_error *err);
/* Prepares (describes, captures) every micro-batch size a run of `batch` uses,
 * so that the first run at that size allocates nothing either. Any thread. */
pp_code pp_exec_prepare(pp_exec *e, int64_t batch, pp_error *err);
/* How many micro-batch sizes stay prepared at once per stage; runs at more
 * distinct sizes than this re-prepare (and allocate) as they go. */
int pp_exec_size_capacity(const pp_exec *e);
/* The micro-batch size M: a run of n rows uses sizes M and n % M. */
int pp_exec_microbatch(const pp_exec *e);
/* Waits for everything enqueued; reports what kernels raised meanwhile (bad
 * indices in a device run's inputs). */
pp_code pp_exec_synchronize(pp_exec *e, pp_error *err);
/* Buffers for device runs: side 0 on the first stage's device (inputs), side 1
 * on the last stage's (outputs); io_copy copies to (to_device) or from one and
 * waits. For benchmarks and tests; applications bring their own. */
pp_code pp_exec_io_alloc(pp_exec *e, int side, size_t bytes, void **ptr, pp_error *err);
void pp_exec_io_free(pp_exec *e, int side, void *ptr);
pp_code pp_exec_io_copy(pp_exec *e, int side, int to_device, void *dst, const void *src, size_t n, pp_error *err);

uint64_t pp_exec_input_bytes(const pp_exec *e, int i, int64_t batch);
uint64_t pp_exec_output_bytes(const pp_exec *e, int i, int64_t batch);
const pp_plan *pp_exec_plan(const pp_exec *e);
/* The graph the engine runs: the one it was built from with every activation's
 * format planned and the conversions inserted (formats.h); node indices of the
 * plan, the profile and the trace refer to it. */
const pp_graph *pp_exec_graph(const pp_exec *e);
/* What pp_exec_create would plan for g on devices described by caps (their
 * kind, the precision, the device facts) without creating any: the planned
 * graph (*planned, the caller frees it after *plan) and its placement over
 * opt->stages stages (no memory limits), for ppengine plan --assume-gpu. */
pp_code pp_exec_plan_offline(const pp_graph *g, const pp_exec_options *opt, const pp_format_caps *caps,
                             pp_graph **planned, pp_plan **plan, pp_format_report *report, pp_error *err);
/* How many conversions the format plan inserted, and relabels. */
pp_format_report pp_exec_formats(const pp_exec *e);
int pp_exec_replicas(const pp_exec *e);
int pp_exec_fell_back(const pp_exec *e);
/* The device name of replica r, stage s ("cpu:1"). */
const char *pp_exec_device(const pp_exec *e, int r, int s);
/* Whether launches are captured and replayed (options.graphs, as it turned out). */
int pp_exec_graphs(const pp_exec *e);
/* How a node runs on replica 0 (its prepared launch at the planned micro-batch,
 * as the backend describes it), or NULL; and one line about the device of
 * stage p. For bench and plan; valid until the engine changes. */
const char *pp_exec_node_path(pp_exec *e, int node);
const char *pp_exec_device_info(pp_exec *e, int p);
/* Since the last call (and zeroes them): stage runs replayed as one captured
 * graph, and launches made one by one. What bench reports as the mode used. */
void pp_exec_counts(pp_exec *e, long *replays, long *launches);
/* What the build had to change to fit (fewer micro-batches in flight), or NULL. */
const char *pp_exec_notice(const pp_exec *e);
/* Makes the run in progress (from any thread) stop taking micro-batches and
 * return PP_ERR_CANCELLED once those in flight have drained; the engine stays usable. */
void pp_exec_cancel(pp_exec *e);
/* Per-node kernel timing (bench --profile): on resets the counters. */
void pp_exec_set_profile(pp_exec *e, int on);
/* Totals for one node since profiling was switched on: time, launches, and the
 * FLOPs and bytes those launches did. */
void pp_exec_node_profile(pp_exec *e, int node, double *ms, long *count, double *flops, double *bytes);
/* Sum over every stage of every replica of its compute time, and the wall time
 * the spans cover, since the last call (needs options.trace); busy / (P·R·wall)
 * is the measured pipeline efficiency. */
pp_code pp_exec_utilization(pp_exec *e, double *busy_ms, double *wall_ms, pp_error *err);
/* Stream time since the last call (needs options.trace), summed over streams:
 * ms[0] uploads of inputs, ms[1] compute, ms[2] copies between stages, ms[3]
 * downloads of outputs. */
pp_code pp_exec_phases(pp_exec *e, double ms[4], pp_error *err);
/* Writes the trace collected so far (when options.trace was set; temp file +
 * rename) and, when spans is non-NULL, says how many spans it holds and how many
 * ran at once at most. */
pp_code pp_exec_write_trace(pp_exec *e, int *spans, int *max_concurrent, pp_error *err);
/* The trace's spans as events in process pid of a trace the caller assembles
 * (pp_trace_write_events); nothing without options.trace. */
void pp_exec_trace_events(const pp_exec *e, FILE *f, int pid, int tid_base, double origin_us, int *first);

#ifdef __cplusplus
}
#endif
#endif

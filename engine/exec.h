/* exec.h: an engine is a placed graph ready to run.
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

#include "graph.h"
#include "plan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_engine pp_engine;

typedef struct pp_engine_options {
    const char *devices;   /* "cpu", "cpu:0,cpu:1", "cuda:0,cuda:0", "auto"; NULL = "auto" */
    int stages;            /* P, default 1 */
    int microbatch;        /* M, default 0 = max_batch */
    int max_batch;         /* the largest batch a run may pass; default 1 (runs may exceed it: they split) */
    int inflight;          /* slots per stage (boundary buffers), default 2 */
    int p2p;               /* try peer access between devices */
    const char *split;     /* manual stage split, see pp_plan_options */
    const char *trace;     /* write a Chrome trace of every run here (JSON); NULL = none */
} pp_engine_options;

/* g is borrowed and must outlive the engine. On a device-less machine
 * devices="auto" falls back to the CPU; pp_engine_fell_back says so. */
pp_code pp_engine_create(const pp_graph *g, const pp_engine_options *opt, pp_engine **out, pp_error *err);
void pp_engine_free(pp_engine *e);

/* inputs[i]: host data of graph input i at this batch, C order, batch on axis 0.
 * outputs[i]: host buffers of pp_engine_output_bytes(e, i, batch). */
pp_code pp_engine_run(pp_engine *e, int64_t batch, const void *const *inputs, void *const *outputs, pp_error *err);

uint64_t pp_engine_input_bytes(const pp_engine *e, int i, int64_t batch);
uint64_t pp_engine_output_bytes(const pp_engine *e, int i, int64_t batch);
const pp_plan *pp_engine_plan(const pp_engine *e);
int pp_engine_replicas(const pp_engine *e);
int pp_engine_fell_back(const pp_engine *e);
/* The device name of replica r, stage s ("cpu:1"). */
const char *pp_engine_device(const pp_engine *e, int r, int s);
/* Writes the trace collected so far (when options.trace was set); temp file + rename. */
pp_code pp_engine_write_trace(pp_engine *e, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif

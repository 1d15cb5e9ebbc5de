/* plan.h: placement and memory.
 *
 * Cuts the topologically ordered graph into P contiguous stages that minimise
 * the slowest stage (cost from each node's FLOPs and bytes at the micro-batch
 * size), under each device's memory, and lays out each stage's activations in one
 * slot by liveness, so tensors whose lifetimes do not overlap share bytes. The
 * planner never launches anything.
 */
#ifndef PP_PLAN_H
#define PP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_plan_stage {
    int first, last; /* nodes [first, last) */
    int n_in, n_out;
    int *in_ids;                /* tensors arriving at this stage: graph inputs (stage 0) or from stage-1 */
    int *out_ids;               /* tensors leaving: to stage+1, or the graph outputs (last stage) */
    int64_t *offset;            /* per tensor id: byte offset in the slot, -1 when not in this stage */
    size_t slot_bytes;          /* one micro-batch's activations, after reuse */
    size_t sum_bytes;           /* the same without reuse, for the report */
    size_t in_bytes, out_bytes; /* boundary bytes per micro-batch */
    size_t weight_bytes;
    uint64_t params;
    double flops, bytes, est_ms;
} pp_plan_stage;

typedef struct pp_plan {
    int n_stages;
    int microbatch; /* M: the planned micro-batch size */
    pp_plan_stage *stages;
    double est_total_ms;
} pp_plan;

typedef struct pp_plan_options {
    int n_stages;            /* P >= 1 */
    int microbatch;          /* M >= 1 */
    const char *split;       /* "NODE,NODE": source names of the first node of stages 2..P; NULL = automatic */
    const double *node_ms;   /* measured per-node times (--measure), or NULL to estimate */
    const size_t *mem_limit; /* per stage device bytes for weights + in-flight slots, 0 = unknown; may be NULL */
    int inflight;            /* slots per stage (memory check) */
    const char *const *device_names; /* per stage, for messages; may be NULL */
    /* The largest shapes a micro-batch may have: batch = microbatch, every other
     * symbol at its range's max and each shape value at its upper bound, with the
     * graph's symbolic attributes resolved there (pp_graph_resolve). Sizes the
     * slots and prices the nodes. NULL: a graph with no symbol but the batch. */
    const pp_dimenv *env;
} pp_plan_options;

pp_code pp_plan_build(const pp_graph *g, const pp_plan_options *opt, pp_plan **out, pp_error *err);
void pp_plan_free(pp_plan *p);

/* Estimated time of one node with the symbols at env (see pp_plan_options.env)
 * from its FLOPs and bytes (a roofline with nominal CPU figures), in ms. */
double pp_plan_node_estimate(const pp_graph *g, int node, const pp_dimenv *env, double *flops, double *bytes);

#ifdef __cplusplus
}
#endif
#endif

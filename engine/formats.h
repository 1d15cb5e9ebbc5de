/* formats.h: the layout and precision planner (docs/planner.md).
 *
 * One pass over a graph gives every activation a format (dtype and layout) chosen
 * for the backend that produces and consumes it, and inserts a REFORMAT node only
 * where a producer and a consumer disagree. What a backend wants is a policy: a
 * plain function of the device's kind, the engine's precision and a few device
 * facts, with no device needed, so a plan for a GPU can be made on a machine
 * without one (ppengine plan --assume-gpu).
 *
 * Flow: pp_graph (loaded, all plain) → pp_formats_plan → planned pp_graph →
 *       placement (plan.h) → executor (exec.h).
 */
#ifndef PP_FORMATS_H
#define PP_FORMATS_H

#include "backend.h"
#include "graph.h"
#include "ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the planner knows of a GPU: from cudaGetDeviceProperties, or from the
 * built-in table (pp_device_facts_find) for a device that is not there. */
typedef struct pp_device_facts {
    const char *name; /* "h200" */
    const char *full_name;
    int cc_major, cc_minor; /* compute capability */
    int sms;
    double mem_gib;
    int bf16; /* tensor cores take bf16 */
} pp_device_facts;

/* The built-in device facts (h200, h100, a100, l4; case-insensitive), or NULL. */
const pp_device_facts *pp_device_facts_find(const char *name);
/* "h200, h100, a100, l4": for messages. */
const char *pp_device_facts_names(void);

/* What a policy decides from. */
typedef struct pp_format_caps {
    const char *kind;           /* "cpu", "cuda" */
    pp_precision precision;     /* the engine's */
    const pp_device_facts *gpu; /* cuda: the device's facts; NULL when unknown */
    int simd_f32;               /* cpu: f32 lanes of the widest vector unit (4, 8, 16) */
} pp_format_caps;

/* A policy: for node, whose inputs arrive as `have` (shapes with their formats;
 * dtype INVALID for an absent input), fill `want` with the format each input
 * should be in (want starts as a copy of have; dims are logical and must not
 * change). A policy only asks for what its backend's kernels take. */
typedef void (*pp_format_policy)(const pp_format_caps *caps, const pp_node *node, const pp_shape *have, pp_shape *want);

/* The built-in policy for a backend kind ("cpu", "cuda"), or NULL. */
pp_format_policy pp_format_policy_for(const char *kind);
void pp_format_policy_cpu(const pp_format_caps *caps, const pp_node *node, const pp_shape *have, pp_shape *want);
void pp_format_policy_cuda(const pp_format_caps *caps, const pp_node *node, const pp_shape *have, pp_shape *want);

typedef struct pp_format_report {
    int conversions; /* REFORMAT nodes inserted */
    int relabels;    /* format changes that needed no conversion (NHWC and plain at H·W = 1) */
} pp_format_report;

/* Plans formats for g (shapes inferred, every tensor plain). On success *out is
 * a new graph the caller frees: g's tensors and nodes in g's order (tensor and
 * node ids kept; new tensors and REFORMAT nodes added) whose activations carry
 * their formats; it borrows g's weights, so g must outlive it. Graph inputs and
 * outputs keep g's names, dtypes and plain layout. Errors name the node whose
 * policy asked for a format its describe function refuses. */
pp_code pp_formats_plan(const pp_graph *g, const pp_format_caps *caps, pp_format_policy policy, pp_graph **out,
                        pp_format_report *report, pp_error *err);

/* 1 for the ops that move elements without arithmetic (reshape, transpose,
 * concat, slice, gather, pad, ...): their kernels take any dtype, by size. */
int pp_format_moves_bytes(pp_op op);

/* 1 when a tensor of these logical dims holds the same bytes in formats a and b. */
int pp_format_same_bytes(const pp_shape *a, const pp_shape *b);

/* "f16 nhwc", "f32 nchw16c", "f32 plain": into buf. */
const char *pp_format_str(pp_dtype dtype, pp_layout layout, int block, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif

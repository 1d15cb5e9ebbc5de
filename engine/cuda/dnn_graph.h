/* dnn_graph.h: convolutions through cuDNN's backend graph API (dnn_graph.c):
 * the operation graph of conv [+ bias] [+ residual] [activation], the engines
 * the heuristics offer for it, a chosen engine written down and rebuilt, and
 * the execution. Host C11 over the cuDNN C API only (the emulator runs it
 * against tests/emu/mock_cudnn.c). */
#ifndef PP_DNN_GRAPH_H
#define PP_DNN_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cudnn.h>

#include "../../kernels/params.h"

/* A convolution's operation graph as built: shapes from p; one format for x,
 * w, bias, residual and y (dtype f32/f16/bf16; nhwc: NHWC activations, KRSC
 * filter); with fused, the epilogue stages that are present (bias, res, an act
 * pp_dnn_act_fusable takes) are in the graph. */
typedef struct pp_dnn_conv {
    const pp_conv_params *p;
    pp_dtype dtype;
    int nhwc;
    int fused, bias, res;
    pp_act act; /* PP_ACT_NONE: none in the graph */
} pp_dnn_conv;

#define PP_DNN_MAX_PARTS 48
typedef struct pp_dnn_graph {
    cudnnBackendDescriptor_t graph;
    cudnnBackendDescriptor_t parts[PP_DNN_MAX_PARTS]; /* tensors and operations it was made of */
    int n_parts;
} pp_dnn_graph;

/* An execution plan and what it was built from, kept alive together. */
typedef struct pp_dnn_exec {
    cudnnBackendDescriptor_t plan, cfg, eng;
    cudnnBackendDescriptor_t knobs[CUDNN_KNOB_TYPE_COUNTS];
    size_t ws; /* workspace bytes it needs */
} pp_dnn_exec;

/* The activations a cuDNN pointwise operation computes exactly as ours. */
int pp_dnn_act_fusable(pp_act a);
/* Builds and finalizes the graph; h may be NULL (cuDNN >= 9.8 needs none). */
cudnnStatus_t pp_dnn_conv_graph(cudnnHandle_t h, const pp_dnn_conv *c, pp_dnn_graph *g);
void pp_dnn_graph_free(pp_dnn_graph *g);
/* Up to max plans from the heuristics' engine configs, in their order, that
 * finalize, need at most ws_budget bytes and carry none of the numerical notes
 * in avoid (bit n: cudnnBackendNumericalNote_t n, e.g. tensor cores for strict
 * f32); the count (0: *why says the last refusal). */
int pp_dnn_candidates(cudnnHandle_t h, const pp_dnn_graph *g, int max, int64_t ws_budget, unsigned avoid,
                      pp_dnn_exec *out, cudnnStatus_t *why);
void pp_dnn_exec_free(pp_dnn_exec *e);
/* "eng <global index> <knob type>=<value> ...": what rebuilds the plan. 1 on success. */
int pp_dnn_plan_id(cudnnBackendDescriptor_t plan, char *buf, size_t size);
/* The plan an id names, for graph g (which must describe the same operation). */
cudnnStatus_t pp_dnn_plan_from_id(cudnnHandle_t h, const pp_dnn_graph *g, const char *id, pp_dnn_exec *e);

/* Device pointers for one execution; bias / res NULL where the graph has none;
 * act: the graph's activation (PP_ACT_NONE when it has none), for the scalars
 * hardswish and hardsigmoid read. */
typedef struct pp_dnn_ptrs {
    const void *x, *w, *bias, *res;
    void *y, *ws;
    pp_act act;
} pp_dnn_ptrs;
/* Runs the plan on the stream h is bound to (cudnnSetStream). */
cudnnStatus_t pp_dnn_execute(cudnnHandle_t h, cudnnBackendDescriptor_t plan, const pp_dnn_ptrs *ptrs);

#endif

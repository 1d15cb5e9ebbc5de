/* harness.h: what gpu_ops' case tables (tests/gpu_ops/cases_*.c) and its main
 * (tests/gpu_ops.c) share: a case (tcase) built from inputs and ONNX attributes,
 * run on the CPU reference kernel and on the CUDA backend and reported one line
 * each (harness.c). Standalone, no Criterion: the GPU machine has none. */
#ifndef PP_TEST_GPU_OPS_HARNESS_H
#define PP_TEST_GPU_OPS_HARNESS_H

#include <stdint.h>

#include "engine/backend.h"
#include "kernels/cpu/cpu_kernels.h"

#define GUARD 256
#define PATTERN 0xA5
#define MAX_ATTR 8
#define MAX_IN 6

extern int n_pass, n_fail, n_skip;
extern const char *filter; /* argv[1]: run only cases whose name contains it ("a,b": either) */
extern pp_backend *gpu;
extern pp_stream *g_stream; /* shared by the table's cases */

/* name contains one of filter's comma-separated parts (everything without a filter) */
int selected(const char *name);

/* ---- inputs --------------------------------------------------------------------- */

typedef enum { G_NORMAL = 0, G_POS, G_INDEX, G_BOOL, G_SMALL, G_ZERO_ONE } gen_kind;

typedef struct input {
    pp_dtype dtype;
    int rank;
    int64_t dims[PP_MAX_RANK];
    gen_kind gen;
    int64_t gen_range; /* G_INDEX: indices in [-range, range) */
    int absent;        /* an absent optional input */
} input;

/* a tensor of dtype t and rank dims (int64_t each) */
input T(pp_dtype t, int rank, ...);
#define F32(...) T(PP_DTYPE_F32, __VA_ARGS__)
input with_gen(input in, gen_kind g, int64_t range);
input ABSENT(void);
#define I64(x) ((int64_t)(x))

/* ---- attributes: the array values live in a pool that run() empties after each case */

pp_attr A_INT(const char *name, int64_t v);
pp_attr A_FLOAT(const char *name, double v);
pp_attr A_STR(const char *name, const char *v);
pp_attr A_INTS(const char *name, int n, ...);   /* n int64_t values */
pp_attr A_FLOATS(const char *name, int n, ...); /* n double values */

/* ---- one case --------------------------------------------------------------------- */

typedef struct tcase {
    const char *name;
    pp_op op;
    int n_in, n_out;
    input in[MAX_IN];
    int n_attr;
    pp_attr attr[MAX_ATTR];
    float atol, rtol; /* 0: the defaults */
    int expect_error; /* the data is invalid: both backends must refuse */
    unsigned weights; /* bit j: input j is a weight (pp_launch.weights) */
    float min_diff;   /* the results must differ from f32 at least this much somewhere
                         (a 16-bit mode that silently computed in f32 fails) */
    pp_dtype fmt;     /* PP_DTYPE_F16 / BF16: the tensors in 16 bits as the planner gives them
                         (params' dtype set, inputs rounded for the CPU too, converted for the GPU) */
    int nhwc;         /* and rank-4 tensors NHWC (a convolution's filter KRSC) */
    const char *path; /* the backend's account of the launch (describe) must contain this */
    const char *env;  /* "NAME=VALUE,..." set while the case runs (the emulator's mocks read
                         MOCK_* to refuse things; PP_CUDA_CONV_ONLY picks a convolution path) */
} tcase;

/* "ok", "FAIL" or "SKIP", the case's name, then the printf-style detail, on one line */
void report(const tcase *c, const char *status, const char *fmt, ...);

/* Runs c launched directly (run) or captured into a CUDA graph and replayed
 * twice (run_graph), reports it and counts it. */
void run(const tcase *c);
void run_graph(const tcase *c);
#define CASE(...) run(&(tcase){__VA_ARGS__})

/* ---- the tables, in the order main runs them ------------------------------------------ */

void eltwise_cases(void);   /* cases_eltwise.c */
void nn_cases(void);        /* cases_nn.c */
void data_cases(void);      /* cases_data.c */
void graph_cases(void);     /* cases_data.c */
void precision_cases(void); /* cases_16bit.c */
void format_cases(void);    /* cases_16bit.c */
void fallback_cases(void);  /* cases_16bit.c */

#endif

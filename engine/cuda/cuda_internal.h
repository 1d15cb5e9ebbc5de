/* cuda_internal.h: the face the CUDA backend's host files share (engine/cuda/).
 *
 * backend_cuda.c implements the pp_backend_ops table; gemm_lt.c runs GEMM and
 * MATMUL through cuBLASLt and conv_cudnn.c runs CONV through cuDNN; the custom
 * kernels are in kernels/cuda (kernels/cuda/cuda_kernels.h). Everything here is
 * host C11 calling the CUDA runtime, cuBLASLt and cuDNN C APIs.
 */
#ifndef PP_CUDA_INTERNAL_H
#define PP_CUDA_INTERNAL_H

#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "../../kernels/cuda/cuda_kernels.h"
#include "../backend.h"
#include "../formats.h"

/* The workspace a stage's launches share is sized from what each one's chosen
 * algorithm needs, up to a budget per launch (ctx->ws_budget): by default
 * min(1 GiB, an eighth of the device's free memory), or PP_CUDA_WORKSPACE
 * (a size: 256M, 2G). */
#define PP_CUDA_WS_BUDGET_MAX ((size_t)1 << 30)

typedef struct pp_tune_cache pp_tune_cache;
struct conv_choice;

typedef struct pp_cuda_ctx {
    int dev;
    int n_devices;
    unsigned char *peer_ok;           /* [n_devices]: enable_peer succeeded towards that device */
    cublasLtHandle_t lt;              /* shared: cublasLtMatmul takes the stream per call */
    cudnnHandle_t dnn;                /* for plan-time queries and tuning, bound to `tune` */
    cudaStream_t tune;                /* where prepare times candidates (the stage's streams are idle then) */
    cudaEvent_t tev[2];               /* timing events on it */
    pp_precision precision;           /* set_precision; FP32 until then */
    size_t ws_budget;                 /* the most workspace one launch may take */
    pp_tune_cache *cache;             /* choices made by timing (tune_cache.h) */
    char device[192];                 /* what the choices hold for: GPU, driver, library versions */
    int tuned, cached;                /* launches whose algorithm was timed here, taken from the cache */
    struct conv_choice *conv_choices; /* per convolution shape: candidates, then the choice (conv_cudnn.c) */
    char info[512];                   /* describe(NULL)'s text */
    pp_device_facts facts;            /* what the layout planner knows of this GPU (formats.h) */
    char gpu_name[256];
} pp_cuda_ctx;

struct pp_stream {
    cudaStream_t s;
    cudnnHandle_t dnn; /* a cuDNN handle holds one stream: one per pp_stream */
    int *err_host;     /* mapped pinned int: kernels raise it on invalid data */
    int *err_dev;      /* its device address */
    int dev;
    cudaEvent_t prof[2]; /* timing events around a launch while profiling (bench --profile) */
};

struct pp_event {
    cudaEvent_t e;
    int dev;
};

/* What prepare makes for one launch (l->state). */
typedef enum pp_cuda_state_kind {
    PP_CUDA_STATE_KERNEL = 0, /* a custom kernel from kernels/cuda */
    PP_CUDA_STATE_GEMM = 1,   /* GEMM or MATMUL through cuBLASLt */
    PP_CUDA_STATE_CONV = 2,   /* CONV through cuDNN, or the direct kernel */
} pp_cuda_state_kind;

typedef struct pp_lt_plan pp_lt_plan;
typedef struct pp_conv_plan pp_conv_plan;

typedef struct pp_cuda_state {
    pp_cuda_state_kind kind;
    pp_cuda_kernel_fn fn;
    pp_lt_plan *lt;
    pp_conv_plan *conv;
    char label[160]; /* "<source name> (<op>)" for NVTX */
    char path[160];  /* how it runs: "cudnn graph conv+bias+relu f16 nhwc eng 12 (ws 4 MiB)" */
} pp_cuda_state;

/* FP16/BF16 precision: the 16-bit type GEMM/MATMUL/CONV compute in (PP_DTYPE_F16 or
 * PP_DTYPE_BF16), PP_DTYPE_INVALID in the f32 modes. */
pp_dtype pp_cuda_half_dtype(const pp_cuda_ctx *c);
/* 0 when PP_CUDA_TUNE=0: candidates are not timed, the heuristic's first is
 * taken (a faster build; the choice is not cached). */
int pp_cuda_tuning_on(void);
/* Times run(arg) on c->tune: one untimed run, then the median of three, in ms;
 * a negative value when a run failed (the error cleared). */
float pp_cuda_time(pp_cuda_ctx *c, int (*run)(void *arg), void *arg);
/* The device key and a memory-only cache (backend creation; the emulator's
 * too), and the file-backed cache beside graph.bin (set_tune_cache). */
pp_code pp_cuda_tuning_init(pp_cuda_ctx *c, const char *gpu_name, int cc_major, int cc_minor, int driver,
                            pp_error *err);
pp_code pp_cuda_set_tune_cache(pp_backend *b, const char *path, pp_error *err);
/* describe: the device line, or a launch's path (st->path). */
const char *pp_cuda_describe(pp_backend *b, const pp_launch *l);

/* "cuda:0: what: cudaErrorX (text)" into err; returns code. */
pp_code pp_cuda_fail(pp_error *err, pp_code code, const pp_backend *b, cudaError_t e, const char *what);

/* "cuda:0: node 'name' (OP): what: cudaErrorX (text)", the error cleared. */
pp_code pp_cuda_node_fail(pp_error *err, const pp_backend *b, const pp_launch *l, cudaError_t e, const char *what);

/* cuBLASLt GEMM / MATMUL (gemm_lt.c). */
pp_code pp_lt_prepare(pp_backend *b, pp_launch *l, pp_lt_plan **out, size_t *ws_bytes, char *path, size_t path_size,
                      pp_error *err);
pp_code pp_lt_launch(pp_backend *b, pp_stream *s, const pp_launch *l, const pp_lt_plan *plan, pp_error *err);
void pp_lt_release(pp_backend *b, pp_lt_plan *plan);

/* cuDNN CONV (conv_cudnn.c). On entry l->ws and l->ws_bytes are the stage's
 * workspace (NULL while the executor sizes it: then nothing is timed and
 * ws_bytes covers every candidate); path gets how the launch runs. */
pp_code pp_conv_prepare(pp_backend *b, pp_launch *l, pp_conv_plan **out, size_t *ws_bytes, char *path, size_t path_size,
                        pp_error *err);
pp_code pp_conv_launch(pp_backend *b, pp_stream *s, const pp_launch *l, const pp_conv_plan *plan, pp_error *err);
void pp_conv_release(pp_backend *b, pp_conv_plan *plan);
/* Frees the per-shape choices (backend destroy). */
void pp_conv_choices_free(pp_backend *b);

/* Turns the per-launch NVTX ranges on or off for every CUDA backend (also set by
 * PP_NVTX=1 at creation). Cheap either way: a flag test per launch. */
void pp_cuda_set_profiling(int on);

#endif

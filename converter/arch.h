/* arch.h: architectures, i.e. how a checkpoint's weights become a graph
 * (docs/checkpoints.md).
 *
 * A checkpoint holds weights, not the graph. A family builder (arch.c: mlp,
 * resnet/resnext/wide_resnet, vgg; arch_mobile.c: mobilenet_v2, mobilenet_v3,
 * efficientnet_b0-b7, densenet) or an architecture description file
 * (arch_file.c) says which op each key feeds. Every
 * key is asked for with the shape the builder expects (-1 where any extent
 * goes); missing, mis-shaped and unused keys are collected and reported in one
 * message. BatchNorm that follows a convolution is folded into its weights and
 * bias at build time (in double precision); one that does not becomes a
 * BATCHNORM node. Convolutions carry their ReLU and residual add fused.
 *
 * The builder helpers (pp_ab_*) are shared by the family builders (arch.c) and
 * the architecture file reader (arch_file.c).
 */
#ifndef PP_ARCH_H
#define PP_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PP_ARCH_MAX_LIST 16

/* Options from the arch string's ":k=v,..." tail. */
typedef struct pp_arch_opts {
    int64_t in_h, in_w; /* input spatial size; 0 = the family's default (224) */
    int64_t in_c;       /* input channels; 0 = from the first weight */
    double eps;         /* BatchNorm epsilon (eps_set: given), else the family's (1e-5; 1e-3 for
                                 MobileNetV3 and EfficientNet-B5..B7, as torchvision) */
    int eps_set;
    int n_acts;                 /* mlp: activation after each hidden layer (the last repeats) */
    int acts[PP_ARCH_MAX_LIST]; /* pp_op: PP_OP_RELU, PP_OP_GELU, ... */
    int n_strides;              /* resnet: stride of each layer's first block */
    int strides[PP_ARCH_MAX_LIST];
    int fold_bn; /* 1 (default): fold conv+BN at build time */
} pp_arch_opts;

/* Parses "family[:k=v,...]" into family (may come back "" or "auto") and opts. */
pp_code pp_arch_parse(const char *arch, char *family, size_t n, pp_arch_opts *opts, pp_error *err);

/* Detects the family and depth from the keys ("resnet50", "mlp", "vgg16_bn", ...),
 * with a description in parentheses. PP_ERR_UNSUPPORTED when nothing matches. */
pp_code pp_arch_detect(const pp_ckpt *c, char *out, size_t n);

/* Builds the graph (shapes inferred). See pp_convert_checkpoint. */
pp_code pp_arch_build(const pp_ckpt *c, const char *arch, const char *arch_file, pp_graph **out, char *detected,
                      size_t n, pp_error *err);

/* ---- builder helpers (internal to the converter) --------------------------- */

typedef struct pp_ab {
    pp_graph *g;
    const pp_ckpt *c;
    const pp_arch_opts *o;
    const char *family; /* as given ("resnet50"), "" when detected */
    pp_error *err;
    pp_code rc;                   /* first hard error (out of memory, bad graph) */
    unsigned char *used;          /* per checkpoint tensor */
    int n_missing, n_bad;         /* counted */
    int shown_missing, shown_bad; /* listed in the message */
    char missing[1024], bad[1024];
    int counter; /* for fresh activation names */
    double eps;  /* BatchNorm epsilon in force */
} pp_ab;

/* A key with the expected rank and extents (-1: any); NULL (and the key
 * recorded as missing or mis-shaped) when it does not fit. Marks it used. */
const pp_ckpt_tensor *pp_ab_get(pp_ab *b, const char *key, int rank, const int64_t *want);
/* 1 when the checkpoint has the key (does not mark it used). */
int pp_ab_has(const pp_ab *b, const char *key);
/* Records a problem not tied to one key. */
void pp_ab_problem(pp_ab *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* The tensor's values as f32 (owned by the caller, pp_free), or NULL (b->rc set). */
float *pp_ab_f32(pp_ab *b, const pp_ckpt_tensor *t);

/* Layers. Each takes its input activation id and returns the output id, or -1
 * when an input is -1 or a key was missing (keys are still all looked up, so one
 * message lists every problem). */
typedef struct pp_ab_conv {
    const char *w;           /* "layer1.0.conv1" (adds ".weight", ".bias") or a full ".weight" key */
    const char *bn;          /* BatchNorm prefix to fold, or NULL */
    int64_t cin;             /* expected input channels, -1 when unknown */
    int stride, pad, groups; /* pad -1: kernel/2; groups 0: from the weight shape and cin */
    int act;                 /* 0 or a pp_act_kind */
    double act_alpha, act_beta;
    int residual; /* activation id added before act, or -1 */
} pp_ab_conv;
int pp_ab_conv_layer(pp_ab *b, int x, const pp_ab_conv *cv, int64_t *cout);
/* Linear: y = x W^T + b (GEMM transB=1). act 0 or a pp_op (RELU, GELU, ...). */
int pp_ab_linear(pp_ab *b, int x, const char *prefix, int64_t cin, int act, int64_t *cout);
int pp_ab_batchnorm(pp_ab *b, int x, const char *prefix, int64_t c);
int pp_ab_unary(pp_ab *b, pp_op op, int x, const char *name);
int pp_ab_binary(pp_ab *b, pp_op op, int x, int y, const char *name);
int pp_ab_pool(pp_ab *b, pp_op op, int x, int k, int stride, int pad, const char *name);
int pp_ab_flatten(pp_ab *b, int x, const char *name);
int pp_ab_concat(pp_ab *b, int x, int y, const char *name); /* along channels */
/* The linear layers "PREFIX<N>.weight" in index order, `act` between them. */
int pp_ab_classifier(pp_ab *b, int x, const char *prefix, int64_t cin, int act);
/* The graph input: f32 (N, dims...), batch symbolic. */
int pp_ab_input(pp_ab *b, const char *name, int rank, const int64_t *dims);
/* Wraps up: sets the graph's input and output, reports every problem, infers. */
pp_code pp_ab_finish(pp_ab *b, int input, int output, const char *what);

/* Family builders in arch_mobile.c: detection (1 and a description when the
 * keys fit) and building (the output id; *input set). */
int pp_arch_is_mobilenet_v2(const pp_ckpt *c, char *desc, size_t n);
int pp_arch_is_mobilenet_v3(const pp_ckpt *c, char *desc, size_t n);
int pp_arch_is_efficientnet(const pp_ckpt *c, char *desc, size_t n);
int pp_arch_is_densenet(const pp_ckpt *c, char *desc, size_t n);
int pp_arch_build_mobilenet_v2(pp_ab *b, int *input, char *desc, size_t n);
int pp_arch_build_mobilenet_v3(pp_ab *b, int *input, char *desc, size_t n);
int pp_arch_build_efficientnet(pp_ab *b, int *input, char *desc, size_t n);
int pp_arch_build_densenet(pp_ab *b, int *input, char *desc, size_t n);
/* The size of the input (opts or 224) and its channels (opts or `def`). */
void pp_ab_input_size(const pp_ab *b, int64_t def_c, int64_t *c, int64_t *h, int64_t *w);
/* Checks a given name ("efficientnet_b3") against the detected description. */
void pp_ab_check_name(pp_ab *b, const char *desc, const char *generic);

/* The architecture description file (arch_file.c): builds its layers into
 * b->g and returns the graph's input and output activation ids. */
pp_code pp_arch_file_build(pp_ab *b, const char *path, int *input, int *output);

#ifdef __cplusplus
}
#endif
#endif

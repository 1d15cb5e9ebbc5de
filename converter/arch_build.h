/* arch_build.h: the helpers every architecture builder uses (arch.h), and its options: keys
 * asked for by name and shape, problems collected into one message, and the
 * layers (conv with BatchNorm folded, linear, pools, ...) added to the graph.
 * Builders read only the tensor table (checkpoint_table.h).
 */
#ifndef PP_ARCH_BUILD_H
#define PP_ARCH_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/graph.h"
#include "checkpoint_table.h"

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
    int fold_bn;   /* 1 (default): fold conv+BN at build time */
    int heads;     /* vit: attention heads; 0 = from the width (768: 12, 1024 and 1280: 16) */
    int transform; /* googlenet: 1 = torchvision's transform_input renormalisation */
} pp_arch_opts;

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

/* A key with the expected rank (-1: any) and extents (-1: any); NULL (and the key
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

/* The size of the input (opts or 224) and its channels (opts or `def`). */
void pp_ab_input_size(const pp_ab *b, int64_t def_c, int64_t *c, int64_t *h, int64_t *w);
/* Checks a given name ("efficientnet_b3") against the detected description. */
void pp_ab_check_name(pp_ab *b, const char *desc, const char *generic);

/* A node with one output tensor named after it (b->g's own op and
 * attributes set by the caller through *node_id); the output id, or -1. */
int pp_ab_node(pp_ab *b, pp_op op, const char *name, int n_in, const int *in, int *node_id);
/* An f32 weight (copied, unless data is a checkpoint tensor's own f32 bytes,
 * which the graph then borrows); its id or -1. */
int pp_ab_weight(pp_ab *b, const char *name, int rank, const int64_t *dims, const float *data);
/* Records the first failing status of an attribute setter. */
void pp_ab_keep(pp_ab *b, pp_code rc);
/* The fused activation kind (pp_act_kind) of an activation op, or 0. */
int pp_ab_act_kind(int op);

/* The layers "PREFIX<N>.weight" sorted by N (safetensors sorts names as
 * strings), kind from the rank: 1 conv (4-D), 2 norm (1-D), 3 linear (2-D).
 * The count, or -1 past max. */
typedef struct pp_ab_seq {
    int index;
    int kind;
} pp_ab_seq;
int pp_ab_seq_scan(const pp_ckpt *c, const char *prefix, pp_ab_seq *out, int max);

/* The key printf(fmt, a, b, d) names (fmt takes up to three ints): the
 * tensor when it is 4-D (find4), or whether it exists (hasf). */
const pp_ckpt_tensor *pp_ab_find4(const pp_ckpt *c, const char *fmt, int a, int b, int d);
int pp_ab_hasf(const pp_ckpt *c, const char *fmt, int a, int b, int d);

/* Small string helpers for messages and keys. */
int pp_ab_ends_with(const char *s, const char *suffix);
void pp_ab_append(char *buf, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
const char *pp_ab_shape_str(char *buf, size_t n, int rank, const int64_t *dims);

#ifdef __cplusplus
}
#endif
#endif

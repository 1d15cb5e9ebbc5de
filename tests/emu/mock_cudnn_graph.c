/* mock_cudnn_graph.c: cuDNN's backend graph API as engine/cuda/dnn_graph.c uses it,
 * on the host. Descriptors keep their attributes; finalize checks them the way
 * cuDNN refuses what it cannot do (missing or mistyped attributes, tensors that
 * do not match their operation, a graph whose virtual tensors are not produced
 * and consumed inside it, unknown uids or unaligned pointers at execution), and
 * execution computes the graph from the descriptors: the convolution with each
 * tensor's own strides (so NCHW and NHWC alike), then the pointwise chain in f32,
 * rounded once into Y's type.
 *
 * Pointwise operations may form a DAG after the convolution (hardswish reads the
 * convolution's value twice) and take by-value f32 scalars (CUDNN_ATTR_TENSOR_IS_BY_VALUE,
 * a host pointer in the variant pack).
 *
 * Engines (global index: what it takes, workspace):
 *   0  any convolution-only graph, f32 or 16-bit, either layout          0 bytes
 *   1  convolution-only graphs, NHWC; tensor cores                       4 KiB
 *   2  "runtime fusion": convolution + pointwise chain, NHWC, 16-bit
 *      in and out, C and K multiples of 8, no groups; tensor cores;
 *      one knob (TILE_SIZE 0 or 1; 1 needs 64 KiB more)                 8 KiB (+64)
 * The heuristics list them in order 2, 1, 0 (what supports the graph).
 * Environment, to drive engine/cuda's fallbacks:
 *   MOCK_CUDNN_NO_GRAPH=1   the heuristics find nothing, for any graph
 *   MOCK_CUDNN_NO_FUSION=1  engine 2 is not offered
 *   MOCK_CUDNN_NO_HALF=1    no engine (and no legacy algorithm) takes 16-bit tensors
 *   MOCK_CUDNN_FAIL_PLAN=N  plans for engine N do not finalize
 * Counters (mock_cudnn_executions) let tests see what ran. */
#include <cudnn.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_cudnn.h"

long mock_cudnn_executions, mock_cudnn_fused_executions;

enum { MAX_ATTR = 24, MAX_OPS = 8 };

typedef struct mattr {
    int name, type;
    int64_t count;
    void *data;
} mattr;

typedef struct md {
    cudnnBackendDescriptorType_t type;
    int finalized;
    mattr a[MAX_ATTR];
    int n;
    /* engine configs and engines, as heuristics or finalize made them */
    int64_t engine, knob_tile;
    struct md *graph;
} md;

static int env_on(const char *n) {
    const char *v = getenv(n);
    return v && *v == '1';
}

static size_t type_size(int t) {
    switch (t) {
    case CUDNN_TYPE_INT64:
    case CUDNN_TYPE_DOUBLE:
    case CUDNN_TYPE_VOID_PTR:
    case CUDNN_TYPE_BACKEND_DESCRIPTOR:
    case CUDNN_TYPE_HANDLE: return 8;
    case CUDNN_TYPE_BOOLEAN: return sizeof(bool);
    case CUDNN_TYPE_CHAR: return 1;
    default: return 4; /* floats and the enums */
    }
}

static mattr *find(const md *d, int name) {
    for (int i = 0; i < d->n; i++)
        if (d->a[i].name == name) return (mattr *)&d->a[i];
    return NULL;
}

/* The attribute's values as int64 (ints) or the descriptor pointer / double. */
static int64_t i64(const md *d, int name, int i) {
    const mattr *a = find(d, name);
    if (!a || i >= a->count) return 0;
    if (a->type == CUDNN_TYPE_INT64) return ((const int64_t *)a->data)[i];
    if (a->type == CUDNN_TYPE_BOOLEAN) return ((const bool *)a->data)[i];
    return ((const int32_t *)a->data)[i];
}
static md *ref(const md *d, int name, int i) {
    const mattr *a = find(d, name);
    return a && a->type == CUDNN_TYPE_BACKEND_DESCRIPTOR && i < a->count ? ((md **)a->data)[i] : NULL;
}
static double dbl(const md *d, int name, double def) {
    const mattr *a = find(d, name);
    if (!a) return def;
    if (a->type == CUDNN_TYPE_DOUBLE) return *(const double *)a->data;
    if (a->type == CUDNN_TYPE_FLOAT) return *(const float *)a->data;
    return def;
}
static int64_t count(const md *d, int name) {
    const mattr *a = find(d, name);
    return a ? a->count : 0;
}

cudnnStatus_t cudnnBackendCreateDescriptor(cudnnBackendDescriptorType_t t, cudnnBackendDescriptor_t *out) {
    md *d = calloc(1, sizeof *d);
    if (!d) return CUDNN_STATUS_ALLOC_FAILED;
    d->type = t;
    d->engine = -1;
    *out = d;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBackendDestroyDescriptor(cudnnBackendDescriptor_t p) {
    md *d = p;
    if (!d) return CUDNN_STATUS_BAD_PARAM;
    for (int i = 0; i < d->n; i++) free(d->a[i].data);
    free(d);
    return CUDNN_STATUS_SUCCESS;
}

/* The attribute types each name takes (what cuDNN checks on set). */
static int expected_type(int name) {
    switch (name) {
    case CUDNN_ATTR_TENSOR_DATA_TYPE:
    case CUDNN_ATTR_POINTWISE_MATH_PREC:
    case CUDNN_ATTR_CONVOLUTION_COMP_TYPE: return CUDNN_TYPE_DATA_TYPE;
    case CUDNN_ATTR_TENSOR_IS_VIRTUAL:
    case CUDNN_ATTR_TENSOR_IS_BY_VALUE: return CUDNN_TYPE_BOOLEAN;
    case CUDNN_ATTR_POINTWISE_MODE: return CUDNN_TYPE_POINTWISE_MODE;
    case CUDNN_ATTR_CONVOLUTION_CONV_MODE: return CUDNN_TYPE_CONVOLUTION_MODE;
    case CUDNN_ATTR_ENGINEHEUR_MODE: return CUDNN_TYPE_HEUR_MODE;
    case CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE: return CUDNN_TYPE_KNOB_TYPE;
    case CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP:
    case CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP:
    case CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP_SLOPE:
    case CUDNN_ATTR_POINTWISE_SWISH_BETA: return CUDNN_TYPE_DOUBLE;
    case CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA:
    case CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA:
    case CUDNN_ATTR_OPERATION_POINTWISE_ALPHA1:
    case CUDNN_ATTR_OPERATION_POINTWISE_ALPHA2: return CUDNN_TYPE_FLOAT;
    case CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS:
    case CUDNN_ATTR_VARIANT_PACK_WORKSPACE: return CUDNN_TYPE_VOID_PTR;
    case CUDNN_ATTR_OPERATIONGRAPH_HANDLE:
    case CUDNN_ATTR_EXECUTION_PLAN_HANDLE: return CUDNN_TYPE_HANDLE;
    case CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X:
    case CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W:
    case CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y:
    case CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC:
    case CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR:
    case CUDNN_ATTR_OPERATION_POINTWISE_XDESC:
    case CUDNN_ATTR_OPERATION_POINTWISE_BDESC:
    case CUDNN_ATTR_OPERATION_POINTWISE_YDESC:
    case CUDNN_ATTR_OPERATIONGRAPH_OPS:
    case CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH:
    case CUDNN_ATTR_ENGINE_OPERATION_GRAPH:
    case CUDNN_ATTR_ENGINECFG_ENGINE:
    case CUDNN_ATTR_ENGINECFG_KNOB_CHOICES:
    case CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG: return CUDNN_TYPE_BACKEND_DESCRIPTOR;
    default: return CUDNN_TYPE_INT64;
    }
}

cudnnStatus_t cudnnBackendSetAttribute(cudnnBackendDescriptor_t p, cudnnBackendAttributeName_t name,
                                       cudnnBackendAttributeType_t type, int64_t n, const void *values) {
    md *d = p;
    if (!d || d->finalized || n < 0 || (n && !values)) return CUDNN_STATUS_BAD_PARAM;
    if ((int)type != expected_type(name)) {
        fprintf(stderr, "MOCK cuDNN: attribute %d set with type %d, expected %d\n", (int)name, (int)type,
                expected_type(name));
        return CUDNN_STATUS_BAD_PARAM;
    }
    if (type == CUDNN_TYPE_BACKEND_DESCRIPTOR)
        for (int64_t i = 0; i < n; i++) {
            md *r = ((md *const *)values)[i];
            if (!r || (!r->finalized && name != CUDNN_ATTR_ENGINECFG_KNOB_CHOICES)) {
                fprintf(stderr, "MOCK cuDNN: attribute %d given a descriptor that is not finalized\n", (int)name);
                return CUDNN_STATUS_BAD_PARAM;
            }
        }
    mattr *a = find(d, name);
    if (!a) {
        if (d->n == MAX_ATTR) return CUDNN_STATUS_ALLOC_FAILED;
        a = &d->a[d->n++];
        a->name = name;
    } else {
        free(a->data);
    }
    a->type = type;
    a->count = n;
    a->data = malloc((size_t)(n ? n : 1) * type_size(type));
    if (n) memcpy(a->data, values, (size_t)n * type_size(type));
    return CUDNN_STATUS_SUCCESS;
}

/* ---- tensors and operations ---------------------------------------------------------- */

typedef struct mt { /* a tensor descriptor's facts */
    int64_t uid, rank, dims[8], strides[8], align;
    cudnnDataType_t type;
    int virt, byval; /* byval: a host scalar given in the variant pack */
} mt;

static mt tensor_of(const md *d) {
    mt t;
    memset(&t, 0, sizeof t);
    t.uid = i64(d, CUDNN_ATTR_TENSOR_UNIQUE_ID, 0);
    t.rank = count(d, CUDNN_ATTR_TENSOR_DIMENSIONS);
    for (int i = 0; i < t.rank && i < 8; i++) {
        t.dims[i] = i64(d, CUDNN_ATTR_TENSOR_DIMENSIONS, i);
        t.strides[i] = i64(d, CUDNN_ATTR_TENSOR_STRIDES, i);
    }
    t.align = i64(d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, 0);
    t.type = (cudnnDataType_t)i64(d, CUDNN_ATTR_TENSOR_DATA_TYPE, 0);
    t.virt = (int)i64(d, CUDNN_ATTR_TENSOR_IS_VIRTUAL, 0);
    t.byval = (int)i64(d, CUDNN_ATTR_TENSOR_IS_BY_VALUE, 0);
    return t;
}

static int is16(cudnnDataType_t t) { return t == CUDNN_DATA_HALF || t == CUDNN_DATA_BFLOAT16; }
static int nhwc(const mt *t) { return t->rank == 4 && t->strides[1] == 1 && t->dims[1] > 1; }

static int binary_mode(int64_t m) {
    return m == CUDNN_POINTWISE_ADD || m == CUDNN_POINTWISE_MUL || m == CUDNN_POINTWISE_SUB ||
           m == CUDNN_POINTWISE_MAX || m == CUDNN_POINTWISE_MIN || m == CUDNN_POINTWISE_DIV;
}

#define REFUSE(...)                                                                                                    \
    do {                                                                                                               \
        fprintf(stderr, "MOCK cuDNN: " __VA_ARGS__);                                                                   \
        fprintf(stderr, "\n");                                                                                         \
        return CUDNN_STATUS_BAD_PARAM;                                                                                 \
    } while (0)

static cudnnStatus_t finalize_tensor(md *d) {
    mt t = tensor_of(d);
    if (!find(d, CUDNN_ATTR_TENSOR_DATA_TYPE) || !find(d, CUDNN_ATTR_TENSOR_UNIQUE_ID) ||
        !find(d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT) || t.rank < 1 || t.rank > 8 ||
        count(d, CUDNN_ATTR_TENSOR_STRIDES) != t.rank)
        REFUSE("tensor %lld: data type, uid, alignment, dimensions and strides (as many) are required",
               (long long)t.uid);
    for (int i = 0; i < t.rank; i++)
        if (t.dims[i] <= 0 || t.strides[i] <= 0)
            REFUSE("tensor %lld: dimension %d or its stride is not positive", (long long)t.uid, i);
    if (t.type != CUDNN_DATA_FLOAT && !is16(t.type)) REFUSE("tensor %lld: data type %d", (long long)t.uid, (int)t.type);
    if (t.align <= 0 || (t.align & (t.align - 1)))
        REFUSE("tensor %lld: byte alignment %lld", (long long)t.uid, (long long)t.align);
    if (t.byval) {
        if (t.virt) REFUSE("tensor %lld: by value and virtual", (long long)t.uid);
        if (t.type != CUDNN_DATA_FLOAT)
            REFUSE("tensor %lld: by value but not f32 (not in this mock)", (long long)t.uid);
        for (int i = 0; i < t.rank; i++)
            if (t.dims[i] != 1) REFUSE("tensor %lld: by value but not a scalar", (long long)t.uid);
    }
    return CUDNN_STATUS_SUCCESS;
}

/* output extent of a convolution axis */
static int64_t conv_out(int64_t in, int64_t k, int64_t pre, int64_t post, int64_t dil, int64_t str) {
    return (in + pre + post - dil * (k - 1) - 1) / str + 1;
}

static cudnnStatus_t finalize_conv_op(md *d) {
    md *x = ref(d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, 0),
       *w = ref(d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, 0),
       *y = ref(d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, 0),
       *c = ref(d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, 0);
    if (!x || !w || !y || !c || !find(d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA) ||
        !find(d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA))
        REFUSE("convolution: X, W, Y, the convolution descriptor, alpha and beta are required");
    mt tx = tensor_of(x), tw = tensor_of(w), ty = tensor_of(y);
    if (tx.rank != 4 || tw.rank != 4 || ty.rank != 4) REFUSE("convolution: 4-d tensors only here");
    if (tx.type != tw.type) REFUSE("convolution: X and W have different types");
    if (!ty.virt && ty.type != tx.type) REFUSE("convolution: Y (not virtual) has another type than X");
    if (tx.dims[1] % tw.dims[1] || tw.dims[0] % (tx.dims[1] / tw.dims[1]))
        REFUSE("convolution: C %lld and the filter's %lld / K %lld do not make groups", (long long)tx.dims[1],
               (long long)tw.dims[1], (long long)tw.dims[0]);
    int64_t oh = conv_out(tx.dims[2], tw.dims[2], i64(c, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, 0),
                          i64(c, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, 0), i64(c, CUDNN_ATTR_CONVOLUTION_DILATIONS, 0),
                          i64(c, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, 0));
    int64_t ow = conv_out(tx.dims[3], tw.dims[3], i64(c, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, 1),
                          i64(c, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, 1), i64(c, CUDNN_ATTR_CONVOLUTION_DILATIONS, 1),
                          i64(c, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, 1));
    if (ty.dims[0] != tx.dims[0] || ty.dims[1] != tw.dims[0] || ty.dims[2] != oh || ty.dims[3] != ow)
        REFUSE("convolution: Y is (%lld,%lld,%lld,%lld), the convolution makes (%lld,%lld,%lld,%lld)",
               (long long)ty.dims[0], (long long)ty.dims[1], (long long)ty.dims[2], (long long)ty.dims[3],
               (long long)tx.dims[0], (long long)tw.dims[0], (long long)oh, (long long)ow);
    if (dbl(d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, 0) != 0) REFUSE("convolution: beta must be 0 in a graph");
    return CUDNN_STATUS_SUCCESS;
}

static cudnnStatus_t finalize_conv_desc(md *d) {
    static const int two[] = {CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS,
                              CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES};
    if (i64(d, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, 0) != 2 || !find(d, CUDNN_ATTR_CONVOLUTION_COMP_TYPE) ||
        i64(d, CUDNN_ATTR_CONVOLUTION_CONV_MODE, 0) != CUDNN_CROSS_CORRELATION)
        REFUSE("convolution descriptor: 2 spatial dims, a compute type and cross-correlation are required");
    for (int i = 0; i < 4; i++)
        if (count(d, two[i]) != 2) REFUSE("convolution descriptor: attribute %d needs 2 values", two[i]);
    for (int i = 0; i < 2; i++)
        if (i64(d, CUDNN_ATTR_CONVOLUTION_DILATIONS, i) <= 0 || i64(d, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, i) <= 0 ||
            i64(d, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, i) < 0 || i64(d, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, i) < 0)
            REFUSE("convolution descriptor: a dilation, stride or padding out of range");
    return CUDNN_STATUS_SUCCESS;
}

static cudnnStatus_t finalize_pw_op(md *d) {
    md *pw = ref(d, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, 0),
       *x = ref(d, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, 0), *b = ref(d, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, 0),
       *y = ref(d, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, 0);
    if (!pw || !x || !y) REFUSE("pointwise: the pointwise descriptor, X and Y are required");
    int64_t mode = i64(pw, CUDNN_ATTR_POINTWISE_MODE, 0);
    if (binary_mode(mode) != (b != NULL))
        REFUSE("pointwise mode %lld: B %s", (long long)mode, b ? "given to a unary mode" : "missing");
    mt tx = tensor_of(x), ty = tensor_of(y);
    if (tx.rank != ty.rank) REFUSE("pointwise: X and Y ranks differ");
    for (int i = 0; i < tx.rank; i++)
        if (tx.dims[i] != ty.dims[i]) REFUSE("pointwise: X and Y dimensions differ");
    if (b) {
        mt tb = tensor_of(b);
        if (tb.rank != tx.rank) REFUSE("pointwise: B's rank differs");
        for (int i = 0; i < tb.rank; i++)
            if (tb.dims[i] != 1 && tb.dims[i] != tx.dims[i]) REFUSE("pointwise: B does not broadcast to X");
    }
    return CUDNN_STATUS_SUCCESS;
}

/* ---- the operation graph ------------------------------------------------------------------ */

/* Tensors read and written by op o (descriptors). */
static int op_io(const md *o, md **in, int *n_in, md **out) {
    *n_in = 0;
    if (o->type == CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR) {
        in[(*n_in)++] = ref(o, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, 0);
        in[(*n_in)++] = ref(o, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, 0);
        *out = ref(o, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, 0);
        return 1;
    }
    if (o->type == CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR) {
        in[(*n_in)++] = ref(o, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, 0);
        md *b = ref(o, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, 0);
        if (b) in[(*n_in)++] = b;
        *out = ref(o, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, 0);
        return 1;
    }
    return 0;
}

/* The graph as the mock runs it: the convolution first, then the pointwise
 * operations in data-flow order. */
typedef struct mgraph {
    const md *conv;
    const md *pw[MAX_OPS];
    int n_pw;
    mt x, w, y;          /* the convolution's */
    mt out;              /* the graph's output */
    mt ext[MAX_OPS * 2]; /* every non-virtual tensor */
    int n_ext;
} mgraph;

static cudnnStatus_t analyse(const md *g, mgraph *m) {
    memset(m, 0, sizeof *m);
    int n = (int)count(g, CUDNN_ATTR_OPERATIONGRAPH_OPS);
    if (n < 1 || n > MAX_OPS) REFUSE("operation graph: %d operations", n);
    const md *left[MAX_OPS];
    int nl = 0;
    for (int i = 0; i < n; i++) {
        md *o = ref(g, CUDNN_ATTR_OPERATIONGRAPH_OPS, i);
        if (o->type == CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR) {
            if (m->conv) REFUSE("operation graph: two convolutions (not in this mock)");
            m->conv = o;
        } else if (o->type == CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR) {
            left[nl++] = o;
        } else {
            REFUSE("operation graph: operation type %d (not in this mock)", (int)o->type);
        }
    }
    if (!m->conv) REFUSE("operation graph: no convolution (not in this mock)");
    m->x = tensor_of(ref(m->conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, 0));
    m->w = tensor_of(ref(m->conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, 0));
    m->y = tensor_of(ref(m->conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, 0));
    /* the pointwise operations in data-flow order: each reads the convolution's
     * output, virtual tensors produced before it, or graph inputs (a DAG, as
     * runtime fusion takes); every virtual tensor is produced once and read;
     * exactly one output, which nothing reads */
    int64_t made[MAX_OPS + 1];
    int n_made = 0;
    made[n_made++] = m->y.uid;
    while (nl) {
        int found = -1;
        for (int i = 0; i < nl && found < 0; i++) {
            md *in[3], *out;
            int ni, ok = 1;
            op_io(left[i], in, &ni, &out);
            for (int j = 0; j < ni; j++) {
                mt t = tensor_of(in[j]);
                int have = 0;
                for (int k = 0; k < n_made; k++) have |= made[k] == t.uid;
                if (have && !t.virt)
                    REFUSE("operation graph: tensor %lld is an output and read again", (long long)t.uid);
                if (t.virt && !have) ok = 0;
            }
            if (ok) found = i;
        }
        if (found < 0) REFUSE("operation graph: a pointwise op reads a virtual tensor nothing before it produces");
        md *in[3], *out;
        int ni;
        op_io(left[found], in, &ni, &out);
        m->pw[m->n_pw++] = left[found];
        made[n_made++] = tensor_of(out).uid;
        left[found] = left[--nl];
    }
    int n_out = 0;
    for (int k = 0; k < n_made; k++) {
        const md *maker = k == 0 ? ref(m->conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, 0)
                                 : ref(m->pw[k - 1], CUDNN_ATTR_OPERATION_POINTWISE_YDESC, 0);
        mt t = tensor_of(maker);
        if (!t.virt) {
            m->out = t;
            n_out++;
            continue;
        }
        int read = 0;
        for (int i = 0; i < m->n_pw; i++) {
            md *in[3], *out;
            int ni;
            op_io(m->pw[i], in, &ni, &out);
            for (int j = 0; j < ni; j++) read |= tensor_of(in[j]).uid == t.uid;
        }
        if (!read) REFUSE("operation graph: tensor %lld is produced and never used", (long long)t.uid);
    }
    if (n_out != 1) REFUSE("operation graph: %d non-virtual outputs (one is needed)", n_out);
    /* the non-virtual tensors, uids unique */
    const md *ops[MAX_OPS + 1];
    int no = 0;
    ops[no++] = m->conv;
    for (int i = 0; i < m->n_pw; i++) ops[no++] = m->pw[i];
    for (int i = 0; i < no; i++) {
        md *in[3], *out;
        int ni;
        op_io(ops[i], in, &ni, &out);
        in[ni++] = out;
        for (int j = 0; j < ni; j++) {
            mt t = tensor_of(in[j]);
            if (t.virt) {
                if (t.type != CUDNN_DATA_FLOAT) REFUSE("virtual tensor %lld is not f32", (long long)t.uid);
                continue;
            }
            int seen = 0;
            for (int k = 0; k < m->n_ext; k++) seen |= m->ext[k].uid == t.uid;
            if (!seen && m->n_ext < MAX_OPS * 2) m->ext[m->n_ext++] = t;
        }
    }
    return CUDNN_STATUS_SUCCESS;
}

/* ---- engines --------------------------------------------------------------------------------- */

static int engine_takes(int64_t e, const mgraph *m) {
    int half = is16(m->x.type);
    if (half && env_on("MOCK_CUDNN_NO_HALF")) return 0;
    int groups = (int)(m->x.dims[1] / m->w.dims[1]);
    switch (e) {
    case 0: return m->n_pw == 0;
    case 1: return m->n_pw == 0 && nhwc(&m->x);
    case 2:
        return m->n_pw > 0 && !env_on("MOCK_CUDNN_NO_FUSION") && nhwc(&m->x) && half && is16(m->out.type) &&
               m->x.dims[1] % 8 == 0 && m->w.dims[0] % 8 == 0 && groups == 1;
    default: return 0;
    }
}

static int64_t engine_ws(int64_t e, int64_t tile) { return e == 0 ? 0 : e == 1 ? 4096 : 8192 + (tile ? 65536 : 0); }

static cudnnStatus_t finalize_engine(md *d) {
    md *g = ref(d, CUDNN_ATTR_ENGINE_OPERATION_GRAPH, 0);
    if (!g || !find(d, CUDNN_ATTR_ENGINE_GLOBAL_INDEX)) REFUSE("engine: graph and global index are required");
    mgraph m;
    if (analyse(g, &m) || !engine_takes(i64(d, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, 0), &m))
        return CUDNN_STATUS_NOT_SUPPORTED;
    d->engine = i64(d, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, 0);
    d->graph = g;
    return CUDNN_STATUS_SUCCESS;
}

static cudnnStatus_t finalize_cfg(md *d) {
    md *e = ref(d, CUDNN_ATTR_ENGINECFG_ENGINE, 0);
    if (!e) REFUSE("engine config: no engine");
    d->engine = e->engine;
    d->graph = e->graph;
    d->knob_tile = 0;
    for (int i = 0; i < count(d, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES); i++) {
        md *k = ref(d, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, i);
        if (!k->finalized) REFUSE("engine config: a knob choice is not finalized");
        if (i64(k, CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, 0) != CUDNN_KNOB_TYPE_TILE_SIZE || d->engine != 2)
            return CUDNN_STATUS_NOT_SUPPORTED;
        d->knob_tile = i64(k, CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, 0);
        if (d->knob_tile < 0 || d->knob_tile > 1) return CUDNN_STATUS_NOT_SUPPORTED;
    }
    return CUDNN_STATUS_SUCCESS;
}

static cudnnStatus_t finalize_plan(md *d) {
    md *c = ref(d, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, 0);
    if (!c || c->engine < 0) REFUSE("execution plan: no finalized engine config");
    const char *fail = getenv("MOCK_CUDNN_FAIL_PLAN");
    if (fail && atoll(fail) == c->engine) return CUDNN_STATUS_NOT_SUPPORTED;
    d->engine = c->engine;
    d->knob_tile = c->knob_tile;
    d->graph = c->graph;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBackendFinalize(cudnnBackendDescriptor_t p) {
    md *d = p;
    if (!d || d->finalized) return CUDNN_STATUS_BAD_PARAM;
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    switch (d->type) {
    case CUDNN_BACKEND_TENSOR_DESCRIPTOR: st = finalize_tensor(d); break;
    case CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR: st = finalize_conv_desc(d); break;
    case CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR: st = finalize_conv_op(d); break;
    case CUDNN_BACKEND_POINTWISE_DESCRIPTOR:
        if (!find(d, CUDNN_ATTR_POINTWISE_MODE) || !find(d, CUDNN_ATTR_POINTWISE_MATH_PREC))
            REFUSE("pointwise descriptor: mode and math precision are required");
        break;
    case CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR: st = finalize_pw_op(d); break;
    case CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR: {
        mgraph m;
        st = analyse(d, &m);
        break;
    }
    case CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR:
        if (!ref(d, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, 0) || !find(d, CUDNN_ATTR_ENGINEHEUR_MODE))
            REFUSE("heuristics: graph and mode are required");
        break;
    case CUDNN_BACKEND_ENGINE_DESCRIPTOR: st = finalize_engine(d); break;
    case CUDNN_BACKEND_ENGINECFG_DESCRIPTOR: st = finalize_cfg(d); break;
    case CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR:
        if (!find(d, CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE) || !find(d, CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE))
            REFUSE("knob choice: type and value are required");
        break;
    case CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR: st = finalize_plan(d); break;
    case CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR:
        if (count(d, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS) != count(d, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS))
            REFUSE("variant pack: as many pointers as uids");
        break;
    default: REFUSE("descriptor type %d (not in this mock)", (int)d->type);
    }
    if (st == CUDNN_STATUS_SUCCESS) d->finalized = 1;
    return st;
}

/* ---- reading attributes back ------------------------------------------------------------------ */

/* Fills the caller's engine config descriptors with the engines that take the
 * graph, in the heuristics' order (2, 1, 0; engine 2 with each knob value). */
static cudnnStatus_t heuristic_results(md *h, int64_t want, int64_t *n, md **out) {
    md *g = ref(h, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, 0);
    mgraph m;
    *n = 0;
    if (analyse(g, &m) || env_on("MOCK_CUDNN_NO_GRAPH")) return CUDNN_STATUS_SUCCESS;
    static const int64_t order[][2] = {{2, 0}, {2, 1}, {1, 0}, {0, 0}};
    for (int i = 0; i < 4; i++) {
        if (!engine_takes(order[i][0], &m)) continue;
        if (*n < want && out) {
            md *c = out[*n];
            if (!c || c->type != CUDNN_BACKEND_ENGINECFG_DESCRIPTOR) return CUDNN_STATUS_BAD_PARAM;
            c->engine = order[i][0];
            c->knob_tile = order[i][1];
            c->graph = g;
            c->finalized = 1;
        }
        (*n)++;
    }
    if (*n > want) *n = want;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBackendGetAttribute(cudnnBackendDescriptor_t const p, cudnnBackendAttributeName_t name,
                                       cudnnBackendAttributeType_t type, int64_t want, int64_t *n, void *out) {
    md *d = p;
    if (!d || !d->finalized) return CUDNN_STATUS_BAD_PARAM;
    int64_t dummy;
    if (!n) n = &dummy;
    switch (name) {
    case CUDNN_ATTR_ENGINEHEUR_RESULTS: return heuristic_results(d, want, n, out);
    case CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE:
        *n = 1;
        *(int64_t *)out = engine_ws(d->engine, d->knob_tile);
        return CUDNN_STATUS_SUCCESS;
    case CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG:
    case CUDNN_ATTR_ENGINECFG_ENGINE: {
        md *t = *(md **)out; /* a descriptor the caller created: filled as a copy */
        if (!t) return CUDNN_STATUS_BAD_PARAM;
        t->engine = d->engine;
        t->knob_tile = d->knob_tile;
        t->graph = d->graph;
        t->finalized = 1;
        *n = 1;
        return CUDNN_STATUS_SUCCESS;
    }
    case CUDNN_ATTR_ENGINE_GLOBAL_INDEX:
        *n = 1;
        *(int64_t *)out = d->engine;
        return CUDNN_STATUS_SUCCESS;
    case CUDNN_ATTR_ENGINE_NUMERICAL_NOTE: {
        int k = 0;
        if (d->engine >= 1 && want > 0) ((cudnnBackendNumericalNote_t *)out)[k++] = CUDNN_NUMERICAL_NOTE_TENSOR_CORE;
        *n = k;
        return CUDNN_STATUS_SUCCESS;
    }
    case CUDNN_ATTR_ENGINECFG_KNOB_CHOICES: {
        *n = 0;
        if (d->engine != 2) return CUDNN_STATUS_SUCCESS;
        if (want < 1) return CUDNN_STATUS_BAD_PARAM;
        md *k = ((md **)out)[0];
        int64_t t = CUDNN_KNOB_TYPE_TILE_SIZE;
        int32_t t32 = (int32_t)t;
        cudnnBackendSetAttribute(k, CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &t32);
        cudnnBackendSetAttribute(k, CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &d->knob_tile);
        k->finalized = 1;
        *n = 1;
        return CUDNN_STATUS_SUCCESS;
    }
    default: {
        const mattr *a = find(d, name);
        if (!a || a->type != (int)type) return CUDNN_STATUS_BAD_PARAM;
        *n = a->count;
        if (out) memcpy(out, a->data, (size_t)(a->count < want ? a->count : want) * type_size(type));
        return CUDNN_STATUS_SUCCESS;
    }
    }
}

/* ---- execution ------------------------------------------------------------------------------------ */

static float ld(const mt *t, const void *p, int64_t i) { return mock_ld(t->type, p, (size_t)i); }
static void st(const mt *t, void *p, int64_t i, float v) { mock_st(t->type, p, (size_t)i, v); }
static int64_t at4(const mt *t, int64_t a, int64_t b, int64_t c, int64_t d) {
    return a * t->strides[0] + b * t->strides[1] + c * t->strides[2] + d * t->strides[3];
}

static float act_value(const md *pw, float v, float b) {
    switch (i64(pw, CUDNN_ATTR_POINTWISE_MODE, 0)) {
    case CUDNN_POINTWISE_ADD: return v + b;
    case CUDNN_POINTWISE_MUL: return v * b;
    case CUDNN_POINTWISE_RELU_FWD: {
        double lo = dbl(pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP, 0.0),
               hi = dbl(pw, CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP, INFINITY),
               slope = dbl(pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP_SLOPE, 0.0);
        if (v < lo) v = slope != 0.0 ? (float)(lo + slope * (v - lo)) : (float)lo;
        return v > hi ? (float)hi : v;
    }
    case CUDNN_POINTWISE_TANH_FWD: return tanhf(v);
    case CUDNN_POINTWISE_SIGMOID_FWD: return 1.f / (1.f + expf(-v));
    case CUDNN_POINTWISE_GELU_FWD: return 0.5f * v * (1.f + erff(v * 0.70710678f));
    case CUDNN_POINTWISE_GELU_APPROX_TANH_FWD:
        return 0.5f * v * (1.f + tanhf(0.7978845608f * (v + 0.044715f * v * v * v)));
    case CUDNN_POINTWISE_SWISH_FWD: {
        float beta = (float)dbl(pw, CUDNN_ATTR_POINTWISE_SWISH_BETA, 1.0);
        return v / (1.f + expf(-beta * v));
    }
    default: return NAN;
    }
}

typedef struct opnd {
    int kind; /* 0 none, 1 the convolution's output, 2 operation idx's output, 3 scalar, 4 memory */
    int idx;
    float scalar;
    const void *p;
    mt t;
} opnd;

static void operand(const mgraph *m, const void *const *ptr, const md *d, opnd *o) {
    memset(o, 0, sizeof *o);
    if (!d) return;
    o->t = tensor_of(d);
    if (o->t.uid == m->y.uid) {
        o->kind = 1;
        return;
    }
    for (int i = 0; i < m->n_pw; i++)
        if (tensor_of(ref(m->pw[i], CUDNN_ATTR_OPERATION_POINTWISE_YDESC, 0)).uid == o->t.uid) {
            o->kind = 2;
            o->idx = i;
            return;
        }
    for (int k = 0; k < m->n_ext; k++)
        if (m->ext[k].uid == o->t.uid) o->p = ptr[k];
    o->kind = o->t.byval ? 3 : 4;
    if (o->t.byval) o->scalar = *(const float *)o->p;
}

static float opnd_value(const opnd *o, float conv, const float *vals, const int64_t at[4]) {
    const mt *t = &o->t;
    switch (o->kind) {
    case 1: return conv;
    case 2: return vals[o->idx];
    case 3: return o->scalar;
    case 4:
        return ld(t, o->p,
                  at4(t, t->dims[0] == 1 ? 0 : at[0], t->dims[1] == 1 ? 0 : at[1], t->dims[2] == 1 ? 0 : at[2],
                      t->dims[3] == 1 ? 0 : at[3]));
    default: return 0.f;
    }
}

cudnnStatus_t cudnnBackendExecute(cudnnHandle_t h, cudnnBackendDescriptor_t plan, cudnnBackendDescriptor_t vpack) {
    (void)h;
    md *p = plan, *v = vpack;
    if (!p || !v || !p->finalized || !v->finalized || p->type != CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR)
        REFUSE("execute: a finalized plan and variant pack are required");
    mgraph m;
    if (analyse(p->graph, &m)) return CUDNN_STATUS_BAD_PARAM;
    int64_t nu = count(v, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS);
    const void *ptr[MAX_OPS * 2] = {0};
    for (int64_t i = 0; i < nu; i++) {
        int64_t uid = i64(v, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, (int)i);
        int k = 0;
        while (k < m.n_ext && m.ext[k].uid != uid) k++;
        if (k == m.n_ext) REFUSE("execute: uid %lld is no tensor of the graph", (long long)uid);
        ptr[k] = ((void *const *)find(v, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS)->data)[i];
    }
    for (int k = 0; k < m.n_ext; k++) {
        if (!ptr[k]) REFUSE("execute: no pointer for tensor %lld", (long long)m.ext[k].uid);
        if (!m.ext[k].byval && (uintptr_t)ptr[k] % (uintptr_t)m.ext[k].align)
            REFUSE("execute: tensor %lld at %p is not %lld-byte aligned as declared", (long long)m.ext[k].uid, ptr[k],
                   (long long)m.ext[k].align);
    }
    void *ws = NULL;
    const mattr *wa = find(v, CUDNN_ATTR_VARIANT_PACK_WORKSPACE);
    if (wa) ws = *(void **)wa->data;
    int64_t need = engine_ws(p->engine, p->knob_tile);
    if (need && !ws) REFUSE("execute: the plan needs %lld bytes of workspace, none given", (long long)need);
    if (need) memset(ws, 0x5A, (size_t)need); /* it is ours to scribble on */
    const void *px = NULL, *pw_ = NULL;
    void *py = NULL;
    for (int k = 0; k < m.n_ext; k++) {
        if (m.ext[k].uid == m.x.uid) px = ptr[k];
        if (m.ext[k].uid == m.w.uid) pw_ = ptr[k];
        if (m.ext[k].uid == m.out.uid) py = (void *)ptr[k];
    }
    for (int k = 0; k < m.n_ext; k++)
        if (m.ext[k].uid != m.out.uid && ptr[k] == py)
            REFUSE("execute: the output is also an input (no in-place graphs)");
    /* each pointwise operand: the convolution's value, an earlier operation's
     * (virtual), a host scalar, or a tensor in memory (broadcast) */
    opnd opx[MAX_OPS], opb[MAX_OPS];
    for (int i = 0; i < m.n_pw; i++) {
        operand(&m, ptr, ref(m.pw[i], CUDNN_ATTR_OPERATION_POINTWISE_XDESC, 0), &opx[i]);
        operand(&m, ptr, ref(m.pw[i], CUDNN_ATTR_OPERATION_POINTWISE_BDESC, 0), &opb[i]);
    }
    const md *cd = ref(m.conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, 0);
    int64_t ph = i64(cd, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, 0), pwd = i64(cd, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, 1),
            sh = i64(cd, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, 0),
            sw = i64(cd, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, 1), dh = i64(cd, CUDNN_ATTR_CONVOLUTION_DILATIONS, 0),
            dw = i64(cd, CUDNN_ATTR_CONVOLUTION_DILATIONS, 1);
    int64_t cg = m.w.dims[1], kg = m.w.dims[0] / (m.x.dims[1] / cg);
    for (int64_t n = 0; n < m.y.dims[0]; n++)
        for (int64_t k = 0; k < m.y.dims[1]; k++)
            for (int64_t oy = 0; oy < m.y.dims[2]; oy++)
                for (int64_t ox = 0; ox < m.y.dims[3]; ox++) {
                    int64_t g = k / kg;
                    double s = 0;
                    for (int64_t c = 0; c < cg; c++)
                        for (int64_t r = 0; r < m.w.dims[2]; r++)
                            for (int64_t q = 0; q < m.w.dims[3]; q++) {
                                int64_t iy = oy * sh - ph + r * dh, ix = ox * sw - pwd + q * dw;
                                if (iy < 0 || iy >= m.x.dims[2] || ix < 0 || ix >= m.x.dims[3]) continue;
                                s += (double)ld(&m.x, px, at4(&m.x, n, g * cg + c, iy, ix)) *
                                     ld(&m.w, pw_, at4(&m.w, k, c, r, q));
                            }
                    float val = (float)s, vals[MAX_OPS];
                    const int64_t at[4] = {n, k, oy, ox};
                    for (int i = 0; i < m.n_pw; i++) {
                        md *pwd_ = ref(m.pw[i], CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, 0);
                        vals[i] = val = act_value(pwd_, opnd_value(&opx[i], (float)s, vals, at),
                                                  opnd_value(&opb[i], (float)s, vals, at));
                    }
                    st(&m.out, py, at4(&m.out, n, k, oy, ox), val);
                }
    mock_cudnn_executions++;
    if (m.n_pw) mock_cudnn_fused_executions++;
    return CUDNN_STATUS_SUCCESS;
}

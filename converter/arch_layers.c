/* arch_layers.c: data movement, norms and N-D linears for the builders
 * (arch_layers.h). */
#include "arch_layers.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int pp_ab_maxpool_ceil(pp_ab *b, int x, int k, int stride, int pad, const char *name) {
    if (x < 0) return -1;
    int nd = -1;
    int y = pp_ab_node(b, PP_OP_MAXPOOL, name, 1, &x, &nd);
    if (y >= 0) {
        pp_ab_keep(b, pp_node_set_ints(b->g, nd, "kernel_shape", (int64_t[]){k, k}, 2, b->err));
        pp_ab_keep(b, pp_node_set_ints(b->g, nd, "strides", (int64_t[]){stride, stride}, 2, b->err));
        pp_ab_keep(b, pp_node_set_ints(b->g, nd, "pads", (int64_t[]){pad, pad, pad, pad}, 4, b->err));
        pp_ab_keep(b, pp_node_set_int(b->g, nd, "ceil_mode", 1, b->err));
    }
    return b->rc ? -1 : y;
}

int pp_ab_concat_n(pp_ab *b, const int *xs, int n, int axis, const char *name) {
    for (int i = 0; i < n; i++)
        if (xs[i] < 0) return -1;
    int nd = -1;
    int y = pp_ab_node(b, PP_OP_CONCAT, name, n, xs, &nd);
    if (y >= 0) pp_ab_keep(b, pp_node_set_int(b->g, nd, "axis", axis, b->err));
    return b->rc ? -1 : y;
}

/* One input, one INTS attribute. */
static int ints_node(pp_ab *b, pp_op op, int x, const char *attr, int n, const int64_t *v, const char *name) {
    if (x < 0) return -1;
    int nd = -1;
    int y = pp_ab_node(b, op, name, 1, &x, &nd);
    if (y >= 0) pp_ab_keep(b, pp_node_set_ints(b->g, nd, attr, v, (uint32_t)n, b->err));
    return b->rc ? -1 : y;
}

int pp_ab_reshape(pp_ab *b, int x, int rank, const int64_t *shape, const char *name) {
    return ints_node(b, PP_OP_RESHAPE, x, "shape", rank, shape, name);
}

int pp_ab_transpose(pp_ab *b, int x, int rank, const int64_t *perm, const char *name) {
    return ints_node(b, PP_OP_TRANSPOSE, x, "perm", rank, perm, name);
}

int pp_ab_slice(pp_ab *b, int x, int axis, int64_t start, int64_t end, int64_t step, const char *name) {
    if (x < 0) return -1;
    int nd = -1;
    int y = pp_ab_node(b, PP_OP_SLICE, name, 1, &x, &nd);
    if (y >= 0) {
        pp_ab_keep(b, pp_node_set_ints(b->g, nd, "starts", &start, 1, b->err));
        pp_ab_keep(b, pp_node_set_ints(b->g, nd, "ends", &end, 1, b->err));
        pp_ab_keep(b, pp_node_set_ints(b->g, nd, "axes", (int64_t[]){axis}, 1, b->err));
        pp_ab_keep(b, pp_node_set_ints(b->g, nd, "steps", &step, 1, b->err));
    }
    return b->rc ? -1 : y;
}

int pp_ab_select(pp_ab *b, int x, int axis, int64_t index, const char *name) {
    if (x < 0 || b->rc) return -1;
    char nm[320];
    snprintf(nm, sizeof nm, "%s.index", name);
    int idx = pp_graph_add_weight(b->g, nm, PP_DTYPE_I64, 0, NULL, &index, 8, b->err);
    if (idx < 0) {
        b->rc = b->err->code ? b->err->code : PP_ERR_NOMEM;
        return -1;
    }
    int nd = -1;
    int y = pp_ab_node(b, PP_OP_GATHER, name, 2, (int[]){x, idx}, &nd);
    if (y >= 0) pp_ab_keep(b, pp_node_set_int(b->g, nd, "axis", axis, b->err));
    return b->rc ? -1 : y;
}

int pp_ab_softmax(pp_ab *b, int x, int axis, const char *name) {
    if (x < 0) return -1;
    int nd = -1;
    int y = pp_ab_node(b, PP_OP_SOFTMAX, name, 1, &x, &nd);
    if (y >= 0) pp_ab_keep(b, pp_node_set_int(b->g, nd, "axis", axis, b->err));
    return b->rc ? -1 : y;
}

int pp_ab_param(pp_ab *b, const char *key, int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int d = 0; d < rank; d++) n *= dims[d];
    const pp_ckpt_tensor *t = pp_ab_get(b, key, -1, NULL);
    if (!t) return -1;
    int64_t tn = 1;
    for (int d = 0; d < t->rank; d++) tn *= t->dims[d];
    if (tn != n) {
        char s1[96], s2[96];
        pp_ab_problem(b, "%s is %s, expected %s", key, pp_ab_shape_str(s1, sizeof s1, t->rank, t->dims),
                      pp_ab_shape_str(s2, sizeof s2, rank, dims));
        return -1;
    }
    if (t->dtype == PP_DTYPE_F32) return pp_ab_weight(b, key, rank, dims, t->data);
    float *f = pp_ab_f32(b, t);
    int id = f ? pp_ab_weight(b, key, rank, dims, f) : -1;
    pp_free(f);
    return id;
}

int pp_ab_const(pp_ab *b, const char *name, int rank, const int64_t *dims, const float *data) {
    if (b->rc) return -1;
    int64_t n = 1;
    for (int d = 0; d < rank; d++) n *= dims[d];
    int id = pp_graph_add_weight(b->g, name, PP_DTYPE_F32, rank, dims, data, (uint64_t)n * 4, b->err);
    if (id < 0) b->rc = b->err->code ? b->err->code : PP_ERR_NOMEM;
    return id;
}

int pp_ab_layernorm(pp_ab *b, int x, const char *prefix, int64_t c, double eps) {
    char wk[300], bk[300];
    snprintf(wk, sizeof wk, "%s.weight", prefix);
    snprintf(bk, sizeof bk, "%s.bias", prefix);
    int w = pp_ab_param(b, wk, 1, &c), bias = pp_ab_param(b, bk, 1, &c);
    if (x < 0 || w < 0 || bias < 0) return -1;
    int nd = -1;
    int y = pp_ab_node(b, PP_OP_LAYERNORM, prefix, 3, (int[]){x, w, bias}, &nd);
    if (y >= 0) {
        pp_ab_keep(b, pp_node_set_int(b->g, nd, "axis", -1, b->err));
        pp_ab_keep(b, pp_node_set_float(b->g, nd, "epsilon", eps, b->err));
    }
    return b->rc ? -1 : y;
}

int pp_ab_linear_nd(pp_ab *b, int x, const char *prefix, int64_t cin, int act, int64_t *cout) {
    char wk[300], bk[300];
    snprintf(wk, sizeof wk, "%s.weight", prefix);
    snprintf(bk, sizeof bk, "%s.bias", prefix);
    return pp_ab_linear_keys(b, x, wk, bk, prefix, cin, act, cout);
}

int pp_ab_linear_keys(pp_ab *b, int x, const char *wk, const char *bk, const char *prefix, int64_t cin, int act,
                      int64_t *cout) {
    char nm[320];
    const pp_ckpt_tensor *w = pp_ab_get(b, wk, 2, (int64_t[]){-1, cin});
    int64_t K = w ? w->dims[0] : -1, C = w ? w->dims[1] : -1;
    if (cout) *cout = K;
    int bias = pp_ab_has(b, bk) ? pp_ab_param(b, bk, 1, &K) : -2;
    if (!w || x < 0 || bias == -1 || b->rc) return -1;
    float *f = pp_ab_f32(b, w), *t = pp_malloc((size_t)(K * C > 0 ? K * C : 1) * sizeof *t);
    int wt = -1;
    if (f && t) {
        for (int64_t k = 0; k < K; k++)
            for (int64_t c = 0; c < C; c++) t[c * K + k] = f[k * C + c];
        snprintf(nm, sizeof nm, "%s.weight_t", prefix);
        wt = pp_ab_const(b, nm, 2, (int64_t[]){C, K}, t);
    } else if (!b->rc) {
        b->rc = pp_error_nomem(b->err, "out of memory for %s", wk);
    }
    pp_free(f);
    pp_free(t);
    snprintf(nm, sizeof nm, "%s.matmul", prefix);
    int y = wt < 0 ? -1 : pp_ab_node(b, PP_OP_MATMUL, bias >= 0 ? nm : prefix, 2, (int[]){x, wt}, NULL);
    if (y >= 0 && bias >= 0) y = pp_ab_binary(b, PP_OP_ADD, y, bias, prefix);
    if (y >= 0 && act && act != PP_OP_IDENTITY) {
        snprintf(nm, sizeof nm, "%s.act", prefix);
        y = pp_ab_unary(b, (pp_op)act, y, nm);
    }
    return b->rc ? -1 : y;
}

int pp_ab_ignore_prefix(pp_ab *b, const char *prefix) {
    size_t l = strlen(prefix);
    int n = 0;
    for (int i = 0; i < b->c->n; i++)
        if (!strncmp(b->c->tensors[i].name, prefix, l)) b->used[i] = 1, n++;
    return n;
}

int pp_ab_repeat_batch(pp_ab *b, int x, int ref, int rank, const char *name) {
    char nm[320];
    int c = ref;
    for (int a = 1; a < rank && c >= 0; a++) {
        snprintf(nm, sizeof nm, "%s.batch%d", name, a);
        c = pp_ab_slice(b, c, a, 0, 1, 1, nm);
    }
    if (c < 0 || x < 0) return -1;
    int nd = -1;
    snprintf(nm, sizeof nm, "%s.cond", name);
    c = pp_ab_node(b, PP_OP_CAST, nm, 1, &c, &nd);
    if (c >= 0) pp_ab_keep(b, pp_node_set_int(b->g, nd, "to", PP_DTYPE_BOOL, b->err));
    int y = c < 0 ? -1 : pp_ab_node(b, PP_OP_WHERE, name, 3, (int[]){c, x, x}, NULL);
    return b->rc ? -1 : y;
}

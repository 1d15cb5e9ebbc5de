/* arch_build.c: the builder helpers (arch_build.h). */
#include "arch_build.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/params.h"

/* ---- small things -------------------------------------------------------------- */

int pp_ab_ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

void pp_ab_append(char *buf, size_t n, const char *fmt, ...) {
    size_t k = strlen(buf);
    if (k + 1 >= n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + k, n - k, fmt, ap);
    va_end(ap);
}

const char *pp_ab_shape_str(char *buf, size_t n, int rank, const int64_t *d) {
    buf[0] = 0;
    pp_ab_append(buf, n, "(");
    for (int i = 0; i < rank; i++) {
        if (d[i] < 0) pp_ab_append(buf, n, "%s*", i ? "," : "");
        else pp_ab_append(buf, n, "%s%" PRId64, i ? "," : "", d[i]);
    }
    pp_ab_append(buf, n, ")");
    return buf;
}

/* ---- builder helpers --------------------------------------------------------- */

/* Lists in the final message are cut at LIST_CHARS each (then "+N more"), so
 * missing, mis-shaped and unexpected keys all show in one 512-byte message. */
#define LIST_CHARS 150

static void list_add(char *buf, size_t n, int *shown, int *count, const char *sep, const char *item) {
    if (strlen(buf) + strlen(item) + 2 < LIST_CHARS && strlen(buf) + strlen(item) + 2 < n) {
        pp_ab_append(buf, n, "%s%s", *shown ? sep : "", item);
        (*shown)++;
    }
    (*count)++;
}

void pp_ab_problem(pp_ab *b, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    list_add(b->bad, sizeof b->bad, &b->shown_bad, &b->n_bad, "; ", msg);
}

int pp_ab_has(const pp_ab *b, const char *key) { return pp_ckpt_find(b->c, key) != NULL; }

const pp_ckpt_tensor *pp_ab_get(pp_ab *b, const char *key, int rank, const int64_t *want) {
    char nb[160], s1[96], s2[96];
    const pp_ckpt_tensor *t = pp_ckpt_find(b->c, key);
    if (!t) {
        list_add(b->missing, sizeof b->missing, &b->shown_missing, &b->n_missing, ", ",
                 pp_ckpt_printable(nb, sizeof nb, key));
        return NULL;
    }
    b->used[t - b->c->tensors] = 1;
    int ok = rank < 0 || t->rank == rank;
    for (int d = 0; ok && d < rank; d++)
        if (want && want[d] >= 0 && t->dims[d] != want[d]) ok = 0;
    if (!ok) {
        pp_ab_problem(b, "%s is %s, expected %s", pp_ckpt_printable(nb, sizeof nb, key),
                      pp_ab_shape_str(s1, sizeof s1, t->rank, t->dims),
                      pp_ab_shape_str(s2, sizeof s2, rank,
                                      want ? want : (const int64_t[PP_MAX_RANK]){-1, -1, -1, -1, -1, -1, -1, -1}));
        return NULL;
    }
    if (t->dtype != PP_DTYPE_F32 && t->dtype != PP_DTYPE_F16 && t->dtype != PP_DTYPE_BF16 && t->dtype != PP_DTYPE_F64) {
        pp_ab_problem(b, "%s has dtype %s, expected a floating type", pp_ckpt_printable(nb, sizeof nb, key),
                      t->src_dtype ? t->src_dtype : "?");
        return NULL;
    }
    return t;
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else { /* subnormal */ float f = ldexpf((float)man, -24);
            return sign ? -f : f;
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (man << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float *pp_ab_f32(pp_ab *b, const pp_ckpt_tensor *t) {
    uint64_t numel = 1;
    for (int d = 0; d < t->rank; d++) numel *= (uint64_t)t->dims[d];
    float *f = pp_malloc(numel ? (size_t)numel * 4 : 4);
    if (!f) {
        b->rc = pp_error_set(b->err, PP_ERR_NOMEM, "out of memory for %s", t->name);
        return NULL;
    }
    const uint8_t *p = t->data;
    for (uint64_t i = 0; i < numel; i++) {
        switch (t->dtype) {
        case PP_DTYPE_F32: memcpy(&f[i], p + 4 * i, 4); break;
        case PP_DTYPE_F64: {
            double d;
            memcpy(&d, p + 8 * i, 8);
            f[i] = (float)d;
            break;
        }
        case PP_DTYPE_F16: {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            f[i] = half_to_float(h);
            break;
        }
        case PP_DTYPE_BF16: {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            uint32_t bits = (uint32_t)h << 16;
            memcpy(&f[i], &bits, 4);
            break;
        }
        default: f[i] = 0; break;
        }
    }
    return f;
}

static int act_tensor(pp_ab *b, const char *name) {
    if (b->rc) return -1;
    int id = pp_graph_add_tensor(b->g, name, PP_DTYPE_INVALID, PP_TENSOR_ACTIVATION, -1, NULL, b->err);
    if (id < 0) b->rc = b->err->code ? b->err->code : PP_ERR_NOMEM;
    return id;
}

int pp_ab_weight(pp_ab *b, const char *name, int rank, const int64_t *dims, const float *data) {
    if (b->rc) return -1;
    uint64_t n = 1;
    for (int d = 0; d < rank; d++) n *= (uint64_t)dims[d];
    /* A checkpoint tensor used as it is stays where it is (the graph keeps the
     * checkpoint alive), so a 500 MB state_dict is not copied; folded or
     * widened weights are new arrays and are copied. */
    for (int i = 0; i < b->c->n; i++)
        if (b->c->tensors[i].data == data && b->c->tensors[i].dtype == PP_DTYPE_F32 &&
            b->c->tensors[i].nbytes == n * 4) {
            int id = pp_graph_add_tensor(b->g, name, PP_DTYPE_F32, PP_TENSOR_WEIGHT, rank, dims, b->err);
            if (id < 0) {
                b->rc = b->err->code ? b->err->code : PP_ERR_NOMEM;
                return -1;
            }
            b->g->tensors[id].data = data;
            b->g->tensors[id].nbytes = n * 4;
            return id;
        }
    int id = pp_graph_add_weight(b->g, name, PP_DTYPE_F32, rank, dims, data, n * 4, b->err);
    if (id < 0) b->rc = b->err->code ? b->err->code : PP_ERR_NOMEM;
    return id;
}

/* A node with one output tensor named after it; returns the output id. */
int pp_ab_node(pp_ab *b, pp_op op, const char *name, int n_in, const int *in, int *node_id) {
    if (b->rc) return -1;
    int y = act_tensor(b, name);
    if (y < 0) return -1;
    int nd = pp_graph_add_node(b->g, op, name, n_in, in, 1, &y, b->err);
    if (nd < 0) {
        b->rc = b->err->code ? b->err->code : PP_ERR_NOMEM;
        return -1;
    }
    if (node_id) *node_id = nd;
    return y;
}

void pp_ab_keep(pp_ab *b, pp_code rc) {
    if (rc && !b->rc) b->rc = rc;
}

int pp_ab_act_kind(int op) {
    switch (op) {
    case PP_OP_RELU: return PP_ACT_RELU;
    case PP_OP_GELU: return PP_ACT_GELU;
    case PP_OP_GELU_TANH: return PP_ACT_GELU_TANH;
    case PP_OP_SIGMOID: return PP_ACT_SIGMOID;
    case PP_OP_TANH: return PP_ACT_TANH;
    case PP_OP_SILU: return PP_ACT_SILU;
    case PP_OP_HARDSWISH: return PP_ACT_HARDSWISH;
    default: return 0;
    }
}

/* BatchNorm parameters of prefix for c channels: scale = gamma/sqrt(var+eps), shift = beta - mean*scale. */
static int bn_params(pp_ab *b, const char *prefix, int64_t c, double **scale, double **shift) {
    char k[4][300];
    const char *suf[4] = {"weight", "bias", "running_mean", "running_var"};
    const pp_ckpt_tensor *t[4];
    int ok = 1;
    for (int i = 0; i < 4; i++) {
        snprintf(k[i], sizeof k[i], "%s.%s", prefix, suf[i]);
        t[i] = pp_ab_get(b, k[i], 1, (int64_t[]){c});
        ok &= t[i] != NULL;
    }
    char nbt[300];
    snprintf(nbt, sizeof nbt, "%s.num_batches_tracked", prefix);
    const pp_ckpt_tensor *nb = pp_ckpt_find(b->c, nbt);
    if (nb) b->used[nb - b->c->tensors] = 1;
    if (!ok || c < 0 || b->rc) return 0;
    float *v[4] = {0};
    for (int i = 0; i < 4; i++) v[i] = pp_ab_f32(b, t[i]);
    *scale = pp_malloc((size_t)c * sizeof **scale);
    *shift = pp_malloc((size_t)c * sizeof **shift);
    int good = v[0] && v[1] && v[2] && v[3] && *scale && *shift;
    if (good)
        for (int64_t i = 0; i < c; i++) {
            double s = (double)v[0][i] / sqrt((double)v[3][i] + b->eps);
            (*scale)[i] = s;
            (*shift)[i] = (double)v[1][i] - (double)v[2][i] * s;
        }
    for (int i = 0; i < 4; i++) pp_free(v[i]);
    if (!good) {
        pp_free(*scale);
        pp_free(*shift);
        *scale = *shift = NULL;
        if (!b->rc) b->rc = pp_error_nomem(b->err, "out of memory");
        return 0;
    }
    return 1;
}

/* A fused activation kind as its own node (fold=0 builds). */
static int act_node(pp_ab *b, int x, int act, double alpha, double beta, const char *name) {
    static const struct {
        int act;
        pp_op op;
    } tab[] = {
        {PP_ACT_RELU, PP_OP_RELU},           {PP_ACT_CLIP, PP_OP_CLIP},
        {PP_ACT_SIGMOID, PP_OP_SIGMOID},     {PP_ACT_TANH, PP_OP_TANH},
        {PP_ACT_GELU, PP_OP_GELU},           {PP_ACT_SILU, PP_OP_SILU},
        {PP_ACT_HARDSWISH, PP_OP_HARDSWISH}, {PP_ACT_HARDSIGMOID, PP_OP_HARDSIGMOID},
    };
    if (x < 0 || !act) return x;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].act == act) {
            int nd = -1;
            int y = pp_ab_node(b, tab[i].op, name, 1, &x, &nd);
            if (y >= 0 && act == PP_ACT_CLIP) {
                pp_ab_keep(b, pp_node_set_float(b->g, nd, "min", alpha, b->err));
                pp_ab_keep(b, pp_node_set_float(b->g, nd, "max", beta, b->err));
            } else if (y >= 0 && act == PP_ACT_HARDSIGMOID) {
                pp_ab_keep(b, pp_node_set_float(b->g, nd, "alpha", alpha, b->err));
                pp_ab_keep(b, pp_node_set_float(b->g, nd, "beta", beta, b->err));
            }
            return b->rc ? -1 : y;
        }
    if (!b->rc) b->rc = pp_error_set(b->err, PP_ERR_INTERNAL, "%s: activation %d has no op", name, act);
    return -1;
}

/* Unfolded (fold=0): conv, BATCHNORM, [ADD residual], [activation] as separate nodes. */
static int conv_unfolded(pp_ab *b, int x, const pp_ab_conv *cv, int64_t *cout) {
    pp_ab_conv plain = *cv;
    char nm[320];
    plain.bn = NULL;
    plain.act = 0;
    plain.residual = -1;
    int y = pp_ab_conv_layer(b, x, &plain, cout);
    y = pp_ab_batchnorm(b, y, cv->bn, cout ? *cout : -1);
    if (cv->residual >= 0) {
        snprintf(nm, sizeof nm, "%s.add", cv->bn);
        y = pp_ab_binary(b, PP_OP_ADD, y, cv->residual, nm);
    } else if (cv->residual < -1) {
        y = -1;
    }
    snprintf(nm, sizeof nm, "%s.act", cv->bn);
    return act_node(b, y, cv->act, cv->act_alpha, cv->act_beta, nm);
}

/* The groups of a conv whose weight has cpg input channels per group (0 in
 * cv->groups: from the input's channels), checked; 0 on a problem. */
static int conv_groups(pp_ab *b, const pp_ab_conv *cv, const char *wk, const pp_ckpt_tensor *w) {
    int64_t K = w->dims[0], cpg = w->dims[1];
    int groups = cv->groups;
    if (groups <= 0) {
        if (cv->cin > 0 && cpg > 0 && cv->cin % cpg == 0) groups = (int)(cv->cin / cpg);
        else groups = 1;
    }
    if (cv->cin > 0 && cpg * groups != cv->cin) {
        char nb[160], s1[96];
        pp_ab_problem(
            b, "%s is %s: its %" PRId64 " input channels per group do not divide the %" PRId64 " channels it gets",
            pp_ckpt_printable(nb, sizeof nb, wk), pp_ab_shape_str(s1, sizeof s1, 4, w->dims), cpg, cv->cin);
        return 0;
    }
    if (K % groups) {
        pp_ab_problem(b, "%s: %" PRId64 " output channels in %d groups", wk, K, groups);
        return 0;
    }
    return groups;
}

/* The CONV node's attributes: kernel, strides, pads (-1: kernel/2), group, fused activation. */
static void conv_attrs(pp_ab *b, int nd, const pp_ab_conv *cv, int64_t kh, int64_t kw, int groups) {
    int pad = cv->pad >= 0 ? cv->pad : (int)(kh / 2);
    int padw = cv->pad >= 0 ? cv->pad : (int)(kw / 2);
    pp_ab_keep(b, pp_node_set_ints(b->g, nd, "kernel_shape", (int64_t[]){kh, kw}, 2, b->err));
    pp_ab_keep(b, pp_node_set_ints(b->g, nd, "strides", (int64_t[]){cv->stride, cv->stride}, 2, b->err));
    pp_ab_keep(b, pp_node_set_ints(b->g, nd, "pads", (int64_t[]){pad, padw, pad, padw}, 4, b->err));
    pp_ab_keep(b, pp_node_set_int(b->g, nd, "group", groups, b->err));
    if (cv->act) {
        pp_ab_keep(b, pp_node_set_int(b->g, nd, "activation", cv->act, b->err));
        if (cv->act == PP_ACT_CLIP || cv->act == PP_ACT_HARDSIGMOID) {
            pp_ab_keep(b, pp_node_set_float(b->g, nd, "act_alpha", cv->act_alpha, b->err));
            pp_ab_keep(b, pp_node_set_float(b->g, nd, "act_beta", cv->act_beta, b->err));
        }
    }
}

/* The weight and bias with BatchNorm (scale, shift; NULL: none) folded in, in
 * double: W·s, b·s + shift. wf and bf are the caller's (K and K·per floats). */
static void conv_fold(float *wf, float *bf, const float *bsrc, int64_t K, int64_t per, const double *scale,
                      const double *shift) {
    for (int64_t k = 0; k < K; k++) {
        double bb = bsrc ? bsrc[k] : 0.0;
        if (scale) {
            for (int64_t i = 0; i < per; i++) wf[k * per + i] = (float)((double)wf[k * per + i] * scale[k]);
            bb = bb * scale[k] + shift[k];
        }
        bf[k] = (float)bb;
    }
}

int pp_ab_conv_layer(pp_ab *b, int x, const pp_ab_conv *cv, int64_t *cout) {
    if (cv->bn && cv->bn[0] && !b->o->fold_bn) return conv_unfolded(b, x, cv, cout);
    char wk[320], bk[320], pre[300], fb[640];
    snprintf(pre, sizeof pre, "%s", cv->w);
    if (pp_ab_ends_with(pre, ".weight")) pre[strlen(pre) - 7] = 0;
    snprintf(wk, sizeof wk, "%s.weight", pre);
    snprintf(bk, sizeof bk, "%s.bias", pre);
    const pp_ckpt_tensor *w = pp_ab_get(b, wk, 4, (const int64_t[]){-1, -1, -1, -1});
    int64_t K = w ? w->dims[0] : -1;
    if (cout) *cout = K;
    const pp_ckpt_tensor *bias = NULL;
    if (pp_ab_has(b, bk)) bias = pp_ab_get(b, bk, 1, (int64_t[]){K});
    double *scale = NULL, *shift = NULL;
    int have_bn = 0, groups = 0;
    if (cv->bn && cv->bn[0]) have_bn = bn_params(b, cv->bn, K, &scale, &shift);
    int ok = w && x >= 0 && !b->rc && !(cv->bn && cv->bn[0] && !have_bn) && !(pp_ab_has(b, bk) && !bias) &&
             cv->residual >= -1;
    if (ok) groups = conv_groups(b, cv, wk, w);
    if (!groups) {
        pp_free(scale);
        pp_free(shift);
        return -1;
    }
    int64_t kh = w->dims[2], kw = w->dims[3];
    float *wf = pp_ab_f32(b, w), *bf = pp_calloc((size_t)K, sizeof *bf), *bsrc = bias ? pp_ab_f32(b, bias) : NULL;
    int y = -1;
    if (wf && bf && (!bias || bsrc)) {
        conv_fold(wf, bf, bsrc, K, w->dims[1] * kh * kw, have_bn ? scale : NULL, shift);
        int wid = pp_ab_weight(b, wk, 4, w->dims, wf);
        /* A folded bias is named after both sources ("layer1.0.conv1+layer1.0.bn1.bias"). */
        if (!bias && have_bn) snprintf(fb, sizeof fb, "%s+%s.bias", pre, cv->bn);
        else snprintf(fb, sizeof fb, "%s", bk);
        int bid = pp_ab_weight(b, fb, 1, &K, bf);
        int in[4] = {x, wid, bid, cv->residual};
        int nd = -1;
        y = pp_ab_node(b, PP_OP_CONV, pre, cv->residual >= 0 ? 4 : 3, in, &nd);
        if (y >= 0) conv_attrs(b, nd, cv, kh, kw, groups);
    } else if (!b->rc) {
        b->rc = pp_error_nomem(b->err, "out of memory");
    }
    pp_free(wf);
    pp_free(bf);
    pp_free(bsrc);
    pp_free(scale);
    pp_free(shift);
    return b->rc ? -1 : y;
}

int pp_ab_linear(pp_ab *b, int x, const char *prefix, int64_t cin, int act, int64_t *cout) {
    char wk[300], bk[300];
    snprintf(wk, sizeof wk, "%s.weight", prefix);
    snprintf(bk, sizeof bk, "%s.bias", prefix);
    const pp_ckpt_tensor *w = pp_ab_get(b, wk, 2, (int64_t[]){-1, cin});
    int64_t K = w ? w->dims[0] : -1;
    if (cout) *cout = K;
    const pp_ckpt_tensor *bias = pp_ab_has(b, bk) ? pp_ab_get(b, bk, 1, (int64_t[]){K}) : NULL;
    if (!w || x < 0 || b->rc || (pp_ab_has(b, bk) && !bias)) return -1;
    /* A Linear's f32 weight and bias are used as stored: pp_ab_weight() then borrows
     * them from the checkpoint instead of copying (a big MLP is not copied). */
    float *wcopy = NULL, *bcopy = NULL;
    const float *wf = w->dtype == PP_DTYPE_F32 ? (const float *)w->data : (wcopy = pp_ab_f32(b, w));
    const float *bf = bias && bias->dtype == PP_DTYPE_F32
                          ? (const float *)bias->data
                          : (bcopy = bias ? pp_ab_f32(b, bias) : pp_calloc((size_t)K ? (size_t)K : 1, 4));
    int y = -1;
    if (wf && bf) {
        int in[3] = {x, pp_ab_weight(b, wk, 2, w->dims, wf), pp_ab_weight(b, bk, 1, &K, bf)};
        int nd = -1;
        int fused = pp_ab_act_kind(act);
        y = pp_ab_node(b, PP_OP_GEMM, prefix, 3, in, &nd);
        if (y >= 0) {
            pp_ab_keep(b, pp_node_set_int(b->g, nd, "transB", 1, b->err));
            if (fused) pp_ab_keep(b, pp_node_set_int(b->g, nd, "activation", fused, b->err));
        }
        if (y >= 0 && act && !fused && act != PP_OP_IDENTITY) {
            char nm[320];
            snprintf(nm, sizeof nm, "%s.act", prefix);
            y = pp_ab_unary(b, (pp_op)act, y, nm);
        }
    } else if (!b->rc) {
        b->rc = pp_error_nomem(b->err, "out of memory");
    }
    pp_free(wcopy);
    pp_free(bcopy);
    return b->rc ? -1 : y;
}

int pp_ab_batchnorm(pp_ab *b, int x, const char *prefix, int64_t c) {
    double *scale = NULL, *shift = NULL;
    if (!bn_params(b, prefix, c, &scale, &shift) || x < 0) {
        pp_free(scale);
        pp_free(shift);
        return -1;
    }
    /* As BATCHNORM with mean 0, var 1 - eps: y = x * scale + shift exactly in the kernel's formula. */
    float *sc = pp_malloc((size_t)c * 4), *sh = pp_malloc((size_t)c * 4), *zero = pp_calloc((size_t)c, 4),
          *one = pp_malloc((size_t)c * 4);
    int y = -1;
    if (sc && sh && zero && one) {
        for (int64_t i = 0; i < c; i++) {
            sc[i] = (float)scale[i];
            sh[i] = (float)shift[i];
            one[i] = 1.0f;
        }
        char k[4][320];
        snprintf(k[0], sizeof k[0], "%s.scale", prefix);
        snprintf(k[1], sizeof k[1], "%s.shift", prefix);
        snprintf(k[2], sizeof k[2], "%s.zero_mean", prefix);
        snprintf(k[3], sizeof k[3], "%s.unit_var", prefix);
        int in[5] = {x, pp_ab_weight(b, k[0], 1, &c, sc), pp_ab_weight(b, k[1], 1, &c, sh),
                     pp_ab_weight(b, k[2], 1, &c, zero), pp_ab_weight(b, k[3], 1, &c, one)};
        int nd = -1;
        y = pp_ab_node(b, PP_OP_BATCHNORM, prefix, 5, in, &nd);
        if (y >= 0) pp_ab_keep(b, pp_node_set_float(b->g, nd, "epsilon", 0.0, b->err));
    } else if (!b->rc) {
        b->rc = pp_error_nomem(b->err, "out of memory");
    }
    pp_free(sc);
    pp_free(sh);
    pp_free(zero);
    pp_free(one);
    pp_free(scale);
    pp_free(shift);
    return b->rc ? -1 : y;
}

int pp_ab_unary(pp_ab *b, pp_op op, int x, const char *name) {
    if (x < 0) return -1;
    if (op == PP_OP_IDENTITY) return x;
    return pp_ab_node(b, op, name, 1, &x, NULL);
}

int pp_ab_binary(pp_ab *b, pp_op op, int x, int y, const char *name) {
    if (x < 0 || y < 0) return -1;
    return pp_ab_node(b, op, name, 2, (int[]){x, y}, NULL);
}

int pp_ab_pool(pp_ab *b, pp_op op, int x, int k, int stride, int pad, const char *name) {
    if (x < 0) return -1;
    int nd = -1;
    int y = pp_ab_node(b, op, name, 1, &x, &nd);
    if (y >= 0 && op != PP_OP_GLOBAL_AVGPOOL && op != PP_OP_GLOBAL_MAXPOOL) {
        pp_ab_keep(b, pp_node_set_ints(b->g, nd, "kernel_shape", (int64_t[]){k, k}, 2, b->err));
        pp_ab_keep(b, pp_node_set_ints(b->g, nd, "strides", (int64_t[]){stride, stride}, 2, b->err));
        pp_ab_keep(b, pp_node_set_ints(b->g, nd, "pads", (int64_t[]){pad, pad, pad, pad}, 4, b->err));
    }
    return b->rc ? -1 : y;
}

int pp_ab_concat(pp_ab *b, int x, int y, const char *name) {
    if (x < 0 || y < 0) return -1;
    int nd = -1;
    int z = pp_ab_node(b, PP_OP_CONCAT, name, 2, (int[]){x, y}, &nd);
    if (z >= 0) pp_ab_keep(b, pp_node_set_int(b->g, nd, "axis", 1, b->err));
    return b->rc ? -1 : z;
}

int pp_ab_classifier(pp_ab *b, int x, const char *prefix, int64_t cin, int act) {
    pp_ab_seq cl[16];
    int nc = pp_ab_seq_scan(b->c, prefix, cl, 16);
    if (nc < 1) {
        char k[128];
        snprintf(k, sizeof k, "%s0.weight", prefix);
        pp_ab_get(b, k, 2, NULL);
        return -1;
    }
    for (int i = 0; i < nc; i++) {
        char pre[128];
        snprintf(pre, sizeof pre, "%s%d", prefix, cl[i].index);
        x = pp_ab_linear(b, x, pre, cin, i + 1 < nc ? act : 0, &cin);
    }
    return x;
}

void pp_ab_input_size(const pp_ab *b, int64_t def_c, int64_t *c, int64_t *h, int64_t *w) {
    *c = b->o->in_c ? b->o->in_c : def_c;
    *h = b->o->in_h ? b->o->in_h : 224;
    *w = b->o->in_w ? b->o->in_w : 224;
}

void pp_ab_check_name(pp_ab *b, const char *desc, const char *generic) {
    size_t fl = strlen(b->family);
    if (fl && strcmp(b->family, generic) && (strncmp(desc, b->family, fl) || desc[fl] != ' '))
        pp_ab_problem(b, "the keys hold %s, not %s", desc, b->family);
}

int pp_ab_flatten(pp_ab *b, int x, const char *name) {
    if (x < 0) return -1;
    int nd = -1;
    int y = pp_ab_node(b, PP_OP_FLATTEN, name, 1, &x, &nd);
    if (y >= 0) pp_ab_keep(b, pp_node_set_int(b->g, nd, "axis", 1, b->err));
    return b->rc ? -1 : y;
}

pp_code pp_ab_finish(pp_ab *b, int input, int output, const char *what) {
    if (b->rc) return b->rc;
    /* Unused keys (BatchNorm's step counters never feed a graph). */
    char unused[1024] = "";
    int n_unused = 0, shown_unused = 0;
    for (int i = 0; i < b->c->n; i++) {
        if (b->used[i] || pp_ab_ends_with(b->c->tensors[i].name, "num_batches_tracked")) continue;
        char nb[160];
        list_add(unused, sizeof unused, &shown_unused, &n_unused, ", ",
                 pp_ckpt_printable(nb, sizeof nb, b->c->tensors[i].name));
    }
    if (b->n_missing || b->n_bad || n_unused) {
        char msg[PP_ERROR_MSG_MAX], what_s[96];
        snprintf(msg, sizeof msg, "the checkpoint does not match %s:", pp_ckpt_printable(what_s, sizeof what_s, what));
        if (b->n_missing)
            pp_ab_append(msg, sizeof msg, " missing %d key%s: %s%s;", b->n_missing, b->n_missing > 1 ? "s" : "",
                         b->missing, b->n_missing > b->shown_missing ? ", ..." : "");
        if (b->n_bad)
            pp_ab_append(msg, sizeof msg, " %d mismatch%s: %s%s;", b->n_bad, b->n_bad > 1 ? "es" : "", b->bad,
                         b->n_bad > b->shown_bad ? "; ..." : "");
        if (n_unused)
            pp_ab_append(msg, sizeof msg, " %d unexpected key%s: %s%s;", n_unused, n_unused > 1 ? "s" : "", unused,
                         n_unused > shown_unused ? ", ..." : "");
        size_t len = strlen(msg);
        if (len && msg[len - 1] == ';') msg[len - 1] = 0;
        /* Keys no layer of the family took: a custom module's state_dict says too little. */
        if (n_unused) pp_ab_append(msg, sizeof msg, " (a custom module: export .pt2 or ONNX)");
        return pp_error_set(b->err, PP_ERR_SHAPE, "%s", msg);
    }
    if (input < 0 || output < 0) return pp_error_set(b->err, PP_ERR_INTERNAL, "%s: the graph has no output", what);
    pp_code rc = pp_graph_set_io(b->g, 1, &input, 1, &output, b->err);
    if (!rc) rc = pp_graph_add_meta(b->g, "producer", "ppconvert (checkpoint)", b->err);
    if (!rc) rc = pp_graph_infer(b->g, b->err);
    return rc;
}

int pp_ab_input(pp_ab *b, const char *name, int rank, const int64_t *dims) {
    if (b->rc) return -1;
    int64_t d[PP_MAX_RANK];
    d[0] = PP_DIM_BATCH;
    for (int i = 0; i < rank; i++) d[i + 1] = dims[i];
    int id = pp_graph_add_tensor(b->g, name, PP_DTYPE_F32, PP_TENSOR_INPUT, rank + 1, d, b->err);
    if (id < 0) b->rc = b->err->code ? b->err->code : PP_ERR_NOMEM;
    return id;
}

/* ---- keys by pattern --------------------------------------------------------- */

/* The format takes up to three ints (extra ones are ignored): no format
 * attribute, so that fixed keys can pass zeros. */
const pp_ckpt_tensor *pp_ab_find4(const pp_ckpt *c, const char *fmt, int a, int b, int d) {
    char k[200];
    snprintf(k, sizeof k, fmt, a, b, d);
    const pp_ckpt_tensor *t = pp_ckpt_find(c, k);
    return t && t->rank == 4 ? t : NULL;
}

int pp_ab_hasf(const pp_ckpt *c, const char *fmt, int a, int b, int d) {
    char k[200];
    snprintf(k, sizeof k, fmt, a, b, d);
    return pp_ckpt_find(c, k) != NULL;
}

/* ---- keys in index order ---------------------------------------------------- */

static int cmp_seq(const void *a, const void *b) {
    return ((const pp_ab_seq *)a)->index - ((const pp_ab_seq *)b)->index;
}

/* The layers "PREFIX<N>.weight", sorted by N (safetensors stores names sorted as strings). */
int pp_ab_seq_scan(const pp_ckpt *c, const char *prefix, pp_ab_seq *out, int max) {
    int n = 0;
    size_t pl = strlen(prefix);
    for (int i = 0; i < c->n; i++) {
        const pp_ckpt_tensor *t = &c->tensors[i];
        if (strncmp(t->name, prefix, pl) || !pp_ab_ends_with(t->name, ".weight")) continue;
        char *end;
        long idx = strtol(t->name + pl, &end, 10);
        if (end == t->name + pl || strcmp(end, ".weight") || idx < 0 || idx > 100000) continue;
        if (n >= max) return -1;
        out[n].index = (int)idx;
        out[n].kind = t->rank == 4 ? 1 : t->rank == 2 ? 3 : 2;
        n++;
    }
    qsort(out, (size_t)n, sizeof *out, cmp_seq);
    return n;
}

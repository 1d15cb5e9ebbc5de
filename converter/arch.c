/* arch.c: the builder helpers and the family builders (arch.h): mlp, resnet
 * (and ResNeXt / Wide ResNet), vgg (and VGG-style features/classifier nets). */
#include "arch.h"

#include <inttypes.h>
#include <stdint.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/params.h"

/* ---- small things -------------------------------------------------------------- */

static const char *printable(char *buf, size_t n, const char *s) {
    size_t k = 0;
    for (; s && *s && k + 4 < n; s++) buf[k++] = ((unsigned char)*s < 0x20 || *s == 0x7F) ? '?' : *s;
    if (s && *s) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = 0;
    return buf;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static void append(char *buf, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void append(char *buf, size_t n, const char *fmt, ...) {
    size_t k = strlen(buf);
    if (k + 1 >= n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + k, n - k, fmt, ap);
    va_end(ap);
}

static const char *shape_str(char *buf, size_t n, int rank, const int64_t *d) {
    buf[0] = 0;
    append(buf, n, "(");
    for (int i = 0; i < rank; i++) {
        if (d[i] < 0) append(buf, n, "%s*", i ? "," : "");
        else append(buf, n, "%s%" PRId64, i ? "," : "", d[i]);
    }
    append(buf, n, ")");
    return buf;
}

/* ---- options ----------------------------------------------------------------------- */

static int act_op(const char *s, size_t n) {
    static const struct {
        const char *n;
        pp_op op;
    } tab[] = {
        {"relu", PP_OP_RELU},       {"gelu", PP_OP_GELU}, {"gelu_tanh", PP_OP_GELU_TANH}, {"tanh", PP_OP_TANH},
        {"sigmoid", PP_OP_SIGMOID}, {"silu", PP_OP_SILU}, {"hardswish", PP_OP_HARDSWISH}, {"none", PP_OP_IDENTITY},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strlen(tab[i].n) == n && !strncmp(s, tab[i].n, n)) return tab[i].op;
    return 0;
}

/* "a/b/c" into up to PP_ARCH_MAX_LIST items. */
static int split_list(const char *v, size_t vlen, char items[][24], int *n) {
    *n = 0;
    size_t i = 0;
    while (i <= vlen) {
        size_t j = i;
        while (j < vlen && v[j] != '/') j++;
        if (*n >= PP_ARCH_MAX_LIST || j - i == 0 || j - i >= 24) return -1;
        memcpy(items[*n], v + i, j - i);
        items[*n][j - i] = 0;
        (*n)++;
        i = j + 1;
    }
    return 0;
}

pp_code pp_arch_parse(const char *arch, char *family, size_t n, pp_arch_opts *o, pp_error *err) {
    memset(o, 0, sizeof *o);
    o->eps = 1e-5;
    o->fold_bn = 1;
    if (!arch) arch = "";
    const char *colon = strchr(arch, ':');
    size_t flen = colon ? (size_t)(colon - arch) : strlen(arch);
    if (flen >= n) return pp_error_set(err, PP_ERR_INVALID_ARG, "architecture name too long");
    memcpy(family, arch, flen);
    family[flen] = 0;
    const char *p = colon ? colon + 1 : NULL;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq)
            return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option '%.*s' is not KEY=VALUE",
                                (int)(len < 60 ? len : 60), p);
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        const char *v = eq + 1;
        char val[128], items[PP_ARCH_MAX_LIST][24];
        int ni = 0;
        if (vlen >= sizeof val) return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option value too long");
        memcpy(val, v, vlen);
        val[vlen] = 0;
        char *e1;
        if (klen == 5 && !strncmp(p, "input", 5)) {
            long long h = strtoll(val, &e1, 10), w = h;
            if (*e1 == 'x') w = strtoll(e1 + 1, &e1, 10);
            if (*e1 || h < 1 || w < 1 || h > 65536 || w > 65536)
                return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option input='%s': want H or HxW", val);
            o->in_h = h;
            o->in_w = w;
        } else if (klen == 8 && !strncmp(p, "channels", 8)) {
            long long c = strtoll(val, &e1, 10);
            if (*e1 || c < 1 || c > 65536)
                return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option channels='%s'", val);
            o->in_c = c;
        } else if (klen == 3 && !strncmp(p, "eps", 3)) {
            double e = strtod(val, &e1);
            if (*e1 || !(e > 0) || e > 1) return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option eps='%s'", val);
            o->eps = e;
            o->eps_set = 1;
        } else if (klen == 4 && !strncmp(p, "fold", 4)) {
            o->fold_bn = strcmp(val, "0") != 0;
        } else if (klen == 3 && !strncmp(p, "act", 3)) {
            if (split_list(val, vlen, items, &ni))
                return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option act='%s'", val);
            for (int i = 0; i < ni; i++)
                if (!(o->acts[i] = act_op(items[i], strlen(items[i]))))
                    return pp_error_set(
                        err, PP_ERR_INVALID_ARG,
                        "arch option act: unknown activation '%s' (relu, gelu, gelu_tanh, tanh, sigmoid, silu, "
                        "hardswish, none)",
                        items[i]);
            o->n_acts = ni;
        } else if (klen == 7 && !strncmp(p, "strides", 7)) {
            if (split_list(val, vlen, items, &ni))
                return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option strides='%s'", val);
            for (int i = 0; i < ni; i++) {
                long s = strtol(items[i], &e1, 10);
                if (*e1 || s < 1 || s > 16)
                    return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option strides='%s'", val);
                o->strides[i] = (int)s;
            }
            o->n_strides = ni;
        } else {
            return pp_error_set(err, PP_ERR_INVALID_ARG,
                                "unknown arch option '%.*s' (input, channels, eps, fold, act, strides)", (int)klen, p);
        }
        p = end ? end + 1 : NULL;
    }
    return PP_OK;
}

/* ---- builder helpers --------------------------------------------------------- */

/* Lists in the final message are cut at LIST_CHARS each (then "+N more"), so
 * missing, mis-shaped and unexpected keys all show in one 512-byte message. */
#define LIST_CHARS 150

static void list_add(char *buf, size_t n, int *shown, int *count, const char *sep, const char *item) {
    if (strlen(buf) + strlen(item) + 2 < LIST_CHARS && strlen(buf) + strlen(item) + 2 < n) {
        append(buf, n, "%s%s", *shown ? sep : "", item);
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
        list_add(b->missing, sizeof b->missing, &b->shown_missing, &b->n_missing, ", ", printable(nb, sizeof nb, key));
        return NULL;
    }
    b->used[t - b->c->tensors] = 1;
    int ok = t->rank == rank;
    for (int d = 0; ok && d < rank; d++)
        if (want && want[d] >= 0 && t->dims[d] != want[d]) ok = 0;
    if (!ok) {
        pp_ab_problem(
            b, "%s is %s, expected %s", printable(nb, sizeof nb, key), shape_str(s1, sizeof s1, t->rank, t->dims),
            shape_str(s2, sizeof s2, rank, want ? want : (const int64_t[PP_MAX_RANK]){-1, -1, -1, -1, -1, -1, -1, -1}));
        return NULL;
    }
    if (t->dtype != PP_DTYPE_F32 && t->dtype != PP_DTYPE_F16 && t->dtype != PP_DTYPE_BF16 && t->dtype != PP_DTYPE_F64) {
        pp_ab_problem(b, "%s has dtype %s, expected a floating type", printable(nb, sizeof nb, key),
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

static int weight(pp_ab *b, const char *name, int rank, const int64_t *dims, const float *data) {
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
static int node(pp_ab *b, pp_op op, const char *name, int n_in, const int *in, int *node_id) {
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

static void keep(pp_ab *b, pp_code rc) {
    if (rc && !b->rc) b->rc = rc;
}

static int act_kind(int op) {
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
            int y = node(b, tab[i].op, name, 1, &x, &nd);
            if (y >= 0 && act == PP_ACT_CLIP) {
                keep(b, pp_node_set_float(b->g, nd, "min", alpha, b->err));
                keep(b, pp_node_set_float(b->g, nd, "max", beta, b->err));
            } else if (y >= 0 && act == PP_ACT_HARDSIGMOID) {
                keep(b, pp_node_set_float(b->g, nd, "alpha", alpha, b->err));
                keep(b, pp_node_set_float(b->g, nd, "beta", beta, b->err));
            }
            return b->rc ? -1 : y;
        }
    if (!b->rc) b->rc = pp_error_set(b->err, PP_ERR_INTERNAL, "%s: activation %d has no op", name, act);
    return -1;
}

int pp_ab_conv_layer(pp_ab *b, int x, const pp_ab_conv *cv, int64_t *cout) {
    if (cv->bn && cv->bn[0] && !b->o->fold_bn) {
        /* Unfolded: conv, BATCHNORM, [ADD residual], [activation] as separate nodes. */
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
    char wk[320], bk[320], pre[300], fb[640];
    snprintf(pre, sizeof pre, "%s", cv->w);
    if (ends_with(pre, ".weight")) pre[strlen(pre) - 7] = 0;
    snprintf(wk, sizeof wk, "%s.weight", pre);
    snprintf(bk, sizeof bk, "%s.bias", pre);
    const pp_ckpt_tensor *w = pp_ab_get(b, wk, 4, (const int64_t[]){-1, -1, -1, -1});
    int64_t K = w ? w->dims[0] : -1;
    if (cout) *cout = K;
    const pp_ckpt_tensor *bias = NULL;
    if (pp_ab_has(b, bk)) bias = pp_ab_get(b, bk, 1, (int64_t[]){K});
    double *scale = NULL, *shift = NULL;
    int have_bn = 0;
    if (cv->bn && cv->bn[0]) have_bn = bn_params(b, cv->bn, K, &scale, &shift);
    if (!w || x < 0 || b->rc || (cv->bn && cv->bn[0] && !have_bn) || (pp_ab_has(b, bk) && !bias) ||
        (cv->residual < -1)) {
        pp_free(scale);
        pp_free(shift);
        return -1;
    }
    int64_t cpg = w->dims[1], kh = w->dims[2], kw = w->dims[3];
    int groups = cv->groups;
    if (groups <= 0) {
        if (cv->cin > 0 && cpg > 0 && cv->cin % cpg == 0) groups = (int)(cv->cin / cpg);
        else groups = 1;
    }
    if (cv->cin > 0 && cpg * groups != cv->cin) {
        char nb[160], s1[96];
        pp_ab_problem(
            b, "%s is %s: its %" PRId64 " input channels per group do not divide the %" PRId64 " channels it gets",
            printable(nb, sizeof nb, wk), shape_str(s1, sizeof s1, 4, w->dims), cpg, cv->cin);
        pp_free(scale);
        pp_free(shift);
        return -1;
    }
    if (K % groups) {
        pp_ab_problem(b, "%s: %" PRId64 " output channels in %d groups", wk, K, groups);
        pp_free(scale);
        pp_free(shift);
        return -1;
    }
    float *wf = pp_ab_f32(b, w), *bf = pp_calloc((size_t)K, sizeof *bf), *bsrc = bias ? pp_ab_f32(b, bias) : NULL;
    int y = -1;
    if (wf && bf && (!bias || bsrc)) {
        int64_t per = cpg * kh * kw;
        for (int64_t k = 0; k < K; k++) {
            double bb = bsrc ? bsrc[k] : 0.0;
            if (have_bn) {
                for (int64_t i = 0; i < per; i++) wf[k * per + i] = (float)((double)wf[k * per + i] * scale[k]);
                bb = bb * scale[k] + shift[k];
            }
            bf[k] = (float)bb;
        }
        int wid = weight(b, wk, 4, w->dims, wf);
        /* A folded bias is named after both sources ("layer1.0.conv1+layer1.0.bn1.bias"). */
        if (!bias && have_bn) snprintf(fb, sizeof fb, "%s+%s.bias", pre, cv->bn);
        else snprintf(fb, sizeof fb, "%s", bk);
        int bid = weight(b, fb, 1, &K, bf);
        int in[4] = {x, wid, bid, cv->residual};
        int nd = -1;
        y = node(b, PP_OP_CONV, pre, cv->residual >= 0 ? 4 : 3, in, &nd);
        if (y >= 0) {
            int pad = cv->pad >= 0 ? cv->pad : (int)(kh / 2);
            int padw = cv->pad >= 0 ? cv->pad : (int)(kw / 2);
            keep(b, pp_node_set_ints(b->g, nd, "kernel_shape", (int64_t[]){kh, kw}, 2, b->err));
            keep(b, pp_node_set_ints(b->g, nd, "strides", (int64_t[]){cv->stride, cv->stride}, 2, b->err));
            keep(b, pp_node_set_ints(b->g, nd, "pads", (int64_t[]){pad, padw, pad, padw}, 4, b->err));
            keep(b, pp_node_set_int(b->g, nd, "group", groups, b->err));
            if (cv->act) {
                keep(b, pp_node_set_int(b->g, nd, "activation", cv->act, b->err));
                if (cv->act == PP_ACT_CLIP || cv->act == PP_ACT_HARDSIGMOID) {
                    keep(b, pp_node_set_float(b->g, nd, "act_alpha", cv->act_alpha, b->err));
                    keep(b, pp_node_set_float(b->g, nd, "act_beta", cv->act_beta, b->err));
                }
            }
        }
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
    /* A Linear's f32 weight and bias are used as stored: weight() then borrows
     * them from the checkpoint instead of copying (a big MLP is not copied). */
    float *wcopy = NULL, *bcopy = NULL;
    const float *wf = w->dtype == PP_DTYPE_F32 ? (const float *)w->data : (wcopy = pp_ab_f32(b, w));
    const float *bf = bias && bias->dtype == PP_DTYPE_F32
                          ? (const float *)bias->data
                          : (bcopy = bias ? pp_ab_f32(b, bias) : pp_calloc((size_t)K ? (size_t)K : 1, 4));
    int y = -1;
    if (wf && bf) {
        int in[3] = {x, weight(b, wk, 2, w->dims, wf), weight(b, bk, 1, &K, bf)};
        int nd = -1;
        int fused = act_kind(act);
        y = node(b, PP_OP_GEMM, prefix, 3, in, &nd);
        if (y >= 0) {
            keep(b, pp_node_set_int(b->g, nd, "transB", 1, b->err));
            if (fused) keep(b, pp_node_set_int(b->g, nd, "activation", fused, b->err));
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
        int in[5] = {x, weight(b, k[0], 1, &c, sc), weight(b, k[1], 1, &c, sh), weight(b, k[2], 1, &c, zero),
                     weight(b, k[3], 1, &c, one)};
        int nd = -1;
        y = node(b, PP_OP_BATCHNORM, prefix, 5, in, &nd);
        if (y >= 0) keep(b, pp_node_set_float(b->g, nd, "epsilon", 0.0, b->err));
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
    return node(b, op, name, 1, &x, NULL);
}

int pp_ab_binary(pp_ab *b, pp_op op, int x, int y, const char *name) {
    if (x < 0 || y < 0) return -1;
    return node(b, op, name, 2, (int[]){x, y}, NULL);
}

int pp_ab_pool(pp_ab *b, pp_op op, int x, int k, int stride, int pad, const char *name) {
    if (x < 0) return -1;
    int nd = -1;
    int y = node(b, op, name, 1, &x, &nd);
    if (y >= 0 && op != PP_OP_GLOBAL_AVGPOOL && op != PP_OP_GLOBAL_MAXPOOL) {
        keep(b, pp_node_set_ints(b->g, nd, "kernel_shape", (int64_t[]){k, k}, 2, b->err));
        keep(b, pp_node_set_ints(b->g, nd, "strides", (int64_t[]){stride, stride}, 2, b->err));
        keep(b, pp_node_set_ints(b->g, nd, "pads", (int64_t[]){pad, pad, pad, pad}, 4, b->err));
    }
    return b->rc ? -1 : y;
}

int pp_ab_concat(pp_ab *b, int x, int y, const char *name) {
    if (x < 0 || y < 0) return -1;
    int nd = -1;
    int z = node(b, PP_OP_CONCAT, name, 2, (int[]){x, y}, &nd);
    if (z >= 0) keep(b, pp_node_set_int(b->g, nd, "axis", 1, b->err));
    return b->rc ? -1 : z;
}

static int cmp_seq(const void *a, const void *b);
typedef struct seq_layer {
    int index;
    int kind; /* 1 conv, 2 bn, 3 linear */
} seq_layer;
static int seq_scan(const pp_ckpt *c, const char *prefix, seq_layer *out, int max);

int pp_ab_classifier(pp_ab *b, int x, const char *prefix, int64_t cin, int act) {
    seq_layer cl[16];
    int nc = seq_scan(b->c, prefix, cl, 16);
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
    int y = node(b, PP_OP_FLATTEN, name, 1, &x, &nd);
    if (y >= 0) keep(b, pp_node_set_int(b->g, nd, "axis", 1, b->err));
    return b->rc ? -1 : y;
}

pp_code pp_ab_finish(pp_ab *b, int input, int output, const char *what) {
    if (b->rc) return b->rc;
    /* Unused keys (BatchNorm's step counters never feed a graph). */
    char unused[1024] = "";
    int n_unused = 0, shown_unused = 0;
    for (int i = 0; i < b->c->n; i++) {
        if (b->used[i] || ends_with(b->c->tensors[i].name, "num_batches_tracked")) continue;
        char nb[160];
        list_add(unused, sizeof unused, &shown_unused, &n_unused, ", ",
                 printable(nb, sizeof nb, b->c->tensors[i].name));
    }
    if (b->n_missing || b->n_bad || n_unused) {
        char msg[PP_ERROR_MSG_MAX], what_s[96];
        snprintf(msg, sizeof msg, "the checkpoint does not match %s:", printable(what_s, sizeof what_s, what));
        if (b->n_missing)
            append(msg, sizeof msg, " missing %d key%s: %s%s;", b->n_missing, b->n_missing > 1 ? "s" : "", b->missing,
                   b->n_missing > b->shown_missing ? ", ..." : "");
        if (b->n_bad)
            append(msg, sizeof msg, " %d mismatch%s: %s%s;", b->n_bad, b->n_bad > 1 ? "es" : "", b->bad,
                   b->n_bad > b->shown_bad ? "; ..." : "");
        if (n_unused)
            append(msg, sizeof msg, " %d unexpected key%s: %s%s;", n_unused, n_unused > 1 ? "s" : "", unused,
                   n_unused > shown_unused ? ", ..." : "");
        size_t len = strlen(msg);
        if (len && msg[len - 1] == ';') msg[len - 1] = 0;
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

/* ---- MLP ------------------------------------------------------------------------- */

/* Names compared with digit runs as numbers: "layers.2" < "layers.10". */
static int natural_cmp(const char *a, const char *b) {
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            while (*a == '0') a++;
            while (*b == '0') b++;
            size_t la = 0, lb = 0;
            while (a[la] >= '0' && a[la] <= '9') la++;
            while (b[lb] >= '0' && b[lb] <= '9') lb++;
            if (la != lb) return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c) return c;
            a += la;
            b += lb;
        } else {
            if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}

/* Linear layers: the "P.weight" keys of rank 2, in file order for torch
 * archives (the module order); in natural name order for safetensors, whose
 * writer sorts names as strings. */
static int mlp_layers(const pp_ckpt *c, int *idx, int max) {
    int n = 0;
    for (int i = 0; i < c->n; i++) {
        const pp_ckpt_tensor *t = &c->tensors[i];
        if (ends_with(t->name, ".weight") && t->rank == 2) {
            if (n >= max) return -1;
            idx[n++] = i;
        }
    }
    if (!strncmp(c->format, "safetensors", 11))
        for (int i = 1; i < n; i++) /* insertion sort: n <= 256 */
            for (int j = i; j > 0 && natural_cmp(c->tensors[idx[j - 1]].name, c->tensors[idx[j]].name) > 0; j--) {
                int t = idx[j];
                idx[j] = idx[j - 1];
                idx[j - 1] = t;
            }
    return n;
}

static int is_mlp(const pp_ckpt *c, int *n_layers) {
    int idx[256];
    int n = mlp_layers(c, idx, 256);
    if (n < 1) return 0;
    for (int i = 0; i < c->n; i++) {
        const pp_ckpt_tensor *t = &c->tensors[i];
        if (ends_with(t->name, ".weight") ? t->rank != 2 : !(ends_with(t->name, ".bias") && t->rank == 1)) return 0;
    }
    for (int i = 1; i < n; i++)
        if (c->tensors[idx[i]].dims[1] != c->tensors[idx[i - 1]].dims[0]) return 0;
    *n_layers = n;
    return 1;
}

static int build_mlp(pp_ab *b, int *input, char *desc, size_t dn) {
    int idx[256];
    int n = mlp_layers(b->c, idx, 256);
    if (n < 1) {
        pp_ab_problem(b, "no linear layers (keys NAME.weight of rank 2)");
        return -1;
    }
    int64_t cin = b->c->tensors[idx[0]].dims[1];
    *input = pp_ab_input(b, "input", 1, &cin);
    int x = *input;
    snprintf(desc, dn, "mlp (%d linear layers: %" PRId64, n, cin);
    for (int i = 0; i < n; i++) {
        char prefix[300];
        snprintf(prefix, sizeof prefix, "%s", b->c->tensors[idx[i]].name);
        prefix[strlen(prefix) - 7] = 0;
        int act = 0;
        if (i + 1 < n) act = b->o->n_acts ? b->o->acts[i < b->o->n_acts ? i : b->o->n_acts - 1] : PP_OP_RELU;
        int64_t cout;
        x = pp_ab_linear(b, x, prefix, cin, act, &cout);
        append(desc, dn, " -> %" PRId64, cout);
        cin = cout;
    }
    append(desc, dn, ")");
    return x;
}

/* ---- ResNet ---------------------------------------------------------------------- */

typedef struct resnet_info {
    int n_layers;
    int blocks[8];
    int nested[8];  /* 1: "layerX.Y.", 0: "layerX." is the block itself */
    int bottleneck; /* of layer1's first block */
    int mixed;      /* 1: some blocks are basic, some bottleneck */
    int groups;     /* of layer1's first 3x3 conv */
    int64_t width;  /* layer1 block 0 conv1 output channels */
} resnet_info;

static void block_prefix(const resnet_info *r, int l, int k, char *out, size_t n) {
    if (r->nested[l]) snprintf(out, n, "layer%d.%d", l + 1, k);
    else snprintf(out, n, "layer%d", l + 1);
}

static int resnet_scan(const pp_ckpt *c, resnet_info *r) {
    memset(r, 0, sizeof *r);
    if (!pp_ckpt_find(c, "conv1.weight") || !pp_ckpt_find(c, "fc.weight")) return 0;
    char key[96];
    for (int l = 0; l < 8; l++) {
        snprintf(key, sizeof key, "layer%d.0.conv1.weight", l + 1);
        if (pp_ckpt_find(c, key)) {
            r->nested[l] = 1;
            int k = 0;
            do snprintf(key, sizeof key, "layer%d.%d.conv1.weight", l + 1, ++k);
            while (k < 1000 && pp_ckpt_find(c, key));
            r->blocks[l] = k;
        } else {
            snprintf(key, sizeof key, "layer%d.conv1.weight", l + 1);
            if (!pp_ckpt_find(c, key)) break;
            r->blocks[l] = 1;
        }
        r->n_layers = l + 1;
    }
    if (!r->n_layers) return 0;
    char pre[64];
    block_prefix(r, 0, 0, pre, sizeof pre);
    snprintf(key, sizeof key, "%s.conv3.weight", pre);
    r->bottleneck = pp_ckpt_find(c, key) != NULL;
    /* Mixed stacks (custom nets) are built block by block; note them. */
    for (int l = 0; l < r->n_layers; l++)
        for (int k = 0; k < r->blocks[l]; k++) {
            char p2[64];
            block_prefix(r, l, k, p2, sizeof p2);
            snprintf(key, sizeof key, "%s.conv3.weight", p2);
            if ((pp_ckpt_find(c, key) != NULL) != r->bottleneck) r->mixed = 1;
        }
    snprintf(key, sizeof key, "%s.conv1.weight", pre);
    const pp_ckpt_tensor *c1 = pp_ckpt_find(c, key);
    snprintf(key, sizeof key, "%s.conv2.weight", pre);
    const pp_ckpt_tensor *c2 = pp_ckpt_find(c, key);
    r->width = c1 && c1->rank == 4 ? c1->dims[0] : 0;
    r->groups = 1;
    if (c2 && c2->rank == 4 && c2->dims[1] > 0 && r->width % c2->dims[1] == 0)
        r->groups = (int)(r->width / c2->dims[1]);
    return 1;
}

static void resnet_name(const resnet_info *r, char *out, size_t n) {
    static const struct {
        int b[4];
        int bottleneck;
        const char *name;
    } tab[] = {
        {{2, 2, 2, 2}, 0, "resnet18"},   {{3, 4, 6, 3}, 0, "resnet34"},   {{3, 4, 6, 3}, 1, "resnet50"},
        {{3, 4, 23, 3}, 1, "resnet101"}, {{3, 8, 36, 3}, 1, "resnet152"},
    };
    const char *base = NULL;
    if (r->n_layers == 4 && r->nested[0])
        for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
            if (!memcmp(tab[i].b, r->blocks, sizeof tab[i].b) && tab[i].bottleneck == r->bottleneck) base = tab[i].name;
    char blocks[64] = "";
    for (int l = 0; l < r->n_layers; l++) append(blocks, sizeof blocks, "%s%d", l ? "," : "", r->blocks[l]);
    const char *kind = r->mixed ? "basic+bottleneck" : r->bottleneck ? "bottleneck" : "basic";
    if (r->mixed) base = NULL;
    if (base && r->bottleneck && r->groups > 1)
        snprintf(out, n, "resnext%s_%dx%" PRId64 "d (bottleneck %s; groups %d; width %" PRId64 ")", base + 6, r->groups,
                 r->width / r->groups, blocks, r->groups, r->width);
    else if (base && r->bottleneck && r->width == 128)
        snprintf(out, n, "wide_%s_2 (bottleneck %s; width %" PRId64 ")", base, blocks, r->width);
    else if (base)
        snprintf(out, n, "%s (%s %s; groups %d; width %" PRId64 ")", base, kind, blocks, r->groups, r->width);
    else
        snprintf(out, n, "resnet (custom: %s blocks %s; groups %d; width %" PRId64 ")", kind, blocks, r->groups,
                 r->width);
}

static int build_resnet(pp_ab *b, int *input, char *desc, size_t dn) {
    resnet_info r;
    if (!resnet_scan(b->c, &r)) {
        pp_ab_get(b, "conv1.weight", 4, NULL);
        pp_ab_get(b, "fc.weight", 2, NULL);
        pp_ab_get(b, "layer1.0.conv1.weight", 4, NULL);
        return -1;
    }
    resnet_name(&r, desc, dn);
    size_t fl = strlen(b->family);
    if (fl && strcmp(b->family, "resnet") && (strncmp(desc, b->family, fl) || desc[fl] != ' '))
        pp_ab_problem(b, "the keys hold %s, not %s", desc, b->family);
    const pp_ckpt_tensor *c1 = pp_ckpt_find(b->c, "conv1.weight");
    int64_t cin = b->o->in_c ? b->o->in_c : (c1 && c1->rank == 4 ? c1->dims[1] : 3);
    int64_t h = b->o->in_h ? b->o->in_h : 224, w = b->o->in_w ? b->o->in_w : 224;
    *input = pp_ab_input(b, "input", 3, (int64_t[]){cin, h, w});
    int64_t ch;
    pp_ab_conv cv = {
        .w = "conv1", .bn = "bn1", .cin = cin, .stride = 2, .pad = -1, .groups = 1, .act = PP_ACT_RELU, .residual = -1};
    int x = pp_ab_conv_layer(b, *input, &cv, &ch);
    x = pp_ab_pool(b, PP_OP_MAXPOOL, x, 3, 2, 1, "maxpool");
    for (int l = 0; l < r.n_layers; l++) {
        for (int k = 0; k < r.blocks[l]; k++) {
            char pre[64], k1[96], k2[96], k3[96], bn1[96], bn2[96], bn3[96], ds[96], dsbn[96], dsk[128];
            block_prefix(&r, l, k, pre, sizeof pre);
            int stride = 1;
            if (k == 0) stride = l < b->o->n_strides ? b->o->strides[l] : (l == 0 ? 1 : 2);
            snprintf(k1, sizeof k1, "%s.conv1", pre);
            snprintf(k2, sizeof k2, "%s.conv2", pre);
            snprintf(k3, sizeof k3, "%s.conv3", pre);
            snprintf(bn1, sizeof bn1, "%s.bn1", pre);
            snprintf(bn2, sizeof bn2, "%s.bn2", pre);
            snprintf(bn3, sizeof bn3, "%s.bn3", pre);
            snprintf(ds, sizeof ds, "%s.downsample.0", pre);
            snprintf(dsbn, sizeof dsbn, "%s.downsample.1", pre);
            snprintf(dsk, sizeof dsk, "%s.weight", ds);
            int identity = x;
            int64_t c_out = -1, mid;
            if (pp_ab_has(b, dsk)) {
                pp_ab_conv d = {
                    .w = ds, .bn = dsbn, .cin = ch, .stride = stride, .pad = 0, .groups = 1, .residual = -1};
                identity = pp_ab_conv_layer(b, x, &d, &c_out);
            }
            int y;
            char c3w[128];
            snprintf(c3w, sizeof c3w, "%s.weight", k3);
            if (pp_ab_has(b, c3w)) {
                pp_ab_conv a1 = {.w = k1,
                                 .bn = bn1,
                                 .cin = ch,
                                 .stride = 1,
                                 .pad = 0,
                                 .groups = 1,
                                 .act = PP_ACT_RELU,
                                 .residual = -1};
                y = pp_ab_conv_layer(b, x, &a1, &mid);
                pp_ab_conv a2 = {.w = k2,
                                 .bn = bn2,
                                 .cin = mid,
                                 .stride = stride,
                                 .pad = -1,
                                 .groups = 0,
                                 .act = PP_ACT_RELU,
                                 .residual = -1};
                y = pp_ab_conv_layer(b, y, &a2, &mid);
                pp_ab_conv a3 = {.w = k3,
                                 .bn = bn3,
                                 .cin = mid,
                                 .stride = 1,
                                 .pad = 0,
                                 .groups = 1,
                                 .act = PP_ACT_RELU,
                                 .residual = identity};
                if (identity < 0) a3.residual = -2; /* keeps looking keys up, builds nothing */
                y = pp_ab_conv_layer(b, y, &a3, &mid);
            } else {
                pp_ab_conv a1 = {.w = k1,
                                 .bn = bn1,
                                 .cin = ch,
                                 .stride = stride,
                                 .pad = -1,
                                 .groups = 1,
                                 .act = PP_ACT_RELU,
                                 .residual = -1};
                y = pp_ab_conv_layer(b, x, &a1, &mid);
                pp_ab_conv a2 = {.w = k2,
                                 .bn = bn2,
                                 .cin = mid,
                                 .stride = 1,
                                 .pad = -1,
                                 .groups = 1,
                                 .act = PP_ACT_RELU,
                                 .residual = identity};
                if (identity < 0) a2.residual = -2;
                y = pp_ab_conv_layer(b, y, &a2, &mid);
            }
            if (c_out < 0 && identity == x && mid >= 0 && ch >= 0 && mid != ch)
                pp_ab_problem(b, "%s changes %" PRId64 " channels to %" PRId64 " without a downsample", pre, ch, mid);
            x = y;
            ch = mid;
        }
    }
    x = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, "avgpool");
    x = pp_ab_flatten(b, x, "flatten");
    return pp_ab_linear(b, x, "fc", ch, 0, NULL);
}

/* ---- VGG-style: features.N (conv [bn] relu [maxpool]) + classifier.N (linear relu) ---- */

static int cmp_seq(const void *a, const void *b) {
    return ((const seq_layer *)a)->index - ((const seq_layer *)b)->index;
}

/* The layers "PREFIX<N>.weight", sorted by N (safetensors stores names sorted as strings). */
static int seq_scan(const pp_ckpt *c, const char *prefix, seq_layer *out, int max) {
    int n = 0;
    size_t pl = strlen(prefix);
    for (int i = 0; i < c->n; i++) {
        const pp_ckpt_tensor *t = &c->tensors[i];
        if (strncmp(t->name, prefix, pl) || !ends_with(t->name, ".weight")) continue;
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

static int is_vgg(const pp_ckpt *c, int *n_conv, int *bn) {
    seq_layer f[128], cl[16];
    int nf = seq_scan(c, "features.", f, 128), nc = seq_scan(c, "classifier.", cl, 16);
    if (nf < 1 || nc < 1 || f[0].kind != 1) return 0;
    *n_conv = 0;
    *bn = 0;
    for (int i = 0; i < nf; i++) {
        if (f[i].kind == 1) (*n_conv)++;
        else if (f[i].kind == 2) *bn = 1;
        else return 0;
    }
    for (int i = 0; i < nc; i++)
        if (cl[i].kind != 3) return 0;
    for (int i = 0; i < c->n; i++)
        if (strncmp(c->tensors[i].name, "features.", 9) && strncmp(c->tensors[i].name, "classifier.", 11)) return 0;
    return 1;
}

static void vgg_name(int n_conv, int bn, char *out, size_t n) {
    int depth = n_conv == 8 ? 11 : n_conv == 10 ? 13 : n_conv == 13 ? 16 : n_conv == 16 ? 19 : 0;
    if (depth) snprintf(out, n, "vgg%d%s (%d conv layers%s)", depth, bn ? "_bn" : "", n_conv, bn ? ", batch norm" : "");
    else snprintf(out, n, "vgg (custom: %d conv layers%s)", n_conv, bn ? ", batch norm" : "");
}

static int build_vgg(pp_ab *b, int *input, char *desc, size_t dn) {
    seq_layer f[128], cl[16];
    int nf = seq_scan(b->c, "features.", f, 128), nc = seq_scan(b->c, "classifier.", cl, 16);
    int n_conv = 0, bn = 0;
    if (nf < 1 || nc < 1 || f[0].kind != 1) {
        pp_ab_get(b, "features.0.weight", 4, NULL);
        pp_ab_get(b, "classifier.0.weight", 2, NULL);
        return -1;
    }
    for (int i = 0; i < nf; i++) n_conv += f[i].kind == 1, bn |= f[i].kind == 2;
    vgg_name(n_conv, bn, desc, dn);
    size_t fl = strlen(b->family);
    if (fl && strcmp(b->family, "vgg") && (strncmp(desc, b->family, fl) || desc[fl] != ' '))
        pp_ab_problem(b, "the keys hold %s, not %s", desc, b->family);
    const pp_ckpt_tensor *w0 = pp_ckpt_find(b->c, "features.0.weight");
    int64_t ch = b->o->in_c ? b->o->in_c : (w0 && w0->rank == 4 ? w0->dims[1] : 3);
    int64_t h = b->o->in_h ? b->o->in_h : 224, w = b->o->in_w ? b->o->in_w : 224;
    *input = pp_ab_input(b, "input", 3, (int64_t[]){ch, h, w});
    int x = *input;
    for (int i = 0; i < nf; i++) {
        if (f[i].kind != 1) {
            pp_ab_problem(b, "features.%d is not preceded by a convolution", f[i].index);
            return -1;
        }
        int has_bn = i + 1 < nf && f[i + 1].kind == 2 && f[i + 1].index == f[i].index + 1;
        char wk[64], bnk[64], nm[64];
        snprintf(wk, sizeof wk, "features.%d", f[i].index);
        snprintf(bnk, sizeof bnk, "features.%d", f[i].index + 1);
        pp_ab_conv cv = {.w = wk,
                         .bn = has_bn ? bnk : NULL,
                         .cin = ch,
                         .stride = 1,
                         .pad = -1,
                         .groups = 1,
                         .act = PP_ACT_RELU,
                         .residual = -1};
        int64_t k = 3;
        snprintf(nm, sizeof nm, "features.%d.weight", f[i].index);
        const pp_ckpt_tensor *ct = pp_ckpt_find(b->c, nm);
        if (ct && ct->rank == 4) k = ct->dims[2];
        x = pp_ab_conv_layer(b, x, &cv, &ch);
        h = h + 2 * (k / 2) - k + 1;
        w = w + 2 * (k / 2) - k + 1;
        int last = f[i].index + (has_bn ? 2 : 1); /* the ReLU */
        if (has_bn) i++;
        int next = i + 1 < nf ? f[i + 1].index : -1;
        int pool = next < 0 || next == last + 2;
        if (next >= 0 && next != last + 1 && next != last + 2) {
            pp_ab_problem(b, "cannot tell the layers between features.%d and features.%d", last, next);
            return -1;
        }
        if (pool) {
            snprintf(nm, sizeof nm, "features.%d", last + 1);
            x = pp_ab_pool(b, PP_OP_MAXPOOL, x, 2, 2, 0, nm);
            h /= 2;
            w /= 2;
        }
    }
    /* The first linear layer's width says how the feature map was pooled (adaptive average pool). */
    char ck[64];
    snprintf(ck, sizeof ck, "classifier.%d.weight", cl[0].index);
    const pp_ckpt_tensor *l0 = pp_ckpt_find(b->c, ck);
    if (ch > INT32_MAX || h < 1 || w < 1) { /* h, w <= 65536: ch·h·w stays far below 2^63 */
        pp_ab_problem(b,
                      "the feature map (%" PRId64 ", %" PRId64 ", %" PRId64
                      ") is empty or too large: give the input size "
                      "(input=H)",
                      ch, h, w);
        return -1;
    }
    if (l0 && l0->rank == 2 && ch > 0 && x >= 0 && l0->dims[1] != ch * h * w) {
        int64_t s = (int64_t)llround(sqrt((double)l0->dims[1] / (double)ch));
        if (s < 1 || ch * s * s != l0->dims[1] || h % s || w % s || h / s != w / s) {
            pp_ab_problem(b,
                          "%s takes %" PRId64 " features but the feature map is (%" PRId64 ", %" PRId64 ", %" PRId64
                          "): give the input size (input=H)",
                          ck, l0->dims[1], ch, h, w);
            return -1;
        }
        x = pp_ab_pool(b, PP_OP_AVGPOOL, x, (int)(h / s), (int)(h / s), 0, "avgpool");
        h = w = s;
    }
    x = pp_ab_flatten(b, x, "flatten");
    int64_t cin = ch > 0 ? ch * h * w : -1;
    for (int i = 0; i < nc; i++) {
        char pre[64];
        snprintf(pre, sizeof pre, "classifier.%d", cl[i].index);
        x = pp_ab_linear(b, x, pre, cin, i + 1 < nc ? PP_OP_RELU : 0, &cin);
    }
    return x;
}

/* ---- detection and the entry point ---------------------------------------------- */

pp_code pp_arch_detect(const pp_ckpt *c, char *out, size_t n) {
    resnet_info r;
    int nl, nconv, bn;
    if (resnet_scan(c, &r)) {
        resnet_name(&r, out, n);
        return PP_OK;
    }
    if (is_vgg(c, &nconv, &bn)) {
        vgg_name(nconv, bn, out, n);
        return PP_OK;
    }
    if (pp_arch_is_mobilenet_v2(c, out, n) || pp_arch_is_mobilenet_v3(c, out, n) ||
        pp_arch_is_efficientnet(c, out, n) || pp_arch_is_densenet(c, out, n))
        return PP_OK;
    if (is_mlp(c, &nl)) {
        snprintf(out, n, "mlp (%d linear layers)", nl);
        return PP_OK;
    }
    snprintf(out, n, "unknown");
    return PP_ERR_UNSUPPORTED;
}

pp_code pp_arch_build(const pp_ckpt *c, const char *arch, const char *arch_file, pp_graph **out, char *detected,
                      size_t n, pp_error *err) {
    *out = NULL;
    pp_error local;
    if (!err) err = &local;
    char family[64], desc[256] = "";
    pp_arch_opts o;
    pp_code rc = pp_arch_parse(arch, family, sizeof family, &o, err);
    if (rc) return rc;
    int detect = !family[0] || !strcmp(family, "auto");
    if (arch_file && !detect)
        return pp_error_set(err, PP_ERR_INVALID_ARG,
                            "give either an architecture ('%s') or an architecture file, not both", family);
    enum { F_NONE, F_MLP, F_RESNET, F_VGG, F_MNV2, F_MNV3, F_EFF, F_DENSE, F_FILE } fam = F_NONE;
    char tmp[256];
    if (arch_file) {
        fam = F_FILE;
    } else if (detect) {
        resnet_info r;
        int nl, nconv, bn;
        if (resnet_scan(c, &r)) fam = F_RESNET;
        else if (is_vgg(c, &nconv, &bn)) fam = F_VGG;
        else if (pp_arch_is_mobilenet_v2(c, tmp, sizeof tmp)) fam = F_MNV2;
        else if (pp_arch_is_mobilenet_v3(c, tmp, sizeof tmp)) fam = F_MNV3;
        else if (pp_arch_is_efficientnet(c, tmp, sizeof tmp)) fam = F_EFF;
        else if (pp_arch_is_densenet(c, tmp, sizeof tmp)) fam = F_DENSE;
        else if (is_mlp(c, &nl)) fam = F_MLP;
        else {
            char keys[256] = "";
            for (int i = 0; i < c->n && i < 4; i++) {
                char nb[64];
                append(keys, sizeof keys, "%s%s", i ? ", " : "", printable(nb, sizeof nb, c->tensors[i].name));
            }
            return pp_error_set(err, PP_ERR_UNSUPPORTED,
                                "cannot tell the architecture from the keys (%s%s): give one (mlp, resnet, vgg, "
                                "mobilenet_v2, ...) or an "
                                "architecture file",
                                keys, c->n > 4 ? ", ..." : "");
        }
    } else if (!strcmp(family, "mlp")) {
        fam = F_MLP;
    } else if (!strncmp(family, "resnet", 6) || !strncmp(family, "resnext", 7) || !strncmp(family, "wide_resnet", 11)) {
        fam = F_RESNET;
    } else if (!strncmp(family, "vgg", 3)) {
        fam = F_VGG;
    } else if (!strcmp(family, "mobilenet_v2")) {
        fam = F_MNV2;
    } else if (!strncmp(family, "mobilenet_v3", 12)) {
        fam = F_MNV3;
    } else if (!strncmp(family, "efficientnet", 12)) {
        fam = F_EFF;
    } else if (!strncmp(family, "densenet", 8)) {
        fam = F_DENSE;
    } else {
        return pp_error_set(
            err, PP_ERR_UNSUPPORTED,
            "unknown architecture '%s' (known: mlp, resnet18/34/50/101/152, resnext*, wide_resnet*, vgg11..19[_bn], "
            "mobilenet_v2, mobilenet_v3_large/small, efficientnet_b0..b7, densenet121/161/169/201; or an "
            "architecture file)",
            family);
    }
    pp_ab b;
    memset(&b, 0, sizeof b);
    b.c = c;
    b.o = &o;
    b.family = detect ? "" : family;
    b.eps = o.eps;
    b.err = err;
    b.g = pp_graph_new();
    b.used = pp_calloc((size_t)c->n + 1, 1);
    if (!b.g || !b.used) {
        pp_graph_free(b.g);
        pp_free(b.used);
        return pp_error_nomem(err, "out of memory");
    }
    int input = -1, output = -1;
    snprintf(desc, sizeof desc, "%s", detect ? "the detected architecture" : family);
    switch (fam) {
    case F_MLP: output = build_mlp(&b, &input, desc, sizeof desc); break;
    case F_RESNET: output = build_resnet(&b, &input, desc, sizeof desc); break;
    case F_VGG: output = build_vgg(&b, &input, desc, sizeof desc); break;
    case F_MNV2: output = pp_arch_build_mobilenet_v2(&b, &input, desc, sizeof desc); break;
    case F_MNV3: output = pp_arch_build_mobilenet_v3(&b, &input, desc, sizeof desc); break;
    case F_EFF: output = pp_arch_build_efficientnet(&b, &input, desc, sizeof desc); break;
    case F_DENSE: output = pp_arch_build_densenet(&b, &input, desc, sizeof desc); break;
    case F_FILE:
        snprintf(desc, sizeof desc, "architecture file %s", arch_file);
        rc = pp_arch_file_build(&b, arch_file, &input, &output);
        break;
    default: break;
    }
    if (!rc) rc = pp_ab_finish(&b, input, output, detect || fam == F_FILE ? desc : family);
    if (!rc) rc = pp_graph_add_meta(b.g, "architecture", desc, err);
    pp_free(b.used);
    if (rc) {
        pp_graph_free(b.g);
        return rc;
    }
    if (detected && n) snprintf(detected, n, "%s", desc);
    *out = b.g;
    return PP_OK;
}

/* arch_swin.c: torchvision's Swin Transformer v1 (swin_t/s/b) and v2
 * (swin_v2_t/s/b) (arch_families.h).
 *
 * features.0: conv (kernel = stride = patch) to channels-last (N, H, W, C) and a
 * LayerNorm; odd features.S: blocks of shifted-window attention and an MLP;
 * even features.S: patch merging. Then norm, the spatial mean, head. Windows
 * are kept apart from the batch, (N, nW, T, C), so the attention runs with
 * nW·heads "heads" and one constant additive mask (1, nW·heads, T, T) holding
 * the relative position bias and, in shifted blocks, torchvision's -100 between
 * window regions; both are computed here from the checkpoint's tables. v1:
 * pre-norm, q scaled by 1/sqrt(head dim), PatchMerging norm then reduction.
 * v2: post-norm, cosine attention scaled by exp(min(logit_scale, log 100)),
 * the bias 16·sigmoid(cpb_mlp(relative_coords_table)), the key's share of the
 * qkv bias zeroed, PatchMergingV2 reduction then norm. LayerNorm eps 1e-5. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/params.h"
#include "arch_families.h"
#include "arch_layers.h"

#define SWIN_EPS 1e-5

typedef struct swin {
    pp_ab *b;
    int v2;
    int64_t win, t; /* window side, tokens per window (win²) */
} swin;

static int stage_blocks(const pp_ckpt *c, int s) {
    int k = 0;
    while (k < 256 && pp_ab_hasf(c, "features.%d.%d.attn.qkv.weight", s, k, 0)) k++;
    return k;
}

static int detect_swin(const pp_ckpt *c, char *desc, size_t n) {
    const pp_ckpt_tensor *w0 = pp_ab_find4(c, "features.0.0.weight", 0, 0, 0);
    if (!w0 || !pp_ckpt_find(c, "head.weight") || !stage_blocks(c, 1)) return 0;
    int v2 = pp_ab_hasf(c, "features.1.0.attn.logit_scale", 0, 0, 0);
    char bl[64] = "";
    for (int s = 1; s < 32 && stage_blocks(c, s); s += 2)
        pp_ab_append(bl, sizeof bl, "%s%d", s > 1 ? "," : "", stage_blocks(c, s));
    int64_t d = w0->dims[0];
    const char *v = d == 96 && !strcmp(bl, "2,2,6,2")    ? "t"
                    : d == 96 && !strcmp(bl, "2,2,18,2") ? "s"
                    : d == 128                           ? "b"
                                                         : NULL;
    if (v) snprintf(desc, n, "swin_%s%s (depths %s; width %" PRId64 ")", v2 ? "v2_" : "", v, bl, d);
    else snprintf(desc, n, "swin%s (depths %s; width %" PRId64 ")", v2 ? "_v2" : "", bl, d);
    return 1;
}

/* ---- the constant mask: relative position bias + shifted-window regions ---- */

/* The per-head table ((2w-1)², heads): v1's parameter, or v2's 16·sigmoid(cpb_mlp(coords)). */
static float *bias_table(swin *s, const char *p, int64_t heads, int64_t *rows) {
    pp_ab *b = s->b;
    char k[160];
    if (!s->v2) {
        snprintf(k, sizeof k, "%s.relative_position_bias_table", p);
        const pp_ckpt_tensor *t = pp_ab_get(b, k, 2, (int64_t[]){-1, heads});
        if (!t) return NULL;
        *rows = t->dims[0];
        return pp_ab_f32(b, t);
    }
    snprintf(k, sizeof k, "%s.relative_coords_table", p);
    const pp_ckpt_tensor *ct = pp_ab_get(b, k, 4, (int64_t[]){1, -1, -1, 2});
    snprintf(k, sizeof k, "%s.cpb_mlp.0.weight", p);
    const pp_ckpt_tensor *w1 = pp_ab_get(b, k, 2, (int64_t[]){-1, 2});
    snprintf(k, sizeof k, "%s.cpb_mlp.0.bias", p);
    const pp_ckpt_tensor *b1 = pp_ab_get(b, k, 1, (int64_t[]){w1 ? w1->dims[0] : -1});
    snprintf(k, sizeof k, "%s.cpb_mlp.2.weight", p);
    const pp_ckpt_tensor *w2 = pp_ab_get(b, k, 2, (int64_t[]){heads, w1 ? w1->dims[0] : -1});
    if (!ct || !w1 || !b1 || !w2) return NULL;
    int64_t r = ct->dims[1] * ct->dims[2], hid = w1->dims[0];
    float *c = pp_ab_f32(b, ct), *fw1 = pp_ab_f32(b, w1), *fb1 = pp_ab_f32(b, b1), *fw2 = pp_ab_f32(b, w2);
    float *out = pp_malloc((size_t)(r * heads) * sizeof *out);
    if (c && fw1 && fb1 && fw2 && out)
        for (int64_t i = 0; i < r; i++)
            for (int64_t h = 0; h < heads; h++) {
                double acc = 0;
                for (int64_t j = 0; j < hid; j++) {
                    double a = fb1[j] + (double)fw1[2 * j] * c[2 * i] + (double)fw1[2 * j + 1] * c[2 * i + 1];
                    acc += (a > 0 ? a : 0) * fw2[h * hid + j];
                }
                out[i * heads + h] = (float)(16.0 / (1.0 + exp(-acc)));
            }
    pp_free(c), pp_free(fw1), pp_free(fb1), pp_free(fw2);
    *rows = r;
    if (!out && !b->rc) b->rc = pp_error_nomem(b->err, "out of memory");
    return out;
}

/* The region id of each position of a (ph, pw) map after a cyclic shift by sh:
 * torchvision's h_slices x w_slices, numbered row by row. */
static int region(int64_t i, int64_t len, int64_t win, int64_t sh) { return i < len - win ? 0 : i < len - sh ? 1 : 2; }

/* (1, nW·heads, T, T): the bias, and -100 between regions of a shifted window. */
static int attention_mask(swin *s, const char *p, int64_t heads, int64_t ph, int64_t pw, int64_t shift) {
    pp_ab *b = s->b;
    char k[160];
    int64_t rows = 0, t = s->t, win = s->win, nwh = ph / win, nww = pw / win, nw = nwh * nww;
    float *tab = bias_table(s, p, heads, &rows);
    snprintf(k, sizeof k, "%s.relative_position_index", p);
    const pp_ckpt_tensor *it = pp_ckpt_find(b->c, k); /* (T·T) integers: the flattened (T, T) */
    if (!it) pp_ab_get(b, k, 1, NULL);
    else b->used[it - b->c->tensors] = 1;
    int ok = it && it->rank == 1 && it->dims[0] == t * t && (it->dtype == PP_DTYPE_I64 || it->dtype == PP_DTYPE_I32);
    if (it && !ok) pp_ab_problem(b, "%s is not %" PRId64 " integers", k, t * t);
    float *m = pp_malloc((size_t)(nw * heads * t * t) * sizeof *m);
    if (!tab || !ok || !m) {
        pp_free(tab), pp_free(m);
        return -1;
    }
    int bad = 0;
    for (int64_t w = 0; w < nw; w++) {
        int64_t wy = w / nww, wx = w % nww;
        for (int64_t i = 0; i < t; i++)
            for (int64_t j = 0; j < t; j++) {
                int64_t ix = it->dtype == PP_DTYPE_I64 ? ((const int64_t *)it->data)[i * t + j]
                                                       : ((const int32_t *)it->data)[i * t + j];
                if (ix < 0 || ix >= rows) bad = 1, ix = 0;
                float mask = 0;
                if (shift) {
                    int ri =
                        region(wy * win + i / win, ph, win, shift) * 3 + region(wx * win + i % win, pw, win, shift);
                    int rj =
                        region(wy * win + j / win, ph, win, shift) * 3 + region(wx * win + j % win, pw, win, shift);
                    mask = ri != rj ? -100.0f : 0.0f;
                }
                for (int64_t h = 0; h < heads; h++) m[((w * heads + h) * t + i) * t + j] = tab[ix * heads + h] + mask;
            }
    }
    if (bad) pp_ab_problem(b, "%s points outside the bias table (%" PRId64 " rows)", k, rows);
    snprintf(k, sizeof k, "%s.mask", p);
    int id = bad ? -1 : pp_ab_const(b, k, 4, (int64_t[]){1, nw * heads, t, t}, m);
    pp_free(tab), pp_free(m);
    return id;
}

/* ---- attention over windows ------------------------------------------------- */

/* x / max(||x||, 1e-12) over the last axis (F.normalize). */
static int normalize(pp_ab *b, int x, const char *p) {
    char nm[3][160];
    for (int i = 0; i < 3; i++) snprintf(nm[i], sizeof nm[i], "%s.%s", p, i == 0 ? "sq" : i == 1 ? "norm" : "eps");
    int sq = pp_ab_binary(b, PP_OP_MUL, x, x, nm[0]), nd = -1;
    int sum = sq < 0 ? -1 : pp_ab_node(b, PP_OP_REDUCE_SUM, nm[1], 1, &sq, &nd);
    if (sum >= 0) {
        pp_ab_keep(b, pp_node_set_ints(b->g, nd, "axes", (int64_t[]){-1}, 1, b->err));
        pp_ab_keep(b, pp_node_set_int(b->g, nd, "keepdims", 1, b->err));
    }
    float tiny = 1e-12f;
    int n = pp_ab_binary(b, PP_OP_MAX, pp_ab_unary(b, PP_OP_SQRT, sum, nm[1]), pp_ab_const(b, nm[2], 0, NULL, &tiny),
                         nm[2]);
    return pp_ab_binary(b, PP_OP_DIV, x, n, p);
}

/* q, k, v (N, nW·heads, T, hd) from windows x (N, nW, T, C). */
static void qkv_heads(swin *s, int x, const char *p, int64_t nw, int64_t c, int64_t heads, int *q, int *k, int *v) {
    pp_ab *b = s->b;
    char wk[160], bk[160], nm[160];
    snprintf(wk, sizeof wk, "%s.qkv.weight", p);
    snprintf(bk, sizeof bk, "%s.qkv.bias", p);
    snprintf(nm, sizeof nm, "%s.qkv", p);
    int y;
    if (s->v2) { /* the key's third of the bias is zeroed (torchvision) */
        int64_t c3 = 3 * c;
        const pp_ckpt_tensor *bt = pp_ab_get(b, bk, 1, &c3);
        float *f = bt ? pp_ab_f32(b, bt) : NULL;
        if (f) memset(f + c, 0, (size_t)c * sizeof *f);
        snprintf(bk, sizeof bk, "%s.qkv.bias_q0v", p);
        int bid = f ? pp_ab_const(b, bk, 1, &c3, f) : -1;
        pp_free(f);
        y = pp_ab_binary(b, PP_OP_ADD, pp_ab_linear_keys(b, x, wk, "", nm, c, 0, NULL), bid, nm);
    } else {
        y = pp_ab_linear_keys(b, x, wk, bk, nm, c, 0, NULL);
    }
    snprintf(nm, sizeof nm, "%s.qkv_heads", p);
    y = pp_ab_reshape(b, y, 6, (int64_t[]){0, nw, s->t, 3, heads, c / heads}, nm);
    snprintf(nm, sizeof nm, "%s.qkv_split", p);
    y = pp_ab_transpose(b, y, 6, (int64_t[]){3, 0, 1, 4, 2, 5}, nm); /* (3, N, nW, heads, T, hd) */
    int *out[3] = {q, k, v};
    for (int i = 0; i < 3; i++) {
        char n1[160];
        snprintf(n1, sizeof n1, "%s.%c_windows", p, "qkv"[i]);
        snprintf(nm, sizeof nm, "%s.%c", p, "qkv"[i]);
        *out[i] = pp_ab_reshape(b, pp_ab_select(b, y, 0, i, n1), 4, (int64_t[]){0, nw * heads, s->t, c / heads}, nm);
    }
}

/* Attention of windows x (N, nW, T, C): (N, nW, T, C). */
static int window_attention(swin *s, int x, const char *p, int64_t nw, int64_t c, int64_t heads, int mask) {
    pp_ab *b = s->b;
    char nm[160];
    int q, k, v, nd = -1;
    qkv_heads(s, x, p, nw, c, heads, &q, &k, &v);
    if (s->v2) { /* cosine attention: normalised q and k, per-head scale on q */
        char key[160];
        snprintf(key, sizeof key, "%s.logit_scale", p);
        const pp_ckpt_tensor *ls = pp_ab_get(b, key, 3, (int64_t[]){heads, 1, 1});
        float *f = ls ? pp_ab_f32(b, ls) : NULL, *sc = pp_malloc((size_t)(nw * heads) * sizeof *sc);
        int sid = -1;
        if (f && sc) {
            for (int64_t w = 0; w < nw; w++)
                for (int64_t h = 0; h < heads; h++) sc[w * heads + h] = (float)exp(fmin(f[h], log(100.0)));
            snprintf(nm, sizeof nm, "%s.logit_scale_heads", p);
            sid = pp_ab_const(b, nm, 4, (int64_t[]){1, nw * heads, 1, 1}, sc);
        }
        pp_free(f), pp_free(sc);
        snprintf(nm, sizeof nm, "%s.q_norm", p);
        q = pp_ab_binary(b, PP_OP_MUL, normalize(b, q, nm), sid, nm);
        snprintf(nm, sizeof nm, "%s.k_norm", p);
        k = normalize(b, k, nm);
    }
    snprintf(nm, sizeof nm, "%s.attention", p);
    int y =
        q < 0 || k < 0 || v < 0 || mask < 0 ? -1 : pp_ab_node(b, PP_OP_ATTENTION, nm, 4, (int[]){q, k, v, mask}, &nd);
    if (y >= 0 && s->v2) pp_ab_keep(b, pp_node_set_float(b->g, nd, "scale", 1.0, b->err));
    snprintf(nm, sizeof nm, "%s.heads", p);
    y = pp_ab_reshape(b, y, 5, (int64_t[]){0, nw, heads, s->t, c / heads}, nm);
    snprintf(nm, sizeof nm, "%s.merge", p);
    y = pp_ab_transpose(b, y, 5, (int64_t[]){0, 1, 3, 2, 4}, nm);
    snprintf(nm, sizeof nm, "%s.tokens", p);
    y = pp_ab_reshape(b, y, 4, (int64_t[]){0, nw, s->t, c}, nm);
    snprintf(nm, sizeof nm, "%s.proj", p);
    return pp_ab_linear_nd(b, y, nm, c, 0, NULL);
}

/* torch.roll of x (N, H, W, C) by (sh, sh) on axes 1 and 2: slices and concats. */
static int roll(pp_ab *b, int x, int64_t sh, int64_t h, int64_t w, const char *p) {
    int64_t len[3] = {0, h, w};
    for (int a = 1; a <= 2; a++) {
        int64_t s = ((sh % len[a]) + len[a]) % len[a];
        if (!s) continue;
        char n1[160], n2[160], n3[160];
        snprintf(n1, sizeof n1, "%s.tail%d", p, a);
        snprintf(n2, sizeof n2, "%s.head%d", p, a);
        snprintf(n3, sizeof n3, "%s.roll%d", p, a);
        int parts[2] = {pp_ab_slice(b, x, a, len[a] - s, len[a], 1, n1), pp_ab_slice(b, x, a, 0, len[a] - s, 1, n2)};
        x = pp_ab_concat_n(b, parts, 2, a, n3);
    }
    return x;
}

/* Shifted-window attention of x (N, H, W, C), padded to whole windows and cropped back. */
static int shifted_attention(swin *s, int x, const char *p, int64_t h, int64_t w, int64_t c, int64_t heads,
                             int64_t shift) {
    pp_ab *b = s->b;
    char nm[160];
    int64_t win = s->win, ph = (h + win - 1) / win * win, pw = (w + win - 1) / win * win;
    if (win >= ph) shift = 0; /* torchvision: no shift when one window covers the map */
    if (ph != h || pw != w) {
        snprintf(nm, sizeof nm, "%s.pad", p);
        int nd = -1;
        x = x < 0 ? -1 : pp_ab_node(b, PP_OP_PAD, nm, 1, &x, &nd);
        if (x >= 0)
            pp_ab_keep(b, pp_node_set_ints(b->g, nd, "pads", (int64_t[]){0, 0, 0, 0, 0, ph - h, pw - w, 0}, 8, b->err));
    }
    snprintf(nm, sizeof nm, "%s.shift", p);
    x = roll(b, x, -shift, ph, pw, nm);
    int64_t nwh = ph / win, nww = pw / win, nw = nwh * nww;
    snprintf(nm, sizeof nm, "%s.windows6", p);
    x = pp_ab_reshape(b, x, 6, (int64_t[]){0, nwh, win, nww, win, c}, nm);
    snprintf(nm, sizeof nm, "%s.windows_t", p);
    x = pp_ab_transpose(b, x, 6, (int64_t[]){0, 1, 3, 2, 4, 5}, nm);
    snprintf(nm, sizeof nm, "%s.windows", p);
    x = pp_ab_reshape(b, x, 4, (int64_t[]){0, nw, s->t, c}, nm);
    x = window_attention(s, x, p, nw, c, heads, attention_mask(s, p, heads, ph, pw, shift));
    snprintf(nm, sizeof nm, "%s.unwindow6", p);
    x = pp_ab_reshape(b, x, 6, (int64_t[]){0, nwh, nww, win, win, c}, nm);
    snprintf(nm, sizeof nm, "%s.unwindow_t", p);
    x = pp_ab_transpose(b, x, 6, (int64_t[]){0, 1, 3, 2, 4, 5}, nm);
    snprintf(nm, sizeof nm, "%s.unwindow", p);
    x = pp_ab_reshape(b, x, 4, (int64_t[]){0, ph, pw, c}, nm);
    snprintf(nm, sizeof nm, "%s.unshift", p);
    x = roll(b, x, shift, ph, pw, nm);
    if (ph != h || pw != w) {
        snprintf(nm, sizeof nm, "%s.crop_h", p);
        x = pp_ab_slice(b, x, 1, 0, h, 1, nm);
        snprintf(nm, sizeof nm, "%s.crop_w", p);
        x = pp_ab_slice(b, x, 2, 0, w, 1, nm);
    }
    return x;
}

static int swin_block(swin *s, int x, const char *p, int64_t h, int64_t w, int64_t c, int64_t shift) {
    pp_ab *b = s->b;
    char k[160], nm[160];
    int64_t heads, m;
    snprintf(k, sizeof k, "%s.attn.%s", p, s->v2 ? "logit_scale" : "relative_position_bias_table");
    const pp_ckpt_tensor *ht = pp_ckpt_find(b->c, k);
    heads = ht && ht->rank >= 2 ? (s->v2 ? ht->dims[0] : ht->dims[1]) : -1;
    if (heads < 1 || c % heads) {
        pp_ab_get(b, k, s->v2 ? 3 : 2, NULL);
        return -1;
    }
    char n1[160], n2[160], attn[160], mlp0[160], mlp3[160];
    snprintf(n1, sizeof n1, "%s.norm1", p);
    snprintf(n2, sizeof n2, "%s.norm2", p);
    snprintf(attn, sizeof attn, "%s.attn", p);
    snprintf(mlp0, sizeof mlp0, "%s.mlp.0", p);
    snprintf(mlp3, sizeof mlp3, "%s.mlp.3", p);
    int y;
    if (s->v2) y = pp_ab_layernorm(b, shifted_attention(s, x, attn, h, w, c, heads, shift), n1, c, SWIN_EPS);
    else y = shifted_attention(s, pp_ab_layernorm(b, x, n1, c, SWIN_EPS), attn, h, w, c, heads, shift);
    snprintf(nm, sizeof nm, "%s.add1", p);
    x = pp_ab_binary(b, PP_OP_ADD, x, y, nm);
    y = s->v2 ? x : pp_ab_layernorm(b, x, n2, c, SWIN_EPS);
    y = pp_ab_linear_nd(b, y, mlp0, c, PP_OP_GELU, &m);
    y = pp_ab_linear_nd(b, y, mlp3, m, 0, NULL);
    if (s->v2) y = pp_ab_layernorm(b, y, n2, c, SWIN_EPS);
    snprintf(nm, sizeof nm, "%s.add2", p);
    return pp_ab_binary(b, PP_OP_ADD, x, y, nm);
}

/* PatchMerging: the four 2x2 neighbours side by side on channels, norm and reduction (v2: reduction, norm). */
static int patch_merge(swin *s, int x, const char *p, int64_t *h, int64_t *w, int64_t *c) {
    pp_ab *b = s->b;
    char nm[160], red[160], nrm[160];
    if (*h % 2 || *w % 2) {
        snprintf(nm, sizeof nm, "%s.pad", p);
        int nd = -1;
        x = x < 0 ? -1 : pp_ab_node(b, PP_OP_PAD, nm, 1, &x, &nd);
        if (x >= 0)
            pp_ab_keep(b, pp_node_set_ints(b->g, nd, "pads", (int64_t[]){0, 0, 0, 0, 0, *h % 2, *w % 2, 0}, 8, b->err));
        *h += *h % 2, *w += *w % 2;
    }
    int parts[4];
    for (int i = 0; i < 4; i++) { /* x0 = [0::2, 0::2], x1 = [1::2, 0::2], x2 = [0::2, 1::2], x3 = [1::2, 1::2] */
        snprintf(nm, sizeof nm, "%s.x%d_h", p, i);
        int r = pp_ab_slice(b, x, 1, i % 2, *h, 2, nm);
        snprintf(nm, sizeof nm, "%s.x%d", p, i);
        parts[i] = pp_ab_slice(b, r, 2, i / 2, *w, 2, nm);
    }
    snprintf(nm, sizeof nm, "%s.cat", p);
    x = pp_ab_concat_n(b, parts, 4, 3, nm);
    snprintf(red, sizeof red, "%s.reduction", p);
    snprintf(nrm, sizeof nrm, "%s.norm", p);
    int64_t c4 = 4 * *c, out;
    if (s->v2) {
        x = pp_ab_linear_nd(b, x, red, c4, 0, &out);
        x = pp_ab_layernorm(b, x, nrm, out, SWIN_EPS);
    } else {
        x = pp_ab_linear_nd(b, pp_ab_layernorm(b, x, nrm, c4, SWIN_EPS), red, c4, 0, &out);
    }
    *h /= 2, *w /= 2, *c = out;
    return x;
}

static int build_swin(pp_ab *b, int *input, char *desc, size_t dn) {
    if (!detect_swin(b->c, desc, dn)) {
        pp_ab_get(b, "features.0.0.weight", 4, NULL);
        pp_ab_get(b, "features.1.0.attn.qkv.weight", 2, NULL);
        pp_ab_get(b, "head.weight", 2, NULL);
        return -1;
    }
    pp_ab_check_name(b, desc, "swin");
    swin s = {b, pp_ab_hasf(b->c, "features.1.0.attn.logit_scale", 0, 0, 0), 0, 0};
    const pp_ckpt_tensor *ix = pp_ckpt_find(b->c, "features.1.0.attn.relative_position_index");
    s.t = ix && ix->rank == 1 ? (int64_t)llround(sqrt((double)ix->dims[0])) : 0; /* T·T entries */
    s.win = (int64_t)llround(sqrt((double)s.t));
    if (s.win < 1 || s.win * s.win != s.t || s.t * s.t != ix->dims[0]) {
        pp_ab_get(b, "features.1.0.attn.relative_position_index", 1, NULL);
        pp_ab_problem(b, "cannot tell the window size");
        return -1;
    }
    const pp_ckpt_tensor *w0 = pp_ab_find4(b->c, "features.0.0.weight", 0, 0, 0);
    int64_t c, h, w, ch, patch = w0->dims[2];
    pp_ab_input_size(b, w0->dims[1], &c, &h, &w);
    *input = pp_ab_input(b, "input", 3, (int64_t[]){c, h, w});
    pp_ab_conv pe = {.w = "features.0.0", .cin = c, .stride = (int)patch, .pad = 0, .groups = 1, .residual = -1};
    int x = pp_ab_transpose(b, pp_ab_conv_layer(b, *input, &pe, &ch), 4, (int64_t[]){0, 2, 3, 1}, "features.0.1");
    x = pp_ab_layernorm(b, x, "features.0.2", ch, SWIN_EPS);
    h = (h - patch) / patch + 1, w = (w - patch) / patch + 1;
    for (int st = 1; st < 32 && stage_blocks(b->c, st); st += 2) {
        for (int k = 0; k < stage_blocks(b->c, st); k++) {
            char p[64];
            snprintf(p, sizeof p, "features.%d.%d", st, k);
            x = swin_block(&s, x, p, h, w, ch, k % 2 ? s.win / 2 : 0);
        }
        char p[64];
        snprintf(p, sizeof p, "features.%d", st + 1);
        if (pp_ab_hasf(b->c, "features.%d.reduction.weight", st + 1, 0, 0)) x = patch_merge(&s, x, p, &h, &w, &ch);
    }
    x = pp_ab_layernorm(b, x, "norm", ch, SWIN_EPS);
    int nd = -1;
    x = x < 0 ? -1 : pp_ab_node(b, PP_OP_REDUCE_MEAN, "avgpool", 1, &x, &nd);
    if (x >= 0) {
        pp_ab_keep(b, pp_node_set_ints(b->g, nd, "axes", (int64_t[]){1, 2}, 2, b->err));
        pp_ab_keep(b, pp_node_set_int(b->g, nd, "keepdims", 0, b->err));
    }
    return pp_ab_linear(b, x, "head", ch, 0, NULL);
}

const pp_arch_family pp_arch_swin = {
    .names = {"swin*", NULL},
    .listed = "swin_t/s/b, swin_v2_t/s/b",
    .detect = detect_swin,
    .build = build_swin,
};

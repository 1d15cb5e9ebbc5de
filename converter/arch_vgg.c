/* arch_vgg.c: VGG and VGG-style nets (arch_families.h): features.N (conv [bn]
 * relu [maxpool]) + classifier.N (linear relu). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/params.h"
#include "arch_families.h"

static int is_vgg(const pp_ckpt *c, int *n_conv, int *bn) {
    pp_ab_seq f[128], cl[16];
    int nf = pp_ab_seq_scan(c, "features.", f, 128), nc = pp_ab_seq_scan(c, "classifier.", cl, 16);
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
    pp_ab_seq f[128], cl[16];
    int nf = pp_ab_seq_scan(b->c, "features.", f, 128), nc = pp_ab_seq_scan(b->c, "classifier.", cl, 16);
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

static int detect_vgg(const pp_ckpt *c, char *desc, size_t n) {
    int nconv, bn;
    if (!is_vgg(c, &nconv, &bn)) return 0;
    vgg_name(nconv, bn, desc, n);
    return 1;
}

const pp_arch_family pp_arch_vgg = {
    .names = {"vgg*", NULL},
    .listed = "vgg11..19[_bn]",
    .detect = detect_vgg,
    .build = build_vgg,
};

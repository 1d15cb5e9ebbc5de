/* arch_mobile.c: torchvision's MobileNetV2, MobileNetV3 (large/small) and
 * EfficientNet B0–B7 (arch_families.h), which share the inverted residual
 * block, by torchvision's module names. What the keys cannot say (strides, activations) comes from
 * torchvision's configuration tables, quoted below. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/params.h"
#include "arch_families.h"

/* Activations of the convolutions, as fused pp_act kinds. */
typedef struct mb_acts {
    int act; /* of the expand and depthwise convs */
    double alpha, beta;
    int se_act;   /* SqueezeExcitation: after fc1 */
    int se_scale; /* after fc2 */
    double se_alpha, se_beta;
} mb_acts;

static const mb_acts RELU6 = {PP_ACT_CLIP, 0, 6, 0, 0, 0, 0};
static const mb_acts SILU = {PP_ACT_SILU, 0, 0, PP_ACT_SILU, PP_ACT_SIGMOID, 0, 0};
/* torch's hardsigmoid is relu6(x + 3) / 6 = clamp(x/6 + 1/2, 0, 1) */
static const mb_acts V3_RE = {PP_ACT_RELU, 0, 0, PP_ACT_RELU, PP_ACT_HARDSIGMOID, 1.0 / 6.0, 0.5};
static const mb_acts V3_HS = {PP_ACT_HARDSWISH, 0, 0, PP_ACT_RELU, PP_ACT_HARDSIGMOID, 1.0 / 6.0, 0.5};

/* A Conv2dNormActivation "P.0" (conv) + "P.1" (BatchNorm). */
static int conv_norm_act(pp_ab *b, int x, const char *p, int64_t cin, int stride, int groups, int act, double alpha,
                         double beta, int residual, int64_t *cout) {
    char w[200], bn[200];
    snprintf(w, sizeof w, "%s.0", p);
    snprintf(bn, sizeof bn, "%s.1", p);
    pp_ab_conv cv = {.w = w,
                     .bn = bn,
                     .cin = cin,
                     .stride = stride,
                     .pad = -1,
                     .groups = groups,
                     .act = act,
                     .act_alpha = alpha,
                     .act_beta = beta,
                     .residual = residual};
    return pp_ab_conv_layer(b, x, &cv, cout);
}

/* SqueezeExcitation "P.fc1", "P.fc2": x * scale_act(fc2(act(fc1(avgpool(x))))). */
static int squeeze_excite(pp_ab *b, int x, const char *p, int64_t ch, const mb_acts *a) {
    char k1[192], k2[192], nm[192];
    snprintf(nm, sizeof nm, "%s.avgpool", p);
    int s = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, nm);
    snprintf(k1, sizeof k1, "%s.fc1", p);
    snprintf(k2, sizeof k2, "%s.fc2", p);
    int64_t sq = -1, c2 = -1;
    pp_ab_conv f1 = {.w = k1, .cin = ch, .stride = 1, .pad = 0, .groups = 1, .act = a->se_act, .residual = -1};
    s = pp_ab_conv_layer(b, s, &f1, &sq);
    pp_ab_conv f2 = {.w = k2,
                     .cin = sq,
                     .stride = 1,
                     .pad = 0,
                     .groups = 1,
                     .act = a->se_scale,
                     .act_alpha = a->se_alpha,
                     .act_beta = a->se_beta,
                     .residual = -1};
    s = pp_ab_conv_layer(b, s, &f2, &c2);
    snprintf(nm, sizeof nm, "%s.scale", p);
    return pp_ab_binary(b, PP_OP_MUL, x, s, nm);
}

/* An MBConv / MobileNetV3 InvertedResidual "P.block": Conv2dNormActivation and
 * SqueezeExcitation modules numbered from 0; the depthwise one (one input
 * channel per group) takes the stride; the last conv projects, with no
 * activation, and adds the input when the stride is 1 and the widths agree. */
static int inverted_residual(pp_ab *b, int x, const char *p, int64_t *ch, int stride, const mb_acts *a) {
    int kinds[16], n = 0, last_conv = -1;
    for (int j = 0; j < 16; j++) {
        char k[160];
        snprintf(k, sizeof k, "%s.%d.0.weight", p, j);
        if (pp_ckpt_find(b->c, k)) {
            kinds[n++] = 1;
            last_conv = j;
            continue;
        }
        snprintf(k, sizeof k, "%s.%d.fc1.weight", p, j);
        if (pp_ckpt_find(b->c, k)) {
            kinds[n++] = 2;
            continue;
        }
        break;
    }
    if (last_conv < 0) {
        char k[160];
        snprintf(k, sizeof k, "%s.0.0.weight", p);
        pp_ab_get(b, k, 4, NULL);
        return -1;
    }
    int y = x;
    int64_t c = *ch, cin = *ch;
    for (int j = 0; j < n; j++) {
        char sub[160];
        snprintf(sub, sizeof sub, "%s.%d", p, j);
        if (kinds[j] == 2) {
            y = squeeze_excite(b, y, sub, c, a);
            continue;
        }
        char k[176];
        snprintf(k, sizeof k, "%s.0.weight", sub);
        const pp_ckpt_tensor *w = pp_ckpt_find(b->c, k);
        int dw = w && w->rank == 4 && w->dims[1] == 1 && c > 1;
        if (j == last_conv) {
            int64_t cout = w && w->rank == 4 ? w->dims[0] : -1;
            int res = stride == 1 && cout == cin && cin > 0 ? x : -1;
            y = conv_norm_act(b, y, sub, c, 1, 1, 0, 0, 0, res, &c);
        } else {
            y = conv_norm_act(b, y, sub, c, dw ? stride : 1, dw ? (int)c : 1, a->act, a->alpha, a->beta, -1, &c);
        }
    }
    *ch = c;
    return y;
}

static int stem(pp_ab *b, int64_t *ch, int *input, const mb_acts *a) {
    const pp_ckpt_tensor *w = pp_ckpt_find(b->c, "features.0.0.weight");
    int64_t c, h, wd;
    pp_ab_input_size(b, w && w->rank == 4 ? w->dims[1] : 3, &c, &h, &wd);
    *input = pp_ab_input(b, "input", 3, (int64_t[]){c, h, wd});
    return conv_norm_act(b, *input, "features.0", c, 2, 1, a->act, a->alpha, a->beta, -1, ch);
}

/* ---- MobileNetV2 ------------------------------------------------------------------- */

/* torchvision: t, c, n, s = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1) */
static const int V2_N[7] = {1, 2, 3, 4, 3, 3, 1}, V2_S[7] = {1, 2, 2, 2, 1, 2, 1};

static int v2_blocks(const pp_ckpt *c) {
    int n = 0;
    while (n < 64 && (pp_ab_hasf(c, "features.%d.conv.0.0.weight", n + 1, 0, 0))) n++;
    return n;
}

static int is_mobilenet_v2(const pp_ckpt *c, char *desc, size_t n) {
    if (!pp_ab_find4(c, "features.0.0.weight", 0, 0, 0) || !pp_ckpt_find(c, "classifier.1.weight")) return 0;
    int nb = v2_blocks(c);
    if (nb < 1) return 0;
    const pp_ckpt_tensor *head = pp_ab_find4(c, "features.%d.0.weight", nb + 1, 0, 0);
    snprintf(desc, n, "mobilenet_v2 (%d inverted residual blocks, %" PRId64 " features)", nb,
             head ? head->dims[0] : -1);
    return 1;
}

static int build_mobilenet_v2(pp_ab *b, int *input, char *desc, size_t dn) {
    if (!is_mobilenet_v2(b->c, desc, dn)) {
        pp_ab_get(b, "features.0.0.weight", 4, NULL);
        pp_ab_get(b, "features.1.conv.0.0.weight", 4, NULL);
        pp_ab_get(b, "classifier.1.weight", 2, NULL);
        return -1;
    }
    pp_ab_check_name(b, desc, "mobilenet_v2");
    int nb = v2_blocks(b->c);
    if (nb != 17) pp_ab_problem(b, "mobilenet_v2 has 17 blocks (features.1-17), the keys hold %d", nb);
    int64_t ch;
    int x = stem(b, &ch, input, &RELU6);
    int blk = 1;
    for (int s = 0; s < 7 && nb == 17; s++)
        for (int k = 0; k < V2_N[s]; k++, blk++) {
            int stride = k == 0 ? V2_S[s] : 1;
            int64_t cin = ch, c = ch;
            int y = x;
            /* conv.J.0/1: Conv2dNormActivation (expand, depthwise); then conv.J (plain conv) and conv.J+1 (BN) project. */
            int j = 0;
            for (; j < 4 && pp_ab_hasf(b->c, "features.%d.conv.%d.0.weight", blk, j, 0); j++) {
                char p[96], k2[112];
                snprintf(p, sizeof p, "features.%d.conv.%d", blk, j);
                snprintf(k2, sizeof k2, "%s.0.weight", p);
                const pp_ckpt_tensor *w = pp_ckpt_find(b->c, k2);
                int dw = w && w->rank == 4 && w->dims[1] == 1 && c > 1;
                y = conv_norm_act(b, y, p, c, dw ? stride : 1, dw ? (int)c : 1, PP_ACT_CLIP, 0, 6, -1, &c);
            }
            char pw[96], pbn[96], pk[112];
            snprintf(pw, sizeof pw, "features.%d.conv.%d", blk, j);
            snprintf(pbn, sizeof pbn, "features.%d.conv.%d", blk, j + 1);
            snprintf(pk, sizeof pk, "%s.weight", pw);
            const pp_ckpt_tensor *w = pp_ckpt_find(b->c, pk);
            int64_t cout = w && w->rank == 4 ? w->dims[0] : -1;
            pp_ab_conv cv = {.w = pw,
                             .bn = pbn,
                             .cin = c,
                             .stride = 1,
                             .pad = 0,
                             .groups = 1,
                             .residual = stride == 1 && cout == cin ? x : -1};
            x = pp_ab_conv_layer(b, y, &cv, &ch);
        }
    char head[64];
    snprintf(head, sizeof head, "features.%d", nb + 1);
    x = conv_norm_act(b, x, head, ch, 1, 1, PP_ACT_CLIP, 0, 6, -1, &ch);
    x = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, "avgpool");
    x = pp_ab_flatten(b, x, "flatten");
    return pp_ab_classifier(b, x, "classifier.", ch, 0);
}

/* ---- MobileNetV3 ------------------------------------------------------------------- */

/* torchvision _mobilenet_v3_conf: per block stride and activation (1 = HS, 0 = RE). */
static const int V3L_S[15] = {1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1};
static const int V3L_HS[15] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1};
static const int V3S_S[11] = {2, 2, 1, 2, 1, 1, 1, 1, 2, 1, 1};
static const int V3S_HS[11] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};

static int flat_blocks(const pp_ckpt *c) {
    int n = 0;
    while (n < 64 && pp_ab_hasf(c, "features.%d.block.0.0.weight", n + 1, 0, 0)) n++;
    return n;
}

static int is_mobilenet_v3(const pp_ckpt *c, char *desc, size_t n) {
    if (!pp_ab_find4(c, "features.0.0.weight", 0, 0, 0) || !pp_ckpt_find(c, "classifier.0.weight") ||
        !pp_ckpt_find(c, "classifier.3.weight"))
        return 0;
    int nb = flat_blocks(c);
    if (nb < 1) return 0;
    const char *name = nb == 15 ? "mobilenet_v3_large" : nb == 11 ? "mobilenet_v3_small" : "mobilenet_v3";
    snprintf(desc, n, "%s (%d blocks)", name, nb);
    return 1;
}

static int build_mobilenet_v3(pp_ab *b, int *input, char *desc, size_t dn) {
    if (!is_mobilenet_v3(b->c, desc, dn)) {
        pp_ab_get(b, "features.0.0.weight", 4, NULL);
        pp_ab_get(b, "features.1.block.0.0.weight", 4, NULL);
        pp_ab_get(b, "classifier.0.weight", 2, NULL);
        pp_ab_get(b, "classifier.3.weight", 2, NULL);
        return -1;
    }
    pp_ab_check_name(b, desc, "mobilenet_v3");
    if (!b->o->eps_set) b->eps = 1e-3; /* torchvision: BatchNorm2d(eps=0.001) */
    int nb = flat_blocks(b->c);
    const int *S = nb == 15 ? V3L_S : V3S_S, *HS = nb == 15 ? V3L_HS : V3S_HS;
    if (nb != 15 && nb != 11) {
        pp_ab_problem(b, "mobilenet_v3 has 15 (large) or 11 (small) blocks, the keys hold %d", nb);
        return -1;
    }
    int64_t ch;
    int x = stem(b, &ch, input, &V3_HS);
    for (int i = 0; i < nb; i++) {
        char p[64];
        snprintf(p, sizeof p, "features.%d.block", i + 1);
        x = inverted_residual(b, x, p, &ch, S[i], HS[i] ? &V3_HS : &V3_RE);
    }
    char head[64];
    snprintf(head, sizeof head, "features.%d", nb + 1);
    x = conv_norm_act(b, x, head, ch, 1, 1, PP_ACT_HARDSWISH, 0, 0, -1, &ch);
    x = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, "avgpool");
    x = pp_ab_flatten(b, x, "flatten");
    return pp_ab_classifier(b, x, "classifier.", ch, PP_OP_HARDSWISH);
}

/* ---- EfficientNet B0–B7 ------------------------------------------------------------ */

/* torchvision _efficientnet_conf: stage strides (1,2,2,2,1,2,1); the variants by
 * their head width (4 × the last stage's, after width_mult) and depth. */
static const int EFF_S[7] = {1, 2, 2, 2, 1, 2, 1};

static int eff_stages(const pp_ckpt *c, int *blocks) {
    int ns = 0;
    while (ns < 16 && pp_ab_hasf(c, "features.%d.0.block.0.0.weight", ns + 1, 0, 0)) {
        int k = 0;
        while (k < 64 && pp_ab_hasf(c, "features.%d.%d.block.0.0.weight", ns + 1, k, 0)) k++;
        if (blocks) blocks[ns] = k;
        ns++;
    }
    return ns;
}

static int is_efficientnet(const pp_ckpt *c, char *desc, size_t n) {
    int blocks[16], total = 0;
    if (!pp_ab_find4(c, "features.0.0.weight", 0, 0, 0) || !pp_ckpt_find(c, "classifier.1.weight")) return 0;
    int ns = eff_stages(c, blocks);
    if (ns < 1) return 0;
    for (int i = 0; i < ns; i++) total += blocks[i];
    const pp_ckpt_tensor *head = pp_ab_find4(c, "features.%d.0.weight", ns + 1, 0, 0);
    int64_t hw = head ? head->dims[0] : -1;
    const char *v = NULL;
    if (ns == 7) {
        if (hw == 1280) v = total == 16 ? "efficientnet_b0" : total == 23 ? "efficientnet_b1" : NULL;
        else if (hw == 1408) v = "efficientnet_b2";
        else if (hw == 1536) v = "efficientnet_b3";
        else if (hw == 1792) v = "efficientnet_b4";
        else if (hw == 2048) v = "efficientnet_b5";
        else if (hw == 2304) v = "efficientnet_b6";
        else if (hw == 2560) v = "efficientnet_b7";
    }
    char bl[64] = "";
    for (int i = 0; i < ns; i++) snprintf(bl + strlen(bl), sizeof bl - strlen(bl), "%s%d", i ? "," : "", blocks[i]);
    snprintf(desc, n, "%s (blocks %s; %" PRId64 " features)", v ? v : "efficientnet", bl, hw);
    return 1;
}

static int build_efficientnet(pp_ab *b, int *input, char *desc, size_t dn) {
    int blocks[16];
    if (!is_efficientnet(b->c, desc, dn)) {
        pp_ab_get(b, "features.0.0.weight", 4, NULL);
        pp_ab_get(b, "features.1.0.block.0.0.weight", 4, NULL);
        pp_ab_get(b, "classifier.1.weight", 2, NULL);
        return -1;
    }
    pp_ab_check_name(b, desc, "efficientnet");
    /* torchvision: B5–B7 use BatchNorm2d(eps=0.001), B0–B4 the default 1e-5 */
    if (!b->o->eps_set && (strstr(desc, "_b5") || strstr(desc, "_b6") || strstr(desc, "_b7"))) b->eps = 1e-3;
    int ns = eff_stages(b->c, blocks);
    if (ns != 7) {
        pp_ab_problem(b, "efficientnet has 7 stages (features.1-7), the keys hold %d", ns);
        return -1;
    }
    int64_t ch;
    int x = stem(b, &ch, input, &SILU);
    for (int s = 0; s < ns; s++)
        for (int k = 0; k < blocks[s]; k++) {
            char p[64];
            snprintf(p, sizeof p, "features.%d.%d.block", s + 1, k);
            x = inverted_residual(b, x, p, &ch, k == 0 ? EFF_S[s] : 1, &SILU);
        }
    char head[64];
    snprintf(head, sizeof head, "features.%d", ns + 1);
    x = conv_norm_act(b, x, head, ch, 1, 1, PP_ACT_SILU, 0, 0, -1, &ch);
    x = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, "avgpool");
    x = pp_ab_flatten(b, x, "flatten");
    return pp_ab_classifier(b, x, "classifier.", ch, 0);
}

const pp_arch_family pp_arch_mobilenet_v2 = {
    .names = {"mobilenet_v2", NULL},
    .listed = "mobilenet_v2",
    .detect = is_mobilenet_v2,
    .build = build_mobilenet_v2,
};

const pp_arch_family pp_arch_mobilenet_v3 = {
    .names = {"mobilenet_v3*", NULL},
    .listed = "mobilenet_v3_large/small",
    .detect = is_mobilenet_v3,
    .build = build_mobilenet_v3,
};

const pp_arch_family pp_arch_efficientnet = {
    .names = {"efficientnet*", NULL},
    .listed = "efficientnet_b0..b7",
    .detect = is_efficientnet,
    .build = build_efficientnet,
};

/* arch_densenet.c: torchvision's DenseNet 121/161/169/201 (arch_families.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/params.h"
#include "arch_families.h"

static int dense_blocks(const pp_ckpt *c, int *layers) {
    int nb = 0;
    while (nb < 8 && pp_ab_hasf(c, "features.denseblock%d.denselayer1.conv1.weight", nb + 1, 0, 0)) {
        int l = 0;
        while (l < 256 && pp_ab_hasf(c, "features.denseblock%d.denselayer%d.conv1.weight", nb + 1, l + 1, 0)) l++;
        if (layers) layers[nb] = l;
        nb++;
    }
    return nb;
}

static int is_densenet(const pp_ckpt *c, char *desc, size_t n) {
    int layers[8];
    if (!pp_ab_find4(c, "features.conv0.weight", 0, 0, 0) || !pp_ckpt_find(c, "classifier.weight")) return 0;
    int nb = dense_blocks(c, layers);
    if (nb < 1) return 0;
    static const struct {
        int l[4];
        const char *name;
    } tab[] = {
        {{6, 12, 24, 16}, "densenet121"},
        {{6, 12, 36, 24}, "densenet161"},
        {{6, 12, 32, 32}, "densenet169"},
        {{6, 12, 48, 32}, "densenet201"},
    };
    const char *name = "densenet";
    for (size_t i = 0; nb == 4 && i < sizeof tab / sizeof tab[0]; i++)
        if (!memcmp(tab[i].l, layers, sizeof tab[i].l)) name = tab[i].name;
    char bl[64] = "";
    for (int i = 0; i < nb; i++) snprintf(bl + strlen(bl), sizeof bl - strlen(bl), "%s%d", i ? "," : "", layers[i]);
    const pp_ckpt_tensor *g = pp_ab_find4(c, "features.denseblock1.denselayer1.conv2.weight", 0, 0, 0);
    snprintf(desc, n, "%s (layers %s; growth %" PRId64 ")", name, bl, g ? g->dims[0] : -1);
    return 1;
}

/* BatchNorm node then ReLU (pre-activation: BN cannot fold into the conv after the ReLU). */
static int bn_relu(pp_ab *b, int x, const char *p, int64_t ch) {
    char nm[160];
    snprintf(nm, sizeof nm, "%s.relu", p);
    return pp_ab_unary(b, PP_OP_RELU, pp_ab_batchnorm(b, x, p, ch), nm);
}

static int build_densenet(pp_ab *b, int *input, char *desc, size_t dn) {
    int layers[8];
    if (!is_densenet(b->c, desc, dn)) {
        pp_ab_get(b, "features.conv0.weight", 4, NULL);
        pp_ab_get(b, "features.denseblock1.denselayer1.conv1.weight", 4, NULL);
        pp_ab_get(b, "classifier.weight", 2, NULL);
        return -1;
    }
    pp_ab_check_name(b, desc, "densenet");
    int nb = dense_blocks(b->c, layers);
    const pp_ckpt_tensor *w0 = pp_ckpt_find(b->c, "features.conv0.weight");
    int64_t c, h, wd, ch;
    pp_ab_input_size(b, w0 && w0->rank == 4 ? w0->dims[1] : 3, &c, &h, &wd);
    *input = pp_ab_input(b, "input", 3, (int64_t[]){c, h, wd});
    pp_ab_conv cv = {.w = "features.conv0",
                     .bn = "features.norm0",
                     .cin = c,
                     .stride = 2,
                     .pad = -1,
                     .groups = 1,
                     .act = PP_ACT_RELU,
                     .residual = -1};
    int x = pp_ab_conv_layer(b, *input, &cv, &ch);
    x = pp_ab_pool(b, PP_OP_MAXPOOL, x, 3, 2, 1, "features.pool0");
    for (int k = 0; k < nb; k++) {
        for (int l = 0; l < layers[k]; l++) {
            char p[96], n1[112], c1[112], n2[112], c2[112], cat[112];
            snprintf(p, sizeof p, "features.denseblock%d.denselayer%d", k + 1, l + 1);
            snprintf(n1, sizeof n1, "%s.norm1", p);
            snprintf(c1, sizeof c1, "%s.conv1", p);
            snprintf(n2, sizeof n2, "%s.norm2", p);
            snprintf(c2, sizeof c2, "%s.conv2", p);
            snprintf(cat, sizeof cat, "%s.cat", p);
            int64_t mid, growth;
            int y = bn_relu(b, x, n1, ch);
            pp_ab_conv a = {
                .w = c1, .bn = n2, .cin = ch, .stride = 1, .pad = 0, .groups = 1, .act = PP_ACT_RELU, .residual = -1};
            y = pp_ab_conv_layer(b, y, &a, &mid);
            pp_ab_conv a2 = {.w = c2, .cin = mid, .stride = 1, .pad = -1, .groups = 1, .residual = -1};
            y = pp_ab_conv_layer(b, y, &a2, &growth);
            x = pp_ab_concat(b, x, y, cat);
            ch = ch >= 0 && growth >= 0 ? ch + growth : -1;
        }
        if (k + 1 < nb) {
            char p[64], nn[80], cc[80], pool[80];
            snprintf(p, sizeof p, "features.transition%d", k + 1);
            snprintf(nn, sizeof nn, "%s.norm", p);
            snprintf(cc, sizeof cc, "%s.conv", p);
            snprintf(pool, sizeof pool, "%s.pool", p);
            x = bn_relu(b, x, nn, ch);
            pp_ab_conv t = {.w = cc, .cin = ch, .stride = 1, .pad = 0, .groups = 1, .residual = -1};
            x = pp_ab_conv_layer(b, x, &t, &ch);
            x = pp_ab_pool(b, PP_OP_AVGPOOL, x, 2, 2, 0, pool);
        }
    }
    x = bn_relu(b, x, "features.norm5", ch);
    x = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, "avgpool");
    x = pp_ab_flatten(b, x, "flatten");
    return pp_ab_linear(b, x, "classifier", ch, 0, NULL);
}

const pp_arch_family pp_arch_densenet = {
    .names = {"densenet*", NULL},
    .listed = "densenet121/161/169/201",
    .detect = is_densenet,
    .build = build_densenet,
};

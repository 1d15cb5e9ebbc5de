/* arch_convnext.c: torchvision's ConvNeXt tiny/small/base/large
 * (arch_families.h). features.0: conv 4x4/4 + LayerNorm2d; odd features.S:
 * CNBlocks (block.0 depthwise 7x7, then channels-last: block.2 LayerNorm,
 * block.3 linear + GELU, block.5 linear, times layer_scale, plus the input);
 * even features.S: LayerNorm2d + conv 2x2/2; then a global average pool,
 * classifier.0 LayerNorm, classifier.2 linear. Every norm has eps 1e-6. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/params.h"
#include "arch_families.h"
#include "arch_layers.h"

#define CN_EPS 1e-6
static const int64_t TO_NHWC[4] = {0, 2, 3, 1}, TO_NCHW[4] = {0, 3, 1, 2};

static int stage_blocks(const pp_ckpt *c, int s) {
    int k = 0;
    while (k < 256 && pp_ab_hasf(c, "features.%d.%d.block.0.weight", s, k, 0)) k++;
    return k;
}

static int detect_convnext(const pp_ckpt *c, char *desc, size_t n) {
    if (!pp_ab_find4(c, "features.0.0.weight", 0, 0, 0) || !pp_ckpt_find(c, "classifier.2.weight") ||
        !stage_blocks(c, 1))
        return 0;
    char bl[64] = "";
    int s = 1;
    for (; s < 32 && stage_blocks(c, s); s += 2)
        pp_ab_append(bl, sizeof bl, "%s%d", s > 1 ? "," : "", stage_blocks(c, s));
    const pp_ckpt_tensor *w0 = pp_ab_find4(c, "features.0.0.weight", 0, 0, 0);
    int64_t d = w0->dims[0];
    const char *v = d == 96 ? "convnext_tiny" : d == 128 ? "convnext_base" : d == 192 ? "convnext_large" : "convnext";
    if (d == 96 && !strcmp(bl, "3,3,27,3")) v = "convnext_small";
    snprintf(desc, n, "%s (blocks %s; width %" PRId64 ")", v, bl, d);
    return 1;
}

/* LayerNorm over the channels of an NCHW tensor (torchvision's LayerNorm2d). */
static int layernorm2d(pp_ab *b, int x, const char *p, int64_t c) {
    char n1[128], n2[128];
    snprintf(n1, sizeof n1, "%s.nhwc", p);
    snprintf(n2, sizeof n2, "%s.nchw", p);
    x = pp_ab_transpose(b, x, 4, TO_NHWC, n1);
    return pp_ab_transpose(b, pp_ab_layernorm(b, x, p, c, CN_EPS), 4, TO_NCHW, n2);
}

static int cn_block(pp_ab *b, int x, const char *p, int64_t c) {
    char k[128], nm[128];
    int64_t t;
    snprintf(k, sizeof k, "%s.block.0", p);
    pp_ab_conv dw = {.w = k, .cin = c, .stride = 1, .pad = -1, .groups = 0, .residual = -1};
    snprintf(nm, sizeof nm, "%s.nhwc", p);
    int y = pp_ab_transpose(b, pp_ab_conv_layer(b, x, &dw, &t), 4, TO_NHWC, nm);
    snprintf(k, sizeof k, "%s.block.2", p);
    y = pp_ab_layernorm(b, y, k, c, CN_EPS);
    snprintf(k, sizeof k, "%s.block.3", p);
    y = pp_ab_linear_nd(b, y, k, c, PP_OP_GELU, &t);
    snprintf(k, sizeof k, "%s.block.5", p);
    y = pp_ab_linear_nd(b, y, k, t, 0, &t);
    snprintf(k, sizeof k, "%s.layer_scale", p);
    y = pp_ab_binary(b, PP_OP_MUL, y, pp_ab_param(b, k, 1, &c), k);
    snprintf(nm, sizeof nm, "%s.nchw", p);
    y = pp_ab_transpose(b, y, 4, TO_NCHW, nm);
    snprintf(nm, sizeof nm, "%s.add", p);
    return pp_ab_binary(b, PP_OP_ADD, y, x, nm);
}

static int build_convnext(pp_ab *b, int *input, char *desc, size_t dn) {
    if (!detect_convnext(b->c, desc, dn)) {
        pp_ab_get(b, "features.0.0.weight", 4, NULL);
        pp_ab_get(b, "features.1.0.block.0.weight", 4, NULL);
        pp_ab_get(b, "classifier.2.weight", 2, NULL);
        return -1;
    }
    pp_ab_check_name(b, desc, "convnext");
    const pp_ckpt_tensor *w0 = pp_ab_find4(b->c, "features.0.0.weight", 0, 0, 0);
    int64_t c, h, w, ch;
    pp_ab_input_size(b, w0->dims[1], &c, &h, &w);
    *input = pp_ab_input(b, "input", 3, (int64_t[]){c, h, w});
    pp_ab_conv stem = {
        .w = "features.0.0", .cin = c, .stride = (int)w0->dims[2], .pad = 0, .groups = 1, .residual = -1};
    int x = layernorm2d(b, pp_ab_conv_layer(b, *input, &stem, &ch), "features.0.1", w0->dims[0]);
    for (int s = 1; s < 32 && stage_blocks(b->c, s); s += 2) {
        for (int k = 0; k < stage_blocks(b->c, s); k++) {
            char p[64];
            snprintf(p, sizeof p, "features.%d.%d", s, k);
            x = cn_block(b, x, p, ch);
        }
        char nk[64], ck[64];
        snprintf(nk, sizeof nk, "features.%d.0", s + 1);
        snprintf(ck, sizeof ck, "features.%d.1", s + 1);
        if (!pp_ab_hasf(b->c, "features.%d.1.weight", s + 1, 0, 0)) break;
        x = layernorm2d(b, x, nk, ch);
        pp_ab_conv down = {.w = ck, .cin = ch, .stride = 2, .pad = 0, .groups = 1, .residual = -1};
        x = pp_ab_conv_layer(b, x, &down, &ch);
    }
    x = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, "avgpool");
    x = pp_ab_layernorm(b, pp_ab_flatten(b, x, "flatten"), "classifier.0", ch, CN_EPS);
    return pp_ab_linear(b, x, "classifier.2", ch, 0, NULL);
}

const pp_arch_family pp_arch_convnext = {
    .names = {"convnext*", NULL},
    .listed = "convnext_tiny/small/base/large",
    .detect = detect_convnext,
    .build = build_convnext,
};

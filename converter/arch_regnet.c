/* arch_regnet.c: torchvision's RegNetX and RegNetY (arch_families.h). stem:
 * conv 3x3/2 + BN + ReLU; trunk_output.blockS.blockS-K: ResBottleneckBlock,
 * f = a (1x1 + BN + ReLU), b (3x3, groups from its weight, stride 2 in the
 * first block of a stage, + BN + ReLU), [se: average pool, fc1 + ReLU, fc2 +
 * sigmoid, multiply: RegNetY], c (1x1 + BN); out = ReLU(f(x) + proj(x)), proj
 * a 1x1 + BN when present, else x; a global average pool, fc. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/params.h"
#include "arch_families.h"

static int stage_blocks(const pp_ckpt *c, int s) {
    int k = 0;
    while (k < 256 && pp_ab_hasf(c, "trunk_output.block%d.block%d-%d.f.a.0.weight", s, s, k)) k++;
    return k;
}

static int detect_regnet(const pp_ckpt *c, char *desc, size_t n) {
    if (!pp_ab_find4(c, "stem.0.weight", 0, 0, 0) || !pp_ckpt_find(c, "fc.weight") || !stage_blocks(c, 1)) return 0;
    char bl[64] = "";
    int s = 1;
    for (; s <= 16 && stage_blocks(c, s); s++)
        pp_ab_append(bl, sizeof bl, "%s%d", s > 1 ? "," : "", stage_blocks(c, s));
    int se = pp_ab_hasf(c, "trunk_output.block1.block1-0.f.se.fc1.weight", 0, 0, 0);
    snprintf(desc, n, "regnet_%s (blocks %s%s)", se ? "y" : "x", bl, se ? "; squeeze-excitation" : "");
    return 1;
}

static int conv_bn(pp_ab *b, int x, const char *p, const char *sub, int64_t cin, int stride, int act, int residual,
                   int64_t *cout) {
    char w[160], bn[160];
    snprintf(w, sizeof w, "%s.%s.0", p, sub);
    snprintf(bn, sizeof bn, "%s.%s.1", p, sub);
    pp_ab_conv cv = {
        .w = w, .bn = bn, .cin = cin, .stride = stride, .pad = -1, .groups = 0, .act = act, .residual = residual};
    return pp_ab_conv_layer(b, x, &cv, cout);
}

/* torchvision's SqueezeExcitation: x * sigmoid(fc2(relu(fc1(mean(x))))). */
static int squeeze_excite(pp_ab *b, int x, const char *p, int64_t ch) {
    char k1[160], k2[160], nm[160];
    int64_t sq, c2;
    snprintf(nm, sizeof nm, "%s.avgpool", p);
    int s = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, nm);
    snprintf(k1, sizeof k1, "%s.fc1", p);
    snprintf(k2, sizeof k2, "%s.fc2", p);
    pp_ab_conv f1 = {.w = k1, .cin = ch, .stride = 1, .pad = 0, .groups = 1, .act = PP_ACT_RELU, .residual = -1};
    s = pp_ab_conv_layer(b, s, &f1, &sq);
    pp_ab_conv f2 = {.w = k2, .cin = sq, .stride = 1, .pad = 0, .groups = 1, .act = PP_ACT_SIGMOID, .residual = -1};
    s = pp_ab_conv_layer(b, s, &f2, &c2);
    snprintf(nm, sizeof nm, "%s.scale", p);
    return pp_ab_binary(b, PP_OP_MUL, x, s, nm);
}

static int block(pp_ab *b, int x, const char *p, int stride, int64_t *ch) {
    char key[160], f[128];
    int64_t w, out;
    snprintf(key, sizeof key, "%s.proj.0.weight", p);
    snprintf(f, sizeof f, "%s.f", p);
    int id = x;
    if (pp_ab_has(b, key)) id = conv_bn(b, x, p, "proj", *ch, stride, 0, -1, &out);
    int y = conv_bn(b, x, f, "a", *ch, 1, PP_ACT_RELU, -1, &w);
    y = conv_bn(b, y, f, "b", w, stride, PP_ACT_RELU, -1, &w);
    snprintf(key, sizeof key, "%s.se.fc1.weight", f);
    if (pp_ab_has(b, key)) {
        char se[140];
        snprintf(se, sizeof se, "%s.se", f);
        y = squeeze_excite(b, y, se, w);
    }
    y = conv_bn(b, y, f, "c", w, 1, PP_ACT_RELU, id < 0 ? -2 : id, &out);
    *ch = out;
    return y;
}

static int build_regnet(pp_ab *b, int *input, char *desc, size_t dn) {
    if (!detect_regnet(b->c, desc, dn)) {
        pp_ab_get(b, "stem.0.weight", 4, NULL);
        pp_ab_get(b, "trunk_output.block1.block1-0.f.a.0.weight", 4, NULL);
        pp_ab_get(b, "fc.weight", 2, NULL);
        return -1;
    }
    /* torchvision's names (regnet_y_400mf, ...) say X or Y and a size the keys
     * already fix: the X/Y must agree. */
    size_t fl = strlen(b->family);
    if (fl > 6 && strncmp(b->family, desc, 8)) pp_ab_problem(b, "the keys hold %s, not %s", desc, b->family);
    const pp_ckpt_tensor *w0 = pp_ab_find4(b->c, "stem.0.weight", 0, 0, 0);
    int64_t c, h, w, ch;
    pp_ab_input_size(b, w0->dims[1], &c, &h, &w);
    *input = pp_ab_input(b, "input", 3, (int64_t[]){c, h, w});
    pp_ab_conv stem = {.w = "stem.0",
                       .bn = "stem.1",
                       .cin = c,
                       .stride = 2,
                       .pad = -1,
                       .groups = 1,
                       .act = PP_ACT_RELU,
                       .residual = -1};
    int x = pp_ab_conv_layer(b, *input, &stem, &ch);
    for (int s = 1; s <= 16 && stage_blocks(b->c, s); s++)
        for (int k = 0; k < stage_blocks(b->c, s); k++) {
            char p[96];
            snprintf(p, sizeof p, "trunk_output.block%d.block%d-%d", s, s, k);
            x = block(b, x, p, k ? 1 : 2, &ch);
        }
    x = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, "avgpool");
    x = pp_ab_flatten(b, x, "flatten");
    return pp_ab_linear(b, x, "fc", ch, 0, NULL);
}

const pp_arch_family pp_arch_regnet = {
    .names = {"regnet*", NULL},
    .listed = "regnet_x_*, regnet_y_*",
    .detect = detect_regnet,
    .build = build_regnet,
};

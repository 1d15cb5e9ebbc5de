/* arch_googlenet.c: torchvision's GoogLeNet (arch_families.h). BasicConv2d is
 * conv (no bias) + BatchNorm (eps 1e-3) + ReLU: conv1 7x7/2, max pool 3/2,
 * conv2 1x1, conv3 3x3, max pool 3/2, inception 3a 3b, max pool 3/2, 4a..4e,
 * max pool 2/2, 5a 5b (all pools ceil_mode), a global average pool, fc. An
 * Inception concatenates branch1 (1x1), branch2 (1x1, 3x3), branch3 (1x1, 3x3:
 * torchvision's kernel, read from the weight) and branch4 (max pool 3/1/1,
 * 1x1). The training-only aux1/aux2 heads are ignored. transform_input=1
 * applies the input renormalisation of torchvision's pretrained weights. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/params.h"
#include "arch_families.h"
#include "arch_layers.h"

static const char *const INCEPTIONS[9] = {"inception3a", "inception3b", "inception4a", "inception4b", "inception4c",
                                          "inception4d", "inception4e", "inception5a", "inception5b"};

static int detect_googlenet(const pp_ckpt *c, char *desc, size_t n) {
    if (!pp_ab_find4(c, "conv1.conv.weight", 0, 0, 0) || !pp_ckpt_find(c, "fc.weight")) return 0;
    for (int i = 0; i < 9; i++) {
        char k[96];
        snprintf(k, sizeof k, "%s.branch1.conv.weight", INCEPTIONS[i]);
        if (!pp_ckpt_find(c, k)) return 0;
    }
    snprintf(desc, n, "googlenet (9 inception modules%s)",
             pp_ckpt_find(c, "aux1.conv.conv.weight") ? "; aux heads ignored" : "");
    return 1;
}

/* BasicConv2d P: P.conv + P.bn (eps 1e-3) + ReLU. */
static int basic(pp_ab *b, int x, const char *p, int64_t cin, int stride, int64_t *cout) {
    char w[112], bn[112];
    snprintf(w, sizeof w, "%s.conv", p);
    snprintf(bn, sizeof bn, "%s.bn", p);
    double eps = b->eps;
    b->eps = b->o->eps_set ? b->o->eps : 1e-3;
    pp_ab_conv cv = {
        .w = w, .bn = bn, .cin = cin, .stride = stride, .pad = -1, .groups = 1, .act = PP_ACT_RELU, .residual = -1};
    int y = pp_ab_conv_layer(b, x, &cv, cout);
    b->eps = eps;
    return y;
}

static int inception(pp_ab *b, int x, const char *p, int64_t *ch) {
    char k[4][96], nm[96];
    int64_t c[4] = {-1, -1, -1, -1}, t;
    int y[4];
    snprintf(k[0], sizeof k[0], "%s.branch1", p);
    y[0] = basic(b, x, k[0], *ch, 1, &c[0]);
    for (int br = 2; br <= 3; br++) {
        snprintf(k[0], sizeof k[0], "%s.branch%d.0", p, br);
        snprintf(k[1], sizeof k[1], "%s.branch%d.1", p, br);
        int r = basic(b, x, k[0], *ch, 1, &t);
        y[br - 1] = basic(b, r, k[1], t, 1, &c[br - 1]);
    }
    snprintf(nm, sizeof nm, "%s.branch4.0", p);
    snprintf(k[3], sizeof k[3], "%s.branch4.1", p);
    y[3] = basic(b, pp_ab_maxpool_ceil(b, x, 3, 1, 1, nm), k[3], *ch, 1, &c[3]);
    *ch = c[0] + c[1] + c[2] + c[3];
    snprintf(nm, sizeof nm, "%s.cat", p);
    return pp_ab_concat_n(b, y, 4, 1, nm);
}

/* torchvision's transform_input: channel i becomes x * (std_i / 0.5) + (mean_i - 0.5) / 0.5. */
static int transform_input(pp_ab *b, int x) {
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    float s[3], o[3];
    for (int i = 0; i < 3; i++) s[i] = std[i] / 0.5f, o[i] = (mean[i] - 0.5f) / 0.5f;
    int64_t d[3] = {3, 1, 1};
    int sc = pp_ab_const(b, "transform_input.scale", 3, d, s), sh = pp_ab_const(b, "transform_input.shift", 3, d, o);
    return pp_ab_binary(b, PP_OP_ADD, pp_ab_binary(b, PP_OP_MUL, x, sc, "transform_input.mul"), sh, "transform_input");
}

static int build_googlenet(pp_ab *b, int *input, char *desc, size_t dn) {
    if (!detect_googlenet(b->c, desc, dn)) {
        pp_ab_get(b, "conv1.conv.weight", 4, NULL);
        pp_ab_get(b, "inception3a.branch1.conv.weight", 4, NULL);
        pp_ab_get(b, "fc.weight", 2, NULL);
        return -1;
    }
    pp_ab_check_name(b, desc, "googlenet");
    pp_ab_ignore_prefix(b, "aux1.");
    pp_ab_ignore_prefix(b, "aux2.");
    const pp_ckpt_tensor *w0 = pp_ab_find4(b->c, "conv1.conv.weight", 0, 0, 0);
    int64_t c, h, w, ch;
    pp_ab_input_size(b, w0->dims[1], &c, &h, &w);
    *input = pp_ab_input(b, "input", 3, (int64_t[]){c, h, w});
    int x = *input;
    if (b->o->transform) {
        if (c != 3) pp_ab_problem(b, "transform_input needs 3 input channels, not %" PRId64, c);
        x = transform_input(b, x);
    }
    x = basic(b, x, "conv1", c, 2, &ch);
    x = pp_ab_maxpool_ceil(b, x, 3, 2, 0, "maxpool1");
    x = basic(b, x, "conv2", ch, 1, &ch);
    x = basic(b, x, "conv3", ch, 1, &ch);
    x = pp_ab_maxpool_ceil(b, x, 3, 2, 0, "maxpool2");
    for (int i = 0; i < 9; i++) {
        x = inception(b, x, INCEPTIONS[i], &ch);
        if (i == 1) x = pp_ab_maxpool_ceil(b, x, 3, 2, 0, "maxpool3");
        if (i == 6) x = pp_ab_maxpool_ceil(b, x, 2, 2, 0, "maxpool4");
    }
    x = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, "avgpool");
    x = pp_ab_flatten(b, x, "flatten");
    return pp_ab_linear(b, x, "fc", ch, 0, NULL);
}

const pp_arch_family pp_arch_googlenet = {
    .names = {"googlenet", NULL},
    .listed = "googlenet",
    .detect = detect_googlenet,
    .build = build_googlenet,
};

/* arch_mnasnet.c: torchvision's MNASNet 0.5/0.75/1.0/1.3 (arch_families.h).
 * layers.0-7: conv 3x3/2 + BN + ReLU, depthwise 3x3 + BN + ReLU, conv 1x1 + BN;
 * layers.8-13: stacks of inverted residual blocks (layers.S.B.layers.{0,3,6}
 * with BatchNorm at 1, 4, 7), the first of each stack with torchvision's
 * stride (2, 2, 2, 1, 2, 1), the depthwise kernel from its weight, the input
 * added when the stride is 1 and the widths agree; layers.14-16 conv 1x1 + BN
 * + ReLU; the spatial mean; classifier.1. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/params.h"
#include "arch_families.h"

static const int STACK_STRIDE[6] = {2, 2, 2, 1, 2, 1};

static int stack_blocks(const pp_ckpt *c, int s) {
    int k = 0;
    while (k < 64 && pp_ab_hasf(c, "layers.%d.%d.layers.0.weight", s, k, 0)) k++;
    return k;
}

static int detect_mnasnet(const pp_ckpt *c, char *desc, size_t n) {
    if (!pp_ab_find4(c, "layers.0.weight", 0, 0, 0) || !pp_ab_find4(c, "layers.14.weight", 0, 0, 0) ||
        !pp_ckpt_find(c, "classifier.1.weight"))
        return 0;
    char bl[64] = "";
    for (int s = 8; s <= 13; s++) {
        if (!stack_blocks(c, s)) return 0;
        pp_ab_append(bl, sizeof bl, "%s%d", s > 8 ? "," : "", stack_blocks(c, s));
    }
    const pp_ckpt_tensor *w0 = pp_ab_find4(c, "layers.0.weight", 0, 0, 0);
    int64_t d = w0->dims[0];
    const char *v = d == 16   ? "mnasnet0_5"
                    : d == 24 ? "mnasnet0_75"
                    : d == 32 ? "mnasnet1_0"
                    : d == 40 ? "mnasnet1_3"
                              : "mnasnet";
    snprintf(desc, n, "%s (stacks %s; stem width %" PRId64 ")", v, bl, d);
    return 1;
}

/* Conv P.<i> + BN P.<i+1>, [ReLU]; groups 0: depthwise when the weight says so. */
static int conv_bn(pp_ab *b, int x, const char *p, int i, int64_t cin, int stride, int relu, int residual,
                   int64_t *cout) {
    char w[96], bn[96];
    snprintf(w, sizeof w, "%s%d", p, i);
    snprintf(bn, sizeof bn, "%s%d", p, i + 1);
    pp_ab_conv cv = {.w = w,
                     .bn = bn,
                     .cin = cin,
                     .stride = stride,
                     .pad = -1,
                     .groups = 0,
                     .act = relu ? PP_ACT_RELU : 0,
                     .residual = residual};
    return pp_ab_conv_layer(b, x, &cv, cout);
}

static int build_mnasnet(pp_ab *b, int *input, char *desc, size_t dn) {
    if (!detect_mnasnet(b->c, desc, dn)) {
        pp_ab_get(b, "layers.0.weight", 4, NULL);
        pp_ab_get(b, "layers.8.0.layers.0.weight", 4, NULL);
        pp_ab_get(b, "classifier.1.weight", 2, NULL);
        return -1;
    }
    pp_ab_check_name(b, desc, "mnasnet");
    const pp_ckpt_tensor *w0 = pp_ab_find4(b->c, "layers.0.weight", 0, 0, 0);
    int64_t c, h, w, ch;
    pp_ab_input_size(b, w0->dims[1], &c, &h, &w);
    *input = pp_ab_input(b, "input", 3, (int64_t[]){c, h, w});
    int x = conv_bn(b, *input, "layers.", 0, c, 2, 1, -1, &ch);
    x = conv_bn(b, x, "layers.", 3, ch, 1, 1, -1, &ch);
    x = conv_bn(b, x, "layers.", 6, ch, 1, 0, -1, &ch);
    for (int s = 8; s <= 13; s++)
        for (int k = 0; k < stack_blocks(b->c, s); k++) {
            char p[64];
            snprintf(p, sizeof p, "layers.%d.%d.layers.", s, k);
            int stride = k ? 1 : STACK_STRIDE[s - 8];
            int64_t mid, out;
            int y = conv_bn(b, x, p, 0, ch, 1, 1, -1, &mid);
            y = conv_bn(b, y, p, 3, mid, stride, 1, -1, &mid);
            char last[96];
            snprintf(last, sizeof last, "%s6.weight", p);
            const pp_ckpt_tensor *lw = pp_ckpt_find(b->c, last);
            int res = stride == 1 && lw && lw->rank == 4 && lw->dims[0] == ch ? x : -1;
            x = conv_bn(b, y, p, 6, mid, 1, 0, res, &out);
            ch = out;
        }
    x = conv_bn(b, x, "layers.", 14, ch, 1, 1, -1, &ch);
    x = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, "mean");
    x = pp_ab_flatten(b, x, "flatten");
    return pp_ab_linear(b, x, "classifier.1", ch, 0, NULL);
}

const pp_arch_family pp_arch_mnasnet = {
    .names = {"mnasnet*", NULL},
    .listed = "mnasnet0_5/0_75/1_0/1_3",
    .detect = detect_mnasnet,
    .build = build_mnasnet,
};

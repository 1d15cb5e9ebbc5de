/* arch_shufflenet.c: torchvision's ShuffleNetV2 (arch_families.h). conv1 3x3/2
 * + BN + ReLU, max pool 3/2/1, stages stage2..stage4 of InvertedResidual
 * blocks (the first of each with stride 2 and two branches; the others split
 * the channels in half and transform one), each followed by a channel shuffle
 * of 2 groups; conv5 1x1 + BN + ReLU, a global average pool, fc. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/params.h"
#include "arch_families.h"
#include "arch_layers.h"

static int stage_blocks(const pp_ckpt *c, int s) {
    int k = 0;
    while (k < 256 && pp_ab_hasf(c, "stage%d.%d.branch2.0.weight", s, k, 0)) k++;
    return k;
}

static int detect_shufflenet(const pp_ckpt *c, char *desc, size_t n) {
    if (!pp_ab_find4(c, "conv1.0.weight", 0, 0, 0) || !pp_ckpt_find(c, "fc.weight") || !stage_blocks(c, 2)) return 0;
    const pp_ckpt_tensor *c5 = pp_ab_find4(c, "conv5.0.weight", 0, 0, 0);
    int64_t w = c5 ? c5->dims[1] : 0;
    const char *v = w == 192   ? "shufflenet_v2_x0_5"
                    : w == 464 ? "shufflenet_v2_x1_0"
                    : w == 704 ? "shufflenet_v2_x1_5"
                    : w == 976 ? "shufflenet_v2_x2_0"
                               : "shufflenet_v2";
    snprintf(desc, n, "%s (blocks %d,%d,%d; stage4 width %" PRId64 ")", v, stage_blocks(c, 2), stage_blocks(c, 3),
             stage_blocks(c, 4), w);
    return 1;
}

/* Conv + BN [+ ReLU] with keys P.<i> and P.<i+1>. */
static int cbr(pp_ab *b, int x, const char *p, int i, int64_t cin, int stride, int groups, int relu, int64_t *cout) {
    char w[112], bn[112];
    snprintf(w, sizeof w, "%s.%d", p, i);
    snprintf(bn, sizeof bn, "%s.%d", p, i + 1);
    pp_ab_conv cv = {.w = w,
                     .bn = bn,
                     .cin = cin,
                     .stride = stride,
                     .pad = -1,
                     .groups = groups,
                     .act = relu ? PP_ACT_RELU : 0,
                     .residual = -1};
    return pp_ab_conv_layer(b, x, &cv, cout);
}

/* (N, C, H, W) -> view (N, 2, C/2, H, W) -> transpose 1, 2 -> view (N, C, H, W). */
static int shuffle(pp_ab *b, int x, int64_t c, int64_t h, int64_t w, const char *p) {
    char n1[96], n2[96], n3[96];
    snprintf(n1, sizeof n1, "%s.shuffle_view", p);
    snprintf(n2, sizeof n2, "%s.shuffle", p);
    snprintf(n3, sizeof n3, "%s.shuffle_out", p);
    x = pp_ab_reshape(b, x, 5, (int64_t[]){0, 2, c / 2, h, w}, n1);
    x = pp_ab_transpose(b, x, 5, (int64_t[]){0, 2, 1, 3, 4}, n2);
    return pp_ab_reshape(b, x, 4, (int64_t[]){0, c, h, w}, n3);
}

static int block(pp_ab *b, int x, const char *p, int stride, int64_t *ch, int64_t h, int64_t w) {
    char b1[96], b2[96], nm[96];
    snprintf(b1, sizeof b1, "%s.branch1", p);
    snprintf(b2, sizeof b2, "%s.branch2", p);
    int64_t c = *ch, bf = -1, t;
    int left, right = x;
    if (stride > 1) {
        left = cbr(b, x, b1, 0, c, stride, (int)c, 0, &t);
        left = cbr(b, left, b1, 2, c, 1, 1, 1, &bf);
    } else {
        snprintf(nm, sizeof nm, "%s.x1", p);
        left = pp_ab_slice(b, x, 1, 0, c / 2, 1, nm);
        snprintf(nm, sizeof nm, "%s.x2", p);
        right = pp_ab_slice(b, x, 1, c / 2, c, 1, nm);
        c /= 2;
    }
    right = cbr(b, right, b2, 0, c, 1, 1, 1, &bf);
    right = cbr(b, right, b2, 3, bf, stride, (int)(bf > 0 ? bf : 1), 0, &t);
    right = cbr(b, right, b2, 5, bf, 1, 1, 1, &t);
    snprintf(nm, sizeof nm, "%s.cat", p);
    x = pp_ab_concat(b, left, right, nm);
    *ch = bf > 0 ? 2 * bf : -1;
    return shuffle(b, x, *ch, h, w, p);
}

static int build_shufflenet(pp_ab *b, int *input, char *desc, size_t dn) {
    if (!detect_shufflenet(b->c, desc, dn)) {
        pp_ab_get(b, "conv1.0.weight", 4, NULL);
        pp_ab_get(b, "stage2.0.branch2.0.weight", 4, NULL);
        pp_ab_get(b, "fc.weight", 2, NULL);
        return -1;
    }
    pp_ab_check_name(b, desc, "shufflenet_v2");
    const pp_ckpt_tensor *w0 = pp_ab_find4(b->c, "conv1.0.weight", 0, 0, 0);
    int64_t c, h, w, ch;
    pp_ab_input_size(b, w0->dims[1], &c, &h, &w);
    *input = pp_ab_input(b, "input", 3, (int64_t[]){c, h, w});
    int x = cbr(b, *input, "conv1", 0, c, 2, 1, 1, &ch);
    x = pp_ab_pool(b, PP_OP_MAXPOOL, x, 3, 2, 1, "maxpool");
    h = (h - 1) / 2 + 1, w = (w - 1) / 2 + 1; /* conv 3/2/1 */
    h = (h - 1) / 2 + 1, w = (w - 1) / 2 + 1; /* max pool 3/2/1 */
    for (int s = 2; s <= 4; s++)
        for (int k = 0; k < stage_blocks(b->c, s); k++) {
            char p[64];
            snprintf(p, sizeof p, "stage%d.%d", s, k);
            if (!k) h = (h - 1) / 2 + 1, w = (w - 1) / 2 + 1;
            x = block(b, x, p, k ? 1 : 2, &ch, h, w);
        }
    x = cbr(b, x, "conv5", 0, ch, 1, 1, 1, &ch);
    x = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, "mean");
    x = pp_ab_flatten(b, x, "flatten");
    return pp_ab_linear(b, x, "fc", ch, 0, NULL);
}

const pp_arch_family pp_arch_shufflenet = {
    .names = {"shufflenet*", NULL},
    .listed = "shufflenet_v2_x0_5/x1_0/x1_5/x2_0",
    .detect = detect_shufflenet,
    .build = build_shufflenet,
};

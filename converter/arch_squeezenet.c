/* arch_squeezenet.c: torchvision's SqueezeNet 1.0 and 1.1 (arch_families.h).
 * features: conv (7x7/2 in 1.0, 3x3/2 in 1.1) + ReLU, then Fire modules
 * (features.K.squeeze / expand1x1 / expand3x3) with a 3x3/2 max pool
 * (ceil_mode) at every index between them that holds no weights; classifier:
 * dropout, a 1x1 conv + ReLU, a global average pool. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/params.h"
#include "arch_families.h"
#include "arch_layers.h"

#define MAX_FEATURES 64

static int is_fire(const pp_ckpt *c, int k) { return pp_ab_hasf(c, "features.%d.squeeze.weight", k, 0, 0); }

static int detect_squeezenet(const pp_ckpt *c, char *desc, size_t n) {
    const pp_ckpt_tensor *w0 = pp_ab_find4(c, "features.0.weight", 0, 0, 0);
    if (!w0 || !pp_ab_find4(c, "classifier.1.weight", 0, 0, 0)) return 0;
    int fires = 0;
    for (int k = 1; k < MAX_FEATURES; k++) fires += is_fire(c, k);
    if (!fires) return 0;
    const char *v = w0->dims[2] == 7 ? "squeezenet1_0" : w0->dims[2] == 3 ? "squeezenet1_1" : "squeezenet";
    snprintf(desc, n, "%s (%d fire modules)", v, fires);
    return 1;
}

static int conv_relu(pp_ab *b, int x, const char *w, int64_t cin, int pad, int64_t *cout) {
    pp_ab_conv cv = {.w = w, .cin = cin, .stride = 1, .pad = pad, .groups = 1, .act = PP_ACT_RELU, .residual = -1};
    return pp_ab_conv_layer(b, x, &cv, cout);
}

/* Fire: squeeze 1x1 + ReLU, then expand 1x1 + ReLU and expand 3x3 + ReLU, concatenated. */
static int fire(pp_ab *b, int x, int k, int64_t *ch) {
    char s[64], e1[64], e3[64], nm[64];
    int64_t sq, c1, c3;
    snprintf(s, sizeof s, "features.%d.squeeze", k);
    snprintf(e1, sizeof e1, "features.%d.expand1x1", k);
    snprintf(e3, sizeof e3, "features.%d.expand3x3", k);
    snprintf(nm, sizeof nm, "features.%d.cat", k);
    x = conv_relu(b, x, s, *ch, 0, &sq);
    int y1 = conv_relu(b, x, e1, sq, 0, &c1), y3 = conv_relu(b, x, e3, sq, 1, &c3);
    *ch = c1 >= 0 && c3 >= 0 ? c1 + c3 : -1;
    return pp_ab_concat(b, y1, y3, nm);
}

static int build_squeezenet(pp_ab *b, int *input, char *desc, size_t dn) {
    if (!detect_squeezenet(b->c, desc, dn)) {
        pp_ab_get(b, "features.0.weight", 4, NULL);
        pp_ab_get(b, "features.3.squeeze.weight", 4, NULL);
        pp_ab_get(b, "classifier.1.weight", 4, NULL);
        return -1;
    }
    pp_ab_check_name(b, desc, "squeezenet");
    const pp_ckpt_tensor *w0 = pp_ab_find4(b->c, "features.0.weight", 0, 0, 0);
    int64_t c, h, w, ch;
    pp_ab_input_size(b, w0->dims[1], &c, &h, &w);
    *input = pp_ab_input(b, "input", 3, (int64_t[]){c, h, w});
    pp_ab_conv stem = {
        .w = "features.0", .cin = c, .stride = 2, .pad = 0, .groups = 1, .act = PP_ACT_RELU, .residual = -1};
    int x = pp_ab_conv_layer(b, *input, &stem, &ch), last = 0;
    for (int k = 1; k < MAX_FEATURES; k++)
        if (is_fire(b->c, k)) last = k;
    for (int k = 2; k <= last; k++) {
        char nm[64];
        snprintf(nm, sizeof nm, "features.%d", k);
        x = is_fire(b->c, k) ? fire(b, x, k, &ch) : pp_ab_maxpool_ceil(b, x, 3, 2, 0, nm);
    }
    x = conv_relu(b, x, "classifier.1", ch, 0, &ch);
    x = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, "classifier.3");
    return pp_ab_flatten(b, x, "flatten");
}

const pp_arch_family pp_arch_squeezenet = {
    .names = {"squeezenet*", NULL},
    .listed = "squeezenet1_0/1_1",
    .detect = detect_squeezenet,
    .build = build_squeezenet,
};

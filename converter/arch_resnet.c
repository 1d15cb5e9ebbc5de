/* arch_resnet.c: torchvision's ResNet, ResNeXt and Wide ResNet (arch_families.h):
 * blocks counted per layer, basic or bottleneck per block (so custom mixes
 * build), groups and width from the first block's convolutions. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/params.h"
#include "arch_families.h"

typedef struct resnet_info {
    int n_layers;
    int blocks[8];
    int nested[8];  /* 1: "layerX.Y.", 0: "layerX." is the block itself */
    int bottleneck; /* of layer1's first block */
    int mixed;      /* 1: some blocks are basic, some bottleneck */
    int groups;     /* of layer1's first 3x3 conv */
    int64_t width;  /* layer1 block 0 conv1 output channels */
} resnet_info;

static void block_prefix(const resnet_info *r, int l, int k, char *out, size_t n) {
    if (r->nested[l]) snprintf(out, n, "layer%d.%d", l + 1, k);
    else snprintf(out, n, "layer%d", l + 1);
}

static int resnet_scan(const pp_ckpt *c, resnet_info *r) {
    memset(r, 0, sizeof *r);
    if (!pp_ckpt_find(c, "conv1.weight") || !pp_ckpt_find(c, "fc.weight")) return 0;
    char key[96];
    for (int l = 0; l < 8; l++) {
        snprintf(key, sizeof key, "layer%d.0.conv1.weight", l + 1);
        if (pp_ckpt_find(c, key)) {
            r->nested[l] = 1;
            int k = 0;
            do snprintf(key, sizeof key, "layer%d.%d.conv1.weight", l + 1, ++k);
            while (k < 1000 && pp_ckpt_find(c, key));
            r->blocks[l] = k;
        } else {
            snprintf(key, sizeof key, "layer%d.conv1.weight", l + 1);
            if (!pp_ckpt_find(c, key)) break;
            r->blocks[l] = 1;
        }
        r->n_layers = l + 1;
    }
    if (!r->n_layers) return 0;
    char pre[64];
    block_prefix(r, 0, 0, pre, sizeof pre);
    snprintf(key, sizeof key, "%s.conv3.weight", pre);
    r->bottleneck = pp_ckpt_find(c, key) != NULL;
    /* Mixed stacks (custom nets) are built block by block; note them. */
    for (int l = 0; l < r->n_layers; l++)
        for (int k = 0; k < r->blocks[l]; k++) {
            char p2[64];
            block_prefix(r, l, k, p2, sizeof p2);
            snprintf(key, sizeof key, "%s.conv3.weight", p2);
            if ((pp_ckpt_find(c, key) != NULL) != r->bottleneck) r->mixed = 1;
        }
    snprintf(key, sizeof key, "%s.conv1.weight", pre);
    const pp_ckpt_tensor *c1 = pp_ckpt_find(c, key);
    snprintf(key, sizeof key, "%s.conv2.weight", pre);
    const pp_ckpt_tensor *c2 = pp_ckpt_find(c, key);
    r->width = c1 && c1->rank == 4 ? c1->dims[0] : 0;
    r->groups = 1;
    if (c2 && c2->rank == 4 && c2->dims[1] > 0 && r->width % c2->dims[1] == 0)
        r->groups = (int)(r->width / c2->dims[1]);
    return 1;
}

static void resnet_name(const resnet_info *r, char *out, size_t n) {
    static const struct {
        int b[4];
        int bottleneck;
        const char *name;
    } tab[] = {
        {{2, 2, 2, 2}, 0, "resnet18"},   {{3, 4, 6, 3}, 0, "resnet34"},   {{3, 4, 6, 3}, 1, "resnet50"},
        {{3, 4, 23, 3}, 1, "resnet101"}, {{3, 8, 36, 3}, 1, "resnet152"},
    };
    const char *base = NULL;
    if (r->n_layers == 4 && r->nested[0])
        for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
            if (!memcmp(tab[i].b, r->blocks, sizeof tab[i].b) && tab[i].bottleneck == r->bottleneck) base = tab[i].name;
    char blocks[64] = "";
    for (int l = 0; l < r->n_layers; l++) pp_ab_append(blocks, sizeof blocks, "%s%d", l ? "," : "", r->blocks[l]);
    const char *kind = r->mixed ? "basic+bottleneck" : r->bottleneck ? "bottleneck" : "basic";
    if (r->mixed) base = NULL;
    if (base && r->bottleneck && r->groups > 1)
        snprintf(out, n, "resnext%s_%dx%" PRId64 "d (bottleneck %s; groups %d; width %" PRId64 ")", base + 6, r->groups,
                 r->width / r->groups, blocks, r->groups, r->width);
    else if (base && r->bottleneck && r->width == 128)
        snprintf(out, n, "wide_%s_2 (bottleneck %s; width %" PRId64 ")", base, blocks, r->width);
    else if (base)
        snprintf(out, n, "%s (%s %s; groups %d; width %" PRId64 ")", base, kind, blocks, r->groups, r->width);
    else
        snprintf(out, n, "resnet (custom: %s blocks %s; groups %d; width %" PRId64 ")", kind, blocks, r->groups,
                 r->width);
}

/* One basic or bottleneck block "pre" on x (ch channels); the output id, *ch updated. */
static int resnet_block(pp_ab *b, int x, const char *pre, int stride, int64_t *ch) {
    char k1[96], k2[96], k3[96], bn1[96], bn2[96], bn3[96], ds[96], dsbn[96], dsk[128], c3w[128];
    snprintf(k1, sizeof k1, "%s.conv1", pre);
    snprintf(k2, sizeof k2, "%s.conv2", pre);
    snprintf(k3, sizeof k3, "%s.conv3", pre);
    snprintf(bn1, sizeof bn1, "%s.bn1", pre);
    snprintf(bn2, sizeof bn2, "%s.bn2", pre);
    snprintf(bn3, sizeof bn3, "%s.bn3", pre);
    snprintf(ds, sizeof ds, "%s.downsample.0", pre);
    snprintf(dsbn, sizeof dsbn, "%s.downsample.1", pre);
    snprintf(dsk, sizeof dsk, "%s.weight", ds);
    snprintf(c3w, sizeof c3w, "%s.weight", k3);
    int identity = x, y;
    int64_t c_out = -1, mid;
    if (pp_ab_has(b, dsk)) {
        pp_ab_conv d = {.w = ds, .bn = dsbn, .cin = *ch, .stride = stride, .pad = 0, .groups = 1, .residual = -1};
        identity = pp_ab_conv_layer(b, x, &d, &c_out);
    }
    /* residual -2 keeps looking keys up and builds nothing. */
    int res = identity < 0 ? -2 : identity;
    if (pp_ab_has(b, c3w)) {
        pp_ab_conv a1 = {
            .w = k1, .bn = bn1, .cin = *ch, .stride = 1, .pad = 0, .groups = 1, .act = PP_ACT_RELU, .residual = -1};
        y = pp_ab_conv_layer(b, x, &a1, &mid);
        pp_ab_conv a2 = {.w = k2,
                         .bn = bn2,
                         .cin = mid,
                         .stride = stride,
                         .pad = -1,
                         .groups = 0,
                         .act = PP_ACT_RELU,
                         .residual = -1};
        y = pp_ab_conv_layer(b, y, &a2, &mid);
        pp_ab_conv a3 = {
            .w = k3, .bn = bn3, .cin = mid, .stride = 1, .pad = 0, .groups = 1, .act = PP_ACT_RELU, .residual = res};
        y = pp_ab_conv_layer(b, y, &a3, &mid);
    } else {
        pp_ab_conv a1 = {.w = k1,
                         .bn = bn1,
                         .cin = *ch,
                         .stride = stride,
                         .pad = -1,
                         .groups = 1,
                         .act = PP_ACT_RELU,
                         .residual = -1};
        y = pp_ab_conv_layer(b, x, &a1, &mid);
        pp_ab_conv a2 = {
            .w = k2, .bn = bn2, .cin = mid, .stride = 1, .pad = -1, .groups = 1, .act = PP_ACT_RELU, .residual = res};
        y = pp_ab_conv_layer(b, y, &a2, &mid);
    }
    if (c_out < 0 && identity == x && mid >= 0 && *ch >= 0 && mid != *ch)
        pp_ab_problem(b, "%s changes %" PRId64 " channels to %" PRId64 " without a downsample", pre, *ch, mid);
    *ch = mid;
    return y;
}

static int build_resnet(pp_ab *b, int *input, char *desc, size_t dn) {
    resnet_info r;
    if (!resnet_scan(b->c, &r)) {
        pp_ab_get(b, "conv1.weight", 4, NULL);
        pp_ab_get(b, "fc.weight", 2, NULL);
        pp_ab_get(b, "layer1.0.conv1.weight", 4, NULL);
        return -1;
    }
    resnet_name(&r, desc, dn);
    pp_ab_check_name(b, desc, "resnet");
    const pp_ckpt_tensor *c1 = pp_ckpt_find(b->c, "conv1.weight");
    int64_t cin, h, w, ch;
    pp_ab_input_size(b, c1 && c1->rank == 4 ? c1->dims[1] : 3, &cin, &h, &w);
    *input = pp_ab_input(b, "input", 3, (int64_t[]){cin, h, w});
    pp_ab_conv cv = {
        .w = "conv1", .bn = "bn1", .cin = cin, .stride = 2, .pad = -1, .groups = 1, .act = PP_ACT_RELU, .residual = -1};
    int x = pp_ab_conv_layer(b, *input, &cv, &ch);
    x = pp_ab_pool(b, PP_OP_MAXPOOL, x, 3, 2, 1, "maxpool");
    for (int l = 0; l < r.n_layers; l++)
        for (int k = 0; k < r.blocks[l]; k++) {
            char pre[64];
            block_prefix(&r, l, k, pre, sizeof pre);
            int stride = 1;
            if (k == 0) stride = l < b->o->n_strides ? b->o->strides[l] : (l == 0 ? 1 : 2);
            x = resnet_block(b, x, pre, stride, &ch);
        }
    x = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, "avgpool");
    x = pp_ab_flatten(b, x, "flatten");
    return pp_ab_linear(b, x, "fc", ch, 0, NULL);
}

static int detect_resnet(const pp_ckpt *c, char *desc, size_t n) {
    resnet_info r;
    if (!resnet_scan(c, &r)) return 0;
    resnet_name(&r, desc, n);
    return 1;
}

const pp_arch_family pp_arch_resnet = {
    .names = {"resnet*", "resnext*", "wide_resnet*", NULL},
    .listed = "resnet18/34/50/101/152, resnext*, wide_resnet*",
    .detect = detect_resnet,
    .build = build_resnet,
};

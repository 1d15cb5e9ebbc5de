/* arch_vit.c: torchvision's VisionTransformer (vit_b/l/h_*; arch_families.h).
 * conv_proj (kernel = stride = patch) to (N, D, h, w), flattened to tokens; the
 * class token in front; plus encoder.pos_embedding; encoder layers
 * (pre-norm: ln_1, multi-head self-attention with in_proj and out_proj, ln_2,
 * mlp.0 + GELU, mlp.3, each added to its input); encoder.ln; token 0; heads
 * (pre_logits + tanh when present, head). LayerNorms have eps 1e-6. The keys
 * do not say the number of heads: heads=N, else 12 for width 768 and 16 for
 * 1024 and 1280 (torchvision's models). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/params.h"
#include "arch_families.h"
#include "arch_layers.h"

#define VIT_EPS 1e-6

static int n_layers(const pp_ckpt *c) {
    int k = 0;
    while (k < 256 && pp_ab_hasf(c, "encoder.layers.encoder_layer_%d.ln_1.weight", k, 0, 0)) k++;
    return k;
}

static int detect_vit(const pp_ckpt *c, char *desc, size_t n) {
    const pp_ckpt_tensor *w0 = pp_ab_find4(c, "conv_proj.weight", 0, 0, 0);
    if (!w0 || !pp_ckpt_find(c, "class_token") || !pp_ckpt_find(c, "encoder.pos_embedding") || !n_layers(c)) return 0;
    int64_t d = w0->dims[0], p = w0->dims[2];
    int l = n_layers(c);
    const char *v = d == 768 && l == 12    ? "vit_b"
                    : d == 1024 && l == 24 ? "vit_l"
                    : d == 1280 && l == 32 ? "vit_h"
                                           : "vit";
    if (strcmp(v, "vit")) snprintf(desc, n, "%s_%" PRId64 " (%d layers; width %" PRId64 ")", v, p, l, d);
    else snprintf(desc, n, "vit (patch %" PRId64 "; %d layers; width %" PRId64 ")", p, l, d);
    return 1;
}

/* Multi-head self-attention of x (N, T, D) with H heads. */
static int attention(pp_ab *b, int x, const char *p, int64_t t, int64_t d, int64_t heads) {
    char wk[160], bk[160], nm[160];
    int64_t k3;
    snprintf(wk, sizeof wk, "%s.in_proj_weight", p);
    snprintf(bk, sizeof bk, "%s.in_proj_bias", p);
    snprintf(nm, sizeof nm, "%s.in_proj", p);
    int qkv = pp_ab_linear_keys(b, x, wk, bk, nm, d, 0, &k3);
    snprintf(nm, sizeof nm, "%s.qkv_heads", p);
    qkv = pp_ab_reshape(b, qkv, 5, (int64_t[]){0, t, 3, heads, d / heads}, nm);
    snprintf(nm, sizeof nm, "%s.qkv", p);
    qkv = pp_ab_transpose(b, qkv, 5, (int64_t[]){2, 0, 3, 1, 4}, nm); /* (3, N, H, T, D/H) */
    int qkv3[3];
    for (int i = 0; i < 3; i++) {
        snprintf(nm, sizeof nm, "%s.%c", p, "qkv"[i]);
        qkv3[i] = pp_ab_select(b, qkv, 0, i, nm);
    }
    snprintf(nm, sizeof nm, "%s.attention", p);
    int y = qkv3[0] < 0 || qkv3[1] < 0 || qkv3[2] < 0 ? -1 : pp_ab_node(b, PP_OP_ATTENTION, nm, 3, qkv3, NULL);
    snprintf(nm, sizeof nm, "%s.merge", p);
    y = pp_ab_transpose(b, y, 4, (int64_t[]){0, 2, 1, 3}, nm);
    snprintf(nm, sizeof nm, "%s.tokens", p);
    y = pp_ab_reshape(b, y, 3, (int64_t[]){0, t, d}, nm);
    snprintf(nm, sizeof nm, "%s.out_proj", p);
    return pp_ab_linear_nd(b, y, nm, d, 0, NULL);
}

static int encoder_layer(pp_ab *b, int x, int i, int64_t t, int64_t d, int64_t heads) {
    char p[96], k[128], nm[128];
    int64_t m;
    snprintf(p, sizeof p, "encoder.layers.encoder_layer_%d", i);
    snprintf(k, sizeof k, "%s.ln_1", p);
    int y = pp_ab_layernorm(b, x, k, d, VIT_EPS);
    snprintf(k, sizeof k, "%s.self_attention", p);
    y = attention(b, y, k, t, d, heads);
    snprintf(nm, sizeof nm, "%s.add1", p);
    x = pp_ab_binary(b, PP_OP_ADD, x, y, nm);
    snprintf(k, sizeof k, "%s.ln_2", p);
    y = pp_ab_layernorm(b, x, k, d, VIT_EPS);
    snprintf(k, sizeof k, "%s.mlp.0", p);
    y = pp_ab_linear_nd(b, y, k, d, PP_OP_GELU, &m);
    snprintf(k, sizeof k, "%s.mlp.3", p);
    y = pp_ab_linear_nd(b, y, k, m, 0, NULL);
    snprintf(nm, sizeof nm, "%s.add2", p);
    return pp_ab_binary(b, PP_OP_ADD, x, y, nm);
}

static int build_vit(pp_ab *b, int *input, char *desc, size_t dn) {
    if (!detect_vit(b->c, desc, dn)) {
        pp_ab_get(b, "conv_proj.weight", 4, NULL);
        pp_ab_get(b, "class_token", 3, NULL);
        pp_ab_get(b, "encoder.layers.encoder_layer_0.ln_1.weight", 1, NULL);
        return -1;
    }
    pp_ab_check_name(b, desc, "vit");
    const pp_ckpt_tensor *w0 = pp_ab_find4(b->c, "conv_proj.weight", 0, 0, 0), *pe;
    int64_t d = w0->dims[0], p = w0->dims[2], c, h, w, ch;
    int64_t heads = b->o->heads ? b->o->heads : d == 768 ? 12 : d == 1024 || d == 1280 ? 16 : 0;
    if (!heads || d % heads) {
        pp_ab_problem(b, "width %" PRId64 ": give the number of heads (heads=N, dividing the width)", d);
        return -1;
    }
    /* The image size from the position embedding: (1, 1 + (S/p)^2, D). */
    pe = pp_ab_get(b, "encoder.pos_embedding", 3, (int64_t[]){1, -1, d});
    int64_t side = pe ? (int64_t)llround(sqrt((double)(pe->dims[1] - 1))) : 0;
    if (!pe || side * side != pe->dims[1] - 1) return -1;
    pp_ab_input_size(b, w0->dims[1], &c, &h, &w);
    if (!b->o->in_h) h = w = side * p;
    if (h / p != side || w / p != side) {
        pp_ab_problem(b, "the position embedding holds %" PRId64 "x%" PRId64 " patches: the input must be %" PRId64,
                      side, side, side * p);
        return -1;
    }
    *input = pp_ab_input(b, "input", 3, (int64_t[]){c, h, w});
    int64_t t = side * side + 1;
    pp_ab_conv proj = {.w = "conv_proj", .cin = c, .stride = (int)p, .pad = 0, .groups = 1, .residual = -1};
    int x = pp_ab_conv_layer(b, *input, &proj, &ch);
    x = pp_ab_reshape(b, x, 3, (int64_t[]){0, d, t - 1}, "patches");
    x = pp_ab_transpose(b, x, 3, (int64_t[]){0, 2, 1}, "tokens");
    int cls = pp_ab_repeat_batch(b, pp_ab_param(b, "class_token", 3, (int64_t[]){1, 1, d}), x, 3, "class_token.batch");
    x = pp_ab_concat_n(b, (int[]){cls, x}, 2, 1, "with_class_token");
    x = pp_ab_binary(b, PP_OP_ADD, x, pp_ab_param(b, "encoder.pos_embedding", 3, (int64_t[]){1, t, d}), "embedded");
    for (int i = 0; i < n_layers(b->c); i++) x = encoder_layer(b, x, i, t, d, heads);
    x = pp_ab_select(b, pp_ab_layernorm(b, x, "encoder.ln", d, VIT_EPS), 1, 0, "class_output");
    if (pp_ab_has(b, "heads.pre_logits.weight")) x = pp_ab_linear(b, x, "heads.pre_logits", d, PP_OP_TANH, &d);
    return pp_ab_linear(b, x, "heads.head", d, 0, NULL);
}

const pp_arch_family pp_arch_vit = {
    .names = {"vit*", NULL},
    .listed = "vit_b_16/b_32/l_16/l_32/h_14",
    .detect = detect_vit,
    .build = build_vit,
};

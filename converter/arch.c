/* arch.c: the architectures' front (arch.h): options, the families in the
 * order they are tried, detection and building. */
#include "arch.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch_families.h"

/* Tried in this order when detecting; mlp last, as its keys are the loosest. */
static const pp_arch_family *const FAMILIES[] = {
    &pp_arch_resnet,   &pp_arch_vgg,        &pp_arch_mobilenet_v2, &pp_arch_mobilenet_v3, &pp_arch_efficientnet,
    &pp_arch_densenet, &pp_arch_squeezenet, &pp_arch_shufflenet,   &pp_arch_mnasnet,      &pp_arch_googlenet,
    &pp_arch_regnet,   &pp_arch_convnext,   &pp_arch_vit,          &pp_arch_swin,         &pp_arch_mlp,
};
#define N_FAMILIES (sizeof FAMILIES / sizeof FAMILIES[0])

/* ---- options ----------------------------------------------------------------------- */

static int act_op(const char *s, size_t n) {
    static const struct {
        const char *n;
        pp_op op;
    } tab[] = {
        {"relu", PP_OP_RELU},       {"gelu", PP_OP_GELU}, {"gelu_tanh", PP_OP_GELU_TANH}, {"tanh", PP_OP_TANH},
        {"sigmoid", PP_OP_SIGMOID}, {"silu", PP_OP_SILU}, {"hardswish", PP_OP_HARDSWISH}, {"none", PP_OP_IDENTITY},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strlen(tab[i].n) == n && !strncmp(s, tab[i].n, n)) return tab[i].op;
    return 0;
}

/* "a/b/c" into up to PP_ARCH_MAX_LIST items. */
static int split_list(const char *v, size_t vlen, char items[][24], int *n) {
    *n = 0;
    size_t i = 0;
    while (i <= vlen) {
        size_t j = i;
        while (j < vlen && v[j] != '/') j++;
        if (*n >= PP_ARCH_MAX_LIST || j - i == 0 || j - i >= 24) return -1;
        memcpy(items[*n], v + i, j - i);
        items[*n][j - i] = 0;
        (*n)++;
        i = j + 1;
    }
    return 0;
}

pp_code pp_arch_parse(const char *arch, char *family, size_t n, pp_arch_opts *o, pp_error *err) {
    memset(o, 0, sizeof *o);
    o->eps = 1e-5;
    o->fold_bn = 1;
    if (!arch) arch = "";
    const char *colon = strchr(arch, ':');
    size_t flen = colon ? (size_t)(colon - arch) : strlen(arch);
    if (flen >= n) return pp_error_set(err, PP_ERR_INVALID_ARG, "architecture name too long");
    memcpy(family, arch, flen);
    family[flen] = 0;
    const char *p = colon ? colon + 1 : NULL;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq)
            return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option '%.*s' is not KEY=VALUE",
                                (int)(len < 60 ? len : 60), p);
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        const char *v = eq + 1;
        char val[128], items[PP_ARCH_MAX_LIST][24];
        int ni = 0;
        if (vlen >= sizeof val) return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option value too long");
        memcpy(val, v, vlen);
        val[vlen] = 0;
        char *e1;
        if (klen == 5 && !strncmp(p, "input", 5)) {
            long long h = strtoll(val, &e1, 10), w = h;
            if (*e1 == 'x') w = strtoll(e1 + 1, &e1, 10);
            if (*e1 || h < 1 || w < 1 || h > 65536 || w > 65536)
                return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option input='%s': want H or HxW", val);
            o->in_h = h;
            o->in_w = w;
        } else if (klen == 8 && !strncmp(p, "channels", 8)) {
            long long c = strtoll(val, &e1, 10);
            if (*e1 || c < 1 || c > 65536)
                return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option channels='%s'", val);
            o->in_c = c;
        } else if (klen == 3 && !strncmp(p, "eps", 3)) {
            double e = strtod(val, &e1);
            if (*e1 || !(e > 0) || e > 1) return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option eps='%s'", val);
            o->eps = e;
            o->eps_set = 1;
        } else if (klen == 4 && !strncmp(p, "fold", 4)) {
            o->fold_bn = strcmp(val, "0") != 0;
        } else if (klen == 15 && !strncmp(p, "transform_input", 15)) {
            o->transform = strcmp(val, "0") != 0;
        } else if (klen == 5 && !strncmp(p, "heads", 5)) {
            long hd = strtol(val, &e1, 10);
            if (*e1 || hd < 1 || hd > 4096) return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option heads='%s'", val);
            o->heads = (int)hd;
        } else if (klen == 3 && !strncmp(p, "act", 3)) {
            if (split_list(val, vlen, items, &ni))
                return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option act='%s'", val);
            for (int i = 0; i < ni; i++)
                if (!(o->acts[i] = act_op(items[i], strlen(items[i]))))
                    return pp_error_set(
                        err, PP_ERR_INVALID_ARG,
                        "arch option act: unknown activation '%s' (relu, gelu, gelu_tanh, tanh, sigmoid, silu, "
                        "hardswish, none)",
                        items[i]);
            o->n_acts = ni;
        } else if (klen == 7 && !strncmp(p, "strides", 7)) {
            if (split_list(val, vlen, items, &ni))
                return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option strides='%s'", val);
            for (int i = 0; i < ni; i++) {
                long s = strtol(items[i], &e1, 10);
                if (*e1 || s < 1 || s > 16)
                    return pp_error_set(err, PP_ERR_INVALID_ARG, "arch option strides='%s'", val);
                o->strides[i] = (int)s;
            }
            o->n_strides = ni;
        } else {
            return pp_error_set(
                err, PP_ERR_INVALID_ARG,
                "unknown arch option '%.*s' (input, channels, eps, fold, act, strides, heads, transform_input)",
                (int)klen, p);
        }
        p = end ? end + 1 : NULL;
    }
    return PP_OK;
}

/* ---- detection and the entry point ---------------------------------------------- */

static const pp_arch_family *detect(const pp_ckpt *c, char *desc, size_t n) {
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (FAMILIES[i]->detect(c, desc, n)) return FAMILIES[i];
    return NULL;
}

static int name_matches(const char *pattern, const char *name) {
    size_t pl = strlen(pattern);
    if (pl && pattern[pl - 1] == '*') return !strncmp(name, pattern, pl - 1);
    return !strcmp(name, pattern);
}

static const pp_arch_family *by_name(const char *family) {
    for (size_t i = 0; i < N_FAMILIES; i++)
        for (int k = 0; FAMILIES[i]->names[k]; k++)
            if (name_matches(FAMILIES[i]->names[k], family)) return FAMILIES[i];
    return NULL;
}

pp_code pp_arch_detect(const pp_ckpt *c, char *out, size_t n) {
    if (detect(c, out, n)) return PP_OK;
    snprintf(out, n, "unknown");
    return PP_ERR_UNSUPPORTED;
}

/* The keys grouped by their first component, "encoder.* x8, head.* x2, w", at most 8 groups. */
static void unplaced_keys(const pp_ckpt *c, char *out, size_t n) {
    char groups[8][48];
    int counts[8], module[8], ng = 0, more = 0;
    for (int i = 0; i < c->n; i++) {
        char nb[48];
        pp_ckpt_printable(nb, sizeof nb, c->tensors[i].name);
        char *dot = strchr(nb, '.');
        if (dot) dot[0] = 0;
        int g = 0;
        while (g < ng && strcmp(groups[g], nb)) g++;
        if (g == ng && ng < 8) memcpy(groups[ng], nb, sizeof nb), counts[ng] = module[ng] = 0, ng++;
        if (g == ng) {
            more++;
            continue;
        }
        counts[g]++;
        module[g] |= dot != NULL;
    }
    out[0] = 0;
    for (int g = 0; g < ng; g++) {
        if (module[g]) pp_ab_append(out, n, "%s%s.* x%d", g ? ", " : "", groups[g], counts[g]);
        else pp_ab_append(out, n, "%s%s", g ? ", " : "", groups[g]);
    }
    if (more) pp_ab_append(out, n, ", +%d more", more);
}

/* The family to build: given by name, or detected from the keys; NULL and
 * err set when there is none. */
static const pp_arch_family *choose(const pp_ckpt *c, const char *family, int detecting, pp_error *err) {
    char desc[256], known[512] = "";
    const pp_arch_family *f = detecting ? detect(c, desc, sizeof desc) : by_name(family);
    if (f) return f;
    for (size_t i = 0; i < N_FAMILIES; i++)
        pp_ab_append(known, sizeof known, "%s%s", i ? ", " : "", FAMILIES[i]->listed);
    if (!detecting) {
        pp_error_set(err, PP_ERR_UNSUPPORTED, "unknown architecture '%s' (known: %s; or an architecture file)", family,
                     known);
        return NULL;
    }
    char keys[320] = "";
    unplaced_keys(c, keys, sizeof keys);
    pp_error_set(err, PP_ERR_UNSUPPORTED,
                 "cannot tell the architecture from the keys (%s): no known family places them; give one (--arch "
                 "resnet50, vit_b_16, ...: docs/checkpoints.md) or an architecture file, or for a custom module "
                 "export its graph with torch.export.save (.pt2) or torch.onnx.export",
                 keys);
    return NULL;
}

pp_code pp_arch_build(const pp_ckpt *c, const char *arch, const char *arch_file, pp_graph **out, char *detected,
                      size_t n, pp_error *err) {
    *out = NULL;
    pp_error local;
    if (!err) err = &local;
    char family[64], desc[256] = "";
    pp_arch_opts o;
    pp_code rc = pp_arch_parse(arch, family, sizeof family, &o, err);
    if (rc) return rc;
    int detecting = !family[0] || !strcmp(family, "auto");
    if (arch_file && !detecting)
        return pp_error_set(err, PP_ERR_INVALID_ARG,
                            "give either an architecture ('%s') or an architecture file, not both", family);
    const pp_arch_family *fam = NULL;
    if (!arch_file && !(fam = choose(c, family, detecting, err))) return err->code;
    pp_ab b;
    memset(&b, 0, sizeof b);
    b.c = c;
    b.o = &o;
    b.family = detecting ? "" : family;
    b.eps = o.eps;
    b.err = err;
    b.g = pp_graph_new();
    b.used = pp_calloc((size_t)c->n + 1, 1);
    if (!b.g || !b.used) {
        pp_graph_free(b.g);
        pp_free(b.used);
        return pp_error_nomem(err, "out of memory");
    }
    int input = -1, output = -1;
    if (fam) {
        snprintf(desc, sizeof desc, "%s", detecting ? "the detected architecture" : family);
        output = fam->build(&b, &input, desc, sizeof desc);
    } else {
        snprintf(desc, sizeof desc, "architecture file %s", arch_file);
        rc = pp_arch_file_build(&b, arch_file, &input, &output);
    }
    if (!rc) rc = pp_ab_finish(&b, input, output, detecting || !fam ? desc : family);
    if (!rc) rc = pp_graph_add_meta(b.g, "architecture", desc, err);
    pp_free(b.used);
    if (rc) {
        pp_graph_free(b.g);
        return rc;
    }
    if (detected && n) snprintf(detected, n, "%s", desc);
    *out = b.g;
    return PP_OK;
}

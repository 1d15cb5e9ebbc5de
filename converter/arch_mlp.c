/* arch_mlp.c: a stack of linear layers (arch_families.h): every key is
 * P.weight (2-D) or P.bias (1-D) and the widths chain. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "arch_families.h"

/* Names compared with digit runs as numbers: "layers.2" < "layers.10". */
static int natural_cmp(const char *a, const char *b) {
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            while (*a == '0') a++;
            while (*b == '0') b++;
            size_t la = 0, lb = 0;
            while (a[la] >= '0' && a[la] <= '9') la++;
            while (b[lb] >= '0' && b[lb] <= '9') lb++;
            if (la != lb) return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c) return c;
            a += la;
            b += lb;
        } else {
            if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}

/* Linear layers: the "P.weight" keys of rank 2, in file order for torch
 * archives (the module order); in natural name order for safetensors, whose
 * writer sorts names as strings. */
static int mlp_layers(const pp_ckpt *c, int *idx, int max) {
    int n = 0;
    for (int i = 0; i < c->n; i++) {
        const pp_ckpt_tensor *t = &c->tensors[i];
        if (pp_ab_ends_with(t->name, ".weight") && t->rank == 2) {
            if (n >= max) return -1;
            idx[n++] = i;
        }
    }
    if (!strncmp(c->format, "safetensors", 11))
        for (int i = 1; i < n; i++) /* insertion sort: n <= 256 */
            for (int j = i; j > 0 && natural_cmp(c->tensors[idx[j - 1]].name, c->tensors[idx[j]].name) > 0; j--) {
                int t = idx[j];
                idx[j] = idx[j - 1];
                idx[j - 1] = t;
            }
    return n;
}

static int is_mlp(const pp_ckpt *c, int *n_layers) {
    int idx[256];
    int n = mlp_layers(c, idx, 256);
    if (n < 1) return 0;
    for (int i = 0; i < c->n; i++) {
        const pp_ckpt_tensor *t = &c->tensors[i];
        if (pp_ab_ends_with(t->name, ".weight") ? t->rank != 2 : !(pp_ab_ends_with(t->name, ".bias") && t->rank == 1))
            return 0;
    }
    for (int i = 1; i < n; i++)
        if (c->tensors[idx[i]].dims[1] != c->tensors[idx[i - 1]].dims[0]) return 0;
    *n_layers = n;
    return 1;
}

static int build_mlp(pp_ab *b, int *input, char *desc, size_t dn) {
    int idx[256];
    int n = mlp_layers(b->c, idx, 256);
    if (n < 1) {
        pp_ab_problem(b, "no linear layers (keys NAME.weight of rank 2)");
        return -1;
    }
    int64_t cin = b->c->tensors[idx[0]].dims[1];
    *input = pp_ab_input(b, "input", 1, &cin);
    int x = *input;
    snprintf(desc, dn, "mlp (%d linear layers: %" PRId64, n, cin);
    for (int i = 0; i < n; i++) {
        char prefix[300];
        snprintf(prefix, sizeof prefix, "%s", b->c->tensors[idx[i]].name);
        prefix[strlen(prefix) - 7] = 0;
        int act = 0;
        if (i + 1 < n) act = b->o->n_acts ? b->o->acts[i < b->o->n_acts ? i : b->o->n_acts - 1] : PP_OP_RELU;
        int64_t cout;
        x = pp_ab_linear(b, x, prefix, cin, act, &cout);
        pp_ab_append(desc, dn, " -> %" PRId64, cout);
        cin = cout;
    }
    pp_ab_append(desc, dn, ")");
    return x;
}

static int detect_mlp(const pp_ckpt *c, char *desc, size_t n) {
    int nl;
    if (!is_mlp(c, &nl)) return 0;
    snprintf(desc, n, "mlp (%d linear layers)", nl);
    return 1;
}

const pp_arch_family pp_arch_mlp = {
    .names = {"mlp", NULL},
    .listed = "mlp",
    .detect = detect_mlp,
    .build = build_mlp,
};

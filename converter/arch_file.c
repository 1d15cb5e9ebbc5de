/* arch_file.c: the architecture description file (arch.h; format in
 * docs/checkpoints.md). One layer per line:
 *
 *   input shape=1,8,8
 *   conv w=features.0 bn=features.1 pad=1 act=relu
 *   maxpool k=2
 *   flatten
 *   linear w=classifier.1 act=relu
 *   linear w=classifier.3
 *
 * Each line's output is named by y= (default "l<LINE>") and becomes the next
 * line's input unless x= names another; "output" (optional) names the graph's
 * output, else the last line's is. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/params.h"
#include "arch_families.h"

#define MAX_FILE (1u << 20)
#define MAX_VALUES 4096
#define MAX_ARGS 16

typedef struct named {
    char name[64];
    int id;
    int64_t ch;
} named;

typedef struct afile {
    pp_ab *b;
    const char *path;
    int line;
    named vals[MAX_VALUES];
    int n_vals;
    int prev; /* index into vals of the previous output, -1 none */
    char *key[MAX_ARGS], *val[MAX_ARGS];
    int n_args;
} afile;

static pp_code bad(afile *f, const char *fmt, const char *a) {
    char msg[256];
    snprintf(msg, sizeof msg, fmt, a);
    return pp_error_set(f->b->err, PP_ERR_FORMAT, "%s:%d: %s", f->path, f->line, msg);
}

static const char *arg(afile *f, const char *k) {
    for (int i = 0; i < f->n_args; i++)
        if (!strcmp(f->key[i], k)) return f->val[i];
    return NULL;
}

static pp_code int_arg(afile *f, const char *k, long def, long lo, long hi, long *out) {
    const char *v = arg(f, k);
    if (!v) {
        *out = def;
        return PP_OK;
    }
    char *e;
    errno = 0;
    long x = strtol(v, &e, 10);
    if (errno || *e || x < lo || x > hi) return bad(f, "bad value for %s", k);
    *out = x;
    return PP_OK;
}

static int find(afile *f, const char *name) {
    for (int i = f->n_vals; i-- > 0;)
        if (!strcmp(f->vals[i].name, name)) return i;
    return -1;
}

/* The input value of this line: x= or the previous output. */
static pp_code input_of(afile *f, const char *k, int *idx) {
    const char *x = arg(f, k);
    if (x) {
        if ((*idx = find(f, x)) < 0) return bad(f, "no value named '%s' yet", x);
    } else {
        if (f->prev < 0) return bad(f, "%s", "no input yet (start with an 'input' line)");
        *idx = f->prev;
    }
    return PP_OK;
}

static pp_code define(afile *f, int id, int64_t ch) {
    if (f->n_vals >= MAX_VALUES) return bad(f, "%s", "too many values");
    named *v = &f->vals[f->n_vals];
    const char *y = arg(f, "y");
    if (y) {
        if (strlen(y) >= sizeof v->name) return bad(f, "%s", "name too long");
        snprintf(v->name, sizeof v->name, "%s", y);
    } else {
        snprintf(v->name, sizeof v->name, "l%d", f->line);
    }
    v->id = id;
    v->ch = ch;
    f->prev = f->n_vals++;
    return PP_OK;
}

static int act_of(const char *s, int *kind, double *alpha, double *beta) {
    *alpha = *beta = 0;
    if (!s || !strcmp(s, "none")) *kind = 0;
    else if (!strcmp(s, "relu")) *kind = PP_ACT_RELU;
    else if (!strcmp(s, "relu6")) *kind = PP_ACT_CLIP, *beta = 6;
    else if (!strcmp(s, "sigmoid")) *kind = PP_ACT_SIGMOID;
    else if (!strcmp(s, "tanh")) *kind = PP_ACT_TANH;
    else if (!strcmp(s, "gelu")) *kind = PP_ACT_GELU;
    else if (!strcmp(s, "silu")) *kind = PP_ACT_SILU;
    else if (!strcmp(s, "hardswish")) *kind = PP_ACT_HARDSWISH;
    else return 0;
    return 1;
}

static int unary_op(const char *s) {
    static const struct {
        const char *n;
        pp_op op;
    } tab[] = {
        {"relu", PP_OP_RELU}, {"gelu", PP_OP_GELU},           {"sigmoid", PP_OP_SIGMOID},         {"tanh", PP_OP_TANH},
        {"silu", PP_OP_SILU}, {"hardswish", PP_OP_HARDSWISH}, {"hardsigmoid", PP_OP_HARDSIGMOID},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(s, tab[i].n)) return tab[i].op;
    return 0;
}

/* "input shape=C,H,W [y=NAME]". */
static pp_code line_input(afile *f, int *input) {
    const char *s = arg(f, "shape");
    if (!s) return bad(f, "%s", "input needs shape=C,H,W (without the batch)");
    int64_t dims[PP_MAX_RANK];
    int rank = 0;
    const char *p = s;
    while (*p) {
        char *e;
        long v = strtol(p, &e, 10);
        if (e == p || v < 1 || v > 1 << 20 || rank >= PP_MAX_RANK - 1) return bad(f, "bad shape '%s'", s);
        dims[rank++] = v;
        p = *e == ',' ? e + 1 : e;
        if (*e && *e != ',') return bad(f, "bad shape '%s'", s);
    }
    if (*input >= 0) return bad(f, "%s", "a second input (one input only)");
    const char *name = arg(f, "y") ? arg(f, "y") : "input";
    *input = pp_ab_input(f->b, name, rank, dims);
    if (*input < 0) return f->b->rc;
    f->n_args = 0; /* y= already used as the tensor name */
    if (f->n_vals >= MAX_VALUES) return bad(f, "%s", "too many values");
    snprintf(f->vals[f->n_vals].name, sizeof f->vals[0].name, "%s", name);
    f->vals[f->n_vals].id = *input;
    f->vals[f->n_vals].ch = dims[0];
    f->prev = f->n_vals++;
    return PP_OK;
}

/* "conv w=KEY [bn=P] [stride=] [pad=] [groups=N|auto] [act=] [residual=NAME]". */
static pp_code line_conv(afile *f, int x, int64_t ch) {
    long stride, pad, groups;
    pp_code rc;
    const char *w = arg(f, "w");
    if (!w) return bad(f, "%s", "conv needs w=KEY");
    const char *gs = arg(f, "groups");
    if ((rc = int_arg(f, "stride", 1, 1, 64, &stride)) || (rc = int_arg(f, "pad", -1, -1, 64, &pad))) return rc;
    if (gs && !strcmp(gs, "auto")) groups = 0; /* from the weight's shape and the input channels */
    else if ((rc = int_arg(f, "groups", 1, 1, 1 << 20, &groups))) return rc;
    pp_ab_conv cv = {.w = w,
                     .bn = arg(f, "bn"),
                     .cin = ch,
                     .stride = (int)stride,
                     .pad = (int)pad,
                     .groups = (int)groups,
                     .residual = -1};
    if (!act_of(arg(f, "act"), &cv.act, &cv.act_alpha, &cv.act_beta)) return bad(f, "unknown act '%s'", arg(f, "act"));
    if (arg(f, "residual")) {
        int ri = find(f, arg(f, "residual"));
        if (ri < 0) return bad(f, "no value named '%s' yet", arg(f, "residual"));
        cv.residual = f->vals[ri].id;
    }
    int64_t cout = -1;
    int out = pp_ab_conv_layer(f->b, x, &cv, &cout);
    return f->b->rc ? f->b->rc : define(f, out, cout);
}

/* "linear w=KEY [act=]". */
static pp_code line_linear(afile *f, int x) {
    char pre[256];
    const char *w = arg(f, "w");
    if (!w) return bad(f, "%s", "linear needs w=KEY");
    snprintf(pre, sizeof pre, "%s", w);
    size_t l = strlen(pre);
    if (l > 7 && !strcmp(pre + l - 7, ".weight")) pre[l - 7] = 0;
    const char *a = arg(f, "act");
    int act = 0;
    if (a && strcmp(a, "none") && !(act = unary_op(a))) return bad(f, "unknown act '%s'", a);
    int64_t cout = -1;
    int out = pp_ab_linear(f->b, x, pre, -1, act, &cout);
    return f->b->rc ? f->b->rc : define(f, out, cout);
}

/* "bn p=PREFIX". */
static pp_code line_bn(afile *f, int x, int64_t ch) {
    const char *p = arg(f, "p");
    if (!p) return bad(f, "%s", "bn needs p=PREFIX");
    char k[300];
    snprintf(k, sizeof k, "%s.weight", p);
    const pp_ckpt_tensor *t = pp_ckpt_find(f->b->c, k);
    int64_t c = ch > 0 ? ch : (t && t->rank == 1 ? t->dims[0] : -1);
    int out = pp_ab_batchnorm(f->b, x, p, c);
    return f->b->rc ? f->b->rc : define(f, out, c);
}

/* The layers without keys: activations, pools, flatten, add/mul; -1 when op is none of them. */
static pp_code line_plain(afile *f, const char *op, const char *nm, int x, int64_t ch) {
    pp_ab *b = f->b;
    pp_code rc;
    int out;
    if (unary_op(op)) {
        out = pp_ab_unary(b, (pp_op)unary_op(op), x, nm);
    } else if (!strcmp(op, "maxpool") || !strcmp(op, "avgpool")) {
        long k, s, p;
        if ((rc = int_arg(f, "k", 2, 1, 1024, &k)) || (rc = int_arg(f, "stride", k, 1, 1024, &s)) ||
            (rc = int_arg(f, "pad", 0, 0, 1024, &p)))
            return rc;
        out = pp_ab_pool(b, op[0] == 'm' ? PP_OP_MAXPOOL : PP_OP_AVGPOOL, x, (int)k, (int)s, (int)p, nm);
    } else if (!strcmp(op, "gap")) {
        out = pp_ab_pool(b, PP_OP_GLOBAL_AVGPOOL, x, 0, 0, 0, nm);
    } else if (!strcmp(op, "flatten")) {
        out = pp_ab_flatten(b, x, nm);
        ch = -1;
    } else if (!strcmp(op, "add") || !strcmp(op, "mul")) {
        int x2;
        if (!arg(f, "x2")) return bad(f, "%s needs x2=NAME", op);
        if ((rc = input_of(f, "x2", &x2))) return rc;
        out = pp_ab_binary(b, op[0] == 'a' ? PP_OP_ADD : PP_OP_MUL, x, f->vals[x2].id, nm);
    } else {
        return bad(f,
                   "unknown layer '%s' (input conv linear bn relu gelu sigmoid tanh silu hardswish hardsigmoid "
                   "maxpool avgpool gap flatten add mul output)",
                   op);
    }
    return b->rc ? b->rc : define(f, out, ch);
}

static pp_code do_line(afile *f, const char *op, int *input, int *output) {
    char nm[96];
    const char *y = arg(f, "y");
    snprintf(nm, sizeof nm, "%s", y ? y : "");
    if (!y) snprintf(nm, sizeof nm, "%s@%d", op, f->line);
    pp_code rc;
    int xi;
    if (!strcmp(op, "input")) return line_input(f, input);
    if ((rc = input_of(f, "x", &xi))) return rc;
    if (!strcmp(op, "output")) {
        *output = f->vals[xi].id;
        return PP_OK;
    }
    int x = f->vals[xi].id;
    int64_t ch = f->vals[xi].ch;
    if (!strcmp(op, "conv")) return line_conv(f, x, ch);
    if (!strcmp(op, "linear")) return line_linear(f, x);
    if (!strcmp(op, "bn")) return line_bn(f, x, ch);
    return line_plain(f, op, nm, x, ch);
}

pp_code pp_arch_file_build(pp_ab *b, const char *path, int *input, int *output) {
    *input = *output = -1;
    FILE *fp = fopen(path, "rb");
    if (!fp) return pp_error_set(b->err, PP_ERR_IO, "%s: %s", path, strerror(errno));
    afile *f = pp_calloc(1, sizeof *f);
    if (!f) {
        fclose(fp);
        return pp_error_nomem(b->err, "out of memory");
    }
    f->b = b;
    f->path = path;
    f->prev = -1;
    char line[1024];
    pp_code rc = PP_OK;
    long total = 0;
    while (!rc && fgets(line, sizeof line, fp)) {
        f->line++;
        size_t len = strlen(line);
        total += (long)len;
        if (total > (long)MAX_FILE) {
            rc = bad(f, "%s", "file over 1 MiB");
            break;
        }
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            rc = bad(f, "%s", "line longer than 1023 bytes");
            break;
        }
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *save = NULL, *op = strtok_r(line, " \t\r\n", &save);
        if (!op) continue;
        f->n_args = 0;
        char *tok;
        while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
            char *eq = strchr(tok, '=');
            if (!eq || eq == tok || !eq[1]) {
                rc = bad(f, "'%s' is not KEY=VALUE", tok);
                break;
            }
            if (f->n_args >= MAX_ARGS) {
                rc = bad(f, "%s", "too many arguments");
                break;
            }
            *eq = 0;
            f->key[f->n_args] = tok;
            f->val[f->n_args++] = eq + 1;
        }
        if (!rc) rc = do_line(f, op, input, output);
    }
    if (!rc && *input < 0) rc = pp_error_set(b->err, PP_ERR_FORMAT, "%s: no 'input' line", path);
    if (!rc && *output < 0 && f->prev >= 0) *output = f->vals[f->prev].id;
    if (!rc && *output < 0 && !(b->n_missing || b->n_bad))
        rc = pp_error_set(b->err, PP_ERR_FORMAT, "%s: no layers", path);
    fclose(fp);
    pp_free(f);
    return rc;
}

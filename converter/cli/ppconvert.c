/* ppconvert: a model file to a graph.bin, without Python.
 *
 *   ppconvert MODEL.onnx -o graph.bin [--dtype f32] [--const NAME=FILE.npy]...
 *             [--dim NAME=MIN..MAX | NAME=N]... [-v] [--help]
 *   ppconvert model.pth|model.safetensors -o graph.bin [--arch SPEC | --arch-file FILE]
 *   ppconvert --inspect FILE      (.pt/.pth, .safetensors, .onnx or graph.bin)
 *
 * The format is read from the file's first bytes, not its name.
 * Exit status 0 on success; 1 with a one-line message on stderr on any failure,
 * and then nothing is written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../converter/checkpoint.h"
#include "../../converter/pt2.h"
#include "../../converter/convert.h"
#include "../../loader/model.h"
#include "../../engine/graph.h"
#include "../../loader/npy.h"
#include "../../engine/cli/cli_msg.h"

int pp_cli_progress_open; /* cli_msg.h */

static void usage(FILE *f) {
    fprintf(f, "usage: ppconvert MODEL.onnx -o GRAPH.bin [options]\n"
               "       ppconvert CHECKPOINT.pth|.safetensors -o GRAPH.bin [--arch SPEC | --arch-file FILE]\n"
               "       ppconvert --inspect FILE\n"
               "\n"
               "Converts an ONNX model, or a PyTorch state_dict (torch.save) or safetensors\n"
               "checkpoint plus an architecture, into a graph.bin for ppengine. The first axis\n"
               "of each graph input whose extent is symbolic (a dim_param) is the batch; every\n"
               "other dim_param (seq, ...) is a symbol too: the graph runs at any batch size\n"
               "and sequence length in their ranges. No Python runs and no pickle code executes.\n"
               "\n"
               "options:\n"
               "  -o, --output PATH      the graph.bin to write (through a temporary and a rename)\n"
               "  --dtype f32|f16|bf16   how weights are stored: f16/bf16 halve graph.bin; they are\n"
               "                         widened to f32 once at load\n"
               "  --const NAME=FILE.npy  bind graph input NAME to constant data (repeatable)\n"
               "  --dim NAME=MIN..MAX    the range of the symbolic extent NAME (seq=1..512; batch=1..64\n"
               "                         names the batch); NAME=N binds it to N instead (repeatable)\n"
               "  --arch SPEC            checkpoints: resnet50, mobilenet_v2, mlp, ... or auto (the default:\n"
               "                         detected from the keys), with options: resnet:input=32 (docs/checkpoints.md)\n"
               "  --arch-file FILE       checkpoints: an architecture description file\n"
               "  --inspect FILE         list every tensor (name, dtype, shape, bytes) and exit\n"
               "  -v, --verbose          list the converted graph's inputs, outputs and ops\n"
               "  --version              print the version\n"
               "  -h, --help             this text\n");
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int
die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pp_cli_vmsg("ppconvert", fmt, ap);
    va_end(ap);
    return 1;
}

static void inspect(const pp_graph *g, void *arg) {
    (void)arg;
    char buf[160];
    for (int i = 0; i < g->n_inputs; i++) {
        const pp_tensor *t = &g->tensors[g->inputs[i]];
        printf("  input  %-24s %-5s %s\n", t->name, pp_dtype_name(t->dtype), pp_tensor_shape_str(t, buf, sizeof buf));
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const pp_tensor *t = &g->tensors[g->outputs[i]];
        printf("  output %-24s %-5s %s\n", t->name, pp_dtype_name(t->dtype), pp_tensor_shape_str(t, buf, sizeof buf));
    }
    /* Op histogram, in first-use order. */
    int counts[256] = {0};
    int order[256], n_order = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        int op = (int)g->nodes[i].op & 255;
        if (!counts[op]++) order[n_order++] = op;
    }
    printf("  ops:");
    for (int i = 0; i < n_order; i++) {
        const char *name = pp_op_name((pp_op)order[i]);
        printf(" %s=%d", name ? name : "?", counts[order[i]]);
    }
    printf("\n");
    for (int i = 0; i < g->n_nodes; i++) {
        const pp_node *n = &g->nodes[i];
        const pp_tensor *o = n->n_out ? &g->tensors[n->out[0]] : NULL;
        printf("  %4d %-16s %-40s -> %s\n", i, pp_op_name(n->op) ? pp_op_name(n->op) : "?", n->name,
               o ? pp_tensor_shape_str(o, buf, sizeof buf) : "");
    }
}

/* A progress bar on stderr for big outputs, only when stderr is a terminal
 * (logs and tests get the one summary line). */
typedef struct bar {
    int on, last;
} bar;

static void progress(uint64_t done, uint64_t total, void *arg) {
    bar *b = arg;
    if (!b->on || total < (64u << 20)) return;
    int pct = (int)(done * 100 / (total ? total : 1));
    if (pct == b->last) return;
    b->last = pct;
    int filled = pct * 40 / 100;
    fprintf(stderr, "\rwriting [%.*s%*s] %3d%% %6.0f / %.0f MB", filled, "########################################",
            40 - filled, "", pct, (double)done / 1e6, (double)total / 1e6);
    pp_cli_progress_open = done < total; /* a failure before the end must not run on */
    if (!pp_cli_progress_open) fputc('\n', stderr);
    fflush(stderr);
}

static const char *human(uint64_t b, char *buf, size_t n) {
    if (b >= (1u << 20)) snprintf(buf, n, "%.1f MiB", (double)b / (1 << 20));
    else if (b >= 1024) snprintf(buf, n, "%.1f KiB", (double)b / 1024);
    else snprintf(buf, n, "%" PRIu64 " bytes", b);
    return buf;
}

static void list_graph_tensors(const pp_graph *g) {
    char buf[160];
    for (int i = 0; i < g->n_tensors; i++) {
        const pp_tensor *t = &g->tensors[i];
        if (t->kind == PP_TENSOR_ACTIVATION) continue;
        printf("  %-40s %-5s %-24s %12llu bytes%s\n", t->name, pp_dtype_name(t->dtype),
               pp_tensor_shape_str(t, buf, sizeof buf),
               (unsigned long long)(t->kind == PP_TENSOR_WEIGHT ? t->nbytes : pp_tensor_bytes_at(t, 1)),
               t->kind == PP_TENSOR_INPUT ? " (input, per batch item)" : "");
    }
}

static int inspect_file(const char *path) {
    pp_error err = {0};
    switch (pp_source_sniff(path)) {
    case PP_SRC_CHECKPOINT:
        if (pp_inspect_file(path, stdout, &err)) return die("%s", err.msg);
        return 0;
    case PP_SRC_GRAPHBIN: {
        pp_model *m = NULL;
        pp_graph *g = NULL;
        if (pp_model_load(path, 0, &m, &err) || pp_graph_from_model(&m, &g, &err)) {
            pp_model_free(m);
            return die("%s", err.msg);
        }
        printf("%s: graph.bin %u.%u, %d tensors, %d nodes\n", path, g->model->version_major, g->model->version_minor,
               g->n_tensors, g->n_nodes);
        list_graph_tensors(g);
        pp_graph_free(g);
        return 0;
    }
    case PP_SRC_PT2: {
        pp_graph *g = NULL;
        if (pp_convert_pt2_graph(path, &g, NULL, &err)) return die("%s", err.msg);
        printf("%s: torch.export archive, %d nodes after import\n", path, g->n_nodes);
        list_graph_tensors(g);
        pp_graph_free(g);
        return 0;
    }
    default: {
        pp_onnx_options oo;
        memset(&oo, 0, sizeof oo);
        oo.no_fold = 1;
        pp_onnx *h = NULL;
        pp_graph *g = NULL;
        if (pp_convert_onnx_graph(path, &oo, &h, &g, NULL, &err)) return die("%s", err.msg);
        printf("%s: ONNX, %d nodes\n", path, g->n_nodes);
        list_graph_tensors(g);
        pp_graph_free(g);
        pp_onnx_free(h);
        return 0;
    }
    }
    return 1;
}

/* The one line a conversion prints, and the graph passes that changed something. */
static void print_summary(const pp_convert_options *o, const pp_convert_stats *st) {
    char b1[32], b2[32];
    human(st->weight_bytes, b1, sizeof b1);
    human(st->bytes_written, b2, sizeof b2);
    if (st->format == PP_SRC_CHECKPOINT)
        printf("%s -> %s: architecture %s%s, %d nodes, %" PRIu64 " parameters (%s), %s written in %.2f s\n", o->input,
               o->output, st->architecture,
               o->arch && *o->arch && strncmp(o->arch, "auto", 4) ? "" : " (detected from the keys)", st->nodes_final,
               st->params, b1, b2, st->seconds);
    else if (st->format == PP_SRC_PT2)
        printf("%s -> %s: torch.export program, %d ATen nodes -> %d nodes (%d folded, %d dead removed), "
               "%" PRIu64 " parameters (%s), %s written in %.2f s\n",
               o->input, o->output, st->onnx_nodes, st->nodes_final, st->folded, st->removed, st->params, b1, b2,
               st->seconds);
    else
        printf("%s -> %s: opset %" PRId64 ", %d ONNX nodes -> %d nodes (%d folded, %d dead removed), "
               "%" PRIu64 " parameters (%s), %s written in %.2f s\n",
               o->input, o->output, st->opset, st->onnx_nodes, st->nodes_final, st->folded, st->removed, st->params, b1,
               b2, st->seconds);
    int shown = 0;
    for (int i = 0; i < st->n_passes; i++) {
        if (!st->passes[i].rewrites) continue;
        printf("%s %s %d -> %d (%d)", shown++ ? "," : "  passes:", st->passes[i].name, st->passes[i].nodes_before,
               st->passes[i].nodes_after, st->passes[i].rewrites);
    }
    if (shown) printf("\n");
}

/* The command line: the model, the options, and the bindings --const and
 * --dim make (the .npy files --const reads are kept until the end). */
typedef struct args {
    const char *input, *output, *dtype, *arch, *arch_file, *inspect_path;
    int verbose, done; /* done: --help or --version answered */
    pp_onnx_const *consts;
    pp_npy *npys;
    pp_onnx_dim *dims;
    int n_consts, n_dims;
} args;

/* --dim NAME=MIN..MAX or NAME=N; --const NAME=FILE.npy, read now. */
static int add_binding(args *g, const char *a, const char *val) {
    const char *eq = strchr(val, '=');
    if (!eq || eq == val || !eq[1]) return die("%s expects NAME=VALUE, got '%s'", a, val);
    pp_error err = {0};
    if (!strcmp(a, "--dim")) {
        char nm[128];
        int64_t lo, hi;
        if (pp_dim_spec_parse(val, strlen(val), nm, sizeof nm, &lo, &hi, &err)) return die("--%s", err.msg);
        char *name = strndup(val, (size_t)(eq - val));
        if (!name) return die("out of memory");
        g->dims[g->n_dims++] = (pp_onnx_dim){.name = name, .value = lo, .max = hi};
        return 0;
    }
    pp_npy *np = &g->npys[g->n_consts];
    if (pp_npy_read(eq + 1, np, &err)) return die("--const %s: %s", val, err.msg);
    char *name = strndup(val, (size_t)(eq - val));
    if (!name) {
        pp_npy_free(np);
        return die("out of memory");
    }
    pp_onnx_const *c = &g->consts[g->n_consts++];
    c->name = name;
    c->dtype = np->dtype;
    c->rank = np->rank;
    memcpy(c->dims, np->dims, sizeof c->dims);
    c->data = np->data;
    c->nbytes = np->nbytes;
    return 0;
}

/* 0 to go on (or g->done after --help / --version), else 1 with the message printed. */
static int parse_args(int argc, char **argv, args *g) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int takes = !strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--dtype") || !strcmp(a, "--const") ||
                    !strcmp(a, "--dim") || !strcmp(a, "--arch") || !strcmp(a, "--arch-file") || !strcmp(a, "--inspect");
        const char *val = takes && i + 1 < argc ? argv[++i] : NULL;
        if (takes && !val) return die("%s needs a value", a);
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            g->done = 1;
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("ppconvert %s\n", PP_CONVERT_VERSION);
            g->done = 1;
            return 0;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            g->verbose = 1;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            g->output = val;
        } else if (!strcmp(a, "--dtype")) {
            g->dtype = val;
        } else if (!strcmp(a, "--arch")) {
            g->arch = val;
        } else if (!strcmp(a, "--arch-file")) {
            g->arch_file = val;
        } else if (!strcmp(a, "--inspect")) {
            g->inspect_path = val;
        } else if (takes) { /* --const, --dim */
            if (add_binding(g, a, val)) return 1;
        } else if (a[0] == '-' && a[1]) {
            return die("unknown option '%s' (see --help)", a);
        } else if (!g->input) {
            g->input = a;
        } else {
            return die("more than one model given ('%s' and '%s')", g->input, a);
        }
    }
    return 0;
}

/* The conversion the arguments ask for, with a progress bar on a terminal. */
static int convert(const args *g) {
    if (!g->input) return die("no model given (see --help)");
    if (!g->output) return die("no output given: -o GRAPH.bin (see --help)");
    pp_dtype dt = pp_dtype_from_name(g->dtype);
    if (dt != PP_DTYPE_F32 && dt != PP_DTYPE_F16 && dt != PP_DTYPE_BF16)
        return die("--dtype '%s': expected f32, f16 or bf16", g->dtype);
    bar pb = {isatty(2), -1};
    pp_convert_options o = {.input = g->input,
                            .output = g->output,
                            .dtype = dt,
                            .consts = g->consts,
                            .n_consts = g->n_consts,
                            .dims = g->dims,
                            .n_dims = g->n_dims,
                            .arch = g->arch,
                            .arch_file = g->arch_file,
                            .inspect = g->verbose ? inspect : NULL,
                            .progress = progress,
                            .progress_arg = &pb};
    pp_convert_stats st;
    pp_error err = {0};
    if (pp_convert(&o, &st, &err)) return die("%s", err.msg);
    print_summary(&o, &st);
    return 0;
}

int main(int argc, char **argv) {
    args g = {.dtype = "f32"};
    g.consts = calloc((size_t)argc + 1, sizeof *g.consts);
    g.npys = calloc((size_t)argc + 1, sizeof *g.npys);
    g.dims = calloc((size_t)argc + 1, sizeof *g.dims);
    int rc = !g.consts || !g.npys || !g.dims ? die("out of memory") : parse_args(argc, argv, &g);
    if (!rc && !g.done) rc = g.inspect_path ? inspect_file(g.inspect_path) : convert(&g);
    for (int i = 0; i < g.n_consts; i++) {
        free((char *)g.consts[i].name);
        pp_npy_free(&g.npys[i]);
    }
    for (int i = 0; i < g.n_dims; i++) free((char *)g.dims[i].name);
    free(g.consts);
    free(g.npys);
    free(g.dims);
    return rc;
}

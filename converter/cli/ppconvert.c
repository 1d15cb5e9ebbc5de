/* ppconvert: a model file to a graph.bin, without Python.
 *
 *   ppconvert MODEL.onnx -o graph.bin [--dtype f32] [--const NAME=FILE.npy]...
 *             [--dim NAME=N]... [-v] [--help]
 *
 * Exit status 0 on success; 1 with a one-line message on stderr on any failure,
 * and then nothing is written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../converter/convert.h"
#include "../../engine/graph.h"
#include "../../loader/npy.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: ppconvert MODEL.onnx -o GRAPH.bin [options]\n"
            "\n"
            "Converts an ONNX model into a graph.bin for ppengine. The first axis of each\n"
            "graph input whose extent is symbolic (a dim_param) is the batch: the graph\n"
            "runs at any batch size.\n"
            "\n"
            "options:\n"
            "  -o, --output PATH      the graph.bin to write (through a temporary and a rename)\n"
            "  --dtype f32|f16|bf16   weight precision (only f32 for now)\n"
            "  --const NAME=FILE.npy  bind graph input NAME to constant data (repeatable)\n"
            "  --dim NAME=N           bind the symbolic extent NAME to N (repeatable)\n"
            "  -v, --verbose          list the converted graph's inputs, outputs and ops\n"
            "  --version              print the version\n"
            "  -h, --help             this text\n");
}

static int die(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "ppconvert: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
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

static const char *human(uint64_t b, char *buf, size_t n) {
    if (b >= (1u << 20)) snprintf(buf, n, "%.1f MiB", (double)b / (1 << 20));
    else if (b >= 1024) snprintf(buf, n, "%.1f KiB", (double)b / 1024);
    else snprintf(buf, n, "%" PRIu64 " bytes", b);
    return buf;
}

int main(int argc, char **argv) {
    const char *input = NULL, *output = NULL, *dtype = "f32";
    int verbose = 0, rc = 0;
    int n_consts = 0, n_dims = 0;
    pp_onnx_const *consts = calloc((size_t)argc + 1, sizeof *consts);
    pp_npy *npys = calloc((size_t)argc + 1, sizeof *npys);
    pp_onnx_dim *dims = calloc((size_t)argc + 1, sizeof *dims);
    if (!consts || !npys || !dims) return die("out of memory%s%s", "", "");
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            goto out;
        } else if (!strcmp(a, "--version")) {
            printf("ppconvert %s\n", PP_CONVERT_VERSION);
            goto out;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbose = 1;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--dtype") || !strcmp(a, "--const") ||
                   !strcmp(a, "--dim")) {
            if (i + 1 >= argc) {
                rc = die("%s needs a value%s", a, "");
                break;
            }
            val = argv[++i];
            if (a[1] == 'o' || !strcmp(a, "--output")) {
                output = val;
            } else if (!strcmp(a, "--dtype")) {
                dtype = val;
            } else {
                const char *eq = strchr(val, '=');
                if (!eq || eq == val || !eq[1]) {
                    rc = die("%s expects NAME=VALUE, got '%s'", a, val);
                    break;
                }
                char *name = strndup(val, (size_t)(eq - val));
                if (!name) {
                    rc = die("out of memory%s%s", "", "");
                    break;
                }
                if (!strcmp(a, "--dim")) {
                    char *end;
                    errno = 0;
                    long long v = strtoll(eq + 1, &end, 10);
                    if (errno || *end || v < 1) {
                        free(name);
                        rc = die("--dim %s: '%s' is not a positive extent", val, eq + 1);
                        break;
                    }
                    dims[n_dims].name = name;
                    dims[n_dims].value = v;
                    n_dims++;
                } else {
                    pp_error err = {0};
                    pp_npy *np = &npys[n_consts];
                    if (pp_npy_read(eq + 1, np, &err)) {
                        free(name);
                        rc = die("--const %s: %s", val, err.msg);
                        break;
                    }
                    pp_onnx_const *c = &consts[n_consts++];
                    c->name = name;
                    c->dtype = np->dtype;
                    c->rank = np->rank;
                    memcpy(c->dims, np->dims, sizeof c->dims);
                    c->data = np->data;
                    c->nbytes = np->nbytes;
                }
            }
        } else if (a[0] == '-' && a[1]) {
            rc = die("unknown option '%s' (see --help)%s", a, "");
        } else if (!input) {
            input = a;
        } else {
            rc = die("more than one model given ('%s' and '%s')", input, a);
        }
    }
    if (!rc && !input) rc = die("no model given (see --help)%s%s", "", "");
    if (!rc && !output) rc = die("no output given: -o GRAPH.bin (see --help)%s%s", "", "");
    pp_dtype dt = PP_DTYPE_INVALID;
    if (!rc) {
        dt = pp_dtype_from_name(dtype);
        if (dt != PP_DTYPE_F32 && dt != PP_DTYPE_F16 && dt != PP_DTYPE_BF16)
            rc = die("--dtype '%s': expected f32, f16 or bf16%s", dtype, "");
    }
    if (!rc) {
        pp_convert_options o;
        memset(&o, 0, sizeof o);
        o.input = input;
        o.output = output;
        o.dtype = dt;
        o.consts = consts;
        o.n_consts = n_consts;
        o.dims = dims;
        o.n_dims = n_dims;
        if (verbose) o.inspect = inspect;
        pp_convert_stats st;
        pp_error err = {0};
        if (pp_convert(&o, &st, &err)) {
            rc = die("%s%s", err.msg, "");
        } else {
            char b1[32], b2[32];
            printf("%s -> %s: opset %" PRId64 ", %d ONNX nodes -> %d nodes (%d folded, %d dead removed), "
                   "%" PRIu64 " parameters (%s), %s written in %.2f s\n",
                   input, output, st.opset, st.onnx_nodes, st.nodes_final, st.folded, st.removed, st.params,
                   human(st.weight_bytes, b1, sizeof b1), human(st.bytes_written, b2, sizeof b2), st.seconds);
        }
    }
out:
    for (int i = 0; i < n_consts; i++) {
        free((char *)consts[i].name);
        pp_npy_free(&npys[i]);
    }
    for (int i = 0; i < n_dims; i++) free((char *)dims[i].name);
    free(consts);
    free(npys);
    free(dims);
    return rc;
}

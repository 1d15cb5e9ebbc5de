/* convert.c: the conversion pipeline (convert.h). */
#include "convert.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "checkpoint.h"
#include "fold.h"
#include "pt2.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int live_nodes(const pp_graph *g) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += !g->nodes[i].dead;
    return n;
}

pp_code pp_convert_onnx_graph(const char *path, const pp_onnx_options *opt, pp_onnx **handle, pp_graph **graph,
                              pp_convert_stats *stats, pp_error *err) {
    pp_convert_stats st;
    memset(&st, 0, sizeof st);
    double t0 = now_s();
    *handle = NULL;
    *graph = NULL;
    pp_onnx *h = NULL;
    pp_graph *g = NULL;
    pp_code rc = pp_onnx_import(path, opt, &h, &g, err);
    if (rc) return rc;
    const pp_onnx_info *info = pp_onnx_get_info(h);
    st.onnx_nodes = info->onnx_nodes;
    st.opset = info->opset;
    st.nodes_imported = live_nodes(g);
    st.folded = info->folded;
    /* The importer folds as it goes; this catches what later edits expose. */
    int more = 0;
    if (!(opt && opt->no_fold)) rc = pp_fold_constants(g, &more, err);
    st.folded += more;
    if (!rc) rc = pp_eliminate_dead(g, &st.removed, err);
    if (!rc) rc = pp_graph_toposort(g, err);
    if (!rc) rc = pp_graph_infer(g, err);
    /* Graph passes (converter/pass_*.c) match on the inferred shapes; what they
     * add is inferred again. */
    if (!rc) rc = pp_run_passes(g, st.passes, &st.n_passes, err);
    if (!rc) rc = pp_graph_infer(g, err);
    if (rc) {
        pp_error_prefix(err, "%s", path);
        pp_graph_free(g);
        pp_onnx_free(h);
        return rc;
    }
    st.nodes_final = g->n_nodes;
    st.n_inputs = g->n_inputs;
    st.n_outputs = g->n_outputs;
    st.params = pp_graph_param_count(g);
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].kind == PP_TENSOR_WEIGHT) st.weight_bytes += g->tensors[i].nbytes;
    st.seconds = now_s() - t0;
    if (stats) *stats = st;
    *handle = h;
    *graph = g;
    return PP_OK;
}

pp_source_format pp_source_sniff(const char *path) {
    size_t n = strlen(path);
    if (n >= 11 && !strcmp(path + n - 11, ".index.json")) return PP_SRC_CHECKPOINT;
    unsigned char b[9] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return PP_SRC_UNKNOWN;
    size_t got = fread(b, 1, sizeof b, f);
    fclose(f);
    if (got >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4) /* torch.export or torch.save zip */
        return pp_pt2_sniff(path) ? PP_SRC_PT2 : PP_SRC_CHECKPOINT;
    if (got >= 8 && !memcmp(b, "PPGRAPH", 8)) return PP_SRC_GRAPHBIN;
    if (got >= 2 && b[0] == 0x80 && b[1] <= 5) return PP_SRC_CHECKPOINT; /* a bare pickle: legacy torch.save */
    if (got == 9 && b[6] == 0 && b[7] == 0 && (b[8] == '{' || b[8] == ' ')) return PP_SRC_CHECKPOINT; /* safetensors */
    return PP_SRC_ONNX;
}

static const char *base_name(const char *path) {
    const char *base = strrchr(path, '/');
    return base ? base + 1 : path;
}

/* ONNX: the imported, folded, optimised graph and its provenance. *h keeps the
 * source mapping the graph may borrow from. */
static pp_code onnx_graph(const pp_convert_options *opt, pp_onnx **h, pp_graph **g, pp_convert_stats *st,
                          pp_error *err) {
    pp_onnx_options oo;
    memset(&oo, 0, sizeof oo);
    oo.consts = opt->consts;
    oo.n_consts = opt->n_consts;
    oo.dims = opt->dims;
    oo.n_dims = opt->n_dims;
    pp_code rc = pp_convert_onnx_graph(opt->input, &oo, h, g, st, err);
    if (rc) return rc;
    const pp_onnx_info *info = pp_onnx_get_info(*h);
    char producer[512], opset[32], ir[32];
    snprintf(producer, sizeof producer, "%s%s%s", info->producer_name, *info->producer_version ? " " : "",
             info->producer_version);
    snprintf(opset, sizeof opset, "%" PRId64, info->opset);
    snprintf(ir, sizeof ir, "%" PRId64, info->ir_version);
    if (!rc) rc = pp_graph_add_meta(*g, "producer", producer, err);
    if (!rc) rc = pp_graph_add_meta(*g, "source", base_name(opt->input), err);
    if (!rc) rc = pp_graph_add_meta(*g, "source_format", "onnx", err);
    if (!rc) rc = pp_graph_add_meta(*g, "opset", opset, err);
    if (!rc) rc = pp_graph_add_meta(*g, "onnx_ir_version", ir, err);
    return rc;
}

/* The final graph's counts into st. */
static void graph_stats(const pp_graph *g, pp_convert_stats *st) {
    st->nodes_final = g->n_nodes;
    st->n_inputs = g->n_inputs;
    st->n_outputs = g->n_outputs;
    st->params = pp_graph_param_count(g);
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].kind == PP_TENSOR_WEIGHT) st->weight_bytes += g->tensors[i].nbytes;
}

/* A checkpoint: the architecture (given or detected from the keys) builds the graph. */
static pp_code checkpoint_graph(const pp_convert_options *opt, pp_graph **g, pp_convert_stats *st, pp_error *err) {
    if (opt->n_consts || opt->n_dims)
        return pp_error_set(err, PP_ERR_INVALID_ARG,
                            "%s: --const and --dim bind ONNX graph inputs; a checkpoint has none", opt->input);
    pp_code rc =
        pp_convert_checkpoint(opt->input, opt->arch, opt->arch_file, g, st->architecture, sizeof st->architecture, err);
    if (rc) return rc;
    st->nodes_imported = (*g)->n_nodes;
    graph_stats(*g, st);
    rc = pp_graph_add_meta(*g, "producer", "torch.save / safetensors checkpoint", err);
    if (!rc) rc = pp_graph_add_meta(*g, "source", base_name(opt->input), err);
    if (!rc) rc = pp_graph_add_meta(*g, "source_format", "checkpoint", err);
    if (!rc) rc = pp_graph_add_meta(*g, "architecture", st->architecture, err);
    return rc;
}

/* A torch.export archive: the ExportedProgram's graph, folded and optimised. */
static pp_code pt2_graph(const pp_convert_options *opt, pp_graph **g, pp_convert_stats *st, pp_error *err) {
    if (opt->n_consts)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "%s: --const binds ONNX graph inputs, not .pt2 ones", opt->input);
    pp_pt2_info info;
    pp_pt2_options po = {opt->dims, opt->n_dims};
    pp_code rc = pp_convert_pt2_graph_opt(opt->input, &po, g, &info, err);
    if (rc) return rc;
    st->onnx_nodes = info.nodes;
    st->nodes_imported = info.nodes_imported;
    st->folded = info.folded;
    st->removed = info.removed;
    memcpy(st->passes, info.passes, sizeof st->passes);
    st->n_passes = info.n_passes;
    graph_stats(*g, st);
    char producer[64], schema[32];
    snprintf(producer, sizeof producer, "torch.export%s%s", info.torch_version[0] ? " " : "", info.torch_version);
    snprintf(schema, sizeof schema, "%d.%d", info.schema_major, info.schema_minor);
    rc = pp_graph_add_meta(*g, "producer", producer, err);
    if (!rc) rc = pp_graph_add_meta(*g, "source", base_name(opt->input), err);
    if (!rc) rc = pp_graph_add_meta(*g, "source_format", "pt2", err);
    if (!rc) rc = pp_graph_add_meta(*g, "pt2_schema_version", schema, err);
    return rc;
}

pp_code pp_convert(const pp_convert_options *opt, pp_convert_stats *stats, pp_error *err) {
    double t0 = now_s();
    if (!opt || !opt->input) return pp_error_set(err, PP_ERR_INVALID_ARG, "no input model given");
    if (opt->dtype != PP_DTYPE_INVALID && opt->dtype != PP_DTYPE_F32 && opt->dtype != PP_DTYPE_F16 &&
        opt->dtype != PP_DTYPE_BF16)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "--dtype %s: expected f32, f16 or bf16",
                            pp_dtype_name(opt->dtype));
    pp_convert_stats st;
    memset(&st, 0, sizeof st);
    pp_source_format fmt = pp_source_sniff(opt->input);
    if (fmt == PP_SRC_GRAPHBIN) return pp_error_set(err, PP_ERR_INVALID_ARG, "%s is already a graph.bin", opt->input);
    if (fmt != PP_SRC_CHECKPOINT && (opt->arch || opt->arch_file))
        return pp_error_set(err, PP_ERR_INVALID_ARG, "--arch and --arch-file are for checkpoints; %s is %s", opt->input,
                            fmt == PP_SRC_PT2 ? "a .pt2 archive" : "an ONNX model");
    pp_onnx *h = NULL;
    pp_graph *g = NULL;
    pp_code rc = fmt == PP_SRC_CHECKPOINT ? checkpoint_graph(opt, &g, &st, err)
                 : fmt == PP_SRC_PT2      ? pt2_graph(opt, &g, &st, err)
                                          : onnx_graph(opt, &h, &g, &st, err);
    st.format = fmt;
    if (!rc) rc = pp_graph_add_meta(g, "tool", "ppconvert " PP_CONVERT_VERSION, err);
    if (!rc && opt->inspect) opt->inspect(g, opt->inspect_arg);
    /* Last, after every pass has read the weights in f32. */
    if (!rc) rc = pp_graph_store_weights(g, opt->dtype, err);
    if (!rc && opt->output) {
        rc = pp_graph_write_progress(g, opt->output, opt->progress, opt->progress_arg, err);
        if (!rc) {
            struct stat sb;
            if (stat(opt->output, &sb) == 0) st.bytes_written = (uint64_t)sb.st_size;
        }
    }
    /* The graph may borrow weights from the handle's mapping: graph first. */
    pp_graph_free(g);
    pp_onnx_free(h);
    st.seconds = now_s() - t0;
    if (stats) *stats = st;
    return rc;
}

/* api.c: include/ppengine.h over the loader, the graph and the executor. */
#include "../include/ppengine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "batcher.h"
#include "exec.h"
#include "graph.h"
#include "../loader/checked.h"

_Static_assert(PP_ELEM_F32 == (int)PP_DTYPE_F32 && PP_ELEM_F64 == (int)PP_DTYPE_F64, "element types are dtypes");
_Static_assert(PP_STATUS_CANCELLED == (int)PP_ERR_CANCELLED && PP_STATUS_INTERNAL == (int)PP_ERR_INTERNAL &&
                   PP_STATUS_DEADLINE_EXCEEDED == (int)PP_ERR_DEADLINE &&
                   PP_STATUS_OVERLOADED == (int)PP_ERR_OVERLOADED,
               "status codes are error codes");

struct pp_status {
    pp_error err;
    int is_static; /* the out-of-memory status below: never freed */
};

/* A status for a failure; when even that allocation fails, a static one that
 * pp_status_free knows not to free (by its flag, not its address, so a status
 * made by another library's copy of this code frees the same way). */
static pp_status nomem_status = {{PP_ERR_NOMEM, "out of memory (allocating a status)"}, 1};

static pp_status *status_from(const pp_error *err) {
    pp_status *s = malloc(sizeof *s);
    if (!s) return &nomem_status;
    s->err = *err;
    s->is_static = 0;
    return s;
}

static pp_status *status_nomem(void) {
    pp_error e;
    pp_error_nomem(&e, "out of memory");
    return status_from(&e);
}

static pp_status *status_new(pp_code code, const char *msg) {
    pp_error e;
    pp_error_set(&e, code, "%s", msg);
    return status_from(&e);
}

/* A new status the caller owns; NULL for PP_STATUS_OK. */
pp_status *pp_status_create(pp_status_code code, const char *message) {
    if (code == PP_STATUS_OK) return NULL;
    return status_new((pp_code)code, message ? message : "");
}

/* NULL is success. */
pp_status_code pp_status_get_code(const pp_status *st) { return st ? (pp_status_code)st->err.code : PP_STATUS_OK; }
/* Borrowed; "" for NULL. */
const char *pp_status_message(const pp_status *st) { return st ? st->err.msg : ""; }
/* Frees a status made here or by libppconvert (the static out-of-memory one is kept). */
void pp_status_free(pp_status *st) {
    if (st && !st->is_static) free(st);
}

/* The library's version, which may differ from the header's. */
const char *pp_version(void) { return "0.1.0"; }

/* Usable CUDA devices; 0 without a driver or CUDA in the build. */
int pp_cuda_devices(void) { return pp_cuda_device_count(); }

/* ---- nets ------------------------------------------------------------------------- */

/* What pp_tensor_info says of one input or output axis beyond the graph. */
typedef struct io_axis {
    char name[64]; /* "" for a fixed axis */
    int64_t min, max;
} io_axis;

struct pp_net {
    pp_graph *g;
    io_axis (*axes)[PP_MAX_RANK]; /* [n_inputs + n_outputs] */
};

/* Each input's and output's symbolic axes: their names and the extents the
 * file's ranges allow. */
static pp_code describe_axes(pp_net *n, pp_error *err) {
    const pp_graph *g = n->g;
    int nio = g->n_inputs + g->n_outputs;
    n->axes = pp_calloc((size_t)nio + 1, sizeof *n->axes);
    int64_t *lo = pp_calloc((size_t)g->sym.n_prog + 1, 2 * sizeof(int64_t)), *hi = lo ? lo + g->sym.n_prog + 1 : NULL;
    if (!n->axes || !lo) {
        pp_free(lo);
        return pp_error_nomem(err, "out of memory describing the net's inputs and outputs");
    }
    int64_t slo[PP_MAX_SYMBOLS], shi[PP_MAX_SYMBOLS];
    for (int s = 0; s < g->sym.n_sym; s++) slo[s] = g->sym.sym[s].min, shi[s] = g->sym.sym[s].max;
    pp_symtab_bounds(&g->sym, slo, shi, lo, hi);
    int b = g->sym.batch;
    for (int i = 0; i < nio; i++) {
        const pp_tensor *t = &g->tensors[i < g->n_inputs ? g->inputs[i] : g->outputs[i - g->n_inputs]];
        for (int d = 0; d < t->rank; d++) {
            io_axis *a = &n->axes[i][d];
            int64_t v = t->dims[d];
            a->min = a->max = v;
            if (v >= 0) continue;
            pp_symtab_dim_str(&g->sym, v, a->name, sizeof a->name);
            if (pp_dim_is_slot(v)) {
                a->min = lo[pp_dim_slot(v)];
                a->max = hi[pp_dim_slot(v)];
            } else {
                a->min = b >= 0 ? -v * g->sym.sym[b].min : -v;
                a->max = b >= 0 && pp_mul_i64(-v, g->sym.sym[b].max, &a->max) ? INT64_MAX : a->max;
                if (b < 0) a->max = -v;
            }
        }
    }
    pp_free(lo);
    return PP_OK;
}

static pp_status *net_from_model(pp_model *m, pp_net **out, pp_error *err) {
    pp_net *n = pp_calloc(1, sizeof *n);
    if (!n) {
        pp_model_free(m);
        return status_nomem();
    }
    if (pp_graph_from_model(&m, &n->g, err) || describe_axes(n, err)) {
        pp_model_free(m);
        pp_graph_free(n->g);
        pp_free(n->axes);
        pp_free(n);
        return status_from(err);
    }
    *out = n;
    return NULL;
}

/* Maps and validates path; *out is the caller's (pp_net_free), NULL on failure. */
pp_status *pp_net_load(const char *path, pp_net **out) {
    pp_error err;
    pp_model *m = NULL;
    if (!path || !out) return status_new(PP_ERR_INVALID_ARG, "pp_net_load: path and out must not be NULL");
    *out = NULL;
    if (pp_model_load(path, 0, &m, &err)) return status_from(&err);
    pp_status *st = net_from_model(m, out, &err);
    if (st && st != &nomem_status) pp_error_prefix(&st->err, "%s", path);
    return st;
}

/* The same over memory the caller keeps valid and unchanged until pp_net_free. */
pp_status *pp_net_load_memory(const void *data, size_t size, pp_net **out) {
    pp_error err;
    pp_model *m = NULL;
    if (!data || !out) return status_new(PP_ERR_INVALID_ARG, "pp_net_load_memory: data and out must not be NULL");
    *out = NULL;
    if (pp_model_load_memory(data, size, 0, &m, &err)) return status_from(&err);
    return net_from_model(m, out, &err);
}

/* NULL is fine; the net must outlive every engine built on it. */
void pp_net_free(pp_net *net) {
    if (!net) return;
    pp_graph_free(net->g);
    pp_free(net->axes);
    pp_free(net);
}

/* 0 for a NULL net. */
int pp_net_input_count(const pp_net *net) { return net ? net->g->n_inputs : 0; }
/* 0 for a NULL net. */
int pp_net_output_count(const pp_net *net) { return net ? net->g->n_outputs : 0; }

static pp_status *tensor_info(const pp_net *net, int index, int n, const int *ids, const char *what,
                              pp_tensor_info *info) {
    if (!net || !info) return status_new(PP_ERR_INVALID_ARG, "net and info must not be NULL");
    if (index < 0 || index >= n) {
        pp_error e;
        pp_error_set(&e, PP_ERR_INVALID_ARG, "%s %d does not exist (the net has %d)", what, index, n);
        return status_from(&e);
    }
    const pp_tensor *t = &net->g->tensors[ids[index]];
    const io_axis *ax = net->axes[(ids == net->g->outputs ? net->g->n_inputs : 0) + index];
    memset(info, 0, sizeof *info);
    info->name = t->name;
    info->type = (pp_elem_type)t->dtype;
    info->rank = t->rank;
    for (int d = 0; d < t->rank; d++) {
        info->dims[d] = pp_dim_is_slot(t->dims[d]) ? PP_DIM_SYMBOLIC : t->dims[d];
        info->dim_name[d] = ax[d].name[0] ? ax[d].name : NULL;
        info->dim_min[d] = ax[d].min;
        info->dim_max[d] = ax[d].max;
    }
    return NULL;
}

int pp_net_symbol_count(const pp_net *net) { return net ? net->g->sym.n_sym : 0; }

pp_status *pp_net_symbol_info(const pp_net *net, int index, const char **name, int64_t *min, int64_t *max,
                              int *is_batch) {
    if (!net || index < 0 || index >= net->g->sym.n_sym) {
        pp_error e;
        pp_error_set(&e, PP_ERR_INVALID_ARG, "symbol %d does not exist (the net has %d)", index,
                     net ? net->g->sym.n_sym : 0);
        return status_from(&e);
    }
    const pp_symbol *s = &net->g->sym.sym[index];
    if (name) *name = s->name;
    if (min) *min = s->min;
    if (max) *max = s->max;
    if (is_batch) *is_batch = index == net->g->sym.batch;
    return NULL;
}

/* Fills *info (names borrowed from the net); INVALID_ARGUMENT for a bad index. */
pp_status *pp_net_input_info(const pp_net *net, int index, pp_tensor_info *info) {
    return tensor_info(net, index, net ? net->g->n_inputs : 0, net ? net->g->inputs : NULL, "input", info);
}
/* As pp_net_input_info, for outputs. */
pp_status *pp_net_output_info(const pp_net *net, int index, pp_tensor_info *info) {
    return tensor_info(net, index, net ? net->g->n_outputs : 0, net ? net->g->outputs : NULL, "output", info);
}

/* Bytes of input `index` at `batch`; 0 for a bad index. */
size_t pp_net_input_bytes(const pp_net *net, int index, int64_t batch) {
    if (!net || index < 0 || index >= net->g->n_inputs || batch < 0 || net->g->sym.n_prog) return 0;
    return (size_t)pp_tensor_bytes_at(&net->g->tensors[net->g->inputs[index]], batch);
}
/* Bytes of output `index` at `batch`; 0 for a bad index. */
size_t pp_net_output_bytes(const pp_net *net, int index, int64_t batch) {
    if (!net || index < 0 || index >= net->g->n_outputs || batch < 0 || net->g->sym.n_prog) return 0;
    return (size_t)pp_tensor_bytes_at(&net->g->tensors[net->g->outputs[index]], batch);
}

/* ---- options ----------------------------------------------------------------------- */

struct pp_options {
    char devices[512], split[1024], trace[1024], dims[1024], tune_cache[1024];
    int stages, microbatch, max_batch, inflight, p2p, graphs, threads, deterministic;
    int max_delay_us, max_queue; /* the batcher's */
    pp_precision precision;
    size_t mem_limit;
};

/* Default options; *out is the caller's (pp_options_free). */
pp_status *pp_options_create(pp_options **out) {
    if (!out) return status_new(PP_ERR_INVALID_ARG, "pp_options_create: out must not be NULL");
    *out = pp_calloc(1, sizeof **out);
    if (!*out) return status_nomem();
    strcpy((*out)->devices, "auto");
    (*out)->stages = 1;
    (*out)->max_batch = 0; /* unset: the engine plans for 1, a batcher takes the engine's */
    (*out)->inflight = 2;
    (*out)->graphs = -1;
    (*out)->max_delay_us = 1000;
    (*out)->max_queue = 1024;
    return NULL;
}

/* NULL is fine. */
void pp_options_free(pp_options *opt) { pp_free(opt); }

static int parse_int(const char *v, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) return -1;
    *out = (int)x;
    return 0;
}

/* One key at a time; an unknown key or bad value is INVALID_ARGUMENT and changes nothing. */
pp_status *pp_options_set(pp_options *opt, const char *key, const char *value) {
    pp_error e;
    if (!opt || !key || !value) return status_new(PP_ERR_INVALID_ARG, "pp_options_set: NULL argument");
    struct {
        const char *key;
        int *v;
        long lo, hi;
    } ints[] = {{"stages", &opt->stages, 1, 1024},
                {"microbatch", &opt->microbatch, 1, 1L << 30},
                {"max_batch", &opt->max_batch, 1, 1L << 30},
                {"inflight", &opt->inflight, 2, 64},
                {"p2p", &opt->p2p, 0, 1},
                {"graphs", &opt->graphs, -1, 1},
                {"threads", &opt->threads, 0, 4096},
                {"deterministic", &opt->deterministic, 0, 1},
                {"max_delay_us", &opt->max_delay_us, 0, 60000000},
                {"max_queue", &opt->max_queue, 1, 1L << 20}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (!strcmp(key, ints[i].key)) {
            if (parse_int(value, ints[i].lo, ints[i].hi, ints[i].v) == 0) return NULL;
            pp_error_set(&e, PP_ERR_INVALID_ARG, "option %s: '%s' is not an integer in %ld..%ld", key, value,
                         ints[i].lo, ints[i].hi);
            return status_from(&e);
        }
    if (!strcmp(key, "mem_limit")) {
        if (pp_parse_size(value, &opt->mem_limit) == 0) return NULL;
        pp_error_set(&e, PP_ERR_INVALID_ARG, "option mem_limit: '%s' is not a size like 512M or 2G", value);
        return status_from(&e);
    }
    if (!strcmp(key, "precision")) {
        if (pp_precision_parse(value, &opt->precision) == 0) return NULL;
        pp_error_set(&e, PP_ERR_INVALID_ARG, "option precision: '%s' is not one of fp32, tf32, fp16, bf16", value);
        return status_from(&e);
    }
    if (!strcmp(key, "dim")) {
        /* accumulates: one symbol per call, or a list */
        size_t have = strlen(opt->dims);
        if (have + strlen(value) + 2 > sizeof opt->dims) {
            pp_error_set(&e, PP_ERR_INVALID_ARG, "option dim: the ranges exceed %zu characters", sizeof opt->dims - 1);
            return status_from(&e);
        }
        int64_t a, b;
        char name[128];
        for (const char *p = value; *p;) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            if (pp_dim_spec_parse(p, len, name, sizeof name, &a, &b, &e)) {
                pp_error_prefix(&e, "option dim");
                return status_from(&e);
            }
            p = c ? c + 1 : p + len;
        }
        snprintf(opt->dims + have, sizeof opt->dims - have, "%s%s", have ? "," : "", value);
        return NULL;
    }
    struct {
        const char *key;
        char *buf;
        size_t size;
    } strs[] = {{"devices", opt->devices, sizeof opt->devices},
                {"split", opt->split, sizeof opt->split},
                {"trace", opt->trace, sizeof opt->trace},
                {"tune_cache", opt->tune_cache, sizeof opt->tune_cache}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (!strcmp(key, strs[i].key)) {
            if (strlen(value) >= strs[i].size) {
                pp_error_set(&e, PP_ERR_INVALID_ARG, "option %s: value longer than %zu characters", key,
                             strs[i].size - 1);
                return status_from(&e);
            }
            strcpy(strs[i].buf, value);
            return NULL;
        }
    pp_error_set(&e, PP_ERR_INVALID_ARG,
                 "unknown option '%s' (devices, stages, microbatch, max_batch, inflight, p2p, graphs, precision, "
                 "mem_limit, split, trace, dim, tune_cache, threads, deterministic, max_delay_us, max_queue)",
                 key);
    return status_from(&e);
}

/* ---- engines -------------------------------------------------------------------------- */

struct pp_engine {
    const pp_net *net;
    pp_exec *x;
    int tracing;
    int max_batch; /* as planned */
};

/* Places, uploads and prepares; net is borrowed, opt may be NULL; *out NULL on failure. */
pp_status *pp_engine_create(const pp_net *net, const pp_options *opt, pp_engine **out) {
    pp_error err;
    if (!net || !out) return status_new(PP_ERR_INVALID_ARG, "pp_engine_create: net and out must not be NULL");
    *out = NULL;
    pp_options defaults;
    if (!opt) {
        memset(&defaults, 0, sizeof defaults);
        strcpy(defaults.devices, "auto");
        defaults.stages = 1;
        defaults.max_batch = 1;
        defaults.inflight = 2;
        defaults.graphs = -1;
        opt = &defaults;
    }
    pp_exec_options o = {.devices = opt->devices,
                         .stages = opt->stages,
                         .microbatch = opt->microbatch,
                         .max_batch = opt->max_batch > 0 ? opt->max_batch : 1,
                         .inflight = opt->inflight,
                         .p2p = opt->p2p,
                         .split = opt->split[0] ? opt->split : NULL,
                         .trace = opt->trace[0] ? opt->trace : NULL,
                         .graphs = opt->graphs,
                         .precision = opt->precision,
                         .mem_limit = opt->mem_limit,
                         .dims = opt->dims[0] ? opt->dims : NULL,
                         .threads = opt->threads,
                         .deterministic = opt->deterministic};
    pp_engine *e = pp_calloc(1, sizeof *e);
    if (!e) return status_nomem();
    o.tune_cache = opt->tune_cache[0] ? opt->tune_cache : NULL;
    if (pp_exec_create(net->g, &o, &e->x, &err)) {
        pp_free(e);
        return status_from(&err);
    }
    e->net = net;
    e->tracing = opt->trace[0] != 0;
    e->max_batch = opt->max_batch > 0 ? opt->max_batch : 1;
    *out = e;
    return NULL;
}

/* Waits for the engine's work and frees it; NULL is fine. */
void pp_engine_free(pp_engine *eng) {
    if (!eng) return;
    if (eng->tracing) pp_exec_write_trace(eng->x, NULL, NULL, NULL);
    pp_exec_free(eng->x);
    pp_free(eng);
}

/* One batch on host buffers the caller keeps; any thread; allocates nothing after warm-up. */
pp_status *pp_engine_run(pp_engine *eng, int64_t batch, const void *const *inputs, void *const *outputs) {
    pp_error err;
    if (!eng || !inputs || !outputs)
        return status_new(PP_ERR_INVALID_ARG, "pp_engine_run: engine, inputs and outputs must not be NULL");
    if (pp_exec_run(eng->x, batch, inputs, outputs, &err)) return status_from(&err);
    return NULL;
}

/* One batch on the caller's device buffers, in its stream's order, without waiting. */
pp_status *pp_engine_run_device(pp_engine *eng, int64_t batch, const void *const *inputs, void *const *outputs,
                                void *stream) {
    pp_error err;
    if (!eng || !inputs || !outputs)
        return status_new(PP_ERR_INVALID_ARG, "pp_engine_run_device: engine, inputs and outputs must not be NULL");
    if (pp_exec_run_device(eng->x, batch, inputs, outputs, stream, &err)) return status_from(&err);
    return NULL;
}

pp_status *pp_engine_run_shapes(pp_engine *eng, const int64_t *const *input_dims, const void *const *inputs,
                                void *const *outputs) {
    pp_error err;
    if (!eng || !input_dims || !inputs || !outputs)
        return status_new(PP_ERR_INVALID_ARG,
                          "pp_engine_run_shapes: engine, input_dims, inputs and outputs must not be NULL");
    if (pp_exec_run_shapes(eng->x, input_dims, inputs, outputs, &err)) return status_from(&err);
    return NULL;
}

pp_status *pp_engine_run_device_shapes(pp_engine *eng, const int64_t *const *input_dims, const void *const *inputs,
                                       void *const *outputs, void *stream) {
    pp_error err;
    if (!eng || !input_dims || !inputs || !outputs)
        return status_new(PP_ERR_INVALID_ARG,
                          "pp_engine_run_device_shapes: engine, input_dims, inputs and outputs must not be NULL");
    if (pp_exec_run_device_shapes(eng->x, input_dims, inputs, outputs, stream, &err)) return status_from(&err);
    return NULL;
}

pp_status *pp_engine_output_dims(const pp_engine *eng, const int64_t *const *input_dims, int index, int64_t *dims,
                                 size_t *bytes) {
    pp_error err;
    if (!eng || !input_dims || !dims)
        return status_new(PP_ERR_INVALID_ARG, "pp_engine_output_dims: engine, input_dims and dims must not be NULL");
    const pp_graph *g = eng->net->g;
    if (index < 0 || index >= g->n_outputs) {
        pp_error_set(&err, PP_ERR_INVALID_ARG, "output %d does not exist (the net has %d)", index, g->n_outputs);
        return status_from(&err);
    }
    int64_t sym[PP_MAX_SYMBOLS];
    if (pp_exec_bind(eng->x, input_dims, sym, &err)) return status_from(&err);
    pp_exec_tensor_dims(eng->x, 1, index, sym, dims);
    if (bytes) *bytes = (size_t)pp_exec_tensor_bytes(eng->x, 1, index, sym);
    return NULL;
}

/* Waits for enqueued device runs; reports errors their kernels raised. */
pp_status *pp_engine_synchronize(pp_engine *eng) {
    pp_error err;
    if (!eng) return status_new(PP_ERR_INVALID_ARG, "pp_engine_synchronize: engine must not be NULL");
    if (pp_exec_synchronize(eng->x, &err)) return status_from(&err);
    return NULL;
}

/* Prepares and runs once at `batch` on zeros, so later runs allocate nothing. */
pp_status *pp_engine_warmup(pp_engine *eng, int64_t batch) {
    if (!eng) return status_new(PP_ERR_INVALID_ARG, "pp_engine_warmup: engine must not be NULL");
    if (batch < 1) return status_new(PP_ERR_INVALID_ARG, "pp_engine_warmup: batch must be at least 1");
    /* At `batch` with every other symbol at its largest value in this engine. */
    const pp_graph *g = eng->net->g;
    int64_t lo[PP_MAX_SYMBOLS], sym[PP_MAX_SYMBOLS];
    pp_exec_ranges(eng->x, lo, sym);
    if (g->sym.batch >= 0) sym[g->sym.batch] = batch;
    void **in = calloc((size_t)g->n_inputs + 1, sizeof(void *)),
         **out = calloc((size_t)g->n_outputs + 1, sizeof(void *));
    int64_t(*dims)[PP_MAX_RANK] = calloc((size_t)g->n_inputs + 1, sizeof *dims);
    const int64_t **dp = calloc((size_t)g->n_inputs + 1, sizeof *dp);
    pp_status *st = NULL;
    if (!in || !out || !dims || !dp) st = status_nomem();
    for (int i = 0; !st && i < g->n_inputs; i++) {
        pp_exec_tensor_dims(eng->x, 0, i, sym, dims[i]);
        dp[i] = dims[i];
        if (!(in[i] = calloc(1, (size_t)pp_exec_tensor_bytes(eng->x, 0, i, sym) + 1))) st = status_nomem();
    }
    for (int i = 0; !st && i < g->n_outputs; i++)
        if (!(out[i] = calloc(1, (size_t)pp_exec_tensor_bytes(eng->x, 1, i, sym) + 1))) st = status_nomem();
    if (!st) st = pp_engine_run_shapes(eng, dp, (const void *const *)in, out);
    for (int i = 0; in && i < g->n_inputs; i++) free(in[i]);
    for (int i = 0; out && i < g->n_outputs; i++) free(out[i]);
    free(in);
    free(out);
    free(dims);
    free(dp);
    return st;
}

/* What the build changed from what was asked, or NULL; borrowed. */
const char *pp_engine_notice(const pp_engine *eng) { return eng ? pp_exec_notice(eng->x) : NULL; }

/* From any thread: the run in progress returns CANCELLED; the engine stays usable. */
void pp_engine_cancel(pp_engine *eng) {
    if (eng) pp_exec_cancel(eng->x);
}

/* ---- batchers --------------------------------------------------------------------------- */

struct pp_batcher {
    pp_batch_queue *q;
};

/* A batcher over eng (borrowed, must outlive it); *out is the caller's (pp_batcher_free). */
pp_status *pp_batcher_create(pp_engine *eng, const pp_options *opt, pp_batcher **out) {
    pp_error err;
    if (!eng || !out) return status_new(PP_ERR_INVALID_ARG, "pp_batcher_create: engine and out must not be NULL");
    *out = NULL;
    pp_batch_queue_options o = {.max_batch = opt && opt->max_batch > 0 ? opt->max_batch : eng->max_batch,
                                .max_delay_us = opt ? opt->max_delay_us : 1000,
                                .max_queue = opt ? opt->max_queue : 1024};
    pp_batcher *b = pp_calloc(1, sizeof *b);
    if (!b) return status_nomem();
    if (pp_batch_queue_create(eng->x, eng->net->g, &o, &b->q, &err)) {
        pp_free(b);
        return status_from(&err);
    }
    *out = b;
    return NULL;
}

/* Refuses new requests, runs the queued ones to completion, stops the thread, frees; NULL is fine. */
void pp_batcher_free(pp_batcher *b) {
    if (!b) return;
    pp_batch_queue_free(b->q);
    pp_free(b);
}

/* Queues a request of `batch` rows; nothing queued on error; allocates nothing. */
pp_status *pp_batcher_submit(pp_batcher *b, int64_t batch, const void *const *inputs, void *const *outputs,
                             int64_t timeout_us, pp_request_callback cb, void *user, uint64_t *id) {
    pp_error err;
    if (!b) return status_new(PP_ERR_INVALID_ARG, "pp_batcher_submit: batcher must not be NULL");
    if (pp_batch_queue_submit(b->q, batch, inputs, outputs, timeout_us, cb, user, id, &err)) return status_from(&err);
    return NULL;
}

/* Blocks until request id (submitted without a callback) completes; its status, timings in *result. */
pp_status *pp_batcher_wait(pp_batcher *b, uint64_t id, pp_request_result *result) {
    pp_error err;
    if (!b) return status_new(PP_ERR_INVALID_ARG, "pp_batcher_wait: batcher must not be NULL");
    if (!pp_batch_queue_wait(b->q, id, result, &err)) return NULL;
    pp_status *st = status_from(&err);
    if (result) result->message = st->err.msg;
    return st;
}

/* Runs everything queued now, without waiting for more. */
void pp_batcher_drain(pp_batcher *b) {
    if (b) pp_batch_queue_drain(b->q);
}

/* 1 when request id was still queued and is now cancelled, else 0. */
int pp_batcher_cancel(pp_batcher *b, uint64_t id) { return b ? pp_batch_queue_cancel(b->q, id) : 0; }
/* Requests queued now. */
int64_t pp_batcher_queue_depth(pp_batcher *b) { return b ? pp_batch_queue_depth(b->q) : 0; }
/* Runs made so far with exactly `rows` rows. */
int64_t pp_batcher_batches(pp_batcher *b, int64_t rows) { return b ? pp_batch_queue_batches(b->q, rows) : 0; }
/* The most rows merged into one run. */
int64_t pp_batcher_max_batch(const pp_batcher *b) { return b ? pp_batch_queue_max_batch(b->q) : 0; }

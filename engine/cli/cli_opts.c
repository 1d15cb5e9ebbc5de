/* cli_opts.c: ppengine's options (cli_opts.h). */
#include "cli_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../loader/model.h"
#include "cli_common.h"
#include "cli_msg.h"

int pp_cli_fail(const pp_error *err) {
    pp_cli_msg("ppengine", "%s", err->msg);
    return 1;
}

int pp_cli_usage(const char *fmt, const char *arg) {
    char msg[1024];
    snprintf(msg, sizeof msg, fmt, arg);
    pp_cli_msg("ppengine", "%s (try --help)", msg);
    return 2;
}

/* ---- the table ---------------------------------------------------------------------- */

/* How an option is read: a flag sets an int to `value`; an integer is checked
 * against [lo, hi] and refused with "OPTION 'VALUE' " + why; a string is kept;
 * the others are read by hand (read_special). */
typedef enum { OPT_FLAG, OPT_LONG, OPT_STR, OPT_SPECIAL } opt_kind;

typedef struct opt_def {
    const char *name, *alias;
    opt_kind kind;
    size_t off;
    long lo, hi; /* OPT_LONG's range; OPT_FLAG's value in lo */
    const char *why;
} opt_def;

#define AT(field) offsetof(pp_cli_opts, field)
#define POSITIVE "is not a positive integer"
static const opt_def OPTS[] = {
    {"--output", NULL, OPT_STR, AT(output), 0, 0, NULL},
    {"--devices", NULL, OPT_STR, AT(devices), 0, 0, NULL},
    {"--split", NULL, OPT_STR, AT(split), 0, 0, NULL},
    {"--trace", NULL, OPT_STR, AT(trace), 0, 0, NULL},
    {"--json", NULL, OPT_STR, AT(json), 0, 0, NULL},
    {"--tune-cache", NULL, OPT_STR, AT(tune_cache), 0, 0, NULL},
    {"--batch", NULL, OPT_LONG, AT(batch), 1, 1L << 30, POSITIVE},
    {"--seed", NULL, OPT_LONG, AT(seed), 0, INT32_MAX, "is not an integer >= 0"},
    {"--stages", NULL, OPT_LONG, AT(stages), 1, 1024, "is not in 1..1024"},
    {"--microbatch", NULL, OPT_LONG, AT(microbatch), 1, 1L << 30, POSITIVE},
    {"--inflight", NULL, OPT_LONG, AT(inflight), 2, 64, "is not in 2..64"},
    {"--iterations", NULL, OPT_LONG, AT(iterations), 1, 1L << 30, POSITIVE},
    {"--warmup", NULL, OPT_LONG, AT(warmup_ms), 0, 3600000, "is not milliseconds"},
    {"--threads", NULL, OPT_LONG, AT(threads), 1, 4096, "is not in 1..4096"},
    {"--chunk", NULL, OPT_LONG, AT(chunk), 1, 1L << 24, "is not in 1..16777216"},
    {"--throttle-ms", NULL, OPT_LONG, AT(throttle_ms), 0, 60000, "is not in 0..60000"},
    {"--profile", NULL, OPT_FLAG, AT(profile), 1, 0, NULL},
    {"--cuda-graph", "--graphs", OPT_FLAG, AT(cuda_graph), 1, 0, NULL},
    {"--no-cuda-graph", "--no-graphs", OPT_FLAG, AT(cuda_graph), 0, 0, NULL},
    {"--deterministic", NULL, OPT_FLAG, AT(deterministic), 1, 0, NULL},
    {"--no-transfers", NULL, OPT_FLAG, AT(no_transfers), 1, 0, NULL},
    {"--measure", NULL, OPT_FLAG, AT(measure), 1, 0, NULL},
    {"--mpi", NULL, OPT_FLAG, AT(mpi), 1, 0, NULL},
    {"--no-mpi", NULL, OPT_FLAG, AT(no_mpi), 1, 0, NULL},
    {"--resume", NULL, OPT_FLAG, AT(resume), 1, 0, NULL},
    {"--p2p", NULL, OPT_FLAG, AT(p2p), 1, 0, NULL},
    {"--no-tune-cache", NULL, OPT_FLAG, AT(no_tune_cache), 1, 0, NULL},
    {"--quiet", "-q", OPT_FLAG, AT(quiet), 1, 0, NULL},
    {"--input", NULL, OPT_SPECIAL, 0, 0, 0, NULL},
    {"--duration", NULL, OPT_SPECIAL, 0, 0, 0, NULL},
    {"--assume-gpu", NULL, OPT_SPECIAL, 0, 0, 0, NULL},
    {"--precision", NULL, OPT_SPECIAL, 0, 0, 0, NULL},
    {"--mem-limit", NULL, OPT_SPECIAL, 0, 0, 0, NULL},
    {"--dim", NULL, OPT_SPECIAL, 0, 0, 0, NULL},
};
#undef POSITIVE

static const opt_def *find_opt(const char *a) {
    for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++)
        if (!strcmp(a, OPTS[i].name) || (OPTS[i].alias && !strcmp(a, OPTS[i].alias))) return &OPTS[i];
    return NULL;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* The options a table entry cannot say; 0, or a usage error's exit status. */
static int read_special(const char *a, const char *v, pp_cli_opts *o) {
    if (!strcmp(a, "--input")) {
        if (o->n_inputs == 64) return pp_cli_usage("more than 64 --input options%s", "");
        o->inputs[o->n_inputs++] = v;
    } else if (!strcmp(a, "--duration")) {
        char *end;
        o->duration_s = strtod(v, &end);
        if (*end || end == v || !(o->duration_s > 0) || o->duration_s > 86400)
            return pp_cli_usage("--duration '%s' is not a number of seconds", v);
    } else if (!strcmp(a, "--assume-gpu")) {
        if (!pp_device_facts_find(v)) {
            char why[256];
            snprintf(why, sizeof why, "--assume-gpu '%s' is not one of %s", v, pp_device_facts_names());
            return pp_cli_usage("%s", why);
        }
        o->assume_gpu = v;
    } else if (!strcmp(a, "--precision")) {
        if (pp_precision_parse(v, &o->precision))
            return pp_cli_usage("--precision '%s' is not one of fp32, tf32, fp16, bf16", v);
    } else if (!strcmp(a, "--mem-limit")) {
        if (pp_parse_size(v, &o->mem_limit)) return pp_cli_usage("--mem-limit '%s' is not a size like 512M or 2G", v);
    } else { /* --dim */
        char nm[128];
        int64_t lo, hi;
        pp_error derr;
        if (pp_dim_spec_parse(v, strlen(v), nm, sizeof nm, &lo, &hi, &derr)) {
            pp_cli_msg("ppengine", "--%s", derr.msg);
            return 2;
        }
        size_t have = strlen(o->dims);
        if (have + strlen(v) + 2 > sizeof o->dims) return pp_cli_usage("too many --dim options%s", "");
        snprintf(o->dims + have, sizeof o->dims - have, "%s%s", have ? "," : "", v);
    }
    return 0;
}

/* One option with its value v (NULL when none follows); 0, or an exit status. */
static int read_opt(const opt_def *d, const char *a, const char *v, pp_cli_opts *o) {
    char *field = (char *)o + d->off;
    if (d->kind == OPT_FLAG) {
        *(int *)field = (int)d->lo;
        return 0;
    }
    if (!v) return pp_cli_usage("%s needs a value", a);
    if (d->kind == OPT_STR) {
        *(const char **)field = v;
    } else if (d->kind == OPT_LONG) {
        if (parse_long(v, d->lo, d->hi, (long *)field)) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s '%.200s' %s", a, v, d->why);
            return pp_cli_usage("%s", msg);
        }
        if (d->off == AT(batch)) o->batch_set = 1;
    } else {
        return read_special(a, v, o);
    }
    return 0;
}

int pp_cli_parse_opts(int argc, char **argv, pp_cli_opts *o, const char *help) {
    memset(o, 0, sizeof *o);
    o->batch = 1;
    o->seed = 1;
    o->stages = 1;
    o->inflight = 2;
    o->cuda_graph = -1; /* graphs where the devices are CUDA */
    o->warmup_ms = 200;
    o->duration_s = 3;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const opt_def *d = find_opt(a);
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return 1;
        } else if (d) {
            const char *v = d->kind != OPT_FLAG && i + 1 < argc ? argv[++i] : NULL;
            int r = read_opt(d, a, v, o);
            if (r) return r + 1;
        } else if (a[0] == '-' && a[1]) {
            return 1 + pp_cli_usage("unknown option '%s'", a);
        } else if (!o->graph) {
            o->graph = a;
        } else {
            return 1 + pp_cli_usage("unexpected argument '%s'", a);
        }
    }
    if (!o->graph) return 1 + pp_cli_usage("no GRAPH given%s", "");
    return 0;
}
#undef AT

/* ---- what the commands share ---------------------------------------------------------- */

pp_exec_options pp_cli_exec_options(pp_cli_opts *o, int64_t max_batch, const char *dims) {
    const char *tune = NULL;
    if (o->tune_cache) {
        tune = o->tune_cache;
    } else {
        int n = snprintf(o->tune_buf, sizeof o->tune_buf, "%s.tune", o->graph);
        if (n > 0 && (size_t)n < sizeof o->tune_buf) tune = o->tune_buf;
    }
    pp_exec_options eo = {.devices = o->devices,
                          .stages = (int)o->stages,
                          .microbatch = (int)o->microbatch,
                          .max_batch = (int)max_batch,
                          .inflight = (int)o->inflight,
                          .p2p = o->p2p,
                          .split = o->split,
                          .trace = o->trace,
                          .measure = o->measure,
                          .mem_limit = o->mem_limit,
                          .graphs = o->cuda_graph,
                          .precision = o->precision,
                          .dims = dims,
                          .threads = (int)o->threads,
                          .deterministic = o->deterministic,
                          .tune_cache = o->no_tune_cache ? NULL : tune};
    return eo;
}

int pp_cli_load_graph(const char *path, pp_graph **g, double *ms, pp_error *err) {
    double t0 = pp_cli_now_ms();
    pp_model *m = NULL;
    if (pp_model_load(path, 0, &m, err)) return 1;
    if (pp_graph_from_model(&m, g, err)) {
        pp_error_prefix(err, "%s", path);
        pp_model_free(m);
        return 1;
    }
    if (ms) *ms = pp_cli_now_ms() - t0;
    return 0;
}

static uint64_t lcg(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 11;
}

void pp_cli_fill_random(const pp_tensor *t, void *data, size_t bytes, uint64_t *state) {
    size_t n = bytes / (pp_dtype_size(t->dtype) ? pp_dtype_size(t->dtype) : 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = lcg(state);
        switch (t->dtype) {
        case PP_DTYPE_F32: ((float *)data)[i] = (float)((double)(r & 0xFFFFFF) / 0x800000 - 1.0); break;
        case PP_DTYPE_I64: ((int64_t *)data)[i] = (int64_t)(r % 2); break;
        case PP_DTYPE_I32: ((int32_t *)data)[i] = (int32_t)(r % 2); break;
        default: ((unsigned char *)data)[i * pp_dtype_size(t->dtype)] = (unsigned char)(r & 1); break;
        }
    }
}

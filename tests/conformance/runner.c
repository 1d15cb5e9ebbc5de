/* conformance_runner: the converter and the CPU kernels against ONNX's own
 * backend test data (Debian libonnx-testdata).
 *
 *   conformance_runner DATA_DIR EXPECTED_FILE [--write FILE] [--only SUBSTR] [--engine] [--no-fork] [-v]
 *
 * DATA_DIR holds node/, pytorch-converted/, pytorch-operator/ and simple/, each
 * with one folder per case: model.onnx and test_data_set_N/{input,output}_K.pb.
 * Every case is imported (pp_convert_onnx_graph: import, fold, prune, infer),
 * a graph input that feeds a parameter (a Reshape shape, ...) being bound to the
 * data set's values through the same path as `ppconvert --const`; the graph is
 * run by the reference interpreter (converter/interp.h, the engine's CPU
 * kernels; with --engine, the executor of engine/exec.h on the CPU instead) and
 * every output compared with ONNX's: floats within
 * 1e-4 + 1e-3·|ref| (NaN matches NaN), integers and bools exactly.
 *
 * A case is pass, fail (wrong numbers, or a run error), unsupported (the
 * importer refused it as beyond what we implement) or error (refused for another
 * reason: a malformed model, a shape the engine rejects) or crash. EXPECTED_FILE
 * lists every case that is not expected to pass, one "folder/case status" per
 * line (# comments); any difference, a regression or a newly passing case, is
 * printed and makes the exit status 1. --write FILE writes the statuses seen in
 * that format. Each case runs in a child process, so a crash is one case's
 * status, not the end of the run. Exit 77 (skipped) when DATA_DIR is missing.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "converter/convert.h"
#include "converter/interp.h"
#include "converter/onnx.h"
#include "engine/exec.h"

/* --engine: also run every case through the executor (engine/exec.h, on
 * cpu) and hold its outputs to the same references. */
static int use_engine;
/* --no-fork: run every case in this process (for leak checkers and debuggers). */
static int no_fork;

static const char *FOLDERS[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};
#define N_FOLDERS 4
#define MAX_IO 64

typedef enum status { ST_PASS, ST_FAIL, ST_UNSUPPORTED, ST_ERROR, ST_CRASH, ST_N } status;
static const char *ST_NAME[] = {"pass", "fail", "unsupported", "error", "crash"};

static int status_from_name(const char *s) {
    for (int i = 0; i < ST_N; i++)
        if (!strcmp(s, ST_NAME[i])) return i;
    return -1;
}

static void *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(n > 0 ? (size_t)n : 1);
    if (p && n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *size = n > 0 ? (size_t)n : 0;
    return p;
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted subfolder names of dir (optionally only those starting with prefix). */
static char **list_dirs(const char *dir, const char *prefix, int *n) {
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    int cap = 64;
    char **v = malloc(sizeof(char *) * (size_t)cap);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (prefix && strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (!is_dir(p)) continue;
        if (*n == cap) v = realloc(v, sizeof(char *) * (size_t)(cap *= 2));
        v[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(v, (size_t)*n, sizeof(char *), cmp_str);
    return v;
}

static void free_list(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* ---- one data set ----------------------------------------------------------------- */

typedef struct dataset {
    pp_onnx_tensor in[MAX_IO], out[MAX_IO];
    int n_in, n_out;
} dataset;

static void dataset_free(dataset *d) {
    for (int i = 0; i < d->n_in; i++) pp_onnx_tensor_free(&d->in[i]);
    for (int i = 0; i < d->n_out; i++) pp_onnx_tensor_free(&d->out[i]);
    d->n_in = d->n_out = 0;
}

/* Reads input_K.pb / output_K.pb until one is missing. */
static int dataset_read(const char *dir, dataset *d, char *msg, size_t msz) {
    memset(d, 0, sizeof *d);
    for (int io = 0; io < 2; io++) {
        for (int k = 0; k < MAX_IO; k++) {
            char p[4200];
            snprintf(p, sizeof p, "%s/%s_%d.pb", dir, io ? "output" : "input", k);
            size_t n;
            void *b = read_file(p, &n);
            if (!b) break;
            pp_error err;
            pp_onnx_tensor *t = io ? &d->out[d->n_out] : &d->in[d->n_in];
            pp_code rc = pp_onnx_tensor_read(b, n, t, &err);
            free(b);
            if (rc) {
                snprintf(msg, msz, "%s_%d.pb: %s", io ? "output" : "input", k, err.msg);
                return rc == PP_ERR_UNSUPPORTED ? ST_UNSUPPORTED : ST_ERROR;
            }
            if (io) d->n_out++;
            else d->n_in++;
        }
    }
    return ST_PASS;
}

static double elem_f(const void *p, pp_dtype dt, size_t i) {
    const unsigned char *b = p;
    switch (dt) {
    case PP_DTYPE_F32: {
        float f;
        memcpy(&f, b + 4 * i, 4);
        return f;
    }
    case PP_DTYPE_F64: {
        double d;
        memcpy(&d, b + 8 * i, 8);
        return d;
    }
    case PP_DTYPE_F16:
    case PP_DTYPE_BF16: {
        uint16_t h;
        memcpy(&h, b + 2 * i, 2);
        union {
            uint32_t u;
            float f;
        } v;
        if (dt == PP_DTYPE_BF16) {
            v.u = (uint32_t)h << 16;
            return v.f;
        }
        uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023;
        if (e == 0) return (s ? -1.0 : 1.0) * ldexp((double)m, -24);
        v.u = e == 31 ? (s | 0x7F800000u | (m << 13)) : (s | ((e + 112) << 23) | (m << 13));
        return v.f;
    }
    default: return 0;
    }
}

static int64_t elem_i(const void *p, pp_dtype dt, size_t i) {
    const unsigned char *b = p;
    switch (dt) {
    case PP_DTYPE_I64: {
        int64_t v;
        memcpy(&v, b + 8 * i, 8);
        return v;
    }
    case PP_DTYPE_I32: {
        int32_t v;
        memcpy(&v, b + 4 * i, 4);
        return v;
    }
    case PP_DTYPE_I8: return (int8_t)b[i];
    default: return b[i];
    }
}

static int is_float(pp_dtype dt) {
    return dt == PP_DTYPE_F32 || dt == PP_DTYPE_F64 || dt == PP_DTYPE_F16 || dt == PP_DTYPE_BF16;
}

static void shape_str(int rank, const int64_t *dims, char *buf, size_t n) {
    size_t o = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < rank && o < n; d++)
        o += (size_t)snprintf(buf + o, n - o, "%s%lld", d ? ", " : "", (long long)dims[d]);
    if (o < n) snprintf(buf + o, n - o, ")");
}

/* err_msg without its "<model>: " prefix: the case is named already. */
static void model_message(const char *model, const char *err_msg, char *msg, size_t msz) {
    size_t ml = strlen(model);
    const char *m = err_msg;
    if (!strncmp(m, model, ml) && m[ml] == ':' && m[ml + 1] == ' ') m += ml + 2;
    snprintf(msg, msz, "%s", m);
}

/* Imports the model, binding every graph input a parameter is computed from to
 * this data set's value, as `ppconvert --const` does; ST_PASS with *h and *g set,
 * else the status and why in msg. consts point into d. */
static int import_model(const char *model, dataset *d, pp_onnx **h, pp_graph **g, char *msg, size_t msz) {
    pp_onnx_const consts[MAX_IO];
    int n_consts = 0;
    char needs[512];
    pp_onnx_options o;
    pp_error err = {0};
    pp_code rc;
    for (;;) {
        memset(&o, 0, sizeof o);
        o.consts = consts;
        o.n_consts = n_consts;
        needs[0] = 0;
        o.needs_const = needs;
        o.needs_const_size = sizeof needs;
        rc = pp_convert_onnx_graph(model, &o, h, g, NULL, &err);
        if (rc == PP_OK || !needs[0] || n_consts == MAX_IO) break;
        /* A parameter is computed from graph input `needs`: bind it to this data
         * set's value (inputs pair with data by position) and try again. */
        int found = -1;
        for (int i = 0; i < d->n_in; i++)
            if (!strcmp(d->in[i].name, needs)) found = i;
        if (found < 0) break;
        for (int i = 0; i < n_consts; i++)
            if (!strcmp(consts[i].name, needs)) found = -1;
        if (found < 0) break;
        pp_onnx_tensor *t = &d->in[found];
        pp_onnx_const *c = &consts[n_consts++];
        c->name = t->name;
        c->dtype = t->dtype;
        c->rank = t->rank;
        memcpy(c->dims, t->dims, sizeof c->dims);
        c->data = t->data;
        c->nbytes = t->nbytes;
    }
    if (rc) {
        model_message(model, err.msg, msg, msz);
        return rc == PP_ERR_UNSUPPORTED ? ST_UNSUPPORTED : ST_ERROR;
    }
    return ST_PASS;
}

/* The data set's inputs paired with the graph's by name (by position where the
 * data has no names), the batch read from them, their shapes checked against the
 * graph's at that batch, and as many reference outputs as graph outputs. */
static int bind_inputs(const pp_graph *g, const dataset *d, const void **inputs, int64_t *batch, char *msg,
                       size_t msz) {
    if (g->n_inputs > MAX_IO || g->n_outputs > MAX_IO) {
        snprintf(msg, msz, "too many inputs or outputs");
        return ST_ERROR;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        const pp_tensor *t = &g->tensors[g->inputs[i]];
        const pp_onnx_tensor *x = NULL;
        for (int k = 0; k < d->n_in; k++)
            if (!strcmp(d->in[k].name, t->name)) x = &d->in[k];
        if (!x && i < d->n_in && !d->in[i].name[0]) x = &d->in[i];
        if (!x) {
            snprintf(msg, msz, "no data for graph input '%s'", t->name);
            return ST_ERROR;
        }
        for (int a = 0; a < t->rank && a < x->rank; a++)
            if (t->dims[a] < 0) *batch = x->dims[a] / -t->dims[a];
        inputs[i] = x->data;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        const pp_tensor *t = &g->tensors[g->inputs[i]];
        const pp_onnx_tensor *x = NULL;
        for (int k = 0; k < d->n_in; k++)
            if (!strcmp(d->in[k].name, t->name) || (!d->in[k].name[0] && k == i)) x = &d->in[k];
        int64_t dims[PP_MAX_RANK];
        pp_tensor_dims_at(t, *batch, dims);
        int same = x->rank == t->rank && x->dtype == t->dtype;
        for (int a = 0; same && a < t->rank; a++) same = dims[a] == x->dims[a];
        if (!same) {
            char b1[128], b2[128];
            shape_str(t->rank, dims, b1, sizeof b1);
            shape_str(x->rank, x->dims, b2, sizeof b2);
            snprintf(msg, msz, "input '%s': the graph wants %s %s, the data is %s %s", t->name, pp_dtype_name(t->dtype),
                     b1, pp_dtype_name(x->dtype), b2);
            return ST_FAIL;
        }
    }
    if (g->n_outputs != d->n_out) {
        snprintf(msg, msz, "%d graph outputs, %d reference outputs", g->n_outputs, d->n_out);
        return ST_FAIL;
    }
    return ST_PASS;
}

/* --engine: the same graph through the planner and the executor, its outputs
 * replacing the interpreter's (same shapes, os). */
static int run_engine(pp_graph *g, int64_t batch, const void **inputs, void **outputs, const pp_shape *os, char *msg,
                      size_t msz) {
    pp_exec *e = NULL;
    pp_exec_options eo;
    pp_error err = {0};
    memset(&eo, 0, sizeof eo);
    eo.devices = "cpu";
    eo.stages = 1;
    eo.max_batch = (int)(batch > 0 ? batch : 1);
    eo.inflight = 2;
    pp_code rc = pp_exec_create(g, &eo, &e, &err);
    if (!rc) {
        for (int i = 0; i < g->n_outputs && !rc; i++)
            if (pp_exec_output_bytes(e, i, batch) != pp_dtype_size(os[i].dtype) * (uint64_t)pp_shape_numel(&os[i]))
                rc = pp_error_set(&err, PP_ERR_SHAPE, "engine output %d has %llu bytes, the interpreter's %llu", i,
                                  (unsigned long long)pp_exec_output_bytes(e, i, batch),
                                  (unsigned long long)(pp_dtype_size(os[i].dtype) * (uint64_t)pp_shape_numel(&os[i])));
        if (!rc) rc = pp_exec_run(e, batch, inputs, outputs, &err);
        pp_exec_free(e);
    }
    if (rc) {
        snprintf(msg, msz, "engine: %s", err.msg);
        return ST_FAIL;
    }
    return ST_PASS;
}

/* Every output against ONNX's: shape and dtype, then floats within
 * 1e-4 + 1e-3·|ref| (1e-3 + 1e-2·|ref| in 16 bits; NaN matches NaN), integers
 * and bools exactly. */
static int compare_outputs(const dataset *d, const pp_shape *os, void *const *outputs, char *msg, size_t msz) {
    for (int i = 0; i < d->n_out; i++) {
        const pp_onnx_tensor *r = &d->out[i];
        int same = os[i].rank == r->rank;
        for (int a = 0; same && a < r->rank; a++) same = os[i].dims[a] == r->dims[a];
        if (!same) {
            char b1[128], b2[128];
            shape_str(os[i].rank, os[i].dims, b1, sizeof b1);
            shape_str(r->rank, r->dims, b2, sizeof b2);
            snprintf(msg, msz, "output %d: shape %s, expected %s", i, b1, b2);
            return ST_FAIL;
        }
        if (os[i].dtype != r->dtype) {
            snprintf(msg, msz, "output %d: dtype %s, expected %s", i, pp_dtype_name(os[i].dtype),
                     pp_dtype_name(r->dtype));
            return ST_FAIL;
        }
        size_t es = pp_dtype_size(r->dtype), n = es ? (size_t)r->nbytes / es : 0;
        int half = r->dtype == PP_DTYPE_F16 || r->dtype == PP_DTYPE_BF16;
        for (size_t k = 0; k < n; k++) {
            int ok;
            if (is_float(r->dtype)) {
                double a = elem_f(outputs[i], r->dtype, k), b = elem_f(r->data, r->dtype, k);
                if (isnan(b)) ok = isnan(a);
                else if (isinf(b)) ok = a == b;
                else ok = fabs(a - b) <= (half ? 1e-3 + 1e-2 * fabs(b) : 1e-4 + 1e-3 * fabs(b));
                if (!ok) snprintf(msg, msz, "output %d [%zu]: %.7g, expected %.7g", i, k, a, b);
            } else {
                int64_t a = elem_i(outputs[i], r->dtype, k), b = elem_i(r->data, r->dtype, k);
                ok = a == b;
                if (!ok) snprintf(msg, msz, "output %d [%zu]: %lld, expected %lld", i, k, (long long)a, (long long)b);
            }
            if (!ok) return ST_FAIL;
        }
    }
    return ST_PASS;
}

/* Runs one data set of one case: import, bind, the interpreter (and the engine
 * with --engine), compare. */
static int run_dataset(const char *model, dataset *d, char *msg, size_t msz) {
    pp_onnx *h = NULL;
    pp_graph *g = NULL;
    int st = import_model(model, d, &h, &g, msg, msz);
    if (st != ST_PASS) return st;
    const void *inputs[MAX_IO];
    void *outputs[MAX_IO];
    pp_shape os[MAX_IO];
    int64_t batch = 1;
    st = bind_inputs(g, d, inputs, &batch, msg, msz);
    if (st == ST_PASS) {
        pp_error err = {0};
        pp_code rc = pp_interp_run(g, batch, inputs, outputs, os, &err);
        if (rc) {
            /* The reference kernels refuse what they do not compute (16-bit operands of an op that computes). */
            snprintf(msg, msz, "run: %s", err.msg);
            st = rc == PP_ERR_UNSUPPORTED ? ST_UNSUPPORTED : ST_FAIL;
        } else {
            if (use_engine) st = run_engine(g, batch, inputs, outputs, os, msg, msz);
            if (st == ST_PASS) st = compare_outputs(d, os, outputs, msg, msz);
            for (int i = 0; i < g->n_outputs; i++) pp_free(outputs[i]);
        }
    }
    pp_graph_free(g);
    pp_onnx_free(h);
    return st;
}

static int run_case(const char *dir, char *msg, size_t msz) {
    char model[4096];
    snprintf(model, sizeof model, "%s/model.onnx", dir);
    int n_sets;
    char **sets = list_dirs(dir, "test_data_set_", &n_sets);
    int st = ST_PASS;
    if (!n_sets) {
        snprintf(msg, msz, "no test data");
        st = ST_ERROR;
    }
    for (int s = 0; s < n_sets && st == ST_PASS; s++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, sets[s]);
        dataset d;
        st = dataset_read(p, &d, msg, msz);
        if (st != ST_PASS) {
            /* Data we cannot read (strings, sequences, optionals) usually goes
             * with a model we cannot import: say why the model is refused. */
            pp_onnx *h;
            pp_graph *g;
            pp_error err;
            if (pp_convert_onnx_graph(model, NULL, &h, &g, NULL, &err) == PP_OK) {
                pp_graph_free(g);
                pp_onnx_free(h);
            } else {
                model_message(model, err.msg, msg, msz);
                st = err.code == PP_ERR_UNSUPPORTED ? ST_UNSUPPORTED : ST_ERROR;
            }
        }
        if (st == ST_PASS) st = run_dataset(model, &d, msg, msz);
        dataset_free(&d);
        if (st != ST_PASS && n_sets > 1) {
            char tmp[600];
            snprintf(tmp, sizeof tmp, "%s: %s", sets[s], msg);
            snprintf(msg, msz, "%s", tmp);
        }
    }
    free_list(sets, n_sets);
    return st;
}

/* The case in a child process: a crash or a hang is that case's status. */
static int run_case_isolated(const char *dir, char *msg, size_t msz) {
    if (no_fork) return run_case(dir, msg, msz);
    int fd[2];
    if (pipe(fd) != 0) return run_case(dir, msg, msz);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return run_case(dir, msg, msz);
    }
    if (pid == 0) {
        close(fd[0]);
        alarm(120);
        char m[600] = "";
        unsigned char st = (unsigned char)run_case(dir, m, sizeof m);
        ssize_t w = write(fd[1], &st, 1);
        w += write(fd[1], m, strlen(m) + 1);
        (void)w;
        close(fd[1]);
        _exit(0);
    }
    close(fd[1]);
    char buf[601];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)r;
    buf[got] = 0;
    close(fd[0]);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
    if (got >= 1 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
        snprintf(msg, msz, "%s", buf + 1);
        return buf[0] < ST_N ? buf[0] : ST_ERROR;
    }
    if (WIFSIGNALED(ws))
        snprintf(msg, msz, "killed by signal %d%s", WTERMSIG(ws), WTERMSIG(ws) == SIGALRM ? " (timeout)" : "");
    else snprintf(msg, msz, "exited with status %d", WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
    return ST_CRASH;
}

/* ---- expectations ----------------------------------------------------------------- */

typedef struct expect {
    char *key; /* folder/case */
    int status;
    int seen;
} expect;

static expect *read_expected(const char *path, int *n, int *ok) {
    *n = 0;
    *ok = 1;
    FILE *f = fopen(path, "r");
    if (!f) {
        *ok = 0;
        return NULL;
    }
    int cap = 256;
    expect *v = malloc(sizeof(expect) * (size_t)cap);
    char line[1024];
    int ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '#' || *p == '\n' || !*p) continue;
        char key[512], st[64];
        if (sscanf(p, "%511s %63s", key, st) != 2 || status_from_name(st) < 0 || status_from_name(st) == ST_PASS) {
            fprintf(stderr, "%s:%d: expected 'folder/case status' (fail, unsupported, error, crash)\n", path, ln);
            *ok = 0;
            continue;
        }
        if (*n == cap) v = realloc(v, sizeof(expect) * (size_t)(cap *= 2));
        v[*n].key = strdup(key);
        v[*n].status = status_from_name(st);
        v[*n].seen = 0;
        (*n)++;
    }
    fclose(f);
    return v;
}

/* ---- the run ----------------------------------------------------------------------- */

typedef struct options {
    const char *data, *expected, *write_path, *only;
    int verbose;
} options;

static const char USAGE[] =
    "usage: conformance_runner DATA_DIR EXPECTED_FILE [--write FILE] [--only SUBSTR] [--engine] [--no-fork] [-v]\n";

/* 0, or 2 after printing the usage. */
static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--write") && i + 1 < argc) o->write_path = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) o->only = argv[++i];
        else if (!strcmp(argv[i], "-v")) o->verbose = 1;
        else if (!strcmp(argv[i], "--engine")) use_engine = 1;
        else if (!strcmp(argv[i], "--no-fork")) no_fork = 1;
        else if (!o->data) o->data = argv[i];
        else if (!o->expected) o->expected = argv[i];
        else {
            fputs(USAGE, stderr);
            return 2;
        }
    }
    if (!o->data || !o->expected) {
        fputs(USAGE, stderr);
        return 2;
    }
    return 0;
}

/* --write's file, its header written; NULL (said on stderr) when it cannot be made. */
static FILE *open_written(const char *path) {
    FILE *wf = fopen(path, "w");
    if (!wf) {
        fprintf(stderr, "conformance: cannot write %s\n", path);
        return NULL;
    }
    fprintf(wf, "# Conformance cases (libonnx-testdata) that are not expected to pass, with the reason.\n"
                "# One 'folder/case status' per line; status: fail, unsupported, error, crash.\n"
                "# Regenerate with: conformance_runner DATA_DIR EXPECTED_FILE --write NEW_FILE\n");
    return wf;
}

/* The status the expected list gives key (pass when it is not listed), marked seen. */
static int expected_status(expect *exp, int n_exp, const char *key) {
    int want = ST_PASS;
    for (int e = 0; e < n_exp; e++)
        if (!strcmp(exp[e].key, key)) {
            want = exp[e].status;
            exp[e].seen = 1;
        }
    return want;
}

/* One case run and its status printed where it differs from want (always with -v),
 * written to wf where it is not a pass. */
static int run_one(const options *o, const char *key, const char *cdir, int want, FILE *wf) {
    char msg[700] = "";
    int st = run_case_isolated(cdir, msg, sizeof msg);
    if (o->verbose || st != want) {
        const char *tag = st == want ? "" : "UNEXPECTED ";
        printf("%s%s: %s", tag, key, ST_NAME[st]);
        if (st != want) printf(" (expected %s)", ST_NAME[want]);
        if (msg[0]) printf(": %s", msg);
        if (st == ST_PASS && want != ST_PASS) printf(" -- remove it from the expected list");
        printf("\n");
    }
    if (wf && st != ST_PASS) {
        for (char *p = msg; *p; p++)
            if (*p == '\n') *p = ' ';
        fprintf(wf, "%s %s  # %.200s\n", key, ST_NAME[st], msg);
    }
    return st;
}

/* Every case of FOLDERS[fi] (those matching --only), counted by status; the
 * number whose status differs from the expected list's. */
static int run_folder(const options *o, int fi, expect *exp, int n_exp, FILE *wf, int counts[ST_N]) {
    char fdir[4096];
    snprintf(fdir, sizeof fdir, "%s/%s", o->data, FOLDERS[fi]);
    int n_cases, unexpected = 0;
    char **cases = list_dirs(fdir, NULL, &n_cases);
    for (int ci = 0; ci < n_cases; ci++) {
        char key[1024], cdir[8192];
        snprintf(key, sizeof key, "%s/%s", FOLDERS[fi], cases[ci]);
        if (o->only && !strstr(key, o->only)) continue;
        snprintf(cdir, sizeof cdir, "%s/%s", fdir, cases[ci]);
        int want = expected_status(exp, n_exp, key);
        int st = run_one(o, key, cdir, want, wf);
        counts[st]++;
        if (st != want) unexpected++;
    }
    free_list(cases, n_cases);
    return unexpected;
}

static void print_counts(int counts[N_FOLDERS][ST_N]) {
    printf("\n%-18s %6s %6s %6s %12s %6s %6s\n", "folder", "cases", "pass", "fail", "unsupported", "error", "crash");
    for (int fi = 0; fi < N_FOLDERS; fi++) {
        int total = 0;
        for (int s = 0; s < ST_N; s++) total += counts[fi][s];
        printf("%-18s %6d %6d %6d %12d %6d %6d\n", FOLDERS[fi], total, counts[fi][ST_PASS], counts[fi][ST_FAIL],
               counts[fi][ST_UNSUPPORTED], counts[fi][ST_ERROR], counts[fi][ST_CRASH]);
    }
}

int main(int argc, char **argv) {
    options o;
    if (parse_args(argc, argv, &o)) return 2;
    if (!is_dir(o.data)) {
        printf("conformance: %s not found (install libonnx-testdata): skipped\n", o.data);
        return 77;
    }
    int n_exp, exp_ok;
    expect *exp = read_expected(o.expected, &n_exp, &exp_ok);
    if (!exp_ok && !exp) {
        fprintf(stderr, "conformance: cannot read %s\n", o.expected);
        if (!o.write_path) return 2;
    }
    FILE *wf = NULL;
    if (o.write_path && !(wf = open_written(o.write_path))) return 2;
    int counts[N_FOLDERS][ST_N];
    memset(counts, 0, sizeof counts);
    int unexpected = 0;
    for (int fi = 0; fi < N_FOLDERS; fi++) unexpected += run_folder(&o, fi, exp, n_exp, wf, counts[fi]);
    for (int e = 0; e < n_exp && !o.only; e++)
        if (!exp[e].seen) {
            printf("UNEXPECTED %s: listed as %s but there is no such case\n", exp[e].key, ST_NAME[exp[e].status]);
            unexpected++;
        }
    print_counts(counts);
    if (wf) fclose(wf);
    for (int e = 0; e < n_exp; e++) free(exp[e].key);
    free(exp);
    if (!exp_ok) return 1;
    if (unexpected) {
        printf("\n%d case%s differ from %s\n", unexpected, unexpected > 1 ? "s" : "", o.expected);
        return 1;
    }
    printf("\nall cases as expected\n");
    return 0;
}

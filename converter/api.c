/* api.c: include/ppconvert.h over the converter's front door (convert.h). */
#include "../include/ppconvert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../loader/npy.h"
#include "convert.h"

/* One "NAME=VALUE" setting that repeats (dim, const). */
typedef struct binding {
    char *name;
    int64_t value; /* dim */
    pp_npy npy;    /* const: the data, read when set */
} binding;

struct pp_converter {
    pp_dtype dtype;
    char *arch, *arch_file;
    binding *dims, *consts;
    int n_dims, n_consts;
};

static pp_status *status_of(const pp_error *err) { return pp_status_create((pp_status_code)err->code, err->msg); }

static pp_status *invalid(const char *key, const char *value, const char *why) {
    pp_error e;
    pp_error_set(&e, PP_ERR_INVALID_ARG, "converter setting '%s' = '%s': %s", key, value, why);
    return status_of(&e);
}

static pp_status *nomem(void) {
    pp_error e;
    pp_error_nomem(&e, "converter: out of memory");
    return status_of(&e);
}

/* PP_CONVERT_VERSION. */
const char *pp_converter_version(void) { return PP_CONVERT_VERSION; }

/* Defaults: f32 weights, no bindings, architecture detected; *out is the caller's. */
pp_status *pp_converter_create(pp_converter **out) {
    if (!out) return pp_status_create(PP_STATUS_INVALID_ARGUMENT, "pp_converter_create: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out) return nomem();
    (*out)->dtype = PP_DTYPE_F32;
    return NULL;
}

static void bindings_free(binding *b, int n) {
    for (int i = 0; i < n; i++) {
        free(b[i].name);
        pp_npy_free(&b[i].npy);
    }
    free(b);
}

/* Frees the converter and the .npy data its "const" settings read; NULL is fine. */
void pp_converter_free(pp_converter *c) {
    if (!c) return;
    free(c->arch);
    free(c->arch_file);
    bindings_free(c->dims, c->n_dims);
    bindings_free(c->consts, c->n_consts);
    free(c);
}

/* Appends a binding named by `value` up to its '='; *at is the new entry. */
static pp_status *bind(binding **list, int *n, const char *key, const char *value, binding **at) {
    const char *eq = strchr(value, '=');
    if (!eq || eq == value || !eq[1]) return invalid(key, value, "expected NAME=VALUE");
    binding *grown = realloc(*list, sizeof **list * (size_t)(*n + 1));
    if (!grown) return nomem();
    *list = grown;
    *at = &grown[*n];
    memset(*at, 0, sizeof **at);
    if (!((*at)->name = strndup(value, (size_t)(eq - value)))) return nomem();
    (*n)++;
    return NULL;
}

static pp_status *set_string(char **field, const char *value) {
    char *copy = strdup(value);
    if (!copy) return nomem();
    free(*field);
    *field = copy;
    return NULL;
}

/* One key at a time; a bad key or value is INVALID_ARGUMENT and changes nothing. */
pp_status *pp_converter_set(pp_converter *c, const char *key, const char *value) {
    if (!c || !key || !value) return pp_status_create(PP_STATUS_INVALID_ARGUMENT, "pp_converter_set: NULL argument");
    if (!strcmp(key, "dtype")) {
        pp_dtype dt = pp_dtype_from_name(value);
        if (dt != PP_DTYPE_F32 && dt != PP_DTYPE_F16 && dt != PP_DTYPE_BF16)
            return invalid(key, value, "expected f32, f16 or bf16");
        c->dtype = dt;
        return NULL;
    }
    if (!strcmp(key, "arch")) return set_string(&c->arch, value);
    if (!strcmp(key, "arch_file")) return set_string(&c->arch_file, value);
    binding *b = NULL;
    if (!strcmp(key, "dim")) {
        const char *eq = strchr(value, '=');
        char *end;
        errno = 0;
        long long v = eq ? strtoll(eq + 1, &end, 10) : 0;
        if (!eq || errno || *end || v < 1) return invalid(key, value, "expected NAME=N with N a positive extent");
        pp_status *st = bind(&c->dims, &c->n_dims, key, value, &b);
        if (!st) b->value = v;
        return st;
    }
    if (!strcmp(key, "const")) {
        pp_status *st = bind(&c->consts, &c->n_consts, key, value, &b);
        if (st) return st;
        pp_error err = {0};
        if (pp_npy_read(strchr(value, '=') + 1, &b->npy, &err)) {
            free(b->name);
            c->n_consts--;
            pp_error_prefix(&err, "converter setting 'const' = '%s'", value);
            return status_of(&err);
        }
        return NULL;
    }
    return invalid(key, value, "unknown key (dtype, dim, const, arch, arch_file)");
}

/* Converts input to output (temporary file, then rename); nothing under output on failure. */
pp_status *pp_converter_run(pp_converter *c, const char *input, const char *output) {
    if (!c || !input || !output) return pp_status_create(PP_STATUS_INVALID_ARGUMENT, "pp_converter_run: NULL argument");
    pp_onnx_dim *dims = calloc((size_t)c->n_dims + 1, sizeof *dims);
    pp_onnx_const *consts = calloc((size_t)c->n_consts + 1, sizeof *consts);
    if (!dims || !consts) {
        free(dims);
        free(consts);
        return nomem();
    }
    for (int i = 0; i < c->n_dims; i++) dims[i] = (pp_onnx_dim){c->dims[i].name, c->dims[i].value};
    for (int i = 0; i < c->n_consts; i++) {
        const pp_npy *np = &c->consts[i].npy;
        consts[i].name = c->consts[i].name;
        consts[i].dtype = np->dtype;
        consts[i].rank = np->rank;
        memcpy(consts[i].dims, np->dims, sizeof consts[i].dims);
        consts[i].data = np->data;
        consts[i].nbytes = np->nbytes;
    }
    pp_convert_options o;
    memset(&o, 0, sizeof o);
    o.input = input;
    o.output = output;
    o.dtype = c->dtype;
    o.consts = consts;
    o.n_consts = c->n_consts;
    o.dims = dims;
    o.n_dims = c->n_dims;
    o.arch = c->arch;
    o.arch_file = c->arch_file;
    pp_error err = {0};
    pp_code rc = pp_convert(&o, NULL, &err);
    free(dims);
    free(consts);
    return rc ? status_of(&err) : NULL;
}

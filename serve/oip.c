/* oip.c: see oip.h. Every field of a request is checked against the model
 * before anything is run; a message names the input, the field and the value. */
#include "oip.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    pp_elem_type t;
    const char *name;
    size_t size;
} types[] = {{PP_ELEM_F32, "FP32", 4},  {PP_ELEM_F16, "FP16", 2},  {PP_ELEM_BF16, "BF16", 2},
             {PP_ELEM_I64, "INT64", 8}, {PP_ELEM_I32, "INT32", 4}, {PP_ELEM_BOOL, "BOOL", 1},
             {PP_ELEM_U8, "UINT8", 1},  {PP_ELEM_I8, "INT8", 1},   {PP_ELEM_F64, "FP64", 8}};

const char *pp_oip_datatype(pp_elem_type t) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].t == t) return types[i].name;
    return NULL;
}

static size_t elem_size(pp_elem_type t) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].t == t) return types[i].size;
    return 0;
}

static int fail(char *msg, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *msg, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return 400;
}

/* A request dimension for net dimension d: -k means k × batch. */
static int64_t dim_at(int64_t d, int64_t batch) { return d < 0 ? -d * batch : d; }

static void shape_text(const int64_t *dims, int rank, char *out, size_t cap) {
    size_t at = 0;
    at += (size_t)snprintf(out, cap, "[");
    for (int d = 0; d < rank && at < cap; d++)
        at += (size_t)snprintf(out + at, cap - at, "%s%lld", d ? "," : "", (long long)dims[d]);
    if (at < cap) snprintf(out + at, cap - at, "]");
}

/* ---- JSON tensor data ------------------------------------------------------------ */

typedef struct filler {
    pp_elem_type t;
    char *dst;
    size_t n, cap; /* values written, values expected */
    const char *input;
    char *msg;
    size_t msg_cap;
} filler;

static int put_value(filler *f, const cJSON *v) {
    if (f->n >= f->cap) return 0; /* counted on, reported by the caller */
    double d;
    if (cJSON_IsBool(v)) d = cJSON_IsTrue(v) ? 1 : 0;
    else if (cJSON_IsNumber(v)) d = v->valuedouble;
    else return fail(f->msg, f->msg_cap, "input '%s': data[%zu] is not a number", f->input, f->n);
    char *p = f->dst + f->n * elem_size(f->t);
    int integral = d == floor(d);
    switch (f->t) {
    case PP_ELEM_F32: *(float *)p = (float)d; break;
    case PP_ELEM_F64: *(double *)p = d; break;
    case PP_ELEM_I64:
        if (!integral || d < -9.2233720368547758e18 || d >= 9.2233720368547758e18) goto bad_int;
        *(int64_t *)p = (int64_t)d;
        break;
    case PP_ELEM_I32:
        if (!integral || d < -2147483648.0 || d > 2147483647.0) goto bad_int;
        *(int32_t *)p = (int32_t)d;
        break;
    case PP_ELEM_I8:
        if (!integral || d < -128 || d > 127) goto bad_int;
        *(int8_t *)p = (int8_t)d;
        break;
    case PP_ELEM_U8:
        if (!integral || d < 0 || d > 255) goto bad_int;
        *(uint8_t *)p = (uint8_t)d;
        break;
    case PP_ELEM_BOOL:
        if (d != 0 && d != 1) goto bad_int;
        *(uint8_t *)p = (uint8_t)d;
        break;
    default: return fail(f->msg, f->msg_cap, "input '%s': this datatype travels only as binary data", f->input);
    }
    f->n++;
    return 0;
bad_int:
    return fail(f->msg, f->msg_cap, "input '%s': data[%zu] = %.17g is not a %s", f->input, f->n, d,
                pp_oip_datatype(f->t));
}

/* "data" may be flat or nested as the shape; either way it is read row-major. */
static int fill(filler *f, const cJSON *data, int depth) {
    if (!cJSON_IsArray(data)) return put_value(f, data);
    if (depth > PP_MAX_DIMS) return fail(f->msg, f->msg_cap, "input '%s': data nests deeper than any shape", f->input);
    for (const cJSON *v = data->child; v; v = v->next) {
        int rc = fill(f, v, depth + 1);
        if (rc) return rc;
    }
    return 0;
}

static size_t count_values(const cJSON *data) {
    if (!cJSON_IsArray(data)) return 1;
    size_t n = 0;
    for (const cJSON *v = data->child; v; v = v->next) n += count_values(v);
    return n;
}

/* ---- requests ----------------------------------------------------------------------- */

static long long param_int(const cJSON *params, const char *key, long long dflt, int *bad) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, key);
    if (!v) return dflt;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0) {
        *bad = 1;
        return dflt;
    }
    return (long long)v->valuedouble;
}

static int param_bool(const cJSON *params, const char *key, int dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

typedef struct parse_state {
    const pp_serve_model *m;
    pp_oip_request *r;
    const char *bin;        /* the binary part of the body */
    size_t bin_len, bin_at; /* its size, and how much the inputs so far took */
    char *msg;
    size_t cap;
} parse_state;

/* Shape and datatype of input object `in` against net input i; sets r->batch. */
static int check_shape(parse_state *ps, int i, const cJSON *in, const char *name) {
    const pp_tensor_info *info = &ps->m->info[i];
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(in, "datatype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(in, "shape");
    if (!cJSON_IsString(dt)) return fail(ps->msg, ps->cap, "input '%s': \"datatype\" is missing or not a string", name);
    if (strcmp(dt->valuestring, pp_oip_datatype(info->type)))
        return fail(ps->msg, ps->cap, "input '%s': datatype %.32s, but the model takes %s", name, dt->valuestring,
                    pp_oip_datatype(info->type));
    if (!cJSON_IsArray(shape)) return fail(ps->msg, ps->cap, "input '%s': \"shape\" is missing or not an array", name);
    int64_t dims[PP_MAX_DIMS];
    int rank = 0;
    for (const cJSON *d = shape->child; d; d = d->next, rank++) {
        if (rank == PP_MAX_DIMS || !cJSON_IsNumber(d) || d->valuedouble != floor(d->valuedouble) ||
            d->valuedouble < 0 || d->valuedouble > 1e15)
            return fail(ps->msg, ps->cap, "input '%s': shape has a dimension that is not a count (or more than %d)",
                        name, PP_MAX_DIMS);
        dims[rank] = (int64_t)d->valuedouble;
    }
    int64_t k = info->dims[0] < 0 ? -info->dims[0] : 0;
    int64_t batch = rank > 0 && k && dims[0] % k == 0 ? dims[0] / k : 0;
    int ok = rank == info->rank && batch >= 1;
    for (int d = 1; ok && d < rank; d++) ok = dims[d] == dim_at(info->dims[d], batch);
    if (!ok) {
        char got[160], want[160];
        int64_t w[PP_MAX_DIMS];
        for (int d = 0; d < info->rank; d++) w[d] = info->dims[d] < 0 ? -1 : info->dims[d];
        shape_text(dims, rank, got, sizeof got);
        shape_text(w, info->rank, want, sizeof want);
        return fail(ps->msg, ps->cap, "input '%s': shape %s does not fit the model's %s (-1: any batch >= 1)", name,
                    got, want);
    }
    if (ps->r->batch && batch != ps->r->batch)
        return fail(ps->msg, ps->cap, "input '%s': batch %lld, but an earlier input has %lld", name, (long long)batch,
                    (long long)ps->r->batch);
    ps->r->batch = batch;
    return 0;
}

/* Points r->in[i] at input object `in`'s data: binary bytes in the body, or
 * values from its "data" array converted into a buffer of its own. */
static int take_data(parse_state *ps, int i, const cJSON *in, const char *name) {
    pp_oip_request *r = ps->r;
    const pp_tensor_info *info = &ps->m->info[i];
    size_t bytes = pp_net_input_bytes(ps->m->net, i, r->batch), es = elem_size(info->type);
    int bad = 0;
    long long bin = param_int(cJSON_GetObjectItemCaseSensitive(in, "parameters"), "binary_data_size", -1, &bad);
    if (bad) return fail(ps->msg, ps->cap, "input '%s': binary_data_size is not a byte count", name);
    if (bin >= 0) {
        if ((size_t)bin != bytes)
            return fail(ps->msg, ps->cap, "input '%s': binary_data_size %lld, but its shape needs %zu bytes", name, bin,
                        bytes);
        if (bytes > ps->bin_len - ps->bin_at)
            return fail(ps->msg, ps->cap, "input '%s': its %zu bytes of binary data go past the body's end", name,
                        bytes);
        const char *p = ps->bin + ps->bin_at;
        ps->bin_at += bytes;
        if ((uintptr_t)p % es == 0) {
            r->in[i] = p;
            return 0;
        }
        if (!(r->owned[i] = malloc(bytes ? bytes : 1))) return fail(ps->msg, ps->cap, "out of memory");
        memcpy(r->owned[i], p, bytes);
        r->in[i] = r->owned[i];
        return 0;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(in, "data");
    if (!data) return fail(ps->msg, ps->cap, "input '%s': neither \"data\" nor binary_data_size", name);
    size_t want = bytes / es, have = count_values(data);
    if (have != want)
        return fail(ps->msg, ps->cap, "input '%s': %zu values in \"data\", its shape holds %zu", name, have, want);
    if (!(r->owned[i] = malloc(bytes ? bytes : 1))) return fail(ps->msg, ps->cap, "out of memory");
    filler f = {info->type, r->owned[i], 0, want, name, ps->msg, ps->cap};
    int rc = fill(&f, data, 0);
    if (rc) return rc;
    r->in[i] = r->owned[i];
    return 0;
}

static int parse_inputs(parse_state *ps, const cJSON *inputs) {
    const pp_serve_model *m = ps->m;
    if (!cJSON_IsArray(inputs)) return fail(ps->msg, ps->cap, "\"inputs\" is missing or not an array");
    for (const cJSON *in = inputs->child; in; in = in->next) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(in, "name");
        if (!cJSON_IsObject(in) || !cJSON_IsString(nm))
            return fail(ps->msg, ps->cap, "an entry of \"inputs\" has no \"name\"");
        int i = 0;
        while (i < m->n_in && strcmp(m->info[i].name, nm->valuestring)) i++;
        if (i == m->n_in)
            return fail(ps->msg, ps->cap, "unknown input '%.64s' for model '%s'", nm->valuestring, m->name);
        if (ps->r->in[i]) return fail(ps->msg, ps->cap, "input '%s' appears twice", m->info[i].name);
        int rc = check_shape(ps, i, in, m->info[i].name);
        if (!rc) rc = take_data(ps, i, in, m->info[i].name);
        if (rc) return rc;
    }
    for (int i = 0; i < m->n_in; i++)
        if (!ps->r->in[i]) return fail(ps->msg, ps->cap, "input '%s' is missing", m->info[i].name);
    if (ps->bin_at != ps->bin_len)
        return fail(ps->msg, ps->cap, "%zu bytes of binary data follow the JSON header, the inputs take %zu",
                    ps->bin_len, ps->bin_at);
    return 0;
}

static int parse_outputs(parse_state *ps, const cJSON *outputs, int all_binary) {
    const pp_serve_model *m = ps->m;
    pp_oip_request *r = ps->r;
    if (!outputs) {
        memset(r->want, 1, (size_t)m->n_out);
        memset(r->binary, all_binary, (size_t)m->n_out);
        return 0;
    }
    if (!cJSON_IsArray(outputs)) return fail(ps->msg, ps->cap, "\"outputs\" is not an array");
    for (const cJSON *o = outputs->child; o; o = o->next) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
        if (!cJSON_IsString(nm)) return fail(ps->msg, ps->cap, "an entry of \"outputs\" has no \"name\"");
        int k = 0;
        while (k < m->n_out && strcmp(m->info[m->n_in + k].name, nm->valuestring)) k++;
        if (k == m->n_out)
            return fail(ps->msg, ps->cap, "unknown output '%.64s' for model '%s'", nm->valuestring, m->name);
        r->want[k] = 1;
        r->binary[k] =
            (unsigned char)param_bool(cJSON_GetObjectItemCaseSensitive(o, "parameters"), "binary_data", all_binary);
    }
    return 0;
}

int pp_oip_parse(const pp_serve_model *m, const char *body, size_t len, long long header_len, pp_oip_request *r,
                 char *msg, size_t cap) {
    memset(r, 0, sizeof *r);
    r->n_in = m->n_in;
    r->n_out = m->n_out;
    r->in = calloc((size_t)m->n_in + 1, sizeof *r->in);
    r->owned = calloc((size_t)m->n_in + 1, sizeof *r->owned);
    r->want = calloc((size_t)m->n_out + 1, 1);
    r->binary = calloc((size_t)m->n_out + 1, 1);
    if (!r->in || !r->owned || !r->want || !r->binary) return fail(msg, cap, "out of memory");
    size_t json_len = header_len < 0 ? len : (size_t)header_len;
    if (header_len >= 0 && (unsigned long long)header_len > len)
        return fail(msg, cap, "Inference-Header-Content-Length %lld exceeds the body's %zu bytes", header_len, len);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, json_len, &end, 0);
    r->root = root;
    if (!root) {
        size_t at = end && end >= body && end <= body + json_len ? (size_t)(end - body) : 0;
        return fail(msg, cap, "malformed JSON in the request, near byte %zu of %zu", at, json_len);
    }
    if (!cJSON_IsObject(root)) return fail(msg, cap, "the request is not a JSON object");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (cJSON_IsString(id)) r->id = id->valuestring;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "parameters");
    int bad = 0;
    r->timeout_us = param_int(params, "timeout", 0, &bad);
    if (bad) return fail(msg, cap, "parameters.timeout is not a count of microseconds");
    parse_state ps = {m, r, body + json_len, len - json_len, 0, msg, cap};
    int rc = parse_inputs(&ps, cJSON_GetObjectItemCaseSensitive(root, "inputs"));
    if (!rc)
        rc = parse_outputs(&ps, cJSON_GetObjectItemCaseSensitive(root, "outputs"),
                           param_bool(params, "binary_data_output", 0));
    for (int k = 0; !rc && k < m->n_out; k++) {
        pp_elem_type t = m->info[m->n_in + k].type;
        if (r->want[k] && !r->binary[k] && (t == PP_ELEM_F16 || t == PP_ELEM_BF16))
            rc = fail(msg, cap, "output '%s' is %s, which travels only as binary data (binary_data: true)",
                      m->info[m->n_in + k].name, pp_oip_datatype(t));
    }
    return rc;
}

void pp_oip_request_free(pp_oip_request *r) {
    for (int i = 0; r->owned && i < r->n_in; i++) free(r->owned[i]);
    free(r->owned);
    free(r->in);
    free(r->want);
    free(r->binary);
    cJSON_Delete(r->root);
    memset(r, 0, sizeof *r);
}

/* ---- responses ---------------------------------------------------------------------- */

static void tensor_head(pp_sbuf *b, const pp_tensor_info *info, int64_t batch) {
    pp_sbuf_printf(b, "{\"name\":");
    pp_sbuf_json_string(b, info->name);
    pp_sbuf_printf(b, ",\"datatype\":\"%s\",\"shape\":[", pp_oip_datatype(info->type));
    for (int d = 0; d < info->rank; d++)
        pp_sbuf_printf(b, "%s%lld", d ? "," : "", (long long)(batch ? dim_at(info->dims[d], batch) : info->dims[d]));
    pp_sbuf_printf(b, "]");
}

/* Values as JSON numbers: f32 with 9 significant digits, which read back to
 * the same float; non-finite values, which JSON cannot spell, as null. */
static void values(pp_sbuf *b, pp_elem_type t, const void *data, size_t n) {
    char tmp[40];
    for (size_t i = 0; i < n; i++) {
        int len = 0;
        switch (t) {
        case PP_ELEM_F32: {
            float v = ((const float *)data)[i];
            len = isfinite(v) ? snprintf(tmp, sizeof tmp, "%.9g", (double)v) : snprintf(tmp, sizeof tmp, "null");
            break;
        }
        case PP_ELEM_F64: {
            double v = ((const double *)data)[i];
            len = isfinite(v) ? snprintf(tmp, sizeof tmp, "%.17g", v) : snprintf(tmp, sizeof tmp, "null");
            break;
        }
        case PP_ELEM_I64: len = snprintf(tmp, sizeof tmp, "%lld", (long long)((const int64_t *)data)[i]); break;
        case PP_ELEM_I32: len = snprintf(tmp, sizeof tmp, "%d", ((const int32_t *)data)[i]); break;
        case PP_ELEM_I8: len = snprintf(tmp, sizeof tmp, "%d", ((const int8_t *)data)[i]); break;
        case PP_ELEM_U8: len = snprintf(tmp, sizeof tmp, "%u", ((const uint8_t *)data)[i]); break;
        case PP_ELEM_BOOL: len = snprintf(tmp, sizeof tmp, "%s", ((const uint8_t *)data)[i] ? "true" : "false"); break;
        default: len = snprintf(tmp, sizeof tmp, "null"); break;
        }
        if (i) pp_sbuf_put(b, ",", 1);
        pp_sbuf_put(b, tmp, (size_t)len);
    }
}

int pp_oip_response(const pp_serve_model *m, const pp_oip_request *r, void *const *outputs, pp_sbuf *b) {
    pp_sbuf_printf(b, "{\"model_name\":");
    pp_sbuf_json_string(b, m->name);
    pp_sbuf_printf(b, ",\"model_version\":\"1\"");
    if (r->id) {
        pp_sbuf_printf(b, ",\"id\":");
        pp_sbuf_json_string(b, r->id);
    }
    pp_sbuf_printf(b, ",\"outputs\":[");
    int first = 1;
    for (int k = 0; k < m->n_out; k++) {
        if (!r->want[k]) continue;
        const pp_tensor_info *info = &m->info[m->n_in + k];
        size_t bytes = pp_net_output_bytes(m->net, k, r->batch);
        pp_sbuf_printf(b, "%s", first ? "" : ",");
        first = 0;
        tensor_head(b, info, r->batch);
        if (r->binary[k]) {
            pp_sbuf_printf(b, ",\"parameters\":{\"binary_data_size\":%zu}}", bytes);
            continue;
        }
        pp_sbuf_printf(b, ",\"data\":[");
        values(b, info->type, outputs[k], bytes / elem_size(info->type));
        pp_sbuf_printf(b, "]}");
    }
    pp_sbuf_printf(b, "]}");
    return b->failed ? -1 : 0;
}

int pp_oip_model_metadata(const pp_serve_model *m, pp_sbuf *b) {
    pp_sbuf_printf(b, "{\"name\":");
    pp_sbuf_json_string(b, m->name);
    pp_sbuf_printf(b, ",\"versions\":[\"1\"],\"platform\":\"ppengine\",\"inputs\":[");
    for (int i = 0; i < m->n_in + m->n_out; i++) {
        if (i == m->n_in) pp_sbuf_printf(b, "],\"outputs\":[");
        else if (i) pp_sbuf_printf(b, ",");
        pp_tensor_info info = m->info[i];
        if (info.dims[0] < 0) info.dims[0] = -1; /* any batch */
        tensor_head(b, &info, 0);
        pp_sbuf_printf(b, "}");
    }
    pp_sbuf_printf(b, "]}");
    return b->failed ? -1 : 0;
}

int pp_oip_error(const char *msg, pp_sbuf *b) {
    pp_sbuf_printf(b, "{\"error\":");
    pp_sbuf_json_string(b, msg);
    pp_sbuf_printf(b, "}");
    return b->failed ? -1 : 0;
}

/* pt2.c: the .pt2 archive (pt2.h): its entries, the ExportedProgram JSON and
 * its schema version, the weight tables, then the graph and the usual passes. */
#include "pt2.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint_table.h"
#include "zip.h"

#ifndef PP_HAVE_CJSON

int pp_pt2_available(void) { return 0; }
int pp_pt2_sniff(const char *path) {
    (void)path;
    return 0;
}
pp_code pp_convert_pt2_graph(const char *path, pp_graph **out, pp_pt2_info *info, pp_error *err) {
    return pp_convert_pt2_graph_opt(path, NULL, out, info, err);
}
pp_code pp_convert_pt2_graph_opt(const char *path, const pp_pt2_options *opt, pp_graph **out, pp_pt2_info *info,
                                 pp_error *err) {
    (void)opt;
    (void)info;
    *out = NULL;
    return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: this build reads no .pt2 archives (it was built without cJSON)",
                        path);
}
pp_code pp_convert_pt2_memory(const void *data, size_t size, const char *what, pp_graph **out, pp_pt2_info *info,
                              pp_error *err) {
    (void)data;
    (void)size;
    return pp_convert_pt2_graph(what ? what : "archive.pt2", out, info, err);
}

#else

#include <cjson/cJSON.h>

#include "fold.h"
#include "pt2_graph.h"
#include "torch_ckpt.h"

int pp_pt2_available(void) { return 1; }

/* What an import holds while the graph lives: the tables (the weights' one
 * also holds the file's mapping, which both borrow from). */
typedef struct pt2_handle {
    pp_ckpt *weights, *constants;
} pt2_handle;

static void handle_free(void *p) {
    pt2_handle *h = p;
    if (!h) return;
    pp_ckpt_free(h->constants);
    pp_ckpt_free(h->weights);
    pp_free(h);
}

/* The ExportedProgram's entry: <root>/models/<name>.json (the first, "model"
 * preferred), or the older <root>/serialized_exported_program.json. *model
 * gets <name> ("" for the older layout). */
static const pp_zip_entry *find_program(const pp_zip *z, char *model, size_t n) {
    const pp_zip_entry *e = pp_zip_find_record(z, "models/model.json");
    if (e) {
        snprintf(model, n, "model");
        return e;
    }
    size_t pl = strlen(z->prefix);
    for (int i = 0; i < z->n_entries; i++) {
        const char *nm = z->entries[i].name + (pl ? pl + 1 : 0);
        size_t l = strlen(nm);
        if (!strncmp(nm, "models/", 7) && l > 12 && !strcmp(nm + l - 5, ".json") && !strchr(nm + 7, '/')) {
            snprintf(model, n, "%.*s", (int)(l - 12), nm + 7);
            return &z->entries[i];
        }
    }
    model[0] = 0;
    return pp_zip_find_record(z, "serialized_exported_program.json");
}

int pp_pt2_sniff(const char *path) {
    pp_ckpt *c = pp_calloc(1, sizeof *c);
    const uint8_t *d;
    size_t n;
    pp_error e;
    int yes = 0;
    if (c && !pp_ckpt_map_file(c, path, &d, &n, &e) && n >= 4 && !memcmp(d, "PK\3\4", 4)) {
        pp_zip z;
        char model[64];
        if (!pp_zip_open(d, n, path, &z, &e)) {
            yes = find_program(&z, model, sizeof model) != NULL;
            pp_zip_close(&z);
        }
    }
    pp_ckpt_free(c);
    return yes;
}

/* A record's bytes, or an error naming what is missing. */
static pp_code record(const pp_zip *z, const char *rec, const char *what, const uint8_t **d, uint64_t *n,
                      pp_error *err) {
    const pp_zip_entry *e = pp_zip_find_record(z, rec);
    if (!e) return pp_error_set(err, PP_ERR_FORMAT, "%s (%s) is missing from the archive", rec, what);
    return pp_zip_entry_data(z, e, d, n, err);
}

/* The JSON, parsed whole; a truncated or malformed one is refused with the byte. */
static pp_code parse_program(const pp_zip *z, const pp_zip_entry *e, cJSON **root, pp_error *err) {
    const uint8_t *d;
    uint64_t n;
    pp_code rc = pp_zip_entry_data(z, e, &d, &n, err);
    if (rc) return rc;
    const char *end = NULL;
    *root = cJSON_ParseWithLengthOpts((const char *)d, (size_t)n, &end, 0);
    if (!*root) {
        size_t at = end ? (size_t)(end - (const char *)d) : 0;
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s: the ExportedProgram JSON is malformed or cut short near byte %zu of %" PRIu64, e->name,
                            at, n);
    }
    if (!cJSON_IsObject(*root)) return pp_error_set(err, PP_ERR_FORMAT, "%s: the JSON is not an object", e->name);
    return PP_OK;
}

/* schema_version {major, minor}: majors outside what this reads are refused by number. */
static pp_code check_schema(const cJSON *root, const char *entry, pp_pt2_info *info, pp_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "schema_version");
    const cJSON *ma = v ? cJSON_GetObjectItemCaseSensitive(v, "major") : NULL;
    const cJSON *mi = v ? cJSON_GetObjectItemCaseSensitive(v, "minor") : NULL;
    if (!cJSON_IsNumber(ma) || !cJSON_IsNumber(mi))
        return pp_error_set(err, PP_ERR_FORMAT, "%s: no schema_version {major, minor}", entry);
    info->schema_major = (int)ma->valuedouble;
    info->schema_minor = (int)mi->valuedouble;
    if (info->schema_major > PP_PT2_SCHEMA_MAX)
        return pp_error_set(err, PP_ERR_UNSUPPORTED,
                            "%s: ExportedProgram schema version %d.%d is newer than this converter reads (majors %d to "
                            "%d, torch 2.1 to 2.8): export with a torch that writes schema %d, or use ONNX",
                            entry, info->schema_major, info->schema_minor, PP_PT2_SCHEMA_MIN, PP_PT2_SCHEMA_MAX,
                            PP_PT2_SCHEMA_MAX);
    if (info->schema_major < PP_PT2_SCHEMA_MIN)
        return pp_error_set(err, PP_ERR_UNSUPPORTED,
                            "%s: ExportedProgram schema version %d.%d is older than this converter reads (majors %d "
                            "to %d)",
                            entry, info->schema_major, info->schema_minor, PP_PT2_SCHEMA_MIN, PP_PT2_SCHEMA_MAX);
    const cJSON *tv = cJSON_GetObjectItemCaseSensitive(root, "torch_version");
    if (cJSON_IsString(tv)) snprintf(info->torch_version, sizeof info->torch_version, "%s", tv->valuestring);
    return PP_OK;
}

/* Which tables the signature asks for: parameters/buffers (1), tensor
 * constants or non-persistent buffers (2). */
static int tables_needed(const cJSON *gm) {
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(gm, "signature");
    const cJSON *specs = sig ? cJSON_GetObjectItemCaseSensitive(sig, "input_specs") : NULL, *s;
    int need = 0;
    cJSON_ArrayForEach(s, specs) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(s, "buffer");
        if (cJSON_GetObjectItemCaseSensitive(s, "parameter") || b) need |= 1;
        if (cJSON_GetObjectItemCaseSensitive(s, "tensor_constant") ||
            (b && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(b, "persistent"))))
            need |= 2;
    }
    return need;
}

/* One torch.save zip inside the archive into *tab (indexed). */
static pp_code load_table(const pp_zip *z, const char *path, const char *rec, const char *what, pp_ckpt **tab,
                          pp_error *err) {
    const uint8_t *d;
    uint64_t n;
    pp_code rc = record(z, rec, what, &d, &n, err);
    if (rc) return rc;
    if (!*tab && !(*tab = pp_calloc(1, sizeof **tab))) return pp_error_nomem(err, "out of memory");
    char w[300];
    snprintf(w, sizeof w, "%s: %s", path, rec);
    rc = pp_torch_load(*tab, d, (size_t)n, w, err);
    if (!rc) rc = pp_ckpt_index(*tab, w, err);
    return rc;
}

/* The weight and constant tables the graph module needs. */
static pp_code load_tables(const pp_zip *z, const char *path, const char *model, const cJSON *gm, pt2_handle *h,
                           pp_error *err) {
    char wrec[128], crec[128];
    if (model[0]) {
        snprintf(wrec, sizeof wrec, "data/weights/%s.pt", model);
        snprintf(crec, sizeof crec, "data/constants/%s.pt", model);
    } else {
        snprintf(wrec, sizeof wrec, "serialized_state_dict.pt");
        snprintf(crec, sizeof crec, "serialized_constants.pt");
    }
    int need = tables_needed(gm);
    pp_code rc = PP_OK;
    if (need & 1) rc = load_table(z, path, wrec, "the model's parameters and buffers", &h->weights, err);
    if (!rc && (need & 2)) rc = load_table(z, path, crec, "the model's tensor constants", &h->constants, err);
    return rc;
}

/* Fold, prune, infer, run the graph passes, infer again (as for ONNX). */
static pp_code optimise(pp_graph *g, pp_pt2_info *info, pp_error *err) {
    for (int i = 0; i < g->n_nodes; i++) info->nodes_imported += !g->nodes[i].dead;
    pp_code rc = pp_fold_constants(g, &info->folded, err);
    if (!rc) rc = pp_eliminate_dead(g, &info->removed, err);
    if (!rc) rc = pp_graph_toposort(g, err);
    if (!rc) rc = pp_graph_infer(g, err);
    if (!rc) rc = pp_run_passes(g, info->passes, &info->n_passes, err);
    if (!rc) rc = pp_graph_infer(g, err);
    return rc;
}

/* The archive in [d, d + n) (named path in messages) into *g; h's tables borrow from d. */
static pp_code import(const uint8_t *d, size_t n, const char *path, const pp_pt2_options *opt, pt2_handle *h,
                      pp_graph **g, pp_pt2_info *info, pp_error *err) {
    pp_zip z;
    cJSON *root = NULL;
    char model[64];
    pp_code rc = pp_zip_open(d, n, path, &z, err);
    if (rc) return rc;
    const pp_zip_entry *prog = find_program(&z, model, sizeof model);
    const pp_zip_entry *fmt = pp_zip_find_record(&z, "archive_format");
    const uint8_t *fd;
    uint64_t fn;
    if (!prog)
        rc = pp_error_set(err, PP_ERR_FORMAT,
                          "%s: no models/<name>.json or serialized_exported_program.json: not a torch.export archive",
                          path);
    else if (fmt && !pp_zip_entry_data(&z, fmt, &fd, &fn, err) && !(fn == 3 && !memcmp(fd, "pt2", 3)))
        rc = pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: archive_format is '%.*s', not 'pt2'", path,
                          (int)(fn < 16 ? fn : 16), fd);
    if (!rc) rc = parse_program(&z, prog, &root, err);
    if (!rc) rc = check_schema(root, prog->name, info, err);
    const cJSON *gm = root ? cJSON_GetObjectItemCaseSensitive(root, "graph_module") : NULL;
    if (!rc && !cJSON_IsObject(gm)) rc = pp_error_set(err, PP_ERR_FORMAT, "%s: no graph_module", prog->name);
    if (!rc) {
        const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(gm, "graph"), "nodes");
        info->nodes = cJSON_GetArraySize(nodes);
        rc = load_tables(&z, path, model, gm, h, err);
    }
    const cJSON *ranges = root ? cJSON_GetObjectItemCaseSensitive(root, "range_constraints") : NULL;
    if (!rc)
        rc = pt2_graph_build(gm, ranges, opt ? opt->dims : NULL, opt ? opt->n_dims : 0, h->weights, h->constants, g,
                             err);
    cJSON_Delete(root);
    pp_zip_close(&z);
    return rc;
}

/* Import and optimise; *out keeps h (and so the tables and any mapping) alive. */
static pp_code convert(const uint8_t *d, size_t n, const char *what, const pp_pt2_options *opt, pt2_handle *h,
                       pp_graph **out, pp_pt2_info *info, pp_error *err) {
    pp_graph *g = NULL;
    pp_code rc = import(d, n, what, opt, h, &g, info, err);
    if (!rc) rc = optimise(g, info, err);
    if (rc) {
        if (err && strncmp(err->msg, what, strlen(what))) pp_error_prefix(err, "%s", what);
        pp_graph_free(g);
        handle_free(h);
        return rc;
    }
    g->keep = h;
    g->keep_free = handle_free;
    *out = g;
    return PP_OK;
}

pp_code pp_convert_pt2_graph(const char *path, pp_graph **out, pp_pt2_info *info, pp_error *err) {
    return pp_convert_pt2_graph_opt(path, NULL, out, info, err);
}

pp_code pp_convert_pt2_graph_opt(const char *path, const pp_pt2_options *opt, pp_graph **out, pp_pt2_info *info,
                                 pp_error *err) {
    pp_pt2_info local;
    if (!info) info = &local;
    memset(info, 0, sizeof *info);
    *out = NULL;
    pt2_handle *h = pp_calloc(1, sizeof *h);
    if (!h || !(h->weights = pp_calloc(1, sizeof *h->weights))) {
        handle_free(h);
        return pp_error_nomem(err, "out of memory");
    }
    const uint8_t *d;
    size_t n;
    pp_code rc = pp_ckpt_map_file(h->weights, path, &d, &n, err);
    if (rc) {
        handle_free(h);
        return rc;
    }
    return convert(d, n, path, opt, h, out, info, err);
}

pp_code pp_convert_pt2_memory(const void *data, size_t size, const char *what, pp_graph **out, pp_pt2_info *info,
                              pp_error *err) {
    pp_pt2_info local;
    if (!info) info = &local;
    memset(info, 0, sizeof *info);
    *out = NULL;
    pt2_handle *h = pp_calloc(1, sizeof *h);
    if (!h) return pp_error_nomem(err, "out of memory");
    return convert(data, size, what ? what : "archive.pt2", NULL, h, out, info, err);
}
#endif

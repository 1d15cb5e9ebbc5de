/* safetensors.c: the safetensors reader (safetensors.h). The JSON header is
 * parsed by cJSON when the build found it (PP_HAVE_CJSON); without it
 * safetensors files are refused with a message saying so. */
#include "safetensors.h"

#ifdef PP_HAVE_CJSON
#include <cjson/cJSON.h>
#endif
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rd64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 8; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

int pp_safetensors_sniff(const uint8_t *d, size_t n) {
    if (n < 10) return 0;
    uint64_t h = rd64(d);
    if (h < 2 || h > PP_SAFETENSORS_MAX_HEADER || h > n - 8) return 0;
    for (size_t i = 8; i < 8 + h; i++) {
        if (d[i] == '{') return 1;
        if (d[i] != ' ' && d[i] != '\t' && d[i] != '\n' && d[i] != '\r') return 0;
    }
    return 0;
}

#ifdef PP_HAVE_CJSON

int pp_safetensors_available(void) { return 1; }

static const struct {
    const char *name;
    pp_dtype dt;
    unsigned size;
} DTYPES[] = {
    {"F32", PP_DTYPE_F32, 4}, {"F16", PP_DTYPE_F16, 2},   {"BF16", PP_DTYPE_BF16, 2}, {"F64", PP_DTYPE_F64, 8},
    {"I64", PP_DTYPE_I64, 8}, {"I32", PP_DTYPE_I32, 4},   {"I16", PP_DTYPE_I32, 2},   {"I8", PP_DTYPE_I8, 1},
    {"U8", PP_DTYPE_U8, 1},   {"BOOL", PP_DTYPE_BOOL, 1},
};
/* Known to the format but with no engine dtype: refused by name. */
static const char *OTHER_DTYPES[] = {"F4",          "F6_E2M3",     "F6_E3M2", "F8_E5M2", "F8_E4M3", "F8_E8M0",
                                     "F8_E4M3FNUZ", "F8_E5M2FNUZ", "U16",     "U32",     "U64",     "C64"};

typedef struct st_entry {
    const char *name; /* borrowed from the cJSON tree */
    int dt;           /* index into DTYPES */
    int rank;
    int64_t dims[PP_MAX_RANK];
    uint64_t begin, end;
} st_entry;

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const st_entry *)a)->name, ((const st_entry *)b)->name);
}
static int cmp_off(const void *a, const void *b) {
    const st_entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* A JSON number that is an exact non-negative integer below 2^53. */
static int json_u64(const cJSON *j, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return 0;
    double v = j->valuedouble;
    if (!(v >= 0) || v > 9007199254740992.0 || floor(v) != v) return 0;
    *out = (uint64_t)v;
    return 1;
}

static pp_code parse_entry(const cJSON *j, const char *w, st_entry *e, pp_error *err) {
    char nb[160];
    pp_ckpt_printable(nb, sizeof nb, e->name);
    if (!cJSON_IsObject(j)) return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s' is not a JSON object", w, nb);
    const cJSON *dt = NULL, *shape = NULL, *offs = NULL, *it;
    cJSON_ArrayForEach(it, j) {
        if (!it->string) continue;
        if (!strcmp(it->string, "dtype")) dt = it;
        else if (!strcmp(it->string, "shape")) shape = it;
        else if (!strcmp(it->string, "data_offsets")) offs = it;
        else return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s' has an unknown field", w, nb);
    }
    if (!cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs))
        return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s' needs dtype (string), shape and data_offsets (arrays)",
                            w, nb);
    e->dt = -1;
    for (int i = 0; i < (int)(sizeof DTYPES / sizeof DTYPES[0]); i++)
        if (!strcmp(dt->valuestring, DTYPES[i].name)) e->dt = i;
    if (e->dt < 0) {
        char db[32];
        for (size_t i = 0; i < sizeof OTHER_DTYPES / sizeof OTHER_DTYPES[0]; i++)
            if (!strcmp(dt->valuestring, OTHER_DTYPES[i]))
                return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: tensor '%s' has dtype %s, which the engine lacks", w,
                                    nb, OTHER_DTYPES[i]);
        return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s' has unknown dtype '%s'", w, nb,
                            pp_ckpt_printable(db, sizeof db, dt->valuestring));
    }
    int rank = cJSON_GetArraySize(shape);
    if (rank > PP_MAX_RANK)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: tensor '%s' has rank %d (at most %d)", w, nb, rank,
                            PP_MAX_RANK);
    e->rank = 0;
    uint64_t numel = 1;
    cJSON_ArrayForEach(it, shape) {
        uint64_t d;
        if (!json_u64(it, &d))
            return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s': shape[%d] is not a non-negative integer", w, nb,
                                e->rank);
        if (d && numel > UINT64_MAX / d)
            return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s': shape overflows", w, nb);
        numel *= d;
        e->dims[e->rank++] = (int64_t)d;
    }
    if (cJSON_GetArraySize(offs) != 2 || !json_u64(cJSON_GetArrayItem(offs, 0), &e->begin) ||
        !json_u64(cJSON_GetArrayItem(offs, 1), &e->end) || e->end < e->begin)
        return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s': data_offsets is not [BEGIN, END] with BEGIN <= END",
                            w, nb);
    uint64_t es = DTYPES[e->dt].size;
    if (numel > UINT64_MAX / es || e->end - e->begin != numel * es)
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 ") hold %" PRIu64
                            " bytes, its shape and dtype need %" PRIu64,
                            w, nb, e->begin, e->end, e->end - e->begin,
                            numel > UINT64_MAX / es ? UINT64_MAX : numel * es);
    return PP_OK;
}

/* The JSON header: its length (*n), checked against the file, parsed into *root. */
static pp_code parse_header(const uint8_t *data, size_t size, const char *w, uint64_t *n_out, cJSON **root,
                            pp_error *err) {
    *root = NULL;
    if (size < 8) return pp_error_set(err, PP_ERR_FORMAT, "%s: %zu bytes is too short for safetensors", w, size);
    uint64_t n = rd64(data);
    if (n > PP_SAFETENSORS_MAX_HEADER)
        return pp_error_set(err, PP_ERR_FORMAT, "%s: header length %" PRIu64 " is over the limit of %u bytes", w, n,
                            PP_SAFETENSORS_MAX_HEADER);
    if (n > size - 8)
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s: header length %" PRIu64 " runs past the end of the file (%zu bytes)", w, n, size);
    const char *h = (const char *)data + 8;
    size_t i0 = 0;
    while (i0 < n && (h[i0] == ' ' || h[i0] == '\t' || h[i0] == '\n' || h[i0] == '\r')) i0++;
    if (i0 == n || h[i0] != '{') return pp_error_set(err, PP_ERR_FORMAT, "%s: the header does not start with '{'", w);
    const char *end = NULL;
    cJSON *r = cJSON_ParseWithLengthOpts(h + i0, (size_t)n - i0, &end, 0);
    if (!r) {
        size_t at = end ? (size_t)(end - h) : 0;
        if (at > n) at = n;
        return pp_error_set(err, PP_ERR_FORMAT, "%s: the JSON header is malformed near byte %zu", w, (size_t)8 + at);
    }
    for (const char *p = end; p < h + n; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(r);
            return pp_error_set(err, PP_ERR_FORMAT, "%s: bytes after the JSON header's object (byte %zu)", w,
                                (size_t)(8 + (p - h)));
        }
    if (!cJSON_IsObject(r)) {
        cJSON_Delete(r);
        return pp_error_set(err, PP_ERR_FORMAT, "%s: the header is not a JSON object", w);
    }
    *n_out = n;
    *root = r;
    return PP_OK;
}

/* The header's entries into es (count + 1 of them), __metadata__ checked and skipped; *ne set. */
static pp_code collect_entries(const cJSON *root, const char *w, st_entry *es, int *ne, pp_error *err) {
    int has_meta = 0;
    const cJSON *it;
    pp_code rc;
    *ne = 0;
    cJSON_ArrayForEach(it, root) {
        if (!it->string) continue;
        if (!strcmp(it->string, "__metadata__")) {
            const cJSON *m;
            if (has_meta++ || !cJSON_IsObject(it))
                return pp_error_set(err, PP_ERR_FORMAT, "%s: __metadata__ must appear once, as an object", w);
            cJSON_ArrayForEach(m, it) if (!cJSON_IsString(m)) return pp_error_set(
                err, PP_ERR_FORMAT, "%s: __metadata__ values must be strings", w);
            continue;
        }
        es[*ne].name = it->string;
        if ((rc = parse_entry(it, w, &es[*ne], err))) return rc;
        (*ne)++;
    }
    return PP_OK;
}

/* Unique names, and sorted by offset the entries tile the data_bytes exactly. */
static pp_code check_tiling(st_entry *es, int ne, uint64_t data_bytes, const char *w, pp_error *err) {
    char nb[160];
    qsort(es, (size_t)ne, sizeof *es, cmp_name);
    for (int i = 1; i < ne; i++)
        if (!strcmp(es[i - 1].name, es[i].name))
            return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s' appears twice in the header", w,
                                pp_ckpt_printable(nb, sizeof nb, es[i].name));
    qsort(es, (size_t)ne, sizeof *es, cmp_off);
    uint64_t pos = 0;
    for (int i = 0; i < ne; i++) {
        if (es[i].begin != pos)
            return pp_error_set(err, PP_ERR_FORMAT,
                                "%s: tensor '%s' starts at %" PRIu64 " but the previous one ends at %" PRIu64 " (%s)",
                                w, pp_ckpt_printable(nb, sizeof nb, es[i].name), es[i].begin, pos,
                                es[i].begin > pos ? "a hole" : "an overlap");
        pos = es[i].end;
    }
    if (pos != data_bytes)
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s: the tensors cover %" PRIu64 " data bytes but the file has %" PRIu64
                            " after the header",
                            w, pos, data_bytes);
    return PP_OK;
}

/* One entry's bytes p into c: borrowed when aligned, else copied; I16 widened to I32. */
static pp_code add_entry(pp_ckpt *c, const st_entry *e, const uint8_t *p, const char *w, pp_error *err) {
    uint64_t nb = e->end - e->begin;
    unsigned sz = DTYPES[e->dt].size;
    if (DTYPES[e->dt].dt == PP_DTYPE_I32 && sz == 2) { /* I16 widened */
        uint8_t *copy = pp_malloc(nb * 2 + 1);
        if (!copy) return pp_error_nomem(err, "%s: out of memory", w);
        for (uint64_t k = 0; k < nb / 2; k++) {
            int16_t v16;
            memcpy(&v16, p + 2 * k, 2);
            int32_t v32 = v16;
            memcpy(copy + 4 * k, &v32, 4);
        }
        return pp_ckpt_add(c, e->name, PP_DTYPE_I32, "I16", e->rank, e->dims, copy, nb * 2, copy, err);
    }
    if ((uintptr_t)p % sz) { /* unaligned: copy */
        uint8_t *copy = pp_malloc(nb + 1);
        if (!copy) return pp_error_nomem(err, "%s: out of memory", w);
        memcpy(copy, p, nb);
        return pp_ckpt_add(c, e->name, DTYPES[e->dt].dt, DTYPES[e->dt].name, e->rank, e->dims, copy, nb, copy, err);
    }
    return pp_ckpt_add(c, e->name, DTYPES[e->dt].dt, DTYPES[e->dt].name, e->rank, e->dims, p, nb, NULL, err);
}

pp_code pp_safetensors_load(pp_ckpt *c, const uint8_t *data, size_t size, const char *w, pp_error *err) {
    uint64_t n = 0;
    cJSON *root;
    pp_code rc = parse_header(data, size, w, &n, &root, err);
    if (rc) return rc;
    st_entry *es = NULL;
    int count = cJSON_GetArraySize(root), ne = 0;
    if (count > PP_CKPT_MAX_TENSORS) {
        rc = pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: more than %d tensors", w, PP_CKPT_MAX_TENSORS);
    } else if (!(es = pp_calloc((size_t)count + 1, sizeof *es))) {
        rc = pp_error_nomem(err, "%s: out of memory for %d entries", w, count);
    } else if (!(rc = collect_entries(root, w, es, &ne, err)) &&
               !(rc = check_tiling(es, ne, (uint64_t)(size - 8 - n), w, err))) {
        snprintf(c->format, sizeof c->format, "safetensors");
        /* cJSON's object does not keep the file order; keep offset order (the writer's). */
        for (int i = 0; i < ne && !rc; i++) rc = add_entry(c, &es[i], data + 8 + n + es[i].begin, w, err);
    }
    pp_free(es);
    cJSON_Delete(root);
    return rc;
}

pp_code pp_safetensors_load_index(pp_ckpt *c, const char *path, pp_error *err) {
    const uint8_t *d;
    size_t n;
    pp_code rc = pp_ckpt_map_file(c, path, &d, &n, err);
    if (rc) return rc;
    if (n > PP_SAFETENSORS_MAX_HEADER)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: an index of %zu bytes is over the limit", path, n);
    cJSON *root = cJSON_ParseWithLength((const char *)d, n);
    if (!root) return pp_error_set(err, PP_ERR_FORMAT, "%s: malformed JSON", path);
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    char **files = NULL;
    int nf = 0;
    if (!cJSON_IsObject(wm)) {
        rc = pp_error_set(err, PP_ERR_FORMAT, "%s: no \"weight_map\" object", path);
        goto out;
    }
    int count = cJSON_GetArraySize(wm);
    files = pp_calloc((size_t)count + 1, sizeof *files);
    if (!files) {
        rc = pp_error_nomem(err, "%s: out of memory", path);
        goto out;
    }
    const cJSON *it;
    char nb[160];
    cJSON_ArrayForEach(it, wm) {
        if (!cJSON_IsString(it) || !it->valuestring[0] || strchr(it->valuestring, '/') ||
            strchr(it->valuestring, '\\') || !strcmp(it->valuestring, "..") || !strcmp(it->valuestring, ".")) {
            rc = pp_error_set(err, PP_ERR_FORMAT, "%s: weight_map['%s'] is not a plain file name in the index's folder",
                              path, pp_ckpt_printable(nb, sizeof nb, it->string));
            goto out;
        }
        int seen = 0;
        for (int i = 0; i < nf && !seen; i++) seen = !strcmp(files[i], it->valuestring);
        if (!seen) files[nf++] = it->valuestring;
    }
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path + 1) : 0;
    for (int i = 0; i < nf && !rc; i++) {
        char shard[4096];
        if (dlen + strlen(files[i]) >= sizeof shard) {
            rc = pp_error_set(err, PP_ERR_INVALID_ARG, "%s: shard path too long", path);
            break;
        }
        memcpy(shard, path, dlen);
        strcpy(shard + dlen, files[i]);
        const uint8_t *sd;
        size_t sn;
        if ((rc = pp_ckpt_map_file(c, shard, &sd, &sn, err))) break;
        rc = pp_safetensors_load(c, sd, sn, shard, err);
    }
    if (rc) goto out;
    if ((rc = pp_ckpt_index(c, path, err))) goto out; /* duplicates across shards; fast lookups */
    /* Every weight_map entry is found (tensors a shard holds beyond the map are kept). */
    cJSON_ArrayForEach(it, wm) {
        if (!pp_ckpt_find(c, it->string)) {
            rc = pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s' is not in shard '%s'", path,
                              pp_ckpt_printable(nb, sizeof nb, it->string), it->valuestring);
            goto out;
        }
    }
    snprintf(c->format, sizeof c->format, "safetensors (%d shard%s)", nf, nf == 1 ? "" : "s");
out:
    pp_free(files);
    cJSON_Delete(root);
    return rc;
}

#else /* no cJSON */

int pp_safetensors_available(void) { return 0; }

pp_code pp_safetensors_load(pp_ckpt *c, const uint8_t *data, size_t size, const char *w, pp_error *err) {
    (void)c, (void)data, (void)size;
    return pp_error_set(
        err, PP_ERR_UNSUPPORTED,
        "%s: this build reads no safetensors files (built without cJSON: install libcjson-dev and rebuild)", w);
}

pp_code pp_safetensors_load_index(pp_ckpt *c, const char *path, pp_error *err) {
    return pp_safetensors_load(c, NULL, 0, path, err);
}

#endif

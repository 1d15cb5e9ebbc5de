/* dataset.c: a chunked run's input files, their chunks, and reading one chunk. */
#include "dataset.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_common.h"

void pp_dataset_free(pp_dataset *ds) {
    for (int k = 0; ds->paths && k < ds->n_inputs * ds->n_files; k++) free(ds->paths[k]);
    free(ds->paths);
    free(ds->headers);
    free(ds->offsets);
    free(ds->file_items);
    free(ds->item_bytes);
    free(ds->chunk_file);
    free(ds->chunk_first);
    free(ds->chunk_count);
    free(ds->chunk_start);
    memset(ds, 0, sizeof *ds);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int ends_with_npy(const char *s) {
    size_t n = strlen(s);
    return n > 4 && !strcmp(s + n - 4, ".npy");
}

/* path's .npy files (itself when it is one), sorted; *list owned. */
static pp_code list_files(const char *path, char ***list, int *n, pp_error *err) {
    struct stat st;
    *list = NULL;
    *n = 0;
    if (stat(path, &st) != 0) return pp_error_set(err, PP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        char **l = malloc(sizeof *l);
        if (!l || !(l[0] = strdup(path))) {
            free(l);
            return pp_error_nomem(err, "%s: out of memory", path);
        }
        *list = l;
        *n = 1;
        return PP_OK;
    }
    DIR *d = opendir(path);
    if (!d) return pp_error_set(err, PP_ERR_IO, "%s: cannot list the folder: %s", path, strerror(errno));
    char **l = NULL;
    int cnt = 0, cap = 0;
    pp_code rc = PP_OK;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || !ends_with_npy(e->d_name)) continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 64;
            char **nl = realloc(l, sizeof *l * (size_t)cap);
            if (!nl) {
                rc = pp_error_nomem(err, "%s: out of memory listing %d files", path, cnt);
                break;
            }
            l = nl;
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        if (!(l[cnt] = malloc(len))) {
            rc = pp_error_nomem(err, "%s: out of memory listing %d files", path, cnt);
            break;
        }
        snprintf(l[cnt++], len, "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (!rc && cnt == 0) rc = pp_error_set(err, PP_ERR_IO, "%s: the folder holds no .npy file", path);
    if (rc) {
        for (int i = 0; i < cnt; i++) free(l[i]);
        free(l);
        return rc;
    }
    qsort(l, (size_t)cnt, sizeof *l, by_name);
    *list = l;
    *n = cnt;
    return PP_OK;
}

/* Which graph input a spec names, and its path. */
static pp_code spec_input(const pp_graph *g, const char *spec, int *idx, const char **path, pp_error *err) {
    const char *eq = strchr(spec, '=');
    *idx = -1;
    *path = spec;
    if (!eq) {
        if (g->n_inputs != 1)
            return pp_error_set(err, PP_ERR_INVALID_ARG,
                                "--input %s: the graph has %d inputs; name it as NAME=FILE.npy or NAME=DIR", spec,
                                g->n_inputs);
        *idx = 0;
        return PP_OK;
    }
    for (int j = 0; j < g->n_inputs; j++) {
        const char *name = g->tensors[g->inputs[j]].name;
        if (strlen(name) == (size_t)(eq - spec) && !strncmp(name, spec, (size_t)(eq - spec))) *idx = j;
    }
    if (*idx < 0)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "--input %s: the graph has no input named '%.*s'", spec,
                            (int)(eq - spec), spec);
    *path = eq + 1;
    return PP_OK;
}

static pp_code alloc_files(pp_dataset *ds, pp_error *err) {
    size_t nf = (size_t)ds->n_inputs * (size_t)ds->n_files;
    ds->paths = calloc(nf, sizeof *ds->paths);
    ds->headers = calloc(nf, sizeof *ds->headers);
    ds->offsets = calloc(nf, sizeof *ds->offsets);
    ds->file_items = calloc((size_t)ds->n_files, sizeof *ds->file_items);
    ds->item_bytes = calloc((size_t)ds->n_inputs, sizeof *ds->item_bytes);
    if (!ds->paths || !ds->headers || !ds->offsets || !ds->file_items || !ds->item_bytes)
        return pp_error_nomem(err, "dataset: out of memory for %zu files", nf);
    return PP_OK;
}

/* Cuts every file into chunks of at most chunk_items. */
static pp_code cut_chunks(pp_dataset *ds, pp_error *err) {
    int64_t n = 0;
    ds->total = 0;
    for (int j = 0; j < ds->n_files; j++) {
        n += (ds->file_items[j] + ds->chunk_items - 1) / ds->chunk_items;
        ds->total += ds->file_items[j];
    }
    ds->n_chunks = n;
    size_t cap = n ? (size_t)n : 1;
    ds->chunk_file = malloc(cap * sizeof *ds->chunk_file);
    ds->chunk_first = malloc(cap * sizeof *ds->chunk_first);
    ds->chunk_count = malloc(cap * sizeof *ds->chunk_count);
    ds->chunk_start = malloc(cap * sizeof *ds->chunk_start);
    if (!ds->chunk_file || !ds->chunk_first || !ds->chunk_count || !ds->chunk_start)
        return pp_error_nomem(err, "dataset: out of memory for %lld chunks", (long long)n);
    int64_t c = 0, start = 0;
    for (int j = 0; j < ds->n_files; j++)
        for (int64_t f = 0; f < ds->file_items[j]; f += ds->chunk_items, c++) {
            int64_t left = ds->file_items[j] - f;
            ds->chunk_file[c] = j;
            ds->chunk_first[c] = f;
            ds->chunk_count[c] = left < ds->chunk_items ? left : ds->chunk_items;
            ds->chunk_start[c] = start;
            start += ds->chunk_count[c];
        }
    return PP_OK;
}

/* Reads the header of file j of input i and checks it against the graph and
 * against input 0's file j. */
static pp_code check_file(const pp_graph *g, pp_dataset *ds, int i, int j, pp_error *err) {
    const pp_tensor *t = &g->tensors[g->inputs[i]];
    int k = i * ds->n_files + j;
    if (t->rank < 1 || t->dims[0] >= 0)
        return pp_error_set(err, PP_ERR_SHAPE,
                            "input '%s' has no batch axis; a chunked run splits every input along axis 0", t->name);
    int64_t b;
    pp_code rc = pp_npy_read_header(ds->paths[k], &ds->headers[k], &ds->offsets[k], err);
    if (!rc) rc = pp_cli_check_input(t, &ds->headers[k], ds->paths[k], &b, err);
    if (rc) return rc;
    if (i == 0) ds->file_items[j] = b;
    else if (b != ds->file_items[j])
        return pp_error_set(err, PP_ERR_SHAPE, "%s holds batch %lld for input '%s' but %s holds %lld for '%s'",
                            ds->paths[k], (long long)b, t->name, ds->paths[j], (long long)ds->file_items[j],
                            g->tensors[g->inputs[0]].name);
    ds->item_bytes[i] = ds->headers[k].nbytes / (uint64_t)b;
    return PP_OK;
}

pp_code pp_dataset_resolve(const pp_graph *g, const char *const *specs, int n_specs, int64_t chunk_items,
                           pp_dataset *ds, pp_error *err) {
    memset(ds, 0, sizeof *ds);
    char ***lists = calloc((size_t)g->n_inputs + 1, sizeof *lists);
    int *counts = calloc((size_t)g->n_inputs + 1, sizeof *counts);
    const char **given = calloc((size_t)g->n_inputs + 1, sizeof *given);
    pp_code rc = lists && counts && given ? PP_OK : pp_error_nomem(err, "dataset: out of memory");
    for (int s = 0; !rc && s < n_specs; s++) {
        int idx;
        const char *path;
        if ((rc = spec_input(g, specs[s], &idx, &path, err))) break;
        if (given[idx]) {
            rc = pp_error_set(err, PP_ERR_INVALID_ARG, "input '%s' is given twice", g->tensors[g->inputs[idx]].name);
            break;
        }
        given[idx] = path;
        rc = list_files(path, &lists[idx], &counts[idx], err);
    }
    for (int i = 0; !rc && i < g->n_inputs; i++) {
        if (!given[i])
            rc = pp_error_set(err, PP_ERR_INVALID_ARG,
                              "input '%s' is not given (a chunked run reads every input from --input)",
                              g->tensors[g->inputs[i]].name);
        else if (counts[i] != counts[0])
            rc = pp_error_set(err, PP_ERR_INVALID_ARG, "input '%s' has %d files in %s but input '%s' has %d in %s",
                              g->tensors[g->inputs[i]].name, counts[i], given[i], g->tensors[g->inputs[0]].name,
                              counts[0], given[0]);
    }
    if (!rc) {
        ds->n_inputs = g->n_inputs;
        ds->n_files = counts[0];
        ds->chunk_items = chunk_items;
        rc = alloc_files(ds, err);
    }
    for (int i = 0; !rc && i < g->n_inputs; i++)
        for (int j = 0; j < ds->n_files; j++) {
            ds->paths[i * ds->n_files + j] = lists[i][j];
            lists[i][j] = NULL;
        }
    for (int j = 0; !rc && j < ds->n_files; j++)
        for (int i = 0; !rc && i < g->n_inputs; i++) rc = check_file(g, ds, i, j, err);
    if (!rc) rc = cut_chunks(ds, err);
    for (int i = 0; lists && i < g->n_inputs; i++) {
        for (int j = 0; j < counts[i]; j++) free(lists[i][j]);
        free(lists[i]);
    }
    free(lists);
    free(counts);
    free(given);
    if (rc) pp_dataset_free(ds);
    return rc;
}

pp_code pp_dataset_read(const pp_dataset *ds, int64_t c, void *const *bufs, pp_error *err) {
    if (c < 0 || c >= ds->n_chunks)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "chunk %lld is outside 0..%lld", (long long)c,
                            (long long)ds->n_chunks - 1);
    int j = ds->chunk_file[c];
    for (int i = 0; i < ds->n_inputs; i++) {
        const pp_npy *h = &ds->headers[i * ds->n_files + j];
        int64_t rows = h->dims[0] / ds->file_items[j]; /* rows per item */
        pp_code rc = pp_npy_read_rows(ds->paths[i * ds->n_files + j], h, ds->offsets[i * ds->n_files + j],
                                      ds->chunk_first[c] * rows, ds->chunk_count[c] * rows, bufs[i], err);
        if (rc) return rc;
    }
    return PP_OK;
}

/* ---- packing: native byte order, as every rank of a job runs the same build ---- */

typedef struct packer {
    char *p;
    size_t n, cap;
    int bad;
} packer;

static void put(packer *k, const void *v, size_t n) {
    if (k->bad) return;
    if (k->n + n > k->cap) {
        size_t cap = (k->cap ? k->cap * 2 : 4096) + n;
        char *np = realloc(k->p, cap);
        if (!np) {
            k->bad = 1;
            return;
        }
        k->p = np;
        k->cap = cap;
    }
    memcpy(k->p + k->n, v, n);
    k->n += n;
}

static const char pack_magic[8] = "PPDSET1";

pp_code pp_dataset_pack(const pp_dataset *ds, char **bytes, size_t *n, pp_error *err) {
    packer k = {0};
    put(&k, pack_magic, sizeof pack_magic);
    put(&k, &ds->n_inputs, sizeof ds->n_inputs);
    put(&k, &ds->n_files, sizeof ds->n_files);
    put(&k, &ds->chunk_items, sizeof ds->chunk_items);
    put(&k, ds->file_items, sizeof *ds->file_items * (size_t)ds->n_files);
    put(&k, ds->item_bytes, sizeof *ds->item_bytes * (size_t)ds->n_inputs);
    for (int f = 0; f < ds->n_inputs * ds->n_files; f++) {
        uint64_t len = strlen(ds->paths[f]);
        put(&k, &len, sizeof len);
        put(&k, ds->paths[f], len);
        put(&k, &ds->headers[f], sizeof ds->headers[f]);
        put(&k, &ds->offsets[f], sizeof ds->offsets[f]);
    }
    if (k.bad) {
        free(k.p);
        return pp_error_nomem(err, "dataset: out of memory packing %d files", ds->n_inputs * ds->n_files);
    }
    *bytes = k.p;
    *n = k.n;
    return PP_OK;
}

static int take(const char **p, const char *end, void *v, size_t n) {
    if ((size_t)(end - *p) < n) return -1;
    memcpy(v, *p, n);
    *p += n;
    return 0;
}

pp_code pp_dataset_unpack(const char *bytes, size_t n, pp_dataset *ds, pp_error *err) {
    memset(ds, 0, sizeof *ds);
    const char *p = bytes, *end = bytes + n;
    char magic[8];
    if (take(&p, end, magic, sizeof magic) || memcmp(magic, pack_magic, sizeof magic) ||
        take(&p, end, &ds->n_inputs, sizeof ds->n_inputs) || take(&p, end, &ds->n_files, sizeof ds->n_files) ||
        take(&p, end, &ds->chunk_items, sizeof ds->chunk_items) || ds->n_inputs < 1 || ds->n_files < 1 ||
        ds->chunk_items < 1)
        return pp_error_set(err, PP_ERR_FORMAT, "the input list from rank 0 is malformed");
    pp_code rc = alloc_files(ds, err);
    if (!rc && (take(&p, end, ds->file_items, sizeof *ds->file_items * (size_t)ds->n_files) ||
                take(&p, end, ds->item_bytes, sizeof *ds->item_bytes * (size_t)ds->n_inputs)))
        rc = pp_error_set(err, PP_ERR_FORMAT, "the input list from rank 0 is truncated");
    for (int f = 0; !rc && f < ds->n_inputs * ds->n_files; f++) {
        uint64_t len;
        if (take(&p, end, &len, sizeof len) || len > (uint64_t)(end - p) || !(ds->paths[f] = malloc(len + 1)) ||
            take(&p, end, ds->paths[f], len) || take(&p, end, &ds->headers[f], sizeof ds->headers[f]) ||
            take(&p, end, &ds->offsets[f], sizeof ds->offsets[f])) {
            rc = pp_error_set(err, PP_ERR_FORMAT, "the input list from rank 0 is truncated at file %d", f);
            break;
        }
        ds->paths[f][len] = 0;
        ds->headers[f].data = NULL;
    }
    if (!rc) rc = cut_chunks(ds, err);
    if (rc) pp_dataset_free(ds);
    return rc;
}

pp_code pp_dataset_describe(const pp_dataset *ds, const pp_graph *g, FILE *f, pp_error *err) {
    for (int i = 0; i < ds->n_inputs; i++)
        for (int j = 0; j < ds->n_files; j++) {
            const char *path = ds->paths[i * ds->n_files + j];
            struct stat st;
            if (stat(path, &st) != 0) return pp_error_set(err, PP_ERR_IO, "%s: stat: %s", path, strerror(errno));
            fprintf(f, "input %s %s %lld %lld.%09ld\n", g->tensors[g->inputs[i]].name, path, (long long)st.st_size,
                    (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
        }
    return PP_OK;
}

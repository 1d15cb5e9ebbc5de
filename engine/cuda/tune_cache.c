/* tune_cache.c: the choices a CUDA backend made by timing (which cuDNN engine,
 * which legacy algorithm, which kernel runs a convolution of a given shape),
 * kept in memory and, optionally, in a file beside graph.bin, so a second load
 * times nothing.
 *
 * The file is text, one choice per line, three fields separated by tabs:
 *
 *   DEVICE  KEY  VALUE
 *
 * DEVICE names what a choice depends on besides the shape: the GPU's name and
 * compute capability, the driver, cuDNN and cuBLASLt versions
 * ("NVIDIA H200|cc 9.0|driver 13000|cudnn 91900|cublaslt 130100"). Lines for
 * other devices are kept when the file is rewritten, so one file serves
 * several machines; lines it cannot read are dropped. KEY describes the
 * operation (conv_cudnn.c: shape, format, fused epilogue, precision); VALUE the
 * choice. Each new choice rewrites the file through a temporary file and a
 * rename, re-reading it first, so two engines sharing the file lose nothing but
 * a race on the same key. A file that cannot be written leaves the choice in
 * memory and the reason in pp_tune_cache_problem (the engine still runs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../loader/atomic.h"
#include "tune_cache.h"

typedef struct entry {
    char *dev, *key, *value;
} entry;

struct pp_tune_cache {
    char *path; /* NULL: memory only */
    char *dev;
    entry *e;
    int n, cap;
    char problem[PP_ERROR_MSG_MAX];
};

static char *dup_str(const char *s, size_t n) {
    char *d = pp_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static void entries_free(entry *e, int n) {
    for (int i = 0; i < n; i++) {
        pp_free(e[i].dev);
        pp_free(e[i].key);
        pp_free(e[i].value);
    }
    pp_free(e);
}

static int find(const entry *e, int n, const char *dev, const char *key) {
    for (int i = 0; i < n; i++)
        if (!strcmp(e[i].dev, dev) && !strcmp(e[i].key, key)) return i;
    return -1;
}

/* Sets (dev, key) to value in the array, adding an entry; 0 or -1 (memory). */
static int set(entry **e, int *n, int *cap, const char *dev, const char *key, const char *value) {
    int i = find(*e, *n, dev, key);
    char *v = dup_str(value, strlen(value));
    if (!v) return -1;
    if (i >= 0) {
        pp_free((*e)[i].value);
        (*e)[i].value = v;
        return 0;
    }
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 32;
        entry *ne = pp_realloc(*e, sizeof *ne * (size_t)nc);
        if (!ne) {
            pp_free(v);
            return -1;
        }
        *e = ne;
        *cap = nc;
    }
    entry *x = &(*e)[*n];
    x->dev = dup_str(dev, strlen(dev));
    x->key = dup_str(key, strlen(key));
    x->value = v;
    if (!x->dev || !x->key) {
        pp_free(x->dev);
        pp_free(x->key);
        pp_free(v);
        return -1;
    }
    (*n)++;
    return 0;
}

/* Reads every well-formed line of path into (*e, *n); a missing file is empty. */
static int read_file(const char *path, entry **e, int *n, int *cap) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[2048];
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') line[--len] = 0;
        if (line[0] == '#' || !len) continue;
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t1 || !t2 || strchr(t2 + 1, '\t')) continue;
        *t1 = *t2 = 0;
        rc = set(e, n, cap, line, t1 + 1, t2 + 1);
    }
    fclose(f);
    return rc;
}

pp_code pp_tune_cache_open(const char *path, const char *device, pp_tune_cache **out, pp_error *err) {
    *out = NULL;
    pp_tune_cache *c = pp_calloc(1, sizeof *c);
    if (!c) return pp_error_nomem(err, "out of memory for the tuning cache");
    c->dev = dup_str(device, strlen(device));
    c->path = path && *path ? dup_str(path, strlen(path)) : NULL;
    if (!c->dev || (path && *path && !c->path) || (c->path && read_file(c->path, &c->e, &c->n, &c->cap))) {
        pp_tune_cache_free(c);
        return pp_error_nomem(err, "out of memory reading the tuning cache %s", path);
    }
    *out = c;
    return PP_OK;
}

void pp_tune_cache_free(pp_tune_cache *c) {
    if (!c) return;
    entries_free(c->e, c->n);
    pp_free(c->path);
    pp_free(c->dev);
    pp_free(c);
}

const char *pp_tune_cache_get(const pp_tune_cache *c, const char *key) {
    if (!c) return NULL;
    int i = find(c->e, c->n, c->dev, key);
    return i >= 0 ? c->e[i].value : NULL;
}

/* Re-reads the file, applies this cache's entries over it, writes it back. */
static pp_code save(pp_tune_cache *c, pp_error *err) {
    entry *e = NULL;
    int n = 0, cap = 0;
    pp_code rc = PP_OK;
    if (read_file(c->path, &e, &n, &cap)) rc = pp_error_nomem(err, "out of memory");
    for (int i = 0; !rc && i < c->n; i++)
        if (set(&e, &n, &cap, c->e[i].dev, c->e[i].key, c->e[i].value)) rc = pp_error_nomem(err, "out of memory");
    pp_afile af;
    if (!rc) rc = pp_afile_open(&af, c->path, err);
    if (!rc) {
        fprintf(af.f, "# ppengine tuning cache (docs/cuda.md): device, key, choice; delete to tune again\n");
        for (int i = 0; i < n; i++) fprintf(af.f, "%s\t%s\t%s\n", e[i].dev, e[i].key, e[i].value);
        rc = pp_afile_commit(&af, err);
    }
    entries_free(e, n);
    return rc;
}

void pp_tune_cache_put(pp_tune_cache *c, const char *key, const char *value) {
    if (!c || strchr(key, '\t') || strchr(key, '\n') || strchr(value, '\t') || strchr(value, '\n')) return;
    if (set(&c->e, &c->n, &c->cap, c->dev, key, value)) {
        snprintf(c->problem, sizeof c->problem, "out of memory for a tuning choice");
        return;
    }
    if (!c->path) return;
    pp_error err;
    if (save(c, &err) != PP_OK) snprintf(c->problem, sizeof c->problem, "%s", err.msg);
}

const char *pp_tune_cache_problem(const pp_tune_cache *c) { return c && c->problem[0] ? c->problem : NULL; }

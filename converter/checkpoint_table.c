/* checkpoint_table.c: the tensor table (checkpoint_table.h). */
#include "checkpoint_table.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const char *pp_ckpt_printable(char *buf, size_t n, const char *s) {
    size_t k = 0;
    for (; s && *s && k + 4 < n; s++) buf[k++] = ((unsigned char)*s < 0x20 || *s == 0x7F) ? '?' : *s;
    if (s && *s) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = 0;
    return buf;
}

void pp_ckpt_free(pp_ckpt *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++) {
        pp_free(c->tensors[i].name);
        pp_free(c->tensors[i].owned);
    }
    pp_free(c->tensors);
    pp_free(c->sorted);
    for (int i = 0; i < c->n_maps; i++)
        if (c->maps[i].addr) munmap(c->maps[i].addr, c->maps[i].size);
    pp_free(c->maps);
    pp_free(c);
}

const pp_ckpt_tensor *pp_ckpt_find(const pp_ckpt *c, const char *name) {
    if (c->sorted && c->n_sorted == c->n) {
        int lo = 0, hi = c->n - 1;
        while (lo <= hi) {
            int mid = lo + (hi - lo) / 2, r = strcmp(c->tensors[c->sorted[mid]].name, name);
            if (!r) return &c->tensors[c->sorted[mid]];
            if (r < 0) lo = mid + 1;
            else hi = mid - 1;
        }
        return NULL;
    }
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->tensors[i].name, name)) return &c->tensors[i];
    return NULL;
}

pp_code pp_ckpt_add(pp_ckpt *c, const char *name, pp_dtype dtype, const char *src_dtype, int rank, const int64_t *dims,
                    const void *data, uint64_t nbytes, void *owned, pp_error *err) {
    if (c->n >= PP_CKPT_MAX_TENSORS) {
        pp_free(owned);
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "more than %d tensors", PP_CKPT_MAX_TENSORS);
    }
    if (c->n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 64;
        pp_ckpt_tensor *t = pp_realloc(c->tensors, (size_t)nc * sizeof *t);
        if (!t) {
            pp_free(owned);
            return pp_error_nomem(err, "out of memory for %d tensors", nc);
        }
        c->tensors = t;
        c->cap = nc;
    }
    pp_ckpt_tensor *t = &c->tensors[c->n];
    memset(t, 0, sizeof *t);
    size_t len = strlen(name);
    if (!(t->name = pp_malloc(len + 1))) {
        pp_free(owned);
        return pp_error_nomem(err, "out of memory");
    }
    memcpy(t->name, name, len + 1);
    t->dtype = dtype;
    t->src_dtype = src_dtype;
    t->rank = rank;
    for (int d = 0; d < rank; d++) t->dims[d] = dims[d];
    t->data = data;
    t->nbytes = nbytes;
    t->owned = owned;
    c->n++;
    return PP_OK;
}

pp_code pp_ckpt_map_file(pp_ckpt *c, const char *path, const uint8_t **data, size_t *size, pp_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pp_error_set(err, PP_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return pp_error_set(err, PP_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return pp_error_set(err, PP_ERR_FORMAT, "%s: the file is empty", path);
    }
    pp_ckpt_map *m = pp_realloc(c->maps, (size_t)(c->n_maps + 1) * sizeof *m);
    if (!m) {
        close(fd);
        return pp_error_nomem(err, "out of memory");
    }
    c->maps = m;
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return pp_error_set(err, PP_ERR_IO, "%s: mmap: %s", path, strerror(errno));
    c->maps[c->n_maps].addr = p;
    c->maps[c->n_maps].size = (size_t)st.st_size;
    c->n_maps++;
    *data = p;
    *size = (size_t)st.st_size;
    return PP_OK;
}

static int cmp_idx_name(const void *a, const void *b, void *arg) {
    const pp_ckpt *c = arg;
    return strcmp(c->tensors[*(const int *)a].name, c->tensors[*(const int *)b].name);
}

pp_code pp_ckpt_index(pp_ckpt *c, const char *what, pp_error *err) {
    pp_free(c->sorted);
    c->sorted = NULL;
    c->n_sorted = 0;
    int *idx = pp_malloc(((size_t)c->n + 1) * sizeof *idx);
    if (!idx) return pp_error_nomem(err, "%s: out of memory for the index of %d tensors", what, c->n);
    for (int i = 0; i < c->n; i++) idx[i] = i;
    qsort_r(idx, (size_t)c->n, sizeof *idx, cmp_idx_name, c);
    for (int i = 1; i < c->n; i++)
        if (!strcmp(c->tensors[idx[i]].name, c->tensors[idx[i - 1]].name)) {
            char nb[160];
            pp_code rc = pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s' appears twice", what,
                                      pp_ckpt_printable(nb, sizeof nb, c->tensors[idx[i]].name));
            pp_free(idx);
            return rc;
        }
    c->sorted = idx;
    c->n_sorted = c->n;
    return PP_OK;
}

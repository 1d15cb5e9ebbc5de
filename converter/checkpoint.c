/* checkpoint.c: opening checkpoints and the converter's face for them
 * (checkpoint.h). */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch.h"
#include "safetensors.h"
#include "torch_ckpt.h"

static const char *printable(char *buf, size_t n, const char *s) {
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
                                      printable(nb, sizeof nb, c->tensors[idx[i]].name));
            pp_free(idx);
            return rc;
        }
    c->sorted = idx;
    c->n_sorted = c->n;
    return PP_OK;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

pp_code pp_ckpt_open(const char *path, pp_ckpt **out, pp_error *err) {
    *out = NULL;
    pp_ckpt *c = pp_calloc(1, sizeof *c);
    if (!c) return pp_error_nomem(err, "out of memory");
    pp_code rc;
    if (ends_with(path, ".index.json")) {
        rc = pp_safetensors_load_index(c, path, err);
    } else {
        const uint8_t *d;
        size_t n;
        rc = pp_ckpt_map_file(c, path, &d, &n, err);
        if (!rc) {
            if (n >= 4 && !memcmp(d, "PK\x03\x04", 4)) rc = pp_torch_load(c, d, n, path, err);
            else if (pp_safetensors_sniff(d, n)) rc = pp_safetensors_load(c, d, n, path, err);
            else if (pp_torch_sniff(d, n)) rc = pp_torch_load(c, d, n, path, err);
            else if (n >= 8 && !memcmp(d, "\x08", 1) && ends_with(path, ".onnx"))
                rc = pp_error_set(err, PP_ERR_INVALID_ARG, "%s: an ONNX model, not a checkpoint", path);
            else
                rc = pp_error_set(
                    err, PP_ERR_FORMAT,
                    "%s: neither a torch.save zip archive nor a safetensors file (first bytes %02X %02X %02X %02X)",
                    path, n > 0 ? d[0] : 0, n > 1 ? d[1] : 0, n > 2 ? d[2] : 0, n > 3 ? d[3] : 0);
        }
    }
    if (rc) {
        pp_ckpt_free(c);
        return rc;
    }
    if (c->n == 0) {
        pp_ckpt_free(c);
        return pp_error_set(err, PP_ERR_FORMAT, "%s: no tensors", path);
    }
    /* DataParallel / DDP: every key under "module.". */
    int all_module = 1;
    for (int i = 0; i < c->n && all_module; i++) all_module = !strncmp(c->tensors[i].name, "module.", 7);
    if (all_module) {
        for (int i = 0; i < c->n; i++)
            memmove(c->tensors[i].name, c->tensors[i].name + 7, strlen(c->tensors[i].name + 7) + 1);
        c->stripped_module = 1;
    }
    /* Unique names, and the index pp_ckpt_find searches. */
    if ((rc = pp_ckpt_index(c, path, err))) {
        pp_ckpt_free(c);
        return rc;
    }
    *out = c;
    return PP_OK;
}

pp_code pp_convert_checkpoint(const char *path, const char *arch, const char *arch_file, pp_graph **out, char *detected,
                              size_t n, pp_error *err) {
    *out = NULL;
    if (detected && n) detected[0] = 0;
    pp_ckpt *c;
    pp_code rc = pp_ckpt_open(path, &c, err);
    if (rc) return rc;
    rc = pp_arch_build(c, arch, arch_file, out, detected, n, err);
    if (rc) {
        if (err) pp_error_prefix(err, "%s", path);
        pp_ckpt_free(c);
        return rc;
    }
    /* The graph borrows the checkpoint's unmodified tensors: it keeps it. */
    (*out)->keep = c;
    (*out)->keep_free = (void (*)(void *))pp_ckpt_free;
    return PP_OK;
}

static const char *dtype_name(pp_dtype d) {
    switch (d) {
    case PP_DTYPE_F32: return "f32";
    case PP_DTYPE_F16: return "f16";
    case PP_DTYPE_BF16: return "bf16";
    case PP_DTYPE_I64: return "i64";
    case PP_DTYPE_I32: return "i32";
    case PP_DTYPE_BOOL: return "bool";
    case PP_DTYPE_U8: return "u8";
    case PP_DTYPE_I8: return "i8";
    case PP_DTYPE_F64: return "f64";
    default: return "?";
    }
}

pp_code pp_inspect_file(const char *path, FILE *out, pp_error *err) {
    pp_ckpt *c;
    pp_code rc = pp_ckpt_open(path, &c, err);
    if (rc) return rc;
    uint64_t params = 0, bytes = 0;
    for (int i = 0; i < c->n; i++) {
        uint64_t ne = 1;
        for (int d = 0; d < c->tensors[i].rank; d++) ne *= (uint64_t)c->tensors[i].dims[d];
        params += ne;
        bytes += c->tensors[i].nbytes;
    }
    fprintf(out, "%s: %s, %d tensors, %" PRIu64 " elements, %" PRIu64 " bytes%s%s%s\n", path, c->format, c->n, params,
            bytes, c->nested[0] ? ", under '" : "", c->nested, c->nested[0] ? "'" : "");
    if (c->stripped_module) fprintf(out, "  (DataParallel 'module.' prefixes stripped)\n");
    for (int i = 0; i < c->n; i++) {
        const pp_ckpt_tensor *t = &c->tensors[i];
        char shape[160], nb[200];
        size_t k = 0;
        k += (size_t)snprintf(shape + k, sizeof shape - k, "(");
        for (int d = 0; d < t->rank && k < sizeof shape; d++)
            k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%" PRId64, d ? ", " : "", t->dims[d]);
        if (k < sizeof shape) snprintf(shape + k, sizeof shape - k, ")");
        fprintf(out, "  %-48s %-5s %-9s %-24s %" PRIu64 " bytes\n", printable(nb, sizeof nb, t->name),
                dtype_name(t->dtype), t->src_dtype ? t->src_dtype : "", shape, t->nbytes);
    }
    char fam[256];
    if (pp_arch_detect(c, fam, sizeof fam) == PP_OK) fprintf(out, "architecture: %s\n", fam);
    else fprintf(out, "architecture: not recognised from the keys (give --arch or an architecture file)\n");
    pp_ckpt_free(c);
    return PP_OK;
}

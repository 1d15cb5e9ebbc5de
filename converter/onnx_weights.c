/* onnx_weights.c: ONNX tensors into graph weights: dtypes, the data fields,
 * external data files (mapped once, never outside the model's folder). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_internal.h"

/* ---- dtypes ------------------------------------------------------------------ */

pp_dtype pp_onnx_dtype(int64_t t) {
    switch (t) {
    case 1: return PP_DTYPE_F32;
    case 2: return PP_DTYPE_U8;
    case 3: return PP_DTYPE_I8;
    case 6: return PP_DTYPE_I32;
    case 7: return PP_DTYPE_I64;
    case 9: return PP_DTYPE_BOOL;
    case 10: return PP_DTYPE_F16;
    case 11: return PP_DTYPE_F64;
    case 16: return PP_DTYPE_BF16;
    default: return PP_DTYPE_INVALID;
    }
}

const char *pp_onnx_dtype_name(int64_t t) {
    static const char *names[] = {
        "UNDEFINED", "FLOAT",      "UINT8",      "INT8",         "UINT16",         "INT16",      "INT32",
        "INT64",     "STRING",     "BOOL",       "FLOAT16",      "DOUBLE",         "UINT32",     "UINT64",
        "COMPLEX64", "COMPLEX128", "BFLOAT16",   "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ",
        "UINT4",     "INT4",       "FLOAT4E2M1", "FLOAT8E8M0",   "UINT2",          "INT2"};
    if (t < 0 || t >= (int64_t)(sizeof names / sizeof names[0])) return "?";
    return names[t];
}

/* ---- files ------------------------------------------------------------------- */

pp_code ox_map_file(const char *path, void **map, size_t *size, pp_error *err) {
    *map = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pp_error_set(err, PP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return pp_error_set(err, PP_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return pp_error_set(err, PP_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return pp_error_set(err, PP_ERR_FORMAT, "%s: the file is empty", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return pp_error_set(err, PP_ERR_IO, "%s: too large to map", path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return pp_error_set(err, PP_ERR_IO, "%s: mmap of %lld bytes failed: %s", path, (long long)st.st_size,
                            strerror(e));
    *map = p;
    *size = (size_t)st.st_size;
    return PP_OK;
}

/* The external data file `location` (relative to the model's folder, never
 * leaving it), mapped once per import. */
static pp_code ext_map(ox_ctx *x, const ox_tensor *t, const uint8_t **data, size_t *size) {
    char b[256];
    const char *loc = t->ext_location;
    if (!x->dir)
        return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                            "initializer '%s': external data, but the model was not "
                            "read from a file",
                            ox_safe(b, sizeof b, t->name));
    if (!loc || !*loc)
        return pp_error_set(x->err, PP_ERR_FORMAT, "initializer '%s' (byte %zu): external data without a location",
                            ox_safe(b, sizeof b, t->name), t->offset);
    int bad = loc[0] == '/' || strchr(loc, '\\') != NULL;
    for (const char *p = loc; !bad && *p;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.') bad = 1;
        p = e ? e + 1 : p + len;
    }
    if (bad)
        return pp_error_set(x->err, PP_ERR_FORMAT,
                            "initializer '%s': external data location '%s' leaves the "
                            "model's folder (absolute paths and '..' are refused)",
                            ox_safe(b, sizeof b, t->name), loc);
    pp_onnx *h = x->h;
    for (int i = 0; i < h->n_ext; i++)
        if (strcmp(h->ext[i].location, loc) == 0) {
            *data = h->ext[i].map;
            *size = h->ext[i].size;
            return PP_OK;
        }
    char *path = ox_printf(x, "%s/%s", x->dir, loc);
    if (!path) return PP_ERR_NOMEM;
    /* A symbolic link may still point outside: compare the resolved paths. */
    char *rdir = realpath(x->dir, NULL), *rpath = realpath(path, NULL);
    pp_code rc = PP_OK;
    if (!rdir || !rpath) {
        rc = pp_error_set(x->err, PP_ERR_IO, "initializer '%s': external data file '%s': %s",
                          ox_safe(b, sizeof b, t->name), path, strerror(errno));
    } else {
        size_t dl = strlen(rdir);
        if (strncmp(rpath, rdir, dl) != 0 || (rpath[dl] != '/' && !(dl == 1 && rdir[0] == '/')))
            rc = pp_error_set(x->err, PP_ERR_FORMAT,
                              "initializer '%s': external data file '%s' resolves outside the "
                              "model's folder",
                              ox_safe(b, sizeof b, t->name), path);
    }
    free(rdir);
    free(rpath);
    if (rc) return rc;
    if (h->n_ext + 1 > h->cap_ext) {
        int nc = h->cap_ext ? h->cap_ext * 2 : 4;
        ox_ext_map *ne = pp_realloc(h->ext, sizeof(ox_ext_map) * (size_t)nc);
        if (!ne) return pp_error_nomem(x->err, "out of memory");
        h->ext = ne;
        h->cap_ext = nc;
    }
    ox_ext_map *m = &h->ext[h->n_ext];
    memset(m, 0, sizeof *m);
    m->location = pp_malloc(strlen(loc) + 1);
    if (!m->location) return pp_error_nomem(x->err, "out of memory");
    strcpy(m->location, loc);
    rc = ox_map_file(path, &m->map, &m->size, x->err);
    if (rc) {
        pp_free(m->location);
        return rc;
    }
    h->n_ext++;
    *data = m->map;
    *size = m->size;
    return PP_OK;
}

/* ---- tensors to weights ------------------------------------------------------ */

/* The dtype, rank and byte size of t, each refused by name when the IR cannot hold it. */
static int weight_shape(ox_ctx *x, const ox_tensor *t, const char *nm, pp_dtype *dt, size_t *numel, size_t *bytes) {
    *dt = pp_onnx_dtype(t->data_type);
    if (*dt == PP_DTYPE_INVALID)
        return pp_error_set(x->err, PP_ERR_UNSUPPORTED,
                            "tensor '%s' (byte %zu): data type %s (%" PRId64 ") is not supported", nm, t->offset,
                            pp_onnx_dtype_name(t->data_type), t->data_type),
               -1;
    if (t->rank > PP_MAX_RANK)
        return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "tensor '%s' (byte %zu): rank %d exceeds %d", nm, t->offset,
                            t->rank, PP_MAX_RANK),
               -1;
    if (t->has_segment)
        return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "tensor '%s' (byte %zu): segmented tensors are not supported",
                            nm, t->offset),
               -1;
    *numel = 1;
    for (int i = 0; i < t->rank; i++)
        if (pp_mul_size(*numel, (size_t)t->dims[i], numel))
            return pp_error_set(x->err, PP_ERR_FORMAT, "tensor '%s' (byte %zu): element count overflows", nm,
                                t->offset),
                   -1;
    if (pp_mul_size(*numel, pp_dtype_size(*dt), bytes))
        return pp_error_set(x->err, PP_ERR_FORMAT, "tensor '%s' (byte %zu): byte size overflows", nm, t->offset), -1;
    return 0;
}

/* External data: the bytes in the mapped file, checked against the shape. */
static int external_bytes(ox_ctx *x, const ox_tensor *t, const char *nm, size_t bytes, const uint8_t **src) {
    const uint8_t *map = NULL;
    size_t size = 0;
    if (ext_map(x, t, &map, &size)) return -1;
    uint64_t off = t->ext_offset < 0 ? 0 : (uint64_t)t->ext_offset;
    uint64_t len = t->ext_length < 0 ? (off <= size ? size - off : 0) : (uint64_t)t->ext_length;
    if (off > size || len > size - off)
        return pp_error_set(x->err, PP_ERR_FORMAT,
                            "tensor '%s': external data [%llu, +%llu) lies beyond the end of '%s' (%zu bytes)", nm,
                            (unsigned long long)off, (unsigned long long)len, t->ext_location, size),
               -1;
    if (len != bytes)
        return pp_error_set(x->err, PP_ERR_FORMAT,
                            "tensor '%s': external data has %llu bytes, its shape and type need %zu", nm,
                            (unsigned long long)len, bytes),
               -1;
    *src = map + off;
    return 0;
}

/* The typed fields (float_data, int32_data, ...): checked against the shape
 * and dtype, and converted into a new buffer *own of `bytes`. */
static int typed_fields(ox_ctx *x, const ox_tensor *t, const char *nm, pp_dtype dt, size_t numel, size_t bytes,
                        void **own) {
    size_t count = 0;
    const char *field = "";
    if (t->f32.n) count = t->f32.n, field = "float_data";
    else if (t->i32.n) count = t->i32.n, field = "int32_data";
    else if (t->i64.n) count = t->i64.n, field = "int64_data";
    else if (t->f64.n) count = t->f64.n, field = "double_data";
    else if (t->u64.n) count = t->u64.n, field = "uint64_data";
    if (count != numel) {
        if (count == 0)
            pp_error_set(x->err, PP_ERR_FORMAT, "tensor '%s' (byte %zu): %zu elements but no data", nm, t->offset,
                         numel);
        else
            pp_error_set(x->err, PP_ERR_FORMAT, "tensor '%s' (byte %zu): %s has %zu values, the shape needs %zu", nm,
                         t->offset, field, count, numel);
        return -1;
    }
    int ok = (t->f32.n && dt == PP_DTYPE_F32) || (t->i64.n && dt == PP_DTYPE_I64) || (t->f64.n && dt == PP_DTYPE_F64) ||
             (t->i32.n && (dt == PP_DTYPE_I32 || dt == PP_DTYPE_I8 || dt == PP_DTYPE_U8 || dt == PP_DTYPE_BOOL ||
                           dt == PP_DTYPE_F16 || dt == PP_DTYPE_BF16)) ||
             numel == 0;
    if (!ok)
        return pp_error_set(x->err, PP_ERR_FORMAT, "tensor '%s' (byte %zu): %s cannot hold type %s", nm, t->offset,
                            field, pp_onnx_dtype_name(t->data_type)),
               -1;
    unsigned char *o = *own = pp_malloc(bytes ? bytes : 1);
    if (!o) return pp_error_set(x->err, PP_ERR_NOMEM, "tensor '%s': out of memory for %zu bytes", nm, bytes), -1;
    for (size_t i = 0; i < numel; i++) {
        switch (dt) {
        case PP_DTYPE_F32: memcpy(o + 4 * i, &t->f32.v[i], 4); break;
        case PP_DTYPE_I64: memcpy(o + 8 * i, &t->i64.v[i], 8); break;
        case PP_DTYPE_F64: memcpy(o + 8 * i, &t->f64.v[i], 8); break;
        case PP_DTYPE_I32: {
            int32_t v = (int32_t)t->i32.v[i];
            memcpy(o + 4 * i, &v, 4);
            break;
        }
        case PP_DTYPE_F16:
        case PP_DTYPE_BF16: {
            uint16_t v = (uint16_t)t->i32.v[i];
            memcpy(o + 2 * i, &v, 2);
            break;
        }
        case PP_DTYPE_BOOL: o[i] = t->i32.v[i] != 0; break;
        default: o[i] = (unsigned char)t->i32.v[i]; break;
        }
    }
    return 0;
}

int ox_tensor_to_weight(ox_ctx *x, const ox_tensor *t, const char *name) {
    char b[256];
    const char *nm = ox_safe(b, sizeof b, name);
    pp_dtype dt;
    size_t numel, bytes;
    if (weight_shape(x, t, nm, &dt, &numel, &bytes)) return -1;
    int ext = t->data_location == 1;
    int sources = (t->has_raw && !ext) + (t->f32.n > 0) + (t->i32.n > 0) + (t->i64.n > 0) + (t->u64.n > 0) +
                  (t->f64.n > 0) + (t->n_strings > 0) + ext;
    if (sources > 1)
        return pp_error_set(x->err, PP_ERR_FORMAT, "tensor '%s' (byte %zu): data in more than one field", nm,
                            t->offset),
               -1;
    const uint8_t *src = NULL; /* bytes that may be borrowed */
    void *own = NULL;          /* or a converted copy */
    if (ext) {
        if (external_bytes(x, t, nm, bytes, &src)) return -1;
    } else if (t->has_raw) {
        if (t->raw_len != bytes)
            return pp_error_set(x->err, PP_ERR_FORMAT,
                                "tensor '%s' (byte %zu): raw_data has %zu bytes, its shape and type need %zu", nm,
                                t->offset, t->raw_len, bytes),
                   -1;
        src = t->raw;
    } else if (t->n_strings) {
        return pp_error_set(x->err, PP_ERR_UNSUPPORTED, "tensor '%s' (byte %zu): string tensors are not supported", nm,
                            t->offset),
               -1;
    } else if (typed_fields(x, t, nm, dt, numel, bytes, &own)) {
        return -1;
    }
    if (src && (numel == 0 || (x->opt && x->opt->copy_weights))) {
        /* Weights stay in the mapping even at odd addresses (a 500 MB model is
         * not copied): whoever reads them as typed arrays (folding, passes, the
         * interpreter, the executor) makes an aligned copy of just those. */
        own = pp_malloc(bytes ? bytes : 1);
        if (!own) return pp_error_set(x->err, PP_ERR_NOMEM, "tensor '%s': out of memory for %zu bytes", nm, bytes), -1;
        if (bytes) memcpy(own, src, bytes);
        src = NULL;
    }
    if (!src && !own && !(own = pp_malloc(1))) /* an empty tensor */
        return pp_error_nomem(x->err, "out of memory"), -1;
    int id = pp_graph_add_tensor(x->g, name, dt, PP_TENSOR_WEIGHT, t->rank, t->dims, x->err);
    if (id < 0) {
        pp_free(own);
        return -1;
    }
    pp_tensor *w = &x->g->tensors[id];
    if (own) {
        w->owned = own;
        w->data = own;
    } else {
        w->data = src;
        x->h->info.borrowed_bytes += bytes;
    }
    w->nbytes = bytes;
    return id;
}

static char *dup_plain(const char *s) {
    char *d = pp_malloc(strlen(s) + 1);
    if (d) strcpy(d, s);
    return d;
}

pp_code pp_onnx_tensor_read(const void *buf, size_t size, pp_onnx_tensor *out, pp_error *err) {
    memset(out, 0, sizeof *out);
    pp_error scratch;
    ox_ctx x;
    memset(&x, 0, sizeof x);
    x.err = err ? err : &scratch;
    x.file = buf;
    x.file_size = size;
    pp_onnx_options o;
    memset(&o, 0, sizeof o);
    o.copy_weights = 1;
    x.opt = &o;
    pp_onnx h;
    memset(&h, 0, sizeof h);
    x.h = &h;
    x.g = pp_graph_new();
    if (!x.g) return pp_error_nomem(x.err, "out of memory");
    pp_pb_cursor cur;
    pp_pb_init(&cur, buf, size, "TensorProto");
    ox_tensor t;
    pp_code rc = ox_parse_tensor(&x, cur, &t);
    if (!rc) {
        int id = ox_tensor_to_weight(&x, &t, t.name);
        if (id < 0) {
            rc = x.err->code ? x.err->code : PP_ERR_FORMAT;
        } else {
            pp_tensor *w = &x.g->tensors[id];
            out->name = dup_plain(t.name);
            if (!out->name) {
                rc = pp_error_nomem(x.err, "out of memory");
            } else {
                out->dtype = w->dtype;
                out->rank = w->rank;
                memcpy(out->dims, w->dims, sizeof out->dims);
                out->data = w->owned;
                out->nbytes = w->nbytes;
                w->owned = NULL;
            }
        }
        ox_tensor_release(&t);
    }
    pp_graph_free(x.g);
    ox_arena_free(&x.arena);
    return rc;
}

void pp_onnx_tensor_free(pp_onnx_tensor *t) {
    if (!t) return;
    pp_free(t->name);
    pp_free(t->data);
    memset(t, 0, sizeof *t);
}

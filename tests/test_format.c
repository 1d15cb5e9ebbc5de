/* test_format.c: graph.bin written, read back and refused when damaged.
 *
 * A reference model exercises every attribute type, weights of several dtypes
 * (a 0-dim scalar, a bool, an empty one), batch dims, metadata and an absent
 * optional input. Corruptions are made on the written bytes; where a structural
 * check is the target, fix_checksums() recomputes every checksum afterwards so
 * that the check itself, not the checksum, has to catch it. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/error.h"
#include "loader/model.h"
#include "support/model_builder.h"

/* ---- the reference model ---------------------------------------------------- */

typedef struct ref_ids {
    uint32_t x, mask, unused, conv_w, conv_b, scale, flags, shape, half, empty, fc_w;
    uint32_t conv_out, relu, scaled, flat, fc_out, nmask, tokens;
} ref_ids;

static float conv_w_data[2 * 3 * 3 * 3], fc_w_data[4 * 32];

static pp_mb *reference(ref_ids *id) {
    pp_mb *b = pp_mb_new();
    cr_assert(b);
    for (size_t i = 0; i < sizeof conv_w_data / sizeof *conv_w_data; i++) conv_w_data[i] = (float)i * 0.125f - 3.0f;
    for (size_t i = 0; i < sizeof fc_w_data / sizeof *fc_w_data; i++) fc_w_data[i] = (float)(i % 7) - 2.5f;
    const float conv_b[2] = {0.5f, -1.0f}, scale = 0.5f;
    const unsigned char flags[5] = {1, 0, 1, 1, 0};
    const int64_t shape[2] = {-1, 32};
    const uint16_t half[4] = {0x3C00, 0xC000, 0x3800, 0x7BFF}; /* 1, -2, 0.5, 65504 */

    id->x = pp_mb_input(b, "x", PP_DTYPE_F32, 4, (int64_t[]){PP_DIM_BATCH, 3, 4, 4});
    id->mask = pp_mb_input(b, "mask", PP_DTYPE_BOOL, 2, (int64_t[]){PP_DIM_BATCH, 5});
    id->unused = pp_mb_input(b, "unused", PP_DTYPE_I64, 1, (int64_t[]){PP_DIM_BATCH});
    id->conv_w = pp_mb_weight(b, "conv.weight", PP_DTYPE_F32, 4, (int64_t[]){2, 3, 3, 3}, conv_w_data);
    id->conv_b = pp_mb_weight(b, "conv.bias", PP_DTYPE_F32, 1, (int64_t[]){2}, conv_b);
    id->scale = pp_mb_weight(b, "scale", PP_DTYPE_F32, 0, NULL, &scale);
    id->flags = pp_mb_weight(b, "flags", PP_DTYPE_BOOL, 1, (int64_t[]){5}, flags);
    id->shape = pp_mb_weight(b, "shape", PP_DTYPE_I64, 1, (int64_t[]){2}, shape);
    id->half = pp_mb_weight(b, "half", PP_DTYPE_F16, 2, (int64_t[]){2, 2}, half);
    id->empty = pp_mb_weight(b, "empty", PP_DTYPE_F32, 2, (int64_t[]){0, 4}, NULL);
    id->fc_w = pp_mb_weight(b, "fc.weight", PP_DTYPE_F32, 2, (int64_t[]){4, 32}, fc_w_data);
    id->conv_out = pp_mb_activation(b, "conv_out", PP_DTYPE_F32, 4, (int64_t[]){PP_DIM_BATCH, 2, 4, 4});
    id->relu = pp_mb_activation(b, "relu", PP_DTYPE_F32, 4, (int64_t[]){PP_DIM_BATCH, 2, 4, 4});
    id->scaled = pp_mb_activation(b, "scaled", PP_DTYPE_F32, 4, (int64_t[]){PP_DIM_BATCH, 2, 4, 4});
    id->flat = pp_mb_activation(b, "flat", PP_DTYPE_F32, 2, (int64_t[]){PP_DIM_BATCH, 32});
    id->fc_out = pp_mb_activation(b, "fc_out", PP_DTYPE_F32, 2, (int64_t[]){PP_DIM_BATCH, 4});
    id->nmask = pp_mb_activation(b, "nmask", PP_DTYPE_BOOL, 2, (int64_t[]){PP_DIM_BATCH, 5});
    id->tokens = pp_mb_activation(b, "tokens", PP_DTYPE_F32, 2, (int64_t[]){-2, 16}); /* (2N, 16) */

    const int64_t kernel[2] = {3, 3}, pads[4] = {1, 1, 1, 1};
    const double scales[3] = {1.0, 0.5, -0.0};
    pp_mb_add_node(b, PP_OP_CONV, "model/conv", PP_MB_IDS(id->x, id->conv_w, id->conv_b), PP_MB_IDS(id->conv_out),
                   PP_MB_ATTRS(pp_mb_attr_ints("kernel_shape", kernel, 2), pp_mb_attr_ints("pads", pads, 4),
                               pp_mb_attr_int("group", 1), pp_mb_attr_string("auto_pad", "NOTSET"),
                               pp_mb_attr_floats("scales", scales, 3), pp_mb_attr_float("alpha", 0.25),
                               pp_mb_attr_ints("perm", NULL, 0), pp_mb_attr_string("empty", "")));
    pp_mb_add_node(b, PP_OP_RELU, "relu", PP_MB_IDS(id->conv_out), PP_MB_IDS(id->relu), PP_MB_NO_ATTRS);
    pp_mb_add_node(b, PP_OP_MUL, "model/mul", PP_MB_IDS(id->relu, id->scale), PP_MB_IDS(id->scaled), PP_MB_NO_ATTRS);
    pp_mb_add_node(b, PP_OP_RESHAPE, "model/reshape", PP_MB_IDS(id->scaled, id->shape), PP_MB_IDS(id->flat),
                   PP_MB_ATTRS(pp_mb_attr_int("allowzero", 0)));
    pp_mb_add_node(b, PP_OP_GEMM, "model/fc", PP_MB_IDS(id->flat, id->fc_w, PP_FMT_NONE), PP_MB_IDS(id->fc_out),
                   PP_MB_ATTRS(pp_mb_attr_int("transB", 1), pp_mb_attr_float("alpha", 1.0),
                               pp_mb_attr_float("beta", 0.0), pp_mb_attr_int("big", INT64_MIN)));
    pp_mb_add_node(b, PP_OP_NOT, "model/not", PP_MB_IDS(id->mask), PP_MB_IDS(id->nmask), PP_MB_NO_ATTRS);
    pp_mb_add_node(b, PP_OP_RESHAPE, "model/tokens", PP_MB_IDS(id->flat, id->shape), PP_MB_IDS(id->tokens),
                   PP_MB_NO_ATTRS);
    pp_mb_add_output(b, id->fc_out);
    pp_mb_add_output(b, id->nmask);
    pp_mb_add_output(b, id->tokens);
    pp_mb_add_meta(b, "producer", "test_format");
    pp_mb_add_meta(b, "opset", "13");
    pp_mb_add_meta(b, "relu", "shares its string with a tensor and a node");
    cr_assert(pp_mb_model(b));
    return b;
}

/* ---- image helpers ------------------------------------------------------------ */

typedef struct img {
    unsigned char *p;
    size_t n;
    ref_ids id;
} img;

static img ref_image(void) {
    img im;
    pp_mb *b = reference(&im.id);
    pp_error err = {0};
    void *data;
    pp_code rc = pp_model_write_memory(pp_mb_model(b), &data, &im.n, &err);
    cr_assert_eq(rc, PP_OK, "write: %s", err.msg);
    pp_mb_free(b);
    im.p = data;
    return im;
}

static pp_fmt_header *hdr(img *im) { return (pp_fmt_header *)(void *)im->p; }

static pp_fmt_section *entry(img *im, uint32_t kind) {
    pp_fmt_section *t = (pp_fmt_section *)(void *)(im->p + sizeof(pp_fmt_header));
    for (uint32_t i = 0; i < hdr(im)->section_count; i++)
        if (t[i].kind == kind) return &t[i];
    cr_assert_fail("no section of kind %u", kind);
    return NULL;
}

static unsigned char *sec(img *im, uint32_t kind) { return im->p + entry(im, kind)->offset; }
static pp_fmt_tensor *tensor_rec(img *im, uint32_t i) {
    return (pp_fmt_tensor *)(void *)(sec(im, PP_SEC_TENSORS) + i * sizeof(pp_fmt_tensor));
}
static pp_fmt_node *node_rec(img *im, uint32_t j) {
    return (pp_fmt_node *)(void *)(sec(im, PP_SEC_NODES) + j * sizeof(pp_fmt_node));
}
static pp_fmt_attr *attr_rec(img *im, uint32_t a) {
    return (pp_fmt_attr *)(void *)(sec(im, PP_SEC_ATTRS) + a * sizeof(pp_fmt_attr));
}
static uint32_t *index_rec(img *im, uint64_t i) { return (uint32_t *)(void *)(sec(im, PP_SEC_INDICES) + 4 * i); }
static pp_fmt_io *io_rec(img *im) { return (pp_fmt_io *)(void *)sec(im, PP_SEC_GRAPH_IO); }
static uint32_t *io_ids(img *im) { return (uint32_t *)(void *)(sec(im, PP_SEC_GRAPH_IO) + sizeof(pp_fmt_io)); }

/* Recomputes every section checksum that lies inside the file, then the header's. */
static void fix_checksums(img *im) {
    pp_fmt_header *h = hdr(im);
    pp_fmt_section *t = (pp_fmt_section *)(void *)(im->p + sizeof *h);
    uint64_t table_end = pp_fmt_align(sizeof *h + (uint64_t)h->section_count * sizeof *t);
    if (table_end > im->n) return;
    for (uint32_t i = 0; i < h->section_count; i++) {
        uint64_t end = pp_fmt_align(t[i].offset + t[i].size);
        if (t[i].offset <= im->n && t[i].size <= im->n && end <= im->n && end >= t[i].offset)
            t[i].checksum = pp_fmt_checksum(im->p + t[i].offset, (size_t)(end - t[i].offset));
    }
    h->header_checksum = 0;
    h->header_checksum = pp_fmt_checksum(im->p, (size_t)table_end);
}

static void refused_as(const void *p, size_t n, unsigned flags, pp_code code, const char *substr) {
    pp_error err = {0};
    pp_model *m = (pp_model *)1;
    pp_code rc = pp_model_load_memory(p, n, flags, &m, &err);
    cr_assert_eq(rc, code, "expected %s, got %s: %s", pp_code_name(code), pp_code_name(rc), err.msg);
    cr_assert_null(m, "a failed load must leave *out NULL");
    cr_assert(strstr(err.msg, substr), "message \"%s\" lacks \"%s\"", err.msg, substr);
    cr_assert(!strchr(err.msg, '\n'), "message is not one line: %s", err.msg);
}

static void refused(img *im, const char *substr) { refused_as(im->p, im->n, 0, PP_ERR_FORMAT, substr); }

/* Fixes the checksums, then expects the structural check naming substr. */
static void refused_fixed(img *im, const char *substr) {
    fix_checksums(im);
    refused(im, substr);
}

/* ---- comparing models ----------------------------------------------------------- */

static const char *nz(const char *s) { return s ? s : ""; }

static void same_model(const pp_model *a, const pp_model *b) {
    cr_assert_eq(a->n_tensors, b->n_tensors);
    cr_assert_eq(a->n_nodes, b->n_nodes);
    cr_assert_eq(a->n_inputs, b->n_inputs);
    cr_assert_eq(a->n_outputs, b->n_outputs);
    cr_assert_eq(a->n_meta, b->n_meta);
    for (uint32_t i = 0; i < a->n_tensors; i++) {
        const pp_model_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        cr_assert_str_eq(nz(x->name), nz(y->name), "tensor %u", i);
        cr_assert_eq(x->dtype, y->dtype, "tensor %u", i);
        cr_assert_eq(x->kind, y->kind, "tensor %u", i);
        cr_assert_eq(x->rank, y->rank, "tensor %u", i);
        for (int k = 0; k < x->rank; k++) cr_assert_eq(x->dims[k], y->dims[k], "tensor %u dim %d", i, k);
        cr_assert_eq(x->nbytes, y->nbytes, "tensor %u", i);
        if (x->nbytes) cr_assert(memcmp(x->data, y->data, (size_t)x->nbytes) == 0, "tensor %u bytes", i);
    }
    for (uint32_t j = 0; j < a->n_nodes; j++) {
        const pp_model_node *x = &a->nodes[j], *y = &b->nodes[j];
        cr_assert_eq(x->op, y->op, "node %u", j);
        cr_assert_str_eq(nz(x->name), nz(y->name), "node %u", j);
        cr_assert_eq(x->n_inputs, y->n_inputs, "node %u", j);
        cr_assert_eq(x->n_outputs, y->n_outputs, "node %u", j);
        cr_assert_eq(x->n_attrs, y->n_attrs, "node %u", j);
        for (uint32_t k = 0; k < x->n_inputs; k++) cr_assert_eq(x->inputs[k], y->inputs[k], "node %u in %u", j, k);
        for (uint32_t k = 0; k < x->n_outputs; k++) cr_assert_eq(x->outputs[k], y->outputs[k], "node %u out %u", j, k);
        for (uint32_t k = 0; k < x->n_attrs; k++) {
            const pp_model_attr *p = &x->attrs[k], *q = &y->attrs[k];
            cr_assert_str_eq(nz(p->name), nz(q->name), "node %u attr %u", j, k);
            cr_assert_eq(p->type, q->type, "node %u attr %u", j, k);
            switch (p->type) {
            case PP_ATTR_INT: cr_assert_eq(p->i, q->i); break;
            case PP_ATTR_FLOAT: cr_assert(memcmp(&p->f, &q->f, sizeof p->f) == 0); break;
            case PP_ATTR_STRING: cr_assert_str_eq(nz(p->s), nz(q->s)); break;
            case PP_ATTR_INTS:
                cr_assert_eq(p->count, q->count);
                if (p->count) cr_assert(memcmp(p->ints, q->ints, p->count * sizeof(int64_t)) == 0);
                break;
            case PP_ATTR_FLOATS:
                cr_assert_eq(p->count, q->count);
                if (p->count) cr_assert(memcmp(p->floats, q->floats, p->count * sizeof(double)) == 0);
                break;
            }
        }
    }
    for (uint32_t k = 0; k < a->n_inputs; k++) cr_assert_eq(a->inputs[k], b->inputs[k]);
    for (uint32_t k = 0; k < a->n_outputs; k++) cr_assert_eq(a->outputs[k], b->outputs[k]);
    for (uint32_t k = 0; k < a->n_meta; k++) {
        cr_assert_str_eq(nz(a->meta[k].key), nz(b->meta[k].key));
        cr_assert_str_eq(nz(a->meta[k].value), nz(b->meta[k].value));
    }
}

/* Reads every byte the model exposes, so that ASan sees any pointer that strays. */
static uint64_t touch_all(const pp_model *m) {
    uint64_t acc = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const pp_model_tensor *t = &m->tensors[i];
        acc += strlen(t->name);
        for (uint64_t e = 0; e < t->nbytes; e++) acc += ((const unsigned char *)t->data)[e];
    }
    for (uint32_t j = 0; j < m->n_nodes; j++) {
        const pp_model_node *n = &m->nodes[j];
        acc += strlen(n->name) + (uint64_t)n->op;
        for (uint32_t k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] != PP_FMT_NONE) acc += m->tensors[n->inputs[k]].rank;
        for (uint32_t k = 0; k < n->n_outputs; k++) acc += m->tensors[n->outputs[k]].rank;
        for (uint32_t k = 0; k < n->n_attrs; k++) {
            const pp_model_attr *a = &n->attrs[k];
            acc += strlen(a->name);
            if (a->type == PP_ATTR_STRING) acc += strlen(a->s);
            for (uint32_t v = 0; v < a->count; v++) {
                uint64_t bits;
                memcpy(&bits, a->type == PP_ATTR_INTS ? (const void *)&a->ints[v] : (const void *)&a->floats[v], 8);
                acc += bits;
            }
        }
    }
    for (uint32_t k = 0; k < m->n_inputs; k++) acc += m->tensors[m->inputs[k]].rank;
    for (uint32_t k = 0; k < m->n_outputs; k++) acc += m->tensors[m->outputs[k]].rank;
    for (uint32_t k = 0; k < m->n_meta; k++) acc += strlen(m->meta[k].key) + strlen(m->meta[k].value);
    return acc;
}

static char tmpdir[256];

static void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pp_test_format.XXXXXX");
    cr_assert(mkdtemp(tmpdir), "mkdtemp");
}

/* Files in tmpdir other than . and .. */
static int count_files(void) {
    DIR *d = opendir(tmpdir);
    cr_assert(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void remove_tmpdir(void) {
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    char p[600];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(tmpdir);
}

/* ---- round trips ------------------------------------------------------------------ */

Test(format, round_trip_memory) {
    ref_ids id;
    pp_mb *b = reference(&id);
    const pp_model *src = pp_mb_model(b);
    pp_error err = {0};
    void *data;
    size_t size;
    cr_assert_eq(pp_model_write_memory(src, &data, &size, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(size % PP_FMT_ALIGN, 0);

    /* A 64-aligned buffer is used in place: every pointer lands inside it. */
    void *aligned;
    cr_assert_eq(posix_memalign(&aligned, 64, size), 0);
    memcpy(aligned, data, size);
    pp_model *m = NULL;
    cr_assert_eq(pp_model_load_memory(aligned, size, 0, &m, &err), PP_OK, "%s", err.msg);
    same_model(src, m);
    cr_assert_eq(m->version_major, PP_FMT_VERSION_MAJOR);
    cr_assert_eq(m->version_minor, PP_FMT_VERSION_MINOR);
    const unsigned char *lo = aligned, *hi = lo + size;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const pp_model_tensor *t = &m->tensors[i];
        cr_assert((const unsigned char *)t->name >= lo && (const unsigned char *)t->name < hi, "name %u", i);
        if (t->kind != PP_TENSOR_WEIGHT) {
            cr_assert_null(t->data);
            continue;
        }
        cr_assert_eq((uintptr_t)t->data % PP_FMT_ALIGN, 0, "weight %u not 64-aligned", i);
        cr_assert((const unsigned char *)t->data >= lo && (const unsigned char *)t->data + t->nbytes <= hi,
                  "weight %u outside the buffer", i);
    }
    cr_assert_eq(m->tensors[id.scale].rank, 0);
    cr_assert_eq(m->tensors[id.scale].nbytes, 4);
    cr_assert_float_eq(*(const float *)m->tensors[id.scale].data, 0.5f, 0);
    cr_assert_eq(m->tensors[id.empty].nbytes, 0);
    cr_assert_eq(m->tensors[id.tokens].dims[0], -2);
    cr_assert_eq(m->nodes[4].inputs[2], PP_FMT_NONE);
    cr_assert_str_eq(pp_model_meta_get(m, "producer"), "test_format");
    cr_assert_str_eq(pp_model_meta_get(m, "opset"), "13");
    cr_assert_null(pp_model_meta_get(m, "absent"));
    /* Strings are stored once: the tensor "relu", the node "relu" and the key "relu". */
    cr_assert_eq(m->tensors[id.relu].name, m->nodes[1].name);
    cr_assert_eq(m->tensors[id.relu].name, m->meta[2].key);

    /* Writing what was read gives the same bytes. */
    void *again;
    size_t again_size;
    cr_assert_eq(pp_model_write_memory(m, &again, &again_size, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(again_size, size);
    cr_assert(memcmp(again, data, size) == 0, "write(read(write(m))) differs from write(m)");
    pp_free(again);
    pp_model_free(m);

    /* A misaligned buffer still yields 64-aligned weights (from an aligned copy). */
    unsigned char *odd = malloc(size + 8);
    memcpy(odd + 8 + ((uintptr_t)(odd + 8) % 64 == 0), data, size);
    const unsigned char *src_bytes = odd + 8 + ((uintptr_t)(odd + 8) % 64 == 0);
    cr_assert_neq((uintptr_t)src_bytes % 64, 0);
    cr_assert_eq(pp_model_load_memory(src_bytes, size, 0, &m, &err), PP_OK, "%s", err.msg);
    same_model(src, m);
    for (uint32_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].kind == PP_TENSOR_WEIGHT)
            cr_assert_eq((uintptr_t)m->tensors[i].data % PP_FMT_ALIGN, 0, "weight %u", i);
    pp_model_free(m);
    free(odd);
    free(aligned);
    pp_free(data);
    pp_mb_free(b);
}

Test(format, round_trip_file) {
    make_tmpdir();
    ref_ids id;
    pp_mb *b = reference(&id);
    const pp_model *src = pp_mb_model(b);
    char path[400];
    snprintf(path, sizeof path, "%s/model.bin", tmpdir);
    pp_error err = {0};
    cr_assert_eq(pp_model_write(src, path, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(count_files(), 1, "the temporary file was left behind");
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644);

    void *mem;
    size_t mem_size;
    cr_assert_eq(pp_model_write_memory(src, &mem, &mem_size, &err), PP_OK);
    cr_assert_eq((size_t)st.st_size, mem_size);
    FILE *f = fopen(path, "rb");
    unsigned char *disk = malloc(mem_size);
    cr_assert_eq(fread(disk, 1, mem_size, f), mem_size);
    fclose(f);
    cr_assert(memcmp(disk, mem, mem_size) == 0, "file and memory writers disagree");
    free(disk);
    pp_free(mem);

    for (unsigned flags = 0; flags <= PP_LOAD_SKIP_DATA_CHECKSUM; flags += PP_LOAD_SKIP_DATA_CHECKSUM) {
        pp_model *m = NULL;
        cr_assert_eq(pp_model_load(path, flags, &m, &err), PP_OK, "%s", err.msg);
        same_model(src, m);
        const char *first_name = m->tensors[0].name;
        for (uint32_t i = 0; i < m->n_tensors; i++) {
            const pp_model_tensor *t = &m->tensors[i];
            if (t->kind != PP_TENSOR_WEIGHT) continue;
            cr_assert_eq((uintptr_t)t->data % PP_FMT_ALIGN, 0, "weight %u", i);
            /* Names and weights come from the same mapping of mem_size bytes. */
            ptrdiff_t d = (const char *)t->data - first_name;
            cr_assert(d > 0 && (size_t)d < mem_size, "weight %u is not in the mapping", i);
        }
        pp_model_free(m);
    }
    pp_model *m = (pp_model *)1;
    snprintf(path, sizeof path, "%s/absent.bin", tmpdir);
    cr_assert_eq(pp_model_load(path, 0, &m, &err), PP_ERR_IO);
    cr_assert_null(m);
    cr_assert(strstr(err.msg, "absent.bin"), "%s", err.msg);
    cr_assert_eq(pp_model_load(tmpdir, 0, &m, &err), PP_ERR_IO);
    cr_assert(strstr(err.msg, "not a regular file"), "%s", err.msg);
    pp_mb_free(b);
    remove_tmpdir();
}

Test(format, null_error_keeps_the_code) {
    img im = ref_image();
    pp_model *m;
    im.p[0] ^= 1;
    cr_assert_eq(pp_model_load_memory(im.p, im.n, 0, &m, NULL), PP_ERR_FORMAT);
    make_tmpdir();
    char path[400];
    snprintf(path, sizeof path, "%s/bad.bin", tmpdir);
    FILE *f = fopen(path, "wb");
    fwrite(im.p, 1, im.n, f);
    fclose(f);
    cr_assert_eq(pp_model_load(path, 0, &m, NULL), PP_ERR_FORMAT);
    cr_assert_null(m);
    remove_tmpdir();
    pp_free(im.p);
}

Test(format, empty_model) {
    pp_mb *b = pp_mb_new();
    pp_error err = {0};
    void *data;
    size_t size;
    cr_assert_eq(pp_model_write_memory(pp_mb_model(b), &data, &size, &err), PP_OK, "%s", err.msg);
    pp_model *m = NULL;
    cr_assert_eq(pp_model_load_memory(data, size, 0, &m, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(m->n_tensors + m->n_nodes + m->n_inputs + m->n_outputs + m->n_meta, 0);
    pp_model_free(m);
    pp_free(data);
    pp_mb_free(b);
}

Test(format, names_and_sizes) {
    cr_assert_eq(pp_dtype_size(PP_DTYPE_F32), 4);
    cr_assert_eq(pp_dtype_size(PP_DTYPE_BF16), 2);
    cr_assert_eq(pp_dtype_size(PP_DTYPE_F64), 8);
    cr_assert_eq(pp_dtype_size(PP_DTYPE_INVALID), 0);
    cr_assert_eq(pp_dtype_size((pp_dtype)200), 0);
    for (int d = 1; d < PP_DTYPE_COUNT; d++) cr_assert_eq((int)pp_dtype_from_name(pp_dtype_name((pp_dtype)d)), d);
    cr_assert_eq(pp_dtype_from_name("f128"), PP_DTYPE_INVALID);
    cr_assert_str_eq(pp_dtype_name((pp_dtype)99), "invalid");
    cr_assert_str_eq(pp_op_name(PP_OP_CONV), "CONV");
    cr_assert_str_eq(pp_op_name(PP_OP_LEAKY_RELU), "LEAKY_RELU");
    cr_assert_null(pp_op_name((pp_op)7));
    cr_assert_null(pp_op_name(PP_OP_INVALID));
    cr_assert_eq(pp_op_from_name("LeakyRelu"), PP_OP_LEAKY_RELU);
    cr_assert_eq(pp_op_from_name("conv"), PP_OP_CONV);
    cr_assert_eq(pp_op_from_name("GlobalAvgpool"), PP_OP_GLOBAL_AVGPOOL);
    cr_assert_eq(pp_op_from_name("NoSuchOp"), PP_OP_INVALID);
    cr_assert_eq(pp_op_from_name(""), PP_OP_INVALID);
    for (int op = 0; op <= PP_OP_MAX_VALUE; op++) {
        const char *n = pp_op_name((pp_op)op);
        if (n) cr_assert_eq((int)pp_op_from_name(n), op, "op %d '%s' does not round trip", op, n);
    }
}

Test(format, checksum) {
    /* Reference values, also printed in docs/format.md for other implementations. */
    cr_assert_eq(pp_fmt_checksum("", 0), 0x2b8b1ade776d0acbull);
    cr_assert_eq(pp_fmt_checksum("abc", 3), 0x43c0b73c241301b0ull);
    unsigned char buf[300];
    for (int i = 0; i < 300; i++) buf[i] = (unsigned char)i;
    cr_assert_eq(pp_fmt_checksum(buf, 32), 0x36bec348b1cada0bull);
    cr_assert_eq(pp_fmt_checksum(buf, 100), 0xd48253c5f8f332aaull);
    cr_assert_eq(pp_fmt_checksum(NULL, 0), 0x2b8b1ade776d0acbull);
    /* Every single-bit flip, at every length that exercises the tail paths. */
    for (size_t n = 1; n <= 100; n += 33) {
        uint64_t h = pp_fmt_checksum(buf, n);
        for (size_t bit = 0; bit < n * 8; bit++) {
            buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            cr_assert_neq(pp_fmt_checksum(buf, n), h, "flip of bit %zu of %zu bytes undetected", bit, n);
            buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        }
    }
    /* Appending zeros changes it (the length is mixed in). */
    unsigned char z[64] = {0};
    for (size_t n = 0; n < 64; n++) cr_assert_neq(pp_fmt_checksum(z, n), pp_fmt_checksum(z, n + 1), "length %zu", n);
}

/* ---- corruptions: whole-file sweeps --------------------------------------------------- */

Test(corrupt, truncation_everywhere) {
    img im = ref_image();
    pp_fmt_section *t = (pp_fmt_section *)(void *)(im.p + sizeof(pp_fmt_header));
    size_t cuts[256];
    size_t nc = 0;
    size_t fixed[] = {0, 1, 8, 63, 64, 65, 96, 383, 384, 385, im.n - 64, im.n - 1};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) cuts[nc++] = fixed[i];
    for (uint32_t i = 0; i < hdr(&im)->section_count; i++) {
        uint64_t o = t[i].offset, s = t[i].size;
        uint64_t c[] = {o, o + 1, o + s / 2, o + s, o + s + 1, pp_fmt_align(o + s) - 1};
        for (size_t k = 0; k < 6; k++)
            if (c[k] < im.n) cuts[nc++] = (size_t)c[k];
    }
    for (size_t i = 0; i < nc; i++) {
        size_t n = cuts[i];
        if (n < sizeof(pp_fmt_header)) refused_as(im.p, n, 0, PP_ERR_FORMAT, "shorter than the 64-byte header");
        else refused_as(im.p, n, 0, PP_ERR_FORMAT, "file_size says");
        /* The checksum flag must not let a short file through. */
        pp_error err;
        pp_model *m;
        cr_assert_neq(pp_model_load_memory(im.p, n, PP_LOAD_SKIP_DATA_CHECKSUM, &m, &err), PP_OK, "cut %zu", n);
    }
    /* And from disk, where the mapping is exactly the short file. */
    make_tmpdir();
    char path[400];
    snprintf(path, sizeof path, "%s/short.bin", tmpdir);
    size_t disk_cuts[] = {0, 10, 64, 500, im.n - 1};
    for (size_t i = 0; i < sizeof disk_cuts / sizeof *disk_cuts; i++) {
        FILE *f = fopen(path, "wb");
        fwrite(im.p, 1, disk_cuts[i], f);
        fclose(f);
        pp_error err = {0};
        pp_model *m = (pp_model *)1;
        cr_assert_eq(pp_model_load(path, 0, &m, &err), PP_ERR_FORMAT, "cut %zu: %s", disk_cuts[i], err.msg);
        cr_assert_null(m);
        cr_assert(strstr(err.msg, "short.bin: header"), "%s", err.msg);
    }
    remove_tmpdir();
    pp_free(im.p);
}

Test(corrupt, every_bit_flip) {
    img im = ref_image();
    size_t flips = 0;
    for (size_t byte = 0; byte < im.n; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            im.p[byte] ^= (unsigned char)(1u << bit);
            pp_error err = {0};
            pp_model *m = NULL;
            pp_code rc = pp_model_load_memory(im.p, im.n, 0, &m, &err);
            cr_assert_neq(rc, PP_OK, "flip of bit %d at byte %zu was not detected", bit, byte);
            cr_assert_null(m);
            im.p[byte] ^= (unsigned char)(1u << bit);
            flips++;
        }
    }
    cr_assert_eq(flips, im.n * 8);
    pp_free(im.p);
}

/* Every padding byte, set nonzero with all checksums fixed, is still refused. */
Test(corrupt, padding_with_fixed_checksums) {
    img im = ref_image();
    pp_fmt_section *t = (pp_fmt_section *)(void *)(im.p + sizeof(pp_fmt_header));
    uint32_t count = hdr(&im)->section_count;
    size_t tested = 0;
    uint64_t table_end = sizeof(pp_fmt_header) + count * sizeof(pp_fmt_section);
    for (uint64_t b = table_end; b < pp_fmt_align(table_end); b++, tested++) {
        im.p[b] = 0x20;
        refused_fixed(&im, "padding after the table is not zero");
        im.p[b] = 0;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint64_t end = t[i].offset + t[i].size;
        for (uint64_t b = end; b < pp_fmt_align(end); b++, tested++) {
            im.p[b] = 0x01;
            fix_checksums(&im);
            /* The DATA checksum flag skips the checksum, never the padding check. */
            refused_as(im.p, im.n, PP_LOAD_SKIP_DATA_CHECKSUM, PP_ERR_FORMAT, "padding byte after the section");
            refused(&im, "padding byte after the section");
            im.p[b] = 0;
        }
    }
    cr_assert_gt(tested, 100);
    fix_checksums(&im);
    pp_model *m;
    pp_error err;
    cr_assert_eq(pp_model_load_memory(im.p, im.n, 0, &m, &err), PP_OK, "%s", err.msg);
    pp_model_free(m);
    pp_free(im.p);
}

/* Random edits after the header, checksums fixed: whatever the loader decides,
 * it must not crash or read out of bounds (ASan watches), and a model it accepts
 * must be fully readable. Most edits land in the tables (not DATA) and many
 * write plausible small integers, so that they get past the first checks. */
static uint64_t xorshift(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(corrupt, random_edits_never_crash) {
    img im = ref_image();
    unsigned char *orig = malloc(im.n);
    memcpy(orig, im.p, im.n);
    size_t tables_end = (size_t)entry(&im, PP_SEC_DATA)->offset;
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    int accepted = 0;
    const int iters = 30000;
    for (int iter = 0; iter < iters; iter++) {
        memcpy(im.p, orig, im.n);
        int edits = 1 + (int)(xorshift(&rng) % 3);
        for (int e = 0; e < edits; e++) {
            uint64_t r = xorshift(&rng);
            size_t span = (r & 3) ? tables_end - 64 : im.n - 64;
            size_t at = 64 + (size_t)(xorshift(&rng) % span);
            uint64_t v = xorshift(&rng);
            switch (r >> 60) {
            case 0:
            case 1: im.p[at] = 0; break;
            case 2: im.p[at] = 0xFF; break;
            case 3:
            case 4: im.p[at] = (unsigned char)(im.p[at] + 1); break;
            case 5:
            case 6: im.p[at] = (unsigned char)(im.p[at] - 1); break;
            case 7:
            case 8: im.p[at] = (unsigned char)v; break;
            default: {
                /* A small or boundary u32 at a 4-aligned position: a plausible id, count or offset. */
                static const uint32_t special[] = {0, 1, 2, 17, 18, 63, 64, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF};
                uint32_t w = (v & 1) ? special[(v >> 8) % 10] : (uint32_t)((v >> 8) % (im.n + 64));
                at &= ~(size_t)3;
                if (at + 4 <= im.n) memcpy(im.p + at, &w, 4);
                break;
            }
            }
        }
        fix_checksums(&im);
        pp_error err = {0};
        pp_model *m = NULL;
        pp_code rc = pp_model_load_memory(im.p, im.n, 0, &m, &err);
        if (rc == PP_OK) {
            accepted++;
            (void)touch_all(m);
            pp_model_free(m);
        } else {
            cr_assert_null(m);
            cr_assert(err.msg[0], "failure without a message");
            cr_assert(rc == PP_ERR_FORMAT || rc == PP_ERR_UNSUPPORTED, "%s: %s", pp_code_name(rc), err.msg);
        }
    }
    cr_log_info("random edits: %d of %d accepted", accepted, iters);
    free(orig);
    pp_free(im.p);
}

Test(corrupt, allocation_failures_leak_nothing) {
    img im = ref_image();
    int ok_seen = 0;
    for (long nth = 1; nth < 20 && !ok_seen; nth++) {
        pp_fault_arm_alloc(nth);
        pp_error err = {0};
        pp_model *m = NULL;
        pp_code rc = pp_model_load_memory(im.p + 0, im.n, 0, &m, &err);
        pp_fault_arm_alloc(0);
        if (rc == PP_OK) {
            ok_seen = 1;
            pp_model_free(m);
        } else {
            cr_assert_eq(rc, PP_ERR_NOMEM, "%s", err.msg);
            cr_assert(strstr(err.msg, "bytes"), "%s", err.msg);
            cr_assert_null(m);
        }
    }
    cr_assert(ok_seen);
    ref_ids id;
    pp_mb *b = reference(&id);
    make_tmpdir();
    char path[400];
    snprintf(path, sizeof path, "%s/model.bin", tmpdir);
    ok_seen = 0;
    for (long nth = 1; nth < 40 && !ok_seen; nth++) {
        pp_fault_arm_alloc(nth);
        pp_error err = {0};
        void *data = NULL;
        size_t size;
        pp_code rc = pp_model_write_memory(pp_mb_model(b), &data, &size, &err);
        pp_fault_arm_alloc(nth);
        pp_code rc2 = pp_model_write(pp_mb_model(b), path, &err);
        pp_fault_arm_alloc(0);
        if (rc == PP_OK) pp_free(data);
        if (rc2 == PP_OK) ok_seen = 1;
        else cr_assert_eq(count_files(), 0, "a failed write left a file");
        if (rc != PP_OK) cr_assert_eq(rc, PP_ERR_NOMEM, "%s", err.msg);
    }
    cr_assert(ok_seen);
    remove_tmpdir();
    pp_mb_free(b);
    pp_free(im.p);
}

/* ---- corruptions: one check each -------------------------------------------------------- */

Test(corrupt, short_header) {
    img im = ref_image();
    refused_as(im.p, 63, 0, PP_ERR_FORMAT, "the file is 63 bytes, shorter than the 64-byte header");
    refused_as(im.p, 0, 0, PP_ERR_FORMAT, "the file is 0 bytes");
    pp_free(im.p);
}

Test(corrupt, bad_magic) {
    img im = ref_image();
    im.p[0] = 'X';
    refused_fixed(&im, "header at offset 0: bad magic 5850475241504800");
    pp_free(im.p);
}

Test(corrupt, newer_major_version) {
    img im = ref_image();
    hdr(&im)->version_major = 2;
    fix_checksums(&im);
    refused_as(im.p, im.n, 0, PP_ERR_UNSUPPORTED, "file format 2.0 is newer than this reader's 1.0");
    pp_free(im.p);
}

Test(corrupt, major_version_zero) {
    img im = ref_image();
    hdr(&im)->version_major = 0;
    refused_fixed(&im, "file format 0.0 predates format 1");
    pp_free(im.p);
}

Test(corrupt, newer_minor_version_is_accepted) {
    img im = ref_image();
    hdr(&im)->version_minor = 7;
    fix_checksums(&im);
    pp_model *m;
    pp_error err;
    cr_assert_eq(pp_model_load_memory(im.p, im.n, 0, &m, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(m->version_minor, 7);
    pp_model_free(m);
    pp_free(im.p);
}

Test(corrupt, header_fields) {
    img im = ref_image();
    hdr(&im)->header_size = 32;
    refused_fixed(&im, "header at offset 12: header_size is 32, expected 64");
    hdr(&im)->header_size = 64;
    hdr(&im)->flags = 4;
    refused_fixed(&im, "header at offset 28: flags are 0x4, expected 0");
    hdr(&im)->flags = 0;
    hdr(&im)->section_table_offset = 128;
    refused_fixed(&im, "header at offset 32: section_table_offset is 128, expected 64");
    hdr(&im)->section_table_offset = 64;
    hdr(&im)->reserved[15] = 1;
    refused_fixed(&im, "header at offset 48: reserved bytes are not zero");
    pp_free(im.p);
}

Test(corrupt, file_size_mismatch) {
    img im = ref_image();
    unsigned char *big = calloc(1, im.n + 64);
    memcpy(big, im.p, im.n);
    char want[128];
    snprintf(want, sizeof want, "file_size says %zu bytes but the file is %zu bytes", im.n, im.n + 64);
    refused_as(big, im.n + 64, 0, PP_ERR_FORMAT, want);
    free(big);
    pp_free(im.p);
}

Test(corrupt, header_checksum) {
    img im = ref_image();
    im.p[64 + 9 * 32 + 3] ^= 0x10; /* in the padding after the table */
    refused(&im, "header at offset 40: header checksum mismatch over bytes [0, 384)");
    pp_free(im.p);
}

Test(corrupt, section_table_past_end) {
    img im = ref_image();
    hdr(&im)->section_count = 1000000;
    refused(&im, "header at offset 24: section table of 1000000 entries");
    pp_free(im.p);
}

Test(corrupt, section_misaligned) {
    img im = ref_image();
    entry(&im, PP_SEC_TENSORS)->offset += 8;
    refused_fixed(&im, "section table at offset 96: entry 1 (section TENSORS): offset");
    refused(&im, "is not a multiple of 64");
    pp_free(im.p);
}

Test(corrupt, section_overlap) {
    img im = ref_image();
    entry(&im, PP_SEC_NODES)->offset -= 64;
    refused_fixed(&im, "entry 2 (section NODES): offset");
    refused(&im, "overlaps the previous section");
    pp_free(im.p);
}

Test(corrupt, section_gap) {
    img im = ref_image();
    entry(&im, PP_SEC_NODES)->offset += 64;
    refused_fixed(&im, "(sections must tile the file)");
    pp_free(im.p);
}

Test(corrupt, section_past_end) {
    img im = ref_image();
    entry(&im, PP_SEC_DATA)->size = im.n * 2;
    refused_fixed(&im, "entry 8 (section DATA): bytes [");
    refused(&im, "run past the end of the file");
    pp_free(im.p);
}

Test(corrupt, section_short_of_end) {
    img im = ref_image();
    pp_fmt_section *d = entry(&im, PP_SEC_DATA);
    d->size -= 128; /* the reference's DATA ends well past 128 bytes of its last weight */
    refused_fixed(&im, "the sections end at");
    pp_free(im.p);
}

Test(corrupt, section_duplicated) {
    img im = ref_image();
    entry(&im, PP_SEC_NODES)->kind = PP_SEC_TENSORS;
    refused_fixed(&im, "entry 2: section TENSORS appears twice (first as entry 1)");
    pp_free(im.p);
}

Test(corrupt, required_section_missing) {
    img im = ref_image();
    entry(&im, PP_SEC_NODES)->kind = 77; /* unknown kinds are skipped... */
    refused_fixed(&im, "required section NODES is missing");
    pp_free(im.p);
}

Test(corrupt, unknown_optional_section_is_ignored) {
    img im = ref_image();
    entry(&im, PP_SEC_METADATA)->kind = 200; /* ...and METADATA is optional */
    fix_checksums(&im);
    pp_model *m;
    pp_error err;
    cr_assert_eq(pp_model_load_memory(im.p, im.n, 0, &m, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(m->n_meta, 0);
    cr_assert_null(pp_model_meta_get(m, "producer"));
    pp_model_free(m);
    pp_free(im.p);
}

Test(corrupt, section_flags) {
    img im = ref_image();
    entry(&im, PP_SEC_VALUES)->flags = 1;
    refused_fixed(&im, "entry 5 (section VALUES): flags are 0x1, expected 0");
    pp_free(im.p);
}

Test(corrupt, section_checksums_name_the_section) {
    static const char *const names[] = {NULL,      "STRINGS", "TENSORS",  "NODES",    "ATTRS",
                                        "INDICES", "VALUES",  "GRAPH_IO", "METADATA", "DATA"};
    for (uint32_t kind = PP_SEC_STRINGS; kind <= PP_SEC_DATA; kind++) {
        img im = ref_image();
        pp_fmt_section *e = entry(&im, kind);
        if (e->size == 0) {
            pp_free(im.p);
            continue;
        }
        im.p[e->offset + e->size / 2] ^= 0x04;
        char want[64];
        snprintf(want, sizeof want, "%s at offset %llu: section checksum mismatch", names[kind],
                 (unsigned long long)e->offset);
        refused(&im, want);
        if (kind == PP_SEC_DATA) {
            /* Skipping DATA's checksum is exactly what lets this one through. */
            pp_model *m;
            pp_error err;
            cr_assert_eq(pp_model_load_memory(im.p, im.n, PP_LOAD_SKIP_DATA_CHECKSUM, &m, &err), PP_OK, "%s", err.msg);
            pp_model_free(m);
        }
        pp_free(im.p);
    }
}

Test(corrupt, record_size) {
    img im = ref_image();
    pp_fmt_section *e = entry(&im, PP_SEC_TENSORS);
    cr_assert_neq((e->offset + e->size) % 64, 1, "choose another section for this test");
    e->size -= 1; /* the last byte, a reserved zero, becomes padding */
    refused_fixed(&im, "section size 1727 is not a multiple of the 96-byte record");
    pp_free(im.p);
}

Test(corrupt, strings_must_start_empty) {
    img im = ref_image();
    sec(&im, PP_SEC_STRINGS)[0] = 'a';
    refused_fixed(&im, "STRINGS at offset");
    refused(&im, "the section must start with the empty string");
    pp_free(im.p);
}

Test(corrupt, unterminated_string) {
    img im = ref_image();
    pp_fmt_section *e = entry(&im, PP_SEC_STRINGS);
    im.p[e->offset + e->size - 1] = 'x';
    refused_fixed(&im, "the last string is unterminated");
    pp_free(im.p);
}

Test(corrupt, string_offset_out_of_range) {
    img im = ref_image();
    tensor_rec(&im, 2)->name = (uint32_t)entry(&im, PP_SEC_STRINGS)->size;
    refused_fixed(&im, "tensor 2: name offset");
    refused(&im, "is outside STRINGS");
    pp_free(im.p);
}

Test(corrupt, bad_dtype) {
    img im = ref_image();
    tensor_rec(&im, im.id.conv_w)->dtype = 42;
    refused_fixed(&im, "tensor 3 'conv.weight': invalid dtype 42");
    pp_free(im.p);
}

Test(corrupt, rank_nine) {
    img im = ref_image();
    tensor_rec(&im, im.id.x)->rank = 9;
    refused_fixed(&im, "tensor 0 'x': rank 9 exceeds the maximum 8");
    pp_free(im.p);
}

Test(corrupt, unused_dims_nonzero) {
    img im = ref_image();
    tensor_rec(&im, im.id.conv_b)->dims[3] = 5;
    refused_fixed(&im, "tensor 4 'conv.bias': dims[3] = 5 beyond rank 1 is not zero");
    pp_free(im.p);
}

Test(corrupt, unknown_tensor_kind) {
    img im = ref_image();
    tensor_rec(&im, im.id.relu)->kind = 7;
    refused_fixed(&im, "'relu': unknown kind 7");
    pp_free(im.p);
}

Test(corrupt, dims_overflow) {
    img im = ref_image();
    pp_fmt_tensor *t = tensor_rec(&im, im.id.flat);
    t->dims[0] = -(INT64_C(1) << 40);
    t->dims[1] = INT64_C(1) << 40;
    refused_fixed(&im, "'flat': dims overflow");
    t->dims[0] = INT64_MIN; /* -INT64_MIN is not representable */
    t->dims[1] = 1;
    refused_fixed(&im, "'flat': dims overflow");
    pp_free(im.p);
}

Test(corrupt, weight_with_batch_dim) {
    img im = ref_image();
    tensor_rec(&im, im.id.fc_w)->dims[0] = -4;
    refused_fixed(&im, "'fc.weight': weight dims[0] = -4 is negative");
    pp_free(im.p);
}

Test(corrupt, weight_size_mismatch) {
    img im = ref_image();
    tensor_rec(&im, im.id.conv_w)->dims[0] = 3;
    refused_fixed(&im, "'conv.weight': data_size 216 but the shape needs 324 bytes");
    pp_free(im.p);
}

Test(corrupt, misaligned_weight) {
    img im = ref_image();
    tensor_rec(&im, im.id.conv_b)->data_offset += 8;
    refused_fixed(&im, "'conv.bias': data_offset");
    refused(&im, "is not a multiple of 64");
    pp_free(im.p);
}

Test(corrupt, weight_outside_data) {
    img im = ref_image();
    tensor_rec(&im, im.id.fc_w)->data_offset = pp_fmt_align(entry(&im, PP_SEC_DATA)->size);
    refused_fixed(&im, "'fc.weight': data [");
    refused(&im, "lies outside DATA");
    tensor_rec(&im, im.id.fc_w)->data_offset = UINT64_MAX - 63; /* no wrap-around either */
    refused_fixed(&im, "lies outside DATA");
    pp_free(im.p);
}

Test(corrupt, overlapping_weights) {
    img im = ref_image();
    /* conv.bias (8 bytes) moved onto conv.weight's range. */
    tensor_rec(&im, im.id.conv_b)->data_offset = tensor_rec(&im, im.id.conv_w)->data_offset + 64;
    refused_fixed(&im, "tensor 3 'conv.weight' data [0, 216) overlaps tensor 4 'conv.bias' data [64, 72) in DATA");
    pp_free(im.p);
}

Test(corrupt, non_weight_with_data) {
    img im = ref_image();
    tensor_rec(&im, im.id.x)->data_size = 4;
    refused_fixed(&im, "tensor 0 'x': a INPUT tensor has data");
    pp_free(im.p);
}

Test(corrupt, bool_weight_not_zero_or_one) {
    img im = ref_image();
    sec(&im, PP_SEC_DATA)[tensor_rec(&im, im.id.flags)->data_offset + 2] = 2;
    refused_fixed(&im, "'flags': bool element 2 is 2, not 0 or 1");
    pp_free(im.p);
}

Test(corrupt, unknown_op) {
    img im = ref_image();
    node_rec(&im, 1)->op = 254;
    refused_fixed(&im, "node 1 'relu': unknown op 254");
    pp_free(im.p);
}

Test(corrupt, node_reserved) {
    img im = ref_image();
    node_rec(&im, 0)->reserved[0] = 1;
    refused_fixed(&im, "node 0 'model/conv': reserved bytes are not zero");
    pp_free(im.p);
}

Test(corrupt, node_name_out_of_range) {
    img im = ref_image();
    node_rec(&im, 2)->name = 0xFFFFFF00u;
    refused_fixed(&im, "node 2: name offset 4294967040 is outside STRINGS");
    pp_free(im.p);
}

Test(corrupt, node_inputs_outside_indices) {
    img im = ref_image();
    node_rec(&im, 6)->n_inputs = 1000;
    refused_fixed(&im, "node 6 'model/tokens': inputs [");
    refused(&im, "lie outside INDICES");
    pp_free(im.p);
}

Test(corrupt, node_attrs_outside_attrs) {
    img im = ref_image();
    node_rec(&im, 4)->n_attrs = 0xFFFFFFF0u;
    refused_fixed(&im, "node 4 'model/fc': attributes [");
    refused(&im, "lie outside ATTRS");
    pp_free(im.p);
}

Test(corrupt, node_ranges_out_of_sequence) {
    img im = ref_image();
    node_rec(&im, 1)->inputs_begin = 0; /* shares node 0's first input */
    refused_fixed(&im, "(INDICES holds each node's inputs then outputs, in node order)");
    pp_free(im.p);
}

Test(corrupt, dangling_input) {
    img im = ref_image();
    *index_rec(&im, node_rec(&im, 1)->inputs_begin) = 999;
    refused_fixed(&im, "node 1 'relu': input 0 refers to tensor 999, but there are 18 (dangling)");
    pp_free(im.p);
}

Test(corrupt, dangling_output) {
    img im = ref_image();
    *index_rec(&im, node_rec(&im, 1)->outputs_begin) = 18;
    refused_fixed(&im, "node 1 'relu': output 0 refers to tensor 18, but there are 18 (dangling)");
    pp_free(im.p);
}

Test(corrupt, absent_output) {
    img im = ref_image();
    *index_rec(&im, node_rec(&im, 1)->outputs_begin) = PP_FMT_NONE;
    refused_fixed(&im, "node 1 'relu': output 0 is absent");
    pp_free(im.p);
}

Test(corrupt, output_is_a_weight) {
    img im = ref_image();
    *index_rec(&im, node_rec(&im, 1)->outputs_begin) = im.id.scale;
    refused_fixed(&im, "node 1 'relu': output 0 writes tensor 5 'scale', which is a WEIGHT");
    pp_free(im.p);
}

Test(corrupt, cyclic_graph) {
    img im = ref_image();
    /* conv's input x replaced by mul's output: conv (node 0) needs node 2. */
    *index_rec(&im, node_rec(&im, 0)->inputs_begin) = im.id.scaled;
    refused_fixed(&im, "node 0 'model/conv': input 0, tensor 13 'scaled', is produced by the later node 2 'model/mul'");
    pp_free(im.p);
}

Test(corrupt, self_loop) {
    img im = ref_image();
    *index_rec(&im, node_rec(&im, 1)->inputs_begin) = im.id.relu;
    refused_fixed(&im, "node 1 'relu': input 0, tensor 12 'relu', is its own output (a cycle)");
    pp_free(im.p);
}

Test(corrupt, tensor_produced_twice) {
    img im = ref_image();
    *index_rec(&im, node_rec(&im, 2)->outputs_begin) = im.id.relu;
    refused_fixed(&im, "tensor 12 'relu' is produced twice: by node 1 'relu' and by node 2 'model/mul'");
    pp_free(im.p);
}

Test(corrupt, activation_used_but_never_produced) {
    img im = ref_image();
    /* 'unused' becomes an activation that only an added input reads. */
    tensor_rec(&im, im.id.unused)->kind = PP_TENSOR_ACTIVATION;
    *index_rec(&im, node_rec(&im, 4)->inputs_begin + 2) = im.id.unused; /* gemm's absent C */
    refused_fixed(&im, "node 4 'model/fc': input 2, activation 2 'unused', is never produced");
    pp_free(im.p);
}

Test(corrupt, graph_output_never_produced) {
    img im = ref_image();
    tensor_rec(&im, im.id.unused)->kind = PP_TENSOR_ACTIVATION;
    io_ids(&im)[io_rec(&im)->n_inputs] = im.id.unused;
    refused_fixed(&im, "graph output 0, tensor 2 'unused', is never produced");
    pp_free(im.p);
}

Test(corrupt, orphan_activation) {
    img im = ref_image();
    /* 'unused' becomes an activation nobody reads or writes. */
    tensor_rec(&im, im.id.unused)->kind = PP_TENSOR_ACTIVATION;
    io_ids(&im)[2] = im.id.x; /* its graph input slot, now a duplicate */
    refused_fixed(&im, "graph input 2, tensor 0 'x', is listed twice");
    io_rec(&im)->n_inputs = 2;
    io_rec(&im)->n_outputs = 4; /* the freed slot becomes a first output: x */
    refused_fixed(&im, "activation 2 'unused' is never produced by any node");
    pp_free(im.p);
}

Test(corrupt, graph_input_not_input) {
    img im = ref_image();
    io_ids(&im)[1] = im.id.conv_w;
    refused_fixed(&im, "graph input 1, tensor 3 'conv.weight', is a WEIGHT, not an INPUT");
    pp_free(im.p);
}

Test(corrupt, input_not_listed) {
    img im = ref_image();
    io_rec(&im)->n_inputs = 2;
    io_rec(&im)->n_outputs = 4; /* 'unused' moves from the inputs to the outputs */
    refused_fixed(&im, "tensor 2 'unused' is an INPUT but not a graph input");
    pp_free(im.p);
}

Test(corrupt, graph_io_dangling) {
    img im = ref_image();
    io_ids(&im)[io_rec(&im)->n_inputs + 1] = 77;
    refused_fixed(&im, "graph output 1 refers to tensor 77, but there are 18 (dangling)");
    pp_free(im.p);
}

Test(corrupt, graph_io_size) {
    img im = ref_image();
    io_rec(&im)->n_inputs = 7;
    refused_fixed(&im, "GRAPH_IO at offset");
    refused(&im, "7 inputs and 3 outputs need 48");
    pp_free(im.p);
}

Test(corrupt, unknown_attribute_type) {
    img im = ref_image();
    attr_rec(&im, 2)->type = 9;
    refused_fixed(&im, "attribute 2 'group' of node 0 'model/conv': unknown attribute type 9");
    pp_free(im.p);
}

Test(corrupt, attribute_values_outside_pool) {
    img im = ref_image();
    attr_rec(&im, 1)->count = 1000;
    refused_fixed(&im, "attribute 1 'pads' of node 0 'model/conv': 1000 values at VALUES offset 16 lie outside VALUES");
    pp_free(im.p);
}

Test(corrupt, attribute_values_misaligned) {
    img im = ref_image();
    attr_rec(&im, 4)->value.pool += 4;
    refused_fixed(&im, "attribute 4 'scales' of node 0 'model/conv': VALUES offset 52 is not a multiple of 8");
    pp_free(im.p);
}

Test(corrupt, attribute_string_out_of_range) {
    img im = ref_image();
    attr_rec(&im, 3)->value.str = UINT64_C(1) << 40;
    refused_fixed(&im, "attribute 3 'auto_pad' of node 0 'model/conv': string offset 1099511627776 is outside STRINGS");
    pp_free(im.p);
}

Test(corrupt, attribute_without_name) {
    img im = ref_image();
    attr_rec(&im, 9)->name = 0;
    refused_fixed(&im, "attribute 9 of node 4 'model/fc' has an empty name");
    pp_free(im.p);
}

Test(corrupt, attribute_scalar_count) {
    img im = ref_image();
    attr_rec(&im, 2)->count = 2;
    refused_fixed(&im, "attribute 2 'group' of node 0 'model/conv': count is 2, expected 1");
    pp_free(im.p);
}

Test(corrupt, metadata_out_of_range) {
    img im = ref_image();
    pp_fmt_meta *mr = (pp_fmt_meta *)(void *)sec(&im, PP_SEC_METADATA);
    mr[1].value = 1u << 30;
    refused_fixed(&im, "METADATA at offset");
    refused(&im, "entry 1: value offset 1073741824 is outside STRINGS");
    pp_free(im.p);
}

Test(corrupt, indices_unused_entries) {
    img im = ref_image();
    pp_fmt_node *n = node_rec(&im, 6);
    n->n_inputs = 1; /* the last node drops its second input, leaving the last entry unused */
    n->outputs_begin -= 1;
    *index_rec(&im, n->outputs_begin) = im.id.tokens;
    refused_fixed(&im, "INDICES at offset");
    refused(&im, "the section has 21 entries but the nodes use 20");
    pp_free(im.p);
}

/* Every message above is different: the checks really are distinct. */

/* ---- the writer's own checks ---------------------------------------------------------------- */

static pp_model *editable(pp_mb *b) { return (pp_model *)pp_mb_model(b); }

static void writer_refuses(const pp_model *m, const char *substr) {
    pp_error err = {0};
    void *data = (void *)1;
    size_t size = 1;
    pp_code rc = pp_model_write_memory(m, &data, &size, &err);
    cr_assert_eq(rc, PP_ERR_INVALID_ARG, "expected a refusal (%s), got %s: %s", substr, pp_code_name(rc), err.msg);
    cr_assert_null(data);
    cr_assert_eq(size, 0);
    cr_assert(strstr(err.msg, substr), "message \"%s\" lacks \"%s\"", err.msg, substr);
}

Test(writer, refuses_dangling_id_and_leaves_no_file) {
    make_tmpdir();
    ref_ids id;
    pp_mb *b = reference(&id);
    pp_model_node *n = (pp_model_node *)&editable(b)->nodes[1];
    ((uint32_t *)n->inputs)[0] = 500;
    char path[400];
    snprintf(path, sizeof path, "%s/model.bin", tmpdir);
    pp_error err = {0};
    cr_assert_eq(pp_model_write(pp_mb_model(b), path, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "node 1 'relu': input 0 is tensor 500, but there are 18"), "%s", err.msg);
    cr_assert(strstr(err.msg, "model.bin"), "%s", err.msg);
    cr_assert_eq(count_files(), 0, "a refused write left a file (or a temporary) behind");

    /* An existing file is left untouched by a refused write. */
    FILE *f = fopen(path, "wb");
    fputs("old", f);
    fclose(f);
    cr_assert_eq(pp_model_write(pp_mb_model(b), path, &err), PP_ERR_INVALID_ARG);
    cr_assert_eq(count_files(), 1);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 3);

    /* An unwritable folder fails with IO and leaves nothing. */
    ((uint32_t *)n->inputs)[0] = id.conv_out;
    snprintf(path, sizeof path, "%s/no/such/dir/model.bin", tmpdir);
    cr_assert_eq(pp_model_write(pp_mb_model(b), path, &err), PP_ERR_IO);
    cr_assert(strstr(err.msg, "temporary"), "%s", err.msg);
    pp_mb_free(b);
    remove_tmpdir();
}

Test(writer, refuses_invalid_models) {
    ref_ids id;
    pp_mb *b = reference(&id);
    pp_model *m = editable(b);
    pp_model_tensor *t = (pp_model_tensor *)m->tensors;
    pp_model_node *n = (pp_model_node *)m->nodes;

    t[id.conv_w].dtype = (pp_dtype)42;
    writer_refuses(m, "tensor 3 'conv.weight': invalid dtype 42");
    t[id.conv_w].dtype = PP_DTYPE_F32;

    t[id.x].rank = 9;
    writer_refuses(m, "tensor 0 'x': rank 9 is outside 0..8");
    t[id.x].rank = 4;

    t[id.fc_w].dims[0] = -4;
    writer_refuses(m, "tensor 10 'fc.weight': weight dims[0] = -4 is negative");
    t[id.fc_w].dims[0] = 4;

    t[id.conv_b].nbytes = 12;
    writer_refuses(m, "tensor 4 'conv.bias': weight has 12 bytes but its shape needs 8");
    t[id.conv_b].nbytes = 8;

    t[id.flat].dims[0] = INT64_C(1) << 62;
    writer_refuses(m, "tensor 14 'flat': dims overflow");
    t[id.flat].dims[0] = PP_DIM_BATCH;

    n[2].op = (pp_op)7;
    writer_refuses(m, "node 2 'model/mul': unknown op 7");
    n[2].op = PP_OP_MUL;

    ((uint32_t *)n[0].inputs)[0] = id.scaled;
    writer_refuses(m, "node 0 'model/conv': input 0, activation 13 'scaled', is not produced by an earlier node");
    ((uint32_t *)n[0].inputs)[0] = id.x;

    ((uint32_t *)n[2].outputs)[0] = id.relu;
    writer_refuses(m, "tensor 12 'relu' is produced twice: by node 1 'relu' and node 2 'model/mul'");
    ((uint32_t *)n[2].outputs)[0] = id.scaled;

    ((uint32_t *)n[2].outputs)[0] = id.scale;
    writer_refuses(m, "node 2 'model/mul': output 0, tensor 5 'scale', is a WEIGHT");
    ((uint32_t *)n[2].outputs)[0] = id.scaled;

    ((pp_model_attr *)n[0].attrs)[2].type = (pp_attr_type)9;
    writer_refuses(m, "node 0 'model/conv': attribute 'group' has unknown type 9");
    ((pp_model_attr *)n[0].attrs)[2].type = PP_ATTR_INT;

    ((uint32_t *)m->inputs)[1] = id.conv_w;
    writer_refuses(m, "graph input 1, tensor 3 'conv.weight', is a WEIGHT, not an INPUT");
    ((uint32_t *)m->inputs)[1] = id.mask;

    m->n_inputs = 2;
    writer_refuses(m, "tensor 2 'unused' is an INPUT but not a graph input");
    m->n_inputs = 3;

    t[id.unused].kind = PP_TENSOR_ACTIVATION;
    ((uint32_t *)m->outputs)[0] = id.unused;
    m->n_inputs = 2;
    writer_refuses(m, "graph output 0, tensor 2 'unused', is never produced");
    ((uint32_t *)m->outputs)[0] = id.fc_out;
    writer_refuses(m, "activation 2 'unused' is never produced");
    t[id.unused].kind = PP_TENSOR_INPUT;
    m->n_inputs = 3;

    unsigned char *flags = pp_mb_tensor_data(b, id.flags);
    flags[1] = 3;
    writer_refuses(m, "tensor 6 'flags': bool element 1 is 3, not 0 or 1");
    flags[1] = 0;

    t[id.x].nbytes = 4;
    writer_refuses(m, "tensor 0 'x': a INPUT tensor has data (4 bytes)");
    t[id.x].nbytes = 0;

    /* Restored, it writes. */
    void *data;
    size_t size;
    pp_error err;
    cr_assert_eq(pp_model_write_memory(m, &data, &size, &err), PP_OK, "%s", err.msg);
    pp_free(data);
    pp_mb_free(b);
}

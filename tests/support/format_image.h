/* format_image.h: what the graph.bin suites (test_format.c, test_format_sweeps.c,
 * test_format_refusals.c) share: the reference model, its written image with
 * accessors to the records inside it, the refusal checks and a scratch folder.
 * Criterion suites only.
 *
 * A reference model exercises every attribute type, weights of several dtypes
 * (a 0-dim scalar, a bool, an empty one), batch dims, metadata and an absent
 * optional input. Corruptions are made on the written bytes; where a structural
 * check is the target, fix_checksums() recomputes every checksum afterwards so
 * that the check itself, not the checksum, has to catch it. */
#ifndef PP_TEST_FORMAT_IMAGE_H
#define PP_TEST_FORMAT_IMAGE_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static inline pp_mb *reference(ref_ids *id) {
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

static inline img ref_image(void) {
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

static inline pp_fmt_header *hdr(img *im) { return (pp_fmt_header *)(void *)im->p; }

static inline pp_fmt_section *entry(img *im, uint32_t kind) {
    pp_fmt_section *t = (pp_fmt_section *)(void *)(im->p + sizeof(pp_fmt_header));
    for (uint32_t i = 0; i < hdr(im)->section_count; i++)
        if (t[i].kind == kind) return &t[i];
    cr_assert_fail("no section of kind %u", kind);
    return NULL;
}

static inline unsigned char *sec(img *im, uint32_t kind) { return im->p + entry(im, kind)->offset; }
static inline pp_fmt_tensor *tensor_rec(img *im, uint32_t i) {
    return (pp_fmt_tensor *)(void *)(sec(im, PP_SEC_TENSORS) + i * sizeof(pp_fmt_tensor));
}
static inline pp_fmt_node *node_rec(img *im, uint32_t j) {
    return (pp_fmt_node *)(void *)(sec(im, PP_SEC_NODES) + j * sizeof(pp_fmt_node));
}
static inline pp_fmt_attr *attr_rec(img *im, uint32_t a) {
    return (pp_fmt_attr *)(void *)(sec(im, PP_SEC_ATTRS) + a * sizeof(pp_fmt_attr));
}
static inline uint32_t *index_rec(img *im, uint64_t i) { return (uint32_t *)(void *)(sec(im, PP_SEC_INDICES) + 4 * i); }
static inline pp_fmt_io *io_rec(img *im) { return (pp_fmt_io *)(void *)sec(im, PP_SEC_GRAPH_IO); }
static inline uint32_t *io_ids(img *im) { return (uint32_t *)(void *)(sec(im, PP_SEC_GRAPH_IO) + sizeof(pp_fmt_io)); }

/* Recomputes every section checksum that lies inside the file, then the header's. */
static inline void fix_checksums(img *im) {
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

static inline void refused_as(const void *p, size_t n, unsigned flags, pp_code code, const char *substr) {
    pp_error err = {0};
    pp_model *m = (pp_model *)1;
    pp_code rc = pp_model_load_memory(p, n, flags, &m, &err);
    cr_assert_eq(rc, code, "expected %s, got %s: %s", pp_code_name(code), pp_code_name(rc), err.msg);
    cr_assert_null(m, "a failed load must leave *out NULL");
    cr_assert(strstr(err.msg, substr), "message \"%s\" lacks \"%s\"", err.msg, substr);
    cr_assert(!strchr(err.msg, '\n'), "message is not one line: %s", err.msg);
}

static inline void refused(img *im, const char *substr) { refused_as(im->p, im->n, 0, PP_ERR_FORMAT, substr); }

/* Fixes the checksums, then expects the structural check naming substr. */
static inline void refused_fixed(img *im, const char *substr) {
    fix_checksums(im);
    refused(im, substr);
}

/* ---- a scratch folder ------------------------------------------------------------ */

static char tmpdir[256];

static inline void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pp_test_format.XXXXXX");
    cr_assert(mkdtemp(tmpdir), "mkdtemp");
}

/* Files in tmpdir other than . and .. */
static inline int count_files(void) {
    DIR *d = opendir(tmpdir);
    cr_assert(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static inline void remove_tmpdir(void) {
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

#endif

/* test_hostile: shape attributes a file may hold and no arithmetic may trust.
 *
 * graphbin_family: every case of tests/support/hostile.c (INT64_MAX and
 * INT64_MIN, negative and zero values, dilation × kernel and extent products
 * past 2^63, for conv, pooling, reshape, slice, expand, tile, pad, range, ...)
 * is written, loaded and built: the engine refuses it with a message naming
 * the node, the attribute and the value, or accepts a legal extreme with the
 * output shape the file states. Under `make test SANITIZE=1` UBSan also checks
 * that no refusal went through an overflow first.
 *
 * graphbin_regressions: the same models are committed, with the fuzz
 * harness's mode byte, as tests/fuzz/regressions/fuzz_graphbin/hostile-*.bin
 * (which the fuzz replay runs under its own sanitizers); they must be exactly
 * what the family builds today. PP_HOSTILE_WRITE=1 rewrites them instead.
 *
 * onnx_family: the ONNX models made by tests/fuzz/gen_hostile_onnx.py
 * (tests/fuzz/regressions/fuzz_onnx/hostile-*.onnx), where the converter is the
 * entry, refused by pp_convert_onnx_graph with the same kind of message.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converter/convert.h"
#include "engine/graph.h"
#include "loader/model.h"
#include "support/hostile.h"

#define REGRESSIONS PP_SOURCE_DIR "/tests/fuzz/regressions"
/* fuzz_graphbin's mode byte: valid checksums, run on the CPU when small enough. */
#define GRAPHBIN_MODE 0x08

static void *build_file(int i, size_t *size) {
    pp_mb *b = pp_hostile_build(i);
    cr_assert_not_null(b, "%s: out of memory", pp_hostile_get(i)->name);
    pp_error err = {0};
    void *data = NULL;
    cr_assert_eq(pp_model_write_memory(pp_mb_model(b), &data, size, &err), PP_OK, "%s: write: %s",
                 pp_hostile_get(i)->name, err.msg);
    pp_mb_free(b);
    return data;
}

/* The message must hold each of the fragments. */
static void names_all(const char *what, const char *msg, const char *node, const char *attr, const char *value) {
    char quoted[160];
    snprintf(quoted, sizeof quoted, "'%s'", node);
    const char *want[] = {quoted, attr, value};
    for (int k = 0; k < 3; k++)
        cr_expect(strstr(msg, want[k]) != NULL, "%s: the message does not name %s: %s", what, want[k], msg);
}

Test(hostile, graphbin_family) {
    for (int i = 0; i < pp_hostile_count(); i++) {
        const pp_hostile *h = pp_hostile_get(i);
        size_t size;
        void *data = build_file(i, &size);
        pp_error err = {0};
        pp_model *m = NULL;
        cr_assert_eq(pp_model_load_memory(data, size, 0, &m, &err), PP_OK, "%s: load: %s", h->name, err.msg);
        pp_graph *g = NULL;
        pp_code rc = pp_graph_from_model(&m, &g, &err);
        if (h->value) {
            cr_expect_eq(rc, PP_ERR_SHAPE, "%s: %s, want SHAPE: %s", h->name, pp_code_name(rc),
                         rc ? err.msg : "accepted");
            if (rc) names_all(h->name, err.msg, h->name, h->attr, h->value);
        } else {
            cr_expect_eq(rc, PP_OK, "%s (a legal %s) is refused: %s", h->name, h->attr, err.msg);
        }
        pp_graph_free(g);
        pp_model_free(m);
        pp_free(data);
    }
}

static unsigned char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(n > 0 ? (size_t)n : 1);
    *size = p && n > 0 && fread(p, 1, (size_t)n, f) == (size_t)n ? (size_t)n : 0;
    fclose(f);
    return p;
}

Test(hostile, graphbin_regressions) {
    int write = getenv("PP_HOSTILE_WRITE") != NULL;
    for (int i = 0; i < pp_hostile_count(); i++) {
        const pp_hostile *h = pp_hostile_get(i);
        char path[512];
        snprintf(path, sizeof path, "%s/fuzz_graphbin/hostile-%s.bin", REGRESSIONS, h->name);
        size_t size;
        unsigned char *data = build_file(i, &size);
        if (write) {
            FILE *f = fopen(path, "wb");
            cr_assert_not_null(f, "cannot write %s", path);
            fputc(GRAPHBIN_MODE, f);
            fwrite(data, 1, size, f);
            cr_assert_eq(fclose(f), 0, "cannot write %s", path);
        } else {
            size_t have = 0;
            unsigned char *file = read_all(path, &have);
            cr_expect(file && have == size + 1 && file[0] == GRAPHBIN_MODE && !memcmp(file + 1, data, size),
                      "%s differs from what the family builds (PP_HOSTILE_WRITE=1 rewrites it)", path);
            free(file);
        }
        pp_free(data);
    }
}

/* tests/fuzz/gen_hostile_onnx.py: each model is one node named after its file. */
static const struct onnx_case {
    const char *name, *attr, *value; /* value NULL: a legal extreme, accepted */
} onnx_cases[] = {
    {"conv-dilation-2^62", "dilations", "4611686018427387904"},
    {"conv-stride-int64-max-same", "strides", "9223372036854775807"},
    {"conv-pads-int64-max", "pads", "9223372036854775807"},
    {"conv-group-int64-min", "group", "-9223372036854775808"},
    {"maxpool-kernel-int64-max", "kernel_shape", "9223372036854775807"},
    {"maxpool-stride-int64-max-ceil", "strides", "9223372036854775807"},
    {"avgpool-pads-sum-past-2^63", "pads", "4611686018427387904"},
    {"reshape-int64-max", "shape", "9223372036854775807"},
    {"reshape-product-past-2^63", "shape", "4294967296"},
    {"slice-step-zero", "steps", "0"},
    {"expand-int64-max", "shape", "9223372036854775807"},
    {"expand-product-past-2^63", "shape", "4294967296"},
    {"tile-int64-min", "repeats", "-9223372036854775808"},
    {"tile-product-past-2^63", "repeats", "4294967296"},
    {"pad-int64-max", "pads", "9223372036854775807"},
    {"range-int64-min-to-max", "limit", "9223372036854775807"},
    {"range-delta-zero", "delta", "0"},
    {"constant-of-shape-product-past-2^63", "shape", "4294967296"},
    {"add-legacy-axis-int64-min", "axis", "-9223372036854775808"},
    {"dropout-mask-past-2^64", "mask", "4294967297"},
    {"slice-shape-step-int64-max", "steps", NULL}, /* legal: the shape value's element 1 */
};

Test(hostile, onnx_family) {
    for (size_t i = 0; i < sizeof onnx_cases / sizeof onnx_cases[0]; i++) {
        const struct onnx_case *c = &onnx_cases[i];
        char path[512];
        snprintf(path, sizeof path, "%s/fuzz_onnx/hostile-%s.onnx", REGRESSIONS, c->name);
        pp_error err = {0};
        pp_onnx *h = NULL;
        pp_graph *g = NULL;
        pp_code rc = pp_convert_onnx_graph(path, NULL, &h, &g, NULL, &err);
        if (!c->value) {
            cr_expect_eq(rc, PP_OK, "%s (a legal %s) is refused: %s", c->name, c->attr, err.msg);
        } else {
            cr_expect(rc == PP_ERR_SHAPE || rc == PP_ERR_UNSUPPORTED, "%s: %s: %s", c->name, pp_code_name(rc),
                      rc ? err.msg : "accepted");
            if (rc) names_all(c->name, err.msg, c->name, c->attr, c->value);
        }
        pp_graph_free(g);
        pp_onnx_free(h);
    }
}

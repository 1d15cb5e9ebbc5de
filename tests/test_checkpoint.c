/* Checkpoints end to end: .pt / .safetensors → pp_ckpt → architecture → graph
 * → the engine (CPU) → compared with PyTorch's outputs (‖out − ref‖/‖ref‖ ≤ 1e-4),
 * with the architecture given, detected, and read from an architecture file;
 * tensor views, dtypes and byte order; and every refusal with its message.
 * Fixtures: tests/fixtures/models/{mlp,resnet}.pt, tests/fixtures/ckpt/
 * (gen/gen_checkpoints.py), examples/digits. The torchvision models are
 * generated at test time where /usr/bin/python3 has torchvision, else skipped. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "converter/checkpoint.h"
#include "converter/safetensors.h"
#include "converter/torch_ckpt.h"
#include "engine/exec.h"
#include "loader/npy.h"

#ifndef PP_SOURCE_DIR
#define PP_SOURCE_DIR "."
#endif
#define MODELS PP_SOURCE_DIR "/tests/fixtures/models/"
#define CKPT PP_SOURCE_DIR "/tests/fixtures/ckpt/"

/* Runs g on the CPU over in.npy and returns ‖out − ref‖/‖ref‖ against ref.npy. */
static double run_rel_err(pp_graph *g, const char *in_path, const char *ref_path) {
    pp_error err = {0};
    pp_npy x, ref;
    cr_assert_eq(pp_npy_read(in_path, &x, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_npy_read(ref_path, &ref, &err), PP_OK, "%s", err.msg);
    int64_t batch = x.dims[0];
    pp_exec_options o = {.devices = "cpu", .stages = 1, .max_batch = (int)batch, PP_PREC_FP32};
    pp_exec *e = NULL;
    cr_assert_eq(pp_exec_create(g, &o, &e, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_exec_input_bytes(e, 0, batch), x.nbytes, "%s: input bytes %llu, the .npy has %llu", in_path,
                 (unsigned long long)pp_exec_input_bytes(e, 0, batch), (unsigned long long)x.nbytes);
    uint64_t ob = pp_exec_output_bytes(e, 0, batch);
    cr_assert_eq(ob, ref.nbytes, "output bytes %llu vs reference %llu", (unsigned long long)ob,
                 (unsigned long long)ref.nbytes);
    float *out = malloc(ob);
    const void *ins[1] = {x.data};
    void *outs[1] = {out};
    cr_assert_eq(pp_exec_run(e, batch, ins, outs, &err), PP_OK, "%s", err.msg);
    const float *r = ref.data;
    double num = 0, den = 0;
    for (uint64_t i = 0; i < ob / 4; i++) {
        double d = (double)out[i] - r[i];
        num += d * d;
        den += (double)r[i] * r[i];
    }
    free(out);
    pp_exec_free(e);
    pp_npy_free(&x);
    pp_npy_free(&ref);
    return sqrt(num / (den > 0 ? den : 1));
}

static void check_model(const char *path, const char *arch, const char *arch_file, const char *in, const char *ref,
                        double tol, const char *want_detected) {
    pp_error err = {0};
    pp_graph *g = NULL;
    char det[256];
    cr_assert_eq(pp_convert_checkpoint(path, arch, arch_file, &g, det, sizeof det, &err), PP_OK, "%s", err.msg);
    if (want_detected)
        cr_expect(strstr(det, want_detected) == det, "detected '%s', expected it to start with '%s'", det,
                  want_detected);
    double e = run_rel_err(g, in, ref);
    cr_expect(e <= tol, "%s (%s): relative error %.3g > %.1g", path, arch ? arch : "detected", e, tol);
    pp_graph_free(g);
}

Test(checkpoint, mlp_given) {
    check_model(MODELS "mlp.pt", "mlp:act=relu/gelu", NULL, MODELS "mlp.input.npy", MODELS "mlp.output.npy", 1e-4,
                "mlp");
    check_model(MODELS "mlp.pt", "mlp:act=relu/gelu", NULL, MODELS "mlp.input_b3.npy", MODELS "mlp.output_b3.npy", 1e-4,
                "mlp");
}

Test(checkpoint, mlp_detected) {
    /* The family and widths from the keys; mlp.pt's GELU is not in the keys, so it is an option. */
    check_model(MODELS "mlp.pt", "auto:act=relu/gelu", NULL, MODELS "mlp.input.npy", MODELS "mlp.output.npy", 1e-4,
                "mlp (3 linear layers");
    /* A ReLU MLP needs nothing at all. */
    check_model(CKPT "mlp_relu.pt", NULL, NULL, CKPT "mlp_relu.input.npy", CKPT "mlp_relu.output.npy", 1e-4,
                "mlp (3 linear layers: 24 -> 48 -> 48 -> 5)");
    /* The same weights as nn.Parameters (_rebuild_parameter). */
    check_model(CKPT "keep_vars.pt", NULL, NULL, CKPT "mlp_relu.input.npy", CKPT "mlp_relu.output.npy", 1e-4,
                "mlp (3 linear layers: 24 -> 48 -> 48 -> 5)");
}

Test(checkpoint, resnet_given) {
    check_model(MODELS "resnet.pt", "resnet:input=32,strides=1/2/1", NULL, MODELS "resnet.input.npy",
                MODELS "resnet.output.npy", 1e-4, "resnet (custom: basic+bottleneck blocks 1,1,1");
    check_model(MODELS "resnet.pt", "resnet:input=32,strides=1/2/1", NULL, MODELS "resnet.input_b3.npy",
                MODELS "resnet.output_b3.npy", 1e-4, NULL);
    /* BatchNorm kept as nodes instead of folded. */
    check_model(MODELS "resnet.pt", "resnet:input=32,strides=1/2/1,fold=0", NULL, MODELS "resnet.input.npy",
                MODELS "resnet.output.npy", 1e-4, NULL);
}

Test(checkpoint, resnet_detected) {
    check_model(MODELS "resnet.pt", "auto:input=32,strides=1/2/1", NULL, MODELS "resnet.input.npy",
                MODELS "resnet.output.npy", 1e-4, "resnet");
    check_model(MODELS "resnet.pt", ":input=32,strides=1/2/1", NULL, MODELS "resnet.input.npy",
                MODELS "resnet.output.npy", 1e-4, "resnet");
}

Test(checkpoint, resnet_arch_file) {
    check_model(MODELS "resnet.pt", "auto:input=32", CKPT "resnet.arch", MODELS "resnet.input.npy",
                MODELS "resnet.output.npy", 1e-4, "architecture file");
}

Test(checkpoint, digits_vgg_style_and_arch_file) {
    const char *x = PP_SOURCE_DIR "/examples/digits/test_x.npy", *y = PP_SOURCE_DIR "/examples/digits/torch_logits.npy";
    check_model(PP_SOURCE_DIR "/examples/digits/digits.pt", "auto:input=8", NULL, x, y, 1e-4,
                "vgg (custom: 2 conv layers, batch norm)");
    check_model(PP_SOURCE_DIR "/examples/digits/digits.pt", NULL, CKPT "digits.arch", x, y, 1e-4, "architecture file");
}

Test(checkpoint, other_containers) {
    /* The same tensors as mlp.pt in safetensors (library-written), shards, a nested
     * DataParallel checkpoint, and protocol 4. */
    const char *files[] = {CKPT "nested.pt", CKPT "proto4.pt", CKPT "mlp.safetensors",
                           CKPT "mlp_sharded.safetensors.index.json"};
    int n_files = pp_safetensors_available() ? 4 : 2;
    for (int i = 0; i < n_files; i++)
        check_model(files[i], "mlp:act=relu/gelu", NULL, MODELS "mlp.input.npy", MODELS "mlp.output.npy", 1e-4, "mlp");
    if (!pp_safetensors_available()) {
        cr_log_warn("built without cJSON: the safetensors files were not checked");
        return;
    }
    /* float16 weights: compared loosely (the weights themselves are rounded). */
    check_model(CKPT "mlp_f16.safetensors", "mlp:act=relu/gelu", NULL, MODELS "mlp.input.npy", MODELS "mlp.output.npy",
                1e-2, "mlp");
}

Test(checkpoint, nested_and_prefix) {
    pp_error err = {0};
    pp_ckpt *c;
    cr_assert_eq(pp_ckpt_open(CKPT "nested.pt", &c, &err), PP_OK, "%s", err.msg);
    cr_expect_str_eq(c->nested, "model_state_dict");
    cr_expect_eq(c->stripped_module, 1);
    cr_expect_eq(c->n, 6);
    cr_expect(pp_ckpt_find(c, "fc1.weight") != NULL);
    pp_ckpt_free(c);
}

/* views.pt: every value recomputed from base[i][j] = 6i + j. */
static void check_views(const char *path) {
    pp_error err = {0};
    pp_ckpt *c;
    cr_assert_eq(pp_ckpt_open(path, &c, &err), PP_OK, "%s", err.msg);
    const pp_ckpt_tensor *t;
    t = pp_ckpt_find(c, "transposed");
    cr_assert(t && t->rank == 2 && t->dims[0] == 6 && t->dims[1] == 4 && t->dtype == PP_DTYPE_F32);
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 4; j++) cr_expect_eq(((const float *)t->data)[i * 4 + j], (float)(6 * j + i), "transposed");
    t = pp_ckpt_find(c, "window");
    cr_assert(t && t->dims[0] == 2 && t->dims[1] == 3);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            cr_expect_eq(((const float *)t->data)[i * 3 + j], (float)(6 * (i + 1) + j + 2), "window");
    t = pp_ckpt_find(c, "every_other");
    cr_assert(t && t->dims[0] == 4 && t->dims[1] == 3);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            cr_expect_eq(((const float *)t->data)[i * 3 + j], (float)(6 * i + 2 * j), "every_other");
    t = pp_ckpt_find(c, "base");
    for (int i = 0; i < 24; i++) cr_expect_eq(((const float *)t->data)[i], (float)i);
    t = pp_ckpt_find(c, "f16");
    cr_assert(t && t->dtype == PP_DTYPE_F16 && t->nbytes == 48);
    for (int i = 0; i < 24; i++) {
        uint16_t h = ((const uint16_t *)t->data)[i];
        /* i/4 in binary16: decode the normal numbers (0 is all zero bits) */
        double v = h ? ldexp(1.0 + (h & 0x3FF) / 1024.0, ((h >> 10) & 0x1F) - 15) : 0.0;
        cr_expect_eq(v, i / 4.0, "f16[%d] = %g", i, v);
    }
    t = pp_ckpt_find(c, "bf16");
    cr_assert(t && t->dtype == PP_DTYPE_BF16);
    for (int i = 0; i < 24; i++) {
        uint32_t bits = (uint32_t)((const uint16_t *)t->data)[i] << 16;
        float f;
        memcpy(&f, &bits, 4);
        cr_expect_eq(f, i / 4.0f, "bf16");
    }
    t = pp_ckpt_find(c, "f64");
    cr_assert(t && t->dtype == PP_DTYPE_F64);
    for (int i = 0; i < 24; i++) cr_expect_eq(((const double *)t->data)[i], i / 8.0);
    t = pp_ckpt_find(c, "i64");
    cr_assert(t && t->dtype == PP_DTYPE_I64 && t->dims[0] == 12);
    for (int i = 0; i < 12; i++) cr_expect_eq(((const int64_t *)t->data)[i], i - 5);
    t = pp_ckpt_find(c, "i32");
    for (int i = 0; i < 12; i++) cr_expect_eq(((const int32_t *)t->data)[i], i - 5);
    t = pp_ckpt_find(c, "i16"); /* widened */
    cr_assert(t && t->dtype == PP_DTYPE_I32 && t->nbytes == 48);
    for (int i = 0; i < 12; i++) cr_expect_eq(((const int32_t *)t->data)[i], i - 5);
    t = pp_ckpt_find(c, "i8");
    for (int i = 0; i < 12; i++) cr_expect_eq(((const int8_t *)t->data)[i], i - 5);
    t = pp_ckpt_find(c, "u8");
    for (int i = 0; i < 12; i++) cr_expect_eq(((const uint8_t *)t->data)[i], i);
    t = pp_ckpt_find(c, "bool");
    cr_assert(t && t->dtype == PP_DTYPE_BOOL);
    for (int i = 0; i < 12; i++) cr_expect_eq(((const uint8_t *)t->data)[i], i % 3 == 0);
    t = pp_ckpt_find(c, "scalar");
    cr_assert(t && t->rank == 0 && t->nbytes == 4);
    cr_expect_eq(*(const float *)t->data, 2.5f);
    t = pp_ckpt_find(c, "empty");
    cr_assert(t && t->rank == 2 && t->dims[0] == 0 && t->nbytes == 0);
    pp_ckpt_free(c);
}

Test(checkpoint, views_and_dtypes) { check_views(CKPT "views.pt"); }
Test(checkpoint, big_endian) { check_views(CKPT "big_endian.pt"); }

Test(checkpoint, handmade_pickle) {
    pp_error err = {0};
    pp_ckpt *c;
    cr_assert_eq(pp_ckpt_open(CKPT "handmade_ok.pt", &c, &err), PP_OK, "%s", err.msg);
    const pp_ckpt_tensor *t = pp_ckpt_find(c, "w");
    cr_assert(t && t->rank == 1 && t->dims[0] == 3);
    cr_expect_eq(((const float *)t->data)[0], 2.0f);
    cr_expect_eq(((const float *)t->data)[2], 4.0f);
    pp_ckpt_free(c);
}

static void refused(const char *path, const char *arch, const char *needle) {
    pp_error err = {0};
    pp_graph *g = NULL;
    pp_code rc = pp_convert_checkpoint(path, arch, NULL, &g, NULL, 0, &err);
    cr_expect_neq(rc, PP_OK, "%s was accepted", path);
    cr_expect(g == NULL);
    cr_expect(strstr(err.msg, needle) != NULL, "%s: message '%s' lacks '%s'", path, err.msg, needle);
}

Test(checkpoint, refusals) {
    refused(CKPT "evil_os_system.pt", NULL, "global 'os.system' is not allowed");
    refused(CKPT "evil_eval.pt", NULL, "global 'builtins.eval' is not allowed");
    refused(CKPT "evil_storage_small.pt", NULL, "storage 'data/0' holds 8 bytes, its id says 40");
    refused(CKPT "evil_offset_past.pt", NULL, "tensor 'w' (offset 1, extent to element 4) does not fit its storage");
    refused(CKPT "evil_stride0.pt", NULL, "takes the tensors past 4 times the file's size");
    refused(CKPT "deflated.pt", NULL,
            "entry 'mlp/data.pkl' is compressed (method 8); torch.save writes stored entries");
    refused(CKPT "legacy.pt", NULL, "legacy torch.save format");
    refused(CKPT "torchscript.pt", NULL, "TorchScript archive");
    refused(MODELS "mlp.onnx", NULL, "an ONNX model, not a checkpoint");
    refused(MODELS "mlp.input.npy", NULL, "neither a torch.save zip archive nor a safetensors file");
    refused(CKPT "no_such_file.pt", NULL, "No such file");
    refused(CKPT "handmade_ok.pt", NULL, "cannot tell the architecture from the keys (w)");
    refused(MODELS "mlp.pt", "alexnet", "unknown architecture 'alexnet'");
    refused(MODELS "mlp.pt", "mlp:colour=blue", "unknown arch option 'colour'");
}

Test(checkpoint, key_mismatches_listed_together) {
    /* A ResNet's keys against an MLP: not an MLP (every 2-D weight is a layer; conv keys are unexpected). */
    refused(MODELS "resnet.pt", "mlp", "unexpected key");
    /* An MLP's keys against a ResNet: one message lists the missing keys. */
    refused(MODELS "mlp.pt", "resnet18", "missing 3 keys: conv1.weight, fc.weight, layer1.0.conv1.weight");
    /* The digits net against resnet.arch: every missing and unused key in one message. */
    pp_error err = {0};
    pp_graph *g = NULL;
    cr_assert_neq(
        pp_convert_checkpoint(PP_SOURCE_DIR "/examples/digits/digits.pt", NULL, CKPT "resnet.arch", &g, NULL, 0, &err),
        PP_OK);
    cr_expect(strstr(err.msg, "missing") && strstr(err.msg, "conv1.weight") && strstr(err.msg, "layer1.conv1.weight") &&
                  strstr(err.msg, "unexpected") && strstr(err.msg, "features.0.weight"),
              "%s", err.msg);
    /* Wrong input channels: mis-shaped, named. */
    cr_assert_neq(pp_convert_checkpoint(MODELS "resnet.pt", "resnet:input=32,channels=4", NULL, &g, NULL, 0, &err),
                  PP_OK);
    cr_expect(strstr(err.msg, "conv1.weight is (16,3,7,7)") != NULL, "%s", err.msg);
}

Test(checkpoint, inspect) {
    char buf[8192] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    pp_error err = {0};
    cr_assert_eq(pp_inspect_file(MODELS "resnet.pt", f, &err), PP_OK, "%s", err.msg);
    fclose(f);
    cr_expect(strstr(buf, "torch zip, 62 tensors") != NULL, "%s", buf);
    cr_expect(strstr(buf, "layer3.conv3.weight") != NULL);
    cr_expect(strstr(buf, "architecture: resnet") != NULL, "%s", buf);
    if (pp_safetensors_available()) {
        f = fmemopen(buf, sizeof buf - 1, "w");
        cr_assert_eq(pp_inspect_file(CKPT "mlp.safetensors", f, &err), PP_OK, "%s", err.msg);
        fclose(f);
        cr_expect(strstr(buf, "safetensors, 6 tensors") != NULL, "%s", buf);
    }
    cr_expect(pp_inspect_file(CKPT "evil_eval.pt", stdout, &err) != PP_OK);
}

/* torchvision models at full size, generated now where torch and torchvision
 * are installed (random weights, random BatchNorm statistics, input (2, 3, 64,
 * 64); Swin pads its 16x16 map to whole 7x7 windows there). ViT needs 224x224
 * and is checked at tiny width (tests/cli_arch.sh). */
Test(checkpoint, torchvision_models, .timeout = 900) {
    if (system("/usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1") != 0) {
        cr_skip_test("/usr/bin/python3 has no torch/torchvision");
    }
    char dir[] = "/tmp/pp_tv_XXXXXX";
    cr_assert(mkdtemp(dir));
    static const struct {
        const char *name, *want;
    } models[] = {
        {"resnet18", "resnet18 (basic 2,2,2,2"},
        {"resnet50", "resnet50 (bottleneck 3,4,6,3"},
        {"resnext50_32x4d", "resnext50_32x4d (bottleneck 3,4,6,3; groups 32"},
        {"mobilenet_v2", "mobilenet_v2 (17 inverted residual blocks"},
        {"mobilenet_v3_large", "mobilenet_v3_large (15 blocks)"},
        {"mobilenet_v3_small", "mobilenet_v3_small (11 blocks)"},
        {"efficientnet_b0", "efficientnet_b0 (blocks 1,2,2,3,3,4,1"},
        {"densenet121", "densenet121 (layers 6,12,24,16; growth 32)"},
        {"shufflenet_v2_x0_5", "shufflenet_v2_x0_5 (blocks 4,8,4; stage4 width 192)"},
        {"squeezenet1_0", "squeezenet1_0 (8 fire modules)"},
        {"squeezenet1_1", "squeezenet1_1 (8 fire modules)"},
        {"regnet_x_400mf", "regnet_x (blocks 1,2,7,12)"},
        {"regnet_y_400mf", "regnet_y (blocks 1,3,6,6; squeeze-excitation)"},
        {"mnasnet0_5", "mnasnet0_5 (stacks 3,3,3,2,4,1; stem width 16)"},
        {"googlenet", "googlenet (9 inception modules; aux heads ignored)"},
        {"convnext_tiny", "convnext_tiny (blocks 3,3,9,3; width 96)"},
        {"swin_t", "swin_t (depths 2,2,6,2; width 96)"},
        {"swin_v2_t", "swin_v2_t (depths 2,2,6,2; width 96)"},
        {"wide_resnet50_2", "wide_resnet50_2 (bottleneck 3,4,6,3; width 128)"},
    };
    char cmd[2048];
    int k = snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/fixtures/gen/gen_checkpoints.py --big %s",
                     PP_SOURCE_DIR, dir);
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        k += snprintf(cmd + k, sizeof cmd - (size_t)k, " %s", models[i].name);
    snprintf(cmd + k, sizeof cmd - (size_t)k, " >/dev/null 2>&1");
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char pt[512], in[512], out[512], given[128];
        snprintf(pt, sizeof pt, "%s/%s.pt", dir, models[i].name);
        snprintf(in, sizeof in, "%s/%s.input.npy", dir, models[i].name);
        snprintf(out, sizeof out, "%s/%s.output.npy", dir, models[i].name);
        snprintf(given, sizeof given, "%s:input=64", models[i].name);
        check_model(pt, "auto:input=64", NULL, in, out, 1e-4, models[i].want);
        check_model(pt, given, NULL, in, out, 1e-4, models[i].want);
        unlink(pt);
        unlink(in);
        unlink(out);
    }
    rmdir(dir);
}

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len);
    cr_assert_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* Every tensor of an accepted set lies inside the buffer or is owned. */
static void check_inside(const pp_ckpt *c, const uint8_t *b, size_t n) {
    for (int i = 0; i < c->n; i++) {
        const pp_ckpt_tensor *t = &c->tensors[i];
        if (t->owned || !t->nbytes) continue;
        const uint8_t *p = t->data;
        cr_assert(p >= b && (size_t)(p - b) <= n && t->nbytes <= n - (size_t)(p - b), "tensor %s outside", t->name);
    }
}

/* Random byte mutations anywhere in real archives (the pickle, the storages, the
 * zip records) and in a safetensors header: refused or accepted, never a crash
 * or a read outside the file (run under ASan by make test SANITIZE=1). */
Test(checkpoint, mutated_files, .timeout = 300) {
    const char *files[] = {MODELS "mlp.pt", CKPT "views.pt", CKPT "nested.pt", CKPT "mlp.safetensors"};
    int n_files = pp_safetensors_available() ? 4 : 3;
    uint64_t s = 0x853C49E6748FEA9Bull;
    for (int f = 0; f < n_files; f++) {
        size_t n;
        uint8_t *b = slurp(files[f], &n);
        uint8_t *c = malloc(n);
        int ok = 0;
        int is_st = f == 3;
        size_t hot = is_st ? 8 + (size_t)b[0] + ((size_t)b[1] << 8) : n; /* safetensors: the header */
        for (int it = 0; it < 1500; it++) {
            memcpy(c, b, n);
            for (int k = 0; k < 1 + it % 4; k++) {
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                size_t pos = (size_t)(s % (it % 2 ? hot : (hot < 2048 ? hot : 2048))); /* half in the first 2 KiB */
                if (!is_st && it % 3 == 0) pos = n - 1 - (size_t)(s % (n < 1024 ? n : 1024)); /* the zip tail */
                c[pos] = (uint8_t)(s >> 33);
            }
            pp_ckpt *ck = pp_calloc(1, sizeof *ck);
            pp_error err = {0};
            pp_code rc = is_st ? pp_safetensors_load(ck, c, n, "m", &err) : pp_torch_load(ck, c, n, "m", &err);
            if (rc == PP_OK) {
                ok++;
                check_inside(ck, c, n);
            } else {
                cr_assert(err.msg[0], "an error without a message");
            }
            pp_ckpt_free(ck);
        }
        cr_log_info("%s: %d of 1500 mutants accepted", files[f], ok);
        free(c);
        free(b);
    }
}

static void arch_file_error(const char *text, const char *needle) {
    char path[] = "/tmp/pp_arch_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    pp_error err = {0};
    pp_graph *g = NULL;
    cr_expect_neq(pp_convert_checkpoint(PP_SOURCE_DIR "/examples/digits/digits.pt", NULL, path, &g, NULL, 0, &err),
                  PP_OK, "accepted: %s", text);
    cr_expect(strstr(err.msg, needle) != NULL, "'%s' lacks '%s'", err.msg, needle);
    unlink(path);
}

Test(checkpoint, arch_file_errors) {
    arch_file_error("input shape=1,8,8\nsoftmax\n", ":2: unknown layer 'softmax'");
    arch_file_error("input shape=1,8,8\nconv features.0\n", ":2: 'features.0' is not KEY=VALUE");
    arch_file_error("conv w=features.0\n", ":1: no input yet");
    arch_file_error("input shape=1,8,8\nconv x=nope w=features.0\n", ":2: no value named 'nope' yet");
    arch_file_error("input shape=1,x,8\n", ":1: bad shape '1,x,8'");
    arch_file_error("input shape=1,8,8\nconv w=features.0 stride=0\n", ":2: bad value for stride");
    arch_file_error("input shape=1,8,8\nconv w=features.0 act=swish\n", ":2: unknown act 'swish'");
    arch_file_error("# nothing\n", "no 'input' line");
    /* Keys: a wrong one, and the rest of the file unused. */
    arch_file_error("input shape=1,8,8\nconv w=features.9 bn=features.1 pad=1 act=relu\n",
                    "missing 1 key: features.9.weight; 10 unexpected keys: features.0.weight");
    /* A shape that does not fit: 16 channels into a conv that wants 1. */
    arch_file_error("input shape=16,8,8\nconv w=features.0 bn=features.1\nconv w=features.3 bn=features.4\nmaxpool\n"
                    "flatten\nlinear w=classifier.1\nlinear w=classifier.3\n",
                    "input channels per group do not divide");
}

/* Every allocation failing in turn (pp_fault_arm_alloc): an error, never a crash
 * or a leak (ASan), and the first success builds the same graph. */
Test(checkpoint, allocation_failures, .timeout = 300) {
    const char *files[][2] = {{MODELS "resnet.pt", "resnet:input=32,strides=1/2/1"},
                              {CKPT "views.pt", NULL},
                              {CKPT "mlp_sharded.safetensors.index.json", "mlp"}};
    int n_files = pp_safetensors_available() ? 3 : 2;
    for (int f = 0; f < n_files; f++) {
        int failures = 0;
        for (long nth = 1; nth < 5000; nth++) {
            pp_error err = {0};
            pp_graph *g = NULL;
            pp_code rc;
            pp_fault_arm_alloc(nth);
            if (files[f][1] || f != 1) {
                rc = pp_convert_checkpoint(files[f][0], files[f][1], NULL, &g, NULL, 0, &err);
            } else {
                pp_ckpt *c = NULL;
                rc = pp_ckpt_open(files[f][0], &c, &err);
                pp_ckpt_free(c);
            }
            pp_fault_arm_alloc(0);
            pp_graph_free(g);
            if (rc == PP_OK) break;
            cr_assert(err.msg[0], "%s: allocation %ld failed without a message", files[f][0], nth);
            failures++;
        }
        cr_log_info("%s: %d allocation points", files[f][0], failures);
        cr_expect_gt(failures, 3);
    }
}

/* Real PyTorch exports (tests/fixtures/models, made by tests/fixtures/gen/
 * gen_models.py with torch.onnx.export and a dynamic batch) converted and run on
 * the CPU backend, against PyTorch's own outputs at the exported batch (2) and at
 * another batch size (3): ‖out − ref‖ / ‖ref‖ ≤ 1e-4. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "converter/convert.h"
#include "engine/exec.h"
#include "loader/model.h"
#include "loader/npy.h"

#ifndef PP_SOURCE_DIR
#define PP_SOURCE_DIR "."
#endif

static void check_model(const char *name) {
    char path[512], in[512], ref[512];
    snprintf(path, sizeof path, "%s/tests/fixtures/models/%s.onnx", PP_SOURCE_DIR, name);
    pp_error err;
    pp_onnx *h = NULL;
    pp_graph *g = NULL;
    pp_onnx_options oo;
    memset(&oo, 0, sizeof oo);
    cr_assert_eq(pp_convert_onnx_graph(path, &oo, &h, &g, NULL, &err), PP_OK, "%s: %s", name, err.msg);
    const char *suffix[] = {"", "_b3"};
    for (int s = 0; s < 2; s++) {
        snprintf(in, sizeof in, "%s/tests/fixtures/models/%s.input%s.npy", PP_SOURCE_DIR, name, suffix[s]);
        snprintf(ref, sizeof ref, "%s/tests/fixtures/models/%s.output%s.npy", PP_SOURCE_DIR, name, suffix[s]);
        pp_npy x, y;
        cr_assert_eq(pp_npy_read(in, &x, &err), PP_OK, "%s", err.msg);
        cr_assert_eq(pp_npy_read(ref, &y, &err), PP_OK, "%s", err.msg);
        int64_t batch = x.dims[0];
        pp_exec *e = NULL;
        pp_exec_options o = {.devices = "cpu",
                             .stages = 1,
                             .microbatch = 0,
                             .max_batch = (int)batch,
                             .inflight = 2,
                             .p2p = 0,
                             .split = NULL,
                             .trace = NULL,
                             .measure = 0,
                             .mem_limit = 0,
                             .graphs = 0,
                             .precision = PP_PREC_FP32};
        cr_assert_eq(pp_exec_create(g, &o, &e, &err), PP_OK, "%s: %s", name, err.msg);
        cr_assert_eq(pp_exec_output_bytes(e, 0, batch), y.nbytes, "%s: output size", name);
        float *out = malloc(y.nbytes);
        const void *ins[] = {x.data};
        void *outs[] = {out};
        cr_assert_eq(pp_exec_run(e, batch, ins, outs, &err), PP_OK, "%s: %s", name, err.msg);
        double num = 0, den = 0;
        const float *r = y.data;
        size_t n = y.nbytes / sizeof(float);
        for (size_t i = 0; i < n; i++) {
            cr_assert(isfinite(out[i]), "%s: output %zu is not finite", name, i);
            num += ((double)out[i] - r[i]) * ((double)out[i] - r[i]);
            den += (double)r[i] * r[i];
        }
        double rel = sqrt(num / (den > 0 ? den : 1));
        cr_assert(rel <= 1e-4, "%s at batch %lld: relative error %.3g", name, (long long)batch, rel);
        free(out);
        pp_exec_free(e);
        pp_npy_free(&x);
        pp_npy_free(&y);
    }
    pp_graph_free(g);
    pp_onnx_free(h);
}

Test(fixtures, mlp) { check_model("mlp"); }
Test(fixtures, resnet) { check_model("resnet"); }
Test(fixtures, resnet_bn) { check_model("resnet_bn"); }
Test(fixtures, mobilenet) { check_model("mobilenet"); }
Test(fixtures, efficientnet) { check_model("efficientnet"); }
Test(fixtures, densenet) { check_model("densenet"); }
Test(fixtures, shufflenet) { check_model("shufflenet"); }
Test(fixtures, vit) { check_model("vit"); }
Test(fixtures, gpt) { check_model("gpt"); }

/* --dtype f16 / bf16: graph.bin about half the size, weights widened at load,
 * outputs within the narrow types' rounding of PyTorch's (and not identical to
 * the f32 conversion: the narrowing really happened). */
static void check_narrow(const char *name, pp_dtype dt, double tol) {
    char src[512], out[128], in[512], ref[512];
    snprintf(src, sizeof src, "%s/tests/fixtures/models/%s.onnx", PP_SOURCE_DIR, name);
    snprintf(out, sizeof out, "/tmp/pp_fixture_%s_%s_%d.bin", name, pp_dtype_name(dt), (int)getpid());
    snprintf(in, sizeof in, "%s/tests/fixtures/models/%s.input_b3.npy", PP_SOURCE_DIR, name);
    snprintf(ref, sizeof ref, "%s/tests/fixtures/models/%s.output_b3.npy", PP_SOURCE_DIR, name);
    pp_error err;
    pp_convert_options co;
    memset(&co, 0, sizeof co);
    co.input = src;
    co.output = out;
    co.dtype = dt;
    pp_convert_stats st;
    cr_assert_eq(pp_convert(&co, &st, &err), PP_OK, "%s: %s", name, err.msg);
    cr_assert(st.bytes_written < st.weight_bytes * 3 / 4 + 65536,
              "%s: %llu bytes written for %llu bytes of f32 weights", name, (unsigned long long)st.bytes_written,
              (unsigned long long)st.weight_bytes);
    pp_model *m = NULL;
    pp_graph *g = NULL;
    cr_assert_eq(pp_model_load(out, 0, &m, &err), PP_OK, "%s", err.msg);
    cr_assert_str_eq(pp_model_meta_get(m, "weights_dtype"), pp_dtype_name(dt));
    cr_assert_eq(pp_graph_from_model(&m, &g, &err), PP_OK, "%s", err.msg);
    pp_npy x, y;
    cr_assert_eq(pp_npy_read(in, &x, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(pp_npy_read(ref, &y, &err), PP_OK, "%s", err.msg);
    pp_exec *e = NULL;
    pp_exec_options o = {.devices = "cpu",
                         .stages = 1,
                         .microbatch = 0,
                         .max_batch = (int)x.dims[0],
                         .inflight = 2,
                         .p2p = 0,
                         .split = NULL,
                         .trace = NULL,
                         .measure = 0,
                         .mem_limit = 0,
                         .graphs = 0,
                         .precision = PP_PREC_FP32};
    cr_assert_eq(pp_exec_create(g, &o, &e, &err), PP_OK, "%s", err.msg);
    float *res = malloc(y.nbytes);
    const void *ins[] = {x.data};
    void *outs[] = {res};
    cr_assert_eq(pp_exec_run(e, x.dims[0], ins, outs, &err), PP_OK, "%s", err.msg);
    double num = 0, den = 0;
    for (size_t i = 0; i < y.nbytes / 4; i++) {
        double d = (double)res[i] - ((float *)y.data)[i];
        num += d * d;
        den += (double)((float *)y.data)[i] * ((float *)y.data)[i];
    }
    double rel = sqrt(num / den);
    cr_assert(rel <= tol && rel > 1e-7, "%s as %s: relative error %.3g (tolerance %.3g)", name, pp_dtype_name(dt), rel,
              tol);
    free(res);
    pp_exec_free(e);
    pp_graph_free(g);
    pp_npy_free(&x);
    pp_npy_free(&y);
    unlink(out);
}

Test(fixtures, stored_f16) {
    check_narrow("resnet", PP_DTYPE_F16, 5e-3);
    check_narrow("vit", PP_DTYPE_F16, 5e-3);
}
Test(fixtures, stored_bf16) {
    check_narrow("mobilenet", PP_DTYPE_BF16, 5e-2);
    check_narrow("vit", PP_DTYPE_BF16, 5e-2);
}

/* gpu_models.c: every fixture model (tests/fixtures/models, the .onnx files) converted with
 * ppconvert, run at batch 3 on the CPU and on cuda:0 (one stage, and a two-stage
 * pipeline on the same GPU with micro-batch 1), compared with each other and with
 * the PyTorch output stored beside the model. Then again with captured launches
 * replayed (graphs) on device buffers through pp_engine_run_device, one stage and
 * two: the input is copied in asynchronously on the test's own CUDA stream just
 * before the call and the output copied out on it just after, so the engine must
 * order itself after and before that stream. A standalone program: exits 77
 * (skipped) without a CUDA device. --device SPEC replaces cuda:0 (e.g. cpu:1, to
 * check the program itself on a machine without a GPU); a further argument runs
 * only the models whose name contains it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "include/ppengine.h"
#include "loader/npy.h"

#ifdef PP_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

#ifndef PP_SOURCE_DIR
#define PP_SOURCE_DIR "."
#endif

static const char *models[] = {"mlp",      "resnet",     "resnet_bn", "mobilenet", "efficientnet",
                               "densenet", "shufflenet", "vit",       "gpt"};

static int n_pass, n_fail, n_skip;

/* The CUDA emulator (tests/emu) counts every device and pinned allocation and
 * every cudaMalloc/cudaFree; elsewhere this is NULL and the check is skipped. */
extern long pp_emu_alloc_count(void) __attribute__((weak));

static int sh(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Device buffers for pp_engine_run_device: CUDA memory on CUDA devices, host
 * memory on CPU devices (--device cpu:1), where the stream is NULL. */
typedef struct io_mem {
    int cuda;
    void *stream;
} io_mem;

static void *io_alloc(const io_mem *m, size_t n) {
#ifdef PP_HAVE_CUDA
    void *p = NULL;
    if (m->cuda) return cudaMalloc(&p, n ? n : 1) == cudaSuccess ? p : NULL;
#endif
    (void)m;
    return malloc(n ? n : 1);
}

static void io_free(const io_mem *m, void *p) {
#ifdef PP_HAVE_CUDA
    if (m->cuda) {
        if (p) (void)cudaFree(p);
        return;
    }
#endif
    (void)m;
    free(p);
}

/* Copies on the caller's stream, not waiting (CUDA); plain memcpy on the host. */
static int io_copy(const io_mem *m, void *dst, const void *src, size_t n, int to_device) {
#ifdef PP_HAVE_CUDA
    if (m->cuda)
        return cudaMemcpyAsync(dst, src, n, to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost,
                               (cudaStream_t)m->stream) != cudaSuccess;
#endif
    (void)m;
    (void)to_device;
    memcpy(dst, src, n);
    return 0;
}

static int io_sync(const io_mem *m) {
#ifdef PP_HAVE_CUDA
    if (m->cuda) return cudaStreamSynchronize((cudaStream_t)m->stream) != cudaSuccess;
#endif
    (void)m;
    return 0;
}

/* Runs net at `batch` on devices/stages/microbatch; *out (malloc'ed) gets output 0.
 * graphs: replay captured launches; io: through pp_engine_run_device on buffers
 * from io_alloc (NULL: host buffers and pp_engine_run). */
static int run_net(const pp_net *net, const char *devices, const char *stages, const char *microbatch, int64_t batch,
                   const void *input, int graphs, const io_mem *io, const char *precision, float **out,
                   size_t *out_bytes, char *msg, size_t msz) {
    pp_options *opt = NULL;
    pp_engine *eng = NULL;
    char mb[32];
    snprintf(mb, sizeof mb, "%lld", (long long)batch);
    size_t ob = pp_net_output_bytes(net, 0, batch), ib = pp_net_input_bytes(net, 0, batch);
    float *y = malloc(ob ? ob : 1);
    void *dx = NULL, *dy = NULL;
    pp_status *st = pp_options_create(&opt);
    if (!st) st = pp_options_set(opt, "devices", devices);
    if (!st) st = pp_options_set(opt, "max_batch", mb);
    if (!st && stages) st = pp_options_set(opt, "stages", stages);
    if (!st && microbatch) st = pp_options_set(opt, "microbatch", microbatch);
    if (!st) st = pp_options_set(opt, "graphs", graphs ? "1" : "0"); /* CUDA would default to graphs */
    if (!st && precision) st = pp_options_set(opt, "precision", precision);
    if (!st) st = pp_engine_create(net, opt, &eng);
    int rc = 0;
    if (!st && io) {
        if (!(dx = io_alloc(io, ib)) || !(dy = io_alloc(io, ob))) {
            snprintf(msg, msz, "%s: cannot allocate device buffers", devices);
            rc = 1;
        }
        /* twice: the second run replays what the first prepared and captured */
        for (int r = 0; r < 2 && !rc && !st; r++) {
            const void *ins[1] = {dx};
            void *outs[1] = {dy};
            memset(y, 0, ob);
            if (io_copy(io, dx, input, ib, 1)) rc = 1;
            if (!rc) st = pp_engine_run_device(eng, batch, ins, outs, io->stream);
            if (!rc && !st && (io_copy(io, y, dy, ob, 0) || io_sync(io))) rc = 1;
            if (rc) snprintf(msg, msz, "%s: a copy on the caller's stream failed", devices);
        }
        if (!rc && !st) st = pp_engine_synchronize(eng);
    } else if (!st) {
        const void *ins[1] = {input};
        void *outs[1] = {y};
        long allocs = pp_emu_alloc_count ? pp_emu_alloc_count() : 0;
        st = pp_engine_run(eng, batch, ins, outs);
        /* a second run: prepared launches and captured graphs are reused */
        if (!st) st = pp_engine_run(eng, batch, ins, outs);
        /* and a smaller batch: a new micro-batch size, prepared (and captured)
         * mid-service; its outputs land in the first rows */
        if (!st && batch > 1) st = pp_engine_run(eng, batch - 1, ins, outs);
        if (!st && batch > 1) st = pp_engine_run(eng, batch, ins, outs);
        long made = pp_emu_alloc_count ? pp_emu_alloc_count() - allocs : 0;
        if (!st && made) {
            snprintf(msg, msz, "%s: %ld device allocations or frees after the engine was built", devices, made);
            rc = 1;
        }
    }
    if (st) {
        snprintf(msg, msz, "%s: %s", devices, pp_status_message(st));
        pp_status_free(st);
        rc = 1;
    }
    if (rc) {
        free(y);
        y = NULL;
    }
    if (io) {
        io_free(io, dx);
        io_free(io, dy);
    }
    pp_engine_free(eng);
    pp_options_free(opt);
    *out = y;
    *out_bytes = ob;
    return rc;
}

/* ||got - ref|| / ||ref||, with the largest |difference| into msg */
static double rel_l2(const float *ref, const float *got, size_t n, char *msg, size_t msz) {
    double num = 0, den = 0, worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)ref[i];
        if (!isfinite(got[i])) d = INFINITY;
        num += d * d;
        den += (double)ref[i] * ref[i];
        if (fabs(d) > worst) worst = fabs(d);
    }
    double r = sqrt(num) / (den > 0 ? sqrt(den) : 1);
    snprintf(msg, msz, "rel L2 %.3g, max |diff| %.3g", r, worst);
    return r;
}

/* The index of the largest value of every row of `cols` values: the top-1
 * class of a classifier, the next token of a language model. 1 when ref and got
 * agree on every row (rows whose top two are within `tie` of each other in the
 * reference are not counted: 16-bit rounding may legitimately swap them). */
static int same_top1(const float *ref, const float *got, size_t n, size_t cols, float tie, float ulp, char *msg,
                     size_t msz) {
    size_t rows = cols ? n / cols : 0, ties = 0;
    for (size_t r = 0; r < rows; r++) {
        const float *a = ref + r * cols, *b = got + r * cols;
        size_t ia = 0, ib = 0;
        for (size_t c = 1; c < cols; c++) {
            if (a[c] > a[ia]) ia = c;
            if (b[c] > b[ib]) ib = c;
        }
        float second = -INFINITY;
        for (size_t c = 0; c < cols; c++)
            if (c != ia && a[c] > second) second = a[c];
        /* the output is stored in the run's precision: values within a few of
         * its units in the last place at the top value's magnitude may swap */
        if (a[ia] - second < fmaxf(tie, 4 * ulp * fabsf(a[ia]))) {
            ties++;
            continue;
        }
        if (ia != ib) {
            snprintf(msg, msz, "row %zu: top-1 %zu in the reference (%.4g, next %.4g), %zu here (%.4g vs %.4g)", r, ia,
                     a[ia], second, ib, b[ib], b[ia]);
            return 0;
        }
    }
    snprintf(msg, msz, "top-1 same on %zu rows (%zu near-ties left out)", rows - ties, ties);
    return 1;
}

static int close_enough(const float *ref, const float *got, size_t n, float atol, float rtol, char *msg, size_t msz) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)ref[i] - (double)got[i]);
        if (!isfinite(got[i]) || d > atol + rtol * fabs(ref[i])) {
            snprintf(msg, msz, "element %zu: reference %.7g, got %.7g", i, ref[i], got[i]);
            return 0;
        }
        if (d > worst) worst = d;
    }
    snprintf(msg, msz, "max |diff| %.3g", worst);
    return 1;
}

int main(int argc, char **argv) {
    const char *device = "cuda:0", *filter = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
        else filter = argv[i];
    }
    int self_test = strncmp(device, "cuda", 4) != 0;
    if (!self_test && pp_cuda_devices() == 0) {
        printf("SKIPPED: no CUDA device\n");
        return 77;
    }
    const char *conv = getenv("PPCONVERT");
    char conv_buf[1024];
    if (!conv || access(conv, X_OK) != 0) {
        const char *bin = getenv("PP_BINARY_DIR");
        snprintf(conv_buf, sizeof conv_buf, "%s/ppconvert", bin ? bin : ".");
        conv = conv_buf;
    }
    if (access(conv, X_OK) != 0) {
        printf("SKIPPED: no ppconvert at %s\n", conv);
        return 77;
    }
    char dir[] = "/tmp/pp_gpu_models_XXXXXX";
    if (!mkdtemp(dir)) {
        printf("FAIL: cannot make a temporary folder\n");
        return 1;
    }
    /* a pipeline over two logical devices on the same GPU */
    char two[80];
    snprintf(two, sizeof two, "%s,%s", device, device);
    /* Device buffers: CUDA memory and a stream of our own on a GPU; host memory
     * where the device is the CPU or the CUDA emulator (built without the runtime). */
    io_mem io = {0, NULL};
#ifdef PP_HAVE_CUDA
    cudaStream_t caller = NULL;
    io.cuda = !self_test;
    if (io.cuda && cudaStreamCreateWithFlags(&caller, cudaStreamNonBlocking) != cudaSuccess) {
        printf("FAIL: cannot create the caller's stream\n");
        return 1;
    }
    io.stream = caller;
#endif
    for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
        const char *name = models[m];
        if (filter && !strstr(name, filter)) continue;
        char onnx[1024], bin[1024], xin[1024], yref[1024], cmd[4096], msg[1024] = "";
        snprintf(onnx, sizeof onnx, "%s/tests/fixtures/models/%s.onnx", PP_SOURCE_DIR, name);
        snprintf(xin, sizeof xin, "%s/tests/fixtures/models/%s.input_b3.npy", PP_SOURCE_DIR, name);
        snprintf(yref, sizeof yref, "%s/tests/fixtures/models/%s.output_b3.npy", PP_SOURCE_DIR, name);
        snprintf(bin, sizeof bin, "%s/%s.bin", dir, name);
        snprintf(cmd, sizeof cmd, "'%s' '%s' -o '%s' > '%s/%s.log' 2>&1", conv, onnx, bin, dir, name);
        if (sh(cmd) != 0) {
            printf("FAIL %-14s ppconvert failed (%s/%s.log)\n", name, dir, name);
            n_fail++;
            continue;
        }
        pp_net *net = NULL;
        pp_status *st = pp_net_load(bin, &net);
        pp_npy x, yr;
        pp_error err;
        memset(&x, 0, sizeof x);
        memset(&yr, 0, sizeof yr);
        if (st) {
            printf("FAIL %-14s loading: %s\n", name, pp_status_message(st));
            pp_status_free(st);
            n_fail++;
            continue;
        }
        if (pp_npy_read(xin, &x, &err) || pp_npy_read(yref, &yr, &err)) {
            printf("SKIP %-14s %s\n", name, err.msg);
            n_skip++;
            pp_npy_free(&x);
            pp_net_free(net);
            continue;
        }
        int64_t batch = x.dims[0];
        float *ycpu = NULL, *ygpu = NULL, *ypipe = NULL, *ygraph = NULL, *ygpipe = NULL, *yf16 = NULL, *ybf16 = NULL;
        size_t ob = 0;
        int ok = 1;
        if (run_net(net, "cpu", NULL, NULL, batch, x.data, 0, NULL, NULL, &ycpu, &ob, msg, sizeof msg) ||
            run_net(net, device, NULL, NULL, batch, x.data, 0, NULL, NULL, &ygpu, &ob, msg, sizeof msg) ||
            run_net(net, two, "2", "1", batch, x.data, 0, NULL, NULL, &ypipe, &ob, msg, sizeof msg) ||
            run_net(net, device, NULL, NULL, batch, x.data, 1, &io, NULL, &ygraph, &ob, msg, sizeof msg) ||
            run_net(net, two, "2", "1", batch, x.data, 1, &io, NULL, &ygpipe, &ob, msg, sizeof msg) ||
            (!self_test &&
             (run_net(net, device, NULL, NULL, batch, x.data, 1, NULL, "fp16", &yf16, &ob, msg, sizeof msg) ||
              run_net(net, device, NULL, NULL, batch, x.data, 1, NULL, "bf16", &ybf16, &ob, msg, sizeof msg)))) {
            ok = 0;
        } else if (yr.nbytes != ob) {
            ok = 0;
            snprintf(msg, sizeof msg, "reference output has %zu bytes, the engine %zu", yr.nbytes, ob);
        } else {
            size_t n = ob / sizeof(float);
            pp_tensor_info oi;
            pp_status *ist = pp_net_output_info(net, 0, &oi);
            size_t cols = !ist && oi.rank > 0 && oi.dims[oi.rank - 1] > 0 ? (size_t)oi.dims[oi.rank - 1] : 1;
            pp_status_free(ist);
            char m1[256], m2[256], m3[256], m4[256];
            /* fp32 on both; the GPU sums in other orders (cuDNN, cuBLASLt) */
            if (!close_enough(ycpu, ygpu, n, 1e-3f, 1e-3f, m1, sizeof m1)) {
                ok = 0;
                snprintf(msg, sizeof msg, "%s vs cpu: %s", device, m1);
            } else if (!close_enough(yr.data, ygpu, n, 1e-3f, 1e-3f, m2, sizeof m2)) {
                ok = 0;
                snprintf(msg, sizeof msg, "%s vs PyTorch: %s", device, m2);
            } else if (!close_enough(ygpu, ypipe, n, 1e-5f, 1e-5f, m3, sizeof m3)) {
                ok = 0;
                snprintf(msg, sizeof msg, "%s 2 stages vs 1: %s", two, m3);
            } else if (!close_enough(ygpu, ygraph, n, 1e-5f, 1e-5f, m4, sizeof m4) ||
                       !close_enough(ygpu, ygpipe, n, 1e-5f, 1e-5f, m4, sizeof m4)) {
                ok = 0;
                snprintf(msg, sizeof msg, "graphs on device buffers vs plain: %s", m4);
            } else if (yf16 && (rel_l2(yr.data, yf16, n, m4, sizeof m4) > 1e-2 ||
                                !same_top1(yr.data, yf16, n, cols, 1e-3f, 0x1p-10f, m4, sizeof m4))) {
                ok = 0;
                snprintf(msg, sizeof msg, "fp16 vs PyTorch: %s", m4);
            } else if (ybf16 && (rel_l2(yr.data, ybf16, n, m4, sizeof m4) > 1e-2 ||
                                 !same_top1(yr.data, ybf16, n, cols, 1e-2f, 0x1p-7f, m4, sizeof m4))) {
                ok = 0;
                snprintf(msg, sizeof msg, "bf16 vs PyTorch: %s", m4);
            } else {
                char m5[128] = "", m6[128] = "";
                if (yf16) rel_l2(yr.data, yf16, n, m5, sizeof m5);
                if (ybf16) rel_l2(yr.data, ybf16, n, m6, sizeof m6);
                snprintf(msg, sizeof msg,
                         "vs cpu %s; vs PyTorch %s; 2-stage pipeline %s; graphs+device buffers ok%s%s%s%s", m1, m2, m3,
                         yf16 ? "; fp16 " : "", m5, ybf16 ? "; bf16 " : "", m6);
            }
        }
        printf("%-4s %-14s batch %lld: %s\n", ok ? "ok" : "FAIL", name, (long long)batch, msg);
        fflush(stdout);
        if (ok) n_pass++;
        else n_fail++;
        free(ycpu);
        free(ygpu);
        free(ypipe);
        free(ygraph);
        free(ygpipe);
        free(yf16);
        free(ybf16);
        pp_npy_free(&x);
        pp_npy_free(&yr);
        pp_net_free(net);
    }
#ifdef PP_HAVE_CUDA
    if (caller) (void)cudaStreamDestroy(caller);
#endif
    snprintf(two, sizeof two, "rm -rf '%s'", dir);
    if (!n_fail) (void)sh(two);
    printf("%d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
    return n_fail ? 1 : 0;
}

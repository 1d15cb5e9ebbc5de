/* gpu_ops.c: every CUDA op against the CPU reference kernel, on the same random
 * inputs. A standalone program (the GPU machine has no Criterion): exits 77,
 * which ctest reports as skipped, when there is no CUDA device.
 *
 * Per case: a pp_node built by hand with ONNX attributes, pp_op_describe for the
 * params, the CPU kernel (pp_cpu_kernel_for) and the CUDA backend (alloc, upload,
 * prepare, launch, download, sync) on the same inputs; values compared with
 * atol + rtol·|ref| (exact for integers and bools), NaN and Inf must match, and
 * every output is followed by guard bytes filled with a pattern that must come
 * back untouched (an out-of-bounds write), the output itself being pre-filled
 * with the pattern too (an element never written). One line per case, then
 * "N passed, N failed, N skipped"; exit 1 on any failure.
 *
 * Also: a CUDA graph capture and replay, the gather error flag, stream/event
 * ordering across two streams, a peer copy when there are two GPUs, and GEMM,
 * MATMUL and CONV in the fp16 and bf16 precision modes (tolerances from the
 * inputs' rounding; not with --device cpu, which computes in f32 only).
 *
 * Without a GPU: `gpu_ops --device cpu` checks the table itself (CPU against
 * CPU), and tests/emu/run.sh runs it against the CUDA kernels emulated
 * on the host.
 *
 * The harness (a case, its run, the comparison) is tests/gpu_ops/harness.c, the
 * tables tests/gpu_ops/cases_*.c; this file holds the checks that are no table
 * row (streams, peers, device numbers) and main.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_ops/harness.h"

/* Two streams ordered by an event: stream B copies what stream A wrote. */
static void ordering_case(void) {
    tcase c = {.name = "streams: record on A, wait on B"};
    if (!selected(c.name)) return;
    pp_error err;
    pp_stream *a = NULL, *b = NULL;
    pp_event *ev = NULL;
    void *d1 = NULL, *d2 = NULL;
    const size_t n = (size_t)64 << 20;
    unsigned char *h = malloc(n), *back = malloc(n);
    pp_code rc;
    for (size_t i = 0; i < n; i++) h[i] = (unsigned char)(i * 7 + 3);
    memset(back, 0, n);
    if ((rc = gpu->ops->stream_create(gpu, &a, &err)) || (rc = gpu->ops->stream_create(gpu, &b, &err)) ||
        (rc = gpu->ops->event_create(gpu, &ev, &err)) || (rc = gpu->ops->alloc(gpu, n, &d1, &err)) ||
        (rc = gpu->ops->alloc(gpu, n, &d2, &err)) || (rc = gpu->ops->upload(gpu, a, d1, h, n, &err)) ||
        (rc = gpu->ops->event_record(gpu, ev, a, &err)) || (rc = gpu->ops->stream_wait(gpu, b, ev, &err)) ||
        (rc = gpu->ops->copy(gpu, b, d2, d1, n, &err)) || (rc = gpu->ops->download(gpu, b, back, d2, n, &err)) ||
        (rc = gpu->ops->stream_sync(gpu, b, &err))) {
        report(&c, "FAIL", "cuda: %s", err.msg);
        n_fail++;
    } else if (memcmp(h, back, n) != 0) {
        report(&c, "FAIL", "the copy on B ran before the upload on A finished");
        n_fail++;
    } else {
        report(&c, "ok", "64 MiB through two streams");
        n_pass++;
    }
    if (a) gpu->ops->stream_sync(gpu, a, &err);
    gpu->ops->event_destroy(gpu, ev);
    gpu->ops->stream_destroy(gpu, a);
    gpu->ops->stream_destroy(gpu, b);
    gpu->ops->free(gpu, d1);
    gpu->ops->free(gpu, d2);
    free(h);
    free(back);
}

/* Every other device as a peer: enable, copy, compare (needs 2 GPUs; else skipped). */
static void peer_case(int ndev) {
    tcase c = {.name = "peer copy cuda:1 -> cuda:0"};
    if (!selected(c.name)) return;
    if (ndev < 2) {
        report(&c, "SKIP", "(one device)");
        n_skip++;
        return;
    }
    pp_error err;
    pp_backend *g1 = NULL;
    pp_stream *s = NULL, *s1 = NULL;
    void *d0 = NULL, *d1 = NULL;
    const size_t n = (size_t)8 << 20;
    unsigned char *h = malloc(n), *back = calloc(1, n);
    for (size_t i = 0; i < n; i++) h[i] = (unsigned char)(i * 13 + 1);
    pp_code rc;
    if ((rc = pp_backend_cuda_create(1, &g1, &err)) || (rc = gpu->ops->stream_create(gpu, &s, &err)) ||
        (rc = g1->ops->stream_create(g1, &s1, &err)) || (rc = gpu->ops->alloc(gpu, n, &d0, &err)) ||
        (rc = g1->ops->alloc(g1, n, &d1, &err)) || (rc = g1->ops->upload(g1, s1, d1, h, n, &err)) ||
        (rc = g1->ops->stream_sync(g1, s1, &err))) {
        report(&c, "FAIL", "cuda: %s", err.msg);
        n_fail++;
    } else if ((rc = gpu->ops->enable_peer(gpu, g1, &err)) != PP_OK) {
        report(&c, rc == PP_ERR_UNSUPPORTED ? "SKIP" : "FAIL", "%s", err.msg);
        if (rc == PP_ERR_UNSUPPORTED) n_skip++;
        else n_fail++;
    } else if ((rc = gpu->ops->copy_peer(gpu, s, d0, g1, d1, n, &err)) ||
               (rc = gpu->ops->download(gpu, s, back, d0, n, &err)) || (rc = gpu->ops->stream_sync(gpu, s, &err))) {
        report(&c, "FAIL", "cuda: %s", err.msg);
        n_fail++;
    } else if (memcmp(h, back, n) != 0) {
        report(&c, "FAIL", "the peer copy's bytes differ");
        n_fail++;
    } else {
        report(&c, "ok", "8 MiB");
        n_pass++;
    }
    if (s) gpu->ops->stream_destroy(gpu, s);
    gpu->ops->free(gpu, d0);
    if (g1) {
        if (s1) g1->ops->stream_destroy(g1, s1);
        g1->ops->free(g1, d1);
        pp_backend_destroy(g1);
    }
    free(h);
    free(back);
}

int main(int argc, char **argv) {
    /* --device cpu runs the same table CPU against CPU: a check of the harness and
     * of the cases (attributes, shapes) on a machine without a GPU. */
    const char *device = "cuda:0";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
        else filter = argv[i];
    }
    int self_test = strncmp(device, "cuda", 4) != 0;
    int ndev = pp_cuda_device_count();
    if (ndev == 0 && !self_test) {
        printf("SKIPPED: no CUDA device\n");
        return 77;
    }
    pp_error err;
    if (pp_backend_create(device, &gpu, &err) != PP_OK) {
        printf("FAIL creating %s: %s\n", device, err.msg);
        return 1;
    }
    if (!self_test) {
        pp_error e2;
        pp_backend *bad = NULL;
        tcase c = {.name = "cuda:N out of range is refused"};
        if (pp_backend_cuda_create(ndev, &bad, &e2) == PP_ERR_DEVICE && !bad && strstr(e2.msg, "cuda:")) {
            report(&c, "ok", "%s", e2.msg);
            n_pass++;
        } else {
            report(&c, "FAIL", "cuda:%d was accepted or gave no message", ndev);
            n_fail++;
            pp_backend_destroy(bad);
        }
    }
    eltwise_cases();
    nn_cases();
    data_cases();
    if (gpu->ops->capture_begin) graph_cases();
    if (strcmp(gpu->ops->kind, "cuda") == 0) { /* the GPU, or the emulator */
        precision_cases();
        format_cases();
        fallback_cases();
    }
    ordering_case();
    if (!self_test) peer_case(ndev);
    if (g_stream) gpu->ops->stream_destroy(gpu, g_stream);
    pp_backend_destroy(gpu);
    printf("%d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
    return n_fail ? 1 : 0;
}

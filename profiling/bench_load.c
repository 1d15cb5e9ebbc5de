/* bench_load.c: how long opening a large graph.bin takes.
 *
 * Builds a 100M-parameter f32 model (25 GEMM layers of 2000×2000, 400 MB of
 * weights) with the model builder, writes it to a file in argv[1] (default
 * /tmp), then times pp_model_load with and without PP_LOAD_SKIP_DATA_CHECKSUM.
 * The file is in the page cache after writing, so this measures validation and
 * checksumming, not the disk. Prints figures; asserts nothing.
 *
 *     bench_load [DIR] [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loader/model.h"
#include "support/model_builder.h"

enum { LAYERS = 25, WIDTH = 2000 };

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void time_loads(const char *path, unsigned flags, const char *label, double mb, int reps) {
    double *t = malloc(sizeof(double) * (size_t)reps);
    uint64_t sink = 0;
    for (int r = 0; r < reps; r++) {
        pp_model *m = NULL;
        pp_error err = {0};
        double t0 = now_s();
        pp_code rc = pp_model_load(path, flags, &m, &err);
        t[r] = now_s() - t0;
        if (rc != PP_OK) {
            fprintf(stderr, "load failed: %s\n", err.msg);
            free(t);
            return;
        }
        sink += m->n_tensors + ((const unsigned char *)m->tensors[1].data)[0];
        pp_model_free(m);
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double best = t[0], median = t[reps / 2];
    printf("%-28s %8.1f MB  best %8.3f ms  median %8.3f ms  %8.2f GB/s (best)\n", label, mb, best * 1e3, median * 1e3,
           mb / 1e3 / best);
    free(t);
    (void)sink;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    int reps = argc > 2 ? atoi(argv[2]) : 7;
    if (reps < 1) reps = 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/pp_bench_load_%ld.bin", dir, (long)getpid());

    /* One weight buffer, borrowed by every layer: the writer streams it 25 times. */
    size_t per = (size_t)WIDTH * WIDTH;
    float *w = malloc(per * sizeof *w);
    if (!w) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < per; i++) w[i] = (float)(i % 1000) * 1e-3f - 0.5f;

    pp_mb *b = pp_mb_new();
    int64_t act[2] = {PP_DIM_BATCH, WIDTH}, wd[2] = {WIDTH, WIDTH};
    uint32_t h = pp_mb_input(b, "x", PP_DTYPE_F32, 2, act);
    char name[64];
    for (int l = 0; l < LAYERS; l++) {
        snprintf(name, sizeof name, "layers.%d.weight", l);
        uint32_t wt = pp_mb_weight_borrow(b, name, PP_DTYPE_F32, 2, wd, w);
        snprintf(name, sizeof name, "layers.%d.out", l);
        uint32_t y = pp_mb_activation(b, name, PP_DTYPE_F32, 2, act);
        snprintf(name, sizeof name, "layers.%d", l);
        pp_mb_add_node(b, PP_OP_GEMM, name, PP_MB_IDS(h, wt), PP_MB_IDS(y), PP_MB_ATTRS(pp_mb_attr_int("transB", 1)));
        h = y;
    }
    pp_mb_add_output(b, h);
    pp_mb_add_meta(b, "producer", "bench_load");

    pp_error err = {0};
    double t0 = now_s();
    if (pp_model_write(pp_mb_model(b), path, &err) != PP_OK) {
        fprintf(stderr, "write failed: %s\n", err.msg);
        return 1;
    }
    double tw = now_s() - t0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot reopen %s\n", path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    double mb = (double)ftell(f) / 1e6;
    fclose(f);
    printf("model: %d layers of %dx%d f32, %.0fM parameters, file %s\n", LAYERS, WIDTH, WIDTH,
           (double)LAYERS * per / 1e6, path);
    printf("%-28s %8.1f MB  %7.1f ms  %6.2f GB/s (incl. fsync)\n", "pp_model_write", mb, tw * 1e3, mb / 1e3 / tw);

    time_loads(path, 0, "load, full checksum", mb, reps);
    time_loads(path, PP_LOAD_SKIP_DATA_CHECKSUM, "load, SKIP_DATA_CHECKSUM", mb, reps);

    /* The checksum alone, over memory already resident, for comparison. */
    double tc = 1e9;
    for (int r = 0; r < reps; r++) {
        t0 = now_s();
        volatile uint64_t c = pp_fmt_checksum(w, per * sizeof *w);
        (void)c;
        double dt = now_s() - t0;
        if (dt < tc) tc = dt;
    }
    printf("%-28s %8.1f MB  best %8.3f ms  %27.2f GB/s\n", "pp_fmt_checksum (in memory)", per * 4 / 1e6, tc * 1e3,
           per * 4 / 1e9 / tc);

    unlink(path);
    pp_mb_free(b);
    free(w);
    return 0;
}

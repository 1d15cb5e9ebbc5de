/* bench_kernels.c: the fast CPU kernels against the reference, shape by shape.
 *
 * For each shape (ResNet-50's convolutions, depthwise ones from MobileNet and
 * EfficientNet, BERT-base's products and attention), runs the reference kernel
 * (pp_cpu_*) and the fast one (kernels/cpu/fast) on the same data and prints
 * GFLOP/s against wall time and against the process's CPU time (user + system,
 * all threads), which a machine shared with other work disturbs much less than
 * the wall. Prints figures; asserts nothing.
 *
 *     bench_kernels [THREADS] [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/fast/fast.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu_s(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec * 1e-6 + (double)u.ru_stime.tv_sec +
           (double)u.ru_stime.tv_usec * 1e-6;
}

static float *rnd(size_t n) {
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) & ~(size_t)63);
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 500.f - 1.f;
    return p;
}

typedef struct shape {
    const char *name;
    pp_op op;
    pp_op_params p;
    double flops;
} shape;

static shape conv(const char *name, int64_t n, int64_t c, int64_t h, int64_t k, int64_t ks, int64_t s, int64_t g) {
    shape sh = {name, PP_OP_CONV, {{0}}, 0};
    pp_conv_params *p = &sh.p.conv;
    int64_t pad = ks / 2;
    *p = (pp_conv_params){
        n,   c,   h,   h,   k, ks, ks, (h + 2 * pad - ks) / s + 1, (h + 2 * pad - ks) / s + 1,        s, s,
        pad, pad, pad, pad, 1, 1,  g,  {PP_ACT_RELU, 0, 0},        {PP_DTYPE_F32, PP_LAYOUT_PLAIN, 0}};
    sh.flops = 2.0 * (double)(n * k * p->oh * p->ow) * (double)(c / g * ks * ks);
    return sh;
}

static shape matmul(const char *name, int64_t m, int64_t n, int64_t k) {
    shape sh = {name, PP_OP_MATMUL, {{0}}, 2.0 * (double)m * (double)n * (double)k};
    sh.p.matmul = (pp_matmul_params){m, n, k, 0, {0}, {0}, {0}, 1, PP_DTYPE_F32};
    return sh;
}

static shape attention(const char *name, int64_t b, int64_t h, int64_t t, int64_t d) {
    shape sh = {name, PP_OP_ATTENTION, {{0}}, 4.0 * (double)(b * h * t * t * d)};
    sh.p.attention = (pp_attention_params){b, h, t, t, d, d, 0.125f, 0, PP_DTYPE_INVALID, {0}, PP_DTYPE_F32};
    return sh;
}

/* Input and output element counts of a shape's first input, weight, output. */
static void sizes(const shape *s, size_t *nx, size_t *nw, size_t *ny) {
    const pp_op_params *p = &s->p;
    if (s->op == PP_OP_CONV) {
        *nx = (size_t)(p->conv.n * p->conv.c * p->conv.h * p->conv.w);
        *nw = (size_t)(p->conv.k * p->conv.c / p->conv.group * p->conv.kh * p->conv.kw);
        *ny = (size_t)(p->conv.n * p->conv.k * p->conv.oh * p->conv.ow);
    } else if (s->op == PP_OP_MATMUL) {
        *nx = (size_t)(p->matmul.m * p->matmul.k);
        *nw = (size_t)(p->matmul.k * p->matmul.n);
        *ny = (size_t)(p->matmul.m * p->matmul.n);
    } else {
        *nx = *nw = *ny = (size_t)(p->attention.b * p->attention.h * p->attention.tq * p->attention.d);
    }
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 5;
    pp_cpu_isa isa = pp_cpu_isa_detect();
    pp_tpool *pool = pp_tpool_create(threads);
    shape shapes[] = {
        conv("conv 7x7 s2 3->64 224 (stem)", 1, 3, 224, 64, 7, 2, 1),
        conv("conv 1x1 64->256 56", 1, 64, 56, 256, 1, 1, 1),
        conv("conv 3x3 64->64 56", 1, 64, 56, 64, 3, 1, 1),
        conv("conv 3x3 256->256 14", 1, 256, 14, 256, 3, 1, 1),
        conv("conv 3x3 512->512 7", 1, 512, 7, 512, 3, 1, 1),
        conv("conv 3x3 512->512 7 b8", 8, 512, 7, 512, 3, 1, 1),
        conv("conv 1x1 1024->256 14", 1, 1024, 14, 256, 1, 1, 1),
        conv("dw 3x3 s1 144 56", 1, 144, 56, 144, 3, 1, 144),
        conv("dw 5x5 s2 240 28", 1, 240, 28, 240, 5, 2, 240),
        conv("conv 1x1 960->160 7", 1, 960, 7, 160, 1, 1, 1),
        conv("conv 1x1 160->960 7", 1, 160, 7, 960, 1, 1, 1),
        conv("conv 1x1 672->112 14", 1, 672, 14, 112, 1, 1, 1),
        conv("conv 1x1 112->672 14", 1, 112, 14, 672, 1, 1, 1),
        conv("conv 1x1 960->160 7 b8", 8, 960, 7, 160, 1, 1, 1),
        /* MobileNetV3-Large at batch 8 */
        conv("dw 3x3 s1 16 112 b8", 8, 16, 112, 16, 3, 1, 16),
        conv("dw 3x3 s2 64 112 b8", 8, 64, 112, 64, 3, 2, 64),
        conv("dw 5x5 s2 72 56 b8", 8, 72, 56, 72, 5, 2, 72),
        conv("dw 5x5 s1 120 28 b8", 8, 120, 28, 120, 5, 1, 120),
        conv("dw 3x3 s1 480 14 b8", 8, 480, 14, 480, 3, 1, 480),
        conv("dw 5x5 s2 672 14 b8", 8, 672, 14, 672, 5, 2, 672),
        conv("dw 5x5 s1 960 7 b8", 8, 960, 7, 960, 5, 1, 960),
        matmul("matmul 128x768x768", 128, 768, 768),
        matmul("matmul 1024x3072x768", 1024, 3072, 768),
        attention("attention 1x12x128x64", 1, 12, 128, 64),
        attention("attention 1x12x1024x64", 1, 12, 1024, 64),
    };
    printf("isa %s, %d threads, %d reps; GFLOP/s by wall time (by CPU time of all threads)\n", pp_cpu_isa_name(isa),
           threads, reps);
    printf("%-32s %22s %22s\n", "shape", "reference", "fast");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        shape *s = &shapes[i];
        size_t nx, nw, ny;
        sizes(s, &nx, &nw, &ny);
        float *x = rnd(nx), *w = rnd(nw), *b = rnd(4096), *y = rnd(ny);
        const void *in[4] = {x, w, s->op == PP_OP_CONV ? b : NULL, NULL};
        if (s->op == PP_OP_ATTENTION) in[1] = w, in[2] = y;
        float *out_y = rnd(ny);
        void *out[1] = {out_y};
        double gf[2][2];
        for (int fast = 0; fast < 2; fast++) {
            pp_fast_packed *pk = NULL;
            int variant = 0;
            size_t ws_bytes = pp_cpu_workspace_size(s->op, &s->p);
            if (fast) {
                pp_fast_pack(s->op, &s->p, in, 2u, isa, &pk);
                variant = pp_fast_plan(s->op, &s->p, pk, isa, threads, 0, &ws_bytes);
            }
            void *ws = ws_bytes ? aligned_alloc(64, (ws_bytes + 63) & ~(size_t)63) : NULL;
            double t0 = 0, c0 = 0;
            for (int r = -1; r < reps; r++) {
                if (r == 0) t0 = now_s(), c0 = cpu_s();
                if (fast) pp_fast_run(s->op, &s->p, pk, isa, variant, in, out, ws, pool);
                else pp_cpu_kernel_for(s->op)(&s->p, in, out, ws);
            }
            double wall = now_s() - t0, cpu = cpu_s() - c0;
            gf[fast][0] = s->flops * reps / wall / 1e9;
            gf[fast][1] = s->flops * reps / cpu / 1e9 * threads;
            pp_fast_packed_free(pk);
            free(ws);
        }
        printf("%-32s %9.1f (%9.1f) %9.1f (%9.1f)\n", s->name, gf[0][0], gf[0][1], gf[1][0], gf[1][1]);
        free(x), free(w), free(b), free(y), free(out_y);
    }
    pp_tpool_free(pool);
    return 0;
}

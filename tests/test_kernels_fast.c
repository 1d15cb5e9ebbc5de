/* test_kernels_fast.c: every fast CPU kernel (kernels/cpu/fast) against the
 * reference kernel (pp_cpu_*) over odd shapes.
 *
 * Each case runs the reference and then the fast kernel for every instruction
 * set this CPU has (plain C, AVX2, AVX-512), with pools of 1 and 3 threads, on
 * seeded data, and checks: |fast - ref| <= ATOL + RTOL·|ref| everywhere, the
 * guard cells after the output untouched, the same bytes whatever the thread
 * count, and (batched ops) each image's bytes the same as when it runs alone,
 * which is what options.deterministic promises.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/fast/fast.h"
#include "loader/model.h"

#define ATOL 1e-5f
#define RTOL 1e-4f
#define GUARD 37
#define GUARD_VALUE 12345.678f

static const pp_format F32_PLAIN = {PP_DTYPE_F32, PP_LAYOUT_PLAIN, 0};

static float g_span = 1.f;      /* data spans [-g_span, g_span) */
static int g_deterministic = 0; /* plan as options.deterministic does */
static float g_atol = ATOL;     /* rounding grows with the length of the sums: convolutions scale it */

static float *rnd(size_t n, unsigned seed) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    cr_assert(p);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = g_span * (float)((double)(s >> 40) / (double)(1u << 24) * 2.0 - 1.0);
    }
    return p;
}

/* The tensors of one case: up to four inputs and one output, element counts. */
typedef struct io {
    size_t n_in[4], n_out;
    unsigned weights; /* bit j: input j is a weight (packed at load) */
    int bool_in3;     /* input 3 is a bool mask */
} io;

static float *with_guard(size_t n) {
    float *y = malloc((n + GUARD) * sizeof(float));
    cr_assert(y);
    for (size_t i = 0; i < n + GUARD; i++) y[i] = i < n ? NAN : GUARD_VALUE;
    return y;
}

/* Runs the fast kernel on isa with a pool of `threads`; returns the output
 * (n_out + GUARD floats), or NULL when no fast kernel takes these params. */
static float *run_fast(pp_op op, const pp_op_params *p, const void *const *in, const io *t, pp_cpu_isa isa,
                       int threads) {
    pp_fast_packed *pk = NULL;
    cr_assert_eq(pp_fast_pack(op, p, in, t->weights, isa, &pk), 0);
    size_t ws = 0;
    int variant = pp_fast_plan(op, p, pk, isa, threads, g_deterministic, &ws);
    if (!variant) {
        pp_fast_packed_free(pk);
        return NULL;
    }
    pp_tpool *pool = pp_tpool_create(threads);
    cr_assert(pool);
    float *y = with_guard(t->n_out);
    void *w = ws ? malloc(ws) : NULL, *out[1] = {y};
    cr_assert_eq(pp_fast_run(op, p, pk, isa, variant, in, out, w, pool), 0);
    for (int g = 0; g < GUARD; g++)
        cr_assert_eq(y[t->n_out + g], GUARD_VALUE, "%s: guard cell %d overwritten", pp_cpu_isa_name(isa), g);
    free(w);
    pp_tpool_free(pool);
    pp_fast_packed_free(pk);
    return y;
}

/* The case: reference, then fast on every isa and pool size. Returns how many
 * isas ran a fast kernel. */
static int check(const char *name, pp_op op, const pp_op_params *p, const io *t, unsigned seed) {
    const void *in[4] = {NULL, NULL, NULL, NULL};
    for (int j = 0; j < 4; j++) {
        if (!t->n_in[j]) continue;
        if (j == 3 && t->bool_in3) {
            unsigned char *m = malloc(t->n_in[j]);
            for (size_t i = 0; i < t->n_in[j]; i++) m[i] = (unsigned char)((i * 7 + seed) % 5 != 0);
            in[j] = m;
        } else {
            in[j] = rnd(t->n_in[j], seed * 16 + (unsigned)j);
        }
    }
    float *ref = with_guard(t->n_out);
    void *out[1] = {ref};
    size_t rws = pp_cpu_workspace_size(op, p);
    void *w = rws ? malloc(rws) : NULL;
    cr_assert_eq(pp_cpu_kernel_for(op)(p, in, out, w), 0, "%s: reference failed", name);
    free(w);
    int ran = 0;
    pp_cpu_isa top = pp_cpu_isa_detect();
    for (int isa = PP_ISA_GENERIC; isa <= (int)top; isa++) {
        float *one = run_fast(op, p, in, t, (pp_cpu_isa)isa, 1);
        if (!one) continue;
        ran++;
        for (size_t i = 0; i < t->n_out; i++) {
            float d = fabsf(one[i] - ref[i]);
            cr_assert(one[i] == ref[i] || d <= g_atol + RTOL * fabsf(ref[i]) || (isnan(one[i]) && isnan(ref[i])),
                      "%s (%s): element %zu: fast %.9g, reference %.9g", name, pp_cpu_isa_name((pp_cpu_isa)isa), i,
                      (double)one[i], (double)ref[i]);
        }
        float *three = run_fast(op, p, in, t, (pp_cpu_isa)isa, 3);
        cr_assert(three);
        cr_assert(memcmp(one, three, t->n_out * sizeof(float)) == 0, "%s (%s): 1 and 3 threads differ", name,
                  pp_cpu_isa_name((pp_cpu_isa)isa));
        free(one);
        free(three);
    }
    for (int j = 0; j < 4; j++) free((void *)in[j]);
    free(ref);
    return ran;
}

/* ---- convolution ------------------------------------------------------------------ */

typedef struct conv_case {
    const char *name;
    int64_t n, c, h, w, k, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g;
    pp_act_kind act;
    int bias, res;
} conv_case;

static pp_conv_params conv_params(const conv_case *cc) {
    pp_conv_params p = {cc->n,
                        cc->c,
                        cc->h,
                        cc->w,
                        cc->k,
                        cc->kh,
                        cc->kw,
                        0,
                        0,
                        cc->sh,
                        cc->sw,
                        cc->pt,
                        cc->pl,
                        cc->pb,
                        cc->pr,
                        cc->dh,
                        cc->dw,
                        cc->g,
                        {cc->act, 0.f, 6.f},
                        F32_PLAIN};
    p.oh = (cc->h + cc->pt + cc->pb - cc->dh * (cc->kh - 1) - 1) / cc->sh + 1;
    p.ow = (cc->w + cc->pl + cc->pr - cc->dw * (cc->kw - 1) - 1) / cc->sw + 1;
    return p;
}

static io conv_io(const pp_conv_params *p, int bias, int res) {
    io t = {{(size_t)(p->n * p->c * p->h * p->w), (size_t)(p->k * p->c / p->group * p->kh * p->kw),
             bias ? (size_t)p->k : 0, res ? (size_t)(p->n * p->k * p->oh * p->ow) : 0},
            (size_t)(p->n * p->k * p->oh * p->ow),
            2u,
            0};
    return t;
}

/* Image i of a batched run has the bytes of image i run alone. */
static void check_conv_batch_invariant(const conv_case *cc) {
    pp_cpu_isa isa = pp_cpu_isa_detect();
    pp_op_params p = {.conv = conv_params(cc)}, p1 = p;
    p1.conv.n = 1;
    io t = conv_io(&p.conv, cc->bias, cc->res), t1 = conv_io(&p1.conv, cc->bias, cc->res);
    const void *in[4] = {rnd(t.n_in[0], 1), rnd(t.n_in[1], 2), cc->bias ? rnd(t.n_in[2], 3) : NULL,
                         cc->res ? rnd(t.n_in[3], 4) : NULL};
    float *all = run_fast(PP_OP_CONV, &p, in, &t, isa, 2);
    cr_assert(all);
    size_t xs = t1.n_in[0], ys = t1.n_out;
    for (int64_t i = 0; i < cc->n; i++) {
        const void *in1[4] = {(const float *)in[0] + i * xs, in[1], in[2],
                              cc->res ? (const float *)in[3] + i * ys : NULL};
        float *one = run_fast(PP_OP_CONV, &p1, in1, &t1, isa, 2);
        cr_assert(memcmp(one, all + i * ys, ys * sizeof(float)) == 0, "%s: image %lld differs in a batch of %lld",
                  cc->name, (long long)i, (long long)cc->n);
        free(one);
    }
    for (int j = 0; j < 4; j++) free((void *)in[j]);
    free(all);
}

static const conv_case CONVS[] = {
    /* name                          n  c  h  w   k kh kw sh sw pt pl pb pr dh dw g  act            b r */
    {"1x1", 1, 5, 6, 7, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, PP_ACT_NONE, 0, 0},
    {"1x1 +b +res +relu b3", 3, 17, 5, 9, 33, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, PP_ACT_RELU, 1, 1},
    {"1x1 s2 (downsample)", 2, 8, 9, 9, 13, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, PP_ACT_NONE, 1, 0},
    {"7x7 s2 p3 (stem) b1", 1, 3, 23, 19, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, PP_ACT_RELU, 1, 0},
    {"7x7 s2 p3 (stem) b3", 3, 3, 17, 17, 13, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, PP_ACT_CLIP, 1, 0},
    {"3x3 p1 c not x16", 1, 19, 11, 13, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PP_ACT_SILU, 1, 1},
    {"3x3 7x7 image b5 (tiles across images)", 5, 12, 7, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PP_ACT_RELU, 1, 1},
    {"3x3 deep (several K blocks)", 1, 70, 6, 5, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PP_ACT_HARDSWISH, 1, 0},
    {"groups 3", 2, 9, 8, 7, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, PP_ACT_NONE, 1, 1},
    {"dilation 2", 1, 6, 12, 11, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, PP_ACT_SIGMOID, 1, 0},
    {"padding on one side", 1, 4, 9, 8, 5, 3, 2, 1, 2, 1, 0, 0, 1, 1, 1, 1, PP_ACT_NONE, 0, 0},
    {"5x5 s3 no pad", 3, 3, 16, 14, 6, 5, 5, 3, 3, 0, 0, 0, 0, 1, 1, 1, PP_ACT_LEAKY_RELU, 1, 0},
    {"depthwise 3x3 s1 p1", 1, 7, 19, 21, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 7, PP_ACT_RELU, 1, 1},
    {"depthwise 3x3 s2 b3", 3, 5, 17, 35, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 5, PP_ACT_HARDSWISH, 1, 0},
    {"depthwise 5x5 s2 p2", 2, 4, 15, 15, 4, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 4, PP_ACT_SILU, 1, 0},
    {"depthwise dil 2, one-sided pad", 1, 3, 12, 37, 3, 3, 3, 1, 1, 0, 2, 2, 0, 2, 2, 3, PP_ACT_NONE, 0, 1},
    {"depthwise s3", 1, 3, 10, 10, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3, PP_ACT_NONE, 1, 0},
    /* AVX-512 tiles: blocks of 16 channels (the last one partial), bands of rows */
    {"depthwise 5x5 7x7 c37 b3", 3, 37, 7, 7, 37, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 37, PP_ACT_HARDSWISH, 1, 1},
    {"depthwise 3x3 s2 c33 odd pads", 2, 33, 14, 13, 33, 3, 3, 2, 2, 0, 1, 2, 1, 1, 1, 33, PP_ACT_RELU, 1, 0},
    {"depthwise 3x3 s1 150x140 (bands)", 1, 17, 150, 140, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 17, PP_ACT_NONE, 1, 1},
    {"depthwise 5x5 s2 dil 2 c16 (bands)", 2, 16, 97, 120, 16, 5, 5, 2, 1, 4, 3, 4, 5, 2, 2, 16, PP_ACT_SILU, 0, 0},
    {"1x1 image", 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, PP_ACT_NONE, 0, 0},
    /* Winograd F(2x2, 3x3) where the batch has 96 tiles or more */
    {"winograd 3x3 p1 odd image", 1, 19, 23, 21, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PP_ACT_RELU, 1, 1},
    {"winograd one-sided pad", 2, 16, 17, 30, 16, 3, 3, 1, 1, 1, 0, 0, 1, 1, 1, 1, PP_ACT_NONE, 1, 0},
    {"winograd 7x7 images b8", 8, 24, 7, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PP_ACT_RELU, 0, 1},
    {"winograd C > 256 (two K blocks)", 3, 300, 12, 12, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PP_ACT_SILU, 1, 0},
    {"winograd 5x5 images b3 (9 tiles each)", 3, 16, 5, 5, 18, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PP_ACT_RELU, 1, 0},
    {"1x1 on 1x1 maps b3 (squeeze-excite)", 3, 40, 1, 1, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, PP_ACT_SIGMOID, 1, 0},
};

Test(fast_conv, matches_the_reference_over_odd_shapes) {
    for (size_t i = 0; i < sizeof CONVS / sizeof CONVS[0]; i++) {
        pp_op_params p = {.conv = conv_params(&CONVS[i])};
        io t = conv_io(&p.conv, CONVS[i].bias, CONVS[i].res);
        /* sums of C/g·KH·KW terms of order 1: rounding walks as its square root */
        g_atol = ATOL * sqrtf((float)(p.conv.c / p.conv.group * p.conv.kh * p.conv.kw));
        cr_assert_gt(check(CONVS[i].name, PP_OP_CONV, &p, &t, (unsigned)i + 1), 0, "%s: no fast kernel ran",
                     CONVS[i].name);
        g_atol = ATOL;
    }
}

/* With options.deterministic the kernel is chosen per image: the 5×5 images
 * (9 tiles) take the implicit GEMM alone and in a batch of 3, where the batch's
 * 27 tiles would otherwise take Winograd. */
Test(fast_conv, an_image_gives_the_same_bytes_alone_or_in_a_batch) {
    g_deterministic = 1;
    check_conv_batch_invariant(&CONVS[1]);
    check_conv_batch_invariant(&CONVS[6]);
    check_conv_batch_invariant(&CONVS[13]);
    check_conv_batch_invariant(&CONVS[17]);
    check_conv_batch_invariant(&CONVS[18]);
    check_conv_batch_invariant(&CONVS[20]);
    check_conv_batch_invariant(&CONVS[23]);
    check_conv_batch_invariant(&CONVS[24]);
    check_conv_batch_invariant(&CONVS[25]);
    check_conv_batch_invariant(&CONVS[26]);
    check_conv_batch_invariant(&CONVS[27]); /* one column alone, three in a batch */
    g_deterministic = 0;
}

/* ---- GEMM and MATMUL ------------------------------------------------------------------ */

Test(fast_gemm, matches_the_reference) {
    struct {
        const char *name;
        int64_t m, n, k;
        int tb;
        float alpha;
        int c; /* 0 none, 1 row of biases, 2 full (M, N) */
        pp_act_kind act;
    } cases[] = {
        {"1x10x64 (a classifier at batch 1)", 1, 10, 64, 1, 1.f, 1, PP_ACT_NONE},
        {"7x17x33 trans_b +b", 7, 17, 33, 1, 1.f, 1, PP_ACT_RELU},
        {"13x40x300 (two K blocks) alpha", 13, 40, 300, 0, 0.5f, 0, PP_ACT_GELU},
        {"5x33x9 C full", 5, 33, 9, 1, 1.f, 2, PP_ACT_TANH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pp_op_params p = {.gemm = {cases[i].m,
                                   cases[i].n,
                                   cases[i].k,
                                   0,
                                   cases[i].tb,
                                   cases[i].alpha,
                                   cases[i].c ? 1.f : 0.f,
                                   cases[i].c == 2 ? cases[i].n : 0,
                                   1,
                                   {cases[i].act, 0, 0}}};
        io t = {{(size_t)(cases[i].m * cases[i].k), (size_t)(cases[i].k * cases[i].n),
                 cases[i].c == 2 ? (size_t)(cases[i].m * cases[i].n)
                 : cases[i].c    ? (size_t)cases[i].n
                                 : 0,
                 0},
                (size_t)(cases[i].m * cases[i].n),
                2u,
                0};
        cr_assert_gt(check(cases[i].name, PP_OP_GEMM, &p, &t, (unsigned)i + 50), 0, "%s", cases[i].name);
    }
}

Test(fast_matmul, folds_a_batch_over_shared_weights) {
    /* (3, 5, 19) · (19, 45): one (15, 19) product */
    pp_op_params p = {.matmul = {5, 45, 19, 1, {3}, {5 * 19}, {0}, 3}};
    io t = {{3 * 5 * 19, 19 * 45, 0, 0}, 3 * 5 * 45, 2u, 0};
    cr_assert_gt(check("matmul (3,5,19)x(19,45)", PP_OP_MATMUL, &p, &t, 71), 0);
    /* B not a weight: the reference runs it */
    io t2 = t;
    t2.weights = 0;
    cr_assert_eq(check("matmul, B an activation", PP_OP_MATMUL, &p, &t2, 72), 0);
}

/* ---- pooling ------------------------------------------------------------------------- */

Test(fast_pool, matches_the_reference) {
    struct {
        const char *name;
        pp_op op;
        int64_t n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
    } cases[] = {
        {"max 3x3 s2 p1 (ResNet)", PP_OP_MAXPOOL, 1, 3, 21, 37, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
        {"max 2x2 s1 b3", PP_OP_MAXPOOL, 3, 5, 9, 17, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1},
        {"max 3x3 dil 2 one-sided pad", PP_OP_MAXPOOL, 1, 2, 13, 20, 3, 3, 1, 2, 0, 2, 1, 0, 2, 2},
        {"max 3x3 s3 (reference path)", PP_OP_MAXPOOL, 2, 2, 10, 10, 3, 3, 3, 3, 0, 0, 0, 0, 1, 1},
        {"avg 3x3 s1 p1", PP_OP_AVGPOOL, 2, 3, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
        {"global avg 7x7 b5", PP_OP_GLOBAL_AVGPOOL, 5, 19, 7, 7, 7, 7, 1, 1, 0, 0, 0, 0, 1, 1},
        {"global avg 1x1", PP_OP_GLOBAL_AVGPOOL, 1, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},
        {"global max 5x3", PP_OP_GLOBAL_MAXPOOL, 2, 4, 5, 3, 5, 3, 1, 1, 0, 0, 0, 0, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pp_pool_params q = {cases[i].op, cases[i].n,  cases[i].c,  cases[i].h,  cases[i].w,  0,           0,
                            cases[i].kh, cases[i].kw, cases[i].sh, cases[i].sw, cases[i].pt, cases[i].pl, cases[i].pb,
                            cases[i].pr, cases[i].dh, cases[i].dw, 0,           F32_PLAIN};
        q.oh = (q.h + q.pad_top + q.pad_bottom - q.dil_h * (q.kh - 1) - 1) / q.stride_h + 1;
        q.ow = (q.w + q.pad_left + q.pad_right - q.dil_w * (q.kw - 1) - 1) / q.stride_w + 1;
        pp_op_params p = {.pool = q};
        io t = {{(size_t)(q.n * q.c * q.h * q.w), 0, 0, 0}, (size_t)(q.n * q.c * q.oh * q.ow), 0u, 0};
        cr_assert_gt(check(cases[i].name, cases[i].op, &p, &t, (unsigned)i + 90), 0, "%s", cases[i].name);
    }
}

Test(fast_pool, a_nan_in_a_window_wins_as_in_the_reference) {
    pp_pool_params q = {PP_OP_MAXPOOL, 1, 1, 4, 20, 2, 18, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, F32_PLAIN};
    pp_op_params p = {.pool = q};
    float x[80], ref[2 * 18], fast[2 * 18];
    for (int i = 0; i < 80; i++) x[i] = (float)i;
    x[23] = NAN;
    const void *in[1] = {x};
    void *o1[1] = {ref}, *o2[1] = {fast};
    pp_cpu_pool(&p, in, o1, NULL);
    pp_tpool *pool = pp_tpool_create(2);
    pp_fast_run(PP_OP_MAXPOOL, &p, NULL, pp_cpu_isa_detect(), 1, in, o2, NULL, pool);
    pp_tpool_free(pool);
    for (int i = 0; i < 36; i++)
        cr_assert(isnan(ref[i]) ? isnan(fast[i]) : ref[i] == fast[i], "output %d: %g vs %g", i, (double)fast[i],
                  (double)ref[i]);
}

/* ---- attention ------------------------------------------------------------------------ */

Test(fast_attention, matches_the_reference) {
    struct {
        const char *name;
        int64_t b, h, tq, tk, d, dv;
        int causal;
        pp_dtype mask;
    } cases[] = {
        {"2x3 heads, 17 queries, 23 keys", 2, 3, 17, 23, 9, 13, 0, PP_DTYPE_INVALID},
        {"causal, tq < tk", 1, 2, 5, 21, 16, 16, 1, PP_DTYPE_INVALID},
        {"bool mask", 2, 2, 7, 33, 8, 5, 0, PP_DTYPE_BOOL},
        {"additive mask, causal", 1, 3, 19, 19, 12, 7, 1, PP_DTYPE_F32},
        {"one key", 1, 1, 3, 1, 4, 4, 0, PP_DTYPE_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t b = cases[i].b, h = cases[i].h, tq = cases[i].tq, tk = cases[i].tk, d = cases[i].d, dv = cases[i].dv;
        /* the mask (B, 1, TQ, TK), broadcast over heads */
        pp_op_params p = {.attention = {b,
                                        h,
                                        tq,
                                        tk,
                                        d,
                                        dv,
                                        1.f / sqrtf((float)d),
                                        cases[i].causal,
                                        cases[i].mask,
                                        {h > 0 ? tq * tk : 0, 0, tk, 1}}};
        io t = {{(size_t)(b * h * tq * d), (size_t)(b * h * tk * d), (size_t)(b * h * tk * dv),
                 cases[i].mask != PP_DTYPE_INVALID ? (size_t)(b * tq * tk) : 0},
                (size_t)(b * h * tq * dv),
                0u,
                cases[i].mask == PP_DTYPE_BOOL};
        int ran = check(cases[i].name, PP_OP_ATTENTION, &p, &t, (unsigned)i + 130);
        if (pp_cpu_isa_detect() == PP_ISA_AVX512) cr_assert_gt(ran, 0, "%s", cases[i].name);
    }
}

/* ---- the memory-bound ops on slices ----------------------------------------------------- */

Test(fast_sliced, element_wise_softmax_and_layernorm_keep_the_reference_bytes) {
    /* (3, 40, 23, 17) + (1, 40, 1, 1): sliced along the batch */
    pp_eltwise_params e = {PP_OP_ADD,
                           PP_DTYPE_F32,
                           PP_DTYPE_F32,
                           2,
                           4,
                           3 * 40 * 23 * 17,
                           {3, 40, 23, 17},
                           {{40 * 23 * 17, 23 * 17, 17, 1}, {0, 1, 0, 0}},
                           0,
                           0};
    pp_op_params p = {.eltwise = e};
    io t = {{3 * 40 * 23 * 17, 40, 0, 0}, 3 * 40 * 23 * 17, 0u, 0};
    cr_assert_gt(check("add (3,40,23,17)+(1,40,1,1)", PP_OP_ADD, &p, &t, 150), 0);
    /* (1, 64, 29, 31) · (1, 64, 1, 1): batch 1, sliced along channels */
    pp_eltwise_params m = {PP_OP_MUL,
                           PP_DTYPE_F32,
                           PP_DTYPE_F32,
                           2,
                           4,
                           64 * 29 * 31,
                           {1, 64, 29, 31},
                           {{0, 29 * 31, 31, 1}, {0, 1, 0, 0}},
                           0,
                           0};
    p.eltwise = m;
    io tm = {{64 * 29 * 31, 64, 0, 0}, 64 * 29 * 31, 0u, 0};
    cr_assert_gt(check("mul (1,64,29,31)*(1,64,1,1)", PP_OP_MUL, &p, &tm, 151), 0);
    /* unary activations, vector forms with AVX-512: inputs over [-8, 8) to
     * reach their tails */
    g_span = 8.f;
    pp_op unary[] = {PP_OP_SIGMOID, PP_OP_TANH,      PP_OP_GELU, PP_OP_GELU_TANH,
                     PP_OP_SILU,    PP_OP_HARDSWISH, PP_OP_RELU, PP_OP_HARDSIGMOID};
    for (size_t u = 0; u < sizeof unary / sizeof unary[0]; u++) {
        pp_eltwise_params s = {unary[u], PP_DTYPE_F32, PP_DTYPE_F32, 1, 1, 70001, {70001}, {{1}}, 0.2f, 0.5f};
        p.eltwise = s;
        io ts = {{70001, 0, 0, 0}, 70001, 0u, 0};
        cr_assert_gt(check(pp_op_name(unary[u]), unary[u], &p, &ts, 152 + (unsigned)u), 0, "%s", pp_op_name(unary[u]));
    }
    g_span = 1.f;
    pp_op_params sm = {.softmax = {PP_OP_SOFTMAX, 301, 129, 1}};
    io tsm = {{301 * 129, 0, 0, 0}, 301 * 129, 0u, 0};
    cr_assert_gt(check("softmax (301, 129)", PP_OP_SOFTMAX, &sm, &tsm, 153), 0);
    pp_op_params ln = {.layernorm = {257, 191, 1e-5f}};
    io tln = {{257 * 191, 191, 191, 0}, 257 * 191, 0u, 0};
    cr_assert_gt(check("layernorm (257, 191)", PP_OP_LAYERNORM, &ln, &tln, 154), 0);
}

/* ---- the pool -------------------------------------------------------------------------- */

static void count_task(void *arg, int64_t t, int thread) {
    int *hits = arg;
    __atomic_fetch_add(&hits[t], 1, __ATOMIC_RELAXED);
    cr_assert(thread >= 0 && thread < 4);
}

Test(fast_pool_threads, every_task_runs_once_per_run) {
    pp_tpool *pool = pp_tpool_create(4);
    cr_assert(pool);
    cr_assert_eq(pp_tpool_threads(pool), 4);
    int hits[1000];
    for (int run = 0; run < 200; run++) {
        int64_t tasks = 1 + (run * 37) % 1000;
        memset(hits, 0, sizeof hits);
        pp_tpool_run(pool, tasks, count_task, hits);
        for (int64_t t = 0; t < tasks; t++)
            cr_assert_eq(hits[t], 1, "run %d task %lld ran %d times", run, (long long)t, hits[t]);
    }
    pp_tpool_free(pool);
}

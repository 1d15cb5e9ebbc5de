/* classify: one image through a graph.bin image classifier, top-k labels out.
 *
 * Uses only the public API (ppengine.h): load the net, read its input shape,
 * decode a PPM or PNG (image.c), preprocess to the net's (1, C, H, W) float
 * input, run, and print the k most probable classes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* POSIX and GNU calls under -std=c11 */
#endif
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ppengine.h>

#include "image.h"

static const char *HELP = "usage: classify GRAPH IMAGE [options]\n"
                          "\n"
                          "Classifies one PPM/PGM (P2, P3, P5, P6) or PNG (8-bit gray, gray+alpha, RGB,\n"
                          "RGBA, non-interlaced) image with a graph.bin whose input is (N, C, H, W) f32\n"
                          "and whose first output holds one score per class. Prints the top classes.\n"
                          "\n"
                          "  --labels FILE        class names, one per line (default \"class N\")\n"
                          "  --size H,W           the input size, for nets whose H and W are not fixed\n"
                          "                       (for fixed nets it must agree with them)\n"
                          "  --scale S            divide pixel values by S (default: the format's maximum,\n"
                          "                       255 for PNG, maxval for PPM), giving [0, 1]\n"
                          "  --mean m1,m2,m3      subtract per channel after scaling (default 0)\n"
                          "  --std s1,s2,s3       then divide per channel (default 1); one value for gray\n"
                          "  --gray               convert to one gray channel first (automatic when the\n"
                          "                       net has 1 channel; replicated if it has 3)\n"
                          "  --top K              how many classes to print (default 5)\n"
                          "  --devices LIST       cpu, cuda:0, ... (default auto)\n"
                          "\n"
                          "Pipeline: decode, scale, gray (BT.601 luma), bilinear resize to H x W (half-pixel\n"
                          "centres, as PyTorch's align_corners=False), normalise, NCHW. Outputs that are not\n"
                          "already probabilities (in [0, 1], summing to 1) get a softmax.\n"
                          "\n"
                          "Example (the bundled digits model; samples store 15 x ink level 0..16):\n"
                          "  classify digits.bin examples/classify/samples/digit_3.png --size 8,8 --gray --scale 240\n";

enum { MAX_LABELS = 1 << 20, MAX_LABEL_LEN = 256 };

typedef struct args {
    const char *graph, *image, *labels, *devices;
    long size_h, size_w;
    double scale;
    double mean[3], std[3];
    int n_mean, n_std, gray, top;
} args;

static int usage(const char *msg, const char *arg) {
    fprintf(stderr, "classify: ");
    fprintf(stderr, msg, arg);
    fprintf(stderr, " (try --help)\n");
    return 2;
}

/* Up to `max` comma-separated finite numbers; returns how many, or -1. */
static int parse_doubles(const char *s, double *out, int max) {
    int n = 0;
    const char *p = s;
    for (;;) {
        if (n == max) return -1;
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v)) return -1;
        out[n++] = v;
        if (*end == 0) return n;
        if (*end != ',') return -1;
        p = end + 1;
    }
}

/* Options that take a value: an unknown option is named as unknown, not as
 * one missing its value. */
static int takes_value(const char *k) {
    static const char *const known[] = {"--devices", "--labels", "--mean", "--scale", "--size", "--std", "--top"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(k, known[i])) return 1;
    return 0;
}

static int parse_args(int argc, char **argv, args *a) {
    memset(a, 0, sizeof *a);
    a->top = 5;
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            fputs(HELP, stdout);
            return 1;
        }
        if (k[0] == '-' && k[1] == '-') {
            if (strcmp(k, "--gray") == 0) {
                a->gray = 1;
                continue;
            }
            if (!takes_value(k)) return usage("unknown option '%s'", k);
            if (!v) return usage("%s needs a value", k);
            i++;
            double d[3];
            if (!strcmp(k, "--labels")) {
                a->labels = v;
            } else if (!strcmp(k, "--devices")) {
                a->devices = v;
            } else if (!strcmp(k, "--size")) {
                if (parse_doubles(v, d, 2) != 2 || d[0] < 1 || d[1] < 1 || d[0] > 16384 || d[1] > 16384 ||
                    d[0] != floor(d[0]) || d[1] != floor(d[1]))
                    return usage("--size '%s' is not H,W (integers in 1..16384)", v);
                a->size_h = (long)d[0];
                a->size_w = (long)d[1];
            } else if (!strcmp(k, "--scale")) {
                if (parse_doubles(v, d, 1) != 1 || !(d[0] > 0))
                    return usage("--scale '%s' is not a positive number", v);
                a->scale = d[0];
            } else if (!strcmp(k, "--mean")) {
                if ((a->n_mean = parse_doubles(v, a->mean, 3)) < 0 || a->n_mean == 2)
                    return usage("--mean '%s' is not one or three numbers", v);
            } else if (!strcmp(k, "--std")) {
                if ((a->n_std = parse_doubles(v, a->std, 3)) < 0 || a->n_std == 2)
                    return usage("--std '%s' is not one or three numbers", v);
                for (int c = 0; c < a->n_std; c++)
                    if (!(a->std[c] > 0)) return usage("--std '%s' has a value <= 0", v);
            } else if (!strcmp(k, "--top")) {
                if (parse_doubles(v, d, 1) != 1 || d[0] < 1 || d[0] > 1000 || d[0] != floor(d[0]))
                    return usage("--top '%s' is not an integer in 1..1000", v);
                a->top = (int)d[0];
            } else {
                return usage("unknown option '%s'", k);
            }
        } else if (npos == 0) {
            a->graph = k, npos++;
        } else if (npos == 1) {
            a->image = k, npos++;
        } else {
            return usage("unexpected argument '%s'", k);
        }
    }
    if (npos != 2) return usage("needs GRAPH and IMAGE%s", "");
    return 0;
}

/* Labels, one per line; line i names class i. Missing or empty lines stay NULL. */
static char **read_labels(const char *path, long *count) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "classify: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    long cap = 64, n = 0;
    char **v = calloc((size_t)cap, sizeof *v);
    char line[MAX_LABEL_LEN + 2];
    int ok = v != NULL, truncated = 0;
    while (ok && fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        int whole = len > 0 && line[len - 1] == '\n';
        if (truncated) { /* the rest of an over-long line */
            truncated = !whole;
            continue;
        }
        truncated = !whole && !feof(f);
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (n == MAX_LABELS) break;
        if (n == cap) {
            char **nv = realloc(v, (size_t)cap * 2 * sizeof *v);
            if (!nv) {
                ok = 0;
                break;
            }
            memset(nv + cap, 0, (size_t)cap * sizeof *v);
            v = nv;
            cap *= 2;
        }
        if (len > 0 && !(v[n] = strdup(line))) ok = 0;
        n++;
    }
    int read_error = ferror(f);
    fclose(f);
    if (!ok || read_error) {
        fprintf(stderr, "classify: %s: %s\n", path, read_error ? "read error" : "out of memory");
        if (v)
            for (long i = 0; i < n; i++) free(v[i]);
        free(v);
        return NULL;
    }
    *count = n;
    return v;
}

/* Image samples to planar floats (C, H, W) at the image's own size: scaled to
 * [0, 1] by `scale`, converted to gray or replicated to `channels`. */
static float *to_planar(const pp_image *img, int channels, double scale) {
    size_t hw = (size_t)img->width * (size_t)img->height;
    float *out = malloc(hw * (size_t)channels * sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < hw; i++) {
        const uint16_t *px = img->data + i * (size_t)img->channels;
        if (channels == 1) {
            /* Equal R, G, B stay exactly themselves (the weights need not sum to 1 in floats). */
            double g = img->channels == 1 || (px[0] == px[1] && px[1] == px[2])
                           ? px[0]
                           : 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2];
            out[i] = (float)(g / scale);
        } else {
            for (int c = 0; c < channels; c++)
                out[(size_t)c * hw + i] = (float)(px[img->channels == 1 ? 0 : c] / scale);
        }
    }
    return out;
}

/* Bilinear resize of each (ih, iw) plane to (oh, ow), half-pixel centres,
 * edges clamped (PyTorch interpolate(mode='bilinear', align_corners=False)). */
static void resize_bilinear(const float *in, int ih, int iw, float *out, int oh, int ow, int channels) {
    for (int c = 0; c < channels; c++) {
        const float *src = in + (size_t)c * (size_t)ih * (size_t)iw;
        float *dst = out + (size_t)c * (size_t)oh * (size_t)ow;
        for (int y = 0; y < oh; y++) {
            double sy = ((double)y + 0.5) * ih / oh - 0.5;
            if (sy < 0) sy = 0;
            int y0 = (int)sy, y1 = y0 + 1 < ih ? y0 + 1 : y0;
            double fy = sy - y0;
            for (int x = 0; x < ow; x++) {
                double sx = ((double)x + 0.5) * iw / ow - 0.5;
                if (sx < 0) sx = 0;
                int x0 = (int)sx, x1 = x0 + 1 < iw ? x0 + 1 : x0;
                double fx = sx - x0;
                const float *r0 = src + (size_t)y0 * (size_t)iw, *r1 = src + (size_t)y1 * (size_t)iw;
                double top = r0[x0] + (r0[x1] - r0[x0]) * fx, bot = r1[x0] + (r1[x1] - r1[x0]) * fx;
                dst[(size_t)y * (size_t)ow + (size_t)x] = (float)(top + (bot - top) * fy);
            }
        }
    }
}

static int pp_fail(pp_status *st) {
    fprintf(stderr, "classify: %s\n", pp_status_message(st));
    pp_status_free(st);
    return 1;
}

typedef struct scored {
    float p;
    long index;
} scored;

static int by_prob_desc(const void *a, const void *b) {
    const scored *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

int main(int argc, char **argv) {
    args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;

    pp_net *net = NULL;
    pp_options *opt = NULL;
    pp_engine *eng = NULL;
    pp_image img = {0};
    float *planar = NULL, *input = NULL, *output = NULL;
    char **labels = NULL;
    long n_labels = 0;
    scored *sc = NULL;
    rc = 1;

    pp_status *st = pp_net_load(a.graph, &net);
    if (st) return pp_fail(st);
    pp_tensor_info in, outi;
    if ((st = pp_net_input_info(net, 0, &in)) || (st = pp_net_output_info(net, 0, &outi))) {
        rc = pp_fail(st);
        goto done;
    }
    if (pp_net_input_count(net) != 1) {
        fprintf(stderr, "classify: %s has %d inputs; an image classifier has one\n", a.graph, pp_net_input_count(net));
        goto done;
    }
    if (in.type != PP_ELEM_F32 || in.rank != 4 || (in.dims[1] != 1 && in.dims[1] != 3)) {
        fprintf(stderr, "classify: input '%s' of %s is not f32 (N, C, H, W) with C = 1 or 3\n", in.name, a.graph);
        goto done;
    }
    if (outi.type != PP_ELEM_F32) {
        fprintf(stderr, "classify: output '%s' of %s is not f32\n", outi.name, a.graph);
        goto done;
    }
    int channels = (int)in.dims[1];
    long H = in.dims[2] > 0 ? (long)in.dims[2] : 0, W = in.dims[3] > 0 ? (long)in.dims[3] : 0;
    if (a.size_h) {
        if ((H && H != a.size_h) || (W && W != a.size_w)) {
            fprintf(stderr, "classify: --size %ld,%ld disagrees with input '%s', which is fixed at %ld x %ld\n",
                    a.size_h, a.size_w, in.name, (long)in.dims[2], (long)in.dims[3]);
            goto done;
        }
        H = a.size_h;
        W = a.size_w;
    }
    if (!H || !W || H > 16384 || W > 16384) {
        fprintf(stderr, "classify: input '%s' has no fixed H x W; give --size H,W\n", in.name);
        goto done;
    }
    if ((a.n_mean == 3 || a.n_std == 3) && channels == 1) {
        fprintf(stderr, "classify: the net takes 1 channel; give --mean and --std one value each\n");
        goto done;
    }

    char err[512];
    if (pp_image_read(a.image, &img, err, sizeof err)) {
        fprintf(stderr, "classify: %s\n", err);
        goto done;
    }
    int work_ch = a.gray ? 1 : channels; /* channels while preprocessing */
    double scale = a.scale > 0 ? a.scale : (double)img.maxval;
    size_t plane = (size_t)H * (size_t)W;
    size_t in_bytes = pp_net_input_bytes(net, 0, 1), out_bytes = pp_net_output_bytes(net, 0, 1);
    if (in_bytes != plane * (size_t)channels * sizeof(float) || out_bytes < sizeof(float)) {
        fprintf(stderr, "classify: input '%s' takes %zu bytes per item, not %d x %ld x %ld floats\n", in.name, in_bytes,
                channels, H, W);
        goto done;
    }
    planar = to_planar(&img, work_ch, scale);
    input = malloc(in_bytes);
    output = malloc(out_bytes);
    if (!planar || !input || !output) {
        fprintf(stderr, "classify: out of memory\n");
        goto done;
    }
    resize_bilinear(planar, img.height, img.width, input, (int)H, (int)W, work_ch);
    for (int c = channels - 1; c >= 0; c--) { /* gray replicated to 3 planes, then normalised */
        float *p = input + (size_t)c * plane;
        if (work_ch == 1 && c > 0) memcpy(p, input, plane * sizeof *p);
    }
    for (int c = 0; c < channels; c++) {
        double m = a.n_mean == 3 ? a.mean[c] : a.n_mean == 1 ? a.mean[0] : 0;
        double s = a.n_std == 3 ? a.std[c] : a.n_std == 1 ? a.std[0] : 1;
        float *p = input + (size_t)c * plane;
        if (m != 0 || s != 1)
            for (size_t i = 0; i < plane; i++) p[i] = (float)((p[i] - m) / s);
    }

    if ((st = pp_options_create(&opt)) || (a.devices && (st = pp_options_set(opt, "devices", a.devices))) ||
        (st = pp_engine_create(net, opt, &eng))) {
        rc = pp_fail(st);
        goto done;
    }
    /* Further outputs are computed and dropped: one buffer each. */
    int n_out = pp_net_output_count(net);
    void **outs = calloc((size_t)n_out, sizeof *outs);
    int ok = outs != NULL;
    for (int i = 1; ok && i < n_out; i++) ok = (outs[i] = malloc(pp_net_output_bytes(net, i, 1) + 1)) != NULL;
    const void *ins[1] = {input};
    if (ok) {
        outs[0] = output;
        st = pp_engine_run(eng, 1, ins, (void *const *)outs);
    }
    for (int i = 1; outs && i < n_out; i++) free(outs[i]);
    free(outs);
    if (!ok) {
        fprintf(stderr, "classify: out of memory\n");
        goto done;
    }
    if (st) {
        rc = pp_fail(st);
        goto done;
    }

    long K = (long)(out_bytes / sizeof(float));
    /* Probabilities already? Then keep them; otherwise softmax (stable: max subtracted). */
    int probs = 1;
    double sum = 0, mx = -INFINITY;
    for (long i = 0; i < K; i++) {
        if (!isfinite(output[i])) {
            fprintf(stderr, "classify: output %ld of '%s' is not finite\n", i, outi.name);
            goto done;
        }
        if (output[i] < 0 || output[i] > 1) probs = 0;
        sum += output[i];
        if (output[i] > mx) mx = output[i];
    }
    if (fabs(sum - 1) > 1e-3) probs = 0;
    if (!(sc = malloc((size_t)K * sizeof *sc))) {
        fprintf(stderr, "classify: out of memory\n");
        goto done;
    }
    double z = 0;
    if (!probs)
        for (long i = 0; i < K; i++) z += exp(output[i] - mx);
    for (long i = 0; i < K; i++) {
        sc[i].index = i;
        sc[i].p = probs ? output[i] : (float)(exp(output[i] - mx) / z);
    }
    qsort(sc, (size_t)K, sizeof *sc, by_prob_desc);

    if (a.labels && !(labels = read_labels(a.labels, &n_labels))) goto done;
    printf("%s: %dx%d %s -> %ldx%ld%s, %ld classes, %s\n", a.image, img.width, img.height,
           img.channels == 1 ? "gray" : "RGB", H, W, work_ch == 1 ? " gray" : "", K,
           probs ? "outputs are probabilities" : "softmax over the outputs");
    printf("top-%d:\n", a.top < K ? a.top : (int)K);
    for (long r = 0; r < K && r < a.top; r++) {
        long i = sc[r].index;
        if (i < n_labels && labels[i]) printf("  %.4f  %ld  %s\n", sc[r].p, i, labels[i]);
        else printf("  %.4f  %ld  class %ld\n", sc[r].p, i, i);
    }
    rc = 0;

done:
    if (labels)
        for (long i = 0; i < n_labels; i++) free(labels[i]);
    free(labels);
    free(sc);
    free(planar);
    free(input);
    free(output);
    pp_image_free(&img);
    pp_engine_free(eng);
    pp_options_free(opt);
    pp_net_free(net);
    return rc;
}

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

/* One classification: what it holds from the net to the printed ranking; freed by job_free. */
typedef struct job {
    args a;
    pp_net *net;
    pp_options *opt;
    pp_engine *eng;
    pp_tensor_info in, outi;
    int channels, work_ch; /* the net's channels; the channels while preprocessing */
    long H, W;             /* the size the image is resized to */
    pp_image img;
    size_t out_bytes;
    float *planar, *input, *output; /* (work_ch, h, w) image, (1, channels, H, W) input, (K) output */
    long K;
    int probs; /* the outputs were probabilities already */
    scored *sc;
    char **labels;
    long n_labels;
} job;

/* The net's input is one f32 (N, C, H, W) image with C = 1 or 3, of a size the net
 * fixes or --size gives; its first output is f32. */
static int check_net(job *r) {
    const args *a = &r->a;
    pp_status *st = pp_net_load(a->graph, &r->net);
    if (st) return pp_fail(st);
    if ((st = pp_net_input_info(r->net, 0, &r->in)) || (st = pp_net_output_info(r->net, 0, &r->outi)))
        return pp_fail(st);
    const pp_tensor_info *in = &r->in;
    if (pp_net_input_count(r->net) != 1) {
        fprintf(stderr, "classify: %s has %d inputs; an image classifier has one\n", a->graph,
                pp_net_input_count(r->net));
        return 1;
    }
    if (in->type != PP_ELEM_F32 || in->rank != 4 || (in->dims[1] != 1 && in->dims[1] != 3)) {
        fprintf(stderr, "classify: input '%s' of %s is not f32 (N, C, H, W) with C = 1 or 3\n", in->name, a->graph);
        return 1;
    }
    if (r->outi.type != PP_ELEM_F32) {
        fprintf(stderr, "classify: output '%s' of %s is not f32\n", r->outi.name, a->graph);
        return 1;
    }
    r->channels = (int)in->dims[1];
    r->H = in->dims[2] > 0 ? (long)in->dims[2] : 0;
    r->W = in->dims[3] > 0 ? (long)in->dims[3] : 0;
    if (a->size_h) {
        if ((r->H && r->H != a->size_h) || (r->W && r->W != a->size_w)) {
            fprintf(stderr, "classify: --size %ld,%ld disagrees with input '%s', which is fixed at %ld x %ld\n",
                    a->size_h, a->size_w, in->name, (long)in->dims[2], (long)in->dims[3]);
            return 1;
        }
        r->H = a->size_h;
        r->W = a->size_w;
    }
    if (!r->H || !r->W || r->H > 16384 || r->W > 16384) {
        fprintf(stderr, "classify: input '%s' has no fixed H x W; give --size H,W\n", in->name);
        return 1;
    }
    if ((a->n_mean == 3 || a->n_std == 3) && r->channels == 1) {
        fprintf(stderr, "classify: the net takes 1 channel; give --mean and --std one value each\n");
        return 1;
    }
    return 0;
}

/* The image read, scaled, resized, replicated to the net's channels and normalised
 * into the net's input. */
static int read_input(job *r) {
    const args *a = &r->a;
    char err[512];
    if (pp_image_read(a->image, &r->img, err, sizeof err)) {
        fprintf(stderr, "classify: %s\n", err);
        return 1;
    }
    r->work_ch = a->gray ? 1 : r->channels;
    double scale = a->scale > 0 ? a->scale : (double)r->img.maxval;
    size_t plane = (size_t)r->H * (size_t)r->W;
    size_t in_bytes = pp_net_input_bytes(r->net, 0, 1);
    r->out_bytes = pp_net_output_bytes(r->net, 0, 1);
    if (in_bytes != plane * (size_t)r->channels * sizeof(float) || r->out_bytes < sizeof(float)) {
        fprintf(stderr, "classify: input '%s' takes %zu bytes per item, not %d x %ld x %ld floats\n", r->in.name,
                in_bytes, r->channels, r->H, r->W);
        return 1;
    }
    r->planar = to_planar(&r->img, r->work_ch, scale);
    r->input = malloc(in_bytes);
    r->output = malloc(r->out_bytes);
    if (!r->planar || !r->input || !r->output) {
        fprintf(stderr, "classify: out of memory\n");
        return 1;
    }
    resize_bilinear(r->planar, r->img.height, r->img.width, r->input, (int)r->H, (int)r->W, r->work_ch);
    for (int c = r->channels - 1; c >= 0; c--) { /* gray replicated to 3 planes, then normalised */
        float *p = r->input + (size_t)c * plane;
        if (r->work_ch == 1 && c > 0) memcpy(p, r->input, plane * sizeof *p);
    }
    for (int c = 0; c < r->channels; c++) {
        double m = a->n_mean == 3 ? a->mean[c] : a->n_mean == 1 ? a->mean[0] : 0;
        double s = a->n_std == 3 ? a->std[c] : a->n_std == 1 ? a->std[0] : 1;
        float *p = r->input + (size_t)c * plane;
        if (m != 0 || s != 1)
            for (size_t i = 0; i < plane; i++) p[i] = (float)((p[i] - m) / s);
    }
    return 0;
}

/* The engine on --devices, run once; the first output kept. */
static int run_net(job *r) {
    pp_status *st;
    if ((st = pp_options_create(&r->opt)) || (r->a.devices && (st = pp_options_set(r->opt, "devices", r->a.devices))) ||
        (st = pp_engine_create(r->net, r->opt, &r->eng)))
        return pp_fail(st);
    /* Further outputs are computed and dropped: one buffer each. */
    int n_out = pp_net_output_count(r->net);
    void **outs = calloc((size_t)n_out, sizeof *outs);
    int ok = outs != NULL;
    for (int i = 1; ok && i < n_out; i++) ok = (outs[i] = malloc(pp_net_output_bytes(r->net, i, 1) + 1)) != NULL;
    const void *ins[1] = {r->input};
    if (ok) {
        outs[0] = r->output;
        st = pp_engine_run(r->eng, 1, ins, (void *const *)outs);
    }
    for (int i = 1; outs && i < n_out; i++) free(outs[i]);
    free(outs);
    if (!ok) {
        fprintf(stderr, "classify: out of memory\n");
        return 1;
    }
    if (st) return pp_fail(st);
    return 0;
}

/* The outputs as probabilities, sorted: kept where they are already, else a
 * softmax (stable: max subtracted). */
static int score(job *r) {
    const float *output = r->output;
    long K = r->K = (long)(r->out_bytes / sizeof(float));
    int probs = 1;
    double sum = 0, mx = -INFINITY;
    for (long i = 0; i < K; i++) {
        if (!isfinite(output[i])) {
            fprintf(stderr, "classify: output %ld of '%s' is not finite\n", i, r->outi.name);
            return 1;
        }
        if (output[i] < 0 || output[i] > 1) probs = 0;
        sum += output[i];
        if (output[i] > mx) mx = output[i];
    }
    if (fabs(sum - 1) > 1e-3) probs = 0;
    r->probs = probs;
    if (!(r->sc = malloc((size_t)K * sizeof *r->sc))) {
        fprintf(stderr, "classify: out of memory\n");
        return 1;
    }
    double z = 0;
    if (!probs)
        for (long i = 0; i < K; i++) z += exp(output[i] - mx);
    for (long i = 0; i < K; i++) {
        r->sc[i].index = i;
        r->sc[i].p = probs ? output[i] : (float)(exp(output[i] - mx) / z);
    }
    qsort(r->sc, (size_t)K, sizeof *r->sc, by_prob_desc);
    return 0;
}

/* What was classified, then the top --top classes, named from --labels where it names them. */
static int print_top(job *r) {
    const args *a = &r->a;
    if (a->labels && !(r->labels = read_labels(a->labels, &r->n_labels))) return 1;
    long K = r->K;
    printf("%s: %dx%d %s -> %ldx%ld%s, %ld classes, %s\n", a->image, r->img.width, r->img.height,
           r->img.channels == 1 ? "gray" : "RGB", r->H, r->W, r->work_ch == 1 ? " gray" : "", K,
           r->probs ? "outputs are probabilities" : "softmax over the outputs");
    printf("top-%d:\n", a->top < K ? a->top : (int)K);
    for (long k = 0; k < K && k < a->top; k++) {
        long i = r->sc[k].index;
        if (i < r->n_labels && r->labels[i]) printf("  %.4f  %ld  %s\n", r->sc[k].p, i, r->labels[i]);
        else printf("  %.4f  %ld  class %ld\n", r->sc[k].p, i, i);
    }
    return 0;
}

static void job_free(job *r) {
    if (r->labels)
        for (long i = 0; i < r->n_labels; i++) free(r->labels[i]);
    free(r->labels);
    free(r->sc);
    free(r->planar);
    free(r->input);
    free(r->output);
    pp_image_free(&r->img);
    pp_engine_free(r->eng);
    pp_options_free(r->opt);
    pp_net_free(r->net);
}

int main(int argc, char **argv) {
    job r;
    memset(&r, 0, sizeof r);
    int rc = parse_args(argc, argv, &r.a);
    if (rc) return rc == 1 ? 0 : rc;
    rc = check_net(&r) || read_input(&r) || run_net(&r) || score(&r) || print_top(&r);
    job_free(&r);
    return rc;
}

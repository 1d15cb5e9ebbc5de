/* ppbatch: batch prediction over a large .npy, resumable after an interruption.
 *
 * The input is memory-mapped and fed to the engine in chunks of --chunk items.
 * The output never appears half-written under its own name:
 *
 *   OUTPUT.npy.partial   a .npy whose header already has the full shape; chunk k's
 *                        results are written at their final offsets, then fsync'ed
 *   OUTPUT.npy.progress  "how many items are complete", plus a fingerprint of the
 *                        graph, the input and the output layout; replaced
 *                        atomically (write a temporary, fsync, rename, fsync the
 *                        folder) after each chunk's data is on disk
 *
 * The progress file only ever claims items whose bytes are already durable, so a
 * crash, a kill or a power cut at any instant leaves a state a rerun resumes
 * from. At the end the partial is renamed to OUTPUT.npy and the progress removed.
 * SIGINT or SIGTERM stop after the chunk in hand (exit status 130); a second one
 * kills at once, which is just as safe.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* POSIX and GNU calls under -std=c11 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ppengine.h>

#include "npyhdr.h"

static const char *HELP = "usage: ppbatch GRAPH INPUT.npy OUTPUT.npy [options]\n"
                          "\n"
                          "Runs GRAPH over every item (axis 0) of INPUT.npy and writes one output to\n"
                          "OUTPUT.npy. Resumable: interrupted runs leave OUTPUT.npy.partial and\n"
                          "OUTPUT.npy.progress, and the same command resumes where it stopped.\n"
                          "OUTPUT.npy appears only when every item is done.\n"
                          "\n"
                          "  --chunk N          items per engine run (default 256)\n"
                          "  --devices LIST     cpu, cpu:0,cpu:1, cuda:0,cuda:1, ... (default auto)\n"
                          "  --stages P         pipeline stages per replica (default 1)\n"
                          "  --output-index K   which output of the net to write (default 0)\n"
                          "  --restart          ignore any earlier progress and start from item 0\n"
                          "  --throttle-ms MS   sleep MS after each chunk (to demonstrate interruption)\n"
                          "  --quiet            no progress bar\n"
                          "\n"
                          "SIGINT/SIGTERM stop after the current chunk (exit status 130).\n";

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1; /* SA_RESETHAND: a second signal takes the default action */
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse_long(const char *v, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v || x < lo || x > hi) return -1;
    *out = x;
    return 0;
}

static int usage(const char *fmt, const char *arg) {
    fprintf(stderr, "ppbatch: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (try --help)\n");
    return 2;
}

static char *concat(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

/* fsync the folder holding path, so a rename in it is durable. */
static int sync_dir_of(const char *path) {
    char *copy = strdup(path);
    if (!copy) return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int pwrite_full(int fd, const void *buf, size_t n, off_t at) {
    const char *p = buf;
    for (size_t done = 0; done < n;) {
        ssize_t r = pwrite(fd, p + done, n - done, at + (off_t)done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        done += (size_t)r;
    }
    return 0;
}

/* Writes text to path atomically and durably: temporary, fsync, rename, fsync folder. */
static int write_atomic(const char *path, const char *text) {
    char *tmp = concat(path, ".tmp");
    if (!tmp) return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 || pwrite_full(fd, text, strlen(text), 0) || fsync(fd) ? -1 : 0;
    if (fd >= 0 && close(fd)) rc = -1;
    if (!rc) rc = rename(tmp, path);
    if (!rc) rc = sync_dir_of(path);
    if (rc) {
        int e = errno;
        unlink(tmp);
        errno = e;
    }
    free(tmp);
    return rc;
}

/* What a progress file must match to be resumed: the graph and input files
 * (size and modification time), the output chosen and its layout. */
static void fingerprint(char *out, size_t cap, const struct stat *g, const struct stat *in, long out_index,
                        int64_t total, size_t out_item, const char *header_hash) {
    snprintf(out, cap,
             "graph %lld %lld.%09ld\ninput %lld %lld.%09ld\noutput_index %ld\ntotal %" PRId64
             "\nitem_bytes %zu\nheader %s\n",
             (long long)g->st_size, (long long)g->st_mtim.tv_sec, (long)g->st_mtim.tv_nsec, (long long)in->st_size,
             (long long)in->st_mtim.tv_sec, (long)in->st_mtim.tv_nsec, out_index, total, out_item, header_hash);
}

/* FNV-1a of the output header, so a header change invalidates the progress. */
static void hash_hex(const char *data, size_t n, char out[17]) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)data[i]) * 1099511628211ull;
    snprintf(out, 17, "%016" PRIx64, h);
}

/* The number of complete items a progress file records, if its fingerprint
 * matches; -1 if it is absent, unreadable or for something else. */
static int64_t read_progress(const char *path, const char *fp, int64_t total) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char buf[2048];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *magic = "ppbatch progress 1\ndone ";
    if (strncmp(buf, magic, strlen(magic)) != 0) return -1;
    char *end;
    errno = 0;
    long long done = strtoll(buf + strlen(magic), &end, 10);
    if (errno || *end != '\n' || done < 0 || done > total) return -1;
    if (strcmp(end + 1, fp) != 0) return -1;
    return (int64_t)done;
}

static int write_progress(const char *path, int64_t done, const char *fp) {
    char text[2048];
    snprintf(text, sizeof text, "ppbatch progress 1\ndone %" PRId64 "\n%s", done, fp);
    return write_atomic(path, text);
}

/* Whether the terminal's progress line still lacks its newline: an error
 * printed then must start a line of its own. */
static int progress_open;

static void end_progress_line(void) {
    if (progress_open) fputc('\n', stderr);
    progress_open = 0;
}

static void show_progress(int64_t done, int64_t total, int64_t resumed_at, double t0, int final) {
    static double last;
    double t = now_s();
    int tty = isatty(2);
    if (!final && t - last < (tty ? 0.1 : 1.0)) return;
    last = t;
    double rate = t > t0 ? (double)(done - resumed_at) / (t - t0) : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    char bar[31];
    int fill = total ? (int)(30 * done / total) : 30;
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    long e = (long)(eta + 0.5);
    fprintf(stderr, "%sppbatch [%s] %" PRId64 "/%" PRId64 " items  %.1f items/s  ETA %ld:%02ld:%02ld%s",
            tty ? "\r" : "", bar, done, total, rate, e / 3600, e / 60 % 60, e % 60, tty && !final ? "" : "\n");
    progress_open = tty && !final;
}

/* Options that take a value: an unknown option is named as unknown, not as
 * one missing its value. */
static int takes_value(const char *k) {
    static const char *const known[] = {"--chunk", "--devices", "--output-index", "--stages", "--throttle-ms"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(k, known[i])) return 1;
    return 0;
}

typedef struct args {
    const char *graph, *input, *output, *devices, *stages;
    int restart, quiet;
    long chunk, out_index, throttle_ms;
} args;

/* -1 to go on, else the exit status (0 after --help, 2 after a usage error). */
static int parse_args(int argc, char **argv, args *a) {
    const char *pos[3] = {0};
    int npos = 0;
    long dummy;
    memset(a, 0, sizeof *a);
    a->chunk = 256;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            fputs(HELP, stdout);
            return 0;
        } else if (!strcmp(k, "--restart")) {
            a->restart = 1;
        } else if (!strcmp(k, "--quiet")) {
            a->quiet = 1;
        } else if (k[0] != '-') {
            if (npos == 3) return usage("unexpected argument '%s'", k);
            pos[npos++] = k;
        } else if (!takes_value(k)) {
            return usage("unknown option '%s'", k);
        } else if (!v) {
            return usage("%s needs a value", k);
        } else if (i++, !strcmp(k, "--chunk")) {
            if (parse_long(v, 1, 1 << 24, &a->chunk)) return usage("--chunk '%s' is not in 1..16777216", v);
        } else if (!strcmp(k, "--output-index")) {
            if (parse_long(v, 0, 1 << 16, &a->out_index)) return usage("--output-index '%s' is not an integer >= 0", v);
        } else if (!strcmp(k, "--throttle-ms")) {
            if (parse_long(v, 0, 60000, &a->throttle_ms)) return usage("--throttle-ms '%s' is not in 0..60000", v);
        } else if (!strcmp(k, "--devices")) {
            a->devices = v;
        } else if (!strcmp(k, "--stages")) {
            if (parse_long(v, 1, 1024, &dummy)) return usage("--stages '%s' is not in 1..1024", v);
            a->stages = v;
        } else {
            return usage("unknown option '%s'", k);
        }
    }
    if (npos != 3) return usage("needs GRAPH INPUT.npy OUTPUT.npy%s", "");
    a->graph = pos[0];
    a->input = pos[1];
    a->output = pos[2];
    return -1;
}

/* One run: what it holds from the arguments to the renamed output; freed by job_free. */
typedef struct job {
    args a;
    char *partial, *progress; /* OUTPUT.npy.partial, OUTPUT.npy.progress */
    pp_net *net;
    pp_options *opt;
    pp_engine *eng;
    int n_out;
    pp_tensor_info ii, oi;
    struct stat gst, ist;
    /* the input, mapped */
    int in_fd;
    void *map;
    size_t map_size;
    pp_npyhdr ih;
    const uint8_t *in_data;
    int64_t total;
    size_t in_item, out_item, esize; /* bytes per item: input, output; bytes per input element */
    /* the output */
    char header[512], fp[1024];
    size_t hlen;
    uint64_t out_size;
    int part_fd;
    int64_t done_items;
    /* one buffer per output of a chunk (only out_index is kept); staging for misaligned input */
    void **outs, *staging;
    int aligned;
    double t0;
} job;

/* Prints an API failure, frees it; 1. */
static int api_fail(pp_status *st) {
    end_progress_line();
    fprintf(stderr, "ppbatch: %s\n", pp_status_message(st));
    pp_status_free(st);
    return 1;
}

/* The net: one input, and the output asked for. */
static int load_net(job *j) {
    pp_status *st = pp_net_load(j->a.graph, &j->net);
    if (st) return api_fail(st);
    if (pp_net_input_count(j->net) != 1) {
        fprintf(stderr, "ppbatch: %s has %d inputs; ppbatch feeds nets with one\n", j->a.graph,
                pp_net_input_count(j->net));
        return 1;
    }
    j->n_out = pp_net_output_count(j->net);
    if (j->a.out_index >= j->n_out) {
        fprintf(stderr, "ppbatch: --output-index %ld but %s has %d outputs\n", j->a.out_index, j->a.graph, j->n_out);
        return 1;
    }
    if ((st = pp_net_input_info(j->net, 0, &j->ii)) || (st = pp_net_output_info(j->net, (int)j->a.out_index, &j->oi)))
        return api_fail(st);
    return 0;
}

/* The input mapped, its .npy header read and checked against the net's input:
 * element type, rank, every axis but the batch, and its size. */
static int map_input(job *j) {
    const char *input = j->a.input;
    char err[512];
    if (stat(j->a.graph, &j->gst) || (j->in_fd = open(input, O_RDONLY | O_CLOEXEC)) < 0 || fstat(j->in_fd, &j->ist)) {
        fprintf(stderr, "ppbatch: %s: %s\n", j->in_fd < 0 ? input : j->a.graph, strerror(errno));
        return 1;
    }
    if (!S_ISREG(j->ist.st_mode) || j->ist.st_size < 10) {
        fprintf(stderr, "ppbatch: %s: not a .npy file\n", input);
        return 1;
    }
    j->map_size = (size_t)j->ist.st_size;
    j->map = mmap(NULL, j->map_size, PROT_READ, MAP_PRIVATE, j->in_fd, 0);
    if (j->map == MAP_FAILED) {
        fprintf(stderr, "ppbatch: %s: mmap: %s\n", input, strerror(errno));
        return 1;
    }
    madvise(j->map, j->map_size, MADV_SEQUENTIAL);
    const pp_npyhdr *ih = &j->ih;
    const pp_tensor_info *ii = &j->ii;
    if (pp_npyhdr_parse(j->map, j->map_size, &j->ih, err, sizeof err)) {
        fprintf(stderr, "ppbatch: %s: %s\n", input, err);
        return 1;
    }
    if (ih->type != ii->type || ih->rank != ii->rank || ih->rank < 1) {
        fprintf(stderr, "ppbatch: %s is %s of rank %d but input '%s' is %s of rank %d\n", input, pp_elem_name(ih->type),
                ih->rank, ii->name, pp_elem_name(ii->type), ii->rank);
        return 1;
    }
    for (int d = 1; d < ih->rank; d++)
        if (ii->dims[d] > 0 && ii->dims[d] != ih->dims[d]) {
            fprintf(stderr, "ppbatch: %s has %" PRId64 " on axis %d but input '%s' has %" PRId64 "\n", input,
                    ih->dims[d], d, ii->name, ii->dims[d]);
            return 1;
        }
    j->total = ih->dims[0];
    j->in_item = pp_net_input_bytes(j->net, 0, 1);
    j->out_item = pp_net_output_bytes(j->net, (int)j->a.out_index, 1);
    j->esize = pp_elem_size(ih->type);
    uint64_t file_item = j->esize;
    for (int d = 1; d < ih->rank; d++) file_item *= (uint64_t)ih->dims[d];
    if (file_item != j->in_item || j->in_item == 0) {
        fprintf(stderr, "ppbatch: an item of %s is %" PRIu64 " bytes but input '%s' takes %zu\n", input, file_item,
                ii->name, j->in_item);
        return 1;
    }
    if ((uint64_t)j->total > (j->map_size - ih->data_offset) / j->in_item ||
        ih->data_offset + (uint64_t)j->total * j->in_item != j->map_size) {
        fprintf(stderr, "ppbatch: %s: %zu data bytes after the header, but shape needs %" PRId64 " x %zu\n", input,
                j->map_size - ih->data_offset, j->total, j->in_item);
        return 1;
    }
    j->in_data = (const uint8_t *)j->map + ih->data_offset;
    return 0;
}

/* The output's full shape, its .npy header and the fingerprint the progress file carries. */
static int plan_output(job *j) {
    const pp_tensor_info *ii = &j->ii, *oi = &j->oi;
    if (oi->rank < 1 || oi->dims[0] != -1 || ii->dims[0] != -1) {
        fprintf(stderr, "ppbatch: input '%s' and output '%s' must both have the batch (and only it) on axis 0\n",
                ii->name, oi->name);
        return 1;
    }
    int64_t odims[PP_MAX_DIMS];
    odims[0] = j->total;
    for (int d = 1; d < oi->rank; d++) {
        if (oi->dims[d] <= 0) {
            fprintf(stderr, "ppbatch: output '%s' has a batch-dependent size on axis %d\n", oi->name, d);
            return 1;
        }
        odims[d] = oi->dims[d];
    }
    j->hlen = pp_npyhdr_format(oi->type, oi->rank, odims, j->header, sizeof j->header);
    if (!j->hlen) {
        fprintf(stderr, "ppbatch: output '%s' has an element type .npy cannot hold\n", oi->name);
        return 1;
    }
    char hh[17];
    hash_hex(j->header, j->hlen, hh);
    fingerprint(j->fp, sizeof j->fp, &j->gst, &j->ist, j->a.out_index, j->total, j->out_item, hh);
    j->out_size = j->hlen + (uint64_t)j->total * j->out_item;
    return 0;
}

/* Resumes from the progress file where it and the partial output match this run,
 * else starts a new partial output (its header written, its full size reserved). */
static int resume_or_start(job *j) {
    int quiet = j->a.quiet;
    j->done_items = j->a.restart ? -1 : read_progress(j->progress, j->fp, j->total);
    if (j->done_items >= 0) {
        j->part_fd = open(j->partial, O_RDWR | O_CLOEXEC);
        struct stat pst;
        char head_now[512];
        if (j->part_fd < 0 || fstat(j->part_fd, &pst) || (uint64_t)pst.st_size != j->out_size ||
            pread(j->part_fd, head_now, j->hlen, 0) != (ssize_t)j->hlen || memcmp(head_now, j->header, j->hlen) != 0) {
            if (!quiet) fprintf(stderr, "ppbatch: %s does not match its progress file; starting over\n", j->partial);
            if (j->part_fd >= 0) close(j->part_fd);
            j->part_fd = -1;
            j->done_items = -1;
        } else if (!quiet) {
            fprintf(stderr, "ppbatch: resuming at item %" PRId64 " of %" PRId64 "\n", j->done_items, j->total);
        }
    } else if (!j->a.restart && !quiet && access(j->progress, F_OK) == 0) {
        fprintf(stderr, "ppbatch: %s is for another graph, input or output; starting over\n", j->progress);
    }
    if (j->done_items < 0) {
        j->done_items = 0;
        j->part_fd = open(j->partial, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (j->part_fd < 0 || pwrite_full(j->part_fd, j->header, j->hlen, 0) ||
            ftruncate(j->part_fd, (off_t)j->out_size) || fsync(j->part_fd) || write_progress(j->progress, 0, j->fp)) {
            fprintf(stderr, "ppbatch: %s: %s\n", j->partial, strerror(errno));
            return 1;
        }
    }
    return 0;
}

/* The engine for chunks of --chunk items, and the chunk's buffers. */
static int start_engine(job *j) {
    pp_status *st;
    char chunk_s[32];
    snprintf(chunk_s, sizeof chunk_s, "%ld", j->a.chunk);
    if ((st = pp_options_create(&j->opt)) || (j->a.devices && (st = pp_options_set(j->opt, "devices", j->a.devices))) ||
        (j->a.stages && (st = pp_options_set(j->opt, "stages", j->a.stages))) ||
        (st = pp_options_set(j->opt, "max_batch", chunk_s)) || (st = pp_engine_create(j->net, j->opt, &j->eng)))
        return api_fail(st);
    j->outs = calloc((size_t)j->n_out, sizeof *j->outs);
    for (int o = 0; j->outs && o < j->n_out; o++)
        if (!(j->outs[o] = malloc(pp_net_output_bytes(j->net, o, j->a.chunk) + 1))) break;
    /* mmap'ed items are aligned only as well as the header length; copy if not enough */
    j->aligned = ((uintptr_t)j->in_data % (j->esize ? j->esize : 1)) == 0;
    if (!j->outs || !j->outs[j->n_out - 1] ||
        (!j->aligned && !(j->staging = malloc(j->in_item * (size_t)j->a.chunk)))) {
        fprintf(stderr, "ppbatch: out of memory for chunks of %ld\n", j->a.chunk);
        return 1;
    }
    return 0;
}

static void catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* One chunk run, its results durable in the partial output, then the progress
 * claiming them. */
static int run_chunk(job *j) {
    pp_status *st;
    int64_t b = j->total - j->done_items < j->a.chunk ? j->total - j->done_items : j->a.chunk;
    const void *src = j->in_data + (size_t)j->done_items * j->in_item;
    if (!j->aligned) {
        memcpy(j->staging, src, (size_t)b * j->in_item);
        src = j->staging;
    }
    const void *ins[1] = {src};
    if ((st = pp_engine_run(j->eng, b, ins, (void *const *)j->outs))) return api_fail(st);
    if (pwrite_full(j->part_fd, j->outs[j->a.out_index], (size_t)b * j->out_item,
                    (off_t)(j->hlen + (uint64_t)j->done_items * j->out_item)) ||
        fdatasync(j->part_fd)) {
        end_progress_line();
        fprintf(stderr, "ppbatch: %s: %s\n", j->partial, strerror(errno));
        return 1;
    }
    j->done_items += b;
    /* Only now, with the bytes durable, may the progress claim them. */
    if (write_progress(j->progress, j->done_items, j->fp)) {
        end_progress_line();
        fprintf(stderr, "ppbatch: %s: %s\n", j->progress, strerror(errno));
        return 1;
    }
    return 0;
}

/* Every chunk not done yet, until the end or a signal: 0, 1 on a failure, 130 when interrupted. */
static int run_chunks(job *j) {
    long throttle_ms = j->a.throttle_ms;
    j->t0 = now_s();
    int64_t resumed_at = j->done_items;
    while (j->done_items < j->total && !g_stop) {
        if (run_chunk(j)) return 1;
        if (!j->a.quiet) show_progress(j->done_items, j->total, resumed_at, j->t0, j->done_items == j->total);
        if (throttle_ms && j->done_items < j->total && !g_stop) {
            struct timespec ts = {throttle_ms / 1000, (throttle_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL); /* a signal cuts it short, which is what we want */
        }
    }
    if (j->done_items < j->total) {
        if (!j->a.quiet) show_progress(j->done_items, j->total, resumed_at, j->t0, 1);
        fprintf(stderr, "ppbatch: interrupted after %" PRId64 " of %" PRId64 " items; run the same command to resume\n",
                j->done_items, j->total);
        return 130;
    }
    return 0;
}

/* The partial output, complete, renamed to OUTPUT.npy; the progress file removed. */
static int finish(job *j) {
    int fd = j->part_fd;
    j->part_fd = -1;
    if (fsync(fd) || close(fd)) {
        fprintf(stderr, "ppbatch: %s: %s\n", j->partial, strerror(errno));
        return 1;
    }
    if (rename(j->partial, j->a.output) || sync_dir_of(j->a.output)) {
        fprintf(stderr, "ppbatch: rename %s -> %s: %s\n", j->partial, j->a.output, strerror(errno));
        return 1;
    }
    unlink(j->progress); /* stale without the partial; a rerun would start over anyway */
    if (!j->a.quiet) {
        if (j->total == 0) show_progress(0, 0, 0, j->t0, 1);
        fprintf(stderr, "ppbatch: wrote %s (%" PRId64 " items)\n", j->a.output, j->total);
    }
    return 0;
}

static void job_free(job *j) {
    if (j->outs)
        for (int o = 0; o < j->n_out; o++) free(j->outs[o]);
    free(j->outs);
    free(j->staging);
    if (j->part_fd >= 0) close(j->part_fd);
    if (j->map != MAP_FAILED) munmap(j->map, j->map_size);
    if (j->in_fd >= 0) close(j->in_fd);
    pp_engine_free(j->eng);
    pp_options_free(j->opt);
    pp_net_free(j->net);
    free(j->partial);
    free(j->progress);
}

int main(int argc, char **argv) {
    job j;
    memset(&j, 0, sizeof j);
    j.in_fd = j.part_fd = -1;
    j.map = MAP_FAILED;
    int rc = parse_args(argc, argv, &j.a);
    if (rc >= 0) return rc;
    rc = 1;
    j.partial = concat(j.a.output, ".partial");
    j.progress = concat(j.a.output, ".progress");
    if (!j.partial || !j.progress) {
        fprintf(stderr, "ppbatch: out of memory\n");
    } else if (!load_net(&j) && !map_input(&j) && !plan_output(&j) && !resume_or_start(&j) && !start_engine(&j)) {
        catch_signals();
        rc = run_chunks(&j);
        if (rc == 0) rc = finish(&j);
    }
    job_free(&j);
    return rc;
}

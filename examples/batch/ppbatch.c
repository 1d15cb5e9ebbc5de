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

int main(int argc, char **argv) {
    const char *pos[3] = {0}, *devices = NULL, *stages = NULL;
    int npos = 0, restart = 0, quiet = 0;
    long chunk = 256, out_index = 0, throttle_ms = 0, dummy;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            fputs(HELP, stdout);
            return 0;
        } else if (!strcmp(k, "--restart")) {
            restart = 1;
        } else if (!strcmp(k, "--quiet")) {
            quiet = 1;
        } else if (k[0] != '-') {
            if (npos == 3) return usage("unexpected argument '%s'", k);
            pos[npos++] = k;
        } else if (!takes_value(k)) {
            return usage("unknown option '%s'", k);
        } else if (!v) {
            return usage("%s needs a value", k);
        } else if (i++, !strcmp(k, "--chunk")) {
            if (parse_long(v, 1, 1 << 24, &chunk)) return usage("--chunk '%s' is not in 1..16777216", v);
        } else if (!strcmp(k, "--output-index")) {
            if (parse_long(v, 0, 1 << 16, &out_index)) return usage("--output-index '%s' is not an integer >= 0", v);
        } else if (!strcmp(k, "--throttle-ms")) {
            if (parse_long(v, 0, 60000, &throttle_ms)) return usage("--throttle-ms '%s' is not in 0..60000", v);
        } else if (!strcmp(k, "--devices")) {
            devices = v;
        } else if (!strcmp(k, "--stages")) {
            if (parse_long(v, 1, 1024, &dummy)) return usage("--stages '%s' is not in 1..1024", v);
            stages = v;
        } else {
            return usage("unknown option '%s'", k);
        }
    }
    if (npos != 3) return usage("needs GRAPH INPUT.npy OUTPUT.npy%s", "");
    const char *graph = pos[0], *input = pos[1], *output = pos[2];

    int rc = 1, in_fd = -1, part_fd = -1;
    void *map = MAP_FAILED;
    size_t map_size = 0;
    pp_net *net = NULL;
    pp_options *opt = NULL;
    pp_engine *eng = NULL;
    void **outs = NULL, *staging = NULL;
    int n_out = 0;
    char *partial = concat(output, ".partial"), *progress = concat(output, ".progress");
    char err[512];
    if (!partial || !progress) {
        fprintf(stderr, "ppbatch: out of memory\n");
        goto done;
    }

    /* ---- the net and the input, checked against each other ---- */
    pp_status *st = pp_net_load(graph, &net);
    if (st) goto api_fail;
    pp_tensor_info ii, oi;
    if (pp_net_input_count(net) != 1) {
        fprintf(stderr, "ppbatch: %s has %d inputs; ppbatch feeds nets with one\n", graph, pp_net_input_count(net));
        goto done;
    }
    n_out = pp_net_output_count(net);
    if (out_index >= n_out) {
        fprintf(stderr, "ppbatch: --output-index %ld but %s has %d outputs\n", out_index, graph, n_out);
        goto done;
    }
    if ((st = pp_net_input_info(net, 0, &ii)) || (st = pp_net_output_info(net, (int)out_index, &oi))) goto api_fail;

    struct stat gst, ist;
    if (stat(graph, &gst) || (in_fd = open(input, O_RDONLY | O_CLOEXEC)) < 0 || fstat(in_fd, &ist)) {
        fprintf(stderr, "ppbatch: %s: %s\n", in_fd < 0 ? input : graph, strerror(errno));
        goto done;
    }
    if (!S_ISREG(ist.st_mode) || ist.st_size < 10) {
        fprintf(stderr, "ppbatch: %s: not a .npy file\n", input);
        goto done;
    }
    map_size = (size_t)ist.st_size;
    map = mmap(NULL, map_size, PROT_READ, MAP_PRIVATE, in_fd, 0);
    if (map == MAP_FAILED) {
        fprintf(stderr, "ppbatch: %s: mmap: %s\n", input, strerror(errno));
        goto done;
    }
    madvise(map, map_size, MADV_SEQUENTIAL);
    pp_npyhdr ih;
    if (pp_npyhdr_parse(map, map_size, &ih, err, sizeof err)) {
        fprintf(stderr, "ppbatch: %s: %s\n", input, err);
        goto done;
    }
    if (ih.type != ii.type || ih.rank != ii.rank || ih.rank < 1) {
        fprintf(stderr, "ppbatch: %s is %s of rank %d but input '%s' is %s of rank %d\n", input, pp_elem_name(ih.type),
                ih.rank, ii.name, pp_elem_name(ii.type), ii.rank);
        goto done;
    }
    for (int d = 1; d < ih.rank; d++)
        if (ii.dims[d] > 0 && ii.dims[d] != ih.dims[d]) {
            fprintf(stderr, "ppbatch: %s has %" PRId64 " on axis %d but input '%s' has %" PRId64 "\n", input,
                    ih.dims[d], d, ii.name, ii.dims[d]);
            goto done;
        }
    int64_t total = ih.dims[0];
    size_t in_item = pp_net_input_bytes(net, 0, 1), out_item = pp_net_output_bytes(net, (int)out_index, 1);
    size_t esize = pp_elem_size(ih.type);
    uint64_t file_item = esize;
    for (int d = 1; d < ih.rank; d++) file_item *= (uint64_t)ih.dims[d];
    if (file_item != in_item || in_item == 0) {
        fprintf(stderr, "ppbatch: an item of %s is %" PRIu64 " bytes but input '%s' takes %zu\n", input, file_item,
                ii.name, in_item);
        goto done;
    }
    if ((uint64_t)total > (map_size - ih.data_offset) / in_item ||
        ih.data_offset + (uint64_t)total * in_item != map_size) {
        fprintf(stderr, "ppbatch: %s: %zu data bytes after the header, but shape needs %" PRId64 " x %zu\n", input,
                map_size - ih.data_offset, total, in_item);
        goto done;
    }
    const uint8_t *in_data = (const uint8_t *)map + ih.data_offset;

    /* ---- the output's full shape and header ---- */
    if (oi.rank < 1 || oi.dims[0] != -1 || ii.dims[0] != -1) {
        fprintf(stderr, "ppbatch: input '%s' and output '%s' must both have the batch (and only it) on axis 0\n",
                ii.name, oi.name);
        goto done;
    }
    int64_t odims[PP_MAX_DIMS];
    odims[0] = total;
    for (int d = 1; d < oi.rank; d++) {
        if (oi.dims[d] <= 0) {
            fprintf(stderr, "ppbatch: output '%s' has a batch-dependent size on axis %d\n", oi.name, d);
            goto done;
        }
        odims[d] = oi.dims[d];
    }
    char header[512];
    size_t hlen = pp_npyhdr_format(oi.type, oi.rank, odims, header, sizeof header);
    if (!hlen) {
        fprintf(stderr, "ppbatch: output '%s' has an element type .npy cannot hold\n", oi.name);
        goto done;
    }
    char hh[17], fp[1024];
    hash_hex(header, hlen, hh);
    fingerprint(fp, sizeof fp, &gst, &ist, out_index, total, out_item, hh);
    uint64_t out_size = hlen + (uint64_t)total * out_item;

    /* ---- resume or start ---- */
    int64_t done_items = restart ? -1 : read_progress(progress, fp, total);
    if (done_items >= 0) {
        part_fd = open(partial, O_RDWR | O_CLOEXEC);
        struct stat pst;
        char head_now[512];
        if (part_fd < 0 || fstat(part_fd, &pst) || (uint64_t)pst.st_size != out_size ||
            pread(part_fd, head_now, hlen, 0) != (ssize_t)hlen || memcmp(head_now, header, hlen) != 0) {
            if (!quiet) fprintf(stderr, "ppbatch: %s does not match its progress file; starting over\n", partial);
            if (part_fd >= 0) close(part_fd);
            part_fd = -1;
            done_items = -1;
        } else if (!quiet) {
            fprintf(stderr, "ppbatch: resuming at item %" PRId64 " of %" PRId64 "\n", done_items, total);
        }
    } else if (!restart && !quiet && access(progress, F_OK) == 0) {
        fprintf(stderr, "ppbatch: %s is for another graph, input or output; starting over\n", progress);
    }
    if (done_items < 0) {
        done_items = 0;
        part_fd = open(partial, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (part_fd < 0 || pwrite_full(part_fd, header, hlen, 0) || ftruncate(part_fd, (off_t)out_size) ||
            fsync(part_fd) || write_progress(progress, 0, fp)) {
            fprintf(stderr, "ppbatch: %s: %s\n", partial, strerror(errno));
            goto done;
        }
    }

    /* ---- the engine, and one buffer per output (only output_index is kept) ---- */
    char chunk_s[32];
    snprintf(chunk_s, sizeof chunk_s, "%ld", chunk);
    if ((st = pp_options_create(&opt)) || (devices && (st = pp_options_set(opt, "devices", devices))) ||
        (stages && (st = pp_options_set(opt, "stages", stages))) || (st = pp_options_set(opt, "max_batch", chunk_s)) ||
        (st = pp_engine_create(net, opt, &eng)))
        goto api_fail;
    outs = calloc((size_t)n_out, sizeof *outs);
    for (int o = 0; outs && o < n_out; o++)
        if (!(outs[o] = malloc(pp_net_output_bytes(net, o, chunk) + 1))) break;
    /* mmap'ed items are aligned only as well as the header length; copy if not enough */
    int aligned = ((uintptr_t)in_data % (esize ? esize : 1)) == 0;
    if (!outs || !outs[n_out - 1] || (!aligned && !(staging = malloc(in_item * (size_t)chunk)))) {
        fprintf(stderr, "ppbatch: out of memory for chunks of %ld\n", chunk);
        goto done;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    double t0 = now_s();
    int64_t resumed_at = done_items;
    while (done_items < total && !g_stop) {
        int64_t b = total - done_items < chunk ? total - done_items : chunk;
        const void *src = in_data + (size_t)done_items * in_item;
        if (!aligned) {
            memcpy(staging, src, (size_t)b * in_item);
            src = staging;
        }
        const void *ins[1] = {src};
        if ((st = pp_engine_run(eng, b, ins, (void *const *)outs))) goto api_fail;
        if (pwrite_full(part_fd, outs[out_index], (size_t)b * out_item,
                        (off_t)(hlen + (uint64_t)done_items * out_item)) ||
            fdatasync(part_fd)) {
            end_progress_line();
            fprintf(stderr, "ppbatch: %s: %s\n", partial, strerror(errno));
            goto done;
        }
        done_items += b;
        /* Only now, with the bytes durable, may the progress claim them. */
        if (write_progress(progress, done_items, fp)) {
            end_progress_line();
            fprintf(stderr, "ppbatch: %s: %s\n", progress, strerror(errno));
            goto done;
        }
        if (!quiet) show_progress(done_items, total, resumed_at, t0, done_items == total);
        if (throttle_ms && done_items < total && !g_stop) {
            struct timespec ts = {throttle_ms / 1000, (throttle_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL); /* a signal cuts it short, which is what we want */
        }
    }
    if (done_items < total) {
        if (!quiet) show_progress(done_items, total, resumed_at, t0, 1);
        fprintf(stderr, "ppbatch: interrupted after %" PRId64 " of %" PRId64 " items; run the same command to resume\n",
                done_items, total);
        rc = 130;
        goto done;
    }
    if (fsync(part_fd) || close(part_fd)) {
        part_fd = -1;
        fprintf(stderr, "ppbatch: %s: %s\n", partial, strerror(errno));
        goto done;
    }
    part_fd = -1;
    if (rename(partial, output) || sync_dir_of(output)) {
        fprintf(stderr, "ppbatch: rename %s -> %s: %s\n", partial, output, strerror(errno));
        goto done;
    }
    unlink(progress); /* stale without the partial; a rerun would start over anyway */
    if (!quiet) {
        if (total == 0) show_progress(0, 0, 0, t0, 1);
        fprintf(stderr, "ppbatch: wrote %s (%" PRId64 " items)\n", output, total);
    }
    rc = 0;
    goto done;

api_fail:
    end_progress_line();
    fprintf(stderr, "ppbatch: %s\n", pp_status_message(st));
    pp_status_free(st);
done:
    if (outs)
        for (int o = 0; o < n_out; o++) free(outs[o]);
    free(outs);
    free(staging);
    if (part_fd >= 0) close(part_fd);
    if (map != MAP_FAILED) munmap(map, map_size);
    if (in_fd >= 0) close(in_fd);
    pp_engine_free(eng);
    pp_options_free(opt);
    pp_net_free(net);
    free(partial);
    free(progress);
    return rc;
}

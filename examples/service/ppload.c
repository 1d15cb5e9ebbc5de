/* ppload: a load generator for ppserve.
 *
 * Asks the server for its inputs (the info request, protocol.h), builds one
 * request of --batch items (f32 inputs get deterministic values in [0, 1), other
 * types zeros), then C threads, one connection each, send N requests in total
 * and time each from the first byte sent to the last byte received. Prints p50,
 * p99 and max latency and the throughput; exits 1 if any request failed or was
 * not sent before --timeout. Talks to loopback addresses only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* POSIX and GNU calls under -std=c11 */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <ppengine.h>

#include "netio.h"
#include "protocol.h"

static const char *HELP = "usage: ppload HOST:PORT --requests N --concurrency C [options]\n"
                          "\n"
                          "Sends N requests to a ppserve over C connections (one thread each) and\n"
                          "prints latency percentiles and throughput. HOST must be loopback\n"
                          "(127.0.0.0/8 or localhost).\n"
                          "\n"
                          "  --requests N     requests in total (1..10000000)\n"
                          "  --concurrency C  connections at once (1..1024, default 1)\n"
                          "  --batch B        items per request (default 1)\n"
                          "  --timeout S      give up on requests not done after S seconds (default 60)\n"
                          "  --verify         check every response is bit-identical to the first\n"
                          "                   (every request carries the same input)\n"
                          "\n"
                          "Exit status: 0 when every request succeeded, 1 otherwise, 2 for bad usage.\n";

enum { MAX_IO = 64, MAX_ERRMSG = 4096, MAX_SHOWN_ERRORS = 5 };

typedef struct load {
    struct sockaddr_in addr;
    uint8_t *request; /* header + input bytes, shared read-only */
    size_t request_bytes, response_bytes;
    long n_requests;
    double deadline;
    int verify;

    pthread_mutex_t mu;
    long next;          /* the next request index to claim */
    double *latency_ms; /* per request; NAN if it failed */
    long failed, shown;
    uint8_t *reference; /* the first response body, for --verify */
} load;

static int connect_to(const struct sockaddr_in *addr) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct timeval tv = {10, 0}; /* bounds connect() too, should the server's backlog be full */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr)) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void note_error(load *L, const char *fmt, long idx, const char *detail) {
    pthread_mutex_lock(&L->mu);
    L->failed++;
    if (L->shown++ < MAX_SHOWN_ERRORS) {
        fprintf(stderr, "ppload: request %ld: ", idx);
        fprintf(stderr, fmt, detail);
        fputc('\n', stderr);
    }
    pthread_mutex_unlock(&L->mu);
}

/* One request on fd. Returns 0 (the connection is fine to reuse, whether or
 * not the request succeeded) or -1 (drop the connection). */
static int one_request(load *L, int fd, long idx, uint8_t *body) {
    double t0 = pps_now();
    uint8_t hdr[8];
    if (pps_write_full(fd, L->request, L->request_bytes, L->deadline) || pps_read_full(fd, hdr, 8, L->deadline)) {
        note_error(L, "%s", idx, errno == ETIMEDOUT ? "timed out" : "connection lost");
        return -1;
    }
    uint32_t status = pps_get_u32(hdr), n = pps_get_u32(hdr + 4);
    if (status != PPS_OK) {
        char msg[MAX_ERRMSG + 1];
        int keep = n <= MAX_ERRMSG && pps_read_full(fd, msg, n, L->deadline) == 0;
        msg[keep ? n : 0] = 0;
        char detail[MAX_ERRMSG + 64];
        snprintf(detail, sizeof detail, "status %u: %s", status, keep ? msg : "(message unreadable)");
        note_error(L, "server: %s", idx, detail);
        return keep && status < 100 ? 0 : -1; /* after a protocol error the server closes */
    }
    if (n != L->response_bytes) {
        char detail[96];
        snprintf(detail, sizeof detail, "%u bytes, expected %zu", n, L->response_bytes);
        note_error(L, "response of %s", idx, detail);
        return -1;
    }
    if (pps_read_full(fd, body, n, L->deadline)) {
        note_error(L, "%s", idx, "connection lost in the response");
        return -1;
    }
    double ms = (pps_now() - t0) * 1e3;
    if (L->verify) {
        pthread_mutex_lock(&L->mu);
        int first = L->reference == NULL, same = 1;
        if (first && (L->reference = malloc(n ? n : 1))) memcpy(L->reference, body, n);
        else if (!first) same = memcmp(L->reference, body, n) == 0;
        pthread_mutex_unlock(&L->mu);
        if (!same) {
            note_error(L, "%s", idx, "response differs from the first one (--verify)");
            return 0;
        }
    }
    L->latency_ms[idx] = ms; /* each index is claimed by one thread */
    return 0;
}

static void *client_main(void *arg) {
    load *L = arg;
    uint8_t *body = malloc(L->response_bytes ? L->response_bytes : 1);
    int fd = -1, reconnects = 0;
    for (;;) {
        pthread_mutex_lock(&L->mu);
        long idx = L->next < L->n_requests && pps_now() < L->deadline ? L->next++ : -1;
        pthread_mutex_unlock(&L->mu);
        if (idx < 0) break;
        if (!body) {
            note_error(L, "%s", idx, "out of memory");
            continue;
        }
        if (fd < 0 && (reconnects >= 3 || (reconnects++, fd = connect_to(&L->addr)) < 0)) {
            note_error(L, "%s", idx, "cannot connect to the server");
            continue; /* counts the rest as failed, quickly: three connection attempts per thread */
        }
        if (one_request(L, fd, idx, body)) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0) close(fd);
    free(body);
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
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
    fprintf(stderr, "ppload: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (try --help)\n");
    return 2;
}

/* The info request: fills the per-item bytes and types of inputs and outputs. */
static int query_info(const struct sockaddr_in *addr, uint32_t *max_batch, int *n_in, int *n_out, uint32_t *types,
                      uint32_t *item_bytes) {
    int fd = connect_to(addr);
    if (fd < 0) {
        fprintf(stderr, "ppload: cannot connect to 127.x:%d: %s\n", ntohs(addr->sin_port), strerror(errno));
        return -1;
    }
    double deadline = pps_now() + 10;
    uint8_t req[8], hdr[8], body[12 + 8 * 2 * MAX_IO];
    pps_put_u32(req, PPS_MAGIC);
    pps_put_u32(req + 4, 0);
    int rc = -1;
    if (pps_write_full(fd, req, 8, deadline) || pps_read_full(fd, hdr, 8, deadline)) {
        fprintf(stderr, "ppload: no answer to the info request: %s\n", strerror(errno));
        goto out;
    }
    uint32_t status = pps_get_u32(hdr), n = pps_get_u32(hdr + 4);
    if (status != PPS_OK || n < 12 || n > sizeof body || pps_read_full(fd, body, n, deadline)) {
        fprintf(stderr, "ppload: bad answer to the info request (status %u, %u bytes)\n", status, n);
        goto out;
    }
    *max_batch = pps_get_u32(body);
    uint32_t ni = pps_get_u32(body + 4), no = pps_get_u32(body + 8);
    if (ni < 1 || ni > MAX_IO || no < 1 || no > MAX_IO || n != 12 + 8 * (ni + no)) {
        fprintf(stderr, "ppload: the info answer describes %u inputs and %u outputs in %u bytes\n", ni, no, n);
        goto out;
    }
    *n_in = (int)ni;
    *n_out = (int)no;
    for (uint32_t i = 0; i < ni + no; i++) {
        types[i] = pps_get_u32(body + 12 + 8 * i);
        item_bytes[i] = pps_get_u32(body + 16 + 8 * i);
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

/* Options that take a value: an unknown option is named as unknown, not as
 * one missing its value. */
static int takes_value(const char *k) {
    static const char *const known[] = {"--batch", "--concurrency", "--requests", "--timeout"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(k, known[i])) return 1;
    return 0;
}

int main(int argc, char **argv) {
    const char *target = NULL;
    long n_requests = 0, conc = 1, batch = 1, timeout = 60;
    int verify = 0;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            fputs(HELP, stdout);
            return 0;
        }
        if (!strcmp(k, "--verify")) {
            verify = 1;
            continue;
        }
        if (k[0] != '-') {
            if (target) return usage("unexpected argument '%s'", k);
            target = k;
            continue;
        }
        if (!takes_value(k)) return usage("unknown option '%s'", k);
        if (!v) return usage("%s needs a value", k);
        i++;
        if (!strcmp(k, "--requests")) {
            if (parse_long(v, 1, 10000000, &n_requests)) return usage("--requests '%s' is not in 1..10000000", v);
        } else if (!strcmp(k, "--concurrency")) {
            if (parse_long(v, 1, 1024, &conc)) return usage("--concurrency '%s' is not in 1..1024", v);
        } else if (!strcmp(k, "--batch")) {
            if (parse_long(v, 1, 1 << 20, &batch)) return usage("--batch '%s' is not in 1..1048576", v);
        } else if (!strcmp(k, "--timeout")) {
            if (parse_long(v, 1, 86400, &timeout)) return usage("--timeout '%s' is not in 1..86400 seconds", v);
        } else {
            return usage("unknown option '%s'", k);
        }
    }
    if (!target) return usage("needs HOST:PORT%s", "");
    if (!n_requests) return usage("needs --requests N%s", "");

    load L;
    memset(&L, 0, sizeof L);
    char err[256];
    if (pps_parse_loopback(target, &L.addr, err, sizeof err)) {
        fprintf(stderr, "ppload: %s\n", err);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    uint32_t max_batch, types[2 * MAX_IO], item[2 * MAX_IO];
    int n_in, n_out;
    if (query_info(&L.addr, &max_batch, &n_in, &n_out, types, item)) return 1;
    if ((uint64_t)batch > max_batch) {
        fprintf(stderr, "ppload: --batch %ld exceeds the server's max batch %u\n", batch, max_batch);
        return 1;
    }
    uint64_t req = 8, resp = 0;
    for (int i = 0; i < n_in; i++) req += (uint64_t)item[i] * (uint64_t)batch;
    for (int o = 0; o < n_out; o++) resp += (uint64_t)item[n_in + o] * (uint64_t)batch;
    if (req > (1u << 30) || resp > (1u << 30)) {
        fprintf(stderr, "ppload: a request of batch %ld would be over 1 GiB\n", batch);
        return 1;
    }
    L.request_bytes = (size_t)req;
    L.response_bytes = (size_t)resp;
    L.n_requests = n_requests;
    L.verify = verify;
    L.request = calloc(1, L.request_bytes);
    L.latency_ms = malloc((size_t)n_requests * sizeof *L.latency_ms);
    pthread_t *th = calloc((size_t)conc, sizeof *th);
    if (!L.request || !L.latency_ms || !th) {
        fprintf(stderr, "ppload: out of memory\n");
        return 1;
    }
    pps_put_u32(L.request, PPS_MAGIC);
    pps_put_u32(L.request + 4, (uint32_t)batch);
    uint8_t *p = L.request + 8;
    uint32_t lcg = 12345;
    for (int i = 0; i < n_in; i++) {
        size_t nb = (size_t)item[i] * (size_t)batch;
        if (types[i] == PP_ELEM_F32)
            for (size_t j = 0; j + 4 <= nb; j += 4) {
                lcg = lcg * 1664525u + 1013904223u;
                float f = (float)(lcg >> 8) / 16777216.0f; /* [0, 1) */
                memcpy(p + j, &f, 4);
            }
        p += nb;
    }
    for (long i = 0; i < n_requests; i++) L.latency_ms[i] = NAN;
    pthread_mutex_init(&L.mu, NULL);

    double t0 = pps_now();
    L.deadline = t0 + (double)timeout;
    long started = 0;
    for (; started < conc; started++)
        if (pthread_create(&th[started], NULL, client_main, &L)) break;
    for (long i = 0; i < started; i++) pthread_join(th[i], NULL);
    double wall = pps_now() - t0;
    int rc = 0;
    if (started == 0) {
        fprintf(stderr, "ppload: cannot start a client thread\n");
        rc = 1;
    }

    long ok = 0;
    for (long i = 0; i < n_requests; i++)
        if (!isnan(L.latency_ms[i])) L.latency_ms[ok++] = L.latency_ms[i];
    long not_sent = n_requests - L.next;
    qsort(L.latency_ms, (size_t)ok, sizeof *L.latency_ms, cmp_double);
    printf("ppload: %ld requests to %s, concurrency %ld, batch %ld: %ld ok, %ld failed, %ld not sent\n", n_requests,
           target, conc, batch, ok, n_requests - ok - not_sent, not_sent);
    if (ok) {
        double sum = 0;
        for (long i = 0; i < ok; i++) sum += L.latency_ms[i];
        /* nearest-rank percentiles */
        long i50 = (long)ceil(0.50 * (double)ok) - 1, i99 = (long)ceil(0.99 * (double)ok) - 1;
        printf("latency ms: p50 %.3f  p99 %.3f  max %.3f  mean %.3f\n", L.latency_ms[i50 < 0 ? 0 : i50],
               L.latency_ms[i99 < 0 ? 0 : i99], L.latency_ms[ok - 1], sum / (double)ok);
        printf("throughput: %.1f requests/s, %.1f items/s (%ld ok in %.3f s)\n", (double)ok / wall,
               (double)ok * (double)batch / wall, ok, wall);
    }
    if (ok != n_requests) rc = 1;
    pthread_mutex_destroy(&L.mu);
    free(L.request);
    free(L.latency_ms);
    free(L.reference);
    free(th);
    return rc;
}

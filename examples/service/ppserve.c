/* ppserve: a small prediction server over one shared pp_engine.
 *
 * The main thread owns every socket: it accepts on 127.0.0.1, polls the idle
 * connections, and hands a connection with a request waiting to the work queue.
 * N worker threads each take one connection, serve exactly one request (read,
 * pp_engine_run, write) and hand the connection back, so C clients share N
 * workers fairly however C and N compare. The engine is shared: pp_engine_run
 * may be called from any number of threads at once (ppengine.h).
 *
 * Every read and write has a deadline (--timeout), every request a size bound
 * (--max-batch), the connection count a bound (--max-connections). SIGINT or
 * SIGTERM stop it gracefully: no new requests are taken, the runs in progress
 * finish and are answered, then every socket is closed and the engine freed.
 * The wire protocol is in protocol.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* POSIX and GNU calls under -std=c11 */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ppengine.h>

#include "netio.h"
#include "protocol.h"

static const char *HELP = "usage: ppserve GRAPH --port P [options]\n"
                          "\n"
                          "Serves predictions from GRAPH on 127.0.0.1:P (the protocol: docs/examples.md,\n"
                          "examples/service/protocol.h). --port 0 picks a free port; the first line on\n"
                          "stdout is always 'ppserve: listening on 127.0.0.1:PORT'.\n"
                          "\n"
                          "  --threads N          worker threads sharing the engine (default 4)\n"
                          "  --devices LIST       cpu, cpu:0,cpu:1, cuda:0,cuda:1, ... (default auto)\n"
                          "  --stages P           pipeline stages per replica (default 1)\n"
                          "  --max-batch B        largest batch a request may carry (default 64)\n"
                          "  --max-connections C  connections held at once; more are refused (default 64)\n"
                          "  --timeout S          seconds to read a request or write a response (default 30)\n"
                          "  --max-seconds S      stop by itself after S seconds (default 0: until SIGINT/SIGTERM)\n"
                          "  --set KEY=VALUE      any engine option (ppengine.h), e.g. precision=fp16, graphs=1;\n"
                          "                       repeatable\n";

typedef struct returned_conn {
    int fd, keep;
} returned_conn;

typedef struct server {
    const pp_net *net;
    pp_engine *eng;
    int n_in, n_out;
    long max_batch;
    double timeout;
    int wake_w; /* write end of the self-pipe: signals and returning workers wake the main loop */

    pthread_mutex_t mu;
    pthread_cond_t cv;
    int *queue; /* connections with a request waiting (ring of max_conn) */
    int q_head, q_len, max_conn;
    returned_conn *back; /* connections workers are done with, for the main thread */
    int n_back;
    int stopping;
    long requests, failed;
} server;

static volatile sig_atomic_t g_stop;
static int g_wake_w = -1;

static void on_signal(int sig) {
    (void)sig;
    int saved = errno;
    g_stop = 1;
    if (g_wake_w >= 0) {
        ssize_t r = write(g_wake_w, "s", 1);
        (void)r;
    }
    errno = saved;
}

/* ---- workers ----------------------------------------------------------------------- */

typedef struct worker {
    server *s;
    pthread_t thread;
    void **in, **out; /* per input / output buffers, grown on demand */
    size_t *in_cap, *out_cap;
} worker;

static int grow(void **buf, size_t *cap, size_t need) {
    if (need <= *cap && *buf) return 0;
    void *p = realloc(*buf, need ? need : 1);
    if (!p) return -1;
    *buf = p;
    *cap = need;
    return 0;
}

static int respond(int fd, uint32_t status, const void *body, size_t n, double deadline) {
    uint8_t hdr[8];
    pps_put_u32(hdr, status);
    pps_put_u32(hdr + 4, (uint32_t)n);
    if (pps_write_full(fd, hdr, 8, deadline)) return -1;
    return n ? pps_write_full(fd, body, n, deadline) : 0;
}

static int respond_error(int fd, uint32_t status, const char *msg, double deadline) {
    return respond(fd, status, msg, strlen(msg), deadline);
}

/* Serves one request on fd. Returns 1 to keep the connection, 0 to close it;
 * *ok says whether the request succeeded (for the counts). */
static int serve_one(worker *w, int fd, int *ok) {
    server *s = w->s;
    *ok = 0;
    double deadline = pps_now() + s->timeout;
    uint8_t hdr[8];
    int r = pps_read_full(fd, hdr, 8, deadline);
    if (r == 1) return 0; /* the client is done */
    if (r < 0) return 0;
    *ok = -1; /* a request, counted from here on */
    char msg[256];
    if (pps_get_u32(hdr) != PPS_MAGIC) {
        respond_error(fd, PPS_BAD_MAGIC, "not a ppserve request (bad magic)", deadline);
        return 0;
    }
    uint32_t batch = pps_get_u32(hdr + 4);
    if (batch == 0) { /* info */
        uint8_t body[12 + 8 * 2 * 64];
        if (s->n_in + s->n_out > 128) {
            respond_error(fd, PPS_SERVER, "the net has too many inputs and outputs to describe", deadline);
            return 0;
        }
        pps_put_u32(body, (uint32_t)s->max_batch);
        pps_put_u32(body + 4, (uint32_t)s->n_in);
        pps_put_u32(body + 8, (uint32_t)s->n_out);
        size_t at = 12;
        for (int i = 0; i < s->n_in + s->n_out; i++, at += 8) {
            pp_tensor_info info;
            pp_status *st =
                i < s->n_in ? pp_net_input_info(s->net, i, &info) : pp_net_output_info(s->net, i - s->n_in, &info);
            uint32_t type = st ? 0 : (uint32_t)info.type;
            pp_status_free(st);
            pps_put_u32(body + at, type);
            pps_put_u32(body + at + 4, (uint32_t)(i < s->n_in ? pp_net_input_bytes(s->net, i, 1)
                                                              : pp_net_output_bytes(s->net, i - s->n_in, 1)));
        }
        *ok = 1;
        return respond(fd, PPS_OK, body, at, deadline) == 0;
    }
    if (batch > (uint32_t)s->max_batch) {
        snprintf(msg, sizeof msg, "batch %u exceeds the server's --max-batch %ld", batch, s->max_batch);
        respond_error(fd, PPS_BAD_BATCH, msg, deadline);
        return 0;
    }
    for (int i = 0; i < s->n_in; i++) {
        size_t need = pp_net_input_bytes(s->net, i, batch);
        if (grow(&w->in[i], &w->in_cap[i], need)) {
            respond_error(fd, PPS_SERVER, "out of memory for the request", deadline);
            return 0;
        }
        if (pps_read_full(fd, w->in[i], need, deadline)) return 0;
    }
    size_t total = 0;
    for (int o = 0; o < s->n_out; o++) {
        size_t need = pp_net_output_bytes(s->net, o, batch);
        total += need;
        if (grow(&w->out[o], &w->out_cap[o], need)) {
            respond_error(fd, PPS_SERVER, "out of memory for the response", deadline);
            return 0;
        }
    }
    pp_status *st = pp_engine_run(s->eng, batch, (const void *const *)w->in, (void *const *)w->out);
    deadline = pps_now() + s->timeout; /* the run's time is not the client's */
    if (st) {
        snprintf(msg, sizeof msg, "%s", pp_status_message(st));
        uint32_t code = (uint32_t)pp_status_get_code(st);
        pp_status_free(st);
        return respond_error(fd, code ? code : PPS_SERVER, msg, deadline) == 0;
    }
    uint8_t rh[8];
    pps_put_u32(rh, PPS_OK);
    pps_put_u32(rh + 4, (uint32_t)total); /* fits: checked against max_batch at start-up */
    if (pps_write_full(fd, rh, 8, deadline)) return 0;
    for (int o = 0; o < s->n_out; o++)
        if (pps_write_full(fd, w->out[o], pp_net_output_bytes(s->net, o, batch), deadline)) return 0;
    *ok = 1;
    return 1;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    server *s = w->s;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->q_len == 0 && !s->stopping) pthread_cond_wait(&s->cv, &s->mu);
        if (s->stopping) { /* queued connections are closed by the main thread */
            pthread_mutex_unlock(&s->mu);
            break;
        }
        int fd = s->queue[s->q_head];
        s->q_head = (s->q_head + 1) % s->max_conn;
        s->q_len--;
        pthread_mutex_unlock(&s->mu);

        int ok;
        int keep = serve_one(w, fd, &ok);

        pthread_mutex_lock(&s->mu);
        if (ok) s->requests++;
        if (ok < 0) s->failed++;
        s->back[s->n_back].fd = fd; /* room: at most max_conn connections exist */
        s->back[s->n_back].keep = keep;
        s->n_back++;
        pthread_mutex_unlock(&s->mu);
        ssize_t r = write(s->wake_w, "w", 1); /* a full pipe already wakes the main loop */
        (void)r;
    }
    return NULL;
}

/* ---- main loop ------------------------------------------------------------------- */

static int parse_long(const char *v, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v || x < lo || x > hi) return -1;
    *out = x;
    return 0;
}

static int usage(const char *fmt, const char *arg) {
    fprintf(stderr, "ppserve: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (try --help)\n");
    return 2;
}

static int set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Options that take a value: an unknown option is named as unknown, not as
 * one missing its value. */
static int takes_value(const char *k) {
    static const char *const known[] = {"--devices", "--max-batch", "--max-connections", "--max-seconds", "--port",
                                        "--set",     "--stages",    "--threads",         "--timeout"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(k, known[i])) return 1;
    return 0;
}

int main(int argc, char **argv) {
    const char *graph = NULL, *devices = NULL, *stages = NULL;
    const char *sets[16]; /* --set KEY=VALUE, passed to pp_options_set as they are */
    int n_sets = 0;
    long port = -1, threads = 4, max_batch = 64, max_conn = 64, timeout = 30, max_seconds = 0;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            fputs(HELP, stdout);
            return 0;
        }
        if (k[0] != '-') {
            if (graph) return usage("unexpected argument '%s'", k);
            graph = k;
            continue;
        }
        if (!takes_value(k)) return usage("unknown option '%s'", k);
        if (!v) return usage("%s needs a value", k);
        i++;
        long dummy;
        if (!strcmp(k, "--port")) {
            if (parse_long(v, 0, 65535, &port)) return usage("--port '%s' is not in 0..65535", v);
        } else if (!strcmp(k, "--threads")) {
            if (parse_long(v, 1, 256, &threads)) return usage("--threads '%s' is not in 1..256", v);
        } else if (!strcmp(k, "--max-batch")) {
            if (parse_long(v, 1, 1 << 20, &max_batch)) return usage("--max-batch '%s' is not in 1..1048576", v);
        } else if (!strcmp(k, "--max-connections")) {
            if (parse_long(v, 1, 4096, &max_conn)) return usage("--max-connections '%s' is not in 1..4096", v);
        } else if (!strcmp(k, "--timeout")) {
            if (parse_long(v, 1, 3600, &timeout)) return usage("--timeout '%s' is not in 1..3600 seconds", v);
        } else if (!strcmp(k, "--max-seconds")) {
            if (parse_long(v, 0, 1L << 30, &max_seconds)) return usage("--max-seconds '%s' is not a number >= 0", v);
        } else if (!strcmp(k, "--devices")) {
            devices = v;
        } else if (!strcmp(k, "--set")) {
            if (!strchr(v, '=') || v[0] == '=') return usage("--set '%s' is not KEY=VALUE", v);
            if (n_sets == 16) return usage("more than 16 --set options%s", "");
            sets[n_sets++] = v;
        } else if (!strcmp(k, "--stages")) {
            if (parse_long(v, 1, 1024, &dummy)) return usage("--stages '%s' is not in 1..1024", v);
            stages = v;
        } else {
            return usage("unknown option '%s'", k);
        }
    }
    if (!graph) return usage("needs GRAPH%s", "");
    if (port < 0) return usage("needs --port P (0 picks a free one)%s", "");

    int rc = 1, lfd = -1, pipefd[2] = {-1, -1};
    pp_net *net = NULL;
    pp_options *opt = NULL;
    worker *workers = NULL;
    long n_started = 0;
    server s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    int *idle = NULL, n_idle = 0, n_conn = 0;
    long n_accepted = 0;
    struct pollfd *pfd = NULL;

    char mb[32];
    snprintf(mb, sizeof mb, "%ld", max_batch);
    pp_status *st = pp_net_load(graph, &net);
    if (!st) st = pp_options_create(&opt);
    if (!st && devices) st = pp_options_set(opt, "devices", devices);
    if (!st && stages) st = pp_options_set(opt, "stages", stages);
    if (!st) st = pp_options_set(opt, "max_batch", mb);
    for (int i = 0; !st && i < n_sets; i++) {
        char key[64];
        const char *eq = strchr(sets[i], '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - sets[i]) < 63 ? (int)(eq - sets[i]) : 63, sets[i]);
        st = pp_options_set(opt, key, eq + 1);
    }
    if (!st) st = pp_engine_create(net, opt, &s.eng);
    if (!st) st = pp_engine_warmup(s.eng, 1);
    if (st) {
        fprintf(stderr, "ppserve: %s\n", pp_status_message(st));
        pp_status_free(st);
        goto done;
    }
    s.net = net;
    s.n_in = pp_net_input_count(net);
    s.n_out = pp_net_output_count(net);
    s.max_batch = max_batch;
    s.timeout = (double)timeout;
    s.max_conn = (int)max_conn;
    uint64_t out_total = 0, in_total = 0;
    for (int o = 0; o < s.n_out; o++) out_total += pp_net_output_bytes(net, o, max_batch);
    for (int i = 0; i < s.n_in; i++) in_total += pp_net_input_bytes(net, i, max_batch);
    if (out_total > UINT32_MAX || in_total > (1ull << 32)) {
        fprintf(stderr, "ppserve: at --max-batch %ld a request or response exceeds 4 GiB; lower it\n", max_batch);
        goto done;
    }

    /* Self-pipe, then signals; workers block the signals so the handler runs here. */
    if (pipe(pipefd) || set_nonblock(pipefd[0]) || set_nonblock(pipefd[1])) {
        perror("ppserve: pipe");
        goto done;
    }
    s.wake_w = g_wake_w = pipefd[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only, by design */
    addr.sin_port = htons((uint16_t)port);
    socklen_t alen = sizeof addr;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(lfd, (struct sockaddr *)&addr, sizeof addr) || listen(lfd, 128) || set_nonblock(lfd) ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen)) {
        fprintf(stderr, "ppserve: 127.0.0.1:%ld: %s\n", port, strerror(errno));
        goto done;
    }

    s.queue = calloc((size_t)max_conn, sizeof *s.queue);
    s.back = calloc((size_t)max_conn, sizeof *s.back);
    idle = calloc((size_t)max_conn, sizeof *idle);
    pfd = calloc((size_t)max_conn + 2, sizeof *pfd);
    workers = calloc((size_t)threads, sizeof *workers);
    if (!s.queue || !s.back || !idle || !pfd || !workers) {
        fprintf(stderr, "ppserve: out of memory\n");
        goto done;
    }
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (; n_started < threads; n_started++) {
        worker *w = &workers[n_started];
        w->s = &s;
        w->in = calloc((size_t)s.n_in + 1, sizeof *w->in);
        w->out = calloc((size_t)s.n_out + 1, sizeof *w->out);
        w->in_cap = calloc((size_t)s.n_in + 1, sizeof *w->in_cap);
        w->out_cap = calloc((size_t)s.n_out + 1, sizeof *w->out_cap);
        if (!w->in || !w->out || !w->in_cap || !w->out_cap || pthread_create(&w->thread, NULL, worker_main, w)) {
            fprintf(stderr, "ppserve: cannot start worker %ld\n", n_started);
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (n_started < threads) {
        g_stop = 1;
    } else {
        printf("ppserve: listening on 127.0.0.1:%d (%ld threads, max batch %ld, %d inputs, %d outputs)\n",
               ntohs(addr.sin_port), threads, max_batch, s.n_in, s.n_out);
        fflush(stdout);
    }

    double end = max_seconds ? pps_now() + (double)max_seconds : 0;
    while (!g_stop && (!end || pps_now() < end)) {
        pfd[0] = (struct pollfd){.fd = pipefd[0], .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (int i = 0; i < n_idle; i++) pfd[2 + i] = (struct pollfd){.fd = idle[i], .events = POLLIN};
        int r = poll(pfd, (nfds_t)(2 + n_idle), 1000); /* wakes at least once a second */
        if (r < 0 && errno != EINTR) {
            perror("ppserve: poll");
            break;
        }
        if (r <= 0) continue;
        if (pfd[0].revents) {
            char drain[64];
            while (read(pipefd[0], drain, sizeof drain) > 0) {}
        }
        /* Idle connections with a request (or a close) waiting go to the workers. */
        int kept = 0;
        pthread_mutex_lock(&s.mu);
        for (int i = 0; i < n_idle; i++) {
            if (pfd[2 + i].revents) {
                s.queue[(s.q_head + s.q_len) % s.max_conn] = idle[i];
                s.q_len++;
                pthread_cond_signal(&s.cv);
            } else {
                idle[kept++] = idle[i];
            }
        }
        n_idle = kept;
        for (int i = 0; i < s.n_back; i++) {
            if (s.back[i].keep) {
                idle[n_idle++] = s.back[i].fd;
            } else {
                close(s.back[i].fd);
                n_conn--;
            }
        }
        s.n_back = 0;
        pthread_mutex_unlock(&s.mu);
        if (pfd[1].revents) {
            for (int k = 0; k < 64; k++) { /* a burst of connections, bounded */
                int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) break;
                n_accepted++;
                if (n_conn >= max_conn) {
                    respond_error(cfd, PPS_BUSY, "too many connections", pps_now() + 0.1);
                    close(cfd);
                    continue;
                }
                setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                idle[n_idle++] = cfd;
                n_conn++;
            }
        }
    }

    /* Graceful stop: workers finish the request in hand, then every socket closes. */
    pthread_mutex_lock(&s.mu);
    s.stopping = 1;
    pthread_cond_broadcast(&s.cv);
    pthread_mutex_unlock(&s.mu);
    for (long i = 0; i < n_started; i++) pthread_join(workers[i].thread, NULL);
    for (int i = 0; i < n_idle; i++) close(idle[i]);
    for (int i = 0; i < s.q_len; i++) close(s.queue[(s.q_head + i) % s.max_conn]);
    for (int i = 0; i < s.n_back; i++) close(s.back[i].fd);
    fprintf(stderr, "ppserve: stopped: %ld requests served, %ld failed, %ld connections\n", s.requests - s.failed,
            s.failed, n_accepted);
    rc = n_started == threads ? 0 : 1;

done:
    if (workers)
        for (long i = 0; i < threads; i++) {
            worker *w = &workers[i];
            for (int k = 0; w->in && k < s.n_in; k++) free(w->in[k]);
            for (int k = 0; w->out && k < s.n_out; k++) free(w->out[k]);
            free(w->in);
            free(w->out);
            free(w->in_cap);
            free(w->out_cap);
        }
    free(workers);
    free(s.queue);
    free(s.back);
    free(idle);
    free(pfd);
    if (lfd >= 0) close(lfd);
    g_wake_w = -1;
    if (pipefd[0] >= 0) close(pipefd[0]);
    if (pipefd[1] >= 0) close(pipefd[1]);
    pp_engine_free(s.eng);
    pp_options_free(opt);
    pp_net_free(net);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    return rc;
}

/* ppserve: serves graph.bin models over HTTP/1.1 with the Open Inference
 * Protocol (KServe v2, as Triton speaks it), through a dynamic batcher per
 * model (pp_batcher, include/ppengine.h). docs/serving.md is its manual.
 *
 * The main thread loads every model, starts libmicrohttpd on the listening
 * socket, prints "ppserve: listening on HOST:PORT" and waits for SIGINT or
 * SIGTERM, which every other thread has blocked. Then it stops accepting,
 * answers 503 to new requests on open connections, waits for the requests in
 * flight to be answered, and frees everything: exit status 0. */
#include <errno.h>
#include <pthread.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ppengine.h>

#include "http.h"
#include "server.h"

static const char *HELP =
    "usage: ppserve --model NAME=GRAPH [--model NAME=GRAPH ...] [options]\n"
    "\n"
    "Serves each GRAPH (made by ppconvert) as model NAME over the Open Inference\n"
    "Protocol (KServe v2 / Triton HTTP): /v2, /v2/health/{live,ready}, /v2/models/NAME,\n"
    "/v2/models/NAME/ready, POST /v2/models/NAME/infer (JSON or binary tensors), and\n"
    "Prometheus metrics at /metrics. Requests are merged into batches per model.\n"
    "The first line on stdout is 'ppserve: listening on HOST:PORT'. SIGTERM or SIGINT\n"
    "stop it after the requests in flight are answered.\n"
    "\n"
    "  --host H              address to bind (default 127.0.0.1: this machine only)\n"
    "  --port P              port (default 8000; 0 picks a free one)\n"
    "  --max-batch B         most rows merged into one run (default 8)\n"
    "  --max-delay-us D      how long a request waits for others to join it (default 1000)\n"
    "  --max-queue Q         requests waiting per model; more are answered 503 (default 1024)\n"
    "  --max-body SIZE       largest request body, e.g. 64M (default 64M); larger: 413\n"
    "  --max-connections C   connections served at once; more are answered 503 (default 256)\n"
    "  --timeout S           seconds a connection may stay silent, mid-request or idle (default 30)\n"
    "  --devices LIST        cpu, cpu:0,cpu:1, cuda:0, ... (default auto)\n"
    "  --stages P            pipeline stages per replica (default 1)\n"
    "  --set KEY=VALUE       any engine option (ppengine.h), e.g. precision=fp16; repeatable\n";

enum { MAX_MODELS = 64, MAX_SETS = 32 };

typedef struct config {
    const char *specs[MAX_MODELS]; /* NAME=GRAPH */
    int n_models;
    const char *host, *devices, *stages;
    const char *sets[MAX_SETS];
    int n_sets;
    long port, max_batch, max_delay_us, max_queue, max_conn, timeout;
    size_t max_body;
} config;

static int usage(const char *fmt, const char *arg) {
    fprintf(stderr, "ppserve: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (try --help)\n");
    return 2;
}

static int parse_long(const char *v, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v || x < lo || x > hi) return -1;
    *out = x;
    return 0;
}

/* "65536", "512K", "64M", "1G" */
static int parse_size(const char *v, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || v[0] == '-') return -1;
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k') mul = 1ull << 10;
    else if (*end == 'M' || *end == 'm') mul = 1ull << 20;
    else if (*end == 'G' || *end == 'g') mul = 1ull << 30;
    else if (*end) return -1;
    if (mul > 1 && end[1]) return -1;
    if (x == 0 || x > (1ull << 40) / mul) return -1;
    *out = (size_t)(x * mul);
    return 0;
}

static int parse_args(int argc, char **argv, config *c) {
    memset(c, 0, sizeof *c);
    c->host = "127.0.0.1";
    c->port = 8000;
    c->max_batch = 8;
    c->max_delay_us = 1000;
    c->max_queue = 1024;
    c->max_conn = 256;
    c->timeout = 30;
    c->max_body = 64u << 20;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            fputs(HELP, stdout);
            return 1;
        }
        static const char *const valued[] = {"--model",        "--host",      "--port",     "--max-batch",
                                             "--max-delay-us", "--max-queue", "--max-body", "--max-connections",
                                             "--timeout",      "--devices",   "--stages",   "--set"};
        int known = 0;
        for (size_t j = 0; j < sizeof valued / sizeof valued[0]; j++) known |= !strcmp(k, valued[j]);
        if (!known) return usage(k[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'", k);
        if (!v) return usage("%s needs a value", k);
        i++;
        if (!strcmp(k, "--model")) {
            const char *eq = strchr(v, '=');
            const char *slash = strchr(v, '/');
            if (!eq || eq == v || !eq[1] || (slash && slash < eq))
                return usage("--model '%s' is not NAME=GRAPH (NAME without '/')", v);
            if (c->n_models == MAX_MODELS) return usage("more than 64 --model options%s", "");
            c->specs[c->n_models++] = v;
        } else if (!strcmp(k, "--host")) c->host = v;
        else if (!strcmp(k, "--devices")) c->devices = v;
        else if (!strcmp(k, "--stages")) c->stages = v;
        else if (!strcmp(k, "--set")) {
            if (!strchr(v, '=') || v[0] == '=') return usage("--set '%s' is not KEY=VALUE", v);
            if (c->n_sets == MAX_SETS) return usage("more than 32 --set options%s", "");
            c->sets[c->n_sets++] = v;
        } else if (!strcmp(k, "--max-body")) {
            if (parse_size(v, &c->max_body)) return usage("--max-body '%s' is not a size like 65536, 512K or 64M", v);
        } else {
            static const struct {
                const char *opt;
                long lo, hi;
                const char *range;
            } nums[] = {{"--port", 0, 65535, "0..65535"},
                        {"--max-batch", 1, 64, "1..64"},
                        {"--max-delay-us", 0, 60000000, "0..60000000"},
                        {"--max-queue", 1, 1 << 20, "1..1048576"},
                        {"--max-connections", 1, 10000, "1..10000"},
                        {"--timeout", 1, 3600, "1..3600"}};
            long *dst[] = {&c->port, &c->max_batch, &c->max_delay_us, &c->max_queue, &c->max_conn, &c->timeout};
            for (size_t j = 0; j < sizeof nums / sizeof nums[0]; j++)
                if (!strcmp(k, nums[j].opt) && parse_long(v, nums[j].lo, nums[j].hi, dst[j])) {
                    fprintf(stderr, "ppserve: %s '%s' is not in %s (try --help)\n", k, v, nums[j].range);
                    return 2;
                }
        }
    }
    if (!c->n_models) return usage("needs at least one --model NAME=GRAPH%s", "");
    for (int i = 0; i < c->n_models; i++)
        for (int j = 0; j < i; j++) {
            size_t a = (size_t)(strchr(c->specs[i], '=') - c->specs[i]);
            if (a == (size_t)(strchr(c->specs[j], '=') - c->specs[j]) && !memcmp(c->specs[i], c->specs[j], a))
                return usage("model name in '%s' is given twice", c->specs[i]);
        }
    return 0;
}

/* The engine options every model shares. */
static pp_status *make_options(const config *c, pp_options **out) {
    char num[3][32];
    snprintf(num[0], sizeof num[0], "%ld", c->max_batch);
    snprintf(num[1], sizeof num[1], "%ld", c->max_delay_us);
    snprintf(num[2], sizeof num[2], "%ld", c->max_queue);
    pp_status *st = pp_options_create(out);
    if (!st && c->devices) st = pp_options_set(*out, "devices", c->devices);
    if (!st && c->stages) st = pp_options_set(*out, "stages", c->stages);
    if (!st) st = pp_options_set(*out, "max_batch", num[0]);
    if (!st) st = pp_options_set(*out, "max_delay_us", num[1]);
    if (!st) st = pp_options_set(*out, "max_queue", num[2]);
    for (int i = 0; !st && i < c->n_sets; i++) {
        char key[64];
        const char *eq = strchr(c->sets[i], '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - c->sets[i]) < 63 ? (int)(eq - c->sets[i]) : 63, c->sets[i]);
        st = pp_options_set(*out, key, eq + 1);
    }
    return st;
}

static int load_model(pp_serve_model *m, char *spec, const pp_options *opt) {
    char *eq = strchr(spec, '=');
    *eq = 0; /* argv is ours to change: NAME and GRAPH become two strings */
    m->name = spec;
    m->path = eq + 1;
    pp_status *st = pp_net_load(m->path, &m->net);
    if (!st) st = pp_engine_create(m->net, opt, &m->eng);
    if (!st) st = pp_batcher_create(m->eng, opt, &m->b);
    if (!st) {
        m->n_in = pp_net_input_count(m->net);
        m->n_out = pp_net_output_count(m->net);
        m->info = calloc((size_t)(m->n_in + m->n_out), sizeof *m->info);
        if (!m->info) {
            fprintf(stderr, "ppserve: model '%s': out of memory\n", m->name);
            return -1;
        }
    }
    for (int i = 0; !st && i < m->n_in + m->n_out; i++)
        st = i < m->n_in ? pp_net_input_info(m->net, i, &m->info[i])
                         : pp_net_output_info(m->net, i - m->n_in, &m->info[i]);
    if (st) {
        fprintf(stderr, "ppserve: model '%s': %s\n", m->name, pp_status_message(st));
        pp_status_free(st);
        return -1;
    }
    return 0;
}

static void free_model(pp_serve_model *m) {
    pp_batcher_free(m->b);
    pp_engine_free(m->eng);
    pp_net_free(m->net);
    free(m->info);
}

/* A listening TCP socket on host:port; *shown gets "HOST:PORT" as bound. */
static int listen_on(const config *c, char *shown, size_t cap) {
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char port[16];
    snprintf(port, sizeof port, "%ld", c->port);
    int gai = getaddrinfo(c->host, port, &hints, &res);
    if (gai) {
        fprintf(stderr, "ppserve: --host %s: %s\n", c->host, gai_strerror(gai));
        return -1;
    }
    int fd = -1, one = 1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        char h[NI_MAXHOST], p[NI_MAXSERV];
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) || bind(fd, a->ai_addr, a->ai_addrlen) ||
            listen(fd, 256) || getsockname(fd, (struct sockaddr *)&ss, &len) ||
            getnameinfo((struct sockaddr *)&ss, len, h, sizeof h, p, sizeof p, NI_NUMERICHOST | NI_NUMERICSERV)) {
            fprintf(stderr, "ppserve: %s:%ld: %s\n", c->host, c->port, strerror(errno));
            close(fd);
            fd = -1;
            continue;
        }
        snprintf(shown, cap, a->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, p);
    }
    freeaddrinfo(res);
    return fd;
}

/* Waits for the requests in flight, at most `seconds`. */
static void drain(pp_serve *s, long seconds) {
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (long i = 0; i < seconds * 100 && atomic_load(&s->active) > 0; i++) nanosleep(&tick, NULL);
}

int main(int argc, char **argv) {
    config c;
    int rc = parse_args(argc, argv, &c);
    if (rc) return rc == 1 ? 0 : rc;

    /* Every thread made from here on (the engines', the batchers',
     * libmicrohttpd's) inherits the blocked signals; only sigwait takes them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    static pp_serve s; /* zero: the atomics start at 0 */
    s.max_body = c.max_body;
    s.max_conn = (int)c.max_conn;
    s.models = calloc((size_t)c.n_models, sizeof *s.models);
    pp_options *opt = NULL;
    struct MHD_Daemon *d = NULL;
    int lfd = -1;
    rc = 1;
    pp_status *st = s.models ? make_options(&c, &opt) : NULL;
    if (st || !s.models) {
        fprintf(stderr, "ppserve: %s\n", st ? pp_status_message(st) : "out of memory");
        pp_status_free(st);
        goto done;
    }
    for (; s.n_models < c.n_models; s.n_models++)
        if (load_model(&s.models[s.n_models], (char *)c.specs[s.n_models], opt)) {
            s.n_models++; /* freed below, whatever it got to */
            goto done;
        }
    char shown[NI_MAXHOST + 16];
    if ((lfd = listen_on(&c, shown, sizeof shown)) < 0) goto done;
    if (!(d = pp_serve_http_start(&s, lfd, (unsigned)c.timeout))) {
        fprintf(stderr, "ppserve: libmicrohttpd would not start on %s\n", shown);
        goto done;
    }
    printf("ppserve: listening on %s (%d model%s, max batch %ld, max delay %ld us)\n", shown, s.n_models,
           s.n_models == 1 ? "" : "s", c.max_batch, c.max_delay_us);
    fflush(stdout);

    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "ppserve: %s: draining %d request%s in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT",
            atomic_load(&s.active), atomic_load(&s.active) == 1 ? "" : "s");
    atomic_store(&s.draining, 1);
    int quiesced = MHD_quiesce_daemon(d); /* no more accepts; the socket is ours again */
    if (quiesced >= 0) close(quiesced);
    lfd = -1;
    for (int i = 0; i < s.n_models; i++) pp_batcher_drain(s.models[i].b); /* no waiting for company now */
    drain(&s, c.timeout + 5);
    rc = 0;
done:
    if (d) MHD_stop_daemon(d); /* joins every connection thread */
    if (lfd >= 0) close(lfd);
    long long ok = 0, failed = 0;
    for (int i = 0; i < s.n_models; i++) {
        ok += atomic_load(&s.models[i].ok);
        failed += atomic_load(&s.models[i].failed);
        free_model(&s.models[i]);
    }
    free(s.models);
    pp_options_free(opt);
    if (!rc) fprintf(stderr, "ppserve: stopped: %lld requests answered, %lld failed\n", ok, failed);
    return rc;
}

/* ppload: a load generator for Open Inference Protocol servers (ppserve,
 * Triton, KServe runtimes) over HTTP/1.1.
 *
 * It reads the model's metadata (GET /v2/models/NAME), builds one infer request
 * of --batch rows of random inputs (binary tensor data, or JSON with --json),
 * and sends it over --concurrency keep-alive connections, each with one
 * request outstanding, for --duration seconds or --requests requests.
 * --rate R sends open-loop instead: request k is due at start + k/R, and its
 * latency counts from when it was due, so a server that falls behind is not
 * hidden by the client waiting for it (coordinated omission). Prints
 * throughput and the latency percentiles; exits 1 when any request failed. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sbuf.h"

static const char *HELP = "usage: ppload HOST:PORT --model NAME [options]\n"
                          "\n"
                          "  --concurrency C   connections, each with one request outstanding (default 1)\n"
                          "  --duration S      seconds to send for (default 10)\n"
                          "  --requests N      stop after N requests instead\n"
                          "  --rate R          open loop: R requests per second, due on a fixed schedule\n"
                          "  --batch B         rows per request (default 1)\n"
                          "  --json            tensors as JSON arrays (default: the binary tensor data extension)\n"
                          "  --timeout S       seconds to wait for one response (default 60)\n";

typedef struct opts {
    char host[256], port[16];
    const char *model;
    int concurrency, json;
    long requests, batch;
    double duration, rate, timeout;
} opts;

typedef struct shared {
    const opts *o;
    struct addrinfo *addr;
    char *request; /* the whole HTTP request, sent as it is every time */
    size_t request_len;
    double start, end; /* seconds, CLOCK_MONOTONIC */
    atomic_long next;  /* requests handed out */
    double *lat;       /* [cap] seconds per request, by its index */
    long cap;
    atomic_long ok, failed, conn_errors;
    atomic_long by_status[6]; /* 1xx..5xx, index = status / 100 */
} shared;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int die(const char *fmt, const char *arg) {
    fprintf(stderr, "ppload: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 2;
}

/* ---- a minimal HTTP/1.1 client: Content-Length bodies, keep-alive ------------------ */

static int connect_to(struct addrinfo *a, double timeout) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) return -1;
    struct timeval tv = {(time_t)timeout, (suseconds_t)((timeout - floor(timeout)) * 1e6)};
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, a->ai_addr, a->ai_addrlen)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

typedef struct response {
    int status, close;
    char *buf; /* headers then body */
    size_t len, cap, body_at, body_len;
} response;

/* Reads one response on fd into r (its buffer reused between calls). */
static int read_response(int fd, response *r) {
    r->len = 0;
    r->body_at = 0;
    size_t need = 0;
    for (;;) {
        if (r->len + 65536 > r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 1 << 20;
            while (cap < r->len + 65536) cap *= 2;
            char *p = realloc(r->buf, cap);
            if (!p) return -1;
            r->buf = p;
            r->cap = cap;
        }
        ssize_t k = recv(fd, r->buf + r->len, r->cap - r->len - 1, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        r->len += (size_t)k;
        r->buf[r->len] = 0;
        if (!r->body_at) {
            char *eoh = strstr(r->buf, "\r\n\r\n");
            if (!eoh) continue;
            r->body_at = (size_t)(eoh - r->buf) + 4;
            if (sscanf(r->buf, "HTTP/1.%*d %d", &r->status) != 1) return -1;
            char *cl = strcasestr(r->buf, "\r\ncontent-length:");
            if (!cl || cl > eoh) return -1;
            r->body_len = strtoull(cl + 17, NULL, 10);
            char *conn = strcasestr(r->buf, "\r\nconnection: close");
            r->close = conn && conn < eoh;
            need = r->body_at + r->body_len;
            if (need + 1 > r->cap) {
                char *p = realloc(r->buf, need + 1);
                if (!p) return -1;
                r->buf = p;
                r->cap = need + 1;
            }
        }
        if (r->len >= need) return 0;
    }
}

/* ---- the request -------------------------------------------------------------------- */

static int fetch_metadata(shared *sh, cJSON **out) {
    const opts *o = sh->o;
    int fd = connect_to(sh->addr, o->timeout);
    if (fd < 0) return die("cannot connect to %s", o->host);
    char req[1024];
    int n = snprintf(req, sizeof req, "GET /v2/models/%s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", o->model, o->host, o->port);
    response r = {0};
    int rc = send_all(fd, req, (size_t)n) || read_response(fd, &r);
    close(fd);
    if (rc || r.status != 200) {
        fprintf(stderr, "ppload: GET /v2/models/%s: %s%.300s\n", o->model, rc ? "no response" : "",
                rc ? "" : r.buf + r.body_at);
        free(r.buf);
        return 1;
    }
    *out = cJSON_ParseWithLength(r.buf + r.body_at, r.body_len);
    free(r.buf);
    return *out ? 0 : die("the model's metadata is not JSON%s", "");
}

static size_t type_size(const char *dt) {
    static const struct {
        const char *n;
        size_t s;
    } t[] = {{"FP32", 4}, {"FP16", 2},  {"BF16", 2}, {"INT64", 8}, {"INT32", 4},
             {"BOOL", 1}, {"UINT8", 1}, {"INT8", 1}, {"FP64", 8}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(dt, t[i].n)) return t[i].s;
    return 0;
}

/* One input's header (and its data, for --json); its binary bytes go to bin.
 * Values: uniform in [-1, 1) for floating types, zeros otherwise (valid indices). */
static int add_input(const opts *o, const cJSON *in, pp_sbuf *head, pp_sbuf *bin, unsigned *seed) {
    const cJSON *name = cJSON_GetObjectItem(in, "name"), *dt = cJSON_GetObjectItem(in, "datatype"),
                *shape = cJSON_GetObjectItem(in, "shape");
    if (!cJSON_IsString(name) || !cJSON_IsString(dt) || !cJSON_IsArray(shape) || !type_size(dt->valuestring))
        return die("the model's metadata has an input without name, datatype or shape%s", "");
    size_t count = 1, es = type_size(dt->valuestring);
    int floating = dt->valuestring[0] == 'F' || (dt->valuestring[0] == 'B' && dt->valuestring[1] == 'F');
    pp_sbuf_printf(head, "{\"name\":");
    pp_sbuf_json_string(head, name->valuestring);
    pp_sbuf_printf(head, ",\"datatype\":\"%s\",\"shape\":[", dt->valuestring);
    int d = 0;
    for (const cJSON *v = shape->child; v; v = v->next, d++) {
        long dim = v->valueint < 0 ? o->batch : v->valueint;
        count *= (size_t)dim;
        pp_sbuf_printf(head, "%s%ld", d ? "," : "", dim);
    }
    pp_sbuf_printf(head, "]");
    if (o->json) {
        if (es != 4 && floating) return die("--json cannot send %s; leave it out", dt->valuestring);
        pp_sbuf_printf(head, ",\"data\":[");
        for (size_t i = 0; i < count; i++)
            pp_sbuf_printf(head, "%s%.6g", i ? "," : "", floating ? (double)rand_r(seed) / RAND_MAX * 2 - 1 : 0.0);
        pp_sbuf_printf(head, "]}");
        return 0;
    }
    pp_sbuf_printf(head, ",\"parameters\":{\"binary_data_size\":%zu}}", count * es);
    for (size_t i = 0; i < count; i++) {
        char v[8] = {0};
        if (floating && es == 4) {
            float f = (float)rand_r(seed) / (float)RAND_MAX * 2 - 1;
            memcpy(v, &f, 4);
        } else if (floating && es == 8) {
            double f = (double)rand_r(seed) / RAND_MAX * 2 - 1;
            memcpy(v, &f, 8);
        }
        pp_sbuf_put(bin, v, es);
    }
    return 0;
}

static int build_request(shared *sh, const cJSON *meta) {
    const opts *o = sh->o;
    pp_sbuf head = {0}, bin = {0}, req = {0};
    unsigned seed = 1;
    pp_sbuf_printf(&head, "{\"inputs\":[");
    const cJSON *inputs = cJSON_GetObjectItem(meta, "inputs");
    int i = 0, rc = 0;
    for (const cJSON *in = inputs ? inputs->child : NULL; in && !rc; in = in->next, i++) {
        if (i) pp_sbuf_put(&head, ",", 1);
        rc = add_input(o, in, &head, &bin, &seed);
    }
    pp_sbuf_printf(&head, "]%s}", o->json ? "" : ",\"parameters\":{\"binary_data_output\":true}");
    pp_sbuf_printf(&req, "POST /v2/models/%s/infer HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: %s\r\n", o->model, o->host,
                   o->port, o->json ? "application/json" : "application/octet-stream");
    if (!o->json) pp_sbuf_printf(&req, "Inference-Header-Content-Length: %zu\r\n", head.len);
    pp_sbuf_printf(&req, "Content-Length: %zu\r\n\r\n", head.len + bin.len);
    pp_sbuf_put(&req, head.s ? head.s : "", head.len);
    if (bin.len) pp_sbuf_put(&req, bin.s, bin.len);
    if (!rc && (head.failed || bin.failed || req.failed)) rc = die("out of memory building the request%s", "");
    free(head.s);
    free(bin.s);
    sh->request = req.s;
    sh->request_len = req.len;
    return rc;
}

/* ---- load ------------------------------------------------------------------------------ */

static void *client(void *arg) {
    shared *sh = arg;
    const opts *o = sh->o;
    response r = {0};
    int fd = -1;
    for (;;) {
        long k = atomic_fetch_add(&sh->next, 1);
        if (k >= sh->cap || (o->requests && k >= o->requests)) break;
        double due = o->rate > 0 ? sh->start + (double)k / o->rate : now_s();
        if (due >= sh->end) break;
        for (double t = now_s(); t < due; t = now_s()) {
            struct timespec ts = {(time_t)(due - t), (long)((due - t - floor(due - t)) * 1e9)};
            nanosleep(&ts, NULL);
        }
        if (fd < 0 && (fd = connect_to(sh->addr, o->timeout)) < 0) {
            atomic_fetch_add(&sh->conn_errors, 1);
            atomic_fetch_add(&sh->failed, 1);
            sh->lat[k] = NAN;
            continue;
        }
        int rc = send_all(fd, sh->request, sh->request_len) || read_response(fd, &r);
        sh->lat[k] = now_s() - due;
        if (rc) {
            atomic_fetch_add(&sh->conn_errors, 1);
            atomic_fetch_add(&sh->failed, 1);
            sh->lat[k] = NAN;
        } else {
            atomic_fetch_add(r.status == 200 ? &sh->ok : &sh->failed, 1);
            if (r.status >= 100 && r.status < 600) atomic_fetch_add(&sh->by_status[r.status / 100], 1);
        }
        if (rc || r.close) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0) close(fd);
    free(r.buf);
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *v, long n, double p) {
    if (!n) return 0;
    long i = (long)ceil(p * (double)n) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void report(shared *sh, double wall) {
    const opts *o = sh->o;
    long sent = atomic_load(&sh->next), n = 0;
    if (sent > sh->cap) sent = sh->cap;
    if (o->requests && sent > o->requests) sent = o->requests;
    double *v = malloc(sizeof(double) * (size_t)(sent + 1));
    for (long k = 0; v && k < sent; k++)
        if (!isnan(sh->lat[k]) && sh->lat[k] >= 0) v[n++] = sh->lat[k];
    if (v) qsort(v, (size_t)n, sizeof *v, cmp_double);
    long ok = atomic_load(&sh->ok), failed = atomic_load(&sh->failed);
    printf("ppload: %s, batch %ld, %s%d connections%s: %ld ok, %ld failed in %.2f s\n", o->model, o->batch,
           o->json ? "JSON, " : "binary, ", o->concurrency, o->rate > 0 ? ", open loop" : "", ok, failed, wall);
    printf("ppload: throughput %.2f requests/s, %.2f rows/s\n", (double)ok / wall, (double)(ok * o->batch) / wall);
    if (v)
        printf("ppload: latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", percentile(v, n, 0.5) * 1e3,
               percentile(v, n, 0.9) * 1e3, percentile(v, n, 0.99) * 1e3, n ? v[n - 1] * 1e3 : 0);
    if (failed) {
        printf("ppload: failures:");
        for (int s = 1; s < 6; s++)
            if (atomic_load(&sh->by_status[s]) && s != 2)
                printf(" %ld with %dxx", (long)atomic_load(&sh->by_status[s]), s);
        printf(" %ld without a response\n", (long)atomic_load(&sh->conn_errors));
    }
    free(v);
}

static int parse_args(int argc, char **argv, opts *o) {
    memset(o, 0, sizeof *o);
    o->concurrency = 1;
    o->duration = 10;
    o->batch = 1;
    o->timeout = 60;
    const char *target = NULL;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            fputs(HELP, stdout);
            return 1;
        }
        if (!strcmp(k, "--json")) {
            o->json = 1;
            continue;
        }
        if (k[0] != '-') {
            if (target) return die("unexpected argument '%s'", k);
            target = k;
            continue;
        }
        if (!v) return die("%s needs a value (try --help)", k);
        i++;
        errno = 0;
        double x = strtod(v, &end);
        int bad = errno || end == v || *end || !(x > 0);
        if (!strcmp(k, "--model")) {
            o->model = v;
            bad = 0;
        } else if (!strcmp(k, "--concurrency")) o->concurrency = bad || x > 4096 ? (bad = 1) : (int)x;
        else if (!strcmp(k, "--duration")) o->duration = x;
        else if (!strcmp(k, "--requests")) o->requests = (long)x;
        else if (!strcmp(k, "--rate")) o->rate = x;
        else if (!strcmp(k, "--batch")) o->batch = (long)x;
        else if (!strcmp(k, "--timeout")) o->timeout = x;
        else return die("unknown option '%s' (try --help)", k);
        if (bad) return die("%s needs a number > 0", k);
    }
    if (!target || !o->model) return die("needs HOST:PORT and --model NAME (try --help)%s", "");
    if (!strncmp(target, "http://", 7)) target += 7;
    const char *colon = strrchr(target, ':');
    if (!colon || colon == target || strlen(colon + 1) >= sizeof o->port || colon - target >= (long)sizeof o->host)
        return die("'%s' is not HOST:PORT", target);
    snprintf(o->host, sizeof o->host, "%.*s", (int)(colon - target), target);
    snprintf(o->port, sizeof o->port, "%s", colon + 1);
    char *slash = strchr(o->port, '/');
    if (slash) *slash = 0;
    if (o->host[0] == '[') { /* [::1] */
        memmove(o->host, o->host + 1, strlen(o->host));
        char *rb = strchr(o->host, ']');
        if (rb) *rb = 0;
    }
    return 0;
}

int main(int argc, char **argv) {
    opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    static shared sh;
    sh.o = &o;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int gai = getaddrinfo(o.host, o.port, &hints, &sh.addr);
    if (gai) {
        fprintf(stderr, "ppload: %s:%s: %s\n", o.host, o.port, gai_strerror(gai));
        return 2;
    }
    cJSON *meta = NULL;
    rc = fetch_metadata(&sh, &meta);
    if (!rc) rc = build_request(&sh, meta);
    cJSON_Delete(meta);
    /* A latency slot per request that can be sent: by count, or by rate and
     * time, or (closed loop) a generous bound of 1M. */
    sh.cap = o.requests ? o.requests : o.rate > 0 ? (long)(o.rate * o.duration) + 1 : 1L << 20;
    sh.lat = rc ? NULL : calloc((size_t)sh.cap, sizeof(double));
    pthread_t *th = rc ? NULL : calloc((size_t)o.concurrency, sizeof *th);
    if (!rc && (!sh.lat || !th)) rc = die("out of memory%s", "");
    if (!rc) {
        sh.start = now_s();
        sh.end = o.requests ? INFINITY : sh.start + o.duration;
        int started = 0;
        for (; started < o.concurrency; started++)
            if (pthread_create(&th[started], NULL, client, &sh)) break;
        for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
        report(&sh, now_s() - sh.start);
        rc = atomic_load(&sh.failed) ? 1 : 0;
    }
    free(th);
    free(sh.lat);
    free(sh.request);
    freeaddrinfo(sh.addr);
    return rc;
}

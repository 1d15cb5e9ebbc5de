/* http.c: ppserve's HTTP side on libmicrohttpd: routes, request bodies within
 * their limit, the connection limit, and the infer path through the model's
 * batcher.
 *
 * libmicrohttpd runs one thread per connection (MHD_USE_THREAD_PER_CONNECTION),
 * so an infer handler simply blocks in pp_batcher_wait while other connections
 * go on; the batcher merges what those threads submit. The handler is called
 * once with the headers, then once per piece of body, then once more to answer. */
#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oip.h"
#include "sbuf.h"

enum route { R_NONE, R_SERVER, R_LIVE, R_READY, R_METRICS, R_MODEL, R_MODEL_READY, R_INFER };

/* One request's state, from its headers to its completion (MHD's con_cls). */
typedef struct req_ctx {
    enum route route;
    pp_serve_model *m;
    int answered; /* an early answer (an error before the body) was queued */
    char *body;
    size_t len, cap;
    int too_big;
    long long header_len; /* Inference-Header-Content-Length, or -1 */
} req_ctx;

static enum MHD_Result send_buffer(struct MHD_Connection *c, unsigned status, char *data, size_t len, const char *type,
                                   int close) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    if (type) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (close) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, pp_sbuf *b) {
    if (b->failed) {
        free(b->s);
        return MHD_NO; /* out of memory: drop the connection */
    }
    return send_buffer(c, status, b->s, b->len, "application/json", 0);
}

static const unsigned err_status[PP_SERVE_ERR_COUNT] = {400, 404, 405, 413, 503, 503, 503, 504, 500, 408};

/* An OIP error, {"error": "..."}, with the status of its kind, counted. */
static enum MHD_Result send_error(pp_serve *s, struct MHD_Connection *c, pp_serve_err kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_error(pp_serve *s, struct MHD_Connection *c, pp_serve_err kind, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    atomic_fetch_add(&s->errors[kind], 1);
    pp_sbuf b = {0};
    pp_oip_error(msg, &b);
    if (b.failed) {
        free(b.s);
        return MHD_NO;
    }
    /* Refusals before the body was read leave the connection unusable: close it. */
    int close = kind == PP_SERVE_ERR_CONNECTIONS || kind == PP_SERVE_ERR_TOO_LARGE || kind == PP_SERVE_ERR_UNAVAILABLE;
    return send_buffer(c, err_status[kind], b.s, b.len, "application/json", close);
}

/* ---- routing ------------------------------------------------------------------------- */

/* /v2/models/NAME[/versions/V][/ready|/infer]; 404s go out from here. */
static enum route route_model(pp_serve *s, struct MHD_Connection *c, const char *path, req_ctx *x,
                              enum MHD_Result *sent) {
    const char *slash = strchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : strlen(path);
    x->m = pp_serve_find(s, path, n);
    if (!x->m) {
        *sent = send_error(s, c, PP_SERVE_ERR_NOT_FOUND, "unknown model '%.*s'", (int)(n < 128 ? n : 128), path);
        return R_NONE;
    }
    const char *rest = path + n;
    if (!strncmp(rest, "/versions/", 10)) {
        const char *v = rest + 10, *vend = strchr(v, '/');
        size_t vn = vend ? (size_t)(vend - v) : strlen(v);
        if (vn != 1 || v[0] != '1') {
            *sent = send_error(s, c, PP_SERVE_ERR_NOT_FOUND, "model '%s' has no version '%.*s' (it has version 1)",
                               x->m->name, (int)(vn < 64 ? vn : 64), v);
            return R_NONE;
        }
        rest = v + vn;
    }
    if (!*rest) return R_MODEL;
    if (!strcmp(rest, "/ready")) return R_MODEL_READY;
    if (!strcmp(rest, "/infer")) return R_INFER;
    *sent = send_error(s, c, PP_SERVE_ERR_NOT_FOUND, "no such endpoint: /v2/models/%.200s", path);
    return R_NONE;
}

static enum route route(pp_serve *s, struct MHD_Connection *c, const char *url, const char *method, req_ctx *x,
                        enum MHD_Result *sent) {
    static const struct {
        const char *path;
        enum route r;
    } fixed[] = {{"/v2", R_SERVER},
                 {"/v2/", R_SERVER},
                 {"/v2/health/live", R_LIVE},
                 {"/v2/health/ready", R_READY},
                 {"/metrics", R_METRICS}};
    enum route r = R_NONE;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!strcmp(url, fixed[i].path)) r = fixed[i].r;
    if (r == R_NONE && !strncmp(url, "/v2/models/", 11)) {
        r = route_model(s, c, url + 11, x, sent);
        if (r == R_NONE) return r;
    }
    if (r == R_NONE) {
        *sent = send_error(s, c, PP_SERVE_ERR_NOT_FOUND, "no such endpoint: %.200s", url);
        return r;
    }
    int post = !strcmp(method, "POST"), get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (r == R_INFER ? !post : !get) {
        *sent =
            send_error(s, c, PP_SERVE_ERR_METHOD, "%s takes %s, not %.16s", url, r == R_INFER ? "POST" : "GET", method);
        return R_NONE;
    }
    return r;
}

static enum MHD_Result answer_get(pp_serve *s, struct MHD_Connection *c, req_ctx *x) {
    pp_sbuf b = {0};
    switch (x->route) {
    case R_SERVER:
        pp_sbuf_printf(&b, "{\"name\":\"ppserve\",\"version\":\"%s\",\"extensions\":[\"binary_tensor_data\"]}",
                       pp_version());
        return send_json(c, 200, &b);
    case R_LIVE: return send_json(c, 200, &b);
    case R_READY:
    case R_MODEL_READY:
        if (atomic_load(&s->draining)) return send_error(s, c, PP_SERVE_ERR_UNAVAILABLE, "shutting down");
        return send_json(c, 200, &b);
    case R_MODEL: pp_oip_model_metadata(x->m, &b); return send_json(c, 200, &b);
    case R_METRICS: {
        size_t len = 0;
        char *text = pp_serve_metrics(s, &len);
        if (!text) return MHD_NO;
        return send_buffer(c, 200, text, len, "text/plain; version=0.0.4", 0);
    }
    default: return MHD_NO;
    }
}

/* ---- infer --------------------------------------------------------------------------- */

/* A binary response: the JSON header and the binary outputs, sent from where
 * they lie and freed when libmicrohttpd is done with them. */
typedef struct held {
    char *json;
    void **outs;
    int n;
} held;

static void held_free(void *cls) {
    held *h = cls;
    for (int k = 0; k < h->n; k++) free(h->outs[k]);
    free(h->outs);
    free(h->json);
    free(h);
}

static enum MHD_Result send_result(struct MHD_Connection *c, pp_serve_model *m, const pp_oip_request *r, void **outs) {
    pp_sbuf b = {0};
    held *h = calloc(1, sizeof *h);
    struct MHD_IoVec *iov = calloc((size_t)m->n_out + 1, sizeof *iov); /* copied by libmicrohttpd */
    unsigned n_iov = 0;
    if (!h || !iov || pp_oip_response(m, r, outs, &b)) goto oom;
    h->json = b.s;
    h->outs = outs;
    h->n = m->n_out;
    iov[n_iov++] = (struct MHD_IoVec){b.s, b.len};
    for (int k = 0; k < m->n_out; k++)
        if (r->want[k] && r->binary[k])
            iov[n_iov++] = (struct MHD_IoVec){outs[k], pp_net_output_bytes(m->net, k, r->batch)};
    struct MHD_Response *resp = MHD_create_response_from_iovec(iov, n_iov, held_free, h);
    free(iov);
    iov = NULL;
    if (!resp) goto oom;
    if (n_iov > 1) {
        char hl[32];
        snprintf(hl, sizeof hl, "%zu", b.len);
        MHD_add_response_header(resp, "Inference-Header-Content-Length", hl);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    } else {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    }
    enum MHD_Result rc = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return rc;
oom:
    free(iov);
    if (h) {
        h->json = b.s;
        h->outs = outs;
        h->n = m->n_out;
        held_free(h);
    } else {
        free(b.s);
        for (int k = 0; k < m->n_out; k++) free(outs[k]);
        free(outs);
    }
    return MHD_NO;
}

/* Queues the request in the model's batcher, waits for its run, answers. */
static enum MHD_Result infer(pp_serve *s, struct MHD_Connection *c, req_ctx *x) {
    pp_serve_model *m = x->m;
    pp_oip_request r;
    char msg[512];
    if (pp_oip_parse(m, x->body, x->len, x->header_len, &r, msg, sizeof msg)) {
        pp_oip_request_free(&r);
        atomic_fetch_add(&m->failed, 1);
        return send_error(s, c, PP_SERVE_ERR_BAD_REQUEST, "%s", msg);
    }
    void **outs = calloc((size_t)m->n_out + 1, sizeof *outs);
    int oom = !outs;
    for (int k = 0; !oom && k < m->n_out; k++) oom = !(outs[k] = malloc(pp_net_output_bytes(m->net, k, r.batch) + 1));
    pp_status *st = NULL;
    pp_request_result res = {0};
    if (!oom) {
        uint64_t id;
        st = pp_batcher_submit(m->b, r.batch, r.in, outs, r.timeout_us, NULL, NULL, &id);
        if (!st) st = pp_batcher_wait(m->b, id, &res);
    }
    if (res.batch) {
        pp_serve_hist_add(&m->queue, res.queue_us);
        pp_serve_hist_add(&m->compute, res.compute_us);
    }
    if (oom || st) {
        for (int k = 0; outs && k < m->n_out; k++) free(outs[k]);
        free(outs);
        pp_oip_request_free(&r);
        atomic_fetch_add(&m->failed, 1);
        pp_status_code code = oom ? PP_STATUS_OUT_OF_MEMORY : pp_status_get_code(st);
        pp_serve_err kind = code == PP_STATUS_OVERLOADED          ? PP_SERVE_ERR_OVERLOADED
                            : code == PP_STATUS_DEADLINE_EXCEEDED ? PP_SERVE_ERR_DEADLINE
                            : code == PP_STATUS_CANCELLED         ? PP_SERVE_ERR_UNAVAILABLE
                                                                  : PP_SERVE_ERR_INTERNAL;
        snprintf(msg, sizeof msg, "%s", oom ? "out of memory for the outputs" : pp_status_message(st));
        pp_status_free(st);
        return send_error(s, c, kind, "model '%s': %s", m->name, msg);
    }
    atomic_fetch_add(&m->ok, 1);
    enum MHD_Result rc = send_result(c, m, &r, outs); /* outs are the response's now */
    pp_oip_request_free(&r);
    return rc;
}

/* The headers of an infer request: the body's declared size against the limit. */
static enum MHD_Result begin_body(pp_serve *s, struct MHD_Connection *c, req_ctx *x) {
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *hl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Inference-Header-Content-Length");
    unsigned long long n = cl ? strtoull(cl, NULL, 10) : 0;
    if (n > s->max_body) {
        x->answered = 1;
        return send_error(s, c, PP_SERVE_ERR_TOO_LARGE, "the body of %llu bytes exceeds --max-body %zu", n,
                          s->max_body);
    }
    x->header_len = -1;
    if (hl) {
        char *end;
        x->header_len = strtoll(hl, &end, 10);
        if (*end || end == hl || x->header_len < 0) {
            x->answered = 1;
            return send_error(s, c, PP_SERVE_ERR_BAD_REQUEST, "Inference-Header-Content-Length '%.32s' is not a count",
                              hl);
        }
    }
    if (n && !(x->body = malloc(n))) return MHD_NO;
    x->cap = n;
    return MHD_YES;
}

static int take_body(pp_serve *s, req_ctx *x, const char *data, size_t n) {
    if (x->too_big || x->len + n > s->max_body) { /* a chunked body past the limit: dropped as it comes */
        x->too_big = 1;
        return 0;
    }
    if (x->len + n > x->cap) {
        size_t cap = x->cap ? x->cap : 65536;
        while (cap < x->len + n) cap *= 2;
        if (cap > s->max_body) cap = s->max_body;
        char *p = realloc(x->body, cap);
        if (!p) return -1;
        x->body = p;
        x->cap = cap;
    }
    memcpy(x->body + x->len, data, n);
    x->len += n;
    return 0;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    pp_serve *s = cls;
    req_ctx *x = *con_cls;
    (void)version;
    if (!x) { /* the headers */
        if (!(x = calloc(1, sizeof *x))) return MHD_NO;
        *con_cls = x;
        atomic_fetch_add(&s->active, 1);
        x->answered = 1; /* unless the route says otherwise */
        if (atomic_load(&s->conns) > s->max_conn)
            return send_error(s, c, PP_SERVE_ERR_CONNECTIONS, "more than --max-connections %d connections",
                              s->max_conn);
        if (atomic_load(&s->draining) && strcmp(url, "/v2/health/live") && strcmp(url, "/metrics"))
            return send_error(s, c, PP_SERVE_ERR_UNAVAILABLE, "shutting down");
        enum MHD_Result sent = MHD_NO;
        x->route = route(s, c, url, method, x, &sent);
        if (x->route == R_NONE) return sent;
        if (x->route != R_INFER) return answer_get(s, c, x);
        x->answered = 0;
        return begin_body(s, c, x);
    }
    if (*upload_size) {
        if (!x->answered && take_body(s, x, upload, *upload_size)) return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (x->answered) return MHD_YES;
    x->answered = 1;
    if (x->too_big)
        return send_error(s, c, PP_SERVE_ERR_TOO_LARGE, "the body exceeds --max-body %zu bytes", s->max_body);
    return infer(s, c, x);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    pp_serve *s = cls;
    req_ctx *x = *con_cls;
    (void)c;
    if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED) atomic_fetch_add(&s->errors[PP_SERVE_ERR_TIMEOUT], 1);
    if (!x) return;
    free(x->body);
    free(x);
    *con_cls = NULL;
    atomic_fetch_sub(&s->active, 1);
}

static void connection(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe) {
    pp_serve *s = cls;
    (void)c;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) atomic_fetch_add(&s->conns, 1);
    else atomic_fetch_sub(&s->conns, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    fprintf(stderr, "ppserve: libmicrohttpd: ");
    vfprintf(stderr, fmt, ap);
}

struct MHD_Daemon *pp_serve_http_start(pp_serve *s, int listen_fd, unsigned timeout_s) {
    /* Connections past max_conn are accepted and answered 503; libmicrohttpd's
     * own hard limit, past which it refuses at accept, sits well above. */
    unsigned hard = (unsigned)s->max_conn * 2 + 16;
    return MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                                MHD_USE_POLL | MHD_USE_ERROR_LOG,
                            0, NULL, NULL, handler, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                            MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
                            MHD_OPTION_CONNECTION_LIMIT, hard, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                            MHD_OPTION_NOTIFY_CONNECTION, connection, s, MHD_OPTION_END);
}

/* server.h: what ppserve's parts share: the served models, the limits, and the
 * counters /metrics reports. One pp_serve per process; its fields are set
 * before the HTTP daemon starts and only the atomics change after. */
#ifndef PP_SERVE_SERVER_H
#define PP_SERVE_SERVER_H

#include <stdatomic.h>
#include <stddef.h>

#include <ppengine.h>

/* Latency histograms (seconds): upper bounds of the buckets, +Inf last. */
enum { PP_SERVE_LAT_BUCKETS = 14 };
extern const double pp_serve_lat_bounds[PP_SERVE_LAT_BUCKETS];

typedef struct pp_serve_hist {
    atomic_llong bucket[PP_SERVE_LAT_BUCKETS + 1]; /* not cumulative; the last is +Inf */
    atomic_llong sum_us, count;
} pp_serve_hist;

/* Failed requests by kind, each with its HTTP status. */
typedef enum pp_serve_err {
    PP_SERVE_ERR_BAD_REQUEST, /* 400: malformed JSON, wrong datatype, shape, inputs */
    PP_SERVE_ERR_NOT_FOUND,   /* 404: unknown path, model or version */
    PP_SERVE_ERR_METHOD,      /* 405 */
    PP_SERVE_ERR_TOO_LARGE,   /* 413: body over --max-body */
    PP_SERVE_ERR_OVERLOADED,  /* 503: the model's queue is full */
    PP_SERVE_ERR_CONNECTIONS, /* 503: over --max-connections */
    PP_SERVE_ERR_UNAVAILABLE, /* 503: shutting down */
    PP_SERVE_ERR_DEADLINE,    /* 504: the request's timeout passed while it was queued */
    PP_SERVE_ERR_INTERNAL,    /* 500: the run failed, out of memory */
    PP_SERVE_ERR_TIMEOUT,     /* connection closed: a client stalled past --timeout */
    PP_SERVE_ERR_COUNT
} pp_serve_err;

typedef struct pp_serve_model {
    const char *name, *path; /* borrowed from argv */
    pp_net *net;
    pp_engine *eng;
    pp_batcher *b;
    int n_in, n_out;
    pp_tensor_info *info; /* [n_in + n_out]: inputs, then outputs */
    pp_serve_hist queue, compute;
    atomic_llong ok, failed;
} pp_serve_model;

typedef struct pp_serve {
    pp_serve_model *models;
    int n_models;
    size_t max_body;   /* bytes of one request body */
    int max_conn;      /* connections served at once; more get 503 */
    atomic_int conns;  /* open connections */
    atomic_int active; /* requests between their first byte and their response */
    atomic_int draining;
    atomic_llong errors[PP_SERVE_ERR_COUNT];
} pp_serve;

/* The model called `name` (NUL-terminated), or NULL. */
pp_serve_model *pp_serve_find(pp_serve *s, const char *name, size_t len);
void pp_serve_hist_add(pp_serve_hist *h, long long us);
/* The Prometheus text exposition of every counter; malloc'ed, NULL when out of memory. */
char *pp_serve_metrics(pp_serve *s, size_t *len);
const char *pp_serve_err_name(pp_serve_err e);

#endif

/* metrics.c: ppserve's counters in the Prometheus text format (version 0.0.4). */
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "server.h"

const double pp_serve_lat_bounds[PP_SERVE_LAT_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                          0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};

static const char *const err_names[PP_SERVE_ERR_COUNT] = {"bad_request", "not_found",   "method",      "too_large",
                                                          "overloaded",  "connections", "unavailable", "deadline",
                                                          "internal",    "timeout"};

const char *pp_serve_err_name(pp_serve_err e) { return e < PP_SERVE_ERR_COUNT ? err_names[e] : "unknown"; }

pp_serve_model *pp_serve_find(pp_serve *s, const char *name, size_t len) {
    for (int i = 0; i < s->n_models; i++)
        if (strlen(s->models[i].name) == len && !memcmp(s->models[i].name, name, len)) return &s->models[i];
    return NULL;
}

void pp_serve_hist_add(pp_serve_hist *h, long long us) {
    int b = 0;
    while (b < PP_SERVE_LAT_BUCKETS && (double)us > pp_serve_lat_bounds[b] * 1e6) b++;
    atomic_fetch_add(&h->bucket[b], 1);
    atomic_fetch_add(&h->sum_us, us);
    atomic_fetch_add(&h->count, 1);
}

static void hist_text(pp_sbuf *b, const char *metric, const char *model, pp_serve_hist *h) {
    long long cum = 0;
    for (int i = 0; i <= PP_SERVE_LAT_BUCKETS; i++) {
        cum += atomic_load(&h->bucket[i]);
        if (i < PP_SERVE_LAT_BUCKETS)
            pp_sbuf_printf(b, "%s_bucket{model=\"%s\",le=\"%g\"} %lld\n", metric, model, pp_serve_lat_bounds[i], cum);
        else pp_sbuf_printf(b, "%s_bucket{model=\"%s\",le=\"+Inf\"} %lld\n", metric, model, cum);
    }
    pp_sbuf_printf(b, "%s_sum{model=\"%s\"} %.6f\n", metric, model, (double)atomic_load(&h->sum_us) / 1e6);
    pp_sbuf_printf(b, "%s_count{model=\"%s\"} %lld\n", metric, model, (long long)atomic_load(&h->count));
}

/* Runs per batch size, from the batcher's own counts, in power-of-two buckets
 * up to max_batch (and +Inf for requests larger than it, which run alone). */
static void batch_text(pp_sbuf *b, pp_serve_model *m) {
    int64_t max = pp_batcher_max_batch(m->b), cum = 0, sum = 0, le = 1;
    for (int64_t rows = 1; rows <= max + 1; rows++) {
        int64_t n = pp_batcher_batches(m->b, rows);
        cum += n;
        sum += n * rows; /* rows = max + 1 stands for every larger size: the sum is a lower bound */
        if (rows <= max && (rows == le || rows == max)) {
            pp_sbuf_printf(b, "ppserve_batch_size_bucket{model=\"%s\",le=\"%lld\"} %lld\n", m->name, (long long)rows,
                           (long long)cum);
            while (le <= rows) le *= 2;
        }
    }
    pp_sbuf_printf(b, "ppserve_batch_size_bucket{model=\"%s\",le=\"+Inf\"} %lld\n", m->name, (long long)cum);
    pp_sbuf_printf(b, "ppserve_batch_size_sum{model=\"%s\"} %lld\n", m->name, (long long)sum);
    pp_sbuf_printf(b, "ppserve_batch_size_count{model=\"%s\"} %lld\n", m->name, (long long)cum);
}

char *pp_serve_metrics(pp_serve *s, size_t *len) {
    pp_sbuf b = {0};
    pp_sbuf_printf(&b, "# HELP ppserve_queue_depth Requests waiting in the model's batcher queue.\n"
                       "# TYPE ppserve_queue_depth gauge\n");
    for (int i = 0; i < s->n_models; i++)
        pp_sbuf_printf(&b, "ppserve_queue_depth{model=\"%s\"} %lld\n", s->models[i].name,
                       (long long)pp_batcher_queue_depth(s->models[i].b));
    pp_sbuf_printf(&b, "# HELP ppserve_batch_size Rows in each run the batcher made.\n"
                       "# TYPE ppserve_batch_size histogram\n");
    for (int i = 0; i < s->n_models; i++) batch_text(&b, &s->models[i]);
    pp_sbuf_printf(&b, "# HELP ppserve_queue_seconds Time from a request's arrival in the queue to the start of its "
                       "run.\n# TYPE ppserve_queue_seconds histogram\n");
    for (int i = 0; i < s->n_models; i++)
        hist_text(&b, "ppserve_queue_seconds", s->models[i].name, &s->models[i].queue);
    pp_sbuf_printf(&b, "# HELP ppserve_compute_seconds Time of the run a request was part of.\n"
                       "# TYPE ppserve_compute_seconds histogram\n");
    for (int i = 0; i < s->n_models; i++)
        hist_text(&b, "ppserve_compute_seconds", s->models[i].name, &s->models[i].compute);
    pp_sbuf_printf(&b, "# HELP ppserve_requests_total Inference requests answered, by model and outcome.\n"
                       "# TYPE ppserve_requests_total counter\n");
    for (int i = 0; i < s->n_models; i++)
        pp_sbuf_printf(&b,
                       "ppserve_requests_total{model=\"%s\",outcome=\"ok\"} %lld\n"
                       "ppserve_requests_total{model=\"%s\",outcome=\"failed\"} %lld\n",
                       s->models[i].name, (long long)atomic_load(&s->models[i].ok), s->models[i].name,
                       (long long)atomic_load(&s->models[i].failed));
    pp_sbuf_printf(&b, "# HELP ppserve_errors_total Requests refused or failed, by kind.\n"
                       "# TYPE ppserve_errors_total counter\n");
    for (int e = 0; e < PP_SERVE_ERR_COUNT; e++)
        pp_sbuf_printf(&b, "ppserve_errors_total{kind=\"%s\"} %lld\n", err_names[e],
                       (long long)atomic_load(&s->errors[e]));
    pp_sbuf_printf(&b,
                   "# HELP ppserve_connections Open HTTP connections.\n# TYPE ppserve_connections gauge\n"
                   "ppserve_connections %d\n",
                   atomic_load(&s->conns));
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    *len = b.len;
    return b.s;
}

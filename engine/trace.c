#include "trace.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../loader/atomic.h"

#define CAP 65536

typedef struct marker {
    pp_trace *t;
    int replica, stage, mb;
    const char *what;
    double t0, t1; /* microseconds; t1 = 0 while open */
    const char *device;
} marker;

struct pp_trace {
    marker m[CAP];
    atomic_uint next;
    double origin;
};

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

pp_code pp_trace_new(pp_trace **out, pp_error *err) {
    pp_trace *t = pp_calloc(1, sizeof *t);
    if (!t) return pp_error_set(err, PP_ERR_NOMEM, "trace: out of memory for %zu bytes", sizeof *t);
    t->origin = now_us();
    *out = t;
    return PP_OK;
}

void pp_trace_free(pp_trace *t) { pp_free(t); }

static void stamp_begin(void *arg) { ((marker *)arg)->t0 = now_us(); }
static void stamp_end(void *arg) { ((marker *)arg)->t1 = now_us(); }

pp_code pp_trace_begin(pp_trace *t, pp_backend *b, pp_stream *s, int replica, int stage, const char *what, int mb,
                       unsigned *span, pp_error *err) {
    unsigned i = atomic_fetch_add(&t->next, 1);
    *span = i;
    if (i >= CAP) return PP_OK; /* full: later spans are dropped, the run goes on */
    marker *m = &t->m[i];
    *m = (marker){t, replica, stage, mb, what, 0, 0, b->name};
    return b->ops->host_fn(b, s, stamp_begin, m, err);
}

pp_code pp_trace_end(pp_trace *t, pp_backend *b, pp_stream *s, unsigned span, pp_error *err) {
    if (span >= CAP) return PP_OK;
    return b->ops->host_fn(b, s, stamp_end, &t->m[span], err);
}

/* The events of t into f: per replica a process (pid < 0), or all in process
 * pid with lanes tid_base + 256 * replica + stream (a merged trace). */
static void write_events(const pp_trace *t, FILE *f, int pid, int tid_base, double origin, int *first) {
    unsigned n = atomic_load(&t->next);
    if (n > CAP) n = CAP;
    /* Lane names: one per replica/stage/stream, named once. */
    static const int maxr = 64, maxt = 256;
    unsigned char seen[64][256];
    memset(seen, 0, sizeof seen);
    for (unsigned i = 0; i < n; i++) {
        const marker *m = &t->m[i];
        int copy = strcmp(m->what, "compute") != 0;
        int tid = m->stage * 2 + copy;
        if (m->replica < maxr && tid < maxt) {
            if (seen[m->replica][tid]) continue;
            seen[m->replica][tid] = 1;
        }
        if (pid < 0)
            fprintf(f,
                    "%s{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":\"stage %d %s "
                    "(%s)\"}}",
                    *first ? "" : ",\n", m->replica, tid, m->stage, copy ? "copy" : "compute", m->device);
        else
            fprintf(f,
                    "%s{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":\"replica %d "
                    "stage %d %s (%s)\"}}",
                    *first ? "" : ",\n", pid, tid_base + 256 * m->replica + tid, m->replica, m->stage,
                    copy ? "copy" : "compute", m->device);
        *first = 0;
    }
    for (unsigned i = 0; i < n; i++) {
        const marker *m = &t->m[i];
        if (m->t1 <= 0 || m->t0 <= 0) continue;
        int copy = strcmp(m->what, "compute") != 0;
        int tid = m->stage * 2 + copy;
        fprintf(f,
                "%s{\"name\":\"%s mb %d\",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%d,\"tid\":%d,"
                "\"args\":{\"micro_batch\":%d,\"stage\":%d,\"device\":\"%s\"}}",
                *first ? "" : ",\n", m->what, m->mb, m->what, m->t0 - origin, m->t1 - m->t0, pid < 0 ? m->replica : pid,
                pid < 0 ? tid : tid_base + 256 * m->replica + tid, m->mb, m->stage, m->device);
        *first = 0;
    }
}

pp_code pp_trace_write(pp_trace *t, const char *path, pp_error *err) {
    pp_afile af;
    pp_code rc = pp_afile_open(&af, path, err);
    if (rc) return rc;
    fprintf(af.f, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
    int first = 1;
    write_events(t, af.f, -1, 0, t->origin, &first);
    fprintf(af.f, "\n]}\n");
    return pp_afile_commit(&af, err);
}

void pp_trace_write_events(const pp_trace *t, FILE *f, int pid, int tid_base, double origin_us, int *first) {
    write_events(t, f, pid, tid_base, origin_us, first);
}

double pp_trace_busy_ms(const pp_trace *t, int replica, int stage) {
    unsigned n = atomic_load(&t->next);
    double busy = 0;
    for (unsigned i = 0; i < n && i < CAP; i++) {
        const marker *m = &t->m[i];
        if (m->replica == replica && m->stage == stage && m->t1 > 0 && !strcmp(m->what, "compute"))
            busy += m->t1 - m->t0;
    }
    return busy / 1e3;
}

double pp_trace_wall_ms(const pp_trace *t) {
    unsigned n = atomic_load(&t->next);
    double lo = 0, hi = 0;
    for (unsigned i = 0; i < n && i < CAP; i++) {
        const marker *m = &t->m[i];
        if (m->t1 <= 0) continue;
        if (lo == 0 || m->t0 < lo) lo = m->t0;
        if (m->t1 > hi) hi = m->t1;
    }
    return (hi - lo) / 1e3;
}

double pp_trace_sum_ms(const pp_trace *t, const char *what) {
    unsigned n = atomic_load(&t->next);
    double sum = 0;
    for (unsigned i = 0; i < n && i < CAP; i++) {
        const marker *m = &t->m[i];
        if (m->t1 > 0 && m->t0 > 0 && !strcmp(m->what, what)) sum += m->t1 - m->t0;
    }
    return sum / 1e3;
}

void pp_trace_reset(pp_trace *t) { atomic_store(&t->next, 0); }

typedef struct edge {
    double t;
    int delta;
} edge;

static int by_time(const void *a, const void *b) {
    const edge *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->delta - y->delta; /* ends before starts at the same instant */
}

pp_code pp_trace_summary(const pp_trace *t, int *spans, int *max_concurrent, pp_error *err) {
    unsigned n = atomic_load(&t->next);
    if (n > CAP) n = CAP;
    edge *e = pp_malloc(sizeof(edge) * 2 * (n ? n : 1));
    if (!e) return pp_error_nomem(err, "trace: out of memory summarising %u spans", n);
    int k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (t->m[i].t1 <= 0) continue;
        e[k++] = (edge){t->m[i].t0, 1};
        e[k++] = (edge){t->m[i].t1, -1};
    }
    qsort(e, (size_t)k, sizeof *e, by_time);
    int cur = 0, best = 0;
    for (int i = 0; i < k; i++) {
        cur += e[i].delta;
        if (cur > best) best = cur;
    }
    pp_free(e);
    *spans = k / 2;
    *max_concurrent = best;
    return PP_OK;
}

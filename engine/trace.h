/* trace.h: a Chrome / Perfetto trace of the pipeline.
 *
 * Host callbacks enqueued on each stream stamp the start and end of every
 * micro-batch's compute and boundary copy in stream order, so the trace shows
 * what each device stream actually did and when: one lane per stream, one
 * process per replica. Open the JSON in ui.perfetto.dev or chrome://tracing.
 * Markers come from a fixed ring: tracing allocates nothing per run.
 */
#ifndef PP_TRACE_H
#define PP_TRACE_H

#include <stdio.h>

#include "backend.h"

typedef struct pp_trace pp_trace;

pp_code pp_trace_new(pp_trace **out, pp_error *err);
void pp_trace_free(pp_trace *t);
/* Enqueue the start of a span on s; *span names it for pp_trace_end (replica
 * threads trace at once, so each keeps its own). `what` is "upload", "compute",
 * "copy in" or "download". */
pp_code pp_trace_begin(pp_trace *t, pp_backend *b, pp_stream *s, int replica, int stage, const char *what, int mb,
                       unsigned *span, pp_error *err);
pp_code pp_trace_end(pp_trace *t, pp_backend *b, pp_stream *s, unsigned span, pp_error *err);
pp_code pp_trace_write(pp_trace *t, const char *path, pp_error *err);
/* The spans as events for a trace someone else assembles (ppengine run under
 * MPI merges one per rank): all in process pid, lanes tid_base + 256 * replica
 * + stream, times in microseconds from origin_us (CLOCK_MONOTONIC). *first
 * says whether no event precedes (no comma is written), and is cleared. */
void pp_trace_write_events(const pp_trace *t, FILE *f, int pid, int tid_base, double origin_us, int *first);
/* Milliseconds replica r's stage s spent in compute spans, and the span from the
 * first start to the last end of any span, since the last reset. */
double pp_trace_busy_ms(const pp_trace *t, int replica, int stage);
double pp_trace_wall_ms(const pp_trace *t);
/* Milliseconds all finished spans named `what` took, summed over streams. */
double pp_trace_sum_ms(const pp_trace *t, const char *what);
void pp_trace_reset(pp_trace *t);
/* How many spans were recorded, and the most that were running at one instant
 * (spans on one stream never overlap, so > 1 means streams overlapped). */
pp_code pp_trace_summary(const pp_trace *t, int *spans, int *max_concurrent, pp_error *err);

#endif

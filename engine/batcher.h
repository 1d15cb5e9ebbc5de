/* batcher.h: the dynamic batcher behind pp_batcher (include/ppengine.h).
 *
 * Requests of any batch size queue in FIFO order; one worker thread takes the
 * longest run of queued requests whose rows fit in max_batch, waiting at most
 * max_delay_us after the first of them arrived for more to come, copies their
 * inputs side by side along axis 0 (or uses the caller's buffers as they are
 * when they already lie side by side), runs the engine once and hands each
 * request its rows back. Every request lives in one of a fixed pool of slots
 * made at creation, together with the staging buffers and the engine's
 * launches for every batch size up to max_batch, so the steady state
 * allocates nothing.
 */
#ifndef PP_BATCHER_H
#define PP_BATCHER_H

#include <stdint.h>

#include "../include/ppengine.h"
#include "exec.h"
#include "graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_batch_queue pp_batch_queue;

typedef struct pp_batch_queue_options {
    int64_t max_batch;    /* rows in one merged batch */
    int64_t max_delay_us; /* how long the first queued request waits for company */
    int max_queue;        /* requests waiting at once; more are refused (PP_ERR_OVERLOADED) */
} pp_batch_queue_options;

/* x and its graph g are borrowed and must outlive the queue. Starts the worker
 * thread and prepares the engine for every batch size up to max_batch. */
pp_code pp_batch_queue_create(pp_exec *x, const pp_graph *g, const pp_batch_queue_options *o, pp_batch_queue **out,
                              pp_error *err);
/* Refuses new requests and runs the queued ones without waiting for company. */
void pp_batch_queue_drain(pp_batch_queue *q);
/* Runs what is queued, stops the worker, frees. No thread may be inside
 * pp_batch_queue_wait; results never waited for are dropped. */
void pp_batch_queue_free(pp_batch_queue *q);

/* Queues a request (pp_batcher_submit says what each argument means). The
 * pointer arrays are copied; the buffers they point at stay the caller's. */
pp_code pp_batch_queue_submit(pp_batch_queue *q, int64_t batch, const void *const *inputs, void *const *outputs,
                              int64_t timeout_us, pp_request_callback cb, void *user, uint64_t *id, pp_error *err);
/* Waits for a request submitted without a callback, fills *res (message
 * borrowed from err) and releases its slot. */
pp_code pp_batch_queue_wait(pp_batch_queue *q, uint64_t id, pp_request_result *res, pp_error *err);
/* 1 when the request was still queued and is now cancelled, else 0. */
int pp_batch_queue_cancel(pp_batch_queue *q, uint64_t id);

int64_t pp_batch_queue_depth(pp_batch_queue *q);
int64_t pp_batch_queue_batches(pp_batch_queue *q, int64_t rows);
int64_t pp_batch_queue_max_batch(const pp_batch_queue *q);

#ifdef __cplusplus
}
#endif
#endif

/* job.h: the record of a chunked run, and who computes which chunk next.
 *
 * One writer (the single process, or rank 0 of an MPI job) keeps OUT/chunks/:
 *
 *   manifest            what the job is (graph checksum, input files with size
 *                       and mtime, chunk size, outputs), written whole by
 *                       rename; then one line "done CHUNK RANK" appended per
 *                       finished chunk, and "complete" once OUT/<output>.npy
 *                       are all written
 *   cCHUNK.OUTPUT.npy   chunk CHUNK's rows of output OUTPUT, each written whole
 *                       by rename (loader/atomic_file.c) before its chunk is
 *                       recorded
 *
 * The manifest only ever claims chunks whose files are durable, so a job killed
 * at any instant (a rank, or all of them) resumes from it: the recorded chunks
 * are kept, the others (and a torn last line) are redone. Appends are flushed
 * with fdatasync in groups (pp_job_sync), which is what lets one writer keep up
 * with many ranks. All calls are thread-safe. (engine/cli/job.c)
 */
#ifndef PP_JOB_H
#define PP_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "../../loader/error.h"

typedef struct pp_job pp_job;

typedef struct pp_job_spec {
    const char *dir;    /* OUT/chunks, created by the caller */
    const char *header; /* the manifest's first lines: what the job is */
    int64_t n_chunks;
    const int64_t *chunk_count; /* [n_chunks] items per chunk */
    const char *const *outputs; /* [n_outputs] output names made safe for files */
    int n_outputs;
    int resume;   /* keep what a manifest with this header records */
    int progress; /* print the progress line on stderr */
} pp_job_spec;

/* Starts the record (resume = 0: any earlier one and its chunk files removed)
 * or takes up the one there (resume = 1; an absent manifest starts afresh, a
 * manifest for another job is refused naming the first line that differs).
 * *notice (may be "") says what the resume found. */
pp_code pp_job_open(const pp_job_spec *spec, pp_job **out, char *notice, size_t notice_size, pp_error *err);
void pp_job_close(pp_job *j);

/* The next chunk to compute, or -1 when none is left or the job failed. */
int64_t pp_job_next(pp_job *j);
/* Records chunk c as finished by `rank` (its files are already written). */
pp_code pp_job_done(pp_job *j, int64_t c, int rank, pp_error *err);
/* Makes the records appended so far durable. */
pp_code pp_job_sync(pp_job *j, pp_error *err);
/* Stops handing out chunks; the first failure's rank and message are kept. */
void pp_job_fail(pp_job *j, int rank, const char *msg);
/* The first failure's message (and its rank), or NULL. */
const char *pp_job_failure(pp_job *j, int *rank);
/* After the final outputs are written: a later --resume has nothing to do. */
pp_code pp_job_complete(pp_job *j, pp_error *err);

/* Chunks recorded (this run and earlier ones), chunks in all, chunks this
 * run started with left to do, and whether the record was already complete. */
void pp_job_counts(pp_job *j, int64_t *recorded, int64_t *total, int64_t *todo_at_start, int *was_complete);
/* Redraws the progress line now; final ends it with a newline. */
void pp_job_progress(pp_job *j, int final);

/* OUT/chunks/cCHUNK.OUTPUT.npy for chunk c and output name `safe`. */
void pp_job_chunk_path(const char *dir, int64_t c, const char *safe, char *buf, size_t n);

#endif

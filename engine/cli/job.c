/* job.c: the manifest journal of a chunked run, the chunks left, progress. */
#include "job.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../loader/atomic.h"
#include "cli_common.h"
#include "cli_msg.h"

struct pp_job {
    pthread_mutex_t mu;
    char *dir, *manifest;
    int fd;    /* the manifest, O_APPEND */
    int dirty; /* appended since the last fdatasync */
    int64_t n_chunks;
    const int64_t *chunk_count;
    int64_t *todo, n_todo, next;
    int64_t recorded, was_complete;
    int64_t items_total, items_done, items_at_start;
    int progress, tty;
    double t0, last_print;
    int fail_rank;
    char *fail_msg;
};

static const char DONE[] = "done ";
static const char COMPLETE[] = "complete\n";

void pp_job_chunk_path(const char *dir, int64_t c, const char *safe, char *buf, size_t n) {
    snprintf(buf, n, "%s/c%08lld.%s.npy", dir, (long long)c, safe);
}

/* Our chunk files (cDIGITS.NAME.npy) and temporaries a killed writer left. */
static int ours(const char *name) {
    if (strstr(name, ".tmp.")) return 1;
    if (name[0] != 'c' || name[1] < '0' || name[1] > '9') return 0;
    size_t n = strlen(name);
    return n > 4 && !strcmp(name + n - 4, ".npy");
}

/* Removes chunk files (all = 1) or only temporaries from the folder. */
static pp_code sweep(const char *dir, int all, pp_error *err) {
    DIR *d = opendir(dir);
    if (!d) return pp_error_set(err, PP_ERR_IO, "%s: cannot list: %s", dir, strerror(errno));
    pp_code rc = PP_OK;
    for (struct dirent *e; !rc && (e = readdir(d));) {
        if (!ours(e->d_name) || (!all && !strstr(e->d_name, ".tmp."))) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0 && errno != ENOENT)
            rc = pp_error_set(err, PP_ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
    }
    closedir(d);
    return rc;
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Reads what an earlier run recorded under this header into done[]; returns
 * the byte length of the valid part (a torn last line is cut off), or -1 with
 * err set. *absent when there is no manifest. */
static long long read_records(pp_job *j, const char *header, unsigned char *done, int *absent, pp_error *err) {
    FILE *f = fopen(j->manifest, "rb");
    *absent = !f;
    if (!f) return errno == ENOENT ? 0 : (pp_error_set(err, PP_ERR_IO, "%s: %s", j->manifest, strerror(errno)), -1);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long long at = 0;
    int lineno = 0;
    /* The header, line by line, so a mismatch is named. */
    for (const char *h = header; *h; lineno++) {
        const char *nl = strchr(h, '\n');
        size_t want = nl ? (size_t)(nl - h + 1) : strlen(h);
        len = getline(&line, &cap, f);
        if (len != (ssize_t)want || memcmp(line, h, want) != 0) {
            if (len > 0 && line[len - 1] == '\n') line[len - 1] = 0;
            pp_error_set(err, PP_ERR_INVALID_ARG,
                         "%s was written for another job: line %d is '%.*s' where this run has '%.*s' (run without "
                         "--resume to start over)",
                         j->manifest, lineno + 1, len > 0 ? (int)strcspn(line, "\n") : 0, len > 0 ? line : "",
                         (int)(want - (nl ? 1 : 0)), h);
            free(line);
            fclose(f);
            return -1;
        }
        h += want;
        at += (long long)want;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n') break; /* torn by a kill mid-append */
        long long c;
        int rank;
        char tail;
        if (!strcmp(line, COMPLETE)) j->was_complete = 1;
        else if (sscanf(line, "done %lld %d%c", &c, &rank, &tail) != 3 || tail != '\n' || c < 0 || c >= j->n_chunks)
            break; /* not something we wrote: trust nothing after it */
        else done[c] = 1;
        at += len;
    }
    free(line);
    fclose(f);
    return at;
}

/* Which recorded chunks still have every output file. */
static int64_t check_files(pp_job *j, const pp_job_spec *s, unsigned char *done) {
    int64_t missing = 0;
    char path[4096];
    for (int64_t c = 0; c < j->n_chunks; c++)
        for (int o = 0; done[c] && o < s->n_outputs; o++) {
            pp_job_chunk_path(j->dir, c, s->outputs[o], path, sizeof path);
            if (!file_exists(path)) {
                done[c] = 0;
                missing++;
            }
        }
    return missing;
}

static pp_code start_fresh(pp_job *j, const char *header, pp_error *err) {
    pp_code rc = sweep(j->dir, 1, err);
    if (!rc) rc = pp_afile_write_all(j->manifest, header, strlen(header), err);
    return rc;
}

/* Reads (resume) or writes the manifest, fills done[]. */
static pp_code take_up(pp_job *j, const pp_job_spec *s, unsigned char *done, char *notice, size_t nn, pp_error *err) {
    notice[0] = 0;
    if (!s->resume) return start_fresh(j, s->header, err);
    int absent;
    long long valid = read_records(j, s->header, done, &absent, err);
    if (valid < 0) return err->code;
    if (absent) {
        snprintf(notice, nn, "nothing to resume (no %s); starting from the first chunk", j->manifest);
        return start_fresh(j, s->header, err);
    }
    if (truncate(j->manifest, (off_t)valid) != 0)
        return pp_error_set(err, PP_ERR_IO, "%s: cannot cut the torn end: %s", j->manifest, strerror(errno));
    pp_code rc = sweep(j->dir, 0, err);
    if (rc) return rc;
    int64_t missing = j->was_complete ? 0 : check_files(j, s, done);
    int64_t kept = 0;
    for (int64_t c = 0; c < j->n_chunks; c++) kept += done[c];
    snprintf(notice, nn, "resuming: %lld of %lld chunks are recorded%s", (long long)kept, (long long)j->n_chunks,
             missing ? ", some without their files (redone)" : "");
    return PP_OK;
}

pp_code pp_job_open(const pp_job_spec *s, pp_job **out, char *notice, size_t notice_size, pp_error *err) {
    *out = NULL;
    pp_job *j = calloc(1, sizeof *j);
    unsigned char *done = calloc((size_t)s->n_chunks + 1, 1);
    if (!j || !done) {
        free(j);
        free(done);
        return pp_error_nomem(err, "job: out of memory for %lld chunks", (long long)s->n_chunks);
    }
    pthread_mutex_init(&j->mu, NULL);
    j->fd = -1;
    j->n_chunks = s->n_chunks;
    j->chunk_count = s->chunk_count;
    j->progress = s->progress;
    j->tty = isatty(2);
    size_t dl = strlen(s->dir);
    j->dir = strdup(s->dir);
    j->manifest = malloc(dl + sizeof "/manifest");
    j->todo = malloc(sizeof *j->todo * ((size_t)s->n_chunks + 1));
    pp_code rc = j->dir && j->manifest && j->todo ? PP_OK : pp_error_nomem(err, "job: out of memory");
    if (!rc) {
        snprintf(j->manifest, dl + sizeof "/manifest", "%s/manifest", s->dir);
        rc = take_up(j, s, done, notice, notice_size, err);
    }
    if (!rc && (j->fd = open(j->manifest, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
        rc = pp_error_set(err, PP_ERR_IO, "%s: cannot open for appending: %s", j->manifest, strerror(errno));
    for (int64_t c = 0; !rc && c < s->n_chunks; c++) {
        j->items_total += s->chunk_count[c];
        if (done[c] || j->was_complete) {
            j->recorded++;
            j->items_done += s->chunk_count[c];
        } else {
            j->todo[j->n_todo++] = c;
        }
    }
    free(done);
    if (rc) {
        pp_job_close(j);
        return rc;
    }
    j->items_at_start = j->items_done;
    j->t0 = j->last_print = pp_cli_now_ms();
    *out = j;
    return PP_OK;
}

void pp_job_close(pp_job *j) {
    if (!j) return;
    if (j->fd >= 0) close(j->fd);
    pthread_mutex_destroy(&j->mu);
    free(j->dir);
    free(j->manifest);
    free(j->todo);
    free(j->fail_msg);
    free(j);
}

int64_t pp_job_next(pp_job *j) {
    pthread_mutex_lock(&j->mu);
    int64_t c = !j->fail_msg && j->next < j->n_todo ? j->todo[j->next++] : -1;
    pthread_mutex_unlock(&j->mu);
    return c;
}

static pp_code append(pp_job *j, const char *line, pp_error *err) {
    size_t n = strlen(line);
    ssize_t w = write(j->fd, line, n);
    if (w != (ssize_t)n)
        return pp_error_set(err, PP_ERR_IO, "%s: appending a record failed: %s", j->manifest,
                            w < 0 ? strerror(errno) : "short write");
    j->dirty = 1;
    return PP_OK;
}

pp_code pp_job_done(pp_job *j, int64_t c, int rank, pp_error *err) {
    char line[64];
    snprintf(line, sizeof line, "%s%lld %d\n", DONE, (long long)c, rank);
    pthread_mutex_lock(&j->mu);
    pp_code rc = append(j, line, err);
    if (!rc) {
        j->recorded++;
        j->items_done += j->chunk_count[c];
    }
    pthread_mutex_unlock(&j->mu);
    if (!rc) pp_job_progress(j, 0);
    return rc;
}

pp_code pp_job_sync(pp_job *j, pp_error *err) {
    pthread_mutex_lock(&j->mu);
    pp_code rc = PP_OK;
    if (j->dirty && fdatasync(j->fd) != 0)
        rc = pp_error_set(err, PP_ERR_IO, "%s: fdatasync failed: %s", j->manifest, strerror(errno));
    j->dirty = 0;
    pthread_mutex_unlock(&j->mu);
    return rc;
}

void pp_job_fail(pp_job *j, int rank, const char *msg) {
    pthread_mutex_lock(&j->mu);
    if (!j->fail_msg) {
        j->fail_msg = strdup(msg ? msg : "failed");
        j->fail_rank = rank;
    }
    pthread_mutex_unlock(&j->mu);
}

const char *pp_job_failure(pp_job *j, int *rank) {
    pthread_mutex_lock(&j->mu);
    const char *m = j->fail_msg;
    if (rank) *rank = j->fail_rank;
    pthread_mutex_unlock(&j->mu);
    return m;
}

pp_code pp_job_complete(pp_job *j, pp_error *err) {
    pthread_mutex_lock(&j->mu);
    pp_code rc = j->was_complete ? PP_OK : append(j, COMPLETE, err);
    pthread_mutex_unlock(&j->mu);
    if (!rc) rc = pp_job_sync(j, err);
    return rc;
}

void pp_job_counts(pp_job *j, int64_t *recorded, int64_t *total, int64_t *todo_at_start, int *was_complete) {
    pthread_mutex_lock(&j->mu);
    if (recorded) *recorded = j->recorded;
    if (total) *total = j->n_chunks;
    if (todo_at_start) *todo_at_start = j->n_todo;
    if (was_complete) *was_complete = (int)j->was_complete;
    pthread_mutex_unlock(&j->mu);
}

/* On a terminal one line redrawn in place, ten times a second at most; on a
 * pipe or file a plain line a second, so logs stay readable. */
void pp_job_progress(pp_job *j, int final) {
    if (!j->progress) return;
    pthread_mutex_lock(&j->mu);
    double t = pp_cli_now_ms();
    if (final || t - j->last_print >= (j->tty ? 100 : 1000)) {
        j->last_print = t;
        double s = (t - j->t0) / 1e3;
        double rate = s > 0 ? (double)(j->items_done - j->items_at_start) / s : 0;
        long eta = rate > 0 ? (long)((double)(j->items_total - j->items_done) / rate + 0.5) : 0;
        fprintf(stderr, "%sppengine: %lld/%lld items  %.1f items/s  ETA %ld:%02ld:%02ld%s", j->tty ? "\r" : "",
                (long long)j->items_done, (long long)j->items_total, rate, eta / 3600, eta / 60 % 60, eta % 60,
                j->tty && !final ? "\033[K" : "\n");
        pp_cli_progress_open = j->tty && !final;
        fflush(stderr);
    }
    pthread_mutex_unlock(&j->mu);
}

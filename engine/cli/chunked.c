/* chunked.c: a chunked `ppengine run`: the worker that turns a chunk into
 * files, the final join, the summary, and the single-process driver. */
#include "chunked.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../loader/atomic.h"
#include "../../loader/model.h"
#include "cli_common.h"
#include "cli_msg.h"

pp_code pp_chunked_load(const char *path, pp_graph **g, uint64_t *checksum, pp_error *err) {
    *g = NULL;
    pp_model *m = NULL;
    if (pp_model_load(path, 0, &m, err)) return err->code;
    if (pp_graph_from_model(&m, g, err)) {
        pp_error_prefix(err, "%s", path);
        pp_model_free(m);
        return err->code;
    }
    /* The loader has checked it; it covers every section's checksum. */
    pp_fmt_header h;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : pread(fd, &h, sizeof h, 0);
    if (fd >= 0) close(fd);
    if (n != (ssize_t)sizeof h) {
        pp_graph_free(*g);
        *g = NULL;
        return pp_error_set(err, PP_ERR_IO, "%s: cannot read the header again: %s", path, strerror(errno));
    }
    *checksum = h.header_checksum;
    for (int i = 0; i < (*g)->n_outputs; i++) {
        const pp_tensor *t = &(*g)->tensors[(*g)->outputs[i]];
        int ok = t->rank >= 1 && t->dims[0] < 0;
        for (int d = 1; ok && d < t->rank; d++) ok = t->dims[d] >= 0;
        if (!ok) {
            pp_graph_free(*g);
            *g = NULL;
            return pp_error_set(err, PP_ERR_SHAPE,
                                "%s: output '%s' is not batched on axis 0 alone, so chunks cannot be joined", path,
                                t->name);
        }
    }
    return PP_OK;
}

static pp_code make_dir(const char *path, pp_error *err) {
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return pp_error_set(err, PP_ERR_IO, "cannot create output folder '%s': %s", path, strerror(errno));
    return PP_OK;
}

static void chunks_dir(const char *out, char *buf, size_t n) { snprintf(buf, n, "%s/chunks", out); }

pp_code pp_chunked_dirs(const char *out, pp_error *err) {
    char dir[4096];
    chunks_dir(out, dir, sizeof dir);
    pp_code rc = make_dir(out, err);
    return rc ? rc : make_dir(dir, err);
}

/* Output names as file names; *names owned (free each, then the array). */
static pp_code safe_names(const pp_graph *g, char ***names, pp_error *err) {
    char **s = calloc((size_t)g->n_outputs + 1, sizeof *s);
    if (!s) return pp_error_nomem(err, "out of memory");
    for (int i = 0; i < g->n_outputs; i++) {
        if (!(s[i] = malloc(256))) {
            for (int k = 0; k < i; k++) free(s[k]);
            free(s);
            return pp_error_nomem(err, "out of memory");
        }
        pp_cli_safe_name(g->tensors[g->outputs[i]].name, s[i], 256);
    }
    *names = s;
    return PP_OK;
}

static void free_names(char **s, int n) {
    for (int i = 0; s && i < n; i++) free(s[i]);
    free(s);
}

/* What the job is: a resume must find exactly this at the top of the manifest. */
static pp_code job_header(const pp_graph *g, uint64_t checksum, const pp_dataset *ds, char **text, pp_error *err) {
    size_t n;
    FILE *f = open_memstream(text, &n);
    if (!f) return pp_error_nomem(err, "out of memory");
    fprintf(f, "ppengine chunks 1\ngraph %016llx\nchunk_items %lld\nchunks %lld items %lld\n",
            (unsigned long long)checksum, (long long)ds->chunk_items, (long long)ds->n_chunks, (long long)ds->total);
    pp_code rc = pp_dataset_describe(ds, g, f, err);
    for (int i = 0; i < g->n_outputs; i++) {
        const pp_tensor *t = &g->tensors[g->outputs[i]];
        int64_t dims[PP_MAX_RANK];
        pp_tensor_dims_at(t, 1, dims);
        fprintf(f, "output %s %s", t->name, pp_dtype_name(t->dtype));
        for (int d = 0; d < t->rank; d++) fprintf(f, " %lld", (long long)dims[d]);
        fprintf(f, "\n");
    }
    if (fclose(f) != 0 && !rc) rc = pp_error_nomem(err, "out of memory");
    if (rc) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

pp_code pp_chunked_open_job(const pp_chunked_options *o, const pp_graph *g, uint64_t checksum, const pp_dataset *ds,
                            pp_job **job, char *notice, size_t nn, pp_error *err) {
    char dir[4096], *header = NULL, **names = NULL;
    chunks_dir(o->output, dir, sizeof dir);
    pp_code rc = job_header(g, checksum, ds, &header, err);
    if (!rc) rc = safe_names(g, &names, err);
    if (!rc) {
        pp_job_spec s = {dir,          header,    ds->n_chunks, ds->chunk_count, (const char *const *)names,
                         g->n_outputs, o->resume, !o->quiet};
        rc = pp_job_open(&s, job, notice, nn, err);
    }
    free(header);
    free_names(names, g->n_outputs);
    return rc;
}

/* ---- the worker -------------------------------------------------------------- */

pp_code pp_worker_create(pp_worker *w, const pp_graph *g, const pp_dataset *ds, const pp_chunked_options *o,
                         pp_error *err) {
    memset(w, 0, sizeof *w);
    w->g = g;
    w->ds = ds;
    w->throttle_ms = o->throttle_ms;
    w->trace = o->trace != NULL;
    gethostname(w->st.host, sizeof w->st.host - 1);
    char dir[4096];
    chunks_dir(o->output, dir, sizeof dir);
    w->dir = strdup(dir);
    w->in = calloc((size_t)g->n_inputs + 1, sizeof *w->in);
    w->out = calloc((size_t)g->n_outputs + 1, sizeof *w->out);
    if (!w->dir || !w->in || !w->out) return pp_error_nomem(err, "out of memory");
    pp_code rc = safe_names(g, &w->safe, err);
    for (int i = 0; !rc && i < g->n_inputs; i++)
        if (!(w->in[i] = malloc((size_t)(ds->item_bytes[i] * (uint64_t)ds->chunk_items) + 1)))
            rc = pp_error_nomem(err, "out of memory for chunks of %lld items", (long long)ds->chunk_items);
    for (int i = 0; !rc && i < g->n_outputs; i++) {
        size_t bytes = (size_t)pp_tensor_bytes_at(&g->tensors[g->outputs[i]], ds->chunk_items);
        if (!(w->out[i] = malloc(bytes + 1)))
            rc = pp_error_nomem(err, "out of memory for chunks of %lld items", (long long)ds->chunk_items);
    }
    if (rc) return rc;
    pp_exec_options eo = o->exec;
    eo.max_batch = (int)ds->chunk_items;
    /* Spans are collected for the merged trace, never written by the engine itself. */
    eo.trace = o->trace ? "/dev/null" : NULL;
    return pp_exec_create(g, &eo, &w->e, err);
}

void pp_worker_free(pp_worker *w) {
    pp_exec_free(w->e);
    for (int i = 0; w->g && w->in && i < w->g->n_inputs; i++) free(w->in[i]);
    for (int i = 0; w->g && w->out && i < w->g->n_outputs; i++) free(w->out[i]);
    free(w->in);
    free(w->out);
    free_names(w->safe, w->g ? w->g->n_outputs : 0);
    free(w->dir);
    free(w->spans);
    memset(w, 0, sizeof *w);
}

static void keep_span(pp_worker *w, const pp_chunk_span *s) {
    if (!w->trace) return;
    if (w->n_spans == w->cap_spans) {
        size_t cap = w->cap_spans ? w->cap_spans * 2 : 256;
        pp_chunk_span *n = realloc(w->spans, cap * sizeof *n);
        if (!n) return; /* the trace loses spans, the run goes on */
        w->spans = n;
        w->cap_spans = cap;
    }
    w->spans[w->n_spans++] = *s;
}

pp_code pp_worker_run(pp_worker *w, int64_t c, pp_error *err) {
    const pp_graph *g = w->g;
    int64_t n = w->ds->chunk_count[c];
    pp_chunk_span s = {c, pp_cli_now_ms(), 0, 0, 0};
    pp_code rc = pp_dataset_read(w->ds, c, w->in, err);
    s.t_read = pp_cli_now_ms();
    if (!rc) rc = pp_exec_run(w->e, n, (const void *const *)w->in, w->out, err);
    s.t_run = pp_cli_now_ms();
    for (int i = 0; !rc && i < g->n_outputs; i++) {
        const pp_tensor *t = &g->tensors[g->outputs[i]];
        int64_t dims[PP_MAX_RANK];
        char path[4096];
        pp_tensor_dims_at(t, n, dims);
        pp_job_chunk_path(w->dir, c, w->safe[i], path, sizeof path);
        rc = pp_npy_write(path, t->dtype, t->rank, dims, w->out[i], err);
    }
    s.t_end = pp_cli_now_ms();
    if (rc) {
        pp_error_prefix(err, "chunk %lld (items %lld..%lld)", (long long)c, (long long)w->ds->chunk_start[c],
                        (long long)(w->ds->chunk_start[c] + n - 1));
        return rc;
    }
    keep_span(w, &s);
    w->st.chunks++;
    w->st.items += n;
    w->st.busy_s += (s.t_end - s.t0) / 1e3;
    w->st.read_s += (s.t_read - s.t0) / 1e3;
    w->st.run_s += (s.t_run - s.t_read) / 1e3;
    w->st.write_s += (s.t_end - s.t_run) / 1e3;
    if (w->throttle_ms > 0) {
        struct timespec ts = {w->throttle_ms / 1000, (w->throttle_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return PP_OK;
}

void pp_worker_trace(const pp_worker *w, FILE *f, int rank, double origin_ms, int *first) {
    fprintf(f,
            "%s{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"args\":{\"name\":\"rank %d (%s)\"}},\n"
            "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":%d,\"args\":{\"sort_index\":%d}},\n"
            "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":\"chunks\"}}",
            *first ? "" : ",\n", rank, rank, w->st.host, rank, rank, rank);
    *first = 0;
    static const char *what[3] = {"read", "run", "write"};
    for (size_t i = 0; i < w->n_spans; i++) {
        const pp_chunk_span *s = &w->spans[i];
        double t[4] = {s->t0, s->t_read, s->t_run, s->t_end};
        fprintf(f,
                ",\n{\"name\":\"chunk %lld\",\"cat\":\"chunk\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%d,"
                "\"tid\":0,\"args\":{\"items\":%lld}}",
                (long long)s->chunk, (s->t0 - origin_ms) * 1e3, (s->t_end - s->t0) * 1e3, rank,
                (long long)w->ds->chunk_count[s->chunk]);
        for (int k = 0; k < 3; k++)
            fprintf(f,
                    ",\n{\"name\":\"%s\",\"cat\":\"chunk\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%d,\"tid\":1}",
                    what[k], (t[k] - origin_ms) * 1e3, (t[k + 1] - t[k]) * 1e3, rank);
    }
    fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":1,\"args\":{\"name\":\"chunk steps\"}}",
            rank);
    pp_exec_trace_events(w->e, f, rank, 2, origin_ms * 1e3, first);
}

/* ---- the join ------------------------------------------------------------------ */

/* Appends chunk c's file of output i to af, checking it is what the chunk wrote. */
static pp_code append_chunk(pp_afile *af, const char *path, const pp_tensor *t, int64_t n, pp_error *err) {
    pp_npy a;
    pp_code rc = pp_npy_read(path, &a, err);
    if (rc) return rc;
    int64_t dims[PP_MAX_RANK];
    pp_tensor_dims_at(t, n, dims);
    int same = a.dtype == t->dtype && a.rank == t->rank;
    for (int d = 0; same && d < a.rank; d++) same = a.dims[d] == dims[d];
    if (!same)
        rc = pp_error_set(err, PP_ERR_FORMAT, "%s: not the %s of %lld items this chunk holds", path,
                          pp_dtype_name(t->dtype), (long long)n);
    if (!rc) rc = pp_afile_write(af, a.data, a.nbytes, err);
    pp_npy_free(&a);
    return rc;
}

static pp_code merge_output(const pp_chunked_options *o, const pp_dataset *ds, const pp_tensor *t, const char *safe,
                            const char *dir, pp_error *err) {
    char path[4096], head[PP_NPY_HEADER_MAX];
    int64_t dims[PP_MAX_RANK];
    snprintf(path, sizeof path, "%s/%s.npy", o->output, safe);
    pp_tensor_dims_at(t, ds->total, dims);
    size_t hl = pp_npy_header(t->dtype, t->rank, dims, head);
    if (!hl)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "output '%s': %s cannot be written to .npy", t->name,
                            pp_dtype_name(t->dtype));
    pp_afile af;
    pp_code rc = pp_afile_open(&af, path, err);
    if (!rc) rc = pp_afile_write(&af, head, hl, err);
    for (int64_t c = 0; !rc && c < ds->n_chunks; c++) {
        char cp[4096];
        pp_job_chunk_path(dir, c, safe, cp, sizeof cp);
        rc = append_chunk(&af, cp, t, ds->chunk_count[c], err);
    }
    if (rc) {
        pp_afile_abort(&af);
        return rc;
    }
    return pp_afile_commit(&af, err);
}

pp_code pp_chunked_merge(const pp_chunked_options *o, const pp_graph *g, const pp_dataset *ds, pp_job *job,
                         pp_error *err) {
    char dir[4096], **names = NULL;
    chunks_dir(o->output, dir, sizeof dir);
    pp_code rc = safe_names(g, &names, err);
    for (int i = 0; !rc && i < g->n_outputs; i++)
        rc = merge_output(o, ds, &g->tensors[g->outputs[i]], names[i], dir, err);
    /* Recorded before the chunk files go: a resume then knows OUT is complete. */
    if (!rc) rc = pp_job_complete(job, err);
    for (int64_t c = 0; !rc && c < ds->n_chunks; c++)
        for (int i = 0; i < g->n_outputs; i++) {
            char cp[4096];
            pp_job_chunk_path(dir, c, names[i], cp, sizeof cp);
            (void)unlink(cp);
        }
    free_names(names, g->n_outputs);
    return rc;
}

void pp_chunked_summary(const pp_rank_stats *st, int n, double wall_s) {
    printf("%-5s %-20s %8s %10s %7s %7s %9s\n", "rank", "host", "chunks", "items", "busy %", "wait %", "seconds");
    pp_rank_stats all = {0};
    for (int r = 0; r < n; r++) {
        const pp_rank_stats *s = &st[r];
        double w = s->wall_s > 0 ? 100.0 / s->wall_s : 0.0;
        printf("%-5d %-20.20s %8lld %10lld %6.1f%% %6.1f%% %9.2f\n", r, s->host, (long long)s->chunks,
               (long long)s->items, s->busy_s * w, s->wait_s * w, s->wall_s);
        all.chunks += s->chunks;
        all.items += s->items;
        all.read_s += s->read_s;
        all.run_s += s->run_s;
        all.write_s += s->write_s;
        all.wait_s += s->wait_s;
    }
    printf("all   %-20s %8lld %10lld %7s %7s %9.2f  (%.1f items/s)\n", "", (long long)all.chunks, (long long)all.items,
           "", "", wall_s, wall_s > 0 ? (double)all.items / wall_s : 0.0);
    double k = all.chunks ? 1e3 / (double)all.chunks : 0.0;
    printf("per chunk: read %.3f ms, run %.3f ms, write %.3f ms; waiting for it %.3f ms\n", all.read_s * k,
           all.run_s * k, all.write_s * k, all.wait_s * k);
}

int pp_mpi_launched(char *why, size_t n) {
    /* Variables each launcher sets in every rank: Open MPI's mpirun, the PMI
     * and PMIx of MPICH, Intel MPI and srun --mpi=..., and srun itself (the
     * step's task count, absent in the batch script that calls srun). */
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) {
            snprintf(why, n, "%s=%s", vars[i], v);
            return atoi(v) > 0 ? atoi(v) : 1;
        }
    }
    if (getenv("PMIX_RANK")) {
        snprintf(why, n, "PMIX_RANK=%s", getenv("PMIX_RANK"));
        return 1;
    }
    return 0;
}

/* ---- one process ----------------------------------------------------------------- */

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { g_stop = sig; }

static int report(const pp_error *err) {
    pp_cli_msg("ppengine", "%s", err->msg);
    return 1;
}

static void print_start(const pp_chunked_options *o, const pp_dataset *ds, const char *notice, int64_t todo) {
    if (o->quiet) return;
    if (notice[0]) pp_cli_msg("ppengine", "%s", notice);
    printf("%s: %lld items in %d file%s, %lld chunks of up to %lld; %lld to compute\n", o->graph, (long long)ds->total,
           ds->n_files, ds->n_files == 1 ? "" : "s", (long long)ds->n_chunks, (long long)ds->chunk_items,
           (long long)todo);
}

/* Writes the one-process trace: this process's lanes only. */
static pp_code write_trace(const pp_chunked_options *o, const pp_worker *w, double origin, pp_error *err) {
    pp_afile af;
    pp_code rc = pp_afile_open(&af, o->trace, err);
    if (rc) return rc;
    int first = 1;
    fprintf(af.f, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
    pp_worker_trace(w, af.f, 0, origin, &first);
    fprintf(af.f, "\n]}\n");
    return pp_afile_commit(&af, err);
}

int pp_run_chunked(const pp_chunked_options *o) {
    pp_error err = {0};
    pp_graph *g = NULL;
    pp_dataset ds = {0};
    pp_job *job = NULL;
    pp_worker w = {0};
    uint64_t sum;
    char notice[512] = "";
    int rc = 1;
    if (pp_chunked_load(o->graph, &g, &sum, &err) ||
        pp_dataset_resolve(g, o->inputs, o->n_inputs, o->chunk, &ds, &err) || pp_chunked_dirs(o->output, &err) ||
        pp_chunked_open_job(o, g, sum, &ds, &job, notice, sizeof notice, &err) ||
        pp_worker_create(&w, g, &ds, o, &err)) {
        report(&err);
        goto done;
    }
    int64_t todo;
    int was_complete;
    pp_job_counts(job, NULL, NULL, &todo, &was_complete);
    print_start(o, &ds, notice, todo);
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    double t0 = pp_cli_now_ms();
    for (int64_t c; !g_stop && (c = pp_job_next(job)) >= 0;) {
        if (pp_worker_run(&w, c, &err) || pp_job_done(job, c, 0, &err) || pp_job_sync(job, &err)) {
            report(&err);
            goto done;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    w.st.wall_s = (pp_cli_now_ms() - t0) / 1e3;
    pp_job_progress(job, 1);
    int64_t recorded, total;
    pp_job_counts(job, &recorded, &total, NULL, NULL);
    if (g_stop) {
        pp_cli_msg("ppengine",
                   "stopped by signal %d with %lld of %lld chunks recorded; run again with --resume "
                   "to compute the other %lld",
                   (int)g_stop, (long long)recorded, (long long)total, (long long)(total - recorded));
        rc = 128 + (int)g_stop;
        goto done;
    }
    if ((!was_complete && pp_chunked_merge(o, g, &ds, job, &err)) || (o->trace && write_trace(o, &w, t0, &err))) {
        report(&err);
        goto done;
    }
    if (!o->quiet) {
        pp_chunked_summary(&w.st, 1, w.st.wall_s);
        printf("wrote %d output%s to %s/\n", g->n_outputs, g->n_outputs == 1 ? "" : "s", o->output);
    }
    rc = 0;
done:
    pp_worker_free(&w);
    pp_job_close(job);
    pp_dataset_free(&ds);
    pp_graph_free(g);
    return rc;
}

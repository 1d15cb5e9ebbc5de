/* run_mpi.c: `ppengine run` as one rank of an MPI job (mpirun or srun).
 *
 * Start: every rank loads graph.bin and builds its engine; rank 0 resolves the
 * inputs, opens the job record (engine/cli/job.h) and sends the file list to
 * the others, which check they can read it. One gather then brings every
 * rank's verdict and graph checksum to rank 0: a rank that failed, or that
 * loaded a different graph.bin, stops the whole job with its message, and no
 * rank is left waiting (no MPI_Abort: every rank returns through
 * MPI_Finalize).
 *
 * Work: rank 0 hands out chunks. Its main thread serves requests (each carries
 * the chunk the sender just finished, which rank 0 records) while a second
 * thread computes chunks on rank 0's own devices; only the main thread calls
 * MPI (MPI_THREAD_FUNNELED). Every other rank keeps two requests outstanding,
 * so the next chunk is already there when one is done and a request's round
 * trip is hidden behind a chunk's compute. A slower rank simply asks less
 * often. Records are made durable in groups: one fdatasync per burst of
 * requests, whatever the number of ranks.
 *
 * End: the per-rank figures and trace fragments go to rank 0, which joins the
 * chunks into OUT/<output>.npy and prints the summary; the exit status is
 * broadcast so that every rank returns the same. When a rank dies, the
 * launcher ends the others (SIGTERM): rank 0 then says that the recorded
 * chunks are kept and --resume computes the rest. docs/scale.md.
 */
#include <mpi.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../loader/atomic.h"
#include "chunked.h"
#include "cli_common.h"
#include "cli_msg.h"

enum { TAG_REQ = 1, TAG_ASSIGN = 2, TAG_TRACE = 3 };
enum { REQ_WORK = 0, REQ_FAIL = 1, REQ_BYE = 2 };
enum { PREFETCH = 2 }; /* requests each rank keeps outstanding */

typedef struct req_msg {
    int32_t kind;
    int32_t pad;
    int64_t done;               /* REQ_WORK: the chunk finished since the last request, or -1 */
    char msg[PP_ERROR_MSG_MAX]; /* REQ_FAIL: why */
} req_msg;

/* What each rank says at the start. */
typedef struct start_check {
    int32_t ok;
    int32_t pad;
    uint64_t checksum;
    char host[64];
    char graph[256];
    char msg[PP_ERROR_MSG_MAX];
} start_check;

typedef struct rank_state {
    const pp_chunked_options *o;
    int rank, size;
    pp_graph *g;
    uint64_t checksum;
    pp_dataset ds;
    pp_job *job; /* rank 0 */
    pp_worker w;
    int have_worker;
    char notice[512];
    double origin;      /* ms, monotonic: the instant after the start barrier */
    long served, syncs; /* rank 0: requests answered, manifest fdatasyncs */
    double serve_ms, sync_ms;
    atomic_int local_done;
} rank_state;

/* Said at once from the handler: the launcher's SIGKILL may follow its
 * SIGTERM closely. */
static char g_stop_msg[4096];
static void on_signal(int sig) {
    ssize_t n = write(2, g_stop_msg, strlen(g_stop_msg));
    (void)n;
    _exit(128 + sig); /* the compute thread is mid-chunk: its temporary is swept on --resume */
}

/* ---- start ------------------------------------------------------------------------ */

/* Non-zero ranks: can this node read what rank 0 listed, and what it was told? */
static pp_code check_reachable(rank_state *s, pp_error *err) {
    for (int k = 0; k < s->o->n_inputs; k++) {
        const char *spec = s->o->inputs[k], *eq = strchr(spec, '=');
        const char *path = eq ? eq + 1 : spec;
        struct stat st;
        if (stat(path, &st) != 0) return pp_error_set(err, PP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    for (int i = 0; i < s->ds.n_inputs; i++) {
        pp_npy h;
        uint64_t off;
        if (pp_npy_read_header(s->ds.paths[i * s->ds.n_files], &h, &off, err)) return err->code;
    }
    return PP_OK;
}

/* Rank 0 resolves the inputs and sends them; the others receive them. */
static void share_dataset(rank_state *s, start_check *me) {
    pp_error err = {0};
    char *bytes = NULL;
    uint64_t n = 0;
    if (s->rank == 0 && me->ok) {
        size_t len;
        if (pp_dataset_resolve(s->g, s->o->inputs, s->o->n_inputs, s->o->chunk, &s->ds, &err) ||
            pp_chunked_dirs(s->o->output, &err) ||
            pp_chunked_open_job(s->o, s->g, s->checksum, &s->ds, &s->job, s->notice, sizeof s->notice, &err) ||
            pp_dataset_pack(&s->ds, &bytes, &len, &err))
            me->ok = 0;
        else n = len;
    }
    MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    if (s->rank != 0 && n && !(bytes = malloc(n))) {
        pp_error_nomem(&err, "out of memory for the input list (%llu bytes)", (unsigned long long)n);
        me->ok = 0;
    }
    /* Sent in pieces: a count is an int. */
    for (uint64_t at = 0; at < n; at += 1u << 30) {
        int piece = (int)(n - at < (1u << 30) ? n - at : (1u << 30));
        MPI_Bcast(bytes ? bytes + at : NULL, bytes ? piece : 0, MPI_BYTE, 0, MPI_COMM_WORLD);
    }
    /* n == 0: rank 0 failed, and its message is the one to read; this rank has
     * nothing to build and waits for the verdict. */
    if (s->rank != 0 && me->ok && n && (pp_dataset_unpack(bytes, (size_t)n, &s->ds, &err) || check_reachable(s, &err)))
        me->ok = 0;
    if (!me->ok && err.msg[0]) snprintf(me->msg, sizeof me->msg, "%s", err.msg);
    free(bytes);
}

/* Rank 0: reads every rank's start check; prints what is wrong; 1 to go on. */
static int judge(const rank_state *s, const start_check *all) {
    int go = 1;
    for (int r = 0; r < s->size; r++)
        if (!all[r].ok) {
            pp_cli_msg("ppengine", "rank %d (%s): %s", r, all[r].host,
                       all[r].msg[0] ? all[r].msg : "failed before the run (rank 0 could not share the inputs)");
            go = 0;
        }
    for (int r = 1; r < s->size; r++)
        if (all[r].ok && all[0].ok && all[r].checksum != all[0].checksum) {
            pp_cli_msg("ppengine",
                       "rank %d (%s) loaded %s with checksum %016llx, but rank 0 loaded %s with %016llx: "
                       "every rank must run the same graph.bin",
                       r, all[r].host, all[r].graph, (unsigned long long)all[r].checksum, all[0].graph,
                       (unsigned long long)all[0].checksum);
            go = 0;
        }
    return go;
}

/* Every step runs on every rank, failed or not, so that each collective is
 * reached by all: a failure anywhere ends the job for everyone, with its message. */
static int start(rank_state *s) {
    start_check me;
    memset(&me, 0, sizeof me);
    me.ok = 1;
    gethostname(me.host, sizeof me.host - 1);
    snprintf(me.graph, sizeof me.graph, "%s", s->o->graph);
    pp_error err = {0};
    if (pp_chunked_load(s->o->graph, &s->g, &s->checksum, &err)) {
        me.ok = 0;
        snprintf(me.msg, sizeof me.msg, "%s", err.msg);
    }
    me.checksum = s->checksum;
    share_dataset(s, &me);
    if (me.ok && s->ds.n_inputs > 0 && pp_worker_create(&s->w, s->g, &s->ds, s->o, &err)) {
        me.ok = 0;
        snprintf(me.msg, sizeof me.msg, "%s", err.msg);
    }
    s->have_worker = me.ok && s->ds.n_inputs > 0;
    start_check *all = s->rank == 0 ? calloc((size_t)s->size, sizeof *all) : NULL;
    MPI_Gather(&me, sizeof me, MPI_BYTE, all, sizeof me, MPI_BYTE, 0, MPI_COMM_WORLD);
    int go = 0;
    if (s->rank == 0) go = all ? judge(s, all) : 0;
    free(all);
    MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return go;
}

/* ---- work: rank 0 ----------------------------------------------------------------------- */

static void *local_worker(void *arg) {
    rank_state *s = arg;
    pp_error err = {0};
    for (int64_t c; (c = pp_job_next(s->job)) >= 0;) {
        if (pp_worker_run(&s->w, c, &err) || pp_job_done(s->job, c, 0, &err) || pp_job_sync(s->job, &err)) {
            pp_job_fail(s->job, 0, err.msg);
            break;
        }
    }
    s->w.st.wall_s = (pp_cli_now_ms() - s->origin) / 1e3;
    atomic_store(&s->local_done, 1);
    return NULL;
}

/* One request from rank `src`: record what it finished, answer with its next chunk. */
static void serve(rank_state *s, const req_msg *m, int src, int *byes) {
    pp_error err = {0};
    if (m->kind == REQ_BYE) {
        (*byes)++;
    } else if (m->kind == REQ_FAIL) {
        pp_job_fail(s->job, src, m->msg);
    } else {
        if (m->done >= 0 && pp_job_done(s->job, m->done, src, &err)) pp_job_fail(s->job, 0, err.msg);
        int64_t next = pp_job_next(s->job);
        MPI_Send(&next, 1, MPI_INT64_T, src, TAG_ASSIGN, MPI_COMM_WORLD);
    }
}

/* Serves requests until every rank has said goodbye and the local thread is done.
 * Polls, sleeping up to 1 ms when idle, so that rank 0's own compute keeps
 * the cores and a signal is seen. */
static int coordinate(rank_state *s) {
    pthread_t th;
    int started = pthread_create(&th, NULL, local_worker, s) == 0;
    if (!started) {
        pp_job_fail(s->job, 0, "cannot start rank 0's compute thread");
        atomic_store(&s->local_done, 1);
    }
    req_msg m;
    MPI_Request rq;
    MPI_Irecv(&m, sizeof m, MPI_BYTE, MPI_ANY_SOURCE, TAG_REQ, MPI_COMM_WORLD, &rq);
    int byes = 0, dirty = 0;
    long nap_ns = 0;
    while (byes < s->size - 1 || !atomic_load(&s->local_done)) {
        int got = 0;
        MPI_Status st;
        MPI_Test(&rq, &got, &st);
        if (got) {
            double t = pp_cli_now_ms();
            serve(s, &m, st.MPI_SOURCE, &byes);
            s->serve_ms += pp_cli_now_ms() - t;
            s->served++;
            MPI_Irecv(&m, sizeof m, MPI_BYTE, MPI_ANY_SOURCE, TAG_REQ, MPI_COMM_WORLD, &rq);
            dirty = 1;
            nap_ns = 0;
            continue; /* drain the burst before syncing */
        }
        pp_error err = {0};
        if (dirty) {
            double t = pp_cli_now_ms();
            if (pp_job_sync(s->job, &err)) pp_job_fail(s->job, 0, err.msg);
            s->sync_ms += pp_cli_now_ms() - t;
            s->syncs++;
        }
        dirty = 0;
        nap_ns = nap_ns ? (nap_ns * 2 > 1000000 ? 1000000 : nap_ns * 2) : 20000;
        struct timespec ts = {0, nap_ns};
        nanosleep(&ts, NULL);
        pp_job_progress(s->job, 0);
    }
    MPI_Cancel(&rq);
    MPI_Wait(&rq, MPI_STATUS_IGNORE);
    if (started) pthread_join(th, NULL);
    pp_error err = {0};
    if (pp_job_sync(s->job, &err)) pp_job_fail(s->job, 0, err.msg);
    return 0;
}

/* ---- work: the other ranks ----------------------------------------------------------------- */

static void request(int kind, int64_t done, const char *msg) {
    req_msg m;
    memset(&m, 0, offsetof(req_msg, msg));
    m.kind = kind;
    m.done = done;
    int n = (int)offsetof(req_msg, msg);
    if (msg) {
        snprintf(m.msg, sizeof m.msg, "%s", msg);
        n = (int)sizeof m;
    }
    MPI_Send(&m, n, MPI_BYTE, 0, TAG_REQ, MPI_COMM_WORLD);
}

static void work(rank_state *s) {
    int outstanding = 0, failed = 0;
    for (; outstanding < PREFETCH; outstanding++) request(REQ_WORK, -1, NULL);
    double waited_from = pp_cli_now_ms();
    while (outstanding > 0) {
        int64_t c;
        MPI_Recv(&c, 1, MPI_INT64_T, 0, TAG_ASSIGN, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        outstanding--;
        s->w.st.wait_s += (pp_cli_now_ms() - waited_from) / 1e3;
        if (c >= 0 && !failed) {
            pp_error err = {0};
            if (pp_worker_run(&s->w, c, &err)) {
                failed = 1;
                request(REQ_FAIL, -1, err.msg);
            } else {
                request(REQ_WORK, c, NULL);
                outstanding++;
            }
        }
        waited_from = pp_cli_now_ms();
    }
    s->w.st.wall_s = (pp_cli_now_ms() - s->origin) / 1e3;
    request(REQ_BYE, -1, NULL);
}

/* ---- end ----------------------------------------------------------------------------------------- */

/* Sends (rank > 0) or receives and writes (rank 0) one rank's trace events. */
static void send_bytes(const char *p, uint64_t n, int to) {
    MPI_Send(&n, 1, MPI_UINT64_T, to, TAG_TRACE, MPI_COMM_WORLD);
    for (uint64_t at = 0; at < n; at += 1u << 30)
        MPI_Send(p + at, (int)(n - at < (1u << 30) ? n - at : (1u << 30)), MPI_BYTE, to, TAG_TRACE, MPI_COMM_WORLD);
}

static int recv_into(FILE *f, int from) {
    uint64_t n;
    MPI_Recv(&n, 1, MPI_UINT64_T, from, TAG_TRACE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    char *buf = malloc(n < (1u << 30) ? n + 1 : (1u << 30));
    int ok = buf != NULL;
    for (uint64_t at = 0; at < n; at += 1u << 30) {
        int piece = (int)(n - at < (1u << 30) ? n - at : (1u << 30));
        if (buf) MPI_Recv(buf, piece, MPI_BYTE, from, TAG_TRACE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        else MPI_Recv(NULL, 0, MPI_BYTE, from, TAG_TRACE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (buf && f && n && fwrite(buf, 1, (size_t)piece, f) != (size_t)piece) ok = 0;
    }
    free(buf);
    return ok;
}

/* One Perfetto trace on rank 0: a process per rank, fragments in rank order. */
static int merge_trace(rank_state *s) {
    char *frag = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&frag, &n);
    int first = s->rank == 0; /* every fragment after rank 0's starts with a comma */
    if (m) {
        pp_worker_trace(&s->w, m, s->rank, s->origin, &first);
        fclose(m);
    }
    if (s->rank != 0) {
        send_bytes(frag ? frag : "", frag ? n : 0, 0);
        free(frag);
        return 0;
    }
    pp_error err = {0};
    pp_afile af;
    int ok = frag && pp_afile_open(&af, s->o->trace, &err) == PP_OK;
    if (ok) {
        fprintf(af.f, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
        fwrite(frag, 1, n, af.f);
    }
    for (int r = 1; r < s->size; r++)
        if (!recv_into(ok ? af.f : NULL, r) && ok) {
            pp_afile_abort(&af);
            ok = 0;
            pp_error_set(&err, PP_ERR_IO, "%s: writing rank %d's trace failed", s->o->trace, r);
        }
    free(frag);
    if (ok) {
        fprintf(af.f, "\n]}\n");
        ok = pp_afile_commit(&af, &err) == PP_OK;
    }
    if (!ok) pp_cli_msg("ppengine", "%s", err.msg[0] ? err.msg : "out of memory for the trace");
    return ok ? 0 : 1;
}

/* Rank 0: after the work, the outputs and the report; the exit status. */
static int finish(rank_state *s, const pp_rank_stats *all, double wall_s) {
    int fail_rank;
    const char *why = pp_job_failure(s->job, &fail_rank);
    int64_t recorded, total;
    int was_complete;
    pp_job_counts(s->job, &recorded, &total, NULL, &was_complete);
    pp_job_progress(s->job, 1);
    if (why) {
        pp_cli_msg("ppengine", "rank %d (%s): %s", fail_rank, all[fail_rank].host, why);
        pp_cli_msg("ppengine",
                   "%lld of %lld chunks are recorded in %s/chunks/manifest: run the same command with --resume "
                   "to compute the other %lld",
                   (long long)recorded, (long long)total, s->o->output, (long long)(total - recorded));
        return 1;
    }
    pp_error err = {0};
    if (!was_complete && pp_chunked_merge(s->o, s->g, &s->ds, s->job, &err)) {
        pp_cli_msg("ppengine", "%s", err.msg);
        return 1;
    }
    if (!s->o->quiet) {
        pp_chunked_summary(all, s->size, wall_s);
        printf("rank 0 answered %ld requests, %.1f us each, and made the manifest durable %ld times, %.1f us each\n",
               s->served, s->served ? 1e3 * s->serve_ms / (double)s->served : 0.0, s->syncs,
               s->syncs ? 1e3 * s->sync_ms / (double)s->syncs : 0.0);
        printf("wrote %d output%s to %s/\n", s->g->n_outputs, s->g->n_outputs == 1 ? "" : "s", s->o->output);
    }
    return 0;
}

static void print_start(rank_state *s) {
    if (s->o->quiet) return;
    int64_t todo;
    pp_job_counts(s->job, NULL, NULL, &todo, NULL);
    if (s->notice[0]) pp_cli_msg("ppengine", "%s", s->notice);
    printf("%s: %lld items in %d file%s, %lld chunks of up to %lld; %lld to compute on %d ranks\n", s->o->graph,
           (long long)s->ds.total, s->ds.n_files, s->ds.n_files == 1 ? "" : "s", (long long)s->ds.n_chunks,
           (long long)s->ds.chunk_items, (long long)todo, s->size);
    fflush(stdout);
}

int pp_run_mpi(const pp_chunked_options *o, const char *why) {
    (void)why;
    int provided;
    MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    rank_state s;
    memset(&s, 0, sizeof s);
    s.o = o;
    MPI_Comm_rank(MPI_COMM_WORLD, &s.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &s.size);
    int rc = 1;
    if (start(&s)) {
        if (s.rank == 0) {
            print_start(&s);
            snprintf(g_stop_msg, sizeof g_stop_msg,
                     "\nppengine: rank 0 stopped by a signal (the launcher ends every rank when one fails; it names "
                     "the rank): the chunks recorded in %s/chunks/manifest are kept, run the same command with "
                     "--resume to compute the others\n",
                     o->output);
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_signal;
            sigaction(SIGTERM, &sa, NULL);
            sigaction(SIGINT, &sa, NULL);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        s.origin = pp_cli_now_ms();
        if (s.rank == 0) coordinate(&s);
        else work(&s);
        double wall_s = (pp_cli_now_ms() - s.origin) / 1e3;
        pp_rank_stats *all = s.rank == 0 ? calloc((size_t)s.size, sizeof *all) : NULL;
        MPI_Gather(&s.w.st, sizeof s.w.st, MPI_BYTE, all, sizeof s.w.st, MPI_BYTE, 0, MPI_COMM_WORLD);
        int trace_rc = o->trace ? merge_trace(&s) : 0;
        if (s.rank == 0) rc = (all ? finish(&s, all, wall_s) : 1) || trace_rc;
        free(all);
        MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    }
    if (s.have_worker) pp_worker_free(&s.w);
    pp_job_close(s.job);
    pp_dataset_free(&s.ds);
    pp_graph_free(s.g);
    MPI_Finalize();
    return rc;
}

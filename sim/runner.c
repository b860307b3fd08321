/*
 * runner.c - every point of a sweep plan, R replications each, on N threads,
 * aggregated and written (DESIGN.md §2 "Runner", §5, §6; see runner.h).
 *
 * Order of work: all points are built (and so validated) first; then the
 * output directory is created; then (point, replication) jobs are handed
 * out in run order under one mutex (the lowest point with a replication
 * left first) to `jobs` worker threads, while the calling thread draws the
 * progress and watches for a stop request; then the four files (five with a
 * trace) are written under temporary names and renamed only when all are
 * written.  A traced job appends its trace.csv rows to its worker's buffer,
 * moved to its replication's slot when merged; trace.csv is those buffers
 * in (point, replication) order.
 *
 * Determinism: a job's metrics are copied into its own row of its point's
 * table, and a point's histograms are merged by adding integer counts, so
 * neither the number of threads nor the order in which jobs finish can
 * change a byte of the CSV files.  With a precision target, a point's
 * replication n + 1 is handed out only once replications 1..n are all
 * merged and their metric is not yet precise enough (point_settle): the
 * count depends on (cfg, rep) results only.  Such a point waits on its own
 * replications one at a time while the workers run other points'.  (The
 * merged hist.sum is a double whose value may depend on the merge order; it
 * is never written.)  Memory: a point's dense histograms
 * exist only while it has replications in flight; once its last replication
 * is merged they become the point's histograms.csv rows.
 *
 * Shards (DESIGN.md §5): every point of the plan is built, then the run
 * continues on a view of the plan that holds only the shard's points (their
 * sweep_point structs shallow-copied, so each keeps its global index); the
 * other points' configurations are freed once the run's fingerprint is
 * taken from all of them.
 */
#include "sim/runner.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/json.h"
#include "sim/out.h"
#include "sim/progress.h"
#include "sim/stats.h"
#include "sim/sweep.h"
#include "sim/xalloc.h"

/* trace.csv comes last: it is written only with --trace. */
enum { OUT_POINTS, OUT_REPLICATIONS, OUT_HISTOGRAMS, OUT_SUMMARY, OUT_TRACE, OUT_NFILES };

static const char *const out_names[OUT_NFILES] = {"points.csv", "replications.csv",
                                                  "histograms.csv", "summary.json", "trace.csv"};

/* Guarded by run.lock from the first job on. */
struct run_point {
    void *cfg;              /* from model->point_new (owned) */
    uint32_t nreps;         /* replications to run: final once decided */
    uint32_t handed;        /* replications handed out (<= nreps) */
    uint32_t reps_done;     /* replications merged (<= handed) */
    double *rows;           /* cap x nmetrics: replication i's metrics in row i - 1 (owned) */
    struct out_buf *traces; /* cap, with --trace: replication i's trace rows at i - 1 (owned) */
    uint32_t cap;           /* rows (and traces) allocated */
    bool has_target;        /* prec applies */
    struct runner_precision prec;
    bool decided;             /* nreps is final (always, without a target) */
    bool complete;            /* every replication merged and nreps final */
    double reached;           /* relative half-width at the final count (NAN: none) */
    bool met;                 /* reached <= prec.relative */
    struct hist *hists;       /* nseries merged so far, while in flight (owned) */
    struct out_buf hist_rows; /* its histograms.csv rows, once complete */
    struct out_buf cells;     /* ",variant,swept values" as CSV cells */
};

struct run {
    const struct runner_model *model; /* borrowed */
    const struct sweep_plan *plan;    /* borrowed */
    struct run_point *pts;            /* plan->npoints (owned) */
    size_t nrows;                     /* replications over all points, as first planned */
    bool tracing;                     /* --trace: each point keeps its replications' rows */
    uint64_t ntrace;                  /* requests traced per replication */
    pthread_mutex_t lock;             /* guards the fields below and every run_point */
    pthread_cond_t work;              /* a job may be available, or the run is over */
    pthread_cond_t tick;              /* the monitor's timed wait (CLOCK_MONOTONIC) */
    size_t first_open;                /* points below are all handed out and decided */
    size_t running;                   /* worker threads not yet finished */
    size_t started_point;             /* point of the job most recently handed out */
    size_t points_done, rows_done;    /* progress */
    size_t target_pts, target_reps;   /* complete points with a target, their replications */
    volatile sig_atomic_t *stop;      /* opt->stop (borrowed, may be NULL): see run_all */
    bool solo;                        /* no worker thread: the calling thread works */
    struct progress progress;
    bool stopped;        /* a stop request: hand out nothing more */
    bool failed;         /* a replication could not complete: stop */
    size_t failed_point; /* the lowest failing (point, replication) seen */
    uint32_t failed_rep;
    struct err failure;     /* its message */
    size_t points_total;    /* points of the whole plan, this shard's or not */
    uint64_t fingerprint;   /* identifies the run across shards (summary.json) */
    struct sweep_plan view; /* the shard's points, when plan points here (points owned) */
};

/* ---- building and validating the points ---- */

/* point_new for every point, in order; the first failure stops. */
static int build_points(struct run *r, const char *file, const char *base_dir, struct err *e)
{
    const struct runner_model *m = r->model;

    for (size_t i = 0; i < r->plan->npoints; i++) {
        struct run_point *pt = &r->pts[i];

        err_clear(e);
        pt->cfg = m->point_new(r->plan->points[i].doc, base_dir, e);
        if (!pt->cfg) {
            sweep_point_error(r->plan, i, file, e);
            return -1;
        }
        pt->nreps = m->point_replications(pt->cfg);
        assert(pt->nreps >= 1);
        pt->has_target = m->point_precision && m->point_precision(pt->cfg, &pt->prec);
        assert(!pt->has_target || (pt->nreps >= 2 && pt->prec.max_replications >= pt->nreps &&
                                   pt->prec.metric < m->nmetrics));
        pt->decided = !pt->has_target;
        pt->reached = NAN;
        r->nrows += pt->nreps;
    }
    err_clear(e);
    return 0;
}

/* FNV-1a 64 of s and its terminating NUL, continuing from h. */
static uint64_t fnv1a_str(uint64_t h, const char *s)
{
    const unsigned char *c = (const unsigned char *)s;

    do {
        h = (h ^ *c) * 0x100000001b3u;
    } while (*c++);
    return h;
}

/* Every point's index, replications, seed, label and resolved configuration, hashed. */
static uint64_t run_fingerprint(const struct run *r)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (size_t i = 0; i < r->plan->npoints; i++) {
        const struct sweep_point *sp = &r->plan->points[i];
        const struct run_point *pt = &r->pts[i];
        struct cJSON *config = r->model->point_resolved(pt->cfg);
        char *text = config ? json_print(config) : NULL;
        char nums[96];

        snprintf(nums, sizeof nums, "%zu %" PRIu32 " %" PRIu64, sp->index, pt->nreps,
                 r->model->point_seed(pt->cfg));
        h = fnv1a_str(h, nums);
        h = fnv1a_str(h, sp->label ? sp->label : "");
        h = fnv1a_str(h, text ? text : "null");
        free(text);
        json_free(config);
    }
    return h;
}

/*
 * Take the run's fingerprint, then keep shard k of n: the points whose index
 * mod n is k - 1, in order, with their rows renumbered; free the others.
 * r->plan becomes the view.
 */
static void keep_shard(struct run *r, unsigned k, unsigned n)
{
    const struct sweep_plan *plan = r->plan;
    size_t kept = 0;

    r->points_total = plan->npoints;
    r->fingerprint = run_fingerprint(r);
    if (n <= 1) {
        return; /* 0/0 or 1/1: every point */
    }
    assert(k >= 1 && k <= n);
    r->view = *plan;
    r->view.points = xcalloc(plan->npoints, sizeof *r->view.points);
    r->nrows = 0;
    for (size_t i = 0; i < plan->npoints; i++) {
        struct run_point pt = r->pts[i];

        memset(&r->pts[i], 0, sizeof r->pts[i]);
        if (plan->points[i].index % n != k - 1) {
            r->model->point_free(pt.cfg);
            continue;
        }
        r->nrows += pt.nreps;
        r->pts[kept] = pt;
        r->view.points[kept++] = plan->points[i];
    }
    r->view.npoints = kept;
    r->plan = &r->view;
}

/* A swept value: a JSON string without its quotes, anything else as written. */
static void value_cells(struct out_buf *b, const char *json_text, int is_duration)
{
    struct cJSON *v = json_value_from_arg(json_text);
    struct json_at at;
    const char *s = NULL;
    struct err e;
    sim_time t;

    err_clear(&e);
    json_root(v, &at);
    if (json_is_string(&at) && json_string(&at, &s, &e) != 0) {
        s = NULL;
    }
    out_buf_puts(b, ",");
    out_csv_text(b, s ? s : json_text);
    if (is_duration) {
        out_buf_puts(b, ",");
        if (s && json_parse_duration(s, &t, &e) == 0) {
            out_csv_num(b, sim_time_to_ms(t));
        }
    }
    json_free(v);
}

static void point_cells(const struct sweep_plan *plan, size_t i, struct out_buf *b)
{
    const struct sweep_point *pt = &plan->points[i];

    if (plan->has_variants) {
        out_buf_puts(b, ",");
        out_csv_text(b, pt->variant ? pt->variant : "");
    }
    for (size_t c = 0; c < plan->ncolumns; c++) {
        value_cells(b, pt->values[c], plan->column_is_duration[c]);
    }
}

/* ---- running the jobs ---- */

enum { JOB_NONE, JOB_TAKEN, JOB_WAIT };

/*
 * Hand out the next job (lock held): the lowest point with a replication
 * left.  JOB_NONE when none will ever be left, JOB_WAIT when only a point
 * waiting for its precision decision may still add one.
 */
static int take_job(struct run *r, size_t *p, uint32_t *rep)
{
    struct run_point *pt = NULL;

    while (r->first_open < r->plan->npoints && r->pts[r->first_open].decided &&
           r->pts[r->first_open].handed == r->pts[r->first_open].nreps) {
        r->first_open++;
    }
    if (r->solo && r->stop && *r->stop) { /* no monitor: this is the signals' thread */
        r->stopped = true;
    }
    if (r->first_open == r->plan->npoints || r->failed || r->stopped) {
        return JOB_NONE;
    }
    for (*p = r->first_open; *p < r->plan->npoints; (*p)++) {
        if (r->pts[*p].handed < r->pts[*p].nreps) {
            pt = &r->pts[*p];
            break;
        }
    }
    if (!pt) {
        return JOB_WAIT;
    }
    *rep = ++pt->handed;
    if (*rep == 1) {
        pt->hists = xcalloc(r->model->nseries, sizeof *pt->hists);
        for (size_t s = 0; s < r->model->nseries; s++) {
            hist_init(&pt->hists[s]);
        }
    }
    r->started_point = *p;
    return JOB_TAKEN;
}

/* The same, traced: the rows go to the worker's buffer, prefixed with the point and replication. */
static int run_traced_job(struct run *r, size_t p, uint32_t rep, double *row, struct hist *scratch,
                          struct out_buf *trace, struct err *e)
{
    char prefix[64];

    snprintf(prefix, sizeof prefix, "%zu,%" PRIu32 ",", r->plan->points[p].index, rep);
    return r->model->run_traced(r->pts[p].cfg, rep, r->ntrace, prefix, row, scratch, trace, e);
}

/* Replication rep of point p into the worker's scratch row, histograms and trace buffer. */
static int run_job(struct run *r, size_t p, uint32_t rep, double *row, struct hist *scratch,
                   struct out_buf *trace, struct err *e)
{
    const struct runner_model *m = r->model;

    for (size_t k = 0; k < m->nmetrics; k++) {
        row[k] = NAN;
    }
    for (size_t s = 0; s < m->nseries; s++) {
        hist_init(&scratch[s]);
    }
    if (r->tracing) {
        out_buf_fini(trace); /* what a failed replication left */
        out_buf_init(trace);
        return run_traced_job(r, p, rep, row, scratch, trace, e);
    }
    return m->run(r->pts[p].cfg, rep, row, scratch, e);
}

/* Keep the failure of the lowest (point, replication) seen (lock held). */
static void job_failed(struct run *r, size_t p, uint32_t rep, const struct err *e)
{
    if (!r->failed || p < r->failed_point || (p == r->failed_point && rep < r->failed_rep)) {
        r->failure = *e;
        r->failed_point = p;
        r->failed_rep = rep;
    }
    r->failed = true;
}

/* One histograms.csv row; le_ms INFINITY prints "inf" (the overflow bucket). */
static void hist_row(struct out_buf *b, size_t point, const char *series, double le_ms,
                     uint64_t count)
{
    out_buf_printf(b, "%zu,", point);
    out_csv_text(b, series);
    out_buf_puts(b, ",");
    out_csv_num(b, le_ms);
    out_buf_printf(b, ",%" PRIu64 "\n", count);
}

/* A complete point's non-empty buckets, underflow first and overflow last. */
static void hist_rows(const struct run *r, struct run_point *pt, size_t point)
{
    for (size_t s = 0; s < r->model->nseries; s++) {
        const struct hist *h = &pt->hists[s];
        const char *name = r->model->series[s];

        if (h->underflow) {
            hist_row(&pt->hist_rows, point, name, sim_time_to_ms(HIST_LOW_NS), h->underflow);
        }
        for (size_t i = 0; i < HIST_NBUCKETS; i++) {
            if (h->count[i]) {
                hist_row(&pt->hist_rows, point, name, sim_time_to_ms(hist_bucket_hi(i)),
                         h->count[i]);
            }
        }
        if (h->overflow) {
            hist_row(&pt->hist_rows, point, name, INFINITY, h->overflow);
        }
    }
}

/*
 * The relative 95% half-width of the target metric over the point's first
 * nreps replications (see struct runner_precision); *none when the metric
 * applies in none of them.  0 when every value is equal, +inf for a zero
 * mean with a spread.
 */
static double relative_halfwidth(const struct run *r, const struct run_point *pt, bool *none)
{
    size_t nm = r->model->nmetrics;
    double *x = xcalloc(pt->nreps, sizeof *x);
    double mean, ci;

    for (uint32_t i = 0; i < pt->nreps; i++) {
        x[i] = pt->rows[i * nm + pt->prec.metric];
    }
    stat_agg_mean(x, pt->nreps, &mean, &ci);
    free(x);
    *none = isnan(mean);
    if (isnan(ci) || ci == 0) {
        return ci;
    }
    return mean == 0 ? (double)INFINITY : ci / fabs(mean);
}

/*
 * Every handed-out replication of pt is merged (lock held): decide whether
 * nreps is final.  Returns true if the point is complete, false when one
 * more replication was added.
 */
static bool point_settle(struct run *r, struct run_point *pt)
{
    bool none = false;

    if (!pt->decided) {
        pt->reached = relative_halfwidth(r, pt, &none);
        pt->met = pt->reached <= pt->prec.relative; /* false for NAN */
        if (!pt->met && !none && pt->nreps < pt->prec.max_replications) {
            pt->nreps++;
            return false;
        }
        pt->decided = true;
    }
    if (pt->has_target) {
        r->target_pts++;
        r->target_reps += pt->nreps;
    }
    pt->complete = true;
    return true;
}

/* Row rep - 1 of pt, growing its table (lock held). */
static double *point_row(const struct run *r, struct run_point *pt, uint32_t rep)
{
    size_t nm = r->model->nmetrics;

    if (rep > pt->cap) {
        uint32_t cap = pt->cap ? pt->cap : pt->nreps;

        while (cap < rep) {
            cap *= 2;
        }
        pt->rows = xrealloc(pt->rows, (size_t)cap * nm * sizeof *pt->rows);
        if (r->tracing) {
            pt->traces = xrealloc(pt->traces, cap * sizeof *pt->traces);
            for (uint32_t i = pt->cap; i < cap; i++) {
                out_buf_init(&pt->traces[i]);
            }
        }
        pt->cap = cap;
    }
    return pt->rows + (size_t)(rep - 1) * nm;
}

/* Merge a finished job (lock held); the point's last replication turns it into rows. */
static void finish_job(struct run *r, size_t p, uint32_t rep, const double *row,
                       const struct hist *scratch, struct out_buf *trace)
{
    struct run_point *pt = &r->pts[p];

    memcpy(point_row(r, pt, rep), row, r->model->nmetrics * sizeof *row);
    if (r->tracing) { /* moved: the worker starts its next job with an empty buffer */
        pt->traces[rep - 1] = *trace;
        out_buf_init(trace);
    }
    for (size_t s = 0; s < r->model->nseries; s++) {
        hist_merge(&pt->hists[s], &scratch[s]);
    }
    r->rows_done++;
    if (++pt->reps_done < pt->nreps) {
        return;
    }
    if (point_settle(r, pt)) {
        hist_rows(r, pt, r->plan->points[p].index);
        free(pt->hists);
        pt->hists = NULL;
        r->points_done++;
    }
    pthread_cond_broadcast(&r->work); /* a new replication, or perhaps the end */
}

/*
 * The final count of an undecided point, guessed for the ETA: the half-width
 * shrinks as 1/sqrt(n), so n (reached / relative)^2 once it has been checked
 * (capped); before that, the mean count of the completed points with a
 * target (mean); never less than its current count.
 */
static double guess_reps(const struct run_point *pt, size_t mean)
{
    double n = (double)pt->nreps, g = (double)mean;

    if (isfinite(pt->reached) && pt->reached > 0) {
        g = n * (pt->reached / pt->prec.relative) * (pt->reached / pt->prec.relative);
        g = fmin(g, (double)pt->prec.max_replications);
    }
    return fmax(n, g);
}

/* Replications of the whole run, for the ETA (lock held): final counts, or guesses. */
static size_t expected_reps(const struct run *r)
{
    size_t mean = r->target_pts ? r->target_reps / r->target_pts : 0;
    double total = 0;

    for (size_t p = 0; p < r->plan->npoints; p++) {
        const struct run_point *pt = &r->pts[p];

        total += pt->decided ? (double)pt->nreps : guess_reps(pt, mean);
    }
    return (size_t)ceil(total);
}

static void report_progress(struct run *r)
{
    const struct sweep_point *pt = &r->plan->points[r->started_point];

    progress_set_total(&r->progress, expected_reps(r));
    progress_update(&r->progress, r->points_done, r->rows_done, pt->index,
                    pt->label ? pt->label : "");
}

static void *worker(void *arg)
{
    struct run *r = arg;
    struct hist *scratch = xcalloc(r->model->nseries, sizeof *scratch);
    double *row = xcalloc(r->model->nmetrics, sizeof *row);
    struct out_buf trace;
    size_t p;
    uint32_t rep;
    int got;

    out_buf_init(&trace);
    pthread_mutex_lock(&r->lock);
    while ((got = take_job(r, &p, &rep)) != JOB_NONE) {
        struct err e;
        int rc;

        if (got == JOB_WAIT) {
            pthread_cond_wait(&r->work, &r->lock);
            continue;
        }
        pthread_mutex_unlock(&r->lock);
        err_clear(&e);
        rc = run_job(r, p, rep, row, scratch, &trace, &e);
        pthread_mutex_lock(&r->lock);
        if (rc != 0) {
            job_failed(r, p, rep, &e);
            pthread_cond_broadcast(&r->work);
            continue;
        }
        finish_job(r, p, rep, row, scratch, &trace);
    }
    r->running--;
    pthread_cond_broadcast(&r->work); /* whoever waits: the run may be over */
    pthread_cond_signal(&r->tick);
    pthread_mutex_unlock(&r->lock);
    out_buf_fini(&trace);
    free(row);
    free(scratch);
    return NULL;
}

/* The calling thread: progress every PROGRESS_TICK_S, and the stop request (lock held). */
static void monitor(struct run *r)
{
    struct timespec ts;
    bool noted = false;

    while (r->running > 0) {
        if (r->stop && *r->stop && !noted) {
            r->stopped = noted = true;
            progress_note(&r->progress, "interrupted: finishing the replications in progress "
                                        "(interrupt again to quit at once)");
            pthread_cond_broadcast(&r->work);
        }
        report_progress(r);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)(PROGRESS_TICK_S * 1e9);
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&r->tick, &r->lock, &ts);
    }
    report_progress(r);
}

/*
 * min(jobs, replications) worker threads, the calling thread monitoring; if
 * no thread can be created, the calling thread works alone (no ticking).
 * The workers are created with every signal blocked, so a signal handler
 * runs on the calling thread, the only one that reads opt->stop: a handler's
 * volatile sig_atomic_t is well-defined only in the thread it interrupted.
 */
static void run_all(struct run *r, unsigned jobs)
{
    size_t n = jobs < r->nrows ? jobs : r->nrows;
    pthread_t *threads = xcalloc(n, sizeof *threads);
    size_t started = 0;
    sigset_t all, old;

    assert(jobs >= 1);
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_mutex_lock(&r->lock);
    r->running = n;
    for (size_t i = 0; i < n; i++) {
        if (pthread_create(&threads[started], NULL, worker, r) == 0) {
            started++;
        } else {
            r->running--;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started > 0) {
        monitor(r);
    }
    pthread_mutex_unlock(&r->lock);
    if (started == 0) {
        r->running = 1;
        r->solo = true;
        worker(r);
    }
    for (size_t i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    free(threads);
}

/* ---- the files ---- */

/* name + suffix as one CSV header cell, preceded by a comma. */
static void header_cell(struct out_buf *b, const char *name, const char *suffix)
{
    struct out_buf cell;

    out_buf_init(&cell);
    out_buf_puts(&cell, name);
    out_buf_puts(&cell, suffix);
    out_buf_puts(b, ",");
    out_csv_text(b, cell.data);
    out_buf_fini(&cell);
}

static void csv_header(const struct run *r, struct out_buf *b, int per_rep)
{
    const struct sweep_plan *plan = r->plan;

    out_buf_puts(b, per_rep ? "point,replication" : "point");
    if (plan->has_variants) {
        out_buf_puts(b, ",variant");
    }
    for (size_t c = 0; c < plan->ncolumns; c++) {
        header_cell(b, plan->columns[c], "");
        if (plan->column_is_duration[c]) {
            header_cell(b, plan->columns[c], "_ms");
        }
    }
    for (size_t k = 0; k < r->model->nmetrics; k++) {
        header_cell(b, r->model->metrics[k].name, "");
        if (!per_rep && r->model->metrics[k].agg == RUNNER_AGG_MEAN) {
            header_cell(b, r->model->metrics[k].name, "_ci");
        }
    }
    if (!per_rep) { /* after every metric: appended to the contract, never moving a column */
        out_buf_puts(b, ",replications,precision_reached,precision_met");
    }
    out_buf_puts(b, "\n");
}

/* ",replications,precision_reached,precision_met": the last two empty without a target. */
static void precision_cells(const struct run_point *pt, struct out_buf *b)
{
    out_buf_printf(b, ",%" PRIu32 ",", pt->nreps);
    if (pt->has_target && isfinite(pt->reached)) {
        out_csv_num(b, pt->reached);
    }
    out_buf_puts(b, pt->has_target ? (pt->met ? ",1" : ",0") : ",");
}

/* One aggregated metric of a point: ",mean,ci" or ",max". */
static void agg_cells(const struct run *r, const struct run_point *pt, size_t k, double *x,
                      struct out_buf *b)
{
    size_t nm = r->model->nmetrics;
    double mean, ci;

    for (uint32_t i = 0; i < pt->nreps; i++) {
        x[i] = pt->rows[i * nm + k];
    }
    out_buf_puts(b, ",");
    switch (r->model->metrics[k].agg) {
    case RUNNER_AGG_MEAN:
        stat_agg_mean(x, pt->nreps, &mean, &ci);
        out_csv_num(b, mean);
        out_buf_puts(b, ",");
        out_csv_num(b, ci);
        break;
    case RUNNER_AGG_MAX:
        out_csv_num(b, stat_agg_max(x, pt->nreps));
        break;
    }
}

static void points_csv(const struct run *r, struct out_buf *b)
{
    uint32_t most = 1;
    double *x;

    for (size_t p = 0; p < r->plan->npoints; p++) {
        most = r->pts[p].nreps > most ? r->pts[p].nreps : most;
    }
    x = xcalloc(most, sizeof *x);
    csv_header(r, b, 0);
    for (size_t p = 0; p < r->plan->npoints; p++) {
        if (!r->pts[p].complete) {
            continue; /* an interrupted run keeps its complete points only */
        }
        out_buf_printf(b, "%zu", r->plan->points[p].index);
        out_buf_put(b, r->pts[p].cells.data, r->pts[p].cells.len);
        for (size_t k = 0; k < r->model->nmetrics; k++) {
            agg_cells(r, &r->pts[p], k, x, b);
        }
        precision_cells(&r->pts[p], b);
        out_buf_puts(b, "\n");
    }
    free(x);
}

static void replications_csv(const struct run *r, struct out_buf *b)
{
    size_t nm = r->model->nmetrics;

    csv_header(r, b, 1);
    for (size_t p = 0; p < r->plan->npoints; p++) {
        const struct run_point *pt = &r->pts[p];

        for (uint32_t i = 0; pt->complete && i < pt->nreps; i++) {
            out_buf_printf(b, "%zu,%" PRIu32, r->plan->points[p].index, i + 1);
            out_buf_put(b, pt->cells.data, pt->cells.len);
            for (size_t k = 0; k < nm; k++) {
                out_buf_puts(b, ",");
                out_csv_num(b, pt->rows[i * nm + k]);
            }
            out_buf_puts(b, "\n");
        }
    }
}

/* Every replication's rows, by point then replication, whichever thread ran them. */
static void trace_csv(const struct run *r, struct out_buf *b)
{
    out_buf_printf(b, "point,replication,%s\n", r->model->trace_columns);
    for (size_t p = 0; p < r->plan->npoints; p++) {
        const struct run_point *pt = &r->pts[p];

        for (uint32_t i = 0; pt->complete && i < pt->nreps; i++) {
            out_buf_put(b, pt->traces[i].data, pt->traces[i].len);
        }
    }
}

static void histograms_csv(const struct run *r, struct out_buf *b)
{
    out_buf_puts(b, "point,series,le_ms,count\n");
    for (size_t p = 0; p < r->plan->npoints; p++) {
        out_buf_put(b, r->pts[p].hist_rows.data, r->pts[p].hist_rows.len);
    }
}

/* Print a tree (borrowed), or null. */
static void print_tree(struct out_buf *b, struct cJSON *tree)
{
    char *text;

    if (!tree) {
        out_buf_puts(b, "null");
        return;
    }
    text = json_print(tree);
    out_buf_puts(b, text);
    free(text);
}

/* One element of summary.json's "points", on one line. */
static void point_json(const struct run *r, size_t p, struct out_buf *b)
{
    const struct sweep_point *sp = &r->plan->points[p];
    const struct run_point *pt = &r->pts[p];
    struct cJSON *config = r->model->point_resolved(pt->cfg), *sources;

    out_buf_printf(b, "    {\"point\": %zu, \"variant\": ", sp->index);
    out_json_str(b, sp->variant);
    out_buf_puts(b, ", \"label\": ");
    out_json_str(b, sp->label ? sp->label : "");
    out_buf_printf(b, ", \"replications\": %" PRIu32 ", \"seed\": %" PRIu64 ", \"overrides\": [",
                   pt->nreps, r->model->point_seed(pt->cfg));
    for (size_t i = 0; i < sp->noverrides; i++) {
        out_buf_puts(b, i ? ", {\"path\": " : "{\"path\": ");
        out_json_str(b, sp->overrides[i].path);
        out_buf_printf(b, ", \"source\": \"%s\"}", sweep_source_name(sp->overrides[i].source));
    }
    out_buf_puts(b, "], \"config\": ");
    print_tree(b, config);
    out_buf_puts(b, ", \"sources\": ");
    sources = config ? sweep_sources(r->plan, sp, config) : NULL;
    print_tree(b, sources);
    json_free(sources);
    json_free(config);
    out_buf_puts(b, "}");
}

static void summary_json(const struct run *r, const struct runner_options *opt, double start_s,
                         struct out_buf *b)
{
    out_buf_puts(b, "{\n  \"poolsim_version\": ");
    out_json_str(b, opt->version ? opt->version : "");
    out_buf_puts(b, ",\n  \"file\": ");
    out_json_str(b, opt->file ? opt->file : "");
    out_buf_printf(b,
                   ",\n  \"shard\": {\"k\": %u, \"n\": %u, \"points_total\": %zu, "
                   "\"fingerprint\": \"%016" PRIx64 "\"}",
                   opt->shard_n ? opt->shard_k : 1, opt->shard_n ? opt->shard_n : 1,
                   r->points_total, r->fingerprint);
    out_buf_puts(b, ",\n  \"points\": [");
    for (size_t p = 0, n = 0; p < r->plan->npoints; p++) {
        if (r->pts[p].complete) {
            out_buf_puts(b, n++ ? ",\n" : "\n");
            point_json(r, p, b);
        }
    }
    /* The only value that differs between two runs of the same file. */
    out_buf_printf(b, "\n  ],\n  \"wall_time_s\": %.3f,\n  \"partial\": %s\n}\n",
                   progress_now_s() - start_s,
                   r->points_done < r->plan->npoints ? "true" : "false");
}

/* All four under temporary names first, then the renames: never a half set of new files. */
static int write_outputs(const struct run *r, const struct runner_options *opt, double start_s,
                         struct err *e)
{
    struct out_buf bufs[OUT_NFILES];
    size_t nfiles = r->tracing ? OUT_NFILES : OUT_TRACE, written = 0;
    int rc = 0;

    for (size_t i = 0; i < OUT_NFILES; i++) {
        out_buf_init(&bufs[i]);
    }
    points_csv(r, &bufs[OUT_POINTS]);
    replications_csv(r, &bufs[OUT_REPLICATIONS]);
    histograms_csv(r, &bufs[OUT_HISTOGRAMS]);
    summary_json(r, opt, start_s, &bufs[OUT_SUMMARY]);
    if (r->tracing) {
        trace_csv(r, &bufs[OUT_TRACE]);
    }
    while (written < nfiles && rc == 0) {
        rc = out_write_tmp(opt->out_dir, out_names[written], &bufs[written], e);
        written += rc == 0;
    }
    for (size_t i = 0; i < written; i++) {
        if (rc == 0) {
            rc = out_commit(opt->out_dir, out_names[i], e);
        }
        if (rc != 0) {
            out_discard(opt->out_dir, out_names[i]);
        }
    }
    for (size_t i = 0; i < OUT_NFILES; i++) {
        out_buf_fini(&bufs[i]);
    }
    return rc;
}

/* ---- the whole run ---- */

static void run_fini(struct run *r)
{
    for (size_t p = 0; p < r->plan->npoints; p++) {
        if (r->pts[p].cfg) {
            r->model->point_free(r->pts[p].cfg);
        }
        free(r->pts[p].hists);
        free(r->pts[p].rows);
        for (uint32_t i = 0; r->pts[p].traces && i < r->pts[p].cap; i++) {
            out_buf_fini(&r->pts[p].traces[i]);
        }
        free(r->pts[p].traces);
        out_buf_fini(&r->pts[p].hist_rows);
        out_buf_fini(&r->pts[p].cells);
    }
    free(r->pts);
    free(r->view.points);
    pthread_cond_destroy(&r->tick);
    pthread_cond_destroy(&r->work);
    pthread_mutex_destroy(&r->lock);
}

/* The monitor's timed wait reads the monotonic clock, as progress does. */
static void run_sync_init(struct run *r)
{
    pthread_condattr_t attr;

    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->work, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->tick, &attr);
    pthread_condattr_destroy(&attr);
}

/* "interrupted: kept 12 of 40 points ..." in e, for main to print. */
static void interrupted(const struct run *r, const struct runner_options *opt, struct err *e)
{
    err_clear(e);
    err_set_file(e, opt->file);
    err_set(e,
            "interrupted: kept the %zu complete point%s of %zu in \"%s\" (summary.json says "
            "\"partial\": true)",
            r->points_done, r->points_done == 1 ? "" : "s", r->plan->npoints, opt->out_dir);
}

int runner_run(const struct runner_model *model, const struct sweep_plan *plan,
               const struct runner_options *opt, struct err *e)
{
    double start_s = progress_now_s();
    struct run r;
    int rc = 0;
    bool existed;

    memset(&r, 0, sizeof r);
    r.model = model;
    r.plan = plan;
    r.pts = xcalloc(plan->npoints, sizeof *r.pts);
    r.stop = opt->stop;
    run_sync_init(&r);
    if (build_points(&r, opt->file, opt->base_dir, e) != 0) {
        rc = 1;
        goto out;
    }
    keep_shard(&r, opt->shard_k, opt->shard_n);
    existed = access(opt->out_dir, F_OK) == 0;
    if (out_mkdir_p(opt->out_dir, e) != 0) {
        rc = 2;
        goto out;
    }
    for (size_t p = 0; p < r.plan->npoints; p++) {
        point_cells(r.plan, p, &r.pts[p].cells);
    }
    r.tracing = opt->trace > 0 && model->run_traced;
    r.ntrace = opt->trace;
    progress_init(&r.progress, stderr, opt->quiet, opt->progress_tty, r.plan->npoints, r.nrows);
    run_all(&r, opt->jobs);
    progress_fini(&r.progress);
    if (r.failed) {
        *e = r.failure;
        snprintf(e->path, sizeof e->path, "replication %" PRIu32, r.failed_rep);
        sweep_point_error(r.plan, r.failed_point, opt->file, e);
        if (!existed) {
            rmdir(opt->out_dir); /* created for this run and still empty: leave nothing */
        }
        rc = 1;
        goto out;
    }
    rc = write_outputs(&r, opt, start_s, e) == 0 ? 0 : 2;
    if (rc == 0 && r.points_done < r.plan->npoints) {
        interrupted(&r, opt, e);
        rc = RUNNER_INTERRUPTED;
    }
out:
    run_fini(&r);
    return rc;
}

/* ---- one point in memory: runner_eval ---- */

struct eval {
    const struct runner_model *model; /* borrowed */
    const void *cfg;                  /* borrowed */
    uint32_t first, last;             /* replications to run */
    double *rows;                     /* (last - first + 1) x nmetrics (borrowed) */
    pthread_mutex_t lock;             /* guards the fields below */
    uint32_t next;                    /* the next replication to hand out */
    bool failed;
    uint32_t failed_rep; /* the lowest replication that failed */
    struct err failure;  /* its message */
};

static void *eval_worker(void *arg)
{
    struct eval *v = arg;
    const struct runner_model *m = v->model;
    struct hist *scratch = xcalloc(m->nseries, sizeof *scratch);

    pthread_mutex_lock(&v->lock);
    while (v->next <= v->last && !v->failed) {
        uint32_t rep = v->next++;
        double *row = v->rows + (size_t)(rep - v->first) * m->nmetrics;
        struct err e;
        int rc;

        pthread_mutex_unlock(&v->lock);
        for (size_t k = 0; k < m->nmetrics; k++) {
            row[k] = NAN;
        }
        for (size_t s = 0; s < m->nseries; s++) {
            hist_init(&scratch[s]);
        }
        err_clear(&e);
        rc = m->run(v->cfg, rep, row, scratch, &e);
        pthread_mutex_lock(&v->lock);
        if (rc != 0 && (!v->failed || rep < v->failed_rep)) {
            v->failed = true;
            v->failed_rep = rep;
            v->failure = e;
        }
    }
    pthread_mutex_unlock(&v->lock);
    free(scratch);
    return NULL;
}

int runner_eval(const struct runner_model *model, const void *cfg, uint32_t first, uint32_t last,
                unsigned jobs, double *rows, struct err *e)
{
    struct eval v;
    size_t n = last - first + 1;
    size_t extra = (jobs < n ? jobs : n) - 1;
    pthread_t *threads = xcalloc(extra + 1, sizeof *threads);
    size_t started = 0;

    assert(first >= 1 && first <= last && jobs >= 1);
    memset(&v, 0, sizeof v);
    v.model = model;
    v.cfg = cfg;
    v.first = v.next = first;
    v.last = last;
    v.rows = rows;
    pthread_mutex_init(&v.lock, NULL);
    for (size_t i = 0; i < extra; i++) {
        started += pthread_create(&threads[started], NULL, eval_worker, &v) == 0;
    }
    eval_worker(&v);
    for (size_t i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    free(threads);
    pthread_mutex_destroy(&v.lock);
    if (v.failed) {
        *e = v.failure;
        snprintf(e->path, sizeof e->path, "replication %" PRIu32, v.failed_rep);
    }
    return v.failed ? -1 : 0;
}

/*
 * runner.c - every point of a sweep plan, R replications each, on N threads,
 * aggregated and written (DESIGN.md §2 "Runner", §5, §6; see runner.h).
 *
 * Order of work: all points are built (and so validated) first; then the
 * output directory is created; then (point, replication) jobs are handed
 * out in run order from one cursor under one mutex; then the four files (five
 * with a trace) are written under temporary names and renamed only when all
 * are written.  A traced job appends its trace.csv rows to its own buffer;
 * trace.csv is those buffers in (point, replication) order.
 *
 * Determinism: a job writes only its own row of the metrics table, and a
 * point's histograms are merged by adding integer counts, so neither the
 * number of threads nor the order in which jobs finish can change a byte of
 * the CSV files.  (The merged hist.sum is a double whose value may depend on
 * the merge order; it is never written.)  Memory: a point's dense histograms
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

struct run_point {
    void *cfg;                /* from model->point_new (owned) */
    uint32_t nreps;           /* replications of this point */
    size_t first_row;         /* row of replication 1 in run.metrics */
    uint32_t reps_done;       /* replications merged (guarded by run.lock) */
    struct hist *hists;       /* nseries merged so far, while in flight (owned) */
    struct out_buf hist_rows; /* its histograms.csv rows, once complete */
    struct out_buf cells;     /* ",variant,swept values" as CSV cells */
};

struct run {
    const struct runner_model *model; /* borrowed */
    const struct sweep_plan *plan;    /* borrowed */
    struct run_point *pts;            /* plan->npoints (owned) */
    size_t nrows;                     /* replications over all points */
    double *metrics;                  /* nrows x nmetrics (owned) */
    struct out_buf *traces;           /* nrows: each replication's trace rows; NULL = no trace */
    uint64_t ntrace;                  /* requests traced per replication */
    pthread_mutex_t lock;             /* guards the fields below and each reps_done/hists */
    size_t next_point;                /* the next job is (next_point, last_rep + 1) */
    uint32_t last_rep;                /* replications of next_point handed out */
    size_t started_point;             /* point of the job most recently handed out */
    size_t points_done, rows_done;    /* progress */
    struct progress progress;
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
        pt->first_row = r->nrows;
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
        pt.first_row = r->nrows;
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

/* Hand out the next job (lock held).  Returns 0 when none is left. */
static int take_job(struct run *r, size_t *p, uint32_t *rep)
{
    struct run_point *pt;

    if (r->next_point == r->plan->npoints || r->failed) {
        return 0;
    }
    *p = r->next_point;
    pt = &r->pts[*p];
    *rep = ++r->last_rep;
    if (*rep == pt->nreps) {
        r->next_point++;
        r->last_rep = 0;
    }
    if (*rep == 1) {
        pt->hists = xcalloc(r->model->nseries, sizeof *pt->hists);
        for (size_t s = 0; s < r->model->nseries; s++) {
            hist_init(&pt->hists[s]);
        }
    }
    r->started_point = *p;
    return 1;
}

/* The same, traced: the rows go to the job's own buffer, prefixed with its point and replication.
 */
static int run_traced_job(struct run *r, size_t p, uint32_t rep, double *row, struct hist *scratch,
                          struct err *e)
{
    char prefix[64];

    snprintf(prefix, sizeof prefix, "%zu,%" PRIu32 ",", r->plan->points[p].index, rep);
    return r->model->run_traced(r->pts[p].cfg, rep, r->ntrace, prefix, row, scratch,
                                &r->traces[r->pts[p].first_row + rep - 1], e);
}

/* Replication rep of point p into its own metrics row and the worker's scratch histograms. */
static int run_job(struct run *r, size_t p, uint32_t rep, struct hist *scratch, struct err *e)
{
    const struct runner_model *m = r->model;
    double *row = r->metrics + (r->pts[p].first_row + rep - 1) * m->nmetrics;

    for (size_t k = 0; k < m->nmetrics; k++) {
        row[k] = NAN;
    }
    for (size_t s = 0; s < m->nseries; s++) {
        hist_init(&scratch[s]);
    }
    if (r->traces) {
        return run_traced_job(r, p, rep, row, scratch, e);
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

/* Merge a finished job (lock held); the point's last replication turns it into rows. */
static void finish_job(struct run *r, size_t p, const struct hist *scratch)
{
    struct run_point *pt = &r->pts[p];

    for (size_t s = 0; s < r->model->nseries; s++) {
        hist_merge(&pt->hists[s], &scratch[s]);
    }
    r->rows_done++;
    if (++pt->reps_done == pt->nreps) {
        hist_rows(r, pt, r->plan->points[p].index);
        free(pt->hists);
        pt->hists = NULL;
        r->points_done++;
    }
}

static void report_progress(struct run *r)
{
    const struct sweep_point *pt = &r->plan->points[r->started_point];

    progress_update(&r->progress, r->points_done, r->rows_done, pt->index,
                    pt->label ? pt->label : "");
}

static void *worker(void *arg)
{
    struct run *r = arg;
    struct hist *scratch = xcalloc(r->model->nseries, sizeof *scratch);
    size_t p;
    uint32_t rep;

    pthread_mutex_lock(&r->lock);
    while (take_job(r, &p, &rep)) {
        struct err e;
        int rc;

        report_progress(r);
        pthread_mutex_unlock(&r->lock);
        err_clear(&e);
        rc = run_job(r, p, rep, scratch, &e);
        pthread_mutex_lock(&r->lock);
        if (rc != 0) {
            job_failed(r, p, rep, &e);
            continue;
        }
        finish_job(r, p, scratch);
        report_progress(r);
    }
    pthread_mutex_unlock(&r->lock);
    free(scratch);
    return NULL;
}

/* The calling thread works too; a thread that cannot be created only means fewer workers. */
static void run_all(struct run *r, unsigned jobs)
{
    size_t n = jobs < r->nrows ? jobs : r->nrows;
    size_t extra = n > 1 ? n - 1 : 0;
    pthread_t *threads = xcalloc(extra, sizeof *threads);
    size_t started = 0;

    assert(jobs >= 1);
    for (size_t i = 0; i < extra; i++) {
        if (pthread_create(&threads[started], NULL, worker, r) == 0) {
            started++;
        }
    }
    worker(r);
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
    out_buf_puts(b, "\n");
}

/* One aggregated metric of a point: ",mean,ci" or ",max". */
static void agg_cells(const struct run *r, const struct run_point *pt, size_t k, double *x,
                      struct out_buf *b)
{
    size_t nm = r->model->nmetrics;
    double mean, ci;

    for (uint32_t i = 0; i < pt->nreps; i++) {
        x[i] = r->metrics[(pt->first_row + i) * nm + k];
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
        out_buf_printf(b, "%zu", r->plan->points[p].index);
        out_buf_put(b, r->pts[p].cells.data, r->pts[p].cells.len);
        for (size_t k = 0; k < r->model->nmetrics; k++) {
            agg_cells(r, &r->pts[p], k, x, b);
        }
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

        for (uint32_t i = 0; i < pt->nreps; i++) {
            out_buf_printf(b, "%zu,%" PRIu32, r->plan->points[p].index, i + 1);
            out_buf_put(b, pt->cells.data, pt->cells.len);
            for (size_t k = 0; k < nm; k++) {
                out_buf_puts(b, ",");
                out_csv_num(b, r->metrics[(pt->first_row + i) * nm + k]);
            }
            out_buf_puts(b, "\n");
        }
    }
}

/* Every replication's rows, by point then replication, whichever thread ran them. */
static void trace_csv(const struct run *r, struct out_buf *b)
{
    out_buf_printf(b, "point,replication,%s\n", r->model->trace_columns);
    for (size_t i = 0; i < r->nrows; i++) {
        out_buf_put(b, r->traces[i].data, r->traces[i].len);
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
    for (size_t p = 0; p < r->plan->npoints; p++) {
        out_buf_puts(b, p ? ",\n" : "\n");
        point_json(r, p, b);
    }
    /* The only value that differs between two runs of the same file. */
    out_buf_printf(b, "\n  ],\n  \"wall_time_s\": %.3f,\n  \"partial\": false\n}\n",
                   progress_now_s() - start_s);
}

/* All four under temporary names first, then the renames: never a half set of new files. */
static int write_outputs(const struct run *r, const struct runner_options *opt, double start_s,
                         struct err *e)
{
    struct out_buf bufs[OUT_NFILES];
    size_t nfiles = r->traces ? OUT_NFILES : OUT_TRACE, written = 0;
    int rc = 0;

    for (size_t i = 0; i < OUT_NFILES; i++) {
        out_buf_init(&bufs[i]);
    }
    points_csv(r, &bufs[OUT_POINTS]);
    replications_csv(r, &bufs[OUT_REPLICATIONS]);
    histograms_csv(r, &bufs[OUT_HISTOGRAMS]);
    summary_json(r, opt, start_s, &bufs[OUT_SUMMARY]);
    if (r->traces) {
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
        out_buf_fini(&r->pts[p].hist_rows);
        out_buf_fini(&r->pts[p].cells);
    }
    free(r->pts);
    free(r->view.points);
    free(r->metrics);
    for (size_t i = 0; r->traces && i < r->nrows; i++) {
        out_buf_fini(&r->traces[i]);
    }
    free(r->traces);
    pthread_mutex_destroy(&r->lock);
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
    pthread_mutex_init(&r.lock, NULL);
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
    r.metrics = xcalloc(r.nrows * model->nmetrics, sizeof *r.metrics);
    if (opt->trace > 0 && model->run_traced) {
        r.ntrace = opt->trace;
        r.traces = xcalloc(r.nrows, sizeof *r.traces);
        for (size_t i = 0; i < r.nrows; i++) {
            out_buf_init(&r.traces[i]);
        }
    }
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

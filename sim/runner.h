/*
 * runner.h - points x replications, in parallel, aggregated and written
 * (DESIGN.md §2 "Runner", §5 "Outputs", §6 determinism).
 *
 * The runner knows nothing of databases: a model describes itself through
 * struct runner_model (its metric columns, its histogram series, and how to
 * build a point from a resolved experiment document and run one replication
 * of it).  The runner
 *   1. builds every point first (struct runner_point from sweep.h's plan),
 *      so that an invalid point stops the run before anything runs; the
 *      error names the point: `point 7 (variant "tx", workload.users=50): ...`;
 *   2. runs the (point, replication) jobs on `jobs` threads; a replication is
 *      a pure function of (point config, replication number), so the output
 *      is byte-identical for any number of jobs;
 *   3. aggregates per point (mean and 95% Student-t half-width, or maximum:
 *      runner_agg), merges histograms over replications, and writes
 *      points.csv, replications.csv, histograms.csv and summary.json (and,
 *      with runner_options.trace, trace.csv: the rows of every replication,
 *      by point then replication) under temporary names, renamed into place
 *      only when complete.
 * With a shard (runner_options.shard_k/shard_n) step 1 still builds every
 * point, steps 2 and 3 keep only the shard's; summary.json's "shard" record
 * ({"k", "n", "points_total", "fingerprint"}: a hash of every point's
 * label, seed, replications and resolved configuration) lets sim/merge.c
 * check that shards belong to the same run.
 * A point with a precision target (point_precision) gets replications added
 * one at a time until its metric is precise enough; the decision to add one
 * reads only the replications before it, so the count is deterministic too.
 * A stop request (opt->stop, set by SIGINT/SIGTERM) ends the run early: the
 * replications in progress finish, and the points complete by then are
 * written, marked partial.
 */
#ifndef POOLSIM_SIM_RUNNER_H
#define POOLSIM_SIM_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/err.h"
#include "sim/hist.h"

struct cJSON;
struct out_buf;
struct sweep_plan;

enum runner_agg {
    RUNNER_AGG_MEAN, /* mean over replications, plus a <name>_ci column */
    RUNNER_AGG_MAX,  /* maximum over replications, no _ci column (*_max_ms, *_peak) */
};

struct runner_metric {
    const char *name; /* CSV column, with its unit: "latency_p99_ms" */
    enum runner_agg agg;
};

/*
 * A point's precision target (experiments/README.md, "precision"): after each
 * replication n >= point_replications(), if the 95% half-width of metric's
 * mean over replications 1..n, divided by |mean|, is above relative and n <
 * max_replications, replication n + 1 is run.  Replications where the metric
 * does not apply (NAN) are skipped as in the mean; if it applies in none of
 * 1..n the point stops (precision not met); if in one, it goes on.
 */
struct runner_precision {
    size_t metric;             /* index into metrics: a RUNNER_AGG_MEAN column */
    double relative;           /* target half-width / |mean|, in (0, 1) */
    uint32_t max_replications; /* >= point_replications(), which is >= 2 */
};

/* runner_run's status when a stop request ended the run (DESIGN.md §5: exit 130). */
#define RUNNER_INTERRUPTED 130

struct runner_model {
    size_t nmetrics;
    const struct runner_metric *metrics; /* column order of the CSV files */
    size_t nseries;
    const char *const *series; /* histogram series names: "requests", "ok", ... */

    /*
     * Build a point's configuration from its resolved document (borrowed;
     * keys "sweep" and "variants" already removed).  base_dir resolves
     * relative file names.  Returns an object the runner owns (freed with
     * point_free), or NULL with e set (path and message; the runner adds the
     * file name and the point label).
     */
    void *(*point_new)(const struct cJSON *doc, const char *base_dir, struct err *e);
    void (*point_free)(void *cfg);
    /* Replications to run for this point (>= 1) and its seed. */
    uint32_t (*point_replications)(const void *cfg);
    uint64_t (*point_seed)(const void *cfg);
    /*
     * The resolved configuration, defaults included, for summary.json.
     * Caller owns the result (a cJSON tree).
     */
    struct cJSON *(*point_resolved)(const void *cfg);
    /*
     * Run replication rep (1-based) of cfg: fill metrics[nmetrics] (NAN =
     * does not apply) and hists[nseries] (already hist_init'ed).  Must be a
     * pure function of (cfg, rep) and thread-safe for distinct calls.
     * Returns 0, or -1 with e's message set when the replication cannot be
     * completed (a zero-time loop): the run then stops and writes nothing.
     */
    int (*run)(const void *cfg, uint32_t rep, double *metrics, struct hist *hists, struct err *e);
    /*
     * Optional (NULL: the model cannot trace; --trace then writes nothing).
     * The same replication as run, with the same metrics (tracing only
     * observes), that also appends the trace of its first ntrace sampled
     * requests to rows: whole CSV lines, each starting with prefix (borrowed:
     * the "point,replication," cells) followed by the trace_columns cells,
     * in a deterministic order.
     */
    const char *trace_columns; /* header cells after "point,replication," */
    int (*run_traced)(const void *cfg, uint32_t rep, uint64_t ntrace, const char *prefix,
                      double *metrics, struct hist *hists, struct out_buf *rows, struct err *e);
    /*
     * Optional (NULL: no point has one): true with *p filled when cfg has a
     * precision target; point_replications() is then the first count checked.
     */
    bool (*point_precision)(const void *cfg, struct runner_precision *p);
};

struct runner_options {
    const char *file;     /* the experiment file as named by the user (borrowed) */
    const char *base_dir; /* directory of the experiment file, for relative names */
    const char *out_dir;  /* output directory (created if missing) */
    unsigned jobs;        /* worker threads, >= 1 */
    bool quiet;           /* no progress on stderr */
    bool progress_tty;    /* stderr is a terminal: draw a bar, else plain lines */
    const char *version;  /* poolsim version string for summary.json */
    /*
     * Shard shard_k of shard_n (DESIGN.md §5): every point is built and
     * validated, but only those whose index mod shard_n is shard_k - 1 run
     * and are written, under their own index.  0/0 (or 1/1) runs them all.
     */
    unsigned shard_k, shard_n;
    uint64_t trace; /* --trace N: requests traced per replication into trace.csv; 0 = none */
    /* Optional (NULL: none): non-zero asks the run to stop (a signal handler's flag). */
    volatile sig_atomic_t *stop;
};

/*
 * Run every point of plan with model and write the outputs.
 * Returns 0 on success; 1 for an invalid experiment, or a replication that
 * could not complete (e set, nothing written); 2 for an I/O error (e set);
 * RUNNER_INTERRUPTED when *opt->stop ended the run (e says what was kept:
 * the complete points, in index order, with summary.json's "partial": true).
 */
int runner_run(const struct runner_model *model, const struct sweep_plan *plan,
               const struct runner_options *opt, struct err *e);

/*
 * Run replications first..last (1-based, first <= last) of one point, cfg
 * built by model->point_new, on `jobs` threads, in memory: the metrics of
 * replication r go to rows[(r - first) * nmetrics ...] (NAN = does not
 * apply); histograms are discarded and nothing is written.  For searches
 * (poolsim size) that add replications to a point until a decision is
 * clear.  Each row depends only on (cfg, r), so rows are identical for any
 * jobs.  Returns 0, or -1 with e set (the lowest replication that could not
 * complete, as "replication R: message").
 */
int runner_eval(const struct runner_model *model, const void *cfg, uint32_t first, uint32_t last,
                unsigned jobs, double *rows, struct err *e);

#endif

/*
 * check_runner.c - the runner's mechanism: exact bytes of the three CSV
 * files and of summary.json for a toy model, the same bytes for any number
 * of jobs, the invalid-point message with nothing written, I/O errors, and
 * the progress bar.
 *
 * The toy model's metrics are simple functions of (point, replication), so
 * every expected cell is computed by hand below.  Its point_new never reads
 * the document: the hand-built plan passes each point a struct toy_doc
 * through the opaque struct cJSON pointer, which the runner only forwards.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim/json.h"
#include "sim/progress.h"
#include "sim/runner.h"
#include "sim/sweep.h"
#include "sim/xalloc.h"
#include "tests/rig.h"
#include "tests/tests.h"

#define NPOINTS 4

struct toy_doc {
    size_t index;      /* point index */
    uint32_t nreps;    /* replications */
    int invalid;       /* 1: error with a path, 2: error without one */
    atomic_uint *runs; /* replications run, over the whole plan */
    /* Precision tests: a target when relative > 0; a = 100 +- 1 (odd/even rep) when alt. */
    double relative;
    uint32_t max_reps;
    size_t metric;
    int alt;
    int signal_at; /* 1: this point's replication 1 sends the process SIGUSR1 */
};

/* A signal handler's flag has to live at file scope (see sim/interrupt.c). */
static volatile sig_atomic_t toy_stop;

static void toy_on_signal(int sig)
{
    (void)sig;
    toy_stop = 1;
}

struct toy_cfg {
    const struct toy_doc *doc;
};

static const struct runner_metric toy_metrics[] = {
    {"a", RUNNER_AGG_MEAN},
    {"b_peak", RUNNER_AGG_MAX},
    {"c_ms", RUNNER_AGG_MEAN},
};
static const char *const toy_series[] = {"requests", "errors"};

static void *toy_point_new(const struct cJSON *doc, const char *base_dir, struct err *e)
{
    const struct toy_doc *d = (const struct toy_doc *)(const void *)doc;
    struct toy_cfg *cfg;

    ck_assert_str_eq(base_dir, "base");
    if (d->invalid == 1) {
        err_at(e, "$.pooler.pool_size", "must be at least 1 (got 0)");
        return NULL;
    }
    if (d->invalid == 2) {
        err_set(e, "no pooler for this point");
        return NULL;
    }
    cfg = xmalloc(sizeof *cfg);
    cfg->doc = d;
    return cfg;
}

static void toy_point_free(void *cfg)
{
    free(cfg);
}

static uint32_t toy_replications(const void *cfg)
{
    return ((const struct toy_cfg *)cfg)->doc->nreps;
}

static uint64_t toy_seed(const void *cfg)
{
    return 42 + ((const struct toy_cfg *)cfg)->doc->index;
}

/* Point 3 has a resolved configuration (printed by json_print); the others have none. */
static struct cJSON *toy_resolved(const void *cfg)
{
    if (((const struct toy_cfg *)cfg)->doc->index == 3) {
        return json_value_from_arg("{\"workload\": {\"users\": 20}}");
    }
    return NULL;
}

/*
 * a = 10 * point + rep; b_peak = a (max-aggregated); c_ms = rep / 2, except
 * "does not apply" everywhere in point 1 and in replication 2 of point 3.
 * requests: 1 ms and rep ms; errors: 500 ns (underflow) in point 0, one
 * HIST_HIGH_NS (overflow) in replication 1 of point 3.
 */
static int toy_run(const void *cfg, uint32_t rep, double *metrics, struct hist *hists,
                   struct err *e)
{
    const struct toy_doc *d = ((const struct toy_cfg *)cfg)->doc;

    atomic_fetch_add(d->runs, 1u);
    if (d->signal_at && rep == 1) {
        /* Delivered to the runner's calling thread (the workers block signals); it polls the
         * flag every 0.1 s, so this replication lasts four polls. */
        kill(getpid(), SIGUSR1);
        nanosleep(&(struct timespec){.tv_nsec = 400000000}, NULL);
    }
    if (d->invalid == 3 && rep == 2) {
        err_set(e, "stalled at 1 ns");
        return -1;
    }
    metrics[0] = (double)(10 * d->index + rep);
    metrics[1] = metrics[0];
    metrics[2] = (d->index == 1 || (d->index == 3 && rep == 2)) ? (double)NAN : rep * 0.5;
    if (d->alt) {
        metrics[0] = rep % 2 ? 101 : 99;
    }
    hist_add(&hists[0], SIM_MS(1));
    hist_add(&hists[0], SIM_MS(rep));
    if (d->index == 0) {
        hist_add(&hists[1], 500);
    }
    if (d->index == 3 && rep == 1) {
        hist_add(&hists[1], HIST_HIGH_NS);
    }
    return 0;
}

static bool toy_precision(const void *cfg, struct runner_precision *p)
{
    const struct toy_doc *d = ((const struct toy_cfg *)cfg)->doc;

    p->metric = d->metric;
    p->relative = d->relative;
    p->max_replications = d->max_reps;
    return d->relative > 0;
}

static const struct runner_model toy_model = {
    .nmetrics = 3,
    .metrics = toy_metrics,
    .nseries = 2,
    .series = toy_series,
    .point_new = toy_point_new,
    .point_free = toy_point_free,
    .point_replications = toy_replications,
    .point_seed = toy_seed,
    .point_resolved = toy_resolved,
    .run = toy_run,
    .point_precision = toy_precision,
};

/* 2 variants x "workload.users|network.app_pooler_rtt" zipped over 2 values (a duration). */
struct fixture {
    atomic_uint runs;
    struct toy_doc docs[NPOINTS];
    struct sweep_point points[NPOINTS];
    struct sweep_plan plan;
    char dir[64]; /* a fresh temporary directory */
};

static const char *const fx_variant[NPOINTS] = {"s,\"q\"", "s,\"q\"", "tx", "tx"};
static const char *const fx_users[NPOINTS] = {"10", "20", "10", "20"};
static const char *const fx_rtt[NPOINTS] = {"\"150ms\"", "\"0.5ms\"", "\"150ms\"", "\"0.5ms\""};
static const uint32_t fx_nreps[NPOINTS] = {3, 3, 1, 3};

static void fixture_point(struct fixture *fx, size_t i)
{
    struct sweep_point *pt = &fx->points[i];
    char label[256];
    size_t k = 0;

    fx->docs[i] = (struct toy_doc){.index = i, .nreps = fx_nreps[i], .runs = &fx->runs};
    pt->index = i;
    pt->variant = xstrdup(fx_variant[i]);
    pt->values = xcalloc(2, sizeof *pt->values);
    pt->values[0] = xstrdup(fx_users[i]);
    pt->values[1] = xstrdup(fx_rtt[i]);
    pt->doc = (struct cJSON *)(void *)&fx->docs[i];
    pt->overrides = xcalloc(3, sizeof *pt->overrides);
    if (i >= 2) {
        pt->overrides[k++] =
            (struct sweep_override){xstrdup("pooler.pool_mode"), SWEEP_SRC_VARIANT};
    }
    pt->overrides[k++] = (struct sweep_override){xstrdup("workload.users"), SWEEP_SRC_SWEEP};
    pt->overrides[k++] =
        (struct sweep_override){xstrdup("network.app_pooler_rtt"), SWEEP_SRC_SWEEP};
    pt->noverrides = k;
    snprintf(label, sizeof label, "variant \"%s\", workload.users=%s, network.app_pooler_rtt=%s",
             fx_variant[i], fx_users[i], fx_rtt[i]);
    pt->label = xstrdup(label);
}

static void fixture_init(struct fixture *fx)
{
    static const int is_duration[2] = {0, 1};

    memset(fx, 0, sizeof *fx);
    atomic_init(&fx->runs, 0u);
    for (size_t i = 0; i < NPOINTS; i++) {
        fixture_point(fx, i);
    }
    fx->plan.npoints = NPOINTS;
    fx->plan.points = fx->points;
    fx->plan.has_variants = 1;
    fx->plan.ncolumns = 2;
    fx->plan.columns = xcalloc(2, sizeof *fx->plan.columns);
    fx->plan.columns[0] = xstrdup("workload.users");
    fx->plan.columns[1] = xstrdup("network.app_pooler_rtt");
    fx->plan.column_is_duration = xcalloc(2, sizeof *fx->plan.column_is_duration);
    memcpy(fx->plan.column_is_duration, is_duration, sizeof is_duration);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/poolsim-check-runner-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(fx->dir));
}

static void fixture_fini(struct fixture *fx)
{
    for (size_t i = 0; i < fx->plan.npoints; i++) {
        struct sweep_point *pt = &fx->points[i];

        free(pt->variant);
        free(pt->values[0]);
        free(pt->values[1]);
        free(pt->values);
        for (size_t k = 0; k < pt->noverrides; k++) {
            free(pt->overrides[k].path);
        }
        free(pt->overrides);
        free(pt->label);
    }
    free(fx->plan.columns[0]);
    free(fx->plan.columns[1]);
    free(fx->plan.columns);
    free(fx->plan.column_is_duration);
    rig_remove_tree(fx->dir);
}

static struct runner_options options(const char *out_dir, unsigned jobs)
{
    return (struct runner_options){.file = "exp.json",
                                   .base_dir = "base",
                                   .out_dir = out_dir,
                                   .jobs = jobs,
                                   .quiet = true,
                                   .progress_tty = false,
                                   .version = "9.9.9-test"};
}

/* The whole file as a string (caller frees); NULL if it cannot be opened. */
static char *slurp(const char *dir, const char *name)
{
    char path[512];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = xcalloc((size_t)n + 1, 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

static int exists(const char *dir, const char *name)
{
    char path[512];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

/*
 * Hand computation.  a: 3 replications of x, x+1, x+2 have mean x+1, sd 1,
 * half-width t(0.975, 2) / sqrt(3) = 4.30265272974946 * 0.577350269189626
 * = 2.48413771175033.  c_ms in point 0: 0.5, 1, 1.5: mean 1, sd 0.5, half-width
 * 1.24206885587517.  c_ms in point 3: 0.5 and 1.5 (replication 2 skipped):
 * mean 1, sd 0.707106781186548, t(0.975, 1) = 12.7062047361747, half-width
 * 12.7062047361747 * 0.707106781186548 / sqrt(2) = 6.35310236808735.  Point 2
 * has R = 1: empty _ci.  A duration column: "150ms" -> 150, "0.5ms" -> 0.5.
 */
static const char expected_points[] =
    "point,variant,workload.users,network.app_pooler_rtt,network.app_pooler_rtt_ms,"
    "a,a_ci,b_peak,c_ms,c_ms_ci,replications,precision_reached,precision_met\n"
    "0,\"s,\"\"q\"\"\",10,150ms,150,2,2.48413771,3,1,1.24206886,3,,\n"
    "1,\"s,\"\"q\"\"\",20,0.5ms,0.5,12,2.48413771,13,,,3,,\n"
    "2,tx,10,150ms,150,21,,21,0.5,,1,,\n"
    "3,tx,20,0.5ms,0.5,32,2.48413771,33,1,6.35310237,3,,\n";

static const char expected_replications[] =
    "point,replication,variant,workload.users,network.app_pooler_rtt,"
    "network.app_pooler_rtt_ms,a,b_peak,c_ms\n"
    "0,1,\"s,\"\"q\"\"\",10,150ms,150,1,1,0.5\n"
    "0,2,\"s,\"\"q\"\"\",10,150ms,150,2,2,1\n"
    "0,3,\"s,\"\"q\"\"\",10,150ms,150,3,3,1.5\n"
    "1,1,\"s,\"\"q\"\"\",20,0.5ms,0.5,11,11,\n"
    "1,2,\"s,\"\"q\"\"\",20,0.5ms,0.5,12,12,\n"
    "1,3,\"s,\"\"q\"\"\",20,0.5ms,0.5,13,13,\n"
    "2,1,tx,10,150ms,150,21,21,0.5\n"
    "3,1,tx,20,0.5ms,0.5,31,31,0.5\n"
    "3,2,tx,20,0.5ms,0.5,32,32,\n"
    "3,3,tx,20,0.5ms,0.5,33,33,1.5\n";

/*
 * Buckets (hist.h: each octave [2^k, 2^(k+1)) ns cut into 64): 1 ms = 1e6 ns
 * lies in [2^19, 2^20), width 8192, sub-bucket 58, upper bound 524288 +
 * 59 * 8192 = 1007616 ns; 2 ms: [2^20, 2^21), width 16384, sub 58, bound
 * 2015232 ns; 3 ms: [2^21, 2^22), width 32768, sub 27, bound 3014656 ns.
 * Underflow: le = HIST_LOW_NS = 1024 ns; overflow: inf.  Point 0's 1 ms
 * bucket: 1 ms in each of 3 replications, plus replication 1's own 1 ms.
 */
static const char expected_histograms[] = "point,series,le_ms,count\n"
                                          "0,requests,1.007616,4\n"
                                          "0,requests,2.015232,1\n"
                                          "0,requests,3.014656,1\n"
                                          "0,errors,0.001024,3\n"
                                          "1,requests,1.007616,4\n"
                                          "1,requests,2.015232,1\n"
                                          "1,requests,3.014656,1\n"
                                          "2,requests,1.007616,2\n"
                                          "3,requests,1.007616,4\n"
                                          "3,requests,2.015232,1\n"
                                          "3,requests,3.014656,1\n"
                                          "3,errors,inf,1\n";

static const char expected_summary_head[] =
    "{\n"
    "  \"poolsim_version\": \"9.9.9-test\",\n"
    "  \"file\": \"exp.json\",\n"
    "  \"shard\": {\"k\": 1, \"n\": 1, \"points_total\": 4, \"fingerprint\": \"FP\"},\n"
    "  \"points\": [\n"
    "    {\"point\": 0, \"variant\": \"s,\\\"q\\\"\", \"label\": \"variant \\\"s,\\\"q\\\"\\\", "
    "workload.users=10, network.app_pooler_rtt=\\\"150ms\\\"\", \"replications\": 3, "
    "\"seed\": 42, \"overrides\": [{\"path\": \"workload.users\", \"source\": \"sweep\"}, "
    "{\"path\": \"network.app_pooler_rtt\", \"source\": \"sweep\"}], \"config\": null, "
    "\"sources\": null},\n";

static const char expected_summary_point3[] =
    "    {\"point\": 3, \"variant\": \"tx\", \"label\": \"variant \\\"tx\\\", "
    "workload.users=20, network.app_pooler_rtt=\\\"0.5ms\\\"\", \"replications\": 3, "
    "\"seed\": 45, \"overrides\": [{\"path\": \"pooler.pool_mode\", \"source\": \"variant\"}, "
    "{\"path\": \"workload.users\", \"source\": \"sweep\"}, "
    "{\"path\": \"network.app_pooler_rtt\", \"source\": \"sweep\"}], "
    "\"config\": {\"workload\":{\"users\":20}}, \"sources\": {\"workload.users\":\"sweep\"}}\n"
    "  ],\n"
    "  \"wall_time_s\": ";

static const char expected_summary_tail[] = ",\n  \"partial\": false\n}\n";

static void check_summary(const char *dir)
{
    char *s = slurp(dir, "summary.json");
    const char *p3, *tail, *fp, *s_fp;

    ck_assert_ptr_nonnull(s);
    /* The head, with the fingerprint's 16 hex digits where it says FP (check_merge tests it). */
    fp = strstr(expected_summary_head, "FP");
    ck_assert_int_eq(strncmp(s, expected_summary_head, (size_t)(fp - expected_summary_head)), 0);
    s_fp = s + (fp - expected_summary_head);
    ck_assert_uint_eq(strspn(s_fp, "0123456789abcdef"), 16);
    ck_assert_int_eq(strncmp(s_fp + 16, fp + 2, strlen(fp + 2)), 0);
    p3 = strstr(s, "    {\"point\": 3,");
    ck_assert_ptr_nonnull(p3);
    ck_assert_int_eq(strncmp(p3, expected_summary_point3, strlen(expected_summary_point3)), 0);
    /* wall_time_s: a number, then the fixed tail. */
    tail = p3 + strlen(expected_summary_point3) +
           strspn(p3 + strlen(expected_summary_point3), "0123456789.");
    ck_assert_str_eq(tail, expected_summary_tail);
    free(s);
}

static void check_csv(const char *dir, const char *name, const char *expected)
{
    char *s = slurp(dir, name);

    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, expected);
    free(s);
}

START_TEST(outputs_are_exact_for_any_number_of_jobs)
{
    static const unsigned jobs[] = {1, 3, 16};
    struct fixture fx;
    char out[128];
    struct err e;

    fixture_init(&fx);
    for (size_t j = 0; j < sizeof jobs / sizeof jobs[0]; j++) {
        struct runner_options opt;

        /* Two levels below the temporary directory: mkdir -p. */
        snprintf(out, sizeof out, "%s/j%u/out", fx.dir, jobs[j]);
        opt = options(out, jobs[j]);
        atomic_store(&fx.runs, 0u);
        ck_assert_int_eq(runner_run(&toy_model, &fx.plan, &opt, &e), 0);
        ck_assert_uint_eq(atomic_load(&fx.runs), 10);
        check_csv(out, "points.csv", expected_points);
        check_csv(out, "replications.csv", expected_replications);
        check_csv(out, "histograms.csv", expected_histograms);
        check_summary(out);
        ck_assert(!exists(out, ".points.csv.tmp") && !exists(out, ".summary.json.tmp"));
    }
    fixture_fini(&fx);
}
END_TEST

static void check_invalid(struct fixture *fx, const char *expected)
{
    char out[128], msg[2048];
    struct runner_options opt;
    struct err e;

    snprintf(out, sizeof out, "%s/out", fx->dir);
    opt = options(out, 2);
    ck_assert_int_eq(runner_run(&toy_model, &fx->plan, &opt, &e), 1);
    err_format(&e, msg, sizeof msg);
    ck_assert_str_eq(msg, expected);
    ck_assert_uint_eq(atomic_load(&fx->runs), 0);
    ck_assert(!exists(fx->dir, "out"));
}

START_TEST(invalid_point_is_named_and_nothing_runs_or_is_written)
{
    struct fixture fx;

    fixture_init(&fx);
    fx.docs[3].invalid = 1; /* the lowest invalid index is reported */
    fx.docs[2].invalid = 1;
    check_invalid(&fx, "exp.json: point 2 (variant \"tx\", workload.users=10, "
                       "network.app_pooler_rtt=\"150ms\"): $.pooler.pool_size: "
                       "must be at least 1 (got 0)");
    fx.docs[2].invalid = 2;
    check_invalid(&fx, "exp.json: point 2 (variant \"tx\", workload.users=10, "
                       "network.app_pooler_rtt=\"150ms\"): no pooler for this point");
    /* One point, no variants, no sweep: no "point 0 ()" in front. */
    fx.plan.npoints = 1;
    fx.plan.has_variants = 0;
    fx.plan.ncolumns = 0;
    fx.docs[0].invalid = 1;
    check_invalid(&fx, "exp.json: $.pooler.pool_size: must be at least 1 (got 0)");
    fx.plan.npoints = NPOINTS;
    fixture_fini(&fx);
}
END_TEST

/* A replication that cannot complete stops the run: named, exit 1, no file written. */
START_TEST(failed_replication_is_named_and_nothing_is_written)
{
    struct fixture fx;
    char out[128], msg[2048];
    struct runner_options opt;
    struct err e;

    fixture_init(&fx);
    fx.docs[3].invalid = 3; /* point 3 has 3 replications; the second fails */
    snprintf(out, sizeof out, "%s/out", fx.dir);
    for (unsigned jobs = 1; jobs <= 3; jobs += 2) {
        opt = options(out, jobs);
        ck_assert_int_eq(runner_run(&toy_model, &fx.plan, &opt, &e), 1);
        err_format(&e, msg, sizeof msg);
        ck_assert_str_eq(msg, "exp.json: point 3 (variant \"tx\", workload.users=20, "
                              "network.app_pooler_rtt=\"0.5ms\"): replication 2: stalled at 1 ns");
        ck_assert(!exists(out, "points.csv"));
        ck_assert(!exists(out, "summary.json"));
    }
    fixture_fini(&fx);
}
END_TEST

START_TEST(io_errors_return_2_and_leave_no_file)
{
    struct fixture fx;
    struct runner_options opt;
    char path[256], expected[512], msg[2048];
    struct err e;
    FILE *f;

    fixture_init(&fx);
    /* The output directory would be below a regular file. */
    snprintf(path, sizeof path, "%s/file", fx.dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/file/out", fx.dir);
    opt = options(path, 1);
    ck_assert_int_eq(runner_run(&toy_model, &fx.plan, &opt, &e), 2);
    err_format(&e, msg, sizeof msg);
    snprintf(expected, sizeof expected, "cannot create directory \"%s\": %s", path,
             strerror(ENOTDIR));
    ck_assert_str_eq(msg, expected);
    ck_assert_uint_eq(atomic_load(&fx.runs), 0);

    /* The third file cannot be written: none of the four appears, no temporary is left. */
    snprintf(path, sizeof path, "%s/out", fx.dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/out/.histograms.csv.tmp", fx.dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/out", fx.dir);
    opt = options(path, 2);
    ck_assert_int_eq(runner_run(&toy_model, &fx.plan, &opt, &e), 2);
    err_format(&e, msg, sizeof msg);
    snprintf(expected, sizeof expected, "cannot write \"%s/.histograms.csv.tmp\": %s", path,
             strerror(EISDIR));
    ck_assert_str_eq(msg, expected);
    ck_assert(!exists(path, "points.csv") && !exists(path, "replications.csv"));
    ck_assert(!exists(path, ".points.csv.tmp") && !exists(path, ".replications.csv.tmp"));
    ck_assert(!exists(path, "summary.json"));
    fixture_fini(&fx);
}
END_TEST

START_TEST(progress_bar_redraws_and_erases_itself)
{
    struct progress p;
    char buf[512];
    size_t n;
    FILE *f = tmpfile();
    static const char bar0[] = "\r[>                   ] 0/2 points  point 0 (a)  ETA ?";
    static const char bar1[] = "\r[====================] 2/2 points  point 1 (b)  ETA 0:00";

    ck_assert_ptr_nonnull(f);
    /* Quiet and plain-before-the-interval draw nothing. */
    progress_init(&p, f, true, true, 2, 4);
    progress_update(&p, 1, 2, 0, "a");
    progress_fini(&p);
    progress_init(&p, f, false, false, 2, 4);
    progress_update(&p, 1, 2, 0, "a");
    progress_fini(&p);
    ck_assert_int_eq(ftell(f), 0);
    /* Terminal: first draw at once, the last one when all is done, then erased. */
    progress_init(&p, f, false, true, 2, 4);
    progress_update(&p, 0, 0, 0, "a");
    progress_update(&p, 2, 4, 1, "b");
    progress_fini(&p);
    rewind(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    ck_assert_int_eq(strncmp(buf, bar0, strlen(bar0)), 0);
    ck_assert_int_eq(strncmp(buf + strlen(bar0), bar1, strlen(bar1)), 0);
    /* The erase: \r, as many spaces as the longest line, \r. */
    ck_assert_uint_eq(n, strlen(bar0) + 2 * strlen(bar1) + 1);
    ck_assert_int_eq(buf[n - 1], '\r');
    ck_assert_int_eq(buf[strlen(bar0) + strlen(bar1)], '\r');
    ck_assert_uint_eq(strspn(buf + strlen(bar0) + strlen(bar1) + 1, " "), strlen(bar1) - 1);
}
END_TEST

/* The last three cells of line `line` (0 = header) of a CSV text: "replications,reached,met". */
static void last_cells(const char *csv, size_t line, char *out, size_t size)
{
    const char *start = csv, *end;
    int commas = 0;

    for (size_t i = 0; i < line; i++) {
        start = strchr(start, '\n');
        ck_assert_ptr_nonnull(start);
        start++;
    }
    end = strchr(start, '\n');
    ck_assert_ptr_nonnull(end);
    for (const char *c = end; c > start; c--) {
        if (c[-1] == ',' && ++commas == 3) {
            snprintf(out, size, "%.*s", (int)(end - c), c);
            return;
        }
    }
    ck_abort_msg("fewer than three cells");
}

/* Lines of a text that start with prefix. */
static size_t count_lines(const char *text, const char *prefix)
{
    size_t n = 0;

    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        n += strncmp(l, prefix, strlen(prefix)) == 0;
    }
    return n;
}

/*
 * Point 0: a = 101, 99, 101, ... (odd, even replications), target 1% from 3
 * replications.  By hand, half-width t(0.975, n-1) s / sqrt(n) over |mean|:
 * n = 6: mean 100, s^2 = 6/5, t = 2.570582, 1.1496/100 = 0.0115 > 1%;
 * n = 7: mean 701/7, s^2 = 6.857143/6, t = 2.446912, 0.988702/100.142857 =
 * 0.0098729 <= 1%: 7 replications, met.  Point 1: target on c_ms, which
 * applies in none of its replications: stops at its 3, reached empty, not
 * met.  Point 2: 2 replications to start, target 0.5%, cap 5: n = 5 gives
 * mean 100.2, s^2 = 1.2, t = 2.776445, 1.360180/100.2 = 0.0135746: 5
 * replications, not met.  Point 3: no target.
 */
static void precision_fixture(struct fixture *fx)
{
    fixture_init(fx);
    fx->docs[0].alt = 1;
    fx->docs[0].relative = 0.01;
    fx->docs[0].max_reps = 50;
    fx->docs[1].metric = 2;
    fx->docs[1].relative = 0.1;
    fx->docs[1].max_reps = 50;
    fx->docs[2].nreps = 2;
    fx->docs[2].alt = 1;
    fx->docs[2].relative = 0.005;
    fx->docs[2].max_reps = 5;
}

static void check_precision_cells(const char *points)
{
    char cells[128];
    double reached;

    last_cells(points, 0, cells, sizeof cells);
    ck_assert_str_eq(cells, "replications,precision_reached,precision_met");
    last_cells(points, 1, cells, sizeof cells);
    ck_assert_int_eq(strncmp(cells, "7,", 2), 0);
    reached = strtod(cells + 2, NULL);
    ck_assert_double_eq_tol(reached, 0.0098729, 1e-6);
    ck_assert_str_eq(cells + strlen(cells) - 2, ",1");
    last_cells(points, 2, cells, sizeof cells);
    ck_assert_str_eq(cells, "3,,0");
    last_cells(points, 3, cells, sizeof cells);
    ck_assert_int_eq(strncmp(cells, "5,", 2), 0);
    ck_assert_double_eq_tol(strtod(cells + 2, NULL), 0.0135746, 1e-6);
    ck_assert_str_eq(cells + strlen(cells) - 2, ",0");
    last_cells(points, 4, cells, sizeof cells);
    ck_assert_str_eq(cells, "3,,");
}

START_TEST(precision_adds_replications_until_met_or_capped)
{
    static const unsigned jobs[] = {1, 2, 7};
    struct fixture fx;
    char out[128], first[128];
    char *ref[3] = {NULL, NULL, NULL};
    static const char *const files[3] = {"points.csv", "replications.csv", "histograms.csv"};
    struct err e;

    precision_fixture(&fx);
    snprintf(first, sizeof first, "%s/j1", fx.dir);
    for (size_t j = 0; j < sizeof jobs / sizeof jobs[0]; j++) {
        struct runner_options opt;

        snprintf(out, sizeof out, "%s/j%u", fx.dir, jobs[j]);
        opt = options(out, jobs[j]);
        atomic_store(&fx.runs, 0u);
        ck_assert_int_eq(runner_run(&toy_model, &fx.plan, &opt, &e), 0);
        ck_assert_uint_eq(atomic_load(&fx.runs), 7 + 3 + 5 + 3); /* nothing run in vain */
        for (size_t f = 0; f < 3; f++) {
            char *s = slurp(out, files[f]);

            ck_assert_ptr_nonnull(s);
            if (j == 0) {
                ref[f] = s;
                continue;
            }
            ck_assert_str_eq(s, ref[f]); /* byte-identical for any number of jobs */
            free(s);
        }
    }
    check_precision_cells(ref[0]);
    ck_assert_uint_eq(count_lines(ref[1], "0,"), 7);
    ck_assert_uint_eq(count_lines(ref[1], "2,"), 5);
    ck_assert_ptr_nonnull(strstr(ref[1], "\n0,7,"));
    ck_assert_ptr_null(strstr(ref[1], "\n0,8,"));
    for (size_t f = 0; f < 3; f++) {
        free(ref[f]);
    }
    fixture_fini(&fx);
}
END_TEST

/*
 * A stop request (a signal sent by point 2's replication, which then lasts
 * 0.4 s, four of the monitor's polls; one job so that the order is fixed):
 * the replication in progress finishes, point 3 never starts, the complete
 * points 0..2 are written exactly as in a whole run, summary.json says
 * partial, and the status is RUNNER_INTERRUPTED.
 */
START_TEST(stop_request_keeps_complete_points_marked_partial)
{
    struct fixture fx;
    struct sigaction sa = {.sa_handler = toy_on_signal}, old;
    struct runner_options opt;
    char out[128], msg[2048], expected[1024];
    char *s;
    struct err e;

    fixture_init(&fx);
    fx.docs[2].signal_at = 1;
    snprintf(out, sizeof out, "%s/out", fx.dir);
    opt = options(out, 1);
    toy_stop = 0;
    opt.stop = &toy_stop;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old), 0);
    ck_assert_int_eq(runner_run(&toy_model, &fx.plan, &opt, &e), RUNNER_INTERRUPTED);
    sigaction(SIGUSR1, &old, NULL);
    ck_assert_uint_eq(atomic_load(&fx.runs), 3 + 3 + 1);
    err_format(&e, msg, sizeof msg);
    snprintf(expected, sizeof expected,
             "exp.json: interrupted: kept the 3 complete points of 4 in \"%s\" (summary.json "
             "says \"partial\": true)",
             out);
    ck_assert_str_eq(msg, expected);
    s = slurp(out, "points.csv");
    ck_assert_int_eq(strncmp(s, expected_points, strlen(s)), 0);
    ck_assert_uint_eq(count_lines(s, ""), 4);
    free(s);
    s = slurp(out, "replications.csv");
    ck_assert_int_eq(strncmp(s, expected_replications, strlen(s)), 0);
    ck_assert_uint_eq(count_lines(s, ""), 8);
    free(s);
    s = slurp(out, "histograms.csv");
    ck_assert_int_eq(strncmp(s, expected_histograms, strlen(s)), 0);
    ck_assert_uint_eq(count_lines(s, "3,"), 0);
    ck_assert_uint_eq(count_lines(s, "2,"), 1);
    free(s);
    s = slurp(out, "summary.json");
    ck_assert_ptr_nonnull(strstr(s, "\"partial\": true\n}\n"));
    ck_assert_ptr_null(strstr(s, "{\"point\": 3,"));
    ck_assert_ptr_nonnull(strstr(s, "{\"point\": 2,"));
    free(s);
    fixture_fini(&fx);
}
END_TEST

Suite *runner_suite(void)
{
    Suite *s = suite_create("runner");
    TCase *tc = tests_tcase(s, "runner", 10, "");

    tcase_add_test(tc, outputs_are_exact_for_any_number_of_jobs);
    tcase_add_test(tc, invalid_point_is_named_and_nothing_runs_or_is_written);
    tcase_add_test(tc, failed_replication_is_named_and_nothing_is_written);
    tcase_add_test(tc, io_errors_return_2_and_leave_no_file);
    tcase_add_test(tc, progress_bar_redraws_and_erases_itself);
    tcase_add_test(tc, precision_adds_replications_until_met_or_capped);
    tcase_add_test(tc, stop_request_keeps_complete_points_marked_partial);
    return s;
}

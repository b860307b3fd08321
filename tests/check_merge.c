/*
 * check_merge.c - run --shard K/N and merge (sim/merge.c): shards joined in
 * any argument order give the unsharded run's bytes; a shard runs only its
 * points but validates all of them; and merge refuses, naming the file and
 * the point, a point given twice, a point missing, headers that differ and
 * shards of another run.
 *
 * A toy model (metrics and histograms simple functions of point and
 * replication) runs through the real runner into temporary directories, so
 * the shard outputs are the runner's own; the error cases then edit them.
 */
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/json.h"
#include "sim/merge.h"
#include "sim/runner.h"
#include "sim/sweep.h"
#include "sim/xalloc.h"
#include "tests/rig.h"
#include "tests/tests.h"

#define NPTS 7

struct toy_doc {
    size_t index;      /* point index */
    uint32_t nreps;    /* replications */
    uint64_t seed;     /* the point's seed */
    int invalid;       /* point_new fails */
    atomic_uint *runs; /* replications run */
};

static const struct runner_metric toy_metrics[] = {{"a", RUNNER_AGG_MEAN},
                                                   {"b_peak", RUNNER_AGG_MAX}};
static const char *const toy_series[] = {"requests", "errors"};

static void *toy_new(const struct cJSON *doc, const char *base_dir, struct err *e)
{
    const struct toy_doc *d = (const struct toy_doc *)(const void *)doc;

    (void)base_dir;
    if (d->invalid) {
        err_at(e, "$.workload.users", "must be at least 1");
        return NULL;
    }
    return (void *)(uintptr_t)d;
}

static void toy_free(void *cfg)
{
    (void)cfg;
}

static uint32_t toy_reps(const void *cfg)
{
    return ((const struct toy_doc *)cfg)->nreps;
}

static uint64_t toy_seed(const void *cfg)
{
    return ((const struct toy_doc *)cfg)->seed;
}

static struct cJSON *toy_resolved(const void *cfg)
{
    char text[64];

    snprintf(text, sizeof text, "{\"users\": %zu}", ((const struct toy_doc *)cfg)->index + 1);
    return json_value_from_arg(text);
}

/* a = 10 * point + rep; requests at (point + rep) ms; an error in odd points only. */
static int toy_run(const void *cfg, uint32_t rep, double *metrics, struct hist *hists,
                   struct err *e)
{
    const struct toy_doc *d = cfg;

    (void)e;
    atomic_fetch_add(d->runs, 1u);
    metrics[0] = (double)(10 * d->index + rep);
    metrics[1] = metrics[0];
    hist_add(&hists[0], SIM_MS((int64_t)(d->index + rep)));
    if (d->index % 2) {
        hist_add(&hists[1], SIM_MS(3));
    }
    return 0;
}

static const struct runner_model toy_model = {
    .nmetrics = 2,
    .metrics = toy_metrics,
    .nseries = 2,
    .series = toy_series,
    .point_new = toy_new,
    .point_free = toy_free,
    .point_replications = toy_reps,
    .point_seed = toy_seed,
    .point_resolved = toy_resolved,
    .run = toy_run,
};

/* NPTS points sweeping workload.users = 1..NPTS, 1 to 3 replications each. */
struct fixture {
    atomic_uint runs;
    struct toy_doc docs[NPTS];
    struct sweep_point points[NPTS];
    struct sweep_plan plan;
    char *column;
    char dir[64];
};

static void fixture_init(struct fixture *fx)
{
    static const int is_duration[1] = {0};

    memset(fx, 0, sizeof *fx);
    atomic_init(&fx->runs, 0u);
    for (size_t i = 0; i < NPTS; i++) {
        struct sweep_point *pt = &fx->points[i];
        char text[64];

        fx->docs[i] = (struct toy_doc){i, (uint32_t)(i % 3 + 1), 7, 0, &fx->runs};
        pt->index = i;
        pt->values = xcalloc(1, sizeof *pt->values);
        snprintf(text, sizeof text, "%zu", i + 1);
        pt->values[0] = xstrdup(text);
        pt->doc = (struct cJSON *)(void *)&fx->docs[i];
        snprintf(text, sizeof text, "workload.users=%zu", i + 1);
        pt->label = xstrdup(text);
    }
    fx->column = xstrdup("workload.users");
    fx->plan = (struct sweep_plan){.npoints = NPTS,
                                   .points = fx->points,
                                   .ncolumns = 1,
                                   .columns = &fx->column,
                                   .column_is_duration = (int *)(uintptr_t)is_duration};
    snprintf(fx->dir, sizeof fx->dir, "/tmp/poolsim-check-merge-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(fx->dir));
}

static void fixture_fini(struct fixture *fx)
{
    for (size_t i = 0; i < NPTS; i++) {
        free(fx->points[i].values[0]);
        free(fx->points[i].values);
        free(fx->points[i].label);
    }
    free(fx->column);
    rig_remove_tree(fx->dir);
}

/* Run shard k of n (0/0: everything) into fx->dir/name; returns the runner's status. */
static int run_into(struct fixture *fx, const char *name, unsigned k, unsigned n)
{
    char out[128];
    struct runner_options opt = {.file = "exp.json",
                                 .base_dir = ".",
                                 .out_dir = out,
                                 .jobs = 2,
                                 .quiet = true,
                                 .version = "9.9.9-test",
                                 .shard_k = k,
                                 .shard_n = n};
    struct err e;

    snprintf(out, sizeof out, "%s/%s", fx->dir, name);
    return runner_run(&toy_model, &fx->plan, &opt, &e);
}

/* Merge fx->dir/<names...> into fx->dir/out; the status, and the message in msg. */
static int merge_into(struct fixture *fx, const char *const *names, size_t n, char *msg,
                      size_t size)
{
    char paths[16][128], out[128];
    const char *dirs[16];
    struct err e;
    int rc;

    ck_assert_uint_le(n, 16);
    for (size_t i = 0; i < n; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s", fx->dir, names[i]);
        dirs[i] = paths[i];
    }
    snprintf(out, sizeof out, "%s/out", fx->dir);
    rc = merge_dirs(dirs, n, out, &e);
    err_format(&e, msg, size);
    return rc;
}

static char *slurp(const char *dir, const char *sub, const char *name)
{
    char path[512];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = xcalloc((size_t)n + 1, 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

static void spew(const char *dir, const char *sub, const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Replace the first `from` with `to` in dir/sub/name. */
static void edit(const char *dir, const char *sub, const char *name, const char *from,
                 const char *to)
{
    char *s = slurp(dir, sub, name), *at = strstr(s, from);
    char *t;

    ck_assert_msg(at != NULL, "\"%s\" not in %s/%s", from, sub, name);
    t = xcalloc(strlen(s) + strlen(to) + 1, 1);
    snprintf(t, strlen(s) + strlen(to) + 1, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    spew(dir, sub, name, t);
    free(t);
    free(s);
}

/* Remove the rows of point p (lines starting "p,") from a CSV text, in place. */
static void drop_point(char *s, size_t p)
{
    char prefix[32];
    char *r = s, *w = s;

    snprintf(prefix, sizeof prefix, "\n%zu,", p);
    while (*r) {
        char *nl = strchr(r, '\n');
        size_t n = nl ? (size_t)(nl - r) + 1 : strlen(r);

        if (!(r > s && strncmp(r - 1, prefix, strlen(prefix)) == 0)) {
            memmove(w, r, n);
            w += n;
        }
        r += n;
    }
    *w = '\0';
}

static void copy_dir(const struct fixture *fx, const char *from, const char *to)
{
    static const char *const files[] = {"points.csv", "replications.csv", "histograms.csv",
                                        "summary.json"};
    char path[256];

    snprintf(path, sizeof path, "%s/%s", fx->dir, to);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    for (size_t i = 0; i < 4; i++) {
        char *s = slurp(fx->dir, from, files[i]);

        spew(fx->dir, to, files[i], s);
        free(s);
    }
}

/* summary.json without its wall_time_s line. */
static char *summary_sans_wall(const struct fixture *fx, const char *sub)
{
    char *s = slurp(fx->dir, sub, "summary.json");
    char *w = strstr(s, "  \"wall_time_s\": ");

    ck_assert_ptr_nonnull(w);
    memmove(w, strchr(w, '\n') + 1, strlen(strchr(w, '\n') + 1) + 1);
    return s;
}

static void assert_same(const struct fixture *fx, const char *a, const char *b, const char *name)
{
    char *x = slurp(fx->dir, a, name), *y = slurp(fx->dir, b, name);

    ck_assert_str_eq(x, y);
    free(x);
    free(y);
}

static int exists(const struct fixture *fx, const char *sub)
{
    char path[256];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", fx->dir, sub);
    return stat(path, &st) == 0;
}

static unsigned shard_runs(unsigned k, unsigned n)
{
    unsigned runs = 0;

    for (size_t i = k - 1; i < NPTS; i += n) {
        runs += (unsigned)(i % 3 + 1);
    }
    return runs;
}

static const char *const csv_files[] = {"points.csv", "replications.csv", "histograms.csv"};

/*
 * Shards of n = 2, 3, NPTS and NPTS + 2 (empty shards), run one by one and
 * merged in reverse order: the CSV files are the unsharded run's bytes and
 * summary.json differs only in wall time.  Each shard ran only its points.
 */
START_TEST(merged_shards_are_the_unsharded_run)
{
    static const unsigned ns[] = {2, 3, NPTS, NPTS + 2};
    struct fixture fx;
    char msg[1024];

    fixture_init(&fx);
    ck_assert_int_eq(run_into(&fx, "all", 0, 0), 0);
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
        const char *names[NPTS + 2];
        char bufs[NPTS + 2][16];
        unsigned n = ns[t];
        char *a, *b;

        for (unsigned k = 1; k <= n; k++) {
            snprintf(bufs[k - 1], sizeof bufs[k - 1], "n%u-s%u", n, k);
            names[n - k] = bufs[k - 1];
            atomic_store(&fx.runs, 0u);
            ck_assert_int_eq(run_into(&fx, bufs[k - 1], k, n), 0);
            ck_assert_uint_eq(atomic_load(&fx.runs), shard_runs(k, n));
        }
        ck_assert_int_eq(merge_into(&fx, names, n, msg, sizeof msg), 0);
        for (size_t f = 0; f < 3; f++) {
            assert_same(&fx, "all", "out", csv_files[f]);
        }
        a = summary_sans_wall(&fx, "all");
        b = summary_sans_wall(&fx, "out");
        ck_assert_str_eq(a, b);
        free(a);
        free(b);
        snprintf(msg, sizeof msg, "%s/out", fx.dir);
        rig_remove_tree(msg);
    }
    fixture_fini(&fx);
}
END_TEST

/* Shard 2 of 3 holds points 1 and 4 only, under their own index, in order. */
START_TEST(shard_keeps_global_point_indices)
{
    struct fixture fx;
    char *s;

    fixture_init(&fx);
    ck_assert_int_eq(run_into(&fx, "s2", 2, 3), 0);
    s = slurp(fx.dir, "s2", "points.csv");
    ck_assert_str_eq(s, "point,workload.users,a,a_ci,b_peak,replications,precision_reached,"
                        "precision_met\n"
                        "1,2,11.5,6.35310237,12,2,,\n"
                        "4,5,41.5,6.35310237,42,2,,\n");
    free(s);
    s = slurp(fx.dir, "s2", "summary.json");
    ck_assert_ptr_nonnull(strstr(s, "\"shard\": {\"k\": 2, \"n\": 3, \"points_total\": 7, "));
    free(s);
    fixture_fini(&fx);
}
END_TEST

/* An invalid point in another shard still stops the run before anything runs. */
START_TEST(shard_validates_every_point)
{
    struct fixture fx;

    fixture_init(&fx);
    fx.docs[5].invalid = 1;
    ck_assert_int_eq(run_into(&fx, "s1", 1, 2), 1);
    ck_assert_uint_eq(atomic_load(&fx.runs), 0);
    ck_assert(!exists(&fx, "s1"));
    fixture_fini(&fx);
}
END_TEST

/* Three shards of 3 in s1, s2, s3. */
static void three_shards(struct fixture *fx)
{
    fixture_init(fx);
    ck_assert_int_eq(run_into(fx, "all", 0, 0), 0);
    ck_assert_int_eq(run_into(fx, "s1", 1, 3), 0);
    ck_assert_int_eq(run_into(fx, "s2", 2, 3), 0);
    ck_assert_int_eq(run_into(fx, "s3", 3, 3), 0);
}

/* text with every '@' replaced by dir. */
static void expand(const char *text, const char *dir, char *buf, size_t size)
{
    size_t n = 0;

    for (const char *c = text; *c && n + 1 < size; c++) {
        n += (size_t)snprintf(buf + n, size - n, "%s", *c == '@' ? dir : (char[]){*c, '\0'});
    }
    buf[n < size ? n : size - 1] = '\0';
}

/* Expect merge to fail with rc and text ('@' standing for fx->dir), and write nothing. */
static void refused(struct fixture *fx, const char *const *names, size_t n, int rc,
                    const char *text)
{
    char msg[1024], expected[1024];

    ck_assert_int_eq(merge_into(fx, names, n, msg, sizeof msg), rc);
    expand(text, fx->dir, expected, sizeof expected);
    ck_assert_str_eq(msg, expected);
    ck_assert(!exists(fx, "out"));
}

START_TEST(point_twice_is_refused)
{
    static const char *const names[] = {"s1", "s2", "s3", "s2copy"};
    struct fixture fx;

    three_shards(&fx);
    copy_dir(&fx, "s2", "s2copy");
    refused(&fx, names, 4, 1, "@/s2copy/points.csv:2:1: point 1 is also in \"@/s2/points.csv\"");
    /* An unsharded run overlaps every shard. */
    refused(&fx, (const char *const[]){"s1", "all"}, 2, 1,
            "@/all/points.csv:2:1: point 0 is also in \"@/s1/points.csv\"");
    fixture_fini(&fx);
}
END_TEST

START_TEST(missing_point_is_named)
{
    static const char *const names[] = {"s1", "s3", "s2"};
    struct fixture fx;
    char *s;

    three_shards(&fx);
    refused(&fx, names, 2, 1, "point 1 is missing: no directory given holds shard 2/3");
    /* Shard 2 lost point 4's row (and is not marked partial). */
    s = slurp(fx.dir, "s2", "points.csv");
    drop_point(s, 4);
    spew(fx.dir, "s2", "points.csv", s);
    free(s);
    refused(&fx, names, 3, 1,
            "@/s2/points.csv: point 4 is missing from shard 2/3, which is not partial");
    /* Its other files still have the point. */
    edit(fx.dir, "s2", "summary.json", "\"partial\": false", "\"partial\": true");
    refused(&fx, names, 3, 1, "@/s2/histograms.csv:5:1: point 4 is not in \"@/s2/points.csv\"");
    fixture_fini(&fx);
}
END_TEST

/* An interrupted shard lacks points: the merge keeps the others and is partial. */
START_TEST(partial_shard_gives_partial_merge)
{
    static const char *const names[] = {"s1", "s2", "s3"};
    struct fixture fx;
    char msg[1024];

    three_shards(&fx);
    for (size_t f = 0; f < 3; f++) {
        char *s = slurp(fx.dir, "s2", csv_files[f]);
        char *all = slurp(fx.dir, "all", csv_files[f]);

        drop_point(s, 4);
        spew(fx.dir, "s2", csv_files[f], s);
        drop_point(all, 4);
        spew(fx.dir, "all", csv_files[f], all);
        free(s);
        free(all);
    }
    edit(fx.dir, "s2", "summary.json", "\"partial\": false", "\"partial\": true");
    ck_assert_int_eq(merge_into(&fx, names, 3, msg, sizeof msg), 0);
    for (size_t f = 0; f < 3; f++) {
        assert_same(&fx, "all", "out", csv_files[f]);
    }
    {
        char *s = slurp(fx.dir, "out", "summary.json");

        ck_assert_ptr_nonnull(strstr(s, "\"partial\": true"));
        ck_assert_ptr_nonnull(strstr(s, "\"shard\": {\"k\": 1, \"n\": 1, \"points_total\": 7"));
        free(s);
    }
    fixture_fini(&fx);
}
END_TEST

START_TEST(header_mismatch_is_refused)
{
    static const char *const names[] = {"s1", "s2", "s3"};
    struct fixture fx;

    three_shards(&fx);
    edit(fx.dir, "s3", "replications.csv", ",a,b_peak\n", ",a,c_peak\n");
    refused(&fx, names, 3, 1,
            "@/s3/replications.csv:1:1: header differs from \"@/s1/replications.csv\" at "
            "column 5 (\"c_peak\" here, \"b_peak\" there)");
    edit(fx.dir, "s3", "replications.csv", ",a,c_peak\n", ",a,b_peak,d\n");
    refused(&fx, names, 3, 1,
            "@/s3/replications.csv:1:1: header differs from \"@/s1/replications.csv\" at "
            "column 6 (\"d\" here, \"\" there)");
    fixture_fini(&fx);
}
END_TEST

START_TEST(other_run_is_refused)
{
    static const char *const names[] = {"s1", "s2", "other"};
    struct fixture fx;
    char *a, *b, *fa, *fb;

    three_shards(&fx);
    fx.docs[2].seed = 8; /* another seed for one point: another run */
    ck_assert_int_eq(run_into(&fx, "other", 3, 3), 0);
    a = slurp(fx.dir, "s3", "summary.json");
    b = slurp(fx.dir, "other", "summary.json");
    fa = strstr(a, "\"fingerprint\": \"");
    fb = strstr(b, "\"fingerprint\": \"");
    ck_assert(fa && fb && strncmp(fa, fb, 34) != 0);
    free(a);
    free(b);
    {
        char expected[1024];
        char msg[1024];

        ck_assert_int_eq(merge_into(&fx, names, 3, msg, sizeof msg), 1);
        expand("@/other/summary.json: not a shard of the same run", fx.dir, expected,
               sizeof expected);
        ck_assert_int_eq(strncmp(msg, expected, strlen(expected)), 0);
    }
    edit(fx.dir, "s2", "summary.json", "\"poolsim_version\": \"9.9.9-test\"",
         "\"poolsim_version\": \"9.9.8\"");
    refused(&fx, names, 2, 1,
            "@/s2/summary.json: written by poolsim 9.9.8, but \"@/s1\" by poolsim 9.9.9-test");
    edit(fx.dir, "s2", "summary.json", "\"poolsim_version\": \"9.9.8\"",
         "\"poolsim_version\": \"9.9.9-test\"");
    edit(fx.dir, "s2", "summary.json", "\"points_total\": 7", "\"points_total\": 8");
    refused(&fx, names, 2, 1,
            "@/s2/summary.json: a run of 8 points, but \"@/s1\" is a run of 7 (another "
            "experiment?)");
    fixture_fini(&fx);
}
END_TEST

START_TEST(unreadable_input_is_an_io_error)
{
    static const char *const names[] = {"s1", "nope"};
    struct fixture fx;
    char expected[512];

    three_shards(&fx);
    snprintf(expected, sizeof expected, "cannot read directory \"@/nope\": %s", strerror(ENOENT));
    refused(&fx, names, 2, 2, expected);
    snprintf(expected, sizeof expected, "%s/s2/histograms.csv", fx.dir);
    ck_assert_int_eq(remove(expected), 0);
    refused(&fx, (const char *const[]){"s1", "s2"}, 2, 1,
            "@/s2: has no histograms.csv, but \"@/s1\" has");
    fixture_fini(&fx);
}
END_TEST

START_TEST(shard_spec_is_parsed_strictly)
{
    static const char *const bad[] = {"",   "3",    "0/3",  "4/3",  "1/0",  "/3",
                                      "1/", "+1/3", "1/3x", " 1/3", "1//3", "1/99999999999"};
    unsigned k = 0, n = 0;
    struct err e;

    ck_assert_int_eq(merge_parse_shard("2/3", &k, &n, &e), 0);
    ck_assert_uint_eq(k, 2);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(merge_parse_shard("1/1", &k, &n, &e), 0);
    ck_assert_uint_eq(k + n, 2);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char expected[128];

        ck_assert_int_eq(merge_parse_shard(bad[i], &k, &n, &e), -1);
        snprintf(expected, sizeof expected,
                 "--shard needs K/N with 1 <= K <= N (e.g. 2/3), got \"%s\"", bad[i]);
        ck_assert_str_eq(e.msg, expected);
    }
}
END_TEST

Suite *merge_suite(void)
{
    Suite *s = suite_create("merge");
    TCase *tc = tests_tcase(s, "merge", 30, "");

    tcase_add_test(tc, merged_shards_are_the_unsharded_run);
    tcase_add_test(tc, shard_keeps_global_point_indices);
    tcase_add_test(tc, shard_validates_every_point);
    tcase_add_test(tc, point_twice_is_refused);
    tcase_add_test(tc, missing_point_is_named);
    tcase_add_test(tc, partial_shard_gives_partial_merge);
    tcase_add_test(tc, header_mismatch_is_refused);
    tcase_add_test(tc, other_run_is_refused);
    tcase_add_test(tc, unreadable_input_is_an_io_error);
    tcase_add_test(tc, shard_spec_is_parsed_strictly);
    return s;
}

/*
 * check_size.c - `poolsim size` (sim/size.c, sim/slo.c, models/sizing.c and
 * runner_eval): objectives parsed and judged, the domain hooks (default
 * ranges, the load key, which limit breaks first), replications added to a point
 * give the rows a single run gives, usage errors, exit 3 on an impossible
 * objective, identical results on a second run and for any --jobs, and two
 * searches with answers known from theory: the Erlang C pool size and a
 * window below a CPU knee.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/config.h"
#include "models/metrics.h"
#include "models/scenario.h"
#include "models/sizing.h"
#include "sim/json.h"
#include "sim/runner.h"
#include "sim/size.h"
#include "sim/slo.h"
#include "sim/xalloc.h"
#include "tests/tests.h"

#define FILE_MMC "experiments/validate-erlang-c.json"
#define FILE_WINDOW "tests/data/size-window.json"

/* ---- objectives ---- */

static const struct runner_metric *columns(size_t *n)
{
    return metrics_columns(n);
}

START_TEST(slo_parses_a_list)
{
    size_t nm, n = 0;
    const struct runner_metric *cols = columns(&nm);
    struct slo *v = NULL;
    struct err e;

    err_clear(&e);
    ck_assert_int_eq(slo_parse(" latency_p99_ms < 500 ,error_rate<=1e-3,throughput_rps>=10", cols,
                               nm, &v, &n, &e),
                     0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(cols[v[0].metric].name, "latency_p99_ms");
    ck_assert_int_eq(v[0].op, SLO_LT);
    ck_assert(v[0].threshold == 500);
    ck_assert_str_eq(v[0].text, "latency_p99_ms<500");
    ck_assert_int_eq(v[1].op, SLO_LE);
    ck_assert(v[1].threshold == 1e-3);
    ck_assert_str_eq(cols[v[2].metric].name, "throughput_rps");
    ck_assert_int_eq(v[2].op, SLO_GE);
    free(v);
}
END_TEST

static void slo_rejects(const char *spec, const char *msg)
{
    size_t nm, n;
    const struct runner_metric *cols = columns(&nm);
    struct slo *v = NULL;
    struct err e;

    err_clear(&e);
    ck_assert_int_eq(slo_parse(spec, cols, nm, &v, &n, &e), -1);
    ck_assert_msg(strstr(e.msg, msg), "\"%s\": got \"%s\", expected \"%s\"", spec, e.msg, msg);
    ck_assert_ptr_null(strchr(e.msg, '\n'));
}

START_TEST(slo_rejects_bad_objectives)
{
    slo_rejects("latency_p99<500", "unknown metric \"latency_p99\"");
    slo_rejects("latency_p99_ms_ci<500", "unknown metric \"latency_p99_ms_ci\"");
    slo_rejects("latency_p99_ms=500", "has no operator");
    slo_rejects("latency_p99_ms<5oo", "\"5oo\" is not a number");
    slo_rejects("latency_p99_ms<", "\"\" is not a number");
    slo_rejects("error_rate<0.1,", "empty objective");
    slo_rejects("", "empty objective");
}
END_TEST

START_TEST(slo_judges_against_the_interval)
{
    struct slo lt = {.op = SLO_LT, .threshold = 0.2}, le = {.op = SLO_LE, .threshold = 0.2};
    struct slo gt = {.op = SLO_GT, .threshold = 10};

    ck_assert_int_eq(slo_judge(&lt, 0.19, 0.005), SLO_PASS);
    ck_assert_int_eq(slo_judge(&lt, 0.19, 0.02), SLO_UNCLEAR);
    ck_assert_int_eq(slo_judge(&lt, 0.25, 0.02), SLO_FAIL);
    ck_assert_int_eq(slo_judge(&lt, 0.2, 0), SLO_FAIL); /* 0.2 < 0.2 is false */
    ck_assert_int_eq(slo_judge(&le, 0.2, 0), SLO_PASS);
    ck_assert_int_eq(slo_judge(&lt, 0.1, NAN), SLO_UNCLEAR);
    ck_assert_int_eq(slo_judge(&lt, NAN, 0), SLO_FAIL); /* does not apply: not met */
    ck_assert_int_eq(slo_judge(&gt, 12, 1), SLO_PASS);
    ck_assert_int_eq(slo_judge(&gt, 10.5, 1), SLO_UNCLEAR);
    ck_assert_int_eq(slo_judge(&gt, 8, 1), SLO_FAIL);
}
END_TEST

/* ---- runner_eval: added replications are the rows of one run ---- */

START_TEST(runner_eval_adds_replications)
{
    struct runner_model m;
    struct cJSON *doc = NULL;
    struct err e;
    void *cfg;
    double *a, *b;

    scn_model(&m);
    err_clear(&e);
    ck_assert_int_eq(json_load_file(FILE_WINDOW, &doc, &e), 0);
    cfg = m.point_new(doc, "tests/data", &e);
    ck_assert_ptr_nonnull(cfg);
    a = xcalloc(4 * m.nmetrics, sizeof *a);
    b = xcalloc(4 * m.nmetrics, sizeof *b);
    ck_assert_int_eq(runner_eval(&m, cfg, 1, 4, 1, a, &e), 0);
    ck_assert_int_eq(runner_eval(&m, cfg, 1, 2, 3, b, &e), 0);
    ck_assert_int_eq(runner_eval(&m, cfg, 3, 4, 2, b + 2 * m.nmetrics, &e), 0);
    for (size_t k = 0; k < 4 * m.nmetrics; k++) {
        ck_assert(a[k] == b[k] || (isnan(a[k]) && isnan(b[k])));
    }
    /* Replications differ: rows are not copies of one another. */
    ck_assert(a[0] != a[m.nmetrics] || a[1] != a[m.nmetrics + 1]);
    free(a);
    free(b);
    m.point_free(cfg);
    json_free(doc);
}
END_TEST

/* ---- models/sizing.c: the domain hooks ---- */

/* A configuration from JSON text (caller frees with point_free). */
static void *sizing_cfg(const char *text)
{
    struct runner_model m;
    struct cJSON *doc = NULL;
    struct err e;
    void *cfg;

    scn_model(&m);
    err_clear(&e);
    ck_assert_int_eq(json_parse("t.json", text, strlen(text), &doc, &e), 0);
    cfg = m.point_new(doc, ".", &e);
    ck_assert_msg(cfg != NULL, "%s: %s", e.path, e.msg);
    json_free(doc);
    return cfg;
}

static const char sizing_doc[] =
    "{\"name\": \"t\", \"duration\": \"1s\", \"workload\": {\"model\": \"closed\", \"users\": 7,"
    " \"page\": [\"q\"]}, \"app\": {\"endpoints\": {\"q\": {\"operations\": [{\"type\": "
    "\"query\", \"statements\": 1, \"server_time\": \"1ms\"}]}}}, \"pooler\": {\"kind\": "
    "\"pgbouncer\", \"pool_mode\": \"transaction\", \"default_pool_size\": 9}, \"postgres\": "
    "{\"max_connections\": 50, \"superuser_reserved_connections\": 5, \"cores\": 4}}";

START_TEST(sizing_ranges_and_load)
{
    struct runner_model m;
    struct size_hooks h;
    void *cfg = sizing_cfg(sizing_doc);
    int64_t lo = -1, hi = -1;
    const char *key = NULL;
    double load = 0;

    scn_model(&m);
    sizing_hooks(&h);
    ck_assert_int_eq(h.default_range(cfg, "pooler.default_pool_size", &lo, &hi), 0);
    ck_assert(lo == 1 && hi == 45); /* 50 - 5 reserved */
    ck_assert_int_eq(h.default_range(cfg, "client_pool.connection_limit", &lo, &hi), 0);
    ck_assert_int_eq(h.default_range(cfg, "app.clients", &lo, &hi), -1);
    ck_assert_int_eq(h.load_key(cfg, &key, &load), 0);
    ck_assert_str_eq(key, "workload.users");
    ck_assert(load == 7);
    m.point_free(cfg);
}
END_TEST

/* Means all 0 but the named ones. */
static double *means_with(const char *const *names, const double *values, size_t n)
{
    size_t nm;
    const struct runner_metric *cols = metrics_columns(&nm);
    double *x = xcalloc(nm, sizeof *x);

    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < nm; k++) {
            if (strcmp(cols[k].name, names[i]) == 0) {
                x[k] = values[i];
            }
        }
    }
    return x;
}

static void breaks_case(const void *cfg, const char *const *names, const double *values, size_t n,
                        const char *expected)
{
    struct size_hooks h;
    double *x = means_with(names, values, n);
    char buf[256];

    sizing_hooks(&h);
    h.breaks_first(cfg, x, buf, sizeof buf);
    ck_assert_msg(strstr(buf, expected), "got \"%s\", expected \"%s\"", buf, expected);
    free(x);
}

START_TEST(sizing_names_the_limit_that_breaks_first)
{
    struct runner_model m;
    void *cfg = sizing_cfg(sizing_doc);

    scn_model(&m);
    /* CPU first: 3.8 of 4 cores busy, even with errors and waits elsewhere. */
    breaks_case(cfg, (const char *[]){"db_active_mean", "errors_P2024"}, (double[]){3.8, 5}, 2,
                "CPU (postgres.cores=4)");
    /* Errors: the limit with the most of them. */
    breaks_case(cfg, (const char *[]){"db_active_mean", "errors_P2024", "errors_53300"},
                (double[]){1, 2, 3}, 3, "max_connections (usable max_connections=45): 3 53300");
    breaks_case(cfg, (const char *[]){"errors_max_client_conn", "errors_query_wait_timeout"},
                (double[]){4, 1}, 2, "pooler clients (pooler.max_client_conn=100)");
    breaks_case(cfg, (const char *[]){"errors_query_wait_timeout"}, (double[]){1}, 1,
                "pooler pool (pooler.default_pool_size=9)");
    breaks_case(cfg, (const char *[]){"errors_P2024", "errors_P2028"}, (double[]){1, 2}, 2,
                "client pool (client_pool.connection_limit=5): 3 P2028");
    /* No errors: the longer wait. */
    breaks_case(cfg, (const char *[]){"pool_wait_mean_ms", "pooler_wait_mean_ms"},
                (double[]){2, 30}, 2, "pooler pool (pooler.default_pool_size=9)");
    breaks_case(cfg, (const char *[]){"pool_wait_mean_ms", "pooler_wait_mean_ms"},
                (double[]){30, 2}, 2, "client pool (client_pool.connection_limit=5)");
    breaks_case(cfg, (const char *[]){"db_active_mean"}, (double[]){1}, 1, "no pool limit");
    m.point_free(cfg);
}
END_TEST

/* ---- the command ---- */

struct sized {
    int rc;
    struct out_buf table;
    struct err e;
    struct cJSON *json; /* size.json, NULL when not written */
    char dir[64];
};

/* Run `poolsim size` with the arguments after "size" (NULL-terminated), output to a new dir. */
static void size_run(struct sized *r, const char *const *args)
{
    char prog[] = "poolsim", cmd[] = "size", out[] = "--out", quiet[] = "--quiet";
    char *argv[64] = {prog, cmd};
    int argc = 2;
    struct runner_model m;
    struct size_hooks h;
    struct size_env env = {&m, &h, "test", 2, NULL};
    char path[128];
    struct err e;

    scn_model(&m);
    sizing_hooks(&h);
    snprintf(r->dir, sizeof r->dir, "/tmp/poolsim-check-size-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(r->dir));
    for (; *args; args++) {
        argv[argc++] = (char *)(uintptr_t)*args;
    }
    argv[argc++] = out;
    argv[argc++] = r->dir;
    argv[argc++] = quiet;
    out_buf_init(&r->table);
    r->rc = size_main(argc, argv, &env, &r->table, &r->e);
    snprintf(path, sizeof path, "%s/size.json", r->dir);
    r->json = NULL;
    if (json_load_file(path, &r->json, &e) == 0) {
        unlink(path);
    }
    rmdir(r->dir);
}

static void sized_fini(struct sized *r)
{
    out_buf_fini(&r->table);
    json_free(r->json);
}

/* A number at searches[i].<key> of size.json (NAN for null). */
static double search_num(const struct sized *r, size_t i, const char *key)
{
    struct json_at root, v, s;
    double x = NAN;
    struct err e;

    json_root(r->json, &root);
    ck_assert(json_get(&root, "searches", &v));
    json_child(&v, i, &s, NULL);
    ck_assert(json_get(&s, key, &v));
    if (json_is_number(&v)) {
        ck_assert_int_eq(json_double(&v, -INFINITY, INFINITY, &x, &e), 0);
    }
    return x;
}

static void usage_case(const char *const *args, const char *msg)
{
    struct sized r;

    size_run(&r, args);
    ck_assert_int_eq(r.rc, 2);
    ck_assert_msg(strstr(r.e.msg, msg), "got \"%s\", expected \"%s\"", r.e.msg, msg);
    ck_assert_ptr_null(r.json);
    ck_assert_uint_eq(r.table.len, 0);
    sized_fini(&r);
}

START_TEST(size_usage_errors)
{
    usage_case((const char *[]){FILE_WINDOW, "--vary", "pooler.default_pool_size", NULL},
               "needs an experiment FILE, --slo");
    usage_case((const char *[]){FILE_WINDOW, "--slo", "error_rate<0.1", NULL}, "at least one");
    usage_case(
        (const char *[]){FILE_WINDOW, "--slo", "p99<1", "--vary", "pooler.default_pool_size", NULL},
        "unknown metric \"p99\"");
    usage_case((const char *[]){FILE_WINDOW, "--slo", "error_rate<0.1", "--vary",
                                "pooler.default_pool_size=5..2", NULL},
               "not a range LO..HI");
    usage_case(
        (const char *[]){FILE_WINDOW, "--slo", "error_rate<0.1", "--vary", "app.clients", NULL},
        "--vary app.clients needs a range");
    usage_case((const char *[]){FILE_WINDOW, "--slo", "error_rate<0.1", "--vary",
                                "pooler.default_pool_size", "--bogus", NULL},
               "unknown option \"--bogus\"");
    usage_case((const char *[]){FILE_WINDOW, "--slo", "error_rate<0.1", "--vary",
                                "pooler.default_pool_size", "--max-replications", "1", NULL},
               "--max-replications needs");
}
END_TEST

START_TEST(size_invalid_experiment)
{
    struct sized r;

    size_run(&r, (const char *[]){FILE_WINDOW, "--slo", "error_rate<0.1", "--vary",
                                  "pooler.default_pool_size=1..3", "--set",
                                  "pooler.pool_mode=\"tx\"", NULL});
    ck_assert_int_eq(r.rc, 1);
    ck_assert_str_eq(r.e.path, "point (as in the file): $.pooler.pool_mode");
    sized_fini(&r);
    /* A searched value the model refuses names its point. */
    size_run(&r, (const char *[]){FILE_WINDOW, "--slo", "error_rate<0.1", "--vary",
                                  "pooler.default_pool_size=0..3", NULL});
    ck_assert_int_eq(r.rc, 1);
    ck_assert_msg(strstr(r.e.path, "point (pooler.default_pool_size=0)"), "%s", r.e.path);
    sized_fini(&r);
}
END_TEST

/* No latency is below 0 ms: every value fails, the exit status is 3, size.json says none. */
START_TEST(size_impossible_objective_exits_3)
{
    struct sized r;

    size_run(&r,
             (const char *[]){FILE_WINDOW, "--slo", "latency_p50_ms<0", "--vary",
                              "pooler.default_pool_size=3..6", "--set", "duration=\"20s\"", NULL});
    ck_assert_int_eq(r.rc, 3);
    ck_assert_ptr_nonnull(r.json);
    ck_assert(isnan(search_num(&r, 0, "answer")));
    ck_assert_ptr_nonnull(strstr(r.table.data, "none: no value from 3 to 6"));
    ck_assert_ptr_nonnull(strstr(r.table.data, "result: none"));
    sized_fini(&r);
}
END_TEST

/* --max-replications below the first batch: no point runs more, so the cap is never overrun. */
START_TEST(size_respects_the_cap)
{
    struct sized r;
    struct json_at root, v, s, pts, pt;
    struct err e;
    int64_t reps;

    size_run(&r, (const char *[]){FILE_WINDOW, "--slo", "latency_p99_ms<1000", "--vary",
                                  "pooler.default_pool_size=2..4", "--set", "duration=\"20s\"",
                                  "--max-replications", "2", NULL});
    ck_assert_ptr_nonnull(r.json);
    json_root(r.json, &root);
    json_get(&root, "searches", &v);
    json_child(&v, 0, &s, NULL);
    json_get(&s, "points", &pts);
    ck_assert_uint_gt(json_size(&pts), 0);
    for (size_t j = 0; j < json_size(&pts); j++) {
        json_child(&pts, j, &pt, NULL);
        json_get(&pt, "replications", &v);
        ck_assert_int_eq(json_int(&v, 1, 100, &reps, &e), 0);
        ck_assert_int_eq(reps, 2);
    }
    sized_fini(&r);
}
END_TEST

/* size.json without its wall time (the only line that may differ). */
static char *json_text(const struct sized *r)
{
    char *t = json_print(r->json);
    char *w = strstr(t, "\"wall_time_s\"");

    ck_assert_ptr_nonnull(w);
    *w = '\0';
    return t;
}

START_TEST(size_is_deterministic)
{
    const char *args1[] = {FILE_WINDOW,
                           "--slo",
                           "latency_p99_ms<1000",
                           "--vary",
                           "pooler.default_pool_size=1..8",
                           "--set",
                           "duration=\"60s\"",
                           "--jobs",
                           "1",
                           NULL};
    const char *args2[] = {FILE_WINDOW,
                           "--slo",
                           "latency_p99_ms<1000",
                           "--vary",
                           "pooler.default_pool_size=1..8",
                           "--set",
                           "duration=\"60s\"",
                           "--jobs",
                           "3",
                           NULL};
    struct sized a, b;
    char *ta, *tb;

    size_run(&a, args1);
    size_run(&b, args2);
    ck_assert_int_eq(a.rc, b.rc);
    ck_assert_uint_eq(a.table.len, b.table.len);
    ck_assert(memcmp(a.table.data, b.table.data, a.table.len) == 0);
    ta = json_text(&a);
    tb = json_text(&b);
    ck_assert_str_eq(ta, tb);
    free(ta);
    free(tb);
    sized_fini(&a);
    sized_fini(&b);
}
END_TEST

/*
 * Erlang C (M/M/c, λ = 180/s, 1/μ = 100 ms, a = 18 erlangs): P(wait) = 0.2781 at c = 22 and
 * 0.1907 at c = 23, so the smallest pool with P(wait) < 0.2 is 23.  The error this test must
 * catch is an answer off by one (22 or 24): 22 is 0.078 above the threshold, 23 is 0.0093 below.
 * Per 1000 s replication the estimate of P(wait) has sd ~0.009 (measured: 0.013 at 500 s), so the
 * 95% interval of n replications excludes 0.2 at c = 23 once 2.1 * 0.009 / sqrt(n) < 0.0093,
 * n >= 5: well within the cap of 30; at c = 22 two replications suffice.  At c = 24 P(wait) is
 * 0.128, so 24 passes and the answer cannot be larger.  Fixed seed (the file's).
 */
START_TEST(size_finds_the_erlang_c_pool)
{
    struct sized r;

    size_run(&r, (const char *[]){FILE_MMC, "--slo", "pooler_wait_prob<0.2", "--vary",
                                  "pooler.default_pool_size", "--set", "duration=\"1000s\"",
                                  "--set", "warmup=\"20s\"", "--set", "replications=4", NULL});
    ck_assert_int_eq(r.rc, 0);
    ck_assert(search_num(&r, 0, "hi") == 197); /* 200 - 3 reserved */
    ck_assert(search_num(&r, 0, "answer") == 23);
    ck_assert_ptr_nonnull(strstr(r.table.data, "answer: pooler.default_pool_size=23; 22: fail"));
    ck_assert_ptr_null(strstr(r.table.data, "window:"));
    /* At c = 23 the load it holds is above 180/s and below the pool's capacity, 230/s. */
    ck_assert_ptr_nonnull(strstr(r.table.data, "breaks first at workload.rate="));
    ck_assert_ptr_nonnull(strstr(r.table.data, ": pooler pool (pooler.default_pool_size=23)"));
    sized_fini(&r);
}
END_TEST

/*
 * A window (tests/data/size-window.json): λ = 25/s of 100 ms CPU on 4 cores, penalty 0.3 per
 * statement past 4 active.  Pools 1 and 2 serve at most 10/s and 20/s < 25/s: they fail.  A pool
 * of 8 with 8 statements active runs each 2 * (1 + 0.3 * 4) = 4.4 times slower, so it completes
 * at most 8 / 0.44 s = 18/s < 25/s: it fails too.  So a passing answer is at least 3 and the
 * objective fails again at 8 or below: size must report the window.
 */
START_TEST(size_reports_a_window)
{
    struct sized r;
    double answer, hi, fails;
    struct json_at root, v, s, w;
    struct err e;

    size_run(&r, (const char *[]){FILE_WINDOW, "--slo", "latency_p99_ms<1000", "--vary",
                                  "pooler.default_pool_size=1..20", NULL});
    ck_assert_int_eq(r.rc, 0);
    answer = search_num(&r, 0, "answer");
    ck_assert(answer >= 3 && answer < 8);
    json_root(r.json, &root);
    json_get(&root, "searches", &v);
    json_child(&v, 0, &s, NULL);
    ck_assert(json_get(&s, "window", &w) && json_is_object(&w));
    json_get(&w, "hi", &v);
    json_double(&v, 0, 100, &hi, &e);
    json_get(&w, "fails_at", &v);
    json_double(&v, 0, 100, &fails, &e);
    ck_assert(hi >= answer && fails == hi + 1 && fails <= 8);
    ck_assert_ptr_nonnull(strstr(r.table.data, "window: the objectives hold from"));
    sized_fini(&r);
}
END_TEST

Suite *size_suite(void)
{
    Suite *s = suite_create("size");
    TCase *tc = tests_tcase(s, "slo", 4, "");

    tcase_add_test(tc, slo_parses_a_list);
    tcase_add_test(tc, slo_rejects_bad_objectives);
    tcase_add_test(tc, slo_judges_against_the_interval);
    tc = tests_tcase(s, "sizing", 4, "");
    tcase_add_test(tc, sizing_ranges_and_load);
    tcase_add_test(tc, sizing_names_the_limit_that_breaks_first);
    tc = tests_tcase(s, "command", 60, "");
    tcase_add_test(tc, runner_eval_adds_replications);
    tcase_add_test(tc, size_usage_errors);
    tcase_add_test(tc, size_invalid_experiment);
    tcase_add_test(tc, size_impossible_objective_exits_3);
    tcase_add_test(tc, size_is_deterministic);
    tcase_add_test(tc, size_respects_the_cap);
    tc = tests_tcase(s, "searches", 120, "stat");
    tcase_add_test(tc, size_finds_the_erlang_c_pool);
    tcase_add_test(tc, size_reports_a_window);
    return s;
}

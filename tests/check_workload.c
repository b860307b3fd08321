/*
 * check_workload.c - the workload (models/workload.c): closed users and
 * open arrivals, through the real models.
 *
 * Mechanism tests use constant times, where every load time is exact to the
 * nanosecond: direct PostgreSQL, zero network time and backend_start 0, so a
 * page of one 100 ms statement takes exactly 100 ms.  A load observer
 * (wl_observe) records (user, page, time) of every load; unlike tests/rig.h,
 * the rig here runs the workload itself.
 *
 * Statistical tests ("stat") follow the rule of tests.h: a fixed seed,
 * tolerance 3.3 standard errors, and an assertion that this tolerance is at
 * most half the error each test is designed to catch.  The largest is the
 * machine-repairman validation (experiments/validate-machine-repairman.json):
 * closed users with exponential think and statement times over a pool of c
 * connections against the exact M/M/c//N solution.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "models/config.h"
#include "models/scenario.h"
#include "sim/json.h"
#include "sim/stats.h"
#include "sim/sweep.h"
#include "sim/xalloc.h"
#include "tests/tests.h"

struct load_rec {
    uint64_t user; /* closed: user index; open: arrival number */
    size_t page;   /* index in workload.pages */
    sim_time at;   /* ns */
};

struct wrig {
    struct experiment x;
    struct hist *h; /* SER__COUNT histograms */
    struct scenario s;
    struct load_rec *log; /* every load, in order (owned) */
    size_t nlog, cap;
};

static void on_load(void *ctx, uint64_t user, size_t page)
{
    struct wrig *r = ctx;

    if (r->nlog == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 1024;
        r->log = xrealloc(r->log, r->cap * sizeof *r->log);
    }
    r->log[r->nlog++] = (struct load_rec){user, page, sim_now(r->s.sim)};
}

static void load_doc(struct experiment *x, const char *json)
{
    struct cJSON *doc = NULL;
    struct err e;

    err_clear(&e);
    ck_assert_msg(json_parse("test.json", json, strlen(json), &doc, &e) == 0, "%d:%d %s", e.line,
                  e.col, e.msg);
    ck_assert_msg(experiment_load(x, doc, ".", &e) == 0, "%s: %s", e.path, e.msg);
    json_free(doc);
}

/* Build replication rep of json with its workload running and every load logged. */
static void wrig_up(struct wrig *r, const char *json, uint32_t rep)
{
    load_doc(&r->x, json);
    r->h = xcalloc(SER__COUNT, sizeof *r->h);
    for (int i = 0; i < SER__COUNT; i++) {
        hist_init(&r->h[i]);
    }
    r->log = NULL;
    r->nlog = r->cap = 0;
    scn_init(&r->s, &r->x, rep, r->h, true);
    wl_observe(&r->s.wl, on_load, r);
}

static void wrig_down(struct wrig *r)
{
    scn_fini(&r->s);
    experiment_fini(&r->x);
    free(r->h);
    free(r->log);
}

static void run_to(struct wrig *r, sim_time t)
{
    sim_run_until(r->s.sim, t);
    ck_assert(wl_check(&r->s.wl));
}

/* Time of user's k-th load (0-based), or -1 if it has not happened. */
static sim_time nth_load(const struct wrig *r, uint64_t user, size_t k)
{
    for (size_t i = 0; i < r->nlog; i++) {
        if (r->log[i].user == user && k-- == 0) {
            return r->log[i].at;
        }
    }
    return -1;
}

/* ---- JSON pieces ---- */

#define HEAD "{\"name\": \"t\", \"duration\": \"1000s\", "
#define QUERY(t) "{\"operations\": [{\"type\": \"query\", \"server_time\": \"" t "\"}]}"
#define APP_A(t) "\"app\": {\"endpoints\": {\"a\": " QUERY(t) "}}, "
/* direct PostgreSQL, no network, connections open in zero time */
#define ZERO_COST "\"postgres\": {\"backend_start\": \"0s\"}}"

/* ---- closed: exact ---- */

START_TEST(closed_users_reload_every_statement_plus_think)
{
    struct wrig r;

    wrig_up(&r,
            HEAD "\"workload\": {\"model\": \"closed\", \"users\": 2, \"think_time\": \"1s\","
                 " \"page\": [\"a\"]}, " APP_A("100ms") ZERO_COST,
            1);
    run_to(&r, SIM_MS(9950));
    for (uint64_t u = 0; u < 2; u++) {
        for (size_t k = 0; k < 10; k++) {
            ck_assert_int_eq(nth_load(&r, u, k), (sim_time)k * SIM_MS(1100));
        }
        ck_assert_int_eq(nth_load(&r, u, 10), -1);
    }
    /* the pages loaded at 9.9 s are still running */
    ck_assert_uint_eq(r.h[SER_PAGES].n, 18);
    ck_assert_int_eq(r.h[SER_PAGES].min, SIM_MS(100));
    ck_assert_int_eq(r.h[SER_PAGES].max, SIM_MS(100));
    ck_assert_uint_eq(r.s.wl.loads, 20);
    wrig_down(&r);
}
END_TEST

START_TEST(closed_zero_think_time_reloads_at_once)
{
    struct wrig r;

    wrig_up(&r,
            HEAD "\"workload\": {\"model\": \"closed\", \"page\": [\"a\"]}, " APP_A("100ms")
                ZERO_COST,
            1);
    run_to(&r, SIM_S(1));
    ck_assert_uint_eq(r.nlog, 11); /* 0, 100 ms, ..., 1 s: one user by default */
    for (size_t k = 0; k < r.nlog; k++) {
        ck_assert_int_eq(nth_load(&r, 0, k), (sim_time)k * SIM_MS(100));
    }
    wrig_down(&r);
}
END_TEST

START_TEST(closed_user_waits_for_every_call_of_its_page)
{
    struct wrig r;

    wrig_up(&r,
            HEAD "\"workload\": {\"model\": \"closed\", \"think_time\": \"1s\","
                 " \"page\": [\"a\", \"b\"]}, "
                 "\"app\": {\"endpoints\": {\"a\": " QUERY("100ms") ", \"b\": " QUERY(
                     "300ms") "}}," ZERO_COST,
            1);
    run_to(&r, SIM_S(3));
    ck_assert_int_eq(nth_load(&r, 0, 1), SIM_MS(1300));
    ck_assert_int_eq(nth_load(&r, 0, 2), SIM_MS(2600));
    ck_assert_int_eq(nth_load(&r, 0, 3), -1);
    ck_assert_int_eq(r.h[SER_PAGES].max, SIM_MS(300));
    wrig_down(&r);
}
END_TEST

START_TEST(closed_users_queue_for_the_only_connection)
{
    struct wrig r;

    /* user 1 waits 100 ms for the connection once; from then on their pages alternate */
    wrig_up(&r,
            HEAD "\"workload\": {\"model\": \"closed\", \"users\": 2, \"think_time\": \"1s\","
                 " \"page\": [\"a\"]}, " APP_A(
                     "100ms") "\"client_pool\": {\"connection_limit\": 1}, " ZERO_COST,
            1);
    run_to(&r, SIM_S(5));
    ck_assert_int_eq(nth_load(&r, 1, 0), 0);
    for (size_t k = 1; k < 4; k++) {
        ck_assert_int_eq(nth_load(&r, 0, k), (sim_time)k * SIM_MS(1100));
        ck_assert_int_eq(nth_load(&r, 1, k), SIM_MS(100) + (sim_time)k * SIM_MS(1100));
    }
    ck_assert_int_eq(r.h[SER_PAGES].max, SIM_MS(200));
    ck_assert_double_eq(r.s.m.pool_wait.max, (double)SIM_MS(100));
    wrig_down(&r);
}
END_TEST

START_TEST(closed_page_ends_at_its_answer_not_at_the_end_of_the_work)
{
    struct wrig r;

    wrig_up(&r,
            HEAD "\"workload\": {\"model\": \"closed\", \"think_time\": \"1s\", \"page\": [\"a\"]},"
                 "\"app\": {\"request_timeout\": \"50ms\", \"endpoints\": {\"a\": " QUERY(
                     "100ms") "}}, " ZERO_COST,
            1);
    run_to(&r, SIM_S(4));
    for (size_t k = 0; k < 4; k++) {
        ck_assert_int_eq(nth_load(&r, 0, k), (sim_time)k * SIM_MS(1050));
    }
    ck_assert_uint_eq(r.s.m.errors_by_kind[ERRK_REQUEST_TIMEOUT], 4);
    wrig_down(&r);
}
END_TEST

/* ---- closed: per-user streams ---- */

#define SPREAD(n)                                                                                  \
    HEAD "\"workload\": {\"model\": \"closed\", \"users\": " #n ", \"start_spread\": \"1s\","      \
         " \"think_time\": \"1000s\", \"page\": [\"a\"]}, " APP_A("1ms") ZERO_COST

START_TEST(start_spread_staggers_first_loads_per_user)
{
    struct wrig r10, r5;
    sim_time lo = SIM_TIME_MAX, hi = -1;

    wrig_up(&r10, SPREAD(10), 1);
    wrig_up(&r5, SPREAD(5), 1);
    run_to(&r10, SIM_S(2));
    run_to(&r5, SIM_S(2));
    ck_assert_uint_eq(r10.nlog, 10);
    for (uint64_t u = 0; u < 10; u++) {
        sim_time t = nth_load(&r10, u, 0);

        ck_assert_int_ge(t, 0);
        ck_assert_int_lt(t, SIM_S(1));
        lo = t < lo ? t : lo;
        hi = t > hi ? t : hi;
        /* a user's start does not depend on how many users there are */
        if (u < 5) {
            ck_assert_int_eq(nth_load(&r5, u, 0), t);
        }
    }
    ck_assert_int_lt(lo, hi);
    wrig_down(&r10);
    wrig_down(&r5);
}
END_TEST

#define EXP_THINK(n)                                                                               \
    HEAD "\"workload\": {\"model\": \"closed\", \"users\": " #n ","                                \
         " \"think_time\": {\"dist\": \"exponential\", \"mean\": \"1s\"}, \"page\": "              \
         "[\"a\"]}, " APP_A("100ms") "\"client_pool\": {\"connection_limit\": 10}, " ZERO_COST

START_TEST(adding_users_never_shifts_another_users_think_times)
{
    struct wrig r2, r5;

    wrig_up(&r2, EXP_THINK(2), 1);
    wrig_up(&r5, EXP_THINK(5), 1);
    run_to(&r2, SIM_S(30));
    run_to(&r5, SIM_S(30));
    for (uint64_t u = 0; u < 2; u++) {
        size_t k = 0;

        for (; nth_load(&r2, u, k) >= 0; k++) {
            ck_assert_int_eq(nth_load(&r5, u, k), nth_load(&r2, u, k));
        }
        ck_assert_uint_ge(k, 10);
        /* the think times are random: not the constant cycle of 1.1 s */
        ck_assert_int_ne(nth_load(&r2, u, 2) - nth_load(&r2, u, 1),
                         nth_load(&r2, u, 1) - nth_load(&r2, u, 0));
    }
    /* the users differ from one another */
    ck_assert_int_ne(nth_load(&r5, 0, 1), nth_load(&r5, 1, 1));
    wrig_down(&r2);
    wrig_down(&r5);
}
END_TEST

/* ---- pages: the same sequence whatever the pool sizes ---- */

/* 20 endpoints e0..e19 of one statement, and 20 one-endpoint pages p0..p19 of weight 1. */
static void mix_json(char *buf, size_t size, const char *workload, int clients, int limit,
                     const char *stmt)
{
    char eps[4000] = "", pages[4000] = "";
    size_t ne = 0, np = 0;

    for (int i = 0; i < 20; i++) {
        ne += (size_t)snprintf(eps + ne, sizeof eps - ne,
                               "%s\"e%d\": {\"operations\": [{\"type\": \"query\","
                               " \"server_time\": \"%s\"}]}",
                               i ? ", " : "", i, stmt);
        np += (size_t)snprintf(pages + np, sizeof pages - np,
                               "%s\"p%d\": {\"endpoints\": [\"e%d\"], \"weight\": 1}",
                               i ? ", " : "", i, i);
    }
    snprintf(buf, size,
             HEAD "\"workload\": {%s, \"pages\": {%s}}, \"app\": {\"clients\": %d, "
                  "\"endpoints\": {%s}}, \"client_pool\": {\"connection_limit\": %d}, " ZERO_COST,
             workload, pages, clients, eps, limit);
}

/* Pages of user u's loads, in order. */
static size_t user_pages(const struct wrig *r, uint64_t u, size_t *out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < r->nlog && n < max; i++) {
        if (r->log[i].user == u) {
            out[n++] = r->log[i].page;
        }
    }
    return n;
}

#define CLOSED20 "\"model\": \"closed\", \"users\": 20, \"think_time\": \"1ms\""

START_TEST(same_seed_same_pages_whatever_the_pool_size)
{
    static char json[12000];
    static size_t pa[4096], pb[4096];
    struct wrig a, b;

    mix_json(json, sizeof json, CLOSED20, 1, 20, "1ms");
    wrig_up(&a, json, 1);
    mix_json(json, sizeof json, CLOSED20, 1, 3, "1ms");
    wrig_up(&b, json, 1);
    run_to(&a, SIM_S(2));
    run_to(&b, SIM_S(2));
    /* 3 connections for 20 users: the timing really differs */
    ck_assert_uint_gt(a.nlog, 2 * b.nlog);
    for (uint64_t u = 0; u < 20; u++) {
        size_t na = user_pages(&a, u, pa, 4096), nb = user_pages(&b, u, pb, 4096);

        ck_assert_uint_ge(nb, 100);
        ck_assert_uint_gt(na, nb);
        for (size_t k = 0; k < nb; k++) {
            ck_assert_uint_eq(pa[k], pb[k]);
        }
    }
    /* and the users do not share a sequence */
    user_pages(&a, 0, pa, 100);
    user_pages(&a, 1, pb, 100);
    ck_assert_int_ne(memcmp(pa, pb, 100 * sizeof *pa), 0);
    wrig_down(&a);
    wrig_down(&b);
}
END_TEST

START_TEST(open_arrivals_draw_the_same_pages_whatever_the_pool_size)
{
    static char json[12000];
    struct wrig a, b;

    mix_json(json, sizeof json, "\"model\": \"open\", \"rate\": 2000", 1, 20, "5ms");
    wrig_up(&a, json, 1);
    mix_json(json, sizeof json, "\"model\": \"open\", \"rate\": 2000", 1, 2, "5ms");
    wrig_up(&b, json, 1);
    run_to(&a, SIM_S(1));
    run_to(&b, SIM_S(1));
    ck_assert_uint_gt(a.nlog, 1000);
    ck_assert_uint_eq(a.nlog, b.nlog);
    /* 2 connections cannot serve 10 at once: b queues */
    ck_assert_uint_gt(b.s.m.pool_wait.n, 0);
    ck_assert_double_gt(b.s.m.pool_wait.max, (double)SIM_MS(100));
    for (size_t i = 0; i < a.nlog; i++) {
        ck_assert_int_eq(a.log[i].at, b.log[i].at);
        ck_assert_uint_eq(a.log[i].page, b.log[i].page);
        ck_assert_uint_eq(a.log[i].user, i);
    }
    wrig_down(&a);
    wrig_down(&b);
}
END_TEST

/* ---- open: rate steps ---- */

START_TEST(rate_steps_switch_at_their_times)
{
    struct wrig r;
    uint64_t before, during;
    size_t first;

    /* 1000/s, then almost never from 10 s, then 10^6/s from 20 s: a pending arrival drawn at
     * the old rate would make the first two phases run on for seconds, and the last one wait
     * for years */
    wrig_up(&r,
            HEAD
            "\"workload\": {\"model\": \"open\", \"rate\": 1000,"
            " \"rate_steps\": [[\"10s\", 1e-9], [\"20s\", 1e6]], \"page\": [\"a\"]}, " APP_A("0s")
                ZERO_COST,
            1);
    run_to(&r, SIM_S(10) - 1);
    before = r.s.wl.loads;
    ck_assert_uint_gt(before, 9000);
    ck_assert_double_eq(r.s.wl.rate_per_s, 1000);
    run_to(&r, SIM_S(20) - 1);
    during = r.s.wl.loads;
    ck_assert_uint_eq(during, before);
    ck_assert_double_eq(r.s.wl.rate_per_s, 1e-9);
    run_to(&r, SIM_S(20) + SIM_US(100));
    first = (size_t)during;
    /* about 100 arrivals in the first 100 us after the step, none before it */
    ck_assert_uint_gt(r.s.wl.loads, during + 50);
    ck_assert_int_ge(r.log[first].at, SIM_S(20));
    ck_assert_int_lt(r.log[first].at, SIM_S(20) + SIM_US(20));
    ck_assert_int_lt(r.log[first - 1].at, SIM_S(10));
    wrig_down(&r);
}
END_TEST

/* ---- loader ---- */

#define APP_ONLY "\"app\": {\"endpoints\": {\"a\": " QUERY("1ms") "}}}"

static void expect_error(const char *workload, const char *path, const char *msg)
{
    char json[2000];
    struct cJSON *doc = NULL;
    struct experiment x;
    struct err e;

    snprintf(json, sizeof json, HEAD "\"workload\": %s, " APP_ONLY, workload);
    err_clear(&e);
    ck_assert_msg(json_parse("test.json", json, strlen(json), &doc, &e) == 0, "%s", e.msg);
    ck_assert_msg(experiment_load(&x, doc, ".", &e) != 0, "%s loaded", workload);
    json_free(doc);
    ck_assert_str_eq(e.path, path);
    ck_assert_msg(strstr(e.msg, msg) != NULL, "message \"%s\" lacks \"%s\"", e.msg, msg);
}

START_TEST(loader_refuses_bad_workloads)
{
    expect_error("{\"page\": [\"a\"]}", "$.workload",
                 "missing key \"model\" (expected \"closed\" or \"open\")");
    expect_error("{\"model\": \"closed\", \"rate\": 5, \"page\": [\"a\"]}", "$.workload.rate",
                 "does not apply to the \"closed\" workload model");
    expect_error("{\"model\": \"open\", \"rate\": 5, \"users\": 5, \"page\": [\"a\"]}",
                 "$.workload.users", "does not apply to the \"open\" workload model");
    expect_error("{\"model\": \"open\", \"page\": [\"a\"]}", "$.workload", "missing key \"rate\"");
    expect_error("{\"model\": \"closed\", \"users\": 0, \"page\": [\"a\"]}", "$.workload.users",
                 "must be an integer in [1, 1000000], got 0");
    expect_error("{\"model\": \"closed\", \"start_spread\": 5, \"page\": [\"a\"]}",
                 "$.workload.start_spread", "bare number 5 needs a unit");
    expect_error("{\"model\": \"closed\", \"think_time\": {\"dist\": \"exponential\"},"
                 " \"page\": [\"a\"]}",
                 "$.workload.think_time", "mean");
    expect_error(
        "{\"model\": \"open\", \"rate\": 5, \"rate_steps\": [[\"60s\", 50], [\"60s\", 20]],"
        " \"page\": [\"a\"]}",
        "$.workload.rate_steps[1][0]", "must be later than the step before it (\"1m\")");
    expect_error("{\"model\": \"open\", \"rate\": 5, \"rate_steps\": [[\"60s\", 0]],"
                 " \"page\": [\"a\"]}",
                 "$.workload.rate_steps[0][1]", "got 0");
    expect_error(
        "{\"model\": \"open\", \"rate\": 5, \"rate_steps\": [[\"60s\"]], \"page\": [\"a\"]}",
        "$.workload.rate_steps[0]", "expected a pair [time, rate]");
    expect_error("{\"model\": \"open\", \"rate\": 5, \"rate_steps\": [[60, 5]], \"page\": [\"a\"]}",
                 "$.workload.rate_steps[0][0]", "bare number 60 needs a unit");
    expect_error("{\"model\": \"open\", \"rate\": 5, \"rate_steps\": [], \"page\": [\"a\"]}",
                 "$.workload.rate_steps", "must list at least one step");
}
END_TEST

/* The resolved configuration shows every workload key with its default. */
START_TEST(resolved_workload_shows_defaults_and_steps)
{
    struct experiment x;
    cJSON *o, *w;

    load_doc(&x, HEAD "\"workload\": {\"model\": \"closed\", \"page\": [\"a\"]}, " APP_ONLY);
    o = experiment_resolved(&x);
    w = cJSON_GetObjectItemCaseSensitive(o, "workload");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(w, "model")->valuestring, "closed");
    ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(w, "users")->valuedouble, 1);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(w, "start_spread")->valuestring, "0s");
    /* in the form the file wrote, so that summary.json's sources find it */
    ck_assert_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(w, "page"), 0)->valuestring, "a");
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(w, "pages"));
    ck_assert_str_eq(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(w, "think_time"), "value")
            ->valuestring,
        "0s");
    cJSON_Delete(o);
    experiment_fini(&x);
    load_doc(&x, HEAD "\"workload\": {\"model\": \"open\", \"rate\": 5, \"rate_steps\":"
                      " [[\"90s\", 50]], \"page\": [\"a\"]}, " APP_ONLY);
    o = experiment_resolved(&x);
    w = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "workload"),
                                         "rate_steps");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetArrayItem(w, 0), 0)->valuestring, "90s");
    ck_assert_double_eq(cJSON_GetArrayItem(cJSON_GetArrayItem(w, 0), 1)->valuedouble, 50);
    cJSON_Delete(o);
    experiment_fini(&x);
}
END_TEST

/* ---- invariants ---- */

/*
 * A busy closed run (50 users, exponential think times, 20 pages over 3
 * clients of 2 connections each: users queue) and an open one stepping up
 * and down, with wl_check every 100 us of simulated time: a few events apart.
 */
START_TEST(invariants_hold_throughout_busy_runs)
{
    static char json[12000];
    const char *w[2] = {"\"model\": \"closed\", \"users\": 50,"
                        " \"think_time\": {\"dist\": \"exponential\", \"mean\": \"5ms\"}",
                        "\"model\": \"open\", \"rate\": 500,"
                        " \"rate_steps\": [[\"500ms\", 5000], [\"1s\", 50]]"};

    for (size_t i = 0; i < 2; i++) {
        struct wrig r;

        mix_json(json, sizeof json, w[i], 3, 2, "2ms");
        wrig_up(&r, json, 1);
        for (sim_time t = 0; t <= SIM_MS(1500); t += SIM_US(100)) {
            run_to(&r, t);
        }
        ck_assert_uint_gt(r.s.wl.loads, 500);
        ck_assert_uint_gt(r.s.m.pool_wait.n, 0);
        wrig_down(&r);
    }
}
END_TEST

/* ---- statistical ---- */

/* |observed - expected| within 3.3 SE, and 3.3 SE at most half the error to catch. */
static void within(const char *what, double observed, double expected, double se, double catch)
{
    ck_assert_msg(TESTS_Z * se <= 0.5 * catch, "%s: 3.3 SE = %g exceeds half of %g", what,
                  TESTS_Z * se, catch);
    ck_assert_msg(fabs(observed - expected) <= TESTS_Z * se, "%s: %g, expected %g (SE %g)", what,
                  observed, expected, se);
}

/*
 * 20 one-endpoint pages of equal weight, app.clients 20: endpoint i uses
 * client i, so the calls of each client are the loads of page i, a
 * multinomial count: n/20 each, SE sqrt(n p (1 - p)).  Designed to catch a
 * client whose share is 10% off (a weight lost or doubled by an off-by-one
 * is far more): with n >= 82 764 loads, 3.3 SE is at most 5% of n/20.
 */
START_TEST(mix_spreads_calls_evenly_over_20_clients)
{
    static char json[12000];
    struct wrig r;
    uint64_t per[20] = {0};
    double p = 1.0 / 20, n, se;

    mix_json(json, sizeof json, CLOSED20, 20, 10, "1ms");
    wrig_up(&r, json, 1);
    run_to(&r, SIM_S(10));
    for (size_t i = 0; i < r.nlog; i++) {
        size_t ep = r.x.workload.pages[r.log[i].page].endpoints[0];

        per[ep % (size_t)r.x.app.clients]++;
    }
    n = (double)r.nlog;
    se = sqrt(n * p * (1 - p));
    for (size_t c = 0; c < 20; c++) {
        within("client calls", (double)per[c], n * p, se, 0.1 * n * p);
        /* the client's own pool did the work */
        ck_assert_int_ge(cpool_open(app_client_pool(&r.s.app, 0, c)), 1);
    }
    wrig_down(&r);
}
END_TEST

/*
 * Weights 1, 2 and 7 at 1000 pages/s for 50 s: given n, page i's count is
 * binomial (n, w_i / 10).  Designed to catch a 10% error in any page's
 * share; the smallest (0.1) needs the most loads: 3.3 sqrt(n 0.1 0.9) <=
 * 0.5 x 0.1 x 0.1 n holds for n >= 39 204.
 */
START_TEST(open_mix_follows_the_weights)
{
    struct wrig r;
    uint64_t per[3] = {0};
    const double w[3] = {0.1, 0.2, 0.7};
    double n;

    wrig_up(&r,
            HEAD "\"workload\": {\"model\": \"open\", \"rate\": 1000, \"pages\": {"
                 "\"x\": {\"endpoints\": [\"a\"], \"weight\": 1},"
                 "\"y\": {\"endpoints\": [\"a\"], \"weight\": 2},"
                 "\"z\": {\"endpoints\": [\"a\", \"a\"], \"weight\": 7}}}, " APP_A("1ms") ZERO_COST,
            1);
    run_to(&r, SIM_S(50));
    for (size_t i = 0; i < r.nlog; i++) {
        per[r.log[i].page]++;
    }
    n = (double)r.nlog;
    for (size_t i = 0; i < 3; i++) {
        within("page loads", (double)per[i], n * w[i], sqrt(n * w[i] * (1 - w[i])), 0.1 * n * w[i]);
    }
    wrig_down(&r);
}
END_TEST

/*
 * Rates 50/s on [0, 100 s), 200/s on [100 s, 200 s), 20/s on [200 s, 500 s):
 * the count in each phase is Poisson with mean rate x length (5000, 20 000,
 * 6000), SE its square root.  Designed to catch a 10% error in any phase's
 * count (a step applied late or early, or the wrong rate): each mean is at
 * least 3.3^2 / 0.05^2 = 4356.
 */
START_TEST(rate_steps_give_poisson_counts_per_phase)
{
    struct wrig r;
    const sim_time end[3] = {SIM_S(100), SIM_S(200), SIM_S(500)};
    const double mean[3] = {5000, 20000, 6000};
    uint64_t before = 0;

    wrig_up(&r,
            HEAD
            "\"workload\": {\"model\": \"open\", \"rate\": 50,"
            " \"rate_steps\": [[\"100s\", 200], [\"200s\", 20]], \"page\": [\"a\"]}, " APP_A("1ms")
                ZERO_COST,
            1);
    for (size_t i = 0; i < 3; i++) {
        run_to(&r, end[i] - 1);
        within("arrivals in a phase", (double)(r.s.wl.loads - before), mean[i], sqrt(mean[i]),
               0.1 * mean[i]);
        before = r.s.wl.loads;
    }
    wrig_down(&r);
}
END_TEST

/*
 * 10 000 users spread over 10 s, each loading once in the window: the start
 * times are uniform on [0, 10 s): mean 5 s (SE 10 / sqrt(12 n) s) and
 * variance 100/12 s^2 (SE sqrt((1/80 - 1/144) / n) x 100 s^2).  Designed to
 * catch a 5% error in the mean and 6% in the variance (a spread over the
 * wrong width, or not uniform).
 */
START_TEST(start_spread_is_uniform)
{
    struct wrig r;
    struct stat_acc acc;
    double n;

    wrig_up(&r,
            HEAD
            "\"workload\": {\"model\": \"closed\", \"users\": 10000, \"start_spread\": \"10s\","
            " \"think_time\": \"1h\", \"page\": [\"a\"]}, " APP_A("1ms") ZERO_COST,
            1);
    run_to(&r, SIM_S(11));
    ck_assert_uint_eq(r.nlog, 10000);
    stat_acc_init(&acc);
    for (size_t i = 0; i < r.nlog; i++) {
        stat_acc_add(&acc, sim_time_to_s(r.log[i].at));
    }
    n = (double)acc.n;
    within("mean start (s)", acc.mean, 5, 10 / sqrt(12 * n), 0.05 * 5);
    within("variance of starts (s^2)", stat_acc_var(&acc), 100.0 / 12,
           sqrt((1.0 / 80 - 1.0 / 144) / n) * 100, 0.06 * 100 / 12);
    wrig_down(&r);
}
END_TEST

/* ---- the machine-repairman model ---- */

#define FILE_MR "experiments/validate-machine-repairman.json"

/*
 * M/M/c//N: N users thinking for Exp(mean z_s), c servers of Exp(mean s_s).
 * The birth-death chain of n users at the database (waiting or served):
 * birth (N - n) / z_s, death min(n, c) / s_s.  Throughput X = sum p_n min(n,
 * c) / s_s, and by Little's law on the whole cycle R = N / X - z_s.
 */
static double machine_repairman(int n_users, int c, double z_s, double s_s, double *r_s)
{
    double p = 1, sum = 1, busy = 0; /* p_n, sum of p, sum of p min(n, c): unnormalised */

    for (int n = 0; n < n_users; n++) {
        p *= (n_users - n) / z_s / ((n + 1 < c ? n + 1 : c) / s_s);
        sum += p;
        busy += p * (n + 1 < c ? n + 1 : c);
        if (p > 1e200) { /* rescale: only ratios matter */
            p /= 1e200;
            sum /= 1e200;
            busy /= 1e200;
        }
    }
    *r_s = n_users / (busy / sum / s_s) - z_s;
    return busy / sum / s_s;
}

static size_t column(const char *name)
{
    size_t n;
    const struct runner_metric *m = metrics_columns(&n);

    for (size_t i = 0; i < n; i++) {
        if (strcmp(m[i].name, name) == 0) {
            return i;
        }
    }
    ck_abort_msg("no column %s", name);
    return 0;
}

struct mr_point {
    int users, c;
    double z_s, s_s;
    struct stat_acc x_rps, r_ms; /* one sample per replication */
};

/* Every replication of point idx of the validation file. */
static void run_mr_point(size_t idx, struct mr_point *pt)
{
    struct cJSON *doc = NULL;
    struct sweep_plan plan;
    struct experiment x;
    struct err e;
    size_t nm;
    double *v = xcalloc(metrics_columns(&nm) ? nm : 1, sizeof *v);
    struct hist *h = xcalloc(SER__COUNT, sizeof *h);

    err_clear(&e);
    ck_assert_msg(json_load_file(FILE_MR, &doc, &e) == 0, "%s", e.msg);
    ck_assert_msg(sweep_expand(doc, NULL, 0, &plan, &e) == 0, "%s", e.msg);
    ck_assert_msg(experiment_load(&x, plan.points[idx].doc, "experiments", &e) == 0, "%s: %s",
                  e.path, e.msg);
    ck_assert_int_eq(x.workload.model, WL_CLOSED);
    ck_assert_int_eq(x.workload.think_time.kind, DIST_EXPONENTIAL);
    ck_assert_int_eq(x.app.endpoints[0].ops[0].server_time.kind, DIST_EXPONENTIAL);
    pt->users = (int)x.workload.users;
    pt->c = (int)x.client_pool.prisma.connection_limit;
    pt->z_s = x.workload.think_time.mean_ns / 1e9;
    pt->s_s = x.app.endpoints[0].ops[0].server_time.mean_ns / 1e9;
    stat_acc_init(&pt->x_rps);
    stat_acc_init(&pt->r_ms);
    for (uint32_t rep = 1; rep <= x.replications; rep++) {
        for (int i = 0; i < SER__COUNT; i++) {
            hist_init(&h[i]);
        }
        scn_run(&x, rep, v, h);
        ck_assert_double_eq(v[column("errors")], 0);
        stat_acc_add(&pt->x_rps, v[column("throughput_rps")]);
        stat_acc_add(&pt->r_ms, v[column("latency_mean_ms")]);
    }
    experiment_fini(&x);
    sweep_plan_fini(&plan);
    json_free(doc);
    free(v);
    free(h);
}

static double se(const struct stat_acc *a)
{
    return sqrt(stat_acc_var(a) / (double)a->n);
}

/*
 * Replications are independent samples; designed to catch a 3% error in
 * throughput or mean response (3.3 SE at most 1.5%).  The file's
 * replications x duration were chosen for that; the slowest to converge is
 * the response time at N >> c, near the knee.
 */
static void check_mr_point(size_t idx, int users, int c)
{
    struct mr_point pt;
    double r_s, x_rps;

    run_mr_point(idx, &pt);
    ck_assert_int_eq(pt.users, users);
    ck_assert_int_eq(pt.c, c);
    x_rps = machine_repairman(pt.users, pt.c, pt.z_s, pt.s_s, &r_s);
    within("throughput (1/s)", pt.x_rps.mean, x_rps, se(&pt.x_rps), 0.03 * x_rps);
    within("mean response (ms)", pt.r_ms.mean, r_s * 1e3, se(&pt.r_ms), 0.03 * r_s * 1e3);
}

START_TEST(machine_repairman_fewer_users_than_connections)
{
    double r_s;

    /* the chain itself: no one ever waits when N <= c */
    ck_assert_double_eq_tol(machine_repairman(5, 10, 0.1, 0.1, &r_s), 25, 1e-9);
    ck_assert_double_eq_tol(r_s, 0.1, 1e-12);
    check_mr_point(0, 5, 10);
}
END_TEST

START_TEST(machine_repairman_about_as_many_users_as_connections)
{
    check_mr_point(1, 12, 10);
}
END_TEST

START_TEST(machine_repairman_many_more_users_than_connections)
{
    double r_s;

    /* the chain itself: saturated, X = c / s and R = N / X - z */
    ck_assert_double_eq_tol(machine_repairman(1000, 5, 0.01, 0.1, &r_s), 50, 1e-9);
    ck_assert_double_eq_tol(r_s, 1000 / 50.0 - 0.01, 1e-9);
    check_mr_point(2, 50, 5);
}
END_TEST

Suite *workload_suite(void)
{
    Suite *s = suite_create("workload");
    TCase *tc = tests_tcase(s, "exact", 20, "");

    tcase_add_test(tc, closed_users_reload_every_statement_plus_think);
    tcase_add_test(tc, closed_zero_think_time_reloads_at_once);
    tcase_add_test(tc, closed_user_waits_for_every_call_of_its_page);
    tcase_add_test(tc, closed_users_queue_for_the_only_connection);
    tcase_add_test(tc, closed_page_ends_at_its_answer_not_at_the_end_of_the_work);
    tcase_add_test(tc, start_spread_staggers_first_loads_per_user);
    tcase_add_test(tc, adding_users_never_shifts_another_users_think_times);
    tcase_add_test(tc, same_seed_same_pages_whatever_the_pool_size);
    tcase_add_test(tc, open_arrivals_draw_the_same_pages_whatever_the_pool_size);
    tcase_add_test(tc, rate_steps_switch_at_their_times);
    tcase_add_test(tc, loader_refuses_bad_workloads);
    tcase_add_test(tc, resolved_workload_shows_defaults_and_steps);
    tcase_add_test(tc, invariants_hold_throughout_busy_runs);
    tc = tests_tcase(s, "stat", 120, "stat");
    tcase_add_test(tc, mix_spreads_calls_evenly_over_20_clients);
    tcase_add_test(tc, open_mix_follows_the_weights);
    tcase_add_test(tc, rate_steps_give_poisson_counts_per_phase);
    tcase_add_test(tc, start_spread_is_uniform);
    tcase_add_test(tc, machine_repairman_fewer_users_than_connections);
    tcase_add_test(tc, machine_repairman_about_as_many_users_as_connections);
    tcase_add_test(tc, machine_repairman_many_more_users_than_connections);
    return s;
}

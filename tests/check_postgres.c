/*
 * check_postgres.c - PostgreSQL's CPU (processor sharing on `cores`, the
 * `cpu_share` split, the knee), statement_timeout, the Supabase presets and
 * the keys' validation (DESIGN.md §4, issue 5).
 *
 * The exact cases use constant times, no network and no backend start, so
 * that every answer is a hand-computed nanosecond.  The statistical case
 * checks the M/G/1 processor-sharing mean response time E[S]/(1 - rho),
 * which holds for any service distribution (insensitivity): with exponential
 * and with constant service times.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "models/config.h"
#include "models/scenario.h"
#include "sim/json.h"
#include "sim/xalloc.h"
#include "tests/rig.h"
#include "tests/tests.h"

/* ---- the rig (tests/rig.h) ---- */

#define HEAD                                                                                       \
    "{\"name\": \"t\", \"duration\": \"100s\", "                                                   \
    "\"workload\": {\"model\": \"open\", \"rate\": 1, \"page\": [\"a\"]}, "

/* Endpoints a, b, c: one statement each, of the given server times. */
#define APP3(ta, tb, tc)                                                                           \
    "\"app\": {\"endpoints\": {"                                                                   \
    "\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"" ta "\"}]}, "              \
    "\"b\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"" tb "\"}]}, "              \
    "\"c\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"" tc "\"}]}}}, "

/* PostgreSQL with no backend start, plus the keys under test. */
#define PG(keys) "\"postgres\": {\"backend_start\": \"0s\"" keys "}}"

static int load_doc(const char *json, struct experiment *x, struct err *e)
{
    struct cJSON *doc = NULL;
    int rc;

    err_clear(e);
    ck_assert_msg(json_parse("test.json", json, strlen(json), &doc, e) == 0, "%s", e->msg);
    rc = experiment_load(x, doc, ".", e);
    json_free(doc);
    return rc;
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

/* Run to t, then check every invariant of PostgreSQL, the heap's order included. */
static void run_to(struct rig *r, sim_time t)
{
    rig_run_to(r, t);
    ck_assert(pg_check(&r->s.pg));
}

/* Every success took exactly t, and there were n of them. */
static void all_ok_in(const struct rig *r, uint64_t n, sim_time t)
{
    ck_assert_uint_eq(r->h[SER_OK].n, n);
    ck_assert_int_eq(r->h[SER_OK].min, t);
    ck_assert_int_eq(r->h[SER_OK].max, t);
}

/* ---- a backend's own CPU at start (postgres.backend_cpu) ---- */

/* Start 5 ms of which 2 ms CPU, one core, CPU-bound 100 ms statements. */
#define PG_START(keys)                                                                             \
    "\"postgres\": {\"backend_start\": \"5ms\", \"backend_cpu\": \"2ms\", \"cores\": 1" keys "}}"

START_TEST(two_starts_share_the_core_then_wait_the_rest)
{
    struct rig r;

    /* Both CPU parts at half speed: done at 4 ms; the rest (3 ms) ends at 7 ms; the two
     * statements then share the core for 200 ms: 207 ms (205 ms were the start a delay). */
    rig_up(&r, HEAD APP3("100ms", "100ms", "1s") PG_START(""));
    rig_load(&r, "ab");
    run_to(&r, SIM_MS(4) - 1);
    ck_assert_uint_eq(r.s.pg.ps.n, 2);
    ck_assert_int_eq(pg_running(&r.s.pg), 0); /* a start is not a statement */
    run_to(&r, SIM_MS(4));
    ck_assert_uint_eq(r.s.pg.ps.n, 0);
    run_to(&r, SIM_S(1));
    all_ok_in(&r, 2, SIM_MS(207));
    rig_down(&r);
}
END_TEST

START_TEST(a_start_slows_a_running_statement_and_is_slowed_by_it)
{
    struct rig r;

    /* a: start alone 0-5 ms, statement from 5 ms.  b loads at 10 ms: its 2 ms CPU part runs
     * at half speed (10-14 ms), the rest ends at 17 ms.  a has 5 + 2 + 3 = 10 ms of work at
     * 17 ms; both then share: a ends at 17 + 2 x 90 = 197 ms, b at 197 + 10 = 207 ms. */
    rig_up(&r, HEAD APP3("100ms", "100ms", "1s") PG_START(""));
    rig_load(&r, "a");
    run_to(&r, SIM_MS(10));
    rig_load(&r, "b");
    run_to(&r, SIM_MS(14) - 1);
    ck_assert_uint_eq(r.s.pg.ps.n, 2);
    run_to(&r, SIM_MS(14));
    ck_assert_uint_eq(r.s.pg.ps.n, 1);
    run_to(&r, SIM_S(1));
    all_ok_in(&r, 2, SIM_MS(197));
    rig_down(&r);
}
END_TEST

START_TEST(a_start_abandoned_on_the_cpu_leaves_the_core)
{
    struct rig r;

    /* A 10 s start, all CPU, and Prisma's connect_timeout of 1 s: P1001 at 1 s withdraws the
     * connect, and the backend leaves the processor-sharing heap with it. */
    rig_up(&r,
           HEAD APP3("100ms", "100ms",
                     "1s") "\"client_pool\": {\"kind\": \"prisma-v6\", \"connect_timeout\": 1}, "
                           "\"postgres\": {\"backend_start\": \"10s\", \"backend_cpu\": \"10s\", "
                           "\"cores\": 1}}");
    rig_load(&r, "a");
    run_to(&r, SIM_S(1) - 1);
    ck_assert_uint_eq(r.s.pg.ps.n, 1);
    run_to(&r, SIM_S(2));
    ck_assert_uint_eq(r.s.m.errors, 1);
    ck_assert_uint_eq(r.s.pg.ps.n, 0);
    ck_assert_uint_eq(r.s.pg.starting_cpu, 0);
    rig_down(&r);
}
END_TEST

/* ---- processor sharing, exact ---- */

START_TEST(two_cpu_bound_statements_on_one_core_finish_together_at_200ms)
{
    struct rig r;

    rig_up(&r, HEAD APP3("100ms", "100ms", "1s") PG(", \"cores\": 1"));
    rig_load(&r, "ab");
    run_to(&r, SIM_MS(200) - 1);
    ck_assert_uint_eq(r.s.m.ok, 0);
    ck_assert_int_eq(pg_running(&r.s.pg), 2);
    run_to(&r, SIM_S(1));
    all_ok_in(&r, 2, SIM_MS(200));
    /* db_active counts both for 200 ms of the first second */
    ck_assert_double_eq_tol(stat_level_mean(&r.s.m.db_active, SIM_S(1)), 0.4, 1e-12);
    ck_assert_int_eq(pg_running(&r.s.pg), 0);
    ck_assert_uint_eq(r.s.pg.ps.n, 0);
    rig_down(&r);
}
END_TEST

START_TEST(two_cpu_bound_statements_on_two_cores_take_100ms)
{
    struct rig r;

    rig_up(&r, HEAD APP3("100ms", "100ms", "1s") PG(", \"cores\": 2"));
    rig_load(&r, "ab");
    run_to(&r, SIM_S(1));
    all_ok_in(&r, 2, SIM_MS(100));
    rig_down(&r);
}
END_TEST

START_TEST(statements_without_cpu_part_never_share)
{
    struct rig r;

    rig_up(&r, HEAD APP3("100ms", "100ms", "1s") PG(", \"cores\": 1, \"cpu_share\": 0"));
    rig_load(&r, "ab");
    run_to(&r, SIM_MS(50));
    ck_assert_uint_eq(r.s.pg.ps.n, 0); /* nothing ever enters processor sharing */
    ck_assert_int_eq(pg_running(&r.s.pg), 2);
    run_to(&r, SIM_S(1));
    all_ok_in(&r, 2, SIM_MS(100));
    rig_down(&r);
}
END_TEST

/*
 * cpu_share 0.5, one core: a (100 ms) and b (200 ms) start together with
 * CPU parts of 50 and 100 ms, each at half speed.  a's CPU part is done at
 * 100 ms, then its 50 ms rest: 150 ms.  b has 50 ms of CPU left, alone:
 * done at 150 ms, then its 100 ms rest: 250 ms.
 */
START_TEST(half_cpu_statements_share_then_wait)
{
    struct rig r;

    rig_up(&r, HEAD APP3("100ms", "200ms", "1s") PG(", \"cores\": 1, \"cpu_share\": 0.5"));
    rig_load(&r, "ab");
    run_to(&r, SIM_MS(100));
    ck_assert_uint_eq(r.s.pg.ps.n, 1); /* a is in its rest, b still on the core */
    ck_assert_int_eq(pg_running(&r.s.pg), 2);
    run_to(&r, SIM_S(1));
    ck_assert_uint_eq(r.s.m.ok, 2);
    ck_assert_int_eq(r.h[SER_OK].min, SIM_MS(150));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_MS(250));
    /* running: 2 for 150 ms, then 1 for 100 ms */
    ck_assert_double_eq_tol(stat_level_mean(&r.s.m.db_active, SIM_S(1)), 0.4, 1e-12);
    rig_down(&r);
}
END_TEST

START_TEST(knee_slowdown_formula)
{
    struct pg_config c;

    pg_config_default(&c);
    c.cores = 1;
    c.knee = true;
    c.knee_active = 1;
    c.knee_penalty = 0.5;
    ck_assert_double_eq(pg_slowdown(&c, 1), 1.0);
    ck_assert_double_eq(pg_slowdown(&c, 2), 2.0 * 1.5);
    ck_assert_double_eq(pg_slowdown(&c, 3), 3.0 * 2.0);
    c.cores = 2;
    c.knee_active = 2;
    c.knee_penalty = 0.25;
    ck_assert_double_eq(pg_slowdown(&c, 2), 1.0);
    ck_assert_double_eq(pg_slowdown(&c, 3), 1.5 * 1.25);
    ck_assert_double_eq(pg_slowdown(&c, 6), 3.0 * 2.0);
    c.knee = false;
    ck_assert_double_eq(pg_slowdown(&c, 6), 3.0);
    dist_fini(&c.backend_start);
}
END_TEST

/*
 * cores 1, knee active 1, penalty 0.5; a and b 100 ms, c 200 ms, together.
 * Three running: each at 1/3 / (1 + 0.5 x 2) = 1/6 of full speed, so a and b
 * are done after 600 ms.  c has 100 ms of CPU left, alone: 700 ms.
 */
START_TEST(knee_on_three_statements)
{
    struct rig r;

    rig_up(&r, HEAD APP3("100ms", "100ms", "200ms")
                   PG(", \"cores\": 1, \"knee\": {\"active\": 1, \"penalty\": 0.5}"));
    rig_load(&r, "abc");
    run_to(&r, SIM_MS(600) - 1);
    ck_assert_uint_eq(r.s.m.ok, 0);
    run_to(&r, SIM_MS(600));
    ck_assert_uint_eq(r.s.m.ok, 2);
    run_to(&r, SIM_S(2));
    ck_assert_uint_eq(r.s.m.ok, 3);
    ck_assert_int_eq(r.h[SER_OK].min, SIM_MS(600));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_MS(700));
    rig_down(&r);
}
END_TEST

/*
 * One core: a (100 ms) starts at 0 and runs alone for 50 ms; b (100 ms)
 * starts at 50 ms.  Both at half speed: a's last 50 ms of CPU take 100 ms,
 * done at 150 ms; b has done 50 ms by then, its last 50 ms alone: 200 ms.
 */
START_TEST(unequal_arrivals_share_the_core)
{
    struct rig r;

    rig_up(&r, HEAD APP3("100ms", "100ms", "1s") PG(", \"cores\": 1"));
    rig_load(&r, "a");
    run_to(&r, SIM_MS(50));
    rig_load(&r, "b");
    run_to(&r, SIM_MS(150) - 1);
    ck_assert_uint_eq(r.s.m.ok, 0);
    run_to(&r, SIM_MS(150));
    ck_assert_uint_eq(r.s.m.ok, 1);
    run_to(&r, SIM_MS(200) - 1);
    ck_assert_uint_eq(r.s.m.ok, 1);
    run_to(&r, SIM_MS(200));
    all_ok_in(&r, 2, SIM_MS(150)); /* a: 0 -> 150 ms, b: 50 -> 200 ms */
    rig_down(&r);
}
END_TEST

/*
 * Two cores, a and b of 1 ns and c of 2 ns at once: each at 2/3 of full
 * speed, a and b are done at 1.5 ns, rounded up to 2 ns; by then each has
 * had 4/3 ns of work.  c has 2/3 ns left, alone: 2.67 ns, rounded up to 3.
 */
START_TEST(completions_round_up_to_the_next_nanosecond)
{
    struct rig r;

    rig_up(&r, HEAD APP3("1ns", "1ns", "2ns") PG(", \"cores\": 2"));
    rig_load(&r, "abc");
    run_to(&r, 1);
    ck_assert_uint_eq(r.s.m.ok, 0);
    run_to(&r, 2);
    ck_assert_uint_eq(r.s.m.ok, 2);
    run_to(&r, 3);
    ck_assert_uint_eq(r.s.m.ok, 3);
    ck_assert_int_eq(r.h[SER_OK].min, 2);
    ck_assert_int_eq(r.h[SER_OK].max, 3);
    rig_down(&r);
}
END_TEST

/*
 * Regression: with penalty 0.1 the slowdown of two statements is 2 x 1.1,
 * which is 2.2000000000000002 in double precision, and 100 ms x that is
 * 220000000.00000003: rounded up naively, both would end at 220 ms + 1 ns
 * instead of the exact 220 ms.
 */
START_TEST(floating_point_error_never_adds_a_nanosecond)
{
    struct rig r;

    rig_up(&r, HEAD APP3("100ms", "100ms", "1s")
                   PG(", \"cores\": 1, \"knee\": {\"active\": 1, \"penalty\": 0.1}"));
    rig_load(&r, "ab");
    run_to(&r, SIM_S(1));
    all_ok_in(&r, 2, SIM_MS(220));
    rig_down(&r);
}
END_TEST

/*
 * a (1 s) alone to 500 ms, when b (100 ms) joins: v has passed 2^28 ns, so
 * the marks are shifted and v starts again at 0.  Half speed: b is done at
 * 700 ms; a, with 400 ms of CPU left, at 1100 ms.
 */
START_TEST(virtual_time_rebase_keeps_the_answers)
{
    struct rig r;

    rig_up(&r, HEAD APP3("1s", "100ms", "1s") PG(", \"cores\": 1"));
    rig_load(&r, "a");
    run_to(&r, SIM_MS(500));
    rig_load(&r, "b");
    run_to(&r, SIM_MS(500)); /* b's backend starts and its statement joins */
    ck_assert_uint_eq(r.s.pg.ps.n, 2);
    ck_assert_double_eq(r.s.pg.ps.v, 0);
    run_to(&r, SIM_MS(700));
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_MS(200));
    run_to(&r, SIM_MS(1100) - 1);
    ck_assert_uint_eq(r.s.m.ok, 1);
    run_to(&r, SIM_MS(1100));
    ck_assert_uint_eq(r.s.m.ok, 2);
    ck_assert_int_eq(r.h[SER_OK].max, SIM_MS(1100));
    rig_down(&r);
}
END_TEST

/*
 * Random arrivals on two cores with a knee, a CPU share, and timeouts: the
 * full invariant (heap order included) every 50 us.  With no network, no
 * backend start and a pool that never waits, a call is in flight exactly
 * while its statement runs, so db_active and in_flight have the same
 * time-average.
 */
START_TEST(busy_mixed_scenario_keeps_every_invariant)
{
    static const char json[] =
        "{\"name\": \"t\", \"duration\": \"2s\", "
        "\"workload\": {\"model\": \"open\", \"rate\": 200, \"page\": [\"a\", \"b\"]}, "
        "\"app\": {\"endpoints\": {"
        "\"a\": {\"operations\": [{\"type\": \"query\", \"statements\": 2, "
        "\"server_time\": {\"dist\": \"exponential\", \"mean\": \"2ms\"}}]}, "
        "\"b\": {\"operations\": [{\"type\": \"query\", "
        "\"server_time\": {\"dist\": \"uniform\", \"min\": \"0ms\", \"max\": \"8ms\"}}]}}}, "
        "\"client_pool\": {\"connection_limit\": 500, \"pool_timeout\": 0}, "
        "\"postgres\": {\"max_connections\": 1000, \"backend_start\": \"0s\", \"cores\": 2, "
        "\"cpu_share\": 0.7, \"knee\": {\"active\": 4, \"penalty\": 0.05}, "
        "\"statement_timeout\": \"20ms\"}}";
    struct experiment x;
    struct hist h[SER__COUNT];
    struct scenario s;
    struct err e;
    size_t peak = 0;

    ck_assert(load_doc(json, &x, &e) == 0);
    for (int i = 0; i < SER__COUNT; i++) {
        hist_init(&h[i]);
    }
    scn_init(&s, &x, 1, h, true);
    for (sim_time t = SIM_US(50); t <= SIM_S(2); t += SIM_US(50)) {
        sim_run_until(s.sim, t);
        ck_assert(pg_check(&s.pg));
        peak = s.pg.ps.n > peak ? s.pg.ps.n : peak;
    }
    ck_assert_uint_gt(peak, 8);                           /* the heap was exercised */
    ck_assert_uint_gt(s.m.errors_by_kind[ERRK_57014], 0); /* and the timeouts */
    ck_assert_uint_gt(s.m.ok, 600);
    ck_assert_uint_eq(s.m.errors, s.m.errors_by_kind[ERRK_57014]);
    ck_assert_double_eq_tol(stat_level_mean(&s.m.db_active, SIM_S(2)),
                            stat_level_mean(&s.m.in_flight, SIM_S(2)), 1e-9);
    scn_fini(&s);
    experiment_fini(&x);
}
END_TEST

/*
 * Through PgBouncer with 5 servers, never more than 5 statements run: on 5
 * cores none is ever slowed, so every metric must equal, to the last bit,
 * that of unlimited cores (random times: the sharing's arithmetic is exact
 * at full speed).
 */
START_TEST(enough_cores_change_nothing)
{
    static const char fmt[] =
        "{\"name\": \"t\", \"duration\": \"20s\", "
        "\"workload\": {\"model\": \"open\", \"rate\": 40, \"page\": [\"a\"]}, "
        "\"app\": {\"endpoints\": {\"a\": {\"operations\": [{\"type\": \"query\", "
        "\"statements\": 2, \"server_time\": {\"dist\": \"exponential\", \"mean\": "
        "\"50ms\"}}]}}}, "
        "\"pooler\": {\"kind\": \"pgbouncer\", \"pool_mode\": \"transaction\", "
        "\"default_pool_size\": 5}, "
        "\"postgres\": {\"cores\": %d}}";
    char json[1024];
    size_t nm;
    double *v[2];
    struct hist h[SER__COUNT];

    metrics_columns(&nm);
    for (int k = 0; k < 2; k++) {
        struct experiment x;
        struct err e;

        snprintf(json, sizeof json, fmt, 5 * k);
        ck_assert(load_doc(json, &x, &e) == 0);
        for (int i = 0; i < SER__COUNT; i++) {
            hist_init(&h[i]);
        }
        v[k] = xcalloc(nm, sizeof *v[k]);
        scn_run(&x, 1, v[k], h);
        experiment_fini(&x);
    }
    ck_assert_double_gt(v[0][column("ok")], 600);
    ck_assert_double_gt(v[0][column("pool_wait_mean_ms")], 1); /* 5 statements ran at times */
    for (size_t i = 0; i < nm; i++) {
        ck_assert_msg(memcmp(&v[0][i], &v[1][i], sizeof v[0][i]) == 0, "column %zu: %.17g vs %.17g",
                      i, v[0][i], v[1][i]);
    }
    free(v[0]);
    free(v[1]);
}
END_TEST

/* Unlimited cores: no processor-sharing state is ever touched. */
START_TEST(unlimited_cores_keep_no_sharing_state)
{
    struct rig r;

    rig_up(&r, HEAD APP3("100ms", "100ms", "100ms") PG(""));
    rig_load(&r, "abc");
    run_to(&r, SIM_MS(50));
    ck_assert_int_eq(pg_running(&r.s.pg), 3);
    ck_assert_uint_eq(r.s.pg.ps.n, 0);
    ck_assert_ptr_null(r.s.pg.ps.heap);
    run_to(&r, SIM_S(1));
    all_ok_in(&r, 3, SIM_MS(100));
    rig_down(&r);
}
END_TEST

/* ---- statement_timeout ---- */

static void timeout_cancels_at_50ms(const char *json)
{
    struct rig r;

    rig_up(&r, json);
    rig_load(&r, "a");
    run_to(&r, SIM_S(1));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_57014), SIM_MS(50));
    ck_assert_uint_eq(r.s.m.ok, 0);
    /* the backend is still connected, idle */
    ck_assert_int_eq(pg_backends(&r.s.pg), 1);
    ck_assert_int_eq(pg_running(&r.s.pg), 0);
    ck_assert_uint_eq(list_count(&r.s.pg.idle), 1);
    ck_assert_uint_eq(r.s.pg.ps.n, 0);
    /* the same connection takes the next statement */
    rig_load(&r, "b");
    run_to(&r, SIM_S(2));
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_MS(10));
    ck_assert_int_eq(pg_backends(&r.s.pg), 1);
    rig_down(&r);
}

START_TEST(statement_timeout_cancels_with_57014_and_frees_the_backend)
{
    timeout_cancels_at_50ms(HEAD APP3("100ms", "10ms", "1s") PG(", \"statement_timeout\": 50"));
    timeout_cancels_at_50ms(HEAD APP3("100ms", "10ms", "1s")
                                PG(", \"statement_timeout\": \"50ms\", \"cores\": 1"));
    timeout_cancels_at_50ms(HEAD APP3("100ms", "10ms", "1s") PG(
        ", \"statement_timeout\": 50, \"cores\": 1, \"cpu_share\": 0.2")); /* in the rest */
    ck_assert_str_eq(errkind_text(ERRK_57014), "canceling statement due to statement timeout");
}
END_TEST

/* A statement that ends at the very nanosecond of its timeout ends well. */
START_TEST(statement_ending_at_its_timeout_succeeds)
{
    const char *cases[] = {
        HEAD APP3("50ms", "1s", "1s") PG(", \"statement_timeout\": 50"),
        HEAD APP3("50ms", "1s", "1s") PG(", \"statement_timeout\": 50, \"cores\": 1"),
    };

    for (size_t i = 0; i < 2; i++) {
        struct rig r;

        rig_up(&r, cases[i]);
        rig_load(&r, "a");
        run_to(&r, SIM_S(1));
        ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_MS(50));
        ck_assert_uint_eq(r.s.m.errors, 0);
        rig_down(&r);
    }
}
END_TEST

/*
 * The same with the sharing event moved after the timer was set: b (10 ms)
 * runs beside a on the second core from 10 to 20 ms, so the event for a's
 * end is rescheduled twice and comes after a's statement_timeout at 50 ms.
 */
START_TEST(statement_ending_at_its_timeout_succeeds_whatever_the_event_order)
{
    struct rig r;

    rig_up(&r, HEAD APP3("50ms", "10ms", "1s") PG(", \"statement_timeout\": 50, \"cores\": 2"));
    rig_load(&r, "a");
    run_to(&r, SIM_MS(10));
    rig_load(&r, "b");
    run_to(&r, SIM_S(1));
    ck_assert_uint_eq(r.s.m.errors, 0);
    ck_assert_int_eq(r.h[SER_OK].min, SIM_MS(10));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_MS(50));
    rig_down(&r);
}
END_TEST

/*
 * One core, statement_timeout 100 ms.  a (1 s) alone from 0 to 50 ms, then
 * with b (60 ms) at half speed: at 100 ms a is cancelled, b has had 25 ms of
 * CPU; its last 35 ms alone end at 135 ms (latency 85 ms).
 */
START_TEST(cancelled_statement_leaves_the_core)
{
    struct rig r;

    rig_up(&r, HEAD APP3("1s", "60ms", "1s") PG(", \"statement_timeout\": 100, \"cores\": 1"));
    rig_load(&r, "a");
    run_to(&r, SIM_MS(50));
    rig_load(&r, "b");
    run_to(&r, SIM_S(2));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_57014), SIM_MS(100));
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_MS(85));
    rig_down(&r);
}
END_TEST

/*
 * PgBouncer, then Supavisor, in transaction mode with one server connection,
 * and Prisma's pgbouncer flag (every operation is BEGIN, DEALLOCATE ALL, the
 * statement, COMMIT).  a's statement is cancelled at 50 ms: its transaction
 * is aborted, so the pooler releases the server and b, waiting since 0, runs
 * its 10 ms: done at 60 ms.
 */
START_TEST(timeout_aborts_the_transaction_and_releases_the_pooled_server)
{
    static const char *const poolers[] = {
        "\"pooler\": {\"kind\": \"pgbouncer\", \"pool_mode\": \"transaction\","
        " \"default_pool_size\": 1, \"query_wait_timeout\": 5},",
        "\"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": \"transaction\","
        " \"pool_size\": 1},",
    };
    char json[2048];

    for (size_t i = 0; i < 2; i++) {
        struct rig r;

        snprintf(json, sizeof json,
                 HEAD
                 "\"app\": {\"clients\": 2, \"endpoints\": {"
                 "\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"1s\"}]},"
                 "\"b\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"10ms\"}]}}},"
                 "\"client_pool\": {\"pgbouncer\": true}, %s" PG(", \"statement_timeout\": 50"),
                 poolers[i]);
        rig_up(&r, json);
        rig_load(&r, "ab");
        run_to(&r, SIM_S(10));
        ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_57014), SIM_MS(50));
        ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_MS(60));
        ck_assert_uint_eq(r.s.m.errors, 1);
        ck_assert_uint_eq(r.s.m.tx_done, 1); /* the aborted transaction does not count */
        rig_down(&r);
    }
}
END_TEST

/* ---- presets and keys ---- */

#define APP1 APP3("1ms", "1ms", "1ms")

START_TEST(presets_follow_the_supabase_table)
{
    /* domain.md §3.5: Postgres max_connections; cores (nano..medium: shared, taken as 2) */
    static const struct {
        const char *name;
        int64_t max_connections, cores;
    } table[] = {{"nano", 60, 2},   {"micro", 60, 2},  {"small", 90, 2}, {"medium", 120, 2},
                 {"large", 160, 2}, {"xl", 240, 4},    {"2xl", 380, 8},  {"4xl", 480, 16},
                 {"8xl", 490, 32},  {"12xl", 500, 48}, {"16xl", 500, 64}};
    char json[1024];
    struct experiment x;
    struct err e;

    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        snprintf(json, sizeof json, HEAD APP1 "\"postgres\": {\"preset\": \"supabase-%s\"}}",
                 table[i].name);
        ck_assert_msg(load_doc(json, &x, &e) == 0, "%s: %s", e.path, e.msg);
        ck_assert_int_eq(x.postgres.max_connections, table[i].max_connections);
        ck_assert_int_eq(x.postgres.cores, table[i].cores);
        ck_assert_int_eq(x.postgres.superuser_reserved, 3);
        experiment_fini(&x);
    }
    ck_assert_ptr_null(pg_preset_names()[sizeof table / sizeof table[0]]);
}
END_TEST

START_TEST(explicit_keys_win_over_the_preset)
{
    struct experiment x;
    struct err e;

    /* written before the preset, still wins */
    ck_assert(load_doc(HEAD APP1 "\"postgres\": {\"cores\": 1, \"preset\": \"supabase-xl\"}}", &x,
                       &e) == 0);
    ck_assert_int_eq(x.postgres.cores, 1);
    ck_assert_int_eq(x.postgres.max_connections, 240);
    experiment_fini(&x);
    ck_assert(load_doc(HEAD APP1 "\"postgres\": {\"preset\": \"supabase-xl\", "
                                 "\"max_connections\": 30}}",
                       &x, &e) == 0);
    ck_assert_int_eq(x.postgres.cores, 4);
    ck_assert_int_eq(x.postgres.max_connections, 30);
    experiment_fini(&x);
}
END_TEST

static void expect_error(const char *pg_json, const char *path, const char *msg)
{
    char json[2048];
    struct experiment x;
    struct err e;

    snprintf(json, sizeof json, HEAD APP1 "\"postgres\": %s}", pg_json);
    ck_assert_msg(load_doc(json, &x, &e) == -1, "%s was accepted", pg_json);
    ck_assert_str_eq(e.path, path);
    ck_assert_str_eq(e.msg, msg);
}

START_TEST(postgres_keys_are_validated)
{
    expect_error("{\"cores\": -1}", "$.postgres.cores",
                 "must be an integer in [0, 1000000], got -1");
    expect_error("{\"cores\": 1.5}", "$.postgres.cores",
                 "must be an integer in [0, 1000000], got 1.5");
    expect_error("{\"cpu_share\": 1.5}", "$.postgres.cpu_share",
                 "must be a number in [0, 1], got 1.5");
    expect_error("{\"cpu_share\": -0.1}", "$.postgres.cpu_share",
                 "must be a number in [0, 1], got -0.1");
    expect_error("{\"cores\": 1, \"knee\": {\"active\": 2}}", "$.postgres.knee",
                 "missing key \"penalty\" (expected {\"active\": statements, \"penalty\": "
                 "slowdown per statement past them})");
    expect_error("{\"cores\": 1, \"knee\": {\"active\": 0, \"penalty\": 1}}",
                 "$.postgres.knee.active", "must be an integer in [1, 1000000], got 0");
    expect_error("{\"cores\": 1, \"knee\": {\"active\": 2, \"penalty\": -1}}",
                 "$.postgres.knee.penalty", "must be a number in [0, 1000000], got -1");
    expect_error("{\"cores\": 1, \"knee\": {\"active\": 2, \"penalty\": 1, \"x\": 1}}",
                 "$.postgres.knee.x",
                 "unknown key \"x\" (expected one of \"active\", \"penalty\")");
    expect_error("{\"knee\": {\"active\": 2, \"penalty\": 1}}", "$.postgres.knee",
                 "needs \"cores\" > 0 (with unlimited cores statements never slow each other)");
    expect_error("{\"statement_timeout\": -5}", "$.postgres.statement_timeout",
                 "must be at least \"0s\", got -5");
    expect_error("{\"preset\": \"supabase-tiny\"}", "$.postgres.preset",
                 "unknown value \"supabase-tiny\" (expected \"supabase-nano\", \"supabase-micro\", "
                 "\"supabase-small\", \"supabase-medium\", \"supabase-large\", \"supabase-xl\", "
                 "\"supabase-2xl\", \"supabase-4xl\", \"supabase-8xl\", \"supabase-12xl\" or "
                 "\"supabase-16xl\")");
}
END_TEST

START_TEST(resolved_configuration_shows_the_cpu_keys)
{
    struct experiment x;
    struct err e;
    struct cJSON *o;
    char *s;

    ck_assert(load_doc(HEAD APP1 "\"postgres\": {\"preset\": \"supabase-large\", \"cpu_share\": "
                                 "0.25, \"knee\": {\"active\": 4, \"penalty\": 0.5}, "
                                 "\"statement_timeout\": 30000}}",
                       &x, &e) == 0);
    o = experiment_resolved(&x);
    s = json_print(cJSON_GetObjectItemCaseSensitive(o, "postgres"));
    ck_assert_ptr_nonnull(strstr(s, "\"preset\":\"supabase-large\",\"cores\":2,\"cpu_share\":0.25,"
                                    "\"knee\":{\"active\":4,\"penalty\":0.5},"
                                    "\"statement_timeout\":\"30s\""));
    ck_assert_ptr_nonnull(strstr(s, "\"max_connections\":160"));
    free(s);
    cJSON_Delete(o);
    experiment_fini(&x);
}
END_TEST

/* ---- statistics: M/G/1 processor sharing ---- */

/*
 * Direct PostgreSQL, one core, cpu_share 1, Poisson arrivals at 60/s of
 * 10 ms statements (rho = 0.6), no network, no backend start, a client pool
 * that never waits: the mean response time of M/G/1-PS is
 * E[S] / (1 - rho) = 25 ms whatever the service distribution.  With
 * constant service a first-come-first-served core would give M/D/1's
 * 10 + 0.6 x 10 / (2 x 0.4) = 17.5 ms; no sharing at all 10 ms.
 */
#define MG1PS(dist)                                                                                \
    "{\"name\": \"ps\", \"seed\": 7, \"warmup\": \"10s\", \"duration\": \"%s\", "                  \
    "\"replications\": %d, "                                                                       \
    "\"workload\": {\"model\": \"open\", \"rate\": 60, \"page\": [\"a\"]}, "                       \
    "\"app\": {\"endpoints\": {\"a\": {\"operations\": [{\"type\": \"query\", "                    \
    "\"server_time\": " dist "}]}}}, "                                                             \
    "\"client_pool\": {\"connection_limit\": 1000, \"pool_timeout\": 0}, "                         \
    "\"postgres\": {\"max_connections\": 2000, \"backend_start\": \"0s\", \"cores\": 1}}"

/* Mean response time (ms) over replications: its mean and standard error. */
static void run_mg1ps(const char *json, double *mean_ms, double *se_ms)
{
    struct experiment x;
    struct err e;
    size_t nm;
    double *v = xcalloc(metrics_columns(&nm) ? nm : 1, sizeof *v);
    struct hist *h = xcalloc(SER__COUNT, sizeof *h);
    struct stat_acc acc;

    ck_assert_msg(load_doc(json, &x, &e) == 0, "%s: %s", e.path, e.msg);
    stat_acc_init(&acc);
    for (uint32_t rep = 1; rep <= x.replications; rep++) {
        for (int i = 0; i < SER__COUNT; i++) {
            hist_init(&h[i]);
        }
        scn_run(&x, rep, v, h);
        ck_assert_double_eq(v[column("errors")], 0);
        stat_acc_add(&acc, v[column("latency_mean_ms")]);
    }
    *mean_ms = acc.mean;
    *se_ms = sqrt(stat_acc_var(&acc) / (double)acc.n);
    experiment_fini(&x);
    free(v);
    free(h);
}

/*
 * The error to catch: 4% of E[T] = 1 ms (a wrong speed, a lost share; FCFS
 * is 30% off with constant service).  The assertion on power requires
 * 3.3 SE <= 0.5 ms.  The SE is the spread of the replications' means
 * (independent runs) / sqrt(R).  Measured with seed 7: exponential, 8 x 1000 s
 * gave 3.3 SE = 0.50 ms (too close), 8 x 2000 s 0.28 ms; constant, 8 x 500 s
 * 0.43 ms, 8 x 1000 s 0.20 ms.  The longer of each pair is used: the SE
 * estimate from 8 replications is itself uncertain by about 25%.
 */
static void check_mg1ps(const char *dist, const char *duration, int reps)
{
    char json[2048];
    double mean_ms, se_ms, want_ms = 10.0 / (1.0 - 0.6);

    snprintf(json, sizeof json, MG1PS("%s"), duration, reps, dist);
    run_mg1ps(json, &mean_ms, &se_ms);
    ck_assert_msg(TESTS_Z * se_ms <= 0.5 * 0.04 * want_ms, "%s: SE %g ms too large", dist, se_ms);
    ck_assert_msg(fabs(mean_ms - want_ms) <= TESTS_Z * se_ms, "%s: E[T] %g ms vs %g (SE %g)", dist,
                  mean_ms, want_ms, se_ms);
}

START_TEST(mm1_ps_mean_response_time)
{
    check_mg1ps("{\"dist\": \"exponential\", \"mean\": \"10ms\"}", "2000s", 8);
}
END_TEST

START_TEST(md1_ps_mean_response_time_is_insensitive)
{
    check_mg1ps("\"10ms\"", "1000s", 8);
}
END_TEST

Suite *postgres_suite(void)
{
    Suite *s = suite_create("postgres");
    TCase *tc = tests_tcase(s, "exact", 20, "");
    TCase *st = tests_tcase(s, "mg1-ps", 300, "stat");

    tcase_add_test(tc, two_cpu_bound_statements_on_one_core_finish_together_at_200ms);
    tcase_add_test(tc, two_starts_share_the_core_then_wait_the_rest);
    tcase_add_test(tc, a_start_slows_a_running_statement_and_is_slowed_by_it);
    tcase_add_test(tc, a_start_abandoned_on_the_cpu_leaves_the_core);
    tcase_add_test(tc, two_cpu_bound_statements_on_two_cores_take_100ms);
    tcase_add_test(tc, statements_without_cpu_part_never_share);
    tcase_add_test(tc, half_cpu_statements_share_then_wait);
    tcase_add_test(tc, knee_slowdown_formula);
    tcase_add_test(tc, knee_on_three_statements);
    tcase_add_test(tc, unequal_arrivals_share_the_core);
    tcase_add_test(tc, completions_round_up_to_the_next_nanosecond);
    tcase_add_test(tc, floating_point_error_never_adds_a_nanosecond);
    tcase_add_test(tc, unlimited_cores_keep_no_sharing_state);
    tcase_add_test(tc, enough_cores_change_nothing);
    tcase_add_test(tc, virtual_time_rebase_keeps_the_answers);
    tcase_add_test(tc, busy_mixed_scenario_keeps_every_invariant);
    tcase_add_test(tc, statement_timeout_cancels_with_57014_and_frees_the_backend);
    tcase_add_test(tc, statement_ending_at_its_timeout_succeeds);
    tcase_add_test(tc, statement_ending_at_its_timeout_succeeds_whatever_the_event_order);
    tcase_add_test(tc, cancelled_statement_leaves_the_core);
    tcase_add_test(tc, timeout_aborts_the_transaction_and_releases_the_pooled_server);
    tcase_add_test(tc, presets_follow_the_supabase_table);
    tcase_add_test(tc, explicit_keys_win_over_the_preset);
    tcase_add_test(tc, postgres_keys_are_validated);
    tcase_add_test(tc, resolved_configuration_shows_the_cpu_keys);
    tcase_add_test(st, mm1_ps_mean_response_time);
    tcase_add_test(st, md1_ps_mean_response_time_is_insensitive);
    return s;
}

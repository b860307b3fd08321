/*
 * check_trace.c - trace.csv's rows (models/trace.h): the sampling rule and
 * the row order of the sink, then two exact scenarios with constant times
 * whose every stage is computed by hand to the nanosecond (DESIGN.md §7,
 * rung 1): a request that waits at PgBouncer and is closed by
 * query_wait_timeout, and one that times out in Prisma's pool (P2024).
 */
#include <stdio.h>
#include <string.h>

#include "models/trace.h"
#include "tests/rig.h"
#include "tests/tests.h"

/* ---- the sink ---- */

START_TEST(samples_the_first_n_calls_from_the_warmup_on)
{
    struct trace tr;

    trace_init(&tr, 2, SIM_S(10));
    ck_assert_uint_eq(trace_sample(NULL, SIM_S(20), "a"), 0);    /* tracing off */
    ck_assert_uint_eq(trace_sample(&tr, SIM_S(10) - 1, "a"), 0); /* still in the warm-up */
    ck_assert_uint_eq(trace_sample(&tr, SIM_S(10), "a"), 1);
    ck_assert_uint_eq(trace_sample(&tr, SIM_S(11), "b"), 2);
    ck_assert_uint_eq(trace_sample(&tr, SIM_S(12), "c"), 0); /* N reached */
    ck_assert_uint_eq(tr.sampled, 2);
    trace_fini(&tr);
}
END_TEST

START_TEST(rows_go_by_request_then_time_and_unfinished_ones_end_the_run)
{
    struct trace tr;
    struct out_buf b;

    trace_init(&tr, 10, 0);
    out_buf_init(&b);
    ck_assert_uint_eq(trace_sample(&tr, 0, "a"), 1);
    ck_assert_uint_eq(trace_sample(&tr, 1500, "b,c"), 2);
    trace_emit(&tr, 1, 0, TRACE_ARRIVAL, "x");
    trace_emit(&tr, 2, 1500, TRACE_ARRIVAL, "y");
    trace_emit(&tr, 1, 2000000, TRACE_POOL_WAIT, "with, comma");
    trace_end(&tr, 1, 123456789012, "ok");
    trace_rows(&tr, SIM_S(200), "7,3,", &b);
    ck_assert_str_eq(b.data, "7,3,1,a,arrival,0.000000,x\n"
                             "7,3,1,a,pool_wait,2.000000,\"with, comma\"\n"
                             "7,3,1,a,outcome,123456.789012,ok\n"
                             "7,3,2,\"b,c\",arrival,0.001500,y\n"
                             "7,3,2,\"b,c\",outcome,200000.000000,"
                             "unfinished: in flight when the run ended\n");
    out_buf_fini(&b);
    trace_fini(&tr);
}
END_TEST

/* ---- exact scenarios ---- */

#define HEAD                                                                                       \
    "{\"name\": \"t\", \"duration\": \"100s\", "                                                   \
    "\"workload\": {\"model\": \"open\", \"rate\": 1, \"page\": [\"a\"]}, "

/* The rows of request id as "t_ms stage: detail" lines (the detail unquoted: tests avoid quotes).
 */
static void request_rows(const struct rig *r, uint64_t id, struct out_buf *out)
{
    struct out_buf all;
    char want[32];
    const char *line;

    out_buf_init(&all);
    trace_rows(r->s.trace, sim_now(r->s.sim), "", &all);
    snprintf(want, sizeof want, "%llu,", (unsigned long long)id);
    for (line = all.data; line && *line;) {
        const char *end = strchr(line, '\n');
        const char *f[5] = {line};

        for (int k = 1; k < 5; k++) {
            f[k] = strchr(f[k - 1], ',') + 1;
        }
        if (strncmp(line, want, strlen(want)) == 0) {
            out_buf_printf(out, "%.*s %.*s: %.*s\n", (int)(f[4] - f[3] - 1), f[3],
                           (int)(f[3] - f[2] - 1), f[2], (int)(end - f[4]), f[4]);
        }
        line = end + 1;
    }
    out_buf_fini(&all);
}

/* The rows of request id, without the details: "t_ms stage" lines. */
static void request_times(const struct rig *r, uint64_t id, struct out_buf *out)
{
    struct out_buf rows;

    out_buf_init(&rows);
    request_rows(r, id, &rows);
    for (const char *line = rows.data; line && *line;) {
        const char *colon = strchr(line, ':');

        out_buf_printf(out, "%.*s\n", (int)(colon - line), line);
        line = strchr(line, '\n') + 1;
    }
    out_buf_fini(&rows);
}

static void assert_times(const struct rig *r, uint64_t id, const char *want)
{
    struct out_buf got;

    out_buf_init(&got);
    request_times(r, id, &got);
    ck_assert_str_eq(got.data ? got.data : "", want);
    out_buf_fini(&got);
}

/* Request id has a row with exactly this "t_ms stage: detail" text. */
static void assert_row(const struct rig *r, uint64_t id, const char *row)
{
    struct out_buf got;

    out_buf_init(&got);
    request_rows(r, id, &got);
    ck_assert_msg(got.data && strstr(got.data, row), "no row \"%s\" in\n%s", row,
                  got.data ? got.data : "");
    out_buf_fini(&got);
}

/*
 * Calls a (2 s) and b (1 ms) at t = 0 through one PrismaClient and PgBouncer
 * in transaction mode with one server; app-pooler 2 ms, pooler-db 1 ms,
 * 3 round trips per login, backend start 5 ms.  Times in ms:
 *   0      both checkouts open a connection each (the pool has 5 permits);
 *   5      both logins reach PgBouncer (1 + 2 x 2), accepted at once;
 *   6      both connections are granted; each sends its first statement,
 *          which the empty statement cache turns into a Parse;
 *   7      a's Parse finds no server: it waits, and PgBouncer opens server 1
 *          (one login at a time: b's Parse, at 7 too, only waits);
 *   9.5    server 1's login reaches PostgreSQL (0.5 + 2 x 1); ready 5 ms later,
 *   15     answered at PgBouncer: a is linked after 8 ms and its Parse goes on;
 *   15.5   PostgreSQL answers the Parse at once; 16 PgBouncer releases the
 *          server (no transaction open) and links b (waited 9 ms);
 *   16.5   b's Parse answered; 17 released; a has its Parse answer and sends
 *          the Execute, which reaches PgBouncer at 18 and takes the idle server;
 *   18.5   a's statement starts at PostgreSQL, done at 2018.5; released at 2019,
 *          answered at 2020 (a's connection back to the pool, then ok);
 *   18     b has its Parse answer; its Execute waits at PgBouncer from 19;
 *   the janitor ticks every 333.333 ms: at 999.999 b has waited 980.999 ms,
 *   at 1333.332 it has waited 1314.332 > 1000: closed with query_wait_timeout,
 *   whose FATAL reaches the app at 1334.332 (connection dropped, then the answer).
 */
START_TEST(pgbouncer_wait_and_query_wait_timeout_to_the_nanosecond)
{
    struct rig r;

    rig_up(&r, HEAD "\"app\": {\"endpoints\": {"
                    "\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"2s\"}]},"
                    "\"b\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"1ms\"}]}}},"
                    "\"pooler\": {\"kind\": \"pgbouncer\", \"pool_mode\": \"transaction\","
                    " \"default_pool_size\": 1, \"query_wait_timeout\": 1},"
                    "\"postgres\": {\"backend_start\": \"5ms\"},"
                    "\"network\": {\"app_pooler_rtt\": \"2ms\", \"pooler_db_rtt\": \"1ms\"}}");
    scn_trace(&r.s, 10, 0);
    rig_load(&r, "ab");
    rig_run_to(&r, SIM_S(5));
    assert_times(&r, 1,
                 "0.000000 arrival\n"
                 "0.000000 pool_wait\n"
                 "0.000000 connect\n"
                 "5.000000 connect\n"
                 "6.000000 pool_wait\n"
                 "6.000000 statement\n"
                 "7.000000 pooler_wait\n"
                 "7.000000 connect\n"
                 "9.500000 connect\n"
                 "15.000000 pooler_wait\n"
                 "15.500000 statement\n"
                 "16.000000 release\n"
                 "18.000000 pooler_wait\n"
                 "18.500000 statement\n"
                 "2018.500000 statement\n"
                 "2019.000000 release\n"
                 "2020.000000 release\n"
                 "2020.000000 outcome\n");
    assert_row(&r, 1, "6.000000 pool_wait: prisma-v6: got connection 1 after 6 ms\n");
    assert_row(&r, 1, "7.000000 connect: pgbouncer: opens server 1 (1 clients waiting)\n");
    assert_row(&r, 1, "15.000000 pooler_wait: pgbouncer: server 1 linked after 8 ms\n");
    assert_row(&r, 1, "15.500000 statement: postgres: answers a Parse at once\n");
    assert_row(&r, 1, "2018.500000 statement: postgres: done after 2000 ms\n");
    assert_row(&r, 1, "2020.000000 outcome: ok after 2020 ms\n");
    assert_times(&r, 2,
                 "0.000000 arrival\n"
                 "0.000000 pool_wait\n"
                 "0.000000 connect\n"
                 "5.000000 connect\n"
                 "6.000000 pool_wait\n"
                 "6.000000 statement\n"
                 "7.000000 pooler_wait\n"
                 "16.000000 pooler_wait\n"
                 "16.500000 statement\n"
                 "17.000000 release\n"
                 "19.000000 pooler_wait\n"
                 "1333.332000 pooler_wait\n"
                 "1334.332000 release\n"
                 "1334.332000 outcome\n");
    assert_row(&r, 2, "16.000000 pooler_wait: pgbouncer: server 1 linked after 9 ms\n");
    assert_row(&r, 2,
               "1333.332000 pooler_wait: pgbouncer: closes the client after 1314.332 ms "
               "waiting: query_wait_timeout\n");
    assert_row(&r, 2, "1334.332000 outcome: query_wait_timeout after 1334.332 ms");
    /* the trace agrees with the metrics */
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_QUERY_WAIT_TIMEOUT), SIM_US(1334332));
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_MS(2020));
    rig_down(&r);
}
END_TEST

/*
 * Direct to PostgreSQL, connection_limit 1, pool_timeout 2 s, app-db 10 ms,
 * backend start 5 ms; a (5 s) and b at t = 0.  Times in ms: a opens the
 * connection; its login reaches PostgreSQL at 25 (5 + 2 x 10) and is answered
 * at 35 (5 ms start, 5 back); the Parse is answered at PostgreSQL at 40, back
 * at 45; the Execute starts at 50 and ends at 5050; answered at 5055.  b waits
 * for the permit from 0 and gives up at 2000: P2024.
 */
START_TEST(prisma_pool_timeout_to_the_nanosecond)
{
    struct rig r;

    rig_up(&r, HEAD "\"app\": {\"endpoints\": {"
                    "\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"5s\"}]},"
                    "\"b\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"5s\"}]}}},"
                    "\"client_pool\": {\"connection_limit\": 1, \"pool_timeout\": 2},"
                    "\"postgres\": {\"backend_start\": \"5ms\"},"
                    "\"network\": {\"app_db_rtt\": \"10ms\"}}");
    scn_trace(&r.s, 10, 0);
    rig_load(&r, "ab");
    rig_run_to(&r, SIM_S(10));
    assert_times(&r, 1,
                 "0.000000 arrival\n"
                 "0.000000 pool_wait\n"
                 "0.000000 connect\n"
                 "25.000000 connect\n"
                 "35.000000 pool_wait\n"
                 "35.000000 statement\n"
                 "40.000000 statement\n"
                 "50.000000 statement\n"
                 "5050.000000 statement\n"
                 "5055.000000 release\n"
                 "5055.000000 outcome\n");
    assert_row(&r, 1, "50.000000 statement: postgres: starts an Execute; 5000 ms of server time");
    assert_times(&r, 2,
                 "0.000000 arrival\n"
                 "0.000000 pool_wait\n"
                 "2000.000000 pool_wait\n"
                 "2000.000000 outcome\n");
    assert_row(&r, 2,
               "0.000000 pool_wait: prisma-v6: checkout; 1 of 1 connections in use; "
               "0 waiting ahead\n");
    assert_row(&r, 2, "2000.000000 pool_wait: prisma-v6: gave up after 2000 ms: P2024\n");
    assert_row(&r, 2, "2000.000000 outcome: \"P2024 after 2000 ms (attempt 1): Timed out");
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_P2024), SIM_S(2));
    rig_down(&r);
}
END_TEST

/*
 * A call that arrives before the sink's start is not traced, nor one past N.
 * Zero round trips and backend start: the traced call, at 10 ms, reuses the
 * idle connection, whose statement cache holds its statement (an Execute at
 * once), and runs 5 ms.
 */
START_TEST(calls_before_the_start_or_past_n_are_not_traced)
{
    struct rig r;

    rig_up(&r, HEAD "\"app\": {\"endpoints\": {"
                    "\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"5ms\"}]}}},"
                    "\"postgres\": {\"backend_start\": \"0s\"}}");
    scn_trace(&r.s, 1, SIM_MS(1));
    rig_load(&r, "a");
    rig_run_to(&r, SIM_MS(10));
    rig_load(&r, "a");
    rig_load(&r, "a"); /* past N = 1 */
    rig_run_to(&r, SIM_S(1));
    ck_assert_uint_eq(r.s.trace->sampled, 1);
    ck_assert_uint_eq(r.s.m.ok, 3);
    assert_times(&r, 1,
                 "10.000000 arrival\n"
                 "10.000000 pool_wait\n"
                 "10.000000 pool_wait\n"
                 "10.000000 statement\n"
                 "10.000000 statement\n"
                 "15.000000 statement\n"
                 "15.000000 release\n"
                 "15.000000 outcome\n");
    assert_row(&r, 1,
               "10.000000 statement: postgres: starts an Execute; 5 ms of server time; "
               "0 running before it");
    rig_down(&r);
}
END_TEST

Suite *trace_suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tests_tcase(s, "exact", 20, "");

    tcase_add_test(tc, samples_the_first_n_calls_from_the_warmup_on);
    tcase_add_test(tc, rows_go_by_request_then_time_and_unfinished_ones_end_the_run);
    tcase_add_test(tc, pgbouncer_wait_and_query_wait_timeout_to_the_nanosecond);
    tcase_add_test(tc, prisma_pool_timeout_to_the_nanosecond);
    tcase_add_test(tc, calls_before_the_start_or_past_n_are_not_traced);
    return s;
}

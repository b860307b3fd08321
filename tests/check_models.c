/*
 * check_models.c - the request path with constant times, where every answer
 * is exact to the nanosecond (DESIGN.md §7, rung 1): round trips, backend
 * start, PgBouncer's linking and janitor, Prisma's timers, and PostgreSQL's
 * slots.  Each scenario loads pages by hand (no random arrivals).
 */
#include "tests/rig.h"
#include "tests/tests.h"

/* Common keys; each test adds its own app, client_pool, pooler, postgres and network. */
#define HEAD                                                                                       \
    "{\"name\": \"t\", \"duration\": \"100s\", "                                                   \
    "\"workload\": {\"model\": \"open\", \"rate\": 1, \"page\": [\"a\"]}, "

#define ENDPOINTS2(t)                                                                              \
    "\"endpoints\": {"                                                                             \
    "\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"" t "\"}]}, "               \
    "\"b\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"" t "\"}]}}"

START_TEST(direct_refuses_third_connection_with_53300)
{
    struct rig r;

    rig_up(&r, HEAD "\"app\": {\"endpoints\": {"
                    "\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"1s\"}]},"
                    "\"b\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"1s\"}]},"
                    "\"c\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"1s\"}]}}},"
                    "\"client_pool\": {\"connection_limit\": 10},"
                    "\"postgres\": {\"max_connections\": 5, \"superuser_reserved_connections\": 3,"
                    "               \"backend_start\": \"5ms\"},"
                    "\"network\": {\"app_db_rtt\": \"10ms\"}}");
    rig_load(&r, "abc");
    rig_run_to(&r, SIM_S(10));
    ck_assert_uint_eq(r.s.m.ok, 2);
    ck_assert_uint_eq(r.s.m.errors_by_kind[ERRK_53300], 1);
    /* refused when the startup arrives (2.5 round trips), answer half a trip later */
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_53300), SIM_MS(30));
    /* 3 round trips + backend start, a Parse round trip (a new connection's statement cache
     * is empty), then one round trip + 1 s */
    ck_assert_int_eq(r.h[SER_OK].min, SIM_MS(30 + 5 + 10 + 10 + 1000));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_MS(30 + 5 + 10 + 10 + 1000));
    ck_assert_str_eq(pg_refusal_text(&r.x.postgres, 2),
                     "remaining connection slots are reserved for roles with the SUPERUSER "
                     "attribute");
    ck_assert_int_eq(pg_backends(&r.s.pg), 2);
    rig_down(&r);
}
END_TEST

START_TEST(statement_latency_is_server_time_plus_round_trips)
{
    struct rig r;

    /* an odd round trip: 1001 ns is paid 500 ns out and 501 ns back */
    rig_up(&r, HEAD "\"app\": {\"endpoints\": {\"a\": {\"operations\": [{\"type\": \"query\","
                    " \"statements\": 2, \"server_time\": \"100ms\"}]}}},"
                    "\"postgres\": {\"backend_start\": \"5ms\"},"
                    "\"network\": {\"app_db_rtt\": \"1001ns\"}}");
    rig_load(&r, "a");
    rig_run_to(&r, SIM_S(1));
    /* each of the 2 statements is prepared first: a Parse round trip */
    ck_assert_int_eq(rig_only_latency(&r, SER_OK),
                     3 * 1001 + SIM_MS(5) + 2 * 1001 + 2 * (1001 + SIM_MS(100)));
    rig_load(&r, "a"); /* the idle connection is reused: no connect, both statements cached */
    rig_run_to(&r, SIM_S(2));
    ck_assert_int_eq(r.h[SER_OK].min, 2 * (1001 + SIM_MS(100)));
    ck_assert_uint_eq(r.s.m.tx_done, 4);
    rig_down(&r);
}
END_TEST

#define PGB_TX                                                                                     \
    "\"pooler\": {\"kind\": \"pgbouncer\", \"pool_mode\": \"transaction\","                        \
    " \"default_pool_size\": 1, \"query_wait_timeout\": 1},"

START_TEST(pgbouncer_path_adds_login_and_both_hops)
{
    struct rig r;

    rig_up(&r, HEAD "\"app\": {\"endpoints\": {\"a\": {\"operations\": [{\"type\": \"query\","
                    " \"server_time\": \"100ms\"}]}}}," PGB_TX
                    "\"postgres\": {\"backend_start\": \"5ms\"},"
                    "\"network\": {\"app_pooler_rtt\": \"2ms\", \"pooler_db_rtt\": \"1ms\"}}");
    rig_load(&r, "a");
    rig_run_to(&r, SIM_S(1));
    /* client login 3 x 2 ms; the Parse 1 ms out; server login 3 x 1 ms + 5 ms; 0.5 + 0.5;
     * 1 ms back; then the statement: 1 ms out, 0.5 + 100 + 0.5, 1 ms back (PgBouncer's
     * server holds the statement: nothing to re-prepare) */
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_MS(6 + 1 + 8 + 1 + 1 + 1 + 101 + 1));
    ck_assert_double_eq(r.s.m.pooler_wait.max, (double)SIM_MS(8));
    rig_load(&r, "a"); /* idle client connection and idle server reused */
    rig_run_to(&r, SIM_S(2));
    ck_assert_int_eq(r.h[SER_OK].min, SIM_MS(1 + 0) + SIM_US(500) * 2 + SIM_MS(100) + SIM_MS(1));
    ck_assert_int_eq(pgb_servers(&r.s.pgb), 1);
    rig_down(&r);
}
END_TEST

START_TEST(query_wait_timeout_fires_on_first_janitor_tick_past_it)
{
    struct rig r;

    rig_up(&r, HEAD "\"app\": {" ENDPOINTS2("10s") "}," PGB_TX
                                                   "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    rig_run_to(&r, SIM_S(20));
    /* ticks at k x 333 333 us: 999 999 us is not past 1 s, 1 333 332 us is */
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_QUERY_WAIT_TIMEOUT), SIM_US(1333332));
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_S(10));
    rig_down(&r);
}
END_TEST

START_TEST(prisma_pool_timeout_fails_waiter_with_p2024)
{
    struct rig r;

    rig_up(&r, HEAD "\"app\": {" ENDPOINTS2(
                   "5s") "},"
                         "\"client_pool\": {\"connection_limit\": 1, \"pool_timeout\": 2},"
                         "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    rig_run_to(&r, SIM_S(20));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_P2024), SIM_S(2));
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_S(5));
    ck_assert_double_eq(r.s.m.pool_wait.max, (double)SIM_S(2)); /* the failed wait counts */
    rig_down(&r);
}
END_TEST

START_TEST(prisma_connect_timeout_is_p1001_and_withdraws_the_connect)
{
    struct rig r;

    rig_up(&r, HEAD "\"app\": {" ENDPOINTS2(
                   "1s") "},"
                         "\"client_pool\": {\"connection_limit\": 1, \"connect_timeout\": \"1s\"},"
                         "\"postgres\": {\"backend_start\": \"3s\"}}");
    rig_load(&r, "ab");
    rig_run_to(&r, SIM_MS(1500));
    /* a fails at 1 s; then b's permit opens a new connect, which fails at 2 s */
    ck_assert_uint_eq(r.s.m.errors_by_kind[ERRK_P1001], 1);
    ck_assert_int_eq(pg_backends(&r.s.pg), 1); /* a's backend was withdrawn, b's is starting */
    rig_run_to(&r, SIM_S(20));
    ck_assert_uint_eq(r.s.m.errors_by_kind[ERRK_P1001], 2);
    ck_assert_int_eq(r.h[SER_ERRORS + ERRK_P1001].max, SIM_S(2));
    ck_assert_int_eq(pg_backends(&r.s.pg), 0);
    rig_down(&r);
}
END_TEST

START_TEST(pgbouncer_max_client_conn_refuses_at_login)
{
    struct rig r;

    rig_up(&r, HEAD "\"app\": {" ENDPOINTS2(
                   "1s") "},"
                         "\"pooler\": {\"kind\": \"pgbouncer\", \"pool_mode\": \"transaction\","
                         "             \"max_client_conn\": 1},"
                         "\"postgres\": {\"backend_start\": \"0s\"},"
                         "\"network\": {\"app_pooler_rtt\": \"10ms\"}}");
    rig_load(&r, "ab");
    rig_run_to(&r, SIM_S(5));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_MAX_CLIENT_CONN), SIM_MS(30));
    ck_assert_uint_eq(r.s.m.ok, 1);
    rig_down(&r);
}
END_TEST

START_TEST(pgbouncer_flag_wraps_operation_in_one_transaction)
{
    struct rig r;

    rig_up(&r, HEAD "\"app\": {\"endpoints\": {\"a\": {\"operations\": [{\"type\": \"query\","
                    " \"statements\": 2, \"server_time\": \"10ms\"}]}}},"
                    "\"client_pool\": {\"pgbouncer\": true}," PGB_TX
                    "\"postgres\": {\"backend_start\": \"0s\"},"
                    "\"network\": {\"app_pooler_rtt\": \"2ms\"}}");
    rig_load(&r, "a");
    rig_run_to(&r, SIM_S(1));
    /* connect 6 ms; BEGIN, DEALLOCATE ALL, 2 statements, COMMIT: 5 round trips + 20 ms */
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_MS(6 + 5 * 2 + 20));
    ck_assert_uint_eq(r.s.m.tx_done, 1);
    /* linked when BEGIN arrives (7 ms), released when COMMIT arrives (35 ms) */
    ck_assert_double_eq(r.s.m.server_hold.mean, (double)SIM_MS(28));
    rig_down(&r);
}
END_TEST

START_TEST(autocommit_statements_release_the_server_each_time)
{
    struct rig r;

    rig_up(&r, HEAD "\"app\": {\"endpoints\": {\"a\": {\"operations\": [{\"type\": \"query\","
                    " \"statements\": 2, \"server_time\": \"10ms\"}]}}}," PGB_TX
                    "\"postgres\": {\"backend_start\": \"0s\"},"
                    "\"network\": {\"app_pooler_rtt\": \"2ms\"}}");
    rig_load(&r, "a");
    rig_run_to(&r, SIM_S(1));
    /* each statement is prepared first: its Parse is a server link of its own, of 0 ms */
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_MS(6 + 2 * 2 + 2 * 2 + 20));
    ck_assert_uint_eq(r.s.m.tx_done, 2);
    ck_assert_uint_eq(r.s.m.server_hold.n, 4);
    ck_assert_double_eq(r.s.m.server_hold.mean, (double)SIM_MS(5));
    rig_down(&r);
}
END_TEST

#define TWO_CLIENTS "\"app\": {\"clients\": 2, " ENDPOINTS2("1s") "},"

START_TEST(session_mode_holds_the_server_until_disconnect)
{
    struct rig r;

    /* a and b use two PrismaClients: a's connection stays open, so in session mode the only
     * server stays linked to it and b waits until query_wait_timeout */
    rig_up(&r, HEAD TWO_CLIENTS "\"pooler\": {\"kind\": \"pgbouncer\", \"pool_mode\": \"session\","
                                "             \"default_pool_size\": 1, \"query_wait_timeout\": 5},"
                                "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    rig_run_to(&r, SIM_S(20));
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_S(1));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_QUERY_WAIT_TIMEOUT), SIM_US(5333328));
    rig_down(&r);
}
END_TEST

START_TEST(transaction_mode_shares_the_server)
{
    struct rig r;

    rig_up(&r,
           HEAD TWO_CLIENTS "\"pooler\": {\"kind\": \"pgbouncer\", \"pool_mode\": \"transaction\","
                            "             \"default_pool_size\": 1, \"query_wait_timeout\": 5},"
                            "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    rig_run_to(&r, SIM_S(20));
    ck_assert_int_eq(r.h[SER_OK].min, SIM_S(1));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_S(2));
    ck_assert_uint_eq(r.s.m.pooler_waited, 1);
    rig_down(&r);
}
END_TEST

Suite *models_suite(void)
{
    Suite *s = suite_create("models");
    TCase *tc = tests_tcase(s, "exact", 20, "");

    tcase_add_test(tc, direct_refuses_third_connection_with_53300);
    tcase_add_test(tc, statement_latency_is_server_time_plus_round_trips);
    tcase_add_test(tc, pgbouncer_path_adds_login_and_both_hops);
    tcase_add_test(tc, query_wait_timeout_fires_on_first_janitor_tick_past_it);
    tcase_add_test(tc, prisma_pool_timeout_fails_waiter_with_p2024);
    tcase_add_test(tc, prisma_connect_timeout_is_p1001_and_withdraws_the_connect);
    tcase_add_test(tc, pgbouncer_max_client_conn_refuses_at_login);
    tcase_add_test(tc, pgbouncer_flag_wraps_operation_in_one_transaction);
    tcase_add_test(tc, autocommit_statements_release_the_server_each_time);
    tcase_add_test(tc, session_mode_holds_the_server_until_disconnect);
    tcase_add_test(tc, transaction_mode_shares_the_server);
    return s;
}

/*
 * check_supavisor.c - Supavisor's pool with constant times (reference/domain.md
 * §3): EMAXCONN, the checkout FIFO and ECHECKOUTTIMEOUT in transaction mode,
 * both session-mode eras, capacity, the warm and overflow workers, and what a
 * session's disconnect does to its backend.  Answers are exact to the ns.
 */
#include "tests/rig.h"
#include "tests/tests.h"

#define HEAD(t)                                                                                    \
    "{\"name\": \"t\", \"duration\": \"100s\", "                                                   \
    "\"workload\": {\"model\": \"open\", \"rate\": 1, \"page\": [\"a\"]}, "                        \
    "\"app\": {\"clients\": 2, \"endpoints\": {"                                                   \
    "\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"" t "\"}]}, "               \
    "\"b\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"" t "\"}]}}}, "

START_TEST(transaction_mode_refuses_beyond_max_clients_with_emaxconn)
{
    struct rig r;

    rig_up(&r, HEAD("1s") "\"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": \"transaction\","
                          " \"max_clients\": 1},"
                          "\"postgres\": {\"backend_start\": \"0s\"},"
                          "\"network\": {\"app_pooler_rtt\": \"10ms\"}}");
    rig_load(&r, "ab");
    sim_run_until(r.s.sim, SIM_S(10));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_EMAXCONN), SIM_MS(30));
    ck_assert_uint_eq(r.s.m.ok, 1);
    rig_down(&r);
}
END_TEST

START_TEST(transaction_mode_queues_fifo_until_the_transaction_ends)
{
    struct rig r;

    rig_up(&r, HEAD("1s") "\"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": \"transaction\","
                          " \"pool_size\": 1},"
                          "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    sim_run_until(r.s.sim, SIM_S(10));
    ck_assert_int_eq(r.h[SER_OK].min, SIM_S(1));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_S(2));
    ck_assert_uint_eq(r.s.m.pooler_waited, 1);
    ck_assert_int_eq(supa_workers(&r.s.supa), 1);
    rig_down(&r);
}
END_TEST

START_TEST(checkout_timeout_is_echeckouttimeout_in_transaction_mode)
{
    struct rig r;

    rig_up(&r, HEAD("2s") "\"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": \"transaction\","
                          " \"pool_size\": 1, \"pool_checkout_timeout\": 500},"
                          "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    sim_run_until(r.s.sim, SIM_S(10));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_ECHECKOUTTIMEOUT), SIM_MS(500));
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_S(2));
    ck_assert_int_eq(supa_clients(&r.s.supa), 1); /* the terminated client is gone */
    rig_down(&r);
}
END_TEST

#define SESSION(full)                                                                              \
    "\"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": \"session\","                            \
    " \"pool_size\": 1, \"session_full\": \"" full "\""

START_TEST(reject_era_refuses_a_session_client_beyond_pool_size_at_once)
{
    struct rig r;

    rig_up(&r, HEAD("1s") SESSION("reject") "},"
                                            "\"postgres\": {\"backend_start\": \"0s\"},"
                                            "\"network\": {\"app_pooler_rtt\": \"10ms\"}}");
    rig_load(&r, "ab");
    sim_run_until(r.s.sim, SIM_S(10));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_MAX_CLIENTS_IN_SESSION_MODE),
                     SIM_MS(30));
    rig_down(&r);
}
END_TEST

START_TEST(queue_era_waits_the_checkout_timeout_then_max_clients_in_session_mode)
{
    struct rig r;

    /* a's connection stays open, holding the only backend: b's connect waits 3 s */
    rig_up(&r, HEAD("1s") SESSION("queue") ", \"pool_checkout_timeout\": 3000},"
                                           "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    sim_run_until(r.s.sim, SIM_S(10));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_MAX_CLIENTS_IN_SESSION_MODE), SIM_S(3));
    rig_down(&r);
}
END_TEST

START_TEST(queue_era_with_default_timeout_surfaces_as_prisma_p1001)
{
    struct rig r;

    /* the 60 s checkout happens inside the connect: Prisma's 5 s connect_timeout fires
     * first (domain.md §7.3.7), and the connect is withdrawn from the queue */
    rig_up(&r, HEAD("1s") SESSION("queue") "},"
                                           "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    sim_run_until(r.s.sim, SIM_S(30));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_P1001), SIM_S(5));
    ck_assert_int_eq(supa_clients(&r.s.supa), 1);
    rig_down(&r);
}
END_TEST

START_TEST(capacity_pool_size_plus_one_serves_one_more)
{
    struct rig r;

    rig_up(&r, HEAD("1s") "\"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": \"transaction\","
                          " \"pool_size\": 1, \"capacity\": \"pool_size+1\"},"
                          "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    sim_run_until(r.s.sim, SIM_S(10));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_S(1));
    ck_assert_int_eq(supa_workers(&r.s.supa), 2);
    rig_down(&r);
}
END_TEST

START_TEST(overflow_worker_is_dismissed_after_five_idle_minutes)
{
    struct rig r;

    /* unnamed statements: without named_prepared_statements, b's named one would find its
     * Parse on the first worker and fail with 26000 on the second (check_prepared.c) */
    rig_up(&r, HEAD("1s") "\"client_pool\": {\"statement_cache_size\": 0},"
                          "\"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": \"transaction\","
                          " \"pool_size\": 2},"
                          "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    sim_run_until(r.s.sim, SIM_S(300));
    ck_assert_int_eq(supa_workers(&r.s.supa), 2); /* idle since 1 s: 299 s < 300 s */
    sim_run_until(r.s.sim, SIM_S(302));
    ck_assert_int_eq(supa_workers(&r.s.supa), 1); /* the warm one stays */
    ck_assert_int_eq(pg_backends(&r.s.pg), 1);
    rig_down(&r);
}
END_TEST

/* Prisma replaces a connection idle longer than 5 s at checkout: the session ends. */
#define REPLACE "\"client_pool\": {\"max_idle_connection_lifetime\": 5},"

START_TEST(session_disconnect_closes_or_reuses_the_backend)
{
    struct rig r;

    rig_up(&r, HEAD("1s") REPLACE SESSION("reject") ", \"session_disconnect\": \"close\"},"
                                                    "\"postgres\": {\"backend_start\": \"1s\"}}");
    rig_load(&r, "a");
    sim_run_until(r.s.sim, SIM_S(10));
    rig_load(&r, "a"); /* the old session closes its backend: a new one starts (1 s) */
    sim_run_until(r.s.sim, SIM_S(20));
    ck_assert_int_eq(r.h[SER_OK].min, SIM_S(2));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_S(2));
    rig_down(&r);

    rig_up(&r, HEAD("1s") REPLACE SESSION("reject") ", \"session_disconnect\": \"reuse\"},"
                                                    "\"postgres\": {\"backend_start\": \"1s\"}}");
    rig_load(&r, "a");
    sim_run_until(r.s.sim, SIM_S(10));
    rig_load(&r, "a"); /* the backend is checked back in and reused at once */
    sim_run_until(r.s.sim, SIM_S(20));
    ck_assert_int_eq(r.h[SER_OK].min, SIM_S(1));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_S(2));
    rig_down(&r);
}
END_TEST

START_TEST(foreign_session_clients_take_the_pool_in_session_mode)
{
    struct rig r;

    rig_up(&r, HEAD("1s") "\"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": \"session\","
                          " \"pool_size\": 2, \"foreign_clients\": 1},"
                          "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    rig_run_to(&r, SIM_S(10));
    ck_assert_uint_eq(r.s.m.ok, 1);
    ck_assert_uint_eq(r.s.m.errors_by_kind[ERRK_MAX_CLIENTS_IN_SESSION_MODE], 1);
    ck_assert_int_eq(pg_backends(&r.s.pg), 2);
    rig_down(&r);
}
END_TEST

START_TEST(foreign_session_clients_and_the_transaction_pool_budget)
{
    struct rig r;

    /* per mode (the code): the developers' session pool is another pool; only PostgreSQL
     * slots are shared */
    rig_up(&r, HEAD("1s") "\"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": \"transaction\","
                          " \"pool_size\": 2, \"foreign_clients\": 1},"
                          "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    rig_run_to(&r, SIM_S(10));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_S(1));
    ck_assert_int_eq(pg_backends(&r.s.pg), 3);
    rig_down(&r);

    /* shared (Supabase's Nov 2025 docs): the foreign session takes one of the 2 */
    rig_up(&r, HEAD("1s") "\"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": \"transaction\","
                          " \"pool_size\": 2, \"foreign_clients\": 1, \"budget\": \"shared\"},"
                          "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    rig_run_to(&r, SIM_S(10));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_S(2));
    ck_assert_int_eq(pg_backends(&r.s.pg), 2);
    rig_down(&r);
}
END_TEST

Suite *supavisor_suite(void)
{
    Suite *s = suite_create("supavisor");
    TCase *tc = tests_tcase(s, "exact", 20, "");

    tcase_add_test(tc, transaction_mode_refuses_beyond_max_clients_with_emaxconn);
    tcase_add_test(tc, transaction_mode_queues_fifo_until_the_transaction_ends);
    tcase_add_test(tc, checkout_timeout_is_echeckouttimeout_in_transaction_mode);
    tcase_add_test(tc, reject_era_refuses_a_session_client_beyond_pool_size_at_once);
    tcase_add_test(tc, queue_era_waits_the_checkout_timeout_then_max_clients_in_session_mode);
    tcase_add_test(tc, queue_era_with_default_timeout_surfaces_as_prisma_p1001);
    tcase_add_test(tc, capacity_pool_size_plus_one_serves_one_more);
    tcase_add_test(tc, overflow_worker_is_dismissed_after_five_idle_minutes);
    tcase_add_test(tc, session_disconnect_closes_or_reuses_the_backend);
    tcase_add_test(tc, foreign_session_clients_take_the_pool_in_session_mode);
    tcase_add_test(tc, foreign_session_clients_and_the_transaction_pool_budget);
    return s;
}

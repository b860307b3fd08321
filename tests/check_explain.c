/*
 * check_explain.c - `poolsim explain`'s traps (issue 8 items 3 and 4).
 *
 * tests/data/explain/ holds one experiment per trap, named after it
 * ("client-limit.json", "client-limit-supavisor-session.json", ...), each
 * built to trigger that trap and no other; clean.json (a realistic
 * configuration) and experiments/validate-erlang-c.json trigger none.  Each
 * file is checked at every point: exactly its trap, and the numbers of the
 * warning are the configuration's.  Then each trap's boundary: the change
 * that removes the cause (pgbouncer=true, tracking, a timeout, one
 * connection fewer) silences it, so a warning that fired always would fail.
 * Mechanism tests only (no simulation runs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/config.h"
#include "models/explain.h"
#include "sim/json.h"
#include "sim/sweep.h"
#include "tests/tests.h"

#define DIR "tests/data/explain/"

/* Load point i of file (with --set overrides) into x; the number of points into *npoints. */
static void load_point(const char *file, const struct sweep_set *sets, size_t nsets, size_t i,
                       struct experiment *x, size_t *npoints)
{
    struct cJSON *doc = NULL;
    struct sweep_plan plan;
    struct err e;

    err_clear(&e);
    ck_assert_msg(json_load_file(file, &doc, &e) == 0, "%s: %s", file, e.msg);
    ck_assert_msg(sweep_expand(doc, sets, nsets, &plan, &e) == 0, "%s: %s", file, e.msg);
    ck_assert_uint_lt(i, plan.npoints);
    ck_assert_msg(experiment_load(x, plan.points[i].doc, DIR, &e) == 0, "%s: %s %s", file, e.path,
                  e.msg);
    if (npoints) {
        *npoints = plan.npoints;
    }
    sweep_plan_fini(&plan);
    json_free(doc);
}

/* The traps flagged at point i, as a bit set; the warnings' text, joined, into text. */
static unsigned traps_at(const char *file, const struct sweep_set *sets, size_t nsets, size_t i,
                         char *text, size_t size, size_t *npoints)
{
    struct experiment x;
    struct explain_list l;
    unsigned mask = 0;
    size_t used = 0;

    load_point(file, sets, nsets, i, &x, npoints);
    explain_list_init(&l);
    explain_warnings(&x, &l);
    for (size_t k = 0; k < l.n; k++) {
        ck_assert_int_ge(l.items[k].trap, 0);
        ck_assert_int_lt(l.items[k].trap, EXPLAIN_NTRAPS);
        mask |= 1u << l.items[k].trap;
        if (text && used < size) {
            used += (size_t)snprintf(text + used, size - used, "%s\n", l.items[k].text);
        }
    }
    explain_list_fini(&l);
    experiment_fini(&x);
    return mask;
}

static unsigned traps_of(const char *file, const struct sweep_set *sets, size_t nsets)
{
    return traps_at(file, sets, nsets, 0, NULL, 0, NULL);
}

/* Every point of file flags exactly the traps of want. */
static void expect_every_point(const char *file, unsigned want)
{
    size_t n = 1;

    for (size_t i = 0; i < n; i++) {
        unsigned got = traps_at(file, NULL, 0, i, NULL, 0, &n);

        ck_assert_msg(got == want, "%s point %zu: traps 0x%x, want 0x%x", file, i, got, want);
    }
}

/* The single warning of file contains each of the fragments (the configuration's numbers). */
static void expect_text(const char *file, const char *const *frags)
{
    char text[4 * EXPLAIN_TEXT_MAX];

    text[0] = '\0';
    traps_at(file, NULL, 0, 0, text, sizeof text, NULL);
    for (size_t i = 0; frags[i]; i++) {
        ck_assert_msg(strstr(text, frags[i]), "%s: \"%s\" not in: %s", file, frags[i], text);
    }
}

#define BIT(t) (1u << (t))

START_TEST(clean_files_flag_nothing)
{
    expect_every_point(DIR "clean.json", 0);
    expect_every_point("experiments/validate-erlang-c.json", 0);
}
END_TEST

/* One file per trap (and per way of meeting it): exactly that trap. */
START_TEST(each_file_flags_exactly_its_trap)
{
    static const struct {
        const char *file;
        enum explain_trap trap;
    } cases[] = {
        {DIR "client-limit.json", EXPLAIN_CLIENT_LIMIT},
        {DIR "client-limit-supavisor-session.json", EXPLAIN_CLIENT_LIMIT},
        {DIR "client-limit-supavisor-transaction.json", EXPLAIN_CLIENT_LIMIT},
        {DIR "prepared-statements.json", EXPLAIN_PREPARED},
        {DIR "prepared-statements-supavisor.json", EXPLAIN_PREPARED},
        {DIR "no-acquire-timeout.json", EXPLAIN_ACQUIRE_TIMEOUT},
        {DIR "max-connections.json", EXPLAIN_MAX_CONNECTIONS},
        {DIR "max-connections-pooler.json", EXPLAIN_MAX_CONNECTIONS},
        {DIR "maxwait-before-pool-timeout.json", EXPLAIN_MAX_WAIT},
        {DIR "session-oversubscribed.json", EXPLAIN_SESSION},
        {DIR "compute-size.json", EXPLAIN_COMPUTE},
        {DIR "compute-size-pool.json", EXPLAIN_COMPUTE},
        {DIR "compute-size-max-connections.json", EXPLAIN_COMPUTE},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[256];

        expect_every_point(cases[i].file, BIT(cases[i].trap));
        /* the files are named after the trap they trigger */
        snprintf(want, sizeof want, DIR "%s", explain_trap_name(cases[i].trap));
        ck_assert_msg(strncmp(cases[i].file, want, strlen(want)) == 0, "%s", cases[i].file);
    }
}
END_TEST

/* The warnings carry the configuration's own numbers. */
START_TEST(warnings_state_the_numbers)
{
    static const char *const client[] = {"120 possible client connections",
                                         "4 instances × 1 PrismaClient × connection_limit 30",
                                         "max_client_conn 100", "pgbouncer.org", NULL};
    static const char *const session[] = {"14 possible", "pool_size 15 − 2 foreign", "= 13",
                                          "MaxClientsInSessionMode", NULL};
    static const char *const direct[] = {"120 possible direct connections", "= 97", "53300",
                                         "postgresql.org", NULL};
    static const char *const pooler[] = {"100 server connections",
                                         "default_pool_size 90 + reserve_pool_size 10", NULL};
    static const char *const maxwait[] = {"maxWait 2s", "\"checkout\"", "pool_timeout 10s",
                                          "P2028",      "issues/20015", NULL};
    static const char *const prepared[] = {"max_prepared_statements 0", "42P05", NULL};
    static const char *const compute[] = {"250 possible", "200 pooler clients of supabase-micro",
                                          NULL};
    static const char *const share[] = {"80% of max_connections 60", "= 48", NULL};

    expect_text(DIR "client-limit.json", client);
    expect_text(DIR "client-limit-supavisor-session.json", session);
    expect_text(DIR "max-connections.json", direct);
    expect_text(DIR "max-connections-pooler.json", pooler);
    expect_text(DIR "maxwait-before-pool-timeout.json", maxwait);
    expect_text(DIR "prepared-statements.json", prepared);
    expect_text(DIR "compute-size.json", compute);
    expect_text(DIR "compute-size-pool.json", share);
}
END_TEST

/* Removing the cause silences the trap: the boundary of each. */
START_TEST(the_fix_silences_each_trap)
{
    static const struct sweep_set one_fewer[] = {{"client_pool.connection_limit", "25"}};
    static const struct sweep_set limit_met[] = {{"pooler.max_client_conn", "120"}};
    static const struct sweep_set pgbouncer[] = {{"client_pool.pgbouncer", "true"}};
    static const struct sweep_set tracked[] = {{"pooler.max_prepared_statements", "200"}};
    static const struct sweep_set no_cache[] = {{"client_pool.statement_cache_size", "0"}};
    static const struct sweep_set named[] = {{"pooler.named_prepared_statements", "true"}};
    static const struct sweep_set timeout[] = {{"client_pool.connectionTimeoutMillis", "5000"}};
    static const struct sweep_set slots[] = {{"postgres.max_connections", "123"}};
    static const struct sweep_set no_reserve[] = {{"pooler.reserve_pool_size", "7"}};
    static const struct sweep_set wait_eq[] = {{"client_pool.pool_timeout", "2"}};
    static const struct sweep_set servers[] = {{"pooler.default_pool_size", "10"}};
    static const struct sweep_set clients[] = {{"client_pool.connection_limit", "20"}};

    ck_assert_uint_eq(traps_of(DIR "client-limit.json", one_fewer, 1), 0); /* 4 × 25 = 100 */
    ck_assert_uint_eq(traps_of(DIR "client-limit.json", limit_met, 1), 0);
    ck_assert_uint_eq(traps_of(DIR "prepared-statements.json", pgbouncer, 1), 0);
    ck_assert_uint_eq(traps_of(DIR "prepared-statements.json", tracked, 1), 0);
    ck_assert_uint_eq(traps_of(DIR "prepared-statements.json", no_cache, 1), 0);
    ck_assert_uint_eq(traps_of(DIR "prepared-statements-supavisor.json", named, 1), 0);
    ck_assert_uint_eq(traps_of(DIR "no-acquire-timeout.json", timeout, 1), 0);
    ck_assert_uint_eq(traps_of(DIR "max-connections.json", slots, 1), 0); /* 120 = 123 − 3 */
    ck_assert_uint_eq(traps_of(DIR "max-connections-pooler.json", no_reserve, 1), 0); /* 97 */
    ck_assert_uint_eq(traps_of(DIR "maxwait-before-pool-timeout.json", wait_eq, 1), 0);
    ck_assert_uint_eq(traps_of(DIR "session-oversubscribed.json", servers, 1), 0); /* 10 = 10 */
    ck_assert_uint_eq(traps_of(DIR "compute-size.json", clients, 1), 0); /* 10 × 20 = 200 */
}
END_TEST

/* Session mode in PgBouncer: the foreign clients' servers are not the app's. */
START_TEST(foreign_clients_take_servers_in_session_mode)
{
    static const struct sweep_set servers[] = {{"pooler.default_pool_size", "10"},
                                               {"pooler.foreign_clients", "1"}};

    ck_assert_uint_eq(traps_of(DIR "session-oversubscribed.json", servers, 2),
                      BIT(EXPLAIN_SESSION));
}
END_TEST

/* Possible client connections count the PrismaClients a page can reach, and per-call pools. */
START_TEST(client_connections_count_reachable_pools)
{
    static const struct sweep_set per_call[] = {{"app.connection_per_request", "true"}};
    static const struct sweep_set open[] = {{"app.connection_per_request", "true"},
                                            {"workload", "{\"model\": \"open\", \"rate\": 1, "
                                                         "\"page\": [\"list\", \"detail\"]}"}};
    struct experiment x;
    char how[256];

    /* incident: 20 PrismaClients, but the page calls 5 endpoints (clients 0-4) */
    load_point("experiments/incident.json", NULL, 0, 0, &x, NULL);
    ck_assert_int_eq(explain_client_conns(&x, how, sizeof how), 5 * 5);
    ck_assert_msg(strstr(how, "(of 20"), "%s", how);
    experiment_fini(&x);
    /* a pool per call: 20 users × 2 calls × connection_limit 5 */
    load_point(DIR "clean.json", per_call, 1, 0, &x, NULL);
    ck_assert_int_eq(explain_client_conns(&x, how, sizeof how), 20 * 2 * 5);
    experiment_fini(&x);
    load_point(DIR "clean.json", open, 2, 0, &x, NULL);
    ck_assert_int_eq(explain_client_conns(&x, how, sizeof how), INT64_MAX);
    experiment_fini(&x);
}
END_TEST

/* The command: sources, notes, the warning line format, exit 0 despite warnings. */
START_TEST(command_prints_sources_and_warnings)
{
    char a0[] = "poolsim", a1[] = "explain", a2[] = DIR "session-oversubscribed.json";
    char a3[] = "--set", a4[] = "pooler.query_wait_timeout=30";
    char *argv[] = {a0, a1, a2, a3, a4, NULL};
    FILE *out = tmpfile(), *err = tmpfile();
    char buf[65536];
    size_t n;

    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(explain_main(5, argv, out, err), 0);
    rewind(out);
    n = fread(buf, 1, sizeof buf - 1, out);
    buf[n] = '\0';
    ck_assert_msg(strstr(buf, "\n  pooler.pool_mode = session (file)\n"), "%s", buf);
    ck_assert_msg(strstr(buf, "\n  pooler.query_wait_timeout = 30s (--set)\n"), "%s", buf);
    ck_assert_msg(strstr(buf, "\n  pooler.max_client_conn = 100 (default)\n"), "%s", buf);
    ck_assert_msg(strstr(buf, "\nwarning: session-oversubscribed: 10 possible"), "%s", buf);
    ck_assert_msg(strstr(buf, "up to query_wait_timeout 30s"), "%s", buf);
    ck_assert_msg(strstr(buf, "\nnotes: none\n"), "%s", buf);
    fseek(err, 0, SEEK_END);
    ck_assert_int_eq(ftell(err), 0);
    fclose(out);
    fclose(err);
}
END_TEST

Suite *explain_suite(void)
{
    Suite *s = suite_create("explain");
    TCase *tc = tests_tcase(s, "traps", 10, "");

    tcase_add_test(tc, clean_files_flag_nothing);
    tcase_add_test(tc, each_file_flags_exactly_its_trap);
    tcase_add_test(tc, warnings_state_the_numbers);
    tcase_add_test(tc, the_fix_silences_each_trap);
    tcase_add_test(tc, foreign_clients_take_servers_in_session_mode);
    tcase_add_test(tc, client_connections_count_reachable_pools);
    tcase_add_test(tc, command_prints_sources_and_warnings);
    return s;
}

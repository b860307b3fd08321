/*
 * check_app.c - the application's operations and call-level features with
 * constant times, exact to the nanosecond (DESIGN.md §7, rung 1): batch and
 * interactive transactions (maxWait, think time, expiry), Promise.all,
 * app work, pgbouncer=true's round trips, many PrismaClients, serverless
 * instances, connection per request, retries and the cache.  Pages are
 * loaded by hand (no random arrivals); the loader's refusals come last.
 */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "models/config.h"
#include "models/scenario.h"
#include "sim/json.h"
#include "sim/rng.h"
#include "sim/xalloc.h"
#include "tests/rig.h"
#include "tests/tests.h"

struct arig;

/* A page loaded by load(): where its end is written. */
struct page_slot {
    struct arig *r;
    size_t i;
};

/* The shared rig, plus the end of each page loaded by load(). */
struct arig {
    struct rig b;
    sim_time page_ns[64]; /* latency of each page loaded by load(), in order; -1 = not ended */
    bool page_failed[64];
    struct page_slot slots[64];
    size_t npages;
};

#define HEAD                                                                                       \
    "{\"name\": \"t\", \"duration\": \"100s\", "                                                   \
    "\"workload\": {\"model\": \"open\", \"rate\": 1, \"page\": [\"a\"]}, "

/* Pieces of experiments; the sections after "app" each end with ", ". */
/* clang-format off */
#define Q(t) "{\"type\": \"query\", \"server_time\": \"" t "\"}"
#define QK(k, t) "{\"type\": \"query\", \"statements\": " #k ", \"server_time\": \"" t "\"}"
#define BATCH(k, t) "{\"type\": \"transaction\", \"statements\": " #k \
    ", \"server_time\": \"" t "\"}"
#define ITX(k, t, think, extra) "{\"type\": \"interactive\", \"statements\": " #k \
    ", \"server_time\": \"" t "\", \"think_time\": \"" think "\"" extra "}"
#define PAR2(x, y) "{\"type\": \"parallel\", \"operations\": [" x ", " y "]}"
#define WORK(t) "{\"type\": \"app\", \"time\": \"" t "\"}"
#define EP(name, ops) "\"" name "\": {\"operations\": [" ops "]}"
#define EPS(eps) "\"endpoints\": {" eps "}"
#define CP(x) "\"client_pool\": {" x "}, "
#define PG(x) "\"postgres\": {" x "}, "
#define PG0 PG("\"backend_start\": \"0s\"")
#define NET(x) "\"network\": {" x "}, "
#define PGB_TX1 "\"pooler\": {\"kind\": \"pgbouncer\", \"pool_mode\": \"transaction\", " \
    "\"default_pool_size\": 1}, "
#define SERVERLESS(max, extra) "\"serverless\": {\"max_instances\": " #max \
    ", \"cold_start\": \"100ms\", \"idle_timeout\": \"1s\"" extra "}, "
/* clang-format on */

/* An experiment made of app's members and the other sections (rest, each ending with ", "). */
static void experiment_json(char *json, size_t size, const char *app, const char *rest)
{
    int n = snprintf(json, size, HEAD "\"app\": {%s}, %s\"seed\": 1}", app, rest);

    ck_assert(n > 0 && (size_t)n < size);
}

static void up(struct arig *r, const char *app, const char *rest)
{
    char json[16384];

    memset(r, 0, sizeof *r);
    experiment_json(json, sizeof json, app, rest);
    rig_up(&r->b, json);
}

static void on_page(void *ctx, sim_time latency_ns, bool failed)
{
    struct page_slot *ps = ctx;

    ps->r->page_ns[ps->i] = latency_ns;
    ps->r->page_failed[ps->i] = failed;
}

/* Load the page of the endpoints named by letters ("a" = endpoint 0 ...); returns its number. */
static size_t load(struct arig *r, const char *names)
{
    struct page_config pg = {0};
    size_t idx[32];
    struct page_slot *ps = &r->slots[r->npages];

    for (size_t i = 0; names[i]; i++) {
        idx[i] = (size_t)(names[i] - 'a');
        pg.ncalls = i + 1;
    }
    pg.endpoints = idx;
    pg.weight = 1;
    ck_assert_uint_lt(r->npages, 64);
    ps->r = r;
    ps->i = r->npages++;
    r->page_ns[ps->i] = -1;
    app_load_page(&r->b.s.app, &pg, 0, on_page, ps);
    return ps->i;
}

/* Run to t, checking every model's invariants each millisecond of the way. */
static void run_to(struct arig *r, sim_time t)
{
    sim_time now = sim_now(r->b.s.sim);

    while (now < t) {
        now = now + SIM_MS(1) < t ? now + SIM_MS(1) : t;
        sim_run_until(r->b.s.sim, now);
        ck_assert(app_check(&r->b.s.app));
        ck_assert(pg_check(&r->b.s.pg));
        ck_assert(r->b.x.pooler.kind == POOLER_DIRECT || pgb_check(&r->b.s.pgb));
    }
}

/* ---- operations ---- */

START_TEST(third_call_waits_and_reuses_a_connection)
{
    struct arig r;

    /* zero network: a connect costs the backend start only */
    /* clang-format off */
    up(&r, EPS(EP("a", Q("100ms"))),
       CP("\"connection_limit\": 2") PG("\"backend_start\": \"10ms\""));
    /* clang-format on */
    load(&r, "aaa");
    run_to(&r, SIM_S(1));
    ck_assert_uint_eq(r.b.h[SER_OK].n, 3);
    ck_assert_int_eq(r.page_ns[0], SIM_MS(210)); /* the page ends with its last call */
    ck_assert_int_eq(r.b.h[SER_OK].min, SIM_MS(110));
    ck_assert_int_eq(r.b.h[SER_OK].max, SIM_MS(210));
    ck_assert_double_eq(r.b.h[SER_OK].sum, (double)SIM_MS(110 + 110 + 210));
    /* the third waited 110 ms for a permit and took an idle connection: two backends only */
    ck_assert_double_eq(r.b.s.m.pool_wait.max, (double)SIM_MS(110));
    ck_assert_int_eq(r.b.s.m.server_conns.peak, 2);
    ck_assert_int_eq(pg_backends(&r.b.s.pg), 2);
    rig_down(&r.b);
}
END_TEST

START_TEST(batch_transaction_is_begin_statements_commit)
{
    struct arig r;

    /* clang-format off */
    up(&r, EPS(EP("a", BATCH(3, "10ms"))),
       PG0 NET("\"app_db_rtt\": \"2ms\""));
    /* clang-format on */
    load(&r, "a");
    run_to(&r, SIM_S(1));
    /* connect 3 round trips; BEGIN, 3 statements, COMMIT: 5 round trips + 30 ms; each
     * statement is new to the connection's statement cache: a Parse round trip first */
    ck_assert_int_eq(rig_only_latency(&r.b, SER_OK), SIM_MS(6 + 8 * 2 + 30));
    ck_assert_uint_eq(r.b.s.m.tx_done, 1); /* one transaction at the server */
    rig_down(&r.b);
}
END_TEST

/* Through PgBouncer in transaction mode with one server: b's query waits behind a's transaction. */
START_TEST(interactive_holds_the_server_across_think_time)
{
    struct arig r;

    /* clang-format off */
    up(&r, "\"clients\": 2, " EPS(EP("a", ITX(2, "10ms", "1s", "")) "," EP("b", Q("10ms"))),
       PGB_TX1 PG0);
    /* clang-format on */
    load(&r, "ab");
    run_to(&r, SIM_S(5));
    /* a: BEGIN, 10 ms, think 1 s, 10 ms, COMMIT; b is linked only after the COMMIT */
    ck_assert_int_eq(r.b.h[SER_OK].min, SIM_MS(1020));
    ck_assert_int_eq(r.b.h[SER_OK].max, SIM_MS(1030));
    ck_assert_uint_eq(r.b.s.m.pooler_waited, 1);
    ck_assert_double_eq(r.b.s.m.server_hold.max, (double)SIM_MS(1020));
    rig_down(&r.b);
}
END_TEST

START_TEST(interactive_fails_with_p2028_at_max_wait_query_with_p2024_at_pool_timeout)
{
    struct arig r;

    /* the only connection is held 20 s; domain.md §1.4.5 */
    /* clang-format off */
    up(&r, EPS(EP("a", Q("20s")) "," EP("b", ITX(1, "10ms", "0s", "")) "," EP("c", Q("10ms"))),
       CP("\"connection_limit\": 1") PG0);
    /* clang-format on */
    load(&r, "a");
    load(&r, "bc");
    run_to(&r, SIM_S(30));
    ck_assert_int_eq(rig_only_latency(&r.b, SER_ERRORS + ERRK_P2028), SIM_S(2));
    ck_assert_int_eq(rig_only_latency(&r.b, SER_ERRORS + ERRK_P2024), SIM_S(10));
    ck_assert_int_eq(rig_only_latency(&r.b, SER_OK), SIM_S(20));
    rig_down(&r.b);
}
END_TEST

START_TEST(pool_timeout_shorter_than_max_wait_still_gives_p2024)
{
    struct arig r;

    /* clang-format off */
    up(&r, EPS(EP("a", Q("20s")) "," EP("b", ITX(1, "10ms", "0s", ", \"maxWait\": 15000"))),
       CP("\"connection_limit\": 1") PG0);
    /* clang-format on */
    load(&r, "a");
    load(&r, "b");
    run_to(&r, SIM_S(30));
    ck_assert_int_eq(rig_only_latency(&r.b, SER_ERRORS + ERRK_P2024), SIM_S(10));
    ck_assert_uint_eq(r.b.s.m.errors_by_kind[ERRK_P2028], 0);
    rig_down(&r.b);
}
END_TEST

START_TEST(interactive_expires_while_thinking_and_rolls_back_at_once)
{
    struct arig r;

    /* a: BEGIN answered at 0; 10 ms; think 6 s > timeout 5 s */
    /* clang-format off */
    up(&r, EPS(EP("a", ITX(2, "10ms", "6s", ", \"timeout\": 5000")) "," EP("b", Q("1s"))),
       CP("\"connection_limit\": 1") PG0);
    /* clang-format on */
    load(&r, "a");
    run_to(&r, SIM_S(4));
    load(&r, "b"); /* waits for the only connection */
    run_to(&r, SIM_S(10));
    /* the engine rolled back at 5 s and released the connection: b ran from 5 s to 6 s */
    ck_assert_int_eq(rig_only_latency(&r.b, SER_OK), SIM_S(2));
    /* the app found out when it sent its next statement, after its think time */
    ck_assert_int_eq(rig_only_latency(&r.b, SER_ERRORS + ERRK_P2028), SIM_MS(6010));
    ck_assert_uint_eq(r.b.s.m.tx_done, 2); /* a's ROLLBACK and b's statement */
    rig_down(&r.b);
}
END_TEST

START_TEST(interactive_expiring_during_a_statement_rolls_back_when_it_returns)
{
    struct arig r;

    /* clang-format off */
    up(&r, EPS(EP("a", ITX(2, "6s", "0s", ", \"timeout\": \"5s\""))),
       PG0 NET("\"app_db_rtt\": \"10ms\""));
    /* clang-format on */
    load(&r, "a");
    run_to(&r, SIM_S(10));
    /* connect 30 ms, BEGIN back at 40 ms (expiry at 5.04 s); the first statement, prepared
     * first (a Parse round trip), returns at 6.06 s; the second is refused at once; the
     * ROLLBACK takes one more round trip */
    ck_assert_int_eq(rig_only_latency(&r.b, SER_ERRORS + ERRK_P2028), SIM_MS(6060));
    ck_assert_uint_eq(r.b.s.m.tx_done, 1);
    ck_assert_uint_eq(r.b.s.m.server_hold.n, 3); /* BEGIN, the statement, ROLLBACK */
    rig_down(&r.b);
}
END_TEST

START_TEST(parallel_runs_each_sub_operation_on_its_own_connection)
{
    struct arig r;

    /* clang-format off */
    up(&r, EPS(EP("a", PAR2(Q("2s"), Q("1s")) ", " Q("100ms"))),
       CP("\"connection_limit\": 2") PG0);
    /* clang-format on */
    load(&r, "a");
    run_to(&r, SIM_S(10));
    /* both at once (2 s, not 3 s), then the next operation */
    ck_assert_int_eq(rig_only_latency(&r.b, SER_OK), SIM_MS(2100));
    ck_assert_int_eq(r.b.s.m.server_conns.peak, 2);
    rig_down(&r.b);
}
END_TEST

START_TEST(parallel_first_failure_answers_the_call_the_others_run_on)
{
    struct arig r;

    /* clang-format off */
    up(&r, EPS(EP("a", PAR2(Q("2s"), Q("2s")) ", " Q("1s")) "," EP("b", Q("100ms"))),
       CP("\"connection_limit\": 1, \"pool_timeout\": 1") PG0);
    /* clang-format on */
    load(&r, "a");
    run_to(&r, SIM_MS(1500));
    /* the second sub-operation timed out at 1 s: the call failed then, without its next
     * operation */
    ck_assert_int_eq(rig_only_latency(&r.b, SER_ERRORS + ERRK_P2024), SIM_S(1));
    load(&r, "b");
    run_to(&r, SIM_S(10));
    /* the first sub-operation held the connection until 2 s */
    ck_assert_int_eq(rig_only_latency(&r.b, SER_OK), SIM_MS(600));
    ck_assert_uint_eq(r.b.s.m.requests, 2);
    ck_assert_uint_eq(r.b.s.m.tx_done, 2);
    rig_down(&r.b);
}
END_TEST

START_TEST(app_operation_takes_its_time_without_the_database)
{
    struct arig r;

    /* clang-format off */
    up(&r, EPS(EP("a", WORK("30ms") ", " Q("10ms")) "," EP("b", WORK("5ms"))),
       PG("\"backend_start\": \"1ms\""));
    /* clang-format on */
    load(&r, "b");
    run_to(&r, SIM_S(1));
    ck_assert_int_eq(rig_only_latency(&r.b, SER_OK), SIM_MS(5));
    ck_assert_int_eq(pg_backends(&r.b.s.pg), 0);
    load(&r, "a");
    run_to(&r, SIM_S(2));
    ck_assert_int_eq(r.b.h[SER_OK].max, SIM_MS(30 + 1 + 10));
    rig_down(&r.b);
}
END_TEST

/* Latency of one page of endpoint name, loaded alone with everything idle. */
static sim_time alone(struct arig *r, const char *name)
{
    size_t i = load(r, name);

    run_to(r, sim_now(r->b.s.sim) + SIM_S(5));
    ck_assert_int_ge(r->page_ns[i], 0);
    return r->page_ns[i];
}

/* clang-format off */
#define ALL_TYPES EPS(EP("a", QK(2, "10ms")) "," EP("b", BATCH(2, "10ms")) "," \
                      EP("c", ITX(2, "10ms", "0s", "")))
/* clang-format on */

START_TEST(pgbouncer_flag_round_trips_per_operation)
{
    struct arig r;

    /* connect 3 x 2 ms, then per operation: query 2, batch BEGIN+2+COMMIT, interactive the same;
     * each of the 2 statements is new to the connection: a Parse round trip before it */
    up(&r, ALL_TYPES, PG0 NET("\"app_db_rtt\": \"2ms\""));
    ck_assert_int_eq(alone(&r, "a"), SIM_MS(6 + 2 * 2 + 2 * 2 + 20));
    ck_assert_int_eq(alone(&r, "b"), SIM_MS(4 * 2 + 2 * 2 + 20));
    ck_assert_int_eq(alone(&r, "c"), SIM_MS(4 * 2 + 2 * 2 + 20));
    rig_down(&r.b);
    /* pgbouncer=true: DEALLOCATE ALL after every BEGIN; the query alone gains BEGIN and COMMIT;
     * the statement cache is off (unnamed statements): no Parse round trip */
    up(&r, ALL_TYPES, CP("\"pgbouncer\": true") PG0 NET("\"app_db_rtt\": \"2ms\""));
    ck_assert_int_eq(alone(&r, "a"), SIM_MS(6 + 5 * 2 + 20));
    ck_assert_int_eq(alone(&r, "b"), SIM_MS(5 * 2 + 20));
    ck_assert_int_eq(alone(&r, "c"), SIM_MS(5 * 2 + 20));
    ck_assert_uint_eq(r.b.s.m.tx_done, 3);
    rig_down(&r.b);
}
END_TEST

/*
 * 20 endpoints, each one Promise.all of 10 one-second queries, on a page;
 * clients PrismaClients of connection_limit 10 (pool_timeout off).
 */
static void up_twenty(struct arig *r, int clients)
{
    char app[12000], *p = app, *end = app + sizeof app;

    p += snprintf(p, (size_t)(end - p), "\"clients\": %d, \"endpoints\": {", clients);
    for (int i = 0; i < 20; i++) {
        p += snprintf(p, (size_t)(end - p),
                      "%s\"%c\": {\"operations\": [{\"type\": \"parallel\", \"operations\": [",
                      i ? "," : "", 'a' + i);
        for (int j = 0; j < 10; j++) {
            p += snprintf(p, (size_t)(end - p), "%s" Q("1s"), j ? "," : "");
        }
        p += snprintf(p, (size_t)(end - p), "]}]}");
    }
    snprintf(p, (size_t)(end - p), "}");
    up(r, app,
       CP("\"connection_limit\": 10, \"pool_timeout\": 0")
           PG("\"max_connections\": 300, \"backend_start\": \"10ms\""));
}

START_TEST(twenty_clients_open_up_to_two_hundred_connections)
{
    struct arig r;

    up_twenty(&r, 20);
    load(&r, "abcdefghijklmnopqrst");
    run_to(&r, SIM_S(5));
    ck_assert_int_eq(r.b.s.m.server_conns.peak, 200);
    ck_assert_int_eq(app_connections(&r.b.s.app), 200);
    ck_assert_int_eq(r.page_ns[0], SIM_MS(1010));
    rig_down(&r.b);
    up_twenty(&r, 1);
    load(&r, "abcdefghijklmnopqrst");
    run_to(&r, SIM_S(30));
    ck_assert_int_eq(r.b.s.m.server_conns.peak, 10);
    ck_assert_int_eq(r.page_ns[0], SIM_MS(20010)); /* 200 queries of 1 s on 10 connections */
    rig_down(&r.b);
}
END_TEST

/* ---- call-level features ---- */

START_TEST(serverless_burst_starts_one_instance_and_pool_per_call)
{
    struct arig r;

    up(&r, SERVERLESS(10, "") EPS(EP("a", Q("50ms"))), PG0);
    for (int i = 0; i < 5; i++) {
        load(&r, "a");
    }
    run_to(&r, SIM_MS(500));
    ck_assert_uint_eq(r.b.h[SER_OK].n, 5);
    ck_assert_int_eq(r.b.h[SER_OK].min, SIM_MS(150)); /* cold start, then the query */
    ck_assert_int_eq(r.b.h[SER_OK].max, SIM_MS(150));
    ck_assert_int_eq(app_instances(&r.b.s.app), 5);
    ck_assert_uint_eq(r.b.s.m.cold_starts, 5);
    ck_assert_int_eq(pg_backends(&r.b.s.pg), 5); /* five pools, one connection each */
    run_to(&r, SIM_MS(1200));
    /* idle since 150 ms: frozen at 1.15 s, their connections still open at PostgreSQL */
    ck_assert_int_eq(app_instances(&r.b.s.app), 0);
    ck_assert_int_eq(app_frozen(&r.b.s.app), 5);
    ck_assert_int_eq(pg_backends(&r.b.s.pg), 5);
    ck_assert_int_eq(r.b.s.m.client_conns.value, 5);
    load(&r, "a"); /* a new call needs a new instance */
    run_to(&r, SIM_S(2));
    ck_assert_int_eq(r.b.h[SER_OK].max, SIM_MS(150));
    ck_assert_int_eq(pg_backends(&r.b.s.pg), 6);
    ck_assert_int_eq(r.b.s.m.instances.peak, 5);
    rig_down(&r.b);
}
END_TEST

START_TEST(serverless_without_freeze_closes_connections)
{
    struct arig r;

    up(&r, SERVERLESS(10, ", \"freeze\": false") EPS(EP("a", Q("50ms"))), PG0);
    load(&r, "a");
    load(&r, "a");
    run_to(&r, SIM_MS(1200));
    ck_assert_uint_eq(r.b.h[SER_OK].n, 2);
    ck_assert_int_eq(app_frozen(&r.b.s.app), 0);
    ck_assert_int_eq(pg_backends(&r.b.s.pg), 0);
    rig_down(&r.b);
}
END_TEST

START_TEST(serverless_at_max_instances_calls_wait_for_a_slot)
{
    struct arig r;

    up(&r, SERVERLESS(2, "") EPS(EP("a", Q("50ms"))), PG0);
    load(&r, "a");
    load(&r, "a");
    load(&r, "a");
    run_to(&r, SIM_MS(100));
    ck_assert_int_eq(app_instances(&r.b.s.app), 2);
    run_to(&r, SIM_MS(500));
    /* the third waited for the first slot (150 ms), then reused its warm instance and pool */
    ck_assert_int_eq(r.b.h[SER_OK].max, SIM_MS(200));
    ck_assert_uint_eq(r.b.s.m.cold_starts, 2);
    ck_assert_int_eq(pg_backends(&r.b.s.pg), 2);
    rig_down(&r.b);
}
END_TEST

START_TEST(serverless_concurrency_shares_an_instance)
{
    struct arig r;

    /* clang-format off */
    up(&r, SERVERLESS(10, ", \"concurrency\": 3") EPS(EP("a", Q("50ms"))),
       CP("\"connection_limit\": 1") PG0);
    /* clang-format on */
    for (int i = 0; i < 4; i++) {
        load(&r, "a");
    }
    run_to(&r, SIM_MS(500));
    /* three calls on the first instance share its pool of one connection; the fourth
     * starts a second instance */
    ck_assert_uint_eq(r.b.s.m.cold_starts, 2);
    ck_assert_int_eq(r.b.h[SER_OK].min, SIM_MS(150));
    ck_assert_int_eq(r.b.h[SER_OK].max, SIM_MS(250));
    rig_down(&r.b);
}
END_TEST

START_TEST(connection_per_request_opens_and_closes_its_own)
{
    struct arig r;

    /* clang-format off */
    up(&r, "\"connection_per_request\": true, "
           EPS(EP("a", Q("100ms") ", " PAR2(Q("50ms"), Q("50ms")))),
       PG("\"backend_start\": \"10ms\""));
    /* clang-format on */
    load(&r, "a");
    run_to(&r, SIM_MS(100));
    ck_assert_int_eq(app_connections(&r.b.s.app), 1);
    run_to(&r, SIM_S(1));
    /* 10 + 100, then one idle connection reused and one more opened: 10 + 50 */
    ck_assert_int_eq(rig_only_latency(&r.b, SER_OK), SIM_MS(170));
    ck_assert_int_eq(r.b.s.m.server_conns.peak, 2);
    ck_assert_int_eq(pg_backends(&r.b.s.pg), 0); /* closed at the end of the call */
    load(&r, "a");
    run_to(&r, SIM_S(2));
    ck_assert_int_eq(r.b.h[SER_OK].min, SIM_MS(170)); /* nothing reused from the first call */
    ck_assert_int_eq(app_connections(&r.b.s.app), 0);
    rig_down(&r.b);
}
END_TEST

/* a holds the only connection 10 s; b times out after 1 s in the pool, three tries. */
/* clang-format off */
#define RETRY3(extra) "\"retry\": {\"attempts\": 3, \"backoff\": \"200ms\"" extra "}, "
#define HOLD_10S EPS(EP("a", Q("10s")) "," EP("b", Q("100ms")))
#define ONE_CONN_1S CP("\"connection_limit\": 1, \"pool_timeout\": 1") PG0
/* clang-format on */

START_TEST(retry_counts_every_try_and_answers_once)
{
    struct arig r;

    up(&r, RETRY3("") HOLD_10S, ONE_CONN_1S);
    load(&r, "a");
    load(&r, "b");
    run_to(&r, SIM_S(5));
    /* b: P2024 at 1 s, retry at 1.2 s, P2024 at 2.2 s, retry at 2.4 s, P2024 at 3.4 s */
    ck_assert_int_eq(rig_only_latency(&r.b, SER_ERRORS + ERRK_P2024), SIM_MS(3400));
    ck_assert_uint_eq(r.b.s.m.requests, 1);
    ck_assert_uint_eq(r.b.s.m.attempts, 4);
    ck_assert_uint_eq(r.b.s.m.pool_wait.n, 4);
    rig_down(&r.b);
}
END_TEST

START_TEST(retry_succeeds_when_the_connection_frees)
{
    struct arig r;

    /* clang-format off */
    up(&r, "\"retry\": {\"attempts\": 5, \"backoff\": \"200ms\"}, "
           EPS(EP("a", Q("1500ms")) "," EP("b", Q("100ms"))),
       ONE_CONN_1S);
    /* clang-format on */
    load(&r, "ab");
    run_to(&r, SIM_S(5));
    /* b fails at 1 s, retries at 1.2 s, gets the connection at 1.5 s */
    ck_assert_int_eq(r.b.h[SER_OK].max, SIM_MS(1600));
    ck_assert_uint_eq(r.b.s.m.requests, 2);
    ck_assert_uint_eq(r.b.s.m.errors, 0);
    ck_assert_uint_eq(r.b.s.m.attempts, 3);
    rig_down(&r.b);
}
END_TEST

START_TEST(retry_jitter_is_drawn_from_the_endpoint_stream)
{
    struct arig r;
    struct dist jitter;
    gsl_rng *g;
    sim_time j1, j2;

    up(&r, RETRY3(", \"jitter\": \"300ms\"") HOLD_10S, ONE_CONN_1S);
    load(&r, "a");
    load(&r, "b");
    run_to(&r, SIM_S(6));
    /* b's call drew its two jitters when it was created, first of its stream */
    dist_init_uniform(&jitter, 0, SIM_MS(300), "$", NULL);
    g = rng_new(r.b.x.seed, 1, "retry_jitter:b", 0);
    j1 = dist_sample(&jitter, g);
    j2 = dist_sample(&jitter, g);
    rng_free(g);
    ck_assert_int_ne(j1, j2);
    ck_assert_int_eq(rig_only_latency(&r.b, SER_ERRORS + ERRK_P2024), SIM_MS(3400) + j1 + j2);
    rig_down(&r.b);
}
END_TEST

START_TEST(request_timeout_answers_while_retries_go_on)
{
    struct arig r;

    up(&r, "\"request_timeout\": \"1500ms\", " RETRY3("") HOLD_10S, ONE_CONN_1S);
    load(&r, "a");
    load(&r, "b");
    run_to(&r, SIM_S(5));
    /* both callers gave up at 1.5 s; b's tries went on (P2024 at 2.2 s and 3.4 s, unseen) */
    ck_assert_uint_eq(r.b.h[SER_ERRORS + ERRK_REQUEST_TIMEOUT].n, 2);
    ck_assert_int_eq(r.b.h[SER_ERRORS + ERRK_REQUEST_TIMEOUT].max, SIM_MS(1500));
    ck_assert_uint_eq(r.b.s.m.attempts, 4);
    ck_assert_uint_eq(r.b.s.m.pool_wait.n, 4);
    ck_assert_uint_eq(r.b.s.m.errors_by_kind[ERRK_P2024], 0);
    rig_down(&r.b);
}
END_TEST

START_TEST(cache_hit_skips_the_database)
{
    struct arig r;

    up(&r, "\"cache\": {\"hit_ratio\": 1, \"latency\": \"5ms\"}, " EPS(EP("a", Q("100ms"))), PG0);
    load(&r, "aa");
    run_to(&r, SIM_S(1));
    ck_assert_uint_eq(r.b.h[SER_OK].n, 2);
    ck_assert_int_eq(r.b.h[SER_OK].max, SIM_MS(5));
    ck_assert_uint_eq(r.b.s.m.cache_hits, 2);
    ck_assert_uint_eq(r.b.s.m.attempts, 2);
    ck_assert_int_eq(r.b.s.m.server_conns.peak, 0);
    rig_down(&r.b);
    up(&r, "\"cache\": {\"hit_ratio\": 0, \"latency\": \"5ms\"}, " EPS(EP("a", Q("100ms"))), PG0);
    load(&r, "a");
    run_to(&r, SIM_S(1));
    ck_assert_int_eq(rig_only_latency(&r.b, SER_OK), SIM_MS(100));
    ck_assert_uint_eq(r.b.s.m.cache_hits, 0);
    rig_down(&r.b);
}
END_TEST

/* ---- statistical: the cache's hit ratio ---- */

/*
 * 4000 calls with hit_ratio 0.3: the share of hits has standard error
 * sqrt(0.3 * 0.7 / 4000) = 0.0072, so the tolerance 3.3 se = 0.024 is half
 * of the 0.05 error this test must catch (a ratio applied to the wrong
 * stream, shared between endpoints, or inverted would be off by far more).
 */
START_TEST(cache_hit_ratio_matches_within_the_statistical_rule)
{
    struct arig r;
    const double p = 0.3, n = 4000, se = 0.00724568837;

    up(&r, "\"cache\": {\"hit_ratio\": 0.3}, " EPS(EP("a", Q("1ms"))), PG0);
    for (int i = 0; i < (int)n; i++) {
        load(&r, "a");
        sim_run_until(r.b.s.sim, sim_now(r.b.s.sim) + SIM_MS(10));
        r.npages = 0;
    }
    ck_assert_uint_eq(r.b.s.m.requests, (uint64_t)n);
    ck_assert_double_eq_tol((double)r.b.s.m.cache_hits / n, p, TESTS_Z * se);
    rig_down(&r.b);
}
END_TEST

/* ---- the loader ---- */

/* The experiment of app's members is refused at path with a message containing msg. */
static void refuse(const char *app, const char *path, const char *msg)
{
    struct cJSON *doc = NULL;
    struct experiment x;
    struct err e;
    char json[4096];

    experiment_json(json, sizeof json, app, "");
    err_clear(&e);
    ck_assert_int_eq(json_parse("t.json", json, strlen(json), &doc, &e), 0);
    ck_assert_int_eq(experiment_load(&x, doc, ".", &e), -1);
    json_free(doc);
    ck_assert_str_eq(e.path, path);
    ck_assert_msg(strstr(e.msg, msg) != NULL, "message \"%s\" lacks \"%s\"", e.msg, msg);
}

START_TEST(loader_refuses_what_has_no_effect)
{
    /* clang-format off */
    refuse(EPS(EP("a", PAR2(PAR2(Q("1ms"), Q("1ms")), Q("1ms")))),
           "$.app.endpoints.a.operations[0].operations[0].type", "parallel operation inside");
    refuse(EPS(EP("a", "{\"type\": \"query\", \"server_time\": \"1ms\", \"think_time\": \"1ms\"}")),
           "$.app.endpoints.a.operations[0].think_time", "unknown key");
    refuse("\"instances\": 2, " SERVERLESS(2, "") EPS(EP("a", Q("1ms"))),
           "$.app.instances", "does not apply with \"serverless\"");
    refuse("\"retry\": {\"backoff\": \"1s\"}, " EPS(EP("a", Q("1ms"))),
           "$.app.retry", "missing key \"attempts\"");
    refuse(EPS(EP("a", ITX(1, "1ms", "0s", ", \"maxWait\": \"2\""))),
           "$.app.endpoints.a.operations[0].maxWait", "");
    refuse("\"cache\": {\"hit_ratio\": 1.5}, " EPS(EP("a", Q("1ms"))),
           "$.app.cache.hit_ratio", "");
    refuse("\"serverless\": {\"max_instances\": 2, \"cold_start\": \"1s\"}, "
           EPS(EP("a", Q("1ms"))),
           "$.app.serverless", "missing key \"idle_timeout\"");
    /* clang-format on */
}
END_TEST

START_TEST(loader_reads_prisma_units_and_defaults)
{
    struct arig r;
    const struct op_config *op;

    /* clang-format off */
    up(&r, EPS(EP("a", ITX(3, "1ms", "2ms", ", \"maxWait\": 250")) ","
               EP("b", PAR2(Q("1ms"), WORK("1ms")))),
       PG0);
    /* clang-format on */
    op = &r.b.x.app.endpoints[0].ops[0];
    ck_assert_int_eq(op->max_wait, SIM_MS(250)); /* a bare number is milliseconds */
    ck_assert_int_eq(op->tx_timeout, SIM_MS(5000));
    ck_assert_uint_eq(op->ndraws, 3 + 2); /* statements, and think times between them */
    ck_assert_str_eq(op->think_stream, "think_time:a:0");
    ck_assert_str_eq(r.b.x.app.endpoints[1].ops[0].subs[1].stream, "app_time:b:0.1");
    ck_assert_uint_eq(r.b.x.app.endpoints[1].nleaves, 2);
    ck_assert_int_eq(r.b.x.app.retry.attempts, 1);
    ck_assert(!r.b.x.app.serverless.enabled);
    rig_down(&r.b);
}
END_TEST

Suite *app_suite(void)
{
    Suite *s = suite_create("app");
    TCase *tc = tests_tcase(s, "exact", 30, "");
    TCase *st = tests_tcase(s, "stat", 60, "stat");

    tcase_add_test(tc, third_call_waits_and_reuses_a_connection);
    tcase_add_test(tc, batch_transaction_is_begin_statements_commit);
    tcase_add_test(tc, interactive_holds_the_server_across_think_time);
    tcase_add_test(tc, interactive_fails_with_p2028_at_max_wait_query_with_p2024_at_pool_timeout);
    tcase_add_test(tc, pool_timeout_shorter_than_max_wait_still_gives_p2024);
    tcase_add_test(tc, interactive_expires_while_thinking_and_rolls_back_at_once);
    tcase_add_test(tc, interactive_expiring_during_a_statement_rolls_back_when_it_returns);
    tcase_add_test(tc, parallel_runs_each_sub_operation_on_its_own_connection);
    tcase_add_test(tc, parallel_first_failure_answers_the_call_the_others_run_on);
    tcase_add_test(tc, app_operation_takes_its_time_without_the_database);
    tcase_add_test(tc, pgbouncer_flag_round_trips_per_operation);
    tcase_add_test(tc, twenty_clients_open_up_to_two_hundred_connections);
    tcase_add_test(tc, serverless_burst_starts_one_instance_and_pool_per_call);
    tcase_add_test(tc, serverless_without_freeze_closes_connections);
    tcase_add_test(tc, serverless_at_max_instances_calls_wait_for_a_slot);
    tcase_add_test(tc, serverless_concurrency_shares_an_instance);
    tcase_add_test(tc, connection_per_request_opens_and_closes_its_own);
    tcase_add_test(tc, retry_counts_every_try_and_answers_once);
    tcase_add_test(tc, retry_succeeds_when_the_connection_frees);
    tcase_add_test(tc, retry_jitter_is_drawn_from_the_endpoint_stream);
    tcase_add_test(tc, cache_hit_skips_the_database);
    tcase_add_test(tc, request_timeout_answers_while_retries_go_on);
    tcase_add_test(tc, loader_refuses_what_has_no_effect);
    tcase_add_test(tc, loader_reads_prisma_units_and_defaults);
    tcase_add_test(st, cache_hit_ratio_matches_within_the_statistical_rule);
    return s;
}

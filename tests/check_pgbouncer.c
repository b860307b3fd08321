/*
 * check_pgbouncer.c - PgBouncer exactly (reference/domain.md §2; DESIGN.md §7
 * rung 1): pool modes, FIFO waiting, the janitor's timeouts, growth limits,
 * the server_login_retry fast-fail, the pooler's per-statement cost and
 * foreign clients, each with constant times and answers to the nanosecond.
 *
 * Most scenarios drive PgBouncer by hand: "hand" clients are links of our
 * own to the scenario's PgBouncer (or straight to its PostgreSQL), so that a
 * test decides when each client logs in, queries and disconnects.  The rest
 * go through the whole stack (tests/rig.h).  The last case runs
 * a busy mixed scenario and checks every model's invariants every 100 us of
 * simulated time, on top of the asserts that PgBouncer and PostgreSQL run
 * after each of their own events.
 */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "models/config.h"
#include "models/cpool.h"
#include "models/scenario.h"
#include "sim/json.h"
#include "sim/xalloc.h"
#include "tests/rig.h"
#include "tests/tests.h"

/* Common keys; each test adds its own app, client_pool, pooler, postgres and network. */
#define HEAD                                                                                       \
    "{\"name\": \"t\", \"duration\": \"100s\", "                                                   \
    "\"workload\": {\"model\": \"open\", \"rate\": 1, \"page\": [\"a\"]}, "

#define APP_A(t)                                                                                   \
    "\"app\": {\"endpoints\": {\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": "   \
    "\"" t "\"}]}}},"

/* A PgBouncer rig: the pooler keys after "kind", and the postgres and network objects' keys. */
static void rig_pgb(struct rig *r, const char *pooler, const char *postgres, const char *network)
{
    char json[4096];

    snprintf(json, sizeof json,
             HEAD APP_A("1ms") "\"pooler\": {\"kind\": \"pgbouncer\", %s}, \"postgres\": {%s}, "
                               "\"network\": {%s}}",
             pooler, postgres, network);
    rig_up(r, json);
}

static void run_to(struct rig *r, sim_time t)
{
    rig_run_to(r, t);
}

/* ---- hand clients ---- */

struct hand {
    struct link link;
    int connected, results, fatals; /* answers received */
    enum errkind err;               /* error of the last answer */
    sim_time at;                    /* time of the last answer (ns); -1 before any */
};

static void hand_down(struct link *l, enum link_msg m, enum errkind err)
{
    struct hand *h = l->owner;

    h->at = sim_now(l->sim);
    h->err = err;
    h->connected += m == LINK_CONNECTED;
    h->results += m == LINK_RESULT;
    h->fatals += m == LINK_FATAL;
}

static void hand_open(struct rig *r, struct hand *h, const struct upstream *up, sim_time rtt)
{
    memset(h, 0, sizeof *h);
    h->err = ERRK_NONE;
    h->at = -1;
    link_init(&h->link, r->s.sim, up, rtt, 3, hand_down, h);
    link_send_up(&h->link, LINK_CONNECT, NULL);
}

/* Log h in to PgBouncer over a hop of rtt (3 round trips). */
static void hand_connect(struct rig *r, struct hand *h, sim_time rtt)
{
    hand_open(r, h, &r->s.pgb.up, rtt);
}

/* Send one statement of server time server_ns; in_tx leaves a transaction open after it. */
static void hand_query(struct hand *h, sim_time server_ns, bool in_tx)
{
    struct stmt s = {.server_ns = server_ns, .in_tx_after = in_tx};

    link_send_up(&h->link, LINK_QUERY, &s);
}

/* ---- pool modes ---- */

#define SLOW_LOGIN "\"backend_start\": \"5ms\"", "\"pooler_db_rtt\": \"2ms\""

START_TEST(session_mode_second_client_waits_until_first_disconnects)
{
    struct rig r;
    struct hand a, b;

    rig_pgb(&r, "\"pool_mode\": \"session\", \"default_pool_size\": 1", SLOW_LOGIN);
    hand_connect(&r, &a, 0);
    hand_connect(&r, &b, 0);
    hand_query(&a, SIM_MS(100), false);
    hand_query(&b, SIM_MS(100), false);
    run_to(&r, SIM_MS(500));
    /* login: 2.5 round trips out, 5 ms backend start, half a trip back = 11 ms; the query
     * 1 ms out, 100 ms, 1 ms back */
    ck_assert_int_eq(a.results, 1);
    ck_assert_int_eq(a.at, SIM_MS(113));
    ck_assert_int_eq(b.results + b.fatals, 0); /* a keeps the server while connected */
    link_close(&a.link);
    run_to(&r, SIM_S(2));
    /* the reset query's round trip (501 ms out, 502 ms back), then b's query */
    ck_assert_int_eq(b.results, 1);
    ck_assert_int_eq(b.at, SIM_MS(502 + 1 + 100 + 1));
    ck_assert_double_eq(r.s.m.pooler_wait.max, (double)SIM_MS(502));
    ck_assert_int_eq(pgb_servers(&r.s.pgb), 1);
    rig_down(&r);
}
END_TEST

START_TEST(session_mode_waiter_takes_the_server_being_reset_without_a_new_login)
{
    struct rig r;
    struct hand a, b;

    rig_pgb(&r, "\"pool_mode\": \"session\", \"default_pool_size\": 2", SLOW_LOGIN);
    hand_connect(&r, &a, 0);
    hand_connect(&r, &b, 0);
    hand_query(&a, SIM_MS(100), false);
    run_to(&r, SIM_MS(500));
    link_close(&a.link); /* the reset query runs from 500 ms to 502 ms */
    run_to(&r, SIM_US(500500));
    hand_query(&b, SIM_MS(100), false); /* the pool could grow, but a server is about to be free */
    run_to(&r, SIM_S(2));
    ck_assert_int_eq(b.at, SIM_MS(502 + 1 + 100 + 1));
    ck_assert_int_eq(pgb_servers(&r.s.pgb), 1);
    ck_assert_int_eq(pg_backends(&r.s.pg), 1);
    rig_down(&r);
}
END_TEST

START_TEST(transaction_mode_second_client_waits_only_until_first_commit)
{
    struct rig r;
    struct hand a, b;

    rig_pgb(&r, "\"pool_mode\": \"transaction\", \"default_pool_size\": 1", SLOW_LOGIN);
    hand_connect(&r, &a, 0);
    hand_connect(&r, &b, 0);
    hand_query(&a, SIM_MS(100), false);
    hand_query(&b, SIM_MS(100), false);
    run_to(&r, SIM_S(2));
    ck_assert_int_eq(a.at, SIM_MS(113));
    /* the server is released when a's autocommit result reaches PgBouncer (113 ms) */
    ck_assert_int_eq(b.at, SIM_MS(113 + 1 + 100 + 1));
    ck_assert_int_eq(a.fatals + b.fatals, 0);
    ck_assert_int_eq(pgb_servers(&r.s.pgb), 1);
    rig_down(&r);
}
END_TEST

START_TEST(transaction_mode_holds_server_across_think_time_of_open_transaction)
{
    struct rig r;
    struct hand a, b;

    rig_pgb(&r, "\"pool_mode\": \"transaction\", \"default_pool_size\": 1", SLOW_LOGIN);
    hand_connect(&r, &a, 0);
    hand_connect(&r, &b, 0);
    hand_query(&a, SIM_MS(10), true); /* BEGIN; statement: the transaction stays open */
    hand_query(&b, SIM_MS(10), false);
    run_to(&r, SIM_MS(300));
    ck_assert_int_eq(a.at, SIM_MS(11 + 1 + 10 + 1));
    ck_assert_int_eq(b.results, 0); /* a thinks for 277 ms holding the server */
    hand_query(&a, 0, false);       /* COMMIT */
    run_to(&r, SIM_S(1));
    ck_assert_int_eq(a.at, SIM_MS(302)); /* released when COMMIT's answer reaches PgBouncer */
    ck_assert_int_eq(b.at, SIM_MS(302 + 1 + 10 + 1));
    rig_down(&r);
}
END_TEST

START_TEST(statement_mode_refuses_a_transaction_and_closes_its_server)
{
    struct rig r;
    struct hand a, b;

    rig_pgb(&r, "\"pool_mode\": \"statement\", \"default_pool_size\": 1",
            "\"backend_start\": \"0s\"", "");
    hand_connect(&r, &a, 0);
    hand_connect(&r, &b, 0);
    hand_query(&a, SIM_MS(10), true);
    hand_query(&b, SIM_MS(10), false);
    run_to(&r, SIM_S(1));
    ck_assert_int_eq(a.fatals, 1);
    ck_assert_int_eq(a.err, ERRK_STATEMENT_MODE);
    ck_assert_int_eq(a.at, SIM_MS(10));
    ck_assert_ptr_null(a.link.peer);
    ck_assert_int_eq(b.at, SIM_MS(20)); /* on a new server */
    ck_assert_int_eq(pg_backends(&r.s.pg), 1);
    rig_down(&r);
}
END_TEST

START_TEST(client_leaving_mid_query_closes_its_server)
{
    struct rig r;
    struct hand a, b;

    rig_pgb(&r, "\"pool_mode\": \"transaction\", \"default_pool_size\": 1",
            "\"backend_start\": \"0s\"", "");
    hand_connect(&r, &a, 0);
    hand_connect(&r, &b, 0);
    hand_query(&a, SIM_S(1), false);
    hand_query(&b, SIM_MS(100), false);
    run_to(&r, SIM_MS(500));
    link_close(&a.link); /* the server cannot be reset mid-query: closed, backend freed */
    run_to(&r, SIM_S(2));
    ck_assert_int_eq(b.at, SIM_MS(600)); /* a new server at once */
    ck_assert_int_eq(pg_backends(&r.s.pg), 1);
    ck_assert_int_eq(pgb_clients(&r.s.pgb), 1);
    rig_down(&r);
}
END_TEST

/* ---- waiting, timeouts and limits ---- */

START_TEST(query_wait_timeout_disconnects_at_first_tick_past_it)
{
    struct rig r;
    struct hand a, b;

    rig_pgb(&r,
            "\"pool_mode\": \"transaction\", \"default_pool_size\": 1, "
            "\"query_wait_timeout\": 1",
            "\"backend_start\": \"0s\"", "");
    hand_connect(&r, &a, 0);
    hand_connect(&r, &b, 0);
    hand_query(&a, SIM_S(10), false);
    hand_query(&b, SIM_MS(10), false);
    run_to(&r, SIM_US(1333331)); /* the tick at 999 999 us is not past 1 s */
    ck_assert_int_eq(b.fatals, 0);
    run_to(&r, SIM_US(1333332));
    ck_assert_int_eq(b.fatals, 1);
    ck_assert_int_eq(b.err, ERRK_QUERY_WAIT_TIMEOUT);
    ck_assert_int_eq(b.at, SIM_US(1333332));
    ck_assert_ptr_null(b.link.peer); /* its connection is gone */
    ck_assert_int_eq(pgb_clients(&r.s.pgb), 1);
    run_to(&r, SIM_S(20));
    ck_assert_int_eq(a.at, SIM_S(10));
    rig_down(&r);
}
END_TEST

START_TEST(max_client_conn_refuses_at_once_and_counts_foreign_clients)
{
    struct rig r;
    struct hand a, b, c, d;

    rig_pgb(&r, "\"max_client_conn\": 3, \"foreign_clients\": 1", "", "");
    hand_connect(&r, &a, SIM_MS(10));
    hand_connect(&r, &b, SIM_MS(10));
    hand_connect(&r, &c, SIM_MS(10));
    run_to(&r, SIM_MS(100));
    ck_assert_int_eq(a.connected + b.connected, 2);
    /* refused when its startup arrives (25 ms), the FATAL back 5 ms later */
    ck_assert_int_eq(c.fatals, 1);
    ck_assert_int_eq(c.err, ERRK_MAX_CLIENT_CONN);
    ck_assert_int_eq(c.at, SIM_MS(30));
    link_close(&a.link);
    hand_connect(&r, &d, SIM_MS(10));
    run_to(&r, SIM_MS(200));
    ck_assert_int_eq(d.connected, 1);
    ck_assert_int_eq(d.at, SIM_MS(130));
    ck_assert_int_eq(pgb_clients(&r.s.pgb), 3);
    rig_down(&r);
}
END_TEST

START_TEST(cold_pool_opens_servers_one_after_another)
{
    struct rig r;
    struct hand h[10];

    rig_pgb(&r, "\"pool_mode\": \"transaction\"", SLOW_LOGIN);
    for (int i = 0; i < 10; i++) {
        hand_connect(&r, &h[i], 0);
        hand_query(&h[i], SIM_MS(100), false);
    }
    run_to(&r, SIM_MS(50));
    ck_assert_int_eq(pgb_servers(&r.s.pgb), 5); /* 4 logged in, the 5th logging in */
    run_to(&r, SIM_S(2));
    /* one login at a time: the k-th server is ready at k x 11 ms and serves the k-th client */
    for (int k = 1; k <= 10; k++) {
        ck_assert_int_eq(h[k - 1].results, 1);
        ck_assert_int_eq(h[k - 1].at, SIM_MS(11 * k + 1 + 100 + 1));
    }
    ck_assert_int_eq(pgb_servers(&r.s.pgb), 10);
    ck_assert_int_eq(pg_backends(&r.s.pg), 10);
    rig_down(&r);
}
END_TEST

/* Two clients hold 10 s; b waits from t = 0 with a 100 ms statement: when does b finish? */
static sim_time reserve_case(const char *pooler, int64_t *servers)
{
    struct rig r;
    struct hand a, b, c;
    sim_time t;

    rig_pgb(&r, pooler, "\"backend_start\": \"0s\"", "");
    hand_connect(&r, &a, 0);
    hand_connect(&r, &b, 0);
    hand_connect(&r, &c, 0);
    hand_query(&a, SIM_S(10), false);
    hand_query(&b, SIM_MS(100), false);
    hand_query(&c, SIM_MS(100), false);
    run_to(&r, SIM_S(30));
    ck_assert_int_eq(b.results + c.results, 2);
    ck_assert_int_eq(c.at, b.at + SIM_MS(100)); /* c takes b's server: no third one */
    *servers = pgb_servers(&r.s.pgb);
    t = b.at;
    rig_down(&r);
    return t;
}

START_TEST(reserve_pool_opens_at_first_tick_once_first_waiter_waited_long_enough)
{
    int64_t servers;

#define RES "\"pool_mode\": \"transaction\", \"default_pool_size\": 1, "
    /* the janitor's third tick, 999 999 us, is >= 999 999 us (the test is >=) */
    ck_assert_int_eq(reserve_case(RES "\"reserve_pool_size\": 1, \"reserve_pool_timeout\": "
                                      "\"999999us\"",
                                  &servers),
                     SIM_US(999999) + SIM_MS(100));
    ck_assert_int_eq(servers, 2);
    /* 1 s: the fourth tick */
    ck_assert_int_eq(
        reserve_case(RES "\"reserve_pool_size\": 1, \"reserve_pool_timeout\": 1", &servers),
        SIM_US(1333332) + SIM_MS(100));
    /* no reserve, or a timeout of 0 (which turns it off, as in PgBouncer): b waits for a */
    ck_assert_int_eq(reserve_case(RES "\"reserve_pool_timeout\": 1", &servers),
                     SIM_S(10) + SIM_MS(100));
    ck_assert_int_eq(servers, 1);
    ck_assert_int_eq(
        reserve_case(RES "\"reserve_pool_size\": 1, \"reserve_pool_timeout\": 0", &servers),
        SIM_S(10) + SIM_MS(100));
#undef RES
}
END_TEST

START_TEST(max_db_connections_caps_the_servers)
{
    struct rig r;
    struct hand h[4];

    rig_pgb(&r,
            "\"pool_mode\": \"transaction\", \"default_pool_size\": 5, "
            "\"max_db_connections\": 2",
            "\"backend_start\": \"0s\"", "");
    ck_assert_int_eq(pgb_server_cap(&r.x.pooler.pgb), 2);
    for (int i = 0; i < 4; i++) {
        hand_connect(&r, &h[i], 0);
        hand_query(&h[i], SIM_S(1), false);
    }
    run_to(&r, SIM_MS(1500));
    ck_assert_int_eq(pgb_servers(&r.s.pgb), 2);
    run_to(&r, SIM_S(5));
    ck_assert_int_eq(h[0].at, SIM_S(1));
    ck_assert_int_eq(h[1].at, SIM_S(1));
    ck_assert_int_eq(h[2].at, SIM_S(2));
    ck_assert_int_eq(h[3].at, SIM_S(2));
    ck_assert_int_eq(pg_backends(&r.s.pg), 2);
    rig_down(&r);
}
END_TEST

START_TEST(query_timeout_closes_a_long_query_and_times_out_a_waiter)
{
    struct rig r;
    struct hand a, b, c;

    rig_pgb(&r, "\"pool_mode\": \"transaction\", \"default_pool_size\": 1, \"query_timeout\": 1",
            "\"backend_start\": \"0s\"", "");
    hand_connect(&r, &a, 0);
    hand_connect(&r, &b, 0);
    hand_connect(&r, &c, 0);
    hand_query(&a, SIM_S(5), false);
    run_to(&r, SIM_MS(200));
    hand_query(&b, SIM_MS(200), false);
    run_to(&r, SIM_MS(500));
    hand_query(&c, SIM_MS(200), false);
    run_to(&r, SIM_US(1333331));
    ck_assert_int_eq(a.fatals + b.fatals + c.fatals, 0);
    ck_assert_int_eq(pg_backends(&r.s.pg), 1);
    run_to(&r, SIM_US(1333332));
    /* a ran 1.333332 s (> 1 s): its server is closed and its backend freed */
    ck_assert_int_eq(a.fatals, 1);
    ck_assert_int_eq(a.err, ERRK_QUERY_TIMEOUT);
    ck_assert_int_eq(a.at, SIM_US(1333332));
    /* b waited 1.133332 s: a waiting client's age counts against query_timeout too */
    ck_assert_int_eq(b.err, ERRK_QUERY_TIMEOUT);
    ck_assert_int_eq(b.at, SIM_US(1333332));
    run_to(&r, SIM_S(3));
    /* c waited 0.833332 s: it gets a new server at once */
    ck_assert_int_eq(c.results, 1);
    ck_assert_int_eq(c.at, SIM_US(1333332) + SIM_MS(200));
    ck_assert_int_eq(pg_backends(&r.s.pg), 1);
    ck_assert_int_eq(r.s.m.db_active.value, 0);
    rig_down(&r);
}
END_TEST

START_TEST(query_timeout_spares_idle_session_but_not_idle_transaction)
{
    struct rig r;
    struct hand a, b;

    rig_pgb(&r, "\"pool_mode\": \"session\", \"default_pool_size\": 2, \"query_timeout\": 1",
            "\"backend_start\": \"0s\"", "");
    hand_connect(&r, &a, 0);
    hand_connect(&r, &b, 0);
    hand_query(&a, SIM_MS(10), false); /* then idle, linked, ready */
    hand_query(&b, SIM_MS(10), true);  /* then idle in transaction: the server is not ready */
    run_to(&r, SIM_S(5));
    ck_assert_int_eq(a.fatals, 0);
    ck_assert_int_eq(b.fatals, 1);
    ck_assert_int_eq(b.err, ERRK_QUERY_TIMEOUT);
    ck_assert_int_eq(b.at, SIM_US(1333332)); /* its last query arrived at 0 */
    ck_assert_int_eq(pgb_servers(&r.s.pgb), 1);
    rig_down(&r);
}
END_TEST

/* ---- failing logins ---- */

START_TEST(server_connect_timeout_abandons_login_and_fast_fails_new_clients)
{
    struct rig r;
    struct hand a, c, d, e;

    rig_pgb(&r,
            "\"pool_mode\": \"transaction\", \"server_connect_timeout\": 1, "
            "\"server_login_retry\": 5",
            "\"backend_start\": \"20s\"", "");
    hand_connect(&r, &a, 0);
    hand_query(&a, SIM_MS(10), false);
    run_to(&r, SIM_MS(500));
    hand_connect(&r, &d, 0); /* logs in before the failure */
    run_to(&r, SIM_US(1333331));
    ck_assert_int_eq(pg_backends(&r.s.pg), 1);
    run_to(&r, SIM_US(1333332)); /* the login is 1.333332 s old: abandoned at both ends */
    ck_assert_int_eq(pg_backends(&r.s.pg), 0);
    ck_assert_int_eq(pgb_servers(&r.s.pgb), 0);
    ck_assert_int_eq(a.fatals, 0); /* already waiting: it keeps waiting */
    run_to(&r, SIM_S(2));
    hand_connect(&r, &c, 0); /* no server connected, the last login failed: refused at login */
    ck_assert_int_eq(c.fatals, 1);
    ck_assert_int_eq(c.err, ERRK_SERVER_LOGIN_RETRY);
    ck_assert_int_eq(c.at, SIM_S(2));
    run_to(&r, SIM_S(3));
    hand_query(&d, SIM_MS(10), false); /* and at the query, for a client already in */
    ck_assert_int_eq(d.fatals, 1);
    ck_assert_int_eq(d.err, ERRK_SERVER_LOGIN_RETRY);
    run_to(&r, SIM_S(5) - 1);
    ck_assert_int_eq(pg_backends(&r.s.pg), 0);
    run_to(&r, SIM_S(5)); /* server_login_retry after the failed login started, at 0 */
    ck_assert_int_eq(pg_backends(&r.s.pg), 1);
    hand_connect(&r, &e, 0); /* a login in progress is no connected server */
    ck_assert_int_eq(e.err, ERRK_SERVER_LOGIN_RETRY);
    /* the second login started at 5 s: abandoned at the tick 6 333 327 us */
    run_to(&r, SIM_US(6333326));
    ck_assert_int_eq(pg_backends(&r.s.pg), 1);
    run_to(&r, SIM_US(6333327));
    ck_assert_int_eq(pg_backends(&r.s.pg), 0);
    rig_down(&r);
}
END_TEST

START_TEST(refused_login_pauses_logins_from_its_start_then_recovers)
{
    struct rig r;
    struct hand x, a, c, e, f;

    /* one usable slot at PostgreSQL, taken by a direct connection x */
    rig_pgb(&r, "\"pool_mode\": \"transaction\", \"server_login_retry\": 5",
            "\"max_connections\": 4, \"superuser_reserved_connections\": 3, "
            "\"backend_start\": \"5ms\"",
            "\"pooler_db_rtt\": \"2ms\"");
    hand_open(&r, &x, &r.s.pg.up, 0);
    hand_connect(&r, &a, 0);
    hand_query(&a, SIM_MS(100), false);
    run_to(&r, SIM_S(1));
    ck_assert(r.s.pgb.login_failed); /* 53300 at 5 ms, known at 6 ms */
    ck_assert_int_eq(a.fatals + a.results, 0);
    hand_connect(&r, &c, 0);
    ck_assert_int_eq(c.err, ERRK_SERVER_LOGIN_RETRY);
    run_to(&r, SIM_S(2));
    link_close(&x.link); /* the slot is free */
    run_to(&r, SIM_MS(5005));
    hand_connect(&r, &e, 0); /* the new login (5 s to 5.011 s) is not done yet */
    ck_assert_int_eq(e.err, ERRK_SERVER_LOGIN_RETRY);
    run_to(&r, SIM_S(6));
    /* the pause ends 5 s after the failed login started (0), not after it failed (6 ms) */
    ck_assert_int_eq(a.results, 1);
    ck_assert_int_eq(a.at, SIM_MS(5000 + 11 + 1 + 100 + 1));
    ck_assert(!r.s.pgb.login_failed);
    hand_connect(&r, &f, 0);
    hand_query(&f, SIM_MS(100), false);
    run_to(&r, SIM_S(7));
    ck_assert_int_eq(f.results, 1);
    ck_assert_int_eq(f.at, SIM_MS(6000 + 1 + 100 + 1));
    rig_down(&r);
}
END_TEST

/* ---- the pooler's own cost and other clients ---- */

/* One call through the whole stack: client_pool and pooler keys as given. */
static sim_time per_statement_case(const char *client_pool, const char *pooler)
{
    struct rig r;
    char json[2048];
    sim_time t;

    snprintf(json, sizeof json,
             HEAD "\"app\": {\"endpoints\": {\"a\": {\"operations\": [{\"type\": \"query\", "
                  "\"statements\": 2, \"server_time\": \"10ms\"}]}}}, \"client_pool\": {%s}, "
                  "\"pooler\": {\"kind\": \"pgbouncer\", \"pool_mode\": \"transaction\"%s}, "
                  "\"postgres\": {\"backend_start\": \"0s\"}, "
                  "\"network\": {\"app_pooler_rtt\": \"2ms\"}}",
             client_pool, pooler);
    rig_up(&r, json);
    rig_load(&r, "a");
    run_to(&r, SIM_S(1));
    t = rig_only_latency(&r, SER_OK);
    rig_down(&r);
    return t;
}

START_TEST(per_statement_adds_its_cost_once_per_statement)
{
    /* connect 6 ms; each statement a Parse round trip (2 ms), then 2 ms of round trip + 10 ms;
     * PgBouncer's cost is paid by the Parse as by any message */
    ck_assert_int_eq(per_statement_case("", ""), SIM_MS(6 + 2 * (2 + 12)));
    ck_assert_int_eq(per_statement_case("", ", \"per_statement\": \"3ms\""),
                     SIM_MS(6 + 2 * (2 + 12) + 4 * 3));
    /* pgbouncer: BEGIN, DEALLOCATE ALL, 2 statements, COMMIT: 5 statements */
    ck_assert_int_eq(per_statement_case("\"pgbouncer\": true", ""), SIM_MS(6 + 5 * 2 + 20));
    ck_assert_int_eq(per_statement_case("\"pgbouncer\": true", ", \"per_statement\": \"3ms\""),
                     SIM_MS(6 + 5 * 2 + 20 + 5 * 3));
}
END_TEST

/* Two app clients with 100 ms statements behind foreign clients; returns b's finish time. */
static sim_time foreign_case(const char *pooler, int64_t *backends)
{
    struct rig r;
    struct hand a, b;
    sim_time t;

    rig_pgb(&r, pooler, "\"backend_start\": \"0s\"", "");
    hand_connect(&r, &a, 0);
    hand_connect(&r, &b, 0);
    hand_query(&a, SIM_MS(100), false);
    hand_query(&b, SIM_MS(100), false);
    run_to(&r, SIM_S(10));
    ck_assert_int_eq(a.at, SIM_MS(100));
    *backends = pg_backends(&r.s.pg);
    t = b.at;
    rig_down(&r);
    return t;
}

START_TEST(foreign_clients_hold_servers_for_the_whole_run)
{
    int64_t backends;

#define FOR "\"pool_mode\": \"transaction\", \"default_pool_size\": 2"
    ck_assert_int_eq(foreign_case(FOR, &backends), SIM_MS(100));
    ck_assert_int_eq(backends, 2);
    /* one foreign client: the app has one server left */
    ck_assert_int_eq(foreign_case(FOR ", \"foreign_clients\": 1", &backends), SIM_MS(200));
    ck_assert_int_eq(backends, 2); /* its server is a real backend at PostgreSQL */
#undef FOR
}
END_TEST

START_TEST(foreign_clients_beyond_the_pool_stay_idle)
{
    struct rig r;
    struct hand a, b;

    rig_pgb(&r,
            "\"pool_mode\": \"transaction\", \"default_pool_size\": 2, \"foreign_clients\": 3, "
            "\"max_client_conn\": 4, \"query_wait_timeout\": 1",
            "\"backend_start\": \"0s\"", "");
    hand_connect(&r, &a, 0);
    hand_connect(&r, &b, 0);
    ck_assert_int_eq(b.err, ERRK_MAX_CLIENT_CONN); /* 3 foreign + a */
    hand_query(&a, SIM_MS(100), false);
    run_to(&r, SIM_S(5));
    ck_assert_int_eq(a.err, ERRK_QUERY_WAIT_TIMEOUT); /* both servers held all along */
    ck_assert_int_eq(pgb_servers(&r.s.pgb), 2);
    ck_assert_int_eq(pgb_clients(&r.s.pgb), 3); /* the third foreign client never queried */
    ck_assert_int_eq(r.s.m.server_busy.value, 2);
    rig_down(&r);
}
END_TEST

/* ---- the keys ---- */

static int load_err(const char *json, struct err *e)
{
    struct cJSON *doc = NULL;
    struct experiment x;
    int rc;

    err_clear(e);
    ck_assert(json_parse("test.json", json, strlen(json), &doc, e) == 0);
    rc = experiment_load(&x, doc, ".", e);
    json_free(doc);
    if (rc == 0) {
        experiment_fini(&x);
    }
    return rc;
}

#define KEYS(pooler) HEAD APP_A("1ms") "\"pooler\": {" pooler "}}"

START_TEST(keys_have_pgbouncer_defaults_and_units)
{
    struct rig r;
    const struct pgb_config *c = &r.x.pooler.pgb;
    struct err e;

    rig_up(&r, KEYS("\"kind\": \"pgbouncer\""));
    ck_assert_int_eq(c->query_timeout, 0);
    ck_assert_int_eq(c->reserve_pool_size, 0);
    ck_assert_int_eq(c->reserve_pool_timeout, SIM_S(5));
    ck_assert_int_eq(c->max_db_connections, 0);
    ck_assert_int_eq(c->server_connect_timeout, SIM_S(15));
    ck_assert_int_eq(c->server_login_retry, SIM_S(15));
    ck_assert_int_eq(c->per_statement, 0);
    ck_assert_int_eq(c->foreign_clients, 0);
    rig_down(&r);
    rig_up(&r, KEYS("\"kind\": \"pgbouncer\", \"query_timeout\": 2, \"reserve_pool_size\": 3, "
                    "\"reserve_pool_timeout\": 0.5, \"max_db_connections\": 7, "
                    "\"server_connect_timeout\": \"250ms\", \"per_statement\": \"20us\", "
                    "\"foreign_clients\": 4"));
    ck_assert_int_eq(c->query_timeout, SIM_S(2));
    ck_assert_int_eq(c->reserve_pool_size, 3);
    ck_assert_int_eq(c->reserve_pool_timeout, SIM_MS(500));
    ck_assert_int_eq(c->max_db_connections, 7);
    ck_assert_int_eq(c->server_connect_timeout, SIM_MS(250));
    ck_assert_int_eq(c->per_statement, SIM_US(20));
    ck_assert_int_eq(c->foreign_clients, 4);
    ck_assert_int_eq(pgb_server_cap(c), 7);
    rig_down(&r);
    ck_assert_int_eq(load_err(KEYS("\"kind\": \"pgbouncer\", \"per_statement\": 5"), &e), -1);
    ck_assert_str_eq(e.path, "$.pooler.per_statement");
    ck_assert_int_eq(load_err(KEYS("\"kind\": \"direct\", \"foreign_clients\": 1"), &e), -1);
    ck_assert_str_eq(e.path, "$.pooler.foreign_clients");
    ck_assert_int_eq(load_err(KEYS("\"kind\": \"pgbouncer\", \"foreign_clients\": 101"), &e), -1);
    ck_assert_str_eq(e.msg, "foreign_clients (101) must not exceed max_client_conn (100)");
    ck_assert_int_eq(load_err(KEYS("\"kind\": \"pgbouncer\", \"reserve_pool_size\": -1"), &e), -1);
    ck_assert_int_eq(load_err(KEYS("\"kind\": \"direct\", \"max_prepared_statements\": 0"), &e),
                     -1); /* a PgBouncer key: check_prepared tests its values */
}
END_TEST

START_TEST(resolved_configuration_lists_every_pgbouncer_key)
{
    struct rig r;
    cJSON *o, *p;

    rig_up(&r, KEYS("\"kind\": \"pgbouncer\", \"query_timeout\": 2, \"per_statement\": \"20us\", "
                    "\"foreign_clients\": 4"));
    o = experiment_resolved(&r.x);
    p = cJSON_GetObjectItemCaseSensitive(o, "pooler");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(p, "query_timeout")->valuestring, "2s");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(p, "per_statement")->valuestring, "20us");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(p, "server_connect_timeout")->valuestring,
                     "15s");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(p, "reserve_pool_timeout")->valuestring,
                     "5s");
    ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(p, "foreign_clients")->valuedouble, 4);
    ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(p, "reserve_pool_size")->valuedouble, 0);
    ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(p, "max_db_connections")->valuedouble, 0);
    cJSON_Delete(o);
    rig_down(&r);
}
END_TEST

/* ---- every invariant, all the time, in a busy mixed scenario ---- */

/*
 * Transaction mode with a small pool, a reserve capped by max_db_connections,
 * a per-statement cost, query_timeout below the longest statements (servers
 * closed mid-query and mid-transaction, with answers and queries crossing the
 * FATAL on a 40 ms hop), slow and variable backend starts against
 * server_connect_timeout (logins fail, and with no server left the fast-fail
 * answers), query_wait_timeout below query_timeout, and Prisma's pool_timeout.
 * %s: rate, foreign clients, query_timeout, query_wait_timeout.
 */
#define BUSY                                                                                       \
    "{\"name\": \"busy\", \"seed\": 3, \"duration\": \"60s\", "                                    \
    "\"workload\": {\"model\": \"open\", \"rate\": %s, \"page\": [\"a\", \"b\", \"a\"]}, "         \
    "\"app\": {\"instances\": 2, \"clients\": 2, \"endpoints\": {"                                 \
    "\"a\": {\"operations\": [{\"type\": \"query\", \"statements\": 2, \"server_time\": "          \
    "{\"dist\": \"lognormal\", \"median\": \"20ms\", \"p99\": \"1500ms\"}}]}, "                    \
    "\"b\": {\"operations\": [{\"type\": \"query\", \"server_time\": "                             \
    "{\"dist\": \"exponential\", \"mean\": \"30ms\"}}]}}}, "                                       \
    "\"client_pool\": {\"connection_limit\": 4, \"pool_timeout\": 3, \"pgbouncer\": true}, "       \
    "\"pooler\": {\"kind\": \"pgbouncer\", \"pool_mode\": \"transaction\", "                       \
    "\"default_pool_size\": 4, \"reserve_pool_size\": 2, \"reserve_pool_timeout\": \"200ms\", "    \
    "\"max_db_connections\": 5, \"foreign_clients\": %s, \"query_timeout\": %s, "                  \
    "\"query_wait_timeout\": %s, \"server_connect_timeout\": \"500ms\", "                          \
    "\"server_login_retry\": 1, \"per_statement\": \"50us\"}, "                                    \
    "\"postgres\": {\"max_connections\": 8, \"backend_start\": "                                   \
    "{\"dist\": \"uniform\", \"min\": \"1ms\", \"max\": \"900ms\"}}, "                             \
    "\"network\": {\"app_pooler_rtt\": \"40ms\", \"pooler_db_rtt\": \"1ms\"}}"

/* Every model's invariants (plain tests: Check logs each passing ck_assert, too slow here). */
static const char *broken_model(const struct rig *r)
{
    const struct app *a = &r->s.app;

    if (!pgb_check(&r->s.pgb) || pgb_servers(&r->s.pgb) > 5) {
        return "pgbouncer";
    }
    if (!pg_check(&r->s.pg) || pg_backends(&r->s.pg) > 5) {
        return "postgres";
    }
    return app_check(a) ? NULL : "app or client pool";
}

/* rig_up, with the workload's random arrivals. */
static void rig_up_workload(struct rig *r, const char *json)
{
    rig_up(r, json);
    scn_fini(&r->s);
    scn_init(&r->s, &r->x, 1, r->h, true);
}

/* Run 60 s, checking every model every 100 us; the errors seen, by kind. */
static void busy_run(const char *rate, const char *foreign, const char *qt, const char *qwt,
                     uint64_t *errors)
{
    struct rig r;
    char json[4096];

    snprintf(json, sizeof json, BUSY, rate, foreign, qt, qwt);
    rig_up_workload(&r, json);
    for (sim_time t = 0; t <= SIM_S(60); t += SIM_US(100)) {
        const char *broken;

        run_to(&r, t);
        if ((broken = broken_model(&r)) != NULL) {
            ck_abort_msg("%s: invariant broken at t = %lld ns", broken, (long long)t);
        }
    }
    ck_assert_uint_gt(r.s.m.ok, 500);
    ck_assert_int_eq(r.s.m.server_conns.peak, 5); /* the reserve opened, up to max_db */
    memcpy(errors, r.s.m.errors_by_kind, sizeof r.s.m.errors_by_kind);
    rig_down(&r);
}

START_TEST(every_invariant_holds_all_along_a_busy_run)
{
    uint64_t k[ERRK__COUNT];

    /* the scenario does exercise what it is meant to */
    busy_run("6", "0", "0.5", "0.3", k);
    ck_assert_uint_gt(k[ERRK_QUERY_TIMEOUT], 0);
    ck_assert_uint_gt(k[ERRK_QUERY_WAIT_TIMEOUT], 0);
    ck_assert_uint_gt(k[ERRK_SERVER_LOGIN_RETRY], 0);
    ck_assert_uint_gt(k[ERRK_P2024], 0);
    /* a foreign client keeps a server connected: no fast-fail once it is in */
    busy_run("8", "1", "0.6", "0.25", k);
    ck_assert_uint_gt(k[ERRK_QUERY_TIMEOUT], 0);
    ck_assert_uint_gt(k[ERRK_QUERY_WAIT_TIMEOUT], 0);
}
END_TEST

Suite *pgbouncer_suite(void)
{
    Suite *s = suite_create("pgbouncer");
    TCase *tc = tests_tcase(s, "exact", 20, "");
    TCase *busy = tests_tcase(s, "busy", 60, "");

    tcase_add_test(tc, session_mode_second_client_waits_until_first_disconnects);
    tcase_add_test(tc, session_mode_waiter_takes_the_server_being_reset_without_a_new_login);
    tcase_add_test(tc, transaction_mode_second_client_waits_only_until_first_commit);
    tcase_add_test(tc, transaction_mode_holds_server_across_think_time_of_open_transaction);
    tcase_add_test(tc, statement_mode_refuses_a_transaction_and_closes_its_server);
    tcase_add_test(tc, client_leaving_mid_query_closes_its_server);
    tcase_add_test(tc, query_wait_timeout_disconnects_at_first_tick_past_it);
    tcase_add_test(tc, max_client_conn_refuses_at_once_and_counts_foreign_clients);
    tcase_add_test(tc, cold_pool_opens_servers_one_after_another);
    tcase_add_test(tc, reserve_pool_opens_at_first_tick_once_first_waiter_waited_long_enough);
    tcase_add_test(tc, max_db_connections_caps_the_servers);
    tcase_add_test(tc, query_timeout_closes_a_long_query_and_times_out_a_waiter);
    tcase_add_test(tc, query_timeout_spares_idle_session_but_not_idle_transaction);
    tcase_add_test(tc, server_connect_timeout_abandons_login_and_fast_fails_new_clients);
    tcase_add_test(tc, refused_login_pauses_logins_from_its_start_then_recovers);
    tcase_add_test(tc, per_statement_adds_its_cost_once_per_statement);
    tcase_add_test(tc, foreign_clients_hold_servers_for_the_whole_run);
    tcase_add_test(tc, foreign_clients_beyond_the_pool_stay_idle);
    tcase_add_test(tc, keys_have_pgbouncer_defaults_and_units);
    tcase_add_test(tc, resolved_configuration_lists_every_pgbouncer_key);
    tcase_add_test(busy, every_invariant_holds_all_along_a_busy_run);
    return s;
}

/*
 * check_pools.c - the client pools (reference/domain.md §1.2, §1.3, §1.7,
 * §5): Prisma v6's mobc pool, node-postgres' pg.Pool and dedicated
 * connections, with constant times and exact answers to the nanosecond.
 *
 * Two rigs: the whole request path (pages loaded by hand through the app),
 * and a pool driven directly by probes (a probe is one checkout and the
 * connection it got), which sees connection identities (pool_conn.serial)
 * and so FIFO waiters and LIFO idle reuse.  Both use `direct` PostgreSQL, so
 * a connection opens in network.handshake_rtts round trips plus
 * backend_start.
 */
#include <stdbool.h>
#include <string.h>

#include <cJSON.h>
#include <gsl/gsl_randist.h>

#include "models/config.h"
#include "models/cpool.h"
#include "models/scenario.h"
#include "sim/json.h"
#include "sim/rng.h"
#include "sim/xalloc.h"
#include "tests/rig.h"
#include "tests/tests.h"

/* Common keys; each test adds app, client_pool, postgres and network. */
#define HEAD                                                                                       \
    "{\"name\": \"t\", \"duration\": \"100s\", "                                                   \
    "\"workload\": {\"model\": \"open\", \"rate\": 1, \"page\": [\"a\"]}, "

/* Endpoints a and b of one statement each of server time t. */
#define APP2(t)                                                                                    \
    "\"app\": {\"endpoints\": {"                                                                   \
    "\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"" t "\"}]}, "               \
    "\"b\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"" t "\"}]}}},"

#define APP1(t)                                                                                    \
    "\"app\": {\"endpoints\": {"                                                                   \
    "\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"" t "\"}]}}},"

/* Pool i of the app, as instance i / clients, client i mod clients. */
static struct cpool *pool_at(struct app *a, size_t i)
{
    size_t clients = (size_t)a->x->app.clients;

    return app_client_pool(a, i / clients, i % clients);
}

/* Run to t, then check the app's first pool. */
static void run_to(struct rig *r, sim_time t)
{
    rig_run_to(r, t);
    ck_assert(cpool_check(pool_at(&r->s.app, 0)));
}

/* Load the page made of the endpoints named in names ("a", "ab", ...) for user. */
static void load_for(struct rig *r, const char *names, uint64_t user)
{
    struct page_config pg = {0};
    size_t idx[8];

    for (size_t i = 0; names[i]; i++) {
        idx[i] = (size_t)(names[i] - 'a');
        pg.ncalls = i + 1;
    }
    pg.endpoints = idx;
    pg.weight = 1;
    app_load_page(&r->s.app, &pg, user, NULL, NULL);
}

/*
 * The probes' pool cp: of the experiment's client_pool, beside the app's, on
 * the same engine, its connections going to up (PostgreSQL when NULL).
 */
static void pool_up(struct rig *r, struct cpool *cp, const char *json, const struct upstream *up)
{
    rig_up(r, json);
    cpool_init(cp, r->s.sim, &r->x.client_pool, &r->s.m, up ? up : &r->s.pg.up,
               up ? 0 : r->x.net.app_db_rtt, up ? 1 : (int)r->x.net.handshake_rtts);
}

/* The engine goes first (it never touches a pool), then the pool's memory. */
static void pool_down(struct rig *r, struct cpool *cp)
{
    rig_down(r);
    cpool_fini(cp);
}

/* Run to t, then check the probes' pool. */
static void run_cp(struct rig *r, struct cpool *cp, sim_time t)
{
    rig_run_to(r, t);
    ck_assert(cpool_check(cp));
}

/* ---- probes: one checkout each, driven by hand ---- */

struct probe {
    struct sim *sim; /* borrowed */
    struct pool_request co;
    struct pool_conn *conn; /* granted connection, or NULL */
    sim_time at;            /* when the checkout ended (ns); -1 while pending */
    enum errkind err;       /* how it ended */
    uint64_t serial;        /* the connection's identity, 0 if none */
    enum link_msg answer;   /* the last statement's answer */
};

static void on_probe_granted(struct pool_request *co, struct pool_conn *conn, enum errkind err)
{
    struct probe *p = container_of(co, struct probe, co);

    ck_assert_int_eq(p->at, -1); /* exactly once */
    p->conn = conn;
    p->err = err;
    p->serial = conn ? conn->serial : 0;
    p->at = sim_now(p->sim);
}

static void checkout(struct rig *r, struct cpool *cp, struct probe *p, uint64_t user)
{
    p->sim = r->s.sim;
    p->conn = NULL;
    p->at = -1;
    p->err = ERRK_NONE;
    p->serial = 0;
    p->co.user = user;
    p->co.trace_id = 0;
    p->co.max_wait = 0;
    p->co.max_wait_err = ERRK_NONE;
    cpool_checkout(cp, &p->co, on_probe_granted);
}

static void release(struct probe *p)
{
    ck_assert_ptr_nonnull(p->conn);
    cpool_release(p->conn);
    p->conn = NULL;
}

/* The probe got the connection with this serial at time t. */
static void granted(const struct probe *p, uint64_t serial, sim_time t)
{
    ck_assert_int_eq(p->err, ERRK_NONE);
    ck_assert_int_eq(p->at, t);
    ck_assert_uint_eq(p->serial, serial);
}

static void waiting(const struct probe *p)
{
    ck_assert_int_eq(p->at, -1);
}

/*
 * ---- a scripted server: the i-th connect takes connect_ns[i]; a statement
 * takes its server time and ends with stmt_err ----
 */

#define SCRIPT_MAX 8

struct script_slot {
    struct script *srv;
    struct link *l;       /* the client's connection (borrowed) */
    struct sim_event ev;  /* its pending answer */
    enum link_msg answer; /* LINK_CONNECTED or LINK_RESULT */
};

struct script {
    struct sim *sim;
    struct upstream up;
    sim_time connect_ns[SCRIPT_MAX]; /* per connect, in order (ns) */
    size_t nconnects;                /* connects seen */
    size_t closed;                   /* CLOSEs and withdrawals seen */
    enum errkind stmt_err;           /* every statement's outcome */
    struct script_slot slots[SCRIPT_MAX];
};

static void on_script_answer(struct sim *sim, struct sim_event *ev)
{
    struct script_slot *sl = ev->ctx;

    (void)sim;
    link_send_down(sl->l, sl->answer, sl->answer == LINK_RESULT ? sl->srv->stmt_err : ERRK_NONE);
}

static void script_forget(struct script *srv, struct link *l)
{
    struct script_slot *sl = l->peer;

    sim_cancel(srv->sim, &sl->ev);
    l->peer = NULL;
    srv->closed++;
}

/* Answer a CONNECT or a QUERY after the scripted time. */
static void script_answer(struct script *srv, struct link *l, bool connect)
{
    struct script_slot *sl;

    if (connect) {
        ck_assert_uint_lt(srv->nconnects, SCRIPT_MAX);
        l->peer = &srv->slots[srv->nconnects];
    }
    sl = l->peer;
    sl->srv = srv;
    sl->l = l;
    sl->answer = connect ? LINK_CONNECTED : LINK_RESULT;
    sim_event_init(&sl->ev, on_script_answer, sl);
    sim_schedule_in(srv->sim, &sl->ev,
                    connect ? srv->connect_ns[srv->nconnects++] : l->stmt.server_ns);
}

static void script_on_connect(void *ctx, struct link *l)
{
    script_answer(ctx, l, true);
}

static void script_on_query(void *ctx, struct link *l)
{
    script_answer(ctx, l, false);
}

static void script_on_gone(void *ctx, struct link *l)
{
    script_forget(ctx, l);
}

static const struct upstream_ops script_ops = {script_on_connect, script_on_query, script_on_gone};

/* A probe pool of the experiment's client_pool whose connections go to srv (zero network). */
static void script_up(struct rig *r, struct cpool *cp, struct script *srv, const char *json)
{
    srv->up.ops = &script_ops;
    srv->up.ctx = srv;
    srv->nconnects = srv->closed = 0;
    srv->stmt_err = ERRK_NONE;
    pool_up(r, cp, json, &srv->up);
    srv->sim = r->s.sim;
}

static void on_probe_result(void *user, enum link_msg m, enum errkind err)
{
    struct probe *p = user;

    p->answer = m;
    p->err = err;
}

static void query(struct probe *p, sim_time server_ns)
{
    struct stmt st = {.server_ns = server_ns, .in_tx_after = false};

    cpool_query(p->conn, &st, on_probe_result, p);
}

/* ---- FIFO waiters and LIFO idle reuse, on connection identities ---- */

/*
 * Two connections that open in 10 ms, four checkouts at t = 0: the first two
 * open them, the other two wait and are served in arrival order (FIFO).
 * Then serial 2 is released before serial 1: a new checkout gets serial 1,
 * the most recently released (LIFO reuse; FIFO reuse would give serial 2).
 */
static void fifo_waiters_lifo_idle(const char *client_pool)
{
    struct rig r;
    struct cpool cp;
    struct probe p[6];
    char json[1024];

    snprintf(json, sizeof json, HEAD APP1("1s") "%s, \"postgres\": {\"backend_start\": \"10ms\"}}",
             client_pool);
    pool_up(&r, &cp, json, NULL);
    for (int i = 0; i < 4; i++) {
        checkout(&r, &cp, &p[i], 0);
    }
    run_cp(&r, &cp, SIM_MS(10));
    granted(&p[0], 1, SIM_MS(10));
    granted(&p[1], 2, SIM_MS(10));
    waiting(&p[2]);
    waiting(&p[3]);
    run_cp(&r, &cp, SIM_MS(20));
    release(&p[0]);
    run_cp(&r, &cp, SIM_MS(20));
    granted(&p[2], 1, SIM_MS(20)); /* the first waiter, not the second */
    waiting(&p[3]);
    run_cp(&r, &cp, SIM_MS(25));
    release(&p[1]);
    run_cp(&r, &cp, SIM_MS(25));
    granted(&p[3], 2, SIM_MS(25));
    run_cp(&r, &cp, SIM_MS(30));
    release(&p[3]); /* serial 2 idle since 30 ms */
    run_cp(&r, &cp, SIM_MS(40));
    release(&p[2]); /* serial 1 idle since 40 ms: the newest */
    checkout(&r, &cp, &p[4], 0);
    checkout(&r, &cp, &p[5], 0);
    run_cp(&r, &cp, SIM_MS(40));
    granted(&p[4], 1, SIM_MS(40));
    granted(&p[5], 2, SIM_MS(40));
    ck_assert_int_eq(cpool_open(&cp), 2);
    ck_assert_int_eq(pg_backends(&r.s.pg), 2);
    pool_down(&r, &cp);
}

START_TEST(prisma_serves_waiters_fifo_and_reuses_idle_lifo)
{
    fifo_waiters_lifo_idle("\"client_pool\": {\"connection_limit\": 2}");
}
END_TEST

START_TEST(pg_pool_serves_waiters_fifo_and_reuses_idle_lifo)
{
    fifo_waiters_lifo_idle("\"client_pool\": {\"kind\": \"pg-pool\", \"max\": 2}");
}
END_TEST

/* ---- Prisma v6: which timer fires ---- */

START_TEST(prisma_pool_timeout_covers_the_connect_p2024_at_exactly_1s)
{
    struct rig r;

    rig_up(&r, HEAD APP1("100ms") "\"client_pool\": {\"pool_timeout\": 1},"
                                  "\"postgres\": {\"backend_start\": \"1500ms\"}}");
    rig_load(&r, "a");
    run_to(&r, SIM_S(1));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_P2024), SIM_S(1));
    ck_assert_int_eq(pg_backends(&r.s.pg), 0); /* the connect was withdrawn at both ends */
    run_to(&r, SIM_S(10));
    ck_assert_uint_eq(r.s.m.errors, 1);
    ck_assert_uint_eq(r.s.m.errors_by_kind[ERRK_P1001], 0);
    rig_down(&r);
}
END_TEST

START_TEST(prisma_connect_timeout_before_pool_timeout_is_p1001)
{
    struct rig r;

    rig_up(&r, HEAD APP1("100ms") "\"client_pool\": {\"pool_timeout\": 10, \"connect_timeout\": 2},"
                                  "\"postgres\": {\"backend_start\": \"3s\"}}");
    rig_load(&r, "a");
    run_to(&r, SIM_S(20));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_P1001), SIM_S(2));
    ck_assert_uint_eq(r.s.m.errors_by_kind[ERRK_P2024], 0);
    ck_assert_int_eq(pg_backends(&r.s.pg), 0);
    rig_down(&r);
}
END_TEST

/*
 * socket_timeout 1 s, 10 ms round trips: the connect takes 30 ms, the Parse
 * of the new statement 10 ms, the 3 s statement is sent at 40 ms and fails
 * with P1008 at 1.040 s; the connection is dropped at both ends, and the next
 * call opens a new one.
 */
START_TEST(prisma_socket_timeout_fails_the_statement_with_p1008_and_drops_the_connection)
{
    struct rig r;

    rig_up(&r,
           HEAD "\"app\": {\"endpoints\": {"
                "\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"3s\"}]},"
                "\"b\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"500ms\"}]}}},"
                "\"client_pool\": {\"socket_timeout\": 1},"
                "\"postgres\": {\"backend_start\": \"0s\"},"
                "\"network\": {\"app_db_rtt\": \"10ms\"}}");
    rig_load(&r, "a");
    run_to(&r, SIM_S(2));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_P1008), SIM_MS(1040));
    ck_assert_int_eq(cpool_open(pool_at(&r.s.app, 0)), 0);
    ck_assert_int_eq(pg_backends(&r.s.pg), 0);
    rig_load(&r, "b"); /* shorter than socket_timeout: a new connection, then success */
    run_to(&r, SIM_S(4));
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_MS(30 + 10 + 10 + 500));
    ck_assert_uint_eq(pool_at(&r.s.app, 0)->u.prisma.opened, 2);
    rig_down(&r);
}
END_TEST

/*
 * A 1 s statement at t = 0: the connection is idle from 1 s.  Lifetime 2 s:
 * expired strictly after 3 s.  The periodic cleaner ticks on the 1 s grid:
 * at 3 s the idle time equals the lifetime (kept), at 4 s it exceeds it
 * (closed at both ends).  With the default "checkout" the connection stays
 * open until a checkout finds it expired and replaces it.
 */
START_TEST(prisma_periodic_idle_reaper_closes_expired_idle_connections)
{
    struct rig r;

    rig_up(&r, HEAD APP1("1s") "\"client_pool\": {\"max_idle_connection_lifetime\": 2,"
                               "                  \"idle_reaper\": \"periodic\"},"
                               "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "a");
    run_to(&r, SIM_S(4) - 1);
    ck_assert_int_eq(cpool_open(pool_at(&r.s.app, 0)), 1);
    run_to(&r, SIM_S(4));
    ck_assert_int_eq(cpool_open(pool_at(&r.s.app, 0)), 0);
    ck_assert_int_eq(pg_backends(&r.s.pg), 0);
    rig_down(&r);

    rig_up(&r, HEAD APP1("1s") "\"client_pool\": {\"max_idle_connection_lifetime\": 2},"
                               "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "a");
    run_to(&r, SIM_S(3));
    rig_load(&r, "a"); /* idle exactly 2 s: not expired (strictly longer is), reused */
    run_to(&r, SIM_S(10));
    ck_assert_uint_eq(pool_at(&r.s.app, 0)->u.prisma.opened, 1);
    ck_assert_int_eq(cpool_open(pool_at(&r.s.app, 0)), 1);
    ck_assert_int_eq(pg_backends(&r.s.pg), 1);
    rig_load(&r, "a"); /* idle since 4 s: expired, replaced at checkout */
    run_to(&r, SIM_S(20));
    ck_assert_uint_eq(pool_at(&r.s.app, 0)->u.prisma.opened, 2);
    ck_assert_int_eq(pg_backends(&r.s.pg), 1);
    rig_down(&r);
}
END_TEST

/* max_idle_connection_lifetime 0 means none (quaint maps 0 to None), not "always expired". */
START_TEST(prisma_idle_lifetime_zero_never_expires)
{
    struct rig r;

    rig_up(&r, HEAD APP1("1s") "\"client_pool\": {\"max_idle_connection_lifetime\": 0,"
                               "                  \"idle_reaper\": \"periodic\"},"
                               "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "a");
    run_to(&r, SIM_S(1000));
    rig_load(&r, "a");
    run_to(&r, SIM_S(2000));
    ck_assert_uint_eq(pool_at(&r.s.app, 0)->u.prisma.opened, 1);
    ck_assert_uint_eq(r.s.m.ok, 2);
    rig_down(&r);
}
END_TEST

/* ---- pg-pool ---- */

#define PG_POOL(extra) "\"client_pool\": {\"kind\": \"pg-pool\"" extra "},"
#define PG_POOL_1_1000 PG_POOL(", \"max\": 1, \"connectionTimeoutMillis\": 1000")

/* Five checkouts of an empty pool connect at once: all ready after one connect time. */
START_TEST(pg_pool_connects_in_parallel)
{
    struct rig r;
    struct cpool cp;
    struct probe p[5];

    pool_up(&r, &cp, HEAD APP1("1s") PG_POOL("") "\"postgres\": {\"backend_start\": \"100ms\"}}",
            NULL);
    for (int i = 0; i < 5; i++) {
        checkout(&r, &cp, &p[i], 0);
    }
    run_cp(&r, &cp, SIM_MS(50));
    ck_assert_int_eq(cpool_open(&cp), 5);
    ck_assert_int_eq(pg_backends(&r.s.pg), 5);
    run_cp(&r, &cp, SIM_MS(100));
    for (int i = 0; i < 5; i++) {
        granted(&p[i], (uint64_t)i + 1, SIM_MS(100)); /* not 100, 200, ... ms */
    }
    pool_down(&r, &cp);
}
END_TEST

/* A checkout that must queue fails at connectionTimeoutMillis with pg_pool_timeout. */
START_TEST(pg_pool_queue_wait_fails_with_pg_pool_timeout)
{
    struct rig r;

    rig_up(&r,
           HEAD APP2("5s") PG_POOL(
               ", \"max\": 1, \"connectionTimeoutMillis\": 1000") "\"postgres\": "
                                                                  "{\"backend_start\": \"0s\"}}");
    rig_load(&r, "ab");
    run_to(&r, SIM_S(10));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_PG_POOL_TIMEOUT), SIM_S(1));
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_S(5));
    ck_assert_uint_eq(r.s.m.errors_by_kind[ERRK_PG_CONNECTION_TIMEOUT], 0);
    rig_down(&r);
}
END_TEST

/*
 * A checkout that creates its client at once has no queue timer: a connect
 * slower than connectionTimeoutMillis fails with pg_connection_timeout at
 * exactly that time, and is withdrawn at both ends.
 */
START_TEST(pg_pool_slow_connect_fails_with_pg_connection_timeout)
{
    struct rig r;

    rig_up(&r,
           HEAD APP1("100ms") PG_POOL(
               ", \"connectionTimeoutMillis\": 1000") "\"postgres\": {\"backend_start\": \"3s\"}}");
    rig_load(&r, "a");
    run_to(&r, SIM_S(1));
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_PG_CONNECTION_TIMEOUT), SIM_S(1));
    ck_assert_int_eq(pg_backends(&r.s.pg), 0);
    ck_assert_int_eq(cpool_open(pool_at(&r.s.app, 0)), 0);
    run_to(&r, SIM_S(10));
    ck_assert_uint_eq(r.s.m.errors, 1);
    rig_down(&r);
}
END_TEST

/*
 * A waiter served by a new client has both timers, and its queue timer,
 * armed first, wins: p1 queues at 0; p0's client is dropped at 900 ms, so a
 * new client is created for p1 (ready at 1200 ms); at 1000 ms p1 fails with
 * pg_pool_timeout, but its client goes on connecting and joins the idle
 * clients (its own timer, due at 1900 ms, is cancelled when it connects).
 */
START_TEST(pg_pool_queue_timer_wins_and_the_late_client_joins_the_pool)
{
    struct rig r;
    struct cpool cp;
    struct probe p[3];

    pool_up(&r, &cp, HEAD APP1("1s") PG_POOL_1_1000 "\"postgres\": {\"backend_start\": \"300ms\"}}",
            NULL);
    checkout(&r, &cp, &p[0], 0);
    checkout(&r, &cp, &p[1], 0);
    run_cp(&r, &cp, SIM_MS(900));
    granted(&p[0], 1, SIM_MS(300));
    cpool_discard(p[0].conn);
    run_cp(&r, &cp, SIM_MS(1000));
    ck_assert_int_eq(p[1].at, SIM_MS(1000));
    ck_assert_int_eq(p[1].err, ERRK_PG_POOL_TIMEOUT);
    ck_assert_int_eq(pg_backends(&r.s.pg), 1); /* still connecting */
    run_cp(&r, &cp, SIM_S(2));
    ck_assert_int_eq(cpool_open(&cp), 1);
    ck_assert_uint_eq(list_count(&cp.u.pgpool.idle), 1);
    checkout(&r, &cp, &p[2], 0);
    run_cp(&r, &cp, SIM_S(2));
    granted(&p[2], 2, SIM_S(2));
    pool_down(&r, &cp);
}
END_TEST

/*
 * pg-pool's connect() queues whenever an idle client exists and pulses on
 * process.nextTick, so three checkouts made together beside one idle client
 * all queue (with their queue timers): the first gets the idle client on the
 * next tick, the other two new clients, whose connects take 2 s here.  At
 * 1 s both timers of each fire; the queue timer, armed first, fails the
 * checkout with pg_pool_timeout, then the connection timer withdraws the
 * connect.  (Served at once, without the tick, they would have had only the
 * connection timer: pg_connection_timeout.)
 */
START_TEST(pg_pool_checkouts_beside_an_idle_client_queue_until_the_next_tick)
{
    struct rig r;
    struct cpool cp;
    struct script srv = {.connect_ns = {0, SIM_S(2), SIM_S(2)}};
    struct probe p[4];

    script_up(&r, &cp, &srv,
              HEAD APP1("1s")
                  PG_POOL(", \"max\": 3, \"connectionTimeoutMillis\": 1000") "\"postgres\": {}}");
    checkout(&r, &cp, &p[0], 0);
    run_cp(&r, &cp, 0);
    granted(&p[0], 1, 0);
    release(&p[0]);
    for (int i = 1; i < 4; i++) {
        checkout(&r, &cp, &p[i], 0);
        waiting(&p[i]);
    }
    run_cp(&r, &cp, 0);
    granted(&p[1], 1, 0);
    for (int i = 2; i < 4; i++) {
        waiting(&p[i]);
    }
    run_cp(&r, &cp, SIM_S(1));
    for (int i = 2; i < 4; i++) {
        ck_assert_int_eq(p[i].err, ERRK_PG_POOL_TIMEOUT);
        ck_assert_int_eq(p[i].at, SIM_S(1));
    }
    ck_assert_uint_eq(srv.closed, 2);
    ck_assert_int_eq(cpool_open(&cp), 1);
    pool_down(&r, &cp);
}
END_TEST

/*
 * pool.query releases its client with the statement's error, which removes
 * the client from the pool; Prisma's mobc pool takes the connection back.
 */
static void release_after_failed_statement(const char *client_pool, int64_t open_after)
{
    struct rig r;
    struct cpool cp;
    struct script srv = {.connect_ns = {0, 0}};
    struct probe p[2];
    char json[512];

    snprintf(json, sizeof json, HEAD APP1("1s") "%s}", client_pool);
    script_up(&r, &cp, &srv, json);
    srv.stmt_err = ERRK_57014;
    checkout(&r, &cp, &p[0], 0);
    run_cp(&r, &cp, 0);
    query(&p[0], SIM_MS(10));
    run_cp(&r, &cp, SIM_MS(10));
    ck_assert_int_eq(p[0].answer, LINK_RESULT);
    ck_assert_int_eq(p[0].err, ERRK_57014);
    release(&p[0]);
    ck_assert_int_eq(cpool_open(&cp), open_after);
    ck_assert_uint_eq(srv.closed, (size_t)(1 - open_after));
    checkout(&r, &cp, &p[1], 0);
    run_cp(&r, &cp, SIM_MS(10));
    granted(&p[1], open_after ? 1 : 2, SIM_MS(10));
    pool_down(&r, &cp);
}

START_TEST(pg_pool_release_after_a_failed_statement_removes_the_client)
{
    release_after_failed_statement(PG_POOL("") "\"postgres\": {}", 0);
    release_after_failed_statement("\"client_pool\": {}, \"postgres\": {}", 1);
}
END_TEST

/*
 * idleTimeoutMillis 10 000 (the default): a timer per idle client, re-armed
 * at each release.  Released at 1 s, reused at 5 s, released at 6 s: closed
 * at exactly 16 s.
 */
START_TEST(pg_pool_idle_timeout_closes_an_idle_client)
{
    struct rig r;

    rig_up(&r, HEAD APP1("1s") PG_POOL("") "\"postgres\": {\"backend_start\": \"0s\"}}");
    rig_load(&r, "a");
    run_to(&r, SIM_S(5));
    rig_load(&r, "a");
    run_to(&r, SIM_S(16) - 1);
    ck_assert_int_eq(cpool_open(pool_at(&r.s.app, 0)), 1);
    ck_assert_uint_eq(pool_at(&r.s.app, 0)->u.pgpool.opened, 1);
    run_to(&r, SIM_S(16));
    ck_assert_int_eq(cpool_open(pool_at(&r.s.app, 0)), 0);
    ck_assert_int_eq(pg_backends(&r.s.pg), 0);
    rig_down(&r);
}
END_TEST

/*
 * Two calls of two 100 ms statements, one connection.  Prisma holds it for
 * the whole operation: 200 and 400 ms.  pg.Pool's pool.query checks out per
 * statement, so the calls alternate: a [0,100] b [100,200] a [200,300]
 * b [300,400]: 300 and 400 ms.
 */
#define APP_TWO_STMTS                                                                              \
    "\"app\": {\"endpoints\": {"                                                                   \
    "\"a\": {\"operations\": [{\"type\": \"query\", \"statements\": 2, \"server_time\": "          \
    "\"100ms\"}]},"                                                                                \
    "\"b\": {\"operations\": [{\"type\": \"query\", \"statements\": 2, \"server_time\": "          \
    "\"100ms\"}]}}},"

START_TEST(pg_pool_checks_out_per_statement_outside_transactions)
{
    struct rig r;

    rig_up(&r,
           HEAD APP_TWO_STMTS PG_POOL(", \"max\": 1") "\"postgres\": {\"backend_start\": \"0s\"}}");
    ck_assert(cpool_per_statement(pool_at(&r.s.app, 0)));
    rig_load(&r, "ab");
    run_to(&r, SIM_S(1));
    ck_assert_int_eq(r.h[SER_OK].min, SIM_MS(300));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_MS(400));
    ck_assert_uint_eq(r.s.m.pool_wait.n, 4); /* one checkout per statement */
    rig_down(&r);

    rig_up(&r, HEAD APP_TWO_STMTS "\"client_pool\": {\"connection_limit\": 1},"
                                  "\"postgres\": {\"backend_start\": \"0s\"}}");
    ck_assert(!cpool_per_statement(pool_at(&r.s.app, 0)));
    rig_load(&r, "ab");
    run_to(&r, SIM_S(1));
    ck_assert_int_eq(r.h[SER_OK].min, SIM_MS(200));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_MS(400));
    ck_assert_uint_eq(r.s.m.pool_wait.n, 2);
    rig_down(&r);
}
END_TEST

/*
 * connectionTimeoutMillis 0 (the default): no timer at all.  Ten clients of
 * 100 ms statements serve at most 10 x 10 s / 100 ms = 1000 calls in 10 s.
 * Poisson pages at 50/s (half the capacity) and at 200/s (twice it), same
 * seed.  Neither may produce an error; at 200/s the calls queue without
 * bound, so in_flight_end and latency grow.
 *
 * The error the comparison must catch is a queue that does not grow (calls
 * failed or dropped by some timer): in_flight_end would stay near 5 instead
 * of about 1000, and the mean latency near 100 ms instead of about 2.5 s.
 * At 200/s, arrivals A ~ Poisson(2000) (sd 45) and requests <= 1000 exactly,
 * so in_flight_end = A - requests >= 1000 - 3.3 x 45 with 99.9%; a call
 * finishing at t arrived near t / 2, so the mean latency of the ~1000 calls
 * done is about 2.5 s, give or take the sd of the 1000th arrival time,
 * sqrt(1000) / 200 = 0.16 s.  At 50/s (M/D/10, rho = 0.5, P(wait) ~ 4%),
 * the calls in flight are about Poisson(5): <= 5 + 3.3 sqrt(5); the mean
 * latency is 100 ms plus a mean wait under 1 ms (SE < 0.2 ms over ~500
 * calls).  Every tolerance is far below half the error to catch.
 */
/* Run replication 1 of the experiment json; v gets its metric columns. */
static void run_point(const char *json, double *v)
{
    struct cJSON *doc = NULL;
    struct experiment x;
    struct hist *h = xcalloc(SER__COUNT, sizeof *h);
    struct err e;

    err_clear(&e);
    ck_assert_msg(json_parse("t.json", json, strlen(json), &doc, &e) == 0, "%s", e.msg);
    ck_assert_msg(experiment_load(&x, doc, ".", &e) == 0, "%s: %s", e.path, e.msg);
    json_free(doc);
    for (int i = 0; i < SER__COUNT; i++) {
        hist_init(&h[i]);
    }
    scn_run(&x, 1, v, h);
    experiment_fini(&x);
    free(h);
}

static void overload_point(double rate, double *v)
{
    char json[1024];

    snprintf(json, sizeof json,
             "{\"name\": \"t\", \"seed\": 7, \"duration\": \"10s\","
             " \"workload\": {\"model\": \"open\", \"rate\": %g, \"page\": [\"a\"]}, " APP1("100ms")
                 PG_POOL("") "\"postgres\": {\"backend_start\": \"0s\"}}",
             rate);
    run_point(json, v);
}

static double metric(const double *v, const char *name)
{
    size_t n;
    const struct runner_metric *m = metrics_columns(&n);

    for (size_t i = 0; i < n; i++) {
        if (strcmp(m[i].name, name) == 0) {
            return v[i];
        }
    }
    ck_abort_msg("no metric %s", name);
    return 0;
}

START_TEST(pg_pool_without_timeout_queues_without_bound_and_never_fails)
{
    size_t n;
    double *lo, *hi;

    metrics_columns(&n);
    lo = xcalloc(n, sizeof *lo);
    hi = xcalloc(n, sizeof *hi);
    overload_point(50, lo);
    overload_point(200, hi);
    ck_assert_double_eq(metric(lo, "errors"), 0);
    ck_assert_double_eq(metric(hi, "errors"), 0);
    ck_assert_double_eq(metric(hi, "attempts"),
                        metric(hi, "requests") + metric(hi, "in_flight_end"));
    ck_assert_double_le(metric(hi, "requests"), 1000);
    ck_assert_double_ge(metric(hi, "in_flight_end"), 1000 - TESTS_Z * 45);
    ck_assert_double_le(metric(lo, "in_flight_end"), 5 + TESTS_Z * 2.24);
    ck_assert_double_ge(metric(hi, "latency_mean_ms"), 2500 - TESTS_Z * 160);
    ck_assert_double_ge(metric(lo, "latency_mean_ms"), 100);
    ck_assert_double_le(metric(lo, "latency_mean_ms"), 100 + 1 + TESTS_Z * 0.2);
    free(lo);
    free(hi);
}
END_TEST

/* ---- dedicated connections ---- */

/* Dedicated connections need the closed workload (not started: pages are loaded by hand). */
#define HEAD_DEDICATED                                                                             \
    "{\"name\": \"t\", \"duration\": \"100s\", "                                                   \
    "\"workload\": {\"model\": \"closed\", \"users\": 8, \"page\": [\"a\"]}, "                     \
    "\"client_pool\": {\"kind\": \"dedicated\"}, "

/*
 * Users 0, 1 and 7 (connections open in 10 ms).  User 0's second checkout
 * waits for its own connection, however long (no timer), while the other
 * users have theirs; connections stay open between calls; a connection the
 * server dropped is opened again at the user's next checkout.
 */
START_TEST(dedicated_connection_per_user_is_never_shared_nor_timed_out)
{
    struct rig r;
    struct cpool cp;
    struct probe p[6];

    pool_up(&r, &cp, HEAD_DEDICATED APP1("1s") "\"postgres\": {\"backend_start\": \"10ms\"}}",
            NULL);
    checkout(&r, &cp, &p[0], 0);
    checkout(&r, &cp, &p[1], 0);
    checkout(&r, &cp, &p[2], 1);
    checkout(&r, &cp, &p[3], 7);
    run_cp(&r, &cp, SIM_MS(10));
    granted(&p[0], 1, SIM_MS(10));
    granted(&p[2], 2, SIM_MS(10));
    granted(&p[3], 3, SIM_MS(10));
    waiting(&p[1]);
    run_cp(&r, &cp, SIM_S(1000));
    waiting(&p[1]); /* never timed out, never given another user's idle connection */
    release(&p[2]);
    release(&p[3]);
    release(&p[0]);
    granted(&p[1], 1, SIM_S(1000));
    ck_assert_int_eq(cpool_open(&cp), 3);
    cpool_discard(p[1].conn); /* the server closed it */
    ck_assert_int_eq(cpool_open(&cp), 2);
    checkout(&r, &cp, &p[4], 0); /* reopened: 10 ms */
    checkout(&r, &cp, &p[5], 1); /* idle since 1000 s: at once */
    run_cp(&r, &cp, SIM_S(1000) + SIM_MS(10));
    granted(&p[4], 1, SIM_S(1000) + SIM_MS(10));
    granted(&p[5], 2, SIM_S(1000));
    ck_assert_int_eq(pg_backends(&r.s.pg), 3);
    pool_down(&r, &cp);
}
END_TEST

/*
 * Through the app, with 2 instances x 2 clients: every call goes to its
 * user's connection, whatever instance or client it would use.  User 0's
 * page "ab" runs its calls one after the other on one connection (10 ms
 * connect + 100 ms, then + 100 ms); user 1's page does the same beside it;
 * the next page of user 0 opens nothing.
 */
START_TEST(dedicated_app_routes_every_call_to_its_users_connection)
{
    struct rig r;

    rig_up(&r, HEAD_DEDICATED
           "\"app\": {\"instances\": 2, \"clients\": 2, \"endpoints\": {"
           "\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"100ms\"}]},"
           "\"b\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"100ms\"}]}}},"
           "\"postgres\": {\"backend_start\": \"10ms\"}}");
    ck_assert(cpool_is_per_user(pool_at(&r.s.app, 0)));
    load_for(&r, "ab", 0);
    load_for(&r, "ab", 1);
    run_to(&r, SIM_S(1));
    ck_assert_uint_eq(r.h[SER_OK].n, 4);
    ck_assert_int_eq(r.h[SER_OK].min, SIM_MS(110));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_MS(210));
    ck_assert_int_eq(cpool_open(pool_at(&r.s.app, 0)), 2);
    for (size_t i = 1; i < 4; i++) {
        ck_assert_int_eq(cpool_open(pool_at(&r.s.app, i)), 0);
    }
    load_for(&r, "ab", 0);
    run_to(&r, SIM_S(2));
    ck_assert_int_eq(r.h[SER_OK].min, SIM_MS(100));
    ck_assert_int_eq(pg_backends(&r.s.pg), 2);
    ck_assert_double_eq(r.s.m.pool_wait.max, (double)SIM_MS(110)); /* b waited for a's call */
    rig_down(&r);
}
END_TEST

/*
 * Five closed users without think time, 100 ms calls, connections that open
 * at once: each user runs its calls back to back on its own connection, so
 * in 10 s exactly 5 x 100 calls end, nobody ever waits for a connection and
 * PostgreSQL sees exactly five backends.
 */
START_TEST(dedicated_closed_users_each_hold_one_backend)
{
    size_t n;
    double *v;

    metrics_columns(&n);
    v = xcalloc(n, sizeof *v);
    run_point("{\"name\": \"t\", \"duration\": \"10s\","
              " \"workload\": {\"model\": \"closed\", \"users\": 5, \"page\": [\"a\"]},"
              " \"client_pool\": {\"kind\": \"dedicated\"}, " APP1(
                  "100ms") "\"postgres\": {\"backend_start\": \"0s\"}}",
              v);
    ck_assert_double_eq(metric(v, "requests"), 500);
    ck_assert_double_eq(metric(v, "errors"), 0);
    ck_assert_double_eq(metric(v, "pool_wait_mean_ms"), 0);
    ck_assert_double_eq(metric(v, "server_conns_peak"), 5);
    ck_assert_double_eq(metric(v, "in_flight_end"), 5);
    free(v);
}
END_TEST

/* ---- keys (DESIGN.md §4): each kind takes its own, with its own units ---- */

/* Load HEAD APP1 + tail; on success x is loaded, else *e says why. */
static int try_load(struct experiment *x, const char *tail, struct err *e)
{
    char json[1024];
    struct cJSON *doc = NULL;
    int rc;

    snprintf(json, sizeof json, HEAD APP1("1s") "%s}", tail);
    err_clear(e);
    ck_assert_msg(json_parse("t.json", json, strlen(json), &doc, e) == 0, "%s", e->msg);
    rc = experiment_load(x, doc, ".", e);
    json_free(doc);
    return rc;
}

static void load_fails(const char *tail, const char *path, const char *msg)
{
    struct experiment x;
    struct err e;

    ck_assert_int_eq(try_load(&x, tail, &e), -1);
    ck_assert_str_eq(e.path, path);
    ck_assert_str_eq(e.msg, msg);
}

START_TEST(pg_pool_keys_defaults_and_units)
{
    struct experiment x;
    struct err e;
    cJSON *o;

    ck_assert_int_eq(try_load(&x, "\"client_pool\": {\"kind\": \"pg-pool\"}", &e), 0);
    ck_assert_int_eq(x.client_pool.kind, CPOOL_PG_POOL);
    ck_assert_int_eq(x.client_pool.pgpool.max, 10);
    ck_assert_int_eq(x.client_pool.pgpool.connection_timeout, 0);
    ck_assert_int_eq(x.client_pool.pgpool.idle_timeout, SIM_S(10));
    o = experiment_resolved(&x);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "client_pool"), "max")->valueint,
                     10);
    ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "client_pool"), "pgbouncer"));
    cJSON_Delete(o);
    experiment_fini(&x);
    ck_assert_int_eq(try_load(&x,
                              "\"client_pool\": {\"kind\": \"pg-pool\", \"max\": 3,"
                              " \"connectionTimeoutMillis\": 1500,"
                              " \"idleTimeoutMillis\": \"2s\"}",
                              &e),
                     0);
    ck_assert_int_eq(x.client_pool.pgpool.max, 3);
    ck_assert_int_eq(x.client_pool.pgpool.connection_timeout, SIM_MS(1500)); /* bare: ms */
    ck_assert_int_eq(x.client_pool.pgpool.idle_timeout, SIM_S(2));
    experiment_fini(&x);
}
END_TEST

START_TEST(prisma_keys_socket_timeout_and_idle_reaper)
{
    struct experiment x;
    struct err e;

    ck_assert_int_eq(try_load(&x, "\"client_pool\": {}", &e), 0);
    ck_assert_int_eq(x.client_pool.prisma.socket_timeout, 0); /* none */
    ck_assert_int_eq(x.client_pool.prisma.idle_reaper, PRISMA_REAP_CHECKOUT);
    experiment_fini(&x);
    ck_assert_int_eq(try_load(&x,
                              "\"client_pool\": {\"socket_timeout\": 2,"
                              " \"idle_reaper\": \"periodic\"}",
                              &e),
                     0);
    ck_assert_int_eq(x.client_pool.prisma.socket_timeout, SIM_S(2)); /* bare: seconds */
    ck_assert_int_eq(x.client_pool.prisma.idle_reaper, PRISMA_REAP_PERIODIC);
    experiment_fini(&x);
}
END_TEST

START_TEST(client_pool_keys_of_another_kind_are_errors)
{
    load_fails("\"client_pool\": {\"kind\": \"pg-pool\", \"connection_limit\": 5}",
               "$.client_pool.connection_limit",
               "does not apply to the \"pg-pool\" client pool kind");
    load_fails("\"client_pool\": {\"max\": 5}", "$.client_pool.max",
               "does not apply to the \"prisma-v6\" client pool kind");
    load_fails("\"client_pool\": {\"kind\": \"pg-pool\", \"pgbouncer\": true}",
               "$.client_pool.pgbouncer", "does not apply to the \"pg-pool\" client pool kind");
    load_fails("\"client_pool\": {\"kind\": \"dedicated\", \"max\": 1}", "$.client_pool.max",
               "does not apply to the \"dedicated\" client pool kind");
    load_fails("\"client_pool\": {\"kind\": \"dedicated\"}", "$.client_pool.kind",
               "\"dedicated\" needs the closed workload (each closed user owns one connection)");
    load_fails("\"client_pool\": {\"idle_reaper\": \"sometimes\"}", "$.client_pool.idle_reaper",
               "unknown value \"sometimes\" (expected \"checkout\" or \"periodic\")");
    load_fails("\"client_pool\": {\"kind\": \"pg-pool\", \"connectionTimeoutMillis\": -1}",
               "$.client_pool.connectionTimeoutMillis", "must be at least \"0s\", got -1");
    load_fails("\"client_pool\": {\"socket_timeout\": 0}", "$.client_pool.socket_timeout",
               "must be at least \"1ns\", got 0");
}
END_TEST

/* ---- a busy run with every invariant checked as it goes ---- */

#define NUSERS 8

/* A closed user of the test: loads page "ab", thinks (exponential, mean 50 ms), again. */
struct busy_user {
    struct rig *r;
    uint64_t id;
    gsl_rng *rng;
    struct sim_event think;
};

static void on_busy_page_done(void *ctx, sim_time latency_ns, bool failed)
{
    struct busy_user *u = ctx;

    (void)latency_ns;
    (void)failed;
    sim_schedule_in(u->r->s.sim, &u->think, sim_time_from_s(gsl_ran_exponential(u->rng, 0.05)));
}

static void on_busy_think(struct sim *sim, struct sim_event *ev)
{
    struct busy_user *u = ev->ctx;
    struct page_config pg = {0};
    size_t idx[2] = {0, 1};

    (void)sim;
    pg.ncalls = 2;
    pg.endpoints = idx;
    pg.weight = 1;
    app_load_page(&u->r->s.app, &pg, u->id, on_busy_page_done, u);
}

/*
 * Eight users for 2 s over four app pools (2 instances x 2 clients), with
 * random connect, statement and think times, short timeouts and too few
 * backend slots (5), so that every path runs: waits, timeouts, refusals,
 * discards, expiry.  Every pool's and PostgreSQL's invariants are checked
 * on a 50 us grid, i.e. after nearly every event (about 1000 events in 2 s).
 */
static void busy_run(struct rig *r)
{
    struct busy_user u[NUSERS];

    for (uint64_t i = 0; i < NUSERS; i++) {
        u[i].r = r;
        u[i].id = i;
        u[i].rng = rng_new(1, 1, "test.think", i);
        sim_event_init(&u[i].think, on_busy_think, &u[i]);
        sim_schedule(r->s.sim, &u[i].think, 0);
    }
    for (sim_time t = 0; t <= SIM_S(2); t += SIM_US(50)) {
        sim_run_until(r->s.sim, t);
        for (size_t k = 0; k < 4; k++) {
            ck_assert(cpool_check(pool_at(&r->s.app, k)));
        }
        ck_assert(pg_check(&r->s.pg));
    }
    for (size_t i = 0; i < NUSERS; i++) {
        sim_cancel(r->s.sim, &u[i].think);
        rng_free(u[i].rng);
    }
}

#define BUSY_APP                                                                                   \
    "\"app\": {\"instances\": 2, \"clients\": 2, \"endpoints\": {"                                 \
    "\"a\": {\"operations\": [{\"type\": \"query\", \"statements\": 2,"                            \
    "      \"server_time\": {\"dist\": \"exponential\", \"mean\": \"40ms\"}}]},"                   \
    "\"b\": {\"operations\": [{\"type\": \"query\","                                               \
    "      \"server_time\": {\"dist\": \"exponential\", \"mean\": \"80ms\"}}]}}},"
#define BUSY_PG                                                                                    \
    "\"postgres\": {\"max_connections\": 8,"                                                       \
    " \"backend_start\": {\"dist\": \"exponential\", \"mean\": \"20ms\"}},"                        \
    "\"network\": {\"app_db_rtt\": \"1ms\"}}"

START_TEST(busy_prisma_keeps_its_invariants)
{
    struct rig r;

    rig_up(&r,
           HEAD BUSY_APP "\"client_pool\": {\"connection_limit\": 2, \"pool_timeout\": \"150ms\","
                         " \"connect_timeout\": \"40ms\", \"socket_timeout\": \"150ms\","
                         " \"max_idle_connection_lifetime\": \"30ms\","
                         " \"idle_reaper\": \"periodic\"}," BUSY_PG);
    busy_run(&r);
    ck_assert_uint_gt(r.s.m.ok, 0);
    ck_assert_uint_gt(r.s.m.errors_by_kind[ERRK_P1008], 0);
    ck_assert_uint_gt(r.s.m.errors_by_kind[ERRK_P2024] + r.s.m.errors_by_kind[ERRK_P1001], 0);
    ck_assert_uint_gt(r.s.m.errors_by_kind[ERRK_53300], 0);
    rig_down(&r);
}
END_TEST

START_TEST(busy_pg_pool_keeps_its_invariants)
{
    struct rig r;

    rig_up(&r, HEAD BUSY_APP PG_POOL(", \"max\": 2, \"connectionTimeoutMillis\": 60,"
                                     " \"idleTimeoutMillis\": 30") BUSY_PG);
    busy_run(&r);
    ck_assert_uint_gt(r.s.m.ok, 0);
    ck_assert_uint_gt(r.s.m.errors_by_kind[ERRK_PG_POOL_TIMEOUT], 0);
    ck_assert_uint_gt(r.s.m.errors_by_kind[ERRK_PG_CONNECTION_TIMEOUT], 0);
    rig_down(&r);
}
END_TEST

START_TEST(busy_dedicated_keeps_its_invariants)
{
    struct rig r;

    rig_up(&r, HEAD_DEDICATED BUSY_APP BUSY_PG);
    busy_run(&r);
    ck_assert_uint_gt(r.s.m.ok, 0);
    ck_assert_uint_gt(r.s.m.errors_by_kind[ERRK_53300], 0); /* 8 users, 5 slots */
    /* the first five connections keep the five slots for the whole run */
    ck_assert_uint_eq(list_count(&pool_at(&r.s.app, 0)->u.ded.idle) +
                          list_count(&pool_at(&r.s.app, 0)->u.ded.busy),
                      5);
    ck_assert_int_eq(pg_backends(&r.s.pg), 5);
    rig_down(&r);
}
END_TEST

Suite *pools_suite(void)
{
    Suite *s = suite_create("pools");
    TCase *tc = tests_tcase(s, "exact", 20, "");

    tcase_add_test(tc, prisma_serves_waiters_fifo_and_reuses_idle_lifo);
    tcase_add_test(tc, pg_pool_serves_waiters_fifo_and_reuses_idle_lifo);
    tcase_add_test(tc, prisma_pool_timeout_covers_the_connect_p2024_at_exactly_1s);
    tcase_add_test(tc, prisma_connect_timeout_before_pool_timeout_is_p1001);
    tcase_add_test(tc,
                   prisma_socket_timeout_fails_the_statement_with_p1008_and_drops_the_connection);
    tcase_add_test(tc, prisma_periodic_idle_reaper_closes_expired_idle_connections);
    tcase_add_test(tc, prisma_idle_lifetime_zero_never_expires);
    tcase_add_test(tc, pg_pool_connects_in_parallel);
    tcase_add_test(tc, pg_pool_queue_wait_fails_with_pg_pool_timeout);
    tcase_add_test(tc, pg_pool_slow_connect_fails_with_pg_connection_timeout);
    tcase_add_test(tc, pg_pool_queue_timer_wins_and_the_late_client_joins_the_pool);
    tcase_add_test(tc, pg_pool_checkouts_beside_an_idle_client_queue_until_the_next_tick);
    tcase_add_test(tc, pg_pool_release_after_a_failed_statement_removes_the_client);
    tcase_add_test(tc, pg_pool_idle_timeout_closes_an_idle_client);
    tcase_add_test(tc, pg_pool_checks_out_per_statement_outside_transactions);
    tcase_add_test(tc, pg_pool_without_timeout_queues_without_bound_and_never_fails);
    tcase_add_test(tc, dedicated_connection_per_user_is_never_shared_nor_timed_out);
    tcase_add_test(tc, dedicated_app_routes_every_call_to_its_users_connection);
    tcase_add_test(tc, dedicated_closed_users_each_hold_one_backend);
    tcase_add_test(tc, pg_pool_keys_defaults_and_units);
    tcase_add_test(tc, prisma_keys_socket_timeout_and_idle_reaper);
    tcase_add_test(tc, client_pool_keys_of_another_kind_are_errors);
    tc = tests_tcase(s, "busy", 60, "");
    tcase_add_test(tc, busy_prisma_keeps_its_invariants);
    tcase_add_test(tc, busy_pg_pool_keeps_its_invariants);
    tcase_add_test(tc, busy_dedicated_keeps_its_invariants);
    return s;
}

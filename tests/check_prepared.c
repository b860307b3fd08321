/*
 * check_prepared.c - named prepared statements behind poolers, mechanistically
 * (reference/domain.md §1.2, §1.5, §2.5; issue 5 item 3): Prisma's statement
 * cache and its Parse round trip, the names a backend holds (42P05, 26000,
 * 08P01), PgBouncer's and Supavisor's tracking, DEALLOCATE ALL and DISCARD
 * ALL, the table they all use, the keys, and every invariant along busy runs.
 * Constant times: answers are exact to the ns.
 */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "models/prepared.h"
#include "sim/json.h"
#include "tests/rig.h"
#include "tests/tests.h"

/* ---- the table ---- */

/* A tiny deterministic generator for the table's random walk (not a simulation stream). */
static uint64_t next_u64(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

START_TEST(table_agrees_with_a_plain_array_under_random_operations)
{
    enum { KEYS = 300 };
    static uint64_t val[KEYS];
    static bool in[KEYS];
    struct prep_map m;
    uint64_t seed = 88172645463325252u, v = 0;
    size_t n = 0;

    memset(in, 0, sizeof in);
    prep_map_init(&m);
    for (int step = 0; step < 20000; step++) {
        uint64_t r = next_u64(&seed);
        size_t k = (size_t)(r % KEYS);
        uint64_t key = k % 3 == 0 ? (STMT_POOLER_NAME | k) : ((uint64_t)k << 32) + k;

        if ((r >> 20) % 3 != 0) {
            prep_map_put(&m, key, r);
            n += !in[k];
            in[k] = true;
            val[k] = r;
        } else {
            ck_assert(prep_map_del(&m, key) == in[k]);
            n -= in[k];
            in[k] = false;
        }
        k = (size_t)((r >> 32) % KEYS);
        key = k % 3 == 0 ? (STMT_POOLER_NAME | k) : ((uint64_t)k << 32) + k;
        ck_assert(prep_map_get(&m, key, &v) == in[k]);
        ck_assert(!in[k] || v == val[k]);
        ck_assert_uint_eq(prep_map_size(&m), n);
        if (step % 97 == 0) {
            ck_assert(prep_map_check(&m));
        }
    }
    ck_assert(m.cap > PREP_SMALL); /* it outgrew the slots inside it */
    prep_map_clear(&m);
    ck_assert_uint_eq(prep_map_size(&m), 0);
    ck_assert(m.slots == m.small && prep_map_check(&m));
    prep_map_fini(&m);
}
END_TEST

START_TEST(table_pops_the_least_recently_used_entry)
{
    struct prep_map m;
    uint64_t k, v;

    prep_map_init(&m);
    for (uint64_t i = 0; i < 10; i++) {
        prep_map_put(&m, i, 100 + i);
    }
    ck_assert(prep_map_get(&m, 0, NULL)); /* 0 is now the most recent */
    ck_assert(prep_map_has(&m, 1));       /* has does not touch: 1 stays the least recent */
    ck_assert(prep_map_pop_lru(&m, &k, &v));
    ck_assert_uint_eq(k, 1);
    ck_assert_uint_eq(v, 101);
    prep_map_put(&m, 2, 7); /* replacing refreshes too */
    ck_assert(prep_map_pop_lru(&m, &k, &v));
    ck_assert_uint_eq(k, 3);
    ck_assert(prep_map_check(&m));
    ck_assert_uint_eq(prep_map_size(&m), 8);
    while (prep_map_pop_lru(&m, &k, &v)) {
    }
    ck_assert_uint_eq(k, 2); /* the last one left was the most recent: 2, replaced after 0 */
    ck_assert_uint_eq(prep_map_size(&m), 0);
    prep_map_fini(&m);
}
END_TEST

/* ---- a tracking pooler's translation (pgbouncer's src/prepare.c) ---- */

START_TEST(tracking_renames_reprepares_and_forgets_on_deallocate_all)
{
    struct prep_map c1, c2, srv;
    struct stmt in = {.kind = STMT_PARSE, .text = 77, .name = 0}, out;

    prep_map_init(&c1);
    prep_map_init(&c2);
    prep_map_init(&srv);
    /* the first Parse of a text reaches the server under the pooler's name */
    out = in;
    prep_track(&c1, &srv, 1, &out);
    ck_assert_int_eq(out.kind, STMT_PARSE);
    ck_assert_uint_eq(out.name, STMT_POOLER_NAME | 77);
    /* another client's Parse of the same text under the same name s0: a Describe only */
    out = in;
    prep_track(&c2, &srv, 1, &out);
    ck_assert_int_eq(out.kind, STMT_DESCRIBE);
    ck_assert_uint_eq(out.name, STMT_POOLER_NAME | 77);
    /* an Execute of a text the server holds goes as it is, renamed (the wire carries the text
     * that PgBouncer looks up by the client's name) */
    in = (struct stmt){.kind = STMT_EXECUTE, .name = 0, .text = 77, .server_ns = 5};
    out = in;
    prep_track(&c1, &srv, 1, &out);
    ck_assert(out.kind == STMT_EXECUTE && !out.parse_first && out.text == 77);
    /* a second text on a server of capacity 1 evicts the first, whose Close rides along */
    in = (struct stmt){.kind = STMT_PARSE, .text = 78, .name = 1};
    out = in;
    prep_track(&c1, &srv, 1, &out);
    ck_assert(out.kind == STMT_PARSE && out.closes && out.close_name == (STMT_POOLER_NAME | 77));
    /* so an Execute of the first text carries its Parse ahead of it (no extra round trip) */
    in = (struct stmt){.kind = STMT_EXECUTE, .name = 0, .text = 77};
    out = in;
    prep_track(&c2, &srv, 1, &out);
    ck_assert(out.parse_first && out.text == 77 && out.closes);
    /* a client's Close is answered by the pooler: its mapping goes, nothing reaches the server */
    in = (struct stmt){.kind = STMT_SIMPLE, .closes = true, .close_name = 1};
    out = in;
    prep_track(&c1, &srv, 1, &out);
    ck_assert(!out.closes && !prep_map_has(&c1, 1) && prep_map_has(&c1, 0));
    /* DEALLOCATE ALL clears the client's tracked statements and the server's (domain §2.5.1) */
    in = (struct stmt){.kind = STMT_SIMPLE, .deallocate_all = true};
    prep_track_result(&c1, &srv, &in);
    ck_assert_uint_eq(prep_map_size(&c1), 0);
    ck_assert_uint_eq(prep_map_size(&srv), 0);
    ck_assert_uint_eq(prep_map_size(&c2), 1);
    prep_map_fini(&c1);
    prep_map_fini(&c2);
    prep_map_fini(&srv);
}
END_TEST

/* ---- PostgreSQL's names, driven by hand ---- */

struct hand {
    struct link link;
    int results;
    enum errkind err; /* of the last answer */
};

static void hand_down(struct link *l, enum link_msg m, enum errkind err)
{
    struct hand *h = l->owner;

    h->results += m == LINK_RESULT;
    h->err = err;
}

/* Send s to the backend and return the error of its answer (zero network: answered by now). */
static enum errkind ask(struct rig *r, struct hand *h, struct stmt s)
{
    int before = h->results;

    link_send_up(&h->link, LINK_QUERY, &s);
    rig_run_to(r, sim_now(r->s.sim) + SIM_S(1));
    ck_assert_int_eq(h->results, before + 1);
    return h->err;
}

#define PG_ONLY                                                                                    \
    "{\"name\": \"t\", \"duration\": \"1s\", "                                                     \
    "\"workload\": {\"model\": \"open\", \"rate\": 1, \"page\": [\"a\"]}, "                        \
    "\"app\": {\"endpoints\": {\"a\": {\"operations\": [{\"type\": \"query\", "                    \
    "\"server_time\": \"1ms\"}]}}}, \"postgres\": {\"backend_start\": \"0s\"}}"

START_TEST(backend_refuses_a_name_it_holds_and_one_it_lacks)
{
    struct rig r;
    struct hand h = {0};

    rig_up(&r, PG_ONLY);
    link_init(&h.link, r.s.sim, &r.s.pg.up, 0, 1, hand_down, &h);
    link_send_up(&h.link, LINK_CONNECT, NULL);
    rig_run_to(&r, SIM_MS(1));
    ck_assert_int_eq(ask(&r, &h, (struct stmt){.kind = STMT_PARSE, .name = 0, .text = 1}),
                     ERRK_NONE);
    ck_assert_int_eq(ask(&r, &h, (struct stmt){.kind = STMT_PARSE, .name = 0, .text = 1}),
                     ERRK_42P05);
    ck_assert_int_eq(ask(&r, &h, (struct stmt){.kind = STMT_EXECUTE, .name = 6, .text = 1}),
                     ERRK_26000);
    ck_assert_int_eq(ask(&r, &h, (struct stmt){.kind = STMT_EXECUTE, .name = 0, .text = 2}),
                     ERRK_08P01); /* s0 is held for another text */
    ck_assert_int_eq(ask(&r, &h, (struct stmt){.kind = STMT_EXECUTE, .name = 0, .text = 1}),
                     ERRK_NONE);
    ck_assert_uint_eq(r.s.m.tx_done, 1); /* the Parses ran nothing */
    /* a Close rides ahead of a statement; closing an unknown name is no error */
    ck_assert_int_eq(ask(&r, &h, (struct stmt){.closes = true, .close_name = 0}), ERRK_NONE);
    ck_assert_int_eq(ask(&r, &h, (struct stmt){.closes = true, .close_name = 9}), ERRK_NONE);
    ck_assert_int_eq(ask(&r, &h, (struct stmt){.kind = STMT_EXECUTE, .name = 0, .text = 1}),
                     ERRK_26000);
    /* DEALLOCATE ALL forgets every name, then a re-prepare riding ahead works */
    ck_assert_int_eq(ask(&r, &h, (struct stmt){.kind = STMT_PARSE, .name = 3, .text = 4}),
                     ERRK_NONE);
    ck_assert_uint_eq(r.s.pg.named, 1);
    ck_assert_int_eq(ask(&r, &h, (struct stmt){.deallocate_all = true}), ERRK_NONE);
    ck_assert_uint_eq(r.s.pg.named, 0);
    ck_assert_int_eq(
        ask(&r, &h, (struct stmt){.kind = STMT_EXECUTE, .name = 3, .text = 4, .parse_first = true}),
        ERRK_NONE);
    ck_assert_int_eq(ask(&r, &h, (struct stmt){.kind = STMT_DESCRIBE, .name = 3}), ERRK_NONE);
    ck_assert(pg_check(&r.s.pg));
    link_close(&h.link);
    ck_assert_uint_eq(r.s.pg.named, 0); /* a backend takes its names with it */
    rig_down(&r);
}
END_TEST

/* ---- whole scenarios ---- */

/* clang-format off */
#define HEAD(app) "{\"name\": \"t\", \"duration\": \"100s\", " \
    "\"workload\": {\"model\": \"open\", \"rate\": 1, \"page\": [\"a\"]}, " \
    "\"app\": {" app "\"endpoints\": {" \
    "\"a\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"100ms\"}]}, " \
    "\"b\": {\"operations\": [{\"type\": \"query\", \"server_time\": \"100ms\"}]}}}, "
#define PGB_TX1(more) "\"pooler\": {\"kind\": \"pgbouncer\", \"pool_mode\": \"transaction\", " \
    "\"default_pool_size\": 1" more "}, "
#define TAIL "\"postgres\": {\"backend_start\": \"0s\"}, " \
    "\"network\": {\"app_pooler_rtt\": \"2ms\", \"app_db_rtt\": \"2ms\"}}"
/* clang-format on */

#define TWO_PROCESSES "\"instances\": 2, "
#define NO_TRACKING ", \"max_prepared_statements\": 0"

/* Two processes load "a" at t = 0 (pages go round-robin to the instances). */
static void two_calls(struct rig *r, const char *json)
{
    rig_up(r, json);
    rig_load(r, "a");
    rig_load(r, "a");
    rig_run_to(r, SIM_S(10));
}

/*
 * Two processes, each with its own counter: both name their statement s0.
 * One server in transaction mode, no tracking: logins 6 ms; both Parses reach
 * PgBouncer at 7 ms and wait for the server's login; the first prepares s0
 * and releases the server, the second takes it and fails with 42P05 (back at
 * 8 ms); the first executes s0: 9 ms + 100 ms + 1 ms.
 */
START_TEST(two_processes_sharing_a_server_collide_with_42p05)
{
    struct rig r;

    two_calls(&r, HEAD(TWO_PROCESSES) PGB_TX1(NO_TRACKING) TAIL);
    ck_assert_uint_eq(r.s.m.errors_by_kind[ERRK_42P05], 1);
    ck_assert_uint_eq(r.s.m.errors, 1);
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_42P05), SIM_MS(8));
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_MS(6 + 2 + 2 + 100));
    ck_assert_str_eq(errkind_text(ERRK_42P05), "prepared statement \"s0\" already exists");
    rig_down(&r);
}
END_TEST

START_TEST(no_42p05_with_pgbouncer_flag_cache_off_or_tracking)
{
    struct rig r;

    /* PgBouncer tracks (default 200): the second Parse is a Describe; the Executes queue */
    two_calls(&r, HEAD(TWO_PROCESSES) PGB_TX1("") TAIL);
    ck_assert_uint_eq(r.s.m.errors, 0);
    ck_assert_int_eq(r.h[SER_OK].min, SIM_MS(6 + 2 + 2 + 100));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_MS(6 + 2 + 1 + 100 + 100 + 1));
    rig_down(&r);
    /* no statement cache: unnamed statements, one round trip each */
    two_calls(&r, HEAD(TWO_PROCESSES) "\"client_pool\": {\"statement_cache_size\": 0}, " PGB_TX1(
                      NO_TRACKING) TAIL);
    ck_assert_uint_eq(r.s.m.errors, 0);
    ck_assert_int_eq(r.h[SER_OK].min, SIM_MS(6 + 2 + 100));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_MS(6 + 1 + 100 + 100 + 1));
    rig_down(&r);
    /* pgbouncer=true: the cache is forced to 0; each operation is BEGIN, DEALLOCATE ALL, the
     * statement, COMMIT, holding the server: the second waits for the first COMMIT */
    two_calls(&r, HEAD(TWO_PROCESSES) "\"client_pool\": {\"pgbouncer\": true}, " PGB_TX1(
                      NO_TRACKING) TAIL);
    ck_assert_uint_eq(r.s.m.errors, 0);
    ck_assert_int_eq(r.h[SER_OK].min, SIM_MS(6 + 4 * 2 + 100));
    ck_assert_int_eq(r.h[SER_OK].max, SIM_MS(6 + 4 * 2 + 100 + 3 * 2 + 100));
    rig_down(&r);
}
END_TEST

/*
 * One process, two PrismaClients (clients 2: endpoints a and b): one counter
 * for the process, so their statements are s0 and s1 and never collide.
 */
START_TEST(one_process_draws_every_name_from_one_counter)
{
    struct rig r;

    rig_up(&r, HEAD("\"clients\": 2, ") PGB_TX1(NO_TRACKING) TAIL);
    rig_load(&r, "ab");
    rig_run_to(&r, SIM_S(10));
    ck_assert_uint_eq(r.s.m.errors, 0);
    ck_assert_uint_eq(r.s.m.ok, 2);
    ck_assert_uint_eq(*app_client_pool(&r.s.app, 0, 0)->u.prisma.names, 2);
    ck_assert_ptr_eq(app_client_pool(&r.s.app, 0, 0)->u.prisma.names,
                     app_client_pool(&r.s.app, 0, 1)->u.prisma.names);
    rig_down(&r);
}
END_TEST

/*
 * Session mode: each client keeps its server until it leaves, and the reset
 * query (DISCARD ALL) clears the server before the next client gets it.  With
 * connection_per_request each call closes its connection: the second
 * process's s0 lands on the server the first one used, and is fine.  In
 * transaction mode the same calls collide.
 */
START_TEST(never_in_session_mode_or_direct)
{
    struct rig r;

    two_calls(&r, HEAD(TWO_PROCESSES
                       "\"connection_per_request\": true, ") "\"pooler\": "
                                                             "{\"kind\": \"pgbouncer\", "
                                                             "\"default_pool_size\": 1" NO_TRACKING
                                                             "}, " TAIL);
    ck_assert_uint_eq(r.s.m.errors, 0);
    ck_assert_uint_eq(r.s.m.ok, 2);
    ck_assert_int_eq(pgb_servers(&r.s.pgb), 1); /* one server served both */
    rig_down(&r);
    two_calls(&r,
              HEAD(TWO_PROCESSES "\"connection_per_request\": true, ") PGB_TX1(NO_TRACKING) TAIL);
    ck_assert_uint_eq(r.s.m.errors_by_kind[ERRK_42P05], 1);
    rig_down(&r);
    /* direct: a connection is its backend */
    two_calls(&r, HEAD(TWO_PROCESSES) TAIL);
    ck_assert_uint_eq(r.s.m.errors, 0);
    ck_assert_uint_eq(r.s.m.ok, 2);
    ck_assert_uint_eq(r.s.pg.named, 2); /* each backend holds its own s0 */
    rig_down(&r);
}
END_TEST

/* Direct, 10 ms round trips: a first call and a second on the same connection. */
static void first_and_second(const char *client_pool, sim_time *first, sim_time *second)
{
    struct rig r;
    char json[2048];

    snprintf(json, sizeof json,
             HEAD("") "%s\"postgres\": {\"backend_start\": \"0s\"}, "
                      "\"network\": {\"app_db_rtt\": \"10ms\"}}",
             client_pool);
    rig_up(&r, json);
    rig_load(&r, "a");
    rig_run_to(&r, SIM_S(1));
    *first = rig_only_latency(&r, SER_OK);
    rig_load(&r, "a");
    rig_run_to(&r, SIM_S(2));
    *second = r.h[SER_OK].min;
    ck_assert_uint_eq(r.s.m.ok, 2);
    rig_down(&r);
}

START_TEST(a_cache_miss_costs_exactly_one_round_trip)
{
    sim_time first, second;

    /* connect 30 ms; the miss: Parse 10 ms; the statement 10 + 100 ms */
    first_and_second("", &first, &second);
    ck_assert_int_eq(first, SIM_MS(30 + 10 + 110));
    ck_assert_int_eq(second, SIM_MS(110)); /* a hit: executed by name */
    /* without a cache, no Parse: the same first call is one round trip shorter */
    first_and_second("\"client_pool\": {\"statement_cache_size\": 0}, ", &first, &second);
    ck_assert_int_eq(first, SIM_MS(30 + 110));
    ck_assert_int_eq(second, SIM_MS(110));
    first_and_second("\"client_pool\": {\"pgbouncer\": true}, ", &first, &second);
    ck_assert_int_eq(first, SIM_MS(30 + 3 * 10 + 110)); /* BEGIN, DEALLOCATE ALL, COMMIT */
}
END_TEST

/*
 * statement_cache_size k, one endpoint of 3 statements (3 texts), called
 * twice on one connection, direct, 10 ms round trips, 1 ms statements: with
 * k = 3 the second call hits every time; with k = 2 the cyclic order evicts
 * each text just before it is needed again (LRU), so every statement misses
 * again.  An evicted name is closed and never reused: the backend holds k.
 */
static void lru_case(int k, sim_time *second, uint64_t *names, size_t *held)
{
    struct rig r;
    char json[2048];

    snprintf(json, sizeof json,
             "{\"name\": \"t\", \"duration\": \"100s\", "
             "\"workload\": {\"model\": \"open\", \"rate\": 1, \"page\": [\"a\"]}, "
             "\"app\": {\"endpoints\": {\"a\": {\"operations\": [{\"type\": \"query\", "
             "\"statements\": 3, \"server_time\": \"1ms\"}]}}}, "
             "\"client_pool\": {\"statement_cache_size\": %d}, "
             "\"postgres\": {\"backend_start\": \"0s\"}, \"network\": {\"app_db_rtt\": \"10ms\"}}",
             k);
    rig_up(&r, json);
    rig_load(&r, "a");
    rig_run_to(&r, SIM_S(1));
    ck_assert_int_eq(rig_only_latency(&r, SER_OK), SIM_MS(30 + 3 * 10 + 3 * 11));
    rig_load(&r, "a");
    rig_run_to(&r, SIM_S(2));
    *second = r.h[SER_OK].min;
    *names = *app_client_pool(&r.s.app, 0, 0)->u.prisma.names;
    *held = r.s.pg.named;
    ck_assert(pg_check(&r.s.pg) && app_check(&r.s.app));
    rig_down(&r);
}

START_TEST(the_cache_evicts_the_least_recent_at_statement_cache_size)
{
    sim_time second;
    uint64_t names;
    size_t held;

    lru_case(3, &second, &names, &held);
    ck_assert_int_eq(second, SIM_MS(3 * 11));
    ck_assert_uint_eq(names, 3);
    ck_assert_uint_eq(held, 3);
    lru_case(2, &second, &names, &held);
    ck_assert_int_eq(second, SIM_MS(3 * 10 + 3 * 11));
    ck_assert_uint_eq(names, 6); /* s0 .. s5: an evicted name is not reused */
    ck_assert_uint_eq(held, 2);
}
END_TEST

/*
 * One process, two PrismaClients (a: client 0, b: client 1), PgBouncer in
 * transaction mode with 2 servers, 10 ms to PgBouncer, 0 to PostgreSQL.
 * b runs at t = 0: S1 holds its s0.  a at 200 ms: connect to 230 ms, Parse s1
 * on S1 (idle) at 235 ms, answered at 240 ms.  b again at 236 ms: its Execute
 * of s0 takes S1 at 241 ms.  a's Execute of s1 arrives at 245 ms: S1 is busy,
 * a second server S2 logs in at once and lacks s1.
 */
static void switch_case(const char *pooler_more, struct rig *r)
{
    char json[2048];

    snprintf(json, sizeof json,
             HEAD("\"clients\": 2, ") "\"pooler\": {\"kind\": \"pgbouncer\", "
                                      "\"pool_mode\": \"transaction\", "
                                      "\"default_pool_size\": 2%s}, "
                                      "\"postgres\": {\"backend_start\": \"0s\"}, "
                                      "\"network\": {\"app_pooler_rtt\": \"10ms\"}}",
             pooler_more);
    rig_up(r, json);
    rig_load(r, "b");
    rig_run_to(r, SIM_MS(200));
    rig_load(r, "a");
    rig_run_to(r, SIM_MS(236));
    rig_load(r, "b");
    rig_run_to(r, SIM_S(5));
    ck_assert_int_eq(pgb_servers(&r->s.pgb), 2);
}

START_TEST(a_cached_statement_on_another_server_fails_with_26000_unless_tracked)
{
    struct rig r;

    /* no tracking: a's Execute of s1 on S2 fails at once, back at 250 ms */
    switch_case(NO_TRACKING, &r);
    ck_assert_int_eq(rig_only_latency(&r, SER_ERRORS + ERRK_26000), SIM_MS(50));
    ck_assert_int_eq(r.h[SER_OK].min, SIM_MS(110)); /* b's second call: a hit on S1 */
    ck_assert_str_eq(errkind_text(ERRK_26000), "prepared statement \"s6\" does not exist");
    rig_down(&r);
    /* tracking: PgBouncer sends the Parse ahead of the Execute on S2, in the same round trip:
     * connect 30, Parse 10, Execute 10 + 100 ms, as if nothing had moved */
    switch_case("", &r);
    ck_assert_uint_eq(r.s.m.errors, 0);
    ck_assert_int_eq(r.h[SER_OK].max, SIM_MS(30 + 10 + 110));
    ck_assert_uint_eq(r.s.pgb.tracked, 3); /* S1: b's and a's texts; S2: a's */
    rig_down(&r);
}
END_TEST

/* Supavisor in transaction mode, one worker: named_prepared_statements decides. */
START_TEST(supavisor_tracks_only_with_named_prepared_statements)
{
    struct rig r;

    two_calls(&r, HEAD(TWO_PROCESSES) "\"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": "
                                      "\"transaction\", \"pool_size\": 1}, " TAIL);
    ck_assert_uint_eq(r.s.m.errors_by_kind[ERRK_42P05], 1);
    ck_assert_uint_eq(r.s.m.ok, 1);
    rig_down(&r);
    two_calls(&r, HEAD(TWO_PROCESSES) "\"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": "
                                      "\"transaction\", \"pool_size\": 1, "
                                      "\"named_prepared_statements\": true}, " TAIL);
    ck_assert_uint_eq(r.s.m.errors, 0);
    ck_assert_uint_eq(r.s.m.ok, 2);
    rig_down(&r);
    /* session mode with the backend reused by the next client: cleaned first */
    two_calls(
        &r, HEAD(TWO_PROCESSES
                 "\"connection_per_request\": true, ") "\"pooler\": "
                                                       "{\"kind\": \"supavisor\", \"pool_mode\": "
                                                       "\"session\", \"pool_size\": 1, "
                                                       "\"session_full\": \"queue\", "
                                                       "\"session_disconnect\": \"reuse\"}, " TAIL);
    ck_assert_uint_eq(r.s.m.errors, 0);
    ck_assert_uint_eq(r.s.m.ok, 2);
    rig_down(&r);
}
END_TEST

/* ---- keys ---- */

#define KEYS(cp, pooler)                                                                           \
    "{\"name\": \"t\", \"duration\": \"1s\", "                                                     \
    "\"workload\": {\"model\": \"open\", \"rate\": 1, \"page\": [\"a\"]}, "                        \
    "\"app\": {\"endpoints\": {\"a\": {\"operations\": [{\"type\": \"query\", "                    \
    "\"server_time\": \"1ms\"}]}}}, \"client_pool\": {" cp "}, \"pooler\": {" pooler "}}"

static int load_err(const char *json, struct err *e)
{
    struct cJSON *doc = NULL;
    struct experiment x;
    int rc;

    err_clear(e);
    ck_assert_int_eq(json_parse("t.json", json, strlen(json), &doc, e), 0);
    rc = experiment_load(&x, doc, ".", e);
    if (rc == 0) {
        experiment_fini(&x);
    }
    json_free(doc);
    return rc;
}

START_TEST(keys_have_their_defaults_units_and_owners)
{
    struct rig r;
    struct err e;
    cJSON *o;

    rig_up(&r, KEYS("\"kind\": \"prisma-v6\"", "\"kind\": \"pgbouncer\""));
    ck_assert_int_eq(r.x.client_pool.prisma.statement_cache_size, 100);
    ck_assert_int_eq(prisma_cache_size(&r.x.client_pool.prisma), 100);
    ck_assert_int_eq(r.x.pooler.pgb.max_prepared_statements, 200);
    ck_assert(!r.x.pooler.supa.named_prepared_statements);
    rig_down(&r);
    rig_up(&r, KEYS("\"statement_cache_size\": 7, \"pgbouncer\": true",
                    "\"kind\": \"pgbouncer\", \"max_prepared_statements\": 0"));
    ck_assert_int_eq(r.x.client_pool.prisma.statement_cache_size, 7);
    ck_assert_int_eq(prisma_cache_size(&r.x.client_pool.prisma), 0); /* forced by pgbouncer */
    ck_assert_int_eq(r.x.pooler.pgb.max_prepared_statements, 0);
    o = experiment_resolved(&r.x);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(o, "client_pool"), "statement_cache_size")
                         ->valueint,
                     7);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "pooler"),
                                                      "max_prepared_statements")
                         ->valueint,
                     0);
    cJSON_Delete(o);
    rig_down(&r);
    rig_up(&r, KEYS("", "\"kind\": \"supavisor\", \"pool_mode\": \"transaction\", "
                        "\"named_prepared_statements\": true"));
    ck_assert(r.x.pooler.supa.named_prepared_statements);
    o = experiment_resolved(&r.x);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(o, "pooler"), "named_prepared_statements")));
    cJSON_Delete(o);
    rig_down(&r);
    ck_assert_int_eq(load_err(KEYS("\"statement_cache_size\": -1", "\"kind\": \"direct\""), &e),
                     -1);
    ck_assert_str_eq(e.path, "$.client_pool.statement_cache_size");
    ck_assert_int_eq(
        load_err(KEYS("\"statement_cache_size\": \"100\"", "\"kind\": \"direct\""), &e), -1);
    ck_assert_int_eq(
        load_err(KEYS("\"kind\": \"pg-pool\", \"statement_cache_size\": 1", "\"kind\": \"direct\""),
                 &e),
        -1);
    ck_assert_str_eq(e.path, "$.client_pool.statement_cache_size");
    ck_assert_int_eq(
        load_err(KEYS("", "\"kind\": \"pgbouncer\", \"max_prepared_statements\": -1"), &e), -1);
    ck_assert_int_eq(load_err(KEYS("", "\"kind\": \"direct\", \"max_prepared_statements\": 5"), &e),
                     -1);
    ck_assert_int_eq(load_err(KEYS("", "\"kind\": \"pgbouncer\", \"named_prepared_statements\": "
                                       "true"),
                              &e),
                     -1);
    ck_assert_int_eq(load_err(KEYS("", "\"kind\": \"supavisor\", \"pool_mode\": \"session\", "
                                       "\"named_prepared_statements\": 1"),
                              &e),
                     -1);
}
END_TEST

START_TEST(new_error_columns_come_after_every_older_column)
{
    size_t n;
    const struct runner_metric *m = metrics_columns(&n);

    ck_assert_str_eq(m[n - 2].name, "errors_26000");
    ck_assert_str_eq(m[n - 1].name, "errors_08P01");
    ck_assert_str_eq(m[n - 3].name, "instances_peak");
    for (size_t i = 0; i + 2 < n; i++) {
        ck_assert_str_ne(m[i].name, "errors_26000");
    }
}
END_TEST

/* ---- every invariant, all the time ---- */

/*
 * Two processes of two PrismaClients, three endpoints with 1 to 3 statements,
 * a statement cache of 2 (evictions and their Closes), PgBouncer in
 * transaction mode with 3 servers, exponential times: every name error occurs
 * without tracking, none with it.  %s: the pooler's kind and keys.
 */
#define BUSY                                                                                       \
    "{\"name\": \"busy\", \"seed\": 5, \"duration\": \"30s\", "                                    \
    "\"workload\": {\"model\": \"open\", \"rate\": 40, \"page\": [\"a\", \"b\", \"c\"]}, "         \
    "\"app\": {\"instances\": 2, \"clients\": 2, \"endpoints\": {"                                 \
    "\"a\": {\"operations\": [{\"type\": \"query\", \"statements\": 3, \"server_time\": "          \
    "{\"dist\": \"exponential\", \"mean\": \"3ms\"}}]}, "                                          \
    "\"b\": {\"operations\": [{\"type\": \"transaction\", \"statements\": 2, \"server_time\": "    \
    "{\"dist\": \"exponential\", \"mean\": \"4ms\"}}]}, "                                          \
    "\"c\": {\"operations\": [{\"type\": \"query\", \"server_time\": "                             \
    "{\"dist\": \"exponential\", \"mean\": \"5ms\"}}]}}}, "                                        \
    "\"client_pool\": {\"connection_limit\": 3, \"statement_cache_size\": 2}, "                    \
    "\"pooler\": {\"kind\": \"%s\", \"pool_mode\": \"transaction\", %s}, "                         \
    "\"postgres\": {\"backend_start\": \"1ms\"}, "                                                 \
    "\"network\": {\"app_pooler_rtt\": \"4ms\", \"pooler_db_rtt\": \"1ms\"}}"

/* Run 30 s of random arrivals with every model's checker after every event; errors by kind. */
static void busy_run(const char *kind, const char *pooler, uint64_t *errors, uint64_t *ok)
{
    struct rig r;
    char json[4096];

    snprintf(json, sizeof json, BUSY, kind, pooler);
    rig_up(&r, json);
    scn_fini(&r.s);
    scn_init(&r.s, &r.x, 1, r.h, true);
    scn_paranoid(&r.s);
    rig_run_to(&r, SIM_S(30));
    ck_assert(scn_check(&r.s));
    memcpy(errors, r.s.m.errors_by_kind, sizeof r.s.m.errors_by_kind);
    *ok = r.s.m.ok;
    rig_down(&r);
}

START_TEST(every_invariant_holds_and_every_name_error_shows_without_tracking)
{
    uint64_t k[ERRK__COUNT], ok;

    busy_run("pgbouncer", "\"default_pool_size\": 3, \"max_prepared_statements\": 0", k, &ok);
    ck_assert_uint_gt(k[ERRK_42P05], 0);
    ck_assert_uint_gt(k[ERRK_26000], 0);
    ck_assert_uint_gt(k[ERRK_08P01], 0);
    ck_assert_uint_gt(ok, 500);
    /* tracking with a server LRU of 2: evictions on the servers too, and no name error */
    busy_run("pgbouncer", "\"default_pool_size\": 3, \"max_prepared_statements\": 2", k, &ok);
    ck_assert_uint_eq(k[ERRK_42P05] + k[ERRK_26000] + k[ERRK_08P01], 0);
    ck_assert_uint_gt(ok, 1500);
    busy_run("supavisor", "\"pool_size\": 3, \"named_prepared_statements\": true", k, &ok);
    ck_assert_uint_eq(k[ERRK_42P05] + k[ERRK_26000] + k[ERRK_08P01], 0);
    busy_run("supavisor", "\"pool_size\": 3", k, &ok);
    ck_assert_uint_gt(k[ERRK_42P05] + k[ERRK_26000] + k[ERRK_08P01], 0);
}
END_TEST

Suite *prepared_suite(void)
{
    Suite *s = suite_create("prepared");
    TCase *tc = tests_tcase(s, "exact", 20, "");
    TCase *busy = tests_tcase(s, "busy", 60, "");

    tcase_add_test(tc, table_agrees_with_a_plain_array_under_random_operations);
    tcase_add_test(tc, table_pops_the_least_recently_used_entry);
    tcase_add_test(tc, tracking_renames_reprepares_and_forgets_on_deallocate_all);
    tcase_add_test(tc, backend_refuses_a_name_it_holds_and_one_it_lacks);
    tcase_add_test(tc, two_processes_sharing_a_server_collide_with_42p05);
    tcase_add_test(tc, no_42p05_with_pgbouncer_flag_cache_off_or_tracking);
    tcase_add_test(tc, one_process_draws_every_name_from_one_counter);
    tcase_add_test(tc, never_in_session_mode_or_direct);
    tcase_add_test(tc, a_cache_miss_costs_exactly_one_round_trip);
    tcase_add_test(tc, the_cache_evicts_the_least_recent_at_statement_cache_size);
    tcase_add_test(tc, a_cached_statement_on_another_server_fails_with_26000_unless_tracked);
    tcase_add_test(tc, supavisor_tracks_only_with_named_prepared_statements);
    tcase_add_test(tc, keys_have_their_defaults_units_and_owners);
    tcase_add_test(tc, new_error_columns_come_after_every_older_column);
    tcase_add_test(busy, every_invariant_holds_and_every_name_error_shows_without_tracking);
    return s;
}

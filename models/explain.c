/*
 * explain.c - the traps of a configuration, and the `poolsim explain`
 * command (see explain.h; issue 8 items 3 and 4).
 *
 * Every trap compares numbers the models use (the same structs, the same
 * rules: pgb_server_cap, supa_capacity, pg_usable_slots, prisma_cache_size)
 * so that a warning predicts what `poolsim run` will show.  The facts and the
 * sources cited come from reference/domain.md (section numbers in each
 * text).  Possible client connections count only the PrismaClients a page
 * can reach (endpoint i uses client i mod clients): a client no page calls
 * never opens a connection, its pool being lazy (domain.md §1.3.1).
 *
 * The command validates every point as `run` does (same messages, same exit
 * codes), prints one point's configuration (key = value (source)), its
 * notes, and the warnings of every point, grouped by text when there are
 * several points.  It writes nothing but stdout.
 */
#include "models/explain.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "models/dburl.h"
#include "sim/json.h"
#include "sim/out.h"
#include "sim/sweep.h"
#include "sim/xalloc.h"

#define CONNS_UNBOUNDED INT64_MAX
#define HOW_MAX 256

static const char *const trap_names[EXPLAIN_NTRAPS] = {
    [EXPLAIN_CLIENT_LIMIT] = "client-limit",
    [EXPLAIN_PREPARED] = "prepared-statements",
    [EXPLAIN_ACQUIRE_TIMEOUT] = "no-acquire-timeout",
    [EXPLAIN_MAX_CONNECTIONS] = "max-connections",
    [EXPLAIN_MAX_WAIT] = "maxwait-before-pool-timeout",
    [EXPLAIN_SESSION] = "session-oversubscribed",
    [EXPLAIN_COMPUTE] = "compute-size",
};

/* Sources cited by the warnings (reference/domain.md §8). */
#define SRC_PGB_CONFIG "https://www.pgbouncer.org/config.html; domain.md §2.4"
#define SRC_PGB_USAGE "https://www.pgbouncer.org/usage.html; domain.md §2.2"
#define SRC_SUPA_CLIENTS "github.com/supabase/supavisor lib/supavisor/manager.ex; domain.md §3.3"
#define SRC_SUPA_SESSION "github.com/supabase/supavisor/pull/744; domain.md §3.4"
#define SRC_PREPARED "github.com/prisma/orm/issues/11643; domain.md §1.5.6-7"
#define SRC_PGPOOL "https://node-postgres.com/apis/pool; domain.md §5.6, §1.7"
#define SRC_PG_SLOTS                                                                               \
    "https://www.postgresql.org/docs/current/runtime-config-connection.html; "                     \
    "domain.md §4.2"
#define SRC_MAXWAIT "github.com/prisma/orm/issues/20015; domain.md §1.4.4-5"
#define SRC_COMPUTE "https://supabase.com/docs/guides/platform/compute-and-disk; domain.md §3.5"
#define SRC_POOL_SHARE "github.com/orgs/supabase/discussions/21566; domain.md §3.5"

/*
 * "Pooler max clients" of Supabase's compute sizes (domain.md §3.5 [R24]), by
 * preset name: postgres.c's presets set max_connections and cores only.
 */
static const struct {
    const char *name;
    int64_t clients;
} preset_clients[] = {
    {"supabase-nano", 200},   {"supabase-micro", 200},  {"supabase-small", 400},
    {"supabase-medium", 600}, {"supabase-large", 800},  {"supabase-xl", 1000},
    {"supabase-2xl", 1500},   {"supabase-4xl", 3000},   {"supabase-8xl", 6000},
    {"supabase-12xl", 9000},  {"supabase-16xl", 12000},
};

/* Supabase's guidance: a pool size up to ~80 % of max_connections (domain.md §3.5 [R26]). */
#define POOL_SHARE_PERCENT 80

/* ---- the list ---- */

void explain_list_init(struct explain_list *l)
{
    memset(l, 0, sizeof *l);
}

void explain_list_fini(struct explain_list *l)
{
    free(l->items);
    memset(l, 0, sizeof *l);
}

const char *explain_trap_name(enum explain_trap t)
{
    return t >= 0 && t < EXPLAIN_NTRAPS ? trap_names[t] : "?";
}

static void add(struct explain_list *l, int trap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(struct explain_list *l, int trap, const char *fmt, ...)
{
    va_list ap;

    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->n].trap = trap;
    va_start(ap, fmt);
    vsnprintf(l->items[l->n].text, sizeof l->items[l->n].text, fmt, ap);
    va_end(ap);
    l->n++;
}

/* ---- what the configuration allows ---- */

static int64_t mul_sat(int64_t a, int64_t b)
{
    return a > 0 && b > INT64_MAX / a ? INT64_MAX : a * b;
}

/* PrismaClients a page can reach: distinct (endpoint index mod clients) over the pages. */
static int64_t reachable_clients(const struct experiment *x)
{
    size_t n = 0;
    int64_t *seen = xcalloc(x->app.nendpoints + 1, sizeof *seen);

    for (size_t p = 0; p < x->workload.npages; p++) {
        for (size_t c = 0; c < x->workload.pages[p].ncalls; c++) {
            int64_t k = (int64_t)x->workload.pages[p].endpoints[c] % x->app.clients;
            size_t i = 0;

            while (i < n && seen[i] != k) {
                i++;
            }
            n += i == n;
            seen[i] = k;
        }
    }
    free(seen);
    return (int64_t)n;
}

/* Connections of one pool, and the key that sets them. */
static int64_t pool_limit(const struct client_pool_config *cp, const char **key)
{
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        *key = "connection_limit";
        return cp->prisma.connection_limit;
    case CPOOL_PG_POOL:
        *key = "max";
        return cp->pgpool.max;
    case CPOOL_DEDICATED:
        break;
    }
    *key = "";
    return 1;
}

/* The most calls a page issues at once. */
static int64_t widest_page(const struct workload_config *wl)
{
    size_t most = 0;

    for (size_t p = 0; p < wl->npages; p++) {
        most = wl->pages[p].ncalls > most ? wl->pages[p].ncalls : most;
    }
    return (int64_t)most;
}

/* connection_per_request: each call has a pool of its own. */
static int64_t per_request_conns(const struct experiment *x, char *how, size_t size)
{
    const char *key;
    int64_t limit = pool_limit(&x->client_pool, &key), calls = widest_page(&x->workload);

    if (x->workload.model == WL_OPEN) {
        snprintf(how, size, "unbounded: open arrivals, each call opening its own connections");
        return CONNS_UNBOUNDED;
    }
    snprintf(how, size, "%lld users × %lld calls per page × %s %lld, a pool per call",
             (long long)x->workload.users, (long long)calls, key, (long long)limit);
    return mul_sat(mul_sat(x->workload.users, calls), limit);
}

int64_t explain_client_conns(const struct experiment *x, char *how, size_t size)
{
    bool pg = x->client_pool.kind == CPOOL_PG_POOL;
    const char *key, *kind = pg ? "pg.Pools" : "PrismaClients",
                     *kind_one = pg ? "pg.Pool" : "PrismaClient";
    int64_t limit = pool_limit(&x->client_pool, &key), reach = reachable_clients(x);
    int64_t inst = x->app.serverless.enabled ? x->app.serverless.max_instances : x->app.instances;
    char of[64] = "";

    if (x->app.connection_per_request) {
        return per_request_conns(x, how, size);
    }
    if (x->client_pool.kind == CPOOL_DEDICATED) {
        snprintf(how, size, "%lld users, one dedicated connection each",
                 (long long)x->workload.users);
        return x->workload.users;
    }
    if (reach < x->app.clients) {
        snprintf(of, sizeof of, " (of %lld: no page calls the others)", (long long)x->app.clients);
    }
    snprintf(how, size, "%lld %s × %lld %s%s × %s %lld", (long long)inst,
             x->app.serverless.enabled ? "serverless instances at most"
             : inst == 1               ? "instance"
                                       : "instances",
             (long long)reach, reach == 1 ? kind_one : kind, of, key, (long long)limit);
    return mul_sat(mul_sat(inst, reach), limit);
}

static void conns_text(int64_t n, char *buf, size_t size)
{
    if (n == CONNS_UNBOUNDED) {
        snprintf(buf, size, "unbounded");
    } else {
        snprintf(buf, size, "%lld", (long long)n);
    }
}

static void dur(sim_time t, char *buf)
{
    dist_format_duration(t, buf, DIST_DURATION_MAX);
}

/* ---- trap 1: client connections above the pooler's client limit ---- */

static void trap_pgb_clients(const struct experiment *x, int64_t n, const char *how,
                             struct explain_list *l)
{
    const struct pgb_config *c = &x->pooler.pgb;
    int64_t limit = c->max_client_conn - c->foreign_clients;
    char num[32];

    if (n <= limit) {
        return;
    }
    conns_text(n, num, sizeof num);
    add(l, EXPLAIN_CLIENT_LIMIT,
        "%s possible client connections (%s) > max_client_conn %lld − %lld foreign clients = "
        "%lld — PgBouncer refuses every login past it: FATAL no more connections allowed "
        "(max_client_conn) (" SRC_PGB_CONFIG ")",
        num, how, (long long)c->max_client_conn, (long long)c->foreign_clients, (long long)limit);
}

/* Foreign session clients that take part of this pool's budget (supavisor.c's start_foreign). */
static int64_t supa_foreign_in_budget(const struct supa_config *c)
{
    int64_t n = c->foreign_clients < c->pool_size ? c->foreign_clients : c->pool_size;

    return c->pool_mode == SUPA_SESSION || c->budget == SUPA_BUDGET_SHARED ? n : 0;
}

static void trap_supa_clients(const struct experiment *x, int64_t n, const char *how,
                              struct explain_list *l)
{
    const struct supa_config *c = &x->pooler.supa;
    int64_t foreign = supa_foreign_in_budget(c), limit = c->pool_size - foreign;
    char num[32];

    conns_text(n, num, sizeof num);
    if (c->pool_mode == SUPA_TRANSACTION && n > c->max_clients) {
        add(l, EXPLAIN_CLIENT_LIMIT,
            "%s possible client connections (%s) > max_clients %lld — Supavisor refuses every "
            "client past it: (EMAXCONN) max client connections reached (" SRC_SUPA_CLIENTS ")",
            num, how, (long long)c->max_clients);
    } else if (c->pool_mode == SUPA_SESSION && n > limit) {
        add(l, EXPLAIN_CLIENT_LIMIT,
            "%s possible client connections (%s) > pool_size %lld − %lld foreign session "
            "clients = %lld — in session mode each client holds a backend and clients are "
            "limited to pool_size: %s (" SRC_SUPA_SESSION ")",
            num, how, (long long)c->pool_size, (long long)foreign, (long long)limit,
            c->session_full == SUPA_FULL_REJECT
                ? "the next one is refused at once, MaxClientsInSessionMode"
                : "the next one waits pool_checkout_timeout, then MaxClientsInSessionMode");
    }
}

/* ---- trap 2: Prisma v6's named statements through a transaction pooler ---- */

static void trap_prepared(const struct experiment *x, struct explain_list *l)
{
    const struct prisma_config *pc = &x->client_pool.prisma;
    const struct pooler_config *p = &x->pooler;
    char where[160];

    if (x->client_pool.kind != CPOOL_PRISMA_V6 || prisma_cache_size(pc) == 0) {
        return;
    }
    if (p->kind == POOLER_PGBOUNCER && p->pgb.pool_mode != PGB_SESSION &&
        p->pgb.max_prepared_statements == 0) {
        snprintf(where, sizeof where,
                 "PgBouncer %s mode with max_prepared_statements 0 (set it > 0: PgBouncer 1.21+)",
                 p->pgb.pool_mode == PGB_TRANSACTION ? "transaction" : "statement");
    } else if (p->kind == POOLER_SUPAVISOR && p->supa.pool_mode == SUPA_TRANSACTION &&
               !p->supa.named_prepared_statements) {
        snprintf(where, sizeof where,
                 "Supavisor transaction mode without named_prepared_statements");
    } else {
        return;
    }
    add(l, EXPLAIN_PREPARED,
        "Prisma v6 with pgbouncer=false and statement_cache_size %lld through %s — names s0, "
        "s1, … prepared on one server connection collide on another: 42P05 prepared statement "
        "\"s0\" already exists (and 26000); add pgbouncer=true to the connection string "
        "(" SRC_PREPARED ")",
        (long long)pc->statement_cache_size, where);
}

/* ---- trap 3: pg-pool without an acquire timeout ---- */

static void trap_acquire_timeout(const struct experiment *x, struct explain_list *l)
{
    if (x->client_pool.kind != CPOOL_PG_POOL || x->client_pool.pgpool.connection_timeout > 0) {
        return;
    }
    add(l, EXPLAIN_ACQUIRE_TIMEOUT,
        "pg-pool (Prisma 7's adapter-pg) with connectionTimeoutMillis 0 and max %lld — a "
        "checkout waits forever once every client is busy: a saturated pool never fails, its "
        "requests hang with no error (" SRC_PGPOOL ")",
        (long long)x->client_pool.pgpool.max);
}

/* ---- trap 4: more connections than PostgreSQL's ordinary slots ---- */

/* Server connections a pooler may hold, foreign clients' included; how, into how[size]. */
static int64_t pooler_servers(const struct pooler_config *p, char *how, size_t size)
{
    const struct pgb_config *b = &p->pgb;
    const struct supa_config *s = &p->supa;
    int64_t foreign = s->foreign_clients < s->pool_size ? s->foreign_clients : s->pool_size;
    int64_t extra = foreign - supa_foreign_in_budget(s);

    if (p->kind == POOLER_PGBOUNCER) {
        snprintf(how, size, "default_pool_size %lld + reserve_pool_size %lld%s",
                 (long long)b->default_pool_size, (long long)b->reserve_pool_size,
                 pgb_server_cap(b) < b->default_pool_size + b->reserve_pool_size
                     ? ", capped by max_db_connections"
                     : "");
        return pgb_server_cap(b);
    }
    snprintf(how, size, "pool_size %lld%s + %lld foreign session clients in a pool of their own",
             (long long)s->pool_size, s->capacity == SUPA_CAP_POOL_SIZE_PLUS_ONE ? " + 1" : "",
             (long long)extra);
    return supa_capacity(s) + extra;
}

static void trap_max_connections(const struct experiment *x, int64_t n, const char *how,
                                 struct explain_list *l)
{
    const struct pg_config *pg = &x->postgres;
    int64_t usable = pg_usable_slots(pg), servers = n;
    char num[32], what[HOW_MAX + 64];

    if (x->pooler.kind == POOLER_DIRECT) {
        conns_text(n, num, sizeof num);
        snprintf(what, sizeof what, "%s possible direct connections (%s)", num, how);
    } else {
        char pool[HOW_MAX];

        servers = pooler_servers(&x->pooler, pool, sizeof pool);
        snprintf(what, sizeof what, "%lld server connections at most (%s)", (long long)servers,
                 pool);
    }
    if (servers <= usable) {
        return;
    }
    add(l, EXPLAIN_MAX_CONNECTIONS,
        "%s > max_connections %lld − superuser_reserved_connections %lld = %lld — PostgreSQL "
        "refuses every login past its ordinary slots with 53300: %s (" SRC_PG_SLOTS ")",
        what, (long long)pg->max_connections, (long long)pg->superuser_reserved, (long long)usable,
        pg_refusal_text(pg, usable));
}

/* ---- trap 5: an interactive transaction's maxWait shorter than the pool's timeout ---- */

/* The interactive operation with the shortest maxWait among ops and best (parallel groups too). */
static const struct op_config *shortest_max_wait(const struct op_config *ops, size_t n,
                                                 const struct op_config *best)
{
    for (size_t i = 0; i < n; i++) {
        if (ops[i].type == OP_PARALLEL) {
            best = shortest_max_wait(ops[i].subs, ops[i].nsubs, best);
        } else if (ops[i].type == OP_INTERACTIVE && (!best || ops[i].max_wait < best->max_wait)) {
            best = &ops[i];
        }
    }
    return best;
}

static void trap_max_wait(const struct experiment *x, struct explain_list *l)
{
    const struct client_pool_config *cp = &x->client_pool;
    bool v6 = cp->kind == CPOOL_PRISMA_V6;
    sim_time limit = v6 ? cp->prisma.pool_timeout : cp->pgpool.connection_timeout;
    const struct op_config *op = NULL;
    const char *ep = "";
    char mw[DIST_DURATION_MAX], lim[DIST_DURATION_MAX];

    if (cp->kind == CPOOL_DEDICATED || (!v6 && limit == 0)) {
        return; /* no pool timeout (pg-pool's 0 is trap 3's) */
    }
    for (size_t i = 0; i < x->app.nendpoints; i++) {
        const struct endpoint_config *e = &x->app.endpoints[i];
        const struct op_config *b = shortest_max_wait(e->ops, e->nops, op);

        ep = b != op ? e->name : ep;
        op = b;
    }
    if (!op || (limit > 0 && op->max_wait >= limit)) {
        return;
    }
    dur(op->max_wait, mw);
    dur(limit, lim);
    add(l, EXPLAIN_MAX_WAIT,
        "interactive transaction maxWait %s (endpoint \"%s\") < %s %s%s — on a saturated pool "
        "interactive transactions fail first, with P2028 Unable to start a transaction in the "
        "given time, while the other requests still wait for %s (" SRC_MAXWAIT ")",
        mw, ep, v6 ? "pool_timeout" : "connectionTimeoutMillis", lim, limit == 0 ? " (none)" : "",
        v6 ? "P2024" : "\"timeout exceeded when trying to connect\"");
}

/* ---- trap 6: PgBouncer session mode with more app connections than servers ---- */

static void trap_session(const struct experiment *x, int64_t n, const char *how,
                         struct explain_list *l)
{
    const struct pgb_config *c = &x->pooler.pgb;
    int64_t cap = pgb_server_cap(c), held = c->foreign_clients < cap ? c->foreign_clients : cap;
    char num[32], pool[HOW_MAX], qwt[DIST_DURATION_MAX];

    if (x->pooler.kind != POOLER_PGBOUNCER || c->pool_mode != PGB_SESSION || n <= cap - held) {
        return;
    }
    conns_text(n, num, sizeof num);
    pooler_servers(&x->pooler, pool, sizeof pool);
    dur(c->query_wait_timeout, qwt);
    add(l, EXPLAIN_SESSION,
        "%s possible client connections (%s) > %lld server connections (%s) − %lld held by "
        "foreign clients = %lld, in session mode — a client connection keeps the server it got "
        "until it disconnects, and client pools keep idle connections open: the others wait, "
        "up to query_wait_timeout %s%s (" SRC_PGB_USAGE ")",
        num, how, (long long)cap, pool, (long long)held, (long long)(cap - held), qwt,
        c->query_wait_timeout == 0 ? " (forever)" : "");
}

/* ---- trap 7: beyond the Supabase compute size (postgres.preset) ---- */

static int64_t preset_pooler_clients(const char *name)
{
    for (size_t i = 0; i < sizeof preset_clients / sizeof preset_clients[0]; i++) {
        if (strcmp(preset_clients[i].name, name) == 0) {
            return preset_clients[i].clients;
        }
    }
    return -1;
}

/* max_connections and cores written above the compute's. */
static void trap_compute_pg(const struct experiment *x, const struct pg_config *pre,
                            const char *name, struct explain_list *l)
{
    if (x->postgres.max_connections > pre->max_connections) {
        add(l, EXPLAIN_COMPUTE,
            "max_connections %lld > %lld of %s — above the compute's recommended value, sized "
            "for its memory (" SRC_COMPUTE ")",
            (long long)x->postgres.max_connections, (long long)pre->max_connections, name);
    }
    if (x->postgres.cores > pre->cores) {
        add(l, EXPLAIN_COMPUTE,
            "cores %lld > %lld of %s — the compute has no more cores: the simulation runs "
            "statements faster than it can (" SRC_COMPUTE ")",
            (long long)x->postgres.cores, (long long)pre->cores, name);
    }
}

/* The pooler's clients and pool size against the compute's. */
static void trap_compute_pooler(const struct experiment *x, const struct pg_config *pre,
                                const char *name, int64_t n, const char *how,
                                struct explain_list *l)
{
    int64_t clients = preset_pooler_clients(name),
            share = pre->max_connections * POOL_SHARE_PERCENT / 100;
    int64_t servers;
    char num[32], pool[HOW_MAX];

    if (x->pooler.kind == POOLER_DIRECT) {
        return;
    }
    conns_text(n, num, sizeof num);
    if (clients > 0 && n > clients) {
        add(l, EXPLAIN_COMPUTE,
            "%s possible client connections (%s) > %lld pooler clients of %s — Supabase's "
            "pooler stops accepting clients past the compute's limit (" SRC_COMPUTE ")",
            num, how, (long long)clients, name);
    }
    servers = pooler_servers(&x->pooler, pool, sizeof pool);
    if (servers > share) {
        add(l, EXPLAIN_COMPUTE,
            "%lld server connections (%s) > %d%% of max_connections %lld of %s = %lld — Supabase "
            "advises a pool size up to 40%% of max_connections with heavy Data API use, 80%% "
            "otherwise: the rest serves direct connections and Supabase's own services "
            "(" SRC_POOL_SHARE ")",
            (long long)servers, pool, POOL_SHARE_PERCENT, (long long)pre->max_connections, name,
            (long long)share);
    }
}

static void trap_compute(const struct experiment *x, int64_t n, const char *how,
                         struct explain_list *l)
{
    struct pg_config pre;
    const char *name;

    if (x->postgres.preset < 0) {
        return;
    }
    name = pg_preset_names()[x->postgres.preset];
    pg_config_default(&pre);
    pg_preset_apply(&pre, x->postgres.preset);
    trap_compute_pg(x, &pre, name, l);
    trap_compute_pooler(x, &pre, name, n, how, l);
    dist_fini(&pre.backend_start);
}

void explain_warnings(const struct experiment *x, struct explain_list *out)
{
    char how[HOW_MAX];
    int64_t n = explain_client_conns(x, how, sizeof how);

    if (x->pooler.kind == POOLER_PGBOUNCER) {
        trap_pgb_clients(x, n, how, out);
    } else if (x->pooler.kind == POOLER_SUPAVISOR) {
        trap_supa_clients(x, n, how, out);
    }
    trap_prepared(x, out);
    trap_acquire_timeout(x, out);
    trap_max_connections(x, n, how, out);
    trap_max_wait(x, out);
    trap_session(x, n, how, out);
    trap_compute(x, n, how, out);
}

/* ---- notes: defaults that have no effect, values the environment decides ---- */

/* The source of a leaf ("pooler.pool_size") in a sweep_sources object, or "default". */
static const char *source_of(const struct cJSON *sources, const char *key)
{
    struct json_at root, v;
    const char *s = NULL;
    struct err e;

    json_root(sources, &root);
    if (!json_is_object(&root) || !json_get(&root, key, &v) || json_string(&v, &s, &e) != 0) {
        return "default";
    }
    return s;
}

static bool is_default(const struct cJSON *sources, const char *key)
{
    return strcmp(source_of(sources, key), "default") == 0;
}

static void note_rtt(const struct cJSON *sources, const char *key, sim_time rtt,
                     const char *between, struct explain_list *l)
{
    if (rtt == 0 && is_default(sources, key)) {
        add(l, EXPLAIN_NOTE,
            "%s = 0ms (default): no network time between %s; the environment decides: set the "
            "round trip you measure (DESIGN.md §4)",
            key, between);
    }
}

static void note_connection_limit(const struct experiment *x, const struct cJSON *sources,
                                  struct explain_list *l)
{
    if (x->client_pool.kind != CPOOL_PRISMA_V6 ||
        !is_default(sources, "client_pool.connection_limit")) {
        return;
    }
    add(l, EXPLAIN_NOTE,
        "client_pool.connection_limit = %lld (default): Prisma's 2 × physical cores + 1, with "
        "app.cores = %lld (%s); Prisma counts the app host's physical cores (domain.md §1.2)",
        (long long)x->client_pool.prisma.connection_limit, (long long)x->app.cores,
        source_of(sources, "app.cores"));
}

/* The preset's pooler client limit is not applied by the models: say so when it matters. */
static void note_preset_clients(const struct experiment *x, struct explain_list *l)
{
    const char *name = x->postgres.preset >= 0 ? pg_preset_names()[x->postgres.preset] : NULL;
    int64_t clients = name ? preset_pooler_clients(name) : -1, limit;
    const char *key = x->pooler.kind == POOLER_PGBOUNCER ? "max_client_conn" : "max_clients";

    if (!name || x->pooler.kind == POOLER_DIRECT) {
        return;
    }
    limit = x->pooler.kind == POOLER_PGBOUNCER ? x->pooler.pgb.max_client_conn
                                               : x->pooler.supa.max_clients;
    if (limit > clients) {
        add(l, EXPLAIN_NOTE,
            "postgres.preset %s: Supabase's pooler admits %lld clients; the preset does not set "
            "pooler.%s (%lld here), so the simulation admits more (domain.md §3.5)",
            name, (long long)clients, key, (long long)limit);
    }
}

void explain_notes(const struct experiment *x, const struct cJSON *sources,
                   struct explain_list *out)
{
    if (x->pooler.kind == POOLER_DIRECT) {
        note_rtt(sources, "network.app_db_rtt", x->net.app_db_rtt, "the app and PostgreSQL", out);
    } else {
        note_rtt(sources, "network.app_pooler_rtt", x->net.app_pooler_rtt, "the app and the pooler",
                 out);
        note_rtt(sources, "network.pooler_db_rtt", x->net.pooler_db_rtt,
                 "the pooler and PostgreSQL", out);
    }
    if (x->postgres.cores == 0 && is_default(sources, "postgres.cores")) {
        add(out, EXPLAIN_NOTE,
            "postgres.cores = 0 (default): unlimited cores, statements never slow each other; "
            "set cores (or postgres.preset) to see CPU contention (DESIGN.md §4)");
    }
    note_connection_limit(x, sources, out);
    note_preset_clients(x, out);
}

/* ---- the configuration table ---- */

/* A distribution: "lognormal mean_ms=13.06 mu_ln_ns=15.89 sigma=0.9898". */
static void dist_text(struct out_buf *b, const struct json_at *at)
{
    for (size_t i = 0; i < json_size(at); i++) {
        struct json_at ch;
        const char *key, *s;
        double v;
        struct err e;

        json_child(at, i, &ch, &key);
        out_buf_printf(b, "%s%s", i ? " " : "", i ? key : "");
        out_buf_puts(b, i ? "=" : "");
        if (json_is_number(&ch) && json_double(&ch, -1e300, 1e300, &v, &e) == 0) {
            out_buf_printf(b, "%.4g", v);
        } else if (json_is_string(&ch) && json_string(&ch, &s, &e) == 0) {
            out_buf_puts(b, s);
        }
    }
}

/* A value as printed: a string without its quotes, anything else as compact JSON. */
static void value_text(struct out_buf *b, const struct json_at *at)
{
    const char *s;
    struct err e;
    char *text;

    if (json_is_object(at)) {
        dist_text(b, at);
        return;
    }
    if (json_is_string(at) && json_string(at, &s, &e) == 0) {
        out_buf_puts(b, s);
        return;
    }
    text = json_print(at->node);
    out_buf_puts(b, text);
    free(text);
}

/* An array of scalars, or a distribution: printed on one line. */
static bool is_one_line(const struct json_at *at)
{
    struct json_at ch;

    if (json_is_object(at)) {
        return json_get(at, "dist", &ch) != 0;
    }
    for (size_t i = 0; i < json_size(at); i++) {
        json_child(at, i, &ch, NULL);
        if (json_is_object(&ch) || json_is_array(&ch)) {
            return false;
        }
    }
    return true;
}

/* The source of a line; the values a preset set are "preset" (summary.json says "default"). */
static const char *line_source(const struct json_at *at, const char *key,
                               const struct cJSON *sources, const struct experiment *x)
{
    char leaf[JSON_PATH_MAX];
    const char *src;

    if (json_is_object(at)) {
        json_path_key(leaf, sizeof leaf, key, "dist");
    } else if (json_is_array(at) && json_size(at) > 0) {
        json_path_index(leaf, sizeof leaf, key, 0);
    } else {
        snprintf(leaf, sizeof leaf, "%s", key);
    }
    src = source_of(sources, leaf);
    if (x->postgres.preset >= 0 && strcmp(src, "default") == 0 &&
        (strcmp(leaf, "postgres.max_connections") == 0 || strcmp(leaf, "postgres.cores") == 0)) {
        return "preset";
    }
    return src;
}

static void table_walk(struct out_buf *b, const struct json_at *at, const struct cJSON *sources,
                       const struct experiment *x)
{
    const char *key = at->path[0] == '$' && at->path[1] == '.' ? at->path + 2 : at->path;

    if ((json_is_object(at) || json_is_array(at)) && !is_one_line(at)) {
        for (size_t i = 0; i < json_size(at); i++) {
            struct json_at ch;

            json_child(at, i, &ch, NULL);
            table_walk(b, &ch, sources, x);
        }
        return;
    }
    out_buf_printf(b, "  %s = ", key);
    value_text(b, at);
    out_buf_printf(b, " (%s)\n", line_source(at, key, sources, x));
}

/* Header, configuration and notes of one point. */
static void point_report(struct out_buf *b, const struct sweep_plan *plan, size_t i,
                         const struct experiment *x, const char *file,
                         const struct out_buf *url_notes)
{
    struct cJSON *resolved = experiment_resolved(x);
    struct cJSON *sources = sweep_sources(plan, &plan->points[i], resolved);
    struct explain_list notes;
    struct json_at root;

    out_buf_printf(b, "explain %s", file);
    if (plan->npoints > 1 || plan->has_variants || plan->ncolumns > 0) {
        out_buf_printf(b, ": point %zu of %zu (%s)", i, plan->npoints,
                       plan->points[i].label ? plan->points[i].label : "");
    }
    out_buf_puts(b, "\nconfiguration (key = value (source)):\n");
    json_root(resolved, &root);
    for (size_t k = 0; k < json_size(&root); k++) {
        struct json_at ch;

        json_child(&root, k, &ch, NULL);
        table_walk(b, &ch, sources, x);
    }
    explain_list_init(&notes);
    explain_notes(x, sources, &notes);
    out_buf_puts(b, notes.n || url_notes->len ? "notes:\n" : "notes: none\n");
    /* the database_url's remarks (a host that is not Supabase's, a parameter without effect) */
    for (const char *p = url_notes->len ? url_notes->data : ""; *p; p += strcspn(p, "\n") + 1) {
        out_buf_printf(b, "note: %.*s\n", (int)strcspn(p, "\n"), p);
    }
    for (size_t k = 0; k < notes.n; k++) {
        out_buf_printf(b, "note: %s\n", notes.items[k].text);
    }
    explain_list_fini(&notes);
    json_free(sources);
    json_free(resolved);
}

/* ---- the warnings of several points, grouped by text ---- */

struct group {
    const struct explain_item *item; /* borrowed from a point's list */
    size_t *pts;                     /* points with this warning, ascending (owned) */
    size_t n;
};

/* " [points 0-3, 7]", or " [every point]". */
static void points_text(struct out_buf *b, const struct group *g, size_t npoints)
{
    if (g->n == npoints) {
        out_buf_puts(b, " [every point]");
        return;
    }
    out_buf_puts(b, g->n == 1 ? " [point " : " [points ");
    for (size_t i = 0; i < g->n;) {
        size_t j = i;

        while (j + 1 < g->n && g->pts[j + 1] == g->pts[j] + 1) {
            j++;
        }
        out_buf_printf(b, "%s%zu", i ? ", " : "", g->pts[i]);
        if (j > i) {
            out_buf_printf(b, "-%zu", g->pts[j]);
        }
        i = j + 1;
    }
    out_buf_puts(b, "]");
}

/* Add point p's item to its group (same trap, same text), or to a new one. */
static void group_add(struct group *gs, size_t *ng, const struct explain_item *it, size_t p,
                      size_t npoints)
{
    size_t g = 0;

    while (g < *ng && !(gs[g].item->trap == it->trap && strcmp(gs[g].item->text, it->text) == 0)) {
        g++;
    }
    if (g == *ng) {
        gs[g].item = it;
        gs[g].pts = xcalloc(npoints, sizeof *gs[g].pts);
        gs[g].n = 0;
        (*ng)++;
    }
    gs[g].pts[gs[g].n++] = p;
}

/* The warnings of points [first, last); with marks, each says at which points it holds. */
static void warnings_report(struct out_buf *b, const struct experiment *xs, size_t first,
                            size_t last, bool marks)
{
    size_t np = last - first, ng = 0, total = 0;
    struct explain_list *lists = xcalloc(np, sizeof *lists);
    struct group *gs;

    for (size_t p = 0; p < np; p++) {
        explain_list_init(&lists[p]);
        explain_warnings(&xs[first + p], &lists[p]);
        total += lists[p].n;
    }
    gs = xcalloc(total + 1, sizeof *gs);
    for (size_t p = 0; p < np; p++) {
        for (size_t k = 0; k < lists[p].n; k++) {
            group_add(gs, &ng, &lists[p].items[k], first + p, np);
        }
    }
    out_buf_puts(b, ng ? "warnings:\n" : "warnings: none\n");
    for (size_t g = 0; g < ng; g++) {
        out_buf_printf(b, "warning: %s: %s", explain_trap_name(gs[g].item->trap), gs[g].item->text);
        if (marks) {
            points_text(b, &gs[g], np);
        }
        out_buf_puts(b, "\n");
        free(gs[g].pts);
    }
    for (size_t p = 0; p < np; p++) {
        explain_list_fini(&lists[p]);
    }
    free(gs);
    free(lists);
}

/* ---- the command ---- */

#define EXPLAIN_MAX_SETS 256
#define POINT_ALL SIZE_MAX
#define POINT_DEFAULT (SIZE_MAX - 1)

struct explain_cli {
    const char *file;
    size_t point; /* an index, POINT_ALL or POINT_DEFAULT */
    struct sweep_set sets[EXPLAIN_MAX_SETS];
    size_t nsets;
};

static int usage(FILE *errf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A usage error, any connection string in it redacted; returns the usage exit code. */
static int usage(FILE *errf, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = dburl_vusage(errf, fmt, ap);
    va_end(ap);
    return rc;
}

static int parse_point(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;

    if (strcmp(s, "all") == 0) {
        *out = POINT_ALL;
        return 0;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || end == s || s[0] == '-' || v >= POINT_DEFAULT) {
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

static int parse_set(struct explain_cli *c, char *arg, FILE *errf)
{
    char *eq = strchr(arg, '=');

    if (!eq || eq == arg) {
        return usage(errf, "--set needs PATH=VALUE, got \"%s\"", arg);
    }
    if (c->nsets == EXPLAIN_MAX_SETS) {
        return usage(errf, "too many --set options (at most %d)", EXPLAIN_MAX_SETS);
    }
    *eq = '\0';
    c->sets[c->nsets].path = arg;
    c->sets[c->nsets].value = eq + 1;
    c->nsets++;
    return 0;
}

/* --database-url URL and --database-url-env NAME act as --set database_url=URL (as for run). */
static int parse_database_url(struct explain_cli *c, const char *opt, const char *arg, FILE *errf)
{
    const char *url = arg;

    if (strcmp(opt, "--database-url-env") == 0) {
        url = getenv(arg);
        if (!url || !url[0]) {
            return usage(errf, "environment variable \"%s\" (--database-url-env) is %s", arg,
                         url ? "empty" : "not set");
        }
    }
    if (c->nsets == EXPLAIN_MAX_SETS) {
        return usage(errf, "too many --set options (at most %d)", EXPLAIN_MAX_SETS);
    }
    c->sets[c->nsets].path = "database_url";
    c->sets[c->nsets].value = url;
    c->nsets++;
    return 0;
}

static bool takes_value(const char *a)
{
    return strcmp(a, "--point") == 0 || strcmp(a, "--set") == 0 ||
           strcmp(a, "--database-url") == 0 || strcmp(a, "--database-url-env") == 0;
}

static int parse_args(struct explain_cli *c, int argc, char **argv, FILE *errf)
{
    c->point = POINT_DEFAULT;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];

        if (takes_value(a) && i + 1 == argc) {
            return usage(errf, "option \"%s\" needs a value", a);
        } else if (strcmp(a, "--point") == 0) {
            if (parse_point(argv[++i], &c->point) != 0) {
                return usage(errf, "--point needs a point number or \"all\", got \"%s\"", argv[i]);
            }
        } else if (strcmp(a, "--set") == 0) {
            if (parse_set(c, argv[++i], errf) != 0) {
                return 2;
            }
        } else if (takes_value(a)) {
            if (parse_database_url(c, a, argv[++i], errf) != 0) {
                return 2;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage(errf, "unknown option \"%s\"", a);
        } else if (c->file) {
            return usage(errf, "more than one experiment file (\"%s\")", a);
        } else {
            c->file = a;
        }
    }
    return c->file ? 0 : usage(errf, "explain needs an experiment FILE");
}

/* Every point loaded, as `run` validates them: 0, or 1 with e naming the point. */
static int load_points(const struct sweep_plan *plan, const char *file, struct experiment *xs,
                       struct err *e)
{
    char *base = out_dir_of_file(file);
    size_t i = 0;

    for (; i < plan->npoints; i++) {
        err_clear(e);
        if (experiment_load(&xs[i], plan->points[i].doc, base, e) != 0) {
            sweep_point_error(plan, i, file, e);
            break;
        }
    }
    free(base);
    if (i < plan->npoints) {
        while (i-- > 0) {
            experiment_fini(&xs[i]);
        }
        return 1;
    }
    return 0;
}

/* The report: the chosen point(s) in full, then the warnings. */
static void report(struct out_buf *b, const struct explain_cli *c, const struct sweep_plan *plan,
                   const struct experiment *xs, const struct out_buf *url_notes)
{
    size_t n = plan->npoints;

    if (c->point == POINT_ALL) {
        for (size_t i = 0; i < n; i++) {
            out_buf_puts(b, i ? "\n" : "");
            point_report(b, plan, i, &xs[i], c->file, url_notes);
            warnings_report(b, xs, i, i + 1, false);
        }
        return;
    }
    if (c->point == POINT_DEFAULT) {
        point_report(b, plan, 0, &xs[0], c->file, url_notes);
        if (n > 1) {
            out_buf_printf(b, "(the other %zu points: poolsim explain %s --point N)\n", n - 1,
                           c->file);
        }
        warnings_report(b, xs, 0, n, n > 1);
        return;
    }
    point_report(b, plan, c->point, &xs[c->point], c->file, url_notes);
    warnings_report(b, xs, c->point, c->point + 1, false);
}

/* Load, expand and validate; then print.  rc as explain_main. */
static int explain_file(const struct explain_cli *c, FILE *out, FILE *errf,
                        struct out_buf *url_notes, struct err *e)
{
    struct cJSON *doc = NULL;
    struct sweep_plan plan = {0};
    struct experiment *xs = NULL;
    struct out_buf b;
    int rc = 1;

    err_set_file(e, c->file);
    if (json_load_file(c->file, &doc, e) != 0) {
        rc = e->line > 0 || e->path[0] ? 1 : 2;
        goto out;
    }
    if (sweep_expand(doc, c->sets, c->nsets, &plan, e) != 0 ||
        dburl_plan_apply(&plan, url_notes, e) != 0) {
        goto out;
    }
    xs = xcalloc(plan.npoints, sizeof *xs);
    if (load_points(&plan, c->file, xs, e) != 0) {
        goto out;
    }
    if (c->point < POINT_DEFAULT && c->point >= plan.npoints) {
        rc = usage(errf, "--point %zu: the experiment has %zu point%s (0 to %zu)", c->point,
                   plan.npoints, plan.npoints == 1 ? "" : "s", plan.npoints - 1);
    } else {
        out_buf_init(&b);
        report(&b, c, &plan, xs, url_notes);
        rc = fwrite(b.data, 1, b.len, out) == b.len && fflush(out) == 0 ? 0 : 2;
        out_buf_fini(&b);
        if (rc != 0) {
            err_set(e, "cannot write the report: %s", strerror(errno));
        }
    }
    for (size_t i = 0; i < plan.npoints; i++) {
        experiment_fini(&xs[i]);
    }
out:
    free(xs);
    sweep_plan_fini(&plan);
    json_free(doc);
    return rc;
}

int explain_main(int argc, char **argv, FILE *out, FILE *errf)
{
    struct explain_cli c = {0};
    struct out_buf url_notes;
    struct err e;
    char buf[ERR_FILE_MAX + ERR_PATH_MAX + ERR_MSG_MAX + 32];
    char *shown;
    int rc = parse_args(&c, argc, argv, errf);

    if (rc != 0) {
        return rc;
    }
    err_clear(&e);
    out_buf_init(&url_notes);
    rc = explain_file(&c, out, errf, &url_notes, &e);
    out_buf_fini(&url_notes);
    if (rc != 0 && e.msg[0]) { /* as run prints it: any connection string redacted */
        err_format(&e, buf, sizeof buf);
        shown = dburl_redact(buf);
        fprintf(errf, "poolsim: %s\n", shown);
        free(shown);
    }
    return rc;
}

/*
 * prisma.c - Prisma v4-v6's mobc pool (reference/domain.md §1.2, §1.3; see
 * prisma.h): fair permits, LIFO idle reuse, lazy opening, pool_timeout over
 * wait + connect (P2024), connect_timeout (P1001), socket_timeout (P1008),
 * idle lifetime checked at checkout or also by a periodic cleaner, and
 * quaint's statement cache (§1.2: a miss prepares first).
 */
#include "models/prisma.h"

#include <assert.h>
#include <inttypes.h>

#include "models/trace.h"

void prisma_config_default(struct prisma_config *cfg, int64_t app_cores)
{
    cfg->connection_limit = 2 * app_cores + 1; /* num_physical_cpus * 2 + 1 */
    cfg->pool_timeout = SIM_S(10);
    cfg->connect_timeout = SIM_S(5);
    cfg->max_idle_lifetime = SIM_S(300);
    cfg->socket_timeout = 0;
    cfg->idle_reaper = PRISMA_REAP_CHECKOUT;
    cfg->pgbouncer = false;
    cfg->statement_cache_size = 100; /* quaint's url.rs: let mut statement_cache_size = 100 */
}

int64_t prisma_cache_size(const struct prisma_config *cfg)
{
    return cfg->pgbouncer ? 0 : cfg->statement_cache_size;
}

int64_t prisma_open(const struct prisma *pool)
{
    return (int64_t)(list_count(&pool->connecting) + list_count(&pool->idle) +
                     list_count(&pool->busy));
}

static struct list *state_list(struct prisma *pool, enum prisma_conn_state s)
{
    switch (s) {
    case PRISMA_CONNECTING:
        return &pool->connecting;
    case PRISMA_IDLE:
        return &pool->idle;
    case PRISMA_BUSY:
        return &pool->busy;
    }
    return NULL;
}

/* Idle connections are pushed at the head: reuse is LIFO (mobc's Vec pop). */
static void conn_set_state(struct prisma *pool, struct prisma_conn *c, enum prisma_conn_state to)
{
    list_remove(state_list(pool, c->state), &c->node);
    c->state = to;
    if (to == PRISMA_IDLE) {
        list_push_head(&pool->idle, &c->node);
    } else {
        list_push_tail(state_list(pool, to), &c->node);
    }
}

static void conn_destroy(struct prisma *pool, struct prisma_conn *c)
{
    sim_cancel(pool->sim, &c->connect_timer);
    sim_cancel(pool->sim, &c->socket_timer);
    link_fini(&c->link);
    prep_map_fini(&c->cache);
    list_remove(state_list(pool, c->state), &c->node);
    slab_free(&pool->conns, c);
}

/* Idle for strictly longer than max_idle_connection_lifetime (0 = never). */
static bool idle_expired(const struct prisma *pool, const struct prisma_conn *c)
{
    sim_time limit = pool->cfg->max_idle_lifetime;

    return limit > 0 && sim_now(pool->sim) - c->idle_since > limit;
}

/* Schedule the cleaner's first grid tick after the oldest idle connection expires. */
static void reaper_arm(struct prisma *pool)
{
    struct list_node *n = list_last(&pool->idle);
    sim_time due, k;

    if (pool->cfg->idle_reaper != PRISMA_REAP_PERIODIC || pool->cfg->max_idle_lifetime == 0 ||
        n == NULL || sim_event_is_pending(&pool->reaper)) {
        return;
    }
    due = container_of(n, struct prisma_conn, node)->idle_since + pool->cfg->max_idle_lifetime;
    k = (due - pool->created) / PRISMA_REAPER_PERIOD_NS + 1;
    sim_schedule(pool->sim, &pool->reaper, pool->created + k * PRISMA_REAPER_PERIOD_NS);
}

/* A cleaner tick: close the expired idle connections, oldest first. */
static void on_reaper(struct sim *sim, struct sim_event *ev)
{
    struct prisma *pool = ev->ctx;
    struct list_node *n;

    (void)sim;
    while ((n = list_last(&pool->idle)) != NULL) {
        struct prisma_conn *c = container_of(n, struct prisma_conn, node);

        if (!idle_expired(pool, c)) {
            break;
        }
        link_close(&c->link);
        conn_destroy(pool, c);
    }
    reaper_arm(pool);
}

static void acquire(struct prisma *pool, struct pool_request *co);

/* A permit comes back: the first waiter takes it. */
static void permit_release(struct prisma *pool)
{
    struct list_node *n;

    assert(pool->permits > 0);
    pool->permits--;
    n = list_pop_head(&pool->waiters);
    if (n) {
        acquire(pool, container_of(n, struct pool_request, node));
    }
}

static void trace_checkout_end(struct prisma *pool, const struct pool_request *co,
                               struct prisma_conn *c, enum errkind err, sim_time wait_ns)
{
    sim_time now = sim_now(pool->sim);

    if (c) {
        trace_emit(pool->m->trace, co->trace_id, now, TRACE_POOL_WAIT,
                   "prisma-v6: got connection %" PRIu64 " after %.9g ms", c->base.serial,
                   sim_time_to_ms(wait_ns));
    } else {
        trace_emit(pool->m->trace, co->trace_id, now, TRACE_POOL_WAIT,
                   "prisma-v6: gave up after %.9g ms: %s", sim_time_to_ms(wait_ns),
                   errkind_name(err));
    }
}

/* The checkout ends: record its wait, then tell the requester. */
static void finish(struct prisma *pool, struct pool_request *co, struct prisma_conn *c,
                   enum errkind err)
{
    sim_time wait_ns = sim_now(pool->sim) - co->start;

    sim_cancel(pool->sim, &co->timer);
    co->opening = NULL;
    stat_acc_add(&pool->m->pool_wait, (double)wait_ns);
    hist_add(pool->m->h[SER_POOL_WAIT], wait_ns);
    if (trace_is_on(co->trace_id)) {
        trace_checkout_end(pool, co, c, err, wait_ns);
    }
    co->granted(co, c ? &c->base : NULL, err);
}

static void grant(struct prisma *pool, struct pool_request *co, struct prisma_conn *c)
{
    conn_set_state(pool, c, PRISMA_BUSY);
    c->co = NULL;
    c->link.trace_id = co->trace_id; /* it serves co's request now */
    finish(pool, co, c, ERRK_NONE);
}

/* A connect failed or was abandoned: drop it, free its permit, fail the checkout. */
static void open_failed(struct prisma *pool, struct prisma_conn *c, enum errkind err, bool withdraw)
{
    struct pool_request *co = c->co;

    if (withdraw) {
        link_withdraw(&c->link);
    }
    conn_destroy(pool, c);
    finish(pool, co, NULL, err);
    permit_release(pool);
}

/* One statement on the wire (s, or with NULL the one built in the link), under socket_timeout
 * (quaint's perform_io times each I/O). */
static void send_stmt(struct prisma_conn *c, const struct stmt *s)
{
    if (c->pool->cfg->socket_timeout > 0) {
        sim_schedule_in(c->pool->sim, &c->socket_timer, c->pool->cfg->socket_timeout);
    }
    link_send_up(&c->link, LINK_QUERY, s);
}

/* The Parse succeeded: cache the statement (evicting the least recent), then execute it. */
static void prepared(struct prisma_conn *c)
{
    uint64_t text, name;

    if (prep_map_size(&c->cache) >= (size_t)prisma_cache_size(c->pool->cfg) &&
        prep_map_pop_lru(&c->cache, &text, &name)) {
        c->exec.closes = true; /* the evicted Statement is dropped: its Close goes out first */
        c->exec.close_name = name;
    }
    prep_map_put(&c->cache, c->exec.text, c->exec.name);
    send_stmt(c, &c->exec);
}

static void on_conn_down(struct link *l, enum link_msg msg, enum errkind err)
{
    struct prisma_conn *c = l->owner;
    struct prisma *pool = c->pool;

    if (c->state == PRISMA_CONNECTING) {
        sim_cancel(pool->sim, &c->connect_timer);
        if (msg == LINK_CONNECTED) {
            grant(pool, c->co, c);
        } else {
            open_failed(pool, c, err, false);
        }
        return;
    }
    assert(c->state == PRISMA_BUSY && (msg == LINK_RESULT || msg == LINK_FATAL));
    sim_cancel(pool->sim, &c->socket_timer);
    if (c->parsing) {
        c->parsing = false;
        if (msg == LINK_RESULT && err == ERRK_NONE) {
            prepared(c);
            return;
        }
    }
    if (msg == LINK_RESULT) { /* an error ended the transaction (postgres.c) */
        c->in_tx = err == ERRK_NONE && c->link.stmt.in_tx_after;
    }
    c->on_result(c->user, msg, err);
}

/* No answer within socket_timeout: P1008; the app discards the connection. */
static void on_socket_timeout(struct sim *sim, struct sim_event *ev)
{
    struct prisma_conn *c = ev->ctx;

    (void)sim;
    c->on_result(c->user, LINK_FATAL, ERRK_P1008);
}

static void on_connect_timeout(struct sim *sim, struct sim_event *ev)
{
    struct prisma_conn *c = ev->ctx;

    (void)sim;
    open_failed(c->pool, c, ERRK_P1001, true);
}

static void open_new(struct prisma *pool, struct pool_request *co)
{
    struct prisma_conn *c = slab_alloc(&pool->conns);

    c->base.kind = CPOOL_PRISMA_V6;
    c->base.serial = ++pool->opened;
    c->pool = pool;
    c->state = PRISMA_CONNECTING;
    c->co = co;
    c->idle_since = 0;
    c->on_result = NULL;
    c->user = NULL;
    prep_map_init(&c->cache);
    c->parsing = c->in_tx = false;
    co->opening = c;
    list_node_init(&c->node);
    list_push_tail(&pool->connecting, &c->node);
    sim_event_init(&c->connect_timer, on_connect_timeout, c);
    sim_event_init(&c->socket_timer, on_socket_timeout, c);
    link_init(&c->link, pool->sim, pool->up, pool->rtt, pool->handshake_rtts, on_conn_down, c);
    c->link.trace_id = co->trace_id;
    if (trace_is_on(co->trace_id)) {
        trace_emit(pool->m->trace, co->trace_id, sim_now(pool->sim), TRACE_CONNECT,
                   "prisma-v6: opens connection %" PRIu64, c->base.serial);
    }
    if (pool->cfg->connect_timeout > 0) {
        sim_schedule_in(pool->sim, &c->connect_timer, pool->cfg->connect_timeout);
    }
    link_send_up(&c->link, LINK_CONNECT, NULL);
}

/*
 * co holds a permit from now on: pop the newest idle connection and use it,
 * or, if it expired, close it and open a new one (mobc pops once: older idle
 * connections wait for later checkouts or the cleaner); with none idle, open.
 */
static void acquire(struct prisma *pool, struct pool_request *co)
{
    struct list_node *n = list_first(&pool->idle);

    pool->permits++;
    if (n != NULL) {
        struct prisma_conn *c = container_of(n, struct prisma_conn, node);

        if (!idle_expired(pool, c)) {
            grant(pool, co, c);
            return;
        }
        link_close(&c->link);
        conn_destroy(pool, c);
    }
    open_new(pool, co);
}

static void on_pool_timeout(struct sim *sim, struct sim_event *ev)
{
    struct pool_request *co = ev->ctx;
    struct prisma *pool = co->pool;
    struct prisma_conn *c = co->opening;
    enum errkind err = pool_request_timeout_err(co, pool->cfg->pool_timeout, ERRK_P2024);

    (void)sim;
    if (c) {
        open_failed(pool, c, err, true);
        return;
    }
    list_remove(&pool->waiters, &co->node); /* still waiting for a permit */
    finish(pool, co, NULL, err);
}

void prisma_checkout(struct prisma *pool, struct pool_request *co, pool_granted_fn *granted)
{
    sim_time limit = pool_request_limit(co, pool->cfg->pool_timeout);

    co->pool = pool;
    co->start = sim_now(pool->sim);
    co->opening = NULL;
    co->granted = granted;
    list_node_init(&co->node);
    sim_event_init(&co->timer, on_pool_timeout, co);
    if (limit > 0) {
        sim_schedule_in(pool->sim, &co->timer, limit);
    }
    if (trace_is_on(co->trace_id)) {
        trace_emit(pool->m->trace, co->trace_id, co->start, TRACE_POOL_WAIT,
                   "prisma-v6: checkout; %" PRId64 " of %" PRId64
                   " connections in use; %zu waiting ahead",
                   pool->permits, pool->cfg->connection_limit, list_count(&pool->waiters));
    }
    if (pool->permits < pool->cfg->connection_limit) {
        acquire(pool, co);
    } else {
        list_push_tail(&pool->waiters, &co->node);
    }
}

/*
 * quaint's fetch_cached: an app statement that hits the cache is executed by
 * name; one that misses is prepared first under the process's next name.
 * Without a cache every statement goes unnamed.
 */
void prisma_query(struct prisma_conn *c, const struct stmt *s, pool_result_fn *on_result,
                  void *user)
{
    struct stmt *out = &c->link.stmt; /* built in place: link_send_up(NULL) sends it */
    uint64_t name;

    assert(c->state == PRISMA_BUSY && !c->parsing && s->kind == STMT_SIMPLE);
    c->on_result = on_result;
    c->user = user;
    if (s->text == 0 || prisma_cache_size(c->pool->cfg) == 0) {
        send_stmt(c, s);
        return;
    }
    if (prep_map_get(&c->cache, s->text, &name)) {
        *out = *s;
        out->kind = STMT_EXECUTE;
        out->name = name;
        send_stmt(c, NULL);
        return;
    }
    c->exec = *s;
    c->exec.kind = STMT_EXECUTE;
    c->exec.name = (*c->pool->names)++;
    c->parsing = true;
    *out = (struct stmt){.kind = STMT_PARSE, .text = s->text, .name = c->exec.name};
    out->in_tx_after = c->in_tx; /* a Parse leaves the transaction status as it was */
    send_stmt(c, NULL);
}

void prisma_release(struct prisma_conn *c)
{
    struct prisma *pool = c->pool;

    assert(c->state == PRISMA_BUSY && !c->parsing);
    if (trace_is_on(c->link.trace_id)) {
        trace_emit(pool->m->trace, c->link.trace_id, sim_now(pool->sim), TRACE_RELEASE,
                   "prisma-v6: connection %" PRIu64 " back to the pool", c->base.serial);
    }
    c->link.trace_id = 0;
    c->idle_since = sim_now(pool->sim);
    c->on_result = NULL;
    conn_set_state(pool, c, PRISMA_IDLE);
    reaper_arm(pool);
    permit_release(pool);
}

void prisma_discard(struct prisma_conn *c)
{
    struct prisma *pool = c->pool;

    assert(c->state == PRISMA_BUSY);
    if (trace_is_on(c->link.trace_id)) {
        trace_emit(pool->m->trace, c->link.trace_id, sim_now(pool->sim), TRACE_RELEASE,
                   "prisma-v6: connection %" PRIu64 " closed (broken)", c->base.serial);
    }
    link_close(&c->link);
    conn_destroy(pool, c);
    permit_release(pool);
}

void prisma_close_idle(struct prisma *pool)
{
    struct list_node *n;

    while ((n = list_first(&pool->idle)) != NULL) {
        struct prisma_conn *c = container_of(n, struct prisma_conn, node);

        link_close(&c->link);
        conn_destroy(pool, c);
    }
}

void prisma_init(struct prisma *pool, struct sim *sim, const struct prisma_config *cfg,
                 struct metrics *m, const struct upstream *up, sim_time rtt, int handshake_rtts)
{
    pool->cfg = cfg;
    pool->sim = sim;
    pool->m = m;
    pool->up = up;
    pool->rtt = rtt;
    pool->handshake_rtts = handshake_rtts;
    pool->created = sim_now(sim);
    pool->permits = 0;
    pool->opened = 0;
    pool->own_names = 0;
    pool->names = &pool->own_names;
    sim_event_init(&pool->reaper, on_reaper, pool);
    list_init(&pool->waiters);
    list_init(&pool->connecting);
    list_init(&pool->idle);
    list_init(&pool->busy);
    slab_init(&pool->conns, sizeof(struct prisma_conn));
}

void prisma_share_names(struct prisma *pool, uint64_t *counter)
{
    pool->names = counter;
}

/* Memory only: pending events die with the engine (see prisma.h). */
void prisma_fini(struct prisma *pool)
{
    struct list *lists[] = {&pool->connecting, &pool->idle, &pool->busy};

    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        for (struct list_node *n = list_first(lists[i]); n; n = list_next(lists[i], n)) {
            prep_map_fini(&container_of(n, struct prisma_conn, node)->cache);
        }
    }
    slab_fini(&pool->conns);
}

/* Idle connections run from the newest release to the oldest; the cleaner waits for them. */
static bool idle_ordered(const struct prisma *pool)
{
    struct list_node *n = list_first(&pool->idle);
    sim_time prev = SIM_TIME_MAX;

    for (; n; n = list_next(&pool->idle, n)) {
        const struct prisma_conn *c = container_of(n, struct prisma_conn, node);

        if (c->state != PRISMA_IDLE || c->idle_since > prev) {
            return false;
        }
        prev = c->idle_since;
    }
    return pool->cfg->idle_reaper != PRISMA_REAP_PERIODIC || pool->cfg->max_idle_lifetime == 0 ||
           list_is_empty(&pool->idle) || sim_event_is_pending(&pool->reaper);
}

/* Every statement cache is a sound table within its capacity; a Parse is in flight only if busy. */
static bool caches_ok(const struct prisma *pool)
{
    const struct list *lists[] = {&pool->connecting, &pool->idle, &pool->busy};
    size_t cap = (size_t)prisma_cache_size(pool->cfg);

    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        for (struct list_node *n = list_first(lists[i]); n; n = list_next(lists[i], n)) {
            const struct prisma_conn *c = container_of(n, struct prisma_conn, node);

            if (prep_map_size(&c->cache) > cap || !prep_map_check(&c->cache) ||
                (c->parsing && c->state != PRISMA_BUSY)) {
                return false;
            }
        }
    }
    return true;
}

bool prisma_check(const struct prisma *pool)
{
    return caches_ok(pool) && pool->permits <= pool->cfg->connection_limit &&
           (int64_t)(list_count(&pool->connecting) + list_count(&pool->busy)) <= pool->permits &&
           (list_is_empty(&pool->waiters) || pool->permits == pool->cfg->connection_limit) &&
           idle_ordered(pool);
}

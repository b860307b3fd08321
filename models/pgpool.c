/*
 * pgpool.c - node-postgres' pg.Pool (reference/domain.md §5; see pgpool.h),
 * following packages/pg-pool/index.js: connect() queues when the pool is
 * full or has idle clients, _pulseQueue serves one waiter per call (FIFO
 * waiter, LIFO idle client, else a new client if not full), newClient
 * connects in parallel under its own timer, _release arms the idle timer.
 * connect() pulses on process.nextTick when it queued beside idle clients:
 * here a zero-delay event that runs every pulse owed, in order (Node drains
 * its nextTick queue the same way), after the code that queued them.
 * Every change of state is finished before a checkout's callback runs.
 */
#include "models/pgpool.h"

#include <assert.h>
#include <inttypes.h>

#include "models/trace.h"

void pgpool_config_default(struct pgpool_config *cfg)
{
    cfg->max = 10;
    cfg->connection_timeout = 0;
    cfg->idle_timeout = SIM_MS(10000);
}

int64_t pgpool_open(const struct pgpool *pool)
{
    return (int64_t)(list_count(&pool->connecting) + list_count(&pool->idle) +
                     list_count(&pool->busy));
}

static bool is_full(const struct pgpool *pool)
{
    return pgpool_open(pool) >= pool->cfg->max;
}

static struct list *state_list(struct pgpool *pool, enum pgpool_conn_state s)
{
    switch (s) {
    case PGPOOL_CONNECTING:
        return &pool->connecting;
    case PGPOOL_IDLE:
        return &pool->idle;
    case PGPOOL_BUSY:
        return &pool->busy;
    }
    return NULL;
}

/* Idle clients are pushed at the head and popped there: _idle.push / _idle.pop. */
static void conn_set_state(struct pgpool *pool, struct pgpool_conn *c, enum pgpool_conn_state to)
{
    list_remove(state_list(pool, c->state), &c->node);
    c->state = to;
    if (to == PGPOOL_IDLE) {
        list_push_head(&pool->idle, &c->node);
    } else {
        list_push_tail(state_list(pool, to), &c->node);
    }
}

static void conn_destroy(struct pgpool *pool, struct pgpool_conn *c)
{
    sim_cancel(pool->sim, &c->connect_timer);
    sim_cancel(pool->sim, &c->idle_timer);
    link_fini(&c->link);
    list_remove(state_list(pool, c->state), &c->node);
    slab_free(&pool->conns, c);
}

static void trace_checkout_end(struct pgpool *pool, const struct pool_request *co,
                               struct pgpool_conn *c, enum errkind err, sim_time wait_ns)
{
    sim_time now = sim_now(pool->sim);

    if (c) {
        trace_emit(pool->m->trace, co->trace_id, now, TRACE_POOL_WAIT,
                   "pg-pool: got client %" PRIu64 " after %.9g ms", c->base.serial,
                   sim_time_to_ms(wait_ns));
    } else {
        trace_emit(pool->m->trace, co->trace_id, now, TRACE_POOL_WAIT,
                   "pg-pool: gave up after %.9g ms: %s", sim_time_to_ms(wait_ns),
                   errkind_name(err));
    }
}

/* The checkout ends: record its wait, then tell the requester. */
static void finish(struct pgpool *pool, struct pool_request *co, struct pgpool_conn *c,
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

static void grant(struct pgpool *pool, struct pool_request *co, struct pgpool_conn *c)
{
    conn_set_state(pool, c, PGPOOL_BUSY);
    c->co = NULL;
    c->failed = false;
    c->link.trace_id = co->trace_id; /* it serves co's request now */
    finish(pool, co, c, ERRK_NONE);
}

static void new_client(struct pgpool *pool, struct pool_request *co);

/* _pulseQueue: serve the first waiter, from the newest idle client or a new one. */
static void pulse(struct pgpool *pool)
{
    struct list_node *n = list_first(&pool->waiters);
    struct list_node *idle = list_first(&pool->idle);
    struct pool_request *co;

    if (n == NULL || (idle == NULL && is_full(pool))) {
        return;
    }
    list_remove(&pool->waiters, n);
    co = container_of(n, struct pool_request, node);
    if (idle != NULL) {
        struct pgpool_conn *c = container_of(idle, struct pgpool_conn, node);

        sim_cancel(pool->sim, &c->idle_timer);
        grant(pool, co, c);
        return;
    }
    new_client(pool, co); /* its queue timer keeps running */
}

/* process.nextTick(() => this._pulseQueue()) */
static void pulse_soon(struct pgpool *pool)
{
    pool->ticks++;
    if (!sim_event_is_pending(&pool->tick)) {
        sim_schedule_in(pool->sim, &pool->tick, 0);
    }
}

static void on_tick(struct sim *sim, struct sim_event *ev)
{
    struct pgpool *pool = ev->ctx;

    (void)sim;
    while (pool->ticks > 0) {
        pool->ticks--;
        pulse(pool);
    }
    sim_cancel(pool->sim, &pool->tick); /* pulses owed meanwhile have run in this loop */
}

/* _remove: close the client, then serve the queue (a slot is free). */
static void remove_client(struct pgpool *pool, struct pgpool_conn *c)
{
    link_close(&c->link);
    conn_destroy(pool, c);
    pulse(pool);
}

static void on_idle_timeout(struct sim *sim, struct sim_event *ev)
{
    struct pgpool_conn *c = ev->ctx;

    (void)sim;
    remove_client(c->pool, c);
}

/* _release: back to the idle clients (idle timer armed), then serve the queue. */
static void make_idle(struct pgpool *pool, struct pgpool_conn *c)
{
    c->link.trace_id = 0;
    c->on_result = NULL;
    c->user = NULL;
    conn_set_state(pool, c, PGPOOL_IDLE);
    if (pool->cfg->idle_timeout > 0) {
        sim_schedule_in(pool->sim, &c->idle_timer, pool->cfg->idle_timeout);
    }
    pulse(pool);
}

/* The connect failed or timed out: the client goes, the queue moves, then its checkout fails. */
static void connect_failed(struct pgpool *pool, struct pgpool_conn *c, enum errkind err,
                           bool withdraw)
{
    struct pool_request *co = c->co;

    if (withdraw) {
        link_withdraw(&c->link);
    }
    conn_destroy(pool, c);
    pulse(pool);
    if (co != NULL) {
        finish(pool, co, NULL, err);
    }
}

static void on_conn_down(struct link *l, enum link_msg msg, enum errkind err)
{
    struct pgpool_conn *c = l->owner;
    struct pgpool *pool = c->pool;

    if (c->state == PGPOOL_CONNECTING) {
        sim_cancel(pool->sim, &c->connect_timer);
        if (msg != LINK_CONNECTED) {
            connect_failed(pool, c, err, false);
        } else if (c->co != NULL) {
            grant(pool, c->co, c);
        } else {
            make_idle(pool, c); /* its checkout timed out in the queue: client.release() */
        }
        return;
    }
    assert(c->state == PGPOOL_BUSY && (msg == LINK_RESULT || msg == LINK_FATAL));
    c->failed = err != ERRK_NONE;
    c->on_result(c->user, msg, err);
}

static void on_connect_timeout(struct sim *sim, struct sim_event *ev)
{
    struct pgpool_conn *c = ev->ctx;

    (void)sim;
    connect_failed(c->pool, c, ERRK_PG_CONNECTION_TIMEOUT, true);
}

/* newClient: counts against max from now on; connects in parallel with any others. */
static void new_client(struct pgpool *pool, struct pool_request *co)
{
    struct pgpool_conn *c = slab_alloc(&pool->conns);

    c->base.kind = CPOOL_PG_POOL;
    c->base.serial = ++pool->opened;
    c->pool = pool;
    c->state = PGPOOL_CONNECTING;
    c->co = co;
    c->failed = false;
    c->on_result = NULL;
    c->user = NULL;
    co->opening = c;
    list_node_init(&c->node);
    list_push_tail(&pool->connecting, &c->node);
    sim_event_init(&c->connect_timer, on_connect_timeout, c);
    sim_event_init(&c->idle_timer, on_idle_timeout, c);
    link_init(&c->link, pool->sim, pool->up, pool->rtt, pool->handshake_rtts, on_conn_down, c);
    c->link.trace_id = co->trace_id;
    if (trace_is_on(co->trace_id)) {
        trace_emit(pool->m->trace, co->trace_id, sim_now(pool->sim), TRACE_CONNECT,
                   "pg-pool: opens client %" PRIu64, c->base.serial);
    }
    if (pool->cfg->connection_timeout > 0) {
        sim_schedule_in(pool->sim, &c->connect_timer, pool->cfg->connection_timeout);
    }
    link_send_up(&c->link, LINK_CONNECT, NULL);
}

/* The queue timer: the waiter leaves the queue, or leaves its client to connect alone. */
static void on_queue_timeout(struct sim *sim, struct sim_event *ev)
{
    struct pool_request *co = ev->ctx;
    struct pgpool *pool = co->pool;
    struct pgpool_conn *c = co->opening;

    (void)sim;
    if (c != NULL) {
        c->co = NULL;
    } else {
        list_remove(&pool->waiters, &co->node);
    }
    finish(pool, co, NULL, ERRK_PG_POOL_TIMEOUT);
}

void pgpool_checkout(struct pgpool *pool, struct pool_request *co, pool_granted_fn *granted)
{
    co->pool = pool;
    co->start = sim_now(pool->sim);
    co->opening = NULL;
    co->granted = granted;
    list_node_init(&co->node);
    sim_event_init(&co->timer, on_queue_timeout, co);
    if (trace_is_on(co->trace_id)) {
        trace_emit(pool->m->trace, co->trace_id, co->start, TRACE_POOL_WAIT,
                   "pg-pool: checkout; %" PRId64 " of %" PRId64
                   " clients open; %zu idle; %zu waiting ahead",
                   pgpool_open(pool), pool->cfg->max, list_count(&pool->idle),
                   list_count(&pool->waiters));
    }
    if (!is_full(pool) && list_is_empty(&pool->idle)) {
        new_client(pool, co);
        return;
    }
    if (pool->cfg->connection_timeout > 0) {
        sim_schedule_in(pool->sim, &co->timer, pool->cfg->connection_timeout);
    }
    list_push_tail(&pool->waiters, &co->node);
    if (!list_is_empty(&pool->idle)) {
        pulse_soon(pool);
    }
}

void pgpool_query(struct pgpool_conn *c, const struct stmt *s, pool_result_fn *on_result,
                  void *user)
{
    assert(c->state == PGPOOL_BUSY);
    c->on_result = on_result;
    c->user = user;
    link_send_up(&c->link, LINK_QUERY, s);
}

static void trace_release(const struct pgpool_conn *c, const char *how)
{
    struct pgpool *pool = c->pool;

    if (trace_is_on(c->link.trace_id)) {
        trace_emit(pool->m->trace, c->link.trace_id, sim_now(pool->sim), TRACE_RELEASE,
                   "pg-pool: client %" PRIu64 " %s", c->base.serial, how);
    }
}

void pgpool_release(struct pgpool_conn *c)
{
    assert(c->state == PGPOOL_BUSY);
    trace_release(c, c->failed ? "released with an error: closed" : "back to the pool");
    if (c->failed) {
        remove_client(c->pool, c); /* client.release(err) */
        return;
    }
    make_idle(c->pool, c);
}

void pgpool_discard(struct pgpool_conn *c)
{
    assert(c->state == PGPOOL_BUSY);
    trace_release(c, "closed (broken)");
    remove_client(c->pool, c);
}

void pgpool_close_idle(struct pgpool *pool)
{
    struct list_node *n;

    while ((n = list_first(&pool->idle)) != NULL) {
        struct pgpool_conn *c = container_of(n, struct pgpool_conn, node);

        link_close(&c->link);
        conn_destroy(pool, c);
    }
}

void pgpool_init(struct pgpool *pool, struct sim *sim, const struct pgpool_config *cfg,
                 struct metrics *m, const struct upstream *up, sim_time rtt, int handshake_rtts)
{
    pool->cfg = cfg;
    pool->sim = sim;
    pool->m = m;
    pool->up = up;
    pool->rtt = rtt;
    pool->handshake_rtts = handshake_rtts;
    pool->opened = 0;
    pool->ticks = 0;
    sim_event_init(&pool->tick, on_tick, pool);
    list_init(&pool->waiters);
    list_init(&pool->connecting);
    list_init(&pool->idle);
    list_init(&pool->busy);
    slab_init(&pool->conns, sizeof(struct pgpool_conn));
}

/* Memory only: pending events die with the engine (see pgpool.h). */
void pgpool_fini(struct pgpool *pool)
{
    slab_fini(&pool->conns);
}

/* Each client of l is in state st; only a connect has a checkout and a connection timer. */
static bool list_ok(const struct pgpool *pool, const struct list *l, enum pgpool_conn_state st)
{
    for (struct list_node *n = list_first(l); n; n = list_next(l, n)) {
        const struct pgpool_conn *c = container_of(n, struct pgpool_conn, node);
        bool connecting = st == PGPOOL_CONNECTING, idle = st == PGPOOL_IDLE;

        if (c->state != st || (c->co != NULL && !connecting) ||
            (sim_event_is_pending(&c->connect_timer) && !connecting) ||
            sim_event_is_pending(&c->idle_timer) != (idle && pool->cfg->idle_timeout > 0)) {
            return false;
        }
    }
    return true;
}

bool pgpool_check(const struct pgpool *pool)
{
    return pgpool_open(pool) <= pool->cfg->max &&
           (list_is_empty(&pool->waiters) || (list_is_empty(&pool->idle) && is_full(pool)) ||
            pool->ticks > 0) &&
           (pool->ticks == 0) == !sim_event_is_pending(&pool->tick) &&
           list_ok(pool, &pool->connecting, PGPOOL_CONNECTING) &&
           list_ok(pool, &pool->idle, PGPOOL_IDLE) && list_ok(pool, &pool->busy, PGPOOL_BUSY);
}

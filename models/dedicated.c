/*
 * dedicated.c - one persistent connection per user (see dedicated.h).
 * Every change of state is finished before a checkout's callback runs.
 */
#include "models/dedicated.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "models/trace.h"
#include "sim/xalloc.h"

int64_t ded_open(const struct dedicated *d)
{
    return (int64_t)(list_count(&d->connecting) + list_count(&d->idle) + list_count(&d->busy));
}

static struct list *state_list(struct dedicated *d, enum ded_conn_state s)
{
    switch (s) {
    case DED_CLOSED:
        return &d->closed;
    case DED_CONNECTING:
        return &d->connecting;
    case DED_IDLE:
        return &d->idle;
    case DED_BUSY:
        return &d->busy;
    }
    return NULL;
}

static void conn_set_state(struct dedicated *d, struct ded_conn *c, enum ded_conn_state to)
{
    list_remove(state_list(d, c->state), &c->node);
    c->state = to;
    list_push_tail(state_list(d, to), &c->node);
}

static void trace_checkout_end(struct dedicated *d, const struct pool_request *co,
                               const struct ded_conn *c, enum errkind err, sim_time wait_ns)
{
    sim_time now = sim_now(d->sim);

    if (c) {
        trace_emit(d->m->trace, co->trace_id, now, TRACE_POOL_WAIT,
                   "dedicated: got connection %" PRIu64 " after %.9g ms", c->base.serial,
                   sim_time_to_ms(wait_ns));
    } else {
        trace_emit(d->m->trace, co->trace_id, now, TRACE_POOL_WAIT,
                   "dedicated: failed after %.9g ms: %s", sim_time_to_ms(wait_ns),
                   errkind_name(err));
    }
}

/* The checkout ends: record its wait, then tell the requester. */
static void finish(struct dedicated *d, struct pool_request *co, struct ded_conn *c,
                   enum errkind err)
{
    sim_time wait_ns = sim_now(d->sim) - co->start;

    co->opening = NULL;
    stat_acc_add(&d->m->pool_wait, (double)wait_ns);
    hist_add(d->m->h[SER_POOL_WAIT], wait_ns);
    if (c) {
        c->link.trace_id = co->trace_id; /* it serves co's request now */
    }
    if (trace_is_on(co->trace_id)) {
        trace_checkout_end(d, co, c, err, wait_ns);
    }
    co->granted(co, c ? &c->base : NULL, err);
}

static void on_conn_down(struct link *l, enum link_msg msg, enum errkind err);

/* Open the user's closed connection for its first waiter. */
static void open_for(struct dedicated *d, struct ded_conn *c, struct pool_request *co)
{
    c->co = co;
    co->opening = c;
    conn_set_state(d, c, DED_CONNECTING);
    link_init(&c->link, d->sim, d->up, d->rtt, d->handshake_rtts, on_conn_down, c);
    c->link.trace_id = co->trace_id;
    if (trace_is_on(co->trace_id)) {
        trace_emit(d->m->trace, co->trace_id, sim_now(d->sim), TRACE_CONNECT,
                   "dedicated: opens connection %" PRIu64 " of user %" PRIu64, c->base.serial,
                   c->owner);
    }
    link_send_up(&c->link, LINK_CONNECT, NULL);
}

/* The connection is free (idle or closed): its owner's first waiter takes it. */
static void serve(struct dedicated *d, struct ded_conn *c)
{
    struct list_node *n;
    struct pool_request *co;

    if (c->state == DED_CONNECTING || c->state == DED_BUSY ||
        (n = list_pop_head(&c->waiters)) == NULL) {
        return;
    }
    co = container_of(n, struct pool_request, node);
    if (c->state == DED_CLOSED) {
        open_for(d, c, co);
        return;
    }
    conn_set_state(d, c, DED_BUSY);
    finish(d, co, c, ERRK_NONE);
}

/* The connection is gone (refused or closed by the server): next waiter reopens it. */
static void conn_lost(struct dedicated *d, struct ded_conn *c)
{
    link_fini(&c->link);
    c->on_result = NULL;
    c->user = NULL;
    conn_set_state(d, c, DED_CLOSED);
}

static void on_conn_down(struct link *l, enum link_msg msg, enum errkind err)
{
    struct ded_conn *c = l->owner;
    struct dedicated *d = c->pool;
    struct pool_request *co = c->co;

    if (c->state == DED_CONNECTING) {
        c->co = NULL;
        if (msg == LINK_CONNECTED) {
            conn_set_state(d, c, DED_BUSY);
            finish(d, co, c, ERRK_NONE);
            return;
        }
        conn_lost(d, c);
        finish(d, co, NULL, err);
        serve(d, c);
        return;
    }
    assert(c->state == DED_BUSY && (msg == LINK_RESULT || msg == LINK_FATAL));
    c->on_result(c->user, msg, err);
}

/* The user's connection object, created (closed) at its first checkout. */
static struct ded_conn *user_conn(struct dedicated *d, uint64_t user)
{
    struct ded_conn *c;

    if (user >= d->nusers) {
        size_t n = d->nusers ? d->nusers : 16;

        while (n <= user) {
            n *= 2;
        }
        d->by_user = xrealloc(d->by_user, n * sizeof *d->by_user);
        memset(d->by_user + d->nusers, 0, (n - d->nusers) * sizeof *d->by_user);
        d->nusers = n;
    }
    if ((c = d->by_user[user]) == NULL) {
        c = d->by_user[user] = slab_alloc(&d->conns);
        c->base.kind = CPOOL_DEDICATED;
        c->base.serial = ++d->opened;
        c->pool = d;
        c->owner = user;
        c->state = DED_CLOSED;
        c->co = NULL;
        c->on_result = NULL;
        c->user = NULL;
        list_init(&c->waiters);
        list_node_init(&c->node);
        list_push_tail(&d->closed, &c->node);
    }
    return c;
}

void ded_checkout(struct dedicated *d, struct pool_request *co, pool_granted_fn *granted)
{
    struct ded_conn *c = user_conn(d, co->user);

    co->pool = d;
    co->start = sim_now(d->sim);
    co->opening = NULL;
    co->granted = granted;
    list_node_init(&co->node);
    sim_event_init(&co->timer, NULL, co); /* never scheduled: nothing times out */
    if (trace_is_on(co->trace_id)) {
        trace_emit(d->m->trace, co->trace_id, co->start, TRACE_POOL_WAIT,
                   "dedicated: checkout of user %" PRIu64 "'s connection %" PRIu64
                   "; %zu of its calls waiting ahead",
                   co->user, c->base.serial, list_count(&c->waiters) + (c->state == DED_BUSY));
    }
    list_push_tail(&c->waiters, &co->node);
    serve(d, c);
}

void ded_query(struct ded_conn *c, const struct stmt *s, pool_result_fn *on_result, void *user)
{
    assert(c->state == DED_BUSY);
    c->on_result = on_result;
    c->user = user;
    link_send_up(&c->link, LINK_QUERY, s);
}

static void trace_release(const struct ded_conn *c, const char *how)
{
    struct dedicated *d = c->pool;

    if (trace_is_on(c->link.trace_id)) {
        trace_emit(d->m->trace, c->link.trace_id, sim_now(d->sim), TRACE_RELEASE,
                   "dedicated: connection %" PRIu64 " %s", c->base.serial, how);
    }
}

void ded_release(struct ded_conn *c)
{
    assert(c->state == DED_BUSY);
    trace_release(c, "back to its user");
    c->link.trace_id = 0;
    c->on_result = NULL;
    c->user = NULL;
    conn_set_state(c->pool, c, DED_IDLE);
    serve(c->pool, c);
}

void ded_discard(struct ded_conn *c)
{
    assert(c->state == DED_BUSY);
    trace_release(c, "closed (broken)");
    link_close(&c->link);
    conn_lost(c->pool, c);
    serve(c->pool, c);
}

void ded_close_idle(struct dedicated *d)
{
    struct list_node *n;

    while ((n = list_first(&d->idle)) != NULL) {
        struct ded_conn *c = container_of(n, struct ded_conn, node);

        link_close(&c->link);
        conn_lost(d, c);
    }
}

void ded_init(struct dedicated *d, struct sim *sim, struct metrics *m, const struct upstream *up,
              sim_time rtt, int handshake_rtts)
{
    d->sim = sim;
    d->m = m;
    d->up = up;
    d->rtt = rtt;
    d->handshake_rtts = handshake_rtts;
    d->by_user = NULL;
    d->nusers = 0;
    d->opened = 0;
    list_init(&d->closed);
    list_init(&d->connecting);
    list_init(&d->idle);
    list_init(&d->busy);
    slab_init(&d->conns, sizeof(struct ded_conn));
}

/* Memory only: pending events die with the engine (see dedicated.h). */
void ded_fini(struct dedicated *d)
{
    free(d->by_user);
    slab_fini(&d->conns);
}

/* Waiters only behind a connection that is opening or in use; nobody else's connection. */
static bool list_ok(const struct dedicated *d, const struct list *l, enum ded_conn_state s)
{
    for (struct list_node *n = list_first(l); n; n = list_next(l, n)) {
        const struct ded_conn *c = container_of(n, struct ded_conn, node);

        if (c->state != s || c->owner >= d->nusers || d->by_user[c->owner] != c ||
            ((s == DED_CLOSED || s == DED_IDLE) && !list_is_empty(&c->waiters)) ||
            (s == DED_CONNECTING) != (c->co != NULL)) {
            return false;
        }
    }
    return true;
}

bool ded_check(const struct dedicated *d)
{
    return list_ok(d, &d->closed, DED_CLOSED) && list_ok(d, &d->connecting, DED_CONNECTING) &&
           list_ok(d, &d->idle, DED_IDLE) && list_ok(d, &d->busy, DED_BUSY) &&
           list_count(&d->closed) + (size_t)ded_open(d) == d->opened;
}

/*
 * app.c - instances, pages, calls and operations of the application (see
 * app.h; reference/domain.md §1.4-§1.6).
 *
 * Three kinds of objects, each in a slab:
 * - an instance (a process, or a serverless instance) is in exactly one
 *   list of its state: starting, ready or frozen; a serverless one with a
 *   free slot is also in free_slots.  Invariant: calls waiting for a slot
 *   exist only while no slot is free and max_instances are warm.
 * - a call is answered once (its caller sees success, an error or the
 *   request timeout) and lives until its work has ended: its final outcome
 *   is known (state DONE) and none of its tasks is alive;
 * - a task runs one operation other than parallel for one attempt of its
 *   call.  It settles once (the caller's code sees the operation's outcome)
 *   and lives until it holds no connection and no timer.  A task of an
 *   attempt that already failed runs on, but its outcome is ignored.
 * Handlers finish their own state change before they call into a pool: a
 * zero-length hop answers synchronously.
 */
#include "models/app.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_rng.h>

#include "models/trace.h"
#include "sim/rng.h"
#include "sim/xalloc.h"

/* The random streams of one endpoint. */
struct app_streams {
    gsl_rng **main;         /* per leaf operation: server times, or app time */
    gsl_rng **think;        /* per leaf operation: think times (interactive), else NULL */
    gsl_rng *cache;         /* hit or miss */
    gsl_rng *cache_latency; /* a hit's answer time */
    gsl_rng *jitter;        /* retry jitters */
};

enum inst_state { INST_STARTING, INST_READY, INST_FROZEN };

struct instance {
    struct app *app; /* owner (borrowed) */
    enum inst_state state;
    struct list_node node;      /* in the list of its state */
    struct list_node free_node; /* in app->free_slots while a slot is free (serverless) */
    int64_t busy;               /* slots in use: calls assigned and not ended */
    struct list waiting;        /* calls waiting for its cold start */
    struct sim_event timer;     /* end of the cold start, or of the idle timeout */
    struct cpool *pools;        /* app.clients pools (owned) */
    uint64_t stmt_names;        /* the process's prepared-statement name counter (prisma.h) */
};

struct page {
    sim_time start;         /* ns */
    size_t outstanding;     /* calls not answered yet */
    bool failed;            /* a call failed */
    uint64_t user;          /* who loaded it */
    app_page_done_fn *done; /* told when the page ends (may be NULL) */
    void *ctx;              /* its argument */
};

struct call;

struct task {
    struct call *call; /* borrowed: the call lives while its tasks do */
    const struct op_config *op;
    const sim_time *times; /* its drawn times: server times, then think times (ns) */
    uint32_t attempt;      /* the call's attempt it belongs to */
    struct pool_request co;
    struct pool_conn *conn;  /* held connection, or NULL */
    size_t pos, len;         /* script position and length */
    size_t head;             /* statements before the operation's own (BEGIN, DEALLOCATE ALL) */
    bool wrapped;            /* BEGIN ... COMMIT around them */
    bool sending;            /* a statement is in flight on conn */
    bool settled;            /* the caller's code has the outcome */
    bool expired;            /* interactive: the transaction outlived its timeout */
    bool rolling_back;       /* the ROLLBACK is in flight */
    struct sim_event timer;  /* app time, or think time */
    struct sim_event expiry; /* interactive: the transaction's timeout */
};

enum call_state {
    CALL_QUEUED,   /* waiting for a serverless slot */
    CALL_STARTING, /* its instance is starting */
    CALL_RUNNING,  /* an attempt runs, or a cache hit's answer is on its way */
    CALL_BACKOFF,  /* waiting to retry */
    CALL_DONE,     /* final outcome known; tasks of failed attempts may run on */
};

struct call {
    struct app *app;
    struct page *page;
    const struct endpoint_config *ep;
    size_t ep_index;
    struct instance *inst;  /* serving instance; NULL while queued */
    struct cpool *pool;     /* the client pool its operations use */
    struct cpool *own_pool; /* connection_per_request: its own pool (owned), else NULL */
    enum call_state state;
    struct list_node node;    /* in app->queued or in its instance's waiting list */
    sim_time start;           /* ns */
    uint64_t trace_id;        /* its number in the trace (trace.h); 0 = not traced */
    uint32_t tries;           /* attempts started: the number of the current one */
    size_t op;                /* current operation of the current attempt */
    size_t pending;           /* its tasks not settled yet */
    size_t tasks;             /* tasks alive, of every attempt */
    bool own_busy;            /* own is in use */
    struct task own;          /* a task kept in the call: most calls need no other */
    bool answered;            /* the caller has its answer */
    bool hit;                 /* answered from the cache */
    struct sim_event timer;   /* end of the backoff, or the cache hit's answer (set when used) */
    struct sim_event timeout; /* request_timeout */
    sim_time times[];         /* ep->ndraws operation times, attempts-1 jitters, cache latency */
};

/* A call's own pool (connection_per_request), in the list of live ones for teardown. */
struct own_pool {
    struct list_node node; /* in app->own_live */
    struct cpool pool;
};

/* c->times: ep->ndraws operation times, then this many retry jitters, then the cache latency. */
static size_t retry_jitters(const struct app *a)
{
    return (size_t)a->x->app.retry.attempts - 1;
}

static bool serverless(const struct app *a)
{
    return a->x->app.serverless.enabled;
}

/* pgbouncer=true: every single operation runs in a transaction (domain.md §1.5.1). */
static bool pgbouncer_mode(const struct app *a)
{
    return a->x->client_pool.prisma.pgbouncer;
}

/* ---- instances ---- */

static struct list *inst_list(struct app *a, enum inst_state s)
{
    switch (s) {
    case INST_STARTING:
        return &a->starting;
    case INST_READY:
        return &a->ready;
    case INST_FROZEN:
        return &a->frozen;
    }
    return NULL;
}

static void inst_set_state(struct app *a, struct instance *inst, enum inst_state to)
{
    sim_time now = sim_now(a->sim);

    if (to == INST_FROZEN) {
        stat_level_add(&a->m->instances, now, -1);
    }
    list_remove(inst_list(a, inst->state), &inst->node);
    inst->state = to;
    list_push_tail(inst_list(a, to), &inst->node);
}

static void on_instance_timer(struct sim *sim, struct sim_event *ev);

/* One process, one query-engine library: its PrismaClients share a statement-name counter. */
static void share_names(struct cpool *cp, struct instance *inst)
{
    if (cp->kind == CPOOL_PRISMA_V6) {
        prisma_share_names(&cp->u.prisma, &inst->stmt_names);
    }
}

static struct instance *instance_new(struct app *a, enum inst_state state)
{
    struct instance *inst = slab_alloc(&a->instances);
    int64_t clients = a->x->app.clients;

    inst->app = a;
    inst->state = state;
    inst->busy = 0;
    list_node_init(&inst->node);
    list_node_init(&inst->free_node);
    list_init(&inst->waiting);
    list_push_tail(inst_list(a, state), &inst->node);
    sim_event_init(&inst->timer, on_instance_timer, inst);
    inst->pools = xcalloc((size_t)clients, sizeof *inst->pools);
    inst->stmt_names = 0;
    for (int64_t i = 0; i < clients; i++) {
        cpool_init(&inst->pools[i], a->sim, &a->x->client_pool, a->m, a->up, a->rtt,
                   (int)a->x->net.handshake_rtts);
        share_names(&inst->pools[i], inst);
    }
    stat_level_add(&a->m->instances, sim_now(a->sim), 1);
    return inst;
}

static int64_t instance_connections(const struct instance *inst)
{
    int64_t n = 0;

    for (int64_t i = 0; i < inst->app->x->app.clients; i++) {
        n += cpool_open(&inst->pools[i]);
    }
    return n;
}

static void instance_free(struct app *a, struct instance *inst)
{
    for (int64_t i = 0; i < a->x->app.clients; i++) {
        cpool_fini(&inst->pools[i]);
    }
    free(inst->pools);
    slab_free(&a->instances, inst);
}

/* A new serverless instance: its calls wait for the cold start. */
static struct instance *instance_start(struct app *a)
{
    const struct serverless_config *cfg = &a->x->app.serverless;
    struct instance *inst = instance_new(a, INST_STARTING);
    sim_time cold = cfg->cold_start.value;

    if (!dist_is_const(&cfg->cold_start)) {
        gsl_rng *r = rng_new(a->seed, a->rep, "serverless.cold_start", a->instances_started);

        cold = dist_sample(&cfg->cold_start, r);
        rng_free(r);
    }
    a->instances_started++;
    a->m->cold_starts++;
    list_push_head(&a->free_slots, &inst->free_node);
    sim_schedule_in(a->sim, &inst->timer, cold);
    return inst;
}

/*
 * Idle for idle_timeout: the platform freezes the instance.  Frozen, it
 * keeps its connections open (domain.md §1.6.1); without `freeze` it shuts
 * down and closes them.  An instance with no connection left is forgotten.
 */
static void instance_freeze(struct app *a, struct instance *inst)
{
    assert(inst->busy == 0);
    list_remove(&a->free_slots, &inst->free_node);
    inst_set_state(a, inst, INST_FROZEN);
    if (!a->x->app.serverless.freeze) {
        for (int64_t i = 0; i < a->x->app.clients; i++) {
            cpool_close_idle(&inst->pools[i]);
        }
    }
    if (instance_connections(inst) == 0) {
        list_remove(&a->frozen, &inst->node);
        instance_free(a, inst);
    }
}

static void call_begin(struct call *c);

static void on_instance_timer(struct sim *sim, struct sim_event *ev)
{
    struct instance *inst = ev->ctx;
    struct app *a = inst->app;
    struct list_node *n;

    (void)sim;
    if (inst->state == INST_READY) {
        instance_freeze(a, inst);
        return;
    }
    inst_set_state(a, inst, INST_READY);
    while ((n = list_pop_head(&inst->waiting)) != NULL) {
        call_begin(container_of(n, struct call, node));
    }
}

static struct cpool *call_pool(struct app *a, struct call *c);

/* c takes a slot of inst; it begins at once, or when inst has started. */
static void slot_take(struct app *a, struct call *c, struct instance *inst)
{
    c->inst = inst;
    inst->busy++;
    if (serverless(a)) {
        if (inst->state == INST_READY) {
            sim_cancel(a->sim, &inst->timer); /* no longer idle */
        }
        if (inst->busy == a->x->app.serverless.concurrency) {
            list_remove(&a->free_slots, &inst->free_node);
        }
    }
    if (inst->state == INST_STARTING) {
        c->state = CALL_STARTING;
        list_push_tail(&inst->waiting, &c->node);
        return;
    }
    call_begin(c);
}

/* A call on inst has ended: the first queued call takes its slot, or the slot is free. */
static void slot_release(struct app *a, struct instance *inst)
{
    struct list_node *n;

    if (!serverless(a)) {
        inst->busy--;
        return;
    }
    n = list_pop_head(&a->queued);
    if (n) {
        struct call *c = container_of(n, struct call, node);

        c->inst = inst;
        call_begin(c);
        return;
    }
    inst->busy--;
    if (list_node_is_linked(&inst->free_node)) {
        list_remove(&a->free_slots, &inst->free_node);
    }
    list_push_head(&a->free_slots, &inst->free_node);
    if (inst->busy == 0) {
        sim_schedule_in(a->sim, &inst->timer, a->x->app.serverless.idle_timeout);
    }
}

/* Serverless: a free slot, else a new instance, else wait. */
static void route(struct app *a, struct call *c)
{
    struct list_node *n = list_first(&a->free_slots);

    if (n) {
        slot_take(a, c, container_of(n, struct instance, free_node));
    } else if (app_instances(a) < a->x->app.serverless.max_instances) {
        slot_take(a, c, instance_start(a));
    } else {
        c->state = CALL_QUEUED;
        list_push_tail(&a->queued, &c->node);
    }
}

/* ---- pages and calls ---- */

static void page_answered(struct app *a, struct page *p, bool failed)
{
    sim_time latency;

    p->failed |= failed;
    if (--p->outstanding > 0) {
        return;
    }
    latency = sim_now(a->sim) - p->start;
    metrics_page_done(a->m, latency, p->failed);
    if (p->done) {
        p->done(p->ctx, latency, p->failed);
    }
    slab_free(&a->pages, p);
}

/* The caller's answer in the trace: "ok" or the error kind first, then the time and the text. */
static void trace_answer(const struct call *c, enum errkind err)
{
    struct app *a = c->app;
    sim_time now = sim_now(a->sim);
    double ms = sim_time_to_ms(now - c->start);

    if (err == ERRK_NONE) {
        trace_end(a->m->trace, c->trace_id, now, "ok after %.9g ms%s", ms,
                  c->hit ? " (cache hit)" : "");
        return;
    }
    trace_end(a->m->trace, c->trace_id, now, "%s after %.9g ms (attempt %" PRIu32 "): %s",
              errkind_name(err), ms, c->tries, errkind_text(err));
}

/* The caller gets its answer: measured once per call. */
static void answer(struct call *c, enum errkind err)
{
    struct app *a = c->app;
    sim_time now = sim_now(a->sim);

    assert(!c->answered);
    c->answered = true;
    sim_cancel(a->sim, &c->timeout);
    stat_level_add(&a->m->in_flight, now, -1);
    metrics_call_done(a->m, now - c->start, err);
    if (trace_is_on(c->trace_id)) {
        trace_answer(c, err);
    }
    page_answered(a, c->page, err != ERRK_NONE);
    if (a->stop_after && a->m->requests >= a->stop_after) {
        sim_stop(a->sim);
    }
}

/* The call's work has ended: it gives back its own pool and its slot. */
static void call_maybe_end(struct call *c)
{
    struct app *a = c->app;
    struct instance *inst = c->inst;

    if (c->state != CALL_DONE || c->tasks > 0) {
        return;
    }
    if (c->own_pool) {
        cpool_close_idle(c->own_pool); /* $disconnect() at the end of the request */
        cpool_fini(c->own_pool);
        list_remove(&a->own_live, &container_of(c->own_pool, struct own_pool, pool)->node);
        slab_free(&a->own_pools, container_of(c->own_pool, struct own_pool, pool));
    }
    slab_free(&a->calls[c->ep_index], c);
    slot_release(a, inst);
}

static void call_finish(struct call *c, enum errkind err)
{
    c->state = CALL_DONE;
    if (!c->answered) {
        answer(c, err);
    }
    call_maybe_end(c);
}

static void on_request_timeout(struct sim *sim, struct sim_event *ev)
{
    (void)sim;
    answer(ev->ctx, ERRK_REQUEST_TIMEOUT);
}

static void task_start(struct call *c, const struct op_config *op);

/* Start the current operation: one task, or one per sub-operation at once (Promise.all). */
static void op_start(struct call *c)
{
    const struct op_config *op = &c->ep->ops[c->op];

    if (op->type != OP_PARALLEL) {
        c->pending = 1;
        task_start(c, op); /* may end the call: c is not touched after it */
        return;
    }
    c->pending = op->nsubs;
    c->tasks++; /* hold the call: a task may end before the next one starts */
    for (size_t i = 0; i < op->nsubs; i++) {
        task_start(c, &op->subs[i]);
    }
    c->tasks--;
    call_maybe_end(c);
}

static void attempt_start(struct call *c)
{
    c->tries++;
    c->state = CALL_RUNNING;
    c->op = 0;
    c->app->m->attempts++;
    op_start(c);
}

static void on_call_timer(struct sim *sim, struct sim_event *ev);

/* The attempt failed: retry after backoff + jitter, or the call fails. */
static void attempt_failed(struct call *c, enum errkind err)
{
    const struct retry_config *r = &c->app->x->app.retry;

    if ((int64_t)c->tries < r->attempts) {
        if (trace_is_on(c->trace_id)) {
            trace_emit(c->app->m->trace, c->trace_id, sim_now(c->app->sim), TRACE_OUTCOME,
                       "%s: attempt %" PRIu32 " of %" PRId64 " failed; retry in %.9g ms",
                       errkind_name(err), c->tries, r->attempts,
                       sim_time_to_ms(r->backoff + c->times[c->ep->ndraws + c->tries - 1]));
        }
        c->state = CALL_BACKOFF;
        sim_event_init(&c->timer, on_call_timer, c);
        sim_schedule_in(c->app->sim, &c->timer,
                        r->backoff + c->times[c->ep->ndraws + c->tries - 1]);
        return;
    }
    call_finish(c, err);
}

/* A task of attempt settled with err; a failed attempt's late tasks are ignored. */
static void call_settled(struct call *c, uint32_t attempt, enum errkind err)
{
    if (attempt != c->tries || c->state != CALL_RUNNING) {
        return;
    }
    if (err != ERRK_NONE) {
        attempt_failed(c, err);
        return;
    }
    if (--c->pending > 0) {
        return;
    }
    if (++c->op < c->ep->nops) {
        op_start(c);
    } else {
        call_finish(c, ERRK_NONE);
    }
}

/* End of the backoff, or a cache hit's answer. */
static void on_call_timer(struct sim *sim, struct sim_event *ev)
{
    struct call *c = ev->ctx;

    (void)sim;
    if (c->state == CALL_BACKOFF) {
        attempt_start(c);
        return;
    }
    c->app->m->cache_hits++;
    call_finish(c, ERRK_NONE);
}

/* The call has its instance: a cache hit answers after its latency, else the first try. */
static void call_begin(struct call *c)
{
    struct app *a = c->app;

    c->pool = call_pool(a, c);
    if (c->hit) {
        c->state = CALL_RUNNING;
        c->tries = 1;
        a->m->attempts++;
        sim_event_init(&c->timer, on_call_timer, c);
        sim_schedule_in(a->sim, &c->timer, c->times[c->ep->ndraws + retry_jitters(a)]);
        return;
    }
    attempt_start(c);
}

/*
 * The client pool of the call: endpoint i uses PrismaClient i mod clients of
 * its instance; when connections belong to users (dedicated), the first pool
 * (of the first process) for every call, keyed by the page's user; with
 * connection_per_request, a new pool of its own (a PrismaClient per request,
 * as an unpooled serverless function has).
 */
static struct cpool *call_pool(struct app *a, struct call *c)
{
    struct own_pool *op;
    struct instance *first = serverless(a) ? c->inst : a->fixed[0];

    if (!a->x->app.connection_per_request && cpool_is_per_user(&first->pools[0])) {
        return &first->pools[0];
    }
    if (!a->x->app.connection_per_request) {
        return &c->inst->pools[c->ep_index % (size_t)a->x->app.clients];
    }
    op = slab_alloc(&a->own_pools);
    list_node_init(&op->node);
    list_push_tail(&a->own_live, &op->node);
    cpool_init(&op->pool, a->sim, &a->x->client_pool, a->m, a->up, a->rtt,
               (int)a->x->net.handshake_rtts);
    share_names(&op->pool, c->inst);
    c->own_pool = &op->pool;
    return c->own_pool;
}

/* ---- tasks: one operation of one attempt ---- */

/*
 * The statement at the task's script position.  Each of the operation's own
 * statements is a distinct SQL text, identified by its endpoint and its draw
 * index (operation and position): the key of Prisma's statement cache.
 */
static struct stmt script_stmt(const struct task *t)
{
    struct stmt s = {.server_ns = 0};
    size_t k = (size_t)t->op->statements, j = t->pos - t->head;

    if (t->pos >= t->head && j < k) {
        s.server_ns = t->times[j];
        s.text = ((uint64_t)t->call->ep_index + 1) << 32 | (uint64_t)(t->op->first_draw + j);
    }
    s.in_tx_after = t->wrapped && t->pos + 1 < t->len;
    s.deallocate_all = t->head == 2 && t->pos == 1; /* pgbouncer=true, after BEGIN (§1.5.2) */
    return s;
}

/* Interactive: the app's think time before the statement at pos (between two of its own). */
static sim_time think_before(const struct task *t)
{
    size_t k = (size_t)t->op->statements;

    if (t->op->type != OP_INTERACTIVE || t->pos <= t->head || t->pos >= t->head + k) {
        return 0;
    }
    return t->times[k + t->pos - t->head - 1];
}

/* Only app and interactive operations use the task's timers (initialised for them only). */
static bool task_timed(const struct task *t)
{
    return t->op->type == OP_APP || t->op->type == OP_INTERACTIVE;
}

static void expiry_cancel(struct task *t)
{
    if (t->op->type == OP_INTERACTIVE) {
        sim_cancel(t->call->app->sim, &t->expiry);
    }
}

static void task_maybe_end(struct task *t)
{
    struct call *c = t->call;

    if (!t->settled || t->conn || (task_timed(t) && sim_event_is_pending(&t->timer))) {
        return;
    }
    assert(!t->sending && !(task_timed(t) && sim_event_is_pending(&t->expiry)));
    if (t == &c->own) {
        c->own_busy = false;
    } else {
        slab_free(&c->app->tasks, t);
    }
    c->tasks--;
    call_maybe_end(c);
}

static void task_settle(struct task *t, enum errkind err)
{
    assert(!t->settled);
    t->settled = true;
    call_settled(t->call, t->attempt, err);
}

static void task_release(struct task *t)
{
    struct pool_conn *conn = t->conn;

    t->conn = NULL;
    expiry_cancel(t);
    cpool_release(conn);
}

static void on_result(void *user, enum link_msg m, enum errkind err);

/* The app sends the statement at pos (or the ROLLBACK) on its connection: a row of the trace. */
static void trace_send(const struct task *t, bool rollback)
{
    const struct app *a = t->call->app;
    size_t k = (size_t)t->op->statements;
    char what[64];

    if (rollback) {
        snprintf(what, sizeof what, "ROLLBACK");
    } else if (t->wrapped && t->pos == 0) {
        snprintf(what, sizeof what, "BEGIN");
    } else if (t->head == 2 && t->pos == 1) {
        snprintf(what, sizeof what, "DEALLOCATE ALL");
    } else if (t->wrapped && t->pos + 1 == t->len) {
        snprintf(what, sizeof what, "COMMIT");
    } else {
        snprintf(what, sizeof what, "statement %zu of %zu", t->pos - t->head + 1, k);
    }
    trace_emit(a->m->trace, t->call->trace_id, sim_now(a->sim), TRACE_STATEMENT,
               "app: operation %zu sends %s on connection %" PRIu64, t->call->op + 1, what,
               t->conn->serial);
}

/* Prisma's engine rolls the transaction back; the connection is released when it answers. */
static void rollback(struct task *t)
{
    struct stmt s = {.server_ns = 0};

    if (trace_is_on(t->call->trace_id)) {
        trace_send(t, true);
    }
    expiry_cancel(t);
    t->rolling_back = true;
    t->sending = true;
    cpool_query(t->conn, &s, on_result, t);
}

/* The app sends the statement at pos; an expired transaction refuses it (P2028). */
static void task_send(struct task *t)
{
    struct stmt s = script_stmt(t);

    if (t->expired) {
        task_settle(t, ERRK_P2028);
        task_maybe_end(t);
        return;
    }
    if (t->pos + 1 == t->len) {
        expiry_cancel(t); /* COMMIT sent: too late to expire */
    }
    if (trace_is_on(t->call->trace_id)) {
        trace_send(t, false);
    }
    t->sending = true;
    cpool_query(t->conn, &s, on_result, t);
}

/* The server closed the connection. */
static void conn_lost(struct task *t, enum errkind err)
{
    struct pool_conn *conn = t->conn;

    t->conn = NULL;
    expiry_cancel(t);
    if (task_timed(t)) {
        sim_cancel(t->call->app->sim, &t->timer);
    }
    cpool_discard(conn);
    if (!t->settled) {
        task_settle(t, t->expired ? ERRK_P2028 : err);
    }
    task_maybe_end(t);
}

/*
 * A statement failed: the operation rejects.  The server ended the
 * transaction it was in (postgres.c: an aborted transaction's status after
 * the error is idle), so no ROLLBACK follows.
 */
static void stmt_failed(struct task *t, enum errkind err)
{
    task_release(t);
    task_settle(t, err);
    task_maybe_end(t);
}

/* The statement before pos answered: go on, after a think time if there is one. */
static void task_next(struct task *t)
{
    struct app *a = t->call->app;
    sim_time think;

    if (t->expired) {
        rollback(t); /* expired while the statement ran */
    }
    if (t->op->type == OP_INTERACTIVE && t->pos == t->head) {
        sim_schedule_in(a->sim, &t->expiry, t->op->tx_timeout); /* the transaction has started */
    }
    think = think_before(t);
    if (think > 0) {
        sim_schedule_in(a->sim, &t->timer, think);
        return;
    }
    task_send(t);
}

static void on_granted(struct pool_request *co, struct pool_conn *conn, enum errkind err);

static void on_result(void *user, enum link_msg m, enum errkind err)
{
    struct task *t = user;

    t->sending = false;
    if (m == LINK_FATAL) {
        conn_lost(t, err);
    } else if (t->rolling_back) {
        task_release(t);
        task_maybe_end(t);
    } else if (err != ERRK_NONE) {
        stmt_failed(t, err);
    } else if (++t->pos == t->len) {
        task_release(t);
        task_settle(t, ERRK_NONE);
        task_maybe_end(t);
    } else if (!t->wrapped && cpool_per_statement(t->call->pool)) {
        task_release(t); /* pg.Pool's pool.query: the next statement checks out its own */
        cpool_checkout(t->call->pool, &t->co, on_granted);
    } else {
        task_next(t);
    }
}

/* The transaction outlived its timeout: roll back now, or when the statement in flight returns. */
static void on_tx_expired(struct sim *sim, struct sim_event *ev)
{
    struct task *t = ev->ctx;

    (void)sim;
    t->expired = true;
    if (!t->sending) {
        rollback(t);
    }
}

/* End of an app operation's time, or of a think time. */
static void on_task_timer(struct sim *sim, struct sim_event *ev)
{
    struct task *t = ev->ctx;

    (void)sim;
    if (t->op->type == OP_APP) {
        task_settle(t, ERRK_NONE);
        task_maybe_end(t);
        return;
    }
    task_send(t);
}

static void on_granted(struct pool_request *co, struct pool_conn *conn, enum errkind err)
{
    struct task *t = container_of(co, struct task, co);

    if (err != ERRK_NONE) {
        task_settle(t, err);
        task_maybe_end(t);
        return;
    }
    t->conn = conn;
    task_send(t);
}

static struct task *task_new(struct call *c, const struct op_config *op)
{
    struct task *t = c->own_busy ? slab_alloc(&c->app->tasks) : &c->own;
    bool pgb = pgbouncer_mode(c->app);

    t->call = c;
    t->op = op;
    t->times = &c->times[op->first_draw];
    t->attempt = c->tries;
    t->conn = NULL;
    t->pos = 0;
    t->sending = t->settled = t->expired = t->rolling_back = false;
    /* a batch or interactive transaction is one already: never wrapped twice (§1.5.1) */
    t->wrapped = op->type != OP_QUERY || pgb;
    t->head = t->wrapped ? 1 + (size_t)pgb : 0; /* BEGIN, and DEALLOCATE ALL (§1.5.2) */
    t->len = t->head + (size_t)op->statements + (size_t)t->wrapped;
    if (task_timed(t)) {
        sim_event_init(&t->timer, on_task_timer, t);
        sim_event_init(&t->expiry, on_tx_expired, t);
    }
    c->own_busy |= t == &c->own;
    c->tasks++;
    return t;
}

static void task_start(struct call *c, const struct op_config *op)
{
    struct task *t = task_new(c, op);

    if (op->type == OP_APP) {
        sim_schedule_in(c->app->sim, &t->timer, t->times[0]);
        return;
    }
    t->co.user = c->page->user;
    t->co.trace_id = c->trace_id;
    t->co.max_wait = op->type == OP_INTERACTIVE ? op->max_wait : 0;
    t->co.max_wait_err = ERRK_P2028;
    cpool_checkout(c->pool, &t->co, on_granted);
}

/* ---- drawing a call's times ---- */

static void draw_op(const struct app_streams *st, const struct op_config *op, sim_time *times)
{
    size_t k = (size_t)op->statements;

    if (op->type == OP_APP) {
        times[0] = dist_sample(&op->time, st->main[op->leaf]);
        return;
    }
    for (size_t j = 0; j < k; j++) {
        times[j] = dist_sample(&op->server_time, st->main[op->leaf]);
    }
    for (size_t j = 0; op->type == OP_INTERACTIVE && j + 1 < k; j++) {
        times[k + j] = dist_sample(&op->think_time, st->think[op->leaf]);
    }
}

/* Every time the call may need, from the endpoint's own streams (common random numbers). */
static void draw_times(struct app *a, struct call *c)
{
    const struct app_streams *st = &a->streams[c->ep_index];
    const struct app_config *cfg = &a->x->app;
    sim_time *extra = &c->times[c->ep->ndraws];

    for (size_t i = 0; i < c->ep->nops; i++) {
        const struct op_config *op = &c->ep->ops[i];

        for (size_t j = 0; j < op->nsubs; j++) {
            draw_op(st, &op->subs[j], &c->times[op->subs[j].first_draw]);
        }
        if (op->type != OP_PARALLEL) {
            draw_op(st, op, &c->times[op->first_draw]);
        }
    }
    for (size_t j = 0; j < retry_jitters(a); j++) {
        extra[j] = st->jitter ? dist_sample(&cfg->retry.jitter_dist, st->jitter) : 0;
    }
    c->hit = cfg->cache.enabled && gsl_rng_uniform(st->cache) < cfg->cache.hit_ratio;
    extra[retry_jitters(a)] =
        cfg->cache.enabled ? dist_sample(&cfg->cache.latency, st->cache_latency) : 0;
}

/* A call arrives: sampled or not (trace.h); if so, where it goes. */
static uint64_t trace_arrival(struct app *a, const struct call *c, const struct instance *inst)
{
    uint64_t id = trace_sample(a->m->trace, c->start, c->ep->name);
    size_t i = 0;

    if (id == 0) {
        return 0;
    }
    if (inst == NULL) {
        trace_emit(a->m->trace, id, c->start, TRACE_ARRIVAL, "app: user %" PRIu64 "; serverless",
                   c->page->user);
        return id;
    }
    while (a->fixed[i] != inst) {
        i++;
    }
    if (a->x->app.connection_per_request || cpool_is_per_user(&inst->pools[0])) {
        trace_emit(a->m->trace, id, c->start, TRACE_ARRIVAL,
                   "app: user %" PRIu64 "; instance %zu; %s", c->page->user, i,
                   a->x->app.connection_per_request ? "a pool of its own"
                                                    : "the user's connection");
        return id;
    }
    trace_emit(a->m->trace, id, c->start, TRACE_ARRIVAL,
               "app: user %" PRIu64 "; instance %zu; client %zu", c->page->user, i,
               c->ep_index % (size_t)a->x->app.clients);
    return id;
}

static void call_start(struct app *a, struct page *p, size_t ep, struct instance *inst)
{
    struct call *c = slab_alloc(&a->calls[ep]);

    c->app = a;
    c->page = p;
    c->ep = &a->x->app.endpoints[ep];
    c->ep_index = ep;
    c->inst = NULL;
    c->pool = c->own_pool = NULL;
    c->state = CALL_QUEUED;
    list_node_init(&c->node);
    c->start = sim_now(a->sim);
    c->trace_id = a->m->trace ? trace_arrival(a, c, inst) : 0;
    c->tries = 0;
    c->op = c->pending = c->tasks = 0;
    c->own_busy = false;
    c->answered = false;
    draw_times(a, c);
    sim_event_init(&c->timeout, on_request_timeout, c);
    if (a->x->app.request_timeout > 0) {
        sim_schedule_in(a->sim, &c->timeout, a->x->app.request_timeout);
    }
    stat_level_add(&a->m->in_flight, c->start, 1);
    if (inst) {
        slot_take(a, c, inst);
    } else {
        route(a, c);
    }
}

void app_load_page(struct app *a, const struct page_config *page, uint64_t user,
                   app_page_done_fn *done, void *ctx)
{
    struct page *p = slab_alloc(&a->pages);
    struct instance *inst = NULL;

    if (!serverless(a)) { /* round-robin */
        inst = a->fixed[a->next_instance];
        a->next_instance = (a->next_instance + 1) % (size_t)a->x->app.instances;
    }
    p->start = sim_now(a->sim);
    p->outstanding = page->ncalls;
    p->failed = false;
    p->user = user;
    p->done = done;
    p->ctx = ctx;
    for (size_t i = 0; i < page->ncalls; i++) {
        call_start(a, p, page->endpoints[i], inst);
    }
}

/* ---- streams ---- */

static gsl_rng *ep_stream(const struct app *a, const char *purpose, const char *ep)
{
    char name[512];

    snprintf(name, sizeof name, "%s:%s", purpose, ep);
    return rng_new(a->seed, a->rep, name, 0);
}

static void leaf_streams(struct app *a, struct app_streams *st, const struct op_config *op)
{
    if (op->type == OP_PARALLEL) {
        for (size_t j = 0; j < op->nsubs; j++) {
            leaf_streams(a, st, &op->subs[j]);
        }
        return;
    }
    st->main[op->leaf] = rng_new(a->seed, a->rep, op->stream, 0);
    if (op->type == OP_INTERACTIVE) {
        st->think[op->leaf] = rng_new(a->seed, a->rep, op->think_stream, 0);
    }
}

static void streams_init(struct app *a)
{
    const struct app_config *cfg = &a->x->app;

    a->streams = xcalloc(cfg->nendpoints, sizeof *a->streams);
    for (size_t i = 0; i < cfg->nendpoints; i++) {
        const struct endpoint_config *ep = &cfg->endpoints[i];
        struct app_streams *st = &a->streams[i];

        st->main = xcalloc(ep->nleaves, sizeof *st->main);
        st->think = xcalloc(ep->nleaves, sizeof *st->think);
        for (size_t j = 0; j < ep->nops; j++) {
            leaf_streams(a, st, &ep->ops[j]);
        }
        if (cfg->cache.enabled) {
            st->cache = ep_stream(a, "cache", ep->name);
            st->cache_latency = ep_stream(a, "cache_latency", ep->name);
        }
        if (cfg->retry.jitter > 0) {
            st->jitter = ep_stream(a, "retry_jitter", ep->name);
        }
    }
}

static void streams_fini(struct app *a)
{
    for (size_t i = 0; i < a->x->app.nendpoints; i++) {
        struct app_streams *st = &a->streams[i];

        for (size_t j = 0; j < a->x->app.endpoints[i].nleaves; j++) {
            rng_free(st->main[j]);
            rng_free(st->think[j]);
        }
        free(st->main);
        free(st->think);
        rng_free(st->cache);
        rng_free(st->cache_latency);
        rng_free(st->jitter);
    }
    free(a->streams);
}

/* ---- the whole app ---- */

void app_init(struct app *a, struct sim *sim, const struct experiment *x, struct metrics *m,
              const struct upstream *up, sim_time rtt, uint32_t rep)
{
    const struct app_config *cfg = &x->app;
    size_t extra = (size_t)cfg->retry.attempts; /* attempts - 1 jitters and a cache latency */

    a->x = x;
    a->sim = sim;
    a->m = m;
    a->stop_after = 0;
    a->up = up;
    a->rtt = rtt;
    a->seed = x->seed;
    a->rep = rep;
    a->instances_started = 0;
    list_init(&a->starting);
    list_init(&a->ready);
    list_init(&a->frozen);
    list_init(&a->free_slots);
    list_init(&a->queued);
    list_init(&a->own_live);
    slab_init(&a->instances, sizeof(struct instance));
    slab_init(&a->pages, sizeof(struct page));
    slab_init(&a->tasks, sizeof(struct task));
    slab_init(&a->own_pools, sizeof(struct own_pool));
    a->calls = xcalloc(cfg->nendpoints, sizeof *a->calls);
    for (size_t i = 0; i < cfg->nendpoints; i++) {
        slab_init(&a->calls[i],
                  sizeof(struct call) + (cfg->endpoints[i].ndraws + extra) * sizeof(sim_time));
    }
    streams_init(a);
    a->next_instance = 0;
    a->fixed = NULL;
    if (!cfg->serverless.enabled) {
        a->fixed = xcalloc((size_t)cfg->instances, sizeof *a->fixed);
        for (int64_t i = 0; i < cfg->instances; i++) {
            a->fixed[i] = instance_new(a, INST_READY);
        }
    }
}

static void free_instances(struct app *a, struct list *l)
{
    struct list_node *n;

    while ((n = list_pop_head(l)) != NULL) {
        instance_free(a, container_of(n, struct instance, node));
    }
}

/* Pending events may point into the slabs: the engine is freed without firing them (scn_fini). */
void app_fini(struct app *a)
{
    struct list_node *n;

    free_instances(a, &a->starting);
    free_instances(a, &a->ready);
    free_instances(a, &a->frozen);
    free(a->fixed);
    while ((n = list_pop_head(&a->own_live)) != NULL) {
        cpool_fini(&container_of(n, struct own_pool, node)->pool);
    }
    for (size_t i = 0; i < a->x->app.nendpoints; i++) {
        slab_fini(&a->calls[i]);
    }
    free(a->calls);
    streams_fini(a);
    slab_fini(&a->instances);
    slab_fini(&a->pages);
    slab_fini(&a->tasks);
    slab_fini(&a->own_pools);
}

struct cpool *app_client_pool(struct app *a, size_t instance, size_t client)
{
    assert(!serverless(a) && instance < (size_t)a->x->app.instances &&
           client < (size_t)a->x->app.clients);
    return &a->fixed[instance]->pools[client];
}

int64_t app_instances(const struct app *a)
{
    return (int64_t)(list_count(&a->starting) + list_count(&a->ready));
}

int64_t app_frozen(const struct app *a)
{
    return (int64_t)list_count(&a->frozen);
}

static int64_t list_connections(const struct list *l)
{
    int64_t n = 0;

    for (struct list_node *i = list_first(l); i; i = list_next(l, i)) {
        n += instance_connections(container_of(i, struct instance, node));
    }
    return n;
}

int64_t app_connections(const struct app *a)
{
    int64_t n =
        list_connections(&a->starting) + list_connections(&a->ready) + list_connections(&a->frozen);

    for (struct list_node *i = list_first(&a->own_live); i; i = list_next(&a->own_live, i)) {
        n += cpool_open(&container_of(i, struct own_pool, node)->pool);
    }
    return n;
}

/* Every instance of l: pools consistent, slots within concurrency. */
static bool check_instances(const struct app *a, const struct list *l, size_t *with_free_slot)
{
    int64_t conc = a->x->app.serverless.concurrency;

    for (struct list_node *i = list_first(l); i; i = list_next(l, i)) {
        const struct instance *inst = container_of(i, struct instance, node);

        for (int64_t k = 0; k < a->x->app.clients; k++) {
            if (!cpool_check(&inst->pools[k])) {
                return false;
            }
        }
        if (serverless(a) && inst->state != INST_FROZEN) {
            if (inst->busy > conc || list_node_is_linked(&inst->free_node) != (inst->busy < conc)) {
                return false;
            }
            *with_free_slot += inst->busy < conc;
        }
    }
    return true;
}

bool app_check(const struct app *a)
{
    const struct serverless_config *cfg = &a->x->app.serverless;
    int64_t warm = app_instances(a);
    size_t free_slots = 0;

    if (a->m->instances.value != warm || !check_instances(a, &a->starting, &free_slots) ||
        !check_instances(a, &a->ready, &free_slots) ||
        !check_instances(a, &a->frozen, &free_slots)) {
        return false;
    }
    if (!serverless(a)) {
        return warm == a->x->app.instances && list_is_empty(&a->frozen) &&
               list_is_empty(&a->queued);
    }
    if (warm > cfg->max_instances || free_slots != list_count(&a->free_slots)) {
        return false;
    }
    return list_is_empty(&a->queued) || (free_slots == 0 && warm == cfg->max_instances);
}

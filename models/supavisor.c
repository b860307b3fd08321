/*
 * supavisor.c - Supavisor's pool and its two modes (reference/domain.md §3;
 * see supavisor.h).
 *
 * Waiting clients form one FIFO: in session mode they wait at connect
 * (state CHECKOUT, the "queue" era), in transaction mode at a query (state
 * WAITING); a pool has one mode, so only one of the two lists is ever used.
 * A worker freed goes to the head waiter, else becomes idle (LIFO).  Workers
 * start in parallel (poolboy starts an overflow worker inside the checkout;
 * nothing serialises DbHandler connects): an assumption, documented in
 * experiments/README.md.
 *
 * Invariants (supa_check): workers <= capacity; a LINKED client holds a BUSY
 * worker that points back to it; nobody waits while a worker is idle.
 */
#include "models/supavisor.h"

#include <assert.h>
#include <inttypes.h>

#include "models/trace.h"

static const struct upstream_ops supa_ops;

void supa_config_default(struct supa_config *cfg)
{
    cfg->pool_mode = SUPA_TRANSACTION;
    cfg->pool_size = 15;
    cfg->max_clients = 1000;
    cfg->checkout_timeout = SIM_MS(60000);
    cfg->session_full = SUPA_FULL_REJECT;
    cfg->capacity = SUPA_CAP_POOL_SIZE;
    cfg->session_disconnect = SUPA_DISCONNECT_CLOSE;
    cfg->foreign_clients = 0;
    cfg->budget = SUPA_BUDGET_PER_MODE;
    cfg->named_prepared_statements = false; /* NAMED_PREPARED_STATEMENTS_ENABLED's default */
}

/* Supavisor tracks named statements: the feature flag, in transaction mode. */
static bool tracking(const struct supa *p)
{
    return p->cfg->named_prepared_statements && p->cfg->pool_mode == SUPA_TRANSACTION;
}

/* Send c's statement to its worker w: as it is, or translated when tracking. */
static void forward(struct supa *p, struct supa_client *c, struct supa_worker *w)
{
    w->link.stmt = c->link->stmt;
    w->link.trace_id = c->link->trace_id;
    if (tracking(p)) {
        prep_track(&c->stmts, &w->prepared, 0, &w->link.stmt);
    }
    w->link.stmt.deallocate_all |= w->discard;
    w->discard = false;
    link_send_up(&w->link, LINK_QUERY, NULL);
}

int64_t supa_capacity(const struct supa_config *cfg)
{
    return cfg->pool_size + (cfg->capacity == SUPA_CAP_POOL_SIZE_PLUS_ONE);
}

int64_t supa_clients(const struct supa *p)
{
    return (int64_t)(list_count(&p->cl_checkout) + list_count(&p->cl_active) +
                     list_count(&p->cl_waiting) + list_count(&p->cl_linked));
}

int64_t supa_workers(const struct supa *p)
{
    return (int64_t)(list_count(&p->wk_login) + list_count(&p->wk_idle) + list_count(&p->wk_busy));
}

static struct list *cl_list(struct supa *p, enum supa_cl_state s)
{
    switch (s) {
    case SUPA_CL_CHECKOUT:
        return &p->cl_checkout;
    case SUPA_CL_ACTIVE:
        return &p->cl_active;
    case SUPA_CL_WAITING:
        return &p->cl_waiting;
    case SUPA_CL_LINKED:
        return &p->cl_linked;
    }
    return NULL;
}

static struct list *wk_list(struct supa *p, enum supa_wk_state s)
{
    switch (s) {
    case SUPA_WK_LOGIN:
        return &p->wk_login;
    case SUPA_WK_IDLE:
        return &p->wk_idle;
    case SUPA_WK_BUSY:
        return &p->wk_busy;
    case SUPA_WK_FOREIGN:
        return &p->wk_foreign;
    }
    return NULL;
}

static void cl_set_state(struct supa *p, struct supa_client *c, enum supa_cl_state to)
{
    list_remove(cl_list(p, c->state), &c->node);
    c->state = to;
    list_push_tail(cl_list(p, to), &c->node);
}

/* Idle workers are pushed at the head: reuse is LIFO (poolboy :lifo). */
static void wk_set_state(struct supa *p, struct supa_worker *w, enum supa_wk_state to)
{
    sim_time now = sim_now(p->sim);

    assert(to != w->state);
    if (to == SUPA_WK_BUSY) {
        stat_level_add(&p->m->server_busy, now, 1);
        w->linked_at = now;
    } else if (w->state == SUPA_WK_BUSY) {
        stat_level_add(&p->m->server_busy, now, -1);
        stat_acc_add(&p->m->server_hold, (double)(now - w->linked_at));
    }
    list_remove(wk_list(p, w->state), &w->node);
    w->state = to;
    if (to == SUPA_WK_IDLE) {
        list_push_head(&p->wk_idle, &w->node);
    } else {
        list_push_tail(wk_list(p, to), &w->node);
    }
}

/* The head of the FIFO of clients waiting for a worker, or NULL. */
static struct supa_client *queue_head(struct supa *p)
{
    struct list_node *n = list_first(&p->cl_checkout);

    if (!n) {
        n = list_first(&p->cl_waiting);
    }
    return n ? container_of(n, struct supa_client, node) : NULL;
}

static void on_worker_down(struct link *l, enum link_msg msg, enum errkind err);
static void on_dismiss(struct sim *sim, struct sim_event *ev);

/* Start a worker (its backend's login); trace_id: the request it is started for, or 0. */
static void start_worker(struct supa *p, bool warm, bool foreign, uint64_t trace_id)
{
    struct supa_worker *w = slab_alloc(&p->workers);

    w->p = p;
    w->serial = ++p->started;
    w->client = NULL;
    w->warm = warm;
    w->foreign = foreign;
    w->state = foreign ? SUPA_WK_FOREIGN : SUPA_WK_LOGIN; /* a foreign one is held at once */
    w->discard = false;
    prep_map_init(&w->prepared);
    list_node_init(&w->node);
    list_push_tail(wk_list(p, w->state), &w->node);
    sim_event_init(&w->dismiss, on_dismiss, w);
    stat_level_add(&p->m->server_conns, sim_now(p->sim), 1);
    link_init(&w->link, p->sim, p->db, p->db_rtt, p->handshake_rtts, on_worker_down, w);
    w->link.trace_id = trace_id;
    if (trace_is_on(trace_id)) {
        trace_emit(p->m->trace, trace_id, sim_now(p->sim), TRACE_CONNECT,
                   "supavisor: starts server %" PRIu64 "%s", w->serial,
                   warm ? " (the warm one)" : "");
    }
    link_send_up(&w->link, LINK_CONNECT, NULL);
}

static void destroy_worker(struct supa *p, struct supa_worker *w)
{
    if (w->state == SUPA_WK_BUSY) {
        wk_set_state(p, w, SUPA_WK_IDLE);
    }
    sim_cancel(p->sim, &w->dismiss);
    link_close(&w->link);
    prep_map_fini(&w->prepared);
    list_remove(wk_list(p, w->state), &w->node);
    stat_level_add(&p->m->server_conns, sim_now(p->sim), -1);
    slab_free(&p->workers, w);
}

/* The trace id of the newest waiting client, whose wait makes the pool grow; 0 if none. */
static uint64_t newest_waiter_trace_id(struct supa *p)
{
    struct list_node *n = p->m->trace ? list_last(&p->cl_checkout) : NULL;

    if (p->m->trace && !n) {
        n = list_last(&p->cl_waiting);
    }
    return n ? container_of(n, struct supa_client, node)->link->trace_id : 0;
}

/* Start workers for waiters that no starting worker will serve, within capacity. */
static void grow(struct supa *p)
{
    size_t waiting = list_count(&p->cl_checkout) + list_count(&p->cl_waiting);

    while (waiting > list_count(&p->wk_login) &&
           supa_workers(p) + p->foreign_in_budget < supa_capacity(p->cfg)) {
        start_worker(p, false, false, newest_waiter_trace_id(p));
    }
}

/* Give idle or new worker w to waiting client c. */
static void give(struct supa *p, struct supa_client *c, struct supa_worker *w)
{
    sim_time wait_ns = sim_now(p->sim) - c->wait_start;
    enum supa_cl_state was = c->state;

    stat_acc_add(&p->m->pooler_wait, (double)wait_ns);
    hist_add(p->m->h[SER_POOLER_WAIT], wait_ns);
    p->m->pooler_waited += wait_ns > 0;
    if (trace_is_on(c->link->trace_id)) {
        trace_emit(p->m->trace, c->link->trace_id, sim_now(p->sim), TRACE_POOLER_WAIT,
                   "supavisor: server %" PRIu64 " checked out after %.9g ms", w->serial,
                   sim_time_to_ms(wait_ns));
    }
    sim_cancel(p->sim, &c->timeout);
    sim_cancel(p->sim, &w->dismiss);
    wk_set_state(p, w, SUPA_WK_BUSY);
    cl_set_state(p, c, SUPA_CL_LINKED);
    w->client = c;
    c->worker = w;
    if (was == SUPA_CL_CHECKOUT) {
        link_send_down(c->link, LINK_CONNECTED, ERRK_NONE);
    } else {
        forward(p, c, w);
    }
}

/* Worker w is free: the head waiter takes it, else it idles (overflow: until dismissed). */
static void worker_free(struct supa *p, struct supa_worker *w)
{
    struct supa_client *head = queue_head(p);

    wk_set_state(p, w, SUPA_WK_IDLE);
    if (head) {
        give(p, head, w);
    } else if (!w->warm) {
        sim_schedule_in(p->sim, &w->dismiss, SUPA_OVERFLOW_IDLE_NS);
    }
}

/* Unlink c from its worker, which is freed (or, for a closing session, maybe closed). */
static void unlink_client(struct supa *p, struct supa_client *c, bool closing)
{
    struct supa_worker *w = c->worker;

    if (trace_is_on(c->link->trace_id)) {
        trace_emit(p->m->trace, c->link->trace_id, sim_now(p->sim), TRACE_RELEASE,
                   "supavisor: server %" PRIu64 " released after %.9g ms%s", w->serial,
                   sim_time_to_ms(sim_now(p->sim) - w->linked_at), closing ? " (client gone)" : "");
    }
    w->link.trace_id = 0;
    c->worker = NULL;
    w->client = NULL;
    cl_set_state(p, c, SUPA_CL_ACTIVE);
    if (closing && p->cfg->pool_mode == SUPA_SESSION &&
        p->cfg->session_disconnect == SUPA_DISCONNECT_CLOSE) {
        p->warm_started = p->warm_started && !w->warm;
        destroy_worker(p, w);
        grow(p);
        return;
    }
    w->discard = closing && p->cfg->pool_mode == SUPA_SESSION; /* attempt_cleanup */
    worker_free(p, w);
}

static void destroy_client(struct supa *p, struct supa_client *c)
{
    sim_cancel(p->sim, &c->timeout);
    prep_map_fini(&c->stmts);
    list_remove(cl_list(p, c->state), &c->node);
    c->link->peer = NULL;
    stat_level_add(&p->m->client_conns, sim_now(p->sim), -1);
    slab_free(&p->clients, c);
}

/* Close client c with a FATAL error; forgotten before the message leaves (link.h). */
static void terminate(struct supa *p, struct supa_client *c, enum errkind err)
{
    struct link *l = c->link;

    if (trace_is_on(l->trace_id)) {
        bool waiting = c->state == SUPA_CL_CHECKOUT || c->state == SUPA_CL_WAITING;

        trace_emit(p->m->trace, l->trace_id, sim_now(p->sim),
                   waiting ? TRACE_POOLER_WAIT : TRACE_RELEASE,
                   "supavisor: closes the client%s: %s", waiting ? " after waiting" : "",
                   errkind_name(err));
    }
    destroy_client(p, c);
    link_send_down(l, LINK_FATAL, err);
}

static void on_checkout_timeout(struct sim *sim, struct sim_event *ev)
{
    struct supa_client *c = ev->ctx;
    struct supa *p = c->p;

    (void)sim;
    terminate(p, c,
              c->state == SUPA_CL_CHECKOUT ? ERRK_MAX_CLIENTS_IN_SESSION_MODE
                                           : ERRK_ECHECKOUTTIMEOUT);
    assert(supa_check(p));
}

static void on_dismiss(struct sim *sim, struct sim_event *ev)
{
    struct supa_worker *w = ev->ctx;

    (void)sim;
    destroy_worker(w->p, w);
}

/* c wants a worker now (at connect in session mode, at a query in transaction mode). */
static void checkout(struct supa *p, struct supa_client *c, enum supa_cl_state waiting)
{
    struct list_node *idle = list_first(&p->wk_idle);

    c->wait_start = sim_now(p->sim);
    if (trace_is_on(c->link->trace_id) && !idle) {
        trace_emit(p->m->trace, c->link->trace_id, c->wait_start, TRACE_POOLER_WAIT,
                   "supavisor: no idle server; %" PRId64 " of %" PRId64 " servers in use (%" PRId64
                   " by foreign clients); %zu waiting ahead",
                   supa_workers(p) + p->foreign_in_budget, supa_capacity(p->cfg),
                   p->foreign_in_budget, list_count(&p->cl_checkout) + list_count(&p->cl_waiting));
    }
    cl_set_state(p, c, waiting);
    if (idle) {
        give(p, c, container_of(idle, struct supa_worker, node));
        return;
    }
    sim_schedule_in(p->sim, &c->timeout, p->cfg->checkout_timeout);
    grow(p);
}

static void worker_result(struct supa *p, struct supa_worker *w, enum errkind err)
{
    struct supa_client *c = w->client;

    if (tracking(p)) {
        prep_track_result(&c->stmts, &w->prepared, &w->link.stmt);
    }
    if (p->cfg->pool_mode == SUPA_TRANSACTION && !w->link.stmt.in_tx_after) {
        unlink_client(p, c, false);
    }
    link_send_down(c->link, LINK_RESULT, err);
}

static void on_worker_down(struct link *l, enum link_msg msg, enum errkind err)
{
    struct supa_worker *w = l->owner;
    struct supa *p = w->p;
    struct supa_client *c = w->client;

    if (msg == LINK_CONNECTED && w->foreign) {
        /* held until the end of the run */
    } else if (msg == LINK_CONNECTED) {
        worker_free(p, w);
    } else if (msg == LINK_FATAL) {
        p->warm_started = p->warm_started && !w->warm;
        p->foreign_in_budget -= w->foreign && p->foreign_in_budget > 0;
        destroy_worker(p, w);
        if (c) {
            terminate(p, c, err);
        }
    } else {
        worker_result(p, w, err);
    }
    assert(supa_check(p));
}

/* The login: refused at once (EMAXCONN; MaxClientsInSessionMode in the reject era), or accepted. */
static void client_connect(struct supa *p, struct link *l)
{
    struct supa_client *c;
    bool session = p->cfg->pool_mode == SUPA_SESSION;

    if (trace_is_on(l->trace_id)) {
        trace_emit(p->m->trace, l->trace_id, sim_now(p->sim), TRACE_CONNECT,
                   "supavisor: client login; %" PRId64 " clients", supa_clients(p));
    }
    if (!session && supa_clients(p) >= p->cfg->max_clients) {
        link_send_down(l, LINK_FATAL, ERRK_EMAXCONN);
        return;
    }
    if (session && p->cfg->session_full == SUPA_FULL_REJECT &&
        supa_clients(p) + p->cfg->foreign_clients >= p->cfg->pool_size) {
        link_send_down(l, LINK_FATAL, ERRK_MAX_CLIENTS_IN_SESSION_MODE);
        return;
    }
    c = slab_alloc(&p->clients);
    c->p = p;
    c->link = l;
    c->worker = NULL;
    c->wait_start = 0;
    c->state = SUPA_CL_ACTIVE;
    prep_map_init(&c->stmts);
    list_node_init(&c->node);
    list_push_tail(&p->cl_active, &c->node);
    sim_event_init(&c->timeout, on_checkout_timeout, c);
    l->peer = c;
    stat_level_add(&p->m->client_conns, sim_now(p->sim), 1);
    if (!p->warm_started) {
        p->warm_started = true;
        start_worker(p, true, false, l->trace_id);
    }
    if (session) {
        checkout(p, c, SUPA_CL_CHECKOUT);
    } else {
        link_send_down(l, LINK_CONNECTED, ERRK_NONE);
    }
}

static void client_query(struct supa *p, struct supa_client *c)
{
    if (c->state == SUPA_CL_LINKED) {
        forward(p, c, c->worker);
        return;
    }
    assert(c->state == SUPA_CL_ACTIVE);
    checkout(p, c, SUPA_CL_WAITING);
}

/* The client went away (CLOSE, or a withdrawn connect): no answer. */
static void client_gone(struct supa *p, struct supa_client *c)
{
    if (c->state == SUPA_CL_LINKED) {
        unlink_client(p, c, true);
    }
    destroy_client(p, c);
}

static void supa_on_connect(void *ctx, struct link *l)
{
    client_connect(ctx, l);
    assert(supa_check(ctx));
}

static void supa_on_query(void *ctx, struct link *l)
{
    client_query(ctx, l->peer);
    assert(supa_check(ctx));
}

static void supa_on_gone(void *ctx, struct link *l)
{
    client_gone(ctx, l->peer);
    assert(supa_check(ctx));
}

static const struct upstream_ops supa_ops = {supa_on_connect, supa_on_query, supa_on_gone};

/*
 * Foreign session clients (developers' machines on the same pooler URL) hold one
 * backend each from t = 0, up to pool_size.  They count against the app's pool
 * when the app is in session mode too (the same pool), or in transaction mode
 * when both modes share one budget; otherwise they only hold PostgreSQL slots.
 */
static void start_foreign(struct supa *p)
{
    int64_t n =
        p->cfg->foreign_clients < p->cfg->pool_size ? p->cfg->foreign_clients : p->cfg->pool_size;
    bool in_budget = p->cfg->pool_mode == SUPA_SESSION || p->cfg->budget == SUPA_BUDGET_SHARED;

    p->foreign_in_budget = in_budget ? n : 0;
    for (int64_t i = 0; i < n; i++) {
        start_worker(p, false, true, 0);
    }
}

void supa_init(struct supa *p, struct sim *sim, const struct supa_config *cfg, struct metrics *m,
               const struct upstream *db, sim_time db_rtt, int handshake_rtts)
{
    p->cfg = cfg;
    p->sim = sim;
    p->m = m;
    p->db = db;
    p->db_rtt = db_rtt;
    p->handshake_rtts = handshake_rtts;
    p->up.ops = &supa_ops;
    p->up.ctx = p;
    p->warm_started = false;
    p->started = 0;
    slab_init(&p->clients, sizeof(struct supa_client));
    slab_init(&p->workers, sizeof(struct supa_worker));
    list_init(&p->cl_checkout);
    list_init(&p->cl_active);
    list_init(&p->cl_waiting);
    list_init(&p->cl_linked);
    list_init(&p->wk_login);
    list_init(&p->wk_idle);
    list_init(&p->wk_busy);
    list_init(&p->wk_foreign);
    start_foreign(p);
}

/* No timers of its own outside slab objects: only frees (see scn_fini for the order). */
void supa_fini(struct supa *p)
{
    struct list *cls[] = {&p->cl_checkout, &p->cl_active, &p->cl_waiting, &p->cl_linked};
    struct list *wks[] = {&p->wk_login, &p->wk_idle, &p->wk_busy, &p->wk_foreign};

    for (size_t i = 0; i < sizeof cls / sizeof cls[0]; i++) {
        for (struct list_node *n = list_first(cls[i]); n; n = list_next(cls[i], n)) {
            prep_map_fini(&container_of(n, struct supa_client, node)->stmts);
        }
        for (struct list_node *n = list_first(wks[i]); n; n = list_next(wks[i], n)) {
            prep_map_fini(&container_of(n, struct supa_worker, node)->prepared);
        }
    }
    slab_fini(&p->clients);
    slab_fini(&p->workers);
}

bool supa_check(const struct supa *p)
{
    if (supa_workers(p) + p->foreign_in_budget > supa_capacity(p->cfg)) {
        return false;
    }
    if ((!list_is_empty(&p->cl_checkout) || !list_is_empty(&p->cl_waiting)) &&
        !list_is_empty(&p->wk_idle)) {
        return false;
    }
    return list_count(&p->cl_linked) == list_count(&p->wk_busy) &&
           p->m->server_busy.value == (int64_t)list_count(&p->wk_busy);
}

/*
 * pgbouncer.c - PgBouncer's pool: client and server state lists, linking at
 * the first query, FIFO waiters, LIFO idle servers, one server login at a
 * time, growth limits, release by pool mode, the janitor's timeouts and the
 * server_login_retry fast-fail (reference/domain.md §2.2-§2.4; see
 * pgbouncer.h).  It follows pgbouncer's src/objects.c (launch_new_connection,
 * check_fast_fail, find_server, release_server, disconnect_server) and
 * src/janitor.c (pool_server_maint, pool_client_maint, per_loop_activate).
 *
 * After every event PgBouncer handles, activate() does what per_loop_activate
 * does: if more clients wait than servers are being reset, it tries to open
 * one more server.  A FATAL that finds another message to the client still on
 * its way follows it (the client is CLOSING meanwhile), and what a client
 * sends on a connection PgBouncer has closed is dropped, as on a socket.
 *
 * Invariants (pgb_check, O(1)): linked clients and active servers are as
 * many, and as many as the busy-server level says; waiting clients exist only
 * while no server is idle; servers never exceed pgb_server_cap; at most one
 * server is logging in; clients never exceed max_client_conn; the login
 * retry timer runs only after a failed login; the connection levels match;
 * the statements tracked on servers are at most max_prepared_statements
 * each.
 */
#include "models/pgbouncer.h"

#include <assert.h>
#include <inttypes.h>

#include "models/trace.h"

static const struct upstream_ops pgb_ops;

void pgb_config_default(struct pgb_config *cfg)
{
    cfg->pool_mode = PGB_SESSION;
    cfg->default_pool_size = 20;
    cfg->max_client_conn = 100;
    cfg->reserve_pool_size = 0;
    cfg->max_db_connections = 0;
    cfg->foreign_clients = 0;
    cfg->query_wait_timeout = SIM_S(120);
    cfg->query_timeout = 0;
    cfg->reserve_pool_timeout = SIM_S(5);
    cfg->server_connect_timeout = SIM_S(15);
    cfg->server_login_retry = SIM_S(15);
    cfg->per_statement = 0;
    cfg->max_prepared_statements = 200; /* since 1.24.0 (domain.md §2.5.2) */
}

/* PgBouncer tracks prepared statements: max_prepared_statements > 0, not in session mode. */
static bool tracking(const struct pgb *p)
{
    return p->cfg->max_prepared_statements > 0 && p->cfg->pool_mode != PGB_SESSION;
}

int64_t pgb_server_cap(const struct pgb_config *cfg)
{
    int64_t cap = cfg->default_pool_size + cfg->reserve_pool_size;

    if (cfg->max_db_connections > 0 && cfg->max_db_connections < cap) {
        cap = cfg->max_db_connections;
    }
    return cap;
}

int64_t pgb_clients(const struct pgb *p)
{
    return (int64_t)(list_count(&p->cl_active) + list_count(&p->cl_waiting) +
                     list_count(&p->cl_linked));
}

int64_t pgb_servers(const struct pgb *p)
{
    return (int64_t)(list_count(&p->sv_login) + list_count(&p->sv_idle) +
                     list_count(&p->sv_active) + list_count(&p->sv_tested));
}

static struct list *cl_list(struct pgb *p, enum pgb_cl_state s)
{
    switch (s) {
    case PGB_CL_ACTIVE:
        return &p->cl_active;
    case PGB_CL_WAITING:
        return &p->cl_waiting;
    case PGB_CL_LINKED:
        return &p->cl_linked;
    case PGB_CL_CLOSING:
        return &p->cl_closing;
    }
    return NULL;
}

static struct list *sv_list(struct pgb *p, enum pgb_sv_state s)
{
    switch (s) {
    case PGB_SV_LOGIN:
        return &p->sv_login;
    case PGB_SV_IDLE:
        return &p->sv_idle;
    case PGB_SV_ACTIVE:
        return &p->sv_active;
    case PGB_SV_TESTED:
        return &p->sv_tested;
    }
    return NULL;
}

static void cl_set_state(struct pgb *p, struct pgb_client *c, enum pgb_cl_state to)
{
    list_remove(cl_list(p, c->state), &c->node);
    c->state = to;
    list_push_tail(cl_list(p, to), &c->node);
}

/* Move s to state to; idle servers are pushed at the head so reuse is LIFO. */
static void sv_set_state(struct pgb *p, struct pgb_server *s, enum pgb_sv_state to)
{
    sim_time now = sim_now(p->sim);

    assert(to != s->state);
    if (to == PGB_SV_ACTIVE) {
        stat_level_add(&p->m->server_busy, now, 1);
        s->linked_at = now;
    } else if (s->state == PGB_SV_ACTIVE) {
        stat_level_add(&p->m->server_busy, now, -1);
        stat_acc_add(&p->m->server_hold, (double)(now - s->linked_at));
    }
    list_remove(sv_list(p, s->state), &s->node);
    s->state = to;
    if (to == PGB_SV_IDLE) {
        list_push_head(sv_list(p, to), &s->node);
    } else {
        list_push_tail(sv_list(p, to), &s->node);
    }
}

/* ---- growth of the pool (launch_new_connection) ---- */

/* The reserve is open: the first waiter has waited reserve_pool_timeout (>=, as the code has). */
static bool reserve_open(const struct pgb *p, int64_t servers)
{
    const struct pgb_config *cfg = p->cfg;
    struct list_node *n = list_first(&p->cl_waiting);
    const struct pgb_client *c;

    if (cfg->reserve_pool_timeout == 0 || cfg->reserve_pool_size == 0 || n == NULL) {
        return false;
    }
    c = container_of(n, struct pgb_client, node);
    return sim_now(p->sim) - c->request_at >= cfg->reserve_pool_timeout &&
           servers < cfg->default_pool_size + cfg->reserve_pool_size;
}

/* Checks in launch_new_connection's order: one login at a time, the retry pause, the limits. */
static bool may_launch(const struct pgb *p)
{
    const struct pgb_config *cfg = p->cfg;
    int64_t n = pgb_servers(p);

    if (!list_is_empty(&p->sv_login)) {
        return false;
    }
    if (p->login_failed && sim_now(p->sim) - p->last_connect_at < cfg->server_login_retry) {
        return false;
    }
    if (n >= cfg->default_pool_size && !reserve_open(p, n)) {
        return false;
    }
    return cfg->max_db_connections == 0 || n < cfg->max_db_connections;
}

static void on_server_down(struct link *l, enum link_msg msg, enum errkind err);

/* The trace id of a client connection (a foreign client has none). */
static uint64_t client_trace_id(const struct pgb_client *c)
{
    return c->link ? c->link->trace_id : 0;
}

/* A new server's login is in the trace of the newest waiting client, whose wait made it. */
static void trace_launch(struct pgb *p, struct pgb_server *s)
{
    struct list_node *n = list_last(&p->cl_waiting);
    uint64_t id = n ? client_trace_id(container_of(n, struct pgb_client, node)) : 0;

    s->link.trace_id = id;
    if (trace_is_on(id)) {
        trace_emit(p->m->trace, id, sim_now(p->sim), TRACE_CONNECT,
                   "pgbouncer: opens server %" PRIu64 " (%zu clients waiting)", s->serial,
                   list_count(&p->cl_waiting));
    }
}

/* Open one more server connection if the pool may grow. */
static void try_launch(struct pgb *p)
{
    struct pgb_server *s;

    if (!may_launch(p)) {
        return;
    }
    s = slab_alloc(&p->servers);
    s->p = p;
    s->serial = ++p->opened;
    s->client = NULL;
    s->ready = false;
    s->state = PGB_SV_LOGIN;
    prep_map_init(&s->prepared);
    s->connect_at = p->last_connect_at = sim_now(p->sim);
    list_node_init(&s->node);
    list_push_tail(&p->sv_login, &s->node);
    stat_level_add(&p->m->server_conns, s->connect_at, 1);
    link_init(&s->link, p->sim, p->db, p->db_rtt, p->handshake_rtts, on_server_down, s);
    if (p->m->trace) {
        trace_launch(p, s);
    }
    link_send_up(&s->link, LINK_CONNECT, NULL);
}

/* per_loop_activate: clients that no server being reset will serve make the pool grow. */
static void activate(struct pgb *p)
{
    if (list_count(&p->cl_waiting) > list_count(&p->sv_tested)) {
        try_launch(p);
    }
}

/* check_fast_fail: the last login failed and no server is connected. */
static bool fast_fail(const struct pgb *p)
{
    return p->login_failed && pgb_servers(p) == (int64_t)list_count(&p->sv_login);
}

/* ---- linking and releasing ---- */

/* Send client c's statement to its server s: as it is, or translated when tracking (§2.5). */
static void forward(struct pgb *p, struct pgb_client *c, struct pgb_server *s)
{
    s->ready = false;
    s->link.stmt = c->link->stmt;
    s->link.trace_id = c->link->trace_id;
    if (tracking(p)) {
        p->tracked -= prep_map_size(&s->prepared);
        prep_track(&c->stmts, &s->prepared, (size_t)p->cfg->max_prepared_statements, &s->link.stmt);
        p->tracked += prep_map_size(&s->prepared);
    }
    link_send_up(&s->link, LINK_QUERY, NULL);
}

/* Link waiting or active client c to idle server s and forward c's query. */
static void link_pair(struct pgb *p, struct pgb_client *c, struct pgb_server *s)
{
    sim_time wait_ns = sim_now(p->sim) - c->wait_start;

    sv_set_state(p, s, PGB_SV_ACTIVE);
    cl_set_state(p, c, PGB_CL_LINKED);
    s->client = c;
    c->server = s;
    if (c->link == NULL) {
        return; /* a foreign client: it holds the server and sends nothing */
    }
    stat_acc_add(&p->m->pooler_wait, (double)wait_ns);
    hist_add(p->m->h[SER_POOLER_WAIT], wait_ns);
    p->m->pooler_waited += wait_ns > 0;
    if (trace_is_on(c->link->trace_id)) {
        trace_emit(p->m->trace, c->link->trace_id, sim_now(p->sim), TRACE_POOLER_WAIT,
                   "pgbouncer: server %" PRIu64 " linked after %.9g ms", s->serial,
                   sim_time_to_ms(wait_ns));
    }
    forward(p, c, s);
}

/* Server s is free: it becomes idle, and the first waiting client takes it. */
static void server_ready(struct pgb *p, struct pgb_server *s)
{
    struct list_node *n = list_first(&p->cl_waiting);

    s->ready = true;
    sv_set_state(p, s, PGB_SV_IDLE);
    if (n) {
        link_pair(p, container_of(n, struct pgb_client, node), s);
    }
}

/* Unlink s from its client; in session mode the reset query runs first. */
static void release_server(struct pgb *p, struct pgb_server *s)
{
    struct pgb_client *c = s->client;
    struct stmt reset = {.deallocate_all = true}; /* server_reset_query: DISCARD ALL */

    if (trace_is_on(client_trace_id(c))) {
        trace_emit(p->m->trace, client_trace_id(c), sim_now(p->sim), TRACE_RELEASE,
                   "pgbouncer: server %" PRIu64 " released after %.9g ms linked", s->serial,
                   sim_time_to_ms(sim_now(p->sim) - s->linked_at));
    }
    s->link.trace_id = 0;
    c->server = NULL;
    s->client = NULL;
    cl_set_state(p, c, PGB_CL_ACTIVE);
    if (p->cfg->pool_mode == PGB_SESSION) {
        sv_set_state(p, s, PGB_SV_TESTED);
        link_send_up(&s->link, LINK_QUERY, &reset);
        return;
    }
    server_ready(p, s);
}

/* ---- closing connections ---- */

/* Close s (PostgreSQL frees the backend) and forget it; s has no client. */
static void destroy_server(struct pgb *p, struct pgb_server *s)
{
    assert(s->client == NULL);
    if (s->state == PGB_SV_ACTIVE) {
        sv_set_state(p, s, PGB_SV_IDLE);
    }
    link_close(&s->link);
    p->tracked -= prep_map_size(&s->prepared);
    prep_map_fini(&s->prepared);
    list_remove(sv_list(p, s->state), &s->node);
    stat_level_add(&p->m->server_conns, sim_now(p->sim), -1);
    slab_free(&p->servers, s);
}

/* Forget c; a CLOSING client was already no longer counted. */
static void destroy_client(struct pgb *p, struct pgb_client *c)
{
    if (c->state != PGB_CL_CLOSING) {
        stat_level_add(&p->m->client_conns, sim_now(p->sim), -1);
    }
    sim_cancel(p->sim, &c->ev_query);
    sim_cancel(p->sim, &c->ev_fatal);
    prep_map_fini(&c->stmts);
    list_remove(cl_list(p, c->state), &c->node);
    if (c->link) {
        c->link->peer = NULL;
    }
    slab_free(&p->clients, c);
}

/*
 * Another message to c is on its way (a result, when query_timeout closes an
 * open transaction): the FATAL goes out behind it and arrives half a round
 * trip from now, as on a socket.  Meanwhile c stays the link's peer, so that
 * what the client sends is ignored.
 */
static void close_behind(struct pgb *p, struct pgb_client *c, enum errkind err)
{
    stat_level_add(&p->m->client_conns, sim_now(p->sim), -1);
    sim_cancel(p->sim, &c->ev_query);
    cl_set_state(p, c, PGB_CL_CLOSING);
    c->fatal_err = err;
    sim_schedule_in(p->sim, &c->ev_fatal, link_half_back(c->link->rtt));
}

/* The FATAL of a CLOSING client arrives, after the message that was ahead of it. */
static void on_fatal(struct sim *sim, struct sim_event *ev)
{
    struct pgb_client *c = ev->ctx;
    struct pgb *p = c->p;
    struct link *l = c->link;
    enum errkind err = c->fatal_err;

    (void)sim;
    destroy_client(p, c);
    assert(!sim_event_is_pending(&l->ev_down));
    l->on_down(l, LINK_FATAL, err); /* as link_send_down delivers, with its delay already paid */
    activate(p);
    assert(pgb_check(p));
}

/* PgBouncer closes c: a waiting client gives up its wait; a linked one loses its server. */
static void trace_disconnect(struct pgb *p, const struct pgb_client *c, enum errkind err)
{
    sim_time now = sim_now(p->sim);

    if (c->state == PGB_CL_WAITING) {
        trace_emit(p->m->trace, c->link->trace_id, now, TRACE_POOLER_WAIT,
                   "pgbouncer: closes the client after %.9g ms waiting: %s",
                   sim_time_to_ms(now - c->wait_start), errkind_name(err));
        return;
    }
    trace_emit(p->m->trace, c->link->trace_id, now, TRACE_RELEASE,
               "pgbouncer: closes the client: %s", errkind_name(err));
}

/*
 * PgBouncer closes client c with a FATAL error.  The client is forgotten
 * before the message leaves: a zero-length hop delivers it at once, and the
 * app may react (close, reconnect) before this returns.
 */
static void disconnect_client(struct pgb *p, struct pgb_client *c, enum errkind err)
{
    struct link *l = c->link;

    if (trace_is_on(client_trace_id(c))) {
        trace_disconnect(p, c, err);
    }
    if (l && sim_event_is_pending(&l->ev_down)) {
        close_behind(p, c, err);
        return;
    }
    destroy_client(p, c);
    if (l) {
        link_send_down(l, LINK_FATAL, err);
    }
}

/* disconnect_server of an active server: the server is closed, its client gets err. */
static void kill_linked(struct pgb *p, struct pgb_client *c, enum errkind err)
{
    struct pgb_server *s = c->server;

    s->client = NULL;
    c->server = NULL;
    destroy_server(p, s);
    disconnect_client(p, c, err);
}

static void on_login_retry(struct sim *sim, struct sim_event *ev)
{
    struct pgb *p = ev->ctx;

    (void)sim;
    activate(p);
    assert(pgb_check(p));
}

/* A login failed (refused, or abandoned at server_connect_timeout): pause further logins. */
static void server_login_failed(struct pgb *p, struct pgb_server *s)
{
    sim_time now = sim_now(p->sim), end = p->last_connect_at + p->cfg->server_login_retry;

    destroy_server(p, s);
    p->login_failed = true;
    sim_schedule(p->sim, &p->login_retry, end > now ? end : now);
}

/* ---- server side ---- */

/* A statement's answer came back from PostgreSQL through server s. */
static void server_result(struct pgb *p, struct pgb_server *s, enum errkind err)
{
    struct pgb_client *c = s->client;
    bool tx_open = s->link.stmt.in_tx_after;

    if (tracking(p)) { /* DEALLOCATE ALL: PgBouncer forgets this client's and server's names */
        p->tracked -= prep_map_size(&s->prepared);
        prep_track_result(&c->stmts, &s->prepared, &s->link.stmt);
        p->tracked += prep_map_size(&s->prepared);
    }
    if (p->cfg->pool_mode == PGB_STATEMENT && tx_open) {
        kill_linked(p, c, ERRK_STATEMENT_MODE);
        return;
    }
    s->ready = !tx_open;
    if (p->cfg->pool_mode != PGB_SESSION && !tx_open) {
        release_server(p, s);
    }
    link_send_down(c->link, LINK_RESULT, err);
}

static void server_fatal(struct pgb *p, struct pgb_server *s, enum errkind err)
{
    struct pgb_client *c = s->client;

    if (s->state == PGB_SV_LOGIN) {
        server_login_failed(p, s);
    } else if (c) {
        kill_linked(p, c, err);
    } else {
        destroy_server(p, s);
    }
}

static void on_server_down(struct link *l, enum link_msg msg, enum errkind err)
{
    struct pgb_server *s = l->owner;
    struct pgb *p = s->p;

    if (msg == LINK_CONNECTED) {
        p->login_failed = false;
        server_ready(p, s);
    } else if (msg == LINK_FATAL) {
        server_fatal(p, s, err);
    } else if (s->state == PGB_SV_TESTED) {
        server_ready(p, s);
    } else {
        server_result(p, s, err);
    }
    activate(p);
    assert(pgb_check(p));
}

/* ---- client side ---- */

static void on_query(struct sim *sim, struct sim_event *ev);

static struct pgb_client *client_new(struct pgb *p, struct link *l)
{
    struct pgb_client *c = slab_alloc(&p->clients);

    c->p = p;
    c->link = l;
    c->server = NULL;
    c->request_at = c->wait_start = 0;
    c->state = PGB_CL_ACTIVE;
    prep_map_init(&c->stmts);
    sim_event_init(&c->ev_query, on_query, c);
    sim_event_init(&c->ev_fatal, on_fatal, c);
    list_node_init(&c->node);
    list_push_tail(&p->cl_active, &c->node);
    stat_level_add(&p->m->client_conns, sim_now(p->sim), 1);
    return c;
}

/* A login: refused at once beyond max_client_conn, or while logins fail (check_fast_fail). */
static void client_connect(struct pgb *p, struct link *l)
{
    if (trace_is_on(l->trace_id)) {
        trace_emit(p->m->trace, l->trace_id, sim_now(p->sim), TRACE_CONNECT,
                   "pgbouncer: client login; %" PRId64 " of %" PRId64 " clients", pgb_clients(p),
                   p->cfg->max_client_conn);
    }
    if (pgb_clients(p) >= p->cfg->max_client_conn) {
        link_send_down(l, LINK_FATAL, ERRK_MAX_CLIENT_CONN);
        return;
    }
    if (fast_fail(p)) {
        try_launch(p);
        link_send_down(l, LINK_FATAL, ERRK_SERVER_LOGIN_RETRY);
        return;
    }
    l->peer = client_new(p, l);
    link_send_down(l, LINK_CONNECTED, ERRK_NONE);
}

/* Client c's query leaves for a server (find_server): linked, idle server, fast-fail or wait. */
static void client_query(struct pgb *p, struct pgb_client *c)
{
    struct list_node *idle;

    if (c->state == PGB_CL_LINKED) {
        forward(p, c, c->server);
        return;
    }
    c->wait_start = sim_now(p->sim);
    idle = list_first(&p->sv_idle);
    if (idle) {
        link_pair(p, c, container_of(idle, struct pgb_server, node));
    } else if (fast_fail(p)) {
        try_launch(p);
        disconnect_client(p, c, ERRK_SERVER_LOGIN_RETRY);
    } else {
        if (trace_is_on(client_trace_id(c))) {
            trace_emit(p->m->trace, c->link->trace_id, c->wait_start, TRACE_POOLER_WAIT,
                       "pgbouncer: no idle server; %zu of %" PRId64
                       " servers open; %zu waiting ahead",
                       (size_t)pgb_servers(p), pgb_server_cap(p->cfg), list_count(&p->cl_waiting));
        }
        cl_set_state(p, c, PGB_CL_WAITING);
    }
}

/* The end of the pooler's own per_statement cost for c's query. */
static void on_query(struct sim *sim, struct sim_event *ev)
{
    struct pgb_client *c = ev->ctx;
    struct pgb *p = c->p;

    (void)sim;
    client_query(p, c);
    activate(p);
    assert(pgb_check(p));
}

/* A query arrives: query_timeout counts from now; it leaves after per_statement. */
static void client_query_arrived(struct pgb *p, struct pgb_client *c)
{
    c->request_at = sim_now(p->sim);
    if (p->cfg->per_statement > 0) {
        sim_schedule_in(p->sim, &c->ev_query, p->cfg->per_statement);
    } else {
        client_query(p, c);
    }
}

/*
 * The client went away (CLOSE, or a withdrawn connect): no answer.  A server
 * in the middle of a query or transaction cannot be reset and is closed.
 */
static void client_gone(struct pgb *p, struct pgb_client *c)
{
    struct pgb_server *s = c->server;

    if (s && s->ready) {
        release_server(p, s);
    } else if (s) {
        s->client = NULL;
        c->server = NULL;
        destroy_server(p, s);
    }
    destroy_client(p, c);
}

static void pgb_on_connect(void *ctx, struct link *l)
{
    struct pgb *p = ctx;

    client_connect(p, l);
    activate(p);
    assert(pgb_check(p));
}

/*
 * A query on a connection PgBouncer has closed (peer NULL: its FATAL is
 * already on the way) or is closing is dropped, as on a closed socket.
 */
static void pgb_on_query(void *ctx, struct link *l)
{
    struct pgb *p = ctx;
    struct pgb_client *c = l->peer;

    if (c && c->state != PGB_CL_CLOSING) {
        client_query_arrived(p, c);
    }
    activate(p);
    assert(pgb_check(p));
}

static void pgb_on_gone(void *ctx, struct link *l)
{
    struct pgb *p = ctx;

    client_gone(p, l->peer);
    activate(p);
    assert(pgb_check(p));
}

static const struct upstream_ops pgb_ops = {pgb_on_connect, pgb_on_query, pgb_on_gone};

/* ---- the janitor (src/janitor.c) ---- */

/* A linked client whose server is not ready and whose last query is older than query_timeout. */
static struct pgb_client *query_overdue(struct pgb *p, sim_time now)
{
    struct list_node *n;

    for (n = list_first(&p->cl_linked); n; n = list_next(&p->cl_linked, n)) {
        struct pgb_client *c = container_of(n, struct pgb_client, node);

        if (!c->server->ready && now - c->request_at > p->cfg->query_timeout) {
            return c;
        }
    }
    return NULL;
}

/*
 * pool_server_maint: query_timeout on active servers, then the login older
 * than server_connect_timeout.  The scan restarts after each disconnect: the
 * app may react to the FATAL at once and change the lists.
 */
static void janitor_servers(struct pgb *p, sim_time now)
{
    struct pgb_client *c;
    struct list_node *n;

    while (p->cfg->query_timeout > 0 && (c = query_overdue(p, now)) != NULL) {
        kill_linked(p, c, ERRK_QUERY_TIMEOUT);
    }
    n = list_first(&p->sv_login);
    if (n && p->cfg->server_connect_timeout > 0) {
        struct pgb_server *s = container_of(n, struct pgb_server, node);

        if (now - s->connect_at > p->cfg->server_connect_timeout) {
            link_withdraw(&s->link);
            server_login_failed(p, s);
        }
    }
}

/* pool_client_maint: waiting clients older than query_timeout, else query_wait_timeout. */
static void janitor_waiters(struct pgb *p, sim_time now)
{
    sim_time qt = p->cfg->query_timeout, qwt = p->cfg->query_wait_timeout;
    sim_time limit = qt > 0 && (qwt == 0 || qt < qwt) ? qt : qwt;
    struct list_node *n;

    while (limit > 0 && (n = list_first(&p->cl_waiting)) != NULL) {
        struct pgb_client *c = container_of(n, struct pgb_client, node);
        sim_time age = now - c->request_at;

        if (age <= limit) {
            break; /* FIFO: everyone behind waited less */
        }
        disconnect_client(p, c, qt > 0 && age > qt ? ERRK_QUERY_TIMEOUT : ERRK_QUERY_WAIT_TIMEOUT);
    }
}

static void on_janitor(struct sim *sim, struct sim_event *ev)
{
    struct pgb *p = ev->ctx;
    sim_time now = sim_now(sim);

    janitor_servers(p, now);
    janitor_waiters(p, now);
    activate(p);
    sim_schedule_in(sim, ev, PGB_JANITOR_PERIOD_NS);
    assert(pgb_check(p));
}

/* ---- life cycle ---- */

/* The foreign clients log in now; as many as the pool can serve ask for a server. */
static void foreign_start(struct pgb *p)
{
    int64_t takers = p->cfg->default_pool_size;

    if (p->cfg->max_db_connections > 0 && p->cfg->max_db_connections < takers) {
        takers = p->cfg->max_db_connections;
    }
    for (int64_t i = 0; i < p->cfg->foreign_clients; i++) {
        struct pgb_client *c = client_new(p, NULL);

        if (i < takers) {
            client_query(p, c);
        }
    }
    activate(p);
}

void pgb_init(struct pgb *p, struct sim *sim, const struct pgb_config *cfg, struct metrics *m,
              const struct upstream *db, sim_time db_rtt, int handshake_rtts)
{
    assert(cfg->foreign_clients <= cfg->max_client_conn);
    p->cfg = cfg;
    p->sim = sim;
    p->m = m;
    p->db = db;
    p->db_rtt = db_rtt;
    p->handshake_rtts = handshake_rtts;
    p->up.ops = &pgb_ops;
    p->up.ctx = p;
    p->login_failed = false;
    p->last_connect_at = 0;
    p->tracked = 0;
    p->opened = 0;
    slab_init(&p->clients, sizeof(struct pgb_client));
    slab_init(&p->servers, sizeof(struct pgb_server));
    list_init(&p->cl_active);
    list_init(&p->cl_waiting);
    list_init(&p->cl_linked);
    list_init(&p->cl_closing);
    list_init(&p->sv_login);
    list_init(&p->sv_idle);
    list_init(&p->sv_active);
    list_init(&p->sv_tested);
    sim_event_init(&p->janitor, on_janitor, p);
    sim_event_init(&p->login_retry, on_login_retry, p);
    sim_schedule_in(sim, &p->janitor, PGB_JANITOR_PERIOD_NS);
    foreign_start(p);
}

/* Cancel the clients' timers and free their tables. */
static void fini_clients(struct pgb *p, struct list *l)
{
    for (struct list_node *n = list_first(l); n; n = list_next(l, n)) {
        struct pgb_client *c = container_of(n, struct pgb_client, node);

        sim_cancel(p->sim, &c->ev_query);
        sim_cancel(p->sim, &c->ev_fatal);
        prep_map_fini(&c->stmts);
    }
}

static void fini_servers(struct list *l)
{
    for (struct list_node *n = list_first(l); n; n = list_next(l, n)) {
        prep_map_fini(&container_of(n, struct pgb_server, node)->prepared);
    }
}

/* Cancels its own timers first, then frees its slabs (see scn_fini for the order). */
void pgb_fini(struct pgb *p)
{
    sim_cancel(p->sim, &p->janitor);
    sim_cancel(p->sim, &p->login_retry);
    fini_clients(p, &p->cl_active);
    fini_clients(p, &p->cl_waiting);
    fini_clients(p, &p->cl_linked);
    fini_clients(p, &p->cl_closing);
    fini_servers(&p->sv_login);
    fini_servers(&p->sv_idle);
    fini_servers(&p->sv_active);
    fini_servers(&p->sv_tested);
    slab_fini(&p->clients);
    slab_fini(&p->servers);
}

bool pgb_check(const struct pgb *p)
{
    int64_t servers = pgb_servers(p), clients = pgb_clients(p);

    if (servers > pgb_server_cap(p->cfg) || list_count(&p->sv_login) > 1 ||
        clients > p->cfg->max_client_conn) {
        return false;
    }
    if (!list_is_empty(&p->cl_waiting) && !list_is_empty(&p->sv_idle)) {
        return false;
    }
    if (sim_event_is_pending(&p->login_retry) && !p->login_failed) {
        return false;
    }
    if (p->tracked > (size_t)servers * (size_t)p->cfg->max_prepared_statements) {
        return false;
    }
    return list_count(&p->cl_linked) == list_count(&p->sv_active) &&
           p->m->server_busy.value == (int64_t)list_count(&p->sv_active) &&
           p->m->server_conns.value == servers && p->m->client_conns.value == clients;
}

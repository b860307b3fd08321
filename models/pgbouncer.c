/*
 * pgbouncer.c - PgBouncer's pool: client and server state lists, linking at
 * the first query, FIFO waiters, LIFO idle servers, one server login at a
 * time, release by pool mode, and the janitor's query_wait_timeout
 * (reference/domain.md §2.2, §2.3, §2.4; see pgbouncer.h).
 *
 * Invariants (pgb_check): a client is LINKED iff it has a server, and that
 * server is ACTIVE and linked back to it; waiting clients exist only while
 * no server is idle; servers never exceed default_pool_size; at most one
 * server is logging in.
 */
#include "models/pgbouncer.h"

#include <assert.h>

static const struct upstream_ops pgb_ops;

void pgb_config_default(struct pgb_config *cfg)
{
    cfg->pool_mode = PGB_SESSION;
    cfg->default_pool_size = 20;
    cfg->max_client_conn = 100;
    cfg->query_wait_timeout = SIM_S(120);
    cfg->server_login_retry = SIM_S(15);
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

static void on_server_down(struct link *l, enum link_msg msg, enum errkind err);

/* Open one more server connection if the pool may grow and none is logging in. */
static void launch_server(struct pgb *p)
{
    struct pgb_server *s;

    if (list_is_empty(&p->cl_waiting) || !list_is_empty(&p->sv_login) ||
        sim_event_is_pending(&p->login_retry) || pgb_servers(p) >= p->cfg->default_pool_size) {
        return;
    }
    s = slab_alloc(&p->servers);
    s->p = p;
    s->client = NULL;
    s->state = PGB_SV_LOGIN;
    list_node_init(&s->node);
    list_push_tail(&p->sv_login, &s->node);
    stat_level_add(&p->m->server_conns, sim_now(p->sim), 1);
    link_init(&s->link, p->sim, p->db, p->db_rtt, p->handshake_rtts, on_server_down, s);
    link_send_up(&s->link, LINK_CONNECT, NULL);
}

/* Link waiting or active client c to idle server s and forward c's query. */
static void link_pair(struct pgb *p, struct pgb_client *c, struct pgb_server *s)
{
    sim_time wait_ns = sim_now(p->sim) - c->wait_start;

    stat_acc_add(&p->m->pooler_wait, (double)wait_ns);
    hist_add(p->m->h[SER_POOLER_WAIT], wait_ns);
    p->m->pooler_waited += wait_ns > 0;
    sv_set_state(p, s, PGB_SV_ACTIVE);
    cl_set_state(p, c, PGB_CL_LINKED);
    s->client = c;
    c->server = s;
    link_send_up(&s->link, LINK_QUERY, &c->link->stmt);
}

/* Server s is free: it becomes idle, and the first waiting client takes it. */
static void server_ready(struct pgb *p, struct pgb_server *s)
{
    struct list_node *n = list_first(&p->cl_waiting);

    sv_set_state(p, s, PGB_SV_IDLE);
    if (n) {
        link_pair(p, container_of(n, struct pgb_client, node), s);
    }
}

/* Unlink s from its client; in session mode the reset query runs first. */
static void release_server(struct pgb *p, struct pgb_server *s)
{
    struct pgb_client *c = s->client;
    struct stmt reset = {0, false};

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

static void destroy_server(struct pgb *p, struct pgb_server *s)
{
    if (s->state == PGB_SV_ACTIVE) {
        sv_set_state(p, s, PGB_SV_IDLE);
    }
    link_close(&s->link); /* PostgreSQL frees the backend */
    list_remove(sv_list(p, s->state), &s->node);
    stat_level_add(&p->m->server_conns, sim_now(p->sim), -1);
    slab_free(&p->servers, s);
}

static void destroy_client(struct pgb *p, struct pgb_client *c)
{
    list_remove(cl_list(p, c->state), &c->node);
    c->link->peer = NULL;
    stat_level_add(&p->m->client_conns, sim_now(p->sim), -1);
    slab_free(&p->clients, c);
}

/*
 * PgBouncer closes client c with a FATAL error.  The client is forgotten
 * before the message leaves: a zero-length hop delivers it at once, and the
 * app may react (close, reconnect) before this returns.
 */
static void disconnect_client(struct pgb *p, struct pgb_client *c, enum errkind err)
{
    struct link *l = c->link;

    destroy_client(p, c);
    link_send_down(l, LINK_FATAL, err);
}

static void on_login_retry(struct sim *sim, struct sim_event *ev)
{
    (void)sim;
    launch_server(ev->ctx);
}

static void server_login_failed(struct pgb *p, struct pgb_server *s)
{
    destroy_server(p, s);
    sim_schedule_in(p->sim, &p->login_retry, p->cfg->server_login_retry);
}

/* A statement's answer came back from PostgreSQL through server s. */
static void server_result(struct pgb *p, struct pgb_server *s, enum errkind err)
{
    struct pgb_client *c = s->client;
    bool tx_open = s->link.stmt.in_tx_after;

    if (p->cfg->pool_mode == PGB_STATEMENT && tx_open) {
        destroy_server(p, s);
        disconnect_client(p, c, ERRK_STATEMENT_MODE);
        return;
    }
    if (p->cfg->pool_mode != PGB_SESSION && !tx_open) {
        release_server(p, s);
    }
    link_send_down(c->link, LINK_RESULT, err);
}

static void on_server_down(struct link *l, enum link_msg msg, enum errkind err)
{
    struct pgb_server *s = l->owner;
    struct pgb *p = s->p;

    if (msg == LINK_CONNECTED) {
        server_ready(p, s);
        launch_server(p);
    } else if (msg == LINK_FATAL && s->state == PGB_SV_LOGIN) {
        server_login_failed(p, s);
    } else if (msg == LINK_FATAL) {
        struct pgb_client *c = s->client;

        destroy_server(p, s);
        if (c) {
            disconnect_client(p, c, err);
        }
    } else if (s->state == PGB_SV_TESTED) {
        server_ready(p, s);
    } else {
        server_result(p, s, err);
    }
    assert(pgb_check(p));
}

static void client_connect(struct pgb *p, struct link *l)
{
    struct pgb_client *c;

    if (pgb_clients(p) >= p->cfg->max_client_conn) {
        link_send_down(l, LINK_FATAL, ERRK_MAX_CLIENT_CONN);
        return;
    }
    c = slab_alloc(&p->clients);
    c->p = p;
    c->link = l;
    c->server = NULL;
    c->wait_start = 0;
    c->state = PGB_CL_ACTIVE;
    list_node_init(&c->node);
    list_push_tail(&p->cl_active, &c->node);
    l->peer = c;
    stat_level_add(&p->m->client_conns, sim_now(p->sim), 1);
    link_send_down(l, LINK_CONNECTED, ERRK_NONE);
}

static void client_query(struct pgb *p, struct pgb_client *c)
{
    struct list_node *idle;

    if (c->state == PGB_CL_LINKED) {
        link_send_up(&c->server->link, LINK_QUERY, &c->link->stmt);
        return;
    }
    c->wait_start = sim_now(p->sim);
    idle = list_first(&p->sv_idle);
    if (idle) {
        link_pair(p, c, container_of(idle, struct pgb_server, node));
        return;
    }
    cl_set_state(p, c, PGB_CL_WAITING);
    launch_server(p);
}

/* The client went away (CLOSE, or a withdrawn connect): no answer. */
static void client_gone(struct pgb *p, struct pgb_client *c)
{
    if (c->state == PGB_CL_LINKED) {
        release_server(p, c->server);
    }
    destroy_client(p, c);
}

static void pgb_on_msg(void *ctx, struct link *l, enum link_msg m)
{
    struct pgb *p = ctx;

    switch (m) {
    case LINK_CONNECT:
        client_connect(p, l);
        break;
    case LINK_QUERY:
        client_query(p, l->peer);
        break;
    case LINK_CLOSE:
        if (l->peer) {
            client_gone(p, l->peer);
        }
        break;
    case LINK_CONNECTED:
    case LINK_RESULT:
    case LINK_FATAL:
        assert(!"a server-to-client message sent up");
        break;
    }
    assert(pgb_check(p));
}

static void pgb_on_withdraw(void *ctx, struct link *l)
{
    if (l->peer) {
        client_gone(ctx, l->peer);
    }
}

static const struct upstream_ops pgb_ops = {pgb_on_msg, pgb_on_withdraw};

/* Disconnect every waiting client whose wait strictly exceeds query_wait_timeout. */
static void on_janitor(struct sim *sim, struct sim_event *ev)
{
    struct pgb *p = ev->ctx;
    sim_time now = sim_now(sim), limit = p->cfg->query_wait_timeout;
    struct list_node *n;

    while (limit > 0 && (n = list_first(&p->cl_waiting)) != NULL) {
        struct pgb_client *c = container_of(n, struct pgb_client, node);

        if (now - c->wait_start <= limit) {
            break; /* FIFO: everyone behind waited less */
        }
        disconnect_client(p, c, ERRK_QUERY_WAIT_TIMEOUT);
    }
    sim_schedule_in(sim, ev, PGB_JANITOR_PERIOD_NS);
    assert(pgb_check(p));
}

void pgb_init(struct pgb *p, struct sim *sim, const struct pgb_config *cfg, struct metrics *m,
              const struct upstream *db, sim_time db_rtt, int handshake_rtts)
{
    p->cfg = cfg;
    p->sim = sim;
    p->m = m;
    p->db = db;
    p->db_rtt = db_rtt;
    p->handshake_rtts = handshake_rtts;
    p->up.ops = &pgb_ops;
    p->up.ctx = p;
    slab_init(&p->clients, sizeof(struct pgb_client));
    slab_init(&p->servers, sizeof(struct pgb_server));
    list_init(&p->cl_active);
    list_init(&p->cl_waiting);
    list_init(&p->cl_linked);
    list_init(&p->sv_login);
    list_init(&p->sv_idle);
    list_init(&p->sv_active);
    list_init(&p->sv_tested);
    sim_event_init(&p->janitor, on_janitor, p);
    sim_event_init(&p->login_retry, on_login_retry, p);
    sim_schedule(sim, &p->janitor, PGB_JANITOR_PERIOD_NS);
}

/* Cancels its own timers first, then frees its slabs (see scn_fini for the order). */
void pgb_fini(struct pgb *p)
{
    sim_cancel(p->sim, &p->janitor);
    sim_cancel(p->sim, &p->login_retry);
    slab_fini(&p->clients);
    slab_fini(&p->servers);
}

bool pgb_check(const struct pgb *p)
{
    if (pgb_servers(p) > p->cfg->default_pool_size || list_count(&p->sv_login) > 1) {
        return false;
    }
    if (!list_is_empty(&p->cl_waiting) && !list_is_empty(&p->sv_idle)) {
        return false;
    }
    return list_count(&p->cl_linked) == list_count(&p->sv_active) &&
           p->m->server_busy.value == (int64_t)list_count(&p->sv_active);
}

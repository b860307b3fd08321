/*
 * postgres.c - PostgreSQL backends and statements (reference/domain.md §4).
 *
 * A CONNECT takes a slot at once if one of the usable slots
 * (max_connections - superuser_reserved_connections) is free, and the
 * backend is ready after backend_start; otherwise the login is refused with
 * 53300.  A QUERY runs for its server time.  A CLOSE frees the slot when it
 * arrives.  Each backend is in exactly one list: starting, idle or active.
 * Invariant: starting + idle + active <= usable slots.
 */
#include "models/postgres.h"

#include <assert.h>

#include "sim/rng.h"

static const struct upstream_ops pg_ops;

void pg_config_default(struct pg_config *cfg)
{
    cfg->max_connections = 100;
    cfg->superuser_reserved = 3;
    cfg->version = 17;
    dist_init_const(&cfg->backend_start, SIM_MS(5));
}

int64_t pg_usable_slots(const struct pg_config *cfg)
{
    return cfg->max_connections - cfg->superuser_reserved;
}

const char *pg_refusal_text(const struct pg_config *cfg, int64_t in_use)
{
    if (in_use >= cfg->max_connections) {
        return "sorry, too many clients already";
    }
    if (cfg->version >= 16) {
        return "remaining connection slots are reserved for roles with the SUPERUSER attribute";
    }
    return "remaining connection slots are reserved for non-replication superuser connections";
}

int64_t pg_backends(const struct pg *pg)
{
    return (int64_t)(list_count(&pg->starting) + list_count(&pg->idle) +
                     list_count(&pg->active));
}

static struct list *state_list(struct pg *pg, enum pg_backend_state s)
{
    switch (s) {
    case PG_BE_STARTING:
        return &pg->starting;
    case PG_BE_IDLE:
        return &pg->idle;
    case PG_BE_ACTIVE:
        return &pg->active;
    }
    return NULL;
}

/* Move b to state to; report the levels before the change. */
static void be_set_state(struct pg *pg, struct pg_backend *b, enum pg_backend_state to)
{
    sim_time now = sim_now(pg->sim);

    if (to == PG_BE_ACTIVE) {
        stat_level_add(&pg->m->db_active, now, 1);
        if (pg->direct) {
            stat_level_add(&pg->m->server_busy, now, 1);
        }
        b->active_since = now;
    } else if (b->state == PG_BE_ACTIVE) {
        stat_level_add(&pg->m->db_active, now, -1);
        if (pg->direct) {
            stat_level_add(&pg->m->server_busy, now, -1);
            stat_acc_add(&pg->m->server_hold, (double)(now - b->active_since));
        }
    }
    list_remove(state_list(pg, b->state), &b->node);
    b->state = to;
    list_push_tail(state_list(pg, to), &b->node);
}

static void conns_changed(struct pg *pg, int64_t delta)
{
    sim_time now = sim_now(pg->sim);

    if (pg->direct) {
        stat_level_add(&pg->m->server_conns, now, delta);
        stat_level_add(&pg->m->client_conns, now, delta);
    }
}

static void on_started(struct sim *sim, struct sim_event *ev)
{
    struct pg_backend *b = ev->ctx;

    (void)sim;
    be_set_state(b->pg, b, PG_BE_IDLE);
    link_send_down(b->link, LINK_CONNECTED, ERRK_NONE);
}

static void on_stmt_done(struct sim *sim, struct sim_event *ev)
{
    struct pg_backend *b = ev->ctx;
    struct pg *pg = b->pg;

    (void)sim;
    be_set_state(pg, b, PG_BE_IDLE);
    if (!b->link->stmt.in_tx_after) {
        pg->m->tx_done++;
    }
    link_send_down(b->link, LINK_RESULT, ERRK_NONE);
}

static void do_connect(struct pg *pg, struct link *l)
{
    struct pg_backend *b;

    if (pg_backends(pg) >= pg_usable_slots(pg->cfg)) {
        link_send_down(l, LINK_FATAL, ERRK_53300);
        return;
    }
    b = slab_alloc(&pg->backends);
    b->pg = pg;
    b->link = l;
    b->state = PG_BE_STARTING;
    list_node_init(&b->node);
    list_push_tail(&pg->starting, &b->node);
    sim_event_init(&b->ev, on_started, b);
    l->peer = b;
    conns_changed(pg, 1);
    sim_schedule_in(pg->sim, &b->ev, dist_sample(&pg->cfg->backend_start, pg->rng_start));
}

static void do_query(struct pg *pg, struct pg_backend *b)
{
    assert(b->state == PG_BE_IDLE);
    be_set_state(pg, b, PG_BE_ACTIVE);
    sim_event_init(&b->ev, on_stmt_done, b);
    sim_schedule_in(pg->sim, &b->ev, b->link->stmt.server_ns);
}

/* The backend goes away: its slot is free at once. */
static void drop_backend(struct pg *pg, struct pg_backend *b)
{
    if (b->state == PG_BE_ACTIVE) {
        be_set_state(pg, b, PG_BE_IDLE);
    }
    sim_cancel(pg->sim, &b->ev);
    list_remove(state_list(pg, b->state), &b->node);
    b->link->peer = NULL;
    conns_changed(pg, -1);
    slab_free(&pg->backends, b);
}

static void pg_on_msg(void *ctx, struct link *l, enum link_msg m)
{
    struct pg *pg = ctx;

    switch (m) {
    case LINK_CONNECT:
        do_connect(pg, l);
        break;
    case LINK_QUERY:
        do_query(pg, l->peer);
        break;
    case LINK_CLOSE:
        if (l->peer) {
            drop_backend(pg, l->peer);
        }
        break;
    case LINK_CONNECTED:
    case LINK_RESULT:
    case LINK_FATAL:
        assert(!"a server-to-client message sent up");
        break;
    }
    assert(pg_check(pg));
}

static void pg_on_withdraw(void *ctx, struct link *l)
{
    struct pg *pg = ctx;

    if (l->peer) {
        drop_backend(pg, l->peer);
    }
}

static const struct upstream_ops pg_ops = {pg_on_msg, pg_on_withdraw};

void pg_init(struct pg *pg, struct sim *sim, const struct pg_config *cfg, struct metrics *m,
             bool direct, uint64_t seed, uint32_t rep)
{
    pg->cfg = cfg;
    pg->sim = sim;
    pg->m = m;
    pg->direct = direct;
    pg->up.ops = &pg_ops;
    pg->up.ctx = pg;
    pg->rng_start = rng_new(seed, rep, "postgres.backend_start", 0);
    slab_init(&pg->backends, sizeof(struct pg_backend));
    list_init(&pg->starting);
    list_init(&pg->idle);
    list_init(&pg->active);
}

void pg_fini(struct pg *pg)
{
    rng_free(pg->rng_start);
    slab_fini(&pg->backends);
}

bool pg_check(const struct pg *pg)
{
    return pg_backends(pg) <= pg_usable_slots(pg->cfg) &&
           pg->m->db_active.value == (int64_t)list_count(&pg->active);
}

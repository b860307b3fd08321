/*
 * link.c - messages between a client and a server, with the round-trip
 * timing of DESIGN.md §4 (see link.h).
 */
#include "models/link.h"

#include <assert.h>

static void deliver_up(struct link *l)
{
    const struct upstream *up = l->up;

    switch (l->up_msg) {
    case LINK_CONNECT:
        up->ops->on_connect(up->ctx, l);
        break;
    case LINK_QUERY:
        up->ops->on_query(up->ctx, l);
        break;
    case LINK_CLOSE:
        if (l->peer) {
            up->ops->on_gone(up->ctx, l);
        }
        break;
    case LINK_CONNECTED:
    case LINK_RESULT:
    case LINK_FATAL:
        assert(!"a server-to-client message sent up");
        break;
    }
}

static void deliver_down(struct link *l)
{
    l->on_down(l, l->down_msg, l->down_err);
}

static void on_up(struct sim *sim, struct sim_event *ev)
{
    (void)sim;
    deliver_up(ev->ctx);
}

static void on_down(struct sim *sim, struct sim_event *ev)
{
    (void)sim;
    deliver_down(ev->ctx);
}

void link_init(struct link *l, struct sim *sim, const struct upstream *up, sim_time rtt,
               int handshake_rtts, link_down_fn *on_down_fn, void *owner)
{
    assert(rtt >= 0 && handshake_rtts >= 1);
    l->sim = sim;
    l->up = up;
    l->rtt = rtt;
    l->handshake_extra = (sim_time)(handshake_rtts - 1) * rtt;
    l->on_down = on_down_fn;
    l->owner = owner;
    l->trace_id = 0;
    l->peer = NULL;
    l->stmt.server_ns = 0;
    l->stmt.in_tx_after = false;
    l->up_msg = LINK_CLOSE;
    l->down_msg = LINK_FATAL;
    l->down_err = ERRK_NONE;
    sim_event_init(&l->ev_up, on_up, l);
    sim_event_init(&l->ev_down, on_down, l);
}

void link_send_up(struct link *l, enum link_msg m, const struct stmt *stmt)
{
    sim_time delay = link_half_out(l->rtt);

    assert(!sim_event_is_pending(&l->ev_up));
    l->up_msg = m;
    if (stmt) {
        l->stmt = *stmt;
    }
    if (m == LINK_CONNECT) {
        delay += l->handshake_extra;
    }
    if (delay == 0) {
        deliver_up(l);
    } else {
        sim_schedule_in(l->sim, &l->ev_up, delay);
    }
}

void link_send_down(struct link *l, enum link_msg m, enum errkind err)
{
    sim_time delay = link_half_back(l->rtt);

    assert(!sim_event_is_pending(&l->ev_down));
    l->down_msg = m;
    l->down_err = err;
    if (delay == 0) {
        deliver_down(l);
    } else {
        sim_schedule_in(l->sim, &l->ev_down, delay);
    }
}

void link_close(struct link *l)
{
    sim_cancel(l->sim, &l->ev_up);
    sim_cancel(l->sim, &l->ev_down);
    l->up_msg = LINK_CLOSE;
    deliver_up(l);
    l->peer = NULL;
}

void link_withdraw(struct link *l)
{
    sim_cancel(l->sim, &l->ev_up);
    sim_cancel(l->sim, &l->ev_down);
    if (l->peer) {
        l->up->ops->on_gone(l->up->ctx, l);
    }
    l->peer = NULL;
}

void link_fini(struct link *l)
{
    sim_cancel(l->sim, &l->ev_up);
    sim_cancel(l->sim, &l->ev_down);
}

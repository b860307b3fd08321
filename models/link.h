/*
 * link.h - one connection on the wire between a client and a server: the
 * app and the pooler, the app and PostgreSQL, or the pooler and PostgreSQL.
 *
 * Timing (DESIGN.md §4 "Timing rules"): a round trip is paid half on the way
 * out, floor(rtt/2) ns, and half on the way back, rtt - floor(rtt/2).  A
 * connect is network.handshake_rtts round trips: the server sees the CONNECT
 * after (handshake_rtts - 1) round trips and half of the last one, and its
 * answer (CONNECTED, or FATAL for a refused login) arrives on the way back.
 * A hop of zero length is delivered at once, without an event.
 *
 * The protocol is request/response: at most one message is in flight each
 * way.  A connect abandoned by the client (P2024, P1001) is withdrawn at both
 * ends at once: link_withdraw cancels what is in flight and tells the server
 * to forget the connection.
 */
#ifndef POOLSIM_MODELS_LINK_H
#define POOLSIM_MODELS_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "models/errkind.h"
#include "sim/sim.h"

enum link_msg {
    LINK_CONNECT,   /* up: startup and authentication */
    LINK_QUERY,     /* up: one statement, l->stmt */
    LINK_CLOSE,     /* up: terminate; no answer */
    LINK_CONNECTED, /* down: login complete */
    LINK_RESULT,    /* down: the statement ended (err: ERRK_NONE or an error); still connected */
    LINK_FATAL,     /* down: err, and the server closed the connection */
};

/*
 * How a statement travels (the extended protocol, reference/domain.md §1.5,
 * §2.5): each kind is one request and one answer, i.e. one round trip.
 */
enum stmt_kind {
    STMT_SIMPLE,   /* a simple query or an unnamed Parse/Bind/Execute: runs, leaves nothing */
    STMT_PARSE,    /* Parse + Describe + Sync: prepares `name` for `text`, runs nothing */
    STMT_DESCRIBE, /* Describe + Sync of the prepared `name`: runs nothing */
    STMT_EXECUTE,  /* Bind + Execute + Sync of the prepared `name` */
};

/* A name of this bit is a pooler's own (PGBOUNCER_n, supavisor_n); others are a client's s<n>. */
#define STMT_POOLER_NAME (UINT64_C(1) << 63)

/*
 * One statement as the wire carries it.  Designated initialisers leave the
 * prepared-statement fields zero: a simple statement that touches no name.
 * A backend applies deallocate_all, then the close, then the statement.
 */
struct stmt {
    sim_time server_ns;  /* time it runs at PostgreSQL (ns) */
    bool in_tx_after;    /* transaction status after it: true = 'T' (open), false = 'I' */
    bool parse_first;    /* EXECUTE: a Parse of name for text rides ahead (a pooler's re-prepare) */
    bool closes;         /* a Close of close_name rides ahead (an LRU eviction) */
    bool deallocate_all; /* DEALLOCATE ALL / DISCARD ALL: the backend forgets every name first */
    enum stmt_kind kind; /* how it travels */
    uint64_t text;       /* identity of its SQL text; 0 = none of the app's own (BEGIN, ...) */
    uint64_t name;       /* PARSE, DESCRIBE, EXECUTE: the prepared statement's name */
    uint64_t close_name; /* the name it closes */
};

struct link;

/*
 * The server side of links: a pooler or PostgreSQL.  link.c dispatches the
 * client's messages; a server never receives a server-to-client message.
 */
struct upstream_ops {
    /* A CONNECT arrived (l->peer is NULL: the server sets it if it accepts). */
    void (*on_connect)(void *ctx, struct link *l);
    /* A QUERY arrived (l->stmt); l->peer may be NULL if the server already forgot l. */
    void (*on_query)(void *ctx, struct link *l);
    /* The client closed, or withdrew its connect: forget l->peer now (no answer).
     * Called only while l->peer is set. */
    void (*on_gone)(void *ctx, struct link *l);
};

struct upstream {
    const struct upstream_ops *ops;
    void *ctx; /* the pooler or postgres object (borrowed) */
};

/* The client side's handler of messages coming down. */
typedef void link_down_fn(struct link *l, enum link_msg m, enum errkind err);

struct link {
    /* set by link_init (client side) */
    struct sim *sim;           /* borrowed */
    const struct upstream *up; /* the server side (borrowed) */
    sim_time rtt;              /* round trip of this hop (ns) */
    sim_time handshake_extra;  /* (handshake_rtts - 1) * rtt: added to the CONNECT's way out */
    link_down_fn *on_down;     /* client side's handler */
    void *owner;               /* client-side object (borrowed) */
    uint64_t trace_id;         /* the traced request it serves now (trace.h); 0 = none */
    /* server side */
    void *peer; /* the server's state of this connection; NULL when none */
    /* the messages in flight */
    struct stmt stmt;         /* statement of the last QUERY */
    enum link_msg up_msg;     /* message in flight up */
    enum link_msg down_msg;   /* message in flight down */
    enum errkind down_err;    /* its error kind */
    struct sim_event ev_up;   /* delivery to the server */
    struct sim_event ev_down; /* delivery to the client */
};

void link_init(struct link *l, struct sim *sim, const struct upstream *up, sim_time rtt,
               int handshake_rtts, link_down_fn *on_down, void *owner);

/*
 * Client -> server.  A QUERY carries stmt (copied), or, with stmt NULL, the
 * statement already built in l->stmt (the hot path: no second copy).
 */
void link_send_up(struct link *l, enum link_msg m, const struct stmt *stmt);

/* Server -> client. */
void link_send_down(struct link *l, enum link_msg m, enum errkind err);

/*
 * The client closes the connection and forgets it: whatever is in flight is
 * cancelled and the server sees the CLOSE at once (an approximation: the real
 * Terminate message arrives half a round trip later; the client object may
 * be reused immediately).
 */
void link_close(struct link *l);

/* Cancel whatever is in flight; tell the server to forget the connection. */
void link_withdraw(struct link *l);

/* Cancel whatever is in flight, telling no one (teardown). */
void link_fini(struct link *l);

/* Way out and way back of one round trip (DESIGN.md §4). */
static inline sim_time link_half_out(sim_time rtt)
{
    return rtt / 2;
}

static inline sim_time link_half_back(sim_time rtt)
{
    return rtt - rtt / 2;
}

#endif

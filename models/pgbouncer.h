/*
 * pgbouncer.h - PgBouncer (reference/domain.md §2).
 *
 * Clients log in without a server (max_client_conn refuses at once); a server
 * connection is linked at the client's first query, taken LIFO from the idle
 * servers or, when none is idle and the pool may grow, after a new server
 * login (one at a time per pool, §2.3.6); meanwhile the client waits in a
 * FIFO queue (§2.3.1-2).  The pool grows up to default_pool_size, then by
 * reserve_pool_size more once the first waiter has waited reserve_pool_timeout,
 * never past max_db_connections (§2.3.7).  The server is released at the end
 * of each transaction (transaction mode), after each statement (statement
 * mode, where a statement that leaves a transaction open is refused) or when
 * the client disconnects (session mode, after the reset query's round trip).
 *
 * The janitor runs every 333 333 us from t = 0 (§2.3.3, src/janitor.c): it
 * disconnects a linked client whose server is busy (a query or a transaction
 * open) and whose last query arrived more than query_timeout ago, closing
 * that server; it abandons a server login older than server_connect_timeout
 * (a failed login); and it disconnects every waiting client whose wait
 * strictly exceeds query_timeout or query_wait_timeout.  After a failed login
 * no login starts until server_login_retry after the failed one started, and
 * while no server is connected a client that logs in, or whose query finds no
 * idle server, is refused at once with server_login_retry (§2.3.8).
 *
 * Prepared statements (§2.5): in transaction and statement mode with
 * max_prepared_statements > 0 PgBouncer tracks the protocol-level named
 * statements of each client and re-prepares them, under its own names, on
 * whichever server the client is linked to (prepared.h: prep_track); each
 * server keeps an LRU of at most max_prepared_statements of them.  With 0, or
 * in session mode, statements pass through untouched.  The session-mode
 * reset query is DISCARD ALL (server_reset_query's default), which drops a
 * server's prepared statements.
 *
 * foreign_clients are other clients of the same pool: they log in at t = 0,
 * take a server each (as many as the pool allows) before the app's first
 * query can, and hold it for the whole run, as session-mode clients do.
 *
 * Each client and server is in exactly one list, the one of its state.
 * Ownership: caller owns struct pgb; cfg, metrics and the PostgreSQL upstream
 * are borrowed and must outlive it.
 */
#ifndef POOLSIM_MODELS_PGBOUNCER_H
#define POOLSIM_MODELS_PGBOUNCER_H

#include <stdbool.h>
#include <stdint.h>

#include "models/link.h"
#include "models/metrics.h"
#include "models/prepared.h"
#include "sim/list.h"
#include "sim/slab.h"

enum pgb_mode { PGB_SESSION, PGB_TRANSACTION, PGB_STATEMENT };

#define PGB_JANITOR_PERIOD_NS SIM_US(333333) /* full_maint_period = USEC / 3 */

struct pgb_config {
    enum pgb_mode pool_mode;
    int64_t default_pool_size;       /* server connections of the pool */
    int64_t max_client_conn;         /* client connections of the whole process */
    int64_t reserve_pool_size;       /* extra servers once a client waited reserve_pool_timeout */
    int64_t max_db_connections;      /* server connections of the database; 0 = unlimited */
    int64_t foreign_clients;         /* other clients, each holding a server all run */
    sim_time query_wait_timeout;     /* longest wait for a server; 0 = forever (ns) */
    sim_time query_timeout;          /* longest query; 0 = off (ns) */
    sim_time reserve_pool_timeout;   /* wait before the reserve opens; 0 = no reserve (ns) */
    sim_time server_connect_timeout; /* longest server login; 0 = none (ns) */
    sim_time server_login_retry;     /* pause after a failed login, from its start (ns) */
    sim_time per_statement;          /* the pooler's own cost per statement (ns) */
    int64_t max_prepared_statements; /* tracked statements per server; 0 = no tracking */
};

/*
 * PGB_CL_CLOSING: disconnected by PgBouncer while another message to the client
 * was still on its way (src/objects.c's CL_JUSTFREE): its FATAL follows that
 * message half a round trip after the disconnect.  It no longer counts as a
 * client.
 */
enum pgb_cl_state { PGB_CL_ACTIVE, PGB_CL_WAITING, PGB_CL_LINKED, PGB_CL_CLOSING };
enum pgb_sv_state { PGB_SV_LOGIN, PGB_SV_IDLE, PGB_SV_ACTIVE, PGB_SV_TESTED };

struct pgb_server;

struct pgb_client {
    struct pgb *p;     /* owner (borrowed) */
    struct link *link; /* the app's connection (borrowed); NULL for a foreign client */
    enum pgb_cl_state state;
    struct list_node node;     /* in the list of its state */
    struct pgb_server *server; /* linked server, or NULL */
    sim_time request_at;       /* arrival of its last query: query_timeout's origin (ns) */
    sim_time wait_start;       /* when its query started waiting (ns) */
    struct sim_event ev_query; /* its query leaves per_statement after arriving */
    struct sim_event ev_fatal; /* CLOSING: its FATAL reaches the client */
    enum errkind fatal_err;    /* CLOSING: the error of that FATAL */
    struct prep_map stmts;     /* tracking: its statement names -> texts (owned) */
};

struct pgb_server {
    struct pgb *p;    /* owner (borrowed) */
    struct link link; /* the connection to PostgreSQL (owned) */
    uint64_t serial;  /* 1, 2, ... in the order the pool opened them: its name in traces */
    enum pgb_sv_state state;
    struct list_node node;     /* in the list of its state */
    struct pgb_client *client; /* linked client, or NULL */
    bool ready;                /* no query in flight and no transaction open */
    sim_time connect_at;       /* when its login started (ns) */
    sim_time linked_at;        /* when it was linked (ns) */
    struct prep_map prepared;  /* tracking: texts prepared on it, an LRU (owned) */
};

struct pgb {
    /* read-only */
    const struct pgb_config *cfg; /* borrowed */
    struct sim *sim;              /* borrowed */
    struct metrics *m;            /* borrowed */
    const struct upstream *db;    /* PostgreSQL (borrowed) */
    sim_time db_rtt;              /* pooler <-> PostgreSQL round trip (ns) */
    int handshake_rtts;           /* round trips of a server login */
    struct upstream up;           /* what the app's links point at */
    /* private */
    struct slab clients, servers;
    struct list cl_active, cl_waiting, cl_linked, cl_closing;
    struct list sv_login, sv_idle, sv_active, sv_tested;
    bool login_failed;            /* the last server login failed */
    sim_time last_connect_at;     /* start of the last server login (ns) */
    struct sim_event janitor;     /* every PGB_JANITOR_PERIOD_NS */
    struct sim_event login_retry; /* end of the server_login_retry pause */
    size_t tracked;               /* tracking: statements prepared on all servers */
    uint64_t opened;              /* server connections opened so far: the last serial */
};

void pgb_config_default(struct pgb_config *cfg);

/* Builds the pool at the current time (0); the foreign clients log in and ask for servers. */
void pgb_init(struct pgb *p, struct sim *sim, const struct pgb_config *cfg, struct metrics *m,
              const struct upstream *db, sim_time db_rtt, int handshake_rtts);
void pgb_fini(struct pgb *p);

/* Client connections (any state, foreign ones included) and server connections (any state). */
int64_t pgb_clients(const struct pgb *p);
int64_t pgb_servers(const struct pgb *p);

/* The most servers the pool may open: pool size plus reserve, capped by max_db_connections. */
int64_t pgb_server_cap(const struct pgb_config *cfg);

/* True iff every list/state/count invariant holds (O(1): run after every event). */
bool pgb_check(const struct pgb *p);

#endif

/*
 * pgpool.h - node-postgres' pg.Pool (pg-pool 3.14.0), Prisma 7's default
 * pool through @prisma/adapter-pg (reference/domain.md §1.7, §5).
 *
 * The pool starts empty and creates clients lazily, at most `max` of them,
 * connecting ones included; several connects run in parallel (no
 * serialisation).  A checkout (pool.connect) that finds the pool neither full
 * nor holding an idle client creates a new client at once; otherwise it joins
 * the FIFO pending queue, which is served from the idle clients, newest
 * first (LIFO: _idle.pop()), or by a new client when one is removed.
 *
 * connectionTimeoutMillis (0 = no timer at all: a checkout waits forever)
 * arms two different timers, as pg-pool's code does:
 *   - a queue timer, only for a checkout that had to join the queue, from
 *     that moment: it fails the checkout with pg_pool_timeout ("timeout
 *     exceeded when trying to connect").  If a new client was already being
 *     created for that checkout, the connect goes on and the client joins the
 *     idle clients when it is ready;
 *   - a connection timer on every new client, from its creation: the connect
 *     is destroyed (withdrawn at both ends) and its checkout, unless its queue
 *     timer already failed it, fails with pg_connection_timeout ("Connection
 *     terminated due to connection timeout").
 * A checkout that created its client at once has only the connection timer.
 *
 * idleTimeoutMillis (0 = never): a timer per idle client, armed when it is
 * released, as pg-pool's _release does; it closes the client.  A client
 * released after a statement that failed is removed instead (pool.query
 * releases with the error).  Per-statement checkout (pool.query outside
 * transactions) is the app's business: cpool_per_statement.
 *
 * Each client is in exactly one list: connecting, idle or busy.
 * Invariants: connecting + idle + busy <= max; a checkout waits only when
 * no client is idle and the pool is full, or until the pulses owed run.
 * pgpool_fini frees memory only (pending events die with the engine).
 */
#ifndef POOLSIM_MODELS_PGPOOL_H
#define POOLSIM_MODELS_PGPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "models/link.h"
#include "models/metrics.h"
#include "models/pool.h"
#include "sim/list.h"
#include "sim/slab.h"

struct pgpool_config {
    int64_t max;                 /* clients, connecting ones included */
    sim_time connection_timeout; /* queue wait and connect limit; 0 = none (ns) */
    sim_time idle_timeout;       /* an idle client is closed after this; 0 = never (ns) */
};

enum pgpool_conn_state { PGPOOL_CONNECTING, PGPOOL_IDLE, PGPOOL_BUSY };

struct pgpool_conn {
    struct pool_conn base;          /* kind CPOOL_PG_POOL; first member */
    struct pgpool *pool;            /* owner (borrowed) */
    struct link link;               /* to the pooler or PostgreSQL (owned) */
    enum pgpool_conn_state state;   /* which list it is in */
    struct list_node node;          /* in the list of its state */
    struct sim_event connect_timer; /* connectionTimeoutMillis on the connect (CONNECTING) */
    struct sim_event idle_timer;    /* idleTimeoutMillis (IDLE) */
    struct pool_request *co;        /* checkout it is created for; NULL once that one gave up */
    bool failed;                    /* its last statement failed: release removes it */
    pool_result_fn *on_result;      /* the user's handler while BUSY */
    void *user;                     /* its argument */
};

struct pgpool {
    /* read-only */
    const struct pgpool_config *cfg; /* borrowed */
    struct sim *sim;                 /* borrowed */
    struct metrics *m;               /* borrowed */
    const struct upstream *up;       /* pooler or PostgreSQL (borrowed) */
    sim_time rtt;                    /* app <-> upstream round trip (ns) */
    int handshake_rtts;              /* round trips of a connect */
    /* private */
    uint64_t opened;                    /* clients created so far: the last serial */
    uint64_t ticks;                     /* pulses owed on the next tick (process.nextTick) */
    struct sim_event tick;              /* that tick, pending while ticks > 0 */
    struct list waiters;                /* the pending queue, FIFO of struct pool_request */
    struct list connecting, idle, busy; /* idle: newest release at the head */
    struct slab conns;
};

void pgpool_config_default(struct pgpool_config *cfg);

void pgpool_init(struct pgpool *pool, struct sim *sim, const struct pgpool_config *cfg,
                 struct metrics *m, const struct upstream *up, sim_time rtt, int handshake_rtts);
void pgpool_fini(struct pgpool *pool);

/* pool.connect(): co->granted is called exactly once (possibly before this returns). */
void pgpool_checkout(struct pgpool *pool, struct pool_request *co, pool_granted_fn *granted);

/* client.query(): the answer goes to on_result(user, ...). */
void pgpool_query(struct pgpool_conn *c, const struct stmt *s, pool_result_fn *on_result,
                  void *user);

/* client.release(): back to the idle clients, or removed if its last statement failed. */
void pgpool_release(struct pgpool_conn *c);

/* Drop a busy client the server closed. */
void pgpool_discard(struct pgpool_conn *c);

/* Close every idle client (the app's shutdown with nothing running). */
void pgpool_close_idle(struct pgpool *pool);

/* Clients (any state). */
int64_t pgpool_open(const struct pgpool *pool);

bool pgpool_check(const struct pgpool *pool);

#endif

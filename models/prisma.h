/*
 * prisma.h - the connection pool of one PrismaClient instance, Prisma ORM
 * v4-v6 (the Rust engine's quaint + mobc pool; reference/domain.md §1.2,
 * §1.3, §1.4).
 *
 * A checkout first takes a permit of a fair semaphore of connection_limit
 * permits (FIFO waiters), then pops the most recently used idle connection
 * (LIFO) or opens a new one (lazily: no pre-warming).  An idle connection
 * idle for longer than max_idle_connection_lifetime is replaced at checkout
 * (mobc validates every connection it pops); with idle_reaper "periodic" a
 * cleaner also closes such connections while they sit idle.
 * pool_timeout covers waiting for a permit AND opening the connection (P2024);
 * connect_timeout covers the opening only (P1001); a requester may set a
 * shorter limit of its own, with its own error (an interactive transaction's
 * maxWait, P2028; pool.h).  A connect abandoned by either timer is withdrawn
 * at both ends.  socket_timeout limits each statement from its send to its
 * answer: past it the statement fails with P1008 and the connection is
 * dropped (the answer is a LINK_FATAL, so the app discards it).  A
 * connection the server closed is discarded and its permit returned.
 *
 * The periodic cleaner ticks every PRISMA_REAPER_PERIOD_NS on a grid that
 * starts when the pool is created, and closes every idle connection whose
 * idle time strictly exceeds the lifetime.  Ticks that would find nothing
 * to close are not scheduled (the next one is the first grid point after
 * the oldest idle connection expires), which changes no outcome.
 *
 * Named prepared statements (domain.md §1.2, §1.5): each connection keeps
 * quaint's LRU cache of statement_cache_size entries (forced to 0 by
 * pgbouncer), from a statement's text to the name it was prepared under.  A
 * statement of the app's (stmt.text != 0) that hits the cache is executed by
 * name; one that misses is first prepared (a Parse round trip) under the next
 * name of the process's counter, cached, then executed: a miss costs exactly
 * one more round trip.  The counter is tokio-postgres' static NEXT_ID
 * (prepare.rs), shared by every PrismaClient of a process (one query-engine
 * library per Node.js process): prisma_share_names makes the pools of an app
 * instance share one; names are never reused.  A failed Parse leaves the
 * cache as it was; an eviction sends a Close of the evicted name ahead of
 * the next statement (tokio-postgres closes a Statement when it is dropped).
 * With a cache of 0 every statement goes unnamed, in one round trip (DESIGN.md
 * §4: 0 = no named statements).  Other statements (BEGIN, COMMIT, ...) are
 * simple queries.
 *
 * Each connection is in exactly one list: connecting, idle or busy; the
 * idle list runs from the most recently released (head) to the oldest.
 * Invariant: connecting + busy <= permits in use <= connection_limit.
 *
 * prisma_fini frees memory only: it never touches the engine, whose pending
 * events scn_fini drops unfired (see scenario.c).
 */
#ifndef POOLSIM_MODELS_PRISMA_H
#define POOLSIM_MODELS_PRISMA_H

#include <stdbool.h>
#include <stdint.h>

#include "models/link.h"
#include "models/metrics.h"
#include "models/pool.h"
#include "models/prepared.h"
#include "sim/list.h"
#include "sim/slab.h"

/*
 * mobc's default clean_rate (src/config.rs, Builder::default): an
 * assumption, since domain.md §1.3.4 did not check the interval Prisma uses.
 */
#define PRISMA_REAPER_PERIOD_NS SIM_S(1)

/* When expired idle connections are closed. */
enum prisma_reaper {
    PRISMA_REAP_CHECKOUT, /* only when a checkout pops one (mobc's validate_conn) */
    PRISMA_REAP_PERIODIC, /* also by a cleaner every PRISMA_REAPER_PERIOD_NS */
};

struct prisma_config {
    int64_t connection_limit;       /* permits = max open connections */
    sim_time pool_timeout;          /* wait + connect limit; 0 = none (ns) */
    sim_time connect_timeout;       /* connect limit; 0 = none (ns) */
    sim_time max_idle_lifetime;     /* idle time past which it is replaced; 0 = none (ns) */
    sim_time socket_timeout;        /* statement send-to-answer limit (P1008); 0 = none (ns) */
    enum prisma_reaper idle_reaper; /* who closes expired idle connections */
    bool pgbouncer;                 /* every operation wrapped in BEGIN/DEALLOCATE ALL/.../COMMIT */
    int64_t statement_cache_size;   /* prepared statements cached per connection (statements) */
};

enum prisma_conn_state { PRISMA_CONNECTING, PRISMA_IDLE, PRISMA_BUSY };

struct prisma_conn {
    struct pool_conn base;          /* kind CPOOL_PRISMA_V6; first member */
    struct prisma *pool;            /* owner (borrowed) */
    struct link link;               /* to the pooler or PostgreSQL (owned) */
    enum prisma_conn_state state;   /* which list it is in */
    struct list_node node;          /* in the list of its state */
    sim_time idle_since;            /* last return to the pool (ns) */
    struct sim_event connect_timer; /* connect_timeout (CONNECTING) */
    struct sim_event socket_timer;  /* socket_timeout of the statement in flight (BUSY) */
    struct pool_request *co;        /* checkout it is opened for (CONNECTING) */
    pool_result_fn *on_result;      /* the user's handler while BUSY */
    void *user;                     /* its argument */
    struct prep_map cache;          /* quaint's statement cache: text -> name, LRU (owned) */
    bool parsing;                   /* a Parse is in flight; exec follows it */
    struct stmt exec;               /* the Execute to send once the Parse succeeds */
    bool in_tx;                     /* transaction status after the last answer */
};

struct prisma {
    /* read-only */
    const struct prisma_config *cfg; /* borrowed */
    struct sim *sim;                 /* borrowed */
    struct metrics *m;               /* borrowed */
    const struct upstream *up;       /* pooler or PostgreSQL (borrowed) */
    sim_time rtt;                    /* app <-> upstream round trip (ns) */
    int handshake_rtts;              /* round trips of a connect */
    sim_time created;                /* origin of the cleaner's grid (ns) */
    /* private */
    int64_t permits;         /* permits in use */
    uint64_t opened;         /* connections opened so far: the last serial */
    uint64_t *names;         /* the process's statement-name counter: the next s<n> (borrowed) */
    uint64_t own_names;      /* the counter used until prisma_share_names */
    struct sim_event reaper; /* the periodic cleaner's next tick */
    struct list waiters;     /* FIFO of struct pool_request */
    struct list connecting, idle, busy;
    struct slab conns;
};

void prisma_config_default(struct prisma_config *cfg, int64_t app_cores);

void prisma_init(struct prisma *pool, struct sim *sim, const struct prisma_config *cfg,
                 struct metrics *m, const struct upstream *up, sim_time rtt, int handshake_rtts);
void prisma_fini(struct prisma *pool);

/* Draw statement names from counter (borrowed, shared by a process's pools; starts at 0). */
void prisma_share_names(struct prisma *pool, uint64_t *counter);

/* The statement cache's capacity: statement_cache_size, or 0 with pgbouncer. */
int64_t prisma_cache_size(const struct prisma_config *cfg);

/* Start a checkout; co->granted is called exactly once (possibly before this returns). */
void prisma_checkout(struct prisma *pool, struct pool_request *co, pool_granted_fn *granted);

/* Send one statement on a busy connection; the answer goes to on_result(user, ...). */
void prisma_query(struct prisma_conn *c, const struct stmt *s, pool_result_fn *on_result,
                  void *user);

/* Give a busy connection back to the pool. */
void prisma_release(struct prisma_conn *c);

/* Drop a busy connection that failed (server closed it, P1008); its permit returns to the pool. */
void prisma_discard(struct prisma_conn *c);

/* Close every idle connection ($disconnect() with nothing running). */
void prisma_close_idle(struct prisma *pool);

/* Open connections (any state). */
int64_t prisma_open(const struct prisma *pool);

bool prisma_check(const struct prisma *pool);

#endif

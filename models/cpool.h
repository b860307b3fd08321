/*
 * cpool.h - the app's client-side pool, whatever its kind: one PrismaClient's
 * mobc pool (prisma.h), node-postgres' pg.Pool (pgpool.h), or dedicated
 * connections, one per user (dedicated.h).  The app only calls these
 * functions; each forwards to the pool of the right kind.
 *
 * What the app must do differently by kind, it asks here:
 *   - cpool_per_statement: outside transactions every statement checks out a
 *     connection and gives it back (pg.Pool's pool.query, domain.md §1.7.2);
 *     a transaction still holds one connection throughout;
 *   - cpool_is_per_user: connections belong to users, not to PrismaClients:
 *     every call goes to one pool, with pool_request.user set to its user.
 */
#ifndef POOLSIM_MODELS_CPOOL_H
#define POOLSIM_MODELS_CPOOL_H

#include <stdbool.h>

#include "models/config.h"
#include "models/dedicated.h"
#include "models/metrics.h"
#include "models/pgpool.h"
#include "models/pool.h"
#include "models/prisma.h"

struct cpool {
    enum client_pool_kind kind;
    union {
        struct prisma prisma;
        struct pgpool pgpool;
        struct dedicated ded;
    } u;
};

/* A pool of cfg's kind whose connections go to up over a hop of rtt. */
void cpool_init(struct cpool *cp, struct sim *sim, const struct client_pool_config *cfg,
                struct metrics *m, const struct upstream *up, sim_time rtt, int handshake_rtts);
/* Memory only: never touches the engine (scn_fini drops pending events unfired). */
void cpool_fini(struct cpool *cp);

/* Each statement outside a transaction is a checkout of its own (pg.Pool's pool.query). */
bool cpool_per_statement(const struct cpool *cp);

/* Connections are keyed by pool_request.user: one pool serves every call of the app. */
bool cpool_is_per_user(const struct cpool *cp);

/* Start a checkout; r->granted is called exactly once (possibly before this returns). */
void cpool_checkout(struct cpool *cp, struct pool_request *r, pool_granted_fn *granted);

/* Send one statement on a checked-out connection; the answer goes to fn(user, ...). */
void cpool_query(struct pool_conn *c, const struct stmt *s, pool_result_fn *fn, void *user);

/* Give a checked-out connection back. */
void cpool_release(struct pool_conn *c);

/* Drop a checked-out connection whose answer was LINK_FATAL. */
void cpool_discard(struct pool_conn *c);

/*
 * Close every idle connection: the app's $disconnect() when no operation is
 * running (a call's own pool at its end, a serverless instance that shuts
 * down).  Connections checked out or opening are left alone.
 */
void cpool_close_idle(struct cpool *cp);

/* Connections open (any state). */
int64_t cpool_open(const struct cpool *cp);

bool cpool_check(const struct cpool *cp);

#endif

/*
 * cpool.h - the app's client-side pool, whatever its kind: one PrismaClient's
 * mobc pool (prisma.h), and later node-postgres' pg.Pool and dedicated
 * connections.  The app only calls these functions; each forwards to the
 * pool of the right kind.
 */
#ifndef POOLSIM_MODELS_CPOOL_H
#define POOLSIM_MODELS_CPOOL_H

#include <stdbool.h>

#include "models/config.h"
#include "models/metrics.h"
#include "models/pool.h"
#include "models/prisma.h"

struct cpool {
    enum client_pool_kind kind;
    union {
        struct prisma prisma;
    } u;
};

/* A pool of cfg's kind whose connections go to up over a hop of rtt. */
void cpool_init(struct cpool *cp, struct sim *sim, const struct client_pool_config *cfg,
                struct metrics *m, const struct upstream *up, sim_time rtt, int handshake_rtts);
void cpool_fini(struct cpool *cp);

/* Start a checkout; r->granted is called exactly once (possibly before this returns). */
void cpool_checkout(struct cpool *cp, struct pool_request *r, pool_granted_fn *granted);

/* Send one statement on a checked-out connection; the answer goes to fn(user, ...). */
void cpool_query(struct pool_conn *c, const struct stmt *s, pool_result_fn *fn, void *user);

/* Give a checked-out connection back. */
void cpool_release(struct pool_conn *c);

/* Drop a checked-out connection the server closed. */
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

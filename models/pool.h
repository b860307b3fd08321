/*
 * pool.h - what every client-side pool (Prisma v6's mobc pool, node-postgres'
 * pg.Pool, dedicated connections) shares with the app: a checkout request,
 * embedded in the requester, and an opaque connection handle.  The dispatch
 * by kind is models/cpool.h.
 */
#ifndef POOLSIM_MODELS_POOL_H
#define POOLSIM_MODELS_POOL_H

#include <stdint.h>

#include "models/errkind.h"
#include "models/link.h"
#include "sim/list.h"
#include "sim/sim.h"

enum client_pool_kind { CPOOL_PRISMA_V6, CPOOL_PG_POOL, CPOOL_DEDICATED };

/* The head of every pool's connection object. */
struct pool_conn {
    enum client_pool_kind kind; /* for dispatch */
    uint64_t serial;            /* 1, 2, ... in the order its pool opened them: its identity */
};

struct pool_request;

/* A checkout ended: conn is granted (err = ERRK_NONE), or NULL with the error. */
typedef void pool_granted_fn(struct pool_request *r, struct pool_conn *conn, enum errkind err);
/* The answer to a statement on a checked-out connection (LINK_RESULT or LINK_FATAL). */
typedef void pool_result_fn(void *user, enum link_msg m, enum errkind err);

/*
 * One checkout request, embedded in the requester.  The requester sets user
 * (the key of dedicated connections; other kinds ignore it); the pool owns
 * the other fields while the request is pending.
 */
struct pool_request {
    uint64_t user;            /* requester's user (closed workload index) */
    void *pool;               /* the pool asked (borrowed) */
    struct list_node node;    /* in the pool's waiters */
    struct sim_event timer;   /* the pool's acquire timeout */
    sim_time start;           /* when the checkout began (ns) */
    void *opening;            /* connection being opened for it, or NULL */
    pool_granted_fn *granted; /* called once, when the checkout ends */
};

#endif

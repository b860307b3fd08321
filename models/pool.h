/*
 * pool.h - what every client-side pool (Prisma v6's mobc pool, node-postgres'
 * pg.Pool, dedicated connections) shares with the app: a checkout request,
 * embedded in the requester, and an opaque connection handle.  The dispatch
 * by kind is models/cpool.h.
 */
#ifndef POOLSIM_MODELS_POOL_H
#define POOLSIM_MODELS_POOL_H

#include <stdbool.h>
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
 * One checkout request, embedded in the requester.  The requester sets
 * user (the key of dedicated connections; other kinds ignore it), trace_id, max_wait
 * and max_wait_err (0 and ERRK_NONE for none); the pool owns the other
 * fields while the request is pending.
 */
struct pool_request {
    uint64_t user;             /* requester's user (closed workload index) */
    uint64_t trace_id;         /* the traced request it serves (trace.h); 0 = none */
    void *pool;                /* the pool asked (borrowed) */
    struct list_node node;     /* in the pool's waiters */
    struct sim_event timer;    /* the acquire timeout: the pool's, or max_wait if shorter */
    sim_time start;            /* when the checkout began (ns) */
    void *opening;             /* connection being opened for it, or NULL */
    pool_granted_fn *granted;  /* called once, when the checkout ends */
    sim_time max_wait;         /* requester's own limit on the checkout; 0 = none (ns) */
    enum errkind max_wait_err; /* its error (P2028 for an interactive transaction's maxWait) */
};

/*
 * Whether the requester's max_wait, not the pool's own timeout (0 = none),
 * limits the checkout: it must be strictly shorter (on a tie the pool's own
 * timer, the inner one in Prisma's engine, answers first).
 */
static inline bool pool_request_own_limit(const struct pool_request *r, sim_time pool_timeout)
{
    return r->max_wait > 0 && (pool_timeout == 0 || r->max_wait < pool_timeout);
}

/* The checkout's time limit (0 = none) given the pool's own timeout. */
static inline sim_time pool_request_limit(const struct pool_request *r, sim_time pool_timeout)
{
    return pool_request_own_limit(r, pool_timeout) ? r->max_wait : pool_timeout;
}

/* The error when that limit fires, given the pool's own error kind. */
static inline enum errkind pool_request_timeout_err(const struct pool_request *r,
                                                    sim_time pool_timeout, enum errkind pool_err)
{
    return pool_request_own_limit(r, pool_timeout) ? r->max_wait_err : pool_err;
}

#endif

/*
 * dedicated.h - one persistent connection per user, never shared: a pgbench
 * client (-c N), or a worker process holding its own connection (DESIGN.md
 * §4 client_pool "dedicated"; issue 4 item 5).
 *
 * The pool is keyed by pool_request.user (the closed workload's user index):
 * the user's connection is created at the user's first checkout and opened
 * then; it then stays open for the whole run, idle between calls.  Calls of
 * the same user that overlap (a page's calls are issued at once) take turns
 * on it in FIFO order.  Nothing times out: no acquire timer, no connect
 * timer, no idle expiry.  A connect refused by the tier below fails the
 * checkout it was made for; a connection the server closed is dropped; in
 * both cases the user's next checkout opens the connection again.
 *
 * The app sends every call of every instance and client to one dedicated
 * pool (cpool_is_per_user), since the connection belongs to the user.
 *
 * Each user's connection is in exactly one list: closed, connecting, idle
 * or busy.  Invariant: a user's checkouts wait only while its connection is
 * connecting or busy.  ded_fini frees memory only (pending events die with
 * the engine).
 */
#ifndef POOLSIM_MODELS_DEDICATED_H
#define POOLSIM_MODELS_DEDICATED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/link.h"
#include "models/metrics.h"
#include "models/pool.h"
#include "sim/list.h"
#include "sim/slab.h"

enum ded_conn_state { DED_CLOSED, DED_CONNECTING, DED_IDLE, DED_BUSY };

struct ded_conn {
    struct pool_conn base;     /* kind CPOOL_DEDICATED; serial = order of first use */
    struct dedicated *pool;    /* owner (borrowed) */
    uint64_t owner;            /* the user it belongs to */
    struct link link;          /* to the pooler or PostgreSQL (owned) */
    enum ded_conn_state state; /* which list it is in */
    struct list_node node;     /* in the list of its state */
    struct list waiters;       /* the owner's checkouts, FIFO of struct pool_request */
    struct pool_request *co;   /* the checkout it is being opened for (CONNECTING) */
    pool_result_fn *on_result; /* the user's handler while BUSY */
    void *user;                /* its argument */
};

struct dedicated {
    /* read-only */
    struct sim *sim;           /* borrowed */
    struct metrics *m;         /* borrowed */
    const struct upstream *up; /* pooler or PostgreSQL (borrowed) */
    sim_time rtt;              /* app <-> upstream round trip (ns) */
    int handshake_rtts;        /* round trips of a connect */
    /* private */
    struct ded_conn **by_user; /* user -> its connection, NULL before its first call (owned) */
    size_t nusers;             /* length of by_user */
    uint64_t opened;           /* users seen so far: the last serial */
    struct list closed, connecting, idle, busy;
    struct slab conns;
};

void ded_init(struct dedicated *d, struct sim *sim, struct metrics *m, const struct upstream *up,
              sim_time rtt, int handshake_rtts);
void ded_fini(struct dedicated *d);

/* Check out co->user's connection; co->granted is called exactly once (maybe before returning). */
void ded_checkout(struct dedicated *d, struct pool_request *co, pool_granted_fn *granted);

/* Send one statement; the answer goes to on_result(user, ...). */
void ded_query(struct ded_conn *c, const struct stmt *s, pool_result_fn *on_result, void *user);

/* The call is done with it: the user's next checkout gets it. */
void ded_release(struct ded_conn *c);

/* Drop a busy connection the server closed; the user's next checkout opens it again. */
void ded_discard(struct ded_conn *c);

/* Close every idle connection (the app's shutdown with nothing running). */
void ded_close_idle(struct dedicated *d);

/* Connections open (connecting, idle or busy). */
int64_t ded_open(const struct dedicated *d);

bool ded_check(const struct dedicated *d);

#endif

/*
 * supavisor.h - Supabase's shared pooler, Supavisor (reference/domain.md §3).
 *
 * One pool of DbHandler workers for the app's (user, db, mode): a warm worker
 * kept from the first client on, overflow workers started on demand up to
 * the capacity (pool_size, or pool_size + 1 as poolboy's arithmetic allows:
 * a named option), idle workers reused LIFO, overflow workers dismissed after
 * 5 minutes idle, waiters served FIFO with a checkout timeout (§3.2).
 *
 * Transaction mode (§3.3): max_clients refuses a login at once (EMAXCONN); a
 * client checks a worker out when it sends a query while idle and checks it
 * back in at the end of the transaction; a checkout that waits longer than
 * pool_checkout_timeout fails with ECHECKOUTTIMEOUT and the client is
 * terminated.
 * Session mode (§3.4): the checkout happens at connect and the worker is held
 * until the client disconnects.  session_full chooses the era: "queue"
 * (2024-11 .. 2025-11: the connect waits in the FIFO up to the checkout
 * timeout, then MaxClientsInSessionMode) or "reject" (since 2025-11-27: a
 * client beyond pool_size session clients is refused at once).
 *
 * Prepared statements (§1.5.6, the named_prepared_statements feature flag):
 * with it, in transaction mode, Supavisor tracks each client's named
 * statements and re-prepares them on whichever worker serves the client, as
 * PgBouncer does (prepared.h: prep_track; Supavisor names them per client,
 * supavisor_<n>, where PgBouncer shares one name per text: no difference
 * here, where a Parse that rides ahead of a Bind costs nothing).  Without it,
 * or in session mode, statements pass through untouched.  A session backend
 * reused after its client left (session_disconnect "reuse") is cleaned first:
 * its prepared statements are discarded before the next client's first
 * statement (an assumption: domain.md §3.4.2 does not say what
 * attempt_cleanup resets).
 *
 * Each client and worker is in exactly one list, the one of its state.
 */
#ifndef POOLSIM_MODELS_SUPAVISOR_H
#define POOLSIM_MODELS_SUPAVISOR_H

#include <stdbool.h>
#include <stdint.h>

#include "models/link.h"
#include "models/metrics.h"
#include "models/prepared.h"
#include "sim/list.h"
#include "sim/slab.h"

enum supa_mode { SUPA_SESSION, SUPA_TRANSACTION };
enum supa_session_full { SUPA_FULL_REJECT, SUPA_FULL_QUEUE };
enum supa_capacity { SUPA_CAP_POOL_SIZE, SUPA_CAP_POOL_SIZE_PLUS_ONE };
enum supa_disconnect { SUPA_DISCONNECT_CLOSE, SUPA_DISCONNECT_REUSE };
enum supa_budget { SUPA_BUDGET_PER_MODE, SUPA_BUDGET_SHARED };

#define SUPA_OVERFLOW_IDLE_NS SIM_S(300) /* poolboy idle_timeout of overflow workers */

struct supa_config {
    enum supa_mode pool_mode;
    int64_t pool_size;                       /* workers (backend connections) */
    int64_t max_clients;                     /* transaction-mode client limit */
    sim_time checkout_timeout;               /* pool_checkout_timeout (ns) */
    enum supa_session_full session_full;     /* the era's session-mode policy */
    enum supa_capacity capacity;             /* pool_size or pool_size + 1 workers */
    enum supa_disconnect session_disconnect; /* a session's backend closed or reused */
    int64_t foreign_clients;                 /* other session clients (developers' machines) */
    enum supa_budget budget;                 /* session and transaction pools share pool_size? */
    bool named_prepared_statements;          /* the feature flag: track named statements */
};

enum supa_cl_state { SUPA_CL_CHECKOUT, SUPA_CL_ACTIVE, SUPA_CL_WAITING, SUPA_CL_LINKED };
enum supa_wk_state { SUPA_WK_LOGIN, SUPA_WK_IDLE, SUPA_WK_BUSY, SUPA_WK_FOREIGN };

struct supa_worker;

struct supa_client {
    struct supa *p;    /* owner (borrowed) */
    struct link *link; /* the app's connection (borrowed) */
    enum supa_cl_state state;
    struct list_node node;      /* in the list of its state */
    struct supa_worker *worker; /* checked-out worker, or NULL */
    sim_time wait_start;        /* when its checkout began (ns) */
    struct sim_event timeout;   /* pool_checkout_timeout */
    struct prep_map stmts;      /* tracking: its statement names -> texts (owned) */
};

struct supa_worker {
    struct supa *p;   /* owner (borrowed) */
    struct link link; /* to PostgreSQL (owned) */
    uint64_t serial;  /* 1, 2, ... in the order the pool started them: its name in traces */
    enum supa_wk_state state;
    struct list_node node;      /* in the list of its state */
    struct supa_client *client; /* holder, or NULL */
    bool warm;                  /* the permanent worker: never dismissed */
    bool foreign;               /* held by a foreign session client for the whole run */
    sim_time linked_at;         /* when it was checked out (ns) */
    struct sim_event dismiss;   /* overflow idle timeout */
    struct prep_map prepared;   /* tracking: texts prepared on its backend (owned) */
    bool discard;               /* a reused session backend: its next statement discards first */
};

struct supa {
    /* read-only */
    const struct supa_config *cfg; /* borrowed */
    struct sim *sim;               /* borrowed */
    struct metrics *m;             /* borrowed */
    const struct upstream *db;     /* PostgreSQL (borrowed) */
    sim_time db_rtt;               /* pooler <-> PostgreSQL round trip (ns) */
    int handshake_rtts;
    struct upstream up; /* what the app's links point at */
    /* private */
    struct slab clients, workers;
    struct list cl_checkout, cl_active, cl_waiting, cl_linked;
    struct list wk_login, wk_idle, wk_busy;
    struct list wk_foreign;    /* backends held by foreign session clients */
    int64_t foreign_in_budget; /* of those, how many count against this pool's capacity */
    bool warm_started;         /* the warm worker exists (from the first client on) */
    uint64_t started;          /* workers started so far: the last serial */
};

void supa_config_default(struct supa_config *cfg);

/* Workers the pool may hold: pool_size, or pool_size + 1 (foreign clients' included). */
int64_t supa_capacity(const struct supa_config *cfg);

void supa_init(struct supa *p, struct sim *sim, const struct supa_config *cfg, struct metrics *m,
               const struct upstream *db, sim_time db_rtt, int handshake_rtts);
void supa_fini(struct supa *p);

/* The app's clients, and the app's workers (foreign clients' backends excluded). */
int64_t supa_clients(const struct supa *p);
int64_t supa_workers(const struct supa *p);

bool supa_check(const struct supa *p);

#endif

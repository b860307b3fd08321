/*
 * app.h - the application: instances, PrismaClient pools, endpoints and their
 * operations, pages (DESIGN.md §3 "App", §4 app.*; reference/domain.md
 * §1.4, §1.5, §1.6).
 *
 * A page load issues its endpoint calls at once.  Without `serverless`, the
 * page goes to one of `instances` processes, round-robin; with it, each call
 * goes to an instance with a free slot of its `concurrency` (the most
 * recently freed first), else to a new instance that starts after
 * `cold_start` with empty pools, up to `max_instances`, else it waits (FIFO)
 * for a slot.  An instance idle for `idle_timeout` is frozen: it takes no
 * more calls and, with `freeze` (the default), keeps its connections open
 * at the tier below (domain.md §1.6.1); without it, it closes them.  A call
 * holds its slot until all its work has ended.  Endpoint i uses
 * PrismaClient i mod clients of its instance; with connection_per_request
 * each call has a pool of its own instead, closed when the call ends.
 *
 * A call runs its operations in order; each operation settles (its promise
 * resolves or rejects) once:
 * - query: one checkout, its statements on that connection (with
 *   `pgbouncer`: BEGIN, DEALLOCATE ALL, the statements, COMMIT; §1.5);
 * - transaction: BEGIN, (DEALLOCATE ALL with `pgbouncer`), the statements,
 *   COMMIT on one connection; not wrapped a second time;
 * - interactive: the same, with think times between statements while the
 *   connection stays held; the checkout must succeed within maxWait, else
 *   P2028 (§1.4.4), unless the pool's own timeout is shorter; the transaction
 *   expires `timeout` after it has started (BEGIN answered): Prisma's engine
 *   then rolls it back (a ROLLBACK round trip, at once or when the statement
 *   in flight returns) and the app's next statement or COMMIT fails with
 *   P2028;
 * - parallel: its sub-operations at once, each on its own connection
 *   (Promise.all): the first failure fails the operation, the others run on
 *   and hold their connections until they end;
 * - app: work without the database for a drawn time.
 * A statement error rejects the operation at once (the server model ends the
 * aborted transaction itself, postgres.c).  Every time a call may need is
 * drawn when it is created, from streams per endpoint and operation, so it
 * does not depend on pool sizes or modes (common random numbers): server
 * times, think and app times, retry jitters, the cache's hit or miss and its
 * latency.
 *
 * A failed attempt is retried after backoff + uniform(0, jitter), up to
 * `attempts` tries; the caller's answer is the last try's outcome, measured
 * from the first try.  A cache hit answers after the cache latency without
 * the database.  With request_timeout the caller gets an error when it
 * fires; the work (retries included) goes on and holds its connections.
 *
 * Ownership: caller owns struct app; the experiment, engine and metrics are
 * borrowed and must outlive it.
 */
#ifndef POOLSIM_MODELS_APP_H
#define POOLSIM_MODELS_APP_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "models/config.h"
#include "models/cpool.h"
#include "models/metrics.h"
#include "sim/list.h"
#include "sim/slab.h"

struct app_streams;

struct app {
    /* read-only */
    const struct experiment *x; /* borrowed */
    struct sim *sim;            /* borrowed */
    struct metrics *m;          /* borrowed */
    uint64_t stop_after;        /* sim_stop once this many requests ended; 0 = never */
    /* private */
    const struct upstream *up;           /* the tier below (borrowed) */
    sim_time rtt;                        /* app <-> tier below round trip (ns) */
    uint64_t seed;                       /* the experiment's seed */
    uint32_t rep;                        /* the replication (1-based) */
    struct app_streams *streams;         /* one per endpoint (owned) */
    struct list starting, ready, frozen; /* instances, one list per state */
    struct list free_slots;     /* serverless: instances with a free slot, most recent first */
    struct list queued;         /* serverless: calls waiting for a slot, FIFO */
    struct instance **fixed;    /* without serverless: the app.instances processes (owned) */
    size_t next_instance;       /* without serverless: round-robin cursor */
    uint64_t instances_started; /* every instance ever started (stream entity of its cold start) */
    struct slab instances;
    struct slab pages;
    struct slab *calls;    /* one slab per endpoint: calls carry their drawn times */
    struct slab tasks;     /* operations running */
    struct slab own_pools; /* connection_per_request: the calls' own pools */
    struct list own_live;  /* those in use */
};

void app_init(struct app *a, struct sim *sim, const struct experiment *x, struct metrics *m,
              const struct upstream *up, sim_time rtt, uint32_t rep);
void app_fini(struct app *a);

/* A page ended (its last call was answered) after latency_ns; failed if any call failed. */
typedef void app_page_done_fn(void *ctx, sim_time latency_ns, bool failed);

/*
 * Load one page now for user (the closed workload's user index, or the
 * arrival's number for the open one): its calls start at once.  done (may be
 * NULL) is called when the page ends.
 */
void app_load_page(struct app *a, const struct page_config *page, uint64_t user,
                   app_page_done_fn *done, void *ctx);

/*
 * Without serverless: PrismaClient client's pool on process instance (both
 * 0-based; pages go round-robin from instance 0).  Borrowed.
 */
struct cpool *app_client_pool(struct app *a, size_t instance, size_t client);

/* Instances warm (starting or ready) and frozen. */
int64_t app_instances(const struct app *a);
int64_t app_frozen(const struct app *a);

/* Connections open in every client pool of every instance, frozen ones included. */
int64_t app_connections(const struct app *a);

/* True iff every invariant of the app and of its client pools holds. */
bool app_check(const struct app *a);

#endif

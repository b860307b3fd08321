/*
 * app.h - the application: instances, PrismaClient pools, endpoints and their
 * operations, pages (DESIGN.md §3 "App"; reference/domain.md §1.4, §1.5,
 * §1.6).
 *
 * A page load issues its endpoint calls at once on one instance (pages go
 * round-robin over instances); endpoint i uses PrismaClient i mod clients of
 * that instance.  A call runs its operations in order; a `query` operation
 * checks out one connection and sends its statements one after another on
 * it (with `pgbouncer`: BEGIN, DEALLOCATE ALL, the statements, COMMIT), then
 * gives the connection back.  Server times are drawn when the call is
 * created, from a stream per endpoint operation, so they do not depend on
 * pool sizes or modes (common random numbers).  With request_timeout the
 * caller gets an error when it fires; the work goes on and holds its
 * connections.
 */
#ifndef POOLSIM_MODELS_APP_H
#define POOLSIM_MODELS_APP_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "models/config.h"
#include "models/metrics.h"
#include "models/cpool.h"
#include "sim/slab.h"

struct app {
    /* read-only */
    const struct experiment *x;  /* borrowed */
    struct sim *sim;             /* borrowed */
    struct metrics *m;           /* borrowed */
    uint64_t stop_after;         /* sim_stop once this many requests ended; 0 = never */
    /* private */
    struct cpool *pools;         /* instances x clients pools (owned) */
    size_t next_instance;        /* round-robin cursor */
    gsl_rng **server_rng;        /* one per endpoint operation (owned) */
    size_t *first_rng;           /* endpoint i's first operation stream (owned) */
    struct slab pages;
    struct slab *calls;          /* one slab per endpoint: calls carry their server times */
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

#endif

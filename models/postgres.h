/*
 * postgres.h - PostgreSQL as its clients see it (reference/domain.md §4):
 * max_connections backend slots minus superuser_reserved_connections for
 * ordinary roles (a login beyond them is refused with 53300), a backend
 * start cost per new connection (fork + authentication), and statements that
 * run for their server time.  With `cores` = 0 (the default) statements never
 * slow each other.
 *
 * It is an upstream (link.h): the app's connections (pooler "direct") or the
 * pooler's server connections talk to it through links.
 * Ownership: caller owns struct pg; cfg and metrics are borrowed and must
 * outlive it.  All times are sim_time (ns).
 */
#ifndef POOLSIM_MODELS_POSTGRES_H
#define POOLSIM_MODELS_POSTGRES_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "models/link.h"
#include "models/metrics.h"
#include "sim/dist.h"
#include "sim/list.h"
#include "sim/slab.h"

struct pg_config {
    int64_t max_connections;    /* backend slots, >= 1 */
    int64_t superuser_reserved; /* slots only superusers may use, < max_connections */
    int64_t version;            /* major version: chooses error texts only */
    struct dist backend_start;  /* fork + authentication of a new backend (ns) */
};

enum pg_backend_state { PG_BE_STARTING, PG_BE_IDLE, PG_BE_ACTIVE };

struct pg_backend {
    struct pg *pg;              /* owner (borrowed) */
    struct link *link;          /* the client's connection (borrowed) */
    enum pg_backend_state state;
    struct list_node node;      /* in the list of its state */
    struct sim_event ev;        /* start done, or statement done */
    sim_time active_since;      /* start of the running statement (ns) */
};

struct pg {
    /* read-only */
    const struct pg_config *cfg; /* borrowed */
    struct sim *sim;             /* borrowed */
    struct metrics *m;           /* borrowed */
    bool direct;                 /* the app connects directly: report server_* metrics */
    struct upstream up;          /* what links point at */
    /* private */
    gsl_rng *rng_start;          /* backend start times */
    struct slab backends;
    struct list starting, idle, active; /* one list per state */
};

void pg_config_default(struct pg_config *cfg);

/* Ordinary-role slots: max_connections - superuser_reserved. */
int64_t pg_usable_slots(const struct pg_config *cfg);

/* The refusal text for a login when no ordinary slot is left (domain.md §4.2). */
const char *pg_refusal_text(const struct pg_config *cfg, int64_t in_use);

void pg_init(struct pg *pg, struct sim *sim, const struct pg_config *cfg, struct metrics *m,
             bool direct, uint64_t seed, uint32_t rep);
void pg_fini(struct pg *pg);

/* Backends open (any state). */
int64_t pg_backends(const struct pg *pg);

/* True iff every list/state/count invariant holds. */
bool pg_check(const struct pg *pg);

#endif

/*
 * postgres.h - PostgreSQL as its clients see it (reference/domain.md §4):
 * max_connections backend slots minus superuser_reserved_connections for
 * ordinary roles (a login beyond them is refused with 53300), a backend
 * start cost per new connection (fork + authentication), statements that
 * share `cores` by processor sharing for their CPU part, and
 * statement_timeout (57014).  With `cores` = 0 (the default) statements never
 * slow each other and no processor-sharing state exists at all.
 *
 * Each backend holds the named prepared statements prepared on it (a name
 * and the text it stands for; reference/domain.md §1.5.7): a Parse of a name
 * it holds fails with 42P05, an Execute of a name it lacks with 26000, and an
 * Execute of a name it holds for another text with 08P01.
 *
 * It is an upstream (link.h): the app's connections (pooler "direct") or the
 * pooler's server connections talk to it through links.
 * Ownership: caller owns struct pg; cfg and metrics are borrowed and must
 * outlive it.  All times are sim_time (ns).
 */
#ifndef POOLSIM_MODELS_POSTGRES_H
#define POOLSIM_MODELS_POSTGRES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "models/link.h"
#include "models/metrics.h"
#include "models/prepared.h"
#include "sim/dist.h"
#include "sim/list.h"
#include "sim/slab.h"

struct pg_config {
    int64_t max_connections;    /* backend slots, >= 1 */
    int64_t superuser_reserved; /* slots only superusers may use, < max_connections */
    int64_t version;            /* major version: chooses error texts only */
    struct dist backend_start;  /* fork + authentication of a new backend (ns) */
    sim_time backend_cpu;       /* of a start, the first part that needs a core; 0 = none (ns) */
    int64_t cores;              /* cores shared by the CPU parts; 0 = unlimited */
    double cpu_share;           /* share of a statement's server time that needs a core, [0, 1] */
    bool knee;                  /* the contention penalty below applies */
    int64_t knee_active;        /* statements in their CPU part before the penalty starts, >= 1 */
    double knee_penalty;        /* slowdown per statement past knee_active, >= 0 */
    sim_time statement_timeout; /* a statement running longer is cancelled; 0 = off (ns) */
    int preset;                 /* index in pg_preset_names(), -1 = none (reported only) */
};

/*
 * A backend is in exactly one state list.  A statement runs in two parts:
 * first its CPU part (PG_BE_CPU: sharing the cores with the other CPU parts),
 * then the rest (PG_BE_ACTIVE: a fixed time).  With unlimited cores, or a
 * CPU part of zero, the whole statement is PG_BE_ACTIVE.
 */
enum pg_backend_state { PG_BE_STARTING, PG_BE_IDLE, PG_BE_CPU, PG_BE_ACTIVE };

struct pg_backend {
    struct pg *pg;     /* owner (borrowed) */
    struct link *link; /* the client's connection (borrowed) */
    enum pg_backend_state state;
    struct list_node node; /* in the list of its state */
    struct sim_event ev;   /* start done, rest done, or statement_timeout */
    sim_time active_since; /* start of the running statement (ns) */
    sim_time deadline;     /* statement_timeout instant, SIM_TIME_MAX if none (ns) */
    sim_time rest_ns;      /* the non-CPU part, run after the CPU part (ns) */
    double mark;           /* in the PS heap: virtual time at which its CPU part is done (ns) */
    uint64_t seq;          /* in the PS heap: join order, breaks ties between equal marks */
    size_t slot;           /* index in the processor-sharing heap, SIZE_MAX when not in it
                            * (PG_BE_CPU, or PG_BE_STARTING during its backend_cpu part) */
    struct prep_map named; /* prepared statements: name -> text (owned) */
};

/*
 * Processor sharing in virtual time: v is the CPU work (ns at full speed)
 * each statement in its CPU part has received since the last rebase; it
 * grows at 1/slowdown(n) per ns of simulated time.  A statement's CPU part is
 * done when v reaches its mark (v at its start + its CPU work).  The heap
 * orders the running CPU parts by (mark, seq); one event is scheduled for the
 * smallest mark.
 */
struct pg_ps {
    double v;                 /* virtual time (ns of CPU work) */
    sim_time v_at;            /* simulated time at which v was last advanced (ns) */
    double slowdown;          /* 1 / (speed of each CPU part) for the current n, >= 1 */
    struct pg_backend **heap; /* min-heap on (mark, seq) (owned array, borrowed backends) */
    size_t n, cap;            /* CPU parts running, heap capacity */
    uint64_t seq;             /* joins so far */
    struct sim_event ev;      /* the next CPU part done */
};

struct pg {
    /* read-only */
    const struct pg_config *cfg; /* borrowed */
    struct sim *sim;             /* borrowed */
    struct metrics *m;           /* borrowed */
    bool direct;                 /* the app connects directly: report server_* metrics */
    struct upstream up;          /* what links point at */
    /* private */
    gsl_rng *rng_start; /* backend start times */
    struct slab backends;
    struct list starting, idle, cpu, active; /* one list per state */
    struct pg_ps ps;                         /* used only when cfg->cores > 0 */
    size_t starting_cpu; /* PG_BE_STARTING backends in the PS heap (their backend_cpu part) */
    size_t named;        /* prepared statements on all backends */
};

void pg_config_default(struct pg_config *cfg);

/* The names of the presets ("supabase-nano", ...), NULL-terminated. */
const char *const *pg_preset_names(void);

/* Set max_connections and cores from preset i of pg_preset_names() (domain.md §3.5). */
void pg_preset_apply(struct pg_config *cfg, int i);

/* Ordinary-role slots: max_connections - superuser_reserved. */
int64_t pg_usable_slots(const struct pg_config *cfg);

/* The refusal text for a login when no ordinary slot is left (domain.md §4.2). */
const char *pg_refusal_text(const struct pg_config *cfg, int64_t in_use);

/*
 * How much slower than alone each of n statements in their CPU part runs:
 * n / min(n, cores) * (1 + penalty * max(0, n - active)) (DESIGN.md §4).
 * cfg->cores must be > 0.
 */
double pg_slowdown(const struct pg_config *cfg, size_t n);

void pg_init(struct pg *pg, struct sim *sim, const struct pg_config *cfg, struct metrics *m,
             bool direct, uint64_t seed, uint32_t rep);
void pg_fini(struct pg *pg);

/* Backends open (any state). */
int64_t pg_backends(const struct pg *pg);

/* Statements running (CPU part or rest). */
int64_t pg_running(const struct pg *pg);

/*
 * True iff every list/state/count invariant holds, the heap's order and every
 * backend's table of prepared statements included (O(n)).
 */
bool pg_check(const struct pg *pg);

#endif

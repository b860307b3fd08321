/*
 * config.h - one resolved experiment point as plain config structs, and the
 * key -> struct mapping (DESIGN.md §4; experiments/README.md documents every
 * key).  This module and sim/json.c are the only ones that see JSON: the
 * models receive these structs with units already converted.
 *
 * Defaults follow the real software (reference/domain.md); where the
 * environment decides (network, CPU), the default has no effect.
 */
#ifndef POOLSIM_MODELS_CONFIG_H
#define POOLSIM_MODELS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/pgbouncer.h"
#include "models/pgpool.h"
#include "models/postgres.h"
#include "models/prisma.h"
#include "models/supavisor.h"
#include "sim/dist.h"
#include "sim/err.h"

struct cJSON;

/* Operations of an endpoint (DESIGN.md §4 "Operations"; reference/domain.md §1.4). */
enum op_type { OP_QUERY, OP_TRANSACTION, OP_INTERACTIVE, OP_PARALLEL, OP_APP };

struct op_config {
    enum op_type type;
    int64_t statements;      /* query, transaction, interactive: statements, >= 1 */
    struct dist server_time; /* time of each statement at PostgreSQL (ns) */
    struct dist think_time;  /* interactive: app time between two statements (ns) */
    struct dist time;        /* app: the work's duration (ns) */
    sim_time max_wait;       /* interactive: limit on acquiring the connection, P2028 (ns) */
    sim_time tx_timeout;     /* interactive: lifetime of the transaction, P2028 (ns) */
    size_t nsubs;
    struct op_config *subs; /* parallel: the sub-operations, started at once (owned) */
    char *stream;           /* stream of its server times, or of its app time (owned) */
    char *think_stream;     /* interactive: stream of its think times (owned) */
    size_t leaf;            /* operations other than parallel: index among the endpoint's */
    size_t first_draw;      /* its first drawn time in a call's draws */
    size_t ndraws;          /* times it draws per call */
};

struct endpoint_config {
    char *name; /* as written in app.endpoints (owned) */
    size_t nops;
    struct op_config *ops; /* in order (owned) */
    size_t nleaves;        /* operations other than parallel, sub-operations included */
    size_t ndraws;         /* times drawn per call: sum over the operations */
};

struct page_config {
    char *name; /* "page" for the single page form (owned) */
    size_t ncalls;
    size_t *endpoints; /* endpoint indices, issued at once (owned) */
    double weight;     /* > 0; 1 for the single page form */
};

enum workload_model { WL_CLOSED, WL_OPEN };

/* From `at` on, page arrivals come at rate_per_s (open model). */
struct rate_step {
    sim_time at;       /* simulated time of the switch (ns) */
    double rate_per_s; /* pages per second, > 0 */
};

struct workload_config {
    enum workload_model model;
    int64_t users;             /* closed: users, each with at most one page in flight */
    struct dist think_time;    /* closed: pause after each page (ns) */
    sim_time start_spread;     /* closed: first loads uniform over [0, this); 0 = all at 0 (ns) */
    double rate_per_s;         /* open: page arrivals per second (Poisson) before any step */
    size_t nsteps;             /* open: rate steps */
    struct rate_step *steps;   /* open: times strictly increasing (owned) */
    bool single_page;          /* written as "page": one page, no draw */
    size_t npages;             /* pages to draw from */
    struct page_config *pages; /* owned */
    double total_weight;       /* sum of the weights */
};

struct retry_config {
    int64_t attempts;        /* tries including the first; 1 = no retry */
    sim_time backoff;        /* pause before each retry (ns) */
    sim_time jitter;         /* plus uniform(0, jitter) (ns) */
    struct dist jitter_dist; /* that uniform distribution */
};

struct cache_config {
    bool enabled;
    double hit_ratio;    /* share of calls answered from the cache, 0..1 */
    struct dist latency; /* a hit's answer time (ns) */
};

struct serverless_config {
    bool enabled;
    int64_t max_instances;  /* warm instances (starting or ready) at most */
    int64_t concurrency;    /* calls an instance serves at once */
    struct dist cold_start; /* an instance's start, before its first call (ns) */
    sim_time idle_timeout;  /* an instance idle this long is frozen (ns) */
    bool freeze;            /* true: a frozen instance keeps its connections open */
};

struct app_config {
    int64_t instances; /* app processes; pages go round-robin */
    int64_t clients;   /* PrismaClient instances per process: endpoint i uses i mod clients */
    int64_t cores;     /* host cores: Prisma's default connection_limit */
    sim_time request_timeout;    /* 0 = none (ns) */
    bool connection_per_request; /* each call has a pool of its own, closed when it ends */
    struct retry_config retry;
    struct cache_config cache;
    struct serverless_config serverless;
    size_t nendpoints;
    struct endpoint_config *endpoints; /* in file order (owned) */
};

struct client_pool_config {
    enum client_pool_kind kind;
    struct prisma_config prisma; /* prisma-v6 (defaults kept for the other kinds) */
    struct pgpool_config pgpool; /* pg-pool */
};

enum pooler_kind { POOLER_DIRECT, POOLER_PGBOUNCER, POOLER_SUPAVISOR };

struct pooler_config {
    enum pooler_kind kind;
    struct pgb_config pgb;   /* kind "pgbouncer" */
    struct supa_config supa; /* kind "supavisor" */
};

struct net_config {
    sim_time app_pooler_rtt; /* ns */
    sim_time pooler_db_rtt;  /* ns */
    sim_time app_db_rtt;     /* ns, used when the pooler is "direct" */
    int64_t handshake_rtts;  /* round trips of a connect */
};

/*
 * "precision": replications are added to a point until the 95% half-width
 * of metric's mean is within relative x |mean| (sim/runner.h, struct
 * runner_precision, has the rule).
 */
struct precision_config {
    bool enabled;
    size_t metric;             /* index in metrics_columns(): an averaged column */
    double relative;           /* in (0, 1) */
    uint32_t max_replications; /* >= replications */
};

struct experiment {
    char *name;         /* as written (owned) */
    char *database_url; /* its password as "***"; NULL when none (owned) */
    uint64_t seed;
    uint32_t replications;
    sim_time warmup;   /* ns */
    sim_time duration; /* ns after the warm-up; 0 when `requests` decides */
    uint64_t requests; /* stop after this many requests after the warm-up; 0 = duration */
    struct workload_config workload;
    struct app_config app;
    struct client_pool_config client_pool;
    struct pooler_config pooler;
    struct pg_config postgres;
    struct net_config net;
    struct precision_config precision; /* replications is then >= 2 */
};

/*
 * Read a resolved document (borrowed) into x.  Relative file names are
 * resolved against base_dir.  A "database_url" is applied first
 * (models/dburl.h), below every key of the document.  Returns 0, or -1 with
 * e set (JSON path and message); x is then already released.
 */
int experiment_load(struct experiment *x, const struct cJSON *doc, const char *base_dir,
                    struct err *e);

void experiment_fini(struct experiment *x);

/* The resolved configuration, defaults included (caller owns the tree). */
struct cJSON *experiment_resolved(const struct experiment *x);

/* The experiment's name from a document, for the output directory; NULL if absent. */
const char *experiment_name(const struct cJSON *doc);

#endif

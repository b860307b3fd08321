/*
 * sizing.c - the domain hooks of `poolsim size` (see sizing.h).
 *
 * Which limit breaks first, from the means over replications at the lowest
 * failing load, checked in this order (the first that applies is named):
 *   1. CPU: PostgreSQL has `cores` and db_active_mean is at least 90% of
 *      them: every wait upstream follows from it;
 *   2. the limit whose errors are the most numerous: client pool (P2024,
 *      P2028, pg-pool's timeouts), pooler clients (max_client_conn,
 *      MaxClientsInSessionMode, EMAXCONN), pooler pool (query_wait_timeout,
 *      ECHECKOUTTIMEOUT), max_connections (53300);
 *   3. the longer mean wait: for a client-pool connection (pool_wait_mean_ms)
 *      or for a server connection at the pooler (pooler_wait_mean_ms);
 *   4. otherwise no pool limit: the statements' own time fails the objectives.
 */
#include "models/sizing.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/config.h"
#include "models/metrics.h"

#define CPU_BUSY_SHARE 0.9 /* db_active_mean / cores from which the CPU is the limit */

enum limit { LIM_CLIENT_POOL, LIM_POOLER_CLIENTS, LIM_POOLER_POOL, LIM_MAX_CONNECTIONS, LIM_N };

static const char *const limit_errors[LIM_N][5] = {
    [LIM_CLIENT_POOL] = {"errors_P2024", "errors_P2028", "errors_pg_pool_timeout",
                         "errors_pg_connection_timeout", NULL},
    [LIM_POOLER_CLIENTS] = {"errors_max_client_conn", "errors_MaxClientsInSessionMode",
                            "errors_EMAXCONN", NULL},
    [LIM_POOLER_POOL] = {"errors_query_wait_timeout", "errors_ECHECKOUTTIMEOUT", NULL},
    [LIM_MAX_CONNECTIONS] = {"errors_53300", NULL},
};

static const char *const pool_keys[] = {"pooler.default_pool_size",     "pooler.pool_size",
                                        "client_pool.connection_limit", "client_pool.max",
                                        "pooler.max_db_connections",    NULL};

static int default_range(const void *cfg, const char *key, int64_t *lo, int64_t *hi)
{
    const struct experiment *x = cfg;

    for (size_t i = 0; pool_keys[i]; i++) {
        if (strcmp(key, pool_keys[i]) == 0) {
            *lo = 1;
            *hi = pg_usable_slots(&x->postgres);
            return *hi >= 1 ? 0 : -1;
        }
    }
    return -1;
}

static int load_key(const void *cfg, const char **key, double *value)
{
    const struct experiment *x = cfg;

    switch (x->workload.model) {
    case WL_CLOSED:
        *key = "workload.users";
        *value = (double)x->workload.users;
        return 0;
    case WL_OPEN:
        *key = "workload.rate";
        *value = x->workload.rate_per_s;
        return 0;
    }
    return -1;
}

/* The mean of the metric column named name (NAN when it does not apply). */
static double metric(const double *means, const char *name)
{
    size_t n;
    const struct runner_metric *cols = metrics_columns(&n);

    for (size_t k = 0; k < n; k++) {
        if (strcmp(cols[k].name, name) == 0) {
            return means[k];
        }
    }
    return NAN;
}

/* The limit with the most errors (*count > 0), or LIM_N; *kind names its largest error. */
static enum limit most_errors(const double *means, double *count, const char **kind)
{
    enum limit best = LIM_N;

    *count = 0;
    for (int l = 0; l < LIM_N; l++) {
        double sum = 0, top = 0;
        const char *top_kind = NULL;

        for (size_t i = 0; limit_errors[l][i]; i++) {
            double v = metric(means, limit_errors[l][i]);

            sum += isnan(v) ? 0 : v;
            if (v > top) {
                top = v;
                top_kind = limit_errors[l][i] + strlen("errors_");
            }
        }
        if (sum > *count) {
            *count = sum;
            *kind = top_kind;
            best = (enum limit)l;
        }
    }
    return best;
}

/* The configured value of a limit, as "key=value". */
static void limit_setting(const struct experiment *x, enum limit l, char *buf, size_t size)
{
    const struct pooler_config *p = &x->pooler;
    bool pgb = p->kind == POOLER_PGBOUNCER;
    bool prisma = x->client_pool.kind == CPOOL_PRISMA_V6;

    switch (l) {
    case LIM_CLIENT_POOL:
        snprintf(buf, size, "%s=%lld", prisma ? "client_pool.connection_limit" : "client_pool.max",
                 (long long)(prisma ? x->client_pool.prisma.connection_limit
                                    : x->client_pool.pgpool.max));
        return;
    case LIM_POOLER_CLIENTS:
        snprintf(buf, size, "%s=%lld", pgb ? "pooler.max_client_conn" : "pooler.max_clients",
                 (long long)(pgb ? p->pgb.max_client_conn : p->supa.max_clients));
        return;
    case LIM_POOLER_POOL:
        snprintf(buf, size, "%s=%lld", pgb ? "pooler.default_pool_size" : "pooler.pool_size",
                 (long long)(pgb ? p->pgb.default_pool_size : p->supa.pool_size));
        return;
    case LIM_MAX_CONNECTIONS:
    case LIM_N:
        snprintf(buf, size, "usable max_connections=%lld",
                 (long long)pg_usable_slots(&x->postgres));
        return;
    }
}

static const char *const limit_names[LIM_N] = {
    [LIM_CLIENT_POOL] = "client pool",
    [LIM_POOLER_CLIENTS] = "pooler clients",
    [LIM_POOLER_POOL] = "pooler pool",
    [LIM_MAX_CONNECTIONS] = "max_connections",
};

/* Rule 3 and 4: the longer wait, or none. */
static void waits(const struct experiment *x, const double *means, char *buf, size_t size)
{
    double client = metric(means, "pool_wait_mean_ms"),
           pooler = metric(means, "pooler_wait_mean_ms");
    char setting[128];

    client = isnan(client) ? 0 : client;
    pooler = isnan(pooler) ? 0 : pooler;
    if (client <= 0 && pooler <= 0) {
        snprintf(buf, size,
                 "no pool limit: the statements' own time fails the objectives "
                 "(db_active_mean %.3g)",
                 metric(means, "db_active_mean"));
        return;
    }
    limit_setting(x, client >= pooler ? LIM_CLIENT_POOL : LIM_POOLER_POOL, setting, sizeof setting);
    snprintf(buf, size, "%s (%s): %s %.3g ms on average for a connection",
             client >= pooler ? "client pool" : "pooler pool", setting,
             client >= pooler ? "requests wait" : "transactions wait at the pooler",
             client >= pooler ? client : pooler);
}

static void breaks_first(const void *cfg, const double *means, char *buf, size_t size)
{
    const struct experiment *x = cfg;
    double active = metric(means, "db_active_mean"), count;
    const char *kind = NULL;
    enum limit l;
    char setting[128];

    if (x->postgres.cores > 0 && active >= CPU_BUSY_SHARE * (double)x->postgres.cores) {
        snprintf(buf, size, "CPU (postgres.cores=%lld): %.3g statements active on average",
                 (long long)x->postgres.cores, active);
        return;
    }
    l = most_errors(means, &count, &kind);
    if (l != LIM_N) {
        limit_setting(x, l, setting, sizeof setting);
        snprintf(buf, size, "%s (%s): %.4g %s errors per replication", limit_names[l], setting,
                 count, kind ? kind : "");
        return;
    }
    waits(x, means, buf, size);
}

void sizing_hooks(struct size_hooks *h)
{
    h->default_range = default_range;
    h->load_key = load_key;
    h->breaks_first = breaks_first;
}

/*
 * metrics.c - the metric columns of DESIGN.md §5 computed from one
 * replication's observations (see metrics.h).
 */
#include "models/metrics.h"

#include <assert.h>
#include <math.h>
#include <string.h>

/* Column indices: the order of the table below. */
enum {
    M_PAGES,
    M_PAGE_ERRORS,
    M_REQUESTS,
    M_OK,
    M_ERRORS,
    M_ATTEMPTS,
    M_CACHE_HITS,
    M_IN_FLIGHT_END,
    M_IN_FLIGHT_MEAN,
    M_IN_FLIGHT_PEAK,
    M_ERROR_RATE,
    M_THROUGHPUT_RPS,
    M_TX_RPS,
    M_LAT_MEAN,
    M_LAT_P50,
    M_LAT_P90,
    M_LAT_P95,
    M_LAT_P99,
    M_LAT_MAX,
    M_OK_MEAN,
    M_OK_P50,
    M_OK_P90,
    M_OK_P95,
    M_OK_P99,
    M_PAGE_P50,
    M_PAGE_P99,
    M_ERR0, /* the kinds before ERRK_FIRST_APPENDED */
    M_POOL_WAIT_MEAN = M_ERR0 + ERRK_FIRST_APPENDED,
    M_POOL_WAIT_P99,
    M_POOLER_WAIT_MEAN,
    M_POOLER_WAIT_P99,
    M_POOLER_WAIT_PROB,
    M_SERVER_CONN_UTIL,
    M_SERVER_HOLD_MEAN,
    M_SERVER_CONNS_PEAK,
    M_CLIENT_CONNS_PEAK,
    M_DB_ACTIVE_MEAN,
    M_EVENTS,
    M_COLD_STARTS,
    M_INSTANCES_PEAK,
    M_ERR_APPENDED, /* the kinds from ERRK_FIRST_APPENDED on */
    M__COUNT = M_ERR_APPENDED + ERRK__COUNT - ERRK_FIRST_APPENDED
};

/* The column of errors_<kind>: in the first block, or appended at the end. */
static int err_column(int k)
{
    return k < ERRK_FIRST_APPENDED ? M_ERR0 + k : M_ERR_APPENDED + (k - ERRK_FIRST_APPENDED);
}

#define NA ((double)NAN) /* "does not apply": an empty cell */
#define MEAN RUNNER_AGG_MEAN
#define MAX RUNNER_AGG_MAX

static const struct runner_metric columns[M__COUNT] = {
    [M_PAGES] = {"pages", MEAN},
    [M_PAGE_ERRORS] = {"page_errors", MEAN},
    [M_REQUESTS] = {"requests", MEAN},
    [M_OK] = {"ok", MEAN},
    [M_ERRORS] = {"errors", MEAN},
    [M_ATTEMPTS] = {"attempts", MEAN},
    [M_CACHE_HITS] = {"cache_hits", MEAN},
    [M_IN_FLIGHT_END] = {"in_flight_end", MEAN},
    [M_IN_FLIGHT_MEAN] = {"in_flight_mean", MEAN},
    [M_IN_FLIGHT_PEAK] = {"in_flight_peak", MAX},
    [M_ERROR_RATE] = {"error_rate", MEAN},
    [M_THROUGHPUT_RPS] = {"throughput_rps", MEAN},
    [M_TX_RPS] = {"tx_rps", MEAN},
    [M_LAT_MEAN] = {"latency_mean_ms", MEAN},
    [M_LAT_P50] = {"latency_p50_ms", MEAN},
    [M_LAT_P90] = {"latency_p90_ms", MEAN},
    [M_LAT_P95] = {"latency_p95_ms", MEAN},
    [M_LAT_P99] = {"latency_p99_ms", MEAN},
    [M_LAT_MAX] = {"latency_max_ms", MAX},
    [M_OK_MEAN] = {"ok_latency_mean_ms", MEAN},
    [M_OK_P50] = {"ok_latency_p50_ms", MEAN},
    [M_OK_P90] = {"ok_latency_p90_ms", MEAN},
    [M_OK_P95] = {"ok_latency_p95_ms", MEAN},
    [M_OK_P99] = {"ok_latency_p99_ms", MEAN},
    [M_PAGE_P50] = {"page_latency_p50_ms", MEAN},
    [M_PAGE_P99] = {"page_latency_p99_ms", MEAN},
    [M_ERR0 + ERRK_P2024] = {"errors_P2024", MEAN},
    [M_ERR0 + ERRK_P1001] = {"errors_P1001", MEAN},
    [M_ERR0 + ERRK_P1008] = {"errors_P1008", MEAN},
    [M_ERR0 + ERRK_P1017] = {"errors_P1017", MEAN},
    [M_ERR0 + ERRK_P2028] = {"errors_P2028", MEAN},
    [M_ERR0 + ERRK_42P05] = {"errors_42P05", MEAN},
    [M_ERR0 + ERRK_53300] = {"errors_53300", MEAN},
    [M_ERR0 + ERRK_57014] = {"errors_57014", MEAN},
    [M_ERR0 + ERRK_QUERY_WAIT_TIMEOUT] = {"errors_query_wait_timeout", MEAN},
    [M_ERR0 + ERRK_QUERY_TIMEOUT] = {"errors_query_timeout", MEAN},
    [M_ERR0 + ERRK_MAX_CLIENT_CONN] = {"errors_max_client_conn", MEAN},
    [M_ERR0 + ERRK_SERVER_LOGIN_RETRY] = {"errors_server_login_retry", MEAN},
    [M_ERR0 + ERRK_STATEMENT_MODE] = {"errors_statement_mode", MEAN},
    [M_ERR0 + ERRK_MAX_CLIENTS_IN_SESSION_MODE] = {"errors_MaxClientsInSessionMode", MEAN},
    [M_ERR0 + ERRK_EMAXCONN] = {"errors_EMAXCONN", MEAN},
    [M_ERR0 + ERRK_ECHECKOUTTIMEOUT] = {"errors_ECHECKOUTTIMEOUT", MEAN},
    [M_ERR0 + ERRK_PG_POOL_TIMEOUT] = {"errors_pg_pool_timeout", MEAN},
    [M_ERR0 + ERRK_PG_CONNECTION_TIMEOUT] = {"errors_pg_connection_timeout", MEAN},
    [M_ERR0 + ERRK_REQUEST_TIMEOUT] = {"errors_request_timeout", MEAN},
    [M_POOL_WAIT_MEAN] = {"pool_wait_mean_ms", MEAN},
    [M_POOL_WAIT_P99] = {"pool_wait_p99_ms", MEAN},
    [M_POOLER_WAIT_MEAN] = {"pooler_wait_mean_ms", MEAN},
    [M_POOLER_WAIT_P99] = {"pooler_wait_p99_ms", MEAN},
    [M_POOLER_WAIT_PROB] = {"pooler_wait_prob", MEAN},
    [M_SERVER_CONN_UTIL] = {"server_conn_util", MEAN},
    [M_SERVER_HOLD_MEAN] = {"server_hold_mean_ms", MEAN},
    [M_SERVER_CONNS_PEAK] = {"server_conns_peak", MAX},
    [M_CLIENT_CONNS_PEAK] = {"client_conns_peak", MAX},
    [M_DB_ACTIVE_MEAN] = {"db_active_mean", MEAN},
    [M_EVENTS] = {"events", MEAN},
    [M_COLD_STARTS] = {"cold_starts", MEAN},
    [M_INSTANCES_PEAK] = {"instances_peak", MAX},
    [M_ERR_APPENDED + ERRK_26000 - ERRK_FIRST_APPENDED] = {"errors_26000", MEAN},
    [M_ERR_APPENDED + ERRK_08P01 - ERRK_FIRST_APPENDED] = {"errors_08P01", MEAN},
};

static const char *const series[SER__COUNT] = {
    [SER_REQUESTS] = "requests",
    [SER_OK] = "ok",
    [SER_PAGES] = "pages",
    [SER_ERRORS + ERRK_P2024] = "errors_P2024",
    [SER_ERRORS + ERRK_P1001] = "errors_P1001",
    [SER_ERRORS + ERRK_P1008] = "errors_P1008",
    [SER_ERRORS + ERRK_P1017] = "errors_P1017",
    [SER_ERRORS + ERRK_P2028] = "errors_P2028",
    [SER_ERRORS + ERRK_42P05] = "errors_42P05",
    [SER_ERRORS + ERRK_53300] = "errors_53300",
    [SER_ERRORS + ERRK_57014] = "errors_57014",
    [SER_ERRORS + ERRK_QUERY_WAIT_TIMEOUT] = "errors_query_wait_timeout",
    [SER_ERRORS + ERRK_QUERY_TIMEOUT] = "errors_query_timeout",
    [SER_ERRORS + ERRK_MAX_CLIENT_CONN] = "errors_max_client_conn",
    [SER_ERRORS + ERRK_SERVER_LOGIN_RETRY] = "errors_server_login_retry",
    [SER_ERRORS + ERRK_STATEMENT_MODE] = "errors_statement_mode",
    [SER_ERRORS + ERRK_MAX_CLIENTS_IN_SESSION_MODE] = "errors_MaxClientsInSessionMode",
    [SER_ERRORS + ERRK_EMAXCONN] = "errors_EMAXCONN",
    [SER_ERRORS + ERRK_ECHECKOUTTIMEOUT] = "errors_ECHECKOUTTIMEOUT",
    [SER_ERRORS + ERRK_PG_POOL_TIMEOUT] = "errors_pg_pool_timeout",
    [SER_ERRORS + ERRK_PG_CONNECTION_TIMEOUT] = "errors_pg_connection_timeout",
    [SER_ERRORS + ERRK_REQUEST_TIMEOUT] = "errors_request_timeout",
    [SER_ERRORS + ERRK_26000] = "errors_26000",
    [SER_ERRORS + ERRK_08P01] = "errors_08P01",
    [SER_POOL_WAIT] = "pool_wait",
    [SER_POOLER_WAIT] = "pooler_wait",
};

const struct runner_metric *metrics_columns(size_t *n)
{
    *n = M__COUNT;
    return columns;
}

const char *const *metrics_series_names(size_t *n)
{
    *n = SER__COUNT;
    return series;
}

void metrics_init(struct metrics *m, struct hist **hists)
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < SER__COUNT; i++) {
        m->h[i] = hists[i];
    }
    metrics_reset(m, 0);
    stat_level_init(&m->in_flight, 0, 0);
    stat_level_init(&m->server_busy, 0, 0);
    stat_level_init(&m->server_conns, 0, 0);
    stat_level_init(&m->client_conns, 0, 0);
    stat_level_init(&m->db_active, 0, 0);
    stat_level_init(&m->instances, 0, 0);
}

void metrics_reset(struct metrics *m, sim_time now)
{
    m->window_start = now;
    m->pages = m->page_errors = m->requests = m->ok = m->errors = 0;
    m->attempts = m->cache_hits = m->tx_done = m->pooler_waited = m->cold_starts = 0;
    memset(m->errors_by_kind, 0, sizeof m->errors_by_kind);
    for (int i = 0; i < SER__COUNT; i++) {
        hist_init(m->h[i]);
    }
    stat_acc_init(&m->pool_wait);
    stat_acc_init(&m->pooler_wait);
    stat_acc_init(&m->server_hold);
    if (now > 0) {
        stat_level_reset(&m->in_flight, now);
        stat_level_reset(&m->server_busy, now);
        stat_level_reset(&m->server_conns, now);
        stat_level_reset(&m->client_conns, now);
        stat_level_reset(&m->db_active, now);
        stat_level_reset(&m->instances, now);
    }
}

void metrics_call_done(struct metrics *m, sim_time latency, enum errkind err)
{
    m->requests++;
    hist_add(m->h[SER_REQUESTS], latency);
    if (err == ERRK_NONE) {
        m->ok++;
        hist_add(m->h[SER_OK], latency);
        return;
    }
    assert(err >= 0 && err < ERRK__COUNT);
    m->errors++;
    m->errors_by_kind[err]++;
    hist_add(m->h[SER_ERRORS + err], latency);
}

void metrics_page_done(struct metrics *m, sim_time latency, bool failed)
{
    m->pages++;
    m->page_errors += failed;
    hist_add(m->h[SER_PAGES], latency);
}

static double ns_to_ms(double ns)
{
    return ns / 1e6;
}

static double q_ms(const struct hist *h, double q)
{
    return ns_to_ms(hist_quantile(h, q));
}

static void latency_values(const struct metrics *m, double *out)
{
    const struct hist *all = m->h[SER_REQUESTS], *ok = m->h[SER_OK], *pg = m->h[SER_PAGES];

    out[M_LAT_MEAN] = ns_to_ms(hist_mean(all));
    out[M_LAT_P50] = q_ms(all, 0.50);
    out[M_LAT_P90] = q_ms(all, 0.90);
    out[M_LAT_P95] = q_ms(all, 0.95);
    out[M_LAT_P99] = q_ms(all, 0.99);
    out[M_LAT_MAX] = all->n ? ns_to_ms((double)all->max) : NA;
    out[M_OK_MEAN] = ns_to_ms(hist_mean(ok));
    out[M_OK_P50] = q_ms(ok, 0.50);
    out[M_OK_P90] = q_ms(ok, 0.90);
    out[M_OK_P95] = q_ms(ok, 0.95);
    out[M_OK_P99] = q_ms(ok, 0.99);
    out[M_PAGE_P50] = q_ms(pg, 0.50);
    out[M_PAGE_P99] = q_ms(pg, 0.99);
}

static void wait_values(const struct metrics *m, double *out)
{
    const struct stat_acc *pw = &m->pool_wait, *qw = &m->pooler_wait;

    out[M_POOL_WAIT_MEAN] = pw->n ? ns_to_ms(pw->mean) : NA;
    out[M_POOL_WAIT_P99] = q_ms(m->h[SER_POOL_WAIT], 0.99);
    if (!m->has_pooler || qw->n == 0) {
        out[M_POOLER_WAIT_MEAN] = out[M_POOLER_WAIT_P99] = out[M_POOLER_WAIT_PROB] = NA;
        return;
    }
    out[M_POOLER_WAIT_MEAN] = ns_to_ms(qw->mean);
    out[M_POOLER_WAIT_P99] = q_ms(m->h[SER_POOLER_WAIT], 0.99);
    out[M_POOLER_WAIT_PROB] = (double)m->pooler_waited / (double)qw->n;
}

static void resource_values(const struct metrics *m, sim_time now, double *out)
{
    double busy = stat_level_mean(&m->server_busy, now);

    out[M_SERVER_CONN_UTIL] = m->server_capacity > 0 ? busy / (double)m->server_capacity : NA;
    out[M_SERVER_HOLD_MEAN] = m->server_hold.n ? ns_to_ms(m->server_hold.mean) : NA;
    out[M_SERVER_CONNS_PEAK] = (double)m->server_conns.peak;
    out[M_CLIENT_CONNS_PEAK] = (double)m->client_conns.peak;
    out[M_DB_ACTIVE_MEAN] = stat_level_mean(&m->db_active, now);
    out[M_EVENTS] = (double)m->events;
    out[M_COLD_STARTS] = (double)m->cold_starts;
    out[M_INSTANCES_PEAK] = (double)m->instances.peak;
}

void metrics_values(const struct metrics *m, sim_time now, double *out)
{
    double window_s = sim_time_to_s(now - m->window_start);

    out[M_PAGES] = (double)m->pages;
    out[M_PAGE_ERRORS] = (double)m->page_errors;
    out[M_REQUESTS] = (double)m->requests;
    out[M_OK] = (double)m->ok;
    out[M_ERRORS] = (double)m->errors;
    out[M_ATTEMPTS] = (double)m->attempts;
    out[M_CACHE_HITS] = (double)m->cache_hits;
    out[M_IN_FLIGHT_END] = (double)m->in_flight.value;
    out[M_IN_FLIGHT_MEAN] = stat_level_mean(&m->in_flight, now);
    out[M_IN_FLIGHT_PEAK] = (double)m->in_flight.peak;
    out[M_ERROR_RATE] = m->requests ? (double)m->errors / (double)m->requests : NA;
    out[M_THROUGHPUT_RPS] = window_s > 0 ? (double)m->ok / window_s : NA;
    out[M_TX_RPS] = window_s > 0 ? (double)m->tx_done / window_s : NA;
    latency_values(m, out);
    for (int k = 0; k < ERRK__COUNT; k++) {
        out[err_column(k)] = (double)m->errors_by_kind[k];
    }
    wait_values(m, out);
    resource_values(m, now, out);
}

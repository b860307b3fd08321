/*
 * metrics.h - what one replication measures (DESIGN.md §5 "points.csv").
 *
 * The models report observations as they happen; metrics_reset at the end
 * of the warm-up forgets everything before it (levels keep their current
 * value), and metrics_values turns the window into the metric columns, in
 * the order of metrics_columns (a public contract: append only).
 */
#ifndef POOLSIM_MODELS_METRICS_H
#define POOLSIM_MODELS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/errkind.h"
#include "sim/hist.h"
#include "sim/runner.h"
#include "sim/simtime.h"
#include "sim/stats.h"

struct trace;

/* Histogram series, in histograms.csv order. */
enum metrics_series {
    SER_REQUESTS,
    SER_OK,
    SER_PAGES,
    SER_ERRORS, /* first of ERRK__COUNT series errors_<kind> */
    SER_POOL_WAIT = SER_ERRORS + ERRK__COUNT,
    SER_POOLER_WAIT,
    SER__COUNT
};

struct metrics {
    sim_time window_start;   /* end of the warm-up (ns) */
    bool has_pooler;         /* false: pooler metrics do not apply */
    int64_t server_capacity; /* pool size, or usable max_connections when direct */
    uint64_t pages, page_errors, requests, ok, errors, attempts, cache_hits, tx_done;
    uint64_t errors_by_kind[ERRK__COUNT];
    uint64_t events;                /* engine events of the whole replication (set at the end) */
    uint64_t cold_starts;           /* serverless instances started */
    struct hist *h[SER__COUNT];     /* borrowed from the runner */
    struct stat_acc pool_wait;      /* ns, zeros included */
    struct stat_acc pooler_wait;    /* ns, zeros included */
    uint64_t pooler_waited;         /* assignments that waited longer than zero */
    struct stat_acc server_hold;    /* ns, link to release */
    struct stat_level in_flight;    /* calls in flight */
    struct stat_level server_busy;  /* server connections linked / backends busy */
    struct stat_level server_conns; /* server connections open (pooler) or backends (direct) */
    struct stat_level client_conns; /* client connections at the pooler (or backends, direct) */
    struct stat_level db_active;    /* statements running at PostgreSQL */
    struct stat_level instances;    /* app instances warm: starting or ready, not frozen */
    struct trace *trace;            /* sampled requests' stages (borrowed); NULL = off */
};

/* The metric columns and the histogram series names. */
const struct runner_metric *metrics_columns(size_t *n);
const char *const *metrics_series_names(size_t *n);

/* Start at time 0 recording into hists[SER__COUNT] (borrowed, hist_init'ed). */
void metrics_init(struct metrics *m, struct hist **hists);
/* The warm-up ends at now: forget what came before. */
void metrics_reset(struct metrics *m, sim_time now);
/* Fill out[n columns] for the window [window_start, now]. */
void metrics_values(const struct metrics *m, sim_time now, double *out);

/* A call ended: latency as its caller saw it, err = ERRK_NONE when it succeeded. */
void metrics_call_done(struct metrics *m, sim_time latency, enum errkind err);
/* A page ended (its last call ended); failed if any call failed. */
void metrics_page_done(struct metrics *m, sim_time latency, bool failed);

#endif

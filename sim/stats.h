/*
 * stats.h - streaming statistics, O(1) memory in run length (DESIGN.md §2, §5).
 *
 *  - struct stat_acc: Welford mean and variance, exact min and max, count.
 *  - struct stat_level: a time-weighted level (connections busy, clients
 *    waiting): the integral of a step function over sim_time, with its peak.
 *  - stat_agg: aggregation across replications as DESIGN.md §5 defines it:
 *    mean over replications with a 95% Student-t half-width (R-1 degrees of
 *    freedom; undefined for R = 1), and maxima as maxima.
 *
 * Warm-up: stat_*_reset(now) discards everything before the cut; a level
 * keeps its current value and integrates from the cut on.
 */
#ifndef POOLSIM_SIM_STATS_H
#define POOLSIM_SIM_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "sim/simtime.h"

struct stat_acc {
    uint64_t n;  /* observations */
    double mean; /* running mean */
    double m2;   /* sum of squared deviations from the mean */
    double min;  /* exact minimum (+inf when n = 0) */
    double max;  /* exact maximum (-inf when n = 0) */
};

void stat_acc_init(struct stat_acc *a);
void stat_acc_add(struct stat_acc *a, double x);
/* Combine b into a (Chan et al. parallel formula); exact min/max. */
void stat_acc_merge(struct stat_acc *a, const struct stat_acc *b);
/* Sample variance (n-1 denominator); 0 when n < 2. */
double stat_acc_var(const struct stat_acc *a);

struct stat_level {
    int64_t value;  /* current level */
    int64_t peak;   /* highest level since the last reset */
    sim_time since; /* start of the measured window (ns) */
    sim_time last;  /* time of the last change (ns) */
    double area;    /* integral of value over [since, last] (level x ns) */
};

/* Start at level value at time now. */
void stat_level_init(struct stat_level *l, sim_time now, int64_t value);
/* The level becomes value at time now (now >= last).  Call before the state change it reports. */
void stat_level_set(struct stat_level *l, sim_time now, int64_t value);
/* Add delta (may be negative) at time now. */
void stat_level_add(struct stat_level *l, sim_time now, int64_t delta);
/* Forget the past: integrate from now on; peak restarts at the current value. */
void stat_level_reset(struct stat_level *l, sim_time now);
/* Time-average over [since, now]; the current value when the window is empty. */
double stat_level_mean(const struct stat_level *l, sim_time now);

/*
 * The 95% two-sided Student-t half-width of the mean of n values with sample
 * standard deviation sd: t(0.975, n-1) * sd / sqrt(n).  NAN when n < 2.
 */
double stat_t_halfwidth(size_t n, double sd);

/*
 * Aggregate n per-replication values of one metric: *mean gets the mean and
 * *ci the 95% half-width (NAN when n < 2).  NAN inputs mean "does not apply"
 * in that replication: they are skipped; if all are NAN, mean is NAN.
 */
void stat_agg_mean(const double *x, size_t n, double *mean, double *ci);

/* Maximum of n values, skipping NAN; NAN if none. */
double stat_agg_max(const double *x, size_t n);

#endif

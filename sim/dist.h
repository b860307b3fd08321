/*
 * dist.h - distributions of durations (DESIGN.md §4 "Distributions").
 *
 * A struct dist is a plain value: parameters already in nanoseconds, checked
 * when it is made.  dist_sample draws one duration as a sim_time (>= 0)
 * from a stream the caller owns.  Kinds: const, exponential (mean), uniform
 * (min, max), lognormal (by median and p99, or by mean and cv), gamma (mean,
 * cv) and empirical (a quantile table, linear between points).
 *
 * Every dist_init_* returns 0, or -1 with e set at path (the caller's JSON
 * path, borrowed) and a message naming the bad value and what was expected.
 */
#ifndef POOLSIM_SIM_DIST_H
#define POOLSIM_SIM_DIST_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "sim/err.h"
#include "sim/simtime.h"

enum dist_kind {
    DIST_CONST,
    DIST_EXPONENTIAL,
    DIST_UNIFORM,
    DIST_LOGNORMAL,
    DIST_GAMMA,
    DIST_EMPIRICAL,
};

struct dist_point {
    double q;    /* cumulative probability, 0..1, strictly increasing */
    sim_time at; /* the quantile (ns), non-decreasing */
};

struct dist {
    enum dist_kind kind;
    sim_time value;         /* const: the value (ns) */
    double mean_ns;         /* exponential, gamma: mean (ns) */
    sim_time min, max;      /* uniform: bounds (ns) */
    double mu, sigma;       /* lognormal: parameters of ln(x in ns) */
    double shape, scale;    /* gamma: shape k, scale theta (ns) */
    struct dist_point *pts; /* empirical: owned table, first q = 0, last q = 1 */
    size_t npts;            /* empirical: table length, >= 2 */
};

/* A constant; value >= 0.  Cannot fail. */
void dist_init_const(struct dist *d, sim_time value);
int dist_init_exponential(struct dist *d, sim_time mean, const char *path, struct err *e);
int dist_init_uniform(struct dist *d, sim_time min, sim_time max, const char *path, struct err *e);
int dist_init_lognormal_median_p99(struct dist *d, sim_time median, sim_time p99, const char *path,
                                   struct err *e);
int dist_init_lognormal_mean_cv(struct dist *d, sim_time mean, double cv, const char *path,
                                struct err *e);
int dist_init_gamma(struct dist *d, sim_time mean, double cv, const char *path, struct err *e);

/* An empirical table; pts is copied.  Checks 0 first, 1 last, q increasing, times non-decreasing.
 */
int dist_init_empirical(struct dist *d, const struct dist_point *pts, size_t npts, const char *path,
                        struct err *e);

/*
 * Read an empirical table from a CSV file of "q,duration" lines (a header
 * line is allowed; durations with units as in experiment files, or bare
 * numbers in milliseconds).  Errors name file:line.
 */
int dist_init_empirical_file(struct dist *d, const char *file, const char *path, struct err *e);

/* Release an empirical table; other kinds own nothing.  Safe to call twice. */
void dist_fini(struct dist *d);

/* Deep copy (for empirical the table is duplicated). */
void dist_copy(struct dist *dst, const struct dist *src);

/* One sample, rounded to the nearest ns, never negative. */
sim_time dist_sample(const struct dist *d, gsl_rng *r);

/* The distribution's exact mean (ns), for reports and tests. */
double dist_mean_ns(const struct dist *d);

/* True if every sample is the same value (const, or degenerate). */
int dist_is_const(const struct dist *d);

/*
 * Write t in its shortest exact form with a unit, as experiment files write
 * durations (for messages): 120000000 -> "120ms", 1500 -> "1.5us",
 * 2000000000 -> "2s", 120000000000 -> "2m", -5000 -> "-5us", 0 -> "0s".  The
 * value is written in a unit it is at least 1 of (never "0.12s"); ties go to
 * the larger unit ("1.25ms", not "1250us").  Always NUL-terminated.
 */
void dist_format_duration(sim_time t, char *buf, size_t size);

/* A buffer this size holds any dist_format_duration text (at most 22 characters). */
#define DIST_DURATION_MAX 32

#endif

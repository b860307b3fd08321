/*
 * hist.h - log-bucketed latency histogram (DESIGN.md §2, §5).
 *
 * Records durations in ns.  Buckets are HDR-style: every power of two from
 * HIST_LOW_NS to HIST_HIGH_NS is cut into HIST_SUB equal sub-buckets, so a
 * bucket's width is at most 1/HIST_SUB of its lower bound, and a quantile
 * reported at the bucket's midpoint (clamped to the exact min and max) is
 * within 1% of the exact sorted quantile.  Values below HIST_LOW_NS go to an
 * explicit underflow bucket, values at or above HIST_HIGH_NS to an explicit
 * overflow bucket; both are counted and reported.  Histograms of the same
 * layout merge by adding counts, so merging two halves gives the whole.
 * Index computation is integer only (no log()).
 */
#ifndef POOLSIM_SIM_HIST_H
#define POOLSIM_SIM_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "sim/simtime.h"

#define HIST_LOW_SHIFT 10  /* HIST_LOW_NS = 2^10 ns ~ 1 us */
#define HIST_HIGH_SHIFT 45 /* HIST_HIGH_NS = 2^45 ns ~ 9.8 h */
#define HIST_SUB_SHIFT 6   /* 64 sub-buckets per octave */
#define HIST_LOW_NS ((sim_time)1 << HIST_LOW_SHIFT)
#define HIST_HIGH_NS ((sim_time)1 << HIST_HIGH_SHIFT)
#define HIST_SUB (1 << HIST_SUB_SHIFT)
#define HIST_NBUCKETS ((HIST_HIGH_SHIFT - HIST_LOW_SHIFT) * HIST_SUB)

struct hist {
    uint64_t n;                    /* all observations, under/overflow included */
    uint64_t underflow;            /* observations < HIST_LOW_NS */
    uint64_t overflow;             /* observations >= HIST_HIGH_NS */
    sim_time min, max;             /* exact (ns); valid when n > 0 */
    double sum;                    /* sum of observations (ns), for the exact mean */
    uint64_t count[HIST_NBUCKETS]; /* in-range buckets */
};

/* Empty histogram (also the warm-up reset). */
void hist_init(struct hist *h);
void hist_add(struct hist *h, sim_time v);
/* Add b's counts into a. */
void hist_merge(struct hist *a, const struct hist *b);

/*
 * The q-quantile (0 <= q <= 1) in ns, as a double: the smallest recorded
 * value x such that at least ceil(q*n) observations are <= x ("lower"
 * quantile, rank max(1, ceil(q*n))), estimated by the midpoint of its bucket
 * and clamped to [min, max].  Underflow reports min, overflow reports max.
 * NAN when n = 0.
 */
double hist_quantile(const struct hist *h, double q);

/* Exact mean (ns); NAN when n = 0. */
double hist_mean(const struct hist *h);

/* Bucket b's bounds in ns: [lo, hi). */
sim_time hist_bucket_lo(size_t b);
sim_time hist_bucket_hi(size_t b);

#endif

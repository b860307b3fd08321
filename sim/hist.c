/*
 * hist.c - log-bucketed latency histogram (DESIGN.md §2, §5; see hist.h).
 *
 * Layout (HDR-style, integer only): a value v in [2^LOW, 2^HIGH) has its
 * leading one at bit k = floor(log2 v), LOW <= k < HIGH; the HIST_SUB_SHIFT
 * bits just below it choose one of HIST_SUB equal sub-buckets of the octave
 * [2^k, 2^(k+1)).  Bucket (k - LOW) * HIST_SUB + sub therefore covers
 * [2^k + sub * 2^(k-S), 2^k + (sub + 1) * 2^(k-S)), S = HIST_SUB_SHIFT: its
 * width 2^(k-S) is at most 1/HIST_SUB of its lower bound, and its midpoint
 * is within 1/(2 * HIST_SUB) = 1/128 of any value inside it.  Buckets are
 * contiguous and increasing, the last ending at 2^HIGH.
 *
 * Invariant: n = underflow + overflow + sum of count[]; min and max are the
 * exact extremes of everything added (valid when n > 0).
 */
#include "sim/hist.h"

#include <assert.h>
#include <math.h>
#include <string.h>

/* Index of the bucket holding v, HIST_LOW_NS <= v < HIST_HIGH_NS: no loop, no division. */
static inline size_t bucket_of(sim_time v)
{
    uint64_t u = (uint64_t)v;
    int k = 63 - __builtin_clzll(u); /* u > 0 here; gcc and clang builtin */
    uint64_t sub = (u >> (k - HIST_SUB_SHIFT)) & (HIST_SUB - 1);

    return (size_t)(k - HIST_LOW_SHIFT) * HIST_SUB + (size_t)sub;
}

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = SIM_TIME_MAX;
    h->max = INT64_MIN;
}

void hist_add(struct hist *h, sim_time v)
{
    assert(v >= 0);
    h->n++;
    h->sum += (double)v;
    if (v < h->min) {
        h->min = v;
    }
    if (v > h->max) {
        h->max = v;
    }
    if (v < HIST_LOW_NS) {
        h->underflow++;
    } else if (v >= HIST_HIGH_NS) {
        h->overflow++;
    } else {
        h->count[bucket_of(v)]++;
    }
}

void hist_merge(struct hist *a, const struct hist *b)
{
    a->n += b->n;
    a->underflow += b->underflow;
    a->overflow += b->overflow;
    a->sum += b->sum;
    if (b->min < a->min) {
        a->min = b->min;
    }
    if (b->max > a->max) {
        a->max = b->max;
    }
    for (size_t i = 0; i < HIST_NBUCKETS; i++) {
        a->count[i] += b->count[i];
    }
}

sim_time hist_bucket_lo(size_t b)
{
    int k = (int)(b >> HIST_SUB_SHIFT) + HIST_LOW_SHIFT;
    sim_time sub = (sim_time)(b & (HIST_SUB - 1));

    assert(b < HIST_NBUCKETS);
    return ((sim_time)1 << k) + (sub << (k - HIST_SUB_SHIFT));
}

sim_time hist_bucket_hi(size_t b)
{
    int k = (int)(b >> HIST_SUB_SHIFT) + HIST_LOW_SHIFT;

    return hist_bucket_lo(b) + ((sim_time)1 << (k - HIST_SUB_SHIFT));
}

/* Bucket b's midpoint, clamped to the exact [min, max]. */
static double bucket_estimate(const struct hist *h, size_t b)
{
    double lo = (double)hist_bucket_lo(b), hi = (double)hist_bucket_hi(b);
    double mid = lo + (hi - lo) / 2.0;

    return fmin(fmax(mid, (double)h->min), (double)h->max);
}

double hist_quantile(const struct hist *h, double q)
{
    double r = ceil(q * (double)h->n);
    uint64_t rank, cum = h->underflow;

    assert(q >= 0.0 && q <= 1.0);
    if (h->n == 0) {
        return (double)NAN;
    }
    rank = r < 1.0 ? 1 : (uint64_t)r;
    if (rank <= cum) {
        return (double)h->min;
    }
    for (size_t b = 0; b < HIST_NBUCKETS; b++) {
        cum += h->count[b];
        if (rank <= cum) {
            return bucket_estimate(h, b);
        }
    }
    return (double)h->max;
}

double hist_mean(const struct hist *h)
{
    if (h->n == 0) {
        return (double)NAN;
    }
    return h->sum / (double)h->n;
}

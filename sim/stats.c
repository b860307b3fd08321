/*
 * stats.c - streaming statistics (DESIGN.md §2, §5; see stats.h).
 *
 * stat_acc is Welford's running mean and sum of squared deviations, merged
 * with Chan et al.'s pairwise formula, so neither adding nor merging ever
 * subtracts two large sums.  Invariants: n = 0 <=> min = +inf and
 * max = -inf; m2 >= 0 up to rounding.
 *
 * stat_level integrates a step function exactly in time (sim_time is an
 * integer) and in double for the area: each step adds value * dt, both
 * converted exactly while below 2^53, with one rounding for the product.
 * Invariant: since <= last, and area is the integral over [since, last].
 *
 * stat_agg_* implement the aggregation across replications of §5: the
 * mean with a Student-t 95% half-width on R - 1 degrees of freedom, NAN
 * marking "does not apply" in a replication.
 */
#include "sim/stats.h"

#include <assert.h>
#include <math.h>

#include <gsl/gsl_cdf.h>

void stat_acc_init(struct stat_acc *a)
{
    a->n = 0;
    a->mean = 0.0;
    a->m2 = 0.0;
    a->min = HUGE_VAL;
    a->max = -HUGE_VAL;
}

void stat_acc_add(struct stat_acc *a, double x)
{
    double delta = x - a->mean;

    a->n++;
    a->mean += delta / (double)a->n;
    a->m2 += delta * (x - a->mean);
    if (x < a->min) {
        a->min = x;
    }
    if (x > a->max) {
        a->max = x;
    }
}

void stat_acc_merge(struct stat_acc *a, const struct stat_acc *b)
{
    double na = (double)a->n, nb = (double)b->n, n, delta;

    if (b->n == 0) {
        return;
    }
    if (a->n == 0) {
        *a = *b;
        return;
    }
    n = na + nb;
    delta = b->mean - a->mean;
    a->mean += delta * (nb / n);
    a->m2 += b->m2 + delta * delta * (na * nb / n);
    a->n += b->n;
    if (b->min < a->min) {
        a->min = b->min;
    }
    if (b->max > a->max) {
        a->max = b->max;
    }
}

double stat_acc_var(const struct stat_acc *a)
{
    if (a->n < 2) {
        return 0.0;
    }
    return a->m2 / (double)(a->n - 1);
}

/* Integrate the current value from last to now. */
static void level_advance(struct stat_level *l, sim_time now)
{
    assert(now >= l->last);
    l->area += (double)l->value * (double)(now - l->last);
    l->last = now;
}

void stat_level_init(struct stat_level *l, sim_time now, int64_t value)
{
    l->value = value;
    l->peak = value;
    l->since = now;
    l->last = now;
    l->area = 0.0;
}

void stat_level_set(struct stat_level *l, sim_time now, int64_t value)
{
    level_advance(l, now);
    l->value = value;
    if (value > l->peak) {
        l->peak = value;
    }
}

void stat_level_add(struct stat_level *l, sim_time now, int64_t delta)
{
    stat_level_set(l, now, l->value + delta);
}

void stat_level_reset(struct stat_level *l, sim_time now)
{
    assert(now >= l->last);
    stat_level_init(l, now, l->value);
}

double stat_level_mean(const struct stat_level *l, sim_time now)
{
    double area;

    assert(now >= l->last);
    if (now == l->since) {
        return (double)l->value;
    }
    area = l->area + (double)l->value * (double)(now - l->last);
    return area / (double)(now - l->since);
}

double stat_t_halfwidth(size_t n, double sd)
{
    if (n < 2) {
        return (double)NAN;
    }
    return gsl_cdf_tdist_Pinv(0.975, (double)(n - 1)) * sd / sqrt((double)n);
}

/*
 * Two passes over the non-NAN values (R is small): the mean, then the sum
 * of squared deviations from it, which is the most accurate way there is.
 */
void stat_agg_mean(const double *x, size_t n, double *mean, double *ci)
{
    size_t k = 0;
    double sum = 0.0, ss = 0.0, m;

    for (size_t i = 0; i < n; i++) {
        if (!isnan(x[i])) {
            sum += x[i];
            k++;
        }
    }
    if (k == 0) {
        *mean = (double)NAN;
        *ci = (double)NAN;
        return;
    }
    m = sum / (double)k;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(x[i])) {
            ss += (x[i] - m) * (x[i] - m);
        }
    }
    *mean = m;
    *ci = k < 2 ? (double)NAN : stat_t_halfwidth(k, sqrt(ss / (double)(k - 1)));
}

double stat_agg_max(const double *x, size_t n)
{
    double max = (double)NAN;

    for (size_t i = 0; i < n; i++) {
        if (!isnan(x[i]) && (isnan(max) || x[i] > max)) {
            max = x[i];
        }
    }
    return max;
}

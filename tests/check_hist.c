/*
 * check_hist.c - the latency histogram: bucket layout and boundaries by
 * hand, under/overflow, exact mean/min/max, the lower-quantile rank and the
 * clamped midpoint by hand, merging, and (tagged "stat", long) the 1%
 * relative-error bound against exact sorted quantiles of 10^6 samples.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "sim/hist.h"
#include "sim/xalloc.h"
#include "tests/tests.h"

#define POW2(k) ((sim_time)1 << (k))

/* The index of the one non-empty bucket of h (fails if there is not exactly one). */
static size_t only_bucket(const struct hist *h)
{
    size_t found = HIST_NBUCKETS, nonempty = 0;

    for (size_t b = 0; b < HIST_NBUCKETS; b++) {
        if (h->count[b] != 0) {
            found = b;
            nonempty++;
        }
    }
    ck_assert_uint_eq(nonempty, 1);
    return found;
}

static size_t bucket_of_one(sim_time v)
{
    struct hist h;

    hist_init(&h);
    hist_add(&h, v);
    return only_bucket(&h);
}

START_TEST(bucket_bounds_contiguous_and_increasing)
{
    /* Octave 10 = [1024, 2048) in 64 buckets of 16 ns; octave 11 in buckets of 32 ns. */
    ck_assert_int_eq(hist_bucket_lo(0), 1024);
    ck_assert_int_eq(hist_bucket_hi(0), 1040);
    ck_assert_int_eq(hist_bucket_lo(63), 2032);
    ck_assert_int_eq(hist_bucket_hi(63), 2048);
    ck_assert_int_eq(hist_bucket_lo(64), 2048);
    ck_assert_int_eq(hist_bucket_hi(64), 2080);
    ck_assert_int_eq(hist_bucket_lo(643), POW2(20) + 3 * POW2(14));
    ck_assert_int_eq(hist_bucket_hi(HIST_NBUCKETS - 1), HIST_HIGH_NS);
    for (size_t b = 0; b < HIST_NBUCKETS; b++) {
        sim_time lo = hist_bucket_lo(b), hi = hist_bucket_hi(b);

        ck_assert_int_lt(lo, hi);
        ck_assert_int_le((hi - lo) * HIST_SUB, lo); /* width <= lo / 64: the error bound */
        if (b + 1 < HIST_NBUCKETS) {
            ck_assert_int_eq(hi, hist_bucket_lo(b + 1));
        }
    }
}
END_TEST

START_TEST(values_at_boundaries_land_in_right_bucket)
{
    /* By hand: bucket = (k - 10) * 64 + (the 6 bits below the leading one at bit k). */
    ck_assert_uint_eq(bucket_of_one(1024), 0);
    ck_assert_uint_eq(bucket_of_one(1039), 0);
    ck_assert_uint_eq(bucket_of_one(1040), 1);
    ck_assert_uint_eq(bucket_of_one(2047), 63);
    ck_assert_uint_eq(bucket_of_one(2048), 64);
    ck_assert_uint_eq(bucket_of_one(2079), 64);
    ck_assert_uint_eq(bucket_of_one(2080), 65);
    ck_assert_uint_eq(bucket_of_one(POW2(20) + 3 * POW2(14) - 1), 642);
    ck_assert_uint_eq(bucket_of_one(POW2(20) + 3 * POW2(14)), 643);
    ck_assert_uint_eq(bucket_of_one(HIST_HIGH_NS - 1), HIST_NBUCKETS - 1);
    /* And every bucket's first and last value land in it. */
    for (size_t b = 0; b < HIST_NBUCKETS; b++) {
        ck_assert_uint_eq(bucket_of_one(hist_bucket_lo(b)), b);
        ck_assert_uint_eq(bucket_of_one(hist_bucket_hi(b) - 1), b);
    }
}
END_TEST

START_TEST(under_and_overflow_counted_and_reported)
{
    const sim_time v[] = {0, 5, 1023, 1024, POW2(45), POW2(46)};
    struct hist h;

    hist_init(&h);
    for (size_t i = 0; i < 6; i++) {
        hist_add(&h, v[i]);
    }
    ck_assert_uint_eq(h.n, 6);
    ck_assert_uint_eq(h.underflow, 3);
    ck_assert_uint_eq(h.overflow, 2);
    ck_assert_uint_eq(only_bucket(&h), 0);
    ck_assert_uint_eq(h.count[0], 1);
    ck_assert_double_eq(hist_quantile(&h, 0.0), 0.0);    /* rank 1: underflow -> min */
    ck_assert_double_eq(hist_quantile(&h, 0.5), 0.0);    /* rank 3: underflow -> min */
    ck_assert_double_eq(hist_quantile(&h, 0.6), 1032.0); /* rank 4: [1024, 1040) midpoint */
    ck_assert_double_eq(hist_quantile(&h, 0.7), 0x1p46); /* rank 5: overflow -> max */
    ck_assert_double_eq(hist_quantile(&h, 1.0), 0x1p46);
}
END_TEST

START_TEST(exact_mean_min_max)
{
    const sim_time v[] = {1500, 3, 123456789, POW2(46) + 7};
    struct hist h;
    sim_time sum = 0;

    hist_init(&h);
    ck_assert(isnan(hist_mean(&h)));
    ck_assert(isnan(hist_quantile(&h, 0.5)));
    for (size_t i = 0; i < 4; i++) {
        hist_add(&h, v[i]);
        sum += v[i];
    }
    /* The sum is below 2^53, so its double is exact and so is the mean's one rounding. */
    ck_assert_double_eq(hist_mean(&h), (double)sum / 4.0);
    ck_assert_int_eq(h.min, 3);
    ck_assert_int_eq(h.max, POW2(46) + 7);
}
END_TEST

START_TEST(quantile_rank_and_midpoint_by_hand)
{
    /*
     * 2000 in [2000, 2016) mid 2008; 3000 in [2976, 3008) mid 2992;
     * 5000 in [4992, 5056) mid 5024; 7000 in [6976, 7040) mid 7008 > max.
     * Lower quantile: rank max(1, ceil(q * 4)).
     */
    const sim_time v[] = {7000, 2000, 5000, 3000};
    struct hist h;

    hist_init(&h);
    for (size_t i = 0; i < 4; i++) {
        hist_add(&h, v[i]);
    }
    ck_assert_double_eq(hist_quantile(&h, 0.0), 2008.0);  /* rank 1 */
    ck_assert_double_eq(hist_quantile(&h, 0.25), 2008.0); /* rank 1 */
    ck_assert_double_eq(hist_quantile(&h, 0.26), 2992.0); /* rank 2 */
    ck_assert_double_eq(hist_quantile(&h, 0.5), 2992.0);  /* rank 2, not 3 */
    ck_assert_double_eq(hist_quantile(&h, 0.51), 5024.0); /* rank 3 */
    ck_assert_double_eq(hist_quantile(&h, 1.0), 7000.0);  /* 7008 clamped to max */

    /* Clamped up to min: 2010 is in [2000, 2016), whose midpoint 2008 < min. */
    hist_init(&h);
    hist_add(&h, 2010);
    hist_add(&h, 2100);
    ck_assert_double_eq(hist_quantile(&h, 0.0), 2010.0);
}
END_TEST

/* Lognormal durations: median median_s, shape sigma, through the one double -> time function. */
static void lognormal_samples(sim_time *x, size_t n, unsigned long seed, double median_s,
                              double sigma)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);

    gsl_rng_set(r, seed);
    for (size_t i = 0; i < n; i++) {
        x[i] = sim_time_from_s(gsl_ran_lognormal(r, log(median_s), sigma));
    }
    gsl_rng_free(r);
}

START_TEST(merge_of_halves_equals_whole)
{
    enum { N = 20000 };
    sim_time *x = xmalloc(N * sizeof *x);
    struct hist *h = xmalloc(3 * sizeof *h), *whole = &h[0], *a = &h[1], *b = &h[2];

    /* sigma 3 reaches below 1024 ns; a few explicit values reach the overflow. */
    lognormal_samples(x, N, 7, 0.020, 3.0);
    x[10] = POW2(45);
    x[11] = POW2(47) + 1;
    x[12] = 0;
    hist_init(whole);
    hist_init(a);
    hist_init(b);
    for (size_t i = 0; i < N; i++) {
        hist_add(whole, x[i]);
        hist_add(i % 3 == 0 ? a : b, x[i]);
    }
    ck_assert_uint_gt(whole->underflow, 1);
    ck_assert_uint_eq(whole->overflow, 2);
    hist_merge(a, b);
    ck_assert_uint_eq(a->n, whole->n);
    ck_assert_uint_eq(a->underflow, whole->underflow);
    ck_assert_uint_eq(a->overflow, whole->overflow);
    ck_assert_int_eq(a->min, whole->min);
    ck_assert_int_eq(a->max, whole->max);
    /* Integer sums below 2^53: exact in any order. */
    ck_assert_double_eq(a->sum, whole->sum);
    ck_assert_int_eq(memcmp(a->count, whole->count, sizeof a->count), 0);
    for (int i = 0; i <= 1000; i++) {
        double q = i / 1000.0;

        ck_assert_double_eq(hist_quantile(a, q), hist_quantile(whole, q));
    }
    /* Merging into an empty histogram copies (min and max included). */
    hist_init(b);
    hist_merge(b, whole);
    ck_assert_int_eq(b->min, whole->min);
    ck_assert_int_eq(b->max, whole->max);
    ck_assert_int_eq(memcmp(b->count, whole->count, sizeof b->count), 0);
    free(h);
    free(x);
}
END_TEST

static int cmp_time(const void *pa, const void *pb)
{
    sim_time a = *(const sim_time *)pa, b = *(const sim_time *)pb;

    return (a > b) - (a < b);
}

/* Relative error of the histogram's q-quantile against the exact lower quantile of sorted[]. */
static double quantile_rel_err(const struct hist *h, const sim_time *sorted, size_t n, double q)
{
    double r = ceil(q * (double)n);
    size_t rank = r < 1.0 ? 1 : (size_t)r;
    double exact = (double)sorted[rank - 1];

    return fabs(hist_quantile(h, q) - exact) / exact;
}

/*
 * Not a sampling test: the bound is deterministic (any data, any seed).  The
 * midpoint of a bucket of width <= lo / 64 is within 1/128 of every value in
 * it, so every quantile must be within 1% (the contract) and in fact within
 * 1/128 (the layout).  10^6 lognormal durations (median 20 ms, sigma 1.0)
 * span about 15 octaves, so most of the sweep's quantiles fall in different
 * buckets and sub-bucket positions; a coarser layout (32 sub-buckets: up to
 * 1/64 = 1.6%) or a wrong index or midpoint would exceed the bound.
 */
START_TEST(quantiles_within_1pct_of_exact)
{
    enum { N = 1000000 };
    const double named[] = {0.5, 0.9, 0.95, 0.99, 0.999, 0.0, 1.0};
    sim_time *x = xmalloc(N * sizeof *x);
    struct hist *h = xmalloc(sizeof *h);
    double worst = 0.0;

    lognormal_samples(x, N, 20240501, 0.020, 1.0);
    hist_init(h);
    for (size_t i = 0; i < N; i++) {
        hist_add(h, x[i]);
    }
    qsort(x, N, sizeof *x, cmp_time);
    ck_assert_uint_eq(h->underflow + h->overflow, 0);
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        double e = quantile_rel_err(h, x, N, named[i]);

        ck_assert_msg(e <= 0.01, "q = %g: relative error %g > 1%%", named[i], e);
        worst = fmax(worst, e);
    }
    for (int i = 1; i <= 99; i++) {
        double e = quantile_rel_err(h, x, N, i / 100.0);

        ck_assert_msg(e <= 0.01, "q = %g: relative error %g > 1%%", i / 100.0, e);
        worst = fmax(worst, e);
    }
    ck_assert_msg(worst <= 1.0 / 128, "worst relative error %g > 1/128", worst);
    free(h);
    free(x);
}
END_TEST

Suite *hist_suite(void)
{
    Suite *s = suite_create("hist");
    TCase *tc = tests_tcase(s, "hist", 10, "");
    TCase *st = tests_tcase(s, "hist_stat", 60, "stat");

    tcase_add_test(tc, bucket_bounds_contiguous_and_increasing);
    tcase_add_test(tc, values_at_boundaries_land_in_right_bucket);
    tcase_add_test(tc, under_and_overflow_counted_and_reported);
    tcase_add_test(tc, exact_mean_min_max);
    tcase_add_test(tc, quantile_rank_and_midpoint_by_hand);
    tcase_add_test(tc, merge_of_halves_equals_whole);
    tcase_add_test(st, quantiles_within_1pct_of_exact);
    return s;
}

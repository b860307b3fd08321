/*
 * check_stats.c - streaming statistics: Welford against two passes, Chan's
 * merge against the whole, time-weighted levels and warm-up by hand, and the
 * replication aggregation of DESIGN.md §5 on a hand-computed example.
 * Every case is exact arithmetic on fixed data (no sampling): untagged.
 */
#include <math.h>

#include "sim/stats.h"
#include "tests/tests.h"

#define DATA_N 1000

/*
 * Fixed, irregular data around offset.  With offset 1e9 the textbook
 * sum-of-squares formula loses every digit of the variance (1e18 swamps
 * deviations of order 1) but Welford must not; it still pays ~1e-10
 * relative for rounding the running mean near 1e9, which is why the merge
 * test, checking the formula to 1e-12, uses offset 0.
 */
static void fill_data(double *x, size_t n, double offset)
{
    for (size_t i = 0; i < n; i++) {
        double d = (double)i;

        x[i] = offset + 50.0 * sin(0.37 * d) + 0.001 * d * d / (double)n;
    }
}

static void two_pass(const double *x, size_t n, double *mean, double *var)
{
    double sum = 0.0, ss = 0.0;

    for (size_t i = 0; i < n; i++) {
        sum += x[i];
    }
    *mean = sum / (double)n;
    for (size_t i = 0; i < n; i++) {
        ss += (x[i] - *mean) * (x[i] - *mean);
    }
    *var = ss / (double)(n - 1);
}

START_TEST(welford_matches_two_pass)
{
    double x[DATA_N], mean, var, min = HUGE_VAL, max = -HUGE_VAL;
    struct stat_acc a;

    fill_data(x, DATA_N, 1e9);
    two_pass(x, DATA_N, &mean, &var);
    stat_acc_init(&a);
    ck_assert_double_eq(stat_acc_var(&a), 0.0);
    for (size_t i = 0; i < DATA_N; i++) {
        stat_acc_add(&a, x[i]);
        min = fmin(min, x[i]);
        max = fmax(max, x[i]);
    }
    ck_assert_uint_eq(a.n, DATA_N);
    ck_assert_double_eq_tol(a.mean, mean, 1e-12 * mean);
    ck_assert_double_eq_tol(stat_acc_var(&a), var, 1e-9 * var);
    ck_assert_double_eq(a.min, min);
    ck_assert_double_eq(a.max, max);
}
END_TEST

START_TEST(welford_small_example_by_hand)
{
    /* 1e9 + {4, 7, 13, 16}: mean 1e9 + 10, deviations -6 -3 3 6, var = 90 / 3 = 30. */
    const double d[] = {4, 7, 13, 16};
    struct stat_acc a;

    stat_acc_init(&a);
    stat_acc_add(&a, 1e9 + d[0]);
    ck_assert_double_eq(stat_acc_var(&a), 0.0); /* n < 2 */
    for (size_t i = 1; i < 4; i++) {
        stat_acc_add(&a, 1e9 + d[i]);
    }
    ck_assert_double_eq_tol(a.mean, 1e9 + 10, 1e-6);
    ck_assert_double_eq_tol(stat_acc_var(&a), 30.0, 1e-6);
    ck_assert_double_eq(a.min, 1e9 + 4);
    ck_assert_double_eq(a.max, 1e9 + 16);
}
END_TEST

START_TEST(merge_of_halves_equals_whole)
{
    double x[DATA_N];
    struct stat_acc whole, a, b, empty;
    size_t cut = 377; /* unequal halves exercise the weights of Chan's formula */

    fill_data(x, DATA_N, 0.0);
    stat_acc_init(&whole);
    stat_acc_init(&a);
    stat_acc_init(&b);
    stat_acc_init(&empty);
    for (size_t i = 0; i < DATA_N; i++) {
        stat_acc_add(&whole, x[i]);
        stat_acc_add(i < cut ? &a : &b, x[i]);
    }
    stat_acc_merge(&a, &empty); /* no-op */
    stat_acc_merge(&a, &b);
    ck_assert_uint_eq(a.n, whole.n);
    ck_assert_double_eq_tol(a.mean, whole.mean, 1e-12 * whole.mean);
    ck_assert_double_eq_tol(a.m2, whole.m2, 1e-12 * whole.m2);
    ck_assert_double_eq(a.min, whole.min);
    ck_assert_double_eq(a.max, whole.max);

    stat_acc_merge(&empty, &whole); /* into an empty accumulator: a copy */
    ck_assert_uint_eq(empty.n, whole.n);
    ck_assert_double_eq(empty.mean, whole.mean);
    ck_assert_double_eq(empty.m2, whole.m2);
}
END_TEST

START_TEST(level_time_weighted_by_hand)
{
    /* Level 0 for 2 s, 3 for 1 s, 1 for 1 s: area 4 level.s over 4 s -> mean 1.0, peak 3. */
    struct stat_level l;

    stat_level_init(&l, 0, 0);
    ck_assert_double_eq(stat_level_mean(&l, 0), 0.0); /* empty window: current value */
    stat_level_add(&l, SIM_S(2), 3);
    /* Up to 2.5 s: area 0 * 2 + 3 * 0.5 = 1.5 over 2.5 s -> 0.6. */
    ck_assert_double_eq_tol(stat_level_mean(&l, SIM_MS(2500)), 0.6, 1e-12);
    stat_level_set(&l, SIM_S(3), 1);
    ck_assert_double_eq_tol(stat_level_mean(&l, SIM_S(4)), 1.0, 1e-12);
    ck_assert_int_eq(l.peak, 3);
    ck_assert_int_eq(l.value, 1);
}
END_TEST

START_TEST(level_reset_at_warmup_cut)
{
    /*
     * Warm-up [0, 1 s): level 9 then 4 (peak 9).  Cut at 1 s with the level
     * at 4: the window restarts there, peak restarts at 4.  Then 4 for 1 s,
     * 0 for 1 s, 6 for 2 s: area 4 + 0 + 12 = 16 over 4 s -> 4.0, peak 6.
     */
    struct stat_level l;

    stat_level_init(&l, 0, 9);
    stat_level_add(&l, SIM_MS(500), -5);
    stat_level_reset(&l, SIM_S(1));
    ck_assert_int_eq(l.peak, 4);
    ck_assert_int_eq(l.value, 4);
    ck_assert_double_eq(stat_level_mean(&l, SIM_S(1)), 4.0);
    ck_assert_double_eq_tol(stat_level_mean(&l, SIM_S(2)), 4.0, 1e-12);
    stat_level_set(&l, SIM_S(2), 0);
    ck_assert_int_eq(l.peak, 4);
    stat_level_add(&l, SIM_S(3), 6);
    ck_assert_double_eq_tol(stat_level_mean(&l, SIM_S(5)), 4.0, 1e-12);
    ck_assert_int_eq(l.peak, 6);
    /* Without the reset the mean over [0, 5 s] would be (4.5 + 2 + 16) / 5 = 4.5. */
}
END_TEST

START_TEST(agg_three_replications_by_hand)
{
    /*
     * {10, 12, 17}: mean 39 / 3 = 13; deviations -3, -1, 4; sum of squares
     * 26; sd = sqrt(26 / 2) = sqrt(13).  With 2 degrees of freedom the t
     * quantile has a closed form, t = (2p - 1) / sqrt(2 p (1 - p)):
     * t(0.975, 2) = 0.95 / sqrt(0.04875) = 4.302652729749464.  Half-width
     * = t * sqrt(13) / sqrt(3) = 0.95 * sqrt(13 / (3 * 0.04875))
     * = 0.95 * sqrt(800 / 9) = 0.95 * 20 sqrt(2) / 3 = 19 sqrt(2) / 3
     * = 8.956685895029603.
     */
    const double x[] = {10, 12, 17};
    double mean, ci;

    stat_agg_mean(x, 3, &mean, &ci);
    ck_assert_double_eq_tol(mean, 13.0, 1e-12);
    ck_assert_double_eq_tol(ci, 8.956685895029603, 1e-9);
    ck_assert_double_eq_tol(stat_t_halfwidth(3, sqrt(13.0)), 8.956685895029603, 1e-9);
}
END_TEST

START_TEST(t_halfwidth_matches_table)
{
    /*
     * t(0.975, 1) = tan(0.475 pi) = 12.706204736174705 (Cauchy, closed form);
     * t(0.975, 10) = 2.228138851986274 (tables; mpmath on the incomplete beta).
     */
    ck_assert_double_eq_tol(stat_t_halfwidth(11, 2.0), 2.228138851986274 * 2.0 / sqrt(11.0), 1e-9);
    ck_assert_double_eq_tol(stat_t_halfwidth(2, 1.0), 12.706204736174705 / sqrt(2.0), 1e-9);
    ck_assert(isnan(stat_t_halfwidth(1, 1.0)));
    ck_assert(isnan(stat_t_halfwidth(0, 1.0)));
}
END_TEST

START_TEST(agg_skips_nan)
{
    const double x[] = {(double)NAN, 10, 12, (double)NAN, 17};
    const double none[] = {(double)NAN, (double)NAN};
    const double one[] = {(double)NAN, 42, (double)NAN};
    double mean, ci;

    stat_agg_mean(x, 5, &mean, &ci); /* the example above with two "does not apply" */
    ck_assert_double_eq_tol(mean, 13.0, 1e-12);
    ck_assert_double_eq_tol(ci, 8.956685895029603, 1e-9);
    stat_agg_mean(none, 2, &mean, &ci);
    ck_assert(isnan(mean));
    ck_assert(isnan(ci));
    stat_agg_mean(one, 3, &mean, &ci); /* one value left: a mean, no interval */
    ck_assert_double_eq(mean, 42.0);
    ck_assert(isnan(ci));
}
END_TEST

START_TEST(agg_single_replication_has_no_interval)
{
    const double x[] = {7.5};
    double mean, ci;

    stat_agg_mean(x, 1, &mean, &ci);
    ck_assert_double_eq(mean, 7.5);
    ck_assert(isnan(ci));
    stat_agg_mean(x, 0, &mean, &ci);
    ck_assert(isnan(mean));
    ck_assert(isnan(ci));
}
END_TEST

START_TEST(agg_max_skips_nan)
{
    const double x[] = {3, (double)NAN, 7, 5};
    const double nan_first[] = {(double)NAN, -5, -2, -9};
    const double none[] = {(double)NAN};

    ck_assert_double_eq(stat_agg_max(x, 4), 7.0);
    ck_assert_double_eq(stat_agg_max(nan_first, 4), -2.0);
    ck_assert(isnan(stat_agg_max(none, 1)));
    ck_assert(isnan(stat_agg_max(x, 0)));
}
END_TEST

Suite *stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tests_tcase(s, "stats", 10, "");

    tcase_add_test(tc, welford_matches_two_pass);
    tcase_add_test(tc, welford_small_example_by_hand);
    tcase_add_test(tc, merge_of_halves_equals_whole);
    tcase_add_test(tc, level_time_weighted_by_hand);
    tcase_add_test(tc, level_reset_at_warmup_cut);
    tcase_add_test(tc, agg_three_replications_by_hand);
    tcase_add_test(tc, t_halfwidth_matches_table);
    tcase_add_test(tc, agg_skips_nan);
    tcase_add_test(tc, agg_single_replication_has_no_interval);
    tcase_add_test(tc, agg_max_skips_nan);
    return s;
}

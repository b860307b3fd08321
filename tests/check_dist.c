/*
 * check_dist.c - distributions of durations.
 *
 * Mechanism tests (untagged): every validation message exactly, the
 * duration formatter, the CSV reader, copy/fini, the parameters derived by
 * each init, and exact samples drawn through a scripted generator (a GSL
 * generator type whose uniforms are chosen by the test), so that inversion,
 * interpolation and rounding are checked to the nanosecond.
 *
 * Statistical tests (tagged "stat"): 10^6 samples from a fixed stream per
 * kind, compared with exact values at 3.3 standard errors (TESTS_Z).  Each
 * check states the error it must catch and asserts at run time that its
 * tolerance is at most half of that error, so a change of n or of the
 * parameters cannot silently weaken it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>

#include "sim/dist.h"
#include "sim/rng.h"
#include "tests/tests.h"

#define PATH "$.app.endpoints.stats.operations[0].server_time"
#define N_STAT 1000000
#define Z99 2.3263478740408408      /* the standard normal's 0.99 quantile */
#define SQRT_2PI 2.5066282746310002 /* sqrt(2 pi) */

/* ---- a scripted generator: gsl_rng_uniform returns u[0], u[1], ... in turn ---- */

struct script {
    double u[8];
    size_t n, next;
};

static void script_set(void *state, unsigned long seed)
{
    (void)state;
    (void)seed;
}

static double script_get_double(void *state)
{
    struct script *s = state;
    double u = s->u[s->next % s->n];

    s->next++;
    return u;
}

static unsigned long script_get(void *state)
{
    return (unsigned long)(script_get_double(state) * 4294967296.0);
}

static const gsl_rng_type script_type = {
    "script", 0xffffffffUL, 0, sizeof(struct script), script_set, script_get, script_get_double,
};

/* d sampled at uniform u (one uniform per sample: const, exponential, uniform, empirical). */
static sim_time sample_at(const struct dist *d, double u)
{
    gsl_rng *r = gsl_rng_alloc(&script_type);
    struct script *s = gsl_rng_state(r);
    sim_time t;

    s->u[0] = u;
    s->n = 1;
    t = dist_sample(d, r);
    ck_assert_uint_eq(s->next, 1);
    gsl_rng_free(r);
    return t;
}

/* ---- mechanism: formatting and messages ---- */

static void assert_format(sim_time t, const char *want)
{
    char buf[DIST_DURATION_MAX];

    dist_format_duration(t, buf, sizeof buf);
    ck_assert_msg(strcmp(buf, want) == 0, "%lld ns: \"%s\", expected \"%s\"", (long long)t, buf,
                  want);
}

START_TEST(format_duration_is_shortest_exact)
{
    char small[4];

    assert_format(0, "0s");
    assert_format(1, "1ns");
    assert_format(999, "999ns");
    assert_format(1000, "1us");
    assert_format(1500, "1.5us");
    assert_format(1234567, "1234567ns");
    assert_format(SIM_US(1250), "1.25ms");
    assert_format(SIM_MS(120), "120ms");
    assert_format(SIM_S(2), "2s");
    assert_format(SIM_NS(1500000001), "1.500000001s");
    assert_format(SIM_S(90), "90s");
    assert_format(SIM_S(150), "2.5m");
    assert_format(SIM_S(120), "2m");
    assert_format(SIM_S(5400), "90m");
    assert_format(SIM_S(7200), "2h");
    assert_format(SIM_S(5400) + SIM_MS(1), "5400.001s");
    assert_format(-SIM_US(5), "-5us");
    assert_format(INT64_MAX, "9223372036.854775807s");
    assert_format(INT64_MIN, "-9223372036.854775808s");
    dist_format_duration(SIM_MS(120), small, sizeof small);
    ck_assert_str_eq(small, "120");
}
END_TEST

/* Run an init that must fail; check the path and the exact message, and that fini is safe. */
#define ASSERT_FAILS(call, message)                                                                \
    do {                                                                                           \
        struct dist d_;                                                                            \
        struct err e_;                                                                             \
        err_clear(&e_);                                                                            \
        ck_assert_int_eq((call), -1);                                                              \
        ck_assert_str_eq(e_.path, PATH);                                                           \
        ck_assert_str_eq(e_.msg, (message));                                                       \
        dist_fini(&d_);                                                                            \
    } while (0)

START_TEST(invalid_parameters_are_named_exactly)
{
    ASSERT_FAILS(dist_init_exponential(&d_, 0, PATH, &e_),
                 "mean must be greater than 0, got \"0s\"");
    ASSERT_FAILS(dist_init_exponential(&d_, -SIM_MS(5), PATH, &e_),
                 "mean must be greater than 0, got \"-5ms\"");
    ASSERT_FAILS(dist_init_uniform(&d_, -SIM_MS(1), SIM_MS(3), PATH, &e_),
                 "min must not be negative, got \"-1ms\"");
    ASSERT_FAILS(dist_init_uniform(&d_, SIM_MS(2), SIM_US(1500), PATH, &e_),
                 "max (\"1.5ms\") must not be less than min (\"2ms\")");
    ASSERT_FAILS(dist_init_lognormal_median_p99(&d_, SIM_MS(15), SIM_MS(10), PATH, &e_),
                 "p99 (\"10ms\") must be greater than median (\"15ms\")");
    ASSERT_FAILS(dist_init_lognormal_median_p99(&d_, SIM_MS(15), SIM_MS(15), PATH, &e_),
                 "p99 (\"15ms\") must be greater than median (\"15ms\")");
    ASSERT_FAILS(dist_init_lognormal_median_p99(&d_, 0, SIM_MS(15), PATH, &e_),
                 "median must be greater than 0, got \"0s\"");
    ASSERT_FAILS(dist_init_lognormal_mean_cv(&d_, 0, 1, PATH, &e_),
                 "mean must be greater than 0, got \"0s\"");
    ASSERT_FAILS(dist_init_lognormal_mean_cv(&d_, SIM_MS(10), 0, PATH, &e_),
                 "cv must be greater than 0, got 0");
    ASSERT_FAILS(dist_init_lognormal_mean_cv(&d_, SIM_MS(10), -0.5, PATH, &e_),
                 "cv must be greater than 0, got -0.5");
    ASSERT_FAILS(dist_init_lognormal_mean_cv(&d_, SIM_MS(10), HUGE_VAL, PATH, &e_),
                 "cv must be finite, got inf");
    ASSERT_FAILS(dist_init_gamma(&d_, -SIM_S(1), 0.5, PATH, &e_),
                 "mean must be greater than 0, got \"-1s\"");
    ASSERT_FAILS(dist_init_gamma(&d_, SIM_MS(10), 0, PATH, &e_),
                 "cv must be greater than 0, got 0");
}
END_TEST

#define NPTS(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(invalid_quantile_tables_are_named_exactly)
{
    const struct dist_point one[] = {{0, SIM_MS(1)}};
    const struct dist_point late[] = {{0.1, SIM_MS(1)}, {1, SIM_MS(2)}};
    const struct dist_point short_[] = {{0, SIM_MS(1)}, {0.99, SIM_MS(2)}};
    const struct dist_point flat_q[] = {{0, SIM_MS(1)}, {0.5, SIM_MS(2)}, {0.5, SIM_MS(3)}, {1, 0}};
    const struct dist_point down[] = {{0, SIM_MS(1)}, {0.5, SIM_MS(10)}, {0.9, SIM_MS(5)}, {1, 0}};
    const struct dist_point neg[] = {{0, -SIM_MS(1)}, {1, SIM_MS(2)}};

    ASSERT_FAILS(dist_init_empirical(&d_, one, 1, PATH, &e_),
                 "quantiles need at least 2 points, got 1");
    ASSERT_FAILS(dist_init_empirical(&d_, late, NPTS(late), PATH, &e_),
                 "quantiles must start at 0, got 0.1");
    ASSERT_FAILS(dist_init_empirical(&d_, short_, NPTS(short_), PATH, &e_),
                 "quantiles must end at 1, got 0.99");
    ASSERT_FAILS(dist_init_empirical(&d_, flat_q, NPTS(flat_q), PATH, &e_),
                 "quantile 0.5 at index 2 must be greater than the previous one (0.5)");
    ASSERT_FAILS(dist_init_empirical(&d_, down, NPTS(down), PATH, &e_),
                 "duration at quantile 0.9 (\"5ms\") must not be less than the previous one "
                 "(\"10ms\")");
    ASSERT_FAILS(dist_init_empirical(&d_, neg, NPTS(neg), PATH, &e_),
                 "duration at quantile 0 must not be negative, got \"-1ms\"");
}
END_TEST

/* ---- mechanism: parameters and exact samples ---- */

START_TEST(const_is_exact)
{
    struct dist d;
    gsl_rng *r = rng_new(1, 1, "const", 0);

    dist_init_const(&d, SIM_MS(5));
    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(dist_sample(&d, r), SIM_MS(5));
    }
    ck_assert_double_eq(dist_mean_ns(&d), 5e6);
    ck_assert(dist_is_const(&d));
    dist_fini(&d);
    rng_free(r);
}
END_TEST

/* Catches a wrong formula for mu, sigma, shape or scale (relative 1e-12: rounding only). */
START_TEST(parameters_match_their_definitions)
{
    struct dist d;
    struct err e;

    ck_assert_int_eq(dist_init_lognormal_median_p99(&d, SIM_MS(15), SIM_MS(120), PATH, &e), 0);
    ck_assert_double_eq_tol(exp(d.mu), 15e6, 15e6 * 1e-12);
    ck_assert_double_eq_tol(exp(d.mu + d.sigma * Z99), 120e6, 120e6 * 1e-12);
    ck_assert(!dist_is_const(&d));
    ck_assert_int_eq(dist_init_lognormal_mean_cv(&d, SIM_MS(10), 0.5, PATH, &e), 0);
    ck_assert_double_eq_tol(exp(d.mu + d.sigma * d.sigma / 2), 10e6, 10e6 * 1e-12);
    ck_assert_double_eq_tol(sqrt(expm1(d.sigma * d.sigma)), 0.5, 1e-12);
    ck_assert_double_eq_tol(dist_mean_ns(&d), 10e6, 10e6 * 1e-12);
    ck_assert_int_eq(dist_init_gamma(&d, SIM_MS(10), 0.5, PATH, &e), 0);
    ck_assert_double_eq_tol(d.shape * d.scale, 10e6, 10e6 * 1e-12);
    ck_assert_double_eq_tol(1 / sqrt(d.shape), 0.5, 1e-12);
    ck_assert_double_eq(dist_mean_ns(&d), 10e6);
}
END_TEST

/* Hand-computed samples: catches a wrong inversion, interpolation or rounding. */
START_TEST(samples_at_known_uniforms_are_exact)
{
    const struct dist_point pts[] = {
        {0, SIM_MS(2)}, {0.5, SIM_MS(10)}, {0.99, SIM_MS(80)}, {1, SIM_MS(400)}};
    struct dist d;
    struct err e;

    ck_assert_int_eq(dist_init_exponential(&d, SIM_MS(10), PATH, &e), 0);
    ck_assert_int_eq(sample_at(&d, 0.5), 6931472); /* 10 ms * ln 2 = 6931471.8056 ns */
    ck_assert_int_eq(sample_at(&d, 0), 0);
    ck_assert_int_eq(dist_init_uniform(&d, SIM_MS(5), SIM_MS(15), PATH, &e), 0);
    ck_assert_int_eq(sample_at(&d, 0.25), SIM_US(7500));
    ck_assert_int_eq(dist_init_uniform(&d, 0, 3, PATH, &e), 0);
    ck_assert_int_eq(sample_at(&d, 0.4), 1); /* 1.2 ns */
    ck_assert_int_eq(sample_at(&d, 0.6), 2); /* 1.8 ns: rounded, not truncated */
    ck_assert_int_eq(dist_init_empirical(&d, pts, NPTS(pts), PATH, &e), 0);
    ck_assert_int_eq(sample_at(&d, 0), SIM_MS(2));
    ck_assert_int_eq(sample_at(&d, 0.25), SIM_MS(6));
    ck_assert_int_eq(sample_at(&d, 0.5), SIM_MS(10));
    ck_assert_int_eq(sample_at(&d, 0.745), SIM_MS(45));
    ck_assert_int_eq(sample_at(&d, 0.99), SIM_MS(80));
    ck_assert_int_eq(sample_at(&d, 0.995), SIM_MS(240));
    ck_assert_double_eq_tol(dist_mean_ns(&d), 27.45e6, 1e-3); /* trapezoids, by hand */
    ck_assert(!dist_is_const(&d));
    dist_fini(&d);
}
END_TEST

START_TEST(degenerate_tables_and_ranges_are_const)
{
    const struct dist_point same[] = {{0, SIM_MS(3)}, {0.4, SIM_MS(3)}, {1, SIM_MS(3)}};
    const struct dist_point step[] = {{0, SIM_MS(5)}, {0.5, SIM_MS(5)}, {1, SIM_MS(10)}};
    struct dist d;
    struct err e;

    ck_assert_int_eq(dist_init_uniform(&d, SIM_MS(4), SIM_MS(4), PATH, &e), 0);
    ck_assert(dist_is_const(&d));
    ck_assert_int_eq(sample_at(&d, 0.7), SIM_MS(4));
    ck_assert_int_eq(dist_init_empirical(&d, same, NPTS(same), PATH, &e), 0);
    ck_assert(dist_is_const(&d));
    ck_assert_int_eq(sample_at(&d, 0.7), SIM_MS(3));
    dist_fini(&d);
    ck_assert_int_eq(dist_init_empirical(&d, step, NPTS(step), PATH, &e), 0);
    ck_assert(!dist_is_const(&d));
    ck_assert_int_eq(sample_at(&d, 0.3), SIM_MS(5));
    ck_assert_int_eq(sample_at(&d, 0.75), SIM_US(7500));
    dist_fini(&d);
    ck_assert_int_eq(dist_init_exponential(&d, 1, PATH, &e), 0);
    ck_assert(!dist_is_const(&d));
}
END_TEST

/* The copy owns its table: the original freed (twice), the copy still samples the same. */
START_TEST(empirical_copy_is_deep_and_fini_is_idempotent)
{
    const struct dist_point pts[] = {{0, SIM_MS(1)}, {0.5, SIM_MS(4)}, {1, SIM_MS(9)}};
    struct dist a, b, ref;
    struct err e;
    gsl_rng *r1 = rng_new(3, 1, "copy", 0), *r2 = rng_new(3, 1, "copy", 0);

    ck_assert_int_eq(dist_init_empirical(&a, pts, NPTS(pts), PATH, &e), 0);
    ck_assert_int_eq(dist_init_empirical(&ref, pts, NPTS(pts), PATH, &e), 0);
    dist_copy(&b, &a);
    ck_assert_ptr_ne(b.pts, a.pts);
    ck_assert_uint_eq(b.npts, 3);
    dist_fini(&a);
    dist_fini(&a);
    ck_assert_ptr_null(a.pts);
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(dist_sample(&b, r1), dist_sample(&ref, r2));
    }
    dist_fini(&b);
    dist_fini(&ref);
    rng_free(r1);
    rng_free(r2);
}
END_TEST

/* ---- mechanism: CSV files ---- */

/* Write text to a new temporary file; its name goes to name. */
static void write_temp(const char *text, char *name, size_t size)
{
    int fd;
    FILE *f;

    snprintf(name, size, "%s", "/tmp/poolsim-check-dist-XXXXXX");
    fd = mkstemp(name);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(empirical_file_reads_units_header_and_blank_lines)
{
    const sim_time want[] = {1500,       2000,     SIM_US(1500), SIM_MS(10),
                             SIM_MS(15), SIM_S(2), SIM_S(60),    SIM_S(3600)};
    const double q[] = {0, 0.1, 0.2, 0.3, 0.5, 0.6, 0.8, 1};
    char name[64];
    struct dist d;
    struct err e;

    write_temp("q,duration\n0,1500ns\n\n0.1, 2us\r\n 0.2 ,1.5ms\n0.3,10\n0.5,1.5e1\n"
               "0.6,2s\n0.8,1m\n1,1h\n",
               name, sizeof name);
    err_clear(&e);
    ck_assert_int_eq(dist_init_empirical_file(&d, name, PATH, &e), 0);
    ck_assert_uint_eq(d.npts, NPTS(want));
    for (size_t i = 0; i < NPTS(want); i++) {
        ck_assert_double_eq(d.pts[i].q, q[i]);
        ck_assert_int_eq(d.pts[i].at, want[i]);
    }
    dist_fini(&d);
    unlink(name);
}
END_TEST

/* A file of text must fail with the message "FILE" + after (FILE: the temporary file's name). */
static void assert_file_fails(const char *text, const char *after)
{
    char name[64], want[ERR_MSG_MAX];
    struct dist d;
    struct err e;

    write_temp(text, name, sizeof name);
    snprintf(want, sizeof want, "%s%s", name, after);
    err_clear(&e);
    ck_assert_int_eq(dist_init_empirical_file(&d, name, PATH, &e), -1);
    ck_assert_str_eq(e.path, PATH);
    ck_assert_str_eq(e.msg, want);
    dist_fini(&d);
    unlink(name);
}

START_TEST(empirical_file_errors_name_file_and_line)
{
    char want[ERR_MSG_MAX];
    struct dist d;
    struct err e;

    assert_file_fails("q,ms\n0,1\n0.5,10 parsecs\n1,20\n",
                      ":3: invalid duration \"10 parsecs\" (expected milliseconds, or a number "
                      "with a unit: ns, us, ms, s, m, h)");
    assert_file_fails("0,1\nhalf,10\n1,20\n", ":2: invalid quantile \"half\"");
    assert_file_fails("0,1\n0.5;10\n", ":2: expected \"q,duration\", got \"0.5;10\"");
    assert_file_fails("0,1\n0.5,10,3\n", ":2: expected \"q,duration\", got \"0.5,10,3\"");
    assert_file_fails("0,1\n0x1,10\n1,20\n", ":2: invalid quantile \"0x1\"");
    assert_file_fails("0,1\n0.5,inf\n1,20\n",
                      ":2: invalid duration \"inf\" (expected milliseconds, or a number with a "
                      "unit: ns, us, ms, s, m, h)");
    assert_file_fails("0,1\n0.5,1e7h\n1,20\n",
                      ":2: invalid duration \"1e7h\" (expected milliseconds, or a number with a "
                      "unit: ns, us, ms, s, m, h)");
    assert_file_fails("q,duration\n0,1ms\n\n0.5,3ms\n0.4,4ms\n1,5ms\n",
                      ":5: quantile 0.4 at index 2 must be greater than the previous one (0.5)");
    assert_file_fails("0,1ms\n0.5,3ms\n", ":2: quantiles must end at 1, got 0.5");
    assert_file_fails("q,duration\n", ": quantiles need at least 2 points, got 0");
    err_clear(&e);
    ck_assert_int_eq(dist_init_empirical_file(&d, "/nonexistent/poolsim.csv", PATH, &e), -1);
    snprintf(want, sizeof want, "cannot open \"/nonexistent/poolsim.csv\": %s", strerror(ENOENT));
    ck_assert_str_eq(e.msg, want);
    ck_assert_str_eq(e.path, PATH);
}
END_TEST

/* ---- statistical ---- */

static sim_time *draw_n(const struct dist *d, const char *stream, size_t n)
{
    sim_time *x = malloc(n * sizeof *x);
    gsl_rng *r = rng_new(1, 1, stream, 0);
    size_t negative = 0; /* counted, not asserted in the loop: each Check assertion costs a write */

    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n; i++) {
        x[i] = dist_sample(d, r);
        negative += x[i] < 0;
    }
    ck_assert_uint_eq(negative, 0);
    rng_free(r);
    return x;
}

static int cmp_time(const void *a, const void *b)
{
    sim_time x = *(const sim_time *)a, y = *(const sim_time *)b;

    return (x > y) - (x < y);
}

/* The sample mean is within 3.3 SE (sd / sqrt(n)) of mean; catches a relative bias of catch_rel. */
static void check_mean(const sim_time *x, size_t n, double mean, double sd, double catch_rel)
{
    double sum = 0, tol = TESTS_Z * sd / sqrt((double)n);

    ck_assert_msg(tol <= catch_rel * mean / 2, "n too small: tolerance %g vs error %g", tol,
                  catch_rel * mean);
    for (size_t i = 0; i < n; i++) {
        sum += (double)x[i];
    }
    ck_assert_msg(fabs(sum / (double)n - mean) <= tol, "mean %.1f, expected %.1f +- %.1f",
                  sum / (double)n, mean, tol);
}

/*
 * The sample variance is within 3.3 SE of var, SE = var * sqrt((2 + kurt) / n)
 * with kurt the excess kurtosis; catches a relative error catch_rel in var.
 */
static void check_var(const sim_time *x, size_t n, double var, double kurt, double catch_rel)
{
    double sum = 0, ss = 0, mean, tol = TESTS_Z * var * sqrt((2 + kurt) / (double)n);

    ck_assert_msg(tol <= catch_rel * var / 2, "n too small: tolerance %g vs error %g", tol,
                  catch_rel * var);
    for (size_t i = 0; i < n; i++) {
        sum += (double)x[i];
    }
    mean = sum / (double)n;
    for (size_t i = 0; i < n; i++) {
        ss += ((double)x[i] - mean) * ((double)x[i] - mean);
    }
    ck_assert_msg(fabs(ss / (double)(n - 1) - var) <= tol, "variance %g, expected %g +- %g",
                  ss / (double)(n - 1), var, tol);
}

/*
 * The q-quantile of sorted x is within 3.3 SE of x_q, SE = sqrt(q(1-q)/n) / f(x_q)
 * with f the density; catches a relative error catch_rel in x_q.
 */
static void check_quantile(const sim_time *sorted, size_t n, double q, double x_q, double f,
                           double catch_rel)
{
    double tol = TESTS_Z * sqrt(q * (1 - q) / (double)n) / f;
    double got = (double)sorted[(size_t)(q * (double)n)];

    ck_assert_msg(tol <= catch_rel * x_q / 2, "n too small: tolerance %g vs error %g", tol,
                  catch_rel * x_q);
    ck_assert_msg(fabs(got - x_q) <= tol, "quantile %g: %.1f, expected %.1f +- %.1f", q, got, x_q,
                  tol);
}

/*
 * The share of sorted x at or below at is within 3.3 SE of q, SE = sqrt(q(1-q)/n);
 * catches an error catch_abs in the CDF.
 */
static void check_cdf(const sim_time *sorted, size_t n, sim_time at, double q, double catch_abs)
{
    double tol = TESTS_Z * sqrt(q * (1 - q) / (double)n);
    size_t lo = 0, hi = n; /* first index with sorted[i] > at */

    ck_assert_msg(tol <= catch_abs / 2, "n too small: tolerance %g vs error %g", tol, catch_abs);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (sorted[mid] <= at) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    ck_assert_msg(fabs((double)lo / (double)n - q) <= tol, "CDF at %lld: %g, expected %g +- %g",
                  (long long)at, (double)lo / (double)n, q, tol);
}

/* Mean 10 ms: catches a 1% bias in the mean (tol 0.33%) and a 2% error in the variance (0.93%). */
START_TEST(exponential_mean_and_variance)
{
    struct dist d;
    struct err e;
    sim_time *x;

    ck_assert_int_eq(dist_init_exponential(&d, SIM_MS(10), PATH, &e), 0);
    x = draw_n(&d, "exponential", N_STAT);
    check_mean(x, N_STAT, 10e6, 10e6, 0.01);
    check_var(x, N_STAT, 1e14, 6, 0.02);
    free(x);
}
END_TEST

/* 5..15 ms: catches a 1% bias in the mean (tol 0.1%) and a 1% error in the variance (0.3%). */
START_TEST(uniform_mean_variance_and_range)
{
    struct dist d;
    struct err e;
    sim_time *x;
    double var = 1e14 / 12;

    ck_assert_int_eq(dist_init_uniform(&d, SIM_MS(5), SIM_MS(15), PATH, &e), 0);
    x = draw_n(&d, "uniform", N_STAT);
    check_mean(x, N_STAT, 10e6, sqrt(var), 0.01);
    check_var(x, N_STAT, var, -1.2, 0.01);
    qsort(x, N_STAT, sizeof *x, cmp_time);
    ck_assert_int_ge(x[0], SIM_MS(5));
    ck_assert_int_le(x[N_STAT - 1], SIM_MS(15));
    free(x);
}
END_TEST

/*
 * Median 15 ms, p99 120 ms (sigma = ln 8 / z99 = 0.894, cv = 1.11): catches a
 * 1% bias in the mean (tol 0.37%), a 1% error in the median (tol 0.37%) and
 * a 3% error in the p99 (tol 1.1%; a z of 0.995 instead of 0.99 is 18%).
 */
START_TEST(lognormal_median_p99)
{
    struct dist d;
    struct err e;
    sim_time *x;
    double sigma = log(8) / Z99, s2 = sigma * sigma;
    double mean = 15e6 * exp(s2 / 2), sd = mean * sqrt(expm1(s2));
    double phi0 = 1 / SQRT_2PI, phi99 = exp(-Z99 * Z99 / 2) / SQRT_2PI;

    ck_assert_int_eq(dist_init_lognormal_median_p99(&d, SIM_MS(15), SIM_MS(120), PATH, &e), 0);
    x = draw_n(&d, "lognormal", N_STAT);
    check_mean(x, N_STAT, mean, sd, 0.01);
    qsort(x, N_STAT, sizeof *x, cmp_time);
    check_quantile(x, N_STAT, 0.5, 15e6, phi0 / (15e6 * sigma), 0.01);
    check_quantile(x, N_STAT, 0.99, 120e6, phi99 / (120e6 * sigma), 0.03);
    free(x);
}
END_TEST

/*
 * Mean 10 ms, cv 1 (sigma^2 = ln 2, median = mean / sqrt 2): catches a 1%
 * bias in the mean (tol 0.33%) and a 1% error in the median (tol 0.34%).
 */
START_TEST(lognormal_mean_cv)
{
    struct dist d;
    struct err e;
    sim_time *x;
    double sigma = sqrt(log(2)), median = 10e6 / sqrt(2);

    ck_assert_int_eq(dist_init_lognormal_mean_cv(&d, SIM_MS(10), 1, PATH, &e), 0);
    x = draw_n(&d, "lognormal-cv", N_STAT);
    check_mean(x, N_STAT, 10e6, 10e6, 0.01);
    qsort(x, N_STAT, sizeof *x, cmp_time);
    check_quantile(x, N_STAT, 0.5, median, 1 / (SQRT_2PI * median * sigma), 0.01);
    free(x);
}
END_TEST

/*
 * Mean 10 ms at cv 0.5 (shape 4) and cv 1.5 (shape 0.44 < 1: GSL's other
 * branch).  Catches a 1% bias in the mean (tol 0.17%, 0.5%) and a 4% error
 * in the variance, i.e. 2% in the cv (tol 0.62%, 1.3%; excess kurtosis 6/shape).
 */
START_TEST(gamma_mean_and_variance)
{
    const double cvs[] = {0.5, 1.5};

    for (size_t i = 0; i < 2; i++) {
        struct dist d;
        struct err e;
        sim_time *x;
        double sd = 10e6 * cvs[i], shape = 1 / (cvs[i] * cvs[i]);

        ck_assert_int_eq(dist_init_gamma(&d, SIM_MS(10), cvs[i], PATH, &e), 0);
        x = draw_n(&d, i == 0 ? "gamma" : "gamma-1.5", N_STAT);
        check_mean(x, N_STAT, 10e6, sd, 0.01);
        check_var(x, N_STAT, sd * sd, 6 / shape, 0.04);
        free(x);
    }
}
END_TEST

/*
 * The table's own points: catches an error of 0.005 in the CDF at any point
 * (an interpolation off by a segment is far more), tol at most 0.0017; and a
 * 1% bias in the mean (tol 0.41%, sd 33.6 ms from the segments' moments).
 */
START_TEST(empirical_reproduces_its_quantiles)
{
    const struct dist_point pts[] = {
        {0, SIM_MS(2)}, {0.3, SIM_MS(6)}, {0.5, SIM_MS(10)}, {0.99, SIM_MS(80)}, {1, SIM_MS(400)}};
    struct dist d;
    struct err e;
    sim_time *x;
    double m1 = 0, m2 = 0;

    for (size_t i = 1; i < NPTS(pts); i++) {
        double w = pts[i].q - pts[i - 1].q, a = (double)pts[i - 1].at, b = (double)pts[i].at;

        m1 += w * (a + b) / 2;
        m2 += w * (a * a + a * b + b * b) / 3;
    }
    ck_assert_int_eq(dist_init_empirical(&d, pts, NPTS(pts), PATH, &e), 0);
    x = draw_n(&d, "empirical", N_STAT);
    check_mean(x, N_STAT, m1, sqrt(m2 - m1 * m1), 0.01);
    qsort(x, N_STAT, sizeof *x, cmp_time);
    for (size_t i = 1; i + 1 < NPTS(pts); i++) {
        check_cdf(x, N_STAT, pts[i].at, pts[i].q, 0.005);
    }
    free(x);
    dist_fini(&d);
}
END_TEST

Suite *dist_suite(void)
{
    Suite *s = suite_create("dist");
    TCase *mech = tests_tcase(s, "dist", 10, "");
    TCase *stat = tests_tcase(s, "dist_stat", 60, "stat");

    tcase_add_test(mech, format_duration_is_shortest_exact);
    tcase_add_test(mech, invalid_parameters_are_named_exactly);
    tcase_add_test(mech, invalid_quantile_tables_are_named_exactly);
    tcase_add_test(mech, const_is_exact);
    tcase_add_test(mech, parameters_match_their_definitions);
    tcase_add_test(mech, samples_at_known_uniforms_are_exact);
    tcase_add_test(mech, degenerate_tables_and_ranges_are_const);
    tcase_add_test(mech, empirical_copy_is_deep_and_fini_is_idempotent);
    tcase_add_test(mech, empirical_file_reads_units_header_and_blank_lines);
    tcase_add_test(mech, empirical_file_errors_name_file_and_line);
    tcase_add_test(stat, exponential_mean_and_variance);
    tcase_add_test(stat, uniform_mean_variance_and_range);
    tcase_add_test(stat, lognormal_median_p99);
    tcase_add_test(stat, lognormal_mean_cv);
    tcase_add_test(stat, gamma_mean_and_variance);
    tcase_add_test(stat, empirical_reproduces_its_quantiles);
    return s;
}

/*
 * check_validate.c - queueing theory through the real models (DESIGN.md §7,
 * rung 2).  experiments/validate-erlang-c.json is M/M/c: Poisson arrivals at
 * 180/s, exponential 100 ms statements, PgBouncer in transaction mode with c
 * servers, no network time, a client pool that never waits.  The pooler's
 * P(wait) and mean wait must match Erlang C, and the smallest pool with
 * P(wait) < 0.2 must be 23; Little's law must hold within 1% on every
 * replication.
 *
 * The statistical rule: replications are independent, so the standard error
 * of a metric is its sample standard deviation over replications / sqrt(R);
 * the tolerance is 3.3 standard errors, and each test also asserts that this
 * tolerance is at most half the error it must catch (3% of P(wait), 5% of
 * Wq), i.e. that R and the run length give it the power it claims.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/config.h"
#include "models/scenario.h"
#include "sim/json.h"
#include "sim/stats.h"
#include "sim/sweep.h"
#include "sim/xalloc.h"
#include "tests/tests.h"

#define FILE_MMC "experiments/validate-erlang-c.json"

/* Erlang C by the stable recursion on Erlang B: P(wait) and Wq (s). */
static double erlang_c(double lambda, double mu, int c, double *wq_s)
{
    double a = lambda / mu, b = 1.0, pw;

    for (int k = 1; k <= c; k++) {
        b = a * b / (k + a * b);
    }
    pw = b / (1.0 - (a / c) * (1.0 - b));
    *wq_s = pw / (c * mu - lambda);
    return pw;
}

struct sample {
    struct stat_acc pwait, wq_ms;
};

static size_t column(const char *name)
{
    size_t n;
    const struct runner_metric *m = metrics_columns(&n);

    for (size_t i = 0; i < n; i++) {
        if (strcmp(m[i].name, name) == 0) {
            return i;
        }
    }
    ck_abort_msg("no column %s", name);
    return 0;
}

/* Little's law on one replication: in_flight_mean = (requests / window) * latency_mean. */
static void check_little(const double *v, double window_s)
{
    double l = v[column("in_flight_mean")];
    double lw = v[column("requests")] / window_s * v[column("latency_mean_ms")] / 1e3;

    ck_assert_msg(fabs(l - lw) <= 0.01 * l, "Little: L = %g, lambda W = %g", l, lw);
}

/* Run every replication of point idx of the validation file; returns c. */
static int run_point(size_t idx, struct sample *s)
{
    struct cJSON *doc = NULL;
    struct sweep_plan plan;
    struct experiment x;
    struct err e;
    size_t nm;
    double *v = xcalloc(metrics_columns(&nm) ? nm : 1, sizeof *v);
    struct hist *h = xcalloc(SER__COUNT, sizeof *h);
    int c;

    err_clear(&e);
    ck_assert_msg(json_load_file(FILE_MMC, &doc, &e) == 0, "%s", e.msg);
    ck_assert_msg(sweep_expand(doc, NULL, 0, &plan, &e) == 0, "%s", e.msg);
    ck_assert_msg(experiment_load(&x, plan.points[idx].doc, "experiments", &e) == 0, "%s: %s",
                  e.path, e.msg);
    stat_acc_init(&s->pwait);
    stat_acc_init(&s->wq_ms);
    for (uint32_t rep = 1; rep <= x.replications; rep++) {
        for (int i = 0; i < SER__COUNT; i++) {
            hist_init(&h[i]);
        }
        scn_run(&x, rep, v, h);
        stat_acc_add(&s->pwait, v[column("pooler_wait_prob")]);
        stat_acc_add(&s->wq_ms, v[column("pooler_wait_mean_ms")]);
        check_little(v, sim_time_to_s(x.duration));
    }
    c = (int)x.pooler.pgb.default_pool_size;
    experiment_fini(&x);
    sweep_plan_fini(&plan);
    json_free(doc);
    free(v);
    free(h);
    return c;
}

static double se(const struct stat_acc *a)
{
    return sqrt(stat_acc_var(a) / (double)a->n);
}

START_TEST(mm20_matches_erlang_c)
{
    struct sample s;
    int c = run_point(0, &s);
    double wq_s, pw = erlang_c(180, 10, c, &wq_s), wq_ms = wq_s * 1e3;

    ck_assert_int_eq(c, 20);
    ck_assert_double_eq_tol(pw, 0.5508, 0.0001);
    ck_assert_double_eq_tol(wq_ms, 27.54, 0.01);
    /* power: 3.3 SE at most half of a 3% error in P(wait) and of a 5% error in Wq */
    ck_assert_msg(TESTS_Z * se(&s.pwait) <= 0.5 * 0.03 * pw, "P(wait) SE %g too large",
                  se(&s.pwait));
    ck_assert_msg(TESTS_Z * se(&s.wq_ms) <= 0.5 * 0.05 * wq_ms, "Wq SE %g ms too large",
                  se(&s.wq_ms));
    ck_assert_msg(fabs(s.pwait.mean - pw) <= TESTS_Z * se(&s.pwait), "P(wait) %g vs %g (SE %g)",
                  s.pwait.mean, pw, se(&s.pwait));
    ck_assert_msg(fabs(s.wq_ms.mean - wq_ms) <= TESTS_Z * se(&s.wq_ms), "Wq %g vs %g ms (SE %g)",
                  s.wq_ms.mean, wq_ms, se(&s.wq_ms));
}
END_TEST

/* Points 2 and 3 of the sweep are c = 22 and 23: P(wait) 0.2781 and 0.1907 around 0.2. */
START_TEST(smallest_pool_below_p_wait_0_2_is_23)
{
    struct sample s22, s23;
    double wq;

    ck_assert_int_eq(run_point(2, &s22), 22);
    ck_assert_int_eq(run_point(3, &s23), 23);
    ck_assert_double_eq_tol(erlang_c(180, 10, 22, &wq), 0.2781, 0.0001);
    ck_assert_double_eq_tol(erlang_c(180, 10, 23, &wq), 0.1907, 0.0001);
    /* each estimate is on its side of 0.2 by more than 3.3 standard errors */
    ck_assert_msg(s22.pwait.mean - TESTS_Z * se(&s22.pwait) > 0.2, "c=22: %g (SE %g)",
                  s22.pwait.mean, se(&s22.pwait));
    ck_assert_msg(s23.pwait.mean + TESTS_Z * se(&s23.pwait) < 0.2, "c=23: %g (SE %g)",
                  s23.pwait.mean, se(&s23.pwait));
}
END_TEST

/* Erlang B by its recursion: the blocking probability of M/M/c/c at offered load a. */
static double erlang_b(double a, int c)
{
    double b = 1.0;

    for (int k = 1; k <= c; k++) {
        b = a * b / (k + a * b);
    }
    return b;
}

/*
 * experiments/validate-erlang-b.json: every call opens its own session at
 * Supavisor (session_full "reject", pool_size 10): M/M/10/10 at a = 8, so
 * the share of calls refused with MaxClientsInSessionMode is Erlang B.
 * Sized to catch a 5% error in B: 3.3 SE at most half of it (asserted).
 */
START_TEST(session_reject_is_an_erlang_b_loss_system)
{
    struct cJSON *doc = NULL;
    struct sweep_plan plan;
    struct experiment x;
    struct stat_acc refused;
    struct err e;
    size_t nm;
    double *v = xcalloc(metrics_columns(&nm) ? nm : 1, sizeof *v);
    struct hist *h = xcalloc(SER__COUNT, sizeof *h);
    double b = erlang_b(8.0, 10);

    err_clear(&e);
    ck_assert_msg(json_load_file("experiments/validate-erlang-b.json", &doc, &e) == 0, "%s", e.msg);
    ck_assert_msg(sweep_expand(doc, NULL, 0, &plan, &e) == 0, "%s", e.msg);
    ck_assert_msg(experiment_load(&x, plan.points[0].doc, "experiments", &e) == 0, "%s: %s", e.path,
                  e.msg);
    stat_acc_init(&refused);
    for (uint32_t rep = 1; rep <= x.replications; rep++) {
        for (int i = 0; i < SER__COUNT; i++) {
            hist_init(&h[i]);
        }
        scn_run(&x, rep, v, h);
        ck_assert_double_eq(v[column("errors")], v[column("errors_MaxClientsInSessionMode")]);
        stat_acc_add(&refused, v[column("errors_MaxClientsInSessionMode")] / v[column("requests")]);
    }
    ck_assert_double_eq_tol(b, 0.1217, 0.0001);
    ck_assert_msg(TESTS_Z * se(&refused) <= 0.5 * 0.05 * b, "SE %g too large", se(&refused));
    ck_assert_msg(fabs(refused.mean - b) <= TESTS_Z * se(&refused),
                  "refused %g vs Erlang B %g (SE %g)", refused.mean, b, se(&refused));
    experiment_fini(&x);
    sweep_plan_fini(&plan);
    json_free(doc);
    free(v);
    free(h);
}
END_TEST

Suite *validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tests_tcase(s, "erlang-c", 300, "stat");

    tcase_add_test(tc, mm20_matches_erlang_c);
    tcase_add_test(tc, smallest_pool_below_p_wait_0_2_is_23);
    tcase_add_test(tc, session_reject_is_an_erlang_b_loss_system);
    return s;
}

/*
 * check_scenario.c - every model's invariant checker after every event
 * (DESIGN.md §3 "State machines are explicit"), on busy mixed runs: the
 * points of tests/data/determinism.json (PgBouncer and direct with open
 * arrivals, Supavisor with closed users; processor sharing, timeouts that
 * fire, retries of nothing, errors of several kinds).  A broken invariant
 * aborts the run, which fails the test.
 */
#include <stdlib.h>

#include "models/config.h"
#include "models/scenario.h"
#include "sim/json.h"
#include "sim/sweep.h"
#include "sim/xalloc.h"
#include "tests/tests.h"

static uint64_t run_point_paranoid(const struct sweep_plan *plan, size_t i)
{
    struct experiment x;
    struct scenario s;
    struct hist *h = xcalloc(SER__COUNT, sizeof *h);
    struct err e;
    uint64_t fired;

    err_clear(&e);
    ck_assert_msg(experiment_load(&x, plan->points[i].doc, "tests/data", &e) == 0, "%s: %s", e.path,
                  e.msg);
    for (int k = 0; k < SER__COUNT; k++) {
        hist_init(&h[k]);
    }
    scn_init(&s, &x, 1, h, true);
    scn_paranoid(&s);
    sim_run_until(s.sim, SIM_S(20));
    ck_assert(scn_check(&s));
    fired = sim_events_fired(s.sim);
    ck_assert_uint_gt(s.m.errors, 0); /* busy enough that failures happened */
    scn_fini(&s);
    experiment_fini(&x);
    free(h);
    return fired;
}

START_TEST(every_checker_holds_after_every_event)
{
    struct cJSON *doc = NULL;
    struct sweep_plan plan;
    struct err e;

    err_clear(&e);
    ck_assert_msg(json_load_file("tests/data/determinism.json", &doc, &e) == 0, "%s", e.msg);
    ck_assert_msg(sweep_expand(doc, NULL, 0, &plan, &e) == 0, "%s", e.msg);
    for (size_t i = 0; i < plan.npoints; i++) {
        ck_assert_uint_gt(run_point_paranoid(&plan, i), 1000);
    }
    sweep_plan_fini(&plan);
    json_free(doc);
}
END_TEST

/* One shortened incident point (before, 20 users, 60 s) with every checker after every event. */
START_TEST(incident_point_holds_every_invariant)
{
    struct cJSON *doc = NULL;
    struct sweep_plan plan;
    struct sweep_set sets[] = {{"duration", "\"60s\""}, {"warmup", "\"0s\""}};
    struct err e;

    err_clear(&e);
    ck_assert_msg(json_load_file("experiments/incident.json", &doc, &e) == 0, "%s", e.msg);
    ck_assert_msg(sweep_expand(doc, sets, 2, &plan, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(plan.points[4].label, "variant \"before: session 5432\", workload.users=20");
    ck_assert_uint_gt(run_point_paranoid(&plan, 4), 1000);
    sweep_plan_fini(&plan);
    json_free(doc);
}
END_TEST

Suite *scenario_suite(void)
{
    Suite *s = suite_create("scenario");
    TCase *tc = tests_tcase(s, "paranoid", 120, "");

    tcase_add_test(tc, every_checker_holds_after_every_event);
    tcase_add_test(tc, incident_point_holds_every_invariant);
    return s;
}

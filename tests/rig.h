/*
 * rig.h - a replication built by hand for exact tests: an experiment parsed
 * from JSON text, the scenario wired without its workload, and pages loaded
 * at chosen times (tests/check_models.c, check_supavisor.c, ...).
 */
#ifndef POOLSIM_TESTS_RIG_H
#define POOLSIM_TESTS_RIG_H

#include "models/config.h"
#include "models/scenario.h"

struct rig {
    struct experiment x;
    struct hist *h; /* SER__COUNT histograms (owned) */
    struct scenario s;
};

/* Parse json, load it and build the scenario (no workload); fails the test on error. */
void rig_up(struct rig *r, const char *json);
void rig_down(struct rig *r);

/* Load, now, the page made of the endpoints named by letters: "ab" = endpoints 0 and 1. */
void rig_load(struct rig *r, const char *names);

/* Run the engine up to t (ns). */
void rig_run_to(struct rig *r, sim_time t);

/* The one latency recorded in series ser (asserts exactly one, so min = max). */
sim_time rig_only_latency(const struct rig *r, int ser);

/* Remove path and everything under it (a test's temporary directory). */
void rig_remove_tree(const char *path);

#endif

/*
 * workload.h - where pages come from (DESIGN.md §3 "Workload", §4
 * workload.*): the open model, Poisson page arrivals at `rate` per second.
 * Inter-arrival times come from the stream "workload.arrivals"; with several
 * pages, the page of each arrival is drawn by weight from "workload.page".
 * Neither depends on pools or modes (common random numbers).
 */
#ifndef POOLSIM_MODELS_WORKLOAD_H
#define POOLSIM_MODELS_WORKLOAD_H

#include <gsl/gsl_rng.h>

#include "models/app.h"
#include "models/config.h"

struct workload {
    const struct workload_config *cfg; /* borrowed */
    struct app *app;                   /* borrowed */
    struct sim *sim;                   /* borrowed */
    gsl_rng *rng_arrivals;             /* owned */
    gsl_rng *rng_page;                 /* owned */
    struct sim_event arrival;          /* the next page arrival */
    uint64_t arrivals;                 /* pages loaded so far */
};

/* Start arrivals at time 0 (the first one after one inter-arrival time). */
void wl_init(struct workload *w, struct sim *sim, const struct workload_config *cfg,
             struct app *app, uint64_t seed, uint32_t rep);
void wl_fini(struct workload *w);

#endif

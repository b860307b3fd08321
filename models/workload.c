/*
 * workload.c - the open workload: Poisson page arrivals (see workload.h).
 */
#include "models/workload.h"

#include <gsl/gsl_randist.h>

#include "sim/rng.h"

static const struct page_config *pick_page(struct workload *w)
{
    const struct workload_config *cfg = w->cfg;
    double u;

    if (cfg->npages == 1) {
        return &cfg->pages[0];
    }
    u = gsl_rng_uniform(w->rng_page) * cfg->total_weight;
    for (size_t i = 0; i + 1 < cfg->npages; i++) {
        if (u < cfg->pages[i].weight) {
            return &cfg->pages[i];
        }
        u -= cfg->pages[i].weight;
    }
    return &cfg->pages[cfg->npages - 1];
}

static void schedule_next(struct workload *w)
{
    double gap_s = rng_exponential(w->rng_arrivals, 1.0 / w->cfg->rate_per_s);

    sim_schedule_in(w->sim, &w->arrival, sim_time_from_s(gap_s));
}

static void on_arrival(struct sim *sim, struct sim_event *ev)
{
    struct workload *w = ev->ctx;

    (void)sim;
    schedule_next(w);
    app_load_page(w->app, pick_page(w), w->arrivals++, NULL, NULL);
}

void wl_init(struct workload *w, struct sim *sim, const struct workload_config *cfg,
             struct app *app, uint64_t seed, uint32_t rep)
{
    w->cfg = cfg;
    w->app = app;
    w->sim = sim;
    w->rng_arrivals = rng_new(seed, rep, "workload.arrivals", 0);
    w->rng_page = rng_new(seed, rep, "workload.page", 0);
    w->arrivals = 0;
    sim_event_init(&w->arrival, on_arrival, w);
    schedule_next(w);
}

void wl_fini(struct workload *w)
{
    sim_cancel(w->sim, &w->arrival);
    rng_free(w->rng_arrivals);
    rng_free(w->rng_page);
}

/*
 * workload.c - closed users and open Poisson arrivals (see workload.h for
 * the streams, the exactness of rate steps and the user states).
 *
 * Invariants: every closed user is in exactly one of the lists thinking and
 * loading; a thinking user has its next load pending, a loading user has
 * none (its page is in flight at the app).  The open model always has its
 * next arrival pending, and its next rate step while steps remain.
 */
#include "models/workload.h"

#include <assert.h>
#include <stdlib.h>

#include "sim/rng.h"
#include "sim/xalloc.h"

/* The page of one load: drawn by weight from r, unless there is only one. */
static size_t pick_page(const struct workload_config *cfg, gsl_rng *r)
{
    double u;

    if (cfg->npages == 1) {
        return 0;
    }
    u = gsl_rng_uniform(r) * cfg->total_weight;
    for (size_t i = 0; i + 1 < cfg->npages; i++) {
        if (u < cfg->pages[i].weight) {
            return i;
        }
        u -= cfg->pages[i].weight;
    }
    return cfg->npages - 1;
}

/* Load one page for user now; done(ctx, ...) when it ends (may be NULL). */
static void load(struct workload *w, uint64_t user, gsl_rng *r, app_page_done_fn *done, void *ctx)
{
    size_t page = pick_page(w->cfg, r);

    w->loads++;
    if (w->observer) {
        w->observer(w->observer_ctx, user, page);
    }
    app_load_page(w->app, &w->cfg->pages[page], user, done, ctx);
}

/* Schedule ev delay_ns from now; a delay beyond the end of time means never. */
static void schedule_in(struct sim *sim, struct sim_event *ev, sim_time delay_ns)
{
    sim_time now = sim_now(sim);

    sim_schedule(sim, ev, delay_ns < SIM_TIME_MAX - now ? now + delay_ns : SIM_TIME_MAX);
}

/* ---- closed: users that load, wait for the whole page, think, repeat ---- */

static struct list *user_list(struct workload *w, enum wl_user_state s)
{
    switch (s) {
    case WL_USER_THINKING:
        return &w->thinking;
    case WL_USER_LOADING:
        return &w->loading;
    }
    return NULL;
}

static void user_set_state(struct wl_user *u, enum wl_user_state to)
{
    list_remove(user_list(u->w, u->state), &u->node);
    u->state = to;
    list_push_tail(user_list(u->w, to), &u->node);
}

/* Every call of the user's page has been answered: think, then load again. */
static void on_page_done(void *ctx, sim_time latency_ns, bool failed)
{
    struct wl_user *u = ctx;
    struct workload *w = u->w;

    (void)latency_ns;
    (void)failed;
    user_set_state(u, WL_USER_THINKING);
    schedule_in(w->sim, &u->next, dist_sample(&w->cfg->think_time, u->rng_think));
}

static void on_user_load(struct sim *sim, struct sim_event *ev)
{
    struct wl_user *u = ev->ctx;

    (void)sim;
    /* the state changes first: the page may end before app_load_page returns */
    user_set_state(u, WL_USER_LOADING);
    u->loads++;
    load(u->w, u->index, u->rng_page, on_page_done, u);
}

/*
 * User k's first load: 0, or uniform over [0, start_spread) from its own
 * stream (rounding to the nearest ns may reach start_spread itself: that one
 * value is moved 1 ns earlier).
 */
static sim_time start_time(const struct workload *w, uint64_t seed, uint32_t rep, uint64_t k)
{
    sim_time spread = w->cfg->start_spread, t;
    gsl_rng *r;

    if (spread == 0) {
        return 0;
    }
    r = rng_new(seed, rep, "workload.start", k);
    t = sim_time_from_s(gsl_rng_uniform(r) * sim_time_to_s(spread));
    rng_free(r);
    return t < spread ? t : spread - 1;
}

static void init_closed(struct workload *w, uint64_t seed, uint32_t rep)
{
    size_t n = (size_t)w->cfg->users;

    w->users = xcalloc(n, sizeof *w->users);
    for (size_t k = 0; k < n; k++) {
        struct wl_user *u = &w->users[k];

        u->w = w;
        u->index = k;
        u->state = WL_USER_THINKING;
        list_node_init(&u->node);
        list_push_tail(&w->thinking, &u->node);
        u->rng_think = rng_new(seed, rep, "workload.think_time", k);
        u->rng_page = w->cfg->npages > 1 ? rng_new(seed, rep, "workload.page", k) : NULL;
        sim_event_init(&u->next, on_user_load, u);
        sim_schedule(w->sim, &u->next, start_time(w, seed, rep, k));
    }
}

/* ---- open: Poisson arrivals, piecewise-constant rate ---- */

static void schedule_arrival(struct workload *w)
{
    double gap_s = rng_exponential(w->rng_arrivals, 1.0 / w->rate_per_s);

    schedule_in(w->sim, &w->arrival, sim_time_from_s(gap_s));
}

static void on_arrival(struct sim *sim, struct sim_event *ev)
{
    struct workload *w = ev->ctx;

    (void)sim;
    schedule_arrival(w);
    load(w, w->loads, w->rng_page, NULL, NULL);
}

/*
 * The rate changes now.  Steps are scheduled before any arrival at the same
 * instant (the next one when this one fires, before the redraw), so an
 * arrival at exactly a step's time comes from the new rate.
 */
static void on_step(struct sim *sim, struct sim_event *ev)
{
    struct workload *w = ev->ctx;
    const struct rate_step *st = &w->cfg->steps[w->next_step++];

    assert(sim_now(sim) == st->at);
    if (w->next_step < w->cfg->nsteps) {
        sim_schedule(sim, &w->step, w->cfg->steps[w->next_step].at);
    }
    w->rate_per_s = st->rate_per_s;
    /* memorylessness: cancelling the gap drawn at the old rate and drawing one from now at
     * the new rate is exact (workload.h) */
    schedule_arrival(w);
}

static void init_open(struct workload *w, uint64_t seed, uint32_t rep)
{
    w->rate_per_s = w->cfg->rate_per_s;
    w->rng_arrivals = rng_new(seed, rep, "workload.arrivals", 0);
    w->rng_page = w->cfg->npages > 1 ? rng_new(seed, rep, "workload.page", 0) : NULL;
    sim_event_init(&w->arrival, on_arrival, w);
    sim_event_init(&w->step, on_step, w);
    if (w->cfg->nsteps > 0) {
        sim_schedule(w->sim, &w->step, w->cfg->steps[0].at);
    }
    schedule_arrival(w);
}

void wl_init(struct workload *w, struct sim *sim, const struct workload_config *cfg,
             struct app *app, uint64_t seed, uint32_t rep)
{
    w->cfg = cfg;
    w->app = app;
    w->sim = sim;
    w->loads = 0;
    w->rate_per_s = 0;
    w->observer = NULL;
    w->observer_ctx = NULL;
    w->users = NULL;
    list_init(&w->thinking);
    list_init(&w->loading);
    w->rng_arrivals = w->rng_page = NULL;
    w->next_step = 0;
    switch (cfg->model) {
    case WL_CLOSED:
        init_closed(w, seed, rep);
        break;
    case WL_OPEN:
        init_open(w, seed, rep);
        break;
    }
}

/*
 * Pages still in flight keep a pointer to their user as the done callback's
 * context: the app must not call them after this (scn_fini frees the app's
 * pages whole, without ending them).
 */
void wl_fini(struct workload *w)
{
    switch (w->cfg->model) {
    case WL_CLOSED:
        for (size_t k = 0; k < (size_t)w->cfg->users; k++) {
            sim_cancel(w->sim, &w->users[k].next);
            rng_free(w->users[k].rng_think);
            rng_free(w->users[k].rng_page);
        }
        free(w->users);
        break;
    case WL_OPEN:
        sim_cancel(w->sim, &w->arrival);
        sim_cancel(w->sim, &w->step);
        rng_free(w->rng_arrivals);
        rng_free(w->rng_page);
        break;
    }
}

void wl_observe(struct workload *w, wl_load_fn *fn, void *ctx)
{
    w->observer = fn;
    w->observer_ctx = ctx;
}

static bool users_check(const struct workload *w)
{
    size_t thinking = 0;
    uint64_t loads = 0;

    for (size_t k = 0; k < (size_t)w->cfg->users; k++) {
        const struct wl_user *u = &w->users[k];

        if (!list_node_is_linked(&u->node) ||
            sim_event_is_pending(&u->next) != (u->state == WL_USER_THINKING)) {
            return false;
        }
        thinking += u->state == WL_USER_THINKING;
        loads += u->loads;
    }
    return list_count(&w->thinking) == thinking &&
           list_count(&w->loading) == (size_t)w->cfg->users - thinking && loads == w->loads;
}

bool wl_check(const struct workload *w)
{
    switch (w->cfg->model) {
    case WL_CLOSED:
        return users_check(w);
    case WL_OPEN:
        return sim_event_is_pending(&w->arrival) &&
               sim_event_is_pending(&w->step) == (w->next_step < w->cfg->nsteps);
    }
    return false;
}

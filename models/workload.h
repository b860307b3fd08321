/*
 * workload.h - where pages come from (DESIGN.md §3 "Workload", §4
 * workload.*; reference/domain.md §7.1 item 1, the request source).
 *
 * Closed model: `users` users.  User k loads its first page at t = 0, or
 * at a time uniform over [0, start_spread) drawn from its own stream
 * "workload.start" (entity k); each load issues the page's endpoint calls at
 * once; when every call has been answered (the page's done callback) the user
 * thinks for a think_time drawn from "workload.think_time" (entity k), then
 * loads again.  "Concurrency" is the number of users.
 *
 * Open model: Poisson page arrivals at `rate` per second, from the stream
 * "workload.arrivals" (entity 0); rate_steps switch the rate at given
 * simulated times.  The process is piecewise-constant Poisson: at a step the
 * pending arrival (drawn at the old rate) is cancelled and a new gap is drawn
 * from the step at the new rate.  This is exact, not an approximation: the
 * residual of an exponential gap is exponential with the same rate
 * (memorylessness), so the old process restarted at the step has the same
 * law, and counts in disjoint intervals stay independent Poisson with mean
 * rate x length.  Keeping the old draw instead would be wrong: after a step
 * from 0.01/s to 100/s the first arrival would still wait ~100 s.
 *
 * With several pages, the page of each load is drawn by weight from
 * "workload.page": entity k for closed user k, entity 0 for the open
 * arrivals.  No stream here depends on pool sizes or modes, and each user has
 * streams of its own, so adding users never shifts another user's numbers
 * (common random numbers, DESIGN.md §6).
 *
 * Each closed user is in exactly one list: thinking (waiting for its start
 * or for the end of its think time: its event is pending) or loading (its
 * page is in flight).  Page loads always go through an event, even after a
 * zero think time, so a synchronous answer never re-enters the app.
 */
#ifndef POOLSIM_MODELS_WORKLOAD_H
#define POOLSIM_MODELS_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "models/app.h"
#include "models/config.h"
#include "sim/list.h"

struct workload;

/* Told of every page load: user (or the arrival's number) and the page (index in cfg->pages). */
typedef void wl_load_fn(void *ctx, uint64_t user, size_t page);

enum wl_user_state { WL_USER_THINKING, WL_USER_LOADING };

struct wl_user {
    struct workload *w; /* owner (borrowed) */
    uint64_t index;     /* k: the entity of its streams */
    enum wl_user_state state;
    struct list_node node; /* in the list of its state */
    struct sim_event next; /* its next load (start, or end of thinking) */
    gsl_rng *rng_think;    /* "workload.think_time", entity k (owned) */
    gsl_rng *rng_page;     /* "workload.page", entity k; NULL with one page (owned) */
    uint64_t loads;        /* pages loaded so far */
};

struct workload {
    /* read-only */
    const struct workload_config *cfg; /* borrowed */
    struct app *app;                   /* borrowed */
    struct sim *sim;                   /* borrowed */
    uint64_t loads;                    /* pages loaded so far (all users, or arrivals) */
    double rate_per_s;                 /* open: the current arrival rate */
    /* private */
    wl_load_fn *observer; /* may be NULL */
    void *observer_ctx;
    /* closed */
    struct wl_user *users;         /* cfg->users of them (owned) */
    struct list thinking, loading; /* of struct wl_user */
    /* open */
    gsl_rng *rng_arrivals;    /* owned */
    gsl_rng *rng_page;        /* owned; NULL with one page */
    struct sim_event arrival; /* the next page arrival */
    struct sim_event step;    /* the next rate step */
    size_t next_step;         /* index in cfg->steps of the next step */
};

/*
 * Start the workload at time 0 (closed: every user's first load is
 * scheduled; open: the first arrival after one inter-arrival time).
 * cfg and app are borrowed and must outlive w.
 */
void wl_init(struct workload *w, struct sim *sim, const struct workload_config *cfg,
             struct app *app, uint64_t seed, uint32_t rep);
void wl_fini(struct workload *w);

/* Call fn(ctx, user, page) at every load from now on (tests, traces); fn NULL stops it. */
void wl_observe(struct workload *w, wl_load_fn *fn, void *ctx);

/* True iff every list/state/count invariant holds. */
bool wl_check(const struct workload *w);

#endif

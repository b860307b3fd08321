/*
 * scenario.c - one replication, and the runner_model (see scenario.h).
 *
 * Teardown: objects still in flight when the window closes live in slabs
 * that are freed whole, after every explicit cancel (see scn_fini).
 */
#include "models/scenario.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "models/app.h"
#include "models/metrics.h"
#include "models/pgbouncer.h"
#include "models/postgres.h"
#include "models/workload.h"
#include "sim/sim.h"
#include "sim/xalloc.h"

void scn_init(struct scenario *s, const struct experiment *x, uint32_t rep, struct hist *hists,
              bool with_workload)
{
    struct hist *h[SER__COUNT];
    bool direct = x->pooler.kind == POOLER_DIRECT;
    const struct upstream *up = &s->pg.up;
    sim_time rtt = x->net.app_db_rtt;

    for (int i = 0; i < SER__COUNT; i++) {
        h[i] = &hists[i];
    }
    s->x = x;
    s->with_workload = with_workload;
    s->trace = NULL;
    s->sim = sim_new();
    metrics_init(&s->m, h);
    s->m.has_pooler = !direct;
    s->m.server_capacity = pg_usable_slots(&x->postgres);
    pg_init(&s->pg, s->sim, &x->postgres, &s->m, direct, x->seed, rep);
    switch (x->pooler.kind) {
    case POOLER_DIRECT:
        break;
    case POOLER_PGBOUNCER:
        pgb_init(&s->pgb, s->sim, &x->pooler.pgb, &s->m, &s->pg.up, x->net.pooler_db_rtt,
                 (int)x->net.handshake_rtts);
        s->m.server_capacity = pgb_server_cap(&x->pooler.pgb);
        up = &s->pgb.up;
        rtt = x->net.app_pooler_rtt;
        break;
    case POOLER_SUPAVISOR:
        supa_init(&s->supa, s->sim, &x->pooler.supa, &s->m, &s->pg.up, x->net.pooler_db_rtt,
                  (int)x->net.handshake_rtts);
        s->m.server_capacity = supa_capacity(&x->pooler.supa);
        up = &s->supa.up;
        rtt = x->net.app_pooler_rtt;
        break;
    }
    app_init(&s->app, s->sim, x, &s->m, up, rtt, rep);
    if (with_workload) {
        wl_init(&s->wl, s->sim, &x->workload, &s->app, x->seed, rep);
    }
}

/*
 * The heap may still hold events of objects that live in slabs (a call's
 * timer, a link in flight), so every sim_cancel (workload, PgBouncer's
 * janitor) runs before the first slab is freed; then the engine is freed
 * without firing or touching anything.
 */
void scn_fini(struct scenario *s)
{
    if (s->with_workload) {
        wl_fini(&s->wl);
    }
    if (s->x->pooler.kind == POOLER_PGBOUNCER) {
        pgb_fini(&s->pgb);
    } else if (s->x->pooler.kind == POOLER_SUPAVISOR) {
        supa_fini(&s->supa);
    }
    app_fini(&s->app);
    pg_fini(&s->pg);
    sim_free(s->sim);
    if (s->trace) {
        trace_fini(s->trace);
        free(s->trace);
    }
}

void scn_trace(struct scenario *s, uint64_t limit, sim_time from)
{
    assert(s->trace == NULL && limit > 0);
    s->trace = xmalloc(sizeof *s->trace);
    trace_init(s->trace, limit, from);
    s->m.trace = s->trace;
}

bool scn_check(const struct scenario *s)
{
    bool ok = pg_check(&s->pg) && app_check(&s->app);

    switch (s->x->pooler.kind) {
    case POOLER_DIRECT:
        break;
    case POOLER_PGBOUNCER:
        ok = ok && pgb_check(&s->pgb);
        break;
    case POOLER_SUPAVISOR:
        ok = ok && supa_check(&s->supa);
        break;
    }
    return ok && (!s->with_workload || wl_check(&s->wl));
}

static void check_after_event(void *ctx)
{
    struct scenario *s = ctx;

    if (!scn_check(s)) {
        fprintf(stderr, "poolsim: invariant broken after the event at %lld ns\n",
                (long long)sim_now(s->sim));
        abort();
    }
}

void scn_paranoid(struct scenario *s)
{
    sim_set_observer(s->sim, check_after_event, s);
}

/* Warm-up, then the measured window; false if the engine stalled (a zero-time loop). */
static bool run_phases(struct scenario *s, const struct experiment *x)
{
    if (x->warmup > 0) {
        sim_run_until(s->sim, x->warmup);
        if (sim_is_stalled(s->sim)) {
            return false;
        }
    }
    metrics_reset(&s->m, sim_now(s->sim));
    if (x->requests > 0) {
        s->app.stop_after = x->requests;
        sim_run(s->sim);
    } else {
        sim_run_until(s->sim, x->warmup + x->duration);
    }
    return !sim_is_stalled(s->sim);
}

/* Where a traced replication's rows go: ntrace requests, rows prefixed with prefix. */
struct trace_out {
    uint64_t ntrace;
    const char *prefix;
    struct out_buf *rows;
};

/* One replication; with tout, also its trace rows (an untraced run when tout is NULL). */
static int run_rep(const struct experiment *x, uint32_t rep, double *metrics, struct hist *hists,
                   const struct trace_out *tout, uint64_t *events, struct err *e)
{
    struct scenario s;
    char at[DIST_DURATION_MAX];
    bool ok;

    scn_init(&s, x, rep, hists, true);
#ifdef POOLSIM_PARANOID
    scn_paranoid(&s);
#endif
    if (tout) {
        scn_trace(&s, tout->ntrace, x->warmup);
    }
    ok = run_phases(&s, x);
    *events = sim_events_fired(s.sim);
    if (ok && tout) {
        trace_rows(s.trace, sim_now(s.sim), tout->prefix, tout->rows);
    }
    if (ok) {
        s.m.events = *events;
        metrics_values(&s.m, sim_now(s.sim), metrics);
    } else {
        dist_format_duration(sim_now(s.sim), at, sizeof at);
        err_set(e,
                "the simulation stalled at %s: %llu events without the clock moving (a "
                "zero-time loop, e.g. closed users with no think time whose calls fail at once "
                "over a zero round trip)",
                at, (unsigned long long)SIM_STALL_EVENTS);
    }
    scn_fini(&s);
    return ok ? 0 : -1;
}

int scn_run_checked(const struct experiment *x, uint32_t rep, double *metrics, struct hist *hists,
                    uint64_t *events, struct err *e)
{
    return run_rep(x, rep, metrics, hists, NULL, events, e);
}

uint64_t scn_run(const struct experiment *x, uint32_t rep, double *metrics, struct hist *hists)
{
    struct err e;
    uint64_t events;
    int rc = scn_run_checked(x, rep, metrics, hists, &events, &e);

    assert(rc == 0);
    (void)rc;
    return events;
}

/* ---- the runner_model ---- */

static void *point_new(const struct cJSON *doc, const char *base_dir, struct err *e)
{
    struct experiment *x = xmalloc(sizeof *x);

    if (experiment_load(x, doc, base_dir, e) != 0) {
        free(x);
        return NULL;
    }
    return x;
}

static void point_free(void *cfg)
{
    if (cfg) {
        experiment_fini(cfg);
        free(cfg);
    }
}

static uint32_t point_replications(const void *cfg)
{
    return ((const struct experiment *)cfg)->replications;
}

static uint64_t point_seed(const void *cfg)
{
    return ((const struct experiment *)cfg)->seed;
}

static bool point_precision(const void *cfg, struct runner_precision *p)
{
    const struct precision_config *pc = &((const struct experiment *)cfg)->precision;

    if (!pc->enabled) {
        return false;
    }
    p->metric = pc->metric;
    p->relative = pc->relative;
    p->max_replications = pc->max_replications;
    return true;
}

static struct cJSON *point_resolved(const void *cfg)
{
    return experiment_resolved(cfg);
}

static int run(const void *cfg, uint32_t rep, double *metrics, struct hist *hists, struct err *e)
{
    uint64_t events;

    return scn_run_checked(cfg, rep, metrics, hists, &events, e);
}

static int run_traced(const void *cfg, uint32_t rep, uint64_t ntrace, const char *prefix,
                      double *metrics, struct hist *hists, struct out_buf *rows, struct err *e)
{
    struct trace_out tout = {ntrace, prefix, rows};
    uint64_t events;

    return run_rep(cfg, rep, metrics, hists, &tout, &events, e);
}

void scn_model(struct runner_model *m)
{
    m->metrics = metrics_columns(&m->nmetrics);
    m->series = metrics_series_names(&m->nseries);
    m->point_new = point_new;
    m->point_free = point_free;
    m->point_replications = point_replications;
    m->point_seed = point_seed;
    m->point_resolved = point_resolved;
    m->run = run;
    m->trace_columns = "request,endpoint,stage,t_ms,detail";
    m->run_traced = run_traced;
    m->point_precision = point_precision;
}

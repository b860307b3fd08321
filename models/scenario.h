/*
 * scenario.h - one replication of one point: builds PostgreSQL, the pooler,
 * the application and the workload, wires them (app -> pooler or direct ->
 * PostgreSQL, with the network's round trips), runs the warm-up and the
 * measured window, and reports the metrics.  Also the runner_model that
 * plugs the models into the generic runner (sim/runner.h).
 */
#ifndef POOLSIM_MODELS_SCENARIO_H
#define POOLSIM_MODELS_SCENARIO_H

#include <stdint.h>

#include <stdbool.h>

#include "models/app.h"
#include "models/config.h"
#include "models/metrics.h"
#include "models/pgbouncer.h"
#include "models/postgres.h"
#include "models/supavisor.h"
#include "models/trace.h"
#include "models/workload.h"
#include "sim/hist.h"
#include "sim/runner.h"

/* Everything one replication owns. */
struct scenario {
    const struct experiment *x; /* borrowed */
    struct sim *sim;            /* owned */
    struct metrics m;
    struct pg pg;
    struct pgb pgb;   /* pooler kind "pgbouncer" */
    struct supa supa; /* pooler kind "supavisor" */
    struct app app;
    struct workload wl; /* used when with_workload */
    bool with_workload;
    struct trace *trace; /* sampled requests' stages (owned); NULL = not traced */
};

/*
 * Build and wire replication rep (1-based) of x at time 0, recording into
 * hists[SER__COUNT].  Without the workload nothing arrives by itself: tests
 * load pages with app_load_page.
 */
void scn_init(struct scenario *s, const struct experiment *x, uint32_t rep, struct hist *hists,
              bool with_workload);
void scn_fini(struct scenario *s);

/*
 * Trace the first limit calls that arrive at or after from (trace.h); call
 * before anything runs.  The trace is s->trace, freed by scn_fini.
 */
void scn_trace(struct scenario *s, uint64_t limit, sim_time from);

/* True iff every model's invariant checker holds (PostgreSQL, the pooler, the app, the workload).
 */
bool scn_check(const struct scenario *s);

/*
 * Run scn_check after every event and abort with a message naming the time
 * if it fails.  Tests call it; `make paranoid` builds do it for every run.
 */
void scn_paranoid(struct scenario *s);

/* Fill m with the description of poolsim's models for the runner. */
void scn_model(struct runner_model *m);

/*
 * Run replication rep (1-based) of x: fill metrics (metrics_columns order)
 * and hists[SER__COUNT] (hist_init'ed).  Returns the number of events fired.
 */
uint64_t scn_run(const struct experiment *x, uint32_t rep, double *metrics, struct hist *hists);

/*
 * The same, for runs that may not complete: returns 0, or -1 with e set when
 * the engine stalled in a zero-time loop (metrics are then not filled).
 * *events gets the number of events fired either way.
 */
int scn_run_checked(const struct experiment *x, uint32_t rep, double *metrics, struct hist *hists,
                    uint64_t *events, struct err *e);

#endif

/*
 * size.h - `poolsim size`: the smallest value of each varied key that meets
 * every objective at a given load, and the highest load that configuration
 * holds (DESIGN.md §5; issue 8).  Generic over a runner_model: the domain
 * (which keys are pool sizes and their default range, which key is the
 * load, which limit breaks first) comes from struct size_hooks, which
 * sim/main.c fills from models/sizing.c.
 *
 * The method, documented for users in README.md ("Sizing a pool"):
 *  - points are evaluated in memory (runner_eval) with replications added
 *    (the file's `replications` but 2 to 4 at first, doubled up to
 *    --max-replications) until every objective's 95% interval excludes its
 *    threshold or one objective clearly fails; a point still undecided at
 *    the cap is "unclear" and counts as not meeting the objectives.  A
 *    zero-width interval decides only from 4 replications on (replications
 *    that agree exactly may just share a latency histogram bucket);
 *  - keys are searched one at a time in the order given: each holds the keys
 *    before it at their answers and the keys after it at their file values;
 *  - a search gallops up from LO (LO, LO+1, LO+3, LO+7, ...) to the first
 *    passing value, then bisects down to the smallest; it then checks the
 *    three values above the answer and the top of the range, and when one
 *    of them fails it bisects for the upper end of the window in which the
 *    objectives hold (latency is not monotone in pool size past a CPU knee);
 *  - the load search doubles the load key (the hooks': workload.users or
 *    workload.rate) from its value in the file or --at until the
 *    configuration fails, then bisects to 1% (at least 1 when the base is a
 *    whole number); the limit that breaks first is read from the metrics of
 *    the lowest failing load.
 * Every point uses the experiment's seed: common random numbers.  Nothing
 * depends on --jobs or on the clock but the wall time in size.json.
 */
#ifndef POOLSIM_SIM_SIZE_H
#define POOLSIM_SIM_SIZE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/err.h"
#include "sim/out.h"
#include "sim/runner.h"

struct size_hooks {
    /* Default search range of key for the point cfg: 0, or -1 when key has none. */
    int (*default_range)(const void *cfg, const char *key, int64_t *lo, int64_t *hi);
    /* The load key of cfg (its path, static) and its value there (after --at); 0, or -1. */
    int (*load_key)(const void *cfg, const char **key, double *value);
    /* One line (no newline) naming the limit that breaks first, from the metric means (the
     * model's column order) of cfg at a load where it fails its objectives. */
    void (*breaks_first)(const void *cfg, const double *means, char *buf, size_t size);
};

struct size_env {
    const struct runner_model *model; /* borrowed */
    const struct size_hooks *hooks;   /* borrowed */
    const char *version;              /* poolsim version for size.json */
    unsigned default_jobs;            /* --jobs when not given */
    FILE *progress;                   /* stderr, for progress lines (not with --quiet) */
};

/*
 * Run `poolsim size` with argv[0] = "poolsim", argv[1] = "size".  The table
 * for stdout goes to out (also when no configuration meets the objectives);
 * size.json is written to the output directory.  Returns the exit status
 * (DESIGN.md §5): 0 a configuration meets the objectives, 3 none in range
 * does, 1 invalid experiment (e set), 2 usage or I/O error (e set).
 */
int size_main(int argc, char **argv, const struct size_env *env, struct out_buf *out,
              struct err *e);

#endif

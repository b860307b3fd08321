/*
 * slo.h - service-level objectives for `poolsim size` (DESIGN.md §5):
 * "latency_p99_ms<500,error_rate<0.001", each a metric column of points.csv,
 * an operator (<, <=, >, >=) and a threshold, and the statistical decision
 * whether a point meets one.
 *
 * Decision: an objective passes when the whole 95% confidence interval of
 * the metric's mean (mean ± ci) lies on its passing side, fails when the
 * whole interval lies on the other side, and is unclear otherwise.  With
 * ci = 0 (every replication gave the same value, or a maximum) the mean
 * decides alone; a NAN mean (the metric does not apply) fails; a NAN ci
 * (one replication) is unclear unless the mean alone would fail or pass with
 * no spread at all, which a single replication cannot show.
 */
#ifndef POOLSIM_SIM_SLO_H
#define POOLSIM_SIM_SLO_H

#include <stddef.h>

#include "sim/err.h"
#include "sim/runner.h"

enum slo_op { SLO_LT, SLO_LE, SLO_GT, SLO_GE };

enum slo_verdict { SLO_PASS, SLO_FAIL, SLO_UNCLEAR };

struct slo {
    size_t metric;    /* index in the model's metric columns */
    enum slo_op op;   /* metric op threshold must hold */
    double threshold; /* in the metric's unit */
    char text[128];   /* normalised: "latency_p99_ms<500" */
};

/*
 * Parse a comma-separated list of objectives against the model's metric
 * columns.  *out (caller frees with free()) gets *n >= 1 objectives.
 * Returns 0, or -1 with e's message set (one line naming the bad objective).
 */
int slo_parse(const char *spec, const struct runner_metric *metrics, size_t nmetrics,
              struct slo **out, size_t *n, struct err *e);

/* Judge one objective from the mean and 95% half-width of its metric (see above). */
enum slo_verdict slo_judge(const struct slo *o, double mean, double ci);

/* "pass", "fail", "unclear". */
const char *slo_verdict_name(enum slo_verdict v);

/* "<", "<=", ">", ">=". */
const char *slo_op_text(enum slo_op op);

#endif

/*
 * sizing.h - the domain half of `poolsim size` (sim/size.h holds the
 * generic search): which keys are pool sizes and their default range
 * (1 to the usable max_connections), which key is the load (workload.users
 * for a closed workload, workload.rate for an open one), and the rule that
 * names the limit that breaks first from the metrics of a failing load.
 */
#ifndef POOLSIM_MODELS_SIZING_H
#define POOLSIM_MODELS_SIZING_H

#include "sim/size.h"

/* Fill h; every hook takes a point built by scn_model's point_new (a struct experiment). */
void sizing_hooks(struct size_hooks *h);

#endif

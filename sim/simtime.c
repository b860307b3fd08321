/*
 * simtime.c - the one conversion from a double to sim_time (DESIGN.md §2).
 */
#include "sim/simtime.h"

#include <math.h>

sim_time sim_time_from_s(double s)
{
    double ns = s * 1e9;

    if (!(ns < 9.2e18)) {
        return SIM_TIME_MAX;
    }
    if (!(ns > -9.2e18)) {
        return -SIM_TIME_MAX;
    }
    return (sim_time)llround(ns);
}

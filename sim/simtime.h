/*
 * simtime.h - simulated time: int64_t nanoseconds.
 *
 * Every quantity of time inside poolsim is a sim_time.  A double becomes a
 * sim_time in exactly one place, sim_time_from_s(), so that rounding happens
 * once and the same way everywhere (DESIGN.md §2).  Going the other way, to
 * report milliseconds, is sim_time_to_ms().
 */
#ifndef POOLSIM_SIM_SIMTIME_H
#define POOLSIM_SIM_SIMTIME_H

#include <math.h>
#include <stdint.h>

typedef int64_t sim_time; /* ns */

#define SIM_NS(x) ((sim_time)(x))
#define SIM_US(x) ((sim_time)(x)*1000)
#define SIM_MS(x) ((sim_time)(x)*1000000)
#define SIM_S(x) ((sim_time)(x)*1000000000)
#define SIM_TIME_MAX INT64_MAX /* "never" */

/*
 * Convert seconds to sim_time, rounding to the nearest nanosecond (halves
 * away from zero).  The only double -> time conversion in the program.
 * Values beyond the representable range saturate to +-SIM_TIME_MAX.
 * Inline: every random duration passes through it.
 */
static inline sim_time sim_time_from_s(double s)
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

/* Convert sim_time to milliseconds (for output only, never for ordering). */
static inline double sim_time_to_ms(sim_time t)
{
    return (double)t / 1e6;
}

/* Convert sim_time to seconds (for output and rates only). */
static inline double sim_time_to_s(sim_time t)
{
    return (double)t / 1e9;
}

#endif

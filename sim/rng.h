/*
 * rng.h - named random streams (DESIGN.md §2, §6).
 *
 * Every random purpose (arrivals, endpoint e's server times, user k's think
 * times ...) has a stream of its own, seeded from
 * (experiment seed, replication, stream name, entity index) by a fixed hash.
 * Because a stream's seed depends only on its own name and entity, adding a
 * stream or an entity never shifts another one: two sweep points with the
 * same seed see the same arrivals and the same query times (common random
 * numbers).  Streams are GSL generators; the generator type is fixed in
 * rng.c (chosen by measurement, see BENCHMARKS.md).
 */
#ifndef POOLSIM_SIM_RNG_H
#define POOLSIM_SIM_RNG_H

#include <math.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

/*
 * The 64-bit seed key of a stream: a fixed hash (FNV-1a of the name mixed
 * with splitmix64 finalisers) of all four inputs.  Stable across versions,
 * platforms and builds: it is part of the determinism contract.
 */
uint64_t rng_key(uint64_t seed, uint32_t replication, const char *name, uint64_t entity);

/*
 * Allocate the stream for (seed, replication, name, entity).  name is
 * borrowed.  Caller owns the result; out of memory aborts.
 */
gsl_rng *rng_new(uint64_t seed, uint32_t replication, const char *name, uint64_t entity);

/* Free a stream.  NULL is a no-op. */
void rng_free(gsl_rng *r);

/*
 * An exponential variate of the given mean by inversion of one uniform u in
 * [0, 1): -mean * log(1 - u).  The same inversion as gsl_ran_exponential,
 * which uses log1p(-u): log is about twice as fast, and the precision log1p
 * keeps for u < 1e-16 is far below a nanosecond.
 */
static inline double rng_exponential(gsl_rng *r, double mean)
{
    return -mean * log(1.0 - gsl_rng_uniform(r));
}

/* A uniform double in the open interval (0, 1): never 0, never 1. */
double rng_uniform_pos(gsl_rng *r);

#endif

/*
 * rng.c - named random streams: the seed hash and the GSL generator (rng.h).
 *
 * The key (part of the determinism contract: changing it changes every
 * result poolsim has ever printed).  With G = 0x9e3779b97f4a7c15 and
 *   fin(z) = splitmix64's finaliser:  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
 *                                     z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
 *                                     z ^ (z >> 31)
 *   mix(x) = fin(x + G)                (one splitmix64 output from state x)
 *   fnv(s) = FNV-1a 64 of the bytes of s: h = 0xcbf29ce484222325, then for
 *            each byte b: h = (h ^ b) * 0x100000001b3
 * all arithmetic modulo 2^64:
 *   rng_key = mix(mix(mix(mix(seed) ^ replication) ^ fnv(name)) ^ entity)
 * Each step is a bijection of its input for a fixed previous value, so two
 * streams differing only in seed, replication or entity never share a key
 * (nor do names, unless their FNV-1a hashes collide); other pairs collide
 * with probability 2^-64.
 *
 * The generator is GSL's taus2 (L'Ecuyer's maximally equidistributed
 * combined Tausworthe, period 2^88, 24 bytes of state), chosen by
 * measurement (build/bench/variates: best of 3 loops of 10^7; AMD EPYC,
 * gcc 12 -O2, GSL 2.7.1):
 *   type     ns/uniform  ns/exponential  ns/gsl_rng_set  state bytes
 *   taus2        2.8         13.1               8             24
 *   gfsr4        2.9         13.5          380000         131080
 *   mt19937      6.9         18.4             874           5000
 * and rng_new (hash, state write, warm-up, allocation) 49 ns.
 * gfsr4 is as fast per variate, but 128 KiB and 0.4 ms of seeding per
 * stream rule it out for per-entity streams (thousands of users);
 * mt19937 is 2.5x slower per uniform.  Like mt19937, taus2 is F2-linear
 * (both fail TestU01's linear-complexity tests, as every such generator
 * does), a structure no duration sampler here can observe.
 *
 * Seeding.  gsl_rng_set takes 32 bits: among 10^4 streams a collision
 * (two identical streams) would have probability about 1%.  So the state is
 * written directly from the 64-bit key: w0 = mix(key), w1 = mix(key + G)
 * (the first two splitmix64 outputs from state key), s1 = low 32 bits of w0,
 * s2 = high 32 bits of w0, s3 = low 32 bits of w1; then GSL's own taus2_set
 * constraints (s1 < 2: += 2, s2 < 8: += 8, s3 < 16: += 16) and its six
 * warm-up draws.  The recurrence ignores bit 0 of s1, bits 0-2 of s2 and
 * 0-3 of s3, leaving 88 effective bits: two distinct keys give the same
 * state with probability about 2^-88.
 */
#include "sim/rng.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#define RNG_GOLDEN 0x9e3779b97f4a7c15u
#define RNG_FNV_OFFSET 0xcbf29ce484222325u
#define RNG_FNV_PRIME 0x100000001b3u
#define RNG_WARMUP 6 /* as GSL's taus2_set */

static uint64_t mix(uint64_t x)
{
    uint64_t z = x + RNG_GOLDEN;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = RNG_FNV_OFFSET;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h = (h ^ *p) * RNG_FNV_PRIME;
    }
    return h;
}

uint64_t rng_key(uint64_t seed, uint32_t replication, const char *name, uint64_t entity)
{
    uint64_t h = mix(seed);

    h = mix(h ^ replication);
    h = mix(h ^ fnv1a64(name));
    return mix(h ^ entity);
}

/* Write taus2's state (three unsigned longs, each holding 32 bits) from the key. */
static void seed_taus2(gsl_rng *r, uint64_t key)
{
    uint64_t w0 = mix(key), w1 = mix(key + RNG_GOLDEN);
    unsigned long *s = gsl_rng_state(r);

    assert(gsl_rng_size(r) == 3 * sizeof(unsigned long));
    s[0] = (unsigned long)(w0 & 0xffffffffu);
    s[1] = (unsigned long)(w0 >> 32);
    s[2] = (unsigned long)(w1 & 0xffffffffu);
    s[0] += s[0] < 2 ? 2 : 0;
    s[1] += s[1] < 8 ? 8 : 0;
    s[2] += s[2] < 16 ? 16 : 0;
    for (int i = 0; i < RNG_WARMUP; i++) {
        gsl_rng_get(r);
    }
}

gsl_rng *rng_new(uint64_t seed, uint32_t replication, const char *name, uint64_t entity)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);

    if (!r) {
        fprintf(stderr, "poolsim: out of memory (allocating a random stream)\n");
        abort();
    }
    seed_taus2(r, rng_key(seed, replication, name, entity));
    return r;
}

void rng_free(gsl_rng *r)
{
    if (r) {
        gsl_rng_free(r);
    }
}

double rng_uniform_pos(gsl_rng *r)
{
    return gsl_rng_uniform_pos(r);
}

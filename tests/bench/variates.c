/*
 * variates.c - how long a random variate costs (the measurement behind
 * rng.c's choice of generator).
 *
 * Prints one grep-able line per figure:
 *   rng type=taus2 ns_per_uniform=3.0 ns_per_exponential=13.9 ns_per_seed=8 state_bytes=24
 *   rng_new ns=25.1
 *   variate dist=lognormal ns=7.4
 * for each GSL generator considered (raw gsl_rng_uniform, gsl_ran_exponential
 * and gsl_rng_set), for rng_new (hash + state write + warm-up) and for
 * dist_sample of every kind on an rng_new stream.  Each figure is the best of
 * REPEATS timed loops (the least disturbed by the machine).  Usage:
 *   build/bench/variates [N]     N variates per loop (default 10000000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "sim/dist.h"
#include "sim/rng.h"

#define REPEATS 3
#define SEEDS 200 /* gsl_rng_set calls per loop: gfsr4's takes 0.4 ms */

/* What each loop adds up, printed at the end so no loop can be optimised away. */
struct sink {
    double sum;     /* of doubles */
    uint64_t ticks; /* of sim_times: an integer add keeps the loop's own cost small */
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum op { OP_UNIFORM, OP_EXPONENTIAL, OP_SEED };

/* Best ns per call of op on r over REPEATS loops of n calls. */
static double time_op(gsl_rng *r, enum op op, long n, struct sink *k)
{
    double best = 1e300;

    for (int rep = 0; rep < REPEATS; rep++) {
        double t0 = now_s(), dt;

        for (long i = 0; i < n; i++) {
            switch (op) {
            case OP_UNIFORM:
                k->sum += gsl_rng_uniform(r);
                break;
            case OP_EXPONENTIAL:
                k->sum += gsl_ran_exponential(r, 1.0);
                break;
            case OP_SEED:
                gsl_rng_set(r, (unsigned long)i + 1);
                break;
            }
        }
        dt = (now_s() - t0) / (double)n * 1e9;
        best = dt < best ? dt : best;
    }
    return best;
}

static void bench_generators(long n, struct sink *k)
{
    const gsl_rng_type *types[] = {gsl_rng_taus2, gsl_rng_gfsr4, gsl_rng_mt19937};

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        gsl_rng *r = gsl_rng_alloc(types[i]);
        double u_ns = time_op(r, OP_UNIFORM, n, k);
        double e_ns = time_op(r, OP_EXPONENTIAL, n, k);
        double s_ns = time_op(r, OP_SEED, SEEDS, k);

        printf("rng type=%s ns_per_uniform=%.2f ns_per_exponential=%.2f ns_per_seed=%.0f "
               "state_bytes=%zu\n",
               gsl_rng_name(r), u_ns, e_ns, s_ns, gsl_rng_size(r));
        gsl_rng_free(r);
    }
}

static void bench_rng_new(long n, struct sink *k)
{
    double best = 1e300;

    for (int rep = 0; rep < REPEATS; rep++) {
        double t0 = now_s(), dt;

        for (long i = 0; i < n; i++) {
            gsl_rng *r = rng_new(1, 1, "bench", (uint64_t)i);

            k->sum += (double)gsl_rng_get(r);
            rng_free(r);
        }
        dt = (now_s() - t0) / (double)n * 1e9;
        best = dt < best ? dt : best;
    }
    printf("rng_new ns=%.1f\n", best);
}

static void bench_dist(const char *name, const struct dist *d, long n, struct sink *k)
{
    gsl_rng *r = rng_new(1, 1, "bench", 0);
    double best = 1e300;

    for (int rep = 0; rep < REPEATS; rep++) {
        double t0 = now_s(), dt;

        for (long i = 0; i < n; i++) {
            k->ticks += (uint64_t)dist_sample(d, r);
        }
        dt = (now_s() - t0) / (double)n * 1e9;
        best = dt < best ? dt : best;
    }
    printf("variate dist=%s ns=%.1f\n", name, best);
    rng_free(r);
}

/* Every kind with parameters like an experiment's server times. */
static int bench_dists(long n, struct sink *k)
{
    static const struct dist_point pts[] = {
        {0, SIM_MS(2)}, {0.5, SIM_MS(10)}, {0.9, SIM_MS(30)}, {0.99, SIM_MS(80)}, {1, SIM_MS(400)},
    };
    const char *names[] = {"const", "exponential", "uniform", "lognormal", "gamma", "empirical"};
    struct dist d[6];
    struct err e;

    dist_init_const(&d[0], SIM_MS(5));
    if (dist_init_exponential(&d[1], SIM_MS(10), "$", &e) < 0 ||
        dist_init_uniform(&d[2], SIM_MS(5), SIM_MS(15), "$", &e) < 0 ||
        dist_init_lognormal_median_p99(&d[3], SIM_MS(15), SIM_MS(120), "$", &e) < 0 ||
        dist_init_gamma(&d[4], SIM_MS(10), 0.5, "$", &e) < 0 ||
        dist_init_empirical(&d[5], pts, sizeof pts / sizeof pts[0], "$", &e) < 0) {
        fprintf(stderr, "variates: %s\n", e.msg);
        return -1;
    }
    for (size_t i = 0; i < 6; i++) {
        bench_dist(names[i], &d[i], n, k);
        dist_fini(&d[i]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000000;
    struct sink k = {0};

    if (n <= 0) {
        fprintf(stderr, "usage: variates [N > 0]\n");
        return 2;
    }
    bench_generators(n, &k);
    bench_rng_new(n / 10, &k);
    if (bench_dists(n, &k) < 0) {
        return 1;
    }
    fprintf(stderr, "variates: checksums %g %llu\n", k.sum, (unsigned long long)k.ticks);
    return 0;
}

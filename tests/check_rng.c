/*
 * check_rng.c - named random streams: the seed hash is pinned, a stream
 * depends on its own four inputs only, and the taus2 state layout rng.c
 * writes is the one GSL uses.
 *
 * The golden values were computed outside C, with a few lines of Python
 * following the formula documented atop sim/rng.c (FNV-1a 64, splitmix64's
 * finaliser, then the taus2 recurrence), not by running this code.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "sim/rng.h"
#include "tests/tests.h"

#define DRAWS 1000

static void draw(gsl_rng *r, unsigned long *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = gsl_rng_get(r);
    }
}

/* The first n draws of stream (seed, rep, name, entity). */
static void stream_draws(uint64_t seed, uint32_t rep, const char *name, uint64_t entity,
                         unsigned long *out, size_t n)
{
    gsl_rng *r = rng_new(seed, rep, name, entity);

    draw(r, out, n);
    rng_free(r);
}

/* Catches any change to the hash (constants, order of inputs, FNV variant). */
START_TEST(rng_key_matches_documented_formula)
{
    ck_assert_uint_eq(rng_key(0, 0, "", 0), 0x220360b5b93d25d5u);
    ck_assert_uint_eq(rng_key(1, 1, "arrivals", 0), 0x06c9246e1ad08e44u);
    ck_assert_uint_eq(rng_key(1, 2, "server_time", 3), 0x9693bda7aceddfa6u);
    ck_assert_uint_eq(rng_key(42, 1, "think_time", 7), 0x3dfc9d56110422aau);
    ck_assert_uint_eq(rng_key(UINT64_MAX, UINT32_MAX, "x", UINT64_MAX), 0x7c47919b06b3144fu);
}
END_TEST

/* Catches a change to the seeding (state words, constraints, warm-up) or the generator type. */
START_TEST(stream_first_draws_are_pinned)
{
    unsigned long x[3];

    stream_draws(1, 1, "arrivals", 0, x, 3);
    ck_assert_uint_eq(x[0], 1948991747u);
    ck_assert_uint_eq(x[1], 582146786u);
    ck_assert_uint_eq(x[2], 3920040985u);
}
END_TEST

/*
 * rng.c writes taus2's state as three unsigned longs (s1, s2, s3) then draws
 * six times, as GSL's taus2_set does.  Seeding that way by hand from GSL's
 * own LCG must reproduce gsl_rng_set: catches a GSL whose state differs.
 */
START_TEST(taus2_state_layout_is_gsls)
{
    gsl_rng *ref = gsl_rng_alloc(gsl_rng_taus2), *own = gsl_rng_alloc(gsl_rng_taus2);
    unsigned long seeds[] = {1, 12345, 4294967295u};

    ck_assert_uint_eq(gsl_rng_size(own), 3 * sizeof(unsigned long));
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        unsigned long *s = gsl_rng_state(own), a[DRAWS], b[DRAWS];

        gsl_rng_set(ref, seeds[k]);
        s[0] = (69069 * seeds[k]) & 0xffffffffu;
        s[0] += s[0] < 2 ? 2 : 0;
        s[1] = (69069 * s[0]) & 0xffffffffu;
        s[1] += s[1] < 8 ? 8 : 0;
        s[2] = (69069 * s[1]) & 0xffffffffu;
        s[2] += s[2] < 16 ? 16 : 0;
        for (int i = 0; i < 6; i++) {
            gsl_rng_get(own);
        }
        draw(ref, a, DRAWS);
        draw(own, b, DRAWS);
        ck_assert_mem_eq(a, b, sizeof a);
    }
    gsl_rng_free(ref);
    gsl_rng_free(own);
}
END_TEST

/* Catches seeding that depends on anything but the inputs (the name's address, a counter). */
START_TEST(same_inputs_give_same_sequence)
{
    unsigned long a[DRAWS], b[DRAWS];
    char name[32];

    snprintf(name, sizeof name, "%s", "server_time");
    stream_draws(7, 3, "server_time", 2, a, DRAWS);
    stream_draws(7, 3, name, 2, b, DRAWS);
    ck_assert_mem_eq(a, b, sizeof a);
}
END_TEST

/* Catches shared state between streams: others created and drawn in between change nothing. */
START_TEST(other_streams_leave_a_sequence_unchanged)
{
    unsigned long alone[DRAWS], mixed[DRAWS], junk[DRAWS];
    gsl_rng *a, *others[3];

    stream_draws(7, 1, "arrivals", 0, alone, DRAWS);
    others[0] = rng_new(7, 1, "think_time", 0);
    a = rng_new(7, 1, "arrivals", 0);
    others[1] = rng_new(7, 1, "arrivals", 1);
    others[2] = rng_new(7, 1, "server_time", 5);
    for (size_t i = 0; i < DRAWS; i++) {
        draw(others[i % 3], junk, 1 + i % 5);
        mixed[i] = gsl_rng_get(a);
    }
    ck_assert_mem_eq(alone, mixed, sizeof alone);
    rng_free(a);
    for (size_t i = 0; i < 3; i++) {
        rng_free(others[i]);
    }
}
END_TEST

/* Catches an input left out of the key, or a seed truncated to 32 bits. */
START_TEST(each_input_changes_the_sequence)
{
    struct {
        uint64_t seed;
        uint32_t rep;
        const char *name;
        uint64_t entity;
    } v[] = {
        {7, 1, "arrivals", 0},          {8, 1, "arrivals", 0}, {7, 2, "arrivals", 0},
        {7, 1, "arrivals2", 0},         {7, 1, "arrivals", 1}, {7 + (1ull << 32), 1, "arrivals", 0},
        {7, 1, "arrivals", 1ull << 32},
    };
    size_t n = sizeof v / sizeof v[0];
    unsigned long x[sizeof v / sizeof v[0]][8];

    for (size_t i = 0; i < n; i++) {
        stream_draws(v[i].seed, v[i].rep, v[i].name, v[i].entity, x[i], 8);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            ck_assert_msg(memcmp(x[i], x[j], sizeof x[i]) != 0, "streams %zu and %zu agree", i, j);
            ck_assert_uint_ne(rng_key(v[i].seed, v[i].rep, v[i].name, v[i].entity),
                              rng_key(v[j].seed, v[j].rep, v[j].name, v[j].entity));
        }
    }
}
END_TEST

/*
 * Range of rng_uniform_pos.  An exact 0 from a plain [0, 1) uniform has
 * probability 2^-32 per draw, so this cannot catch that bug; it catches a
 * wrong scale or offset: values outside (0, 1), or a mean off by 0.006 or
 * more (3.3 standard errors of sqrt(1/12)/sqrt(n) at n = 10^5 is 0.003).
 */
START_TEST(uniform_pos_lies_in_open_interval)
{
    const int n = 100000;
    gsl_rng *r = rng_new(1, 1, "uniform", 0);
    double sum = 0;
    int outside = 0;

    for (int i = 0; i < n; i++) {
        double u = rng_uniform_pos(r);

        outside += !(u > 0 && u < 1);
        sum += u;
    }
    ck_assert_int_eq(outside, 0);
    ck_assert_double_eq_tol(sum / n, 0.5, TESTS_Z * sqrt(1.0 / 12 / n));
    rng_free(r);
    rng_free(NULL);
}
END_TEST

Suite *rng_suite(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tests_tcase(s, "rng", 10, "");

    tcase_add_test(tc, rng_key_matches_documented_formula);
    tcase_add_test(tc, stream_first_draws_are_pinned);
    tcase_add_test(tc, taus2_state_layout_is_gsls);
    tcase_add_test(tc, same_inputs_give_same_sequence);
    tcase_add_test(tc, other_streams_leave_a_sequence_unchanged);
    tcase_add_test(tc, each_input_changes_the_sequence);
    tcase_add_test(tc, uniform_pos_lies_in_open_interval);
    return s;
}

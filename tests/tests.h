/*
 * tests.h - shared by every Check suite.
 *
 * Each tests/check_<module>.c exports Suite *<module>_suite(void); the
 * Makefile lists them in suites.inc and check_main.c runs them all.
 * Test cases are tagged: "stat" marks the long statistical cases that
 * `make sanitize` and `make valgrind` skip (CK_EXCLUDE_TAGS=stat); untagged
 * cases are mechanism tests (exact scenarios, parsers, small runs).
 *
 * The statistical rule (README.md, "Statistical tests"): a fixed seed;
 * tolerance = 3.3 standard errors (99.9%); enough samples that the tolerance
 * is at most half the error the test must catch.
 */
#ifndef POOLSIM_TESTS_TESTS_H
#define POOLSIM_TESTS_TESTS_H

#include <check.h>

#define SUITE(name) Suite *name##_suite(void);
#include "suites.inc"
#undef SUITE

/* z of the two-sided 99.9% interval used by every statistical test. */
#define TESTS_Z 3.3

/* A test case with an explicit timeout (Check's default is 4 s) and tags ("" = mechanism). */
static inline TCase *tests_tcase(Suite *s, const char *name, double timeout_s, const char *tags)
{
    TCase *tc = tcase_create(name);

    tcase_set_timeout(tc, timeout_s);
    if (tags && tags[0]) {
        tcase_set_tags(tc, tags);
    }
    suite_add_tcase(s, tc);
    return tc;
}

#endif

/*
 * check_main.c - the one Check runner: runs every suite listed in suites.inc.
 * Honours Check's environment: CK_RUN_SUITE, CK_RUN_CASE, CK_EXCLUDE_TAGS,
 * CK_FORK, CK_TIMEOUT_MULTIPLIER, CK_VERBOSITY.
 */
#include <stdlib.h>

#include "tests/tests.h"

int main(void)
{
    SRunner *sr = srunner_create(NULL);
    int failed;

#define SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.inc"
#undef SUITE
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * fuzz_loader.c - libFuzzer harness for the whole experiment loader: the
 * reader (sim/json.c), the sweep expansion (sim/sweep.c) and the key ->
 * config mapping (models/config.c), exactly as `poolsim run` chains them.
 * Built by `make fuzz`; run by `make fuzz-run FUZZ_SECONDS=600`.
 *
 * Properties beyond "no crash, no leak, no hang": a rejected input always
 * has a one-line message; an accepted point's resolved configuration can be
 * printed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "models/config.h"
#include "sim/json.h"
#include "sim/sweep.h"

#define MAX_POINTS_TRIED 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(const struct err *e)
{
    char buf[ERR_FILE_MAX + ERR_PATH_MAX + ERR_MSG_MAX + 32];

    err_format(e, buf, sizeof buf);
    if (strchr(buf, '\n') || e->msg[0] == '\0') {
        abort();
    }
}

static void load_points(const struct sweep_plan *plan)
{
    for (size_t i = 0; i < plan->npoints && i < MAX_POINTS_TRIED; i++) {
        struct experiment x;
        struct err e;

        err_clear(&e);
        if (experiment_load(&x, plan->points[i].doc, "tests/fuzz", &e) != 0) {
            check_err(&e);
            continue;
        }
        cJSON *r = experiment_resolved(&x);
        char *text = cJSON_PrintUnformatted(r);

        if (!text) {
            abort();
        }
        free(text);
        cJSON_Delete(r);
        experiment_fini(&x);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cJSON *doc = NULL;
    struct sweep_plan plan;
    struct err e;

    err_clear(&e);
    if (json_parse("fuzz.json", (const char *)data, size, &doc, &e) != 0) {
        check_err(&e);
        return 0;
    }
    if (sweep_expand(doc, NULL, 0, &plan, &e) != 0) {
        check_err(&e);
    } else {
        load_points(&plan);
        sweep_plan_fini(&plan);
    }
    json_free(doc);
    return 0;
}

/*
 * rig.c - hand-built replications for exact tests (see rig.h).
 */
#include "tests/rig.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "sim/json.h"
#include "sim/xalloc.h"

void rig_up(struct rig *r, const char *json)
{
    struct cJSON *doc = NULL;
    struct err e;

    err_clear(&e);
    ck_assert_msg(json_parse("test.json", json, strlen(json), &doc, &e) == 0, "%d:%d %s", e.line,
                  e.col, e.msg);
    ck_assert_msg(experiment_load(&r->x, doc, ".", &e) == 0, "%s: %s", e.path, e.msg);
    json_free(doc);
    r->h = xcalloc(SER__COUNT, sizeof *r->h);
    for (int i = 0; i < SER__COUNT; i++) {
        hist_init(&r->h[i]);
    }
    scn_init(&r->s, &r->x, 1, r->h, false);
}

void rig_down(struct rig *r)
{
    scn_fini(&r->s);
    experiment_fini(&r->x);
    free(r->h);
}

void rig_load(struct rig *r, const char *names)
{
    struct page_config pg = {0};
    size_t idx[26];

    for (size_t i = 0; names[i] && i < 26; i++) {
        idx[i] = (size_t)(names[i] - 'a');
        pg.ncalls = i + 1;
    }
    pg.endpoints = idx;
    pg.weight = 1;
    app_load_page(&r->s.app, &pg, 0, NULL, NULL);
}

void rig_run_to(struct rig *r, sim_time t)
{
    sim_run_until(r->s.sim, t);
}

sim_time rig_only_latency(const struct rig *r, int ser)
{
    ck_assert_uint_eq(r->h[ser].n, 1);
    ck_assert_int_eq(r->h[ser].min, r->h[ser].max);
    return r->h[ser].min;
}

void rig_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *ent;
    char sub[512];

    if (!d) {
        unlink(path);
        return;
    }
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0) {
            snprintf(sub, sizeof sub, "%s/%s", path, ent->d_name);
            rig_remove_tree(sub);
        }
    }
    closedir(d);
    rmdir(path);
}

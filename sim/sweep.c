/*
 * sweep.c - expand an experiment document into its points (see sweep.h and
 * DESIGN.md §4 "Sweeps and variants").
 *
 * Point index = variant * (product of the sweep axes' lengths) + the mixed-
 * radix number of the axes' value indices, the last axis varying fastest.
 * Overrides are applied in precedence order, lowest first: variant, sweep,
 * --set (the file's own values are the base; defaults come later, from the
 * model).  Messages name the offending key as a JSON path such as
 * $.sweep.workload\.users.
 */
#include "sim/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/json.h"
#include "sim/out.h"
#include "sim/xalloc.h"

struct axis {
    struct json_at key_at; /* the sweep member (its value: the list) */
    size_t npaths;         /* paths zipped by "|" */
    char **paths;          /* owned */
    size_t nvalues;        /* length of the list */
};

struct expansion {
    struct json_at variants; /* object, or node NULL */
    size_t nvariants;        /* >= 1 */
    struct axis *axes;       /* owned */
    size_t naxes;
};

/* Split "a|b|c" into owned paths; empty parts are an error. */
static int split_paths(const char *key, const char *path, struct axis *ax, struct err *e)
{
    const char *p = key;

    ax->npaths = 1;
    for (const char *q = key; *q; q++) {
        ax->npaths += *q == '|';
    }
    ax->paths = xcalloc(ax->npaths, sizeof *ax->paths);
    for (size_t i = 0; i < ax->npaths; i++) {
        size_t n = strcspn(p, "|");

        if (n == 0) {
            err_at(e, path, "empty path in sweep key \"%s\"", key);
            return -1;
        }
        ax->paths[i] = xmalloc(n + 1);
        memcpy(ax->paths[i], p, n);
        ax->paths[i][n] = '\0';
        p += n + 1;
    }
    return 0;
}

static int check_axis_values(const struct axis *ax, struct err *e)
{
    struct json_at v;

    if (!json_is_array(&ax->key_at) || json_size(&ax->key_at) == 0) {
        err_at(e, ax->key_at.path, "must be a non-empty list of values, got %s",
               json_is_array(&ax->key_at) ? "an empty list" : json_type_name(&ax->key_at));
        return -1;
    }
    for (size_t i = 0; ax->npaths > 1 && i < ax->nvalues; i++) {
        json_child(&ax->key_at, i, &v, NULL);
        if (!json_is_array(&v) || json_size(&v) != ax->npaths) {
            err_at(e, v.path, "must be a list of %zu values, one per zipped path", ax->npaths);
            return -1;
        }
    }
    return 0;
}

static int read_axes(struct expansion *x, const struct json_at *root, struct err *e)
{
    struct json_at sw;
    const char *key;

    if (!json_get(root, "sweep", &sw)) {
        return 0;
    }
    if (json_expect_object(&sw, e) != 0) {
        return -1;
    }
    x->axes = xcalloc(json_size(&sw) ? json_size(&sw) : 1, sizeof *x->axes);
    for (size_t i = 0; i < json_size(&sw); i++) {
        struct axis *ax = &x->axes[i];

        json_child(&sw, i, &ax->key_at, &key);
        x->naxes = i + 1;
        ax->nvalues = json_size(&ax->key_at);
        if (split_paths(key, ax->key_at.path, ax, e) != 0 || check_axis_values(ax, e) != 0) {
            return -1;
        }
    }
    return 0;
}

static int read_variants(struct expansion *x, const struct json_at *root, struct err *e)
{
    struct json_at v;

    x->nvariants = 1;
    x->variants.node = NULL;
    if (!json_get(root, "variants", &x->variants)) {
        return 0;
    }
    if (json_expect_object(&x->variants, e) != 0) {
        return -1;
    }
    if (json_size(&x->variants) == 0) {
        err_at(e, x->variants.path, "must name at least one variant");
        return -1;
    }
    for (size_t i = 0; i < json_size(&x->variants); i++) {
        json_child(&x->variants, i, &v, NULL);
        if (json_expect_object(&v, e) != 0) {
            return -1;
        }
    }
    x->nvariants = json_size(&x->variants);
    return 0;
}

static void add_override(struct sweep_point *p, const char *path, enum sweep_source src)
{
    p->overrides = xrealloc(p->overrides, (p->noverrides + 1) * sizeof *p->overrides);
    p->overrides[p->noverrides].path = xstrdup(path);
    p->overrides[p->noverrides].source = src;
    p->noverrides++;
}

/* Set path to value in the point's document; errors point at where the override was written. */
static int apply(struct sweep_point *p, const char *path, const struct cJSON *value,
                 enum sweep_source src, const char *where, struct err *e)
{
    struct err sub;

    err_clear(&sub);
    if (json_set_path(p->doc, path, value, &sub) != 0) {
        err_at(e, where, "cannot set \"%s\": %s", path, sub.msg);
        return -1;
    }
    add_override(p, path, src);
    return 0;
}

static int apply_variant(struct sweep_point *p, const struct expansion *x, size_t v, struct err *e)
{
    struct json_at set, val;
    const char *name, *path;

    json_child(&x->variants, v, &set, &name);
    p->variant = xstrdup(name);
    for (size_t i = 0; i < json_size(&set); i++) {
        json_child(&set, i, &val, &path);
        if (apply(p, path, val.node, SWEEP_SRC_VARIANT, val.path, e) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Apply axis ax's value k; append its printed values to p->values from column col. */
static int apply_axis(struct sweep_point *p, const struct axis *ax, size_t k, size_t col,
                      struct err *e)
{
    struct json_at v, part;

    json_child(&ax->key_at, k, &v, NULL);
    for (size_t i = 0; i < ax->npaths; i++) {
        part = v;
        if (ax->npaths > 1) {
            json_child(&v, i, &part, NULL);
        }
        p->values[col + i] = json_print(part.node);
        if (apply(p, ax->paths[i], part.node, SWEEP_SRC_SWEEP, part.path, e) != 0) {
            return -1;
        }
    }
    return 0;
}

static int apply_sets(struct sweep_point *p, const struct sweep_set *sets, size_t nsets,
                      struct err *e)
{
    for (size_t i = 0; i < nsets; i++) {
        struct cJSON *v = json_value_from_arg(sets[i].value);
        char where[JSON_PATH_MAX];
        int r;

        snprintf(where, sizeof where, "--set %s", sets[i].path);
        r = apply(p, sets[i].path, v, SWEEP_SRC_SET, where, e);
        json_free(v);
        if (r != 0) {
            return -1;
        }
    }
    return 0;
}

/* `variant "x", a.b=1, c=2` */
static void make_label(struct sweep_point *p, const struct sweep_plan *plan)
{
    char buf[1024];
    size_t n = 0;

    buf[0] = '\0';
    if (p->variant) {
        n += (size_t)snprintf(buf, sizeof buf, "variant \"%s\"", p->variant);
    }
    for (size_t i = 0; i < plan->ncolumns && n < sizeof buf; i++) {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s=%s", n ? ", " : "", plan->columns[i],
                              p->values[i]);
    }
    p->label = xstrdup(buf);
}

static int build_point(struct sweep_plan *plan, const struct expansion *x, size_t idx,
                       const struct sweep_set *sets, size_t nsets, struct err *e)
{
    struct sweep_point *p = &plan->points[idx];
    size_t rest = idx, col = plan->ncolumns, per_variant = plan->npoints / x->nvariants;

    p->index = idx;
    p->values = xcalloc(plan->ncolumns ? plan->ncolumns : 1, sizeof *p->values);
    p->doc = json_dup(plan->file_doc);
    if (x->variants.node && apply_variant(p, x, idx / per_variant, e) != 0) {
        return -1;
    }
    rest = idx % per_variant;
    for (size_t a = x->naxes; a-- > 0;) {
        const struct axis *ax = &x->axes[a];

        col -= ax->npaths;
        if (apply_axis(p, ax, rest % ax->nvalues, col, e) != 0) {
            return -1;
        }
        rest /= ax->nvalues;
    }
    if (apply_sets(p, sets, nsets, e) != 0) {
        return -1;
    }
    make_label(p, plan);
    return 0;
}

/* A column is a duration column if every value is a string with a time unit. */
static void find_duration_columns(struct sweep_plan *plan)
{
    struct err scratch;

    for (size_t c = 0; c < plan->ncolumns; c++) {
        int all = 1;

        for (size_t i = 0; i < plan->npoints && all; i++) {
            const char *v = plan->points[i].values[c];
            size_t n = strlen(v);
            char buf[128];
            sim_time t;

            all = n >= 3 && n < sizeof buf && v[0] == '"' && v[n - 1] == '"';
            if (all) {
                snprintf(buf, sizeof buf, "%.*s", (int)(n - 2), v + 1);
                all = json_parse_duration(buf, &t, &scratch) == 0;
            }
        }
        plan->column_is_duration[c] = all;
    }
}

static void plan_columns(struct sweep_plan *plan, const struct expansion *x)
{
    size_t n = 0;

    for (size_t a = 0; a < x->naxes; a++) {
        plan->ncolumns += x->axes[a].npaths;
    }
    plan->columns = xcalloc(plan->ncolumns ? plan->ncolumns : 1, sizeof *plan->columns);
    plan->column_is_duration = xcalloc(plan->ncolumns ? plan->ncolumns : 1, sizeof(int));
    for (size_t a = 0; a < x->naxes; a++) {
        for (size_t i = 0; i < x->axes[a].npaths; i++) {
            plan->columns[n++] = xstrdup(x->axes[a].paths[i]);
        }
    }
}

static void expansion_fini(struct expansion *x)
{
    for (size_t a = 0; a < x->naxes; a++) {
        for (size_t i = 0; i < x->axes[a].npaths; i++) {
            free(x->axes[a].paths[i]);
        }
        free(x->axes[a].paths);
    }
    free(x->axes);
}

#define MAX_POINTS 10000000

int sweep_expand(const struct cJSON *root, const struct sweep_set *sets, size_t nsets,
                 struct sweep_plan *plan, struct err *e)
{
    struct expansion x = {0};
    struct json_at r;
    int rc = -1;

    memset(plan, 0, sizeof *plan);
    json_root(root, &r);
    if (json_expect_object(&r, e) != 0 || read_variants(&x, &r, e) != 0 ||
        read_axes(&x, &r, e) != 0) {
        goto out;
    }
    plan->npoints = x.nvariants;
    for (size_t a = 0; a < x.naxes; a++) {
        if (plan->npoints > MAX_POINTS / x.axes[a].nvalues) {
            err_at(e, "$.sweep", "more than %d points", MAX_POINTS);
            goto out;
        }
        plan->npoints *= x.axes[a].nvalues;
    }
    plan->has_variants = x.variants.node != NULL;
    plan_columns(plan, &x);
    plan->file_doc = json_dup(root);
    json_remove_key(plan->file_doc, "sweep");
    json_remove_key(plan->file_doc, "variants");
    plan->points = xcalloc(plan->npoints, sizeof *plan->points);
    for (size_t i = 0; i < plan->npoints; i++) {
        if (build_point(plan, &x, i, sets, nsets, e) != 0) {
            goto out;
        }
    }
    find_duration_columns(plan);
    rc = 0;
out:
    expansion_fini(&x);
    if (rc != 0) {
        sweep_plan_fini(plan);
    }
    return rc;
}

void sweep_plan_fini(struct sweep_plan *plan)
{
    for (size_t i = 0; plan->points && i < plan->npoints; i++) {
        struct sweep_point *p = &plan->points[i];

        for (size_t c = 0; p->values && c < plan->ncolumns; c++) {
            free(p->values[c]);
        }
        for (size_t k = 0; k < p->noverrides; k++) {
            free(p->overrides[k].path);
        }
        free(p->values);
        free(p->overrides);
        free(p->variant);
        free(p->label);
        json_free(p->doc);
    }
    for (size_t c = 0; c < plan->ncolumns; c++) {
        free(plan->columns[c]);
    }
    free(plan->points);
    free(plan->columns);
    free(plan->column_is_duration);
    json_free(plan->file_doc);
    memset(plan, 0, sizeof *plan);
}

/* ---- for the commands: sources and errors of a point ---- */

const char *sweep_source_name(enum sweep_source s)
{
    switch (s) {
    case SWEEP_SRC_FILE:
        return "file";
    case SWEEP_SRC_VARIANT:
        return "variant";
    case SWEEP_SRC_SWEEP:
        return "sweep";
    case SWEEP_SRC_SET:
        return "--set";
    case SWEEP_SRC_URL:
        return "url";
    }
    return "?";
}

struct cJSON *sweep_sources(const struct sweep_plan *plan, const struct sweep_point *p,
                            const struct cJSON *resolved)
{
    const char **paths = xcalloc(p->noverrides + 1, sizeof *paths);
    const char **srcs = xcalloc(p->noverrides + 1, sizeof *srcs);
    struct cJSON *out;

    for (size_t i = 0; i < p->noverrides; i++) {
        paths[i] = p->overrides[i].path;
        srcs[i] = sweep_source_name(p->overrides[i].source);
    }
    out = json_sources(resolved, plan->file_doc, paths, srcs, p->noverrides);
    free(paths);
    free(srcs);
    return out;
}

void sweep_point_error(const struct sweep_plan *plan, size_t i, const char *file, struct err *e)
{
    const struct sweep_point *pt = &plan->points[i];
    struct out_buf b;

    if (!e->file[0]) {
        err_set_file(e, file);
    }
    if (plan->npoints == 1 && !plan->has_variants && plan->ncolumns == 0) {
        return;
    }
    out_buf_init(&b);
    out_buf_printf(&b, "point %zu (%s)", pt->index, pt->label ? pt->label : "");
    if (e->line > 0) {
        /* file:line:col leads (a file the point names): the point goes before the message. */
        out_buf_printf(&b, ": %s", e->msg);
        err_set(e, "%s", b.data);
    } else {
        /* "FILE: point 7 (label): $.a.b: message" through err_format's path slot. */
        if (e->path[0]) {
            out_buf_printf(&b, ": %s", e->path);
        }
        snprintf(e->path, sizeof e->path, "%s", b.data);
    }
    out_buf_fini(&b);
}

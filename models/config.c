/*
 * config.c - experiment keys -> config structs (DESIGN.md §4).
 *
 * The only models/ file that sees JSON.  Every object's keys are checked
 * against the keys that exist (unknown keys are errors, naming the ones that
 * would be accepted); every value is read with its unit rule (a bare number
 * only where DESIGN.md §4 allows it, in the real software's unit) and range.
 * Defaults come from each model's *_config_default, i.e. from the real
 * software (reference/domain.md).  Keys of later features are not accepted
 * until their behaviour exists: an accepted key always has an effect.
 */
#include "models/config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "models/dburl.h"
#include "models/metrics.h"
#include "sim/json.h"
#include "sim/xalloc.h"

#define MAX_COUNT INT64_C(1000000000)
#define MAX_TIME SIM_S(86400 * 365) /* a year */

/* ---- optional keys: absent leaves *out as it is ---- */

static int opt_int(const struct json_at *o, const char *key, int64_t lo, int64_t hi, int64_t *out,
                   struct err *e)
{
    struct json_at v;

    return json_get(o, key, &v) ? json_int(&v, lo, hi, out, e) : 0;
}

static int opt_double(const struct json_at *o, const char *key, double lo, double hi, double *out,
                      struct err *e)
{
    struct json_at v;

    return json_get(o, key, &v) ? json_double(&v, lo, hi, out, e) : 0;
}

static int opt_bool(const struct json_at *o, const char *key, bool *out, struct err *e)
{
    struct json_at v;

    return json_get(o, key, &v) ? json_bool(&v, out, e) : 0;
}

static int opt_dur(const struct json_at *o, const char *key, enum json_bare bare, sim_time *out,
                   struct err *e)
{
    struct json_at v;

    return json_get(o, key, &v) ? json_duration(&v, bare, 0, MAX_TIME, out, e) : 0;
}

static int opt_enum(const struct json_at *o, const char *key, const char *const *names, int *out,
                    struct err *e)
{
    struct json_at v;

    return json_get(o, key, &v) ? json_enum(&v, names, out, e) : 0;
}

/* An optional object member: 1 and *out if present (and an object), 0 if absent, -1 on error. */
static int opt_object(const struct json_at *o, const char *key, const char *const *allowed,
                      struct json_at *out, struct err *e)
{
    if (!json_get(o, key, out)) {
        return 0;
    }
    if (json_expect_object(out, e) != 0 || json_check_keys(out, allowed, e) != 0) {
        return -1;
    }
    return 1;
}

/* ---- top level ---- */

static const char *const top_keys[] = {
    "name", "description", "seed",   "replications", "warmup",  "duration",  "requests", "workload",
    "app",  "client_pool", "pooler", "postgres",     "network", "precision", NULL};

static int load_run(struct experiment *x, const struct json_at *root, struct err *e)
{
    struct json_at v;
    int64_t n = 1;
    const char *name = "experiment";

    if (json_get(root, "name", &v) && json_string(&v, &name, e) != 0) {
        return -1;
    }
    x->name = xstrdup(name);
    if (json_get(root, "description", &v) && json_string(&v, &name, e) != 0) {
        return -1;
    }
    n = 1;
    if (opt_int(root, "seed", 0, INT64_C(9007199254740991), &n, e) != 0) {
        return -1;
    }
    x->seed = (uint64_t)n;
    n = 1;
    if (opt_int(root, "replications", 1, 100000, &n, e) != 0) {
        return -1;
    }
    x->replications = (uint32_t)n;
    return opt_dur(root, "warmup", JSON_BARE_NONE, &x->warmup, e);
}

static int load_length(struct experiment *x, const struct json_at *root, struct err *e)
{
    struct json_at d, r;
    int has_d = json_get(root, "duration", &d), has_r = json_get(root, "requests", &r);
    int64_t n;

    if (has_d && has_r) {
        err_at(e, r.path, "give either \"duration\" or \"requests\", not both");
        return -1;
    }
    if (has_r) {
        if (json_int(&r, 1, INT64_C(1000000000000), &n, e) != 0) {
            return -1;
        }
        x->requests = (uint64_t)n;
        return 0;
    }
    if (!has_d) {
        err_at(e, root->path, "missing key \"duration\" (or \"requests\")");
        return -1;
    }
    return json_duration(&d, JSON_BARE_NONE, 1, MAX_TIME, &x->duration, e);
}

/* ---- precision (after load_run: it reads replications) ---- */

static const char *const precision_keys[] = {"metric", "relative", "max_replications", NULL};

/* The index of an averaged metric column named by at; -1 with e set otherwise. */
static int precision_metric(const struct json_at *at, size_t *out, struct err *e)
{
    size_t n;
    const struct runner_metric *cols = metrics_columns(&n);
    const char *name;

    if (json_string(at, &name, e) != 0) {
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        if (strcmp(cols[k].name, name) == 0 && cols[k].agg == RUNNER_AGG_MEAN) {
            *out = k;
            return 0;
        }
        if (strcmp(cols[k].name, name) == 0) {
            err_at(e, at->path,
                   "\"%s\" is a maximum over replications, with no confidence interval: name "
                   "a metric that has a _ci column (e.g. \"latency_p99_ms\")",
                   name);
            return -1;
        }
    }
    err_at(e, at->path,
           "unknown metric \"%s\": name a points.csv metric that has a _ci column (e.g. "
           "\"latency_p99_ms\", \"error_rate\", \"throughput_rps\")",
           name);
    return -1;
}

/* max_replications (default 50): at least the replications a point starts with. */
static int precision_max(struct precision_config *pc, const struct json_at *o, uint32_t least,
                         struct err *e)
{
    struct json_at v;
    int64_t n = 50;

    if (opt_int(o, "max_replications", 1, 100000, &n, e) != 0) {
        return -1;
    }
    if (n < least) {
        if (json_get(o, "max_replications", &v)) {
            err_at(e, v.path, "must be at least replications (%u) and at least 2 (got %lld)", least,
                   (long long)n);
        } else {
            err_at(e, o->path, "max_replications (default 50) must be at least replications (%u)",
                   least);
        }
        return -1;
    }
    pc->max_replications = (uint32_t)n;
    return 0;
}

static int load_precision(struct experiment *x, const struct json_at *root, struct err *e)
{
    struct precision_config *pc = &x->precision;
    uint32_t least = x->replications > 2 ? x->replications : 2;
    struct json_at o, v;
    int has = opt_object(root, "precision", precision_keys, &o, e);

    if (has <= 0) {
        return has;
    }
    for (size_t i = 0; i < 2; i++) {
        if (!json_get(&o, precision_keys[i], &v)) {
            err_at(e, o.path, "missing key \"%s\"", precision_keys[i]);
            return -1;
        }
    }
    json_get(&o, "metric", &v);
    if (precision_metric(&v, &pc->metric, e) != 0) {
        return -1;
    }
    json_get(&o, "relative", &v);
    if (json_double(&v, 0, 1, &pc->relative, e) != 0) {
        return -1;
    }
    if (pc->relative <= 0 || pc->relative >= 1) {
        err_at(e, v.path, "must be between 0 and 1, both excluded (got %g): 0.05 asks for +-5%%",
               pc->relative);
        return -1;
    }
    if (precision_max(pc, &o, least, e) != 0) {
        return -1;
    }
    pc->enabled = true;
    x->replications = least; /* a half-width needs two replications */
    return 0;
}

/* ---- app and endpoints ---- */

static const char *const op_types[] = {"query",    "transaction", "interactive",
                                       "parallel", "app",         NULL};
static const char *const query_keys[] = {"type", "statements", "server_time", NULL};
static const char *const interactive_keys[] = {"type",    "statements", "server_time", "think_time",
                                               "maxWait", "timeout",    NULL};
static const char *const parallel_keys[] = {"type", "operations", NULL};
static const char *const app_op_keys[] = {"type", "time", NULL};
/* The keys of each operation type, in enum op_type order. */
static const char *const *const op_keys[] = {query_keys, query_keys, interactive_keys,
                                             parallel_keys, app_op_keys};

/* Where an operation is: its endpoint (whose counters it advances) and position (i, or i.j). */
struct op_site {
    struct endpoint_config *ep;
    const char *base_dir;
    size_t i, j; /* operation i; its sub-operation j when nested */
    bool nested;
};

/* "purpose:endpoint:i", or "purpose:endpoint:i.j" inside a parallel operation. */
static char *op_stream(const char *purpose, const struct op_site *site)
{
    char buf[512];

    if (site->nested) {
        snprintf(buf, sizeof buf, "%s:%s:%zu.%zu", purpose, site->ep->name, site->i, site->j);
    } else {
        snprintf(buf, sizeof buf, "%s:%s:%zu", purpose, site->ep->name, site->i);
    }
    return xstrdup(buf);
}

static int req_get(const struct json_at *at, const char *key, struct json_at *v, struct err *e)
{
    if (json_get(at, key, v)) {
        return 0;
    }
    err_at(e, at->path, "missing key \"%s\"", key);
    return -1;
}

static int req_dist(const struct json_at *at, const char *key, const char *base_dir, struct dist *d,
                    struct err *e)
{
    struct json_at v;

    return req_get(at, key, &v, e) != 0 ? -1 : json_dist(&v, base_dir, d, e);
}

/* maxWait and timeout: Prisma's names, bare numbers in milliseconds, > 0. */
static int load_tx_limits(struct op_config *op, const struct json_at *at, struct err *e)
{
    struct json_at v;

    op->max_wait = SIM_MS(2000);
    op->tx_timeout = SIM_MS(5000);
    if (json_get(at, "maxWait", &v) &&
        json_duration(&v, JSON_BARE_MS, 1, MAX_TIME, &op->max_wait, e) != 0) {
        return -1;
    }
    if (json_get(at, "timeout", &v) &&
        json_duration(&v, JSON_BARE_MS, 1, MAX_TIME, &op->tx_timeout, e) != 0) {
        return -1;
    }
    return 0;
}

/* query, transaction, interactive: statements on one connection. */
static int load_db_op(struct op_config *op, const struct json_at *at, const struct op_site *site,
                      struct err *e)
{
    struct json_at v;

    op->statements = 1;
    if (opt_int(at, "statements", 1, 100000, &op->statements, e) != 0 ||
        req_dist(at, "server_time", site->base_dir, &op->server_time, e) != 0) {
        return -1;
    }
    op->stream = op_stream("server_time", site);
    op->ndraws = (size_t)op->statements;
    if (op->type != OP_INTERACTIVE) {
        return 0;
    }
    dist_init_const(&op->think_time, 0);
    if (json_get(at, "think_time", &v) && json_dist(&v, site->base_dir, &op->think_time, e) != 0) {
        return -1;
    }
    op->think_stream = op_stream("think_time", site);
    op->ndraws += (size_t)op->statements - 1; /* a think time between two statements */
    return load_tx_limits(op, at, e);
}

static int load_op(struct op_config *op, const struct json_at *at, const struct op_site *site,
                   struct err *e);

/* The non-empty "operations" list of an endpoint or a parallel operation. */
static int get_operations(const struct json_at *at, struct json_at *ops, struct err *e)
{
    if (!json_get(at, "operations", ops)) {
        err_at(e, at->path, "missing key \"operations\"");
        return -1;
    }
    if (json_expect_array(ops, e) != 0) {
        return -1;
    }
    if (json_size(ops) == 0) {
        err_at(e, ops->path, "must list at least one operation");
        return -1;
    }
    return 0;
}

/* parallel: Promise.all over its sub-operations. */
static int load_parallel(struct op_config *op, const struct json_at *at, const struct op_site *site,
                         struct err *e)
{
    struct json_at ops, sub;
    struct op_site s = *site;

    if (get_operations(at, &ops, e) != 0) {
        return -1;
    }
    op->subs = xcalloc(json_size(&ops), sizeof *op->subs);
    op->first_draw = site->ep->ndraws;
    for (size_t i = 0; i < json_size(&ops); i++) {
        json_child(&ops, i, &sub, NULL);
        op->nsubs = i + 1;
        s.j = i;
        s.nested = true;
        if (load_op(&op->subs[i], &sub, &s, e) != 0) {
            return -1;
        }
    }
    op->ndraws = site->ep->ndraws - op->first_draw;
    return 0;
}

static int load_op_type(struct op_config *op, const struct json_at *at, bool nested, struct err *e)
{
    struct json_at v;
    int type = 0;

    if (json_expect_object(at, e) != 0) {
        return -1;
    }
    if (!json_get(at, "type", &v)) {
        err_at(e, at->path,
               "missing key \"type\" (expected \"query\", \"transaction\", "
               "\"interactive\", \"parallel\" or \"app\")");
        return -1;
    }
    if (json_enum(&v, op_types, &type, e) != 0) {
        return -1;
    }
    if (nested && type == OP_PARALLEL) {
        err_at(e, v.path,
               "a parallel operation inside another one: list its operations in the "
               "outer one (Promise.all of Promise.all runs the same)");
        return -1;
    }
    op->type = (enum op_type)type;
    return json_check_keys(at, op_keys[type], e);
}

static int load_op(struct op_config *op, const struct json_at *at, const struct op_site *site,
                   struct err *e)
{
    struct endpoint_config *ep = site->ep;
    int r;

    if (load_op_type(op, at, site->nested, e) != 0) {
        return -1;
    }
    if (op->type == OP_PARALLEL) {
        return load_parallel(op, at, site, e);
    }
    if (op->type == OP_APP) {
        r = req_dist(at, "time", site->base_dir, &op->time, e);
        op->stream = op_stream("app_time", site);
        op->ndraws = 1;
    } else {
        r = load_db_op(op, at, site, e);
    }
    op->leaf = ep->nleaves++;
    op->first_draw = ep->ndraws;
    ep->ndraws += op->ndraws;
    return r;
}

static const char *const endpoint_keys[] = {"operations", NULL};

static int load_endpoint(struct endpoint_config *ep, const struct json_at *at, const char *base_dir,
                         struct err *e)
{
    struct json_at ops, op;
    struct op_site site = {ep, base_dir, 0, 0, false};

    if (json_expect_object(at, e) != 0 || json_check_keys(at, endpoint_keys, e) != 0) {
        return -1;
    }
    if (get_operations(at, &ops, e) != 0) {
        return -1;
    }
    ep->ops = xcalloc(json_size(&ops), sizeof *ep->ops);
    for (size_t i = 0; i < json_size(&ops); i++) {
        json_child(&ops, i, &op, NULL);
        ep->nops = i + 1;
        site.i = i;
        if (load_op(&ep->ops[i], &op, &site, e) != 0) {
            return -1;
        }
    }
    return 0;
}

static int load_endpoints(struct app_config *app, const struct json_at *at, const char *base_dir,
                          struct err *e)
{
    struct json_at ep;
    const char *key;

    if (json_expect_object(at, e) != 0) {
        return -1;
    }
    if (json_size(at) == 0) {
        err_at(e, at->path, "must define at least one endpoint");
        return -1;
    }
    app->endpoints = xcalloc(json_size(at), sizeof *app->endpoints);
    for (size_t i = 0; i < json_size(at); i++) {
        json_child(at, i, &ep, &key);
        app->nendpoints = i + 1;
        app->endpoints[i].name = xstrdup(key);
        if (load_endpoint(&app->endpoints[i], &ep, base_dir, e) != 0) {
            return -1;
        }
    }
    return 0;
}

static const char *const retry_keys[] = {"attempts", "backoff", "jitter", NULL};

static int load_retry(struct retry_config *r, const struct json_at *app, struct err *e)
{
    struct json_at at, v;
    int has = opt_object(app, "retry", retry_keys, &at, e);

    if (has <= 0) {
        return has;
    }
    if (!json_get(&at, "attempts", &v)) {
        err_at(e, at.path, "missing key \"attempts\" (tries, the first included)");
        return -1;
    }
    if (json_int(&v, 1, 1000, &r->attempts, e) != 0 ||
        opt_dur(&at, "backoff", JSON_BARE_NONE, &r->backoff, e) != 0 ||
        opt_dur(&at, "jitter", JSON_BARE_NONE, &r->jitter, e) != 0) {
        return -1;
    }
    return dist_init_uniform(&r->jitter_dist, 0, r->jitter, at.path, e);
}

static const char *const cache_keys[] = {"hit_ratio", "latency", NULL};

static int load_cache(struct cache_config *c, const struct json_at *app, const char *base_dir,
                      struct err *e)
{
    struct json_at at, v;
    int has = opt_object(app, "cache", cache_keys, &at, e);

    if (has <= 0) {
        return has;
    }
    c->enabled = true;
    if (req_get(&at, "hit_ratio", &v, e) != 0 || json_double(&v, 0, 1, &c->hit_ratio, e) != 0) {
        return -1;
    }
    return json_get(&at, "latency", &v) ? json_dist(&v, base_dir, &c->latency, e) : 0;
}

static const char *const serverless_keys[] = {"max_instances", "concurrency", "cold_start",
                                              "idle_timeout",  "freeze",      NULL};

static int load_serverless(struct serverless_config *c, const struct json_at *app,
                           const char *base_dir, struct err *e)
{
    struct json_at at, v;
    int has = opt_object(app, "serverless", serverless_keys, &at, e);

    if (has <= 0) {
        return has;
    }
    c->enabled = true;
    if (req_get(&at, "max_instances", &v, e) != 0 ||
        json_int(&v, 1, 1000000, &c->max_instances, e) != 0 ||
        opt_int(&at, "concurrency", 1, 1000000, &c->concurrency, e) != 0 ||
        req_dist(&at, "cold_start", base_dir, &c->cold_start, e) != 0 ||
        req_get(&at, "idle_timeout", &v, e) != 0 ||
        json_duration(&v, JSON_BARE_NONE, 0, MAX_TIME, &c->idle_timeout, e) != 0 ||
        opt_bool(&at, "freeze", &c->freeze, e) != 0) {
        return -1;
    }
    if (json_get(app, "instances", &v)) {
        err_at(e, v.path, "does not apply with \"serverless\" (instances start on demand)");
        return -1;
    }
    return 0;
}

static const char *const app_keys[] = {
    "instances", "clients", "cores",      "request_timeout", "connection_per_request",
    "retry",     "cache",   "serverless", "endpoints",       NULL};

static void app_defaults(struct app_config *app)
{
    app->instances = 1;
    app->clients = 1;
    app->cores = 2;
    app->request_timeout = 0;
    app->connection_per_request = false;
    app->retry.attempts = 1;
    dist_init_const(&app->retry.jitter_dist, 0);
    dist_init_const(&app->cache.latency, 0);
    app->serverless.concurrency = 1;
    app->serverless.freeze = true;
    dist_init_const(&app->serverless.cold_start, 0);
}

static int load_app(struct app_config *app, const struct json_at *root, const char *base_dir,
                    struct err *e)
{
    struct json_at at, eps;
    int r = opt_object(root, "app", app_keys, &at, e);

    app_defaults(app);
    if (r <= 0) {
        if (r == 0) {
            err_at(e, root->path, "missing key \"app\" (its \"endpoints\" are required)");
        }
        return -1;
    }
    if (opt_int(&at, "instances", 1, 100000, &app->instances, e) != 0 ||
        opt_int(&at, "clients", 1, 10000, &app->clients, e) != 0 ||
        opt_int(&at, "cores", 1, 4096, &app->cores, e) != 0 ||
        opt_dur(&at, "request_timeout", JSON_BARE_NONE, &app->request_timeout, e) != 0 ||
        opt_bool(&at, "connection_per_request", &app->connection_per_request, e) != 0 ||
        load_retry(&app->retry, &at, e) != 0 || load_cache(&app->cache, &at, base_dir, e) != 0 ||
        load_serverless(&app->serverless, &at, base_dir, e) != 0) {
        return -1;
    }
    if (!json_get(&at, "endpoints", &eps)) {
        err_at(e, at.path, "missing key \"endpoints\"");
        return -1;
    }
    return load_endpoints(app, &eps, base_dir, e);
}

static void op_fini(struct op_config *op)
{
    for (size_t i = 0; i < op->nsubs; i++) {
        op_fini(&op->subs[i]);
    }
    free(op->subs);
    dist_fini(&op->server_time);
    dist_fini(&op->think_time);
    dist_fini(&op->time);
    free(op->stream);
    free(op->think_stream);
}

static void app_config_fini(struct app_config *app)
{
    for (size_t i = 0; i < app->nendpoints; i++) {
        struct endpoint_config *ep = &app->endpoints[i];

        for (size_t j = 0; j < ep->nops; j++) {
            op_fini(&ep->ops[j]);
        }
        free(ep->ops);
        free(ep->name);
    }
    free(app->endpoints);
    dist_fini(&app->retry.jitter_dist);
    dist_fini(&app->cache.latency);
    dist_fini(&app->serverless.cold_start);
}

/* ---- workload ---- */

static int find_endpoint(const struct app_config *app, const struct json_at *at, size_t *out,
                         struct err *e)
{
    const char *name;

    if (json_string(at, &name, e) != 0) {
        return -1;
    }
    for (size_t i = 0; i < app->nendpoints; i++) {
        if (strcmp(app->endpoints[i].name, name) == 0) {
            *out = i;
            return 0;
        }
    }
    err_at(e, at->path, "unknown endpoint \"%s\" (not defined in app.endpoints)", name);
    return -1;
}

/* A list of endpoint names issued at once. */
static int load_call_list(struct page_config *pg, const struct app_config *app,
                          const struct json_at *at, struct err *e)
{
    struct json_at v;

    if (json_expect_array(at, e) != 0) {
        return -1;
    }
    if (json_size(at) == 0) {
        err_at(e, at->path, "must list at least one endpoint");
        return -1;
    }
    pg->endpoints = xcalloc(json_size(at), sizeof *pg->endpoints);
    for (size_t i = 0; i < json_size(at); i++) {
        json_child(at, i, &v, NULL);
        if (find_endpoint(app, &v, &pg->endpoints[i], e) != 0) {
            return -1;
        }
        pg->ncalls = i + 1;
    }
    return 0;
}

static const char *const page_keys[] = {"endpoints", "weight", NULL};

static int load_pages(struct workload_config *wl, const struct app_config *app,
                      const struct json_at *at, struct err *e)
{
    struct json_at pg, v;
    const char *key;

    if (json_expect_object(at, e) != 0) {
        return -1;
    }
    if (json_size(at) == 0) {
        err_at(e, at->path, "must define at least one page");
        return -1;
    }
    wl->pages = xcalloc(json_size(at), sizeof *wl->pages);
    for (size_t i = 0; i < json_size(at); i++) {
        struct page_config *p = &wl->pages[i];

        json_child(at, i, &pg, &key);
        wl->npages = i + 1;
        p->name = xstrdup(key);
        p->weight = 1;
        if (json_expect_object(&pg, e) != 0 || json_check_keys(&pg, page_keys, e) != 0 ||
            opt_double(&pg, "weight", 0, 1e12, &p->weight, e) != 0) {
            return -1;
        }
        if (p->weight <= 0 && json_get(&pg, "weight", &v)) {
            err_at(e, v.path, "must be greater than 0, got %g", p->weight);
            return -1;
        }
        if (!json_get(&pg, "endpoints", &v)) {
            err_at(e, pg.path, "missing key \"endpoints\"");
            return -1;
        }
        if (load_call_list(p, app, &v, e) != 0) {
            return -1;
        }
        wl->total_weight += p->weight;
    }
    return 0;
}

static const char *const workload_keys[] = {
    "model", "users", "think_time", "start_spread", "rate", "rate_steps", "page", "pages", NULL};
static const char *const workload_models[] = {"closed", "open", NULL};
/* The keys of each model (enum workload_model order), refused for the other one. */
static const char *const closed_keys[] = {"users", "think_time", "start_spread", NULL};
static const char *const open_keys[] = {"rate", "rate_steps", NULL};

static int load_page_choice(struct workload_config *wl, const struct app_config *app,
                            const struct json_at *at, struct err *e)
{
    struct json_at page, pages;
    int has_page = json_get(at, "page", &page), has_pages = json_get(at, "pages", &pages);

    if (has_page == has_pages) {
        err_at(e, at->path,
               has_page ? "give either \"page\" or \"pages\", not both"
                        : "missing key \"page\" (or \"pages\")");
        return -1;
    }
    if (has_pages) {
        return load_pages(wl, app, &pages, e);
    }
    wl->single_page = true;
    wl->pages = xcalloc(1, sizeof *wl->pages);
    wl->npages = 1;
    wl->pages[0].name = xstrdup("page");
    wl->pages[0].weight = 1;
    wl->total_weight = 1;
    return load_call_list(&wl->pages[0], app, &page, e);
}

static int load_closed(struct workload_config *wl, const struct json_at *at, const char *base_dir,
                       struct err *e)
{
    struct json_at v;

    if (opt_int(at, "users", 1, 1000000, &wl->users, e) != 0 ||
        opt_dur(at, "start_spread", JSON_BARE_NONE, &wl->start_spread, e) != 0) {
        return -1;
    }
    if (json_get(at, "think_time", &v)) {
        dist_fini(&wl->think_time);
        return json_dist(&v, base_dir, &wl->think_time, e);
    }
    return 0;
}

/* One step: ["60s", 50], later than the step before it. */
static int load_rate_step(struct rate_step *st, const struct rate_step *prev,
                          const struct json_at *at, struct err *e)
{
    struct json_at t, r;
    char buf[DIST_DURATION_MAX];

    if (json_expect_array(at, e) != 0) {
        return -1;
    }
    if (json_size(at) != 2) {
        err_at(e, at->path, "expected a pair [time, rate] such as [\"60s\", 50], got %zu elements",
               json_size(at));
        return -1;
    }
    json_child(at, 0, &t, NULL);
    json_child(at, 1, &r, NULL);
    if (json_duration(&t, JSON_BARE_NONE, 0, MAX_TIME, &st->at, e) != 0 ||
        json_double(&r, 1e-9, 1e9, &st->rate_per_s, e) != 0) {
        return -1;
    }
    if (prev && st->at <= prev->at) {
        dist_format_duration(prev->at, buf, sizeof buf);
        err_at(e, t.path, "must be later than the step before it (\"%s\")", buf);
        return -1;
    }
    return 0;
}

static int load_rate_steps(struct workload_config *wl, const struct json_at *at, struct err *e)
{
    struct json_at st;

    if (json_expect_array(at, e) != 0) {
        return -1;
    }
    if (json_size(at) == 0) {
        err_at(e, at->path, "must list at least one step [time, rate]");
        return -1;
    }
    wl->steps = xcalloc(json_size(at), sizeof *wl->steps);
    for (size_t i = 0; i < json_size(at); i++) {
        json_child(at, i, &st, NULL);
        if (load_rate_step(&wl->steps[i], i ? &wl->steps[i - 1] : NULL, &st, e) != 0) {
            return -1;
        }
        wl->nsteps = i + 1;
    }
    return 0;
}

static int load_open(struct workload_config *wl, const struct json_at *at, struct err *e)
{
    struct json_at v;

    if (!json_get(at, "rate", &v)) {
        err_at(e, at->path, "missing key \"rate\" (pages per second) for the open model");
        return -1;
    }
    if (json_double(&v, 1e-9, 1e9, &wl->rate_per_s, e) != 0) {
        return -1;
    }
    return json_get(at, "rate_steps", &v) ? load_rate_steps(wl, &v, e) : 0;
}

/* Keys of the other model have no effect here: refuse them. */
static int reject_model_keys(const struct json_at *at, enum workload_model model, struct err *e)
{
    const char *const *keys = model == WL_CLOSED ? open_keys : closed_keys;
    struct json_at v;

    for (size_t i = 0; keys[i]; i++) {
        if (json_get(at, keys[i], &v)) {
            err_at(e, v.path, "does not apply to the \"%s\" workload model",
                   workload_models[model]);
            return -1;
        }
    }
    return 0;
}

static int load_workload(struct workload_config *wl, const struct app_config *app,
                         const struct json_at *root, const char *base_dir, struct err *e)
{
    struct json_at at, v;
    int model = 0, r = opt_object(root, "workload", workload_keys, &at, e);

    wl->users = 1;
    dist_init_const(&wl->think_time, 0);
    wl->start_spread = 0;
    if (r <= 0) {
        if (r == 0) {
            err_at(e, root->path, "missing key \"workload\"");
        }
        return -1;
    }
    if (!json_get(&at, "model", &v)) {
        err_at(e, at.path, "missing key \"model\" (expected \"closed\" or \"open\")");
        return -1;
    }
    if (json_enum(&v, workload_models, &model, e) != 0 ||
        reject_model_keys(&at, (enum workload_model)model, e) != 0) {
        return -1;
    }
    wl->model = (enum workload_model)model;
    if ((wl->model == WL_CLOSED ? load_closed(wl, &at, base_dir, e) : load_open(wl, &at, e)) != 0) {
        return -1;
    }
    return load_page_choice(wl, app, &at, e);
}

/* ---- client pool ---- */

/* Every key of every kind; each kind accepts "kind" and its own (cpool_kind_keys). */
static const char *const cpool_keys[] = {"kind",
                                         "connection_limit",
                                         "pool_timeout",
                                         "connect_timeout",
                                         "max_idle_connection_lifetime",
                                         "socket_timeout",
                                         "idle_reaper",
                                         "pgbouncer",
                                         "statement_cache_size",
                                         "max",
                                         "connectionTimeoutMillis",
                                         "idleTimeoutMillis",
                                         NULL};
/* In the order of enum client_pool_kind. */
static const char *const cpool_kinds[] = {"prisma-v6", "pg-pool", "dedicated", NULL};
static const char *const cpool_kind_keys[][10] = {
    [CPOOL_PRISMA_V6] = {"kind", "connection_limit", "pool_timeout", "connect_timeout",
                         "max_idle_connection_lifetime", "socket_timeout", "idle_reaper",
                         "pgbouncer", "statement_cache_size", NULL},
    [CPOOL_PG_POOL] = {"kind", "max", "connectionTimeoutMillis", "idleTimeoutMillis", NULL},
    [CPOOL_DEDICATED] = {"kind", NULL},
};
static const char *const idle_reapers[] = {"checkout", "periodic", NULL};

static bool in_names(const char *key, const char *const *names)
{
    for (size_t i = 0; names[i]; i++) {
        if (strcmp(key, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* A key of another kind, e.g. "max" beside "kind": "prisma-v6", is an error. */
static int reject_other_kinds_keys(const struct json_at *at, enum client_pool_kind kind,
                                   struct err *e)
{
    for (size_t i = 0; i < json_size(at); i++) {
        struct json_at v;
        const char *key;

        json_child(at, i, &v, &key);
        if (!in_names(key, cpool_kind_keys[kind])) {
            err_at(e, v.path, "does not apply to the \"%s\" client pool kind", cpool_kinds[kind]);
            return -1;
        }
    }
    return 0;
}

static int load_prisma(struct prisma_config *pc, const struct json_at *at, struct err *e)
{
    struct json_at v;
    int reaper = (int)pc->idle_reaper;

    if (opt_int(at, "connection_limit", 1, 1000000, &pc->connection_limit, e) != 0 ||
        opt_dur(at, "pool_timeout", JSON_BARE_S, &pc->pool_timeout, e) != 0 ||
        opt_dur(at, "connect_timeout", JSON_BARE_S, &pc->connect_timeout, e) != 0 ||
        opt_dur(at, "max_idle_connection_lifetime", JSON_BARE_S, &pc->max_idle_lifetime, e) != 0 ||
        opt_enum(at, "idle_reaper", idle_reapers, &reaper, e) != 0 ||
        opt_bool(at, "pgbouncer", &pc->pgbouncer, e) != 0 ||
        opt_int(at, "statement_cache_size", 0, 1000000, &pc->statement_cache_size, e) != 0) {
        return -1;
    }
    pc->idle_reaper = (enum prisma_reaper)reaper;
    /* none unless given; 0 would time every statement out at once, so it is refused */
    if (json_get(at, "socket_timeout", &v) &&
        json_duration(&v, JSON_BARE_S, 1, MAX_TIME, &pc->socket_timeout, e) != 0) {
        return -1;
    }
    return 0;
}

/* node-postgres' option names and units: bare numbers are milliseconds. */
static int load_pgpool(struct pgpool_config *pc, const struct json_at *at, struct err *e)
{
    if (opt_int(at, "max", 1, 1000000, &pc->max, e) != 0 ||
        opt_dur(at, "connectionTimeoutMillis", JSON_BARE_MS, &pc->connection_timeout, e) != 0 ||
        opt_dur(at, "idleTimeoutMillis", JSON_BARE_MS, &pc->idle_timeout, e) != 0) {
        return -1;
    }
    return 0;
}

static int load_client_pool(struct client_pool_config *cp, const struct app_config *app,
                            const struct workload_config *wl, const struct json_at *root,
                            struct err *e)
{
    struct json_at at, v;
    int kind = 0, r = opt_object(root, "client_pool", cpool_keys, &at, e);

    cp->kind = CPOOL_PRISMA_V6;
    prisma_config_default(&cp->prisma, app->cores);
    pgpool_config_default(&cp->pgpool);
    if (r <= 0) {
        return r;
    }
    if (opt_enum(&at, "kind", cpool_kinds, &kind, e) != 0) {
        return -1;
    }
    cp->kind = (enum client_pool_kind)kind;
    if (reject_other_kinds_keys(&at, cp->kind, e) != 0) {
        return -1;
    }
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        return load_prisma(&cp->prisma, &at, e);
    case CPOOL_PG_POOL:
        return load_pgpool(&cp->pgpool, &at, e);
    case CPOOL_DEDICATED:
        break;
    }
    if (wl->model == WL_OPEN) { /* an arrival would open a connection no one ever reuses */
        json_get(&at, "kind", &v);
        err_at(e, v.path,
               "\"dedicated\" needs the closed workload (each closed user owns one "
               "connection)");
        return -1;
    }
    return 0;
}

/* ---- pooler ---- */

static const char *const pooler_keys[] = {"kind",
                                          "pool_mode",
                                          "default_pool_size",
                                          "max_client_conn",
                                          "reserve_pool_size",
                                          "max_db_connections",
                                          "query_wait_timeout",
                                          "query_timeout",
                                          "reserve_pool_timeout",
                                          "server_connect_timeout",
                                          "server_login_retry",
                                          "per_statement",
                                          "foreign_clients",
                                          "max_prepared_statements",
                                          NULL};
static const char *const pooler_kinds[] = {"direct", "pgbouncer", "supavisor", NULL};
static const char *const pool_modes[] = {"session", "transaction", "statement", NULL};

static int load_pgbouncer_limits(struct pgb_config *c, const struct json_at *at, struct err *e)
{
    struct json_at v;

    if (opt_int(at, "default_pool_size", 1, 1000000, &c->default_pool_size, e) != 0 ||
        opt_int(at, "max_client_conn", 1, 100000000, &c->max_client_conn, e) != 0 ||
        opt_int(at, "reserve_pool_size", 0, 1000000, &c->reserve_pool_size, e) != 0 ||
        opt_int(at, "max_db_connections", 0, 1000000, &c->max_db_connections, e) != 0 ||
        opt_int(at, "foreign_clients", 0, 1000000, &c->foreign_clients, e) != 0 ||
        opt_int(at, "max_prepared_statements", 0, 1000000, &c->max_prepared_statements, e) != 0) {
        return -1;
    }
    if (c->foreign_clients > c->max_client_conn) {
        json_get(at, "foreign_clients", &v);
        err_at(e, v.path, "foreign_clients (%lld) must not exceed max_client_conn (%lld)",
               (long long)c->foreign_clients, (long long)c->max_client_conn);
        return -1;
    }
    return 0;
}

static int load_pgbouncer(struct pgb_config *c, const struct json_at *at, struct err *e)
{
    int mode = (int)c->pool_mode;

    if (opt_enum(at, "pool_mode", pool_modes, &mode, e) != 0 ||
        load_pgbouncer_limits(c, at, e) != 0 ||
        opt_dur(at, "query_wait_timeout", JSON_BARE_S, &c->query_wait_timeout, e) != 0 ||
        opt_dur(at, "query_timeout", JSON_BARE_S, &c->query_timeout, e) != 0 ||
        opt_dur(at, "reserve_pool_timeout", JSON_BARE_S, &c->reserve_pool_timeout, e) != 0 ||
        opt_dur(at, "server_connect_timeout", JSON_BARE_S, &c->server_connect_timeout, e) != 0 ||
        opt_dur(at, "server_login_retry", JSON_BARE_S, &c->server_login_retry, e) != 0 ||
        opt_dur(at, "per_statement", JSON_BARE_NONE, &c->per_statement, e) != 0) {
        return -1;
    }
    c->pool_mode = (enum pgb_mode)mode;
    return 0;
}

/* Keys that only PgBouncer has, refused for the direct kind with a clear message. */
static int reject_pooler_keys(const struct json_at *at, struct err *e)
{
    struct json_at v;

    for (size_t i = 1; pooler_keys[i]; i++) {
        if (json_get(at, pooler_keys[i], &v)) {
            err_at(e, v.path, "does not apply to the \"direct\" pooler kind (no pooler)");
            return -1;
        }
    }
    return 0;
}

static const char *const supa_keys[] = {"kind",
                                        "pool_mode",
                                        "pool_size",
                                        "max_clients",
                                        "pool_checkout_timeout",
                                        "session_full",
                                        "capacity",
                                        "session_disconnect",
                                        "foreign_clients",
                                        "budget",
                                        "named_prepared_statements",
                                        NULL};
static const char *const supa_budgets[] = {"per_mode", "shared", NULL};
static const char *const supa_modes[] = {"session", "transaction", NULL};
static const char *const supa_full[] = {"reject", "queue", NULL};
static const char *const supa_caps[] = {"pool_size", "pool_size+1", NULL};
static const char *const supa_disc[] = {"close", "reuse", NULL};

static int load_supavisor(struct supa_config *c, const struct json_at *at, struct err *e)
{
    struct json_at v;
    int mode = 0, full = (int)c->session_full, cap = (int)c->capacity;
    int disc = (int)c->session_disconnect, budget = (int)c->budget;

    if (json_check_keys(at, supa_keys, e) != 0) {
        return -1;
    }
    if (!json_get(at, "pool_mode", &v)) {
        err_at(e, at->path,
               "missing key \"pool_mode\" (\"session\": port 5432, or "
               "\"transaction\": port 6543)");
        return -1;
    }
    if (json_enum(&v, supa_modes, &mode, e) != 0 ||
        opt_int(at, "pool_size", 1, 1000000, &c->pool_size, e) != 0 ||
        opt_int(at, "max_clients", 1, 100000000, &c->max_clients, e) != 0 ||
        opt_dur(at, "pool_checkout_timeout", JSON_BARE_MS, &c->checkout_timeout, e) != 0 ||
        opt_enum(at, "session_full", supa_full, &full, e) != 0 ||
        opt_enum(at, "capacity", supa_caps, &cap, e) != 0 ||
        opt_enum(at, "session_disconnect", supa_disc, &disc, e) != 0 ||
        opt_int(at, "foreign_clients", 0, 1000000, &c->foreign_clients, e) != 0 ||
        opt_enum(at, "budget", supa_budgets, &budget, e) != 0 ||
        opt_bool(at, "named_prepared_statements", &c->named_prepared_statements, e) != 0) {
        return -1;
    }
    c->budget = (enum supa_budget)budget;
    c->pool_mode = (enum supa_mode)mode;
    c->session_full = (enum supa_session_full)full;
    c->capacity = (enum supa_capacity)cap;
    c->session_disconnect = (enum supa_disconnect)disc;
    return 0;
}

static int load_pooler(struct pooler_config *pc, const struct json_at *root, struct err *e)
{
    struct json_at at;
    int kind = 0;

    pc->kind = POOLER_DIRECT;
    pgb_config_default(&pc->pgb);
    supa_config_default(&pc->supa);
    if (!json_get(root, "pooler", &at)) {
        return 0;
    }
    if (json_expect_object(&at, e) != 0 || opt_enum(&at, "kind", pooler_kinds, &kind, e) != 0) {
        return -1;
    }
    pc->kind = (enum pooler_kind)kind;
    switch (pc->kind) {
    case POOLER_DIRECT:
        return json_check_keys(&at, pooler_keys, e) != 0 ? -1 : reject_pooler_keys(&at, e);
    case POOLER_PGBOUNCER:
        return json_check_keys(&at, pooler_keys, e) != 0 ? -1 : load_pgbouncer(&pc->pgb, &at, e);
    case POOLER_SUPAVISOR:
        return load_supavisor(&pc->supa, &at, e);
    }
    return -1;
}

/* ---- postgres and network ---- */

static const char *const pg_keys[] = {"preset",
                                      "max_connections",
                                      "superuser_reserved_connections",
                                      "version",
                                      "backend_start",
                                      "backend_cpu",
                                      "cores",
                                      "cpu_share",
                                      "knee",
                                      "statement_timeout",
                                      NULL};
static const char *const knee_keys[] = {"active", "penalty", NULL};

/* {"active": A, "penalty": p}: both required. */
static int load_knee(struct pg_config *c, const struct json_at *pg, struct err *e)
{
    struct json_at at, v;
    int r = opt_object(pg, "knee", knee_keys, &at, e);

    if (r <= 0) {
        return r;
    }
    for (size_t i = 0; knee_keys[i]; i++) {
        if (!json_get(&at, knee_keys[i], &v)) {
            err_at(e, at.path,
                   "missing key \"%s\" (expected {\"active\": statements, "
                   "\"penalty\": slowdown per statement past them})",
                   knee_keys[i]);
            return -1;
        }
    }
    c->knee = true;
    return opt_int(&at, "active", 1, 1000000, &c->knee_active, e) != 0 ||
                   opt_double(&at, "penalty", 0, 1e6, &c->knee_penalty, e) != 0
               ? -1
               : 0;
}

/* cores, cpu_share, knee: processor sharing (DESIGN.md §4). */
static int load_pg_cpu(struct pg_config *c, const struct json_at *at, struct err *e)
{
    struct json_at v;

    if (opt_int(at, "cores", 0, 1000000, &c->cores, e) != 0 ||
        opt_double(at, "cpu_share", 0, 1, &c->cpu_share, e) != 0 || load_knee(c, at, e) != 0) {
        return -1;
    }
    if (c->knee && c->cores == 0) {
        json_get(at, "knee", &v);
        err_at(e, v.path,
               "needs \"cores\" > 0 (with unlimited cores statements never slow "
               "each other)");
        return -1;
    }
    return 0;
}

/* The preset first: keys written explicitly win over it. */
static int load_pg_preset(struct pg_config *c, const struct json_at *at, struct err *e)
{
    int i = -1;

    if (opt_enum(at, "preset", pg_preset_names(), &i, e) != 0) {
        return -1;
    }
    if (i >= 0) {
        pg_preset_apply(c, i);
    }
    return 0;
}

static int load_postgres(struct pg_config *c, const struct json_at *root, const char *base_dir,
                         struct err *e)
{
    struct json_at at, v;
    int r = opt_object(root, "postgres", pg_keys, &at, e);

    pg_config_default(c);
    if (r <= 0) {
        return r;
    }
    if (load_pg_preset(c, &at, e) != 0 ||
        opt_int(&at, "max_connections", 1, 262143, &c->max_connections, e) != 0 ||
        opt_int(&at, "superuser_reserved_connections", 0, 262143, &c->superuser_reserved, e) != 0 ||
        opt_int(&at, "version", 9, 99, &c->version, e) != 0 ||
        opt_dur(&at, "statement_timeout", JSON_BARE_MS, &c->statement_timeout, e) != 0 ||
        opt_dur(&at, "backend_cpu", JSON_BARE_NONE, &c->backend_cpu, e) != 0 ||
        load_pg_cpu(c, &at, e) != 0) {
        return -1;
    }
    if (c->superuser_reserved >= c->max_connections) {
        json_get(&at,
                 json_get(&at, "superuser_reserved_connections", &v)
                     ? "superuser_reserved_connections"
                     : "max_connections",
                 &v);
        err_at(e, v.path,
               "superuser_reserved_connections (%lld) must be less than max_connections (%lld)",
               (long long)c->superuser_reserved, (long long)c->max_connections);
        return -1;
    }
    if (json_get(&at, "backend_start", &v)) {
        dist_fini(&c->backend_start);
        return json_dist(&v, base_dir, &c->backend_start, e);
    }
    return 0;
}

static const char *const net_keys[] = {"app_pooler_rtt", "pooler_db_rtt", "app_db_rtt",
                                       "handshake_rtts", NULL};

static int load_network(struct net_config *n, const struct json_at *root, struct err *e)
{
    struct json_at at;
    int r = opt_object(root, "network", net_keys, &at, e);

    n->app_pooler_rtt = n->pooler_db_rtt = n->app_db_rtt = 0;
    n->handshake_rtts = 3;
    if (r <= 0) {
        return r;
    }
    if (opt_dur(&at, "app_pooler_rtt", JSON_BARE_NONE, &n->app_pooler_rtt, e) != 0 ||
        opt_dur(&at, "pooler_db_rtt", JSON_BARE_NONE, &n->pooler_db_rtt, e) != 0 ||
        opt_dur(&at, "app_db_rtt", JSON_BARE_NONE, &n->app_db_rtt, e) != 0 ||
        opt_int(&at, "handshake_rtts", 1, 100, &n->handshake_rtts, e) != 0) {
        return -1;
    }
    return 0;
}

/* ---- the whole experiment ---- */

/*
 * *applied = doc with its database_url applied (models/dburl.h) and removed (so top_keys need
 * not list it), or NULL when it has none; x keeps the URL redacted.  A point already applied by
 * dburl_plan_apply is applied again to no effect.
 */
static int with_database_url(struct experiment *x, const struct cJSON *doc, struct cJSON **applied,
                             struct err *e)
{
    struct json_at root, v;
    char **paths = NULL;
    size_t n = 0;
    const char *url;
    int r;

    *applied = NULL;
    json_root(doc, &root);
    if (!json_is_object(&root) || !json_get(&root, "database_url", &v)) {
        return 0;
    }
    *applied = json_dup(doc);
    r = dburl_apply(*applied, &paths, &n, NULL, e);
    for (size_t i = 0; i < n; i++) {
        free(paths[i]);
    }
    free(paths);
    json_root(*applied, &root);
    if (r == 0 && json_get(&root, "database_url", &v) && json_string(&v, &url, e) == 0) {
        x->database_url = xstrdup(url); /* already redacted by dburl_apply */
        json_remove_key(*applied, "database_url");
        return 0;
    }
    return -1;
}

int experiment_load(struct experiment *x, const struct cJSON *doc, const char *base_dir,
                    struct err *e)
{
    struct json_at root;
    struct cJSON *applied;

    memset(x, 0, sizeof *x);
    pg_config_default(&x->postgres);
    if (with_database_url(x, doc, &applied, e) != 0) {
        json_free(applied);
        experiment_fini(x);
        return -1;
    }
    json_root(applied ? applied : doc, &root);
    if (json_expect_object(&root, e) != 0 || json_check_keys(&root, top_keys, e) != 0 ||
        load_run(x, &root, e) != 0 || load_precision(x, &root, e) != 0 ||
        load_length(x, &root, e) != 0 || load_app(&x->app, &root, base_dir, e) != 0 ||
        load_workload(&x->workload, &x->app, &root, base_dir, e) != 0 ||
        load_client_pool(&x->client_pool, &x->app, &x->workload, &root, e) != 0 ||
        load_pooler(&x->pooler, &root, e) != 0 ||
        load_postgres(&x->postgres, &root, base_dir, e) != 0 ||
        load_network(&x->net, &root, e) != 0) {
        json_free(applied);
        experiment_fini(x);
        return -1;
    }
    json_free(applied);
    return 0;
}

void experiment_fini(struct experiment *x)
{
    app_config_fini(&x->app);
    for (size_t i = 0; i < x->workload.npages; i++) {
        free(x->workload.pages[i].name);
        free(x->workload.pages[i].endpoints);
    }
    free(x->workload.pages);
    free(x->workload.steps);
    dist_fini(&x->workload.think_time);
    dist_fini(&x->postgres.backend_start);
    free(x->name);
    free(x->database_url);
    memset(x, 0, sizeof *x);
}

const char *experiment_name(const struct cJSON *doc)
{
    const cJSON *n = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "name") : NULL;

    return cJSON_IsString(n) ? n->valuestring : NULL;
}

/* ---- the resolved configuration, for summary.json ---- */

static void add_dur(cJSON *o, const char *key, sim_time t)
{
    char buf[64];

    dist_format_duration(t, buf, sizeof buf);
    cJSON_AddStringToObject(o, key, buf);
}

static cJSON *dist_json(const struct dist *d)
{
    cJSON *o = cJSON_CreateObject();
    static const char *const kinds[] = {"const",     "exponential", "uniform",
                                        "lognormal", "gamma",       "empirical"};

    cJSON_AddStringToObject(o, "dist", kinds[d->kind]);
    cJSON_AddNumberToObject(o, "mean_ms", dist_mean_ns(d) / 1e6);
    switch (d->kind) {
    case DIST_CONST:
        add_dur(o, "value", d->value);
        break;
    case DIST_UNIFORM:
        add_dur(o, "min", d->min);
        add_dur(o, "max", d->max);
        break;
    case DIST_LOGNORMAL:
        cJSON_AddNumberToObject(o, "mu_ln_ns", d->mu);
        cJSON_AddNumberToObject(o, "sigma", d->sigma);
        break;
    case DIST_GAMMA:
        cJSON_AddNumberToObject(o, "shape", d->shape);
        break;
    case DIST_EXPONENTIAL:
    case DIST_EMPIRICAL:
        break;
    }
    return o;
}

static cJSON *op_json(const struct op_config *op)
{
    cJSON *o = cJSON_CreateObject(), *subs;

    cJSON_AddStringToObject(o, "type", op_types[op->type]);
    switch (op->type) {
    case OP_QUERY:
    case OP_TRANSACTION:
    case OP_INTERACTIVE:
        cJSON_AddNumberToObject(o, "statements", (double)op->statements);
        cJSON_AddItemToObject(o, "server_time", dist_json(&op->server_time));
        if (op->type == OP_INTERACTIVE) {
            cJSON_AddItemToObject(o, "think_time", dist_json(&op->think_time));
            add_dur(o, "maxWait", op->max_wait);
            add_dur(o, "timeout", op->tx_timeout);
        }
        break;
    case OP_PARALLEL:
        subs = cJSON_AddArrayToObject(o, "operations");
        for (size_t i = 0; i < op->nsubs; i++) {
            cJSON_AddItemToArray(subs, op_json(&op->subs[i]));
        }
        break;
    case OP_APP:
        cJSON_AddItemToObject(o, "time", dist_json(&op->time));
        break;
    }
    return o;
}

/* retry, cache and serverless, when they are in use. */
static void app_features_json(const struct app_config *app, cJSON *o)
{
    cJSON *f;

    cJSON_AddBoolToObject(o, "connection_per_request", app->connection_per_request);
    f = cJSON_AddObjectToObject(o, "retry");
    cJSON_AddNumberToObject(f, "attempts", (double)app->retry.attempts);
    add_dur(f, "backoff", app->retry.backoff);
    add_dur(f, "jitter", app->retry.jitter);
    if (app->cache.enabled) {
        f = cJSON_AddObjectToObject(o, "cache");
        cJSON_AddNumberToObject(f, "hit_ratio", app->cache.hit_ratio);
        cJSON_AddItemToObject(f, "latency", dist_json(&app->cache.latency));
    }
    if (app->serverless.enabled) {
        f = cJSON_AddObjectToObject(o, "serverless");
        cJSON_AddNumberToObject(f, "max_instances", (double)app->serverless.max_instances);
        cJSON_AddNumberToObject(f, "concurrency", (double)app->serverless.concurrency);
        cJSON_AddItemToObject(f, "cold_start", dist_json(&app->serverless.cold_start));
        add_dur(f, "idle_timeout", app->serverless.idle_timeout);
        cJSON_AddBoolToObject(f, "freeze", app->serverless.freeze);
    }
}

static cJSON *app_json(const struct app_config *app)
{
    cJSON *o = cJSON_CreateObject(), *eps = cJSON_AddObjectToObject(o, "endpoints");

    if (!app->serverless.enabled) {
        cJSON_AddNumberToObject(o, "instances", (double)app->instances);
    }
    cJSON_AddNumberToObject(o, "clients", (double)app->clients);
    cJSON_AddNumberToObject(o, "cores", (double)app->cores);
    add_dur(o, "request_timeout", app->request_timeout);
    app_features_json(app, o);
    for (size_t i = 0; i < app->nendpoints; i++) {
        cJSON *ops = cJSON_AddArrayToObject(cJSON_AddObjectToObject(eps, app->endpoints[i].name),
                                            "operations");

        for (size_t j = 0; j < app->endpoints[i].nops; j++) {
            cJSON_AddItemToArray(ops, op_json(&app->endpoints[i].ops[j]));
        }
    }
    return o;
}

/* [["60s", 50], ...] with times written as durations. */
static cJSON *rate_steps_json(const struct workload_config *wl)
{
    cJSON *steps = cJSON_CreateArray();
    char buf[DIST_DURATION_MAX];

    for (size_t i = 0; i < wl->nsteps; i++) {
        cJSON *st = cJSON_CreateArray();

        dist_format_duration(wl->steps[i].at, buf, sizeof buf);
        cJSON_AddItemToArray(st, cJSON_CreateString(buf));
        cJSON_AddItemToArray(st, cJSON_CreateNumber(wl->steps[i].rate_per_s));
        cJSON_AddItemToArray(steps, st);
    }
    return steps;
}

/* The endpoint names of a page, as a JSON list. */
static cJSON *call_list_json(const struct page_config *pg, const struct app_config *app)
{
    cJSON *eps = cJSON_CreateArray();

    for (size_t j = 0; j < pg->ncalls; j++) {
        cJSON_AddItemToArray(eps, cJSON_CreateString(app->endpoints[pg->endpoints[j]].name));
    }
    return eps;
}

/* In the form the file used: "page" (one list) or "pages" (with weights). */
static cJSON *workload_json(const struct workload_config *wl, const struct app_config *app)
{
    cJSON *o = cJSON_CreateObject(), *pages;

    cJSON_AddStringToObject(o, "model", workload_models[wl->model]);
    if (wl->model == WL_CLOSED) {
        cJSON_AddNumberToObject(o, "users", (double)wl->users);
        cJSON_AddItemToObject(o, "think_time", dist_json(&wl->think_time));
        add_dur(o, "start_spread", wl->start_spread);
    } else {
        cJSON_AddNumberToObject(o, "rate", wl->rate_per_s);
        if (wl->nsteps > 0) {
            cJSON_AddItemToObject(o, "rate_steps", rate_steps_json(wl));
        }
    }
    if (wl->single_page) {
        cJSON_AddItemToObject(o, "page", call_list_json(&wl->pages[0], app));
        return o;
    }
    pages = cJSON_AddObjectToObject(o, "pages");
    for (size_t i = 0; i < wl->npages; i++) {
        cJSON *p = cJSON_AddObjectToObject(pages, wl->pages[i].name);

        cJSON_AddItemToObject(p, "endpoints", call_list_json(&wl->pages[i], app));
        cJSON_AddNumberToObject(p, "weight", wl->pages[i].weight);
    }
    return o;
}

static cJSON *client_pool_json(const struct client_pool_config *cp)
{
    cJSON *o = cJSON_CreateObject();
    const struct prisma_config *pc = &cp->prisma;

    cJSON_AddStringToObject(o, "kind", cpool_kinds[cp->kind]);
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        cJSON_AddNumberToObject(o, "connection_limit", (double)pc->connection_limit);
        add_dur(o, "pool_timeout", pc->pool_timeout);
        add_dur(o, "connect_timeout", pc->connect_timeout);
        add_dur(o, "max_idle_connection_lifetime", pc->max_idle_lifetime);
        if (pc->socket_timeout > 0) {
            add_dur(o, "socket_timeout", pc->socket_timeout);
        }
        cJSON_AddStringToObject(o, "idle_reaper", idle_reapers[pc->idle_reaper]);
        cJSON_AddBoolToObject(o, "pgbouncer", pc->pgbouncer);
        cJSON_AddNumberToObject(o, "statement_cache_size", (double)pc->statement_cache_size);
        break;
    case CPOOL_PG_POOL:
        cJSON_AddNumberToObject(o, "max", (double)cp->pgpool.max);
        add_dur(o, "connectionTimeoutMillis", cp->pgpool.connection_timeout);
        add_dur(o, "idleTimeoutMillis", cp->pgpool.idle_timeout);
        break;
    case CPOOL_DEDICATED:
        break;
    }
    return o;
}

static void supavisor_json(cJSON *o, const struct supa_config *c)
{
    cJSON_AddStringToObject(o, "pool_mode", supa_modes[c->pool_mode]);
    cJSON_AddNumberToObject(o, "pool_size", (double)c->pool_size);
    cJSON_AddNumberToObject(o, "max_clients", (double)c->max_clients);
    add_dur(o, "pool_checkout_timeout", c->checkout_timeout);
    cJSON_AddStringToObject(o, "session_full", supa_full[c->session_full]);
    cJSON_AddStringToObject(o, "capacity", supa_caps[c->capacity]);
    cJSON_AddStringToObject(o, "session_disconnect", supa_disc[c->session_disconnect]);
    cJSON_AddNumberToObject(o, "foreign_clients", (double)c->foreign_clients);
    cJSON_AddStringToObject(o, "budget", supa_budgets[c->budget]);
    cJSON_AddBoolToObject(o, "named_prepared_statements", c->named_prepared_statements);
}

static cJSON *pooler_json(const struct pooler_config *pc)
{
    cJSON *o = cJSON_CreateObject();
    const struct pgb_config *c = &pc->pgb;

    cJSON_AddStringToObject(o, "kind", pooler_kinds[pc->kind]);
    if (pc->kind == POOLER_PGBOUNCER) {
        cJSON_AddStringToObject(o, "pool_mode", pool_modes[c->pool_mode]);
        cJSON_AddNumberToObject(o, "default_pool_size", (double)c->default_pool_size);
        cJSON_AddNumberToObject(o, "max_client_conn", (double)c->max_client_conn);
        cJSON_AddNumberToObject(o, "reserve_pool_size", (double)c->reserve_pool_size);
        cJSON_AddNumberToObject(o, "max_db_connections", (double)c->max_db_connections);
        add_dur(o, "query_wait_timeout", c->query_wait_timeout);
        add_dur(o, "query_timeout", c->query_timeout);
        add_dur(o, "reserve_pool_timeout", c->reserve_pool_timeout);
        add_dur(o, "server_connect_timeout", c->server_connect_timeout);
        add_dur(o, "server_login_retry", c->server_login_retry);
        add_dur(o, "per_statement", c->per_statement);
        cJSON_AddNumberToObject(o, "foreign_clients", (double)c->foreign_clients);
        cJSON_AddNumberToObject(o, "max_prepared_statements", (double)c->max_prepared_statements);
    } else if (pc->kind == POOLER_SUPAVISOR) {
        supavisor_json(o, &pc->supa);
    }
    return o;
}

/* The postgres keys of issue 5: preset, cores, cpu_share, knee, statement_timeout. */
static void pg_cpu_json(const struct pg_config *pg, cJSON *o)
{
    if (pg->preset >= 0) {
        cJSON_AddStringToObject(o, "preset", pg_preset_names()[pg->preset]);
    }
    cJSON_AddNumberToObject(o, "cores", (double)pg->cores);
    cJSON_AddNumberToObject(o, "cpu_share", pg->cpu_share);
    if (pg->knee) {
        cJSON *k = cJSON_AddObjectToObject(o, "knee");

        cJSON_AddNumberToObject(k, "active", (double)pg->knee_active);
        cJSON_AddNumberToObject(k, "penalty", pg->knee_penalty);
    }
    add_dur(o, "statement_timeout", pg->statement_timeout);
    add_dur(o, "backend_cpu", pg->backend_cpu);
}

static cJSON *pg_net_json(const struct pg_config *pg, const struct net_config *n, cJSON *root)
{
    cJSON *o = cJSON_AddObjectToObject(root, "postgres"), *net;

    cJSON_AddNumberToObject(o, "max_connections", (double)pg->max_connections);
    cJSON_AddNumberToObject(o, "superuser_reserved_connections", (double)pg->superuser_reserved);
    cJSON_AddNumberToObject(o, "version", (double)pg->version);
    cJSON_AddItemToObject(o, "backend_start", dist_json(&pg->backend_start));
    pg_cpu_json(pg, o);
    net = cJSON_AddObjectToObject(root, "network");
    add_dur(net, "app_pooler_rtt", n->app_pooler_rtt);
    add_dur(net, "pooler_db_rtt", n->pooler_db_rtt);
    add_dur(net, "app_db_rtt", n->app_db_rtt);
    cJSON_AddNumberToObject(net, "handshake_rtts", (double)n->handshake_rtts);
    return root;
}

static cJSON *precision_json(const struct precision_config *pc)
{
    size_t n;
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "metric", metrics_columns(&n)[pc->metric].name);
    cJSON_AddNumberToObject(o, "relative", pc->relative);
    cJSON_AddNumberToObject(o, "max_replications", pc->max_replications);
    return o;
}

struct cJSON *experiment_resolved(const struct experiment *x)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "name", x->name);
    if (x->database_url) {
        cJSON_AddStringToObject(o, "database_url", x->database_url); /* redacted */
    }
    cJSON_AddNumberToObject(o, "seed", (double)x->seed);
    cJSON_AddNumberToObject(o, "replications", x->replications);
    add_dur(o, "warmup", x->warmup);
    if (x->requests) {
        cJSON_AddNumberToObject(o, "requests", (double)x->requests);
    } else {
        add_dur(o, "duration", x->duration);
    }
    cJSON_AddItemToObject(o, "workload", workload_json(&x->workload, &x->app));
    cJSON_AddItemToObject(o, "app", app_json(&x->app));
    cJSON_AddItemToObject(o, "client_pool", client_pool_json(&x->client_pool));
    cJSON_AddItemToObject(o, "pooler", pooler_json(&x->pooler));
    o = pg_net_json(&x->postgres, &x->net, o);
    if (x->precision.enabled) {
        cJSON_AddItemToObject(o, "precision", precision_json(&x->precision));
    }
    return o;
}

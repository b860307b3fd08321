/*
 * size.c - `poolsim size` (see size.h for the method): the command line,
 * the evaluation of one point with replications added until its decision
 * is clear, the key searches, the load search, and the two reports (the
 * table on stdout, size.json).
 *
 * Invariants: a search's points are kept in evaluation order and looked up
 * by value, so no value is evaluated twice in one search; every decision
 * depends only on the metrics of replications 1..R of a point, and R only
 * on earlier decisions, so the output is the same for any --jobs.
 */
#include "sim/size.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/json.h"
#include "sim/progress.h"
#include "sim/slo.h"
#include "sim/stats.h"
#include "sim/out.h"
#include "sim/xalloc.h"

#define SIZE_MAX_ARGS 256
#define SIZE_DEFAULT_MAX_REPS 30
#define SIZE_FIRST_REPS 4         /* at most this many replications before the first decision */
#define SIZE_MIN_REPS_EXACT 4     /* replications behind a zero-width interval before it decides */
#define SIZE_MAX_VALUE 1000000000 /* the largest HI of a range: no overflow in the search */
#define SIZE_NEIGHBOURS 3         /* values checked above an answer, besides the top of the range */
#define SIZE_LOAD_DOUBLINGS 10    /* the load search stops at 1024 times the base load */

enum { SIZE_OK = 0, SIZE_INVALID = 1, SIZE_USAGE = 2, SIZE_NONE = 3 };

struct size_arg {
    const char *path;  /* borrowed from argv */
    const char *value; /* as written */
};

struct size_vary {
    char key[256];  /* the path, without its range */
    bool has_range; /* KEY=LO..HI given */
    int64_t lo, hi; /* the range searched */
};

struct size_cli {
    const char *file, *out, *slo;
    unsigned jobs;
    uint32_t max_reps;
    bool quiet;
    struct size_arg sets[SIZE_MAX_ARGS], at[SIZE_MAX_ARGS];
    size_t nsets, nat;
    const char *database_url; /* --database-url(-env), applied as --set database_url (borrowed) */
    struct size_vary vary[SIZE_MAX_ARGS];
    size_t nvary;
};

/* One evaluated point of a search. */
struct size_point {
    double value;               /* the varied key's value, or the load */
    uint32_t reps;              /* replications run */
    double *means, *cis;        /* per metric column (owned) */
    enum slo_verdict *verdicts; /* per objective (owned) */
    enum slo_verdict verdict;   /* pass iff every objective passes */
    char breaks[256];           /* load search, failing points: the limit that breaks first */
};

/* One search: a varied key's, or the load's. */
struct size_search {
    char key[256];          /* the path searched */
    int64_t lo, hi;         /* key: the range; load: unused */
    bool default_range;     /* key: the range came from the hooks */
    struct size_point *pts; /* in evaluation order (owned) */
    size_t npts, cap;
    bool found;       /* key: an answer; load: some load failed */
    double answer;    /* key: the smallest passing value; load: highest holding */
    double window_hi; /* key: the largest passing value of the window, when window */
    bool window;      /* key: a value above the answer fails */
    double fails_at;  /* key: the lowest failing value above; load: lowest failing */
};

struct sizer {
    const struct size_env *env;
    const struct size_cli *cli;
    struct slo *slos; /* owned */
    size_t nslos;
    struct cJSON *base; /* the file's document, no sweep, --set and --at applied (owned) */
    char *base_dir;     /* owned */
    struct size_search searches[SIZE_MAX_ARGS + 1]; /* one per --vary, then the load */
    size_t nsearches;
    double *rows;   /* max_reps x nmetrics scratch (owned) */
    double *column; /* max_reps scratch (owned) */
    double load;    /* the base load, the load key's value in the file or --at */
};

/* ---- the command line ---- */

static int parse_uint(const char *s, long lo, long hi, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(s, &end, 10);
    return errno || *end || end == s || *out < lo || *out > hi ? -1 : 0;
}

/* PATH=VALUE into a. */
static int parse_path_value(const char *opt, const char *s, struct size_arg *a, size_t *n,
                            struct err *e)
{
    const char *eq = strchr(s, '=');

    if (!eq || eq == s) {
        err_set(e, "%s needs PATH=VALUE, got \"%s\"", opt, s);
        return -1;
    }
    if (*n == SIZE_MAX_ARGS) {
        err_set(e, "too many %s options (at most %d)", opt, SIZE_MAX_ARGS);
        return -1;
    }
    a[*n].path = s;
    a[*n].value = eq + 1;
    (*n)++;
    return 0;
}

/* "LO..HI" (whole numbers, 0 <= LO <= HI <= SIZE_MAX_VALUE). */
static int parse_range(const char *s, int64_t *lo, int64_t *hi)
{
    char *end;
    long long a, b;

    errno = 0;
    a = strtoll(s, &end, 10);
    if (errno || end == s || strncmp(end, "..", 2) != 0 || !isdigit((unsigned char)end[2])) {
        return -1;
    }
    b = strtoll(end + 2, &end, 10);
    if (errno || *end || a < 0 || b < a || b > SIZE_MAX_VALUE) {
        return -1;
    }
    *lo = a;
    *hi = b;
    return 0;
}

/* KEY or KEY=LO..HI. */
static int parse_vary(struct size_cli *c, const char *s, struct err *e)
{
    struct size_vary *v = &c->vary[c->nvary];
    const char *eq = strchr(s, '=');

    if (c->nvary == SIZE_MAX_ARGS || !s[0] || eq == s) {
        err_set(e, "--vary needs KEY or KEY=LO..HI, got \"%s\"", s);
        return -1;
    }
    snprintf(v->key, sizeof v->key, "%.*s", (int)(eq ? eq - s : (ptrdiff_t)strlen(s)), s);
    v->has_range = eq != NULL;
    if (eq && parse_range(eq + 1, &v->lo, &v->hi) != 0) {
        err_set(
            e, "--vary %s: \"%s\" is not a range LO..HI of whole numbers with 0 <= LO <= HI <= 1e9",
            s, eq + 1);
        return -1;
    }
    c->nvary++;
    return 0;
}

static int parse_option(struct size_cli *c, const char *a, const char *v, struct err *e)
{
    long n;

    if (strcmp(a, "--out") == 0) {
        c->out = v;
    } else if (strcmp(a, "--slo") == 0) {
        c->slo = v;
    } else if (strcmp(a, "--vary") == 0) {
        return parse_vary(c, v, e);
    } else if (strcmp(a, "--at") == 0) {
        return parse_path_value(a, v, c->at, &c->nat, e);
    } else if (strcmp(a, "--set") == 0) {
        return parse_path_value(a, v, c->sets, &c->nsets, e);
    } else if (strcmp(a, "--database-url") == 0 || strcmp(a, "--database-url-env") == 0) {
        c->database_url = strcmp(a, "--database-url") == 0 ? v : getenv(v);
        if (!c->database_url || !c->database_url[0]) {
            err_set(e, "environment variable \"%s\" (--database-url-env) is %s", v,
                    c->database_url ? "empty" : "not set");
            return -1;
        }
    } else if (strcmp(a, "--jobs") == 0) {
        if (parse_uint(v, 1, 4096, &n) != 0) {
            err_set(e, "--jobs needs a whole number from 1 to 4096, got \"%s\"", v);
            return -1;
        }
        c->jobs = (unsigned)n;
    } else if (strcmp(a, "--max-replications") == 0) {
        if (parse_uint(v, 2, 10000, &n) != 0) {
            err_set(e, "--max-replications needs a whole number from 2 to 10000, got \"%s\"", v);
            return -1;
        }
        c->max_reps = (uint32_t)n;
    } else {
        err_set(e, "unknown option \"%s\"", a);
        return -1;
    }
    return 0;
}

static int is_option_with_value(const char *a)
{
    static const char *const names[] = {"--out",
                                        "--slo",
                                        "--vary",
                                        "--at",
                                        "--set",
                                        "--jobs",
                                        "--max-replications",
                                        "--database-url",
                                        "--database-url-env"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(a, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int parse_args(struct size_cli *c, int argc, char **argv, struct err *e)
{
    c->max_reps = SIZE_DEFAULT_MAX_REPS;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--quiet") == 0) {
            c->quiet = true;
        } else if (is_option_with_value(a) && i + 1 < argc) {
            if (parse_option(c, a, argv[++i], e) != 0) {
                return -1;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            err_set(e,
                    is_option_with_value(a) ? "option \"%s\" needs a value"
                                            : "unknown option \"%s\"",
                    a);
            return -1;
        } else if (c->file) {
            err_set(e, "more than one experiment file (\"%s\")", a);
            return -1;
        } else {
            c->file = a;
        }
    }
    if (!c->file || !c->slo || c->nvary == 0) {
        err_set(e, "size needs an experiment FILE, --slo OBJECTIVES and at least one --vary KEY");
        return -1;
    }
    return 0;
}

/* ---- one point: replications added until its decision is clear ---- */

/* A value as JSON text: a whole number without a fraction, else %.9g. */
static void fmt_value(double v, char *buf, size_t size)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, size, "%.0f", v);
    } else {
        snprintf(buf, size, "%.9g", v);
    }
}

/* doc[path] = text (read as JSON, else as a string). */
static int apply(struct cJSON *doc, const char *path, const char *text, struct err *e)
{
    struct cJSON *v = json_value_from_arg(text);
    int rc = json_set_path(doc, path, v, e);

    json_free(v);
    if (rc != 0) {
        char msg[ERR_MSG_MAX];

        snprintf(msg, sizeof msg, "%s", e->msg);
        err_set(e, "cannot set \"%s\": %s", path, msg);
    }
    return rc;
}

static int apply_arg(struct cJSON *doc, const struct size_arg *a, struct err *e)
{
    char path[512];

    snprintf(path, sizeof path, "%.*s", (int)(a->value - 1 - a->path), a->path);
    return apply(doc, path, a->value, e);
}

/* The answers of the first `upto` searches, then key = value (key NULL: none): a new document. */
static struct cJSON *point_doc(const struct sizer *z, size_t upto, const char *key, double value,
                               char *label, size_t size, struct err *e)
{
    struct cJSON *doc = json_dup(z->base);
    char text[64];
    size_t n = 0;

    label[0] = '\0';
    for (size_t i = 0; i <= upto; i++) {
        const char *k = i < upto ? z->searches[i].key : key;
        double v = i < upto ? z->searches[i].answer : value;

        if (!k) {
            continue;
        }
        fmt_value(v, text, sizeof text);
        n +=
            (size_t)snprintf(label + n, n < size ? size - n : 0, "%s%s=%s", n ? ", " : "", k, text);
        if (apply(doc, k, text, e) != 0) {
            json_free(doc);
            return NULL;
        }
    }
    return doc;
}

/* "point (label): " in front of e's path, as the runner names a point. */
static void name_point(struct err *e, const char *label)
{
    struct out_buf b;

    out_buf_init(&b);
    out_buf_printf(&b, "point (%s)%s%s", label, e->path[0] ? ": " : "", e->path);
    snprintf(e->path, sizeof e->path, "%s", b.data);
    out_buf_fini(&b);
}

/* Build the model's point from doc; errors name the point as the runner does. */
static void *point_cfg(const struct sizer *z, const struct cJSON *doc, const char *label,
                       struct err *e)
{
    void *cfg;

    err_clear(e);
    cfg = z->env->model->point_new(doc, z->base_dir, e);
    if (!cfg) {
        if (e->line == 0) {
            name_point(e, label);
        }
        if (!e->file[0]) {
            err_set_file(e, z->cli->file);
        }
    }
    return cfg;
}

/* Aggregate replications 1..reps of z->rows into p and judge every objective. */
static void judge(struct sizer *z, struct size_point *p, uint32_t reps)
{
    const struct runner_model *m = z->env->model;

    p->reps = reps;
    for (size_t k = 0; k < m->nmetrics; k++) {
        for (uint32_t r = 0; r < reps; r++) {
            z->column[r] = z->rows[r * m->nmetrics + k];
        }
        if (m->metrics[k].agg == RUNNER_AGG_MAX) {
            p->means[k] = stat_agg_max(z->column, reps);
            p->cis[k] = 0;
        } else {
            stat_agg_mean(z->column, reps, &p->means[k], &p->cis[k]);
        }
    }
    p->verdict = SLO_PASS;
    for (size_t i = 0; i < z->nslos; i++) {
        size_t k = z->slos[i].metric;

        /* Replications that agree exactly may only share a histogram bucket: a zero-width
         * interval decides from SIZE_MIN_REPS_EXACT replications on (or at the cap). */
        bool trust = p->cis[k] != 0 || reps >= SIZE_MIN_REPS_EXACT || reps == z->cli->max_reps;

        p->verdicts[i] = slo_judge(&z->slos[i], p->means[k], trust ? p->cis[k] : (double)NAN);
        if (p->verdicts[i] == SLO_FAIL ||
            (p->verdicts[i] == SLO_UNCLEAR && p->verdict == SLO_PASS)) {
            p->verdict = p->verdicts[i];
        }
    }
}

/* Replications of cfg into p: the file's count within [2, SIZE_FIRST_REPS], doubled up to the cap.
 */
static int replicate(struct sizer *z, const void *cfg, struct size_point *p, struct err *e)
{
    const struct runner_model *m = z->env->model;
    uint32_t cap = z->cli->max_reps, done = 0, want = m->point_replications(cfg);
    unsigned jobs = z->cli->jobs ? z->cli->jobs : z->env->default_jobs;

    want = want < 2 ? 2 : want > SIZE_FIRST_REPS ? SIZE_FIRST_REPS : want;
    want = want > cap ? cap : want;
    for (;;) {
        err_clear(e);
        if (runner_eval(m, cfg, done + 1, want, jobs, z->rows + (size_t)done * m->nmetrics, e) !=
            0) {
            return -1;
        }
        done = want;
        judge(z, p, done);
        if (p->verdict != SLO_UNCLEAR || done == cap) {
            return 0;
        }
        want = done > cap / 2 ? cap : 2 * done;
    }
}

static struct size_point *new_point(struct sizer *z, struct size_search *s, double value)
{
    struct size_point *p;
    size_t nm = z->env->model->nmetrics;

    if (s->npts == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->pts = xrealloc(s->pts, s->cap * sizeof *s->pts);
    }
    p = &s->pts[s->npts++];
    memset(p, 0, sizeof *p);
    p->value = value;
    p->means = xcalloc(nm, sizeof *p->means);
    p->cis = xcalloc(nm, sizeof *p->cis);
    p->verdicts = xcalloc(z->nslos, sizeof *p->verdicts);
    return p;
}

static void progress_line(const struct sizer *z, const char *label, const struct size_point *p)
{
    if (!z->cli->quiet && z->env->progress) {
        fprintf(z->env->progress, "poolsim: size: %s: %s after %" PRIu32 " replications\n", label,
                slo_verdict_name(p->verdict), p->reps);
        fflush(z->env->progress);
    }
}

/* Search i at value: evaluated once, then looked up; *v gets its verdict. */
static int verdict_at(struct sizer *z, size_t i, double value, enum slo_verdict *v, struct err *e)
{
    struct size_search *s = &z->searches[i];
    struct size_point *p;
    struct cJSON *doc;
    void *cfg = NULL;
    char label[1024];
    int rc = -1;

    for (size_t j = 0; j < s->npts; j++) {
        if (s->pts[j].value == value) {
            *v = s->pts[j].verdict;
            return 0;
        }
    }
    doc = point_doc(z, i, s->key, value, label, sizeof label, e);
    if (!doc || !(cfg = point_cfg(z, doc, label, e))) {
        goto out;
    }
    p = new_point(z, s, value);
    if (replicate(z, cfg, p, e) != 0) {
        name_point(e, label);
        err_set_file(e, z->cli->file);
        goto out;
    }
    if (i == z->cli->nvary && p->verdict != SLO_PASS) {
        z->env->hooks->breaks_first(cfg, p->means, p->breaks, sizeof p->breaks);
    }
    progress_line(z, label, p);
    *v = p->verdict;
    rc = 0;
out:
    if (cfg) {
        z->env->model->point_free(cfg);
    }
    json_free(doc);
    return rc;
}

/* ---- the searches ---- */

/* LO, LO+1, LO+3, LO+7, ... up to HI: the first passing value, and the last failing one. */
static int gallop(struct sizer *z, size_t i, int64_t *fail, int64_t *pass, struct err *e)
{
    struct size_search *s = &z->searches[i];
    int64_t off = 0;

    for (;;) {
        int64_t v = off > s->hi - s->lo ? s->hi : s->lo + off;
        enum slo_verdict vd;

        if (verdict_at(z, i, (double)v, &vd, e) != 0) {
            return -1;
        }
        if (vd == SLO_PASS) {
            *pass = v;
            s->found = true;
            return 0;
        }
        *fail = v;
        if (v == s->hi) {
            return 0;
        }
        off = 2 * off + 1;
    }
}

/* Narrow (good, bad) to adjacent values; good passes, bad does not (either may be larger). */
static int bisect(struct sizer *z, size_t i, int64_t *good, int64_t *bad, struct err *e)
{
    while (*good - *bad > 1 || *bad - *good > 1) {
        int64_t mid = *bad + (*good - *bad) / 2;
        enum slo_verdict vd;

        if (verdict_at(z, i, (double)mid, &vd, e) != 0) {
            return -1;
        }
        *(vd == SLO_PASS ? good : bad) = mid;
    }
    return 0;
}

/* Above the answer: the next values and the top of the range; a failure there is a window. */
static int check_above(struct sizer *z, size_t i, struct err *e)
{
    struct size_search *s = &z->searches[i];
    int64_t top = (int64_t)s->answer, bad = -1;
    enum slo_verdict vd;

    for (int64_t v = top + 1; v <= s->hi && v <= (int64_t)s->answer + SIZE_NEIGHBOURS; v++) {
        if (verdict_at(z, i, (double)v, &vd, e) != 0) {
            return -1;
        }
        if (vd != SLO_PASS) {
            bad = v;
            break;
        }
        top = v;
    }
    if (bad < 0 && s->hi > top) {
        if (verdict_at(z, i, (double)s->hi, &vd, e) != 0) {
            return -1;
        }
        bad = vd == SLO_PASS ? -1 : s->hi;
    }
    if (bad < 0) {
        return 0;
    }
    if (bisect(z, i, &top, &bad, e) != 0) {
        return -1;
    }
    s->window = true;
    s->window_hi = (double)top;
    s->fails_at = (double)bad;
    return 0;
}

/* Search i: the smallest value of its key in [lo, hi] that meets every objective. */
static int search_key(struct sizer *z, size_t i, struct err *e)
{
    struct size_search *s = &z->searches[i];
    int64_t fail = s->lo - 1, pass = s->lo;

    if (gallop(z, i, &fail, &pass, e) != 0) {
        return -1;
    }
    if (!s->found) {
        return 0;
    }
    if (pass - fail > 1 && bisect(z, i, &pass, &fail, e) != 0) {
        return -1;
    }
    s->answer = (double)pass;
    return check_above(z, i, e);
}

/* The load's resolution near h: 1% of it, and at least 1 for a whole-number base. */
static double load_step(double h, bool whole)
{
    return whole ? fmax(1, floor(h / 100)) : h / 100;
}

/* Double the load from its base until the configuration fails, then bisect. */
static int search_load(struct sizer *z, double base, struct err *e)
{
    size_t i = z->cli->nvary;
    struct size_search *s = &z->searches[i];
    bool whole = base == floor(base);
    double good = base, bad = base;
    enum slo_verdict vd;

    for (int d = 0; d <= SIZE_LOAD_DOUBLINGS; d++, good = bad) {
        bad = ldexp(base, d);
        if (verdict_at(z, i, bad, &vd, e) != 0) {
            return -1;
        }
        if (vd != SLO_PASS) {
            s->found = true;
            break;
        }
    }
    if (!s->found || bad == base) { /* holds at every load tried, or not even at the base */
        s->answer = s->found ? (double)NAN : bad;
        s->fails_at = s->found ? bad : (double)NAN;
        return 0;
    }
    while (bad - good > load_step(good, whole)) {
        double mid = whole ? floor((good + bad) / 2) : (good + bad) / 2;

        if (verdict_at(z, i, mid, &vd, e) != 0) {
            return -1;
        }
        *(vd == SLO_PASS ? &good : &bad) = mid;
    }
    s->answer = good;
    s->fails_at = bad;
    return 0;
}

/* ---- setting up ---- */

/*
 * The file without its sweep (the searches replace it), with --database-url(-env), --set then
 * --at applied.
 */
static int base_doc(struct sizer *z, struct err *e)
{
    struct json_at root, v;
    const struct size_cli *c = z->cli;

    err_set_file(e, c->file);
    if (json_load_file(c->file, &z->base, e) != 0) {
        return e->line > 0 || e->path[0] ? SIZE_INVALID : SIZE_USAGE;
    }
    json_root(z->base, &root);
    if (!json_is_object(&root)) {
        err_at(e, "$", "expected an object, got %s", json_type_name(&root));
        return SIZE_INVALID;
    }
    if (json_get(&root, "variants", &v)) {
        err_at(e, "$.variants",
               "size searches one configuration: choose a variant's values with --set");
        return SIZE_USAGE;
    }
    json_remove_key(z->base, "sweep");
    if (c->database_url && apply(z->base, "database_url", c->database_url, e) != 0) {
        return SIZE_USAGE;
    }
    for (size_t i = 0; i < c->nsets; i++) {
        if (apply_arg(z->base, &c->sets[i], e) != 0) {
            return SIZE_USAGE;
        }
    }
    for (size_t i = 0; i < c->nat; i++) {
        if (apply_arg(z->base, &c->at[i], e) != 0) {
            return SIZE_USAGE;
        }
    }
    return SIZE_OK;
}

/* Each search's key and range: as given, or the hooks' default for the file's configuration. */
static int key_ranges(struct sizer *z, const void *cfg, struct err *e)
{
    for (size_t i = 0; i < z->cli->nvary; i++) {
        const struct size_vary *v = &z->cli->vary[i];
        struct size_search *s = &z->searches[i];

        snprintf(s->key, sizeof s->key, "%s", v->key);
        s->lo = v->lo;
        s->hi = v->hi;
        if (!v->has_range) {
            s->default_range = true;
            if (z->env->hooks->default_range(cfg, v->key, &s->lo, &s->hi) != 0) {
                err_clear(e);
                err_set(e, "--vary %s needs a range KEY=LO..HI (only pool sizes have a default)",
                        v->key);
                return SIZE_USAGE;
            }
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(z->searches[j].key, s->key) == 0) {
                err_clear(e);
                err_set(e, "--vary %s is given twice", v->key);
                return SIZE_USAGE;
            }
        }
    }
    return SIZE_OK;
}

/* --at i as the load, when its value is a number: 0 (-1 when not above 0); 1 when not a number. */
static int at_load(struct sizer *z, size_t i, double *base)
{
    const struct size_arg *a = &z->cli->at[i];
    struct size_search *s = &z->searches[z->cli->nvary];
    char *end;
    double v = strtod(a->value, &end);

    if (end == a->value || *end || !isfinite(v)) {
        return 1;
    }
    snprintf(s->key, sizeof s->key, "%.*s", (int)(a->value - 1 - a->path), a->path);
    *base = v;
    return v > 0 ? 0 : -1;
}

/* The load: the hooks' key (workload.users or workload.rate) with its value in cfg, which --at
 * has set; for a model without one, the first --at with a numeric value. */
static int load_key(struct sizer *z, const void *cfg, double *base, struct err *e)
{
    struct size_search *s = &z->searches[z->cli->nvary];
    const char *key = NULL;
    int rc = 1;

    if (z->env->hooks->load_key(cfg, &key, base) == 0) {
        snprintf(s->key, sizeof s->key, "%s", key);
        return *base > 0 ? SIZE_OK : -1;
    }
    for (size_t i = 0; rc == 1 && i < z->cli->nat; i++) {
        rc = at_load(z, i, base);
    }
    if (rc == 1) {
        err_clear(e);
        err_set(e, "size needs the load: give it with --at PATH=NUMBER (e.g. workload.users=200)");
        return SIZE_USAGE;
    }
    return rc == 0 ? SIZE_OK : -1;
}

/* Validate the file's configuration and read the ranges and the load from it. */
static int prepare(struct sizer *z, double *load, struct err *e)
{
    void *cfg = point_cfg(z, z->base, "as in the file", e);
    int rc;

    if (!cfg) {
        return SIZE_INVALID;
    }
    rc = key_ranges(z, cfg, e);
    if (rc == SIZE_OK && (rc = load_key(z, cfg, load, e)) < 0) {
        err_clear(e);
        err_set(e, "--at %s: the load must be a number above 0", z->searches[z->cli->nvary].key);
        rc = SIZE_USAGE;
    }
    z->env->model->point_free(cfg);
    return rc;
}

/* PATH=VALUE when VALUE is a number, else PATH alone: a string value (a database_url) may hold
 * a password, and no output shows one (DESIGN.md §4). */
static void arg_text(const struct size_arg *a, char *buf, size_t size)
{
    char *end;
    double v = strtod(a->value, &end);
    int path_len = (int)(a->value - 1 - a->path);

    if (end != a->value && !*end && isfinite(v)) {
        snprintf(buf, size, "%s", a->path);
    } else {
        snprintf(buf, size, "%.*s", path_len, a->path);
    }
}

/* ---- the table (stdout) ---- */

/* Append s padded with blanks to width characters (UTF-8 characters, not bytes). */
static void pad(struct out_buf *b, const char *s, size_t width, bool right)
{
    size_t chars = 0;

    for (const char *p = s; *p; p++) {
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    }
    if (!right) {
        out_buf_puts(b, s);
    }
    for (; chars < width; chars++) {
        out_buf_puts(b, " ");
    }
    if (right) {
        out_buf_puts(b, s);
    }
}

static void mean_ci_text(double mean, double ci, char *buf, size_t size)
{
    if (isnan(mean)) {
        snprintf(buf, size, "n/a");
    } else if (isnan(ci)) {
        snprintf(buf, size, "%.4g", mean);
    } else {
        snprintf(buf, size, "%.4g ± %.2g", mean, ci);
    }
}

static int by_value(const void *a, const void *b)
{
    double x = ((const struct size_point *)a)->value, y = ((const struct size_point *)b)->value;

    return (x > y) - (x < y);
}

/* One row per evaluated value, in increasing order (the search's own order is in size.json). */
static void point_rows(const struct sizer *z, const struct size_search *s, struct out_buf *b)
{
    struct size_point *sorted = xcalloc(s->npts ? s->npts : 1, sizeof *sorted);
    char cell[128];

    memcpy(sorted, s->pts, s->npts * sizeof *sorted);
    qsort(sorted, s->npts, sizeof *sorted, by_value);
    out_buf_puts(b, "  ");
    pad(b, "value", 10, true);
    out_buf_puts(b, "  reps");
    for (size_t i = 0; i < z->nslos; i++) {
        out_buf_puts(b, "  ");
        pad(b, z->slos[i].text, 24, false);
    }
    out_buf_puts(b, "  result\n");
    for (size_t j = 0; j < s->npts; j++) {
        const struct size_point *p = &sorted[j];

        fmt_value(p->value, cell, sizeof cell);
        out_buf_puts(b, "  ");
        pad(b, cell, 10, true);
        out_buf_printf(b, "  %4" PRIu32, p->reps);
        for (size_t i = 0; i < z->nslos; i++) {
            size_t k = z->slos[i].metric;

            mean_ci_text(p->means[k], p->cis[k], cell, sizeof cell);
            out_buf_puts(b, "  ");
            pad(b, cell, 24, false);
        }
        out_buf_printf(b, "  %s\n", slo_verdict_name(p->verdict));
    }
    free(sorted);
}

static const struct size_point *point_of(const struct size_search *s, double value)
{
    for (size_t j = 0; j < s->npts; j++) {
        if (s->pts[j].value == value) {
            return &s->pts[j];
        }
    }
    return NULL;
}

/* The values checked above the answer that pass, when there is no window. */
static void above_note(const struct size_search *s, struct out_buf *b)
{
    size_t n = 0;

    for (size_t j = 0; j < s->npts && !s->window; j++) {
        if (s->pts[j].value > s->answer && s->pts[j].verdict == SLO_PASS &&
            (s->pts[j].value <= s->answer + SIZE_NEIGHBOURS || s->pts[j].value == (double)s->hi)) {
            out_buf_printf(b, "%s%.0f", n++ ? ", " : "; above it ", s->pts[j].value);
        }
    }
    out_buf_puts(b, n ? ": pass" : "");
}

static void key_table(const struct sizer *z, size_t i, struct out_buf *b)
{
    const struct size_search *s = &z->searches[i];
    const struct size_point *below = point_of(s, s->answer - 1);
    char a[64], w[64], f[64];

    out_buf_printf(b, "\n%s from %" PRId64 " to %" PRId64 "%s\n", s->key, s->lo, s->hi,
                   s->default_range ? " (default range: 1 to the usable max_connections)" : "");
    point_rows(z, s, b);
    if (!s->found) {
        out_buf_printf(b,
                       "  none: no value from %" PRId64 " to %" PRId64 " meets every objective\n",
                       s->lo, s->hi);
        return;
    }
    fmt_value(s->answer, a, sizeof a);
    out_buf_printf(b, "  answer: %s=%s", s->key, a);
    if (below) {
        out_buf_printf(b, "; %.0f: %s", below->value, slo_verdict_name(below->verdict));
    }
    above_note(s, b);
    out_buf_puts(b, "\n");
    if (below && below->verdict == SLO_UNCLEAR) {
        out_buf_printf(b,
                       "  unclear: %.0f is undecided after %" PRIu32 " replications and may "
                       "suffice (raise --max-replications)\n",
                       below->value, below->reps);
    }
    if (s->window) {
        fmt_value(s->window_hi, w, sizeof w);
        fmt_value(s->fails_at, f, sizeof f);
        out_buf_printf(b,
                       "  window: the objectives hold from %s to %s only; %s does not (a "
                       "larger value is worse here)\n",
                       a, w, f);
    }
}

static void load_table(const struct sizer *z, struct out_buf *b)
{
    const struct size_search *s = &z->searches[z->cli->nvary];
    const struct size_point *p = point_of(s, s->fails_at);
    char h[64], f[64];

    out_buf_printf(b, "\nload: %s, from the base value up\n", s->key);
    point_rows(z, s, b);
    fmt_value(s->answer, h, sizeof h);
    fmt_value(s->fails_at, f, sizeof f);
    if (isnan(s->answer)) {
        out_buf_printf(b, "  max load: not even the base load %s=%s holds\n", s->key, f);
    } else if (!s->found) {
        out_buf_printf(b, "  max load: %s=%s or more (every load tried holds)\n", s->key, h);
    } else {
        out_buf_printf(b, "  max load: %s=%s holds, %s does not (%s)\n", s->key, h, f,
                       p ? slo_verdict_name(p->verdict) : "");
    }
    if (p && p->breaks[0]) {
        out_buf_printf(b, "  breaks first at %s=%s: %s\n", s->key, f, p->breaks);
    }
}

static void table(const struct sizer *z, bool met, struct out_buf *b)
{
    char v[64];

    out_buf_printf(b, "poolsim size %s\nobjectives: ", z->cli->file);
    for (size_t i = 0; i < z->nslos; i++) {
        out_buf_printf(b, "%s%s", i ? ", " : "", z->slos[i].text);
    }
    fmt_value(z->load, v, sizeof v);
    out_buf_printf(b, "\nload: %s=%s", z->searches[z->cli->nvary].key, v);
    for (size_t i = 0; i < z->cli->nat; i++) {
        char text[512];

        arg_text(&z->cli->at[i], text, sizeof text);
        out_buf_printf(b, "%s%s", i ? ", " : " (--at ", text);
    }
    out_buf_puts(b, z->cli->nat ? ")" : " (as in the file)");
    out_buf_printf(b,
                   "\nreplications: the file's (2 to 4), doubled until clear, at most %" PRIu32
                   " per value (mean ± 95%% half-width)\n",
                   z->cli->max_reps);
    for (size_t i = 0; i < z->nsearches && i < z->cli->nvary; i++) {
        key_table(z, i, b);
    }
    if (met) {
        load_table(z, b);
    }
    out_buf_puts(b, met ? "\nresult: meets every objective with " : "\nresult: none\n");
    for (size_t i = 0; met && i < z->cli->nvary; i++) {
        fmt_value(z->searches[i].answer, v, sizeof v);
        out_buf_printf(b, "%s%s=%s", i ? ", " : "", z->searches[i].key, v);
    }
    out_buf_puts(b, met ? "\n" : "");
}

/* ---- size.json ---- */

static void json_num(struct out_buf *b, double x)
{
    if (isnan(x) || isinf(x)) {
        out_buf_puts(b, "null");
    } else {
        out_buf_printf(b, "%.9g", x);
    }
}

static void json_points(const struct sizer *z, const struct size_search *s, struct out_buf *b)
{
    out_buf_puts(b, "\"points\": [");
    for (size_t j = 0; j < s->npts; j++) {
        const struct size_point *p = &s->pts[j];

        out_buf_puts(b, j ? ",\n      {\"value\": " : "\n      {\"value\": ");
        json_num(b, p->value);
        out_buf_printf(b, ", \"replications\": %" PRIu32 ", \"objectives\": [", p->reps);
        for (size_t i = 0; i < z->nslos; i++) {
            out_buf_puts(b, i ? ", {\"mean\": " : "{\"mean\": ");
            json_num(b, p->means[z->slos[i].metric]);
            out_buf_puts(b, ", \"ci\": ");
            json_num(b, p->cis[z->slos[i].metric]);
            out_buf_printf(b, ", \"result\": \"%s\"}", slo_verdict_name(p->verdicts[i]));
        }
        out_buf_printf(b, "], \"result\": \"%s\"", slo_verdict_name(p->verdict));
        if (p->breaks[0]) {
            out_buf_puts(b, ", \"breaks_first\": ");
            out_json_str(b, p->breaks);
        }
        out_buf_puts(b, "}");
    }
    out_buf_puts(b, "]");
}

static void json_search(const struct sizer *z, size_t i, struct out_buf *b)
{
    const struct size_search *s = &z->searches[i];

    out_buf_puts(b, "    {\"key\": ");
    out_json_str(b, s->key);
    out_buf_printf(b, ", \"lo\": %" PRId64 ", \"hi\": %" PRId64 ", \"range\": \"%s\", ", s->lo,
                   s->hi, s->default_range ? "default" : "given");
    json_points(z, s, b);
    out_buf_puts(b, ",\n     \"answer\": ");
    json_num(b, s->found ? s->answer : (double)NAN);
    out_buf_puts(b, ", \"window\": ");
    if (s->window) {
        out_buf_puts(b, "{\"lo\": ");
        json_num(b, s->answer);
        out_buf_puts(b, ", \"hi\": ");
        json_num(b, s->window_hi);
        out_buf_puts(b, ", \"fails_at\": ");
        json_num(b, s->fails_at);
        out_buf_puts(b, "}}");
    } else {
        out_buf_puts(b, "null}");
    }
}

static void json_load(const struct sizer *z, struct out_buf *b)
{
    const struct size_search *s = &z->searches[z->cli->nvary];
    const struct size_point *p = point_of(s, s->fails_at);

    out_buf_puts(b, "  \"max_load\": {\"key\": ");
    out_json_str(b, s->key);
    out_buf_puts(b, ", ");
    json_points(z, s, b);
    out_buf_puts(b, ",\n    \"holds\": ");
    json_num(b, s->answer);
    out_buf_puts(b, ", \"fails_at\": ");
    json_num(b, s->fails_at);
    out_buf_puts(b, ", \"breaks_first\": ");
    if (p && p->breaks[0]) {
        out_json_str(b, p->breaks);
    } else {
        out_buf_puts(b, "null");
    }
    out_buf_puts(b, "},\n");
}

/* "  name": ["PATH=NUMBER" or "PATH", ...]. */
static void json_args(struct out_buf *b, const char *name, const struct size_arg *a, size_t n)
{
    char text[512];

    out_buf_printf(b, "  \"%s\": [", name);
    for (size_t i = 0; i < n; i++) {
        arg_text(&a[i], text, sizeof text);
        out_buf_puts(b, i ? ", " : "");
        out_json_str(b, text);
    }
    out_buf_puts(b, "],\n");
}

static void size_json(const struct sizer *z, bool met, double wall_s, struct out_buf *b)
{
    out_buf_puts(b, "{\n  \"poolsim_version\": ");
    out_json_str(b, z->env->version);
    out_buf_puts(b, ",\n  \"file\": ");
    out_json_str(b, z->cli->file);
    out_buf_puts(b, ",\n  \"objectives\": [");
    for (size_t i = 0; i < z->nslos; i++) {
        out_buf_puts(b, i ? ", {\"metric\": " : "{\"metric\": ");
        out_json_str(b, z->env->model->metrics[z->slos[i].metric].name);
        out_buf_printf(b, ", \"op\": \"%s\", \"threshold\": ", slo_op_text(z->slos[i].op));
        json_num(b, z->slos[i].threshold);
        out_buf_puts(b, "}");
    }
    out_buf_puts(b, "],\n");
    json_args(b, "set", z->cli->sets, z->cli->nsets);
    json_args(b, "at", z->cli->at, z->cli->nat);
    out_buf_puts(b, "  \"load\": {\"key\": ");
    out_json_str(b, z->searches[z->cli->nvary].key);
    out_buf_puts(b, ", \"base\": ");
    json_num(b, z->load);
    out_buf_printf(b, "},\n  \"max_replications\": %" PRIu32 ",\n  \"searches\": [\n",
                   z->cli->max_reps);
    for (size_t i = 0; i < z->nsearches && i < z->cli->nvary; i++) {
        out_buf_puts(b, i ? ",\n" : "");
        json_search(z, i, b);
    }
    out_buf_puts(b, "\n  ],\n");
    if (met) {
        json_load(z, b);
    }
    out_buf_puts(b, "  \"configuration\": ");
    for (size_t i = 0; met && i < z->cli->nvary; i++) {
        out_buf_puts(b, i ? ", " : "{");
        out_json_str(b, z->searches[i].key);
        out_buf_puts(b, ": ");
        json_num(b, z->searches[i].answer);
    }
    out_buf_puts(b, met ? "},\n" : "null,\n");
    out_buf_printf(b, "  \"result\": \"%s\",\n", met ? "met" : "none");
    /* The only value that differs between two runs. */
    out_buf_printf(b, "  \"wall_time_s\": %.3f\n}\n", wall_s);
}

/* ---- the command ---- */

/* results/<name> with name reduced to letters, digits, '-' and '_' (as `run` does). */
static int size_output_dir(const struct sizer *z, char *buf, size_t size, struct err *e)
{
    const char *name = NULL;
    struct json_at root, v;
    struct err ignored;

    json_root(z->base, &root);
    if (json_get(&root, "name", &v) && json_is_string(&v)) {
        json_string(&v, &name, &ignored);
    }
    if (z->cli->out) {
        snprintf(buf, size, "%s", z->cli->out);
        return 0;
    }
    out_default_dir(name ? name : "experiment", buf, size);
    if (!buf[0]) {
        err_at(e, "$.name",
               "no letter, digit, \"-\" or \"_\" to name the output directory "
               "(or give --out)");
        return -1;
    }
    return 0;
}

/* ---- points.csv of the evaluated points ---- */

static void csv_header(const struct sizer *z, struct out_buf *b)
{
    const struct runner_model *m = z->env->model;

    out_buf_puts(b, "point,variant");
    for (size_t i = 0; i <= z->cli->nvary; i++) {
        out_buf_puts(b, ",");
        out_csv_text(b, z->searches[i].key);
    }
    for (size_t k = 0; k < m->nmetrics; k++) {
        out_buf_printf(b, ",%s", m->metrics[k].name);
        if (m->metrics[k].agg == RUNNER_AGG_MEAN) {
            out_buf_printf(b, ",%s_ci", m->metrics[k].name);
        }
    }
    out_buf_puts(b, "\n");
}

/* Point p of search i: the keys' values (empty = as in the file), then its metrics. */
static void csv_row(const struct sizer *z, size_t i, const struct size_point *p, size_t n,
                    struct out_buf *b)
{
    const struct runner_model *m = z->env->model;

    out_buf_printf(b, "%zu,", n);
    out_csv_text(b, i < z->cli->nvary ? z->searches[i].key : "load");
    for (size_t j = 0; j <= z->cli->nvary; j++) {
        out_buf_puts(b, ",");
        if (j == i) {
            out_csv_num(b, p->value);
        } else if (j < i && j < z->cli->nvary) {
            out_csv_num(b, z->searches[j].answer);
        }
    }
    for (size_t k = 0; k < m->nmetrics; k++) {
        out_buf_puts(b, ",");
        out_csv_num(b, p->means[k]);
        if (m->metrics[k].agg == RUNNER_AGG_MEAN) {
            out_buf_puts(b, ",");
            out_csv_num(b, p->cis[k]);
        }
    }
    out_buf_puts(b, "\n");
}

/*
 * Every evaluated point in evaluation order, with run's metric columns: "variant" names the
 * search ("load" for the load search), then one column per varied key and the load key.
 */
static void points_csv(const struct sizer *z, struct out_buf *b)
{
    size_t n = 0;

    csv_header(z, b);
    for (size_t i = 0; i < z->nsearches; i++) {
        for (size_t j = 0; j < z->searches[i].npts; j++) {
            csv_row(z, i, &z->searches[i].pts[j], n++, b);
        }
    }
}

/* size.json and points.csv under temporary names, then both renamed. */
static int write_outputs(const struct sizer *z, bool met, double start_s, struct err *e)
{
    static const char *const names[2] = {"size.json", "points.csv"};
    char dir[PATH_MAX];
    struct out_buf b[2];
    int ok;

    if (size_output_dir(z, dir, sizeof dir, e) != 0) {
        return SIZE_INVALID;
    }
    out_buf_init(&b[0]);
    out_buf_init(&b[1]);
    size_json(z, met, progress_now_s() - start_s, &b[0]);
    points_csv(z, &b[1]);
    err_clear(e);
    ok = out_mkdir_p(dir, e) == 0 && out_write_tmp(dir, names[0], &b[0], e) == 0 &&
         out_write_tmp(dir, names[1], &b[1], e) == 0 && out_commit(dir, names[0], e) == 0 &&
         out_commit(dir, names[1], e) == 0;
    if (!ok) {
        out_discard(dir, names[0]);
        out_discard(dir, names[1]);
    }
    out_buf_fini(&b[0]);
    out_buf_fini(&b[1]);
    return ok ? SIZE_OK : SIZE_USAGE;
}

/* Every key's search in order, then the load's; *met when every key has an answer. */
static int search_all(struct sizer *z, double load, bool *met, struct err *e)
{
    *met = false;
    for (size_t i = 0; i < z->cli->nvary; i++) {
        z->nsearches = i + 1;
        if (search_key(z, i, e) != 0) {
            return SIZE_INVALID;
        }
        if (!z->searches[i].found) {
            return SIZE_OK;
        }
    }
    *met = true;
    z->nsearches = z->cli->nvary + 1;
    return search_load(z, load, e) == 0 ? SIZE_OK : SIZE_INVALID;
}

static void sizer_fini(struct sizer *z)
{
    for (size_t i = 0; i <= SIZE_MAX_ARGS; i++) {
        for (size_t j = 0; j < z->searches[i].npts; j++) {
            free(z->searches[i].pts[j].means);
            free(z->searches[i].pts[j].cis);
            free(z->searches[i].pts[j].verdicts);
        }
        free(z->searches[i].pts);
    }
    free(z->slos);
    json_free(z->base);
    free(z->base_dir);
    free(z->rows);
    free(z->column);
    free(z);
}

int size_main(int argc, char **argv, const struct size_env *env, struct out_buf *out, struct err *e)
{
    double start_s = progress_now_s(), load = 0;
    struct size_cli *cli = xcalloc(1, sizeof *cli);
    struct sizer *z = xcalloc(1, sizeof *z);
    const struct runner_model *m = env->model;
    bool met = false;
    int rc = SIZE_USAGE;

    err_clear(e);
    z->env = env;
    z->cli = cli;
    if (parse_args(cli, argc, argv, e) != 0 ||
        slo_parse(cli->slo, m->metrics, m->nmetrics, &z->slos, &z->nslos, e) != 0) {
        goto out;
    }
    z->base_dir = out_dir_of_file(cli->file);
    z->rows = xcalloc((size_t)cli->max_reps * m->nmetrics, sizeof *z->rows);
    z->column = xcalloc(cli->max_reps, sizeof *z->column);
    if ((rc = base_doc(z, e)) != SIZE_OK || (rc = prepare(z, &load, e)) != SIZE_OK ||
        (rc = search_all(z, z->load = load, &met, e)) != SIZE_OK) {
        goto out;
    }
    table(z, met, out);
    rc = write_outputs(z, met, start_s, e);
    if (rc == SIZE_OK && !met) {
        rc = SIZE_NONE;
    }
out:
    sizer_fini(z);
    free(cli);
    return rc;
}

/*
 * dist.c - distributions of durations (dist.h, DESIGN.md §4).
 *
 * A struct dist holds its parameters in nanoseconds, checked once by its
 * dist_init_*; dist_sample then draws in ns as a double and converts once
 * through sim_time_from_s (the program's one double -> time conversion), so
 * every sample is rounded to the nearest ns.  Every kind is non-negative by
 * construction (validated bounds, or a distribution on [0, inf)).
 *
 * Sampling: exponential by rng_exponential (inversion, one uniform);
 * uniform by gsl_ran_flat; lognormal as exp(mu + sigma * z) with z from GSL's
 * Gaussian ziggurat (7 ns against 21 ns for gsl_ran_lognormal's polar
 * method); gamma by gsl_ran_gamma (Marsaglia-Tsang); empirical by inversion:
 * u in [0, 1), binary search for q_i <= u < q_i+1, linear between the points.
 *
 * Empirical CSV files: "q,duration" lines; blank lines are skipped and the
 * first non-blank line is a header if its first field is not a number.  A
 * duration is a bare number of milliseconds or a number followed by ns, us,
 * ms, s, m or h.  This small parser is local on purpose (json.c has its own
 * for experiment files); both accept the forms DESIGN.md §4 writes.
 */
#include "sim/dist.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "sim/rng.h"
#include "sim/xalloc.h"

/* The units of a duration, smallest first. */
static const struct unit {
    const char *name;
    uint64_t ns; /* length of one unit */
} units[] = {
    {"ns", 1},         {"us", 1000},       {"ms", 1000000},
    {"s", 1000000000}, {"m", 60000000000}, {"h", 3600000000000},
};

/* A zeroed dist is the constant 0: every init starts there, so a failed init can be fini'd. */
static void reset(struct dist *d)
{
    memset(d, 0, sizeof *d);
    assert(d->kind == DIST_CONST);
}

static int check_positive(sim_time t, const char *what, const char *path, struct err *e)
{
    char s[DIST_DURATION_MAX];

    if (t > 0) {
        return 0;
    }
    dist_format_duration(t, s, sizeof s);
    err_at(e, path, "%s must be greater than 0, got \"%s\"", what, s);
    return -1;
}

static int check_cv(double cv, const char *path, struct err *e)
{
    if (!(cv > 0)) {
        err_at(e, path, "cv must be greater than 0, got %g", cv);
        return -1;
    }
    if (!isfinite(cv)) {
        err_at(e, path, "cv must be finite, got %g", cv);
        return -1;
    }
    return 0;
}

void dist_init_const(struct dist *d, sim_time value)
{
    assert(value >= 0);
    reset(d);
    d->value = value;
}

int dist_init_exponential(struct dist *d, sim_time mean, const char *path, struct err *e)
{
    reset(d);
    if (check_positive(mean, "mean", path, e) < 0) {
        return -1;
    }
    d->kind = DIST_EXPONENTIAL;
    d->mean_ns = (double)mean;
    return 0;
}

int dist_init_uniform(struct dist *d, sim_time min, sim_time max, const char *path, struct err *e)
{
    char a[DIST_DURATION_MAX], b[DIST_DURATION_MAX];

    reset(d);
    if (min < 0 || max < min) {
        dist_format_duration(min, a, sizeof a);
        dist_format_duration(max, b, sizeof b);
        if (min < 0) {
            err_at(e, path, "min must not be negative, got \"%s\"", a);
        } else {
            err_at(e, path, "max (\"%s\") must not be less than min (\"%s\")", b, a);
        }
        return -1;
    }
    d->kind = DIST_UNIFORM;
    d->min = min;
    d->max = max;
    return 0;
}

int dist_init_lognormal_median_p99(struct dist *d, sim_time median, sim_time p99, const char *path,
                                   struct err *e)
{
    char a[DIST_DURATION_MAX], b[DIST_DURATION_MAX];

    reset(d);
    if (check_positive(median, "median", path, e) < 0) {
        return -1;
    }
    if (p99 <= median) {
        dist_format_duration(p99, a, sizeof a);
        dist_format_duration(median, b, sizeof b);
        err_at(e, path, "p99 (\"%s\") must be greater than median (\"%s\")", a, b);
        return -1;
    }
    d->kind = DIST_LOGNORMAL;
    d->mu = log((double)median);
    d->sigma = (log((double)p99) - d->mu) / gsl_cdf_ugaussian_Pinv(0.99);
    return 0;
}

int dist_init_lognormal_mean_cv(struct dist *d, sim_time mean, double cv, const char *path,
                                struct err *e)
{
    double var_log;

    reset(d);
    if (check_positive(mean, "mean", path, e) < 0 || check_cv(cv, path, e) < 0) {
        return -1;
    }
    var_log = log1p(cv * cv);
    d->kind = DIST_LOGNORMAL;
    d->sigma = sqrt(var_log);
    d->mu = log((double)mean) - var_log / 2;
    return 0;
}

int dist_init_gamma(struct dist *d, sim_time mean, double cv, const char *path, struct err *e)
{
    reset(d);
    if (check_positive(mean, "mean", path, e) < 0 || check_cv(cv, path, e) < 0) {
        return -1;
    }
    d->kind = DIST_GAMMA;
    d->mean_ns = (double)mean;
    d->shape = 1 / (cv * cv);
    d->scale = d->mean_ns * cv * cv;
    return 0;
}

/*
 * Check an empirical table.  Returns 0, or -1 with the message in msg and
 * *bad set to the offending point's index (npts when the count is wrong).
 */
static int check_table(const struct dist_point *pts, size_t npts, char *msg, size_t size,
                       size_t *bad)
{
    char a[DIST_DURATION_MAX], b[DIST_DURATION_MAX];

    *bad = npts;
    if (npts < 2) {
        snprintf(msg, size, "quantiles need at least 2 points, got %zu", npts);
        return -1;
    }
    *bad = 0;
    if (pts[0].q != 0) {
        snprintf(msg, size, "quantiles must start at 0, got %g", pts[0].q);
        return -1;
    }
    if (pts[0].at < 0) {
        dist_format_duration(pts[0].at, a, sizeof a);
        snprintf(msg, size, "duration at quantile 0 must not be negative, got \"%s\"", a);
        return -1;
    }
    for (size_t i = 1; i < npts; i++) {
        *bad = i;
        if (!(pts[i].q > pts[i - 1].q)) {
            snprintf(msg, size,
                     "quantile %g at index %zu must be greater than the previous one (%g)",
                     pts[i].q, i, pts[i - 1].q);
            return -1;
        }
        if (pts[i].at < pts[i - 1].at) {
            dist_format_duration(pts[i].at, a, sizeof a);
            dist_format_duration(pts[i - 1].at, b, sizeof b);
            snprintf(msg, size,
                     "duration at quantile %g (\"%s\") must not be less than the previous one "
                     "(\"%s\")",
                     pts[i].q, a, b);
            return -1;
        }
    }
    if (pts[npts - 1].q != 1) {
        snprintf(msg, size, "quantiles must end at 1, got %g", pts[npts - 1].q);
        return -1;
    }
    return 0;
}

int dist_init_empirical(struct dist *d, const struct dist_point *pts, size_t npts, const char *path,
                        struct err *e)
{
    char msg[ERR_MSG_MAX];
    size_t bad;

    reset(d);
    if (check_table(pts, npts, msg, sizeof msg, &bad) < 0) {
        err_at(e, path, "%s", msg);
        return -1;
    }
    d->kind = DIST_EMPIRICAL;
    d->pts = xmalloc(npts * sizeof *d->pts);
    memcpy(d->pts, pts, npts * sizeof *d->pts);
    d->npts = npts;
    return 0;
}

/* A table being read from a file, with the line each point came from. */
struct table {
    struct dist_point *pts; /* owned */
    size_t *lines;          /* owned: 1-based line number of each point */
    size_t n, cap;          /* points used, allocated */
};

static void table_push(struct table *t, double q, sim_time at, size_t line)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->pts = xrealloc(t->pts, t->cap * sizeof *t->pts);
        t->lines = xrealloc(t->lines, t->cap * sizeof *t->lines);
    }
    t->pts[t->n].q = q;
    t->pts[t->n].at = at;
    t->lines[t->n] = line;
    t->n++;
}

/* Strip leading and trailing white space in place (the string is modified). */
static char *trim(char *s)
{
    char *end = s + strlen(s);

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n')) {
        end--;
    }
    *end = '\0';
    return s;
}

/*
 * A decimal number at s (no hex, inf or nan).  Returns 0 and sets *v and
 * *rest to the first character after it, or -1.
 */
static int parse_number(const char *s, double *v, const char **rest)
{
    char *end;

    errno = 0;
    *v = strtod(s, &end);
    if (end == s || errno != 0 || !isfinite(*v) ||
        strspn(s, "+-.0123456789eE") < (size_t)(end - s)) {
        return -1;
    }
    *rest = end;
    return 0;
}

/* "15", "15ms", "1.5us", "2m" ...: a bare number is milliseconds.  Returns 0 or -1. */
static int parse_duration(const char *s, sim_time *out)
{
    const size_t nunits = sizeof units / sizeof units[0];
    const char *unit;
    double v, unit_s = 1e-3;

    if (parse_number(s, &v, &unit) < 0) {
        return -1;
    }
    if (*unit) {
        size_t i = 0;

        while (i < nunits && strcmp(unit, units[i].name) != 0) {
            i++;
        }
        if (i == nunits) {
            return -1;
        }
        unit_s = (double)units[i].ns / 1e9; /* correctly rounded: the same double as 1e-3 etc. */
    }
    if (!(fabs(v * unit_s) < 9.2e9)) {
        return -1; /* beyond sim_time's range */
    }
    *out = sim_time_from_s(v * unit_s);
    return 0;
}

/* One non-blank line "q,duration" (modified in place).  Returns 1 for a header, 0, or -1. */
static int parse_line(char *line, int may_be_header, struct table *t, size_t lineno,
                      const char *file, const char *path, struct err *e)
{
    char *comma = strchr(line, ',');
    const char *qtext, *dtext, *rest;
    double q;
    sim_time at;

    if (!comma || strchr(comma + 1, ',')) {
        err_at(e, path, "%s:%zu: expected \"q,duration\", got \"%s\"", file, lineno, line);
        return -1;
    }
    *comma = '\0';
    qtext = trim(line);
    dtext = trim(comma + 1);
    if (parse_number(qtext, &q, &rest) < 0 || *rest != '\0') {
        if (may_be_header) {
            return 1;
        }
        err_at(e, path, "%s:%zu: invalid quantile \"%s\"", file, lineno, qtext);
        return -1;
    }
    if (parse_duration(dtext, &at) < 0) {
        err_at(e, path,
               "%s:%zu: invalid duration \"%s\" (expected milliseconds, or a number with a "
               "unit: ns, us, ms, s, m, h)",
               file, lineno, dtext);
        return -1;
    }
    table_push(t, q, at, lineno);
    return 0;
}

static int read_table(FILE *f, struct table *t, const char *file, const char *path, struct err *e)
{
    char *buf = NULL;
    size_t cap = 0, lineno = 0;
    int seen = 0, rc = 0;

    while (rc >= 0 && getline(&buf, &cap, f) >= 0) {
        char *line = trim(buf);

        lineno++;
        if (*line != '\0') {
            rc = parse_line(line, !seen, t, lineno, file, path, e);
            seen = 1;
        }
    }
    if (rc >= 0 && ferror(f)) {
        err_at(e, path, "cannot read \"%s\": %s", file, strerror(errno));
        rc = -1;
    }
    free(buf);
    return rc < 0 ? -1 : 0;
}

int dist_init_empirical_file(struct dist *d, const char *file, const char *path, struct err *e)
{
    struct table t = {0};
    char msg[ERR_MSG_MAX];
    size_t bad;
    FILE *f = fopen(file, "r");
    int rc = -1;

    reset(d);
    if (!f) {
        err_at(e, path, "cannot open \"%s\": %s", file, strerror(errno));
        return -1;
    }
    if (read_table(f, &t, file, path, e) < 0) {
        goto out;
    }
    if (check_table(t.pts, t.n, msg, sizeof msg, &bad) < 0) {
        if (bad < t.n) {
            err_at(e, path, "%s:%zu: %s", file, t.lines[bad], msg);
        } else {
            err_at(e, path, "%s: %s", file, msg);
        }
        goto out;
    }
    d->kind = DIST_EMPIRICAL;
    d->pts = t.pts;
    d->npts = t.n;
    t.pts = NULL;
    rc = 0;
out:
    fclose(f);
    free(t.pts);
    free(t.lines);
    return rc;
}

void dist_fini(struct dist *d)
{
    free(d->pts);
    d->pts = NULL;
    d->npts = 0;
}

void dist_copy(struct dist *dst, const struct dist *src)
{
    assert(dst != src);
    *dst = *src;
    if (src->kind == DIST_EMPIRICAL) {
        dst->pts = xmalloc(src->npts * sizeof *dst->pts);
        memcpy(dst->pts, src->pts, src->npts * sizeof *dst->pts);
    }
}

/* Inverse CDF of the table at u in [0, 1). */
static double empirical_ns(const struct dist *d, double u)
{
    const struct dist_point *p = d->pts;
    size_t lo = 0, hi = d->npts - 1; /* p[lo].q <= u < p[hi].q */

    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (p[mid].q <= u) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return (double)p[lo].at + (u - p[lo].q) / (p[hi].q - p[lo].q) * (double)(p[hi].at - p[lo].at);
}

static double sample_ns(const struct dist *d, gsl_rng *r)
{
    switch (d->kind) {
    case DIST_CONST:
        return (double)d->value;
    case DIST_EXPONENTIAL:
        return rng_exponential(r, d->mean_ns);
    case DIST_UNIFORM:
        return gsl_ran_flat(r, (double)d->min, (double)d->max);
    case DIST_LOGNORMAL:
        return exp(d->mu + d->sigma * gsl_ran_gaussian_ziggurat(r, 1.0));
    case DIST_GAMMA:
        return gsl_ran_gamma(r, d->shape, d->scale);
    case DIST_EMPIRICAL:
        return empirical_ns(d, gsl_rng_uniform(r));
    }
    assert(0 && "unknown dist kind");
    return 0;
}

sim_time dist_sample(const struct dist *d, gsl_rng *r)
{
    sim_time t;

    if (d->kind == DIST_CONST) {
        return d->value;
    }
    t = sim_time_from_s(sample_ns(d, r) * 1e-9);
    assert(t >= 0);
    return t;
}

static double empirical_mean_ns(const struct dist *d)
{
    double sum = 0;

    for (size_t i = 1; i < d->npts; i++) {
        sum += (d->pts[i].q - d->pts[i - 1].q) * ((double)d->pts[i].at + (double)d->pts[i - 1].at);
    }
    return sum / 2;
}

double dist_mean_ns(const struct dist *d)
{
    switch (d->kind) {
    case DIST_CONST:
        return (double)d->value;
    case DIST_EXPONENTIAL:
    case DIST_GAMMA:
        return d->mean_ns;
    case DIST_UNIFORM:
        return ((double)d->min + (double)d->max) / 2;
    case DIST_LOGNORMAL:
        return exp(d->mu + d->sigma * d->sigma / 2);
    case DIST_EMPIRICAL:
        return empirical_mean_ns(d);
    }
    assert(0 && "unknown dist kind");
    return 0;
}

int dist_is_const(const struct dist *d)
{
    switch (d->kind) {
    case DIST_CONST:
        return 1;
    case DIST_UNIFORM:
        return d->min == d->max;
    case DIST_EMPIRICAL:
        return d->pts[0].at == d->pts[d->npts - 1].at;
    case DIST_EXPONENTIAL:
    case DIST_LOGNORMAL:
    case DIST_GAMMA:
        return 0; /* their validated parameters are never degenerate */
    }
    assert(0 && "unknown dist kind");
    return 0;
}

/*
 * mag in unit u, in decimal, if exact within 15 fraction digits (enough for
 * minutes and hours).  Returns the length, or -1.
 */
static int format_in_unit(uint64_t mag, const struct unit *u, const char *sign, char *buf,
                          size_t size)
{
    char frac[16];
    size_t nfrac = 0;
    uint64_t rem = mag % u->ns;

    while (rem != 0 && nfrac < sizeof frac - 1) {
        rem *= 10;
        frac[nfrac++] = (char)('0' + rem / u->ns);
        rem %= u->ns;
    }
    if (rem != 0) {
        return -1;
    }
    frac[nfrac] = '\0';
    return snprintf(buf, size, "%s%llu%s%s%s", sign, (unsigned long long)(mag / u->ns),
                    nfrac ? "." : "", frac, u->name);
}

void dist_format_duration(sim_time t, char *buf, size_t size)
{
    uint64_t mag = t < 0 ? (uint64_t)(-(t + 1)) + 1 : (uint64_t)t;
    char best[DIST_DURATION_MAX] = "0s", cand[DIST_DURATION_MAX];
    int best_len = -1;

    for (size_t i = 0; i < sizeof units / sizeof units[0] && mag >= units[i].ns; i++) {
        int len = format_in_unit(mag, &units[i], t < 0 ? "-" : "", cand, sizeof cand);

        if (len > 0 && (best_len < 0 || len <= best_len)) { /* ties: the larger unit */
            best_len = len;
            memcpy(best, cand, sizeof best);
        }
    }
    snprintf(buf, size, "%s", best);
}

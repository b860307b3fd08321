/*
 * slo.c - parsing and judging `poolsim size` objectives (see slo.h).
 *
 * Grammar: OBJ{,OBJ}, OBJ = METRIC OP NUMBER with optional blanks around
 * each part; METRIC is a metric column name (not a _ci column); NUMBER a
 * finite decimal or exponent number.  The operator is matched longest
 * first, so "<=" is never read as "<" followed by "=...".
 */
#include "sim/slo.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xalloc.h"

static const char *const op_texts[] = {
    [SLO_LT] = "<", [SLO_LE] = "<=", [SLO_GT] = ">", [SLO_GE] = ">="};

const char *slo_op_text(enum slo_op op)
{
    return op_texts[op];
}

const char *slo_verdict_name(enum slo_verdict v)
{
    switch (v) {
    case SLO_PASS:
        return "pass";
    case SLO_FAIL:
        return "fail";
    case SLO_UNCLEAR:
        return "unclear";
    }
    return "?";
}

/* s[0..n) without leading and trailing blanks, into buf. */
static void trimmed(const char *s, size_t n, char *buf, size_t size)
{
    while (n > 0 && isspace((unsigned char)s[0])) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        n--;
    }
    snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), s);
}

/* The first operator in s: its position and kind; -1 when there is none. */
static int find_op(const char *s, size_t *pos, size_t *len, enum slo_op *op)
{
    const char *p = strpbrk(s, "<>");

    if (!p) {
        return -1;
    }
    *pos = (size_t)(p - s);
    *len = p[1] == '=' ? 2 : 1;
    *op = p[0] == '<' ? (*len == 2 ? SLO_LE : SLO_LT) : (*len == 2 ? SLO_GE : SLO_GT);
    return 0;
}

static int find_metric(const char *name, const struct runner_metric *metrics, size_t n, size_t *k)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(metrics[i].name, name) == 0) {
            *k = i;
            return 0;
        }
    }
    return -1;
}

/* One objective, one = its text as written (trimmed). */
static int parse_one(const char *one, const struct runner_metric *metrics, size_t nmetrics,
                     struct slo *o, struct err *e)
{
    char name[96], num[64];
    size_t pos, len;
    char *end;

    if (find_op(one, &pos, &len, &o->op) != 0) {
        err_set(e, "--slo: \"%s\" has no operator (expected METRIC<VALUE, <=, > or >=)", one);
        return -1;
    }
    trimmed(one, pos, name, sizeof name);
    trimmed(one + pos + len, strlen(one + pos + len), num, sizeof num);
    if (find_metric(name, metrics, nmetrics, &o->metric) != 0) {
        err_set(e,
                "--slo: unknown metric \"%s\" in \"%s\" (expected a points.csv column such "
                "as latency_p99_ms or error_rate)",
                name, one);
        return -1;
    }
    errno = 0;
    o->threshold = strtod(num, &end);
    if (!num[0] || *end || errno || !isfinite(o->threshold)) {
        err_set(e, "--slo: \"%s\" is not a number in \"%s\"", num, one);
        return -1;
    }
    snprintf(o->text, sizeof o->text, "%s%s%.9g", name, op_texts[o->op], o->threshold);
    return 0;
}

int slo_parse(const char *spec, const struct runner_metric *metrics, size_t nmetrics,
              struct slo **out, size_t *n, struct err *e)
{
    size_t cap = 1;
    struct slo *v;

    for (const char *p = spec; *p; p++) {
        cap += *p == ',';
    }
    v = xcalloc(cap, sizeof *v);
    *n = 0;
    for (const char *p = spec;; p++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char one[256];

        trimmed(p, len, one, sizeof one);
        if (!one[0]) {
            err_set(e, "--slo: empty objective in \"%s\" (expected METRIC<VALUE[,...])", spec);
            free(v);
            return -1;
        }
        if (parse_one(one, metrics, nmetrics, &v[*n], e) != 0) {
            free(v);
            return -1;
        }
        (*n)++;
        if (!comma) {
            break;
        }
        p = comma;
    }
    *out = v;
    return 0;
}

/* Does x satisfy "x op threshold"? */
static int holds(enum slo_op op, double x, double threshold)
{
    switch (op) {
    case SLO_LT:
        return x < threshold;
    case SLO_LE:
        return x <= threshold;
    case SLO_GT:
        return x > threshold;
    case SLO_GE:
        return x >= threshold;
    }
    return 0;
}

enum slo_verdict slo_judge(const struct slo *o, double mean, double ci)
{
    int upper_side = o->op == SLO_LT || o->op == SLO_LE; /* the passing side is below */
    double worst, best;

    if (isnan(mean)) {
        return SLO_FAIL;
    }
    if (isnan(ci)) {
        return SLO_UNCLEAR;
    }
    worst = upper_side ? mean + ci : mean - ci;
    best = upper_side ? mean - ci : mean + ci;
    if (holds(o->op, worst, o->threshold)) {
        return SLO_PASS;
    }
    return holds(o->op, best, o->threshold) ? SLO_UNCLEAR : SLO_FAIL;
}

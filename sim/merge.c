/*
 * merge.c - join shard outputs into one run's files (see merge.h; DESIGN.md
 * §5 "Outputs", §6 "Determinism").
 *
 * The runner writes each file in point order, a point's rows together and
 * every row starting with its point index, so a shard's file is the
 * unsharded file with the other points' rows left out.  Merging is
 * therefore a copy: index each shard's rows by point (a byte span per
 * point), check that the spans tile the run, and write the header and the
 * spans in point order.  Rows are split at line ends outside double quotes
 * (a CSV cell may hold a quoted newline).  summary.json is handled the same
 * way on its text: the first shard's document, its "points" array rebuilt
 * from every shard's elements in point order and three values replaced
 * ("shard", "wall_time_s", "partial"); the text was parsed first, so the
 * small scanner below only ever sees valid JSON.
 *
 * Invariants: points.csv is read first and decides which shard holds each
 * point (struct shard.has); every other file's rows must belong to those
 * points.  One CSV file kind is in memory at a time; outputs are written
 * under temporary names and renamed only when all are written.
 */
#include "sim/merge.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/json.h"
#include "sim/out.h"
#include "sim/xalloc.h"

#define MERGE_PATH_MAX 4096

enum { MERGE_OK = 0, MERGE_INVALID = 1, MERGE_IO = 2 };

struct span {
    size_t start, end; /* byte offsets in the text; end == 0: none */
    size_t shard;      /* index of the shard the bytes come from */
};

/* One input directory: its summary.json, read and located. */
struct shard {
    const char *dir;         /* borrowed */
    char *summary;           /* summary.json's text (owned) */
    size_t summary_len;      /* bytes */
    struct cJSON *doc;       /* summary.json parsed (owned) */
    unsigned k, n;           /* its "shard" record: k of n */
    size_t total;            /* "points_total" */
    const char *fingerprint; /* borrowed from doc */
    const char *version;     /* "poolsim_version", borrowed from doc */
    bool partial;            /* an interrupted run */
    double wall_s;           /* "wall_time_s" */
    struct span v_shard;     /* where the values the merge replaces lie in summary */
    struct span v_points, v_wall, v_partial;
    size_t nelems;      /* elements of "points" */
    struct span *elems; /* their spans (owned) */
    size_t *elem_point; /* their "point" (owned) */
    bool *has;          /* [total]: the point is in its points.csv (owned) */
};

/* One shard's copy of a CSV file. */
struct csv_text {
    char *data;     /* the whole file (owned) */
    size_t len;     /* bytes */
    size_t hdr_end; /* bytes of the header row, with its line end */
};

struct merge {
    struct shard *sh; /* [nsh] (owned) */
    size_t nsh;
    size_t total;    /* points of the run */
    char **csv;      /* mergeable CSV file names, sorted (owned) */
    size_t ncsv;     /* points.csv first among them */
    const char *out; /* output directory (borrowed) */
    size_t ntmp;     /* temporary files written: csv[0..ntmp-1], then summary.json */
};

/* ---- reading ---- */

static void path_join(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static int io_error(struct err *e, const char *what, const char *path)
{
    int saved = errno;

    err_clear(e);
    err_set(e, "cannot %s \"%s\": %s", what, path, strerror(saved));
    return MERGE_IO;
}

/* The whole file (NUL-terminated; caller frees *text). */
static int read_whole(const char *path, char **text, size_t *len, struct err *e)
{
    FILE *f = fopen(path, "rb");
    struct out_buf b;
    char chunk[65536];
    size_t n;
    int failed;

    if (!f) {
        return io_error(e, "read", path);
    }
    out_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        out_buf_put(&b, chunk, n);
    }
    failed = ferror(f);
    fclose(f);
    if (failed) {
        out_buf_fini(&b);
        errno = EIO;
        return io_error(e, "read", path);
    }
    *text = b.data ? b.data : xstrdup("");
    *len = b.len;
    return MERGE_OK;
}

/* An error about one file (and a line of it when line > 0). */
static int file_error(struct err *e, const char *dir, const char *name, int line)
{
    char path[MERGE_PATH_MAX];

    path_join(path, sizeof path, dir, name);
    err_clear(e);
    err_set_file(e, path);
    e->line = line;
    e->col = line > 0 ? 1 : 0;
    return MERGE_INVALID;
}

/* ---- summary.json: a scanner over text that json_parse has accepted ---- */

static size_t skip_ws(const char *s, size_t len, size_t p)
{
    while (p < len && strchr(" \t\r\n", s[p])) {
        p++;
    }
    return p;
}

/* Past the string literal starting at p (on its opening quote). */
static size_t skip_string(const char *s, size_t len, size_t p)
{
    for (p++; p < len && s[p] != '"'; p++) {
        p += s[p] == '\\';
    }
    return p + 1;
}

/* Past the value starting at p. */
static size_t skip_value(const char *s, size_t len, size_t p)
{
    size_t depth = 0;

    if (s[p] != '"' && s[p] != '{' && s[p] != '[') {
        while (p < len && !strchr(",}] \t\r\n", s[p])) {
            p++; /* a number or a literal */
        }
        return p;
    }
    do {
        if (s[p] == '"') {
            p = skip_string(s, len, p);
            continue;
        }
        depth += s[p] == '{' || s[p] == '[';
        depth -= s[p] == '}' || s[p] == ']';
        p++;
    } while (p < len && depth > 0);
    return p;
}

/* The spans of the n elements of the array whose value spans v. */
static void array_spans(const char *s, const struct span *v, struct span *out, size_t n)
{
    size_t p = skip_ws(s, v->end, v->start + 1);

    for (size_t i = 0; i < n; i++) {
        out[i].start = p;
        out[i].end = skip_value(s, v->end, p);
        p = skip_ws(s, v->end, out[i].end);
        p = skip_ws(s, v->end, p + 1); /* past the comma */
    }
}

/* Where the value of top-level member key (raw, n bytes) goes; NULL for the ones kept as is. */
static struct span *member_slot(struct shard *sh, const char *key, size_t n)
{
    struct {
        const char *name;
        struct span *slot;
    } slots[] = {{"shard", &sh->v_shard},
                 {"points", &sh->v_points},
                 {"wall_time_s", &sh->v_wall},
                 {"partial", &sh->v_partial}};

    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        if (strlen(slots[i].name) == n && memcmp(slots[i].name, key, n) == 0) {
            return slots[i].slot;
        }
    }
    return NULL;
}

/* Locate the values of the top-level members the merge replaces. */
static void summary_spans(struct shard *sh)
{
    const char *s = sh->summary;
    size_t len = sh->summary_len, p = skip_ws(s, len, 0) + 1;

    while ((p = skip_ws(s, len, p)) < len && s[p] == '"') {
        size_t key = p + 1, key_end = skip_string(s, len, p) - 1;
        struct span *slot = member_slot(sh, s + key, key_end - key);
        size_t start = skip_ws(s, len, skip_ws(s, len, key_end + 1) + 1);

        p = skip_value(s, len, start);
        if (slot) {
            *slot = (struct span){start, p, 0};
        }
        p = skip_ws(s, len, p) + 1; /* past the comma or the closing brace */
    }
}

/* ---- summary.json: the fields ---- */

static int get_member(const struct json_at *obj, const char *key, struct json_at *out,
                      struct err *e)
{
    char path[JSON_PATH_MAX];

    if (json_get(obj, key, out)) {
        return 0;
    }
    json_path_key(path, sizeof path, obj->path, key);
    err_at(e, path, "missing (not written by this version of poolsim run)");
    return -1;
}

/* "shard": {"k", "n", "points_total", "fingerprint"}. */
static int read_shard_record(struct shard *sh, const struct json_at *root, struct err *e)
{
    struct json_at rec, v;
    int64_t k, n, total;

    if (get_member(root, "shard", &rec, e) != 0 || json_expect_object(&rec, e) != 0 ||
        get_member(&rec, "k", &v, e) != 0 || json_int(&v, 1, UINT_MAX, &k, e) != 0 ||
        get_member(&rec, "n", &v, e) != 0 || json_int(&v, k, UINT_MAX, &n, e) != 0 ||
        get_member(&rec, "points_total", &v, e) != 0 ||
        json_int(&v, 0, INT32_MAX, &total, e) != 0 || get_member(&rec, "fingerprint", &v, e) != 0 ||
        json_string(&v, &sh->fingerprint, e) != 0) {
        return -1;
    }
    sh->k = (unsigned)k;
    sh->n = (unsigned)n;
    sh->total = (size_t)total;
    return 0;
}

/* The "point" of every element of "points". */
static int read_points(struct shard *sh, const struct json_at *points, struct err *e)
{
    sh->nelems = json_size(points);
    sh->elems = xcalloc(sh->nelems, sizeof *sh->elems);
    sh->elem_point = xcalloc(sh->nelems, sizeof *sh->elem_point);
    for (size_t i = 0; i < sh->nelems; i++) {
        struct json_at el, v;
        int64_t p;

        json_child(points, i, &el, NULL);
        if (json_expect_object(&el, e) != 0 || get_member(&el, "point", &v, e) != 0 ||
            json_int(&v, 0, (int64_t)sh->total - 1, &p, e) != 0) {
            return -1;
        }
        sh->elem_point[i] = (size_t)p;
    }
    return 0;
}

static int read_fields(struct shard *sh, struct err *e)
{
    struct json_at root, v, points;

    json_root(sh->doc, &root);
    if (json_expect_object(&root, e) != 0 || get_member(&root, "poolsim_version", &v, e) != 0 ||
        json_string(&v, &sh->version, e) != 0 || read_shard_record(sh, &root, e) != 0 ||
        get_member(&root, "wall_time_s", &v, e) != 0 || json_double(&v, 0, 1e300, &sh->wall_s, e) ||
        get_member(&root, "partial", &v, e) != 0 || json_bool(&v, &sh->partial, e) != 0 ||
        get_member(&root, "points", &points, e) != 0 || json_expect_array(&points, e) != 0) {
        return -1;
    }
    return read_points(sh, &points, e);
}

/* Read, parse and locate dir/summary.json. */
static int load_summary(struct shard *sh, struct err *e)
{
    char path[MERGE_PATH_MAX];
    int rc;

    path_join(path, sizeof path, sh->dir, "summary.json");
    rc = read_whole(path, &sh->summary, &sh->summary_len, e);
    if (rc != MERGE_OK) {
        return rc;
    }
    if (json_parse(path, sh->summary, sh->summary_len, &sh->doc, e) != 0) {
        return MERGE_INVALID;
    }
    if (read_fields(sh, e) != 0) {
        err_set_file(e, path);
        return MERGE_INVALID;
    }
    summary_spans(sh);
    array_spans(sh->summary, &sh->v_points, sh->elems, sh->nelems);
    sh->has = xcalloc(sh->total, sizeof *sh->has);
    return MERGE_OK;
}

/* Shard i and shard 0 come from the same run: same version, points and fingerprint. */
static int same_run(const struct merge *m, size_t i, struct err *e)
{
    const struct shard *a = &m->sh[0], *b = &m->sh[i];

    if (strcmp(a->version, b->version) != 0) {
        file_error(e, b->dir, "summary.json", 0);
        err_set(e, "written by poolsim %s, but \"%s\" by poolsim %s", b->version, a->dir,
                a->version);
        return MERGE_INVALID;
    }
    if (a->total != b->total) {
        file_error(e, b->dir, "summary.json", 0);
        err_set(e, "a run of %zu points, but \"%s\" is a run of %zu (another experiment?)",
                b->total, a->dir, a->total);
        return MERGE_INVALID;
    }
    if (strcmp(a->fingerprint, b->fingerprint) != 0) {
        file_error(e, b->dir, "summary.json", 0);
        err_set(e,
                "not a shard of the same run as \"%s\" (fingerprint %s, not %s: another "
                "experiment file, seed or --set)",
                a->dir, b->fingerprint, a->fingerprint);
        return MERGE_INVALID;
    }
    return MERGE_OK;
}

/* ---- the set of CSV files ---- */

/* points.csv first, then by name. */
static int cmp_names(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int px = strcmp(x, "points.csv") == 0, py = strcmp(y, "points.csv") == 0;

    return px != py ? py - px : strcmp(x, y);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

/* The visible *.csv files of dir, points.csv first, which must be among them. */
static int list_csvs(const char *dir, char ***names, size_t *n, struct err *e)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    char path[MERGE_PATH_MAX];

    *names = NULL;
    *n = 0;
    if (!d) {
        return io_error(e, "read directory", dir);
    }
    while ((ent = readdir(d)) != NULL) {
        size_t len = strlen(ent->d_name);

        if (ent->d_name[0] != '.' && len > 4 && strcmp(ent->d_name + len - 4, ".csv") == 0) {
            *names = xrealloc(*names, (*n + 1) * sizeof **names);
            (*names)[(*n)++] = xstrdup(ent->d_name);
        }
    }
    closedir(d);
    qsort(*names, *n, sizeof **names, cmp_names);
    if (*n == 0 || strcmp((*names)[0], "points.csv") != 0) {
        path_join(path, sizeof path, dir, "points.csv");
        errno = ENOENT;
        return io_error(e, "read", path);
    }
    return MERGE_OK;
}

/* Shard i holds the same CSV files as shard 0. */
static int same_files(const struct merge *m, size_t i, char **names, size_t n, struct err *e)
{
    size_t j = 0;

    while (j < n && j < m->ncsv && strcmp(names[j], m->csv[j]) == 0) {
        j++;
    }
    if (j == n && j == m->ncsv) {
        return MERGE_OK;
    }
    err_clear(e);
    err_set_file(e, m->sh[i].dir);
    if (j < m->ncsv && (j == n || cmp_names(&names[j], &m->csv[j]) > 0)) {
        err_set(e, "has no %s, but \"%s\" has", m->csv[j], m->sh[0].dir);
    } else {
        err_set(e, "has %s, but \"%s\" has not", names[j], m->sh[0].dir);
    }
    return MERGE_INVALID;
}

/* Every directory: its files and its summary, from the same run as the first. */
static int load_all(struct merge *m, const char *const *dirs, struct err *e)
{
    for (size_t i = 0; i < m->nsh; i++) {
        char **names;
        size_t n;
        int rc;

        m->sh[i].dir = dirs[i];
        rc = list_csvs(dirs[i], &names, &n, e);
        if (rc == MERGE_OK && i == 0) {
            m->csv = names;
            m->ncsv = n;
            names = NULL;
            n = 0;
        }
        rc = rc != MERGE_OK ? rc : load_summary(&m->sh[i], e);
        rc = rc != MERGE_OK ? rc : same_run(m, i, e);
        rc = rc != MERGE_OK || i == 0 ? rc : same_files(m, i, names, n, e);
        free_names(names, n);
        if (rc != MERGE_OK) {
            return rc;
        }
        m->total = m->sh[0].total;
    }
    return MERGE_OK;
}

/* ---- CSV files ---- */

/* Past the row starting at p: its line end outside double quotes (or the end of the text). */
static size_t row_end(const char *s, size_t len, size_t p)
{
    bool quoted = false;

    for (; p < len; p++) {
        if (s[p] == '"') {
            quoted = !quoted;
        } else if (s[p] == '\n' && !quoted) {
            return p + 1;
        }
    }
    return len;
}

/* The point index that starts a row (decimal digits, then a comma); -1 if none below total. */
static int row_point(const char *s, size_t n, size_t total, size_t *point)
{
    size_t v = 0, i = 0;

    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > (SIZE_MAX - 9) / 10) {
            return -1;
        }
        v = v * 10 + (size_t)(s[i] - '0');
    }
    if (i == 0 || i == n || (s[i] != ',' && s[i] != '\n') || v >= total) {
        return -1;
    }
    *point = v;
    return 0;
}

/* Cell col (1-based) of a header row, as written, into buf ("" if absent). */
static void header_cell(const char *h, size_t col, char *buf, size_t size)
{
    size_t p = 0, n = 0;
    bool quoted = false;

    for (size_t c = 1; c < col && h[p] != '\n'; p++) {
        quoted ^= h[p] == '"';
        c += h[p] == ',' && !quoted;
    }
    for (; h[p] != '\n' && (quoted || h[p] != ',') && n + 1 < size; p++) {
        quoted ^= h[p] == '"';
        buf[n++] = h[p];
    }
    buf[n] = '\0';
}

/* The header of shard i's copy is the same as shard 0's (and shard 0's starts with "point"). */
static int check_header(const struct merge *m, size_t i, const char *name, const struct csv_text *t,
                        struct err *e)
{
    const struct csv_text *t0 = &t[0];
    char here[128], there[128];
    size_t p = 0, col = 1;
    bool quoted = false;

    if (t[i].hdr_end == 0 || t[i].data[t[i].hdr_end - 1] != '\n') {
        file_error(e, m->sh[i].dir, name, 0);
        err_set(e, "no header row (an empty or truncated file)");
        return MERGE_INVALID;
    }
    if (i == 0) {
        if (strncmp(t0->data, "point,", 6) != 0 && strncmp(t0->data, "point\n", 6) != 0) {
            file_error(e, m->sh[i].dir, name, 1);
            err_set(e, "the first column is not \"point\": cannot merge this file");
            return MERGE_INVALID;
        }
        return MERGE_OK;
    }
    if (t[i].hdr_end == t0->hdr_end && memcmp(t[i].data, t0->data, t0->hdr_end) == 0) {
        return MERGE_OK;
    }
    for (; t[i].data[p] == t0->data[p]; p++) {
        quoted ^= t0->data[p] == '"';
        col += t0->data[p] == ',' && !quoted;
    }
    if (!quoted && strchr(",\n", t[i].data[p]) && strchr(",\n", t0->data[p])) {
        col++; /* one header has a column more: the first is the one that differs */
    }
    header_cell(t[i].data, col, here, sizeof here);
    header_cell(t0->data, col, there, sizeof there);
    file_error(e, m->sh[i].dir, name, 1);
    err_set(e, "header differs from \"%s/%s\" at column %zu (\"%s\" here, \"%s\" there)",
            m->sh[0].dir, name, col, here, there);
    return MERGE_INVALID;
}

/* Where point's rows may come from: points.csv decides, every other file follows it. */
static int row_owner(const struct merge *m, size_t i, const char *name, bool is_points,
                     size_t point, const struct span *spans, struct err *e)
{
    const struct shard *sh = &m->sh[i];

    if (is_points && point % sh->n != sh->k - 1) {
        err_set(e, "point %zu does not belong to shard %u/%u (index mod %u is not %u)", point,
                sh->k, sh->n, sh->n, sh->k - 1);
    } else if (is_points && spans[point].end && spans[point].shard == i) {
        err_set(e, "point %zu appears twice", point);
    } else if (is_points && spans[point].end) {
        err_set(e, "point %zu is also in \"%s/%s\"", point, m->sh[spans[point].shard].dir, name);
    } else if (!is_points && !sh->has[point]) {
        err_set(e, "point %zu is not in \"%s/points.csv\"", point, sh->dir);
    } else if (!is_points && spans[point].end) {
        err_set(e, "the rows of point %zu are not together", point);
    } else {
        return MERGE_OK;
    }
    return MERGE_INVALID;
}

/* Index shard i's rows by point into spans. */
static int index_rows(struct merge *m, size_t i, const char *name, const struct csv_text *t,
                      bool is_points, struct span *spans, struct err *e)
{
    size_t prev = SIZE_MAX, point;
    int line = 2;

    for (size_t p = t->hdr_end, end; p < t->len; p = end) {
        end = row_end(t->data, t->len, p);
        file_error(e, m->sh[i].dir, name, line);
        if (t->data[end - 1] != '\n') {
            err_set(e, "the last row has no line end (a truncated file)");
            return MERGE_INVALID;
        }
        if (row_point(t->data + p, end - p, m->total, &point) != 0) {
            err_set(e, "the row does not start with a point index below %zu", m->total);
            return MERGE_INVALID;
        }
        if (point == prev && !is_points) {
            spans[point].end = end;
        } else if (row_owner(m, i, name, is_points, point, spans, e) != MERGE_OK) {
            return MERGE_INVALID;
        } else {
            spans[point] = (struct span){p, end, i};
            m->sh[i].has[point] |= is_points;
        }
        prev = point;
        for (size_t q = p; q < end; q++) {
            line += t->data[q] == '\n';
        }
    }
    err_clear(e);
    return MERGE_OK;
}

/* Every point is in points.csv, unless the shard that should hold it was interrupted. */
static int check_missing(const struct merge *m, const struct span *spans, struct err *e)
{
    for (size_t p = 0; p < m->total; p++) {
        size_t i = 0;

        while (i < m->nsh && p % m->sh[i].n != m->sh[i].k - 1) {
            i++;
        }
        if (spans[p].end || (i < m->nsh && m->sh[i].partial)) {
            continue;
        }
        err_clear(e);
        if (i == m->nsh) {
            err_set(e, "point %zu is missing: no directory given holds shard %zu/%u", p,
                    p % m->sh[0].n + 1, m->sh[0].n);
        } else {
            file_error(e, m->sh[i].dir, "points.csv", 0);
            err_set(e, "point %zu is missing from shard %u/%u, which is not partial", p, m->sh[i].k,
                    m->sh[i].n);
        }
        return MERGE_INVALID;
    }
    return MERGE_OK;
}

/* The header, then each point's rows in point order, to out/.name.tmp. */
static int write_csv(struct merge *m, const char *name, const struct csv_text *t,
                     const struct span *spans, struct err *e)
{
    struct out_buf b;
    int rc;

    out_buf_init(&b);
    out_buf_put(&b, t[0].data, t[0].hdr_end);
    for (size_t p = 0; p < m->total; p++) {
        if (spans[p].end) {
            out_buf_put(&b, t[spans[p].shard].data + spans[p].start, spans[p].end - spans[p].start);
        }
    }
    rc = out_write_tmp(m->out, name, &b, e) == 0 ? MERGE_OK : MERGE_IO;
    m->ntmp += rc == MERGE_OK;
    out_buf_fini(&b);
    return rc;
}

/* Merge CSV file c (points.csv first: it records which shard holds each point). */
static int merge_csv(struct merge *m, size_t c, struct err *e)
{
    const char *name = m->csv[c];
    struct csv_text *t = xcalloc(m->nsh, sizeof *t);
    struct span *spans = xcalloc(m->total, sizeof *spans);
    char path[MERGE_PATH_MAX];
    int rc = MERGE_OK;

    for (size_t i = 0; i < m->nsh && rc == MERGE_OK; i++) {
        path_join(path, sizeof path, m->sh[i].dir, name);
        rc = read_whole(path, &t[i].data, &t[i].len, e);
        if (rc == MERGE_OK) {
            t[i].hdr_end = row_end(t[i].data, t[i].len, 0);
            rc = check_header(m, i, name, t, e);
        }
        rc = rc != MERGE_OK ? rc : index_rows(m, i, name, &t[i], c == 0, spans, e);
    }
    if (rc == MERGE_OK && c == 0) {
        rc = check_missing(m, spans, e);
    }
    rc = rc != MERGE_OK ? rc : write_csv(m, name, t, spans, e);
    for (size_t i = 0; i < m->nsh; i++) {
        free(t[i].data);
    }
    free(t);
    free(spans);
    return rc;
}

/* ---- summary.json ---- */

/* Each point's element of "points", from the shard that holds it. */
static int collect_elems(const struct merge *m, struct span *elems, struct err *e)
{
    for (size_t i = 0; i < m->nsh; i++) {
        const struct shard *sh = &m->sh[i];

        for (size_t j = 0; j < sh->nelems; j++) {
            size_t p = sh->elem_point[j];

            file_error(e, sh->dir, "summary.json", 0);
            if (p % sh->n != sh->k - 1) {
                err_set(e, "point %zu does not belong to shard %u/%u", p, sh->k, sh->n);
                return MERGE_INVALID;
            }
            if (elems[p].end) {
                err_set(e, "point %zu is also in \"%s/summary.json\"", p,
                        m->sh[elems[p].shard].dir);
                return MERGE_INVALID;
            }
            elems[p] = (struct span){sh->elems[j].start, sh->elems[j].end, i};
        }
        for (size_t p = 0; p < m->total; p++) {
            if (sh->has[p] && !elems[p].end) {
                file_error(e, sh->dir, "summary.json", 0);
                err_set(e, "point %zu of points.csv is missing", p);
                return MERGE_INVALID;
            }
        }
    }
    err_clear(e);
    return MERGE_OK;
}

/* The merged values of "shard", "points", "wall_time_s" and "partial", in that order. */
static void merged_values(const struct merge *m, const struct span *elems, struct out_buf *v)
{
    double wall_s = 0;
    bool partial = false;
    size_t n = 0;

    out_buf_printf(&v[0],
                   "{\"k\": 1, \"n\": 1, \"points_total\": %zu, \"fingerprint\": ", m->total);
    out_json_str(&v[0], m->sh[0].fingerprint);
    out_buf_puts(&v[0], "}");
    out_buf_puts(&v[1], "[");
    for (size_t p = 0; p < m->total; p++) {
        if (elems[p].end) {
            out_buf_puts(&v[1], n++ ? ",\n    " : "\n    ");
            out_buf_put(&v[1], m->sh[elems[p].shard].summary + elems[p].start,
                        elems[p].end - elems[p].start);
        }
    }
    out_buf_puts(&v[1], "\n  ]");
    for (size_t i = 0; i < m->nsh; i++) {
        wall_s += m->sh[i].wall_s;
        partial = partial || m->sh[i].partial;
    }
    out_buf_printf(&v[2], "%.3f", wall_s);
    out_buf_puts(&v[3], partial ? "true" : "false");
}

/* Shard 0's summary.json with the four values replaced, to out/.summary.json.tmp. */
static int write_summary(struct merge *m, const struct span *elems, struct err *e)
{
    const struct shard *sh = &m->sh[0];
    const struct span *at[4] = {&sh->v_shard, &sh->v_points, &sh->v_wall, &sh->v_partial};
    struct out_buf v[4], b;
    size_t p = 0;
    int rc;

    out_buf_init(&b);
    for (size_t i = 0; i < 4; i++) {
        out_buf_init(&v[i]);
    }
    merged_values(m, elems, v);
    while (p < sh->summary_len) {
        size_t next = 4; /* the replaced value that starts first from p on */

        for (size_t i = 0; i < 4; i++) {
            if (at[i]->start >= p && (next == 4 || at[i]->start < at[next]->start)) {
                next = i;
            }
        }
        out_buf_put(&b, sh->summary + p, (next < 4 ? at[next]->start : sh->summary_len) - p);
        if (next == 4) {
            break;
        }
        out_buf_put(&b, v[next].data, v[next].len);
        p = at[next]->end;
    }
    rc = out_write_tmp(m->out, "summary.json", &b, e) == 0 ? MERGE_OK : MERGE_IO;
    m->ntmp += rc == MERGE_OK;
    for (size_t i = 0; i < 4; i++) {
        out_buf_fini(&v[i]);
    }
    out_buf_fini(&b);
    return rc;
}

static int merge_summary(struct merge *m, struct err *e)
{
    struct span *elems = xcalloc(m->total, sizeof *elems);
    int rc = collect_elems(m, elems, e);

    rc = rc != MERGE_OK ? rc : write_summary(m, elems, e);
    free(elems);
    return rc;
}

/* ---- the whole merge ---- */

/* The name of temporary file i: the CSV files, then summary.json. */
static const char *tmp_name(const struct merge *m, size_t i)
{
    return i < m->ncsv ? m->csv[i] : "summary.json";
}

/* Rename every temporary file into place; after a failure, remove the rest. */
static int commit_all(struct merge *m, struct err *e)
{
    int rc = MERGE_OK;

    for (size_t i = 0; i < m->ntmp; i++) {
        if (rc == MERGE_OK && out_commit(m->out, tmp_name(m, i), e) != 0) {
            rc = MERGE_IO;
        }
        if (rc != MERGE_OK) {
            out_discard(m->out, tmp_name(m, i));
        }
    }
    m->ntmp = 0;
    return rc;
}

static void merge_fini(struct merge *m)
{
    for (size_t i = 0; i < m->nsh; i++) {
        free(m->sh[i].summary);
        json_free(m->sh[i].doc);
        free(m->sh[i].elems);
        free(m->sh[i].elem_point);
        free(m->sh[i].has);
    }
    free(m->sh);
    free_names(m->csv, m->ncsv);
}

int merge_dirs(const char *const *dirs, size_t ndirs, const char *out_dir, struct err *e)
{
    struct merge m = {0};
    bool existed = true;
    int rc;

    assert(ndirs >= 1);
    err_clear(e);
    m.sh = xcalloc(ndirs, sizeof *m.sh);
    m.nsh = ndirs;
    m.out = out_dir;
    rc = load_all(&m, dirs, e);
    if (rc == MERGE_OK) {
        existed = access(out_dir, F_OK) == 0;
        rc = out_mkdir_p(out_dir, e) == 0 ? MERGE_OK : MERGE_IO;
    }
    for (size_t c = 0; c < m.ncsv && rc == MERGE_OK; c++) {
        rc = merge_csv(&m, c, e);
    }
    rc = rc != MERGE_OK ? rc : merge_summary(&m, e);
    rc = rc != MERGE_OK ? rc : commit_all(&m, e);
    for (size_t i = 0; i < m.ntmp; i++) {
        out_discard(out_dir, tmp_name(&m, i));
    }
    if (rc != MERGE_OK && !existed) {
        rmdir(out_dir); /* created for this merge and still empty: leave nothing */
    }
    merge_fini(&m);
    return rc;
}

/* ---- the command line ---- */

static int usage(struct err *e, const char *msg, const char *arg)
{
    err_clear(e);
    err_set(e, "%s%s%s%s (see poolsim --help)", msg, arg ? " \"" : "", arg ? arg : "",
            arg ? "\"" : "");
    return MERGE_IO;
}

/* out names one of dirs (the same directory: device and inode). */
static bool is_input(const char *out, const char *const *dirs, size_t n)
{
    struct stat so, sd;

    if (stat(out, &so) != 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (stat(dirs[i], &sd) == 0 && sd.st_dev == so.st_dev && sd.st_ino == so.st_ino) {
            return true;
        }
    }
    return false;
}

/* The first of dirs that names the same directory as an earlier one; n if none. */
static size_t given_twice(const char *const *dirs, size_t n)
{
    struct stat si, sj;

    for (size_t i = 1; i < n; i++) {
        for (size_t j = 0; j < i && stat(dirs[i], &si) == 0; j++) {
            if (stat(dirs[j], &sj) == 0 && si.st_dev == sj.st_dev && si.st_ino == sj.st_ino) {
                return i;
            }
        }
    }
    return n;
}

int merge_command(int argc, char **argv, struct err *e)
{
    const char **dirs = xcalloc((size_t)argc, sizeof *dirs);
    const char *out = NULL;
    size_t n = 0;
    int rc = MERGE_OK;

    for (int i = 2; i < argc && rc == MERGE_OK; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--out") == 0) {
            rc = usage(e, "option \"--out\" needs a value", NULL);
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            rc = usage(e, "unknown option", argv[i]);
        } else {
            dirs[n++] = argv[i];
        }
    }
    if (rc == MERGE_OK && n == 0) {
        rc = usage(e, "merge needs the shards' results directories", NULL);
    } else if (rc == MERGE_OK && !out) {
        rc = usage(e, "merge needs --out DIR, the directory to write", NULL);
    } else if (rc == MERGE_OK && given_twice(dirs, n) < n) {
        rc = usage(e, "a directory is given twice:", dirs[given_twice(dirs, n)]);
    } else if (rc == MERGE_OK && is_input(out, dirs, n)) {
        rc = usage(e, "--out must not be one of the directories merged, got", out);
    }
    rc = rc != MERGE_OK ? rc : merge_dirs(dirs, n, out, e);
    free(dirs);
    return rc;
}

/* A whole decimal number from 1 to UINT_MAX, digits only. */
static int parse_count(const char *s, size_t n, unsigned *out)
{
    unsigned long long v = 0;

    if (n == 0 || n > 10) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (unsigned long long)(s[i] - '0');
    }
    if (v < 1 || v > UINT_MAX) {
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

int merge_parse_shard(const char *s, unsigned *k, unsigned *n, struct err *e)
{
    const char *slash = strchr(s, '/');

    if (!slash || parse_count(s, (size_t)(slash - s), k) != 0 ||
        parse_count(slash + 1, strlen(slash + 1), n) != 0 || *k > *n) {
        err_clear(e);
        err_set(e, "--shard needs K/N with 1 <= K <= N (e.g. 2/3), got \"%s\"", s);
        return -1;
    }
    return 0;
}

/*
 * main.c - the command line, and the composition root: the one file of sim/
 * that knows the models (DESIGN.md §1).  Only main prints errors and exits
 * (STYLE rule 11); exit codes follow DESIGN.md §5:
 *   0 ok, 1 invalid experiment or input, 2 usage or I/O error,
 *   3 no configuration meets the objectives (size), 130 interrupted.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

#include "models/config.h"
#include "models/dburl.h"
#include "models/explain.h"
#include "models/scenario.h"
#include "models/sizing.h"
#include "sim/err.h"
#include "sim/interrupt.h"
#include "sim/json.h"
#include "sim/merge.h"
#include "sim/out.h"
#include "sim/runner.h"
#include "sim/size.h"
#include "sim/sweep.h"
#include "sim/xalloc.h"

#define POOLSIM_VERSION "0.1.0"
#define MAX_SETS 256
/* Where `poolsim plot` finds the gnuplot scripts when neither $POOLSIM_PLOTS nor ./plots has them
 * (the Makefile passes the source tree's plots/). */
#ifndef POOLSIM_PLOTS_DIR
#define POOLSIM_PLOTS_DIR "plots"
#endif

extern char **environ; /* libc's, for posix_spawnp */

enum { EXIT_OK = 0, EXIT_INVALID = 1, EXIT_USAGE = 2, EXIT_NONE = 3 };

static const char usage_text[] =
    "usage: poolsim run FILE [--out DIR] [--jobs N] [--set PATH=VALUE]... [--trace N] [--quiet]\n"
    "                        [--database-url-env NAME | --database-url URL]\n"
    "       poolsim plot DIR [--format png|svg|both] [--log] [--slo-p99 MS] [--points LIST]\n"
    "       poolsim merge DIR... --out DIR   join the outputs of run --shard into one run's\n"
    "       poolsim size FILE --slo OBJECTIVES --vary KEY[=LO..HI]... [--at PATH=VALUE]...\n"
    "            [--max-replications N] [--out DIR] [--jobs N] [--set PATH=VALUE]... [--quiet]\n"
    "            [--database-url-env NAME | --database-url URL]\n"
    "       poolsim explain FILE [--point N|all] [--set PATH=VALUE]...\n"
    "                        [--database-url-env NAME | --database-url URL]\n"
    "       poolsim --help | --version\n"
    "\n"
    "Simulate the experiment FILE (JSON, see experiments/README.md) and write\n"
    "points.csv, replications.csv, histograms.csv and summary.json into DIR\n"
    "(default: results/<name>/).\n"
    "\n"
    "  --out DIR          output directory\n"
    "  --jobs N           worker threads (default: the number of cores)\n"
    "  --set PATH=VALUE   override a key, e.g. --set pooler.default_pool_size=30;\n"
    "                     VALUE is read as JSON, else as a string (repeatable)\n"
    "  --trace N          also write trace.csv: the time of every stage of the first N\n"
    "                     requests after the warm-up of each replication\n"
    "  --quiet            no progress on stderr\n"
    "  --shard K/N        build every point, run those whose index mod N is K-1\n"
    "  --database-url-env NAME\n"
    "                     read database_url (a Prisma/libpq connection string) from the\n"
    "                     environment variable NAME, e.g. DATABASE_URL (recommended)\n"
    "  --database-url URL the same from the command line (visible to others in ps);\n"
    "                     its password is never shown\n"
    "\n"
    "plot renders the figures that apply to the results in DIR into DIR/plots/\n"
    "with gnuplot (scripts from $POOLSIM_PLOTS, else ./plots, else the build's),\n"
    "as PNG and SVG unless --format says one.\n"
    "  --log              latency on a log axis (latency, heatmap colours)\n"
    "  --slo-p99 MS       heatmap: pass/fail against a p99 objective in ms\n"
    "  --points LIST      cdf: the points to compare, e.g. 0,4,9 (default: a few\n"
    "                     spread over the run)\n"
    "\n"
    "explain prints a point's resolved configuration, each value with its source,\n"
    "notes, and warnings for known pooling traps (point 0 and the warnings of every\n"
    "point unless --point says which); warnings do not change the exit status.\n"
    "\n"
    "size finds, for each --vary key in turn (a pool size's default range is 1 to\n"
    "the usable max_connections), the smallest value that meets every objective\n"
    "(--slo: points.csv metrics with <, <=, > or >=) at the load set by --at,\n"
    "then the highest load that configuration holds and the limit that breaks\n"
    "first; a table on stdout, DIR/size.json (README.md, \"Sizing a pool\").\n"
    "\n"
    "Exit status: 0 ok, 1 invalid experiment, 2 usage or I/O error,\n"
    "3 size found no configuration that meets the objectives, 130 interrupted.\n";

struct cli {
    const char *file;
    const char *out;
    unsigned jobs;
    uint64_t trace; /* --trace N; 0 = none */
    int quiet;
    struct sweep_set sets[MAX_SETS];
    size_t nsets;
    unsigned shard_k, shard_n; /* --shard K/N; 0/0 = every point */
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a usage error, any connection string in it redacted; returns the usage exit code. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    dburl_vusage(stderr, fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

/* err_print with every connection string in the message redacted (DESIGN.md §4). */
static void print_error(const struct err *e)
{
    char buf[ERR_FILE_MAX + ERR_PATH_MAX + ERR_MSG_MAX + 32];
    char *shown;

    err_format(e, buf, sizeof buf);
    shown = dburl_redact(buf);
    fprintf(stderr, "poolsim: %s\n", shown);
    free(shown);
}

static int parse_jobs(const char *s, unsigned *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 1 || v > 4096) {
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static int parse_set(struct cli *c, char *arg)
{
    char *eq = strchr(arg, '=');

    if (!eq || eq == arg) {
        return usage_error("--set needs PATH=VALUE, got \"%s\"", arg);
    }
    if (c->nsets == MAX_SETS) {
        return usage_error("too many --set options (at most %d)", MAX_SETS);
    }
    *eq = '\0';
    c->sets[c->nsets].path = arg;
    c->sets[c->nsets].value = eq + 1;
    c->nsets++;
    return 0;
}

/* --trace N: a whole number of requests from 1 to 10^7 (they are kept in memory). */
static int parse_trace(const char *s, uint64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < 1 || v > 10000000) {
        return usage_error("--trace needs a whole number from 1 to 10000000, got \"%s\"", s);
    }
    *out = (uint64_t)v;
    return 0;
}

static int takes_value(const char *opt)
{
    return strcmp(opt, "--out") == 0 || strcmp(opt, "--jobs") == 0 || strcmp(opt, "--set") == 0 ||
           strcmp(opt, "--shard") == 0 || strcmp(opt, "--trace") == 0 ||
           strcmp(opt, "--database-url") == 0 || strcmp(opt, "--database-url-env") == 0;
}

/*
 * --database-url URL and --database-url-env NAME act as --set database_url=URL.  The variable
 * must be set and non-empty.
 */
static int parse_database_url(struct cli *c, const char *opt, const char *arg)
{
    const char *url = arg;

    if (strcmp(opt, "--database-url-env") == 0) {
        url = getenv(arg);
        if (!url || !url[0]) {
            return usage_error("environment variable \"%s\" (--database-url-env) is %s", arg,
                               url ? "empty" : "not set");
        }
    }
    if (c->nsets == MAX_SETS) {
        return usage_error("too many --set options (at most %d)", MAX_SETS);
    }
    c->sets[c->nsets].path = "database_url";
    c->sets[c->nsets].value = url;
    c->nsets++;
    return 0;
}

static int parse_run_args(struct cli *c, int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;

        if (strcmp(a, "--quiet") == 0) {
            c->quiet = 1;
        } else if (strcmp(a, "--out") == 0 && has_value) {
            c->out = argv[++i];
        } else if (strcmp(a, "--jobs") == 0 && has_value) {
            if (parse_jobs(argv[++i], &c->jobs) != 0) {
                return usage_error("--jobs needs a whole number from 1 to 4096, got \"%s\"",
                                   argv[i]);
            }
        } else if (strcmp(a, "--trace") == 0 && has_value) {
            if (parse_trace(argv[++i], &c->trace) != 0) {
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--set") == 0 && has_value) {
            if (parse_set(c, argv[++i]) != 0) {
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--shard") == 0 && has_value) {
            struct err e;

            if (merge_parse_shard(argv[++i], &c->shard_k, &c->shard_n, &e) != 0) {
                return usage_error("%s", e.msg);
            }
        } else if (strncmp(a, "--database-url", 14) == 0 && takes_value(a) && has_value) {
            if (parse_database_url(c, a, argv[++i]) != 0) {
                return EXIT_USAGE;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            if (takes_value(a)) {
                return usage_error("option \"%s\" needs a value", a);
            }
            return usage_error("unknown option \"%s\"", a);
        } else if (c->file) {
            return usage_error("more than one experiment file (\"%s\")", a);
        } else {
            c->file = a;
        }
    }
    return c->file ? 0 : usage_error("run needs an experiment FILE");
}

static unsigned default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 && n < 4096 ? (unsigned)n : 1;
}

static int resolve_out_dir(const struct cli *c, const struct sweep_plan *plan, char *buf,
                           size_t size, struct err *e)
{
    const char *name = plan->npoints ? experiment_name(plan->points[0].doc) : NULL;

    if (c->out) {
        snprintf(buf, size, "%s", c->out);
        return 0;
    }
    out_default_dir(name ? name : "experiment", buf, size);
    if (!buf[0]) {
        err_at(e, "$.name",
               "\"%s\" has no letter, digit, \"-\" or \"_\" to name the output "
               "directory (or give --out)",
               name);
        return -1;
    }
    return 0;
}

/* Each point's database_url onto its keys (models/dburl.h); its remarks go to stderr. */
static int apply_database_urls(struct sweep_plan *plan, struct err *e)
{
    struct out_buf notes;
    int rc;

    out_buf_init(&notes);
    rc = dburl_plan_apply(plan, &notes, e);
    for (const char *p = notes.len ? notes.data : ""; *p; p += strcspn(p, "\n") + 1) {
        fprintf(stderr, "poolsim: warning: %.*s\n", (int)strcspn(p, "\n"), p);
    }
    out_buf_fini(&notes);
    return rc;
}

static int run_command(struct cli *c)
{
    struct err e;
    struct cJSON *doc = NULL;
    struct sweep_plan plan = {0};
    struct runner_model model;
    struct runner_options opt = {0};
    char out_dir[PATH_MAX];
    char *base = out_dir_of_file(c->file);
    int rc = EXIT_INVALID;

    err_clear(&e);
    err_set_file(&e, c->file);
    if (json_load_file(c->file, &doc, &e) != 0) {
        rc = e.line > 0 || e.path[0] ? EXIT_INVALID : EXIT_USAGE;
        goto out;
    }
    if (sweep_expand(doc, c->sets, c->nsets, &plan, &e) != 0 ||
        apply_database_urls(&plan, &e) != 0 ||
        resolve_out_dir(c, &plan, out_dir, sizeof out_dir, &e) != 0) {
        goto out;
    }
    scn_model(&model);
    opt.file = c->file;
    opt.base_dir = base;
    opt.out_dir = out_dir;
    opt.jobs = c->jobs ? c->jobs : default_jobs();
    opt.quiet = c->quiet != 0;
    opt.trace = c->trace;
    opt.progress_tty = isatty(STDERR_FILENO) != 0;
    opt.version = POOLSIM_VERSION;
    opt.shard_k = c->shard_k;
    opt.shard_n = c->shard_n;
    opt.stop = interrupt_install();
    rc = runner_run(&model, &plan, &opt, &e);
out:
    if (rc != EXIT_OK) {
        print_error(&e);
    }
    sweep_plan_fini(&plan);
    json_free(doc);
    free(base);
    return rc;
}

/* ---- poolsim plot: run plots/<figure>.gp under gnuplot for each figure and format ---- */

/* Each figure is one script; all read points.csv but histogram and cdf (DESIGN.md §5). */
static const char *const plot_figures[] = {"latency",     "errors",    "throughput", "waits",
                                           "utilisation", "histogram", "heatmap",    "cdf"};
enum { PLOT_DOES_NOT_APPLY = 3 }; /* a script's exit status when its figure has nothing to show */

struct plot_cli {
    const char *dir;
    int png, svg;
    int log;             /* --log: PLOT_LOG=1 for the scripts */
    const char *slo_p99; /* --slo-p99 MS (validated number) or NULL: SLO_P99_MS */
    const char *points;  /* --points LIST (digits, commas) or NULL: cdf.gp's POINTS */
};

/* The value of --slo-p99: a positive finite number of milliseconds. */
static int check_slo(const char *v)
{
    char *end;
    double ms = strtod(v, &end);

    if (end == v || *end != '\0' || !(ms > 0 && ms < 1e12)) {
        return usage_error("--slo-p99 needs a positive number of ms, got \"%s\"", v);
    }
    return 0;
}

/* The value of --points: point numbers separated by commas. */
static int check_points(const char *v)
{
    int digits = 0;

    for (const char *c = v; *c; c++) {
        if (!isdigit((unsigned char)*c) && *c != ',') {
            return usage_error("--points needs point numbers separated by commas, got \"%s\"", v);
        }
        digits += isdigit((unsigned char)*c) != 0;
    }
    return digits ? 0 : usage_error("--points needs at least one point number");
}

static int plot_takes_value(const char *a)
{
    return strcmp(a, "--format") == 0 || strcmp(a, "--slo-p99") == 0 || strcmp(a, "--points") == 0;
}

/* The options of plot that take a value; 1 when a is none of them. */
static int parse_plot_value(struct plot_cli *p, const char *a, const char *v)
{
    if (strcmp(a, "--format") == 0) {
        p->png = strcmp(v, "png") == 0 || strcmp(v, "both") == 0;
        p->svg = strcmp(v, "svg") == 0 || strcmp(v, "both") == 0;
        return !p->png && !p->svg ? usage_error("--format needs png, svg or both, got \"%s\"", v)
                                  : 0;
    }
    if (strcmp(a, "--slo-p99") == 0) {
        p->slo_p99 = v;
        return check_slo(v);
    }
    if (strcmp(a, "--points") == 0) {
        p->points = v;
        return check_points(v);
    }
    return 1;
}

static int parse_plot_args(struct plot_cli *p, int argc, char **argv)
{
    p->png = p->svg = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int rc = i + 1 < argc ? parse_plot_value(p, a, argv[i + 1]) : 1;

        if (rc != 1) {
            if (rc != 0) {
                return rc;
            }
            i++;
        } else if (strcmp(a, "--log") == 0) {
            p->log = 1;
        } else if (plot_takes_value(a)) {
            return usage_error("option \"%s\" needs a value", a);
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option \"%s\"", a);
        } else if (p->dir) {
            return usage_error("more than one results directory (\"%s\")", a);
        } else {
            p->dir = a;
        }
    }
    return p->dir ? 0 : usage_error("plot needs a results DIR");
}

static int is_readable(const char *dir, const char *file)
{
    char path[PATH_MAX];

    snprintf(path, sizeof path, "%s/%s", dir, file);
    return access(path, R_OK) == 0;
}

/* The scripts' directory: $POOLSIM_PLOTS, else ./plots, else the one given at build time. */
static const char *plots_dir(void)
{
    const char *env = getenv("POOLSIM_PLOTS");

    if (env && env[0]) {
        return env;
    }
    return is_readable("plots", "style.gp") ? "plots" : POOLSIM_PLOTS_DIR;
}

/* points[0].config.name of a summary.json (borrowed from doc), or NULL. */
static const char *summary_name(const struct cJSON *doc)
{
    struct json_at at, v;
    const char *name = NULL;
    struct err e;

    json_root(doc, &at);
    if (!json_is_object(&at) || !json_get(&at, "points", &v) || json_size(&v) == 0) {
        return NULL;
    }
    json_child(&v, 0, &at, NULL);
    if (!json_is_object(&at) || !json_get(&at, "config", &v) || !json_is_object(&v) ||
        !json_get(&v, "name", &at) || !json_is_string(&at)) {
        return NULL;
    }
    return json_string(&at, &name, &e) == 0 ? name : NULL;
}

/* The experiment's name from DIR/summary.json ("" if it cannot be read): the figures' title. */
static void experiment_title(const char *dir, char *buf, size_t size)
{
    char path[PATH_MAX];
    struct cJSON *doc = NULL;
    struct err e;
    const char *name = NULL;

    snprintf(path, sizeof path, "%s/summary.json", dir);
    if (json_load_file(path, &doc, &e) == 0) {
        name = summary_name(doc);
    }
    snprintf(buf, size, "%s", name ? name : "");
    json_free(doc);
}

/* Run gnuplot on argv; its exit status, or -1 (and a message) when it could not run. */
static int run_gnuplot(char *const *argv)
{
    pid_t pid;
    int status;
    int rc = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);

    if (rc != 0) {
        fprintf(stderr, "poolsim: cannot run gnuplot: %s (Debian: apt-get install gnuplot-nox)\n",
                strerror(rc));
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "poolsim: waiting for gnuplot: %s\n", strerror(errno));
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Where gnuplot's command line for one figure is built (plot_argv). */
struct plot_args {
    char script[PATH_MAX], in[PATH_MAX], out[PATH_MAX];
    char slo[64], e[3], c[3], log[16], prog[8], points[PATH_MAX];
    char *argv[16];
};

/* gnuplot [-e PLOT_LOG=1] [-e SLO_P99_MS=x] -c SCRIPT IN OUT [POINT(S)] TITLE: histogram and cdf
 * read histograms.csv and take the point(s) third ("" = their default). */
static void plot_argv(struct plot_args *a, const struct plot_cli *p, const char *scripts,
                      char *title, const char *fig, const char *ext)
{
    int hist = strcmp(fig, "histogram") == 0, cdf = strcmp(fig, "cdf") == 0;
    size_t n = 0;

    snprintf(a->script, sizeof a->script, "%s/%s.gp", scripts, fig);
    snprintf(a->in, sizeof a->in, "%s/%s", p->dir, hist || cdf ? "histograms.csv" : "points.csv");
    snprintf(a->out, sizeof a->out, "%s/plots/%s.%s", p->dir, fig, ext);
    snprintf(a->prog, sizeof a->prog, "gnuplot");
    snprintf(a->e, sizeof a->e, "-e");
    snprintf(a->c, sizeof a->c, "-c");
    snprintf(a->log, sizeof a->log, "PLOT_LOG=1");
    snprintf(a->slo, sizeof a->slo, "SLO_P99_MS=%s", p->slo_p99 ? p->slo_p99 : "");
    snprintf(a->points, sizeof a->points, "%s", cdf && p->points ? p->points : "");
    a->argv[n++] = a->prog;
    if (p->log) {
        a->argv[n++] = a->e;
        a->argv[n++] = a->log;
    }
    if (p->slo_p99) {
        a->argv[n++] = a->e;
        a->argv[n++] = a->slo;
    }
    a->argv[n++] = a->c;
    a->argv[n++] = a->script;
    a->argv[n++] = a->in;
    a->argv[n++] = a->out;
    if (hist || cdf) {
        a->argv[n++] = a->points;
    }
    a->argv[n++] = title;
    a->argv[n] = NULL;
}

/* Render one figure in one format; prints the file written.  0, or -1 when gnuplot failed. */
static int plot_one(const struct plot_cli *p, const char *scripts, char *title, const char *fig,
                    const char *ext)
{
    struct plot_args a;
    int rc;

    plot_argv(&a, p, scripts, title, fig, ext);
    rc = run_gnuplot(a.argv);
    if (rc == 0) {
        printf("%s\n", a.out);
        fflush(stdout);
    } else if (rc > 0 && rc != PLOT_DOES_NOT_APPLY) {
        fprintf(stderr, "poolsim: gnuplot -c %s failed (exit status %d)\n", a.script, rc);
    }
    return rc == 0 || rc == PLOT_DOES_NOT_APPLY ? 0 : -1;
}

static int plot_command(const struct plot_cli *p)
{
    const char *scripts = plots_dir();
    char title[256], out_dir[PATH_MAX];
    int failed = 0;

    if (!is_readable(scripts, "style.gp")) {
        fprintf(stderr,
                "poolsim: no gnuplot scripts in \"%s\" (set POOLSIM_PLOTS to the plots/ "
                "directory of the source tree)\n",
                scripts);
        return EXIT_USAGE;
    }
    if (!is_readable(p->dir, "points.csv") || !is_readable(p->dir, "histograms.csv")) {
        fprintf(stderr, "poolsim: \"%s\" holds no points.csv and histograms.csv to plot\n", p->dir);
        return EXIT_USAGE;
    }
    snprintf(out_dir, sizeof out_dir, "%s/plots", p->dir);
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "poolsim: %s: %s\n", out_dir, strerror(errno));
        return EXIT_USAGE;
    }
    experiment_title(p->dir, title, sizeof title);
    for (size_t i = 0; i < sizeof plot_figures / sizeof plot_figures[0]; i++) {
        if (p->png && plot_one(p, scripts, title, plot_figures[i], "png") != 0) {
            failed = 1;
        }
        if (p->svg && plot_one(p, scripts, title, plot_figures[i], "svg") != 0) {
            failed = 1;
        }
    }
    return failed ? EXIT_USAGE : EXIT_OK;
}

/* poolsim size: sim/size.c does the work; here the models are wired in and the result printed. */
static int size_command(int argc, char **argv)
{
    struct runner_model model;
    struct size_hooks hooks;
    struct size_env env = {&model, &hooks, POOLSIM_VERSION, default_jobs(), stderr};
    struct out_buf table;
    struct err e;
    int rc;

    scn_model(&model);
    sizing_hooks(&hooks);
    out_buf_init(&table);
    rc = size_main(argc, argv, &env, &table, &e);
    if (table.len) {
        fwrite(table.data, 1, table.len, stdout);
        fflush(stdout);
    }
    if (rc == EXIT_USAGE && !e.file[0]) {
        usage_error("%s", e.msg);
    } else if (rc != EXIT_OK && rc != EXIT_NONE) {
        print_error(&e);
    }
    out_buf_fini(&table);
    return rc;
}

int main(int argc, char **argv)
{
    struct cli c = {0};
    int rc;

    gsl_set_error_handler_off();
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("poolsim %s\n", POOLSIM_VERSION);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "plot") == 0) {
        struct plot_cli p = {0};

        rc = parse_plot_args(&p, argc, argv);
        return rc != 0 ? rc : plot_command(&p);
    }
    if (strcmp(argv[1], "merge") == 0) {
        struct err e;

        rc = merge_command(argc, argv, &e);
        if (rc != EXIT_OK) {
            err_print(stderr, "poolsim", &e);
        }
        return rc;
    }
    if (strcmp(argv[1], "size") == 0) {
        return size_command(argc, argv);
    }
    if (strcmp(argv[1], "explain") == 0) {
        return explain_main(argc, argv, stdout, stderr);
    }
    if (strcmp(argv[1], "run") != 0) {
        return usage_error("unknown command \"%s\"", argv[1]);
    }
    rc = parse_run_args(&c, argc, argv);
    return rc != 0 ? rc : run_command(&c);
}

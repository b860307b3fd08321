/* loadc - a closed load client on libpq that keeps N clients busy and classifies every error.
 *
 * pgbench drops a client at its first error, so it cannot measure error shares; loadc can.
 * Each of --clients threads owns one blocking libpq connection (or opens one per transaction
 * with --connect-per-tx, as pgbench -C) and runs, until warm-up + duration has passed, the
 * same transaction: --statements times `SELECT pg_sleep(s)`, wrapped in BEGIN ... COMMIT with
 * --tx, then sleeps --think-ms.  After an error it drops the connection if it is broken (rolls
 * back otherwise), and its next transaction reconnects: that is the retry.  Every transaction is
 * one record (start, latency, outcome); its latency includes the connect when there was one, as
 * poolsim counts a call's connect.  The summary uses poolsim's metric names (DESIGN.md §5) over
 * the transactions that finished inside the window [warm-up, warm-up + duration).
 *
 *   loadc --port P [--host H] --clients N --warmup-s W --duration-s D [--statements K]
 *         [--sleep-ms S] [--tx] [--connect-per-tx] [--think-ms T] [--records FILE]
 *         [--grace-s G]   (default 2: then a client still blocked has its socket shut down)
 *   loadc --pgbench-log --warmup-s W --duration-s D FILE...    (pgbench -l logs, same summary)
 *
 * The summary is one CSV header line and one row on stdout.  Error kinds (poolsim's
 * errors_<kind>) come from PgBouncer's and PostgreSQL's texts and SQLSTATEs; anything else
 * is errors_other, and its first message is printed on stderr so that it can be named.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

enum kind {
    K_OK,
    K_QUERY_WAIT_TIMEOUT,
    K_MAX_CLIENT_CONN,
    K_SERVER_LOGIN_RETRY,
    K_QUERY_TIMEOUT,
    K_53300,
    K_57014,
    K_OTHER,
    K_COUNT
};

static const char *const kind_names[K_COUNT] = {
    "ok",
    "query_wait_timeout",
    "max_client_conn",
    "server_login_retry",
    "query_timeout",
    "53300",
    "57014",
    "other",
};

struct record {
    int64_t start_ns; /* since the run started */
    int64_t end_ns;   /* since the run started */
    enum kind kind;
};

struct recs {
    struct record *v;
    size_t n, cap;
};

struct opts {
    const char *host;
    int port;
    int clients;
    double warmup_s, duration_s;
    int statements;
    double sleep_ms, think_ms;
    double grace_s; /* after the window, before blocked clients are cut off */
    int tx, connect_per_tx, pgbench_log;
    const char *records;
};

struct shared {
    const struct opts *o;
    char conninfo[256];
    char sql[128];
    struct timespec t0;
    pthread_mutex_t lock; /* guards other_seen */
    int other_seen;
};

struct worker {
    struct shared *sh;
    pthread_mutex_t lock; /* guards conn's assignment and done, for the main thread's stop */
    PGconn *conn;
    int done;
    struct recs recs;
};

static void push(struct recs *r, int64_t start_ns, int64_t end_ns, enum kind k)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 1024;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        if (!r->v) {
            abort();
        }
    }
    r->v[r->n++] = (struct record){start_ns, end_ns, k};
}

static int64_t since_ns(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)(t.tv_sec - t0->tv_sec) * 1000000000 + (t.tv_nsec - t0->tv_nsec);
}

static void sleep_ms(double ms)
{
    struct timespec t = {(time_t)(ms / 1000), (long)(fmod(ms, 1000) * 1e6)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* The kind of an error from its SQLSTATE (NULL for a connect failure) and its text. */
static enum kind classify(const char *sqlstate, const char *msg)
{
    if (strstr(msg, "query_wait_timeout")) {
        return K_QUERY_WAIT_TIMEOUT;
    }
    if (strstr(msg, "max_client_conn")) {
        return K_MAX_CLIENT_CONN;
    }
    if (strstr(msg, "server_login_retry")) {
        return K_SERVER_LOGIN_RETRY;
    }
    if (strstr(msg, "query_timeout") || strstr(msg, "query timeout")) {
        return K_QUERY_TIMEOUT;
    }
    if ((sqlstate && strcmp(sqlstate, "53300") == 0) || strstr(msg, "too many clients") ||
        strstr(msg, "remaining connection slots")) {
        return K_53300;
    }
    if (sqlstate && strcmp(sqlstate, "57014") == 0) {
        return K_57014;
    }
    return K_OTHER;
}

static enum kind note(struct shared *sh, const char *sqlstate, const char *msg)
{
    enum kind k = classify(sqlstate, msg);
    if (k == K_OTHER) {
        pthread_mutex_lock(&sh->lock);
        if (!sh->other_seen) {
            sh->other_seen = 1;
            fprintf(stderr, "loadc: unclassified error (sqlstate %s): %s\n",
                    sqlstate ? sqlstate : "-", msg);
        }
        pthread_mutex_unlock(&sh->lock);
    }
    return k;
}

static void drop(struct worker *w)
{
    pthread_mutex_lock(&w->lock);
    PQfinish(w->conn);
    w->conn = NULL;
    pthread_mutex_unlock(&w->lock);
}

/* One statement; on error: classify, then drop a broken connection or roll back. */
static enum kind exec_one(struct worker *w, const char *sql, int in_tx)
{
    PGresult *res = PQexec(w->conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(res);
        return K_OK;
    }
    /* A FATAL from PgBouncer before it closes (query_wait_timeout) reaches the connection's
     * message, not always the result's: classify both. */
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s%s", res ? PQresultErrorMessage(res) : "",
             PQerrorMessage(w->conn));
    enum kind k = note(w->sh, state, msg);
    PQclear(res);
    if (PQstatus(w->conn) != CONNECTION_OK) {
        drop(w);
    } else if (in_tx) {
        PQclear(PQexec(w->conn, "ROLLBACK"));
    }
    return k;
}

static enum kind run_tx(struct worker *w)
{
    const struct opts *o = w->sh->o;
    if (!w->conn) {
        PGconn *c = PQconnectdb(w->sh->conninfo);
        pthread_mutex_lock(&w->lock);
        w->conn = c;
        pthread_mutex_unlock(&w->lock);
        if (PQstatus(w->conn) != CONNECTION_OK) {
            enum kind k = note(w->sh, NULL, PQerrorMessage(w->conn));
            drop(w);
            return k;
        }
    }
    enum kind k = o->tx ? exec_one(w, "BEGIN", 1) : K_OK;
    for (int i = 0; k == K_OK && i < o->statements; i++) {
        k = exec_one(w, w->sh->sql, o->tx);
    }
    if (k == K_OK && o->tx) {
        k = exec_one(w, "COMMIT", 1);
    }
    return k;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const struct opts *o = w->sh->o;
    int64_t end_ns = (int64_t)((o->warmup_s + o->duration_s) * 1e9);
    for (;;) {
        int64_t start_ns = since_ns(&w->sh->t0);
        if (start_ns >= end_ns) {
            break;
        }
        enum kind k = run_tx(w);
        push(&w->recs, start_ns, since_ns(&w->sh->t0), k);
        if (o->connect_per_tx && w->conn) {
            drop(w);
        }
        if (o->think_ms > 0) {
            sleep_ms(o->think_ms);
        }
    }
    if (w->conn) {
        drop(w);
    }
    pthread_mutex_lock(&w->lock);
    w->done = 1;
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/*
 * After the window and a grace period, a client still blocked (waiting at PgBouncer for a
 * server that never comes, as in session mode with fewer servers than clients) has its socket
 * shut down: its transaction fails after the window and is not counted.
 */
static void stop_stragglers(struct worker *w, int n, const struct shared *sh)
{
    int64_t stop_ns = (int64_t)((sh->o->warmup_s + sh->o->duration_s + sh->o->grace_s) * 1e9);
    int64_t left_ns = stop_ns - since_ns(&sh->t0);
    if (left_ns > 0) {
        sleep_ms((double)left_ns / 1e6);
    }
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&w[i].lock);
        if (!w[i].done && w[i].conn && PQsocket(w[i].conn) >= 0) {
            shutdown(PQsocket(w[i].conn), SHUT_RDWR);
        }
        pthread_mutex_unlock(&w[i].lock);
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p of the sample at or below it. */
static double quantile_ms(const int64_t *sorted, size_t n, double p)
{
    if (n == 0) {
        return (double)NAN;
    }
    size_t r = (size_t)ceil(p * (double)n);
    return (double)sorted[r ? r - 1 : 0] / 1e6;
}

static double mean_ms(const int64_t *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        s += (double)v[i];
    }
    return n ? s / (double)n / 1e6 : (double)NAN;
}

static void print_num(double x)
{
    if (isnan(x)) {
        printf(",");
    } else {
        printf(",%.9g", x);
    }
}

static void print_latencies(int64_t *lat, size_t n)
{
    qsort(lat, n, sizeof *lat, cmp_i64);
    print_num(mean_ms(lat, n));
    print_num(quantile_ms(lat, n, 0.50));
    print_num(quantile_ms(lat, n, 0.95));
    print_num(quantile_ms(lat, n, 0.99));
    print_num(n ? (double)lat[n - 1] / 1e6 : (double)NAN);
}

/* The summary of the records that ended inside [warmup, warmup + duration). */
static void summarize(const struct recs *r, const struct opts *o)
{
    int64_t lo = (int64_t)(o->warmup_s * 1e9), hi = (int64_t)((o->warmup_s + o->duration_s) * 1e9);
    int64_t *all = malloc((r->n + 1) * sizeof *all), *ok = malloc((r->n + 1) * sizeof *ok);
    size_t n_all = 0, n_ok = 0, by_kind[K_COUNT] = {0};
    if (!all || !ok) {
        abort();
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct record *x = &r->v[i];
        if (x->end_ns < lo || x->end_ns >= hi) {
            continue;
        }
        all[n_all++] = x->end_ns - x->start_ns;
        if (x->kind == K_OK) {
            ok[n_ok++] = x->end_ns - x->start_ns;
        }
        by_kind[x->kind]++;
    }
    printf("requests,ok,errors,error_rate,throughput_rps,latency_mean_ms,latency_p50_ms,"
           "latency_p95_ms,latency_p99_ms,latency_max_ms,ok_latency_mean_ms,ok_latency_p50_ms,"
           "ok_latency_p95_ms,ok_latency_p99_ms,ok_latency_max_ms");
    for (int k = 1; k < K_COUNT; k++) {
        printf(",errors_%s", kind_names[k]);
    }
    printf("\n%zu,%zu,%zu", n_all, n_ok, n_all - n_ok);
    print_num(n_all ? (double)(n_all - n_ok) / (double)n_all : (double)NAN);
    print_num((double)n_ok / o->duration_s);
    print_latencies(all, n_all);
    print_latencies(ok, n_ok);
    for (int k = 1; k < K_COUNT; k++) {
        printf(",%zu", by_kind[k]);
    }
    printf("\n");
    free(all);
    free(ok);
}

static int write_records(const struct recs *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "loadc: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "start_s,latency_ms,kind\n");
    for (size_t i = 0; i < r->n; i++) {
        fprintf(f, "%.6f,%.3f,%s\n", (double)r->v[i].start_ns / 1e9,
                (double)(r->v[i].end_ns - r->v[i].start_ns) / 1e6, kind_names[r->v[i].kind]);
    }
    return fclose(f);
}

static int run_load(const struct opts *o)
{
    struct shared sh = {.o = o, .other_seen = 0};
    snprintf(sh.conninfo, sizeof sh.conninfo,
             "host=%s port=%d user=postgres dbname=postgres sslmode=disable", o->host, o->port);
    snprintf(sh.sql, sizeof sh.sql, "SELECT pg_sleep(%.6f)", o->sleep_ms / 1000);
    pthread_mutex_init(&sh.lock, NULL);
    struct worker *w = calloc((size_t)o->clients, sizeof *w);
    pthread_t *th = calloc((size_t)o->clients, sizeof *th);
    if (!w || !th) {
        abort();
    }
    clock_gettime(CLOCK_MONOTONIC, &sh.t0);
    for (int i = 0; i < o->clients; i++) {
        w[i].sh = &sh;
        pthread_mutex_init(&w[i].lock, NULL);
        if (pthread_create(&th[i], NULL, worker_main, &w[i]) != 0) {
            fprintf(stderr, "loadc: cannot start thread %d\n", i);
            abort();
        }
    }
    stop_stragglers(w, o->clients, &sh);
    struct recs all = {0};
    for (int i = 0; i < o->clients; i++) {
        pthread_join(th[i], NULL);
        pthread_mutex_destroy(&w[i].lock);
        for (size_t j = 0; j < w[i].recs.n; j++) {
            const struct record *x = &w[i].recs.v[j];
            push(&all, x->start_ns, x->end_ns, x->kind);
        }
        free(w[i].recs.v);
    }
    summarize(&all, o);
    int rc = o->records ? write_records(&all, o->records) : 0;
    free(all.v);
    free(w);
    free(th);
    pthread_mutex_destroy(&sh.lock);
    return rc;
}

/* pgbench -l lines: client_id transaction_no time_us script_no epoch_s epoch_us (the end). */
static int read_pgbench(struct recs *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "loadc: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[512];
    while (fgets(line, sizeof line, f)) {
        long long client, no, lat_us, script, epoch_s, epoch_us;
        if (sscanf(line, "%lld %lld %lld %lld %lld %lld", &client, &no, &lat_us, &script, &epoch_s,
                   &epoch_us) != 6) {
            continue; /* "failed" or "skipped" transactions, which pgbench does not time */
        }
        int64_t end_ns = (int64_t)epoch_s * 1000000000 + (int64_t)epoch_us * 1000;
        push(r, end_ns - (int64_t)lat_us * 1000, end_ns, K_OK);
    }
    fclose(f);
    return 0;
}

/* The earliest start is time 0, as loadc's own start is. */
static int run_pgbench_log(const struct opts *o, int nfiles, char **files)
{
    struct recs r = {0};
    for (int i = 0; i < nfiles; i++) {
        if (read_pgbench(&r, files[i]) != 0) {
            free(r.v);
            return -1;
        }
    }
    int64_t t0 = INT64_MAX;
    for (size_t i = 0; i < r.n; i++) {
        t0 = r.v[i].start_ns < t0 ? r.v[i].start_ns : t0;
    }
    for (size_t i = 0; i < r.n; i++) {
        r.v[i].start_ns -= t0;
        r.v[i].end_ns -= t0;
    }
    summarize(&r, o);
    free(r.v);
    return 0;
}

static int parse_args(struct opts *o, int argc, char **argv, int *first_file)
{
    *o = (struct opts){
        .host = "127.0.0.1", .clients = 1, .statements = 1, .duration_s = 10, .grace_s = 2};
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--tx") == 0) {
            o->tx = 1;
        } else if (strcmp(a, "--connect-per-tx") == 0) {
            o->connect_per_tx = 1;
        } else if (strcmp(a, "--pgbench-log") == 0) {
            o->pgbench_log = 1;
        } else if (strncmp(a, "--", 2) != 0) {
            break;
        } else if (!v) {
            fprintf(stderr, "loadc: %s needs a value\n", a);
            return -1;
        } else if (strcmp(a, "--host") == 0) {
            o->host = v, i++;
        } else if (strcmp(a, "--records") == 0) {
            o->records = v, i++;
        } else if (strcmp(a, "--port") == 0) {
            o->port = (int)strtol(v, NULL, 10), i++;
        } else if (strcmp(a, "--clients") == 0) {
            o->clients = (int)strtol(v, NULL, 10), i++;
        } else if (strcmp(a, "--statements") == 0) {
            o->statements = (int)strtol(v, NULL, 10), i++;
        } else if (strcmp(a, "--warmup-s") == 0) {
            o->warmup_s = strtod(v, NULL), i++;
        } else if (strcmp(a, "--duration-s") == 0) {
            o->duration_s = strtod(v, NULL), i++;
        } else if (strcmp(a, "--sleep-ms") == 0) {
            o->sleep_ms = strtod(v, NULL), i++;
        } else if (strcmp(a, "--grace-s") == 0) {
            o->grace_s = strtod(v, NULL), i++;
        } else if (strcmp(a, "--think-ms") == 0) {
            o->think_ms = strtod(v, NULL), i++;
        } else {
            fprintf(stderr, "loadc: unknown option %s\n", a);
            return -1;
        }
    }
    *first_file = i;
    if (o->clients < 1 || o->duration_s <= 0 || (!o->pgbench_log && o->port <= 0)) {
        fprintf(stderr, "loadc: need --port, --clients >= 1 and --duration-s > 0\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    int first;
    if (parse_args(&o, argc, argv, &first) != 0) {
        return 2;
    }
    if (o.pgbench_log) {
        return run_pgbench_log(&o, argc - first, argv + first) == 0 ? 0 : 1;
    }
    return run_load(&o) == 0 ? 0 : 1;
}

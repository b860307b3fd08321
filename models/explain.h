/*
 * explain.h - `poolsim explain FILE`: the resolved configuration of a point,
 * each value with its source, notes on defaults that have no effect, and
 * warnings for the known traps of connection pooling (issue 8; DESIGN.md §4;
 * the facts and their sources are in reference/domain.md).
 *
 * The traps read the plain config structs of models/config.h, never JSON.
 * Each warning is one line of text: "<numbers> — <reason> (<source>)", where
 * the numbers are the configuration's own, the reason says what goes wrong
 * in one sentence with the real error text, and the source is the
 * documentation or code it comes from.  A warning never fails the command.
 */
#ifndef POOLSIM_MODELS_EXPLAIN_H
#define POOLSIM_MODELS_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "models/config.h"

struct cJSON;

enum explain_trap {
    EXPLAIN_CLIENT_LIMIT,    /* client connections above the pooler's client limit */
    EXPLAIN_PREPARED,        /* Prisma v6 named statements through a transaction pooler: 42P05 */
    EXPLAIN_ACQUIRE_TIMEOUT, /* pg-pool without connectionTimeoutMillis: waits forever */
    EXPLAIN_MAX_CONNECTIONS, /* server or direct connections above PostgreSQL's ordinary slots */
    EXPLAIN_MAX_WAIT,        /* interactive maxWait shorter than the pool's timeout: P2028 */
    EXPLAIN_SESSION,         /* PgBouncer session mode: more app connections than servers */
    EXPLAIN_COMPUTE,         /* beyond the limits of the Supabase compute preset */
    EXPLAIN_NTRAPS
};

/* A note (trap EXPLAIN_NOTE) or a warning. */
#define EXPLAIN_NOTE (-1)
#define EXPLAIN_TEXT_MAX 768

struct explain_item {
    int trap;                    /* an enum explain_trap, or EXPLAIN_NOTE */
    char text[EXPLAIN_TEXT_MAX]; /* the line, without "warning: <trap>: " */
};

struct explain_list {
    size_t n, cap;
    struct explain_item *items; /* owned */
};

void explain_list_init(struct explain_list *l);
void explain_list_fini(struct explain_list *l);

/* "client-limit", "prepared-statements", ... as printed after "warning: ". */
const char *explain_trap_name(enum explain_trap t);

/*
 * The client connections the app can open at most (INT64_MAX: unbounded),
 * and how that number is made, e.g. "1 instance × 5 PrismaClients ×
 * connection_limit 5", into how[size].
 */
int64_t explain_client_conns(const struct experiment *x, char *how, size_t size);

/* Append x's warnings to out, in the order of enum explain_trap. */
void explain_warnings(const struct experiment *x, struct explain_list *out);

/*
 * Append notes on values that have no effect or come from the environment
 * (DESIGN.md §4): sources (borrowed) is sweep_sources' object for x.
 */
void explain_notes(const struct experiment *x, const struct cJSON *sources,
                   struct explain_list *out);

/*
 * The command: argv[1] is "explain".  Writes the report to out and any
 * error, as `run` words it, to errf.  Returns the exit status: 0 (warnings
 * included), 1 invalid experiment, 2 usage or I/O error (DESIGN.md §5).
 */
int explain_main(int argc, char **argv, FILE *out, FILE *errf);

#endif

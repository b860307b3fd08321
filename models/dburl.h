/*
 * dburl.h - database connection strings (DESIGN.md §4 "Sweeps and variants";
 * reference/domain.md §1.2 for Prisma's URL parameters, §3.1 for Supabase's
 * hosts and ports).
 *
 * - dburl_parse reads a Prisma / libpq URL, "postgresql://" or "postgres://":
 *   user, password, host (an IPv6 address in brackets), port (5432 when
 *   missing), database and query parameters, every part percent-decoded.
 *   The password is decoded only to check its encoding, then wiped: no
 *   struct ever holds it.
 * - dburl_redact shows a URL with its password as "***"; every message about
 *   a URL shows it that way.
 * - dburl_apply maps a document's "database_url" onto experiment keys, the
 *   lowest layer above the defaults: Supabase hosts by host and port set
 *   pooler.kind and pooler.pool_mode (a value of the document that
 *   contradicts them is an error); Prisma's parameters set client_pool keys
 *   the document does not set itself; the URL left in the document is the
 *   redacted one.  dburl_plan_apply does it for every point of a sweep plan,
 *   records the keys it set with the source "url", and redacts every URL in
 *   the plan's labels and swept values.
 */
#ifndef POOLSIM_MODELS_DBURL_H
#define POOLSIM_MODELS_DBURL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sim/err.h"

struct cJSON;
struct out_buf;
struct sweep_plan;

#define DBURL_DEFAULT_PORT 5432

struct dburl_param {
    char *key;   /* decoded (owned) */
    char *value; /* decoded, "" when written without "=" (owned) */
};

struct dburl {
    char *user;        /* decoded, "" when missing (owned) */
    bool has_password; /* written (even empty); the password itself is never kept */
    char *host;        /* decoded, lowercase; IPv6 without brackets; "" when missing (owned) */
    bool is_ipv6;      /* written in brackets */
    int port;          /* DBURL_DEFAULT_PORT when missing */
    char *dbname;      /* decoded, "" when missing (owned) */
    size_t nparams;
    struct dburl_param *params; /* in the order written (owned) */
};

/* Where a URL's host and port lead (reference/domain.md §3.1). */
enum dburl_target {
    DBURL_OTHER,                 /* not a Supabase host: the file says which pooler, if any */
    DBURL_DIRECT,                /* db.<ref>.supabase.co:5432 */
    DBURL_PGBOUNCER_TRANSACTION, /* db.<ref>.supabase.co:6543 */
    DBURL_SUPAVISOR_SESSION,     /* *.pooler.supabase.com:5432 */
    DBURL_SUPAVISOR_TRANSACTION, /* *.pooler.supabase.com:6543 */
};

/*
 * Parse url (borrowed) into u.  Returns 0, or -1 with e's message set
 * (path untouched): `invalid database URL "postgres://u:***@h/db": ...`;
 * u is then empty.  Release with dburl_fini.
 */
int dburl_parse(struct dburl *u, const char *url, struct err *e);
void dburl_fini(struct dburl *u);

/*
 * text with every URL in it ("scheme://", any scheme) redacted: the password
 * between the first ':' of the user part and the last '@' (and the value of
 * a "password" or "api_key" parameter) reads "***"; so does what follows
 * "host:" when it is not a port and no '@' follows (a cut or mistyped URL).
 * A URL ends at a line end or an unescaped '"'.  Caller owns the result.
 */
char *dburl_redact(const char *text);
/*
 * Print "poolsim: MESSAGE (see poolsim --help)" to f with every connection
 * string in MESSAGE redacted; returns 2, the usage exit status.
 */
int dburl_vusage(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* The target of u's host and port; -1 with e's message set for a Supabase host on another port. */
int dburl_target(const struct dburl *u, enum dburl_target *t, struct err *e);

/*
 * Apply doc's "database_url" (if any) to doc: see above.  Appends to *paths
 * (caller frees each and the array) the dotted paths it set, to *npaths.
 * notes (may be NULL) gets one line per remark (a host that is not
 * Supabase's, a parameter without effect), each new line only once.
 * Returns 0, or -1 with e set (JSON path and message).
 */
int dburl_apply(struct cJSON *doc, char ***paths, size_t *npaths, struct out_buf *notes,
                struct err *e);

/*
 * dburl_apply on every point of plan, the set keys recorded as overrides of
 * source "url"; every URL in the labels, swept values and the plan's
 * file_doc redacted.  An error names the point as the runner does.
 */
int dburl_plan_apply(struct sweep_plan *plan, struct out_buf *notes, struct err *e);

#endif

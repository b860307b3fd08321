/*
 * errkind.h - every failure a caller can see, with the real code and text
 * (DESIGN.md §3 "Every failure has a kind", §5 errors_<kind> columns).
 *
 * The order of the enum is the order of the errors_<kind> columns and
 * series: a public contract, append only.  The first table ended with
 * request_timeout; kinds added later have their columns at the end of the
 * whole metric table (metrics.c), after every column that existed before.
 * Texts follow reference/domain.md (§1.3, §1.4, §1.5, §2.3, §2.4, §3.3, §3.4,
 * §4.2, §5).
 */
#ifndef POOLSIM_MODELS_ERRKIND_H
#define POOLSIM_MODELS_ERRKIND_H

enum errkind {
    ERRK_NONE = -1, /* success */
    ERRK_P2024 = 0, /* Prisma: pool_timeout while waiting for / opening a connection */
    ERRK_P1001,     /* Prisma: connect_timeout */
    ERRK_P1008,     /* Prisma: socket_timeout */
    ERRK_P1017,     /* Prisma: server closed the connection */
    ERRK_P2028,     /* Prisma: interactive transaction maxWait / timeout */
    ERRK_42P05,     /* prepared statement "s0" already exists */
    ERRK_53300,     /* PostgreSQL: too many connections */
    ERRK_57014,     /* PostgreSQL: statement_timeout */
    ERRK_QUERY_WAIT_TIMEOUT,
    ERRK_QUERY_TIMEOUT,
    ERRK_MAX_CLIENT_CONN,
    ERRK_SERVER_LOGIN_RETRY,
    ERRK_STATEMENT_MODE,
    ERRK_MAX_CLIENTS_IN_SESSION_MODE,
    ERRK_EMAXCONN,
    ERRK_ECHECKOUTTIMEOUT,
    ERRK_PG_POOL_TIMEOUT,
    ERRK_PG_CONNECTION_TIMEOUT,
    ERRK_REQUEST_TIMEOUT,
    /* added after the first table: their columns follow it, at the end (metrics.c) */
    ERRK_26000, /* prepared statement "s6" does not exist */
    ERRK_08P01, /* a prepared name held for another statement: bind message supplies ... */
    ERRK__COUNT
};

/* The first kind whose column is appended at the end of the metric table. */
#define ERRK_FIRST_APPENDED ERRK_26000

/* Column suffix of a kind: "P2024", "query_wait_timeout", ... */
const char *errkind_name(enum errkind k);

/* The text the caller sees (a representative one where it carries numbers). */
const char *errkind_text(enum errkind k);

#endif

/*
 * errkind.c - names and texts of failure kinds (see errkind.h and
 * reference/domain.md §1.3-§1.5, §2.3-§2.4, §3.3-§3.4, §4.2, §5).
 */
#include "models/errkind.h"

#include <assert.h>

static const char *const names[ERRK__COUNT] = {
    [ERRK_P2024] = "P2024",
    [ERRK_P1001] = "P1001",
    [ERRK_P1008] = "P1008",
    [ERRK_P1017] = "P1017",
    [ERRK_P2028] = "P2028",
    [ERRK_42P05] = "42P05",
    [ERRK_53300] = "53300",
    [ERRK_57014] = "57014",
    [ERRK_QUERY_WAIT_TIMEOUT] = "query_wait_timeout",
    [ERRK_QUERY_TIMEOUT] = "query_timeout",
    [ERRK_MAX_CLIENT_CONN] = "max_client_conn",
    [ERRK_SERVER_LOGIN_RETRY] = "server_login_retry",
    [ERRK_STATEMENT_MODE] = "statement_mode",
    [ERRK_MAX_CLIENTS_IN_SESSION_MODE] = "MaxClientsInSessionMode",
    [ERRK_EMAXCONN] = "EMAXCONN",
    [ERRK_ECHECKOUTTIMEOUT] = "ECHECKOUTTIMEOUT",
    [ERRK_PG_POOL_TIMEOUT] = "pg_pool_timeout",
    [ERRK_PG_CONNECTION_TIMEOUT] = "pg_connection_timeout",
    [ERRK_REQUEST_TIMEOUT] = "request_timeout",
    [ERRK_26000] = "26000",
    [ERRK_08P01] = "08P01",
};

static const char *const texts[ERRK__COUNT] = {
    [ERRK_P2024] = "Timed out fetching a new connection from the connection pool. More info: "
                   "http://pris.ly/d/connection-pool (Current connection pool timeout: {timeout}, "
                   "connection limit: {connection_limit})",
    [ERRK_P1001] = "Can't reach database server at {host}:{port}",
    [ERRK_P1008] = "Operations timed out after {time}",
    [ERRK_P1017] = "Server has closed the connection.",
    [ERRK_P2028] = "Transaction API error: Unable to start a transaction in the given time.",
    [ERRK_42P05] = "prepared statement \"s0\" already exists",
    [ERRK_53300] = "sorry, too many clients already",
    [ERRK_57014] = "canceling statement due to statement timeout",
    [ERRK_QUERY_WAIT_TIMEOUT] = "query_wait_timeout",
    [ERRK_QUERY_TIMEOUT] = "query_timeout",
    [ERRK_MAX_CLIENT_CONN] = "no more connections allowed (max_client_conn)",
    [ERRK_SERVER_LOGIN_RETRY] = "server login has been failing, cached error: {error} "
                                "(server_login_retry)",
    [ERRK_STATEMENT_MODE] = "transaction blocks not allowed in statement pooling mode",
    [ERRK_MAX_CLIENTS_IN_SESSION_MODE] = "MaxClientsInSessionMode: max clients reached - in "
                                         "Session mode max clients are limited to pool_size",
    [ERRK_EMAXCONN] = "(EMAXCONN) max client connections reached, limit: {max_clients}",
    [ERRK_ECHECKOUTTIMEOUT] = "(ECHECKOUTTIMEOUT) unable to check out connection from the pool "
                              "after {ms}ms in Transaction mode",
    [ERRK_PG_POOL_TIMEOUT] = "timeout exceeded when trying to connect",
    [ERRK_PG_CONNECTION_TIMEOUT] = "Connection terminated due to connection timeout",
    [ERRK_REQUEST_TIMEOUT] = "request timed out (HTTP 504)",
    [ERRK_26000] = "prepared statement \"s6\" does not exist",
    [ERRK_08P01] = "bind message supplies {n} parameters, but prepared statement \"{name}\" "
                   "requires {m}",
};

const char *errkind_name(enum errkind k)
{
    assert(k >= 0 && k < ERRK__COUNT);
    return names[k];
}

const char *errkind_text(enum errkind k)
{
    assert(k >= 0 && k < ERRK__COUNT);
    return texts[k];
}

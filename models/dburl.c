/*
 * dburl.c - database connection strings: parsing, redaction, and their
 * mapping onto experiment keys (see dburl.h; DESIGN.md §4; reference/
 * domain.md §1.2 and §3.1).
 *
 * Syntax follows what Prisma (the Rust url crate, WHATWG rules) and libpq
 * both accept: the authority ends at the first '/' or '?'; the user part
 * ends at its last '@' (so an unencoded '@' in a password still parses);
 * user and password split at the first ':'; every part is percent-decoded
 * ('+' is a space in the query, as in Prisma's query_pairs).  Rejected:
 * another scheme, a malformed or NUL escape, '#', spaces and control
 * characters, several hosts, a bad IPv6 address or port, and an '@' after
 * the host (an unencoded '/' or '?' in a password: its rest would otherwise
 * read as a path or a query, and be shown).
 *
 * Invariants: the decoded password is held only in one decoding buffer,
 * wiped before it is freed, and no struct keeps it; dburl_apply replaces the
 * document's URL by its redacted form, also when it fails.  Messages show a
 * URL redacted as a whole (redact_url) and escaped to one line (quoted), and
 * never quote the port (without an '@', what stands there may be a password).
 */
#include "models/dburl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/json.h"
#include "sim/out.h"
#include "sim/sweep.h"
#include "sim/xalloc.h"

#define MAX_SECONDS 31536000 /* a year, as the loader's longest duration */

/* ---- small helpers ---- */

/* Zero n bytes so that the compiler cannot drop the stores. */
static void wipe(char *p, size_t n)
{
    volatile char *v = p;

    while (n--) {
        *v++ = 0;
    }
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n > k && strcmp(s + n - k, suffix) == 0;
}

/* The last c in s[0, n), or NULL. */
static const char *last_of(const char *s, size_t n, char c)
{
    while (n-- > 0) {
        if (s[n] == c) {
            return s + n;
        }
    }
    return NULL;
}

/* ---- redaction ---- */

static bool is_scheme_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '-' || c == '.';
}

/*
 * Length of "scheme://" starting at p in text, else 0.  Any scheme, not only
 * PostgreSQL's: a mistyped "mysql://" or "prisma://" URL is hidden as well.
 */
static size_t scheme_len(const char *text, const char *p)
{
    size_t n = 0;

    if ((p > text && is_scheme_char(p[-1])) ||
        !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
        return 0;
    }
    while (is_scheme_char(p[n])) {
        n++;
    }
    return strncmp(p + n, "://", 3) == 0 ? n + 3 : 0;
}

/*
 * A URL inside text ends at a quote that is not escaped (messages and labels
 * quote their URLs) unless an '@' follows it before the next space (then the
 * quote is in the password), or at the end: never at a line end, lest a
 * password cut by a stray character show its second half.
 */
static size_t token_len(const char *s)
{
    size_t n = 0;

    while (s[n]) {
        if (s[n] == '"' && (n == 0 || s[n - 1] != '\\')) {
            size_t k = n + 1;

            while (s[k] && s[k] != ' ' && s[k] != '@') {
                k++;
            }
            if (s[k] != '@') {
                break;
            }
        }
        n++;
    }
    return n;
}

/*
 * The query part of s[0, n) with the value of every "password" parameter
 * (libpq's) and "api_key" (Prisma Accelerate's prisma:// URLs) as ***.
 */
static void put_query_redacted(struct out_buf *b, const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t seg = i;

        while (seg < n && s[seg] != '&') {
            seg++;
        }
        size_t k = seg - i > 9 && memcmp(s + i, "password=", 9) == 0  ? 9
                   : seg - i > 8 && memcmp(s + i, "api_key=", 8) == 0 ? 8
                                                                      : 0;

        if (k > 0) {
            out_buf_put(b, s + i, k);
            out_buf_puts(b, "***");
        } else {
            out_buf_put(b, s + i, seg - i);
        }
        if (seg < n) {
            out_buf_puts(b, "&");
        }
        i = seg + 1;
    }
}

/* Without an '@', "host:x" with x not a port may be "user:password" cut short: hide x. */
static size_t put_hostport_redacted(struct out_buf *b, const char *s, size_t n)
{
    size_t end = 0, start = 0, colon;
    bool digits = true;

    while (end < n && s[end] != '/' && s[end] != '?') {
        end++;
    }
    if (end > 0 && s[0] == '[') {
        while (start < end && s[start] != ']') {
            start++;
        }
    }
    for (colon = start; colon < end && s[colon] != ':'; colon++) {
    }
    for (size_t i = colon + 1; i < end; i++) {
        digits = digits && s[i] >= '0' && s[i] <= '9';
    }
    if (colon >= end || digits) {
        out_buf_put(b, s, end);
    } else {
        out_buf_put(b, s, colon + 1);
        out_buf_puts(b, "***");
    }
    return end;
}

/* One URL after its scheme: s[0, n). */
static void put_redacted(struct out_buf *b, const char *s, size_t n)
{
    const char *at = last_of(s, n, '@');
    size_t rest = 0;

    if (at) {
        const char *colon = memchr(s, ':', (size_t)(at - s));

        out_buf_put(b, s, colon ? (size_t)(colon - s) + 1 : (size_t)(at - s));
        if (colon) {
            out_buf_puts(b, "***");
        }
        rest = (size_t)(at - s);
        while (rest < n && s[rest] != '/' && s[rest] != '?') {
            rest++;
        }
        out_buf_put(b, at, (size_t)(s + rest - at));
    } else {
        rest = put_hostport_redacted(b, s, n);
    }
    while (rest < n && s[rest] != '?') { /* the path */
        out_buf_put(b, s + rest++, 1);
    }
    if (rest < n) {
        out_buf_puts(b, "?");
        rest++;
    }
    put_query_redacted(b, s + rest, n - rest);
}

char *dburl_redact(const char *text)
{
    struct out_buf b;
    const char *p = text;
    char *r;

    out_buf_init(&b);
    while (*p) {
        size_t k = scheme_len(text, p);

        if (k == 0) {
            out_buf_put(&b, p, 1);
            p++;
            continue;
        }
        out_buf_put(&b, p, k);
        p += k;
        put_redacted(&b, p, token_len(p));
        p += token_len(p);
    }
    r = xstrdup(b.len ? b.data : "");
    out_buf_fini(&b);
    return r;
}

/* One whole URL redacted (not split at quotes): for the URL a document keeps.  Caller frees. */
static char *redact_url(const char *url)
{
    size_t k = scheme_len(url, url);
    struct out_buf b;
    char *r;

    if (k == 0) {
        return dburl_redact(url);
    }
    out_buf_init(&b);
    out_buf_put(&b, url, k);
    put_redacted(&b, url + k, strlen(url + k));
    r = xstrdup(b.data);
    out_buf_fini(&b);
    return r;
}

/*
 * s for a one-line message, inside double quotes the caller writes: '"' and
 * '\\' escaped, control characters as \u00XX, cut to fit dst with "...".
 */
static void quoted(char *dst, size_t size, const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p && n + 10 < size; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            n += (size_t)snprintf(dst + n, size - n, "\\u%04x", *p);
        } else {
            if (*p == '"' || *p == '\\') {
                dst[n++] = '\\';
            }
            dst[n++] = (char)*p;
        }
        if (p[1] && n + 10 >= size) {
            n += (size_t)snprintf(dst + n, size - n, "...");
        }
    }
    dst[n] = '\0';
}

/* url for a message: redacted as a whole, escaped for one line.  Caller frees. */
static char *shown_url(const char *url)
{
    char text[320];
    char *r = redact_url(url);

    quoted(text, sizeof text, r);
    free(r);
    return xstrdup(text);
}

/* ---- parsing ---- */

static int bad(const char *url, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * `invalid database URL "<redacted>": <reason>`; without a "scheme://" to
 * say where a password would be, the text is not shown at all.  Returns -1.
 */
static int bad(const char *url, struct err *e, const char *fmt, ...)
{
    char reason[ERR_MSG_MAX], text[320];
    char *shown = redact_url(url);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    quoted(text, sizeof text, shown);
    if (scheme_len(url, url) > 0) {
        err_set(e, "invalid database URL \"%s\": %s", text, reason);
    } else {
        err_set(e, "invalid database URL (not shown: no scheme): %s", reason);
    }
    free(shown);
    return -1;
}

/* Decode s[0, n) into a new string (*out); what names the part in a message. */
static int decode(const char *url, const char *s, size_t n, bool plus_is_space, const char *what,
                  char **out, struct err *e)
{
    char *d = xmalloc(n + 1);
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        int hi = s[i] == '%' && i + 1 < n ? hex_value(s[i + 1]) : -1;
        int lo = s[i] == '%' && i + 2 < n ? hex_value(s[i + 2]) : -1;

        if (s[i] == '%' && (hi < 0 || lo < 0)) {
            wipe(d, n + 1);
            free(d);
            return bad(url, e,
                       "malformed percent-encoding in %s (expected \"%%\" and two hex digits)",
                       what);
        }
        if (s[i] == '%' && hi == 0 && lo == 0) {
            wipe(d, n + 1);
            free(d);
            return bad(url, e, "\"%%00\" (a NUL byte) in %s is not allowed", what);
        }
        d[k++] = s[i] == '%' ? (char)(hi * 16 + lo) : plus_is_space && s[i] == '+' ? ' ' : s[i];
        i += s[i] == '%' ? 2 : 0;
    }
    d[k] = '\0';
    *out = d;
    return 0;
}

static int parse_userinfo(struct dburl *u, const char *url, const char *s, size_t n, struct err *e)
{
    const char *colon = memchr(s, ':', n);
    size_t user_len = colon ? (size_t)(colon - s) : n;
    char *password;

    if (decode(url, s, user_len, false, "the user name", &u->user, e) != 0) {
        return -1;
    }
    if (!colon) {
        return 0;
    }
    /* Decoded only to check its escapes; nothing keeps it. */
    if (decode(url, colon + 1, n - user_len - 1, false, "the password", &password, e) != 0) {
        return -1;
    }
    u->has_password = true;
    wipe(password, strlen(password));
    free(password);
    return 0;
}

static int parse_port(struct dburl *u, const char *url, const char *s, size_t n, struct err *e)
{
    long port = 0;

    if (n == 0) {
        return 0; /* "host:" is the default port, as in Prisma's URL parser */
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || port > 65535) {
            return bad(url, e, "the port is not a number from 1 to 65535");
        }
        port = port * 10 + (s[i] - '0');
    }
    if (port < 1 || port > 65535) {
        return bad(url, e, "the port is not a number from 1 to 65535");
    }
    u->port = (int)port;
    return 0;
}

#define IPV6_BAD                                                                                   \
    "invalid IPv6 address in brackets (expected hex digits and \":\", e.g. [2001:db8::1])"

/* "[addr]" with hex digits, ':' and '.' only; *len gets the bytes through ']'. */
static int parse_ipv6(struct dburl *u, const char *url, const char *s, size_t n, size_t *len,
                      struct err *e)
{
    const char *close = memchr(s, ']', n);
    size_t k;

    if (!close) {
        return bad(url, e, "unclosed \"[\" in the host (an IPv6 address is written [::1])");
    }
    k = (size_t)(close - s) - 1;
    for (size_t i = 1; i <= k; i++) {
        if (hex_value(s[i]) < 0 && s[i] != ':' && s[i] != '.') {
            return bad(url, e, IPV6_BAD);
        }
    }
    if (k < 2 || !memchr(s + 1, ':', k)) {
        return bad(url, e, IPV6_BAD);
    }
    u->host = xmalloc(k + 1);
    for (size_t i = 0; i < k; i++) {
        u->host[i] = lower(s[1 + i]);
    }
    u->host[k] = '\0';
    u->is_ipv6 = true;
    *len = k + 2;
    return 0;
}

static int parse_hostport(struct dburl *u, const char *url, const char *s, size_t n, struct err *e)
{
    size_t host_len = 0;

    if (memchr(s, ',', n)) {
        return bad(url, e, "several hosts are not supported (give one host)");
    }
    if (n > 0 && s[0] == '[') {
        if (parse_ipv6(u, url, s, n, &host_len, e) != 0) {
            return -1;
        }
        if (host_len < n && s[host_len] != ':') {
            return bad(url, e, "expected \":\" and a port after the IPv6 address");
        }
    } else {
        const char *colon = memchr(s, ':', n);

        host_len = colon ? (size_t)(colon - s) : n;
        if (decode(url, s, host_len, false, "the host", &u->host, e) != 0) {
            return -1;
        }
        for (char *c = u->host; *c; c++) {
            *c = lower(*c);
        }
    }
    return host_len < n ? parse_port(u, url, s + host_len + 1, n - host_len - 1, e) : 0;
}

/* One "key=value" of the query. */
static int parse_param(struct dburl *u, const char *url, const char *s, size_t n, struct err *e)
{
    const char *eq = memchr(s, '=', n);
    size_t key_len = eq ? (size_t)(eq - s) : n;
    struct dburl_param *p;
    char what[128], key[80];

    if (key_len == 0) {
        return bad(url, e, "a query parameter without a name");
    }
    u->params = xrealloc(u->params, (u->nparams + 1) * sizeof *u->params);
    p = &u->params[u->nparams];
    memset(p, 0, sizeof *p);
    if (decode(url, s, key_len, true, "a parameter name", &p->key, e) != 0) {
        return -1;
    }
    u->nparams++;
    quoted(key, sizeof key, p->key);
    snprintf(what, sizeof what, "the value of parameter \"%s\"", key);
    if (decode(url, eq ? eq + 1 : s + n, eq ? n - key_len - 1 : 0, true, what, &p->value, e) != 0) {
        return -1;
    }
    if (strcmp(p->key, "password") == 0) { /* libpq's: hidden like the other */
        wipe(p->value, strlen(p->value));
    }
    return 0;
}

static int parse_query(struct dburl *u, const char *url, const char *q, struct err *e)
{
    while (*q) {
        size_t n = strcspn(q, "&");

        if (n > 0 && parse_param(u, url, q, n, e) != 0) {
            return -1;
        }
        q += n + (q[n] == '&');
    }
    return 0;
}

/* "/database?query" after the host (both optional). */
static int parse_path_query(struct dburl *u, const char *url, const char *p, struct err *e)
{
    if (*p == '/') {
        size_t n = strcspn(p + 1, "?");

        if (decode(url, p + 1, n, false, "the database name", &u->dbname, e) != 0) {
            return -1;
        }
        p += n + 1;
    }
    return *p == '?' ? parse_query(u, url, p + 1, e) : 0;
}

/* Spaces and control characters must be percent-encoded; so must '#' (else a fragment). */
static int check_chars(const char *url, struct err *e)
{
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p <= ' ' || *p == 0x7f) {
            return bad(url, e, "a space or control character must be percent-encoded");
        }
        if (*p == '#') {
            return bad(url, e, "\"#\" must be percent-encoded as %%23");
        }
    }
    return 0;
}

static int parse_all(struct dburl *u, const char *url, struct err *e)
{
    size_t k = strncmp(url, "postgresql://", 13) == 0 ? 13
               : strncmp(url, "postgres://", 11) == 0 ? 11
                                                      : 0;
    const char *p = url + k, *at;
    size_t alen = strcspn(p, "/?");

    if (k == 0) {
        return bad(url, e, "expected \"postgresql://\" or \"postgres://\" at the start");
    }
    if (check_chars(url, e) != 0) {
        return -1;
    }
    if (strchr(p + alen, '@')) { /* else the rest of a password would read as a path or query */
        return bad(url, e,
                   "\"@\" after the host: a \"/\" or \"?\" in the user name or password must be "
                   "percent-encoded (%%2F, %%3F)");
    }
    at = last_of(p, alen, '@');
    if (at && parse_userinfo(u, url, p, (size_t)(at - p), e) != 0) {
        return -1;
    }
    if (at) {
        alen -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    if (parse_hostport(u, url, p, alen, e) != 0) {
        return -1;
    }
    return parse_path_query(u, url, p + alen, e);
}

int dburl_parse(struct dburl *u, const char *url, struct err *e)
{
    memset(u, 0, sizeof *u);
    u->port = DBURL_DEFAULT_PORT;
    if (parse_all(u, url, e) != 0) {
        dburl_fini(u);
        return -1;
    }
    u->user = u->user ? u->user : xstrdup("");
    u->host = u->host ? u->host : xstrdup("");
    u->dbname = u->dbname ? u->dbname : xstrdup("");
    return 0;
}

void dburl_fini(struct dburl *u)
{
    for (size_t i = 0; i < u->nparams; i++) {
        free(u->params[i].key);
        free(u->params[i].value);
    }
    free(u->params);
    free(u->user);
    free(u->host);
    free(u->dbname);
    memset(u, 0, sizeof *u);
}

/* ---- Supabase hosts (reference/domain.md §3.1) ---- */

static bool is_supavisor_host(const char *host)
{
    return has_suffix(host, ".pooler.supabase.com");
}

/* db.<ref>.supabase.co with a non-empty <ref>. */
static bool is_supabase_db_host(const char *host)
{
    size_t n = strlen(host);

    return strncmp(host, "db.", 3) == 0 && n > 3 + 12 && has_suffix(host, ".supabase.co");
}

int dburl_target(const struct dburl *u, enum dburl_target *t, struct err *e)
{
    bool pooler = is_supavisor_host(u->host), db = is_supabase_db_host(u->host);

    *t = DBURL_OTHER;
    if (!pooler && !db) {
        return 0;
    }
    if (u->port != 5432 && u->port != 6543) {
        char host[160];

        quoted(host, sizeof host, u->host);
        err_set(e, "port %d of the Supabase host \"%s\" is neither 5432 (%s) nor 6543 (%s)",
                u->port, host, pooler ? "Supavisor, session mode" : "direct",
                pooler ? "Supavisor, transaction mode" : "PgBouncer, transaction mode");
        return -1;
    }
    if (pooler) {
        *t = u->port == 5432 ? DBURL_SUPAVISOR_SESSION : DBURL_SUPAVISOR_TRANSACTION;
    } else {
        *t = u->port == 5432 ? DBURL_DIRECT : DBURL_PGBOUNCER_TRANSACTION;
    }
    return 0;
}

/* ---- the mapping onto experiment keys ---- */

enum param_kind { PARAM_COUNT, PARAM_SECONDS, PARAM_BOOL, PARAM_NO_EFFECT };

/* Prisma v6's URL parameters (reference/domain.md §1.2) and the client_pool key each sets. */
struct param_rule {
    const char *name;
    enum param_kind kind;
    long long lo, hi;
};

static const struct param_rule param_rules[] = {
    {"connection_limit", PARAM_COUNT, 1, 1000000},
    {"pool_timeout", PARAM_SECONDS, 0, MAX_SECONDS},
    {"connect_timeout", PARAM_SECONDS, 0, MAX_SECONDS},
    {"socket_timeout", PARAM_SECONDS, 1, MAX_SECONDS},
    {"statement_cache_size", PARAM_COUNT, 0, 1000000},
    {"pgbouncer", PARAM_BOOL, 0, 0},
    {"schema", PARAM_NO_EFFECT, 0, 0},
};
#define NRULES (sizeof param_rules / sizeof param_rules[0])

/* What an application of one URL works with. */
struct apply {
    struct cJSON *doc;   /* the point's document (borrowed) */
    struct json_at root; /* its root */
    char *shown;         /* the URL redacted and escaped, for messages (owned) */
    struct dburl url;    /* parsed */
    char ***paths;       /* keys set (caller's) */
    size_t *npaths;
    struct out_buf *notes; /* may be NULL */
};

static const struct param_rule *find_rule(const char *name)
{
    for (size_t i = 0; i < NRULES; i++) {
        if (strcmp(param_rules[i].name, name) == 0) {
            return &param_rules[i];
        }
    }
    return NULL;
}

static void note(struct apply *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line of notes, unless the same line is already there. */
static void note(struct apply *a, const char *fmt, ...)
{
    char line[ERR_MSG_MAX];
    va_list ap;

    if (!a->notes) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (a->notes->len && strstr(a->notes->data, line)) {
        return;
    }
    out_buf_printf(a->notes, "%s\n", line);
}

/* The member key of the object obj at the top level; 0 when obj or key is absent. */
static int get_leaf(const struct apply *a, const char *obj, const char *key, struct json_at *out)
{
    struct json_at o;

    return json_get(&a->root, obj, &o) && json_is_object(&o) && json_get(&o, key, out);
}

/* "obj.key" is set (or "obj" is not an object: the loader will say so): leave it. */
static bool is_set(const struct apply *a, const char *obj, const char *key)
{
    struct json_at o, v;

    return json_get(&a->root, obj, &o) && (!json_is_object(&o) || json_get(&o, key, &v));
}

/* Set obj.key to the JSON text json unless a higher layer set it. */
static int set_low(struct apply *a, const char *obj, const char *key, const char *json,
                   struct err *e)
{
    char path[128];
    struct cJSON *v;
    struct err sub;
    int r;

    if (is_set(a, obj, key)) {
        return 0;
    }
    snprintf(path, sizeof path, "%s.%s", obj, key);
    v = json_value_from_arg(json);
    err_clear(&sub);
    r = json_set_path(a->doc, path, v, &sub);
    json_free(v);
    if (r != 0) {
        err_at(e, "$.database_url", "cannot set %s: %s", path, sub.msg);
        return -1;
    }
    *a->paths = xrealloc(*a->paths, (*a->npaths + 1) * sizeof **a->paths);
    (*a->paths)[(*a->npaths)++] = xstrdup(path);
    json_root(a->doc, &a->root); /* the tree changed */
    return 0;
}

/* A value of the document that the URL's host and port contradict is an error naming both. */
static int check_leaf(struct apply *a, const char *obj, const char *key, const char *want,
                      const char *why, struct err *e)
{
    struct json_at v;
    const char *got = NULL;
    struct err scratch;

    if (!get_leaf(a, obj, key, &v)) {
        return 0;
    }
    if (json_is_string(&v) && json_string(&v, &got, &scratch) == 0 && want &&
        strcmp(got, want) == 0) {
        return 0;
    }
    if (got) {
        char text[80];

        quoted(text, sizeof text, got);
        err_at(e, v.path, "\"%s\" contradicts database_url \"%s\" (%s)", text, a->shown, why);
    } else {
        err_at(e, v.path, "contradicts database_url \"%s\" (%s)", a->shown, why);
    }
    return -1;
}

struct target_rule {
    const char *kind, *mode; /* pooler.kind and pooler.pool_mode; mode NULL: none */
    const char *why;
};

static const struct target_rule target_rules[] = {
    [DBURL_OTHER] = {"direct", NULL, "not a Supabase host"},
    [DBURL_DIRECT] = {"direct", NULL,
                      "port 5432 of db.<ref>.supabase.co is a direct connection, no pooler"},
    [DBURL_PGBOUNCER_TRANSACTION] = {"pgbouncer", "transaction",
                                     "port 6543 of db.<ref>.supabase.co is PgBouncer in "
                                     "transaction mode"},
    [DBURL_SUPAVISOR_SESSION] = {"supavisor", "session",
                                 "port 5432 of *.pooler.supabase.com is Supavisor in session "
                                 "mode"},
    [DBURL_SUPAVISOR_TRANSACTION] = {"supavisor", "transaction",
                                     "port 6543 of *.pooler.supabase.com is Supavisor in "
                                     "transaction mode"},
};

static int apply_target(struct apply *a, struct err *e)
{
    const struct target_rule *r;
    enum dburl_target t;
    char kind[64], mode[64];

    if (dburl_target(&a->url, &t, e) != 0) {
        char msg[ERR_MSG_MAX];

        snprintf(msg, sizeof msg, "%s", e->msg);
        err_at(e, "$.database_url", "invalid database URL \"%s\": %s", a->shown, msg);
        return -1;
    }
    r = &target_rules[t];
    if (t == DBURL_OTHER) {
        if (!is_set(a, "pooler", "kind")) {
            char host[160];

            quoted(host, sizeof host, a->url.host[0] ? a->url.host : "(local socket)");
            note(a,
                 "database_url: host \"%s\" is not a Supabase host: no pooler assumed "
                 "(pooler.kind \"direct\"; set pooler in the file if there is one)",
                 host);
        }
        return set_low(a, "pooler", "kind", "\"direct\"", e);
    }
    if (check_leaf(a, "pooler", "kind", r->kind, r->why, e) != 0 ||
        check_leaf(a, "pooler", "pool_mode", r->mode, r->why, e) != 0) {
        return -1;
    }
    snprintf(kind, sizeof kind, "\"%s\"", r->kind);
    if (set_low(a, "pooler", "kind", kind, e) != 0) {
        return -1;
    }
    snprintf(mode, sizeof mode, "\"%s\"", r->mode ? r->mode : "");
    return r->mode ? set_low(a, "pooler", "pool_mode", mode, e) : 0;
}

/* A parameter's value as JSON text; -1 with e set when it is out of its rule. */
static int param_json(const struct apply *a, const struct param_rule *r, const char *value,
                      char *json, size_t size, struct err *e)
{
    long long v = 0;
    size_t n = strlen(value);
    char got[48];

    quoted(got, sizeof got, value);
    if (r->kind == PARAM_BOOL) {
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
            err_at(e, "$.database_url",
                   "invalid database URL \"%s\": parameter \"%s\" must be \"true\" or "
                   "\"false\", got \"%s\"",
                   a->shown, r->name, got);
            return -1;
        }
        snprintf(json, size, "%s", value);
        return 0;
    }
    for (size_t i = 0; i < n && v <= r->hi; i++) {
        v = value[i] >= '0' && value[i] <= '9' ? v * 10 + (value[i] - '0') : -1;
        if (v < 0) {
            break;
        }
    }
    if (n == 0 || v < r->lo || v > r->hi) {
        err_at(e, "$.database_url",
               "invalid database URL \"%s\": parameter \"%s\" must be a whole number from "
               "%lld to %lld%s, got \"%s\"",
               a->shown, r->name, r->lo, r->hi, r->kind == PARAM_SECONDS ? " (seconds)" : "", got);
        return -1;
    }
    snprintf(json, size, "%lld", v);
    return 0;
}

/* Prisma's parameters need the prisma-v6 client pool. */
static int check_client_kind(struct apply *a, const char *param, struct err *e)
{
    char why[160];

    snprintf(why, sizeof why, "its parameter \"%s\" is Prisma v6's", param);
    return check_leaf(a, "client_pool", "kind", "prisma-v6", why, e);
}

/* Every parameter checked first; the last one of a name wins, as in Prisma. */
static int apply_params(struct apply *a, struct err *e)
{
    char json[64];

    for (size_t i = 0; i < a->url.nparams; i++) {
        const struct dburl_param *p = &a->url.params[i];
        const struct param_rule *r = find_rule(p->key);

        if (!r) {
            char key[80];

            quoted(key, sizeof key, p->key);
            note(a, "database_url: parameter \"%s\" is not simulated (ignored)", key);
        } else if (r->kind == PARAM_NO_EFFECT) {
            note(a,
                 "database_url: parameter \"%s\" is accepted but has no effect on the "
                 "simulation",
                 r->name);
        } else if (param_json(a, r, p->value, json, sizeof json, e) != 0 ||
                   check_client_kind(a, r->name, e) != 0) {
            return -1;
        }
    }
    for (size_t i = a->url.nparams; i-- > 0;) {
        const struct dburl_param *p = &a->url.params[i];
        const struct param_rule *r = find_rule(p->key);

        if (r && r->kind != PARAM_NO_EFFECT &&
            (param_json(a, r, p->value, json, sizeof json, e) != 0 ||
             set_low(a, "client_pool", r->name, json, e) != 0)) {
            return -1;
        }
    }
    return 0;
}

/* Replace the document's URL by its redacted form. */
static void keep_redacted(struct cJSON *doc, const char *shown)
{
    struct out_buf b;
    struct cJSON *v;
    struct err scratch;

    out_buf_init(&b);
    out_json_str(&b, shown);
    v = json_value_from_arg(b.data);
    json_set_path(doc, "database_url", v, &scratch);
    json_free(v);
    out_buf_fini(&b);
}

/* "expected a string (...), got a number": the value itself is never quoted. */
static int read_url(const struct json_at *v, const char **url, struct err *e)
{
    const char *t = json_type_name(v);
    struct err scratch;

    if (!json_is_string(v) || json_string(v, url, &scratch) != 0) {
        err_at(e, v->path, "expected a string (a postgresql:// URL), got %s %s",
               t[0] == 'a' || t[0] == 'o' ? "an" : "a", t);
        return -1;
    }
    return 0;
}

int dburl_apply(struct cJSON *doc, char ***paths, size_t *npaths, struct out_buf *notes,
                struct err *e)
{
    struct apply a = {.doc = doc, .paths = paths, .npaths = npaths, .notes = notes};
    struct json_at v;
    const char *url;
    char *kept;
    int rc = -1;

    json_root(doc, &a.root);
    if (!json_is_object(&a.root) || !json_get(&a.root, "database_url", &v)) {
        return 0;
    }
    if (read_url(&v, &url, e) != 0) {
        return -1;
    }
    a.shown = shown_url(url);
    kept = redact_url(url); /* url lives in doc: copied before it is replaced */
    if (dburl_parse(&a.url, url, e) != 0) {
        char msg[ERR_MSG_MAX];

        snprintf(msg, sizeof msg, "%s", e->msg);
        err_at(e, "$.database_url", "%s", msg);
    } else {
        rc = apply_target(&a, e) == 0 && apply_params(&a, e) == 0 ? 0 : -1;
        dburl_fini(&a.url);
    }
    keep_redacted(doc, kept); /* even on an error: the document never keeps the password */
    free(kept);
    free(a.shown);
    return rc;
}

/* ---- a whole sweep plan ---- */

/* Every URL in the labels and swept values (and the file's own) shown redacted. */
static void redact_plan(struct sweep_plan *plan)
{
    struct json_at root, v;
    const char *url;
    struct err scratch;

    for (size_t i = 0; i < plan->npoints; i++) {
        struct sweep_point *p = &plan->points[i];
        char *r;

        for (size_t c = 0; c < plan->ncolumns; c++) {
            r = dburl_redact(p->values[c]);
            free(p->values[c]);
            p->values[c] = r;
        }
        if (p->label) {
            r = dburl_redact(p->label);
            free(p->label);
            p->label = r;
        }
    }
    json_root(plan->file_doc, &root);
    if (json_is_object(&root) && json_get(&root, "database_url", &v) && json_is_string(&v) &&
        json_string(&v, &url, &scratch) == 0) {
        char *kept = redact_url(url);

        keep_redacted(plan->file_doc, kept);
        free(kept);
    }
}

int dburl_plan_apply(struct sweep_plan *plan, struct out_buf *notes, struct err *e)
{
    redact_plan(plan);
    for (size_t i = 0; i < plan->npoints; i++) {
        struct sweep_point *p = &plan->points[i];
        char **paths = NULL;
        size_t n = 0;
        int r = dburl_apply(p->doc, &paths, &n, notes, e);

        p->overrides = xrealloc(p->overrides, (p->noverrides + n + 1) * sizeof *p->overrides);
        for (size_t k = 0; k < n; k++) {
            p->overrides[p->noverrides].path = paths[k]; /* ownership moves */
            p->overrides[p->noverrides++].source = SWEEP_SRC_URL;
        }
        free(paths);
        if (r != 0) {
            sweep_point_error(plan, i, "", e);
            return -1;
        }
    }
    return 0;
}

int dburl_vusage(FILE *f, const char *fmt, va_list ap)
{
    char buf[2048];
    char *shown;

    vsnprintf(buf, sizeof buf, fmt, ap);
    shown = dburl_redact(buf);
    fprintf(f, "poolsim: %s (see poolsim --help)\n", shown);
    free(shown);
    return 2;
}

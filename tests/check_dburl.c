/*
 * check_dburl.c - connection strings (models/dburl.h): real-world URL shapes
 * parsed part by part, malformed ones with their exact message, redaction,
 * the Supabase host/port mapping, and database_url applied to a document,
 * an experiment and a sweep plan.  Every URL with a password uses
 * "s3cr3t-P%40ss" (decoded "s3cr3t-P@ss"); no message may contain "s3cr3t".
 */
#include <stdlib.h>
#include <string.h>

#include "models/config.h"
#include "models/dburl.h"
#include "sim/json.h"
#include "sim/out.h"
#include "sim/sweep.h"
#include "tests/tests.h"

#define PW "s3cr3t-P%40ss"

/* ---- parsing real-world shapes ---- */

struct shape {
    const char *url;
    const char *user;
    bool has_password;
    const char *host;
    bool is_ipv6;
    int port;
    const char *dbname;
    size_t nparams;
    enum dburl_target target;
};

static const struct shape shapes[] = {
    /* Supabase's pooled string for Prisma (transaction mode) */
    {"postgresql://postgres.abcdefghijklmnopqrst:" PW
     "@aws-0-eu-central-1.pooler.supabase.com:6543/"
     "postgres?pgbouncer=true&connection_limit=1",
     "postgres.abcdefghijklmnopqrst", true, "aws-0-eu-central-1.pooler.supabase.com", false, 6543,
     "postgres", 2, DBURL_SUPAVISOR_TRANSACTION},
    /* Supabase's session-mode pooler, Prisma's directUrl */
    {"postgresql://postgres.abcdefghijklmnopqrst:" PW
     "@aws-0-eu-central-1.pooler.supabase.com:5432/"
     "postgres",
     "postgres.abcdefghijklmnopqrst", true, "aws-0-eu-central-1.pooler.supabase.com", false, 5432,
     "postgres", 0, DBURL_SUPAVISOR_SESSION},
    /* Supabase direct connection, and PgBouncer on the same host */
    {"postgresql://postgres:" PW "@db.abcdefghijklmnopqrst.supabase.co:5432/postgres", "postgres",
     true, "db.abcdefghijklmnopqrst.supabase.co", false, 5432, "postgres", 0, DBURL_DIRECT},
    {"postgres://postgres:" PW "@db.abcdefghijklmnopqrst.supabase.co:6543/postgres", "postgres",
     true, "db.abcdefghijklmnopqrst.supabase.co", false, 6543, "postgres", 0,
     DBURL_PGBOUNCER_TRANSACTION},
    /* Supabase direct host without a port: 5432 */
    {"postgresql://postgres:" PW "@db.abcdefghijklmnopqrst.supabase.co/postgres", "postgres", true,
     "db.abcdefghijklmnopqrst.supabase.co", false, 5432, "postgres", 0, DBURL_DIRECT},
    /* Prisma's docs example: no password, a schema */
    {"postgresql://johndoe@localhost:5432/mydb?schema=public", "johndoe", false, "localhost", false,
     5432, "mydb", 1, DBURL_OTHER},
    /* the short scheme, no port */
    {"postgres://app:" PW "@10.0.0.5/orders", "app", true, "10.0.0.5", false, 5432, "orders", 0,
     DBURL_OTHER},
    /* libpq's minimal forms */
    {"postgresql://localhost", "", false, "localhost", false, 5432, "", 0, DBURL_OTHER},
    {"postgresql://", "", false, "", false, 5432, "", 0, DBURL_OTHER},
    {"postgresql:///mydb", "", false, "", false, 5432, "mydb", 0, DBURL_OTHER},
    {"postgresql://localhost:/mydb", "", false, "localhost", false, 5432, "mydb", 0, DBURL_OTHER},
    /* IPv6 with and without a port */
    {"postgresql://user:" PW "@[2001:db8::1234]:6432/app", "user", true, "2001:db8::1234", true,
     6432, "app", 0, DBURL_OTHER},
    {"postgres://[::1]/db", "", false, "::1", true, 5432, "db", 0, DBURL_OTHER},
    /* encoded characters in user, password and database */
    {"postgresql://us%40er%3Aname:p%3Aa%2Fs%23s%20w@host/my%20db%2F2", "us@er:name", true, "host",
     false, 5432, "my db/2", 0, DBURL_OTHER},
    /* an unencoded '@' in the password: the last '@' ends the user part */
    {"postgresql://user:s3cr3t-P@ss@host:5433/db", "user", true, "host", false, 5433, "db", 0,
     DBURL_OTHER},
    /* an empty password, and a user name alone */
    {"postgresql://user:@host/db", "user", true, "host", false, 5432, "db", 0, DBURL_OTHER},
    /* many parameters; the host is matched in lowercase */
    {"postgresql://u:" PW
     "@DB.Example.COM:5433/x?sslmode=require&connect_timeout=10&pool_timeout=0&"
     "application_name=my+app&statement_cache_size=0&socket_timeout=30",
     "u", true, "db.example.com", false, 5433, "x", 6, DBURL_OTHER},
    /* a host that merely mentions supabase is not Supabase's */
    {"postgresql://u:" PW "@supabase.co.example.net:6543/db", "u", true, "supabase.co.example.net",
     false, 6543, "db", 0, DBURL_OTHER},
};

START_TEST(parses_real_world_shapes)
{
    const struct shape *s = &shapes[_i];
    struct dburl u;
    enum dburl_target t;
    struct err e;

    err_clear(&e);
    ck_assert_msg(dburl_parse(&u, s->url, &e) == 0, "%s: %s", s->url, e.msg);
    ck_assert_str_eq(u.user, s->user);
    ck_assert_int_eq(u.has_password, s->has_password);
    ck_assert_str_eq(u.host, s->host);
    ck_assert_int_eq(u.is_ipv6, s->is_ipv6);
    ck_assert_int_eq(u.port, s->port);
    ck_assert_str_eq(u.dbname, s->dbname);
    ck_assert_uint_eq(u.nparams, s->nparams);
    ck_assert_int_eq(dburl_target(&u, &t, &e), 0);
    ck_assert_int_eq(t, s->target);
    dburl_fini(&u);
}
END_TEST

START_TEST(parameters_are_decoded_in_order)
{
    struct dburl u;
    struct err e;

    ck_assert_int_eq(dburl_parse(&u, shapes[16].url, &e), 0);
    ck_assert_str_eq(u.params[0].key, "sslmode");
    ck_assert_str_eq(u.params[0].value, "require");
    ck_assert_str_eq(u.params[3].key, "application_name");
    ck_assert_str_eq(u.params[3].value, "my app"); /* '+' is a space, as in Prisma */
    ck_assert_str_eq(u.params[5].value, "30");
    dburl_fini(&u);
    ck_assert_int_eq(dburl_parse(&u, "postgresql://h/d?flag&password=" PW, &e), 0);
    ck_assert_str_eq(u.params[0].key, "flag");
    ck_assert_str_eq(u.params[0].value, "");
    ck_assert_ptr_null(strstr(u.params[1].value, "s3cr3t")); /* libpq's password, wiped */
    dburl_fini(&u);
}
END_TEST

/* ---- malformed URLs: the exact message, never the password ---- */

struct malformed {
    const char *url;
    const char *msg;
};

static const struct malformed malformed[] = {
    {"mysql://u:" PW "@h/db", "invalid database URL \"mysql://u:***@h/db\": expected "
                              "\"postgresql://\" or \"postgres://\" at "
                              "the start"},
    {"prisma://accelerate.prisma-data.net/?api_key=" PW,
     "invalid database URL \"prisma://accelerate.prisma-data.net/?api_key=***\": expected "
     "\"postgresql://\" or \"postgres://\" at the start"},
    {"u:" PW "@h/db", "invalid database URL (not shown: no scheme): expected \"postgresql://\" or "
                      "\"postgres://\" at "
                      "the start"},
    {"postgresql://u:s3cr3t%zz@h/db",
     "invalid database URL \"postgresql://u:***@h/db\": malformed percent-encoding in the password "
     "(expected \"%\" and two hex digits)"},
    {"postgresql://u:s3cr3t%4@h/db",
     "invalid database URL \"postgresql://u:***@h/db\": malformed percent-encoding in the password "
     "(expected \"%\" and two hex digits)"},
    {"postgresql://u%00x:" PW "@h/db",
     "invalid database URL \"postgresql://u%00x:***@h/db\": \"%00\" (a NUL byte) in the user name "
     "is not allowed"},
    {"postgresql://u:" PW "@h/d%4", "invalid database URL \"postgresql://u:***@h/d%4\": malformed "
                                    "percent-encoding in the database "
                                    "name (expected \"%\" and two hex digits)"},
    {"postgresql://u:" PW "@h/db?connection_limit=%G1",
     "invalid database URL \"postgresql://u:***@h/db?connection_limit=%G1\": malformed "
     "percent-encoding in the value of parameter \"connection_limit\" (expected \"%\" and two hex "
     "digits)"},
    {"postgresql://u:" PW "@h:99999/db",
     "invalid database URL \"postgresql://u:***@h:99999/db\": the port is not a number from 1 to "
     "65535"},
    {"postgresql://u:" PW "@h:0/db", "invalid database URL \"postgresql://u:***@h:0/db\": the port "
                                     "is not a number from 1 to 65535"},
    /* no '@': what stands after ':' may be a password, so it is hidden, never quoted */
    {"postgresql://u:" PW,
     "invalid database URL \"postgresql://u:***\": the port is not a number from 1 to 65535"},
    {"postgresql://u:" PW "@[::1/db",
     "invalid database URL \"postgresql://u:***@[::1/db\": unclosed \"[\" in the host (an IPv6 "
     "address is written [::1])"},
    {"postgresql://u:" PW "@[zz::1]/db",
     "invalid database URL \"postgresql://u:***@[zz::1]/db\": invalid IPv6 address in brackets "
     "(expected hex digits and \":\", e.g. [2001:db8::1])"},
    {"postgresql://u:" PW "@[1234]/db",
     "invalid database URL \"postgresql://u:***@[1234]/db\": invalid IPv6 address in brackets "
     "(expected hex digits and \":\", e.g. [2001:db8::1])"},
    /* a newline cut the URL once (found by fuzz_loader): one line, and no half of the password */
    {"postgresql://u:s3c\nr3t@h/db",
     "invalid database URL \"postgresql://u:***@h/db\": a space or control character must be "
     "percent-encoded"},
    {"postgresql://u:s3cr3t@h/db?x=1\n",
     "invalid database URL \"postgresql://u:***@h/db?x=1\\u000a\": a space or control character "
     "must be percent-encoded"},
    {"postgresql://u:" PW "@[::1]5432/db",
     "invalid database URL \"postgresql://u:***@[::1]5432/db\": expected \":\" and a port after "
     "the "
     "IPv6 address"},
    {"postgresql://u:" PW "@h1:5432,h2:5432/db",
     "invalid database URL \"postgresql://u:***@h1:5432,h2:5432/db\": several hosts are not "
     "supported (give one host)"},
    {"postgresql://u:s3cr3t#x@h/db",
     "invalid database URL \"postgresql://u:***@h/db\": \"#\" must be percent-encoded as %23"},
    {"postgresql://u:s3cr3t x@h/db",
     "invalid database URL \"postgresql://u:***@h/db\": a space or control character must be "
     "percent-encoded"},
    {"postgresql://u:123?s3cr3t@h/db",
     "invalid database URL \"postgresql://u:***@h/db\": \"@\" after the host: a \"/\" or \"?\" in "
     "the user name or password must be percent-encoded (%2F, %3F)"},
    {"postgresql://u:s3/cr3t@h/db",
     "invalid database URL \"postgresql://u:***@h/db\": \"@\" after the host: a \"/\" or \"?\" in "
     "the user name or password must be percent-encoded (%2F, %3F)"},
    {"postgresql://u:" PW "@h/db?=x",
     "invalid database URL \"postgresql://u:***@h/db?=x\": a query parameter without a name"},
};

START_TEST(rejects_malformed_urls_exactly)
{
    const struct malformed *m = &malformed[_i];
    struct dburl u;
    struct err e;

    err_clear(&e);
    ck_assert_int_eq(dburl_parse(&u, m->url, &e), -1);
    ck_assert_str_eq(e.msg, m->msg);
    ck_assert_ptr_null(strstr(e.msg, "s3cr3t"));
    ck_assert_str_eq(e.path, "");
    ck_assert_ptr_null(u.host); /* emptied */
}
END_TEST

START_TEST(supabase_host_on_another_port_is_an_error)
{
    struct dburl u;
    enum dburl_target t;
    struct err e;

    err_clear(&e);
    ck_assert_int_eq(
        dburl_parse(&u, "postgresql://u:" PW "@aws-0-us-east-1.pooler.supabase.com:6544/p", &e), 0);
    ck_assert_int_eq(dburl_target(&u, &t, &e), -1);
    ck_assert_str_eq(e.msg,
                     "port 6544 of the Supabase host \"aws-0-us-east-1.pooler.supabase.com\" "
                     "is neither 5432 (Supavisor, session mode) nor 6543 (Supavisor, "
                     "transaction mode)");
    dburl_fini(&u);
}
END_TEST

/* ---- redaction ---- */

START_TEST(redacts_passwords_wherever_a_url_is_shown)
{
    static const char *const cases[][2] = {
        {"postgresql://u:" PW "@h/db", "postgresql://u:***@h/db"},
        {"postgresql://u:s3cr3t-P@ss@h:5433/db?x=1", "postgresql://u:***@h:5433/db?x=1"},
        {"postgresql://u@h/db", "postgresql://u@h/db"},
        {"postgres://[::1]:5432/db", "postgres://[::1]:5432/db"},
        {"postgresql://u:***@h/db", "postgresql://u:***@h/db"}, /* idempotent */
        {"postgresql:///db?host=h&password=" PW "&x=1", "postgresql:///db?host=h&password=***&x=1"},
        {"point 3 (database_url=\"postgres://u:" PW "@h/db\", x=1): bad",
         "point 3 (database_url=\"postgres://u:***@h/db\", x=1): bad"},
        /* cut short by a message's quoting: no '@' left */
        {"got a string (\"postgres://u:s3cr3t-P%40s...\")", "got a string (\"postgres://u:***\")"},
        {"two: \"postgres://a:" PW "@h\" and \"POSTGRESQL://b:" PW "@k\"",
         "two: \"postgres://a:***@h\" and \"POSTGRESQL://b:***@k\""},
        {"no url here: a:b@c", "no url here: a:b@c"},
        {"postgres://u:s3c\nr3t@h", "postgres://u:***@h"}, /* a line end does not cut it */
        {"unknown option \"--database-url=postgres://u:s3\"cr3t@h/db\" (see poolsim --help)",
         "unknown option \"--database-url=postgres://u:***@h/db\" (see poolsim --help)"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *r = dburl_redact(cases[i][0]);

        ck_assert_str_eq(r, cases[i][1]);
        free(r);
    }
}
END_TEST

/* ---- database_url applied to a document ---- */

static struct cJSON *parse_doc(const char *text)
{
    struct cJSON *doc = NULL;
    struct err e;

    err_clear(&e);
    ck_assert_msg(json_parse("t.json", text, strlen(text), &doc, &e) == 0, "%s", e.msg);
    return doc;
}

/* doc's obj.key printed as compact JSON ("" when absent); caller frees. */
static char *leaf(const struct cJSON *doc, const char *obj, const char *key)
{
    struct json_at root, o, v;

    json_root(doc, &root);
    if (!key) {
        return json_get(&root, obj, &v) ? json_print(v.node) : strdup("");
    }
    if (!json_get(&root, obj, &o) || !json_get(&o, key, &v)) {
        return strdup("");
    }
    return json_print(v.node);
}

static void assert_leaf(const struct cJSON *doc, const char *obj, const char *key, const char *want)
{
    char *got = leaf(doc, obj, key);

    ck_assert_msg(strcmp(got, want) == 0, "%s.%s: got %s, want %s", obj, key ? key : "", got, want);
    free(got);
}

struct applied {
    struct cJSON *doc;
    char **paths;
    size_t npaths;
    struct out_buf notes;
    struct err e;
    int rc;
};

static void apply_text(struct applied *a, const char *text)
{
    memset(a, 0, sizeof *a);
    out_buf_init(&a->notes);
    a->doc = parse_doc(text);
    a->rc = dburl_apply(a->doc, &a->paths, &a->npaths, &a->notes, &a->e);
}

static void applied_fini(struct applied *a)
{
    for (size_t i = 0; i < a->npaths; i++) {
        free(a->paths[i]);
    }
    free(a->paths);
    out_buf_fini(&a->notes);
    json_free(a->doc);
}

START_TEST(pooler_url_sets_pooler_and_prisma_keys)
{
    struct applied a;

    apply_text(&a, "{\"database_url\": \"postgresql://postgres.ref:" PW
                   "@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?pgbouncer=true&"
                   "connection_limit=3&pool_timeout=20&connect_timeout=0&socket_timeout=30&"
                   "statement_cache_size=50&schema=public&sslmode=require\"}");
    ck_assert_msg(a.rc == 0, "%s", a.e.msg);
    assert_leaf(a.doc, "pooler", "kind", "\"supavisor\"");
    assert_leaf(a.doc, "pooler", "pool_mode", "\"transaction\"");
    assert_leaf(a.doc, "client_pool", "pgbouncer", "true");
    assert_leaf(a.doc, "client_pool", "connection_limit", "3");
    assert_leaf(a.doc, "client_pool", "pool_timeout", "20");
    assert_leaf(a.doc, "client_pool", "connect_timeout", "0");
    assert_leaf(a.doc, "client_pool", "socket_timeout", "30");
    assert_leaf(a.doc, "client_pool", "statement_cache_size", "50");
    assert_leaf(a.doc, "client_pool", "schema", ""); /* accepted, no effect */
    assert_leaf(a.doc, "database_url", NULL,
                "\"postgresql://postgres.ref:***@aws-0-eu-central-1.pooler.supabase.com:6543/"
                "postgres?pgbouncer=true&connection_limit=3&pool_timeout=20&connect_timeout=0&"
                "socket_timeout=30&statement_cache_size=50&schema=public&sslmode=require\"");
    ck_assert_uint_eq(a.npaths, 8);
    ck_assert_str_eq(a.paths[0], "pooler.kind");
    ck_assert_str_eq(a.paths[1], "pooler.pool_mode");
    ck_assert_str_eq(a.notes.data,
                     "database_url: parameter \"schema\" is accepted but has no effect on the "
                     "simulation\n"
                     "database_url: parameter \"sslmode\" is not simulated (ignored)\n");
    applied_fini(&a);
}
END_TEST

START_TEST(each_supabase_target_sets_its_pooler)
{
    static const char *const cases[][3] = {
        {"aws-0-x.pooler.supabase.com:5432", "\"supavisor\"", "\"session\""},
        {"aws-0-x.pooler.supabase.com:6543", "\"supavisor\"", "\"transaction\""},
        {"db.abcdefghijklmnopqrst.supabase.co:5432", "\"direct\"", ""},
        {"db.abcdefghijklmnopqrst.supabase.co:6543", "\"pgbouncer\"", "\"transaction\""},
        {"example.com:6543", "\"direct\"", ""},
    };
    char text[512];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct applied a;

        snprintf(text, sizeof text, "{\"database_url\": \"postgres://u:%s@%s/db\"}", PW,
                 cases[i][0]);
        apply_text(&a, text);
        ck_assert_msg(a.rc == 0, "%s", a.e.msg);
        assert_leaf(a.doc, "pooler", "kind", cases[i][1]);
        assert_leaf(a.doc, "pooler", "pool_mode", cases[i][2]);
        ck_assert_int_eq(a.notes.len > 0, i == 4); /* only the non-Supabase host says so */
        applied_fini(&a);
    }
}
END_TEST

START_TEST(file_values_win_over_url_parameters)
{
    struct applied a;

    apply_text(&a, "{\"client_pool\": {\"connection_limit\": 7}, \"pooler\": {\"kind\": "
                   "\"pgbouncer\", \"pool_mode\": \"transaction\"}, \"database_url\": "
                   "\"postgresql://u:" PW "@10.1.2.3:6432/db?connection_limit=3&pgbouncer=true\"}");
    ck_assert_msg(a.rc == 0, "%s", a.e.msg);
    assert_leaf(a.doc, "client_pool", "connection_limit", "7");
    assert_leaf(a.doc, "client_pool", "pgbouncer", "true");
    assert_leaf(a.doc, "pooler", "kind", "\"pgbouncer\""); /* the file sets a pooler: kept */
    ck_assert_uint_eq(a.npaths, 1);
    ck_assert_str_eq(a.paths[0], "client_pool.pgbouncer");
    ck_assert_uint_eq(a.notes.len, 0);
    applied_fini(&a);
}
END_TEST

struct refused {
    const char *doc;
    const char *path;
    const char *msg;
};

static const struct refused refused[] = {
    {"{\"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": \"session\"}, \"database_url\": "
     "\"postgresql://u:" PW "@aws-0-x.pooler.supabase.com:6543/db\"}",
     "$.pooler.pool_mode",
     "\"session\" contradicts database_url \"postgresql://u:***@aws-0-x.pooler.supabase.com:6543/"
     "db\" (port 6543 of *.pooler.supabase.com is Supavisor in transaction mode)"},
    {"{\"pooler\": {\"kind\": \"pgbouncer\"}, \"database_url\": \"postgresql://u:" PW
     "@aws-0-x.pooler.supabase.com:5432/db\"}",
     "$.pooler.kind",
     "\"pgbouncer\" contradicts database_url \"postgresql://u:***@aws-0-x.pooler.supabase.com:5432/"
     "db\" (port 5432 of *.pooler.supabase.com is Supavisor in session mode)"},
    {"{\"pooler\": {\"pool_mode\": \"session\"}, \"database_url\": \"postgresql://u:" PW
     "@db.abcdefghijklmnopqrst.supabase.co:5432/db\"}",
     "$.pooler.pool_mode",
     "\"session\" contradicts database_url "
     "\"postgresql://u:***@db.abcdefghijklmnopqrst.supabase.co:"
     "5432/db\" (port 5432 of db.<ref>.supabase.co is a direct connection, no pooler)"},
    {"{\"client_pool\": {\"kind\": \"pg-pool\"}, \"database_url\": \"postgresql://u:" PW
     "@h/db?connection_limit=3\"}",
     "$.client_pool.kind",
     "\"pg-pool\" contradicts database_url \"postgresql://u:***@h/db?connection_limit=3\" (its "
     "parameter \"connection_limit\" is Prisma v6's)"},
    {"{\"database_url\": \"postgresql://u:" PW "@h/db?connection_limit=0\"}", "$.database_url",
     "invalid database URL \"postgresql://u:***@h/db?connection_limit=0\": parameter "
     "\"connection_limit\" must be a whole number from 1 to 1000000, got \"0\""},
    {"{\"database_url\": \"postgresql://u:" PW "@h/db?pool_timeout=5s\"}", "$.database_url",
     "invalid database URL \"postgresql://u:***@h/db?pool_timeout=5s\": parameter \"pool_timeout\" "
     "must be a whole number from 0 to 31536000 (seconds), got \"5s\""},
    {"{\"database_url\": \"postgresql://u:" PW "@h/db?pgbouncer=1\"}", "$.database_url",
     "invalid database URL \"postgresql://u:***@h/db?pgbouncer=1\": parameter \"pgbouncer\" must "
     "be "
     "\"true\" or \"false\", got \"1\""},
    {"{\"database_url\": \"postgresql://u:" PW "@h/db?connection_limit=%0A\"}", "$.database_url",
     "invalid database URL \"postgresql://u:***@h/db?connection_limit=%0A\": parameter "
     "\"connection_limit\" must be a whole number from 1 to 1000000, got \"\\u000a\""},
    {"{\"database_url\": {\"password\": \"s3cr3t\"}}", "$.database_url",
     "expected a string (a postgresql:// URL), got an object"},
    {"{\"database_url\": \"postgresql://u:" PW "@h:x/db\"}", "$.database_url",
     "invalid database URL \"postgresql://u:***@h:x/db\": the port is not a number from 1 to "
     "65535"},
};

START_TEST(contradictions_and_bad_values_are_errors)
{
    const struct refused *r = &refused[_i];
    struct applied a;

    apply_text(&a, r->doc);
    ck_assert_int_eq(a.rc, -1);
    ck_assert_str_eq(a.e.path, r->path);
    ck_assert_str_eq(a.e.msg, r->msg);
    applied_fini(&a);
}
END_TEST

/* ---- through the loader and a sweep plan ---- */

#define BASE                                                                                       \
    "\"name\": \"t\", \"duration\": \"1s\", \"workload\": {\"model\": \"open\", \"rate\": 1, "     \
    "\"page\": [\"a\"]}, \"app\": {\"endpoints\": {\"a\": {\"operations\": [{\"type\": "           \
    "\"query\", \"server_time\": \"1ms\"}]}}}"

START_TEST(experiment_load_applies_the_url_and_keeps_it_redacted)
{
    struct cJSON *doc = parse_doc("{" BASE ", \"database_url\": \"postgresql://u:" PW
                                  "@db.abcdefghijklmnopqrst.supabase.co:6543/postgres?"
                                  "connection_limit=4&pgbouncer=true\"}");
    struct experiment x;
    struct cJSON *resolved;
    char *text;
    struct err e;

    err_clear(&e);
    ck_assert_msg(experiment_load(&x, doc, ".", &e) == 0, "%s", e.msg);
    ck_assert_int_eq(x.pooler.kind, POOLER_PGBOUNCER);
    ck_assert_int_eq(x.pooler.pgb.pool_mode, PGB_TRANSACTION);
    ck_assert_int_eq(x.client_pool.prisma.connection_limit, 4);
    ck_assert(x.client_pool.prisma.pgbouncer);
    ck_assert_str_eq(x.database_url, "postgresql://u:***@db.abcdefghijklmnopqrst.supabase.co:6543/"
                                     "postgres?connection_limit=4&pgbouncer=true");
    resolved = experiment_resolved(&x);
    text = json_print(resolved);
    ck_assert_ptr_nonnull(strstr(text, "\"database_url\":\"postgresql://u:***@db."));
    ck_assert_ptr_null(strstr(text, "s3cr3t"));
    free(text);
    json_free(resolved);
    experiment_fini(&x);
    json_free(doc);
}
END_TEST

START_TEST(plan_records_url_sources_and_redacts_labels)
{
    struct cJSON *root = parse_doc(
        "{" BASE ", \"client_pool\": {\"connection_limit\": 2}, \"sweep\": {\"database_url\": "
        "[\"postgresql://u:" PW "@aws-0-x.pooler.supabase.com:5432/p\", \"postgresql://u:" PW
        "@aws-0-x.pooler.supabase.com:6543/p?connection_limit=9&pgbouncer=true\"]}}");
    struct sweep_plan plan;
    struct out_buf notes;
    struct err e;
    char *file_doc;

    err_clear(&e);
    out_buf_init(&notes);
    ck_assert_int_eq(sweep_expand(root, NULL, 0, &plan, &e), 0);
    ck_assert_msg(dburl_plan_apply(&plan, &notes, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(plan.points[0].values[0],
                     "\"postgresql://u:***@aws-0-x.pooler.supabase.com:5432/p\"");
    ck_assert_str_eq(plan.points[1].label,
                     "database_url=\"postgresql://u:***@aws-0-x.pooler."
                     "supabase.com:6543/p?connection_limit=9&pgbouncer=true\"");
    /* point 1: the sweep's database_url, then what its URL set (not connection_limit: the file's)
     */
    ck_assert_uint_eq(plan.points[1].noverrides, 4);
    ck_assert_str_eq(plan.points[1].overrides[0].path, "database_url");
    ck_assert_int_eq(plan.points[1].overrides[0].source, SWEEP_SRC_SWEEP);
    ck_assert_str_eq(plan.points[1].overrides[1].path, "pooler.kind");
    ck_assert_int_eq(plan.points[1].overrides[1].source, SWEEP_SRC_URL);
    ck_assert_str_eq(plan.points[1].overrides[2].path, "pooler.pool_mode");
    ck_assert_str_eq(plan.points[1].overrides[3].path, "client_pool.pgbouncer");
    assert_leaf(plan.points[1].doc, "client_pool", "connection_limit", "2");
    assert_leaf(plan.points[0].doc, "pooler", "pool_mode", "\"session\"");
    file_doc = json_print(plan.file_doc);
    ck_assert_ptr_null(strstr(file_doc, "s3cr3t"));
    free(file_doc);
    sweep_plan_fini(&plan);
    out_buf_fini(&notes);
    json_free(root);
}
END_TEST

START_TEST(plan_error_names_the_point_redacted)
{
    struct cJSON *root =
        parse_doc("{" BASE ", \"pooler\": {\"kind\": \"supavisor\", \"pool_mode\": \"session\"}, "
                  "\"sweep\": {\"database_url\": [\"postgresql://u:" PW
                  "@aws-0-x.pooler.supabase.com:5432/p\", \"postgresql://u:" PW
                  "@aws-0-x.pooler.supabase.com:6543/p\"]}}");
    struct sweep_plan plan;
    struct err e;

    err_clear(&e);
    ck_assert_int_eq(sweep_expand(root, NULL, 0, &plan, &e), 0);
    ck_assert_int_eq(dburl_plan_apply(&plan, NULL, &e), -1);
    ck_assert_str_eq(e.path, "point 1 (database_url=\"postgresql://u:***@aws-0-x.pooler.supabase."
                             "com:6543/p\"): $.pooler.pool_mode");
    ck_assert_ptr_null(strstr(e.msg, "s3cr3t"));
    sweep_plan_fini(&plan);
    json_free(root);
}
END_TEST

Suite *dburl_suite(void)
{
    Suite *s = suite_create("dburl");
    TCase *tc = tests_tcase(s, "parse", 10, "");

    tcase_add_loop_test(tc, parses_real_world_shapes, 0, (int)(sizeof shapes / sizeof shapes[0]));
    tcase_add_test(tc, parameters_are_decoded_in_order);
    tcase_add_loop_test(tc, rejects_malformed_urls_exactly, 0,
                        (int)(sizeof malformed / sizeof malformed[0]));
    tcase_add_test(tc, supabase_host_on_another_port_is_an_error);
    tcase_add_test(tc, redacts_passwords_wherever_a_url_is_shown);
    tc = tests_tcase(s, "apply", 10, "");
    tcase_add_test(tc, pooler_url_sets_pooler_and_prisma_keys);
    tcase_add_test(tc, each_supabase_target_sets_its_pooler);
    tcase_add_test(tc, file_values_win_over_url_parameters);
    tcase_add_loop_test(tc, contradictions_and_bad_values_are_errors, 0,
                        (int)(sizeof refused / sizeof refused[0]));
    tcase_add_test(tc, experiment_load_applies_the_url_and_keeps_it_redacted);
    tcase_add_test(tc, plan_records_url_sources_and_redacts_labels);
    tcase_add_test(tc, plan_error_names_the_point_redacted);
    return s;
}

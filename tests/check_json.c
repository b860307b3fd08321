/*
 * check_json.c - the experiment-file reader (sim/json.c): every class of
 * error as the exact line a user sees (err_format), the typed getters,
 * durations, distributions as json_dist hands them to sim/dist.c, paths and
 * overrides.  All mechanism tests.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/json.h"
#include "tests/tests.h"

#define LINE_MAX_ (ERR_FILE_MAX + ERR_PATH_MAX + ERR_MSG_MAX + 32)

/* The formatted error of parsing text as "x.json", or "(parsed)". */
static void parse_error(const char *text, char *buf, size_t size)
{
    struct cJSON *root = NULL;
    struct err e;

    err_clear(&e);
    if (json_parse("x.json", text, strlen(text), &root, &e) == 0) {
        json_free(root);
        snprintf(buf, size, "(parsed)");
        return;
    }
    ck_assert_ptr_null(root);
    err_format(&e, buf, size);
}

struct parse_case {
    const char *text;
    const char *want;
};

static void check_cases(const struct parse_case *c, size_t n)
{
    char got[LINE_MAX_];

    for (size_t i = 0; i < n; i++) {
        parse_error(c[i].text, got, sizeof got);
        ck_assert_msg(strcmp(got, c[i].want) == 0, "input %zu: %s\n  got:  %s\n  want: %s", i,
                      c[i].text, got, c[i].want);
    }
}

/* A tree that must parse; root gets its json_at, e is cleared and names "x.json". */
static struct cJSON *load(const char *text, struct json_at *root, struct err *e)
{
    struct cJSON *tree = NULL;

    err_clear(e);
    ck_assert_int_eq(json_parse("x.json", text, strlen(text), &tree, e), 0);
    json_root(tree, root);
    err_set_file(e, "x.json");
    return tree;
}

/* The json_at of key under root (must exist). */
static void at_key(const struct json_at *root, const char *key, struct json_at *out)
{
    ck_assert_int_eq(json_get(root, key, out), 1);
}

static void ck_err(const struct err *e, const char *want)
{
    char got[LINE_MAX_];

    err_format(e, got, sizeof got);
    ck_assert_str_eq(got, want);
}

START_TEST(syntax_errors_name_line_col_of_offending_byte)
{
    const struct parse_case c[] = {
        {"", "x.json:1:1: empty input (expected a JSON value)"},
        {"  \n\t", "x.json:2:2: empty input (expected a JSON value)"},
        {"{\"a\": }", "x.json:1:7: expected a value, got '}'"},
        {"{\n  \"a\": 1\n  \"b\": 2\n}",
         "x.json:3:3: expected ',' or '}' after object member, got '\"'"},
        {"[1 2]", "x.json:1:4: expected ',' or ']' after array element, got '2'"},
        {"{\"a\": 1,\n}",
         "x.json:2:1: expected a key in double quotes, got '}' (trailing commas are not allowed)"},
        {"[1, 2,]", "x.json:1:7: expected a value, got ']' (trailing commas are not allowed)"},
        {"{\"a\" 1}", "x.json:1:6: expected ':' after the key, got '1'"},
        {"{pool_size: 5}", "x.json:1:2: expected a key in double quotes, got 'pool_size'"},
        {"{\"mode\": session}", "x.json:1:10: expected a value, got 'session'"},
        {"{\"a\": \"abc", "x.json:1:11: unterminated string (opened at 1:7)"},
        {"{\"a\": \"abc\n}", "x.json:1:11: line break in a string opened at 1:7 (missing '\"'?)"},
        {"{\"a\": 1", "x.json:1:8: expected ',' or '}' after object member, got end of input"},
        {"{} x", "x.json:1:4: trailing characters after the JSON value: 'x'"},
        {"{}}", "x.json:1:3: trailing characters after the JSON value: '}'"},
        {"[01]", "x.json:1:2: number with a leading zero"},
        {"[1.]", "x.json:1:4: expected a digit after '.', got ']'"},
        {"[-x]", "x.json:1:3: expected a digit after '-', got 'x'"},
        {"{\"warmup\": 30s}", "x.json:1:12: unquoted duration 30s (write \"30s\")"},
        {"[\"\\q\"]", "x.json:1:3: invalid escape '\\q' in a string"},
        {"[\"\\u12G4\"]", "x.json:1:3: invalid \\u escape (expected 4 hex digits)"},
        {"[\"\\u0000\"]", "x.json:1:3: \\u0000 is not allowed in a string"},
        {"[\"\\ud800x\"]", "x.json:1:3: unpaired surrogate \\ud800 in a string"},
        {"[\"a\tb\"]", "x.json:1:4: control character 0x09 in a string (write it as \\u0009)"},
        {"[\x01]", "x.json:1:2: expected a value, got control character 0x01"},
    };

    check_cases(c, sizeof c / sizeof c[0]);
}
END_TEST

START_TEST(strict_json_is_accepted)
{
    const char *ok[] = {
        "{}",
        "[]",
        " {\"a\": [1, -0, 2.5e-3, 1E+2, true, false, null]} \n",
        "\"x\"",
        "0",
        "\xef\xbb\xbf{}",
        ("\xef\xbb\xbf"
         "1"),
        "[\"\\ud83d\\ude00 \\\" \\\\ \\/ \\b\\f\\n\\r\\t\"]",
        "{\"\xc3\xa9t\xc3\xa9\": \"\xe2\x82\xac\"}",
    };
    char got[LINE_MAX_];

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        parse_error(ok[i], got, sizeof got);
        ck_assert_msg(strcmp(got, "(parsed)") == 0, "%s: %s", ok[i], got);
    }
}
END_TEST

START_TEST(nesting_is_limited)
{
    char text[1200], got[LINE_MAX_];

    memset(text, '[', 600);
    text[600] = '\0';
    parse_error(text, got, sizeof got);
    ck_assert_str_eq(got, "x.json:1:513: nesting deeper than 512 levels");
}
END_TEST

START_TEST(invalid_utf8_points_at_first_bad_byte)
{
    const struct parse_case c[] = {
        {"{\"a\": \"x\xff\"}", "x.json:1:9: invalid UTF-8 byte 0xff"},
        {"{\n\"a\": \"\xc3(\"}", "x.json:2:7: invalid UTF-8 sequence 0xc3 0x28"},
        {"[\"\xe0\x80\x80\"]", "x.json:1:3: invalid UTF-8 sequence 0xe0 0x80"}, /* overlong */
        {"[\"\xed\xa0\x80\"]", "x.json:1:3: invalid UTF-8 sequence 0xed 0xa0"}, /* surrogate */
        {"[\"\xe2\x82", "x.json:1:3: invalid UTF-8 sequence 0xe2 0x82 (cut by the end of input)"},
    };

    check_cases(c, sizeof c / sizeof c[0]);
}
END_TEST

START_TEST(meaning_errors_after_parse)
{
    const struct parse_case c[] = {
        {"{\"a\": 1, \"b\": {\"c\": 1, \"d\": 2, \"c\": 3}}", "x.json: $.b.c: duplicate key \"c\""},
        {"{\"a\": [{\"x\": 1}, {\"y\": 2, \"y\": 3}]}", "x.json: $.a[1].y: duplicate key \"y\""},
        {"{\"a\": 1, \"A\": 2, \"a.b\": 3, \"a\": 4}", "x.json: $.a: duplicate key \"a\""},
        {"{\"b\": 1, \"a\": 1, \"a\": 2, \"b\": 2}", "x.json: $.a: duplicate key \"a\""},
        {"{\"x\": {\"y\": 1, \"y\": 2}, \"x\": 3}", "x.json: $.x.y: duplicate key \"y\""},
        {"{\"a\": [1, 1e999]}", "x.json: $.a[1]: number out of range"},
        {"{\"a\": {\"b\\nc\": 1}}", "x.json: $.a: key \"b\\u000ac\" contains a control character"},
    };

    check_cases(c, sizeof c / sizeof c[0]);
}
END_TEST

START_TEST(missing_file_names_the_file)
{
    struct cJSON *root = (struct cJSON *)&root;
    struct err e;

    err_clear(&e);
    ck_assert_int_eq(json_load_file("/nonexistent/dir/exp.json", &root, &e), -1);
    ck_assert_ptr_null(root);
    ck_assert_str_eq(e.file, "/nonexistent/dir/exp.json");
    ck_err(&e, "/nonexistent/dir/exp.json: cannot open: No such file or directory");
}
END_TEST

START_TEST(load_file_reads_whole_file)
{
    char dir[] = "/tmp/check_json_XXXXXX", file[64];
    struct cJSON *root = NULL;
    struct json_at at, v;
    struct err e;
    int64_t n = 0;
    FILE *f;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/exp.json", dir);
    f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"pad\": \"%0100000d\", \"seed\": 7}\n", 0); /* beyond one read buffer */
    fclose(f);
    err_clear(&e);
    ck_assert_int_eq(json_load_file(file, &root, &e), 0);
    json_root(root, &at);
    at_key(&at, "seed", &v);
    ck_assert_int_eq(json_int(&v, 0, 10, &n, &e), 0);
    ck_assert_int_eq(n, 7);
    json_free(root);

    f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\n  \"seed\": 7,\n}\n");
    fclose(f);
    ck_assert_int_eq(json_load_file(file, &root, &e), -1);
    ck_assert_int_eq(e.line, 3);
    ck_assert_int_eq(e.col, 1);
    ck_assert_str_eq(e.file, file);
    remove(file);
    rmdir(dir);
}
END_TEST

START_TEST(navigation_and_paths)
{
    struct json_at root, a, c;
    const char *key = "unset";
    struct err e;
    struct cJSON *t =
        load("{\"a\": [10, {\"x.y\": true, \"b\\\\c[0]\": null}], \"z\": \"s\"}", &root, &e);

    ck_assert_str_eq(root.path, "$");
    ck_assert_uint_eq(json_size(&root), 2);
    at_key(&root, "a", &a);
    ck_assert(json_is_array(&a));
    ck_assert_uint_eq(json_size(&a), 2);
    json_child(&a, 1, &c, &key);
    ck_assert_ptr_null(key);
    ck_assert_str_eq(c.path, "$.a[1]");
    ck_assert(json_is_object(&c));
    ck_assert_str_eq(json_type_name(&c), "object");
    json_child(&c, 0, &c, &key);
    ck_assert_str_eq(key, "x.y");
    ck_assert_str_eq(c.path, "$.a[1].x\\.y");
    ck_assert(json_is_bool(&c));
    json_child(&a, 1, &c, &key);
    json_child(&c, 1, &c, &key);
    ck_assert_str_eq(key, "b\\c[0]");
    ck_assert_str_eq(c.path, "$.a[1].b\\\\c\\[0]");
    ck_assert(json_is_null(&c));
    ck_assert_int_eq(json_get(&root, "Z", &c), 0); /* case-sensitive */
    ck_assert_int_eq(json_get(&root, "z", &c), 1);
    ck_assert(json_is_string(&c));
    ck_assert_uint_eq(json_size(&c), 0);
    json_free(t);
}
END_TEST

START_TEST(path_building_escapes_and_truncates)
{
    char p[JSON_PATH_MAX], small[8];

    json_path_key(p, sizeof p, "$", "app");
    json_path_key(p, sizeof p, p, "a.b");
    json_path_index(p, sizeof p, p, 12);
    json_path_key(p, sizeof p, p, "back\\slash");
    ck_assert_str_eq(p, "$.app.a\\.b[12].back\\\\slash");
    json_path_key(small, sizeof small, "$.abc", "defgh");
    ck_assert_str_eq(small, "$.abc.d");
}
END_TEST

START_TEST(unknown_key_lists_the_allowed_ones)
{
    const char *const pooler[] = {"kind", "pool_mode", "pool_size", NULL};
    const char *const one[] = {"value", NULL};
    const char *const none[] = {NULL};
    struct json_at root, p;
    struct err e;
    struct cJSON *t = load("{\"p\": {\"kind\": 1, \"pool_sise\": 5}}", &root, &e);

    at_key(&root, "p", &p);
    ck_assert_int_eq(json_check_keys(&p, pooler, &e), -1);
    ck_err(&e, "x.json: $.p.pool_sise: unknown key \"pool_sise\" (expected one of \"kind\", "
               "\"pool_mode\", \"pool_size\")");
    ck_assert_int_eq(json_check_keys(&p, one, &e), -1);
    ck_err(&e, "x.json: $.p.kind: unknown key \"kind\" (expected \"value\")");
    ck_assert_int_eq(json_check_keys(&p, none, &e), -1);
    ck_err(&e, "x.json: $.p.kind: unknown key \"kind\" (no keys are allowed here)");
    ck_assert_int_eq(json_check_keys(&root, (const char *const[]){"p", NULL}, &e), 0);
    json_free(t);
}
END_TEST

START_TEST(wrong_types_say_expected_and_got)
{
    struct json_at root, v;
    struct err e;
    const char *s = NULL;
    double d = 0.0;
    bool b = false;
    int64_t n = 0;
    struct cJSON *t = load(
        "{\"s\": \"ten\", \"n\": 5, \"t\": true, \"z\": null, \"a\": [], \"o\": {}}", &root, &e);

    at_key(&root, "s", &v);
    ck_assert_int_eq(json_int(&v, 0, 10, &n, &e), -1);
    ck_err(&e, "x.json: $.s: expected an integer, got a string (\"ten\")");
    ck_assert_int_eq(json_double(&v, 0, 10, &d, &e), -1);
    ck_err(&e, "x.json: $.s: expected a number, got a string (\"ten\")");
    ck_assert_int_eq(json_expect_object(&v, &e), -1);
    ck_err(&e, "x.json: $.s: expected an object, got a string (\"ten\")");
    at_key(&root, "n", &v);
    ck_assert_int_eq(json_string(&v, &s, &e), -1);
    ck_err(&e, "x.json: $.n: expected a string, got a number (5)");
    ck_assert_int_eq(json_bool(&v, &b, &e), -1);
    ck_err(&e, "x.json: $.n: expected true or false, got a number (5)");
    at_key(&root, "t", &v);
    ck_assert_int_eq(json_expect_array(&v, &e), -1);
    ck_err(&e, "x.json: $.t: expected an array, got true");
    ck_assert_int_eq(json_bool(&v, &b, &e), 0);
    ck_assert(b);
    at_key(&root, "z", &v);
    ck_assert_int_eq(json_string(&v, &s, &e), -1);
    ck_err(&e, "x.json: $.z: expected a string, got null");
    at_key(&root, "a", &v);
    ck_assert_int_eq(json_expect_object(&v, &e), -1);
    ck_err(&e, "x.json: $.a: expected an object, got an array");
    at_key(&root, "o", &v);
    ck_assert_int_eq(json_expect_array(&v, &e), -1);
    ck_err(&e, "x.json: $.o: expected an array, got an object");
    json_free(t);
}
END_TEST

START_TEST(integers_check_range_and_fraction)
{
    struct json_at root, v;
    struct err e;
    int64_t n = 0;
    struct cJSON *t = load("{\"f\": 2.5, \"big\": 1e300, \"neg\": -3, \"max\": 9007199254740992, "
                           "\"edge\": 9223372036854775808, \"exp\": 1e3}",
                           &root, &e);

    at_key(&root, "f", &v);
    ck_assert_int_eq(json_int(&v, 1, 100000, &n, &e), -1);
    ck_err(&e, "x.json: $.f: must be an integer in [1, 100000], got 2.5");
    at_key(&root, "big", &v);
    ck_assert_int_eq(json_int(&v, 1, INT64_MAX, &n, &e), -1);
    ck_err(&e, "x.json: $.big: must be an integer >= 1, got 1e+300");
    at_key(&root, "edge", &v); /* 2^63: one past INT64_MAX */
    ck_assert_int_eq(json_int(&v, INT64_MIN, INT64_MAX, &n, &e), -1);
    ck_err(&e, "x.json: $.edge: must be an integer, got 9.223372036854776e+18");
    at_key(&root, "neg", &v);
    ck_assert_int_eq(json_int(&v, 0, INT64_MAX, &n, &e), -1);
    ck_err(&e, "x.json: $.neg: must be an integer >= 0, got -3");
    ck_assert_int_eq(json_int(&v, INT64_MIN, -4, &n, &e), -1);
    ck_err(&e, "x.json: $.neg: must be an integer <= -4, got -3");
    ck_assert_int_eq(json_int(&v, -3, -3, &n, &e), 0);
    ck_assert_int_eq(n, -3);
    at_key(&root, "max", &v);
    ck_assert_int_eq(json_int(&v, 0, INT64_MAX, &n, &e), 0);
    ck_assert_int_eq(n, INT64_C(9007199254740992));
    at_key(&root, "exp", &v);
    ck_assert_int_eq(json_int(&v, 0, 1000, &n, &e), 0);
    ck_assert_int_eq(n, 1000);
    json_free(t);
}
END_TEST

START_TEST(doubles_check_range)
{
    struct json_at root, v;
    struct err e;
    double d = 0.0;
    struct cJSON *t = load("{\"r\": 1.5, \"x\": 0.1}", &root, &e);

    at_key(&root, "r", &v);
    ck_assert_int_eq(json_double(&v, 0.0, 1.0, &d, &e), -1);
    ck_err(&e, "x.json: $.r: must be a number in [0, 1], got 1.5");
    ck_assert_int_eq(json_double(&v, 2.0, HUGE_VAL, &d, &e), -1);
    ck_err(&e, "x.json: $.r: must be a number >= 2, got 1.5");
    at_key(&root, "x", &v);
    ck_assert_int_eq(json_double(&v, 0.0, 1.0, &d, &e), 0);
    ck_assert(d == 0.1);
    json_free(t);
}
END_TEST

START_TEST(enum_names_the_choices)
{
    const char *const modes[] = {"session", "transaction", "statement", NULL};
    struct json_at root, v;
    struct err e;
    int k = -1;
    struct cJSON *t = load("{\"m\": \"tx\", \"n\": 1, \"ok\": \"statement\"}", &root, &e);

    at_key(&root, "m", &v);
    ck_assert_int_eq(json_enum(&v, modes, &k, &e), -1);
    ck_err(&e, "x.json: $.m: unknown value \"tx\" (expected \"session\", \"transaction\" or "
               "\"statement\")");
    at_key(&root, "n", &v);
    ck_assert_int_eq(json_enum(&v, modes, &k, &e), -1);
    ck_err(&e,
           "x.json: $.n: expected \"session\", \"transaction\" or \"statement\", got a number (1)");
    at_key(&root, "ok", &v);
    ck_assert_int_eq(json_enum(&v, modes, &k, &e), 0);
    ck_assert_int_eq(k, 2);
    json_free(t);
}
END_TEST

START_TEST(duration_strings_convert_exactly)
{
    const struct {
        const char *text;
        sim_time want;
    } c[] = {
        {"250us", SIM_US(250)},
        {"0.5ms", SIM_US(500)},
        {"2m", SIM_S(120)},
        {"1h", SIM_S(3600)},
        {"0s", 0},
        {"1.5s", SIM_MS(1500)},
        {"7ns", 7},
        {"20ms", SIM_MS(20)},
        {"0.1s", SIM_MS(100)},
        {"100000h", SIM_S(360000000)},
    };
    struct err e;

    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        sim_time t = -1;

        ck_assert_msg(json_parse_duration(c[i].text, &t, &e) == 0, "%s: %s", c[i].text, e.msg);
        ck_assert_msg(t == c[i].want, "%s: %lld ns", c[i].text, (long long)t);
    }
}
END_TEST

START_TEST(duration_string_errors)
{
    const struct parse_case c[] = {
        {"5 parsecs", "unknown unit in \"5 parsecs\" (expected ns, us, ms, s, m or h)"},
        {"5MS", "unknown unit in \"5MS\" (expected ns, us, ms, s, m or h)"},
        {"5", "missing unit in \"5\" (expected ns, us, ms, s, m or h)"},
        {"5 ms", "invalid duration \"5 ms\" (no space between number and unit)"},
        {"-5ms", "invalid duration \"-5ms\" (must not be negative)"},
        {"", "invalid duration \"\" (expected a number and a unit, e.g. \"250ms\")"},
        {".5ms", "invalid duration \".5ms\" (expected a number and a unit, e.g. \"250ms\")"},
        {"1.2.3s", "invalid duration \"1.2.3s\" (expected a number and a unit, e.g. \"250ms\")"},
        {"1e3ms", "unknown unit in \"1e3ms\" (expected ns, us, ms, s, m or h)"},
        {"300000000h", "duration \"300000000h\" is too large (at most about 291 years)"},
    };
    struct err e;

    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        sim_time t = 0;

        err_clear(&e);
        ck_assert_int_eq(json_parse_duration(c[i].text, &t, &e), -1);
        ck_assert_str_eq(e.msg, c[i].want);
        ck_assert_str_eq(e.path, ""); /* json_parse_duration leaves the path alone */
    }
}
END_TEST

START_TEST(durations_in_json_bare_numbers_and_ranges)
{
    struct json_at root, v;
    struct err e;
    sim_time t = 0;
    struct cJSON *t_ = load("{\"b\": 5, \"f\": 2.5, \"u\": \"5 parsecs\", \"h\": \"0.5ms\", "
                            "\"big\": 11, \"o\": {}}",
                            &root, &e);

    at_key(&root, "b", &v);
    ck_assert_int_eq(json_duration(&v, JSON_BARE_NONE, 0, SIM_TIME_MAX, &t, &e), -1);
    ck_err(&e, "x.json: $.b: bare number 5 needs a unit (e.g. \"5ms\")");
    ck_assert_int_eq(json_duration(&v, JSON_BARE_MS, 0, SIM_TIME_MAX, &t, &e), 0);
    ck_assert_int_eq(t, SIM_MS(5));
    ck_assert_int_eq(json_duration(&v, JSON_BARE_S, 0, SIM_TIME_MAX, &t, &e), 0);
    ck_assert_int_eq(t, SIM_S(5));
    at_key(&root, "f", &v);
    ck_assert_int_eq(json_duration(&v, JSON_BARE_MS, 0, SIM_TIME_MAX, &t, &e), 0);
    ck_assert_int_eq(t, SIM_US(2500));
    at_key(&root, "u", &v);
    ck_assert_int_eq(json_duration(&v, JSON_BARE_MS, 0, SIM_TIME_MAX, &t, &e), -1);
    ck_err(&e, "x.json: $.u: unknown unit in \"5 parsecs\" (expected ns, us, ms, s, m or h)");
    at_key(&root, "h", &v);
    ck_assert_int_eq(json_duration(&v, JSON_BARE_NONE, SIM_MS(1), SIM_TIME_MAX, &t, &e), -1);
    ck_err(&e, "x.json: $.h: must be at least \"1ms\", got \"0.5ms\"");
    at_key(&root, "big", &v);
    ck_assert_int_eq(json_duration(&v, JSON_BARE_S, 0, SIM_S(10), &t, &e), -1);
    ck_err(&e, "x.json: $.big: must be at most \"10s\", got 11");
    at_key(&root, "o", &v);
    ck_assert_int_eq(json_duration(&v, JSON_BARE_MS, 0, SIM_TIME_MAX, &t, &e), -1);
    ck_err(&e, "x.json: $.o: expected a duration such as \"250ms\" or a number of milliseconds, "
               "got an object");
    json_free(t_);
}
END_TEST

/* json_dist on {"t": text}; returns its result, d and e filled. */
static int dist_of(const char *text, const char *base_dir, struct dist *d, struct err *e)
{
    struct json_at root, v;
    struct cJSON *t = load(text, &root, e);
    int rc;

    at_key(&root, "t", &v);
    memset(d, 0, sizeof *d);
    rc = json_dist(&v, base_dir, d, e);
    json_free(t);
    return rc;
}

START_TEST(dist_kinds_reach_dist_with_ns)
{
    struct dist d;
    struct err e;

    ck_assert_int_eq(dist_of("{\"t\": \"8ms\"}", "", &d, &e), 0);
    ck_assert_int_eq(d.kind, DIST_CONST);
    ck_assert_int_eq(d.value, SIM_MS(8));
    ck_assert_int_eq(dist_of("{\"t\": {\"dist\": \"const\", \"value\": \"250us\"}}", "", &d, &e),
                     0);
    ck_assert_int_eq(d.kind, DIST_CONST);
    ck_assert_int_eq(d.value, SIM_US(250));
    ck_assert_int_eq(dist_of("{\"t\": {\"dist\": \"exponential\", \"mean\": \"3s\"}}", "", &d, &e),
                     0);
    ck_assert_int_eq(d.kind, DIST_EXPONENTIAL);
    ck_assert_double_eq(d.mean_ns, 3e9);
    ck_assert_int_eq(
        dist_of("{\"t\": {\"dist\": \"uniform\", \"min\": \"1ms\", \"max\": \"2m\"}}", "", &d, &e),
        0);
    ck_assert_int_eq(d.kind, DIST_UNIFORM);
    ck_assert_int_eq(d.min, SIM_MS(1));
    ck_assert_int_eq(d.max, SIM_S(120));
    dist_fini(&d);
}
END_TEST

START_TEST(dist_lognormal_gamma_parameters)
{
    const double z99 = 2.3263478740408408; /* standard normal 0.99 quantile */
    struct dist d;
    struct err e;

    ck_assert_int_eq(dist_of("{\"t\": {\"dist\": \"lognormal\", \"median\": \"15ms\", \"p99\": "
                             "\"120ms\"}}",
                             "", &d, &e),
                     0);
    ck_assert_int_eq(d.kind, DIST_LOGNORMAL);
    ck_assert_double_eq_tol(d.mu, log(15e6), 1e-9);
    ck_assert_double_eq_tol(d.sigma, log(8.0) / z99, 1e-9);
    ck_assert_int_eq(
        dist_of("{\"t\": {\"dist\": \"lognormal\", \"mean\": \"10ms\", \"cv\": 0.5}}", "", &d, &e),
        0);
    ck_assert_int_eq(d.kind, DIST_LOGNORMAL);
    ck_assert_double_eq_tol(d.sigma, sqrt(log(1.25)), 1e-9);
    ck_assert_double_eq_tol(d.mu, log(1e7) - log(1.25) / 2, 1e-9);
    ck_assert_int_eq(
        dist_of("{\"t\": {\"dist\": \"gamma\", \"mean\": \"4ms\", \"cv\": 0.5}}", "", &d, &e), 0);
    ck_assert_int_eq(d.kind, DIST_GAMMA);
    ck_assert_double_eq_tol(d.shape, 4.0, 1e-9);
    ck_assert_double_eq_tol(d.scale, 1e6, 1e-3);
    dist_fini(&d);
}
END_TEST

START_TEST(dist_empirical_inline_and_file)
{
    char dir[] = "/tmp/check_json_XXXXXX", file[64], text[256];
    struct dist d;
    struct err e;
    FILE *f;

    ck_assert_int_eq(dist_of("{\"t\": {\"dist\": \"empirical\", \"quantiles\": [[0, \"2ms\"], "
                             "[0.5, \"10ms\"], [1, \"400ms\"]]}}",
                             "", &d, &e),
                     0);
    ck_assert_int_eq(d.kind, DIST_EMPIRICAL);
    ck_assert_uint_eq(d.npts, 3);
    ck_assert_double_eq(d.pts[1].q, 0.5);
    ck_assert_int_eq(d.pts[1].at, SIM_MS(10));
    ck_assert_int_eq(d.pts[2].at, SIM_MS(400));
    dist_fini(&d);

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/times.csv", dir);
    f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "q,duration\n0,1ms\n1,5ms\n");
    fclose(f);
    /* relative to base_dir, with or without its trailing slash, and absolute */
    ck_assert_int_eq(
        dist_of("{\"t\": {\"dist\": \"empirical\", \"file\": \"times.csv\"}}", dir, &d, &e), 0);
    ck_assert_int_eq(d.kind, DIST_EMPIRICAL);
    ck_assert_uint_eq(d.npts, 2);
    ck_assert_int_eq(d.pts[1].at, SIM_MS(5));
    dist_fini(&d);
    snprintf(text, sizeof text, "%s/", dir);
    ck_assert_int_eq(
        dist_of("{\"t\": {\"dist\": \"empirical\", \"file\": \"times.csv\"}}", text, &d, &e), 0);
    dist_fini(&d);
    snprintf(text, sizeof text, "{\"t\": {\"dist\": \"empirical\", \"file\": \"%s\"}}", file);
    ck_assert_int_eq(dist_of(text, "/nonexistent", &d, &e), 0);
    ck_assert_uint_eq(d.npts, 2);
    dist_fini(&d);
    ck_assert_int_eq(dist_of("{\"t\": {\"dist\": \"empirical\", \"file\": \"times.csv\"}}",
                             "/nonexistent", &d, &e),
                     -1);
    remove(file);
    rmdir(dir);
}
END_TEST

START_TEST(dist_errors)
{
    const struct parse_case c[] = {
        {"{\"t\": 5}", "x.json: $.t: bare number 5 needs a unit (e.g. \"5ms\")"},
        {"{\"t\": [1]}", "x.json: $.t: expected a duration such as \"250ms\" or a distribution "
                         "{\"dist\": ...}, got an array"},
        {"{\"t\": {\"mean\": \"1s\"}}",
         "x.json: $.t: missing key \"dist\" (expected \"const\", \"exponential\", \"uniform\", "
         "\"lognormal\", \"gamma\" or \"empirical\")"},
        {"{\"t\": {\"dist\": \"normal\"}}",
         "x.json: $.t.dist: unknown value \"normal\" (expected \"const\", \"exponential\", "
         "\"uniform\", \"lognormal\", \"gamma\" or \"empirical\")"},
        {"{\"t\": {\"dist\": \"exponential\", \"mean\": \"1s\", \"rate\": 2}}",
         "x.json: $.t.rate: unknown key \"rate\" (expected one of \"dist\", \"mean\")"},
        {"{\"t\": {\"dist\": \"exponential\"}}",
         "x.json: $.t: missing key \"mean\" (required by \"exponential\")"},
        {"{\"t\": {\"dist\": \"exponential\", \"mean\": 3}}",
         "x.json: $.t.mean: bare number 3 needs a unit (e.g. \"3ms\")"},
        {"{\"t\": {\"dist\": \"uniform\", \"min\": \"1ms\"}}",
         "x.json: $.t: missing key \"max\" (required by \"uniform\")"},
        {"{\"t\": {\"dist\": \"lognormal\", \"median\": \"1ms\", \"cv\": 1}}",
         "x.json: $.t: lognormal takes either \"median\" and \"p99\", or \"mean\" and \"cv\"; "
         "got \"median\" and \"cv\""},
        {"{\"t\": {\"dist\": \"lognormal\", \"median\": \"1ms\"}}",
         "x.json: $.t: lognormal takes either \"median\" and \"p99\", or \"mean\" and \"cv\"; "
         "got only \"median\""},
        {"{\"t\": {\"dist\": \"lognormal\"}}",
         "x.json: $.t: lognormal takes either \"median\" and \"p99\", or \"mean\" and \"cv\"; "
         "got neither"},
        {"{\"t\": {\"dist\": \"gamma\", \"mean\": \"1ms\", \"cv\": \"1\"}}",
         "x.json: $.t.cv: expected a number, got a string (\"1\")"},
        {"{\"t\": {\"dist\": \"empirical\"}}",
         "x.json: $.t: missing key \"quantiles\" or \"file\" (required by \"empirical\")"},
        {"{\"t\": {\"dist\": \"empirical\", \"quantiles\": [], \"file\": \"a\"}}",
         "x.json: $.t: empirical takes either \"quantiles\" or \"file\", not both"},
        {"{\"t\": {\"dist\": \"empirical\", \"quantiles\": [[0, \"1ms\"], [1, \"1ms\", 3]]}}",
         "x.json: $.t.quantiles[1]: expected a pair [q, \"duration\"], got an array of 3 elements"},
        {"{\"t\": {\"dist\": \"empirical\", \"quantiles\": [[0, \"1ms\"], 1]}}",
         "x.json: $.t.quantiles[1]: expected a pair [q, \"duration\"], got a number (1)"},
        {"{\"t\": {\"dist\": \"empirical\", \"quantiles\": [[0, \"1ms\"], [1.5, \"2ms\"]]}}",
         "x.json: $.t.quantiles[1][0]: must be a number in [0, 1], got 1.5"},
        {"{\"t\": {\"dist\": \"empirical\", \"quantiles\": [[0, \"1ms\"], [1, 2]]}}",
         "x.json: $.t.quantiles[1][1]: bare number 2 needs a unit (e.g. \"2ms\")"},
        {"{\"t\": {\"dist\": \"empirical\", \"file\": \"\"}}",
         "x.json: $.t.file: must not be empty"},
    };
    char got[LINE_MAX_];
    struct dist d;
    struct err e;

    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        ck_assert_int_eq(dist_of(c[i].text, "", &d, &e), -1);
        err_format(&e, got, sizeof got);
        ck_assert_msg(strcmp(got, c[i].want) == 0, "%s\n  got:  %s\n  want: %s", c[i].text, got,
                      c[i].want);
    }
}
END_TEST

/* What dist itself rejects is reported at the distribution's own path. */
START_TEST(dist_gets_the_element_path)
{
    struct dist d;
    struct err e;

    ck_assert_int_eq(
        dist_of("{\"t\": {\"dist\": \"uniform\", \"min\": \"5ms\", \"max\": \"1ms\"}}", "", &d, &e),
        -1);
    ck_assert_str_eq(e.path, "$.t");
}
END_TEST

/* root after json_set_path(root, path, value), printed. */
static void set_ok(const char *doc, const char *path, const char *value, const char *want)
{
    struct cJSON *root = NULL, *v = json_value_from_arg(value);
    struct err e;
    char *s;

    err_clear(&e);
    ck_assert_int_eq(json_parse("x.json", doc, strlen(doc), &root, &e), 0);
    ck_assert_msg(json_set_path(root, path, v, &e) == 0, "%s: %s", path, e.msg);
    s = json_print(root);
    ck_assert_str_eq(s, want);
    free(s);
    json_free(v);
    json_free(root);
}

static void set_fails(const char *doc, const char *path, const char *want)
{
    struct cJSON *root = NULL, *v = json_value_from_arg("1");
    struct err e;
    char *before, *after;

    err_clear(&e);
    ck_assert_int_eq(json_parse("x.json", doc, strlen(doc), &root, &e), 0);
    before = json_print(root);
    ck_assert_int_eq(json_set_path(root, path, v, &e), -1);
    ck_assert_str_eq(e.msg, want);
    after = json_print(root);
    ck_assert_str_eq(after, before); /* nothing half-done */
    free(before);
    free(after);
    json_free(v);
    json_free(root);
}

START_TEST(set_path_creates_overwrites_and_indexes)
{
    set_ok("{\"pooler\": {\"kind\": \"pgbouncer\"}}", "pooler.default_pool_size", "20",
           "{\"pooler\":{\"kind\":\"pgbouncer\",\"default_pool_size\":20}}");
    set_ok("{\"pooler\": {\"kind\": \"pgbouncer\"}}", "pooler.kind", "supavisor",
           "{\"pooler\":{\"kind\":\"supavisor\"}}");
    set_ok("{}", "a.b.c", "{\"x\": [1]}", "{\"a\":{\"b\":{\"c\":{\"x\":[1]}}}}");
    set_ok("{\"app\": {\"endpoints\": {\"a.b\": {\"operations\": [{}, {\"s\": 1}]}}}}",
           "app.endpoints.a\\.b.operations[1].server_time", "\"8ms\"",
           "{\"app\":{\"endpoints\":{\"a.b\":{\"operations\":[{},{\"s\":1,\"server_time\":\"8ms\"}]"
           "}}}}");
    set_ok("{\"x\": [[0, 1], [2, 3]]}", "x[1][0]", "true", "{\"x\":[[0,1],[true,3]]}");
    set_ok("{\"a\\\\b\": 1}", "a\\\\b", "2", "{\"a\\\\b\":2}");
    set_ok("{\"w\": {\"u\": 1}}", "$.w.u", "5", "{\"w\":{\"u\":5}}");
    set_ok("{\"x\": 1}", "x", "{\"y\": 2}", "{\"x\":{\"y\":2}}");
}
END_TEST

START_TEST(set_path_errors)
{
    set_fails("{\"a\": {\"b\": 5}}", "a.b.c", "\"a.b\" is a number, not an object");
    set_fails("{\"a\": {\"b\": {}}}", "a.b[0]", "\"a.b\" is an object, not an array");
    set_fails("{\"a\": [1, 2, 3]}", "a[3]", "index 3 out of range: \"a\" has 3 elements");
    set_fails("{\"a\": {}}", "a.b.c[0].d",
              "\"a.b.c\" does not exist (only an existing array can "
              "be indexed)");
    set_fails("{}", "a..b", "malformed path \"a..b\" (empty key)");
    set_fails("{}", "", "malformed path \"\" (empty key)");
    set_fails("{}", "a.", "malformed path \"a.\" (empty key)");
    set_fails("{\"a\": [1]}", "a[x]", "malformed path \"a[x]\" (expected an index such as [0])");
    set_fails("{\"a\": [1]}", "a[0", "malformed path \"a[0\" (expected an index such as [0])");
    set_fails("{\"a\": [1]}", "a[0]b", "malformed path \"a[0]b\" (expected '.' or '[' after ']')");
    set_fails("{}", "a\\", "malformed path \"a\\\\\" (ends with a lone backslash)");
    set_fails("{}", "a.b\tc", "malformed path \"a.b\\u0009c\" (control character in a key)");
}
END_TEST

START_TEST(value_from_arg_is_json_else_string)
{
    const struct {
        const char *arg;
        const char *printed;
    } c[] = {
        {"50", "50"},
        {"-2.5", "-2.5"},
        {"true", "true"},
        {"{\"a\": [1]}", "{\"a\":[1]}"},
        {"transaction", "\"transaction\""},
        {"\"quoted\"", "\"quoted\""},
        {"5ms", "\"5ms\""},
        {"01", "\"01\""},
        {"[1,]", "\"[1,]\""},
        {"", "\"\""},
        {"null", "null"},
    };

    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct cJSON *v = json_value_from_arg(c[i].arg);
        char *s = json_print(v);

        ck_assert_msg(strcmp(s, c[i].printed) == 0, "%s -> %s", c[i].arg, s);
        free(s);
        json_free(v);
    }
}
END_TEST

START_TEST(dup_is_deep_and_free_null_is_noop)
{
    struct json_at root, v;
    struct err e;
    struct cJSON *t = load("{\"a\": {\"b\": [1, 2]}}", &root, &e), *c = json_dup(t);
    struct cJSON *nine = json_value_from_arg("9");
    const char *key = NULL;
    double x = 0.0;

    ck_assert_int_eq(json_set_path(c, "a.b[0]", nine, &e), 0);
    ck_assert_int_eq(json_get(&root, "a", &v), 1);
    ck_assert_int_eq(json_get(&v, "b", &v), 1);
    json_child(&v, 0, &v, &key);
    ck_assert_int_eq(json_double(&v, 0.0, 10.0, &x, &e), 0);
    ck_assert_double_eq(x, 1.0);
    json_root(c, &root);
    ck_assert_int_eq(json_get(&root, "a", &v), 1);
    ck_assert_int_eq(json_get(&v, "b", &v), 1);
    json_child(&v, 0, &v, &key);
    ck_assert_int_eq(json_double(&v, 0.0, 10.0, &x, &e), 0);
    ck_assert_double_eq(x, 9.0);
    json_free(nine);
    json_free(c);
    json_free(t);
    json_free(NULL);
    ck_assert_ptr_null(json_dup(NULL));
}
END_TEST

static struct cJSON *parse_or_die(const char *text)
{
    struct cJSON *v = NULL;
    struct err e;

    err_clear(&e);
    ck_assert_msg(json_parse("t.json", text, strlen(text), &v, &e) == 0, "%s", e.msg);
    return v;
}

START_TEST(sources_name_default_file_and_the_last_override)
{
    struct cJSON *resolved = parse_or_die("{\"a\": {\"b\": 1, \"c\": {\"dist\": \"x\", \"m\": 2},"
                                          " \"s\": {\"v\": 1}}, \"d\": 3, \"e\": [1, 2]}");
    struct cJSON *file = parse_or_die("{\"a\": {\"c\": {\"dist\": \"x\"}, \"s\": \"5ms\"},"
                                      " \"e\": [1]}");
    const char *paths[] = {"d", "a.b", "d"};
    const char *srcs[] = {"variant", "sweep", "--set"};
    struct cJSON *src = json_sources(resolved, file, paths, srcs, 3);
    char *text = json_print(src);

    /* a.b: the sweep; a.c.m: derived from the file's distribution; a.s.v: under a file
     * shorthand; d: the last override wins; e[1]: not in the file */
    ck_assert_str_eq(text, "{\"a.b\":\"sweep\",\"a.c.dist\":\"file\",\"a.c.m\":\"file\","
                           "\"a.s.v\":\"file\",\"d\":\"--set\",\"e[0]\":\"file\","
                           "\"e[1]\":\"default\"}");
    free(text);
    json_free(src);
    json_free(file);
    json_free(resolved);
}
END_TEST

Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tests_tcase(s, "json", 10, "");

    tcase_add_test(tc, syntax_errors_name_line_col_of_offending_byte);
    tcase_add_test(tc, strict_json_is_accepted);
    tcase_add_test(tc, nesting_is_limited);
    tcase_add_test(tc, invalid_utf8_points_at_first_bad_byte);
    tcase_add_test(tc, meaning_errors_after_parse);
    tcase_add_test(tc, missing_file_names_the_file);
    tcase_add_test(tc, load_file_reads_whole_file);
    tcase_add_test(tc, navigation_and_paths);
    tcase_add_test(tc, path_building_escapes_and_truncates);
    tcase_add_test(tc, unknown_key_lists_the_allowed_ones);
    tcase_add_test(tc, wrong_types_say_expected_and_got);
    tcase_add_test(tc, integers_check_range_and_fraction);
    tcase_add_test(tc, doubles_check_range);
    tcase_add_test(tc, enum_names_the_choices);
    tcase_add_test(tc, duration_strings_convert_exactly);
    tcase_add_test(tc, duration_string_errors);
    tcase_add_test(tc, durations_in_json_bare_numbers_and_ranges);
    tcase_add_test(tc, dist_kinds_reach_dist_with_ns);
    tcase_add_test(tc, dist_lognormal_gamma_parameters);
    tcase_add_test(tc, dist_empirical_inline_and_file);
    tcase_add_test(tc, dist_errors);
    tcase_add_test(tc, dist_gets_the_element_path);
    tcase_add_test(tc, set_path_creates_overwrites_and_indexes);
    tcase_add_test(tc, set_path_errors);
    tcase_add_test(tc, value_from_arg_is_json_else_string);
    tcase_add_test(tc, dup_is_deep_and_free_null_is_noop);
    tcase_add_test(tc, sources_name_default_file_and_the_last_override);
    return s;
}

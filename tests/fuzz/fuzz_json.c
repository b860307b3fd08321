/*
 * fuzz_json.c - libFuzzer harness for the experiment-file reader (sim/json.c).
 * Not built by the default Makefile.  Build and run (clang with libFuzzer):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -I/usr/include/cjson \
 *       -D_POSIX_C_SOURCE=200809L tests/fuzz/fuzz_json.c sim/json.c sim/dist.c \
 *       sim/err.c sim/xalloc.c -lcjson -lgsl -lgslcblas -lm \
 *       -o build-fuzz/fuzz_json
 *   build-fuzz/fuzz_json -max_total_time=120 tests/fuzz/corpus
 *
 * Each input goes to json_parse.  On success every value is read with every
 * typed getter and json_dist, every string and key is also tried as a
 * duration, a --set value or a json_set_path path on a copy of the tree, and the
 * tree is printed and parsed again.  Properties checked beyond "no crash, no
 * leak, no hang": every message is one line; json_get finds what json_child
 * lists; a printed tree parses back to the same text.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A message must format and stay on one line. */
static void check_err(const struct err *e)
{
    char buf[ERR_FILE_MAX + ERR_PATH_MAX + ERR_MSG_MAX + 32];

    err_format(e, buf, sizeof buf);
    if (strchr(buf, '\n') || e->msg[0] == '\0') {
        abort();
    }
}

static void try_dist(const struct json_at *at)
{
    struct json_at f;
    struct dist d;
    struct err e;

    /* A fuzzed "file" could name /dev/zero: tables from files are not fuzzed here. */
    if (json_is_object(at) && json_get(at, "file", &f)) {
        return;
    }
    err_clear(&e);
    if (json_dist(at, "/nonexistent", &d, &e) == 0) {
        dist_fini(&d);
    } else {
        check_err(&e);
    }
}

static void try_numbers(const struct json_at *at)
{
    const char *const modes[] = {"session", "transaction", "statement", NULL};
    const char *s;
    struct err e;
    int64_t n;
    double x;
    sim_time t;
    bool b;
    int k;

    err_clear(&e);
    if (json_int(at, INT64_MIN, INT64_MAX, &n, &e) < 0 || json_int(at, 1, 100, &n, &e) < 0) {
        check_err(&e);
    }
    if (json_double(at, -HUGE_VAL, HUGE_VAL, &x, &e) < 0 || json_double(at, 0, 1, &x, &e) < 0) {
        check_err(&e);
    }
    if (json_bool(at, &b, &e) < 0 || json_string(at, &s, &e) < 0 ||
        json_enum(at, modes, &k, &e) < 0) {
        check_err(&e);
    }
    for (int bare = JSON_BARE_NONE; bare <= JSON_BARE_S; bare++) {
        if (json_duration(at, (enum json_bare)bare, 0, SIM_TIME_MAX, &t, &e) < 0 ||
            json_duration(at, (enum json_bare)bare, SIM_MS(1), SIM_S(10), &t, &e) < 0) {
            check_err(&e);
        }
    }
}

/* A string as a duration, a --set value and a path into copy. */
static void try_string(const struct json_at *at, struct cJSON *copy)
{
    const char *s;
    struct cJSON *v;
    struct err e;
    sim_time t;

    err_clear(&e);
    if (json_string(at, &s, &e) < 0) {
        return;
    }
    if (json_parse_duration(s, &t, &e) < 0) {
        check_err(&e);
    }
    v = json_value_from_arg(s);
    if (copy && json_set_path(copy, s, v, &e) < 0) {
        check_err(&e);
    }
    json_free(v);
}

static void walk(const struct json_at *at, struct cJSON *copy)
{
    const char *const allowed[] = {"dist", "mean", NULL};
    struct json_at c, g;
    const char *key;
    struct err e;
    size_t n = json_size(at);

    try_numbers(at);
    try_dist(at);
    try_string(at, copy);
    (void)json_type_name(at);
    err_clear(&e);
    if (json_is_object(at) && json_check_keys(at, allowed, &e) < 0) {
        check_err(&e);
    }
    for (size_t i = 0; i < n; i++) {
        json_child(at, i, &c, &key);
        if (key && (!json_get(at, key, &g) || g.node != c.node || strcmp(g.path, c.path) != 0)) {
            abort();
        }
        if (key && copy && json_set_path(copy, key, c.node, &e) < 0) {
            check_err(&e);
        }
        walk(&c, copy);
    }
}

/* Printing a tree and parsing it again must give the same text. */
static void round_trip(const struct cJSON *root)
{
    char *s = json_print(root), *s2;
    struct cJSON *again = NULL;
    struct err e;

    if (json_parse("printed", s, strlen(s), &again, &e) < 0) {
        abort();
    }
    s2 = json_print(again);
    if (strcmp(s, s2) != 0) {
        abort();
    }
    free(s);
    free(s2);
    json_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cJSON *root = NULL, *copy, *v;
    struct json_at at;
    struct err e;
    char *text = malloc(size + 1);

    memcpy(text, data, size);
    text[size] = '\0';
    v = json_value_from_arg(text);
    json_free(v);
    if (json_parse("fuzz.json", text, size, &root, &e) < 0) {
        check_err(&e);
        free(text);
        return 0;
    }
    json_root(root, &at);
    copy = json_is_object(&at) ? json_dup(root) : NULL;
    walk(&at, copy);
    round_trip(root);
    if (copy) {
        round_trip(copy);
    }
    json_free(copy);
    json_free(root);
    free(text);
    return 0;
}

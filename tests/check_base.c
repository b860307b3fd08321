/*
 * check_base.c - the small shared pieces: struct err formatting, the
 * intrusive list, and the one double -> time conversion.
 */
#include <string.h>

#include "sim/err.h"
#include "sim/list.h"
#include "sim/simtime.h"
#include "tests/tests.h"

START_TEST(err_formats_syntax_meaning_and_plain)
{
    struct err e;
    char buf[2048];

    err_clear(&e);
    err_set_file(&e, "x.json");
    e.line = 3;
    e.col = 9;
    err_set(&e, "expected ',' or '}' after object member");
    err_format(&e, buf, sizeof buf);
    ck_assert_str_eq(buf, "x.json:3:9: expected ',' or '}' after object member");

    err_clear(&e);
    err_set_file(&e, "x.json");
    err_at(&e, "$.pooler.pool_mode", "unknown value \"%s\"", "tx");
    err_format(&e, buf, sizeof buf);
    ck_assert_str_eq(buf, "x.json: $.pooler.pool_mode: unknown value \"tx\"");

    err_clear(&e);
    err_set(&e, "no such file");
    err_format(&e, buf, sizeof buf);
    ck_assert_str_eq(buf, "no such file");
}
END_TEST

struct item {
    int id;
    struct list_node node;
};

START_TEST(list_moves_keep_counts_and_order)
{
    struct list a, b;
    struct item it[4];

    list_init(&a);
    list_init(&b);
    for (int i = 0; i < 4; i++) {
        it[i].id = i;
        list_node_init(&it[i].node);
        list_push_tail(&a, &it[i].node);
    }
    ck_assert_uint_eq(list_count(&a), 4);
    list_remove(&a, &it[1].node);
    list_push_head(&b, &it[1].node);
    ck_assert_uint_eq(list_count(&a), 3);
    ck_assert_uint_eq(list_count(&b), 1);
    ck_assert_int_eq(container_of(list_pop_head(&a), struct item, node)->id, 0);
    ck_assert_int_eq(container_of(list_pop_tail(&a), struct item, node)->id, 3);
    ck_assert_int_eq(container_of(list_first(&a), struct item, node)->id, 2);
    ck_assert_ptr_null(list_next(&a, list_first(&a)));
}
END_TEST

START_TEST(time_from_seconds_rounds_to_nearest_ns)
{
    ck_assert_int_eq(sim_time_from_s(0.1), 100000000);
    ck_assert_int_eq(sim_time_from_s(1e-9), 1);
    ck_assert_int_eq(sim_time_from_s(0.4e-9), 0);
    ck_assert_int_eq(sim_time_from_s(0.5e-9), 1);
    ck_assert_int_eq(sim_time_from_s(-1.5e-9), -2);
    ck_assert_int_eq(sim_time_from_s(1e30), SIM_TIME_MAX);
    ck_assert_int_eq(sim_time_from_s(-1e30), -SIM_TIME_MAX);
    ck_assert_int_eq(sim_time_from_s(86400.0), SIM_S(86400));
}
END_TEST

Suite *base_suite(void)
{
    Suite *s = suite_create("base");
    TCase *tc = tests_tcase(s, "base", 10, "");

    tcase_add_test(tc, err_formats_syntax_meaning_and_plain);
    tcase_add_test(tc, list_moves_keep_counts_and_order);
    tcase_add_test(tc, time_from_seconds_rounds_to_nearest_ns);
    return s;
}

/*
 * check_sim.c - the event core: order, cancel, reschedule, run boundaries,
 * and the asserts on misuse.
 *
 * The central test drives the engine with a long random mix of operations
 * and compares every firing with a plain sorted array (the reference), so a
 * heap bug of any kind (a lost back-index, a wrong sift direction, a
 * mis-ordered tie) shows up as a different event or time.  Everything here
 * is a mechanism test: fixed seeds, exact expectations, well under a second.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "tests/tests.h"

/* ---- helpers ---- */

#define LOG_MAX 64

/* What the handlers saw, in firing order. */
struct trace {
    int ids[LOG_MAX];     /* id of each event fired */
    sim_time at[LOG_MAX]; /* sim_now() inside each handler (ns) */
    int n;                /* events fired */
    int stop_id;          /* the event whose handler calls sim_stop; -1 none */
    int resched_left;     /* self-reschedules still to do (handler_reschedules_its_own_event) */
    sim_time resched_ns;  /* their delay (ns) */
};

struct rec {
    int id;
    struct trace *tr;
    struct sim_event ev;
};

static void on_record(struct sim *sim, struct sim_event *ev)
{
    struct rec *r = ev->ctx;
    struct trace *tr = r->tr;

    ck_assert(!sim_event_is_pending(ev));
    ck_assert_int_eq(sim_now(sim), ev->at);
    ck_assert_int_lt(tr->n, LOG_MAX);
    tr->ids[tr->n] = r->id;
    tr->at[tr->n] = sim_now(sim);
    tr->n++;
    if (r->id == tr->stop_id) {
        sim_stop(sim);
    }
    if (tr->resched_left > 0) {
        tr->resched_left--;
        sim_schedule_in(sim, ev, tr->resched_ns);
    }
}

static void recs_init(struct rec *rs, int n, struct trace *tr)
{
    memset(tr, 0, sizeof *tr);
    tr->stop_id = -1;
    for (int i = 0; i < n; i++) {
        rs[i].id = i;
        rs[i].tr = tr;
        sim_event_init(&rs[i].ev, on_record, &rs[i]);
    }
}

static void assert_ids(const struct trace *tr, const int *want, int n)
{
    ck_assert_int_eq(tr->n, n);
    for (int i = 0; i < n; i++) {
        ck_assert_msg(tr->ids[i] == want[i], "firing %d: event %d, expected %d", i, tr->ids[i],
                      want[i]);
    }
}

/* xorshift64*: a tiny fixed-seed generator local to the tests. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static unsigned rnd_below(uint64_t *s, unsigned n)
{
    return (unsigned)((rnd(s) >> 32) % n);
}

/* ---- ordering ---- */

START_TEST(equal_times_fire_fifo)
{
    static const int order[] = {3, 1, 4, 0, 2};
    struct sim *sim = sim_new();
    struct rec rs[5];
    struct trace tr;

    recs_init(rs, 5, &tr);
    for (int i = 0; i < 5; i++) {
        sim_schedule(sim, &rs[order[i]].ev, SIM_MS(10));
    }
    ck_assert_uint_eq(sim_pending(sim), 5);
    ck_assert_uint_eq(sim_run(sim), 5);
    assert_ids(&tr, order, 5);
    ck_assert_int_eq(sim_now(sim), SIM_MS(10));
    ck_assert_uint_eq(sim_pending(sim), 0);
    sim_free(sim);
}
END_TEST

START_TEST(cancel_from_the_middle_keeps_order)
{
    static const int want[] = {0, 1, 2, 4, 5, 7, 8, 9};
    struct sim *sim = sim_new();
    struct rec rs[10];
    struct trace tr;

    recs_init(rs, 10, &tr);
    for (int i = 0; i < 10; i++) {
        /* pairs share a time, so both the time and the seq order matter */
        sim_schedule(sim, &rs[i].ev, SIM_NS(100 + i / 2));
    }
    sim_cancel(sim, &rs[3].ev);
    sim_cancel(sim, &rs[6].ev);
    sim_cancel(sim, &rs[6].ev); /* idle: a no-op */
    ck_assert(!sim_event_is_pending(&rs[3].ev));
    ck_assert(sim_event_is_pending(&rs[4].ev));
    ck_assert_uint_eq(sim_pending(sim), 8);
    ck_assert_uint_eq(sim_run(sim), 8);
    assert_ids(&tr, want, 8);
    sim_free(sim);
}
END_TEST

START_TEST(reschedule_moves_a_pending_event_behind_its_time)
{
    static const int want[] = {2, 1, 3, 0, 4};
    struct sim *sim = sim_new();
    struct rec rs[5];
    struct trace tr;

    recs_init(rs, 5, &tr);
    for (int i = 0; i < 4; i++) {
        sim_schedule(sim, &rs[i].ev, 10);
    }
    sim_schedule(sim, &rs[4].ev, 50);
    sim_schedule(sim, &rs[0].ev, 10); /* same time, new seq: behind 1, 2 and 3 */
    sim_schedule(sim, &rs[2].ev, 5);  /* earlier: first */
    sim_schedule(sim, &rs[3].ev, 10); /* behind 0 now */
    sim_schedule(sim, &rs[3].ev, 10); /* and behind 1 and 0 again: order 1, 0, 3 */
    sim_schedule(sim, &rs[0].ev, 10); /* behind 3: order 1, 3, 0 */
    ck_assert_uint_eq(sim_pending(sim), 5);
    ck_assert_int_eq(rs[2].ev.at, 5);
    ck_assert_uint_eq(sim_run(sim), 5);
    assert_ids(&tr, want, 5);
    sim_free(sim);
}
END_TEST

/* ---- handlers and runs ---- */

START_TEST(handler_reschedules_its_own_event)
{
    struct sim *sim = sim_new();
    struct rec r;
    struct trace tr;

    recs_init(&r, 1, &tr);
    tr.resched_left = 4;
    tr.resched_ns = 7;
    sim_schedule_in(sim, &r.ev, 0);
    ck_assert_uint_eq(sim_run(sim), 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(tr.at[i], 7 * i);
    }
    ck_assert_int_eq(sim_now(sim), 28);
    ck_assert(!sim_event_is_pending(&r.ev));
    ck_assert_uint_eq(sim_events_fired(sim), 5);
    sim_free(sim);
}
END_TEST

START_TEST(stop_from_a_handler)
{
    static const int first[] = {0, 1};
    struct sim *sim = sim_new();
    struct rec rs[3];
    struct trace tr;

    recs_init(rs, 3, &tr);
    for (int i = 0; i < 3; i++) {
        sim_schedule(sim, &rs[i].ev, SIM_NS(i + 1));
    }
    tr.stop_id = 1;
    ck_assert_uint_eq(sim_run(sim), 2);
    assert_ids(&tr, first, 2);
    ck_assert_int_eq(sim_now(sim), 2);
    ck_assert_uint_eq(sim_pending(sim), 1);
    ck_assert_uint_eq(sim_run(sim), 1); /* the stop does not outlive its run */
    ck_assert_int_eq(sim_now(sim), 3);

    /* In sim_run_until a stop leaves the clock at the stopping event. */
    tr.n = 0;
    sim_schedule(sim, &rs[0].ev, 10);
    sim_schedule(sim, &rs[1].ev, 20);
    sim_schedule(sim, &rs[2].ev, 30);
    ck_assert_uint_eq(sim_run_until(sim, 100), 2);
    ck_assert_int_eq(sim_now(sim), 20);
    ck_assert_uint_eq(sim_run_until(sim, 100), 1);
    ck_assert_int_eq(sim_now(sim), 100);
    ck_assert_uint_eq(sim_events_fired(sim), 6);
    sim_free(sim);
}
END_TEST

static void on_schedule_at_100(struct sim *sim, struct sim_event *ev)
{
    struct rec *r = ev->ctx;

    sim_schedule(sim, &r[1].ev, 100);
}

START_TEST(run_until_boundaries)
{
    static const int want[] = {0, 1};
    struct sim *sim = sim_new();
    struct rec rs[4];
    struct trace tr;

    recs_init(rs, 4, &tr);
    sim_schedule(sim, &rs[0].ev, 10);
    sim_schedule(sim, &rs[1].ev, 20);
    sim_schedule(sim, &rs[2].ev, 21);
    ck_assert_uint_eq(sim_run_until(sim, 20), 2); /* the event at exactly until fires */
    assert_ids(&tr, want, 2);
    ck_assert_int_eq(sim_now(sim), 20);
    ck_assert(sim_event_is_pending(&rs[2].ev)); /* one ns later stays pending */
    ck_assert_uint_eq(sim_run_until(sim, 20), 0);
    ck_assert_uint_eq(sim_run_until(sim, 25), 1);
    ck_assert_int_eq(sim_now(sim), 25); /* the clock reaches the horizon... */
    ck_assert_uint_eq(sim_run_until(sim, 30), 0);
    ck_assert_int_eq(sim_now(sim), 30); /* ...even with nothing pending */
    sim_schedule_in(sim, &rs[0].ev, 5);
    ck_assert_int_eq(rs[0].ev.at, 35);

    /* An event scheduled at until by a handler during the run fires too. */
    sim_event_init(&rs[2].ev, on_schedule_at_100, &rs[2]);
    sim_schedule(sim, &rs[2].ev, 100);
    ck_assert_uint_eq(sim_run_until(sim, 100), 3);
    ck_assert_int_eq(tr.ids[tr.n - 1], 3);
    ck_assert_int_eq(sim_now(sim), 100);
    ck_assert_uint_eq(sim_pending(sim), 0);
    sim_free(sim);
}
END_TEST

START_TEST(free_null_and_a_fresh_engine)
{
    struct sim *sim = sim_new();

    sim_free(NULL);
    ck_assert_int_eq(sim_now(sim), 0);
    ck_assert_uint_eq(sim_pending(sim), 0);
    ck_assert_uint_eq(sim_run(sim), 0);
    ck_assert_int_eq(sim_now(sim), 0);
    ck_assert_uint_eq(sim_events_fired(sim), 0);
    sim_free(sim);
}
END_TEST

/* ---- the random mix against a sorted reference ---- */

/*
 * Check records every passing ck_assert (a write to its log), too slow for the
 * million checks of the mix: this one calls Check only on failure.
 */
#define MIX_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ck_abort_msg("Assertion '%s' failed", #cond);                                          \
        }                                                                                          \
    } while (0)

#define MIX_EVENTS 512 /* events in play: the heap grows past its first few sizes */
#define MIX_OPS 150000

struct ref_entry {
    sim_time at;  /* firing time (ns) */
    uint64_t seq; /* the reference's own schedule counter */
    int id;
};

/* The engine under test, the reference (pending events sorted by (at, seq)), the firings. */
struct mix {
    struct sim *sim;
    struct sim_event ev[MIX_EVENTS];
    struct ref_entry ref[MIX_EVENTS];
    int n;                 /* pending in the reference */
    uint64_t seq;          /* next reference seq */
    int fired[MIX_EVENTS]; /* ids fired by the current engine call */
    int nfired;            /* entries of fired */
    bool stop_each;        /* pop mode: every handler stops the run */
    uint64_t rng;          /* xorshift state */
};

static int ref_find(const struct mix *m, int id)
{
    for (int i = 0; i < m->n; i++) {
        if (m->ref[i].id == id) {
            return i;
        }
    }
    return -1;
}

static void ref_remove_at(struct mix *m, int i)
{
    memmove(&m->ref[i], &m->ref[i + 1], (size_t)(m->n - i - 1) * sizeof m->ref[0]);
    m->n--;
}

static void ref_schedule(struct mix *m, int id, sim_time at)
{
    int i = ref_find(m, id);

    if (i >= 0) {
        ref_remove_at(m, i);
    }
    /* its seq is the largest yet: it goes after every entry with at' <= at */
    for (i = m->n; i > 0 && m->ref[i - 1].at > at; i--) {
        m->ref[i] = m->ref[i - 1];
    }
    m->ref[i] = (struct ref_entry){at, m->seq++, id};
    m->n++;
}

static void on_mix(struct sim *sim, struct sim_event *ev)
{
    struct mix *m = ev->ctx;

    MIX_ASSERT(!sim_event_is_pending(ev));
    MIX_ASSERT(m->nfired < MIX_EVENTS);
    m->fired[m->nfired++] = (int)(ev - m->ev);
    if (m->stop_each) {
        sim_stop(sim);
    }
}

/* The engine fired m->fired[]; the reference's first entries must be those, in order. */
static void mix_check_fired(struct mix *m, sim_time until)
{
    for (int k = 0; k < m->nfired; k++) {
        MIX_ASSERT(m->n > 0);
        if (m->fired[k] != m->ref[0].id) {
            ck_abort_msg("fired %d, reference says %d", m->fired[k], m->ref[0].id);
        }
        MIX_ASSERT(m->ref[0].at <= until);
        ref_remove_at(m, 0);
    }
    MIX_ASSERT(sim_pending(m->sim) == (size_t)m->n);
}

/* Pop: fire exactly the next event (its handler stops the run). */
static void mix_pop(struct mix *m)
{
    sim_time before_ns = sim_now(m->sim);
    sim_time want_ns = m->n > 0 ? m->ref[0].at : before_ns;

    m->nfired = 0;
    m->stop_each = true;
    MIX_ASSERT(sim_run(m->sim) == (m->n > 0 ? 1u : 0u));
    MIX_ASSERT(sim_now(m->sim) == want_ns);
    mix_check_fired(m, want_ns);
}

/* Run until a horizon: every event at or before it fires, in order; the clock lands on it. */
static void mix_run_until(struct mix *m, sim_time until)
{
    int due = 0;

    while (due < m->n && m->ref[due].at <= until) {
        due++;
    }
    m->nfired = 0;
    m->stop_each = false;
    MIX_ASSERT(sim_run_until(m->sim, until) == (uint64_t)due);
    MIX_ASSERT(m->nfired == due);
    mix_check_fired(m, until);
    MIX_ASSERT(sim_now(m->sim) == until);
}

/* Every event's pending flag and time agree with the reference. */
static void mix_check_all(const struct mix *m)
{
    for (int id = 0; id < MIX_EVENTS; id++) {
        int i = ref_find(m, id);

        MIX_ASSERT(sim_event_is_pending(&m->ev[id]) == (i >= 0));
        if (i >= 0) {
            MIX_ASSERT(m->ev[id].at == m->ref[i].at);
        }
    }
}

/*
 * One random operation.  The mix alternates between growing phases (mostly
 * schedules) and draining phases (mostly pops and runs), so the pending set
 * sweeps from empty to hundreds and back.
 */
static void mix_step(struct mix *m, bool growing)
{
    unsigned op = rnd_below(&m->rng, 100);
    int id = (int)rnd_below(&m->rng, MIX_EVENTS);
    sim_time now = sim_now(m->sim);

    if (growing) {
        op = op < 75 ? 0 : op < 85 ? 50 : 70; /* schedule, cancel, pop */
    }
    if (op < 40) {
        /* a narrow window of times: many ties, so the seq order is exercised */
        sim_time at = now + (sim_time)rnd_below(&m->rng, 64);

        sim_schedule(m->sim, &m->ev[id], at);
        ref_schedule(m, id, at);
    } else if (op < 55) {
        int i = ref_find(m, id);

        sim_cancel(m->sim, &m->ev[id]);
        if (i >= 0) {
            ref_remove_at(m, i);
        }
    } else if (op < 90) {
        mix_pop(m);
    } else {
        mix_run_until(m, now + (sim_time)rnd_below(&m->rng, 16));
    }
    MIX_ASSERT(sim_now(m->sim) >= now); /* the clock never decreases */
    MIX_ASSERT(sim_pending(m->sim) == (size_t)m->n);
}

START_TEST(random_mix_matches_a_sorted_reference)
{
    struct mix *m = calloc(1, sizeof *m);
    size_t max_pending = 0;
    int empties = 0;

    ck_assert_ptr_nonnull(m);
    m->sim = sim_new();
    m->rng = 0x2545F4914F6CDD1DULL;
    for (int id = 0; id < MIX_EVENTS; id++) {
        sim_event_init(&m->ev[id], on_mix, m);
    }
    for (int k = 0; k < MIX_OPS; k++) {
        mix_step(m, (k / 4000) % 2 == 0);
        max_pending = (size_t)m->n > max_pending ? (size_t)m->n : max_pending;
        empties += m->n == 0;
        if (k % 1000 == 0) {
            mix_check_all(m);
        }
    }
    mix_check_all(m);
    /* the mix must have reached sizes that make the heap grow several times, and 0 */
    ck_assert_uint_gt(max_pending, 300);
    ck_assert_int_gt(empties, 0);
    sim_free(m->sim);
    free(m);
}
END_TEST

/* ---- misuse asserts (fork mode only: an abort would end a CK_FORK=no run) ---- */

static bool cannot_fork(void)
{
    const char *f = getenv("CK_FORK");

    return f && strcmp(f, "no") == 0;
}

/* In the forked child: keep the expected assertion message out of the test output. */
static void quiet_stderr(void)
{
    ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
}

START_TEST(scheduling_in_the_past_aborts)
{
    struct sim *sim;
    struct rec r;
    struct trace tr;

    if (cannot_fork()) {
        return;
    }
    quiet_stderr();
    sim = sim_new();
    recs_init(&r, 1, &tr);
    sim_run_until(sim, 100);
    sim_schedule(sim, &r.ev, 100); /* now is fine */
    sim_schedule(sim, &r.ev, 99);
}
END_TEST

START_TEST(negative_delay_aborts)
{
    struct sim *sim;
    struct rec r;
    struct trace tr;

    if (cannot_fork()) {
        return;
    }
    quiet_stderr();
    sim = sim_new();
    recs_init(&r, 1, &tr);
    sim_schedule_in(sim, &r.ev, -1);
}
END_TEST

START_TEST(running_until_the_past_aborts)
{
    struct sim *sim;

    if (cannot_fork()) {
        return;
    }
    quiet_stderr();
    sim = sim_new();
    sim_run_until(sim, 100);
    sim_run_until(sim, 99);
}
END_TEST

START_TEST(cancel_in_the_wrong_engine_aborts)
{
    struct sim *a, *b;
    struct rec r;
    struct trace tr;

    if (cannot_fork()) {
        return;
    }
    quiet_stderr();
    a = sim_new();
    b = sim_new();
    recs_init(&r, 1, &tr);
    sim_schedule(a, &r.ev, 10);
    sim_cancel(b, &r.ev);
}
END_TEST

START_TEST(stop_outside_a_run_aborts)
{
    struct sim *sim;

    if (cannot_fork()) {
        return;
    }
    quiet_stderr();
    sim = sim_new();
    sim_stop(sim);
}
END_TEST

Suite *sim_suite(void)
{
    Suite *s = suite_create("sim");
    TCase *tc = tests_tcase(s, "sim", 10, "");
    TCase *abort_tc = tests_tcase(s, "sim_asserts", 10, "");

    tcase_add_test(tc, equal_times_fire_fifo);
    tcase_add_test(tc, cancel_from_the_middle_keeps_order);
    tcase_add_test(tc, reschedule_moves_a_pending_event_behind_its_time);
    tcase_add_test(tc, handler_reschedules_its_own_event);
    tcase_add_test(tc, stop_from_a_handler);
    tcase_add_test(tc, run_until_boundaries);
    tcase_add_test(tc, free_null_and_a_fresh_engine);
    tcase_add_test(tc, random_mix_matches_a_sorted_reference);
    tcase_add_test_raise_signal(abort_tc, scheduling_in_the_past_aborts, SIGABRT);
    tcase_add_test_raise_signal(abort_tc, negative_delay_aborts, SIGABRT);
    tcase_add_test_raise_signal(abort_tc, running_until_the_past_aborts, SIGABRT);
    tcase_add_test_raise_signal(abort_tc, cancel_in_the_wrong_engine_aborts, SIGABRT);
    tcase_add_test_raise_signal(abort_tc, stop_outside_a_run_aborts, SIGABRT);
    return s;
}

/*
 * sim.c - the event core: a clock and a future-event list (DESIGN.md §2).
 *
 * The pending set is a d-ary min-heap (SIM_HEAP_ARITY, 2 or 4) of event
 * pointers in one array, ordered by (at, seq).  Invariants, checked by the
 * tests through the public API:
 *   - heap[i]->slot == i for every i < n, and every other event's slot is
 *     SIM_SLOT_IDLE;
 *   - no child orders before its parent, so heap[0] is the next event;
 *   - every pending event has at >= now, so the clock never decreases;
 *   - seq strictly increases with each sim_schedule call, so (at, seq) is a
 *     total order and equal times fire FIFO.
 * The array grows by doubling and never shrinks.  Misuse (scheduling in the
 * past, an event of another engine, a nested run) is a bug: SIM_ASSERT
 * aborts, whatever NDEBUG says.
 *
 * SIM_HEAP_ARITY: 2 by default, chosen with build/bench/hold (best of 7,
 * ns per pop + schedule; AMD EPYC VM, gcc -O2):
 *                     N=16   N=1024  N=65536
 *   hold       d=2    15.7    53.3    128.8
 *              d=4    23.3    60.8    137.6
 *   +timeout   d=2    35.1    74.3    168.9   (2N pending; + cancel + schedule)
 *              d=4    34.6    78.8    165.2
 * With pointers in the heap each child compared is one more cache line, so
 * the shallower 4-ary tree does not pay; branchless child selection and
 * Floyd's bottom-up pop were tried and did not help either.
 */
#include "sim/sim.h"

#include <stdio.h>
#include <stdlib.h>

#include "sim/xalloc.h"

#ifndef SIM_HEAP_ARITY
#define SIM_HEAP_ARITY 2
#endif
_Static_assert(SIM_HEAP_ARITY == 2 || SIM_HEAP_ARITY == 4, "SIM_HEAP_ARITY must be 2 or 4");

#define HEAP_MIN_CAP 64 /* first allocation, in events */

/* An always-on check: bugs in the caller must not pass silently in -DNDEBUG builds. */
#define SIM_ASSERT(cond) ((cond) ? (void)0 : sim_assert_fail(__FILE__, __LINE__, #cond))

struct sim {
    sim_time now;            /* the clock (ns); never decreases */
    uint64_t seq;            /* next schedule order number */
    struct sim_event **heap; /* the pending events, a d-ary min-heap on (at, seq) */
    size_t n;                /* pending events: heap[0 .. n-1] */
    size_t cap;              /* allocated length of heap */
    uint64_t events_fired;   /* since sim_new */
    bool running;            /* inside sim_run / sim_run_until */
    bool stopped;            /* sim_stop was called during the current run */
    uint64_t same_instant;   /* events fired in a row without the clock moving */
    bool stalled;            /* SIM_STALL_EVENTS of them: a zero-time loop */
    sim_observer *observer;  /* called after every event, or NULL */
    void *observer_ctx;      /* its argument (borrowed) */
};

static _Noreturn void sim_assert_fail(const char *file, int line, const char *cond)
{
    fprintf(stderr, "poolsim: %s:%d: assertion failed: %s\n", file, line, cond);
    abort();
}

/* ---- the heap ---- */

/* True if a fires before b. */
static inline bool before(const struct sim_event *a, const struct sim_event *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

/* The child of i that fires first; i has at least one child (first < n). */
static inline size_t min_child(struct sim_event *const *h, size_t first, size_t n)
{
    size_t end = first + SIM_HEAP_ARITY < n ? first + SIM_HEAP_ARITY : n;
    size_t best = first;

    for (size_t c = first + 1; c < end; c++) {
        if (before(h[c], h[best])) {
            best = c;
        }
    }
    return best;
}

static inline void heap_put(struct sim *sim, size_t i, struct sim_event *ev)
{
    sim->heap[i] = ev;
    ev->slot = i;
}

/* Place ev in the hole at i, moving ancestors that fire after it down. */
static void sift_up(struct sim *sim, size_t i, struct sim_event *ev)
{
    while (i > 0) {
        size_t parent = (i - 1) / SIM_HEAP_ARITY;

        if (!before(ev, sim->heap[parent])) {
            break;
        }
        heap_put(sim, i, sim->heap[parent]);
        i = parent;
    }
    heap_put(sim, i, ev);
}

/* Place ev in the hole at i, moving descendants that fire before it up. */
static void sift_down(struct sim *sim, size_t i, struct sim_event *ev)
{
    struct sim_event **h = sim->heap;
    size_t n = sim->n;

    for (;;) {
        size_t first = i * SIM_HEAP_ARITY + 1;
        size_t best;

        if (first >= n) {
            break;
        }
        best = min_child(h, first, n);
        if (!before(h[best], ev)) {
            break;
        }
        heap_put(sim, i, h[best]);
        i = best;
    }
    heap_put(sim, i, ev);
}

/* Place ev in the hole at i, whichever way the order requires. */
static void heap_fix(struct sim *sim, size_t i, struct sim_event *ev)
{
    if (i > 0 && before(ev, sim->heap[(i - 1) / SIM_HEAP_ARITY])) {
        sift_up(sim, i, ev);
    } else {
        sift_down(sim, i, ev);
    }
}

static void heap_grow(struct sim *sim)
{
    size_t cap = sim->cap ? sim->cap * 2 : HEAP_MIN_CAP;

    SIM_ASSERT(cap <= SIZE_MAX / sizeof *sim->heap);
    sim->heap = xrealloc(sim->heap, cap * sizeof *sim->heap);
    sim->cap = cap;
}

/* Take ev out of the heap; it must be pending in this engine. */
static void heap_remove(struct sim *sim, struct sim_event *ev)
{
    size_t i = ev->slot;
    struct sim_event *last;

    SIM_ASSERT(i < sim->n && sim->heap[i] == ev);
    last = sim->heap[--sim->n];
    if (last != ev) {
        heap_fix(sim, i, last);
    }
    ev->slot = SIM_SLOT_IDLE;
}

/* ---- the engine ---- */

struct sim *sim_new(void)
{
    struct sim *sim = xcalloc(1, sizeof *sim);

    sim->now = 0;
    sim->heap = NULL;
    return sim;
}

void sim_free(struct sim *sim)
{
    if (!sim) {
        return;
    }
    free(sim->heap);
    free(sim);
}

sim_time sim_now(const struct sim *sim)
{
    return sim->now;
}

void sim_event_init(struct sim_event *ev, sim_handler *fn, void *ctx)
{
    ev->at = 0;
    ev->seq = 0;
    ev->slot = SIM_SLOT_IDLE;
    ev->fn = fn;
    ev->ctx = ctx;
}

void sim_schedule(struct sim *sim, struct sim_event *ev, sim_time at)
{
    SIM_ASSERT(at >= sim->now);
    ev->at = at;
    ev->seq = sim->seq++;
    if (ev->slot == SIM_SLOT_IDLE) {
        if (sim->n == sim->cap) {
            heap_grow(sim);
        }
        sift_up(sim, sim->n++, ev);
    } else {
        /* Moving in place is a cancel + schedule: the order is total on (at, seq). */
        SIM_ASSERT(ev->slot < sim->n && sim->heap[ev->slot] == ev);
        heap_fix(sim, ev->slot, ev);
    }
}

void sim_schedule_in(struct sim *sim, struct sim_event *ev, sim_time delay_ns)
{
    SIM_ASSERT(delay_ns >= 0 && delay_ns <= SIM_TIME_MAX - sim->now);
    sim_schedule(sim, ev, sim->now + delay_ns);
}

void sim_cancel(struct sim *sim, struct sim_event *ev)
{
    if (ev->slot != SIM_SLOT_IDLE) {
        heap_remove(sim, ev);
    }
}

/* Pop the next event, advance the clock to it and run its handler. */
static void fire_next(struct sim *sim)
{
    struct sim_event *ev = sim->heap[0];
    struct sim_event *last = sim->heap[--sim->n];

    if (sim->n > 0) {
        sift_down(sim, 0, last);
    }
    ev->slot = SIM_SLOT_IDLE;
    if (ev->at == sim->now && ++sim->same_instant >= SIM_STALL_EVENTS) {
        sim->stalled = true;
        sim->stopped = true;
    } else if (ev->at != sim->now) {
        sim->same_instant = 0;
    }
    sim->now = ev->at;
    sim->events_fired++;
    ev->fn(sim, ev);
    if (sim->observer) {
        sim->observer(sim->observer_ctx);
    }
}

bool sim_is_stalled(const struct sim *sim)
{
    return sim->stalled;
}

void sim_set_observer(struct sim *sim, sim_observer *fn, void *ctx)
{
    sim->observer = fn;
    sim->observer_ctx = ctx;
}

/* Fire events while the next one is at or before until; returns how many. */
static uint64_t run_loop(struct sim *sim, sim_time until)
{
    uint64_t fired = 0;

    SIM_ASSERT(!sim->running);
    sim->running = true;
    sim->stopped = false;
    while (sim->n > 0 && sim->heap[0]->at <= until) {
        fire_next(sim);
        fired++;
        if (sim->stopped) {
            break;
        }
    }
    sim->running = false;
    return fired;
}

uint64_t sim_run_until(struct sim *sim, sim_time until)
{
    uint64_t fired;

    SIM_ASSERT(until >= sim->now);
    fired = run_loop(sim, until);
    if (!sim->stopped) {
        sim->now = until;
    }
    return fired;
}

uint64_t sim_run(struct sim *sim)
{
    return run_loop(sim, SIM_TIME_MAX);
}

void sim_stop(struct sim *sim)
{
    SIM_ASSERT(sim->running);
    sim->stopped = true;
}

size_t sim_pending(const struct sim *sim)
{
    return sim->n;
}

uint64_t sim_events_fired(const struct sim *sim)
{
    return sim->events_fired;
}

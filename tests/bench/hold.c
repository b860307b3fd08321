/*
 * hold.c - the classic hold benchmark of the event core.
 *
 * N holders each own one pending event.  Firing an event (pop the minimum)
 * reschedules it at now + an exponential increment (mean 1 ms), so the
 * pending set stays at N and every operation is one pop + one schedule +
 * one handler call, through the public API (sim_run).  The timeout variant
 * also gives each holder a timer that is cancelled and re-armed 30 means
 * ahead on every operation (the request-timeout pattern of the models), so
 * 2N events are pending and each operation adds one cancel + one schedule.
 *
 * Increments come from a precomputed table (fixed seed), so the figure is
 * the engine's cost, not the random generator's.  Each figure is the best of
 * REPS runs of OPS operations after a warm-up.  Output, one line per figure:
 *   hold N=1024 pending=1024 ns_per_op=23.4
 *   hold_timeout N=1024 pending=2048 ns_per_op=41.0
 * Usage: hold [OPS]   (default 4000000)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim/sim.h"
#include "sim/xalloc.h"

#define TABLE_LEN 4096 /* increments, a power of two */
#define MEAN_NS 1000000
#define TIMEOUT_NS (30 * (sim_time)MEAN_NS)
#define REPS 3

struct bench {
    sim_time inc_ns[TABLE_LEN]; /* exponential increments (ns) */
    size_t next;                /* index of the next increment */
    uint64_t budget;            /* operations left in this run */
};

struct holder {
    struct bench *b;
    struct sim_event ev;      /* the held event */
    struct sim_event timeout; /* the timeout variant's timer; never fires */
};

/* xorshift64*: a fixed, local uniform source for the increment table. */
static double uniform01(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return ((double)((x * 2685821657736338717ULL) >> 11) + 0.5) * 0x1p-53;
}

static void fill_table(struct bench *b)
{
    uint64_t state = 0x9E3779B97F4A7C15ULL;

    for (size_t i = 0; i < TABLE_LEN; i++) {
        b->inc_ns[i] = (sim_time)llround(-log(uniform01(&state)) * MEAN_NS);
    }
    b->next = 0;
}

static sim_time next_inc(struct bench *b)
{
    sim_time inc = b->inc_ns[b->next];

    b->next = (b->next + 1) & (TABLE_LEN - 1);
    return inc;
}

static void count_op(struct sim *sim, struct bench *b)
{
    if (--b->budget == 0) {
        sim_stop(sim);
    }
}

static void on_hold(struct sim *sim, struct sim_event *ev)
{
    struct holder *h = ev->ctx;

    sim_schedule(sim, ev, sim_now(sim) + next_inc(h->b));
    count_op(sim, h->b);
}

static void on_hold_timeout(struct sim *sim, struct sim_event *ev)
{
    struct holder *h = ev->ctx;

    sim_cancel(sim, &h->timeout);
    sim_schedule(sim, ev, sim_now(sim) + next_inc(h->b));
    sim_schedule(sim, &h->timeout, sim_now(sim) + TIMEOUT_NS);
    count_op(sim, h->b);
}

static void on_timeout(struct sim *sim, struct sim_event *ev)
{
    (void)sim;
    (void)ev;
    fprintf(stderr, "hold: a timeout fired (the increment table is wrong)\n");
    abort();
}

static double elapsed_ns(const struct timespec *t0, const struct timespec *t1)
{
    return (double)(t1->tv_sec - t0->tv_sec) * 1e9 + (double)(t1->tv_nsec - t0->tv_nsec);
}

/* Run ops operations; returns the wall time per operation (ns). */
static double timed_run(struct sim *sim, struct bench *b, uint64_t ops)
{
    struct timespec t0, t1;

    b->budget = ops;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sim_run(sim);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (b->budget != 0) {
        fprintf(stderr, "hold: the run ended early\n");
        abort();
    }
    return elapsed_ns(&t0, &t1) / (double)ops;
}

/* One figure: best of REPS runs with n holders, with or without timers. */
static double hold(struct bench *b, size_t n, int with_timeout, uint64_t ops)
{
    struct sim *sim = sim_new();
    struct holder *hs = xcalloc(n, sizeof *hs);
    double best = INFINITY;

    for (size_t i = 0; i < n; i++) {
        hs[i].b = b;
        sim_event_init(&hs[i].ev, with_timeout ? on_hold_timeout : on_hold, &hs[i]);
        sim_event_init(&hs[i].timeout, on_timeout, &hs[i]);
        sim_schedule(sim, &hs[i].ev, next_inc(b));
        if (with_timeout) {
            sim_schedule(sim, &hs[i].timeout, TIMEOUT_NS);
        }
    }
    timed_run(sim, b, ops / 4 + n); /* warm-up: reach the steady state */
    for (int r = 0; r < REPS; r++) {
        double ns = timed_run(sim, b, ops);

        best = ns < best ? ns : best;
    }
    sim_free(sim);
    free(hs);
    return best;
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = {16, 1024, 65536};
    struct bench *b = xmalloc(sizeof *b);
    uint64_t ops = 4000000;

    if (argc > 1) {
        char *end;

        ops = strtoull(argv[1], &end, 10);
        if (*end != '\0' || ops == 0) {
            fprintf(stderr, "usage: hold [OPS]\n");
            return 2;
        }
    }
    fill_table(b);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        printf("hold N=%zu pending=%zu ns_per_op=%.1f\n", sizes[i], sizes[i],
               hold(b, sizes[i], 0, ops));
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        printf("hold_timeout N=%zu pending=%zu ns_per_op=%.1f\n", sizes[i], 2 * sizes[i],
               hold(b, sizes[i], 1, ops));
    }
    free(b);
    return 0;
}

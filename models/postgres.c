/*
 * postgres.c - PostgreSQL backends and statements (reference/domain.md §4,
 * DESIGN.md §4 for the keys and the timing rules).
 *
 * Backends.  A CONNECT takes a slot at once if one of the usable slots
 * (max_connections - superuser_reserved_connections) is free, and the
 * backend is ready after backend_start; otherwise the login is refused with
 * 53300.  A CLOSE frees the slot when it arrives.  Each backend is in exactly
 * one list: starting, idle, cpu or active.
 * Invariant: starting + idle + cpu + active <= usable slots, and the level
 * db_active = cpu + active (a statement counts as running in both parts).
 *
 * Statements.  A QUERY's server time S splits into a CPU part
 * C = cpu_share x S (rounded to the nearest ns) and the rest S - C.  The CPU
 * part runs first, then the rest as a fixed delay.  Either order reads
 * DESIGN.md §4 correctly; this one is used everywhere because planning and
 * executing are the CPU work of a statement while its tail (sending the rows,
 * the WAL flush at COMMIT) mostly waits, and because it makes a statement
 * meet the contention of the moment it arrives.  With cores = 0 (unlimited)
 * or C = 0 the whole statement is one fixed delay: no processor-sharing state
 * is touched, so the default costs nothing.
 *
 * Processor sharing.  While n CPU parts run, each progresses at
 * 1/slowdown(n) of full speed, slowdown(n) = n / min(n, cores) x
 * (1 + penalty x max(0, n - active)) (the knee; without it the factor is 1).
 * Virtual time v is the CPU work each of them has received; it grows by
 * dt / slowdown(n) over dt ns.  A CPU part of C ns joining when v = v0 is
 * done when v reaches its mark v0 + C.  The running parts sit in a binary
 * min-heap on (mark, join order) and one event is scheduled for the smallest
 * mark: after dt = ceil((mark - v) x slowdown) ns.  Every join or leave
 * first advances v at the old speed, then reschedules that event at the new
 * one.  The state changes only at whole nanoseconds: a CPU part is done at
 * the first whole ns at which v has reached its mark (DESIGN.md §4:
 * completion times are rounded up), and counts in n until then.  Cost per
 * CPU part: O(log n) for its heap insert and removal, two O(log E) event
 * moves, O(1) arithmetic; nothing is ever done per running statement, except
 * a shift of every mark (O(n)) at the first change after v passes 2^28 ns,
 * i.e. at most once per 2^28 ns of CPU work each running part receives.
 * That shift and v = 0 whenever no CPU part runs keep v small, so that its
 * rounding error stays far below a nanosecond; a remaining time
 * within PS_TOL_ABS_NS + PS_TOL_REL x (mark + v) x slowdown ns of a whole ns
 * counts as that whole ns, so floating-point error never adds a spurious
 * nanosecond to an exact case.
 *
 * Prepared statements (domain.md §1.5.7).  Each backend keeps its names
 * (name -> text) in a table; a message applies DEALLOCATE ALL, then the Close
 * riding ahead of it, then its Parse or lookup (names_apply).  A name error
 * (42P05, 26000, 08P01) answers at once and ends the transaction, as the
 * timeout below does; a Parse or Describe answers at once and runs nothing:
 * no server time, no state change, not a transaction.  pg->named counts the
 * names of every backend (pg_check).
 *
 * statement_timeout.  A statement not finished statement_timeout after it
 * started is cancelled at exactly that instant (one finishing at that very
 * nanosecond finishes): it leaves the cores, its backend becomes idle and
 * stays connected, and the client gets 57014 as a RESULT.  The transaction it
 * was in is aborted: the statement's in_tx_after becomes false, so that a
 * transaction pooler releases the server (the app ends its operation on the
 * error anyway).
 */
#include "models/postgres.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "models/trace.h"
#include "sim/rng.h"
#include "sim/xalloc.h"

#define PS_REBASE_NS 268435456.0 /* 2^28: shift the marks when v passes this (ns of work) */
#define PS_TOL_ABS_NS 1e-6       /* rounding tolerance on a remaining time (ns) */
#define PS_TOL_REL 1e-12         /* ... plus this much of the magnitudes involved */

static const struct upstream_ops pg_ops;

/* ---- configuration ---- */

void pg_config_default(struct pg_config *cfg)
{
    cfg->max_connections = 100;
    cfg->superuser_reserved = 3;
    cfg->version = 17;
    dist_init_const(&cfg->backend_start, SIM_MS(5));
    cfg->backend_cpu = 0;
    cfg->cores = 0;
    cfg->cpu_share = 1.0;
    cfg->knee = false;
    cfg->knee_active = 1;
    cfg->knee_penalty = 0;
    cfg->statement_timeout = 0;
    cfg->preset = -1;
}

/*
 * Supabase compute sizes (domain.md §3.5): max_connections and cores.  Nano
 * to Medium have a shared 2-core ARM CPU ("shared" for Nano): modelled as 2
 * cores.  The pooler's client limit of the same table belongs to the
 * Supavisor model and is not applied here.
 */
static const char *const preset_names[] = {"supabase-nano",   "supabase-micro", "supabase-small",
                                           "supabase-medium", "supabase-large", "supabase-xl",
                                           "supabase-2xl",    "supabase-4xl",   "supabase-8xl",
                                           "supabase-12xl",   "supabase-16xl",  NULL};
static const int64_t preset_max_connections[] = {60,  60,  90,  120, 160, 240,
                                                 380, 480, 490, 500, 500};
static const int64_t preset_cores[] = {2, 2, 2, 2, 2, 4, 8, 16, 32, 48, 64};

_Static_assert(sizeof preset_names / sizeof preset_names[0] ==
                   sizeof preset_cores / sizeof preset_cores[0] + 1,
               "one name per preset");
_Static_assert(sizeof preset_max_connections == sizeof preset_cores, "one size per preset");

const char *const *pg_preset_names(void)
{
    return preset_names;
}

void pg_preset_apply(struct pg_config *cfg, int i)
{
    assert(i >= 0 && (size_t)i < sizeof preset_cores / sizeof preset_cores[0]);
    cfg->max_connections = preset_max_connections[i];
    cfg->cores = preset_cores[i];
    cfg->preset = i;
}

int64_t pg_usable_slots(const struct pg_config *cfg)
{
    return cfg->max_connections - cfg->superuser_reserved;
}

const char *pg_refusal_text(const struct pg_config *cfg, int64_t in_use)
{
    if (in_use >= cfg->max_connections) {
        return "sorry, too many clients already";
    }
    if (cfg->version >= 16) {
        return "remaining connection slots are reserved for roles with the SUPERUSER attribute";
    }
    return "remaining connection slots are reserved for non-replication superuser connections";
}

double pg_slowdown(const struct pg_config *cfg, size_t n)
{
    int64_t k = (int64_t)n < cfg->cores ? (int64_t)n : cfg->cores;
    double s;

    assert(cfg->cores > 0 && n > 0);
    s = (double)n / (double)k;
    if (cfg->knee && (int64_t)n > cfg->knee_active) {
        s *= 1.0 + cfg->knee_penalty * (double)((int64_t)n - cfg->knee_active);
    }
    return s;
}

/* ---- backend states ---- */

int64_t pg_backends(const struct pg *pg)
{
    return (int64_t)(list_count(&pg->starting) + list_count(&pg->idle) + list_count(&pg->cpu) +
                     list_count(&pg->active));
}

int64_t pg_running(const struct pg *pg)
{
    return (int64_t)(list_count(&pg->cpu) + list_count(&pg->active));
}

static struct list *state_list(struct pg *pg, enum pg_backend_state s)
{
    switch (s) {
    case PG_BE_STARTING:
        return &pg->starting;
    case PG_BE_IDLE:
        return &pg->idle;
    case PG_BE_CPU:
        return &pg->cpu;
    case PG_BE_ACTIVE:
        return &pg->active;
    }
    return NULL;
}

static bool is_running(enum pg_backend_state s)
{
    return s == PG_BE_CPU || s == PG_BE_ACTIVE;
}

/* Move b to state to; report the levels before the change. */
static void be_set_state(struct pg *pg, struct pg_backend *b, enum pg_backend_state to)
{
    sim_time now = sim_now(pg->sim);
    bool was = is_running(b->state), will = is_running(to);

    if (will && !was) {
        stat_level_add(&pg->m->db_active, now, 1);
        if (pg->direct) {
            stat_level_add(&pg->m->server_busy, now, 1);
        }
        b->active_since = now;
    } else if (was && !will) {
        stat_level_add(&pg->m->db_active, now, -1);
        if (pg->direct) {
            stat_level_add(&pg->m->server_busy, now, -1);
            stat_acc_add(&pg->m->server_hold, (double)(now - b->active_since));
        }
    }
    list_remove(state_list(pg, b->state), &b->node);
    b->state = to;
    list_push_tail(state_list(pg, to), &b->node);
}

static void conns_changed(struct pg *pg, int64_t delta)
{
    sim_time now = sim_now(pg->sim);

    if (pg->direct) {
        stat_level_add(&pg->m->server_conns, now, delta);
        stat_level_add(&pg->m->client_conns, now, delta);
    }
}

/* ---- the processor-sharing heap, on (mark, seq) ---- */

static bool ps_before(const struct pg_backend *a, const struct pg_backend *b)
{
    return a->mark < b->mark || (a->mark == b->mark && a->seq < b->seq);
}

static void ps_place(struct pg_ps *ps, size_t i, struct pg_backend *b)
{
    ps->heap[i] = b;
    b->slot = i;
}

static void ps_sift_up(struct pg_ps *ps, size_t i, struct pg_backend *b)
{
    while (i > 0 && ps_before(b, ps->heap[(i - 1) / 2])) {
        ps_place(ps, i, ps->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    ps_place(ps, i, b);
}

static void ps_sift_down(struct pg_ps *ps, size_t i, struct pg_backend *b)
{
    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= ps->n) {
            break;
        }
        if (c + 1 < ps->n && ps_before(ps->heap[c + 1], ps->heap[c])) {
            c++;
        }
        if (!ps_before(ps->heap[c], b)) {
            break;
        }
        ps_place(ps, i, ps->heap[c]);
        i = c;
    }
    ps_place(ps, i, b);
}

static void ps_heap_push(struct pg_ps *ps, struct pg_backend *b)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 16;
        ps->heap = xrealloc(ps->heap, ps->cap * sizeof *ps->heap);
    }
    ps_sift_up(ps, ps->n++, b);
}

static void ps_heap_remove(struct pg_ps *ps, struct pg_backend *b)
{
    size_t i = b->slot;
    struct pg_backend *last = ps->heap[--ps->n];

    assert(i <= ps->n && ps->heap[i] == b);
    b->slot = SIZE_MAX;
    if (last == b) {
        return;
    }
    if (i > 0 && ps_before(last, ps->heap[(i - 1) / 2])) {
        ps_sift_up(ps, i, last);
    } else {
        ps_sift_down(ps, i, last);
    }
}

/* ---- processor sharing in virtual time ---- */

/* Bring v up to now at the current speed: call before n changes. */
static void ps_advance(struct pg *pg)
{
    struct pg_ps *ps = &pg->ps;
    sim_time now = sim_now(pg->sim);

    if (ps->n > 0) {
        ps->v += (double)(now - ps->v_at) / ps->slowdown;
    }
    ps->v_at = now;
}

/* Simulated ns until v reaches mark at the current speed, less the tolerance: <= 0 = done. */
static double ps_left_ns(const struct pg_ps *ps, double mark)
{
    double x = (mark - ps->v) * ps->slowdown;

    return x - (PS_TOL_ABS_NS + PS_TOL_REL * (fabs(mark) + fabs(ps->v)) * ps->slowdown);
}

/* DESIGN.md §4: a processor-sharing completion is rounded up to the next ns. */
static sim_time ps_ceil_ns(double x)
{
    if (x <= 0) {
        return 0;
    }
    assert(x < 9e18);
    return (sim_time)ceil(x);
}

static void ps_rebase(struct pg_ps *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        ps->heap[i]->mark -= ps->v; /* the same shift for all: the order is kept */
    }
    ps->v = 0;
}

/* n changed (v already advanced): the new speed, and the event for the smallest mark. */
static void ps_reschedule(struct pg *pg)
{
    struct pg_ps *ps = &pg->ps;

    if (ps->n == 0) {
        ps->v = 0;
        sim_cancel(pg->sim, &ps->ev);
        return;
    }
    if (ps->v > PS_REBASE_NS) {
        ps_rebase(ps);
    }
    ps->slowdown = pg_slowdown(pg->cfg, ps->n);
    sim_schedule(pg->sim, &ps->ev,
                 sim_now(pg->sim) + ps_ceil_ns(ps_left_ns(ps, ps->heap[0]->mark)));
}

static void ps_join(struct pg *pg, struct pg_backend *b, sim_time cpu_ns)
{
    struct pg_ps *ps = &pg->ps;

    ps_advance(pg);
    b->mark = ps->v + (double)cpu_ns;
    b->seq = ps->seq++;
    ps_heap_push(ps, b);
    ps_reschedule(pg);
}

static void ps_leave(struct pg *pg, struct pg_backend *b)
{
    ps_advance(pg);
    ps_heap_remove(&pg->ps, b);
    ps_reschedule(pg);
}

/* ---- statements ---- */

/* A statement of a traced request ended (err: ERRK_NONE, or 57014). */
static void trace_stmt_end(struct pg *pg, const struct pg_backend *b, enum errkind err)
{
    sim_time now = sim_now(pg->sim);

    trace_emit(pg->m->trace, b->link->trace_id, now, TRACE_STATEMENT, "postgres: %s after %.9g ms",
               err == ERRK_NONE ? "done" : errkind_name(err),
               sim_time_to_ms(now - b->active_since));
}

/* The statement ends well: the backend is idle, the client gets the result. */
static void stmt_done(struct pg *pg, struct pg_backend *b)
{
    if (trace_is_on(b->link->trace_id)) {
        trace_stmt_end(pg, b, ERRK_NONE);
    }
    be_set_state(pg, b, PG_BE_IDLE);
    if (!b->link->stmt.in_tx_after) {
        pg->m->tx_done++;
    }
    link_send_down(b->link, LINK_RESULT, ERRK_NONE);
}

/* statement_timeout: cancelled, the transaction aborted, the backend idle and connected. */
static void stmt_cancel(struct pg *pg, struct pg_backend *b)
{
    if (trace_is_on(b->link->trace_id)) {
        trace_stmt_end(pg, b, ERRK_57014);
    }
    be_set_state(pg, b, PG_BE_IDLE);
    b->link->stmt.in_tx_after = false;
    link_send_down(b->link, LINK_RESULT, ERRK_57014);
}

static void on_rest_done(struct sim *sim, struct sim_event *ev)
{
    struct pg_backend *b = ev->ctx;

    (void)sim;
    stmt_done(b->pg, b);
}

static void on_stmt_timeout(struct sim *sim, struct sim_event *ev)
{
    struct pg_backend *b = ev->ctx;
    struct pg *pg = b->pg;
    bool done;

    (void)sim;
    if (b->state == PG_BE_CPU) {
        ps_advance(pg);
        done = b->rest_ns == 0 && ps_left_ns(&pg->ps, b->mark) <= 0;
        ps_heap_remove(&pg->ps, b);
        ps_reschedule(pg);
        if (done) { /* its CPU part ends at this very nanosecond */
            stmt_done(pg, b);
            return;
        }
    }
    stmt_cancel(pg, b);
}

/* Run for dur_ns in the fixed part (b is PG_BE_ACTIVE), or until the deadline. */
static void run_fixed(struct pg *pg, struct pg_backend *b, sim_time dur_ns)
{
    sim_time end = sim_now(pg->sim) + dur_ns;

    if (end <= b->deadline) {
        sim_event_init(&b->ev, on_rest_done, b);
        sim_schedule(pg->sim, &b->ev, end);
    } else {
        sim_event_init(&b->ev, on_stmt_timeout, b);
        sim_schedule(pg->sim, &b->ev, b->deadline);
    }
}

/* The PS event: the CPU part with the smallest mark is done; then its rest. */
static void on_cpu_done(struct sim *sim, struct sim_event *ev)
{
    struct pg *pg = ev->ctx;
    struct pg_backend *b = pg->ps.heap[0];

    (void)sim;
    ps_advance(pg);
    if (pg->ps.v < b->mark) {
        pg->ps.v = b->mark; /* within the rounding tolerance: the event says it is done */
    }
    ps_heap_remove(&pg->ps, b);
    ps_reschedule(pg);
    if (b->state == PG_BE_STARTING) { /* its backend_cpu is done: the rest of the start */
        pg->starting_cpu--;
        sim_schedule_in(pg->sim, &b->ev, b->rest_ns);
        return;
    }
    sim_cancel(pg->sim, &b->ev); /* its statement_timeout */
    if (b->rest_ns == 0) {
        stmt_done(pg, b);
        return;
    }
    be_set_state(pg, b, PG_BE_ACTIVE);
    run_fixed(pg, b, b->rest_ns);
}

/* The CPU part of a statement of server_ns: cpu_share of it, to the nearest ns. */
static sim_time cpu_part(const struct pg_config *cfg, sim_time server_ns)
{
    if (cfg->cpu_share >= 1.0) {
        return server_ns;
    }
    return sim_time_from_s(cfg->cpu_share * sim_time_to_s(server_ns));
}

static void do_query(struct pg *pg, struct pg_backend *b)
{
    const struct pg_config *cfg = pg->cfg;
    sim_time server_ns = b->link->stmt.server_ns, cpu_ns = 0;

    assert(b->state == PG_BE_IDLE);
    if (cfg->cores == 0 && cfg->statement_timeout == 0) { /* the default: a plain delay */
        be_set_state(pg, b, PG_BE_ACTIVE);
        sim_event_init(&b->ev, on_rest_done, b);
        sim_schedule_in(pg->sim, &b->ev, server_ns);
        return;
    }
    b->deadline = SIM_TIME_MAX;
    if (cfg->statement_timeout > 0) {
        b->deadline = sim_now(pg->sim) + cfg->statement_timeout;
    }
    if (cfg->cores > 0) {
        cpu_ns = cpu_part(cfg, server_ns);
    }
    if (cpu_ns == 0) {
        be_set_state(pg, b, PG_BE_ACTIVE);
        run_fixed(pg, b, server_ns);
        return;
    }
    b->rest_ns = server_ns - cpu_ns;
    be_set_state(pg, b, PG_BE_CPU);
    ps_join(pg, b, cpu_ns);
    if (b->deadline != SIM_TIME_MAX) {
        sim_event_init(&b->ev, on_stmt_timeout, b);
        sim_schedule(pg->sim, &b->ev, b->deadline);
    }
}

/* ---- prepared statements (domain.md §1.5.7) ---- */

static void names_clear(struct pg *pg, struct pg_backend *b)
{
    pg->named -= prep_map_size(&b->named);
    prep_map_clear(&b->named);
}

/* Prepare name for text; 42P05 if the backend already holds the name. */
static enum errkind names_prepare(struct pg *pg, struct pg_backend *b, uint64_t name, uint64_t text)
{
    if (prep_map_has(&b->named, name)) {
        return ERRK_42P05;
    }
    prep_map_put(&b->named, name, text);
    pg->named++;
    return ERRK_NONE;
}

/*
 * The named part of a statement, in the order it arrives: DEALLOCATE ALL,
 * the Close riding ahead (closing a name the backend lacks is no error),
 * then the Parse or the lookup.  Returns the error that answers it, or
 * ERRK_NONE.  An Execute of a name held for another text is refused with
 * 08P01: the Bind's parameters do not fit the statement held (an
 * assumption: where they happen to fit, the real server runs the wrong
 * statement).
 */
static enum errkind names_apply(struct pg *pg, struct pg_backend *b, const struct stmt *s)
{
    uint64_t text;

    if (s->deallocate_all) {
        names_clear(pg, b);
    }
    if (s->closes) {
        pg->named -= prep_map_del(&b->named, s->close_name);
    }
    switch (s->kind) {
    case STMT_SIMPLE:
        return ERRK_NONE;
    case STMT_PARSE:
        return names_prepare(pg, b, s->name, s->text);
    case STMT_DESCRIBE:
        return prep_map_get(&b->named, s->name, NULL) ? ERRK_NONE : ERRK_26000;
    case STMT_EXECUTE:
        if (s->parse_first) {
            return names_prepare(pg, b, s->name, s->text);
        }
        if (!prep_map_get(&b->named, s->name, &text)) {
            return ERRK_26000;
        }
        return text == s->text ? ERRK_NONE : ERRK_08P01;
    }
    return ERRK_NONE;
}

static const char *stmt_kind_name(enum stmt_kind k)
{
    switch (k) {
    case STMT_SIMPLE:
        return "a statement";
    case STMT_PARSE:
        return "a Parse";
    case STMT_DESCRIBE:
        return "a Describe";
    case STMT_EXECUTE:
        return "an Execute";
    }
    return "?";
}

/* A statement of a traced request arrives at its backend: refused, answered at once, or run. */
static void trace_stmt_start(struct pg *pg, const struct pg_backend *b, enum errkind err)
{
    const struct stmt *s = &b->link->stmt;
    uint64_t id = b->link->trace_id;
    sim_time now = sim_now(pg->sim);
    const char *named = s->deallocate_all ? " (after DEALLOCATE ALL)" : "";

    if (err != ERRK_NONE) {
        trace_emit(pg->m->trace, id, now, TRACE_STATEMENT, "postgres: refuses %s%s: %s",
                   stmt_kind_name(s->kind), named, errkind_name(err));
    } else if (s->kind == STMT_PARSE || s->kind == STMT_DESCRIBE) {
        trace_emit(pg->m->trace, id, now, TRACE_STATEMENT, "postgres: answers %s at once%s",
                   stmt_kind_name(s->kind), named);
    } else {
        trace_emit(pg->m->trace, id, now, TRACE_STATEMENT,
                   "postgres: starts %s%s; %.9g ms of server time; %" PRId64
                   " running before it; %" PRId64 " cores (0 = unlimited)",
                   stmt_kind_name(s->kind), named, sim_time_to_ms(s->server_ns), pg_running(pg),
                   pg->cfg->cores);
    }
}

/*
 * A QUERY arrives.  A name error answers at once and aborts the transaction
 * it was in (as stmt_cancel does); a Parse or a Describe runs nothing and
 * answers at once (no server time, not a transaction); anything else runs.
 */
static void on_query(struct pg *pg, struct pg_backend *b)
{
    struct stmt *s = &b->link->stmt;
    enum errkind err;

    assert(b->state == PG_BE_IDLE);
    err = names_apply(pg, b, s);
    if (trace_is_on(b->link->trace_id)) {
        trace_stmt_start(pg, b, err);
    }
    if (err != ERRK_NONE) {
        s->in_tx_after = false;
        link_send_down(b->link, LINK_RESULT, err);
    } else if (s->kind == STMT_PARSE || s->kind == STMT_DESCRIBE) {
        link_send_down(b->link, LINK_RESULT, ERRK_NONE);
    } else {
        do_query(pg, b);
    }
}

/* ---- connections ---- */

static void on_started(struct sim *sim, struct sim_event *ev)
{
    struct pg_backend *b = ev->ctx;

    (void)sim;
    be_set_state(b->pg, b, PG_BE_IDLE);
    link_send_down(b->link, LINK_CONNECTED, ERRK_NONE);
}

/*
 * The start of b takes start_ns; with cores, its first backend_cpu of it is CPU
 * work shared with the statements (processor sharing), the rest a delay.
 */
static void start_backend(struct pg *pg, struct pg_backend *b, sim_time start_ns)
{
    sim_time cpu_ns = pg->cfg->cores > 0 ? pg->cfg->backend_cpu : 0;

    if (cpu_ns > start_ns) {
        cpu_ns = start_ns;
    }
    if (cpu_ns == 0) {
        sim_schedule_in(pg->sim, &b->ev, start_ns);
        return;
    }
    b->rest_ns = start_ns - cpu_ns;
    pg->starting_cpu++;
    ps_join(pg, b, cpu_ns);
}

static void do_connect(struct pg *pg, struct link *l)
{
    struct pg_backend *b;

    if (trace_is_on(l->trace_id)) {
        trace_emit(pg->m->trace, l->trace_id, sim_now(pg->sim), TRACE_CONNECT,
                   "postgres: login; %" PRId64 " of %" PRId64 " usable slots in use%s",
                   pg_backends(pg), pg_usable_slots(pg->cfg),
                   pg_backends(pg) >= pg_usable_slots(pg->cfg) ? ": refused (53300)" : "");
    }
    if (pg_backends(pg) >= pg_usable_slots(pg->cfg)) {
        link_send_down(l, LINK_FATAL, ERRK_53300);
        return;
    }
    b = slab_alloc(&pg->backends);
    b->pg = pg;
    b->link = l;
    b->state = PG_BE_STARTING;
    b->slot = SIZE_MAX;
    prep_map_init(&b->named);
    list_node_init(&b->node);
    list_push_tail(&pg->starting, &b->node);
    sim_event_init(&b->ev, on_started, b);
    l->peer = b;
    conns_changed(pg, 1);
    start_backend(pg, b, dist_sample(&pg->cfg->backend_start, pg->rng_start));
}

/* The backend goes away: its slot is free at once, its statement forgotten. */
static void drop_backend(struct pg *pg, struct pg_backend *b)
{
    if (b->state == PG_BE_CPU) {
        ps_leave(pg, b);
    } else if (b->state == PG_BE_STARTING && b->slot != SIZE_MAX) {
        ps_leave(pg, b);
        pg->starting_cpu--;
    }
    if (is_running(b->state)) {
        be_set_state(pg, b, PG_BE_IDLE);
    }
    sim_cancel(pg->sim, &b->ev);
    names_clear(pg, b);
    list_remove(state_list(pg, b->state), &b->node);
    b->link->peer = NULL;
    conns_changed(pg, -1);
    slab_free(&pg->backends, b);
}

/* The counts of pg_check, asserted after every message (a few loads: this is the hot path). */
static bool pg_counts_ok(const struct pg *pg)
{
    return pg_backends(pg) <= pg_usable_slots(pg->cfg) &&
           pg->m->db_active.value == pg_running(pg) &&
           pg->ps.n == list_count(&pg->cpu) + pg->starting_cpu;
}

static void pg_on_connect(void *ctx, struct link *l)
{
    struct pg *pg = ctx;

    do_connect(pg, l);
    assert(pg_counts_ok(pg));
}

static void pg_on_query(void *ctx, struct link *l)
{
    struct pg *pg = ctx;

    on_query(pg, l->peer);
    assert(pg_counts_ok(pg));
}

static void pg_on_gone(void *ctx, struct link *l)
{
    struct pg *pg = ctx;

    drop_backend(pg, l->peer);
    assert(pg_counts_ok(pg));
}

static const struct upstream_ops pg_ops = {pg_on_connect, pg_on_query, pg_on_gone};

void pg_init(struct pg *pg, struct sim *sim, const struct pg_config *cfg, struct metrics *m,
             bool direct, uint64_t seed, uint32_t rep)
{
    pg->cfg = cfg;
    pg->sim = sim;
    pg->m = m;
    pg->direct = direct;
    pg->up.ops = &pg_ops;
    pg->up.ctx = pg;
    pg->rng_start = rng_new(seed, rep, "postgres.backend_start", 0);
    slab_init(&pg->backends, sizeof(struct pg_backend));
    list_init(&pg->starting);
    list_init(&pg->idle);
    list_init(&pg->cpu);
    list_init(&pg->active);
    pg->ps.v = 0;
    pg->ps.v_at = 0;
    pg->ps.slowdown = 1;
    pg->ps.heap = NULL;
    pg->ps.n = pg->ps.cap = 0;
    pg->ps.seq = 0;
    pg->starting_cpu = 0;
    pg->named = 0;
    sim_event_init(&pg->ps.ev, on_cpu_done, pg);
}

/*
 * The events still pending (backends', the PS event) are not cancelled:
 * scn_fini frees the engine without touching them, after every slab is gone.
 */
void pg_fini(struct pg *pg)
{
    struct list *lists[] = {&pg->starting, &pg->idle, &pg->cpu, &pg->active};

    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        for (struct list_node *n = list_first(lists[i]); n; n = list_next(lists[i], n)) {
            prep_map_fini(&container_of(n, struct pg_backend, node)->named);
        }
    }
    rng_free(pg->rng_start);
    slab_fini(&pg->backends);
    free(pg->ps.heap);
}

/* Every backend's prepared statements are a sound table, and pg->named counts them. */
static bool names_ok(const struct pg *pg)
{
    const struct list *lists[] = {&pg->starting, &pg->idle, &pg->cpu, &pg->active};
    size_t named = 0;

    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        for (struct list_node *n = list_first(lists[i]); n; n = list_next(lists[i], n)) {
            const struct prep_map *m = &container_of(n, struct pg_backend, node)->named;

            if (!prep_map_check(m)) {
                return false;
            }
            named += prep_map_size(m);
        }
    }
    return named == pg->named;
}

bool pg_check(const struct pg *pg)
{
    const struct pg_ps *ps = &pg->ps;

    if (!pg_counts_ok(pg) || (pg->cfg->cores == 0 && ps->n > 0) ||
        sim_event_is_pending(&ps->ev) != (ps->n > 0) || !names_ok(pg)) {
        return false;
    }
    for (size_t i = 0; i < ps->n; i++) {
        const struct pg_backend *b = ps->heap[i];

        if (b->slot != i || (b->state != PG_BE_CPU && b->state != PG_BE_STARTING) ||
            (i > 0 && ps_before(b, ps->heap[(i - 1) / 2]))) {
            return false;
        }
    }
    return true;
}

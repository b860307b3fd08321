/*
 * sim.h - the event core: a simulated clock and a future-event list.
 *
 * Events are intrusive: a struct sim_event lives inside the object that owns
 * it, and the engine never allocates or frees one (DESIGN.md §2).  Events fire
 * in (at, seq) order; seq is assigned by every sim_schedule call, so events
 * scheduled for the same instant fire in the order they were scheduled
 * (FIFO), and no floating-point comparison ever decides order.  The pending
 * set is an array heap of event pointers; each event stores its heap slot, so
 * cancel and reschedule are O(log n).
 */
#ifndef POOLSIM_SIM_SIM_H
#define POOLSIM_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/simtime.h"

struct sim; /* opaque; see sim.c */
struct sim_event;

/* An event handler.  ev->ctx is the owner given to sim_event_init. */
typedef void sim_handler(struct sim *sim, struct sim_event *ev);

#define SIM_SLOT_IDLE SIZE_MAX /* slot of an event that is not pending */

struct sim_event {
    /* read-only */
    sim_time at;  /* firing time while pending (ns) */
    uint64_t seq; /* schedule order: the FIFO tie-break */
    /* private */
    size_t slot;     /* heap index; SIM_SLOT_IDLE when not pending */
    sim_handler *fn; /* called when the event fires */
    /* public */
    void *ctx; /* owner, set by sim_event_init (borrowed) */
};

/* Create an engine at time 0 with no pending events.  Caller owns the result. */
struct sim *sim_new(void);

/* Free the engine.  Pending events are forgotten, not touched.  NULL is a no-op. */
void sim_free(struct sim *sim);

/* The current simulated time (ns). */
sim_time sim_now(const struct sim *sim);

/* Prepare an event owned by ctx; it is idle (not pending) afterwards. */
void sim_event_init(struct sim_event *ev, sim_handler *fn, void *ctx);

/*
 * Schedule ev to fire at absolute time at (>= now: scheduling in the past
 * asserts).  A pending event is moved: it gets a new seq, exactly as if it
 * had been cancelled and scheduled again.
 */
void sim_schedule(struct sim *sim, struct sim_event *ev, sim_time at);

/* Schedule ev to fire delay_ns from now (delay_ns >= 0). */
void sim_schedule_in(struct sim *sim, struct sim_event *ev, sim_time delay_ns);

/* Remove ev from the pending set.  A no-op when ev is idle. */
void sim_cancel(struct sim *sim, struct sim_event *ev);

/* True while ev is scheduled and has not fired or been cancelled. */
static inline bool sim_event_is_pending(const struct sim_event *ev)
{
    return ev->slot != SIM_SLOT_IDLE;
}

/*
 * Fire events in order until the next one is later than until, the set is
 * empty, or a handler calls sim_stop.  An event at exactly until fires (and
 * so do events it schedules at until).  Afterwards, if no handler called
 * sim_stop, now = until, whether or not the set emptied earlier: the clock
 * advances to the horizon.  If a handler called sim_stop, now is the time of
 * the event whose handler did so.  until < now asserts.  Returns the number
 * of events fired by this call.  Each event is idle before its handler runs,
 * so the handler may schedule it again.
 */
uint64_t sim_run_until(struct sim *sim, sim_time until);

/*
 * Fire events until none is pending or sim_stop is called; now is left at the
 * time of the last event fired.  Returns events fired.
 */
uint64_t sim_run(struct sim *sim);

/*
 * From a handler: make the current sim_run/sim_run_until return after it.
 * Calling it outside a run asserts; sim_run and sim_run_until must not nest.
 */
void sim_stop(struct sim *sim);

/*
 * A run that fires this many events in a row without the clock moving is a
 * zero-time loop (say, closed users with no think time whose calls fail at
 * once over a zero round trip): the run stops and sim_is_stalled says so.
 */
#define SIM_STALL_EVENTS UINT64_C(50000000)

/* True once a run stopped on SIM_STALL_EVENTS events at one instant. */
bool sim_is_stalled(const struct sim *sim);

/* Called after an event's handler returns, with the context given to sim_set_observer. */
typedef void sim_observer(void *ctx);

/*
 * Call fn(ctx) after every event fired (NULL: none).  For the models'
 * invariant checkers in tests and paranoid runs; one predictable branch per
 * event when unset.
 */
void sim_set_observer(struct sim *sim, sim_observer *fn, void *ctx);

/* Number of pending events. */
size_t sim_pending(const struct sim *sim);

/* Events fired since sim_new. */
uint64_t sim_events_fired(const struct sim *sim);

#endif

/*
 * trace.h - the stages of a few sampled requests, for trace.csv
 * (`poolsim run FILE --trace N`; DESIGN.md §5 "Outputs").
 *
 * Sampling: the first `limit` endpoint calls that arrive at or after `from`
 * (the end of the warm-up) in one replication are traced, numbered 1, 2, ...
 * in arrival order.  The rule reads nothing but simulated time and arrival
 * order, so the sample is the same for any --jobs and any machine.
 *
 * Carrying the request: a traced call's number travels with its work, 0
 * meaning "not traced": in the app's tasks, in pool_request.trace_id while a
 * checkout is pending, and in link.trace_id while a connection (the app's, or
 * a pooler's server connection) serves it, so that a pooler and PostgreSQL
 * see whose statement they run.  Each model emits its own stages where they
 * happen; a stage may have several rows (a checkout's start and end, each
 * statement at the app and at PostgreSQL).
 *
 * Cost when tracing is off: the sink is NULL (metrics.trace), no number is
 * handed out, and every emission site is one test of a number at hand
 * (trace_is_on); apart from copying numbers, nothing is read, written or
 * drawn, so a traced run's metrics are those of an untraced one.  When on,
 * the sink keeps every event of the sampled requests in memory (a few dozen
 * per request).
 */
#ifndef POOLSIM_MODELS_TRACE_H
#define POOLSIM_MODELS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/out.h"
#include "sim/simtime.h"

/* The stage column; the order is that of trace_stage_name. */
enum trace_stage {
    TRACE_ARRIVAL,     /* the call arrives at the app */
    TRACE_POOL_WAIT,   /* a client-pool checkout begins, and ends */
    TRACE_CONNECT,     /* a connection is being opened (to the pooler or PostgreSQL) */
    TRACE_POOLER_WAIT, /* waiting at the pooler for a server connection, and getting one */
    TRACE_STATEMENT,   /* a statement sent by the app, started and ended at PostgreSQL */
    TRACE_RELEASE,     /* a connection returned (client pool) or released (pooler) */
    TRACE_OUTCOME,     /* ok or the error kind; a failed attempt that is retried; unfinished */
};

struct trace_event {
    uint64_t request;       /* 1-based */
    sim_time t;             /* ns */
    enum trace_stage stage; /* its column */
    size_t detail;          /* offset of its NUL-terminated detail in trace.text */
};

struct trace {
    /* read-only */
    sim_time from;    /* calls arriving at or after this are sampled (ns) */
    uint64_t limit;   /* requests to sample */
    uint64_t sampled; /* requests sampled so far: the last number handed out */
    /* private */
    const char **endpoint;  /* [sampled]: the endpoint of each request (borrowed names) */
    bool *ended;            /* [sampled]: its final outcome was recorded */
    size_t req_cap;         /* room in endpoint and ended */
    struct trace_event *ev; /* in emission (= time) order */
    size_t nev, ev_cap;     /* events, room */
    struct out_buf text;    /* the details, each NUL-terminated */
};

void trace_init(struct trace *tr, uint64_t limit, sim_time from);
void trace_fini(struct trace *tr);

/*
 * Emission sites test this first: the request is traced.  A number other than
 * 0 exists only when tracing is on, so that one test of a field at hand is
 * all an untraced run pays (the sink itself is not even loaded).
 */
static inline bool trace_is_on(uint64_t id)
{
    return id != 0;
}

/*
 * A call to endpoint (borrowed: must outlive tr) arrives at now: its number
 * if it is sampled, else 0.  tr may be NULL (tracing off: 0).
 */
uint64_t trace_sample(struct trace *tr, sim_time now, const char *endpoint);

/* Record stage st of request id at now, with a printf-made detail. */
void trace_emit(struct trace *tr, uint64_t id, sim_time now, enum trace_stage st, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));

/* The same for the request's final outcome (detail starts with "ok" or the error kind). */
void trace_end(struct trace *tr, uint64_t id, sim_time now, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "arrival", "pool_wait", ... */
const char *trace_stage_name(enum trace_stage st);

/*
 * Append the rows to out, each as prefix (borrowed, written as is) then
 * "request,endpoint,stage,t_ms,detail\n": by request, then in the order
 * the events happened (time, then emission order).  t_ms has six decimals:
 * exact nanoseconds.  A request without a final outcome gets one at end_ns,
 * "unfinished: in flight when the run ended".
 */
void trace_rows(const struct trace *tr, sim_time end_ns, const char *prefix, struct out_buf *out);

#endif

/*
 * trace.c - the sink of sampled requests' stages, and their trace.csv rows
 * (see trace.h).
 *
 * Events are appended as they happen, so the array is in time order (the
 * clock never goes back) and, at equal times, in emission order.  The rows
 * are grouped by request with a counting sort, which keeps that order within
 * each request: the output is a function of the simulation alone.
 * Invariants: every event's request is in 1..sampled; sampled <= limit.
 */
#include "models/trace.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/xalloc.h"

static const char *const stage_names[] = {"arrival",   "pool_wait", "connect", "pooler_wait",
                                          "statement", "release",   "outcome"};

_Static_assert(sizeof stage_names / sizeof stage_names[0] == TRACE_OUTCOME + 1,
               "one name per stage");

const char *trace_stage_name(enum trace_stage st)
{
    return stage_names[st];
}

void trace_init(struct trace *tr, uint64_t limit, sim_time from)
{
    tr->from = from;
    tr->limit = limit;
    tr->sampled = 0;
    tr->endpoint = NULL;
    tr->ended = NULL;
    tr->req_cap = 0;
    tr->ev = NULL;
    tr->nev = tr->ev_cap = 0;
    out_buf_init(&tr->text);
}

void trace_fini(struct trace *tr)
{
    free(tr->endpoint);
    free(tr->ended);
    free(tr->ev);
    out_buf_fini(&tr->text);
}

uint64_t trace_sample(struct trace *tr, sim_time now, const char *endpoint)
{
    if (tr == NULL || now < tr->from || tr->sampled == tr->limit) {
        return 0;
    }
    if (tr->sampled == tr->req_cap) {
        tr->req_cap = tr->req_cap ? 2 * tr->req_cap : 64;
        tr->endpoint = xrealloc(tr->endpoint, tr->req_cap * sizeof *tr->endpoint);
        tr->ended = xrealloc(tr->ended, tr->req_cap * sizeof *tr->ended);
    }
    tr->endpoint[tr->sampled] = endpoint;
    tr->ended[tr->sampled] = false;
    return ++tr->sampled;
}

static void emit_v(struct trace *tr, uint64_t id, sim_time now, enum trace_stage st,
                   const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    assert(tr != NULL && id >= 1 && id <= tr->sampled);
    if (tr->nev == tr->ev_cap) {
        tr->ev_cap = tr->ev_cap ? 2 * tr->ev_cap : 256;
        tr->ev = xrealloc(tr->ev, tr->ev_cap * sizeof *tr->ev);
    }
    tr->ev[tr->nev++] = (struct trace_event){id, now, st, tr->text.len};
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    assert(n >= 0);
    {
        char *s = xmalloc((size_t)n + 1);

        vsnprintf(s, (size_t)n + 1, fmt, ap);
        out_buf_put(&tr->text, s, (size_t)n + 1); /* the NUL too: details are C strings */
        free(s);
    }
}

void trace_emit(struct trace *tr, uint64_t id, sim_time now, enum trace_stage st, const char *fmt,
                ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit_v(tr, id, now, st, fmt, ap);
    va_end(ap);
}

void trace_end(struct trace *tr, uint64_t id, sim_time now, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit_v(tr, id, now, TRACE_OUTCOME, fmt, ap);
    va_end(ap);
    tr->ended[id - 1] = true;
}

/* One row; t_ms printed from integer ns, so that it is exact. */
static void row(const struct trace *tr, const char *prefix, uint64_t id, sim_time t,
                enum trace_stage st, const char *detail, struct out_buf *out)
{
    assert(t >= 0);
    out_buf_printf(out, "%s%" PRIu64 ",", prefix, id);
    out_csv_text(out, tr->endpoint[id - 1]);
    out_buf_printf(out, ",%s,%" PRId64 ".%06" PRId64 ",", trace_stage_name(st), t / 1000000,
                   t % 1000000);
    out_csv_text(out, detail);
    out_buf_puts(out, "\n");
}

void trace_rows(const struct trace *tr, sim_time end_ns, const char *prefix, struct out_buf *out)
{
    size_t *first = xcalloc(tr->sampled + 1, sizeof *first); /* request r's events start here */
    size_t *order = xcalloc(tr->nev ? tr->nev : 1, sizeof *order);

    for (size_t i = 0; i < tr->nev; i++) {
        first[tr->ev[i].request]++; /* counts, shifted by one: request r at first[r] */
    }
    for (uint64_t r = 1; r <= tr->sampled; r++) {
        first[r] += first[r - 1];
    }
    for (size_t i = 0; i < tr->nev; i++) {
        order[first[tr->ev[i].request - 1]++] = i; /* stable: keeps the time order */
    }
    for (size_t k = 0, r = 1; r <= tr->sampled; r++) {
        for (; k < tr->nev && tr->ev[order[k]].request == r; k++) {
            const struct trace_event *e = &tr->ev[order[k]];

            row(tr, prefix, r, e->t, e->stage, tr->text.data + e->detail, out);
        }
        if (!tr->ended[r - 1]) {
            row(tr, prefix, r, end_ns, TRACE_OUTCOME, "unfinished: in flight when the run ended",
                out);
        }
    }
    free(first);
    free(order);
}

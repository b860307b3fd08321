/*
 * app.c - pages, calls and operations of the application (see app.h).
 *
 * A call is answered once (its caller sees success or an error, or the
 * request timeout) and ends once (its work is done); usually both happen
 * together.  The call object lives until it ends.
 */
#include "models/app.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "sim/rng.h"
#include "sim/xalloc.h"

struct page {
    sim_time start;         /* ns */
    size_t outstanding;     /* calls not answered yet */
    bool failed;            /* a call failed */
    uint64_t user;          /* who loaded it */
    app_page_done_fn *done; /* told when the page ends (may be NULL) */
    void *ctx;              /* its argument */
};

struct call {
    struct app *app;
    struct page *page;
    const struct endpoint_config *ep;
    size_t ep_index;
    struct cpool *pool;
    sim_time start;              /* ns */
    size_t op;                   /* current operation */
    size_t stmt_base;            /* index of its first statement in server_ns */
    size_t pos, len;             /* position in the operation's script and its length */
    struct pool_request co;
    struct pool_conn *conn;      /* held connection, or NULL */
    struct sim_event timeout;    /* request_timeout */
    bool answered;               /* the caller has its answer */
    sim_time server_ns[];        /* every statement of the call (ns) */
};

static void op_start(struct call *c);

static void page_answered(struct app *a, struct page *p, bool failed)
{
    sim_time latency;

    p->failed |= failed;
    if (--p->outstanding > 0) {
        return;
    }
    latency = sim_now(a->sim) - p->start;
    metrics_page_done(a->m, latency, p->failed);
    if (p->done) {
        p->done(p->ctx, latency, p->failed);
    }
    slab_free(&a->pages, p);
}

/* The caller gets its answer: measured once per call. */
static void answer(struct call *c, enum errkind err)
{
    struct app *a = c->app;
    sim_time now = sim_now(a->sim);

    assert(!c->answered);
    c->answered = true;
    sim_cancel(a->sim, &c->timeout);
    stat_level_add(&a->m->in_flight, now, -1);
    metrics_call_done(a->m, now - c->start, err);
    page_answered(a, c->page, err != ERRK_NONE);
    if (a->stop_after && a->m->requests >= a->stop_after) {
        sim_stop(a->sim);
    }
}

static void call_end(struct call *c, enum errkind err)
{
    struct app *a = c->app;

    if (!c->answered) {
        answer(c, err);
    }
    slab_free(&a->calls[c->ep_index], c);
}

static void on_request_timeout(struct sim *sim, struct sim_event *ev)
{
    (void)sim;
    answer(ev->ctx, ERRK_REQUEST_TIMEOUT);
}

/* The statement at script position pos of the current operation. */
static struct stmt script_stmt(const struct call *c)
{
    const struct op_config *op = &c->ep->ops[c->op];
    struct stmt s = {0, false};
    size_t k = (size_t)op->statements;

    if (!c->app->x->client_pool.prisma.pgbouncer) {
        s.server_ns = c->server_ns[c->stmt_base + c->pos];
        return s;
    }
    /* BEGIN, DEALLOCATE ALL, k statements, COMMIT (domain.md §1.5) */
    s.in_tx_after = c->pos + 1 < c->len;
    if (c->pos >= 2 && c->pos < 2 + k) {
        s.server_ns = c->server_ns[c->stmt_base + c->pos - 2];
    }
    return s;
}

static void on_result(void *user, enum link_msg m, enum errkind err);

static void send_next(struct call *c)
{
    struct stmt s = script_stmt(c);

    cpool_query(c->conn, &s, on_result, c);
}

/* The operation is over: next operation, or the call ends. */
static void op_done(struct call *c)
{
    c->stmt_base += (size_t)c->ep->ops[c->op].statements;
    if (++c->op < c->ep->nops) {
        op_start(c);
    } else {
        call_end(c, ERRK_NONE);
    }
}

/*
 * pg.Pool's pool.query: outside a transaction each statement checks out a
 * client and gives it back (domain.md §1.7.2, §5.7); a transaction keeps one.
 */
static bool checkout_per_statement(const struct call *c)
{
    return c->ep->ops[c->op].type == OP_QUERY && cpool_per_statement(c->pool);
}

static void on_granted(struct pool_request *co, struct pool_conn *conn, enum errkind err);

static void on_result(void *user, enum link_msg m, enum errkind err)
{
    struct call *c = user;
    struct pool_conn *conn = c->conn;

    if (m == LINK_FATAL) {
        c->conn = NULL;
        cpool_discard(conn);
        call_end(c, err);
        return;
    }
    if (err != ERRK_NONE || ++c->pos == c->len || checkout_per_statement(c)) {
        c->conn = NULL;
        cpool_release(conn);
        if (err != ERRK_NONE) {
            call_end(c, err);
        } else if (c->pos == c->len) {
            op_done(c);
        } else {
            cpool_checkout(c->pool, &c->co, on_granted); /* the next statement's own */
        }
        return;
    }
    send_next(c);
}

static void on_granted(struct pool_request *co, struct pool_conn *conn, enum errkind err)
{
    struct call *c = container_of(co, struct call, co);

    if (err != ERRK_NONE) {
        call_end(c, err);
        return;
    }
    c->conn = conn;
    send_next(c);
}

static void op_start(struct call *c)
{
    c->pos = 0;
    c->len = (size_t)c->ep->ops[c->op].statements +
             (c->app->x->client_pool.prisma.pgbouncer ? 3 : 0);
    cpool_checkout(c->pool, &c->co, on_granted);
}

/* Draw every server time of the call now, from the endpoint's own streams. */
static void draw_server_times(struct app *a, struct call *c)
{
    size_t k = 0, r = a->first_rng[c->ep_index];

    for (size_t i = 0; i < c->ep->nops; i++, r++) {
        const struct op_config *op = &c->ep->ops[i];

        for (int64_t j = 0; j < op->statements; j++) {
            c->server_ns[k++] = dist_sample(&op->server_time, a->server_rng[r]);
        }
    }
}

/*
 * Endpoint ep's PrismaClient on the page's instance; or, when connections
 * belong to users (dedicated), the app's first pool for every call, keyed by
 * the page's user.
 */
static struct cpool *call_pool(struct app *a, struct cpool *pools, size_t ep)
{
    if (cpool_is_per_user(&a->pools[0])) {
        return &a->pools[0];
    }
    return &pools[ep % (size_t)a->x->app.clients];
}

static void call_start(struct app *a, struct page *p, size_t ep, struct cpool *pools)
{
    struct call *c = slab_alloc(&a->calls[ep]);

    c->app = a;
    c->page = p;
    c->ep = &a->x->app.endpoints[ep];
    c->ep_index = ep;
    c->pool = call_pool(a, pools, ep);
    c->co.user = p->user;
    c->start = sim_now(a->sim);
    c->op = c->stmt_base = 0;
    c->conn = NULL;
    c->answered = false;
    draw_server_times(a, c);
    sim_event_init(&c->timeout, on_request_timeout, c);
    if (a->x->app.request_timeout > 0) {
        sim_schedule_in(a->sim, &c->timeout, a->x->app.request_timeout);
    }
    stat_level_add(&a->m->in_flight, c->start, 1);
    a->m->attempts++;
    op_start(c);
}

void app_load_page(struct app *a, const struct page_config *page, uint64_t user,
                   app_page_done_fn *done, void *ctx)
{
    struct page *p = slab_alloc(&a->pages);
    struct cpool *pools = &a->pools[a->next_instance * (size_t)a->x->app.clients];

    a->next_instance = (a->next_instance + 1) % (size_t)a->x->app.instances;
    p->start = sim_now(a->sim);
    p->outstanding = page->ncalls;
    p->failed = false;
    p->user = user;
    p->done = done;
    p->ctx = ctx;
    for (size_t i = 0; i < page->ncalls; i++) {
        call_start(a, p, page->endpoints[i], pools);
    }
}

static void init_streams(struct app *a, uint32_t rep)
{
    const struct app_config *cfg = &a->x->app;
    size_t n = 0;

    a->first_rng = xcalloc(cfg->nendpoints, sizeof *a->first_rng);
    for (size_t i = 0; i < cfg->nendpoints; i++) {
        a->first_rng[i] = n;
        n += cfg->endpoints[i].nops;
    }
    a->server_rng = xcalloc(n, sizeof *a->server_rng);
    for (size_t i = 0; i < cfg->nendpoints; i++) {
        for (size_t j = 0; j < cfg->endpoints[i].nops; j++) {
            a->server_rng[a->first_rng[i] + j] =
                rng_new(a->x->seed, rep, cfg->endpoints[i].ops[j].stream, 0);
        }
    }
}

void app_init(struct app *a, struct sim *sim, const struct experiment *x, struct metrics *m,
              const struct upstream *up, sim_time rtt, uint32_t rep)
{
    const struct app_config *cfg = &x->app;
    size_t npools = (size_t)(cfg->instances * cfg->clients);

    a->x = x;
    a->sim = sim;
    a->m = m;
    a->stop_after = 0;
    a->next_instance = 0;
    a->pools = xcalloc(npools, sizeof *a->pools);
    for (size_t i = 0; i < npools; i++) {
        cpool_init(&a->pools[i], sim, &x->client_pool, m, up, rtt, (int)x->net.handshake_rtts);
    }
    init_streams(a, rep);
    slab_init(&a->pages, sizeof(struct page));
    a->calls = xcalloc(cfg->nendpoints, sizeof *a->calls);
    for (size_t i = 0; i < cfg->nendpoints; i++) {
        slab_init(&a->calls[i], sizeof(struct call) + cfg->endpoints[i].nstmts * sizeof(sim_time));
    }
}

void app_fini(struct app *a)
{
    const struct app_config *cfg = &a->x->app;
    size_t nstreams = 0;

    for (size_t i = 0; i < (size_t)(cfg->instances * cfg->clients); i++) {
        cpool_fini(&a->pools[i]);
    }
    free(a->pools);
    for (size_t i = 0; i < cfg->nendpoints; i++) {
        nstreams += cfg->endpoints[i].nops;
        slab_fini(&a->calls[i]);
    }
    for (size_t i = 0; i < nstreams; i++) {
        rng_free(a->server_rng[i]);
    }
    free(a->server_rng);
    free(a->first_rng);
    free(a->calls);
    slab_fini(&a->pages);
}

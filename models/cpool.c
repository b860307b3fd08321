/*
 * cpool.c - dispatch of the app's pool operations by pool kind (see cpool.h).
 */
#include "models/cpool.h"

#include <assert.h>

void cpool_init(struct cpool *cp, struct sim *sim, const struct client_pool_config *cfg,
                struct metrics *m, const struct upstream *up, sim_time rtt, int handshake_rtts)
{
    cp->kind = cfg->kind;
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        prisma_init(&cp->u.prisma, sim, &cfg->prisma, m, up, rtt, handshake_rtts);
        break;
    case CPOOL_PG_POOL:
        pgpool_init(&cp->u.pgpool, sim, &cfg->pgpool, m, up, rtt, handshake_rtts);
        break;
    case CPOOL_DEDICATED:
        ded_init(&cp->u.ded, sim, m, up, rtt, handshake_rtts);
        break;
    }
}

void cpool_fini(struct cpool *cp)
{
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        prisma_fini(&cp->u.prisma);
        break;
    case CPOOL_PG_POOL:
        pgpool_fini(&cp->u.pgpool);
        break;
    case CPOOL_DEDICATED:
        ded_fini(&cp->u.ded);
        break;
    }
}

bool cpool_per_statement(const struct cpool *cp)
{
    return cp->kind == CPOOL_PG_POOL;
}

bool cpool_is_per_user(const struct cpool *cp)
{
    return cp->kind == CPOOL_DEDICATED;
}

void cpool_checkout(struct cpool *cp, struct pool_request *r, pool_granted_fn *granted)
{
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        prisma_checkout(&cp->u.prisma, r, granted);
        break;
    case CPOOL_PG_POOL:
        pgpool_checkout(&cp->u.pgpool, r, granted);
        break;
    case CPOOL_DEDICATED:
        ded_checkout(&cp->u.ded, r, granted);
        break;
    }
}

void cpool_query(struct pool_conn *c, const struct stmt *s, pool_result_fn *fn, void *user)
{
    switch (c->kind) {
    case CPOOL_PRISMA_V6:
        prisma_query(container_of(c, struct prisma_conn, base), s, fn, user);
        break;
    case CPOOL_PG_POOL:
        pgpool_query(container_of(c, struct pgpool_conn, base), s, fn, user);
        break;
    case CPOOL_DEDICATED:
        ded_query(container_of(c, struct ded_conn, base), s, fn, user);
        break;
    }
}

void cpool_release(struct pool_conn *c)
{
    switch (c->kind) {
    case CPOOL_PRISMA_V6:
        prisma_release(container_of(c, struct prisma_conn, base));
        break;
    case CPOOL_PG_POOL:
        pgpool_release(container_of(c, struct pgpool_conn, base));
        break;
    case CPOOL_DEDICATED:
        ded_release(container_of(c, struct ded_conn, base));
        break;
    }
}

void cpool_discard(struct pool_conn *c)
{
    switch (c->kind) {
    case CPOOL_PRISMA_V6:
        prisma_discard(container_of(c, struct prisma_conn, base));
        break;
    case CPOOL_PG_POOL:
        pgpool_discard(container_of(c, struct pgpool_conn, base));
        break;
    case CPOOL_DEDICATED:
        ded_discard(container_of(c, struct ded_conn, base));
        break;
    }
}

void cpool_close_idle(struct cpool *cp)
{
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        prisma_close_idle(&cp->u.prisma);
        break;
    case CPOOL_PG_POOL:
        pgpool_close_idle(&cp->u.pgpool);
        break;
    case CPOOL_DEDICATED:
        ded_close_idle(&cp->u.ded);
        break;
    }
}

int64_t cpool_open(const struct cpool *cp)
{
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        return prisma_open(&cp->u.prisma);
    case CPOOL_PG_POOL:
        return pgpool_open(&cp->u.pgpool);
    case CPOOL_DEDICATED:
        return ded_open(&cp->u.ded);
    }
    return 0;
}

bool cpool_check(const struct cpool *cp)
{
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        return prisma_check(&cp->u.prisma);
    case CPOOL_PG_POOL:
        return pgpool_check(&cp->u.pgpool);
    case CPOOL_DEDICATED:
        return ded_check(&cp->u.ded);
    }
    return false;
}

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
    }
}

void cpool_fini(struct cpool *cp)
{
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        prisma_fini(&cp->u.prisma);
        break;
    }
}

void cpool_checkout(struct cpool *cp, struct pool_request *r, pool_granted_fn *granted)
{
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        prisma_checkout(&cp->u.prisma, r, granted);
        break;
    }
}

void cpool_query(struct pool_conn *c, const struct stmt *s, pool_result_fn *fn, void *user)
{
    switch (c->kind) {
    case CPOOL_PRISMA_V6:
        prisma_query(container_of(c, struct prisma_conn, base), s, fn, user);
        break;
    }
}

void cpool_release(struct pool_conn *c)
{
    switch (c->kind) {
    case CPOOL_PRISMA_V6:
        prisma_release(container_of(c, struct prisma_conn, base));
        break;
    }
}

void cpool_discard(struct pool_conn *c)
{
    switch (c->kind) {
    case CPOOL_PRISMA_V6:
        prisma_discard(container_of(c, struct prisma_conn, base));
        break;
    }
}

void cpool_close_idle(struct cpool *cp)
{
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        prisma_close_idle(&cp->u.prisma);
        break;
    }
}

int64_t cpool_open(const struct cpool *cp)
{
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        return prisma_open(&cp->u.prisma);
    }
    return 0;
}

bool cpool_check(const struct cpool *cp)
{
    switch (cp->kind) {
    case CPOOL_PRISMA_V6:
        return prisma_check(&cp->u.prisma);
    }
    return false;
}

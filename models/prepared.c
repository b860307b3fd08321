/*
 * prepared.c - the prepared-statement table and a tracking pooler's
 * translation (see prepared.h; reference/domain.md §2.5, after pgbouncer's
 * src/prepare.c: handle_parse_command, handle_bind_command,
 * handle_close_statement_command, register_prepared_statement).
 *
 * Invariant (prep_map_check): every entry sits in the run of full slots that
 * starts at its home slot and is the first of its key there (so no key is
 * twice), every stamp is at most the clock (stamps are unique by
 * construction: each one is a new tick), and 2n <= cap.
 */
#include "models/prepared.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xalloc.h"

void prep_map_init(struct prep_map *m)
{
    memset(m->small, 0, sizeof m->small);
    m->slots = m->small;
    m->n = 0;
    m->cap = PREP_SMALL;
    m->shift = 64 - PREP_SMALL_LOG2;
    m->clock = 0;
}

void prep_map_fini(struct prep_map *m)
{
    if (m->slots != m->small) {
        free(m->slots);
    }
    m->slots = NULL;
}

void prep_map_clear(struct prep_map *m)
{
    prep_map_fini(m);
    prep_map_init(m);
}

/* Double the array and place every entry again, stamps kept. */
static void grow(struct prep_map *m)
{
    struct prep_slot *old = m->slots;
    size_t old_cap = m->cap;

    m->cap = 2 * old_cap;
    m->shift--;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].used != 0) {
            m->slots[prep_map_find(m, old[i].key)] = old[i];
        }
    }
    if (old != m->small) {
        free(old);
    }
}

void prep_map_put(struct prep_map *m, uint64_t key, uint64_t val)
{
    struct prep_slot *s;

    if (2 * (m->n + 1) > m->cap) {
        grow(m);
    }
    s = &m->slots[prep_map_find(m, key)];
    m->n += s->used == 0;
    s->key = key;
    s->val = val;
    s->used = ++m->clock;
}

/* Empty slot i, then shift back every entry of the run behind it that may move (no tombstones). */
static void remove_at(struct prep_map *m, size_t i)
{
    size_t mask = m->cap - 1, j = i;

    m->slots[i].used = 0;
    m->n--;
    for (;;) {
        size_t k;

        j = (j + 1) & mask;
        if (m->slots[j].used == 0) {
            return;
        }
        k = prep_map_home(m, m->slots[j].key);
        /* the entry at j stays if its home lies cyclically in (i, j] */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j)) {
            continue;
        }
        m->slots[i] = m->slots[j];
        m->slots[j].used = 0;
        i = j;
    }
}

bool prep_map_del(struct prep_map *m, uint64_t key)
{
    size_t i = prep_map_find(m, key);

    if (m->slots[i].used == 0) {
        return false;
    }
    remove_at(m, i);
    return true;
}

bool prep_map_pop_lru(struct prep_map *m, uint64_t *key, uint64_t *val)
{
    size_t best = SIZE_MAX;

    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].used != 0 && (best == SIZE_MAX || m->slots[i].used < m->slots[best].used)) {
            best = i;
        }
    }
    if (best == SIZE_MAX) {
        return false;
    }
    *key = m->slots[best].key;
    *val = m->slots[best].val;
    remove_at(m, best);
    return true;
}

/* No slot between key's home and i (exclusive) is empty: a probe for it reaches i. */
static bool reachable(const struct prep_map *m, size_t i)
{
    for (size_t j = prep_map_home(m, m->slots[i].key); j != i; j = (j + 1) & (m->cap - 1)) {
        if (m->slots[j].used == 0) {
            return false;
        }
    }
    return true;
}

bool prep_map_check(const struct prep_map *m)
{
    size_t n = 0;

    if (m->cap < PREP_SMALL || (m->cap & (m->cap - 1)) != 0 || 2 * m->n > m->cap ||
        (size_t)1 << (64 - m->shift) != m->cap ||
        (m->slots == m->small) != (m->cap == PREP_SMALL)) {
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        const struct prep_slot *s = &m->slots[i];

        if (s->used == 0) {
            continue;
        }
        n++;
        if (s->used > m->clock || !reachable(m, i) || prep_map_find(m, s->key) != i) {
            return false;
        }
    }
    return n == m->n;
}

/* ---- a tracking pooler (prepared.h) ---- */

/* Record text as prepared on the server; a full LRU closes its least recent name. */
static void server_add(struct prep_map *server, size_t cap, uint64_t text, struct stmt *out)
{
    uint64_t old, unused;

    if (cap > 0 && prep_map_size(server) >= cap && prep_map_pop_lru(server, &old, &unused)) {
        out->closes = true;
        out->close_name = STMT_POOLER_NAME | old;
    }
    prep_map_put(server, text, text);
}

void prep_track(struct prep_map *client, struct prep_map *server, size_t server_cap, struct stmt *s)
{
    if (s->closes) { /* answered by the pooler: only the client's mapping goes */
        prep_map_del(client, s->close_name);
        s->closes = false;
    }
    switch (s->kind) {
    case STMT_SIMPLE:
        break;
    case STMT_PARSE:
        assert(!prep_map_has(client, s->name)); /* a name in use: PgBouncer would disconnect */
        prep_map_put(client, s->name, s->text);
        s->name = STMT_POOLER_NAME | s->text;
        if (prep_map_get(server, s->text, NULL)) {
            s->kind = STMT_DESCRIBE; /* the Parse is answered by the pooler, the Describe is not */
        } else {
            server_add(server, server_cap, s->text, s);
        }
        break;
    case STMT_DESCRIBE:
        assert(!"clients never send a Describe alone");
        break;
    case STMT_EXECUTE:
        /* PgBouncer finds the text in the client's table by name; here the wire carries it
         * (a Prisma connection binds only names it prepared through this client: always there) */
        s->name = STMT_POOLER_NAME | s->text;
        if (!prep_map_get(server, s->text, NULL)) {
            s->parse_first = true;
            server_add(server, server_cap, s->text, s);
        }
        break;
    }
}

void prep_track_result(struct prep_map *client, struct prep_map *server, const struct stmt *sent)
{
    if (sent->deallocate_all) {
        prep_map_clear(client);
        prep_map_clear(server);
    }
}

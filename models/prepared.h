/*
 * prepared.h - bookkeeping of named prepared statements (reference/domain.md
 * §1.2, §1.5.7, §2.5): a table of 64-bit keys to 64-bit values with the
 * recency of each entry, and the translation a pooler that tracks prepared
 * statements applies to what a client sends.
 *
 * One table type serves every party: a Prisma connection's statement cache
 * (text -> name, LRU of statement_cache_size), a backend's prepared
 * statements (name -> text), a pooler's view of one client (client name ->
 * text) and of one server connection (text -> text, LRU of
 * max_prepared_statements).
 *
 * The table is open addressing with linear probing over a power-of-two
 * array kept at most half full; a removal shifts the entries behind it back,
 * so there are no tombstones and a lookup costs O(1) on average whatever the
 * size.  Recency is a stamp from a per-table clock, bumped by every get and
 * put; evicting the least recent entry scans the array (O(n)), which happens
 * only when a bounded cache overflows.  No order of entries is ever
 * observable except through the stamps, which are unique: runs are
 * deterministic.  The first PREP_SMALL slots live inside the table (most
 * tables hold a few statements, and a lookup then touches no other memory);
 * a table owns memory only once it has outgrown them.
 */
#ifndef POOLSIM_MODELS_PREPARED_H
#define POOLSIM_MODELS_PREPARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/link.h"

struct prep_slot {
    uint64_t key, val; /* the entry */
    uint64_t used;     /* recency stamp: larger = more recent; 0 = empty slot */
};

#define PREP_SMALL_LOG2 2
#define PREP_SMALL (1u << PREP_SMALL_LOG2) /* slots kept inside the table itself */

/* Holds a pointer into itself: never copy one, initialise it in place. */
struct prep_map {
    struct prep_slot *slots;            /* cap slots: small, or an array (owned) */
    size_t n, cap;                      /* entries, slots (a power of two, >= 2n) */
    unsigned shift;                     /* 64 - log2(cap): a key's home is its hash's top bits */
    uint64_t clock;                     /* the last stamp given */
    struct prep_slot small[PREP_SMALL]; /* the first slots: no memory for small tables */
};

void prep_map_init(struct prep_map *m);
void prep_map_fini(struct prep_map *m);

/* Forget every entry (DEALLOCATE ALL); the memory it owned is released. */
void prep_map_clear(struct prep_map *m);

static inline size_t prep_map_size(const struct prep_map *m)
{
    return m->n;
}

/*
 * Fibonacci hashing: the top bits of key x 2^64/phi.  Keys are small
 * counters, packed indices or those with the top bit set; one multiply
 * spreads them well enough, and this runs on every statement.
 */
static inline size_t prep_map_home(const struct prep_map *m, uint64_t key)
{
    return (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> m->shift);
}

/* The slot holding key, or the empty slot that ends its probe (inline: the hot path). */
static inline size_t prep_map_find(const struct prep_map *m, uint64_t key)
{
    size_t i = prep_map_home(m, key);

    while (m->slots[i].used != 0 && m->slots[i].key != key) {
        i = (i + 1) & (m->cap - 1);
    }
    return i;
}

/* Whether key is present; its value into *val (may be NULL).  Makes it the most recent. */
static inline bool prep_map_get(struct prep_map *m, uint64_t key, uint64_t *val)
{
    struct prep_slot *s = &m->slots[prep_map_find(m, key)];

    if (s->used == 0) {
        return false;
    }
    s->used = ++m->clock;
    if (val) {
        *val = s->val;
    }
    return true;
}

/* Whether key is present, without touching its recency. */
static inline bool prep_map_has(const struct prep_map *m, uint64_t key)
{
    return m->slots[prep_map_find(m, key)].used != 0;
}

/* Set key to val (inserted or replaced); it becomes the most recent. */
void prep_map_put(struct prep_map *m, uint64_t key, uint64_t val);

/* Remove key; false if it was absent. */
bool prep_map_del(struct prep_map *m, uint64_t key);

/* Remove the least recently used entry into *key, *val; false if the table is empty. */
bool prep_map_pop_lru(struct prep_map *m, uint64_t *key, uint64_t *val);

/* Every entry is where a probe finds it, the count and load factor hold. */
bool prep_map_check(const struct prep_map *m);

/*
 * A pooler that tracks prepared statements (PgBouncer with
 * max_prepared_statements > 0, Supavisor with named_prepared_statements):
 * rewrites, in place, the statement s sent by a client whose statements are
 * `client` (client name -> text) into what goes to a server connection
 * whose prepared texts are `server` (an LRU of at most server_cap entries;
 * 0 = unbounded).
 * Server-side names are STMT_POOLER_NAME | text, one per distinct text as
 * PgBouncer's PGBOUNCER_<id> are.  A client's Parse of a text the server
 * holds becomes a Describe (no Parse reaches the server); an Execute on a
 * server that lacks the text carries the Parse ahead of it, in the same
 * round trip; a client's Close is answered by the pooler and goes no
 * further; an eviction from the server's LRU sends a Close of the evicted
 * name with the statement.  The tables are updated.
 */
void prep_track(struct prep_map *client, struct prep_map *server, size_t server_cap,
                struct stmt *s);

/* The answer to a tracked statement came back: DEALLOCATE ALL clears both views (§2.5.1). */
void prep_track_result(struct prep_map *client, struct prep_map *server, const struct stmt *sent);

#endif

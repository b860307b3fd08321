/*
 * slab.c - one-size free-list allocator (see slab.h).
 */
#include "sim/slab.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>

#include "sim/xalloc.h"

struct slab_chunk {
    struct slab_chunk *next;
    max_align_t data[]; /* the objects */
};

void slab_init(struct slab *s, size_t size)
{
    size_t a = sizeof(max_align_t);

    if (size < sizeof(void *)) {
        size = sizeof(void *);
    }
    s->size = (size + a - 1) / a * a;
    s->next_chunk = 16;
    s->free = NULL;
    s->chunks = NULL;
    s->in_use = 0;
}

void slab_fini(struct slab *s)
{
    struct slab_chunk *c = s->chunks;

    while (c) {
        struct slab_chunk *next = c->next;

        free(c);
        c = next;
    }
    s->chunks = NULL;
    s->free = NULL;
    s->in_use = 0;
}

static void grow(struct slab *s)
{
    size_t n = s->next_chunk;
    struct slab_chunk *c = xmalloc(sizeof *c + n * s->size);
    char *base = (char *)c->data;

    c->next = s->chunks;
    s->chunks = c;
    for (size_t i = n; i-- > 0;) {
        void *obj = base + i * s->size;

        *(void **)obj = s->free;
        s->free = obj;
    }
    if (s->next_chunk < 4096) {
        s->next_chunk *= 2;
    }
}

void *slab_alloc(struct slab *s)
{
    void *p;

    if (!s->free) {
        grow(s);
    }
    p = s->free;
    s->free = *(void **)p;
    s->in_use++;
    return p;
}

void slab_free(struct slab *s, void *p)
{
    if (!p) {
        return;
    }
    assert(s->in_use > 0);
    *(void **)p = s->free;
    s->free = p;
    s->in_use--;
}

/*
 * slab.h - a free-list allocator for objects of one size.
 *
 * Model objects that come and go with requests (calls, connections,
 * backends) are taken from a slab and given back, so that a run does no
 * malloc per request and its memory stays flat however long it runs.
 * slab_fini frees every chunk at once: objects still in use at the end of a
 * replication need no individual teardown.  Chunks grow geometrically.
 */
#ifndef POOLSIM_SIM_SLAB_H
#define POOLSIM_SIM_SLAB_H

#include <stddef.h>

struct slab_chunk;

struct slab {
    size_t size;               /* object size, rounded up to max_align_t (bytes) */
    size_t next_chunk;         /* objects in the next chunk */
    void *free;                /* free list (first word of a free object links the next) */
    struct slab_chunk *chunks; /* every chunk allocated, for slab_fini */
    size_t in_use;             /* objects handed out and not given back */
};

void slab_init(struct slab *s, size_t size);
/* Free every chunk (objects still in use included). */
void slab_fini(struct slab *s);
/* An object of s->size bytes, contents undefined.  Never NULL (out of memory aborts). */
void *slab_alloc(struct slab *s);
/* Give back an object of this slab.  NULL is a no-op. */
void slab_free(struct slab *s, void *p);

#endif

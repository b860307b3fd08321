/*
 * list.h - intrusive circular doubly linked list with a counted head.
 *
 * Each state of a model object is one list (STYLE rule 6, PgBouncer's
 * design): a node is in at most one list at a time, the count of a state is
 * the list's length, and moving between states is list_remove + list_push_*.
 * All operations are O(1).  Header-only.
 */
#ifndef POOLSIM_SIM_LIST_H
#define POOLSIM_SIM_LIST_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>

struct list_node {
    struct list_node *next, *prev; /* both NULL while in no list */
};

struct list {
    struct list_node head; /* sentinel */
    size_t count;          /* number of nodes in the list */
};

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline void list_init(struct list *l)
{
    l->head.next = &l->head;
    l->head.prev = &l->head;
    l->count = 0;
}

static inline void list_node_init(struct list_node *n)
{
    n->next = NULL;
    n->prev = NULL;
}

static inline bool list_node_is_linked(const struct list_node *n)
{
    return n->next != NULL;
}

static inline bool list_is_empty(const struct list *l)
{
    return l->count == 0;
}

static inline size_t list_count(const struct list *l)
{
    return l->count;
}

static inline void list_insert_between(struct list *l, struct list_node *n, struct list_node *prev,
                                       struct list_node *next)
{
    assert(!list_node_is_linked(n));
    n->prev = prev;
    n->next = next;
    prev->next = n;
    next->prev = n;
    l->count++;
}

static inline void list_push_tail(struct list *l, struct list_node *n)
{
    list_insert_between(l, n, l->head.prev, &l->head);
}

static inline void list_push_head(struct list *l, struct list_node *n)
{
    list_insert_between(l, n, &l->head, l->head.next);
}

static inline void list_remove(struct list *l, struct list_node *n)
{
    assert(list_node_is_linked(n) && l->count > 0);
    n->prev->next = n->next;
    n->next->prev = n->prev;
    list_node_init(n);
    l->count--;
}

/* First node, or NULL when empty. */
static inline struct list_node *list_first(const struct list *l)
{
    return l->count ? l->head.next : NULL;
}

/* Last node, or NULL when empty. */
static inline struct list_node *list_last(const struct list *l)
{
    return l->count ? l->head.prev : NULL;
}

/* Node after n, or NULL at the end. */
static inline struct list_node *list_next(const struct list *l, const struct list_node *n)
{
    return n->next == &l->head ? NULL : n->next;
}

static inline struct list_node *list_pop_head(struct list *l)
{
    struct list_node *n = list_first(l);

    if (n) {
        list_remove(l, n);
    }
    return n;
}

static inline struct list_node *list_pop_tail(struct list *l)
{
    struct list_node *n = list_last(l);

    if (n) {
        list_remove(l, n);
    }
    return n;
}

#endif

/*
 * xalloc.h - allocation that never returns NULL: out of memory prints one
 * line and aborts (STYLE rule 11).  The caller owns what these return.
 */
#ifndef POOLSIM_SIM_XALLOC_H
#define POOLSIM_SIM_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);

#endif

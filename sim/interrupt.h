/*
 * interrupt.h - Ctrl-C and SIGTERM stop a run cleanly (DESIGN.md §5: exit
 * 130, finished points kept, marked partial).
 *
 * interrupt_install sets handlers for SIGINT and SIGTERM and returns the flag
 * they raise, for struct runner_options.stop: the runner polls it, hands out
 * no more replications once it is set, and writes the complete points.  A
 * second signal ends the process at once with status 130 (_exit: nothing
 * more is written; files already in place stay whole, as every output is
 * renamed into place).
 */
#ifndef POOLSIM_SIM_INTERRUPT_H
#define POOLSIM_SIM_INTERRUPT_H

#include <signal.h>

#define INTERRUPT_EXIT 130 /* 128 + SIGINT, as shells report it */

/* Install the handlers; returns the flag (non-zero once a signal came). */
volatile sig_atomic_t *interrupt_install(void);

#endif

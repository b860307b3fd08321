/*
 * interrupt.c - the SIGINT/SIGTERM handlers (see interrupt.h).
 *
 * Invariant: the handler only reads and writes `interrupted` and may call
 * _exit, both async-signal-safe.
 */
#include "sim/interrupt.h"

#include <string.h>
#include <unistd.h>

/*
 * The one global of the program, and why: a signal handler receives no
 * argument, so the flag it raises must live at file scope, and C11 allows a
 * handler to touch only a volatile sig_atomic_t object.  Only the handler
 * writes it; the runner reads it through the pointer interrupt_install gives.
 */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    if (interrupted) {
        _exit(INTERRUPT_EXIT); /* the second signal: quit at once */
    }
    interrupted = 1;
}

volatile sig_atomic_t *interrupt_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return &interrupted;
}

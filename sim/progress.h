/*
 * progress.h - run progress on stderr (DESIGN.md §5): never data.
 *
 * On a terminal, one line redrawn in place with \r:
 *   [=====>    ] 12/40 points  point 13 (label)  ETA 0:42
 * and erased by progress_fini.  Otherwise (a log, a pipe), a plain line at
 * most every PROGRESS_PLAIN_INTERVAL_S seconds:
 *   poolsim: 12/40 points done (30%), eta 42 s
 * Quiet: nothing at all.  The ETA extrapolates the elapsed time over the
 * replications done, which are finer-grained than points, to the expected
 * total (progress_set_total: with precision targets the total is only known
 * as the points decide, so the runner re-estimates it as it goes).  The
 * runner calls progress_update every PROGRESS_TICK_S from one thread, so a
 * line appears on time even while long replications run.  The clock is
 * CLOCK_MONOTONIC and is read for display only: nothing it returns reaches
 * an output file except summary.json's wall time.
 */
#ifndef POOLSIM_SIM_PROGRESS_H
#define POOLSIM_SIM_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define PROGRESS_PLAIN_INTERVAL_S 2.0
#define PROGRESS_TTY_INTERVAL_S 0.1 /* redraw limit on a terminal */
#define PROGRESS_BAR_WIDTH 20       /* characters between the brackets */
#define PROGRESS_TICK_S 0.1         /* how often the runner calls progress_update */

struct progress {
    FILE *f;           /* borrowed; NULL when quiet */
    bool tty;          /* draw a bar, else plain lines */
    size_t npoints;    /* points in the run */
    size_t nreps;      /* replications in the run, over all points */
    double start_s;    /* monotonic clock at progress_init (s) */
    double last_s;     /* monotonic clock at the last line drawn (s) */
    size_t drawn_cols; /* width of the bar line on screen, 0 if none */
};

/* Seconds on the monotonic clock (for wall times and the ETA only). */
double progress_now_s(void);

/* f is borrowed (stderr in the program); quiet draws nothing. */
void progress_init(struct progress *p, FILE *f, bool quiet, bool tty, size_t npoints, size_t nreps);

/*
 * Report points_done of npoints and reps_done of nreps finished; point and
 * label (borrowed) name the point most recently started.  Draws only when
 * the interval since the last line has passed (or everything is done, on a
 * terminal).
 */
void progress_update(struct progress *p, size_t points_done, size_t reps_done, size_t point,
                     const char *label);

/* The replications expected over the whole run, when the estimate changes (>= reps done). */
void progress_set_total(struct progress *p, size_t nreps);

/* A one-line message ("poolsim: msg") above the bar, or as a plain line; nothing when quiet. */
void progress_note(struct progress *p, const char *msg);

/* Erase the bar line, if one is drawn. */
void progress_fini(struct progress *p);

#endif

/*
 * progress.c - a progress bar or plain progress lines on stderr (see
 * progress.h).  Invariant: drawn_cols > 0 exactly when a bar line is on the
 * screen, so progress_fini erases only what it drew.
 */
#include "sim/progress.h"

#include <string.h>
#include <time.h>

double progress_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, FILE *f, bool quiet, bool tty, size_t npoints, size_t nreps)
{
    memset(p, 0, sizeof *p);
    p->f = quiet ? NULL : f;
    p->tty = tty;
    p->npoints = npoints;
    p->nreps = nreps;
    p->start_s = progress_now_s();
    p->last_s = p->start_s;
}

/* Remaining seconds, extrapolated from the replications done; -1 if unknown. */
static double eta_s(const struct progress *p, size_t reps_done, double now_s)
{
    if (reps_done == 0 || reps_done > p->nreps) {
        return -1;
    }
    return (now_s - p->start_s) * (double)(p->nreps - reps_done) / (double)reps_done;
}

static void draw_bar(struct progress *p, size_t points_done, size_t point, const char *label,
                     double eta)
{
    char bar[PROGRESS_BAR_WIDTH + 1];
    char eta_txt[32] = "?";
    size_t fill = p->npoints ? PROGRESS_BAR_WIDTH * points_done / p->npoints : 0;
    size_t cols;
    int n;

    for (size_t i = 0; i < PROGRESS_BAR_WIDTH; i++) {
        bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    }
    bar[PROGRESS_BAR_WIDTH] = '\0';
    if (eta >= 0) {
        long s = (long)(eta + 0.5);
        snprintf(eta_txt, sizeof eta_txt, "%ld:%02ld", s / 60, s % 60);
    }
    n = fprintf(p->f, "\r[%s] %zu/%zu points  point %zu (%s)  ETA %s", bar, points_done, p->npoints,
                point, label, eta_txt);
    cols = n > 1 ? (size_t)n - 1 : 0; /* without the \r */
    /* Pad over the rest of a longer previous line. */
    for (size_t i = cols; i < p->drawn_cols; i++) {
        fputc(' ', p->f);
    }
    if (cols > p->drawn_cols) {
        p->drawn_cols = cols;
    }
    fflush(p->f);
}

void progress_update(struct progress *p, size_t points_done, size_t reps_done, size_t point,
                     const char *label)
{
    double now_s, eta;

    if (!p->f) {
        return;
    }
    now_s = progress_now_s();
    eta = eta_s(p, reps_done, now_s);
    if (p->tty) {
        if (now_s - p->last_s >= PROGRESS_TTY_INTERVAL_S || p->drawn_cols == 0 ||
            points_done == p->npoints) {
            draw_bar(p, points_done, point, label, eta);
            p->last_s = now_s;
        }
    } else if (now_s - p->last_s >= PROGRESS_PLAIN_INTERVAL_S) {
        fprintf(p->f, "poolsim: %zu/%zu points done (%zu%%)", points_done, p->npoints,
                p->npoints ? 100 * points_done / p->npoints : 100);
        if (eta >= 0) {
            fprintf(p->f, ", eta %.0f s", eta);
        }
        fputc('\n', p->f);
        fflush(p->f);
        p->last_s = now_s;
    }
}

void progress_set_total(struct progress *p, size_t nreps)
{
    p->nreps = nreps;
}

void progress_note(struct progress *p, const char *msg)
{
    if (!p->f) {
        return;
    }
    progress_fini(p);
    fprintf(p->f, "poolsim: %s\n", msg);
    fflush(p->f);
}

void progress_fini(struct progress *p)
{
    if (p->f && p->drawn_cols > 0) {
        fprintf(p->f, "\r%*s\r", (int)p->drawn_cols, "");
        fflush(p->f);
        p->drawn_cols = 0;
    }
}

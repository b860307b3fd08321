/*
 * err.c - one-line error records for bad input (see err.h).
 */
#include "sim/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(struct err *e)
{
    memset(e, 0, sizeof *e);
}

static void set_msg(struct err *e, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void set_msg(struct err *e, const char *fmt, va_list ap)
{
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

void err_set(struct err *e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_msg(e, fmt, ap);
    va_end(ap);
}

void err_at(struct err *e, const char *path, const char *fmt, ...)
{
    va_list ap;

    snprintf(e->path, sizeof e->path, "%s", path ? path : "");
    va_start(ap, fmt);
    set_msg(e, fmt, ap);
    va_end(ap);
}

void err_set_file(struct err *e, const char *file)
{
    snprintf(e->file, sizeof e->file, "%s", file ? file : "");
}

void err_format(const struct err *e, char *buf, size_t size)
{
    const char *sep = e->file[0] ? ": " : "";

    if (e->line > 0) {
        snprintf(buf, size, "%s:%d:%d: %s", e->file, e->line, e->col, e->msg);
    } else if (e->path[0]) {
        snprintf(buf, size, "%s%s%s: %s", e->file, sep, e->path, e->msg);
    } else {
        snprintf(buf, size, "%s%s%s", e->file, sep, e->msg);
    }
}

void err_print(FILE *f, const char *prog, const struct err *e)
{
    char buf[ERR_FILE_MAX + ERR_PATH_MAX + ERR_MSG_MAX + 32];

    err_format(e, buf, sizeof buf);
    fprintf(f, "%s: %s\n", prog, buf);
}

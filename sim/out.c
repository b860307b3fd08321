/*
 * out.c - output buffers, CSV and JSON cells, atomic files (see out.h).
 * Invariant: an out_buf's data, when allocated, is NUL-terminated at len.
 */
#include "sim/out.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/xalloc.h"

#define OUT_PATH_MAX 4096

void out_buf_init(struct out_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void out_buf_fini(struct out_buf *b)
{
    free(b->data);
    out_buf_init(b);
}

/* Room for n more bytes plus the NUL. */
static void reserve(struct out_buf *b, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (b->len + n + 1 > cap) {
            cap *= 2;
        }
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
}

void out_buf_put(struct out_buf *b, const char *s, size_t n)
{
    if (n == 0) {
        return;
    }
    reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void out_buf_puts(struct out_buf *b, const char *s)
{
    out_buf_put(b, s, strlen(s));
}

void out_buf_printf(struct out_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0) {
        return;
    }
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void out_csv_text(struct out_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        out_buf_puts(b, s);
        return;
    }
    out_buf_put(b, "\"", 1);
    for (const char *c = s; *c; c++) {
        out_buf_put(b, c, 1);
        if (*c == '"') {
            out_buf_put(b, "\"", 1);
        }
    }
    out_buf_put(b, "\"", 1);
}

void out_csv_num(struct out_buf *b, double x)
{
    if (!isnan(x)) {
        out_buf_printf(b, "%.9g", x);
    }
}

void out_json_str(struct out_buf *b, const char *s)
{
    if (!s) {
        out_buf_puts(b, "null");
        return;
    }
    out_buf_put(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            out_buf_printf(b, "\\%c", *c);
        } else if (*c < 0x20) {
            out_buf_printf(b, "\\u%04x", *c);
        } else {
            out_buf_put(b, (const char *)c, 1);
        }
    }
    out_buf_put(b, "\"", 1);
}

/* Fail with errno's text for path. */
static int io_error(struct err *e, const char *what, const char *path)
{
    int saved = errno;

    err_clear(e);
    err_set(e, "cannot %s \"%s\": %s", what, path, strerror(saved));
    return -1;
}

/* mkdir that accepts an existing directory. */
static int mkdir_one(const char *path)
{
    struct stat st;

    if (mkdir(path, 0777) == 0) {
        return 0;
    }
    if (errno == EEXIST && stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            return 0;
        }
        errno = ENOTDIR;
    }
    return -1;
}

int out_mkdir_p(const char *dir, struct err *e)
{
    char path[OUT_PATH_MAX];
    size_t n = strlen(dir);

    if (n >= sizeof path) {
        errno = ENAMETOOLONG;
        return io_error(e, "create directory", dir);
    }
    memcpy(path, dir, n + 1);
    /* Each proper prefix ending before a '/', then the whole path. */
    for (size_t i = 1; i < n; i++) {
        if (path[i] == '/' && path[i - 1] != '/') {
            path[i] = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST) {
                return io_error(e, "create directory", path);
            }
            path[i] = '/';
        }
    }
    if (mkdir_one(path) != 0) {
        return io_error(e, "create directory", path);
    }
    return 0;
}

static int join(char *dst, size_t size, const char *dir, const char *prefix, const char *name,
                const char *suffix)
{
    int n = snprintf(dst, size, "%s/%s%s%s", dir, prefix, name, suffix);

    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int out_write_tmp(const char *dir, const char *name, const struct out_buf *b, struct err *e)
{
    char path[OUT_PATH_MAX];
    FILE *f;
    int ok;

    if (join(path, sizeof path, dir, ".", name, ".tmp") != 0) {
        return io_error(e, "write", dir);
    }
    f = fopen(path, "wb");
    if (!f) {
        return io_error(e, "write", path);
    }
    ok = fwrite(b->data ? b->data : "", 1, b->len, f) == b->len && fflush(f) == 0 &&
         fsync(fileno(f)) == 0;
    if (fclose(f) != 0) {
        ok = 0;
    }
    if (!ok) {
        io_error(e, "write", path);
        unlink(path);
        return -1;
    }
    return 0;
}

int out_commit(const char *dir, const char *name, struct err *e)
{
    char tmp[OUT_PATH_MAX], path[OUT_PATH_MAX];

    if (join(tmp, sizeof tmp, dir, ".", name, ".tmp") != 0 ||
        join(path, sizeof path, dir, "", name, "") != 0) {
        return io_error(e, "write", dir);
    }
    if (rename(tmp, path) != 0) {
        return io_error(e, "rename into", path);
    }
    return 0;
}

void out_discard(const char *dir, const char *name)
{
    char tmp[OUT_PATH_MAX];

    if (join(tmp, sizeof tmp, dir, ".", name, ".tmp") == 0) {
        unlink(tmp);
    }
}

char *out_dir_of_file(const char *file)
{
    const char *slash = strrchr(file, '/');
    char *d;

    if (!slash) {
        return xstrdup(".");
    }
    d = xstrdup(file);
    d[slash - file == 0 ? 1 : slash - file] = '\0';
    return d;
}

void out_default_dir(const char *name, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "results/");
    size_t start = n;

    for (const char *p = name; *p && n + 1 < size; p++) {
        unsigned char ch = (unsigned char)*p;

        if (isalnum(ch) || ch == '-' || ch == '_') {
            buf[n++] = (char)ch;
        }
    }
    buf[n] = '\0';
    if (n == start) {
        buf[0] = '\0';
    }
}

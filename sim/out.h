/*
 * out.h - building output files in memory and writing them atomically
 * (DESIGN.md §5).
 *
 * - struct out_buf: a growable byte buffer; a file is built whole in memory.
 * - CSV cells (RFC 4180 quoting, but "\n" line ends): a text cell is quoted
 *   only when it holds a comma, a double quote, CR or LF, and inner quotes
 *   are doubled; a number is "%.9g", and NAN ("does not apply") is an empty
 *   cell.
 * - JSON strings for the hand-written summary.json: '"', '\\' and control
 *   characters escaped, everything else (valid UTF-8) copied.
 * - Files: out_mkdir_p creates the output directory; out_write_tmp writes
 *   DIR/.NAME.tmp and out_commit renames it to DIR/NAME, so a reader never
 *   sees a half-written file.  I/O errors fill e with one line naming the
 *   path and strerror(errno), with no input file set.
 */
#ifndef POOLSIM_SIM_OUT_H
#define POOLSIM_SIM_OUT_H

#include <stddef.h>

#include "sim/err.h"

struct out_buf {
    char *data; /* NUL-terminated when len > 0 (owned) */
    size_t len; /* bytes used, without the NUL */
    size_t cap; /* bytes allocated */
};

void out_buf_init(struct out_buf *b);
void out_buf_fini(struct out_buf *b);
void out_buf_put(struct out_buf *b, const char *s, size_t n);
void out_buf_puts(struct out_buf *b, const char *s);
void out_buf_printf(struct out_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A CSV text cell (no separator). */
void out_csv_text(struct out_buf *b, const char *s);
/* A CSV number cell: "%.9g", NAN -> empty. */
void out_csv_num(struct out_buf *b, double x);
/* A JSON string literal; NULL -> null. */
void out_json_str(struct out_buf *b, const char *s);

/* mkdir -p dir (mode 0777 before umask); an existing directory is fine. */
int out_mkdir_p(const char *dir, struct err *e);
/* Write b to dir/.name.tmp (flushed and fsync'ed). */
int out_write_tmp(const char *dir, const char *name, const struct out_buf *b, struct err *e);
/* Rename dir/.name.tmp to dir/name. */
int out_commit(const char *dir, const char *name, struct err *e);
/* Remove dir/.name.tmp if present (cleanup after a failure; errors ignored). */
void out_discard(const char *dir, const char *name);

/* The directory part of file ("." when it has none); caller frees. */
char *out_dir_of_file(const char *file);
/*
 * DESIGN.md §5's default output directory: "results/<name>" with name
 * reduced to letters, digits, '-' and '_'; "" when nothing is left.
 */
void out_default_dir(const char *name, char *buf, size_t size);

#endif

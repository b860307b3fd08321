/*
 * err.h - bad input is reported through a struct err, never printed.
 *
 * A function that can fail on user input returns -1 and fills a struct err
 * (STYLE rule 11).  Only main() prints it, as one line in GNU/PostgreSQL
 * style:
 *   poolsim: FILE:LINE:COL: message           (syntax: line > 0)
 *   poolsim: FILE: $.json.path: message       (meaning: path non-empty)
 *   poolsim: FILE: message                    (neither)
 * Messages are lowercase, quote user values, carry no trailing period and
 * no newline.
 */
#ifndef POOLSIM_SIM_ERR_H
#define POOLSIM_SIM_ERR_H

#include <stdio.h>

#define ERR_FILE_MAX 512
#define ERR_PATH_MAX 512
#define ERR_MSG_MAX 768

struct err {
    char file[ERR_FILE_MAX]; /* input file as named by the user; "" if none */
    int line, col;           /* 1-based; > 0 only for syntax errors */
    char path[ERR_PATH_MAX]; /* JSON path such as "$.pooler.pool_mode"; "" if none */
    char msg[ERR_MSG_MAX];   /* the message itself */
};

/* Clear every field. */
void err_clear(struct err *e);

/* Set the message (printf-style); file, line, col and path are left as they are. */
void err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set the JSON path and the message in one call.  path is borrowed. */
void err_at(struct err *e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set the file name (borrowed string is copied). */
void err_set_file(struct err *e, const char *file);

/* Format the whole one-line message, without "prog: " and without newline. */
void err_format(const struct err *e, char *buf, size_t size);

/* Print "prog: <formatted>\n" to f. */
void err_print(FILE *f, const char *prog, const struct err *e);

#endif

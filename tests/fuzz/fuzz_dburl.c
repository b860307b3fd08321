/*
 * fuzz_dburl.c - libFuzzer harness for connection strings (models/dburl.h):
 * the password never shows.  The input is cut at 0xff bytes into a user U,
 * password parts P and Q and a rest R; the URL is
 * "postgresql://U:P" MARK "Q@R" (R without '@', so that the '@' before it ends
 * the user part) and MARK must appear in no redacted form, no message of
 * dburl_parse or dburl_apply, and no document dburl_apply leaves.  Messages
 * must be one line.  Built by `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "models/dburl.h"
#include "sim/json.h"
#include "sim/out.h"

#define MARK "QQSECRETQQ"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_hide(const char *text)
{
    if (strstr(text, MARK)) {
        fprintf(stderr, "password shown: %s\n", text);
        abort();
    }
}

static void check_err(const struct err *e)
{
    char buf[ERR_FILE_MAX + ERR_PATH_MAX + ERR_MSG_MAX + 32];

    err_format(e, buf, sizeof buf);
    must_hide(buf);
    if (strchr(buf, '\n') || !e->msg[0]) {
        abort();
    }
}

/* Part i of the input (cut at 0xff), without NUL bytes and without the bytes in drop. */
static char *part(const uint8_t *data, size_t size, int i, const char *drop)
{
    char *p = malloc(size + 1);
    size_t n = 0;
    int k = 0;

    for (size_t j = 0; j < size; j++) {
        if (data[j] == 0xff) {
            k++;
        } else if (k == i && data[j] && !strchr(drop, data[j])) {
            p[n++] = (char)data[j];
        }
    }
    p[n] = '\0';
    return p;
}

static void through_apply(const char *url)
{
    cJSON *doc = cJSON_CreateObject();
    struct out_buf notes;
    char **paths = NULL;
    size_t npaths = 0;
    struct err e;
    char *text;

    cJSON_AddStringToObject(doc, "database_url", url);
    out_buf_init(&notes);
    err_clear(&e);
    if (dburl_apply(doc, &paths, &npaths, &notes, &e) != 0) {
        check_err(&e);
    }
    text = cJSON_PrintUnformatted(doc);
    must_hide(text);
    if (notes.len) {
        must_hide(notes.data);
    }
    /* as a label or a swept value shows it: JSON-escaped, then redacted as text */
    cJSON_Delete(doc);
    doc = cJSON_CreateString(url);
    free(text);
    text = cJSON_PrintUnformatted(doc);
    {
        char *r = dburl_redact(text);

        must_hide(r);
        free(r);
    }
    free(text);
    cJSON_Delete(doc);
    for (size_t i = 0; i < npaths; i++) {
        free(paths[i]);
    }
    free(paths);
    out_buf_fini(&notes);
}

static void check_url(const char *url)
{
    struct dburl u;
    struct err e;

    /* Raw text: a '"' may end a URL there (dburl.h); every message escapes it first. */
    if (!strchr(url, '"')) {
        char *r = dburl_redact(url);

        must_hide(r);
        free(r);
    }
    err_clear(&e);
    if (dburl_parse(&u, url, &e) != 0) {
        check_err(&e);
    } else {
        dburl_fini(&u);
    }
    through_apply(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *u = part(data, size, 0, ""), *p = part(data, size, 1, "");
    char *q = part(data, size, 2, ""), *rest = part(data, size, 3, "@");
    size_t n = strlen(u) + strlen(p) + strlen(q) + strlen(rest) + 64;
    char *url = malloc(n);

    if (!strstr(u, MARK) && !strstr(rest, MARK)) {
        snprintf(url, n, "postgresql://%s:%s" MARK "%s@%s", u, p, q, rest);
        check_url(url);
    }
    free(u);
    free(p);
    free(q);
    free(rest);
    /* no '@' at all (a URL cut short): "user:password" reads as host:port and is hidden too */
    u = part(data, size, 0, "@:/?[\"");
    p = part(data, size, 1, "@/?\"");
    if (!strstr(u, MARK)) {
        snprintf(url, n, "postgresql://%s:%s" MARK, u, p);
        check_url(url);
    }
    free(u);
    free(p);
    free(url);
    return 0;
}

/*
 * json.c - the generic experiment-file reader (json.h, DESIGN.md §1, §2, §4):
 * the only file in sim/ that includes cJSON.
 *
 * Parsing is in two steps.  A strict RFC 8259 scanner of our own checks the
 * text first: it is the authority on syntax, so that every syntax error has an
 * exact LINE:COL (1-based, COL in bytes) and a message saying what was
 * expected.  cJSON is laxer (it takes "01", "1.", raw control characters,
 * "\uZZZZ" as U+0000) and its error offset is only roughly placed, so it
 * only builds the tree of text the scanner accepted; if it then fails, that
 * is an out-of-memory or a disagreement between the two, and both abort.
 * A walk of the tree then rejects duplicate keys and numbers beyond a double.
 * --set values go through the same parser (json_value_from_arg).
 *
 * Paths (DESIGN.md §4): "$", ".key", "[i]"; inside a key "\." is a dot, "\["
 * a bracket and "\\" a backslash, so that json_set_path reads back exactly
 * what json_path_key writes.  json_set_path also takes a leading "$.".
 *
 * Invariants of a tree returned by json_parse: valid UTF-8 strings without
 * U+0000, no duplicate key in any object, every number finite, nesting at
 * most NEST_MAX levels.
 *
 * Messages (lowercase, user values quoted, one line).  Syntax, as
 * FILE:LINE:COL: MESSAGE, the column on the offending byte; WHAT is one of
 * '}', 'word' (a bare word), "'", end of input, control character 0x01:
 *   invalid UTF-8 byte 0xff
 *   invalid UTF-8 sequence 0xe2 0x28             (... 0xe2 0x82 (cut by the end of input))
 *   empty input (expected a JSON value)
 *   expected a value, got WHAT
 *   expected a value, got ']' (trailing commas are not allowed)
 *   expected a key in double quotes, got WHAT
 *   expected a key in double quotes, got '}' (trailing commas are not allowed)
 *   expected ':' after the key, got WHAT
 *   expected ',' or '}' after object member, got WHAT
 *   expected ',' or ']' after array element, got WHAT
 *   trailing characters after the JSON value: WHAT
 *   unterminated string (opened at 3:10)
 *   line break in a string opened at 3:10 (missing '"'?)
 *   control character 0x09 in a string (write it as \u0009)
 *   invalid escape '\q' in a string
 *   invalid escape in a string (write a backslash as \\)
 *   invalid \u escape (expected 4 hex digits)
 *   \u0000 is not allowed in a string
 *   unpaired surrogate \ud800 in a string
 *   expected a digit after '-', got WHAT       (also: after '.', in the exponent)
 *   number with a leading zero
 *   number longer than 63 characters
 *   unquoted duration 30s (write "30s")
 *   nesting deeper than 512 levels
 * File, as FILE: MESSAGE:
 *   cannot open: No such file or directory      cannot read: Is a directory (strerror)
 * Meaning, as FILE: $.json.path: MESSAGE (GOT: a string ("ten"), a number (5),
 * true, false, null, an array, an object):
 *   duplicate key "x"                            (at the second occurrence)
 *   key "a\u000ab" contains a control character  (at the object's path)
 *   number out of range                          (beyond a double: 1e999)
 *   unknown key "pool_sise" (expected one of "pool_mode", "pool_size")
 *   unknown key "x" (expected "value")           unknown key "x" (no keys are allowed here)
 *   expected an object, got GOT                  (also an array, a string, true or false)
 *   expected an integer, got GOT                 expected a number, got GOT
 *   must be an integer in [1, 100000], got 2.5   (also ">= 1", "<= 9"; a number in [0, 1])
 *   unknown value "tx" (expected "session", "transaction" or "statement")
 *   expected "session", "transaction" or "statement", got GOT
 *   invalid duration "abc" (expected a number and a unit, e.g. "250ms")
 *   invalid duration "-5ms" (must not be negative)
 *   invalid duration "5 ms" (no space between number and unit)
 *   missing unit in "5" (expected ns, us, ms, s, m or h)
 *   unknown unit in "5 parsecs" (expected ns, us, ms, s, m or h)
 *   duration "300000000h" is too large (at most about 291 years)
 *   bare number 5 needs a unit (e.g. "5ms")
 *   expected a duration such as "250ms", got GOT     (or: a number of milliseconds/seconds)
 *   must be at least "1ms", got "0.5ms"          must be at most "10s", got 11
 *   expected a duration such as "250ms" or a distribution {"dist": ...}, got GOT
 *   missing key "dist" (expected "const", "exponential", ... or "empirical")
 *   missing key "mean" (required by "exponential")
 *   lognormal takes either "median" and "p99", or "mean" and "cv"; got "median" and "cv"
 *   empirical takes either "quantiles" or "file", not both
 *   missing key "quantiles" or "file" (required by "empirical")
 *   expected a pair [q, "duration"], got GOT     (or: an array of 3 elements)
 *   must not be empty                            ("file": "")
 *   file name too long
 * json_set_path, as MESSAGE alone (the caller adds where the path came from):
 *   malformed path "a..b" (empty key)
 *   malformed path "a[x]" (expected an index such as [0])
 *   malformed path "a[0]b" (expected '.' or '[' after ']')
 *   malformed path "a\" (ends with a lone backslash)
 *   malformed path "a\u000ab" (control character in a key)
 *   "a.b" is a number, not an object             "a.b" is an object, not an array
 *   index 5 out of range: "a.b" has 3 elements
 *   "a.b" does not exist (only an existing array can be indexed)
 */
#include "sim/json.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "sim/xalloc.h"

#define NEST_MAX 512  /* arrays and objects inside each other (cJSON's own limit: 1000) */
#define NUMBER_MAX 63 /* characters of a number (cJSON reads no more than 63) */
#define QUOTE_MAX 64  /* bytes of a user string shown in a message */
#define FILE_NAME_MAX 4096

/* Duration units and their length in seconds. */
static const struct unit {
    const char *name;
    double s;
} units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1.0}, {"m", 60.0}, {"h", 3600.0}};

#define UNIT_NAMES "ns, us, ms, s, m or h"

/* ---- small text builder for messages ---------------------------------- */

struct sbuf {
    char *buf;   /* borrowed; always NUL-terminated */
    size_t size; /* capacity of buf (bytes) */
    size_t len;  /* bytes used, < size */
};

static void sb_init(struct sbuf *sb, char *buf, size_t size)
{
    assert(size > 0);
    sb->buf = buf;
    sb->size = size;
    sb->len = 0;
    buf[0] = '\0';
}

static void sb_addf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append formatted text; what does not fit is cut off. */
static void sb_addf(struct sbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(sb->buf + sb->len, sb->size - sb->len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        sb->len += (size_t)n;
        if (sb->len >= sb->size) {
            sb->len = sb->size - 1;
        }
    }
}

/* Append s in double quotes, escaped as JSON writes it, cut after QUOTE_MAX bytes. */
static void sb_quote(struct sbuf *sb, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i;

    sb_addf(sb, "\"");
    for (i = 0; p[i]; i++) {
        if (i >= QUOTE_MAX && (p[i] & 0xc0) != 0x80) {
            sb_addf(sb, "...");
            break;
        }
        if (p[i] == '"' || p[i] == '\\') {
            sb_addf(sb, "\\%c", p[i]);
        } else if (p[i] < 0x20 || p[i] == 0x7f) {
            sb_addf(sb, "\\u%04x", p[i]);
        } else {
            sb_addf(sb, "%c", p[i]);
        }
    }
    sb_addf(sb, "\"");
}

/* Append the shortest %g form that reads back as the same double. */
static void sb_number(struct sbuf *sb, double v)
{
    char tmp[40];
    int prec;

    for (prec = 15; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) {
            break;
        }
    }
    snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    sb_addf(sb, "%s", tmp);
}

/* Append "a", "b" or "c" (last_sep " or ") or "a", "b", "c" (last_sep ", "). */
static void sb_names(struct sbuf *sb, const char *const *names, const char *last_sep)
{
    for (size_t i = 0; names[i]; i++) {
        if (i > 0) {
            sb_addf(sb, "%s", names[i + 1] ? ", " : last_sep);
        }
        if (sb->len + 80 > sb->size) {
            sb_addf(sb, "...");
            return;
        }
        sb_quote(sb, names[i]);
    }
}

/* Describe a value for "got ...": a string ("ten"), a number (5), true, null, an array. */
static void sb_value(struct sbuf *sb, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        sb_addf(sb, "a string (");
        sb_quote(sb, v->valuestring);
        sb_addf(sb, ")");
    } else if (cJSON_IsNumber(v)) {
        sb_addf(sb, "a number (");
        sb_number(sb, v->valuedouble);
        sb_addf(sb, ")");
    } else if (cJSON_IsBool(v)) {
        sb_addf(sb, "%s", cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        sb_addf(sb, "null");
    } else if (cJSON_IsArray(v)) {
        sb_addf(sb, "an array");
    } else {
        assert(cJSON_IsObject(v));
        sb_addf(sb, "an object");
    }
}

/* ---- errors ---------------------------------------------------------- */

/* A meaning error: path and message, no line:col.  Returns -1. */
static int fail_msg(struct err *e, const char *path, const char *msg)
{
    e->line = 0;
    e->col = 0;
    err_at(e, path, "%s", msg);
    return -1;
}

static int fail_at(struct err *e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct err *e, const char *path, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail_msg(e, path, msg);
}

/* "expected WHAT, got a string (\"ten\")" at at's path. */
static int fail_type(const struct json_at *at, const char *what, struct err *e)
{
    char msg[ERR_MSG_MAX];
    struct sbuf sb;

    sb_init(&sb, msg, sizeof msg);
    sb_addf(&sb, "expected %s, got ", what);
    sb_value(&sb, at->node);
    return fail_msg(e, at->path, msg);
}

/* Abort on a failed cJSON allocation (STYLE rule 11: out of memory aborts). */
static cJSON *must(cJSON *p)
{
    if (!p) {
        fprintf(stderr, "poolsim: out of memory (cJSON)\n");
        abort();
    }
    return p;
}

/* ---- the strict scanner: syntax errors with LINE:COL ------------------ */

struct scan {
    const unsigned char *s; /* the text (borrowed) */
    size_t len;             /* its length (bytes) */
    size_t pos;             /* next byte to read */
    const char *file;       /* names the input in errors (borrowed) */
    struct err *e;          /* where an error goes */
};

/* 1-based line and byte column of offset pos. */
static void scan_locate(const struct scan *sc, size_t pos, int *line, int *col)
{
    size_t l = 1, c = 1;

    for (size_t i = 0; i < pos && i < sc->len; i++) {
        if (sc->s[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l < INT32_MAX ? (int)l : INT32_MAX;
    *col = c < INT32_MAX ? (int)c : INT32_MAX;
}

static int scan_fail(struct scan *sc, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A syntax error at byte offset pos.  Returns -1. */
static int scan_fail(struct scan *sc, size_t pos, const char *fmt, ...)
{
    va_list ap;
    char msg[ERR_MSG_MAX];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_clear(sc->e);
    err_set_file(sc->e, sc->file);
    scan_locate(sc, pos, &sc->e->line, &sc->e->col);
    err_set(sc->e, "%s", msg);
    return -1;
}

static bool is_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Length of the UTF-8 sequence led by c (the text is already validated). */
static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/*
 * What is at pos, for "got ...": end of input, 'x', 'word' (a run of letters,
 * digits and '_' that starts with a letter), "'", 'é', control character 0x01.
 */
static void scan_describe(const struct scan *sc, size_t pos, char *buf, size_t size)
{
    const unsigned char *p = sc->s + pos;
    size_t n = 1;

    if (pos >= sc->len) {
        snprintf(buf, size, "end of input");
    } else if (*p < 0x20 || *p == 0x7f) {
        snprintf(buf, size, "control character 0x%02x", *p);
    } else if (*p == '\'') {
        snprintf(buf, size, "\"'\"");
    } else {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
            while (pos + n < sc->len && is_word_char(p[n]) && n < QUOTE_MAX) {
                n++;
            }
        } else {
            n = utf8_len(*p);
        }
        snprintf(buf, size, "'%.*s'", (int)n, (const char *)p);
    }
}

/* "expected WHAT, got ..." at the current position. */
static int scan_expected(struct scan *sc, const char *what, const char *hint)
{
    char got[QUOTE_MAX + 16];

    scan_describe(sc, sc->pos, got, sizeof got);
    return scan_fail(sc, sc->pos, "expected %s, got %s%s", what, got, hint);
}

static void scan_ws(struct scan *sc)
{
    while (sc->pos < sc->len) {
        unsigned char c = sc->s[sc->pos];

        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            return;
        }
        sc->pos++;
    }
}

/* The byte at pos + i, or 0 past the end. */
static unsigned char scan_at(const struct scan *sc, size_t i)
{
    return sc->pos + i < sc->len ? sc->s[sc->pos + i] : 0;
}

/* A bad continuation at p[k] of the sequence at offset i: name the bytes read so far. */
static int scan_utf8_fail(struct scan *sc, size_t i, size_t k)
{
    char bytes[32];
    struct sbuf sb;
    size_t n = i + k < sc->len ? k + 1 : k;

    sb_init(&sb, bytes, sizeof bytes);
    for (size_t j = 0; j < n; j++) {
        sb_addf(&sb, "%s0x%02x", j ? " " : "", sc->s[i + j]);
    }
    return scan_fail(sc, i, "invalid UTF-8 sequence %s%s", bytes,
                     n == k ? " (cut by the end of input)" : "");
}

/*
 * The whole text must be UTF-8 (Unicode 15 table 3-7: no overlong forms, no
 * surrogates, nothing above U+10FFFF).  The error points at the first byte
 * of the bad sequence.
 */
static int scan_utf8(struct scan *sc)
{
    for (size_t i = 0; i < sc->len;) {
        const unsigned char *p = sc->s + i;
        size_t n = 0, k;
        unsigned char lo = 0x80, hi = 0xbf;

        if (p[0] < 0x80) {
            i++;
            continue;
        }
        if (p[0] >= 0xc2 && p[0] <= 0xdf) {
            n = 2;
        } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
            n = 3;
            lo = p[0] == 0xe0 ? 0xa0 : 0x80;
            hi = p[0] == 0xed ? 0x9f : 0xbf;
        } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
            n = 4;
            lo = p[0] == 0xf0 ? 0x90 : 0x80;
            hi = p[0] == 0xf4 ? 0x8f : 0xbf;
        } else {
            return scan_fail(sc, i, "invalid UTF-8 byte 0x%02x", p[0]);
        }
        for (k = 1; k < n; k++) {
            unsigned char c = i + k < sc->len ? p[k] : 0;

            if (i + k >= sc->len || c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xbf)) {
                return scan_utf8_fail(sc, i, k);
            }
        }
        i += n;
    }
    return 0;
}

/* Value of 4 hex digits at pos + i, or -1. */
static long scan_hex4(const struct scan *sc, size_t i)
{
    long v = 0;

    for (size_t k = 0; k < 4; k++) {
        unsigned char c = scan_at(sc, i + k);
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

/* A \u escape at pos (the backslash): one code unit, or a surrogate pair. */
static int scan_unicode_escape(struct scan *sc)
{
    long u = scan_hex4(sc, 2), low;

    if (u < 0) {
        return scan_fail(sc, sc->pos, "invalid \\u escape (expected 4 hex digits)");
    }
    if (u == 0) {
        return scan_fail(sc, sc->pos, "\\u0000 is not allowed in a string");
    }
    if (u >= 0xdc00 && u <= 0xdfff) {
        return scan_fail(sc, sc->pos, "unpaired surrogate \\u%04lx in a string", u);
    }
    if (u >= 0xd800 && u <= 0xdbff) {
        low = scan_at(sc, 6) == '\\' && scan_at(sc, 7) == 'u' ? scan_hex4(sc, 8) : -1;
        if (low < 0xdc00 || low > 0xdfff) {
            return scan_fail(sc, sc->pos, "unpaired surrogate \\u%04lx in a string", u);
        }
        sc->pos += 6;
    }
    sc->pos += 6;
    return 0;
}

/* An escape at pos (the backslash). */
static int scan_escape(struct scan *sc)
{
    unsigned char c = scan_at(sc, 1);

    if (c == 'u') {
        return scan_unicode_escape(sc);
    }
    if (c && strchr("\"\\/bfnrt", c)) {
        sc->pos += 2;
        return 0;
    }
    if (c > 0x20 && c < 0x7f) {
        return scan_fail(sc, sc->pos, "invalid escape '\\%c' in a string", c);
    }
    return scan_fail(sc, sc->pos, "invalid escape in a string (write a backslash as \\\\)");
}

/* A string at pos (the opening quote). */
static int scan_string(struct scan *sc)
{
    size_t open = sc->pos;
    int line, col;

    for (sc->pos++; sc->pos < sc->len;) {
        unsigned char c = sc->s[sc->pos];

        if (c == '"') {
            sc->pos++;
            return 0;
        } else if (c == '\\') {
            if (scan_escape(sc) < 0) {
                return -1;
            }
        } else if (c == '\n' || c == '\r') {
            scan_locate(sc, open, &line, &col);
            return scan_fail(sc, sc->pos, "line break in a string opened at %d:%d (missing '\"'?)",
                             line, col);
        } else if (c < 0x20) {
            return scan_fail(sc, sc->pos,
                             "control character 0x%02x in a string (write it as \\u%04x)", c, c);
        } else {
            sc->pos++;
        }
    }
    scan_locate(sc, open, &line, &col);
    return scan_fail(sc, sc->pos, "unterminated string (opened at %d:%d)", line, col);
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* One or more digits at pos, else "expected a digit AFTER, got ...". */
static int scan_digits(struct scan *sc, const char *after)
{
    char what[32];

    if (!is_digit(scan_at(sc, 0))) {
        snprintf(what, sizeof what, "a digit %s", after);
        return scan_expected(sc, what, "");
    }
    while (is_digit(scan_at(sc, 0))) {
        sc->pos++;
    }
    return 0;
}

/* A number that a duration unit follows directly, as in "warmup": 30s. */
static int scan_unquoted_duration(struct scan *sc, size_t start)
{
    size_t n = 0;

    while (is_word_char(scan_at(sc, n))) {
        n++;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strlen(units[i].name) == n && memcmp(units[i].name, sc->s + sc->pos, n) == 0) {
            int w = (int)(sc->pos + n - start);

            return scan_fail(sc, start, "unquoted duration %.*s (write \"%.*s\")", w,
                             (const char *)sc->s + start, w, (const char *)sc->s + start);
        }
    }
    return 0;
}

/* A number at pos: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(struct scan *sc)
{
    size_t start = sc->pos;

    if (scan_at(sc, 0) == '-') {
        sc->pos++;
    }
    if (scan_at(sc, 0) == '0' && is_digit(scan_at(sc, 1))) {
        return scan_fail(sc, sc->pos, "number with a leading zero");
    }
    if (scan_digits(sc, "after '-'") < 0) {
        return -1;
    }
    if (scan_at(sc, 0) == '.') {
        sc->pos++;
        if (scan_digits(sc, "after '.'") < 0) {
            return -1;
        }
    }
    if (scan_at(sc, 0) == 'e' || scan_at(sc, 0) == 'E') {
        sc->pos++;
        if (scan_at(sc, 0) == '+' || scan_at(sc, 0) == '-') {
            sc->pos++;
        }
        if (scan_digits(sc, "in the exponent") < 0) {
            return -1;
        }
    }
    if (sc->pos - start > NUMBER_MAX) {
        return scan_fail(sc, start, "number longer than %d characters", NUMBER_MAX);
    }
    return scan_unquoted_duration(sc, start);
}

/* true, false or null at pos. */
static int scan_literal(struct scan *sc)
{
    const char *const lits[] = {"true", "false", "null"};

    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
        size_t n = strlen(lits[i]);

        if (sc->len - sc->pos >= n && memcmp(sc->s + sc->pos, lits[i], n) == 0 &&
            !is_word_char(scan_at(sc, n))) {
            sc->pos += n;
            return 0;
        }
    }
    return scan_expected(sc, "a value", "");
}

static int scan_value(struct scan *sc, int depth);

/* An object at pos (the '{'). */
static int scan_object(struct scan *sc, int depth)
{
    sc->pos++;
    scan_ws(sc);
    if (scan_at(sc, 0) == '}') {
        sc->pos++;
        return 0;
    }
    for (;;) {
        if (scan_at(sc, 0) != '"') {
            return scan_expected(sc, "a key in double quotes",
                                 scan_at(sc, 0) == '}' ? " (trailing commas are not allowed)" : "");
        }
        if (scan_string(sc) < 0) {
            return -1;
        }
        scan_ws(sc);
        if (scan_at(sc, 0) != ':') {
            return scan_expected(sc, "':' after the key", "");
        }
        sc->pos++;
        if (scan_value(sc, depth + 1) < 0) {
            return -1;
        }
        scan_ws(sc);
        if (scan_at(sc, 0) == '}') {
            sc->pos++;
            return 0;
        }
        if (scan_at(sc, 0) != ',') {
            return scan_expected(sc, "',' or '}' after object member", "");
        }
        sc->pos++;
        scan_ws(sc);
    }
}

/* An array at pos (the '['). */
static int scan_array(struct scan *sc, int depth)
{
    sc->pos++;
    scan_ws(sc);
    if (scan_at(sc, 0) == ']') {
        sc->pos++;
        return 0;
    }
    for (;;) {
        scan_ws(sc);
        if (scan_at(sc, 0) == ']') {
            return scan_expected(sc, "a value", " (trailing commas are not allowed)");
        }
        if (scan_value(sc, depth + 1) < 0) {
            return -1;
        }
        scan_ws(sc);
        if (scan_at(sc, 0) == ']') {
            sc->pos++;
            return 0;
        }
        if (scan_at(sc, 0) != ',') {
            return scan_expected(sc, "',' or ']' after array element", "");
        }
        sc->pos++;
    }
}

/* Any value after optional whitespace; depth counts the enclosing arrays and objects. */
static int scan_value(struct scan *sc, int depth)
{
    unsigned char c;

    scan_ws(sc);
    c = scan_at(sc, 0);
    if (sc->pos >= sc->len) {
        return scan_expected(sc, "a value", "");
    }
    if ((c == '{' || c == '[') && depth >= NEST_MAX) {
        return scan_fail(sc, sc->pos, "nesting deeper than %d levels", NEST_MAX);
    }
    switch (c) {
    case '{':
        return scan_object(sc, depth);
    case '[':
        return scan_array(sc, depth);
    case '"':
        return scan_string(sc);
    case 't':
    case 'f':
    case 'n':
        return scan_literal(sc);
    default:
        if (c == '-' || is_digit(c)) {
            return scan_number(sc);
        }
        return scan_expected(sc, "a value", "");
    }
}

/* The whole text: UTF-8, an optional byte order mark, one value, whitespace. */
static int scan_document(struct scan *sc)
{
    char got[QUOTE_MAX + 16];

    if (scan_utf8(sc) < 0) {
        return -1;
    }
    if (sc->len >= 3 && memcmp(sc->s, "\xef\xbb\xbf", 3) == 0) {
        sc->pos = 3;
    }
    scan_ws(sc);
    if (sc->pos >= sc->len) {
        return scan_fail(sc, sc->pos, "empty input (expected a JSON value)");
    }
    if (scan_value(sc, 0) < 0) {
        return -1;
    }
    scan_ws(sc);
    if (sc->pos < sc->len) {
        scan_describe(sc, sc->pos, got, sizeof got);
        return scan_fail(sc, sc->pos, "trailing characters after the JSON value: %s", got);
    }
    return 0;
}

/* ---- the tree: build, check, free ------------------------------------ */

static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return true;
        }
    }
    return false;
}

/* key quoted and escaped for a message, in buf. */
static const char *quoted(const char *key, char *buf, size_t size)
{
    struct sbuf sb;

    sb_init(&sb, buf, size);
    sb_quote(&sb, key);
    return buf;
}

/* An object member for the duplicate search: its key and position. */
struct member {
    const char *key; /* borrowed from the tree */
    size_t index;    /* position in the object, 0-based */
};

static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c != 0) {
        return c;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Position of the first member of obj, in file order, whose key an earlier
 * member already has; SIZE_MAX if none.  Sorting keeps large objects
 * O(n log n).
 */
static size_t first_duplicate(const cJSON *obj)
{
    size_t n = 0, i = 0, dup = SIZE_MAX;
    struct member *m;

    for (const cJSON *c = obj->child; c; c = c->next) {
        n++;
    }
    if (n < 2) {
        return SIZE_MAX;
    }
    m = xmalloc(n * sizeof *m);
    for (const cJSON *c = obj->child; c; c = c->next, i++) {
        m[i].key = c->string;
        m[i].index = i;
    }
    qsort(m, n, sizeof *m, member_cmp);
    for (i = 1; i < n; i++) {
        if (strcmp(m[i].key, m[i - 1].key) == 0 && m[i].index < dup) {
            dup = m[i].index;
        }
    }
    free(m);
    return dup;
}

/*
 * Reject, in file order, keys with a control character (a path holds keys as
 * they are, and a path in a message or a CSV header must stay on one line),
 * duplicate keys (at the second occurrence) and numbers beyond a double
 * (cJSON makes them infinite).  path holds the node's path (len bytes) and
 * has room for JSON_PATH_MAX; it is restored before returning.
 */
static int tree_check(const cJSON *node, char *path, size_t len, struct err *e)
{
    size_t i = 0, dup = cJSON_IsObject(node) ? first_duplicate(node) : SIZE_MAX;
    char q[QUOTE_MAX * 6 + 8];

    if (cJSON_IsNumber(node) && !isfinite(node->valuedouble)) {
        return fail_at(e, path, "number out of range");
    }
    for (const cJSON *c = node->child; c; c = c->next, i++) {
        int rc = 0;

        if (cJSON_IsObject(node)) {
            if (has_control(c->string)) {
                return fail_at(e, path, "key %s contains a control character",
                               quoted(c->string, q, sizeof q));
            }
            json_path_key(path, JSON_PATH_MAX, path, c->string);
            if (i == dup) {
                rc = fail_at(e, path, "duplicate key %s", quoted(c->string, q, sizeof q));
            }
        } else {
            json_path_index(path, JSON_PATH_MAX, path, i);
        }
        if (rc == 0) {
            rc = tree_check(c, path, strlen(path), e);
        }
        path[len] = '\0';
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

int json_parse(const char *file, const char *text, size_t len, struct cJSON **root, struct err *e)
{
    struct scan sc = {(const unsigned char *)text, len, 0, file, e};
    char path[JSON_PATH_MAX] = "$";
    const char *end = NULL;
    size_t bom;
    cJSON *r;

    *root = NULL;
    if (scan_document(&sc) < 0) {
        return -1;
    }
    /* cJSON skips a byte order mark only when 2 bytes or more follow it: skip it here. */
    bom = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    r = must(cJSON_ParseWithLengthOpts(text + bom, len - bom, &end, 0));
    if (tree_check(r, path, 1, e) < 0) {
        cJSON_Delete(r);
        err_set_file(e, file);
        return -1;
    }
    *root = r;
    return 0;
}

/* The whole file into a buffer the caller frees; -1 with e set on an I/O error. */
static int read_file(const char *file, char **text, size_t *len, struct err *e)
{
    FILE *f = fopen(file, "rb");
    size_t cap = 1 << 16, n = 0;
    char *buf, reason[128];

    if (!f) {
        strerror_r(errno, reason, sizeof reason);
        err_clear(e);
        err_set_file(e, file);
        err_set(e, "cannot open: %s", reason);
        return -1;
    }
    buf = xmalloc(cap);
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) {
            break;
        }
        cap *= 2;
        buf = xrealloc(buf, cap);
    }
    if (ferror(f)) {
        strerror_r(errno, reason, sizeof reason);
        err_clear(e);
        err_set_file(e, file);
        err_set(e, "cannot read: %s", reason);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    *text = buf;
    *len = n;
    return 0;
}

int json_load_file(const char *file, struct cJSON **root, struct err *e)
{
    char *text;
    size_t len;
    int rc;

    *root = NULL;
    if (read_file(file, &text, &len, e) < 0) {
        return -1;
    }
    rc = json_parse(file, text, len, root, e);
    free(text);
    return rc;
}

void json_free(struct cJSON *root)
{
    cJSON_Delete(root);
}

struct cJSON *json_dup(const struct cJSON *root)
{
    return root ? must(cJSON_Duplicate(root, 1)) : NULL;
}

void json_root(const struct cJSON *root, struct json_at *at)
{
    at->node = root;
    snprintf(at->path, sizeof at->path, "$");
}

char *json_print(const struct cJSON *value)
{
    char *s = cJSON_PrintUnformatted(value);

    if (!s) {
        must(NULL);
    }
    return s;
}

struct cJSON *json_value_from_arg(const char *text)
{
    struct err e;
    cJSON *v;

    if (json_parse("", text, strlen(text), &v, &e) == 0) {
        return v;
    }
    return must(cJSON_CreateString(text));
}

/* ---- navigation ------------------------------------------------------ */

bool json_is_object(const struct json_at *at)
{
    return cJSON_IsObject(at->node);
}

bool json_is_array(const struct json_at *at)
{
    return cJSON_IsArray(at->node);
}

bool json_is_string(const struct json_at *at)
{
    return cJSON_IsString(at->node);
}

bool json_is_number(const struct json_at *at)
{
    return cJSON_IsNumber(at->node);
}

bool json_is_bool(const struct json_at *at)
{
    return cJSON_IsBool(at->node);
}

bool json_is_null(const struct json_at *at)
{
    return cJSON_IsNull(at->node);
}

const char *json_type_name(const struct json_at *at)
{
    const cJSON *v = at->node;

    if (cJSON_IsObject(v)) {
        return "object";
    } else if (cJSON_IsArray(v)) {
        return "array";
    } else if (cJSON_IsString(v)) {
        return "string";
    } else if (cJSON_IsNumber(v)) {
        return "number";
    } else if (cJSON_IsBool(v)) {
        return "boolean";
    }
    assert(cJSON_IsNull(v));
    return "null";
}

int json_get(const struct json_at *obj, const char *key, struct json_at *out)
{
    const cJSON *v;

    assert(cJSON_IsObject(obj->node));
    v = cJSON_GetObjectItemCaseSensitive(obj->node, key);
    if (!v) {
        return 0;
    }
    json_path_key(out->path, sizeof out->path, obj->path, key);
    out->node = v;
    return 1;
}

size_t json_size(const struct json_at *at)
{
    size_t n = 0;

    if (cJSON_IsObject(at->node) || cJSON_IsArray(at->node)) {
        for (const cJSON *c = at->node->child; c; c = c->next) {
            n++;
        }
    }
    return n;
}

void json_child(const struct json_at *at, size_t i, struct json_at *out, const char **key)
{
    const cJSON *c;
    size_t k = 0;

    assert(cJSON_IsObject(at->node) || cJSON_IsArray(at->node));
    for (c = at->node->child; c && k < i; c = c->next) {
        k++;
    }
    assert(c != NULL);
    if (cJSON_IsObject(at->node)) {
        json_path_key(out->path, sizeof out->path, at->path, c->string);
    } else {
        json_path_index(out->path, sizeof out->path, at->path, i);
    }
    if (key) {
        *key = cJSON_IsObject(at->node) ? c->string : NULL;
    }
    out->node = c;
}

static bool in_list(const char *s, const char *const *names)
{
    for (size_t i = 0; names[i]; i++) {
        if (strcmp(s, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

int json_check_keys(const struct json_at *obj, const char *const *allowed, struct err *e)
{
    char msg[ERR_MSG_MAX], path[JSON_PATH_MAX];
    struct sbuf sb;

    assert(cJSON_IsObject(obj->node));
    for (const cJSON *c = obj->node->child; c; c = c->next) {
        if (in_list(c->string, allowed)) {
            continue;
        }
        sb_init(&sb, msg, sizeof msg);
        sb_addf(&sb, "unknown key ");
        sb_quote(&sb, c->string);
        if (!allowed[0]) {
            sb_addf(&sb, " (no keys are allowed here)");
        } else {
            sb_addf(&sb, allowed[1] ? " (expected one of " : " (expected ");
            sb_names(&sb, allowed, ", ");
            sb_addf(&sb, ")");
        }
        json_path_key(path, sizeof path, obj->path, c->string);
        return fail_msg(e, path, msg);
    }
    return 0;
}

int json_expect_object(const struct json_at *at, struct err *e)
{
    return cJSON_IsObject(at->node) ? 0 : fail_type(at, "an object", e);
}

int json_expect_array(const struct json_at *at, struct err *e)
{
    return cJSON_IsArray(at->node) ? 0 : fail_type(at, "an array", e);
}

/* ---- typed getters --------------------------------------------------- */

/* "must be an integer in [lo, hi], got v" (or ">= lo", "<= hi", nothing for the full range). */
static int fail_int(const struct json_at *at, int64_t lo, int64_t hi, double v, struct err *e)
{
    char msg[ERR_MSG_MAX];
    struct sbuf sb;

    sb_init(&sb, msg, sizeof msg);
    sb_addf(&sb, "must be an integer");
    if (lo > INT64_MIN && hi < INT64_MAX) {
        sb_addf(&sb, " in [%" PRId64 ", %" PRId64 "]", lo, hi);
    } else if (lo > INT64_MIN) {
        sb_addf(&sb, " >= %" PRId64, lo);
    } else if (hi < INT64_MAX) {
        sb_addf(&sb, " <= %" PRId64, hi);
    }
    sb_addf(&sb, ", got ");
    sb_number(&sb, v);
    return fail_msg(e, at->path, msg);
}

int json_int(const struct json_at *at, int64_t lo, int64_t hi, int64_t *out, struct err *e)
{
    double v;

    assert(lo <= hi);
    if (!cJSON_IsNumber(at->node)) {
        return fail_type(at, "an integer", e);
    }
    v = at->node->valuedouble;
    /* Compare as a double first: converting one beyond int64_t is undefined. */
    if (v >= -0x1p63 && v < 0x1p63 && v == floor(v)) {
        int64_t n = (int64_t)v;

        if (n >= lo && n <= hi) {
            *out = n;
            return 0;
        }
    }
    return fail_int(at, lo, hi, v, e);
}

int json_double(const struct json_at *at, double lo, double hi, double *out, struct err *e)
{
    char msg[ERR_MSG_MAX];
    struct sbuf sb;
    double v;

    assert(lo <= hi);
    if (!cJSON_IsNumber(at->node)) {
        return fail_type(at, "a number", e);
    }
    v = at->node->valuedouble;
    if (v >= lo && v <= hi) {
        *out = v;
        return 0;
    }
    sb_init(&sb, msg, sizeof msg);
    sb_addf(&sb, "must be a number");
    if (isfinite(lo) && isfinite(hi)) {
        sb_addf(&sb, " in [");
        sb_number(&sb, lo);
        sb_addf(&sb, ", ");
        sb_number(&sb, hi);
        sb_addf(&sb, "]");
    } else if (isfinite(lo) || isfinite(hi)) {
        sb_addf(&sb, isfinite(lo) ? " >= " : " <= ");
        sb_number(&sb, isfinite(lo) ? lo : hi);
    }
    sb_addf(&sb, ", got ");
    sb_number(&sb, v);
    return fail_msg(e, at->path, msg);
}

int json_bool(const struct json_at *at, bool *out, struct err *e)
{
    if (!cJSON_IsBool(at->node)) {
        return fail_type(at, "true or false", e);
    }
    *out = cJSON_IsTrue(at->node);
    return 0;
}

int json_string(const struct json_at *at, const char **out, struct err *e)
{
    if (!cJSON_IsString(at->node)) {
        return fail_type(at, "a string", e);
    }
    *out = at->node->valuestring;
    return 0;
}

int json_enum(const struct json_at *at, const char *const *names, int *out, struct err *e)
{
    char msg[ERR_MSG_MAX];
    struct sbuf sb;

    sb_init(&sb, msg, sizeof msg);
    if (!cJSON_IsString(at->node)) {
        sb_names(&sb, names, " or ");
        return fail_type(at, msg, e);
    }
    for (int i = 0; names[i]; i++) {
        if (strcmp(at->node->valuestring, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    sb_addf(&sb, "unknown value ");
    sb_quote(&sb, at->node->valuestring);
    sb_addf(&sb, " (expected ");
    sb_names(&sb, names, " or ");
    sb_addf(&sb, ")");
    return fail_msg(e, at->path, msg);
}

/* ---- durations ------------------------------------------------------- */

/* Seconds to sim_time; -1 where sim_time_from_s would saturate (9.2e18 ns, about 291 years). */
static int seconds_to_time(double sec, sim_time *out)
{
    if (!(fabs(sec) < 9.2e9)) {
        return -1;
    }
    *out = sim_time_from_s(sec);
    return 0;
}

/* s[0..n) is a non-negative decimal: digits, optionally '.' and digits. */
static bool is_decimal(const char *s, size_t n)
{
    const char *dot = memchr(s, '.', n);

    if (n == 0 || !is_digit((unsigned char)s[0]) || !is_digit((unsigned char)s[n - 1])) {
        return false;
    }
    return !dot || !memchr(dot + 1, '.', n - (size_t)(dot + 1 - s));
}

static const struct unit *find_unit(const char *name)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(name, units[i].name) == 0) {
            return &units[i];
        }
    }
    return NULL;
}

int json_parse_duration(const char *s, sim_time *out, struct err *e)
{
    size_t n = strspn(s, "0123456789."), space = strspn(s + n, " ");
    const struct unit *u = find_unit(s + n + space);
    char q[QUOTE_MAX * 2 + 8], num[64];
    struct sbuf sb;

    sb_init(&sb, q, sizeof q);
    sb_quote(&sb, s);
    if (s[0] == '-' && is_digit((unsigned char)s[1])) {
        err_set(e, "invalid duration %s (must not be negative)", q);
    } else if (!is_decimal(s, n)) {
        err_set(e, "invalid duration %s (expected a number and a unit, e.g. \"250ms\")", q);
    } else if (s[n] == '\0') {
        err_set(e, "missing unit in %s (expected " UNIT_NAMES ")", q);
    } else if (!u) {
        err_set(e, "unknown unit in %s (expected " UNIT_NAMES ")", q);
    } else if (space > 0) {
        err_set(e, "invalid duration %s (no space between number and unit)", q);
    } else if (n >= sizeof num) {
        err_set(e, "invalid duration %s (too many digits)", q);
    } else {
        memcpy(num, s, n);
        num[n] = '\0';
        if (seconds_to_time(strtod(num, NULL) * u->s, out) == 0) {
            return 0;
        }
        err_set(e, "duration %s is too large (at most about 291 years)", q);
    }
    return -1;
}

/* A bare number as a duration, in the unit bare gives. */
static int duration_bare(const struct json_at *at, enum json_bare bare, sim_time *out,
                         struct err *e)
{
    double v = at->node->valuedouble;
    char msg[ERR_MSG_MAX], num[40];
    struct sbuf sb;

    sb_init(&sb, num, sizeof num);
    sb_number(&sb, v);
    if (bare == JSON_BARE_NONE) {
        return fail_at(e, at->path, "bare number %s needs a unit (e.g. \"%sms\")", num, num);
    }
    if (seconds_to_time(bare == JSON_BARE_MS ? v * 1e-3 : v, out) < 0) {
        sb_init(&sb, msg, sizeof msg);
        sb_addf(&sb, "duration %s is too large (at most about 291 years)", num);
        return fail_msg(e, at->path, msg);
    }
    return 0;
}

/* "must be at least \"1ms\", got \"0.5ms\"" (or at most). */
static int fail_duration_range(const struct json_at *at, sim_time bound, bool below, struct err *e)
{
    char msg[ERR_MSG_MAX], b[64];
    struct sbuf sb;

    dist_format_duration(bound, b, sizeof b);
    sb_init(&sb, msg, sizeof msg);
    sb_addf(&sb, "must be at %s \"%s\", got ", below ? "least" : "most", b);
    if (cJSON_IsString(at->node)) {
        sb_quote(&sb, at->node->valuestring);
    } else {
        sb_number(&sb, at->node->valuedouble);
    }
    return fail_msg(e, at->path, msg);
}

int json_duration(const struct json_at *at, enum json_bare bare, sim_time lo, sim_time hi,
                  sim_time *out, struct err *e)
{
    const char *const what[] = {
        [JSON_BARE_NONE] = "a duration such as \"250ms\"",
        [JSON_BARE_MS] = "a duration such as \"250ms\" or a number of milliseconds",
        [JSON_BARE_S] = "a duration such as \"250ms\" or a number of seconds",
    };
    char msg[ERR_MSG_MAX];
    sim_time t = 0;

    assert(lo <= hi && bare <= JSON_BARE_S);
    if (cJSON_IsString(at->node)) {
        if (json_parse_duration(at->node->valuestring, &t, e) < 0) {
            snprintf(msg, sizeof msg, "%s", e->msg);
            return fail_msg(e, at->path, msg);
        }
    } else if (cJSON_IsNumber(at->node)) {
        if (duration_bare(at, bare, &t, e) < 0) {
            return -1;
        }
    } else {
        return fail_type(at, what[bare], e);
    }
    if (t < lo || t > hi) {
        return fail_duration_range(at, t < lo ? lo : hi, t < lo, e);
    }
    *out = t;
    return 0;
}

/* ---- distributions --------------------------------------------------- */

/* Keys of each kind, in the order of enum dist_kind; "dist" is allowed everywhere. */
static const char *const dist_names[] = {"const", "exponential", "uniform", "lognormal",
                                         "gamma", "empirical",   NULL};
static const char *const dist_keys[][6] = {
    [DIST_CONST] = {"dist", "value", NULL},
    [DIST_EXPONENTIAL] = {"dist", "mean", NULL},
    [DIST_UNIFORM] = {"dist", "min", "max", NULL},
    [DIST_LOGNORMAL] = {"dist", "median", "p99", "mean", "cv", NULL},
    [DIST_GAMMA] = {"dist", "mean", "cv", NULL},
    [DIST_EMPIRICAL] = {"dist", "quantiles", "file", NULL},
};

/* A required member of a distribution object: a duration with a unit, or (cv) a number. */
static int dist_param(const struct json_at *obj, const char *kind, const char *key, sim_time *t,
                      double *x, struct err *e)
{
    struct json_at v;

    if (!json_get(obj, key, &v)) {
        return fail_at(e, obj->path, "missing key \"%s\" (required by \"%s\")", key, kind);
    }
    if (x) {
        return json_double(&v, -HUGE_VAL, HUGE_VAL, x, e);
    }
    return json_duration(&v, JSON_BARE_NONE, 0, SIM_TIME_MAX, t, e);
}

/* lognormal: by median and p99, or by mean and cv; anything else names both forms. */
static int dist_lognormal(const struct json_at *obj, struct dist *d, struct err *e)
{
    const char *const keys[] = {"median", "p99", "mean", "cv"};
    const char *got[5] = {NULL};
    char msg[ERR_MSG_MAX];
    struct json_at v;
    struct sbuf sb;
    sim_time a, b;
    double cv;
    int mask = 0, n = 0;

    for (int i = 0; i < 4; i++) {
        if (json_get(obj, keys[i], &v)) {
            mask |= 1 << i;
            got[n++] = keys[i];
        }
    }
    if (mask == 3) {
        return dist_param(obj, "lognormal", "median", &a, NULL, e) ||
                       dist_param(obj, "lognormal", "p99", &b, NULL, e)
                   ? -1
                   : dist_init_lognormal_median_p99(d, a, b, obj->path, e);
    }
    if (mask == 12) {
        return dist_param(obj, "lognormal", "mean", &a, NULL, e) ||
                       dist_param(obj, "lognormal", "cv", NULL, &cv, e)
                   ? -1
                   : dist_init_lognormal_mean_cv(d, a, cv, obj->path, e);
    }
    sb_init(&sb, msg, sizeof msg);
    sb_addf(&sb, "lognormal takes either \"median\" and \"p99\", or \"mean\" and \"cv\"; got ");
    if (n == 0) {
        sb_addf(&sb, "neither");
    } else {
        sb_addf(&sb, n == 1 ? "only " : "");
        sb_names(&sb, got, " and ");
    }
    return fail_msg(e, obj->path, msg);
}

/* One [q, "duration"] row of an inline empirical table. */
static int dist_row(const struct json_at *row, struct dist_point *pt, struct err *e)
{
    struct json_at q, t;
    const char *key;

    if (!cJSON_IsArray(row->node) || json_size(row) != 2) {
        if (cJSON_IsArray(row->node)) {
            return fail_at(e, row->path,
                           "expected a pair [q, \"duration\"], got an array of %zu "
                           "elements",
                           json_size(row));
        }
        return fail_type(row, "a pair [q, \"duration\"]", e);
    }
    json_child(row, 0, &q, &key);
    json_child(row, 1, &t, &key);
    if (json_double(&q, 0.0, 1.0, &pt->q, e) < 0) {
        return -1;
    }
    return json_duration(&t, JSON_BARE_NONE, 0, SIM_TIME_MAX, &pt->at, e);
}

static int dist_quantiles(const struct json_at *tab, const char *path, struct dist *d,
                          struct err *e)
{
    size_t n = json_size(tab), i = 0;
    struct dist_point *pts;
    struct json_at row;
    int rc = 0;

    if (json_expect_array(tab, e) < 0) {
        return -1;
    }
    pts = xcalloc(n, sizeof *pts);
    for (const cJSON *c = tab->node->child; c && rc == 0; c = c->next, i++) {
        row.node = c;
        json_path_index(row.path, sizeof row.path, tab->path, i);
        rc = dist_row(&row, &pts[i], e);
    }
    if (rc == 0) {
        rc = dist_init_empirical(d, pts, n, path, e);
    }
    free(pts);
    return rc;
}

/* An empirical table in a CSV file named relative to base_dir. */
static int dist_file(const struct json_at *f, const char *base_dir, const char *path,
                     struct dist *d, struct err *e)
{
    char full[FILE_NAME_MAX];
    const char *name = NULL;
    size_t n = strlen(base_dir);
    int w;

    if (json_string(f, &name, e) < 0) {
        return -1;
    }
    if (name[0] == '\0') {
        return fail_at(e, f->path, "must not be empty");
    }
    if (name[0] == '/' || n == 0) {
        w = snprintf(full, sizeof full, "%s", name);
    } else {
        w = snprintf(full, sizeof full, "%s%s%s", base_dir, base_dir[n - 1] == '/' ? "" : "/",
                     name);
    }
    if (w < 0 || (size_t)w >= sizeof full) {
        return fail_at(e, f->path, "file name too long");
    }
    return dist_init_empirical_file(d, full, path, e);
}

static int dist_empirical(const struct json_at *obj, const char *base_dir, struct dist *d,
                          struct err *e)
{
    struct json_at tab, file;
    int has_tab = json_get(obj, "quantiles", &tab), has_file = json_get(obj, "file", &file);

    if (has_tab && has_file) {
        return fail_at(e, obj->path, "empirical takes either \"quantiles\" or \"file\", not both");
    }
    if (has_tab) {
        return dist_quantiles(&tab, obj->path, d, e);
    }
    if (has_file) {
        return dist_file(&file, base_dir, obj->path, d, e);
    }
    return fail_at(e, obj->path,
                   "missing key \"quantiles\" or \"file\" (required by \"empirical\")");
}

/* {"dist": KIND, ...} once KIND is known and the keys are checked. */
static int dist_object(const struct json_at *obj, enum dist_kind kind, const char *base_dir,
                       struct dist *d, struct err *e)
{
    const char *name = dist_names[kind];
    sim_time a = 0, b = 0;
    double cv = 0.0;

    switch (kind) {
    case DIST_CONST:
        if (dist_param(obj, name, "value", &a, NULL, e) < 0) {
            return -1;
        }
        dist_init_const(d, a);
        return 0;
    case DIST_EXPONENTIAL:
        return dist_param(obj, name, "mean", &a, NULL, e)
                   ? -1
                   : dist_init_exponential(d, a, obj->path, e);
    case DIST_UNIFORM:
        return dist_param(obj, name, "min", &a, NULL, e) ||
                       dist_param(obj, name, "max", &b, NULL, e)
                   ? -1
                   : dist_init_uniform(d, a, b, obj->path, e);
    case DIST_LOGNORMAL:
        return dist_lognormal(obj, d, e);
    case DIST_GAMMA:
        return dist_param(obj, name, "mean", &a, NULL, e) ||
                       dist_param(obj, name, "cv", NULL, &cv, e)
                   ? -1
                   : dist_init_gamma(d, a, cv, obj->path, e);
    case DIST_EMPIRICAL:
        return dist_empirical(obj, base_dir, d, e);
    }
    assert(false);
    return -1;
}

int json_dist(const struct json_at *at, const char *base_dir, struct dist *d, struct err *e)
{
    char msg[ERR_MSG_MAX];
    struct json_at kind_at;
    struct sbuf sb;
    sim_time t = 0;
    int kind;

    if (cJSON_IsString(at->node) || cJSON_IsNumber(at->node)) {
        if (json_duration(at, JSON_BARE_NONE, 0, SIM_TIME_MAX, &t, e) < 0) {
            return -1;
        }
        dist_init_const(d, t);
        return 0;
    }
    if (!cJSON_IsObject(at->node)) {
        return fail_type(at, "a duration such as \"250ms\" or a distribution {\"dist\": ...}", e);
    }
    if (!json_get(at, "dist", &kind_at)) {
        sb_init(&sb, msg, sizeof msg);
        sb_addf(&sb, "missing key \"dist\" (expected ");
        sb_names(&sb, dist_names, " or ");
        sb_addf(&sb, ")");
        return fail_msg(e, at->path, msg);
    }
    if (json_enum(&kind_at, dist_names, &kind, e) < 0 ||
        json_check_keys(at, dist_keys[kind], e) < 0) {
        return -1;
    }
    return dist_object(at, (enum dist_kind)kind, base_dir, d, e);
}

/* ---- paths ----------------------------------------------------------- */

/* Copy base into dst (they may be the same buffer); returns its length. */
static size_t path_base(char *dst, size_t size, const char *base)
{
    size_t n = strlen(base);

    assert(size > 0);
    if (n >= size) {
        n = size - 1;
    }
    memmove(dst, base, n);
    dst[n] = '\0';
    return n;
}

void json_path_key(char *dst, size_t size, const char *base, const char *key)
{
    size_t n = path_base(dst, size, base);

    if (n + 1 < size) {
        dst[n++] = '.';
    }
    /* "\." "\[" "\\" keep a key's own dots, brackets and backslashes apart from the syntax. */
    for (const char *k = key; *k && n + 1 < size; k++) {
        if (*k == '.' || *k == '[' || *k == '\\') {
            if (n + 2 >= size) {
                break;
            }
            dst[n++] = '\\';
        }
        dst[n++] = *k;
    }
    dst[n] = '\0';
}

void json_path_index(char *dst, size_t size, const char *base, size_t i)
{
    size_t n = path_base(dst, size, base);

    snprintf(dst + n, size - n, "[%zu]", i);
}

/* One step of a path written in sweep, variants or --set. */
struct seg {
    const char *key; /* decoded member name, or NULL for an array index */
    size_t index;    /* the index when key is NULL */
    size_t end;      /* offset just past this step in the path text, for messages */
};

static int path_malformed(const char *path, const char *why, struct err *e)
{
    char msg[ERR_MSG_MAX];
    struct sbuf sb;

    sb_init(&sb, msg, sizeof msg);
    sb_addf(&sb, "malformed path ");
    sb_quote(&sb, path);
    sb_addf(&sb, " (%s)", why);
    err_set(e, "%s", msg);
    return -1;
}

/* A key at path[*p], decoded into *out (advanced past its NUL). */
static int path_key(const char *path, size_t *p, char **out, struct err *e)
{
    char *k = *out;

    while (path[*p] && path[*p] != '.' && path[*p] != '[') {
        if (path[*p] == '\\') {
            if (!path[*p + 1]) {
                return path_malformed(path, "ends with a lone backslash", e);
            }
            (*p)++;
        }
        if ((unsigned char)path[*p] < 0x20 || path[*p] == 0x7f) {
            return path_malformed(path, "control character in a key", e);
        }
        *k++ = path[(*p)++];
    }
    if (k == *out) {
        return path_malformed(path, "empty key", e);
    }
    *k++ = '\0';
    *out = k;
    return 0;
}

/* An index "[digits]" at path[*p]. */
static int path_index(const char *path, size_t *p, size_t *index, struct err *e)
{
    size_t v = 0, start = ++*p;

    while (is_digit((unsigned char)path[*p])) {
        if (v > (SIZE_MAX - 9) / 10) {
            return path_malformed(path, "index too large", e);
        }
        v = v * 10 + (size_t)(path[(*p)++] - '0');
    }
    if (*p == start || path[*p] != ']') {
        return path_malformed(path, "expected an index such as [0]", e);
    }
    (*p)++;
    *index = v;
    return 0;
}

/*
 * Split path into steps: key ("[" index "]")* ("." key ("[" index "]")*)*, an
 * optional leading "$." as in messages.  keys has room for 2 * strlen(path) + 2.
 */
static int path_split(const char *path, char *keys, struct seg *segs, size_t *nseg, struct err *e)
{
    size_t p = strncmp(path, "$.", 2) == 0 ? 2 : 0, n = 0;

    for (;;) {
        segs[n].key = keys;
        if (path_key(path, &p, &keys, e) < 0) {
            return -1;
        }
        segs[n++].end = p;
        while (path[p] == '[') {
            segs[n].key = NULL;
            if (path_index(path, &p, &segs[n].index, e) < 0) {
                return -1;
            }
            segs[n++].end = p;
        }
        if (path[p] == '\0') {
            *nseg = n;
            return 0;
        }
        if (path[p] != '.') {
            return path_malformed(path, "expected '.' or '[' after ']'", e);
        }
        p++;
    }
}

/* "a string", "an object", "null": the type of v with its article. */
static const char *type_with_article(const cJSON *v)
{
    if (cJSON_IsObject(v)) {
        return "an object";
    } else if (cJSON_IsArray(v)) {
        return "an array";
    } else if (cJSON_IsString(v)) {
        return "a string";
    } else if (cJSON_IsNumber(v)) {
        return "a number";
    } else if (cJSON_IsBool(v)) {
        return "a boolean";
    }
    return "null";
}

/* Store a copy of value as member key of obj (replacing it) or as element i of an array. */
static void path_store(cJSON *parent, const struct seg *s, cJSON *old, const cJSON *value)
{
    cJSON *copy = must(cJSON_Duplicate(value, 1));

    if (s->key) {
        if (old) {
            must(cJSON_ReplaceItemInObjectCaseSensitive(parent, s->key, copy) ? copy : NULL);
        } else {
            must(cJSON_AddItemToObject(parent, s->key, copy) ? copy : NULL);
        }
        return;
    }
    cJSON_free(copy->string);
    copy->string = NULL;
    must(cJSON_ReplaceItemInArray(parent, (int)s->index, copy) ? copy : NULL);
}

/* The step into cur that segs[i] names, or an error; *next is NULL for a missing key. */
static int path_step(const char *path, const struct seg *segs, size_t i, cJSON *cur, cJSON **next,
                     struct err *e)
{
    int before = i > 0 ? (int)segs[i - 1].end : 0;
    int size;

    if (segs[i].key) {
        if (!cJSON_IsObject(cur)) {
            err_set(e, "\"%.*s\" is %s, not an object", before, path, type_with_article(cur));
            return -1;
        }
        *next = cJSON_GetObjectItemCaseSensitive(cur, segs[i].key);
        return 0;
    }
    if (!cJSON_IsArray(cur)) {
        err_set(e, "\"%.*s\" is %s, not an array", before, path, type_with_article(cur));
        return -1;
    }
    size = cJSON_GetArraySize(cur);
    if (segs[i].index >= (size_t)size) {
        err_set(e, "index %zu out of range: \"%.*s\" has %d element%s", segs[i].index, before, path,
                size, size == 1 ? "" : "s");
        return -1;
    }
    *next = cJSON_GetArrayItem(cur, (int)segs[i].index);
    return 0;
}

/* Walk and store; missing objects on the way are created once nothing can fail. */
static int path_apply(cJSON *root, const char *path, const struct seg *segs, size_t n,
                      const cJSON *value, struct err *e)
{
    cJSON *cur = root, *next = NULL;
    size_t i, j;

    for (i = 0; i < n; i++, cur = next) {
        if (path_step(path, segs, i, cur, &next, e) < 0) {
            return -1;
        }
        if (i == n - 1 || !next) {
            break;
        }
    }
    if (i == n - 1) {
        path_store(cur, &segs[i], next, value);
        return 0;
    }
    for (j = i + 1; j < n; j++) {
        if (!segs[j].key) {
            err_set(e, "\"%.*s\" does not exist (only an existing array can be indexed)",
                    (int)segs[j - 1].end, path);
            return -1;
        }
    }
    for (; i < n - 1; i++) {
        next = must(cJSON_CreateObject());
        must(cJSON_AddItemToObject(cur, segs[i].key, next) ? next : NULL);
        cur = next;
    }
    path_store(cur, &segs[n - 1], NULL, value);
    return 0;
}

int json_set_path(struct cJSON *root, const char *path, const struct cJSON *value, struct err *e)
{
    size_t len = strlen(path), n = 0;
    struct seg *segs = xcalloc(len + 1, sizeof *segs);
    char *keys = xmalloc(2 * len + 2);
    int rc;

    assert(cJSON_IsObject(root));
    rc = path_split(path, keys, segs, &n, e);
    if (rc == 0) {
        rc = path_apply(root, path, segs, n, value, e);
    }
    free(keys);
    free(segs);
    return rc;
}

void json_remove_key(struct cJSON *root, const char *key)
{
    cJSON_DeleteItemFromObjectCaseSensitive(root, key);
}

/* ---- sources of resolved values (summary.json) ---- */

struct sources_ctx {
    const char *const *paths;   /* override paths as written */
    const char *const *sources; /* their sources */
    size_t n;
    cJSON *out; /* {"leaf.path": "source"} */
};

/* Does override path p cover leaf (p equals it or is an ancestor of it)? */
static bool path_covers(const char *p, const char *leaf)
{
    size_t n = strlen(p);

    return strncmp(p, leaf, n) == 0 && (leaf[n] == '\0' || leaf[n] == '.' || leaf[n] == '[');
}

static void sources_leaf(struct sources_ctx *c, const char *leaf, const cJSON *file_node,
                         bool in_file)
{
    const char *src = in_file || file_node ? "file" : "default";

    for (size_t i = c->n; i-- > 0;) {
        if (path_covers(c->paths[i], leaf)) {
            src = c->sources[i];
            break;
        }
    }
    must(cJSON_AddItemToObject(c->out, leaf, must(cJSON_CreateString(src))) ? c->out : NULL);
}

/*
 * Walk resolved; file_node is the same place in the file (NULL if absent);
 * in_file is true once the file gave a scalar shorthand above (a duration for
 * a distribution): everything below it came from the file.
 */
static void sources_walk(struct sources_ctx *c, const cJSON *node, const char *path,
                         const cJSON *file_node, bool in_file)
{
    char sub[JSON_PATH_MAX];
    size_t i = 0;

    if (!cJSON_IsObject(node) && !cJSON_IsArray(node)) {
        sources_leaf(c, path[0] == '$' ? path + 2 : path, file_node, in_file);
        return;
    }
    /* a scalar shorthand, or a distribution the file wrote as {"dist": ...}: its derived
     * parameters came from the file too */
    in_file = in_file || (file_node && !cJSON_IsObject(file_node) && !cJSON_IsArray(file_node)) ||
              (cJSON_IsObject(file_node) && cJSON_GetObjectItemCaseSensitive(file_node, "dist"));
    for (const cJSON *ch = node->child; ch; ch = ch->next, i++) {
        const cJSON *f = NULL;

        if (cJSON_IsObject(node)) {
            json_path_key(sub, sizeof sub, path, ch->string);
            f = cJSON_IsObject(file_node) ? cJSON_GetObjectItemCaseSensitive(file_node, ch->string)
                                          : NULL;
        } else {
            json_path_index(sub, sizeof sub, path, i);
            f = cJSON_IsArray(file_node) ? cJSON_GetArrayItem(file_node, (int)i) : NULL;
        }
        sources_walk(c, ch, sub, f, in_file);
    }
}

struct cJSON *json_sources(const struct cJSON *resolved, const struct cJSON *file_doc,
                           const char *const *paths, const char *const *sources, size_t n)
{
    struct sources_ctx c = {paths, sources, n, must(cJSON_CreateObject())};

    sources_walk(&c, resolved, "$", file_doc, false);
    return c.out;
}

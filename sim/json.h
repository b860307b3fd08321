/*
 * json.h - the generic experiment-file reader: the only sim/ code that
 * touches cJSON (DESIGN.md §1).  models/config.c maps key names to config
 * structs through these getters and never calls cJSON for values itself.
 *
 * - json_doc_load/parse: the whole text must be valid UTF-8 and one JSON
 *   value; a syntax error fills err with FILE, LINE and COL (1-based, COL
 *   counted in bytes) and a message naming what was expected.  Duplicate keys
 *   in any object are an error (cJSON accepts them silently): the message
 *   names the JSON path of the second occurrence.
 * - struct json_at is a value and its JSON path, so every getter can put
 *   the path into its error: "$.pooler.pool_mode: unknown value \"tx\" ...".
 *   Paths follow DESIGN.md §4: "$.a.b.c", array elements "$.a.b[2]", a dot
 *   inside a key written "\.".
 * - Overrides (sweep, variants, --set) are applied with json_set_path on a
 *   copy of the tree.
 */
#ifndef POOLSIM_SIM_JSON_H
#define POOLSIM_SIM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/dist.h"
#include "sim/err.h"
#include "sim/simtime.h"

struct cJSON;

#define JSON_PATH_MAX 400

struct json_at {
    const struct cJSON *node; /* borrowed from the document */
    char path[JSON_PATH_MAX]; /* "$" for the root */
};

/* Units a bare number may carry where a duration is expected. */
enum json_bare {
    JSON_BARE_NONE, /* a unit is required: "5ms" */
    JSON_BARE_MS,   /* a bare number is milliseconds */
    JSON_BARE_S,    /* a bare number is seconds */
};

/*
 * Read and parse file.  On success *root is a tree the caller owns (free with
 * json_free).  On failure returns -1 with e->file set to file.
 */
int json_load_file(const char *file, struct cJSON **root, struct err *e);

/* Parse len bytes of text (need not be NUL-terminated); file only names the input in errors. */
int json_parse(const char *file, const char *text, size_t len, struct cJSON **root, struct err *e);

/* Free a tree from json_load_file/json_parse/json_dup.  NULL is a no-op. */
void json_free(struct cJSON *root);

/* Deep copy.  Caller owns the result. */
struct cJSON *json_dup(const struct cJSON *root);

/* The root of a tree as a json_at with path "$". */
void json_root(const struct cJSON *root, struct json_at *at);

/* Type predicates. */
bool json_is_object(const struct json_at *at);
bool json_is_array(const struct json_at *at);
bool json_is_string(const struct json_at *at);
bool json_is_number(const struct json_at *at);
bool json_is_bool(const struct json_at *at);
bool json_is_null(const struct json_at *at);

/* The JSON type name for messages: "object", "array", "string", "number", "boolean", "null". */
const char *json_type_name(const struct json_at *at);

/*
 * Member key of object obj.  Returns 1 and fills out if present, 0 if absent.
 * obj must be an object (asserts).
 */
int json_get(const struct json_at *obj, const char *key, struct json_at *out);

/* Number of members (object) or elements (array); 0 for scalars. */
size_t json_size(const struct json_at *at);

/*
 * The i-th member of an object (in file order) or element of an array.
 * *key (unless key is NULL) gets the member name (borrowed; NULL for arrays).
 */
void json_child(const struct json_at *at, size_t i, struct json_at *out, const char **key);

/*
 * Reject any member of obj whose key is not in allowed (NULL-terminated).
 * Message: unknown key "pool_sise" (expected one of "a", "b", ...)
 * at the member's own path.
 */
int json_check_keys(const struct json_at *obj, const char *const *allowed, struct err *e);

/* Require a type; message: expected an object, got a string. */
int json_expect_object(const struct json_at *at, struct err *e);
int json_expect_array(const struct json_at *at, struct err *e);

/* Typed getters: 0 or -1 with e set at at->path, naming the bad value and the range. */
int json_int(const struct json_at *at, int64_t lo, int64_t hi, int64_t *out, struct err *e);
int json_double(const struct json_at *at, double lo, double hi, double *out, struct err *e);
int json_bool(const struct json_at *at, bool *out, struct err *e);
/* *out is borrowed from the tree. */
int json_string(const struct json_at *at, const char **out, struct err *e);
/* One of names (NULL-terminated); *out is the index. */
int json_enum(const struct json_at *at, const char *const *names, int *out, struct err *e);

/*
 * A duration: a string with a unit ("250us", "20ms", "10s", "2m", "1h"; also
 * "ns"), or a bare number when bare allows it.  Must lie in [lo, hi].
 */
int json_duration(const struct json_at *at, enum json_bare bare, sim_time lo, sim_time hi,
                  sim_time *out, struct err *e);

/*
 * A distribution of durations (DESIGN.md §4): a duration string is a
 * constant; otherwise {"dist": ...}.  Relative "file" names are resolved
 * against base_dir (borrowed; "" for the current directory).  d must be
 * dist_fini'd by the caller.
 */
int json_dist(const struct json_at *at, const char *base_dir, struct dist *d, struct err *e);

/*
 * Parse a duration string such as "250us" (no JSON involved).  Returns 0, or
 * -1 with e's message set (path untouched).
 */
int json_parse_duration(const char *s, sim_time *out, struct err *e);

/* Append ".key" (dots in key escaped as "\.") or "[i]" to a path. */
void json_path_key(char *dst, size_t size, const char *base, const char *key);
void json_path_index(char *dst, size_t size, const char *base, size_t i);

/*
 * Set the value at a dotted path (without "$.", as written in sweep,
 * variants and --set: "pooler.default_pool_size", "app.endpoints.a\.b",
 * "x.y[2]") in root, which must be an object.  Missing intermediate objects
 * are created; array indices must exist.  value is copied.  Returns 0, or -1
 * with e's message set (e.g. the path crosses a non-object).
 */
int json_set_path(struct cJSON *root, const char *path, const struct cJSON *value, struct err *e);

/*
 * Parse a --set value: JSON if text is valid JSON, else the text as a string.
 * Caller owns the result (json_free).
 */
struct cJSON *json_value_from_arg(const char *text);

/* Remove member key from object root if present (and free it). */
void json_remove_key(struct cJSON *root, const char *key);

/*
 * Where each resolved value came from, for summary.json: an object mapping
 * every leaf path of resolved ("pooler.default_pool_size", "a.b[0].c") to the
 * source of the last override covering it (paths[i] equal to the leaf or an
 * ancestor of it; sources[i] names it), else "file" if the file doc has it
 * (or a shorthand above it, such as a duration for a distribution), else
 * "default".  All arguments borrowed; caller owns the result.
 */
struct cJSON *json_sources(const struct cJSON *resolved, const struct cJSON *file_doc,
                           const char *const *paths, const char *const *sources, size_t n);

/* Print a value compactly (for CSV cells and messages).  Caller frees with free(). */
char *json_print(const struct cJSON *value);

#endif

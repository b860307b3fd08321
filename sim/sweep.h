/*
 * sweep.h - from one experiment document to its points (DESIGN.md §4
 * "Sweeps and variants").
 *
 * Precedence, lowest first: default (applied later by the model), file,
 * variant, sweep, --set.  `variants` (named override sets, in file order)
 * form the outermost axis; `sweep` is the cartesian product of its keys in
 * the order written, the last varying fastest; a key joining paths with "|"
 * zips them (its values are arrays of as many values as paths).  Each point
 * gets a copy of the document with its overrides applied and the keys
 * "sweep" and "variants" removed.
 */
#ifndef POOLSIM_SIM_SWEEP_H
#define POOLSIM_SIM_SWEEP_H

#include <stddef.h>

#include "sim/err.h"

struct cJSON;

/* SWEEP_SRC_URL: set from the point's database_url, below the file (models/dburl.h). */
enum sweep_source {
    SWEEP_SRC_FILE,
    SWEEP_SRC_VARIANT,
    SWEEP_SRC_SWEEP,
    SWEEP_SRC_SET,
    SWEEP_SRC_URL
};

struct sweep_override {
    char *path;               /* dotted path as written (owned) */
    enum sweep_source source; /* which layer set it */
};

struct sweep_point {
    size_t index;      /* 0-based, run order */
    char *variant;     /* variant name (owned), NULL without variants */
    char **values;     /* per swept column: the value as written, compact JSON (owned) */
    struct cJSON *doc; /* resolved document (owned) */
    struct sweep_override *overrides; /* every override applied, in order (owned) */
    size_t noverrides;
    char *label; /* `variant "x", workload.users=50` for messages (owned) */
};

struct sweep_set {
    const char *path;  /* --set PATH=VALUE, borrowed */
    const char *value; /* read as JSON, else as a string */
};

struct sweep_plan {
    size_t npoints;
    struct sweep_point *points; /* owned */
    int has_variants;           /* a "variant" column is written */
    size_t ncolumns;            /* swept paths (zipped keys contribute each of their paths) */
    char **columns;             /* swept paths as written (owned) */
    int *column_is_duration;    /* every value a duration string: also write <path>_ms */
    struct cJSON *file_doc;     /* the document as read, without overrides (owned) */
};

/*
 * Expand root (borrowed) and the --set list into plan.  Errors (e.g. an
 * empty sweep list, a malformed path, a variant that is not an object) fill
 * e with the JSON path of the offending key and return -1.
 */
int sweep_expand(const struct cJSON *root, const struct sweep_set *sets, size_t nsets,
                 struct sweep_plan *plan, struct err *e);

void sweep_plan_fini(struct sweep_plan *plan);

/* The name of a source as summary.json and `poolsim explain` print it: "file", "--set", ... */
const char *sweep_source_name(enum sweep_source s);

/*
 * Where each value of point p's resolved configuration (borrowed) came from:
 * {"leaf.path": "default" | "file" | "variant" | "sweep" | "--set"} (see
 * json_sources).  Caller owns the result.
 */
struct cJSON *sweep_sources(const struct sweep_plan *plan, const struct sweep_point *p,
                            const struct cJSON *resolved);

/*
 * Name point i in front of a model's error about it (DESIGN.md §4), keeping
 * its path: "FILE: point 7 (variant \"tx\", workload.users=50): $.a.b: ...".
 * A plan of one point without variants or sweep adds nothing but the file.
 */
void sweep_point_error(const struct sweep_plan *plan, size_t i, const char *file, struct err *e);

#endif

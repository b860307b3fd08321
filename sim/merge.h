/*
 * merge.h - `poolsim merge`: join the outputs of `poolsim run --shard K/N`
 * into the files one unsharded run writes (DESIGN.md §2 "Runner", §5, §6).
 *
 * Generic: merge knows the runner's output layout, not the models.  Every
 * CSV file of a results directory whose first column is "point" (points.csv,
 * replications.csv, histograms.csv, and any such file a later version adds)
 * is joined by that column: the header once, then each point's rows in
 * point order, copied byte for byte, so the merged CSV files are
 * byte-identical to an unsharded run's.  summary.json is joined the same
 * way (its "points" elements in point order), with "shard" set to 1 of 1,
 * "wall_time_s" the sum over the shards and "partial" true when any shard
 * was partial: it then differs from an unsharded run's only in wall time.
 *
 * What must hold, else nothing is written: every directory holds
 * summary.json and the same set of mergeable CSV files with the same
 * headers; every summary.json has the same poolsim_version and "shard"
 * points_total and fingerprint (same file, seed and --set); every point
 * appears in one directory only, in the shard its record names; and every
 * point of the run is present, unless the shard that holds it was partial
 * (interrupted), in which case the merged output is partial too.
 */
#ifndef POOLSIM_SIM_MERGE_H
#define POOLSIM_SIM_MERGE_H

#include <stddef.h>

#include "sim/err.h"

/*
 * Merge the results directories dirs[0..ndirs-1] (borrowed, ndirs >= 1) into
 * out_dir (created if missing; files written under temporary names and
 * renamed when all are written).  Returns 0; 1 when the inputs do not form
 * one run (e names the file, and the point when one is at fault); 2 for an
 * I/O error (a directory or file that cannot be read or written).
 */
int merge_dirs(const char *const *dirs, size_t ndirs, const char *out_dir, struct err *e);

/*
 * The command line after "poolsim merge": DIR... --out DIR.  Returns the
 * exit status: 0, 1 or 2 as merge_dirs, 2 for a usage error; e is set
 * whenever it is not 0.
 */
int merge_command(int argc, char **argv, struct err *e);

/*
 * Parse a --shard value "K/N" (1 <= K <= N, decimal, nothing else).
 * Returns 0, or -1 with e's message set ("--shard needs K/N ...").
 */
int merge_parse_shard(const char *s, unsigned *k, unsigned *n, struct err *e);

#endif

#!/usr/bin/env bash
# Scale-out (DESIGN.md §5, §6): `run --shard K/N` then `merge` gives byte-identical CSV files to one
# unsharded run, with the README's GNU parallel recipe (3 shards), with a plain loop (2 shards) and
# with more shards than points (empty shards); summary.json differs only in wall time.  Also the
# errors: a bad K/N is a usage error (exit 2), a missing shard an invalid input (exit 1).
set -u
B=${B:-build}
P=$B/poolsim
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
x=tests/data/shard.json # 9 points
fail=0

command -v parallel >/dev/null || { echo "FAIL GNU parallel is not installed (make deps)"; exit 1; }
"$P" run "$x" --jobs 1 --quiet --out "$t/one" || exit 1

# Compare a merged directory with the unsharded run.
same() {
    local d=$1 what=$2 f
    for f in points.csv replications.csv histograms.csv; do
        cmp -s "$t/one/$f" "$d/$f" || { echo "FAIL $what: $f differs from the unsharded run"; fail=1; }
    done
    diff <(grep -v wall_time_s "$t/one/summary.json") <(grep -v wall_time_s "$d/summary.json") \
        >/dev/null || { echo "FAIL $what: summary.json differs beyond wall_time_s"; fail=1; }
}

# The README's recipe, on this machine: 3 shards at once, then merge.
parallel --will-cite "$P" run "$x" --jobs 1 --quiet --shard {}/3 --out "$t/p/shard-{}" ::: 1 2 3 \
    || { echo "FAIL parallel run"; exit 1; }
"$P" merge "$t"/p/shard-* --out "$t/p/merged" || exit 1
same "$t/p/merged" "parallel, 3 shards"
for k in 1 2 3; do # each shard ran its own points only: 9 points, 3 each
    n=$(($(wc -l <"$t/p/shard-$k/points.csv") - 1))
    [ "$n" = 3 ] || { echo "FAIL shard $k/3 wrote $n points, not 3"; fail=1; }
done

# A plain loop, 2 shards, merged in reverse order.
for k in 1 2; do
    "$P" run "$x" --quiet --shard $k/2 --out "$t/l/s$k" || exit 1
done
"$P" merge "$t/l/s2" "$t/l/s1" --out "$t/l/merged" || exit 1
same "$t/l/merged" "loop, 2 shards"

# More shards than points: shards 10 and 11 of 11 hold no point but are valid and merge.
for k in $(seq 1 11); do
    "$P" run "$x" --quiet --jobs 1 --shard $k/11 --out "$t/e/s$k" || exit 1
done
[ "$(wc -l <"$t/e/s11/points.csv")" = 1 ] || { echo "FAIL empty shard: not just a header"; fail=1; }
grep -q '"points": \[$' "$t/e/s11/summary.json" || { echo "FAIL empty shard summary"; fail=1; }
"$P" merge "$t"/e/s* --out "$t/e/merged" || exit 1
same "$t/e/merged" "11 shards of 9 points"

# Errors: exit status and one line naming the problem.
"$P" run "$x" --quiet --shard 4/3 --out "$t/bad" 2>"$t/err"
[ $? = 2 ] && grep -q 'needs K/N' "$t/err" && [ "$(wc -l <"$t/err")" = 1 ] \
    || { echo "FAIL --shard 4/3: not a one-line usage error"; fail=1; }
"$P" merge "$t/p/shard-1" "$t/p/shard-3" --out "$t/bad" 2>"$t/err"
[ $? = 1 ] && grep -q 'point 1 is missing: no directory given holds shard 2/3' "$t/err" \
    || { echo "FAIL a missing shard is not named"; fail=1; }
[ ! -e "$t/bad" ] || { echo "FAIL a refused merge left $t/bad"; fail=1; }

[ $fail = 0 ] && echo "t_shard: merged shards are the unsharded run's bytes (parallel 3, loop 2, 11 > 9 points)"
exit $fail

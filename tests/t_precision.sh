#!/usr/bin/env bash
# Precision-driven run length (experiments/README.md, "precision"), end to end: the same bytes
# for --jobs 1 and 2, with --trace, and from 3 shards merged; each point's replications
# between `replications` and max_replications;
# precision_reached = latency_p99_ms_ci / latency_p99_ms; precision_met = 1 exactly when it is
# <= 5%, and a point that did not meet it ran max_replications; replications.csv holds as many
# rows per point as its replications column says; at least one point met the target and one
# hit the cap, so both ends are exercised.
set -u
B=${B:-build}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
x=tests/data/precision.json
fail=0

"$B/poolsim" run "$x" --jobs 1 --quiet --out "$t/a" || exit 1
"$B/poolsim" run "$x" --jobs 2 --quiet --out "$t/b" || exit 1
"$B/poolsim" run "$x" --jobs 2 --quiet --trace 3 --out "$t/c" || exit 1
for k in 1 2 3; do
    "$B/poolsim" run "$x" --jobs 2 --quiet --shard "$k/3" --out "$t/s$k" || exit 1
done
"$B/poolsim" merge "$t/s1" "$t/s2" "$t/s3" --out "$t/m" >/dev/null || exit 1
for f in points.csv replications.csv histograms.csv; do
    cmp -s "$t/a/$f" "$t/b/$f" || { echo "FAIL $f differs between --jobs 1 and 2"; fail=1; }
    cmp -s "$t/a/$f" "$t/c/$f" || { echo "FAIL $f differs with --trace"; fail=1; }
    cmp -s "$t/a/$f" "$t/m/$f" || { echo "FAIL $f differs after --shard 1..3/3 and merge"; fail=1; }
done
# trace.csv: every replication run, and no other
diff <(cut -d, -f1,2 "$t/c/trace.csv" | sed 1d | uniq) \
     <(cut -d, -f1,2 "$t/a/replications.csv" | sed 1d) >/dev/null ||
    { echo "FAIL trace.csv replications differ from replications.csv"; fail=1; }

awk -F, -v lo=3 -v hi=30 -v rel=0.05 '
    NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
    {
        n = $k["replications"]; r = $k["precision_reached"]; m = $k["precision_met"]
        want = $k["latency_p99_ms_ci"] / $k["latency_p99_ms"]
        if (n < lo || n > hi) { print "FAIL point " $1 ": " n " replications"; bad = 1 }
        if (r == "" || (r - want) > 1e-6 * want || (want - r) > 1e-6 * want) {
            print "FAIL point " $1 ": precision_reached " r ", want " want; bad = 1
        }
        if ((m == 1) != (r <= rel)) { print "FAIL point " $1 ": met " m " with " r; bad = 1 }
        if (m == 0 && n != hi) { print "FAIL point " $1 ": stopped at " n " unmet"; bad = 1 }
        met += m == 1; capped += m == 0
        print "t_precision: point " $1 ": " n " replications, reached " r ", met " m
    }
    END {
        if (!met || !capped) {
            print "FAIL want a point that met the target and one capped"; bad = 1
        }
        exit bad
    }' "$t/a/points.csv" || fail=1
# replications.csv: as many rows per point as points.csv says
diff <(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
                { print $1, $k["replications"] }' "$t/a/points.csv") \
     <(awk -F, 'NR > 1 { c[$1]++ } END { for (p in c) print p, c[p] }' "$t/a/replications.csv" |
       sort -n) >/dev/null ||
    { echo "FAIL replications.csv rows do not match the replications column"; fail=1; }
[ $fail = 0 ] &&
    echo "t_precision: identical bytes (--jobs 1/2, --trace, 3 shards merged), counts, flags ok"
exit $fail

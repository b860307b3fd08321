#!/usr/bin/env bash
# poolsim run --trace N (issue 7, item 6): trace.csv is byte-identical for --jobs 1 and 2;
# tracing only observes (the other CSV files are those of an untraced run, which writes no
# trace.csv); its header, its order (point, replication, request, then time) and its sample
# (requests 1..k, k <= N, in every replication; each with an outcome) hold; a bad N is a usage
# error.  Run by `make check` with B set to the build directory.
set -u
B=${B:-build}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
x=tests/data/determinism.json
n=15
fail=0

"$B/poolsim" run "$x" --jobs 1 --trace $n --quiet --out "$t/a" || exit 1
"$B/poolsim" run "$x" --jobs 2 --trace $n --quiet --out "$t/b" || exit 1
"$B/poolsim" run "$x" --jobs 2 --quiet --out "$t/c" || exit 1

cmp -s "$t/a/trace.csv" "$t/b/trace.csv" || { echo "FAIL trace.csv differs, --jobs 1 vs 2"; fail=1; }
for f in points.csv replications.csv histograms.csv; do
    cmp -s "$t/a/$f" "$t/c/$f" || { echo "FAIL $f of a traced run differs from untraced"; fail=1; }
done
[ -e "$t/c/trace.csv" ] && { echo "FAIL trace.csv written without --trace"; fail=1; }
[ -e "$t/a/.trace.csv.tmp" ] && { echo "FAIL temporary trace file left behind"; fail=1; }

h=$(head -1 "$t/a/trace.csv")
[ "$h" = "point,replication,request,endpoint,stage,t_ms,detail" ] ||
    { echo "FAIL header: $h"; fail=1; }

# The experiment's endpoint names and the first six cells hold no comma or quote: split on ",".
bad=$(awk -F, -v n=$n '
    function ended() { if (req > 0 && !out) { print "request " last "," req " has no outcome"; bad = 1; exit } }
    NR == 1 { next }
    {
        key = $1 "," $2
        if (NR > 2 && ($1 < p || ($1 == p && $2 < r))) { print "point/replication order, row " NR; exit }
        if (key != last) { ended(); last = key; req = 0; k++ }
        if ($3 == req + 1) { ended(); req = $3; out = 0; t = -1 }
        if ($3 != req) { print "requests not numbered 1, 2, ... at row " NR; exit }
        if ($3 > n) { print "more than N requests at row " NR; exit }
        if ($6 + 0 < t) { print "time goes back within a request at row " NR; exit }
        if ($5 !~ /^(arrival|pool_wait|connect|pooler_wait|statement|release|outcome)$/) {
            print "unknown stage " $5 " at row " NR; exit
        }
        t = $6 + 0; out = out || $5 == "outcome"; p = $1; r = $2
    }
    END { if (bad) exit; ended(); if (k != 18) print "traced replications: " k " (want 18)" }
' "$t/a/trace.csv")
[ -z "$bad" ] || { echo "FAIL $bad"; fail=1; }
# the run is not trivial: some traced request failed and some waited at a pooler
grep -q ',outcome,[0-9.]*,[^o]' "$t/a/trace.csv" || { echo "FAIL no traced request failed"; fail=1; }
grep -q ',pooler_wait,' "$t/a/trace.csv" || { echo "FAIL no pooler_wait row"; fail=1; }

for v in 0 -1 x 10000001; do
    "$B/poolsim" run "$x" --trace "$v" --quiet --out "$t/bad" 2>/dev/null
    [ $? = 2 ] || { echo "FAIL --trace $v is not a usage error"; fail=1; }
done
[ -e "$t/bad" ] && { echo "FAIL a usage error wrote output"; fail=1; }

[ $fail = 0 ] && echo "t_trace: trace.csv identical for --jobs 1/2, ordered, and only observing"
exit $fail

#!/usr/bin/env bash
# Determinism contract (DESIGN.md §6): the same file and seed give byte-identical CSV files
# run twice, with --jobs 1 and --jobs 2, and built at -O0 and -O2.
set -u
B=${B:-build}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
x=tests/data/determinism.json
fail=0

make -s B=build-O0 OPT=-O0 build-O0/poolsim >/dev/null || exit 1
"$B/poolsim" run "$x" --jobs 1 --quiet --out "$t/a" || exit 1
"$B/poolsim" run "$x" --jobs 1 --quiet --out "$t/b" || exit 1
"$B/poolsim" run "$x" --jobs 2 --quiet --out "$t/c" || exit 1
build-O0/poolsim run "$x" --jobs 2 --quiet --out "$t/d" || exit 1
for f in points.csv replications.csv histograms.csv; do
    for o in b c d; do
        cmp -s "$t/a/$f" "$t/$o/$f" || { echo "FAIL $f differs (run a vs $o)"; fail=1; }
    done
done
# summary.json differs only in wall time
for o in b c d; do
    diff <(grep -v wall_time_s "$t/a/summary.json") <(grep -v wall_time_s "$t/$o/summary.json") \
        >/dev/null || { echo "FAIL summary.json differs beyond wall_time_s (a vs $o)"; fail=1; }
done
# the run is not trivial: errors of several kinds happened
n=$(awk -F, 'NR==1{for(i=1;i<=NF;i++) if($i=="errors") k=i} NR>1{s+=$k} END{print s+0}' "$t/a/points.csv")
[ "${n%.*}" -gt 0 ] || { echo "FAIL the determinism experiment produced no errors"; fail=1; }
[ $fail = 0 ] && echo "t_determinism: identical bytes (twice, --jobs 1/2, -O0/-O2)"
exit $fail

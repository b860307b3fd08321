#!/usr/bin/env bash
# poolsim size through the program (DESIGN.md §5): exit status 0, 3, 2 and 1, one-line usage
# errors, progress on stderr only without --quiet, and identical stdout and size.json (but for
# the wall time) on a second run and with another --jobs.
set -u
B=${B:-build}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
x=tests/data/size-window.json
p="$B/poolsim"
fail=0
args=(--slo "latency_p99_ms<1000" --vary pooler.default_pool_size=1..8 --set duration=60s)

"$p" size "$x" "${args[@]}" --jobs 1 --quiet --out "$t/a" >"$t/a.out" 2>"$t/a.err"
rc=$?
[ $rc = 0 ] || { echo "FAIL size exit status $rc, expected 0"; fail=1; }
[ -s "$t/a.err" ] && { echo "FAIL --quiet wrote to stderr"; fail=1; }
grep -q '^result: meets every objective with pooler.default_pool_size=' "$t/a.out" ||
    { echo "FAIL no result line"; fail=1; }
"$p" size "$x" "${args[@]}" --jobs 2 --out "$t/b" >"$t/b.out" 2>"$t/b.err"
cmp -s "$t/a.out" "$t/b.out" || { echo "FAIL stdout differs between two runs"; fail=1; }
diff <(grep -v wall_time_s "$t/a/size.json") <(grep -v wall_time_s "$t/b/size.json") >/dev/null ||
    { echo "FAIL size.json differs beyond wall_time_s"; fail=1; }
cmp -s "$t/a/points.csv" "$t/b/points.csv" || { echo "FAIL points.csv differs"; fail=1; }
head -1 "$t/a/points.csv" | grep -q '^point,variant,pooler.default_pool_size,workload.rate,pages,' ||
    { echo "FAIL points.csv header"; fail=1; }
grep -q '^poolsim: size: pooler.default_pool_size=' "$t/b.err" ||
    { echo "FAIL no progress on stderr"; fail=1; }

# exit 3: no value meets an impossible objective; the table and size.json still say so
"$p" size "$x" --slo "latency_p50_ms<0" --vary pooler.default_pool_size=3..4 \
    --set duration=20s --quiet --out "$t/c" >"$t/c.out" 2>/dev/null
rc=$?
[ $rc = 3 ] || { echo "FAIL impossible objective: exit status $rc, expected 3"; fail=1; }
grep -q '"result": "none"' "$t/c/size.json" || { echo "FAIL size.json does not say none"; fail=1; }

# exit 2: usage errors are one line on stderr, nothing on stdout
for bad in "--slo latency_p99_ms<<1" "--slo nosuch<1" "--vary pooler.default_pool_size=9..1" \
    "--vary app.clients" "--at"; do
    # shellcheck disable=SC2086
    "$p" size "$x" --slo "error_rate<1" --vary pooler.default_pool_size=1..2 $bad --quiet \
        --out "$t/d" >"$t/d.out" 2>"$t/d.err"
    rc=$?
    [ $rc = 2 ] || { echo "FAIL \"$bad\": exit status $rc, expected 2"; fail=1; }
    [ "$(wc -l <"$t/d.err")" = 1 ] || { echo "FAIL \"$bad\": not one line"; cat "$t/d.err"; fail=1; }
    [ -s "$t/d.out" ] && { echo "FAIL \"$bad\": wrote to stdout"; fail=1; }
done

# exit 1: an invalid experiment
"$p" size "$x" --slo "error_rate<1" --vary pooler.default_pool_size=1..2 \
    --set postgres.cores=-1 --quiet --out "$t/e" >/dev/null 2>"$t/e.err"
rc=$?
[ $rc = 1 ] || { echo "FAIL invalid experiment: exit status $rc, expected 1"; fail=1; }
grep -q 'postgres.cores' "$t/e.err" || { echo "FAIL the error does not name the key"; fail=1; }

[ $fail = 0 ] && echo "t_size: exit status 0/3/2/1, one-line usage errors, identical output twice"
exit $fail

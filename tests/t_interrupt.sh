#!/usr/bin/env bash
# Ctrl-C (DESIGN.md §5): SIGINT or SIGTERM after a moment stops a long sweep with exit 130,
# finished points kept in valid files (header + complete rows, a subset of the point indices,
# in order; replications.csv and histograms.csv hold exactly those points) and summary.json
# "partial": true; a second signal quits at once; a run left alone says "partial": false.
set -u
B=${B:-build}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
x=tests/data/interrupt.json
n=40 # points in $x
fail=0

# interrupt DIR SIGNAL DELAY [SECOND_DELAY]: run $x in the background, signal it; sets rc, secs
interrupt() {
    local start=$SECONDS pid
    "$B/poolsim" run "$x" --jobs 2 --out "$1" 2>"$1.err" &
    pid=$!
    sleep "$3"
    kill -s "$2" "$pid"
    if [ -n "${4:-}" ]; then
        sleep "$4"
        kill -s "$2" "$pid"
    fi
    wait "$pid"
    rc=$?
    secs=$((SECONDS - start))
}

# The point indices of column 1 of FILE (header skipped), one line.
points_of() { awk -F, 'NR > 1 { print $1 }' "$1" | uniq | tr '\n' ' '; }

check_partial() { # DIR LABEL
    local d=$1 l=$2 p ncols bad
    [ "$rc" = 130 ] || { echo "FAIL $l: exit $rc, want 130"; fail=1; }
    for f in points.csv replications.csv histograms.csv summary.json; do
        [ -f "$d/$f" ] || { echo "FAIL $l: no $f"; fail=1; return; }
    done
    ls -a "$d" | grep -q '\.tmp$' && { echo "FAIL $l: a temporary file was left"; fail=1; }
    grep -q '"partial": true' "$d/summary.json" || { echo "FAIL $l: not partial"; fail=1; }
    if command -v python3 >/dev/null; then
        python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$d/summary.json" ||
            { echo "FAIL $l: summary.json is not valid JSON"; fail=1; }
    fi
    # Complete rows only: every row has the header's number of cells (no quoted commas here).
    for f in points.csv replications.csv histograms.csv; do
        ncols=$(head -1 "$d/$f" | awk -F, '{ print NF }')
        bad=$(awk -F, -v n="$ncols" 'NF != n' "$d/$f" | wc -l)
        [ "$bad" = 0 ] || { echo "FAIL $l: $f has $bad rows of another width"; fail=1; }
        [ -z "$(tail -c1 "$d/$f")" ] || { echo "FAIL $l: $f does not end with a newline"; fail=1; }
    done
    # Points: strictly increasing indices below n, fewer than n; the same set in every file.
    p=$(points_of "$d/points.csv")
    echo "$p" | awk -v n="$n" '{
        for (i = 1; i <= NF; i++) if ($i >= n || (i > 1 && $i <= $(i - 1))) exit 1
        if (NF >= n) exit 1 }' ||
        { echo "FAIL $l: points \"$p\" are not a proper subset in order"; fail=1; }
    [ "$(points_of "$d/replications.csv")" = "$p" ] ||
        { echo "FAIL $l: replications.csv has other points than points.csv"; fail=1; }
    [ "$(awk -F, 'NR > 1 { print $1 }' "$d/histograms.csv" | sort -un | tr '\n' ' ')" = \
      "$(echo "$p" | tr ' ' '\n' | grep . | sort -un | tr '\n' ' ')" ] ||
        { echo "FAIL $l: histograms.csv has other points than points.csv"; fail=1; }
    # Each kept point has all its replications (2).
    [ "$(awk -F, 'NR > 1' "$d/replications.csv" | wc -l)" = $((2 * $(echo "$p" | wc -w))) ] ||
        { echo "FAIL $l: a kept point lacks replications"; fail=1; }
    echo "t_interrupt: $l: exit $rc after ${secs}s, kept points: $p"
}

interrupt "$t/int" INT 2
check_partial "$t/int" SIGINT
interrupt "$t/term" TERM 2
check_partial "$t/term" SIGTERM

# A second signal: exit 130 at once, long before the replications in progress could finish.
x1="$t/one.json"
sed 's/"duration": "10h"/"duration": "1000h"/' "$x" > "$x1"
start=$SECONDS
"$B/poolsim" run "$x1" --jobs 2 --quiet --out "$t/twice" &
pid=$!
sleep 1
kill -INT "$pid"
sleep 0.5
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" = 130 ] && [ $((SECONDS - start)) -lt 10 ] ||
    { echo "FAIL second SIGINT: exit $rc after $((SECONDS - start))s"; fail=1; }

# Left alone: exit 0, every point, not partial.
"$B/poolsim" run "$x" --set duration=20s --jobs 2 --quiet --out "$t/whole"
rc=$?
[ "$rc" = 0 ] || { echo "FAIL uninterrupted run: exit $rc"; fail=1; }
grep -q '"partial": false' "$t/whole/summary.json" ||
    { echo "FAIL uninterrupted: partial"; fail=1; }
[ "$(awk 'NR > 1' "$t/whole/points.csv" | wc -l)" = "$n" ] ||
    { echo "FAIL uninterrupted: not $n points"; fail=1; }

[ $fail = 0 ] && echo "t_interrupt: ok"
exit $fail

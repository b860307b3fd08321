#!/usr/bin/env bash
# tests/real/app/calibrate.sh - what the node-postgres app adds to a call (issue 10).
#
#   calibrate.sh B [DURATION_S]      (B: the build directory with poolsim)
#
# One HTTP connection (nothing ever waits), one controller, PgBouncer in transaction mode:
# experiments/real-app-cal.json as written (3 statements per call), and the same with 1
# statement.  For each, real mean latency minus poolsim's mean latency for the same file (which
# has no app cost: network, backend start and pg_sleep's overshoot are the test bed's
# calibration) is what Node adds per call: app(n) = a + n * s, a per call (HTTP parse, routing,
# answer, the load generator's own cost) and s per statement (pool.query's checkout and
# release, pg's message parsing).  Two equations, two unknowns; but the fit is unstable on a
# loaded machine, so a is also measured directly: the app answers with x-app-ms (its own time
# for the call) and load.js reports http_path_mean_ms = its latency minus that, the HTTP path's
# own time per call; s is then (app(3) - a) / 3.  The last line, "CAL overshoot_ms=...
# http_path_ms=... node_per_statement_ms=..." (the last clipped at 0), is what validate.sh
# substitutes into the points for poolsim's "today's calibration" column.
#
# pg_sleep's overshoot grows with the machine's load (0.24 ms in tests/real/calibration.env,
# measured at load 0.4-2.4; about 1 ms at load 7), and it is server time: it holds the server.
# So pgbench (1 client, SELECT pg_sleep(0.02) through PgBouncer in transaction mode, same
# duration) measures today's overshoot: pgbench's mean latency minus 20 ms minus poolsim's own
# round trips for it.  The part of s that is the overshoot beyond the one the files were written
# with (sleep_overshoot_ms of tests/real/app/calibration.env) is server time; the rest is Node's.
# experiments/real-app-cal.json's server_time must be 20 ms + that sleep_overshoot_ms.  Prints the runs and a, s, the overshoot and Node's share of s.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
B=${1:?usage: calibrate.sh B [DURATION_S]}
dur=${2:-10}
work=$(mktemp -d /tmp/poolsim-appcal.XXXXXX)
trap 'rm -rf "$work"' EXIT
col()
{
    awk -F, -v k="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i } NR == 2 { print $c }' "$1"
}
for n in 1 3; do
    jq --argjson n "$n" --arg d "${dur}s" '.app.endpoints.c0.operations[0].statements = $n | .duration = $d' \
        "$root/experiments/real-app-cal.json" >"$work/cal-$n.json"
    "$root/$B/poolsim" run "$work/cal-$n.json" --out "$work/sim-$n" --quiet || exit 1
    "$here/point.sh" "$work/cal-$n.json" "$work/real-$n" || exit 1
    s=$(col "$work/sim-$n/points.csv" latency_mean_ms)
    r=$(col "$work/real-$n/real.csv" latency_mean_ms)
    p=$(col "$work/real-$n/real.csv" latency_p50_ms)
    h=$(col "$work/real-$n/real.csv" http_path_mean_ms)
    echo "statements=$n sim_mean_ms=$s real_mean_ms=$r real_p50_ms=$p http_path_ms=$h app_ms=$(awk -v r="$r" -v s="$s" 'BEGIN { printf "%.3f", r - s }')"
done | tee "$work/out.txt"
# Today's overshoot, through PgBouncer as the app's statements go.
(
    eval "$("$here/../servers.sh" start --bouncer pool_mode=transaction)" || exit 1
    trap '"$here/../servers.sh" stop "$REAL_STATE"' EXIT
    echo 'SELECT pg_sleep(0.02);' >"$work/s.sql"
    PGSSLMODE=disable pgbench -n -h 127.0.0.1 -p "$REAL_BOUNCER_PORT" -U postgres -c 1 -T "$dur" \
        -f "$work/s.sql" postgres 2>&1 | sed -n 's/^latency average = \([0-9.]*\) ms$/pgbench_ms=\1/p'
) >"$work/pgbench.txt"
# poolsim's latency of one statement, minus its server_time: its round trips.
st=$(jq -r '.app.endpoints.c0.operations[0].server_time | rtrimstr("ms")' "$root/experiments/real-app-cal.json")
rt=$(awk -v s="$(head -n 1 "$work/out.txt" | sed 's/.*sim_mean_ms=\([0-9.]*\).*/\1/')" -v t="$st" 'BEGIN { printf "%.4f", s - t }')
cat "$work/pgbench.txt"
base=$(. "$here/calibration.env" && echo "$sleep_overshoot_ms")
awk -v rt="$rt" -v base="$base" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[NR, kv[1]] = kv[2] } }
    END { s = (v[2, "app_ms"] - v[1, "app_ms"]) / 2; a = v[1, "app_ms"] - s
          o = v[3, "pgbench_ms"] - 20 - rt
          printf "fit: app_per_call_ms=%.3f app_per_statement_ms=%.3f\n", a, s
          h = (v[1, "http_path_ms"] + v[2, "http_path_ms"]) / 2
          s3 = (v[2, "app_ms"] - h) / 3
          n = s3 - (o - base); if (n < 0) n = 0
          printf "measured: http_path_ms=%.3f (per call) per_statement_ms=%.3f sleep_overshoot_ms=%.3f node_per_statement_ms=%.3f\n", h, s3, o, s3 - (o - base)
          printf "CAL overshoot_ms=%.3f http_path_ms=%.3f node_per_statement_ms=%.3f\n", o, h, n }' \
    "$work/out.txt" "$work/pgbench.txt" >"$work/cal.txt"
cat "$work/cal.txt"
# The spread: one statement's time as the 1-statement calls saw it (latency minus the HTTP path,
# poolsim's round trips and Node's per statement: the jitter of all of them lands on the server
# time), as quantiles, none below pg_sleep's 20 ms and
# each at least 1 us above the one before (poolsim's empirical distributions increase).  A
# constant server time makes every call alike (p95 = p50); the loaded machine does not.
h1=$(col "$work/real-1/real.csv" http_path_mean_ms)
nps=$(sed -n 's/^CAL .*node_per_statement_ms=\([0-9.]*\).*/\1/p' "$work/cal.txt")
awk -F, -v h="$h1" -v rt="$rt" -v n="${nps:-0}" 'NR > 1 && $1 >= 2 { print $2 - h - rt - n }' \
    "$work/real-1/records.csv" | sort -n | awk '{ a[NR] = $1 } END {
        split("0 0.05 0.1 0.25 0.5 0.75 0.9 0.95 0.99 1", q, " ")
        printf "CALDIST"
        prev = 0
        for (i = 1; i <= 10; i++) {
            k = int(q[i] * (NR - 1)) + 1; v = a[k]; if (v < 20) v = 20
            if (v <= prev) v = prev + 0.001
            printf " %s:%.3f", q[i], v; prev = v
        }
        printf "\n" }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

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
# release, pg's message parsing).  Two equations, two unknowns.  Prints both runs and a, s.
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
    echo "statements=$n sim_mean_ms=$s real_mean_ms=$r real_p50_ms=$p app_ms=$(awk -v r="$r" -v s="$s" 'BEGIN { printf "%.3f", r - s }')"
done | tee "$work/out.txt"
awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[NR, kv[1]] = kv[2] } }
    END { s = (v[2, "app_ms"] - v[1, "app_ms"]) / 2; a = v[1, "app_ms"] - s
          printf "app_per_call_ms=%.3f app_per_statement_ms=%.3f\n", a, s }' "$work/out.txt"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# tests/real/app/validate.sh - `make validate-real-app`: the node-postgres app's points, real
# (app.js in front of PgBouncer + PostgreSQL on 127.0.0.1, driven by load.js) against poolsim
# on the same experiments/real-app-*.json, written as the section "node-postgres app".
#
#   validate.sh B OUT.md [POINT...]     (B: the build directory with poolsim)
#
# Per point: the description, a table (poolsim, real, difference, verdict against issue 9's
# tolerances, see compare.awk), the load average, PgBouncer's SHOW POOLS maxima and SHOW STATS
# totals; then that point's explanation from tests/real/app/explanations.md (the section
# "## <point>"), written by hand after looking at the results.
#
# Today's calibration: on this shared 2-core machine pg_sleep's overshoot and the HTTP path's
# time follow the load of the moment (0.24 to 1.25 ms and 1 to 2.4 ms between 04:10 and 04:40
# on 2026-11-28), so calibrate.sh runs first and its CAL and CALDIST lines are substituted into
# a copy of every point for poolsim: server_time = the measured spread of a statement (CALDIST,
# empirical quantiles from 20 ms up; without it 20 ms + the overshoot), the first `app`
# operation = the HTTP path's time, the `app` operations after the statements = Node's own per
# statement; and 10 replications (seeds), whose range compare.awk shows.
# Nothing else of the point changes (the real run uses the committed file: pg_sleep(0.02)
# either way).  The table shows poolsim on the committed file too, and the verdict is on
# today's.  Prisma's part
# (what runs here and what does not) is tests/real/app/prisma.md, copied in.
# Exits 0 when every point ran (verdicts are the document's business), 1 otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
B=${1:?usage: validate.sh B OUT.md [POINT...]}
outmd=${2:?usage: validate.sh B OUT.md [POINT...]}
shift 2
work=$(mktemp -d /tmp/poolsim-validate-app.XXXXXX)
trap 'rm -rf "$work"' EXIT
command -v node >/dev/null || { echo "validate-real-app: node is not installed" >&2; exit 1; }

mapfile -t points < <(grep -v '^#' "$here/points.txt" | grep -v '^ *$')
[ $# -gt 0 ] && points=("$@")

explanation()
{
    awk -v p="## $1" '$0 == p { on = 1; next } /^## / { on = 0 } on' "$here/explanations.md"
}

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "validate-real-app: calibration" >&2
"$here/calibrate.sh" "$B" 10 >"$work/calibration.txt" 2>&1 || echo "(calibration failed)" >>"$work/calibration.txt"
cal=$(sed -n 's/^CAL //p' "$work/calibration.txt")
cal_get()
{
    echo "$cal" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
overshoot=$(cal_get overshoot_ms)
http_ms=$(cal_get http_path_ms)
node_ms=$(cal_get node_per_statement_ms)
# CALDIST q:ms ...: the spread of a statement's time, as poolsim's empirical quantiles.
dist=$(sed -n 's/^CALDIST //p' "$work/calibration.txt" | tr ' ' '\n' |
    awk -F: 'NF == 2 { printf "%s[%s, \"%sms\"]", n++ ? ", " : "", $1, $2 }')
if [ -n "$dist" ]; then
    dist="{\"dist\": \"empirical\", \"quantiles\": [$dist]}"
else
    dist="\"$(awk -v o="${overshoot:-0.24}" 'BEGIN { printf "%.3fms", 20 + o }')\""
fi
if [ -z "$overshoot" ] || [ -z "$http_ms" ] || [ -z "$node_ms" ]; then
    echo "validate-real-app: no calibration today; the committed one is used" >&2
    . "$here/calibration.env"
    overshoot=$sleep_overshoot_ms; http_ms=0.75; node_ms=0.69
fi
# The point with today's calibration (see above).
recalibrate()
{
    jq --argjson st "$dist" --arg a "${http_ms}ms" --arg n "${node_ms}ms" '
        .app.endpoints |= map_values(.operations |= (to_entries | map(
            if .value.type == "app" then .value.time = (if .key == 0 then $a else $n end)
            else .value.server_time = $st end) | map(.value)))' "$1"
}

rc=0
summary=()
body="$work/body.md"
: >"$body"
for name in "${points[@]}"; do
    file="$root/experiments/$name.json"
    echo "validate-real-app: $name" >&2
    "$root/$B/poolsim" run "$file" --out "$work/simc-$name" --quiet || { echo "poolsim failed on $name" >&2; exit 1; }
    recalibrate "$file" >"$work/today-$name.json"
    "$root/$B/poolsim" run "$work/today-$name.json" --set replications=10 --out "$work/sim-$name" \
        --quiet || { echo "poolsim failed on $name (today)" >&2; exit 1; }
    load=$(cut -d' ' -f1 /proc/loadavg)
    { echo "### $name"; echo; jq -r .description "$file"; echo; } >>"$body"
    if ! "$here/point.sh" "$file" "$work/real-$name" >"$work/real-$name.log" 2>&1; then
        echo "validate-real-app: $name: the real run failed" >&2
        { echo "**The real run failed:**"; echo '```'; tail -n 20 "$work/real-$name.log"; echo '```'; echo; } >>"$body"
        summary+=("| $name | **run failed** |")
        rc=1
        continue
    fi
    awk -F, -f "$here/compare.awk" "$work/sim-$name/points.csv" "$work/real-$name/real.csv" \
        "$work/real-$name/pgbouncer.txt" "$work/simc-$name/points.csv" \
        "$work/sim-$name/replications.csv" >"$work/cmp.txt"
    v=$(sed -n 's/^VERDICT //p' "$work/cmp.txt")
    {
        echo "Load average at start: $load."
        echo
        echo "| metric | poolsim (committed calibration) | poolsim (today's) | real | real − today's | verdict |"
        echo "|---|---|---|---|---|---|"
        grep -v '^VERDICT' "$work/cmp.txt"
        echo
        echo "PgBouncer (SHOW POOLS every 0.5 s, SHOW STATS at the end): $(tr '\n' ' ' <"$work/real-$name/pgbouncer.txt")"
        echo
        echo "pg.Pools at the end: \`$(head -c 600 "$work/real-$name/app-stats.json" 2>/dev/null)\`"
        echo
        explanation "$name"
        echo
    } >>"$body"
    summary+=("| $name | $v |")
done

{
    echo "## node-postgres app"
    echo
    echo "Generated by \`make validate-real-app\` (tests/real/app/validate.sh) on $started, load average"
    echo "$load_before at the start (a 2-core machine shared with other builds). The app"
    echo "(tests/real/app/app.js: controllers with a pg.Pool each, endpoints of pg_sleep statements)"
    echo "runs in front of the test bed's PgBouncer; tests/real/app/load.js keeps N HTTP connections"
    echo "busy (closed loop, no think time) and classifies every 5xx by the error kind in its body."
    echo "Tolerances are issue 9's: successful requests/s within 5%; p50 and p95 within 10% or 5 ms,"
    echo "whichever is larger; 5xx share of each kind within 2 points; the same kinds on both sides."
    echo
    echo "Node's calibration measured again now (tests/real/app/calibrate.sh build 10). poolsim runs"
    echo "each point twice: as committed (tests/real/app/calibration.env) and with today's CAL"
    echo "and CALDIST lines substituted (server_time = the measured spread of one statement as"
    echo "empirical quantiles; first \`app\` operation = the HTTP path; the others = Node's per"
    echo "statement) and 10 replications (seeds); the verdict is on today's: issue 9's tolerance"
    echo "around poolsim's mean, or, where marked, the range of its 10 seeds:"
    echo
    echo '```'
    cat "$work/calibration.txt"
    echo '```'
    echo
    explanation _coverage
    echo
    echo "| point | verdict |"
    echo "|---|---|"
    printf '%s\n' "${summary[@]}"
    echo
    cat "$body"
    cat "$here/prisma.md"
} >"$outmd"
echo "validate-real-app: wrote $outmd" >&2
exit $rc

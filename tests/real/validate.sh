#!/usr/bin/env bash
# tests/real/validate.sh - `make validate-real`: every point of tests/real/points.txt, real
# (PgBouncer + PostgreSQL on 127.0.0.1, driven by loadc and pgbench) against poolsim on the
# same experiments/real-*.json, written to VALIDATION.md.
#
#   validate.sh B OUT.md [POINT...]     (B: the build directory with poolsim and loadc)
#
# The generated part is per point: the description, a table per driver (poolsim, real,
# difference, verdict against issue 9's tolerances, see compare.awk), PgBouncer's SHOW POOLS /
# SHOW STATS figures; then that point's explanation from tests/real/explanations.md (the
# section "## <point>"), written by hand after looking at the results.  Today's calibration is
# re-measured and printed beside the committed one, so that drift is visible.
set -u
here=$(cd "$(dirname "$0")" && pwd)
B=${1:?usage: validate.sh B OUT.md [POINT...]}
outmd=${2:?usage: validate.sh B OUT.md [POINT...]}
shift 2
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/poolsim-validate.XXXXXX)
trap 'rm -rf "$work"' EXIT
export LOADC="$root/$B/loadc"

mapfile -t lines < <(grep -v '^#' "$here/points.txt" | grep -v '^ *$')
if [ $# -gt 0 ]; then
    want=" $* "
    keep=()
    for l in "${lines[@]}"; do
        case "$want" in *" ${l%% *} "*) keep+=("$l") ;; esac
    done
    lines=("${keep[@]}")
fi

explanation()
{
    awk -v p="## $1" '$0 == p { on = 1; next } /^## / { on = 0 } on' "$here/explanations.md"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
echo "validate-real: calibration" >&2
"$here/calibrate.sh" "$LOADC" 5 >"$work/calibration.txt" 2>&1

summary=()
body="$work/body.md"
: >"$body"
for l in "${lines[@]}"; do
    read -r name drivers <<<"$l"
    file="$root/experiments/$name.json"
    echo "validate-real: $name ($drivers)" >&2
    "$root/$B/poolsim" run "$file" --out "$work/sim-$name" --quiet || { echo "poolsim failed on $name" >&2; exit 1; }
    {
        echo "### $name"
        echo
        echo "$(jq -r .description "$file")"
        echo
    } >>"$body"
    verdicts=""
    for d in $drivers; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        if ! "$here/point.sh" "$file" "$d" "$work/real-$name" >"$work/real-$name-$d.log" 2>&1; then
            echo "validate-real: $name: $d failed, see below" >&2
            { echo "**$d: the real run failed:**"; echo '```'; tail -n 20 "$work/real-$name-$d.log"; echo '```'; echo; } >>"$body"
            verdicts="$verdicts $d: **run failed**;"
            continue
        fi
        awk -F, -f "$here/compare.awk" "$work/sim-$name/points.csv" "$work/real-$name/$d.csv" \
            >"$work/cmp.txt"
        v=$(sed -n 's/^VERDICT //p' "$work/cmp.txt")
        {
            echo "**$d** (load average at start: $load)"
            echo
            echo "| metric | poolsim | $d | difference | verdict |"
            echo "|---|---|---|---|---|"
            grep -v '^VERDICT' "$work/cmp.txt"
            echo
            if [ -f "$work/real-$name/$d-pgbouncer.txt" ]; then
                echo "PgBouncer: $(tr '\n' ' ' <"$work/real-$name/$d-pgbouncer.txt");" \
                    "poolsim: pooler_wait_mean_ms=$(awk -F, -f "$here/col.awk" -v k=pooler_wait_mean_ms "$work/sim-$name/points.csv")" \
                    "server_conns_peak=$(awk -F, -f "$here/col.awk" -v k=server_conns_peak "$work/sim-$name/points.csv")"
                echo
            fi
        } >>"$body"
        case "$v" in
            pass*) verdicts="$verdicts $d: pass;" ;;
            *) verdicts="$verdicts $d: **${v#FAIL }** out;" ;;
        esac
    done
    explanation "$name" >>"$body"
    echo >>"$body"
    summary+=("| $name | ${verdicts# } |")
done

{
    echo "# VALIDATION — poolsim against real PgBouncer and PostgreSQL"
    echo
    echo "Written by \`make validate-real\` (tests/real/validate.sh) on $started; load average"
    echo "(1, 5, 15 min) $load_before at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end,"
    echo "on a 2-core machine shared with other builds. PgBouncer $(pgbouncer --version | head -n 1 | cut -d' ' -f2),"
    echo "PostgreSQL $("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/postgres" --version | awk '{print $3}'),"
    echo "both on 127.0.0.1, started fresh for each point (tests/real/lib.sh)."
    echo
    sed -n '/^## Method/,$p' "$here/explanations.md" | awk '/^## / && !/^## Method/ { exit } 1'
    echo
    echo "## Summary"
    echo
    echo "| point | verdict per driver (tolerances: throughput 5%; p50, p95 10% or 5 ms; error shares 2 pp; same kinds) |"
    echo "|---|---|"
    printf '%s\n' "${summary[@]}"
    echo
    echo "## Calibration"
    echo
    echo "Committed (tests/real/calibration.env, used by every point file):"
    echo
    echo '```'
    grep '^#' "$here/calibration.env" | sed 's/^# \{0,1\}//'
    echo '```'
    echo
    echo "Re-measured at the start of this run (tests/real/calibrate.sh, 5 s each):"
    echo
    echo '```'
    cat "$work/calibration.txt"
    echo '```'
    echo
    echo "## Points"
    echo
    cat "$body"
} >"$outmd.tmp" && mv "$outmd.tmp" "$outmd"
echo "validate-real: wrote $outmd" >&2

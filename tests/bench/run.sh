#!/usr/bin/env bash
# make bench: the speed figures of BENCHMARKS.md.  Prints, never fails on a timing.
#   1. the event core's hold model (16, 1 024, 65 536 pending events)
#   2. one random variate per generator and per distribution
#   3. ../shared/bench/mmc_ref.c (plain xoshiro and -DUSE_GSL) beside poolsim on the same
#      M/M/20 case, 10^7 requests (BENCH_REQUESTS), one job: requests/s, events/s, both
#      ratios, peak RSS, and peak RSS at 10x fewer requests (memory must not grow with run
#      length).
#   4. two fully simulated cases, one job each, their ns per event against the GSL
#      yardstick's of the same run (DESIGN.md §8: at most 2x) and their requests/s:
#      closed-prisma (issue 4: closed users, Prisma pools, PgBouncer, round trips) and
#      pgbouncer-ps (issue 5: PgBouncer transaction mode, round trips, processor sharing).
#      Requests: each file's own, or BENCH_CASE_REQUESTS.
#   5. with BENCH_CALLGRIND=1 (needs valgrind): instructions per request and per event of
#      each case and of the GSL yardstick, counted by callgrind, so independent of the load
#      of the machine. Each is the difference between a run of n and one of 2n requests
#      (BENCH_CALLGRIND_REQUESTS, default 10^5), divided by the difference in requests or
#      events: start-up and output cancel out.
#   6. --jobs: tests/bench/jobs.json (8 points x 2 replications of equal cost) run with
#      --jobs 1 and --jobs 2, alternately, BENCH_JOBS_RUNS times (default 3): each pair's
#      wall times (summary.json's), speed-up and the share of the cores other processes took
#      meanwhile, and the machine's own ceiling: two independent --jobs 1 processes run at
#      once, 2 x (one alone) / (the slower of the two); then the best and the median speed-up
#      of the pairs during which other processes took < 10% of the cores (issue 7: target
#      >= 1.8 on 2 cores).
# One grep-able line per case ("poolsim CASE: ...", "callgrind CASE: ...") and per ratio.
set -u
B=${1:-build}
SHARED=${2:-../shared}
N=${BENCH_REQUESTS:-10000000}
M=${BENCH_CASE_REQUESTS:-}
CG_N=${BENCH_CALLGRIND_REQUESTS:-100000}
CASES="closed-prisma pgbouncer-ps"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"
echo "compiler: $(${CC:-cc} --version | head -1)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== event core (hold model)"
"$B/bench/hold"
echo "== random variates"
"$B/bench/variates"

rss() { # peak RSS in kB of a command, or "?" without GNU time
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1
    else
        "$@" >/dev/null 2>&1
        echo "?"
    fi
}

field() { # value of key $1 in a RESULT line $2 (key=value ...)
    echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

ref_rps=
gsl_rps=
gsl_ns=
if [ -f "$SHARED/bench/mmc_ref.c" ]; then
    echo "== yardstick: $SHARED/bench/mmc_ref.c, $N customers"
    cc -O2 -o "$out/mmc_ref" "$SHARED/bench/mmc_ref.c" -lm
    cc -O2 -DUSE_GSL -o "$out/mmc_ref_gsl" "$SHARED/bench/mmc_ref.c" -lgsl -lgslcblas -lm
    ref=$("$out/mmc_ref" "$N" 1 | grep '^RESULT')
    gsl=$("$out/mmc_ref_gsl" "$N" 1 | grep '^RESULT')
    echo "$ref"
    echo "$gsl"
    ref_rps=$(field cust_per_s "$ref")
    gsl_rps=$(field cust_per_s "$gsl")
    gsl_ns=$(awk -v e="$(field events_per_s "$gsl")" 'BEGIN { printf "%.1f", 1e9 / e }')
    echo "mmc_ref(GSL): ns_per_event=$gsl_ns"
else
    echo "== yardstick: $SHARED/bench/mmc_ref.c not found (make bench SHARED=...): ratios skipped"
fi

col() { # value of column $2 in row 1 of the points.csv in directory $1
    awk -F, -v c="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i} NR==2{print $k}' "$1/points.csv"
}

# poolsim_case NAME FILE [REQUESTS]: one run, one job; prints "poolsim NAME: ..." and leaves
# the figures in case_rps and case_ns (empty if the run failed).
poolsim_case() {
    local name=$1 file=$2 dir="$out/$1" over=()
    [ -n "${3:-}" ] && over=(--set "requests=$3")
    case_rps=
    case_ns=
    if ! "$B/poolsim" run "$file" "${over[@]}" --jobs 1 --quiet --out "$dir"; then
        echo "poolsim $name: run failed"
        return 1
    fi
    local wall line
    wall=$(sed -n 's/.*"wall_time_s": *\([0-9.eE+-]*\).*/\1/p' "$dir/summary.json" | head -1)
    line=$(awk -v w="$wall" -v r="$(col "$dir" requests)" -v e="$(col "$dir" events)" 'BEGIN {
        printf "requests=%d events=%d events_per_request=%.2f wall_s=%.3f", r, e, e / r, w
        printf " requests_per_s=%.0f events_per_s=%.0f", r / w, e / w
        printf " ns_per_event=%.1f\n", 1e9 * w / e
    }')
    echo "poolsim $name: $line"
    case_rps=$(field requests_per_s "$line")
    case_ns=$(field ns_per_event "$line")
}

ratio() { # ratio LABEL A B TARGET: prints "ratio LABEL = A/B  (TARGET)" when both are known
    if [ -n "$2" ] && [ -n "$3" ]; then
        awk -v a="$2" -v b="$3" -v l="$1" -v t="$4" \
            'BEGIN { printf "ratio %s = %.3f  (%s)\n", l, a / b, t }'
    fi
}

echo "== poolsim: tests/bench/mm20.json, $N requests, --jobs 1"
poolsim_case mm20 tests/bench/mm20.json "$N"
ratio "mm20 requests/s poolsim / mmc_ref(GSL)" "$case_rps" "$gsl_rps" "target >= 0.5"
ratio "mm20 requests/s poolsim / mmc_ref(xoshiro)" "$case_rps" "$ref_rps" "aim >= 0.5"
ratio "mm20 ns/event poolsim / mmc_ref(GSL)" "$case_ns" "$gsl_ns" "target <= 2"

for c in $CASES; do
    echo "== poolsim: tests/bench/$c.json, ${M:-its own number of} requests, --jobs 1"
    poolsim_case "$c" "tests/bench/$c.json" "$M"
    ratio "$c ns/event poolsim / mmc_ref(GSL)" "$case_ns" "$gsl_ns" "target <= 2"
done

echo "== --jobs: tests/bench/jobs.json, 8 points x 2 replications, --jobs 1 against --jobs 2"
wall_of() { sed -n 's/.*"wall_time_s": *\([0-9.eE+-]*\).*/\1/p' "$1/summary.json" | head -1; }
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# timed_run JOBS DIR: one run; adds its CPU seconds (user + sys) to own_cpu
timed_run() {
    local t
    t=$( { TIMEFORMAT='%U %S'; time "$B/poolsim" run tests/bench/jobs.json --jobs "$1" --quiet \
        --out "$2" >/dev/null 2>&1; } 2>&1) || return 1
    own_cpu=$(awk -v a="$own_cpu" -v t="$t" 'BEGIN { split(t, x, " "); print a + x[1] + x[2] }')
}
# Other processes' share of the machine during a pair: CPU time not ours over 2 cores x wall.
# On a shared machine (Linux autogroups share CPU per session, not per thread) --jobs 2 gains
# nothing while another session keeps a core busy: only pairs with others < 10% count.
speedups=()
tck=$(getconf CLK_TCK)
for i in $(seq 1 "${BENCH_JOBS_RUNS:-3}"); do
    own_cpu=0
    b0=$(busy_ticks)
    t0=$(date +%s.%N)
    timed_run 1 "$out/j1" && timed_run 2 "$out/j2" || break
    others=$(awk -v b="$(( $(busy_ticks) - b0 ))" -v k="$tck" -v o="$own_cpu" -v t0="$t0" \
        -v t1="$(date +%s.%N)" 'BEGIN { x = (b / k - o) / (2 * (t1 - t0))
            printf "%.0f", 100 * (x > 0 ? x : 0) }')
    cmp -s "$out/j1/points.csv" "$out/j2/points.csv" || echo "jobs: points.csv differs (a bug)"
    # The machine's own ceiling: two independent --jobs 1 processes at once.
    "$B/poolsim" run tests/bench/jobs.json --jobs 1 --quiet --out "$out/pa" &
    "$B/poolsim" run tests/bench/jobs.json --jobs 1 --quiet --out "$out/pb"
    wait
    w1=$(wall_of "$out/j1")
    w2=$(wall_of "$out/j2")
    s=$(awk -v a="$w1" -v b="$w2" 'BEGIN { printf "%.3f", a / b }')
    c=$(awk -v a="$w1" -v b="$(wall_of "$out/pa")" -v d="$(wall_of "$out/pb")" \
        'BEGIN { printf "%.3f", 2 * a / (b > d ? b : d) }')
    [ "$others" -lt 10 ] && speedups+=("$s")
    echo "jobs run $i: wall_s jobs1=$w1 jobs2=$w2 speedup=$s (two processes at once: ${c}x)," \
        "other processes used ${others}% of the cores"
done
if [ "${#speedups[@]}" -gt 0 ]; then
    printf '%s\n' "${speedups[@]}" | sort -n | awk '{ v[NR] = $1 } END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "ratio jobs speed-up --jobs 2 / --jobs 1: best %.3f, median %.3f", v[NR], m
        printf " of %d quiet runs", NR
        printf "  (target >= 1.8)\n" }'
else
    echo "ratio jobs speed-up: no run had the machine to itself (others >= 10%); not measured"
fi

echo "== memory"
echo "peak RSS kB at $N requests: $(rss "$B/poolsim" run tests/bench/mm20.json --set "requests=$N" --jobs 1 --quiet --out "$out/r1")"
echo "peak RSS kB at $((N / 10)) requests: $(rss "$B/poolsim" run tests/bench/mm20.json --set "requests=$((N / 10))" --jobs 1 --quiet --out "$out/r2")"

[ "${BENCH_CALLGRIND:-0}" = 1 ] || exit 0
if ! command -v valgrind >/dev/null; then
    echo "== callgrind: valgrind not found, skipped"
    exit 0
fi

ir() { # instructions counted by callgrind for the command "$@" (its output in $out/cg.out)
    local f="$out/cg.$$.$RANDOM"
    valgrind --tool=callgrind --callgrind-out-file="$f" "$@" >"$out/cg.out" 2>/dev/null
    sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$f" | head -1
    rm -f "$f"
}

# per_unit IR1 IR2 EVENTS1 EVENTS2 N: the figures of runs of N and 2N requests
per_unit() {
    awk -v a="$1" -v b="$2" -v ea="$3" -v eb="$4" -v n="$5" 'BEGIN {
        printf "Ir_per_request=%.0f Ir_per_event=%.1f", (b - a) / n, (b - a) / (eb - ea)
        printf " events_per_request=%.2f\n", (eb - ea) / n
    }'
}

# cg_case NAME FILE: instructions per request and per event, from n and 2n requests
cg_case() {
    local name=$1 file=$2 n=$CG_N a b ea eb line
    a=$(ir "$B/poolsim" run "$file" --set "requests=$n" --jobs 1 --quiet --out "$out/cg1")
    ea=$(col "$out/cg1" events)
    b=$(ir "$B/poolsim" run "$file" --set "requests=$((2 * n))" --jobs 1 --quiet --out "$out/cg2")
    eb=$(col "$out/cg2" events)
    line=$(per_unit "$a" "$b" "$ea" "$eb" "$n")
    echo "callgrind $name: $line"
    case_ir=$(field Ir_per_event "$line")
}

echo "== callgrind: instructions, runs of $CG_N and $((2 * CG_N)) requests"
gsl_ir=
if [ -x "$out/mmc_ref_gsl" ]; then
    a=$(ir "$out/mmc_ref_gsl" "$CG_N" 1)
    ea=$(field events "$(grep '^RESULT' "$out/cg.out")")
    b=$(ir "$out/mmc_ref_gsl" "$((2 * CG_N))" 1)
    eb=$(field events "$(grep '^RESULT' "$out/cg.out")")
    line=$(per_unit "$a" "$b" "$ea" "$eb" "$CG_N")
    echo "callgrind mmc_ref(GSL): $line"
    gsl_ir=$(field Ir_per_event "$line")
fi
for c in mm20 $CASES; do
    cg_case "$c" "tests/bench/$c.json"
    ratio "$c Ir/event poolsim / mmc_ref(GSL)" "$case_ir" "$gsl_ir" "instructions, not time"
done

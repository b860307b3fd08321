#!/usr/bin/env bash
# make bench: the speed figures of BENCHMARKS.md.  Prints, never fails on a timing.
#   1. the event core's hold model (16, 1 024, 65 536 pending events)
#   2. one random variate per generator and per distribution
#   3. ../shared/bench/mmc_ref.c (plain xoshiro and -DUSE_GSL) beside poolsim on the same
#      M/M/20 case, 10^7 requests, one job: requests/s, events/s, both ratios, peak RSS,
#      and peak RSS at 10x fewer requests (memory must not grow with run length).
set -u
B=${1:-build}
SHARED=${2:-../shared}
N=${BENCH_REQUESTS:-10000000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"
echo "compiler: $(${CC:-cc} --version | head -1)"

echo "== event core (hold model)"
"$B/bench/hold"
echo "== random variates"
"$B/bench/variates"

rss() { # peak RSS in kB of a command, or "?" without GNU time
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1
    else
        "$@" >/dev/null 2>&1; echo "?"
    fi
}

ref_rps=; gsl_rps=
if [ -f "$SHARED/bench/mmc_ref.c" ]; then
    echo "== yardstick: $SHARED/bench/mmc_ref.c, $N customers"
    cc -O2 -o "$out/mmc_ref" "$SHARED/bench/mmc_ref.c" -lm
    cc -O2 -DUSE_GSL -o "$out/mmc_ref_gsl" "$SHARED/bench/mmc_ref.c" -lgsl -lgslcblas -lm
    ref=$("$out/mmc_ref" "$N" 1 | grep '^RESULT')
    gsl=$("$out/mmc_ref_gsl" "$N" 1 | grep '^RESULT')
    echo "$ref"
    echo "$gsl"
    ref_rps=$(echo "$ref" | sed 's/.*cust_per_s=\([0-9.]*\).*/\1/')
    gsl_rps=$(echo "$gsl" | sed 's/.*cust_per_s=\([0-9.]*\).*/\1/')
else
    echo "== yardstick: $SHARED/bench/mmc_ref.c not found (make bench SHARED=...): ratios skipped"
fi

echo "== poolsim: tests/bench/mm20.json, $N requests, --jobs 1"
"$B/poolsim" run tests/bench/mm20.json --set "requests=$N" --jobs 1 --quiet --out "$out/ps" || exit 0
col() { # value of column $1 in row 1 of points.csv
    awk -F, -v c="$1" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i} NR==2{print $k}' "$out/ps/points.csv"
}
wall=$(sed -n 's/.*"wall_time_s": *\([0-9.eE+-]*\).*/\1/p' "$out/ps/summary.json" | head -1)
awk -v w="$wall" -v r="$(col requests)" -v e="$(col events)" -v rr="$ref_rps" -v gr="$gsl_rps" 'BEGIN {
    rps = r / w; eps = e / w
    printf "poolsim: requests=%d events=%d wall_s=%.3f requests_per_s=%.0f events_per_s=%.0f ns_per_event=%.1f\n", r, e, w, rps, eps, 1e9 / eps
    if (gr != "") printf "ratio requests/s poolsim / mmc_ref(GSL)     = %.3f  (target >= 0.5)\n", rps / gr
    if (rr != "") printf "ratio requests/s poolsim / mmc_ref(xoshiro) = %.3f  (aim >= 0.5)\n", rps / rr
}'
echo "peak RSS kB at $N requests: $(rss "$B/poolsim" run tests/bench/mm20.json --set "requests=$N" --jobs 1 --quiet --out "$out/r1")"
echo "peak RSS kB at $((N / 10)) requests: $(rss "$B/poolsim" run tests/bench/mm20.json --set "requests=$((N / 10))" --jobs 1 --quiet --out "$out/r2")"

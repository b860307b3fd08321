#!/usr/bin/env bash
# poolsim plot (issue 7, item 5): every figure renders, as PNG and SVG, from the committed results
# of tests/data/plots.json (users x pool size, two variants, 2 replications: tests/data/
# results-plots/) and from a small run with variants (one named with a comma, which gnuplot alone
# would cut) and a rate sweep; gnuplot exits 0 and says nothing (a warning is a failure); no image
# is empty; a figure that does not apply (the heatmap without a pool-size sweep) is skipped
# quietly; --log, --slo-p99 and --points reach the figures; a single-point run still gets its
# distributions; the scripts are found from any directory.  Skipped when gnuplot is not installed.
set -u
B=${B:-build}
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "t_plots: SKIP (gnuplot is not installed; Debian: apt-get install gnuplot-nox)"
    exit 0
fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail=0
figures="latency errors throughput waits utilisation histogram heatmap cdf"

# $1: results dir, $2: figures expected, $3: figures that must not be written; poolsim's stdout
# in $t/out.  Each expected figure is listed, non-empty and a PNG / an SVG.
check_figures() {
    for f in $2; do
        for ext in png svg; do
            p="$1/plots/$f.$ext"
            # poolsim lists a file only when gnuplot exited 0 on it
            grep -qxF "$p" "$t/out" || { echo "FAIL $p not reported as written"; fail=1; }
            [ -s "$p" ] || { echo "FAIL $p missing or empty"; fail=1; continue; }
        done
        head -c 8 "$1/plots/$f.png" | od -An -c | grep -q 'P   N   G' ||
            { echo "FAIL $1/plots/$f.png is not a PNG"; fail=1; }
        grep -q '<svg' "$1/plots/$f.svg" || { echo "FAIL $f.svg is not an SVG"; fail=1; }
        # a PNG of a drawn figure is never tiny (an empty 1000x660 canvas is about 5 kB)
        [ "$(wc -c <"$1/plots/$f.png")" -gt 12000 ] ||
            { echo "FAIL $1/plots/$f.png is nearly empty"; fail=1; }
    done
    for f in $3; do
        [ -e "$1/plots/$f.png" ] && { echo "FAIL $f drawn where it does not apply"; fail=1; }
        grep -q "/$f\." "$t/out" && { echo "FAIL $f reported where it does not apply"; fail=1; }
    done
}

# The committed results: every figure applies.
cp -r tests/data/results-plots "$t/c"
"$B/poolsim" plot "$t/c" >"$t/out" 2>"$t/err"
rc=$?
[ $rc = 0 ] || { echo "FAIL poolsim plot (committed results) exited $rc"; fail=1; }
[ -s "$t/err" ] && { echo "FAIL gnuplot or poolsim wrote to stderr:"; cat "$t/err"; fail=1; }
check_figures "$t/c" "$figures" ""
# the pool ceiling is drawn (only the transaction-mode variant has one: 2 pool sizes x 3 users)
grep -q 'ceiling pool_size / server_hold' "$t/c/plots/throughput.svg" ||
    { echo "FAIL throughput.svg has no ceiling"; fail=1; }
grep -q 'p99 latency (ms)' "$t/c/plots/heatmap.svg" ||
    { echo "FAIL heatmap.svg does not colour p99"; fail=1; }
grep -q 'latency (ms)<' "$t/c/plots/latency.svg" || grep -q '>latency (ms)' "$t/c/plots/latency.svg" ||
    { echo "FAIL latency.svg is not on a linear axis by default"; fail=1; }

# The options reach the scripts.
"$B/poolsim" plot "$t/c" --format svg --log --slo-p99 300 --points 2,11 >"$t/out" 2>"$t/err"
rc=$?
[ $rc = 0 ] || { echo "FAIL poolsim plot --log --slo-p99 --points exited $rc"; fail=1; }
[ -s "$t/err" ] && { echo "FAIL stderr with options:"; cat "$t/err"; fail=1; }
grep -q 'latency (ms, log scale)' "$t/c/plots/latency.svg" ||
    { echo "FAIL --log: latency.svg is not on a log axis"; fail=1; }
grep -q 'objective of 300 ms' "$t/c/plots/heatmap.svg" && grep -q 'FAIL' "$t/c/plots/heatmap.svg" &&
    grep -q '>pass<' "$t/c/plots/heatmap.svg" ||
    { echo "FAIL --slo-p99 300: heatmap.svg is not pass/fail against 300 ms"; fail=1; }
grep -q 'point 2 ' "$t/c/plots/cdf.svg" && grep -q 'point 11 ' "$t/c/plots/cdf.svg" &&
    ! grep -q 'point 0 ' "$t/c/plots/cdf.svg" ||
    { echo "FAIL --points 2,11: cdf.svg does not show exactly points 2 and 11"; fail=1; }
for bad in "--slo-p99 abc" "--slo-p99 -5" "--points 1,x" "--points ," "--slo-p99"; do
    # shellcheck disable=SC2086
    "$B/poolsim" plot "$t/c" $bad >/dev/null 2>&1
    [ $? = 2 ] || { echo "FAIL poolsim plot $bad is not a usage error"; fail=1; }
done
"$B/poolsim" plot "$t/c" --points 99 --format png >/dev/null 2>"$t/err"
[ $? = 2 ] && grep -q 'no point 99' "$t/err" ||
    { echo "FAIL --points 99 (no such point) is not an error naming it"; fail=1; }

cat >"$t/exp.json" <<'JSON'
{
  "name": "plots smoke",
  "seed": 3, "replications": 2, "warmup": "2s", "duration": "20s",
  "workload": {"model": "open", "rate": 40, "page": ["q"]},
  "app": {"request_timeout": "2s", "endpoints": {"q": {"operations": [
    {"type": "query", "statements": 1, "server_time": {"dist": "exponential", "mean": "40ms"}}]}}},
  "client_pool": {"kind": "prisma-v6", "connection_limit": 4, "pool_timeout": 1},
  "pooler": {"kind": "pgbouncer", "pool_mode": "transaction", "default_pool_size": 2,
             "query_wait_timeout": 1},
  "variants": {"pgbouncer, transaction": {}, "direct": {"pooler": {"kind": "direct"}}},
  "sweep": {"workload.rate": [20, 60, 100]}
}
JSON
"$B/poolsim" run "$t/exp.json" --quiet --out "$t/r" || exit 1

"$B/poolsim" plot "$t/r" >"$t/out" 2>"$t/err"
rc=$?
[ $rc = 0 ] || { echo "FAIL poolsim plot exited $rc"; fail=1; }
[ -s "$t/err" ] && { echo "FAIL gnuplot or poolsim wrote to stderr:"; cat "$t/err"; fail=1; }
# no pool size is swept: the heatmap does not apply, and says so by exit status 3, quietly
check_figures "$t/r" "latency errors throughput waits utilisation histogram cdf" "heatmap"
gnuplot -c plots/heatmap.gp "$t/r/points.csv" "$t/h.png" 2>"$t/err"
rc=$?
[ $rc = 3 ] || { echo "FAIL heatmap.gp without a pool-size sweep exited $rc, not 3"; fail=1; }
[ -s "$t/err" ] && { echo "FAIL heatmap.gp wrote to stderr:"; cat "$t/err"; fail=1; }
# the legend names the variant whole (gnuplot's strcol would stop at its comma)
grep -q 'pgbouncer. transaction' "$t/r/plots/latency.svg" ||
    { echo "FAIL latency.svg does not name the variant \"pgbouncer, transaction\" whole"; fail=1; }
grep -q 'plots smoke: request latency' "$t/r/plots/latency.svg" ||
    { echo "FAIL latency.svg is not titled with the experiment's name"; fail=1; }

# a single point: nothing to draw a line through, but its latency distribution
grep -v '"variants"\|"sweep"' "$t/exp.json" | sed 's/"query_wait_timeout": 1},/"query_wait_timeout": 1}/' \
    >"$t/one.json"
"$B/poolsim" run "$t/one.json" --quiet --out "$t/one" || exit 1
(cd "$t" && "$OLDPWD/$B/poolsim" plot one --format png) >"$t/out1" 2>"$t/err1"
rc=$?
[ $rc = 0 ] || { echo "FAIL poolsim plot (single point, run elsewhere) exited $rc"; cat "$t/err1"; fail=1; }
[ -s "$t/err1" ] && { echo "FAIL stderr on a single point:"; cat "$t/err1"; fail=1; }
[ "$(tr '\n' ' ' <"$t/out1")" = "one/plots/histogram.png one/plots/cdf.png " ] ||
    { echo "FAIL single point: expected only histogram.png and cdf.png, got: $(cat "$t/out1")"; fail=1; }

"$B/poolsim" plot "$t/r" --format gif 2>/dev/null
[ $? = 2 ] || { echo "FAIL --format gif is not a usage error"; fail=1; }
POOLSIM_PLOTS="$t/none" "$B/poolsim" plot "$t/r" 2>/dev/null
[ $? = 2 ] || { echo "FAIL a POOLSIM_PLOTS without scripts is not an error"; fail=1; }

[ $fail = 0 ] && echo "t_plots: 8 figures as PNG and SVG, options, does-not-apply, no gnuplot warning"
exit $fail

#!/usr/bin/env bash
# poolsim plot (issue 7, item 5): every figure renders, as PNG and SVG, from a small run with
# variants (one named with a comma, which gnuplot alone would cut) and a sweep; gnuplot exits 0
# and says nothing (a warning is a failure); a single-point run still gets its histogram; the
# scripts are found from any directory.  Skipped when gnuplot is not installed.
set -u
B=${B:-build}
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "t_plots: SKIP (gnuplot is not installed; Debian: apt-get install gnuplot-nox)"
    exit 0
fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail=0
figures="latency errors throughput waits utilisation histogram"

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
for f in $figures; do
    for ext in png svg; do
        p="$t/r/plots/$f.$ext"
        # poolsim lists a file only when gnuplot exited 0 on it
        grep -qxF "$p" "$t/out" || { echo "FAIL $f.$ext not reported as written"; fail=1; }
        [ -s "$p" ] || { echo "FAIL $f.$ext missing or empty"; fail=1; continue; }
    done
    head -c 8 "$t/r/plots/$f.png" | od -An -c | grep -q 'P   N   G' ||
        { echo "FAIL $f.png is not a PNG"; fail=1; }
    grep -q '<svg' "$t/r/plots/$f.svg" || { echo "FAIL $f.svg is not an SVG"; fail=1; }
done
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
[ "$(cat "$t/out1")" = "one/plots/histogram.png" ] ||
    { echo "FAIL single point: expected only one/plots/histogram.png, got: $(cat "$t/out1")"; fail=1; }

"$B/poolsim" plot "$t/r" --format gif 2>/dev/null
[ $? = 2 ] || { echo "FAIL --format gif is not a usage error"; fail=1; }
POOLSIM_PLOTS="$t/none" "$B/poolsim" plot "$t/r" 2>/dev/null
[ $? = 2 ] || { echo "FAIL a POOLSIM_PLOTS without scripts is not an error"; fail=1; }

[ $fail = 0 ] && echo "t_plots: 6 figures as PNG and SVG, no gnuplot warning"
exit $fail

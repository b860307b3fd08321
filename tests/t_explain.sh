#!/usr/bin/env bash
# poolsim explain end to end (issue 8 items 3-4): every file of tests/data/explain/ prints
# exactly the warnings of the trap it is named after (and exits 0: warnings never fail), the
# clean files print "warnings: none", values carry their sources, two warnings come true in a
# short busy run (and their fix removes the errors), and an invalid experiment gets the same
# message and exit code from explain as from run.  Run by `make check` with B set (VERBOSE=1
# prints the error counts).
set -u
P=${B:-build}/poolsim
P=$(cd "$(dirname "$P")" && pwd)/$(basename "$P")
D=$(pwd)/tests/data/explain
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail=0
traps="client-limit prepared-statements no-acquire-timeout max-connections maxwait-before-pool-timeout session-oversubscribed compute-size"

for f in "$D"/*.json; do
    name=$(basename "$f" .json)
    "$P" explain "$f" >"$t/out" 2>"$t/err"
    rc=$?
    [ "$rc" = 0 ] && [ ! -s "$t/err" ] || { echo "FAIL $name: exit $rc, $(cat "$t/err")"; fail=1; }
    if [ "$name" = clean ]; then
        grep -qx 'warnings: none' "$t/out" || { echo "FAIL clean: warnings printed"; fail=1; }
        continue
    fi
    want=""
    for tr in $traps; do
        case "$name" in "$tr" | "$tr"-*) want=$tr ;; esac
    done
    [ -n "$want" ] || { echo "FAIL $name: not named after a trap"; fail=1; continue; }
    # every warning line is "warning: <trap>: <numbers> — <reason> (<source>)", of that trap only
    n=$(grep -c '^warning: ' "$t/out")
    m=$(grep -cE "^warning: $want: [0-9a-zA-Z].* — .* \(.*(https://|github\.com/).*\)$" "$t/out")
    [ "$n" -ge 1 ] && [ "$n" = "$m" ] || { echo "FAIL $name: $n warnings, $m of $want"; fail=1; }
done

# the validation files are clean too
"$P" explain experiments/validate-erlang-c.json >"$t/out" 2>&1 && grep -qx 'warnings: none' "$t/out" ||
    { echo "FAIL validate-erlang-c: $(grep '^warning' "$t/out")"; fail=1; }

# sources: file, default, preset, sweep, variant, --set
"$P" explain experiments/incident.json --point 8 --set pooler.pool_size=12 >"$t/out" || fail=1
for line in '  name = incident (file)' '  postgres.max_connections = 60 (preset)' \
    '  workload.users = 2 (sweep)' '  pooler.pool_mode = transaction (variant)' \
    '  pooler.pool_size = 12 (--set)' '  client_pool.pool_timeout = 10s (default)'; do
    grep -qxF "$line" "$t/out" || { echo "FAIL sources: no line \"$line\""; fail=1; }
done
head -1 "$t/out" | grep -qF 'point 8 of 14 (variant "after: transaction 6543", workload.users=2)' ||
    { echo "FAIL --point 8 header: $(head -1 "$t/out")"; fail=1; }

# without --point: point 0 in full, the warnings of every point with the points they hold at
"$P" explain experiments/incident.json >"$t/out" || fail=1
grep -q '^warning: client-limit: .* \[points 0-6\]$' "$t/out" || { echo "FAIL grouped points"; fail=1; }
"$P" explain experiments/incident.json --point all >"$t/out" || fail=1
[ "$(grep -c '^explain ' "$t/out")" = 14 ] || { echo "FAIL --point all: not 14 points"; fail=1; }

# a warning predicts what run shows under load, and the fix that silences it removes the errors
col() { # col FILE NAME: the value of column NAME in the first row of a CSV file
    awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i } NR == 2 { print $c }' "$1"
}
errors_under_load() { # errors_under_load FILE COLUMN [ARGS...]: that error count at 200 busy users
    local f=$1 c=$2
    shift 2
    rm -rf "$t/run"
    "$P" run "$D/$f.json" --quiet --jobs 1 --out "$t/run" --set workload.users=200 \
        --set workload.think_time='"10ms"' --set duration='"5s"' "$@" >/dev/null || echo "-1"
    col "$t/run/points.csv" "$c"
}
for c in "prepared-statements errors_26000 client_pool.pgbouncer=true" \
    "client-limit-supavisor-session errors_MaxClientsInSessionMode client_pool.connection_limit=6"; do
    set -- $c
    with=$(errors_under_load "$1" "$2")
    without=$(errors_under_load "$1" "$2" --set "$3")
    [ -n "${VERBOSE:-}" ] && echo "$1: $2 $with -> $without"
    [ "${with:-0}" -gt 0 ] && [ "$without" = 0 ] ||
        { echo "FAIL $1: $2 = $with with the trap, $without with $3"; fail=1; }
    "$P" explain "$D/$1.json" --set "$3" | grep -qx 'warnings: none' ||
        { echo "FAIL $1: --set $3 does not silence the warning"; fail=1; }
done

# database_url: the keys it sets read "(url)", and its password never shows (stdout or stderr)
export T_EXPLAIN_URL='postgresql://postgres.ref:pa%40ss-w0rd-secret@aws-0-eu-west-1.pooler.supabase.com:6543/postgres?pgbouncer=true&connection_limit=3&foo=1'
"$P" explain "$D/clean.json" --set pooler='{}' --database-url-env T_EXPLAIN_URL \
    >"$t/out" 2>&1 || { echo "FAIL url: $(cat "$t/out")"; fail=1; }
for line in '  pooler.kind = supavisor (url)' '  pooler.pool_mode = transaction (url)' \
    '  client_pool.pgbouncer = true (url)' 'note: database_url: parameter "foo" is not simulated (ignored)'; do
    grep -qxF "$line" "$t/out" || { echo "FAIL url: no line \"$line\""; fail=1; }
done
"$P" explain "$D/clean.json" --database-url "${T_EXPLAIN_URL%%\?*}:1" >>"$t/out" 2>&1
"$P" explain "$D/clean.json" --database-url "$T_EXPLAIN_URL" --point 7 >>"$t/out" 2>&1
! grep -q 'pa%40ss\|pa@ss\|w0rd\|secret' "$t/out" || { echo "FAIL url: password shown"; fail=1; }

# errors: the same message and exit status as run (nothing on stdout)
cd "$t" || exit 1
base='"name":"t","duration":"10s","workload":{"model":"open","rate":10,"page":["a"]},"app":{"endpoints":{"a":{"operations":[{"type":"query","server_time":"5ms"}]}}}'
printf '{"name": "t",\n  "duration": "10s"\n  "seed": 1}\n' >syntax.json
echo "{$base, \"variants\": {\"ok\": {}, \"bad\": {\"postgres.max_connections\": 0}}}" >variant.json
echo "{$base, \"sweep\": {\"workload.rate\": []}}" >emptysweep.json
echo "{$base}" >ok.json
same() { # same NAME ARGS...: run and explain agree on stderr and exit status
    local name=$1
    shift
    "$P" run "$@" --quiet --out "out-$name" >/dev/null 2>run.err
    local rc_run=$?
    "$P" explain "$@" >explain.out 2>explain.err
    local rc_explain=$?
    if [ "$rc_run" != "$rc_explain" ] || ! cmp -s run.err explain.err || [ -s explain.out ]; then
        echo "FAIL $name: run $rc_run \"$(cat run.err)\", explain $rc_explain \"$(cat explain.err)\""
        fail=1
    fi
}
same syntax syntax.json
same variant variant.json
same emptysweep emptysweep.json
same set ok.json --set pooler.kind=pgbouncer --set pooler.pool_mode=tx
same missing missing.json
"$P" explain ok.json --point 1 2>err; [ $? = 2 ] && grep -q 'has 1 point (0 to 0)' err ||
    { echo "FAIL --point out of range: $(cat err)"; fail=1; }
"$P" explain ok.json --frob 2>/dev/null; [ $? = 2 ] || { echo "FAIL unknown option"; fail=1; }
"$P" explain 2>/dev/null; [ $? = 2 ] || { echo "FAIL no file: not exit 2"; fail=1; }
"$P" --help | grep -q '^       poolsim explain FILE' || { echo "FAIL --help"; fail=1; }

[ $fail = 0 ] && echo "t_explain: all passed"
exit $fail

#!/usr/bin/env bash
# Loader and CLI errors, end to end (issue 3): one experiment per error class;
# each must print exactly one line, exit 1, and create no output at all.
# Usage errors exit 2.  Run by `make check` with B set to the build directory.
set -u
P=${B:-build}/poolsim
P=$(cd "$(dirname "$P")" && pwd)/$(basename "$P")
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
fail=0

base='"name":"t","duration":"10s","workload":{"model":"open","rate":10,"page":["a"]},"app":{"endpoints":{"a":{"operations":[{"type":"query","server_time":"5ms"}]}}}'

# expect NAME EXIT "MESSAGE" [ARGS...]: run FILE NAME.json with ARGS; compare stderr and exit
expect() {
    local name=$1 code=$2 msg=$3
    shift 3
    "$P" run "$name.json" --out "out-$name" --quiet "$@" >stdout 2>stderr
    local rc=$?
    if [ "$rc" != "$code" ] || [ "$(cat stderr)" != "$msg" ] || [ -s stdout ]; then
        echo "FAIL $name: exit $rc (want $code)"; echo "  got:  $(cat stderr)"; echo "  want: $msg"
        fail=1
    fi
    if [ -e "out-$name" ]; then
        echo "FAIL $name: output directory created"; fail=1
    fi
}

printf '{"name": "t",\n  "duration": "10s"\n  "seed": 1}\n' > syntax.json
expect syntax 1 "poolsim: syntax.json:3:3: expected ',' or '}' after object member, got '\"'"

echo "{$base, \"pooler\": {\"kind\": \"pgbouncer\", \"pool_sise\": 5}}" > unknown.json
expect unknown 1 'poolsim: unknown.json: $.pooler.pool_sise: unknown key "pool_sise" (expected one of "kind", "pool_mode", "default_pool_size", "max_client_conn", "reserve_pool_size", "max_db_connections", "query_wait_timeout", "query_timeout", "reserve_pool_timeout", "server_connect_timeout", "server_login_retry", "per_statement", "foreign_clients", "max_prepared_statements")'

echo "{$base, \"seed\": 1, \"seed\": 2}" > dup.json
expect dup 1 'poolsim: dup.json: $.seed: duplicate key "seed"'

echo "{$base, \"replications\": \"ten\"}" > type.json
expect type 1 'poolsim: type.json: $.replications: expected an integer, got a string ("ten")'

echo "{$base, \"pooler\": {\"kind\": \"pgbouncer\", \"default_pool_size\": 0}}" > range.json
expect range 1 'poolsim: range.json: $.pooler.default_pool_size: must be an integer in [1, 1000000], got 0'

echo "{$base, \"warmup\": \"5 parsecs\"}" > unit.json
expect unit 1 'poolsim: unit.json: $.warmup: unknown unit in "5 parsecs" (expected ns, us, ms, s, m or h)'

echo "{$base, \"network\": {\"app_db_rtt\": 5}}" > bare.json
expect bare 1 'poolsim: bare.json: $.network.app_db_rtt: bare number 5 needs a unit (e.g. "5ms")'

echo "{$base, \"sweep\": {\"workload.rate\": []}}" > emptysweep.json
expect emptysweep 1 'poolsim: emptysweep.json: $.sweep.workload\.rate: must be a non-empty list of values, got an empty list'

echo "{$base, \"sweep\": {\"workload.rat\": [1, 2]}}" > nopath.json
expect nopath 1 'poolsim: nopath.json: point 0 (workload.rat=1): $.workload.rat: unknown key "rat" (expected one of "model", "users", "think_time", "start_spread", "rate", "rate_steps", "page", "pages")'

echo "{$base, \"variants\": {\"ok\": {}, \"bad\": {\"postgres.max_connections\": 0}}}" > variant.json
expect variant 1 'poolsim: variant.json: point 1 (variant "bad"): $.postgres.max_connections: must be an integer in [1, 262143], got 0'

# --set: a value that is not JSON is a string
echo "{$base, \"pooler\": {\"kind\": \"pgbouncer\"}}" > set.json
expect set 1 'poolsim: set.json: $.pooler.pool_mode: unknown value "tx" (expected "session", "transaction" or "statement")' --set pooler.pool_mode=tx

printf '{"name": "t", "duration": "1s" \xff}' > utf8.json
expect utf8 1 'poolsim: utf8.json:1:32: invalid UTF-8 byte 0xff'

echo "{$base, \"name\": \"***\"}" | sed 's/"name":"t",//' > badname.json
"$P" run badname.json --quiet 2>stderr; rc=$?
[ "$rc" = 1 ] && grep -q '\$.name: "\*\*\*" has no letter' stderr || { echo "FAIL badname: $rc $(cat stderr)"; fail=1; }
[ -e results ] && { echo "FAIL badname: results/ created"; fail=1; }

# a zero-time loop stops with a clear error instead of hanging (about 3 s to detect)
cat > stall.json <<'JSON'
{"name": "stall", "duration": "10s",
 "workload": {"model": "closed", "users": 1, "page": ["a", "b"]},
 "app": {"clients": 2, "endpoints": {"a": {"operations": [{"type": "query", "server_time": "0s"}]},
                                     "b": {"operations": [{"type": "query", "server_time": "0s"}]}}},
 "postgres": {"max_connections": 2, "superuser_reserved_connections": 1, "backend_start": "0s"}}
JSON
expect stall 1 'poolsim: stall.json: replication 1: the simulation stalled at 0s: 50000000 events without the clock moving (a zero-time loop, e.g. closed users with no think time whose calls fail at once over a zero round trip)'

# precision (experiments/README.md, "Precision"): the metric, the range, the cap
echo "{$base, \"precision\": {\"metric\": \"latency_max_ms\", \"relative\": 0.05}}" > pmax.json
expect pmax 1 'poolsim: pmax.json: $.precision.metric: "latency_max_ms" is a maximum over replications, with no confidence interval: name a metric that has a _ci column (e.g. "latency_p99_ms")'
echo "{$base, \"precision\": {\"metric\": \"latency_p99_ms\", \"relative\": 0}}" > prel.json
expect prel 1 'poolsim: prel.json: $.precision.relative: must be between 0 and 1, both excluded (got 0): 0.05 asks for +-5%'
echo "{$base, \"replications\": 8, \"precision\": {\"metric\": \"error_rate\", \"relative\": 0.1, \"max_replications\": 5}}" > pcap.json
expect pcap 1 'poolsim: pcap.json: $.precision.max_replications: must be at least replications (8) and at least 2 (got 5)'

# usage and I/O errors exit 2
"$P" run missing.json --quiet 2>stderr; [ $? = 2 ] || { echo "FAIL missing file: not exit 2"; fail=1; }
"$P" run 2>/dev/null; [ $? = 2 ] || { echo "FAIL no file: not exit 2"; fail=1; }
"$P" run x.json --jobs 0 2>/dev/null; [ $? = 2 ] || { echo "FAIL --jobs 0: not exit 2"; fail=1; }
"$P" frobnicate 2>/dev/null; [ $? = 2 ] || { echo "FAIL unknown command: not exit 2"; fail=1; }
"$P" --version | grep -q '^poolsim [0-9]' || { echo "FAIL --version"; fail=1; }
"$P" --help | grep -q '^usage: poolsim run FILE' || { echo "FAIL --help"; fail=1; }

[ $fail = 0 ] && echo "t_loader: all passed"
exit $fail

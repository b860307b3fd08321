#!/usr/bin/env bash
# tests/real/point.sh - run one measurement point against real PostgreSQL + PgBouncer.
#
#   point.sh FILE DRIVER OUTDIR [DURATION_S]
#
# FILE is the point's poolsim experiment (experiments/real-*.json): the real setup is read from
# it with jq, so the two sides cannot drift apart.  DRIVER is loadc or pgbench.  Writes
# OUTDIR/DRIVER.csv (a one-row summary in poolsim's metric names) and OUTDIR/DRIVER-pgbouncer.txt
# (SHOW POOLS maxima sampled every 0.5 s, SHOW STATS totals at the end).  Servers are started
# fresh for the point and always stopped by PID (lib.sh's trap), whatever happens.
#
# What is read: workload.users, workload.think_time; the first operation of the first endpoint
# (type query or transaction, statements, server_time); client_pool.kind (must be dedicated);
# app.connection_per_request (-> reconnect per transaction); pooler.kind (direct or pgbouncer)
# and every other pooler key but per_statement, written as is into pgbouncer.ini;
# postgres.max_connections, statement_timeout; warmup, duration.  pg_sleep's argument is
# server_time minus the pg_sleep overshoot the point files were written with
# (tests/real/calibration.env): server_time in a point file is what PostgreSQL really takes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
file=${1:?usage: point.sh FILE DRIVER OUTDIR [DURATION_S]}
driver=${2:?driver}
out=${3:?outdir}
loadc=${LOADC:-$here/../../build/loadc}
# shellcheck source=calibration.env
. "$here/calibration.env"
# shellcheck source=lib.sh
. "$here/lib.sh"
REAL_QUIET=1

# A duration string ("20ms", "2s", "250us", "1m") in milliseconds.
ms()
{
    awk -v d="$1" 'BEGIN {
        n = d + 0; u = d; sub(/^[0-9.]+/, "", u)
        f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
        if (f < 0) { print "bad duration " d > "/dev/stderr"; exit 1 }
        printf "%.6f\n", n * f }'
}

q()
{
    jq -r "$1" "$file"
}

[ "$(q '.client_pool.kind')" = dedicated ] || { echo "point.sh: $file: client_pool must be dedicated" >&2; exit 1; }
users=$(q '.workload.users')
think_ms=$(ms "$(q '.workload.think_time // "0s"')")
op='(.app.endpoints | to_entries[0].value.operations[0])'
type=$(q "$op.type")
statements=$(q "$op.statements")
sleep_ms=$(awk -v s="$(ms "$(q "$op.server_time")")" -v o="$sleep_overshoot_ms" \
    'BEGIN { printf "%.6f\n", s - o }')
per_tx=$(q '.app.connection_per_request // false')
pooler=$(q '.pooler.kind // "direct"')
warmup_s=$(awk -v m="$(ms "$(q '.warmup // "0s"')")" 'BEGIN { print m / 1000 }')
duration_s=${4:-$(awk -v m="$(ms "$(q '.duration')")" 'BEGIN { print m / 1000 }')}
mapfile -t pg_opts < <(q '.postgres // {} | to_entries[]
    | select(.key == "max_connections" or .key == "statement_timeout") | "\(.key)=\(.value)"')
mapfile -t bouncer_opts < <(q '.pooler // {} | to_entries[]
    | select(.key != "kind" and .key != "per_statement") | "\(.key)=\(.value)"')

mkdir -p "$out"
real_init || exit 1
real_pg_start "${pg_opts[@]}" || exit 1
port=$REAL_PG_PORT
if [ "$pooler" = pgbouncer ]; then
    real_bouncer_start "${bouncer_opts[@]}" || exit 1
    port=$REAL_BOUNCER_PORT
fi

# SHOW POOLS every 0.5 s while the load runs, unless the point limits client connections (the
# admin connection would take one of the slots the point is about).
sample_pools()
{
    while real_alive "$REAL_BOUNCER_PID"; do
        real_psql "$REAL_BOUNCER_PORT" pgbouncer 'SHOW POOLS' 2>/dev/null | grep '^postgres|'
        sleep 0.5
    done >"$REAL_STATE/pools.txt"
}
sampler=
if [ "$pooler" = pgbouncer ] && [ "$(q '.pooler.max_client_conn // empty')" = "" ]; then
    sample_pools &
    sampler=$!
    REAL_CLIENTS+=("$sampler") # the trap stops it too
fi

run_loadc()
{
    local args=(--port "$port" --clients "$users" --warmup-s "$warmup_s" --duration-s "$duration_s"
        --statements "$statements" --sleep-ms "$sleep_ms" --think-ms "$think_ms"
        --records "$out/loadc-records.csv")
    [ "$type" = transaction ] && args+=(--tx)
    [ "$per_tx" = true ] && args+=(--connect-per-tx)
    real_run "$loadc" "${args[@]}" >"$out/loadc.csv"
}

run_pgbench()
{
    local s i script="$REAL_STATE/script.sql" jobs=2 args=()
    s=$(awk -v m="$sleep_ms" 'BEGIN { printf "%.6f", m / 1000 }')
    {
        [ "$type" = transaction ] && echo 'BEGIN;'
        for ((i = 0; i < statements; i++)); do
            echo "SELECT pg_sleep($s);"
        done
        [ "$type" = transaction ] && echo 'COMMIT;'
    } >"$script"
    [ "$users" -lt 2 ] && jobs=1
    [ "$per_tx" = true ] && args+=(-C)
    PGSSLMODE=disable real_run pgbench -n -h 127.0.0.1 -p "$port" -U postgres \
        -c "$users" -j "$jobs" -T "$(awk -v w="$warmup_s" -v d="$duration_s" 'BEGIN { print int(w + d + 0.999) }')" \
        -f "$script" -l --log-prefix="$REAL_STATE/pgb" "${args[@]}" postgres >"$out/pgbench.out" 2>&1
    "$loadc" --pgbench-log --warmup-s "$warmup_s" --duration-s "$duration_s" "$REAL_STATE"/pgb.* \
        >"$out/pgbench.csv"
}

rc=0
case "$driver" in
    loadc) run_loadc || rc=1 ;;
    pgbench) run_pgbench || rc=1 ;;
    fail) rc=1 ;; # for tests/t_real.sh: a point that fails while its servers run
    *) echo "point.sh: unknown driver $driver" >&2; rc=2 ;;
esac
[ -n "$sampler" ] && { kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null; real_client_done "$sampler"; }

if [ "$pooler" = pgbouncer ]; then
    {
        # SHOW POOLS: database|user|cl_active|cl_waiting|...|maxwait|maxwait_us|pool_mode
        awk -F'|' '{ if ($4 > w) w = $4; t = $(NF - 2) + $(NF - 1) / 1e6; if (t > m) m = t }
            END { printf "pools_samples=%d\ncl_waiting_max=%d\nmaxwait_max_ms=%.3f\n", NR, w, m * 1000 }' \
            "$REAL_STATE/pools.txt" 2>/dev/null
        real_psql "$REAL_BOUNCER_PORT" pgbouncer 'SHOW STATS' | grep '^postgres|' | awk -F'|' \
            '{ printf "total_xact_count=%s\ntotal_query_count=%s\ntotal_wait_time_ms=%.3f\n", $2, $3, $8 / 1000 }'
    } >"$out/$driver-pgbouncer.txt"
fi
exit $rc

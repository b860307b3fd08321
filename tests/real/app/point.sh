#!/usr/bin/env bash
# tests/real/app/point.sh - run one node-postgres app point against real PgBouncer + PostgreSQL.
#
#   point.sh FILE OUTDIR [DURATION_S]
#
# FILE is the point's poolsim experiment (experiments/real-app-*.json); the real setup is read
# from it with jq, so the two sides cannot drift apart.  Writes OUTDIR/real.csv (load.js's
# one-row summary in poolsim's metric names), OUTDIR/pgbouncer.txt (SHOW POOLS maxima sampled
# every 0.5 s on one admin connection, SHOW STATS at the end) and OUTDIR/app-stats.json (each
# pg.Pool's counts at the end of the load).
#
# What is read: workload.users (HTTP connections), workload.page or workload.pages (weights:
# each page is one endpoint; endpoint i is the path /e/i, served by controller i mod clients);
# app.clients (controllers, one pg.Pool each); the operations of the first endpoint (every
# endpoint must be alike): `app` operations are Node's own cost (nothing to run: it is what the
# app costs), the others are either `query` operations (their statements add up: each is a
# pool.query of its own anyway) or one `transaction`, with one server_time;
# client_pool (kind pg-pool: max, connectionTimeoutMillis, idleTimeoutMillis); pooler.kind
# (pgbouncer) and every other pooler key but per_statement, written as is into pgbouncer.ini,
# except max_client_conn, written one higher: the admin connection that samples SHOW POOLS is a
# client of PgBouncer too; postgres.max_connections; warmup, duration.  pg_sleep's argument is
# server_time minus the overshoot of tests/real/calibration.env.  A point whose name contains
# "prisma7" runs the app with DRIVER=prisma7 (Prisma 7 through @prisma/adapter-pg), else pg.
#
# Every process started here - PostgreSQL, PgBouncer (lib.sh, by PID), the app, the load
# generator and the sampler (by PID) - is stopped when this script ends, fails or is
# interrupted; APP_PIDFILE=FILE appends their PIDs to FILE.  APP_POINT_FAIL=1 makes the point fail while everything runs (tests/t_real_app.sh).
set -u
here=$(cd "$(dirname "$0")" && pwd)
real=$(cd "$here/.." && pwd)
# A server can lose its port between the free-port check and its bind (lib.sh picks ports in
# 20000-39999, partly the kernel's ephemeral range, and this machine makes thousands of
# connections): the inner run then exits 75, and the point is tried again, up to 3 times.
# The outer run forwards SIGTERM/SIGINT to the inner one and waits for it (which stops all).
if [ -z "${APP_POINT_INNER:-}" ]; then
    for try in 1 2 3; do
        APP_POINT_INNER=1 bash "$0" "$@" &
        inner=$!
        trap 'kill -TERM $inner 2>/dev/null; wait $inner; exit 143' TERM
        trap 'kill -TERM $inner 2>/dev/null; wait $inner; exit 130' INT
        wait $inner
        rc=$?
        trap - TERM INT
        [ $rc = 75 ] || exit $rc
        echo "point.sh: a port was taken under us; trying again ($try)" >&2
    done
    exit 1
fi
file=${1:?usage: point.sh FILE OUTDIR [DURATION_S]}
out=${2:?outdir}
# shellcheck source=../calibration.env
. "$real/calibration.env"
# shellcheck source=calibration.env
. "$here/calibration.env"
# shellcheck source=../lib.sh
. "$real/lib.sh"
REAL_QUIET=1
command -v node >/dev/null || { echo "point.sh: node is not installed" >&2; exit 1; }
[ -d "$here/node_modules/pg" ] || { echo "point.sh: run make deps-real-app first" >&2; exit 1; }

ms()
{
    awk -v d="$1" 'BEGIN {
        n = d + 0; u = d; sub(/^[0-9.]+/, "", u)
        f = (u == "") ? 1 : (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
        if (f < 0) { print "bad duration " d > "/dev/stderr"; exit 1 }
        printf "%.6f\n", n * f }'
}

q()
{
    jq -r "$1" "$file"
}

[ "$(q '.client_pool.kind')" = pg-pool ] || { echo "point.sh: $file: client_pool must be pg-pool" >&2; exit 1; }
[ "$(q '.pooler.kind')" = pgbouncer ] || { echo "point.sh: $file: pooler must be pgbouncer" >&2; exit 1; }
[ "$(q '[.app.endpoints[] | .operations] | unique | length')" = 1 ] ||
    { echo "point.sh: $file: every endpoint must run the same operations" >&2; exit 1; }
users=$(q '.workload.users')
controllers=$(q '.app.clients // 1')
ops='(.app.endpoints | to_entries[0].value.operations | map(select(.type != "app")))'
kind=$(q "$ops[0].type")
[ "$(q "$ops | map([.type, .server_time]) | unique | length")" = 1 ] ||
    { echo "point.sh: $file: the database operations must be alike" >&2; exit 1; }
[ "$kind" = query ] || [ "$(q "$ops | length")" = 1 ] ||
    { echo "point.sh: $file: one transaction per endpoint" >&2; exit 1; }
statements=$(q "$ops | map(.statements // 1) | add")
sleep_ms=$(awk -v s="$(ms "$(q "$ops[0].server_time")")" -v o="$sleep_overshoot_ms" \
    'BEGIN { printf "%.6f\n", s - o }')
pool_max=$(q '.client_pool.max // 10')
cto_ms=$(ms "$(q '.client_pool.connectionTimeoutMillis // 0')")
idle_ms=$(ms "$(q '.client_pool.idleTimeoutMillis // 10000')")
driver=pg
case "$(q '.name')" in *prisma7*) driver=prisma7 ;; esac
warmup_s=$(awk -v m="$(ms "$(q '.warmup // "0s"')")" 'BEGIN { print m / 1000 }')
duration_s=${3:-$(awk -v m="$(ms "$(q '.duration')")" 'BEGIN { print m / 1000 }')}
# The paths and their weights: "e/<index of the page's one endpoint>:<weight>".
paths=$(jq -r '(.app.endpoints | keys_unsorted) as $e
    | if .workload.pages then [.workload.pages[] | "e/\(. as $p | $e | index($p.endpoints[0])):\(.weight // 1)"]
      else ["e/\(.workload.page[0] as $n | $e | index($n)):1"] end | join(",")' "$file")
mapfile -t pg_opts < <(q '.postgres // {} | to_entries[] | select(.key == "max_connections") | "\(.key)=\(.value)"')
mapfile -t bouncer_opts < <(q '.pooler | .max_client_conn = ((.max_client_conn // 100) + 1)
    | to_entries[] | select(.key != "kind" and .key != "per_statement") | "\(.key)=\(.value)"')

mkdir -p "$out"
APP_PIDS=()
app_stop_all()
{
    local p
    for p in "${APP_PIDS[@]}"; do
        real_stop_pid "$p" TERM
    done
    APP_PIDS=()
}
real_init || exit 1
trap 'app_stop_all; real_stop_all' EXIT
trap 'app_stop_all; real_stop_all; trap - INT; kill -INT $$' INT
trap 'app_stop_all; real_stop_all; trap - TERM; kill -TERM $$' TERM
real_pg_start "${pg_opts[@]}" || exit 75
real_bouncer_start "${bouncer_opts[@]}" || exit 75
# For tests/t_real_app.sh: every PID this point starts, to check that none outlives it.
pidfile=${APP_PIDFILE:-/dev/null}
echo "$REAL_PG_PID $REAL_BOUNCER_PID" >>"$pidfile"

# SHOW POOLS every 0.5 s on one admin connection, opened before the load (psql's \watch).
printf 'SHOW POOLS\n\\watch 0.5\n' | psql -X -q -A -h 127.0.0.1 -p "$REAL_BOUNCER_PORT" -U postgres \
    -d pgbouncer >"$REAL_STATE/pools.txt" 2>/dev/null &
APP_PIDS+=($!)
echo "$!" >>"$pidfile"

# The app's port below the ephemeral range (32768-60999), where no outgoing connection takes it.
app_port=
for i in $(seq 1 200); do
    p=$((10000 + (RANDOM % 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        app_port=$p
        break
    fi
done
[ -n "$app_port" ] || exit 75
PGPORT=$REAL_BOUNCER_PORT APP_PORT=$app_port CONTROLLERS=$controllers POOL_MAX=$pool_max \
    CONN_TIMEOUT_MS=$cto_ms IDLE_TIMEOUT_MS=$idle_ms STATEMENTS=$statements SLEEP_MS=$sleep_ms \
    KIND=$kind DRIVER=$driver node "$here/app.js" >"$out/app.log" 2>&1 &
app_pid=$!
APP_PIDS+=("$app_pid")
echo "$app_pid" >>"$pidfile"
real_wait_port "$app_pid" "$app_port" || { echo "point.sh: the app did not start" >&2; cat "$out/app.log" >&2; exit 75; }
[ "${APP_POINT_FAIL:-0}" = 1 ] && { echo "point.sh: failing on purpose (APP_POINT_FAIL=1)" >&2; exit 1; }

node "$here/load.js" --url "http://127.0.0.1:$app_port" --connections "$users" \
    --warmup-s "$warmup_s" --duration-s "$duration_s" --paths "$paths" \
    --records "$out/records.csv" >"$out/real.csv" 2>"$out/load.log" &
load_pid=$!
APP_PIDS+=("$load_pid")
echo "$load_pid" >>"$pidfile"
wait "$load_pid"
rc=$?
curl -s --max-time 5 "http://127.0.0.1:$app_port/stats" >"$out/app-stats.json" 2>/dev/null ||
    node -e "require('http').get('http://127.0.0.1:$app_port/stats', r => r.pipe(process.stdout))" \
        >"$out/app-stats.json" 2>/dev/null
app_stop_all

# SHOW POOLS (psql -A, header included): the maxima over the samples of the database postgres.
{
    awk -F'|' '$1 == "database" { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $1 == "postgres" && c["cl_active"] {
            cl = $c["cl_active"] + $c["cl_waiting"]
            sv = $c["sv_active"] + $c["sv_idle"] + $c["sv_used"] + $c["sv_tested"] + $c["sv_login"]
            if (cl > mcl) mcl = cl; if ($c["cl_waiting"] > mw) mw = $c["cl_waiting"]
            if (sv > msv) msv = sv; if ($c["sv_active"] > msa) msa = $c["sv_active"]
            t = $c["maxwait"] + $c["maxwait_us"] / 1e6; if (t > m) m = t; n++ }
        END { printf "pools_samples=%d\nclients_max=%d\ncl_waiting_max=%d\nservers_max=%d\nsv_active_max=%d\nmaxwait_max_ms=%.1f\n",
                     n, mcl, mw, msv, msa, m * 1000 }' "$REAL_STATE/pools.txt"
    psql -X -q -A -h 127.0.0.1 -p "$REAL_BOUNCER_PORT" -U postgres -d pgbouncer -c 'SHOW STATS' |
        awk -F'|' '$1 == "database" { for (i = 1; i <= NF; i++) c[$i] = i; next }
            $1 == "postgres" { printf "total_xact_count=%s\ntotal_query_count=%s\n",
                               $c["total_xact_count"], $c["total_query_count"] }'
} >"$out/pgbouncer.txt"
exit $rc

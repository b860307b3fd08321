#!/usr/bin/env bash
# tests/real/calibrate.sh - measure what poolsim needs from this machine (issue 9, item 4).
#
#   calibrate.sh LOADC [SECONDS]     prints key=value lines on stdout
#
# One client, no concurrency, medians (robust to a shared machine's noise):
#   direct_rtt_ms        SELECT pg_sleep(0) straight to PostgreSQL: loopback round trip plus
#                        PostgreSQL's own per-statement cost -> network.app_db_rtt and pooler_db_rtt
#   sleep_overshoot_ms   pg_sleep(0.02) minus 20 ms minus direct_rtt_ms -> added to server_time
#   direct_connect_ms    a libpq connect (TCP + startup + trust auth, sslmode=disable) to
#                        PostgreSQL: 2 round trips + fork and start of a backend
#   backend_start_ms     direct_connect_ms - 2 * direct_rtt_ms (a bare connect; too low, see next)
#   backend_start_tx_ms  a connect as the points pay it: p50 of connect + pg_sleep(0.02) on a new
#                        connection each time, minus p50 of pg_sleep(0.02) on a persistent one,
#                        minus 2 round trips -> postgres.backend_start (the new backend's first
#                        statement also warms its catalog caches, and a bare connect misses that)
#   backend_cpu_ms       CPU time (user + system) of one backend's life, connect to exit, from
#                        the postmaster's reaped-children times over the connect-only run: what a
#                        connect costs the server's cores (poolsim's backend_start is a pure delay)
#   bouncer_connect_ms   a connect to PgBouncer, which answers the login itself: 2 of its round
#                        trips -> network.app_pooler_rtt = bouncer_connect_ms / 2
#   bouncer_rtt_ms       SELECT pg_sleep(0) through PgBouncer (transaction mode, server linked)
#   per_statement_ms     bouncer_rtt_ms - app_pooler_rtt - direct_rtt_ms -> pooler.per_statement
#   loadc_gap_ms         loadc's own time between one transaction's end and the next's start
#   pgbench_gap_ms       the same for pgbench (from its per-transaction log)
set -u
here=$(cd "$(dirname "$0")" && pwd)
loadc=${1:?usage: calibrate.sh LOADC [SECONDS]}
secs=${2:-5}
REAL_QUIET=1
# shellcheck source=lib.sh
. "$here/lib.sh"
real_init || exit 1
real_pg_start || exit 1
real_bouncer_start pool_mode=transaction default_pool_size=1 || exit 1

# col CSV NAME: the value of column NAME in the one-row CSV on stdin.
col()
{
    awk -F, -v k="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i } NR == 2 { print $c }'
}

# The median of the numbers on stdin, one a line (mawk has no asort).
median()
{
    sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.4f\n", v[int((NR + 1) / 2)]; else print "nan" }'
}

# The median gap (ms) between a client's consecutive transactions, from loadc's records.
gap_loadc()
{
    awk -F, 'NR > 1 { if (n++) printf "%.6f\n", ($1 - e) * 1000; e = $1 + $2 / 1000 }' "$1" | median
}

run()
{
    "$loadc" --warmup-s 0.5 --duration-s "$secs" "$@" | col latency_p50_ms
}

direct_rtt=$(run --port "$REAL_PG_PORT" --sleep-ms 0 --records "$REAL_STATE/d0.csv")
d20=$(run --port "$REAL_PG_PORT" --sleep-ms 20)
# The postmaster's reaped children's user + system time, in clock ticks (fields 16 and 17).
child_ticks()
{
    awk '{ print $16 + $17 }' "/proc/$REAL_PG_PID/stat"
}
ticks0=$(child_ticks)
"$loadc" --warmup-s 0 --duration-s "$secs" --port "$REAL_PG_PORT" --statements 0 --connect-per-tx \
    >"$REAL_STATE/conn.csv"
ticks1=$(child_ticks)
backend_cpu=$(awk -F, -v t="$((ticks1 - ticks0))" -v hz="$(getconf CLK_TCK)" \
    'NR == 2 { printf "%.3f\n", ($1 > 0 ? t / hz * 1000 / $1 : 0) }' "$REAL_STATE/conn.csv")
direct_connect=$(run --port "$REAL_PG_PORT" --statements 0 --connect-per-tx)
d20c=$(run --port "$REAL_PG_PORT" --sleep-ms 20 --connect-per-tx)
bouncer_connect=$(run --port "$REAL_BOUNCER_PORT" --statements 0 --connect-per-tx)
bouncer_rtt=$(run --port "$REAL_BOUNCER_PORT" --sleep-ms 0)
loadc_gap=$(gap_loadc "$REAL_STATE/d0.csv")

# pgbench: one client, pg_sleep(0), per-transaction log; gap = next start - this end.
echo 'SELECT pg_sleep(0);' >"$REAL_STATE/s0.sql"
chmod 644 "$REAL_STATE/s0.sql"
(cd "$REAL_STATE" && PGSSLMODE=disable pgbench -n -h 127.0.0.1 -p "$REAL_PG_PORT" -U postgres \
    -c 1 -T "$secs" -f s0.sql -l --log-prefix=pgb postgres >/dev/null 2>&1)
pgbench_gap=$(cat "$REAL_STATE"/pgb.* 2>/dev/null |
    awk '{ end = ($5 % 100000) * 1e6 + $6; start = end - $3;
           if (n++) printf "%.3f\n", (start - last) / 1000; last = end }' | median)

awk -v r="$direct_rtt" -v d="$d20" -v dc="$direct_connect" -v bc="$bouncer_connect" \
    -v br="$bouncer_rtt" -v lg="$loadc_gap" -v pg="$pgbench_gap" -v dc20="$d20c" -v cpu="$backend_cpu" 'BEGIN {
    printf "direct_rtt_ms=%.4f\n", r
    printf "sleep_overshoot_ms=%.4f\n", d - 20 - r
    printf "direct_connect_ms=%.4f\n", dc
    printf "backend_start_ms=%.4f\n", dc - 2 * r
    printf "backend_start_tx_ms=%.4f\n", dc20 - d - 2 * r
    printf "backend_cpu_ms=%.3f\n", cpu
    printf "bouncer_connect_ms=%.4f\n", bc
    printf "app_pooler_rtt_ms=%.4f\n", bc / 2
    printf "bouncer_rtt_ms=%.4f\n", br
    printf "per_statement_ms=%.4f\n", br - bc / 2 - r
    printf "loadc_gap_ms=%.4f\n", lg
    printf "pgbench_gap_ms=%s\n", pg
}'

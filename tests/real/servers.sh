#!/usr/bin/env bash
# tests/real/servers.sh - start or stop the throwaway PostgreSQL + PgBouncer from another program.
#
#   servers.sh start [--pg NAME=VALUE]... [--bouncer KEY=VALUE]... [--no-bouncer]
#       starts both on 127.0.0.1 and prints, on stdout, shell assignments:
#       REAL_STATE=/tmp/poolsim-real.XXXX REAL_PG_PORT=... REAL_BOUNCER_PORT=...
#       (user postgres, database postgres, no password; PgBouncer's admin console is the
#       database "pgbouncer").  On failure it stops whatever it started and exits 1.
#   servers.sh stop STATE       stops every server listed in STATE/pids, by PID, and deletes STATE.
#
# Example (bash):  eval "$(tests/real/servers.sh start --bouncer pool_mode=transaction)"
#                  ...; tests/real/servers.sh stop "$REAL_STATE"
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

stop_state()
{
    local state=$1 pid i
    [ -d "$state" ] || { echo "servers.sh: no state directory $state" >&2; return 1; }
    if [ -f "$state/pids" ]; then
        # Last started first: PgBouncer before PostgreSQL.
        for pid in $(tac "$state/pids"); do
            real_alive "$pid" || continue
            if [ -f "$state/pg.pid" ] && [ "$pid" = "$(cat "$state/pg.pid")" ]; then
                kill -INT "$pid" 2>/dev/null
            else
                kill -TERM "$pid" 2>/dev/null
            fi
            for i in $(seq 1 100); do
                real_alive "$pid" || break
                sleep 0.1
            done
            real_alive "$pid" && kill -KILL "$pid" 2>/dev/null
        done
    fi
    case "$state" in
        /tmp/poolsim-real.*) rm -rf "$state" ;;
        *) echo "servers.sh: not deleting $state (not ours)" >&2 ;;
    esac
}

case "${1:-}" in
    start)
        shift
        pg=()
        bouncer=()
        use_bouncer=1
        while [ $# -gt 0 ]; do
            case "$1" in
                --pg) pg+=("$2"); shift 2 ;;
                --bouncer) bouncer+=("$2"); shift 2 ;;
                --no-bouncer) use_bouncer=0; shift ;;
                *) echo "servers.sh: unknown option $1" >&2; exit 2 ;;
            esac
        done
        REAL_QUIET=1
        real_init || exit 1
        real_pg_start "${pg[@]}" || exit 1
        echo "$REAL_PG_PID" >"$REAL_STATE/pg.pid"
        if [ $use_bouncer = 1 ]; then
            real_bouncer_start "${bouncer[@]}" || exit 1
        fi
        # Success: the servers outlive this script; `stop` ends them.
        trap - EXIT INT TERM
        echo "REAL_STATE=$REAL_STATE REAL_PG_PORT=$REAL_PG_PORT REAL_BOUNCER_PORT=$REAL_BOUNCER_PORT"
        ;;
    stop)
        [ $# = 2 ] || { echo "usage: servers.sh stop STATE" >&2; exit 2; }
        stop_state "$2"
        ;;
    *)
        echo "usage: servers.sh start [--pg K=V]... [--bouncer K=V]... [--no-bouncer]" >&2
        echo "       servers.sh stop STATE" >&2
        exit 2
        ;;
esac

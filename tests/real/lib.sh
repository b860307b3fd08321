# tests/real/lib.sh - a throwaway PostgreSQL cluster and PgBouncer on 127.0.0.1 (issue 9).
#
# Source it from bash.  real_init sets a trap so that every server this shell started is
# stopped, by its own PID, when the shell exits, is interrupted or fails; nothing is ever
# stopped by name.  Servers run as an unprivileged user (PgBouncer refuses to run as root):
# when we are root, REAL_USER (default poolsim-test) is created if missing and both servers
# are started through setpriv, which execs them, so $! is the server's own PID.  When we are
# not root they run as ourselves.
#
#   real_init                          trap + user + a state directory ($REAL_STATE)
#   real_pg_start [NAME=VALUE ...]     initdb + postgres; sets REAL_PG_PORT (extra -c settings)
#   real_bouncer_start [KEY=VALUE ...] pgbouncer in front of it; sets REAL_BOUNCER_PORT
#   real_bouncer_stop                  stop PgBouncer only (a new config = a new PgBouncer)
#   real_stop_all                      stop everything (also what the trap runs)
#   real_psql PORT DB SQL              one psql call (user postgres, no password: trust)
#   real_run CMD...                    run a load client so that a signal stops it too
#
# Invariants: every PID in REAL_PIDS is a server we started and have not yet reaped; every
# directory in REAL_DIRS is ours to delete.  Each PID is also written to $REAL_STATE/pids so
# that tests/real/servers.sh stop can stop servers started by another shell.

REAL_USER=${REAL_USER:-poolsim-test}
REAL_PGBIN=${REAL_PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
REAL_PIDS=()
REAL_CLIENTS=()
REAL_DIRS=()
REAL_BOUNCER_PID=
REAL_PG_PORT=
REAL_BOUNCER_PORT=

real_log()
{
    [ -n "${REAL_QUIET:-}" ] || echo "real: $*" >&2
}

# The prefix that runs a command as the unprivileged user.  setpriv execs it, and a simple
# command put in the background is forked and exec'd directly: "${REAL_AS[@]}" cmd & gives
# $! = the server's own PID (a shell function in the background would give a subshell's).
real_set_as()
{
    REAL_AS=()
    if [ "$(id -u)" = 0 ]; then
        REAL_AS=(setpriv "--reuid=$REAL_USER" "--regid=$REAL_USER" --init-groups --)
    fi
}

# A process is alive when it exists and is not a zombie (PID 1 here may reap late).
real_alive()
{
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

real_ensure_user()
{
    [ "$(id -u)" = 0 ] || return 0
    id -u "$REAL_USER" >/dev/null 2>&1 && return 0
    useradd --system --no-create-home --shell /usr/sbin/nologin "$REAL_USER" ||
        { echo "real: cannot create user $REAL_USER" >&2; return 1; }
}

real_init()
{
    [ -x "$REAL_PGBIN/postgres" ] || { echo "real: no PostgreSQL under $REAL_PGBIN" >&2; return 1; }
    command -v pgbouncer >/dev/null || { echo "real: pgbouncer not installed" >&2; return 1; }
    real_ensure_user || return 1
    real_set_as
    REAL_STATE=${REAL_STATE:-$(mktemp -d /tmp/poolsim-real.XXXXXX)}
    chmod 755 "$REAL_STATE"
    [ "$(id -u)" = 0 ] && chown "$REAL_USER" "$REAL_STATE"
    REAL_DIRS+=("$REAL_STATE")
    trap 'real_stop_all' EXIT
    trap 'real_stop_all; trap - INT; kill -INT $$' INT
    trap 'real_stop_all; trap - TERM; kill -TERM $$' TERM
}

# A TCP port nobody listens on now (a race with other programs is caught by the start check).
real_free_port()
{
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + (RANDOM % 20000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# Wait until PORT accepts connections and the process PID is alive (at most ~10 s).
real_wait_port()
{
    local pid=$1 port=$2 i
    for i in $(seq 1 100); do
        real_alive "$pid" || return 1
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# Every server PID also goes to $REAL_PID_LOG when set (tests check afterwards that none lives).
real_track()
{
    REAL_PIDS+=("$1")
    echo "$1" >>"$REAL_STATE/pids"
    [ -z "${REAL_PID_LOG:-}" ] || echo "$1" >>"$REAL_PID_LOG"
}

# real_run CMD...: a load client in the background, waited for; `wait` returns at once when a
# signal arrives (a foreground command would delay the trap until it ends), and the trap
# stops the client before the servers.
real_run()
{
    local pid rc
    "$@" &
    pid=$!
    REAL_CLIENTS+=("$pid")
    wait "$pid"
    rc=$?
    real_client_done "$pid"
    return $rc
}

# real_client_done PID: a client that has been reaped is no longer ours to stop.
real_client_done()
{
    local p keep=()
    for p in "${REAL_CLIENTS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    REAL_CLIENTS=("${keep[@]}")
}

# real_stop_pid PID SIGNAL: signal, wait up to 10 s, then SIGKILL; reap it.
real_stop_pid()
{
    local pid=$1 sig=$2 i
    real_alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
    kill "-$sig" "$pid" 2>/dev/null
    for i in $(seq 1 100); do
        real_alive "$pid" || break
        sleep 0.1
    done
    real_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

real_pg_start()
{
    local dir port pid s opts=()
    dir="$REAL_STATE/pg"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown "$REAL_USER" "$dir"
    "${REAL_AS[@]}" "$REAL_PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    for s in "$@"; do
        opts+=(-c "$s")
    done
    port=$(real_free_port) || return 1
    "${REAL_AS[@]}" "$REAL_PGBIN/postgres" -D "$dir/data" -k "$dir" -h 127.0.0.1 -p "$port" \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c shared_buffers=16MB -c logging_collector=off "${opts[@]}" \
        >"$dir/postgres.log" 2>&1 &
    pid=$!
    real_track "$pid"
    if ! real_wait_port "$pid" "$port"; then
        echo "real: postgres did not start" >&2
        tail -n 20 "$dir/postgres.log" >&2
        return 1
    fi
    # A port that accepts is not yet a cluster that serves: wait for a query to work.
    for s in $(seq 1 100); do
        real_psql "$port" postgres 'SELECT 1' >/dev/null 2>&1 && break
        sleep 0.1
    done
    REAL_PG_PORT=$port
    REAL_PG_PID=$pid
    real_log "postgres pid $pid on 127.0.0.1:$port"
}

# real_bouncer_start key=value ...: the [pgbouncer] settings of this point.
real_bouncer_start()
{
    local dir port pid kv
    dir="$REAL_STATE/bouncer"
    mkdir -p "$dir"
    port=$(real_free_port) || return 1
    echo '"postgres" ""' >"$dir/userlist.txt"
    {
        echo '[databases]'
        echo "postgres = host=127.0.0.1 port=$REAL_PG_PORT dbname=postgres"
        echo '[pgbouncer]'
        echo "listen_addr = 127.0.0.1"
        echo "listen_port = $port"
        echo "unix_socket_dir ="
        echo "auth_type = trust"
        echo "auth_file = $dir/userlist.txt"
        echo "admin_users = postgres"
        echo "stats_users = postgres"
        echo "logfile = $dir/pgbouncer.log"
        echo "pidfile ="
        echo "ignore_startup_parameters = extra_float_digits"
        echo "log_connections = 0"
        echo "log_disconnections = 0"
        for kv in "$@"; do
            echo "${kv%%=*} = ${kv#*=}"
        done
    } >"$dir/pgbouncer.ini"
    [ "$(id -u)" = 0 ] && chown -R "$REAL_USER" "$dir"
    "${REAL_AS[@]}" pgbouncer "$dir/pgbouncer.ini" >"$dir/stdout.log" 2>&1 &
    pid=$!
    real_track "$pid"
    if ! real_wait_port "$pid" "$port"; then
        echo "real: pgbouncer did not start" >&2
        tail -n 20 "$dir/pgbouncer.log" "$dir/stdout.log" >&2
        return 1
    fi
    REAL_BOUNCER_PORT=$port
    REAL_BOUNCER_PID=$pid
    real_log "pgbouncer pid $pid on 127.0.0.1:$port ($*)"
}

real_forget()
{
    local pid=$1 p keep=()
    for p in "${REAL_PIDS[@]}"; do
        [ "$p" = "$pid" ] || keep+=("$p")
    done
    REAL_PIDS=("${keep[@]}")
    [ -f "$REAL_STATE/pids" ] && grep -vx "$pid" "$REAL_STATE/pids" >"$REAL_STATE/pids.tmp"
    [ -f "$REAL_STATE/pids.tmp" ] && mv "$REAL_STATE/pids.tmp" "$REAL_STATE/pids"
    return 0
}

real_bouncer_stop()
{
    [ -n "$REAL_BOUNCER_PID" ] || return 0
    real_stop_pid "$REAL_BOUNCER_PID" TERM
    real_forget "$REAL_BOUNCER_PID"
    REAL_BOUNCER_PID=
    REAL_BOUNCER_PORT=
}

# Stop every server we started (PgBouncer first: SIGTERM is its immediate shutdown; postgres:
# SIGINT is its fast shutdown), then delete our directories.
real_stop_all()
{
    local i pid
    for pid in "${REAL_CLIENTS[@]}"; do
        real_stop_pid "$pid" TERM
    done
    REAL_CLIENTS=()
    for ((i = ${#REAL_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${REAL_PIDS[$i]}
        if [ "$pid" = "${REAL_PG_PID:-}" ]; then
            real_stop_pid "$pid" INT
        else
            real_stop_pid "$pid" TERM
        fi
    done
    REAL_PIDS=()
    if [ -z "${REAL_KEEP:-}" ]; then
        for i in "${REAL_DIRS[@]}"; do
            rm -rf "$i"
        done
    fi
    REAL_DIRS=()
}

real_psql()
{
    psql -X -q -A -t -h 127.0.0.1 -p "$1" -U postgres -d "$2" -c "$3"
}

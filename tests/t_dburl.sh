#!/usr/bin/env bash
# database_url end to end (issue 8): URLs whose password is s3cr3t-P%40ss (decoded s3cr3t-P@ss)
# go through every command (run, with --trace and --shard; size; explain once merged; merge;
# plot) and every error path; stdout, stderr and every file written must never contain the
# password, encoded or decoded.  Each case also checks run's exit status (the other commands
# differ on purpose: size drops the sweep and refuses variants).
# Run by `make check` with B set to the build directory.
#
# To cover a new command, add it to `commands` (if the binary has it) and a line to `invoke`.
set -u
P=${B:-build}/poolsim
P=$(cd "$(dirname "$P")" && pwd)/$(basename "$P")
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
fail=0

PW_ENC='s3cr3t-P%40ss'
PW_DEC='s3cr3t-P@ss'
REF=abcdefghijklmnopqrst
U_TX="postgresql://postgres.$REF:$PW_ENC@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?pgbouncer=true&connection_limit=2&sslmode=require"
U_SESSION="postgresql://postgres.$REF:$PW_ENC@aws-0-eu-central-1.pooler.supabase.com:5432/postgres"
U_DIRECT="postgres://postgres:$PW_ENC@db.$REF.supabase.co:5432/postgres"
U_PGB="postgres://postgres:$PW_ENC@db.$REF.supabase.co:6543/postgres?pgbouncer=true"
U_OTHER="postgresql://app:$PW_ENC@[2001:db8::7]:6432/orders?connect_timeout=3"
U_RAW="postgresql://app:$PW_DEC@db.example.com/orders"

export TEST_DATABASE_URL="$U_SESSION" TEST_EMPTY_URL=

base='"name":"t","duration":"2s","workload":{"model":"open","rate":20,"page":["a"]},"app":{"endpoints":{"a":{"operations":[{"type":"query","server_time":"5ms"}]}}}'

# The commands this binary has; each case runs through all of them.
commands=(run)
for c in explain size; do
    "$P" --help 2>/dev/null | grep -q "poolsim $c" && commands+=("$c")
done

# invoke CMD FILE OUT [ARGS...]: one command on FILE, outputs (if any) under OUT.
invoke() {
    local cmd=$1 file=$2 out=$3
    shift 3
    case $cmd in
    run) "$P" run "$file" --out "$out" --jobs 2 "$@" ;;
    explain) "$P" explain "$file" "$@" ;;
    size) "$P" size "$file" --out "$out" --slo "latency_p99_ms<500" \
        --vary client_pool.connection_limit=1..4 "$@" ;;
    esac
}

# no_leak NAME: nothing under the case's directory holds the password.
no_leak() {
    local hits
    hits=$(grep -rlF -e "$PW_ENC" -e "$PW_DEC" -e "s3cr3t" "$1" 2>/dev/null)
    if [ -n "$hits" ]; then
        echo "FAIL $1: the password appears in: $hits"
        grep -rhoF -e "s3cr3t" "$1" | head -3
        fail=1
    fi
}

# case NAME WANT FILE_TEXT [ARGS...]: FILE_TEXT ("" = no file written) through every command.
# WANT is the exit status of run; the other commands only must not leak.
case_() {
    local name=$1 want=$2 text=$3
    shift 3
    for cmd in "${commands[@]}"; do
        local d="$name-$cmd"
        mkdir -p "$d"
        [ -n "$text" ] && printf '%s\n' "$text" > "$d/exp.json"
        (cd "$d" && invoke "$cmd" exp.json out "$@" >stdout 2>stderr)
        local rc=$?
        if [ "$cmd" = run ] && [ "$rc" != "$want" ]; then
            echo "FAIL $name ($cmd): exit $rc (want $want)"; sed 's/^/  /' "$d/stderr"; fail=1
        fi
        rm -f "$d/exp.json" # it holds the password, of course: only what poolsim wrote counts
        no_leak "$d"
    done
}

# exp [MEMBERS]: an experiment with base and extra members.
exp() { printf '{%s%s}' "$base" "${1:+,$1}"; }

# ---- runs that succeed ----
case_ file-url 0 "$(exp "\"database_url\":\"$U_TX\"")"
case_ env-url 0 "$(exp)" --database-url-env TEST_DATABASE_URL
case_ flag-url 0 "$(exp)" --database-url "$U_PGB"
case_ set-url 0 "$(exp)" --set "database_url=$U_DIRECT"
case_ raw-password 0 "$(exp "\"database_url\":\"$U_RAW\"")"
case_ ipv6 0 "$(exp "\"database_url\":\"$U_OTHER\"")"
case_ swept 0 "$(exp "\"sweep\":{\"database_url\":[\"$U_SESSION\",\"$U_TX\",\"$U_DIRECT\",\"$U_PGB\"]}")"
case_ progress 0 "$(exp "\"sweep\":{\"database_url|workload.rate\":[[\"$U_SESSION\",5],[\"$U_TX\",10]]}")"
case_ variant 0 "$(exp "\"variants\":{\"session\":{\"database_url\":\"$U_SESSION\"},\"tx\":{\"database_url\":\"$U_TX\"}}")"

# ---- every error path ----
case_ bad-param 1 "$(exp "\"database_url\":\"$U_SESSION?connection_limit=zero\"")"
case_ bad-bool 1 "$(exp "\"database_url\":\"$U_SESSION?pgbouncer=yes\"")"
case_ contradiction 1 "$(exp "\"database_url\":\"$U_TX\",\"pooler\":{\"kind\":\"supavisor\",\"pool_mode\":\"session\"}")"
case_ contradiction-kind 1 "$(exp "\"database_url\":\"$U_PGB\",\"pooler\":{\"kind\":\"supavisor\",\"pool_mode\":\"transaction\"}")"
case_ contradiction-cli 1 "$(exp "\"pooler\":{\"kind\":\"pgbouncer\"}")" --database-url "$U_SESSION"
case_ malformed-escape 1 "$(exp "\"database_url\":\"postgresql://u:${PW_ENC}%zz@h/db\"")"
case_ malformed-port 1 "$(exp "\"database_url\":\"postgresql://u:$PW_ENC\"")"
case_ malformed-ipv6 1 "$(exp "\"database_url\":\"postgresql://u:$PW_ENC@[::1/db\"")"
case_ malformed-scheme 1 "$(exp "\"database_url\":\"mysql://u:$PW_ENC@h/db\"")"
case_ malformed-no-scheme 1 "$(exp "\"database_url\":\"u:$PW_ENC@h/db\"")"
case_ supabase-port 1 "$(exp "\"database_url\":\"postgresql://u:$PW_ENC@x.pooler.supabase.com:6544/p\"")"
case_ malformed-cli 1 "$(exp)" --database-url "postgresql://u:$PW_ENC@h:bad/db"
case_ env-missing 2 "$(exp)" --database-url-env POOLSIM_NO_SUCH_VARIABLE
case_ env-empty 2 "$(exp)" --database-url-env TEST_EMPTY_URL
case_ option-equals 2 "$(exp)" "--database-url=$U_TX"
case_ set-no-path 2 "$(exp)" --set "=$U_TX"
case_ extra-arg 2 "$(exp)" "$U_TX"
case_ not-a-string 1 "$(exp "\"database_url\":{\"password\":\"$PW_ENC\"}")"
case_ invalid-experiment 1 "$(exp "\"database_url\":\"$U_TX\",\"pooler\":{\"pool_sise\":3}")"
case_ invalid-point 1 "$(exp "\"sweep\":{\"database_url|workload.rate\":[[\"$U_SESSION\",5],[\"$U_TX\",-1]]}")"
case_ invalid-point-url 1 "$(exp "\"sweep\":{\"database_url\":[\"$U_SESSION\",\"postgresql://u:$PW_ENC@h/db?pool_timeout=x\"]}")"
case_ sweep-not-list 1 "$(exp "\"sweep\":{\"database_url\":\"$U_TX\"}")"
case_ variant-not-object 1 "$(exp "\"variants\":{\"v\":\"$U_TX\"}")"
case_ type-echo 1 "$(exp "\"seed\":\"$U_TX\"")"
case_ syntax 1 "{$base, \"database_url\": \"$U_TX\" \"seed\": 1}"
case_ syntax-unquoted 1 "{$base, \"database_url\": $U_TX}"

# ---- the other commands and outputs: --trace, --shard and merge, plot ----
d=shards
mkdir -p $d
exp "\"sweep\":{\"database_url\":[\"$U_SESSION\",\"$U_TX\",\"$U_PGB\"]}" > $d/exp.json
for k in 1 2; do
    (cd $d && "$P" run exp.json --shard $k/2 --trace 3 --quiet --out s$k >>stdout 2>>stderr) ||
        { echo "FAIL shard $k/2: exit $?"; fail=1; }
done
(cd $d && "$P" merge s1 s2 --out merged >>stdout 2>>stderr) || { echo "FAIL merge: exit $?"; fail=1; }
rm -f $d/exp.json
no_leak $d
# plot: only that nothing it prints or draws shows the password (a swept string column such as
# database_url is not plotted yet: the scripts exit 1 on it)
if command -v gnuplot >/dev/null 2>&1; then
    (cd $d && "$P" plot merged --format svg >>stdout 2>>stderr)
    no_leak $d
fi

# ---- what the outputs show instead ----
check() { grep -qF -- "$2" "$1" || { echo "FAIL: $1 lacks: $2"; fail=1; }; }
check file-url-run/out/summary.json '"pooler.pool_mode":"url"'
check file-url-run/out/summary.json '"client_pool.connection_limit":"url"'
check file-url-run/out/summary.json "postgres.$REF:***@aws-0-eu-central-1.pooler.supabase.com:6543"
check swept-run/out/points.csv "postgres:***@db.$REF.supabase.co:6543/postgres?pgbouncer=true"
check swept-run/out/replications.csv "postgres.$REF:***@aws-0"
check shards/merged/points.csv "postgres:***@db.$REF.supabase.co:6543/postgres?pgbouncer=true"
# The progress bar shows each point's label, but only on a terminal: give it one.
if command -v script >/dev/null 2>&1; then
    mkdir -p tty
    exp "\"sweep\":{\"database_url\":[\"$U_SESSION\",\"$U_TX\"]}" > tty/exp.json
    (cd tty && script -qec "$P run exp.json --out out --jobs 1" typescript >/dev/null 2>&1)
    rm -f tty/exp.json
    no_leak tty
    check tty/typescript "postgres.$REF:***@aws-0"
fi
check env-url-run/out/summary.json '"database_url":"--set"'
check contradiction-run/stderr 'contradicts database_url'
check bad-param-run/stderr 'parameter "connection_limit" must be a whole number'
check ipv6-run/stderr 'is not a Supabase host'
check file-url-run/stderr 'parameter "sslmode" is not simulated (ignored)'

exit $fail

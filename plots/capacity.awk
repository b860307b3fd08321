# capacity.awk - each point's server-connection capacity, read from summary.json's resolved
# configuration, for the pool ceiling of throughput.gp.
#
#   awk -f plots/capacity.awk RESULTS/summary.json   ->   point,pool_size,per_transaction
#
# pool_size is the capacity poolsim divides busy server connections by for server_conn_util
# (models/scenario.c): PgBouncer default_pool_size + reserve_pool_size, capped by a non-zero
# max_db_connections; Supavisor pool_size (+1 with "capacity": "pool_size+1"); direct, PostgreSQL's
# max_connections - superuser_reserved_connections.  per_transaction is 1 when each assignment of a
# server connection is one transaction (a pooler in transaction or statement mode), so that
# server_hold_mean_ms is the transaction time; 0 in session mode and direct, where a connection is
# held for a whole session and pool_size / hold would count sessions, not transactions.
# summary.json holds one point per line, with its configuration as compact JSON (sim/main.c);
# the pooler object is flat and PostgreSQL's max_connections is the only key of that name.
function num(obj, key,    s) {
    if (!match(obj, "\"" key "\":[-0-9.eE+]+")) {
        return ""
    }
    s = substr(obj, RSTART, RLENGTH)
    return substr(s, length(key) + 4) + 0
}
function str(obj, key,    s) {
    if (!match(obj, "\"" key "\":\"[^\"]*\"")) {
        return ""
    }
    s = substr(obj, RSTART, RLENGTH)
    return substr(s, length(key) + 5, RLENGTH - length(key) - 5)
}
BEGIN {
    print "point,pool_size,per_transaction"
}
match($0, /^ *\{"point": [0-9]+,/) {
    point = substr($0, RSTART, RLENGTH)
    gsub(/[^0-9]/, "", point)
    pooler = match($0, /"pooler":\{[^}]*\}/) ? substr($0, RSTART, RLENGTH) : ""
    pg = match($0, /"postgres":\{.*/) ? substr($0, RSTART, RLENGTH) : ""
    kind = str(pooler, "kind")
    mode = str(pooler, "pool_mode")
    if (kind == "pgbouncer") {
        cap = num(pooler, "default_pool_size") + num(pooler, "reserve_pool_size")
        maxdb = num(pooler, "max_db_connections")
        if (maxdb > 0 && maxdb < cap) {
            cap = maxdb
        }
    } else if (kind == "supavisor") {
        cap = num(pooler, "pool_size") + (str(pooler, "capacity") == "pool_size+1")
    } else {
        cap = num(pg, "max_connections") - num(pg, "superuser_reserved_connections")
    }
    per_tx = kind != "direct" && kind != "" && (mode == "transaction" || mode == "statement")
    printf "%d,%d,%d\n", point, cap, per_tx
}

# tests/real/app/compare.awk - one app point: poolsim's points.csv against the real run.
#
#   awk -F, -f compare.awk SIM.csv REAL.csv PGBOUNCER.txt [SIM_COMMITTED.csv [SIM_REPS.csv]]
#
# SIM_REPS.csv (today's replications.csv) gives each metric's range over poolsim's seeds: a
# point whose calls are routed at random (20 controllers) ends differently from seed to seed
# (which pools hold the 20 session servers), and the real run is one such draw.  A metric outside
# the tolerance of poolsim's mean but inside the range of its seeds gets the verdict "ok (within
# the seeds' range)".
#
# SIM.csv is poolsim on the point recalibrated today (see validate.sh), SIM_COMMITTED.csv on
# the point as committed; REAL.csv is load.js's summary; PGBOUNCER.txt point.sh's key=value
# lines (SHOW POOLS maxima).  Prints markdown table rows "| metric | poolsim (committed) |
# poolsim | real | difference | verdict |" (the verdict and difference against SIM) and, last, a
# line "VERDICT <pass|FAIL> <failed metrics>".  Tolerances are issue 9's: successful requests/s
# within 5%; p50 and p95 within 10% or 5 ms, whichever is larger; each kind's 5xx share
# (errors_<kind> / requests) within 2 percentage points; the same failure kinds on both sides.
# Mean, p99, calls in flight at the end and the connection counts at PgBouncer are reported
# without a tolerance (a count sampled every 0.5 s against an exact peak).
FILENAME == ARGV[3] { split($0, kv, "="); bouncer[kv[1]] = kv[2]; next }
FILENAME == ARGV[5] && FNR == 1 { for (i = 1; i <= NF; i++) rc[$i] = i; next }
FILENAME == ARGV[5] {
    nrep++
    for (k in rc) {
        v = $rc[k]
        if (k ~ /^errors_/) v = $rc["requests"] > 0 ? v / $rc["requests"] : 0
        if (!(k in lo) || v < lo[k]) lo[k] = v
        if (!(k in hi) || v > hi[k]) hi[k] = v
    }
    next
}
FNR == 1 { for (i = 1; i <= NF; i++) col[FILENAME, i] = $i; next }
FNR == 2 {
    for (i = 1; i <= NF; i++) {
        if (FILENAME == ARGV[1]) sim[col[FILENAME, i]] = $i
        else if (FILENAME == ARGV[2]) real[col[FILENAME, i]] = $i
        else old[col[FILENAME, i]] = $i
    }
}
function num(x) { return x == "" ? "—" : sprintf("%.2f", x) }
function row(name, s, r, verdict,    d, o) {
    d = (s == "" || r == "") ? "—" : sprintf("%+.2f", r - s)
    if (s != "" && r != "" && s != 0 && name !~ /share/) d = d sprintf(" (%+.1f%%)", 100 * (r - s) / s)
    o = name in oldv ? num(oldv[name]) : "—"
    printf "| %s | %s | %s | %s | %s | %s |\n", name, o, num(s), num(r), d, verdict
    if (verdict == "**fail**") failed = failed " " name
}
function abs(x) { return x < 0 ? -x : x }
# The verdict when outside the tolerance: inside the seeds' range of metric k, or a failure.
function seeds(k, r) {
    if (nrep > 1 && (k in lo) && r >= lo[k] && r <= hi[k]) {
        return sprintf("ok (within the seeds' range %.2f-%.2f)", lo[k] * (k ~ /^errors_/ ? 100 : 1),
                       hi[k] * (k ~ /^errors_/ ? 100 : 1))
    }
    return "**fail**"
}
function rel(name, s, r, tol, k) {
    if (s == "" && r == "") return row(name, s, r, "ok (both empty)")
    if (s == "" || r == "") return row(name, s, r, "**fail**")
    return row(name, s, r, (s == 0 ? r == 0 : abs(r - s) <= tol * s) ? "ok" : seeds(k, r))
}
function lat(name, s, r, k,    tol) {
    if (s == "" && r == "") return row(name, s, r, "ok (both empty)")
    if (s == "" || r == "") return row(name, s, r, "**fail**")
    tol = 0.10 * s; if (tol < 5) tol = 5
    return row(name, s, r, abs(r - s) <= tol ? "ok" : seeds(k, r))
}
END {
    oldv["successful requests/s"] = old["throughput_rps"]
    oldv["latency_mean_ms"] = old["latency_mean_ms"]
    oldv["latency_p50_ms"] = old["latency_p50_ms"]
    oldv["latency_p95_ms"] = old["latency_p95_ms"]
    oldv["latency_p99_ms"] = old["latency_p99_ms"]
    oldv["requests (ended in the window)"] = old["requests"]
    oldv["in flight at the end"] = old["in_flight_end"]
    for (k in old) if (k ~ /^errors_/ && k !~ /_ci$/) {
        oldv["5xx " substr(k, 8) " (count)"] = old[k]
        oldv["5xx " substr(k, 8) " share %"] = old["requests"] > 0 ? 100 * old[k] / old["requests"] : 0
    }
    oldv["client connections at PgBouncer (peak)"] = old["client_conns_peak"]
    oldv["server connections (peak)"] = old["server_conns_peak"]
    rel("successful requests/s", sim["throughput_rps"], real["throughput_rps"], 0.05, "throughput_rps")
    row("latency_mean_ms", sim["latency_mean_ms"], real["latency_mean_ms"], "(no tolerance)")
    lat("latency_p50_ms", sim["latency_p50_ms"], real["latency_p50_ms"], "latency_p50_ms")
    lat("latency_p95_ms", sim["latency_p95_ms"], real["latency_p95_ms"], "latency_p95_ms")
    row("latency_p99_ms", sim["latency_p99_ms"], real["latency_p99_ms"], "(no tolerance)")
    row("requests (ended in the window)", sim["requests"], real["requests"], "(count)")
    row("in flight at the end", sim["in_flight_end"], real["in_flight_end"], "(count)")
    for (k in sim) if (k ~ /^errors_/ && k !~ /_ci$/ && k != "errors") kinds[k] = 1
    for (k in real) if (k ~ /^errors_/ && k != "errors") kinds[k] = 1
    n = 0
    for (k in kinds) names[++n] = k
    for (i = 2; i <= n; i++) for (j = i; j > 1 && names[j - 1] > names[j]; j--) {
        t = names[j]; names[j] = names[j - 1]; names[j - 1] = t
    }
    for (i = 1; i <= n; i++) {
        k = names[i]
        if (sim[k] + 0 == 0 && real[k] + 0 == 0) continue
        ss = sim["requests"] > 0 ? sim[k] / sim["requests"] : 0
        rs = real["requests"] > 0 ? real[k] / real["requests"] : 0
        same = (sim[k] + 0 > 0) == (real[k] + 0 > 0)
        row("5xx " substr(k, 8) " (count)", sim[k], real[k], same ? "kind on both sides" : "**fail**")
        row("5xx " substr(k, 8) " share %", 100 * ss, 100 * rs,
            !same ? "**fail**" : abs(rs - ss) <= 0.02 ? "ok" : seeds(k, rs))
    }
    row("client connections at PgBouncer (peak)", sim["client_conns_peak"], bouncer["clients_max"], "(sampled, no tolerance)")
    row("server connections (peak)", sim["server_conns_peak"], bouncer["servers_max"], "(sampled, no tolerance)")
    printf "VERDICT %s%s\n", failed == "" ? "pass" : "FAIL", failed
}

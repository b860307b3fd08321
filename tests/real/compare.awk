# tests/real/compare.awk - one point: poolsim's points.csv against a real summary (loadc.csv).
#
#   awk -F, -f compare.awk SIM.csv REAL.csv
#
# Prints markdown table rows "| metric | poolsim | real | difference | verdict |" and, last, a
# line "VERDICT <pass|FAIL> <failed metrics>".  Tolerances (issue 9): throughput within 5%;
# p50 and p95 within 10% or 5 ms, whichever is larger; each kind's error share
# (errors_<kind> / requests) within 2 percentage points; the same failure kinds on both sides
# (a kind present on one side only fails even when its share is within 2 points).  Mean and p99
# are reported without a tolerance.
FNR == 1 { for (i = 1; i <= NF; i++) col[FILENAME, i] = $i; next }
FNR == 2 {
    for (i = 1; i <= NF; i++) {
        if (FILENAME == ARGV[1]) sim[col[FILENAME, i]] = $i; else real[col[FILENAME, i]] = $i
    }
}
function num(x) { return x == "" ? "—" : sprintf("%.2f", x) }
function row(name, s, r, verdict,    d) {
    d = (s == "" || r == "") ? "—" : sprintf("%+.2f", r - s)
    if (s != "" && r != "" && s != 0 && name !~ /share/) d = d sprintf(" (%+.1f%%)", 100 * (r - s) / s)
    printf "| %s | %s | %s | %s | %s |\n", name, num(s), num(r), d, verdict
    if (verdict == "**fail**") failed = failed " " name
}
function rel(name, s, r, tol) {
    if (s == "" && r == "") return row(name, s, r, "ok (both empty)")
    if (s == "" || r == "") return row(name, s, r, "**fail**")
    return row(name, s, r, (s == 0 ? r == 0 : (r - s < 0 ? s - r : r - s) <= tol * s) ? "ok" : "**fail**")
}
function lat(name, s, r,    tol) {
    if (s == "" && r == "") return row(name, s, r, "ok (both empty)")
    if (s == "" || r == "") return row(name, s, r, "**fail**")
    tol = 0.10 * s; if (tol < 5) tol = 5
    return row(name, s, r, ((r - s < 0 ? s - r : r - s) <= tol) ? "ok" : "**fail**")
}
END {
    rel("throughput_rps", sim["throughput_rps"], real["throughput_rps"], 0.05)
    row("latency_mean_ms", sim["latency_mean_ms"], real["latency_mean_ms"], "(no tolerance)")
    lat("latency_p50_ms", sim["latency_p50_ms"], real["latency_p50_ms"])
    lat("latency_p95_ms", sim["latency_p95_ms"], real["latency_p95_ms"])
    row("latency_p99_ms", sim["latency_p99_ms"], real["latency_p99_ms"], "(no tolerance)")
    row("requests", sim["requests"], real["requests"], "(count)")
    for (k in real) {
        if (k !~ /^errors_/ || k == "errors_other") continue
        if (sim[k] + 0 == 0 && real[k] + 0 == 0) continue
        ss = sim["requests"] > 0 ? sim[k] / sim["requests"] : 0
        rs = real["requests"] > 0 ? real[k] / real["requests"] : 0
        same = (sim[k] + 0 > 0) == (real[k] + 0 > 0)
        ok = same && (rs - ss < 0 ? ss - rs : rs - ss) <= 0.02
        row(k " (count)", sim[k], real[k], same ? "kind on both sides" : "**fail**")
        row(k " share %", 100 * ss, 100 * rs, ok ? "ok" : "**fail**")
    }
    if (real["errors_other"] + 0 > 0) row("errors_other (count)", 0, real["errors_other"], "**fail**")
    # A kind poolsim reports that loadc has no column for.
    for (k in sim) if (k ~ /^errors_/ && !(k in real) && sim[k] + 0 > 0)
        row(k " (count)", sim[k], 0, "**fail**")
    print "VERDICT " (failed == "" ? "pass" : "FAIL") failed
}

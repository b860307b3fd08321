# throughput.gp - what got done against the swept x: successful requests and server transactions
# per second, the pool's ceiling, and the calls in flight on the right axis.
#
#   gnuplot -c plots/throughput.gp RESULTS/points.csv OUT.png|OUT.svg [TITLE]
#
# throughput_rps counts successful endpoint calls, tx_rps server transactions; in_flight_mean is
# the time-average number of calls started and not finished.  Past saturation throughput flattens
# while calls in flight climb: the queue grows until timeouts cut it.
# The ceiling (dash-dot, one per line) is the most transactions per second the pool's server
# connections can run: pool_size / server_hold_mean_ms * 1000, in transactions/s.
#   pool_size: each point's server-connection capacity from the resolved configuration in the
#     summary.json beside points.csv (plots/capacity.awk: PgBouncer default_pool_size +
#     reserve_pool_size capped by max_db_connections, Supavisor pool_size, direct usable
#     max_connections) - the same capacity server_conn_util divides by, so it follows a swept pool
#     size or a variant's;
#   server_hold_mean_ms: the point's measured mean time a server connection is held per assignment
#     (link to release; DESIGN.md §5), which in transaction and statement mode IS the transaction
#     time, round trips and idle-in-transaction time included.
# By Little's law busy connections = assignments/s x hold, so at the ceiling every connection is
# busy (server_conn_util = 1).  The ceiling is drawn only where an assignment is one transaction
# (a pooler in transaction or statement mode): in session mode and direct a connection is held for
# a whole session, and pool_size / hold would count sessions per second, not transactions (the
# equivalent tx_rps / server_conn_util would not be a limit either: transactions per session grow
# with load).  Without summary.json there is no ceiling.
# Lines and error bars: see points.gp and lines.gp.  Exit status 3: the figure does not apply
# (a single point).
here(s) = strstrt(s, "/") ? s[1:strstrt(s, "/")] . here(s[strstrt(s, "/") + 1:]) : ""
load here(ARG0) . "style.gp"
PTS = ARG1
OUT = ARG2
NAME = ARGC >= 3 && ARG3 ne "" ? ARG3 : default_title(ARG1)
load PLOTS_DIR . "points.gp"

# Each point's capacity and whether its assignments are transactions, by point number.
SUMMARY = dir_part(PTS) . "/summary.json"
stats PTS using (column("point")) nooutput
NPOINT = int(STATS_max) + 1
array CAP[NPOINT]
array PER_TX[NPOINT]
do for [i = 1:NPOINT] {
    CAP[i] = NaN
    PER_TX[i] = 0
}
if (system(sprintf("[ -r '%s' ] && echo 1 || echo 0", SUMMARY)) + 0) {
    set_cap(p, c, t) = p >= 0 && p < NPOINT ? (CAP[p + 1] = c, PER_TX[p + 1] = t, 0) : 0
    set table $throughput_scratch
    plot sprintf("< awk -f '%scapacity.awk' '%s'", PLOTS_DIR, SUMMARY) \
        using (set_cap(int(column(1)), column(2), int(column(3)))):(0) with table
    unset table
    undefine $throughput_scratch
}
hold_ms(d) = has_col("server_hold_mean_ms") ? column("server_hold_mean_ms") : NaN
ceiling_tps(d) = (p_ = int(column("point")) + 1, h_ = hold_ms(0), \
    p_ <= NPOINT && PER_TX[p_] && h_ > 0 ? CAP[p_] * 1000.0 / h_ : NaN)
computed(m) = ceiling_tps(0)

NM = 4
array MC[NM] = ["throughput_rps", "tx_rps", "@ceiling", "in_flight_mean"]
array MT[NM] = ["successful requests/s", "server transactions/s", \
                "ceiling pool_size / server_hold (tx/s)", \
                "requests in flight, mean"]
array MA[NM] = [1, 1, 1, 2]
array MD[NM] = [1, 2, 4, 3]
array Y_CAP[2] = [NaN, NaN]
Y_LOG = 0

set title NAME . ": throughput"
set ylabel "per second (requests or transactions)"
set y2label "requests in flight"
load PLOTS_DIR . "lines.gp"

# throughput.gp - what got done against the swept x: successful requests and server transactions
# per second, with the calls in flight on the right axis.
#
#   gnuplot -c plots/throughput.gp RESULTS/points.csv OUT.png|OUT.svg [TITLE]
#
# throughput_rps counts successful endpoint calls, tx_rps server transactions (the unit of a pool's
# ceiling, pool size / mean transaction time); in_flight_mean is the time-average number of calls
# started and not finished.  Past saturation throughput flattens while calls in flight climb: the
# queue grows until timeouts cut it.  Lines and error bars: see points.gp and lines.gp.
# Exit status 3: the figure does not apply (a single point).
here(s) = strstrt(s, "/") ? s[1:strstrt(s, "/")] . here(s[strstrt(s, "/") + 1:]) : ""
load here(ARG0) . "style.gp"
PTS = ARG1
OUT = ARG2
NAME = ARGC >= 3 && ARG3 ne "" ? ARG3 : default_title(ARG1)
load PLOTS_DIR . "points.gp"

NM = 3
array MC[NM] = ["throughput_rps", "tx_rps", "in_flight_mean"]
array MT[NM] = ["successful requests/s", "server transactions/s", "requests in flight (mean)"]
array MA[NM] = [1, 1, 2]
array MD[NM] = [1, 2, 3]
array Y_CAP[2] = [NaN, NaN]
Y_LOG = 0

set title NAME . ": throughput"
set ylabel "per second (requests or transactions)"
set y2label "requests in flight"
load PLOTS_DIR . "lines.gp"

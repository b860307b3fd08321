# latency.gp - request latency (p50, p99, and p99 of successful requests) against the swept x.
#
#   gnuplot -c plots/latency.gp RESULTS/points.csv OUT.png|OUT.svg [TITLE]
#
# Every endpoint call as its caller saw it, failed ones included (DESIGN.md §5), on a log axis:
# the failed calls' latencies are their timeouts, so p99 flattening at a timer's value says that
# this timer fires.  The dashed p99 of successful calls only shows what the users who got an
# answer waited.  Lines, x axis and error bars: see points.gp and lines.gp.  Exit status 3: the
# figure does not apply (a single point).
here(s) = strstrt(s, "/") ? s[1:strstrt(s, "/")] . here(s[strstrt(s, "/") + 1:]) : ""
load here(ARG0) . "style.gp"
PTS = ARG1
OUT = ARG2
NAME = ARGC >= 3 && ARG3 ne "" ? ARG3 : default_title(ARG1)
load PLOTS_DIR . "points.gp"

NM = 3
array MC[NM] = ["latency_p99_ms", "latency_p50_ms", "ok_latency_p99_ms"]
array MT[NM] = ["p99", "p50", "p99, successful requests only"]
array MA[NM] = [1, 1, 1]
array MD[NM] = [1, 3, 2]
array Y_CAP[2] = [NaN, NaN]
Y_LOG = 1

set title NAME . ": request latency"
set ylabel "latency (ms, log scale)"
set logscale y
set format y "%g"
load PLOTS_DIR . "lines.gp"

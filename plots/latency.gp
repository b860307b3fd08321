# latency.gp - request latency (p50, p95, p99, and p99 of successful requests) against the swept x.
#
#   gnuplot [-e PLOT_LOG=1] -c plots/latency.gp RESULTS/points.csv OUT.png|OUT.svg [TITLE]
#
# Every endpoint call as its caller saw it, failed ones included (DESIGN.md §5): the failed calls'
# latencies are their timeouts, so p99 flattening at a timer's value says that this timer fires.
# The dashed p99 of successful calls only shows what the users who got an answer waited.
# One line per configuration (variant and every other swept value), error bars from the _ci
# columns (95%).  The y axis is linear from zero; PLOT_LOG=1 (`poolsim plot --log`) makes it
# logarithmic, for latencies that span decades.  Lines, x axis and error bars: see points.gp and
# lines.gp.  Exit status 3: the figure does not apply (a single point).
here(s) = strstrt(s, "/") ? s[1:strstrt(s, "/")] . here(s[strstrt(s, "/") + 1:]) : ""
load here(ARG0) . "style.gp"
PTS = ARG1
OUT = ARG2
NAME = ARGC >= 3 && ARG3 ne "" ? ARG3 : default_title(ARG1)
load PLOTS_DIR . "points.gp"

NM = 4
array MC[NM] = ["latency_p99_ms", "latency_p95_ms", "latency_p50_ms", "ok_latency_p99_ms"]
array MT[NM] = ["p99", "p95", "p50", "p99, successful requests only"]
array MA[NM] = [1, 1, 1, 1]
array MD[NM] = [1, 4, 3, 2]
array Y_CAP[2] = [NaN, NaN]
Y_LOG = exists("PLOT_LOG") ? PLOT_LOG != 0 : 0

set title NAME . ": request latency"
if (Y_LOG) {
    set ylabel "latency (ms, log scale)"
    set logscale y
    set format y "%g"
} else {
    set ylabel "latency (ms)"
}
load PLOTS_DIR . "lines.gp"

# waits.gp - queueing before a connection against the swept x: the mean wait for the client pool
# and for a server connection at the pooler, with the share that waited at the pooler on the
# right axis.
#
#   gnuplot -c plots/waits.gp RESULTS/points.csv OUT.png|OUT.svg [TITLE]
#
# Means include the zero waits, as queueing theory defines Wq (DESIGN.md §5), so they compare with
# Erlang C directly; pooler_wait_prob is the share of server-connection assignments that waited.
# Without a pooler the pooler columns are empty and are left out.  Lines and error bars: see
# points.gp and lines.gp.  Exit status 3: the figure does not apply (a single point, no waits).
here(s) = strstrt(s, "/") ? s[1:strstrt(s, "/")] . here(s[strstrt(s, "/") + 1:]) : ""
load here(ARG0) . "style.gp"
PTS = ARG1
OUT = ARG2
NAME = ARGC >= 3 && ARG3 ne "" ? ARG3 : default_title(ARG1)
load PLOTS_DIR . "points.gp"

NM = 3
array MC[NM] = ["pool_wait_mean_ms", "pooler_wait_mean_ms", "pooler_wait_prob"]
array MT[NM] = ["client pool wait, mean", "pooler wait, mean", "share that waited at the pooler"]
array MA[NM] = [1, 1, 2]
array MD[NM] = [1, 2, 3]
array Y_CAP[2] = [NaN, 1]
Y_LOG = 0

set title NAME . ": waits for a connection"
set ylabel "wait (ms)"
set y2label "share of assignments that waited"
load PLOTS_DIR . "lines.gp"

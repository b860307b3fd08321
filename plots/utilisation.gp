# utilisation.gp - how busy the servers are against the swept x: server-connection utilisation and,
# on the right axis, the mean number of PostgreSQL backends running a statement.
#
#   gnuplot -c plots/utilisation.gp RESULTS/points.csv OUT.png|OUT.svg [TITLE]
#
# server_conn_util is the time-average busy server connections over the pool size (over usable
# max_connections when direct); db_active_mean counts backends actually executing.  A pool at 100%
# with few active backends holds connections idle in transaction or waits on the network.
# Lines and error bars: see points.gp and lines.gp.  Exit status 3: the figure does not apply.
here(s) = strstrt(s, "/") ? s[1:strstrt(s, "/")] . here(s[strstrt(s, "/") + 1:]) : ""
load here(ARG0) . "style.gp"
PTS = ARG1
OUT = ARG2
NAME = ARGC >= 3 && ARG3 ne "" ? ARG3 : default_title(ARG1)
load PLOTS_DIR . "points.gp"

NM = 2
array MC[NM] = ["server_conn_util", "db_active_mean"]
array MT[NM] = ["server connections busy (share of pool)", "backends executing (mean)"]
array MA[NM] = [1, 2]
array MD[NM] = [1, 2]
array Y_CAP[2] = [1, NaN]
Y_LOG = 0

set title NAME . ": utilisation"
set ylabel "share of the pool's server connections busy"
set y2label "PostgreSQL backends executing"
load PLOTS_DIR . "lines.gp"

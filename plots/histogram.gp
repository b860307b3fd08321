# histogram.gp - the latency distribution of one point, split by outcome, as cumulative shares.
#
#   gnuplot -c plots/histogram.gp RESULTS/histograms.csv OUT.png|OUT.svg [POINT] [TITLE]
#
# POINT is a point number of points.csv (default: the last point).  For each series of that point
# in histograms.csv (DESIGN.md §5) - requests (every call, failed ones included), ok, and each
# errors_<kind> present - the curve at t is the share of ALL requests that finished by t with that
# outcome, so ok plus the error curves add up to the requests curve.  An error curve that jumps
# at one latency shows the timer that fired (P2024 at pool_timeout, request_timeout at its value,
# ...); the legend gives each kind's share and median latency.  Buckets are
# plotted at their upper bounds (<= 1% wide), as steps: flat where no request finished, never a
# slope across an empty stretch; the overflow bucket (> 9.8 h) is left out.  When a
# points.csv lies beside the file, the title names what the point ran.
# Exit status 3: the point has no requests; 1: there is no such point.
here(s) = strstrt(s, "/") ? s[1:strstrt(s, "/")] . here(s[strstrt(s, "/") + 1:]) : ""
load here(ARG0) . "style.gp"
HIS = ARG1
OUT = ARG2
NAME = ARGC >= 4 && ARG4 ne "" ? ARG4 : default_title(ARG1)

# histograms.csv holds every point's buckets (often 10^5 rows and more): awk picks the point's
# rows (and the header) once per pass, which is far quicker than gnuplot filtering them.
P = ARGC >= 3 && ARG3 ne "" ? int(ARG3) \
    : int(system(sprintf("awk -F, 'NR > 1 && $1 + 0 > m { m = $1 + 0 } END { print m + 0 }' '%s'", \
                         HIS)))
ROWS = sprintf("< awk -F, 'NR == 1 || $1 == %d' '%s'", P, HIS)

# The series of point P in file order, with their total count, first bucket and median (the
# buckets of a series come in increasing order, DESIGN.md §5).
array SNAME[64]
array STOT[64]
array SFIRST[64]
array SCUM[64]
array SMEDIAN[64]
NS = 0
wanted(s) = s eq "requests" || s eq "ok" || s[1:7] eq "errors_"
series_of(s) = sum [i = 1:NS] (SNAME[i] eq s ? i : 0)
new_series(s, le) = (NS = NS + 1, SNAME[NS] = s, STOT[NS] = 0, SCUM[NS] = 0, SFIRST[NS] = le, \
    SMEDIAN[NS] = NaN, NS)
le_of(d) = (le_ = column("le_ms"), le_ < 1e300 ? le_ : NaN)
count_row(s, le, n) = (i_ = series_of(s), i_ = i_ ? i_ : new_series(s, le), \
    STOT[i_] = STOT[i_] + n, 0)
median_row(s, le, n) = (i_ = series_of(s), SCUM[i_] = SCUM[i_] + n, \
    SMEDIAN[i_] != SMEDIAN[i_] && 2 * SCUM[i_] >= STOT[i_] ? (SMEDIAN[i_] = le) : 0, 0)
row_of_p(d) = column("point") == P && wanted(strcol("series")) && le_of(0) == le_of(0)
set table $his_scratch
plot ROWS using (row_of_p(0) ? count_row(strcol("series"), le_of(0), column("count")) : 0):(0) \
    with table
plot ROWS using (row_of_p(0) ? median_row(strcol("series"), le_of(0), column("count")) : 0):(0) \
    with table
unset table
undefine $his_scratch
if (NS == 0) {
    print sprintf("histogram.gp: %s has no point %d", HIS, P)
    exit status 1
}
REQ = series_of("requests")
if (!REQ || STOT[REQ] == 0) {
    exit status 3
}
TOTAL = STOT[REQ]

# Each series into its own datablock, led by a zero just below its first bucket and closed by a
# zero-count row at the right edge (a little past the largest latency), so that a kind that ended
# in one bucket still shows as a step up to its share and stays level after it.
stats ROWS using (row_of_p(0) ? le_of(0) : NaN) nooutput
LE_MIN = STATS_min
LE_MAX = STATS_max * 1.6
do for [i = 1:NS] {
    eval sprintf('set table $S%d', i)
    plot '+' using (SFIRST[i] * 0.99):(0) every ::0::0 with table
    plot ROWS using (le_of(0)):(column("count")) with table \
        if (row_of_p(0) && strcol("series") eq SNAME[i])
    plot '+' using (LE_MAX):(0) every ::0::0 with table
    unset table
}

# What the point ran, from the points.csv beside this file when there is one.
PTS = dir_part(HIS) . "/points.csv"
ABOUT = ""
if (system(sprintf("[ -r '%s' ] && echo 1 || echo 0", PTS)) + 0) {
    load PLOTS_DIR . "points.gp"
    r_ = sum [r = 1:NROWS] (ROW_POINT[r] == P ? r : 0)
    ABOUT = r_ > 0 && ROW_LABEL[r_] ne "" ? "\n" . ROW_LABEL[r_] : ""
    unset xlabel
    set xtics autofreq norotate
}

set datafile separator whitespace
set datafile nocolumnheaders
outcome(i) = SNAME[i] eq "requests" ? "all requests" \
    : SNAME[i] eq "ok" ? "successful" : SNAME[i][8:]
legend(i) = sprintf("%s: %.3g%%", outcome(i), 100.0 * STOT[i] / TOTAL) \
    . (SNAME[i][1:7] eq "errors_" ? ", median " . fmt_ms(SMEDIAN[i]) : "")
fmt_ms(v) = v >= 1000 ? sprintf("%.4g s", v / 1000) : sprintf("%.4g ms", v)
style(i) = SNAME[i] eq "requests" ? "lc rgb '#000000' lw 2.6" \
    : SNAME[i] eq "ok" ? sprintf("lc rgb '%s' lw 1.8 dt (14,6)", line_rgb(3)) \
    : sprintf("lc rgb '%s' lw 1.8 dt %s", line_rgb(err_index(i)), ERR_DT[err_n(i) % 4 + 1])
# The error kinds take the palette's colours other than green (successful) and black (all).
array ERR_COLOUR[6] = [2, 1, 4, 6, 5, 8]
err_n(i) = (j_ = 0, sum [k = 1:i] (SNAME[k][1:7] eq "errors_" ? (j_ = j_ + 1, 0) : 0), j_ - 1)
err_index(i) = ERR_COLOUR[err_n(i) % 6 + 1]
# ... and, for greyscale, dash patterns other than the solid (all) and dashed (successful) ones.
array ERR_DT[4] = ["(3,4)", "(14,5,3,5)", "(7,3)", "(14,4,3,4,3,4)"]
curve(i) = sprintf("$S%d using 1:($2 / TOTAL * 100) smooth cumulative with steps %s " \
    . "title legend(%d)", i, style(i), i)
cmd = ""
do for [i = 1:NS] {
    cmd = cmd . (cmd eq "" ? "" : ", ") . curve(i)
}

set title sprintf("%s: latency distribution of point %d%s", NAME, P, ABOUT)
set xlabel "latency (ms, log scale)"
set ylabel "requests finished by then (% of all requests)"
set logscale x
set format x "%g"
eval log_tics("x", LE_MIN * 0.9, LE_MAX)
set yrange [0:103]
set ytics 0, 20, 100
set key title "outcome" left
set offsets 0, 0, 0, 0
set xrange [LE_MIN * 0.9:LE_MAX]
eval set_output(OUT)
eval "plot " . cmd
unset output

# lines.gp - draws metrics of points.csv against x, one line per group (loaded, never run).
#
# Each metric is drawn with its 95% error bars (its _ci column) on its own axis and dash pattern.
# With several lines (variants, other swept values) colour and point type name the line and the
# dash pattern names the metric; the legend lists both.  With one line, colour names the metric.
# The first metric is the figure's main one and is drawn thicker, so that where a thinner metric
# lies on it (p99 of all and of successful requests, when none fails) both stay visible.
# The rows of one line are not adjacent in points.csv (the last swept key varies fastest) and
# gnuplot breaks a line at every row it skips, so each (metric, line) is first copied into its own
# datablock $L<m>_<g>, keeping the rows that have a value: an empty cell ("does not apply") is
# left out, and a metric or line with no value at all is not drawn, so gnuplot never warns of an
# empty plot.  The line and its points are drawn by `smooth unique`, which puts them in x order;
# the error bars are drawn first, translucent.
# If nothing is left, or there is a single point, the script exits with status 3: the figure does
# not apply to these results.
# A metric whose MC[m] starts with "@" is not a column but computed by the script: its value in
# the current row is computed(m) (NaN where it does not apply), drawn without error bars.
#
# In:  points.gp loaded; NM and, for m = 1..NM, MC[m] the column, MT[m] its legend text,
#      MA[m] its y axis (1 left, 2 right), MD[m] its dash pattern (index in METRIC_DT);
#      Y_LOG 1 when the left axis is logarithmic (else both axes start at 0); Y_CAP[a] the most
#      an axis can need (a share: 1) or NaN; OUT the file to write.

is_computed(m) = MC[m][1:1] eq "@"
mv(m) = is_computed(m) ? computed(m) : yv(MC[m])
mc(m) = is_computed(m) ? 0 : cv(MC[m])
# Error bars: on a log axis a bar that would reach zero or below stops at a tenth of the value.
lo_(m) = (y_ = mv(m), l_ = y_ - mc(m), MA[m] == 1 && Y_LOG && l_ <= 0 ? y_ / 10 : l_)
hi_(m) = mv(m) + mc(m)
# The extent of each axis' values (VMIN, VMAX) and error bars (BMIN, BMAX): the range shows every
# value and the bars up to 1.5 times the largest value (3 times on a log axis), so that the wide
# intervals of a few replications do not squash the lines they belong to.
array VMIN[2] = [NaN, NaN]
array VMAX[2] = [NaN, NaN]
array BMIN[2] = [NaN, NaN]
array BMAX[2] = [NaN, NaN]
lower(a, b) = b != b || (a == a && a < b) ? a : b
upper(a, b) = b != b || (a == a && a > b) ? a : b
track(m, y, lo, hi) = (a_ = MA[m], VMIN[a_] = lower(VMIN[a_], y), VMAX[a_] = upper(VMAX[a_], y), \
    BMIN[a_] = lower(BMIN[a_], lo), BMAX[a_] = upper(BMAX[a_], hi), y)
top(a) = (t_ = lower(BMAX[a], 1.5 * VMAX[a]), t_ = lower(t_, Y_CAP[a]), t_ > 0 ? t_ * 1.04 : 1)
in_line(g, m) = ROWG[int(column(0)) + 1] == g && mv(m) == mv(m)
axis_note(m) = MA[m] == 2 ? " (right)" : ""
# Error bars are drawn light, under the lines: a few replications give wide ones.
translucent(rgb) = "#70" . rgb[2:]
metric_lw(m) = m == 1 ? 2.4 : 1.5
# Without a numeric x each line is a single point, so point types name the metrics instead.
PT_BY_METRIC = NG == 1 || !X_SW
elem_rgb(m, g) = NG > 1 ? line_rgb(g) : line_rgb(m)
elem_pt(m, g) = PT_BY_METRIC ? line_pt(m) : line_pt(g)

array LINE_USED[NG]
do for [g = 1:NG] {
    LINE_USED[g] = 0
}
keys = ""
data = ""
USE_Y2 = 0
do for [m = 1:NM] {
    metric_used = 0
    do for [g = 1:NG] {
        block = sprintf('$L%d_%d', m, g)
        if (is_computed(m) || has_col(MC[m])) {
            eval 'set table ' . block
            plot PTS using (column(X_COL)):(track(m, mv(m), lo_(m), hi_(m))):(lo_(m)) \
                :(hi_(m)) with table if (in_line(g, m))
            unset table
        }
        eval 'rows_ = |' . block . '|'
        if (rows_ > 0) {
            metric_used = 1
            LINE_USED[g] = 1
            data = data . sprintf(", %s using 1:2:3:4 axes x1y%d with yerrorbars " \
                . "lc rgb '%s' pt 7 ps 0 lw 1", block, MA[m], translucent(elem_rgb(m, g))) \
                . sprintf(", %s using 1:2 axes x1y%d smooth unique with linespoints " \
                . "lc rgb '%s' pt %d ps 0.9 dt %s lw %g", block, MA[m], elem_rgb(m, g), \
                elem_pt(m, g), METRIC_DT[MD[m]], metric_lw(m))
        }
    }
    if (metric_used) {
        USE_Y2 = USE_Y2 || MA[m] == 2
        keys = keys . (PT_BY_METRIC \
            ? sprintf(", keyentry with linespoints lc rgb '%s' pt %d dt %s lw %g", \
                      NG > 1 ? "#303030" : line_rgb(m), line_pt(m), METRIC_DT[MD[m]], metric_lw(m)) \
            : sprintf(", keyentry with lines lc rgb '#303030' dt %s lw %g", \
                      METRIC_DT[MD[m]], metric_lw(m))) \
            . sprintf(" title MT[%d] . axis_note(%d)", m, m)
    }
}
if (NG > 1) {
    do for [g = NG:1:-1] {
        if (LINE_USED[g]) {
            keys = (PT_BY_METRIC \
                ? sprintf(", keyentry with lines lc rgb '%s' lw 6", line_rgb(g)) \
                : sprintf(", keyentry with linespoints lc rgb '%s' pt %d lw 1.6", \
                          line_rgb(g), line_pt(g))) . sprintf(" title GLABEL[%d]", g) . keys
        }
    }
}
if (!POINTS_APPLY || data eq "") {
    exit status 3
}
# The legend stands below the plot, in two columns (lines left, metrics right, when that fits).
NKEYS = 0
do for [i = 1:strlen(keys)] {
    NKEYS = NKEYS + (keys[i:i + 8] eq "keyentry " ? 1 : 0)
}
eval sprintf("set key maxrows %d", NKEYS > 1 ? (NKEYS + 1) / 2 : 1)
if (USE_Y2) {
    set ytics nomirror
    set y2tics
    set y2range [0:top(2)]
} else {
    unset y2tics
    unset y2label
}
if (Y_LOG) {
    y_lo_ = upper(BMIN[1], VMIN[1] / 3)
    y_hi_ = lower(BMAX[1], VMAX[1] * 3)
    set yrange [y_lo_ / 1.15:y_hi_ * 1.15]
    eval log_tics("y", y_lo_ / 1.15, y_hi_ * 1.15)
} else {
    set yrange [0:top(1)]
}
set datafile separator whitespace
set datafile nocolumnheaders
eval set_output(OUT)
eval "plot " . keys[3:] . data
unset output

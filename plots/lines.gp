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
# empty plot.  The line through the points is drawn by `smooth unique`, which puts them in x order.
# If nothing is left, or there is a single point, the script exits with status 3: the figure does
# not apply to these results.
#
# In:  points.gp loaded; NM and, for m = 1..NM, MC[m] the column, MT[m] its legend text,
#      MA[m] its y axis (1 left, 2 right), MD[m] its dash pattern (index in METRIC_DT);
#      Y_LOG 1 when the left axis is logarithmic; OUT the file to write.

# Error bars: on a log axis a bar that would reach zero or below stops at a tenth of the value.
lo_(m) = (y_ = yv(MC[m]), l_ = y_ - cv(MC[m]), MA[m] == 1 && Y_LOG && l_ <= 0 ? y_ / 10 : l_)
hi_(m) = yv(MC[m]) + cv(MC[m])
# The extent of the left axis' data, for log tics that fit it.
Y_MIN = NaN
Y_MAX = NaN
track_y(m, y) = (MA[m] == 1 && y == y \
    ? (Y_MIN = Y_MIN == Y_MIN && Y_MIN < y ? Y_MIN : y, \
       Y_MAX = Y_MAX == Y_MAX && Y_MAX > y ? Y_MAX : y) : 0, y)
in_line(g, m) = ROWG[int(column(0)) + 1] == g && yv(MC[m]) == yv(MC[m])
axis_note(m) = MA[m] == 2 ? " (right axis)" : ""
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
        if (has_col(MC[m])) {
            eval 'set table ' . block
            plot PTS using (column(X_COL)):(yv(MC[m])):(track_y(m, lo_(m))):(track_y(m, hi_(m))) \
                with table if (in_line(g, m))
            unset table
        }
        eval 'rows_ = |' . block . '|'
        if (rows_ > 0) {
            metric_used = 1
            LINE_USED[g] = 1
            data = data . sprintf(", %s using 1:2:3:4 axes x1y%d with yerrorbars " \
                . "lc rgb '%s' pt %d ps 0.9 lw 1.2", block, MA[m], elem_rgb(m, g), elem_pt(m, g)) \
                . sprintf(", %s using 1:2 axes x1y%d smooth unique with lines lc rgb '%s' " \
                . "dt %s lw %g", block, MA[m], elem_rgb(m, g), METRIC_DT[MD[m]], metric_lw(m))
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
if (USE_Y2) {
    set ytics nomirror
    set y2tics
} else {
    unset y2tics
    unset y2label
}
set datafile separator whitespace
set datafile nocolumnheaders
if (Y_LOG) {
    eval log_tics("y", Y_MIN, Y_MAX)
}
eval set_output(OUT)
eval "plot " . keys[3:] . data
unset output

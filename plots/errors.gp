# errors.gp - the share of requests that failed against the swept x, stacked by failure kind.
#
#   gnuplot -c plots/errors.gp RESULTS/points.csv OUT.png|OUT.svg [TITLE]
#
# The black line is error_rate (errors / requests) with its 95% error bars; under it the coloured
# bands split it by kind, each errors_<kind> column that is non-zero somewhere, in the order of
# points.csv (bottom band first).  A band's height is error_rate * errors_<kind> / errors, so the
# bands add up to the line exactly.  With several lines (variants, other swept values) each gets
# its own panel, on common axes.  A kind names the timer or limit that fired (P2024: Prisma's
# pool_timeout, query_wait_timeout: PgBouncer's, 53300: PostgreSQL's max_connections, ...).
# Rows of a panel are drawn in the order they were run (the sweep's order of x).
# Exit status 3: the figure does not apply (a single point, or no error_rate).
here(s) = strstrt(s, "/") ? s[1:strstrt(s, "/")] . here(s[strstrt(s, "/") + 1:]) : ""
load here(ARG0) . "style.gp"
PTS = ARG1
OUT = ARG2
NAME = ARGC >= 3 && ARG3 ne "" ? ARG3 : default_title(ARG1)
load PLOTS_DIR . "points.gp"
if (!POINTS_APPLY || !has_col("error_rate")) {
    exit status 3
}

# The kinds that occur: errors_* columns (not their _ci) with a non-zero value somewhere.
is_kind(c) = HEAD[c][1:7] eq "errors_" && HEAD[c][strlen(HEAD[c]) - 2:] ne "_ci"
array KIND[NCOLS]
array KSUM[NCOLS]
NK = 0
do for [c = 1:NCOLS] {
    if (is_kind(c)) {
        NK = NK + 1
        KIND[NK] = HEAD[c]
        KSUM[NK] = 0
    }
}
add_kinds(d) = sum [k = 1:NK] (v_ = column(KIND[k]), KSUM[k] = KSUM[k] + (v_ == v_ ? v_ : 0), 0)
set table $errors_scratch
plot PTS using (add_kinds(0)):(0) with table
unset table
undefine $errors_scratch
NUSED = 0
array USED[NK + 1]
do for [k = 1:NK] {
    if (KSUM[k] > 0) {
        NUSED = NUSED + 1
        USED[NUSED] = KIND[k]
    }
}

# One datablock per line: x, error rate and half-width (%), then the top of each band (%).
num0(name) = (v_ = column(name), v_ == v_ ? v_ : 0)
rate_pct(d) = 100 * column("error_rate")
ci_pct(d) = 100 * cv("error_rate")
band_top(j) = (e_ = num0("errors"), e_ > 0 ? rate_pct(0) * (sum [k = 1:j] num0(USED[k])) / e_ : 0)
# The y range shows every rate and its error bar up to 1.5 times the largest rate, and no more
# than 100%: the wide intervals of a few replications must not squash the bands.
Y_MAX = 0
R_MAX = 0
track(r, c) = (Y_MAX = r + c > Y_MAX ? r + c : Y_MAX, R_MAX = r > R_MAX ? r : R_MAX, r)
cols = "(column(X_COL)):(track(rate_pct(0), ci_pct(0))):(ci_pct(0))"
do for [j = 1:NUSED] {
    cols = cols . sprintf(":(band_top(%d))", j)
}
# A panel per line; without a numeric x a line is a single point: then one panel holds them all.
NP = X_SW ? NG : 1
in_panel(g) = (NP == 1 || ROWG[int(column(0)) + 1] == g) && rate_pct(0) == rate_pct(0)
array PANEL_ROWS[NP]
do for [g = 1:NP] {
    eval sprintf('set table $E%d', g)
    eval "plot PTS using " . cols . " with table if (in_panel(g))"
    unset table
    eval sprintf('PANEL_ROWS[%d] = |$E%d|', g, g)
}
if (Y_MAX != Y_MAX || sum [g = 1:NP] PANEL_ROWS[g] == 0) {
    exit status 3
}
stats PTS using (column(X_COL)) nooutput
X_PAD = STATS_max > STATS_min ? 0.03 * (STATS_max - STATS_min) : 0.5
set xrange [STATS_min - X_PAD:STATS_max + X_PAD]
if (X_SW && NP > 1 && STATS_max > STATS_min) {
    # narrow panels: about three tic intervals each (whole steps for whole numbers)
    step_ = nice_step(STATS_max - STATS_min, 3)
    step_ = X_FRACTIONS || step_ >= 1 ? step_ : 1
    set xtics step_
}
Y_TOP = Y_MAX < 1.5 * R_MAX ? Y_MAX : 1.5 * R_MAX
Y_TOP = Y_TOP < 100 ? Y_TOP : 100
set yrange [0:(Y_TOP > 0 ? Y_TOP * 1.04 : 1)]
set ylabel "failed requests (% of requests)"
set datafile separator whitespace
set datafile nocolumnheaders

# Bands between consecutive tops; without a numeric x (variants only) the points are categories,
# so the stack is drawn as bars instead, each box from the top of the one below.
# So that the kinds part in greyscale too, each band j > 1 is a light tint of its colour under a
# hatch pattern of its own (BAND_PAT: //, \\, crosshatch, ...); band 1 is solid.
array BAND_PAT[6] = [3, 4, 5, 1, 6, 7]
band_pat(j) = BAND_PAT[(j - 1) % 6 + 1]
band_fs(j) = band_pat(j) == 3 ? "fs solid 0.85" : sprintf("fs transparent pattern %d", band_pat(j))
band_cols(g, j) = X_SW \
    ? sprintf('$E%d using 1:%s:%d with filledcurves', g, \
              j == 1 ? "(0)" : sprintf("%d", 3 + j - 1), 3 + j) \
    : sprintf('$E%d using 1:((%s + $%d) / 2):(0.3):(($%d - %s) / 2) with boxxyerror', g, \
              band_lo(j), 3 + j, 3 + j, band_lo(j))
band_lo(j) = j == 1 ? "0" : sprintf("$%d", 3 + j - 1)
band(g, j) = (j > 1 ? band_cols(g, j) . sprintf(' lc rgb "%s" fs solid 0.3, ', line_rgb(j)) : "") \
    . band_cols(g, j) . sprintf(' lc rgb "%s" %s', line_rgb(j), band_fs(j))
rate_line(g) = sprintf('$E%d using 1:2:3 with %s lc rgb "#000000" pt 7 ps 0.8 lw 2', \
    g, X_SW ? "yerrorlines" : "yerrorbars")
panel(g) = (cmd_ = "", sum [j = 1:NUSED] (cmd_ = cmd_ . band(g, j) . ", ", 0), \
    cmd_ . rate_line(g))
keys = 'keyentry with yerrorlines lc rgb "#000000" pt 7 lw 2 title "all kinds (error_rate)"'
do for [j = NUSED:1:-1] {
    keys = keys . sprintf(', keyentry with filledcurves lc rgb "%s" %s ' \
        . 'title USED[%d][8:]', line_rgb(j), band_fs(j), j)
}
set key title "failure kind" left
set boxwidth 0.6
if (NUSED == 0) {
    set label 1 "no request failed" at graph 0.5, graph 0.5 center tc rgb "#606060"
}

# Several lines: a grid of panels sharing the axes; the legend stands once, right of the grid,
# and only the left column and the bottom row carry the axis labels.
COLS = NP == 1 ? 1 : NP <= 4 ? 2 : 3
ROWS = (NP + COLS - 1) / COLS
FIG_W = COLS == 3 ? 1300 : FIG_W
FIG_H = ROWS == 1 ? FIG_H : ROWS == 2 ? 720 : 900
eval set_output(OUT)
if (NP == 1) {
    set title NAME . ": failed requests by kind"
    eval "plot " . keys . ", " . panel(1)
} else {
    set multiplot layout ROWS, COLS title NAME . ": failed requests by kind" \
        margins 0.08, 0.74, 0.12, 0.88 spacing 0.06, 0.11
    do for [g = 1:NP] {
        set title GLABEL[g]
        if ((g - 1) % COLS != 0) {
            unset ylabel
        }
        if (g + COLS <= NP) {
            unset xlabel
        } else {
            set xlabel X_LABEL
        }
        if (g == 1) {
            set key at screen 0.76, 0.9 left top
        } else {
            unset key
        }
        eval "plot " . (g == 1 ? keys . ", " : "") . (PANEL_ROWS[g] > 0 ? panel(g) : "NaN notitle")
        set ylabel "failed requests (% of requests)"
    }
    unset multiplot
}
unset output

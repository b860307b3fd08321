# heatmap.gp - p99 latency over concurrency x pool size, or pass/fail against a p99 objective.
#
#   gnuplot [-e PLOT_LOG=1] [-e SLO_P99_MS=250] -c plots/heatmap.gp RESULTS/points.csv \
#       OUT.png|OUT.svg [TITLE]
#
# One cell per (concurrency, pool size) point, coloured by latency_p99_ms (every request, failed
# ones included: DESIGN.md §5) and labelled with its value in ms, so that it reads in greyscale
# too: the palette (viridis, reversed) darkens monotonically as p99 grows.  With SLO_P99_MS
# (`poolsim plot --slo-p99 MS`) a cell is "pass" (light) when p99 <= the objective and "FAIL"
# (dark) otherwise.  PLOT_LOG=1 (`poolsim plot --log`) puts the colours on a log scale.  An empty
# p99 (no request finished) is a grey "n/a".
# The pool size is the first numeric swept column named like one (…pool_size, …connection_limit,
# …max_connections, …max_db_connections); concurrency is the first other numeric swept column
# (users, rate, clients, …).  Both axes are ordinal: the swept values in increasing order,
# evenly spaced.  Each variant and value of any other swept column gets its own panel.
# Exit status 3: the figure does not apply - no pool size or no concurrency swept (two values
# each, not zipped together).
here(s) = strstrt(s, "/") ? s[1:strstrt(s, "/")] . here(s[strstrt(s, "/") + 1:]) : ""
load here(ARG0) . "style.gp"
PTS = ARG1
OUT = ARG2
NAME = ARGC >= 3 && ARG3 ne "" ? ARG3 : default_title(ARG1)
load PLOTS_DIR . "points.gp"
SLO = exists("SLO_P99_MS") ? SLO_P99_MS + 0.0 : NaN
LOG_CB = exists("PLOT_LOG") ? PLOT_LOG != 0 : 0

ends(s, t) = strlen(s) >= strlen(t) && s[strlen(s) - strlen(t) + 1:] eq t
is_pool(name) = ends(name, "pool_size") || ends(name, "connection_limit") \
    || ends(name, "max_connections") || ends(name, "max_db_connections")
PI = 0
do for [i = NSW:1:-1] {
    if (SW_NUM[i] ne "" && is_pool(SW_NAME[i])) {
        PI = i
    }
}
CI = 0
do for [i = NSW:1:-1] {
    if (SW_NUM[i] ne "" && i != PI) {
        CI = i
    }
}
if (!PI || !CI || !has_col("latency_p99_ms") || SW_WITH_X[PI] || SW_WITH_X[CI]) {
    exit status 3
}

# The distinct values of each axis; a value's place on its axis is its rank among them.
array CV[NROWS]
array PV[NROWS]
NCV = 0
NPV = 0
add_distinct(v, which) = which == 1 \
    ? ((sum [j = 1:NCV] (CV[j] == v)) ? 0 : (NCV = NCV + 1, CV[NCV] = v, 0)) \
    : ((sum [j = 1:NPV] (PV[j] == v)) ? 0 : (NPV = NPV + 1, PV[NPV] = v, 0))
set table $heat_scratch
plot PTS using (add_distinct(column(SW_NUM[CI]), 1) + add_distinct(column(SW_NUM[PI]), 2)):(0) \
    with table
unset table
if (NCV < 2 || NPV < 2) {
    exit status 3
}
c_rank(v) = sum [j = 1:NCV] (CV[j] < v ? 1 : 0)
p_rank(v) = sum [j = 1:NPV] (PV[j] < v ? 1 : 0)

# Panels: variant and the other swept values (not concurrency, pool size, or what moves with x).
pan_expr = HAS_VARIANT ? 'strcol("variant")' : ''
do for [i = 1:NSW] {
    if (i != CI && i != PI && !SW_WITH_X[i]) {
        pan_expr = pan_expr . (pan_expr eq '' ? '' : ' . ", " . ') . part_expr(i)
    }
}
eval 'panel_key(d_) = ' . (pan_expr eq '' ? '""' : pan_expr)
array PKEY[NROWS]
array ROWP[NROWS]
NP = 0
panel_of(k) = sum [i = 1:NP] (PKEY[i] eq k ? i : 0)
add_row(r, k) = (p_ = panel_of(k), p_ == 0 ? (NP = NP + 1, PKEY[NP] = k, p_ = NP) : 0, \
    ROWP[r] = p_, 0)
set table $heat_scratch
plot TEXT using (add_row(int(column(0)) + 1, panel_key(0))):(0) with table
unset table
undefine $heat_scratch

# One datablock per panel: concurrency rank, pool rank, p99 (NaN when empty).
VMIN = NaN
VMAX = NaN
p99(d) = (v_ = column("latency_p99_ms"), v_ == v_ ? (VMIN = VMIN == VMIN && VMIN < v_ ? VMIN : v_, \
    VMAX = VMAX == VMAX && VMAX > v_ ? VMAX : v_, v_) : NaN)
do for [g = 1:NP] {
    eval sprintf('set table $H%d', g)
    plot PTS using (c_rank(column(SW_NUM[CI]))):(p_rank(column(SW_NUM[PI]))):(p99(0)) \
        with table if (ROWP[int(column(0)) + 1] == g)
    unset table
}
if (VMAX != VMAX) {
    exit status 3
}

# Colours.  p99: reversed viridis (light = fast, dark = slow; monotonic in lightness).
# Pass/fail: light green against dark vermillion.  Labels white on dark cells, black on light.
set palette defined (0 "#FDE725", 0.25 "#5EC962", 0.5 "#21918C", 0.75 "#3B528B", 1 "#440154")
LO = VMIN
HI = VMAX > VMIN ? VMAX : VMIN * 1.01 + 1
if (LOG_CB && LO > 0) {
    set logscale cb
    set format cb "%g"
}
set cbrange [LO:HI]
frac(v) = LOG_CB && LO > 0 ? log(v / LO) / log(HI / LO) : (v - LO) / (HI - LO)
PASS_RGB = 0xCDEBDC
FAIL_RGB = 0xB2450C
passes(v) = v <= SLO
cell_rgb(v) = passes(v) ? PASS_RGB : FAIL_RGB
text_rgb(v) = v != v ? 0x707070 : SLO == SLO ? (passes(v) ? 0x000000 : 0xFFFFFF) \
    : frac(v) > 0.4 ? 0xFFFFFF : 0x000000
cell_text(v) = v != v ? "n/a" : SLO == SLO ? sprintf("%s\n%.4g", passes(v) ? "pass" : "FAIL", v) \
    : sprintf("%.4g", v)
cells(g) = SLO == SLO \
    ? sprintf('$H%d using 1:2:(0.5):(0.5):(cell_rgb($3)) with boxxyerror fc rgb variable ' \
              . 'fs solid 1 border lc rgb "#ffffff"', g) \
    : sprintf('$H%d using 1:2:(0.5):(0.5):3 with boxxyerror fc palette fs solid 1 ' \
              . 'border lc rgb "#ffffff"', g)
texts(g) = sprintf('$H%d using 1:2:(cell_text($3)):(text_rgb($3)) with labels tc rgb variable', g)

set datafile separator whitespace
set datafile nocolumnheaders
set style fill solid 1
unset grid
set border 0
set tics scale 0
set offsets 0, 0, 0, 0
set xrange [-0.5:NCV - 0.5]
set yrange [-0.5:NPV - 0.5]
set xtics () norotate
set ytics ()
do for [j = 1:NCV] {
    set xtics add (sprintf("%g", CV[j]) c_rank(CV[j]))
}
do for [j = 1:NPV] {
    set ytics add (sprintf("%g", PV[j]) p_rank(PV[j]))
}
C_LABEL = SW_NAME[CI] . x_unit(SW_NUM[CI])
set xlabel C_LABEL
set ylabel SW_NAME[PI] . " (connections)"
unset key
HOW = SLO == SLO ? sprintf("p99 against an objective of %g ms", SLO) : "p99 latency (ms)"
if (SLO == SLO) {
    unset colorbox
    set key outside below center horizontal noautotitle
    keys = sprintf('keyentry with boxes fc rgb "#%06X" fs solid 1 title "pass: p99 <= %g ms", ' \
        . 'keyentry with boxes fc rgb "#%06X" fs solid 1 title "FAIL: p99 > %g ms", ', \
        PASS_RGB, SLO, FAIL_RGB, SLO)
} else {
    set cblabel "p99 latency (ms" . (LOG_CB && LO > 0 ? ", log scale)" : ")")
    keys = ""
}

COLS = NP == 1 ? 1 : NP <= 4 ? 2 : 3
ROWS = (NP + COLS - 1) / COLS
FIG_W = COLS == 3 ? 1300 : FIG_W
FIG_H = ROWS == 1 ? FIG_H : ROWS == 2 ? 800 : 1000
eval set_output(OUT)
if (NP == 1) {
    set title NAME . ": " . HOW . (PKEY[1] ne "" ? "\n" . PKEY[1] : "")
    eval "plot " . keys . cells(1) . ", " . texts(1)
} else {
    set multiplot layout ROWS, COLS title NAME . ": " . HOW \
        margins 0.08, (SLO == SLO ? 0.97 : 0.86), (SLO == SLO ? 0.16 : 0.1), 0.9 \
        spacing 0.07, 0.12
    do for [g = 1:NP] {
        set title PKEY[g]
        set xlabel (g + COLS > NP ? C_LABEL : "")
        if (SLO != SLO) {
            if (g == 1) {
                set colorbox user origin screen 0.9, screen 0.15 size screen 0.02, screen 0.7
            } else {
                unset colorbox
            }
        }
        if (g > 1) {
            unset key
            keys = ""
        }
        eval "plot " . keys . cells(g) . ", " . texts(g)
    }
    unset multiplot
}
unset output

# cdf.gp - the latency distributions (CDF) of chosen points, one curve per point, from
# histograms.csv.
#
#   gnuplot -c plots/cdf.gp RESULTS/histograms.csv OUT.png|OUT.svg [POINTS] [TITLE]
#
# POINTS lists point numbers of points.csv, separated by spaces or commas (`poolsim plot
# --points 0,5,11`); by default up to four points spread evenly over the run (the first, the
# last and two between).  Each curve is the `requests` series of its point (every endpoint call,
# failed ones included, merged over replications: DESIGN.md §5): at latency t, the share of the
# point's requests that finished within t.  A curve that jumps at one latency shows a timer
# firing; the legend names what each point ran (from the points.csv beside the file) and its
# median and p99 read off these merged buckets (points.csv's are means of each replication's,
# so they differ a little).  Buckets are plotted at their upper bounds (<= 1% wide) on a log
# axis; the overflow bucket (> 9.8 h) is left out.  Curves differ by colour, dash pattern and
# point type.
# Exit status 3: none of the points has a request; 1: a point that does not exist was asked for.
here(s) = strstrt(s, "/") ? s[1:strstrt(s, "/")] . here(s[strstrt(s, "/") + 1:]) : ""
load here(ARG0) . "style.gp"
HIS = ARG1
OUT = ARG2
NAME = ARGC >= 4 && ARG4 ne "" ? ARG4 : default_title(ARG1)

# The run's point numbers, in order; then the chosen ones.
ALL = system(sprintf("awk -F, 'NR > 1 && (NR == 2 || $1 != last) " \
                     . "{ printf \"%%s \", $1; last = $1 }' '%s'", HIS))
NALL = words(ALL)
if (NALL == 0) {
    exit status 3
}
ASKED = ""
if (ARGC >= 3) {
    do for [i = 1:strlen(ARG3)] {
        ASKED = ASKED . (ARG3[i:i] eq "," ? " " : ARG3[i:i])
    }
}
if (words(ASKED) > 0) {
    NC = words(ASKED)
    array PT[NC]
    do for [i = 1:NC] {
        PT[i] = int(word(ASKED, i))
        if (!(sum [j = 1:NALL] (int(word(ALL, j)) == PT[i]))) {
            print sprintf("cdf.gp: %s has no point %d", HIS, PT[i])
            exit status 1
        }
    }
} else {
    NC = NALL < 4 ? NALL : 4
    array PT[NC]
    do for [i = 1:NC] {
        k_ = NC == 1 ? 1 : 1 + int(floor((i - 1) * (NALL - 1.0) / (NC - 1) + 0.5))
        PT[i] = int(word(ALL, k_))
    }
}

# Each chosen point's requests series (awk picks its rows), its total, median and p99.
rows(p) = sprintf("< awk -F, 'NR == 1 || ($1 == %d && $2 == \"requests\")' '%s'", p, HIS)
le_of(d) = (le_ = column("le_ms"), le_ < 1e300 ? le_ : NaN)
array TOT[NC]
array P50[NC]
array P99[NC]
LE_MIN = NaN
LE_MAX = NaN
NUSED = 0
quant(i, le, n) = (CUM = CUM + n, P50[i] != P50[i] && CUM >= 0.5 * TOT[i] ? P50[i] = le : 0, \
    P99[i] != P99[i] && CUM >= 0.99 * TOT[i] ? P99[i] = le : 0, 0)
do for [i = 1:NC] {
    TOT[i] = 0
    P50[i] = NaN
    P99[i] = NaN
    # total, smallest and largest bucket bound (awk: gnuplot warns on a point without rows)
    T_ = system(sprintf("awk -F, '$1 == %d && $2 == \"requests\" && $3 != \"inf\" " \
        . "{ n += $4; if (lo == \"\" || $3 + 0 < lo) lo = $3 + 0; if ($3 + 0 > hi) hi = $3 + 0 } " \
        . "END { print n + 0, (lo == \"\" ? 0 : lo), hi + 0 }' '%s'", PT[i], HIS))
    TOT[i] = real(word(T_, 1))
    if (TOT[i] > 0) {
        NUSED = NUSED + 1
        CUM = 0
        set table $cdf_scratch
        plot rows(PT[i]) using (quant(i, le_of(0), column("count"))):(0) with table
        unset table
        lo_ = real(word(T_, 2))
        hi_ = real(word(T_, 3))
        LE_MIN = LE_MIN == LE_MIN && LE_MIN < lo_ ? LE_MIN : lo_
        LE_MAX = LE_MAX == LE_MAX && LE_MAX > hi_ ? LE_MAX : hi_
        eval sprintf('set table $C%d', i)
        plot '+' using (lo_ * 0.99):(0) every ::0::0 with table
        CUM = 0
        plot rows(PT[i]) using (le_of(0)):(CUM = CUM + column("count"), 100.0 * CUM / TOT[i]) \
            with table if (le_of(0) == le_of(0))
        unset table
    }
}
if (NUSED == 0) {
    exit status 3
}
LE_MAX = LE_MAX * 1.3
do for [i = 1:NC] {
    if (TOT[i] > 0) {
        eval sprintf('set table $C%d append', i)
        plot '+' using (LE_MAX):(100.0) every ::0::0 with table
        unset table
    }
}

# What each point ran, from the points.csv beside the file when there is one.
PTS = dir_part(HIS) . "/points.csv"
array ABOUT[NC]
do for [i = 1:NC] {
    ABOUT[i] = ""
}
if (system(sprintf("[ -r '%s' ] && echo 1 || echo 0", PTS)) + 0) {
    load PLOTS_DIR . "points.gp"
    do for [i = 1:NC] {
        r_ = sum [r = 1:NROWS] (ROW_POINT[r] == PT[i] ? r : 0)
        ABOUT[i] = r_ > 0 ? ROW_LABEL[r_] : ""
    }
    unset xlabel
    set xtics autofreq norotate
}

set datafile separator whitespace
set datafile nocolumnheaders
array CDF_DT[4] = ["solid", "(14,6)", "(3,5)", "(14,5,3,5)"]
fmt_ms(v) = v >= 1000 ? sprintf("%.3g s", v / 1000) : sprintf("%.3g ms", v)
legend(i) = sprintf("point %d%s: p50 ≈ %s, p99 ≈ %s", PT[i], \
    ABOUT[i] ne "" ? " (" . ABOUT[i] . ")" : "", fmt_ms(P50[i]), fmt_ms(P99[i]))
dt_of(i) = CDF_DT[(i - 1) % 4 + 1]
# The cumulative share as steps (each bucket's share reached at its upper bound), and a point
# every few buckets (at most about 12 a curve) so that the curves differ in greyscale too.
curve(i) = sprintf("$C%d using 1:2 with steps lc rgb '%s' lw 2 dt %s notitle", \
    i, line_rgb(i), dt_of(i))
marks(i, every) = sprintf("$C%d using 1:2 every %d::1 with points lc rgb '%s' pt %d ps 0.9 " \
    . "notitle", i, every, line_rgb(i), line_pt(i))
cmd = ""
do for [i = 1:NC] {
    if (TOT[i] > 0) {
        eval sprintf('rows_ = |$C%d|', i)
        cmd = cmd . sprintf("keyentry with linespoints lc rgb '%s' lw 2 dt %s pt %d " \
            . "title legend(%d), ", line_rgb(i), dt_of(i), line_pt(i), i) \
            . curve(i) . ", " . marks(i, rows_ / 12 + 1) . ", "
    }
}
cmd = cmd[1:strlen(cmd) - 2]

set title sprintf("%s: latency distribution (CDF) of chosen points", NAME)
set xlabel "latency (ms, log scale)"
set ylabel "requests finished within that latency (%)"
set logscale x
set format x "%g"
eval log_tics("x", LE_MIN * 0.9, LE_MAX)
set yrange [0:103]
set ytics 0, 20, 100
set key maxrows NUSED
set offsets 0, 0, 0, 0
set xrange [LE_MIN * 0.9:LE_MAX]
eval set_output(OUT)
eval "plot " . cmd
unset output

# points.gp - reads the shape of a points.csv for the figure scripts (loaded, never run).
#
# DESIGN.md §5: the columns are `point`, `variant` (when there are variants), the swept paths as
# written (a swept duration also gets a numeric <path>_ms twin), then the metrics, each followed
# by its <metric>_ci.  So the swept columns are the ones between `point`/`variant` and the first
# metric (the first column followed by its own _ci column).  From them this file chooses
#   the x axis: the first swept column that holds numbers (a duration's _ms twin); with none,
#               the point number;
#   the lines:  one per distinct (variant, every other swept value), labelled with them; a swept
#               column that moves with x (zipped with it) names no line but joins x's label.
# Columns are always selected by name, never by position, so new metrics change nothing here.
#
# In:  PTS               path of points.csv (style.gp loaded first: separator and headers)
#      PLOTS_DIR         where csvtext.awk is (labels are read through it: see that file)
# Out: NROWS, NCOLS, HEAD[1..NCOLS]
#      X_COL, X_LABEL    the x column and its axis label (with its unit when known); the x
#                        label and tics are set
#      NG, GLABEL[1..NG] the lines and their legend labels (one line labelled "" if nothing varies
#                        but x)
#      ROWG[r]           the line of data row r (r = row number + 1)
#      has_col(name)     1 when points.csv has that column
#      yv(name)          the current row's value in that column (NaN when empty)
#      cv(name)          its 95% half-width (0 when empty or absent)
#      point_label(0)    the current row's variant and swept values, for titles
#      ROW_LABEL[r]      the same, of row r, whose point number is ROW_POINT[r]
#      POINTS_APPLY      0 when there is a single point: nothing to draw a line through

stats PTS using 1 nooutput
NROWS = STATS_records
NCOLS = STATS_columns
array HEAD[NCOLS]
do for [c = 1:NCOLS] {
    HEAD[c] = STATS_column_header[c]
}
col_index(name) = sum [c = 1:NCOLS] (HEAD[c] eq name ? c : 0)
has_col(name) = col_index(name) > 0
yv(name) = column(name)
cv(name) = has_col(name . "_ci") ? (ci_ = column(name . "_ci"), ci_ == ci_ ? ci_ : 0) : 0

# Swept columns: SW_NAME[i] as written, SW_NUM[i] the numeric column to plot it by ("" if none).
HAS_VARIANT = NCOLS >= 2 && HEAD[2] eq "variant"
is_extra(name) = name eq "replications" || name eq "precision_reached" || name eq "precision_met"
array SW_NAME[NCOLS]
array SW_NUM[NCOLS]
NSW = 0
sc_ = HAS_VARIANT ? 3 : 2
while (sc_ < NCOLS && HEAD[sc_ + 1] ne HEAD[sc_] . "_ci") {
    if (!is_extra(HEAD[sc_])) {
        NSW = NSW + 1
        SW_NAME[NSW] = HEAD[sc_]
        SW_NUM[NSW] = HEAD[sc_]
        if (HEAD[sc_ + 1] eq HEAD[sc_] . "_ms") {
            SW_NUM[NSW] = HEAD[sc_ + 1]
            sc_ = sc_ + 1
        }
    }
    sc_ = sc_ + 1
}

# A swept column is numeric when every row holds a number in it.
set table $points_scratch
do for [i = 1:NSW] {
    bad_ = 0
    plot PTS using (v_ = column(SW_NUM[i]), bad_ = bad_ + (v_ == v_ ? 0 : 1), 0):(0) with table
    if (bad_ > 0) {
        SW_NUM[i] = ""
    }
}
unset table

X_SW = 0
do for [i = NSW:1:-1] {
    if (SW_NUM[i] ne "") {
        X_SW = i
    }
}
x_unit(name) = name[strlen(name) - 2:] eq "_ms" ? " (ms)" \
    : strlen(name) > 5 && name[strlen(name) - 4:] eq ".rate" ? " (pages/s)" \
    : strlen(name) > 6 && name[strlen(name) - 5:] eq ".users" ? " (concurrent users)" : ""
X_COL = X_SW ? SW_NUM[X_SW] : "point"
X_LABEL = X_SW ? SW_NAME[X_SW] . x_unit(SW_NUM[X_SW]) : HAS_VARIANT ? "variant" : "point"

# A swept column whose value follows from x's (zipped with it by "|", or a single value) moves
# with x: it names no line of its own but joins the x label.  The rest are read as text through
# csvtext.awk (see that file).
TEXT = sprintf("< awk -f '%scsvtext.awk' '%s'", PLOTS_DIR, PTS)
array SW_WITH_X[NSW + 1]
array SEEN[NROWS]
NSEEN = 0
seen(k) = (sum [j = 1:NSEEN] (SEEN[j] eq k)) > 0 ? 0 : (NSEEN = NSEEN + 1, SEEN[NSEEN] = k, 0)
if (X_SW) {
    set table $points_scratch
    plot TEXT using (seen(strcol(X_COL))):(0) with table
    NX = NSEEN
    do for [i = 1:NSW] {
        NSEEN = 0
        plot TEXT using (seen(strcol(X_COL) . "\t" . strcol(SW_NAME[i]))):(0) with table
        SW_WITH_X[i] = i != X_SW && NSEEN == NX
        if (SW_WITH_X[i]) {
            X_LABEL = X_LABEL . ", with " . SW_NAME[i]
        }
    }
    unset table
}

# The line of a row: its variant and every other swept value, as "variant, name=value, ...".
last_part(s) = strstrt(s, ".") ? last_part(s[strstrt(s, ".") + 1:]) : s
part_expr(i) = sprintf('"%s=" . strcol("%s")', last_part(SW_NAME[i]), SW_NAME[i])
gexpr = HAS_VARIANT ? 'strcol("variant")' : ''
pexpr = gexpr
do for [i = 1:NSW] {
    pexpr = pexpr . (pexpr eq '' ? '' : ' . ", " . ') . part_expr(i)
    if (i != X_SW && !SW_WITH_X[i]) {
        gexpr = gexpr . (gexpr eq '' ? '' : ' . ", " . ') . part_expr(i)
    }
}
eval 'row_key(d_) = ' . (gexpr eq '' ? '""' : gexpr)
eval 'point_label(d_) = ' . (pexpr eq '' ? '""' : pexpr)

array GLABEL[NROWS]
array ROWG[NROWS]
array ROW_LABEL[NROWS]
array ROW_POINT[NROWS]
NG = 0
group_of(k) = sum [i = 1:NG] (GLABEL[i] eq k ? i : 0)
add_row(r, k) = (g_ = group_of(k), g_ == 0 ? (NG = NG + 1, GLABEL[NG] = k, g_ = NG) : 0, \
                 ROWG[r] = g_, ROW_LABEL[r] = point_label(0), ROW_POINT[r] = column("point"), 0)
set table $points_scratch
plot TEXT using (add_row(int(column(0)) + 1, row_key(0))):(0) with table
unset table

# The x axis: whole numbers over a short range get a tic each (a pool size of 20.5 means
# nothing); with no numeric swept column, each point's tic is labelled with what it ran.
X_FRACTIONS = 0
set table $points_scratch
plot PTS using (v_ = column(X_COL), X_FRACTIONS = X_FRACTIONS + (v_ != floor(v_)), 0):(0) \
    with table
unset table
undefine $points_scratch
stats PTS using (column(X_COL)) nooutput
set xlabel X_LABEL
if (!X_SW) {
    set xtics ()
    do for [r = 1:NROWS] {
        set xtics add (ROW_LABEL[r] ROW_POINT[r])
    }
    if (NROWS > 4) {
        set xtics rotate by -25
    }
} else {
    if (!X_FRACTIONS && STATS_max - STATS_min <= 15) {
        set xtics 1
    }
}

POINTS_APPLY = NROWS >= 2

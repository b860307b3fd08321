# style.gp - the look every poolsim figure shares (loaded by the figure scripts, never run).
#
# Colours come from the Okabe-Ito palette (safe for colour-blind readers), ordered so that
# neighbours differ in lightness; since colours alone do not survive greyscale printing, every
# line also has its own point type (LINE_PT) and every metric its own dash pattern (METRIC_DT).
# Text is not "enhanced": column names such as latency_p99_ms must print as written.
#
# Expects:   here(path), the directory part of a path with its slash, defined by the script
#            (`here(s) = strstrt(s, "/") ? s[1:strstrt(s, "/")] . here(s[strstrt(s, "/") + 1:]) : ""`)
# Provides:  PLOTS_DIR                 the directory of the running script ("" or ending in /)
#            LINE_RGB[i], LINE_PT[i]   colour and point type of line i (cycling after 8)
#            METRIC_DT[m]              dash pattern of the m-th metric of a figure
#            line_rgb(i), line_pt(i)   the same, for any i >= 1
#            set_output(file)          the commands that open FILE with the terminal its
#                                      extension asks for (.svg: svg; else pngcairo, or png
#                                      when gnuplot was built without cairo)
#            default_title(file)       the results directory's name, from a CSV path

PLOTS_DIR = here(ARG0)

array LINE_RGB[8] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", \
                     "#E69F00", "#56B4E9", "#000000", "#999999"]
array LINE_PT[8] = [7, 5, 9, 13, 6, 4, 8, 12]
array METRIC_DT[4] = ["solid", "(14,6)", "(3,5)", "(14,5,3,5)"]
line_rgb(i) = LINE_RGB[(i - 1) % 8 + 1]
line_pt(i) = LINE_PT[(i - 1) % 8 + 1]

FIG_W = 1000
FIG_H = 660
FIG_FONT = "DejaVu Sans,11"
ext_of(f) = strlen(f) >= 4 ? f[strlen(f) - 2:] : ""
png_terminal = strstrt(GPVAL_TERMINALS, " pngcairo ") ? "pngcairo" : "png"
set_output(f) = (ext_of(f) eq "svg" \
    ? sprintf("set terminal svg size %d,%d dynamic font '%s' background '#ffffff' noenhanced", \
              FIG_W, FIG_H, FIG_FONT) \
    : sprintf("set terminal %s size %d,%d font '%s' noenhanced", png_terminal, \
              FIG_W, FIG_H, FIG_FONT)) . sprintf("; set output '%s'", f)

# "results/foo/points.csv" -> "foo" (the directory the run wrote).
after_slash(s) = strstrt(s, "/") ? after_slash(s[strstrt(s, "/") + 1:]) : s
dir_part(s) = strlen(s) > strlen(after_slash(s)) ? s[1:strlen(s) - strlen(after_slash(s)) - 1] : "."
default_title(f) = after_slash(dir_part(f))

set encoding utf8
set datafile separator comma
set datafile columnheaders
set border 3 lw 1 lc rgb "#404040"
set tics nomirror out scale 0.6
set grid xtics ytics lw 0.8 lc rgb "#d0d0d0"
set key outside below center horizontal Left reverse noautotitle spacing 1.15 samplen 3 width 1
set offsets graph 0.03, graph 0.03, graph 0.05, 0
set autoscale xfix
set errorbars small
set style fill transparent solid 0.55 noborder

# A round tic step (1, 2 or 5 times a power of ten) giving about n intervals over range r.
nice_step(r, n) = (raw_ = r / n, p_ = 10.0**floor(log10(raw_)), f_ = raw_ / p_, \
    (f_ < 1.5 ? 1 : f_ < 3.5 ? 2 : f_ < 7.5 ? 5 : 10) * p_)

# Tics for a log axis from lo to hi: every decade over a wide range, 1-2-5 over a middle one and
# 1-1.5-2-3-4-5-7 over a narrow one (gnuplot's own would leave a few decades only two tics).
# `eval log_tics("y", lo, hi)`.
log_mantissas(lo, hi) = hi / lo >= 2000 ? "1" : hi / lo >= 20 ? "1 2 5" : "1 1.5 2 3 4 5 7"
log_tics(ax, lo, hi) = (m_ = log_mantissas(lo, hi), t_ = "", \
    sum [k_ = floor(log10(lo)):ceil(log10(hi))] \
        (sum [i_ = 1:words(m_)] (t_ = t_ . sprintf(",%.6g", word(m_, i_) * 10.0**k_), 0)), \
    sprintf("set %stics (%s)", ax, t_[2:]))

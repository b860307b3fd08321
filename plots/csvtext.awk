# csvtext.awk - rewrites the quoted cells of a poolsim CSV so that gnuplot reads their whole text.
#
# gnuplot 5.4 splits `"a, b"` into the right columns but strcol() stops at the comma (and at an
# inner ""), so a variant named "pgbouncer, tx" would be read as "pgbouncer".  Out of this filter,
# a quoted cell loses its quotes, its commas become U+201A (a low comma that looks the same in a
# legend) and its doubled quotes become U+201D.  Rows and columns stay where they were.
{
    out = ""
    inq = 0
    n = length($0)
    for (i = 1; i <= n; i++) {
        ch = substr($0, i, 1)
        if (inq && ch == "\"" && substr($0, i + 1, 1) == "\"") {
            out = out "\342\200\235"
            i++
        } else if (ch == "\"") {
            inq = !inq
        } else if (inq && ch == ",") {
            out = out "\342\200\232"
        } else {
            out = out ch
        }
    }
    print out
}

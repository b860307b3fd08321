# tests/real/col.awk - the value of column k in the first data row: awk -F, -f col.awk -v k=NAME F.csv
NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i }
NR == 2 { print (c ? $c : "") }

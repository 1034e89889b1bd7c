# test/bench/rerun_lib.sh: the rerun measurement of test/bench/rerun.sh,
# sourced by it and by test/bench/issue.sh (which times the same cases on
# its history data).  Needs pq (psql -At) and RERUN_AS_OF set by the caller.

# timed TAG SQL...: runs each SQL in one session, \timing on, each
# statement preceded by \echo TAG; prints the median (ms) of the times
# after the first (untimed warm-up) for each TAG, as TAG=MS lines
timed() {
	pq -f - | awk '
		/^@/ { tag = substr($0, 2); next }
		/^Time:/ { if (tag != "") { n[tag]++; if (n[tag] > 1) v[tag, n[tag] - 1] = $2 } tag = ""; next }
		END {
			for (t in n) {
				m = n[t] - 1; delete a
				for (i = 1; i <= m; i++) a[i] = v[t, i]
				# insertion sort, then the median
				for (i = 2; i <= m; i++) { x = a[i]; j = i - 1; while (j > 0 && a[j] + 0 > x + 0) { a[j + 1] = a[j]; j-- } a[j + 1] = x }
				printf "%s=%.1f\n", t, (m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2)
			}
		}'
}
late_document() {		# SQL that writes one late October document for buyer number $1
	printf "INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, b.brand_id, 'delivery_invoice', '2026-10-15', 1000, 0.10, 'LATE-%s'
	FROM billing.buyer b WHERE b.code = 'B' || lpad('%s', 7, '0');\n" "$1" "$1"
}
# rerun_cases TAGSUFFIX FIRST: five+1 rounds of one late document each
# (buyers FIRST, FIRST+1, ...): preview_one, rerun_one; and six reruns
# that find nothing
rerun_cases() {
	{
		echo '\timing on'
		for i in 0 1 2 3 4 5; do
			late_document $(($2 + i))
			echo "\\echo @preview_one$1"
			echo "SELECT count(*) FROM billing.preview_run('M_EOM', as_of => '$RERUN_AS_OF');"
			echo "\\echo @rerun_one$1"
			echo "SELECT billing.rerun_invoice_run('M_EOM', as_of => '$RERUN_AS_OF') IS NOT NULL;"
		done
		for i in 0 1 2 3 4 5; do
			echo "\\echo @rerun_none$1"
			echo "SELECT billing.rerun_invoice_run('M_EOM', as_of => '$RERUN_AS_OF') IS NULL;"
		done
	} | timed
}

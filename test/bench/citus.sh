#!/usr/bin/env bash
# test/bench/citus.sh: the issue run on Citus against one node (issue 16,
# item 6).  One coordinator and two workers on this machine
# (test/citus/nodes.sh; Citus built as test/citus/README.md says, else it
# prints "citus bench: skipped"), BILLING_CITUS_SHARDS shards (default 8).
# Two databases get the same data (test/bench/issue.sql: brand BENCH,
# BILLING_BENCH_BUYERS buyers, default 100,000, ten documents each in
# October 2026): in "placed" billing's tables are then placed on Citus (as
# distribute() will place them, test/citus/nodes.sh place_for_real), in
# "single" billing stays on the coordinator alone.  Then, on each,
# billing.issue_drafts() for October, timed, and the two runs' invoices
# compared (the same, buyer by buyer); and the EXPLAIN of the run's three
# inserts on the placed tables: each pushed down shard by shard, by
# repartition on the workers, or pulled to the coordinator.
#
#   sudo bash test/bench/citus.sh                              # 1,000,000 documents
#   sudo BILLING_BENCH_BUYERS=10000 bash test/bench/citus.sh   # a quick try
#   BILLING_SKIP_BUILD=1: use the installed build; BILLING_CITUS_KEEP=1:
#   leave the nodes up; BILLING_CITUS_DIR, BILLING_CITUS_PORT: where
#   (default /tmp/billing-citus-bench, 56431)
#
# All three nodes share this machine's cores, so Citus cannot be faster
# here; the figure to watch is the ratio.  Ends with exactly one line
#   ratio citus/single=X single_s=S citus_s=C verdict=invoices:...,tax_lines:...,links:...
set -euo pipefail
export BILLING_CITUS_DIR=${BILLING_CITUS_DIR:-/tmp/billing-citus-bench}
export BILLING_CITUS_PORT=${BILLING_CITUS_PORT:-56431}
export BILLING_CITUS_SHARDS=${BILLING_CITUS_SHARDS:-8}
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../citus/nodes.sh"
cd "$BILLING_ROOT"

BUYERS=${BILLING_BENCH_BUYERS:-100000}
AS_OF='2026-11-01 00:06+09'

if [ ! -f "$("$PG_BIN/pg_config" --sharedir)/extension/citus.control" ]; then
	echo "citus bench: skipped (Citus is not installed for $PG_BIN; test/citus/README.md builds it)"
	exit 0
fi
if [ -z "${BILLING_SKIP_BUILD:-}" ]; then
	install_packages
	build_and_install
fi
[ -n "${BILLING_CITUS_KEEP:-}" ] || trap stop_all EXIT
start_nodes

echo "== $BUYERS buyers, $((BUYERS * 10)) documents, $SHARDS shards"
for db in single placed; do
	make_db $db
	psql_on "$PORT" $db -v buyers="$BUYERS" -f test/bench/issue.sql >/dev/null
	psql_on "$PORT" $db -c "SELECT bench.load_month('2026-10-01', $((BUYERS * 10)))" -c "VACUUM ANALYZE" >/dev/null
done
place_for_real placed > "$BASE-place.log" 2>&1 || { grep -v '^NOTICE\|^DETAIL\|^HINT' "$BASE-place.log" | tail -20; exit 1; }
psql_on "$PORT" placed -c "VACUUM ANALYZE" >/dev/null
echo "  placed: $(psql_on "$PORT" placed -Atc "SELECT count(*) FROM pg_dist_partition p
	JOIN pg_class c ON c.oid = p.logicalrelid WHERE c.relnamespace = 'billing'::regnamespace AND p.partmethod = 'h'") distributed tables"

# the run's three inserts (billing_internal.make_drafts) on the placed
# tables, with their arguments as the run passes them, for a run id that
# has no invoices: how Citus runs each (pushed down shard by shard, by
# repartition on the workers, or pulled to the coordinator)
ids=$(psql_on "$PORT" placed -Atc "SELECT br.id || ', ' || s.id FROM billing.brand br
	JOIN billing.schedule s ON s.brand_id = br.id WHERE br.code = 'BENCH'")
args="$ids, '2026-10-01', '2026-11-01', '2026-11-01 00:05+09'"
method() {
	local plan
	plan=$(psql_on "$PORT" placed -Atc "EXPLAIN (COSTS OFF) $1" 2>&1 || true)
	if grep -q 'INSERT/SELECT method: pull to coordinator' <<<"$plan"; then echo pulled-to-coordinator
	elif grep -q 'INSERT/SELECT method: repartition' <<<"$plan"; then echo repartition
	elif grep -q 'Custom Scan (Citus Adaptive)' <<<"$plan" && ! grep -q 'Custom Scan (Citus INSERT' <<<"$plan"; then
		echo pushed-down
	else echo not-plannable; echo "$plan" >&2; fi
}
invoices=$(method "INSERT INTO billing.invoice (buyer_id, brand_id, schedule_id, run_id, status, period, cutoff_date,
	invoice_date, due_rule, due_date, bank_account_id, currency, previous_billed, deposit, carried_over, purchases,
	tax, total, document_count, late_since, draft_key)
	SELECT r.buyer_id, ${ids%%,*}, ${ids##*, }, 0, 'draft', '[2026-10-01,2026-11-01)', '2026-10-31', '2026-10-31',
	       r.due_rule, r.due_date, r.bank_account_id, 'JPY', r.previous_billed, r.deposit, r.carried_over,
	       r.purchases, r.tax, r.total, r.documents, r.late_since, r.group_key
	FROM billing_internal.run_drafts($args, '2026-10-31', '2026-10-31', 0, NULL, NULL) r")
tax_lines=$(method "INSERT INTO billing.invoice_tax_line (buyer_id, invoice_id, tax_rate, taxable_amount, tax, brand_id)
	SELECT t.buyer_id, i.id, t.tax_rate, t.net, t.tax, ${ids%%,*}
	FROM billing_internal.run_tax_rows($args, 0, NULL, NULL) t
	JOIN billing.invoice i ON i.buyer_id = t.buyer_id AND i.run_id = 0 AND i.draft_key = t.group_key
	WHERE t.tax_rate IS NOT NULL")
links=$(method "INSERT INTO billing.document_link (buyer_id, document_id, invoice_id, brand_id)
	SELECT e.buyer_id, e.document_id, i.id, ${ids%%,*}
	FROM billing_internal.run_documents($args, 0, NULL, NULL) e
	JOIN billing.invoice i ON i.buyer_id = e.buyer_id AND i.run_id = 0 AND i.draft_key = e.group_key")
verdict="invoices:$invoices,tax_lines:$tax_lines,links:$links"
echo "  EXPLAIN of the run's inserts on the placed tables: invoices $invoices, tax lines $tax_lines, links $links"

# run_on DB: issue_drafts as of October's issue moment; prints the seconds
run_on() {
	psql_on "$PORT" "$1" -At -c "SET client_min_messages = warning" -c "\\timing on" \
		-c "SELECT count(*) FROM billing.issue_drafts('$AS_OF')" |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | awk '{ printf "%.2f", $1 / 1000 }'
}
single_s=$(run_on single)
citus_s=$(run_on placed)
echo "  issue_drafts: one node $single_s s, Citus $citus_s s"

# the same invoices on both (amounts by buyer code)
sum_of() {
	psql_on "$PORT" "$1" -At -c "SELECT count(*) || ' drafts, ' || md5(string_agg(format('%s %s %s %s %s', b.code,
		i.previous_billed, i.purchases, i.tax, i.total), ',' ORDER BY b.code))
		FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id"
}
single_sum=$(sum_of single)
citus_sum=$(sum_of placed)
echo "  one node: $single_sum"
echo "  Citus:    $citus_sum"
if [ "$single_sum" != "$citus_sum" ]; then
	echo "citus bench: the two runs made different invoices" >&2
	exit 1
fi
echo "ratio citus/single=$(awk -v c="$citus_s" -v s="$single_s" 'BEGIN { printf "%.2f", c / s }') single_s=$single_s citus_s=$citus_s verdict=$verdict"

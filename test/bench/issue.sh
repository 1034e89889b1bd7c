#!/usr/bin/env bash
# test/bench/issue.sh: the issue-drafts benchmark.  100,000 buyers on one
# monthly schedule, 1,000,000 documents in October 2026 (deliveries at 10%
# and 8%, returns, credit notes, payments).  In one run it times
#   issue_drafts               billing.issue_drafts for that one due period
#   plain_sql                  the same drafts by hand-written set-based SQL
#                              (test/bench/issue_plain.sql) on a user-style
#                              copy of the documents with an invoice_id column
#   plpgsql_loop               the same drafts by a row-by-row PL/pgSQL loop
#                              (on a tenth of the buyers, scaled up)
#   issue_drafts_with_history  issue_drafts for October again, after five
#                              earlier months (5,000,000 documents) were
#                              issued, linked and confirmed
#   issue_drafts_unanalyzed    issue_drafts for the same period right after
#                              the load, before any ANALYZE (autovacuum off
#                              for the extension's tables): a bulk import
#                              just before the night's run
# and samples the issuing backend's memory.  Each variant starts from fresh
# data after VACUUM ANALYZE (except the unanalyzed one), what it reads and
# writes prewarmed, and a CHECKPOINT.  Data, comparators and helpers:
# test/bench/issue.sql.
#
#   sudo bash test/bench/issue.sh                               # full size
#   sudo BILLING_BENCH_SCALE=0.05 bash test/bench/issue.sh      # a quick try
#   sudo BILLING_SKIP_BUILD=1 bash test/bench/issue.sh          # use the installed build
#   sudo BILLING_BENCH_KEEP=1 bash test/bench/issue.sh          # leave the cluster up
#   BILLING_BENCH_DIR, BILLING_BENCH_PORT: the cluster's directory and port
#   (default /tmp/billing-bench-issue, 54343)
#   BILLING_BENCH_EXTRA_CONF: more postgresql.conf lines, e.g. 'jit = off'
#
# Goals: issue/plain_sql <= 0.6, issue/plpgsql_loop <= 0.4, history <= 1.25,
# unanalyzed <= 1.5, backend private memory (peak RssAnon) < 256 MB.  Ends
# with exactly one line
#   ratio issue/plain_sql=X issue/plpgsql_loop=Y history=Z unanalyzed=U
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$BILLING_ROOT"

SCALE=${BILLING_BENCH_SCALE:-1.0}
BUYERS=$(awk -v s="$SCALE" 'BEGIN { n = int(100000 * s + 0.5); print (n < 100 ? 100 : n) }')
DOCS=$((BUYERS * 10))			# ten documents per buyer and month
LOOP_BUYERS=$((BUYERS / 10))	# the loop bills a tenth of the buyers; scaled up
HISTORY_MONTHS="05 06 07 08 09"	# issued before October in the history case
NHISTORY=$(wc -w <<<"$HISTORY_MONTHS")
AS_OF='2026-11-01 00:06+09'		# just after October's issue moment (11-01 00:05 JST)

install_packages
[ -n "${BILLING_SKIP_BUILD:-}" ] || build_and_install

CLUSTER=${BILLING_BENCH_DIR:-/tmp/billing-bench-issue}
PORT=${BILLING_BENCH_PORT:-54343}
# cluster_start wipes the directory: never under a server that is running there
if [ -f "$CLUSTER/data/postmaster.pid" ] &&
	as_root kill -0 "$(head -1 "$CLUSTER/data/postmaster.pid")" 2>/dev/null; then
	echo "a server is running in $CLUSTER (pid $(head -1 "$CLUSTER/data/postmaster.pid")); stop it first," \
		"or set BILLING_BENCH_DIR and BILLING_BENCH_PORT" >&2
	exit 1
fi
# settings for a 2-core, 24 GiB machine; min_wal_size and wal_init_zero let
# the timed steps reuse WAL segments instead of zero-filling new ones
cluster_start "$CLUSTER" "$PORT" "shared_buffers = 2GB
effective_cache_size = 16GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_wal_size = 8GB
min_wal_size = 4GB
wal_init_zero = off
checkpoint_timeout = 30min
synchronous_commit = off
${BILLING_BENCH_EXTRA_CONF:-}"
WORK=$(mktemp -d /tmp/billing-bench-issue-work.XXXXXX)
CLIENT=""
cleanup() {
	[ -z "$CLIENT" ] || kill "$CLIENT" 2>/dev/null || true
	rm -rf "$WORK"
	if [ -n "${BILLING_BENCH_KEEP:-}" ]; then
		echo "== cluster left running: PGHOST=$CLUSTER PGPORT=$PORT PGUSER=postgres psql"
	else
		cluster_stop "$CLUSTER"
	fi
}
trap cleanup EXIT
export PGHOST=$CLUSTER PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
# the runs' NOTICEs are not needed here (their figures are read from invoice_run)
export PGOPTIONS='-c client_min_messages=warning'
pq() { $PG_BIN/psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

FAILED=0
# check WHAT OK: prints the line, marks the run failed unless OK is t
check() {
	if [ "$2" = t ]; then echo "  ok: $1"; else echo "  CHECK FAILED: $1"; FAILED=1; fi
}

# prepare PREWARM_SQL: the state every timed variant starts from: vacuumed
# and analyzed, what it reads and writes in shared buffers (PREWARM_SQL),
# checkpointed
prepare() {
	pq -c "VACUUM ANALYZE" -c "$1" -c "CHECKPOINT" >/dev/null
}

# measure SQL [psql options]: runs SQL in one fresh session with \timing on
# and sets SECS (the sum of its statements' times); a background loop reads
# the backend's /proc/PID/status every 100 ms for the peak RssAnon (private
# memory: sorts, hashes, caches) and VmHWM (peak resident set, which also
# counts every shared buffer page the backend touched)
measure() {
	local sql=$1 pid="" status key val rest
	shift
	rm -f "$WORK/pid" "$WORK/out" "$WORK/err"
	{
		printf 'SELECT pg_backend_pid() \\g %s\n' "$WORK/pid"
		printf '\\timing on\n%s\n\\timing off\n' "$sql"
		# a moment more, for the last sample after the statement ends
		printf 'SELECT pg_sleep(0.3);\n'
	} | $PG_BIN/psql -X -q -At -v ON_ERROR_STOP=1 "$@" >"$WORK/out" 2>"$WORK/err" &
	CLIENT=$!
	PEAK_ANON=0
	HWM=0
	while kill -0 "$CLIENT" 2>/dev/null; do
		if [ -z "$pid" ]; then
			pid=$(cat "$WORK/pid" 2>/dev/null || true)
			[[ $pid =~ ^[0-9]+$ ]] || pid=""
		fi
		if [ -n "$pid" ]; then
			status=$(cat "/proc/$pid/status" 2>/dev/null || true)
			while IFS=$': \t' read -r key val rest; do
				case $key in
				VmHWM) HWM=$val ;;
				RssAnon) if [ "$val" -gt "$PEAK_ANON" ]; then PEAK_ANON=$val; fi ;;
				esac
			done <<<"$status"
		fi
		sleep 0.1
	done
	if ! wait "$CLIENT"; then
		CLIENT=""
		cat "$WORK/err" >&2
		exit 1
	fi
	CLIENT=""
	cat "$WORK/err" >&2
	SECS=$(awk '/^Time:/ { s += $2 } END { printf "%.2f", s / 1000 }' "$WORK/out")
	PEAK_ANON_MB=$((PEAK_ANON / 1024))
	HWM_MB=$((HWM / 1024))
}

PREWARM_ISSUE="SELECT bench.prewarm_run('2026-10-01', '2026-10-31')"

echo "== $BUYERS buyers, $DOCS documents in October 2026 (scale $SCALE)"
T0=$(date +%s)
# the extension's tables (run once, then as every run leaves them)
RUN_TABLES="billing.invoice, billing.invoice_tax_line, billing.document_link, billing.run_log,
	billing.notification, billing.invoice_run"
# autovacuum (and its ANALYZE) off for the extension's tables until the
# unanalyzed run is done
autovacuum() {
	pq >/dev/null <<SQL
SELECT format('ALTER TABLE %s SET (autovacuum_enabled = $1)', c.oid::regclass)
FROM pg_class c WHERE c.relnamespace = 'billing'::regnamespace AND c.relkind = 'r' \\gexec
SQL
}
pq -c "CREATE EXTENSION billing"
autovacuum off
pq -v buyers="$BUYERS" -f test/bench/issue.sql
pq -c "SELECT bench.load_month('2026-10-01', $DOCS)" >/dev/null
pq -c "SELECT bench.copy_documents('2026-10-01', '2026-10-31')" >/dev/null

# ---- issue_drafts on tables never analyzed: buyers and documents just
# loaded, no statistics (pg_class.reltuples still -1); prewarmed and
# checkpointed as the others, but neither vacuumed nor analyzed
check "buyer and document never analyzed" "$(pq -c "SELECT bool_and(c.reltuples < 0
	AND NOT EXISTS (SELECT 1 FROM pg_statistic st WHERE st.starelid = c.oid))
	FROM pg_class c WHERE c.oid IN ('billing.buyer'::regclass, 'billing.document'::regclass)")"
pq -c "$PREWARM_ISSUE" -c "CHECKPOINT" >/dev/null
measure "SELECT count(*) FROM billing.issue_drafts('$AS_OF');"
UNANALYZED=$SECS
UNANALYZED_MEM=$PEAK_ANON_MB
printf '%-27s %8d docs %7.2f s   (never analyzed; backend peak RssAnon %d MB)\n' issue_drafts_unanalyzed \
	"$DOCS" "$UNANALYZED" "$PEAK_ANON_MB"
check "unanalyzed: one run, $BUYERS drafts, $DOCS links" "$(pq -c "SELECT count(*) = 1 AND sum(invoice_count) = $BUYERS
	AND sum(document_count) = $DOCS AND (SELECT count(*) FROM billing.document_link) = $DOCS
	AND bool_and(status = 'completed') FROM billing.invoice_run")"
pq -c "CREATE TABLE bench.unanalyzed_invoice AS SELECT buyer_id, previous_billed, deposit, purchases, tax, total,
	document_count FROM billing.invoice" -c "SET billing.maintenance = on" -c "TRUNCATE $RUN_TABLES" >/dev/null
autovacuum on

# ---- issue_drafts
prepare "$PREWARM_ISSUE"
measure "SELECT count(*) FROM billing.issue_drafts('$AS_OF');"
ISSUE=$SECS
ISSUE_MEM=$PEAK_ANON_MB
printf '%-27s %8d docs %7.2f s\n' issue_drafts "$DOCS" "$ISSUE"
printf '%-27s %8d MB private (peak RssAnon), VmHWM %d MB (includes shared buffers touched)\n' \
	'  backend memory' "$PEAK_ANON_MB" "$HWM_MB"
echo "  $(pq -c "SELECT format('%s run(s): %s drafts, %s links, %s documents, total %s; the run itself %s s',
	count(*), sum(invoice_count), (SELECT count(*) FROM billing.document_link), sum(document_count),
	sum(billed_total), round(extract(epoch FROM sum(finished_at - started_at))::numeric, 2))
	FROM billing.invoice_run")"
check "one run, $BUYERS drafts, $DOCS links" "$(pq -c "SELECT count(*) = 1 AND sum(invoice_count) = $BUYERS
	AND sum(document_count) = $DOCS AND (SELECT count(*) FROM billing.document_link) = $DOCS
	AND bool_and(status = 'completed') FROM billing.invoice_run")"
check "unanalyzed run made the same invoices" "$(pq -c "SELECT NOT EXISTS (
	(SELECT buyer_id, previous_billed, deposit, purchases, tax, total, document_count FROM billing.invoice
	 EXCEPT ALL SELECT * FROM bench.unanalyzed_invoice)
	UNION ALL
	(SELECT * FROM bench.unanalyzed_invoice
	 EXCEPT ALL SELECT buyer_id, previous_billed, deposit, purchases, tax, total, document_count FROM billing.invoice))")"

# ---- plain SQL
prepare "SELECT bench.prewarm('bench.plain_document', 'bench.plain_invoice', 'bench.plain_tax_line', 'billing.buyer', 'billing.schedule')"
measure "\\i test/bench/issue_plain.sql" -v schedule=M_EOM -v first_day=2026-10-01 -v last_day=2026-10-31
PLAIN=$SECS
printf '%-27s %8d docs %7.2f s   (backend peak RssAnon %d MB)\n' plain_sql "$DOCS" "$PLAIN" "$PEAK_ANON_MB"
echo "  $(pq -c "SELECT format('%s invoices, %s documents marked, total %s', count(*),
	(SELECT count(*) FROM bench.plain_document WHERE invoice_id IS NOT NULL), sum(total))
	FROM bench.plain_invoice")"
check "plain SQL: same amounts as issue_drafts, buyer by buyer and rate by rate" "$(pq -c "
	SELECT (SELECT sum(total) FROM bench.plain_invoice) = (SELECT sum(total) FROM billing.invoice)
	   AND NOT EXISTS (
	       (SELECT buyer_id, previous_billed, deposit, purchases, tax, total, document_count FROM billing.invoice
	        EXCEPT ALL
	        SELECT buyer_id, previous_billed, deposit, purchases, tax, total, document_count FROM bench.plain_invoice)
	       UNION ALL
	       (SELECT buyer_id, previous_billed, deposit, purchases, tax, total, document_count FROM bench.plain_invoice
	        EXCEPT ALL
	        SELECT buyer_id, previous_billed, deposit, purchases, tax, total, document_count FROM billing.invoice))
	   AND NOT EXISTS (
	       (SELECT buyer_id, tax_rate, taxable_amount, tax FROM billing.invoice_tax_line
	        EXCEPT ALL
	        SELECT i.buyer_id, t.tax_rate, t.taxable_amount, t.tax
	        FROM bench.plain_tax_line t JOIN bench.plain_invoice i ON i.id = t.invoice_id)
	       UNION ALL
	       (SELECT i.buyer_id, t.tax_rate, t.taxable_amount, t.tax
	        FROM bench.plain_tax_line t JOIN bench.plain_invoice i ON i.id = t.invoice_id
	        EXCEPT ALL
	        SELECT buyer_id, tax_rate, taxable_amount, tax FROM billing.invoice_tax_line))
	   AND (SELECT count(*) FROM bench.plain_document WHERE invoice_id IS NOT NULL) = $DOCS")"

# ---- PL/pgSQL loop, on a tenth of the buyers
prepare "SELECT bench.prewarm('bench.loop_document', 'bench.loop_invoice', 'bench.loop_tax_line', 'billing.buyer', 'billing.schedule')"
measure "SELECT bench.loop_issue('M_EOM', '2026-10-01', '2026-10-31', $LOOP_BUYERS);"
LOOP_SAMPLE=$SECS
LOOP_DOCS=$(pq -c "SELECT count(*) FROM bench.loop_document WHERE invoice_id IS NOT NULL")
LOOP=$(awk -v s="$SECS" -v d="$DOCS" -v n="$LOOP_DOCS" 'BEGIN { printf "%.2f", s * d / n }')
printf '%-27s %8d docs %7.2f s   (ran on %d buyers / %d documents in %.2f s, scaled linearly x%.1f)\n' \
	plpgsql_loop "$DOCS" "$LOOP" "$LOOP_BUYERS" "$LOOP_DOCS" "$LOOP_SAMPLE" \
	"$(awk -v d="$DOCS" -v n="$LOOP_DOCS" 'BEGIN { print d / n }')"
check "loop: same invoices as issue_drafts for its $LOOP_BUYERS buyers" "$(pq -c "
	SELECT count(*) = $LOOP_BUYERS AND NOT EXISTS (
	       (SELECT buyer_id, previous_billed, deposit, purchases, tax, total, document_count FROM bench.loop_invoice
	        EXCEPT ALL
	        SELECT buyer_id, previous_billed, deposit, purchases, tax, total, document_count FROM billing.invoice
	        WHERE buyer_id IN (SELECT buyer_id FROM bench.loop_invoice))
	       UNION ALL
	       (SELECT buyer_id, previous_billed, deposit, purchases, tax, total, document_count FROM billing.invoice
	        WHERE buyer_id IN (SELECT buyer_id FROM bench.loop_invoice)
	        EXCEPT ALL
	        SELECT buyer_id, previous_billed, deposit, purchases, tax, total, document_count FROM bench.loop_invoice))
	FROM bench.loop_invoice")"

# ---- history: five earlier months written, issued and confirmed month by
# month (so, as in real life, their documents have smaller ids than
# October's), then October's same documents again
echo "== history: $NHISTORY earlier months of $DOCS documents each, issued and confirmed"
# records are reset by hand only under the maintenance switch (README, Security)
pq -c "SET billing.maintenance = on" -c "TRUNCATE billing.invoice, billing.invoice_tax_line, billing.document_link, billing.run_log,
	billing.notification, billing.invoice_run, billing.document, bench.plain_document, bench.plain_invoice,
	bench.plain_tax_line, bench.loop_document, bench.loop_invoice, bench.loop_tax_line"
# applied after April's issue moment (05-01 00:05 JST), before May's, and
# analyzed at once: with the statistics still saying every buyer was applied
# in October, the run statement's estimates collapse to a row or two and it
# nests loops over CTE scans (two minutes for 10,000 buyers)
pq -c "UPDATE billing.buyer SET schedule_applied_at = '2026-05-01 09:00+09'" -c "VACUUM ANALYZE billing.buyer"
H0=$(date +%s)
for m in $HISTORY_MONTHS; do
	next=$(printf '%02d' $((10#$m + 1)))
	# statistics and BRIN summaries as autovacuum keeps them between monthly runs
	pq -c "SELECT bench.load_month('2026-$m-01', $DOCS)" -c "VACUUM ANALYZE" >/dev/null
	pq -c "SELECT count(*) FROM billing.issue_drafts('2026-$next-01 00:06+09')" >/dev/null
	pq -c "SELECT count(*) FROM billing.confirm_invoices(VARIADIC ARRAY(
		SELECT i.id FROM billing.invoice i WHERE i.status = 'draft' ORDER BY i.id))" >/dev/null
done
pq -c "SELECT bench.load_month('2026-10-01', $DOCS)" >/dev/null
echo "  $(pq -c "SELECT format('%s documents, %s links, %s invoices (%s confirmed); document %s, document_link %s; built in %s s',
	(SELECT count(*) FROM billing.document), (SELECT count(*) FROM billing.document_link), count(*),
	count(*) FILTER (WHERE status = 'confirmed'),
	pg_size_pretty(pg_total_relation_size('billing.document')),
	pg_size_pretty(pg_total_relation_size('billing.document_link')), $(date +%s) - $H0)
	FROM billing.invoice")"
prepare "$PREWARM_ISSUE"
measure "SELECT count(*) FROM billing.issue_drafts('$AS_OF');"
HISTORY=$SECS
HISTORY_MEM=$PEAK_ANON_MB
printf '%-27s %8d docs %7.2f s   (%d earlier documents invoiced)\n' issue_drafts_with_history \
	"$DOCS" "$HISTORY" "$((DOCS * NHISTORY))"
printf '%-27s %8d MB private (peak RssAnon), VmHWM %d MB (includes shared buffers touched)\n' \
	'  backend memory' "$PEAK_ANON_MB" "$HWM_MB"
echo "  $(pq -c "SELECT format('October run: %s drafts, %s documents; the run itself %s s',
	invoice_count, document_count, round(extract(epoch FROM finished_at - started_at)::numeric, 2))
	FROM billing.invoice_run WHERE cutoff_date = '2026-10-31'")"
check "one more run, $BUYERS drafts, $DOCS more links" "$(pq -c "SELECT count(*) = 1 AND sum(invoice_count) = $BUYERS
	AND sum(document_count) = $DOCS AND bool_and(status = 'completed')
	AND (SELECT count(*) FROM billing.document_link) = $DOCS * $((NHISTORY + 1))
	FROM billing.invoice_run WHERE cutoff_date = '2026-10-31'")"

PEAK_MEM=$((ISSUE_MEM > HISTORY_MEM ? ISSUE_MEM : HISTORY_MEM))
PEAK_MEM=$((PEAK_MEM > UNANALYZED_MEM ? PEAK_MEM : UNANALYZED_MEM))
printf '%-27s %8d MB   (peak RssAnon of the issuing backend, the figure compared with 256 MB)\n' \
	'peak backend memory' "$PEAK_MEM"
echo "== finished in $(($(date +%s) - T0)) s; goals: issue/plain_sql <= 0.60, issue/plpgsql_loop <= 0.40, history <= 1.25, unanalyzed <= 1.50, memory < 256 MB"
[ "$FAILED" = 0 ] || echo "== SOME CHECKS FAILED (see above)"
awk -v i="$ISSUE" -v p="$PLAIN" -v l="$LOOP" -v h="$HISTORY" -v u="$UNANALYZED" \
	'BEGIN { printf "ratio issue/plain_sql=%.2f issue/plpgsql_loop=%.2f history=%.2f unanalyzed=%.2f\n", i / p, i / l, h / i, u / i }'
exit "$FAILED"

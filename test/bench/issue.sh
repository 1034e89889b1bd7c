#!/usr/bin/env bash
# test/bench/issue.sh: billing.issue_drafts against the same drafts made by
# hand-written set-based SQL and by a row-by-row PL/pgSQL loop, then again
# with 5 months of invoiced history, on a throwaway cluster.
#
#   sudo bash test/bench/issue.sh          # 100,000 buyers, 1,000,000 documents
#   BILLING_BENCH_SCALE=0.05 sudo -E bash test/bench/issue.sh   # a quick try
#   BILLING_BENCH_KEEP=1 ...   # leave the cluster running (socket /tmp/billing-bench-issue)
#
# Ends with: ratio issue/plain_sql=X issue/plpgsql_loop=Y history=Z
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$BILLING_ROOT"

SCALE=${BILLING_BENCH_SCALE:-1.0}
BUYERS=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 100000 * s }')
DOCS=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 1000000 * s }')
LOOP_BUYERS=$((BUYERS / 10))		# the loop runs on a tenth and is scaled up

install_packages
[ -n "${BILLING_SKIP_BUILD:-}" ] || build_and_install

CLUSTER=${BILLING_BENCH_DIR:-/tmp/billing-bench-issue}
PORT=54332
# min_wal_size and wal_init_zero: the timed steps reuse WAL files instead of
# creating them on the fresh cluster
cluster_start "$CLUSTER" "$PORT" "shared_buffers = 2GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_wal_size = 16GB
min_wal_size = 8GB
wal_init_zero = off
checkpoint_timeout = 60min
synchronous_commit = off
max_parallel_workers_per_gather = 0
jit = off"
# BILLING_BENCH_KEEP=1 leaves the cluster running afterwards, to look into plans
[ -n "${BILLING_BENCH_KEEP:-}" ] || trap 'cluster_stop "$CLUSTER"' EXIT
export PGHOST=$CLUSTER PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
psql() { $PG_BIN/psql -qX -v ON_ERROR_STOP=1 "$@"; }

now() { date +%s.%N; }
# timed LABEL SQL: runs SQL after a checkpoint, prints and returns seconds in $SECS
timed() {
	psql -c "CHECKPOINT" >/dev/null
	local t0 t1
	t0=$(now)
	psql -c "$2" >/dev/null
	t1=$(now)
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

# timed_issue AS_OF: issue_drafts timed, sampling the backend's memory
timed_issue() {
	psql -c "CHECKPOINT" >/dev/null
	local t0 t1 pid="" anon peak_anon=0 hwm=0 client
	t0=$(now)
	PGAPPNAME=bench_issue $PG_BIN/psql -qX -v ON_ERROR_STOP=1 \
		-c "SELECT count(*) FROM billing.issue_drafts('$1', simulate => true)" >/dev/null &
	client=$!
	while [ -z "$pid" ] && kill -0 "$client" 2>/dev/null; do
		pid=$(psql -tA -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'bench_issue'")
		[ -n "$pid" ] || sleep 0.02
	done
	while kill -0 "$client" 2>/dev/null && [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; do
		anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
		[ "${anon:-0}" -gt "$peak_anon" ] && peak_anon=$anon
		hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo "$hwm")
		sleep 0.1
	done
	wait "$client"
	t1=$(now)
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	PEAK_ANON_MB=$((peak_anon / 1024))
	HWM_MB=$((hwm / 1024))
}

echo "== loading $BUYERS buyers, $DOCS documents in October 2026 (scale $SCALE)"
psql -c "CREATE EXTENSION billing"
psql -v buyers="$BUYERS" -v docs="$DOCS" -f test/bench/issue_setup.sql

timed_issue '2026-11-01 00:06+09'
ISSUE=$SECS
printf 'issue_drafts             %8d docs %8.2f s   peak private memory %d MB (RssAnon), VmHWM %d MB incl. shared buffers\n' \
	"$DOCS" "$ISSUE" "$PEAK_ANON_MB" "$HWM_MB"
psql -tA -c "SELECT 'issue_drafts made ' || count(*) || ' drafts, '
	|| (SELECT count(*) FROM billing.document_link) || ' links, total ' || sum(total)
	|| ' (the run itself: ' || (SELECT round(extract(epoch FROM max(finished_at) - min(started_at))::numeric, 2)
	                            FROM billing.invoice_run) || ' s)' FROM billing.invoice"

timed plain "SELECT bench.plain_issue('2026-10-01', '2026-10-31')"
PLAIN=$SECS
printf 'plain_sql                %8d docs %8.2f s\n' "$DOCS" "$PLAIN"
psql -tA -c "SELECT 'plain SQL made ' || count(*) || ' invoices, '
	|| (SELECT count(*) FROM bench.plain_document WHERE invoice_id IS NOT NULL) || ' documents marked, total '
	|| sum(total) || CASE WHEN sum(total) = (SELECT sum(total) FROM billing.invoice) THEN ' (same as issue_drafts)'
	                      ELSE ' (DIFFERS from issue_drafts)' END FROM bench.plain_invoice"

timed loop "SELECT bench.loop_issue('2026-10-01', '2026-10-31', $LOOP_BUYERS)"
LOOP=$(awk -v s="$SECS" 'BEGIN { printf "%.2f", s * 10 }')
printf 'plpgsql_loop             %8d docs %8.2f s   (%d buyers in %.2f s, scaled x10)\n' "$DOCS" "$LOOP" "$LOOP_BUYERS" "$SECS"
psql -tA -c "SELECT 'loop made ' || count(*) || ' invoices, total ' || sum(l.total)
	|| CASE WHEN sum(l.total) = (SELECT sum(i.total) FROM billing.invoice i WHERE i.buyer_id IN (SELECT buyer_id FROM bench.loop_invoice))
	        THEN ' (same as issue_drafts for those buyers)' ELSE ' (DIFFERS from issue_drafts)' END
	FROM bench.loop_invoice l"

echo "== history: 5 earlier months ($((DOCS * 5)) documents) invoiced, then October again"
# as in real life, earlier months' documents were written (and got their
# ids) before October's
psql -c "TRUNCATE billing.invoice, billing.invoice_tax_line, billing.document_link, billing.invoice_run,
	billing.run_log, billing.notification, billing.document"
psql -c "UPDATE billing.buyer SET schedule_applied_at = '2026-04-15 09:00+09'"
for m in 05 06 07 08 09; do
	psql -c "INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
		SELECT * FROM bench.month_documents('2026-$m-01', $DOCS, $BUYERS, 'M$m')"
done
psql -c "VACUUM ANALYZE"
timed history_runs "SELECT count(*) FROM billing.issue_drafts('2026-10-01 00:06+09', simulate => true)"
printf 'issue_drafts (5 months)  %8d docs %8.2f s   (building the history)\n' "$((DOCS * 5))" "$SECS"
psql -c "INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT * FROM bench.month_documents('2026-10-01', $DOCS, $BUYERS, 'OCT')"
psql -c "VACUUM ANALYZE"
psql -tA -c "SELECT 'history: ' || count(*) || ' links, ' || (SELECT count(*) FROM billing.invoice) || ' invoices, '
	|| (SELECT count(*) FROM billing.document) || ' documents'
	FROM billing.document_link"
timed_issue '2026-11-01 00:06+09'
HISTORY=$SECS
printf 'issue_drafts_history     %8d docs %8.2f s   peak private memory %d MB (RssAnon)\n' "$DOCS" "$HISTORY" "$PEAK_ANON_MB"
psql -tA -c "SELECT 'October again: ' || count(*) || ' drafts, total ' || sum(total) FROM billing.invoice
	WHERE cutoff_date = '2026-10-31'"

awk -v i="$ISSUE" -v p="$PLAIN" -v l="$LOOP" -v h="$HISTORY" \
	'BEGIN { printf "ratio issue/plain_sql=%.2f issue/plpgsql_loop=%.2f history=%.2f\n", i / p, i / l, h / i }'

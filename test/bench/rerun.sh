#!/usr/bin/env bash
# test/bench/rerun.sh: what a rerun costs (issue 14 item 1).  The data of
# test/bench/issue.sh's history case: 100,000 buyers on one monthly
# schedule, five earlier months of 1,000,000 documents each issued and
# confirmed month by month, then October's 1,000,000 documents; then
#   full_run        billing.issue_drafts for October (the scheduled run)
#   rerun_none      a rerun of October that finds nothing to bill
#   preview_one     billing.preview_run after one late document of October
#   rerun_one       the rerun that bills that one document
#   ..._confirmed   the same two after October's drafts were all confirmed
#   rerun_one_whole the rerun of one late document with no run snapshot to
#                   start from (what every rerun cost before: the period
#                   read whole); only on a build with billing_internal.run_snapshot
# Times in one session, after one untimed call, median of five.
#
#   sudo bash test/bench/rerun.sh                              # full size
#   sudo BILLING_BENCH_SCALE=0.05 bash test/bench/rerun.sh     # a quick try
#   BILLING_SKIP_BUILD=1: use the installed build;
#   BILLING_BENCH_DIR, BILLING_BENCH_PORT: the cluster (default
#   /tmp/billing-bench-rerun, 54344); BILLING_BENCH_KEEP=1 leaves it up.
#
# Goals: rerun_one_ms <= 50, rerun_none_ms <= 10 at full size.  Ends with
# exactly one line
#   rerun full_run_s=F rerun_one_ms=X rerun_none_ms=Y preview_one_ms=P
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$BILLING_ROOT"

SCALE=${BILLING_BENCH_SCALE:-1.0}
BUYERS=$(awk -v s="$SCALE" 'BEGIN { n = int(100000 * s + 0.5); print (n < 100 ? 100 : n) }')
DOCS=$((BUYERS * 10))
HISTORY_MONTHS="05 06 07 08 09"
AS_OF='2026-11-01 00:06+09'
RERUN_AS_OF='2026-11-02 09:00+09'

[ -n "${BILLING_SKIP_BUILD:-}" ] || build_and_install

CLUSTER=${BILLING_BENCH_DIR:-/tmp/billing-bench-rerun}
PORT=${BILLING_BENCH_PORT:-54344}
if [ -f "$CLUSTER/data/postmaster.pid" ] &&
	as_root kill -0 "$(head -1 "$CLUSTER/data/postmaster.pid")" 2>/dev/null; then
	echo "a server is running in $CLUSTER; stop it first, or set BILLING_BENCH_DIR and BILLING_BENCH_PORT" >&2
	exit 1
fi
cluster_start "$CLUSTER" "$PORT" "shared_buffers = ${BILLING_BENCH_SHARED_BUFFERS:-2GB}
work_mem = 64MB
maintenance_work_mem = 1GB
max_wal_size = 8GB
min_wal_size = 4GB
wal_init_zero = off
checkpoint_timeout = 30min
synchronous_commit = off"
cleanup() {
	if [ -n "${BILLING_BENCH_KEEP:-}" ]; then
		echo "== cluster left running: PGHOST=$CLUSTER PGPORT=$PORT PGUSER=postgres psql"
	else
		cluster_stop "$CLUSTER"
	fi
}
trap cleanup EXIT
export PGHOST=$CLUSTER PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
export PGOPTIONS='-c client_min_messages=warning'
pq() { $PG_BIN/psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

FAILED=0
check() {
	if [ "$2" = t ]; then echo "  ok: $1"; else echo "  CHECK FAILED: $1"; FAILED=1; fi
}

# timed, late_document, rerun_cases: test/bench/rerun_lib.sh (issue.sh uses them too)
source "$BILLING_ROOT/test/bench/rerun_lib.sh"

echo "== $BUYERS buyers, $DOCS documents a month, $(wc -w <<<"$HISTORY_MONTHS") earlier months (scale $SCALE)"
T0=$(date +%s)
pq -c "CREATE EXTENSION billing"
pq -v buyers="$BUYERS" -f test/bench/issue.sql
pq -c "UPDATE billing.buyer SET schedule_applied_at = '2026-05-01 09:00+09'" -c "VACUUM ANALYZE billing.buyer"
for m in $HISTORY_MONTHS; do
	next=$(printf '%02d' $((10#$m + 1)))
	pq -c "SELECT bench.load_month('2026-$m-01', $DOCS)" -c "VACUUM ANALYZE" >/dev/null
	pq -c "SELECT count(*) FROM billing.issue_drafts('2026-$next-01 00:06+09')" >/dev/null
	pq -c "SELECT count(*) FROM billing.confirm_invoices(VARIADIC ARRAY(
		SELECT i.id FROM billing.invoice i WHERE i.status = 'draft' ORDER BY i.id))" >/dev/null
done
pq -c "SELECT bench.load_month('2026-10-01', $DOCS)" -c "VACUUM ANALYZE" \
	-c "SELECT bench.prewarm_run('2026-10-01', '2026-10-31')" -c "CHECKPOINT" >/dev/null
echo "  built in $(($(date +%s) - T0)) s"

FULL=$(printf '\\timing on\nSELECT count(*) FROM billing.issue_drafts(%s);\n' "'$AS_OF'" |
	pq -f - | awk '/^Time:/ { printf "%.2f", $2 / 1000 }')
printf '%-28s %8d docs %8.2f s\n' full_run "$DOCS" "$FULL"
check "October: one run, $BUYERS drafts, $DOCS documents" "$(pq -c "SELECT count(*) = 1 AND sum(invoice_count) = $BUYERS
	AND sum(document_count) = $DOCS AND bool_and(status = 'completed')
	FROM billing.invoice_run WHERE cutoff_date = '2026-10-31'")"

declare -A R
while IFS== read -r k v; do R[$k]=$v; done < <(rerun_cases "" 1)
for k in preview_one rerun_one rerun_none; do printf '%-28s %10.1f ms\n' "$k" "${R[$k]}"; done
check "six reruns made one draft of one document each" "$(pq -c "SELECT count(*) = 6 AND sum(invoice_count) = 6
	AND sum(document_count) = 6 FROM billing.invoice_run WHERE kind = 'rerun'")"

# October's drafts confirmed (balances change amount): reruns stay small
pq -c "SELECT count(*) FROM billing.confirm_invoices(VARIADIC ARRAY(
	SELECT i.id FROM billing.invoice i WHERE i.status = 'draft' ORDER BY i.id))" >/dev/null
while IFS== read -r k v; do R[$k]=$v; done < <(rerun_cases "_confirmed" 11)
for k in preview_one_confirmed rerun_one_confirmed rerun_none_confirmed; do printf '%-28s %10.1f ms\n' "$k" "${R[$k]}"; done
check "six more reruns, one document each" "$(pq -c "SELECT count(*) = 12 AND sum(document_count) = 12
	FROM billing.invoice_run WHERE kind = 'rerun'")"

WHOLE=""
if [ "$(pq -c "SELECT to_regclass('billing_internal.run_snapshot') IS NOT NULL")" = t ]; then
	# no snapshot to start from: each rerun reads the period whole
	WHOLE=$({
		echo '\timing on'
		for i in 0 1 2 3 4 5; do
			late_document $((21 + i))
			echo "DELETE FROM billing_internal.run_snapshot;"
			echo "\\echo @rerun_one_whole"
			echo "SELECT billing.rerun_invoice_run('M_EOM', as_of => '$RERUN_AS_OF') IS NOT NULL;"
		done
	} | timed | sed 's/.*=//')
	printf '%-28s %10.1f ms   (no run snapshot: the period read whole, as before)\n' rerun_one_whole "$WHOLE"
	check "six more reruns, one document each" "$(pq -c "SELECT count(*) = 18 AND sum(document_count) = 18
		FROM billing.invoice_run WHERE kind = 'rerun'")"
fi
check "every October document linked once" "$(pq -c "SELECT count(*) = $DOCS + (SELECT sum(document_count)
	FROM billing.invoice_run WHERE kind = 'rerun') FROM billing.document d
	JOIN billing.document_link l ON l.buyer_id = d.buyer_id AND l.document_id = d.id
	WHERE d.document_date BETWEEN '2026-10-01' AND '2026-10-31'")"

echo "== finished in $(($(date +%s) - T0)) s; goals: rerun_one_ms <= 50, rerun_none_ms <= 10"
[ "$FAILED" = 0 ] || echo "== SOME CHECKS FAILED (see above)"
echo "rerun full_run_s=$FULL rerun_one_ms=${R[rerun_one]} rerun_none_ms=${R[rerun_none]} preview_one_ms=${R[preview_one]}" \
	"rerun_one_confirmed_ms=${R[rerun_one_confirmed]} rerun_none_confirmed_ms=${R[rerun_none_confirmed]}${WHOLE:+ rerun_one_whole_ms=$WHOLE}"
exit "$FAILED"

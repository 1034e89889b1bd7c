#!/usr/bin/env bash
# test/bench/four_due.sh: issue_drafts with four schedules due at once (two
# brands, two schedules each), issue 12.  Each schedule has BUYERS buyers
# with ten documents each in the due period.  It times, each from the same
# data (a fresh database from one template):
#   healthy        issue_drafts: the four runs complete
#   failed_quiet   one schedule's run fails (a site trigger on its drafts),
#                  raise_on_failure => false: one transaction, as in 0.2
#   failed_loud    the same failure with the default: the first pass in the
#                  caller's transaction is rolled back at the failure and a
#                  background worker makes the four runs again, committed,
#                  then the call raises
#   parallel       issue_drafts with billing.parallel_runs = 4: each
#                  schedule's runs by a background worker of its own (two
#                  at once per brand, billing.max_workers_per_brand), its
#                  drafts checked equal to healthy's (md5, ids apart)
# The failing schedule is the last one planned, so failed_loud pays for
# nearly every run twice: its worst case.  Runs are serial on the default
# path (a night without failure is the caller's one transaction, see README
# "When a run fails"), so 'healthy' is the figure to compare with an older
# build: BILLING_BENCH_BEFORE=1 times only what that build has (healthy and
# failed_quiet, without the raise_on_failure argument).
# BILLING_BENCH_PARALLEL_ONLY=1 times healthy and parallel only.
#
#   sudo bash test/bench/four_due.sh                              # 25,000 buyers per schedule
#   sudo BILLING_BENCH_SCALE=0.2 bash test/bench/four_due.sh      # a quick try
#   sudo BILLING_SKIP_BUILD=1 bash test/bench/four_due.sh         # the installed build
#   BILLING_BENCH_DIR, BILLING_BENCH_PORT: cluster directory and port
#   (default /tmp/billing-bench-four, 54344)
#
# Ends with one line
#   ratio failed_loud/healthy=X failed_loud/failed_quiet=Y speedup_4_schedules=Z
# where Z is healthy's time over parallel's (the load average is printed
# before it: other work on the cores moves it).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$BILLING_ROOT"

SCALE=${BILLING_BENCH_SCALE:-1.0}
BUYERS=$(awk -v s="$SCALE" 'BEGIN { n = int(25000 * s + 0.5); print (n < 10 ? 10 : n) }')
AS_OF='2026-11-01 00:06+09'		# just after October's issue moment
BEFORE=${BILLING_BENCH_BEFORE:-}

install_packages
[ -n "${BILLING_SKIP_BUILD:-}" ] || build_and_install

CLUSTER=${BILLING_BENCH_DIR:-/tmp/billing-bench-four}
PORT=${BILLING_BENCH_PORT:-54344}
cluster_start "$CLUSTER" "$PORT" "shared_buffers = 1GB
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
synchronous_commit = off"
trap 'cluster_stop "$CLUSTER"' EXIT
export PGHOST=$CLUSTER PGPORT=$PORT PGUSER=postgres
export PGOPTIONS='-c client_min_messages=error'
pq() { $PG_BIN/psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

echo "== data: 4 schedules x $BUYERS buyers x 10 documents in October 2026"
pq -d postgres -c "CREATE DATABASE four_template"
pq -d four_template <<SQL
CREATE EXTENSION billing;
INSERT INTO billing.brand (code, name) VALUES ('ACME', 'Acme KK'), ('BETA', 'Beta KK');
INSERT INTO billing.schedule (brand_id, code, name, cycle)
SELECT b.id, b.code || '-' || c.code, c.code, c.cycle::billing.cycle
FROM billing.brand b CROSS JOIN (VALUES ('EOM', 'monthly:eom'), ('E2', 'monthly:eom')) AS c(code, cycle);
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
SELECT s.brand_id, s.code || '-' || g, 'buyer ' || g, s.id, '2026-09-01 10:00+09'
FROM billing.schedule s CROSS JOIN generate_series(1, $BUYERS) AS g;
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', DATE '2026-10-01' + (g * 3) % 31,
       100 + (b.id * 7 + g) % 900, CASE WHEN g % 3 = 0 THEN 0.08 ELSE 0.10 END, 'D-' || b.id || '-' || g
FROM billing.buyer b CROSS JOIN generate_series(1, 10) AS g;
-- September's period is empty and issued first: only October is timed
SELECT count(*) FROM billing.issue_drafts('2026-10-01 00:06+09', simulate => true);
-- a site rule that refuses the drafts of the last schedule when switched on
CREATE TABLE public.refuse (schedule_id bigint);
CREATE FUNCTION public.refuse_drafts() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
	IF NEW.schedule_id = (SELECT schedule_id FROM public.refuse) THEN
		RAISE EXCEPTION 'site rule: schedule % refused', NEW.schedule_id;
	END IF;
	RETURN NEW;
END \$\$;
CREATE TRIGGER refuse_drafts BEFORE INSERT ON billing.invoice
	FOR EACH ROW EXECUTE FUNCTION public.refuse_drafts();
INSERT INTO public.refuse VALUES (NULL);
VACUUM ANALYZE;
SQL

# time NAME REFUSE CALL: a fresh database from the template, the trigger set
# to refuse schedule REFUSE (or nothing), then CALL timed; prints and sets SECS
time_variant() {
	local name=$1 refuse=$2 call=$3 started ended
	pq -d postgres -c "DROP DATABASE IF EXISTS four_run" -c "CREATE DATABASE four_run TEMPLATE four_template"
	pq -d four_run -c "UPDATE public.refuse SET schedule_id = $refuse" -c "CHECKPOINT"
	started=$(date +%s.%N)
	pq -d four_run -c "$call" >/dev/null 2>&1 || true
	ended=$(date +%s.%N)
	SECS=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.2f", b - a }')
	local outcome
	outcome=$(pq -d four_run -c "SELECT string_agg(s.code || ':' || r.status || ':' || coalesce(r.invoice_count, 0), ' ' ORDER BY s.code)
		FROM billing.invoice_run r JOIN billing.schedule s ON s.id = r.schedule_id WHERE r.cutoff_date = '2026-10-31'")
	printf '%-14s %8s s   %s\n' "$name" "$SECS" "$outcome"
	# what the runs made, ids apart: invoices, tax lines, links
	MD5=$(pq -d four_run -c "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
		SELECT format('i %s %s %s %s %s', b.code, i.purchases, i.tax, i.total, i.document_count) AS x
		FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id
		UNION ALL SELECT format('t %s %s %s %s', b.code, t.tax_rate, t.taxable_amount, t.tax)
		FROM billing.invoice_tax_line t JOIN billing.buyer b ON b.id = t.buyer_id
		UNION ALL SELECT format('l %s %s', b.code, l.document_id)
		FROM billing.document_link l JOIN billing.buyer b ON b.id = l.buyer_id) AS t")
}

LAST=$(pq -d four_template -c "SELECT max(id) FROM billing.schedule")
CALL="SELECT count(*) FROM billing.issue_drafts('$AS_OF', simulate => true"
echo "== issue_drafts as of $AS_OF (wall time of the call, from psql)"
time_variant healthy NULL "$CALL)"
HEALTHY=$SECS
HEALTHY_MD5=$MD5
if [ -n "${BILLING_BENCH_PARALLEL_ONLY:-}" ]; then
	time_variant parallel NULL "SET billing.parallel_runs = 4; $CALL)"
	[ "$MD5" = "$HEALTHY_MD5" ] || { echo "parallel: drafts differ from healthy's ($MD5 vs $HEALTHY_MD5)"; exit 1; }
	echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	awk -v h="$HEALTHY" -v p="$SECS" 'BEGIN { printf "ratio speedup_4_schedules=%.2f\n", h / p }'
	exit 0
fi
if [ -n "$BEFORE" ]; then
	time_variant failed_quiet "$LAST" "$CALL)"
	exit 0
fi
time_variant failed_quiet "$LAST" "$CALL, raise_on_failure => false)"
QUIET=$SECS
time_variant failed_loud "$LAST" "$CALL)"
LOUD=$SECS
time_variant parallel NULL "SET billing.parallel_runs = 4; $CALL)"
PARALLEL=$SECS
[ "$MD5" = "$HEALTHY_MD5" ] || { echo "parallel: drafts differ from healthy's ($MD5 vs $HEALTHY_MD5)"; exit 1; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v l="$LOUD" -v h="$HEALTHY" -v q="$QUIET" -v p="$PARALLEL" \
	'BEGIN { printf "ratio failed_loud/healthy=%.2f failed_loud/failed_quiet=%.2f speedup_4_schedules=%.2f\n", l / h, l / q, h / p }'

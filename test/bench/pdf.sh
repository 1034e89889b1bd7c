#!/usr/bin/env bash
# test/bench/pdf.sh: the invoice PDF benchmark (issue 15).  A run of 10,000
# confirmed invoices of 10 lines each (deliveries at 10%, 8% and 0%, a
# return), then
#   run_xml          billing.run_xml over the run, one session
#   run_pdf          billing.run_pdf over the run, one session on one core
#                    (max_parallel_workers_per_gather = 0: no parallel worker)
#   two_sessions     the run's invoices split in two halves by id, each half
#                    rendered by billing.invoice_pdf in its own session, the
#                    two at once (both cores)
#   run_pdf_parallel billing.run_pdf over the run as it runs by default: its
#                    renders in PostgreSQL's parallel workers and the session
#                    (both cores), the rows in id order
# The PDFs and XML are consumed by a count and a byte sum, so the time is
# the database's.  The parallel run's PDFs are checked to be the one-core
# run's bytes (an md5 over all of them, in order).
#
#   sudo bash test/bench/pdf.sh                               # full size
#   sudo BILLING_BENCH_INVOICES=1000 bash test/bench/pdf.sh   # a quick try
#   sudo BILLING_SKIP_BUILD=1 bash test/bench/pdf.sh          # use the installed build
#   sudo BILLING_BENCH_KEEP=1 bash test/bench/pdf.sh          # leave the cluster up
#   BILLING_BENCH_DIR, BILLING_BENCH_PORT: the cluster's directory and port
#   (default /tmp/billing-bench-pdf, 54346)
#
# Goal: run_pdf_parallel >= 500 invoices/s on the 2-core machine.  Ends with
# exactly one line
#   rate run_xml=X/s run_pdf=Y/s two_sessions=Z/s run_pdf_parallel=W/s
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$BILLING_ROOT"

INVOICES=${BILLING_BENCH_INVOICES:-10000}
DIR=${BILLING_BENCH_DIR:-/tmp/billing-bench-pdf}
PORT=${BILLING_BENCH_PORT:-54346}

if [ -z "${BILLING_SKIP_BUILD:-}" ]; then
	install_packages
	build_and_install
fi
cluster_start "$DIR" "$PORT"
[ -n "${BILLING_BENCH_KEEP:-}" ] || trap 'cluster_stop "$DIR"' EXIT
export PGHOST=$DIR PGPORT=$PORT PGUSER=postgres
psql() { $PG_BIN/psql -X -v ON_ERROR_STOP=1 "$@"; }
psql -q -d postgres -c "CREATE DATABASE bench"
psql -q -d bench -c "CREATE EXTENSION billing"

echo "== $INVOICES buyers with 10 documents each, one rerun, all confirmed"
psql -q -d bench -v n="$INVOICES" <<'SQL'
SET timezone = 'Asia/Tokyo';
INSERT INTO billing.brand (code, name, legal_name, registration_number, postal_code, prefecture, city,
                           address_line, peppol_scheme, peppol_id)
VALUES ('PB', 'Bench', 'ベンチ商事株式会社', 'T9999999999999', '1000005', '東京都', '千代田区',
        '丸の内1-1-1', '0188', '9999999999999');
INSERT INTO billing.bank_account (brand_id, code, bank_name, branch_name, account_number, account_holder)
SELECT id, 'PB', 'みずほ銀行', '丸の内支店', '1234567', 'ベンチショウジ(カ' FROM billing.brand WHERE code = 'PB';
INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule)
SELECT id, 'PB-EOM', 'month end', 'monthly:eom', true, 'month+1:eom' FROM billing.brand WHERE code = 'PB';
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at, default_bank_account_id,
                           postal_code, prefecture, city, address_line, peppol_scheme, peppol_id)
SELECT br.id, 'PB' || g, '得意先' || g || '株式会社', s.id, '2026-09-01', ba.id,
       '5410041', '大阪府', '大阪市中央区', '北浜' || g, '0188', lpad(g::text, 13, '0')
FROM billing.brand br JOIN billing.schedule s ON s.brand_id = br.id
JOIN billing.bank_account ba ON ba.brand_id = br.id, generate_series(1, :n) AS g
WHERE br.code = 'PB';
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference, description)
SELECT b.id, b.brand_id, CASE WHEN k = 10 THEN 'return_note' ELSE 'delivery_invoice' END,
       '2026-10-01'::date + (k * 3), 1000 * k + b.id % 997, (ARRAY[0.10, 0.08, 0])[1 + k % 3],
       b.code || '-' || k,
       (ARRAY['コピー用紙 A4', '弁当・飲料', '収入印紙', 'トナーカートリッジ', 'ボールペン (黒)'])[1 + k % 5]
FROM billing.buyer b, generate_series(1, 10) AS k
WHERE b.brand_id = (SELECT id FROM billing.brand WHERE code = 'PB');
ANALYZE billing.buyer, billing.document;
SELECT billing.rerun_invoice_run('PB-EOM', as_of => '2026-11-05 10:00+09', brand => 'PB') AS run \gset
SELECT count(*) AS confirmed FROM billing.confirm_invoices(VARIADIC ARRAY(SELECT id FROM billing.invoice WHERE run_id = :run));
ANALYZE billing.invoice, billing.document_link, billing.invoice_tax_line;
SQL
run=$(psql -At -d bench -c "SELECT max(id) FROM billing.invoice_run")

# seconds NAME SQL...: runs the statements, prints and returns the wall time
now() { date +%s.%N; }
rate() { awk -v n="$INVOICES" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
# the CPU seconds the cluster's exited backends and workers used (the
# postmaster's cutime + cstime): a phase's CPU, whatever else the machine runs
postmaster=$(head -1 "$DIR/data/postmaster.pid")
clk=$(getconf CLK_TCK)
cpu() { awk -v c="$clk" '{ printf "%.2f", ($16 + $17) / c }' "/proc/$postmaster/stat"; }
# cpu_note START: "N.N s of CPU, R invoices per CPU second" since START
cpu_note() {
	sleep 0.2	# the last backend's exit reaped
	awk -v n="$INVOICES" -v a="$1" -v b="$(cpu)" 'BEGIN { printf "%.1f s of CPU, %.0f invoices per CPU second", b - a, n / (b - a) }'
}

# warm: the font is loaded once per backend; the tables are read once
psql -At -d bench -c "SELECT count(*), sum(length(pdf)) FROM billing.run_pdf($run) LIMIT 1" >/dev/null
sleep 0.5	# its backend reaped, its CPU not the next phase's

c0=$(cpu); t0=$(now)
psql -At -d bench -c "SELECT count(*) AS invoices, sum(octet_length(xml::text)) AS xml_bytes FROM billing.run_xml($run)"
t1=$(now)
xml_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "run_xml: $INVOICES invoices in ${xml_s} s = $(rate "$xml_s") invoices/s ($(cpu_note "$c0"))"

c0=$(cpu); t0=$(now)
one=$(PGOPTIONS="-c max_parallel_workers_per_gather=0" psql -At -d bench \
	-c "SELECT count(*) AS invoices, sum(length(pdf)) AS pdf_bytes, md5(string_agg(md5(pdf), ',')) FROM billing.run_pdf($run)")
t1=$(now)
echo "$one"
pdf_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "run_pdf: $INVOICES invoices in ${pdf_s} s = $(rate "$pdf_s") invoices/s (one session, one core; $(cpu_note "$c0"))"

c0=$(cpu); t0=$(now)
for half in 0 1; do
	psql -At -d bench -c "SELECT count(*) AS invoices, sum(length(billing.invoice_pdf(id))) AS pdf_bytes
		FROM billing.invoice WHERE run_id = $run AND id % 2 = $half" &
done
wait
t1=$(now)
two_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "two sessions (invoice_pdf, half of the run each): $INVOICES invoices in ${two_s} s = $(rate "$two_s") invoices/s ($(cpu_note "$c0"))"

c0=$(cpu); t0=$(now)
par=$(psql -At -d bench \
	-c "SELECT count(*) AS invoices, sum(length(pdf)) AS pdf_bytes, md5(string_agg(md5(pdf), ',')) FROM billing.run_pdf($run)")
t1=$(now)
echo "$par"
[ "$par" = "$one" ] || { echo "run_pdf in parallel gave other rows or bytes than on one core" >&2; exit 1; }
par_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "run_pdf in parallel workers (the default): $INVOICES invoices in ${par_s} s = $(rate "$par_s") invoices/s, the same bytes ($(cpu_note "$c0"))"

# the machine's load: the figures are wall time, shared with whatever else runs
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "rate run_xml=$(rate "$xml_s")/s run_pdf=$(rate "$pdf_s")/s two_sessions=$(rate "$two_s")/s run_pdf_parallel=$(rate "$par_s")/s"

#!/usr/bin/env bash
# test/demo.sh: the main job on a throwaway cluster.
#
#   sudo bash test/demo.sh
#
# Installs what it needs, builds and installs the extension, starts a
# cluster with pg_cron preloaded, loads sample data, issues drafts, re-runs
# after a late delivery, confirms one invoice and prints the results; ends by
# writing a run's invoices as Peppol PINT JP XML files and validating them
# with the official rules (../shared/pint-jp-1.1.3, or $BILLING_SHARED),
# and one invoice as a PDF 請求書 (billing.invoice_pdf), with its picture.
# Then a failed run turns billing.health red, the run's confirmed invoice is
# mailed to its buyer, and the mails the mailer sends to a local SMTP sink on
# 127.0.0.1 (test/mail/smtp_sink.py) are printed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$BILLING_ROOT"

install_packages
build_and_install

CLUSTER=/tmp/billing-demo-cluster
PORT=54330
SMTP_PORT=54331
cluster_start "$CLUSTER" "$PORT" "cron.database_name = 'billing_demo'
billing.smtp_url = 'smtp://127.0.0.1:$SMTP_PORT'
billing.smtp_from = '請求システム <billing@acme.example>'
billing.smtp_tls = off
billing.mail_retry_interval = 1"
sink=
trap '[ -z "$sink" ] || kill "$sink" 2>/dev/null; cluster_stop "$CLUSTER"' EXIT
export PGHOST=$CLUSTER PGPORT=$PORT PGUSER=postgres

$PG_BIN/psql -qX -d postgres -c "CREATE DATABASE billing_demo"
$PG_BIN/psql -qX -d billing_demo -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION billing"
$PG_BIN/psql -X -d billing_demo -f test/demo/demo.sql

echo
echo "== Generate XML for all invoices of the run: billing.run_xml(), one file per invoice"
shared=${BILLING_SHARED:-$BILLING_ROOT/../shared}
validate=$shared/pint-jp-1.1.3/validate
[ -x "$validate" ] || { echo "demo: the PINT JP rules are missing: no $validate (put shared/ beside the repository or set BILLING_SHARED)"; exit 1; }
run=$($PG_BIN/psql -XAt -d billing_demo -c "SELECT min(r.id) FROM billing.invoice_run r
	JOIN billing.schedule s ON s.id = r.schedule_id WHERE s.code = 'M20' AND r.kind = 'scheduled'")
xmldir=$(mktemp -d /tmp/billing-demo-xml.XXXXXX)
# NUL-separated fields and rows (-z -0): any text in the XML is safe
$PG_BIN/psql -XAtz0 -d billing_demo -c "SELECT invoice_id, xml FROM billing.run_xml($run)" |
	while IFS= read -r -d '' id && IFS= read -r -d '' xml; do
		printf '%s\n' "$xml" > "$xmldir/invoice-$id.xml"
	done
ls -l "$xmldir"
echo "== validating them with the official PINT JP 1.1.3 rules (UBL 2.1 XSD + schematron, about 4 s per file)"
"$validate" "$xmldir"/*.xml

echo
echo "== the invoice on paper: billing.invoice_pdf() of the first confirmed invoice"
pdfdir=$(mktemp -d /tmp/billing-demo-pdf.XXXXXX)
inv=$($PG_BIN/psql -XAt -d billing_demo -c "SELECT min(id) FROM billing.invoice WHERE status = 'confirmed'")
$PG_BIN/psql -XAt -d billing_demo -c "SELECT encode(billing.invoice_pdf($inv), 'base64')" | base64 -d > "$pdfdir/invoice-$inv.pdf"
pdftoppm -png -r 80 -singlefile "$pdfdir/invoice-$inv.pdf" "$pdfdir/invoice-$inv"
pdftotext -layout "$pdfdir/invoice-$inv.pdf" - | sed -n '1,12p'
echo "== the PDF is $pdfdir/invoice-$inv.pdf (its picture: $pdfdir/invoice-$inv.png, the README's doc/invoice.png)"

echo
echo "== the mailer and a local SMTP sink on 127.0.0.1:$SMTP_PORT"
maildir=$(mktemp -d /tmp/billing-demo-mail.XXXXXX)
py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3	# Debian's, with python3-aiosmtpd
$py test/mail/smtp_sink.py "$SMTP_PORT" "$maildir" > "$maildir.log" 2>&1 &
sink=$!
for _ in $(seq 100); do [ -e "$maildir/ready" ] && break; sleep 0.1; done
[ -e "$maildir/ready" ] || { cat "$maildir.log"; echo "demo: the SMTP sink did not start"; exit 1; }
$PG_BIN/psql -XAt -d billing_demo -c "SELECT 'mailer pid ' || billing.start_mailer()"
$PG_BIN/psql -X -d billing_demo -f test/demo/failure.sql
echo "== the confirmed invoices of the run mailed to their buyers, the PDF and the XML attached (billing.mail_invoices)"
$PG_BIN/psql -X -d billing_demo -c "UPDATE billing.buyer SET invoice_email = lower(code) || '@buyer.example'" \
	-c "SELECT * FROM billing.mail_invoices($run)"
# every notification and invoice mail of the demo sent (or given up), at most 30 s
for _ in $(seq 300); do
	left=$($PG_BIN/psql -XAt -d billing_demo -c "SELECT (SELECT count(*) FROM billing.notification
		WHERE sent_at IS NULL AND next_attempt_at IS NOT NULL) + (SELECT count(*) FROM billing.invoice_mail
		WHERE sent_at IS NULL AND next_attempt_at IS NOT NULL)")
	[ "$left" = 0 ] && break
	sleep 0.1
done
echo "== the mailbox of the sink ($maildir): each mail's recipient, subject and body, decoded"
$py - "$maildir" <<'PY'
import email, email.policy, pathlib, sys
for f in sorted(pathlib.Path(sys.argv[1]).glob('*.eml')):
    m = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
    print(f'--- {f.name}  To: {m["To"]}')
    print(f'Subject: {m["Subject"]}')
    print(m.get_body(('plain',)).get_content().rstrip())
    for part in m.iter_attachments():
        print(f'[attached: {part.get_filename()} ({part.get_content_type()}, {len(part.get_content())} bytes)]')
PY

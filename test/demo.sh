#!/usr/bin/env bash
# test/demo.sh: the main job on a throwaway cluster.
#
#   sudo bash test/demo.sh
#
# Installs what it needs, builds and installs the extension, starts a
# cluster with pg_cron preloaded, loads sample data, issues drafts, re-runs
# after a late delivery, confirms one invoice and prints the results; ends by
# writing a run's invoices as Peppol PINT JP XML files and validating them
# with the official rules (../shared/pint-jp-1.1.3, or $BILLING_SHARED).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$BILLING_ROOT"

install_packages
build_and_install

CLUSTER=/tmp/billing-demo-cluster
PORT=54330
cluster_start "$CLUSTER" "$PORT" "cron.database_name = 'billing_demo'"
trap 'cluster_stop "$CLUSTER"' EXIT
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

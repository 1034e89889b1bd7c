#!/usr/bin/env bash
# test/bench/calendar.sh: billing.period_of and billing.due_date against the
# built-in date_trunc('month', d) and against the same logic in PL/pgSQL,
# over 1,000,000 rows, in one run on a throwaway cluster.
#
#   sudo bash test/bench/calendar.sh
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$BILLING_ROOT"

install_packages
[ -n "${BILLING_SKIP_BUILD:-}" ] || build_and_install

CLUSTER=/tmp/billing-bench-calendar
PORT=54331
cluster_start "$CLUSTER" "$PORT" "shared_buffers = 512MB"
trap 'cluster_stop "$CLUSTER"' EXIT
export PGHOST=$CLUSTER PGPORT=$PORT PGUSER=postgres

$PG_BIN/psql -qX -d postgres -c "CREATE EXTENSION billing" -f test/bench/calendar_plpgsql.sql
$PG_BIN/psql -qX -d postgres -f test/bench/calendar.sql

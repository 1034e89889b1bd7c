#!/usr/bin/env bash
# test/load/run.sh: billing under load, with its invariants checked after.
#
#   sudo bash test/load/run.sh          # 60 s; the README's command
#   BILLING_LOAD_SECONDS=15 ...         # what test/run_all.sh runs
#
# On a throwaway cluster of its own (port BILLING_LOAD_PORT, default 54605,
# in BILLING_LOAD_DIR, default /tmp/billing-load), pgbench clients insert
# documents, rerun schedules, confirm drafts and delete drafts, while one
# more client issues drafts every second and starts a rerun in a
# background worker (test/load/*.sql).  Time runs on a simulated clock, a
# day per second, so every second closes periods.  Afterwards, once no run
# is queued or running (or after 120 s), it checks the invariants
# (invariants.sql) and prints
#   transactions held: ...
#   invariants: N checked, 0 broken
# and exits 1 when any invariant is broken or a client aborted.  Errors that
# contention makes (a draft confirmed or deleted by another client first, a
# deadlock) are caught by the clients' functions and counted, not fatal.
# BILLING_LOAD_BUILD=no skips building and installing (run_all.sh did it);
# BILLING_LOAD_CLIENTS sets the number of clients (default 4).
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$BILLING_ROOT"

DURATION=${BILLING_LOAD_SECONDS:-60}
PORT=${BILLING_LOAD_PORT:-54605}
DIR=${BILLING_LOAD_DIR:-/tmp/billing-load}
CLIENTS=${BILLING_LOAD_CLIENTS:-4}
LOAD=test/load

if [ "${BILLING_LOAD_BUILD:-yes}" != no ]; then
	install_packages || exit 1
	build_and_install || exit 1
fi
cluster_start "$DIR" "$PORT" "max_connections = 40" || { echo "load: the cluster did not start"; exit 1; }
# BILLING_LOAD_KEEP=1 leaves the cluster up, to look at what the load left
[ -n "${BILLING_LOAD_KEEP:-}" ] || trap 'cluster_stop "$DIR"' EXIT
export PGHOST=$DIR PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
psql() { $PG_BIN/psql -X -q -v ON_ERROR_STOP=1 "$@"; }

psql -f $LOAD/setup.sql || { echo "load: setup failed"; exit 1; }
psql -c "UPDATE load.clock SET started_at = clock_timestamp()"

echo "== load: $CLIENTS clients for $DURATION s (documents, reruns, confirms, deletes) + issue_drafts and a background rerun every second"
# runs report with NOTICEs; the clients need only warnings
export PGOPTIONS='-c client_min_messages=warning'
$PG_BIN/pgbench -n -T "$DURATION" -c 1 -f $LOAD/tick.sql > "$DIR/tick.log" 2>&1 &
ticker=$!
$PG_BIN/pgbench -n -T "$DURATION" -c "$CLIENTS" -j 2 --max-tries=10 \
	-f $LOAD/insert.sql@20 -f $LOAD/rerun.sql@2 -f $LOAD/confirm.sql@6 -f $LOAD/delete.sql@2 \
	> "$DIR/clients.log" 2>&1
clients_status=$?
wait $ticker
ticker_status=$?
unset PGOPTIONS
[ "$clients_status" -eq 0 ] || { echo "load: pgbench clients failed:"; tail -20 "$DIR/clients.log"; }
[ "$ticker_status" -eq 0 ] || { echo "load: the issuing client failed:"; tail -20 "$DIR/tick.log"; }

# the final wait: background runs still working finish (or are given up)
psql -c "DO \$\$ BEGIN
	FOR i IN 1 .. 1200 LOOP
		EXIT WHEN NOT EXISTS (SELECT 1 FROM billing.invoice_run WHERE status IN ('queued', 'running'));
		PERFORM pg_sleep(0.1);
	END LOOP; END \$\$"

# what the clients did (pgbench), and what the database holds
total=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$DIR/clients.log")
tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$DIR/clients.log" | head -1)
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$DIR/clients.log")
retried=$(sed -n 's/^number of transactions retried: \([0-9]*\).*/\1/p' "$DIR/clients.log")
ticks=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$DIR/tick.log")
per_script=$(awk '/^SQL script [0-9]+:/ { name = $4; sub(".*/", "", name); sub("\\.sql$", "", name) }
	/^ - [0-9]+ transactions/ { printf "%s%s %s", sep, name, $2; sep = ", " }' "$DIR/clients.log")
printf -v tps '%.1f' "${tps:-0}"
echo "transactions held: ${total:-0} in $DURATION s ($tps tps) by $CLIENTS clients ($per_script), failed ${failed:-0}, retried ${retried:-0}; ${ticks:-0} issue ticks"
psql -t -A -F ' ' -c "SELECT 'runs: ' || string_agg(n || ' ' || kind || ' ' || status, ', ' ORDER BY kind, status)
	FROM (SELECT kind, status, count(*) AS n FROM billing.invoice_run GROUP BY kind, status) r"
psql -t -A -c "SELECT 'invoices: ' || string_agg(n || ' ' || status, ', ' ORDER BY status)
	|| format(', documents: %s, %s linked', (SELECT count(*) FROM billing.document), (SELECT count(*) FROM billing.document_link))
	FROM (SELECT status, count(*) AS n FROM billing.invoice GROUP BY status) i"
psql -t -A -c "SELECT 'client errors (counted, not fatal): ' || coalesce(string_agg(format('%s %s %s', n, action, state), ', ' ORDER BY action, state), 'none')
	FROM (SELECT action, state, count(*) AS n FROM load.error GROUP BY action, state) e"
psql -t -A -F ' | ' -c "SELECT action, state, min(message) FROM load.error GROUP BY action, state ORDER BY 1, 2" \
	| sed 's/^/  e.g. /'

# the invariants
out=$(psql -t -A -F '|' -f $LOAD/invariants.sql) || { echo "load: the invariant check failed"; exit 1; }
checked=0 broken=0
while IFS='|' read -r name n bad; do
	printf '  %-78s %8d checked, %d broken\n' "$name" "$n" "$bad"
	checked=$((checked + n)) broken=$((broken + bad))
done <<< "$out"
echo "invariants: $checked checked, $broken broken"
[ "$broken" -eq 0 ] && [ "$clients_status" -eq 0 ] && [ "$ticker_status" -eq 0 ]

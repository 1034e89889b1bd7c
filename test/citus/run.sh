#!/usr/bin/env bash
# test/citus/run.sh: billing on Citus, one command (issue 16).
#
#   sudo bash test/citus/run.sh
#
# Needs Citus installed into the PostgreSQL 15 of BILLING_PG_BIN (built as
# test/citus/README.md says); without it, prints "citus: skipped" and exits
# 0.  Otherwise builds and installs billing (BILLING_CITUS_BUILD=no skips
# that), starts one coordinator and two workers on this machine
# (BILLING_CITUS_PORT, default 56401, and the two ports after it, under
# BILLING_CITUS_DIR, default /tmp/billing-citus), with
# shared_preload_libraries = 'citus,pg_cron,billing' on every node, and runs
# its suites, each counted:
#   nodes        CREATE EXTENSION billing on the coordinator reaches both
#                workers (Citus propagates it), same version everywhere
#   distribute   billing.distribute() refuses (0A000), naming every
#                guarantee that does not hold on Citus yet, and leaves
#                every table local with its guards on
#   guarantees   guarantees.sql against expected/guarantees.out: direct
#                writes, cross-brand reads as each recipe role (the README's
#                recipe, run as written), re-keying; verify() clean
#   walls        walls.sql against expected/walls.out: billing's brand wall
#                on a table distributed over both workers, as the recipe
#                roles; grant_brand's role on every node
#   ids          every node hands out ids of its own range: next_id's group
#                is the node's on all 3; rows inserted through each node into
#                a reference table and two distributed ones, placed for real
#                on a throwaway database: every id distinct
#   records      a database with a run's records placed (Citus copies them
#                through the shards' guards, with the placement's
#                billing.api_write passed on); records.sql against
#                expected/records.out: every write by hand refused on the
#                shards, the setting not to be had by hand
#   isolation    the specs that matter on Citus (test/specs: the document
#                guard, run vs run, confirm vs delete, brand walls) against
#                the coordinator
#   readers      readers.sql: the XML readers on placed tables give what
#                they give on local ones (expected/readers.out)
#   runs         runs.sql: issue_drafts, preview_run and rerun_invoice_run on
#                placed tables give what they give on local ones
#                (expected/runs.out)
#   locks        a bulk action's buyer lock, held by another transaction on
#                placed tables, refused within billing.lock_timeout; the
#                bound ends with the call
#   parallel     on placed tables, a rerun of one schedule does not wait for
#                another schedule's run, and the document guard waits for
#                the run that bills its document (on the worker that holds
#                it), not for another schedule's
#   probe        what Citus refuses, table by table and key by key, when
#                billing's tables are placed as distribute() places them
#                (billing_internal.citus_place_all, the whole foreign-key
#                graph in one transaction, on a throwaway database with
#                setup.sql's rows; expected/probe.out): the list the schema
#                work has to empty (doc/citus.md); then the same without
#                the unique keys and policies citus_missing() names, and
#                with a key Citus must refuse
# and ends with "citus: N passed, N failed" (exit 1 on any failure).  The
# nodes are stopped at the end (left running, with the suites' databases,
# for a look by hand with BILLING_CITUS_KEEP=1).  BILLING_CITUS_SHARDS: shards per
# distributed table (default 4: the machine is small).
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/nodes.sh"
cd "$BILLING_ROOT"
here=test/citus

if [ ! -f "$("$PG_BIN/pg_config" --sharedir)/extension/citus.control" ]; then
	echo "citus: skipped (Citus is not installed for $PG_BIN; test/citus/README.md builds it)"
	exit 0
fi

passed=0
failed=0
out=$BASE-out
as_root rm -rf "$out"
mkdir -p "$out"

pass() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); echo "FAILED: $1"; }
if [ "${BILLING_CITUS_BUILD:-yes}" != no ]; then
	build_and_install || { echo "citus: 0 passed, 1 failed"; exit 1; }
fi

echo "== starting a coordinator (port $PORT) and two workers"
[ -n "${BILLING_CITUS_KEEP:-}" ] || trap stop_all EXIT
start_nodes || { echo "citus: 0 passed, 1 failed"; exit 1; }

echo "== nodes"
if make_db shop > "$out/nodes.log" 2>&1 && make_db probe >> "$out/nodes.log" 2>&1; then
	versions=$(for n in $nodes; do psql_on "${n##*:}" shop -Atc \
		"SELECT extversion FROM pg_extension WHERE extname = 'billing'"; done | sort | uniq -c | awk '{print $1 "x" $2}')
	workers=$(psql_on "$PORT" shop -Atc "SELECT count(*) FROM citus_get_active_worker_nodes()")
	if [ "$workers" = 2 ] && [ "$(echo "$versions" | wc -l)" = 1 ] && [ "${versions%%x*}" = 3 ]; then
		pass "nodes: 2 workers active, billing ${versions#*x} on all 3 nodes"
	else
		fail "nodes: workers $workers, billing versions: $versions"
	fi
else
	cat "$out/nodes.log"
	fail "nodes: setting up the databases"
	echo "citus: $passed passed, $failed failed"
	exit 1
fi

echo "== distribute"
# the refusal, its SQLSTATE and detail; then nothing of billing is a Citus
# table and every guard trigger is still enabled
psql_on "$PORT" shop -At > "$out/distribute.log" 2>&1 <<SQL
\set ON_ERROR_STOP 0
DO \$\$
DECLARE st text; msg text; det text; hint text;
BEGIN
	PERFORM * FROM billing.distribute($SHARDS);
	RAISE NOTICE 'distributed';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RAISE NOTICE E'state %\nmessage %\ndetail %\nhint %', st, msg, det, hint;
END
\$\$;
SELECT 'citus tables of billing: ' || count(*) FROM pg_dist_partition d
WHERE d.logicalrelid IN (SELECT table_name FROM billing_internal.citus_plan());
SELECT 'guard triggers disabled: ' || count(*) FROM pg_trigger t
WHERE t.tgfoid = 'billing_internal.guard_records'::regproc AND t.tgenabled <> 'O';
SELECT 'missing: ' || count(*) FROM billing_internal.citus_missing();
SQL
cat "$out/distribute.log"
missing=$(sed -n 's/^missing: //p' "$out/distribute.log")
if grep -q 'state 0A000' "$out/distribute.log" \
	&& grep -q "refuses: $missing guarantee(s)" "$out/distribute.log" \
	&& grep -q '^citus tables of billing: 0$' "$out/distribute.log" \
	&& grep -q '^guard triggers disabled: 0$' "$out/distribute.log"; then
	pass "distribute: refused (0A000) naming $missing missing guarantee(s); nothing distributed, no guard off"
else
	fail "distribute: not refused as it should be"
fi

echo "== guarantees"
recipe=$(sed -n '/^## Roles/,/^## /p' README.md | sed -n '/^```sql$/,/^```$/p' | sed '/^```/d')
{
	psql_on "$PORT" shop -f - <<<"$(cat $here/setup.sql)" \
		&& psql_on "$PORT" shop -c "$recipe" \
		&& psql_on "$PORT" shop -a -f - < $here/guarantees.sql
} > "$out/guarantees.out" 2>&1
if diff -u $here/expected/guarantees.out "$out/guarantees.out" > "$out/guarantees.diff"; then
	pass "guarantees: direct writes, cross-brand reads as each recipe role, re-keying (expected/guarantees.out)"
else
	cat "$out/guarantees.diff"
	fail "guarantees: output differs from expected/guarantees.out"
fi

echo "== walls"
# the brand test evaluated on the shards, and the brand roles on every node
psql_on "$PORT" shop -a -f - < $here/walls.sql > "$out/walls.out" 2>&1
acme_role=$(psql_on "$PORT" shop -Atc "SELECT billing_internal.brand_role_name(id) FROM billing.brand WHERE code = 'ACME'")
# on each node: acme a member of ACME's role, and what acme_reader sees there
roles=$(for n in $nodes; do psql_on "${n##*:}" shop -Atc \
	"SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
	 WHERE r.rolname = '$acme_role' AND m.member = 'acme'::regrole" \
	-c "SET ROLE acme_reader" -c "SELECT billing_internal.visible_brands()"; done | paste -sd ' ' -)
if diff -u $here/expected/walls.out "$out/walls.out" > "$out/walls.diff" && [ "$roles" = "1 {1} 1 {1} 1 {1}" ]; then
	pass "walls: the brand wall on a distributed table, evaluated on the workers; ACME's role and membership on all 3 nodes"
else
	cat "$out/walls.diff"
	fail "walls: output differs from expected/walls.out, or ACME's role membership and acme_reader's brands per node are '$roles' (want '1 {1}' on each of 3)"
fi

echo "== isolation"
# the specs run in a database of their own on the coordinator, with Citus in
# it and the workers added (billing stays local: distribute() refused)
iso="$("$PG_BIN/pg_config" --pkglibdir)/pgxs/src/test/isolation/pg_isolation_regress"
make_db isolation_regression > "$out/iso-db.log" 2>&1 || { cat "$out/iso-db.log"; fail "isolation: database"; }
specs="document_during_run rerun_rerun scheduled_vs_rerun confirm_vs_delete brand_isolation"
as_root rm -rf "$BASE-iso"
as_root mkdir -p "$BASE-iso"
as_root cp -r test/specs test/expected "$BASE-iso/"
as_root chown -R postgres: "$BASE-iso"
as_pg "$iso" --use-existing --dbname=isolation_regression --host=localhost --port="$PORT" --user=postgres \
	--inputdir="$BASE-iso" --outputdir="$BASE-iso/out" $specs > "$out/isolation.log" 2>&1
cat "$out/isolation.log"
ok=$(grep -cE '\.\.\. ok' "$out/isolation.log")
bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$out/isolation.log")
passed=$((passed + ok))
failed=$((failed + bad))
[ "$ok" -eq 0 ] && [ "$bad" -eq 0 ] && fail "isolation: no spec ran"
[ -f "$BASE-iso/out/regression.diffs" ] && cat "$BASE-iso/out/regression.diffs"

echo "== ids"
# every node hands out ids of its own range (billing_internal.next_id, the
# default of every id column): on each node of shop, the group in the id is
# the node's; then, on the throwaway database ids with the tables placed for
# real (committed, after dropping the unique keys citus_missing() names),
# bank accounts (a reference table), buyers and documents (distributed)
# inserted with plain INSERTs through each of the three nodes, every
# trigger on: every id distinct, each from the range of the node that
# evaluated the default; the rerun-hint triggers noted nothing on the
# shards, and billing_internal.on_citus() says reruns read periods whole
groups=$(for n in $nodes; do psql_on "${n##*:}" shop -Atc \
	"SELECT (billing_internal.next_id('billing.document_id_seq') >> 48) = groupid FROM pg_dist_local_group"; done | paste -sd ' ' -)
make_db ids > "$out/ids.log" 2>&1 && psql_on "$PORT" ids -f - < $here/setup.sql >> "$out/ids.log" 2>&1 \
	&& place_for_real ids >> "$out/ids.log" 2>&1
for n in $nodes; do
	psql_on "${n##*:}" ids >> "$out/ids.log" 2>&1 <<SQL
INSERT INTO billing.bank_account (brand_id, code, bank_name, account_number, account_holder)
SELECT id, 'IDS-${n%%:*}-' || g, 'bank', '1234567', 'holder' FROM billing.brand, generate_series(1, 2) AS g WHERE code = 'ACME';
INSERT INTO billing.buyer (brand_id, code, name, schedule_code, schedule_applied_at)
SELECT id, 'IDS-${n%%:*}-' || g, 'inserted through ${n%%:*}', 'M20', '2026-10-01' FROM billing.brand, generate_series(1, 2) AS g WHERE code = 'ACME';
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, 'delivery_invoice', '2026-11-05', 500, 0.10, b.code || '-' || g
FROM billing.buyer b, generate_series(1, 3) AS g WHERE b.code LIKE 'IDS-${n%%:*}-%';
SQL
done
psql_on "$PORT" ids -At > "$out/ids.out" 2>> "$out/ids.log" <<'SQL'
SELECT format('%s: %s rows inserted through the nodes, %s distinct ids, from node groups %s (the nodes'' groups: %s)',
	t, count(*), count(DISTINCT id), string_agg(DISTINCT (id >> 48)::text, ','),
	(SELECT string_agg(groupid::text, ',' ORDER BY groupid) FROM pg_dist_node WHERE noderole = 'primary'))
FROM (SELECT 'bank_account' AS t, id FROM billing.bank_account WHERE code LIKE 'IDS-%'
      UNION ALL SELECT 'buyer', id FROM billing.buyer WHERE code LIKE 'IDS-%'
      UNION ALL SELECT 'document', id FROM billing.document WHERE reference LIKE 'IDS-%') AS x
GROUP BY t ORDER BY t;
SELECT format('rerun hints noted on the shards: %s; on_citus: %s; triggers disabled: %s',
	(SELECT count(*) FROM billing_internal.rerun_hint h JOIN billing.buyer b ON b.id = h.buyer_id WHERE b.code LIKE 'IDS-%'), billing_internal.on_citus(),
	(SELECT count(*) FROM pg_trigger t WHERE t.tgrelid IN (SELECT table_name FROM billing_internal.citus_plan()) AND t.tgenabled = 'D'));
SQL
cat "$out/ids.out"
want="bank_account: 6 rows inserted through the nodes, 6 distinct ids, from node groups 0,1,2 (the nodes' groups: 0,1,2)
buyer: 6 rows inserted through the nodes, 6 distinct ids, from node groups 0,1,2 (the nodes' groups: 0,1,2)"
if [ "$groups" = "t t t" ] && [ "$(head -2 "$out/ids.out")" = "$want" ] \
	&& grep -qE '^document: 18 rows inserted through the nodes, 18 distinct ids, from node groups [0-9,]+ \(the nodes. groups: 0,1,2\)$' "$out/ids.out" \
	&& grep -qx 'rerun hints noted on the shards: 0; on_citus: t; triggers disabled: 0' "$out/ids.out"; then
	pass "ids: each node's ids from its own range (shop: the node's group on all 3); ids: bank accounts, buyers, documents inserted through each node, every id distinct, every trigger on, no rerun hint written on a shard"
else
	cat "$out/ids.log"
	fail "ids: the group in next_id per node is '$groups' (want 't t t'), or ids collided (above)"
fi

echo "== records"
# the write guard on the shards (plan step 3): a throwaway database with a
# run's records placed (Citus copies them through the shards' guards, which
# take the placement's billing.api_write, passed on); then records.sql
# against expected/records.out: the records all there, every write by hand
# refused on the shards, the setting not to be had by hand; on worker 1, a
# non-superuser under Citus's connection name gets it as off
make_db records > "$out/records-db.log" 2>&1 && psql_on "$PORT" records -f - < $here/setup.sql >> "$out/records-db.log" 2>&1 \
	&& psql_on "$PORT" records -c "SELECT count(*) FROM billing.issue_drafts('2026-11-21 00:06+09')" >> "$out/records-db.log" 2>&1
# first, in a transaction rolled back: right after a real placement (which
# passed the setting on and took it back), a link deleted by hand is refused
leak=$(cat $here/refused_keys.sql - <<'SQL' | psql_on "$PORT" records -v ON_ERROR_STOP=0 -f - 2>&1 | tee -a "$out/records-db.log" | grep -c 'cannot be deleted'
BEGIN;
SELECT pg_temp.drop_refused_unique_keys();
SELECT kind, outcome FROM billing_internal.citus_place_all(current_setting('citus.shard_count')::integer) WHERE kind = 'keys';
SELECT min(buyer_id) AS buyer FROM billing.document_link \gset
DELETE FROM billing.document_link WHERE buyer_id = :buyer;
ROLLBACK;
SQL
)
place_for_real records >> "$out/records-db.log" 2>&1
# (shard names carry Citus's shard ids: written as <shard>)
as_pg "$PG_BIN/psql" -X -q -h localhost -p "$PORT" -U postgres -d records -a -f - < $here/records.sql 2>&1 \
	| sed -E 's/(billing\.[a-z_]+)_[0-9]+/\1_<shard>/g' > "$out/records.out"
spoof=$(psql_on "$((PORT + 1))" records -v ON_ERROR_STOP=0 -c "CREATE ROLE billing_test_spoof NOLOGIN" \
	-c "SET application_name = 'citus_internal gpid=1'" -c "SET ROLE billing_test_spoof" -c "BEGIN" \
	-c "SET LOCAL billing.api_write = on" -c "SHOW billing.api_write" -c "ROLLBACK" -At 2>&1 | grep -cx 'off')
psql_on "$PORT" records -c "DROP ROLE IF EXISTS billing_test_spoof" >/dev/null 2>&1
if diff -u $here/expected/records.out "$out/records.out" > "$out/records.diff" && [ "$spoof" = 1 ] && [ "$leak" = 1 ]; then
	pass "records: a database with records placed through the shards' guards; every write by hand refused there, also right after a placement in its transaction (expected/records.out); a non-superuser under Citus's connection name gets the setting as off"
else
	cat "$out/records-db.log" "$out/records.diff"
	fail "records: output differs from expected/records.out, or the spoofed setting was not taken as off ($spoof), or a link deleted right after the placement was not refused ($leak)"
fi

echo "== verify"
# billing.verify() on the placed records database (plan step 9): clean, then
# each of two corruptions made on a worker's shard behind Citus's back (as a
# restore with --disable-triggers could leave them: session_replication_role
# = replica, the superuser on the worker) reported from the coordinator, row
# and value named; put back, clean again
buyer=$(psql_on "$PORT" records -Atc "SELECT min(buyer_id) FROM billing.invoice")
shard_at() {	# TABLE: the worker port and the shard of $buyer's rows
	psql_on "$PORT" records -Atc "SELECT n.nodeport || ' ' || s.logicalrelid::regclass || '_' || s.shardid
		FROM pg_dist_shard s JOIN pg_dist_placement p ON p.shardid = s.shardid JOIN pg_dist_node n ON n.groupid = p.groupid
		WHERE s.shardid = get_shard_id_for_distribution_column('$1', $buyer)"
}
on_shard() {	# TABLE SQL: SQL run on the worker holding $buyer's shard of TABLE, ":shard" its name
	local at
	at=$(shard_at "$1")
	psql_on "${at%% *}" records -c "SET session_replication_role = replica" -c "${2//:shard/${at#* }}"
}
verify_out() { psql_on "$PORT" records -At -c "SELECT invariant || ' | ' || relation::text || ' ' || key || ' | ' || detail FROM billing.verify()" 2>&1; }
before=$(verify_out)
on_shard billing.invoice "UPDATE :shard SET document_count = document_count + 1 WHERE buyer_id = $buyer" > "$out/verify.log" 2>&1
on_shard billing.document_link "UPDATE :shard SET invoice_id = invoice_id + 1000 WHERE buyer_id = $buyer AND document_id = (SELECT min(document_id) FROM :shard WHERE buyer_id = $buyer)" >> "$out/verify.log" 2>&1
corrupt=$(verify_out)
on_shard billing.invoice "UPDATE :shard SET document_count = document_count - 1 WHERE buyer_id = $buyer" >> "$out/verify.log" 2>&1
on_shard billing.document_link "UPDATE :shard SET invoice_id = invoice_id - 1000 WHERE buyer_id = $buyer AND invoice_id > 1000" >> "$out/verify.log" 2>&1
after=$(verify_out)
printf '%s\n' "before: $before" "corrupt:" "$corrupt" "after: $after" > "$out/verify.out"
cat "$out/verify.out"
if [ -z "$before" ] && [ -z "$after" ] \
	&& grep -qE "^an invoice's amounts equal its documents and tax lines \| billing.invoice \($buyer, [0-9]+\) \| invoice [0-9]+ has purchases [0-9.]+, deposit [0-9.]+, tax [0-9.]+, 4 documents; its documents give purchases [0-9.]+, deposit [0-9.]+, 2 documents;" "$out/verify.out" \
	&& grep -qE "^reference billing.document_link\(buyer_id, invoice_id, brand_id\) to billing.invoice \| billing.document_link \($buyer, [0-9]+, [0-9]+\) \| \(buyer_id, invoice_id, brand_id\)=\($buyer, [0-9]+, [0-9]+\) is not present in table billing.invoice$" "$out/verify.out"; then
	pass "verify: billing.verify() on the placed tables: clean; an invoice's document count and a link's invoice changed on a worker's shard behind Citus's back both reported from the coordinator; clean once put back"
else
	cat "$out/verify.log"
	fail "verify: billing.verify() on the placed tables did not report as above (want clean, the two corruptions, clean)"
fi

# placed_vs_local NAME STEP...: the databases NAME (its tables then placed
# for real) and NAME_local (billing stays local, Citus in it), each made
# from setup.sql and the STEPs in order (a file of this folder, or "issue":
# the run of 2026-11-21), then NAME.sql run on both; true when the two
# outputs are the same and the same as expected/NAME.out.  Sets placed (1
# when NAME's invoices are a Citus table).
placed_vs_local() {
	local name=$1 db step
	shift
	placed=0
	for db in $name ${name}_local; do
		make_db $db > "$out/$db-db.log" 2>&1 || return 1
		for step in setup "$@"; do
			if [ "$step" = issue ]; then
				psql_on "$PORT" $db -c "SELECT count(*) FROM billing.issue_drafts('2026-11-21 00:06+09')"
			else
				psql_on "$PORT" $db -f - < $here/$step.sql
			fi >> "$out/$db-db.log" 2>&1 || return 1
		done
	done
	place_for_real $name >> "$out/$name-db.log" 2>&1
	for db in $name ${name}_local; do
		as_pg "$PG_BIN/psql" -X -q -h localhost -p "$PORT" -U postgres -d $db -a -f - < $here/$name.sql > "$out/$db.out" 2>&1
	done
	placed=$(psql_on "$PORT" $name -Atc "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'billing.invoice'::regclass")
	[ "$placed" = 1 ] && diff -u "$out/${name}_local.out" "$out/$name.out" > "$out/$name.diff" \
		&& diff -u $here/expected/$name.out "$out/$name.out" >> "$out/$name.diff"
}

echo "== actions"
# the bulk actions (plan step 9) on placed tables, every guard on, against
# the same on a database where billing stays local: the same output, and
# expected/actions.out
if placed_vs_local actions actions_setup issue; then
	pass "actions: confirm, quarantine, reject, delete and cancel on placed tables as on local ones, refusals included, balances and verify() (expected/actions.out)"
else
	cat "$out/actions-db.log" "$out/actions_local-db.log" "$out/actions.diff"
	fail "actions: on placed tables (placed: $placed) the bulk actions differ from the local ones or from expected/actions.out"
fi

echo "== readers"
# the XML readers (plan step 9) on placed tables, against the same on a
# database where billing stays local: the same output, and
# expected/readers.out (readers_confirmed.sql confirms an invoice and moves
# its buyer before the placement)
if placed_vs_local readers actions_setup readers_setup issue readers_confirmed; then
	pass "readers: invoice_xml, run_xml and invoices_xml on placed tables give the bytes they give on local ones, a confirmed invoice's master data version, each brand's role its own brand's XML only (expected/readers.out)"
else
	cat "$out/readers-db.log" "$out/readers_local-db.log" "$out/readers.diff"
	fail "readers: on placed tables (placed: $placed) the XML readers differ from the local ones or from expected/readers.out"
fi

echo "== runs"
# the run itself on placed tables (plan steps 8 and 9: plannable, not yet
# pushed down): runs.sql issues, previews, reruns a late document and a
# rerun with nothing to do, against the same on a database where billing
# stays local: the same output, and expected/runs.out
placed_vs_local runs actions_setup
runs_same=$?
# Then, on the placed tables, a document's brand: given, it is checked by
# the foreign key (buyer_id, brand_id) on the shard (document_brand looks
# nothing up there: that lookup cost a worker 50 kB a row), so another
# brand's is refused (23503); left out, it is filled in from the buyer.
brands=$(psql_on "$PORT" runs -At -v VERBOSITY=verbose \
	-c "INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	    SELECT b.id, o.id, 'delivery_invoice', '2026-11-05', 10, 0.10, 'wrong-brand'
	    FROM billing.buyer b, billing.brand o WHERE b.code = 'CA2' AND o.code = 'OTHER'" 2>&1 | grep -o '23503' | head -1)
filled=$(psql_on "$PORT" runs -At -c "INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, 'delivery_invoice', '2026-11-05', 10, 0.10, 'no-brand' FROM billing.buyer b WHERE b.code = 'CA2'" \
	-c "SELECT d.brand_id = b.brand_id FROM billing.document d JOIN billing.buyer b ON b.id = d.buyer_id
	    WHERE d.reference = 'no-brand'" 2>&1 | tail -1)
echo "another brand's document: ${brands:-not refused}; a document without brand_id takes its buyer's: $filled"
if [ "$runs_same" = 0 ] && [ "$brands" = 23503 ] && [ "$filled" = t ]; then
	pass "runs: issue_drafts, preview_run, rerun_invoice_run (a late document, then nothing to do) and uninvoiced_document on placed tables as on local ones, drafts, tax lines, links and verify() (expected/runs.out); a document's brand checked on its shard"
else
	cat "$out/runs-db.log" "$out/runs_local-db.log" "$out/runs.diff"
	fail "runs: on placed tables (placed: $placed) the runs differ from the local ones or from expected/runs.out"
fi

echo "== locks"
# a bulk action's buyer locks on placed tables are taken on the workers
# that hold the buyers: billing.lock_timeout bounds the wait there too
# (55P03, not a wait for as long as the holder likes), and the bound ends
# with the call (a lock taken by hand later in the transaction waits as
# the caller's lock_timeout, 0, says).  On readers, whose buyers 4 and 5
# (CA3, CA4) have drafts; another transaction holds buyer 4's row for 6 s.
ids=$(psql_on "$PORT" readers -Atc "SELECT string_agg(i.id::text, ' ' ORDER BY b.id) FROM billing.invoice i
	JOIN billing.buyer b ON b.id = i.buyer_id WHERE b.id IN (4, 5) AND i.status = 'draft'")
read -r held_draft free_draft <<<"$ids"
psql_on "$PORT" readers -c "BEGIN" -c "SELECT 1 FROM billing.buyer WHERE id = 4 FOR UPDATE" -c "SELECT pg_sleep(6)" \
	-c "COMMIT" > "$out/locks-holder.log" 2>&1 &
holder=$!
sleep 1
t0=$(date +%s%N)
as_pg "$PG_BIN/psql" -X -q -h localhost -p "$PORT" -U postgres -d readers -c "SET billing.lock_timeout = '1s'" -c "BEGIN" \
	-c "SELECT count(*) FROM billing.confirm_invoices(${held_draft:-0})" -c "ROLLBACK" > "$out/locks-refused.log" 2>&1
refused_ms=$((($(date +%s%N) - t0) / 1000000))
t0=$(date +%s%N)
as_pg "$PG_BIN/psql" -X -q -h localhost -p "$PORT" -U postgres -d readers -v ON_ERROR_STOP=1 -c "SET billing.lock_timeout = '1s'" \
	-c "BEGIN" -c "SELECT count(*) FROM billing.confirm_invoices(${free_draft:-0})" \
	-c "SELECT id FROM billing.buyer WHERE id = 4 FOR UPDATE" -c "ROLLBACK" > "$out/locks-after.log" 2>&1
after_status=$?
after_ms=$((($(date +%s%N) - t0) / 1000000))
wait $holder
echo "refused in $refused_ms ms; a lock by hand after the call waited $after_ms ms (status $after_status)"
if [ -n "$free_draft" ] && grep -q 'their buyers stayed locked longer than billing.lock_timeout (1000 ms)' "$out/locks-refused.log" \
	&& [ "$refused_ms" -lt 3000 ] && [ "$after_status" = 0 ] && [ "$after_ms" -gt 1500 ]; then
	pass "locks: a bulk action's buyer lock held elsewhere refused within billing.lock_timeout on placed tables (55P03, $refused_ms ms); the bound ends with the call"
else
	cat "$out/locks-refused.log" "$out/locks-after.log"
	fail "locks: want the confirm refused within about 1 s and the later lock by hand to wait for the holder (refused $refused_ms ms; after: status $after_status, $after_ms ms)"
fi

echo "== parallel"
# runs of different schedules do not queue, and the document guard meets
# the run on the worker that holds the document (doc/citus.md: the
# schedule's row is locked on every node's copy).  On runs, after the runs
# suite: late documents for ACME's CA1 and CA2 (schedule 1) and OTHER's CB1
# (schedule 2), and one of CB1's in the open period.  A reruns ACME's
# period and keeps its transaction open 5 s; meanwhile B reruns OTHER's
# (its own transaction, autocommit), C2 changes CB1's open document, and C1
# changes CA2's document, which A is billing: B and C2 go through at once,
# C1 waits for A's commit and is then refused, the document on A's draft.
psql_on "$PORT" runs -q -c "INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, 'delivery_invoice', d.day, 100, 0.10, d.reference
	FROM (VALUES ('CA1', date '2026-11-06', 'par-a'), ('CB1', '2026-11-06', 'par-b'),
	             ('CA2', '2026-11-07', 'par-c'), ('CB1', '2026-12-01', 'par-e')) AS d (buyer, day, reference)
	JOIN billing.buyer b ON b.code = d.buyer" > "$out/parallel.log" 2>&1
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
psql_on "$PORT" runs -q -c "SET client_min_messages = warning" -c "BEGIN" \
	-c "SELECT billing.rerun_invoice_run('M20', '2026-12-08', brand => 'ACME') IS NOT NULL AS a_ran" \
	-c "SELECT pg_sleep(5)" -c "COMMIT" > "$out/parallel-a.log" 2>&1 &
run_a=$!
sleep 1.5
t0=$(date +%s%N)
psql_on "$PORT" runs -q -c "SET client_min_messages = warning" \
	-c "SELECT billing.rerun_invoice_run('M20', '2026-12-08', brand => 'OTHER')" > "$out/parallel-b.log" 2>&1
b_ms=$(ms_since "$t0")
t0=$(date +%s%N)
psql_on "$PORT" runs -q -c "SET lock_timeout = '10s'" \
	-c "UPDATE billing.document SET amount = 110 WHERE reference = 'par-e'" > "$out/parallel-c2.log" 2>&1
c2_status=$?
c2_ms=$(ms_since "$t0")
t0=$(date +%s%N)
psql_on "$PORT" runs -q -c "SET lock_timeout = '10s'" \
	-c "UPDATE billing.document SET amount = 999 WHERE reference = 'par-c'" > "$out/parallel-c1.log" 2>&1
c1_ms=$(ms_since "$t0")
wait $run_a
billed=$(psql_on "$PORT" runs -At -c "SELECT string_agg(d.reference || ':' || i.status, ' ' ORDER BY d.reference)
	FROM billing.document d JOIN billing.document_link l ON l.buyer_id = d.buyer_id AND l.document_id = d.id
	JOIN billing.invoice i ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id
	WHERE d.reference LIKE 'par-%'" -c "SELECT amount FROM billing.document WHERE reference = 'par-e'" 2>&1 | tr '\n' ' ')
echo "B's rerun took $b_ms ms; CB1's open document changed in $c2_ms ms (status $c2_status); CA2's billed one waited $c1_ms ms: $(grep -o 'is on draft invoice [0-9]*' "$out/parallel-c1.log")"
echo "billed: $billed"
if [ "$b_ms" -lt 1500 ] && [ "$c2_status" = 0 ] && [ "$c2_ms" -lt 1500 ] && [ "$c1_ms" -gt 1500 ] \
	&& grep -q 'is on draft invoice' "$out/parallel-c1.log" && grep -q ' t$\|^ t' "$out/parallel-a.log" \
	&& [ "$billed" = "par-a:draft par-b:draft par-c:draft 110 " ]; then
	pass "parallel: on placed tables a rerun of another schedule went through while one ran ($b_ms ms), a document of another schedule changed at once ($c2_ms ms), and one the run was billing waited for the run's commit ($c1_ms ms) and was refused"
else
	cat "$out/parallel.log" "$out/parallel-a.log" "$out/parallel-b.log" "$out/parallel-c2.log" "$out/parallel-c1.log"
	fail "parallel: want B's rerun and C2's change under 1.5 s and C1 waiting for A then refused (B $b_ms ms, C2 $c2_ms ms status $c2_status, C1 $c1_ms ms; billed: $billed)"
fi

# and the run's wait for its schedule's row is bounded on the workers too:
# a transaction that changed CB1's open document (its guard holds OTHER's
# schedule row FOR SHARE on that worker's copy) and stays open 6 s makes a
# rerun of OTHER fail within billing.lock_timeout (55P03), not hang
psql_on "$PORT" runs -q -c "BEGIN" -c "UPDATE billing.document SET amount = amount + 1 WHERE reference = 'par-e'" \
	-c "SELECT pg_sleep(6)" -c "COMMIT" > "$out/parallel-holder.log" 2>&1 &
holder=$!
sleep 1
t0=$(date +%s%N)
as_pg "$PG_BIN/psql" -X -q -h localhost -p "$PORT" -U postgres -d runs -c "SET billing.lock_timeout = '1s'" \
	-c "SELECT billing.rerun_invoice_run('M20', '2026-12-08', brand => 'OTHER')" > "$out/parallel-bounded.log" 2>&1
bounded_ms=$(ms_since "$t0")
wait $holder
echo "a rerun of OTHER while a document change of its buyer stayed open: $bounded_ms ms, $(grep -o 'stayed locked longer than billing.lock_timeout ([0-9]* ms)' "$out/parallel-bounded.log")"
if grep -q 'billing schedule "M20" stayed locked longer than billing.lock_timeout (1000 ms)' "$out/parallel-bounded.log" \
	&& [ "$bounded_ms" -lt 3000 ]; then
	pass "parallel: on placed tables a run waits for its schedule's row on a worker's copy at most billing.lock_timeout (55P03 in $bounded_ms ms for 1 s)"
else
	cat "$out/parallel-holder.log" "$out/parallel-bounded.log"
	fail "parallel: want the rerun refused within about 1 s while a document change holds its schedule's row on a worker ($bounded_ms ms)"
fi

# two runs of one schedule meet on its row and take turns: three reruns of
# ACME's period at once, five times over, each keeping its transaction open
# 0.3 s; none may fail (before the run locked its node's copy first, Citus
# wrote the copies in parallel and two runs could each take a different
# copy first: a distributed deadlock, 40P01)
deadlocks=0
for round in 1 2 3 4 5; do
	for s in a b c; do
		psql_on "$PORT" runs -q -c "SET client_min_messages = warning" -c "SET billing.lock_timeout = '10s'" -c "BEGIN" \
			-c "SELECT billing.rerun_invoice_run('M20', '2026-12-08', brand => 'ACME')" -c "SELECT pg_sleep(0.3)" \
			-c "COMMIT" > "$out/parallel-same-$round-$s.log" 2>&1 &
	done
	wait
	deadlocks=$((deadlocks + $(cat "$out"/parallel-same-$round-*.log | grep -c 'ERROR')))
done
echo "three reruns of one schedule at once, five times: $deadlocks failed"
if [ "$deadlocks" = 0 ]; then
	pass "parallel: runs of one schedule at once on placed tables take turns on its row (15 reruns, none failed)"
else
	grep -h 'ERROR' "$out"/parallel-same-*.log | sort | uniq -c
	fail "parallel: runs of one schedule at once on placed tables failed $deadlocks time(s) in 15"
fi

echo "== probe"
# on the throwaway database probe, with setup.sql's rows (Citus moves them,
# the keys are validated against them):
# 1. billing_internal.citus_place_all's dry run, the whole foreign-key graph
#    as distribute() places it: each table, each key, what Citus says, and
#    the Citus tables it made (then all undone);
# 2. the real call, refused at its first refusal, and nothing changed after;
# 3. the same on a schema without what citus_missing() reads from the
#    catalog (the unique keys without the distribution column and the
#    policies with subqueries dropped in a transaction rolled back at the
#    end): what Citus would refuse next, and the real call's placement;
# 4. there, a key Citus must refuse (reference table -> distributed): the
#    dry run lists Citus's refusal, the real call refuses, nothing placed
psql_on "$PORT" probe -f - < $here/setup.sql > "$out/probe-setup.log" 2>&1 || cat "$out/probe-setup.log"
cat $here/refused_keys.sql - <<'SQL' | psql_on "$PORT" probe -At -v shards="$SHARDS" > "$out/probe.out" 2> "$out/probe.err"
\set ON_ERROR_STOP 1
CREATE TEMP TABLE probe_log (n serial, line text);
-- the real call: 'placed', or the refusal as Citus gave it (a session's
-- own function: not for Citus to propagate)
SET citus.enable_ddl_propagation = off;
CREATE FUNCTION pg_temp.try_place_all() RETURNS void LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	PERFORM * FROM billing_internal.citus_place_all(current_setting('citus.shard_count')::integer);
	INSERT INTO probe_log (line) VALUES ('placed');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	INSERT INTO probe_log (line) VALUES (format('refused %s: %s (%s)', st, msg, det));
END
$$;
RESET citus.enable_ddl_propagation;
CREATE TEMP TABLE probe_run AS
SELECT * FROM billing_internal.citus_place_all(:shards, dry_run => true) WITH ORDINALITY AS r (kind, object, outcome, n);
\echo -- 1. SELECT * FROM billing_internal.citus_place_all(shards, dry_run => true)
SELECT format('%s %s: %s', kind, object, outcome) FROM probe_run ORDER BY n;
\echo -- 2. SELECT * FROM billing_internal.citus_place_all(shards)
SELECT pg_temp.try_place_all() \g /dev/null
SELECT line FROM probe_log ORDER BY n;
SELECT format('after it: %s Citus tables of billing, %s of %s foreign keys',
	(SELECT count(*) FROM pg_dist_partition d WHERE d.logicalrelid IN (SELECT table_name FROM billing_internal.citus_plan())),
	(SELECT count(*) FROM billing_internal.citus_keys() k JOIN pg_constraint c ON c.conrelid = k.table_name AND c.conname = k.key_name AND c.convalidated),
	(SELECT count(*) FROM billing_internal.citus_keys()));
\echo -- 3. without the unique keys and the policies citus_missing() names (dropped, then rolled back)
BEGIN;
TRUNCATE probe_log;
DO $$
DECLARE r record;
BEGIN
	FOR r IN SELECT * FROM pg_temp.refused_unique_keys() LOOP
		INSERT INTO probe_log (line) VALUES (format('dropped: unique key %s on %s', r.conname, r.table_name));
		EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.table_name, r.conname);
	END LOOP;
	FOR r IN SELECT p.polrelid::regclass AS t, p.polname FROM pg_policy p
	         WHERE p.polrelid IN (SELECT c.table_name FROM billing_internal.citus_plan() c)
	           AND (strpos(p.polqual::text, '{SUBLINK') > 0 OR strpos(coalesce(p.polwithcheck::text, ''), '{SUBLINK') > 0)
	         ORDER BY 1, 2 LOOP
		INSERT INTO probe_log (line) VALUES (format('dropped: policy %s on %s', r.polname, r.t));
		EXECUTE format('DROP POLICY %I ON %s', r.polname, r.t);
	END LOOP;
END
$$;
SELECT line FROM probe_log ORDER BY n;
TRUNCATE probe_run;
INSERT INTO probe_run
SELECT * FROM billing_internal.citus_place_all(:shards, dry_run => true) WITH ORDINALITY;
SELECT format('%s %s: %s', kind, object, outcome) FROM probe_run
WHERE kind = 'table' OR kind = 'keys' OR (kind = 'key' AND outcome NOT LIKE 'added back:%') ORDER BY n;
SELECT format('key: %s of %s added back', count(*) FILTER (WHERE outcome LIKE 'added back:%'), count(*)) FROM probe_run WHERE kind = 'key';
\echo -- the real call, in that transaction
SAVEPOINT before_real_call;
SELECT format('%s %s: %s', kind, object, outcome) FROM billing_internal.citus_place_all(:shards) WHERE kind = 'keys';
SELECT format('placed: %s reference tables; distributed, colocated with billing.buyer: %s; not colocated: %s',
	count(*) FILTER (WHERE d.partmethod = 'n'),
	string_agg(format('%s by %s', d.logicalrelid, column_to_column_name(d.logicalrelid, d.partkey)), ', ' ORDER BY c.step)
		FILTER (WHERE d.partmethod = 'h' AND d.colocationid = b.colocationid),
	coalesce(string_agg(d.logicalrelid::text, ', ' ORDER BY c.step)
		FILTER (WHERE d.partmethod = 'h' AND d.colocationid <> b.colocationid), 'none'))
FROM pg_dist_partition d JOIN billing_internal.citus_plan() c ON c.table_name = d.logicalrelid
CROSS JOIN (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'billing.buyer'::regclass) b;
SELECT format('rows in the shards: %s brands, %s buyers, %s documents; foreign keys validated: %s of %s',
	(SELECT count(*) FROM billing.brand), (SELECT count(*) FROM billing.buyer), (SELECT count(*) FROM billing.document),
	(SELECT count(*) FROM billing_internal.citus_keys() k JOIN pg_constraint c ON c.conrelid = k.table_name AND c.conname = k.key_name AND c.convalidated),
	(SELECT count(*) FROM billing_internal.citus_keys()));
ROLLBACK TO SAVEPOINT before_real_call;
\echo -- 4. and with a key Citus does not allow (from the reference table maintenance_log to buyer)
ALTER TABLE billing.maintenance_log ADD COLUMN probe_buyer_id bigint
	CONSTRAINT probe_reference_to_distributed REFERENCES billing.buyer (id);
SELECT format('%s %s: %s', kind, object, outcome) FROM billing_internal.citus_place_all(:shards, dry_run => true)
WHERE kind = 'keys' OR (kind = 'key' AND outcome NOT LIKE 'added back:%') OR (kind = 'table' AND outcome LIKE 'refused%');
TRUNCATE probe_log;
SELECT pg_temp.try_place_all() \g /dev/null
SELECT line FROM probe_log ORDER BY n;
SELECT format('after it: %s Citus tables of billing', count(*)) FROM pg_dist_partition d
WHERE d.logicalrelid IN (SELECT table_name FROM billing_internal.citus_plan());
ROLLBACK;
SQL
[ -s "$out/probe.err" ] && grep -vE '^(NOTICE|DETAIL|HINT):  ' "$out/probe.err" | grep -vE '^psql:<stdin>:[0-9]+: NOTICE:' >> "$out/probe.out"
if diff -u $here/expected/probe.out "$out/probe.out" > "$out/probe.diff"; then
	pass "probe: Citus refuses what expected/probe.out says"
else
	cat "$out/probe.diff"
	fail "probe: Citus's refusals changed (expected/probe.out; update doc/citus.md too)"
fi
cat "$out/probe.out"

echo "citus: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

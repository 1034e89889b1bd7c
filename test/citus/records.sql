-- test/citus/records.sql: the write guard on the shards (issue 16, plan
-- step 3), on a throwaway database whose tables run.sh has placed with
-- records in them (a run's invoices, links and logs): Citus copied them
-- through the guard, which took the placement's billing.api_write, passed
-- on to its connections as every API call's is (src/guard.c).  The API's
-- write functions and its background workers write through the shards'
-- guards, every guard on; every other write is still refused there,
-- also in the transaction of an API call, after it returned or failed.
\set VERBOSITY terse
SELECT (SELECT count(*) FROM billing.invoice_run) AS runs, (SELECT count(*) FROM billing.invoice) AS invoices,
       (SELECT count(*) FROM billing.document_link) AS links, (SELECT count(*) FROM billing.run_log) AS run_logs,
       (SELECT count(*) FROM pg_dist_partition) AS citus_tables;
-- a superuser writing records by hand, through the coordinator (one
-- buyer's rows, so one shard answers)
SELECT min(buyer_id) AS buyer FROM billing.invoice \gset
DELETE FROM billing.document_link WHERE buyer_id = :buyer;
UPDATE billing.invoice SET status = 'confirmed' WHERE buyer_id = :buyer;
INSERT INTO billing.run_log (run_id, brand_id, level, message)
SELECT id, brand_id, 'info', 'forged' FROM billing.invoice_run LIMIT 1;
-- the setting by hand, and the passing on by hand
BEGIN;
SET LOCAL citus.propagate_set_commands = local;
SET LOCAL billing.api_write = on;
ROLLBACK;
-- the API writes runs and their logs (reference tables: every shard
-- placement's guard fires), every guard on
SELECT max(id) AS run FROM billing.invoice_run \gset
SELECT step FROM billing.set_run_description(:run, 'placed on Citus');
SELECT step FROM billing.disable_run(:run);
SELECT step FROM billing.enable_run(:run);
SELECT message FROM billing.run_log WHERE run_id = :run ORDER BY id;
-- a rerun made to fail: 1,025 documents with ids given by hand 2^20
-- apart would need as many new link partitions, more than a run makes at
-- once.  It calls billing.fail_dead_runs (an API call inside an API call),
-- then writes its run row and goes as far as making the partitions, so
-- the inner call's end left the outer one's setting on the shards; in the
-- end its failure is recorded by the extension's background worker
-- through the shards' guards (the C code passes the setting on as well).
-- The documents (ACME's buyer :buyer, one shard: a statement over several
-- shards' connections first would keep Citus from writing invoice_run in
-- the transaction at all) are rolled back with the caller's transaction.
BEGIN;
INSERT INTO billing.document (id, buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT g::bigint << 20, :buyer, 'delivery_invoice', '2026-11-10', 1, 0.10, 'far-' || g
FROM generate_series(1, 1025) AS g;
SELECT count(*) FROM billing.rerun_invoice_run('M20', brand => 'ACME', as_of => '2026-11-21 00:07+09');
ROLLBACK;
SELECT r.status, l.level, l.message LIKE 'rerun % failed, nothing was issued: %' AS failure_logged
FROM billing.invoice_run r JOIN billing.run_log l ON l.run_id = r.id
WHERE r.id > :run ORDER BY l.id;
-- in an API call's transaction: after it returned, a write by hand is
-- refused on the shards (the call took the setting back; the links'
-- shards are on the workers only)
BEGIN;
SELECT step FROM billing.set_run_description(:run, 'again');
DELETE FROM billing.document_link WHERE buyer_id = :buyer;
ROLLBACK;
-- after an API call that failed, its error caught by a savepoint: refused,
-- and the next API call passes the setting on again
BEGIN;
SAVEPOINT before_failing_call;
SELECT billing.disable_run(-1);
ROLLBACK TO SAVEPOINT before_failing_call;
DELETE FROM billing.document_link WHERE buyer_id = :buyer;
ROLLBACK TO SAVEPOINT before_failing_call;
SELECT step FROM billing.set_run_description(:run, 'after a failed call');
ROLLBACK;
-- in the transaction of a placement's dry run, which passed the setting on
-- and took it back: a write by hand after it is refused on the shards
BEGIN;
SELECT count(*) > 0 AS dry_run_reported FROM billing_internal.citus_place_all(4, dry_run => true);
DELETE FROM billing.document_link WHERE buyer_id = :buyer;
ROLLBACK;
-- a non-superuser's transaction around an API call: Citus replays the
-- call's SET LOCALs on every connection of the transaction, also those it
-- opened as the caller (the reads before the call), where the setting is
-- taken as off; the caller's statements before and after the call go on
CREATE ROLE billing_test_reader LOGIN;
SELECT max(r.id) AS acme_run FROM billing.invoice_run r JOIN billing.brand b ON b.id = r.brand_id WHERE b.code = 'ACME' \gset
SELECT billing.grant_brand('ACME', 'billing_test_reader');
GRANT EXECUTE ON FUNCTION billing.set_run_description(bigint, text) TO billing_test_reader;
GRANT USAGE ON SCHEMA billing TO billing_test_reader;
GRANT SELECT ON billing.document TO billing_test_reader;
SET ROLE billing_test_reader;
BEGIN;
SET LOCAL citus.multi_shard_modify_mode = sequential;
SELECT count(*) AS documents_before FROM billing.document;
SELECT step FROM billing.set_run_description(:acme_run, 'described by a reader');
SELECT count(*) AS documents_after FROM billing.document;
SHOW citus.propagate_set_commands;
COMMIT;
RESET ROLE;
SELECT description FROM billing.invoice_run WHERE id = :acme_run;
REVOKE ALL ON billing.document FROM billing_test_reader;
REVOKE USAGE ON SCHEMA billing FROM billing_test_reader;
REVOKE EXECUTE ON FUNCTION billing.set_run_description(bigint, text) FROM billing_test_reader;
SELECT billing.revoke_brand('ACME', 'billing_test_reader');
DROP ROLE billing_test_reader;
-- nothing changed
SELECT (SELECT count(*) FROM billing.document_link) AS links,
       (SELECT count(*) FROM billing.invoice WHERE status = 'draft') AS drafts,
       (SELECT count(*) FROM billing.run_log WHERE message = 'forged') AS forged;

-- test/citus/records.sql: the write guard on the shards (issue 16, plan
-- step 3), on a throwaway database whose tables run.sh has placed with
-- records in them (a run's invoices, links and logs): Citus copied them
-- through the guard, which took the placement's billing.api_write passed on
-- to its connections; every other write is still refused on the shards.
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
SELECT billing_internal.citus_share_api_write(true);
-- in the transaction of a placement's dry run, which passed the setting on
-- and took it back: a write by hand after it is refused on the shards
BEGIN;
SELECT count(*) > 0 AS dry_run_reported FROM billing_internal.citus_place_all(4, dry_run => true);
DELETE FROM billing.document_link WHERE buyer_id = :buyer;
ROLLBACK;
-- nothing changed
SELECT (SELECT count(*) FROM billing.document_link) AS links,
       (SELECT count(*) FROM billing.invoice WHERE status = 'draft') AS drafts,
       (SELECT count(*) FROM billing.run_log WHERE message = 'forged') AS forged;

-- sql/updates/0.1--0.2.sql: the changes to run-once objects (tables, types)
-- from 0.1 to 0.2.  sql/assemble.sh puts this in place of the tables in
-- billing--0.1--0.2.sql; functions, triggers, views, comments and grants are
-- re-created from sql/billing/ after it.

-- the runs not over yet: billing.fail_dead_runs reads only these
CREATE INDEX invoice_run_live_idx ON billing.invoice_run (id) WHERE status IN ('queued', 'running');

-- The references between the tables are kept by triggers (references.sql)
-- instead of foreign keys, so that pg_restore -j can load the tables in any
-- order.
ALTER TABLE billing.schedule DROP CONSTRAINT schedule_brand_id_fkey;
ALTER TABLE billing.bank_account DROP CONSTRAINT bank_account_brand_id_fkey;
ALTER TABLE billing.buyer DROP CONSTRAINT buyer_brand_id_fkey,
	DROP CONSTRAINT buyer_schedule_fkey, DROP CONSTRAINT buyer_bank_account_fkey;
ALTER TABLE billing.document DROP CONSTRAINT document_buyer_fkey;
ALTER TABLE billing.invoice_run DROP CONSTRAINT invoice_run_brand_id_fkey,
	DROP CONSTRAINT invoice_run_schedule_id_fkey;
ALTER TABLE billing.run_log DROP CONSTRAINT run_log_run_id_fkey;
ALTER TABLE billing.member DROP CONSTRAINT member_brand_id_fkey;
ALTER TABLE billing.notification DROP CONSTRAINT notification_run_id_fkey,
	DROP CONSTRAINT notification_member_id_fkey;

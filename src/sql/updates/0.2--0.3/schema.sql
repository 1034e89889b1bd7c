-- src/sql/updates/0.2--0.3/schema.sql: in place of src/sql/schema.sql in the
-- upgrade from 0.2, so first of all: the schema billing_internal, and the
-- functions of 0.2 that are not the API moved into it (as objects: the
-- triggers, CHECKs, policies and views that use them follow).  The
-- re-runnable sources then replace them with their 0.3 definitions.
CREATE SCHEMA billing_internal;
COMMENT ON SCHEMA billing_internal IS
	'internal functions of the billing extension (the API is the schema billing); not for direct use';

ALTER FUNCTION billing.buyer_stamp_schedule() SET SCHEMA billing_internal;
ALTER FUNCTION billing.caller_brands() SET SCHEMA billing_internal;
ALTER FUNCTION billing.calling_role() SET SCHEMA billing_internal;
ALTER FUNCTION billing.check_document(text,numeric,numeric) SET SCHEMA billing_internal;
ALTER FUNCTION billing.check_finite(numeric,text,text) SET SCHEMA billing_internal;
ALTER FUNCTION billing.check_issue_delay(interval,text) SET SCHEMA billing_internal;
ALTER FUNCTION billing.check_length(text,integer,text) SET SCHEMA billing_internal;
ALTER FUNCTION billing.check_time_zone(text) SET SCHEMA billing_internal;
ALTER FUNCTION billing.cycle_cmp(billing.cycle,billing.cycle) SET SCHEMA billing_internal;
ALTER FUNCTION billing.cycle_eq(billing.cycle,billing.cycle) SET SCHEMA billing_internal;
ALTER FUNCTION billing.cycle_ge(billing.cycle,billing.cycle) SET SCHEMA billing_internal;
ALTER FUNCTION billing.cycle_gt(billing.cycle,billing.cycle) SET SCHEMA billing_internal;
ALTER FUNCTION billing.cycle_hash(billing.cycle) SET SCHEMA billing_internal;
ALTER FUNCTION billing.cycle_in(cstring) SET SCHEMA billing_internal;
ALTER FUNCTION billing.cycle_le(billing.cycle,billing.cycle) SET SCHEMA billing_internal;
ALTER FUNCTION billing.cycle_lt(billing.cycle,billing.cycle) SET SCHEMA billing_internal;
ALTER FUNCTION billing.cycle_ne(billing.cycle,billing.cycle) SET SCHEMA billing_internal;
ALTER FUNCTION billing.cycle_out(billing.cycle) SET SCHEMA billing_internal;
ALTER FUNCTION billing.cycle_recv(internal) SET SCHEMA billing_internal;
ALTER FUNCTION billing.cycle_send(billing.cycle) SET SCHEMA billing_internal;
ALTER FUNCTION billing.document_currency_check() SET SCHEMA billing_internal;
ALTER FUNCTION billing.document_guard() SET SCHEMA billing_internal;
ALTER FUNCTION billing.document_text_guard() SET SCHEMA billing_internal;
ALTER FUNCTION billing.draft_rows(bigint,bigint,date,date,timestamp with time zone,date,date,bigint) SET SCHEMA billing_internal;
ALTER FUNCTION billing.due_rule_cmp(billing.due_rule,billing.due_rule) SET SCHEMA billing_internal;
ALTER FUNCTION billing.due_rule_eq(billing.due_rule,billing.due_rule) SET SCHEMA billing_internal;
ALTER FUNCTION billing.due_rule_ge(billing.due_rule,billing.due_rule) SET SCHEMA billing_internal;
ALTER FUNCTION billing.due_rule_gt(billing.due_rule,billing.due_rule) SET SCHEMA billing_internal;
ALTER FUNCTION billing.due_rule_hash(billing.due_rule) SET SCHEMA billing_internal;
ALTER FUNCTION billing.due_rule_in(cstring) SET SCHEMA billing_internal;
ALTER FUNCTION billing.due_rule_le(billing.due_rule,billing.due_rule) SET SCHEMA billing_internal;
ALTER FUNCTION billing.due_rule_lt(billing.due_rule,billing.due_rule) SET SCHEMA billing_internal;
ALTER FUNCTION billing.due_rule_ne(billing.due_rule,billing.due_rule) SET SCHEMA billing_internal;
ALTER FUNCTION billing.due_rule_out(billing.due_rule) SET SCHEMA billing_internal;
ALTER FUNCTION billing.due_rule_recv(internal) SET SCHEMA billing_internal;
ALTER FUNCTION billing.due_rule_send(billing.due_rule) SET SCHEMA billing_internal;
ALTER FUNCTION billing.fail_run(bigint,text) SET SCHEMA billing_internal;
ALTER FUNCTION billing.find_schedule(text,text) SET SCHEMA billing_internal;
ALTER FUNCTION billing.finish_run(bigint,boolean,text,integer,integer,integer,numeric,numeric,numeric) SET SCHEMA billing_internal;
ALTER FUNCTION billing.guard_records() SET SCHEMA billing_internal;
ALTER FUNCTION billing.invoice_date_for(text,date,date) SET SCHEMA billing_internal;
ALTER FUNCTION billing.issue_drafts_internal(timestamp with time zone) SET SCHEMA billing_internal;
ALTER FUNCTION billing.keep_master_data_version() SET SCHEMA billing_internal;
ALTER FUNCTION billing.lock_invoices(bigint[],text[],text) SET SCHEMA billing_internal;
ALTER FUNCTION billing.lock_run(bigint,text) SET SCHEMA billing_internal;
ALTER FUNCTION billing.make_drafts(bigint,bigint,bigint,date,date,timestamp with time zone,date,date) SET SCHEMA billing_internal;
ALTER FUNCTION billing.party_check() SET SCHEMA billing_internal;
ALTER FUNCTION billing.plan_rerun(text,text[],timestamp with time zone,text) SET SCHEMA billing_internal;
ALTER FUNCTION billing.plan_scheduled_runs(bigint,timestamp with time zone) SET SCHEMA billing_internal;
ALTER FUNCTION billing.preview_drafts(bigint,bigint,date,date,timestamp with time zone,date,date) SET SCHEMA billing_internal;
ALTER FUNCTION billing.refuse_delete_when_invoiced() SET SCHEMA billing_internal;
ALTER FUNCTION billing.refuse_disabled_run_start() SET SCHEMA billing_internal;
ALTER FUNCTION billing.refuse_disabled_schedule(bigint) SET SCHEMA billing_internal;
ALTER FUNCTION billing.refuse_incomplete_xml(bigint,text[]) SET SCHEMA billing_internal;
ALTER FUNCTION billing.refuse_run_action(billing.invoice_run,text,text) SET SCHEMA billing_internal;
ALTER FUNCTION billing.require_all(bigint[],bigint,text) SET SCHEMA billing_internal;
ALTER FUNCTION billing.require_due_rule_fits(billing.cycle,billing.due_rule) SET SCHEMA billing_internal;
ALTER FUNCTION billing.rerun_target(text,timestamp with time zone,text) SET SCHEMA billing_internal;
ALTER FUNCTION billing.round_amount(numeric,integer,text) SET SCHEMA billing_internal;
ALTER FUNCTION billing.run_invoice_run(bigint) SET SCHEMA billing_internal;
ALTER FUNCTION billing.run_step(text,boolean,timestamp with time zone) SET SCHEMA billing_internal;
ALTER FUNCTION billing.schedule_check() SET SCHEMA billing_internal;
ALTER FUNCTION billing.start_run_worker(bigint) SET SCHEMA billing_internal;
ALTER FUNCTION billing.tax_category(numeric) SET SCHEMA billing_internal;
ALTER FUNCTION billing.uninvoiced_documents(bigint) SET SCHEMA billing_internal;

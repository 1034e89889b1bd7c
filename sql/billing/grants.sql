-- sql/billing/grants.sql: who may call what.  Nothing here grants a role
-- anything: the DBA makes the administrator, application and reader roles
-- from the recipe in README.md ("Security").  What is taken from PUBLIC:
-- the internal functions (they write records or skip the brand checks; the
-- API functions call them as the owner), the API functions themselves (the
-- recipe grants each to the roles that need it), and the brand grants.

REVOKE ALL ON FUNCTION billing.issue_drafts_internal(timestamptz), billing.run_invoice_run(bigint),
	billing.plan_scheduled_runs(bigint, timestamptz), billing.plan_rerun(text, text[], timestamptz, text),
	billing.finish_run(bigint, boolean, text, integer, integer, integer, numeric, numeric, numeric),
	billing.start_run_worker(bigint), billing.cron_setup(text),
	billing.preview_drafts(bigint, bigint, date, date, timestamptz, date, date),
	billing.lock_invoices(bigint[], text[], text), billing.require_all(bigint[], bigint, text),
	billing.find_schedule(text, text),
	billing.rerun_target(text, timestamptz, text),
	billing.guard_records()
	FROM PUBLIC;

-- the API: granted by the README's recipe, not to PUBLIC
REVOKE ALL ON FUNCTION billing.issue_drafts(timestamptz),
	billing.rerun_invoice_run(text, text[], boolean, timestamptz, text),
	billing.preview_run(text, timestamptz, text),
	billing.cancel_run(bigint, boolean),
	billing.confirm_invoices(bigint[]), billing.delete_drafts(bigint[]),
	billing.quarantine_invoices(bigint[], text), billing.reject_invoices(bigint[], text),
	billing.cancel_invoices(bigint[]),
	billing.grant_brand(text, regrole), billing.revoke_brand(text, regrole)
	FROM PUBLIC;

-- every role reads its own brand grants (row level security shows it no
-- other): the brand walls' policies read them as the querying role
GRANT SELECT ON billing.brand_grant TO PUBLIC;

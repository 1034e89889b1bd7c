-- sql/billing/grants.sql: who may call what

REVOKE ALL ON FUNCTION billing.issue_drafts_internal(timestamptz), billing.run_invoice_run(bigint),
	billing.plan_scheduled_runs(bigint, timestamptz), billing.plan_rerun(text, text[], timestamptz, text),
	billing.finish_run(bigint, boolean, text, integer, integer, integer, numeric, numeric, numeric),
	billing.start_run_worker(bigint), billing.cron_setup(text),
	billing.preview_drafts(bigint, bigint, date, date, timestamptz, date, date)
	FROM PUBLIC;

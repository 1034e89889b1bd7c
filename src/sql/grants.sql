-- src/sql/grants.sql: who may call what.  Nothing here grants a role
-- anything: the DBA makes the administrator, application and reader roles
-- from the recipe in README.md ("Security").  What is taken from PUBLIC:
-- the internal functions (they write records or skip the brand checks; the
-- API functions call them as the owner), the API functions themselves (the
-- recipe grants each to the roles that need it), and the brand grants.

-- (functions named without their arguments, which other releases may extend)
REVOKE ALL ON FUNCTION billing.issue_drafts_internal, billing.issue_drafts_run, billing.run_invoice_run,
	billing.record_failed_run, billing.commit_failed_run, billing.raise_failed_runs, billing.server_log,
	billing.raise_error,
	billing.plan_scheduled_runs, billing.plan_rerun, billing.finish_run,
	billing.start_run_worker, billing.cron_setup, billing.preview_drafts,
	billing.lock_invoices, billing.require_all, billing.find_schedule, billing.rerun_target,
	billing.guard_records, billing.lock_run, billing.refuse_run_action,
	billing.refuse_disabled_schedule, billing.refuse_incomplete_xml
	FROM PUBLIC;
-- the locks and the dead-run check: a caller could hold its buyers' locks,
-- or learn of other brands' live runs; the run functions call them as the owner
REVOKE ALL ON FUNCTION billing.lock_buyers, billing.fail_dead_runs, billing.live_run_workers,
	billing.dead_runs, billing.health_cron
	FROM PUBLIC;

-- the mailer (mail.sql): started and stopped by the DBA or the recipe's
-- administrator; the rest is internal
REVOKE ALL ON FUNCTION billing.start_mailer, billing.stop_mailer, billing.wake_mailer,
	billing.retry_notifications, billing.run_mail, billing.notification_mail,
	billing.mail_amount, billing.mail_header FROM PUBLIC;

-- billing.verify reads every brand's rows: the DBA's (a superuser's) check
REVOKE ALL ON FUNCTION billing.verify FROM PUBLIC;

-- internal helpers the run, the preview, the XML and the run actions call as
-- the owner: the SQL a run is made of is not an API
REVOKE ALL ON FUNCTION billing.draft_rows, billing.round_amount, billing.invoice_date_for,
	billing.tax_category, billing.invoice_series_year, billing.invoice_number_text,
	billing.run_step(text, boolean, timestamptz),
	billing.run_step(text, boolean, timestamptz, integer, bigint)
	FROM PUBLIC;
-- the PDF's (pdf.sql): invoice_pdf and run_pdf call them as the owner
REVOKE ALL ON FUNCTION billing.pdf_render, billing.pdf_invoice_data, billing.pdf_refuse_incomplete,
	billing.pdf_rfc2231, billing.pdf_mail_message FROM PUBLIC;

-- the API: granted by the README's recipe, not to PUBLIC
REVOKE ALL ON FUNCTION billing.issue_drafts, billing.rerun_invoice_run, billing.preview_run,
	billing.cancel_run, billing.confirm_invoices, billing.delete_drafts,
	billing.quarantine_invoices, billing.reject_invoices, billing.cancel_invoices,
	billing.grant_brand, billing.revoke_brand,
	billing.invoice_xml, billing.run_xml, billing.invoices_xml, billing.invoice_pdf, billing.run_pdf, billing.mail_invoices,
	billing.set_run_description, billing.disable_run, billing.enable_run, billing.process_run,
	billing.assert_healthy
	FROM PUBLIC;

-- every role reads its own brand grants (row level security shows it no
-- other): the brand walls' policies read them as the querying role
GRANT SELECT ON billing.brand_grant TO PUBLIC;

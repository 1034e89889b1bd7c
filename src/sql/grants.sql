-- src/sql/grants.sql: who may call what.  Nothing here grants a role
-- anything: the DBA makes the administrator, application and reader roles
-- from the recipe in README.md ("Security").  What is taken from PUBLIC:
-- the internal functions (they write records or skip the brand checks; the
-- API functions call them as the owner), the API functions themselves (the
-- recipe grants each to the roles that need it), and the brand grants.

-- billing_internal (schema.sql) is not the API: none of its functions is
-- executable by PUBLIC, but for what the types, CHECKs, row level security
-- policies and views evaluate as the querying role.  Those are pure
-- functions of their arguments, or of the caller's own brand grants, and
-- write nothing.  (Trigger functions need no EXECUTE to fire.)
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA billing_internal FROM PUBLIC;
-- USAGE lets a name be looked up (the triggers that run as the writing
-- role call checks by name); it executes nothing, and the schema is on no
-- search_path
GRANT USAGE ON SCHEMA billing_internal TO PUBLIC;
-- the types' input, output and operators
GRANT EXECUTE ON FUNCTION billing_internal.cycle_in, billing_internal.cycle_out,
	billing_internal.cycle_recv, billing_internal.cycle_send,
	billing_internal.cycle_eq, billing_internal.cycle_ne, billing_internal.cycle_lt,
	billing_internal.cycle_le, billing_internal.cycle_gt, billing_internal.cycle_ge,
	billing_internal.cycle_cmp, billing_internal.cycle_hash,
	billing_internal.due_rule_in, billing_internal.due_rule_out,
	billing_internal.due_rule_recv, billing_internal.due_rule_send,
	billing_internal.due_rule_eq, billing_internal.due_rule_ne, billing_internal.due_rule_lt,
	billing_internal.due_rule_le, billing_internal.due_rule_gt, billing_internal.due_rule_ge,
	billing_internal.due_rule_cmp, billing_internal.due_rule_hash TO PUBLIC;
-- the tables' CHECKs
GRANT EXECUTE ON FUNCTION billing_internal.require_due_rule_fits, billing_internal.check_time_zone,
	billing_internal.check_issue_delay, billing_internal.check_document, billing_internal.check_finite,
	billing_internal.check_length, billing_internal.check_document_limits,
	billing_internal.check_amount_limit TO PUBLIC;
-- the brand walls' policies, and the views (each through those walls)
GRANT EXECUTE ON FUNCTION billing_internal.calling_role, billing_internal.caller_brands,
	billing_internal.uninvoiced_documents, billing_internal.run_phases,
	billing_internal.xml_missing_brand, billing_internal.xml_missing_buyer,
	billing_internal.xml_missing_assignments TO PUBLIC;

-- the locks and the dead-run check of the API: a caller could learn of
-- other brands' live runs; the recipe grants dead_runs to the reader
REVOKE ALL ON FUNCTION billing.fail_dead_runs, billing.dead_runs FROM PUBLIC;

-- the mailer (mail.sql): started and stopped by the DBA or the recipe's
-- administrator
REVOKE ALL ON FUNCTION billing.start_mailer, billing.stop_mailer,
	billing.retry_notifications FROM PUBLIC;

-- billing.verify reads every brand's rows: the DBA's (a superuser's) check
REVOKE ALL ON FUNCTION billing.verify FROM PUBLIC;

-- the API: granted by the README's recipe, not to PUBLIC
REVOKE ALL ON FUNCTION billing.issue_drafts, billing.rerun_invoice_run, billing.preview_run,
	billing.cancel_run, billing.confirm_invoices, billing.delete_drafts,
	billing.quarantine_invoices, billing.reject_invoices, billing.cancel_invoices,
	billing.grant_brand, billing.revoke_brand,
	billing.invoice_xml, billing.run_xml, billing.invoices_xml,
	billing.set_run_description, billing.disable_run, billing.enable_run, billing.process_run,
	billing.assert_healthy, billing.cron_setup
	FROM PUBLIC;

-- every role reads its own brand grants (row level security shows it no
-- other): the brand walls' policies read them as the querying role
GRANT SELECT ON billing.brand_grant TO PUBLIC;

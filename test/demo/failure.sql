-- test/demo/failure.sql: the demo's loud end (issue 12).  A site rule makes
-- a rerun fail; billing.health turns red and names the call that fixes
-- it; sato, who is notified of the rerun, is mailed the failure.  The fix
-- is then run as the view wrote it (a rerun nobody asked to be mailed
-- about: no further mail).  Run by
-- test/demo.sh after the mailer has started against a local SMTP sink.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

\echo '== billing.health before (one row per problem; none: healthy)'
SELECT severity, brand, "check", object, fix FROM billing.health ORDER BY severity, "check";

\echo '== a late delivery for C003, and a site rule that refuses C003''s drafts today'
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, 1, 'delivery_invoice', upper(billing.last_closed_period('monthly:20', current_date)) - 3,
       7700, 0.10, 'C003-LATE'
FROM billing.buyer b WHERE b.code = 'C003';
CREATE FUNCTION public.demo_site_rule() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.buyer_id = (SELECT id FROM billing.buyer WHERE code = 'C003') THEN
		RAISE EXCEPTION 'site rule: C003 is under credit review';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER demo_site_rule BEFORE INSERT ON billing.invoice
	FOR EACH ROW EXECUTE FUNCTION public.demo_site_rule();

\echo '== the DBA re-runs M20: the run fails, an ERROR (P0001) naming it; the failed run stays committed'
\set ON_ERROR_STOP off
\set SHOW_CONTEXT never
SET client_min_messages = error;
SELECT billing.rerun_invoice_run('M20', notify => '{sato}') AS failed_run;
\set SHOW_CONTEXT errors
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT run, step, last_error FROM billing.run_report WHERE step = 'failed' ORDER BY run;

\echo '== billing.health is red: the failed run and the stranded document, each with its fix'
SELECT severity, brand, "check", object, detail, fix FROM billing.health
WHERE "check" IN ('failed_run', 'stranded_documents') ORDER BY "check";
\echo '== billing.assert_healthy(), as a monitoring job calls it'
\set ON_ERROR_STOP off
SELECT billing.assert_healthy();
\set ON_ERROR_STOP on

\echo '== the rule is lifted and the failed run''s fix is run as billing.health wrote it'
DROP TRIGGER demo_site_rule ON billing.invoice;
DROP FUNCTION public.demo_site_rule();
SELECT fix FROM billing.health WHERE "check" = 'failed_run' LIMIT 1 \gset
\echo :fix
:fix ;
SELECT count(*) AS failed_or_stranded_left FROM billing.health WHERE "check" IN ('failed_run', 'stranded_documents');

-- The views a clerk reads at a glance: billing.invoice_list (the Japanese
-- closing-date layout), billing.run_report (one row per run) and
-- billing.document_status (why a document is or is not on a draft), on the
-- stories of invoice_xml and run_steps.
--
-- A database of its own, where those two suites run first, quietly (their
-- output is checked by their own suites; an error would still show here),
-- so that this one reads their rows whatever ran before it.
SELECT current_database() AS suite_db \gset
CREATE DATABASE billing_clerk_views;
\c billing_clerk_views
SET client_min_messages = warning;
CREATE EXTENSION billing;
-- err(q), as test_setup makes it in the suites' database
CREATE FUNCTION public.err(q text, OUT state text, OUT message text,
                           OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	state := 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\o /dev/null
\set story :abs_srcdir '/sql/invoice_xml.sql'
\i :story
SET client_min_messages = warning;
\set story :abs_srcdir '/sql/run_steps.sql'
\i :story
\o
\set ECHO all
RESET ALL;
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
-- ids that do not depend on the suites before this one
SELECT setval('billing.invoice_run_id_seq', 3000) IS NOT NULL AS run_ids_from_3001,
       setval('billing.invoice_id_seq', 3000) IS NOT NULL AS invoice_ids_from_3001,
       setval('billing.buyer_id_seq', 3000) IS NOT NULL AS buyer_ids_from_3001,
       setval('billing.document_id_seq', 30000) IS NOT NULL AS document_ids_from_30001;

-- each reads with the caller's rights, and every column says what it is
SELECT c.relname, c.reloptions, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented,
       count(*) FILTER (WHERE col_description(c.oid, a.attnum) IS NULL) AS columns_without_comment
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
WHERE c.relnamespace = 'billing'::regnamespace AND c.relname IN ('invoice_list', 'run_report', 'document_status')
GROUP BY c.oid, c.relname, c.reloptions ORDER BY c.relname;

-- the invoices of brand QI in the closing-date layout
SELECT buyer, buyer_name, schedule, cutoff_date, invoice_date, due_date, status,
       previous_billed AS "前回御請求額", deposit AS "御入金額", carried_over AS "繰越金額",
       purchases AS "今回御買上額", tax AS "消費税額", total AS "今回御請求額", bank_account
FROM billing.invoice_list WHERE brand = 'QI' ORDER BY schedule, buyer, total;

-- a run that fails: its error is the report's last error
CREATE FUNCTION public.disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'could not extend file: No space left on device (simulated)';
END $$;
CREATE TRIGGER disk_full BEFORE INSERT ON billing.invoice FOR EACH ROW EXECUTE FUNCTION public.disk_full();
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT id, brand_id, 'delivery_invoice', '2026-10-30', 4000, 0.08, 'RS1-D3' FROM billing.buyer WHERE code = 'RS1';
SELECT billing.rerun_invoice_run('RS-EOM', as_of => '2026-11-06 10:00+09', brand => 'RS',
                                  raise_on_failure => false) AS failed_run \gset
DROP TRIGGER disk_full ON billing.invoice;
DROP FUNCTION public.disk_full();

-- the run report of brand RS: what each run did, where it stands, its
-- totals per tax rate, its last error and how many invoices have XML
SELECT run, kind, period, step, requested_by = current_user AS requested_by_me,
       duration >= '0' AS timed, buyers, invoices_issued, documents, drafts, confirmed, quarantined,
       rejected, cancelled, billed_total, tax_by_rate, last_error, xml_count
FROM billing.run_report WHERE brand = 'RS' ORDER BY run;
SELECT run, step, tax_by_rate, xml_count FROM billing.run_report WHERE brand = 'QI' ORDER BY run;

-- document status.  Cancel run RS's last drafts for good (their documents
-- are never to be invoiced), add a non-billable delivery and a buyer with
-- no schedule; RS1-D3 waits for its run (the failed one issued nothing).
SELECT step FROM billing.cancel_run((SELECT max(run) FROM billing.run_report
                                       WHERE brand = 'RS' AND step = 'drafts issued' AND drafts > 0),
                                      reopen => false);
INSERT INTO billing.buyer (brand_id, code, name)
SELECT id, 'R9', 'R9 (no schedule yet)' FROM billing.brand WHERE code = 'RS';
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, billable, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', '2026-10-12', v.billable, 900, 0.10, v.ref
FROM billing.buyer b, (VALUES ('RS3', false, 'RS3-NB'), ('R9', true, 'R9-D1')) AS v(code, billable, ref)
WHERE b.code = v.code;
SELECT buyer, kind, reference, document_date, amount, status,
       regexp_replace(explanation, '(invoice|draft) [0-9]+', '\1 N') AS explanation
FROM billing.document_status WHERE brand IN ('QI', 'RS') ORDER BY brand, buyer, document_date, reference;
-- one row per document, and every status comes from the one eligibility rule
SELECT (SELECT count(*) FROM billing.document_status) = (SELECT count(*) FROM billing.document) AS one_row_each,
       (SELECT count(*) FROM billing.document_status WHERE status IN ('uninvoiced', 'no schedule applied'))
       = (SELECT count(*) FROM billing.uninvoiced_document) AS uninvoiced_is_eligible,
       (SELECT count(*) FROM billing.document_status WHERE status IS NULL) AS without_status;

\c :suite_db
DROP DATABASE billing_clerk_views;

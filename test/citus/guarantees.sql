-- test/citus/guarantees.sql: on the Citus coordinator, after
-- billing.distribute() refused, the guarantees the red team tries: direct
-- writes refused, each recipe role kept out of another brand, re-keying
-- refused.  Run by test/citus/run.sh (psql, output diffed with
-- expected/guarantees.out) after the README's role recipe.
\set VERBOSITY terse
SET datestyle = ISO, YMD;
-- the helpers below are this session's, not the workers'
SET citus.enable_ddl_propagation = off;
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END
$$;

-- two brands, one buyer each, a closed period issued
SELECT count(*) AS runs FROM (
	SELECT billing.issue_drafts('2026-11-21 12:00+09', raise_on_failure => true)) r;
SELECT b.code, count(i.*) AS invoices, sum(i.total) AS total
FROM billing.brand b LEFT JOIN billing.invoice i ON i.brand_id = b.id
GROUP BY b.code ORDER BY b.code;

-- direct writes: refused for the superuser (the write guard) ...
SELECT pg_temp.err($q$INSERT INTO billing.invoice_run (brand_id, schedule_id, cutoff_date, kind)
	SELECT brand_id, id, '2026-12-20', 'rerun' FROM billing.schedule LIMIT 1$q$) AS insert_run;
SELECT pg_temp.err($q$UPDATE billing.invoice SET status = 'confirmed'$q$) AS status_change;
SELECT pg_temp.err($q$DELETE FROM billing.document_link$q$) AS link_delete;
SELECT pg_temp.err($q$TRUNCATE billing.document_link$q$) AS link_truncate;
SELECT pg_temp.err($q$UPDATE billing.buyer SET billing_balance = 1$q$) AS balance_change;
-- ... and for each recipe role (no privilege on the records)
SET ROLE acme_app;
SELECT pg_temp.err($q$DELETE FROM billing.document_link$q$) AS app_link_delete;
SELECT pg_temp.err($q$UPDATE billing.invoice SET total = 0$q$) AS app_invoice_update;
SET ROLE acme_admin;
SELECT pg_temp.err($q$INSERT INTO billing.invoice_tax_line SELECT * FROM billing.invoice_tax_line$q$) AS admin_tax_insert;
RESET ROLE;

-- re-keying: a linked document moved to another buyer or period, a buyer
-- moved to another brand
SELECT pg_temp.err($q$UPDATE billing.document SET buyer_id = (SELECT id FROM billing.buyer WHERE code = 'CB1')
	WHERE reference = 'CA1-1'$q$) AS rekey_document_buyer;
SELECT pg_temp.err($q$UPDATE billing.document SET document_date = '2026-12-01' WHERE reference = 'CA1-1'$q$) AS redate_linked;
SELECT pg_temp.err($q$UPDATE billing.buyer SET brand_id = (SELECT id FROM billing.brand WHERE code = 'OTHER')
	WHERE code = 'CA1'$q$) AS rekey_buyer_brand;

-- cross-brand reads, as each recipe role of ACME: OTHER's rows do not exist
CREATE TEMP TABLE other_ids AS
SELECT (SELECT id FROM billing.brand WHERE code = 'OTHER') AS other_brand,
       (SELECT i.id FROM billing.invoice i JOIN billing.brand b ON b.id = i.brand_id WHERE b.code = 'OTHER') AS other_invoice,
       (SELECT r.id FROM billing.invoice_run r JOIN billing.brand b ON b.id = r.brand_id WHERE b.code = 'OTHER' ORDER BY r.id DESC LIMIT 1) AS other_run;
GRANT SELECT ON other_ids TO billing_reader;
CREATE FUNCTION pg_temp.seen() RETURNS TABLE (what text, own bigint, other bigint) LANGUAGE sql AS $$
	SELECT 'buyer', count(*) FILTER (WHERE brand_id <> o.other_brand), count(*) FILTER (WHERE brand_id = o.other_brand) FROM billing.buyer, other_ids o
	UNION ALL SELECT 'document', count(*) FILTER (WHERE brand_id <> o.other_brand), count(*) FILTER (WHERE brand_id = o.other_brand) FROM billing.document, other_ids o
	UNION ALL SELECT 'invoice', count(*) FILTER (WHERE brand_id <> o.other_brand), count(*) FILTER (WHERE brand_id = o.other_brand) FROM billing.invoice, other_ids o
	UNION ALL SELECT 'invoice_tax_line', count(*) FILTER (WHERE invoice_id <> o.other_invoice), count(*) FILTER (WHERE invoice_id = o.other_invoice) FROM billing.invoice_tax_line, other_ids o
	UNION ALL SELECT 'document_link', count(*) FILTER (WHERE invoice_id <> o.other_invoice), count(*) FILTER (WHERE invoice_id = o.other_invoice) FROM billing.document_link, other_ids o
	UNION ALL SELECT 'invoice_run', count(*) FILTER (WHERE brand_id <> o.other_brand), count(*) FILTER (WHERE brand_id = o.other_brand) FROM billing.invoice_run, other_ids o
	UNION ALL SELECT 'invoice_list', count(*) FILTER (WHERE brand <> 'OTHER'), count(*) FILTER (WHERE brand = 'OTHER') FROM billing.invoice_list
$$;
GRANT EXECUTE ON FUNCTION pg_temp.seen() TO billing_reader;
-- the superuser sees both brands' rows (so a 0 below is a wall, not an empty table)
SELECT 'postgres' AS role, * FROM pg_temp.seen();
SET ROLE acme_reader;
SELECT 'acme_reader' AS role, * FROM pg_temp.seen();
SELECT pg_temp.err(format('SELECT billing.invoice_xml(%s)', other_invoice)) AS reader_other_xml FROM other_ids;
SELECT pg_temp.err(format('SELECT * FROM billing.run_xml(%s)', other_run)) AS reader_other_run_xml FROM other_ids;
SELECT pg_temp.err($q$SELECT * FROM billing.preview_run('M20', brand => 'OTHER', period => '2026-11-01')$q$) AS reader_other_preview;
SET ROLE acme_app;
SELECT 'acme_app' AS role, * FROM pg_temp.seen();
SELECT pg_temp.err(format('SELECT * FROM billing.confirm_invoices(%s)', other_invoice)) AS app_other_confirm FROM other_ids;
SET ROLE acme_admin;
SELECT 'acme_admin' AS role, * FROM pg_temp.seen();
SELECT pg_temp.err(format('SELECT billing.cancel_run(%s)', other_run)) AS admin_other_cancel FROM other_ids;
SELECT pg_temp.err($q$SELECT billing.rerun_invoice_run('M20', brand => 'OTHER', period => '2026-11-01')$q$) AS admin_other_rerun;
RESET ROLE;

-- and the records are whole
SELECT count(*) AS violations FROM billing.verify();

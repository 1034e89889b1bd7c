-- DROP EXTENSION billing keeps the money (issue 11, item 10).  The tables
-- are members of the extension, so dropping it drops every invoice; it is
-- refused while any invoice exists, unless a superuser sets
-- billing.allow_drop = on first.  In a database of its own, so that the
-- suites' database keeps its extension.
\set regress_db :DBNAME
CREATE DATABASE regress_billing_uninstall;
\c regress_billing_uninstall
SET client_min_messages = warning;
SET datestyle = ISO, YMD;
-- err(q), as in test_setup, for this database
CREATE FUNCTION pg_temp.err(q text, OUT state text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	state := 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;

-- an install without invoices drops as any extension does
CREATE EXTENSION billing;
DROP EXTENSION billing;
SELECT count(*) AS billing_tables FROM pg_class WHERE relnamespace = 'billing'::regnamespace;
CREATE EXTENSION billing;

-- one invoice
INSERT INTO billing.brand (code, name) VALUES ('UN', 'Uninstall KK');
INSERT INTO billing.schedule (brand_id, code, name, cycle) SELECT id, 'EOM', 'EOM', 'monthly:eom' FROM billing.brand;
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at)
SELECT b.id, 'U1', 'Buyer 1', s.id, '2026-09-01' FROM billing.brand b JOIN billing.schedule s ON s.brand_id = b.id;
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT id, brand_id, 'delivery_invoice', '2026-10-10', 1000, 0.10, 'U1-1' FROM billing.buyer;
SELECT billing.rerun_invoice_run('EOM', as_of => '2026-11-02 10:00+09') > 0 AS ran;

-- every statement that would drop it is refused, and changes nothing
SELECT * FROM pg_temp.err('DROP EXTENSION billing');
SELECT * FROM pg_temp.err('DROP EXTENSION billing CASCADE');
SELECT * FROM pg_temp.err('DROP EXTENSION IF EXISTS no_such_extension, billing');
SELECT * FROM pg_temp.err('DROP SCHEMA billing CASCADE');
SELECT count(*) AS invoices FROM billing.invoice;
-- other extensions and schemas drop as before
CREATE SCHEMA scratch;
DROP SCHEMA scratch;

-- a role that may not drop it gets PostgreSQL's own error, and no count
CREATE ROLE regress_uninstall_tenant;
SET ROLE regress_uninstall_tenant;
SELECT * FROM pg_temp.err('DROP EXTENSION billing');
SELECT * FROM pg_temp.err('SET billing.allow_drop = on');
RESET ROLE;
DROP ROLE regress_uninstall_tenant;

-- a superuser's explicit consent
SET billing.allow_drop = on;
DROP EXTENSION billing;
RESET billing.allow_drop;
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'billing';
SELECT count(*) AS event_triggers FROM pg_event_trigger WHERE evtname = 'billing_keep_invoices';

\c :regress_db
DROP DATABASE regress_billing_uninstall;

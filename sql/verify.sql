-- billing.verify(): nothing on a database with the invoice_xml and
-- run_steps stories (confirmed, rejected, cancelled and per-document
-- invoices, credit notes, payments, balances carried), then one row per
-- violation for each kind of damage a restore with --disable-triggers or a
-- careless repair could leave.  Each damage is made with the triggers off
-- (session_replication_role = replica, as pg_restore --disable-triggers
-- does), inside a transaction that is rolled back.
--
-- A database of its own, where those two suites run first, quietly (their
-- output is checked by their own suites; an error would still show here):
-- billing.verify() reads every brand, and no other suite's rows are this
-- one's business.
SELECT current_database() AS suite_db \gset
CREATE DATABASE billing_verify;
\c billing_verify
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

SELECT count(*) AS invoices, count(DISTINCT brand_id) AS brands,
       count(*) FILTER (WHERE status = 'confirmed') AS confirmed
FROM billing.invoice;
SELECT (SELECT count(*) FROM billing.document_link) AS links,
       (SELECT count(*) FROM billing.invoice_tax_line) AS tax_lines,
       (SELECT count(*) FROM billing.buyer WHERE billing_balance <> 0) AS buyers_with_a_balance;
-- healthy: no row
SELECT * FROM billing.verify();

-- not for PUBLIC: it reads every brand's rows
CREATE ROLE verify_nobody;
SET ROLE verify_nobody;
SELECT * FROM err('SELECT * FROM billing.verify()');
RESET ROLE;
DROP ROLE verify_nobody;

-- a new buyer's opening balance is its balance as given; it never moves
INSERT INTO billing.brand (code, name) VALUES ('VFY', 'Verify KK');
INSERT INTO billing.buyer (brand_id, code, name, billing_balance)
SELECT id, 'VB1', 'opening 5000', 5000 FROM billing.brand WHERE code = 'VFY';
INSERT INTO billing.buyer (brand_id, code, name, billing_balance, opening_balance)
SELECT id, 'VB2', 'migrated', 7000, 2000 FROM billing.brand WHERE code = 'VFY';
SELECT code, billing_balance, opening_balance FROM billing.buyer WHERE code IN ('VB1', 'VB2') ORDER BY code;
SELECT state, message FROM err($$UPDATE billing.buyer SET opening_balance = 0 WHERE code = 'VB1'$$);
-- VB2 was given an opening balance its balance does not match: reported
SELECT invariant, relation, detail FROM billing.verify();
DELETE FROM billing.buyer WHERE code IN ('VB1', 'VB2');
DELETE FROM billing.brand WHERE code = 'VFY';

-- the damage: pick a confirmed invoice with documents and tax lines, and
-- the buyer with it
SELECT i.buyer_id AS vb, i.id AS vi, min(l.document_id) AS vd, max(l.document_id) AS vd2, min(t.tax_rate) AS vr
FROM billing.invoice i
JOIN billing.document_link l ON l.buyer_id = i.buyer_id AND l.invoice_id = i.id
JOIN billing.invoice_tax_line t ON t.buyer_id = i.buyer_id AND t.invoice_id = i.id
WHERE i.status = 'confirmed' AND i.document_count > 1
GROUP BY i.buyer_id, i.id ORDER BY i.id LIMIT 1
\gset
BEGIN;
SET LOCAL session_replication_role = replica;
SET LOCAL billing.maintenance = on;
-- a linked document lost (as if its table were restored without it)
DELETE FROM billing.document WHERE buyer_id = :vb AND id = :vd;
-- a tax line changed by hand
UPDATE billing.invoice_tax_line SET tax = tax + 1 WHERE buyer_id = :vb AND invoice_id = :vi AND tax_rate = :vr;
-- a link given another brand by hand (its brand wall would show it there)
UPDATE billing.document_link SET brand_id = brand_id + 1000 WHERE buyer_id = :vb AND document_id = :vd2;
-- a balance changed by hand
UPDATE billing.buyer SET billing_balance = billing_balance + 100 WHERE id = :vb;
-- a run left running with no worker
INSERT INTO billing.invoice_run (brand_id, schedule_id, kind, period, cutoff_date, issue_at, as_of,
                                 invoice_date, status)
SELECT s.brand_id, s.id, 'rerun', daterange('2020-01-01', '2020-02-01'), '2020-01-31', now(), now(),
       '2020-01-31', 'running'
FROM billing.schedule s JOIN billing.buyer b ON b.schedule_id = s.id WHERE b.id = :vb
RETURNING id AS vrun
\gset
-- (the run's id depends on how many runs the stories made)
SELECT invariant, relation, replace(key, :'vrun', 'RUN') AS key,
       replace(detail, 'run ' || :'vrun', 'run RUN') AS detail
FROM billing.verify() ORDER BY 1, 3;
ROLLBACK;
-- healthy again
SELECT count(*) AS violations FROM billing.verify();

\c :suite_db
DROP DATABASE billing_verify;

-- Keys never move (issue 11, item 4).  No primary key of the extension's
-- tables changes, for any role of the README's recipe nor for a superuser,
-- except under the logged maintenance switch; a linked document keeps
-- everything a run read.  Every re-keying path of the issue is tried by
-- each recipe role that has the right to update the table, and by a
-- superuser:
--   C1  re-keying a linked document (it would be billed twice), and
--       switching never_invoice back by re-keying;
--   H4  swapping bank-account ids (the payee of confirmed invoices would
--       change);
--   re-keying a buyer with only balance-only invoices (they would be
--       orphaned, and a new buyer given the old id would inherit them);
--   schedules, members, runs, brands, and rows nothing refers to yet.
SET search_path = public, billing;
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
SET client_min_messages = warning;

-- brand KACME: schedule M20; accounts A-MAIN (the buyers' default when
-- invoiced), A-NEW (their default since) and EVIL; buyer A1 with
-- deliveries, A3 with only an opening balance; brand KBETA beside it
INSERT INTO brand (code, name) VALUES ('KACME', 'Keys Acme KK'), ('KBETA', 'Keys Beta KK');
SELECT id AS acme FROM brand WHERE code = 'KACME' \gset
INSERT INTO schedule (brand_id, code, name, cycle) VALUES (:acme, 'M20', 'the 20th', 'monthly:20'),
	(:acme, 'SPARE', 'spare', 'daily');
INSERT INTO bank_account (brand_id, code, bank_name, account_number, account_holder)
VALUES (:acme, 'A-MAIN', 'Mizuho', '1111111', 'Keys Acme KK'), (:acme, 'A-NEW', 'Mizuho', '2222222', 'Keys Acme KK'),
	(:acme, 'EVIL', 'Elsewhere', '6666666', 'Mallory');
SELECT id AS main_account FROM bank_account WHERE brand_id = :acme AND code = 'A-MAIN' \gset
INSERT INTO member (brand_id, code, name, email) VALUES (:acme, 'sato', 'Sato', 'sato@kacme.example'),
	(:acme, 'idle', 'Idle', 'idle@kacme.example');
INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at, default_bank_account_id, billing_balance)
SELECT :acme, v.code, v.code, s.id, '2026-09-01 09:00', a.id, v.balance
FROM (VALUES ('A1', 0), ('A2', 0), ('A3', 5000)) AS v(code, balance), schedule s, bank_account a
WHERE s.brand_id = :acme AND s.code = 'M20' AND a.brand_id = :acme AND a.code = 'A-MAIN';
INSERT INTO buyer (brand_id, code, name) VALUES (:acme, 'NEW', 'nothing refers to it');
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, :acme, 'delivery_invoice', '2026-10-05', 100000, 0.10, 'A1-D1' FROM buyer b
WHERE b.brand_id = :acme AND b.code = 'A1';
-- the October run: A1's delivery and A3's balance, both confirmed
SELECT rerun_invoice_run('M20', notify => '{sato}', as_of => '2026-10-21 10:00+09', brand => 'KACME') AS run1 \gset
SELECT count(*) AS confirmed FROM confirm_invoices(VARIADIC ARRAY(SELECT id FROM invoice WHERE run_id = :run1));
-- November: A2's delivery is drafted, and its run cancelled for good
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, :acme, 'delivery_invoice', '2026-11-05', 7000, 0.10, 'A2-D1' FROM buyer b
WHERE b.brand_id = :acme AND b.code = 'A2';
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, :acme, 'delivery_invoice', '2026-12-05', 300, 0.10, 'A2-FREE' FROM buyer b
WHERE b.brand_id = :acme AND b.code = 'A2';
SELECT rerun_invoice_run('M20', as_of => '2026-11-21 10:00+09', brand => 'KACME') AS run2 \gset
SELECT step FROM cancel_run(:run2, reopen => false);
-- the buyers pay into A-NEW from now on: only invoices refer to A-MAIN
UPDATE buyer SET default_bank_account_id = (SELECT id FROM bank_account WHERE brand_id = :acme AND code = 'A-NEW')
WHERE brand_id = :acme AND default_bank_account_id IS NOT NULL;
SELECT b.code AS buyer, i.status, i.document_count, i.previous_billed, i.total, a.code AS bank_account
FROM invoice i JOIN buyer b ON b.id = i.buyer_id JOIN bank_account a ON a.id = i.bank_account_id
WHERE i.brand_id = :acme ORDER BY i.id;
SELECT d.reference, d.never_invoice, l.invoice_id IS NOT NULL AS linked
FROM document d LEFT JOIN document_link l ON l.buyer_id = d.buyer_id AND l.document_id = d.id
WHERE d.brand_id = :acme ORDER BY d.reference;

-- the recipe (README.md, "Roles") for KACME
CREATE ROLE regress_keys_reader NOLOGIN;
CREATE ROLE regress_keys_app NOLOGIN IN ROLE regress_keys_reader;
CREATE ROLE regress_keys_admin NOLOGIN IN ROLE regress_keys_reader;
GRANT USAGE ON SCHEMA billing TO regress_keys_reader;
GRANT SELECT ON billing.brand, billing.schedule, billing.bank_account, billing.member,
	billing.buyer, billing.document, billing.invoice, billing.invoice_tax_line,
	billing.document_link, billing.invoice_run, billing.run_log, billing.notification,
	billing.uninvoiced_document, billing.invoice_list, billing.run_report, billing.document_status,
	billing.master_data_version TO regress_keys_reader;
GRANT INSERT, UPDATE, DELETE ON billing.buyer, billing.document TO regress_keys_app;
GRANT USAGE ON SEQUENCE billing.buyer_id_seq, billing.document_id_seq TO regress_keys_app;
GRANT INSERT, UPDATE, DELETE ON billing.schedule, billing.buyer, billing.bank_account, billing.member
	TO regress_keys_admin;
GRANT USAGE ON SEQUENCE billing.schedule_id_seq, billing.buyer_id_seq, billing.bank_account_id_seq,
	billing.member_id_seq TO regress_keys_admin;
CREATE ROLE regress_kacme NOLOGIN;
SELECT billing.grant_brand('KACME', 'regress_kacme') AS granted;
CREATE ROLE regress_kacme_app LOGIN IN ROLE regress_keys_app, regress_kacme;
CREATE ROLE regress_kacme_admin LOGIN IN ROLE regress_keys_admin, regress_kacme;

-- attempt_as(role, q): q run as role ('' for the superuser), and what it
-- did: rows it changed, or the error it raised
CREATE FUNCTION pg_temp.attempt_as(who text, q text, OUT n bigint, OUT state text, OUT message text)
LANGUAGE plpgsql AS $$
BEGIN
	IF who <> '' THEN
		PERFORM set_config('role', who, true);
	END IF;
	BEGIN
		EXECUTE q;
		GET DIAGNOSTICS n = ROW_COUNT;
		state := 'ok';
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		n := 0;
	END;
	PERFORM set_config('role', 'none', true);
END
$$;

-- what a re-key would change, digested before the attempts
CREATE TEMP VIEW kacme_rows AS
SELECT md5(string_agg(x, ',' ORDER BY x)) AS digest FROM (
	SELECT t::text FROM billing.brand t WHERE t.code IN ('KACME', 'KBETA')
	UNION ALL SELECT t::text FROM billing.schedule t WHERE t.brand_id = :acme
	UNION ALL SELECT t::text FROM billing.bank_account t WHERE t.brand_id = :acme
	UNION ALL SELECT t::text FROM billing.member t WHERE t.brand_id = :acme
	UNION ALL SELECT t::text FROM billing.buyer t WHERE t.brand_id = :acme
	UNION ALL SELECT t::text FROM billing.document t WHERE t.brand_id = :acme
	UNION ALL SELECT t::text FROM billing.invoice t WHERE t.brand_id = :acme
	UNION ALL SELECT l::text FROM billing.document_link l JOIN billing.invoice i
	            ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id WHERE i.brand_id = :acme
	UNION ALL SELECT t::text FROM billing.invoice_run t WHERE t.brand_id = :acme) AS rows(x);
CREATE TEMP TABLE before AS SELECT * FROM kacme_rows;

-- every path, as each role with the right to update the table, and as a
-- superuser ('')
\set doc '(SELECT id FROM billing.document WHERE reference = ''A1-D1'')'
\set closed '(SELECT id FROM billing.document WHERE reference = ''A2-D1'')'
\set free '(SELECT id FROM billing.document WHERE reference = ''A2-FREE'')'
\set a2 '(SELECT id FROM billing.buyer WHERE brand_id = ' :acme ' AND code = ''A2'')'
CREATE TEMP TABLE path (n serial, what text, roles text[], q text);
INSERT INTO path (what, roles, q) VALUES
	('C1: re-key a document on a confirmed invoice', '{regress_kacme_app,""}',
	 'UPDATE billing.document SET id = nextval(''billing.document_id_seq'') WHERE id = ' || :'doc'),
	('C1: move a linked document to another buyer', '{regress_kacme_app,""}',
	 'UPDATE billing.document SET buyer_id = ' || :'a2' || ' WHERE id = ' || :'doc'),
	('C1: re-key a document closed by cancel_run and reopen it', '{regress_kacme_app,""}',
	 'UPDATE billing.document SET id = nextval(''billing.document_id_seq''), never_invoice = false WHERE id = ' || :'closed'),
	('C1: reopen a document closed by cancel_run', '{regress_kacme_app,""}',
	 'UPDATE billing.document SET never_invoice = false WHERE id = ' || :'closed'),
	('C1: re-key a document nothing refers to yet', '{regress_kacme_app,""}',
	 'UPDATE billing.document SET id = nextval(''billing.document_id_seq'') WHERE id = ' || :'free'),
	('H4: swap bank account ids (1 of 2)', '{regress_kacme_admin,""}',
	 'UPDATE billing.bank_account SET id = 100000 WHERE code = ''A-MAIN'' AND brand_id = ' || :acme),
	('H4: swap bank account ids (2 of 2)', '{regress_kacme_admin,""}',
	 'UPDATE billing.bank_account SET id = ' || :main_account || ' WHERE code = ''EVIL'' AND brand_id = ' || :acme),
	('H4: re-key a bank account nothing refers to', '{regress_kacme_admin,""}',
	 'UPDATE billing.bank_account SET id = nextval(''billing.bank_account_id_seq'') WHERE code = ''EVIL'' AND brand_id = ' || :acme),
	('re-key a buyer with only balance-only invoices', '{regress_kacme_app,regress_kacme_admin,""}',
	 'UPDATE billing.buyer SET id = nextval(''billing.buyer_id_seq'') WHERE code = ''A3'' AND brand_id = ' || :acme),
	('re-key a buyer nothing refers to', '{regress_kacme_app,regress_kacme_admin,""}',
	 'UPDATE billing.buyer SET id = nextval(''billing.buyer_id_seq'') WHERE code = ''NEW'' AND brand_id = ' || :acme),
	('re-key a schedule', '{regress_kacme_admin,""}',
	 'UPDATE billing.schedule SET id = nextval(''billing.schedule_id_seq'') WHERE code = ''M20'' AND brand_id = ' || :acme),
	('re-key a schedule nothing refers to', '{regress_kacme_admin,""}',
	 'UPDATE billing.schedule SET id = nextval(''billing.schedule_id_seq'') WHERE code = ''SPARE'' AND brand_id = ' || :acme),
	('re-key a member told about a run', '{regress_kacme_admin,""}',
	 'UPDATE billing.member SET id = nextval(''billing.member_id_seq'') WHERE code = ''sato'' AND brand_id = ' || :acme),
	('re-key a member nothing refers to', '{regress_kacme_admin,""}',
	 'UPDATE billing.member SET id = nextval(''billing.member_id_seq'') WHERE code = ''idle'' AND brand_id = ' || :acme),
	('re-key a run', '{""}', 'UPDATE billing.invoice_run SET id = -id WHERE id = ' || :run1),
	('re-key an invoice', '{""}', 'UPDATE billing.invoice SET id = -id WHERE run_id = ' || :run1),
	('re-key a brand', '{""}', 'UPDATE billing.brand SET id = -id WHERE code = ''KACME'''),
	('re-key a brand nothing refers to', '{""}', 'UPDATE billing.brand SET id = -id WHERE code = ''KBETA''');

SELECT p.n, p.what, r AS role, a.n AS changed, a.state, regexp_replace(a.message, '(?<![\w-])-?\d+', 'N', 'g') AS message
FROM path p CROSS JOIN LATERAL unnest(p.roles) AS r CROSS JOIN LATERAL pg_temp.attempt_as(r, p.q) AS a
ORDER BY p.n, r DESC;
-- nothing moved: the confirmed invoices still pay into A-MAIN, and no run
-- bills A1-D1 again
SELECT b.digest = k.digest AS unchanged FROM before b, kacme_rows k;
SELECT i.status, a.code AS bank_account, count(*) AS invoices
FROM invoice i JOIN bank_account a ON a.id = i.bank_account_id WHERE i.brand_id = :acme GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS drafts FROM preview_run('M20', '2026-10-21 10:00+09', brand => 'KACME');

-- the one change a linked document allows: cancel_run closing it for good,
-- inside the API (the November run above did it)
SELECT reference, never_invoice FROM document WHERE reference = 'A2-D1';

------------------------------------------------------------------------------
-- The maintenance switch: a superuser re-keys a row nothing refers to, and
-- the change is logged; a key others refer to stays, foreign keys refusing
------------------------------------------------------------------------------
SET billing.maintenance = on;
SELECT id AS evil_before FROM bank_account WHERE code = 'EVIL' AND brand_id = :acme \gset
UPDATE bank_account SET id = nextval('billing.bank_account_id_seq') WHERE code = 'EVIL' AND brand_id = :acme;
SELECT id > :evil_before AS evil_rekeyed FROM bank_account WHERE code = 'EVIL' AND brand_id = :acme;
SELECT table_name, operation, regexp_replace(query, '\d+', 'N', 'g') AS query, session_role = current_user AS by_me
FROM maintenance_log WHERE table_name = 'bank_account' ORDER BY logged_at DESC LIMIT 1;
SELECT e.state, regexp_replace(e.message, '(?<![\w-])\d+', 'N', 'g') AS message,
       regexp_replace(e.detail, '\d+', 'N', 'g') AS detail
FROM unnest(ARRAY[
	'UPDATE billing.bank_account SET id = nextval(''billing.bank_account_id_seq'') WHERE code = ''A-MAIN'' AND brand_id = ' || :acme,
	'UPDATE billing.document SET id = nextval(''billing.document_id_seq'') WHERE reference = ''A1-D1''',
	'UPDATE billing.buyer SET id = nextval(''billing.buyer_id_seq'') WHERE code = ''A3'' AND brand_id = ' || :acme]) WITH ORDINALITY AS t(q, n),
	err(q) AS e
ORDER BY n;
RESET billing.maintenance;

-- clean up: KACME's rows go, children first, under the switch
SET billing.maintenance = on;
DELETE FROM document_link l USING invoice i WHERE i.buyer_id = l.buyer_id AND i.id = l.invoice_id AND i.brand_id = :acme;
DELETE FROM invoice_tax_line t USING invoice i WHERE i.buyer_id = t.buyer_id AND i.id = t.invoice_id AND i.brand_id = :acme;
DELETE FROM invoice WHERE brand_id = :acme;
DELETE FROM invoice_run WHERE brand_id = :acme;
DELETE FROM document WHERE brand_id = :acme;
DELETE FROM buyer WHERE brand_id = :acme;
DELETE FROM schedule WHERE brand_id = :acme;
DELETE FROM bank_account WHERE brand_id = :acme;
DELETE FROM member WHERE brand_id = :acme;
DELETE FROM brand WHERE code IN ('KACME', 'KBETA');
RESET billing.maintenance;
-- a deleted brand's grants go with it
SELECT count(*) AS grants_left FROM brand_grant WHERE grantee::text = 'regress_kacme';
DROP OWNED BY regress_keys_reader, regress_keys_app, regress_keys_admin;
DROP ROLE regress_kacme_app, regress_kacme_admin, regress_kacme, regress_keys_admin, regress_keys_app,
	regress_keys_reader;

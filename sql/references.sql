-- The references between the extension's tables are foreign keys the
-- catalog knows: every path they refuse is refused (23503), the key named
-- in the detail, also on a database whose parent tables are empty.  Keys
-- that never move: the keys suite.
SET search_path = public, billing;
SET client_min_messages = warning;

-- the foreign keys: per-buyer tables refer to each other with buyer_id in
-- the key and to the small tables, never a small table to a per-buyer one;
-- brand_id is in the key where the parent must be of the row's brand
SELECT conrelid::regclass AS child, conname, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE contype = 'f' AND connamespace = 'billing'::regnamespace
ORDER BY conrelid::regclass::text, conname;
-- and an index leads with a referencing column of each, for the checks
-- made when a parent row is deleted; the one without is brand_grant's (a
-- few rows per role)
SELECT c.conrelid::regclass AS child, c.conname AS without_index
FROM pg_constraint c
WHERE c.contype = 'f' AND c.connamespace = 'billing'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = ANY (c.conkey));

-- two brands of our own, each with a schedule, a bank account, a member and
-- a buyer with a document
INSERT INTO brand (code, name) VALUES ('REF1', 'Ref One'), ('REF2', 'Ref Two');
INSERT INTO schedule (brand_id, code, name, cycle)
SELECT id, 'RS', 'ref schedule', 'monthly:eom' FROM brand WHERE code IN ('REF1', 'REF2');
INSERT INTO bank_account (brand_id, code, bank_name, account_number, account_holder)
SELECT id, 'RA', 'Bank', '1', 'Holder' FROM brand WHERE code IN ('REF1', 'REF2');
INSERT INTO member (brand_id, code, name, email)
SELECT id, 'rm', 'Ref Member', 'rm@ref.example' FROM brand WHERE code = 'REF1';
INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at, default_bank_account_id)
SELECT br.id, 'RB', 'Ref Buyer', s.id, '2026-01-01', a.id
FROM brand br JOIN schedule s ON s.brand_id = br.id JOIN bank_account a ON a.brand_id = br.id
WHERE br.code = 'REF1';
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', '2026-01-10', 100, 0.10, 'REF-D1' FROM buyer b WHERE b.code = 'RB';
-- a background rerun of REF1's schedule for a period with nothing to bill:
-- no invoice, but log lines and a notification, the run's children (it
-- ends cancelled: nothing to re-run; a rerun in the session makes no run)
SELECT rerun_invoice_run('RS', notify => '{rm}', background => true, as_of => '2025-02-02 12:00+09', brand => 'REF1') > 0 AS rerun;
DO $$
BEGIN
	FOR i IN 1 .. 300 LOOP
		EXIT WHEN (SELECT r.status FROM billing.invoice_run r JOIN billing.brand br ON br.id = r.brand_id
		           WHERE br.code = 'REF1') IN ('completed', 'failed', 'cancelled');
		PERFORM pg_sleep(0.1);
	END LOOP;
END $$;
SELECT r.status, r.invoice_count, (SELECT count(*) FROM run_log l WHERE l.run_id = r.id) AS log_lines,
       (SELECT count(*) FROM notification n WHERE n.run_id = r.id) AS notifications
FROM invoice_run r JOIN brand br ON br.id = r.brand_id WHERE br.code = 'REF1';

\set ref1 '(SELECT id FROM billing.brand WHERE code = ''REF1'')'
\set ref2 '(SELECT id FROM billing.brand WHERE code = ''REF2'')'
\set s1 '(SELECT id FROM billing.schedule WHERE code = ''RS'' AND brand_id = ' :ref1 ')'
\set s2 '(SELECT id FROM billing.schedule WHERE code = ''RS'' AND brand_id = ' :ref2 ')'
\set a2 '(SELECT id FROM billing.bank_account WHERE code = ''RA'' AND brand_id = ' :ref2 ')'
-- the ids the messages name, shown by what they are (whatever ran before)
SELECT :ref1 AS ref1_id, :ref2 AS ref2_id, :s2 AS s2_id, (SELECT id FROM billing.buyer WHERE code = 'RB') AS rb_id \gset

-- each refused, naming the rows (SQLSTATE 23503 foreign_key_violation).
-- Runs and their logs are written only by the billing functions; the
-- maintenance switch lets this test write them by hand, as a repair would,
-- so that the reference checks behind the guard are what refuses.
SET billing.maintenance = on;
SELECT t.n, e.state,
       regexp_replace(replace(replace(replace(e.message,
           'schedule ' || :s2_id || ' ', 'schedule <RS of REF2> '),
           'brand_id ' || :ref2_id || ',', 'brand_id <REF2>,'),
           'buyer ' || :rb_id || ' (', 'buyer <RB> ('),
           'of brand ' || :ref1_id || '$', 'of brand <REF1>') AS message,
       regexp_replace(e.detail, '(?<![-\w])\d+', 'N', 'g') AS detail
FROM unnest(ARRAY[
	-- child rows that name a missing parent
	'INSERT INTO billing.schedule (brand_id, code, name, cycle) VALUES (-1, ''X'', ''x'', ''daily'')',
	'INSERT INTO billing.bank_account (brand_id, code, bank_name, account_number, account_holder) VALUES (-1, ''X'', ''b'', ''1'', ''h'')',
	'INSERT INTO billing.member (brand_id, code, name, email) VALUES (-1, ''x'', ''x'', ''x@x.example'')',
	'INSERT INTO billing.buyer (brand_id, code, name) VALUES (-1, ''X'', ''x'')',
	'UPDATE billing.buyer SET schedule_id = ' || :'s2' || ' WHERE code = ''RB''',
	'UPDATE billing.buyer SET default_bank_account_id = ' || :'a2' || ' WHERE code = ''RB''',
	'UPDATE billing.buyer SET schedule_id = -1 WHERE code = ''RB''',
	'INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) SELECT id, ' || :'ref2' || ', ''delivery_invoice'', ''2026-01-12'', 1, 0.1, ''REF-X'' FROM billing.buyer WHERE code = ''RB''',
	'UPDATE billing.document SET buyer_id = -1 WHERE reference = ''REF-D1''',
	'INSERT INTO billing.run_log (run_id, brand_id, level, message) VALUES (-1, ' || :'ref1' || ', ''info'', ''x'')',
	'INSERT INTO billing.run_log (run_id, brand_id, level, message) SELECT r.id, ' || :'ref2' || ', ''info'', ''x'' FROM billing.invoice_run r WHERE r.brand_id = ' || :'ref1',
	'INSERT INTO billing.notification (run_id, brand_id, member_id, email, subject, body) SELECT r.id, r.brand_id, -1, ''x@x.example'', ''s'', ''b'' FROM billing.invoice_run r WHERE r.brand_id = ' || :'ref1',
	-- parents that are referred to
	'DELETE FROM billing.brand WHERE code = ''REF1''',
	'UPDATE billing.brand SET id = -7 WHERE code = ''REF2''',
	'DELETE FROM billing.schedule WHERE id = ' || :'s1',
	'DELETE FROM billing.bank_account WHERE brand_id = ' || :'ref1',
	'DELETE FROM billing.buyer WHERE code = ''RB''',
	'UPDATE billing.buyer SET brand_id = ' || :'ref2' || ', schedule_id = NULL, default_bank_account_id = NULL WHERE code = ''RB''',
	'DELETE FROM billing.member WHERE code = ''rm''',
	'UPDATE billing.invoice_run SET id = -1 WHERE brand_id = ' || :'ref1'
	]) WITH ORDINALITY AS t(q, n), err(q) AS e
ORDER BY n;

-- TRUNCATE of a table that others refer to is refused by its foreign keys
-- (or, for runs, by the records guard), without the maintenance switch
RESET billing.maintenance;
SELECT e.state, e.message, e.hint
FROM unnest(ARRAY['TRUNCATE billing.brand', 'TRUNCATE billing.schedule CASCADE',
                  'TRUNCATE billing.bank_account', 'TRUNCATE billing.member',
                  'TRUNCATE billing.buyer']) WITH ORDINALITY AS t(q, n), err(q) AS e
ORDER BY n;
SELECT count(*) > 0 AS brands_kept FROM brand;
SET billing.maintenance = on;

-- what the checks allow: a document whose other columns change, a buyer
-- moved to another schedule of its brand, and the unchanged references
UPDATE document SET amount = 120 WHERE reference = 'REF-D1';
INSERT INTO schedule (brand_id, code, name, cycle) SELECT :ref1, 'RS2', 'second', 'daily';
UPDATE buyer SET schedule_id = (SELECT id FROM schedule WHERE code = 'RS2') WHERE code = 'RB';
SELECT s.code FROM buyer b JOIN schedule s ON s.id = b.schedule_id WHERE b.code = 'RB';

-- a run without invoices takes its log lines and notifications with it
DELETE FROM invoice_run WHERE brand_id = :ref1;
SELECT (SELECT count(*) FROM run_log l WHERE NOT EXISTS (SELECT 1 FROM invoice_run r WHERE r.id = l.run_id)) AS orphan_log_lines,
       (SELECT count(*) FROM notification n WHERE NOT EXISTS (SELECT 1 FROM invoice_run r WHERE r.id = n.run_id)) AS orphan_notifications;

-- a document may leave brand_id out: it takes its buyer's (issue 13); a
-- buyer that does not exist is named
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT id, 'delivery_invoice', '2026-01-13', 1, 0.1, 'REF-NOBRAND' FROM billing.buyer WHERE code = 'RB';
SELECT d.brand_id = b.brand_id AS brand_from_buyer FROM billing.document d JOIN billing.buyer b ON b.id = d.buyer_id
WHERE d.reference = 'REF-NOBRAND';
SELECT * FROM err($$INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
                   VALUES (987654, 'delivery_invoice', '2026-01-13', 1, 0.1, 'REF-NOBUYER')$$);

-- and once nothing refers to them, everything goes, children first
DELETE FROM document WHERE brand_id = :ref1;
DELETE FROM buyer WHERE brand_id = :ref1;
DELETE FROM schedule WHERE brand_id IN (:ref1, :ref2);
DELETE FROM bank_account WHERE brand_id IN (:ref1, :ref2);
DELETE FROM member WHERE brand_id = :ref1;
DELETE FROM brand WHERE code IN ('REF1', 'REF2');
SELECT count(*) AS ref_rows_left FROM brand WHERE code LIKE 'REF%';
RESET billing.maintenance;

-- first_mistakes: the exact messages of the 20 most common mistakes of the
-- README's first-steps walk (issue 13 item 3), as psql shows them to a
-- newcomer: at default verbosity, with CONTEXT shown for errors.  In a
-- database of its own, made as the walk makes one, so its ids are the
-- walk's and no other suite changes them.  Each message names the bad
-- value and hints at the fix; none carries a frame of the extension's own
-- functions.
\set regress_db :DBNAME
CREATE DATABASE billing_first_mistakes;
\c billing_first_mistakes
SET client_min_messages = warning;
CREATE EXTENSION billing;
RESET client_min_messages;
SET timezone = 'Asia/Tokyo';
SET datestyle = 'ISO, YMD';
\set VERBOSITY default
\set SHOW_CONTEXT errors

-- the walk, with fixed dates
INSERT INTO billing.brand (code, name, legal_name, registration_number,
                           postal_code, prefecture, city, address_line, peppol_scheme, peppol_id)
VALUES ('ACME', 'ACME Trading', '株式会社アクメ商事', 'T1234567890123',
        '100-0005', '東京都', '千代田区', '丸の内1-1-1', '0188', '1234567890123');
INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule, created_at)
SELECT id, 'M20', 'closes on the 20th', 'monthly:20', true, 'month+1:eom', '2026-08-01'
FROM billing.brand WHERE code = 'ACME';
INSERT INTO billing.buyer (brand_id, code, name, schedule_code, schedule_applied_at,
                           address_line, peppol_scheme, peppol_id)
SELECT id, 'C001', '山田商店', 'M20', '2026-09-01', '大阪市北区梅田1-1', '0188', '9876543210987'
FROM billing.brand WHERE code = 'ACME';
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, 'delivery_invoice', '2026-11-10', 100000, 0.10, 'D-1001'
FROM billing.buyer b WHERE b.code = 'C001';
-- the buyer's schedule_id was filled in from its code
SELECT code, schedule_id, schedule_code FROM billing.buyer;

-- 1. a registration number without its T
UPDATE billing.brand SET registration_number = '1234567890123' WHERE code = 'ACME';
-- 2. a cycle that does not exist
INSERT INTO billing.schedule (brand_id, code, name, cycle) VALUES (1, 'M32', 'the 32nd', 'monthly:32');
-- 3. a due day before the cut-off it is counted from
INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule)
VALUES (1, 'M20B', 'the 20th, due the 10th', 'monthly:20', true, 'month+0:10');
-- 4. a buyer on a schedule code its brand does not have
INSERT INTO billing.buyer (brand_id, code, name, schedule_code) VALUES (1, 'C002', 'Sato', 'M21');
-- 5. schedule_id and schedule_code that disagree
INSERT INTO billing.schedule (brand_id, code, name, cycle) VALUES (1, 'EOM', 'month end', 'monthly:eom');
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_code) VALUES (1, 'C002', 'Sato', 1, 'EOM');
-- 6. a schedule applied in the future
INSERT INTO billing.buyer (brand_id, code, name, schedule_code, schedule_applied_at)
VALUES (1, 'C002', 'Sato', 'M20', '2099-01-01 10:00+09');
-- 7. the same buyer code twice
INSERT INTO billing.buyer (brand_id, code, name) VALUES (1, 'C001', 'Yamada again');
-- 8. a kind of document that does not exist
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
VALUES (1, 'invoice', '2026-11-11', 5000, 0.10, 'D-1002');
-- 9. the tax rate as a percentage
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
VALUES (1, 'delivery_invoice', '2026-11-11', 5000, 10, 'D-1002');
-- 10. a document of another brand than its buyer's
INSERT INTO billing.brand (code, name) VALUES ('BETA', 'Beta KK');
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
VALUES (1, 2, 'delivery_invoice', '2026-11-11', 5000, 0.10, 'D-1002');
-- 11. the same document reference twice
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
VALUES (1, 'delivery_invoice', '2026-11-12', 5000, 0.10, 'D-1001');
-- 12. issuing as of a moment to come
SELECT * FROM billing.issue_drafts('2099-01-01');
-- the night's run, as pg_cron makes it
SELECT * FROM billing.issue_drafts('2026-11-21 00:10+09');
-- 13. a preview of a schedule that does not exist
SELECT * FROM billing.preview_run('M21');
-- 14. a schedule code two brands have, without brand =>
INSERT INTO billing.schedule (brand_id, code, name, cycle) VALUES (2, 'M20', 'Beta''s 20th', 'monthly:20');
SELECT * FROM billing.preview_run('M20', '2026-11-25 10:00+09');
-- 15. a rerun of a period that has not closed
SELECT billing.rerun_invoice_run('M20', '2026-11-25 10:00+09', brand => 'ACME', period => '2026-12-10');
-- 16. confirming an invoice that does not exist
SELECT * FROM billing.confirm_invoices(1, 999999);
-- 17. rejecting without a reason
SELECT * FROM billing.reject_invoices('', 1);
-- 18. the XML of an invoice whose buyer lacks master data
UPDATE billing.buyer SET address_line = NULL WHERE code = 'C001';
SELECT billing.invoice_xml(1);
UPDATE billing.buyer SET address_line = '大阪市北区梅田1-1' WHERE code = 'C001';
-- the draft confirmed, as the walk does
SELECT * FROM billing.confirm_invoices(1);
-- 19. correcting a document of a confirmed invoice
UPDATE billing.document SET amount = 90000 WHERE reference = 'D-1001';
-- 20. deleting a confirmed invoice as if it were a draft
SELECT * FROM billing.delete_drafts(1);
-- and a run that does not exist
SELECT * FROM billing.cancel_run(42);
-- cancelling a run whose invoice was confirmed
SELECT * FROM billing.cancel_run(3);
-- a rerun as of a moment to come (issue_drafts refuses it too)
SELECT billing.rerun_invoice_run('M20', '2099-01-01', brand => 'ACME');
-- quarantining what is not a draft
SELECT * FROM billing.quarantine_invoices('check', 1);
-- a period a simulated night opened (a test database) takes its late
-- documents by a rerun, though it has not closed in real time
SELECT count(*) AS runs FROM billing.issue_drafts('2027-01-01 00:10+09', simulate => true);
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
VALUES (1, 'delivery_invoice', '2026-12-10', 3000, 0.10, 'D-1201');
SELECT billing.rerun_invoice_run('M20', brand => 'ACME', period => '2026-12-10') IS NOT NULL AS reran;
-- a draft set aside whose buyer lacks what its XML needs stays in the
-- health check (quarantined is not done with)
SELECT count(*) AS quarantined FROM billing.quarantine_invoices('check the address', VARIADIC ARRAY(
	SELECT id FROM billing.invoice WHERE status = 'draft' AND document_count > 0));
UPDATE billing.buyer SET address_line = NULL WHERE code = 'C001';
SELECT severity, "check", object, detail FROM billing.health WHERE "check" = 'xml_incomplete';
UPDATE billing.buyer SET address_line = '大阪市北区梅田1-1' WHERE code = 'C001';
-- an error reached through the caller's own function keeps the caller's
-- frames (and none of billing's)
CREATE FUNCTION public.close_month(run bigint) RETURNS void LANGUAGE plpgsql
AS $$ BEGIN PERFORM billing.process_run(run); END $$;
SELECT public.close_month(42);
-- a severity assert_healthy does not know
SELECT billing.assert_healthy(severity => 'error');
-- confirming again is not a mistake: a retry is safe
SELECT * FROM billing.confirm_invoices(1);

-- a buyer's schedule by code, both ways: the other column follows, and
-- so does a renamed schedule (the foreign key's ON UPDATE CASCADE)
UPDATE billing.buyer SET schedule_code = 'EOM' WHERE code = 'C001';
SELECT code, schedule_id, schedule_code FROM billing.buyer;
UPDATE billing.schedule SET code = 'MONTH-END' WHERE code = 'EOM';
SELECT code, schedule_id, schedule_code FROM billing.buyer;
UPDATE billing.buyer SET schedule_id = 1 WHERE code = 'C001';
SELECT code, schedule_id, schedule_code FROM billing.buyer;
UPDATE billing.buyer SET schedule_code = NULL WHERE code = 'C001';
SELECT code, schedule_id, schedule_code, schedule_applied_at FROM billing.buyer;

\c :regress_db
DROP DATABASE billing_first_mistakes;

-- Invoice numbers per brand (issue 13 item 2): each brand numbers its
-- confirmed invoices in a series of its own (prefix, yearly reset,
-- digits); drafts have no number, a rolled-back confirmation gives its
-- numbers back, a retried confirmation keeps the number.
SET search_path = public, billing;
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
-- ids that do not depend on the suites before this one (its own range)
SELECT setval('billing.invoice_run_id_seq', 9000) IS NOT NULL AS run_ids_from_9001,
       setval('billing.invoice_id_seq', 9000) IS NOT NULL AS invoice_ids_from_9001;

-- NUMA: the defaults (prefix = brand code, yearly reset, 6 digits);
-- NUMB: prefix B, one series for good, 4 digits
INSERT INTO brand (code, name) VALUES ('NUMA', 'Numbers A KK');
INSERT INTO brand (code, name, invoice_number_prefix, invoice_number_yearly_reset, invoice_number_digits)
VALUES ('NUMB', 'Numbers B KK', 'B', false, 4);
INSERT INTO schedule (brand_id, code, name, cycle)
SELECT id, CASE code WHEN 'NUMA' THEN 'NA-EOM' ELSE 'NB-EOM' END, 'month end', 'monthly:eom'
FROM brand WHERE code IN ('NUMA', 'NUMB');
INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at)
SELECT br.id, v.code, v.code, s.id, '2026-09-01 09:00'
FROM brand br JOIN schedule s ON s.brand_id = br.id,
     (VALUES ('NUMA', 'NA1'), ('NUMA', 'NA2'), ('NUMA', 'NA3'), ('NUMB', 'NB1'), ('NUMB', 'NB2')) AS v(brand, code)
WHERE br.code = v.brand;
-- each buyer: a delivery in December 2026 and one in January 2027
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', v.day, 1000, 0.10, b.code || '-' || v.day
FROM buyer b JOIN brand br ON br.id = b.brand_id, (VALUES ('2026-12-10'::date), ('2027-01-10')) AS v(day)
WHERE br.code IN ('NUMA', 'NUMB');

-- the prefix is checked
SELECT state, message FROM err($$UPDATE billing.brand SET invoice_number_prefix = 'A B' WHERE code = 'NUMA'$$);
SELECT state, message FROM err($$UPDATE billing.brand SET invoice_number_digits = 0 WHERE code = 'NUMA'$$);

-- December's drafts: no number, and no series is touched
SELECT rerun_invoice_run('NA-EOM', as_of => '2027-01-05 10:00+09', simulate => true) IS NOT NULL AS ran_a;
SELECT rerun_invoice_run('NB-EOM', as_of => '2027-01-05 10:00+09', simulate => true) IS NOT NULL AS ran_b;
SELECT brand, buyer, invoice_date, status, invoice_number FROM invoice_list
WHERE brand IN ('NUMA', 'NUMB') ORDER BY brand, buyer;
SELECT count(*) AS series FROM invoice_series s JOIN brand br ON br.id = s.brand_id
WHERE br.code IN ('NUMA', 'NUMB');

-- a confirmation that rolls back gives its number back
BEGIN;
SELECT buyer IS NOT NULL AS confirmed, invoice_number FROM confirm_invoices(VARIADIC ARRAY(
	SELECT invoice FROM invoice_list WHERE buyer = 'NA1'));
ROLLBACK;
SELECT buyer, status, invoice_number FROM invoice_list WHERE buyer = 'NA1';
-- so the next confirmation gets 1: no gap
SELECT invoice_number FROM confirm_invoices(VARIADIC ARRAY(SELECT invoice FROM invoice_list WHERE buyer = 'NA2'));
-- a retry keeps the number (and says so); the counter does not move
SELECT invoice_number FROM confirm_invoices(VARIADIC ARRAY(SELECT invoice FROM invoice_list WHERE buyer = 'NA2'));
-- a selection with the confirmed one and two drafts: the drafts get the
-- next numbers in id order, the confirmed one keeps its own
SELECT c.buyer, c.invoice_number
FROM confirm_invoices(VARIADIC ARRAY(SELECT invoice FROM invoice_list WHERE buyer IN ('NA1', 'NA2', 'NA3'))) AS c
ORDER BY c.invoice_number;
-- a refused confirmation (a rejected invoice in the selection) takes no
-- number either
SELECT count(*) AS rejected FROM reject_invoices('wrong prices', VARIADIC ARRAY(SELECT invoice FROM invoice_list WHERE buyer = 'NB2'));
SELECT state, message FROM err(format('SELECT billing.confirm_invoices(VARIADIC %L)',
	ARRAY(SELECT invoice FROM billing.invoice_list WHERE buyer IN ('NB1', 'NB2'))));
-- the other brand's series is its own: B's first number is 1
SELECT invoice_number FROM confirm_invoices(VARIADIC ARRAY(SELECT invoice FROM invoice_list WHERE buyer = 'NB1'));

-- January: NUMA's series restarts in 2027, NUMB's goes on
SELECT rerun_invoice_run('NA-EOM', as_of => '2027-02-05 10:00+09', simulate => true) IS NOT NULL AS ran_a;
SELECT rerun_invoice_run('NB-EOM', as_of => '2027-02-05 10:00+09', simulate => true) IS NOT NULL AS ran_b;
-- a quarantined invoice is numbered when it is confirmed
SELECT count(*) AS quarantined FROM quarantine_invoices('check', VARIADIC ARRAY(
	SELECT invoice FROM invoice_list WHERE buyer = 'NA3' AND invoice_date = '2027-01-31'));
SELECT c.buyer, i.invoice_date, c.invoice_number
FROM confirm_invoices(VARIADIC ARRAY(SELECT invoice FROM invoice_list
                            WHERE brand IN ('NUMA', 'NUMB') AND status IN ('draft', 'quarantined'))) AS c
JOIN invoice i ON i.id = c.invoice_id ORDER BY i.brand_id, c.invoice_number;

-- the whole picture: per brand, per series, no gap, no number twice; only
-- confirmed invoices are numbered
SELECT brand, buyer, invoice_date, status, invoice_number FROM invoice_list
WHERE brand IN ('NUMA', 'NUMB') ORDER BY brand, invoice_date, buyer;
SELECT br.code AS brand, s.year, s.last_number FROM invoice_series s JOIN brand br ON br.id = s.brand_id
WHERE br.code IN ('NUMA', 'NUMB') ORDER BY 1, 2;

-- numbers are not written by hand: the counter and the number are records
SELECT state, message FROM err($$UPDATE billing.invoice_series SET last_number = 0$$);
SELECT state, message FROM err($$INSERT INTO billing.invoice_series VALUES (1, 1999, 5)$$);
SELECT state, message FROM err($$UPDATE billing.invoice SET invoice_number = 'X-1'
                                 WHERE invoice_number = 'NUMA-2026-000001'$$);
SELECT state, message FROM err($$INSERT INTO billing.issued_invoice_number VALUES (1, 'X-1', 1, 1)$$);
-- and the catalog backs the rules: only confirmed invoices are numbered,
-- and the register of the numbers given holds one per brand and number
-- (billing.issued_invoice_number: the invoices are per-buyer rows, and a
-- unique key there would have to hold the buyer on Citus)
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'billing.invoice'::regclass AND conname IN ('invoice_number_key', 'invoice_numbered') ORDER BY 1;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'billing.issued_invoice_number'::regclass AND contype = 'p';
-- every number given is in the register, given to its invoice
SELECT count(*) AS numbered, count(n.invoice_id) AS registered
FROM invoice i LEFT JOIN issued_invoice_number n
  ON n.brand_id = i.brand_id AND n.invoice_number = i.invoice_number AND n.buyer_id = i.buyer_id AND n.invoice_id = i.id
JOIN brand br ON br.id = i.brand_id
WHERE i.invoice_number IS NOT NULL AND br.code IN ('NUMA', 'NUMB');
-- a number given twice fails the confirmation that gives it, which
-- confirms nothing: in a transaction rolled back at the end, a February
-- draft of NA1, the next number of NUMA's 2027 series taken in the
-- register by hand (a logged repair), then the draft's confirmation is
-- refused and the counter and the draft stay as they were
BEGIN;
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', '2027-02-10', 1000, 0.10, 'NA1-feb' FROM buyer b WHERE b.code = 'NA1';
SET LOCAL client_min_messages = warning;
SELECT rerun_invoice_run('NA-EOM', as_of => '2027-03-05 10:00+09', simulate => true) IS NOT NULL AS ran_feb;
SELECT i.id AS feb_draft FROM invoice i JOIN buyer b ON b.id = i.buyer_id
WHERE b.code = 'NA1' AND i.status = 'draft' AND i.cutoff_date = '2027-02-28' \gset
SELECT s.last_number AS numa_2027_before FROM invoice_series s JOIN brand br ON br.id = s.brand_id
WHERE br.code = 'NUMA' AND s.year = 2027 \gset
SET LOCAL billing.maintenance = on;
SET LOCAL client_min_messages = error;
INSERT INTO billing.issued_invoice_number (brand_id, invoice_number, buyer_id, invoice_id)
SELECT br.id, 'NUMA-2027-' || lpad((:numa_2027_before + 1)::text, 6, '0'), 0, 0 FROM brand br WHERE br.code = 'NUMA';
RESET billing.maintenance;
SELECT state, message FROM err(format('SELECT * FROM billing.confirm_invoices(%s)', :feb_draft));
SELECT status, invoice_number FROM invoice WHERE id = :feb_draft;
SELECT s.last_number = :numa_2027_before AS counter_unmoved FROM invoice_series s JOIN brand br ON br.id = s.brand_id
WHERE br.code = 'NUMA' AND s.year = 2027;
-- verify() names the register's row that no invoice has
SELECT invariant, relation, detail FROM billing.verify() WHERE relation = 'billing.issued_invoice_number'::regclass;
ROLLBACK;

-- a brand's role sees only its own brand's series
CREATE ROLE num_reader_a;
GRANT USAGE ON SCHEMA billing TO num_reader_a;
GRANT SELECT ON billing.invoice_series, billing.brand_grant TO num_reader_a;
SELECT grant_brand('NUMA', 'num_reader_a');
SET ROLE num_reader_a;
SELECT year, last_number FROM billing.invoice_series ORDER BY year;
RESET ROLE;
SELECT revoke_brand('NUMA', 'num_reader_a');
REVOKE ALL ON billing.invoice_series, billing.brand_grant FROM num_reader_a;
REVOKE USAGE ON SCHEMA billing FROM num_reader_a;
DROP ROLE num_reader_a;

-- test/bench/run_xml.sql: how long "Generate XML for all invoices in the
-- run" takes for a run of 100,000 invoices.  Run it with psql on a database
-- with the extension (it makes its own brand XB):
--   psql -X -d bench -f test/bench/run_xml.sql
-- 100,000 buyers with master data, each with three documents (10%, 8% and a
-- return) in October 2026; one rerun issues 100,000 drafts; then run_xml
-- writes all of them (the XML is consumed by a count and a byte sum, so the
-- time is the database's, not the terminal's).
\set ON_ERROR_STOP on
SET timezone = 'Asia/Tokyo';
INSERT INTO billing.brand (code, name, legal_name, registration_number, address_line, peppol_scheme, peppol_id)
VALUES ('XB', 'Bench', 'Bench KK', 'T9999999999999', 'Chiyoda 1-1', '0188', '9999999999999');
INSERT INTO billing.bank_account (brand_id, code, bank_name, branch_name, account_number, account_holder)
SELECT id, 'XB', 'Bench Bank', 'Main', '1234567', 'Bench KK' FROM billing.brand WHERE code = 'XB';
INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule)
SELECT id, 'XB-EOM', 'bench month end', 'monthly:eom', true, 'month+1:eom' FROM billing.brand WHERE code = 'XB';
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at, default_bank_account_id,
                           address_line, peppol_scheme, peppol_id)
SELECT br.id, 'XB' || g, 'Buyer ' || g, s.id, '2026-09-01', ba.id, 'Street ' || g, '0188', lpad(g::text, 13, '0')
FROM billing.brand br JOIN billing.schedule s ON s.brand_id = br.id
JOIN billing.bank_account ba ON ba.brand_id = br.id, generate_series(1, 100000) AS g
WHERE br.code = 'XB';
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference, description)
SELECT b.id, b.brand_id, d.kind, '2026-10-01'::date + (b.id % 30)::int, d.amount, d.rate,
       b.code || '-' || d.suffix, d.description
FROM billing.buyer b,
     (VALUES ('delivery_invoice', 12000, 0.10, 'D1', 'Copy paper'),
             ('delivery_invoice', 5400, 0.08, 'D2', 'Lunch boxes'),
             ('return_note', 1200, 0.10, 'R1', 'Returned paper')) AS d(kind, amount, rate, suffix, description)
WHERE b.brand_id = (SELECT id FROM billing.brand WHERE code = 'XB');
ANALYZE billing.buyer, billing.document;
SELECT billing.rerun_invoice_run('XB-EOM', as_of => '2026-11-05 10:00+09', brand => 'XB') AS run \gset
ANALYZE billing.invoice, billing.document_link, billing.invoice_tax_line;
\timing on
SELECT count(*) AS invoices, sum(octet_length(xml::text)) AS xml_bytes FROM billing.run_xml(:run);
SELECT count(*) AS invoices, sum(octet_length(xml::text)) AS xml_bytes FROM billing.run_xml(:run);
\timing off

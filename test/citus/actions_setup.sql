-- test/citus/actions_setup.sql: more of ACME's buyers for the bulk actions
-- (test/citus/actions.sql), after setup.sql and before the run: CA2..CA5
-- on M20, three documents each in 2026-10-21..2026-11-20, so that one
-- action's invoices are on several shards
INSERT INTO billing.buyer (brand_id, code, name, schedule_code, schedule_applied_at)
SELECT br.id, 'CA' || g, 'Buyer CA' || g, 'M20', '2026-10-01'
FROM billing.brand br, generate_series(2, 5) AS g WHERE br.code = 'ACME';
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, 'delivery_invoice', '2026-11-01'::date + g, 100 * g + b.id, 0.10, b.code || '-' || g
FROM billing.buyer b, generate_series(1, 3) AS g
WHERE b.code LIKE 'CA_' AND b.code <> 'CA1'
ORDER BY b.code, g;

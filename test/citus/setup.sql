-- test/citus/setup.sql: two brands (ACME, OTHER), each a schedule M20 and a
-- buyer with documents of the period 2026-10-21..2026-11-20.  Run by
-- test/citus/run.sh on the coordinator before the README's role recipe.
INSERT INTO billing.brand (code, name) VALUES ('ACME', 'ACME Trading'), ('OTHER', 'Other KK');
INSERT INTO billing.schedule (brand_id, code, name, cycle)
SELECT id, 'M20', 'closes on the 20th', 'monthly:20' FROM billing.brand;
INSERT INTO billing.buyer (brand_id, code, name, schedule_code, schedule_applied_at)
SELECT id, CASE code WHEN 'ACME' THEN 'CA1' ELSE 'CB1' END, 'Buyer of ' || code, 'M20', '2026-10-01'
FROM billing.brand;
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, 'delivery_invoice', '2026-11-01'::date + g, 1000 * g, 0.10, b.code || '-' || g
FROM billing.buyer b, generate_series(1, 3) AS g
ORDER BY b.code, g;

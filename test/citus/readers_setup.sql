-- test/citus/readers_setup.sql: what the XML readers need (plan step 9),
-- after setup.sql and actions_setup.sql, before the run and the placement:
-- the master data PINT JP asks for, a bank account, a return; then, after
-- the run (run.sh), readers_confirmed.sql confirms CA1's invoice and moves
-- CA1, so that its XML is the master data version in force when confirmed
UPDATE billing.brand
SET legal_name = name || ' 株式会社', registration_number = 'T' || lpad(id::text, 13, '1'),
    postal_code = '100-0001', prefecture = '東京都', city = '千代田区', address_line = '千代田1-' || id,
    peppol_scheme = '0188', peppol_id = lpad(id::text, 13, '9');
INSERT INTO billing.bank_account (brand_id, code, bank_name, branch_name, account_number, account_holder)
SELECT id, 'BA', 'みずほ銀行', '本店', '7654321', 'エイシ-エムイ-' FROM billing.brand WHERE code = 'ACME';
UPDATE billing.buyer b
SET postal_code = '530-0001', prefecture = '大阪府', city = '大阪市', address_line = '梅田' || b.code,
    peppol_scheme = '0188', peppol_id = 'B' || b.code,
    default_bank_account_id = (SELECT ba.id FROM billing.bank_account ba WHERE ba.brand_id = b.brand_id);
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference, description)
SELECT b.id, 'return_note', '2026-11-10', 50, 0.08, b.code || '-R', '返品 <箱> & 袋'
FROM billing.buyer b WHERE b.code IN ('CA1', 'CB1');

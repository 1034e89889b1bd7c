-- The qualified invoice as Peppol PINT JP XML: master data checks, the XML
-- of collective and per-document invoices (two tax rates, a return, a
-- credit note, a payment; due dates from the schedule and from the buyer;
-- with and without a bank account; an exempt 0% line), the errors, run_xml,
-- and a confirmed invoice keeping its XML when master data changes.  Amounts
-- worked by hand in the comments.  test/t/005_invoice_xml.pl runs this file
-- again and holds every invoice's XML against the official rules.
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
-- ids that do not depend on the suites before this one
SELECT setval('billing.invoice_run_id_seq', 1000) IS NOT NULL AS run_ids_from_1001,
       setval('billing.invoice_id_seq', 1000) IS NOT NULL AS invoice_ids_from_1001,
       setval('billing.buyer_id_seq', 1000) IS NOT NULL AS buyer_ids_from_1001,
       setval('billing.document_id_seq', 10000) IS NOT NULL AS document_ids_from_10001;

INSERT INTO billing.brand (code, name) VALUES ('QI', 'キュー商事');
INSERT INTO billing.bank_account (brand_id, code, bank_name, branch_name, account_number, account_holder)
SELECT id, 'QB', 'みずほ銀行', '本店', '7654321', 'キユ-シヨウジ(カ' FROM billing.brand WHERE code = 'QI';
INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule, grouping)
SELECT br.id, s.code, s.name, s.cycle::billing.cycle, s.due IS NOT NULL, s.due::billing.due_rule, s.grouping
FROM billing.brand br,
     (VALUES ('Q20', '20日締め翌月末払い', 'monthly:20', 'month+1:eom', 'buyer'),
             ('QDOC', '月末締め 伝票単位', 'monthly:eom', NULL, 'document')) AS s(code, name, cycle, due, grouping)
WHERE br.code = 'QI';
INSERT INTO billing.buyer (brand_id, code, name, schedule_id, schedule_applied_at,
                           default_due_rule, default_bank_account_id, billing_balance)
SELECT br.id, b.code, b.name, s.id, '2026-09-01 09:00', b.due::billing.due_rule,
       CASE WHEN b.bank THEN ba.id END, b.balance
FROM billing.brand br
JOIN billing.bank_account ba ON ba.brand_id = br.id
JOIN (VALUES ('Q1', '山田商店', 'Q20', NULL, true, 10000),
             ('Q2', '鈴木工業株式会社', 'Q20', NULL, false, 0),
             ('Q5', '田中食品', 'Q20', NULL, true, 5000),
             ('Q3', '高橋物産', 'QDOC', 'net:30', true, 0),
             ('Q4', '伊藤電機', 'QDOC', NULL, false, 0)) AS b(code, name, schedule, due, bank, balance) ON true
JOIN billing.schedule s ON s.brand_id = br.id AND s.code = b.schedule
WHERE br.code = 'QI';
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference, description)
SELECT b.id, b.brand_id, d.kind, d.day::date, d.amount, d.rate, d.ref, d.description
FROM billing.buyer b
JOIN (VALUES ('Q1', 'delivery_invoice', '2026-09-25', 100000, 0.10, 'Q1-D1', 'コピー用紙 A4 10箱'),
             ('Q1', 'delivery_invoice', '2026-10-01', 54321, 0.08, 'Q1-D2', '弁当 50食'),
             ('Q1', 'return_note', '2026-10-05', 3000, 0.10, 'Q1-R1', '返品 コピー用紙 1箱'),
             ('Q1', 'credit_note', '2026-10-10', 1111, 0.08, 'Q1-C1', NULL),
             ('Q1', 'payment', '2026-10-15', 10000, NULL, 'Q1-P1', NULL),
             ('Q2', 'delivery_invoice', '2026-10-20', 8800, 0.10, 'Q2-D1', 'トナー'),
             ('Q2', 'delivery_invoice', '2026-10-18', 840, 0, 'Q2-D2', '収入印紙 (非課税)'),
             ('Q3', 'delivery_invoice', '2026-10-03', 20000, 0.10, 'Q3-D1', '工具セット'),
             ('Q3', 'delivery_invoice', '2026-10-31', 1234, 0.08, 'Q3-D2', 'お茶'),
             ('Q4', 'delivery_invoice', '2026-10-15', 5000, 0.10, 'Q4-D1', NULL))
     AS d(buyer, kind, day, amount, rate, ref, description) ON d.buyer = b.code
WHERE b.brand_id = (SELECT id FROM billing.brand WHERE code = 'QI');

-- Q20 for the period 2026-09-21..2026-10-20, QDOC for October
SELECT billing.rerun_invoice_run('Q20', as_of => '2026-10-25 10:00+09', brand => 'QI') AS q20_run \gset
SELECT billing.rerun_invoice_run('QDOC', as_of => '2026-11-05 10:00+09', brand => 'QI') AS qdoc_run \gset

-- Q1: 10%: 100000 - 3000 = 97000, tax 9700; 8%: 54321 - 1111 = 53210, tax
-- 4256.8 rounded down 4256; purchases 150210, tax 13956; previous 10000 -
-- deposit 10000 = 0 carried over; total 164166; due 翌月末 2026-11-30.
-- Q2: 8800 at 10% + 840 exempt (0%, category E) = 9640, tax 880, total
-- 10520, no bank account.  Q5: balance only, 5000.
-- QDOC (one invoice per document, due date from the buyer): Q3 20000 + 2000
-- = 22000 and 1234 + 98 (98.72 down) = 1332, net:30 from 2026-10-31 =
-- 2026-11-30; Q4 5000 + 500 = 5500 with no due date and no bank account.
SELECT buyer, schedule, cutoff_date, invoice_date, due_date, status, previous_billed, deposit,
       carried_over, purchases, tax, total, bank_account
FROM billing.invoice_list WHERE brand = 'QI' ORDER BY schedule, buyer, total;

-- master data: refused on input with errors that name the value
SELECT q AS query, e.state AS sqlstate, e.message, e.hint
FROM (VALUES ($q$UPDATE billing.brand SET registration_number = '1234567890123' WHERE code = 'QI'$q$),
             ($q$UPDATE billing.brand SET registration_number = 'T123456789012' WHERE code = 'QI'$q$),
             ($q$UPDATE billing.brand SET registration_number = 'T1234-567890-12' WHERE code = 'QI'$q$),
             ($q$UPDATE billing.brand SET peppol_scheme = '0188' WHERE code = 'QI'$q$),
             ($q$UPDATE billing.brand SET peppol_scheme = 'JP', peppol_id = '1' WHERE code = 'QI'$q$),
             ($q$UPDATE billing.buyer SET peppol_scheme = '0188', peppol_id = '12 34' WHERE code = 'Q1'$q$),
             ($q$UPDATE billing.buyer SET country = 'jp' WHERE code = 'Q1'$q$)) AS t(q),
     public.err(q) AS e;

-- the XML is refused, with one error naming every missing field
SELECT e.state, e.message, e.hint
FROM billing.invoice_list i, public.err(format('SELECT billing.invoice_xml(%s)', i.invoice)) AS e
WHERE i.buyer = 'Q1';
UPDATE billing.brand SET legal_name = 'キュー商事株式会社', registration_number = 'T3010401000001',
                         postal_code = '1000005', prefecture = '東京都', city = '千代田区',
                         address_line = '丸の内1-1-1'
WHERE code = 'QI';
SELECT e.state, e.message
FROM billing.invoice_list i, public.err(format('SELECT billing.invoice_xml(%s)', i.invoice)) AS e
WHERE i.buyer = 'Q1';
UPDATE billing.brand SET peppol_scheme = '0188', peppol_id = '3010401000001' WHERE code = 'QI';
UPDATE billing.buyer b SET postal_code = v.postal, prefecture = v.pref, city = v.city, address_line = v.line,
                           peppol_scheme = '0188', peppol_id = v.peppol
FROM (VALUES ('Q1', '5410041', '大阪府', '大阪市中央区', '北浜1-1', '1120001000001'),
             ('Q2', NULL, NULL, NULL, '名古屋市中区栄2-2', '1120001000002'),
             ('Q3', '0600001', '北海道', '札幌市中央区', '北一条西1-1', '1120001000003'),
             ('Q4', '8100001', '福岡県', '福岡市中央区', '天神1-1', '1120001000004'),
             ('Q5', '9800811', '宮城県', '仙台市青葉区', '一番町1-1', '1120001000005')) AS v(code, postal, pref, city, line, peppol)
WHERE b.code = v.code AND b.brand_id = (SELECT id FROM billing.brand WHERE code = 'QI');

-- Q1's invoice, read back with XPath: identification, parties, period,
-- payment means, totals, tax breakdown and lines
SELECT billing.invoice_xml(invoice) AS q1_xml FROM billing.invoice_list WHERE buyer = 'Q1' \gset
SELECT p.path, array_to_string(xpath(p.path || '/text()', :'q1_xml'::xml, ARRAY[
           ARRAY['u', 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'],
           ARRAY['cac', 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2'],
           ARRAY['cbc', 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2']])::text[], ' | ') AS value
FROM unnest(ARRAY['/u:Invoice/cbc:CustomizationID', '/u:Invoice/cbc:ProfileID', '/u:Invoice/cbc:IssueDate',
                  '/u:Invoice/cbc:DueDate', '/u:Invoice/cbc:InvoiceTypeCode', '/u:Invoice/cbc:DocumentCurrencyCode',
                  '/u:Invoice/cac:InvoicePeriod/cbc:StartDate', '/u:Invoice/cac:InvoicePeriod/cbc:EndDate',
                  '/u:Invoice/cac:AccountingSupplierParty/cac:Party/cbc:EndpointID',
                  '/u:Invoice/cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID',
                  '/u:Invoice/cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName',
                  '/u:Invoice/cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cbc:StreetName',
                  '/u:Invoice/cac:AccountingCustomerParty/cac:Party/cbc:EndpointID',
                  '/u:Invoice/cac:AccountingCustomerParty/cac:Party/cac:PartyName/cbc:Name',
                  '/u:Invoice/cac:PaymentMeans/cbc:PaymentMeansCode',
                  '/u:Invoice/cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID',
                  '/u:Invoice/cac:TaxTotal/cbc:TaxAmount',
                  '/u:Invoice/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID',
                  '/u:Invoice/cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount',
                  '/u:Invoice/cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount',
                  '/u:Invoice/cac:LegalMonetaryTotal/cbc:LineExtensionAmount',
                  '/u:Invoice/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount',
                  '/u:Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount']) WITH ORDINALITY AS p(path, n)
ORDER BY p.n;
-- its lines: one per document but the payment, the return and the credit
-- note negative, each with its date, reference and name
SELECT l.*
FROM XMLTABLE(XMLNAMESPACES('urn:oasis:names:specification:ubl:schema:xsd:Invoice-2' AS u,
                            'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2' AS cac,
                            'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2' AS cbc),
              '/u:Invoice/cac:InvoiceLine' PASSING (:'q1_xml'::xml)
              COLUMNS id int PATH 'cbc:ID', note text PATH 'cbc:Note', quantity int PATH 'cbc:InvoicedQuantity',
                      amount numeric PATH 'cbc:LineExtensionAmount', day date PATH 'cac:InvoicePeriod/cbc:StartDate',
                      reference text PATH 'cac:DocumentReference/cbc:ID', name text PATH 'cac:Item/cbc:Name',
                      category text PATH 'cac:Item/cac:ClassifiedTaxCategory/cbc:ID',
                      percent numeric PATH 'cac:Item/cac:ClassifiedTaxCategory/cbc:Percent',
                      price numeric PATH 'cac:Price/cbc:PriceAmount') AS l;

-- Q2 (no bank account) has no payment means; Q4 (no due rule) no due date
SELECT i.buyer, i.due_date,
       xpath_exists('/u:Invoice/cbc:DueDate', billing.invoice_xml(i.invoice),
                    ARRAY[ARRAY['u', 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'],
                          ARRAY['cbc', 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2']]) AS xml_due_date,
       xpath_exists('/u:Invoice/cac:PaymentMeans', billing.invoice_xml(i.invoice),
                    ARRAY[ARRAY['u', 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'],
                          ARRAY['cac', 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2']]) AS xml_payment_means,
       i.bank_account
FROM billing.invoice_list i WHERE i.brand = 'QI' AND i.buyer <> 'Q5' ORDER BY i.buyer, i.total;

-- errors: a balance-only draft, a missing invoice, a cancelled one
SELECT e.state, e.message, e.detail, e.hint
FROM billing.invoice_list i, public.err(format('SELECT billing.invoice_xml(%s)', i.invoice)) AS e
WHERE i.buyer = 'Q5';
SELECT e.state, e.message FROM public.err('SELECT billing.invoice_xml(999999)') AS e;
SELECT e.state, e.message FROM public.err('SELECT * FROM billing.run_xml(999999)') AS e;
SELECT billing.invoice_xml(NULL) IS NULL AS null_in_null_out;

-- run_xml: one row per invoice that has lines (Q5's balance-only draft is
-- left out), each a well-formed document
SELECT x.buyer, x.xml IS DOCUMENT AS is_document, x.xml::text = billing.invoice_xml(x.invoice_id)::text AS same
FROM billing.run_xml(:q20_run) AS x ORDER BY x.buyer;
SELECT count(*) AS qdoc_xml FROM billing.run_xml(:qdoc_run);

-- A confirmed invoice keeps its XML.  Confirm Q1's, then the brand moves,
-- the buyer renames and the bank account changes: the confirmed invoice's
-- XML is byte for byte what it was; Q2's draft shows the new address.
SELECT count(*) AS confirmed FROM billing.confirm_invoices(VARIADIC ARRAY(
	SELECT invoice FROM billing.invoice_list WHERE buyer = 'Q1'));
SELECT md5(billing.invoice_xml(invoice)::text) AS q1_md5 FROM billing.invoice_list WHERE buyer = 'Q1' \gset
-- the number: a draft's cbc:ID (and payment id) is its id with a draft
-- marker; the confirmed invoice carries the brand's number there instead,
-- and is otherwise the draft's XML
SELECT (xpath('/u:Invoice/cbc:ID/text()', :'q1_xml'::xml,
              ARRAY[ARRAY['u', 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'],
                    ARRAY['cbc', 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2']]))[1]::text
       = 'DRAFT-' || invoice AS draft_id_marked
FROM billing.invoice_list WHERE buyer = 'Q1';
SELECT invoice_number ~ '^QI-[0-9]{4}-[0-9]{6}$' AS numbered,
       (xpath('/u:Invoice/cbc:ID/text()', billing.invoice_xml(invoice),
              ARRAY[ARRAY['u', 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'],
                    ARRAY['cbc', 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2']]))[1]::text
       = invoice_number AS xml_id_is_number,
       billing.invoice_xml(invoice)::text = replace(:'q1_xml', 'DRAFT-' || invoice, invoice_number)
           AS confirmed_same_as_draft
FROM billing.invoice_list WHERE buyer = 'Q1';
UPDATE billing.brand SET address_line = '大手町2-2-2', city = '千代田区' WHERE code = 'QI';
UPDATE billing.buyer SET name = '山田商店株式会社', address_line = '北浜2-2'
WHERE code = 'Q1' AND brand_id = (SELECT id FROM billing.brand WHERE code = 'QI');
UPDATE billing.bank_account SET account_number = '1111111' WHERE code = 'QB';
-- a balance change (as confirming does) is not a master data version
UPDATE billing.buyer SET billing_balance = billing_balance WHERE code = 'Q1';
SELECT table_name, data->>'address_line' AS address_line, data->>'account_number' AS account_number
FROM billing.master_data_version
WHERE row_id IN (SELECT id FROM billing.brand WHERE code = 'QI'
                 UNION ALL SELECT id FROM billing.buyer WHERE code = 'Q1'
                 UNION ALL SELECT id FROM billing.bank_account WHERE code = 'QB')
  AND data->>'code' IN ('QI', 'Q1', 'QB')
ORDER BY id;
SELECT md5(billing.invoice_xml(invoice)::text) = :'q1_md5' AS confirmed_xml_unchanged
FROM billing.invoice_list WHERE buyer = 'Q1';
SELECT (xpath('/u:Invoice/cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cbc:StreetName/text()',
              billing.invoice_xml(invoice),
              ARRAY[ARRAY['u', 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'],
                    ARRAY['cac', 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2'],
                    ARRAY['cbc', 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2']]))[1]::text
       AS draft_seller_street
FROM billing.invoice_list WHERE buyer = 'Q2';

-- the texts a line prints are frozen with the document once it is on an
-- invoice; a document on no invoice can still be corrected
SELECT e.state, e.message, e.hint
FROM public.err($q$UPDATE billing.document SET description = 'A3' WHERE reference = 'Q1-D1'$q$) AS e;
SELECT e.state, e.message
FROM public.err($q$UPDATE billing.document SET reference = 'Q1-D1b' WHERE reference = 'Q1-D1'$q$) AS e;
INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT id, brand_id, 'delivery_invoice', '2026-11-02', 700, 0.10, 'Q1-LATE' FROM billing.buyer WHERE code = 'Q1';
UPDATE billing.document SET description = '付箋' WHERE reference = 'Q1-LATE';
SELECT reference, description FROM billing.document WHERE reference = 'Q1-LATE';

-- a brand in euros, tax half up to the cent, one invoice per document
-- (issue's EURO story): E-1 10.05 * 0.10 = 1.005 -> 1.01; E-2 20.04 * 0.19
-- = 3.8076 -> 3.81
INSERT INTO billing.brand (code, name, time_zone, currency, currency_scale, tax_rounding)
VALUES ('QEU', 'Euro GmbH', 'Europe/Berlin', 'EUR', 2, 'half_up');
INSERT INTO billing.schedule (brand_id, code, name, cycle, grouping)
SELECT id, 'QE', 'Monthly per document', 'monthly:eom', 'document' FROM billing.brand WHERE code = 'QEU';
INSERT INTO billing.buyer (brand_id, code, name, schedule_code, schedule_applied_at)
SELECT id, 'QE1', 'Euro Buyer', 'QE', '2026-11-02 09:00' FROM billing.brand WHERE code = 'QEU';
INSERT INTO billing.document (buyer_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, 'delivery_invoice', v.day, v.amount, v.rate, v.ref
FROM billing.buyer b, (VALUES ('2026-11-03'::date, 10.05, 0.10, 'QE-1'), ('2026-11-04', 20.04, 0.19, 'QE-2')) AS v(day, amount, rate, ref)
WHERE b.code = 'QE1';
SELECT billing.rerun_invoice_run('QE', as_of => '2026-12-01 12:00+09', brand => 'QEU') IS NOT NULL AS ran;
SELECT b.code, i.purchases, i.tax, i.total, i.currency
FROM billing.invoice i JOIN billing.buyer b ON b.id = i.buyer_id WHERE b.code = 'QE1' ORDER BY i.purchases;

-- Every invoice of the suite's brands that has lines (QI's and QEU's, once
-- they have master data), read back with XPath: the totals and the tax
-- subtotals equal the invoice rows
UPDATE billing.brand SET legal_name = name, registration_number = 'T' || lpad(id::text, 13, '9'),
                         address_line = '本社 ' || code, peppol_scheme = '0188', peppol_id = lpad(id::text, 13, '9')
WHERE legal_name IS NULL AND code IN ('QI', 'QEU');
UPDATE billing.buyer SET address_line = '本社 ' || code, peppol_scheme = '0188', peppol_id = lpad(id::text, 13, '8')
WHERE peppol_id IS NULL AND brand_id IN (SELECT id FROM billing.brand WHERE code IN ('QI', 'QEU'));
CREATE TEMP TABLE every_xml AS
SELECT i.id, i.currency, i.purchases, i.tax, billing.invoice_xml(i.id) AS doc
FROM billing.invoice i
WHERE i.status IN ('draft', 'quarantined', 'confirmed')
  AND i.brand_id IN (SELECT id FROM billing.brand WHERE code IN ('QI', 'QEU'))
  AND EXISTS (SELECT 1 FROM billing.document_link l
              JOIN billing.document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
              WHERE l.buyer_id = i.buyer_id AND l.invoice_id = i.id AND d.kind <> 'payment');
SELECT x.currency, count(*) AS invoices,
       count(*) FILTER (WHERE t.tax_exclusive = x.purchases AND t.line_sum = x.purchases
                          AND t.tax_total = x.tax AND t.subtotal_tax = x.tax
                          AND t.tax_inclusive = x.purchases + x.tax AND t.payable = x.purchases + x.tax) AS totals_equal
FROM every_xml x,
     XMLTABLE(XMLNAMESPACES('urn:oasis:names:specification:ubl:schema:xsd:Invoice-2' AS u,
                            'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2' AS cac,
                            'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2' AS cbc),
              '/u:Invoice' PASSING x.doc
              COLUMNS tax_exclusive numeric PATH 'cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount',
                      tax_inclusive numeric PATH 'cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount',
                      payable numeric PATH 'cac:LegalMonetaryTotal/cbc:PayableAmount',
                      line_sum numeric PATH 'sum(cac:InvoiceLine/cbc:LineExtensionAmount)',
                      tax_total numeric PATH 'cac:TaxTotal/cbc:TaxAmount',
                      subtotal_tax numeric PATH 'sum(cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount)') AS t
GROUP BY x.currency ORDER BY x.currency;
-- tax subtotals against the invoices' tax lines: rows in one and not the other
SELECT count(*) AS subtotals, count(*) FILTER (WHERE s.id IS NULL OR t.invoice_id IS NULL) AS unmatched
FROM (SELECT x.id, s.*
      FROM every_xml x,
           XMLTABLE(XMLNAMESPACES('urn:oasis:names:specification:ubl:schema:xsd:Invoice-2' AS u,
                                  'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2' AS cac,
                                  'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2' AS cbc),
                    '/u:Invoice/cac:TaxTotal/cac:TaxSubtotal' PASSING x.doc
                    COLUMNS taxable numeric PATH 'cbc:TaxableAmount', tax numeric PATH 'cbc:TaxAmount',
                            category text PATH 'cac:TaxCategory/cbc:ID',
                            percent numeric PATH 'cac:TaxCategory/cbc:Percent') AS s) AS s
FULL JOIN (SELECT t.* FROM billing.invoice_tax_line t WHERE t.invoice_id IN (SELECT id FROM every_xml)) AS t
  ON t.invoice_id = s.id AND t.tax_rate * 100 = s.percent AND t.taxable_amount = s.taxable AND t.tax = s.tax
 AND billing_internal.tax_category(t.tax_rate) = s.category;
SELECT billing_internal.tax_category(r) AS category, r AS rate FROM unnest(ARRAY[0.10, 0.08, 0, 0.19]) AS r;

-- A preview is the run that follows it: preview_run's rows equal, row for
-- row, the drafts of the rerun made right after it, for buyer and document
-- grouping, balance-only drafts, and both sources of the due rule (the
-- schedule's override, the buyer's default).  Amounts worked out by hand.
SET search_path = public, billing;
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';

INSERT INTO brand (code, name) VALUES ('PEQ', 'Preview Equals Run KK');
INSERT INTO bank_account (brand_id, code, bank_name, branch_name, account_number, account_holder)
SELECT id, 'PEQ-BANK', 'Resona Bank', 'Tokyo', '7654321', 'Preview Equals Run KK' FROM brand WHERE code = 'PEQ';
-- QB: month end, one draft per buyer, the schedule's due rule (翌月末)
-- QD: the 20th, one draft per document, the buyers' own due rules
INSERT INTO schedule (brand_id, code, name, cycle, override_due_rule, due_rule, grouping)
SELECT id, v.code, v.name, v.cycle::cycle, v.override, v.due::due_rule, v.grouping
FROM brand, (VALUES ('QB', 'month end by buyer', 'monthly:eom', true, 'month+1:eom', 'buyer'),
                    ('QD', 'the 20th by document', 'monthly:20', false, NULL, 'document'))
            AS v(code, name, cycle, override, due, grouping)
WHERE brand.code = 'PEQ';
INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at, default_due_rule,
                   default_bank_account_id, billing_balance)
SELECT br.id, v.code, v.name, s.id, '2026-09-01 09:00', v.due::due_rule,
       CASE WHEN v.bank THEN (SELECT ba.id FROM bank_account ba WHERE ba.code = 'PEQ-BANK') END, v.balance
FROM brand br JOIN schedule s ON s.brand_id = br.id,
     (VALUES ('PQ1', 'documents at two rates', 'QB', 'net:10', true, 10000),
             ('PQ2', 'balance only', 'QB', NULL, false, 7000),
             ('PQ3', 'nothing to bill', 'QB', NULL, false, 0),
             ('PQ4', 'three documents', 'QD', 'net:30', true, 2000),
             ('PQ5', 'balance only, own due rule', 'QD', 'month+2:10', false, 4000),
             ('PQ6', 'only a non-billable delivery', 'QD', NULL, false, 0))
     AS v(code, name, schedule, due, bank, balance)
WHERE br.code = 'PEQ' AND s.code = v.schedule;
INSERT INTO document (buyer_id, brand_id, kind, document_date, billable, amount, tax_rate, reference)
SELECT b.id, b.brand_id, v.kind, v.d::date, v.billable, v.amount, v.rate, v.ref
FROM buyer b JOIN (VALUES
	-- QB, October
	('PQ1', 'delivery_invoice', '2026-10-03', true, 10000, 0.10, 'PEQ-D1'),
	('PQ1', 'delivery_invoice', '2026-10-09', true, 3333, 0.08, 'PEQ-D2'),
	('PQ1', 'return_note', '2026-10-12', true, 1000, 0.10, 'PEQ-R1'),
	('PQ1', 'payment', '2026-10-25', true, 5000, NULL, 'PEQ-P1'),
	('PQ1', 'delivery_invoice', '2026-11-02', true, 999, 0.10, 'PEQ-D3'),    -- November: not yet
	-- QD, 2026-10-21 .. 2026-11-20
	('PQ4', 'delivery_invoice', '2026-10-21', true, 5000, 0.10, 'PEQ-D4'),
	('PQ4', 'delivery_invoice', '2026-11-20', true, 1500, 0.08, 'PEQ-D5'),
	('PQ4', 'credit_note', '2026-11-01', true, 300, 0.10, 'PEQ-C1'),
	('PQ6', 'delivery_invoice', '2026-11-05', false, 777, 0.10, 'PEQ-D6')
) AS v(buyer, kind, d, billable, amount, rate, ref) ON v.buyer = b.code;

-- As of 2026-11-25 the last closed periods are October (QB) and
-- 2026-10-21 .. 2026-11-20 (QD); invoices are dated on the cut-off.
-- PQ1: purchases 10000 + 3333 - 1000 = 12333; tax at 10% 900, at 8%
--     266.64 rounded down 266, so 1166; deposit 5000; carried over
--     10000 - 5000 = 5000; total 5000 + 12333 + 1166 = 18499; due 11-30
-- PQ2: its balance of 7000 alone, due 11-30 (the schedule's rule)
-- PQ3: no documents and no balance: no draft
-- PQ4: one draft per document, each starting from 0 (not the balance):
--     5000 + 500 = 5500, 1500 + 120 = 1620, -300 - 30 = -330; due net:30
--     after 11-20 = 12-20
-- PQ5: its balance of 4000, due month+2:10 = 2027-01-10 (its own rule)
-- PQ6: its only delivery is not billable: no draft
CREATE TEMP TABLE preview AS
SELECT 'QB' AS schedule, buyer, period, invoice_date, due_date, documents, previous_billed, deposit,
       carried_over, purchases, tax, total, bank_account
FROM preview_run('QB', '2026-11-25 10:00+09', 'PEQ')
UNION ALL
SELECT 'QD', buyer, period, invoice_date, due_date, documents, previous_billed, deposit,
       carried_over, purchases, tax, total, bank_account
FROM preview_run('QD', '2026-11-25 10:00+09', 'PEQ');
SELECT * FROM preview ORDER BY schedule, buyer, total;

-- the previews wrote nothing
SELECT count(*) AS runs FROM invoice_run WHERE brand_id = (SELECT id FROM brand WHERE code = 'PEQ');

-- the reruns that follow (the last suite: their NOTICEs would name run ids
-- of the suites before this one, so they are left out)
SET client_min_messages = warning;
SELECT rerun_invoice_run('QB', as_of => '2026-11-25 10:00+09', brand => 'PEQ') IS NOT NULL AS ran;
SELECT rerun_invoice_run('QD', as_of => '2026-11-25 10:00+09', brand => 'PEQ') IS NOT NULL AS ran;
RESET client_min_messages;
SELECT s.code, r.status, r.buyer_count, r.invoice_count, r.document_count, r.purchases_total,
       r.tax_total, r.billed_total
FROM invoice_run r JOIN schedule s ON s.id = r.schedule_id
WHERE r.brand_id = (SELECT id FROM brand WHERE code = 'PEQ')
ORDER BY s.code;

-- their drafts, as the preview shows them
CREATE TEMP VIEW issued AS
SELECT s.code AS schedule, b.code AS buyer, i.period, i.invoice_date, i.due_date, i.document_count AS documents,
       i.previous_billed, i.deposit, i.carried_over, i.purchases, i.tax, i.total, ba.code AS bank_account
FROM invoice i JOIN buyer b ON b.id = i.buyer_id JOIN schedule s ON s.id = i.schedule_id
LEFT JOIN bank_account ba ON ba.id = i.bank_account_id
WHERE i.brand_id = (SELECT id FROM brand WHERE code = 'PEQ') AND i.status = 'draft';

-- row for row: nothing in one that is not in the other (as multisets)
SELECT count(*) AS drafts, (SELECT count(*) FROM preview) AS previewed FROM issued;
SELECT 'previewed, not issued' AS side, * FROM (TABLE preview EXCEPT ALL TABLE issued) AS d
UNION ALL
SELECT 'issued, not previewed', * FROM (TABLE issued EXCEPT ALL TABLE preview) AS d;

-- the drafts' tax lines add up to their tax, and their links to their
-- documents (per draft)
SELECT b.code AS buyer, i.total, t.tax_rate, t.taxable_amount, t.tax
FROM invoice i JOIN buyer b ON b.id = i.buyer_id
JOIN invoice_tax_line t ON t.buyer_id = i.buyer_id AND t.invoice_id = i.id
WHERE i.brand_id = (SELECT id FROM brand WHERE code = 'PEQ')
ORDER BY b.code, i.total, t.tax_rate;
SELECT count(*) AS drafts_not_adding_up
FROM invoice i
WHERE i.brand_id = (SELECT id FROM brand WHERE code = 'PEQ')
  AND (i.tax <> (SELECT coalesce(sum(t.tax), 0) FROM invoice_tax_line t
                 WHERE t.buyer_id = i.buyer_id AND t.invoice_id = i.id)
       OR i.document_count <> (SELECT count(*) FROM document_link l
                               WHERE l.buyer_id = i.buyer_id AND l.invoice_id = i.id));

-- and after the reruns there is nothing left to preview
SELECT count(*) AS left_to_preview
FROM (SELECT * FROM preview_run('QB', '2026-11-25 10:00+09', 'PEQ')
      UNION ALL SELECT * FROM preview_run('QD', '2026-11-25 10:00+09', 'PEQ')) AS p;

-- A past period (period => date), previewed and then rerun the same way:
-- two late deliveries of September, found after October's drafts.  PQ1
-- already has a later live invoice (October's draft), which carries its
-- balance, so its September draft starts from 0: 1234 + 123 = 1357; PQ3:
-- 500 + 40 = 540; PQ2 has only its balance, already on October's draft:
-- no September draft.
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', v.d::date, v.amount, v.rate, v.ref
FROM buyer b JOIN (VALUES ('PQ1', '2026-09-15', 1234, 0.10, 'PEQ-S1'),
                          ('PQ3', '2026-09-20', 500, 0.08, 'PEQ-S2')) AS v(buyer, d, amount, rate, ref)
  ON v.buyer = b.code;
CREATE TEMP TABLE preview_past AS
SELECT 'QB' AS schedule, buyer, period, invoice_date, due_date, documents, previous_billed, deposit,
       carried_over, purchases, tax, total, bank_account
FROM preview_run('QB', '2026-11-25 10:00+09', 'PEQ', period => '2026-09-30');
SELECT * FROM preview_past ORDER BY buyer;
SET client_min_messages = warning;
SELECT rerun_invoice_run('QB', as_of => '2026-11-25 10:00+09', brand => 'PEQ', period => '2026-09-30') IS NOT NULL AS ran;
RESET client_min_messages;
CREATE TEMP VIEW issued_past AS SELECT * FROM issued WHERE upper(period) = '2026-10-01';
SELECT count(*) AS drafts, (SELECT count(*) FROM preview_past) AS previewed FROM issued_past;
SELECT 'previewed, not issued' AS side, * FROM (TABLE preview_past EXCEPT ALL TABLE issued_past) AS d
UNION ALL
SELECT 'issued, not previewed', * FROM (TABLE issued_past EXCEPT ALL TABLE preview_past) AS d;
-- nothing left to preview for September either
SELECT count(*) AS left_to_preview FROM preview_run('QB', '2026-11-25 10:00+09', 'PEQ', period => '2026-09-01');

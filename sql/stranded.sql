-- No document is ever stranded (issue 12, item 2) and a rerun that finds
-- nothing makes no run (item 6).  Two month-end schedules of one brand:
-- SL leaves uninvoiced documents of earlier closed periods for an explicit
-- rerun (late_documents = rerun, the default), SN bills them with its next
-- scheduled run (next_run).  Each has a buyer applied before October
-- (L1, N1) and one applied after October's run (L2, N2).  The documents
-- that no scheduled run and no plain rerun billed before 0.3:
--   a delivery dated in an older closed period (a late slip);
--   the documents of a buyer whose schedule was applied after that
--   period's run;
--   the documents freed by delete_drafts or cancel_invoices once a newer
--   period has closed.
-- billing.document_status says what bills each of them, and when;
-- rerun_invoice_run(..., period => date) bills any closed period.
-- will_bill is shown without its "(due: ...)" note, which depends on the
-- clock (every issue moment here is before the suite's own runs).
SET search_path = public, billing;
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';

-- what verify() finds of the suites before this one (settings leaves a
-- broken balance on purpose): this suite adds nothing to it
CREATE TEMP TABLE verify_before AS SELECT * FROM verify();
CREATE TEMP VIEW verify_new AS SELECT * FROM verify() EXCEPT ALL SELECT * FROM verify_before;

INSERT INTO brand (code, name) VALUES ('STR', 'Stranded KK');
INSERT INTO schedule (brand_id, code, name, cycle, override_due_rule, due_rule, late_documents)
SELECT id, v.code, v.name, 'monthly:eom', true, 'month+1:eom', v.late
FROM brand, (VALUES ('SL', 'month end, late documents by rerun', 'rerun'),
                    ('SN', 'month end, late documents with the next run', 'next_run')) AS v(code, name, late)
WHERE brand.code = 'STR';
-- the setting is checked
SELECT state, message FROM err($$UPDATE billing.schedule SET late_documents = 'later' WHERE code = 'SL'$$);
SELECT code, late_documents FROM schedule WHERE brand_id = (SELECT id FROM brand WHERE code = 'STR') ORDER BY code;

INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at, billing_balance)
SELECT br.id, v.code, v.name, s.id, '2026-10-01 09:00', v.balance
FROM brand br JOIN schedule s ON s.brand_id = br.id,
     (VALUES ('L1', 'late slips left for a rerun', 'SL', 10000),
             ('N1', 'late slips with the next run', 'SN', 5000)) AS v(code, name, schedule, balance)
WHERE br.code = 'STR' AND s.code = v.schedule;
CREATE FUNCTION pg_temp.add_doc(buyer text, kind text, d date, amount numeric, rate numeric, ref text)
RETURNS void LANGUAGE sql AS $$
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, b.brand_id, kind, d, amount, rate, ref FROM billing.buyer b
	WHERE b.code = buyer AND b.brand_id = (SELECT id FROM billing.brand WHERE code = 'STR')
$$;
SELECT pg_temp.add_doc('L1', 'delivery_invoice', '2026-10-10', 10000, 0.10, 'L1-OCT');
SELECT pg_temp.add_doc('N1', 'delivery_invoice', '2026-10-10', 20000, 0.10, 'N1-OCT');

-- what every uninvoiced document of the brand waits for
CREATE TEMP VIEW str_status AS
SELECT buyer, reference, document_date, status,
       regexp_replace(will_bill, ' \(due: .*\)$', '') AS will_bill,
       will_bill_at
FROM document_status WHERE brand = 'STR';

-- October's scheduled runs (the other brands' due runs are made too: their
-- messages are not this suite's)
SET client_min_messages = error;
SELECT count(*) > 0 AS issued FROM issue_drafts('2026-11-01 00:10+09');
RESET client_min_messages;
SELECT s.code, r.kind, r.period, r.status, r.invoice_count
FROM invoice_run r JOIN schedule s ON s.id = r.schedule_id
WHERE r.brand_id = (SELECT id FROM brand WHERE code = 'STR') ORDER BY s.code, r.id;
-- N1 confirms October: its balance 5000 + 20000 + 2000 = 27000
SELECT count(*) AS confirmed FROM confirm_invoices(VARIADIC ARRAY(
	SELECT i.id FROM invoice i JOIN buyer b ON b.id = i.buyer_id WHERE b.code = 'N1'));

-- after October's runs: a late slip of October for each (entered in
-- November), and two buyers applied on November 3rd with October documents
SELECT pg_temp.add_doc('L1', 'delivery_invoice', '2026-10-20', 3000, 0.08, 'L1-OCT-LATE');
SELECT pg_temp.add_doc('N1', 'delivery_invoice', '2026-10-20', 1010, 0.08, 'N1-OCT-LATE');
INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at)
SELECT br.id, v.code, v.name, s.id, '2026-11-03 10:00'
FROM brand br JOIN schedule s ON s.brand_id = br.id,
     (VALUES ('L2', 'applied after October''s run', 'SL'),
             ('N2', 'applied after October''s run', 'SN')) AS v(code, name, schedule)
WHERE br.code = 'STR' AND s.code = v.schedule;
SELECT pg_temp.add_doc('L2', 'delivery_invoice', '2026-10-15', 5000, 0.10, 'L2-OCT');
SELECT pg_temp.add_doc('N2', 'delivery_invoice', '2026-10-15', 6000, 0.10, 'N2-OCT');
-- November's documents
SELECT pg_temp.add_doc('L1', 'delivery_invoice', '2026-11-10', 1000, 0.10, 'L1-NOV');
SELECT pg_temp.add_doc('N1', 'delivery_invoice', '2026-11-10', 2005, 0.10, 'N1-NOV');
SELECT pg_temp.add_doc('N1', 'delivery_invoice', '2026-11-12', 1010, 0.08, 'N1-NOV-8');
SELECT pg_temp.add_doc('N1', 'payment', '2026-11-25', 25000, NULL, 'N1-PAY');

-- each uninvoiced document says what will bill it: November's documents
-- November's run; N1's late slip (SN: next_run) November's run too; L1's
-- late slip (SL) and the documents of L2 and N2 (applied after October's
-- run, so no scheduled run takes their October) nothing: the rerun to call
SELECT * FROM str_status WHERE status = 'uninvoiced' ORDER BY buyer, document_date;

-- November's scheduled runs
SET client_min_messages = error;
SELECT count(*) > 0 AS issued FROM issue_drafts('2026-12-01 00:10+09');
RESET client_min_messages;
-- SL (rerun) bills November only: L1 1000 + 100 on its balance 10000
-- (October's draft not confirmed); the late slip waits.
-- SN (next_run) bills N1's November and its October late slip on one
-- invoice, each on its own date, tax once per rate over both periods:
--   前回御請求額 previous_billed 27000, 御入金額 deposit 25000,
--   繰越金額 carried_over 2000, 今回御買上額 purchases 2005 + 1010 + 1010 = 4025,
--   消費税額 tax 10%: 200.5 -> 200, 8%: (1010 + 1010) * 0.08 = 161.6 -> 161
--   (per document it would be 80 + 80 = 160), 361;
--   今回御請求額 total 2000 + 4025 + 361 = 6386; late_since 2026-10-20.
-- N2's October document is not carried: N2's first period is November.
SELECT b.code AS buyer, s.code AS schedule, r.kind, i.period, i.late_since, i.status, i.document_count,
       i.previous_billed, i.deposit, i.carried_over, i.purchases, i.tax, i.total
FROM invoice i JOIN buyer b ON b.id = i.buyer_id JOIN schedule s ON s.id = i.schedule_id
JOIN invoice_run r ON r.id = i.run_id
WHERE i.brand_id = (SELECT id FROM brand WHERE code = 'STR') ORDER BY b.code, i.id;
SELECT b.code AS buyer, t.tax_rate, t.taxable_amount, t.tax
FROM invoice i JOIN buyer b ON b.id = i.buyer_id
JOIN invoice_tax_line t ON t.buyer_id = i.buyer_id AND t.invoice_id = i.id
WHERE i.brand_id = (SELECT id FROM brand WHERE code = 'STR') AND i.late_since IS NOT NULL
ORDER BY t.tax_rate;
-- the invoice's lines keep their own dates
SELECT d.reference, d.document_date, i.period, i.late_since
FROM document_link l JOIN document d ON d.buyer_id = l.buyer_id AND d.id = l.document_id
JOIN invoice i ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id
WHERE i.late_since IS NOT NULL ORDER BY d.document_date, d.reference;
-- verify() holds: the late documents are inside what the invoice says it carries
SELECT count(*) AS violations FROM verify_new;
-- ... and a late_since that lies is caught (a hand repair gone wrong)
BEGIN;
SET LOCAL billing.maintenance = on;
UPDATE billing.invoice SET late_since = '2026-10-25' WHERE late_since IS NOT NULL;
SELECT invariant, regexp_replace(detail, '(invoice|document) [0-9]+', '\1 N', 'g') AS detail
FROM verify_new ORDER BY 1, 2;
ROLLBACK;
SELECT * FROM str_status WHERE status = 'uninvoiced' ORDER BY buyer, document_date;

-- freed once a newer period has closed: L1's October draft deleted (SL:
-- nothing will, the rerun is named); N1's November invoice cancelled (SN:
-- December's run will bill its documents, October's late slip included)
SELECT count(*) AS deleted FROM delete_drafts(VARIADIC ARRAY(SELECT i.id FROM invoice i JOIN buyer b ON b.id = i.buyer_id
                           WHERE b.code = 'L1' AND upper(i.period) = '2026-11-01'));
SELECT count(*) AS cancelled FROM cancel_invoices(VARIADIC ARRAY(
	SELECT i.id FROM invoice i JOIN buyer b ON b.id = i.buyer_id
	WHERE b.code = 'N1' AND upper(i.period) = '2026-12-01'));
SELECT * FROM str_status WHERE status = 'uninvoiced' ORDER BY buyer, document_date;

-- period => date: refused for a period not closed yet, before the schedule
-- came into use, or not a date at all
SELECT state, message, detail, hint
FROM err($$SELECT billing.rerun_invoice_run('SL', as_of => '2026-12-05 10:00+09', brand => 'STR', period => '2026-12-15')$$);
SELECT state, message, detail, hint
FROM err($$SELECT billing.rerun_invoice_run('SL', brand => 'STR', period => '2026-08-31')$$);
SELECT state, message
FROM err($$SELECT * FROM billing.preview_run('SL', brand => 'STR', period => 'infinity')$$);
-- nothing was queued by those
SELECT count(*) AS reruns FROM invoice_run
WHERE brand_id = (SELECT id FROM brand WHERE code = 'STR') AND kind = 'rerun';

-- the call document_status names bills October: L1's two October
-- documents (its later November draft carries its balance, so this one
-- starts from 0: 10000 + 3000, tax 1000 + 240 = 14240) and L2's (5500);
-- the preview shows it first
SELECT buyer, period, documents, previous_billed, deposit, carried_over, purchases, tax, total
FROM preview_run('SL', '2026-12-05 10:00+09', 'STR', period => '2026-10-31') ORDER BY buyer;
SET client_min_messages = warning;
SELECT rerun_invoice_run('SL', as_of => '2026-12-05 10:00+09', brand => 'STR', period => '2026-10-31') IS NOT NULL AS ran;
RESET client_min_messages;
SELECT r.kind, r.period, r.status, r.buyer_count, r.invoice_count, r.document_count, r.billed_total
FROM invoice_run r JOIN schedule s ON s.id = r.schedule_id
WHERE s.code = 'SL' AND r.kind = 'rerun' AND s.brand_id = (SELECT id FROM brand WHERE code = 'STR');
-- a rerun of SN's October (any date of it will do): N2's document and
-- N1's late slip, freed by the cancel; N1 has no later live invoice now,
-- so its balance is on this draft: 27000 + 1010 + 80 = 28090
SET client_min_messages = warning;
SELECT rerun_invoice_run('SN', as_of => '2026-12-05 10:00+09', brand => 'STR', period => '2026-10-01') IS NOT NULL AS ran;
RESET client_min_messages;
SELECT b.code AS buyer, i.period, i.late_since, i.document_count, i.previous_billed, i.purchases, i.tax, i.total
FROM invoice i JOIN buyer b ON b.id = i.buyer_id JOIN invoice_run r ON r.id = i.run_id
WHERE i.brand_id = (SELECT id FROM brand WHERE code = 'STR') AND r.kind = 'rerun'
ORDER BY b.code;

-- nothing to re-run: no run, NULL, a NOTICE (and a server log line)
SELECT rerun_invoice_run('SL', as_of => '2026-12-05 10:00+09', brand => 'STR', period => '2026-10-31') AS run;
SELECT count(*) AS reruns FROM invoice_run
WHERE brand_id = (SELECT id FROM brand WHERE code = 'STR') AND kind = 'rerun';

-- December's scheduled run (simulated) bills N1's November documents,
-- freed by the cancel, with its December (none): 2005 + 1010, tax 200 +
-- 80 (80.8 rounded down), deposit 25000: 2000 + 3015 + 280 = 5295, late
-- since 2026-11-10.  L1 (SL) gets only its balance: its October rerun
-- draft and November draft are not confirmed.
SET client_min_messages = error;
SELECT count(*) > 0 AS issued FROM issue_drafts('2027-01-01 00:10+09', simulate => true);
RESET client_min_messages;
SELECT b.code AS buyer, i.period, i.late_since, i.document_count, i.previous_billed, i.deposit,
       i.carried_over, i.purchases, i.tax, i.total
FROM invoice i JOIN buyer b ON b.id = i.buyer_id
WHERE i.brand_id = (SELECT id FROM brand WHERE code = 'STR') AND upper(i.period) = '2027-01-01'
ORDER BY b.code;

-- in the end no document of the brand is stranded, none is on two live
-- invoices, and verify() finds nothing
SELECT status, count(*) FROM str_status GROUP BY status ORDER BY status;
SELECT count(*) AS twice FROM (
	SELECT l.document_id FROM document_link l JOIN invoice i ON i.buyer_id = l.buyer_id AND i.id = l.invoice_id
	WHERE i.status <> 'cancelled' AND i.brand_id = (SELECT id FROM brand WHERE code = 'STR')
	GROUP BY l.document_id HAVING count(*) > 1) AS t;
SELECT count(*) AS violations FROM verify_new;

-- Issuing drafts and re-running invoice runs: the seeds' stories with
-- amounts worked out by hand (in the comments above each check).
--
-- A database of its own: issue_drafts bills every schedule of the
-- database, and the suite shows exact ids (brand 1, run 1 is its first run,
-- invoice 3 is confirmed), whatever suites ran before it.
SELECT current_database() AS suite_db \gset
CREATE DATABASE billing_issue;
\c billing_issue
SET client_min_messages = warning;
CREATE EXTENSION billing;
RESET client_min_messages;
-- err(q), as test_setup makes it in the suites' database
CREATE FUNCTION public.err(q text, OUT state text, OUT message text,
                           OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	state := 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;
SET search_path = public, billing;
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
SET intervalstyle = postgres;
SET client_min_messages = notice;

-- one brand in Tokyo (JPY, tax rounded down), with a bank account and members
INSERT INTO brand (code, name) VALUES ('ACME', 'Acme Trading KK');
INSERT INTO bank_account (brand_id, code, bank_name, branch_name, account_number, account_holder)
VALUES (1, 'MAIN', 'Mizuho Bank', 'Marunouchi', '1234567', 'Acme Trading KK');
INSERT INTO member (brand_id, code, name, email, notify_scheduled_runs) VALUES
	(1, 'sato', 'Sato Hanako', 'sato@acme.example', true),
	(1, 'kato', 'Kato Jiro', 'kato@acme.example', false);

-- schedules: the 20th (due end of next month, 翌月末), end of month (buyers'
-- own due rules), Fridays (NET30, dated on the issue day), day 60 of the year
INSERT INTO schedule (brand_id, code, name, cycle, override_due_rule, due_rule, invoice_date_mode) VALUES
	(1, 'M20', '20日締め翌月末払い', 'monthly:20', true, 'month+1:eom', 'cutoff'),
	(1, 'EOM', '月末締め', 'monthly:eom', false, NULL, 'cutoff'),
	(1, 'FRI', 'Fridays NET30', 'weekly:fri', true, 'net:30', 'issue_date'),
	(1, 'Y60', 'Day 60', 'yearly:60', false, NULL, 'cutoff');
SELECT code, cycle, override_due_rule, due_rule, invoice_date_mode, issue_delay, grouping, enabled
FROM schedule ORDER BY id;
-- Y60 bills from 2024 (B7 below): it says so by its creation time, since an
-- application may be back-dated at most a year before its schedule was
-- created (billing_internal.buyer_stamp_schedule)
UPDATE schedule SET created_at = '2023-06-01 09:00' WHERE code = 'Y60';

INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at, default_due_rule,
                   default_bank_account_id, billing_balance) VALUES
	(1, 'B1', 'Buyer One', 1, '2026-10-01 09:00', 'net:60', 1, 20000),
	(1, 'B2', 'Buyer Two (no bank account)', 1, '2026-10-01 09:00', NULL, NULL, 0),
	(1, 'B3', 'Buyer Three (balance only)', 1, '2026-10-25 09:00', NULL, 1, 5000),
	(1, 'B4', 'Buyer Four (no due rule, no bank)', 2, '2026-10-15 09:00', NULL, NULL, 0),
	(1, 'B5', 'Buyer Five', 2, '2026-10-15 09:00', 'month+2:10', 1, 0),
	(1, 'B6', 'Buyer Six', 3, '2026-11-01 09:00', NULL, NULL, 0),
	(1, 'B7', 'Buyer Seven', 4, '2024-01-01 09:00', NULL, NULL, 0),
	-- applied 5 minutes after the 2026-11-21 00:05 issue moment of M20
	(1, 'B8', 'Buyer Eight (applied late)', 1, '2026-11-21 00:10', NULL, NULL, 0);

-- applying a schedule stamps the moment; changing it stamps it again
INSERT INTO buyer (brand_id, code, name, schedule_id) VALUES (1, 'B9', 'Buyer Nine', 1);
SELECT code, schedule_applied_at > now() - interval '1 minute' AS stamped_now FROM buyer WHERE code = 'B9';
UPDATE buyer SET schedule_id = NULL WHERE code = 'B9';
SELECT code, schedule_id, schedule_applied_at FROM buyer WHERE code = 'B9';
DELETE FROM buyer WHERE code = 'B9';

CREATE TEMP VIEW b AS SELECT id, code FROM buyer;
INSERT INTO document (buyer_id, brand_id, kind, document_date, billable, amount, tax_rate, reference)
SELECT (SELECT id FROM b WHERE code = v.buyer), 1, v.kind, v.d::date, v.billable, v.amount, v.rate, v.ref
FROM (VALUES
	-- M20, period 2026-10-21..2026-11-20
	('B1', 'delivery_invoice', '2026-10-21', true, 10000, 0.10, 'D-101'),  -- first day of the period
	('B1', 'delivery_invoice', '2026-11-20', true, 3333, 0.10, 'D-102'),   -- the cut-off day itself
	('B1', 'delivery_invoice', '2026-11-10', true, 5555, 0.08, 'D-103'),
	('B1', 'delivery_invoice', '2026-11-11', false, 9999, 0.10, 'D-104'),  -- non-billable: never
	('B1', 'return_note', '2026-11-12', true, 1000, 0.10, 'R-101'),
	('B1', 'credit_note', '2026-11-15', true, 500, 0.08, 'C-101'),
	('B1', 'payment', '2026-11-01', true, 8000, NULL, 'P-101'),
	('B1', 'delivery_invoice', '2026-10-20', true, 7000, 0.10, 'D-105'),   -- previous period
	('B1', 'delivery_invoice', '2026-11-21', true, 4444, 0.10, 'D-106'),   -- next period
	('B2', 'delivery_invoice', '2026-11-05', true, 1234, 0.10, 'D-201'),
	('B8', 'delivery_invoice', '2026-11-10', true, 2000, 0.10, 'D-801'),
	-- EOM, period 2026-11-01..2026-11-30
	('B4', 'delivery_invoice', '2026-11-30', true, 2000, 0.10, 'D-401'),
	('B4', 'return_note', '2026-11-02', true, 2505, 0.10, 'R-401'),
	('B5', 'delivery_invoice', '2026-11-15', true, 1005, 0.08, 'D-501'),
	('B5', 'delivery_invoice', '2026-11-16', true, 1005, 0.08, 'D-502'),
	('B5', 'delivery_invoice', '2026-11-17', true, 1005, 0.08, 'D-503'),
	-- FRI, period Sat 2026-11-14..Fri 2026-11-20
	('B6', 'delivery_invoice', '2026-11-19', true, 1000, 0.10, 'D-601'),
	-- Y60, period 2023-03-02..2024-02-29
	('B7', 'delivery_invoice', '2024-02-29', true, 100, 0.10, 'D-701')
) AS v(buyer, kind, d, billable, amount, rate, ref);

CREATE TEMP VIEW runs AS
SELECT r.id, s.code AS schedule, r.kind, r.period, r.cutoff_date, r.issue_at, r.invoice_date,
       r.status, r.buyer_count AS buyers, r.invoice_count AS invoices,
       r.document_count AS documents, r.billed_total AS total, r.schedule_id, r.brand_id
FROM invoice_run r JOIN schedule s ON s.id = r.schedule_id;
-- issue(as_of): issue_drafts, with the schedule's code
CREATE FUNCTION pg_temp.issue(as_of timestamptz) RETURNS TABLE (
	id bigint, schedule text, kind text, period daterange, cutoff_date date, issue_at timestamptz,
	invoice_date date, status text, buyers integer, invoices integer, documents integer,
	total numeric, schedule_id bigint, brand_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
	made bigint[] := ARRAY(SELECT i.run_id FROM billing.issue_drafts(as_of, simulate => true) AS i);
BEGIN
	-- the runs made, in detail (issue_drafts returns their summary)
	RETURN QUERY
	SELECT r.id, s.code, r.kind, r.period, r.cutoff_date, r.issue_at, r.invoice_date, r.status,
	       r.buyer_count, r.invoice_count, r.document_count, r.billed_total, r.schedule_id, r.brand_id
	FROM billing.invoice_run r JOIN billing.schedule s ON s.id = r.schedule_id
	WHERE r.id = ANY (made)
	ORDER BY r.id;
END
$$;
CREATE TEMP VIEW drafts AS
SELECT i.id, s.code AS schedule, b.code AS buyer, i.status, i.period, i.invoice_date, i.due_date,
       ba.code AS bank, i.previous_billed, i.deposit, i.carried_over, i.purchases, i.tax, i.total,
       i.document_count AS docs
FROM invoice i JOIN buyer b ON b.id = i.buyer_id JOIN schedule s ON s.id = i.schedule_id
LEFT JOIN bank_account ba ON ba.id = i.bank_account_id;

-- Y60: the cut-off is 2024-02-29 (day 60 of a leap year); its issue moment
-- is 2024-03-01 00:05 JST.  At 00:04 nothing is due; at 00:06 one run.
SELECT count(*) AS runs FROM pg_temp.issue('2024-03-01 00:04+09');
SELECT id, schedule, kind, period, cutoff_date, issue_at, status, buyers, invoices, documents, total
FROM pg_temp.issue('2024-03-01 00:06+09')
ORDER BY id;
-- B7: 100 + 10% tax 10 = 110, dated on the cut-off, no due rule, no bank
SELECT * FROM drafts WHERE schedule = 'Y60';

-- 2026-11-21 00:04 JST: catch-up of everything due since each schedule
-- came into use: Y60 for 2025-03-01 and 2026-03-01 (empty), M20 for
-- 2026-10-20 (B1's D-105), EOM for 2026-10-31 (empty), FRI for 11-06 and
-- 11-13 (empty).  M20's 2026-11-20 is due at 00:05, not yet.
SELECT id, schedule, period, cutoff_date, issue_at, status, buyers, invoices, documents, total
FROM pg_temp.issue('2026-11-21 00:04+09');
-- B1, October: 7000 at 10% = tax 700; previous billed = balance 20000;
-- total 20000 - 0 + 7000 + 700 = 27700; due month+1:eom of 10-20 = 11-30
SELECT * FROM drafts WHERE schedule = 'M20';

-- 00:06 JST: M20 for 2026-11-20 and FRI for 2026-11-20
SELECT id, schedule, period, cutoff_date, issue_at, invoice_date, status, buyers, invoices, documents, total
FROM pg_temp.issue('2026-11-21 00:06+09');
-- B1, November: 10% net 10000 + 3333 - 1000 = 12333, tax 1233.3 -> 1233;
--   8% net 5555 - 500 = 5055, tax 404.4 -> 404; purchases 17388, tax 1637;
--   deposit 8000; carried 20000 - 8000 = 12000; total 12000 + 17388 + 1637 = 31025.
--   D-104 (non-billable) and D-106 (next period) stay out.
-- B2: 1234, tax 123.4 -> 123, total 1357, no bank account.
-- B3: no documents, balance 5000: a balance-only draft of 5000.
-- B8: applied after the issue moment: nothing yet.
-- FRI/B6: 1000 + 100, dated on the issue day 11-21, due NET30 12-21.
SELECT * FROM drafts WHERE period = '[2026-10-21,2026-11-21)' OR schedule = 'FRI' ORDER BY id;
SELECT b.code AS buyer, t.tax_rate, t.taxable_amount, t.tax
FROM invoice_tax_line t JOIN b ON b.id = t.buyer_id
JOIN invoice i ON i.id = t.invoice_id AND i.buyer_id = t.buyer_id
WHERE i.period = '[2026-10-21,2026-11-21)' ORDER BY b.code, t.tax_rate;

-- idempotent: the same call again issues nothing
SELECT count(*) AS runs FROM pg_temp.issue('2026-11-21 00:06+09');
SELECT count(*) AS runs FROM pg_temp.issue('2026-11-21 09:00+09');

-- drafts do not touch the balance
SELECT code, billing_balance FROM buyer WHERE code IN ('B1', 'B3') ORDER BY code;

-- EOM at 2026-12-01 00:05 JST.
-- B4: 10% net 2000 - 2505 = -505, tax -50.5 -> -50 (toward zero), total -555;
--     no due rule anywhere and no bank account: blank, not an error.
-- B5: three deliveries of 1005 at 8%: tax once per rate 3015 * 0.08 = 241.2
--     -> 241 (per document it would be 3 * 80 = 240); due month+2:10 = 2027-01-10.
SELECT schedule, period, status, buyers, invoices, documents, total
FROM pg_temp.issue('2026-12-01 00:05+09') ORDER BY id;
SELECT * FROM drafts WHERE schedule = 'EOM' ORDER BY id;

-- A delivery for B2 is found late; B8 (applied late) has one too.  The rerun
-- takes the last closed period as of 11-22 (10-21..11-20): new drafts for
-- B2 (1500 + 150) and B8 (2000 + 200); B2's first draft is not added to;
-- B3 already has a draft for the period, so no second balance-only one.
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
VALUES ((SELECT id FROM b WHERE code = 'B2'), 1, 'delivery_invoice', '2026-11-18', 1500, 0.10, 'D-202');
SELECT rerun_invoice_run('M20', notify => '{kato}', as_of => '2026-11-22 10:00+09') AS rerun_id;
SELECT id, schedule, kind, period, status, buyers, invoices, documents, total FROM runs WHERE kind = 'rerun';
SELECT * FROM drafts WHERE schedule = 'M20' AND buyer IN ('B2', 'B8') ORDER BY id;
-- every billable document of the period is on exactly one invoice
SELECT d.reference, count(l.*) AS links
FROM document d LEFT JOIN document_link l ON l.buyer_id = d.buyer_id AND l.document_id = d.id
WHERE d.document_date BETWEEN '2026-10-21' AND '2026-11-20'
  AND d.buyer_id IN (SELECT id FROM buyer WHERE schedule_id = 1)
GROUP BY d.reference ORDER BY d.reference;

-- a rerun with nothing new makes a run with no drafts
SELECT rerun_invoice_run('M20', as_of => '2026-11-22 11:00+09') AS rerun_id;

-- delete B2's first draft: D-201 is free again, and the next rerun bills it
SELECT count(*) AS deleted FROM delete_drafts((SELECT min(id) FROM drafts WHERE buyer = 'B2'));
SELECT count(*) AS d201_links FROM document_link l JOIN document d ON d.id = l.document_id AND d.buyer_id = l.buyer_id
WHERE d.reference = 'D-201';
SELECT rerun_invoice_run('M20', as_of => '2026-11-22 12:00+09') AS rerun_id;
SELECT * FROM drafts WHERE buyer = 'B2' ORDER BY id;

-- linked documents are frozen; unlinked ones are not
SELECT * FROM err($$UPDATE document SET amount = 1 WHERE reference = 'D-101'$$);
SELECT * FROM err($$DELETE FROM document WHERE reference = 'D-101'$$);
UPDATE document SET amount = 4445 WHERE reference = 'D-106';
UPDATE document SET never_invoice = false WHERE reference = 'D-101';

-- confirm B1's November draft: balance 20000 + 17388 + 1637 - 8000 = 31025
SELECT invoice_id, status, total FROM confirm_invoices((SELECT id FROM drafts WHERE buyer = 'B1' AND period = '[2026-10-21,2026-11-21)'));
SELECT code, billing_balance FROM buyer WHERE code = 'B1';
-- confirming it again (a retry) succeeds, says so, and changes nothing
SELECT * FROM err($$SELECT confirm_invoices((SELECT id FROM drafts WHERE buyer = 'B1' AND period = '[2026-10-21,2026-11-21)'))$$);
SELECT code, billing_balance FROM buyer WHERE code = 'B1';
-- all or nothing: one missing id refuses the whole selection
SELECT * FROM err($$SELECT confirm_invoices((SELECT id FROM drafts WHERE buyer = 'B1' AND period = '[2026-09-21,2026-10-21)'), 999999)$$);
SELECT buyer, status FROM drafts WHERE buyer = 'B1' ORDER BY id;
-- then October's, with November's again in the selection (a retry of a
-- larger batch): October is confirmed, November reported, 31025 + 7000 + 700 = 38725
SELECT status, count(*) FROM confirm_invoices(VARIADIC ARRAY(SELECT id FROM drafts WHERE buyer = 'B1')) GROUP BY status;
SELECT code, billing_balance FROM buyer WHERE code = 'B1';
-- a confirmed invoice cannot be deleted; its documents stay linked
SELECT * FROM err($$SELECT delete_drafts((SELECT max(id) FROM drafts WHERE buyer = 'B1'))$$);

-- quarantine, reject (with a reason), cancel (documents freed)
SELECT invoice_id, status FROM quarantine_invoices('check prices', (SELECT id FROM drafts WHERE buyer = 'B5'));
SELECT * FROM err($$SELECT reject_invoices('  ', (SELECT id FROM drafts WHERE buyer = 'B5'))$$);
SELECT invoice_id, status FROM reject_invoices('wrong prices', (SELECT id FROM drafts WHERE buyer = 'B5'));
SELECT invoice_id, status FROM cancel_invoices((SELECT id FROM drafts WHERE buyer = 'B5'));
SELECT count(*) AS b5_links FROM document_link WHERE buyer_id = (SELECT id FROM b WHERE code = 'B5');
SELECT * FROM err($$SELECT confirm_invoices((SELECT id FROM drafts WHERE buyer = 'B5'))$$);
-- every invoice an action cannot take is named at once
SELECT * FROM err($$SELECT delete_drafts(VARIADIC ARRAY(SELECT id FROM drafts WHERE buyer = 'B1'))$$);

-- A run that fails leaves nothing but its failed run row and log line; the
-- next issue_drafts tries the period again.
CREATE FUNCTION pg_temp.refuse_b6() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.buyer_id = (SELECT id FROM billing.buyer WHERE code = 'B6') THEN
		RAISE EXCEPTION 'simulated failure for B6';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER refuse_b6 BEFORE INSERT ON invoice FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_b6();
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
VALUES ((SELECT id FROM b WHERE code = 'B6'), 1, 'delivery_invoice', '2026-12-03', 300, 0.10, 'D-602');
-- the call raises naming the run (here caught, as an application would:
-- the failed run stays committed all the same)
SELECT * FROM err($$SELECT schedule, cutoff_date, status, invoices FROM pg_temp.issue('2026-12-05 00:06+09')$$);
SELECT r.status, r.error, l.level, l.message
FROM invoice_run r JOIN run_log l ON l.run_id = r.id WHERE r.status = 'failed';
SELECT count(*) AS d602_links FROM document_link l JOIN document d ON d.id = l.document_id AND d.buyer_id = l.buyer_id
WHERE d.reference = 'D-602';
DROP TRIGGER refuse_b6 ON invoice;
SELECT schedule, cutoff_date, status, invoices, documents, total FROM pg_temp.issue('2026-12-05 00:07+09');

-- notifications: one outbox row per member and run (sato hears of every
-- scheduled run; kato asked for the first rerun)
SELECT n.email, count(*) FROM notification n GROUP BY n.email ORDER BY n.email;
SELECT subject FROM notification WHERE email = 'kato@acme.example';

-- the seed's "delayed to the 5th" schedule dated on the 1st: November closes
-- on 11-30, issues on 12-05 at 00:05, and its drafts are dated 2026-12-01
INSERT INTO schedule (brand_id, code, name, cycle, invoice_date_mode, issue_delay)
VALUES (1, 'EOM5', 'month end, issued on the 5th', 'monthly:eom', 'first_of_month', '4 days 5 minutes');
INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at)
VALUES (1, 'B10', 'Buyer Ten', (SELECT id FROM schedule WHERE code = 'EOM5'), '2026-11-10 09:00');
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
VALUES ((SELECT id FROM b WHERE code = 'B10'), 1, 'delivery_invoice', '2026-11-11', 5000, 0.10, 'D-1001');
SELECT count(*) AS runs FROM pg_temp.issue('2026-12-05 00:04+09') WHERE schedule_id = (SELECT id FROM schedule WHERE code = 'EOM5');
SELECT cutoff_date, issue_at, invoice_date, invoices, total FROM pg_temp.issue('2026-12-05 00:05+09')
WHERE schedule_id = (SELECT id FROM schedule WHERE code = 'EOM5');

-- a brand in euros, tax half up to the cent, one invoice per document
INSERT INTO brand (code, name, time_zone, currency, currency_scale, tax_rounding)
VALUES ('EURO', 'Euro GmbH', 'Europe/Berlin', 'EUR', 2, 'half_up');
INSERT INTO schedule (brand_id, code, name, cycle, grouping)
VALUES (2, 'M20', 'Monthly per document', 'monthly:eom', 'document');
INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at)
VALUES (2, 'E1', 'Euro Buyer', (SELECT id FROM schedule WHERE brand_id = 2), '2026-11-02 09:00');
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) VALUES
	((SELECT id FROM buyer WHERE code = 'E1'), 2, 'delivery_invoice', '2026-11-03', 10.05, 0.10, 'E-1'),
	((SELECT id FROM buyer WHERE code = 'E1'), 2, 'delivery_invoice', '2026-11-04', 20.04, 0.19, 'E-2');
-- midnight in Berlin on 12-01 is 08:00 JST; 00:05 Berlin is 08:05 JST.
-- E-1: 10.05 * 0.10 = 1.005 -> 1.01; E-2: 20.04 * 0.19 = 3.8076 -> 3.81
SELECT count(*) AS runs FROM pg_temp.issue('2026-12-01 08:04+09') WHERE brand_id = 2;
SELECT cutoff_date, invoices, documents, total FROM pg_temp.issue('2026-12-01 08:05+09') WHERE brand_id = 2;
SELECT i.purchases, i.tax, i.total, i.currency FROM invoice i WHERE i.brand_id = 2 ORDER BY i.purchases;
-- the schedule code M20 now exists in two brands
SELECT * FROM err($$SELECT rerun_invoice_run('M20')$$);
SELECT * FROM err($$SELECT rerun_invoice_run('M20', brand => 'NOPE')$$);

-- rounding modes, including negative amounts
SELECT a, billing_internal.round_amount(a, 0, 'down') AS down, billing_internal.round_amount(a, 0, 'half_up') AS half_up,
       billing_internal.round_amount(a, 0, 'up') AS up, billing_internal.round_amount(a, 2, 'up') AS up_cents
FROM unnest(ARRAY[123.4, 123.5, -123.5, -123.4, 100, 0.001]::numeric[]) AS a;

-- bad input: a clear error, nothing changed
SELECT q AS query, e.state AS sqlstate, e.message, e.hint
FROM unnest(ARRAY[
	$q$INSERT INTO billing.schedule (brand_id, code, name, cycle) VALUES (1, 'M20', 'again', 'daily')$q$,
	$q$INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule) VALUES (1, 'X1', 'x', 'daily', true)$q$,
	$q$INSERT INTO billing.schedule (brand_id, code, name, cycle, due_rule) VALUES (1, 'X2', 'x', 'daily', 'net:30')$q$,
	$q$INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule) VALUES (1, 'X3', 'x', 'monthly:eom', true, 'month+0:eom')$q$,
	$q$INSERT INTO billing.schedule (brand_id, code, name, cycle, override_due_rule, due_rule) VALUES (1, 'X4', 'x', 'monthly:20', true, 'month+0:10')$q$,
	$q$INSERT INTO billing.schedule (brand_id, code, name, cycle) VALUES (1, 'X5', 'x', 'monthly:32')$q$,
	$q$INSERT INTO billing.schedule (brand_id, code, name, cycle, issue_delay) VALUES (1, 'X6', 'x', 'daily', '-1 minute')$q$,
	$q$INSERT INTO billing.schedule (brand_id, code, name, cycle, issue_delay) VALUES (1, 'X7', 'x', 'daily', '1 month')$q$,
	$q$INSERT INTO billing.brand (code, name, time_zone) VALUES ('TZ', 'x', 'Mars/Olympus')$q$,
	$q$INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) VALUES (1, 1, 'invoice', '2026-11-01', 1, 0.1, 'X')$q$,
	$q$INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) VALUES (1, 1, 'return_note', '2026-11-01', -5, 0.1, 'X')$q$,
	$q$INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) VALUES (1, 1, 'delivery_invoice', '2026-11-01', 5, 1.5, 'X')$q$,
	$q$INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) VALUES (1, 1, 'delivery_invoice', '2026-11-01', 5, NULL, 'X')$q$,
	$q$INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) VALUES (1, 1, 'payment', '2026-11-01', 5, 0.1, 'X')$q$,
	$q$INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) VALUES (1, 1, 'delivery_invoice', '2026-11-01', 5, 0.1, 'D-101')$q$,
	$q$INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) VALUES (1, 2, 'delivery_invoice', '2026-11-01', 5, 0.1, 'Y')$q$,
	$q$INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) VALUES (1, 1, 'delivery_invoice', '2026-11-01', 100.5, 0.1, 'SEN')$q$,
	$q$INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference) SELECT id, 2, 'delivery_invoice', '2026-11-01', 12.345, 0.1, 'MILLS' FROM billing.buyer WHERE code = 'E1'$q$,
	$q$UPDATE billing.document SET amount = 4444.4 WHERE reference = 'D-106'$q$,
	$q$SELECT billing.rerun_invoice_run('NOPE', brand => 'ACME')$q$,
	$q$SELECT billing.rerun_invoice_run('', brand => 'ACME')$q$,
	$q$SELECT billing.rerun_invoice_run('EOM', notify => '{kato,nobody}')$q$,
	$q$SELECT billing.rerun_invoice_run('EOM', as_of => NULL)$q$,
	$q$SELECT billing.issue_drafts(NULL)$q$,
	$q$SELECT billing.issue_drafts('infinity')$q$,
	$q$SELECT billing.delete_drafts(VARIADIC NULL)$q$,
	$q$SELECT billing.delete_drafts(VARIADIC ARRAY[NULL]::bigint[])$q$,
	$q$SELECT billing.cron_setup()$q$,
	$q$DELETE FROM billing.buyer WHERE code = 'B3'$q$,
	$q$DELETE FROM billing.invoice_run WHERE id = 1$q$]) WITH ORDINALITY AS t(q, n), err(q) AS e
ORDER BY n;

-- a run inside REPEATABLE READ is refused (it must see what other runs linked)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM err($$SELECT billing.rerun_invoice_run('EOM', brand => 'ACME')$$);
ROLLBACK;

-- functions are labelled for what they do
SELECT p.proname, p.provolatile, p.proparallel, p.prosecdef
FROM pg_proc p WHERE p.pronamespace IN ('billing'::regnamespace, 'billing_internal'::regnamespace)
  AND p.proname IN ('issue_drafts', 'rerun_invoice_run', 'confirm_invoices', 'delete_drafts',
                    'round_amount', 'cron_setup', 'check_document')
ORDER BY p.proname;

\c :suite_db
-- (test/t/005_invoice_xml.pl keeps it, to validate its invoices' XML)
\if :{?keep_suite_db}
\else
DROP DATABASE billing_issue;
\endif

-- The pre-invoicing report (preview_run), background reruns, and cancel_run.
--
-- A database of its own: the suite shows exact run ids (its
-- first rerun is run 1), whatever suites ran before it.
SELECT current_database() AS suite_db \gset
CREATE DATABASE billing_run_actions;
\c billing_run_actions
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


INSERT INTO brand (code, name) VALUES ('PRV', 'Preview KK');
INSERT INTO member (brand_id, code, name, email)
SELECT id, 'ito', 'Ito', 'ito@preview.example' FROM brand WHERE code = 'PRV';
INSERT INTO schedule (brand_id, code, name, cycle, override_due_rule, due_rule)
SELECT id, 'P-EOM', 'month end', 'monthly:eom', true, 'month+1:eom' FROM brand WHERE code = 'PRV';
INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at, billing_balance)
SELECT br.id, v.code, v.name, s.id, '2026-09-01 09:00', v.balance
FROM brand br JOIN schedule s ON s.brand_id = br.id AND s.code = 'P-EOM',
     (VALUES ('P1', 'Preview One', 0), ('P2', 'Preview Two', 3000)) AS v(code, name, balance)
WHERE br.code = 'PRV';
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', ('2026-10-' || v.day)::date, v.amount, 0.10, b.code || '-' || v.day
FROM buyer b, (VALUES (5, 1000), (6, 2000)) AS v(day, amount)
WHERE b.code IN ('P1', 'P2');

-- As of 2026-11-22 the last closed month is October.  P1: 3000 + 300;
-- P2: 3000 + 300 on top of its balance of 3000, total 6300.
SELECT * FROM preview_run('P-EOM', '2026-11-22 10:00+09');
-- the preview wrote nothing
SELECT count(*) AS runs FROM invoice_run WHERE brand_id = (SELECT id FROM brand WHERE code = 'PRV');
SELECT count(*) AS invoices FROM invoice WHERE brand_id = (SELECT id FROM brand WHERE code = 'PRV');

-- the rerun issues exactly what the preview showed
SELECT rerun_invoice_run('P-EOM', as_of => '2026-11-22 10:00+09') IS NOT NULL AS ran;
SELECT b.code, i.previous_billed, i.purchases, i.tax, i.total, i.due_date
FROM invoice i JOIN buyer b ON b.id = i.buyer_id WHERE b.code IN ('P1', 'P2') ORDER BY b.code;
-- and now there is nothing left to preview
SELECT count(*) AS rows FROM preview_run('P-EOM', '2026-11-22 10:00+09');

-- cancel the run, reopening its documents: the invoices are cancelled, the
-- documents free, and the preview shows them again
SELECT step FROM cancel_run((SELECT max(id) FROM invoice_run WHERE kind = 'rerun'
                               AND schedule_id = (SELECT id FROM schedule WHERE code = 'P-EOM')));
SELECT b.code, i.status FROM invoice i JOIN buyer b ON b.id = i.buyer_id WHERE b.code IN ('P1', 'P2') ORDER BY b.code;
SELECT buyer, documents, total FROM preview_run('P-EOM', '2026-11-22 10:00+09');

-- a background rerun: it returns at once; the worker runs it once we commit
SELECT rerun_invoice_run('P-EOM', notify => '{ito}', background => true, as_of => '2026-11-22 11:00+09') AS background_run
\gset
SET regress.wait_run = :'background_run';
DO $$
BEGIN
	FOR i IN 1 .. 300 LOOP
		EXIT WHEN (SELECT status FROM billing.invoice_run
		           WHERE id = current_setting('regress.wait_run')::bigint) IN ('completed', 'failed');
		PERFORM pg_sleep(0.1);
	END LOOP;
END $$;
SELECT kind, status, buyer_count, invoice_count, document_count, billed_total
FROM invoice_run WHERE id = :background_run;
SELECT email, subject FROM notification WHERE run_id = :background_run;

-- cancel that run closing its documents for good: the next rerun has none
-- of them; only P2's balance of 3000 is left to bill (its invoices for the
-- period are all cancelled)
SELECT step FROM cancel_run(:background_run, reopen => false);
SELECT count(*) AS closed_documents FROM document
WHERE never_invoice AND brand_id = (SELECT id FROM brand WHERE code = 'PRV');
SELECT buyer, documents, total FROM preview_run('P-EOM', '2026-11-22 10:00+09');

-- errors
SELECT * FROM err('SELECT billing.cancel_run(' || :background_run || ')');
SELECT q AS query, e.state AS sqlstate, e.message, e.hint
FROM (VALUES ($q$SELECT billing.cancel_run(999999)$q$),
             ($q$SELECT billing.cancel_run(NULL)$q$),
             ($q$SELECT * FROM billing.preview_run('NOPE')$q$),
             ($q$SELECT * FROM billing.preview_run('P-EOM', NULL)$q$)) AS t(q),
     err(q) AS e;

\c :suite_db
-- (test/t/005_invoice_xml.pl keeps it, to validate its invoices' XML)
\if :{?keep_suite_db}
\else
DROP DATABASE billing_run_actions;
\endif

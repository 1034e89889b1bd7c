-- One brand cannot stop another (issue 11, H1): issue_drafts plans and runs
-- each schedule isolated from the others.  An error in one schedule's
-- planning or run is that schedule's failed run, with the error naming its
-- own schedule (and the buyer whose row caused it) in billing.run_report,
-- and every other schedule is billed in the same call.  In 0.2 one buyer's
-- schedule_applied_at of 4714 BC made issue_drafts fail with 22008 for
-- every brand, naming neither buyer nor schedule.
--
-- A database of its own: issue_drafts bills every schedule of the database,
-- and the other suites' schedules are not this suite's business.
SELECT current_database() AS suite_db \gset
CREATE DATABASE billing_isolation_of_brands;
\c billing_isolation_of_brands
SET client_min_messages = warning;
CREATE EXTENSION billing;
SET search_path = public, billing;
SET datestyle = ISO, YMD;
SET timezone = 'Asia/Tokyo';
SET client_min_messages = notice;

INSERT INTO brand (code, name) VALUES ('ACME', 'Acme KK'), ('BETA', 'Beta KK');
INSERT INTO member (brand_id, code, name, email, notify_scheduled_runs)
SELECT id, 'ops', 'Ops', 'ops@' || lower(code) || '.example', true FROM brand;
INSERT INTO schedule (brand_id, code, name, cycle) VALUES
	(1, 'A-EOM', 'ACME month end', 'monthly:eom'),
	(1, 'A-M20', 'ACME the 20th', 'monthly:20'),
	(2, 'B-EOM', 'BETA month end', 'monthly:eom');
INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at) VALUES
	(1, 'A1', 'ACME buyer 1', 1, '2026-10-01 09:00'),
	(1, 'A3', 'ACME buyer 3', 1, '2026-10-01 09:00'),
	(1, 'A5', 'ACME buyer 5', 2, '2026-10-01 09:00'),
	(2, 'B1', 'BETA buyer 1', 3, '2026-10-01 09:00');
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', v.d::date, v.amount, 0.10, v.ref
FROM (VALUES ('A1', '2026-11-05', 1000, 'A1-D1'), ('A3', '2026-11-06', 3000, 'A3-D1'),
             ('A5', '2026-11-10', 5000, 'A5-D1'), ('B1', '2026-11-05', 2000, 'B1-D1')) AS v(buyer, d, amount, ref)
JOIN buyer b ON b.code = v.buyer;

-- the errors' CONTEXT (the internal functions' line numbers) is not the point here
\set SHOW_CONTEXT never
CREATE TEMP VIEW report AS
SELECT r.run, r.brand, r.schedule, r.period, r.step, r.invoices_issued, r.billed_total,
       r.last_error
FROM run_report r;
CREATE FUNCTION pg_temp.issue(as_of timestamptz)
RETURNS TABLE (id bigint, brand text, schedule text, period daterange, status text,
               invoices integer, total numeric, error text)
LANGUAGE sql AS $$
	SELECT r.run_id, r.brand, r.schedule, r.period, r.step, r.invoices, r.billed, r.error
	FROM billing.issue_drafts(as_of, simulate => true) AS r
	ORDER BY r.run_id
$$;

------------------------------------------------------------------------------
-- 1. A planning failure.  The bounds on schedule_applied_at (inputs suite)
-- refuse 4714 BC from any role, but a row can still come in past the
-- triggers: a logical-replication subscriber, or the README's parallel
-- restore (--data-only --disable-triggers) of a 0.2 dump, writes with
-- session_replication_role = replica, as here.
------------------------------------------------------------------------------
SET session_replication_role = replica;
UPDATE buyer SET schedule_applied_at = '4714-12-01 00:00:00+00 BC' WHERE code = 'A3';
RESET session_replication_role;

-- A-EOM fails; A-M20 (the same brand) and BETA's B-EOM are billed: October
-- (empty) and November of the month-end schedules, 2026-10-21..11-20 of A-M20
SELECT * FROM pg_temp.issue('2026-12-01 00:10+09');
-- the failed run is in the report, with an error naming ACME's schedule
-- and the buyer its planning started from, nothing of BETA
SELECT * FROM report ORDER BY run;
SELECT r.run_id, r.level, r.message FROM run_log r ORDER BY r.id;
-- members are told, each of their own brand's runs only
SELECT n.run_id, n.email, n.subject FROM notification n ORDER BY n.id;
-- the drafts: A5 and B1; nothing of A-EOM (A1's and A3's documents wait)
SELECT b.code AS buyer, s.code AS schedule, i.period, i.status, i.total
FROM invoice i JOIN buyer b ON b.id = i.buyer_id JOIN schedule s ON s.id = i.schedule_id
ORDER BY i.id;

-- the next call tries A-EOM again (a failed run does not hold its period),
-- and fails it again; the others have nothing new
SELECT * FROM pg_temp.issue('2026-12-01 00:20+09');

-- corrected (within the bounds now), A-EOM catches up in the next call
UPDATE buyer SET schedule_applied_at = '2026-10-01 09:00' WHERE code = 'A3';
SELECT * FROM pg_temp.issue('2026-12-01 00:30+09');
SELECT b.code AS buyer, s.code AS schedule, i.period, i.total
FROM invoice i JOIN buyer b ON b.id = i.buyer_id JOIN schedule s ON s.id = i.schedule_id
WHERE s.code = 'A-EOM' ORDER BY i.id;

------------------------------------------------------------------------------
-- 2. A run that fails after its drafts were made: finishing the run (its
-- log, its outbox) fails.  Here a site's own trigger on the outbox refuses
-- ACME's mail relay; in 0.2 that error stopped every brand's runs.  The
-- run is rolled back and recorded failed with both errors; BETA is billed.
------------------------------------------------------------------------------
INSERT INTO document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
SELECT b.id, b.brand_id, 'delivery_invoice', '2026-12-10', 700, 0.10, b.code || '-D2'
FROM buyer b WHERE b.code IN ('A1', 'B1');
CREATE FUNCTION public.site_outbox_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.email LIKE '%@acme.example' THEN
		RAISE EXCEPTION 'mail relay for acme.example is down';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER site_outbox_check BEFORE INSERT ON billing.notification
	FOR EACH ROW EXECUTE FUNCTION public.site_outbox_check();
SELECT * FROM pg_temp.issue('2027-01-01 00:10+09');
SELECT * FROM report WHERE period = '[2026-12-01,2027-01-01)' ORDER BY run;
-- nothing of the failed run was kept: no drafts, A1's December document waits
SELECT s.code AS schedule, count(*) AS drafts FROM invoice i JOIN schedule s ON s.id = i.schedule_id
WHERE i.period = '[2026-12-01,2027-01-01)' GROUP BY s.code ORDER BY s.code;
SELECT buyer, reference, status FROM document_status WHERE reference LIKE '%-D2' ORDER BY reference;
DROP TRIGGER site_outbox_check ON billing.notification;

-- every run of the suite, by brand and status
SELECT br.code AS brand, r.status, count(*) AS runs
FROM invoice_run r JOIN brand br ON br.id = r.brand_id GROUP BY 1, 2 ORDER BY 1, 2;

\c :suite_db
DROP DATABASE billing_isolation_of_brands;

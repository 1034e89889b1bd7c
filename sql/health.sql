-- The health check (issue 12 item 3): billing.health has one row per
-- problem with the call that fixes it, and billing.assert_healthy() raises
-- while there is one.  Each problem is made for real on a brand of its own
-- (HLT), shown, and fixed by running the row's fix text as it stands.
--
-- A database of its own: issue_drafts() bills every schedule of the
-- database, and the suite shows exact run ids, whatever suites ran before it.

SELECT current_database() AS suite_db \gset
CREATE DATABASE billing_health;
\c billing_health
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

INSERT INTO brand (code, name) VALUES ('HLT', 'Health KK'), ('HLTO', 'Health Other KK');
INSERT INTO schedule (brand_id, code, name, cycle)
SELECT id, 'HM', 'month end', 'monthly:eom' FROM brand WHERE code = 'HLT';
INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at, billing_balance)
SELECT br.id, 'H1', 'health buyer', s.id, '2026-09-01 09:00', 0
FROM brand br JOIN schedule s ON s.brand_id = br.id WHERE br.code = 'HLT';
INSERT INTO member (brand_id, code, name, email, notify_scheduled_runs)
SELECT id, 'ops', 'operator', 'ops@hlt.example', true FROM brand WHERE code = 'HLT';
CREATE FUNCTION pg_temp.add_doc(d date, amount numeric, ref text) RETURNS void LANGUAGE sql AS $$
	INSERT INTO billing.document (buyer_id, brand_id, kind, document_date, amount, tax_rate, reference)
	SELECT b.id, b.brand_id, 'delivery_invoice', d, amount, 0.10, ref FROM billing.buyer b
	WHERE b.code = 'H1' AND b.brand_id = (SELECT id FROM billing.brand WHERE code = 'HLT')
$$;
SELECT pg_temp.add_doc('2026-10-10', 10000, 'H-OCT');

-- roles: one of HLT, one of another brand
CREATE ROLE regress_health_hlt NOLOGIN;
CREATE ROLE regress_health_other NOLOGIN;
SELECT billing.grant_brand('HLT', 'regress_health_hlt') AS granted;
SELECT billing.grant_brand('HLTO', 'regress_health_other') AS granted;
GRANT USAGE ON SCHEMA billing TO regress_health_hlt, regress_health_other;
-- the README recipe's reader: its reads and the health check
GRANT SELECT ON billing.brand, billing.schedule, billing.bank_account, billing.member,
	billing.buyer, billing.document, billing.invoice, billing.invoice_tax_line,
	billing.document_link, billing.invoice_run, billing.run_log, billing.notification,
	billing.uninvoiced_document, billing.invoice_list, billing.run_report, billing.document_status,
	billing.master_data_version, billing.health TO regress_health_hlt, regress_health_other;
GRANT EXECUTE ON FUNCTION billing.assert_healthy, billing.dead_runs, billing_internal.health_cron TO regress_health_hlt, regress_health_other;

-- the scheduled runs due now
SET client_min_messages = error;
SELECT count(*) > 0 AS runs FROM issue_drafts();
RESET client_min_messages;

-- healthy: no row, and assert_healthy is quiet
CREATE TEMP VIEW hlt AS SELECT * FROM health WHERE brand = 'HLT';
GRANT SELECT ON hlt TO regress_health_hlt, regress_health_other;
SELECT * FROM hlt;
SET ROLE regress_health_hlt;
SELECT billing.assert_healthy();
RESET ROLE;

-- old drafts: older than billing.health_draft_age
SET billing.health_draft_age = '1s';
SHOW billing.health_draft_age;
SELECT pg_sleep(1.2);
SELECT severity, brand, "check", regexp_replace(object, '[0-9]+', 'N') AS object,
       regexp_replace(detail, 'before .*', 'before ...') AS detail,
       regexp_replace(fix, '[0-9]+', 'N') AS fix FROM hlt;
-- assert_healthy raises for the brand's role
SET ROLE regress_health_hlt;
SELECT state, message, regexp_replace(detail, '[0-9]+', 'N', 'g') AS detail, hint
FROM err('SELECT billing.assert_healthy()');
RESET ROLE;
SELECT fix FROM hlt WHERE "check" = 'old_drafts' \gset
SELECT (:'fix' ~ '^SELECT billing.process_run\(\d+\)$') AS fix_shape;
SELECT (:fix).step AS run_step;
RESET billing.health_draft_age;
SELECT * FROM hlt;

-- stranded documents: a late slip of the closed October
SELECT pg_temp.add_doc('2026-10-20', 500, 'H-OCT-LATE');
SELECT pg_temp.add_doc('2026-10-21', 700, 'H-OCT-LATE2');
SELECT * FROM hlt;

-- a failed run: the stranded documents' rerun fails
CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'simulated failure';
END $$;
CREATE TRIGGER health_refuse BEFORE INSERT ON invoice FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse();
SELECT fix FROM hlt WHERE "check" = 'stranded_documents' \gset
SET client_min_messages = error;
SELECT state, message FROM err(:'fix');
RESET client_min_messages;
SELECT status, error FROM invoice_run WHERE id = (SELECT max(id) FROM invoice_run);
DROP TRIGGER health_refuse ON invoice;
SELECT severity, brand, "check", regexp_replace(object, 'run [0-9]+', 'run N') AS object, detail, fix
FROM hlt ORDER BY "check";

-- the brand wall: another brand's role sees none of HLT's rows
SET ROLE regress_health_other;
SELECT count(*) AS hlt_rows_seen_by_other FROM billing.health WHERE brand = 'HLT';
SELECT count(*) AS rows_not_of_hlto FROM billing.health WHERE brand <> 'HLTO';
RESET ROLE;
SET ROLE regress_health_hlt;
SELECT count(*) AS rows_seen_by_hlt, array_agg(DISTINCT brand) AS brands FROM billing.health;
RESET ROLE;

-- the failed run's fix, as written, bills the stranded documents: both rows go
SELECT fix FROM hlt WHERE "check" = 'failed_run' \gset
SET client_min_messages = error;
SELECT (:fix) IS NOT NULL AS rerun_made;
RESET client_min_messages;
SELECT * FROM hlt;

-- a closed period whose issue moment passed without a run: a second
-- schedule whose buyer was applied on October 1st, never issued
INSERT INTO schedule (brand_id, code, name, cycle)
SELECT id, 'HW', 'month end, never issued', 'monthly:eom' FROM brand WHERE code = 'HLT';
INSERT INTO buyer (brand_id, code, name, schedule_id, schedule_applied_at, billing_balance)
SELECT br.id, 'H2', 'unissued buyer', s.id, '2026-10-01 09:00', 0
FROM brand br JOIN schedule s ON s.brand_id = br.id WHERE br.code = 'HLT' AND s.code = 'HW';
SELECT * FROM hlt WHERE object = 'schedule HW period 2026-10-31';
SELECT DISTINCT fix FROM hlt WHERE "check" = 'missed_period' \gset
SET client_min_messages = error;
SELECT count(*) > 0 AS runs_made FROM (:fix) AS f;
RESET client_min_messages;
SELECT * FROM hlt;

-- a dead background run: committed running, no worker names it (what a
-- killed worker or a restart leaves; written here as a logged repair)
SET billing.maintenance = on;
INSERT INTO invoice_run (brand_id, schedule_id, kind, period, cutoff_date, issue_at, as_of,
                         invoice_date, status, started_at)
SELECT s.brand_id, s.id, 'rerun', '[2026-10-01,2026-11-01)', '2026-10-31', now(), now(),
       '2026-10-31', 'running', '2026-12-01 10:00+09'
FROM schedule s JOIN brand b ON b.id = s.brand_id WHERE b.code = 'HLT' AND s.code = 'HM';
RESET billing.maintenance;
SELECT severity, brand, "check", regexp_replace(object, 'run [0-9]+', 'run N') AS object, detail, fix FROM hlt;
-- (a late slip waits for it: the rerun the fix makes bills it)
SELECT pg_temp.add_doc('2026-10-25', 300, 'H-OCT-LATE3');
SELECT fix FROM hlt WHERE "check" = 'dead_run' \gset
SET client_min_messages = error;
SELECT (:fix) IS NOT NULL AS rerun_made;
RESET client_min_messages;
SELECT status, error FROM invoice_run WHERE id = (SELECT max(id) FROM invoice_run WHERE started_at = '2026-12-01 10:00+09');
SELECT * FROM hlt;

-- a notification the mailer gave up on
UPDATE notification SET next_attempt_at = NULL, attempts = 5, last_error = 'connection refused'
WHERE run_id IN (SELECT r.id FROM invoice_run r JOIN brand b ON b.id = r.brand_id WHERE b.code = 'HLT')
  AND id = (SELECT min(n.id) FROM notification n JOIN invoice_run r ON r.id = n.run_id
            JOIN brand b ON b.id = r.brand_id WHERE b.code = 'HLT');
SELECT severity, brand, "check", regexp_replace(object, '[0-9]+', 'N') AS object, detail,
       regexp_replace(fix, '[0-9]+', 'N') AS fix FROM hlt;
SELECT fix FROM hlt WHERE "check" = 'unsent_notification' \gset
SELECT (:fix) AS retried;

-- drafts that cannot be written as XML: once HLT has a Peppol endpoint (it
-- sends PINT JP), its own missing master data is one row, each buyer's
-- another; filled in as the fix says, they go
UPDATE brand SET peppol_scheme = '0188', peppol_id = 'T1234567890123' WHERE code = 'HLT';
SELECT severity, brand, "check", object, regexp_replace(detail, 'runs [0-9, ]+', 'runs N') AS detail,
       regexp_replace(fix, 'id = [0-9]+', 'id = N') AS fix
FROM hlt WHERE "check" = 'xml_incomplete' ORDER BY object;
UPDATE brand SET legal_name = 'Health KK', registration_number = 'T1234567890123',
       address_line = '1-1 Chiyoda' WHERE code = 'HLT';
UPDATE buyer SET address_line = '2-2 Minato', peppol_scheme = '0188', peppol_id = 'T9876543210987'
WHERE brand_id = (SELECT id FROM brand WHERE code = 'HLT');
SELECT count(*) AS xml_incomplete_left FROM hlt WHERE "check" = 'xml_incomplete';
-- and the XML of those drafts is written
SELECT count(*) AS drafts_written_as_xml FROM billing.invoices_xml(VARIADIC ARRAY(
	SELECT i.id FROM invoice i JOIN brand b ON b.id = i.brand_id WHERE b.code = 'HLT' AND i.status = 'draft'));

-- healthy again
SELECT * FROM hlt;
SET ROLE regress_health_hlt;
SELECT billing.assert_healthy();
RESET ROLE;

DROP VIEW hlt;
REVOKE ALL ON billing.brand, billing.schedule, billing.bank_account, billing.member,
	billing.buyer, billing.document, billing.invoice, billing.invoice_tax_line,
	billing.document_link, billing.invoice_run, billing.run_log, billing.notification,
	billing.uninvoiced_document, billing.invoice_list, billing.run_report, billing.document_status,
	billing.master_data_version, billing.health FROM regress_health_hlt, regress_health_other;
REVOKE ALL ON FUNCTION billing.assert_healthy, billing.dead_runs, billing_internal.health_cron FROM regress_health_hlt, regress_health_other;
REVOKE ALL ON SCHEMA billing FROM regress_health_hlt, regress_health_other;
SELECT billing.revoke_brand('HLT', 'regress_health_hlt') AS revoked;
SELECT billing.revoke_brand('HLTO', 'regress_health_other') AS revoked;
DROP ROLE regress_health_hlt, regress_health_other;

\c :suite_db
DROP DATABASE billing_health;
